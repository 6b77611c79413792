#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 11-routing: HTTP routing on the outbound listener: the Host header picks a
# VirtualService or ServiceEntry host (case-insensitive, port stripped), URI
# exact/prefix matches pick the route, weights split traffic 80/20, and the
# proxy adds x-forwarded-*, x-request-id and x-envoy-upstream-service-time
# while dropping hop-by-hop headers.

import re

import mg

WEIGHT_REQUESTS = 1000


def config(ups):
    se = mg.service_entry
    return [
        se("ratings", "ratings.example", [ups["ratings"].endpoint]),
        se("reviews", "reviews.example", [ups["reviews-v1"].endpoint]),
        se("reviews-v2", "reviews-v2.example", [ups["reviews-v2"].endpoint]),
        # A ServiceEntry whose port (9080) differs from its endpoint's port.
        se("details", "details.example", [ups["details"].endpoint], port=9080),
        mg.virtual_service("reviews", "reviews.example", [
            mg.http_route([mg.dest("reviews-v2.example")], exact="/v2only"),
            mg.http_route([mg.dest("reviews.example", 80, port=80),
                           mg.dest("reviews-v2.example", 20)], prefix="/api", timeout="5s"),
            mg.http_route([mg.dest("reviews.example")]),
        ]),
        # A host known only to a VirtualService, routed to a registered one.
        mg.virtual_service("bookinfo", "bookinfo.example", [
            mg.http_route([mg.dest("details.example", port=9080)], prefix="/details"),
            mg.http_route([mg.dest("ratings.example")], prefix="/"),
        ]),
    ]


def routed_to(port, target, host, headers=()):
    r = mg.get(port, target, host, headers)
    return r.status, r.header("x-upstream-name")


def check_hosts(m):
    cases = [
        ("/", "ratings.example", "ratings", "ServiceEntry host"),
        ("/", "RATINGS.Example", "ratings", "host match is case-insensitive"),
        ("/", "ratings.example:80", "ratings", "port in Host is stripped"),
        ("/", "ratings.example:9999", "ratings", "any port in Host is stripped"),
        ("/", "details.example:9080", "details", "ServiceEntry with port != endpoint port"),
        ("/x", "reviews.example", "reviews-v1", "VirtualService default route"),
        ("/v2only", "reviews.example", "reviews-v2", "exact URI match"),
        ("/v2only/more", "reviews.example", "reviews-v1", "exact match is not a prefix match"),
        ("/v2only?q=1", "reviews.example", "reviews-v2", "exact match ignores the query"),
        ("/details/1", "bookinfo.example", "details", "VirtualService-only host, prefix route"),
        ("/other", "bookinfo.example", "ratings", "VirtualService-only host, catch-all prefix /"),
    ]
    for target, host, want, what in cases:
        st, name = routed_to(m.port, target, host)
        mg.check(st == 200 and name == want, f"{what}: {host}{target} -> {want}", f"{st} {name}")


def check_absolute_form(m):
    r = mg.get(m.port, "http://ratings.example/echo", "ratings.example")
    mg.check(r.status == 200 and r.header("x-upstream-name") == "ratings",
             "absolute-form request-target is routed by its authority", r)
    if r.status == 200:
        e = r.json()
        mg.check(e["path"] == "/echo", "absolute-form is forwarded in origin-form", e["target"])
    res = mg.curl("http://ratings.example/", "-x", f"http://127.0.0.1:{m.port}")
    mg.check(res.status == 200 and res.body == b"ratings\n", "curl -x (explicit proxy) works",
             f"{res.status} {res.body!r} {res.stderr}")
    res = mg.curl(f"http://127.0.0.1:{m.port}/", "-H", "Host: reviews.example")
    mg.check(res.status == 200 and res.header("x-upstream-name") == "reviews-v1",
             "curl with a Host header is routed", f"{res.status} {res.stderr}")


def check_weights(m):
    counts = {}
    with mg.Client(m.port) as c:
        for i in range(WEIGHT_REQUESTS):
            r = c.get(f"/api/item/{i}", "reviews.example")
            key = r.header("x-upstream-name") if r.status == 200 else f"status {r.status}"
            counts[key] = counts.get(key, 0) + 1
    mg.note(f"weighted split over {WEIGHT_REQUESTS} requests: {counts}")
    v1 = 100.0 * counts.get("reviews-v1", 0) / WEIGHT_REQUESTS
    v2 = 100.0 * counts.get("reviews-v2", 0) / WEIGHT_REQUESTS
    mg.check(counts.get("reviews-v1", 0) + counts.get("reviews-v2", 0) == WEIGHT_REQUESTS,
             "every weighted request answered 200 by v1 or v2", counts)
    mg.check_between(v1, 75, 85, "weight 80 gets 80 +-5 % of requests")
    mg.check_between(v2, 15, 25, "weight 20 gets 20 +-5 % of requests")


def check_headers(m):
    r = mg.get(m.port, "/echo", "reviews.example",
               [("X-Dup", "1"), ("X-Dup", "2"), ("Connection", "X-Drop-Me"), ("X-Drop-Me", "1"),
                ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"),
                ("User-Agent", "mg-test")])
    if not mg.check(r.status == 200, "GET /echo through the proxy", r):
        return
    e = r.json()
    seen = {}
    for k, v in e["headers"]:
        seen.setdefault(k.lower(), []).append(v)
    mg.check(seen.get("host", [""])[0].lower() == "reviews.example",
             "upstream sees the original Host", seen.get("host"))
    mg.check("127.0.0.1" in ",".join(seen.get("x-forwarded-for", [])),
             "x-forwarded-for carries the client address", seen.get("x-forwarded-for"))
    mg.check(seen.get("x-forwarded-proto") == ["http"], "x-forwarded-proto: http",
             seen.get("x-forwarded-proto"))
    rid = seen.get("x-request-id", [""])
    mg.check(len(rid) == 1 and len(rid[0]) >= 16, "x-request-id is generated", rid)
    mg.check(", ".join(seen.get("x-dup", [])) == "1, 2", "repeated end-to-end headers keep their order",
             seen.get("x-dup"))
    mg.check(seen.get("user-agent") == ["mg-test"], "end-to-end headers are forwarded unchanged")
    for hop in ("x-drop-me", "keep-alive", "proxy-connection"):
        mg.check(hop not in seen, f"hop-by-hop header {hop} is not forwarded", seen.get(hop))
    ust = r.header("x-envoy-upstream-service-time")
    mg.check(ust is not None and re.fullmatch(r"\d+", ust), "response has x-envoy-upstream-service-time",
             ust)
    mg.check(r.header("x-upstream-name") == "reviews-v1", "upstream response headers are relayed")

    r2 = mg.get(m.port, "/echo", "reviews.example", [("X-Request-Id", "fixed-id-123")])
    seen2 = [v for k, v in r2.json()["headers"] if k.lower() == "x-request-id"]
    mg.check(seen2 == ["fixed-id-123"], "an incoming x-request-id is kept", seen2)
    r3 = mg.get(m.port, "/echo", "reviews.example")
    rid3 = [v for k, v in r3.json()["headers"] if k.lower() == "x-request-id"]
    mg.check(rid3 != rid, "generated x-request-ids differ per request", (rid, rid3))


def check_actions():
    """VirtualService redirect and directResponse answer without an upstream."""
    up = mg.Upstream("act")
    vs = mg.virtual_service("act", "act.example", [
        {"match": [{"uri": {"prefix": "/moved"}}],
         "redirect": {"uri": "/new/place", "authority": "other.example", "scheme": "https",
                      "redirectCode": 308}},
        {"match": [{"uri": {"prefix": "/port"}}],
         "redirect": {"uri": "/p", "derivePort": "FROM_REQUEST_PORT"}},
        {"match": [{"uri": {"exact": "/teapot"}}],
         "directResponse": {"status": 418, "body": {"string": "short and stout"}}},
        {"match": [{"uri": {"exact": "/empty"}}], "directResponse": {"status": 204}},
        {"match": [{"uri": {"prefix": "/api/v1/"}}], "rewrite": {"uri": "/echo/"},
         "route": [mg.dest("act.example")]},
        {"match": [{"uri": {"exact": "/whole"}}], "rewrite": {"uri": "/echo", "authority": "inside.example"},
         "route": [mg.dest("act.example")]},
        {"match": [{"uri": {"prefix": "/hdr"}}],
         "headers": {"request": {"set": {"x-set": "new"}, "add": {"x-add": "added"},
                                 "remove": ["x-drop"]},
                     "response": {"set": {"x-resp": "r1"}, "remove": ["x-upstream-name"]}},
         "route": [{"destination": {"host": "act.example"},
                    "headers": {"request": {"add": {"x-dest": "d1"}}}}]},
        mg.http_route([mg.dest("act.example")]),
    ])
    m = mg.Mesh(yaml=[mg.service_entry("act", ["act.example"], endpoints=[up.endpoint]), vs],
                name="routing-act").start()
    r = mg.get(m.port, "/moved/x?q=1&r=2", "act.example")
    mg.check(r.status == 308 and r.header("location") == "https://other.example/new/place?q=1&r=2",
             "redirect: scheme, authority and path replaced, query kept, code 308",
             (r.status, r.header("location")))
    r = mg.get(m.port, "/port/y", "act.example:8080")
    mg.check(r.status == 301 and r.header("location") == "http://act.example:8080/p",
             "redirect: default 301, derivePort FROM_REQUEST_PORT", (r.status, r.header("location")))
    r = mg.get(m.port, "/teapot", "act.example")
    mg.check(r.status == 418 and r.body == b"short and stout" and
             r.header("content-type") == "text/plain", "directResponse: status and body",
             (r.status, r.body))
    r = mg.get(m.port, "/empty", "act.example")
    mg.check(r.status == 204 and r.body == b"" and r.header("content-length") is None,
             "directResponse 204: no body, no Content-Length", (r.status, r.body))
    r = mg.get(m.port, "/echo", "act.example")
    mg.check(r.status == 200 and r.json()["name"] == "act", "other routes still forward")
    mg.check(up.stats()["requests"] == 1, "redirects and direct responses never reach the upstream",
             up.stats())
    r = mg.get(m.port, "/api/v1/items?x=1", "act.example")
    seen = up.log()[-1] if r.status == 200 and up.log() else {}
    mg.check(seen.get("target") == "/echo/items?x=1",
             "rewrite: the matched prefix is replaced, the query kept", (r.status, seen.get("target")))
    r = mg.get(m.port, "/whole?y=2", "act.example")
    j = r.json() if r.status == 200 else {}
    host = [v for k, v in j.get("headers", []) if k.lower() == "host"]
    mg.check(j.get("target") == "/echo?y=2" and host == ["inside.example"],
             "rewrite: an exact match's whole path and the authority", (j.get("target"), host))
    r = mg.get(m.port, "/hdr", "act.example", [("X-Set", "old"), ("X-Drop", "1"), ("X-Keep", "k")])
    seen = {}
    for k, v in (up.log()[-1].get("headers", []) if r.status == 200 else []):
        seen.setdefault(k.lower(), []).append(v)
    mg.check(seen.get("x-set") == ["new"] and seen.get("x-add") == ["added"] and
             "x-drop" not in seen and seen.get("x-keep") == ["k"] and seen.get("x-dest") == ["d1"],
             "headers: request set/add/remove at route and destination level", seen)
    mg.check(r.header("x-resp") == "r1" and r.header("x-upstream-name") is None,
             "headers: response set and remove", (r.header("x-resp"), r.header("x-upstream-name")))
    mg.check(mg.wait_for(lambda: '"GET /api/v1/items?x=1 HTTP/1.1"' in m.access_log(), 5),
             "the access log shows the path the client sent", m.access_log()[-300:])
    m.stop()


def check_ipv6():
    """IPv6 end to end: a listener on ::1, a ServiceEntry endpoint on ::1."""
    up = mg.Upstream("v6", host="::1")
    m = mg.Mesh(yaml=[mg.service_entry("v6", ["v6.example"], endpoints=[up.endpoint])],
                listeners={"out6": {"address": "::1", "protocol": "http", "role": "outbound"}},
                name="routing6").start()
    with mg.Client(m.port, host="::1") as c:
        r = c.get("/echo", "v6.example")
        r2 = c.get("/echo", "v6.example")
    xff = [v for k, v in r.json()["headers"] if k.lower() == "x-forwarded-for"] if r.status == 200 else []
    mg.check(r.status == 200 and r2.status == 200 and r.json()["name"] == "v6",
             "IPv6 listener to an IPv6 endpoint, keep-alive", (r.status, r2.status))
    mg.check(xff == ["::1"], "x-forwarded-for carries the IPv6 client", xff)
    want = f'"[::1]:{up.port}" outbound|80||v6.example'
    mg.check(mg.wait_for(lambda: want in m.access_log(), 5),
             "access log: the IPv6 upstream host", m.access_log()[-300:])
    m.stop()


def main():
    mg.binary()
    mg.need("curl")
    ups = {n: mg.Upstream(n) for n in ("ratings", "reviews-v1", "reviews-v2", "details")}
    m = mg.Mesh(yaml=config(ups), name="routing").start()
    check_hosts(m)
    check_absolute_form(m)
    check_headers(m)
    check_weights(m)
    mg.check(m.proc.alive(), "meshgate is still running")
    check_ipv6()
    check_actions()


mg.run(main)
