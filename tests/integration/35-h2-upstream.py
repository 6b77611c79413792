#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 35-h2-upstream: HTTP/2 toward upstreams (appliance/proxy/h2up.c), with real
# peers. gRPC through meshgate with python3-grpcio on both ends (generic
# handlers, raw bytes): unary (a 1 MiB message too), server, client and
# bidirectional streaming, an error status with its details, a deadline, and
# istio_requests_total with request_protocol="grpc" and grpc_response_status.
# Then tests/fixtures/h2_upstream.py (python3-h2; it counts TCP connections
# and the streams open at once on each) behind ServiceEntry ports of protocol
# HTTP2 and DestinationRules: SETTINGS_MAX_CONCURRENT_STREAMS honoured under
# 50 concurrent slow requests (more connections opened instead), also when
# the server's SETTINGS come late (streams must wait for them; a server
# refusing the excess with REFUSED_STREAM is retried, one answering
# PROTOCOL_ERROR is not), the rule's maxConcurrentStreams and
# maxRequestsPerConnection, h2UpgradePolicy UPGRADE / DO_NOT_UPGRADE /
# default on HTTP ports, useClientProtocol (HTTP/1.1 stays HTTP/1.1, HTTP/2
# stays HTTP/2), HTTP/1.1 clients to an HTTP/2 upstream (5 MiB up, 8 MiB
# down, chunked uploads with trailers, response trailers as chunked
# trailers), an upstream that drops the connection mid-response, and TLS
# origination with ALPN h2 (DestinationRule tls SIMPLE).

import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
import traceback

import mg

try:
    import grpc
except ImportError:     # python3-grpcio is missing: the gRPC case is skipped
    grpc = None
try:
    import h2  # noqa: F401  (the upstream fixture needs it)
except ImportError:
    h2 = None

GRPC_HOST = "grpc.example"      # protocol GRPC, the grpcio server
MUX = "mux.example"             # HTTP2, fixture advertising max_concurrent_streams=10
CAP = "cap.example"             # HTTP2, DestinationRule maxConcurrentStreams: 4
MAXRQ = "maxrq.example"         # HTTP2, DestinationRule http2MaxRequests: 3
NGHTTPD = "nghttpd.example"     # HTTP2, Debian's nghttpd (nghttp2-server) serving files
MRPC = "mrpc.example"           # HTTP2, DestinationRule maxRequestsPerConnection: 5
UPG = "upg.example"             # HTTP, h2UpgradePolicy UPGRADE (fixture sniffing the preface)
NOUPG = "noupg.example"         # HTTP, h2UpgradePolicy DO_NOT_UPGRADE (same fixture)
NOUPG1 = "noupg1.example"       # HTTP, DO_NOT_UPGRADE, to tests/fixtures/upstream.py
PLAIN = "plain.example"         # HTTP, no DestinationRule, to tests/fixtures/upstream.py
UCP = "ucp.example"             # HTTP, useClientProtocol: true (sniffing fixture)
UCP1 = "ucp1.example"           # HTTP, useClientProtocol: true, to tests/fixtures/upstream.py
BODY = "body.example"           # HTTP2, bodies and trailers
ABORT = "abort.example"         # HTTP2, an upstream closing mid-response
TLSH = "tls.example"            # HTTP2 with DestinationRule tls SIMPLE: ALPN h2
STRICT = "strict.example"       # as LATE, but streams over the limit get RST_STREAM PROTOCOL_ERROR
LATE = "late.example"           # HTTP2, max_concurrent_streams=10 sent 300 ms late, refusing more

MiB = 1 << 20


def sha(data):
    return hashlib.sha256(data).hexdigest()


def pattern(n):
    return b"".join(bytes(p) for p in mg.pattern_iter(n))


def destination_rule(name, host, http_pool):
    return {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"host": host, "trafficPolicy": {"connectionPool": {"http": http_pool}}}}


# ---------------------------------------------------------------- the HTTP/2 fixture

class H2Upstream:
    """tests/fixtures/h2_upstream.py on a free loopback port."""

    def __init__(self, name, max_streams=100, window=0, settings_delay_ms=0, refuse=False,
                 tls=None, refuse_code=None):
        self.name = name
        self.dir = mg.tmpdir(f"h2up-{name}")
        argv = [mg.PYTHON, str(mg.FIXTURES / "h2_upstream.py"), "--port", "0",
                "--max-streams", str(max_streams)]
        if window:
            argv += ["--window", str(window)]
        if settings_delay_ms:
            argv += ["--settings-delay-ms", str(settings_delay_ms)]
        if refuse:
            argv.append("--refuse-over-limit")
        if refuse_code:
            argv += ["--refuse-code", refuse_code]
        if tls:
            argv += ["--tls-cert", str(tls[0]), "--tls-key", str(tls[1])]
        self.proc = mg.Proc(f"h2 upstream {name}", argv, stdout=subprocess.PIPE,
                            stderr=open(self.dir / "stderr", "wb"))
        got = []
        t = threading.Thread(target=lambda: got.append(self.proc.popen.stdout.readline()),
                             daemon=True)
        t.start()
        t.join(15)
        m = re.match(rb"READY (\d+) (\d+)", got[0]) if got else None
        if not m:
            raise RuntimeError(f"h2 upstream {name} did not start: "
                               f"{mg.tail(self.dir / 'stderr')}")
        self.port, self.ctl = int(m.group(1)), int(m.group(2))
        mg._on_failure.append(self.print_logs)

    @property
    def endpoint(self):
        return ("127.0.0.1", self.port)

    def stats(self):
        st, body = mg.simple_get(self.ctl, "/_stats")
        return json.loads(body)

    def reset(self):
        mg.simple_get(self.ctl, "/_reset")

    def print_logs(self):
        text = mg.tail(self.dir / "stderr")
        if text:
            mg.note(f"--- h2 upstream {self.name} stderr (tail) ---")
            print(text, flush=True)
        try:
            s = self.stats()
            s.pop("conns", None)
            mg.note(f"h2 upstream {self.name} stats: {s}")
        except (OSError, ValueError):
            pass


def parallel(n, fn, timeout=60):
    """fn(i) for i in range(n), all at once (one thread each); the results."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
        futs = [ex.submit(fn, i) for i in range(n)]
        out = []
        for f in futs:
            try:
                out.append(f.result(timeout))
            except Exception as e:
                out.append(mg.Failure(e))
        return out


def jsonq(r):
    try:
        return r.json() if r.status == 200 else {}
    except ValueError:
        return {}


_curl_dir = []


def curl(url, *args, timeout=30):
    """curl to a file; (rc, status, http_version, head text, body bytes, stderr)."""
    if not _curl_dir:
        _curl_dir.append(mg.tmpdir("curl"))
    d = _curl_dir[0]
    for f in (d / "h", d / "b"):
        f.unlink(missing_ok=True)
    hdr, body = d / "h", d / "b"
    argv = ["curl", "-sS", "--max-time", str(timeout), "-D", str(hdr), "-o", str(body),
            "-w", "%{http_code} %{http_version}", *args, url]
    p = subprocess.run(argv, capture_output=True, timeout=timeout + 10)
    out = p.stdout.decode().split()
    status = int(out[0]) if out and out[0].isdigit() else 0
    version = out[1] if len(out) > 1 else ""
    res = (p.returncode, status, version,
           hdr.read_bytes().decode("latin-1") if hdr.exists() else "",
           body.read_bytes() if body.exists() else b"", p.stderr.decode(errors="replace"))
    return res


# ---------------------------------------------------------------- gRPC

class GrpcServer:
    """A grpcio server with generic handlers on raw bytes (no protoc)."""

    def __init__(self):
        self.slow_ended = threading.Event()     # the slow call saw its end
        self.slow_cancelled = None
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=16)
        self.server = grpc.server(self.executor)
        handlers = {
            "Echo": grpc.unary_unary_rpc_method_handler(self.echo),
            "Count": grpc.unary_stream_rpc_method_handler(self.count),
            "Sum": grpc.stream_unary_rpc_method_handler(self.sum),
            "Chat": grpc.stream_stream_rpc_method_handler(self.chat),
            "Deny": grpc.unary_unary_rpc_method_handler(self.deny),
            "Slow": grpc.unary_unary_rpc_method_handler(self.slow),
        }
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("pkg.Svc", handlers),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def echo(self, req, ctx):
        md = dict(ctx.invocation_metadata())
        ctx.set_trailing_metadata((("x-echo-len", str(len(req))),
                                   ("x-authority-seen", md.get(":authority", ""))))
        return req

    def count(self, req, ctx):
        n = int(req.decode())
        for i in range(n):
            yield f"msg {i}".encode()

    def sum(self, it, ctx):
        n = total = 0
        h = hashlib.sha256()
        for m in it:
            n += 1
            total += len(m)
            h.update(m)
        return f"{n} {total} {h.hexdigest()}".encode()

    def chat(self, it, ctx):
        for m in it:
            yield b"re: " + m

    def deny(self, req, ctx):
        ctx.abort(grpc.StatusCode.PERMISSION_DENIED, "no way")

    def slow(self, req, ctx):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and ctx.is_active():
            time.sleep(0.05)
        self.slow_cancelled = not ctx.is_active()
        self.slow_ended.set()
        return b"too late"

    def stop(self):
        self.server.stop(0)


def grpc_code(e):
    return e.code() if isinstance(e, grpc.RpcError) else None


def case_grpc(m, gs):
    opts = [("grpc.default_authority", GRPC_HOST),
            ("grpc.max_receive_message_length", 8 * MiB),
            ("grpc.max_send_message_length", 8 * MiB)]
    ch = grpc.insecure_channel(f"127.0.0.1:{m.port}", options=opts)
    try:
        grpc.channel_ready_future(ch).result(timeout=10)
    except grpc.FutureTimeoutError:
        mg.check(False, "gRPC: the channel to meshgate's HTTP listener becomes ready")
        return
    echo = ch.unary_unary("/pkg.Svc/Echo")
    count = ch.unary_stream("/pkg.Svc/Count")
    total = ch.stream_unary("/pkg.Svc/Sum")
    chat = ch.stream_stream("/pkg.Svc/Chat")
    deny = ch.unary_unary("/pkg.Svc/Deny")
    slow = ch.unary_unary("/pkg.Svc/Slow")

    try:
        resp, call = echo.with_call(b"hello", timeout=10)
        trail = dict(call.trailing_metadata() or ())
        mg.check(resp == b"hello" and call.code() == grpc.StatusCode.OK,
                 "gRPC unary: echoed, status OK", (resp, call.code()))
        mg.check(trail.get("x-echo-len") == "5",
                 "gRPC unary: the server's trailing metadata arrives", trail)
    except grpc.RpcError as e:
        mg.check(False, "gRPC unary: echoed, status OK", repr(e))

    big = os.urandom(MiB)
    try:
        resp = echo(big, timeout=30)
        mg.check(resp == big, "gRPC unary: a 1 MiB message both ways intact",
                 (len(resp), sha(resp)[:16], sha(big)[:16]))
    except grpc.RpcError as e:
        mg.check(False, "gRPC unary: a 1 MiB message both ways intact", repr(e))

    try:
        got = list(count(b"50", timeout=10))
        mg.check(got == [f"msg {i}".encode() for i in range(50)],
                 "gRPC server streaming: 50 messages in order", got[:3])
    except grpc.RpcError as e:
        mg.check(False, "gRPC server streaming: 50 messages in order", repr(e))

    msgs = [os.urandom(1000 + 997 * i) for i in range(40)]
    want = f"{len(msgs)} {sum(map(len, msgs))} {sha(b''.join(msgs))}".encode()
    try:
        got = total(iter(msgs), timeout=10)
        mg.check(got == want, "gRPC client streaming: 40 messages counted and hashed", (got, want))
    except grpc.RpcError as e:
        mg.check(False, "gRPC client streaming: 40 messages counted and hashed", repr(e))

    # bidirectional: each answer before the next message is sent (true interleaving)
    cv = threading.Condition()

    def gen():
        for i in range(20):
            yield f"m{i}".encode()
            with cv:
                if not cv.wait_for(lambda: len(answers) > i, 10):
                    return
    answers = []
    try:
        for a in chat(gen(), timeout=30):
            with cv:
                answers.append(a)
                cv.notify_all()
        mg.check(answers == [f"re: m{i}".encode() for i in range(20)],
                 "gRPC bidirectional streaming: 20 ping-pong exchanges", answers[:3])
    except grpc.RpcError as e:
        mg.check(False, "gRPC bidirectional streaming: 20 ping-pong exchanges",
                 (repr(e), answers[:3]))

    try:
        deny(b"x", timeout=10)
        mg.check(False, "gRPC error status: PERMISSION_DENIED carried", "the call succeeded")
    except grpc.RpcError as e:
        mg.check(e.code() == grpc.StatusCode.PERMISSION_DENIED and e.details() == "no way",
                 "gRPC error status: PERMISSION_DENIED with details \"no way\"",
                 (e.code(), e.details()))

    t0 = time.monotonic()
    try:
        slow(b"x", timeout=0.5)
        mg.check(False, "gRPC deadline: DEADLINE_EXCEEDED", "the call succeeded")
    except grpc.RpcError as e:
        secs = time.monotonic() - t0
        mg.check(e.code() == grpc.StatusCode.DEADLINE_EXCEEDED and secs < 3,
                 "gRPC deadline: a 0.5 s timeout on a slow handler gives DEADLINE_EXCEEDED",
                 (e.code(), e.details(), f"{secs:.2f} s"))
    mg.check(gs.slow_ended.wait(10) and gs.slow_cancelled,
             "gRPC deadline: the slow handler learns the call is over (reset or grpc-timeout)",
             gs.slow_cancelled)
    try:
        mg.check(echo(b"after", timeout=10) == b"after",
                 "gRPC: the channel still works after the deadline")
    except grpc.RpcError as e:
        mg.check(False, "gRPC: the channel still works after the deadline", repr(e))

    # many concurrent unary calls on the one client connection
    def one(i):
        try:
            return echo(f"c{i}".encode(), timeout=20) == f"c{i}".encode()
        except grpc.RpcError as e:
            return repr(e)
    res = parallel(50, one)
    mg.check(all(r is True for r in res), "gRPC: 50 concurrent unary calls all answered",
             [r for r in res if r is not True][:3])
    ch.close()

    def mine(v):
        return v is not None and GRPC_HOST in v

    def counted():
        s = m.metrics(port=m.prom_port)
        ok = mg.metric_sum(s, "istio_requests_total", destination_service=mine,
                           request_protocol="grpc", grpc_response_status="0")
        denied = mg.metric_sum(s, "istio_requests_total", destination_service=mine,
                               request_protocol="grpc", grpc_response_status="7")
        return (ok, denied) if ok >= 55 and denied >= 1 else None
    got = mg.wait_for(counted, 10, interval=0.5)
    series = sorted({(x.labels.get("request_protocol"), x.labels.get("response_code"),
                      x.labels.get("grpc_response_status"), x.value)
                     for x in mg.select(m.metrics(port=m.prom_port), "istio_requests_total",
                                        destination_service=mine)})
    mg.check(got is not None,
             "istio_requests_total (prometheus port): request_protocol=\"grpc\" with "
             "grpc_response_status=\"0\" and \"7\"", series)
    mg.check(got is not None and got[1] == 1,
             "istio_requests_total: exactly one PERMISSION_DENIED (grpc_response_status=\"7\")",
             series)


# ---------------------------------------------------------------- multiplexing

def conns_used(up):
    s = up.stats()
    return s["h2_connections"], s["max_active"], s["over_limit"], s


def limit_detail(s):
    return {k: s[k] for k in ("max_active", "over_limit", "over_limit_early",
                              "over_limit_acked", "refused", "h2_connections")} | \
        {"per_conn": sorted((c["requests"], c["max_active"]) for c in s["conns"].values()),
         "errors": s["errors"][:3]}


def case_max_streams(m, mux):
    mux.reset()
    t0 = time.monotonic()
    res = parallel(50, lambda i: mg.http(m.port, "GET", f"/slow/{i}?delay_ms=300", MUX,
                                         timeout=30))
    secs = time.monotonic() - t0
    bodies = [jsonq(r) for r in res]
    mg.check(all(r.status == 200 for r in res) and
             all(b.get("path") == f"/slow/{i}?delay_ms=300" for i, b in enumerate(bodies)),
             "(a) 50 concurrent slow requests (300 ms) to a server with "
             "max_concurrent_streams=10: all 200, each its own answer",
             [r for r in res if r.status != 200][:3])
    mg.check(all(b.get("protocol") == "HTTP/2" for b in bodies),
             "(a) ... carried over HTTP/2 (protocol HTTP2 port)",
             {b.get("protocol") for b in bodies})
    conns, max_active, over, s = conns_used(mux)
    mg.check(s["over_limit_acked"] == 0,
             "(a) once it acknowledged the server's SETTINGS, meshgate never opened more "
             "than 10 streams on a connection", limit_detail(s))
    mg.check(max_active <= 10 and over == 0,
             "(a) the server never saw more than 10 streams open on one connection",
             limit_detail(s))
    mg.check(max_active >= 5, "(a) ... but several at once (streams multiplexed)", max_active)
    mg.check(conns >= 5, "(a) meshgate opened at least 5 connections (1 worker)", conns)
    mg.check(s["requests"] == 50, "(a) the server saw exactly 50 streams", s["requests"])
    mg.note(f"(a) 50 requests in {secs:.2f} s over {conns} connections")

    # the same through HTTP/2 clients (h2 -> h2), 50 streams on one client connection
    if shutil.which("h2load"):
        mux.reset()
        p = subprocess.run(["h2load", "-n", "50", "-c", "1", "-m", "50", "-H",
                            f":authority: {MUX}", f"http://127.0.0.1:{m.port}/h2?delay_ms=300"],
                           capture_output=True, timeout=60)
        out = p.stdout.decode(errors="replace")
        mg.check("50 succeeded" in out and "50 2xx" in out,
                 "(a) h2load: 50 streams on one HTTP/2 client connection all 200",
                 [ln for ln in out.splitlines() if "requests:" in ln or "status codes" in ln])
        conns, max_active, over, s = conns_used(mux)
        mg.check(max_active <= 10 and over == 0 and s["requests"] == 50,
                 "(a) h2 -> h2: still at most 10 streams per upstream connection, 50 streams",
                 (max_active, over, s["requests"]))


def case_settings_first(m, late):
    """A server whose SETTINGS arrive 300 ms after the TCP handshake (a far
    server, a TLS handshake): requests queued meanwhile must wait for them,
    not go out as up to 100 streams; streams above the limit are refused
    (REFUSED_STREAM, as nghttp2 servers do) and must be retried."""
    late.reset()
    res = parallel(30, lambda i: mg.http(m.port, "GET", f"/late/{i}?delay_ms=200", LATE,
                                         timeout=30))
    bodies = [jsonq(r) for r in res]
    mg.check(all(r.status == 200 for r in res) and
             all(b.get("path") == f"/late/{i}?delay_ms=200" for i, b in enumerate(bodies)),
             "(a2) 30 concurrent requests while the first connection waits for the server's "
             "SETTINGS (max 10, 300 ms late): all 200 (refused streams retried)",
             [r for r in res if r.status != 200][:3])
    s = late.stats()
    mg.check(s["over_limit"] == 0 and s["refused"] == 0,
             "(a2) meshgate waits for the server's SETTINGS: no stream above its limit of 10 "
             "(none refused)", limit_detail(s))
    mg.check(s["requests"] == 30, "(a2) each request processed once", s["requests"])


def case_settings_strict(m, strict):
    """The same server answering streams above its limit with RST_STREAM
    PROTOCOL_ERROR (RFC 9113 5.1.2 allows it as well as REFUSED_STREAM):
    not retriable, so only waiting for the SETTINGS keeps requests from
    failing."""
    strict.reset()
    res = parallel(30, lambda i: mg.http(m.port, "GET", f"/strict/{i}?delay_ms=200", STRICT,
                                         timeout=30))
    s = strict.stats()
    codes = {}
    for r in res:
        codes[r.status] = codes.get(r.status, 0) + 1
    mg.check(all(r.status == 200 for r in res),
             "(a3) 30 concurrent requests, server answering streams above its limit (10, "
             "SETTINGS 300 ms late) with RST_STREAM PROTOCOL_ERROR: all 200",
             (codes, limit_detail(s)))


def case_dr_max_streams(m, cap):
    cap.reset()
    res = parallel(24, lambda i: mg.http(m.port, "GET", f"/cap/{i}?delay_ms=300", CAP,
                                         timeout=30))
    mg.check(all(r.status == 200 for r in res),
             "(b) 24 concurrent slow requests with DestinationRule maxConcurrentStreams: 4: "
             "all 200",
             [r for r in res if r.status != 200][:3])
    conns, max_active, over, s = conns_used(cap)
    mg.check(max_active <= 4, "(b) at most 4 streams open on one connection (server allows 100)",
             max_active)
    mg.check(max_active >= 2, "(b) ... and more than one (streams multiplexed)", max_active)
    mg.check(conns >= 6, "(b) meshgate opened at least 6 connections", conns)


def case_http2_max_requests(m, cap):
    """Envoy's max_requests circuit breaker: at most 3 in flight, the rest 503 UO."""
    res = parallel(8, lambda i: mg.http(m.port, "GET", f"/maxrq/{i}?delay_ms=1500", MAXRQ,
                                        timeout=30))
    ok = [r for r in res if r.status == 200]
    over = [r for r in res if r.status == 503 and b"reset reason: overflow" in r.body]
    mg.check(len(ok) == 3 and len(over) == 5,
             "(b2) 8 concurrent requests with http2MaxRequests: 3: 3 served, 5 answered 503 "
             "overflow", [(r.status, r.body[:60]) for r in res])
    log = m.access_log()
    mg.check(log.count(" 503 UO upstream_reset_before_response_started{overflow} ") >= 5,
             "(b2) the access log says UO", log[-400:])
    res = parallel(3, lambda i: mg.http(m.port, "GET", f"/maxrq/again{i}?delay_ms=200", MAXRQ,
                                        timeout=30))
    mg.check(all(r.status == 200 for r in res),
             "(b2) once they are done, 3 at once are served again (no count leaked)",
             [r.status for r in res])


def case_max_requests(m, mrpc):
    mrpc.reset()
    res = []
    with mg.Client(m.port) as c:
        for i in range(20):
            try:
                res.append(c.get(f"/seq/{i}", MRPC))
            except (OSError, mg.ConnectionClosed, ValueError) as e:
                res.append(mg.Failure(e))
    mg.check(all(r.status == 200 for r in res),
             "(c) 20 sequential requests with maxRequestsPerConnection: 5: all 200",
             [r for r in res if r.status != 200][:3])
    s = mrpc.stats()
    per = [c["requests"] for c in s["conns"].values()]
    mg.check(s["h2_connections"] >= 4, "(c) at least 4 upstream connections",
             (s["h2_connections"], per))
    mg.check(per and max(per) <= 5, "(c) no connection carried more than 5 streams", per)
    # the retired connections close once idle
    mg.check(mg.wait_for(lambda: sum(c["open"] for c in mrpc.stats()["conns"].values()) <= 1, 10),
             "(c) connections that reached the limit are closed (at most 1 left open)",
             [(k, c["requests"], c["open"]) for k, c in mrpc.stats()["conns"].items()])


# ---------------------------------------------------------------- protocol choice

def proto_seen(m, host, path):
    r = mg.get(m.port, path, host)
    b = jsonq(r)
    return b.get("protocol") or b.get("version"), r


def case_upgrade(m, sniff, h1):
    got, r = proto_seen(m, UPG, "/echo?upg")
    mg.check(r.status == 200 and got == "HTTP/2",
             "(d) h2UpgradePolicy: UPGRADE on an HTTP port: an HTTP/1.1 request arrives as HTTP/2",
             (got, r))
    got, r = proto_seen(m, NOUPG, "/echo?noupg")
    mg.check(r.status == 200 and got == "HTTP/1.1",
             "(d) h2UpgradePolicy: DO_NOT_UPGRADE: it arrives as HTTP/1.1 (sniffing upstream)",
             (got, r))
    got, r = proto_seen(m, NOUPG1, "/echo?noupg1")
    mg.check(r.status == 200 and got == "HTTP/1.1",
             "(d) DO_NOT_UPGRADE to the HTTP/1.1 fixture: 200, HTTP/1.1", (got, r))
    got, r = proto_seen(m, PLAIN, "/echo?plain")
    mg.check(r.status == 200 and got == "HTTP/1.1",
             "(d) an HTTP port without DestinationRule: HTTP/1.1 to the fixture", (got, r))
    # an HTTP/2 client on a default HTTP port: still HTTP/1.1 upstream
    rc, st, ver, head, body, err = curl(f"http://127.0.0.1:{m.port}/echo?plain-h2",
                                        "--http2-prior-knowledge", "-H", f"Host: {PLAIN}")
    try:
        b = json.loads(body) if st == 200 else {}
    except ValueError:
        b = {}
    mg.check(st == 200 and ver == "2" and b.get("version") == "HTTP/1.1",
             "(d) an HTTP/2 client to a default HTTP port: HTTP/1.1 upstream",
             (rc, st, ver, b.get("version"), err[-200:]))
    # UPGRADE with an HTTP/2 client: h2 -> h2
    rc, st, ver, head, body, err = curl(f"http://127.0.0.1:{m.port}/echo?upg-h2",
                                        "--http2-prior-knowledge", "-H", f"Host: {UPG}")
    try:
        b = json.loads(body) if st == 200 else {}
    except ValueError:
        b = {}
    mg.check(st == 200 and b.get("protocol") == "HTTP/2",
             "(d) UPGRADE with an HTTP/2 client: HTTP/2 upstream",
             (rc, st, ver, b.get("protocol"), err[-200:]))


def case_client_protocol(m, sniff, h1):
    got, r = proto_seen(m, UCP, "/echo?ucp-h1")
    mg.check(r.status == 200 and got == "HTTP/1.1",
             "(e) useClientProtocol: an HTTP/1.1 client's request arrives as HTTP/1.1", (got, r))
    got, r = proto_seen(m, UCP1, "/echo?ucp1-h1")
    mg.check(r.status == 200 and got == "HTTP/1.1",
             "(e) useClientProtocol to the HTTP/1.1 fixture: HTTP/1.1", (got, r))
    rc, st, ver, head, body, err = curl(f"http://127.0.0.1:{m.port}/echo?ucp-h2",
                                        "--http2-prior-knowledge", "-H", f"Host: {UCP}")
    try:
        b = json.loads(body) if st == 200 else {}
    except ValueError:
        b = {}
    mg.check(st == 200 and ver == "2" and b.get("protocol") == "HTTP/2",
             "(e) useClientProtocol: an HTTP/2 client's request arrives as HTTP/2",
             (rc, st, ver, b.get("protocol"), err[-200:]))


# ---------------------------------------------------------------- bodies and trailers

def chunked_request(path, host, chunks, trailers=()):
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    body = b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks if c)
    tail = b"0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in trailers) + b"\r\n"
    return head + body + tail


def parse_chunked_raw(data):
    """(head text, body bytes, [(trailer, value)], complete) of one chunked response."""
    i = data.find(b"\r\n\r\n")
    if i < 0:
        return None, b"", [], False
    head, rest = data[:i].decode("latin-1"), data[i + 4:]
    body = bytearray()
    trailers = []
    while True:
        j = rest.find(b"\r\n")
        if j < 0:
            return head, bytes(body), trailers, False
        size = int(rest[:j].split(b";")[0], 16)
        rest = rest[j + 2:]
        if size == 0:
            while True:
                j = rest.find(b"\r\n")
                if j < 0:
                    return head, bytes(body), trailers, False
                line, rest = rest[:j], rest[j + 2:]
                if not line:
                    return head, bytes(body), trailers, True
                k, _, v = line.decode("latin-1").partition(":")
                trailers.append((k.strip().lower(), v.strip()))
        if len(rest) < size + 2:
            return head, bytes(body), trailers, False
        body += rest[:size]
        rest = rest[size + 2:]


def case_bodies(m, up):
    data = os.urandom(5 * MiB)
    r = mg.http(m.port, "POST", "/upload", BODY, [("Content-Type", "application/octet-stream")],
                body=data, timeout=60)
    b = jsonq(r)
    mg.check(r.status == 200 and b.get("body_len") == len(data) and
             b.get("body_sha256") == sha(data) and b.get("protocol") == "HTTP/2",
             "(f) HTTP/1.1 client -> HTTP/2 upstream: a 5 MiB POST arrives intact (sha256)",
             (r.status, b.get("body_len"), b.get("protocol")))
    cls = [v for k, v in b.get("headers", []) if k == "content-length"]
    mg.check(cls == [str(len(data))], "(f) ... with its content-length", cls)

    n = 8 * MiB
    r = mg.http(m.port, "GET", f"/download?bytes={n}", BODY, timeout=60)
    mg.check(r.status == 200 and r.complete and len(r.body) == n and
             sha(r.body) == mg.pattern_sha256(n),
             "(f) HTTP/2 upstream -> HTTP/1.1 client: an 8 MiB response intact (sha256)",
             (r.status, len(r.body), r.header("content-length"), r.header("transfer-encoding")))

    chunks = [os.urandom(k) for k in (1, 1000, 65536, 70000, 3, 200000)]
    whole = b"".join(chunks)
    res = mg.send_raw(m.port, chunked_request("/chunked-up", BODY, chunks,
                                              [("x-req-trailer", "rt1")]) +
                      mg.build_request("GET", "/after", BODY, [("Connection", "close")]),
                      timeout=20)
    first = res.responses[0] if res.responses else None
    b = jsonq(first) if first else {}
    mg.check(first is not None and first.status == 200 and b.get("body_len") == len(whole) and
             b.get("body_sha256") == sha(whole),
             "(f) a chunked request without content-length: the body arrives intact",
             (res, b.get("body_len")))
    mg.check(not any(k in ("transfer-encoding",) for k, _ in b.get("headers", [])),
             "(f) ... without transfer-encoding on the HTTP/2 side", b.get("headers"))
    mg.check(["x-req-trailer", "rt1"] in b.get("trailers", []),
             "(f) ... and its trailer arrives as an HTTP/2 trailer", b.get("trailers"))
    mg.check(len(res.responses) == 2 and res.responses[1].status == 200,
             "(f) ... and the next request on the client connection is answered", res.statuses())

    req = mg.build_request("GET", "/trailers?trailers=1&bytes=100000", BODY,
                           [("TE", "trailers"), ("Connection", "close")])
    res = mg.send_raw(m.port, req, timeout=20)
    head, body, trailers, complete = parse_chunked_raw(res.data)
    tmap = dict(trailers)
    mg.check(head is not None and head.startswith("HTTP/1.1 200") and
             re.search(r"(?im)^transfer-encoding:\s*chunked", head or ""),
             "(f) upstream response with trailers: HTTP/1.1 200, chunked", head)
    mg.check(complete and len(body) == 100000 and sha(body) == mg.pattern_sha256(100000),
             "(f) ... body intact up to the last chunk", (complete, len(body)))
    mg.check(tmap.get("x-trailer") == "yes" and tmap.get("x-body-sha256") == sha(body),
             "(f) ... the upstream's trailers arrive as HTTP/1.1 chunked trailers", trailers)

    # the same through curl --raw
    rc, st, ver, hd, raw, err = curl(f"http://127.0.0.1:{m.port}/trailers?trailers=1",
                                     "--raw", "--http1.1", "-H", "TE: trailers",
                                     "-H", f"Host: {BODY}")
    mg.check(st == 200 and b"x-trailer: yes" in raw.lower(),
             "(f) curl --raw sees the trailer after the last chunk", (rc, st, raw[-200:]))

    # HTTP/2 client -> HTTP/2 upstream, same sizes
    d = mg.tmpdir("h2body")
    (d / "up").write_bytes(data)
    rc, st, ver, hd, body, err = curl(f"http://127.0.0.1:{m.port}/h2upload",
                                      "--http2-prior-knowledge",
                                      "-H", f"Host: {BODY}", "--data-binary", f"@{d / 'up'}",
                                      "-H", "Content-Type: application/octet-stream", timeout=60)
    try:
        b = json.loads(body) if st == 200 else {}
    except ValueError:
        b = {}
    mg.check(st == 200 and ver == "2" and b.get("body_len") == len(data) and
             b.get("body_sha256") == sha(data),
             "(f) HTTP/2 client -> HTTP/2 upstream: a 5 MiB POST intact",
             (rc, st, ver, b.get("body_len"), err[-200:]))
    rc, st, ver, hd, body, err = curl(f"http://127.0.0.1:{m.port}/h2download?bytes={n}",
                                      "--http2-prior-knowledge", "-H", f"Host: {BODY}", timeout=60)
    mg.check(st == 200 and len(body) == n and sha(body) == mg.pattern_sha256(n),
             "(f) HTTP/2 client <- HTTP/2 upstream: an 8 MiB response intact",
             (rc, st, ver, len(body), err[-200:]))


# ---------------------------------------------------------------- upstream failure

def case_abort(m, ab):
    for cl in (True, False):
        what = "with content-length" if cl else "without content-length"
        q = f"/abort?abort_after=200000{'&cl=1' if cl else ''}"
        r = mg.http(m.port, "GET", q, ABORT, timeout=20)
        last = ab.stats()["last_conn_id"]
        failed = isinstance(r, mg.Failure) or (r.status is not None and r.status >= 500)
        mg.check(failed,
                 f"(g) upstream resets the connection mid-response ({what}): the HTTP/1.1 "
                 "client sees a failure, not a short 200",
                 r if isinstance(r, mg.Failure) else
                 (r.status, len(r.body), r.header("content-length"),
                  r.header("transfer-encoding"), r.complete))
        r2 = mg.get(m.port, "/after-abort", ABORT, timeout=20)
        mg.check(r2.status == 200 and jsonq(r2).get("path") == "/after-abort",
                 f"(g) a later request succeeds ({what})", r2)
        mg.check(jsonq(r2).get("conn", 0) > last,
                 f"(g) ... on a new upstream connection ({what})",
                 (jsonq(r2).get("conn"), last))

    rc, st, ver, hd, body, err = curl(f"http://127.0.0.1:{m.port}/abort?abort_after=200000&cl=1",
                                      "--http2-prior-knowledge", "-H", f"Host: {ABORT}")
    mg.check(rc != 0 or st >= 500,
             "(g) an HTTP/2 client sees the failed stream too (curl fails)",
             (rc, st, len(body), err[-200:]))
    r2 = mg.get(m.port, "/after-abort2", ABORT, timeout=20)
    mg.check(r2.status == 200, "(g) and a later request succeeds", r2)

    # the server resets the stream before its head: 503 UR, Envoy's words
    r = mg.get(m.port, "/rst?rst=2", ABORT, timeout=20)
    mg.check(r.status == 503 and b"reset reason: remote reset" in r.body,
             "(g) RST_STREAM(INTERNAL_ERROR) before the head: 503 remote reset", (r.status, r.body))
    r = mg.get(m.port, "/rst?rst=7", ABORT, timeout=20)
    mg.check(r.status == 503 and b"remote refused stream reset" in r.body,
             "(g) RST_STREAM(REFUSED_STREAM) every time: replayed, then 503 refused stream reset",
             (r.status, r.body))
    log = m.access_log()
    mg.check(log.count('"GET /rst?rst=2 HTTP/1.1" 503 UR ') == 1 and
             'upstream_reset_before_response_started{remote_reset}' in log,
             "(g) the access log says UR and remote_reset", log[-600:])
    r2 = mg.get(m.port, "/after-rst", ABORT, timeout=20)
    mg.check(r2.status == 200, "(g) the multiplexed connection still serves", r2)


# ---------------------------------------------------------------- nghttpd

def start_nghttpd():
    """nghttpd (h2c) serving a docroot with a small and a 5 MiB file."""
    if not shutil.which("nghttpd"):
        return None
    root = mg.tmpdir("nghttpd")
    (root / "small.txt").write_bytes(b"hello from nghttpd\n")
    big = bytes(range(256)) * (5 * 4096)          # 5 MiB
    (root / "big.bin").write_bytes(big)
    port = mg.free_ports(1)[0]
    mg.Proc("nghttpd", ["nghttpd", "--no-tls", "-a", "127.0.0.1", "-d", str(root), str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not mg.wait_for(lambda: mg.port_open(port), 10):
        return None
    return {"port": port, "big": hashlib.sha256(big).hexdigest(), "big_len": len(big)}


def case_nghttpd(m, nd):
    """Real nghttp2 peers on both sides: nghttpd as the upstream, curl (HTTP/1.1
    and HTTP/2) and nghttp as clients."""
    r = mg.get(m.port, "/small.txt", NGHTTPD)
    mg.check(r.status == 200 and r.body == b"hello from nghttpd\n",
             "(j) HTTP/1.1 client -> meshgate -> nghttpd (h2c): the file", (r.status, r.body[:60]))
    rc, st, ver, head, body, err = curl(f"http://127.0.0.1:{m.port}/big.bin",
                                        "--http2-prior-knowledge", "-H", f"Host: {NGHTTPD}")
    mg.check(rc == 0 and st == 200 and ver == "2" and len(body) == nd["big_len"] and
             hashlib.sha256(body).hexdigest() == nd["big"],
             "(j) curl --http2-prior-knowledge -> meshgate -> nghttpd: 5 MiB intact",
             (rc, st, ver, len(body), err[-200:]))
    if shutil.which("nghttp"):
        p = subprocess.run(["nghttp", "-n", "-s", "-H", f":authority: {NGHTTPD}",
                            f"http://127.0.0.1:{m.port}/small.txt",
                            f"http://127.0.0.1:{m.port}/big.bin",
                            f"http://127.0.0.1:{m.port}/missing"],
                           capture_output=True, timeout=60)
        out = p.stdout.decode(errors="replace")
        mg.check(p.returncode == 0 and out.count("/small.txt") == 1 and
                 out.count("/big.bin") == 1 and out.count("/missing") == 1,
                 "(j) nghttp: three streams on one connection through meshgate to nghttpd",
                 (p.returncode, out[-400:], p.stderr.decode()[-200:]))
        p = subprocess.run(["nghttp", "-v", "-H", f":authority: {NGHTTPD}",
                            f"http://127.0.0.1:{m.port}/missing"], capture_output=True, timeout=30)
        mg.check(b":status: 404" in p.stdout and b"[ERROR]" not in p.stdout,
                 "(j) nghttpd's 404 passes through to nghttp", p.stdout[-300:])
    else:
        mg.note("nghttp is not installed: the nghttp client part of (j) is skipped")


# ---------------------------------------------------------------- TLS

def make_pki(d):
    """A test CA and a server certificate for TLSH (openssl)."""
    def sh(*argv):
        subprocess.run(list(argv), capture_output=True, timeout=60, check=True)
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"), "-days", "3", "-subj",
       "/O=meshgate h2 upstream test CA", "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    (d / "srv.ext").write_text("basicConstraints=critical,CA:FALSE\n"
                               "keyUsage=critical,digitalSignature\n"
                               f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{TLSH}\n")
    sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", str(d / "srv.key"), "-out", str(d / "srv.csr"), "-subj", f"/CN={TLSH}")
    sh("openssl", "x509", "-req", "-in", str(d / "srv.csr"), "-CA", str(d / "ca.pem"),
       "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "2", "-out", str(d / "srv.pem"),
       "-extfile", str(d / "srv.ext"))


def case_tls(m, tu):
    tu.reset()
    res = parallel(20, lambda i: mg.http(m.port, "GET", f"/tls/{i}?delay_ms=200", TLSH,
                                         timeout=30))
    bodies = [jsonq(r) for r in res]
    mg.check(all(r.status == 200 for r in res) and
             all(b.get("scheme") == "https" and b.get("protocol") == "HTTP/2" for b in bodies),
             "(h) DestinationRule tls SIMPLE: 20 concurrent requests over TLS, HTTP/2, "
             ":scheme https", [r for r in res if r.status != 200][:3] or
             {(b.get("scheme"), b.get("protocol")) for b in bodies})
    s = tu.stats()
    mg.check(s["alpn"] and all(a == "h2" for a in s["alpn"]),
             "(h) ... every TLS connection negotiated ALPN h2", s["alpn"])
    mg.check(len({b.get("conn") for b in bodies}) < 20 and s["max_active"] > 1,
             "(h) ... streams multiplexed on few TLS connections",
             (len({b.get("conn") for b in bodies}), s["max_active"]))
    data = os.urandom(3 * MiB)
    r = mg.http(m.port, "POST", "/tls-up", TLSH, body=data, timeout=60)
    mg.check(r.status == 200 and jsonq(r).get("body_sha256") == sha(data),
             "(h) ... a 3 MiB POST over TLS intact", r)
    r = mg.http(m.port, "GET", f"/tls-down?bytes={3 * MiB}", TLSH, timeout=60)
    mg.check(r.status == 200 and sha(r.body) == mg.pattern_sha256(3 * MiB),
             "(h) ... a 3 MiB response over TLS intact", (r.status, len(r.body)))


# ---------------------------------------------------------------- setup

def case(name, fn, m, *args):
    mg.note(f"--- {name}")
    try:
        fn(m, *args)
    except Exception as e:
        traceback.print_exc()
        mg.check(False, f"{name}: ended by an exception", repr(e)[:300])
    if not m.proc.alive():
        mg.check(False, f"meshgate died during \"{name}\"", m.proc.popen.returncode)
        return False
    return True


def case_grpc_local(m, h1):
    """meshgate's own answers to a gRPC call are gRPC statuses (HTTP 200,
    grpc-status, grpc-message), and the call's grpc-timeout bounds it from
    its start: an HTTP/1.1 upstream (which ignores the header) taking 3 s
    gives DEADLINE_EXCEEDED after the 300 ms asked for."""
    base = f"http://127.0.0.1:{m.port}"
    grpc_hdr = ["--http2-prior-knowledge", "-H", "content-type: application/grpc",
                "--data-binary", ""]
    t0 = time.monotonic()
    rc, status, _, head, _, err = curl(base + "/slow?ms=3000", *grpc_hdr, "-H", f"host: {PLAIN}",
                                       "-H", "grpc-timeout: 300m")
    secs = time.monotonic() - t0
    mg.check(status == 200 and "grpc-status: 4" in head.lower(),
             "grpc-timeout 300m on a 3 s upstream: HTTP 200 with grpc-status 4 (DEADLINE_EXCEEDED)",
             f"rc={rc} {status} {head!r} {err[-200:]}")
    mg.check(secs < 2.5, "... answered at the deadline, not when the upstream answers",
             f"{secs:.2f} s")
    rc, status, _, head, _, err = curl(base + "/slow?ms=100", *grpc_hdr, "-H", f"host: {PLAIN}",
                                       "-H", "grpc-timeout: 5S")
    mg.check(status == 200 and "grpc-status" not in head.lower(),
             "grpc-timeout 5S on a 100 ms upstream: its own answer passes", f"{status} {head!r}")
    rc, status, _, head, _, err = curl(base + "/x", *grpc_hdr, "-H", "host: nosuch.example")
    mg.check(status == 200 and "grpc-status: 14" in head.lower(),
             "a gRPC call to a host not in the registry: grpc-status 14 (UNAVAILABLE), not 502",
             f"{status} {head!r}")
    for v in ("1234567890m", "10x", "m", "-5S"):
        rc, status, _, head, _, err = curl(base + "/slow?ms=50", *grpc_hdr, "-H", f"host: {PLAIN}",
                                           "-H", f"grpc-timeout: {v}")
        mg.check(status == 200 and "grpc-status" not in head.lower(),
                 f"a malformed grpc-timeout ({v!r}) is ignored, not a deadline", f"{status} {head!r}")


def main():
    mg.binary()
    if h2 is None:
        mg.skip("python3-h2 is not installed")
    mg.need("curl")
    mux = H2Upstream("mux", max_streams=10)
    cap = H2Upstream("cap", max_streams=100)
    mrpc = H2Upstream("mrpc", max_streams=100)
    sniff = H2Upstream("sniff", max_streams=100)
    body = H2Upstream("body", max_streams=100)
    ab = H2Upstream("abort", max_streams=100)
    late = H2Upstream("late", max_streams=10, settings_delay_ms=300, refuse=True)
    strict = H2Upstream("strict", max_streams=10, settings_delay_ms=300, refuse=True,
                        refuse_code="PROTOCOL_ERROR")
    tu = None
    if shutil.which("openssl"):
        pki = mg.tmpdir("pki")
        make_pki(pki)
        tu = H2Upstream("tls", tls=(pki / "srv.pem", pki / "srv.key"))
    h1 = mg.Upstream("h1")
    gs = GrpcServer() if grpc else None

    def se(name, host, ep, protocol, pname=None):
        return mg.service_entry(name, host, [ep], protocol=protocol,
                                port_name=pname or protocol.lower())
    yaml = [se("mux", MUX, mux.endpoint, "HTTP2"),
            se("cap", CAP, cap.endpoint, "HTTP2"),
            destination_rule("cap", CAP, {"maxConcurrentStreams": 4}),
            se("maxrq", MAXRQ, cap.endpoint, "HTTP2"),
            destination_rule("maxrq", MAXRQ, {"http2MaxRequests": 3}),
            se("mrpc", MRPC, mrpc.endpoint, "HTTP2"),
            destination_rule("mrpc", MRPC, {"maxRequestsPerConnection": 5}),
            se("upg", UPG, sniff.endpoint, "HTTP"),
            destination_rule("upg", UPG, {"h2UpgradePolicy": "UPGRADE"}),
            se("noupg", NOUPG, sniff.endpoint, "HTTP"),
            destination_rule("noupg", NOUPG, {"h2UpgradePolicy": "DO_NOT_UPGRADE"}),
            se("noupg1", NOUPG1, h1.endpoint, "HTTP"),
            destination_rule("noupg1", NOUPG1, {"h2UpgradePolicy": "DO_NOT_UPGRADE"}),
            se("plain", PLAIN, h1.endpoint, "HTTP"),
            se("ucp", UCP, sniff.endpoint, "HTTP"),
            destination_rule("ucp", UCP, {"useClientProtocol": True}),
            se("ucp1", UCP1, h1.endpoint, "HTTP"),
            destination_rule("ucp1", UCP1, {"useClientProtocol": True}),
            se("body", BODY, body.endpoint, "HTTP2"),
            se("abort", ABORT, ab.endpoint, "HTTP2"),
            se("late", LATE, late.endpoint, "HTTP2"),
            se("strict", STRICT, strict.endpoint, "HTTP2")]
    if gs:
        yaml.append(se("grpc", GRPC_HOST, ("127.0.0.1", gs.port), "GRPC"))
    nd = start_nghttpd()
    if nd:
        yaml.append(se("nghttpd", NGHTTPD, ("127.0.0.1", nd["port"]), "HTTP2"))
    if tu:
        yaml += [se("tls", TLSH, tu.endpoint, "HTTP2"),
                 {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                  "metadata": {"name": "tls", "namespace": "default"},
                  "spec": {"host": TLSH, "trafficPolicy": {"tls": {
                      "mode": "SIMPLE", "caCertificates": str(pki / "ca.pem"), "sni": TLSH}}}}]
    m = mg.Mesh(yaml=yaml, workers=1, name="h2up", ini={"ca": {"port": 0}}).start()

    cases = [("(a) SETTINGS_MAX_CONCURRENT_STREAMS", case_max_streams, mux),
             ("(a2) streams wait for the server's SETTINGS", case_settings_first, late),
             ("(a3) ... a server answering excess streams with PROTOCOL_ERROR",
              case_settings_strict, strict),
             ("(b) DestinationRule maxConcurrentStreams", case_dr_max_streams, cap),
             ("(b2) DestinationRule http2MaxRequests", case_http2_max_requests, cap),
             ("(c) DestinationRule maxRequestsPerConnection", case_max_requests, mrpc),
             ("(d) h2UpgradePolicy", case_upgrade, sniff, h1),
             ("(e) useClientProtocol", case_client_protocol, sniff, h1),
             ("(f) bodies and trailers, HTTP/1.1 client to HTTP/2 upstream", case_bodies, body),
             ("(g) upstream closes mid-response", case_abort, ab),
             ("(i) gRPC local replies and grpc-timeout", case_grpc_local, h1)]
    if nd:
        cases.append(("(j) nghttpd upstream, curl and nghttp clients", case_nghttpd, nd))
    else:
        mg.note("nghttpd is not installed (nghttp2-server): case (j) is skipped")
    if tu:
        cases.append(("(h) TLS with ALPN h2", case_tls, tu))
    else:
        mg.note("openssl is not installed: the TLS case is skipped")
    if gs:
        cases.insert(0, ("gRPC (python3-grpcio both ends)", case_grpc, gs))
    else:
        mg.note("python3-grpcio is not installed: the gRPC case is skipped")
    for name, fn, *args in cases:
        if not case(name, fn, m, *args):
            break
    if gs:
        gs.stop()


if __name__ == "__main__":
    mg.run(main)
