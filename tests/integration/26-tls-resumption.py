#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 26-tls-resumption: session resumption never weakens peer identity
# (hardening.md §2.5). On an ISTIO_MUTUAL listener a resumed session still
# attaches the client's SPIFFE ID (x-forwarded-client-cert equal to the full
# handshake's), and after a configuration change (a new snapshot, new TLS
# contexts and ticket keys) a session from before is not resumed: the next
# handshake is a full one, verified against what is configured now. A
# listener with tls_sessions = off issues no ticket and resumes nothing.

import socket
import ssl
import subprocess

import mg


def request(port, ctx, session=None):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, session=session) as s:
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: echo.test\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                data += d
            return data, s.session, s.session_reused


def xfcc(data):
    i = data.find(b"URI=spiffe://")
    return data[i:data.find(b'"', i)] if i >= 0 else b""


def test():
    up = mg.Upstream("res-up")
    se = mg.service_entry("echo", ["echo.test"], endpoints=[up.endpoint])
    m = mg.Mesh(yaml=[se], listeners={"istio": {"protocol": "http", "tls": "istio_mutual",
                                                "role": "inbound"},
                                      "nosess": {"protocol": "http", "tls": "istio_mutual",
                                                 "role": "inbound", "tls_sessions": "off"}})
    m.start()
    port = m.listeners["istio"]["port"]
    state = m.dir / "state"
    work = mg.tmpdir("res")
    r = subprocess.run([mg.binary(), "ca", "issue", "--state-dir", str(state), "--ns", "foo",
                        "--sa", "bar", "--out", str(work / "c")], capture_output=True)
    mg.check(r.returncode == 0, "a client SVID", r.stderr)
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.load_verify_locations(state / "ca" / "root-cert.pem")
        ctx.load_cert_chain(work / "c-chain.pem", work / "c-key.pem")
        ctx.minimum_version = ctx.maximum_version = version
        name = version.name
        nport = m.listeners["nosess"]["port"]
        first, nsess, _ = request(nport, ctx)
        again, _, nreused = request(nport, ctx, session=nsess)
        mg.check(first.startswith(b"HTTP/1.1 200") and again.startswith(b"HTTP/1.1 200") and
                 not nreused and not (nsess and nsess.has_ticket),
                 f"{name}: tls_sessions = off: no ticket, no resumption",
                 (nreused, nsess and nsess.has_ticket))
        full, sess, reused0 = request(port, ctx)
        res, _, reused = request(port, ctx, session=sess)
        mg.check(full.startswith(b"HTTP/1.1 200") and not reused0, f"{name}: full handshake, 200")
        mg.check(reused and res.startswith(b"HTTP/1.1 200"), f"{name}: the session is resumed", reused)
        mg.check(xfcc(full) == xfcc(res) == b"URI=spiffe://cluster.local/ns/foo/sa/bar",
                 f"{name}: the resumed connection carries the same peer identity",
                 (xfcc(full), xfcc(res)))
        # a new snapshot: new contexts, new ticket keys
        v0 = m.config_version()
        m.write_yaml("10-test.yaml", [se, mg.service_entry("other", [f"other-{version.value}.test"],
                                                           endpoints=[up.endpoint])])
        m.hup()
        mg.check(mg.wait_for(lambda: m.config_version() != v0, 10), f"{name}: reloaded")
        after, _, reused2 = request(port, ctx, session=sess)
        mg.check(after.startswith(b"HTTP/1.1 200") and not reused2,
                 f"{name}: after the change the old session is not resumed (full handshake)", reused2)
    m.stop()


mg.run(test)
