#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 28-handshake-flood: TLS handshake flood shedding ([limits]
# max_pending_tls_handshakes and tls_handshake_rate, per worker). Over the
# pending cap a new TLS connection is closed at once and counted
# (downstream_cx_tls_handshake_shed) while established connections keep
# working; handshakes that end (done, failed, or abandoned mid-way) free
# their place. Over the rate, the excess of a burst is shed and the bucket
# refills with time.

import socket
import ssl
import subprocess
import time

import mg


def make_cert(work):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=flood.test",
                    "-addext", "subjectAltName=DNS:flood.test", "-days", "1",
                    "-keyout", str(work / "k.pem"), "-out", str(work / "c.pem")],
                   check=True, capture_output=True)
    return work / "c.pem", work / "k.pem"


def tls_get(port, ctx, timeout=5):
    """A full handshake and GET /echo; True on a 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname="flood.test") as s:
                s.sendall(b"GET /echo HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
                return s.recv(100).startswith(b"HTTP/1.1 200")
    except (OSError, ssl.SSLError):
        return False


def closed_at_once(port):
    """A new connection that the proxy closes without a byte within 3 s."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        try:
            return s.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True


def test():
    up = mg.Upstream("flood-app")
    work = mg.tmpdir("flood")
    cert, key = make_cert(work)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cert)
    yaml = [mg.service_entry("app", ["app.test"], endpoints=[up.endpoint])]
    lis = {"tls": {"protocol": "http", "tls": "simple", "tls_cert": str(cert), "tls_key": str(key)}}

    # ---- the pending cap
    m = mg.Mesh(yaml=yaml, listeners=lis, workers=1,
                ini={"limits": {"max_pending_tls_handshakes": 4}})
    m.start()
    port = m.listeners["tls"]["port"]
    mg.check(tls_get(port, ctx), "a TLS request works")
    keep = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                           server_hostname="flood.test")
    idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(4)]
    base = m.stat("downstream_cx_total")
    mg.check(mg.wait_for(lambda: m.stat("downstream_cx_total") >= base, 5) and
             mg.wait_for(lambda: m.stat("downstream_cx_active") >= 5, 5),
             "four connections wait in their handshake", m.stat("downstream_cx_active"))
    shed0 = m.stat("downstream_cx_tls_handshake_shed")
    mg.check(closed_at_once(port), "over the cap a new TLS connection is closed at once")
    mg.check(m.stat("downstream_cx_tls_handshake_shed") == shed0 + 1, "... and counted",
             m.stat("downstream_cx_tls_handshake_shed"))
    keep.sendall(b"GET /echo HTTP/1.1\r\nHost: app.test\r\n\r\n")
    mg.check(keep.recv(100).startswith(b"HTTP/1.1 200"),
             "an established TLS connection keeps working during the flood")
    # abandoned handshakes free their places: two with a partial hello, two bare
    for s in idle[:2]:
        s.sendall(b"\x16\x03\x01\x00\x40\x01")
    for s in idle:
        s.close()
    mg.check(mg.wait_for(lambda: m.stat("downstream_cx_active") <= 1, 5),
             "the abandoned connections are gone", m.stat("downstream_cx_active"))
    ok = sum(tls_get(port, ctx) for _ in range(6))
    mg.check(ok == 6, "with their places free, new handshakes are admitted again", ok)
    keep.close()
    mg.check(m.stop() == 0, "meshgate exits 0")

    # ---- the rate: 3 per second, bursts of 3
    m = mg.Mesh(yaml=yaml, listeners=lis, workers=1,
                ini={"limits": {"max_pending_tls_handshakes": 0, "tls_handshake_rate": 3}})
    m.start()
    port = m.listeners["tls"]["port"]
    shed0 = m.stat("downstream_cx_tls_handshake_shed")
    time.sleep(1.2)     # the readiness probe's connection took a token: let it refill
    t0 = time.monotonic()
    ok = sum(tls_get(port, ctx) for _ in range(12))
    took = time.monotonic() - t0
    shed = m.stat("downstream_cx_tls_handshake_shed") - shed0
    mg.check(3 <= ok <= 3 + int(took * 3) + 1 and shed == 12 - ok,
             "a burst over the rate: the excess is shed",
             f"{ok} admitted, {shed} shed in {took:.2f}s")
    time.sleep(1.2)
    mg.check(tls_get(port, ctx), "after a second the bucket has refilled")
    mg.check(m.stop() == 0, "meshgate exits 0")


if __name__ == "__main__":
    mg.run(test)
