#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 22-ca-service: Istio's IstioCertificateService/CreateCertificate on the
# [ca] port, called by a real gRPC client (python3-grpcio, stubs generated
# from appliance/control/ca.proto) over TLS with the serving certificate
# that names istiod.istio-system.svc. A bootstrap token from
# `meshgate ca token` gets a certificate for exactly its identity (the CSR's
# decoy SANs are ignored), and that certificate then works against an
# ISTIO_MUTUAL listener and for renewal; a bad, expired or foreign token,
# no credential, or a TTL over 90 days is refused with the right gRPC code
# and counted.

import json
import os
import socket
import ssl
import subprocess
import time

import mg

CLIENT = mg.FIXTURES / "ca_client.py"


def ca_call(addr, root, out=None, token=None, cert=None, key=None, ttl=0, server_name=None):
    argv = [mg.PYTHON, str(CLIENT), "--addr", addr, "--ca", str(root)]
    if server_name:
        argv += ["--server-name", server_name]
    if token is not None:
        argv += ["--token", token]
    if cert:
        argv += ["--cert", str(cert), "--key", str(key)]
    if ttl:
        argv += ["--ttl", str(ttl)]
    if out:
        argv += ["--out", str(out)]
    r = subprocess.run(argv, capture_output=True, timeout=60)
    try:
        return json.loads(r.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"status": "CLIENT-ERROR", "message": r.stderr.decode()[-400:]}


def token(state, ns, sa, ttl="1h"):
    r = subprocess.run([mg.binary(), "ca", "token", "--state-dir", str(state), "--ns", ns,
                        "--sa", sa, "--ttl", ttl], capture_output=True, timeout=30)
    return r.stdout.decode().strip() if r.returncode == 0 else None


def test():
    try:
        import grpc  # noqa: F401
        import grpc_tools  # noqa: F401
    except ImportError:
        mg.skip("python3-grpcio / python3-grpc-tools are not installed")
    up = mg.Upstream("ca-up")
    m = mg.Mesh(yaml=[mg.service_entry("echo", ["echo.test"], endpoints=[up.endpoint])],
                listeners={"istio": {"protocol": "http", "tls": "istio_mutual", "role": "inbound"}})
    m.start()
    state = m.dir / "state"
    root = state / "ca" / "root-cert.pem"
    addr = f"127.0.0.1:{m.ca_port}"
    work = mg.tmpdir("ca-work")

    tok = token(state, "foo", "bar")
    mg.check(tok and tok.count(".") == 2, "meshgate ca token prints a JWT")
    r = ca_call(addr, root, out=work / "bar", token=tok)
    mg.check(r["status"] == "OK", "CreateCertificate with a bootstrap token: OK", r)
    mg.check(r.get("spiffe") == "spiffe://cluster.local/ns/foo/sa/bar",
             "the certificate names the token's identity, not the CSR's decoy", r.get("spiffe"))
    mg.check(r.get("chain_len") == 2, "cert_chain is leaf then root", r.get("chain_len"))
    v = subprocess.run(["openssl", "verify", "-x509_strict", "-CAfile", str(root),
                        str(work / "bar-cert.pem")], capture_output=True)
    mg.check(v.returncode == 0, "openssl verify -x509_strict accepts the issued certificate",
             v.stdout + v.stderr)

    # the new identity works in the mesh right away
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(root)
    ctx.load_cert_chain(work / "bar-chain.pem", work / "bar-key.pem")
    with socket.create_connection(("127.0.0.1", m.listeners["istio"]["port"]), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: echo.test\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
    mg.check(data.startswith(b"HTTP/1.1 200") and b"URI=spiffe://cluster.local/ns/foo/sa/bar" in data,
             "the issued certificate is accepted by an ISTIO_MUTUAL listener", data[:100])

    # renewal with the mesh certificate, no token
    r = ca_call(addr, root, out=work / "renew", cert=work / "bar-chain.pem", key=work / "bar-key.pem")
    mg.check(r["status"] == "OK" and r.get("spiffe") == "spiffe://cluster.local/ns/foo/sa/bar",
             "renewal with a still-valid mesh certificate: OK, same identity", r)

    # the serving certificate is what Istio agents expect
    r = ca_call(addr, root, token=tok, server_name="istiod.istio-system.svc.cluster.local")
    mg.check(r["status"] == "OK", "the serving certificate also names istiod.istio-system.svc.<domain>", r)

    refusals = [
        ("garbage token", dict(token="not.a.token")),
        ("no credential", dict()),
        ("a token signed by another CA", dict(token=None)),
        ("an expired token", dict(token=None)),
    ]
    other = mg.tmpdir("other-ca")
    refusals[2][1]["token"] = token(other, "foo", "bar")
    short = token(state, "foo", "bar", ttl="1s")
    time.sleep(2.2)
    refusals[3][1]["token"] = short
    for what, kw in refusals:
        r = ca_call(addr, root, **kw)
        mg.check(r["status"] == "UNAUTHENTICATED" and "authenticate" in r.get("message", ""),
                 f"{what}: UNAUTHENTICATED", r)
    r = ca_call(addr, root, token=tok, ttl=91 * 86400)
    mg.check(r["status"] == "INVALID_ARGUMENT", "a TTL over 90 days: INVALID_ARGUMENT", r)
    r = ca_call(addr, root, token=tok, ttl=3600, out=work / "short")
    if r["status"] == "OK":
        na = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", str(work / "short-cert.pem")],
                            capture_output=True).stdout.decode()
        note_ok = "notAfter=" in na
    else:
        note_ok = False
    mg.check(note_ok, "validity_duration 3600 s is honoured", r)

    samples = m.metrics()
    def val(result):
        for smp in samples:
            if smp.name == "meshgate_ca_requests_total" and smp.labels.get("result") == result:
                return smp.value
        return None
    mg.check((val("unauthenticated") or 0) >= 4, "refusals are counted (meshgate_ca_requests_total)",
             val("unauthenticated"))
    mg.check((val("issued") or 0) >= 3, "issues are counted", val("issued"))
    mg.check("request authenticate failure" in m.stderr(), "refusals are logged with the reason")
    st, _ = m.admin("/ready")
    m.stop()
    mg.check(m.proc.popen.returncode == 0, "meshgate exits 0", m.proc.popen.returncode)


mg.run(test)
