#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 30-outbound-capture: Istio's outbound capture (15001) with real redirect
# rules installed by scripts/capture inside a network namespace. meshgate
# runs as its own user (excluded from capture, as Istio's 1337), the
# workload's client as root. Destinations: one
# address registered by a ServiceEntry (api.reg: HTTP 80, TLS 443, TCP 7000)
# and one that is not (local addresses of the namespace). Under REGISTRY_ONLY: HTTP is routed by Host (unknown
# hosts get 502 block_all); TLS by SNI, peeked, not terminated (the
# client sees the server's own certificate; an unknown SNI is closed); other
# bytes by original destination address (a registered address passes, an
# unknown one is closed with no data, counted as BlackHoleCluster); a client
# that sends nothing (a server-first protocol) is decided by address after
# the detection timeout. Under ALLOW_ANY everything unknown goes to its
# original destination.

import json
import os
import subprocess

import mg

MESH_UID = 1337


def test():
    if os.geteuid() != 0:
        mg.skip("needs root for network namespaces and nftables")
    for tool in ("ip", "nft", "setpriv", "openssl"):
        mg.check(bool(mg.shutil.which(tool)), f"{tool} is installed (scripts/setup)")
    net = mg.Netns("out")
    reg, unreg = f"10.206.{net.n}.10", f"10.206.{net.n}.20"
    # the destinations: local addresses (no dummy interfaces on every kernel)
    net.run("ip", "addr", "add", f"{reg}/32", "dev", "lo")
    net.run("ip", "addr", "add", f"{unreg}/32", "dev", "lo")
    work = mg.tmpdir("outcap")
    os.chmod(work, 0o755)
    mg.sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-subj", "/CN=api.reg", "-days", "1", "-keyout", str(work / "srv.key"),
          "-out", str(work / "srv.crt"))
    py = mg.PYTHON
    for addr, name in ((reg, "reg"), (unreg, "unreg")):
        net.start(f"http-{name}", [py, str(mg.FIXTURES / "upstream.py"), "--host", addr,
                                   "--port", "80", "--name", name])
        net.start(f"tls-{name}", [py, str(mg.FIXTURES / "echo_server.py"), "--host", addr,
                                  "--port", "443", "--banner", f"tls-{name}",
                                  "--tls", str(work / "srv.crt"), str(work / "srv.key")])
        net.start(f"tcp-{name}", [py, str(mg.FIXTURES / "echo_server.py"), "--host", addr,
                                  "--port", "7000", "--banner", f"tcp-{name}"])

    se = {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
          "metadata": {"name": "api", "namespace": "default"},
          "spec": {"hosts": ["api.reg"], "addresses": [reg], "location": "MESH_EXTERNAL",
                   "resolution": "STATIC", "endpoints": [{"address": reg}],
                   "ports": [{"number": 80, "name": "http", "protocol": "HTTP"},
                             {"number": 443, "name": "tls", "protocol": "TLS"},
                             {"number": 7000, "name": "tcp", "protocol": "TCP"}]}}
    listeners = {"outbound_capture": {"address": "0.0.0.0", "port": 15001, "protocol": "http",
                                      "role": "outbound", "original_dst": "on"}}
    m = mg.Mesh(yaml=[se], listeners=listeners, netns=net.name, host=net.addr4,
                run_as=MESH_UID, name="outcap")
    m.start()
    r = subprocess.run([str(mg.ROOT / "scripts" / "capture"), "install", "--netns", net.name,
                        "--uid", str(MESH_UID), "--inbound-ports", "none"],
                       capture_output=True, text=True)
    mg.check(r.returncode == 0, "scripts/capture install", r.stderr)

    def client(*args):
        r = net.run(py, str(mg.FIXTURES / "netclient.py"), *args, check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {"error": r.stdout + r.stderr}

    # REGISTRY_ONLY (the harness default)
    got = client("http", reg, "80", "api.reg")
    mg.check(got.get("status") == 200 and got.get("name") == "reg",
             "HTTP to a registered host is routed by Host", got)
    got = client("http", unreg, "80", "other.example")
    mg.check(got.get("status") == 502, "HTTP to an unknown host: 502 block_all", got)
    got = client("tls", reg, "443", "api.reg", str(work / "srv.crt"))
    mg.check(got.get("ok") and got.get("cn") == "api.reg" and got.get("data") == "tls-reg\nping",
             "TLS routed by SNI, not terminated: the server's own certificate", got)
    got = client("tls", unreg, "443", "evil.example", str(work / "srv.crt"))
    mg.check(not got.get("ok"), "TLS with an unknown SNI is closed", got)
    got = client("tcp", reg, "7000", "hello")
    mg.check(got.get("data") == "tcp-reg\nhello", "opaque TCP to a registered address passes", got)
    got = client("tcp", unreg, "7000", "hello")
    mg.check(got.get("data") == "" and got.get("closed"),
             "opaque TCP to an unknown address: closed with no data", got)
    got = client("tcp", reg, "7000", "-")
    mg.check(got.get("data", "").startswith("tcp-reg"),
             "a silent client (server speaks first) goes by address after the detection "
             "timeout", got)
    samples = m.metrics()
    bh = [s for s in samples if s.name == "istio_tcp_connections_closed_total" and
          s.labels.get("destination_service_name") == "BlackHoleCluster"]
    mg.check(bh and sum(s.value for s in bh) >= 2, "blackholed connections are counted as "
             "BlackHoleCluster", [(s.labels.get("destination_service_name"), s.value)
                                  for s in samples if s.name.startswith("istio_tcp")])
    log = m.stderr()
    mg.check(f"TLS for SNI evil.example to {unreg}:443 is not in the registry" in log,
             "the refusal is logged with the SNI and the original destination", log[-800:])

    # ALLOW_ANY: unknown destinations are passed through
    mg.check(m.stop() == 0, "meshgate exits 0")
    m.set_ini("mesh", {"outbound_traffic_policy": "ALLOW_ANY"})
    m.start()
    got = client("http", unreg, "80", "other.example")
    mg.check(got.get("status") == 200 and got.get("name") == "unreg",
             "ALLOW_ANY: HTTP to an unknown host reaches the original destination", got)
    got = client("tls", unreg, "443", "evil.example", str(work / "srv.crt"))
    mg.check(got.get("ok") and got.get("data") == "tls-unreg\nping",
             "ALLOW_ANY: TLS with an unknown SNI passes through", got)
    got = client("tcp", unreg, "7000", "hello")
    mg.check(got.get("data") == "tcp-unreg\nhello", "ALLOW_ANY: opaque TCP passes through", got)

    r = subprocess.run([str(mg.ROOT / "scripts" / "capture"), "remove", "--netns", net.name],
                       capture_output=True, text=True)
    mg.check(r.returncode == 0, "scripts/capture remove", r.stderr)
    got = client("http", reg, "80", "api.reg")
    mg.check(got.get("status") == 200 and got.get("name") == "reg",
             "without the rules the client reaches the server directly", got)
    mg.check(m.stop() == 0, "meshgate exits 0")


if __name__ == "__main__":
    mg.run(test)
