#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 37-proxy-config: `meshgate proxy-config listeners|routes|clusters|endpoints|
# secrets` and `meshgate proxy-status` against a running meshgate with a
# ServiceEntry, a VirtualService and a DestinationRule with subsets: each
# table's rows (hosts, ports, subsets, endpoints; the workload certificate's
# serial and validity as its TLS listener presents it, the root's as the
# state directory holds it), -o json parses and holds the same objects,
# filters narrow the rows, a refused change shows as STALE (error) until it
# is fixed, an unreachable or wrong admin port is exit 1 with a message,
# misuse is exit 2, and `meshgate --help` lists both commands.

import json
import re
import socket
import ssl
import subprocess

import mg

LISTENER_COLS = ("ADDRESSES", "PORT", "MATCH", "DESTINATION")
ROUTE_COLS = ("NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE")
CLUSTER_COLS = ("SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE")
ENDPOINT_COLS = ("ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER")
SECRET_COLS = ("RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER",
               "NOT BEFORE")
STATUS_COLS = ("NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS", "ECDS", "ISTIOD", "VERSION")


def cli(*args):
    return subprocess.run([mg.binary(), *map(str, args)], capture_output=True, text=True,
                          timeout=60)


def table(text, cols):
    """Rows of an aligned table as dicts, cut at the header's column starts.
    None when the header is not exactly cols."""
    lines = text.splitlines()
    if not lines:
        return None
    head, starts, pos = lines[0], [], 0
    for c in cols:
        i = head.find(c, pos)
        if i < 0 or (starts and head[pos:i].strip()):
            return None
        starts.append(i)
        pos = i + len(c)
    if head[pos:].strip():
        return None
    rows = []
    for line in lines[1:]:
        cells = [line[s:e].strip() for s, e in zip(starts, starts[1:] + [None])]
        rows.append(dict(zip(cols, cells)))
    return rows


def pc(m, kind, cols, *args):
    r = cli("proxy-config", kind, "--admin", f"127.0.0.1:{m.admin_port}", *args)
    rows = table(r.stdout, cols) if r.returncode == 0 else None
    mg.check(rows is not None, f"proxy-config {' '.join(map(str, (kind,) + args))}: a table",
             (r.returncode, r.stderr[-300:], r.stdout[:300]))
    return rows or []


def pc_json(m, kind, *args):
    r = cli("proxy-config", kind, "--admin", f"127.0.0.1:{m.admin_port}", "-o", "json", *args)
    try:
        return json.loads(r.stdout) if r.returncode == 0 else None
    except ValueError:
        return None


def status(m):
    r = cli("proxy-status", "--admin", f"127.0.0.1:{m.admin_port}")
    rows = table(r.stdout, STATUS_COLS) if r.returncode == 0 else None
    return rows[0] if rows and len(rows) == 1 else None


def peer_cert(port, root, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(root)
    ctx.load_cert_chain(cert, key)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            return s.getpeercert()


def reviews(p1, p2):
    se = {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
          "metadata": {"name": "reviews", "namespace": "default"},
          "spec": {"hosts": ["reviews.example"], "location": "MESH_INTERNAL",
                   "resolution": "STATIC",
                   "ports": [{"number": 9080, "name": "http", "protocol": "HTTP"}],
                   "endpoints": [{"address": "127.0.0.1", "ports": {"http": p1},
                                  "labels": {"version": "v1"}},
                                 {"address": "127.0.0.2", "ports": {"http": p2},
                                  "labels": {"version": "v2"}}]}}
    ratings = mg.service_entry("ratings", "ratings.example", [("127.0.0.3", 8080)])
    vs = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
          "metadata": {"name": "reviews", "namespace": "default"},
          "spec": {"hosts": ["reviews.example"], "http": [
              {"name": "v2-only", "match": [{"uri": {"prefix": "/v2"}}],
               "route": [{"destination": {"host": "reviews.example", "subset": "v2"}}]},
              {"route": [{"destination": {"host": "reviews.example", "subset": "v1"},
                          "weight": 80},
                         {"destination": {"host": "reviews.example", "subset": "v2"},
                          "weight": 20}]}]}}
    dr = {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
          "metadata": {"name": "reviews", "namespace": "default"},
          "spec": {"host": "reviews.example",
                   "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                               {"name": "v2", "labels": {"version": "v2"}}]}}
    return [se, ratings, vs, dr]


def test():
    mg.need("openssl")
    p1, p2 = mg.free_ports(2)
    m = mg.Mesh(yaml=reviews(p1, p2), workers=1, name="pc",
                listeners={"outbound_http": {"protocol": "http", "role": "outbound"},
                           "tcp_out": {"protocol": "tcp", "role": "outbound",
                                       "destination": "reviews.example:9080"},
                           "inbound_mtls": {"protocol": "http", "role": "inbound",
                                            "tls": "istio_mutual"}})
    m.start()
    out_port = m.listeners["outbound_http"]["port"]
    tcp_port = m.listeners["tcp_out"]["port"]
    in_port = m.listeners["inbound_mtls"]["port"]

    r = cli("--help")
    mg.check(r.returncode == 0 and "proxy-config" in r.stdout and "proxy-status" in r.stdout,
             "meshgate --help lists proxy-config and proxy-status", r.stdout)
    r = cli("proxy-config", "--help")
    mg.check(r.returncode == 0 and "listeners" in r.stdout and "--fqdn" in r.stdout,
             "proxy-config --help", r.stdout[:200])

    # ---- listeners
    rows = pc(m, "listeners", LISTENER_COLS)
    got = {(x["ADDRESSES"], x["PORT"], x["MATCH"], x["DESTINATION"]) for x in rows}
    want = {("127.0.0.1", str(out_port), "ALL", "Route: outbound_http"),
            ("127.0.0.1", str(tcp_port), "ALL", "Cluster: outbound|9080||reviews.example"),
            ("127.0.0.1", str(in_port), "Trans: tls", "Route: inbound_mtls")}
    mg.check(got == want, "listeners: address, port, match and destination of each", rows)
    mg.check([x["PORT"] for x in rows] == sorted((x["PORT"] for x in rows), key=int),
             "listeners: by port", rows)
    rows = pc(m, "listeners", LISTENER_COLS, "--port", tcp_port)
    mg.check(len(rows) == 1 and rows[0]["PORT"] == str(tcp_port), "listeners --port: one row", rows)
    js = pc_json(m, "listeners")
    mg.check(isinstance(js, list) and {(l.get("name"), l.get("address"), l.get("port")) for l in js} ==
             {("outbound_http", "127.0.0.1", out_port), ("tcp_out", "127.0.0.1", tcp_port),
              ("inbound_mtls", "127.0.0.1", in_port)},
             "listeners -o json: the dump's listeners with their addresses", js)
    js = pc_json(m, "listeners", "--port", in_port)
    mg.check(js and len(js) == 1 and js[0]["tls"]["mode"] == "ISTIO_MUTUAL",
             "listeners -o json --port: the one listener, its TLS mode", js)

    # ---- routes
    rows = pc(m, "routes", ROUTE_COLS)
    got = [(x["NAME"], x["VHOST NAME"], x["DOMAINS"], x["MATCH"], x["VIRTUAL SERVICE"])
           for x in rows if x["NAME"] == "outbound_http"]
    mg.check(("outbound_http", "reviews.example", "reviews.example", "/v2*", "reviews.default") in got
             and ("outbound_http", "reviews.example", "reviews.example", "/*", "reviews.default") in got
             and ("outbound_http", "ratings.example", "ratings.example", "/*", "") in got,
             "routes: the VirtualService's matches, a registry host's catch-all", rows)
    mg.check({x["NAME"] for x in rows} == {"outbound_http", "inbound_mtls"},
             "routes: a table per HTTP listener, none for TCP", {x["NAME"] for x in rows})
    rows = pc(m, "routes", ROUTE_COLS, "--name", "inbound_mtls")
    mg.check(rows and {x["NAME"] for x in rows} == {"inbound_mtls"}, "routes --name", rows)
    js = pc_json(m, "routes", "--name", "outbound_http")
    vh = {v["name"]: v for v in js[0]["virtual_hosts"]} if js and len(js) == 1 else {}
    mg.check(vh.get("reviews.example", {}).get("virtual_service") == "reviews.default" and
             [d["cluster"] for d in vh["reviews.example"]["routes"][0]["route"]] ==
             ["outbound|9080|v2|reviews.example"],
             "routes -o json: the virtual hosts, routes to the subset clusters", js)

    # ---- clusters
    rows = pc(m, "clusters", CLUSTER_COLS)
    got = [(x["SERVICE FQDN"], x["PORT"], x["SUBSET"], x["DIRECTION"], x["TYPE"],
            x["DESTINATION RULE"]) for x in rows]
    mg.check(got == [("ratings.example", "80", "-", "outbound", "EDS", ""),
                     ("reviews.example", "9080", "-", "outbound", "EDS", "reviews.default"),
                     ("reviews.example", "9080", "v1", "outbound", "EDS", "reviews.default"),
                     ("reviews.example", "9080", "v2", "outbound", "EDS", "reviews.default")],
             "clusters: each host, port and subset, sorted", got)
    rows = pc(m, "clusters", CLUSTER_COLS, "--fqdn", "reviews.example", "--subset", "v2")
    mg.check([(x["SERVICE FQDN"], x["SUBSET"]) for x in rows] == [("reviews.example", "v2")],
             "clusters --fqdn --subset: one row", rows)
    rows = pc(m, "clusters", CLUSTER_COLS, "--port", 80, "--direction", "outbound")
    mg.check([x["SERVICE FQDN"] for x in rows] == ["ratings.example"], "clusters --port", rows)
    rows = pc(m, "clusters", CLUSTER_COLS, "--direction", "inbound")
    mg.check(rows == [], "clusters --direction inbound: none here", rows)
    js = pc_json(m, "clusters", "--fqdn", "reviews")
    mg.check(js is not None and sorted(c["name"] for c in js) ==
             ["outbound|9080|v1|reviews.example", "outbound|9080|v2|reviews.example",
              "outbound|9080||reviews.example"], "clusters -o json --fqdn", js)

    # ---- endpoints
    ep1, ep2 = f"127.0.0.1:{p1}", f"127.0.0.2:{p2}"
    rows = pc(m, "endpoints", ENDPOINT_COLS)
    got = {(x["ENDPOINT"], x["CLUSTER"]) for x in rows}
    mg.check(got == {(ep1, "outbound|9080||reviews.example"), (ep1, "outbound|9080|v1|reviews.example"),
                     (ep2, "outbound|9080||reviews.example"), (ep2, "outbound|9080|v2|reviews.example"),
                     ("127.0.0.3:8080", "outbound|80||ratings.example")},
             "endpoints: each endpoint in its clusters, subsets by label", rows)
    mg.check(all(x["STATUS"] == "HEALTHY" and x["OUTLIER CHECK"] == "OK" for x in rows),
             "endpoints: HEALTHY, OK (no health checks or outlier detection yet)", rows)
    rows = pc(m, "endpoints", ENDPOINT_COLS, "--cluster", "outbound|9080|v2|reviews.example")
    mg.check([x["ENDPOINT"] for x in rows] == [ep2], "endpoints --cluster", rows)
    rows = pc(m, "endpoints", ENDPOINT_COLS, "--address", "127.0.0.1", "--port", p1)
    mg.check(len(rows) == 2 and all(x["ENDPOINT"] == ep1 for x in rows),
             "endpoints --address --port", rows)
    js = pc_json(m, "endpoints", "--address", "127.0.0.3")
    mg.check(js is not None and [c["name"] for c in js] == ["outbound|80||ratings.example"] and
             js[0]["endpoints"][0]["address"] == "127.0.0.3:8080",
             "endpoints -o json: the cluster holding the endpoint", js)

    # ---- secrets, against what the TLS listener presents and the state dir holds
    root = m.dir / "state" / "ca" / "root-cert.pem"
    work = mg.tmpdir("pc-probe")
    r = subprocess.run([mg.binary(), "ca", "issue", "--state-dir", str(m.dir / "state"), "--ns",
                        "t", "--sa", "probe", "--out", str(work / "probe")], capture_output=True)
    mg.check(r.returncode == 0, "a probe SVID", r.stderr)
    peer = peer_cert(in_port, root, work / "probe-chain.pem", work / "probe-key.pem")
    rows = pc(m, "secrets", SECRET_COLS)
    by = {x["RESOURCE NAME"]: x for x in rows}
    d = by.get("default", {})
    mg.check(d.get("TYPE") == "Cert Chain" and d.get("STATUS") == "ACTIVE" and
             d.get("VALID CERT") == "true", "secrets: default is an active, valid chain", rows)
    mg.check(d.get("SERIAL NUMBER") == format(int(peer["serialNumber"], 16), "x"),
             "secrets: default's serial is the one the listener presents",
             (d.get("SERIAL NUMBER"), peer["serialNumber"]))
    na = d.get("NOT AFTER", "")
    mg.check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", na) and
             ssl.cert_time_to_seconds(peer["notAfter"]) ==
             __import__("calendar").timegm(__import__("time").strptime(na, "%Y-%m-%dT%H:%M:%SZ")),
             "secrets: NOT AFTER as RFC 3339, the presented certificate's", (na, peer["notAfter"]))
    r = subprocess.run(["openssl", "x509", "-in", str(root), "-noout", "-serial"],
                       capture_output=True, text=True)
    root_serial = r.stdout.strip().split("=", 1)[-1]
    mg.check(by.get("ROOTCA", {}).get("TYPE") == "CA" and
             by.get("ROOTCA", {}).get("SERIAL NUMBER") == format(int(root_serial, 16), "x"),
             "secrets: ROOTCA is the state directory's root", (by.get("ROOTCA"), root_serial))
    js = pc_json(m, "secrets")
    dj = {c["name"]: c for c in js or []}.get("default", {})
    san = [v for k, v in peer.get("subjectAltName", ()) if k == "URI"]
    mg.check(dj.get("spiffe") == "spiffe://cluster.local/ns/default/sa/meshgate" and
             san == [dj.get("spiffe")] and "BEGIN CERTIFICATE" in dj.get("pem", ""),
             "secrets -o json: the SPIFFE ID (the certificate's URI SAN) and the PEM", (dj.get("spiffe"), san))

    # ---- proxy-status
    version = cli("version").stdout.split()[-1]
    st = status(m)
    mg.check(st is not None and st["NAME"] == "meshgate.default" and st["CLUSTER"] == "-" and
             all(st[k] == "SYNCED" for k in ("CDS", "LDS", "EDS", "RDS")) and
             st["ECDS"] == "NOT SENT" and st["ISTIOD"] == "embedded" and st["VERSION"] == version,
             "proxy-status: SYNCED, its name and version", st)
    r = cli("proxy-status", "--admin", m.admin_port, "-o", "json")
    try:
        js = json.loads(r.stdout)
    except ValueError:
        js = None
    mg.check(js and js[0]["server_info"]["version"] == version and
             js[0]["syncz"]["sources"][0]["status"] == "SYNCED", "proxy-status -o json", r.stdout[:300])

    # a refused change: the last good configuration serves, the status says so
    m.write_yaml("20-bad.yaml", [mg.service_entry("bad", "bad.example", [("127.0.0.9", 80)],
                                                  port=99999)])
    st = mg.wait_for(lambda: (lambda s: s if s and s["CDS"] == "STALE (error)" else None)(status(m)), 15)
    mg.check(st and st["LDS"] == "STALE (error)" and st["EDS"] == "STALE (error)",
             "a refused change: STALE (error)", st)
    rows = pc(m, "clusters", CLUSTER_COLS, "--fqdn", "bad.example")
    mg.check(rows == [], "... and the rejected host is not served", rows)
    m.remove_yaml("20-bad.yaml")
    st = mg.wait_for(lambda: (lambda s: s if s and s["CDS"] == "SYNCED" else None)(status(m)), 15)
    mg.check(st is not None, "fixed: SYNCED again", status(m))

    # ---- errors
    dead = mg.free_ports(1)[0]
    for argv in (("proxy-config", "clusters", "--admin", f"127.0.0.1:{dead}"),
                 ("proxy-status", "--admin", f"127.0.0.1:{dead}")):
        r = cli(*argv)
        mg.check(r.returncode == 1 and not r.stdout and "connect failed (Connection refused)" in r.stderr
                 and f"127.0.0.1:{dead}" in r.stderr,
                 f"{argv[0]}: an unreachable admin API is exit 1 with a message", (r.returncode, r.stderr))
    r = cli("proxy-config", "clusters", "--admin", f"127.0.0.1:{m.health_port}")
    mg.check(r.returncode == 1 and "HTTP 404" in r.stderr, "a port that is not the admin API: exit 1",
             (r.returncode, r.stderr))
    for argv, what in ((("proxy-config", "clusters", "--name", "x"), "a filter of another kind"),
                       (("proxy-config", "nodes"), "an unknown kind"),
                       (("proxy-config",), "no kind"),
                       (("proxy-config", "routes", "-o", "yaml"), "an unknown output"),
                       (("proxy-config", "listeners", "--port", "http"), "a port that is not a number"),
                       (("proxy-config", "listeners", "--admin", "admin.example:15000"), "a host name"),
                       (("proxy-status", "--bogus"), "an unknown option")):
        r = cli(*argv)
        mg.check(r.returncode == 2 and r.stderr, f"misuse: {what} is exit 2", (r.returncode, r.stderr[:200]))


mg.run(test)
