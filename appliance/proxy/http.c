// SPDX-License-Identifier: Apache-2.0
// http.c: the downstream HTTP/1.1 connection and its request pipeline:
// head parsing with limits and timeouts, routing, the upstream request
// head, body streaming both ways (Content-Length, chunked re-encoded),
// local replies with Envoy's flags, retries, pipelining, WebSocket tunnels,
// lingering close, access log and Istio metrics.
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config/bootstrap.h"
#include "core/bug.h"
#include "core/clock.h"
#include "core/log.h"
#include "proxy.h"
#include "proto/h2.h"
#include "proto/tls.h"
#include "telemetry/accesslog.h"

enum {
	FLOW_HIGH = 64 * 1024,		// pause a reader when its peer has this much queued
	LINGER_MS = 2000,		// how long we read after answering an error
	DETECT_TIMEOUT_MS = 100,	// captured outbound: a silent client goes by address (Istio's old default)
	MAX_1XX = 10,			// interim responses tolerated per request
	MAX_REUSE_RETRIES = 3,		// replays after dead pooled connections
	RETRY_BASE_MS = 25,		// Envoy's default retry back-off base
	NUM_RETRIES = 2,		// Istio's default attempts
};

static void feed(struct hconn *c, const char *p, size_t len);
static void conn_close(struct hconn *c);
static void begin_linger(struct hconn *c);
static void finish_transaction(struct hconn *c);
static void uncount(struct hconn *c);

static struct hconn *hc_of(struct sock *s)
{
	return container_of(s, struct hconn, s);
}

static const char *meta_str(const struct hconn *c, struct mstr m, size_t *len)
{
	*len = m.len;
	return m.len ? c->meta.data + m.off : NULL;
}

static void meta_set(struct hconn *c, struct mstr *m, const char *p, size_t len)
{
	m->off = (uint32_t)c->meta.len;
	m->len = 0;
	if (buf_append(&c->meta, p, len) == 0)
		m->len = (uint32_t)len;
}

static const char *http_date(struct worker *w)
{
	time_t now = time(NULL);
	struct tm tm;

	if ((uint64_t)now != w->date_sec) {
		gmtime_r(&now, &tm);
		strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		w->date_sec = (uint64_t)now;
	}
	return w->date;
}

// update_flow pauses or resumes each side's reads so that neither the
// unconsumed input nor a peer's send queue grows past FLOW_HIGH.
static void update_flow(struct hconn *c)
{
	bool want_down, want_up;

	if (c->state == DS_CLOSED)
		return;
	if (c->h2) {
		h2down_drained(c);	// the session goes on producing frames
		return;
	}
	if (c->parent) {
		// the request's pace is the stream window's (h2down_pump); the
		// response's is the stream buffer's
		if (c->ust) {
			h2up_consume(c);
			return;
		}
		if (!c->up || c->up->state != UP_BUSY)
			return;
		want_up = !buf_avail(&c->rs_pending);
		goto up;
	}
	want_down = buf_avail(&c->in) < FLOW_HIGH &&
		    (!c->up || sock_pending(&c->up->s) < FLOW_HIGH) &&
		    (!c->ust || h2up_pending(c) < FLOW_HIGH) && !c->peer_eof &&
		    (!c->raw || c->state == DS_TUNNEL);
	if (want_down && c->paused) {
		c->paused = false;
		sock_recv_start(&c->s);
	} else if (!want_down && !c->paused) {
		c->paused = true;
		sock_recv_stop(&c->s);
	}
	if (c->ust) {
		h2up_consume(c);	// the response window reopens as the client reads
		return;
	}
	if (!c->up || c->up->state != UP_BUSY)
		return;
	want_up = sock_pending(&c->s) < FLOW_HIGH;
up:
	if (want_up && c->up_paused) {
		c->up_paused = false;
		sock_recv_start(&c->up->s);
	} else if (!want_up && !c->up_paused) {
		c->up_paused = true;
		sock_recv_stop(&c->up->s);
	}
}

// ds_flush sends what the transaction wrote toward its client: the socket
// for HTTP/1.1; an HTTP/2 stream's frames go out in h2down_service.
static void ds_flush(struct hconn *c)
{
	if (!c->parent)
		sock_flush(&c->s);
}

// ---- access log and metrics ----------------------------------------------

static void observe(struct hconn *c)
{
	struct worker *w = c->w;
	const struct snapshot *s = c->hold ? c->hold->snap : NULL;
	const struct snap_cluster *cl = c->cluster;
	uint64_t now = clock_mono_ns();
	double ms = (double)(now - c->start_ns) / 1e6;
	const char *labels[IL_COUNT] = { 0 };
	char code[8];
	const char *flags = c->flags ? c->flags : "-";

	if (!c->status && !strcmp(flags, "-"))
		flags = "DC";
	// the status as a label, without printf (0 when none was sent)
	{
		unsigned v = c->status > 0 && c->status < 1000 ? (unsigned)c->status : 0, n = 0;

		if (v >= 100)
			code[n++] = (char)('0' + v / 100);
		if (v >= 10)
			code[n++] = (char)('0' + v / 10 % 10);
		code[n++] = (char)('0' + v % 10);
		code[n] = '\0';
	}
	if (s)
		worker_labels(s, c->l->idx, cl, c->tls, labels);
	labels[IL_REQUEST_PROTOCOL] = c->grpc ? "grpc" : "http";
	if (c->grpc_status[0])
		labels[IL_GRPC_RESPONSE_STATUS] = c->grpc_status;
	labels[IL_RESPONSE_CODE] = code;
	labels[IL_RESPONSE_FLAGS] = flags;
	metrics_http_observe(w->metrics, labels, ms, c->rq_bytes, c->rs_bytes);

	if (w->access_log_on) {
		struct accesslog_entry e;
		struct buf *line = &w->log_line;
		char ver[16];

		memset(&e, 0, sizeof(e));
		e.start_time_ns = c->start_wall_ns;
		e.method = meta_str(c, c->m_method, &e.method_len);
		e.path = meta_str(c, c->m_path, &e.path_len);
		if (c->parent)
			snprintf(ver, sizeof(ver), "HTTP/2");
		else
			snprintf(ver, sizeof(ver), "HTTP/1.%d", c->minor);
		e.protocol = ver;
		e.response_code = c->status;
		e.response_flags = flags;
		e.response_code_details = c->details;
		e.bytes_received = c->rq_bytes;
		e.bytes_sent = c->rs_bytes;
		e.duration_ms = (int64_t)ms;
		e.upstream_service_time_ms = c->upstream_head_ns && c->upstream_sent_ns ?
			(int64_t)((c->upstream_head_ns - c->upstream_sent_ns) / 1000000) : -1;
		e.xff = meta_str(c, c->m_xff, &e.xff_len);
		e.user_agent = meta_str(c, c->m_ua, &e.user_agent_len);
		e.request_id = meta_str(c, c->m_reqid, &e.request_id_len);
		e.authority = meta_str(c, c->m_authority, &e.authority_len);
		if (c->ep)
			memcpy(&e.upstream_host, &c->ep->addr, c->ep->addr_len);
		e.upstream_cluster = cl ? cl->name : NULL;
		e.downstream_local = c->local;
		e.downstream_remote = c->peer;
		e.route_name = c->route_name;
		line->off = line->len = 0;
		if (accesslog_format(line, &e) == 0)
			ring_writer_put(&w->access_log, line->data, line->len);
	}
}

// raw_labels and observe_raw account a passthrough tunnel as TCP, as
// Istio's inbound passthrough filter chain does.
static void raw_labels(struct hconn *c, const char *labels[IL_COUNT])
{
	memset(labels, 0, sizeof(char *) * IL_COUNT);
	if (c->hold)
		worker_labels(c->hold->snap, c->l->idx, c->cluster, NULL, labels);
	labels[IL_REQUEST_PROTOCOL] = "tcp";
	labels[IL_RESPONSE_FLAGS] = c->flags ? c->flags : "-";
}

static void observe_raw(struct hconn *c)
{
	const char *labels[IL_COUNT];

	if (!c->hold)
		return;
	raw_labels(c, labels);
	metrics_tcp_bytes(c->w->metrics, labels, c->s.bytes_out, c->s.bytes_in);
	if (c->state == DS_TUNNEL)
		metrics_tcp_closed(c->w->metrics, labels);
}

// ---- local replies ------------------------------------------------------

static void count_status(struct worker *w, int status)
{
	enum mg_counter c;

	switch (status) {
	case 400: c = MC_RQ_400; break;
	case 413: c = MC_RQ_413; break;
	case 414: c = MC_RQ_414; break;
	case 431: c = MC_RQ_431; break;
	case 501: c = MC_RQ_501; break;
	case 505: c = MC_RQ_505; break;
	default: return;
	}
	metrics_inc(w->metrics, c, 1);
}

// local_reply answers the current request ourselves. close forces the
// connection to close after the answer (malformed input, unread body).
static void local_reply_ex(struct hconn *c, int status, const char *flags, const char *details,
			   const char *extra, const char *body, size_t body_len, bool close);

static void local_reply(struct hconn *c, int status, const char *flags, const char *details,
			const char *body, bool close)
{
	local_reply_ex(c, status, flags, details, "", body, strlen(body), close);
}

// grpc_status_of maps an HTTP status to a gRPC code as the gRPC spec's
// "HTTP to gRPC status code mapping" (and Envoy) do.
static int grpc_status_of(int status)
{
	switch (status) {
	case 400: return 13;	// INTERNAL
	case 401: return 16;	// UNAUTHENTICATED
	case 403: return 7;	// PERMISSION_DENIED
	case 404: return 12;	// UNIMPLEMENTED
	case 429: case 502: case 503: case 504: return 14;	// UNAVAILABLE
	default: return 2;	// UNKNOWN
	}
}

// grpc_local_reply answers a gRPC request with HTTP 200, grpc-status and
// grpc-message (the body, percent-encoded where the spec says) in the one
// header section, and no body.
static void grpc_local_reply(struct hconn *c, int status, const char *flags,
			     const char *details, const char *body, size_t body_len)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf x;
	// a deadline that passed is DEADLINE_EXCEEDED to a gRPC client
	int code = status == 504 && details && strstr(details, "timeout") ? 4 :
		   grpc_status_of(status);

	buf_init(&x);
	buf_appendf(&x, "content-type: application/grpc\r\ngrpc-status: %d\r\ngrpc-message: ",
		    code);
	for (size_t i = 0; i < body_len && i < 1024; i++) {
		unsigned char ch = (unsigned char)body[i];

		if (ch == '\n' && i + 1 == body_len)
			break;
		if (ch < 0x20 || ch > 0x7e || ch == '%') {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			buf_append(&x, e, 3);
		} else {
			buf_append(&x, &ch, 1);
		}
	}
	buf_appends(&x, "\r\n");
	// grpc_status set: local_reply_ex sends the reply below as it is
	snprintf(c->grpc_status, sizeof(c->grpc_status), "%d", code);
	if (buf_append(&x, "", 1) == 0)
		local_reply_ex(c, 200, flags, details, x.data, "", 0, false);
	else
		local_reply_ex(c, status, "-", "out_of_memory", "", "", 0, true);
	buf_cleanup(&x);
}

// local_reply_ex is local_reply with extra header lines (each ending in
// CRLF, "" for none) and a body of any bytes.
static void local_reply_ex(struct hconn *c, int status, const char *flags, const char *details,
			   const char *extra, const char *body, size_t body_len, bool close)
{
	struct buf *o = c->parent ? &c->w->h2_head : sock_out(&c->s);
	size_t before;

	if (c->parent)
		o->off = o->len = 0;
	before = buf_avail(o);
	if (c->rs_head_sent) {
		// too late for an answer: the client already has a status
		c->flags = flags;
		c->details = details;
		c->keepalive = false;
		conn_close(c);
		return;
	}
	if (c->grpc && !c->grpc_status[0] && status != 204 && status != 304) {
		// a gRPC client reads the outcome from grpc-status, not the HTTP
		// status: a trailers-only response, as Envoy answers locally
		grpc_local_reply(c, status, flags, details, body, body_len);
		return;
	}
	if (close || (!c->rq_done && c->rq_framing != H1_BODY_NONE))
		c->keepalive = false;
	if (__atomic_load_n(&c->w->draining, __ATOMIC_RELAXED))
		c->keepalive = false;
	// 204 and 304 carry no body and no Content-Length (RFC 9110 8.6)
	if (status == 204 || status == 304)
		body_len = 0;
	buf_appendf(o, "HTTP/1.1 %d %s\r\n", status, h1_status_reason(status));
	if (status != 204 && status != 304)
		buf_appendf(o, "content-length: %zu\r\n", body_len);
	buf_appendf(o, "%sdate: %s\r\nserver: envoy\r\n%s%s\r\n",
		    body_len ? "content-type: text/plain\r\n" : "", http_date(c->w), extra,
		    c->keepalive ? "" : "connection: close\r\n");
	if (c->parent) {
		c->rs_bytes += buf_avail(o) + (c->head_request ? 0 : body_len);
		h2down_respond(c, buf_head(o), buf_avail(o), c->head_request || !body_len);
		if (!c->head_request)
			h2down_write(c, body, body_len);
	} else {
		if (!c->head_request)
			buf_append(o, body, body_len);
		c->rs_bytes += buf_avail(o) - before;
		sock_flush(&c->s);
	}
	c->status = status;
	c->flags = flags;
	c->details = details;
	c->rs_head_sent = true;
	c->rs_done = true;
	if (c->up) {
		upstream_abort(c->up);
		c->up = NULL;
	}
	h2up_release(c, true);
	count_status(c->w, status);
	finish_transaction(c);
}

// bad_request answers a head we could not accept and closes, as RFC 9112
// requires when framing cannot be trusted. No route, so no metrics labels.
static void bad_request(struct hconn *c, int status)
{
	static const char *const bodies[] = { "Bad Request" };

	log_ratelimited(LOG_INFO, NULL, "downstream: request rejected with %d", status);
	if (!c->start_ns) {
		c->start_ns = clock_mono_ns();
		c->start_wall_ns = clock_wall_ns();
	}
	c->minor = 1;
	c->in.off = c->in.len = 0;
	local_reply(c, status, "-", "http1.codec_error", status == 400 ? bodies[0] :
		    h1_status_reason(status), true);
}

void http_bad_request(struct hconn *c, int status)
{
	bad_request(c, status);
}

// ---- transactions ---------------------------------------------------------

static void reset_transaction(struct hconn *c)
{
	c->cluster = NULL;
	c->route = NULL;
	c->dest = NULL;
	c->route_name = NULL;
	c->ep = c->failed_ep = NULL;
	c->eps = NULL;
	c->meta.off = c->meta.len = 0;
	memset(&c->m_method, 0, sizeof(struct mstr) * 6);
	c->head_request = c->expect_continue = c->upgrade = false;
	c->rq_framing = H1_BODY_NONE;
	c->rq_remaining = 0;
	c->rq_done = false;
	c->status = 0;
	c->rs_framing = H1_BODY_NONE;
	c->rs_remaining = 0;
	c->rs_chunk_out = c->rs_head_sent = c->rs_done = false;
	c->num_1xx = 0;
	c->retries = 0;
	c->reuse_retries = 0;
	c->flags = NULL;
	c->details = NULL;
	c->start_ns = c->start_wall_ns = c->upstream_sent_ns = c->upstream_head_ns = 0;
	c->rq_bytes = c->rs_bytes = 0;
	c->up_reusable = true;
	c->rq_body_sent = false;
	c->rs_zero_written = c->rq_zero_written = false;
	c->rq_head.off = c->rq_head.len = 0;
}

static void header_timeout(struct ring_timer *t)
{
	struct hconn *c = container_of(t, struct hconn, timer);

	if (c->state != DS_HEAD)
		return;
	if (c->head_started) {
		metrics_inc(c->w->metrics, MC_RQ_HEADER_TIMEOUT, 1);
		log_ratelimited(LOG_INFO, NULL, "downstream: request head not complete in time, "
				"closing");
		c->start_ns = clock_mono_ns();
		c->start_wall_ns = clock_wall_ns();
		c->minor = 1;
		c->in.off = c->in.len = 0;
		local_reply(c, 408, "-", "request_header_timeout", "request timeout", true);
		return;
	}
	conn_close(c);	// idle keep-alive connection
}

static void arm_idle(struct hconn *c)
{
	const struct snapshot *s = c->w->cur ? c->w->cur->snap : NULL;

	c->head_started = false;
	ring_timer_set(&c->w->ring, &c->timer, s ? s->idle_timeout_ms : 3600000, header_timeout);
}

static void finish_transaction(struct hconn *c)
{
	struct worker *w = c->w;

	ring_timer_cancel(&w->ring, &c->rq_timer);
	ring_timer_cancel(&w->ring, &c->dl_timer);
	uncount(c);
	if (c->start_ns)
		observe(c);
	if (c->up) {
		upstream_release(c->up, c->up_reusable && c->rq_done && c->rs_done);
		c->up = NULL;
	}
	h2up_release(c, false);
	if (c->hold) {
		worker_snap_release(w, c->hold);
		c->hold = NULL;
	}
	if (c->parent) {
		h2down_done(c, false);	// one transaction per stream
		return;
	}
	if (!c->rq_done)
		c->keepalive = false;	// unread body: the next bytes are not a head
	if (!c->keepalive || __atomic_load_n(&w->draining, __ATOMIC_RELAXED)) {
		begin_linger(c);
		return;
	}
	reset_transaction(c);
	c->state = DS_HEAD;
	c->scanned = 0;
	arm_idle(c);
	if (!c->in_feed && buf_avail(&c->in))
		feed(c, NULL, 0);
	update_flow(c);
}

static void linger_timeout(struct ring_timer *t)
{
	struct hconn *c = container_of(t, struct hconn, timer);

	if (c->state == DS_CLOSED)
		sock_close(&c->s, false);	// a flush that did not finish in time
	else
		conn_close(c);
}

// close_flushing closes after the queued answer went out, bounded in time.
static void close_flushing(struct hconn *c)
{
	c->state = DS_CLOSED;
	ring_timer_cancel(&c->w->ring, &c->rq_timer);
	ring_timer_set(&c->w->ring, &c->timer, LINGER_MS, linger_timeout);
	sock_close(&c->s, true);
}

// begin_linger sends what is queued, then FIN, and reads (discarding) for a
// while, so that the client sees our answer instead of a reset caused by
// unread input.
static void begin_linger(struct hconn *c)
{
	if (c->state == DS_LINGER || c->state == DS_CLOSED)
		return;
	c->state = DS_LINGER;
	c->in.off = c->in.len = 0;
	ring_timer_cancel(&c->w->ring, &c->rq_timer);
	ring_timer_cancel(&c->w->ring, &c->dl_timer);
	if (c->up) {
		upstream_abort(c->up);
		c->up = NULL;
	}
	h2up_release(c, true);
	if (c->hold) {
		worker_snap_release(c->w, c->hold);
		c->hold = NULL;
	}
	if (c->peer_eof) {
		close_flushing(c);
		return;
	}
	sock_shutdown_wr(&c->s);
	ring_timer_set(&c->w->ring, &c->timer, LINGER_MS, linger_timeout);
	c->paused = false;
	sock_recv_start(&c->s);
}

static void conn_close(struct hconn *c)
{
	if (c->state == DS_CLOSED)
		return;
	if (c->h2)
		h2down_free(c);	// closes every stream's transaction first
	if (c->raw && c->start_ns) {
		observe_raw(c);
		c->start_ns = 0;
	}
	if (c->start_ns && !c->rs_done && c->state != DS_LINGER) {
		if (!c->flags)
			c->flags = "DC";
		metrics_inc(c->w->metrics, MC_DOWNSTREAM_RESET, 1);
		observe(c);
		c->start_ns = 0;
	}
	c->state = DS_CLOSED;
	uncount(c);
	ring_timer_cancel(&c->w->ring, &c->timer);
	ring_timer_cancel(&c->w->ring, &c->rq_timer);
	ring_timer_cancel(&c->w->ring, &c->dl_timer);
	if (c->up) {
		upstream_abort(c->up);
		c->up = NULL;
	}
	h2up_release(c, true);
	if (c->hold) {
		worker_snap_release(c->w, c->hold);
		c->hold = NULL;
	}
	if (c->parent) {
		h2down_done(c, true);	// RST_STREAM; the connection goes on
		return;
	}
	sock_close(&c->s, false);
}

void http_conn_close(struct hconn *c)
{
	conn_close(c);
}

void http_close_flushing(struct hconn *c)
{
	close_flushing(c);
}

void http_update_flow(struct hconn *c)
{
	update_flow(c);
}

// ---- request head -> upstream request -------------------------------------

static void gen_request_id(struct worker *w, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	uint64_t a = worker_rand(w), b = worker_rand(w);
	unsigned char u[16];
	int j = 0;

	memcpy(u, &a, 8);
	memcpy(u + 8, &b, 8);
	u[6] = (u[6] & 0x0f) | 0x40;	// version 4
	u[8] = (u[8] & 0x3f) | 0x80;	// RFC 4122 variant
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[u[i] >> 4];
		out[j++] = hex[u[i] & 15];
	}
	out[j] = '\0';
}

static bool is_name(struct h1_str n, const char *lit)
{
	return h1_str_ieq(n, lit);
}

static void peer_ip(const struct sockaddr_storage *ss, char *out, size_t len)
{
	out[0] = '\0';
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, out, (socklen_t)len);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, out, (socklen_t)len);
}

static int build_upstream_head(struct hconn *c, const struct h1_msg *m)
{
	struct buf *b = &c->rq_head;
	char ip[64], rid[37];
	bool have_rid = false;
	int xff_idx = -1;

	b->off = b->len = 0;
	// the hot path: no printf here
	buf_append(b, m->method.p, m->method.len);
	buf_appends(b, " ");
	buf_append(b, m->path.p, m->path.len);
	buf_appends(b, " HTTP/1.1\r\nhost: ");
	buf_append(b, m->authority.p, m->authority.len);
	buf_appends(b, "\r\n");
	for (unsigned i = 0; i < m->num_headers; i++) {
		const struct h1_header *h = &m->headers[i];

		if (h1_is_hop_by_hop(m, h->name) || is_name(h->name, "host") ||
		    is_name(h->name, "content-length") || is_name(h->name, "x-forwarded-proto"))
			continue;
		// a client certificate's details are ours to state: what a
		// client sent is dropped unless it came over verified mTLS,
		// where it is kept and ours appended (Envoy's APPEND_FORWARD
		// for mTLS, SANITIZE otherwise, as Istio configures it)
		if (is_name(h->name, "x-forwarded-client-cert") && !(c->tls && tls_conn_peer_id(c->tls)))
			continue;
		if (is_name(h->name, "x-forwarded-for")) {
			if (xff_idx < 0)
				xff_idx = (int)i;
			continue;
		}
		if (is_name(h->name, "x-request-id")) {
			if (have_rid || !h->value.len)
				continue;
			have_rid = true;
			meta_set(c, &c->m_reqid, h->value.p, h->value.len);
		} else if (is_name(h->name, "user-agent")) {
			meta_set(c, &c->m_ua, h->value.p, h->value.len);
		}
		buf_append(b, h->name.p, h->name.len);
		buf_appends(b, ": ");
		buf_append(b, h->value.p, h->value.len);
		buf_appends(b, "\r\n");
	}
	// x-forwarded-for: what the client sent (all fields, joined), then
	// the address the client connected from.
	peer_ip(&c->peer, ip, sizeof(ip));
	{
		size_t start;

		buf_appends(b, "x-forwarded-for: ");
		start = b->len;
		if (xff_idx >= 0) {
			for (unsigned i = (unsigned)xff_idx; i < m->num_headers; i++) {
				const struct h1_header *h = &m->headers[i];

				if (!is_name(h->name, "x-forwarded-for") || !h->value.len)
					continue;
				buf_append(b, h->value.p, h->value.len);
				buf_appends(b, ", ");
			}
		}
		buf_appends(b, ip);
		meta_set(c, &c->m_xff, b->data + start, b->len - start);
		buf_appends(b, "\r\n");
	}
	buf_appends(b, c->tls ? "x-forwarded-proto: https\r\n" : "x-forwarded-proto: http\r\n");
	if (c->tls && tls_conn_peer_id(c->tls)) {
		const struct snapshot *s = c->hold ? c->hold->snap : NULL;

		buf_appendf(b, "x-forwarded-client-cert: By=%s;Hash=%s;Subject=\"\";URI=%s\r\n",
			    s && s->source_principal ? s->source_principal : "",
			    tls_conn_peer_cert_hash(c->tls), tls_conn_peer_id(c->tls)->id);
	}
	if (!have_rid) {
		gen_request_id(c->w, rid);
		meta_set(c, &c->m_reqid, rid, 36);
		buf_appends(b, "x-request-id: ");
		buf_append(b, rid, 36);
		buf_appends(b, "\r\n");
	}
	if (c->rq_framing == H1_BODY_LENGTH) {
		buf_appends(b, "content-length: ");
		buf_append_u64(b, c->rq_remaining);
		buf_appends(b, "\r\n");
	} else if (c->rq_framing == H1_BODY_CHUNKED)
		buf_appends(b, "transfer-encoding: chunked\r\n");
	if (c->upgrade)
		buf_appendf(b, "connection: upgrade\r\nupgrade: %.*s\r\n", (int)m->upgrade.len,
			    m->upgrade.p);
	return buf_appends(b, "\r\n");
}

static bool is_websocket(const struct h1_msg *m)
{
	return (m->flags & H1F_UPGRADE) && (m->flags & H1F_CONN_UPGRADE) &&
	       h1_str_ieq(m->upgrade, "websocket");
}

// split_authority lowercases the host part into out and returns the port
// (0 if none, -1 if malformed).
static long split_authority(struct h1_str a, char *out, size_t out_len, size_t *host_len)
{
	const char *p = a.p, *end = a.p + a.len, *colon = NULL;
	size_t n;
	long port = 0;

	if (a.len && *p == '[') {
		const char *rb = memchr(p, ']', a.len);

		if (!rb)
			return -1;
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		if (!colon && rb + 1 != end)
			return -1;
	} else {
		colon = memchr(p, ':', a.len);
	}
	n = colon ? (size_t)(colon - p) : a.len;
	if (n >= out_len)
		return -1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
	out[n] = '\0';
	*host_len = n;
	if (colon) {
		const char *q = colon + 1;

		if (q == end)
			return 0;	// "host:" means no port
		for (; q < end; q++) {
			if (*q < '0' || *q > '9' || port > 65535)
				return -1;
			port = port * 10 + (*q - '0');
		}
		if (port < 1 || port > 65535)
			return -1;
	}
	return port;
}

// passthrough_target resolves ALLOW_ANY's original destination for an
// explicit listener: the authority must be an IP literal. The one-endpoint
// cluster lives in the connection, for this request only.
static bool passthrough_target(struct hconn *c, const char *host, long port)
{
	struct snap_endpoint *ep = &c->pt_ep;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ep->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ep->addr;
	uint16_t p = (uint16_t)(port ? port : 80);

	memset(ep, 0, sizeof(*ep));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(p);
		ep->addr_len = sizeof(*in4);
		snprintf(ep->addr_str, sizeof(ep->addr_str), "%s:%u", host, p);
	} else if (host[0] == '[' && strlen(host) < 48) {
		char h[48];
		size_t n = strlen(host);

		if (host[n - 1] != ']')
			return false;
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		if (inet_pton(AF_INET6, h, &in6->sin6_addr) != 1)
			return false;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		ep->addr_len = sizeof(*in6);
		snprintf(ep->addr_str, sizeof(ep->addr_str), "[%s]:%u", h, p);
	} else {
		return false;
	}
	ep->weight = 1;
	c->pt_cluster = c->hold->snap->passthrough;
	c->pt_cluster.eps = ep;
	c->pt_cluster.num_eps = 1;
	c->cluster = &c->pt_cluster;
	return true;
}

static uint16_t od_port(const struct hconn *c)
{
	uint8_t ip[16];

	return snap_addr_key(&c->od_ep.addr, ip);
}

// od_target is cl, or, for a cluster without endpoints of its own
// (PassthroughCluster, a ServiceEntry with resolution NONE), a copy of it
// whose one endpoint is the connection's original destination.
static const struct snap_cluster *od_target(struct hconn *c, const struct snap_cluster *cl)
{
	if (cl->num_eps || cl->kind != CLUSTER_PASSTHROUGH)
		return cl;
	original_dst_cluster(cl, &c->od_ep, &c->pt_cluster);
	return &c->pt_cluster;
}

// redirect answers with the route's redirect (Istio's HTTPRedirect, Envoy's
// redirect action): the request's URL with the scheme, authority, port and
// path the route names replaced; a new path without a query keeps the
// request's query.
static void redirect(struct hconn *c, const struct snap_redirect *rd, const struct h1_msg *m,
		     const char *host, long port)
{
	const char *q = memchr(m->path.p, '?', m->path.len);
	const char *auth = rd->authority;
	size_t alen = auth ? strlen(auth) : 0;
	bool auth_port = false;
	long want;
	struct buf loc;

	if (auth) {
		const char *colon = strrchr(auth, ':');

		auth_port = colon && !strchr(colon, ']');
		if (auth_port && (rd->port || rd->derive_port >= 0))
			alen = (size_t)(colon - auth);	// port or derivePort decides
	}
	if (rd->port)
		want = rd->port;
	else if (rd->derive_port == 0)
		want = 0;		// FROM_PROTOCOL_DEFAULT
	else if (rd->derive_port == 1)
		want = port;		// FROM_REQUEST_PORT
	else
		want = auth ? 0 : port;	// as written, or the request's
	buf_init(&loc);
	buf_appendf(&loc, "location: %s://", rd->scheme ? rd->scheme : c->tls ? "https" : "http");
	if (auth)
		buf_append(&loc, auth, alen);
	else
		buf_appends(&loc, host);
	if (want > 0)
		buf_appendf(&loc, ":%ld", want);
	if (rd->uri) {
		buf_appends(&loc, rd->uri);
		if (q && !strchr(rd->uri, '?'))
			buf_append(&loc, q, (size_t)(m->path.p + m->path.len - q));
	} else {
		buf_append(&loc, m->path.p, m->path.len);
	}
	// the configured parts are validated, but a header line must not break
	if (!loc.data || memchr(loc.data, '\r', loc.len) || memchr(loc.data, '\n', loc.len) ||
	    memchr(loc.data, '\0', loc.len) || buf_appends(&loc, "\r\n") < 0 ||
	    buf_append(&loc, "", 1) < 0)	// a C string for local_reply_ex
		local_reply(c, 500, "-", "redirect_invalid", "", false);
	else
		local_reply_ex(c, (int)rd->code, "-", "direct_response", loc.data, "", 0, false);
	buf_cleanup(&loc);
}

// ops_names says whether name[0..len) is one an operation removes or sets
// (a set replaces what came before it).
static bool ops_drop(const struct snap_header_ops *o, const char *name, size_t len)
{
	for (uint32_t i = 0; i < o->num_remove; i++)
		if (strlen(o->remove[i]) == len && !strncasecmp(o->remove[i], name, len))
			return true;
	for (uint32_t i = 0; i < o->num_set; i++)
		if (strlen(o->set_names[i]) == len && !strncasecmp(o->set_names[i], name, len))
			return true;
	return false;
}

static bool is_authority_name(const char *n)
{
	return !strcasecmp(n, ":authority") || !strcasecmp(n, "host");
}

// ops_emit appends the set and add headers of o (the authority aside: it
// is the Host line's).
static void ops_emit(struct buf *b, const struct snap_header_ops *o)
{
	for (uint32_t i = 0; i < o->num_set; i++)
		if (!is_authority_name(o->set_names[i]))
			buf_appendf(b, "%s: %s\r\n", o->set_names[i], o->set_values[i]);
	for (uint32_t i = 0; i < o->num_add; i++)
		if (!is_authority_name(o->add_names[i]))
			buf_appendf(b, "%s: %s\r\n", o->add_names[i], o->add_values[i]);
}

static const char *ops_authority(const struct snap_header_ops *o)
{
	for (uint32_t i = 0; o && i < o->num_set; i++)
		if (is_authority_name(o->set_names[i]))
			return o->set_values[i];
	return NULL;
}

// rebuild_head applies the route's rewrite and the request header
// operations (the destination's, then the route's) to c->rq_head, built as
// "METHOD PATH HTTP/1.1\r\nhost: AUTHORITY\r\n" + header lines + "\r\n":
// the matched prefix (the whole path for an exact match, "/" without a uri
// match) becomes rewrite_uri with the query kept; the authority becomes
// rewrite_authority, or a set ":authority"/"host"; removed and set headers
// are dropped, set and added ones appended. It returns 0 or -ENOMEM.
static int rebuild_head(struct hconn *c, const struct route_result *rr, const struct h1_msg *m)
{
	const struct snap_route *r = rr->route;
	const struct snap_header_ops *ops[2] = {
		rr->dest && rr->dest->headers ? &rr->dest->headers->request : NULL,
		r->headers ? &r->headers->request : NULL,
	};
	const char *q = memchr(m->path.p, '?', m->path.len);
	size_t plen = q ? (size_t)(q - m->path.p) : m->path.len, cut = 0;
	const char *head = buf_head(&c->rq_head), *end = head + buf_avail(&c->rq_head);
	const char *line, *auth = r->rewrite_authority;
	struct buf nb;
	int rc;

	for (int k = 0; k < 2; k++)
		if (ops[k] && ops_authority(ops[k]))
			auth = ops_authority(ops[k]);
	if (r->rewrite_uri && m->path.len && m->path.p[0] == '/')
		cut = !rr->match || rr->match->uri_kind == MATCH_ANY ? 1 :
		      rr->match->uri_kind == MATCH_PREFIX ? rr->match->uri_len : plen;
	// the header lines start after the request line and the Host line
	line = memchr(head, '\n', (size_t)(end - head));
	line = line ? memchr(line + 1, '\n', (size_t)(end - line - 1)) : NULL;
	if (!line)
		return 0;
	line++;
	buf_init(&nb);
	buf_append(&nb, m->method.p, m->method.len);
	buf_appends(&nb, " ");
	if (cut) {
		buf_appends(&nb, r->rewrite_uri);
		buf_append(&nb, m->path.p + cut, m->path.len - cut);
	} else {
		buf_append(&nb, m->path.p, m->path.len);
	}
	buf_appends(&nb, " HTTP/1.1\r\nhost: ");
	if (auth)
		buf_appends(&nb, auth);
	else
		buf_append(&nb, m->authority.p, m->authority.len);
	buf_appends(&nb, "\r\n");
	while (line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		const char *colon = memchr(line, ':', eol ? (size_t)(eol - line) : 0);
		bool drop = false;

		if (!eol || eol == line + 1)
			break;		// the final CRLF
		for (int k = 0; k < 2 && colon; k++)
			drop |= ops[k] && ops_drop(ops[k], line, (size_t)(colon - line));
		if (!drop)
			buf_append(&nb, line, (size_t)(eol + 1 - line));
		line = eol + 1;
	}
	for (int k = 0; k < 2; k++)
		if (ops[k])
			ops_emit(&nb, ops[k]);
	rc = buf_appends(&nb, "\r\n");
	if (rc == 0) {
		buf_cleanup(&c->rq_head);
		c->rq_head = nb;
	} else {
		buf_cleanup(&nb);
	}
	return rc;
}

// uncount gives back the request's place in its cluster's max_requests.
static void uncount(struct hconn *c)
{
	if (c->counted) {
		__atomic_fetch_sub(c->counted->rq_active, 1, __ATOMIC_RELAXED);
		c->counted = NULL;
	}
}

static void start_upstream(struct hconn *c)
{
	const struct snap_cluster *cl = c->cluster;

	if (cl->max_requests && !c->counted) {
		// Envoy's max_requests circuit breaker, shared by every worker
		if (__atomic_add_fetch(cl->rq_active, 1, __ATOMIC_RELAXED) > cl->max_requests) {
			__atomic_fetch_sub(cl->rq_active, 1, __ATOMIC_RELAXED);
			metrics_inc(c->w->metrics, MC_UPSTREAM_OVERFLOW, 1);
			local_reply(c, 503, "UO", "upstream_reset_before_response_started{overflow}",
				    "upstream connect error or disconnect/reset before headers. reset "
				    "reason: overflow", false);
			return;
		}
		c->counted = cl;
	}
	c->state = DS_UPSTREAM;
	upstream_acquire(c);
}

// grpc_timeout_ms parses a grpc-timeout value (1 to 8 digits and a unit,
// H M S m u n) into milliseconds, at least 1; -1 when malformed.
static int64_t grpc_timeout_ms(struct h1_str v)
{
	int64_t n = 0;
	uint32_t i;

	if (v.len < 2 || v.len > 9)
		return -1;
	for (i = 0; i + 1 < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (v.p[i] - '0');
	}
	switch (v.p[i]) {
	case 'H': n *= 3600000; break;
	case 'M': n *= 60000; break;
	case 'S': n *= 1000; break;
	case 'm': break;
	case 'u': n = (n + 999) / 1000; break;
	case 'n': n = (n + 999999) / 1000000; break;
	default: return -1;
	}
	return n > 0 ? n : 1;
}

// grpc_deadline: the call's grpc-timeout passed (Istio lets the header
// bound the stream: max_stream_duration with grpc_timeout_header_max 0).
static void grpc_deadline(struct ring_timer *t)
{
	struct hconn *c = container_of(t, struct hconn, dl_timer);

	metrics_inc(c->w->metrics, MC_ROUTE_TIMEOUT, 1);
	c->up_reusable = false;
	if (c->rs_head_sent) {
		c->flags = "UT";
		c->details = "max_duration_timeout";
		c->rs_done = false;
		conn_close(c);
		return;
	}
	local_reply(c, 504, "UT", "max_duration_timeout", "grpc-timeout expired", false);
}

// start_request takes a parsed head: copies what outlives the input buffer,
// routes, and starts the upstream side or answers locally.
static void start_request(struct hconn *c, const struct h1_msg *m)
{
	struct worker *w = c->w;
	const struct snapshot *s;
	struct route_result rr;
	char host[256];
	size_t host_len = 0, path_len;
	long port;
	const char *q;

	ring_timer_cancel(&w->ring, &c->timer);
	c->requests++;
	metrics_inc(w->metrics, MC_RQ_TOTAL, 1);
	c->start_ns = clock_mono_ns();
	c->start_wall_ns = clock_wall_ns();
	c->minor = m->minor;
	c->rq_bytes = m->head_len;
	c->keepalive = m->minor == 1 ? !(m->flags & H1F_CONN_CLOSE)
				     : (m->flags & H1F_CONN_KEEPALIVE) && !(m->flags & H1F_CONN_CLOSE);
	c->head_request = h1_str_ieq(m->method, "HEAD");
	c->expect_continue = m->flags & H1F_EXPECT_CONTINUE;
	c->upgrade = is_websocket(m);
	c->rq_framing = m->framing;
	c->rq_remaining = m->framing == H1_BODY_LENGTH ? m->content_length : 0;
	c->rq_done = m->framing == H1_BODY_NONE || (m->framing == H1_BODY_LENGTH && !m->content_length);
	if (m->framing == H1_BODY_CHUNKED)
		h1_chunked_init(&c->rq_chunked);
	meta_set(c, &c->m_method, m->method.p, m->method.len);
	meta_set(c, &c->m_path, m->path.p, m->path.len);
	meta_set(c, &c->m_authority, m->authority.p, m->authority.len);
	worker_snap_acquire(w, &c->hold);
	s = c->hold->snap;
	if (c->grpc) {
		for (unsigned i = 0; i < m->num_headers; i++) {
			int64_t ms;

			if (!is_name(m->headers[i].name, "grpc-timeout"))
				continue;
			if ((ms = grpc_timeout_ms(m->headers[i].value)) > 0)
				ring_timer_set(&w->ring, &c->dl_timer, (uint64_t)ms, grpc_deadline);
			break;
		}
	}

	if (build_upstream_head(c, m) < 0) {
		local_reply(c, 500, "-", "out_of_memory", "internal error", true);
		return;
	}
	port = split_authority(m->authority, host, sizeof(host), &host_len);
	if (port < 0) {
		local_reply(c, 400, "-", "invalid_authority", "Bad Request", true);
		return;
	}
	if (c->inbound) {
		// captured inbound: the workload the client addressed, Host as is
		original_dst_cluster(&s->inbound_passthrough, &c->od_ep, &c->pt_cluster);
		c->cluster = &c->pt_cluster;
		c->route_name = "default";
		start_upstream(c);
		return;
	}
	q = memchr(m->path.p, '?', m->path.len);
	path_len = q ? (size_t)(q - m->path.p) : m->path.len;
	// a captured connection's port is the one the client dialled
	route_request(s, host, host_len, (uint32_t)port,
		      c->od ? od_port(c) : c->l->idx < s->num_listeners ?
		      s->listeners[c->l->idx].port : 0,
		      m->path.p, path_len, worker_rand(w), &rr);
	c->route = rr.route;
	c->dest = rr.dest;
	c->route_name = rr.route_name;
	c->cluster = rr.cluster;
	switch (rr.kind) {
	case ROUTE_NOT_FOUND:
		metrics_inc(w->metrics, MC_NO_ROUTE, 1);
		c->cluster = NULL;
		local_reply(c, 404, "NR", "route_not_found", "", false);
		return;
	case ROUTE_BLOCK_ALL:
		metrics_inc(w->metrics, MC_BLACKHOLE, 1);
		log_ratelimited(LOG_INFO, NULL, "egress: %.*s is not in the registry "
				"(REGISTRY_ONLY), answered 502 from route block_all",
				(int)m->authority.len, m->authority.p);
		local_reply(c, 502, "-", "direct_response", "", false);
		return;
	case ROUTE_NO_CLUSTER:
		local_reply(c, 503, "NC", "cluster_not_found", "", false);
		return;
	case ROUTE_NOT_IMPLEMENTED:
		local_reply(c, 500, "-", "route_feature_not_implemented",
			    "this route uses a VirtualService feature meshgate does not implement yet\n",
			    false);
		return;
	case ROUTE_DIRECT:
		local_reply_ex(c, (int)rr.route->direct->status, "-", "direct_response", "",
			       rr.route->direct->body, rr.route->direct->body_len, false);
		return;
	case ROUTE_REDIRECT:
		redirect(c, rr.route->redirect, m, host, port);
		return;
	case ROUTE_PASSTHROUGH:
		if (c->od) {
			c->cluster = od_target(c, &s->passthrough);
			break;
		}
		if (!passthrough_target(c, host, port)) {
			local_reply(c, 502, "-", "passthrough_needs_ip_authority", "", false);
			return;
		}
		break;
	case ROUTE_CLUSTER:
		if (c->od)	// resolution NONE: where the client was going
			c->cluster = od_target(c, c->cluster);
		if (rr.route && (rr.route->rewrite_uri || rr.route->rewrite_authority ||
				 rr.route->headers || (rr.dest && rr.dest->headers)) &&
		    rebuild_head(c, &rr, m) < 0) {
			local_reply(c, 500, "-", "out_of_memory", "internal error", true);
			return;
		}
		break;
	}
	if (!c->cluster->num_eps) {
		metrics_inc(w->metrics, MC_NO_HEALTHY, 1);
		local_reply(c, 503, "UH", "no_healthy_upstream", "no healthy upstream", false);
		return;
	}
	start_upstream(c);
}

void http_start_request(struct hconn *c, const struct h1_msg *m)
{
	start_request(c, m);
}

// ---- body forwarding --------------------------------------------------------

struct chunk_sink {
	struct hconn *c;
	struct sock *dst;	// NULL: the transaction's HTTP/2 upstream stream
	bool chunked_out;
	bool *zero_written;
	uint64_t bytes;
};

static void sink_data(void *arg, const char *p, size_t len)
{
	struct chunk_sink *k = arg;
	struct buf *o;

	if (!len)
		return;
	k->bytes += len;
	if (!k->dst) {
		h2up_write(k->c, p, len);	// unframed into the upstream stream
		return;
	}
	o = sock_out(k->dst);
	if (k->c->parent && k->dst == &k->c->s) {
		h2down_write(k->c, p, len);	// DATA frames toward the client
	} else if (k->chunked_out) {
		char line[24];
		size_t n = h1_chunk_size_line(line, len);

		buf_append(o, line, n);
		buf_append(o, p, len);
		buf_append(o, "\r\n", 2);
	} else {
		buf_append(o, p, len);
	}
}

static void sink_trailer(void *arg, const char *name, size_t name_len, const char *value,
			 size_t value_len)
{
	struct chunk_sink *k = arg;
	struct buf *o;

	if (!k->dst) {	// kept as lines for h2up_end
		buf_append(&k->c->sniff, name, name_len);
		buf_append(&k->c->sniff, ": ", 2);
		buf_append(&k->c->sniff, value, value_len);
		buf_append(&k->c->sniff, "\r\n", 2);
		return;
	}
	o = sock_out(k->dst);
	if (k->c->parent && k->dst == &k->c->s) {
		h2down_trailer(k->c, name, name_len, value, value_len);
		return;
	}
	if (!k->chunked_out)
		return;	// an HTTP/1.0 peer cannot receive trailers
	if (!*k->zero_written) {
		buf_append(o, "0\r\n", 3);
		*k->zero_written = true;
	}
	buf_append(o, name, name_len);
	buf_append(o, ": ", 2);
	buf_append(o, value, value_len);
	buf_append(o, "\r\n", 2);
}

static void sink_end(struct chunk_sink *k)
{
	if (!k->dst) {
		h2up_end(k->c);
		return;
	}
	if (!k->chunked_out || (k->c->parent && k->dst == &k->c->s))
		return;	// an HTTP/2 stream ends in finish_transaction
	if (!*k->zero_written)
		buf_append(sock_out(k->dst), "0\r\n", 3);
	buf_append(sock_out(k->dst), "\r\n", 2);
	*k->zero_written = true;
}

static void route_timeout(struct ring_timer *t);

static void request_done(struct hconn *c);

void http_request_done(struct hconn *c)
{
	request_done(c);
}

static void request_done(struct hconn *c)
{
	c->rq_done = true;
	if (c->route && c->route->timeout_ms > 0 && !c->rs_done)
		ring_timer_set(&c->w->ring, &c->rq_timer, (uint64_t)c->route->timeout_ms,
			       route_timeout);
	if (c->rs_done)
		finish_transaction(c);
}

// forward_body sends request body bytes upstream and returns how many of
// p[0..len) belonged to this request's body (-1: malformed, answered).
static ssize_t forward_body(struct hconn *c, const char *p, size_t len)
{
	struct sock *up = c->ust ? NULL : &c->up->s;
	size_t n;

	if (c->rq_framing == H1_BODY_LENGTH) {
		n = len < c->rq_remaining ? len : (size_t)c->rq_remaining;
		if (up)
			buf_append(sock_out(up), p, n);
		else
			h2up_write(c, p, n);
		c->rq_remaining -= n;
		c->rq_bytes += n;
		c->rq_body_sent |= n > 0;
		if (up)
			sock_flush(up);
		else if (!c->rq_remaining)
			h2up_end(c);
		if (!c->rq_remaining)
			request_done(c);
		return (ssize_t)n;
	}
	if (c->rq_framing == H1_BODY_CHUNKED) {
		struct chunk_sink k = { c, up, true, &c->rq_zero_written, 0 };
		struct h1_chunked_out out = { sink_data, sink_trailer, &k };
		int done = 0;
		ssize_t r = h1_chunked_feed(&c->rq_chunked, p, len, &out, &done);

		if (r < 0) {
			c->up_reusable = false;
			local_reply(c, 400, "-", "http1.invalid_chunk", "Bad Request", true);
			return -1;
		}
		c->rq_bytes += (uint64_t)r;
		c->rq_body_sent = true;
		if (done)
			sink_end(&k);
		if (up)
			sock_flush(up);
		if (done)
			request_done(c);
		return r;
	}
	return 0;
}

// ---- input processing -----------------------------------------------------

// process consumes what it can of p[0..len) in the current state and
// returns the count; it stops at state changes that need a completion.
static size_t process(struct hconn *c, const char *p, size_t len)
{
	size_t used = 0;

	while (used < len && c->state != DS_CLOSED && c->state != DS_LINGER) {
		if (c->state == DS_HEAD) {
			struct h1_msg *m = &c->w->scratch;
			int status = 400;
			ssize_t end = h1_head_end(p + used, len - used, &c->scanned);

			if (end == -EAGAIN) {
				if (!c->head_started) {
					const struct snapshot *s = c->w->cur ? c->w->cur->snap : NULL;

					c->head_started = true;
					ring_timer_set(&c->w->ring, &c->timer,
						       s ? s->header_timeout_ms : 10000, header_timeout);
				}
				if (len - used > H1_MAX_HEAD_BYTES) {
					bad_request(c, 431);
				} else if (!memchr(p + used, '\n', len - used) &&
					   len - used > H1_MAX_TARGET + 64) {
					bad_request(c, 414);
				}
				return used;
			}
			if (end < 0) {
				bad_request(c, 400);
				return used;
			}
			if ((size_t)end > H1_MAX_HEAD_BYTES) {
				bad_request(c, 431);
				return used;
			}
			if (h1_parse_request(m, p + used, (size_t)end, 0, &status) < 0) {
				bad_request(c, status);
				return used;
			}
			used += (size_t)end;
			c->scanned = 0;
			start_request(c, m);
			continue;
		}
		if (c->state == DS_ACTIVE && !c->rq_done) {
			ssize_t n = forward_body(c, p + used, len - used);

			if (n < 0)
				return used;
			used += (size_t)n;
			continue;
		}
		if (c->state == DS_TUNNEL) {
			sock_send(&c->up->s, p + used, len - used);
			return len;
		}
		break;	// waiting for upstream / response: keep the bytes
	}
	return used;
}

static void feed(struct hconn *c, const char *p, size_t len)
{
	size_t n;

	// HTTP/2 by ALPN or by its preface, else HTTP/1.1 from here on
	if (!c->proto_known && (len || buf_avail(&c->in)) && h2down_detect(c, p, len))
		return;
	c->in_feed = true;
	if (buf_avail(&c->in) || !len) {
		if (len && buf_append(&c->in, p, len) < 0) {
			c->in_feed = false;
			conn_close(c);
			return;
		}
		// Loop: a response completing inside process() leaves the next
		// pipelined request for us instead of recursing.
		for (;;) {
			size_t before = buf_avail(&c->in);
			enum ds_state st = c->state;

			if (!before)
				break;
			n = process(c, buf_head(&c->in), before);
			if (c->state == DS_CLOSED || c->state == DS_LINGER) {
				c->in.off = c->in.len = 0;
				break;
			}
			buf_consume(&c->in, n);
			if (!n && st == c->state)
				break;
		}
	} else {
		n = process(c, p, len);
		if (c->state != DS_CLOSED && c->state != DS_LINGER && n < len &&
		    buf_append(&c->in, p + n, len - n) < 0) {
			c->in_feed = false;
			conn_close(c);
			return;
		}
		if (c->state == DS_HEAD && buf_avail(&c->in) && n) {
			// finished a transaction inside process(): go on with the rest
			c->in_feed = false;
			feed(c, NULL, 0);
			return;
		}
	}
	c->in_feed = false;
	update_flow(c);
}

// ---- upstream callbacks ---------------------------------------------------

void http_upstream_ready(struct hconn *c)
{
	struct sock *up = c->up ? &c->up->s : NULL;

	if (c->raw) {
		const char *labels[IL_COUNT];

		c->state = DS_TUNNEL;
		buf_append(sock_out(up), buf_head(&c->rq_head), buf_avail(&c->rq_head));
		c->rq_head.off = c->rq_head.len = 0;
		sock_flush(up);
		if (c->peer_eof)
			sock_shutdown_wr(up);
		raw_labels(c, labels);
		metrics_tcp_opened(c->w->metrics, labels);
		update_flow(c);
		return;
	}

	c->state = c->state == DS_UPSTREAM ? DS_ACTIVE : c->state;
	c->upstream_sent_ns = clock_mono_ns();
	if (!c->ust) {	// an HTTP/2 stream was opened with the head already
		buf_append(sock_out(up), buf_head(&c->rq_head), buf_avail(&c->rq_head));
		sock_flush(up);
	}
	if (c->rq_done && c->route && c->route->timeout_ms > 0)
		ring_timer_set(&c->w->ring, &c->rq_timer, (uint64_t)c->route->timeout_ms,
			       route_timeout);
	if (c->parent)
		h2down_pump(c);
	else if (!c->in_feed && buf_avail(&c->in))
		feed(c, NULL, 0);
	else
		update_flow(c);
}

static void retry_timer(struct ring_timer *t)
{
	struct hconn *c = container_of(t, struct hconn, rq_timer);

	if (c->state == DS_UPSTREAM)
		upstream_acquire(c);
}

void http_upstream_failed(struct hconn *c, int err, bool connect_failure)
{
	uint64_t backoff;

	c->up = NULL;
	if (c->state != DS_UPSTREAM && c->state != DS_ACTIVE)
		return;
	if (c->raw && c->retries >= NUM_RETRIES) {
		metrics_inc(c->w->metrics, MC_CONNECT_FAILED, 1);
		log_ratelimited(LOG_WARN, NULL, "inbound passthrough %s: connect failed (%s), "
				"closing", c->ep ? c->ep->addr_str : "?", strerror(-err));
		c->flags = "UF";
		conn_close(c);
		return;
	}
	if (c->retries < NUM_RETRIES && !c->rq_body_sent) {
		// Envoy's back-off: fully jittered, base 25 ms, doubling
		c->retries++;
		metrics_inc(c->w->metrics, MC_RETRIES, 1);
		c->failed_ep = c->ep;
		c->state = DS_UPSTREAM;
		backoff = worker_rand(c->w) % ((uint64_t)RETRY_BASE_MS << c->retries);
		ring_timer_set(&c->w->ring, &c->rq_timer, backoff, retry_timer);
		return;
	}
	metrics_inc(c->w->metrics, MC_CONNECT_FAILED, 1);
	log_ratelimited(LOG_WARN, NULL, "upstream %s: connect failed (%s), answered 503",
			c->ep ? c->ep->addr_str : "?", strerror(-err));
	local_reply(c, 503, c->retries ? "UF,URX" : "UF", "upstream_reset_before_response_started"
		    "{connection_failure}", "upstream connect error or disconnect/reset before "
		    "headers. reset reason: connection failure", false);
}

static void route_timeout(struct ring_timer *t)
{
	struct hconn *c = container_of(t, struct hconn, rq_timer);

	metrics_inc(c->w->metrics, MC_ROUTE_TIMEOUT, 1);
	c->up_reusable = false;
	if (c->rs_head_sent) {
		c->flags = "UT";
		c->details = "upstream_response_timeout";
		c->rs_done = false;
		conn_close(c);
		return;
	}
	local_reply(c, 504, "UT", "upstream_response_timeout", "upstream request timeout", false);
}

static void write_response_head(struct hconn *c, const struct h1_msg *m)
{
	struct buf *o = c->parent ? &c->w->h2_head : sock_out(&c->s);
	size_t before;

	if (c->parent)
		o->off = o->len = 0;
	before = buf_avail(o);
	bool keep_cl = m->framing == H1_BODY_NONE;
	const struct snap_header_ops *rs_ops[2] = {
		c->dest && c->dest->headers ? &c->dest->headers->response : NULL,
		c->route && c->route->headers ? &c->route->headers->response : NULL,
	};

	buf_appends(o, "HTTP/1.1 ");
	buf_append_u64(o, (uint64_t)m->status);	// 100..599, as parsed
	buf_appends(o, " ");
	buf_append(o, m->reason.p, m->reason.len);
	buf_appends(o, "\r\n");
	for (unsigned i = 0; i < m->num_headers; i++) {
		const struct h1_header *h = &m->headers[i];

		if (h1_is_hop_by_hop(m, h->name) || is_name(h->name, "server") ||
		    is_name(h->name, "x-envoy-upstream-service-time") ||
		    (!keep_cl && is_name(h->name, "content-length")))
			continue;
		if ((rs_ops[0] && ops_drop(rs_ops[0], h->name.p, h->name.len)) ||
		    (rs_ops[1] && ops_drop(rs_ops[1], h->name.p, h->name.len)))
			continue;	// VirtualService headers.response remove/set
		buf_append(o, h->name.p, h->name.len);
		buf_appends(o, ": ");
		buf_append(o, h->value.p, h->value.len);
		buf_appends(o, "\r\n");
	}
	if (m->status == 101) {
		buf_appendf(o, "connection: upgrade\r\nupgrade: %.*s\r\n", (int)m->upgrade.len,
			    m->upgrade.p);
	} else {
		switch (m->framing) {
		case H1_BODY_LENGTH:
			buf_appends(o, "content-length: ");
			buf_append_u64(o, m->content_length);
			buf_appends(o, "\r\n");
			break;
		case H1_BODY_CHUNKED:
		case H1_BODY_EOF:
			if (c->minor == 1) {
				c->rs_chunk_out = true;
				buf_appends(o, "transfer-encoding: chunked\r\n");
			} else {
				c->keepalive = false;	// close-delimited for HTTP/1.0
			}
			break;
		case H1_BODY_NONE:
			break;
		}
		if (!c->keepalive || __atomic_load_n(&c->w->draining, __ATOMIC_RELAXED)) {
			c->keepalive = false;
			buf_appends(o, "connection: close\r\n");
		}
	}
	for (int k = 0; k < 2; k++)
		if (rs_ops[k])
			ops_emit(o, rs_ops[k]);
	buf_appends(o, "x-envoy-upstream-service-time: ");
	buf_append_u64(o, (c->upstream_head_ns - c->upstream_sent_ns) / 1000000);
	buf_appends(o, "\r\nserver: envoy\r\n\r\n");
	c->rs_bytes += buf_avail(o) - before;
	if (c->parent)
		h2down_respond(c, buf_head(o), buf_avail(o), m->framing == H1_BODY_NONE ||
			       (m->framing == H1_BODY_LENGTH && !m->content_length));
}

// response_body forwards response body bytes; returns bytes used or -1.
static ssize_t response_body(struct hconn *c, const char *p, size_t len)
{
	struct sock *d = &c->s;

	switch (c->rs_framing) {
	case H1_BODY_LENGTH: {
		size_t n = len < c->rs_remaining ? len : (size_t)c->rs_remaining;

		if (c->parent)
			h2down_write(c, p, n);
		else
			buf_append(sock_out(d), p, n);
		c->rs_remaining -= n;
		c->rs_bytes += n;
		if (!c->rs_remaining)
			c->rs_done = true;
		return (ssize_t)n;
	}
	case H1_BODY_CHUNKED: {
		struct chunk_sink k = { c, d, c->rs_chunk_out, &c->rs_zero_written, 0 };
		struct h1_chunked_out out = { sink_data, sink_trailer, &k };
		int done = 0;
		ssize_t r = h1_chunked_feed(&c->rs_chunked, p, len, &out, &done);

		if (r < 0)
			return -1;
		c->rs_bytes += k.bytes;
		if (done) {
			sink_end(&k);
			c->rs_done = true;
		}
		return r;
	}
	case H1_BODY_EOF: {
		struct chunk_sink k = { c, d, c->rs_chunk_out, &c->rs_zero_written, 0 };

		sink_data(&k, p, len);
		c->rs_bytes += len;
		return (ssize_t)len;
	}
	case H1_BODY_NONE:
		return 0;
	}
	return 0;
}

static void upstream_protocol_error(struct hconn *c, const char *why)
{
	metrics_inc(c->w->metrics, MC_UPSTREAM_BAD_RESPONSE, 1);
	log_ratelimited(LOG_WARN, NULL, "upstream %s: %s, answered 502",
			c->ep ? c->ep->addr_str : "?", why);
	c->up_reusable = false;
	local_reply(c, 502, "UPE", "upstream_protocol_error", "upstream protocol error", false);
}

// response_head parses what accumulated in up->in; returns bytes of up->in
// used, or -1 when the transaction ended.
static void response_input(struct hconn *c, const char *p, size_t len)
{
	struct upconn *up = c->up;

	while (len && c->up == up && !c->rs_done) {
		if (!c->rs_head_sent) {
			struct h1_msg *m = &c->w->scratch;
			const char *h;
			size_t hl;
			ssize_t end;
			size_t mlen;

			if (buf_append(&up->in, p, len) < 0) {
				upstream_protocol_error(c, "out of memory");
				return;
			}
			p = NULL;
			len = 0;
			h = buf_head(&up->in);
			hl = buf_avail(&up->in);
			end = h1_head_end(h, hl, &up->scanned);
			if (end == -EAGAIN) {
				if (hl > H1_MAX_HEAD_BYTES)
					upstream_protocol_error(c, "response head too large");
				return;
			}
			mlen = 0;
			if (end < 0 || (size_t)end > H1_MAX_HEAD_BYTES ||
			    h1_parse_response(m, h, (size_t)end,
					      (struct h1_str){ meta_str(c, c->m_method, &mlen),
							       (uint32_t)c->m_method.len }) < 0) {
				upstream_protocol_error(c, "malformed response head");
				return;
			}
			up->scanned = 0;
			if (m->status < 200 && m->status != 101) {
				// interim: 100 goes to a client that asked for it
				if (++c->num_1xx > MAX_1XX) {
					upstream_protocol_error(c, "too many interim responses");
					return;
				}
				if (m->status == 100 && c->expect_continue) {
					buf_appends(sock_out(&c->s), "HTTP/1.1 100 Continue\r\n\r\n");
					sock_flush(&c->s);
				}
				buf_consume(&up->in, (size_t)end);
				if (buf_avail(&up->in)) {
					// continue with the rest as fresh input
					struct buf rest = up->in;

					buf_init(&up->in);
					response_input(c, buf_head(&rest), buf_avail(&rest));
					buf_cleanup(&rest);
				}
				return;
			}
			if (m->status == 101 && !c->upgrade) {
				upstream_protocol_error(c, "101 to a request that did not upgrade");
				return;
			}
			ring_timer_cancel(&c->w->ring, &c->rq_timer);
			c->upstream_head_ns = clock_mono_ns();
			c->status = m->status;
			c->rs_framing = m->framing;
			c->rs_remaining = m->content_length;
			if (m->framing == H1_BODY_CHUNKED)
				h1_chunked_init(&c->rs_chunked);
			if ((m->flags & H1F_CONN_CLOSE) || m->framing == H1_BODY_EOF ||
			    (m->minor == 0 && !(m->flags & H1F_CONN_KEEPALIVE)))
				c->up_reusable = false;
			write_response_head(c, m);
			c->rs_head_sent = true;
			c->flags = "-";
			c->details = "via_upstream";
			if (m->status == 101) {
				c->state = DS_TUNNEL;
				c->rq_done = true;
				c->up_reusable = false;
			} else if (m->framing == H1_BODY_NONE ||
				   (m->framing == H1_BODY_LENGTH && !m->content_length)) {
				c->rs_done = true;
			}
			// body bytes that came with the head
			{
				struct buf rest = up->in;

				rest.off += (size_t)end;
				buf_init(&up->in);
				if (buf_avail(&rest)) {
					if (c->state == DS_TUNNEL)
						sock_send(&c->s, buf_head(&rest), buf_avail(&rest));
					else if (!c->rs_done)
						response_input(c, buf_head(&rest), buf_avail(&rest));
					else
						c->up_reusable = false;	// bytes past the response
				}
				buf_cleanup(&rest);
			}
			break;
		}
		if (c->state == DS_TUNNEL) {
			sock_send(&c->s, p, len);
			return;
		}
		{
			ssize_t n = response_body(c, p, len);

			if (n < 0) {
				c->up_reusable = false;
				c->flags = "UPE";
				conn_close(c);
				return;
			}
			if ((size_t)n < len)
				c->up_reusable = false;	// bytes past the response
			len = 0;
		}
	}
	if (c->up == up || c->state != DS_CLOSED)
		ds_flush(c);
	if (c->rs_done && c->state != DS_CLOSED && c->state != DS_LINGER) {
		if (c->rq_done)
			finish_transaction(c);
		else if (c->up) {
			// answered before the whole request body: that body is not
			// going to be read, so neither connection can be reused
			c->up_reusable = false;
			c->keepalive = false;
			finish_transaction(c);
		}
	}
}

// ---- an HTTP/2 upstream stream's response (h2up.c) -------------------------------

// response_complete ends the transaction once the response is whole.
static void response_complete(struct hconn *c)
{
	if (c->state == DS_CLOSED || c->state == DS_LINGER)
		return;
	if (!c->rq_done) {
		// answered before the whole request body: it will not be read
		c->up_reusable = false;
		c->keepalive = false;
	}
	finish_transaction(c);
}

void http_upstream_h2_head(struct hconn *c, const struct h1_msg *m)
{
	if (c->state == DS_CLOSED || c->state == DS_LINGER || c->rs_head_sent)
		return;
	ring_timer_cancel(&c->w->ring, &c->rq_timer);
	c->upstream_head_ns = clock_mono_ns();
	c->status = m->status;
	c->rs_framing = m->framing;
	c->rs_remaining = m->content_length;
	write_response_head(c, m);
	c->rs_head_sent = true;
	c->flags = "-";
	c->details = "via_upstream";
	ds_flush(c);
	if (m->framing == H1_BODY_NONE || (m->framing == H1_BODY_LENGTH && !m->content_length)) {
		c->rs_done = true;
		response_complete(c);
	}
}

void http_upstream_h2_data(struct hconn *c, const char *p, size_t len)
{
	if (c->state == DS_CLOSED || c->state == DS_LINGER || !c->rs_head_sent || c->rs_done)
		return;
	if (c->rs_framing == H1_BODY_LENGTH || c->rs_framing == H1_BODY_EOF)
		response_body(c, p, len);
	ds_flush(c);
	if (c->rs_done) {
		response_complete(c);
		return;
	}
	h2up_consume(c);
}

void http_upstream_h2_trailer(struct hconn *c, const char *name, size_t name_len,
			      const char *value, size_t value_len)
{
	struct chunk_sink k = { c, &c->s, c->rs_chunk_out, &c->rs_zero_written, 0 };

	if (c->state == DS_CLOSED || c->state == DS_LINGER || !c->rs_head_sent || c->rs_done)
		return;
	sink_trailer(&k, name, name_len, value, value_len);
}

void http_upstream_h2_end(struct hconn *c)
{
	struct chunk_sink k = { c, &c->s, c->rs_chunk_out, &c->rs_zero_written, 0 };

	if (c->state == DS_CLOSED || c->state == DS_LINGER || c->rs_done)
		return;
	if (!c->rs_head_sent) {
		upstream_protocol_error(c, "HTTP/2 stream ended without a response");
		return;
	}
	if (c->rs_framing == H1_BODY_LENGTH && c->rs_remaining) {
		c->flags = "UPE";
		conn_close(c);	// the codec checks content-length; never a short 200
		return;
	}
	sink_end(&k);
	c->rs_done = true;
	ds_flush(c);
	response_complete(c);
}

void http_upstream_interim(struct hconn *c, int status)
{
	if (status == 100 && c->expect_continue && !c->parent && !c->rs_head_sent &&
	    c->state != DS_CLOSED && c->state != DS_LINGER) {
		buf_appends(sock_out(&c->s), "HTTP/1.1 100 Continue\r\n\r\n");
		sock_flush(&c->s);
	}
}

void http_upstream_data(struct hconn *c, const char *p, size_t len)
{
	if (c->state == DS_CLOSED || c->state == DS_LINGER)
		return;
	response_input(c, p, len);
	update_flow(c);
}

void http_upstream_eof(struct hconn *c, int err)
{
	struct upconn *up = c->up;

	if (c->state == DS_TUNNEL) {
		// half-close toward the client; the tunnel ends when both are done
		sock_shutdown_wr(&c->s);
		if (c->peer_eof) {
			c->rs_done = true;
			conn_close(c);
		}
		return;
	}
	c->up_reusable = false;
	if (c->rs_head_sent && c->rs_framing == H1_BODY_EOF && !err) {
		struct chunk_sink k = { c, &c->s, c->rs_chunk_out, &c->rs_zero_written, 0 };

		sink_end(&k);
		ds_flush(c);
		c->rs_done = true;
		if (c->rq_done)
			finish_transaction(c);
		else {
			c->keepalive = false;
			finish_transaction(c);
		}
		return;
	}
	if (c->rs_head_sent) {
		// truncated body: the client must see the failure, not a short 200
		c->flags = "UC";
		conn_close(c);
		return;
	}
	if (up && up->reused && !up->got_bytes && !c->rq_body_sent &&
	    c->reuse_retries < MAX_REUSE_RETRIES) {
		// A pooled connection the upstream had closed: nothing of the
		// request was processed, so replay it on a fresh connection.
		c->reuse_retries++;
		upstream_abort(up);
		c->up = NULL;
		c->state = DS_UPSTREAM;
		c->failed_ep = NULL;
		upstream_acquire(c);
		return;
	}
	log_ratelimited(LOG_WARN, NULL, "upstream %s: connection closed before the response "
			"(%s), answered 503", c->ep ? c->ep->addr_str : "?",
			err ? strerror(-err) : "eof");
	local_reply(c, 503, "UC", "upstream_reset_before_response_started{connection_termination}",
		    "upstream connect error or disconnect/reset before headers. reset reason: "
		    "connection termination", false);
}

void http_upstream_reset(struct hconn *c, uint32_t code)
{
	bool refused = code == H2_REFUSED_STREAM;

	c->up_reusable = false;
	if (c->rs_head_sent) {
		// mid-body: the client must see the failure, not a short answer
		c->flags = "UR";
		conn_close(c);
		return;
	}
	log_ratelimited(LOG_WARN, NULL, "upstream %s: stream reset before the response (HTTP/2 "
			"error 0x%x), answered 503", c->ep ? c->ep->addr_str : "?", code);
	// Envoy's words for an upstream RST_STREAM
	local_reply(c, 503, "UR", refused ?
		    "upstream_reset_before_response_started{remote_refused_stream_reset}" :
		    "upstream_reset_before_response_started{remote_reset}",
		    refused ? "upstream connect error or disconnect/reset before headers. reset "
			      "reason: remote refused stream reset" :
			      "upstream connect error or disconnect/reset before headers. reset "
			      "reason: remote reset", false);
}

void http_upstream_drained(struct hconn *c)
{
	if (c->parent)
		h2down_pump(c);
	update_flow(c);
}

// ---- downstream socket callbacks ------------------------------------------

static void hc_handshake(struct sock *s, struct tls_conn *t, int err);

// hc_tls_accept starts the server handshake, if the worker admits one more
// (flood shedding), with the first bytes already read.
static int hc_tls_accept(struct hconn *c, struct tls_server *srv, const char *p, size_t len)
{
	struct worker *w = c->w;

	if (!w->cur || !worker_hs_admit(w, w->cur->snap))
		return -EBUSY;
	c->hs_pending = true;
	return tls_accept(&c->s, srv, hc_handshake, p, len);
}

int permissive_sniff(const char *p, size_t len)
{
	char sni[256];
	bool istio;
	int r = tls_sniff(p, len);

	if (r <= 0)
		return r;
	r = tls_sniff_hello(p, len, sni, sizeof(sni), &istio);
	if (r < 0)
		return r == -EAGAIN && len >= SNIFF_MAX ? -EBADMSG : r;
	return istio ? 1 : 2;
}

// start_raw turns a captured connection into a byte tunnel to cluster cl
// (accounted as TCP): on inbound, TLS without an Istio ALPN goes to the
// application untouched, as Istio's inbound passthrough does; on outbound,
// TLS by its SNI and other bytes by their original destination. NULL cl is
// the policy's answer for an unknown destination: PassthroughCluster under
// ALLOW_ANY, else BlackHoleCluster: closed with no data. what says what was
// seen, for the log.
static void start_raw(struct hconn *c, const struct snap_cluster *cl, const char *what)
{
	struct worker *w = c->w;
	const struct snapshot *s;

	ring_timer_cancel(&w->ring, &c->timer);
	c->raw = true;
	c->start_ns = clock_mono_ns();
	c->start_wall_ns = clock_wall_ns();
	c->rq_done = true;		// no HTTP request to finish
	c->rs_head_sent = true;		// and no HTTP answer to give
	c->keepalive = false;
	worker_snap_acquire(w, &c->hold);
	s = c->hold->snap;
	if (!cl)
		cl = s->outbound_policy == SNAP_ALLOW_ANY ? &s->passthrough : &s->blackhole;
	c->cluster = od_target(c, cl);
	if (c->cluster->kind == CLUSTER_BLACKHOLE || !c->cluster->num_eps) {
		const char *labels[IL_COUNT];

		metrics_inc(w->metrics, c->cluster->kind == CLUSTER_BLACKHOLE ? MC_BLACKHOLE :
			    MC_NO_HEALTHY, 1);
		log_ratelimited(LOG_INFO, NULL, "egress: %s to %s is %s, closing", what,
				c->od_ep.addr_str, c->cluster->kind == CLUSTER_BLACKHOLE ?
				"not in the registry (REGISTRY_ONLY, BlackHoleCluster)" :
				"a service without endpoints");
		c->flags = "UH";
		raw_labels(c, labels);
		metrics_tcp_opened(w->metrics, labels);
		c->state = DS_TUNNEL;	// so the close counts it closed too
		conn_close(c);
		return;
	}
	// the sniffed bytes go first; more wait until the tunnel stands
	buf_append(&c->rq_head, buf_head(&c->sniff), buf_avail(&c->sniff));
	c->sniff.off = c->sniff.len = 0;
	c->paused = true;
	sock_recv_stop(&c->s);
	start_upstream(c);
}

// looks_http says whether p[0..len) starts an HTTP/1.x request (a method
// token, a space): 1 yes, 0 no, -EAGAIN too short to say.
static int looks_http(const char *p, size_t len)
{
	for (size_t i = 0; i < len && i < 24; i++) {
		if (p[i] == ' ')
			return i ? 1 : 0;
		if (p[i] < 'A' || p[i] > 'Z')
			return 0;
	}
	return len < 24 ? -EAGAIN : 0;
}

// detect classifies a captured outbound connection by its first bytes, as
// Envoy's http_inspector and tls_inspector do: HTTP is routed by Host
// request by request; TLS by its SNI (peeked, not terminated) to that
// service's port; anything else by the original destination's address
// (ServiceEntry addresses).
static void detect(struct hconn *c, const char *data, size_t len)
{
	const struct snapshot *s = c->w->cur->snap;
	char sni[256], what[300];
	bool istio;
	int r;

	if (len && buf_append(&c->sniff, data, len) < 0) {
		conn_close(c);
		return;
	}
	data = buf_head(&c->sniff);
	len = buf_avail(&c->sniff);
	r = tls_sniff(data, len);
	if (r == 1) {
		r = tls_sniff_hello(data, len, sni, sizeof(sni), &istio);
		if (r == -EAGAIN && len < SNIFF_MAX && c->detect)
			return;
		c->detect = false;
		if (r < 0 || !sni[0]) {
			start_raw(c, snapshot_find_addr(s, &c->od_ep.addr), "TLS without SNI");
			return;
		}
		for (char *q = sni; *q; q++)
			*q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
		{
			const struct snap_vhost *vh = snapshot_find_vhost(s, sni, strlen(sni));
			const struct snap_cluster *cl = NULL;

			for (uint32_t i = 0; vh && vh->service && i < vh->service->num_ports; i++)
				if (vh->service->ports[i] == od_port(c))
					cl = snap_cluster_of(s, vh->service->port_clusters[i]);
			snprintf(what, sizeof(what), "TLS for SNI %s", sni);
			start_raw(c, cl, what);
		}
		return;
	}
	r = r == 0 ? looks_http(data, len) : r;
	if (r == -EAGAIN && c->detect)
		return;		// the detection timer bounds the wait
	c->detect = false;
	if (r == 1) {
		struct buf first = c->sniff;
		const struct snapshot *cur = c->w->cur ? c->w->cur->snap : NULL;

		buf_init(&c->sniff);
		ring_timer_set(&c->w->ring, &c->timer, cur ? cur->header_timeout_ms : 10000,
			       header_timeout);
		feed(c, buf_head(&first), buf_avail(&first));
		buf_cleanup(&first);
		return;
	}
	start_raw(c, snapshot_find_addr(s, &c->od_ep.addr),
		  len ? "a connection that is neither HTTP nor TLS" : "a connection that sent nothing");
}

// detect_timeout: a client that says nothing (a server-first protocol)
// goes by its original destination.
static void detect_timeout(struct ring_timer *t)
{
	struct hconn *c = container_of(t, struct hconn, timer);

	if (!c->detect)
		return;
	c->detect = false;
	detect(c, NULL, 0);
}

// sniff runs on a PERMISSIVE inbound listener until the first bytes tell
// mesh mTLS from plaintext. An HTTP listener that does not know the
// original destination cannot pass TLS through untouched (it routes on what
// it reads), so TLS without an Istio ALPN is refused there; an original_dst
// listener tunnels it to the application port, as Istio does.
static void sniff(struct hconn *c, const char *data, size_t len)
{
	struct tls_server *srv = c->sniff_srv;
	int r;

	if (buf_append(&c->sniff, data, len) < 0) {
		conn_close(c);
		return;
	}
	r = permissive_sniff(buf_head(&c->sniff), buf_avail(&c->sniff));
	if (r == -EAGAIN)
		return;		// the header timeout bounds the wait
	c->sniff_srv = NULL;
	if (r == 1) {
		struct buf first = c->sniff;

		buf_init(&c->sniff);
		if (hc_tls_accept(c, srv, buf_head(&first), buf_avail(&first)) < 0)
			conn_close(c);
		buf_cleanup(&first);
	} else if (r == 0) {
		struct buf first = c->sniff;

		buf_init(&c->sniff);
		feed(c, buf_head(&first), buf_avail(&first));
		buf_cleanup(&first);
	} else if (r == 2 && c->inbound) {
		start_raw(c, &c->w->cur->snap->inbound_passthrough, "TLS without an Istio ALPN");
	} else {
		log_ratelimited(LOG_INFO, NULL, "inbound: %s on a PERMISSIVE HTTP listener, closing",
				r == 2 ? "TLS without an Istio ALPN" : "a malformed TLS hello");
		metrics_inc(c->w->metrics, MC_BLACKHOLE, 1);
		conn_close(c);
	}
	tls_server_unref(srv);
}

static void hc_recv(struct sock *s, const char *data, size_t len)
{
	struct hconn *c = hc_of(s);

	if (c->h2) {
		h2down_input(c, data, len);
		return;
	}
	if (c->sniff_srv) {
		sniff(c, data, len);
		return;
	}
	if (c->detect) {
		detect(c, data, len);
		return;
	}
	if (c->raw && c->state == DS_UPSTREAM) {
		// still connecting: bytes that were already on their way
		if (buf_append(&c->rq_head, data, len) < 0)
			conn_close(c);
		return;
	}
	switch (c->state) {
	case DS_LINGER:
	case DS_CLOSED:
		return;
	case DS_TUNNEL:
		if (c->up) {
			sock_send(&c->up->s, data, len);
			update_flow(c);
		}
		return;
	default:
		feed(c, data, len);
	}
}

static void hc_eof(struct sock *s, int err)
{
	struct hconn *c = hc_of(s);

	c->peer_eof = true;
	if (c->h2) {
		h2down_eof(c, err);
		return;
	}
	if (c->detect && !err && buf_avail(&c->sniff)) {
		// the client said all it will: decide on what it sent
		c->detect = false;
		detect(c, NULL, 0);
		return;
	}
	switch (c->state) {
	case DS_HEAD:
		conn_close(c);
		return;
	case DS_LINGER:
		close_flushing(c);
		return;
	case DS_TUNNEL:
		if (c->up)
			sock_shutdown_wr(&c->up->s);
		if (!c->up || (c->up->s.flags & SOCK_EOF)) {
			c->rs_done = true;
			conn_close(c);
		}
		return;
	case DS_CLOSED:
		return;
	default:
		if (err || !c->rq_done) {
			metrics_inc(c->w->metrics, MC_DOWNSTREAM_RESET, 1);
			c->flags = "DC";
			conn_close(c);
			return;
		}
		// request complete, client half-closed: finish the response
		c->keepalive = false;
	}
}

static void hc_send_error(struct sock *s, int err)
{
	struct hconn *c = hc_of(s);

	if (c->state == DS_CLOSED)
		return;
	if (c->start_ns && !c->rs_done)
		c->flags = "DC";
	c->peer_eof = true;
	if (c->state == DS_LINGER) {
		c->state = DS_HEAD;	// let conn_close run its course
		c->start_ns = 0;
	}
	conn_close(c);
}

static void hc_drained(struct sock *s)
{
	update_flow(hc_of(s));
}

static void hc_closed(struct sock *s)
{
	struct hconn *c = hc_of(s);

	h2down_free(c);
	list_del(&c->h2_link);
	ring_timer_cancel(&c->w->ring, &c->timer);
	ring_timer_cancel(&c->w->ring, &c->rq_timer);
	ring_timer_cancel(&c->w->ring, &c->dl_timer);
	list_del(&c->link);
	c->w->num_conns--;
	metrics_gauge_add(c->w->metrics, MC_DOWNSTREAM_ACTIVE, -1);
	buf_cleanup(&c->in);
	buf_cleanup(&c->rq_head);
	buf_cleanup(&c->meta);
	buf_cleanup(&c->sniff);
	if (c->sniff_srv)
		tls_server_unref(c->sniff_srv);
	if (c->hs_pending)
		worker_hs_done(c->w);
	free(c);
}

static void hc_handshake(struct sock *s, struct tls_conn *t, int err)
{
	struct hconn *c = (struct hconn *)s;

	if (c->hs_pending) {
		c->hs_pending = false;
		worker_hs_done(c->w);
	}
	if (!err)
		c->tls = t;
	// a failed handshake ends in .eof(-EPROTO), which closes
}

static const struct sock_ops hc_ops = {
	.recv = hc_recv,
	.eof = hc_eof,
	.drained = hc_drained,
	.send_error = hc_send_error,
	.closed = hc_closed,
};

void http_accept(struct wlistener *l, int fd)
{
	struct worker *w = l->w;
	struct hconn *c = calloc(1, sizeof(*c));
	socklen_t len = sizeof(c->peer);

	if (!c) {
		close(fd);
		return;
	}
	sock_init(&c->s, &w->ring, fd, &hc_ops);
	c->w = w;
	c->l = l;
	list_init(&c->h2_link);
	getpeername(fd, (struct sockaddr *)&c->peer, &len);
	len = sizeof(c->local);
	getsockname(fd, (struct sockaddr *)&c->local, &len);
	{
		const struct snapshot *s = w->cur ? w->cur->snap : NULL;
		const struct snap_listener *sl = s && l->idx < s->num_listeners ?
						 &s->listeners[l->idx] : NULL;

		if (sl && sl->original_dst) {
			int r = original_dst(fd, &c->local, &c->od_ep);

			if (r < 0) {
				metrics_inc(w->metrics, MC_NO_ORIGINAL_DST, 1);
				log_ratelimited(LOG_INFO, NULL, "inbound %s: no original destination "
						"(%s), closing", sl->name, r == -ELOOP ?
						"not redirected" : strerror(-r));
				close(fd);
				free(c);
				return;
			}
			c->od = true;
			c->inbound = sl->role == ROLE_INBOUND;
			c->detect = !c->inbound;
		}
		int pa = sl ? listener_peer_auth(sl, c->od ? &c->od_ep : NULL) : SNAP_PA_NONE;

		// TLS first: the filter sits under everything else
		if (sl && sl->tls && pa == SNAP_PA_PERMISSIVE) {
			c->sniff_srv = sl->tls;
			tls_server_ref(c->sniff_srv);
		} else if (sl && sl->tls && pa != SNAP_PA_DISABLE &&
			   hc_tls_accept(c, sl->tls, NULL, 0) < 0) {
			if (c->hs_pending)
				worker_hs_done(w);
			close(fd);
			free(c);
			return;
		}
	}
	c->state = DS_HEAD;
	c->keepalive = true;
	c->up_reusable = true;
	list_add_tail(&w->conns, &c->link);
	w->num_conns++;
	metrics_inc(w->metrics, MC_ACCEPTED, 1);
	metrics_gauge_add(w->metrics, MC_DOWNSTREAM_ACTIVE, 1);
	arm_idle(c);
	// the first request is expected promptly: slowloris starts here
	c->head_started = true;
	{
		const struct snapshot *s = w->cur ? w->cur->snap : NULL;

		if (c->detect)
			ring_timer_set(&w->ring, &c->timer, DETECT_TIMEOUT_MS, detect_timeout);
		else
			ring_timer_set(&w->ring, &c->timer, s ? s->header_timeout_ms : 10000,
				       header_timeout);
	}
	sock_recv_start(&c->s);
}

void http_drain(struct worker *w)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &w->conns) {
		struct hconn *c = list_entry(pos, struct hconn, link);

		if (c->h2)
			h2down_drain(c);	// GOAWAY; open streams finish
		else if (c->state == DS_HEAD && !buf_avail(&c->in))
			conn_close(c);
		else
			c->keepalive = false;
	}
	upstream_close_idle(w);
}

void http_close_all(struct worker *w)
{
	static const char *const names[] = { "head", "upstream", "active", "tunnel",
					     "linger", "closed" };
	struct list *pos, *tmp;
	unsigned n[DS_CLOSED + 1] = { 0 };

	list_for_each_safe(pos, tmp, &w->conns)
		n[list_entry(pos, struct hconn, link)->state]++;
	for (int i = 0; i <= DS_CLOSED; i++)
		if (n[i])
			log_emit(LOG_WARN, NULL, "drain: closing %u connection(s) in state %s",
				 n[i], names[i]);
	list_for_each_safe(pos, tmp, &w->conns) {
		struct hconn *c = list_entry(pos, struct hconn, link);

		if (c->state == DS_CLOSED) {
			sock_close(&c->s, false);	// still flushing: give up on it
			continue;
		}
		if (c->state == DS_LINGER) {
			// conn_close skips lingering ones; end them too
			ring_timer_cancel(&w->ring, &c->timer);
			c->state = DS_HEAD;
		}
		conn_close(c);
	}
	upstream_close_idle(w);
	h2up_close_idle(w, true);
}
