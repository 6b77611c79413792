#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 15-keepalive: connection reuse on both sides (per-worker upstream pools:
# the upstream accepts far fewer connections than it serves requests),
# pipelining, Connection: close and HTTP/1.0, an upstream that closes or
# times out its idle connections, and both workers accepting connections.

import re
import threading
import time

import mg

HOST = "a.example"


def delta(up, before):
    now = up.stats()
    return now["connections_accepted"] - before["connections_accepted"], now["requests"] - before["requests"]


def check_reuse(m, a):
    s = a.stats()
    with mg.Client(m.port) as c:
        ok = sum(c.get(f"/r/{i}", HOST).status == 200 for i in range(200))
    conns, reqs = delta(a, s)
    mg.check(ok == 200, "200 requests on one client connection all succeed", ok)
    mg.check_eq(reqs, 200, "the upstream served 200 requests")
    mg.check(conns <= 2, "... on at most 2 upstream connections", conns)

    s = a.stats()
    ok = sum(mg.get(m.port, f"/n/{i}", HOST).status == 200 for i in range(100))
    conns, reqs = delta(a, s)
    mg.check(ok == 100, "100 requests on 100 client connections all succeed", ok)
    mg.check(conns <= 10, "... reuse pooled upstream connections (<= 10 accepted)", conns)

    s = a.stats()
    results = []

    def worker(i):
        with mg.Client(m.port) as c:
            results.append(sum(c.get(f"/p/{i}/{j}", HOST).status == 200 for j in range(20)))
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    conns, reqs = delta(a, s)
    mg.check(sum(results) == 400, "20 parallel clients x 20 requests all succeed", results)
    mg.check(conns <= 40, "... on far fewer upstream connections than requests (<= 40)", conns)


def check_pipelining(m):
    with mg.Client(m.port) as c:
        c.send(mg.build_request("GET", "/slow?ms=300", HOST) + mg.build_request("GET", "/echo?second", HOST))
        first, second = c.read_response(), c.read_response()
        mg.check(first.status == 200 and first.body == b"a\n" and second.status == 200
                 and second.json()["query"] == "second", "two pipelined requests: two responses in order",
                 (first, second))
        batch = b"".join(mg.build_request("GET", f"/echo?i={i}", HOST) for i in range(10))
        c.send(batch)
        got = [c.read_response().json()["query"] for _ in range(10)]
        mg.check(got == [f"i={i}" for i in range(10)], "ten pipelined requests in one write, in order", got)
        c.send(mg.build_request("HEAD", "/bytes?n=500", HOST) + mg.build_request("GET", "/bytes?n=7", HOST)
               + mg.build_request("POST", "/sink", HOST, body=b"abc"))
        h, g, p = c.read_response("HEAD"), c.read_response(), c.read_response()
        mg.check(h.body == b"" and g.body_len == 7 and p.json()["bytes"] == 3,
                 "pipelined HEAD, GET and POST keep their framing", (h, g, p))


def check_close(m):
    with mg.Client(m.port) as c:
        r = c.get("/", HOST, [("Connection", "close")])
        mg.check(r.status == 200 and c.closed_by_peer(), "Connection: close: answered, then closed", r)
    with mg.Client(m.port) as c:
        r = c.get("/", HOST, version="HTTP/1.0")
        mg.check(r.status == 200 and c.closed_by_peer(), "HTTP/1.0 without keep-alive: answered, then closed", r)
    with mg.Client(m.port) as c:
        r1 = c.get("/close", HOST)
        r2 = c.get("/", HOST)
        mg.check(r1.status == 200 and r2.status == 200,
                 "an upstream Connection: close does not close the client connection", (r1, r2))
    with mg.Client(m.port) as c:
        mg.check(c.get("/", HOST).status == 200 and not c.closed_by_peer(1.0),
                 "an idle keep-alive client connection stays open")


def check_stale_pool(m):
    # The "idle" upstream closes connections idle for 300 ms: the proxy must
    # notice, and never answer an error for a connection the upstream dropped.
    statuses = []
    with mg.Client(m.port) as c:
        for i in range(4):
            statuses.append(c.get("/", "idle.example").status)
            time.sleep(1.0)
    mg.check(statuses == [200] * 4, "requests after the upstream closed idle pooled connections succeed",
             statuses)


def per_worker_accepts(m):
    """Per-worker accepted-connection counts if meshgate exposes them, else {}."""
    counts = {}
    st, body = m.admin("/stats")
    for line in body.decode(errors="replace").splitlines():
        if "worker" in line and re.search(r"accept|downstream_cx_total", line):
            w = re.search(r"worker[_.]?(?:id)?[=_.\"]*(\d+)", line)
            v = re.search(r"(\d+)\s*$", line)
            if w and v:
                counts[w.group(1)] = counts.get(w.group(1), 0) + int(v.group(1))
    if counts:
        return counts
    for s in m.metrics():
        if "worker" in s.labels and re.search(r"accept|downstream_cx_total", s.name):
            counts[s.labels["worker"]] = counts.get(s.labels["worker"], 0) + s.value
    return counts


def check_workers(m):
    results = []

    def one(i):
        try:
            with mg.Client(m.port) as c:
                results.append(all(c.get(f"/w/{i}/{j}", HOST).status == 200 for j in range(3)))
        except (OSError, mg.ConnectionClosed):
            results.append(False)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    mg.check(results.count(True) == 64, "64 parallel client connections all served", results.count(True))
    counts = per_worker_accepts(m)
    if len(counts) >= 2:
        mg.check(all(v > 0 for v in counts.values()), "both workers accepted connections", counts)
    else:
        mg.note("NOTE: meshgate exposes no per-worker accept counts; 'both workers accept' was checked "
                "only as 'many parallel connections succeed' (with SO_REUSEPORT the kernel spreads them)")


def main():
    mg.binary()
    a = mg.Upstream("a")
    idle = mg.Upstream("idle", idle_timeout_ms=300)
    m = mg.Mesh(yaml=[mg.service_entry("a", HOST, [a.endpoint]),
                      mg.service_entry("idle", "idle.example", [idle.endpoint])],
                workers=2, name="keepalive").start()
    check_reuse(m, a)
    check_pipelining(m)
    check_close(m)
    check_stale_pool(m)
    check_workers(m)
    mg.check(m.proc.alive(), "meshgate is still running")


mg.run(main)
