#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 10-config-errors: a bad bootstrap INI makes `meshgate run` exit non-zero at
# once, with a "FILE:LINE: what is wrong" message on stderr; the same file
# without the mistake starts and reports ready.

import subprocess

import mg

# (what, text to insert, section to insert it after the header of, lines that
# may be named: offsets from the inserted text's first line)
CASES = [
    ("unknown key", "colour = blue", "appliance", (0,)),
    ("unknown section", "[bogus]\nkey = 1", None, (0, 1)),
    ("workers not a number", "workers = many", "appliance", (0,)),
    ("workers out of range", "workers = 100000", "appliance", (0,)),
    ("admin port out of range", "port = 70000", "admin", (0,)),
    ("admin address not an IP", "address = not-an-ip", "admin", (0,)),
    ("bad outbound_traffic_policy", "outbound_traffic_policy = MAYBE", "mesh", (0,)),
    ("bad header_timeout", "header_timeout = soon", "limits", (0,)),
    ("negative drain_timeout", "drain_timeout = -5s", "limits", (0,)),
    ("bad max_request_body_buffer", "max_request_body_buffer = lots", "limits", (0,)),
    ("listener protocol udp", "[listener bad]\naddress = 127.0.0.1\nport = {port}\nprotocol = udp\nrole = outbound",
     None, (0, 3)),
    ("listener role unknown", "[listener bad]\naddress = 127.0.0.1\nport = {port}\nprotocol = http\nrole = sideways",
     None, (0, 4)),
    ("tcp listener without destination", "[listener bad]\naddress = 127.0.0.1\nport = {port}\nprotocol = tcp",
     None, (0, 1, 2, 3)),
    ("tcp listener with a bad destination", "[listener bad]\naddress = 127.0.0.1\nport = {port}\n"
     "protocol = tcp\ndestination = 127.0.0.1", None, (0, 4)),
    ("a line that is not INI", "this is not an ini line", "mesh", (0,)),
]


def insert(base_lines, text, section):
    """Insert text after [section]'s header (or at the end); return (lines, 1-based line)."""
    lines = list(base_lines)
    if section is None:
        at = len(lines)
    else:
        at = lines.index(f"[{section}]") + 1
    new = text.split("\n")
    return lines[:at] + new + lines[at:], at + 1


def run_bad(path, cwd, timeout=10):
    """Run meshgate on a bad file; return (exit code or None if it kept running, stderr)."""
    p = mg.Proc("meshgate (bad config)", [mg.binary(), "run", "-c", str(path)], cwd=cwd,
                stdout=subprocess.DEVNULL, stderr=open(cwd / "bad.stderr", "wb"))
    rc = p.wait(timeout)
    if rc is None:
        p.stop(timeout=5)
    return rc, (cwd / "bad.stderr").read_text(errors="replace")


def main():
    mg.binary()
    base = mg.Mesh(name="cfg")
    base.write_ini()
    base_lines = base.ini_path().read_text().splitlines()
    spare_port = mg.free_ports(1)[0]

    for what, text, section, offsets in CASES:
        lines, first = insert(base_lines, text.format(port=spare_port), section)
        path = base.dir / "bad.ini"
        path.write_text("\n".join(lines) + "\n")
        rc, err = run_bad(path, base.dir)
        mg.check(rc is not None and rc != 0, f"{what}: exits non-zero by itself",
                 "still running after 10 s" if rc is None else f"exit code {rc}")
        names = [f"bad.ini:{first + o}" for o in offsets]
        mg.check(any(n in err for n in names), f"{what}: stderr names {' or '.join(names)}",
                 err.strip()[-300:])

    rc, err = run_bad(base.dir / "missing.ini", base.dir)
    mg.check(rc is not None and rc != 0 and "missing.ini" in err,
             "a missing file: exits non-zero naming the file", f"rc={rc} stderr={err.strip()[-200:]}")

    # The control: the same file without the mistake starts.
    base.start()
    st, body = base.admin("/ready")
    mg.check(st == 200 and body.strip() == b"LIVE", "the unmodified config starts and is LIVE",
             f"{st} {body!r}")
    mg.check_eq(base.stop(), 0, "and stops with exit 0 on SIGTERM")


mg.run(main)
