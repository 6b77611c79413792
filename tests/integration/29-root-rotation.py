#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 29-root-rotation: a root migration with Istio's plug-in CA files, applied
# by SIGHUP. Root A signs; then the files name root B as the signer with a
# trust bundle of A and B (root-cert.pem holds both): the appliance's SVID is
# reissued from B, peers holding A-issued certificates are still accepted,
# and a connection opened before the change keeps working. Then A leaves the
# bundle: A-issued peers are refused, B-issued ones accepted. A broken change
# (a key that does not match its certificate) is refused, logged and
# counted, and the current authority stays.

import shutil
import socket
import ssl
import subprocess

import mg


def make_root(work, name):
    key, crt = work / f"{name}.key", work / f"{name}.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/O=cluster.local/CN={name}",
                    "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return crt, key


def plug(cadir, signer, roots):
    """Istio's plug-in layout: signer (cert, key) and the trust bundle roots."""
    cadir.mkdir(parents=True, exist_ok=True)
    for f in cadir.iterdir():
        f.unlink()
    shutil.copy(signer[0], cadir / "ca-cert.pem")
    shutil.copy(signer[1], cadir / "ca-key.pem")
    shutil.copy(signer[0], cadir / "cert-chain.pem")
    (cadir / "root-cert.pem").write_text("".join(r.read_text() for r in roots))


def issue(m, work, name):
    r = subprocess.run([mg.binary(), "ca", "issue", "--state-dir", str(m.dir / "state"),
                        "--ns", "default", "--sa", name, "--out", str(work / name)],
                       capture_output=True)
    mg.check(r.returncode == 0, f"client SVID {name}", r.stderr)
    return work / f"{name}-chain.pem", work / f"{name}-key.pem"


def ctx_for(client, trust):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    for t in trust:
        ctx.load_verify_locations(t)
    ctx.load_cert_chain(*client)
    return ctx


def call(port, ctx):
    """GET /echo over mTLS: (status line or error, issuer CN of the server's SVID)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw) as s:
                issuer = dict(x[0] for x in s.getpeercert().get("issuer", ()))
                s.sendall(b"GET /echo HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
                return s.recv(12), issuer.get("commonName")
    except (OSError, ssl.SSLError) as e:
        return repr(e).encode()[:60], None


def test():
    up = mg.Upstream("rot-app")
    work = mg.tmpdir("rot")
    a, b = make_root(work, "root-a"), make_root(work, "root-b")
    m = mg.Mesh(yaml=[mg.service_entry("app", ["app.test"], endpoints=[up.endpoint])],
                listeners={"in": {"protocol": "http", "role": "inbound", "tls": "istio_mutual"}})
    cadir = m.dir / "state" / "ca"
    plug(cadir, a, [a[0]])
    m.start()
    port = m.listeners["in"]["port"]
    client_a = issue(m, work, "client-a")
    got = call(port, ctx_for(client_a, [a[0]]))
    mg.check(got == (b"HTTP/1.1 200", "root-a"), "root A: mTLS works, the SVID is A's", got)
    keep = ctx_for(client_a, [a[0]]).wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                                          timeout=10))
    keep_stream = mg.Stream(keep)
    keep.sendall(b"GET /echo HTTP/1.1\r\nHost: app.test\r\n\r\n")
    first = keep_stream.read_response().status

    # migration: B signs, the bundle trusts A and B
    v0 = m.config_version()
    plug(cadir, b, [b[0], a[0]])
    m.hup()
    mg.check(mg.wait_for(lambda: m.config_version() != v0, 10), "SIGHUP rebuilt the snapshot")
    mg.check(m.stat("ca.reloads") == 1, "ca.reloads counted", m.stat("ca.reloads"))
    client_b = issue(m, work, "client-b")
    got = call(port, ctx_for(client_a, [a[0], b[0]]))
    mg.check(got == (b"HTTP/1.1 200", "root-b"), "A and B trusted: the SVID is reissued by B, "
             "an A-issued peer is still accepted", got)
    got = call(port, ctx_for(client_b, [b[0]]))
    mg.check(got == (b"HTTP/1.1 200", "root-b"), "a B-issued peer is accepted", got)
    keep.sendall(b"GET /echo HTTP/1.1\r\nHost: app.test\r\n\r\n")
    again = keep_stream.read_response().status
    mg.check(first == again == 200, "a connection from before the change keeps "
             "working", (first, again))
    keep.close()

    # A leaves the bundle
    v1 = m.config_version()
    plug(cadir, b, [b[0]])
    m.hup()
    mg.check(mg.wait_for(lambda: m.config_version() != v1, 10), "SIGHUP rebuilt the snapshot")
    got = call(port, ctx_for(client_a, [a[0], b[0]]))
    mg.check(got[0] != b"HTTP/1.1 200", "root A gone: an A-issued peer is refused", got)
    got = call(port, ctx_for(client_b, [b[0]]))
    mg.check(got == (b"HTTP/1.1 200", "root-b"), "a B-issued peer is accepted", got)

    # a broken change: A's key under B's certificate
    shutil.copy(a[1], cadir / "ca-key.pem")
    m.hup()
    mg.check(mg.wait_for(lambda: m.stat("ca.reload_errors") == 1, 10),
             "a key that does not match is refused and counted", m.stat("ca.reload_errors"))
    mg.check("ca: reload refused" in m.stderr(), "... and logged")
    got = call(port, ctx_for(client_b, [b[0]]))
    mg.check(got == (b"HTTP/1.1 200", "root-b"), "the current authority stays", got)
    mg.check(m.stop() == 0, "meshgate exits 0")


if __name__ == "__main__":
    mg.run(test)
