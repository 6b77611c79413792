// SPDX-License-Identifier: Apache-2.0
// h2_client.c: HTTP/2 client sessions on nghttp2 for upstream connections,
// on the half shared with the server codec (h2_internal.h, in h2.c).
#include "h2_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "core/bug.h"
#include "core/list.h"
#include "proto/h2_internal.h"

// Client stream flags, beside the shared H2F_* ones.
enum {
	CF_FINAL = H2F_CODEC << 0,	// the final response header section was delivered
	CF_HEADERS_OUT = H2F_CODEC << 1,	// our HEADERS frame left nghttp2
};

struct h2c_stream {
	struct h2_half h;
	void *data;
	uint32_t num_interim;
};

struct h2c_conn {
	struct h2_sess s;
	const struct h2c_callbacks *cb;
	void *arg;
	uint32_t num_open;
	bool goaway;			// a GOAWAY was submitted or received
	bool freeing;
};

static struct h2c_conn *conn_of(struct h2_sess *ss)
{
	return container_of(ss, struct h2c_conn, s);
}

static struct h2c_stream *stream_of_half(struct h2_half *h)
{
	return h ? container_of(h, struct h2c_stream, h) : NULL;
}

static struct h2c_stream *stream_of(struct h2c_conn *c, int32_t id)
{
	return stream_of_half(h2_half_of(&c->s, id));
}

// close_stream tells the owner s is gone and frees it.
static void close_stream(struct h2c_conn *c, struct h2c_stream *s, uint32_t code)
{
	if (code == H2_REFUSED_STREAM)
		c->s.stats.unprocessed++;
	s->h.flags |= H2F_CLOSING;
	c->num_open--;
	c->cb->on_stream_close(c->arg, s, code);
	h2_half_closed(&s->h);
	h2_half_cleanup(&s->h);
	free(s);
}

// ---------------------------------------------------------------------------
// nghttp2 callbacks

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct h2c_stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	s = stream_of(conn_of(ud), frame->hd.stream_id);
	if (!s)
		return 0;
	h2_half_hdr_reset(&s->h);
	if (s->h.flags & CF_FINAL)
		s->h.flags |= H2F_TRAILERS;
	return 0;
}

static void end_response(struct h2c_conn *c, struct h2c_stream *s)
{
	s->h.flags |= H2F_RECV_ENDED;
	if ((s->h.flags & H2F_REJECTED) || !c->cb->on_end_stream)
		return;
	if (c->cb->on_end_stream(c->arg, s) < 0)
		h2_half_fail(&s->h);
}

// deliver hands a validated section to the owner: trailers, a 1xx, or the
// final response.
static int deliver(struct h2c_conn *c, struct h2c_stream *s, bool end_stream)
{
	const struct h2_header *h = h2_half_hdr_list(&s->h);
	uint32_t num = s->h.num_hdrs;

	if (s->h.flags & H2F_TRAILERS)
		return c->cb->on_trailers ? c->cb->on_trailers(c->arg, s, h, num) : 0;
	// nghttp2 validated the section: :status comes first, 3 digits.
	if (!num || strcmp(h[0].name, ":status")) {
		h2_half_reject(&s->h, H2_PROTOCOL_ERROR);
		return 0;
	}
	if (h[0].value[0] == '1') {
		if (++s->num_interim > H2C_MAX_INTERIM) {
			c->s.stats.header_overflows++;
			h2_half_reject(&s->h, H2_PROTOCOL_ERROR);
			return 0;
		}
		return c->cb->on_interim ? c->cb->on_interim(c->arg, s, h, num) : 0;
	}
	s->h.flags |= CF_FINAL;
	return c->cb->on_headers(c->arg, s, h, num, end_stream);
}

static void recv_headers(struct h2c_conn *c, struct h2c_stream *s, const nghttp2_frame *frame)
{
	bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
	int err;

	if (s->h.flags & H2F_REJECTED) {
		h2_half_hdr_reset(&s->h);
		return;
	}
	// Over max_header_list or max_headers (counted in on_header): the
	// response is unusable, the connection is not.
	if (s->h.flags & H2F_OVERFLOW) {
		h2_half_reject(&s->h, H2_PROTOCOL_ERROR);
		return;
	}
	err = deliver(c, s, end_stream);
	h2_half_hdr_reset(&s->h);
	if (err < 0) {
		h2_half_fail(&s->h);
		return;
	}
	if (end_stream && !(s->h.flags & H2F_REJECTED))
		end_response(c, s);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct h2c_conn *c = conn_of(ud);
	struct h2c_stream *s = frame->hd.stream_id ? stream_of(c, frame->hd.stream_id) : NULL;

	h2_sess_frame_recv(&c->s, frame);
	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
		if (s)
			recv_headers(c, s, frame);
		break;
	case NGHTTP2_DATA:
		if (s && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
			end_response(c, s);
		break;
	case NGHTTP2_GOAWAY:
		c->goaway = true;
		if (c->cb->on_goaway)
			c->cb->on_goaway(c->arg, frame->goaway.last_stream_id,
					 frame->goaway.error_code);
		break;
	default:
		break;
	}
	return 0;
}

// on_stream_close also sees requests that never left: nghttp2 closes them
// with REFUSED_STREAM after a GOAWAY, as it does streams above the GOAWAY's
// last_stream_id.
static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			   void *ud)
{
	struct h2c_conn *c = conn_of(ud);
	struct h2c_stream *s = stream_of(c, stream_id);

	if (!s)
		return 0;
	// A stream we reset may close cleanly before our RST_STREAM is out
	// (both sides had sent END_STREAM): the owner hears our code.
	if (error_code == H2_NO_ERROR && (s->h.flags & H2F_REJECTED) &&
	    !(s->h.flags & H2F_PEER_RESET))
		error_code = s->h.rst_code;
	// RST_STREAM(NO_ERROR) before the response ended truncated it.
	if (error_code == H2_NO_ERROR && !(s->h.flags & H2F_RECV_ENDED))
		error_code = H2_CANCEL;
	nghttp2_session_set_stream_user_data(session, stream_id, NULL);
	close_stream(c, s, error_code);
	return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct h2c_conn *c = conn_of(ud);
	struct h2c_stream *s;

	h2_sess_frame_sent(&c->s, frame);
	if (frame->hd.type == NGHTTP2_HEADERS && (s = stream_of(c, frame->hd.stream_id)))
		s->h.flags |= CF_HEADERS_OUT;
	return 0;
}

static int ops_data(struct h2_sess *ss, struct h2_half *h, const char *p, size_t len)
{
	struct h2c_conn *c = conn_of(ss);

	if (!c->cb->on_data) {
		h2_half_consume(h, len);
		return 0;
	}
	return c->cb->on_data(c->arg, stream_of_half(h), p, len);
}

static void ops_drain(struct h2_sess *ss, struct h2_half *h)
{
	struct h2c_conn *c = conn_of(ss);

	if (c->cb->on_drain)
		c->cb->on_drain(c->arg, stream_of_half(h));
}

static const struct h2_ops client_ops = { .data = ops_data, .drain = ops_drain };

// ---------------------------------------------------------------------------
// Connections

static int new_session(struct h2c_conn *c)
{
	nghttp2_session_callbacks *cbs;
	int rv;

	if ((rv = nghttp2_session_callbacks_new(&cbs)) < 0)
		return h2_errno(rv);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
	rv = h2_sess_start(&c->s, cbs, false);
	nghttp2_session_callbacks_del(cbs);
	return rv;
}

static int submit_settings(struct h2c_conn *c)
{
	const nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, c->s.cfg.initial_window },
		{ NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, c->s.cfg.header_table },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, c->s.cfg.max_header_list },
		{ NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
	};

	return h2_sess_settings(&c->s, iv, ARRAY_SIZE(iv));
}

struct h2c_conn *h2c_conn_new(const struct h2_config *cfg, const struct h2c_callbacks *cb,
			      void *arg, struct buf *out)
{
	struct h2c_conn *c;

	BUG_ON(!cb || !cb->on_headers || !cb->on_stream_close);
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cb = cb;
	c->arg = arg;
	if (h2_sess_init(&c->s, cfg, &client_ops) < 0)
		goto out_sess;
	// A proxy's upstream must not read faster than downstream drains.
	c->s.manual = true;
	if (new_session(c) < 0 || submit_settings(c) < 0 || h2c_conn_flush(c, out) < 0)
		goto out_sess;
	return c;
out_sess:
	h2_sess_cleanup(&c->s);
	free(c);
	return NULL;
}

int h2c_conn_input(struct h2c_conn *c, const char *p, size_t len, struct buf *out)
{
	return h2_sess_input(&c->s, p, len, out);
}

int h2c_conn_flush(struct h2c_conn *c, struct buf *out)
{
	return h2_sess_flush(&c->s, out);
}

bool h2c_conn_want_close(const struct h2c_conn *c)
{
	return h2_sess_want_close(&c->s);
}

bool h2c_conn_can_open(const struct h2c_conn *c)
{
	uint32_t max = MIN(h2c_conn_peer_max_streams(c), c->s.cfg.max_concurrent_streams);

	if (c->freeing || c->goaway || c->s.dead || c->s.err)
		return false;
	// Also false once stream ids run out or nghttp2 is closing.
	if (!nghttp2_session_check_request_allowed(c->s.session))
		return false;
	return c->num_open < max;
}

uint32_t h2c_conn_open_streams(const struct h2c_conn *c)
{
	return c->num_open;
}

uint32_t h2c_conn_peer_max_streams(const struct h2c_conn *c)
{
	return nghttp2_session_get_remote_settings(c->s.session,
						   NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

bool h2c_conn_peer_settings(const struct h2c_conn *c)
{
	return c->s.peer_settings;
}

bool h2c_conn_settings_acked(const struct h2c_conn *c)
{
	return c->s.settings_acked;
}

int h2c_conn_goaway(struct h2c_conn *c, uint32_t error_code)
{
	// nghttp2 would still let a request out after a graceful GOAWAY.
	c->goaway = true;
	return h2_sess_goaway(&c->s, error_code);
}

const struct h2_stats *h2c_conn_stats(const struct h2c_conn *c)
{
	return &c->s.stats;
}

void h2c_conn_free(struct h2c_conn *c)
{
	struct h2c_stream *s;

	if (!c)
		return;
	c->freeing = true;
	while (!list_empty(&c->s.streams)) {
		s = stream_of_half(list_first(&c->s.streams, struct h2_half, link));
		close_stream(c, s, (s->h.flags & CF_HEADERS_OUT) ? H2_CANCEL : H2_REFUSED_STREAM);
	}
	h2_sess_cleanup(&c->s);
	free(c);
}

// ---------------------------------------------------------------------------
// Streams

struct h2c_stream *h2c_stream_open(struct h2c_conn *c, const struct h2_header *h,
				   size_t num, bool end_stream, void *data)
{
	nghttp2_nv stack[32], *nv;
	nghttp2_data_provider prd;
	struct h2c_stream *s;
	int32_t id;

	if (!h || !num) {
		errno = EINVAL;
		return NULL;
	}
	if (!h2c_conn_can_open(c)) {
		errno = EAGAIN;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out_nomem;
	if (!(nv = h2_nv_new(h, num, stack, ARRAY_SIZE(stack))))
		goto out_stream;
	s->data = data;
	prd = h2_half_provider(&s->h);
	id = nghttp2_submit_request(c->s.session, NULL, nv, num, end_stream ? NULL : &prd,
				    &s->h);
	if (nv != stack)
		free(nv);
	if (id < 0) {
		free(s);
		errno = -h2_errno(id);
		return NULL;
	}
	h2_half_init(&s->h, &c->s, id);
	s->h.flags |= H2F_DELIVERED | H2F_SENDING;
	if (end_stream)
		s->h.flags |= H2F_BODY_ENDED;
	c->num_open++;
	c->s.stats.streams++;
	return s;
out_stream:
	free(s);
out_nomem:
	errno = ENOMEM;
	return NULL;
}

int h2c_stream_write(struct h2c_stream *s, const void *p, size_t len)
{
	return h2_half_write(&s->h, p, len);
}

size_t h2c_stream_out_space(const struct h2c_stream *s)
{
	return h2_half_out_space(&s->h);
}

int h2c_stream_end(struct h2c_stream *s, const struct h2_header *trailers, size_t num)
{
	return h2_half_end(&s->h, trailers, num);
}

int h2c_stream_reset(struct h2c_stream *s, uint32_t error_code)
{
	return h2_half_reset(&s->h, error_code);
}

void h2c_stream_consume(struct h2c_stream *s, size_t n)
{
	h2_half_consume(&s->h, n);
}

void *h2c_stream_data(const struct h2c_stream *s)
{
	return s->data;
}

void h2c_stream_set_data(struct h2c_stream *s, void *data)
{
	s->data = data;
}

int32_t h2c_stream_id(const struct h2c_stream *s)
{
	return s->h.id;
}
