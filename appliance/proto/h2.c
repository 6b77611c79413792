// SPDX-License-Identifier: Apache-2.0
// h2.c: HTTP/2 server sessions on nghttp2, fed and drained through memory
// buffers, with our limits on top; also the half both codecs share (h2_internal.h).
#include "h2.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "core/bug.h"
#include "core/list.h"
#include "core/log.h"
#include "proto/h2_internal.h"

// The opaque data of the PING that ends a graceful shutdown's first phase.
static const uint8_t shutdown_ping[8] = { 'm', 'g', '-', 's', 'h', 'u', 't', 0 };

struct h2_stream {
	struct h2_half h;
	void *data;
};

struct h2_conn {
	struct h2_sess s;
	const struct h2_callbacks *cb;
	void *arg;
	bool shutting_down;
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

// ---------------------------------------------------------------------------
// The shared half (h2_internal.h)

int h2_errno(int rv)
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
	case NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE:
		return -EAGAIN;
	default:
		return -EPROTO;
	}
}

void h2_sess_terminate(struct h2_sess *ss, uint32_t code)
{
	int rv = nghttp2_session_terminate_session(ss->session, code);

	if (rv < 0 && rv != NGHTTP2_ERR_GOAWAY_ALREADY_SENT)
		log_debug("h2: GOAWAY failed (%s)", nghttp2_strerror(rv));
}

int h2_sess_goaway(struct h2_sess *ss, uint32_t error_code)
{
	int rv;

	if (error_code != H2_NO_ERROR) {
		ss->owner_goaway = true;
		rv = nghttp2_session_terminate_session(ss->session, error_code);
	} else {
		rv = nghttp2_submit_goaway(ss->session, NGHTTP2_FLAG_NONE,
					   nghttp2_session_get_last_proc_stream_id(ss->session),
					   H2_NO_ERROR, NULL, 0);
	}
	return rv < 0 ? h2_errno(rv) : 0;
}

struct h2_half *h2_half_of(const struct h2_sess *ss, int32_t id)
{
	return nghttp2_session_get_stream_user_data(ss->session, id);
}

void h2_half_init(struct h2_half *h, struct h2_sess *ss, int32_t id)
{
	h->sess = ss;
	h->id = id;
	list_init(&h->drain_link);
	list_add_tail(&ss->streams, &h->link);
}

void h2_half_cleanup(struct h2_half *h)
{
	list_del(&h->link);
	list_del(&h->drain_link);
	free(h->hoff);
	h->hoff = NULL;
	buf_cleanup(&h->hbuf);
	buf_cleanup(&h->out);
	buf_cleanup(&h->tbuf);
}

void h2_half_hdr_reset(struct h2_half *h)
{
	free(h->hoff);
	h->hoff = NULL;
	buf_cleanup(&h->hbuf);
	h->hdr_size = 0;
	h->num_hdrs = 0;
}

const struct h2_header *h2_half_hdr_list(struct h2_half *h)
{
	struct h2_header *f = h->sess->scratch;

	for (uint32_t i = 0; i < h->num_hdrs; i++) {
		const struct h2_hoff *o = &h->hoff[i];

		f[i] = (struct h2_header){
			.name = h->hbuf.data + o->name_off,
			.name_len = o->name_len,
			.value = h->hbuf.data + o->value_off,
			.value_len = o->value_len,
		};
	}
	return f;
}

void h2_half_reject(struct h2_half *h, uint32_t code)
{
	h->flags |= H2F_REJECTED;
	h->rst_code = code;
	nghttp2_submit_rst_stream(h->sess->session, NGHTTP2_FLAG_NONE, h->id, code);
}

void h2_half_fail(struct h2_half *h)
{
	h->flags |= H2F_LOCAL_RESET;
	h2_half_reject(h, H2_INTERNAL_ERROR);
}

int h2_half_reset(struct h2_half *h, uint32_t code)
{
	int rv;

	h->flags |= H2F_LOCAL_RESET | H2F_REJECTED;
	h->rst_code = code;
	rv = nghttp2_submit_rst_stream(h->sess->session, NGHTTP2_FLAG_NONE, h->id, code);
	return rv < 0 ? h2_errno(rv) : 0;
}

void h2_half_consume(struct h2_half *h, size_t n)
{
	struct h2_sess *ss = h->sess;
	int rv;

	n = MIN(n, h->unconsumed);
	if (!n || ss->dead)
		return;
	h->unconsumed -= n;
	// A closing stream's window is gone with it; only the connection's
	// matters.
	if (h->flags & H2F_CLOSING)
		rv = nghttp2_session_consume_connection(ss->session, n);
	else
		rv = nghttp2_session_consume(ss->session, h->id, n);
	if (rv < 0 && nghttp2_is_fatal(rv)) {
		ss->err = h2_errno(rv);
		ss->dead = true;
	}
}

void h2_half_closed(struct h2_half *h)
{
	h->flags |= H2F_CLOSING;
	h2_half_consume(h, h->unconsumed);
}

// on_header counts the section as it is decoded, so that an HPACK bomb is
// cut off at the limit rather than measured after the fact.
static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
		     const uint8_t *name, size_t name_len, const uint8_t *value,
		     size_t value_len, uint8_t flags, void *ud)
{
	struct h2_sess *ss = ud;
	struct h2_half *h;
	struct h2_hoff *o;
	uint64_t size;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	h = h2_half_of(ss, frame->hd.stream_id);
	if (!h || (h->flags & (H2F_OVERFLOW | H2F_REJECTED)))
		return 0;
	// RFC 9113 §6.5.2: name + value + 32 per field.
	size = (uint64_t)h->hdr_size + name_len + value_len + 32;
	if (size > ss->cfg.max_header_list || h->num_hdrs >= ss->cfg.max_headers) {
		h->flags |= H2F_OVERFLOW;
		ss->stats.header_overflows++;
		h2_half_hdr_reset(h);
		return 0;
	}
	if (!h->hoff) {
		h->hoff = malloc(ss->cfg.max_headers * sizeof(*h->hoff));
		if (!h->hoff)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	o = &h->hoff[h->num_hdrs];
	o->name_off = (uint32_t)h->hbuf.len;
	o->name_len = (uint32_t)name_len;
	o->value_off = (uint32_t)(h->hbuf.len + name_len + 1);
	o->value_len = (uint32_t)value_len;
	if (buf_reserve(&h->hbuf, name_len + value_len + 2) < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	memcpy(h->hbuf.data + h->hbuf.len, name, name_len);
	h->hbuf.data[h->hbuf.len + name_len] = 0;
	memcpy(h->hbuf.data + o->value_off, value, value_len);
	h->hbuf.data[o->value_off + value_len] = 0;
	h->hbuf.len += name_len + value_len + 2;
	h->hdr_size = (uint32_t)size;
	h->num_hdrs++;
	return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
			 const uint8_t *data, size_t len, void *ud)
{
	struct h2_sess *ss = ud;
	struct h2_half *h = h2_half_of(ss, stream_id);

	if (!h || (h->flags & H2F_REJECTED) || !(h->flags & H2F_DELIVERED)) {
		// Nobody will consume these bytes: give their window back.
		if (ss->manual)
			nghttp2_session_consume(session, stream_id, len);
		return 0;
	}
	if (ss->manual)
		h->unconsumed += len;
	if (ss->ops->data(ss, h, (const char *)data, len) < 0)
		h2_half_fail(h);
	return 0;
}

// on_error spots a peer whose first frame is not SETTINGS (RFC 9113 §3.4):
// not HTTP/2 at all, as an HTTP/1 reply to our client preface is.
static bool id_bit(const struct h2_sess *ss, int32_t id)
{
	uint32_t b = ((uint32_t)id >> 1) % (H2_ID_WINDOW / 2);

	return ss->opened[b / 64] >> (b % 64) & 1;
}

static void id_set(struct h2_sess *ss, int32_t id, bool on)
{
	uint32_t b = ((uint32_t)id >> 1) % (H2_ID_WINDOW / 2);

	if (on)
		ss->opened[b / 64] |= 1ull << (b % 64);
	else
		ss->opened[b / 64] &= ~(1ull << (b % 64));
}

// on_begin_frame checks what nghttp2 lets through with our settings (the
// GOAWAY it sends is counted as a protocol error): a server push; a
// PRIORITY on stream 0 (ignored unparsed under NO_RFC7540_PRIORITIES;
// RFC 9113 6.3: PROTOCOL_ERROR) and a HEADERS that would open a stream
// below the highest the peer opened, on an id it never used (RFC 9113
// 5.1.1: PROTOCOL_ERROR; nghttp2 ignores HEADERS for ids it forgot).
static int on_begin_frame(nghttp2_session *session, const nghttp2_frame_hd *hd, void *ud)
{
	struct h2_sess *ss = ud;
	int32_t id = hd->stream_id;
	bool peer_id = id > 0 && (id & 1) == (ss->server ? 1 : 0);

	if (hd->type == NGHTTP2_PUSH_PROMISE && !ss->server) {
		// refused whatever our SETTINGS' state: nghttp2 alone only
		// refuses the promised stream until the server acknowledged
		// ENABLE_PUSH=0
		h2_sess_terminate(ss, H2_PROTOCOL_ERROR);
		return 0;
	}
	if (hd->type == NGHTTP2_PRIORITY && id == 0) {
		log_ratelimited(LOG_WARN, NULL, "h2: PRIORITY on stream 0: PROTOCOL_ERROR");
		h2_sess_terminate(ss, H2_PROTOCOL_ERROR);
		return 0;
	}
	if (hd->type != NGHTTP2_HEADERS || !peer_id)
		return 0;
	if (id > ss->peer_max_id) {
		// ids skipped on the way are never opened: they are closed
		if (id - ss->peer_max_id >= H2_ID_WINDOW)
			memset(ss->opened, 0, sizeof(ss->opened));
		else
			for (int32_t k = ss->peer_max_id ? ss->peer_max_id + 2 : (ss->server ? 1 : 2);
			     k < id; k += 2)
				id_set(ss, k, false);
		id_set(ss, id, true);
		ss->peer_max_id = id;
		return 0;
	}
	if (ss->peer_max_id - id < H2_ID_WINDOW && !id_bit(ss, id) &&
	    !nghttp2_session_find_stream(session, id)) {
		log_ratelimited(LOG_WARN, NULL, "h2: HEADERS on stream %d, below %d and never opened: "
				"PROTOCOL_ERROR", id, ss->peer_max_id);
		h2_sess_terminate(ss, H2_PROTOCOL_ERROR);
	}
	return 0;
}

static int on_error(nghttp2_session *session, int lib_error_code, const char *msg,
		    size_t len, void *ud)
{
	struct h2_sess *ss = ud;

	if (lib_error_code == NGHTTP2_ERR_SETTINGS_EXPECTED)
		ss->stats.bad_preface = true;
	return 0;
}

void h2_sess_frame_recv(struct h2_sess *ss, const nghttp2_frame *frame)
{
	bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
	struct h2_half *h;
	uint64_t allowed;

	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
		ss->empty_run = 0;
		break;
	case NGHTTP2_DATA:
		// CVE-2019-9518: a run of empty frames costs us and tells us
		// nothing.
		if (frame->hd.length == 0 && !end_stream) {
			ss->stats.empty_frames++;
			if (++ss->empty_run > ss->cfg.max_empty_frames)
				h2_sess_terminate(ss, H2_ENHANCE_YOUR_CALM);
		} else {
			ss->empty_run = 0;
		}
		break;
	case NGHTTP2_RST_STREAM:
		ss->stats.resets_recv++;
		h = h2_half_of(ss, frame->hd.stream_id);
		if (h)
			h->flags |= H2F_PEER_RESET | H2F_REJECTED;
		break;
	case NGHTTP2_SETTINGS:
		if (frame->hd.flags & NGHTTP2_FLAG_ACK)
			ss->settings_acked = true;
		else
			ss->peer_settings = true;
		break;
	case NGHTTP2_GOAWAY:
		ss->stats.goaway_recv++;
		break;
	case NGHTTP2_WINDOW_UPDATE:
		// CVE-2019-9517-style churn: Envoy's bound on WINDOW_UPDATE
		// frames relative to the DATA frames we sent.
		ss->stats.window_updates++;
		allowed = 5 + 2 * (ss->stats.streams + 10 * ss->stats.data_frames_sent);
		if (ss->stats.window_updates > allowed)
			h2_sess_terminate(ss, H2_ENHANCE_YOUR_CALM);
		break;
	default:
		break;
	}
}

void h2_sess_frame_sent(struct h2_sess *ss, const nghttp2_frame *frame)
{
	struct h2_half *h;

	switch (frame->hd.type) {
	case NGHTTP2_DATA:
		ss->stats.data_frames_sent++;
		// fallthrough
	case NGHTTP2_HEADERS:
		if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
			break;
		h = h2_half_of(ss, frame->hd.stream_id);
		if (h)
			h->flags |= H2F_SENT_END;
		break;
	case NGHTTP2_RST_STREAM:
		ss->stats.resets_sent++;
		if (frame->rst_stream.error_code == H2_REFUSED_STREAM)
			ss->stats.refused++;
		break;
	case NGHTTP2_GOAWAY:
		ss->stats.goaway_sent++;
		// An error GOAWAY not asked for by the owner answers something
		// the peer did: nghttp2's connection errors and our limits.
		if (frame->goaway.error_code != H2_NO_ERROR && !ss->owner_goaway) {
			ss->stats.protocol_errors++;
			if (!ss->err)
				ss->err = -EPROTO;
		}
		break;
	default:
		break;
	}
}

// read_body is the data provider: it hands nghttp2 the stream's buffered
// body, defers when there is none yet, and queues the trailers at the end.
static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *dst,
			 size_t length, uint32_t *data_flags, nghttp2_data_source *source,
			 void *ud)
{
	struct h2_sess *ss = ud;
	struct h2_half *h = source->ptr;
	size_t n = MIN(length, buf_avail(&h->out));
	nghttp2_nv nv[H2_MAX_TRAILERS];
	const char *p;
	int rv;

	if (n) {
		memcpy(dst, buf_head(&h->out), n);
		buf_consume(&h->out, n);
	}
	if (buf_avail(&h->out))
		return (ssize_t)n;
	if ((h->flags & H2F_WANT_DRAIN) && !(h->flags & H2F_BODY_ENDED)) {
		h->flags &= ~H2F_WANT_DRAIN;
		list_del(&h->drain_link);
		list_add_tail(&ss->drains, &h->drain_link);
	}
	if (!(h->flags & H2F_BODY_ENDED)) {
		if (n)
			return (ssize_t)n;
		h->flags |= H2F_DEFERRED;
		return NGHTTP2_ERR_DEFERRED;
	}
	*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	if (!h->num_trailers)
		return (ssize_t)n;
	p = h->tbuf.data;
	for (uint32_t i = 0; i < h->num_trailers; i++) {
		size_t nl = strlen(p), vl = strlen(p + nl + 1);

		nv[i] = (nghttp2_nv){ (uint8_t *)p, (uint8_t *)p + nl + 1, nl, vl,
				      NGHTTP2_NV_FLAG_NONE };
		p += nl + vl + 2;
	}
	rv = nghttp2_submit_trailer(session, stream_id, nv, h->num_trailers);
	if (rv < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	*data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	return (ssize_t)n;
}

nghttp2_data_provider h2_half_provider(struct h2_half *h)
{
	return (nghttp2_data_provider){ .source.ptr = h, .read_callback = read_body };
}

// resume puts a deferred data provider back in nghttp2's queue.
static int resume(struct h2_half *h)
{
	int rv;

	if (!(h->flags & H2F_DEFERRED))
		return 0;
	h->flags &= ~H2F_DEFERRED;
	rv = nghttp2_session_resume_data(h->sess->session, h->id);
	return rv < 0 ? h2_errno(rv) : 0;
}

int h2_half_write(struct h2_half *h, const void *p, size_t len)
{
	int err;

	if (!(h->flags & H2F_SENDING) || (h->flags & H2F_BODY_ENDED))
		return -EINVAL;
	if (buf_avail(&h->out) + len > h->sess->cfg.stream_out_max) {
		h->flags |= H2F_WANT_DRAIN;
		return -ENOBUFS;
	}
	if ((err = buf_append(&h->out, p, len)) < 0)
		return err;
	return resume(h);
}

size_t h2_half_out_space(const struct h2_half *h)
{
	size_t used = buf_avail(&h->out), max = h->sess->cfg.stream_out_max;

	if (!(h->flags & H2F_SENDING) || (h->flags & H2F_BODY_ENDED))
		return 0;
	return used < max ? max - used : 0;
}

int h2_half_end(struct h2_half *h, const struct h2_header *trailers, size_t num)
{
	int err;

	if (!(h->flags & H2F_SENDING) || (h->flags & H2F_BODY_ENDED) || num > H2_MAX_TRAILERS)
		return -EINVAL;
	for (size_t i = 0; i < num; i++) {
		const struct h2_header *t = &trailers[i];

		if (memchr(t->name, 0, t->name_len) || memchr(t->value, 0, t->value_len))
			return -EINVAL;
		if ((err = buf_reserve(&h->tbuf, t->name_len + t->value_len + 2)) < 0)
			return err;
		buf_append(&h->tbuf, t->name, t->name_len);
		buf_append(&h->tbuf, "", 1);
		buf_append(&h->tbuf, t->value, t->value_len);
		buf_append(&h->tbuf, "", 1);
	}
	h->num_trailers = (uint32_t)num;
	h->flags |= H2F_BODY_ENDED;
	return resume(h);
}

nghttp2_nv *h2_nv_new(const struct h2_header *h, size_t num, nghttp2_nv *stack,
		      size_t stack_num)
{
	nghttp2_nv *nv = stack;

	if (num > stack_num) {
		nv = malloc(num * sizeof(*nv));
		if (!nv)
			return NULL;
	}
	for (size_t i = 0; i < num; i++)
		nv[i] = (nghttp2_nv){ (uint8_t *)h[i].name, (uint8_t *)h[i].value,
				      h[i].name_len, h[i].value_len, NGHTTP2_NV_FLAG_NONE };
	return nv;
}

int h2_sess_init(struct h2_sess *ss, const struct h2_config *cfg, const struct h2_ops *ops)
{
	if (cfg)
		ss->cfg = *cfg;
	else
		h2_config_default(&ss->cfg);
	if (!ss->cfg.max_headers)
		ss->cfg.max_headers = H2_MAX_HEADERS;
	ss->ops = ops;
	ss->manual = ss->cfg.manual_consume;
	list_init(&ss->streams);
	list_init(&ss->drains);
	ss->scratch = calloc(ss->cfg.max_headers, sizeof(*ss->scratch));
	return ss->scratch ? 0 : -ENOMEM;
}

int h2_sess_start(struct h2_sess *ss, nghttp2_session_callbacks *cbs, bool server)
{
	nghttp2_option *opt;
	int rv;

	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_error_callback2(cbs, on_error);
	nghttp2_session_callbacks_set_on_begin_frame_callback(cbs, on_begin_frame);
	ss->server = server;
	if ((rv = nghttp2_option_new(&opt)) < 0)
		return h2_errno(rv);
	nghttp2_option_set_no_auto_window_update(opt, ss->manual);
	nghttp2_option_set_no_closed_streams(opt, 1);
	nghttp2_option_set_max_settings(opt, 32);
	nghttp2_option_set_max_outbound_ack(opt, 1000);
	nghttp2_option_set_max_deflate_dynamic_table_size(opt, H2_HEADER_TABLE);
	nghttp2_option_set_max_continuations(opt, ss->cfg.max_continuations);
	// Debian's CVE-2023-44487 limiter stays on as a second line behind our
	// per-connection count, which fires first at the same budget.
	nghttp2_option_set_stream_reset_rate_limit(opt,
		MAX(ss->cfg.max_premature_resets, 1000u), 33);
	if (server)
		rv = nghttp2_session_server_new2(&ss->session, cbs, ss, opt);
	else
		rv = nghttp2_session_client_new2(&ss->session, cbs, ss, opt);
	nghttp2_option_del(opt);
	return rv < 0 ? h2_errno(rv) : 0;
}

int h2_sess_settings(struct h2_sess *ss, const nghttp2_settings_entry *iv, size_t num)
{
	int rv;

	rv = nghttp2_submit_settings(ss->session, NGHTTP2_FLAG_NONE, iv, num);
	if (rv < 0)
		return h2_errno(rv);
	if (ss->cfg.conn_window > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE) {
		rv = nghttp2_session_set_local_window_size(ss->session, NGHTTP2_FLAG_NONE, 0,
							   (int32_t)ss->cfg.conn_window);
		if (rv < 0)
			return h2_errno(rv);
	}
	return 0;
}

void h2_sess_cleanup(struct h2_sess *ss)
{
	nghttp2_session_del(ss->session);
	ss->session = NULL;
	free(ss->scratch);
	ss->scratch = NULL;
}

bool h2_sess_want_close(const struct h2_sess *ss)
{
	if (ss->dead)
		return true;
	return !nghttp2_session_want_read(ss->session) &&
	       !nghttp2_session_want_write(ss->session);
}

// state reports what the session's state means for the connection.
static int state(const struct h2_sess *ss)
{
	if (ss->dead)
		return ss->err;
	if (ss->err && !nghttp2_session_want_write(ss->session))
		return ss->err;
	if (h2_sess_want_close(ss))
		return ss->err ? ss->err : -ESHUTDOWN;
	return 0;
}

int h2_sess_flush(struct h2_sess *ss, struct buf *out)
{
	struct h2_half *h;
	const uint8_t *p;
	ssize_t n;

	if (ss->dead)
		return ss->err;
	for (;;) {
		while (!ss->cfg.out_highwat || buf_avail(out) < ss->cfg.out_highwat) {
			n = nghttp2_session_mem_send(ss->session, &p);
			if (n < 0) {
				ss->err = h2_errno((int)n);
				ss->dead = true;
				return ss->err;
			}
			if (n == 0)
				break;
			if (buf_append(out, p, (size_t)n) < 0) {
				// The frame is lost: the stream of frames is broken.
				ss->err = -ENOMEM;
				ss->dead = true;
				return ss->err;
			}
			ss->stats.bytes_out += (uint64_t)n;
		}
		if (list_empty(&ss->drains))
			break;
		while (!list_empty(&ss->drains)) {
			h = list_first(&ss->drains, struct h2_half, drain_link);
			list_del(&h->drain_link);
			if (!(h->flags & H2F_REJECTED))
				ss->ops->drain(ss, h);
		}
	}
	return state(ss);
}

int h2_sess_input(struct h2_sess *ss, const char *p, size_t len, struct buf *out)
{
	ssize_t n;

	if (ss->dead || (ss->err && !nghttp2_session_want_write(ss->session)))
		return ss->err;
	ss->stats.bytes_in += len;
	n = nghttp2_session_mem_recv(ss->session, (const uint8_t *)p, len);
	if (n < 0) {
		// Fatal: nghttp2 will not produce another frame.
		if (n == NGHTTP2_ERR_BAD_CLIENT_MAGIC)
			ss->stats.bad_preface = true;
		if (n == NGHTTP2_ERR_NOMEM) {
			ss->err = -ENOMEM;
		} else {
			ss->stats.protocol_errors++;
			ss->err = -EPROTO;
		}
		log_debug("h2: session failed (%s), closing", nghttp2_strerror((int)n));
		ss->dead = true;
		return ss->err;
	}
	return h2_sess_flush(ss, out);
}

// ---------------------------------------------------------------------------
// Server streams and connections

static struct h2_conn *conn_of(struct h2_sess *ss)
{
	return container_of(ss, struct h2_conn, s);
}

static struct h2_stream *stream_of_half(struct h2_half *h)
{
	return h ? container_of(h, struct h2_stream, h) : NULL;
}

static struct h2_stream *stream_of(struct h2_conn *c, int32_t id)
{
	return stream_of_half(h2_half_of(&c->s, id));
}

static void stream_free(struct h2_stream *s)
{
	h2_half_cleanup(&s->h);
	free(s);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct h2_conn *c = conn_of(ud);
	struct h2_stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
		s = stream_of(c, frame->hd.stream_id);
		if (s) {
			h2_half_hdr_reset(&s->h);
			s->h.flags |= H2F_TRAILERS;
		}
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	h2_half_init(&s->h, &c->s, frame->hd.stream_id);
	if (nghttp2_session_set_stream_user_data(session, s->h.id, &s->h) < 0) {
		stream_free(s);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	c->s.stats.streams++;
	return 0;
}

// send_431 answers a request whose header section is too large, as the
// HTTP/1 parser does (its body is then refused, see on_frame_send).
static void send_431(struct h2_conn *c, struct h2_stream *s, bool end_stream)
{
	static const nghttp2_nv nv[] = {
		{ (uint8_t *)":status", (uint8_t *)"431", 7, 3, NGHTTP2_NV_FLAG_NONE },
	};

	s->h.flags |= H2F_REJECTED | H2F_SENDING | H2F_BODY_ENDED;
	if (end_stream)
		s->h.flags |= H2F_RECV_ENDED;
	nghttp2_submit_response(c->s.session, s->h.id, nv, ARRAY_SIZE(nv), NULL);
}

static void end_request(struct h2_conn *c, struct h2_stream *s)
{
	s->h.flags |= H2F_RECV_ENDED;
	if ((s->h.flags & H2F_REJECTED) || !c->cb->on_end_stream)
		return;
	if (c->cb->on_end_stream(c->arg, s) < 0)
		h2_half_fail(&s->h);
}

static void recv_headers(struct h2_conn *c, struct h2_stream *s, const nghttp2_frame *frame)
{
	bool end_stream = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
	const struct h2_header *h;
	int err;

	if (s->h.flags & H2F_REJECTED) {
		h2_half_hdr_reset(&s->h);
		return;
	}
	if (s->h.flags & H2F_OVERFLOW) {
		if (s->h.flags & H2F_TRAILERS)
			h2_half_reject(&s->h, H2_PROTOCOL_ERROR);
		else
			send_431(c, s, end_stream);
		return;
	}
	h = h2_half_hdr_list(&s->h);
	if (!(s->h.flags & H2F_TRAILERS)) {
		s->h.flags |= H2F_DELIVERED;
		err = c->cb->on_headers(c->arg, s, h, s->h.num_hdrs, end_stream);
	} else {
		err = c->cb->on_trailers ? c->cb->on_trailers(c->arg, s, h, s->h.num_hdrs) : 0;
	}
	h2_half_hdr_reset(&s->h);
	if (err < 0) {
		h2_half_fail(&s->h);
		return;
	}
	if (end_stream)
		end_request(c, s);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct h2_conn *c = conn_of(ud);
	struct h2_stream *s = frame->hd.stream_id ? stream_of(c, frame->hd.stream_id) : NULL;
	int rv;

	h2_sess_frame_recv(&c->s, frame);
	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
		if (s)
			recv_headers(c, s, frame);
		break;
	case NGHTTP2_DATA:
		if (s && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
			end_request(c, s);
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
	default:
		break;
	}
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
			   void *ud)
{
	struct h2_conn *c = conn_of(ud);
	struct h2_stream *s = stream_of(c, stream_id);
	uint32_t flags;
	bool premature;

	if (!s)
		return 0;
	flags = s->h.flags;
	// Rapid Reset: streams that cost us a request and gave nothing back.
	premature = !(flags & H2F_SENT_END) &&
		    ((flags & H2F_PEER_RESET) ||
		     (error_code != H2_NO_ERROR && !(flags & H2F_LOCAL_RESET)));
	if (premature || (flags & H2F_OVERFLOW))
		c->s.stats.premature_resets++;
	s->h.flags |= H2F_CLOSING;
	if ((flags & H2F_DELIVERED) && c->cb->on_stream_close)
		c->cb->on_stream_close(c->arg, s, error_code);
	h2_half_closed(&s->h);
	nghttp2_session_set_stream_user_data(session, stream_id, NULL);
	stream_free(s);
	if (c->s.stats.premature_resets >= c->s.cfg.max_premature_resets &&
	    c->s.cfg.max_premature_resets) {
		if (c->s.stats.premature_resets == c->s.cfg.max_premature_resets)
			log_debug("h2: %llu premature stream resets, GOAWAY",
				  (unsigned long long)c->s.stats.premature_resets);
		h2_sess_terminate(&c->s, H2_ENHANCE_YOUR_CALM);
	}
	return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	struct h2_conn *c = conn_of(ud);
	struct h2_stream *s;

	h2_sess_frame_sent(&c->s, frame);
	if ((frame->hd.type != NGHTTP2_DATA && frame->hd.type != NGHTTP2_HEADERS) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	s = stream_of(c, frame->hd.stream_id);
	// RFC 9113 §8.1: a complete response while the request is still
	// coming asks the client to stop with RST_STREAM (NO_ERROR). Not
	// before: a RST queued behind the response would make nghttp2 drop
	// the response.
	if (s && !(s->h.flags & (H2F_RECV_ENDED | H2F_PEER_RESET | H2F_LOCAL_RESET))) {
		s->h.flags |= H2F_LOCAL_RESET;
		h2_half_reject(&s->h, H2_NO_ERROR);
	}
	return 0;
}

static int ops_data(struct h2_sess *ss, struct h2_half *h, const char *p, size_t len)
{
	struct h2_conn *c = conn_of(ss);

	if (!c->cb->on_data) {
		h2_half_consume(h, len);
		return 0;
	}
	return c->cb->on_data(c->arg, stream_of_half(h), p, len);
}

static void ops_drain(struct h2_sess *ss, struct h2_half *h)
{
	struct h2_conn *c = conn_of(ss);

	if (c->cb->on_drain)
		c->cb->on_drain(c->arg, stream_of_half(h));
}

static const struct h2_ops server_ops = { .data = ops_data, .drain = ops_drain };

static int new_session(struct h2_conn *c)
{
	nghttp2_session_callbacks *cbs;
	int rv;

	if ((rv = nghttp2_session_callbacks_new(&cbs)) < 0)
		return h2_errno(rv);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
	rv = h2_sess_start(&c->s, cbs, true);
	nghttp2_session_callbacks_del(cbs);
	return rv;
}

static int submit_settings(struct h2_conn *c)
{
	const nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, c->s.cfg.max_concurrent_streams },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, c->s.cfg.initial_window },
		{ NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, c->s.cfg.header_table },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, c->s.cfg.max_header_list },
		// RFC 9218: no RFC 7540 priority tree to churn (CVE-2019-9513).
		{ NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
	};

	return h2_sess_settings(&c->s, iv, ARRAY_SIZE(iv));
}

struct h2_conn *h2_conn_new(const struct h2_config *cfg, const struct h2_callbacks *cb,
			    void *arg, struct buf *out)
{
	struct h2_conn *c;

	BUG_ON(!cb || !cb->on_headers);
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cb = cb;
	c->arg = arg;
	if (h2_sess_init(&c->s, cfg, &server_ops) < 0 || new_session(c) < 0)
		goto out_sess;
	if (submit_settings(c) < 0 || h2_conn_flush(c, out) < 0)
		goto out_sess;
	return c;
out_sess:
	h2_sess_cleanup(&c->s);
	free(c);
	return NULL;
}

int h2_conn_flush(struct h2_conn *c, struct buf *out)
{
	return h2_sess_flush(&c->s, out);
}

int h2_conn_input(struct h2_conn *c, const char *p, size_t len, struct buf *out)
{
	return h2_sess_input(&c->s, p, len, out);
}

bool h2_conn_want_close(const struct h2_conn *c)
{
	return h2_sess_want_close(&c->s);
}

bool h2_conn_settings_acked(const struct h2_conn *c)
{
	return c->s.settings_acked;
}

const struct h2_stats *h2_conn_stats(const struct h2_conn *c)
{
	return &c->s.stats;
}

int h2_conn_shutdown(struct h2_conn *c)
{
	int rv;

	if (c->shutting_down)
		return -EALREADY;
	if ((rv = nghttp2_submit_shutdown_notice(c->s.session)) < 0)
		return h2_errno(rv);
	if ((rv = nghttp2_submit_ping(c->s.session, NGHTTP2_FLAG_NONE, shutdown_ping)) < 0)
		return h2_errno(rv);
	c->shutting_down = true;
	return 0;
}

int h2_conn_goaway(struct h2_conn *c, uint32_t error_code)
{
	c->shutting_down = false;
	return h2_sess_goaway(&c->s, error_code);
}

void h2_conn_free(struct h2_conn *c)
{
	struct list *pos, *tmp;
	struct h2_stream *s;

	if (!c)
		return;
	list_for_each_safe(pos, tmp, &c->s.streams) {
		s = stream_of_half(list_entry(pos, struct h2_half, link));
		s->h.flags |= H2F_CLOSING;
		if ((s->h.flags & H2F_DELIVERED) && c->cb->on_stream_close)
			c->cb->on_stream_close(c->arg, s, H2_CANCEL);
		stream_free(s);
	}
	h2_sess_cleanup(&c->s);
	free(c);
}

int32_t h2_stream_id(const struct h2_stream *s)
{
	return s->h.id;
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
	nghttp2_data_provider prd = h2_half_provider(&s->h);
	nghttp2_nv stack[32], *nv;
	int rv;

	if (s->h.flags & H2F_SENDING)
		return -EALREADY;
	if ((s->h.flags & (H2F_LOCAL_RESET | H2F_PEER_RESET)) || !num)
		return -EINVAL;
	if (!(nv = h2_nv_new(h, num, stack, ARRAY_SIZE(stack))))
		return -ENOMEM;
	rv = nghttp2_submit_response(s->h.sess->session, s->h.id, nv, num,
				     end_stream ? NULL : &prd);
	if (nv != stack)
		free(nv);
	if (rv < 0)
		return h2_errno(rv);
	s->h.flags |= H2F_SENDING;
	if (end_stream)
		s->h.flags |= H2F_BODY_ENDED;
	return 0;
}

int h2_stream_write(struct h2_stream *s, const void *p, size_t len)
{
	return h2_half_write(&s->h, p, len);
}

size_t h2_stream_out_space(const struct h2_stream *s)
{
	return h2_half_out_space(&s->h);
}

int h2_stream_end(struct h2_stream *s, const struct h2_header *trailers, size_t num)
{
	return h2_half_end(&s->h, trailers, num);
}

int h2_stream_reset(struct h2_stream *s, uint32_t error_code)
{
	return h2_half_reset(&s->h, error_code);
}

void h2_stream_consume(struct h2_stream *s, size_t n)
{
	h2_half_consume(&s->h, n);
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
