// SPDX-License-Identifier: Apache-2.0
// h2_client_test: drives proto/h2_client against the server codec (h2.c)
// in memory, the two outputs piped into each other, for requests, bodies
// past the windows with manual consumption on both sides, concurrency,
// trailers and shutdown; and against hand-made frames for a hostile
// upstream: bad preface, floods, push, oversized or endless header
// sections, GOAWAY and RST_STREAM(REFUSED_STREAM) retry semantics.
#include "proto/h2_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "core/bug.h"
#include "proto/h2.h"

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

#define MAX_STREAMS 256		// stream slots: ids 1, 3, ... 511
#define H(n, v) { (n), (v), sizeof(n) - 1, sizeof(v) - 1 }

static uint8_t pattern(size_t i, unsigned mod)
{
	return (uint8_t)(i % mod);
}

static bool has_pattern(const struct buf *b, unsigned mod)
{
	for (size_t i = 0; i < b->len; i++)
		if ((uint8_t)b->data[i] != pattern(i, mod))
			return false;
	return true;
}

// ---------------------------------------------------------------------------
// The upstream server: h2.c with an owner that answers as told.

struct sreq {
	struct srv *sv;
	struct h2_stream *s;
	int32_t id;
	struct buf body;
	size_t sent;
	bool ended;
};

struct srv {
	struct h2_conn *c;
	struct buf out;
	int err;
	bool hold;		// answer only when the test says so
	bool consume;		// consume request bytes as on_data delivers them
	size_t resp_body;	// response body bytes ("world" when 0)
	struct sreq *req[MAX_STREAMS];
	int num_headers, num_close, write_nobufs;
	char trailer[64];	// the last request trailer, "name=value"
};

static struct sreq *sreq_of(struct srv *sv, int32_t id)
{
	BUG_ON(id < 1 || (id - 1) / 2 >= MAX_STREAMS);
	return sv->req[(id - 1) / 2];
}

static void srv_send_more(struct sreq *r)
{
	static const struct h2_header tr[] = { H("grpc-status", "0"), H("x-trailer", "yes") };
	uint8_t chunk[16384];
	size_t total = r->sv->resp_body;

	if (!total) {
		CHECK(h2_stream_write(r->s, "world", 5) == 0, "write world");
		CHECK(h2_stream_end(r->s, tr, ARRAY_SIZE(tr)) == 0, "end");
		return;
	}
	while (r->sent < total) {
		size_t n = MIN(sizeof(chunk), total - r->sent);

		if (h2_stream_out_space(r->s) < n) {
			if (h2_stream_write(r->s, chunk, n) == -ENOBUFS)
				r->sv->write_nobufs++;
			return;
		}
		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern(r->sent + i, 251);
		CHECK(h2_stream_write(r->s, chunk, n) == 0, "write chunk");
		r->sent += n;
	}
	CHECK(h2_stream_end(r->s, tr, ARRAY_SIZE(tr)) == 0, "end big");
}

static void srv_respond(struct sreq *r)
{
	static const struct h2_header h[] = { H(":status", "200"), H("content-type", "text/plain") };

	CHECK(h2_stream_respond(r->s, h, ARRAY_SIZE(h), false) == 0, "respond");
	srv_send_more(r);
}

static int srv_on_headers(void *arg, struct h2_stream *s, const struct h2_header *h,
			  size_t num, bool end_stream)
{
	struct srv *sv = arg;
	const struct h2_header *p = h2_header_find(h, num, ":path");
	struct sreq *r = calloc(1, sizeof(*r));

	BUG_ON(!r);
	sv->num_headers++;
	r->sv = sv;
	r->s = s;
	r->id = h2_stream_id(s);
	h2_stream_set_data(s, r);
	sv->req[(r->id - 1) / 2] = r;
	if (p && !strcmp(p->value, "/fail"))
		return -EIO;
	return 0;
}

static int srv_on_data(void *arg, struct h2_stream *s, const char *p, size_t len)
{
	struct srv *sv = arg;
	struct sreq *r = h2_stream_data(s);

	if (sv->consume)
		h2_stream_consume(s, len);
	return buf_append(&r->body, p, len);
}

static int srv_on_trailers(void *arg, struct h2_stream *s, const struct h2_header *h,
			   size_t num)
{
	struct srv *sv = arg;

	if (num)
		snprintf(sv->trailer, sizeof(sv->trailer), "%s=%s", h[0].name, h[0].value);
	return 0;
}

static int srv_on_end_stream(void *arg, struct h2_stream *s)
{
	struct srv *sv = arg;
	struct sreq *r = h2_stream_data(s);

	r->ended = true;
	if (!sv->hold)
		srv_respond(r);
	return 0;
}

static void srv_on_stream_close(void *arg, struct h2_stream *s, uint32_t code)
{
	struct srv *sv = arg;
	struct sreq *r = h2_stream_data(s);

	sv->num_close++;
	sv->req[(r->id - 1) / 2] = NULL;
	buf_cleanup(&r->body);
	free(r);
}

static void srv_on_drain(void *arg, struct h2_stream *s)
{
	srv_send_more(h2_stream_data(s));
}

static const struct h2_callbacks srv_cb = {
	.on_headers = srv_on_headers,
	.on_data = srv_on_data,
	.on_trailers = srv_on_trailers,
	.on_end_stream = srv_on_end_stream,
	.on_stream_close = srv_on_stream_close,
	.on_drain = srv_on_drain,
};

static void srv_init(struct srv *sv, const struct h2_config *cfg)
{
	memset(sv, 0, sizeof(*sv));
	sv->c = h2_conn_new(cfg, &srv_cb, sv, &sv->out);
	BUG_ON(!sv->c);
}

static void srv_free(struct srv *sv)
{
	h2_conn_free(sv->c);
	buf_cleanup(&sv->out);
}

// ---------------------------------------------------------------------------
// The client's owner

struct creq {
	struct cli *cl;
	struct h2c_stream *s;
	int32_t id;
	int status;
	int num_interim;
	int num_headers_calls;
	size_t num_fields;
	bool headers_end_stream;
	struct buf body;
	char trailer[64];	// the first response trailer, "name=value"
	bool ended, closed;
	uint32_t code;
	size_t to_send, sent;	// request body bytes
	bool req_trailers, body_ended;
	int nobufs;		// writes refused with -ENOBUFS
};

struct cli {
	struct h2c_conn *c;
	struct buf out;
	int err;		// first non-zero h2c_conn_input/flush result
	size_t feed_step;	// 0: feed server bytes whole; else in pieces of this size
	bool consume;		// consume response bytes as on_data delivers them
	bool fail_headers;	// on_headers fails
	bool retry;		// on_stream_close reopens REFUSED_STREAM requests
	struct creq req[MAX_STREAMS];
	int num_req;
	int goaways;
	int32_t goaway_last;
	uint32_t goaway_code;
	uint32_t open_at_goaway;	// open streams when on_goaway ran
	int closes_by_code[16];
	int num_close;
	char status_order[8];	// "I" per interim, "F" for the final section
};

static struct creq *cli_open(struct cli *cl, const char *method, const char *path,
			     size_t body_len, bool trailers);

static void cli_send_more(struct creq *r)
{
	static const struct h2_header tr[] = { H("x-req-trailer", "t1") };
	uint8_t chunk[16384];

	if (r->body_ended)
		return;
	while (r->sent < r->to_send) {
		size_t n = MIN(sizeof(chunk), r->to_send - r->sent);

		if (h2c_stream_out_space(r->s) < n) {
			int err = h2c_stream_write(r->s, chunk, n);

			CHECK(err == -ENOBUFS, "full buffer: %d", err);
			r->nobufs++;
			return;
		}
		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern(r->sent + i, 239);
		CHECK(h2c_stream_write(r->s, chunk, n) == 0, "write");
		r->sent += n;
	}
	CHECK(h2c_stream_end(r->s, tr, r->req_trailers ? 1 : 0) == 0, "end request");
	r->body_ended = true;
	CHECK(h2c_stream_write(r->s, "x", 1) == -EINVAL, "write after end");
}

static int cli_on_headers(void *arg, struct h2c_stream *s, const struct h2_header *h,
			  size_t num, bool end_stream)
{
	struct cli *cl = arg;
	struct creq *r = h2c_stream_data(s);

	r->num_headers_calls++;
	r->num_fields = num;
	r->headers_end_stream = end_stream;
	CHECK(num >= 1 && !strcmp(h[0].name, ":status") && h[0].value[h[0].value_len] == 0,
	      ":status first");
	r->status = num ? atoi(h[0].value) : 0;
	strncat(cl->status_order, "F", sizeof(cl->status_order) - strlen(cl->status_order) - 1);
	return cl->fail_headers ? -EIO : 0;
}

static int cli_on_interim(void *arg, struct h2c_stream *s, const struct h2_header *h,
			  size_t num)
{
	struct cli *cl = arg;
	struct creq *r = h2c_stream_data(s);

	r->num_interim++;
	CHECK(num >= 1 && h[0].value[0] == '1', "1xx");
	strncat(cl->status_order, "I", sizeof(cl->status_order) - strlen(cl->status_order) - 1);
	return 0;
}

static int cli_on_data(void *arg, struct h2c_stream *s, const char *p, size_t len)
{
	struct cli *cl = arg;
	struct creq *r = h2c_stream_data(s);

	CHECK(r->num_headers_calls == 1, "data after the headers");
	if (cl->consume)
		h2c_stream_consume(s, len);
	return buf_append(&r->body, p, len);
}

static int cli_on_trailers(void *arg, struct h2c_stream *s, const struct h2_header *h,
			   size_t num)
{
	struct creq *r = h2c_stream_data(s);

	if (num)
		snprintf(r->trailer, sizeof(r->trailer), "%s=%s", h[0].name, h[0].value);
	return 0;
}

static int cli_on_end_stream(void *arg, struct h2c_stream *s)
{
	struct creq *r = h2c_stream_data(s);

	CHECK(!r->ended, "on_end_stream once");
	r->ended = true;
	return 0;
}

static void cli_on_stream_close(void *arg, struct h2c_stream *s, uint32_t code)
{
	struct cli *cl = arg;
	struct creq *r = h2c_stream_data(s);

	CHECK(!r->closed, "on_stream_close once");
	r->closed = true;
	r->code = code;
	r->s = NULL;
	cl->num_close++;
	cl->closes_by_code[MIN(code, 15u)]++;
	if (cl->retry && code == H2_REFUSED_STREAM && h2c_conn_can_open(cl->c))
		CHECK(cli_open(cl, "GET", "/retry", 0, false), "retry");
}

static void cli_on_drain(void *arg, struct h2c_stream *s)
{
	cli_send_more(h2c_stream_data(s));
}

static void cli_on_goaway(void *arg, int32_t last_stream_id, uint32_t error_code)
{
	struct cli *cl = arg;

	cl->goaways++;
	cl->goaway_last = last_stream_id;
	cl->goaway_code = error_code;
	cl->open_at_goaway = h2c_conn_open_streams(cl->c);
}

static const struct h2c_callbacks cli_cb = {
	.on_headers = cli_on_headers,
	.on_interim = cli_on_interim,
	.on_data = cli_on_data,
	.on_trailers = cli_on_trailers,
	.on_end_stream = cli_on_end_stream,
	.on_stream_close = cli_on_stream_close,
	.on_drain = cli_on_drain,
	.on_goaway = cli_on_goaway,
};

static void cli_init(struct cli *cl, const struct h2_config *cfg)
{
	memset(cl, 0, sizeof(*cl));
	cl->consume = true;
	cl->c = h2c_conn_new(cfg, &cli_cb, cl, &cl->out);
	BUG_ON(!cl->c);
}

static void cli_free(struct cli *cl)
{
	h2c_conn_free(cl->c);
	cl->c = NULL;
	buf_cleanup(&cl->out);
	for (int i = 0; i < cl->num_req; i++)
		buf_cleanup(&cl->req[i].body);
}

// cli_open opens a request; with a body of body_len bytes (and trailers
// if told) unless both are absent.
static struct creq *cli_open(struct cli *cl, const char *method, const char *path,
			     size_t body_len, bool trailers)
{
	const struct h2_header h[] = {
		{ ":method", method, 7, (uint32_t)strlen(method) },
		H(":scheme", "http"),
		H(":authority", "up"),
		{ ":path", path, 5, (uint32_t)strlen(path) },
	};
	bool end = !body_len && !trailers;
	struct creq *r;

	BUG_ON(cl->num_req >= MAX_STREAMS);
	r = &cl->req[cl->num_req];
	memset(r, 0, sizeof(*r));
	r->cl = cl;
	r->to_send = body_len;
	r->req_trailers = trailers;
	r->body_ended = end;
	r->s = h2c_stream_open(cl->c, h, ARRAY_SIZE(h), end, r);
	if (!r->s)
		return NULL;
	cl->num_req++;
	r->id = h2c_stream_id(r->s);
	CHECK(h2c_stream_data(r->s) == r, "data");
	if (!end)
		cli_send_more(r);
	return r;
}

static struct creq *creq_by_id(struct cli *cl, int32_t id)
{
	for (int i = 0; i < cl->num_req; i++)
		if (cl->req[i].id == id)
			return &cl->req[i];
	return NULL;
}

// cli_input feeds server bytes as the transport would, in pieces if told.
static void cli_input(struct cli *cl, const char *p, size_t len)
{
	size_t step = cl->feed_step ? cl->feed_step : len;

	for (size_t off = 0; off < len && !cl->err; off += step) {
		int err = h2c_conn_input(cl->c, p + off, MIN(step, len - off), &cl->out);

		if (err)
			cl->err = err;
	}
}

// pump moves bytes both ways until neither side has anything to say.
static void pump(struct cli *cl, struct srv *sv)
{
	for (int round = 0; round < 100000; round++) {
		bool moved = false;
		int err;

		if (!cl->err && (err = h2c_conn_flush(cl->c, &cl->out)))
			cl->err = err;
		if (buf_avail(&cl->out)) {
			moved = true;
			if (!sv->err && (err = h2_conn_input(sv->c, buf_head(&cl->out),
							     buf_avail(&cl->out), &sv->out)))
				sv->err = err;
			buf_consume(&cl->out, buf_avail(&cl->out));
		}
		if (!sv->err && (err = h2_conn_flush(sv->c, &sv->out)))
			sv->err = err;
		if (buf_avail(&sv->out)) {
			moved = true;
			cli_input(cl, buf_head(&sv->out), buf_avail(&sv->out));
			buf_consume(&sv->out, buf_avail(&sv->out));
		}
		if (!moved)
			return;
	}
	CHECK(0, "pump did not settle");
}

// ---------------------------------------------------------------------------
// Raw frames, for what a well-behaved server would never send

enum { F_DATA = 0, F_HEADERS = 1, F_RST = 3, F_SETTINGS = 4, F_PUSH = 5, F_PING = 6,
       F_GOAWAY = 7, F_WU = 8, F_CONT = 9 };
enum { FL_END_STREAM = 1, FL_ACK = 1, FL_END_HEADERS = 4 };

static void frame(struct buf *b, uint8_t type, uint8_t flags, uint32_t sid, const void *p,
		  size_t len)
{
	uint8_t h[9] = { (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags,
			 (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8),
			 (uint8_t)sid };

	buf_append(b, h, sizeof(h));
	buf_append(b, p, len);
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void rst(struct buf *b, uint32_t sid, uint32_t code)
{
	uint8_t p[4];

	be32(p, code);
	frame(b, F_RST, 0, sid, p, 4);
}

static void goaway(struct buf *b, uint32_t last, uint32_t code)
{
	uint8_t p[8];

	be32(p, last);
	be32(p + 4, code);
	frame(b, F_GOAWAY, 0, 0, p, 8);
}

static void settings1(struct buf *b, uint16_t id, uint32_t value)
{
	uint8_t p[6] = { (uint8_t)(id >> 8), (uint8_t)id };

	be32(p + 2, value);
	frame(b, F_SETTINGS, 0, 0, p, 6);
}

// HPACK: ":status: 200" is static entry 8; other values are literals
// without indexing, so no table state is involved.
static const uint8_t status_200[] = { 0x88 };
static const uint8_t status_100[] = { 0x08, 0x03, '1', '0', '0' };

// hpack_int appends v with an n-bit prefix whose other bits are first.
static void hpack_int(struct buf *b, uint8_t first, unsigned n, size_t v)
{
	uint8_t max = (uint8_t)((1u << n) - 1), c;

	if (v < max) {
		c = (uint8_t)(first | v);
		buf_append(b, &c, 1);
		return;
	}
	c = first | max;
	buf_append(b, &c, 1);
	for (v -= max; v >= 128; v /= 128) {
		c = (uint8_t)(0x80 | (v % 128));
		buf_append(b, &c, 1);
	}
	c = (uint8_t)v;
	buf_append(b, &c, 1);
}

// lit appends "name: value_len x fill" as a literal without indexing.
static void lit(struct buf *b, const char *name, size_t value_len, char fill)
{
	static char v[1 << 16];

	BUG_ON(value_len > sizeof(v));
	memset(v, fill, value_len);
	hpack_int(b, 0x00, 4, 0);
	hpack_int(b, 0x00, 7, strlen(name));
	buf_appends(b, name);
	hpack_int(b, 0x00, 7, value_len);
	buf_append(b, v, value_len);
}

// headers appends a header block as HEADERS + CONTINUATION frames.
static void headers(struct buf *b, uint32_t sid, const struct buf *blk, bool end_stream)
{
	size_t off = 0;

	do {
		size_t n = MIN((size_t)16384, blk->len - off);
		uint8_t fl = off + n == blk->len ? FL_END_HEADERS : 0;

		if (!off)
			frame(b, F_HEADERS, fl | (end_stream ? FL_END_STREAM : 0), sid, blk->data, n);
		else
			frame(b, F_CONT, fl, sid, blk->data + off, n);
		off += n;
	} while (off < blk->len);
}

// scan summarizes the frames the client sent.
struct scan {
	int goaways, rsts, headers, settings, data;
	uint32_t goaway_code, last_rst_code, last_rst_sid;
	uint64_t wu_conn, wu_streams;
};

static void scan(const struct buf *b, struct scan *s)
{
	const uint8_t *p = (const uint8_t *)buf_head(b);
	size_t len = buf_avail(b), off = 0;

	memset(s, 0, sizeof(*s));
	if (len >= NGHTTP2_CLIENT_MAGIC_LEN && !memcmp(p, NGHTTP2_CLIENT_MAGIC,
						       NGHTTP2_CLIENT_MAGIC_LEN))
		off = NGHTTP2_CLIENT_MAGIC_LEN;
	while (off + 9 <= len) {
		size_t flen = (size_t)p[off] << 16 | (size_t)p[off + 1] << 8 | p[off + 2];
		uint32_t sid = get32(p + off + 5) & 0x7fffffff;
		const uint8_t *pl = p + off + 9;

		if (off + 9 + flen > len)
			break;
		switch (p[off + 3]) {
		case F_GOAWAY:
			s->goaways++;
			s->goaway_code = get32(pl + 4);
			break;
		case F_RST:
			s->rsts++;
			s->last_rst_code = get32(pl);
			s->last_rst_sid = sid;
			break;
		case F_HEADERS:
			s->headers++;
			break;
		case F_SETTINGS:
			s->settings++;
			break;
		case F_DATA:
			s->data++;
			break;
		case F_WU:
			if (sid)
				s->wu_streams += get32(pl) & 0x7fffffff;
			else
				s->wu_conn += get32(pl) & 0x7fffffff;
			break;
		}
		off += 9 + flen;
	}
}

// raw_start makes a client whose server is the test: the server preface
// (settings, given as one SETTINGS frame's payload, then the ACK of ours)
// is fed and the client's output so far dropped.
static void raw_start(struct cli *cl, const struct h2_config *cfg, const void *settings,
		      size_t len)
{
	struct buf in;

	cli_init(cl, cfg);
	buf_init(&in);
	frame(&in, F_SETTINGS, 0, 0, settings, len);
	frame(&in, F_SETTINGS, FL_ACK, 0, NULL, 0);
	cli_input(cl, in.data, in.len);
	buf_consume(&cl->out, buf_avail(&cl->out));
	buf_cleanup(&in);
}

// raw_feed sends what the client has pending (as a transport would before
// the answer comes), feeds the frames, and scans and drops everything the
// client sent since the last raw_feed.
static void raw_feed(struct cli *cl, struct buf *in, struct scan *sc)
{
	int err;

	if (!cl->err && (err = h2c_conn_flush(cl->c, &cl->out)))
		cl->err = err;
	cli_input(cl, in->data, in->len);
	in->off = in->len = 0;
	if (!cl->err && (err = h2c_conn_flush(cl->c, &cl->out)))
		cl->err = err;
	scan(&cl->out, sc);
	buf_consume(&cl->out, buf_avail(&cl->out));
}

// ---------------------------------------------------------------------------
// Tests against the server codec

// test_get: a GET and a small POST with trailers both ways, with the
// server's bytes fed whole and split.
static void test_get(size_t feed_step)
{
	struct cli cl;
	struct srv sv;
	struct creq *r;

	srv_init(&sv, NULL);
	cli_init(&cl, NULL);
	cl.feed_step = feed_step;
	CHECK(!h2c_conn_settings_acked(cl.c), "step %zu: not acked yet", feed_step);
	r = cli_open(&cl, "GET", "/", 0, false);
	CHECK(r && h2c_stream_id(r->s) == 1, "step %zu: stream 1", feed_step);
	CHECK(h2c_conn_open_streams(cl.c) == 1, "one open");
	pump(&cl, &sv);
	CHECK(cl.err == 0 && sv.err == 0, "step %zu: err %d/%d", feed_step, cl.err, sv.err);
	CHECK(r->status == 200 && r->num_fields == 2 && !r->headers_end_stream,
	      "step %zu: status %d, %zu fields", feed_step, r->status, r->num_fields);
	CHECK(r->body.len == 5 && !memcmp(r->body.data, "world", 5), "body");
	CHECK(!strcmp(r->trailer, "grpc-status=0"), "response trailers: %s", r->trailer);
	CHECK(r->ended && r->closed && r->code == H2_NO_ERROR, "step %zu: closed %d code %u",
	      feed_step, r->closed, r->code);
	CHECK(h2c_conn_open_streams(cl.c) == 0 && h2c_conn_can_open(cl.c), "none open");
	CHECK(h2c_conn_settings_acked(cl.c), "acked");
	// A POST with a body and trailers on the same connection.
	r = cli_open(&cl, "POST", "/up", 3000, true);
	pump(&cl, &sv);
	CHECK(r && r->id == 3 && r->status == 200 && r->code == H2_NO_ERROR, "POST");
	CHECK(!strcmp(sv.trailer, "x-req-trailer=t1"), "request trailers: %s", sv.trailer);
	CHECK(h2c_conn_stats(cl.c)->streams == 2 && h2c_conn_stats(cl.c)->protocol_errors == 0 &&
	      h2c_conn_stats(cl.c)->unprocessed == 0, "stats");
	// Owner failures on both sides reset the stream.
	r = cli_open(&cl, "GET", "/fail", 0, false);
	pump(&cl, &sv);
	CHECK(r && r->closed && r->code == H2_INTERNAL_ERROR && r->status == 0,
	      "server owner failed: %u", r ? r->code : 0);
	cl.fail_headers = true;
	r = cli_open(&cl, "GET", "/", 0, false);
	pump(&cl, &sv);
	CHECK(r && r->closed && r->code == H2_INTERNAL_ERROR && r->body.len == 0,
	      "client owner failed: %u", r ? r->code : 0);
	CHECK(cl.err == 0 && sv.err == 0, "connection survives");
	errno = 0;
	CHECK(!h2c_stream_open(cl.c, NULL, 0, true, NULL) && errno == EINVAL, "no fields");
	// The client's graceful GOAWAY: no new stream, then the session ends.
	cl.fail_headers = false;
	r = cli_open(&cl, "GET", "/", 0, false);
	CHECK(h2c_conn_goaway(cl.c, H2_NO_ERROR) == 0, "goaway");
	CHECK(!h2c_conn_can_open(cl.c) && !cli_open(&cl, "GET", "/", 0, false) && errno == EAGAIN,
	      "no stream after our GOAWAY");
	pump(&cl, &sv);
	CHECK(r && r->code == H2_NO_ERROR && r->status == 200, "last stream completes");
	CHECK(cl.err == -ESHUTDOWN && h2c_conn_want_close(cl.c), "client ended: %d", cl.err);
	CHECK(h2_conn_stats(sv.c)->goaway_recv == 1, "server saw GOAWAY");
	cli_free(&cl);
	srv_free(&sv);

	// An error GOAWAY of the owner's: the session ends at once; not the
	// server's protocol error.
	srv_init(&sv, NULL);
	sv.hold = true;
	cli_init(&cl, NULL);
	r = cli_open(&cl, "GET", "/", 0, false);
	pump(&cl, &sv);
	CHECK(h2c_conn_goaway(cl.c, H2_INTERNAL_ERROR) == 0 && !h2c_conn_can_open(cl.c),
	      "error goaway");
	pump(&cl, &sv);
	CHECK(cl.err == -ESHUTDOWN && h2c_conn_want_close(cl.c), "ended: %d", cl.err);
	CHECK(h2c_conn_stats(cl.c)->goaway_sent == 1 &&
	      h2c_conn_stats(cl.c)->protocol_errors == 0, "not counted as protocol error");
	CHECK(h2_conn_stats(sv.c)->goaway_recv == 1, "server saw it");
	cli_free(&cl);
	CHECK(r && r->code == H2_CANCEL, "open stream cancelled: %u", r ? r->code : 0);
	srv_free(&sv);
}

// test_flow_control: a 300 KiB POST answered with 300 KiB, manual
// consumption on both sides: no side gets more than a window ahead of
// what its owner consumed, and the writers wait (-ENOBUFS, on_drain).
static void test_flow_control(void)
{
	const size_t total = 300 * 1024;
	struct h2_config scfg;
	struct cli cl;
	struct srv sv;
	struct creq *r;
	struct sreq *q;
	size_t consumed = 0;
	int rounds = 0;

	h2_config_default(&scfg);
	scfg.manual_consume = true;
	srv_init(&sv, &scfg);
	sv.hold = true;
	sv.resp_body = total;
	cli_init(&cl, NULL);
	cl.consume = false;
	r = cli_open(&cl, "POST", "/up", total, false);
	CHECK(r && r->nobufs == 1 && r->sent == H2_STREAM_OUT_MAX - H2_STREAM_OUT_MAX % 16384,
	      "request buffer bounded: %zu", r ? r->sent : 0);
	pump(&cl, &sv);
	q = sreq_of(&sv, 1);
	CHECK(q && q->body.len == H2_INITIAL_WINDOW, "request: one window: %zu",
	      q ? q->body.len : 0);
	CHECK(r && r->sent - (q ? q->body.len : 0) <= H2_STREAM_OUT_MAX + 16384,
	      "client holds at most its buffer: %zu", r ? r->sent : 0);
	pump(&cl, &sv);
	CHECK(q && q->body.len == H2_INITIAL_WINDOW, "nothing moves unconsumed");
	while (q && !q->ended && rounds++ < 100) {
		size_t before = q->body.len;

		h2_stream_consume(q->s, q->body.len - consumed);
		consumed = q->body.len;
		pump(&cl, &sv);
		CHECK(q->body.len > before && q->body.len - consumed <= H2_INITIAL_WINDOW,
		      "request round %d: %zu new", rounds, q->body.len - before);
	}
	CHECK(q && q->ended && q->body.len == total && has_pattern(&q->body, 239),
	      "request complete and intact: %zu in %d rounds", q ? q->body.len : 0, rounds);
	CHECK(r && r->nobufs >= 3, "client writer waited %d times", r ? r->nobufs : 0);
	// The response, the other way.
	srv_respond(q);
	pump(&cl, &sv);
	CHECK(r && r->status == 200 && r->body.len == H2_INITIAL_WINDOW,
	      "response: one window: %zu", r ? r->body.len : 0);
	CHECK(sv.write_nobufs >= 1, "server writer waits");
	pump(&cl, &sv);
	CHECK(r && r->body.len == H2_INITIAL_WINDOW, "nothing moves unconsumed");
	consumed = 0;
	rounds = 0;
	while (r && !r->closed && rounds++ < 100) {
		size_t before = r->body.len;

		h2c_stream_consume(r->s, r->body.len - consumed);
		consumed = r->body.len;
		pump(&cl, &sv);
		CHECK(r->body.len > before && r->body.len - consumed <= H2_INITIAL_WINDOW,
		      "response round %d: %zu new", rounds, r->body.len - before);
	}
	CHECK(r && r->closed && r->code == H2_NO_ERROR && r->body.len == total &&
	      has_pattern(&r->body, 251), "response complete and intact: %zu",
	      r ? r->body.len : 0);
	CHECK(rounds >= 4 && sv.write_nobufs >= 2, "rounds %d, server waited %d", rounds,
	      sv.write_nobufs);
	cli_free(&cl);
	srv_free(&sv);
}

// test_conn_window: 20 responses of 128 KiB, none consumed: the client's
// connection window (1 MiB) stops them all at 1 MiB together, short of the
// 20 stream windows; then each consumed round lets at most 1 MiB more in.
static void test_conn_window(void)
{
	const size_t each = 2 * H2_INITIAL_WINDOW;
	struct cli cl;
	struct srv sv;
	size_t got = 0, before;
	int rounds = 0;

	srv_init(&sv, NULL);
	sv.resp_body = each;
	cli_init(&cl, NULL);
	cl.consume = false;
	for (int i = 0; i < 20; i++)
		CHECK(cli_open(&cl, "GET", "/", 0, false), "open %d", i);
	pump(&cl, &sv);
	for (int i = 0; i < 20; i++)
		got += cl.req[i].body.len;
	CHECK(got == H2_CONN_WINDOW && cl.num_close == 0, "held at the connection window: %zu",
	      got);
	pump(&cl, &sv);
	before = got;
	for (got = 0; got < 20 * each && rounds++ < 20; before = got) {
		for (int i = 0; i < 20; i++)
			if (cl.req[i].s)
				h2c_stream_consume(cl.req[i].s, cl.req[i].body.len);
		pump(&cl, &sv);
		got = 0;
		for (int i = 0; i < 20; i++)
			got += cl.req[i].body.len;
		// Streams that end give their unconsumed bytes back as they
		// close, so a round may bring more than one window.
		CHECK(got > before, "round %d: %zu more", rounds, got - before);
	}
	CHECK(got == 20 * each && cl.closes_by_code[0] == 20, "all through: %zu, %d closed", got,
	      cl.closes_by_code[0]);
	cli_free(&cl);
	srv_free(&sv);
}

// test_concurrency: 100 streams (the server's limit) and then none until
// one closes; our own cap; the server lowering its limit mid-connection.
static void test_concurrency(void)
{
	struct h2_config cfg;
	struct cli cl;
	struct srv sv;
	struct scan sc;
	struct buf in;
	struct creq *r;
	int opened = 0;

	srv_init(&sv, NULL);
	sv.hold = true;
	cli_init(&cl, NULL);
	pump(&cl, &sv);
	CHECK(h2c_conn_peer_max_streams(cl.c) == 100, "peer max %u",
	      h2c_conn_peer_max_streams(cl.c));
	while (h2c_conn_can_open(cl.c) && opened < 200)
		opened += cli_open(&cl, "GET", "/", 0, false) != NULL;
	CHECK(opened == 100 && h2c_conn_open_streams(cl.c) == 100, "opened %d", opened);
	errno = 0;
	CHECK(!cli_open(&cl, "GET", "/", 0, false) && errno == EAGAIN, "101st: errno %d", errno);
	pump(&cl, &sv);
	CHECK(sv.num_headers == 100 && h2_conn_stats(sv.c)->refused == 0, "server got %d",
	      sv.num_headers);
	CHECK(!h2c_conn_can_open(cl.c), "still full");
	srv_respond(sreq_of(&sv, 77));
	pump(&cl, &sv);
	r = creq_by_id(&cl, 77);
	CHECK(r && r->closed && r->code == 0 && h2c_conn_open_streams(cl.c) == 99,
	      "one closed: %u open", h2c_conn_open_streams(cl.c));
	CHECK(h2c_conn_can_open(cl.c) && cli_open(&cl, "GET", "/", 0, false) &&
	      !h2c_conn_can_open(cl.c), "one more, then full again");
	pump(&cl, &sv);
	CHECK(sv.num_headers == 101 && sv.err == 0 && cl.err == 0, "server got %d",
	      sv.num_headers);
	cli_free(&cl);
	CHECK(cl.closes_by_code[H2_CANCEL] == 100, "free cancels the open streams: %d",
	      cl.closes_by_code[H2_CANCEL]);
	srv_free(&sv);

	// Our cap below the server's.
	srv_init(&sv, NULL);
	h2_config_default(&cfg);
	cfg.max_concurrent_streams = 5;
	cli_init(&cl, &cfg);
	sv.hold = true;
	for (opened = 0; h2c_conn_can_open(cl.c) && opened < 200;)
		opened += cli_open(&cl, "GET", "/", 0, false) != NULL;
	CHECK(opened == 5, "our cap: %d", opened);
	cli_free(&cl);
	srv_free(&sv);

	// The server lowers SETTINGS_MAX_CONCURRENT_STREAMS from 100 to 2.
	buf_init(&in);
	raw_start(&cl, NULL, "\x00\x03\x00\x00\x00\x64", 6);
	CHECK(h2c_conn_peer_max_streams(cl.c) == 100, "raw peer max %u",
	      h2c_conn_peer_max_streams(cl.c));
	for (int i = 0; i < 4; i++)
		CHECK(cli_open(&cl, "GET", "/", 0, false), "open %d", i);
	settings1(&in, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 2);
	raw_feed(&cl, &in, &sc);
	CHECK(h2c_conn_peer_max_streams(cl.c) == 2 && !h2c_conn_can_open(cl.c),
	      "lowered: %u", h2c_conn_peer_max_streams(cl.c));
	for (uint32_t id = 1; id <= 3; id += 2)
		frame(&in, F_HEADERS, FL_END_HEADERS | FL_END_STREAM, id, status_200, 1);
	raw_feed(&cl, &in, &sc);
	CHECK(h2c_conn_open_streams(cl.c) == 2 && !h2c_conn_can_open(cl.c),
	      "2 of 4 closed: %u open", h2c_conn_open_streams(cl.c));
	frame(&in, F_HEADERS, FL_END_HEADERS | FL_END_STREAM, 5, status_200, 1);
	raw_feed(&cl, &in, &sc);
	CHECK(h2c_conn_open_streams(cl.c) == 1 && h2c_conn_can_open(cl.c), "below 2 again");
	frame(&in, F_HEADERS, FL_END_HEADERS | FL_END_STREAM, 7, status_200, 1);
	raw_feed(&cl, &in, &sc);
	CHECK(cl.closes_by_code[0] == 4 && cl.err == 0, "4 complete, err %d", cl.err);
	cli_free(&cl);
	buf_cleanup(&in);
}

// test_server_shutdown: the server's graceful shutdown lets the open
// stream complete and refuses nothing that it processed.
static void test_server_shutdown(void)
{
	struct cli cl;
	struct srv sv;
	struct creq *r;

	srv_init(&sv, NULL);
	sv.hold = true;
	cli_init(&cl, NULL);
	r = cli_open(&cl, "GET", "/", 0, false);
	pump(&cl, &sv);
	CHECK(h2_conn_shutdown(sv.c) == 0, "shutdown");
	pump(&cl, &sv);
	CHECK(cl.goaways == 2 && cl.goaway_last == 1 && cl.goaway_code == 0,
	      "%d GOAWAY, last %d", cl.goaways, cl.goaway_last);
	CHECK(!h2c_conn_can_open(cl.c), "no new stream after GOAWAY");
	srv_respond(sreq_of(&sv, 1));
	pump(&cl, &sv);
	CHECK(r && r->code == H2_NO_ERROR && r->status == 200, "stream 1 completes");
	CHECK(cl.err == -ESHUTDOWN && sv.err == -ESHUTDOWN, "ended: %d %d", cl.err, sv.err);
	cli_free(&cl);
	srv_free(&sv);
}

// ---------------------------------------------------------------------------
// Tests against a hostile server

static void test_bad_preface(void)
{
	static const struct {
		const char *id;
		const char *in;
		size_t len;
	} rows[] = {
		{ "HTTP/1.1 reply", "HTTP/1.1 400 Bad Request\r\n\r\n", 28 },
		{ "TLS alert", "\x15\x03\x03\x00\x02\x02\x28\x00\x00", 9 },
		{ "SETTINGS ACK first", "\x00\x00\x00\x04\x01\x00\x00\x00\x00", 9 },
		{ "PING first", "\x00\x00\x08\x06\x00\x00\x00\x00\x00pingpong", 17 },
		{ "client magic", NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN },
	};
	struct cli cl;
	struct scan sc;
	struct buf in;
	struct creq *r;

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		cli_init(&cl, NULL);
		r = cli_open(&cl, "GET", "/", 0, false);
		CHECK(h2c_conn_flush(cl.c, &cl.out) == 0, "flush");
		buf_consume(&cl.out, buf_avail(&cl.out));
		cli_input(&cl, rows[i].in, rows[i].len);
		scan(&cl.out, &sc);
		CHECK(cl.err == -EPROTO, "%s: err %d", rows[i].id, cl.err);
		CHECK(h2c_conn_stats(cl.c)->bad_preface, "%s: bad_preface", rows[i].id);
		CHECK(sc.goaways == 1 && sc.goaway_code == H2_PROTOCOL_ERROR, "%s: GOAWAY %d",
		      rows[i].id, sc.goaways);
		CHECK(h2c_conn_want_close(cl.c) && !h2c_conn_can_open(cl.c), "%s: closing",
		      rows[i].id);
		CHECK(h2c_conn_input(cl.c, "x", 1, &cl.out) == -EPROTO, "%s: sticky", rows[i].id);
		cli_free(&cl);
		CHECK(r && r->closed && r->code == H2_CANCEL, "%s: stream cancelled", rows[i].id);
	}
	// A good preface split at every byte.
	buf_init(&in);
	cli_init(&cl, NULL);
	cl.feed_step = 1;
	frame(&in, F_SETTINGS, 0, 0, "\x00\x03\x00\x00\x00\x0a", 6);
	frame(&in, F_SETTINGS, FL_ACK, 0, NULL, 0);
	cli_input(&cl, in.data, in.len);
	CHECK(cl.err == 0 && !h2c_conn_stats(cl.c)->bad_preface &&
	      h2c_conn_peer_max_streams(cl.c) == 10 && h2c_conn_settings_acked(cl.c),
	      "split preface: %d", cl.err);
	cli_free(&cl);
	buf_cleanup(&in);
}

// test_settings: the client preface, our SETTINGS and the window.
static void test_settings(void)
{
	static const struct {
		uint16_t id;
		uint32_t value;
	} want[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 65536 },
		{ NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 4096 },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 65536 },
		{ NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
	};
	const uint8_t *p;
	struct cli cl;
	size_t len, n;

	cli_init(&cl, NULL);
	p = (const uint8_t *)buf_head(&cl.out);
	len = buf_avail(&cl.out);
	CHECK(len > NGHTTP2_CLIENT_MAGIC_LEN &&
	      !memcmp(p, NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN), "client magic");
	p += NGHTTP2_CLIENT_MAGIC_LEN;
	len -= NGHTTP2_CLIENT_MAGIC_LEN;
	CHECK(len >= 9 && p[3] == F_SETTINGS, "SETTINGS first");
	n = (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
	CHECK(n == 6 * ARRAY_SIZE(want) && len >= 9 + n, "%zu bytes of settings", n);
	for (size_t i = 0; i < ARRAY_SIZE(want) && 9 + 6 * (i + 1) <= len; i++) {
		const uint8_t *e = p + 9 + 6 * i;

		CHECK((e[0] << 8 | e[1]) == want[i].id && get32(e + 2) == want[i].value,
		      "setting %zu: id %u value %u", i, e[0] << 8 | e[1], get32(e + 2));
	}
	p += 9 + n;
	CHECK(len >= 9 + n + 13 && p[3] == F_WU && get32(p + 9) == H2_CONN_WINDOW - 65535,
	      "connection window raised to 1 MiB");
	cli_free(&cl);
}

// test_floods: a server that floods SETTINGS or PING while we cannot send
// (the ACKs queue behind out_highwat), or sends more SETTINGS entries than
// we take, empty DATA frames, WINDOW_UPDATEs, or endless CONTINUATION.
static void test_floods(void)
{
	static const struct {
		const char *id;
		uint8_t type;
		size_t len;	// payload bytes per frame
	} acks[] = {
		{ "SETTINGS", F_SETTINGS, 6 },
		{ "PING", F_PING, 8 },
	};
	struct cli cl;
	struct scan sc;
	struct buf in;
	int rounds;

	buf_init(&in);
	for (size_t i = 0; i < ARRAY_SIZE(acks); i++) {
		static const uint8_t payload[8] = { 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 'x', 'y' };

		raw_start(&cl, NULL, NULL, 0);
		for (rounds = 0; rounds < 100 && !cl.err; rounds++) {
			for (int j = 0; j < 500; j++)
				frame(&in, acks[i].type, 0, 0, payload, acks[i].len);
			cli_input(&cl, in.data, in.len);
			in.off = in.len = 0;
			CHECK(buf_avail(&cl.out) <= H2_OUT_HIGHWAT + 64, "%s: output bounded: %zu",
			      acks[i].id, buf_avail(&cl.out));
		}
		CHECK(cl.err == -EPROTO && rounds < 20, "%s flood: err %d after %d rounds",
		      acks[i].id, cl.err, rounds);
		CHECK(h2c_conn_stats(cl.c)->protocol_errors == 1, "%s: counted", acks[i].id);
		cli_free(&cl);
		// The same frames read promptly are fine.
		raw_start(&cl, NULL, NULL, 0);
		for (rounds = 0; rounds < 5 && !cl.err; rounds++) {
			for (int j = 0; j < 500; j++)
				frame(&in, acks[i].type, 0, 0, payload, acks[i].len);
			cli_input(&cl, in.data, in.len);
			in.off = in.len = 0;
			buf_consume(&cl.out, buf_avail(&cl.out));
			while (!cl.err && h2c_conn_flush(cl.c, &cl.out) == 0 && buf_avail(&cl.out))
				buf_consume(&cl.out, buf_avail(&cl.out));
		}
		CHECK(cl.err == 0, "%s read promptly: %d", acks[i].id, cl.err);
		cli_free(&cl);
	}

	// 33 SETTINGS entries in one frame.
	raw_start(&cl, NULL, NULL, 0);
	for (int j = 0; j < 33; j++)
		settings1(&in, NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 4096);
	{
		struct buf one;

		// Merge the 33 frames' payloads into one frame.
		buf_init(&one);
		for (int j = 0; j < 33; j++)
			buf_append(&one, in.data + 15 * j + 9, 6);
		in.off = in.len = 0;
		frame(&in, F_SETTINGS, 0, 0, one.data, one.len);
		buf_cleanup(&one);
	}
	raw_feed(&cl, &in, &sc);
	CHECK(cl.err == -EPROTO, "33 settings: err %d", cl.err);
	cli_free(&cl);

	// Empty DATA frames without END_STREAM: one is tolerated.
	raw_start(&cl, NULL, NULL, 0);
	CHECK(cli_open(&cl, "GET", "/", 0, false), "open");
	frame(&in, F_HEADERS, FL_END_HEADERS, 1, status_200, 1);
	frame(&in, F_DATA, 0, 1, NULL, 0);
	frame(&in, F_DATA, 0, 1, "x", 1);
	frame(&in, F_DATA, 0, 1, NULL, 0);
	raw_feed(&cl, &in, &sc);
	CHECK(cl.err == 0 && sc.goaways == 0, "single empty frames: %d", cl.err);
	frame(&in, F_DATA, 0, 1, NULL, 0);
	raw_feed(&cl, &in, &sc);
	CHECK(cl.err == -EPROTO && sc.goaways == 1 && sc.goaway_code == H2_ENHANCE_YOUR_CALM,
	      "empty DATA flood: err %d GOAWAY %d code %u", cl.err, sc.goaways, sc.goaway_code);
	CHECK(h2c_conn_stats(cl.c)->empty_frames == 3, "counted %llu",
	      (unsigned long long)h2c_conn_stats(cl.c)->empty_frames);
	cli_free(&cl);
	CHECK(cl.req[0].closed && cl.req[0].code == H2_CANCEL, "stream cancelled");

	// WINDOW_UPDATE churn.
	raw_start(&cl, NULL, NULL, 0);
	for (int j = 0; j < 100; j++) {
		uint8_t inc[4];

		be32(inc, 1);
		frame(&in, F_WU, 0, 0, inc, 4);
	}
	raw_feed(&cl, &in, &sc);
	CHECK(cl.err == -EPROTO && sc.goaway_code == H2_ENHANCE_YOUR_CALM,
	      "WINDOW_UPDATE flood: err %d code %u", cl.err, sc.goaway_code);
	cli_free(&cl);

	// CONTINUATION without end.
	raw_start(&cl, NULL, NULL, 0);
	CHECK(cli_open(&cl, "GET", "/", 0, false), "open");
	frame(&in, F_HEADERS, 0, 1, status_200, 1);
	for (rounds = 0; rounds < 1000 && !cl.err; rounds++) {
		struct buf blk;

		buf_init(&blk);
		lit(&blk, "x-c", 50, 'c');
		frame(&in, F_CONT, 0, 1, blk.data, blk.len);
		raw_feed(&cl, &in, &sc);
		buf_cleanup(&blk);
	}
	CHECK(cl.err == -EPROTO && rounds <= H2_MAX_CONTINUATIONS + 2,
	      "CONTINUATION flood: err %d after %d", cl.err, rounds);
	CHECK(cl.req[0].num_headers_calls == 0, "nothing delivered");
	cli_free(&cl);
	buf_cleanup(&in);
}

// test_push: a PUSH_PROMISE is a connection error, before and after the
// server acknowledged our ENABLE_PUSH=0.
static void test_push(void)
{
	// Promised stream 2, then GET / as the promised request.
	static const uint8_t promise[] = { 0, 0, 0, 2, 0x82, 0x86, 0x84, 0x01, 0x01, 'a' };
	struct cli cl;
	struct scan sc;
	struct buf in;

	buf_init(&in);
	for (int acked = 0; acked < 2; acked++) {
		cli_init(&cl, NULL);
		CHECK(cli_open(&cl, "GET", "/", 0, false), "open");
		CHECK(h2c_conn_flush(cl.c, &cl.out) == 0, "flush");
		frame(&in, F_SETTINGS, 0, 0, NULL, 0);
		if (acked)
			frame(&in, F_SETTINGS, FL_ACK, 0, NULL, 0);
		frame(&in, F_PUSH, FL_END_HEADERS, 1, promise, sizeof(promise));
		frame(&in, F_HEADERS, FL_END_HEADERS | FL_END_STREAM, 1, status_200, 1);
		raw_feed(&cl, &in, &sc);
		CHECK(cl.err == -EPROTO && sc.goaways == 1 && sc.goaway_code == H2_PROTOCOL_ERROR,
		      "push (acked %d): err %d GOAWAY %d code %u", acked, cl.err, sc.goaways,
		      sc.goaway_code);
		CHECK(h2c_conn_stats(cl.c)->protocol_errors == 1, "counted");
		CHECK(cl.req[0].num_headers_calls == 0, "response after the push ignored");
		cli_free(&cl);
	}
	buf_cleanup(&in);
}

// test_header_limits: response header sections over the limits reset the
// stream (counted), never reach the owner and leave the connection up.
static void test_header_limits(void)
{
	static const struct {
		const char *id;
		size_t fields, value_len;	// regular fields after :status
		bool over;
	} rows[] = {
		{ "63 KiB", 7, 9000, false },
		{ "72 KiB", 8, 9000, true },
		{ "100 fields", 99, 1, false },
		{ "101 fields", 100, 1, true },
		{ "one 64 KiB field", 1, 65500, true },
	};
	struct cli cl;
	struct scan sc;
	struct buf in, blk;
	uint64_t overflows = 0;

	buf_init(&in);
	buf_init(&blk);
	raw_start(&cl, NULL, NULL, 0);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct creq *r = cli_open(&cl, "GET", "/", 0, false);

		CHECK(r, "%s: open", rows[i].id);
		if (!r)
			break;
		blk.off = blk.len = 0;
		buf_append(&blk, status_200, sizeof(status_200));
		for (size_t j = 0; j < rows[i].fields; j++) {
			char name[24];

			snprintf(name, sizeof(name), "x-%zu", j);
			lit(&blk, name, rows[i].value_len, 'v');
		}
		headers(&in, (uint32_t)r->id, &blk, true);
		raw_feed(&cl, &in, &sc);
		overflows += rows[i].over;
		CHECK(cl.err == 0, "%s: err %d", rows[i].id, cl.err);
		CHECK(r->closed, "%s: closed", rows[i].id);
		if (rows[i].over) {
			CHECK(r->num_headers_calls == 0 && r->code == H2_PROTOCOL_ERROR,
			      "%s: delivered %d, code %u", rows[i].id, r->num_headers_calls, r->code);
			CHECK(sc.rsts == 1 && sc.last_rst_code == H2_PROTOCOL_ERROR &&
			      sc.last_rst_sid == (uint32_t)r->id, "%s: RST %d", rows[i].id, sc.rsts);
		} else {
			CHECK(r->num_headers_calls == 1 && r->num_fields == rows[i].fields + 1 &&
			      r->code == H2_NO_ERROR, "%s: %zu fields, code %u", rows[i].id,
			      r->num_fields, r->code);
		}
		CHECK(h2c_conn_stats(cl.c)->header_overflows == overflows, "%s: overflows %llu",
		      rows[i].id, (unsigned long long)h2c_conn_stats(cl.c)->header_overflows);
	}
	cli_free(&cl);

	// HPACK bomb: a 4000-byte value in the table, then 1000 references.
	raw_start(&cl, NULL, NULL, 0);
	CHECK(cli_open(&cl, "GET", "/", 0, false), "open");
	blk.off = blk.len = 0;
	buf_append(&blk, status_200, sizeof(status_200));
	hpack_int(&blk, 0x40, 6, 0);	// literal with incremental indexing, new name
	hpack_int(&blk, 0x00, 7, 1);
	buf_appends(&blk, "x");
	{
		static char v[4000];

		memset(v, 'b', sizeof(v));
		hpack_int(&blk, 0x00, 7, sizeof(v));
		buf_append(&blk, v, sizeof(v));
	}
	for (int i = 0; i < 1000; i++)
		buf_append(&blk, "\xbe", 1);	// dynamic index 62
	headers(&in, 1, &blk, true);
	raw_feed(&cl, &in, &sc);
	CHECK(cl.err == 0 && sc.rsts == 1 && cl.req[0].code == H2_PROTOCOL_ERROR &&
	      cl.req[0].num_headers_calls == 0, "bomb: err %d, code %u", cl.err, cl.req[0].code);
	CHECK(h2c_conn_stats(cl.c)->header_overflows == 1, "bomb counted");
	cli_free(&cl);

	// Interim sections: one 100 then 200; H2C_MAX_INTERIM + 1 of them.
	raw_start(&cl, NULL, NULL, 0);
	CHECK(cli_open(&cl, "POST", "/", 0, true) && cli_open(&cl, "POST", "/", 0, true),
	      "open");
	frame(&in, F_HEADERS, FL_END_HEADERS, 1, status_100, sizeof(status_100));
	frame(&in, F_HEADERS, FL_END_HEADERS | FL_END_STREAM, 1, status_200, 1);
	for (int i = 0; i <= H2C_MAX_INTERIM; i++)
		frame(&in, F_HEADERS, FL_END_HEADERS, 3, status_100, sizeof(status_100));
	raw_feed(&cl, &in, &sc);
	CHECK(!strncmp(cl.status_order, "IF", 2) && cl.req[0].status == 200 &&
	      cl.req[0].ended, "100 then 200: %s", cl.status_order);
	CHECK(cl.req[1].closed && cl.req[1].code == H2_PROTOCOL_ERROR &&
	      cl.req[1].num_interim == H2C_MAX_INTERIM && cl.req[1].num_headers_calls == 0,
	      "1xx flood: code %u after %d", cl.req[1].code, cl.req[1].num_interim);
	CHECK(cl.err == 0, "err %d", cl.err);
	cli_free(&cl);
	buf_cleanup(&blk);
	buf_cleanup(&in);
}

// test_goaway: streams above the GOAWAY's last_stream_id, and requests not
// sent yet, close as REFUSED_STREAM (retryable); those at or below it
// complete; the session then ends.
static void test_goaway(void)
{
	struct cli cl;
	struct scan sc;
	struct buf in;
	struct creq *late;

	buf_init(&in);
	raw_start(&cl, NULL, NULL, 0);
	for (int i = 0; i < 3; i++)
		CHECK(cli_open(&cl, "GET", "/", 0, false), "open %d", i);
	raw_feed(&cl, &in, &sc);
	CHECK(sc.headers == 3, "3 HEADERS out: %d", sc.headers);
	late = cli_open(&cl, "GET", "/", 0, false);	// stream 7, not sent yet
	goaway(&in, 3, H2_NO_ERROR);
	cli_input(&cl, in.data, in.len);
	in.off = in.len = 0;
	raw_feed(&cl, &in, &sc);
	CHECK(cl.goaways == 1 && cl.goaway_last == 3 && cl.goaway_code == 0,
	      "on_goaway: %d last %d", cl.goaways, cl.goaway_last);
	CHECK(cl.open_at_goaway == 4, "on_goaway before the closes: %u", cl.open_at_goaway);
	CHECK(cl.req[2].closed && cl.req[2].code == H2_REFUSED_STREAM, "stream 5: %u",
	      cl.req[2].code);
	CHECK(late && late->closed && late->code == H2_REFUSED_STREAM, "unsent stream 7: %u",
	      late ? late->code : 0);
	CHECK(!cl.req[0].closed && !cl.req[1].closed, "1 and 3 still open");
	CHECK(h2c_conn_stats(cl.c)->unprocessed == 2 && sc.headers == 0,
	      "unprocessed %llu, %d HEADERS sent",
	      (unsigned long long)h2c_conn_stats(cl.c)->unprocessed, sc.headers);
	errno = 0;
	CHECK(!h2c_conn_can_open(cl.c) && !cli_open(&cl, "GET", "/", 0, false) && errno == EAGAIN,
	      "no stream after GOAWAY");
	frame(&in, F_HEADERS, FL_END_HEADERS | FL_END_STREAM, 1, status_200, 1);
	frame(&in, F_HEADERS, FL_END_HEADERS | FL_END_STREAM, 3, status_200, 1);
	raw_feed(&cl, &in, &sc);
	CHECK(cl.req[0].code == 0 && cl.req[1].code == 0 && cl.req[0].status == 200,
	      "1 and 3 complete");
	CHECK(cl.err == -ESHUTDOWN, "session ended: %d", cl.err);
	CHECK(h2c_conn_stats(cl.c)->protocol_errors == 0, "no protocol error");
	cli_free(&cl);

	// An error GOAWAY: streams at or below last are not retryable.
	raw_start(&cl, NULL, NULL, 0);
	CHECK(cli_open(&cl, "GET", "/", 0, false) && cli_open(&cl, "GET", "/", 0, false),
	      "open");
	CHECK(h2c_conn_flush(cl.c, &cl.out) == 0, "flush");
	goaway(&in, 1, H2_INTERNAL_ERROR);
	raw_feed(&cl, &in, &sc);
	CHECK(cl.req[1].code == H2_REFUSED_STREAM && !cl.req[0].closed,
	      "error GOAWAY: 3 refused, 1 open");
	cli_free(&cl);
	CHECK(cl.req[0].code == H2_CANCEL, "1 cancelled by free: %u", cl.req[0].code);

	// Free: HEADERS out means CANCEL, never sent means REFUSED_STREAM.
	raw_start(&cl, NULL, NULL, 0);
	CHECK(cli_open(&cl, "GET", "/", 0, false), "open");
	CHECK(h2c_conn_flush(cl.c, &cl.out) == 0, "flush");
	CHECK(cli_open(&cl, "GET", "/", 0, false), "open");
	cli_free(&cl);
	CHECK(cl.req[0].code == H2_CANCEL && cl.req[1].code == H2_REFUSED_STREAM,
	      "free: %u %u", cl.req[0].code, cl.req[1].code);
	buf_cleanup(&in);
}

// test_rst: the codes on_stream_close reports for the server's resets.
static void test_rst(void)
{
	static const struct {
		const char *id;
		bool respond;		// a complete response comes first
		uint32_t code;		// the server's RST_STREAM
		uint32_t want;		// what on_stream_close reports
	} rows[] = {
		{ "REFUSED_STREAM: retryable", false, H2_REFUSED_STREAM, H2_REFUSED_STREAM },
		{ "INTERNAL_ERROR", false, H2_INTERNAL_ERROR, H2_INTERNAL_ERROR },
		{ "CANCEL", false, H2_CANCEL, H2_CANCEL },
		{ "NO_ERROR before the response", false, H2_NO_ERROR, H2_CANCEL },
		{ "NO_ERROR after the response", true, H2_NO_ERROR, H2_NO_ERROR },
	};
	struct cli cl;
	struct scan sc;
	struct buf in;

	buf_init(&in);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct creq *r;

		raw_start(&cl, NULL, NULL, 0);
		r = cli_open(&cl, "POST", "/", 100, false);
		CHECK(r && h2c_conn_flush(cl.c, &cl.out) == 0, "%s: open", rows[i].id);
		if (rows[i].respond)
			frame(&in, F_HEADERS, FL_END_HEADERS | FL_END_STREAM, 1, status_200, 1);
		rst(&in, 1, rows[i].code);
		raw_feed(&cl, &in, &sc);
		CHECK(r && r->closed && r->code == rows[i].want, "%s: code %u", rows[i].id,
		      r ? r->code : 0);
		CHECK(h2c_conn_stats(cl.c)->unprocessed == (rows[i].want == H2_REFUSED_STREAM),
		      "%s: unprocessed", rows[i].id);
		CHECK(cl.err == 0 && h2c_conn_can_open(cl.c) && h2c_conn_open_streams(cl.c) == 0,
		      "%s: connection survives", rows[i].id);
		cli_free(&cl);
	}
	// A retry from inside on_stream_close, on the same connection.
	raw_start(&cl, NULL, NULL, 0);
	cl.retry = true;
	CHECK(cli_open(&cl, "GET", "/", 0, false), "open");
	rst(&in, 1, H2_REFUSED_STREAM);
	raw_feed(&cl, &in, &sc);
	// Stream 1's HEADERS, then the retry's, in the same flush.
	CHECK(cl.num_req == 2 && cl.req[1].id == 3 && sc.headers == 2 &&
	      h2c_conn_open_streams(cl.c) == 1, "retried as stream %d", cl.req[1].id);
	cli_free(&cl);

	// Our own reset, before and after the HEADERS left.
	for (int sent = 0; sent < 2; sent++) {
		struct creq *r;

		raw_start(&cl, NULL, NULL, 0);
		r = cli_open(&cl, "GET", "/", 0, false);
		if (sent)
			CHECK(h2c_conn_flush(cl.c, &cl.out) == 0, "flush");
		CHECK(r && h2c_stream_reset(r->s, H2_CANCEL) == 0, "reset");
		raw_feed(&cl, &in, &sc);
		CHECK(r && r->closed && r->code == H2_CANCEL && sc.rsts == sent,
		      "own reset (sent %d): code %u, %d RST", sent, r ? r->code : 0, sc.rsts);
		cli_free(&cl);
	}
	buf_cleanup(&in);
}

// fill opens num streams and sends 64 KiB on the first full of them.
static void fill(struct cli *cl, struct buf *in, int num, int full)
{
	static char chunk[16384];

	for (int i = 0; i < num; i++)
		CHECK(cli_open(cl, "GET", "/", 0, false), "open %d", i);
	for (int i = 0; i < full; i++) {
		frame(in, F_HEADERS, FL_END_HEADERS, 2 * i + 1, status_200, 1);
		for (int j = 0; j < 4; j++)
			frame(in, F_DATA, 0, 2 * i + 1, chunk, sizeof(chunk));
	}
}

// test_response_window: a hostile server cannot send past the windows we
// advertised, and unconsumed bytes of a reset stream return to the
// connection window.
static void test_response_window(void)
{
	struct cli cl;
	struct scan sc;
	struct buf in;

	buf_init(&in);
	// One byte past a stream's window is a stream error.
	raw_start(&cl, NULL, NULL, 0);
	cl.consume = false;
	fill(&cl, &in, 2, 1);
	raw_feed(&cl, &in, &sc);
	CHECK(cl.err == 0 && sc.wu_streams == 0 && cl.req[0].body.len == 65536,
	      "window held: %zu", cl.req[0].body.len);
	frame(&in, F_DATA, 0, 1, "x", 1);
	raw_feed(&cl, &in, &sc);
	CHECK(sc.rsts == 1 && sc.last_rst_code == H2_FLOW_CONTROL_ERROR &&
	      cl.req[0].code == H2_FLOW_CONTROL_ERROR && cl.err == 0,
	      "past the stream window: %u", cl.req[0].code);
	cli_free(&cl);

	// One byte past the connection window is a connection error.
	raw_start(&cl, NULL, NULL, 0);
	cl.consume = false;
	fill(&cl, &in, 17, 16);
	raw_feed(&cl, &in, &sc);
	CHECK(cl.err == 0 && sc.wu_conn == 0 && sc.wu_streams == 0, "1 MiB held: err %d",
	      cl.err);
	frame(&in, F_HEADERS, FL_END_HEADERS, 33, status_200, 1);
	frame(&in, F_DATA, 0, 33, "x", 1);
	raw_feed(&cl, &in, &sc);
	CHECK(cl.err == -EPROTO && sc.goaway_code == H2_FLOW_CONTROL_ERROR,
	      "past the connection window: err %d code %u", cl.err, sc.goaway_code);
	cli_free(&cl);

	// Our resets of 8 full streams give 512 KiB back: 8 more fit.
	raw_start(&cl, NULL, NULL, 0);
	cl.consume = false;
	fill(&cl, &in, 24, 16);
	raw_feed(&cl, &in, &sc);
	for (int i = 0; i < 8; i++)
		CHECK(h2c_stream_reset(cl.req[i].s, H2_CANCEL) == 0, "reset");
	raw_feed(&cl, &in, &sc);
	CHECK(sc.wu_conn == 1 << 19 && sc.rsts == 8, "connection WINDOW_UPDATE %llu",
	      (unsigned long long)sc.wu_conn);
	for (int i = 16; i < 24; i++) {
		static char chunk[16384];

		frame(&in, F_HEADERS, FL_END_HEADERS, 2 * i + 1, status_200, 1);
		for (int j = 0; j < 4; j++)
			frame(&in, F_DATA, 0, 2 * i + 1, chunk, sizeof(chunk));
	}
	raw_feed(&cl, &in, &sc);
	CHECK(cl.err == 0 && sc.rsts == 0 && cl.req[23].body.len == 65536,
	      "512 KiB more fit: err %d", cl.err);
	cli_free(&cl);
	buf_cleanup(&in);
}

int main(void)
{
	test_get(0);
	test_get(1);
	test_get(7);
	test_flow_control();
	test_conn_window();
	test_concurrency();
	test_server_shutdown();
	test_bad_preface();
	test_settings();
	test_floods();
	test_push();
	test_header_limits();
	test_goaway();
	test_rst();
	test_response_window();
	printf("h2_client_test: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
