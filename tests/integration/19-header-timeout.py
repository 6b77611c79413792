#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 19-header-timeout: slowloris. With header_timeout = 2s, a client that sends
# part of a request head and stops, or trickles it a byte at a time, is
# disconnected about 2 s after it started (a 408 may come first); a complete
# head sent slowly but in time is served; other clients are unaffected.

import time

import mg

HOST = "a.example"
TIMEOUT_S = 2.0
PARTIAL = f"GET / HTTP/1.1\r\nHost: {HOST}\r\nX-Slow: ".encode()


def check_closed_in_time(r, what):
    mg.check(r.closed, f"{what}: the connection is closed", r)
    mg.check_between(round(r.elapsed, 2), TIMEOUT_S - 0.3, TIMEOUT_S + 2.0,
                     f"{what}: closed about header_timeout after the first byte")
    mg.check(r.status in (None, 408), f"{what}: nothing but an optional 408 is sent", r)


def main():
    mg.binary()
    a = mg.Upstream("a")
    m = mg.Mesh(yaml=[mg.service_entry("a", HOST, [a.endpoint])],
                ini={"limits": {"header_timeout": "2s"}}, name="slowloris").start()
    before = a.stats()["requests"]

    r = mg.send_raw(m.port, PARTIAL, timeout=8)
    check_closed_in_time(r, "partial head, then silence")

    parts = [PARTIAL[i:i + 1] for i in range(len(PARTIAL))]  # a byte every 0.1 s: never completes in time
    r = mg.send_raw(m.port, None, timeout=10, parts=parts, delay=0.1)
    check_closed_in_time(r, "head trickled a byte at a time")

    good = f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
    r = mg.send_raw(m.port, None, timeout=8, parts=[good[i:i + 8] for i in range(0, len(good), 8)], delay=0.1)
    mg.check(r.status == 200, "a complete head sent slowly within the timeout is served", r)

    slow = [mg.Background(mg.send_raw, m.port, PARTIAL, 8) for _ in range(50)]
    time.sleep(0.5)
    ok = sum(mg.get(m.port, "/", HOST).status == 200 for _ in range(20))
    mg.check(ok == 20, "while 50 slowloris connections hang, other clients are served", ok)
    for s in slow:
        s.join(15)
    mg.check(all(s.result is not None and s.result.closed and s.result.elapsed < TIMEOUT_S + 2.5 for s in slow),
             "all 50 slowloris connections are closed on time",
             [round(s.result.elapsed, 1) for s in slow if s.result][:10])
    mg.check_eq(a.stats()["requests"] - before, 21, "only the complete requests reached the upstream")
    mg.check(m.proc.alive(), "meshgate is still running")


mg.run(main)
