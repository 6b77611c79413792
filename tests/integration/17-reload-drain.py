#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 17-reload-drain: SIGHUP re-reads the YAML dir (new hosts appear, removed
# ones go, a bad file keeps the last good config and is logged by name),
# reloads under wrk load lose no request, and SIGTERM drains in-flight
# requests (all complete with 200) and exits 0 without waiting for idle
# keep-alive connections.

import signal
import socket
import struct
import time

import mg

HOST = "a.example"


def wait_version(m, old, timeout=10):
    """Wait until /config_dump reports a version other than old; return it."""
    def changed():
        v = m.config_version()
        return v if v is not None and v != old else None
    return mg.wait_for(changed, timeout)


def routed(m, host):
    r = mg.get(m.port, "/", host)
    return r.status, r.header("x-upstream-name")


def check_reload(m, a, b):
    v1 = m.config_version()
    mg.check(v1 is not None, "/config_dump reports a version", v1)
    mg.check_eq(routed(m, "b.example")[0], 502, "b.example is unknown before the reload")

    m.write_yaml("20-b.yaml", [mg.service_entry("b", "b.example", [b.endpoint])])
    m.hup()
    v2 = wait_version(m, v1)
    mg.check(v2 is not None, "SIGHUP: the config version changes", v2)
    mg.check_eq(routed(m, "b.example"), (200, "b"), "SIGHUP: a new ServiceEntry host is routed")
    mg.check_eq(routed(m, HOST), (200, "a"), "SIGHUP: existing hosts keep working")

    bad_texts = [
        ("YAML syntax error", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
                              "metadata: {name: broken\nspec: [\n"),
        ("ServiceEntry without hosts", mg.yaml_docs({
            "apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": "nohosts"},
            "spec": {"ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
                     "resolution": "STATIC", "endpoints": [{"address": "127.0.0.1"}]}})),
        ("VirtualService with a bad timeout", mg.yaml_docs(mg.virtual_service("badtimeout", "c.example", [
            mg.http_route([mg.dest("a.example")], timeout="soon")]))),
    ]
    for what, text in bad_texts:
        log_before = len(m.stderr())
        m.write_yaml("30-bad.yaml", text)
        m.hup()
        logged = mg.wait_for(lambda: "30-bad.yaml" in m.stderr()[log_before:], 5)
        mg.check(logged, f"bad file ({what}): the log names the file", m.stderr()[log_before:][-300:])
        mg.check_eq(m.config_version(), v2, f"bad file ({what}): the last good config stays")
        mg.check_eq(routed(m, "b.example"), (200, "b"), f"bad file ({what}): routing is unchanged")

    m.write_yaml("30-bad.yaml", [mg.service_entry("c", "c.example", [a.endpoint])])
    m.hup()
    v3 = wait_version(m, v2)
    mg.check(v3 is not None, "the fixed file is applied at the next SIGHUP", v3)
    mg.check_eq(routed(m, "c.example"), (200, "a"), "the fixed file's host is routed")

    m.remove_yaml("20-b.yaml")
    m.hup()
    mg.check(wait_version(m, v3) is not None, "removing a file changes the version")
    mg.check_eq(routed(m, "b.example")[0], 502, "a removed host is no longer routed")


def check_reload_under_load(m, a):
    url = f"http://127.0.0.1:{m.port}/"
    bg = mg.Background(mg.wrk, url, 5, 20, 1, [("Host", HOST)])
    time.sleep(0.5)
    for i in range(6):
        m.write_yaml("40-toggle.yaml", [mg.service_entry(f"t{i}", f"toggle{i}.example", [a.endpoint])])
        m.hup()
        time.sleep(0.6)
    bg.join(40)
    res = bg.result
    if not mg.check(res is not None, "wrk ran", bg.error):
        return
    mg.note(f"wrk during 6 reloads: {res.requests} requests, {res.rps:.0f}/s, "
            f"non-2xx {res.non2xx}, socket errors {res.socket_errors}")
    mg.check(res.requests > 1000, "wrk completed requests during the reloads", res.requests)
    mg.check_eq(res.non2xx, 0, "no non-2xx response during reloads")
    mg.check_eq(res.socket_errors, 0, "no socket error during reloads")
    mg.check_eq(routed(m, "toggle5.example"), (200, "a"), "the last reload's config is live")


def check_drain(a):
    m = mg.Mesh(yaml=[mg.service_entry("a", HOST, [a.endpoint])],
                ini={"limits": {"drain_timeout": "20s"}}, name="drain").start()
    idle = mg.Client(m.port)
    mg.check(idle.get("/", HOST).status == 200, "an idle keep-alive client connection is open")
    before = a.stats()["paths"].get("/slow", 0)
    jobs = [mg.Background(mg.get, m.port, "/slow?ms=3000", HOST, (), 30) for _ in range(10)]
    arrived = mg.wait_for(lambda: a.stats()["paths"].get("/slow", 0) - before >= 10, 10)
    mg.check(arrived, "10 slow requests are in flight at the upstream")

    t0 = time.monotonic()
    m.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    mg.note(f"a new connection 0.3 s into the drain is "
            f"{'accepted' if mg.port_open(m.port) else 'refused'} (not specified)")
    rc = m.proc.wait(30)
    secs = time.monotonic() - t0
    for j in jobs:
        j.join(30)
    ok = [j.result is not None and j.result.status == 200 and j.result.body == b"a\n" for j in jobs]
    mg.check(all(ok), "SIGTERM: every in-flight request completes with 200",
             [j.result or j.error for j in jobs])
    mg.check_eq(rc, 0, "SIGTERM: meshgate exits 0 after draining")
    mg.check(secs >= 2.0, "SIGTERM: meshgate waited for the in-flight requests", f"{secs:.1f} s")
    mg.check(secs < 12, "SIGTERM: an idle keep-alive connection does not hold the drain "
             "(exit well before drain_timeout = 20s)", f"{secs:.1f} s")
    mg.check(idle.closed_by_peer(1), "the idle client connection was closed")
    idle.close()


def check_drain_timeout(a):
    m = mg.Mesh(yaml=[mg.service_entry("a", HOST, [a.endpoint])],
                ini={"limits": {"drain_timeout": "2s"}}, name="drain-timeout").start()
    before = a.stats()["paths"].get("/slow", 0)
    job = mg.Background(mg.get, m.port, "/slow?ms=8000", HOST, (), 30)
    mg.wait_for(lambda: a.stats()["paths"].get("/slow", 0) > before, 10)
    t0 = time.monotonic()
    m.proc.send_signal(signal.SIGTERM)
    rc = m.proc.wait(20)
    secs = time.monotonic() - t0
    job.join(30)
    mg.check(rc is not None and 1.5 <= secs <= 5, "drain_timeout bounds the drain (2 s)", f"{secs:.1f} s")
    mg.note(f"exit code after drain_timeout expired: {rc}; the cut request got "
            f"{job.result if job.result else job.error!r}")


def abort_mid_response(port, target, read_bytes=0, after_s=0.0):
    """Send a request, read a little (or wait), then close abruptly (RST)."""
    c = mg.Client(port)
    c.send(mg.build_request("GET", target, HOST))
    if read_bytes:
        c.sock.recv(read_bytes)
    time.sleep(after_s)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def check_drain_after_aborts(a):
    # Requests whose clients went away are not in flight: they must not hold
    # up the drain until drain_timeout.
    m = mg.Mesh(yaml=[mg.service_entry("a", HOST, [a.endpoint])],
                ini={"limits": {"drain_timeout": "20s"}}, name="drain-aborts").start()
    for _ in range(5):
        abort_mid_response(m.port, f"/bytes?n={100 << 20}", read_bytes=65536)
    abort_mid_response(m.port, "/slow?ms=3000", after_s=0.3)
    with mg.Client(m.port) as c:
        c.send(mg.build_request("GET", f"/bytes?n={50 << 20}", HOST))
        c.sock.recv(65536)
    mg.check(mg.get(m.port, "/", HOST).status == 200, "meshgate serves after clients aborted mid-response")
    t0 = time.monotonic()
    m.proc.send_signal(signal.SIGTERM)
    rc = m.proc.wait(30)
    secs = time.monotonic() - t0
    mg.check(rc == 0 and secs < 5, "SIGTERM after clients aborted mid-response: exit 0 within 5 s "
             "(aborted requests do not hold the drain)", f"rc={rc} after {secs:.1f} s")


def main():
    mg.binary()
    mg.need("wrk")
    a, b = mg.Upstream("a"), mg.Upstream("b")
    m = mg.Mesh(yaml=[mg.service_entry("a", HOST, [a.endpoint])], name="reload").start()
    check_reload(m, a, b)
    check_reload_under_load(m, a)
    mg.check(m.proc.alive(), "meshgate is still running after the reloads")
    mg.check_eq(m.stop(), 0, "SIGTERM with no traffic: exit 0")
    check_drain(a)
    check_drain_after_aborts(a)
    check_drain_timeout(a)


mg.run(main)
