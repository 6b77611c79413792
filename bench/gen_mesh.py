#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# gen_mesh.py: a large mesh for the control-plane benchmark, as Istio YAML.
#
#   gen_mesh.py DIR [--services N] [--endpoints-per-service K] [--virtual-services M]
#
# Writes DIR/services-NNN.yaml (ServiceEntries svc-<i>.bench.example in
# namespaces ns-<i % 50>, one HTTP port 80 and one TCP port 9000 with a
# cluster IP, K STATIC endpoints each labelled app/version/tlsMode) and
# DIR/routes-NNN.yaml (VirtualServices for the first M hosts: a prefix match
# splitting 90/10 between two services, and a default route), 1000
# resources per file. Deterministic: the same arguments give the same bytes.
import argparse
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--services", type=int, default=10000)
    ap.add_argument("--endpoints-per-service", type=int, default=10)
    ap.add_argument("--virtual-services", type=int, default=5000)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    per_file = 1000
    n = a.services
    for f in range(0, n, per_file):
        out = []
        for i in range(f, min(f + per_file, n)):
            eps = []
            for e in range(a.endpoints_per_service):
                ip = 10 << 24 | (i * a.endpoints_per_service + e + 1)
                addr = ".".join(str(ip >> s & 255) for s in (24, 16, 8, 0))
                eps.append(f"  - address: {addr}\n"
                           f"    labels: {{app: svc-{i}, version: v{e % 3}, "
                           f"security.istio.io/tlsMode: istio}}\n")
            vip = 240 << 24 | (i + 1)
            vip_s = ".".join(str(vip >> s & 255) for s in (24, 16, 8, 0))
            out.append("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
                       f"metadata: {{name: svc-{i}, namespace: ns-{i % 50}}}\n"
                       f"spec:\n  hosts: [svc-{i}.bench.example]\n  addresses: [{vip_s}]\n"
                       "  location: MESH_INTERNAL\n  resolution: STATIC\n"
                       "  ports:\n  - {number: 80, name: http, protocol: HTTP}\n"
                       "  - {number: 9000, name: tcp, protocol: TCP}\n"
                       "  endpoints:\n" + "".join(eps))
        with open(os.path.join(a.dir, f"services-{f // per_file:03d}.yaml"), "w") as fh:
            fh.write("---\n".join(out))
    m = min(a.virtual_services, n)
    for f in range(0, m, per_file):
        out = []
        for i in range(f, min(f + per_file, m)):
            other = (i + 1) % n
            out.append("apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
                       f"metadata: {{name: vs-{i}, namespace: ns-{i % 50}}}\n"
                       f"spec:\n  hosts: [svc-{i}.bench.example]\n  http:\n"
                       f"  - name: api\n    match: [{{uri: {{prefix: /api/{i}}}}}]\n"
                       "    route:\n"
                       f"    - destination: {{host: svc-{i}.bench.example, port: {{number: 80}}}}\n"
                       "      weight: 90\n"
                       f"    - destination: {{host: svc-{other}.bench.example, port: {{number: 80}}}}\n"
                       "      weight: 10\n    timeout: 5s\n"
                       "  - name: default\n    route:\n"
                       f"    - destination: {{host: svc-{i}.bench.example, port: {{number: 80}}}}\n")
        with open(os.path.join(a.dir, f"routes-{f // per_file:03d}.yaml"), "w") as fh:
            fh.write("---\n".join(out))


if __name__ == "__main__":
    main()
