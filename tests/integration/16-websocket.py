#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 16-websocket: an HTTP/1.1 Upgrade to WebSocket is tunnelled to the
# upstream: handshake, echo of text/binary/fragmented frames, ping/pong,
# close, and the tunnel outlives the route timeout. An Upgrade the upstream
# declines stays plain HTTP, and an h2c upgrade is never relayed.

import base64
import os
import time

import mg

HOST = "ws.example"
MASK = b"\x11\x22\x33\x44"


def handshake(c, key):
    return c.get("/ws", HOST, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                               ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")])


def exchange(c, frames, want, what):
    """Send frames, read len(want) frames back; check they equal want."""
    try:
        c.send(b"".join(frames))
    except OSError as e:
        return mg.check(False, what, e)
    got = [mg.ws_read(c) for _ in want]
    return mg.check(got == want, what, [g and (g[0], g[1], g[2][:40]) for g in got])


def check_echo(m):
    key = base64.b64encode(os.urandom(16)).decode()
    with mg.Client(m.port, timeout=10) as c:
        r = handshake(c, key)
        want = mg.ws_accept(key)
        if not mg.check(r.status == 101, "Upgrade: websocket gets 101", r):
            return
        mg.check(r.header("sec-websocket-accept") == want, "Sec-WebSocket-Accept is the upstream's",
                 r.header("sec-websocket-accept"))
        mg.check("websocket" in (r.header("upgrade") or "").lower(), "101 carries Upgrade: websocket")

        big = os.urandom(100 * 1024)
        steps = [
            ("text frame echoed", [mg.ws_frame(1, b"hello", mask_key=MASK)], [(True, 1, b"hello")]),
            ("100 KiB binary frame echoed", [mg.ws_frame(2, big, mask_key=MASK)], [(True, 2, big)]),
            ("fragmented message echoed",
             [mg.ws_frame(1, b"frag", fin=False, mask_key=MASK), mg.ws_frame(0, b"ment", mask_key=MASK)],
             [(False, 1, b"frag"), (True, 0, b"ment")]),
            ("ping answered with pong", [mg.ws_frame(9, b"ping!", mask_key=MASK)], [(True, 10, b"ping!")]),
            ("SLEEP", None, None),
            ("tunnel outlives the route timeout", [mg.ws_frame(1, b"still there?", mask_key=MASK)],
             [(True, 1, b"still there?")]),
            ("close frame echoed", [mg.ws_frame(8, b"\x03\xe8bye", mask_key=MASK)], [(True, 8, b"\x03\xe8bye")]),
        ]
        for what, frames, want in steps:
            if what == "SLEEP":
                time.sleep(1.5)  # longer than the route's 1 s timeout
                continue
            if not exchange(c, frames, want, what):
                return
        mg.check(c.closed_by_peer(5), "connection closed after the close handshake")


def check_many(m):
    clients = []
    for i in range(20):
        c = mg.Client(m.port)
        clients.append((c, handshake(c, base64.b64encode(os.urandom(16)).decode())))
    bad = []
    for i, (c, r) in enumerate(clients):
        got = None
        if r.status == 101:
            c.send(mg.ws_frame(1, b"n%d" % i, mask_key=MASK))
            got = mg.ws_read(c)
        if got != (True, 1, b"n%d" % i):
            bad.append((i, r, got))
        c.close()
    mg.check(not bad, "20 concurrent WebSocket tunnels each echo their own data", bad)


def check_declined(m):
    with mg.Client(m.port) as c:
        r = c.get("/echo", HOST, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                   ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                                   ("Sec-WebSocket-Version", "13")])
        mg.check(r.status == 200, "an Upgrade the upstream declines gets its 200", r)
        r = c.get("/", HOST)
        mg.check(r.status == 200, "and the connection stays plain HTTP", r)
    r = mg.send_raw(m.port, f"GET / HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: h2c\r\n"
                    "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                    "Connection: close\r\n\r\n".encode(), timeout=5)
    mg.check(r.status is not None and r.status != 101, "an h2c upgrade is never relayed (no 101)", r)


def main():
    mg.binary()
    a = mg.Upstream("a")
    m = mg.Mesh(yaml=[mg.service_entry("ws", HOST, [a.endpoint]),
                      mg.virtual_service("ws", HOST, [mg.http_route([mg.dest(HOST)], timeout="1s")])],
                name="websocket").start()
    check_echo(m)
    check_many(m)
    check_declined(m)
    mg.check(m.proc.alive(), "meshgate is still running")


mg.run(main)
