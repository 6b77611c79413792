#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 23-rotation: certificate rotation under load. Two meshgate instances share
# a root and speak mutual TLS (A dials B with auto mTLS); both issue their
# own SVIDs with a 10 s lifetime, so each rotates about every 5 s. wrk
# drives keep-alive traffic through A while a second client opens a new
# connection per request; across several rotations no request may fail,
# connections established before a rotation keep working, and new
# handshakes see the new certificate.

import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time

import mg

DURATION = 14


def se(name, host, addr, port, sa):
    return {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"hosts": [host], "location": "MESH_INTERNAL", "resolution": "STATIC",
                     "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
                     "endpoints": [{"address": addr, "ports": {"http": port},
                                    "labels": {"security.istio.io/tlsMode": "istio"},
                                    "serviceAccount": sa}]}}


def one_request(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: reviews.example\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    return data.startswith(b"HTTP/1.1 200")


def read_response(s):
    """One complete HTTP/1.1 response (content-length framed) from s."""
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(65536)
        if not d:
            return data
        data += d
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    n = int(m.group(1)) if m else 0
    while len(body) < n:
        d = s.recv(65536)
        if not d:
            break
        body += d
    return head + b"\r\n\r\n" + body


def server_cert_serial(port, root, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(root)
    ctx.load_cert_chain(cert, key)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            return s.getpeercert().get("serialNumber")


def test():
    mg.need("wrk")
    up = mg.Upstream("rot-app")
    ttl = {"ca": {"workload_cert_ttl": "10s"}}
    b = mg.Mesh(yaml=[mg.service_entry("app", ["reviews.example"], endpoints=[up.endpoint])],
                listeners={"inbound": {"protocol": "http", "role": "inbound", "tls": "istio_mutual"}},
                ini={"appliance": {"service_account": "reviews"}, **ttl}, name="rot-b")
    b.start()
    b_port = b.listeners["inbound"]["port"]
    a = mg.Mesh(yaml=[se("reviews", "reviews.example", "127.0.0.1", b_port, "reviews")],
                listeners={"outbound": {"protocol": "http"}},
                ini={"appliance": {"service_account": "productpage"}, **ttl}, name="rot-a")
    ca_dir = a.dir / "state" / "ca"
    ca_dir.mkdir(parents=True)
    for f in ("root-cert.pem", "root-key.pem"):
        shutil.copy(b.dir / "state" / "ca" / f, ca_dir / f)
        os.chmod(ca_dir / f, 0o600)
    a.start()
    a_port = a.listeners["outbound"]["port"]
    root = b.dir / "state" / "ca" / "root-cert.pem"
    work = mg.tmpdir("rot")
    r = subprocess.run([mg.binary(), "ca", "issue", "--state-dir", str(b.dir / "state"), "--ns", "t",
                        "--sa", "probe", "--out", str(work / "probe")], capture_output=True)
    mg.check(r.returncode == 0, "a probe SVID", r.stderr)
    serial0 = server_cert_serial(b_port, root, work / "probe-chain.pem", work / "probe-key.pem")

    # a keep-alive connection opened before any rotation
    early = socket.create_connection(("127.0.0.1", a_port), timeout=10)
    early.sendall(b"GET /echo HTTP/1.1\r\nHost: reviews.example\r\n\r\n")
    first = read_response(early)
    mg.check(first.startswith(b"HTTP/1.1 200"), "a keep-alive connection before the rotations", first[:40])

    results = {"ok": 0, "fail": 0}
    stop = threading.Event()

    def new_conns():
        while not stop.is_set():
            try:
                ok = one_request(a_port)
            except OSError:
                ok = False
            results["ok" if ok else "fail"] += 1
            time.sleep(0.01)

    t = threading.Thread(target=new_conns, daemon=True)
    t.start()
    w = subprocess.run(["wrk", "-t", "2", "-c", "8", "-d", f"{DURATION}s", "-H",
                        "Host: reviews.example", f"http://127.0.0.1:{a_port}/echo"],
                       capture_output=True, timeout=DURATION + 60)
    stop.set()
    t.join(15)
    out = w.stdout.decode()
    total = re.search(r"(\d+) requests in", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockerr = re.search(r"Socket errors: (.*)", out)
    mg.check(total and int(total.group(1)) > 1000, "wrk pushed traffic through A and B",
             total.group(1) if total else out[-300:])
    mg.check(not bad and not sockerr, "wrk: no failed request across the rotations",
             (bad.group(0) if bad else "", sockerr.group(0) if sockerr else ""))
    mg.check(results["fail"] == 0 and results["ok"] > 100,
             "a new connection per request: none failed", results)
    ra, rb = a.stat("identity.rotations"), b.stat("identity.rotations")
    mg.check(ra and rb and int(ra) >= 2 and int(rb) >= 2, "both instances rotated at least twice",
             (ra, rb))
    early.sendall(b"GET /echo HTTP/1.1\r\nHost: reviews.example\r\n\r\n")
    got = read_response(early)
    mg.check(got.startswith(b"HTTP/1.1 200"),
             "a client connection from before the rotations still works", got[:60])
    early.close()
    serial1 = server_cert_serial(b_port, root, work / "probe-chain.pem", work / "probe-key.pem")
    mg.check(serial0 and serial1 and serial0 != serial1,
             "new handshakes get the rotated certificate", (serial0, serial1))
    mg.check("rotation_errors: 0" in (b.admin("/stats")[1].decode()), "no rotation errors")
    a.stop()
    b.stop()


mg.run(test)
