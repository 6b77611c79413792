# SPDX-License-Identifier: Apache-2.0
# mg.py: the small library meshgate's integration tests share: run the real
# binary with a generated config on loopback, start test upstreams, talk raw
# HTTP/1.1, scrape metrics, and report checks. Tests are plain scripts:
# exit 0 pass, 1 fail, 77 skip; each check prints one "ok"/"not ok" line.

import atexit
import base64
import ctypes
import hashlib
import json
import os
import re
import select as select_mod
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED = Path(os.environ.get("MESHGATE_SHARED", ROOT.parent / "shared"))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
SKIP = 77

sys.path.insert(0, str(FIXTURES))
import upstream as _upstream  # noqa: E402  (pattern and WebSocket helpers)

pattern_iter = _upstream.pattern_iter
PATTERN_BLOCK_LEN = _upstream.PATTERN_BLOCK_LEN
pattern_sha256 = _upstream.pattern_sha256
ws_frame = _upstream.ws_frame


# ---------------------------------------------------------------- reporting

_num_checks = 0
_num_failed = 0
_procs = []          # every process we started, stopped by PID at exit
_tmpdirs = []        # removed at exit when every check passed, kept for a look otherwise
_on_failure = []     # callables printing diagnostics (logs) when a test fails


def check(cond, what, detail=""):
    """Print one check result; remember failures. Returns bool(cond)."""
    global _num_checks, _num_failed
    _num_checks += 1
    if cond:
        print(f"ok {_num_checks} - {what}", flush=True)
    else:
        _num_failed += 1
        extra = f"  # {detail}" if detail != "" else ""
        print(f"not ok {_num_checks} - {what}{extra}", flush=True)
    return bool(cond)


def check_eq(got, want, what):
    return check(got == want, what, f"got {got!r}, want {want!r}")


def check_between(got, lo, hi, what):
    return check(got is not None and lo <= got <= hi, what, f"got {got!r}, want {lo}..{hi}")


def note(msg):
    print(f"# {msg}", flush=True)


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    cleanup()
    remove_tmpdirs()
    sys.exit(SKIP)


def tmpdir(prefix):
    d = Path(tempfile.mkdtemp(prefix=f"meshgate-{prefix}-"))
    _tmpdirs.append(d)
    return d


def remove_tmpdirs(keep=False):
    while _tmpdirs:
        d = _tmpdirs.pop()
        if keep:
            note(f"kept {d}")
        else:
            shutil.rmtree(d, ignore_errors=True)


def need(*tools):
    """Skip the test (exit 77) unless every tool is on PATH."""
    for t in tools:
        if not shutil.which(t):
            skip(f"{t} is not installed")


def run(test):
    """Run test() with cleanup; exit 0 when every check passed, else 1."""
    try:
        test()
    except SystemExit:
        raise
    except Exception:
        traceback.print_exc()
        check(False, "test raised an exception")
    if _num_failed:
        for fn in _on_failure:
            try:
                fn()
            except Exception:
                traceback.print_exc()
    cleanup()
    remove_tmpdirs(keep=bool(_num_failed))
    print(f"# {_num_checks - _num_failed}/{_num_checks} checks passed", flush=True)
    sys.exit(1 if _num_failed or not _num_checks else 0)


# ---------------------------------------------------------------- processes

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # If the test is killed (ctest timeout), its children must not linger.
    # (The signal follows the thread that started the child: start processes
    # from the main thread.)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:
        pass


class Proc:
    """A child process we started; stopped by its PID, never by name."""

    def __init__(self, name, argv, cwd=None, stdout=None, stderr=None, stdin=None, env=None):
        self.name = name
        self.argv = argv
        self.popen = subprocess.Popen(argv, cwd=cwd, stdout=stdout, stderr=stderr,
                                      stdin=stdin or subprocess.DEVNULL, env=env,
                                      preexec_fn=_die_with_parent)
        self.pid = self.popen.pid
        _procs.append(self)

    def alive(self):
        return self.popen.poll() is None

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """Return the exit code, or None if still running after timeout."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signal the process, SIGKILL it after timeout; return its exit code."""
        if self.alive():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
            if self.wait(timeout) is None:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait()
        return self.popen.returncode


def cleanup():
    while _procs:
        p = _procs.pop()
        try:
            p.stop(timeout=5)
        except Exception:
            pass


atexit.register(cleanup)


def _on_signal(signum, frame):
    cleanup()
    sys.exit(1)


signal.signal(signal.SIGTERM, _on_signal)


def wait_for(fn, timeout, interval=0.05):
    """Call fn until it returns a truthy value or timeout expires; return it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = fn()
        except (OSError, ValueError):
            v = None
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def free_ports(n):
    """Return n distinct free TCP ports on 127.0.0.1."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_open(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def tail(path, n=40):
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-n:])


def proc_status(pid):
    """Return /proc/PID/status fields in KiB for VmRSS, VmHWM (and Threads)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads"):
                out[k] = int(v.split()[0])
    return out


# ---------------------------------------------------------------- YAML

_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _yaml_scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if re.fullmatch(r"[A-Za-z_/][A-Za-z0-9_./-]*", s) and s.lower() not in _YAML_WORDS:
        return s
    return json.dumps(s)


def _yaml_inline(v):
    if v == {}:
        return "{}"
    if v == []:
        return "[]"
    return _yaml_scalar(v)


def to_yaml(obj, indent=0):
    """Block-style YAML for dicts, lists and scalars (what Istio users write)."""
    pad = "  " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{k}:\n" + to_yaml(v, indent + 1))
            else:
                out.append(f"{pad}{k}: {_yaml_inline(v)}\n")
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, (dict, list)) and item:
                body = to_yaml(item, indent + 1)
                out.append(pad + "- " + body[len(pad) + 2:])
            else:
                out.append(f"{pad}- {_yaml_inline(item)}\n")
    else:
        out.append(pad + _yaml_scalar(obj) + "\n")
    return "".join(out)


def yaml_docs(*docs):
    return "---\n".join(to_yaml(d) for d in docs)


def service_entry(name, hosts, endpoints=(), port=80, protocol="HTTP", port_name="http",
                  resolution="STATIC", namespace="default"):
    """A ServiceEntry; endpoints are (address, port) pairs on the named port."""
    if isinstance(hosts, str):
        hosts = [hosts]
    spec = {"hosts": list(hosts),
            "ports": [{"number": port, "name": port_name, "protocol": protocol}],
            "resolution": resolution, "location": "MESH_EXTERNAL"}
    if endpoints is not None:
        spec["endpoints"] = [{"address": a, "ports": {port_name: p}} for a, p in endpoints]
    return {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def dest(host, weight=None, port=None):
    d = {"destination": {"host": host}}
    if port:
        d["destination"]["port"] = {"number": port}
    if weight is not None:
        d["weight"] = weight
    return d


def http_route(route, prefix=None, exact=None, timeout=None):
    """One VirtualService http[] entry; route is a list of dest() values."""
    r = {}
    if prefix is not None:
        r["match"] = [{"uri": {"prefix": prefix}}]
    elif exact is not None:
        r["match"] = [{"uri": {"exact": exact}}]
    r["route"] = route
    if timeout:
        r["timeout"] = timeout
    return r


def virtual_service(name, hosts, http, namespace="default"):
    if isinstance(hosts, str):
        hosts = [hosts]
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"hosts": list(hosts), "http": http}}


# ---------------------------------------------------------------- meshgate

def binary():
    """The meshgate binary: $MESHGATE_BIN, else build/meshgate. A missing
    default binary skips the test; a missing $MESHGATE_BIN (set by ctest)
    fails it."""
    b = os.environ.get("MESHGATE_BIN")
    if b and not os.access(b, os.X_OK):
        print(f"not ok - MESHGATE_BIN={b} is not an executable", flush=True)
        cleanup()
        sys.exit(1)
    b = b or str(ROOT / "build" / "meshgate")
    if not os.access(b, os.X_OK):
        skip(f"meshgate binary not found at {b} (build it or set MESHGATE_BIN)")
    return b


def ini_text(sections):
    """Render [(section, {key: value})] as INI; a None value drops the key."""
    out = []
    for name, kv in sections:
        out.append(f"[{name}]")
        out += [f"{k} = {v}" for k, v in kv.items() if v is not None]
        out.append("")
    return "\n".join(out)


class Netns:
    """A network namespace for one test, joined to this one by a veth pair
    (so the harness reaches its admin ports), removed at exit. host4/host6
    are this side's addresses, addr4/addr6 the namespace's. Needs root."""

    def __init__(self, tag):
        pid = os.getpid()
        n = pid % 200 + 20
        self.name = f"mg{tag}{pid}"
        self.host_if, ns_if = f"mgh{tag}{pid}"[:15], f"mgn{tag}{pid}"[:15]
        self.host4, self.addr4 = f"10.{tag_octet(tag)}.{n}.1", f"10.{tag_octet(tag)}.{n}.2"
        self.host6, self.addr6 = f"fd00:{tag_octet(tag)}:{n}::1", f"fd00:{tag_octet(tag)}:{n}::2"
        self.n = n
        self.ex = ["ip", "netns", "exec", self.name]
        sh("ip", "netns", "add", self.name)
        atexit.register(lambda: sh("ip", "netns", "del", self.name, check=False))
        sh("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", ns_if)
        atexit.register(lambda: sh("ip", "link", "del", self.host_if, check=False))
        sh("ip", "link", "set", ns_if, "netns", self.name)
        sh("ip", "addr", "add", f"{self.host4}/24", "dev", self.host_if)
        sh("ip", "-6", "addr", "add", f"{self.host6}/64", "dev", self.host_if, "nodad")
        sh("ip", "link", "set", self.host_if, "up")
        self.run("ip", "link", "set", "lo", "up")
        self.run("ip", "addr", "add", f"{self.addr4}/24", "dev", ns_if)
        self.run("ip", "-6", "addr", "add", f"{self.addr6}/64", "dev", ns_if, "nodad")
        self.run("ip", "link", "set", ns_if, "up")

    def run(self, *argv, check=True, input=None):
        return sh(*(self.ex + list(argv)), check=check, input=input)

    def start(self, name, argv):
        """A fixture inside the namespace that prints READY; returns its Proc."""
        p = Proc(name, self.ex + list(argv), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = p.popen.stdout.readline()
        if not line.startswith(b"READY"):
            raise RuntimeError(f"{name} did not start: {line!r}")
        return p


def tag_octet(tag):
    return {"cap": 203, "out": 205}.get(tag, 207)


def sh(*argv, check=True, input=None):
    """Run a command; raise with its stderr if it fails and check is set."""
    r = subprocess.run(list(argv), capture_output=True, text=True, input=input)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
    return r


def read_all(sock):
    """Every byte until the peer closes (or an error or timeout ends it)."""
    data = b""
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                break
            data += d
    except OSError:     # ssl.SSLError is an OSError
        pass
    return data


def listen_host(address):
    """Where to connect to reach a listener bound to address."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(address, address)


class Mesh:
    """One meshgate instance in its own temp dir (cwd), with generated config.

    listeners: {name: {key: value}}; a listener without "port" gets a free
    one. ini: {section: {key: value}} merged over the defaults. yaml: a list
    of Istio documents written to mesh.d/10-test.yaml. netns: run inside
    that network namespace (ip netns exec), with admin on every address and
    reached from here at host.
    """

    def __init__(self, yaml=(), listeners=None, ini=None, workers=2, name="mg",
                 netns=None, host="127.0.0.1", run_as=None):
        self.dir = tmpdir(name)
        self.netns = netns
        self.run_as = run_as
        self.host = host
        admin_addr = "0.0.0.0" if netns else "127.0.0.1"
        (self.dir / "mesh.d").mkdir()
        if listeners is None:
            listeners = {"outbound_http": {"protocol": "http", "role": "outbound"}}
        ports = free_ports(4 + len(listeners))  # all at once: distinct
        self.admin_port, self.health_port, self.prom_port, self.ca_port = ports[:4]
        self.listeners = {}
        for (lname, kv), port in zip(listeners.items(), ports[4:]):
            kv = dict(kv)
            kv.setdefault("address", "127.0.0.1")
            kv.setdefault("port", port)
            self.listeners[lname] = kv
        first = next(iter(self.listeners.values()), {})
        self.port = first.get("port")
        self.sections = [
            ("appliance", {"name": "meshgate", "workers": workers, "state_dir": "./state",
                           "namespace": "default", "service_account": "meshgate",
                           "labels": "app=meshgate,version=v1"}),
            ("admin", {"address": admin_addr, "port": self.admin_port,
                       "health_address": admin_addr, "health_port": self.health_port,
                       "prometheus_port": self.prom_port}),
            ("mesh", {"config_dir": "./mesh.d", "outbound_traffic_policy": "REGISTRY_ONLY"}),
            ("telemetry", {"access_log": "./access.log"}),
            ("limits", {"header_timeout": "10s", "drain_timeout": "15s"}),
            ("ca", {"address": "127.0.0.1", "port": self.ca_port}),
        ]
        for sec, kv in (ini or {}).items():
            self.set_ini(sec, kv)
        self.proc = None
        self.stderr_path = self.dir / "meshgate.stderr"
        self.stdout_path = self.dir / "meshgate.stdout"
        if yaml:
            self.write_yaml("10-test.yaml", yaml)
        _on_failure.append(self.print_logs)

    def set_ini(self, section, kv):
        for name, old in self.sections:
            if name == section:
                old.update(kv)
                return
        self.sections.append((section, dict(kv)))

    def ini_path(self):
        return self.dir / "meshgate.ini"

    def write_ini(self):
        secs = list(self.sections)
        secs += [(f"listener {n}", kv) for n, kv in self.listeners.items()]
        self.ini_path().write_text(ini_text(secs))

    def write_yaml(self, fname, docs):
        """Write (atomically) mesh.d/fname from documents or raw text."""
        text = docs if isinstance(docs, str) else yaml_docs(*docs)
        p = self.dir / "mesh.d" / fname
        tmp = p.with_suffix(".tmp~")
        tmp.write_text(text)
        os.replace(tmp, p)

    def remove_yaml(self, fname):
        (self.dir / "mesh.d" / fname).unlink()

    def start(self, ready_timeout=30):
        self.write_ini()
        argv = [binary(), "run", "-c", str(self.ini_path())]
        if self.run_as is not None:
            # as that user (capture rules exclude it); its files become its own
            subprocess.run(["chown", "-R", f"{self.run_as}:{self.run_as}", str(self.dir)],
                           check=True)
            os.chmod(self.dir, 0o755)
            argv = ["setpriv", f"--reuid={self.run_as}", f"--regid={self.run_as}",
                    "--clear-groups"] + argv
        if self.netns:
            argv = ["ip", "netns", "exec", self.netns] + argv
        self.proc = Proc("meshgate", argv, cwd=self.dir, stdout=open(self.stdout_path, "wb"),
                         stderr=open(self.stderr_path, "wb"))
        if not self.wait_ready(ready_timeout):
            raise RuntimeError(f"meshgate did not become ready in {ready_timeout}s "
                               f"(exit code {self.proc.popen.poll()})")
        return self

    def wait_ready(self, timeout):
        def ready():
            if not self.proc.alive():
                return "dead"
            st, body = simple_get(self.admin_port, "/ready", host=self.host)
            if st != 200:
                return None
            if self.netns:
                return True     # listeners may not be reachable from here
            return all(port_open(int(kv["port"]), listen_host(kv["address"]))
                       for kv in self.listeners.values())
        r = wait_for(ready, timeout, interval=0.1)
        return r is True

    @property
    def pid(self):
        return self.proc.pid

    def hup(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        return self.proc.stop(sig, timeout)

    def rss(self):
        return proc_status(self.pid)

    def stderr(self):
        return self.stderr_path.read_text(errors="replace")

    def access_log(self):
        p = self.dir / "access.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def admin(self, path, port=None):
        return simple_get(port or self.admin_port, path, host=self.host)

    def stat(self, name, default=None):
        """One value of the admin /stats page ("name: value"): an int when it
        is one, else the string; default when absent."""
        st, body = self.admin("/stats")
        for line in body.decode(errors="replace").splitlines():
            if line.startswith(name + ": "):
                v = line.split(": ", 1)[1]
                return int(v) if re.fullmatch(r"-?\d+", v) else v
        return default

    def config_version(self):
        st, body = self.admin("/config_dump")
        try:
            return json.loads(body).get("version") if st == 200 else None
        except (ValueError, AttributeError):
            return None

    def metrics(self, port=None, path="/stats/prometheus"):
        """Scraped samples; [] (and a note) when the scrape fails."""
        st, body = simple_get(port or self.admin_port, path, host=self.host)
        try:
            if st == 200:
                return parse_prometheus(body.decode())
            note(f"GET {path}: status {st}")
        except ValueError as e:
            note(f"GET {path}: {e}")
        return []

    def print_logs(self):
        note(f"meshgate dir: {self.dir}")
        for label, path in (("stderr", self.stderr_path), ("stdout", self.stdout_path)):
            text = tail(path)
            if text:
                note(f"--- meshgate {label} (tail) ---")
                print(text, flush=True)


# ---------------------------------------------------------------- upstreams

class Upstream:
    """tests/fixtures/upstream.py on a free loopback port."""

    def __init__(self, name, idle_timeout_ms=0, host="127.0.0.1", port=0):
        self.name = name
        self.host = host
        self.dir = tmpdir(f"up-{name}")
        argv = [PYTHON, str(FIXTURES / "upstream.py"), "--port", str(port), "--name", name,
                "--host", host]
        if idle_timeout_ms:
            argv += ["--idle-timeout-ms", str(idle_timeout_ms)]
        self.proc = Proc(f"upstream {name}", argv, stdout=subprocess.PIPE,
                         stderr=open(self.dir / "stderr", "wb"))
        self.port = self._read_ready()

    def _read_ready(self, timeout=15):
        got = []
        t = threading.Thread(target=lambda: got.append(self.proc.popen.stdout.readline()),
                             daemon=True)
        t.start()
        t.join(timeout)
        m = re.match(rb"READY (\d+)", got[0]) if got else None
        if not m:
            raise RuntimeError(f"upstream {self.name} did not start: {tail(self.dir / 'stderr')}")
        return int(m.group(1))

    @property
    def endpoint(self):
        return (self.host, self.port)

    def stats(self):
        st, body = simple_get(self.port, "/_stats")
        return json.loads(body)

    def log(self):
        st, body = simple_get(self.port, "/_log")
        return json.loads(body)

    def stop(self):
        self.proc.stop()


def start_upstreams(*names, **kw):
    return [Upstream(n, **kw) for n in names]


# ---------------------------------------------------------------- raw HTTP/1.1

class ConnectionClosed(Exception):
    pass


class Response:
    def __init__(self, version, status, reason, headers):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers      # [(name, value)] as received
        self.body = b""
        self.body_len = 0
        self.complete = False       # body read to its framed end
        self.interim = []           # 1xx responses seen before this one

    def header(self, name, default=None):
        name = name.lower()
        vals = [v for k, v in self.headers if k.lower() == name]
        return ", ".join(vals) if vals else default

    def has(self, name):
        return self.header(name) is not None

    def count(self, name):
        return sum(1 for k, _ in self.headers if k.lower() == name.lower())

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.reason!r} body={self.body[:80]!r}>"


class Stream:
    """Buffered reader of HTTP/1.1 responses over a socket (or fixed bytes)."""

    def __init__(self, sock=None, data=b""):
        self.sock = sock
        self.buf = bytearray(data)
        self.eof = sock is None

    def _more(self):
        if self.eof:
            return False
        try:
            d = self.sock.recv(256 * 1024)
        except ConnectionResetError:
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            if not self._more():
                raise ConnectionClosed("closed inside a line")

    def _exact(self, n, sink):
        while n > 0:
            if not self.buf and not self._more():
                raise ConnectionClosed(f"closed with {n} body bytes missing")
            k = min(n, len(self.buf))
            sink(bytes(self.buf[:k]))
            del self.buf[:k]
            n -= k

    def read_head(self):
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head = bytes(self.buf[:i + 4])
                del self.buf[:i + 4]
                return head
            if not self._more():
                if self.buf:
                    raise ConnectionClosed(f"closed inside a head: {bytes(self.buf[:200])!r}")
                raise ConnectionClosed("closed before a response")

    def read_response(self, method="GET", sink=None):
        """Read one final response (collecting 1xx); body to sink or .body."""
        interim = []
        while True:
            resp = parse_head(self.read_head())
            if 100 <= resp.status < 200 and resp.status != 101:
                interim.append(resp)
                continue
            break
        resp.interim = interim
        chunks = []

        def collect(b):
            resp.body_len += len(b)
            if sink:
                sink(b)
            else:
                chunks.append(b)
        self._read_body(resp, method, collect)
        resp.body = b"".join(chunks)
        resp.complete = True
        return resp

    def _read_body(self, resp, method, sink):
        if method == "HEAD" or resp.status in (101, 204, 304):
            return
        te = resp.header("transfer-encoding")
        cl = resp.header("content-length")
        if te and te.lower().split(",")[-1].strip() == "chunked":
            self._read_chunked(sink)
        elif cl is not None:
            self._exact(int(cl), sink)
        else:
            while self.buf or self._more():
                sink(bytes(self.buf))
                self.buf.clear()

    def _read_chunked(self, sink):
        while True:
            size = int(self._line().split(b";")[0], 16)
            if size == 0:
                while self._line() != b"":
                    pass
                return
            self._exact(size, sink)
            if self._line() != b"":
                raise ValueError("bad chunk terminator")


def parse_head(head):
    lines = head[:-4].split(b"\r\n")
    status_line = lines[0].decode("latin-1")
    m = re.match(r"(HTTP/\d\.\d) (\d{3})(?: (.*))?$", status_line)
    if not m:
        raise ValueError(f"bad status line {status_line!r}")
    headers = []
    for line in lines[1:]:
        k, _, v = line.decode("latin-1").partition(":")
        headers.append((k, v.strip()))
    return Response(m.group(1), int(m.group(2)), m.group(3) or "", headers)


def parse_responses(data, methods=None):
    """Parse every complete response in data; returns (responses, rest_bytes)."""
    s = Stream(data=data)
    out = []
    methods = list(methods or [])
    while s.buf:
        try:
            out.append(s.read_response(methods.pop(0) if methods else "GET"))
        except (ConnectionClosed, ValueError):
            break
    return out, bytes(s.buf)


def build_request(method, target, host, headers=(), body=None, version="HTTP/1.1",
                  chunked=False):
    """Request bytes; host None omits Host; body bytes get a Content-Length."""
    lines = [f"{method} {target} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{k}: {v}" for k, v in headers]
    names = {k.lower() for k, _ in headers}
    payload = b""
    if body is not None and chunked:
        lines.append("Transfer-Encoding: chunked")
        payload = (b"%x\r\n" % len(body) + body + b"\r\n" if body else b"") + b"0\r\n\r\n"
    elif body is not None and "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    elif body is not None:
        payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


class Client:
    """One keep-alive client connection speaking HTTP/1.1 with exact bytes."""

    def __init__(self, port, timeout=10, host="127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.stream = Stream(self.sock)

    def send(self, data):
        self.sock.sendall(data)

    def request(self, method, target, host, headers=(), body=None, sink=None, **kw):
        self.send(build_request(method, target, host, headers, body, **kw))
        return self.read_response(method, sink)

    def get(self, target, host, headers=(), **kw):
        return self.request("GET", target, host, headers, **kw)

    def read_response(self, method="GET", sink=None):
        return self.stream.read_response(method, sink)

    def closed_by_peer(self, timeout=2):
        """True if the peer closes (FIN or RST) within timeout; unread data is dropped."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _ExactReader:
    def __init__(self, stream):
        self.stream = stream

    def read_exact(self, n):
        out = bytearray()
        self.stream._exact(n, out.extend)
        return bytes(out)


def ws_read(client):
    """Read one WebSocket frame from a Client: (fin, opcode, payload), or None
    if the connection closed or timed out first."""
    try:
        return _upstream.ws_read_frame(_ExactReader(client.stream))
    except (OSError, ConnectionClosed, ValueError):
        return None


def ws_accept(key):
    """The Sec-WebSocket-Accept value for a Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1(key.encode() + _upstream.WS_GUID).digest()).decode()


class Failure(Response):
    """What http() returns when no well-formed response arrived: status None."""

    def __init__(self, error):
        super().__init__(None, None, "", [])
        self.error = error

    def json(self):
        raise ValueError(f"no response: {self.error}")

    def __repr__(self):
        return f"<no response: {self.error!r}>"


def http(port, method, target, host, headers=(), body=None, timeout=10, addr="127.0.0.1",
         **kw):
    """One request on a new connection to addr:port (Host: host); returns the
    Response, or a Failure (status None) when the connection fails or the
    answer is not HTTP."""
    try:
        with Client(port, timeout, host=addr) as c:
            return c.request(method, target, host, headers, body, **kw)
    except (OSError, ConnectionClosed, ValueError) as e:
        return Failure(e)


def get(port, target, host, headers=(), timeout=10):
    return http(port, "GET", target, host, headers, timeout=timeout)


def simple_get(port, path, host="127.0.0.1", timeout=5):
    """GET with Connection: close; returns (status, body) or (None, b"")."""
    r = http(port, "GET", path, host, [("Connection", "close")], timeout=timeout,
             addr=host)
    return r.status, r.body


class RawResult:
    def __init__(self, data, closed, reset, elapsed):
        self.data = data          # every byte received
        self.closed = closed      # the peer closed (FIN or RST) before our timeout
        self.reset = reset        # ... with a RST
        self.elapsed = elapsed
        self.responses, self.rest = parse_responses(data)

    @property
    def status(self):
        return self.responses[0].status if self.responses else None

    def statuses(self):
        return [r.status for r in self.responses]

    def __repr__(self):
        return (f"<RawResult statuses={self.statuses()} closed={self.closed} reset={self.reset} "
                f"{len(self.data)} bytes: {self.data[:120]!r}>")


def send_raw(port, data, timeout=5, parts=None, delay=0.0, shut_wr=False):
    """Send data (or each of parts, delay s apart) and read until close or timeout."""
    t0 = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = bytearray()
    closed = reset = False
    try:
        for i, part in enumerate(parts if parts is not None else [data]):
            # Between parts, stop sending as soon as the peer answers or closes:
            # the time of its close is what tests measure.
            if i and delay and select_mod.select([sock], [], [], delay)[0]:
                break
            sock.sendall(part)
        if shut_wr:
            sock.shutdown(socket.SHUT_WR)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the peer may answer and close before taking all of it
    deadline = t0 + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            d = sock.recv(65536)
            if not d:
                closed = True
                break
            got += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        closed = reset = True
    finally:
        sock.close()
    return RawResult(bytes(got), closed, reset, time.monotonic() - t0)


# ---------------------------------------------------------------- curl, wrk

class CurlResult:
    def __init__(self, rc, status, headers, body, stderr):
        self.rc, self.status, self.headers, self.body, self.stderr = rc, status, headers, body, stderr

    def header(self, name):
        vals = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(vals) if vals else None


def curl(url, *args, timeout=20):
    """Run curl; returns CurlResult with the last response's status and headers."""
    need("curl")
    with tempfile.TemporaryDirectory() as d:
        hdr, body = Path(d) / "h", Path(d) / "b"
        argv = ["curl", "-sS", "--max-time", str(timeout), "-D", str(hdr), "-o", str(body),
                "-w", "%{http_code}", *args, url]
        p = subprocess.run(argv, capture_output=True, timeout=timeout + 10)
        headers = []
        if hdr.exists():
            block = hdr.read_bytes().decode("latin-1").split("\r\n\r\n")
            finals = [b for b in block if b.strip()]
            for line in (finals[-1].split("\r\n")[1:] if finals else []):
                k, _, v = line.partition(":")
                headers.append((k, v.strip()))
        code = p.stdout.decode().strip()
        return CurlResult(p.returncode, int(code) if code.isdigit() else 0, headers,
                          body.read_bytes() if body.exists() else b"", p.stderr.decode())


class WrkResult:
    def __init__(self, rc, out):
        self.rc = rc
        self.out = out
        m = re.search(r"(\d+) requests in", out)
        self.requests = int(m.group(1)) if m else 0
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        self.rps = float(m.group(1)) if m else 0.0
        m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
        self.non2xx = int(m.group(1)) if m else 0
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        self.socket_errors = sum(int(x) for x in m.groups()) if m else 0


def wrk(url, duration=5, connections=10, threads=1, headers=(), timeout_s=2):
    """Run wrk in the foreground (bounded by duration + 20 s)."""
    need("wrk")
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
            f"--timeout={timeout_s}s", "--latency"]
    for k, v in headers:
        argv += ["-H", f"{k}: {v}"]
    argv.append(url)
    p = subprocess.run(argv, capture_output=True, timeout=duration + 20)
    return WrkResult(p.returncode, p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace"))


class Background(threading.Thread):
    """Run fn(*args) in a thread; .result / .error once joined."""

    def __init__(self, fn, *args):
        super().__init__(daemon=True)
        self.fn, self.args = fn, args
        self.result = self.error = None
        self.start()

    def run(self):
        try:
            self.result = self.fn(*self.args)
        except Exception as e:
            self.error = e


# ---------------------------------------------------------------- metrics

class Sample:
    def __init__(self, name, labels, value):
        self.name, self.labels, self.value = name, labels, value

    def __repr__(self):
        return f"{self.name}{self.labels} {self.value}"


_LABEL_RE = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')


def _unescape(v):
    return v.replace(r"\\", "\0").replace(r"\"", '"').replace(r"\n", "\n").replace("\0", "\\")


def parse_prometheus(text):
    """Parse the text exposition format into Samples; raises ValueError if malformed."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?\s*$", line)
        if not m:
            raise ValueError(f"line {lineno}: not a sample: {line!r}")
        labels, rest = {}, m.group(3) or ""
        pos = 0
        while pos < len(rest):
            lm = _LABEL_RE.match(rest, pos)
            if not lm:
                raise ValueError(f"line {lineno}: bad labels: {line!r}")
            labels[lm.group(1)] = _unescape(lm.group(2))
            pos = lm.end()
        out.append(Sample(m.group(1), labels, float(m.group(4))))
    return out


def _label_ok(have, want):
    if callable(want):
        return want(have)
    if isinstance(want, (set, list, tuple)):
        return have in want
    return have == want


def select(samples, name, **labels):
    return [s for s in samples if s.name == name
            and all(_label_ok(s.labels.get(k), v) for k, v in labels.items())]


def metric_sum(samples, name, **labels):
    """Sum of the values of series `name` whose labels match (value, set or predicate)."""
    return sum(s.value for s in select(samples, name, **labels))


ISTIO_LABELS = (
    "reporter", "source_workload", "source_canonical_service", "source_canonical_revision",
    "source_workload_namespace", "source_principal", "source_app", "source_version",
    "source_cluster", "destination_workload", "destination_workload_namespace",
    "destination_principal", "destination_app", "destination_version", "destination_service",
    "destination_canonical_service", "destination_canonical_revision",
    "destination_service_name", "destination_service_namespace", "destination_cluster",
    "request_protocol", "response_code", "grpc_response_status", "response_flags",
    "connection_security_policy")


def sha256(data):
    return hashlib.sha256(data).hexdigest()
