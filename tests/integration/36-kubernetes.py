#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 36-kubernetes: the Kubernetes API as a source, against the fake API server
# (tests/fixtures/fake_kube.py: TLS, bearer token, list/watch, 410, drops,
# outages). A Service with its EndpointSlice becomes routable (by its FQDN
# and Istio's short forms); scaling the slice down stops traffic to the
# removed pod; DestinationRule subsets and a VirtualService from the API
# route by pod labels, and a pod's label change moves it between subsets;
# an invalid VirtualService from the API is skipped alone; a compacted
# watch (410) relists and loses no update; a dropped watch resumes; the API
# going away for 30 s causes no data-plane error and a change made after
# its return converges; a wrong token keeps meshgate not ready.

import atexit
import json
import re
import shutil
import subprocess
import time

import mg
from fake_kube import FakeKube

NS = "default"


def service(name, port, target, port_name="http"):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.50", "clusterIPs": ["10.96.0.50"],
                     "ports": [{"name": port_name, "port": port, "targetPort": target,
                                "protocol": "TCP"}],
                     "selector": {"app": name}}}


def pod(name, ip, labels, sa="reviews"):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"serviceAccountName": sa, "containers": [{"name": "app", "image": "x"}]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}


def slice_(svc, pods, port, not_ready=()):
    eps = []
    for name, ip in pods:
        eps.append({"addresses": [ip],
                    "conditions": {"ready": name not in not_ready, "serving": True,
                                   "terminating": False},
                    "targetRef": {"kind": "Pod", "name": name, "namespace": NS}})
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": svc + "-abcde", "namespace": NS,
                         "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4", "endpoints": eps,
            "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}


def who(m, host, n=1):
    out = []
    for _ in range(n):
        try:
            r = mg.get(m.port, "/echo", host)
            out.append(r.json().get("name") if r.status == 200 else r.status)
        except Exception as e:  # noqa: BLE001 (a connection error is an answer here)
            out.append(repr(e))
    return out


def converge(m, host, want, timeout=10, n=12):
    return mg.wait_for(lambda: set(who(m, host, n)) == want, timeout)


def syncz(m):
    st, body = m.admin("/syncz")
    return json.loads(body) if st == 200 else {}


CA_CLIENT = mg.FIXTURES / "ca_client.py"


def ca_ok():
    try:
        import grpc  # noqa: F401
        import grpc_tools  # noqa: F401
        import cryptography  # noqa: F401
        return True
    except ImportError:
        mg.note("python3-grpcio/grpc-tools/cryptography missing: CA checks skipped")
        return False


def ca_call(addr, root, token, cluster=None):
    argv = [mg.PYTHON, str(CA_CLIENT), "--addr", addr, "--ca", str(root), "--token", token]
    if cluster:
        argv += ["--cluster-id", cluster]
    r = subprocess.run(argv, capture_output=True, timeout=60)
    try:
        return json.loads(r.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"status": "CLIENT-ERROR", "message": r.stderr.decode()[-400:]}


def test():
    mg.need("openssl")
    a = mg.Upstream("a", host="127.0.0.1")
    b = mg.Upstream("b", host="127.0.0.2", port=a.port)
    fk = FakeKube(bookmark_interval=1, watch_timeout=20)
    fk.start()
    atexit.register(fk.stop)        # also when a check raises
    mg._on_failure.append(lambda: print(mg.tail(fk.log, 40)) if getattr(fk, "log", None) else None)
    work = mg.tmpdir("kube")
    kc = work / "kubeconfig"
    fk.kubeconfig(str(kc))

    host = f"reviews.{NS}.svc.cluster.local"
    fk.put(pod("reviews-a", "127.0.0.1", {"app": "reviews", "version": "v1"}))
    fk.put(pod("reviews-b", "127.0.0.2", {"app": "reviews", "version": "v2"}))
    fk.put(service("reviews", 9080, a.port))
    fk.put(slice_("reviews", [("reviews-a", "127.0.0.1"), ("reviews-b", "127.0.0.2")], a.port))

    m = mg.Mesh(ini={"kubernetes": {"kubeconfig": str(kc)}}, workers=1, name="kube")
    dict(m.sections)["mesh"].pop("outbound_traffic_policy")   # MeshConfig decides
    m.start()
    st, _ = mg.simple_get(m.health_port, "/healthz/ready")
    mg.check(mg.wait_for(lambda: mg.simple_get(m.health_port, "/healthz/ready")[0] == 200, 15),
             "ready once every watch listed", st)
    mg.check(converge(m, host, {"a", "b"}),
             "a Service with its EndpointSlice is routable, both pods answer", who(m, host, 6))
    for alias in ("reviews", "reviews:9080", "reviews.default", "reviews.default.svc"):
        mg.check(who(m, alias) in (["a"], ["b"]), f"Istio's short form {alias!r} routes too",
                 who(m, alias))
    mg.check(who(m, "reviews.other") == [502], "another namespace's short form is not ours",
             who(m, "reviews.other"))
    z = syncz(m)
    kw = [s for s in z.get("sources", []) if s.get("source") == "kubernetes"]
    mg.check(kw and all(s["status"] in ("SYNCED", "NOT_SERVED") for s in kw),
             "/syncz shows every watch synced", [(s["resource"], s["status"]) for s in kw])
    # /config_dump lists every resource with its source and version
    st, body = m.admin("/config_dump")
    res = json.loads(body).get("resources", []) if st == 200 else []
    kse = [r for r in res if r["kind"] == "ServiceEntry" and r["name"] == "reviews"]
    mg.check(kse and kse[0]["source"] == "kubernetes Service default/reviews" and
             kse[0]["version"], "/config_dump: the Service's entry, its source and version", kse)

    # a file ServiceEntry may share a Kubernetes Service's name (other kinds)
    m.write_yaml("20-same-name.yaml", [mg.service_entry("reviews", "reviews.example",
                                                        [("127.0.0.1", a.port)])])
    mg.check(mg.wait_for(lambda: who(m, "reviews.example") == ["a"], 10),
             "a file ServiceEntry named like a Kubernetes Service: both serve",
             who(m, "reviews.example"))
    mg.check(converge(m, host, {"a", "b"}, n=20), "... the Service still routes", who(m, host, 6))
    st, body = m.admin("/config_dump")
    res = json.loads(body).get("resources", []) if st == 200 else []
    fse = [r for r in res if r["kind"] == "ServiceEntry" and r["source"].endswith(".yaml")]
    mg.check(fse and fse[0]["line"] >= 1 and len(fse[0]["version"]) == 16,
             "/config_dump: a file resource's path, line and content hash", fse)
    m.remove_yaml("20-same-name.yaml")
    mg.check(mg.wait_for(lambda: who(m, "reviews.example") != ["a"], 10),
             "the file ServiceEntry removed", who(m, "reviews.example"))

    # scale down: pod b leaves the slice; only endpoints changed, so the
    # burst is taken as such and the snapshot patched, not rebuilt
    k0, p0 = m.stat("config.kube_endpoint_bursts", -1), m.stat("config.endpoint_patches", -1)
    fk.put(slice_("reviews", [("reviews-a", "127.0.0.1")], a.port))
    mg.check(converge(m, host, {"a"}, n=20), "scaled down: the removed pod gets no traffic",
             who(m, host, 6))
    mg.check(m.stat("config.kube_endpoint_bursts", -1) > k0 and
             m.stat("config.endpoint_patches", -1) > p0,
             "an EndpointSlice change is applied as an endpoint patch",
             (k0, p0, m.stat("config.kube_endpoint_bursts", -1), m.stat("config.endpoint_patches", -1)))
    # a not-ready endpoint takes no traffic
    fk.put(slice_("reviews", [("reviews-a", "127.0.0.1"), ("reviews-b", "127.0.0.2")], a.port,
                  not_ready=("reviews-b",)))
    time.sleep(0.5)
    mg.check(set(who(m, host, 20)) == {"a"}, "a not-ready endpoint gets no traffic",
             who(m, host, 6))
    fk.put(slice_("reviews", [("reviews-a", "127.0.0.1"), ("reviews-b", "127.0.0.2")], a.port))
    mg.check(converge(m, host, {"a", "b"}), "ready again: both answer", who(m, host, 6))

    # Istio resources from the API: subsets by pod labels
    fk.put({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": "reviews", "namespace": NS},
            "spec": {"host": "reviews",
                     "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                 {"name": "v2", "labels": {"version": "v2"}}]}})
    fk.put({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "reviews", "namespace": NS},
            "spec": {"hosts": ["reviews"],
                     "http": [{"route": [{"destination": {"host": "reviews", "subset": "v2"}}]}]}})
    mg.check(converge(m, host, {"b"}, n=20),
             "a VirtualService from the API routes to subset v2 (pod labels)", who(m, host, 6))
    k0 = m.stat("config.kube_endpoint_bursts", -1)
    fk.put(pod("reviews-a", "127.0.0.1", {"app": "reviews", "version": "v2"}))
    mg.check(converge(m, host, {"a", "b"}, n=20),
             "a pod relabelled v1 -> v2 moves into subset v2", who(m, host, 6))
    mg.check(m.stat("config.kube_endpoint_bursts", -1) > k0,
             "a pod's new labels are applied as an endpoint change of the Services naming it",
             (k0, m.stat("config.kube_endpoint_bursts", -1)))

    # a pod's status churns; what the registry reads does not: no rebuild
    def builds():
        err = m.stderr()
        return err.count("config: unchanged") + err.count("published (generation")
    time.sleep(0.5)
    b0 = builds()
    busy = pod("reviews-b", "127.0.0.2", {"app": "reviews", "version": "v2"})
    for i in range(5):
        busy["status"]["conditions"] = [{"type": "Ready", "status": "True",
                                         "lastProbeTime": f"2026-01-01T00:00:0{i}Z"}]
        fk.put(busy)
    time.sleep(1)
    mg.check(builds() == b0, "pod status updates (labels unchanged) rebuild nothing",
             (b0, builds()))

    # an invalid object from the API is skipped alone
    fk.put({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "broken", "namespace": NS},
            "spec": {"hosts": ["broken.example"],
                     "http": [{"route": [{"destination": {"host": "x"}, "weight": -5}]}]}})
    fk.put(pod("reviews-a", "127.0.0.1", {"app": "reviews", "version": "v1"}))
    mg.check(converge(m, host, {"b"}, n=20),
             "an invalid VirtualService does not block the other changes", who(m, host, 6))
    mg.check(mg.wait_for(lambda: "broken" in json.dumps(syncz(m)), 5),
             "/syncz reports the skipped resource", syncz(m).get("sources", [])[-1:])
    mg.check("broken" in m.stderr() and "skipped" in m.stderr(), "and the log says why")
    fk.delete("networking.istio.io/v1", "VirtualService", NS, "broken")

    # 410: the watch's version is compacted away while it is down
    before = fk.stats()
    fk.compact(close_watches=True)
    fk.delete("networking.istio.io/v1", "VirtualService", NS, "reviews")
    mg.check(converge(m, host, {"a", "b"}, n=20),
             "after a compaction (410) the relist loses no update", who(m, host, 6))
    after = fk.stats()
    mg.check(sum(after["list"].values()) > sum(before["list"].values()),
             "the client listed again after 410", (before["list"], after["list"]))

    # a dropped watch resumes from its version
    fk.drop()
    fk.put(slice_("reviews", [("reviews-b", "127.0.0.2")], a.port))
    mg.check(converge(m, host, {"b"}, n=20), "a dropped watch resumes and sees the change",
             who(m, host, 6))

    # (the fake logs a request when it ends: the watches dropped above)
    req = fk.requests()
    reqs = req.get("requests", []) if isinstance(req, dict) else req
    watches = [r for r in reqs if isinstance(r, dict) and r.get("watch")]
    mg.check(watches and all("allowWatchBookmarks=true" in (r.get("query") or "") and
                             "resourceVersion=" in (r.get("query") or "") for r in watches),
             "watches ask for bookmarks from the list's resourceVersion", watches[:2])

    # MeshConfig from the istio ConfigMap: outboundTrafficPolicy
    ip_host = f"127.0.0.1:{a.port}"
    mg.check(who(m, ip_host) == [502], "REGISTRY_ONLY by default: an unknown authority is 502",
             who(m, ip_host))

    def mesh_cm(text):
        fk.put({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "istio", "namespace": "istio-system"},
                "data": {"mesh": text}})
    mesh_cm("outboundTrafficPolicy:\n  mode: ALLOW_ANY\nenableTracing: true\n")
    mg.check(mg.wait_for(lambda: who(m, ip_host) == ["a"], 10),
             "the istio ConfigMap's ALLOW_ANY passes an unknown authority through", who(m, ip_host))
    mesh_cm("outboundTrafficPolicy: {mode: SOMETIMES}\n")
    time.sleep(1)
    mg.check(who(m, ip_host) == ["a"], "an invalid mesh config keeps the last good one",
             who(m, ip_host))
    mg.check("SOMETIMES" in m.stderr(), "and says why in the log")
    mesh_cm("outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n")
    mg.check(mg.wait_for(lambda: who(m, ip_host) == [502], 10),
             "back to REGISTRY_ONLY from the ConfigMap", who(m, ip_host))
    mg.check(set(who(m, host, 6)) <= {"a", "b"}, "registered services unaffected")

    # the CA takes Kubernetes service-account tokens (TokenReview, istio-ca)
    if ca_ok():
        root = m.dir / "state" / "ca" / "root-cert.pem"
        addr = f"127.0.0.1:{m.ca_port}"
        fk.add_token("sa-token-bookinfo", "bookinfo", "productpage", audiences=["istio-ca"])
        fk.add_token("sa-token-other-aud", "bookinfo", "productpage", audiences=["vault"])
        r = ca_call(addr, root, token="sa-token-bookinfo")
        mg.check(r.get("status") == "OK" and
                 r.get("spiffe") == "spiffe://cluster.local/ns/bookinfo/sa/productpage",
                 "a Kubernetes service-account token gets its SVID (TokenReview)", r)
        r = ca_call(addr, root, token="not-a-known-token")
        mg.check(r.get("status") == "UNAUTHENTICATED" and "kubernetes" in r.get("message", ""),
                 "an unknown token is refused, with both authenticators' reasons", r)
        r = ca_call(addr, root, token="sa-token-other-aud")
        mg.check(r.get("status") == "UNAUTHENTICATED", "a token for another audience is refused", r)
        r = ca_call(addr, root, token="sa-token-bookinfo", cluster="cluster-2")
        mg.check(r.get("status") == "UNAUTHENTICATED" and "cluster-2" in r.get("message", ""),
                 "a ClusterID we do not serve is refused as istiod does", r)
        reviews = [q for q in fk.requests() if "tokenreviews" in q.get("path", "")]
        mg.check(len(reviews) == 3, "one TokenReview per Kubernetes token checked",
                 len(reviews))

    # 20 changes from the API under wrk load: no failed request, no lost connection
    if shutil.which("wrk"):
        url = f"http://127.0.0.1:{m.port}/"
        bg = mg.Background(mg.wrk, url, 6, 20, 1, [("Host", host)])
        time.sleep(0.5)
        sets = [[("reviews-a", "127.0.0.1")], [("reviews-b", "127.0.0.2")],
                [("reviews-a", "127.0.0.1"), ("reviews-b", "127.0.0.2")]]
        for i in range(20):
            fk.put(slice_("reviews", sets[i % 3], a.port))
            time.sleep(0.25)
        bg.join(40)
        res = bg.result
        if mg.check(res is not None, "wrk ran", bg.error):
            mg.note(f"wrk during 20 API changes: {res.requests} requests, {res.rps:.0f}/s, "
                    f"non-2xx {res.non2xx}, socket errors {res.socket_errors}")
            mg.check(res.requests > 1000, "wrk completed requests during the changes",
                     res.requests)
            mg.check_eq(res.non2xx, 0, "no non-2xx response during 20 API changes")
            mg.check_eq(res.socket_errors, 0, "no socket error during 20 API changes")

    # the API away for 30 s: the data plane keeps serving
    fk.put(slice_("reviews", [("reviews-a", "127.0.0.1"), ("reviews-b", "127.0.0.2")], a.port))
    mg.check(converge(m, host, {"a", "b"}), "both pods again")
    fk.down(30)
    t_end = time.monotonic() + 30
    errors, total = 0, 0
    while time.monotonic() < t_end:
        res = who(m, host, 5)
        total += len(res)
        errors += sum(1 for x in res if x not in ("a", "b"))
        time.sleep(0.2)
    mg.check(total > 100 and errors == 0, "no data-plane error while the API is away",
             (total, errors))
    mg.check(mg.wait_for(lambda: fk.stats().get("up"), 15), "the API is back")
    t0 = time.monotonic()
    fk.put(slice_("reviews", [("reviews-a", "127.0.0.1")], a.port))
    ok = converge(m, host, {"a"}, timeout=15, n=20)
    mg.check(ok, "a change after the API's return converges", who(m, host, 6))
    mg.note(f"converged {time.monotonic() - t0:.2f}s after the first change past the outage")
    mg.check(mg.simple_get(m.health_port, "/healthz/ready")[0] == 200,
             "still ready: readiness does not flap with the API")
    m.stop()

    # the istio ConfigMap's trustDomain is the mesh's: the authority waits
    # for it at start, as istiod reads it before issuing anything
    mesh_cm("trustDomain: mesh.example\n")
    m3 = mg.Mesh(ini={"kubernetes": {"kubeconfig": str(kc)}}, workers=1, name="kube-td")
    m3.start()
    mg.check(mg.wait_for(lambda: mg.simple_get(m3.health_port, "/healthz/ready")[0] == 200, 15),
             "ready with the ConfigMap's trust domain", mg.simple_get(m3.health_port,
                                                                      "/healthz/ready"))
    mg.check(str(m3.stat("identity.spiffe", "")).startswith("spiffe://mesh.example/ns/"),
             "the ConfigMap's trustDomain names the appliance's identity",
             m3.stat("identity.spiffe", ""))
    m3.stop()

    # an exec credential plugin (as EKS and GKE kubeconfigs use): it runs
    # with KUBERNETES_EXEC_INFO, its token is used and kept
    plugin = work / "cred-plugin.sh"
    plugin.write_text("#!/bin/sh\n"
                      "echo \"$KUBERNETES_EXEC_INFO\" >> \"$(dirname \"$0\")/plugin-runs\"\n"
                      "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                      "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s\"}}' \"$1\"\n")
    plugin.chmod(0o755)
    kc3 = work / "kubeconfig-exec"
    kc3.write_text(re.sub(r"( *)token: .*",
                          lambda mt: f"{mt.group(1)}exec:\n{mt.group(1)}  apiVersion: "
                                     f"client.authentication.k8s.io/v1\n{mt.group(1)}  "
                                     f"command: ./cred-plugin.sh\n{mt.group(1)}  args: "
                                     f"[{fk.token}]\n{mt.group(1)}  interactiveMode: Never",
                          kc.read_text()))
    m4 = mg.Mesh(ini={"kubernetes": {"kubeconfig": str(kc3)},
                      "appliance": {"trust_domain": "cluster.local"}}, workers=1, name="kube-exec")
    m4.start()
    mg.check(mg.wait_for(lambda: mg.simple_get(m4.health_port, "/healthz/ready")[0] == 200, 15),
             "an exec credential plugin's token lists and watches", syncz(m4).get("sources", [])[:3])
    runs = (work / "plugin-runs").read_text().splitlines() if (work / "plugin-runs").exists() else []
    mg.check(len(runs) == 1 and '"apiVersion":"client.authentication.k8s.io/v1"' in runs[0],
             "the plugin ran once (its token kept), told what is asked", runs)
    m4.stop()

    # a wrong token: never ready, /syncz says why
    kc2 = work / "kubeconfig-bad"
    kc2.write_text(re.sub(r"token: .*", "token: wrong", kc.read_text()))
    m2 = mg.Mesh(ini={"kubernetes": {"kubeconfig": str(kc2)}}, workers=1, name="kube-401")
    m2.write_ini()
    m2.proc = mg.Proc("meshgate", [mg.binary(), "run", "-c", str(m2.ini_path())], cwd=m2.dir,
                      stdout=open(m2.stdout_path, "wb"), stderr=open(m2.stderr_path, "wb"))
    mg.check(mg.wait_for(lambda: "401" in json.dumps(syncz(m2)), 10),
             "a wrong token: /syncz shows 401", syncz(m2).get("sources", [])[2:3])
    st, body = mg.simple_get(m2.health_port, "/healthz/ready")
    mg.check(st == 503 and b"kubernetes" in body, "and meshgate is not ready", (st, body))
    m2.stop()
    fk.stop()


if __name__ == "__main__":
    mg.run(test)
