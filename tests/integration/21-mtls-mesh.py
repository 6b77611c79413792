#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 21-mtls-mesh: two meshgate instances sharing one root. A is the client
# side: its ServiceEntry endpoint is labelled security.istio.io/tlsMode=istio,
# so it dials B with Istio's auto mTLS (ISTIO_MUTUAL, SNI
# outbound_.80_._.<host>, ALPN istio-http/1.1) and checks that B presents the
# identity the endpoint runs as. B's inbound listener accepts only mesh
# SVIDs and tells its upstream who called (x-forwarded-client-cert). A wrong
# expected identity fails the connection (503 UF), and B refuses plaintext.
# The same over a TCP listener.

import json
import os
import shutil
import socket
import subprocess

import mg


def se(name, host, addr, port, sa, protocol="HTTP"):
    return {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"hosts": [host], "location": "MESH_INTERNAL", "resolution": "STATIC",
                     "ports": [{"number": 80, "name": "http" if protocol == "HTTP" else "tcp",
                                "protocol": protocol}],
                     "endpoints": [{"address": addr,
                                    "ports": {"http" if protocol == "HTTP" else "tcp": port},
                                    "labels": {"security.istio.io/tlsMode": "istio"},
                                    "serviceAccount": sa}]}}


def dr(name, host, tls):
    return {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"host": host, "trafficPolicy": {"tls": tls}}}


def plain_se(name, host, addr, port):
    return {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"hosts": [host], "location": "MESH_INTERNAL", "resolution": "STATIC",
                     "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}],
                     "endpoints": [{"address": addr, "ports": {"http": port}}]}}


def get(port, host, path="/echo"):
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    head, _, body = data.partition(b"\r\n\r\n")
    return (int(head.split()[1]) if head else 0), head.decode(errors="replace"), body


def test():
    up = mg.Upstream("mtls-app")
    # B: the server side, its inbound listener takes mesh mTLS only
    b = mg.Mesh(yaml=[mg.service_entry("app", ["reviews.example", "explicit.example",
                                               "disabled.example"], endpoints=[up.endpoint])],
                listeners={"inbound": {"protocol": "http", "role": "inbound",
                                       "tls": "istio_mutual"},
                           "inbound_tcp": {"protocol": "tcp", "role": "inbound",
                                           "tls": "istio_mutual",
                                           "destination": f"127.0.0.1:{up.port}"}},
                ini={"appliance": {"service_account": "reviews"}, "ca": {"port": 0}}, name="mg-b")
    b.start()
    b_port = b.listeners["inbound"]["port"]
    b_tcp = b.listeners["inbound_tcp"]["port"]
    # A: the client side, sharing B's root (self-signed layout copied)
    a_dir_state = None
    a = mg.Mesh(yaml=[se("reviews", "reviews.example", "127.0.0.1", b_port, "reviews"),
                      se("wrong", "wrong.example", "127.0.0.1", b_port, "ratings"),
                      se("rawtcp", "tcp.example", "127.0.0.1", b_tcp, "reviews", protocol="TCP"),
                      # explicit: no labels, a DestinationRule asks for ISTIO_MUTUAL
                      plain_se("explicit", "explicit.example", "127.0.0.1", b_port),
                      dr("explicit", "explicit.example",
                         {"mode": "ISTIO_MUTUAL",
                          "subjectAltNames": ["spiffe://cluster.local/ns/default/sa/reviews"]}),
                      # labelled for auto mTLS, but a DestinationRule says DISABLE
                      se("disabled", "disabled.example", "127.0.0.1", b_port, "reviews"),
                      dr("disabled", "disabled.example", {"mode": "DISABLE"})],
                listeners={"outbound": {"protocol": "http"},
                           "tcp_out": {"protocol": "tcp", "destination": "tcp.example:80"}},
                ini={"appliance": {"service_account": "productpage"}, "ca": {"port": 0}},
                name="mg-a")
    a_dir_state = a.dir / "state" / "ca"
    a_dir_state.mkdir(parents=True)
    os.chmod(a.dir / "state", 0o700)
    os.chmod(a_dir_state, 0o700)
    for f in ("root-cert.pem", "root-key.pem"):
        shutil.copy(b.dir / "state" / "ca" / f, a_dir_state / f)
        os.chmod(a_dir_state / f, 0o600)
    a.start()
    a_port = a.listeners["outbound"]["port"]

    st, head, body = get(a_port, "reviews.example")
    echo = json.loads(body) if st == 200 else {}
    mg.check(st == 200, "A -> B over mutual TLS: 200", head[:200])
    xfcc = [v for k, v in echo.get("headers", []) if k.lower() == "x-forwarded-client-cert"]
    mg.check(len(xfcc) == 1 and "URI=spiffe://cluster.local/ns/default/sa/productpage" in xfcc[0]
             and "By=spiffe://cluster.local/ns/default/sa/reviews" in xfcc[0],
             "B saw A's identity and named its own (x-forwarded-client-cert)", xfcc)
    ok = all(get(a_port, "reviews.example")[0] == 200 for _ in range(20))
    mg.check(ok, "20 more requests through pooled mTLS connections")

    st, head, body = get(a_port, "wrong.example")
    mg.check(st == 503 and mg.wait_for(lambda: '"wrong.example"' in a.access_log() and
                                       "UF" in a.access_log().splitlines()[-1], 5),
             "A refuses B when B is not the identity the endpoint should run as (503 UF)",
             (st, a.access_log().splitlines()[-1:]))
    mg.check("not one the destination may have" in a.stderr(),
             "the refusal is logged with the reason")

    st, head, body = get(b_port, "reviews.example")
    mg.check(st == 0, "B's inbound listener refuses plaintext", head[:100])
    st, head, body = get(a_port, "explicit.example")
    mg.check(st == 200, "DestinationRule ISTIO_MUTUAL with subjectAltNames: 200", head[:120])
    st, head, body = get(a_port, "disabled.example")
    mg.check(st == 503, "DestinationRule DISABLE overrides auto mTLS: B refuses the plaintext (503)",
             head[:120])

    # TCP over mTLS: A's tcp listener -> B's tcp inbound -> the app, as raw bytes
    with socket.create_connection(("127.0.0.1", a.listeners["tcp_out"]["port"]), timeout=15) as s:
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    mg.check(data.startswith(b"HTTP/1.1 200"), "TCP through A and B with mutual TLS", data[:80])

    st, body = a.admin("/config_dump")
    dump = json.loads(body)
    cl = [c for c in dump["clusters"] if c["name"] == "outbound|80||reviews.example"]
    tls = cl[0].get("tls", {}) if cl else {}
    mg.check(tls.get("mode") == "ISTIO_MUTUAL" and tls.get("sni") == "outbound_.80_._.reviews.example"
             and tls.get("subject_alt_names") == ["spiffe://cluster.local/ns/default/sa/reviews"],
             "A's cluster: auto mTLS with Istio's SNI and the expected identity", tls)
    a.stop()
    b.stop()


mg.run(test)
