// SPDX-License-Identifier: Apache-2.0
// h1_chunked: libFuzzer target for the chunked decoder. Whole, byte-by-byte
// and uneven feeds must agree exactly, and a decoded body re-encoded with
// h1_chunk_size_line must decode to the same data and trailers.
#include "proto/h1.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

struct result {
	int bad;
	int done;
	size_t consumed;
	char *data;		// decoded body (at most the input size)
	size_t data_len;
	char *tr;		// "name: value\r\n" per reported trailer
	size_t tr_len, tr_cap;
};

static void on_data(void *arg, const char *p, size_t len)
{
	struct result *r = arg;

	ASSERT(len > 0);
	memcpy(r->data + r->data_len, p, len);
	r->data_len += len;
}

static void on_trailer(void *arg, const char *name, size_t name_len,
		       const char *value, size_t value_len)
{
	struct result *r = arg;
	size_t need = name_len + value_len + 4;

	ASSERT(name_len > 0);
	if (r->tr_len + need > r->tr_cap) {
		r->tr_cap = (r->tr_len + need) * 2;
		r->tr = realloc(r->tr, r->tr_cap);
		ASSERT(r->tr);
	}
	memcpy(r->tr + r->tr_len, name, name_len);
	r->tr_len += name_len;
	memcpy(r->tr + r->tr_len, ": ", 2);
	r->tr_len += 2;
	memcpy(r->tr + r->tr_len, value, value_len);
	r->tr_len += value_len;
	memcpy(r->tr + r->tr_len, "\r\n", 2);
	r->tr_len += 2;
}

// run decodes in[0..len) in pieces of step bytes (0: all at once), each
// piece copied to its own heap block so ASan sees reads past it.
static void run(const uint8_t *in, size_t len, size_t step, struct result *r)
{
	struct h1_chunked c;
	struct h1_chunked_out out = { on_data, on_trailer, r };
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	r->data = malloc(len + 1);
	ASSERT(r->data);
	h1_chunked_init(&c);
	do {
		size_t n = step && len - off > step ? step : len - off;
		char *piece = malloc(n + 1);
		int done = -1;
		ssize_t k;

		ASSERT(piece);
		memcpy(piece, in + off, n);
		k = h1_chunked_feed(&c, piece, n, &out, &done);
		free(piece);
		if (k < 0) {
			ASSERT(k == -EBADMSG);
			r->bad = 1;
			return;
		}
		ASSERT((size_t)k <= n && (done == 0 || done == 1));
		ASSERT((size_t)k == n || done);
		r->consumed += k;
		off += n;
		if (done) {
			r->done = 1;
			return;
		}
	} while (off < len);
}

static void same(const struct result *a, const struct result *b)
{
	ASSERT(a->bad == b->bad);
	ASSERT(a->done == b->done);
	if (!a->bad)
		ASSERT(a->consumed == b->consumed);
	ASSERT(a->data_len == b->data_len && !memcmp(a->data, b->data, a->data_len));
	ASSERT(a->tr_len == b->tr_len && (!a->tr_len || !memcmp(a->tr, b->tr, a->tr_len)));
}

static void release(struct result *r)
{
	free(r->data);
	free(r->tr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result whole, bytes, uneven, again;
	size_t step = size ? (size_t)data[size - 1] % 13 + 2 : 2;

	run(data, size, 0, &whole);
	run(data, size, 1, &bytes);
	run(data, size, step, &uneven);
	same(&whole, &bytes);
	same(&whole, &uneven);
	ASSERT(whole.data_len <= size);
	if (whole.done) {
		// Re-encode as one chunk plus the reported trailers: every
		// reported trailer must be a field line the decoder accepts
		// and reports again, unchanged.
		size_t cap = whole.data_len + whole.tr_len + 64, o = 0;
		uint8_t *enc = malloc(cap);

		ASSERT(enc);
		if (whole.data_len) {
			o += h1_chunk_size_line((char *)enc, whole.data_len);
			memcpy(enc + o, whole.data, whole.data_len);
			o += whole.data_len;
			memcpy(enc + o, "\r\n", 2);
			o += 2;
		}
		memcpy(enc + o, "0\r\n", 3);
		o += 3;
		if (whole.tr_len)
			memcpy(enc + o, whole.tr, whole.tr_len);
		o += whole.tr_len;
		memcpy(enc + o, "\r\n", 2);
		o += 2;
		run(enc, o, 0, &again);
		ASSERT(again.done && again.consumed == o);
		ASSERT(again.data_len == whole.data_len && !memcmp(again.data, whole.data, whole.data_len));
		ASSERT(again.tr_len == whole.tr_len && (!again.tr_len || !memcmp(again.tr, whole.tr, again.tr_len)));
		release(&again);
		free(enc);
	}
	release(&whole);
	release(&bytes);
	release(&uneven);
	return 0;
}
