// SPDX-License-Identifier: Apache-2.0
// h1_test: table-driven tests of the HTTP/1.1 parser and chunked codec, with
// every smuggling shape of hardening.md §2.1 as a must-fail row.
#include "proto/h1.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Rows name only the fields they check; the rest are zero on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static int failures, checks;

#define CHECK(c, ...)							\
	do {								\
		checks++;						\
		if (!(c)) {						\
			failures++;					\
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #c); \
			printf(__VA_ARGS__);				\
			printf("\n");					\
		}							\
	} while (0)

// B expands a string literal to "pointer, length" so rows may hold NULs.
#define B(s) s, sizeof(s) - 1

// dup copies a test input into a heap block of exactly its size, so that
// ASan reports any read past the end.
static char *dup(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p)
		abort();
	memcpy(p, s, len);
	return p;
}

static bool str_is(struct h1_str s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

// esc renders bytes for failure messages.
static const char *esc(const char *s, size_t len)
{
	static char out[512];
	size_t o = 0;

	for (size_t i = 0; i < len && o < sizeof(out) - 8; i++) {
		unsigned char c = s[i];

		if (c == '\r')
			o += sprintf(out + o, "\\r");
		else if (c == '\n')
			o += sprintf(out + o, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			o += sprintf(out + o, "\\x%02x", c);
		else
			out[o++] = c;
	}
	out[o] = 0;
	return out;
}

static struct h1_msg msg;	// 3 KiB: keep it off the stack

// ---------------------------------------------------------------------------
// Requests

struct rq {
	const char *id;
	const char *in;
	size_t len;
	int status;		// 0: must parse; else the answer it must get
	unsigned opts;
	enum h1_framing framing;
	uint64_t cl;
	unsigned flags;		// must be set
	unsigned noflags;	// must be clear
	const char *method, *path, *authority, *upgrade;
	int minor;		// 0 or 1; -1 unchecked
};

#define G11 "GET / HTTP/1.1\r\nHost: a\r\n"
#define P11 "POST / HTTP/1.1\r\nHost: a\r\n"
#define END "\r\n"

static const struct rq req_rows[] = {
	// valid
	{ "get", B(G11 END), 0, .framing = H1_BODY_NONE, .method = "GET",
	  .path = "/", .authority = "a", .minor = 1, .flags = H1F_HOST,
	  .noflags = H1F_CONN_CLOSE | H1F_CONTENT_LENGTH | H1F_CHUNKED | H1F_ABSOLUTE_FORM },
	{ "post-cl", B("POST /submit?x=1&y=%20 HTTP/1.1\r\nHost: example.com:8080\r\n"
		       "Content-Length: 5\r\n\r\n"), 0, .framing = H1_BODY_LENGTH, .cl = 5,
	  .flags = H1F_CONTENT_LENGTH, .path = "/submit?x=1&y=%20",
	  .authority = "example.com:8080", .minor = 1 },
	{ "post-cl0", B(P11 "Content-Length: 0\r\n\r\n"), 0, .framing = H1_BODY_LENGTH, .cl = 0 },
	{ "cl-no-space", B(P11 "Content-Length:7\r\n\r\n"), 0, .framing = H1_BODY_LENGTH, .cl = 7 },
	{ "cl-19-digits", B(P11 "Content-Length: 9999999999999999999\r\n\r\n"), 0,
	  .framing = H1_BODY_LENGTH, .cl = 9999999999999999999ull },
	{ "get-with-cl", B(G11 "Content-Length: 5\r\n\r\n"), 0, .framing = H1_BODY_LENGTH, .cl = 5 },
	{ "chunked", B(P11 "Transfer-Encoding: chunked\r\n\r\n"), 0, .framing = H1_BODY_CHUNKED,
	  .flags = H1F_CHUNKED, .noflags = H1F_CONTENT_LENGTH },
	{ "chunked-upper", B(P11 "TRANSFER-ENCODING: CHUNKED\r\n\r\n"), 0,
	  .framing = H1_BODY_CHUNKED, .flags = H1F_CHUNKED },
	{ "chunked-mixed", B(P11 "transfer-encoding:Chunked\r\n\r\n"), 0,
	  .framing = H1_BODY_CHUNKED, .flags = H1F_CHUNKED },
	{ "absolute-form", B("GET http://b.example/x?y HTTP/1.1\r\nHost: a\r\n\r\n"), 0,
	  .flags = H1F_ABSOLUTE_FORM | H1F_HOST, .path = "/x?y", .authority = "b.example" },
	{ "absolute-no-path", B("GET https://b:443 HTTP/1.1\r\nHost: b\r\n\r\n"), 0,
	  .flags = H1F_ABSOLUTE_FORM, .path = "/", .authority = "b:443" },
	{ "absolute-upper-scheme", B("GET HTTP://B/ HTTP/1.1\r\nHost: b\r\n\r\n"), 0,
	  .flags = H1F_ABSOLUTE_FORM, .path = "/", .authority = "B" },
	{ "absolute-ipv6", B("GET http://[::1]:8080/p HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0,
	  .path = "/p", .authority = "[::1]:8080" },
	{ "absolute-1.0-no-host", B("GET http://b/ HTTP/1.0\r\n\r\n"), 0, .authority = "b",
	  .minor = 0, .flags = H1F_CONN_CLOSE },
	{ "options-star", B("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0, .path = "*",
	  .method = "OPTIONS" },
	{ "options-origin", B("OPTIONS /x HTTP/1.1\r\nHost: a\r\n\r\n"), 0, .path = "/x" },
	{ "connect", B("CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n"), 0,
	  .authority = "a.example:443", .path = "", .method = "CONNECT" },
	{ "http10", B("GET / HTTP/1.0\r\n\r\n"), 0, .minor = 0, .authority = "",
	  .flags = H1F_CONN_CLOSE, .noflags = H1F_HOST },
	{ "http10-keepalive", B("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 0,
	  .minor = 0, .flags = H1F_CONN_KEEPALIVE, .noflags = H1F_CONN_CLOSE },
	{ "http10-keepalive-case", B("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0,
	  .minor = 0, .flags = H1F_CONN_KEEPALIVE, .noflags = H1F_CONN_CLOSE },
	{ "http10-keepalive-close", B("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), 0,
	  .minor = 0, .flags = H1F_CONN_KEEPALIVE | H1F_CONN_CLOSE },
	{ "http10-other-token", B("GET / HTTP/1.0\r\nHost: a\r\nConnection: foo\r\n\r\n"), 0,
	  .minor = 0, .flags = H1F_CONN_CLOSE | H1F_HOST, .authority = "a" },
	{ "http11-close", B(G11 "Connection: close\r\n\r\n"), 0, .flags = H1F_CONN_CLOSE },
	{ "http11-CLOSE", B(G11 "Connection: CLOSE\r\n\r\n"), 0, .flags = H1F_CONN_CLOSE },
	{ "http11-default", B(G11 END), 0, .noflags = H1F_CONN_CLOSE | H1F_CONN_KEEPALIVE },
	{ "connection-list", B(G11 "Connection: foo ,  Keep-Alive\t, ,bar\r\n\r\n"), 0,
	  .flags = H1F_CONN_KEEPALIVE, .noflags = H1F_CONN_CLOSE },
	{ "expect", B(P11 "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n"), 0,
	  .flags = H1F_EXPECT_CONTINUE, .framing = H1_BODY_LENGTH, .cl = 5 },
	{ "expect-case", B(P11 "Expect: 100-Continue\r\nContent-Length: 5\r\n\r\n"), 0,
	  .flags = H1F_EXPECT_CONTINUE, .framing = H1_BODY_LENGTH, .cl = 5 },
	{ "expect-http10", B("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"), 0,
	  .noflags = H1F_EXPECT_CONTINUE, .framing = H1_BODY_LENGTH, .cl = 5 },
	{ "expect-other", B(P11 "Expect: foo\r\n\r\n"), 0, .noflags = H1F_EXPECT_CONTINUE },
	{ "websocket", B("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			 "Sec-WebSocket-Version: 13\r\n\r\n"), 0,
	  .flags = H1F_UPGRADE | H1F_CONN_UPGRADE, .upgrade = "websocket", .path = "/chat" },
	{ "h2c-upgrade-parses", B(G11 "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
				  "Connection: Upgrade, HTTP2-Settings\r\n\r\n"), 0,
	  .flags = H1F_UPGRADE | H1F_CONN_UPGRADE, .upgrade = "h2c" },
	{ "te-trailers", B(G11 "TE: trailers\r\n\r\n"), 0, .flags = H1F_TE_TRAILERS },
	{ "te-trailers-list", B(G11 "TE: deflate;q=0.5 , Trailers\r\n\r\n"), 0, .flags = H1F_TE_TRAILERS },
	{ "te-other", B(G11 "TE: gzip\r\n\r\n"), 0, .noflags = H1F_TE_TRAILERS },
	{ "te-trailers-first", B(G11 "TE: trailers ,gzip\r\n\r\n"), 0, .flags = H1F_TE_TRAILERS },
	{ "te-trailers-param", B(G11 "TE: trailers;q=1\r\n\r\n"), 0, .noflags = H1F_TE_TRAILERS },
	{ "te-trailersx", B(G11 "TE: trailersx, x trailers\r\n\r\n"), 0, .noflags = H1F_TE_TRAILERS },
	{ "leading-crlf", B("\r\n\r\n" G11 END), 0, .path = "/" },
	{ "leading-crlf-8", B("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n" G11 END), 0, .path = "/" },
	{ "ows-trim", B(G11 "X-A: \t b c \t\r\n\r\n"), 0 },
	{ "obs-text-value", B(G11 "X-A: caf\xc3\xa9\r\n\r\n"), 0 },
	{ "empty-value", B(G11 "X-Empty:\r\nX-Empty2: \r\n\r\n"), 0 },
	{ "underscore-allowed", B(G11 "X_A: b\r\n\r\n"), 0, H1_OPT_ALLOW_UNDERSCORE },
	{ "transfer_encoding-allowed-is-not-te", B(P11 "Transfer_Encoding: chunked\r\n\r\n"), 0,
	  H1_OPT_ALLOW_UNDERSCORE, .framing = H1_BODY_NONE, .noflags = H1F_CHUNKED },
	{ "method-dash", B("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },	// '*' only with OPTIONS
	{ "method-dash-origin", B("M-SEARCH / HTTP/1.1\r\nHost: a\r\n\r\n"), 0, .method = "M-SEARCH" },
	{ "method-token-chars", B("X!#$%&'*+.^_`|~1 / HTTP/1.1\r\nHost: a\r\n\r\n"), 0 },
	{ "target-odd-chars", B("GET /a|b{c}\"<>\\^`[]?q=%zz HTTP/1.1\r\nHost: a\r\n\r\n"), 0 },
	{ "host-ipv4", B("GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n"), 0, .authority = "127.0.0.1:80" },
	{ "host-ipv6", B("GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n"), 0, .authority = "[2001:db8::1]" },
	{ "host-ipv6-v4", B("GET / HTTP/1.1\r\nHost: [::ffff:1.2.3.4]:65535\r\n\r\n"), 0 },
	{ "host-pct", B("GET / HTTP/1.1\r\nHost: a%41b\r\n\r\n"), 0 },
	{ "host-subdelims", B("GET / HTTP/1.1\r\nHost: a-b_c~d!$&'()*+;=.e\r\n\r\n"), 0 },
	{ "host-ows", B("GET / HTTP/1.1\r\nHost:\t a.b \r\n\r\n"), 0, .authority = "a.b" },
	{ "host-port0", B("GET / HTTP/1.1\r\nHost: a:0\r\n\r\n"), 0 },
	{ "host-1.0-valid", B("GET / HTTP/1.0\r\nHost: a\r\n\r\n"), 0, .authority = "a",
	  .flags = H1F_HOST | H1F_CONN_CLOSE },
	{ "host-caps-name", B("GET / HTTP/1.1\r\nHOST: a\r\n\r\n"), 0, .authority = "a" },

	// §2.1 CL.TE / TE.CL
	{ "CL.TE", B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"), 400 },
	{ "TE.CL", B("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), 400 },
	{ "TE.CL-0", B(P11 "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n"), 400 },
	{ "TE-gzip+CL", B(P11 "Transfer-Encoding: gzip\r\nContent-Length: 0\r\n\r\n"), 400 },
	// §2.1 TE.TE obfuscation
	{ "TE-xchunked", B(P11 "Transfer-Encoding: xchunked\r\n\r\n"), 501 },
	{ "TE-chunked-identity", B(P11 "Transfer-Encoding: chunked, identity\r\n\r\n"), 400 },
	{ "TE-identity", B(P11 "Transfer-Encoding: identity\r\n\r\n"), 501 },
	{ "TE-comma-chunked", B(P11 "Transfer-Encoding: ,chunked\r\n\r\n"), 400 },
	{ "TE-chunked-comma", B(P11 "Transfer-Encoding: chunked,\r\n\r\n"), 400 },
	{ "TE-quoted", B(P11 "Transfer-Encoding: \"chunked\"\r\n\r\n"), 400 },
	{ "TE-chunk", B(P11 "Transfer-Encoding: chunk\r\n\r\n"), 501 },
	{ "TE-param", B(P11 "Transfer-Encoding: chunked;x=y\r\n\r\n"), 400 },
	{ "TE-param-ws", B(P11 "Transfer-Encoding: chunked ; x=y\r\n\r\n"), 400 },
	{ "TE-vtab", B(P11 "Transfer-Encoding: \x0b" "chunked\r\n\r\n"), 400 },
	{ "TE-sp-tab", B(P11 "Transfer-Encoding: \tchunked\r\n\r\n"), 400 },
	{ "TE-tab", B(P11 "Transfer-Encoding:\tchunked\r\n\r\n"), 400 },
	{ "TE-two-sp", B(P11 "Transfer-Encoding:  chunked\r\n\r\n"), 400 },
	{ "TE-trailing-tab", B(P11 "Transfer-Encoding: chunked\t\r\n\r\n"), 400 },
	{ "TE-trailing-sp", B(P11 "Transfer-Encoding: chunked \r\n\r\n"), 400 },
	{ "TE-bare-cr", B(P11 "Transfer-Encoding: chunked\r\r\n\r\n"), 400 },
	{ "TE-non-ascii", B(P11 "Transfer-Encoding: ch\x96nked\r\n\r\n"), 400 },
	{ "TE-space-before-colon", B(P11 "Transfer-Encoding : chunked\r\n\r\n"), 400 },
	{ "TE-leading-space-name", B(P11 " Transfer-Encoding: chunked\r\n\r\n"), 400 },
	{ "TE-leading-space-first", B("POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n\r\n"), 400 },
	{ "TE-underscore", B(P11 "Transfer_Encoding: chunked\r\n\r\n"), 400 },
	{ "TE-name-non-ascii", B(P11 "Transf\x82r-Encoding: chunked\r\n\r\n"), 400 },
	{ "TE-two-fields", B(P11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"), 400 },
	{ "TE-two-chunked", B(P11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"), 400 },
	{ "TE-gzip-then-chunked-fields", B(P11 "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"), 400 },
	{ "TE-bare-lf", B(P11 "X: X\nTransfer-Encoding: chunked\r\n\r\n"), 400 },
	{ "TE-empty", B(P11 "Transfer-Encoding:\r\n\r\n"), 400 },
	// §2.1 TE not final / doubled
	{ "TE-chunked-gzip", B(P11 "Transfer-Encoding: chunked, gzip\r\n\r\n"), 400 },
	{ "TE-chunked-chunked", B(P11 "Transfer-Encoding: chunked, chunked\r\n\r\n"), 400 },
	{ "TE-chunked-gzip-chunked", B(P11 "Transfer-Encoding: chunked, gzip, chunked\r\n\r\n"), 400 },
	{ "TE-gzip-chunked", B(P11 "Transfer-Encoding: gzip, chunked\r\n\r\n"), 400 },
	{ "TE-gzip", B(P11 "Transfer-Encoding: gzip\r\n\r\n"), 501 },
	{ "TE-gzip-deflate", B(P11 "Transfer-Encoding: gzip , deflate\r\n\r\n"), 501 },
	// §2.1 TE on HTTP/1.0
	{ "TE-http10", B("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400 },
	{ "TE-http10-gzip", B("POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n"), 400 },
	// §2.1 duplicate / list CL
	{ "CL-5-6", B(P11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400 },
	{ "CL-list-5-6", B(P11 "Content-Length: 5, 6\r\n\r\n"), 400 },
	{ "CL-list-5-5", B(P11 "Content-Length: 5, 5\r\n\r\n"), 400 },
	{ "CL-5-5", B(P11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"), 400 },
	// §2.1 bad CL syntax
	{ "CL-plus", B(P11 "Content-Length: +5\r\n\r\n"), 400 },
	{ "CL-minus", B(P11 "Content-Length: -1\r\n\r\n"), 400 },
	{ "CL-hex", B(P11 "Content-Length: 0x5\r\n\r\n"), 400 },
	{ "CL-leading-zero", B(P11 "Content-Length: 05\r\n\r\n"), 400 },
	{ "CL-00", B(P11 "Content-Length: 00\r\n\r\n"), 400 },
	{ "CL-underscore", B(P11 "Content-Length: 1_0\r\n\r\n"), 400 },
	{ "CL-padded", B(P11 "Content-Length:  5 \r\n\r\n"), 400 },
	{ "CL-trailing-sp", B(P11 "Content-Length: 5 \r\n\r\n"), 400 },
	{ "CL-tab", B(P11 "Content-Length:\t5\r\n\r\n"), 400 },
	{ "CL-5-sp-5", B(P11 "Content-Length: 5 5\r\n\r\n"), 400 },
	{ "CL-empty", B(P11 "Content-Length: \r\n\r\n"), 400 },
	{ "CL-empty-nosp", B(P11 "Content-Length:\r\n\r\n"), 400 },
	{ "CL-u64-overflow", B(P11 "Content-Length: 18446744073709551617\r\n\r\n"), 400 },
	{ "CL-u64-max", B(P11 "Content-Length: 18446744073709551615\r\n\r\n"), 400 },
	{ "CL-20-digits", B(P11 "Content-Length: 10000000000000000000\r\n\r\n"), 400 },
	{ "CL-minus-zero", B(P11 "Content-Length: -0\r\n\r\n"), 400 },
	{ "CL-space-before-colon", B(P11 "Content-Length : 34\r\n\r\n"), 400 },
	{ "CL-tab-before-colon", B(P11 "Content-Length\t: 34\r\n\r\n"), 400 },
	{ "CL-1.0", B("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n"), 0, .framing = H1_BODY_LENGTH, .cl = 3, .minor = 0 },
	// §2.1 obs-fold, bare CR/LF, NUL, names
	{ "obs-fold", B("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"), 400 },
	{ "obs-fold-tab", B("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n"), 400 },
	{ "obs-fold-te", B(P11 "Transfer-Encoding:\r\n chunked\r\n\r\n"), 400 },
	{ "bare-cr-value", B(G11 "X: a\rb\r\n\r\n"), 400 },
	{ "bare-cr-name", B(G11 "X\r: a\r\n\r\n"), 400 },
	{ "nul-value", B(G11 "X: v\x00" "alue\r\n\r\n"), 400 },
	{ "del-value", B(G11 "X: v\x7f" "alue\r\n\r\n"), 400 },
	{ "ctl-value", B(G11 "X: v\x01" "alue\r\n\r\n"), 400 },
	{ "esc-value", B(G11 "X: v\x1b[0m\r\n\r\n"), 400 },
	{ "nul-name", B(G11 "X\x00Y: a\r\n\r\n"), 400 },
	{ "del-name", B(G11 "X\x7fY: a\r\n\r\n"), 400 },
	{ "nbsp-name", B(G11 "X\xa0Y: a\r\n\r\n"), 400 },
	{ "sp-name", B(G11 "X Y: a\r\n\r\n"), 400 },
	{ "empty-name", B(G11 ": x\r\n\r\n"), 400 },
	{ "no-colon", B(G11 "X-A\r\n\r\n"), 400 },
	{ "underscore-name", B(G11 "X_Forwarded_For: 1.2.3.4\r\n\r\n"), 400 },
	{ "quote-name", B(G11 "X\"A: b\r\n\r\n"), 400 },
	{ "bare-lf-all", B("GET / HTTP/1.1\nHost: a\n\n"), 400 },
	{ "bare-lf-end", B("GET / HTTP/1.1\r\nHost: a\r\n\n\r\n\r\n"), 400 },
	{ "bare-lf-reqline", B("GET / HTTP/1.1\nHost: a\r\n\r\n"), 400 },
	// §2.1 request line
	{ "two-spaces", B("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "two-spaces-2", B("GET /  HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "tab-sep", B("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "leading-sp", B(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "trailing-sp", B("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400 },
	{ "http-1.10", B("GET / HTTP/1.10\r\nHost: a\r\n\r\n"), 400 },
	{ "http-1.1x", B("GET / HTTP/1.1x\r\nHost: a\r\n\r\n"), 400 },
	{ "http09", B("GET /\r\n\r\n"), 400 },
	{ "no-version", B("GET / \r\nHost: a\r\n\r\n"), 400 },
	{ "short-version", B("GET /aaaaaaa HT\r\n\r\n"), 400 },
	{ "nul-method", B("G\x00" "ET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "lower-method", B("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "mixed-method", B("Get / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "lower-http", B("GET / http/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "http2", B("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505 },
	{ "http12", B("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 505 },
	{ "http09-version", B("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 505 },
	{ "http3-short", B("GET / HTTP/3\r\nHost: a\r\n\r\n"), 400 },
	{ "pri", B("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505 },
	{ "only-crlf", B("\r\n\r\n"), 400 },
	{ "leading-crlf-9", B("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n" G11 END), 400 },
	{ "no-method", B(" / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	// request-target
	{ "target-fragment", B("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-non-ascii", B("GET /a\x80 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-ctl", B("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-nul", B("GET /a\x00 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-tab", B("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-space", B("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-relative", B("GET a HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-star-get", B("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-star2", B("OPTIONS ** HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-ftp", B("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-http-1slash", B("GET http:/a HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-userinfo", B("GET http://a@b/ HTTP/1.1\r\nHost: b\r\n\r\n"), 400 },
	{ "target-empty-authority", B("GET http:/// HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-query-no-path", B("GET http://a?x HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "target-bad-port", B("GET http://a:x/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "connect-origin", B("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "connect-no-port", B("CONNECT a HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "connect-absolute", B("CONNECT http://a:80/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "authority-form-get", B("GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	// Host
	{ "host-missing", B("GET / HTTP/1.1\r\nX: a\r\n\r\n"), 400 },
	{ "host-missing-absolute", B("GET http://b/ HTTP/1.1\r\n\r\n"), 400 },
	{ "host-two", B("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400 },
	{ "host-two-1.0", B("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400 },
	{ "host-list", B("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n"), 400 },
	{ "host-userinfo", B("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n"), 400 },
	{ "host-userinfo-absolute", B("GET http://b/ HTTP/1.1\r\nHost: a@b\r\n\r\n"), 400 },
	{ "host-empty", B("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 400 },
	{ "host-space", B("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400 },
	{ "host-empty-port", B("GET / HTTP/1.1\r\nHost: a:\r\n\r\n"), 400 },
	{ "host-big-port", B("GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n"), 400 },
	{ "host-long-port", B("GET / HTTP/1.1\r\nHost: a:000080\r\n\r\n"), 400 },
	{ "host-two-colons", B("GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n"), 400 },
	{ "host-slash", B("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400 },
	{ "host-bad-pct", B("GET / HTTP/1.1\r\nHost: a%4\r\n\r\n"), 400 },
	{ "host-v6-open", B("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), 400 },
	{ "host-v6-bad", B("GET / HTTP/1.1\r\nHost: [zz::1]\r\n\r\n"), 400 },
	{ "host-v6-empty", B("GET / HTTP/1.1\r\nHost: []\r\n\r\n"), 400 },
	{ "host-v6-junk", B("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"), 400 },
	{ "host-v6-zone", B("GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n"), 400 },
	{ "host-only-port", B("GET / HTTP/1.1\r\nHost: :80\r\n\r\n"), 400 },
	{ "host-only-port-absolute", B("GET http://:80/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ "host-non-ascii", B("GET / HTTP/1.1\r\nHost: caf\xc3\xa9\r\n\r\n"), 400 },
	// other fields this parser interprets
	{ "upgrade-twice", B(G11 "Upgrade: websocket\r\nUpgrade: h2c\r\n\r\n"), 400 },
	{ "connection-bad-token", B(G11 "Connection: close;x\r\n\r\n"), 400 },
	{ "connection-bad-first", B(G11 "Connection: ;close\r\n\r\n"), 400 },
	{ "connection-space-in-token", B(G11 "Connection: keep alive\r\n\r\n"), 400 },
	{ "connection-9-fields", B(G11 "Connection: a\r\nConnection: b\r\nConnection: c\r\n"
				   "Connection: d\r\nConnection: e\r\nConnection: f\r\n"
				   "Connection: g\r\nConnection: h\r\nConnection: i\r\n\r\n"), 400 },
	{ "connection-8-fields", B(G11 "Connection: a\r\nConnection: b\r\nConnection: c\r\n"
				   "Connection: d\r\nConnection: e\r\nConnection: f\r\n"
				   "Connection: g\r\nConnection: close\r\n\r\n"), 0, .flags = H1F_CONN_CLOSE },
	// head shape
	{ "no-final-crlf", B(G11), 400 },
};

// parse_req runs one request row through h1_head_end and h1_parse_request
// and returns the status it got (0 when accepted).
static char *last_buf;	// msg points into it until the next parse_req

static int parse_req(const char *id, const char *in, size_t len, unsigned opts)
{
	char *b;
	size_t scanned = 0;
	ssize_t n;
	int st = 0, r;

	free(last_buf);
	last_buf = b = dup(in, len);
	n = h1_head_end(b, len, &scanned);
	if (n == -EBADMSG) {
		// The parser must reject it on its own too (defence in depth).
		st = -1;
		r = h1_parse_request(&msg, b, len, opts, &st);
		CHECK(r == -EBADMSG && st == 400, "%s: head_end rejected but parse gave %d/%d", id, r, st);
		return 400;
	}
	if (n == -EAGAIN) {
		// Incomplete heads: check the parser alone, on the whole input.
		n = len;
	}
	CHECK(n > 0, "%s: h1_head_end = %zd", id, n);
	if (n <= 0)
		return -1;
	st = -1;
	r = h1_parse_request(&msg, b, n, opts, &st);
	if (r >= 0) {
		CHECK(r == n && msg.head_len == (uint32_t)n, "%s: parse returned %d for %zd", id, r, n);
		st = 0;
	} else {
		CHECK(r == -EBADMSG, "%s: parse returned %d", id, r);
		CHECK(st >= 400 && st <= 505, "%s: status %d", id, st);
	}
	return st;
}

static void test_requests(void)
{
	for (size_t i = 0; i < sizeof(req_rows) / sizeof(req_rows[0]); i++) {
		const struct rq *t = &req_rows[i];
		int st = parse_req(t->id, t->in, t->len, t->opts);

		CHECK(st == t->status, "request %s [%s]: status %d, want %d", t->id,
		      esc(t->in, t->len), st, t->status);
		if (st || t->status)
			continue;
		CHECK(msg.framing == t->framing, "%s: framing %d want %d", t->id, msg.framing, t->framing);
		if (t->framing == H1_BODY_LENGTH)
			CHECK(msg.content_length == t->cl, "%s: cl %llu", t->id,
			      (unsigned long long)msg.content_length);
		CHECK((msg.flags & t->flags) == t->flags, "%s: flags %#x lack %#x", t->id, msg.flags, t->flags);
		CHECK(!(msg.flags & t->noflags), "%s: flags %#x have %#x", t->id, msg.flags,
		      msg.flags & t->noflags);
		if (t->method)
			CHECK(str_is(msg.method, t->method), "%s: method %.*s", t->id, (int)msg.method.len, msg.method.p);
		if (t->path)
			CHECK(str_is(msg.path, t->path), "%s: path '%.*s'", t->id, (int)msg.path.len, msg.path.p);
		if (t->authority)
			CHECK(str_is(msg.authority, t->authority), "%s: authority '%.*s'", t->id,
			      (int)msg.authority.len, msg.authority.p);
		if (t->upgrade)
			CHECK(str_is(msg.upgrade, t->upgrade), "%s: upgrade '%.*s'", t->id,
			      (int)msg.upgrade.len, msg.upgrade.p);
		if (strstr(t->in, "HTTP/1.0\r\n"))
			CHECK(msg.minor == 0, "%s: minor %d", t->id, msg.minor);
		else
			CHECK(msg.minor == 1, "%s: minor %d", t->id, msg.minor);
	}
}

// test_request_fields checks field storage: names as sent, values trimmed,
// Connection indexes.
static void test_request_fields(void)
{
	static const char in[] = "POST /x HTTP/1.1\r\nHost: a\r\nX-A: \t b c \t\r\n"
		"Connection: x-foo, Keep-Alive\r\nX-Empty:\r\nconnection:close\r\n"
		"Content-Length: 3\r\n\r\n";
	char *b = dup(in, sizeof(in) - 1);
	int st = 0, r = h1_parse_request(&msg, b, sizeof(in) - 1, 0, &st);

	CHECK(r == (int)sizeof(in) - 1, "fields: r=%d st=%d", r, st);
	CHECK(msg.num_headers == 6, "fields: %u headers", msg.num_headers);
	CHECK(str_is(msg.headers[1].name, "X-A") && str_is(msg.headers[1].value, "b c"),
	      "fields: X-A '%.*s'", (int)msg.headers[1].value.len, msg.headers[1].value.p);
	CHECK(str_is(msg.headers[3].name, "X-Empty") && msg.headers[3].value.len == 0, "fields: X-Empty");
	CHECK(msg.num_connection == 2 && msg.connection_idx[0] == 2 && msg.connection_idx[1] == 4,
	      "fields: connection idx %u", msg.num_connection);
	CHECK(msg.flags & H1F_CONN_CLOSE, "fields: close");
	CHECK(h1_find_header(&msg, "content-LENGTH", 14) == 5, "find cl");
	CHECK(h1_find_header(&msg, "host", 4) == 0, "find host");
	CHECK(h1_find_header(&msg, "x-a", 3) == 1, "find x-a");
	CHECK(h1_find_header(&msg, "x-", 2) == -1, "find prefix");
	CHECK(h1_find_header(&msg, "x-ab", 4) == -1, "find longer");
	free(b);
}

static void test_pipelined(void)
{
	static const char two[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: b\r\n\r\n";
	static const char bad[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n";
	char *b = dup(two, sizeof(two) - 1);
	size_t scanned = 0, first = sizeof("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n") - 1;
	ssize_t n = h1_head_end(b, sizeof(two) - 1, &scanned);
	int st = 0;

	CHECK(n == (ssize_t)first, "pipelined: first head %zd", n);
	CHECK(h1_parse_request(&msg, b, n, 0, &st) == (int)first && str_is(msg.path, "/1"), "pipelined 1");
	scanned = 0;
	n = h1_head_end(b + first, sizeof(two) - 1 - first, &scanned);
	CHECK(n == (ssize_t)(sizeof(two) - 1 - first), "pipelined: second head %zd", n);
	CHECK(h1_parse_request(&msg, b + first, n, 0, &st) == n && str_is(msg.path, "/2") &&
	      str_is(msg.authority, "b"), "pipelined 2");
	// A whole buffer holding two heads is not one head.
	CHECK(h1_parse_request(&msg, b, sizeof(two) - 1, 0, &st) == -EBADMSG && st == 400,
	      "two heads as one");
	free(b);

	// A valid request followed by an invalid one: the first parses, the
	// second is rejected.
	b = dup(bad, sizeof(bad) - 1);
	scanned = 0;
	n = h1_head_end(b, sizeof(bad) - 1, &scanned);
	CHECK(n == (ssize_t)first, "pipelined-bad: first head %zd", n);
	CHECK(h1_parse_request(&msg, b, n, 0, &st) == (int)first, "pipelined-bad 1");
	scanned = 0;
	n = h1_head_end(b + first, sizeof(bad) - 1 - first, &scanned);
	CHECK(n == -EBADMSG, "pipelined-bad: second head %zd", n);
	free(b);
}

// ---------------------------------------------------------------------------
// h1_head_end

struct he {
	const char *id;
	const char *in;
	size_t len;
	ssize_t want;	// > 0 head length, -EAGAIN, -EBADMSG
};

static const struct he he_rows[] = {
	{ "simple", B("GET / HTTP/1.1\r\n\r\n"), 18 },
	{ "with-body", B("GET / HTTP/1.1\r\nHost: a\r\n\r\nbody\r\n\r\n"), 27 },
	{ "leading", B("\r\n\r\nGET / HTTP/1.1\r\n\r\n"), 22 },
	{ "leading-8", B("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nG\r\n\r\n"), 21 },
	{ "leading-9", B("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nG\r\n\r\n"), -EBADMSG },
	{ "leading-only", B("\r\n\r\n\r\n"), -EAGAIN },
	{ "leading-cr", B("\r\n\r"), -EAGAIN },
	{ "partial", B("GET / HTTP/1.1\r\nHost: a\r\n"), -EAGAIN },
	{ "partial-cr", B("GET / HTTP/1.1\r\nHost: a\r\n\r"), -EAGAIN },
	{ "empty", B(""), -EAGAIN },
	{ "bare-lf", B("GET / HTTP/1.1\nHost: a\r\n\r\n"), -EBADMSG },
	{ "bare-lf-first", B("\nGET / HTTP/1.1\r\n\r\n"), -EBADMSG },
	{ "lflf", B("GET / HTTP/1.1\n\n"), -EBADMSG },
	{ "bare-cr", B("GET / HTTP/1.1\rHost: a\r\n\r\n"), -EBADMSG },
	{ "bare-cr-first", B("\rGET / HTTP/1.1\r\n\r\n"), -EBADMSG },
	{ "crcr", B("GET / HTTP/1.1\r\r\n\r\n"), -EBADMSG },
	{ "cr-lf-lf", B("GET / HTTP/1.1\r\n\n"), -EBADMSG },
	{ "nul-ok-here", B("G\0T / HTTP/1.1\r\n\r\n"), 18 },
};

static void test_head_end(void)
{
	for (size_t i = 0; i < sizeof(he_rows) / sizeof(he_rows[0]); i++) {
		const struct he *t = &he_rows[i];
		char *b = dup(t->in, t->len);
		size_t scanned = 0, k;
		ssize_t n = h1_head_end(b, t->len, &scanned);

		CHECK(n == t->want, "head_end %s: %zd want %zd", t->id, n, t->want);
		// Byte by byte: -EAGAIN until the answer, then the same answer.
		scanned = 0;
		n = -EAGAIN;
		for (k = 0; k <= t->len && n == -EAGAIN; k++) {
			size_t before = scanned;

			n = h1_head_end(b, k, &scanned);
			CHECK(scanned >= before && scanned <= k, "head_end %s: scanned %zu at %zu", t->id, scanned, k);
		}
		CHECK(n == t->want, "head_end %s byte-by-byte: %zd want %zd", t->id, n, t->want);
		if (t->want > 0)
			CHECK(k - 1 == (size_t)t->want, "head_end %s byte-by-byte found at %zu", t->id, k - 1);
		free(b);
	}
}

// ---------------------------------------------------------------------------
// Limits

static void test_limits(void)
{
	static char big[H1_MAX_HEAD_BYTES * 2];
	size_t o;
	int st, r, i;

	// 100 fields: accepted; 101: 431.
	for (int want = 100; want <= 101; want++) {
		o = sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
		for (i = 1; i < want; i++)
			o += sprintf(big + o, "X-%d: v\r\n", i);
		o += sprintf(big + o, "\r\n");
		st = parse_req("fields", big, o, 0);
		CHECK(st == (want == 100 ? 0 : 431), "%d fields: %d", want, st);
		if (!st)
			CHECK(msg.num_headers == 100, "100 fields: %u", msg.num_headers);
	}
	// request-target: 8192 ok, 8193 414.
	for (int tl = H1_MAX_TARGET; tl <= H1_MAX_TARGET + 1; tl++) {
		o = sprintf(big, "GET /");
		memset(big + o, 'a', tl - 1);
		o += tl - 1;
		o += sprintf(big + o, " HTTP/1.1\r\nHost: a\r\n\r\n");
		st = parse_req("target", big, o, 0);
		CHECK(st == (tl == H1_MAX_TARGET ? 0 : 414), "target %d: %d", tl, st);
	}
	// An over-long target with a bad byte further on is still 414 or 400.
	o = sprintf(big, "GET /");
	memset(big + o, 'a', 20000);
	o += 20000;
	o += sprintf(big + o, " HTTP/1.1\r\nHost: a\r\n\r\n");
	CHECK(parse_req("target-20k", big, o, 0) == 414, "target 20k");
	// A field line of 8 KiB: accepted; one byte more: 431.
	for (int ll = H1_MAX_FIELD_LINE; ll <= H1_MAX_FIELD_LINE + 1; ll++) {
		o = sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\nCookie: ");
		memset(big + o, 'c', ll - 10);	// "Cookie: " + CRLF = 10
		o += ll - 10;
		o += sprintf(big + o, "\r\n\r\n");
		st = parse_req("line", big, o, 0);
		CHECK(st == (ll == H1_MAX_FIELD_LINE ? 0 : 431), "field line %d: %d", ll, st);
	}
	// A head over 60 KiB: the caller answers 431 before parsing; the
	// parser itself must not crash and answers 431 too.
	o = sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
	while (o < H1_MAX_HEAD_BYTES + 100)
		o += sprintf(big + o, "X-Pad-%zu: %01000d\r\n", o, 0);	// < 100 fields
	o += sprintf(big + o, "\r\n");
	st = 0;
	{
		char *b = dup(big, o);
		size_t scanned = 0;

		CHECK(h1_head_end(b, o, &scanned) == (ssize_t)o, "big head_end");
		r = h1_parse_request(&msg, b, o, 0, &st);
		CHECK(r == -EBADMSG && st == 431, "big head: r=%d st=%d", r, st);
		free(b);
	}
	// The same bytes as a response: -EBADMSG.
	o = sprintf(big, "HTTP/1.1 200 OK\r\n");
	while (o < H1_MAX_HEAD_BYTES + 100)
		o += sprintf(big + o, "X-Pad: %01000d\r\n", 0);
	o += sprintf(big + o, "\r\n");
	{
		char *b = dup(big, o);
		struct h1_str get = { "GET", 3 };

		CHECK(h1_parse_response(&msg, b, o, get) == -EBADMSG, "big response head");
		free(b);
	}
}

// ---------------------------------------------------------------------------
// Exhaustive byte classes through the public parser

static bool is_tchar(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void test_byte_classes(void)
{
	char line[128];
	int n, st;

	for (int c = 0; c < 256; c++) {
		bool want;

		// field name
		if (c != ':') {
			n = sprintf(line, "GET / HTTP/1.1\r\nHost: a\r\nX%cY: v\r\n\r\n", c ? c : '@');
			if (!c)
				line[26] = 0;
			st = parse_req("name-byte", line, n, 0);
			want = is_tchar(c) && c != '_';
			CHECK((st == 0) == want, "name byte %#x: %d", c, st);
			st = parse_req("name-byte-us", line, n, H1_OPT_ALLOW_UNDERSCORE);
			CHECK((st == 0) == is_tchar(c), "name byte %#x (underscore ok): %d", c, st);
		}
		// field value
		n = sprintf(line, "GET / HTTP/1.1\r\nHost: a\r\nX: a%cb\r\n\r\n", c ? c : '@');
		if (!c)
			line[29] = 0;
		st = parse_req("value-byte", line, n, 0);
		want = c == '\t' || c == ' ' || (c > 0x20 && c != 0x7f);
		CHECK((st == 0) == want, "value byte %#x: %d", c, st);
		// method
		n = sprintf(line, "G%cT / HTTP/1.1\r\nHost: a\r\n\r\n", c ? c : '@');
		if (!c)
			line[1] = 0;
		st = parse_req("method-byte", line, n, 0);
		want = is_tchar(c) && !(c >= 'a' && c <= 'z');
		CHECK((st == 0) == want, "method byte %#x: %d", c, st);
		// target
		n = sprintf(line, "GET /%c HTTP/1.1\r\nHost: a\r\n\r\n", c ? c : '@');
		if (!c)
			line[5] = 0;
		st = parse_req("target-byte", line, n, 0);
		want = c > 0x20 && c < 0x7f && c != '#';
		CHECK((st == 0) == want, "target byte %#x: %d", c, st);
		// host
		n = sprintf(line, "GET / HTTP/1.1\r\nHost: a%cb\r\n\r\n", c ? c : '@');
		if (!c)
			line[23] = 0;
		st = parse_req("host-byte", line, n, 0);
		want = c < 0x80 && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
				    (c >= 'A' && c <= 'Z') || (c && strchr("-._~!$&'()*+;=", c)));
		CHECK((st == 0) == want, "host byte %#x: %d", c, st);
	}
}

// ---------------------------------------------------------------------------
// Responses

struct rs {
	const char *id;
	const char *in;
	size_t len;
	const char *req_method;
	int ok;
	int status;
	enum h1_framing framing;
	uint64_t cl;
	unsigned flags, noflags;
	const char *reason;
};

#define R200 "HTTP/1.1 200 OK\r\n"

static const struct rs resp_rows[] = {
	{ "cl", B(R200 "Content-Length: 5\r\n\r\n"), "GET", 1, 200, H1_BODY_LENGTH, 5,
	  H1F_CONTENT_LENGTH, H1F_CONN_CLOSE, "OK" },
	{ "cl-0", B(R200 "Content-Length: 0\r\n\r\n"), "GET", 1, 200, H1_BODY_LENGTH, 0 },
	{ "cl-dup-same", B(R200 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n"), "GET", 1, 200, H1_BODY_LENGTH, 5 },
	{ "chunked", B(R200 "Transfer-Encoding: chunked\r\n\r\n"), "GET", 1, 200, H1_BODY_CHUNKED, 0, H1F_CHUNKED },
	{ "chunked-upper", B(R200 "TRANSFER-ENCODING: CHUNKED\r\n\r\n"), "GET", 1, 200, H1_BODY_CHUNKED },
	{ "gzip-chunked", B(R200 "Transfer-Encoding: gzip, chunked\r\n\r\n"), "GET", 1, 200, H1_BODY_CHUNKED },
	{ "gzip-chunked-2f", B(R200 "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"), "GET", 1, 200, H1_BODY_CHUNKED },
	{ "gzip", B(R200 "Transfer-Encoding: gzip\r\n\r\n"), "GET", 1, 200, H1_BODY_EOF, 0, H1F_CONN_CLOSE, H1F_CHUNKED },
	{ "chunked-gzip", B(R200 "Transfer-Encoding: chunked, gzip\r\n\r\n"), "GET", 1, 200, H1_BODY_EOF },
	{ "eof", B(R200 "Server: x\r\n\r\n"), "GET", 1, 200, H1_BODY_EOF, 0, H1F_CONN_CLOSE },
	{ "204", B("HTTP/1.1 204 No Content\r\n\r\n"), "GET", 1, 204, H1_BODY_NONE, 0, 0, H1F_CONN_CLOSE, "No Content" },
	{ "204-cl0", B("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"), "GET", 1, 204, H1_BODY_NONE },
	{ "304-cl", B("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n"), "GET", 1, 304, H1_BODY_NONE },
	{ "304-te", B("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"), "GET", 1, 304, H1_BODY_NONE },
	{ "head-cl", B(R200 "Content-Length: 100\r\n\r\n"), "HEAD", 1, 200, H1_BODY_NONE, 0, H1F_CONTENT_LENGTH },
	{ "head-chunked", B(R200 "Transfer-Encoding: chunked\r\n\r\n"), "HEAD", 1, 200, H1_BODY_NONE },
	{ "head-none", B(R200 "\r\n"), "HEAD", 1, 200, H1_BODY_NONE },
	{ "head-404", B("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n"), "HEAD", 1, 404, H1_BODY_NONE },
	{ "100", B("HTTP/1.1 100 Continue\r\n\r\n"), "POST", 1, 100, H1_BODY_NONE },
	{ "101", B("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
	  "GET", 1, 101, H1_BODY_NONE, 0, H1F_UPGRADE | H1F_CONN_UPGRADE },
	{ "103", B("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"), "GET", 1, 103, H1_BODY_NONE },
	{ "connect-200", B("HTTP/1.1 200 Connection established\r\n\r\n"), "CONNECT", 1, 200, H1_BODY_NONE },
	{ "connect-407", B("HTTP/1.1 407 Proxy Auth\r\nContent-Length: 2\r\n\r\n"), "CONNECT", 1, 407, H1_BODY_LENGTH, 2 },
	{ "http10-cl", B("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n"), "GET", 1, 200, H1_BODY_LENGTH, 5, H1F_CONN_CLOSE },
	{ "http10-keepalive", B("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\n"),
	  "GET", 1, 200, H1_BODY_LENGTH, 5, H1F_CONN_KEEPALIVE, H1F_CONN_CLOSE },
	{ "http11-close", B(R200 "Connection: close\r\nContent-Length: 1\r\n\r\n"), "GET", 1, 200, H1_BODY_LENGTH, 1, H1F_CONN_CLOSE },
	{ "empty-reason", B("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"), "GET", 1, 200, H1_BODY_LENGTH, 0, 0, 0, "" },
	{ "no-reason", B("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), "GET", 1, 200, H1_BODY_LENGTH, 0, 0, 0, "" },
	{ "reason-spaces", B("HTTP/1.1 404 Not  Found \xe2\x9c\x97\r\n\r\n"), "GET", 1, 404, H1_BODY_EOF },
	{ "599", B("HTTP/1.1 599 X\r\nContent-Length: 0\r\n\r\n"), "GET", 1, 599, H1_BODY_LENGTH },
	{ "underscore-ok", B(R200 "X_Y: z\r\nContent-Length: 0\r\n\r\n"), "GET", 1, 200, H1_BODY_LENGTH },
	{ "no-host-needed", B(R200 "Content-Length: 0\r\n\r\n"), "GET", 1, 200, H1_BODY_LENGTH },
	// must fail
	{ "te-cl-haproxy", B("HTTP/1.1 200 Ok\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n"), "GET", 0 },
	{ "cl-te", B(R200 "Content-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n"), "GET", 0 },
	{ "te-cl-head", B(R200 "Content-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n"), "HEAD", 0 },
	{ "cl-differ", B(R200 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"), "GET", 0 },
	{ "cl-list", B(R200 "Content-Length: 5, 5\r\n\r\n"), "GET", 0 },
	{ "cl-plus", B(R200 "Content-Length: +5\r\n\r\n"), "GET", 0 },
	{ "cl-overflow", B(R200 "Content-Length: 18446744073709551617\r\n\r\n"), "GET", 0 },
	{ "http10-chunked", B("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), "GET", 0 },
	{ "204-cl", B("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"), "GET", 0 },
	{ "204-te", B("HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n"), "GET", 0 },
	{ "100-te", B("HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n"), "GET", 0 },
	{ "chunked-chunked", B(R200 "Transfer-Encoding: chunked, chunked\r\n\r\n"), "GET", 0 },
	{ "chunked-param", B(R200 "Transfer-Encoding: chunked;x=1\r\n\r\n"), "GET", 0 },
	{ "te-quoted", B(R200 "Transfer-Encoding: \"chunked\"\r\n\r\n"), "GET", 0 },
	{ "te-tab", B(R200 "Transfer-Encoding:\tchunked\r\n\r\n"), "GET", 0 },
	{ "te-empty", B(R200 "Transfer-Encoding:\r\n\r\n"), "GET", 0 },
	{ "status-2-digits", B("HTTP/1.1 20 OK\r\n\r\n"), "GET", 0 },
	{ "status-4-digits", B("HTTP/1.1 2000 OK\r\n\r\n"), "GET", 0 },
	{ "status-099", B("HTTP/1.1 099 X\r\n\r\n"), "GET", 0 },
	{ "status-600", B("HTTP/1.1 600 X\r\n\r\n"), "GET", 0 },
	{ "status-alpha", B("HTTP/1.1 abc OK\r\n\r\n"), "GET", 0 },
	{ "status-two-sp", B("HTTP/1.1  200 OK\r\n\r\n"), "GET", 0 },
	{ "http2", B("HTTP/2.0 200 OK\r\n\r\n"), "GET", 0 },
	{ "http12", B("HTTP/1.2 200 OK\r\n\r\n"), "GET", 0 },
	{ "lower-http", B("http/1.1 200 OK\r\n\r\n"), "GET", 0 },
	{ "reason-ctl", B("HTTP/1.1 200 O\x01K\r\n\r\n"), "GET", 0 },
	{ "reason-nul", B("HTTP/1.1 200 O\x00K\r\n\r\n"), "GET", 0 },
	{ "obs-fold", B(R200 "X: a\r\n b\r\n\r\n"), "GET", 0 },
	{ "bare-lf", B("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), "GET", 0 },
	{ "bare-cr", B(R200 "X: a\rb\r\n\r\n"), "GET", 0 },
	{ "space-before-colon", B(R200 "Content-Length : 0\r\n\r\n"), "GET", 0 },
	{ "nul-value", B(R200 "X: a\x00" "b\r\n\r\n"), "GET", 0 },
	{ "empty-name", B(R200 ": b\r\n\r\n"), "GET", 0 },
	{ "truncated", B("HTTP/1.1 200\r\n"), "GET", 0 },
	{ "short", B("HTTP/1.1\r\n\r\n"), "GET", 0 },
};

static void test_responses(void)
{
	for (size_t i = 0; i < sizeof(resp_rows) / sizeof(resp_rows[0]); i++) {
		const struct rs *t = &resp_rows[i];
		char *b = dup(t->in, t->len);
		struct h1_str m = { t->req_method, (uint32_t)strlen(t->req_method) };
		size_t scanned = 0;
		ssize_t n = h1_head_end(b, t->len, &scanned);
		int r;

		if (n <= 0)
			n = t->len;	// let the parser see it: it must fail on its own
		r = h1_parse_response(&msg, b, n, m);
		if (!t->ok) {
			CHECK(r == -EBADMSG, "response %s [%s]: %d, want -EBADMSG", t->id, esc(t->in, t->len), r);
			free(b);
			continue;
		}
		CHECK(r == (int)t->len, "response %s [%s]: %d", t->id, esc(t->in, t->len), r);
		if (r < 0) {
			free(b);
			continue;
		}
		CHECK(msg.status == t->status, "%s: status %d", t->id, msg.status);
		CHECK(msg.framing == t->framing, "%s: framing %d want %d", t->id, msg.framing, t->framing);
		if (t->framing == H1_BODY_LENGTH)
			CHECK(msg.content_length == t->cl, "%s: cl %llu", t->id, (unsigned long long)msg.content_length);
		CHECK((msg.flags & t->flags) == t->flags, "%s: flags %#x lack %#x", t->id, msg.flags, t->flags);
		CHECK(!(msg.flags & t->noflags), "%s: flags %#x have %#x", t->id, msg.flags, t->noflags);
		if (t->reason)
			CHECK(str_is(msg.reason, t->reason), "%s: reason '%.*s'", t->id,
			      (int)msg.reason.len, msg.reason.p);
		free(b);
	}
}

static void test_response_count(void)
{
	static char big[8192];
	struct h1_str get = { "GET", 3 };

	for (int want = 100; want <= 101; want++) {
		size_t o = sprintf(big, "HTTP/1.1 200 OK\r\n");
		char *b;
		int r;

		for (int i = 0; i < want; i++)
			o += sprintf(big + o, "X-%d: v\r\n", i);
		o += sprintf(big + o, "\r\n");
		b = dup(big, o);
		r = h1_parse_response(&msg, b, o, get);
		CHECK(want == 100 ? r == (int)o : r == -EBADMSG, "response with %d fields: %d", want, r);
		free(b);
	}
}

// ---------------------------------------------------------------------------
// h1_is_hop_by_hop, h1_str_ieq, h1_chunk_size_line, h1_status_reason

static bool hop(const char *name)
{
	struct h1_str s = { name, (uint32_t)strlen(name) };

	return h1_is_hop_by_hop(&msg, s);
}

static void test_hop_by_hop(void)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Foo ,\tkeep-alive\r\n"
		"X-Foo: 1\r\nConnection: x-bar\r\nX-Baz: 2\r\n\r\n";
	char *b = dup(in, sizeof(in) - 1);
	int st;
	struct h1_str s;

	CHECK(h1_parse_request(&msg, b, sizeof(in) - 1, 0, &st) > 0, "hop parse");
	CHECK(hop("Connection") && hop("connection") && hop("Keep-Alive") && hop("Proxy-Connection") &&
	      hop("transfer-encoding") && hop("TE") && hop("Upgrade") && hop("HTTP2-Settings"),
	      "fixed set");
	CHECK(hop("X-Foo") && hop("x-foo") && hop("X-BAR"), "connection-listed");
	CHECK(!hop("Trailer") && !hop("Host") && !hop("X-Baz") && !hop("X-Fo") && !hop("X-Foo2") &&
	      !hop("Content-Length") && !hop("") && !hop("T") && !hop("TEE"), "end-to-end");
	s.p = "te";
	s.len = 2;
	CHECK(h1_is_hop_by_hop(NULL, s), "NULL msg fixed set");
	s.p = "X-Foo";
	s.len = 5;
	CHECK(!h1_is_hop_by_hop(NULL, s), "NULL msg");
	free(b);

	s.p = "Content-Length";
	s.len = 14;
	CHECK(h1_str_ieq(s, "content-length") && h1_str_ieq(s, "CONTENT-LENGTH"), "ieq");
	CHECK(!h1_str_ieq(s, "content-lengt") && !h1_str_ieq(s, "content-lengths") &&
	      !h1_str_ieq(s, "content_length"), "ieq neg");
	s.p = "\r";
	s.len = 1;
	CHECK(!h1_str_ieq(s, "-"), "ieq no |0x20 folding");
	s.p = "^";
	CHECK(!h1_str_ieq(s, "~"), "ieq no |0x20 folding 2");
}

static void test_small(void)
{
	char out[20];
	static const struct { uint64_t v; const char *s; } rows[] = {
		{ 0, "0\r\n" }, { 1, "1\r\n" }, { 15, "f\r\n" }, { 16, "10\r\n" }, { 255, "ff\r\n" },
		{ 0x1000, "1000\r\n" }, { UINT64_MAX, "ffffffffffffffff\r\n" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = h1_chunk_size_line(out, rows[i].v);

		CHECK(n == strlen(rows[i].s) && !memcmp(out, rows[i].s, n), "size line %llu",
		      (unsigned long long)rows[i].v);
	}
	CHECK(!strcmp(h1_status_reason(200), "OK"), "reason 200");
	CHECK(!strcmp(h1_status_reason(404), "Not Found"), "reason 404");
	CHECK(!strcmp(h1_status_reason(431), "Request Header Fields Too Large"), "reason 431");
	CHECK(!strcmp(h1_status_reason(502), "Bad Gateway"), "reason 502");
	CHECK(!strcmp(h1_status_reason(999), "Unknown"), "reason 999");
	CHECK(!strcmp(h1_status_reason(-1), "Unknown"), "reason -1");
}

// ---------------------------------------------------------------------------
// Chunked decoder

struct sink {
	char data[16384];
	size_t data_len;
	char tr[4096];
	size_t tr_len;
	int calls;
};

static void on_data(void *arg, const char *p, size_t len)
{
	struct sink *s = arg;

	CHECK(len > 0, "data callback with 0 bytes");
	if (s->data_len + len > sizeof(s->data))
		abort();
	memcpy(s->data + s->data_len, p, len);
	s->data_len += len;
	s->calls++;
}

static void on_trailer(void *arg, const char *name, size_t name_len, const char *value, size_t value_len)
{
	struct sink *s = arg;

	int n = snprintf(s->tr + s->tr_len, sizeof(s->tr) - s->tr_len, "%.*s=%.*s|",
			 (int)name_len, name, (int)value_len, value);

	if (n > 0)
		s->tr_len += (size_t)n < sizeof(s->tr) - s->tr_len ? (size_t)n : sizeof(s->tr) - s->tr_len - 1;
}

enum { CK_DONE = 0, CK_MORE, CK_BAD };

struct ck {
	const char *id;
	const char *in;
	size_t len;
	int want;		// CK_*
	const char *data;	// decoded body (CK_DONE, CK_MORE)
	const char *tr;		// reported trailers as "name=value|..."
	size_t rest;		// bytes after the body that must stay unconsumed
};

static const struct ck ck_rows[] = {
	{ "empty", B("0\r\n\r\n"), CK_DONE, "", "" },
	{ "hello", B("5\r\nhello\r\n0\r\n\r\n"), CK_DONE, "hello", "" },
	{ "two", B("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), CK_DONE, "hello world", "" },
	{ "hex-upper", B("A\r\n0123456789\r\n0\r\n\r\n"), CK_DONE, "0123456789", "" },
	{ "hex-lower", B("a\r\n0123456789\r\n0\r\n\r\n"), CK_DONE, "0123456789", "" },
	{ "hex-10", B("10\r\n0123456789abcdef\r\n0\r\n\r\n"), CK_DONE, "0123456789abcdef", "" },
	{ "leading-zeros-16", B("0000000000000005\r\nhello\r\n0000000000000000\r\n\r\n"), CK_DONE, "hello", "" },
	{ "crlf-in-data", B("4\r\n\r\n\r\n\r\n0\r\n\r\n"), CK_DONE, "\r\n\r\n", "" },
	{ "nul-in-data", B("3\r\na\0b\r\n0\r\n\r\n"), CK_DONE, "a\0b", "" },
	{ "ext", B("5;name=value\r\nhello\r\n0;last\r\n\r\n"), CK_DONE, "hello", "" },
	{ "ext-multi", B("5;a;b=c;d=\"q \\\" ;x\"\r\nhello\r\n0\r\n\r\n"), CK_DONE, "hello", "" },
	{ "ext-after-quoted", B("5;d=\"q\";e;f=\"\"\r\nhello\r\n0\r\n\r\n"), CK_DONE, "hello", "" },
	{ "ext-quoted-empty", B("5;a=\"\"\r\nhello\r\n0\r\n\r\n"), CK_DONE, "hello", "" },
	{ "ext-quoted-tab-obs", B("5;a=\"\t\xff\"\r\nhello\r\n0\r\n\r\n"), CK_DONE, "hello", "" },
	{ "trailers", B("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nGrpc-Status:0\r\n\r\n"), CK_DONE,
	  "hello", "X-Checksum=abc|Grpc-Status=0|" },
	{ "trailer-ows", B("0\r\nX-A: \t v w \t\r\nX-E:\r\n\r\n"), CK_DONE, "", "X-A=v w|X-E=|" },
	{ "trailers-forbidden", B("0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nHost: evil\r\n"
				  "Authorization: Bearer x\r\nTE: trailers\r\nTrailer: X\r\n"
				  "Connection: close\r\nKeep-Alive: 5\r\nUpgrade: h2c\r\n"
				  "Proxy-Authorization: x\r\nproxy-foo: y\r\nCONTENT-LENGTH: 1\r\n"
				  "X-Ok: 1\r\nX_Under: 2\r\n\r\n"), CK_DONE, "", "X-Ok=1|" },
	{ "rest", B("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"), CK_DONE, "hello", "", 18 },
	{ "rest-1", B("0\r\n\r\nX"), CK_DONE, "", "", 1 },
	{ "rest-trailers", B("0\r\nA: b\r\n\r\n\r\n"), CK_DONE, "", "A=b|", 2 },
	// incomplete but valid so far
	{ "more-size", B("5"), CK_MORE, "" },
	{ "more-data", B("5\r\nhel"), CK_MORE, "hel" },
	{ "more-data-cr", B("5\r\nhello\r"), CK_MORE, "hello" },
	{ "more-last", B("5\r\nhello\r\n0\r\n"), CK_MORE, "hello" },
	{ "more-trailer", B("0\r\nX: y\r\n"), CK_MORE, "", "X=y|" },
	{ "more-huge", B("FFFFFFFFFFFFFFFF\r\nabc"), CK_MORE, "abc" },
	{ "more-ext", B("5;a=\"b"), CK_MORE, "" },
	// §2.1 chunk size tricks
	{ "size-0x", B("0x5\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-plus", B("+5\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-minus", B("-5\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-lead-sp", B(" 5\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-trail-sp", B("5 \r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-trail-tab", B("5\t\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-underscore", B("5_\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-empty", B("\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-g", B("g\r\n"), CK_BAD },
	{ "size-overflow", B("FFFFFFFFFFFFFFFF1\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-64-zeros", B("0000000000000000000000000000000000000000000000000000000000000005\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-17-zeros", B("00000000000000000\r\n\r\n"), CK_BAD },
	{ "size-bare-lf", B("5\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-cr-cr", B("5\r\rhello\r\n0\r\n\r\n"), CK_BAD },
	{ "size-nul", B("5\0\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	// §2.1 chunk-ext tricks
	{ "ext-bare-lf", B("5;\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-bare-cr", B("5;\rX\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-nul", B("5;\0ext\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-bws-before", B("5 ;a=b\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-bws-after", B("5; a=b\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-bws-eq", B("5;a =b\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-bws-eq2", B("5;a= b\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-crlf-in-quotes", B("5;a=\"x\r\ny\"\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-garden", B("41;a=b\r\rXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-no-name", B("5;=b\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-empty", B("5;\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-no-value", B("5;a=\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-after-quote", B("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-space-in-token", B("5;a=b c\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-ctl-in-quotes", B("5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-lf-in-quoted-pair", B("5;a=\"\\\n\"\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "ext-del", B("5;a\x7f\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	{ "last-ext-bare-lf", B("0;a\n\r\n"), CK_BAD },
	// §2.1 data terminator
	{ "no-crlf-after-data", B("5\r\nhelloXX0\r\n\r\n"), CK_BAD },
	{ "xx-after-data", B("5\r\nhello\r\nXX"), CK_BAD },
	{ "extra-crlf-before-0", B("5\r\nhello\r\n\r\n0\r\n\r\n"), CK_BAD },
	{ "lf-after-data", B("5\r\nhello\n0\r\n\r\n"), CK_BAD },
	{ "cr-x-after-data", B("5\r\nhello\rX0\r\n\r\n"), CK_BAD },
	{ "crcr-after-data", B("5\r\nhello\r\r\n0\r\n\r\n"), CK_BAD },
	{ "x-lf-after-data", B("5\r\nhelloX\n0\r\n\r\n"), CK_BAD },
	{ "lf-lf-after-data", B("5\r\nhello\n\n0\r\n\r\n"), CK_BAD },
	{ "nul-lf-after-data", B("5\r\nhello\0\n0\r\n\r\n"), CK_BAD },
	{ "last-x-lf", B("0\r\nX\n"), CK_BAD },
	{ "data-too-long", B("3\r\nhello\r\n0\r\n\r\n"), CK_BAD },
	// trailer section
	{ "last-lf", B("0\r\n\n"), CK_BAD },
	{ "last-cr-cr", B("0\r\n\r\r"), CK_BAD },
	{ "trailer-obs-fold", B("0\r\nX: a\r\n b\r\n\r\n"), CK_BAD },
	{ "trailer-bare-lf", B("0\r\nX: a\n\r\n"), CK_BAD },
	{ "trailer-bare-cr", B("0\r\nX: a\rb\r\n\r\n"), CK_BAD },
	{ "trailer-nul", B("0\r\nX: a\0b\r\n\r\n"), CK_BAD },
	{ "trailer-sp-colon", B("0\r\nX : a\r\n\r\n"), CK_BAD },
	{ "trailer-no-colon", B("0\r\nX\r\n\r\n"), CK_BAD },
	{ "trailer-empty-name", B("0\r\n: a\r\n\r\n"), CK_BAD },
	{ "trailer-bad-name", B("0\r\nX\"Y: a\r\n\r\n"), CK_BAD },
	{ "trailer-forbidden-malformed", B("0\r\nContent-Length: a\0\r\n\r\n"), CK_BAD },
};

struct ck_result {
	ssize_t consumed;
	int done;
	int bad;
};

// ck_feed feeds in[0..len) in pieces of `step` bytes (0: whole) and returns
// the total consumed, done, and whether any call failed.
static struct ck_result ck_feed(const char *in, size_t len, size_t step, struct sink *s)
{
	struct h1_chunked c;
	struct h1_chunked_out out = { on_data, on_trailer, s };
	struct ck_result res = { 0, 0, 0 };
	size_t off = 0;

	memset(s, 0, sizeof(*s));
	h1_chunked_init(&c);
	while (off < len || (!step && off == 0)) {
		size_t n = step ? (len - off < step ? len - off : step) : len;
		char *b = dup(in + off, n);
		int done = -1;
		ssize_t r = h1_chunked_feed(&c, b, n, &out, &done);

		free(b);
		if (r < 0) {
			CHECK(r == -EBADMSG, "chunked feed returned %zd", r);
			res.bad = 1;
			return res;
		}
		CHECK(done == 0 || done == 1, "done=%d", done);
		CHECK((size_t)r <= n, "consumed %zd of %zu", r, n);
		CHECK((size_t)r == n || done, "consumed %zd < %zu without done", r, n);
		res.consumed += r;
		off += n;
		if (done) {
			res.done = 1;
			// Further input is the next message's.
			b = dup("GET", 3);
			r = h1_chunked_feed(&c, b, 3, &out, &done);
			free(b);
			CHECK(r == 0 && done == 1, "feed after done: %zd %d", r, done);
			return res;
		}
		if (!step)
			break;
	}
	return res;
}

static void test_chunked(void)
{
	static const size_t steps[] = { 0, 1, 2, 3, 7, 64 };
	static struct sink s;

	for (size_t i = 0; i < sizeof(ck_rows) / sizeof(ck_rows[0]); i++) {
		const struct ck *t = &ck_rows[i];

		for (size_t j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
			struct ck_result r = ck_feed(t->in, t->len, steps[j], &s);

			if (t->want == CK_BAD) {
				CHECK(r.bad && !r.done, "chunked %s step %zu [%s]: not rejected", t->id,
				      steps[j], esc(t->in, t->len));
				continue;
			}
			CHECK(!r.bad, "chunked %s step %zu [%s]: rejected", t->id, steps[j], esc(t->in, t->len));
			if (r.bad)
				continue;
			CHECK(r.done == (t->want == CK_DONE), "chunked %s step %zu: done %d", t->id, steps[j], r.done);
			if (t->want == CK_DONE)
				CHECK(r.consumed == (ssize_t)(t->len - t->rest), "chunked %s step %zu: consumed %zd",
				      t->id, steps[j], r.consumed);
			{
				size_t dl = t->id && !strcmp(t->id, "nul-in-data") ? 3 : strlen(t->data);

				CHECK(s.data_len == dl && !memcmp(s.data, t->data, dl),
				      "chunked %s step %zu: data '%s'", t->id, steps[j], esc(s.data, s.data_len));
			}
			if (t->tr)
				CHECK(s.tr_len == strlen(t->tr) && !memcmp(s.tr, t->tr, s.tr_len),
				      "chunked %s step %zu: trailers '%s'", t->id, steps[j], esc(s.tr, s.tr_len));
		}
	}
}

static void test_chunked_limits(void)
{
	static char big[32768];
	static struct sink s;
	struct ck_result r;
	size_t o;

	// A trailer line of exactly the tline buffer: fine; one more byte: bad.
	for (size_t ll = sizeof(((struct h1_chunked *)0)->tline); ll <= sizeof(((struct h1_chunked *)0)->tline) + 1; ll++) {
		o = sprintf(big, "0\r\nX: ");
		memset(big + o, 'v', ll - 3);
		o += ll - 3;
		o += sprintf(big + o, "\r\n\r\n");
		r = ck_feed(big, o, 0, &s);
		CHECK(ll == 512 ? r.done : r.bad, "trailer line %zu: done %d bad %d", ll, r.done, r.bad);
		r = ck_feed(big, o, 1, &s);
		CHECK(ll == 512 ? r.done : r.bad, "trailer line %zu bytewise: done %d bad %d", ll, r.done, r.bad);
	}
	// More than 8 KiB of trailers: bad.
	o = sprintf(big, "0\r\n");
	while (o < H1_MAX_TRAILER_BYTES + 200)
		o += sprintf(big + o, "X-T: %090d\r\n", 0);
	o += sprintf(big + o, "\r\n");
	r = ck_feed(big, o, 0, &s);
	CHECK(r.bad, "trailers over 8 KiB");
	// A chunk-size line with extensions over the limit: bad.
	o = sprintf(big, "5");
	while (o < H1_MAX_CHUNK_LINE + 10)
		o += sprintf(big + o, ";a=b");
	o += sprintf(big + o, "\r\nhello\r\n0\r\n\r\n");
	r = ck_feed(big, o, 0, &s);
	CHECK(r.bad, "chunk line over limit");
	r = ck_feed(big, o, 1, &s);
	CHECK(r.bad, "chunk line over limit bytewise");
	// Round trip: encode with h1_chunk_size_line, decode.
	{
		static const size_t sizes[] = { 1, 15, 16, 255, 256, 4000 };
		char piece[4096];

		o = 0;
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			o += h1_chunk_size_line(big + o, sizes[i]);
			memset(piece, 'a' + (int)i, sizes[i]);
			memcpy(big + o, piece, sizes[i]);
			o += sizes[i];
			memcpy(big + o, "\r\n", 2);
			o += 2;
		}
		o += h1_chunk_size_line(big + o, 0);
		memcpy(big + o, "\r\n", 2);
		o += 2;
		for (size_t step = 0; step <= 5; step++) {
			r = ck_feed(big, o, step, &s);
			CHECK(r.done && r.consumed == (ssize_t)o && s.data_len == 1 + 15 + 16 + 255 + 256 + 4000,
			      "round trip step %zu: done %d consumed %zd data %zu", step, r.done, r.consumed, s.data_len);
		}
	}
	// NULL callbacks are allowed (discarding a body).
	{
		struct h1_chunked c;
		int done;
		static const char in[] = "5\r\nhello\r\n0\r\nX: y\r\n\r\n";
		struct h1_chunked_out none = { NULL, NULL, NULL };

		h1_chunked_init(&c);
		CHECK(h1_chunked_feed(&c, in, sizeof(in) - 1, NULL, &done) == sizeof(in) - 1 && done,
		      "NULL out");
		h1_chunked_init(&c);
		CHECK(h1_chunked_feed(&c, in, sizeof(in) - 1, &none, &done) == sizeof(in) - 1 && done,
		      "NULL callbacks");
		// After an error the decoder stays failed.
		h1_chunked_init(&c);
		CHECK(h1_chunked_feed(&c, "x", 1, NULL, &done) == -EBADMSG, "bad");
		CHECK(h1_chunked_feed(&c, "0\r\n\r\n", 5, NULL, &done) == -EBADMSG, "stays bad");
		// A zero-length feed is harmless.
		h1_chunked_init(&c);
		CHECK(h1_chunked_feed(&c, in, 0, NULL, &done) == 0 && !done, "empty feed");
	}
}

int main(void)
{
	test_head_end();
	test_requests();
	test_request_fields();
	test_pipelined();
	test_limits();
	test_byte_classes();
	test_responses();
	test_response_count();
	test_hop_by_hop();
	test_small();
	test_chunked();
	test_chunked_limits();
	printf("h1_test: %d checks, %d failed (%zu request, %zu response, %zu head_end, %zu chunked rows)\n",
	       checks, failures, sizeof(req_rows) / sizeof(req_rows[0]),
	       sizeof(resp_rows) / sizeof(resp_rows[0]), sizeof(he_rows) / sizeof(he_rows[0]),
	       sizeof(ck_rows) / sizeof(ck_rows[0]));
	return failures ? 1 : 0;
}
