// SPDX-License-Identifier: Apache-2.0
// h2.c: HTTP/2 server sessions on nghttp2 (the only nghttp2 user besides
// its tests), fed and drained through memory buffers, with our limits on top.
#include "h2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "core/bug.h"
#include "core/list.h"
#include "core/log.h"

// The opaque data of the PING that ends a graceful shutdown's first phase.
static const uint8_t shutdown_ping[8] = { 'm', 'g', '-', 's', 'h', 'u', 't', 0 };

// Stream flags.
enum {
	SF_DELIVERED = 1u << 0,		// on_headers was called: on_stream_close will be
	SF_REJECTED = 1u << 1,		// no more request callbacks (reset, or rejected)
	SF_OVERFLOW = 1u << 2,		// the header section broke a limit
	SF_RESPONDED = 1u << 3,		// response headers submitted
	SF_BODY_ENDED = 1u << 4,	// h2_stream_end called
	SF_RESP_DONE = 1u << 5,		// END_STREAM sent
	SF_PEER_RESET = 1u << 6,	// RST_STREAM received
	SF_LOCAL_RESET = 1u << 7,	// the owner reset it
	SF_DEFERRED = 1u << 8,		// the data provider is deferred
	SF_WANT_DRAIN = 1u << 9,	// call on_drain when out empties
	SF_REQ_ENDED = 1u << 10,	// END_STREAM received
	SF_TRAILERS = 1u << 11,		// receiving the trailer section
};

// hoff locates a received field in the stream's hbuf while the section is
// being decoded (hbuf may move as it grows).
struct hoff {
	uint32_t name_off, name_len, value_off, value_len;
};

struct h2_stream {
	struct list link;		// h2_conn.streams
	struct list drain_link;		// h2_conn.drains, when queued
	struct h2_conn *conn;
	void *data;
	int32_t id;
	uint32_t flags;
	// The header section being received: bounded by max_header_list and
	// max_headers, freed once delivered.
	uint32_t hdr_size;
	uint32_t num_hdrs;
	struct hoff *hoff;
	struct buf hbuf;
	// The response body not yet taken by nghttp2, at most stream_out_max.
	struct buf out;
	// Response trailers, "name\0value\0" num_trailers times.
	struct buf tbuf;
	uint32_t num_trailers;
};

struct h2_conn {
	nghttp2_session *session;
	const struct h2_callbacks *cb;
	void *arg;
	struct h2_config cfg;
	struct h2_stats stats;
	struct list streams;
	struct list drains;
	struct h2_header *scratch;	// max_headers fields, for delivery
	uint32_t empty_run;		// consecutive empty DATA frames
	int err;			// sticky: the connection must close
	bool dead;			// nghttp2 failed fatally: never call it again
	bool settings_acked;
	bool shutting_down;
	bool owner_goaway;		// the next error GOAWAY is the owner's
};

void h2_config_default(struct h2_config *cfg)
{
	*cfg = (struct h2_config){
		.max_concurrent_streams = H2_MAX_CONCURRENT_STREAMS,
		.initial_window = H2_INITIAL_WINDOW,
		.conn_window = H2_CONN_WINDOW,
		.header_table = H2_HEADER_TABLE,
		.max_header_list = H2_MAX_HEADER_LIST,
		.max_headers = H2_MAX_HEADERS,
		.max_premature_resets = H2_MAX_PREMATURE_RESETS,
		.stream_out_max = H2_STREAM_OUT_MAX,
		.out_highwat = H2_OUT_HIGHWAT,
		.max_empty_frames = H2_MAX_EMPTY_FRAMES,
		.max_continuations = H2_MAX_CONTINUATIONS,
	};
}

// errno_of translates an nghttp2 error code at the library boundary.
static int errno_of(int rv)
{
	switch (rv) {
	case NGHTTP2_ERR_NOMEM:
		return -ENOMEM;
	case NGHTTP2_ERR_INVALID_ARGUMENT:
	case NGHTTP2_ERR_INVALID_STATE:
	case NGHTTP2_ERR_INVALID_STREAM_STATE:
	case NGHTTP2_ERR_INVALID_STREAM_ID:
	case NGHTTP2_ERR_STREAM_CLOSED:
	case NGHTTP2_ERR_STREAM_CLOSING:
	case NGHTTP2_ERR_STREAM_SHUT_WR:
		return -EINVAL;
	case NGHTTP2_ERR_DATA_EXIST:
	case NGHTTP2_ERR_GOAWAY_ALREADY_SENT:
		return -EALREADY;
	default:
		return -EPROTO;
	}
}

// terminate sends GOAWAY(code) and ends the session once it is out.
static void terminate(struct h2_conn *c, uint32_t code)
{
	int rv = nghttp2_session_terminate_session(c->session, code);

	if (rv < 0 && rv != NGHTTP2_ERR_GOAWAY_ALREADY_SENT)
		log_debug("h2: GOAWAY failed (%s)", nghttp2_strerror(rv));
}

static void stream_free(struct h2_stream *s)
{
	list_del(&s->link);
	list_del(&s->drain_link);
	free(s->hoff);
	buf_cleanup(&s->hbuf);
	buf_cleanup(&s->out);
	buf_cleanup(&s->tbuf);
	free(s);
}

static struct h2_stream *stream_of(struct h2_conn *c, int32_t id)
{
	return nghttp2_session_get_stream_user_data(c->session, id);
}

// hdr_reset forgets a header section once delivered or abandoned.
static void hdr_reset(struct h2_stream *s)
{
	free(s->hoff);
	s->hoff = NULL;
	buf_cleanup(&s->hbuf);
	s->hdr_size = 0;
	s->num_hdrs = 0;
}

// hdr_list turns the offsets into the connection's scratch field array.
static const struct h2_header *hdr_list(struct h2_conn *c, struct h2_stream *s)
{
	for (uint32_t i = 0; i < s->num_hdrs; i++) {
		const struct hoff *o = &s->hoff[i];

		c->scratch[i] = (struct h2_header){
			.name = s->hbuf.data + o->name_off,
			.name_len = o->name_len,
			.value = s->hbuf.data + o->value_off,
			.value_len = o->value_len,
		};
	}
	return c->scratch;
}

// reject stops request callbacks for s and resets it with code.
static void reject(struct h2_conn *c, struct h2_stream *s, uint32_t code)
{
	s->flags |= SF_REJECTED;
	nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, code);
}

// owner_failed resets a stream whose owner callback returned an error.
static void owner_failed(struct h2_conn *c, struct h2_stream *s)
{
	s->flags |= SF_LOCAL_RESET;
	reject(c, s, H2_INTERNAL_ERROR);
}

// ---------------------------------------------------------------------------
// nghttp2 callbacks

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct h2_conn *c = ud;
	struct h2_stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
		s = stream_of(c, frame->hd.stream_id);
		if (s) {
			hdr_reset(s);
			s->flags |= SF_TRAILERS;
		}
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	s->conn = c;
	s->id = frame->hd.stream_id;
	list_init(&s->drain_link);
	list_add_tail(&c->streams, &s->link);
	if (nghttp2_session_set_stream_user_data(session, s->id, s) < 0) {
		stream_free(s);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	c->stats.streams++;
	return 0;
}

// on_header counts the section as it is decoded, so that an HPACK bomb is
// cut off at the limit rather than measured after the fact.
static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
		     const uint8_t *name, size_t name_len, const uint8_t *value,
		     size_t value_len, uint8_t flags, void *ud)
{
	struct h2_conn *c = ud;
	struct h2_stream *s;
	struct hoff *o;
	uint64_t size;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	s = stream_of(c, frame->hd.stream_id);
	if (!s || (s->flags & (SF_OVERFLOW | SF_REJECTED)))
		return 0;
	// RFC 9113 §6.5.2: name + value + 32 per field.
	size = (uint64_t)s->hdr_size + name_len + value_len + 32;
	if (size > c->cfg.max_header_list || s->num_hdrs >= c->cfg.max_headers) {
		s->flags |= SF_OVERFLOW;
		c->stats.header_overflows++;
		hdr_reset(s);
		return 0;
	}
	if (!s->hoff) {
		s->hoff = malloc(c->cfg.max_headers * sizeof(*s->hoff));
		if (!s->hoff)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	o = &s->hoff[s->num_hdrs];
	o->name_off = (uint32_t)s->hbuf.len;
	o->name_len = (uint32_t)name_len;
	o->value_off = (uint32_t)(s->hbuf.len + name_len + 1);
	o->value_len = (uint32_t)value_len;
	if (buf_reserve(&s->hbuf, name_len + value_len + 2) < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	memcpy(s->hbuf.data + s->hbuf.len, name, name_len);
	s->hbuf.data[s->hbuf.len + name_len] = 0;
	memcpy(s->hbuf.data + o->value_off, value, value_len);
	s->hbuf.data[o->value_off + value_len] = 0;
	s->hbuf.len += name_len + value_len + 2;
	s->hdr_size = (uint32_t)size;
	s->num_hdrs++;
	return 0;
}

// send_431 answers a request whose header section is too large, as the
// HTTP/1 parser does (its body is then refused, see on_frame_send).
static void send_431(struct h2_conn *c, struct h2_stream *s, bool end_stream)
{
	static const nghttp2_nv nv[] = {
		{ (uint8_t *)":status", (uint8_t *)"431", 7, 3, NGHTTP2_NV_FLAG_NONE },
	};

	s->flags |= SF_REJECTED | SF_RESPONDED | SF_BODY_ENDED;
	if (end_stream)
		s->flags |= SF_REQ_ENDED;
	nghttp2_submit_response(c->session, s->id, nv, ARRAY_SIZE(nv), NULL);
}

static void end_request(struct h2_conn *c, struct h2_stream *s)
{
	s->flags |= SF_REQ_ENDED;
	if ((s->flags & SF_REJECTED) || !c->cb->on_end_stream)
		return;
	if (c->cb->on_end_stream(c->arg, s) < 0)
		owner_failed(c, s);
}

static void recv_headers(struct h2_conn *c, struct h2_stream *s, const nghttp2_frame *frame)
{
	bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
	const struct h2_header *h;
	int err;

	if (s->flags & SF_REJECTED) {
		hdr_reset(s);
		return;
	}
	if (s->flags & SF_OVERFLOW) {
		if (s->flags & SF_TRAILERS)
			reject(c, s, H2_PROTOCOL_ERROR);
		else
			send_431(c, s, end_stream);
		return;
	}
	h = hdr_list(c, s);
	if (!(s->flags & SF_TRAILERS)) {
		s->flags |= SF_DELIVERED;
		err = c->cb->on_headers(c->arg, s, h, s->num_hdrs, end_stream);
	} else {
		err = c->cb->on_trailers ? c->cb->on_trailers(c->arg, s, h, s->num_hdrs) : 0;
	}
	hdr_reset(s);
	if (err < 0) {
		owner_failed(c, s);
		return;
	}
	if (end_stream)
		end_request(c, s);
}

static void recv_data(struct h2_conn *c, struct h2_stream *s, const nghttp2_frame *frame)
{
	bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;

	// CVE-2019-9518: a run of empty frames costs us and tells us nothing.
	if (frame->hd.length == 0 && !end_stream) {
		c->stats.empty_frames++;
		if (++c->empty_run > c->cfg.max_empty_frames) {
			terminate(c, H2_ENHANCE_YOUR_CALM);
			return;
		}
	} else {
		c->empty_run = 0;
	}
	if (s && end_stream)
		end_request(c, s);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct h2_conn *c = ud;
	struct h2_stream *s = frame->hd.stream_id ? stream_of(c, frame->hd.stream_id) : NULL;
	uint64_t allowed;
	int rv;

	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
		c->empty_run = 0;
		if (s)
			recv_headers(c, s, frame);
		break;
	case NGHTTP2_DATA:
		recv_data(c, s, frame);
		break;
	case NGHTTP2_RST_STREAM:
		c->stats.resets_recv++;
		if (s)
			s->flags |= SF_PEER_RESET | SF_REJECTED;
		break;
	case NGHTTP2_SETTINGS:
		if (frame->hd.flags & NGHTTP2_FLAG_ACK)
			c->settings_acked = true;
		break;
	case NGHTTP2_PING:
		if ((frame->hd.flags & NGHTTP2_FLAG_ACK) && c->shutting_down &&
		    !memcmp(frame->ping.opaque_data, shutdown_ping, sizeof(shutdown_ping))) {
			c->shutting_down = false;
			rv = nghttp2_submit_goaway(session, NGHTTP2_FLAG_NONE,
						   nghttp2_session_get_last_proc_stream_id(session),
						   H2_NO_ERROR, NULL, 0);
			if (rv < 0)
				log_debug("h2: final GOAWAY failed (%s)", nghttp2_strerror(rv));
		}
		break;
	case NGHTTP2_GOAWAY:
		c->stats.goaway_recv++;
		break;
	case NGHTTP2_WINDOW_UPDATE:
		// CVE-2019-9517-style churn: Envoy's bound on WINDOW_UPDATE
		// frames relative to the DATA frames we sent.
		c->stats.window_updates++;
		allowed = 5 + 2 * (c->stats.streams + 10 * c->stats.data_frames_sent);
		if (c->stats.window_updates > allowed)
			terminate(c, H2_ENHANCE_YOUR_CALM);
		break;
	default:
		break;
	}
	return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
			 const uint8_t *data, size_t len, void *ud)
{
	struct h2_conn *c = ud;
	struct h2_stream *s = stream_of(c, stream_id);

	if (!s || (s->flags & SF_REJECTED) || !(s->flags & SF_DELIVERED) || !c->cb->on_data)
		return 0;
	if (c->cb->on_data(c->arg, s, (const char *)data, len) < 0)
		owner_failed(c, s);
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			   void *ud)
{
	struct h2_conn *c = ud;
	struct h2_stream *s = stream_of(c, stream_id);
	bool premature;

	if (!s)
		return 0;
	// Rapid Reset: streams that cost us a request and gave nothing back.
	premature = !(s->flags & SF_RESP_DONE) &&
		    ((s->flags & SF_PEER_RESET) ||
		     (error_code != H2_NO_ERROR && !(s->flags & SF_LOCAL_RESET)));
	if (premature || (s->flags & SF_OVERFLOW))
		c->stats.premature_resets++;
	if ((s->flags & SF_DELIVERED) && c->cb->on_stream_close)
		c->cb->on_stream_close(c->arg, s, error_code);
	nghttp2_session_set_stream_user_data(session, stream_id, NULL);
	stream_free(s);
	if (c->stats.premature_resets >= c->cfg.max_premature_resets &&
	    c->cfg.max_premature_resets) {
		if (c->stats.premature_resets == c->cfg.max_premature_resets)
			log_debug("h2: %llu premature stream resets, GOAWAY",
				  (unsigned long long)c->stats.premature_resets);
		terminate(c, H2_ENHANCE_YOUR_CALM);
	}
	return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct h2_conn *c = ud;
	struct h2_stream *s;

	switch (frame->hd.type) {
	case NGHTTP2_DATA:
		c->stats.data_frames_sent++;
		// fallthrough
	case NGHTTP2_HEADERS:
		if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
			break;
		s = stream_of(c, frame->hd.stream_id);
		if (!s)
			break;
		s->flags |= SF_RESP_DONE;
		// RFC 9113 §8.1: a complete response while the request is
		// still coming asks the client to stop with RST_STREAM
		// (NO_ERROR). Not before: a RST queued behind the response
		// would make nghttp2 drop the response.
		if (!(s->flags & (SF_REQ_ENDED | SF_PEER_RESET | SF_LOCAL_RESET))) {
			s->flags |= SF_LOCAL_RESET;
			reject(c, s, H2_NO_ERROR);
		}
		break;
	case NGHTTP2_RST_STREAM:
		c->stats.resets_sent++;
		if (frame->rst_stream.error_code == H2_REFUSED_STREAM)
			c->stats.refused++;
		break;
	case NGHTTP2_GOAWAY:
		c->stats.goaway_sent++;
		// An error GOAWAY not asked for by the owner answers something
		// the peer did: nghttp2's connection errors and our limits.
		if (frame->goaway.error_code != H2_NO_ERROR && !c->owner_goaway) {
			c->stats.protocol_errors++;
			if (!c->err)
				c->err = -EPROTO;
		}
		break;
	default:
		break;
	}
	return 0;
}

// read_body is the data provider: it hands nghttp2 the stream's buffered
// body, defers when there is none yet, and queues the trailers at the end.
static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *dst,
			 size_t length, uint32_t *data_flags, nghttp2_data_source *source,
			 void *ud)
{
	struct h2_conn *c = ud;
	struct h2_stream *s = source->ptr;
	size_t n = MIN(length, buf_avail(&s->out));
	nghttp2_nv nv[H2_MAX_TRAILERS];
	const char *p;
	int rv;

	if (n) {
		memcpy(dst, buf_head(&s->out), n);
		buf_consume(&s->out, n);
	}
	if (buf_avail(&s->out))
		return (ssize_t)n;
	if ((s->flags & SF_WANT_DRAIN) && !(s->flags & SF_BODY_ENDED)) {
		s->flags &= ~SF_WANT_DRAIN;
		list_del(&s->drain_link);
		list_add_tail(&c->drains, &s->drain_link);
	}
	if (!(s->flags & SF_BODY_ENDED)) {
		if (n)
			return (ssize_t)n;
		s->flags |= SF_DEFERRED;
		return NGHTTP2_ERR_DEFERRED;
	}
	*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	if (!s->num_trailers)
		return (ssize_t)n;
	p = s->tbuf.data;
	for (uint32_t i = 0; i < s->num_trailers; i++) {
		size_t nl = strlen(p), vl = strlen(p + nl + 1);

		nv[i] = (nghttp2_nv){ (uint8_t *)p, (uint8_t *)p + nl + 1, nl, vl,
				      NGHTTP2_NV_FLAG_NONE };
		p += nl + vl + 2;
	}
	rv = nghttp2_submit_trailer(session, stream_id, nv, s->num_trailers);
	if (rv < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	*data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	return (ssize_t)n;
}

// ---------------------------------------------------------------------------
// Connections

static int submit_settings(struct h2_conn *c)
{
	const nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, c->cfg.max_concurrent_streams },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, c->cfg.initial_window },
		{ NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, c->cfg.header_table },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, c->cfg.max_header_list },
		// RFC 9218: no RFC 7540 priority tree to churn (CVE-2019-9513).
		{ NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
	};
	int rv;

	rv = nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, ARRAY_SIZE(iv));
	if (rv < 0)
		return errno_of(rv);
	if (c->cfg.conn_window > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE) {
		rv = nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0,
							   (int32_t)c->cfg.conn_window);
		if (rv < 0)
			return errno_of(rv);
	}
	return 0;
}

static int new_session(struct h2_conn *c)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	int rv;

	if ((rv = nghttp2_session_callbacks_new(&cbs)) < 0)
		return errno_of(rv);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
	if ((rv = nghttp2_option_new(&opt)) < 0)
		goto out_cbs;
	nghttp2_option_set_no_auto_window_update(opt, 0);
	nghttp2_option_set_no_closed_streams(opt, 1);
	nghttp2_option_set_max_settings(opt, 32);
	nghttp2_option_set_max_outbound_ack(opt, 1000);
	nghttp2_option_set_max_deflate_dynamic_table_size(opt, H2_HEADER_TABLE);
	nghttp2_option_set_max_continuations(opt, c->cfg.max_continuations);
	// Debian's CVE-2023-44487 limiter stays on as a second line behind our
	// per-connection count, which fires first at the same budget.
	nghttp2_option_set_stream_reset_rate_limit(opt,
		MAX(c->cfg.max_premature_resets, 1000u), 33);
	rv = nghttp2_session_server_new2(&c->session, cbs, c, opt);
	nghttp2_option_del(opt);
out_cbs:
	nghttp2_session_callbacks_del(cbs);
	return rv < 0 ? errno_of(rv) : 0;
}

struct h2_conn *h2_conn_new(const struct h2_config *cfg, const struct h2_callbacks *cb,
			    void *arg, struct buf *out)
{
	struct h2_conn *c;

	BUG_ON(!cb || !cb->on_headers);
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (cfg)
		c->cfg = *cfg;
	else
		h2_config_default(&c->cfg);
	if (!c->cfg.max_headers)
		c->cfg.max_headers = H2_MAX_HEADERS;
	c->cb = cb;
	c->arg = arg;
	list_init(&c->streams);
	list_init(&c->drains);
	c->scratch = calloc(c->cfg.max_headers, sizeof(*c->scratch));
	if (!c->scratch)
		goto out_conn;
	if (new_session(c) < 0)
		goto out_scratch;
	if (submit_settings(c) < 0 || h2_conn_flush(c, out) < 0)
		goto out_session;
	return c;
out_session:
	nghttp2_session_del(c->session);
out_scratch:
	free(c->scratch);
out_conn:
	free(c);
	return NULL;
}

// state reports what the session's state means for the connection.
static int state(const struct h2_conn *c)
{
	if (c->dead)
		return c->err;
	if (c->err && !nghttp2_session_want_write(c->session))
		return c->err;
	if (h2_conn_want_close(c))
		return c->err ? c->err : -ESHUTDOWN;
	return 0;
}

int h2_conn_flush(struct h2_conn *c, struct buf *out)
{
	struct h2_stream *s;
	const uint8_t *p;
	ssize_t n;

	if (c->dead)
		return c->err;
	for (;;) {
		while (!c->cfg.out_highwat || buf_avail(out) < c->cfg.out_highwat) {
			n = nghttp2_session_mem_send(c->session, &p);
			if (n < 0) {
				c->err = errno_of((int)n);
				c->dead = true;
				return c->err;
			}
			if (n == 0)
				break;
			if (buf_append(out, p, (size_t)n) < 0) {
				// The frame is lost: the stream of frames is broken.
				c->err = -ENOMEM;
				c->dead = true;
				return c->err;
			}
			c->stats.bytes_out += (uint64_t)n;
		}
		if (list_empty(&c->drains))
			break;
		while (!list_empty(&c->drains)) {
			s = list_first(&c->drains, struct h2_stream, drain_link);
			list_del(&s->drain_link);
			if (c->cb->on_drain && !(s->flags & SF_REJECTED))
				c->cb->on_drain(c->arg, s);
		}
	}
	return state(c);
}

int h2_conn_input(struct h2_conn *c, const char *p, size_t len, struct buf *out)
{
	ssize_t n;

	if (c->dead || (c->err && !nghttp2_session_want_write(c->session)))
		return c->err;
	c->stats.bytes_in += len;
	n = nghttp2_session_mem_recv(c->session, (const uint8_t *)p, len);
	if (n < 0) {
		// Fatal: nghttp2 will not produce another frame.
		if (n == NGHTTP2_ERR_BAD_CLIENT_MAGIC)
			c->stats.bad_preface = true;
		if (n == NGHTTP2_ERR_NOMEM) {
			c->err = -ENOMEM;
		} else {
			c->stats.protocol_errors++;
			c->err = -EPROTO;
		}
		log_debug("h2: session failed (%s), closing", nghttp2_strerror((int)n));
		c->dead = true;
		return c->err;
	}
	return h2_conn_flush(c, out);
}

bool h2_conn_want_close(const struct h2_conn *c)
{
	if (c->dead)
		return true;
	return !nghttp2_session_want_read(c->session) &&
	       !nghttp2_session_want_write(c->session);
}

bool h2_conn_settings_acked(const struct h2_conn *c)
{
	return c->settings_acked;
}

const struct h2_stats *h2_conn_stats(const struct h2_conn *c)
{
	return &c->stats;
}

int h2_conn_shutdown(struct h2_conn *c)
{
	int rv;

	if (c->shutting_down)
		return -EALREADY;
	if ((rv = nghttp2_submit_shutdown_notice(c->session)) < 0)
		return errno_of(rv);
	if ((rv = nghttp2_submit_ping(c->session, NGHTTP2_FLAG_NONE, shutdown_ping)) < 0)
		return errno_of(rv);
	c->shutting_down = true;
	return 0;
}

int h2_conn_goaway(struct h2_conn *c, uint32_t error_code)
{
	int rv;

	c->shutting_down = false;
	if (error_code != H2_NO_ERROR) {
		c->owner_goaway = true;
		rv = nghttp2_session_terminate_session(c->session, error_code);
	} else {
		rv = nghttp2_submit_goaway(c->session, NGHTTP2_FLAG_NONE,
					   nghttp2_session_get_last_proc_stream_id(c->session),
					   H2_NO_ERROR, NULL, 0);
	}
	return rv < 0 ? errno_of(rv) : 0;
}

void h2_conn_free(struct h2_conn *c)
{
	struct list *pos, *tmp;
	struct h2_stream *s;

	if (!c)
		return;
	list_for_each_safe(pos, tmp, &c->streams) {
		s = list_entry(pos, struct h2_stream, link);
		if ((s->flags & SF_DELIVERED) && c->cb->on_stream_close)
			c->cb->on_stream_close(c->arg, s, H2_CANCEL);
		stream_free(s);
	}
	nghttp2_session_del(c->session);
	free(c->scratch);
	free(c);
}

// ---------------------------------------------------------------------------
// Streams

int32_t h2_stream_id(const struct h2_stream *s)
{
	return s->id;
}

void h2_stream_set_data(struct h2_stream *s, void *data)
{
	s->data = data;
}

void *h2_stream_data(const struct h2_stream *s)
{
	return s->data;
}

int h2_stream_respond(struct h2_stream *s, const struct h2_header *h, size_t num,
		      bool end_stream)
{
	nghttp2_data_provider prd = { .source.ptr = s, .read_callback = read_body };
	nghttp2_nv stack[32], *nv = stack;
	int rv;

	if (s->flags & SF_RESPONDED)
		return -EALREADY;
	if ((s->flags & SF_LOCAL_RESET) || (s->flags & SF_PEER_RESET) || !num)
		return -EINVAL;
	if (num > ARRAY_SIZE(stack)) {
		nv = malloc(num * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
	}
	for (size_t i = 0; i < num; i++)
		nv[i] = (nghttp2_nv){ (uint8_t *)h[i].name, (uint8_t *)h[i].value,
				      h[i].name_len, h[i].value_len, NGHTTP2_NV_FLAG_NONE };
	rv = nghttp2_submit_response(s->conn->session, s->id, nv, num, end_stream ? NULL : &prd);
	if (nv != stack)
		free(nv);
	if (rv < 0)
		return errno_of(rv);
	s->flags |= SF_RESPONDED;
	if (end_stream)
		s->flags |= SF_BODY_ENDED;
	return 0;
}

// resume puts a deferred data provider back in nghttp2's queue.
static int resume(struct h2_stream *s)
{
	int rv;

	if (!(s->flags & SF_DEFERRED))
		return 0;
	s->flags &= ~SF_DEFERRED;
	rv = nghttp2_session_resume_data(s->conn->session, s->id);
	return rv < 0 ? errno_of(rv) : 0;
}

int h2_stream_write(struct h2_stream *s, const void *p, size_t len)
{
	int err;

	if (!(s->flags & SF_RESPONDED) || (s->flags & SF_BODY_ENDED))
		return -EINVAL;
	if (buf_avail(&s->out) + len > s->conn->cfg.stream_out_max) {
		s->flags |= SF_WANT_DRAIN;
		return -ENOBUFS;
	}
	if ((err = buf_append(&s->out, p, len)) < 0)
		return err;
	return resume(s);
}

size_t h2_stream_out_space(const struct h2_stream *s)
{
	size_t used = buf_avail(&s->out);

	if (!(s->flags & SF_RESPONDED) || (s->flags & SF_BODY_ENDED))
		return 0;
	return used < s->conn->cfg.stream_out_max ? s->conn->cfg.stream_out_max - used : 0;
}

int h2_stream_end(struct h2_stream *s, const struct h2_header *trailers, size_t num)
{
	int err;

	if (!(s->flags & SF_RESPONDED) || (s->flags & SF_BODY_ENDED) || num > H2_MAX_TRAILERS)
		return -EINVAL;
	for (size_t i = 0; i < num; i++) {
		const struct h2_header *t = &trailers[i];

		if (memchr(t->name, 0, t->name_len) || memchr(t->value, 0, t->value_len))
			return -EINVAL;
		if ((err = buf_reserve(&s->tbuf, t->name_len + t->value_len + 2)) < 0)
			return err;
		buf_append(&s->tbuf, t->name, t->name_len);
		buf_append(&s->tbuf, "", 1);
		buf_append(&s->tbuf, t->value, t->value_len);
		buf_append(&s->tbuf, "", 1);
	}
	s->num_trailers = (uint32_t)num;
	s->flags |= SF_BODY_ENDED;
	return resume(s);
}

int h2_stream_reset(struct h2_stream *s, uint32_t error_code)
{
	int rv;

	s->flags |= SF_LOCAL_RESET | SF_REJECTED;
	rv = nghttp2_submit_rst_stream(s->conn->session, NGHTTP2_FLAG_NONE, s->id, error_code);
	return rv < 0 ? errno_of(rv) : 0;
}

const struct h2_header *h2_header_find(const struct h2_header *h, size_t num,
				       const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < num; i++)
		if (h[i].name_len == len && !memcmp(h[i].name, name, len))
			return &h[i];
	return NULL;
}

size_t h2_header_count(const struct h2_header *h, size_t num, const char *name)
{
	size_t len = strlen(name), n = 0;

	for (size_t i = 0; i < num; i++)
		if (h[i].name_len == len && !memcmp(h[i].name, name, len))
			n++;
	return n;
}
