#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 20-tls-listeners: listeners terminating TLS with files (SIMPLE, with SNI
# choosing between two certificates), requiring client certificates
# (MUTUAL), and with the appliance's own SVID requiring mesh SVIDs
# (ISTIO_MUTUAL), checked with curl, openssl s_client and Python's ssl:
# what is accepted, what is refused (no certificate, another CA, another
# mesh's root, an expired SVID, a server-only certificate used as a client),
# ALPN, x-forwarded-proto and x-forwarded-client-cert, renegotiation refused,
# and a TLS-terminating TCP listener.

import json
import os
import socket
import ssl
import subprocess
import threading

import mg

OPENSSL = "openssl"


def sh(argv, **kw):
    return subprocess.run(argv, capture_output=True, timeout=60, **kw)


def make_pki(d):
    """A test CA with two server certificates, a client certificate and a
    server-only certificate, all made with openssl."""
    def req(name, cn, ext, ca=True):
        key, crt = d / f"{name}.key", d / f"{name}.pem"
        (d / f"{name}.ext").write_text(ext)
        sh([OPENSSL, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", str(key), "-out", str(d / f"{name}.csr"), "-subj", f"/CN={cn}"],
           check=True)
        sh([OPENSSL, "x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / "ca.pem"),
            "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "2", "-out", str(crt),
            "-extfile", str(d / f"{name}.ext")], check=True)
        return crt, key

    sh([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"), "-days", "3", "-subj",
        "/O=meshgate test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign"], check=True)
    srv = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n" \
          "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{}\n"
    req("a", "a.example", srv.format("a.example"))
    req("b", "b.example", srv.format("b.example"))
    req("client", "client", "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    req("serveronly", "serveronly", srv.format("serveronly.example"))


def meshgate_ca(args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return sh([mg.binary(), "ca"] + args, env=e)


EXPIRED_SVID = r'''
import datetime, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
ca, out = sys.argv[1], sys.argv[2]
root = x509.load_pem_x509_certificate(open(ca + "/root-cert.pem", "rb").read())
rkey = serialization.load_pem_private_key(open(ca + "/root-key.pem", "rb").read(), None)
key = ec.generate_private_key(ec.SECP256R1())
now = datetime.datetime.utcnow()
cert = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(root.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=2))
        .not_valid_after(now - datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.UniformResourceIdentifier("spiffe://cluster.local/ns/foo/sa/old")]), critical=True)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                       critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(rkey, hashes.SHA256()))
open(out + "-chain.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(out + "-key.pem", "wb").write(key.private_bytes(serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
'''


def expired_svid(ca_dir, prefix):
    return sh([mg.PYTHON, "-c", EXPIRED_SVID, str(ca_dir), str(prefix)])


def https_get(port, host, ctx, server_name, alpn=None, path="/echo"):
    """One request over TLS; returns (status, body, selected alpn, peer cert)
    or raises on a TLS failure."""
    if alpn:
        ctx.set_alpn_protocols(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_name) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
            peer = s.getpeercert()
            proto = s.selected_alpn_protocol()
    if not data:
        raise ConnectionError("closed without an answer")
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body, proto, peer


def refused(fn):
    """True if fn raises a TLS/connection error (a refused handshake may only
    show at the first read under TLS 1.3)."""
    try:
        fn()
    except (ssl.SSLError, ConnectionError, OSError):
        return True
    return False


def client_ctx(cafile, cert=None, key=None, check_hostname=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    ctx.check_hostname = check_hostname
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def header(echo, name):
    return [v for k, v in echo["headers"] if k.lower() == name]


def test():
    mg.need("curl", OPENSSL)
    pki = mg.tmpdir("pki")
    make_pki(pki)
    up = mg.Upstream("tls-up")
    echo_srv = socket.socket()
    echo_srv.bind(("127.0.0.1", 0))
    echo_srv.listen(16)

    def echo_one(c):
        with c:
            for d in iter(lambda: c.recv(65536), b""):
                c.sendall(d)

    def echo_loop():
        while True:
            c, _ = echo_srv.accept()
            threading.Thread(target=echo_one, args=(c,), daemon=True).start()
    threading.Thread(target=echo_loop, daemon=True).start()

    yaml = [mg.service_entry("echo", ["echo.test"], endpoints=[up.endpoint])]
    m = mg.Mesh(yaml=yaml, listeners={
        "simple": {"protocol": "http", "tls": "simple",
                   "tls_cert": f"{pki}/a.pem, {pki}/b.pem",
                   "tls_key": f"{pki}/a.key, {pki}/b.key"},
        "mutual": {"protocol": "http", "tls": "mutual", "tls_cert": f"{pki}/a.pem",
                   "tls_key": f"{pki}/a.key", "tls_ca": f"{pki}/ca.pem"},
        "istio": {"protocol": "http", "tls": "istio_mutual", "role": "inbound"},
        "tcp_tls": {"protocol": "tcp", "tls": "simple", "tls_cert": f"{pki}/a.pem",
                    "tls_key": f"{pki}/a.key",
                    "destination": f"127.0.0.1:{echo_srv.getsockname()[1]}"},
    }, ini={"ca": {"port": 0}})
    m.start()
    p_simple = m.listeners["simple"]["port"]
    p_mutual = m.listeners["mutual"]["port"]
    p_istio = m.listeners["istio"]["port"]
    p_tcp = m.listeners["tcp_tls"]["port"]
    state = m.dir / "state"
    root = state / "ca" / "root-cert.pem"
    mg.check(root.exists(), "the CA root was generated at start in state/ca/root-cert.pem")

    # ---- SIMPLE, with SNI
    r = sh(["curl", "-sS", "--cacert", str(pki / "ca.pem"), "--resolve",
            f"a.example:{p_simple}:127.0.0.1", "-H", "Host: echo.test",
            f"https://a.example:{p_simple}/echo"])
    ok = r.returncode == 0
    echo = json.loads(r.stdout) if ok else {}
    mg.check(ok and echo.get("path") == "/echo", "SIMPLE: curl over TLS reaches the upstream",
             r.stderr[-300:])
    mg.check(header(echo, "x-forwarded-proto") == ["https"], "SIMPLE: x-forwarded-proto is https",
             header(echo, "x-forwarded-proto"))
    mg.check(not header(echo, "x-forwarded-client-cert"), "SIMPLE: no x-forwarded-client-cert")
    for name in ("a.example", "b.example"):
        st, body, proto, peer = https_get(p_simple, "echo.test", client_ctx(pki / "ca.pem"), name,
                                          alpn=["http/1.1"])
        sans = [v for k, v in peer.get("subjectAltName", ()) if k == "DNS"]
        mg.check(st == 200 and sans == [name], f"SNI {name} selects its certificate", (st, sans))
        mg.check(proto == "http/1.1", f"ALPN http/1.1 selected ({name})", proto)
    st, body, proto, peer = https_get(p_simple, "echo.test",
                                      client_ctx(pki / "ca.pem", check_hostname=False), "c.example")
    sans = [v for k, v in peer.get("subjectAltName", ()) if k == "DNS"]
    mg.check(sans == ["a.example"], "an unknown SNI gets the first (default) certificate", sans)
    # TLS 1.1 and a non-AEAD suite are refused
    r = sh([OPENSSL, "s_client", "-connect", f"127.0.0.1:{p_simple}", "-tls1_1"], input=b"")
    mg.check(r.returncode != 0, "TLS 1.1 is refused")
    r = sh([OPENSSL, "s_client", "-connect", f"127.0.0.1:{p_simple}", "-tls1_2", "-cipher",
            "ECDHE-ECDSA-AES128-SHA256"], input=b"")
    mg.check(r.returncode != 0, "TLS 1.2 with a CBC suite is refused")
    # renegotiation: openssl s_client's "R" asks for it (TLS 1.2)
    r = sh([OPENSSL, "s_client", "-connect", f"127.0.0.1:{p_simple}", "-tls1_2",
            "-servername", "a.example"], input=b"R\n")
    out = (r.stdout + r.stderr).decode(errors="replace")
    mg.check("RENEGOTIATING" in out and ("alert" in out.lower() or "error" in out.lower()
                                         or r.returncode != 0),
             "client-initiated renegotiation is refused", out[-400:])

    # ---- MUTUAL
    r = sh(["curl", "-sS", "--cacert", str(pki / "ca.pem"), "--cert", str(pki / "client.pem"),
            "--key", str(pki / "client.key"), "--resolve", f"a.example:{p_mutual}:127.0.0.1",
            "-H", "Host: echo.test", f"https://a.example:{p_mutual}/echo"])
    mg.check(r.returncode == 0 and b'"/echo"' in r.stdout,
             "MUTUAL: curl with a client certificate from the configured CA gets through",
             r.stderr[-300:])
    r = sh(["curl", "-sS", "--cacert", str(pki / "ca.pem"), "--resolve",
            f"a.example:{p_mutual}:127.0.0.1", "-H", "Host: echo.test",
            f"https://a.example:{p_mutual}/echo"])
    mg.check(r.returncode != 0, "MUTUAL: curl without a client certificate is refused",
             r.stdout[-200:])
    mg.check(refused(lambda: https_get(p_mutual, "echo.test",
                                       client_ctx(pki / "ca.pem", pki / "serveronly.pem",
                                                  pki / "serveronly.key"), "a.example")),
             "MUTUAL: a serverAuth-only certificate used as a client is refused (EKU)")

    # ---- ISTIO_MUTUAL
    r = meshgate_ca(["issue", "--state-dir", str(state), "--ns", "foo", "--sa", "bar",
                     "--ttl", "1h", "--out", str(pki / "bar")])
    mg.check(r.returncode == 0, "meshgate ca issue writes a client SVID", r.stderr[-300:])
    ctx = client_ctx(root, pki / "bar-chain.pem", pki / "bar-key.pem", check_hostname=False)
    st, body, proto, peer = https_get(p_istio, "echo.test", ctx, "outbound_.80_._.echo.test",
                                      alpn=["istio-http/1.1", "istio", "http/1.1"])
    echo = json.loads(body) if st == 200 else {}
    mg.check(st == 200, "ISTIO_MUTUAL: a mesh SVID gets through", st)
    mg.check(proto == "istio-http/1.1", "ISTIO_MUTUAL: Istio's ALPN istio-http/1.1 is selected", proto)
    xfcc = header(echo, "x-forwarded-client-cert")
    mg.check(len(xfcc) == 1 and "URI=spiffe://cluster.local/ns/foo/sa/bar" in xfcc[0]
             and "By=spiffe://cluster.local/ns/default/sa/meshgate" in xfcc[0] and "Hash=" in xfcc[0],
             "ISTIO_MUTUAL: x-forwarded-client-cert carries the peer's SPIFFE ID", xfcc)
    uris = [v for k, v in peer.get("subjectAltName", ()) if k == "URI"]
    mg.check(uris == ["spiffe://cluster.local/ns/default/sa/meshgate"],
             "ISTIO_MUTUAL: the server presents the appliance's SVID", uris)
    r = sh([OPENSSL, "s_client", "-connect", f"127.0.0.1:{p_istio}", "-CAfile", str(root),
            "-cert", str(pki / "bar-cert.pem"), "-key", str(pki / "bar-key.pem"), "-showcerts",
            "-verify_return_error", "-alpn", "istio-http/1.1"], input=b"")
    out = r.stdout.decode(errors="replace")
    mg.check("Verify return code: 0 (ok)" in out and "O = cluster.local" in out,
             "openssl s_client: the chain verifies against the mesh root, issuer O = cluster.local",
             out[-400:])
    mg.check(refused(lambda: https_get(p_istio, "echo.test", client_ctx(root, check_hostname=False),
                                       "x")), "ISTIO_MUTUAL: no client certificate is refused")
    mg.check(refused(lambda: https_get(p_istio, "echo.test",
                                       client_ctx(root, pki / "client.pem", pki / "client.key",
                                                  check_hostname=False), "x")),
             "ISTIO_MUTUAL: a certificate from another CA is refused")
    other = mg.tmpdir("other-ca")
    r = meshgate_ca(["issue", "--state-dir", str(other), "--ns", "foo", "--sa", "bar",
                     "--out", str(pki / "foreign")])
    mg.check(r.returncode == 0, "an SVID from another meshgate root", r.stderr[-200:])
    mg.check(refused(lambda: https_get(p_istio, "echo.test",
                                       client_ctx(root, pki / "foreign-chain.pem",
                                                  pki / "foreign-key.pem", check_hostname=False), "x")),
             "ISTIO_MUTUAL: an SVID of another mesh's root is refused")
    r = expired_svid(state / "ca", pki / "old")
    mg.check(r.returncode == 0, "an SVID that expired an hour ago (signed by the mesh root)",
             r.stderr[-300:])
    mg.check(refused(lambda: https_get(p_istio, "echo.test",
                                       client_ctx(root, pki / "old-chain.pem", pki / "old-key.pem",
                                                  check_hostname=False), "x")),
             "ISTIO_MUTUAL: an expired SVID is refused")
    # a client's own x-forwarded-client-cert is not trusted on plaintext-equivalent paths
    r = sh(["curl", "-sS", "--cacert", str(pki / "ca.pem"), "--resolve",
            f"a.example:{p_simple}:127.0.0.1", "-H", "Host: echo.test", "-H",
            "x-forwarded-client-cert: URI=spiffe://cluster.local/ns/admin/sa/root",
            f"https://a.example:{p_simple}/echo"])
    echo = json.loads(r.stdout) if r.returncode == 0 else {}
    mg.check(r.returncode == 0 and not header(echo, "x-forwarded-client-cert"),
             "a forged x-forwarded-client-cert without mTLS is removed")

    # ---- TCP listener terminating TLS
    ctx = client_ctx(pki / "ca.pem")
    with socket.create_connection(("127.0.0.1", p_tcp), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="a.example") as s:
            # one thread per SSL object: OpenSSL's are not safe to use
            # from two threads at once, so sending and reading interleave
            msg = os.urandom(200000)
            got = b""
            for off in range(0, len(msg), 16384):
                s.sendall(msg[off:off + 16384])
                while len(got) < off + 1:
                    d = s.recv(65536)
                    if not d:
                        break
                    got += d
            while len(got) < len(msg):
                d = s.recv(65536)
                if not d:
                    break
                got += d
    mg.check(got == msg, "TCP listener: 200 kB echoed through TLS termination", len(got))

    st, body = m.admin("/config_dump")
    dump = json.loads(body)
    modes = {l["name"]: l["tls"]["mode"] for l in dump["listeners"]}
    mg.check(modes == {"simple": "SIMPLE", "mutual": "MUTUAL", "istio": "ISTIO_MUTUAL",
                       "tcp_tls": "SIMPLE"}, "/config_dump shows each listener's TLS mode", modes)
    m.stop()
    mg.check(m.proc.popen.returncode == 0, "meshgate exits 0 after SIGTERM", m.proc.popen.returncode)


mg.run(test)
