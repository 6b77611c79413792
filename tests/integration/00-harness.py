#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 00-harness: the test harness itself, without meshgate: the upstream fixture
# (framing, keep-alive, pipelining, 100-continue, WebSocket, broken answers)
# and mg.py's YAML and Prometheus helpers. When this fails, the other
# integration tests' verdicts mean nothing.

import time

import mg


def check_basic(up):
    r = mg.get(up.port, "/", "x")
    mg.check(r.status == 200 and r.body == b"a\n" and r.header("x-upstream-name") == "a",
             "default path answers 200 with the name", r)
    r = mg.http(up.port, "POST", "/echo?q=1", "x", [("X-Dup", "1"), ("X-Dup", "2")], body=b"hello")
    e = r.json()
    mg.check(e["method"] == "POST" and e["path"] == "/echo" and e["query"] == "q=1"
             and e["body_length"] == 5 and [h for h in e["headers"] if h[0] == "X-Dup"] ==
             [["X-Dup", "1"], ["X-Dup", "2"]], "/echo reports method, path, headers, body", e)
    r = mg.get(up.port, "/status?code=204", "x")
    mg.check(r.status == 204 and not r.has("content-length") and r.body == b"",
             "/status?code=204 has no body and no framing", r)


def check_bodies(up):
    n = 3 * 65521 + 17
    r = mg.get(up.port, f"/bytes?n={n}", "x")
    mg.check(r.header("content-length") == str(n) and mg.sha256(r.body) == mg.pattern_sha256(n),
             "/bytes streams the pattern with Content-Length")
    r = mg.get(up.port, f"/chunked?n={n}&chunk=1000", "x")
    mg.check(r.header("transfer-encoding") == "chunked" and mg.sha256(r.body) == mg.pattern_sha256(n),
             "/chunked sends the pattern chunked")
    body = bytes(range(256)) * 1000
    for chunked in (False, True):
        r = mg.http(up.port, "POST", "/sink", "x", body=body, chunked=chunked)
        mg.check(r.json()["bytes"] == len(body) and r.json()["sha256"] == mg.sha256(body),
                 f"/sink counts and hashes a {'chunked' if chunked else 'CL'} body")
    with mg.Client(up.port) as c:
        c.send(b"POST /sink HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        head = c.stream.read_head()
        mg.check(head.startswith(b"HTTP/1.1 100 "), "Expect: 100-continue gets 100 first", head)
        c.send(b"abc")
        r = c.read_response()
        mg.check(r.status == 200 and r.json()["bytes"] == 3, "then the body is read")


def check_connections(up):
    before = up.stats()
    with mg.Client(up.port) as c:
        for i in range(20):
            c.get("/", "x")
        c.send(mg.build_request("GET", "/slow?ms=200", "x") + mg.build_request("GET", "/echo", "x"))
        first, second = c.read_response(), c.read_response()
        mg.check(first.body == b"a\n" and second.json()["path"] == "/echo",
                 "pipelined requests are answered in order")
    after = up.stats()
    mg.check_eq(after["connections_accepted"] - before["connections_accepted"], 1,
                "keep-alive: 22 requests on 1 counted connection (/_stats not counted)")
    mg.check_eq(after["requests"] - before["requests"], 22, "requests are counted")
    with mg.Client(up.port) as c:
        r = c.get("/close", "x")
        mg.check(r.header("connection") == "close" and c.closed_by_peer(), "/close closes")
    r = mg.send_raw(up.port, b"GET /bad/te-cl HTTP/1.1\r\nHost: x\r\n\r\n")
    mg.check(b"Transfer-Encoding: chunked" in r.data and b"Content-Length: 30" in r.data and r.closed,
             "/bad/te-cl sends TE and CL", r)
    r = mg.send_raw(up.port, b"GET /bad/status HTTP/1.1\r\nHost: x\r\n\r\n")
    mg.check(r.data.startswith(b"HTTP/1.1 2x0") and r.closed, "/bad/status sends garbage", r)
    r = mg.send_raw(up.port, b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n"
                    b"Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
    mg.check(r.status == 101, "Upgrade: h2c gets 101 (an h2c-capable upstream)", r)


def check_websocket(up):
    with mg.Client(up.port) as c:
        r = c.get("/ws", "x", [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                                ("Sec-WebSocket-Version", "13")])
        accept = r.header("sec-websocket-accept")
        mg.check(r.status == 101 and accept == mg.ws_accept("dGhlIHNhbXBsZSBub25jZQ==")
                 == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                 "/ws handshake (RFC 6455 sample key)", r)
        for payload in (b"hello", b"x" * 300, bytes(70000)):
            c.send(mg.ws_frame(2, payload, mask_key=b"\x01\x02\x03\x04"))
            fin, op, got = mg.ws_read(c)
            mg.check(op == 2 and got == payload, f"echo of a {len(payload)}-byte frame")


def check_idle_timeout():
    up = mg.Upstream("idle", idle_timeout_ms=300)
    with mg.Client(up.port) as c:
        c.get("/", "x")
        t0 = time.monotonic()
        closed = c.closed_by_peer(3)
        mg.check(closed and time.monotonic() - t0 < 1.5, "--idle-timeout-ms closes idle connections")


def check_helpers():
    se = mg.service_entry("reviews", "reviews.example", [("127.0.0.1", 18081)])
    text = mg.yaml_docs(se)
    mg.check("  endpoints:\n    - address: \"127.0.0.1\"\n      ports:\n        http: 18081\n" in text,
             "YAML emitter writes block style", text)
    samples = mg.parse_prometheus(
        '# TYPE istio_requests_total counter\n'
        'istio_requests_total{response_code="200",x="a\\"b"} 3\n'
        'istio_requests_total{response_code="404",x="c"} 2 1700000000\n'
        'meshgate_up 1\n')
    mg.check(mg.metric_sum(samples, "istio_requests_total") == 5
             and mg.metric_sum(samples, "istio_requests_total", x='a"b') == 3,
             "Prometheus parser reads labels, escapes and timestamps")
    p1, p2 = mg.free_ports(2)
    mg.check(p1 != p2, "free_ports returns distinct ports")
    r = mg.parse_responses(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 400 Bad\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1 500")[0]
    mg.check([x.status for x in r] == [200, 400] and r[1].body == b"abc",
             "parse_responses parses complete responses only")


def main():
    up = mg.Upstream("a")
    check_basic(up)
    check_bodies(up)
    check_connections(up)
    check_websocket(up)
    check_idle_timeout()
    check_helpers()


mg.run(main)
