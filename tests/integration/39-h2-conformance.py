#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 39-h2-conformance: the HTTP/2 conformance suite h2spec would run (it is
# not packaged for Debian), rewritten frame by frame: its whole catalogue
# for RFC 9113 (http2/3.5 ... http2/8.2), RFC 7541 (hpack/2.3.3 ... 6.3) and
# the "generic" section, plus RFC 9113 rules h2spec predates (8.2.1 field
# validation, the other connection-specific fields, :path and CONNECT
# forms, content-length forms, the first frame after the preface, HPACK
# integer/length limits and the server's own table size update). Every
# case runs on a fresh connection to meshgate's HTTP/2 listener, once with
# prior knowledge on a plaintext listener and once over TLS with ALPN h2;
# requests go to the upstream fixture through a ServiceEntry, so "normal
# processing" means a real proxied 200.
#
# Each case says which RFC sentence it checks (rfc=) and accepts what
# h2spec accepts, widened where RFC 9113 relaxed RFC 7540 (a closed stream
# may be minimally processed and discarded; RFC 7540 priority signals are
# deprecated) and where the RFC allows it (any stream error may be a
# connection error, 5.4.1; GOAWAY before closing is a SHOULD; a malformed
# request with a bad field may get a 400, 8.2.1). A GOAWAY or RST_STREAM
# with another error code fails, and so does a GOAWAY for an error that
# leaves the connection open (5.4.1: MUST close). Header-level malformed
# requests must also never reach the upstream (8.1.1).
#
# Frames are built with python3-hyperframe where they are well formed and
# byte by byte where they must not be (as h2spec does); field blocks are
# encoded here, statelessly, with python3-hpack's static table and Huffman
# code, and the server's blocks are decoded with python3-hpack.
#
# MESHGATE_H2_REFERENCE=nghttpx runs the same cases against nghttpx (Debian
# nghttp2-proxy) in front of the same upstream, to tell a meshgate bug from
# a wrong expectation. MESHGATE_H2_CASES=substring runs only matching cases.

import concurrent.futures
import os
import select
import socket
import ssl
import subprocess
import time
import traceback

import mg

try:
    import hpack
    from hpack.huffman import HuffmanEncoder
    from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
    from hpack.table import HeaderTable
    from hyperframe import frame as hf
except ImportError:     # python3-hpack / python3-hyperframe missing
    hpack = hf = None

HOST = "h2spec.example"     # the ServiceEntry host, and the TLS certificate's name
UPSTREAM = "h2spec"         # the fixture's name: its x-upstream-name, and its 7-octet body
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
T = 3.0                     # how long a case waits for a reaction (h2spec: 2 s)
T_RESP = 8.0                # ... for a response that goes to the upstream
WORKERS = 12

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
TYPES = {0: "DATA", 1: "HEADERS", 2: "PRIORITY", 3: "RST_STREAM", 4: "SETTINGS", 5: "PUSH_PROMISE",
         6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE", 9: "CONTINUATION"}
F_END_STREAM, F_ACK, F_END_HEADERS, F_PADDED, F_PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20
FLAG_NAMES = {DATA: {1: "END_STREAM", 8: "PADDED"},
              HEADERS: {1: "END_STREAM", 4: "END_HEADERS", 8: "PADDED", 0x20: "PRIORITY"},
              SETTINGS: {1: "ACK"}, PING: {1: "ACK"}, PUSH_PROMISE: {4: "END_HEADERS", 8: "PADDED"},
              CONTINUATION: {4: "END_HEADERS"}}
S_HEADER_TABLE_SIZE, S_ENABLE_PUSH, S_MAX_CONCURRENT_STREAMS = 1, 2, 3
S_INITIAL_WINDOW_SIZE, S_MAX_FRAME_SIZE, S_MAX_HEADER_LIST_SIZE = 4, 5, 6
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, SETTINGS_TIMEOUT, STREAM_CLOSED, \
    FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR = range(10)
ERRORS = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
          4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM",
          8: "CANCEL", 9: "COMPRESSION_ERROR", 10: "CONNECT_ERROR", 11: "ENHANCE_YOUR_CALM",
          12: "INADEQUATE_SECURITY", 13: "HTTP_1_1_REQUIRED"}


def ename(code):
    return ERRORS.get(code, f"0x{code:x}")


def enames(codes):
    return "|".join(ename(c) for c in codes)


# ---------------------------------------------------------------- bytes on the wire

def frame(ftype, flags, sid, payload=b""):
    """One frame, byte by byte: for the ones hyperframe refuses to build."""
    return (len(payload).to_bytes(3, "big") + bytes([ftype, flags]) +
            (sid & 0xFFFFFFFF).to_bytes(4, "big") + bytes(payload))


def settings_payload(pairs):
    return b"".join(k.to_bytes(2, "big") + v.to_bytes(4, "big") for k, v in pairs)


if hpack is not None:
    HUFFMAN = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)
    STATIC_FULL, STATIC_NAME = {}, {}
    for _i, (_n, _v) in enumerate(HeaderTable.STATIC_TABLE, 1):
        STATIC_FULL.setdefault((_n, _v), _i)
        STATIC_NAME.setdefault(_n, _i)


def _b(s):
    return s if isinstance(s, bytes) else s.encode("latin-1")


def hint(value, prefix, flags=0):
    """RFC 7541 5.1 integer with an N-bit prefix."""
    top = (1 << prefix) - 1
    if value < top:
        return bytes([flags | value])
    out = [flags | top]
    value -= top
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hstr(s, huffman=False):
    """RFC 7541 5.2 string literal."""
    s = _b(s)
    if huffman:
        h = HUFFMAN.encode(s)
        return hint(len(h), 7, 0x80) + h
    return hint(len(s), 7) + s


def literal(name, value, kind="without", huffman=False):
    """RFC 7541 6.2 literal field line: kind incremental (6.2.1), without
    indexing (6.2.2) or never (6.2.3); the name by static index when there
    is one."""
    prefix, flags = {"incremental": (6, 0x40), "without": (4, 0x00), "never": (4, 0x10)}[kind]
    idx = STATIC_NAME.get(_b(name))
    if idx:
        return hint(idx, prefix, flags) + hstr(value, huffman)
    return bytes([flags]) + hstr(name, huffman) + hstr(value, huffman)


def block(fields, huffman=False):
    """A field block that never touches the dynamic table: a static index
    for an exact static match, else a literal without indexing. Stateless,
    so one block can be sent twice and the server's table stays empty."""
    out = b""
    for name, value in fields:
        idx = STATIC_FULL.get((_b(name), _b(value)))
        out += hint(idx, 7, 0x80) if idx else literal(name, value, "without", huffman)
    return out


def flag_names(ftype, flags):
    names = [n for bit, n in FLAG_NAMES.get(ftype, {}).items() if flags & bit]
    rest = flags & ~sum(b for b in FLAG_NAMES.get(ftype, {}) if flags & b)
    if rest:
        names.append(f"0x{rest:02x}")
    return "|".join(names)


def describe_frames(data):
    """What the bytes we sent were, frame by frame, for failure reports."""
    out, i = [], 0
    if data.startswith(PREFACE):
        out.append("connection preface")
        i = len(PREFACE)
    while i + 9 <= len(data):
        n = int.from_bytes(data[i:i + 3], "big")
        ftype, flags = data[i + 3], data[i + 4]
        raw_sid = int.from_bytes(data[i + 5:i + 9], "big")
        payload = data[i + 9:i + 9 + n]
        s = f"{TYPES.get(ftype, f'type 0x{ftype:02x}')}(stream {raw_sid & 0x7FFFFFFF}"
        if raw_sid & 0x80000000:
            s += " with R bit"
        if flags:
            s += f", {flag_names(ftype, flags)}"
        s += f", {n} octets"
        if n <= 24:
            s += f": {payload.hex()}"
        out.append(s + ")")
        i += 9 + n
    if i < len(data):
        out.append(f"bytes {bytes(data[i:i + 40])!r}")
    return out


# ---------------------------------------------------------------- the client

class Ev:
    """Something the server did: a frame, or closing the connection."""

    def __init__(self, kind, ftype=None, flags=0, sid=0, payload=b"", f=None, reason=None):
        self.kind, self.type, self.flags, self.sid = kind, ftype, flags, sid
        self.payload, self.f, self.reason = payload, f, reason
        self.headers = None         # decoded field block (HEADERS/CONTINUATION that ended it)
        self.block = None           # the raw field block
        self.end_stream = False     # END_STREAM, for a HEADERS once its block is complete

    @property
    def code(self):
        return getattr(self.f, "error_code", None)

    @property
    def status(self):
        for k, v in self.headers or ():
            if k == ":status":
                return int(v)
        return None

    def __str__(self):
        if self.kind == "closed":
            return f"connection closed ({self.reason})"
        if self.kind == "http1":
            return f"not HTTP/2: {self.payload[:60]!r}"
        t, f = self.type, self.f
        if t == GOAWAY and f is not None:
            dbg = bytes(f.additional_data or b"")
            return (f"GOAWAY(last_stream_id {f.last_stream_id}, {ename(f.error_code)}"
                    f"{', ' + repr(dbg[:60]) if dbg else ''})")
        if t == RST_STREAM and f is not None:
            return f"RST_STREAM(stream {self.sid}, {ename(f.error_code)})"
        if t in (HEADERS, CONTINUATION):
            what = "HEADERS" if t == HEADERS else "CONTINUATION"
            st = f", :status {self.status}" if self.status is not None else ""
            return f"{what}(stream {self.sid}{st}{', END_STREAM' if self.end_stream else ''})"
        if t == DATA:
            return (f"DATA(stream {self.sid}, {len(f.data) if f else len(self.payload)} octets"
                    f"{', END_STREAM' if self.flags & F_END_STREAM else ''})")
        if t == SETTINGS:
            return "SETTINGS(ACK)" if self.flags & F_ACK else f"SETTINGS({dict(f.settings) if f else ''})"
        if t == PING:
            return f"PING({'ACK, ' if self.flags & F_ACK else ''}{bytes(f.opaque_data) if f else ''!r})"
        if t == WINDOW_UPDATE and f is not None:
            return f"WINDOW_UPDATE(stream {self.sid}, +{f.window_increment})"
        return f"{TYPES.get(t, f'type 0x{t:02x}')}(stream {self.sid}, {len(self.payload)} octets)"


class StreamState:
    def __init__(self):
        self.headers = None
        self.trailers = None
        self.data = bytearray()
        self.data_frames = []
        self.ended = False
        self.rst = None

    @property
    def status(self):
        for k, v in self.headers or ():
            if k == ":status":
                return int(v)
        return None

    def header(self, name):
        vals = [v for k, v in self.headers or () if k == name]
        return ", ".join(vals) if vals else None


class Conn:
    """One HTTP/2 connection under the test's full control, frame by frame.
    Frames from the server become events read in order by the verify_*
    functions (as h2spec's WaitEvent); SETTINGS and PING from the server
    are acknowledged, nothing else is sent that a case did not ask for."""

    def __init__(self, port, ctx, mode, path, timeout=5):
        self.mode, self.path = mode, path
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.alpn = None
        if ctx is not None:
            sock = ctx.wrap_socket(sock, server_hostname=HOST)
            self.alpn = sock.selected_alpn_protocol()
        self.sock = sock
        self.buf = bytearray()
        self.events = []
        self.cursor = 0
        self.closed = None
        self.send_error = None
        self.dec = hpack.Decoder()
        self.dec.max_header_list_size = 1 << 20
        self.hblock_sid, self.hblock, self.hblock_es = None, None, False
        self.peer = {}
        self.peer_settings_frames = 0
        self.settings_acks = 0
        self.streams = {}
        self.sent = []
        self.logging = False
        self.violations = []
        self.out = bytearray()      # frames of the current step, written at once
        self.send_window = 65535    # the server's connection window for our DATA

    # -- sending

    def send(self, data):
        """Queue frames: the frames of one step go out in a single write
        when the case next waits, so the server sees them together (as a
        stream state that lasts only a round trip needs)."""
        if self.logging:
            self.sent.extend(describe_frames(bytes(data)))
        self.out += data

    def flush(self):
        if not self.out or self.closed or self.send_error:
            return
        data, self.out = bytes(self.out), bytearray()
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            self.send_error = repr(e)   # keep reading: a GOAWAY may be waiting

    def scheme(self):
        return "https" if self.mode == "tls" else "http"

    def req(self, method="GET", extra=(), path=None):
        """h2spec's common request fields (its order), to this case's path."""
        return [(":method", method), (":scheme", self.scheme()), (":path", path or self.path),
                (":authority", HOST)] + list(extra)

    def blk(self, fields=None, huffman=False):
        return block(self.req() if fields is None else fields, huffman)

    def headers(self, sid, blk, es=True, eh=True, pad=None, prio=None):
        flags = (["END_STREAM"] if es else []) + (["END_HEADERS"] if eh else [])
        kw = {}
        if pad is not None:
            flags.append("PADDED")
            kw["pad_length"] = pad
        if prio is not None:
            flags.append("PRIORITY")
            kw.update(depends_on=prio[0], stream_weight=prio[1], exclusive=prio[2])
        self.send(hf.HeadersFrame(sid, data=blk, flags=flags, **kw).serialize())

    def data(self, sid, payload, es=True, pad=None):
        flags = ["END_STREAM"] if es else []
        kw = {}
        if pad is not None:
            flags.append("PADDED")
            kw["pad_length"] = pad
        f = hf.DataFrame(sid, data=payload, flags=flags, **kw)
        self.send_window -= f.flow_controlled_length
        self.send(f.serialize())

    def cont(self, sid, blk, eh=True):
        self.send(hf.ContinuationFrame(sid, data=blk, flags=["END_HEADERS"] if eh else []).serialize())

    def priority(self, sid, dep=0, weight=255, exclusive=False):
        self.send(hf.PriorityFrame(sid, depends_on=dep, stream_weight=weight,
                                   exclusive=exclusive).serialize())

    def rst(self, sid, code):
        self.send(hf.RstStreamFrame(sid, error_code=code).serialize())

    def settings(self, pairs):
        # byte by byte: hyperframe keeps settings in a dict (no repeats)
        self.send(frame(SETTINGS, 0, 0, settings_payload(pairs)))

    def ping(self, data, ack=False):
        self.send(hf.PingFrame(0, opaque_data=data, flags=["ACK"] if ack else []).serialize())

    def goaway(self, last, code, debug=b""):
        self.send(hf.GoAwayFrame(0, last_stream_id=last, error_code=code,
                                 additional_data=debug).serialize())

    def window_update(self, sid, inc):
        # byte by byte: an increment of 0 is what some cases are about
        self.send(frame(WINDOW_UPDATE, 0, sid, (inc & 0x7FFFFFFF).to_bytes(4, "big")))

    @staticmethod
    def dummy(n=1):
        """h2spec's DummyHeaders: x-dummyN fields of 4000 octets."""
        return [(f"x-dummy{i}", "x" * 4000) for i in range(n)]

    # -- receiving

    def stream(self, sid):
        st = self.streams.get(sid)
        if st is None:
            st = self.streams[sid] = StreamState()
        return st

    def _closed(self, why):
        if not self.closed:
            self.closed = why
            self.events.append(Ev("closed", reason=why))

    def pump(self, timeout):
        self.flush()
        if self.closed:
            return
        pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
        if not pending:
            try:
                r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
            except (OSError, ValueError):
                r = [self.sock]
            if not r:
                return
        try:
            data = self.sock.recv(1 << 16)
        except ssl.SSLWantReadError:
            return
        except (OSError, ssl.SSLError) as e:
            self._closed(f"recv: {e.__class__.__name__}")
            return
        if not data:
            self._closed("EOF")
            return
        self.buf += data
        self._parse()

    def _parse(self):
        while len(self.buf) >= 9:
            if not self.peer_settings_frames and self.buf[:5] == b"HTTP/":
                self.events.append(Ev("http1", payload=bytes(self.buf)))
                self.buf.clear()
                return
            n = int.from_bytes(self.buf[:3], "big")
            if len(self.buf) < 9 + n:
                return
            head, body = bytes(self.buf[:9]), bytes(self.buf[9:9 + n])
            del self.buf[:9 + n]
            ev = Ev("frame", head[3], head[4], int.from_bytes(head[5:9], "big") & 0x7FFFFFFF, body)
            try:
                ev.f, _ = hf.Frame.parse_frame_header(memoryview(head))
                ev.f.parse_body(memoryview(body))
            except Exception as e:
                self.violations.append(f"unparsable {head.hex()}: {e!r}")
                ev.f = None
            self._on_frame(ev)
            self.events.append(ev)

    def _on_frame(self, ev):
        f, t = ev.f, ev.type
        if f is None:
            return
        if t == SETTINGS:
            if ev.flags & F_ACK:
                self.settings_acks += 1
            else:
                self.peer_settings_frames += 1
                self.peer.update(f.settings)
                self.send(hf.SettingsFrame(0, flags=["ACK"]).serialize())
        elif t == PING and not ev.flags & F_ACK:
            self.ping(bytes(f.opaque_data), ack=True)
        elif t == WINDOW_UPDATE and ev.sid == 0:
            self.send_window += f.window_increment
        elif t == HEADERS:
            self.hblock_sid, self.hblock = ev.sid, bytearray(f.data)
            self.hblock_es = bool(ev.flags & F_END_STREAM)
            if ev.flags & F_END_HEADERS:
                self._on_block(ev)
        elif t == CONTINUATION:
            if self.hblock is None or self.hblock_sid != ev.sid:
                self.violations.append(f"CONTINUATION without HEADERS on stream {ev.sid}")
                return
            self.hblock += f.data
            if ev.flags & F_END_HEADERS:
                self._on_block(ev)
        elif t == DATA:
            st = self.stream(ev.sid)
            st.data += f.data
            st.data_frames.append(len(f.data))
            if ev.flags & F_END_STREAM:
                st.ended = True
        elif t == RST_STREAM:
            self.stream(ev.sid).rst = f.error_code

    def _on_block(self, ev):
        blk, self.hblock = bytes(self.hblock), None
        ev.block, ev.end_stream = blk, self.hblock_es
        try:
            ev.headers = [(str(k), str(v)) for k, v in self.dec.decode(blk)]
        except Exception as e:
            self.violations.append(f"stream {ev.sid}: HPACK decoding failed: {e!r}")
            ev.headers = []
        st = self.stream(ev.sid)
        status = ev.status
        if st.headers is None or (st.status is not None and st.status < 200):
            if status is not None:
                st.headers = ev.headers
        else:
            st.trailers = ev.headers
        if ev.end_stream:
            st.ended = True

    def next_event(self, timeout):
        """The next event not yet looked at, or None after timeout."""
        self.flush()
        deadline = time.monotonic() + timeout
        while self.cursor >= len(self.events):
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                return None if not self.closed else self.events[-1]
            self.pump(min(left, 0.5))
        ev = self.events[self.cursor]
        self.cursor += 1
        return ev

    def wait_closed(self, timeout):
        self.flush()
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self.pump(min(0.5, max(0.0, deadline - time.monotonic())))
        return bool(self.closed)

    def handshake(self, pairs=((S_INITIAL_WINDOW_SIZE, 65535),), timeout=5):
        """h2spec's Handshake: preface and SETTINGS, then wait for the
        server's SETTINGS and its ACK of ours (ACKing theirs)."""
        self.send(PREFACE + frame(SETTINGS, 0, 0, settings_payload(pairs)))
        deadline = time.monotonic() + timeout
        while not (self.peer_settings_frames and self.settings_acks):
            left = deadline - time.monotonic()
            if left <= 0 or self.closed:
                raise RuntimeError("no HTTP/2 handshake: " +
                                   "; ".join(str(e) for e in self.events[-3:]) or "nothing")
            self.pump(min(left, 0.5))
        self.cursor = len(self.events)
        self.logging = True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------- verdicts

class R:
    def __init__(self, ok, observed, want=""):
        self.ok, self.observed, self.want = bool(ok), observed, want


def verify_conn_error(c, *codes, timeout=T):
    """h2spec VerifyConnectionError: a GOAWAY with one of codes and then
    the connection closed; closing without a GOAWAY is accepted too
    (5.4.1: GOAWAY is a SHOULD). Other frames before are ignored."""
    want = f"connection error: GOAWAY({enames(codes)}) and close"
    while True:
        ev = c.next_event(timeout)
        if ev is None:
            return R(False, "no GOAWAY, connection still open", want)
        if ev.kind == "closed":
            return R(True, f"closed without GOAWAY ({ev.reason})", want)
        if ev.type == GOAWAY and ev.f is not None:
            if ev.code in codes:
                closed = c.wait_closed(timeout)
                return R(closed, f"GOAWAY({ename(ev.code)})" +
                         (", closed" if closed else ", but the connection stays open"), want)
            return R(False, str(ev), want)


def verify_stream_error(c, sid, *codes, allow_400=False, timeout=T):
    """h2spec VerifyStreamError: RST_STREAM on sid with one of codes, or a
    connection error with one of them (5.4.1), or the connection closed.
    allow_400: a malformed field (8.2.1) may instead get a 4xx response
    (a 4xx before the RST_STREAM is always fine: 8.1.1)."""
    want = f"stream error: RST_STREAM({enames(codes)}) on stream {sid} (or GOAWAY({enames(codes)}))"
    status = None
    while True:
        ev = c.next_event(timeout)
        if ev is None:
            if status is not None:
                return R(False, f"answered {status} without RST_STREAM", want)
            return R(False, "no RST_STREAM, no GOAWAY, connection still open", want)
        if ev.kind == "closed":
            return R(True, f"closed ({ev.reason})", want)
        if ev.type == GOAWAY and ev.f is not None:
            if ev.code in codes:
                closed = c.wait_closed(timeout)
                return R(closed, f"GOAWAY({ename(ev.code)})" +
                         (", closed" if closed else ", but the connection stays open"), want)
            return R(False, str(ev), want)
        if ev.type == RST_STREAM and ev.sid == sid and ev.f is not None:
            pre = f"{status} then " if status is not None else ""
            return R(ev.code in codes, f"{pre}RST_STREAM({ename(ev.code)})", want)
        if ev.sid == sid and ev.type in (HEADERS, CONTINUATION) and ev.headers is not None:
            if ev.status is not None:
                status = ev.status
            if ev.end_stream:
                if allow_400 and status is not None and 400 <= status < 500:
                    return R(True, f"{status} response", want)
                return R(False, f"processed: {status} response, no RST_STREAM", want)
        if ev.sid == sid and ev.type == DATA and ev.flags & F_END_STREAM:
            if allow_400 and status is not None and 400 <= status < 500:
                return R(True, f"{status} response", want)
            return R(False, f"processed: {status} response, no RST_STREAM", want)


def ends(ev, sid):
    """Whether ev is the frame that ends the server's side of stream sid."""
    return ev.kind == "frame" and ev.sid == sid and (
        (ev.type in (HEADERS, CONTINUATION) and ev.end_stream) or
        (ev.type == DATA and ev.flags & F_END_STREAM))


def verify_response(c, sid, status=200, timeout=T_RESP):
    """Normal processing: a complete proxied response from the upstream."""
    want = f"a proxied {status} on stream {sid}"
    st = c.stream(sid)
    while True:
        ev = c.next_event(timeout)
        if ev is None:
            return R(False, f"no complete response (status {st.status}, ended {st.ended})", want)
        if ev.kind == "closed":
            return R(False, f"connection closed ({ev.reason}), status {st.status}", want)
        if ev.type == GOAWAY and ev.f is not None and ev.code != NO_ERROR:
            return R(False, str(ev), want)
        if ev.type == RST_STREAM and ev.sid == sid:
            return R(False, str(ev), want)
        if ends(ev, sid):
            up = st.header("x-upstream-name")
            ok = st.status == status and up == UPSTREAM
            return R(ok, f"{st.status} from {up or 'no upstream'}", want)


def verify_ping_ack(c, data, timeout=T):
    """A PING ACK carrying data (the frames before were accepted)."""
    want = f"PING(ACK, {data!r})"
    while True:
        ev = c.next_event(timeout)
        if ev is None:
            return R(False, "no PING ACK, connection still open", want)
        if ev.kind == "closed":
            return R(False, f"connection closed ({ev.reason})", want)
        if ev.type == GOAWAY:
            return R(False, str(ev), want)
        if ev.type == PING and ev.f is not None:
            if ev.flags & F_ACK and bytes(ev.f.opaque_data) == data:
                return R(True, "PING ACK", want)
            return R(False, str(ev), want)


def verify_ping_or_close(c, data, timeout=T):
    """h2spec VerifyPingFrameOrConnectionClose."""
    want = f"PING(ACK, {data!r}) or connection closed"
    while True:
        ev = c.next_event(timeout)
        if ev is None:
            return R(False, "no PING ACK, connection still open", want)
        if ev.kind == "closed":
            return R(True, f"closed ({ev.reason})", want)
        if ev.type == GOAWAY and ev.f is not None and ev.code != NO_ERROR:
            return R(False, str(ev), want)
        if ev.type == PING and ev.f is not None and ev.flags & F_ACK:
            return R(bytes(ev.f.opaque_data) == data, str(ev), want)


def verify_settings_ack(c, timeout=T):
    want = "SETTINGS(ACK)"
    while True:
        ev = c.next_event(timeout)
        if ev is None:
            return R(False, "no SETTINGS ACK", want)
        if ev.kind == "closed" or ev.type == GOAWAY:
            return R(False, str(ev), want)
        if ev.type == SETTINGS and ev.flags & F_ACK:
            return R(True, "SETTINGS ACK", want)


def verify_closed(c, timeout=T):
    """h2spec VerifyConnectionClose."""
    want = "connection closed"
    seen = []
    while True:
        ev = c.next_event(timeout)
        if ev is None:
            return R(False, "still open" + (f" after {', '.join(seen[-3:])}" if seen else ""), want)
        if ev.kind == "closed":
            return R(True, "closed" + (f" after {', '.join(seen[-2:])}" if seen else ""), want)
        seen.append(str(ev))


def verify_goaway_accepted(c, timeout=T):
    """A GOAWAY from the client: the server may close (h2spec's check) or
    keep the idle connection; either way no error of its own."""
    want = "connection closed, or a later PING answered (no error)"
    while True:
        ev = c.next_event(timeout)
        if ev is None:
            break
        if ev.kind == "closed":
            return R(True, f"closed ({ev.reason})", want)
        if ev.type == GOAWAY and ev.f is not None and ev.code != NO_ERROR:
            return R(False, str(ev), want)
    c.ping(b"stillok!")
    r = verify_ping_or_close(c, b"stillok!")
    return R(r.ok, "kept open, " + r.observed, want)


def wait_stream_end(c, sid, timeout=T_RESP):
    """h2spec VerifyStreamClose: the response on sid ends."""
    while True:
        ev = c.next_event(timeout)
        if ev is None or ev.kind == "closed" or ev.type in (GOAWAY, RST_STREAM):
            return R(False, f"the response did not end: {ev or 'nothing'}", "END_STREAM")
        if ends(ev, sid):
            return None


def first_data(c, sid, timeout=T_RESP):
    """The next DATA frame on sid (its length), or an R saying what instead."""
    while True:
        ev = c.next_event(timeout)
        if ev is None or ev.kind == "closed" or ev.type == GOAWAY or \
                (ev.type == RST_STREAM and ev.sid == sid):
            return None, str(ev) if ev else "no DATA"
        if ev.type == DATA and ev.sid == sid and ev.f is not None:
            return len(ev.f.data), None


def verify_data_len(c, sid, n, timeout=T_RESP):
    want = f"a DATA frame of {n} octet(s) on stream {sid}"
    got, why = first_data(c, sid, timeout)
    if got is None:
        return R(False, why, want)
    return R(got == n, f"DATA of {got} octets", want)


def verify_hpack_kept(c, sid):
    """After a field block the server discarded: a request on sid whose
    block refers to dynamic entry 62 (x-sync: 1), which exists only if the
    discarded block was still decoded (RFC 9113 4.3/5.1: minimal
    processing updates the compression state)."""
    c.headers(sid, c.blk() + b"\xbe")
    r = verify_response(c, sid)
    return R(r.ok, "ignored, HPACK state kept (a later request using its dynamic entry: "
             f"{r.observed})", r.want)


def verify_closed_data(c, sid, next_sid):
    """DATA on a closed stream: the stream error STREAM_CLOSED of RFC 9113
    6.1 and h2spec (or a connection error, 5.1 closed), or (RFC 9113 5.1
    closed: "An endpoint can perform this minimal processing for all
    streams that are in the closed state") discarded, but still counted
    toward the connection flow-control window: then 1 MiB more of it on
    the closed stream, more than the server's connection window, must be
    credited back and a new request still served."""
    c.ping(PING_DATA)
    want = (f"RST_STREAM(STREAM_CLOSED) on stream {sid} or GOAWAY(STREAM_CLOSED), or discarded "
            "with its octets credited back to the connection window")
    while True:
        ev = c.next_event(T)
        if ev is None:
            return R(False, "no reaction, no PING ACK", want)
        if ev.kind == "closed":
            return R(True, f"closed ({ev.reason})", want)
        if ev.type == GOAWAY and ev.f is not None:
            if ev.code == STREAM_CLOSED:
                closed = c.wait_closed(T)
                return R(closed, "GOAWAY(STREAM_CLOSED)" +
                         (", closed" if closed else ", but the connection stays open"), want)
            return R(False, str(ev), want)
        if ev.type == RST_STREAM and ev.sid == sid and ev.f is not None:
            return R(ev.code == STREAM_CLOSED, f"RST_STREAM({ename(ev.code)})", want)
        if ev.type == PING and ev.flags & F_ACK:
            break
    target, sent, chunk = (1 << 20) + (64 << 10), 0, b"x" * 16384
    deadline = time.monotonic() + T_RESP
    while sent < target:
        if c.closed or any(e.type == GOAWAY for e in c.events[c.cursor:]):
            ev = next(e for e in c.events[c.cursor:] if e.kind == "closed" or e.type == GOAWAY)
            ok = ev.kind == "closed" or ev.code == STREAM_CLOSED
            return R(ok, f"discarded, then after {sent} more octets: {ev}", want)
        if c.send_window >= len(chunk):
            c.data(sid, chunk, es=False)
            sent += len(chunk)
            c.flush()
            continue
        before = c.send_window
        c.pump(0.2)
        if c.send_window == before and time.monotonic() > deadline:
            return R(False, f"discarded, but not credited back: after {sent} more octets the "
                     f"connection window stays at {c.send_window}", want)
    c.cursor = len(c.events)
    c.headers(next_sid, c.blk(c.req("POST")), es=False)
    c.data(next_sid, b"test")
    r = verify_response(c, next_sid)
    return R(r.ok, f"discarded, {sent} more octets credited back, then a POST: {r.observed}", want)


def verify_closed_stream_frame(c, sid, codes, next_sid=None):
    """A frame on a closed stream: the RFC 7540 errors h2spec wants, or
    (RFC 9113 5.1 closed) minimal processing: then a PING is answered and,
    for a field block, the HPACK state is kept."""
    c.ping(b"h2spec\x00\x00")
    want = (f"RST_STREAM({enames(codes)}) on stream {sid}, GOAWAY({enames(codes)}), or "
            "ignored" + (" with the HPACK state kept" if next_sid else ""))
    while True:
        ev = c.next_event(T)
        if ev is None:
            return R(False, "no reaction, no PING ACK", want)
        if ev.kind == "closed":
            return R(True, f"closed ({ev.reason})", want)
        if ev.type == GOAWAY and ev.f is not None:
            if ev.code in codes:
                closed = c.wait_closed(T)
                return R(closed, f"GOAWAY({ename(ev.code)})" +
                         (", closed" if closed else ", but the connection stays open"), want)
            return R(False, str(ev), want)
        if ev.type == RST_STREAM and ev.sid == sid and ev.f is not None:
            return R(ev.code in codes, f"RST_STREAM({ename(ev.code)})", want)
        if ev.type == PING and ev.flags & F_ACK:
            if next_sid is None:
                return R(True, "ignored (PING answered)", want)
            r = verify_hpack_kept(c, next_sid)
            return R(r.ok, r.observed, want)


# ---------------------------------------------------------------- the catalogue

CASES = []


class Case:
    def __init__(self, section, desc, rfc, fn, handshake=True, fwd_ok=True):
        self.section, self.desc, self.rfc, self.fn = section, desc, rfc, fn
        self.handshake = handshake
        self.fwd_ok = fwd_ok        # False: the request must never reach the upstream


def case(section, desc, rfc, handshake=True, fwd_ok=True):
    def reg(fn):
        CASES.append(Case(section, desc, rfc, fn, handshake, fwd_ok))
        return fn
    return reg


def malformed(section, desc, rfc, fields_fn, allow_400=False):
    """A request whose header section is malformed: stream error
    PROTOCOL_ERROR, never forwarded."""
    def fn(c):
        c.headers(1, block(fields_fn(c)))
        return verify_stream_error(c, 1, PROTOCOL_ERROR, allow_400=allow_400)
    CASES.append(Case(section, desc, rfc, fn, fwd_ok=False))


PING_DATA = b"h2spec\x00\x00"
SLOW = "/slow?ms=1000"      # keeps a stream half-closed (remote) while the case runs

# ---- generic (h2spec "generic": the basics every server must accept)


@case("generic/1", "Sends a client connection preface",
      "RFC 9113 3.4: The server connection preface consists of a potentially empty SETTINGS "
      "frame that MUST be the first frame the server sends in the HTTP/2 connection.",
      handshake=False)
def _(c):
    c.logging = True
    c.send(PREFACE + frame(SETTINGS, 0, 0, settings_payload([(S_INITIAL_WINDOW_SIZE, 65535)])))
    ev = c.next_event(T)
    want = "SETTINGS (not ACK) as the first frame"
    if ev is None or ev.kind != "frame":
        return R(False, str(ev) if ev else "nothing", want)
    return R(ev.type == SETTINGS and not ev.flags & F_ACK, str(ev), want)


@case("generic/2", "Sends a PRIORITY frame on idle stream",
      "RFC 9113 6.3: The PRIORITY frame can be sent on a stream in any state, including "
      "\"idle\" or \"closed\".")
def _(c):
    c.priority(1)
    c.ping(PING_DATA)
    return verify_ping_ack(c, PING_DATA)


@case("generic/2", "Sends a WINDOW_UPDATE frame on half-closed (remote) stream",
      "RFC 9113 5.1 half-closed (remote): frames other than WINDOW_UPDATE, PRIORITY, or "
      "RST_STREAM get STREAM_CLOSED; 6.9: a receiver MUST NOT treat this as an error.")
def _(c):
    c.settings([(S_INITIAL_WINDOW_SIZE, 0)])
    c.headers(1, c.blk())
    c.window_update(1, 1)
    return verify_data_len(c, 1, 1)


@case("generic/2", "Sends a PRIORITY frame on half-closed (remote) stream",
      "RFC 9113 6.3: The PRIORITY frame can be sent on a stream in any state.")
def _(c):
    c.settings([(S_INITIAL_WINDOW_SIZE, 0)])
    c.headers(1, c.blk())
    c.priority(1)
    c.window_update(1, 1)
    return verify_data_len(c, 1, 1)


@case("generic/2", "Sends a RST_STREAM frame on half-closed (remote) stream",
      "RFC 9113 5.1 half-closed (remote): RST_STREAM is one of the frames allowed in this state.")
def _(c):
    c.headers(1, c.blk())
    c.rst(1, CANCEL)
    c.ping(PING_DATA)
    return verify_ping_or_close(c, PING_DATA)


@case("generic/2", "Sends a PRIORITY frame on closed stream",
      "RFC 9113 5.1 closed: An endpoint MUST NOT send frames other than PRIORITY on a closed "
      "stream (PRIORITY is allowed).")
def _(c):
    c.headers(1, c.blk())
    r = wait_stream_end(c, 1)
    if r:
        return r
    c.priority(1)
    c.ping(PING_DATA)
    return verify_ping_ack(c, PING_DATA)


@case("generic/3.1", "Sends a DATA frame",
      "RFC 9113 6.1: DATA frames convey arbitrary, variable-length sequences of octets "
      "associated with a stream.")
def _(c):
    c.headers(1, c.blk(c.req("POST")), es=False)
    c.data(1, b"test")
    return verify_response(c, 1)


@case("generic/3.1", "Sends multiple DATA frames",
      "RFC 9113 6.1: One or more DATA frames are used, for instance, to carry HTTP request or "
      "response message contents.")
def _(c):
    c.headers(1, c.blk(c.req("POST")), es=False)
    c.data(1, b"test", es=False)
    c.data(1, b"test")
    return verify_response(c, 1)


@case("generic/3.1", "Sends a DATA frame with padding",
      "RFC 9113 6.1: DATA frames MAY also contain padding.")
def _(c):
    c.headers(1, c.blk(c.req("POST")), es=False)
    c.data(1, b"test", pad=6)
    return verify_response(c, 1)


@case("generic/3.2", "Sends a HEADERS frame",
      "RFC 9113 6.2: The HEADERS frame is used to open a stream.")
def _(c):
    c.headers(1, c.blk())
    return verify_response(c, 1)


@case("generic/3.2", "Sends a HEADERS frame with padding",
      "RFC 9113 6.2: PADDED: the Pad Length field and any padding that it describes are present.")
def _(c):
    c.headers(1, c.blk(), pad=8)
    return verify_response(c, 1)


@case("generic/3.2", "Sends a HEADERS frame with priority",
      "RFC 9113 6.2: PRIORITY: the Exclusive, Stream Dependency, and Weight fields are present "
      "(deprecated signals a receiver must still parse).")
def _(c):
    c.headers(1, c.blk(), prio=(0, 255, False))
    return verify_response(c, 1)


@case("generic/3.3", "Sends a PRIORITY frame with priority 1",
      "RFC 9113 6.3: A PRIORITY frame can be sent in any stream state, including idle.")
def _(c):
    c.priority(1, weight=0)
    c.headers(1, c.blk())
    return verify_response(c, 1)


@case("generic/3.3", "Sends a PRIORITY frame with priority 256",
      "RFC 9113 6.3: A PRIORITY frame can be sent in any stream state, including idle.")
def _(c):
    c.priority(1, weight=255)
    c.headers(1, c.blk())
    return verify_response(c, 1)


@case("generic/3.3", "Sends a PRIORITY frame with stream dependency",
      "RFC 9113 6.3: Stream Dependency: A 31-bit stream identifier.")
def _(c):
    c.priority(3, dep=1, weight=0)
    c.headers(1, c.blk())
    return verify_response(c, 1)


@case("generic/3.3", "Sends a PRIORITY frame with exclusive",
      "RFC 9113 6.3: Exclusive: A single-bit flag.")
def _(c):
    c.priority(1, weight=0, exclusive=True)
    c.headers(1, c.blk())
    return verify_response(c, 1)


@case("generic/3.3", "Sends a PRIORITY frame for an idle stream, then a HEADERS frame for a "
      "lower stream ID",
      "RFC 9113 6.3: Sending or receiving a PRIORITY frame does not affect the state of any stream.")
def _(c):
    c.priority(3)
    c.headers(1, c.blk())
    return verify_response(c, 1)


@case("generic/3.4", "Sends a RST_STREAM frame",
      "RFC 9113 6.4: The RST_STREAM frame allows for immediate termination of a stream.")
def _(c):
    c.headers(1, c.blk(), es=False)
    c.rst(1, CANCEL)
    c.ping(PING_DATA)
    return verify_ping_or_close(c, PING_DATA)


@case("generic/3.5", "Sends a SETTINGS frame",
      "RFC 9113 6.5.3: Once all values have been processed, the recipient MUST immediately "
      "emit a SETTINGS frame with the ACK flag set.")
def _(c):
    c.settings([(S_HEADER_TABLE_SIZE, 4096), (S_ENABLE_PUSH, 1), (S_MAX_CONCURRENT_STREAMS, 100),
                (S_INITIAL_WINDOW_SIZE, 65535), (S_MAX_FRAME_SIZE, 16384),
                (S_MAX_HEADER_LIST_SIZE, 100)])
    return verify_settings_ack(c)


@case("generic/3.7", "Sends a PING frame",
      "RFC 9113 6.7: Receivers of a PING frame that does not include an ACK flag MUST send a "
      "PING frame with the ACK flag set in response, with an identical frame payload.")
def _(c):
    c.ping(PING_DATA)
    return verify_ping_ack(c, PING_DATA)


@case("generic/3.8", "Sends a GOAWAY frame",
      "RFC 9113 6.8: The GOAWAY frame is used to initiate shutdown of a connection.")
def _(c):
    c.goaway(0, NO_ERROR, b"h2spec")
    return verify_goaway_accepted(c)


@case("generic/3.9", "Sends a WINDOW_UPDATE frame with stream ID 0",
      "RFC 9113 6.9: the value 0 indicates that the entire connection is the subject of the frame.")
def _(c):
    c.window_update(0, 1)
    c.ping(PING_DATA)
    return verify_ping_ack(c, PING_DATA)


@case("generic/3.9", "Sends a WINDOW_UPDATE frame with stream ID 1",
      "RFC 9113 6.9: The WINDOW_UPDATE frame can be specific to a stream; it can be received "
      "in \"half-closed (remote)\" (MUST NOT treat this as an error).")
def _(c):
    c.headers(1, c.blk())
    c.window_update(1, 1)
    return verify_response(c, 1)


@case("generic/3.10", "Sends a CONTINUATION frame",
      "RFC 9113 6.10: The CONTINUATION frame is used to continue a sequence of field block "
      "fragments.")
def _(c):
    b = c.blk()
    c.headers(1, b[:5], eh=False)
    c.cont(1, b[5:])
    return verify_response(c, 1)


@case("generic/3.10", "Sends multiple CONTINUATION frames",
      "RFC 9113 6.10: Any number of CONTINUATION frames can be sent, as long as the preceding "
      "frame is on the same stream and is a HEADERS, PUSH_PROMISE, or CONTINUATION frame "
      "without the END_HEADERS flag set.")
def _(c):
    b = c.blk()
    c.headers(1, b[:5], eh=False)
    c.cont(1, b[5:10], eh=False)
    c.cont(1, b[10:])
    return verify_response(c, 1)


@case("generic/4", "Sends a GET request",
      "RFC 9113 8.1: A server sends an HTTP response on the same stream as the request.")
def _(c):
    c.headers(1, c.blk())
    return verify_response(c, 1)


@case("generic/4", "Sends a HEAD request",
      "RFC 9113 8.1: A server sends an HTTP response on the same stream as the request.")
def _(c):
    c.headers(1, c.blk(c.req("HEAD")))
    r = verify_response(c, 1)
    st = c.stream(1)
    if r.ok and st.data:
        return R(False, f"a body of {len(st.data)} octets in the response to HEAD", r.want)
    return r


@case("generic/4", "Sends a POST request",
      "RFC 9113 8.1: A server sends an HTTP response on the same stream as the request.")
def _(c):
    c.headers(1, c.blk(c.req("POST")), es=False)
    c.data(1, b"test")
    return verify_response(c, 1)


@case("generic/4", "Sends a POST request with trailers",
      "RFC 9113 8.1: Trailer fields are carried in a field block that also terminates the stream.")
def _(c):
    c.headers(1, c.blk(c.req("POST", [("trailer", "x-test")])), es=False)
    c.data(1, b"test", es=False)
    c.headers(1, block([("x-test", "ok")]))
    return verify_response(c, 1)


def _hpack_accept(desc, rfc, after=b"", before=b""):
    def fn(c):
        c.headers(1, before + c.blk() + after)
        return verify_response(c, 1)
    CASES.append(Case("generic/5", desc, rfc, fn))


_hpack_accept("Sends a indexed header field representation",
              "RFC 7541 6.1: An indexed header field representation identifies an entry in "
              "either the static table or the dynamic table.",
              after=b"\xba")      # static 58: user-agent (empty value)
for _kind, _sec, _what in (("incremental", "6.2.1", "with incremental indexing"),
                           ("without", "6.2.2", "without indexing"),
                           ("never", "6.2.3", "never indexed")):
    for _name, _label in (("user-agent", "indexed name"), ("x-test", "new name")):
        for _huff in (False, True):
            _hpack_accept(
                f"Sends a literal header field {_what} - {_label}"
                f"{' (with Huffman coding)' if _huff else ''}",
                f"RFC 7541 {_sec}: a literal field line {_what} results in appending a header "
                "field to the decoded header list.",
                after=literal(_name, "h2spec", _kind, _huff))
_hpack_accept("Sends a dynamic table size update",
              "RFC 7541 6.3: A dynamic table size update signals a change to the size of the "
              "dynamic table.", before=b"\x20")
_hpack_accept("Sends multiple dynamic table size update",
              "RFC 7541 4.2: Multiple updates to the maximum table size can occur between the "
              "transmission of two field blocks ... at most two dynamic table size updates.",
              before=b"\x20\x3f\xe1\x1f")     # size 0, then 4096


# ---- http2/3.5 .. http2/8.2 (h2spec "http2")

@case("http2/3.5", "Sends client connection preface",
      "RFC 9113 3.4: The server connection preface ... MUST be the first frame the server sends.",
      handshake=False)
def _(c):
    c.logging = True
    c.send(PREFACE + frame(SETTINGS, 0, 0, settings_payload([(S_INITIAL_WINDOW_SIZE, 65535)])))
    while True:
        ev = c.next_event(T)
        if ev is None or ev.kind != "frame":
            return R(False, str(ev) if ev else "nothing", "SETTINGS (not ACK)")
        if ev.type == SETTINGS:
            return R(not ev.flags & F_ACK, str(ev), "SETTINGS (not ACK)")


@case("http2/3.5", "Sends invalid connection preface",
      "RFC 9113 3.4: Clients and servers MUST treat an invalid connection preface as a "
      "connection error of type PROTOCOL_ERROR. A GOAWAY frame MAY be omitted in this case.",
      handshake=False)
def _(c):
    c.logging = True
    c.send(b"INVALID CONNECTION PREFACE\r\n\r\n")
    return verify_closed(c)


@case("http2/4.1", "Sends a frame with unknown type",
      "RFC 9113 4.1: Implementations MUST ignore and discard frames of unknown types.")
def _(c):
    c.send(frame(0x16, 0, 0, bytes(8)))
    c.ping(PING_DATA)
    return verify_ping_ack(c, PING_DATA)


@case("http2/4.1", "Sends a frame with undefined flag",
      "RFC 9113 4.1: Flags that have no defined semantics for a particular frame type MUST be "
      "ignored.")
def _(c):
    c.send(frame(PING, 0x16, 0, PING_DATA))
    return verify_ping_ack(c, PING_DATA)


@case("http2/4.1", "Sends a frame with reserved field bit",
      "RFC 9113 4.1: Reserved: the bit MUST remain unset (0x00) when sending and MUST be "
      "ignored when receiving.")
def _(c):
    c.send(frame(PING, 0x16, 0x80000000, PING_DATA))
    return verify_ping_ack(c, PING_DATA)


@case("http2/4.2", "Sends a DATA frame with 2^14 octets in length",
      "RFC 9113 4.2: All implementations MUST be capable of receiving and minimally "
      "processing frames up to 2^14 octets in length.")
def _(c):
    c.headers(1, c.blk(c.req("POST")), es=False)
    c.data(1, b"x" * 16384)
    return verify_response(c, 1)


@case("http2/4.2", "Sends a large size DATA frame that exceeds the SETTINGS_MAX_FRAME_SIZE",
      "RFC 9113 4.2: An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame "
      "exceeds the size defined in SETTINGS_MAX_FRAME_SIZE.")
def _(c):
    c.headers(1, c.blk(c.req("POST")), es=False)
    c.send(frame(DATA, F_END_STREAM, 1, b"x" * (c.peer.get(S_MAX_FRAME_SIZE, 16384) + 1)))
    return verify_stream_error(c, 1, FRAME_SIZE_ERROR)


@case("http2/4.2", "Sends a large size HEADERS frame that exceeds the SETTINGS_MAX_FRAME_SIZE",
      "RFC 9113 4.2: A frame size error in a frame that could alter the state of the entire "
      "connection MUST be treated as a connection error; this includes any frame carrying a "
      "field block.", fwd_ok=False)
def _(c):
    c.send(frame(HEADERS, F_END_STREAM | F_END_HEADERS, 1, c.blk(c.req() + c.dummy(5))))
    return verify_conn_error(c, FRAME_SIZE_ERROR)


@case("http2/4.3", "Sends invalid header block fragment",
      "RFC 9113 4.3: A decoding error in a field block MUST be treated as a connection error "
      "of type COMPRESSION_ERROR.")
def _(c):
    # a literal with incremental indexing, without its name and value
    c.send(frame(HEADERS, F_END_STREAM | F_END_HEADERS, 1, b"\x40"))
    return verify_conn_error(c, COMPRESSION_ERROR)


@case("http2/4.3", "Sends a PRIORITY frame while sending the header blocks",
      "RFC 9113 4.3: Field blocks MUST be transmitted as a contiguous sequence of frames, with "
      "no interleaved frames of any other type or from any other stream.", fwd_ok=False)
def _(c):
    c.headers(1, c.blk(), es=False, eh=False)
    c.priority(1)
    c.cont(1, block(c.dummy()))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/4.3", "Sends a HEADERS frame to another stream while sending the header blocks",
      "RFC 9113 4.3: Field blocks MUST be transmitted as a contiguous sequence of frames, with "
      "no interleaved frames of any other type or from any other stream.", fwd_ok=False)
def _(c):
    c.headers(1, c.blk(), es=False, eh=False)
    c.headers(3, c.blk())
    c.cont(1, block(c.dummy()))
    return verify_conn_error(c, PROTOCOL_ERROR)


IDLE = ("RFC 9113 5.1 idle: Receiving any frame other than HEADERS or PRIORITY on a stream in "
        "this state MUST be treated as a connection error of type PROTOCOL_ERROR.")
HALF_CLOSED = ("RFC 9113 5.1 half-closed (remote): If an endpoint receives additional frames, "
               "other than WINDOW_UPDATE, PRIORITY, or RST_STREAM, for a stream that is in "
               "this state, it MUST respond with a stream error of type STREAM_CLOSED.")
CLOSED = ("RFC 9113 5.1 closed: An endpoint MAY treat receipt of any other type of frame on a "
          "closed stream as a connection error of type STREAM_CLOSED ... An endpoint MUST "
          "minimally process and then discard any frames it receives in this state. This means "
          "updating header compression state for HEADERS ... the content of DATA frames counts "
          "toward the connection flow-control window ... An endpoint can perform this minimal "
          "processing for all streams that are in the \"closed\" state. (RFC 7540 and h2spec: a "
          "stream error STREAM_CLOSED after RST_STREAM, a connection error after END_STREAM.)")
DATA_CLOSED = ("RFC 9113 6.1: If a DATA frame is received whose stream is not in the \"open\" "
               "or \"half-closed (local)\" state, the recipient MUST respond with a stream "
               "error of type STREAM_CLOSED (5.1 closed: MAY be a connection error).")
CONT_RULE = ("RFC 9113 6.10: A CONTINUATION frame MUST be preceded by a HEADERS, PUSH_PROMISE "
             "or CONTINUATION frame without the END_HEADERS flag set. A recipient that observes "
             "violation of this rule MUST respond with a connection error of type PROTOCOL_ERROR.")


@case("http2/5.1", "idle: Sends a DATA frame", IDLE)
def _(c):
    c.data(1, b"test")
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/5.1", "idle: Sends a RST_STREAM frame", IDLE)
def _(c):
    c.rst(1, CANCEL)
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/5.1", "idle: Sends a WINDOW_UPDATE frame", IDLE)
def _(c):
    c.window_update(1, 100)
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/5.1", "idle: Sends a CONTINUATION frame", IDLE + " " + CONT_RULE, fwd_ok=False)
def _(c):
    c.cont(1, c.blk())
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/5.1", "half closed (remote): Sends a DATA frame", HALF_CLOSED)
def _(c):
    c.headers(1, c.blk(c.req(path=SLOW)))
    c.data(1, b"test")
    return verify_stream_error(c, 1, STREAM_CLOSED)


@case("http2/5.1", "half closed (remote): Sends a HEADERS frame", HALF_CLOSED)
def _(c):
    c.headers(1, c.blk(c.req(path=SLOW)))
    c.headers(1, c.blk(c.req(path=SLOW)))
    return verify_stream_error(c, 1, STREAM_CLOSED)


@case("http2/5.1", "half closed (remote): Sends a CONTINUATION frame",
      HALF_CLOSED + " " + CONT_RULE)
def _(c):
    c.headers(1, c.blk(c.req(path=SLOW)))
    c.cont(1, c.blk())
    return verify_stream_error(c, 1, STREAM_CLOSED, PROTOCOL_ERROR)


@case("http2/5.1", "closed: Sends a DATA frame after sending RST_STREAM frame",
      CLOSED + " " + DATA_CLOSED)
def _(c):
    c.headers(1, c.blk(), es=False)
    c.rst(1, CANCEL)
    c.data(1, b"test")
    return verify_closed_data(c, 1, 3)


@case("http2/5.1", "closed: Sends a HEADERS frame after sending RST_STREAM frame", CLOSED)
def _(c):
    c.headers(1, c.blk(), es=False)
    c.rst(1, CANCEL)
    c.headers(1, c.blk() + literal("x-sync", "1", "incremental"))
    return verify_closed_stream_frame(c, 1, (STREAM_CLOSED,), next_sid=3)


@case("http2/5.1", "closed: Sends a CONTINUATION frame after sending RST_STREAM frame",
      CLOSED + " " + CONT_RULE)
def _(c):
    c.headers(1, c.blk(), es=False)
    c.rst(1, CANCEL)
    c.cont(1, block(c.dummy()))
    return verify_stream_error(c, 1, STREAM_CLOSED, PROTOCOL_ERROR)


@case("http2/5.1", "closed: Sends a DATA frame", CLOSED + " " + DATA_CLOSED)
def _(c):
    c.headers(1, c.blk())
    r = wait_stream_end(c, 1)
    if r:
        return r
    c.data(1, b"test")
    return verify_closed_data(c, 1, 3)


@case("http2/5.1", "closed: Sends a HEADERS frame", CLOSED)
def _(c):
    c.headers(1, c.blk())
    r = wait_stream_end(c, 1)
    if r:
        return r
    c.headers(1, c.blk() + literal("x-sync", "1", "incremental"))
    return verify_closed_stream_frame(c, 1, (STREAM_CLOSED,), next_sid=3)


@case("http2/5.1", "closed: Sends a CONTINUATION frame", CLOSED + " " + CONT_RULE)
def _(c):
    c.headers(1, c.blk())
    r = wait_stream_end(c, 1)
    if r:
        return r
    c.cont(1, block(c.dummy()))
    return verify_conn_error(c, STREAM_CLOSED, PROTOCOL_ERROR)


STREAM_IDS = ("RFC 9113 5.1.1: Streams initiated by a client MUST use odd-numbered stream "
              "identifiers ... The identifier of a newly established stream MUST be numerically "
              "greater than all streams that the initiating endpoint has opened or reserved ... "
              "An endpoint that receives an unexpected stream identifier MUST respond with a "
              "connection error of type PROTOCOL_ERROR.")


@case("http2/5.1.1", "Sends even-numbered stream identifier", STREAM_IDS, fwd_ok=False)
def _(c):
    c.headers(2, c.blk())
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/5.1.1", "Sends stream identifier that is numerically smaller than previous",
      STREAM_IDS)
def _(c):
    c.headers(5, c.blk())
    c.headers(3, c.blk())
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/5.1.1", "Sends HEADERS frame with the stream which is in half-closed (remote) state",
      HALF_CLOSED)
def _(c):
    c.headers(5, c.blk(c.req(path=SLOW)))
    c.headers(5, c.blk(c.req(path=SLOW)))
    return verify_stream_error(c, 5, STREAM_CLOSED)


@case("http2/5.1.2", "Sends HEADERS frames that causes their advertised concurrent stream limit "
      "to be exceeded",
      "RFC 9113 5.1.2: An endpoint that receives a HEADERS frame that causes its advertised "
      "concurrent stream limit to be exceeded MUST treat this as a stream error of type "
      "PROTOCOL_ERROR or REFUSED_STREAM.")
def _(c):
    limit = c.peer.get(S_MAX_CONCURRENT_STREAMS)
    if limit is None:
        return R(True, "skipped: no SETTINGS_MAX_CONCURRENT_STREAMS (unlimited)")
    # a zero initial window keeps every response from finishing
    c.settings([(S_INITIAL_WINDOW_SIZE, 0)])
    b = c.blk()
    c.send(b"".join(hf.HeadersFrame(1 + 2 * i, data=b, flags=["END_STREAM", "END_HEADERS"])
                    .serialize() for i in range(limit + 1)))
    return verify_stream_error(c, 1 + 2 * limit, PROTOCOL_ERROR, REFUSED_STREAM)


SELF_DEP = ("RFC 7540 5.3.1: A stream cannot depend on itself. An endpoint MUST treat this as a "
            "stream error of type PROTOCOL_ERROR. (RFC 9113 5.3.2 deprecates RFC 7540 "
            "priority signaling and drops this rule: ignoring the signal is also accepted.)")


@case("http2/5.3.1", "Sends HEADERS frame that depends on itself", SELF_DEP)
def _(c):
    c.headers(1, c.blk(), prio=(1, 255, False))
    want = "stream error PROTOCOL_ERROR, or (RFC 9113) the request served"
    while True:
        ev = c.next_event(T_RESP)
        st = c.stream(1)
        if ev is None:
            return R(False, "no reaction", want)
        if ev.kind == "closed":
            return R(True, f"closed ({ev.reason})", want)
        if ev.type in (GOAWAY, RST_STREAM) and ev.f is not None and (ev.type == GOAWAY or ev.sid == 1):
            return R(ev.code == PROTOCOL_ERROR, str(ev), want)
        if ends(ev, 1):
            return R(st.status == 200, f"dependency ignored: {st.status}", want)


@case("http2/5.3.1", "Sends PRIORITY frame that depend on itself", SELF_DEP)
def _(c):
    c.priority(1, dep=1)
    c.ping(PING_DATA)
    want = "stream/connection error PROTOCOL_ERROR, or (RFC 9113) the PRIORITY ignored"
    while True:
        ev = c.next_event(T)
        if ev is None:
            return R(False, "no reaction", want)
        if ev.kind == "closed":
            return R(True, f"closed ({ev.reason})", want)
        if ev.type in (GOAWAY, RST_STREAM) and ev.f is not None:
            return R(ev.code == PROTOCOL_ERROR, str(ev), want)
        if ev.type == PING and ev.flags & F_ACK:
            return R(True, "ignored (PING answered)", want)


@case("http2/5.4.1", "Sends an invalid PING frame for connection close",
      "RFC 9113 5.4.1: After sending the GOAWAY frame for an error condition, the endpoint "
      "MUST close the TCP connection.")
def _(c):
    c.send(frame(PING, 0, 3, bytes(8)))
    return verify_closed(c)


@case("http2/5.4.1", "Sends an invalid PING frame to receive GOAWAY frame (SHOULD)",
      "RFC 9113 5.4.1: An endpoint that encounters a connection error SHOULD first send a "
      "GOAWAY frame with the stream identifier of the last stream that it successfully "
      "received from its peer.")
def _(c):
    c.send(frame(PING, 0, 3, bytes(8)))
    want = "GOAWAY(PROTOCOL_ERROR)"
    while True:
        ev = c.next_event(T)
        if ev is None or ev.kind == "closed":
            return R(False, str(ev) if ev else "nothing", want)
        if ev.type == GOAWAY and ev.f is not None:
            return R(ev.code == PROTOCOL_ERROR and ev.f.last_stream_id == 0, str(ev), want)


@case("http2/5.5", "Sends an unknown extension frame",
      "RFC 9113 5.5: Implementations MUST ignore unknown or unsupported values in all "
      "extensible protocol elements. Implementations MUST discard frames that have unknown or "
      "unsupported types.")
def _(c):
    c.send(frame(0x16, 0, 0, bytes(8)))
    c.ping(PING_DATA)
    return verify_ping_ack(c, PING_DATA)


@case("http2/5.5", "Sends an unknown extension frame in the middle of a header block",
      "RFC 9113 5.5: extension frames that appear in the middle of a field block are not "
      "permitted; these MUST be treated as a connection error of type PROTOCOL_ERROR.",
      fwd_ok=False)
def _(c):
    c.headers(1, c.blk(), eh=False)
    c.send(frame(0x16, 0, 0, bytes(8)))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.1", "Sends a DATA frame with 0x0 stream identifier",
      "RFC 9113 6.1: If a DATA frame is received whose Stream Identifier field is 0x00, the "
      "recipient MUST respond with a connection error of type PROTOCOL_ERROR.")
def _(c):
    c.send(frame(DATA, F_END_STREAM, 0, b"test"))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.1", "Sends a DATA frame on the stream that is not in \"open\" or "
      "\"half-closed (local)\" state", DATA_CLOSED)
def _(c):
    c.headers(1, c.blk(c.req("POST", path=SLOW)))
    c.data(1, b"test")
    return verify_stream_error(c, 1, STREAM_CLOSED)


@case("http2/6.1", "Sends a DATA frame with invalid pad length",
      "RFC 9113 6.1: If the length of the padding is the length of the frame payload or "
      "greater, the recipient MUST treat this as a connection error of type PROTOCOL_ERROR.")
def _(c):
    c.headers(1, c.blk(c.req("POST", [("content-length", "4")])), es=False)
    c.send(frame(DATA, F_END_STREAM | F_PADDED, 1, b"\x06Test"))
    return verify_conn_error(c, PROTOCOL_ERROR)


END_HEADERS_RULE = ("RFC 9113 6.2: A HEADERS frame without the END_HEADERS flag set MUST be "
                    "followed by a CONTINUATION frame for the same stream. A receiver MUST treat "
                    "the receipt of any other type of frame or a frame on a different stream as "
                    "a connection error of type PROTOCOL_ERROR.")


@case("http2/6.2", "Sends a HEADERS frame without the END_HEADERS flag, and a PRIORITY frame",
      END_HEADERS_RULE, fwd_ok=False)
def _(c):
    c.headers(1, c.blk(), es=False, eh=False)
    c.priority(1)
    c.cont(1, block(c.dummy()))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.2", "Sends a HEADERS frame to another stream while sending a HEADERS frame",
      END_HEADERS_RULE, fwd_ok=False)
def _(c):
    c.headers(1, c.blk(), es=False, eh=False)
    c.headers(3, c.blk())
    c.cont(1, block(c.dummy()))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.2", "Sends a HEADERS frame with 0x0 stream identifier",
      "RFC 9113 6.2: If a HEADERS frame is received whose Stream Identifier field is 0x00, the "
      "recipient MUST respond with a connection error of type PROTOCOL_ERROR.", fwd_ok=False)
def _(c):
    c.send(frame(HEADERS, F_END_STREAM | F_END_HEADERS, 0, c.blk()))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.2", "Sends a HEADERS frame with invalid pad length",
      "RFC 9113 6.2: If the length of the padding is the length of the frame payload or "
      "greater, the recipient MUST treat this as a connection error of type PROTOCOL_ERROR.",
      fwd_ok=False)
def _(c):
    b = c.blk()
    c.send(frame(HEADERS, F_END_STREAM | F_END_HEADERS | F_PADDED, 1, bytes([len(b) + 2]) + b))
    return verify_stream_error(c, 1, PROTOCOL_ERROR)


@case("http2/6.3", "Sends a PRIORITY frame with 0x0 stream identifier",
      "RFC 9113 6.3: If a PRIORITY frame is received with a stream identifier of 0x00, the "
      "recipient MUST respond with a connection error of type PROTOCOL_ERROR.")
def _(c):
    c.send(frame(PRIORITY, 0, 0, b"\x00\x00\x00\x00\xff"))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.3", "Sends a PRIORITY frame with a length other than 5 octets",
      "RFC 9113 6.3: A PRIORITY frame with a length other than 5 octets MUST be treated as a "
      "stream error of type FRAME_SIZE_ERROR.")
def _(c):
    c.headers(1, c.blk())
    c.send(frame(PRIORITY, 0, 1, b"\x80\x00\x00\x01"))
    return verify_stream_error(c, 1, FRAME_SIZE_ERROR)


@case("http2/6.3", "Sends a PRIORITY frame for an idle stream, then send a HEADER frame for a "
      "lower stream ID",
      "RFC 9113 6.3: Sending or receiving a PRIORITY frame does not affect the state of any "
      "stream.")
def _(c):
    c.priority(3)
    c.headers(1, c.blk())
    return verify_response(c, 1)


@case("http2/6.4", "Sends a RST_STREAM frame with 0x0 stream identifier",
      "RFC 9113 6.4: If a RST_STREAM frame is received with a stream identifier of 0x00, the "
      "recipient MUST treat this as a connection error of type PROTOCOL_ERROR.")
def _(c):
    c.send(frame(RST_STREAM, 0, 0, CANCEL.to_bytes(4, "big")))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.4", "Sends a RST_STREAM frame on a idle stream",
      "RFC 9113 6.4: If a RST_STREAM frame identifying an idle stream is received, the "
      "recipient MUST treat this as a connection error of type PROTOCOL_ERROR.")
def _(c):
    c.rst(1, CANCEL)
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.4", "Sends a RST_STREAM frame with a length other than 4 octets",
      "RFC 9113 6.4: A RST_STREAM frame with a length other than 4 octets MUST be treated as a "
      "connection error of type FRAME_SIZE_ERROR.")
def _(c):
    c.headers(1, c.blk())
    c.send(frame(RST_STREAM, 0, 1, b"\x00\x00\x00"))
    return verify_stream_error(c, 1, FRAME_SIZE_ERROR)


@case("http2/6.5", "Sends a SETTINGS frame with ACK flag and payload",
      "RFC 9113 6.5: Receipt of a SETTINGS frame with the ACK flag set and a length field "
      "value other than 0 MUST be treated as a connection error of type FRAME_SIZE_ERROR.")
def _(c):
    c.send(frame(SETTINGS, F_ACK, 0, b"\x00"))
    return verify_conn_error(c, FRAME_SIZE_ERROR)


@case("http2/6.5", "Sends a SETTINGS frame with 0x1 stream identifier",
      "RFC 9113 6.5: If an endpoint receives a SETTINGS frame whose Stream Identifier field is "
      "anything other than 0x00, the endpoint MUST respond with a connection error of type "
      "PROTOCOL_ERROR.")
def _(c):
    c.send(frame(SETTINGS, 0, 1, settings_payload([(S_MAX_CONCURRENT_STREAMS, 100)])))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.5", "Sends a SETTINGS frame with a length other than a multiple of 6 octets",
      "RFC 9113 6.5: A SETTINGS frame with a length other than a multiple of 6 octets MUST be "
      "treated as a connection error of type FRAME_SIZE_ERROR.")
def _(c):
    c.send(frame(SETTINGS, 0, 0, b"\x00\x03\x00\x00\x00\x64\x00\x02\x00"))
    return verify_conn_error(c, FRAME_SIZE_ERROR, PROTOCOL_ERROR)


@case("http2/6.5.2", "SETTINGS_ENABLE_PUSH (0x2): Sends the value other than 0 or 1",
      "RFC 9113 6.5.2: Any value other than 0 or 1 MUST be treated as a connection error of "
      "type PROTOCOL_ERROR.")
def _(c):
    c.settings([(S_ENABLE_PUSH, 2)])
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.5.2", "SETTINGS_INITIAL_WINDOW_SIZE (0x4): Sends the value above the maximum flow "
      "control window size",
      "RFC 9113 6.5.2: Values above the maximum flow-control window size of 2^31-1 MUST be "
      "treated as a connection error of type FLOW_CONTROL_ERROR.")
def _(c):
    c.settings([(S_INITIAL_WINDOW_SIZE, 1 << 31)])
    return verify_conn_error(c, FLOW_CONTROL_ERROR)


@case("http2/6.5.2", "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value below the initial value",
      "RFC 9113 6.5.2: The value advertised by an endpoint MUST be between this initial value "
      "and the maximum allowed frame size (2^24-1), inclusive. Values outside this range MUST "
      "be treated as a connection error of type PROTOCOL_ERROR.")
def _(c):
    c.settings([(S_MAX_FRAME_SIZE, 16383)])
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.5.2", "SETTINGS_MAX_FRAME_SIZE (0x5): Sends the value above the maximum allowed "
      "frame size",
      "RFC 9113 6.5.2: Values outside this range MUST be treated as a connection error of type "
      "PROTOCOL_ERROR.")
def _(c):
    c.settings([(S_MAX_FRAME_SIZE, 1 << 24)])
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.5.2", "Sends a SETTINGS frame with unknown identifier",
      "RFC 9113 6.5.2: An endpoint that receives a SETTINGS frame with any unknown or "
      "unsupported identifier MUST ignore that setting.")
def _(c):
    c.settings([(0xFF, 1)])
    c.ping(PING_DATA)
    return verify_ping_ack(c, PING_DATA)


@case("http2/6.5.3", "Sends multiple values of SETTINGS_INITIAL_WINDOW_SIZE",
      "RFC 9113 6.5.3: The values in the SETTINGS frame MUST be processed in the order they "
      "appear, with no other frame processing between values.")
def _(c):
    c.settings([(S_INITIAL_WINDOW_SIZE, 100), (S_INITIAL_WINDOW_SIZE, 1)])
    r = verify_settings_ack(c)
    if not r.ok:
        return r
    c.headers(1, c.blk())
    return verify_data_len(c, 1, 1)


@case("http2/6.5.3", "Sends a SETTINGS frame without ACK flag",
      "RFC 9113 6.5.3: Once all values have been processed, the recipient MUST immediately "
      "emit a SETTINGS frame with the ACK flag set.")
def _(c):
    c.settings([(S_ENABLE_PUSH, 0)])
    return verify_settings_ack(c)


@case("http2/6.7", "Sends a PING frame",
      "RFC 9113 6.7: Receivers of a PING frame that does not include an ACK flag MUST send a "
      "PING frame with the ACK flag set in response, with an identical frame payload.")
def _(c):
    c.ping(PING_DATA)
    return verify_ping_ack(c, PING_DATA)


@case("http2/6.7", "Sends a PING frame with ACK",
      "RFC 9113 6.7: An endpoint MUST NOT respond to PING frames containing this flag.")
def _(c):
    c.ping(b"invalid\x00", ack=True)
    c.ping(PING_DATA)
    return verify_ping_ack(c, PING_DATA)


@case("http2/6.7", "Sends a PING frame with a stream identifier field value other than 0x0",
      "RFC 9113 6.7: If a PING frame is received with a Stream Identifier field value other "
      "than 0x00, the recipient MUST respond with a connection error of type PROTOCOL_ERROR.")
def _(c):
    c.send(frame(PING, 0, 1, bytes(8)))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.7", "Sends a PING frame with a length field value other than 8",
      "RFC 9113 6.7: Receipt of a PING frame with a length field value other than 8 MUST be "
      "treated as a connection error of type FRAME_SIZE_ERROR.")
def _(c):
    c.send(frame(PING, 0, 0, bytes(6)))
    return verify_conn_error(c, FRAME_SIZE_ERROR)


@case("http2/6.8", "Sends a GOAWAY frame with a stream identifier other than 0x0",
      "RFC 9113 6.8: An endpoint MUST treat a GOAWAY frame with a stream identifier other than "
      "0x00 as a connection error of type PROTOCOL_ERROR.")
def _(c):
    c.send(frame(GOAWAY, 0, 1, bytes(8)))
    return verify_conn_error(c, PROTOCOL_ERROR)


WU_ZERO = ("RFC 9113 6.9: A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a "
           "flow-control window increment of 0 as a stream error of type PROTOCOL_ERROR; errors "
           "on the connection flow-control window MUST be treated as a connection error.")


@case("http2/6.9", "Sends a WINDOW_UPDATE frame with a flow control window increment of 0",
      WU_ZERO)
def _(c):
    c.window_update(0, 0)
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.9", "Sends a WINDOW_UPDATE frame with a flow control window increment of 0 on a "
      "stream", WU_ZERO)
def _(c):
    c.headers(1, c.blk(), es=False)
    c.window_update(1, 0)
    return verify_stream_error(c, 1, PROTOCOL_ERROR)


@case("http2/6.9", "Sends a WINDOW_UPDATE frame with a length other than 4 octets",
      "RFC 9113 6.9: A WINDOW_UPDATE frame with a length other than 4 octets MUST be treated as "
      "a connection error of type FRAME_SIZE_ERROR.")
def _(c):
    c.send(frame(WINDOW_UPDATE, 0, 0, b"\x00\x00\x01"))
    return verify_conn_error(c, FRAME_SIZE_ERROR)


@case("http2/6.9.1", "Sends SETTINGS frame to set the initial window size to 1 and sends HEADERS "
      "frame",
      "RFC 9113 6.9.1: The sender MUST NOT send a flow-controlled frame with a length that "
      "exceeds the space available in either of the flow-control windows advertised by the "
      "receiver.")
def _(c):
    c.settings([(S_INITIAL_WINDOW_SIZE, 1)])
    r = verify_settings_ack(c)
    if not r.ok:
        return r
    c.headers(1, c.blk())
    return verify_data_len(c, 1, 1)


WINDOW_MAX = ("RFC 9113 6.9.1: A sender MUST NOT allow a flow-control window to exceed 2^31-1 "
              "octets ... For streams, the sender sends a RST_STREAM with an error code of "
              "FLOW_CONTROL_ERROR; for the connection, a GOAWAY frame with an error code of "
              "FLOW_CONTROL_ERROR is sent.")


@case("http2/6.9.1", "Sends multiple WINDOW_UPDATE frames increasing the flow control window to "
      "above 2^31-1", WINDOW_MAX)
def _(c):
    c.window_update(0, (1 << 31) - 1)
    c.window_update(0, (1 << 31) - 1)
    want = "GOAWAY(FLOW_CONTROL_ERROR)"
    while True:
        ev = c.next_event(T)
        if ev is None or ev.kind == "closed":
            return R(False, str(ev) if ev else "nothing", want)
        if ev.type == GOAWAY and ev.f is not None:
            return R(ev.code == FLOW_CONTROL_ERROR, str(ev), want)


@case("http2/6.9.1", "Sends multiple WINDOW_UPDATE frames increasing the flow control window to "
      "above 2^31-1 on a stream", WINDOW_MAX)
def _(c):
    c.headers(1, c.blk(), es=False)
    c.window_update(1, (1 << 31) - 1)
    c.window_update(1, (1 << 31) - 1)
    return verify_stream_error(c, 1, FLOW_CONTROL_ERROR)


@case("http2/6.9.2", "Changes SETTINGS_INITIAL_WINDOW_SIZE after sending HEADERS frame",
      "RFC 9113 6.9.2: When the value of SETTINGS_INITIAL_WINDOW_SIZE changes, a receiver MUST "
      "adjust the size of all stream flow-control windows that it maintains by the difference "
      "between the new value and the old value.")
def _(c):
    c.settings([(S_INITIAL_WINDOW_SIZE, 0)])
    r = verify_settings_ack(c)
    if not r.ok:
        return r
    c.headers(1, c.blk())
    c.settings([(S_INITIAL_WINDOW_SIZE, 1)])
    r = verify_settings_ack(c)
    if not r.ok:
        return r
    return verify_data_len(c, 1, 1)


@case("http2/6.9.2", "Sends a SETTINGS frame for window size to be negative",
      "RFC 9113 6.9.2: A sender MUST track the negative flow-control window and MUST NOT send "
      "new flow-controlled frames until it receives WINDOW_UPDATE frames that cause the "
      "flow-control window to become positive.")
def _(c):
    c.settings([(S_INITIAL_WINDOW_SIZE, 3)])
    r = verify_settings_ack(c)
    if not r.ok:
        return r
    c.headers(1, c.blk())
    st = c.stream(1)
    while len(st.data) < 3:
        n, why = first_data(c, 1)
        if n is None:
            return R(False, f"the first 3 octets did not come: {why}", "3 octets, then 1")
    if len(st.data) > 3:
        return R(False, f"{len(st.data)} octets in a window of 3", "3 octets, then 1")
    c.settings([(S_INITIAL_WINDOW_SIZE, 2)])
    r = verify_settings_ack(c)
    if not r.ok:
        return r
    c.window_update(1, 2)
    return verify_data_len(c, 1, 1)


@case("http2/6.9.2", "Sends a SETTINGS_INITIAL_WINDOW_SIZE settings with an exceeded maximum "
      "window size value",
      "RFC 9113 6.9.2: An endpoint MUST treat a change to SETTINGS_INITIAL_WINDOW_SIZE that "
      "causes any flow-control window to exceed the maximum size as a connection error of type "
      "FLOW_CONTROL_ERROR.")
def _(c):
    c.send(frame(SETTINGS, 0, 0, b"\x00\x04\x80\x00\x00\x00"))
    return verify_conn_error(c, FLOW_CONTROL_ERROR)


@case("http2/6.10", "Sends multiple CONTINUATION frames preceded by a HEADERS frame",
      "RFC 9113 6.10: Any number of CONTINUATION frames can be sent, as long as the preceding "
      "frame is on the same stream and is a HEADERS, PUSH_PROMISE, or CONTINUATION frame "
      "without the END_HEADERS flag set.")
def _(c):
    c.headers(1, c.blk(), eh=False)
    c.cont(1, block(c.dummy()), eh=False)
    c.cont(1, block(c.dummy()))
    return verify_response(c, 1)


@case("http2/6.10", "Sends a CONTINUATION frame followed by any frame other than CONTINUATION",
      "RFC 9113 6.10: If the END_HEADERS flag is not set, this frame MUST be followed by "
      "another CONTINUATION frame. A receiver MUST treat the receipt of any other type of frame "
      "or a frame on a different stream as a connection error of type PROTOCOL_ERROR.",
      fwd_ok=False)
def _(c):
    c.headers(1, c.blk(c.req("POST")), es=False, eh=False)
    c.cont(1, block(c.dummy()), eh=False)
    c.data(1, b"test")
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.10", "Sends a CONTINUATION frame with 0x0 stream identifier",
      "RFC 9113 6.10: If a CONTINUATION frame is received with a Stream Identifier field of "
      "0x00, the recipient MUST respond with a connection error of type PROTOCOL_ERROR.",
      fwd_ok=False)
def _(c):
    c.headers(1, c.blk(), eh=False)
    c.send(frame(CONTINUATION, F_END_HEADERS, 0, block(c.dummy())))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.10", "Sends a CONTINUATION frame preceded by a HEADERS frame with END_HEADERS flag",
      CONT_RULE)
def _(c):
    c.headers(1, c.blk())
    c.cont(1, block(c.dummy()))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.10", "Sends a CONTINUATION frame preceded by a CONTINUATION frame with "
      "END_HEADERS flag", CONT_RULE)
def _(c):
    c.headers(1, c.blk(), eh=False)
    c.cont(1, block(c.dummy()))
    c.cont(1, block(c.dummy()))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/6.10", "Sends a CONTINUATION frame preceded by a DATA frame", CONT_RULE)
def _(c):
    c.headers(1, c.blk(c.req("POST")), es=False)
    c.data(1, b"test", es=False)
    c.cont(1, block(c.dummy()))
    return verify_conn_error(c, PROTOCOL_ERROR)


@case("http2/7", "Sends a GOAWAY frame with unknown error code",
      "RFC 9113 7: Unknown or unsupported error codes MUST NOT trigger any special behavior.")
def _(c):
    c.goaway(0, 0xFF)
    return verify_goaway_accepted(c)


@case("http2/7", "Sends a RST_STREAM frame with unknown error code",
      "RFC 9113 7: Unknown or unsupported error codes MUST NOT trigger any special behavior.")
def _(c):
    c.headers(1, c.blk(c.req("POST")), es=False)
    c.rst(1, 0xFF)
    c.ping(PING_DATA)
    return verify_ping_ack(c, PING_DATA)


MALFORMED = ("RFC 9113 8.1.1: Malformed requests or responses that are detected MUST be treated "
             "as a stream error of type PROTOCOL_ERROR; intermediaries MUST NOT forward a "
             "malformed request.")


@case("http2/8.1", "Sends a second HEADERS frame without the END_STREAM flag",
      "RFC 9113 8.1: An endpoint that receives a HEADERS frame without the END_STREAM flag set "
      "after receiving the HEADERS frame that opens a request ... MUST treat the corresponding "
      "request or response as malformed. " + MALFORMED)
def _(c):
    c.headers(1, c.blk(c.req("POST")), es=False)
    c.data(1, b"test", es=False)
    c.headers(1, block([("x-test", "ok")]), es=False)
    return verify_stream_error(c, 1, PROTOCOL_ERROR)


FIELD_RULES = ("RFC 9113 8.2.1: A field name MUST NOT contain characters in the ranges "
               "0x00-0x20, 0x41-0x5a, or 0x7f-0xff ... field names MUST NOT include a colon ... "
               "A field value MUST NOT contain NUL, LF or CR ... MUST NOT start or end with SP or "
               "HTAB ... A request or response that contains a field that violates any of these "
               "conditions MUST be treated as malformed ... an implementation SHOULD generate a "
               "400 (Bad Request). " + MALFORMED)
malformed("http2/8.1.2", "Sends a HEADERS frame that contains the header field name in uppercase "
          "letters",
          "RFC 9113 8.2: Field names MUST be converted to lowercase when constructing an HTTP/2 "
          "message. " + FIELD_RULES,
          lambda c: c.req(extra=[("X-TEST", "ok")]), allow_400=True)
PSEUDO = ("RFC 9113 8.3: Pseudo-header fields defined for requests MUST NOT appear in responses; "
          "pseudo-header fields defined for responses MUST NOT appear in requests. Endpoints MUST "
          "treat a request or response that contains undefined or invalid pseudo-header fields "
          "as malformed. " + MALFORMED)
malformed("http2/8.1.2.1", "Sends a HEADERS frame that contains a unknown pseudo-header field",
          PSEUDO, lambda c: c.req(extra=[(":test", "ok")]))
malformed("http2/8.1.2.1", "Sends a HEADERS frame that contains the pseudo-header field defined "
          "for response", PSEUDO, lambda c: c.req(extra=[(":status", "200")]))


@case("http2/8.1.2.1", "Sends a HEADERS frame that contains a pseudo-header field as trailers",
      "RFC 9113 8.1: Trailers MUST NOT include pseudo-header fields. An endpoint that receives "
      "pseudo-header fields in trailers MUST treat the request or response as malformed. " +
      MALFORMED)
def _(c):
    c.headers(1, c.blk(c.req("POST")), es=False)
    c.data(1, b"test", es=False)
    c.headers(1, block([(":method", "POST")]))
    return verify_stream_error(c, 1, PROTOCOL_ERROR)


malformed("http2/8.1.2.1", "Sends a HEADERS frame that contains a pseudo-header field that "
          "appears in a header block after a regular header field",
          "RFC 9113 8.3: All pseudo-header fields MUST appear in a field block before all "
          "regular field lines. Any request or response that contains a pseudo-header field "
          "that appears in a field block after a regular field line MUST be treated as "
          "malformed. " + MALFORMED,
          lambda c: [("x-test", "ok")] + c.req())
CONN_SPECIFIC = ("RFC 9113 8.2.2: An endpoint MUST NOT generate an HTTP/2 message containing "
                 "connection-specific header fields (Connection, Proxy-Connection, Keep-Alive, "
                 "Transfer-Encoding, Upgrade) ... Any message containing connection-specific "
                 "header fields MUST be treated as malformed. " + MALFORMED)
malformed("http2/8.1.2.2", "Sends a HEADERS frame that contains the connection-specific header "
          "field", CONN_SPECIFIC, lambda c: c.req(extra=[("connection", "keep-alive")]))
TE_RULE = ("RFC 9113 8.2.2: The only exception to this is the TE header field, which MAY be "
           "present in an HTTP/2 request; when it is, it MUST NOT contain any value other than "
           "\"trailers\". " + MALFORMED)
malformed("http2/8.1.2.2", "Sends a HEADERS frame that contains the TE header field with any "
          "value other than \"trailers\"", TE_RULE,
          lambda c: c.req(extra=[("trailers", "test"), ("te", "trailers, deflate")]))
REQ_PSEUDO = ("RFC 9113 8.3.1: All HTTP/2 requests MUST include exactly one valid value for the "
              ":method, :scheme, and :path pseudo-header fields, unless they are CONNECT "
              "requests ... [:path] MUST NOT be empty for \"http\" or \"https\" URIs. " + MALFORMED)


def _without(c, name):
    return [f for f in c.req() if f[0] != name]


malformed("http2/8.1.2.3", "Sends a HEADERS frame with empty \":path\" pseudo-header field",
          REQ_PSEUDO, lambda c: [(k, "" if k == ":path" else v) for k, v in c.req()])
malformed("http2/8.1.2.3", "Sends a HEADERS frame that omits \":method\" pseudo-header field",
          REQ_PSEUDO, lambda c: _without(c, ":method"))
malformed("http2/8.1.2.3", "Sends a HEADERS frame that omits \":scheme\" pseudo-header field",
          REQ_PSEUDO, lambda c: _without(c, ":scheme"))
malformed("http2/8.1.2.3", "Sends a HEADERS frame that omits \":path\" pseudo-header field",
          REQ_PSEUDO, lambda c: _without(c, ":path"))
malformed("http2/8.1.2.3", "Sends a HEADERS frame with duplicated \":method\" pseudo-header "
          "field", REQ_PSEUDO, lambda c: c.req() + [(":method", "GET")])
malformed("http2/8.1.2.3", "Sends a HEADERS frame with duplicated \":scheme\" pseudo-header "
          "field", REQ_PSEUDO, lambda c: c.req() + [(":scheme", c.scheme())])
malformed("http2/8.1.2.3", "Sends a HEADERS frame with duplicated \":path\" pseudo-header field",
          REQ_PSEUDO, lambda c: c.req() + [(":path", c.path)])
CONTENT_LENGTH = ("RFC 9113 8.1.1: A request or response is also malformed if the value of a "
                  "content-length header field does not equal the sum of the DATA frame payload "
                  "lengths that form the content. " + MALFORMED)


@case("http2/8.1.2.6", "Sends a HEADERS frame with the \"content-length\" header field which does "
      "not equal the DATA frame payload length", CONTENT_LENGTH)
def _(c):
    c.headers(1, c.blk(c.req("POST", [("content-length", "1")])), es=False)
    c.data(1, b"test")
    return verify_stream_error(c, 1, PROTOCOL_ERROR)


@case("http2/8.1.2.6", "Sends a HEADERS frame with the \"content-length\" header field which does "
      "not equal the sum of the multiple DATA frames payload length", CONTENT_LENGTH)
def _(c):
    c.headers(1, c.blk(c.req("POST", [("content-length", "1")])), es=False)
    c.data(1, b"test", es=False)
    c.data(1, b"test")
    return verify_stream_error(c, 1, PROTOCOL_ERROR)


@case("http2/8.2", "Sends a PUSH_PROMISE frame",
      "RFC 9113 8.4: A client cannot push. Thus, servers MUST treat the receipt of a "
      "PUSH_PROMISE frame as a connection error of type PROTOCOL_ERROR.")
def _(c):
    c.send(hf.PushPromiseFrame(1, promised_stream_id=3, data=c.blk(),
                               flags=["END_HEADERS"]).serialize())
    return verify_conn_error(c, PROTOCOL_ERROR)


# ---- hpack (h2spec "hpack", RFC 7541)

def _hpack_error(section, desc, rfc, blk_fn):
    def fn(c):
        c.headers(1, blk_fn(c))
        return verify_conn_error(c, COMPRESSION_ERROR)
    CASES.append(Case(section, desc, "RFC 9113 4.3: A decoding error in a field block MUST be "
                      "treated as a connection error of type COMPRESSION_ERROR. " + rfc, fn,
                      fwd_ok=False))


_hpack_error("hpack/2.3.3", "Sends a header field representation with invalid index",
             "RFC 7541 2.3.3: Indices strictly greater than the sum of the lengths of both "
             "tables MUST be treated as a decoding error.",
             lambda c: c.blk() + b"\xfe")      # index 126, the dynamic table is empty
_hpack_error("hpack/4.2", "Sends a dynamic table size update at the end of header block",
             "RFC 7541 4.2: This dynamic table size update MUST occur at the beginning of the "
             "first field block following the change to the dynamic table size.",
             lambda c: c.blk() + b"\x21")
_hpack_error("hpack/5.2", "Sends a Huffman-encoded string literal representation with padding "
             "longer than 7 bits",
             "RFC 7541 5.2: A padding strictly longer than 7 bits MUST be treated as a decoding "
             "error.", lambda c: c.blk() + b"\x00\x85\xf2\xb2\x4a\x84\xff\x84\x49\x50\x9f\xff")
_hpack_error("hpack/5.2", "Sends a Huffman-encoded string literal representation padded by zero",
             "RFC 7541 5.2: A padding not corresponding to the most significant bits of the code "
             "for the EOS symbol MUST be treated as a decoding error.",
             lambda c: c.blk() + b"\x00\x85\xf2\xb2\x4a\x84\xff\x83\x49\x50\x90")
_hpack_error("hpack/5.2", "Sends a Huffman-encoded string literal representation containing the "
             "EOS symbol",
             "RFC 7541 5.2: A Huffman-encoded string literal containing the EOS symbol MUST be "
             "treated as a decoding error.",
             lambda c: c.blk() + b"\x00\x85\xf2\xb2\x4a\x87\xff\xff\xff\xfd\x25\x42\x7f")
_hpack_error("hpack/6.1", "Sends a indexed header field representation with index 0",
             "RFC 7541 6.1: The index value of 0 is not used. It MUST be treated as a decoding "
             "error if found in an indexed header field representation.",
             lambda c: c.blk() + b"\x80")
_hpack_error("hpack/6.3", "Sends a dynamic table size update larger than the value of "
             "SETTINGS_HEADER_TABLE_SIZE",
             "RFC 7541 6.3: The new maximum size MUST be lower than or equal to the limit "
             "determined by the protocol using HPACK. A value that exceeds this limit MUST be "
             "treated as a decoding error.",
             lambda c: hint(c.peer.get(S_HEADER_TABLE_SIZE, 4096) + 1, 5, 0x20) + c.blk())


# ---- RFC 9113 / RFC 7541 rules h2spec does not test

@case("rfc9113/3.4", "Sends a PING instead of SETTINGS right after the preface",
      "RFC 9113 3.4: That is, the connection preface starts with the string PRI * HTTP/2.0 ... "
      "This sequence MUST be followed by a SETTINGS frame ... Clients and servers MUST treat an "
      "invalid connection preface as a connection error of type PROTOCOL_ERROR.",
      handshake=False)
def _(c):
    c.logging = True
    c.send(PREFACE + hf.PingFrame(0, opaque_data=PING_DATA).serialize())
    return verify_conn_error(c, PROTOCOL_ERROR)


for _what, _name in (("a space", "x test"), ("a colon", "x:test"), ("a control character", "x\x01"),
                     ("DEL", "x\x7f"), ("a non-ASCII octet", "x\xe9")):
    malformed("rfc9113/8.2.1", f"Sends a field name containing {_what}", FIELD_RULES,
              lambda c, n=_name: c.req(extra=[(n, "ok")]), allow_400=True)
for _what, _value in (("NUL", "a\x00b"), ("LF", "a\nb"), ("CR", "a\rb"),
                      ("a leading space", " ab"), ("a trailing HTAB", "ab\t")):
    malformed("rfc9113/8.2.1", f"Sends a field value containing {_what}", FIELD_RULES,
              lambda c, v=_value: c.req(extra=[("x-test", v)]), allow_400=True)
for _name, _value in (("keep-alive", "timeout=5"), ("proxy-connection", "keep-alive"),
                      ("transfer-encoding", "chunked"), ("upgrade", "h2c")):
    malformed("rfc9113/8.2.2", f"Sends a HEADERS frame that contains {_name}", CONN_SPECIFIC,
              lambda c, n=_name, v=_value: c.req(extra=[(n, v)]))


@case("rfc9113/8.2.2", "Sends a HEADERS frame that contains TE: trailers", TE_RULE)
def _(c):
    c.headers(1, c.blk(c.req(extra=[("te", "trailers")])))
    return verify_response(c, 1)


malformed("rfc9113/8.3.1", "Sends a \":path\" that is not an absolute path",
          "RFC 9113 8.3.1: :path ... includes the path and query parts of the target URI (the "
          "absolute-path production ...). " + PSEUDO,
          lambda c: [(k, c.path[1:] if k == ":path" else v) for k, v in c.req()])
malformed("rfc9113/8.5", "Sends a CONNECT request with \":scheme\" and \":path\"",
          "RFC 9113 8.5: The :scheme and :path pseudo-header fields MUST be omitted. ... A "
          "CONNECT request that does not conform to these restrictions is malformed. " + MALFORMED,
          lambda c: [(":method", "CONNECT"), (":scheme", c.scheme()), (":path", c.path),
                     (":authority", HOST + ":443")])


@case("rfc9113/8.1.1", "Sends content-length 10 with 4 octets of DATA", CONTENT_LENGTH)
def _(c):
    c.headers(1, c.blk(c.req("POST", [("content-length", "10")])), es=False)
    c.data(1, b"test")
    return verify_stream_error(c, 1, PROTOCOL_ERROR)


malformed("rfc9113/8.1.1", "Sends content-length 4 on a HEADERS frame with END_STREAM",
          CONTENT_LENGTH, lambda c: c.req("POST", [("content-length", "4")]))
malformed("rfc9113/8.1.1", "Sends a content-length that is not a number",
          "RFC 9110 8.6: Content-Length = 1*DIGIT. " + CONTENT_LENGTH,
          lambda c: c.req("POST", [("content-length", "four")]), allow_400=True)


def _hpack_error_x(section, desc, rfc, raw):
    _hpack_error(section, desc, rfc, lambda c: c.blk() + raw)


_hpack_error_x("rfc7541/2.3.3", "Sends an index into the (empty) dynamic table",
               "RFC 7541 2.3.3: Indices strictly greater than the sum of the lengths of both "
               "tables MUST be treated as a decoding error.", b"\xbe")
_hpack_error_x("rfc7541/5.1", "Sends an integer encoding longer than any implementation limit",
               "RFC 7541 5.1: Integer encodings that exceed implementation limits -- in value "
               "or octet length -- MUST be treated as decoding errors.",
               b"\xff" + b"\xff" * 10 + b"\x7f")
_hpack_error_x("rfc7541/5.2", "Sends a string literal longer than the rest of the field block",
               "RFC 7541 5.2: String Length: The number of octets used to encode the string "
               "literal (here beyond the end of the block: a decoding error).",
               b"\x00\x06x-te")


@case("rfc7541/4.2", "Lowers SETTINGS_HEADER_TABLE_SIZE to 0: the server's next field block "
      "starts with a dynamic table size update",
      "RFC 7541 4.2: This dynamic table size update MUST occur at the beginning of the first "
      "field block following the change to the dynamic table size. In HTTP/2, this follows a "
      "settings acknowledgment.")
def _(c):
    c.settings([(S_HEADER_TABLE_SIZE, 0)])
    r = verify_settings_ack(c)
    if not r.ok:
        return r
    c.headers(1, c.blk())
    r = verify_response(c, 1)
    first = next((e for e in c.events if e.type == HEADERS and e.sid == 1 and e.block is not None),
                 None)
    want = "the response's field block starts with 0x20 (size update to 0)"
    if not r.ok or first is None:
        return R(False, r.observed, want)
    return R(first.block[:1] == b"\x20", f"block starts with 0x{first.block[:1].hex()}", want)


# ---------------------------------------------------------------- running

def make_pki(d):
    def sh(*argv):
        subprocess.run(list(argv), capture_output=True, timeout=60, check=True)
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"), "-days", "3", "-subj",
       "/O=meshgate h2 conformance CA", "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    (d / "srv.ext").write_text("basicConstraints=critical,CA:FALSE\n"
                               "keyUsage=critical,digitalSignature\n"
                               f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{HOST}\n")
    sh("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", str(d / "srv.key"), "-out", str(d / "srv.csr"), "-subj", f"/CN={HOST}")
    sh("openssl", "x509", "-req", "-in", str(d / "srv.csr"), "-CA", str(d / "ca.pem"),
       "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "2", "-out", str(d / "srv.pem"),
       "-extfile", str(d / "srv.ext"))


def start_meshgate(up, pki):
    m = mg.Mesh(yaml=[mg.service_entry("h2spec", HOST, [up.endpoint])], workers=1,
                name="h2conf", listeners={
                    "outbound_http": {"protocol": "http", "role": "outbound"},
                    "tls": {"protocol": "http", "tls": "simple", "tls_cert": f"{pki}/srv.pem",
                            "tls_key": f"{pki}/srv.key"}}).start()
    return m, m.listeners["outbound_http"]["port"], m.listeners["tls"]["port"]


def start_nghttpx(up, pki):
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
    proc = mg.Proc("nghttpx", argv, stdout=subprocess.DEVNULL, stderr=open(d / "stderr", "wb"))
    if not mg.wait_for(lambda: mg.port_open(plain) and mg.port_open(tls), 10):
        raise RuntimeError(f"nghttpx did not start: {mg.tail(d / 'stderr')}")
    return proc, plain, tls


def run_one(n, cs, mode, port, ctx):
    path = f"/h2spec/{mode}/{n}"
    c = None
    try:
        c = Conn(port, ctx, mode, path)
        if ctx is not None and c.alpn != "h2":
            r = R(False, f"ALPN selected {c.alpn!r}", "ALPN h2")
        else:
            if cs.handshake:
                c.handshake()
            r = cs.fn(c)
    except Exception as e:
        r = R(False, f"test error: {e!r}", "")
        r.trace = traceback.format_exc()
    r.path = path
    r.sent = c.sent if c else []
    r.got = [str(e) for e in c.events[-12:]] if c else []
    r.violations = c.violations if c else []
    if c:
        c.close()
    return r


def main():
    ref = os.environ.get("MESHGATE_H2_REFERENCE")
    if not ref:
        mg.binary()
    if hpack is None:
        mg.skip("python3-hpack / python3-hyperframe are not installed")
    mg.need("openssl")
    only = os.environ.get("MESHGATE_H2_CASES")
    pki = mg.tmpdir("pki")
    make_pki(pki)
    up = mg.Upstream(UPSTREAM)
    m = None
    if ref:
        _, plain, tls = start_nghttpx(up, pki)
        mg.note("reference run: nghttpx in front of the upstream fixture, not meshgate")
    else:
        m, plain, tls = start_meshgate(up, pki)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(pki / "ca.pem"))
    ctx.set_alpn_protocols(["h2"])
    cases = [(n, cs) for n, cs in enumerate(CASES)
             if not only or only in f"{cs.section} {cs.desc}"]
    modes = (("plain", plain, None), ("tls", tls, ctx))
    t0 = time.monotonic()
    results = {}
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        futs = {pool.submit(run_one, n, cs, mode, port, cx): (mode, n)
                for mode, port, cx in modes for n, cs in cases}
        for f in concurrent.futures.as_completed(futs):
            results[futs[f]] = f.result()
    secs = time.monotonic() - t0
    # 8.1.1: a malformed request never reaches the upstream
    paths = up.stats()["paths"]
    for (mode, n), r in results.items():
        seen = paths.get(r.path, 0) + paths.get(r.path[1:], 0)
        if not CASES[n].fwd_ok and seen:
            r.ok = False
            r.observed += f"; forwarded to the upstream ({seen}x)"
    failures = []
    counts = {}
    for mode, _, _ in modes:
        for n, cs in cases:
            r = results[(mode, n)]
            label = f"[{mode}] {cs.section} {cs.desc}"
            mg.check(r.ok, f"{label} -> {r.observed}", "" if r.ok else f"want {r.want}")
            sec = counts.setdefault(cs.section, [0, 0, 0])
            sec[0] += 1
            sec[1 if r.ok else 2] += 1
            if not r.ok:
                failures.append((label, cs, r))
    mg.note(f"{len(cases)} cases x {len(modes)} listeners in {secs:.1f} s")
    mg.note("cases per section (each run on both listeners): " +
            ", ".join(f"{s} {v[0] // len(modes)}" for s, v in counts.items()))
    if failures:
        mg.note(f"{len(failures)} FAILED CASES (frames sent after the handshake, then what the "
                "server did):")
        for label, cs, r in failures:
            mg.note(f"FAILED {label}")
            mg.note(f"    rfc:  {cs.rfc}")
            mg.note(f"    sent: {'; '.join(r.sent) or '(handshake only)'}")
            mg.note(f"    want: {r.want}")
            mg.note(f"    got:  {r.observed}; events: {'; '.join(r.got[-8:])}")
            if getattr(r, "trace", None):
                mg.note("    " + r.trace.replace("\n", "\n#     "))
    viol = [(mode, n, v) for (mode, n), r in results.items() for v in r.violations]
    mg.check(not viol, "the server's own frames all parse and decode", viol[:3])
    if m is not None:
        mg.check(m.proc.alive(), "meshgate is still running")


if __name__ == "__main__":
    mg.run(main)
