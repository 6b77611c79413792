#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 25-testssl: testssl.sh (Debian's `testssl`) against two endpoints serving
# certificates of meshgate's CA, with the mesh root given through --add-ca:
# the signing service (its serving certificate names localhost and the
# appliance's addresses) and a data-plane listener serving an SVID. Protocols,
# ciphers, server defaults and the vulnerability checks must report no
# MEDIUM, HIGH or CRITICAL finding, except the ones that are by design for
# short-lived mesh certificates, excepted by name below.

import json
import shutil
import subprocess

import mg

# By design, not weaknesses of the TLS stack:
EXCEPT = {
    "cert_expirationStatus": "mesh certificates live 24 h and are rotated at half life",
    "cert_notAfter": "same",
    "cert_validityPeriod": "same",
    "cert_revocation": "short-lived certificates carry no CRL/OCSP URL (as Istio's)",
    "cert_crlDistributionPoints": "same",
    "cert_ocspURL": "same",
    "OCSP_stapling": "same",
    "DNS_CAArecord": "loopback has no DNS",
}
# An SVID names a SPIFFE ID, never a host name: peers check the ID.
SVID_EXCEPT = {"cert_trust": "an X.509-SVID carries a URI SAN, no DNS name"}


def scan(port, root, work, name, extra_except):
    out = work / f"{name}.json"
    r = subprocess.run(["testssl", "--quiet", "--color", "0", "--warnings", "off", "--jsonfile",
                        str(out), "--add-ca", str(root), "-p", "-S", "-U", "-E",
                        f"127.0.0.1:{port}"], capture_output=True, timeout=600)
    try:
        findings = json.loads(out.read_text())
    except (OSError, ValueError):
        mg.check(False, f"{name}: testssl produced a JSON report", r.stderr[-300:])
        return
    bad = [(f["id"], f["severity"], f["finding"][:80]) for f in findings
           if f.get("severity") in ("MEDIUM", "HIGH", "CRITICAL")
           and f["id"] not in EXCEPT and f["id"] not in extra_except]
    mg.check(len(findings) > 30 and not bad,
             f"{name}: no MEDIUM/HIGH/CRITICAL finding ({len(findings)} checks)", bad)
    by_id = {f["id"]: f for f in findings}
    for pid in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        mg.check("not offered" in by_id.get(pid, {}).get("finding", ""), f"{name}: {pid} not offered",
                 by_id.get(pid))
    reneg = by_id.get("secure_client_renego", {}).get("finding", "")
    mg.check("not vulnerable" in reneg, f"{name}: no client-initiated renegotiation", reneg)


def test():
    if not shutil.which("testssl"):
        mg.skip("testssl (Debian package testssl.sh) is not installed")
    m = mg.Mesh(listeners={"web": {"protocol": "http", "tls": "simple",
                                   "tls_cert": "./web-cert.pem", "tls_key": "./web-key.pem"}})
    # the listener's SVID, from the same state dir the instance will open
    r = subprocess.run([mg.binary(), "ca", "issue", "--state-dir", str(m.dir / "state"), "--ns",
                        "default", "--sa", "web", "--out", str(m.dir / "web")], capture_output=True)
    mg.check(r.returncode == 0, "an SVID for the listener", r.stderr)
    m.start()
    root = m.dir / "state" / "ca" / "root-cert.pem"
    work = mg.tmpdir("testssl")
    scan(m.ca_port, root, work, "signing service", {})
    scan(m.listeners["web"]["port"], root, work, "SVID listener", SVID_EXCEPT)
    m.stop()


mg.run(test)
