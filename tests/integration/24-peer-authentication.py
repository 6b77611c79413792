#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 24-peer-authentication: inbound listeners without an explicit tls follow
# PeerAuthentication as a sidecar's inbound does. With no policy the mode is
# PERMISSIVE: plaintext and mesh mTLS (TLS with an Istio ALPN) on the same
# port; TLS without an Istio ALPN is passed through untouched on a TCP
# listener and refused on an HTTP one. A mesh-wide STRICT policy in
# istio-system refuses plaintext; a namespace DISABLE overrides it; a
# workload policy's portLevelMtls wins for its port. Each change is a
# reload that closes nothing.

import json
import socket
import ssl
import subprocess
import time

import mg


def pa(name, ns, mode=None, selector=None, port_level=None):
    spec = {}
    if mode:
        spec["mtls"] = {"mode": mode}
    if selector:
        spec["selector"] = {"matchLabels": selector}
    if port_level:
        spec["portLevelMtls"] = {str(p): {"mode": m} for p, m in port_level.items()}
    return {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def plain(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
            return mg.read_all(s)
    except OSError:
        return b""


def mtls(port, root, cert, key, alpn=("istio-http/1.1",)):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(root)
    ctx.load_cert_chain(cert, key)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw) as s:
                s.sendall(b"GET /echo HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
                return mg.read_all(s)
    except (OSError, ssl.SSLError):
        return b""


def test():
    up = mg.Upstream("pa-app")
    base = [mg.service_entry("app", ["app.test"], endpoints=[up.endpoint])]
    m = mg.Mesh(yaml=base,
                listeners={"inbound": {"protocol": "http", "role": "inbound"},
                           "inbound_tcp": {"protocol": "tcp", "role": "inbound",
                                           "destination": f"127.0.0.1:{up.port}"}})
    m.start()
    port = m.listeners["inbound"]["port"]
    tport = m.listeners["inbound_tcp"]["port"]
    state = m.dir / "state"
    root = state / "ca" / "root-cert.pem"
    work = mg.tmpdir("pa")
    r = subprocess.run([mg.binary(), "ca", "issue", "--state-dir", str(state), "--ns", "default",
                        "--sa", "client", "--out", str(work / "c")], capture_output=True)
    mg.check(r.returncode == 0, "a client SVID", r.stderr)
    cert, key = work / "c-chain.pem", work / "c-key.pem"

    def modes():
        st, body = m.admin("/config_dump")
        d = json.loads(body)
        return {l["name"]: (l["tls"]["mode"], l["tls"].get("peer_authentication")) for l in d["listeners"]}

    mg.check(modes()["inbound"] == ("PERMISSIVE", "default"), "no policy: PERMISSIVE", modes())
    mg.check(plain(port).startswith(b"HTTP/1.1 200"), "PERMISSIVE: plaintext is accepted")
    got = mtls(port, root, cert, key)
    mg.check(got.startswith(b"HTTP/1.1 200") and b"URI=spiffe://cluster.local/ns/default/sa/client" in got,
             "PERMISSIVE: mesh mTLS on the same port, peer identity attached", got[:80])
    got = mtls(port, root, cert, key, alpn=("http/1.1",))
    mg.check(not got.startswith(b"HTTP/1.1 200"),
             "PERMISSIVE HTTP listener: TLS without an Istio ALPN is refused", got[:80])
    mg.check(plain(tport).startswith(b"HTTP/1.1 200"), "PERMISSIVE TCP: plaintext passes")
    mg.check(mtls(tport, root, cert, key, alpn=("istio-peer-exchange", "istio")).startswith(b"HTTP/1.1 200"),
             "PERMISSIVE TCP: mesh mTLS is terminated")

    # a keep-alive plaintext connection opened under PERMISSIVE survives the reload
    keep = socket.create_connection(("127.0.0.1", port), timeout=10)
    keep.sendall(b"GET /echo HTTP/1.1\r\nHost: app.test\r\n\r\n")
    first = keep.recv(65536)

    def reload(docs, want):
        v0 = m.config_version()
        m.write_yaml("10-test.yaml", base + docs)
        m.hup()
        ok = mg.wait_for(lambda: m.config_version() != v0 and modes()["inbound"][0] == want, 10)
        mg.check(ok, f"reload -> inbound {want}", modes())

    reload([pa("mesh", "istio-system", "STRICT")], "STRICT")
    mg.check(modes()["inbound"][1] == "istio-system/mesh", "the deciding policy is named", modes())
    mg.check(not plain(port).startswith(b"HTTP/1.1"), "STRICT: plaintext is refused")
    mg.check(not plain(tport).startswith(b"HTTP/1.1"), "STRICT TCP: plaintext is refused")
    mg.check(mtls(port, root, cert, key).startswith(b"HTTP/1.1 200"), "STRICT: mesh mTLS is accepted")
    keep.sendall(b"GET /echo HTTP/1.1\r\nHost: app.test\r\n\r\n")
    again = keep.recv(65536)
    mg.check(first.startswith(b"HTTP/1.1 200") and again.startswith(b"HTTP/1.1 200"),
             "a connection accepted before the change keeps working", again[:40])
    keep.close()

    reload([pa("mesh", "istio-system", "STRICT"), pa("ns", "default", "DISABLE")], "DISABLE")
    mg.check(plain(port).startswith(b"HTTP/1.1 200"), "namespace DISABLE overrides mesh STRICT")

    reload([pa("mesh", "istio-system", "STRICT"), pa("ns", "default", "DISABLE"),
            pa("wl", "default", "DISABLE", selector={"app": "meshgate"}, port_level={port: "STRICT"})],
           "STRICT")
    mg.check(modes()["inbound"][1] == f"default/wl (port {port})", "portLevelMtls decides for its port",
             modes())
    mg.check(modes()["inbound_tcp"][0] == "DISABLE", "the workload's mode applies to its other ports",
             modes())
    mg.check(not plain(port).startswith(b"HTTP/1.1"), "port-level STRICT refuses plaintext")
    mg.check(plain(tport).startswith(b"HTTP/1.1 200"), "while the other port takes plaintext")

    reload([pa("wl", "default", "STRICT", selector={"app": "other"})], "PERMISSIVE")
    mg.check(plain(port).startswith(b"HTTP/1.1 200"), "a policy selecting another workload does not apply")
    m.stop()


mg.run(test)
