// SPDX-License-Identifier: Apache-2.0
// h1.h: strict RFC 9112 HTTP/1.1 message-head parser and chunked codec.
// Zero-copy: every string points into the caller's buffer, which must stay
// put while the parsed message is used. Parsers never allocate.
#ifndef MG_PROTO_H1_H
#define MG_PROTO_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	H1_MAX_HEADERS = 100,		// more fields: 431
	H1_MAX_HEAD_BYTES = 60 * 1024,	// a longer head: 431 (request), 502 (response)
	H1_MAX_TARGET = 8 * 1024,	// a longer request-target: 414
	H1_MAX_LEADING_CRLF = 8,	// empty lines tolerated before a request line
	H1_MAX_FIELD_LINE = 8 * 1024,	// a longer request field line: 431
	H1_MAX_CONNECTION = 8,		// more Connection fields: 400 / -EBADMSG
	H1_MAX_CHUNK_LINE = 4 * 1024,	// a longer chunk-size line (with extensions): -EBADMSG
	H1_MAX_TRAILER_BYTES = 8 * 1024, // a longer trailer section: -EBADMSG
};

struct h1_str {
	const char *p;
	uint32_t len;
};

struct h1_header {
	struct h1_str name;	// as sent (case preserved)
	struct h1_str value;	// OWS trimmed on both sides
};

enum h1_framing {
	H1_BODY_NONE = 0,	// no body (no CL/TE on a request; 1xx/204/304/HEAD responses)
	H1_BODY_LENGTH,		// content_length bytes (may be 0)
	H1_BODY_CHUNKED,	// chunked, final coding
	H1_BODY_EOF,		// response delimited by connection close
};

// Flags on a parsed message.
enum {
	H1F_CONN_CLOSE = 1u << 0,	// Connection: close (or HTTP/1.0 without keep-alive)
	H1F_CONN_KEEPALIVE = 1u << 1,	// Connection: keep-alive token present
	H1F_CONN_UPGRADE = 1u << 2,	// Connection lists "upgrade"
	H1F_UPGRADE = 1u << 3,		// an Upgrade header is present (see .upgrade)
	H1F_EXPECT_CONTINUE = 1u << 4,	// Expect: 100-continue (case-insensitive)
	H1F_ABSOLUTE_FORM = 1u << 5,	// request-target was absolute-form
	H1F_TE_TRAILERS = 1u << 6,	// TE: trailers
	H1F_CONTENT_LENGTH = 1u << 7,	// a Content-Length header was present
	H1F_CHUNKED = 1u << 8,		// Transfer-Encoding with chunked final
	H1F_HOST = 1u << 9,		// a Host header was present
};

// h1_msg is a parsed request or response head.
struct h1_msg {
	// request line (requests only)
	struct h1_str method;		// uppercase token
	struct h1_str target;		// as sent
	// origin-form: the target (path+query); absolute-form: the part from
	// the first '/' after the authority, or a static "/" when there is none
	// (the only pointer not into the caller's buffer); asterisk-form: "*";
	// authority-form (CONNECT): empty.
	struct h1_str path;
	// absolute-form: the URI's authority; authority-form (CONNECT): the
	// target; else the Host value (empty on HTTP/1.0 without Host).
	struct h1_str authority;
	// status line (responses only)
	int status;			// 100..599
	struct h1_str reason;
	// both
	int minor;			// 0 or 1 (HTTP/1.0, HTTP/1.1)
	unsigned flags;			// H1F_*
	enum h1_framing framing;
	uint64_t content_length;	// valid when framing == H1_BODY_LENGTH (also set with H1F_CONTENT_LENGTH)
	struct h1_str upgrade;		// Upgrade header value (empty if none)
	unsigned num_headers;
	struct h1_header headers[H1_MAX_HEADERS];
	// indexes into headers[] of the Connection header fields (their tokens
	// name further hop-by-hop headers). A message with more than
	// H1_MAX_CONNECTION of them is rejected, so none goes unrecorded.
	uint8_t num_connection;
	uint8_t connection_idx[8];
	uint32_t head_len;		// bytes of the head, CRLF CRLF included
};

// Parser options.
enum {
	H1_OPT_ALLOW_UNDERSCORE = 1u << 0,	// accept '_' in field names (default: 400)
};

// h1_head_end looks for the end of a message head (CRLF CRLF) in buf[0..len).
// *scanned is where the previous call stopped (start with 0), so feeding a
// head one byte at a time costs O(n) overall. Leading empty lines (CRLF, up to
// H1_MAX_LEADING_CRLF) are allowed and are part of the head. It returns the
// head length (> 0), -EAGAIN when the head is incomplete, or -EBADMSG on a
// bare LF or bare CR (anywhere in the head), or too many leading CRLFs.
// It does not enforce size limits; callers check len against
// H1_MAX_HEAD_BYTES (and, while no LF was seen yet, against H1_MAX_TARGET + 64
// to answer 414 for an over-long request line). On success *scanned is the
// head length; reset it to 0 for the next message, and shift it along if the
// bytes move in the buffer. It does not look at other bytes (NUL etc.): the
// parsers do.
ssize_t h1_head_end(const char *buf, size_t len, size_t *scanned);

// h1_parse_request parses a complete request head buf[0..head_len) (as
// returned by h1_head_end) into *msg. It returns head_len, or -EBADMSG with
// *out_status set to the answer: 400 malformed (all smuggling shapes in
// hardening.md §2.1), 414 target too long, 431 too many/too large fields,
// 501 unknown transfer coding, 505 unsupported HTTP version (HTTP/2.0 etc.).
// Requests are checked as RFC 9112 and the hardening reference say; in
// particular: method is an uppercase token; target has no CTL, SP, '#' or
// non-ASCII bytes; origin-form starts with '/', absolute-form is http:// or
// https://, asterisk-form only with OPTIONS, authority-form only with CONNECT;
// version is exactly HTTP/1.0 or HTTP/1.1; no whitespace before ':'; no
// obs-fold; no NUL/CTL in values except HTAB; field names are tokens;
// HTTP/1.1 needs exactly one Host (valid reg-name/IPv4/[IPv6] with optional
// port, no userinfo, no comma); Content-Length is 1-19 digits without sign
// or leading zero (except "0"), appears at most once and has no list form;
// Transfer-Encoding (all fields joined) is exactly one "chunked" (case-
// insensitive, no parameters, no extra whitespace); any other token list is
// 501 if all tokens are well formed codings other than chunked-final forms,
// else 400; TE together with CL is 400; TE on HTTP/1.0 is 400.
//
// Precisely, beyond the above:
// - buf[0..head_len) must end with its first empty line (CRLF CRLF), else
//   400; a head over H1_MAX_HEAD_BYTES or a field line (CRLF included) over
//   H1_MAX_FIELD_LINE is 431, more than H1_MAX_HEADERS fields is 431.
// - "no extra whitespace" on the framing fields (Content-Length,
//   Transfer-Encoding): at most one SP between ':' and the value and nothing
//   after it, so "\tchunked", "chunked\t" and " 5 " are 400.
// - Host and absolute-form authorities: a non-empty reg-name (unreserved,
//   pct-encoded, sub-delims but ',') or a bracketed IPv6 address (no zone
//   id, no IPvFuture), then optionally ':' and 1-5 digits <= 65535. An empty
//   Host is 400 too. Host is checked even with an absolute-form target,
//   whose authority is then the one in msg->authority.
// - absolute-form "http://a?q" (query without path) is 400, so that path
//   always starts with '/'; CONNECT needs authority-form with a port, and
//   msg->authority is then the target.
// - Connection must be a list of tokens (empty elements are skipped), and
//   at most H1_MAX_CONNECTION Connection fields: else 400. Two Upgrade
//   fields are 400.
// - TE: trailers sets H1F_TE_TRAILERS; TE's syntax is otherwise not
//   checked (it is hop-by-hop). Expect other than 100-continue, and
//   100-continue on HTTP/1.0 (RFC 9110 §10.1.1), is ignored.
int h1_parse_request(struct h1_msg *msg, const char *buf, size_t head_len,
		     unsigned opts, int *out_status);

// h1_parse_response parses a complete response head. req_method is the
// method of the request it answers (HEAD and CONNECT change the framing).
// It returns head_len or -EBADMSG (the proxy answers 502): TE with CL,
// differing or list Content-Length, TE on HTTP/1.0, malformed fields, more
// than H1_MAX_HEADERS fields, bad status line (3 digits, 100..599, version
// HTTP/1.0 or HTTP/1.1). Framing: 1xx/204/304 and HEAD: NONE (a 204 with
// CL != 0 or TE is -EBADMSG); chunked final: CHUNKED; TE without chunked
// final: EOF; CL: LENGTH; neither: EOF.
//
// Precisely: repeated Content-Length fields with the same value are
// accepted (RFC 9110 §8.6), differing ones are not; a 1xx with TE is
// -EBADMSG (RFC 9112 §6.1); a 2xx to CONNECT is NONE (a tunnel follows);
// "chunked" twice, or with parameters, or a TE value with odd whitespace
// (as for requests) is -EBADMSG; the reason phrase may be empty or absent
// ("HTTP/1.1 200\r\n") but has no CTL other than HTAB; field names may
// hold '_'. H1F_CONN_CLOSE is also set when framing is EOF, since such a
// connection cannot be reused. Leading empty lines are skipped as for
// requests.
int h1_parse_response(struct h1_msg *msg, const char *buf, size_t head_len,
		      struct h1_str req_method);

// h1_find_header returns the index of the first field named `name`
// (case-insensitive), or -1.
int h1_find_header(const struct h1_msg *msg, const char *name, size_t name_len);

// h1_is_hop_by_hop tells whether a field is hop-by-hop for a proxy: the
// fixed set (connection, keep-alive, proxy-connection, transfer-encoding, te,
// upgrade, http2-settings; not trailer, which is end-to-end) or a token
// listed in a Connection field of msg (comma separated, OWS, any case).
// msg may be NULL for the fixed set only. Note that a client can name any
// field in Connection, so the proxy must strip before it adds its own
// fields (Host, X-Forwarded-*, identity headers), never after.
bool h1_is_hop_by_hop(const struct h1_msg *msg, struct h1_str name);

// h1_str_ieq compares a parsed string with a C string, ASCII case-insensitive.
bool h1_str_ieq(struct h1_str s, const char *lit);

// Chunked transfer coding decoder. Incremental across calls; validates chunk
// sizes (1-16 hex digits, no sign/space/prefix, no overflow), extensions
// (`;` token [ `=` token / quoted-string ], BWS not allowed, no CTL/bare
// CR/LF/NUL), the CRLF after each chunk's data, and the trailer section
// (field lines as in heads; at most 8 KiB in total; fields
// Content-Length, Transfer-Encoding, Host, Authorization, TE, Trailer,
// Connection, Keep-Alive, Upgrade, Proxy-* are dropped, never reported).
// A size line with its extensions is at most H1_MAX_CHUNK_LINE bytes, the
// trailer section at most H1_MAX_TRAILER_BYTES. Extensions are validated
// and dropped. Trailer names holding '_' are dropped too (they are 400 in
// heads by default), and so are HTTP2-Settings and Proxy-Connection.
struct h1_chunked {
	int state;
	uint64_t remaining;	// data bytes left in the current chunk
	uint32_t line_len;	// bytes seen on the current size/trailer line
	uint32_t trailer_bytes;
	uint8_t ndigits;
	// a partial trailer line is kept here until its CRLF arrives
	char tline[512];
	uint32_t tline_len;
};

// h1_chunked_out receives the decoded body: data() gets each run of body
// bytes (len > 0) as it is decoded, pointing into the fed input; trailer()
// gets each reported trailer field, name and OWS-trimmed value pointing
// into the decoder's own buffer, valid only during the call. Either
// callback, or the whole struct, may be NULL to discard. Data already
// passed on stays passed on if a later byte is malformed: a caller that
// streams must then reset both connections.
struct h1_chunked_out {
	void (*data)(void *arg, const char *p, size_t len);
	void (*trailer)(void *arg, const char *name, size_t name_len,
			const char *value, size_t value_len);
	void *arg;
};

// h1_chunked_init readies c for a new body (a zeroed struct is ready too).
void h1_chunked_init(struct h1_chunked *c);

// h1_chunked_feed decodes in[0..len). It returns the number of bytes
// consumed (< len only when the body ended inside the input: the rest is
// the next message), with *out_done set to 1 once the last chunk and the
// trailer section are complete; or -EBADMSG on malformed input. A trailer
// line longer than the tline buffer is -EBADMSG. Any split of the input
// across calls gives the same result. After done it consumes nothing (0,
// *out_done = 1); after -EBADMSG it keeps returning -EBADMSG.
ssize_t h1_chunked_feed(struct h1_chunked *c, const char *in, size_t len,
			const struct h1_chunked_out *out, int *out_done);

// h1_chunk_size_line writes "<hex>\r\n" (lowercase, no leading zeros) for a
// chunk of len bytes into out (at least 20 bytes), NUL-terminates it and
// returns its length without the NUL (at most 18).
size_t h1_chunk_size_line(char *out, uint64_t len);

// h1_status_reason returns the standard reason phrase for an HTTP status,
// or "Unknown".
const char *h1_status_reason(int status);

#endif
