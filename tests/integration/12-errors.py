#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 12-errors: the proxy's own error answers, Istio style: 404 NR (registered
# host, no matching route), 502 (unknown host under REGISTRY_ONLY), 503 UH
# (no endpoint), 503 UF (connect failure after 2 retries), 504 UT (route
# timeout), 502 for an upstream response with ambiguous or garbage framing;
# each counted in istio_requests_total with its response flag.

import time

import mg


def config(up, dead_port):
    se = mg.service_entry
    return [
        se("registered", "registered.example", [up.endpoint]),
        mg.virtual_service("registered", "registered.example", [
            mg.http_route([mg.dest("registered.example")], prefix="/api")]),
        se("empty", "empty.example", []),
        se("down", "down.example", [("127.0.0.1", dead_port)]),
        se("slow", "slow.example", [up.endpoint]),
        mg.virtual_service("slow", "slow.example", [
            mg.http_route([mg.dest("slow.example")], timeout="1s")]),
        se("good", "good.example", [up.endpoint]),
    ]


def flagged(m, code, flag):
    """istio_requests_total for response_code=code whose response_flags contain flag."""
    samples = m.metrics()
    return mg.metric_sum(samples, "istio_requests_total", response_code=str(code),
                         response_flags=lambda f: f is not None and flag in f.split(","))


def timed_get(port, target, host, timeout=15):
    t0 = time.monotonic()
    r = mg.get(port, target, host, timeout=timeout)
    return r, time.monotonic() - t0


def check_answer(m, what, host, target, code, body_has=None, flag=None, max_s=5.0):
    r, secs = timed_get(m.port, target, host)
    ok = mg.check(r.status == code, f"{what}: {code}", r)
    if body_has is not None:
        mg.check(body_has in r.body, f"{what}: body says {body_has.decode()!r}", r.body[:100])
    mg.check(secs <= max_s, f"{what}: answered within {max_s} s", f"{secs:.2f} s")
    if flag and ok:
        n = mg.wait_for(lambda: flagged(m, code, flag), 3)
        mg.check(n and n >= 1, f"{what}: istio_requests_total counts it with flag {flag}", n)
    return r, secs


def main():
    mg.binary()
    up = mg.Upstream("a")
    dead_port = mg.free_ports(1)[0]  # nothing listens there
    m = mg.Mesh(yaml=config(up, dead_port), name="errors").start()

    check_answer(m, "registered host, no route", "registered.example", "/nothing", 404, flag="NR")
    r = mg.get(m.port, "/api/x", "registered.example")
    mg.check(r.status == 200, "registered host, matching route: 200 (control)", r)
    check_answer(m, "unknown host under REGISTRY_ONLY", "nowhere.example", "/", 502)
    check_answer(m, "unknown IP:port host under REGISTRY_ONLY", f"127.0.0.1:{up.port}", "/", 502)
    check_answer(m, "no endpoint", "empty.example", "/", 503, b"no healthy upstream", flag="UH")
    check_answer(m, "connect failure", "down.example", "/", 503, flag="UF")

    r, secs = check_answer(m, "route timeout 1s", "slow.example", "/slow?ms=3000", 504,
                           b"upstream request timeout", flag="UT", max_s=2.5)
    mg.check(secs >= 0.9, "route timeout does not fire early", f"{secs:.2f} s")
    r = mg.get(m.port, "/slow?ms=200", "slow.example")
    mg.check(r.status == 200, "a request within the route timeout succeeds", r)

    before = up.stats()["requests"]
    r = mg.get(m.port, "/bad/te-cl", "good.example")
    mg.check(r.status == 502, "upstream response with TE + CL: 502", r)
    mg.check(b"Response splitting" not in r.body, "no byte of the ambiguous response is relayed", r.body)
    r = mg.get(m.port, "/bad/status", "good.example")
    mg.check(r.status == 502, "upstream garbage status line: 502", r)
    mg.check_eq(up.stats()["requests"] - before, 2, "each bad response came from one upstream request")

    with mg.Client(m.port) as c:
        ok = all(c.get("/", "good.example").status == 200 for _ in range(5))
        mg.check(ok, "after the bad responses, requests through the pool succeed")
    r = mg.get(m.port, "/close", "good.example")
    mg.check(r.status == 200 and r.body == b"a\n", "upstream Connection: close response is relayed", r)
    r = mg.get(m.port, "/", "good.example")
    mg.check(r.status == 200, "and the next request gets a fresh upstream connection", r)

    mg.check(m.proc.alive(), "meshgate is still running")


mg.run(main)
