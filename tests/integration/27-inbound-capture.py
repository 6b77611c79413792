#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 27-inbound-capture: Istio's inbound capture (15006) with a real REDIRECT.
# A network namespace plays the workload's host: nftables redirects its
# application ports to meshgate's original_dst listeners, and meshgate
# forwards each connection to where it was going (SO_ORIGINAL_DST, IPv4 and
# IPv6): HTTP request by request with the Host untouched, TCP as bytes.
# PeerAuthentication applies per original destination port (portLevelMtls
# names the application's ports): PERMISSIVE takes plaintext and mesh mTLS
# (peer identity in x-forwarded-client-cert and in the metrics as
# source_principal, reporter="destination"), and passes TLS without an Istio
# ALPN through to the application untouched; STRICT refuses plaintext. A
# connection made straight to the capture port (not redirected) is closed
# rather than looped back, and counted.
#
# Needs root (network namespaces, nftables); the test creates one namespace
# and a veth pair into it, and removes both.

import json
import os
import socket
import ssl
import subprocess

import mg

APP_HTTP, APP_TLS, APP_TCP = 9080, 9443, 9090
CAP_HTTP, CAP_TCP = 15006, 15007
CAP_HTTP6 = CAP_HTTP  # "::" is v6-only: both families on one port


def request(addr, port, wrap=None):
    """GET /echo with Host app.test; the raw answer (b"" on failure)."""
    try:
        with socket.create_connection((addr, port), timeout=10) as raw:
            s = wrap(raw) if wrap else raw
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: app.test:9080\r\nConnection: close\r\n\r\n")
            return mg.read_all(s)
    except (OSError, ssl.SSLError):
        return b""


def body_json(answer):
    try:
        return json.loads(answer.split(b"\r\n\r\n", 1)[1])
    except (IndexError, ValueError):
        return {}


def test():
    if os.geteuid() != 0:
        mg.skip("needs root for network namespaces and nftables")
    for tool in ("ip", "nft", "openssl"):
        mg.check(bool(mg.shutil.which(tool)), f"{tool} is installed (scripts/setup)")
    net = mg.Netns("cap")
    ns, addr4, addr6 = net.name, net.addr4, net.addr6
    rules = f"""
table ip mgcap {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    tcp dport {{ {APP_HTTP}, {APP_TLS} }} redirect to :{CAP_HTTP}
    tcp dport {APP_TCP} redirect to :{CAP_TCP}
  }}
}}
table ip6 mgcap6 {{
  chain prerouting {{
    type nat hook prerouting priority dstnat; policy accept;
    tcp dport {APP_HTTP} redirect to :{CAP_HTTP6}
  }}
}}
"""
    net.run("nft", "-f", "-", input=rules)
    work = mg.tmpdir("capture")

    # the workload: HTTP on 9080 (both families), its own TLS on 9443, TCP echo on 9090
    net.start("app-http", [mg.PYTHON, str(mg.FIXTURES / "upstream.py"), "--host", "::",
                              "--port", str(APP_HTTP), "--name", "app"])
    mg.sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-subj", "/CN=app.example", "-days", "1", "-keyout", str(work / "app.key"),
       "-out", str(work / "app.crt"))
    net.start("app-tls", [mg.PYTHON, str(mg.FIXTURES / "echo_server.py"), "--host", "0.0.0.0",
                             "--port", str(APP_TLS), "--banner", "app-tls",
                             "--tls", str(work / "app.crt"), str(work / "app.key")])
    net.start("app-tcp", [mg.PYTHON, str(mg.FIXTURES / "echo_server.py"), "--host", "::",
                             "--port", str(APP_TCP), "--banner", "app-tcp"])

    listeners = {
        "capture_http": {"address": "0.0.0.0", "port": CAP_HTTP, "protocol": "http",
                         "role": "inbound", "original_dst": "on"},
        "capture_tcp": {"address": "0.0.0.0", "port": CAP_TCP, "protocol": "tcp",
                        "role": "inbound", "original_dst": "on"},
        "capture_http6": {"address": "::", "port": CAP_HTTP6, "protocol": "http",
                          "role": "inbound", "original_dst": "on"},
    }
    m = mg.Mesh(listeners=listeners, netns=ns, host=addr4, name="capture")
    m.start()
    state = m.dir / "state"
    root = state / "ca" / "root-cert.pem"
    r = subprocess.run([mg.binary(), "ca", "issue", "--state-dir", str(state), "--ns", "default",
                        "--sa", "client", "--out", str(work / "c")], capture_output=True)
    mg.check(r.returncode == 0, "a client SVID", r.stderr)

    def istio_tls(alpn):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.load_verify_locations(root)
        ctx.load_cert_chain(work / "c-chain.pem", work / "c-key.pem")
        ctx.set_alpn_protocols(alpn)
        return lambda raw: ctx.wrap_socket(raw)

    st, body = m.admin("/config_dump")
    dump = {l["name"]: l for l in json.loads(body)["listeners"]}
    mg.check(dump["capture_http"].get("original_dst") is True and
             dump["capture_http"].get("cluster") == "InboundPassthroughCluster" and
             dump["capture_http"]["tls"]["mode"] == "PERMISSIVE",
             "config_dump: an original_dst listener under PERMISSIVE", dump["capture_http"])

    # plaintext HTTP, IPv4 and IPv6: to the application port it was sent to
    got = request(addr4, APP_HTTP)
    j = body_json(got)
    mg.check(got.startswith(b"HTTP/1.1 200") and j.get("name") == "app", "IPv4: redirected "
             "HTTP reaches the application", got[:120])
    hdrs = {k.lower(): v for k, v in j.get("headers", [])}
    mg.check(hdrs.get("host") == "app.test:9080" and "x-forwarded-client-cert" not in hdrs,
             "Host untouched, no client certificate header for plaintext", hdrs)
    got = request(addr6, APP_HTTP)
    mg.check(got.startswith(b"HTTP/1.1 200") and body_json(got).get("name") == "app",
             "IPv6: redirected HTTP reaches the application", got[:120])
    want = (f'"{addr4}:{APP_HTTP}" InboundPassthroughCluster',
            f'"[{addr6}]:{APP_HTTP}" InboundPassthroughCluster')
    mg.check(mg.wait_for(lambda: all(w in m.access_log() for w in want), 5),
             "access log: upstream host is the original destination (v4 and v6)",
             m.access_log()[-600:])

    # mesh mTLS on the same port: terminated, identity attached
    got = request(addr4, APP_HTTP, istio_tls(["istio-http/1.1"]))
    hdrs = {k.lower(): v for k, v in body_json(got).get("headers", [])}
    xfcc = hdrs.get("x-forwarded-client-cert", "")
    mg.check(got.startswith(b"HTTP/1.1 200") and
             "URI=spiffe://cluster.local/ns/default/sa/client" in xfcc,
             "PERMISSIVE: mesh mTLS terminated, peer identity in XFCC", got[:200])
    samples = m.metrics(port=m.prom_port, path="/stats/prometheus")
    mine = [s for s in samples if s.name == "istio_requests_total" and
            s.labels.get("reporter") == "destination" and
            s.labels.get("source_principal") == "spiffe://cluster.local/ns/default/sa/client" and
            s.labels.get("connection_security_policy") == "mutual_tls" and
            s.labels.get("destination_service_name") == "InboundPassthroughCluster"]
    mg.check(len(mine) == 1 and mine[0].value >= 1, "metrics: reporter=destination with the "
             "peer's principal and mutual_tls",
             [s for s in samples if s.name == "istio_requests_total"])

    # TLS that is not Istio's goes to the application untouched: its own certificate answers
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(work / "app.crt")
    ctx.check_hostname = False
    try:
        with socket.create_connection((addr4, APP_TLS), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="app.example") as s:
                peer = s.getpeercert()
                banner = s.recv(100)
                s.sendall(b"ping over app tls")
                echo = s.recv(100)
    except (OSError, ssl.SSLError) as e:
        peer, banner, echo = {}, b"", repr(e).encode()
    cn = dict(x[0] for x in peer.get("subject", ()))
    mg.check(cn.get("commonName") == "app.example" and banner == b"app-tls\n" and
             echo == b"ping over app tls", "PERMISSIVE: TLS without an Istio ALPN passes "
             "through to the application's own TLS", (cn, banner, echo))

    # TCP capture: bytes both ways, and the half-close travels
    with socket.create_connection((addr4, APP_TCP), timeout=10) as s:
        s.sendall(b"hello tcp")
        s.shutdown(socket.SHUT_WR)
        got = mg.read_all(s)
    mg.check(got == b"app-tcp\nhello tcp", "TCP capture: bytes to the original destination "
             "and back, FIN carried", got)
    got = b""
    try:
        with socket.create_connection((addr4, APP_TCP), timeout=10) as raw:
            with istio_tls(["istio-peer-exchange", "istio"])(raw) as s:
                s.sendall(b"ping over mesh tls")
                while len(got) < len(b"app-tcp\nping over mesh tls"):
                    d = s.recv(100)
                    if not d:
                        break
                    got += d
    except (OSError, ssl.SSLError) as e:
        got += repr(e).encode()
    mg.check(got == b"app-tcp\nping over mesh tls", "TCP capture: mesh mTLS terminated, "
             "bytes forwarded (the server's banner waits for the handshake)", got)

    # a connection straight to the capture port is not looped back to itself
    def no_od():
        return m.stat("downstream_cx_no_original_dst", -1)
    before = no_od()
    got = request(addr4, CAP_HTTP)
    mg.check(got == b"", "a direct connection to the capture port is closed without data", got)
    mg.check(mg.wait_for(lambda: no_od() > before, 5), "... and counted",
             (before, no_od()))

    # STRICT for the HTTP application port only (portLevelMtls names 9080)
    v0 = m.config_version()
    m.write_yaml("10-test.yaml", [{
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "app", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "meshgate"}},
                 "portLevelMtls": {str(APP_HTTP): {"mode": "STRICT"}}}}])
    m.hup()
    mg.check(mg.wait_for(lambda: m.config_version() != v0, 10), "reload with a port-level policy")
    st, body = m.admin("/config_dump")
    dump = {l["name"]: l for l in json.loads(body)["listeners"]}
    mg.check(dump["capture_http"].get("port_level_mtls", {}).get(str(APP_HTTP), {}).get("mode")
             == "STRICT", "config_dump: port 9080 is STRICT", dump["capture_http"])
    mg.check(not request(addr4, APP_HTTP).startswith(b"HTTP/1.1"),
             "STRICT on 9080: plaintext refused")
    mg.check(request(addr4, APP_HTTP, istio_tls(["istio-http/1.1"])).startswith(b"HTTP/1.1 200"),
             "STRICT on 9080: mesh mTLS accepted")
    with socket.create_connection((addr4, APP_TCP), timeout=10) as s:
        s.sendall(b"still plain")
        s.shutdown(socket.SHUT_WR)
        got = mg.read_all(s)
    mg.check(got == b"app-tcp\nstill plain", "other ports keep PERMISSIVE: plaintext TCP passes", got)
    rc = m.stop()
    mg.check(rc == 0, "meshgate exits 0 on SIGTERM", rc)


if __name__ == "__main__":
    mg.run(test)
