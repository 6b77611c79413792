// SPDX-License-Identifier: Apache-2.0
// h2_test: drives proto/h2 server sessions in memory, with a client built
// from nghttp2's client API for well-formed traffic and hand-made frames for
// the attacks of hardening.md §2.2 (Rapid Reset, CONTINUATION flood, HPACK
// bomb, empty frames) and the must-fail inputs (bad preface, oversized
// header sections, streams over the limit).
#include "proto/h2.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "core/bug.h"

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

#define MAX_STREAMS 2048	// client stream slots: ids 1, 3, ... 4095

// ---------------------------------------------------------------------------
// The server's owner: records what h2 delivers and answers as told.

enum srv_mode {
	SRV_RESPOND = 0,	// answer when the request ends
	SRV_HOLD,		// answer only when the test says so
};

struct sst {
	struct srv *sv;
	struct h2_stream *s;
	int32_t id;
	char path[64];
	struct buf body;
	size_t num_headers;
	size_t to_send;		// response body bytes (0: "world")
	size_t sent;
	bool ended;
};

struct srv {
	struct h2_conn *c;
	struct buf out;
	int err;		// first non-zero h2_conn_input/flush result
	enum srv_mode mode;
	size_t feed_step;	// 0: feed client bytes whole; else in pieces of this size
	size_t resp_body;	// response body size for new streams
	struct sst *live[MAX_STREAMS];
	int num_headers_calls, num_end_calls, num_trailers_calls, num_close_calls;
	int num_drain_calls, num_data_calls;
	int closes_by_code[16];
	char last_trailer[64];
	char last_header_x[64];
	int write_before_respond;	// h2_stream_write result before responding
	int write_too_much;		// h2_stream_write result over the limit
};

static struct sst *live_slot(struct srv *sv, int32_t id)
{
	BUG_ON(id < 1 || (id - 1) / 2 >= MAX_STREAMS);
	return sv->live[(id - 1) / 2];
}

static void send_more(struct sst *t)
{
	static const struct h2_header tr[] = {
		{ "grpc-status", "0", 11, 1 },
		{ "x-trailer", "yes", 9, 3 },
	};
	char chunk[16384];

	if (!t->to_send) {
		CHECK(h2_stream_write(t->s, "world", 5) == 0, "write world");
		CHECK(h2_stream_end(t->s, tr, ARRAY_SIZE(tr)) == 0, "end");
		return;
	}
	while (t->sent < t->to_send) {
		size_t n = MIN(sizeof(chunk), t->to_send - t->sent);

		if (h2_stream_out_space(t->s) < n)
			break;
		for (size_t i = 0; i < n; i++)
			chunk[i] = (char)((t->sent + i) % 251);
		CHECK(h2_stream_write(t->s, chunk, n) == 0, "write chunk");
		t->sent += n;
	}
	if (t->sent < t->to_send) {
		// Over the limit: refused whole, and on_drain will call back.
		t->sv->write_too_much = h2_stream_write(t->s, chunk, sizeof(chunk));
		return;
	}
	CHECK(h2_stream_end(t->s, tr, ARRAY_SIZE(tr)) == 0, "end big");
}

static void respond(struct sst *t)
{
	static const struct h2_header h[] = {
		{ ":status", "200", 7, 3 },
		{ "content-type", "text/plain", 12, 10 },
	};

	t->sv->write_before_respond = h2_stream_write(t->s, "x", 1);
	CHECK(h2_stream_respond(t->s, h, ARRAY_SIZE(h), false) == 0, "respond");
	CHECK(h2_stream_respond(t->s, h, ARRAY_SIZE(h), false) == -EALREADY, "respond twice");
	send_more(t);
}

static int srv_on_headers(void *arg, struct h2_stream *s, const struct h2_header *h,
			  size_t num, bool end_stream)
{
	struct srv *sv = arg;
	const struct h2_header *p = h2_header_find(h, num, ":path");
	const struct h2_header *x = h2_header_find(h, num, "x-a");
	struct sst *t = calloc(1, sizeof(*t));

	BUG_ON(!t);
	sv->num_headers_calls++;
	t->sv = sv;
	t->s = s;
	t->id = h2_stream_id(s);
	t->num_headers = num;
	t->to_send = sv->resp_body;
	CHECK(num >= 4 && h[0].name[0] == ':', "pseudo-headers first");
	CHECK(p && p->name[p->name_len] == 0 && p->value[p->value_len] == 0, "NUL-terminated");
	if (p)
		snprintf(t->path, sizeof(t->path), "%s", p->value);
	if (x)
		snprintf(sv->last_header_x, sizeof(sv->last_header_x), "%s", x->value);
	h2_stream_set_data(s, t);
	if ((t->id - 1) / 2 < MAX_STREAMS)
		sv->live[(t->id - 1) / 2] = t;
	if (!strcmp(t->path, "/fail"))
		return -EIO;
	if (!strcmp(t->path, "/reset"))
		CHECK(h2_stream_reset(s, H2_CANCEL) == 0, "owner reset");
	return 0;
}

static int srv_on_data(void *arg, struct h2_stream *s, const char *p, size_t len)
{
	struct sst *t = h2_stream_data(s);

	((struct srv *)arg)->num_data_calls++;
	return buf_append(&t->body, p, len);
}

static int srv_on_trailers(void *arg, struct h2_stream *s, const struct h2_header *h,
			   size_t num)
{
	struct srv *sv = arg;

	sv->num_trailers_calls++;
	if (num)
		snprintf(sv->last_trailer, sizeof(sv->last_trailer), "%s=%s", h[0].name,
			 h[0].value);
	return 0;
}

static int srv_on_end_stream(void *arg, struct h2_stream *s)
{
	struct srv *sv = arg;
	struct sst *t = h2_stream_data(s);

	sv->num_end_calls++;
	t->ended = true;
	if (sv->mode == SRV_RESPOND)
		respond(t);
	return 0;
}

static void srv_on_stream_close(void *arg, struct h2_stream *s, uint32_t code)
{
	struct srv *sv = arg;
	struct sst *t = h2_stream_data(s);

	sv->num_close_calls++;
	sv->closes_by_code[code < 16 ? code : 15]++;
	if ((t->id - 1) / 2 < MAX_STREAMS)
		sv->live[(t->id - 1) / 2] = NULL;
	buf_cleanup(&t->body);
	free(t);
}

static void srv_on_drain(void *arg, struct h2_stream *s)
{
	((struct srv *)arg)->num_drain_calls++;
	send_more(h2_stream_data(s));
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
	buf_init(&sv->out);
	sv->c = h2_conn_new(cfg, &srv_cb, sv, &sv->out);
	BUG_ON(!sv->c);
}

static void srv_free(struct srv *sv)
{
	h2_conn_free(sv->c);
	buf_cleanup(&sv->out);
}

// srv_input feeds bytes as the transport would, in pieces if told to.
static void srv_input(struct srv *sv, const char *p, size_t len)
{
	size_t step = sv->feed_step ? sv->feed_step : len;

	for (size_t off = 0; off < len && !sv->err; off += step) {
		int err = h2_conn_input(sv->c, p + off, MIN(step, len - off), &sv->out);

		if (err)
			sv->err = err;
	}
}

// ---------------------------------------------------------------------------
// The nghttp2 client

struct cst {
	bool used, closed;
	int status;
	uint32_t close_code;
	struct buf body;
	char trailer_status[8];
	int num_trailers;
};

struct client {
	nghttp2_session *s;
	struct cst st[MAX_STREAMS];
	int goaways;
	uint32_t goaway_code;
	int32_t goaway_last;
	int pings;
	// request body
	const char *req_body;
	size_t req_len, req_off;
	bool req_trailers;
};

static struct cst *cst_of(struct client *cl, int32_t id)
{
	if (id < 1 || (id - 1) / 2 >= MAX_STREAMS)
		return NULL;
	return &cl->st[(id - 1) / 2];
}

static int cl_on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
			size_t nl, const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
	struct cst *c = cst_of(ud, f->hd.stream_id);

	if (!c || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (nl == 7 && !memcmp(name, ":status", 7))
		c->status = atoi((const char *)value);
	if (f->headers.cat == NGHTTP2_HCAT_HEADERS) {
		c->num_trailers++;
		if (nl == 11 && !memcmp(name, "grpc-status", 11))
			snprintf(c->trailer_status, sizeof(c->trailer_status), "%.*s", (int)vl,
				 value);
	}
	return 0;
}

static int cl_on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *p,
		      size_t len, void *ud)
{
	struct cst *c = cst_of(ud, id);

	if (c)
		buf_append(&c->body, p, len);
	return 0;
}

static int cl_on_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
	struct cst *c = cst_of(ud, id);

	if (c) {
		c->closed = true;
		c->close_code = code;
	}
	return 0;
}

static int cl_on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
	struct client *cl = ud;

	if (f->hd.type == NGHTTP2_GOAWAY) {
		cl->goaways++;
		cl->goaway_code = f->goaway.error_code;
		cl->goaway_last = f->goaway.last_stream_id;
	}
	if (f->hd.type == NGHTTP2_PING && !(f->hd.flags & NGHTTP2_FLAG_ACK))
		cl->pings++;
	return 0;
}

static void client_init(struct client *cl, bool no_auto_wu)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;

	memset(cl, 0, sizeof(*cl));
	BUG_ON(nghttp2_session_callbacks_new(&cbs));
	nghttp2_session_callbacks_set_on_header_callback(cbs, cl_on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cl_on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cl_on_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cl_on_frame_recv);
	BUG_ON(nghttp2_option_new(&opt));
	// Let the first flight carry more than 100 streams, as a client that
	// has not read our SETTINGS yet would.
	nghttp2_option_set_peer_max_concurrent_streams(opt, 1000);
	nghttp2_option_set_max_send_header_block_length(opt, 1 << 20);
	nghttp2_option_set_no_auto_window_update(opt, no_auto_wu);
	BUG_ON(nghttp2_session_client_new2(&cl->s, cbs, cl, opt));
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	BUG_ON(nghttp2_submit_settings(cl->s, NGHTTP2_FLAG_NONE, NULL, 0));
}

static void client_free(struct client *cl)
{
	nghttp2_session_del(cl->s);
	for (int i = 0; i < MAX_STREAMS; i++)
		buf_cleanup(&cl->st[i].body);
}

static ssize_t cl_read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
			    uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	struct client *cl = ud;
	size_t n = MIN(len, cl->req_len - cl->req_off);
	static const nghttp2_nv tr[] = {
		{ (uint8_t *)"x-req-trailer", (uint8_t *)"t1", 13, 2, 0 },
	};

	memcpy(buf, cl->req_body + cl->req_off, n);
	cl->req_off += n;
	if (cl->req_off == cl->req_len) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		if (cl->req_trailers) {
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
			nghttp2_submit_trailer(s, id, tr, ARRAY_SIZE(tr));
		}
	}
	return (ssize_t)n;
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), 0 }

// request submits a request; extra fields follow the pseudo-headers.
static int32_t request(struct client *cl, const char *method, const char *path,
		       const nghttp2_nv *extra, size_t num_extra, bool body)
{
	nghttp2_nv nv[512] = {
		NV(":method", method), NV(":scheme", "http"), NV(":path", path),
		NV(":authority", "test"),
	};
	nghttp2_data_provider prd = { .read_callback = cl_read_body };
	int32_t id;

	BUG_ON(num_extra + 4 > ARRAY_SIZE(nv));
	if (num_extra)
		memcpy(nv + 4, extra, num_extra * sizeof(*nv));
	id = nghttp2_submit_request(cl->s, NULL, nv, 4 + num_extra, body ? &prd : NULL, NULL);
	BUG_ON(id < 0);
	cst_of(cl, id)->used = true;
	return id;
}

static bool trace;	// H2_TEST_TRACE=1: print the server's frames

static void dump(const char *who, const char *p, size_t len)
{
	const uint8_t *u = (const uint8_t *)p;

	for (size_t off = 0; off + 9 <= len;) {
		size_t flen = (size_t)u[off] << 16 | (size_t)u[off + 1] << 8 | u[off + 2];

		printf("  %s: type %u flags 0x%x stream %u len %zu\n", who, u[off + 3], u[off + 4],
		       (unsigned)((uint32_t)u[off + 5] << 24 | (uint32_t)u[off + 6] << 16 |
				  (uint32_t)u[off + 7] << 8 | u[off + 8]), flen);
		off += 9 + flen;
	}
}

// pump moves bytes both ways until neither side has anything to say.
static void pump(struct client *cl, struct srv *sv)
{
	for (int round = 0; round < 100000; round++) {
		bool moved = false;
		const uint8_t *p;
		ssize_t n;

		while ((n = nghttp2_session_mem_send(cl->s, &p)) > 0) {
			moved = true;
			srv_input(sv, (const char *)p, (size_t)n);
		}
		if (!sv->err) {
			int err = h2_conn_flush(sv->c, &sv->out);

			if (err)
				sv->err = err;
		}
		if (buf_avail(&sv->out)) {
			if (trace)
				dump("server", buf_head(&sv->out), buf_avail(&sv->out));
			moved = true;
			n = nghttp2_session_mem_recv(cl->s, (const uint8_t *)buf_head(&sv->out),
						     buf_avail(&sv->out));
			CHECK(n == (ssize_t)buf_avail(&sv->out), "client recv: %s",
			      n < 0 ? nghttp2_strerror((int)n) : "short");
			buf_consume(&sv->out, buf_avail(&sv->out));
		}
		if (!moved)
			return;
	}
	CHECK(0, "pump did not settle");
}

// ---------------------------------------------------------------------------
// Raw frames, for what a well-behaved client would never send

enum { F_DATA = 0, F_HEADERS = 1, F_RST = 3, F_SETTINGS = 4, F_PING = 6, F_GOAWAY = 7,
       F_WU = 8, F_CONT = 9 };
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

// GET / with :authority as a literal without indexing: no HPACK state.
static const uint8_t get_block[] = { 0x82, 0x86, 0x84, 0x01, 0x01, 'a' };
static const uint8_t post_block[] = { 0x83, 0x86, 0x84, 0x01, 0x01, 'a' };
static const uint8_t nopath_block[] = { 0x82, 0x86, 0x01, 0x01, 'a' };

// raw_preface is the client preface, an empty SETTINGS and the ACK of ours.
static void raw_preface(struct buf *b)
{
	buf_append(b, NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN);
	frame(b, F_SETTINGS, 0, 0, NULL, 0);
	frame(b, F_SETTINGS, FL_ACK, 0, NULL, 0);
}

static void rst(struct buf *b, uint32_t sid, uint32_t code)
{
	uint8_t p[4];

	be32(p, code);
	frame(b, F_RST, 0, sid, p, 4);
}

// scan summarizes the frames the server sent.
struct scan {
	int goaways, rsts, headers, settings, data;
	uint32_t goaway_code, goaway_last;
	uint32_t last_rst_code, last_rst_sid;
	int rst_by_code[16];
	uint64_t wu_conn, wu_streams;	// WINDOW_UPDATE increments on 0 / on streams
};

static void scan(const struct buf *b, struct scan *s)
{
	const uint8_t *p = (const uint8_t *)buf_head(b);
	size_t len = buf_avail(b), off = 0;

	memset(s, 0, sizeof(*s));
	while (off + 9 <= len) {
		size_t flen = (size_t)p[off] << 16 | (size_t)p[off + 1] << 8 | p[off + 2];
		uint8_t type = p[off + 3];
		uint32_t sid = get32(p + off + 5) & 0x7fffffff;
		const uint8_t *pl = p + off + 9;

		if (off + 9 + flen > len)
			break;
		switch (type) {
		case F_GOAWAY:
			s->goaways++;
			s->goaway_last = get32(pl) & 0x7fffffff;
			s->goaway_code = get32(pl + 4);
			break;
		case F_RST:
			s->rsts++;
			s->last_rst_code = get32(pl);
			s->last_rst_sid = sid;
			s->rst_by_code[MIN(s->last_rst_code, 15u)]++;
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

// ---------------------------------------------------------------------------
// Tests

static void test_unary(size_t feed_step)
{
	static const nghttp2_nv extra[] = {
		NV("content-type", "application/grpc"), NV("x-a", "b"), NV("te", "trailers"),
	};
	struct client cl;
	struct srv sv;
	int32_t id;
	struct cst *c;

	srv_init(&sv, NULL);
	sv.feed_step = feed_step;
	client_init(&cl, false);
	cl.req_body = "hello";
	cl.req_len = 5;
	cl.req_trailers = true;
	id = request(&cl, "POST", "/svc/Method", extra, ARRAY_SIZE(extra), true);
	pump(&cl, &sv);
	c = cst_of(&cl, id);
	CHECK(sv.err == 0, "step %zu: server err %d", feed_step, sv.err);
	CHECK(sv.num_headers_calls == 1 && sv.num_end_calls == 1 && sv.num_close_calls == 1,
	      "step %zu: callbacks %d %d %d", feed_step, sv.num_headers_calls, sv.num_end_calls,
	      sv.num_close_calls);
	CHECK(sv.num_trailers_calls == 1 && !strcmp(sv.last_trailer, "x-req-trailer=t1"),
	      "request trailers: %s", sv.last_trailer);
	CHECK(!strcmp(sv.last_header_x, "b"), "x-a: %s", sv.last_header_x);
	CHECK(sv.write_before_respond == -EINVAL, "write before respond: %d",
	      sv.write_before_respond);
	CHECK(c->closed && c->close_code == NGHTTP2_NO_ERROR, "client close %u", c->close_code);
	CHECK(c->status == 200, "status %d", c->status);
	CHECK(c->body.len == 5 && !memcmp(c->body.data, "world", 5), "body");
	CHECK(c->num_trailers == 2 && !strcmp(c->trailer_status, "0"), "trailers %d %s",
	      c->num_trailers, c->trailer_status);
	CHECK(sv.closes_by_code[0] == 1, "closed NO_ERROR");
	CHECK(h2_conn_settings_acked(sv.c), "SETTINGS acked");
	CHECK(h2_conn_stats(sv.c)->streams == 1 && h2_conn_stats(sv.c)->premature_resets == 0 &&
	      h2_conn_stats(sv.c)->protocol_errors == 0, "stats");
	// Requests the server's owner fails or resets.
	id = request(&cl, "GET", "/fail", NULL, 0, false);
	pump(&cl, &sv);
	CHECK(cst_of(&cl, id)->closed && cst_of(&cl, id)->close_code == NGHTTP2_INTERNAL_ERROR,
	      "owner failure: %u", cst_of(&cl, id)->close_code);
	id = request(&cl, "GET", "/reset", NULL, 0, false);
	pump(&cl, &sv);
	CHECK(cst_of(&cl, id)->closed && cst_of(&cl, id)->close_code == NGHTTP2_CANCEL,
	      "owner reset: %u", cst_of(&cl, id)->close_code);
	CHECK(h2_conn_stats(sv.c)->premature_resets == 0, "owner resets are not premature");
	CHECK(sv.num_close_calls == 3 && sv.err == 0, "closes %d", sv.num_close_calls);
	client_free(&cl);
	srv_free(&sv);
}

static void test_concurrency(void)
{
	struct client cl;
	struct srv sv;
	int ok = 0;

	// 101 streams in the first flight, before the client saw our SETTINGS.
	srv_init(&sv, NULL);
	sv.mode = SRV_HOLD;
	client_init(&cl, false);
	for (int i = 0; i < 101; i++)
		request(&cl, "GET", "/", NULL, 0, false);
	pump(&cl, &sv);
	CHECK(sv.err == 0, "err %d", sv.err);
	CHECK(sv.num_headers_calls == 100, "100 streams delivered: %d", sv.num_headers_calls);
	CHECK(cst_of(&cl, 201)->closed && cst_of(&cl, 201)->close_code == NGHTTP2_REFUSED_STREAM,
	      "101st refused: %u", cst_of(&cl, 201)->close_code);
	CHECK(h2_conn_stats(sv.c)->refused == 1, "refused %llu",
	      (unsigned long long)h2_conn_stats(sv.c)->refused);
	for (int32_t id = 1; id <= 199; id += 2) {
		struct sst *t = live_slot(&sv, id);

		CHECK(t && t->ended, "stream %d held", id);
		if (t)
			respond(t);
	}
	pump(&cl, &sv);
	for (int32_t id = 1; id <= 199; id += 2)
		ok += cst_of(&cl, id)->status == 200 && cst_of(&cl, id)->closed &&
		      cst_of(&cl, id)->close_code == 0;
	CHECK(ok == 100, "100 answered: %d", ok);
	CHECK(h2_conn_stats(sv.c)->premature_resets == 0, "no premature resets");
	client_free(&cl);
	srv_free(&sv);

	// After the handshake a compliant client holds the 101st back itself.
	srv_init(&sv, NULL);
	sv.mode = SRV_HOLD;
	client_init(&cl, false);
	pump(&cl, &sv);
	for (int i = 0; i < 101; i++)
		request(&cl, "GET", "/", NULL, 0, false);
	pump(&cl, &sv);
	CHECK(sv.num_headers_calls == 100, "held at 100: %d", sv.num_headers_calls);
	respond(live_slot(&sv, 1));
	pump(&cl, &sv);
	CHECK(sv.num_headers_calls == 101 && cst_of(&cl, 1)->status == 200, "101st after one closed");
	client_free(&cl);
	srv_free(&sv);

	// A client that acknowledged 100 and opens a 101st anyway: nghttp2
	// 1.52 makes that a connection error (RFC 9113 §5.1.2 allows a stream
	// error; a connection error is stricter, and this client is broken).
	{
		struct buf in;
		struct scan sc;

		srv_init(&sv, NULL);
		sv.mode = SRV_HOLD;
		buf_init(&in);
		raw_preface(&in);
		for (uint32_t i = 0; i < 101; i++)
			frame(&in, F_HEADERS, FL_END_STREAM | FL_END_HEADERS, 2 * i + 1, get_block,
			      sizeof(get_block));
		srv_input(&sv, in.data, in.len);
		scan(&sv.out, &sc);
		CHECK(sv.num_headers_calls == 100, "raw: 100 delivered: %d", sv.num_headers_calls);
		CHECK(sc.goaways == 1 && sc.goaway_code == H2_PROTOCOL_ERROR,
		      "raw 101st after ACK: GOAWAY %d code %u", sc.goaways, sc.goaway_code);
		CHECK(sv.err == -EPROTO, "raw 101st: err %d", sv.err);
		buf_cleanup(&in);
		srv_free(&sv);
		CHECK(sv.num_close_calls == 100, "free closes open streams: %d", sv.num_close_calls);
	}
}

static void test_bad_preface(void)
{
	static const struct {
		const char *id;
		const char *in;
		size_t len;
	} rows[] = {
		{ "HTTP/1.1", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27 },
		{ "TLS", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11 },
		{ "HTTP/2.0 lowercase", "pri * http/2.0\r\n\r\nSM\r\n\r\n", 24 },
		{ "no SM", "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", 24 },
		{ "h2c upgrade", "GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n", 32 },
	};
	struct srv sv;
	struct buf in;
	struct scan sc;

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		srv_init(&sv, NULL);
		buf_consume(&sv.out, buf_avail(&sv.out));
		srv_input(&sv, rows[i].in, rows[i].len);
		CHECK(sv.err == -EPROTO, "%s: err %d", rows[i].id, sv.err);
		CHECK(h2_conn_stats(sv.c)->bad_preface, "%s: bad_preface", rows[i].id);
		CHECK(h2_conn_want_close(sv.c), "%s: want_close", rows[i].id);
		CHECK(h2_conn_input(sv.c, "x", 1, &sv.out) == -EPROTO, "%s: sticky", rows[i].id);
		srv_free(&sv);
	}
	// A good preface split at every byte is fine; a SETTINGS frame must
	// follow it.
	srv_init(&sv, NULL);
	sv.feed_step = 1;
	buf_init(&in);
	raw_preface(&in);
	srv_input(&sv, in.data, in.len);
	CHECK(sv.err == 0 && !h2_conn_stats(sv.c)->bad_preface, "split preface: %d", sv.err);
	srv_free(&sv);
	srv_init(&sv, NULL);
	in.off = in.len = 0;
	buf_append(&in, NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN);
	frame(&in, F_PING, 0, 0, "12345678", 8);
	srv_input(&sv, in.data, in.len);
	scan(&sv.out, &sc);
	CHECK(sv.err == -EPROTO, "PING before SETTINGS: %d", sv.err);
	srv_free(&sv);
	buf_cleanup(&in);
}

static void test_header_limits(void)
{
	static nghttp2_nv big[8], many[120];
	static char value[9000], names[120][8];
	struct client cl;
	struct srv sv;
	int32_t id;

	memset(value, 'v', sizeof(value));
	for (size_t i = 0; i < ARRAY_SIZE(big); i++) {
		snprintf(names[i], sizeof(names[i]), "x-%zu", i);
		big[i] = (nghttp2_nv){ (uint8_t *)names[i], (uint8_t *)value, strlen(names[i]),
				       sizeof(value), 0 };
	}
	for (size_t i = 0; i < ARRAY_SIZE(many); i++) {
		snprintf(names[i], sizeof(names[i]), "x-%zu", i);
		many[i] = (nghttp2_nv){ (uint8_t *)names[i], (uint8_t *)"v", strlen(names[i]), 1, 0 };
	}
	srv_init(&sv, NULL);
	client_init(&cl, false);
	// 72 KiB of fields: 431, the owner never sees it.
	id = request(&cl, "GET", "/", big, 8, false);
	pump(&cl, &sv);
	CHECK(cst_of(&cl, id)->status == 431 && cst_of(&cl, id)->closed, "72 KiB: %d",
	      cst_of(&cl, id)->status);
	CHECK(sv.num_headers_calls == 0, "owner saw it");
	// 7 x 9000 = 63 KiB fits.
	id = request(&cl, "GET", "/", big, 7, false);
	pump(&cl, &sv);
	CHECK(cst_of(&cl, id)->status == 200, "63 KiB: %d", cst_of(&cl, id)->status);
	// 4 pseudo-headers + 96 = 100 fields fit, one more does not.
	id = request(&cl, "GET", "/", many, 96, false);
	pump(&cl, &sv);
	CHECK(cst_of(&cl, id)->status == 200, "100 fields: %d", cst_of(&cl, id)->status);
	id = request(&cl, "GET", "/", many, 97, false);
	pump(&cl, &sv);
	CHECK(cst_of(&cl, id)->status == 431, "101 fields: %d", cst_of(&cl, id)->status);
	// With a body still coming: 431, then RST_STREAM(NO_ERROR).
	cl.req_body = "body";
	cl.req_len = 4;
	id = request(&cl, "POST", "/", big, 8, true);
	trace = getenv("H2_TEST_TRACE") != NULL;
	pump(&cl, &sv);
	trace = false;
	CHECK(cst_of(&cl, id)->status == 431 && cst_of(&cl, id)->closed, "431 with body: %d",
	      cst_of(&cl, id)->status);
	CHECK(sv.err == 0, "connection survives: %d", sv.err);
	CHECK(h2_conn_stats(sv.c)->header_overflows == 3, "overflows %llu",
	      (unsigned long long)h2_conn_stats(sv.c)->header_overflows);
	CHECK(h2_conn_stats(sv.c)->premature_resets == 3, "rejects count as premature: %llu",
	      (unsigned long long)h2_conn_stats(sv.c)->premature_resets);
	CHECK(sv.num_headers_calls == 2, "owner saw 2: %d", sv.num_headers_calls);
	client_free(&cl);
	srv_free(&sv);
}

// test_hpack_bomb: one 4000-byte literal in the dynamic table, then 1000
// one-byte references to it: 4 MB decoded from 5 KB. Cut at 64 KiB.
static void test_hpack_bomb(void)
{
	struct buf in, blk;
	struct srv sv;
	struct scan sc;
	static char v[4000];

	srv_init(&sv, NULL);
	buf_init(&in);
	buf_init(&blk);
	raw_preface(&in);
	buf_append(&blk, get_block, sizeof(get_block));
	// literal with incremental indexing, new name "x", value 4000 bytes
	buf_append(&blk, "\x40\x01x\x7f\xa1\x1e", 6);	// 127 + 3873 = 4000
	memset(v, 'b', sizeof(v));
	buf_append(&blk, v, sizeof(v));
	for (int i = 0; i < 1000; i++)
		buf_append(&blk, "\xbe", 1);			// dynamic index 62
	frame(&in, F_HEADERS, FL_END_STREAM | FL_END_HEADERS, 1, blk.data, blk.len);
	buf_consume(&sv.out, buf_avail(&sv.out));
	srv_input(&sv, in.data, in.len);
	scan(&sv.out, &sc);
	CHECK(sv.err == 0 && sc.headers == 1 && sc.goaways == 0, "bomb: 431 (err %d, %d headers)",
	      sv.err, sc.headers);
	CHECK(h2_conn_stats(sv.c)->header_overflows == 1 && sv.num_headers_calls == 0,
	      "bomb overflow");
	buf_cleanup(&in);
	buf_cleanup(&blk);
	srv_free(&sv);
}

// test_continuation_flood: HEADERS without END_HEADERS, then CONTINUATION
// frames without end: the connection dies after H2_MAX_CONTINUATIONS.
static void test_continuation_flood(void)
{
	struct buf in;
	struct srv sv;
	uint8_t lit[64];
	int i;

	srv_init(&sv, NULL);
	buf_init(&in);
	raw_preface(&in);
	frame(&in, F_HEADERS, FL_END_STREAM, 1, get_block, sizeof(get_block));
	// "x-N: <50 bytes>" literals without indexing, new name
	for (i = 0; i < 1000 && !sv.err; i++) {
		size_t n = 0;

		lit[n++] = 0x00;
		lit[n++] = 3;
		lit[n++] = 'x';
		lit[n++] = '-';
		lit[n++] = (uint8_t)('a' + i % 26);
		lit[n++] = 50;
		memset(lit + n, 'c', 50);
		n += 50;
		frame(&in, F_CONT, 0, 1, lit, n);
		srv_input(&sv, in.data, in.len);
		in.off = in.len = 0;
	}
	CHECK(sv.err == -EPROTO, "flood: err %d", sv.err);
	CHECK(i <= H2_MAX_CONTINUATIONS + 2, "closed after %d CONTINUATION frames", i);
	CHECK(h2_conn_stats(sv.c)->protocol_errors == 1, "counted");
	CHECK(sv.num_headers_calls == 0, "no stream delivered");
	buf_cleanup(&in);
	srv_free(&sv);
}

// rapid_reset opens streams and resets them at once, as CVE-2023-44487
// does, in batches of 100; block is the request's header block.
static void rapid_reset(const struct h2_config *cfg, const uint8_t *block, size_t block_len,
			bool client_rst, uint32_t want_premature)
{
	struct buf in;
	struct srv sv;
	struct scan sc;
	uint32_t sid = 1, sent = 0, goaway_last = 0;
	int goaways = 0;
	uint32_t goaway_code = 0;

	srv_init(&sv, cfg);
	sv.mode = SRV_HOLD;
	buf_init(&in);
	raw_preface(&in);
	while (sent < 5000 && !sv.err) {
		for (int i = 0; i < 100; i++, sid += 2, sent++) {
			frame(&in, F_HEADERS, FL_END_STREAM | FL_END_HEADERS, sid, block, block_len);
			if (client_rst)
				rst(&in, sid, H2_CANCEL);
		}
		buf_consume(&sv.out, buf_avail(&sv.out));
		srv_input(&sv, in.data, in.len);
		in.off = in.len = 0;
		scan(&sv.out, &sc);
		if (sc.goaways) {
			goaways += sc.goaways;
			goaway_code = sc.goaway_code;
			goaway_last = sc.goaway_last;
		}
	}
	CHECK(goaways == 1 && goaway_code == H2_ENHANCE_YOUR_CALM,
	      "rapid reset: GOAWAY %d code %u after %u streams", goaways, goaway_code, sent);
	CHECK(sv.err == -EPROTO, "rapid reset: err %d", sv.err);
	CHECK(h2_conn_stats(sv.c)->premature_resets == want_premature,
	      "premature %llu, want %u", (unsigned long long)h2_conn_stats(sv.c)->premature_resets,
	      want_premature);
	// Streams nghttp2 resets close when the RST goes out, after the whole
	// batch was read: the GOAWAY may name a stream up to a batch later.
	CHECK(goaway_last >= 2 * want_premature - 1 &&
	      goaway_last <= 2 * (want_premature + (client_rst ? 0 : 100)) + 1,
	      "GOAWAY last stream %u", goaway_last);
	CHECK(h2_conn_stats(sv.c)->protocol_errors == 1, "one protocol error");
	CHECK(h2_conn_want_close(sv.c), "want_close");
	if (client_rst)
		CHECK(sv.closes_by_code[H2_CANCEL] == (int)want_premature, "owner saw %d CANCEL",
		      sv.closes_by_code[H2_CANCEL]);
	buf_cleanup(&in);
	srv_free(&sv);
}

static void test_rapid_reset(void)
{
	struct h2_config cfg;

	rapid_reset(NULL, get_block, sizeof(get_block), true, H2_MAX_PREMATURE_RESETS);
	// The Envoy-advisory variant: malformed requests the server resets.
	h2_config_default(&cfg);
	cfg.max_premature_resets = 50;
	rapid_reset(&cfg, nopath_block, sizeof(nopath_block), false, 50);
}

// test_stream_rules: what nghttp2 lets through with our settings and the
// codec answers itself (RFC 9113 6.3, 5.1.1), each table row a frame
// sequence after the preface and whether it must end the connection with
// PROTOCOL_ERROR.
static void test_stream_rules(void)
{
	static const uint8_t prio[5] = { 0, 0, 0, 0, 0xff };
	static const uint8_t rst_cancel[4] = { 0, 0, 0, 8 };
	static const struct {
		const char *name;
		int steps[6][2];	// (type, stream id); type -1 ends
		bool error;
	} rows[] = {
		{ "PRIORITY on stream 0", { { 2, 0 }, { -1, 0 } }, true },
		{ "PRIORITY on stream 1 (ignored)", { { 2, 1 }, { 1, 1 }, { -1, 0 } }, false },
		{ "HEADERS 5 then 3 (never opened)", { { 1, 5 }, { 1, 3 }, { -1, 0 } }, true },
		{ "HEADERS 1, 3, 5 in order", { { 1, 1 }, { 1, 3 }, { 1, 5 }, { -1, 0 } }, false },
		{ "HEADERS 1 then 9 then 7 (skipped)", { { 1, 1 }, { 1, 9 }, { 1, 7 }, { -1, 0 } },
		  true },
		{ "trailers for a stream the client reset", { { 1, 1 }, { 3, 1 }, { 1, 3 }, { 1, 1 },
							      { -1, 0 } }, false },
	};

	for (size_t r = 0; r < ARRAY_SIZE(rows); r++) {
		struct buf in;
		struct srv sv;
		struct scan sc;

		srv_init(&sv, NULL);
		sv.mode = SRV_HOLD;
		buf_init(&in);
		raw_preface(&in);
		for (int i = 0; rows[r].steps[i][0] >= 0; i++) {
			uint32_t sid = (uint32_t)rows[r].steps[i][1];

			if (rows[r].steps[i][0] == 2)
				frame(&in, 2, 0, sid, prio, sizeof(prio));
			else if (rows[r].steps[i][0] == 3)
				frame(&in, F_RST, 0, sid, rst_cancel, sizeof(rst_cancel));
			else
				frame(&in, F_HEADERS, FL_END_STREAM | FL_END_HEADERS, sid, get_block,
				      sizeof(get_block));
		}
		srv_input(&sv, in.data, in.len);
		scan(&sv.out, &sc);
		if (rows[r].error)
			CHECK(sc.goaways == 1 && sc.goaway_code == H2_PROTOCOL_ERROR,
			      "%s: GOAWAY %d code %u", rows[r].name, sc.goaways, sc.goaway_code);
		else
			CHECK(sc.goaways == 0 && sv.err == 0, "%s: GOAWAY %d code %u err %d",
			      rows[r].name, sc.goaways, sc.goaway_code, sv.err);
		buf_cleanup(&in);
		srv_free(&sv);
	}
}

static void test_empty_frames(void)
{
	struct buf in;
	struct srv sv;
	struct scan sc;

	srv_init(&sv, NULL);
	sv.mode = SRV_HOLD;
	buf_init(&in);
	raw_preface(&in);
	frame(&in, F_HEADERS, FL_END_HEADERS, 1, post_block, sizeof(post_block));
	frame(&in, F_DATA, 0, 1, NULL, 0);
	frame(&in, F_DATA, 0, 1, "x", 1);
	frame(&in, F_DATA, 0, 1, NULL, 0);	// one at a time is tolerated
	srv_input(&sv, in.data, in.len);
	CHECK(sv.err == 0, "single empty frames: %d", sv.err);
	in.off = in.len = 0;
	frame(&in, F_DATA, 0, 1, NULL, 0);	// second in a row
	buf_consume(&sv.out, buf_avail(&sv.out));
	srv_input(&sv, in.data, in.len);
	scan(&sv.out, &sc);
	CHECK(sc.goaways == 1 && sc.goaway_code == H2_ENHANCE_YOUR_CALM && sv.err == -EPROTO,
	      "empty DATA flood: GOAWAY %d code %u err %d", sc.goaways, sc.goaway_code, sv.err);
	CHECK(h2_conn_stats(sv.c)->empty_frames == 3, "empty %llu",
	      (unsigned long long)h2_conn_stats(sv.c)->empty_frames);
	buf_cleanup(&in);
	srv_free(&sv);
}

static void test_window_update_flood(void)
{
	struct buf in;
	struct srv sv;
	struct scan sc;
	uint8_t inc[4];
	int i;

	srv_init(&sv, NULL);
	buf_init(&in);
	raw_preface(&in);
	be32(inc, 1);
	for (i = 0; i < 100; i++)
		frame(&in, F_WU, 0, 0, inc, 4);
	buf_consume(&sv.out, buf_avail(&sv.out));
	srv_input(&sv, in.data, in.len);
	scan(&sv.out, &sc);
	CHECK(sc.goaways == 1 && sc.goaway_code == H2_ENHANCE_YOUR_CALM && sv.err == -EPROTO,
	      "WINDOW_UPDATE flood: GOAWAY %d code %u err %d", sc.goaways, sc.goaway_code, sv.err);
	buf_cleanup(&in);
	srv_free(&sv);
}

// test_ping_flood: PINGs from a peer that does not read our ACKs. Output
// stops at out_highwat; nghttp2's queue of ACKs then overflows.
static void test_ping_flood(void)
{
	struct buf in;
	struct srv sv;
	int rounds;

	srv_init(&sv, NULL);
	buf_init(&in);
	raw_preface(&in);
	srv_input(&sv, in.data, in.len);
	for (rounds = 0; rounds < 100 && !sv.err; rounds++) {
		in.off = in.len = 0;
		for (int i = 0; i < 500; i++)
			frame(&in, F_PING, 0, 0, "pingpong", 8);
		srv_input(&sv, in.data, in.len);
		CHECK(buf_avail(&sv.out) <= H2_OUT_HIGHWAT + 64, "output bounded: %zu",
		      buf_avail(&sv.out));
	}
	CHECK(sv.err == -EPROTO && rounds < 20, "ping flood: err %d after %d rounds", sv.err,
	      rounds);
	CHECK(h2_conn_stats(sv.c)->protocol_errors == 1, "counted");
	srv_free(&sv);
	// The same PINGs read promptly are fine.
	srv_init(&sv, NULL);
	in.off = in.len = 0;
	raw_preface(&in);
	srv_input(&sv, in.data, in.len);
	for (rounds = 0; rounds < 20 && !sv.err; rounds++) {
		in.off = in.len = 0;
		for (int i = 0; i < 500; i++)
			frame(&in, F_PING, 0, 0, "pingpong", 8);
		srv_input(&sv, in.data, in.len);
		buf_consume(&sv.out, buf_avail(&sv.out));
		while (!sv.err && h2_conn_flush(sv.c, &sv.out) == 0 && buf_avail(&sv.out))
			buf_consume(&sv.out, buf_avail(&sv.out));
	}
	CHECK(sv.err == 0, "pings read promptly: %d", sv.err);
	buf_cleanup(&in);
	srv_free(&sv);
}

// test_flow_control: a 200 KiB response goes out one client window at a
// time; the rest waits for WINDOW_UPDATE, buffered at most stream_out_max.
static void test_flow_control(void)
{
	const size_t total = 200 * 1024;
	struct client cl;
	struct srv sv;
	struct cst *c;
	int32_t id;
	int rounds = 0;
	size_t consumed = 0;
	bool pattern = true;

	srv_init(&sv, NULL);
	sv.resp_body = total;
	client_init(&cl, true);
	id = request(&cl, "GET", "/big", NULL, 0, false);
	c = cst_of(&cl, id);
	pump(&cl, &sv);
	CHECK(c->status == 200, "status %d", c->status);
	CHECK(c->body.len == NGHTTP2_INITIAL_WINDOW_SIZE, "first window: %zu", c->body.len);
	CHECK(!c->closed, "not complete");
	CHECK(sv.write_too_much == -ENOBUFS, "over stream_out_max: %d", sv.write_too_much);
	CHECK(live_slot(&sv, id) && live_slot(&sv, id)->sent <= H2_STREAM_OUT_MAX + 65535,
	      "buffered is bounded");
	while (!c->closed && rounds < 100) {
		size_t before = c->body.len;

		rounds++;
		pump(&cl, &sv);
		CHECK(c->body.len == before, "round %d: no data without WINDOW_UPDATE", rounds);
		CHECK(nghttp2_session_consume(cl.s, id, c->body.len - consumed) == 0, "consume");
		consumed = c->body.len;
		pump(&cl, &sv);
		CHECK(c->body.len - consumed <= NGHTTP2_INITIAL_WINDOW_SIZE,
		      "round %d: one window at most: %zu", rounds, c->body.len - consumed);
	}
	CHECK(c->closed && c->close_code == 0 && c->body.len == total, "complete: %zu in %d rounds",
	      c->body.len, rounds);
	CHECK(rounds >= 3, "rounds %d", rounds);
	for (size_t i = 0; i < c->body.len && pattern; i++)
		pattern = c->body.data[i] == (char)(i % 251);
	CHECK(pattern, "body intact");
	CHECK(!strcmp(c->trailer_status, "0"), "trailers after the body");
	CHECK(sv.num_drain_calls >= 1, "on_drain %d", sv.num_drain_calls);
	client_free(&cl);
	srv_free(&sv);
}

static void test_goaway(void)
{
	struct client cl;
	struct srv sv;
	int32_t id;

	// Graceful: notice, PING, final GOAWAY naming stream 1; it completes.
	srv_init(&sv, NULL);
	sv.mode = SRV_HOLD;
	client_init(&cl, false);
	id = request(&cl, "GET", "/", NULL, 0, false);
	pump(&cl, &sv);
	CHECK(h2_conn_shutdown(sv.c) == 0, "shutdown");
	CHECK(h2_conn_shutdown(sv.c) == -EALREADY, "shutdown twice");
	pump(&cl, &sv);
	CHECK(cl.goaways == 2 && cl.goaway_code == 0 && cl.goaway_last == id,
	      "graceful: %d GOAWAY, last %d", cl.goaways, cl.goaway_last);
	CHECK(cl.pings == 1, "PING %d", cl.pings);
	CHECK(sv.err == 0 && !h2_conn_want_close(sv.c), "stream 1 still open");
	respond(live_slot(&sv, id));
	pump(&cl, &sv);
	CHECK(cst_of(&cl, id)->status == 200 && cst_of(&cl, id)->closed, "stream 1 completed");
	CHECK(sv.err == -ESHUTDOWN && h2_conn_want_close(sv.c), "session ended: %d", sv.err);
	CHECK(h2_conn_stats(sv.c)->protocol_errors == 0, "no protocol error");
	client_free(&cl);
	srv_free(&sv);

	// Immediate, with an error code of the owner's choosing.
	srv_init(&sv, NULL);
	sv.mode = SRV_HOLD;
	client_init(&cl, false);
	id = request(&cl, "GET", "/", NULL, 0, false);
	pump(&cl, &sv);
	CHECK(h2_conn_goaway(sv.c, H2_INTERNAL_ERROR) == 0, "goaway");
	pump(&cl, &sv);
	CHECK(cl.goaways == 1 && cl.goaway_code == H2_INTERNAL_ERROR, "immediate: %u",
	      cl.goaway_code);
	CHECK(sv.err == -ESHUTDOWN && h2_conn_want_close(sv.c), "ended: %d", sv.err);
	CHECK(h2_conn_stats(sv.c)->protocol_errors == 0, "owner GOAWAY is no protocol error");
	client_free(&cl);
	srv_free(&sv);
	CHECK(sv.closes_by_code[H2_CANCEL] == 1, "free cancelled the open stream");

	// The peer's GOAWAY ends the session once its streams are done.
	srv_init(&sv, NULL);
	client_init(&cl, false);
	id = request(&cl, "GET", "/", NULL, 0, false);
	pump(&cl, &sv);
	nghttp2_session_terminate_session(cl.s, NGHTTP2_NO_ERROR);
	pump(&cl, &sv);
	CHECK(h2_conn_stats(sv.c)->goaway_recv == 1 && sv.err == -ESHUTDOWN,
	      "peer GOAWAY: err %d", sv.err);
	client_free(&cl);
	srv_free(&sv);
}

// test_settings: the server preface advertises the hardening values.
static void test_settings(void)
{
	static const struct {
		uint16_t id;
		uint32_t value;
	} want[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 65536 },
		{ NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 4096 },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 65536 },
		{ NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
	};
	const uint8_t *p;
	struct srv sv;
	size_t len, n;

	srv_init(&sv, NULL);
	p = (const uint8_t *)buf_head(&sv.out);
	len = buf_avail(&sv.out);
	CHECK(len >= 9 && p[3] == F_SETTINGS && !(p[4] & FL_ACK), "SETTINGS first");
	n = len >= 9 ? ((size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2]) : 0;
	CHECK(n == 6 * ARRAY_SIZE(want) && len >= 9 + n, "%zu bytes of settings", n);
	for (size_t i = 0; i < ARRAY_SIZE(want) && 9 + 6 * (i + 1) <= len; i++) {
		const uint8_t *e = p + 9 + 6 * i;

		CHECK((e[0] << 8 | e[1]) == want[i].id && get32(e + 2) == want[i].value,
		      "setting %zu: id %u value %u", i, e[0] << 8 | e[1], get32(e + 2));
	}
	p += 9 + n;
	CHECK(len >= 9 + n + 13 && p[3] == F_WU && get32(p + 5) == 0 &&
	      get32(p + 9) == H2_CONN_WINDOW - 65535, "connection window raised to 1 MiB");
	srv_free(&sv);
}

// test_continuation_other_stream: a CONTINUATION must follow its HEADERS.
static void test_continuation_other_stream(void)
{
	struct buf in;
	struct srv sv;
	struct scan sc;

	srv_init(&sv, NULL);
	buf_init(&in);
	raw_preface(&in);
	frame(&in, F_HEADERS, FL_END_STREAM, 1, get_block, 3);
	frame(&in, F_CONT, FL_END_HEADERS, 3, get_block + 3, sizeof(get_block) - 3);
	buf_consume(&sv.out, buf_avail(&sv.out));
	srv_input(&sv, in.data, in.len);
	scan(&sv.out, &sc);
	CHECK(sv.err == -EPROTO && (sc.goaways == 0 || sc.goaway_code == H2_PROTOCOL_ERROR),
	      "CONTINUATION on stream 3: err %d GOAWAY %d code %u", sv.err, sc.goaways,
	      sc.goaway_code);
	CHECK(sv.num_headers_calls == 0, "nothing delivered");
	buf_cleanup(&in);
	srv_free(&sv);
}

// test_trailer_overflow: request trailers over the limit reset the stream.
static void test_trailer_overflow(void)
{
	struct buf in, blk;
	struct srv sv;
	struct scan sc;
	static char v[9000];

	srv_init(&sv, NULL);
	sv.mode = SRV_HOLD;
	buf_init(&in);
	buf_init(&blk);
	raw_preface(&in);
	frame(&in, F_HEADERS, FL_END_HEADERS, 1, post_block, sizeof(post_block));
	memset(v, 't', sizeof(v));
	for (int i = 0; i < 8; i++) {
		uint8_t h[6] = { 0x00, 0x03, 'x', '-', (uint8_t)('a' + i), 0x7f };

		buf_append(&blk, h, sizeof(h));
		buf_append(&blk, "\xa9\x45", 2);	// 127 + 8873 = 9000
		buf_append(&blk, v, sizeof(v));
	}
	buf_consume(&sv.out, buf_avail(&sv.out));
	// 72 KiB does not fit a 16 KiB frame: HEADERS + CONTINUATION.
	{
		size_t off = 0;
		bool first = true;

		while (off < blk.len) {
			size_t n = MIN((size_t)16384, blk.len - off);
			uint8_t fl = off + n == blk.len ? FL_END_HEADERS : 0;

			if (first)
				frame(&in, F_HEADERS, fl | FL_END_STREAM, 1, blk.data + off, n);
			else
				frame(&in, F_CONT, fl, 1, blk.data + off, n);
			first = false;
			off += n;
		}
	}
	srv_input(&sv, in.data, in.len);
	scan(&sv.out, &sc);
	CHECK(sv.err == 0 && sc.rsts == 1 && sc.last_rst_code == H2_PROTOCOL_ERROR,
	      "trailer overflow: err %d, %d RST code %u", sv.err, sc.rsts, sc.last_rst_code);
	CHECK(sv.num_headers_calls == 1 && sv.num_trailers_calls == 0 && sv.num_end_calls == 0,
	      "owner saw headers only");
	CHECK(sv.closes_by_code[H2_PROTOCOL_ERROR] == 1, "closed with PROTOCOL_ERROR");
	buf_cleanup(&in);
	buf_cleanup(&blk);
	srv_free(&sv);
}

// ---------------------------------------------------------------------------
// Manual flow control (h2_config.manual_consume)

// data_frames appends len body bytes on sid in frames of at most 16 KiB.
static void data_frames(struct buf *b, uint32_t sid, size_t len, bool end)
{
	static const char chunk[16384];

	do {
		size_t n = MIN(len, sizeof(chunk));

		len -= n;
		frame(b, F_DATA, end && !len ? FL_END_STREAM : 0, sid, chunk, n);
	} while (len);
}

// manual_srv starts a server holding its answers, with manual_consume as
// told, past the raw client preface; its output is then empty.
static void manual_srv(struct srv *sv, bool manual)
{
	struct h2_config cfg;
	struct buf in;

	h2_config_default(&cfg);
	cfg.manual_consume = manual;
	srv_init(sv, &cfg);
	sv->mode = SRV_HOLD;
	buf_init(&in);
	raw_preface(&in);
	srv_input(sv, in.data, in.len);
	buf_consume(&sv->out, buf_avail(&sv->out));
	buf_cleanup(&in);
}

// srv_send feeds raw frames and scans what the server answered.
static void srv_send(struct srv *sv, struct buf *in, struct scan *sc)
{
	buf_consume(&sv->out, buf_avail(&sv->out));
	srv_input(sv, in->data, in->len);
	in->off = in->len = 0;
	if (!sv->err) {
		int err = h2_conn_flush(sv->c, &sv->out);

		if (err)
			sv->err = err;
	}
	scan(&sv->out, sc);
}

// test_manual_stream_window: one POST stream and the stream window. Bytes
// on_data delivered hold the window until consumed; the peer cannot send
// past it; consuming half a window or more sends a WINDOW_UPDATE.
static void test_manual_stream_window(void)
{
	static const struct {
		const char *id;
		bool manual;
		size_t first;		// bytes sent
		size_t consume;		// then consumed by the owner
		size_t second;		// then sent
		uint64_t want_wu;	// stream WINDOW_UPDATE increments, in all
		uint32_t want_rst;	// RST_STREAM code on stream 1, or 0
		size_t want_recv;	// bytes on_data delivered
	} rows[] = {
		{ "auto: window refills itself", false, 65536, 0, 65536, 1, 0, 131072 },
		{ "manual: full window, no WINDOW_UPDATE", true, 65536, 0, 0, 0, 0, 65536 },
		{ "manual: window + 1 byte", true, 65537, 0, 0, 0, H2_FLOW_CONTROL_ERROR, 65536 },
		{ "manual: less than half consumed", true, 65536, 16384, 0, 0, 0, 65536 },
		{ "manual: consumed window reopens", true, 65536, 65536, 65536, 65536, 0, 131072 },
		{ "manual: only what was consumed", true, 65536, 40000, 40001, 40000,
		  H2_FLOW_CONTROL_ERROR, 65536 },
		{ "manual: consume more than delivered", true, 1000, 1 << 20, 65536, 0,
		  H2_FLOW_CONTROL_ERROR, 1000 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct srv sv;
		struct scan sc1, sc2;
		struct buf in;
		struct sst *t;
		uint64_t wu;

		manual_srv(&sv, rows[i].manual);
		buf_init(&in);
		frame(&in, F_HEADERS, FL_END_HEADERS, 1, post_block, sizeof(post_block));
		data_frames(&in, 1, rows[i].first, false);
		srv_send(&sv, &in, &sc1);
		t = live_slot(&sv, 1);
		if (t && rows[i].consume) {
			h2_stream_consume(t->s, rows[i].consume);
			CHECK(h2_conn_flush(sv.c, &sv.out) == 0, "%s: flush", rows[i].id);
			scan(&sv.out, &sc1);
		}
		wu = sc1.wu_streams;
		if (rows[i].second) {
			data_frames(&in, 1, rows[i].second, false);
			srv_send(&sv, &in, &sc2);
			if (rows[i].manual)
				wu += sc2.wu_streams;
			sc1.rsts += sc2.rsts;
			if (sc2.rsts)
				sc1.last_rst_code = sc2.last_rst_code;
		}
		t = live_slot(&sv, 1);
		CHECK(sv.err == 0, "%s: err %d", rows[i].id, sv.err);
		if (rows[i].want_wu == 1)
			CHECK(wu > 0, "%s: no WINDOW_UPDATE", rows[i].id);
		else
			CHECK(wu == rows[i].want_wu, "%s: WINDOW_UPDATE %llu, want %llu", rows[i].id,
			      (unsigned long long)wu, (unsigned long long)rows[i].want_wu);
		if (rows[i].want_rst) {
			CHECK(sc1.rsts == 1 && sc1.last_rst_code == rows[i].want_rst,
			      "%s: %d RST code %u", rows[i].id, sc1.rsts, sc1.last_rst_code);
			CHECK(!t && sv.closes_by_code[rows[i].want_rst] == 1, "%s: owner saw close",
			      rows[i].id);
			CHECK(sv.num_data_calls > 0 && sv.num_close_calls == 1, "%s: closes %d",
			      rows[i].id, sv.num_close_calls);
		} else {
			CHECK(sc1.rsts == 0 && t, "%s: %d RST code %u", rows[i].id, sc1.rsts,
			      sc1.last_rst_code);
		}
		CHECK(sc1.wu_conn == 0, "%s: connection WINDOW_UPDATE %llu", rows[i].id,
		      (unsigned long long)sc1.wu_conn);
		if (t)
			CHECK(t->body.len == rows[i].want_recv, "%s: received %zu", rows[i].id,
			      t->body.len);
		buf_cleanup(&in);
		srv_free(&sv);
	}
}

// fill_conn_window opens 16 POST streams (1, 3, ... 31) and sends 64 KiB on
// each: 1 MiB, the whole connection window.
static void fill_conn_window(struct srv *sv, struct scan *sc)
{
	struct buf in;

	buf_init(&in);
	for (uint32_t i = 0; i < 16; i++) {
		frame(&in, F_HEADERS, FL_END_HEADERS, 2 * i + 1, post_block, sizeof(post_block));
		data_frames(&in, 2 * i + 1, 65536, false);
	}
	srv_send(sv, &in, sc);
	buf_cleanup(&in);
}

// test_manual_conn_window: unconsumed bytes hold the connection window;
// resets and closes give them back, so the window never leaks.
static void test_manual_conn_window(void)
{
	struct srv sv;
	struct scan sc;
	struct buf in;
	size_t held = 0;

	buf_init(&in);
	// 1 MiB unconsumed: one more byte on a new stream breaks the window.
	manual_srv(&sv, true);
	fill_conn_window(&sv, &sc);
	CHECK(sv.err == 0 && sc.wu_conn == 0 && sc.wu_streams == 0 && sc.rsts == 0,
	      "1 MiB held: err %d WINDOW_UPDATE %llu/%llu", sv.err,
	      (unsigned long long)sc.wu_conn, (unsigned long long)sc.wu_streams);
	for (int32_t id = 1; id <= 31; id += 2)
		held += live_slot(&sv, id) ? live_slot(&sv, id)->body.len : 0;
	CHECK(held == 1 << 20, "owner holds %zu", held);
	frame(&in, F_HEADERS, FL_END_HEADERS, 33, post_block, sizeof(post_block));
	data_frames(&in, 33, 1, false);
	srv_send(&sv, &in, &sc);
	CHECK(sv.err == -EPROTO && sc.goaways == 1 && sc.goaway_code == H2_FLOW_CONTROL_ERROR,
	      "past the connection window: err %d GOAWAY %d code %u", sv.err, sc.goaways,
	      sc.goaway_code);
	srv_free(&sv);

	// The default mode refills the connection window by itself.
	manual_srv(&sv, false);
	fill_conn_window(&sv, &sc);
	CHECK(sc.wu_conn >= 1 << 19, "auto: connection WINDOW_UPDATE %llu",
	      (unsigned long long)sc.wu_conn);
	srv_free(&sv);

	// Peer resets of 8 streams and owner resets of 8 more give back 512
	// KiB each: enough for nghttp2 to send a connection WINDOW_UPDATE.
	manual_srv(&sv, true);
	fill_conn_window(&sv, &sc);
	for (uint32_t id = 1; id <= 15; id += 2)
		rst(&in, id, H2_CANCEL);
	srv_send(&sv, &in, &sc);
	CHECK(sc.wu_conn == 1 << 19 && sv.closes_by_code[H2_CANCEL] == 8,
	      "peer resets: connection WINDOW_UPDATE %llu, %d closed",
	      (unsigned long long)sc.wu_conn, sv.closes_by_code[H2_CANCEL]);
	for (int32_t id = 17; id <= 31; id += 2) {
		struct sst *t = live_slot(&sv, id);

		// Half consumed before the reset, half left to the close.
		if (t) {
			h2_stream_consume(t->s, 32768);
			CHECK(h2_stream_reset(t->s, H2_INTERNAL_ERROR) == 0, "owner reset");
		}
	}
	srv_send(&sv, &in, &sc);
	CHECK(sc.wu_conn == 1 << 19 && sv.closes_by_code[H2_INTERNAL_ERROR] == 8,
	      "owner resets: connection WINDOW_UPDATE %llu, %d closed",
	      (unsigned long long)sc.wu_conn, sv.closes_by_code[H2_INTERNAL_ERROR]);
	// The whole window is back: another 1 MiB goes through.
	for (uint32_t i = 0; i < 16; i++) {
		frame(&in, F_HEADERS, FL_END_HEADERS, 33 + 2 * i, post_block, sizeof(post_block));
		data_frames(&in, 33 + 2 * i, 65536, false);
	}
	srv_send(&sv, &in, &sc);
	CHECK(sv.err == 0 && sc.goaways == 0 && sc.rsts == 0, "second MiB: err %d GOAWAY %d",
	      sv.err, sc.goaways);
	srv_free(&sv);

	// Bytes of streams the owner never sees (431) count as consumed: 24
	// such streams of 64 KiB each are 1.5 MiB, past a leaking window.
	{
		static char v[9000];
		struct buf blk;

		manual_srv(&sv, true);
		buf_init(&blk);
		memset(v, 'v', sizeof(v));
		buf_append(&blk, post_block, sizeof(post_block));
		for (int i = 0; i < 8; i++) {
			uint8_t h[6] = { 0x00, 0x03, 'x', '-', (uint8_t)('a' + i), 0x7f };

			buf_append(&blk, h, sizeof(h));
			buf_append(&blk, "\xa9\x45", 2);	// 127 + 8873 = 9000
			buf_append(&blk, v, sizeof(v));
		}
		for (uint32_t id = 1; id < 48 && !sv.err; id += 2) {
			size_t off = 0;

			while (off < blk.len) {
				size_t n = MIN((size_t)16384, blk.len - off);
				uint8_t fl = off + n == blk.len ? FL_END_HEADERS : 0;

				frame(&in, off ? F_CONT : F_HEADERS, fl, id, blk.data + off, n);
				off += n;
			}
			data_frames(&in, id, 65536, false);
			srv_send(&sv, &in, &sc);
		}
		CHECK(sv.err == 0 && sv.num_headers_calls == 0 && sv.num_data_calls == 0,
		      "431 streams: err %d, owner saw %d", sv.err, sv.num_headers_calls);
		CHECK(h2_conn_stats(sv.c)->header_overflows == 24, "overflows %llu",
		      (unsigned long long)h2_conn_stats(sv.c)->header_overflows);
		buf_cleanup(&blk);
		srv_free(&sv);
	}
	buf_cleanup(&in);
}

// test_manual_post: a 200 KiB request body from nghttp2's client reaches a
// manual_consume owner one window at a time: nothing moves until consumed.
static void test_manual_post(void)
{
	static char body[200 * 1024];
	struct h2_config cfg;
	struct client cl;
	struct srv sv;
	struct sst *t;
	size_t consumed = 0;
	int32_t id;
	int rounds = 0;
	bool pattern = true;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (char)(i % 253);
	h2_config_default(&cfg);
	cfg.manual_consume = true;
	srv_init(&sv, &cfg);
	sv.mode = SRV_HOLD;
	client_init(&cl, false);
	cl.req_body = body;
	cl.req_len = sizeof(body);
	id = request(&cl, "POST", "/up", NULL, 0, true);
	pump(&cl, &sv);
	t = live_slot(&sv, id);
	CHECK(t && t->body.len == 65536 && !t->ended, "first window: %zu", t ? t->body.len : 0);
	pump(&cl, &sv);
	CHECK(t && t->body.len == 65536, "nothing more unconsumed: %zu", t ? t->body.len : 0);
	while (t && !t->ended && rounds++ < 100) {
		size_t before = t->body.len;

		h2_stream_consume(t->s, t->body.len - consumed);
		consumed = t->body.len;
		pump(&cl, &sv);
		CHECK(t->body.len > before && t->body.len - consumed <= 65536,
		      "round %d: %zu new bytes", rounds, t->body.len - before);
	}
	CHECK(t && t->ended && t->body.len == sizeof(body), "complete: %zu in %d rounds",
	      t ? t->body.len : 0, rounds);
	for (size_t i = 0; t && i < t->body.len && pattern; i++)
		pattern = t->body.data[i] == body[i];
	CHECK(pattern, "body intact");
	CHECK(rounds >= 3, "rounds %d", rounds);
	if (t)
		respond(t);
	pump(&cl, &sv);
	CHECK(cst_of(&cl, id)->status == 200 && cst_of(&cl, id)->closed, "answered");
	CHECK(sv.err == 0, "err %d", sv.err);
	client_free(&cl);
	srv_free(&sv);
}

int main(void)
{
	test_unary(0);
	test_unary(1);
	test_unary(7);
	test_concurrency();
	test_bad_preface();
	test_header_limits();
	test_hpack_bomb();
	test_continuation_flood();
	test_rapid_reset();
	test_empty_frames();
	test_stream_rules();
	test_window_update_flood();
	test_ping_flood();
	test_flow_control();
	test_goaway();
	test_trailer_overflow();
	test_settings();
	test_continuation_other_stream();
	test_manual_stream_window();
	test_manual_conn_window();
	test_manual_post();
	printf("h2_test: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
