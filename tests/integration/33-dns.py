#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 33-dns: ServiceEntries with resolution DNS resolved by c-ares against a
# fake DNS server (tests/fixtures/dns_server.py, [dns] servers): endpoint
# host names and, without endpoints, the hosts themselves; DNS uses every
# address, DNS_ROUND_ROBIN the first; a changed answer moves traffic after
# its TTL without a reload; a failing server keeps the last answer (logged
# and counted); the answers are in /config_dump.

import json
import os
import subprocess

import mg


def zone(path, names):
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"names": names}))
    os.replace(tmp, path)


def se(name, host, resolution, port, endpoints=None):
    spec = {"hosts": [host], "location": "MESH_EXTERNAL", "resolution": resolution,
            "ports": [{"number": 80, "name": "http", "protocol": "HTTP", "targetPort": port}]}
    if endpoints is not None:
        spec["endpoints"] = [{"address": a} for a in endpoints]
    return {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": name, "namespace": "default"}, "spec": spec}


def who(m, host, n=1):
    """The upstream names that answered n requests for host (None: failed)."""
    out = []
    for _ in range(n):
        r = mg.get(m.port, "/echo", host)
        out.append(r.json().get("name") if r.status == 200 else None)
    return out


def test():
    work = mg.tmpdir("dns")
    zf = work / "zone.json"
    zone(zf, {"app.test.internal": {"A": ["127.0.0.1"], "ttl": 1},
              "direct.test.internal": {"A": ["127.0.0.1"], "ttl": 30},
              "two.test.internal": {"A": ["127.0.0.2", "127.0.0.1"], "ttl": 30},
              "slow.test.internal": {"A": ["127.0.0.1"], "ttl": 300, "delay_ms": 1500}})
    dns = mg.Proc("dns_server", [mg.PYTHON, str(mg.FIXTURES / "dns_server.py"), "--zone", str(zf),
                                 "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = dns.popen.stdout.readline()
    mg.check(line.startswith(b"READY"), "the fake DNS server started", line)
    dport = int(line.split()[1])
    a = mg.Upstream("a", host="127.0.0.1")
    b = mg.Upstream("b", host="127.0.0.2", port=a.port)   # same port, another address
    m = mg.Mesh(yaml=[se("api", "api.example", "DNS", a.port, ["app.test.internal"]),
                      se("direct", "direct.test.internal", "DNS", a.port),
                      se("two", "two.example", "DNS", a.port, ["two.test.internal"]),
                      se("rr", "rr.example", "DNS_ROUND_ROBIN", a.port, ["two.test.internal"]),
                      se("slow", "slow.example", "DNS", a.port, ["slow.test.internal"])],
                ini={"dns": {"servers": f"127.0.0.1:{dport}"}}, workers=1, name="dns")
    m.start()
    st, body = mg.simple_get(m.health_port, "/healthz/ready")
    mg.check(st == 503 and b"dns" in body, "not ready while a first lookup is pending", (st, body))
    mg.check(mg.wait_for(lambda: mg.simple_get(m.health_port, "/healthz/ready")[0] == 200, 10),
             "ready once every name had its first answer")
    mg.check(mg.wait_for(lambda: who(m, "api.example") == ["a"], 10),
             "an endpoint host name is resolved: traffic reaches its address", who(m, "api.example"))
    mg.check(mg.wait_for(lambda: who(m, "direct.test.internal") == ["a"], 10),
             "resolution DNS without endpoints: the host itself is resolved")
    spread = who(m, "two.example", 40)
    mg.check(set(spread) == {"a", "b"}, "DNS: every address of the answer is an endpoint",
             {x: spread.count(x) for x in set(spread)})
    mg.check(set(who(m, "rr.example", 20)) == {"a"},
             "DNS_ROUND_ROBIN: the first address only", who(m, "rr.example", 5))
    st, body = m.admin("/config_dump")
    eps = {c["name"]: [e["address"] for e in c["endpoints"]] for c in json.loads(body)["clusters"]}
    mg.check(eps.get("outbound|80||two.example") == [f"127.0.0.1:{a.port}", f"127.0.0.2:{a.port}"],
             "config_dump shows the resolved endpoints", eps)
    st, body = m.admin("/registry")
    reg = json.loads(body) if st == 200 else {}
    svc = {s["host"]: s for s in reg.get("services", [])}
    ep = svc.get("api.example", {}).get("ports", [{}])[0].get("endpoints", [{}])[0]
    mg.check(ep.get("source") == "dns app.test.internal" and
             svc["api.example"]["source"].startswith("ServiceEntry default/api ("),
             "/registry: each endpoint and service says where it came from", svc.get("api.example"))
    names = {d["name"]: d for d in reg.get("dns", [])}
    mg.check(names.get("two.test.internal", {}).get("addresses") == ["127.0.0.1", "127.0.0.2"],
             "/registry: the DNS answers", names)
    st, body = m.admin("/syncz")
    srcs = {s["source"]: s for s in json.loads(body)["sources"]} if st == 200 else {}
    mg.check(srcs.get("dns", {}).get("status") == "SYNCED" and
             srcs.get("file", {}).get("status") == "SYNCED", "/syncz: every source SYNCED", srcs)

    # the answer changes: traffic follows after the TTL, with no reload
    reloads = m.stat("config.reloads")
    zone(zf, {"app.test.internal": {"A": ["127.0.0.2"], "ttl": 1},
              "direct.test.internal": {"A": ["127.0.0.1"], "ttl": 30},
              "two.test.internal": {"A": ["127.0.0.2", "127.0.0.1"], "ttl": 30}})
    mg.check(mg.wait_for(lambda: who(m, "api.example") == ["b"], 10),
             "a changed answer moves traffic after its TTL", who(m, "api.example"))
    mg.check(m.stat("config.reloads") == reloads and m.stat("dns.changes", 0) >= 1,
             "without a reload; dns.changes counted", (m.stat("config.reloads"), m.stat("dns.changes")))

    # the server fails: the last answer stays
    zone(zf, {"app.test.internal": {"rcode": "SERVFAIL"},
              "direct.test.internal": {"A": ["127.0.0.1"], "ttl": 30},
              "two.test.internal": {"A": ["127.0.0.2", "127.0.0.1"], "ttl": 30}})
    mg.check(mg.wait_for(lambda: m.stat("dns.failures", 0) >= 1, 10), "a failed lookup is counted",
             m.stat("dns.failures"))
    mg.check(who(m, "api.example", 5) == ["b"] * 5, "a failed lookup keeps the last answer")
    st, body = m.admin("/syncz")
    dns_src = [s for s in json.loads(body)["sources"] if s["source"] == "dns"][0]
    mg.check(dns_src["status"] == "STALE" and dns_src["failing"] == 1,
             "/syncz: the DNS source is STALE while a name fails", dns_src)
    mg.check("dns: app.test.internal:" in m.stderr() and "keeping the last answer" in m.stderr(),
             "... and is logged", m.stderr()[-400:])
    mg.check(m.stop() == 0, "meshgate exits 0")


if __name__ == "__main__":
    mg.run(test)
