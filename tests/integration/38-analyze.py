#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 38-analyze: `meshgate analyze` on Istio's bookinfo samples with the
# bookinfo Services and Deployments (tests/data/analyze): exactly the
# messages istioctl analyze gives for each combination (the standard one
# warns IST0140, as istioctl does), the bookinfo.yaml-only registry (IST0173
# for the versions it does not deploy), a missing host (IST0101, an Error
# in Istio), a Warning-only input and --fail-on-warning (exit 1), schema and
# YAML errors (exit 2, file:line and field), -o json, --namespace, stdin,
# directories and misuse.

import json
import re
import subprocess

import mg

NET = mg.SHARED / "testdata" / "istio" / "bookinfo-networking"
SVCS = mg.ROOT / "tests" / "data" / "analyze" / "bookinfo-services.yaml"
MSG = re.compile(r"^(Error|Warning|Info) \[(\w+)\] \((\w+) ([\w.-]+)/([\w.-]+) (\S+):(\d+)\) (.*)$")


def analyze(*args, stdin=None):
    return subprocess.run([mg.binary(), "analyze", *map(str, args)], capture_output=True, text=True,
                          input=stdin)


def msgs(r):
    """(level, code, 'Kind ns/name') of every stdout line; None for a line that is not a message."""
    out = []
    for line in r.stdout.splitlines():
        m = MSG.match(line)
        out.append((m.group(1), m.group(2), f"{m.group(3)} {m.group(4)}/{m.group(5)}") if m else None)
    return out


# What istioctl analyze says for each bookinfo networking file together with
# destination-rule-all.yaml and the bookinfo Services/Deployments (every
# version deployed, the ingress gateway running). Files defining a
# DestinationRule that destination-rule-all.yaml defines too are refused as
# istioctl refuses them ("item already exists"): exit 2, a line on stderr.
WITH_DR_ALL = {
    "bookinfo-gateway.yaml": ([], 0),
    "certmanager-gateway.yaml": ([("Error", "IST0101", "VirtualService istio-system/cert-manager"),
                                  ("Warning", "IST0162", "Gateway istio-system/cert-manager-gateway")], 2),
    "destination-rule-all-mtls.yaml": ([], 2),
    "destination-rule-reviews.yaml": ([], 2),
    "egress-rule-google-apis.yaml": ([("Warning", "IST0129", "DestinationRule default/originate-tls-for-googleapis")], 0),
    "fault-injection-details-v1.yaml": ([("Warning", "IST0130", "VirtualService default/details")], 2),
}


def test_bookinfo(tmp):
    std = [NET / "bookinfo-gateway.yaml", NET / "destination-rule-all.yaml", NET / "virtual-service-all-v1.yaml"]

    r = analyze(NET / "bookinfo-gateway.yaml", NET / "destination-rule-all.yaml", "-f", SVCS)
    mg.check(r.returncode == 0 and r.stdout == "" and "No validation issues found" in r.stderr,
             "gateway + destination-rule-all + bookinfo services: clean, exit 0", (r.returncode, r.stdout, r.stderr))

    r = analyze(*std, "-f", SVCS)
    mg.check_eq(msgs(r), [("Warning", "IST0140", "VirtualService default/bookinfo")],
                "standard bookinfo (gateway, destination-rule-all, virtual-service-all-v1): istioctl's one warning")
    mg.check("Subset in virtual service default/productpage has no effect on ingress gateway default/bookinfo "
             "requests" in r.stdout and "bookinfo-gateway.yaml:" in r.stdout,
             "IST0140: Istio's text and the VirtualService's file:line", r.stdout)
    mg.check_eq(r.returncode, 0, "standard bookinfo: a warning alone exits 0")
    r = analyze(*std, "-f", SVCS, "--fail-on-warning")
    mg.check_eq(r.returncode, 1, "standard bookinfo --fail-on-warning: exit 1")
    r = analyze(*std, "-f", SVCS, "--failure-threshold", "Warning")
    mg.check_eq(r.returncode, 1, "--failure-threshold Warning is --fail-on-warning")
    r = analyze(*std, "-f", SVCS, "--output-threshold", "Error")
    mg.check(r.returncode == 0 and r.stdout == "", "--output-threshold Error hides the warning", r.stdout)
    r = analyze(*std, "-f", SVCS, "-o", "json")
    try:
        j = json.loads(r.stdout)
    except ValueError as e:
        j = e
    mg.check(isinstance(j, list) and len(j) == 1 and j[0]["code"] == "IST0140" and j[0]["level"] == "Warning"
             and j[0]["origin"] == "VirtualService default/bookinfo"
             and re.search(r"bookinfo-gateway\.yaml:\d+$", j[0]["reference"]) and j[0]["message"].startswith("Subset")
             and j[0]["documentationUrl"].endswith("/ist0140/"),
             "-o json: istioctl's objects {code, documentationUrl, level, message, origin, reference}", r.stdout[:400])

    for f in sorted(NET.glob("*.yaml")):
        if f.name == "destination-rule-all.yaml":
            continue
        want, code = WITH_DR_ALL.get(f.name, ([], 0))
        r = analyze(f, NET / "destination-rule-all.yaml", "-f", SVCS)
        ok = msgs(r) == want and r.returncode == code
        if code == 2 and not want:
            ok = ok and "already defined at" in r.stderr
        what = want or ("a DestinationRule defined twice" if code else "clean")
        mg.check(ok, f"{f.name} + destination-rule-all.yaml: {what}, exit {code}",
                 (r.returncode, r.stdout[:400], r.stderr[:300]))

    # bookinfo.yaml alone deploys neither details-v2 nor the ratings v2
    # variants, and no ingress gateway runs: istioctl's IST0173 errors and the
    # gateway's selector not found.
    docs = SVCS.read_text().split("\n---\n")
    extra = re.compile(r"(?m)^  name: (details-v2|ratings-v2[\w-]*|mongodb[\w-]*|mysqldb[\w-]*|"
                       r"bookinfo-ratings-v2|istio-ingressgateway)$")
    only = tmp / "bookinfo-only.yaml"
    only.write_text("\n---\n".join(d for d in docs if not extra.search(d)))
    r = analyze(*std, "-f", only)
    mg.check_eq(msgs(r), [("Error", "IST0101", "Gateway default/bookinfo-gateway"),
                          ("Error", "IST0173", "DestinationRule default/details"),
                          ("Error", "IST0173", "DestinationRule default/ratings"),
                          ("Error", "IST0173", "DestinationRule default/ratings"),
                          ("Error", "IST0173", "DestinationRule default/ratings"),
                          ("Warning", "IST0140", "VirtualService default/bookinfo")],
                "bookinfo.yaml only: IST0101 gateway selector, IST0173 for details v2, ratings v2/v2-mysql/v2-mysql-vm")
    mg.check('Referenced selector not found: "istio=ingressgateway"' in r.stdout and
             "The Subset v2-mysql-vm defined in the DestinationRule does not select any pods." in r.stdout,
             "their texts", r.stdout)
    mg.check_eq(r.returncode, 2, "an Error-level message: exit 2")

    r = analyze(NET, "-f", SVCS)
    mg.check(r.returncode == 2 and r.stderr.count("already defined at") >= 5,
             "the whole folder: the DestinationRules and VirtualServices its files redefine are refused", r.stderr[:300])


def test_inputs(tmp):
    missing = tmp / "missing-host.yaml"
    missing.write_text(mg.yaml_docs(mg.virtual_service("reviews", ["reviews"], [mg.http_route([mg.dest("reviews2")])])))
    r = analyze(missing, "-f", SVCS)
    mg.check_eq(msgs(r), [("Error", "IST0101", "VirtualService default/reviews")], "a host not in the registry: IST0101")
    mg.check('Referenced host not found: "reviews2"' in r.stdout and re.search(r"missing-host\.yaml:\d+\)", r.stdout),
             "IST0101 text and the host's line", r.stdout)
    mg.check_eq(r.returncode, 2, "IST0101 is an Error in Istio: exit 2")
    r = analyze(missing, "-f", SVCS, "-o", "json")
    mg.check(r.returncode == 2 and json.loads(r.stdout)[0]["message"] == 'Referenced host not found: "reviews2"',
             "-o json parses, same exit status", r.stdout[:300])

    warn = tmp / "unknown-dr-host.yaml"
    warn.write_text("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: ghost\n"
                    "spec:\n  host: ghost\n")
    r = analyze(warn, "-f", SVCS)
    mg.check(msgs(r) == [("Warning", "IST0174", "DestinationRule default/ghost")] and r.returncode == 0,
             "a Warning only (IST0174): exit 0", (r.returncode, r.stdout))
    r = analyze(warn, "-f", SVCS, "--fail-on-warning")
    mg.check_eq(r.returncode, 1, "a Warning only with --fail-on-warning: exit 1")
    r = analyze(warn, missing, "-f", SVCS, "--fail-on-warning")
    mg.check_eq(r.returncode, 2, "an Error and a Warning with --fail-on-warning: exit 2")

    bad = tmp / "schema.yaml"
    bad.write_text("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n"
                   "spec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: reviews\n"
                   "      weight: -5\n")
    r = analyze(bad, "-f", SVCS)
    mg.check(r.returncode == 2 and re.search(r"^Error \[IST0106\] \(VirtualService default/reviews \S*schema\.yaml:11\) "
                                             r"Schema validation error: spec\.http\[0\]\.route\[0\]\.weight: ", r.stdout, re.M),
             "a schema error: IST0106 with file:line, resource and field, exit 2", (r.returncode, r.stdout))

    yml = tmp / "broken.yaml"
    yml.write_text("apiVersion: v1\nkind: [Service\n")
    r = analyze(yml)
    mg.check(r.returncode == 2 and re.search(r"broken\.yaml:\d+: yaml: ", r.stderr), "unreadable YAML: exit 2, file:line",
             (r.returncode, r.stderr))
    r = analyze(tmp / "nonexistent.yaml")
    mg.check(r.returncode == 2 and "No such file" in r.stderr, "a missing file: exit 2", r.stderr)

    vs = ("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n"
          "spec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination:\n        host: {}\n")
    r = analyze("-", "-f", SVCS, "--namespace", "shop", stdin=vs.format("ratings"))
    mg.check(r.returncode == 0 and r.stdout == "", "--namespace shop: the stdin VirtualService and the Services "
             "without a namespace all land in shop", (r.returncode, r.stdout, r.stderr))
    r = analyze("-", "-f", SVCS, "--namespace", "shop", stdin=vs.format("ratings.default.svc.cluster.local"))
    mg.check_eq(msgs(r), [("Error", "IST0101", "VirtualService shop/reviews")],
                "--namespace shop: ratings.default is not there")
    r = analyze(NET / "certmanager-gateway.yaml", "-f", SVCS, "--namespace", "default")
    mg.check(r.returncode == 0 and r.stdout == "", "--namespace default: istio-system's messages are not shown",
             (r.returncode, r.stdout))
    r = analyze(NET / "certmanager-gateway.yaml", "-f", SVCS, "--namespace", "default", "-A")
    mg.check(r.returncode == 2 and len(msgs(r)) == 2, "-A: every namespace's messages again", r.stdout)

    r = analyze()
    mg.check(r.returncode == 2 and "usage" in r.stderr, "no PATH: usage, exit 2", r.stderr[:200])
    r = analyze(missing, "--frobnicate")
    mg.check(r.returncode == 2 and "unknown option" in r.stderr, "an unknown option: exit 2", r.stderr[:200])
    r = analyze(missing, "-o", "yaml")
    mg.check(r.returncode == 2, "-o yaml is not offered: exit 2", r.stderr[:200])
    r = analyze("--help")
    mg.check(r.returncode == 0 and "--fail-on-warning" in r.stdout, "--help: exit 0", r.stdout[:200])


def test():
    tmp = mg.tmpdir("analyze")
    test_bookinfo(tmp)
    test_inputs(tmp)


if __name__ == "__main__":
    mg.run(test)
