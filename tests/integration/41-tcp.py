#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 41-tcp: protocol = tcp listeners forward bytes both ways to their
# destination (an IP:port, or a registered ServiceEntry host:port), with
# half-close carried in each direction, server-first protocols working, an
# unreachable destination closing the client, and istio_tcp_* metrics.

import hashlib
import socket
import threading

import mg

MIB = 1024 * 1024


class TcpServer:
    """A loopback TCP server running handler(sock) per connection in a thread."""

    def __init__(self, handler):
        self.handler = handler
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.results = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn):
        try:
            self.results.append(self.handler(conn))
        except OSError as e:
            self.results.append(e)
        finally:
            conn.close()


def echo_then_bye(conn):
    """Echo until the client's FIN, then say BYE and close: needs half-close upstream."""
    n = 0
    while True:
        d = conn.recv(65536)
        if not d:
            break
        conn.sendall(d)
        n += len(d)
    conn.sendall(b"BYE")
    return n


def banner_then_listen(conn):
    """Server-first: send a banner and 1 MiB, FIN, then read what the client says."""
    conn.sendall(b"HELLO\n")
    for p in mg.pattern_iter(MIB):
        conn.sendall(p)
    conn.shutdown(socket.SHUT_WR)
    got = bytearray()
    while True:
        d = conn.recv(65536)
        if not d:
            return bytes(got)
        got += d


def read_all(sock, timeout=20):
    sock.settimeout(timeout)
    out = bytearray()
    while True:
        d = sock.recv(262144)
        if not d:
            return bytes(out)
        out += d


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=20)


def check_echo(port, what):
    with connect(port) as s:
        ok = True
        for i in range(50):
            msg = b"ping %d\n" % i
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                got += s.recv(100)
            ok &= got == msg
        mg.check(ok, f"{what}: 50 interactive round trips")

    def send_then_fin(s):
        for p in mg.pattern_iter(8 * MIB):
            s.sendall(p)
        s.shutdown(socket.SHUT_WR)

    with connect(port) as s:
        sender = mg.Background(send_then_fin, s)
        data = read_all(s)
        sender.join(20)
    h = hashlib.sha256()
    for p in mg.pattern_iter(8 * MIB):
        h.update(p)
    h.update(b"BYE")
    want = h.hexdigest()
    mg.check(len(data) == 8 * MIB + 3 and hashlib.sha256(data).hexdigest() == want,
             f"{what}: 8 MiB echoed intact, then the client's FIN reached the server (BYE)", len(data))


def check_server_first(port, server):
    with connect(port) as s:
        data = read_all(s)
        mg.check(data[:6] == b"HELLO\n" and len(data) == 6 + MIB
                 and hashlib.sha256(data[6:]).hexdigest() == mg.pattern_sha256(MIB),
                 "server-first: banner and 1 MiB arrive, then the server's FIN", len(data))
        s.sendall(b"thanks after your FIN")
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        rest = s.recv(10)
    # (readiness probes also connected: look for our bytes among the results)
    got = mg.wait_for(lambda: b"thanks after your FIN" in server.results, 10)
    mg.check(got, "after the server's FIN the client can still send (half-close)", server.results[-3:])
    mg.check(rest == b"", "the connection then closes cleanly", rest)


def check_parallel(port):
    results = []

    def one(i):
        msg = b"conn %d " % i * 1000
        try:
            with connect(port) as s:
                s.sendall(msg)
                s.shutdown(socket.SHUT_WR)
                got = read_all(s)
                results.append(True if got == msg + b"BYE" else (i, len(got), len(msg) + 3, got[-8:]))
        except OSError as e:
            results.append((i, e))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    mg.check(results.count(True) == 32, "32 parallel TCP connections each get their own bytes",
             [r for r in results if r is not True])


def check_unreachable(port):
    try:
        with connect(port) as s:
            s.sendall(b"anyone?")
            data = read_all(s, timeout=10)
            closed = True
    except socket.timeout:
        data, closed = b"", False
    except OSError:
        data, closed = b"", True
    mg.check(closed and data == b"", "unreachable destination: the client connection is closed", data)


def check_metrics(m, before):
    def grown():
        after = m.metrics()
        d = {n: mg.metric_sum(after, n) - mg.metric_sum(before, n)
             for n in ("istio_tcp_connections_opened_total", "istio_tcp_connections_closed_total",
                       "istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total")}
        return (after, d) if d["istio_tcp_connections_closed_total"] >= 35 else None
    got = mg.wait_for(grown, 5)
    after, d = got if got else (m.metrics(), None)
    mg.note(f"istio_tcp_* deltas: {d}")
    mg.check(d and d["istio_tcp_connections_opened_total"] >= 35,
             "istio_tcp_connections_opened_total counts the connections", d)
    mg.check(d and d["istio_tcp_connections_closed_total"] >= 35,
             "istio_tcp_connections_closed_total counts them closed", d)
    mg.check(d and d["istio_tcp_received_bytes_total"] >= 8 * MIB, "istio_tcp_received_bytes_total", d)
    mg.check(d and d["istio_tcp_sent_bytes_total"] >= 9 * MIB, "istio_tcp_sent_bytes_total", d)
    tcp_labels = set(mg.ISTIO_LABELS) - {"response_code", "grpc_response_status"}
    series = mg.select(after, "istio_tcp_connections_opened_total")
    mg.check(series and all(set(s.labels) == tcp_labels for s in series),
             "istio_tcp_* series carry Istio's TCP labels", [sorted(s.labels) for s in series[:1]])
    mg.check(any(s.labels.get("request_protocol") == "tcp" for s in series), "request_protocol=tcp")


def main():
    mg.binary()
    echo = TcpServer(echo_then_bye)
    banner = TcpServer(banner_then_listen)
    dead_port = mg.free_ports(1)[0]
    listeners = {
        "echo_ip": {"protocol": "tcp", "destination": f"127.0.0.1:{echo.port}"},
        "banner_host": {"protocol": "tcp", "destination": "db.example:3306"},
        "dead": {"protocol": "tcp", "destination": f"127.0.0.1:{dead_port}"},
    }
    se = mg.service_entry("db", "db.example", [("127.0.0.1", banner.port)], port=3306,
                          protocol="TCP", port_name="tcp")
    m = mg.Mesh(yaml=[se], listeners=listeners, name="tcp").start()
    before = m.metrics()
    port = {n: int(kv["port"]) for n, kv in m.listeners.items()}

    check_echo(port["echo_ip"], "IP destination")
    check_server_first(port["banner_host"], banner)
    check_parallel(port["echo_ip"])
    check_unreachable(port["dead"])
    check_metrics(m, before)
    mg.check(m.proc.alive(), "meshgate is still running")


mg.run(main)
