#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 13-smuggling: raw request bytes that a strict HTTP/1.1 proxy must refuse
# (request smuggling shapes, malformed heads, limits), each on its own
# connection. For a refusal: the expected status, the response complete, the
# connection closed, and nothing forwarded. Every payload carries a second
# request for /smuggled, which must never reach the upstream. The shapes come
# from /work/shared/reference/hardening.md section 2.1 and h1.h's contract.

import mg

HOST = b"Host: a.example"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: a.example\r\n\r\n"
TE_BODY = b"0\r\n\r\n" + SMUGGLED
REJECT_TE = {400, 501}       # a transfer coding that is malformed or not supported
CLOSE = {None}               # a plain close without an answer is also acceptable


class Case:
    def __init__(self, name, data, allowed, forwarded=0, sequence=None):
        self.name = name
        self.data = data
        self.allowed = allowed if isinstance(allowed, set) else {allowed}  # first status
        self.forwarded = forwarded   # upstream requests it may cause; None: not checked
        self.sequence = sequence     # every status, in order, then a close


def req(fields, body=b"", method=b"POST", target=b"/sink", version=b"HTTP/1.1"):
    head = method + b" " + target + b" " + version + b"\r\n"
    return head + b"".join(f + b"\r\n" for f in fields) + b"\r\n" + body


def framing_cases():
    c = [
        Case("CL.TE", req([HOST, b"Content-Length: 6", b"Transfer-Encoding: chunked"], b"0\r\n\r\nG"), 400),
        Case("TE.CL", req([HOST, b"Content-Length: 3", b"Transfer-Encoding: chunked"],
                          b"8\r\nSMUGGLED\r\n0\r\n\r\n"), 400),
        Case("TE then CL with a smuggled request",
             req([HOST, b"Transfer-Encoding: chunked", b"Content-Length: %d" % len(TE_BODY)], TE_BODY), 400),
        Case("two different Content-Length", req([HOST, b"Content-Length: 5", b"Content-Length: 6"],
                                                 b"hello!"), 400),
        Case("Content-Length list 5, 6", req([HOST, b"Content-Length: 5, 6"], b"hello!"), 400),
        Case("Content-Length list 5, 5", req([HOST, b"Content-Length: 5, 5"], b"hello"), 400),
        Case("two equal Content-Length", req([HOST, b"Content-Length: 5", b"Content-Length: 5"], b"hello"), 400),
        Case("TE on HTTP/1.0", req([HOST, b"Transfer-Encoding: chunked"], TE_BODY, version=b"HTTP/1.0"), 400),
    ]
    for v in (b"+5", b"-1", b"0x5", b"05", b"1_0", b"5 5", b"", b"18446744073709551617", b"-0", b"5.0"):
        c.append(Case(f"Content-Length: {v.decode()!r}", req([HOST, b"Content-Length: " + v], b"hello"), 400))
    for v in (b"gzip", b"foo"):
        c.append(Case(f"unknown transfer coding {v.decode()}", req([HOST, b"Transfer-Encoding: " + v], TE_BODY), 501))
    for v in (b"xchunked", b"chunked, identity", b"identity", b",chunked", b'"chunked"', b"chunk",
              b"chunked;x=y", b"\x0bchunked", b"chunked, chunked", b"chunked, gzip", b"gzip, chunked",
              b"ch\x96nked", b"chunked, gzip, chunked"):
        c.append(Case(f"Transfer-Encoding: {v!r}", req([HOST, b"Transfer-Encoding: " + v], TE_BODY), REJECT_TE))
    c += [
        Case("Transfer-Encoding: chunked<CR>", req([HOST, b"Transfer-Encoding: chunked\r"], TE_BODY), 400),
        Case("two TE fields chunked, x", req([HOST, b"Transfer-Encoding: chunked", b"Transfer-Encoding: x"],
                                           TE_BODY), REJECT_TE),
        Case("two TE fields chunked, chunked", req([HOST, b"Transfer-Encoding: chunked",
                                                    b"Transfer-Encoding: chunked"], TE_BODY), REJECT_TE),
        Case("'Transfer-Encoding : chunked'", req([HOST, b"Transfer-Encoding : chunked"], TE_BODY), 400),
        Case("' Transfer-Encoding' as first field line", req([b" Transfer-Encoding: chunked", HOST], TE_BODY), 400),
        Case("Transfer_Encoding (underscore)", req([HOST, b"Transfer_Encoding: chunked"], TE_BODY), 400),
        Case("Transf\\x82r-Encoding", req([HOST, b"Transf\x82r-Encoding: chunked"], TE_BODY), 400),
        Case("bare LF before Transfer-Encoding", req([HOST, b"X: X\nTransfer-Encoding: chunked"], TE_BODY), 400),
        Case("obs-fold in a value", req([HOST, b"X-A: b", b" c"], method=b"GET", target=b"/"), 400),
        Case("obs-fold of Transfer-Encoding", req([HOST, b"Transfer-Encoding:", b" chunked"], TE_BODY), 400),
    ]
    return c


def field_cases():
    get = lambda fields, **kw: req(fields, method=b"GET", target=b"/", **kw)  # noqa: E731
    return [
        Case("bare CR in a value", get([HOST, b"X: a\rb"]), 400),
        Case("NUL in a value", get([HOST, b"X: v\x00alue"]), 400),
        Case("DEL in a field name", get([HOST, b"X\x7fY: 1"]), 400),
        Case("\\xa0 in a field name", get([HOST, b"X\xa0Y: 1"]), 400),
        Case("space inside a field name", get([HOST, b"X Y: 1"]), 400),
        Case("empty field name", get([HOST, b": x"]), 400),
        Case("field line without colon", get([HOST, b"NoColonHere"]), 400),
        Case("space before colon (Content-Length)", req([HOST, b"Content-Length : 5"], b"hello"), 400),
        Case("space before colon (Host)", get([b"Host : a.example"]), 400),
        Case("bare LF line endings", b"GET / HTTP/1.1\nHost: a.example\n\n" + SMUGGLED, 400),
        Case("missing Host on HTTP/1.1", get([b"X: 1"]), 400),
        Case("two Host fields", get([HOST, b"Host: b.example"]), 400),
        Case("two equal Host fields", get([HOST, HOST]), 400),
        Case("Host list a, b", get([b"Host: a.example, b.example"]), 400),
        Case("Host with userinfo", get([b"Host: u@a.example"]), 400),
        Case("Host with a space", get([b"Host: a.example b"]), 400),
    ]


def line_cases():
    return [
        Case("two spaces in the request line", b"GET  / HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        Case("HTTP/1.10", b"GET / HTTP/1.10\r\nHost: a.example\r\n\r\n", 400),
        Case("HTTP/1.1x", b"GET / HTTP/1.1x\r\nHost: a.example\r\n\r\n", 400),
        Case("lowercase version", b"GET / http/1.1\r\nHost: a.example\r\n\r\n", 400),
        Case("HTTP/0.9 request line", b"GET /\r\n\r\n", 400),
        Case("NUL in the method", b"G\x00ET / HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        Case("lowercase method", b"get / HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        Case("fragment in the target", b"GET /a#frag HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        Case("non-ASCII in the target", b"GET /\xff HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        Case("target without leading slash", b"GET a HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        Case("asterisk-form with GET", b"GET * HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        Case("HTTP/2.0 request line", b"GET / HTTP/2.0\r\nHost: a.example\r\n\r\n", {400, 505}),
        # the HTTP/2 preface as a connection's first bytes is prior
        # knowledge (34-h2-downstream); in the middle it is no request line
        Case("h2 preface after a request", b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"
             b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 200, forwarded=1, sequence=[200, 505]),
        Case("too many leading empty lines", b"\r\n" * 20 + b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
    ]


def limit_cases():
    many = [b"X-F%d: v" % i for i in range(100)]            # + Host = 101 fields
    big = [b"X-B%d: " % i + b"v" * 1000 for i in range(70)]  # about 70 KiB
    ok_many = [b"X-F%d: v" % i for i in range(99)]          # + Host = 100 fields
    ok_big = [b"X-B%d: " % i + b"v" * 1000 for i in range(50)]
    close = b"Connection: close"
    return [
        Case("target longer than 8 KiB", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a.example\r\n\r\n", 414),
        Case("101 header fields", req([HOST] + many, method=b"GET", target=b"/"), 431),
        Case("headers over 60 KiB", req([HOST] + big, method=b"GET", target=b"/"), 431),
        Case("control: 8000-byte target", b"GET /" + b"a" * 7999 + b" HTTP/1.1\r\nHost: a.example\r\n"
             b"Connection: close\r\n\r\n", 200, forwarded=1),
        Case("control: 100 header fields", req([HOST, close] + ok_many[1:], method=b"GET", target=b"/"),
             200, forwarded=1),
        Case("control: 50 KiB of headers", req([HOST, close] + ok_big, method=b"GET", target=b"/"),
             200, forwarded=1),
        Case("control: TRANSFER-ENCODING: CHUNKED is chunked",
             req([HOST, close, b"TRANSFER-ENCODING: CHUNKED"], b"5\r\nhello\r\n0\r\n\r\n"), 200, forwarded=1),
    ]


def chunk_cases():
    head = req([HOST, b"Transfer-Encoding: chunked"])
    bodies = [b"0x5\r\nhello\r\n0\r\n\r\n", b"+5\r\nhello\r\n0\r\n\r\n", b"-5\r\nhello\r\n0\r\n\r\n",
              b" 5\r\nhello\r\n0\r\n\r\n", b"5 \r\nhello\r\n0\r\n\r\n", b"5_\r\nhello\r\n0\r\n\r\n",
              b"\r\nhello\r\n0\r\n\r\n", b"FFFFFFFFFFFFFFFF1\r\nhello\r\n0\r\n\r\n",
              b"0" * 63 + b"5\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloXX0\r\n\r\n", b"5\r\nhello\r\n\r\n0\r\n\r\n",
              b"5;\nhello\r\n0\r\n\r\n", b"5;\rX\r\nhello\r\n0\r\n\r\n", b"5;\x00ext\r\nhello\r\n0\r\n\r\n",
              b"5 ;a=b\r\nhello\r\n0\r\n\r\n", b'5;a="x\r\ny"\r\nhello\r\n0\r\n\r\n',
              b"41;a=b\r\r" + b"X" * 0x41 + b"\r\n0\r\n\r\n", b"5\nhello\n0\n\n"]
    # The head is valid and may already be forwarded: only the body is bad.
    return [Case(f"chunked body {b[:24]!r}", head + b + SMUGGLED, {400} | CLOSE, forwarded=None)
            for b in bodies]


def other_cases():
    close = b"Connection: close"
    return [
        Case("trailer with Content-Length/Transfer-Encoding",
             req([HOST, close, b"Transfer-Encoding: chunked"],
                 b"5\r\nhello\r\n0\r\nContent-Length: 50\r\nTransfer-Encoding: chunked\r\n\r\n"),
             {200, 400}, forwarded=None),
        Case("valid request, then an invalid one in the same segment",
             b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"
             b"GET / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx" + SMUGGLED,
             200, forwarded=1, sequence=[200, 400]),
    ]


def run_case(m, up, case):
    before = up.stats()
    r = mg.send_raw(m.port, case.data, timeout=2)
    after = up.stats()
    first = r.status
    ok = first in case.allowed and (first is not None or r.closed)
    mg.check(ok, f"{case.name}: answer {sorted(case.allowed, key=str)}", r)
    if case.sequence:
        mg.check(r.statuses() == case.sequence and r.closed,
                 f"{case.name}: answers {case.sequence}, then closed", r)
    elif first is None or first >= 400:
        mg.check(r.closed, f"{case.name}: connection closed", r)
    smuggled = after["paths"].get("/smuggled", 0) - before["paths"].get("/smuggled", 0)
    mg.check(smuggled == 0, f"{case.name}: /smuggled never reaches the upstream")
    if case.forwarded is not None:
        n = after["requests"] - before["requests"]
        mg.check(n == case.forwarded, f"{case.name}: {case.forwarded} request(s) forwarded", n)
    return r


def check_body_kept(m, up):
    """A GET body is forwarded with its Content-Length (never stripped), or refused."""
    data = req([HOST, b"Connection: close", b"Content-Length: %d" % len(SMUGGLED)], SMUGGLED,
               method=b"GET", target=b"/echo")
    r = run_case(m, up, Case("GET with a body carrying a request", data, {200, 400}, forwarded=None))
    if r.status == 200:
        mg.check_eq(r.responses[0].json()["body_length"], len(SMUGGLED), "a GET body is forwarded whole")


def check_absolute_form_wins(m):
    r = mg.send_raw(m.port, b"GET http://a.example/echo HTTP/1.1\r\nHost: b.example\r\n"
                    b"Connection: close\r\n\r\n")
    if not mg.check(r.status == 200, "absolute-form with a different Host: 200", r):
        return
    resp = r.responses[0]
    mg.check(resp.header("x-upstream-name") == "a", "absolute-form authority wins over Host",
             resp.header("x-upstream-name"))
    hosts = [v for k, v in resp.json()["headers"] if k.lower() == "host"]
    mg.check(hosts == ["a.example"], "Host is rewritten to the URI authority", hosts)


def main():
    mg.binary()
    a, b = mg.Upstream("a"), mg.Upstream("b")
    m = mg.Mesh(yaml=[mg.service_entry("a", "a.example", [a.endpoint]),
                      mg.service_entry("b", "b.example", [b.endpoint])], name="smuggling").start()
    for group in (framing_cases, field_cases, line_cases, limit_cases, chunk_cases, other_cases):
        for case in group():
            run_case(m, a, case)
    check_body_kept(m, a)
    check_absolute_form_wins(m)
    mg.check(a.stats()["paths"].get("/smuggled", 0) == 0 and b.stats()["paths"].get("/smuggled", 0) == 0,
             "no /smuggled request reached any upstream")
    r = mg.get(m.port, "/", "a.example")
    mg.check(r.status == 200 and m.proc.alive(), "meshgate still serves after all of it", r)


mg.run(main)
