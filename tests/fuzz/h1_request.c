// SPDX-License-Identifier: Apache-2.0
// h1_request: libFuzzer target for request heads. It checks that h1_head_end
// agrees with itself whole and byte by byte, that every accepted message is
// self-consistent, and feeds chunked bodies on to the decoder.
#include "proto/h1.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static struct h1_msg msg;

static void body_data(void *arg, const char *p, size_t len)
{
	volatile char sink = 0;

	// Touch every byte so ASan sees a read outside the input.
	for (size_t i = 0; i < len; i++)
		sink ^= p[i];
	(void)sink;
}

static void body_trailer(void *arg, const char *name, size_t name_len,
			 const char *value, size_t value_len)
{
	ASSERT(name_len > 0);
	body_data(arg, name, name_len);
	body_data(arg, value, value_len);
}

static bool inside(struct h1_str s, const char *b, size_t len)
{
	return !s.len || (s.p >= b && s.p + s.len <= b + len);
}

static bool ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

// check_accepted asserts what any accepted request must satisfy.
static void check_accepted(const char *b, size_t n, unsigned opts)
{
	ASSERT(msg.head_len == n);
	ASSERT(msg.minor == 0 || msg.minor == 1);
	ASSERT(msg.method.len > 0 && inside(msg.method, b, n));
	ASSERT(msg.target.len > 0 && msg.target.len <= H1_MAX_TARGET && inside(msg.target, b, n));
	ASSERT(inside(msg.path, b, n) || (msg.path.len == 1 && msg.path.p[0] == '/'));
	ASSERT(inside(msg.authority, b, n));
	ASSERT(msg.num_headers <= H1_MAX_HEADERS);
	ASSERT(msg.num_connection <= H1_MAX_CONNECTION);
	for (unsigned i = 0; i < msg.method.len; i++)
		ASSERT(!(msg.method.p[i] >= 'a' && msg.method.p[i] <= 'z'));
	if (msg.minor == 1)
		ASSERT(msg.flags & H1F_HOST);
	// Never two ways to frame the body.
	ASSERT(!((msg.flags & H1F_CHUNKED) && (msg.flags & H1F_CONTENT_LENGTH)));
	switch (msg.framing) {
	case H1_BODY_NONE:
		ASSERT(!(msg.flags & (H1F_CHUNKED | H1F_CONTENT_LENGTH)));
		break;
	case H1_BODY_LENGTH:
		ASSERT(msg.flags & H1F_CONTENT_LENGTH);
		break;
	case H1_BODY_CHUNKED:
		ASSERT((msg.flags & H1F_CHUNKED) && msg.minor == 1);
		break;
	default:
		ASSERT(0);
	}
	if (msg.minor == 0 && !(msg.flags & H1F_CONN_KEEPALIVE))
		ASSERT(msg.flags & H1F_CONN_CLOSE);
	for (unsigned i = 0; i < msg.num_headers; i++) {
		const struct h1_header *h = &msg.headers[i];

		ASSERT(h->name.len > 0 && inside(h->name, b, n) && inside(h->value, b, n));
		for (unsigned j = 0; j < h->name.len; j++) {
			unsigned char c = h->name.p[j];

			ASSERT(c > 0x20 && c < 0x7f && c != ':' && c != '"');
			ASSERT(c != '_' || (opts & H1_OPT_ALLOW_UNDERSCORE));
		}
		for (unsigned j = 0; j < h->value.len; j++)
			ASSERT(!ctl(h->value.p[j]));
		if (h->value.len) {
			ASSERT(h->value.p[0] != ' ' && h->value.p[0] != '\t');
			ASSERT(h->value.p[h->value.len - 1] != ' ' && h->value.p[h->value.len - 1] != '\t');
		}
		ASSERT(h1_find_header(&msg, h->name.p, h->name.len) <= (int)i);
		(void)h1_is_hop_by_hop(&msg, h->name);
	}
	for (unsigned i = 0; i < msg.num_connection; i++) {
		ASSERT(msg.connection_idx[i] < msg.num_headers);
		ASSERT(h1_str_ieq(msg.headers[msg.connection_idx[i]].name, "connection"));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct h1_str get = { "GET", 3 }, head = { "HEAD", 4 };
	const char *b = (const char *)data;
	size_t scanned = 0;
	ssize_t n, m = -EAGAIN;
	int st, r;

	n = h1_head_end(b, size, &scanned);
	ASSERT(n == -EAGAIN || n == -EBADMSG || (n > 0 && (size_t)n <= size));
	// Fed one byte at a time it must reach the same answer, at the same
	// place.
	scanned = 0;
	for (size_t k = 0; k <= size && m == -EAGAIN; k++) {
		size_t before = scanned;

		m = h1_head_end(b, k, &scanned);
		ASSERT(scanned >= before && scanned <= k);
		if (m > 0)
			ASSERT((size_t)m == k);
	}
	ASSERT(m == n);

	if (n > 0) {
		for (unsigned opts = 0; opts <= H1_OPT_ALLOW_UNDERSCORE; opts++) {
			st = 0;
			r = h1_parse_request(&msg, b, n, opts, &st);
			if (r < 0) {
				ASSERT(r == -EBADMSG);
				ASSERT(st == 400 || st == 414 || st == 431 || st == 501 || st == 505);
				continue;
			}
			ASSERT(r == n);
			check_accepted(b, n, opts);
			if (msg.framing == H1_BODY_CHUNKED) {
				struct h1_chunked c;
				struct h1_chunked_out out = { body_data, body_trailer, NULL };
				int done;
				ssize_t k;

				h1_chunked_init(&c);
				k = h1_chunked_feed(&c, b + n, size - n, &out, &done);
				ASSERT(k == -EBADMSG || (k >= 0 && (size_t)k <= size - n));
			}
		}
		if (h1_parse_response(&msg, b, n, get) >= 0)
			ASSERT(msg.status >= 100 && msg.status <= 599 &&
			       !((msg.flags & H1F_CHUNKED) && msg.framing != H1_BODY_CHUNKED));
		(void)h1_parse_response(&msg, b, n, head);
	}
	// Whatever the caller passes as head_len, the parsers stay inside it.
	(void)h1_parse_request(&msg, b, size, 0, &st);
	(void)h1_parse_response(&msg, b, size, get);
	return 0;
}
