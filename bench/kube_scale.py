#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# kube_scale.py: the control plane fed by Kubernetes at scale, for
# scripts/bench (control-plane case). tests/fixtures/fake_kube.py serves
# SERVICES Services, each with one EndpointSlice of ENDPOINTS ready
# endpoints; meshgate (2 workers) runs on it alone. Printed as key=value:
#   ready_ms         start to /healthz/ready (every watch listed, the
#                    snapshot from every first list on every worker)
#   hwm_mib, rss_mib peak and final RSS of meshgate
#   change_ms        one EndpointSlice changed (one endpoint moves): the
#                    put to every worker running the new snapshot, median
#                    and min-max of CHANGES (includes the 100 ms settle
#                    that batches a burst of events)
#   change_load_us   the control plane's work for it: the changed
#                    Services' entries made again and swapped in
#   change_build_us  ... and the snapshot patched (median)
#   publish_us       its publish to the last worker running it (median)
#   patches          how many changes were applied as endpoint patches
#
#   kube_scale.py --meshgate BIN [--services N] [--endpoints E] [--changes K]
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "fixtures"))
from fake_kube import FakeKube  # noqa: E402


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def stats(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as r:
        out = {}
        for line in r.read().decode().splitlines():
            k, _, v = line.partition(": ")
            out[k] = v
        return out


def slice_of(i, endpoints, moved=None):
    eps = [{"addresses": [f"10.{100 + (i * endpoints + j) // 65536 % 100}."
                          f"{(i * endpoints + j) // 256 % 256}.{(i * endpoints + j) % 256}"],
            "conditions": {"ready": True}} for j in range(endpoints)]
    if moved is not None:
        eps[0] = {"addresses": [f"10.250.{moved // 256 % 256}.{moved % 256}"],
                  "conditions": {"ready": True}}
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"svc{i}-x", "namespace": "default",
                         "labels": {"kubernetes.io/service-name": f"svc{i}"}},
            "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
            "endpoints": eps}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--meshgate", required=True)
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--endpoints", type=int, default=10)
    ap.add_argument("--changes", type=int, default=5)
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="kube-scale-")
    fk = FakeKube(bookmark_interval=5, watch_timeout=300)
    fk.start()
    proc = None
    try:
        objs = []
        for i in range(a.services):
            objs.append({"apiVersion": "v1", "kind": "Service",
                         "metadata": {"name": f"svc{i}", "namespace": "default"},
                         "spec": {"clusterIP": f"10.96.{i // 256 % 256}.{i % 256}",
                                  "ports": [{"name": "http", "port": 80, "targetPort": 8080,
                                             "protocol": "TCP"}]}})
            objs.append(slice_of(i, a.endpoints))
        for k in range(0, len(objs), 5000):
            fk.control("POST", "/objects", objs[k:k + 5000], timeout=600)
        os.makedirs(f"{work}/mesh.d")
        fk.kubeconfig(f"{work}/kubeconfig")
        admin, health, prom, out = free_ports(4)
        with open(f"{work}/meshgate.ini", "w") as f:
            f.write(f"[appliance]\nworkers = 2\nstate_dir = {work}/state\n"
                    f"[admin]\naddress = 127.0.0.1\nport = {admin}\n"
                    f"health_address = 127.0.0.1\nhealth_port = {health}\n"
                    f"prometheus_port = {prom}\n"
                    f"[mesh]\nconfig_dir = {work}/mesh.d\n[ca]\nport = 0\n"
                    f"[kubernetes]\nkubeconfig = {work}/kubeconfig\n"
                    f"[listener out]\naddress = 127.0.0.1\nport = {out}\n")
        log = open(f"{work}/meshgate.log", "w")
        t0 = time.monotonic()
        proc = subprocess.Popen([a.meshgate, "run", "-c", f"{work}/meshgate.ini"], stdout=log,
                                stderr=subprocess.STDOUT)
        deadline = t0 + 300
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{health}/healthz/ready",
                                            timeout=2) as r:
                    if r.status == 200:
                        break
            except Exception:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"meshgate not ready (see {work}/meshgate.log)")
            time.sleep(0.02)
        ready_ms = (time.monotonic() - t0) * 1000
        time.sleep(1)
        changes, loads, builds, publish = [], [], [], []
        p0 = int(stats(admin).get("config.endpoint_patches", "0"))
        for k in range(a.changes):
            gen = int(stats(admin)["config.generation"])
            t0 = time.monotonic()
            fk.put(slice_of(k % a.services, a.endpoints, moved=k))
            while int(stats(admin)["config.applied_generation"]) <= gen:
                if time.monotonic() - t0 > 30:
                    raise RuntimeError("no convergence in 30 s")
                time.sleep(0.002)
            changes.append((time.monotonic() - t0) * 1000)
            st = stats(admin)
            loads.append(int(st["config.last_load_us"]))
            builds.append(int(st["config.last_build_us"]))
            publish.append(int(st.get("config.publish_to_applied_us", "0")))
            time.sleep(0.3)
        status = open(f"/proc/{proc.pid}/status").read()
        hwm = int(status.split("VmHWM:")[1].split()[0]) // 1024
        rss = int(status.split("VmRSS:")[1].split()[0]) // 1024
        patches = int(stats(admin).get("config.endpoint_patches", "0")) - p0
        print(f"services={a.services}\nendpoints={a.services * a.endpoints}\n"
              f"ready_ms={ready_ms:.0f}\nhwm_mib={hwm}\nrss_mib={rss}\n"
              f"change_ms={statistics.median(changes):.0f}\n"
              f"change_ms_min={min(changes):.0f}\nchange_ms_max={max(changes):.0f}\n"
              f"change_load_us={statistics.median(loads):.0f}\n"
              f"change_build_us={statistics.median(builds):.0f}\n"
              f"publish_us={statistics.median(publish):.0f}\n"
              f"patches={patches}\nchanges={a.changes}")
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        fk.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
