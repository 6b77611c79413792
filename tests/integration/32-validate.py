#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 32-validate: `meshgate validate` on Istio's own validation cases and the
# bookinfo samples: every document of a *-invalid.yaml file is reported
# (one or more lines naming the file and the document by name), exit 2;
# *-valid.yaml files and the bookinfo directory pass, exit 0; stdin, a
# missing path and misuse behave.

import re
import subprocess

import mg

TD = mg.SHARED / "testdata" / "istio"
KINDS = ("serviceentry", "destinationrule", "authz", "reqauth")    # Istio's cases we have


def validate(*args, stdin=None):
    return subprocess.run([mg.binary(), "validate", *map(str, args)], capture_output=True,
                          text=True, input=stdin)


def doc_names(path):
    """metadata.name of every document that is not commented out."""
    names = []
    for doc in re.split(r"(?m)^---\s*$", path.read_text()):
        m = re.search(r"(?m)^metadata:\s*\n\s+name:\s*(\S+)", doc)
        if m:
            names.append(m.group(1))
    return names


def test():
    for kind in KINDS:
        good, bad = TD / "api-validation" / f"{kind}-valid.yaml", TD / "api-validation" / f"{kind}-invalid.yaml"
        r = validate(good)
        mg.check(r.returncode == 0 and "valid" in r.stdout and not r.stderr,
                 f"{good.name}: exit 0", (r.returncode, r.stderr[:300]))
        r = validate(bad)
        seen = set(re.findall(r": \w+ [\w.-]+/([\w.-]+): ", r.stderr))
        want = set(doc_names(bad))
        mg.check(r.returncode == 2 and want <= seen,
                 f"{bad.name}: exit 2, every document reported",
                 (r.returncode, sorted(want - seen), r.stderr[:300]))
        mg.check(all(l.startswith(str(bad)) for l in r.stderr.splitlines()),
                 f"{bad.name}: one line per error, each naming the file", r.stderr[:300])
    r = validate(TD / "bookinfo-networking")
    mg.check(r.returncode == 0 and r.stdout.count(": valid (") >= 20,
             "the bookinfo samples are valid", (r.returncode, r.stderr[:300]))
    r = validate(TD / "api-validation" / "serviceentry-valid.yaml",
                 TD / "api-validation" / "serviceentry-invalid.yaml")
    mg.check(r.returncode == 2, "one invalid file among valid ones: exit 2", r.returncode)
    r = validate("-", stdin="apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
                            "metadata: {name: x, namespace: default}\nspec: {hosts: [a.example], "
                            "ports: [{number: 99999, name: http, protocol: HTTP}]}\n")
    mg.check(r.returncode == 2 and re.match(r"-:\d+: ServiceEntry default/x: spec.ports\[0\]", r.stderr),
             "stdin: a port out of range is reported", r.stderr)
    r = validate("/nonexistent/mesh.yaml")
    mg.check(r.returncode == 2 and "No such file" in r.stderr, "a missing path: exit 2", r.stderr)
    r = validate()
    mg.check(r.returncode == 2 and "usage" in r.stderr, "no path: usage, exit 2", r.stderr)


if __name__ == "__main__":
    mg.run(test)
