#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 34-h2-downstream: HTTP/2 from clients, HTTP/1.1 to the upstream fixture.
# Cleartext HTTP/2 with prior knowledge on every HTTP listener (the preface
# sniffed on the first bytes, HTTP/1.1 still served on the same port), ALPN
# h2 on a tls = simple listener and istio-h2 on istio_mutual and PERMISSIVE
# inbound, driven by curl (--http2-prior-knowledge, --http2), nghttp and
# h2load, and by a small frame-level client below (hpack + hyperframe from
# python3-h2) for what the tools cannot do: 100 multiplexed streams each
# answered with its own body, a 101st refused with REFUSED_STREAM, 5 MiB up
# and 8 MiB down with the client opening its window a little at a time
# (every DATA frame checked against the windows), backpressure both ways
# (stalled 64 MiB download, 32 MiB upload to a stalled upstream: VmRSS),
# chunked upstream responses with trailers as HTTP/2 trailers, request
# bodies without content-length forwarded chunked, RST_STREAM mid-body
# leaving the upstream pool in sync, local replies (404 NR, 502, 503, 504)
# as h2 responses, h2-to-h1 desync inputs refused, an oversized header list
# (431), Upgrade: h2c never relayed, Rapid Reset (client and server-side
# resets; GOAWAY while a benign client on another connection keeps getting
# 200s), CONTINUATION, PING, SETTINGS, empty DATA and WINDOW_UPDATE floods,
# %PROTOCOL% HTTP/2 in the access log, request_protocol http/grpc, and a
# SIGTERM drain (GOAWAY, in-flight streams finish).
#
# MESHGATE_H2_REFERENCE=nghttpx runs the protocol-only cases through nghttpx
# (Debian nghttp2-proxy) instead of meshgate: a way to tell a test bug from a
# proxy bug.

import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import traceback

import mg

try:
    import hpack
    from hyperframe import frame as hf
except ImportError:     # python3-h2 (hpack, hyperframe) is missing
    hpack = hf = None

HOST = "a.example"          # routed to the upstream fixture; also the TLS certificate's name
ONLY = "h2only.example"     # only ever reached over HTTP/2 (metrics, access log)
RR = "rr.example"           # the Rapid Reset target, on its own upstream
DEAD = "dead.example"       # an endpoint where nothing listens: 503
ROUTED = "routed.example"   # a VirtualService with only a /api route: 404 NR elsewhere
SLOW = "slow.example"       # a VirtualService with a 1 s route timeout: 504
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# RFC 9113 setting and error codes
S_HEADER_TABLE_SIZE, S_ENABLE_PUSH, S_MAX_CONCURRENT_STREAMS = 1, 2, 3
S_INITIAL_WINDOW_SIZE, S_MAX_FRAME_SIZE, S_MAX_HEADER_LIST_SIZE = 4, 5, 6
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0, 1, 2, 3
REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 7, 8, 9, 11
ERRORS = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
          4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM",
          8: "CANCEL", 9: "COMPRESSION_ERROR", 10: "CONNECT_ERROR", 11: "ENHANCE_YOUR_CALM",
          12: "INADEQUATE_SECURITY", 13: "HTTP_1_1_REQUIRED"}
CONNECTION_SPECIFIC = {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                       "upgrade"}


def ename(code):
    return ERRORS.get(code, str(code)) if code is not None else None


def sha(data):
    return hashlib.sha256(data).hexdigest()


def pattern(n):
    return b"".join(bytes(p) for p in mg.pattern_iter(n))


def body_diff(data, n):
    """How data differs from the first n pattern bytes, for failure messages."""
    data = bytes(data)
    want = pattern(n)
    if data == want:
        return "intact"
    k = min(len(data), n)
    first = next((i for i in range(0, k, 4096) if data[i:i + 4096] != want[i:i + 4096]), None)
    if first is not None:
        first = next(i for i in range(first, min(first + 4096, k)) if data[i] != want[i])
    return (f"{len(data)} bytes ({len(data) - n:+d}), first difference at offset "
            f"{first if first is not None else k}")


# ---------------------------------------------------------------- an HTTP/2 client

class H2Error(Exception):
    pass


class Stream:
    def __init__(self, sid, recv_window, send_window):
        self.sid = sid
        self.headers = None         # the final response head [(name, value)]
        self.interim = []           # 1xx heads
        self.trailers = None
        self.data = bytearray()
        self.data_frames = 0
        self.ended = False          # END_STREAM seen
        self.reset = None           # RST_STREAM error code from the server
        self.recv_window = recv_window
        self.send_window = send_window
        self.block = None           # header block being assembled (HEADERS + CONTINUATION)
        self.block_end_stream = False
        self.t0 = time.monotonic()
        self.t_end = None

    @property
    def status(self):
        for k, v in self.headers or ():
            if k == ":status":
                return int(v)
        return None

    def header(self, name):
        vals = [v for k, v in self.headers or () if k == name]
        return ", ".join(vals) if vals else None

    def json(self):
        return json.loads(bytes(self.data))

    def jsonq(self):
        """The body as JSON when the status is 200, else {}."""
        try:
            return self.json() if self.status == 200 else {}
        except ValueError:
            return {}

    def __repr__(self):
        head = bytes(self.data[:60]) if len(self.data) < 4096 else b"..."
        return (f"<stream {self.sid} status={self.status} ended={self.ended} "
                f"reset={ename(self.reset)} {len(self.data)} bytes {head!r}>")


class H2:
    """A minimal HTTP/2 client over a socket, frame by frame (hyperframe) with
    its own HPACK state (hpack), so that the tests control every frame and
    window and can keep reading after a GOAWAY. Every frame from the server is
    checked: DATA within the windows we granted, response header names in
    lower case without connection-specific fields; what breaks a rule goes to
    .violations."""

    def __init__(self, port, addr="127.0.0.1", tls=None, sni=None, alpn=("h2", "http/1.1"),
                 settings=None, timeout=20, auto_window=True, preface_parts=None, handshake=True,
                 rcvbuf=None, ack_settings=True):
        self.timeout = timeout
        self.ack_settings = ack_settings
        if rcvbuf:
            # a small receive buffer: what the server sends piles up on its side
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.settimeout(timeout)
            sock.connect((addr, port))
        else:
            sock = socket.create_connection((addr, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.alpn = None
        if tls is not None:
            if alpn:
                tls.set_alpn_protocols(list(alpn))
            sock = tls.wrap_socket(sock, server_hostname=sni)
            self.alpn = sock.selected_alpn_protocol()
        self.sock = sock
        self.enc = hpack.Encoder()
        self.dec = hpack.Decoder()
        self.dec.max_header_list_size = 1 << 20
        self.local = {S_ENABLE_PUSH: 0, S_INITIAL_WINDOW_SIZE: 65535, S_MAX_FRAME_SIZE: 16384}
        self.local.update(settings or {})
        self.peer = {}              # the server's SETTINGS
        self.peer_settings_frames = 0
        self.settings_acked = False
        self.peer_initial_window = 65535
        self.peer_max_frame = 16384
        self.send_conn_window = 65535   # how much we may still send
        self.recv_conn_window = 65535   # how much the server may still send
        self.auto_window = auto_window
        self.streams = {}
        self.next_sid = 1
        self.goaways = []           # (error_code, last_stream_id, debug data)
        self.window_updates = {}    # stream id -> number of WINDOW_UPDATE frames received
        self.closed = False
        self.close_reason = None
        self.send_failed = None
        self.violations = []
        self.first_bytes = b""
        self.buf = bytearray()
        self.out = bytearray()
        self.bytes_sent = 0
        self.pings = 0
        settings_frame = hf.SettingsFrame(0)
        for k, v in self.local.items():
            settings_frame.settings[k] = v
        hello = PREFACE + settings_frame.serialize()
        try:
            if preface_parts:
                cuts = [0] + list(preface_parts) + [len(hello)]
                for a, b in zip(cuts, cuts[1:]):
                    self.sendall(hello[a:b])
                    time.sleep(0.1)
            else:
                self.sendall(hello)
            if handshake and not self.wait(lambda: self.peer_settings_frames > 0, timeout):
                raise H2Error("no HTTP/2 SETTINGS from the server: it sent "
                              f"{self.first_bytes[:80]!r}{' and closed' if self.closed else ''}")
        except H2Error:
            self.close()
            raise

    # -- plumbing

    @property
    def goaway(self):
        return self.goaways[0] if self.goaways else None

    def sendall(self, data):
        if self.closed or self.send_failed:
            raise H2Error(f"connection closed ({self.close_reason or self.send_failed})")
        try:
            self.sock.sendall(data)
            self.bytes_sent += len(data)
        except (OSError, ssl.SSLError) as e:
            # keep reading: a GOAWAY may still be waiting in the receive buffer
            self.send_failed = f"send: {e!r}"
            raise H2Error(f"connection closed while sending ({e!r})")

    def send_frames(self, *frames):
        self.sendall(b"".join(f.serialize() for f in frames))

    def flush(self):
        if self.out and not self.closed and not self.send_failed:
            data, self.out = bytes(self.out), bytearray()
            try:
                self.sendall(data)
            except H2Error:
                pass

    def _set_closed(self, why):
        if not self.closed:
            self.closed = True
            self.close_reason = why

    def pump(self, timeout=None):
        """Wait up to timeout for bytes, handle every complete frame; returns
        True if anything was read."""
        if self.closed:
            return False
        timeout = self.timeout if timeout is None else timeout
        pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
        if not pending:
            try:
                r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
            except (OSError, ValueError):
                r = [self.sock]
            if not r:
                return False
        try:
            self.sock.settimeout(self.timeout)
            data = self.sock.recv(1 << 18)
        except ssl.SSLWantReadError:
            return False
        except (OSError, ssl.SSLError) as e:
            self._set_closed(f"recv: {e!r}")
            return False
        if not data:
            self._set_closed("EOF")
            return False
        if len(self.first_bytes) < 200:
            self.first_bytes += data[:200]
        self.buf += data
        self._parse()
        self.flush()
        return True

    def wait(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while not pred():
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                break
            self.pump(min(left, 1.0))
        return pred()

    def wait_closed(self, timeout):
        """True once the server closed the connection (EOF or reset)."""
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self.pump(min(1.0, max(0.0, deadline - time.monotonic())))
        return self.closed and self.close_reason != "closed by the test"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self._set_closed("closed by the test")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- frames from the server

    def _parse(self):
        while len(self.buf) >= 9:
            if self.peer_settings_frames == 0 and not self.buf.startswith(b"\x00"):
                # not an HTTP/2 frame header: most likely an HTTP/1.x answer
                self.violations.append(f"not HTTP/2: {bytes(self.buf[:80])!r}")
                self.buf.clear()
                self._set_closed("the server does not speak HTTP/2")
                return
            length = int.from_bytes(self.buf[:3], "big")
            if length > self.local[S_MAX_FRAME_SIZE]:
                self.violations.append(f"frame of {length} bytes > our SETTINGS_MAX_FRAME_SIZE")
            if len(self.buf) < 9 + length:
                return
            head, body = bytes(self.buf[:9]), bytes(self.buf[9:9 + length])
            del self.buf[:9 + length]
            try:
                f, _ = hf.Frame.parse_frame_header(memoryview(head))
                f.parse_body(memoryview(body))
            except Exception as e:
                self.violations.append(f"unparsable frame {head!r}: {e!r}")
                continue
            self._on_frame(f)

    def _stream(self, sid):
        st = self.streams.get(sid)
        if st is None:
            st = self.streams[sid] = Stream(sid, self.local[S_INITIAL_WINDOW_SIZE],
                                            self.peer_initial_window)
        return st

    def _on_frame(self, f):
        if isinstance(f, hf.SettingsFrame):
            if "ACK" in f.flags:
                self.settings_acked = True
                return
            self.peer_settings_frames += 1
            for k, v in f.settings.items():
                self.peer[k] = v
                if k == S_INITIAL_WINDOW_SIZE:
                    delta = v - self.peer_initial_window
                    self.peer_initial_window = v
                    for st in self.streams.values():
                        st.send_window += delta
                elif k == S_MAX_FRAME_SIZE:
                    self.peer_max_frame = v
            if self.ack_settings:
                self.out += hf.SettingsFrame(0, flags=["ACK"]).serialize()
        elif isinstance(f, hf.WindowUpdateFrame):
            self.window_updates[f.stream_id] = self.window_updates.get(f.stream_id, 0) + 1
            if f.stream_id == 0:
                self.send_conn_window += f.window_increment
            else:
                self._stream(f.stream_id).send_window += f.window_increment
        elif isinstance(f, hf.PingFrame):
            if "ACK" not in f.flags:
                self.pings += 1
                self.out += hf.PingFrame(0, opaque_data=f.opaque_data, flags=["ACK"]).serialize()
        elif isinstance(f, hf.GoAwayFrame):
            self.goaways.append((f.error_code, f.last_stream_id, bytes(f.additional_data or b"")))
        elif isinstance(f, hf.RstStreamFrame):
            st = self._stream(f.stream_id)
            st.reset = f.error_code
            st.t_end = time.monotonic()
        elif isinstance(f, hf.HeadersFrame):
            st = self._stream(f.stream_id)
            st.block = bytearray(f.data)
            st.block_end_stream = "END_STREAM" in f.flags
            if "END_HEADERS" in f.flags:
                self._on_block(st)
        elif isinstance(f, hf.ContinuationFrame):
            st = self._stream(f.stream_id)
            if st.block is None:
                self.violations.append(f"CONTINUATION without HEADERS on stream {f.stream_id}")
                return
            st.block += f.data
            if "END_HEADERS" in f.flags:
                self._on_block(st)
        elif isinstance(f, hf.DataFrame):
            st = self._stream(f.stream_id)
            n = f.flow_controlled_length
            st.data += f.data
            st.data_frames += 1
            st.recv_window -= n
            self.recv_conn_window -= n
            if st.recv_window < 0 or self.recv_conn_window < 0:
                self.violations.append(
                    f"DATA beyond the window on stream {f.stream_id}: stream window "
                    f"{st.recv_window}, connection window {self.recv_conn_window}")
            if self.auto_window and n:
                self.window_update(0, n, queue=True)
                if "END_STREAM" not in f.flags:
                    self.window_update(f.stream_id, n, queue=True)
            if "END_STREAM" in f.flags:
                self._end(st)
        elif isinstance(f, hf.PushPromiseFrame):
            self.violations.append("PUSH_PROMISE although we sent SETTINGS_ENABLE_PUSH=0")

    def _on_block(self, st):
        block, st.block = bytes(st.block), None
        try:
            hdrs = [(str(k), str(v)) for k, v in self.dec.decode(block)]
        except Exception as e:
            self.violations.append(f"stream {st.sid}: HPACK decoding failed: {e!r}")
            return
        for k, v in hdrs:
            if k != k.lower():
                self.violations.append(f"stream {st.sid}: header name not in lower case: {k!r}")
            if k in CONNECTION_SPECIFIC:
                self.violations.append(f"stream {st.sid}: connection-specific header {k}: {v}")
        status = [v for k, v in hdrs if k == ":status"]
        if st.headers is None:
            if not status:
                self.violations.append(f"stream {st.sid}: response head without :status")
            if status and status[0].startswith("1"):
                st.interim.append(hdrs)
            else:
                st.headers = hdrs
        else:
            if status or any(k.startswith(":") for k, _ in hdrs):
                self.violations.append(f"stream {st.sid}: pseudo-header in trailers {hdrs}")
            if not st.block_end_stream:
                self.violations.append(f"stream {st.sid}: trailers without END_STREAM")
            st.trailers = hdrs
        if st.block_end_stream:
            self._end(st)

    def _end(self, st):
        st.ended = True
        st.t_end = time.monotonic()

    # -- requests

    def window_update(self, sid, n, queue=False):
        data = hf.WindowUpdateFrame(sid, window_increment=n).serialize()
        if sid == 0:
            self.recv_conn_window += n
        else:
            self._stream(sid).recv_window += n
        if queue:
            self.out += data
        else:
            self.sendall(data)

    def header_frames(self, sid, block, end_stream):
        """HEADERS (+ CONTINUATION) frames carrying block."""
        step = self.peer_max_frame
        pieces = [block[i:i + step] for i in range(0, len(block), step)] or [b""]
        frames = []
        for i, p in enumerate(pieces):
            flags = []
            if i == len(pieces) - 1:
                flags.append("END_HEADERS")
            if i == 0:
                if end_stream:
                    flags.append("END_STREAM")
                frames.append(hf.HeadersFrame(sid, data=p, flags=flags))
            else:
                frames.append(hf.ContinuationFrame(sid, data=p, flags=flags))
        return frames

    def request(self, method, path, authority=HOST, headers=(), body=None, end=True,
                scheme="http", body_timeout=60):
        """Open a stream; body (bytes) is sent within the flow-control windows."""
        sid = self.next_sid
        self.next_sid += 2
        hdrs = [(":method", method), (":scheme", scheme), (":authority", authority),
                (":path", path)] + list(headers)
        self._stream(sid)
        self.send_frames(*self.header_frames(sid, self.enc.encode(hdrs),
                                             end_stream=body is None and end))
        if body is not None:
            self.send_body(sid, body, end, body_timeout)
        return sid

    def send_body(self, sid, body, end=True, timeout=60):
        st = self.streams[sid]
        mv = memoryview(body)
        off = 0
        deadline = time.monotonic() + timeout
        while off < len(mv):
            if st.reset is not None or st.ended or self.closed:
                raise H2Error(f"stream {sid} ended after {off} of {len(mv)} body bytes: {st}")
            allowed = min(self.send_conn_window, st.send_window, self.peer_max_frame)
            if allowed <= 0:
                if time.monotonic() > deadline:
                    raise H2Error(f"no window to send after {off} of {len(mv)} body bytes "
                                  f"(connection {self.send_conn_window}, stream {st.send_window})")
                self.pump(0.5)
                continue
            k = min(allowed, len(mv) - off)
            last = off + k == len(mv)
            self.send_frames(hf.DataFrame(sid, data=bytes(mv[off:off + k]),
                                          flags=["END_STREAM"] if last and end else []))
            self.send_conn_window -= k
            st.send_window -= k
            off += k
            self.pump(0)
        if not len(mv) and end:
            self.send_frames(hf.DataFrame(sid, data=b"", flags=["END_STREAM"]))

    def done(self, sid):
        st = self.streams[sid]
        if st.ended or st.reset is not None or self.closed:
            return True
        return any(sid > last for _, last, _ in self.goaways)

    def response(self, sid, timeout=30):
        self.wait(lambda: self.done(sid), timeout)
        return self.streams[sid]

    def get(self, path, authority=HOST, headers=(), timeout=30, **kw):
        return self.response(self.request("GET", path, authority, headers, **kw), timeout)


def h2_get(port, path, authority=HOST, headers=(), timeout=30, **kw):
    """One GET on a new connection; returns (stream, violations)."""
    with H2(port, timeout=timeout, **kw) as c:
        st = c.get(path, authority, headers, timeout)
        return st, c.violations


# ---------------------------------------------------------------- tools

class CurlOut:
    def __init__(self, rc, status, version, head, body, stderr):
        self.rc, self.status, self.version = rc, status, version
        self.head, self.body, self.stderr = head, body, stderr
        self.headers = []
        blocks = [b for b in head.split("\r\n\r\n") if b.strip()]
        for line in (blocks[-1].split("\r\n")[1:] if blocks else []):
            k, _, v = line.partition(":")
            self.headers.append((k, v.strip()))

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return (f"<curl rc={self.rc} status={self.status} http_version={self.version} "
                f"body={self.body[:80]!r} stderr={self.stderr[-200:]!r}>")


def curl(url, *args, timeout=30):
    d = mg.tmpdir("curl")
    hdr, body = d / "h", d / "b"
    argv = ["curl", "-sS", "--max-time", str(timeout), "-D", str(hdr), "-o", str(body),
            "-w", "%{http_code} %{http_version}", *args, url]
    p = subprocess.run(argv, capture_output=True, timeout=timeout + 10)
    out = p.stdout.decode().split()
    status = int(out[0]) if out and out[0].isdigit() else 0
    version = out[1] if len(out) > 1 else ""
    return CurlOut(p.returncode, status, version,
                   hdr.read_bytes().decode("latin-1") if hdr.exists() else "",
                   body.read_bytes() if body.exists() else b"", p.stderr.decode(errors="replace"))


def echo_headers(echo, name):
    return [v for k, v in echo.get("headers", []) if k.lower() == name]


def log_entries(up, pred):
    try:
        return [e for e in up.log() if pred(e)]
    except (OSError, ValueError):
        return []


def make_pki(d):
    """A test CA and a server certificate for HOST (openssl)."""
    def sh(*argv):
        subprocess.run(list(argv), capture_output=True, timeout=60, check=True)
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"), "-days", "3", "-subj",
       "/O=meshgate h2 test CA", "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    (d / "srv.ext").write_text("basicConstraints=critical,CA:FALSE\n"
                               "keyUsage=critical,digitalSignature\n"
                               f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{HOST}\n")
    sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", str(d / "srv.key"), "-out", str(d / "srv.csr"), "-subj", f"/CN={HOST}")
    sh("openssl", "x509", "-req", "-in", str(d / "srv.csr"), "-CA", str(d / "ca.pem"),
       "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "2", "-out", str(d / "srv.pem"),
       "-extfile", str(d / "srv.ext"))


def tls_ctx(cafile, cert=None, key=None, check_hostname=True):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(cafile))
    ctx.check_hostname = check_hostname
    if cert:
        ctx.load_cert_chain(str(cert), str(key))
    return ctx


class Target:
    """What the cases talk to: meshgate (m set) or the nghttpx reference."""

    def __init__(self, plain, tls, up, rr, pki, m=None, inbound=None, istio=None):
        self.plain, self.tls, self.up, self.rr, self.pki = plain, tls, up, rr, pki
        self.m, self.inbound, self.istio = m, inbound, istio

    def alive(self):
        return self.m is None or self.m.proc.alive()

    def rss_kib(self):
        if self.m is None or os.environ.get("MESHGATE_SANITIZED") == "1":
            return None
        try:
            return self.m.rss()["VmRSS"]
        except OSError:
            return None

    def tls_client(self):
        return tls_ctx(self.pki / "ca.pem")


def echo_count(up):
    try:
        return up.stats()["paths"].get("/echo", 0)
    except (OSError, ValueError):
        return 0


# ---------------------------------------------------------------- cases

def case_prior_knowledge(t):
    r = curl(f"http://127.0.0.1:{t.plain}/echo?via=curl", "--http2-prior-knowledge",
             "-H", f"Host: {HOST}")
    if not mg.check(r.rc == 0 and r.status == 200 and r.version == "2",
                    "curl --http2-prior-knowledge: 200 over HTTP/2 on the plaintext listener", r):
        mg.note("the plaintext listener does not speak HTTP/2 with prior knowledge: "
                "most of what follows fails for the same reason")
    echo = {}
    try:
        echo = r.json()
    except ValueError:
        pass
    mg.check(echo.get("version") == "HTTP/1.1" and echo.get("target") == "/echo?via=curl",
             "the upstream got an HTTP/1.1 request with the path and query", echo.get("version"))
    mg.check(echo_headers(echo, "host") == [HOST], ":authority becomes exactly one Host header",
             echo_headers(echo, "host"))
    mg.check(echo_headers(echo, "x-forwarded-proto") == ["http"], "x-forwarded-proto: http",
             echo_headers(echo, "x-forwarded-proto"))
    mg.check(not [k for k, _ in echo.get("headers", []) if k.startswith(":")],
             "no pseudo-header reaches the upstream", echo.get("headers"))
    names = [k for k, _ in r.headers]
    mg.check(names and all(k == k.lower() for k in names),
             "curl: every response header name is in lower case", names)
    mg.check(not [k for k in names if k.lower() in CONNECTION_SPECIFIC],
             "curl: no hop-by-hop header in the HTTP/2 response", names)
    body = os.urandom(100003)
    f = mg.tmpdir("post") / "body"
    f.write_bytes(body)
    r = curl(f"http://127.0.0.1:{t.plain}/sink", "--http2-prior-knowledge", "-H", f"Host: {HOST}",
             "--data-binary", f"@{f}")
    ok = r.rc == 0 and r.status == 200 and r.version == "2"
    got = r.json() if ok else {}
    mg.check(ok and got.get("bytes") == len(body) and got.get("sha256") == sha(body),
             "curl --http2-prior-knowledge: a 100 kB POST arrives intact", r)


def case_sniffing(t):
    r = mg.get(t.plain, "/echo?h1=1", HOST)
    mg.check(r.status == 200 and r.version == "HTTP/1.1",
             "HTTP/1.1 is still served on the same listener", r)
    r = mg.send_raw(t.plain, None, timeout=10, delay=0.2, parts=[
        b"P", b"OST /sink HTTP/1.1\r\nHost: " + HOST.encode() +
        b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi"])
    mg.check(r.status == 200 and b'"bytes": 2' in r.data,
             "an HTTP/1.1 POST whose first segment is just \"P\" is still HTTP/1.1", r)
    r = mg.send_raw(t.plain, None, timeout=10, delay=0.2, parts=[
        b"PR", b"I * HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nConnection: close\r\n\r\n"])
    mg.check(r.status is not None or r.closed,
             "a request line \"PRI * HTTP/1.1\" is answered or closed, not hung", r)
    try:
        with H2(t.plain, preface_parts=(1, 9, 20)) as c:
            st = c.get("/echo?dribbled=1")
            mg.check(st.status == 200 and st.ended,
                     "the preface sent in four pieces 100 ms apart still starts HTTP/2", st)
    except H2Error as e:
        mg.check(False, "the preface sent in four pieces 100 ms apart still starts HTTP/2", e)


def case_tools(t):
    for tool in ("nghttp", "h2load"):
        if not shutil.which(tool):
            mg.check(False, f"{tool} is installed (Debian nghttp2-client)")
            return
    base = f"http://127.0.0.1:{t.plain}"
    paths = ["/echo?n=1", "/bytes?n=100000", "/chunked?n=70000&chunk=999", "/status?code=204",
             "/", "/echo?n=2"]
    p = subprocess.run(["nghttp", "-ns", "-t", "30", "-H", f":authority: {HOST}"] +
                       [base + q for q in paths], capture_output=True, timeout=60)
    out = p.stdout.decode(errors="replace")
    rows = re.findall(r"^\s*\d+\s+\+\S+\s+\+\S+\s+\S+\s+(\d{3})\s+(\S+)\s+(\S+)\s*$", out, re.M)
    codes = {path: int(code) for code, _, path in rows}
    want = {q: (204 if "204" in q else 200) for q in paths}
    mg.check(p.returncode == 0 and codes == want,
             f"nghttp: {len(paths)} multiplexed GETs on one connection all answered", 
             f"rc={p.returncode} {codes} {p.stderr.decode(errors='replace')[-300:]}")
    n = 8 << 20
    p = subprocess.run(["nghttp", "-w", "16", "-W", "16", "-t", "60", "-H", f":authority: {HOST}",
                        f"{base}/bytes?n={n}"], capture_output=True, timeout=90)
    mg.check(p.returncode == 0 and sha(p.stdout) == mg.pattern_sha256(n),
             "nghttp with 64 KiB windows (-w 16 -W 16): an 8 MiB response arrives intact",
             f"rc={p.returncode} {body_diff(p.stdout, n)} "
             f"{p.stderr.decode(errors='replace')[-200:].strip()}")
    p = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "32", "-t", "1",
                        "-H", f":authority: {HOST}", base + "/"], capture_output=True, timeout=120)
    out = p.stdout.decode(errors="replace")
    m1 = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                   r"(\d+) errored", out)
    m2 = re.search(r"status codes: (\d+) 2xx", out)
    mg.check(m1 and m1.group(3) == "2000" and m2 and m2.group(1) == "2000",
             "h2load: 2000 requests, 4 connections x 32 streams, all 2xx",
             (m1 and m1.group(0), m2 and m2.group(0), out[-300:]))


def case_tls(t):
    ca = str(t.pki / "ca.pem")
    url = f"https://{HOST}:{t.tls}/echo?via=tls"
    r = curl(url, "--http2", "--cacert", ca, "--resolve", f"{HOST}:{t.tls}:127.0.0.1")
    mg.check(r.rc == 0 and r.status == 200 and r.version == "2",
             "curl --http2 over TLS: ALPN h2 chosen, 200 over HTTP/2", r)
    echo = r.json() if r.rc == 0 and r.status == 200 else {}
    mg.check(echo_headers(echo, "x-forwarded-proto") == ["https"],
             "TLS h2: the upstream sees x-forwarded-proto: https", echo_headers(echo, "x-forwarded-proto"))
    r = curl(url, "--http1.1", "--cacert", ca, "--resolve", f"{HOST}:{t.tls}:127.0.0.1")
    mg.check(r.rc == 0 and r.status == 200 and r.version == "1.1",
             "curl --http1.1 over TLS still gets HTTP/1.1", r)
    try:
        with H2(t.tls, tls=t.tls_client(), sni=HOST, alpn=("h2", "http/1.1")) as c:
            mg.check(c.alpn == "h2", "ALPN [h2, http/1.1]: the server selects h2", c.alpn)
            st = c.get("/bytes?n=300000")
            mg.check(st.status == 200 and bytes(st.data) == pattern(300000),
                     "TLS h2: a 300 kB response arrives intact", f"{st}: {body_diff(st.data, 300000)}")
            mg.check(not c.violations, "TLS h2: no protocol violation", c.violations[:3])
    except (H2Error, OSError) as e:
        mg.check(False, "TLS h2 with ALPN h2", repr(e))
    ctx = t.tls_client()
    ctx.set_alpn_protocols(["http/1.1", "h2"])
    with socket.create_connection(("127.0.0.1", t.tls), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=HOST) as s:
            proto = s.selected_alpn_protocol()
    mg.check(proto == "h2", "ALPN [http/1.1, h2]: the server's preference (h2 first) wins", proto)
    ctx = t.tls_client()
    ctx.set_alpn_protocols(["http/1.1"])
    with socket.create_connection(("127.0.0.1", t.tls), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=HOST) as s:
            proto = s.selected_alpn_protocol()
            s.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            data = mg.read_all(s)
    mg.check(proto == "http/1.1" and data.startswith(b"HTTP/1.1 200"),
             "ALPN [http/1.1] still selects http/1.1 and gets 200", (proto, data[:40]))


def case_istio(t):
    m = t.m
    state = m.dir / "state"
    p = subprocess.run([mg.binary(), "ca", "issue", "--state-dir", str(state), "--ns", "foo",
                        "--sa", "bar", "--ttl", "1h", "--out", str(t.pki / "bar")],
                       capture_output=True, timeout=60)
    if not mg.check(p.returncode == 0, "meshgate ca issue writes a client SVID", p.stderr[-300:]):
        return
    root = state / "ca" / "root-cert.pem"

    def mesh_ctx():
        return tls_ctx(root, t.pki / "bar-chain.pem", t.pki / "bar-key.pem", check_hostname=False)
    for name, port in (("istio_mutual listener", t.istio),
                       ("PERMISSIVE inbound listener", t.inbound)):
        try:
            with H2(port, tls=mesh_ctx(), sni=f"outbound_.80_._.{HOST}",
                    alpn=("istio-h2", "istio-http/1.1", "istio")) as c:
                mg.check(c.alpn == "istio-h2", f"{name}: Istio's ALPN istio-h2 is selected", c.alpn)
                st = c.get("/echo?via=istio-h2")
                echo = st.json() if st.status == 200 else {}
                xfcc = echo_headers(echo, "x-forwarded-client-cert")
                mg.check(st.status == 200 and xfcc and
                         "URI=spiffe://cluster.local/ns/foo/sa/bar" in xfcc[0],
                         f"{name}: h2 over mesh mTLS, the peer's SPIFFE ID in x-forwarded-client-cert",
                         (st, xfcc))
        except (H2Error, OSError) as e:
            mg.check(False, f"{name}: h2 over mesh mTLS with ALPN istio-h2", repr(e))
    r = curl(f"http://127.0.0.1:{t.inbound}/echo?via=inbound", "--http2-prior-knowledge",
             "-H", f"Host: {HOST}")
    mg.check(r.rc == 0 and r.status == 200 and r.version == "2",
             "PERMISSIVE inbound listener: plaintext h2 with prior knowledge", r)


def post_many(c, n, delay_ms, tag):
    """n concurrent POST /echo streams, each with its own body; returns {i: (sid, body)}."""
    out = {}
    for i in range(n):
        body = (f"{tag} {i}:".encode() + os.urandom(16)) * (i + 1)
        sid = c.request("POST", f"/echo?{tag}={i}&delay_ms={delay_ms}", HOST,
                        [("content-length", str(len(body)))], body=body)
        out[i] = (sid, body)
    return out


def wrong_answers(c, sent, tag, delay_ms):
    bad = []
    for i, (sid, body) in sent.items():
        s = c.streams[sid]
        e = s.jsonq()
        if not (s.status == 200 and s.ended and e.get("query") == f"{tag}={i}&delay_ms={delay_ms}"
                and e.get("body_length") == len(body) and e.get("body_sha256") == sha(body)
                and echo_headers(e, "content-length") == [str(len(body))]):
            bad.append(s)
    return bad


def case_multiplex(t):
    with H2(t.plain) as c:
        mg.check_eq(c.peer.get(S_MAX_CONCURRENT_STREAMS), 100, "SETTINGS_MAX_CONCURRENT_STREAMS")
        mg.check_eq(c.peer.get(S_INITIAL_WINDOW_SIZE), 65536,
                    "SETTINGS_INITIAL_WINDOW_SIZE (64 KiB stream window)")
        mg.note(f"server SETTINGS: {c.peer}")
        c.wait(lambda: c.send_conn_window >= 1 << 20, 3)
        mg.check_eq(c.send_conn_window, 1 << 20, "connection window opened to 1 MiB")
        before = echo_count(t.up)
        t0 = time.monotonic()
        sent = post_many(c, 100, 1000, "m")
        arrived = mg.wait_for(lambda: echo_count(t.up) - before >= 100, 15, interval=0.1)
        mg.check(arrived, "100 concurrent streams are all at the upstream at once",
                 echo_count(t.up) - before)
        c.wait(lambda: all(c.done(sid) for sid, _ in sent.values()), 30)
        secs = time.monotonic() - t0
        bad = wrong_answers(c, sent, "m", 1000)
        mg.check(not bad, "100 multiplexed POSTs each get the answer to their own body",
                 f"{len(bad)} wrong, first {bad[:2]}; goaway={c.goaway}, {c.close_reason}")
        mg.check(secs < 8, "the 100 streams ran concurrently (1 s at the upstream each)",
                 f"{secs:.1f} s")
        st = c.get("/echo?after=1")
        mg.check(st.status == 200, "the connection takes new streams afterwards", st)
        mg.check(not c.violations, "no protocol violation on the multiplexed connection",
                 c.violations[:3])
    with H2(t.plain) as c:
        before = echo_count(t.up)
        sent = post_many(c, 100, 3000, "r")
        arrived = mg.wait_for(lambda: echo_count(t.up) - before >= 100, 15, interval=0.1)
        mg.check(arrived, "again 100 streams waiting 3 s at the upstream",
                 echo_count(t.up) - before)
        extra = c.request("GET", "/echo?i=101", HOST)
        c.wait(lambda: c.done(extra), 10)
        st = c.streams[extra]
        ga = c.goaway
        # RFC 9113 5.1.2: a stream error (REFUSED_STREAM or PROTOCOL_ERROR)
        # on the stream, which 5.4.1 lets an endpoint treat as a connection
        # error. nghttp2 does the latter once our SETTINGS are acknowledged:
        # GOAWAY(PROTOCOL_ERROR) and the connection ends (in-flight streams
        # with it, as with Envoy's codec error). Either is accepted; a
        # refused stream must leave the other 100 alone.
        refused = st.reset in (REFUSED_STREAM, PROTOCOL_ERROR) and ga is None
        conn_err = ga is not None and ename(ga[0]) == "PROTOCOL_ERROR" and ga[1] >= 199
        mg.check(refused or conn_err,
                 "a 101st concurrent stream is refused (RST_STREAM) or ends the connection "
                 "(GOAWAY PROTOCOL_ERROR), as RFC 9113 5.1.2/5.4.1 allow",
                 f"{st}; goaway={ga and (ename(ga[0]), ga[1])}; connection {c.close_reason or 'open'}")
        if refused:
            c.wait(lambda: all(c.done(sid) for sid, _ in sent.values()), 30)
            bad = wrong_answers(c, sent, "r", 3000)
            mg.check(not bad, "... and the 100 in-flight streams still complete",
                     f"{len(bad)} wrong, first {bad[:2]}; connection {c.close_reason or 'open'}")
            try:
                st = c.get("/echo?after-refused=1")
            except H2Error as e:
                st = e
            mg.check(isinstance(st, Stream) and st.status == 200,
                     "... and the connection takes new streams afterwards", st)
    with H2(t.plain) as c:
        st = c.get("/echo?after-limit=1")
        mg.check(st.status == 200, "a new connection is served after the limit was broken", st)


def case_upload(t):
    n = 5 << 20
    body = pattern(n)
    with H2(t.plain, timeout=60) as c:
        sid = c.request("POST", "/sink", HOST, [("content-length", str(n))], body=body)
        st = c.response(sid, 60)
        got = st.json() if st.status == 200 else {}
        mg.check(got.get("bytes") == n and got.get("sha256") == mg.pattern_sha256(n),
                 "a 5 MiB POST with content-length, sent within the server's windows, arrives intact",
                 (st, got))
        mg.check(c.window_updates.get(sid, 0) > 0 and c.window_updates.get(0, 0) > 0,
                 "the proxy opened the stream and connection windows as it forwarded",
                 c.window_updates)
        small = os.urandom(1000003)
        sid = c.request("POST", "/echo?framing=none", HOST, body=small)
        st = c.response(sid, 60)
        e = st.json() if st.status == 200 else {}
        mg.check(e.get("body_length") == len(small) and e.get("body_sha256") == sha(small),
                 "a 1 MB POST without content-length arrives intact", st)
        mg.check(echo_headers(e, "transfer-encoding") == ["chunked"]
                 and not echo_headers(e, "content-length"),
                 "... forwarded chunked (no content-length upstream)",
                 (echo_headers(e, "transfer-encoding"), echo_headers(e, "content-length")))
        sid = c.request("POST", "/echo?trailers=1", HOST, [("te", "trailers")], body=b"hello",
                        end=False)
        c.send_frames(*c.header_frames(sid, c.enc.encode([("x-req-trailer", "yes")]),
                                       end_stream=True))
        st = c.response(sid)
        e = st.jsonq()
        mg.check(e.get("body_sha256") == sha(b"hello") and
                 ["x-req-trailer", "yes"] in [[k.lower(), v] for k, v in e.get("trailers", [])],
                 "request trailers (HEADERS after DATA) reach the upstream as chunked trailers",
                 (st, e.get("trailers"), echo_headers(e, "transfer-encoding")))
        sid = c.request("POST", "/echo?framing=cl", HOST, [("content-length", "5")], body=b"hello")
        st = c.response(sid)
        e = st.json() if st.status == 200 else {}
        mg.check(echo_headers(e, "content-length") == ["5"] and not echo_headers(e, "transfer-encoding")
                 and e.get("body_sha256") == sha(b"hello"),
                 "a POST with content-length is forwarded with content-length", e.get("headers"))
        sid = c.request("POST", "/echo?framing=empty", HOST, body=b"")
        st = c.response(sid)
        e = st.json() if st.status == 200 else {}
        mg.check(st.status == 200 and e.get("body_length") == 0,
                 "a POST whose body is one empty DATA frame with END_STREAM", st)
        # padding counts against the windows (RFC 9113 6.1): 5 MiB in 1 KiB
        # frames padded by 255 bytes spends 1.25 MiB on padding, more than
        # the connection window, so padding the proxy does not give back stalls
        n = 5 << 20
        body = pattern(n)
        sid = c.request("POST", "/sink?padded=1", HOST, [("content-length", str(n))], end=False)
        st = c.streams[sid]
        off, deadline = 0, time.monotonic() + 60
        while off < n and not c.done(sid) and time.monotonic() < deadline:
            k = min(1024, n - off)
            need = k + 256
            if min(c.send_conn_window, st.send_window) < need:
                c.pump(0.5)
                continue
            c.send_frames(hf.DataFrame(sid, data=body[off:off + k], pad_length=255,
                                       flags=["PADDED"] + (["END_STREAM"] if off + k == n else [])))
            c.send_conn_window -= need
            st.send_window -= need
            off += k
        st = c.response(sid, 30)
        got = st.jsonq()
        mg.check(off == n and got.get("bytes") == n and got.get("sha256") == mg.pattern_sha256(n),
                 "5 MiB in padded DATA frames: padding counted and given back, body intact",
                 f"sent {off} of {n}; windows: connection {c.send_conn_window}, stream "
                 f"{st.send_window}; {st}")
        # a client that gives up mid-upload: the upstream connection carrying
        # the half-sent body must not go back to the pool
        sid = c.request("POST", "/sink?delay_ms=500", HOST, [("content-length", str(1 << 20))],
                        body=pattern(100000), end=False)
        c.send_frames(hf.RstStreamFrame(sid, error_code=CANCEL))
        sids = {i: c.request("GET", f"/echo?after-upload-cancel={i}", HOST) for i in range(5)}
        c.wait(lambda: all(c.done(s) for s in sids.values()), 20)
        bad = [c.streams[s] for i, s in sids.items()
               if c.streams[s].jsonq().get("query") != f"after-upload-cancel={i}"]
        mg.check(not bad, "after RST_STREAM(CANCEL) mid-upload, later requests get their own answers",
                 bad[:2])
        mg.check(not c.violations, "uploads: no protocol violation", c.violations[:3])
    # backpressure: an upstream that reads nothing for 2.5 s must not make
    # meshgate buffer the upload (it reopens windows only as bytes leave)
    big = 32 << 20
    base = t.rss_kib()
    samples = []
    sampler = threading.Thread(target=lambda: (time.sleep(1.5), samples.append(t.rss_kib())),
                               daemon=True)
    with H2(t.plain, timeout=60) as c:
        sampler.start()
        sid = c.request("POST", "/sink?delay_ms=2500", HOST, [("content-length", str(big))],
                        body=pattern(big), body_timeout=60)
        st = c.response(sid, 60)
        got = st.jsonq()
        mg.check(got.get("bytes") == big and got.get("sha256") == mg.pattern_sha256(big),
                 "a 32 MiB POST to an upstream that stalls 2.5 s arrives intact", (st, got))
    sampler.join(10)
    if base is not None and samples and samples[0] is not None:
        mg.check(samples[0] - base < 16 * 1024,
                 "... and meshgate does not buffer it while the upstream stalls (VmRSS < +16 MiB)",
                 f"grew {samples[0] - base} KiB")


def gradual_download(c, path, n, step):
    """GET path opening the windows by step only when the server has used
    them up; returns (stream, number of window openings)."""
    sid = c.request("GET", path, HOST)
    st = c.streams[sid]
    opens = 0
    while not c.done(sid):
        if st.recv_window <= 0 or c.recv_conn_window <= 0:
            if st.recv_window <= 0:
                c.window_update(sid, step)
            if c.recv_conn_window <= step:
                c.window_update(0, step)
            opens += 1
        if not c.wait(lambda: c.done(sid) or st.recv_window <= 0 or c.recv_conn_window <= 0, 20):
            break
    return st, opens


def case_download(t):
    n = 8 << 20
    with H2(t.plain, settings={S_INITIAL_WINDOW_SIZE: 16384}, auto_window=False, timeout=60) as c:
        st, opens = gradual_download(c, f"/bytes?n={n}", n, 128 * 1024)
        mg.check(st.status == 200 and st.ended and len(st.data) == n
                 and sha(st.data) == mg.pattern_sha256(n),
                 "an 8 MiB response arrives intact while the client opens its window 128 KiB at a time",
                 f"{st}: {body_diff(st.data, n)}, after {opens} openings")
        mg.check(opens > 30, "the server waited for each window opening", opens)
        m = 2 << 20
        st, opens = gradual_download(c, f"/chunked?n={m}&chunk=10007", m, 64 * 1024)
        mg.check(st.status == 200 and st.ended and len(st.data) == m
                 and sha(st.data) == mg.pattern_sha256(m),
                 "a 2 MiB chunked upstream response becomes DATA frames, windows respected",
                 f"{st}: {body_diff(st.data, m)}, after {opens} openings")
        mg.check(st.header("content-length") is None and st.trailers is None,
                 "... without content-length and without trailers", st.headers)
        mg.check(not c.violations, "downloads: no DATA beyond the windows, no other violation",
                 c.violations[:3])
    # a reader that stops: the proxy must stop reading the upstream
    big = 64 << 20
    base = t.rss_kib()
    with H2(t.plain, auto_window=False, timeout=60) as c:
        sid = c.request("GET", f"/bytes?n={big}", HOST)
        st = c.streams[sid]
        c.wait(lambda: st.recv_window <= 0 or c.recv_conn_window <= 0 or c.done(sid), 20)
        first = len(st.data)
        c.wait(lambda: c.done(sid), 2.5)        # nothing may arrive: windows are shut
        mid = t.rss_kib()
        mg.check(first > 0 and len(st.data) == first and not c.violations,
                 "a stalled reader: nothing beyond the 65535-byte windows arrives",
                 (first, len(st.data), c.violations[:2]))
        if base is not None and mid is not None:
            mg.check(mid - base < 16 * 1024,
                     "... and meshgate does not buffer the 64 MiB response (VmRSS grows < 16 MiB)",
                     f"grew {mid - base} KiB")
        c.send_frames(hf.RstStreamFrame(sid, error_code=CANCEL))
        c.window_update(0, 4 << 20)
        st2 = c.get("/echo?after-cancel=1")
        mg.check(st2.jsonq().get("query") == "after-cancel=1",
                 "after RST_STREAM(CANCEL) of the download the connection still serves, "
                 "with its own answer", st2)


def case_trailers(t):
    n = 100000
    with H2(t.plain) as c:
        st = c.get(f"/chunked?n={n}&chunk=7000&trailers=1", headers=[("te", "trailers")])
        mg.check(st.status == 200 and bytes(st.data) == pattern(n),
                 "a chunked upstream response with trailers: the body arrives intact",
                 f"{st}: {body_diff(st.data, n)}")
        tr = dict(st.trailers or [])
        mg.check(tr.get("x-body-sha256") == mg.pattern_sha256(n) and tr.get("x-trailer-note") == "done",
                 "the upstream's chunked trailers arrive as an HTTP/2 trailers HEADERS frame",
                 st.trailers)
        mg.check(st.ended, "the trailers end the stream (END_STREAM)", st)
        st = c.get("/chunked?n=0&trailers=1")
        tr = dict(st.trailers or [])
        mg.check(st.status == 200 and len(st.data) == 0 and tr.get("x-trailer-note") == "done",
                 "an empty chunked body with trailers: trailers still arrive", (st, st.trailers))
        mg.check(not c.violations, "trailers: no protocol violation", c.violations[:3])


def case_headers(t):
    with H2(t.plain) as c:
        st = c.get("/echo?q=1&r=%2F", headers=[("cookie", "a=1"), ("x-custom", "Value 1"),
                                               ("cookie", "b=2"), ("accept", "*/*")])
        e = st.json() if st.status == 200 else {}
        mg.check(e.get("target") == "/echo?q=1&r=%2F" and e.get("method") == "GET",
                 "method and :path (with its query) become the request line", e.get("target"))
        mg.check(echo_headers(e, "cookie") == ["a=1; b=2"],
                 "split cookie fields are joined with \"; \" for HTTP/1.1 (RFC 9113 8.2.3)",
                 echo_headers(e, "cookie"))
        mg.check(echo_headers(e, "x-custom") == ["Value 1"], "other fields pass unchanged",
                 echo_headers(e, "x-custom"))
        mg.check(len(echo_headers(e, "x-request-id")) == 1, "x-request-id is added as for HTTP/1.1",
                 echo_headers(e, "x-request-id"))
        mg.check(st.header("x-upstream-name") == "h2up" and st.header("content-type") == "application/json",
                 "upstream response fields arrive (lower case)", st.headers)
        st = c.get("/close")
        mg.check(st.status == 200 and bytes(st.data) == b"h2up\n",
                 "an upstream answer with Connection: close arrives without it", st)
        sid = c.request("HEAD", "/bytes?n=1000", HOST)
        st = c.response(sid)
        mg.check(st.status == 200 and st.ended and not st.data, "HEAD: headers only", st)
        st = c.get("/status?code=204")
        mg.check(st.status == 204 and st.ended and not st.data, "204: no DATA", st)
        mg.check(not c.violations, "no hop-by-hop or upper-case field in any response",
                 c.violations[:3])


def case_local_replies(t):
    with H2(t.plain) as c:
        st = c.get("/nothing", authority=ROUTED)
        mg.check(st.status == 404 and st.ended,
                 "a registered host without a matching route: 404 (NR) as an HTTP/2 response", st)
        st = c.get("/api/x", authority=ROUTED)
        mg.check(st.status == 200, "... its /api route: 200 (control)", st)
        st = c.get("/nothing", authority="unknown.example")
        mg.check(st.status == 502 and st.ended,
                 "an unknown :authority under REGISTRY_ONLY: 502 as an HTTP/2 response", st)
        st = c.get("/", authority=DEAD)
        mg.check(st.status == 503 and st.ended, "an unreachable endpoint: 503 on the stream", st)
        st = c.get("/bad/status")
        mg.check(st.status == 502 and st.ended, "a garbage upstream status line: 502 on the stream", st)
        st = c.get("/slow?ms=3000", authority=SLOW)
        mg.check(st.status == 504 and st.ended, "a route timeout: 504 on the stream", st)
        st = c.get("/")
        mg.check(st.status == 200 and bytes(st.data) == b"h2up\n",
                 "the connection survives the local replies", st)
        mg.check(c.goaway is None and not c.violations, "local replies: no GOAWAY, no violation",
                 (c.goaway, c.violations[:3]))


def benign_loop(port, stop, out):
    """Sequential h2 GETs on one connection until stop is set: (status, secs)."""
    try:
        with H2(port, timeout=10) as c:
            while not stop.is_set():
                t0 = time.monotonic()
                st = c.get("/", timeout=10)
                out.append((st.status, time.monotonic() - t0))
                if st.status != 200:
                    break
                time.sleep(0.02)
    except Exception as e:
        out.append((repr(e), 0))


def reset_flood(port, server_resets):
    """Open streams in batches of 100 until GOAWAY or close, each either
    HEADERS + RST_STREAM(CANCEL) or (server_resets) HEADERS the server must
    reset itself (an upper-case field name). Returns (streams sent, goaway,
    closed after it, close reason, seconds)."""
    streams = 0
    t0 = time.monotonic()
    with H2(port, timeout=20) as c:
        hdrs = [(":method", "GET"), (":scheme", "http"), (":authority", RR),
                (":path", "/slow?ms=1000")]
        if server_resets:
            hdrs.append(("X-Malformed", "1"))
        while streams < 20000 and not c.goaway and not c.closed:
            batch = []
            for _ in range(100):
                sid = c.next_sid
                c.next_sid += 2
                batch.append(hf.HeadersFrame(sid, data=c.enc.encode(hdrs),
                                             flags=["END_HEADERS", "END_STREAM"]))
                if not server_resets:
                    batch.append(hf.RstStreamFrame(sid, error_code=CANCEL))
            try:
                c.send_frames(*batch)
            except H2Error:
                break
            streams += 100
            c.pump(0)
        secs = time.monotonic() - t0
        c.wait(lambda: c.goaway is not None, 10)
        closed = c.wait_closed(10)
        return streams, c.goaway, closed, c.close_reason, secs


def case_rapid_reset(t):
    stop, benign = threading.Event(), []
    th = threading.Thread(target=benign_loop, args=(t.plain, stop, benign), daemon=True)
    th.start()
    mg.wait_for(lambda: len(benign) >= 3, 10)
    during = len(benign)
    for server_resets, what in ((False, "Rapid Reset"),
                                (True, "Rapid Reset with server-side resets (malformed HEADERS)")):
        try:
            streams, ga, closed, why, secs = reset_flood(t.plain, server_resets)
        except H2Error as e:
            mg.check(False, f"{what}: h2 connection", repr(e))
            continue
        mg.note(f"{what}: {streams} streams sent in {secs:.2f} s; "
                f"GOAWAY {ga and (ename(ga[0]), ga[1], ga[2])}; close: {why}")
        mg.check(ga is not None, f"{what}: the server sends GOAWAY",
                 f"{streams} streams sent; connection {why or 'open'}")
        if not server_resets:
            # (with server-side resets the client also outruns the 100-stream
            # limit, so a PROTOCOL_ERROR GOAWAY is as good an end)
            mg.check(ga is not None and ga[0] == ENHANCE_YOUR_CALM,
                     f"{what}: GOAWAY(ENHANCE_YOUR_CALM)", ga and ename(ga[0]))
        mg.check(ga is not None and ga[1] <= 4001,
                 f"{what}: GOAWAY after about 1000 resets (last_stream_id <= 4001)", ga and ga[1])
        mg.check(closed, f"{what}: then the connection is closed", why)
    mg.wait_for(lambda: len(benign) >= during + 5, 10)
    stop.set()
    th.join(15)
    statuses = [s for s, _ in benign]
    worst = max((secs for _, secs in benign), default=None)
    mg.check(len(benign) >= 8 and all(s == 200 for s in statuses),
             "Rapid Reset: a benign client on another connection keeps getting 200s",
             statuses[-10:])
    mg.check(worst is not None and worst < 2.0, "... each within 2 s",
             f"slowest {worst and round(worst, 3)} s")
    mg.check(t.alive(), "the proxy is alive after the Rapid Reset attacks")


def case_continuation(t):
    base = t.rss_kib()
    try:
        with H2(t.plain, timeout=10) as c:
            pseudo = c.enc.encode([(":method", "GET"), (":scheme", "http"), (":authority", HOST),
                                   (":path", "/flood")])
            c.send_frames(hf.HeadersFrame(1, data=pseudo, flags=["END_STREAM"]))
            frames = 0
            limit = 20 << 20
            stalled = False
            while c.bytes_sent < limit and not c.closed and not c.goaway:
                batch = []
                for _ in range(100):
                    blk = c.enc.encode([hpack.NeverIndexedHeaderTuple(f"x-flood-{frames:07d}",
                                                                       "a" * 80)])
                    batch.append(hf.ContinuationFrame(1, data=blk))
                    frames += 1
                try:
                    c.send_frames(*batch)
                except H2Error as e:
                    stalled = "timed out" in repr(e)
                    break
                c.pump(0)
            sent = c.bytes_sent
            c.wait(lambda: c.goaway is not None, 5)
            closed = c.wait_closed(10)
            ga = c.goaway
            mg.note(f"CONTINUATION flood: {frames} frames, {sent} bytes sent; GOAWAY "
                    f"{ga and (ename(ga[0]), ga[1])}; close: {c.close_reason}; stalled={stalled}")
            mg.check((ga is not None or c.closed) and sent < 2 << 20,
                     "CONTINUATION flood: the connection is ended (GOAWAY or close) within 2 MiB",
                     f"{sent} bytes, {frames} frames, goaway={ga}, {c.close_reason}")
            mg.check(closed, "CONTINUATION flood: and closed", c.close_reason)
    except H2Error as e:
        mg.check(False, "CONTINUATION flood: h2 connection", repr(e))
    mid = t.rss_kib()
    if base is not None and mid is not None:
        mg.check(mid - base < 8 * 1024, "CONTINUATION flood: VmRSS grows < 8 MiB",
                 f"grew {mid - base} KiB")
    # a CONTINUATION on another stream is a connection error
    try:
        with H2(t.plain, timeout=10) as c:
            blk = c.enc.encode([(":method", "GET"), (":scheme", "http"), (":authority", HOST),
                                (":path", "/cont-other")])
            c.send_frames(hf.HeadersFrame(1, data=blk[:5], flags=["END_STREAM"]),
                          hf.ContinuationFrame(3, data=blk[5:], flags=["END_HEADERS"]))
            c.wait(lambda: c.goaway is not None, 10)
            mg.check(c.goaway is not None and c.goaway[0] == PROTOCOL_ERROR,
                     "CONTINUATION on another stream: GOAWAY(PROTOCOL_ERROR)",
                     c.goaway and ename(c.goaway[0]))
    except H2Error as e:
        mg.check(False, "CONTINUATION on another stream", repr(e))
    mg.check(not log_entries(t.up, lambda e: e["target"] in ("/flood", "/cont-other")),
             "neither flooded request reached the upstream")
    mg.check(t.alive(), "the proxy is alive after the CONTINUATION flood")


def frame_flood(t, what, make, total, batch=1000, rcvbuf=None, read=True):
    """Send make(c, i) frames in batches until GOAWAY/close or total; the
    connection must be ended by the server."""
    try:
        with H2(t.plain, timeout=5, rcvbuf=rcvbuf) as c:
            sent = 0
            while sent < total and not c.goaway and not c.closed:
                try:
                    c.send_frames(*[make(c, sent + i) for i in range(batch)])
                except H2Error:
                    break
                sent += batch
                if read:
                    c.pump(0)
            c.wait(lambda: c.goaway is not None, 5)
            closed = c.wait_closed(5)
            ga = c.goaway
            mg.note(f"{what}: {sent} frames sent; GOAWAY {ga and (ename(ga[0]), ga[1])}; "
                    f"close: {c.close_reason}")
            mg.check(closed or ga is not None, f"{what}: the server ends the connection",
                     f"{sent} frames sent, still open")
    except H2Error as e:
        mg.check(False, f"{what}: h2 connection", repr(e))


def case_floods(t):
    """hardening.md 2.2, the Netflix 2019 set: control frames the server must
    answer while the client reads nothing, empty DATA, WINDOW_UPDATE of +1."""
    base = t.rss_kib()
    frame_flood(t, "PING flood without reading", total=300000, rcvbuf=4096, read=False,
                make=lambda c, i: hf.PingFrame(0, opaque_data=i.to_bytes(8, "big")))
    # a SETTINGS ACK is 9 bytes: the kernel's send buffer on our side (up
    # to 4 MiB with autotuning) takes 450k of them before our own bounded
    # queue (64 KiB, then nghttp2's 1000 pending ACKs) fills and the flood
    # shows; a PING ACK is 17 bytes
    frame_flood(t, "SETTINGS flood without reading", total=1200000, rcvbuf=4096, read=False,
                make=lambda c, i: hf.SettingsFrame(0, settings={S_INITIAL_WINDOW_SIZE: 65535}))

    def empty_data(c, i):
        if i == 0:
            c._stream(1)
            return hf.HeadersFrame(1, data=c.enc.encode([
                (":method", "POST"), (":scheme", "http"), (":authority", HOST),
                (":path", "/sink?flood=1")]), flags=["END_HEADERS"])
        return hf.DataFrame(1, data=b"")
    frame_flood(t, "empty DATA frame flood", empty_data, total=100000)
    frame_flood(t, "WINDOW_UPDATE +1 flood", total=100000,
                make=lambda c, i: hf.WindowUpdateFrame(0, window_increment=1))
    mid = t.rss_kib()
    if base is not None and mid is not None:
        mg.check(mid - base < 8 * 1024, "floods: VmRSS grows < 8 MiB", f"grew {mid - base} KiB")
    mg.check(t.alive(), "the proxy is alive after the floods")


def case_settings_timeout(t):
    """hardening.md: a client that never acknowledges our SETTINGS is closed
    after 10 s (RFC 9113 6.5.3: SETTINGS_TIMEOUT), with or without streams;
    one that acknowledges keeps its connection."""
    lazy = H2(t.plain, ack_settings=False)
    good = H2(t.plain)
    st = lazy.get("/echo")
    mg.check(st is not None and st.status == 200, "a request works before the deadline",
             st and st.status)
    t0 = time.monotonic()
    lazy.wait(lambda: lazy.goaway is not None or lazy.closed, 20)
    took = time.monotonic() - t0
    ga = lazy.goaway
    mg.check(ga is not None and ga[0] == 0x4, "no SETTINGS ACK: GOAWAY SETTINGS_TIMEOUT",
             (ga and ename(ga[0]), lazy.close_reason))
    mg.note(f"SETTINGS_TIMEOUT after {took:.1f} s of the request (deadline 10 s from the preface)")
    st = good.get("/echo")
    mg.check(st is not None and st.status == 200 and good.goaway is None,
             "a client that acknowledged keeps its connection", st and st.status)
    lazy.close()
    good.close()


def case_big_headers(t):
    with H2(t.plain) as c:
        fields = [(f"x-big-{i}", chr(ord("a") + i) * 4000) for i in range(5)]
        st = c.get("/echo?hdrs=20k", headers=fields)
        e = st.json() if st.status == 200 else {}
        mg.check(st.status == 200 and echo_headers(e, "x-big-4") == ["e" * 4000],
                 "a 20 kB header list (5 x 4000 B) passes", st)
    outcome = None
    try:
        with H2(t.plain) as c:
            fields = [hpack.NeverIndexedHeaderTuple(f"x-huge-{i}", chr(ord("a") + i) * 8000)
                      for i in range(10)]
            sid = c.request("GET", "/echo?hdrs=80k", HOST, fields)
            st = c.response(sid, 15)
            if st.status is not None:
                outcome = st.status
            elif st.reset is not None:
                outcome = f"RST_STREAM({ename(st.reset)})"
            elif c.goaway or c.closed:
                outcome = f"GOAWAY {c.goaway and ename(c.goaway[0])} / {c.close_reason}"
    except H2Error as e:
        outcome = f"closed: {e}"
    mg.note(f"an 80 kB header list: {outcome}")
    mg.check(outcome == 431, "an 80 kB header list (over 64 KiB) is answered 431", outcome)
    mg.check(outcome == 431 or (outcome is not None and not isinstance(outcome, int)),
             "... or at least refused (431, RST_STREAM or connection closed)", outcome)
    mg.check(not log_entries(t.up, lambda e: e["target"] == "/echo?hdrs=80k"),
             "the oversized request never reached the upstream")


def case_desync(t):
    """HTTP/2 requests that would desynchronize an HTTP/1.1 upstream if
    translated naively (HAProxy's h2_desync_attacks.vtc, Kettle's HTTP/2
    downgrade smuggling): each must be refused (RST_STREAM or 4xx), never
    reach the upstream as written, and leave the pooled upstream
    connections in sync."""
    def pseudo(path, method="GET", authority=HOST):
        return [(":method", method), (":scheme", "http"), (":authority", authority),
                (":path", path)]
    shapes = [
        ("content-length 10, 5 bytes of DATA", "/echo?ds=cl-short",
         [("content-length", "10")], b"hello"),
        ("content-length 5, 10 bytes of DATA", "/echo?ds=cl-long",
         [("content-length", "5")], b"helloHELLO"),
        ("transfer-encoding: chunked in a request", "/echo?ds=te",
         [("transfer-encoding", "chunked")], b"5\r\nhello\r\n0\r\n\r\n"),
        ("CRLF in a header value", "/echo?ds=crlf",
         [("x-a", "b\r\nx-injected: 1")], None),
        ("LF in a header value", "/echo?ds=lf",
         [("x-a", "b\nx-injected: 1")], None),
        ("a header name with a colon", "/echo?ds=colon",
         [("x-injected:1", "v")], None),
        ("a header name with upper case", "/echo?ds=upper",
         [("X-Injected", "1")], None),
    ]
    for what, path, extra, body in shapes:
        try:
            with H2(t.plain, timeout=10) as c:
                sid = c.next_sid
                c.next_sid += 2
                c._stream(sid)
                c.send_frames(*c.header_frames(sid, c.enc.encode(pseudo(path,
                                                                        "POST") + extra),
                                               end_stream=body is None))
                if body is not None:
                    c.send_frames(hf.DataFrame(sid, data=body, flags=["END_STREAM"]))
                st = c.response(sid, 10)
                outcome = st.status if st.status is not None else \
                    f"RST_STREAM({ename(st.reset)})" if st.reset is not None else \
                    f"GOAWAY {c.goaway and ename(c.goaway[0])} / {c.close_reason}"
        except H2Error as e:
            outcome = f"closed: {e}"
        refused = not (isinstance(outcome, int) and outcome < 400)
        mg.check(refused, f"desync: {what}: refused (RST_STREAM or 4xx)", outcome)
        seen = log_entries(t.up, lambda e: e["target"] == path)
        if body is not None and "content-length" in dict(extra):
            # the head may have gone upstream before the mismatch showed; the
            # sync check below catches a pooled connection left mid-body
            mg.check(all(echo_headers(e, "content-length") == [dict(extra)["content-length"]]
                         for e in seen),
                     f"desync: {what}: at most the head went upstream, as sent", seen)
        else:
            mg.check(not seen, f"desync: {what}: never reaches the upstream", seen)
    # the upstream connections the proxy pools are still in sync
    with H2(t.plain) as c:
        sids = {i: c.request("GET", f"/echo?sync={i}", HOST) for i in range(10)}
        c.wait(lambda: all(c.done(s) for s in sids.values()), 20)
        bad = [c.streams[s] for i, s in sids.items()
               if c.streams[s].jsonq().get("query") != f"sync={i}"]
        mg.check(not bad, "desync: afterwards 10 requests each get their own answer", bad[:2])
    mg.check(t.alive(), "the proxy is alive after the desync inputs")


H2C_REQUEST = ("GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: h2c\r\n"
               "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
               "Connection: Upgrade, HTTP2-Settings\r\n\r\n")


def h2c_seen(up, path):
    ents = log_entries(up, lambda e: e["target"] == path)
    return [e for e in ents if any(k.lower() in ("upgrade", "http2-settings")
                                   for k, _ in e["headers"])]


def case_h2c(t):
    path = "/echo?h2c=plain"
    try:
        with mg.Client(t.plain, timeout=10) as cl:
            cl.send(H2C_REQUEST.format(path=path, host=HOST).encode())
            r = cl.read_response()
    except (OSError, mg.ConnectionClosed, ValueError) as e:
        r = e
    mg.check(isinstance(r, mg.Response) and r.status != 101,
             "Upgrade: h2c over HTTP/1.1 (plaintext): answered, never 101", r)
    mg.check(not h2c_seen(t.up, path), "... the upstream never saw Upgrade/HTTP2-Settings",
             h2c_seen(t.up, path))
    path = "/echo?h2c=tls"
    ctx = t.tls_client()
    ctx.set_alpn_protocols(["http/1.1"])
    try:
        with socket.create_connection(("127.0.0.1", t.tls), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname=HOST) as s:
                s.sendall(H2C_REQUEST.format(path=path, host=HOST).encode())
                r = mg.Stream(s).read_response()
    except (OSError, mg.ConnectionClosed, ValueError) as e:
        r = e
    mg.check(isinstance(r, mg.Response) and r.status != 101,
             "Upgrade: h2c over HTTP/1.1 on TLS (h2csmuggler): answered, never 101", r)
    mg.check(not h2c_seen(t.up, path), "... the upstream never saw Upgrade/HTTP2-Settings",
             h2c_seen(t.up, path))
    path = "/echo?h2c=in-h2"
    with H2(t.plain) as c:
        st = c.get(path, headers=[("upgrade", "h2c")])
        mg.check(st.reset == PROTOCOL_ERROR or st.status == 400,
                 "an HTTP/2 request carrying upgrade: h2c is malformed (RST_STREAM or 400)", st)
    mg.check(not h2c_seen(t.up, path), "... and is not relayed with its Upgrade",
             h2c_seen(t.up, path))


def case_telemetry(t):
    m = t.m
    before = m.metrics()
    with H2(t.plain) as c:
        for i in range(3):
            st = c.get(f"/alog/h2?i={i}", authority=ONLY)
            mg.check(st.status == 200, f"h2 GET {i} to {ONLY}", st)
        for i in range(2):
            sid = c.request("POST", "/pkg.Svc/Method", ONLY,
                            [("content-type", "application/grpc"), ("te", "trailers")],
                            body=b"\x00\x00\x00\x00\x00")
            c.response(sid)

    def logged():
        lines = [ln for ln in m.access_log().splitlines() if "/alog/h2" in ln]
        return lines if len(lines) >= 3 else None
    lines = mg.wait_for(logged, 5) or []
    mg.check(lines and all('"GET /alog/h2?i=' in ln and ' HTTP/2" 200' in ln for ln in lines),
             "access log: %PROTOCOL% is HTTP/2", lines[:1] or m.access_log()[-300:])

    def mine(v):
        return v is not None and ONLY in v

    def counted():
        after = m.metrics()
        http = mg.metric_sum(after, "istio_requests_total", destination_service=mine,
                             request_protocol="http") - \
            mg.metric_sum(before, "istio_requests_total", destination_service=mine,
                          request_protocol="http")
        grpc = mg.metric_sum(after, "istio_requests_total", destination_service=mine,
                             request_protocol="grpc") - \
            mg.metric_sum(before, "istio_requests_total", destination_service=mine,
                          request_protocol="grpc")
        return (http, grpc) if http >= 3 and grpc >= 2 else None
    got = mg.wait_for(counted, 5)
    series = [s.labels.get("request_protocol") for s in
              mg.select(m.metrics(), "istio_requests_total", destination_service=mine)]
    mg.check(got == (3, 2), "istio_requests_total: request_protocol http for the 3 GETs, "
             "grpc for the 2 application/grpc POSTs", (got, series))


def case_drain(t):
    m = t.m
    before = echo_count(t.up)
    try:
        idle = H2(t.plain)
        mg.check(idle.get("/").status == 200, "drain: an idle h2 connection is open")
        busy = H2(t.plain)
    except H2Error as e:
        mg.check(False, "drain: h2 connections", repr(e))
        return
    sids = [busy.request("GET", f"/echo?drain={i}&delay_ms=3000", HOST) for i in range(3)]
    arrived = mg.wait_for(lambda: echo_count(t.up) - before >= 3, 10)
    mg.check(arrived, "drain: 3 slow streams are in flight at the upstream")
    t0 = time.monotonic()
    m.proc.send_signal(signal.SIGTERM)
    busy.wait(lambda: busy.goaway is not None, 5)
    ga = busy.goaway
    mg.check(ga is not None and ga[0] == NO_ERROR and ga[1] >= max(sids),
             "SIGTERM: GOAWAY(NO_ERROR) on a busy connection, last_stream_id covering its streams",
             ga and (ename(ga[0]), ga[1], time.monotonic() - t0))
    busy.wait(lambda: all(busy.done(s) for s in sids), 15)
    res = [busy.streams[s] for s in sids]
    mg.check(all(s.status == 200 and s.ended and
                 s.jsonq().get("query", "").startswith(f"drain={i}") for i, s in enumerate(res)),
             "SIGTERM: the in-flight streams finish with 200", res)
    mg.check(busy.wait_closed(10), "SIGTERM: then the busy connection is closed", busy.close_reason)
    idle.wait(lambda: idle.goaway is not None or idle.closed, 10)
    mg.check(idle.goaway is not None, "SIGTERM: the idle connection gets GOAWAY", idle.close_reason)
    mg.check(idle.wait_closed(10), "SIGTERM: and is closed", idle.close_reason)
    rc = m.proc.wait(30)
    secs = time.monotonic() - t0
    mg.check_eq(rc, 0, "SIGTERM: meshgate exits 0 after draining")
    mg.check(2.0 <= secs < 15, "SIGTERM: the drain waited for the streams, not for drain_timeout",
             f"{secs:.1f} s")
    busy.close()
    idle.close()


def case(name, fn, t):
    mg.note(f"--- {name}")
    try:
        fn(t)
    except Exception as e:
        traceback.print_exc()
        mg.check(False, f"{name}: ended by an exception", repr(e)[:300])


# ---------------------------------------------------------------- setup

def start_meshgate(up, rr, pki):
    dead = mg.free_ports(1)[0]
    yaml = [mg.service_entry("a", HOST, [up.endpoint]),
            mg.service_entry("only", ONLY, [up.endpoint]),
            mg.service_entry("rr", RR, [rr.endpoint]),
            mg.service_entry("dead", DEAD, [("127.0.0.1", dead)]),
            mg.service_entry("routed", ROUTED, [up.endpoint]),
            mg.virtual_service("routed", ROUTED, [mg.http_route([mg.dest(ROUTED)], prefix="/api")]),
            mg.service_entry("slow", SLOW, [up.endpoint]),
            mg.virtual_service("slow", SLOW, [mg.http_route([mg.dest(SLOW)], timeout="1s")])]
    m = mg.Mesh(yaml=yaml, workers=1, name="h2down", listeners={
        "outbound_http": {"protocol": "http", "role": "outbound"},
        "tls": {"protocol": "http", "tls": "simple", "tls_cert": f"{pki}/srv.pem",
                "tls_key": f"{pki}/srv.key"},
        "inbound": {"protocol": "http", "role": "inbound"},
        "istio": {"protocol": "http", "tls": "istio_mutual", "role": "inbound"},
    }, ini={"ca": {"port": 0}, "limits": {"drain_timeout": "20s"}}).start()
    L = m.listeners
    return Target(L["outbound_http"]["port"], L["tls"]["port"], up, rr, pki, m=m,
                  inbound=L["inbound"]["port"], istio=L["istio"]["port"])


def start_nghttpx(up, rr, pki):
    mg.need("nghttpx")
    d = mg.tmpdir("nghttpx")
    plain, tls = mg.free_ports(2)
    argv = ["nghttpx", "--conf=/dev/null", f"--frontend=127.0.0.1,{plain};no-tls",
            f"--frontend=127.0.0.1,{tls}", f"--backend=127.0.0.1,{up.port}", "--workers=1",
            "--frontend-http2-max-concurrent-streams=100",
            "--frontend-http2-window-size=65536",
            "--frontend-http2-connection-window-size=1048576",
            f"--errorlog-file={d}/error.log", f"--accesslog-file={d}/access.log", "--no-ocsp",
            str(pki / "srv.key"), str(pki / "srv.pem")]
    mg.Proc("nghttpx", argv, stdout=subprocess.DEVNULL, stderr=open(d / "stderr", "wb"))
    if not mg.wait_for(lambda: mg.port_open(plain) and mg.port_open(tls), 10):
        raise RuntimeError(f"nghttpx did not start: {mg.tail(d / 'stderr')}")
    return Target(plain, tls, up, up, pki)


def main():
    ref = os.environ.get("MESHGATE_H2_REFERENCE")
    if not ref:
        mg.binary()
    if hpack is None:
        mg.skip("python3-h2 (hpack, hyperframe) is not installed")
    mg.need("curl", "openssl")
    pki = mg.tmpdir("pki")
    make_pki(pki)
    up = mg.Upstream("h2up")
    rr = mg.Upstream("rr")
    if ref:
        t = start_nghttpx(up, rr, pki)
        mg.note("reference run: nghttpx in front of the upstream fixture, not meshgate")
    else:
        t = start_meshgate(up, rr, pki)
    # (name, function, meshgate only); the attacks and the drain come last
    cases = [("prior knowledge (curl)", case_prior_knowledge, False),
             ("preface sniffing", case_sniffing, False),
             ("nghttp and h2load", case_tools, False),
             ("TLS with ALPN h2", case_tls, False),
             ("Istio ALPN istio-h2", case_istio, True),
             ("header conversion", case_headers, False),
             ("local replies", case_local_replies, True),
             ("100 concurrent streams, the 101st refused", case_multiplex, False),
             ("request bodies", case_upload, False),
             ("response bodies and flow control", case_download, False),
             ("trailers", case_trailers, False),
             ("large header lists", case_big_headers, False),
             ("h2c upgrade", case_h2c, False),
             ("h2 to h1 desync inputs", case_desync, False),
             ("access log and metrics", case_telemetry, True),
             ("Rapid Reset", case_rapid_reset, False),
             ("CONTINUATION flood", case_continuation, False),
             ("control and empty frame floods", case_floods, False),
             ("SETTINGS never acknowledged", case_settings_timeout, False),
             ("SIGTERM drain", case_drain, True)]
    for name, fn, only_meshgate in cases:
        if only_meshgate and t.m is None:
            continue
        case(name, fn, t)
        if fn is not case_drain and not t.alive():
            mg.check(False, f"the proxy died during \"{name}\"")
            break


if __name__ == "__main__":
    mg.run(main)
