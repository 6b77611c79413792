// SPDX-License-Identifier: Apache-2.0
// h2down.c: HTTP/2 toward the client. A downstream connection whose first
// bytes are the HTTP/2 preface (prior knowledge, Envoy's AUTO codec) or
// whose TLS handshake chose h2/istio-h2 by ALPN runs an h2_conn session;
// every request stream becomes an hconn of its own carrying one
// transaction through http.c's pipeline (routing, upstream pool, local
// replies, metrics), exactly as an HTTP/1.1 request does. This file
// translates: the request's header block into an h1_msg, its DATA into
// the upstream body (Content-Length or chunked), and the response head,
// body and trailers back into HEADERS, DATA and trailing HEADERS.
//
// Flow control is end to end: request bytes are consumed (their window
// reopened) only as they enter the upstream socket's queue, and the
// upstream's recv is paused while a stream's response buffer is full.
//
// Lifetime: codec callbacks may run inside h2_conn_input (from the
// connection's recv) and h2_conn_flush (from h2down_service, after each
// ring turn); nowhere else can a stream close, so a stream hconn is freed
// only there, never under transaction code that still uses it.
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/bug.h"
#include "core/log.h"
#include "proto/h2.h"
#include "proto/tls.h"
#include "proxy.h"

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
enum { PREFACE_LEN = sizeof(preface) - 1 };

static void mark(struct hconn *c)
{
	if (c->state == DS_CLOSED || !c->h2 || !list_empty(&c->h2_link))
		return;
	list_add_tail(&c->w->h2_dirty, &c->h2_link);
}

static void stream_free(struct hconn *t)
{
	ring_timer_cancel(&t->w->ring, &t->rq_timer);
	ring_timer_cancel(&t->w->ring, &t->dl_timer);
	buf_cleanup(&t->in);
	buf_cleanup(&t->rq_head);
	buf_cleanup(&t->meta);
	buf_cleanup(&t->sniff);
	buf_cleanup(&t->rs_pending);
	buf_cleanup(&t->rs_trailers);
	free(t);
}

enum { H2_SETTINGS_ACK_MS = 10000 };	// a client that never acks our SETTINGS (hardening.md)

static void idle_timeout(struct ring_timer *tm);

// rearm runs the connection's one timer to the nearer of its idle deadline
// (when no stream is open) and the SETTINGS-ack deadline.
static void rearm(struct hconn *c)
{
	uint64_t now = c->w->ring.now_ms, due = UINT64_MAX;

	if (!c->h2_streams)
		due = c->h2_idle_due_ms;
	if (c->h2_settings_due_ms && c->h2_settings_due_ms < due)
		due = c->h2_settings_due_ms;
	if (due == UINT64_MAX)
		ring_timer_cancel(&c->w->ring, &c->timer);
	else
		ring_timer_set(&c->w->ring, &c->timer, due > now ? due - now : 1, idle_timeout);
}

static void idle_timeout(struct ring_timer *tm)
{
	struct hconn *c = container_of(tm, struct hconn, timer);
	uint64_t now = c->w->ring.now_ms;
	uint32_t code = H2_NO_ERROR;

	if (!c->h2)
		return;
	if (c->h2_settings_due_ms && h2_conn_settings_acked(c->h2))
		c->h2_settings_due_ms = 0;
	if (c->h2_settings_due_ms && now >= c->h2_settings_due_ms) {
		// RFC 9113 6.5.3: SETTINGS_TIMEOUT, whatever the streams
		log_ratelimited(LOG_WARN, NULL, "http2: client never acknowledged SETTINGS in %u ms; "
				"GOAWAY SETTINGS_TIMEOUT", H2_SETTINGS_ACK_MS);
		metrics_inc(c->w->metrics, MC_H2_PROTOCOL_ERROR, 1);
		code = H2_SETTINGS_TIMEOUT;
	} else if (c->h2_streams || now < c->h2_idle_due_ms) {
		rearm(c);
		return;
	}
	h2_conn_goaway(c->h2, code);
	h2_conn_flush(c->h2, sock_out(&c->s));
	h2down_free(c);
	http_close_flushing(c);
}

static void arm_idle(struct hconn *c)
{
	const struct snapshot *s = c->w->cur ? c->w->cur->snap : NULL;

	c->h2_idle_due_ms = c->w->ring.now_ms + (s ? s->idle_timeout_ms : 3600000);
	rearm(c);
}

// ---- request: codec callbacks -----------------------------------------------

static bool is_pseudo(const struct h2_header *h, const char *name)
{
	return !strcmp(h->name, name);
}

// bad_path: the :path goes onto an HTTP/1.1 request line, where a space,
// a control or a non-ASCII byte would change its meaning.
static bool bad_path(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return true;
	return false;
}

// to_h1 describes the HTTP/2 request as the h1_msg http.c routes: the
// pseudo-headers become the request line and Host, cookies are joined
// into one field (RFC 9113 8.2.3), and fields that mean nothing on the
// next hop are left out (expect: we do not relay interim responses over
// HTTP/2, so the upstream sends its answer at once).
static int to_h1(struct hconn *t, const struct h2_header *h, size_t num, bool end_stream,
		 struct h1_msg *m, struct buf *cookie)
{
	const struct h2_header *cl = NULL;

	memset(m, 0, offsetof(struct h1_msg, headers));
	m->minor = 1;
	m->num_connection = 0;	// after headers[]: a previous parse's otherwise
	m->head_len = 0;
	for (size_t i = 0; i < num; i++) {
		const struct h2_header *f = &h[i];
		struct h1_str v = { f->value, f->value_len };

		if (f->name[0] == ':') {
			if (is_pseudo(f, ":method"))
				m->method = v;
			else if (is_pseudo(f, ":path"))
				m->path = m->target = v;
			else if (is_pseudo(f, ":authority"))
				m->authority = v;
			continue;
		}
		if (!strcmp(f->name, "host")) {
			if (!m->authority.len)
				m->authority = v;
			continue;
		}
		if (!strcmp(f->name, "content-length")) {
			cl = f;
			continue;
		}
		if (!strcmp(f->name, "expect"))
			continue;
		if (!strcmp(f->name, "content-type") && f->value_len >= 16 &&
		    !strncmp(f->value, "application/grpc", 16))
			t->grpc = true;
		if (!strcmp(f->name, "cookie")) {
			if (buf_avail(cookie))
				buf_appends(cookie, "; ");
			buf_append(cookie, f->value, f->value_len);
			continue;
		}
		if (m->num_headers >= H1_MAX_HEADERS)
			return 431;
		m->headers[m->num_headers].name = (struct h1_str){ f->name, f->name_len };
		m->headers[m->num_headers++].value = v;
	}
	if (buf_avail(cookie)) {
		if (m->num_headers >= H1_MAX_HEADERS || buf_append(cookie, "", 1) < 0)
			return 431;
		m->headers[m->num_headers].name = (struct h1_str){ "cookie", 6 };
		m->headers[m->num_headers++].value =
			(struct h1_str){ buf_head(cookie), (uint32_t)buf_avail(cookie) - 1 };
	}
	if (!m->method.len || !m->path.len)
		return 501;	// CONNECT (no :path): no tunnels over HTTP/2 yet
	if (bad_path(m->path.p, m->path.len) || !m->authority.len)
		return 400;
	if (end_stream) {
		m->framing = H1_BODY_NONE;
	} else if (cl) {
		uint64_t n = 0;

		for (uint32_t i = 0; i < cl->value_len; i++) {
			if (cl->value[i] < '0' || cl->value[i] > '9' || n > UINT64_MAX / 10 - 9)
				return 400;
			n = n * 10 + (uint64_t)(cl->value[i] - '0');
		}
		if (!cl->value_len)
			return 400;
		m->framing = H1_BODY_LENGTH;
		m->content_length = n;
		m->flags |= H1F_CONTENT_LENGTH;
	} else {
		m->framing = H1_BODY_CHUNKED;
	}
	m->flags |= H1F_HOST;
	return 0;
}

static int on_headers(void *arg, struct h2_stream *s, const struct h2_header *h, size_t num,
		      bool end_stream)
{
	struct hconn *c = arg;
	struct hconn *t = calloc(1, sizeof(*t));
	struct h1_msg *m = &c->w->scratch;
	struct buf cookie;
	int status;

	if (!t)
		return -ENOMEM;
	t->w = c->w;
	t->l = c->l;
	t->parent = c;
	t->h2s = s;
	t->tls = c->tls;
	t->peer = c->peer;
	t->local = c->local;
	t->od = c->od;
	t->od_ep = c->od_ep;
	t->inbound = c->inbound;
	t->state = DS_HEAD;
	t->up_reusable = true;
	t->proto_known = true;
	list_init(&t->link);
	list_init(&t->h2_link);
	h2_stream_set_data(s, t);
	if (!c->h2_streams++)
		rearm(c);	// not idle now; the SETTINGS deadline may still run
	buf_init(&cookie);
	status = to_h1(t, h, num, end_stream, m, &cookie);
	if (status)
		http_bad_request(t, status);	// what an HTTP/1.1 request would get
	else
		http_start_request(t, m);
	buf_cleanup(&cookie);
	return 0;
}

static struct hconn *live(struct h2_stream *s)
{
	struct hconn *t = h2_stream_data(s);

	return t && t->state != DS_CLOSED ? t : NULL;
}

static int on_data(void *arg, struct h2_stream *s, const char *p, size_t len)
{
	struct hconn *t = live(s);

	(void)arg;
	if (!t || t->rq_done) {
		h2_stream_consume(s, len);	// nobody wants it: reopen the window
		return 0;
	}
	if (buf_append(&t->in, p, len) < 0)
		return -ENOMEM;
	h2down_pump(t);
	return 0;
}

static int on_trailers(void *arg, struct h2_stream *s, const struct h2_header *h, size_t num)
{
	struct hconn *t = live(s);

	(void)arg;
	if (!t || (t->rq_framing != H1_BODY_CHUNKED && !h2up_wanted(t)))
		return 0;	// an HTTP/1.1 Content-Length body has no place for them
	for (size_t i = 0; i < num; i++) {
		if (h[i].name[0] == ':')
			continue;
		buf_append(&t->sniff, h[i].name, h[i].name_len);
		buf_append(&t->sniff, ": ", 2);
		buf_append(&t->sniff, h[i].value, h[i].value_len);
		buf_append(&t->sniff, "\r\n", 2);
	}
	return 0;
}

static int on_end_stream(void *arg, struct h2_stream *s)
{
	struct hconn *t = live(s);

	(void)arg;
	if (!t)
		return 0;
	t->rq_eos = true;
	h2down_pump(t);
	return 0;
}

static void on_stream_close(void *arg, struct h2_stream *s, uint32_t error_code)
{
	struct hconn *c = arg;
	struct hconn *t = h2_stream_data(s);

	if (!t)
		return;
	t->h2s = NULL;
	if (t->state != DS_CLOSED) {
		// the client reset it (or the session ended) mid-transaction
		if (!t->flags && error_code != H2_NO_ERROR)
			t->flags = "DR";
		http_conn_close(t);
	}
	stream_free(t);
	if (!--c->h2_streams && c->h2 && c->state != DS_CLOSED)
		arm_idle(c);
}

// send_pending moves buffered response bytes into the stream as room
// allows, and ends the response once they are all in.
static void send_pending(struct hconn *t)
{
	size_t n = buf_avail(&t->rs_pending), room;

	if (!t->h2s)
		return;
	if (n) {
		room = h2_stream_out_space(t->h2s);
		if (room > n)
			room = n;
		if (room && h2_stream_write(t->h2s, buf_head(&t->rs_pending), room) == 0)
			buf_consume(&t->rs_pending, room);
		// more than there was room for: the codec's buffer is full
		// now, so this write is refused and asks for on_drain (when
		// the upstream, paused meanwhile, may go on)
		if (buf_avail(&t->rs_pending))
			h2_stream_write(t->h2s, buf_head(&t->rs_pending),
					buf_avail(&t->rs_pending));
	}
	if (!buf_avail(&t->rs_pending) && t->rs_end_wanted && !t->rs_ended) {
		struct h2_header tr[H2_MAX_TRAILERS];
		const char *q = t->rs_trailers.data;
		size_t k = 0;

		for (uint32_t i = 0; i < t->num_rs_trailers && k < H2_MAX_TRAILERS; i++) {
			size_t nl = strlen(q), vl = strlen(q + nl + 1);

			tr[k++] = (struct h2_header){ q, q + nl + 1, (uint32_t)nl, (uint32_t)vl };
			q += nl + vl + 2;
		}
		t->rs_ended = true;
		if (h2_stream_end(t->h2s, tr, k) < 0)
			h2_stream_reset(t->h2s, H2_INTERNAL_ERROR);
	}
	mark(t->parent);
}

static void on_drain(void *arg, struct h2_stream *s)
{
	struct hconn *t = h2_stream_data(s);

	(void)arg;
	if (!t)
		return;
	send_pending(t);
	if (t->state != DS_CLOSED)
		http_update_flow(t);
}

static const struct h2_callbacks callbacks = {
	.on_headers = on_headers,
	.on_data = on_data,
	.on_trailers = on_trailers,
	.on_end_stream = on_end_stream,
	.on_stream_close = on_stream_close,
	.on_drain = on_drain,
};

// ---- connection ---------------------------------------------------------------

static void session_ended(struct hconn *c)
{
	h2down_free(c);
	http_close_flushing(c);
}

static void start(struct hconn *c, const char *p, size_t len)
{
	struct h2_config cfg;

	h2_config_default(&cfg);
	cfg.manual_consume = true;
	c->proto_known = true;
	c->h2 = h2_conn_new(&cfg, &callbacks, c, sock_out(&c->s));
	if (!c->h2) {
		http_conn_close(c);
		return;
	}
	metrics_inc(c->w->metrics, MC_H2_CX, 1);
	c->state = DS_ACTIVE;
	c->rq_done = c->rs_done = true;	// the connection itself has no transaction
	c->h2_settings_due_ms = c->w->ring.now_ms + H2_SETTINGS_ACK_MS;
	arm_idle(c);
	h2down_input(c, p, len);
}

bool h2down_detect(struct hconn *c, const char *p, size_t len)
{
	const char *alpn = c->tls ? tls_conn_alpn(c->tls) : NULL;
	size_t have = buf_avail(&c->in), n;

	if (alpn && (!strcmp(alpn, "h2") || !strcmp(alpn, "istio-h2"))) {
		start(c, p, len);
		return true;
	}
	// prior knowledge: the preface, or a prefix of it still arriving
	n = have + len < PREFACE_LEN ? have + len : PREFACE_LEN;
	for (size_t i = 0; i < n; i++) {
		char b = i < have ? buf_head(&c->in)[i] : p[i - have];

		if (b != preface[i]) {
			c->proto_known = true;
			return false;
		}
	}
	if (n < PREFACE_LEN) {
		if (buf_append(&c->in, p, len) < 0)
			http_conn_close(c);
		return true;
	}
	if (have) {
		struct buf first = c->in;

		buf_init(&c->in);
		if (buf_append(&first, p, len) < 0) {
			buf_cleanup(&first);
			http_conn_close(c);
			return true;
		}
		start(c, buf_head(&first), buf_avail(&first));
		buf_cleanup(&first);
		return true;
	}
	start(c, p, len);
	return true;
}

void h2down_input(struct hconn *c, const char *p, size_t len)
{
	int r;

	if (!c->h2 || c->state == DS_CLOSED)
		return;
	r = h2_conn_input(c->h2, p, len, sock_out(&c->s));
	if (c->state == DS_CLOSED)
		return;
	sock_flush(&c->s);
	if (r < 0)
		session_ended(c);	// account() says why
}

void h2down_eof(struct hconn *c, int err)
{
	(void)err;
	h2down_free(c);
	http_conn_close(c);
}

void h2down_drained(struct hconn *c)
{
	mark(c);
}

void h2down_drain(struct hconn *c)
{
	if (c->h2 && h2_conn_shutdown(c->h2) == 0)
		mark(c);
}

// account adds a session's counters to the worker's, and says what a
// hostile client ran into.
static void account(struct hconn *c, struct h2_conn *h)
{
	const struct h2_stats *st = h2_conn_stats(h);
	struct metrics *m = c->w->metrics;

	metrics_inc(m, MC_H2_RX_RESET, st->resets_recv);
	metrics_inc(m, MC_H2_TX_RESET, st->resets_sent);
	metrics_inc(m, MC_H2_PREMATURE_RESET, st->premature_resets);
	metrics_inc(m, MC_H2_HEADER_OVERFLOW, st->header_overflows);
	metrics_inc(m, MC_H2_EMPTY_FRAMES, st->empty_frames);
	metrics_inc(m, MC_H2_REFUSED, st->refused);
	metrics_inc(m, MC_H2_PROTOCOL_ERROR, st->protocol_errors);
	metrics_inc(m, MC_H2_GOAWAY_SENT, st->goaway_sent);
	if (st->premature_resets >= H2_MAX_PREMATURE_RESETS)
		log_ratelimited(LOG_WARN, NULL, "downstream HTTP/2: %llu streams reset before "
				"their response (Rapid Reset), connection ended with GOAWAY",
				(unsigned long long)st->premature_resets);
	else if (st->protocol_errors || st->bad_preface)
		log_ratelimited(LOG_INFO, NULL, "downstream HTTP/2: %s, connection ended",
				st->bad_preface ? "bad connection preface" :
				"protocol error or flood");
}

void h2down_free(struct hconn *c)
{
	struct h2_conn *h = c->h2;

	if (!h)
		return;
	// streams close (their transactions with them) while the session is
	// still there for their callbacks; with c->h2 gone nothing marks the
	// connection or arms its idle timer meanwhile
	c->h2 = NULL;
	list_del(&c->h2_link);
	account(c, h);
	h2_conn_free(h);
}

void h2down_service(struct worker *w)
{
	while (!list_empty(&w->h2_dirty)) {
		struct hconn *c = list_first(&w->h2_dirty, struct hconn, h2_link);
		int r;

		list_del(&c->h2_link);
		if (!c->h2 || c->state == DS_CLOSED)
			continue;
		r = h2_conn_flush(c->h2, sock_out(&c->s));
		if (c->state == DS_CLOSED)
			continue;
		sock_flush(&c->s);
		if (r < 0)
			session_ended(c);
	}
}

// ---- stream: the transaction's side -----------------------------------------

// connection-specific fields (RFC 9113 8.2.2) never go into HTTP/2
static bool conn_specific(const char *n, size_t len)
{
	static const char *const names[] = { "connection", "keep-alive", "proxy-connection",
					     "transfer-encoding", "upgrade", "te" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && !strncasecmp(names[i], n, len))
			return true;
	return false;
}

int h2down_respond(struct hconn *t, const char *head, size_t len, bool end_stream)
{
	struct h2_header f[H1_MAX_HEADERS + 16];
	char status[4], *names, *np;
	const char *line = head, *end = head + len, *eol;
	size_t k = 1;
	int r;

	if (!t->h2s)
		return -EPIPE;
	// "HTTP/1.1 SSS reason"
	if (len < 12)
		return -EINVAL;
	memcpy(status, head + 9, 3);
	status[3] = '\0';
	f[0] = (struct h2_header){ ":status", status, 7, 3 };
	names = np = malloc(len);
	if (!names)
		return -ENOMEM;
	eol = memchr(line, '\n', len);
	for (line = eol ? eol + 1 : end; line < end && k < sizeof(f) / sizeof(f[0]); line = eol + 1) {
		const char *colon, *v;
		size_t nl;

		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol || eol == line + 1)
			break;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon)
			continue;
		nl = (size_t)(colon - line);
		if (conn_specific(line, nl))
			continue;
		for (size_t i = 0; i < nl; i++)
			np[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]);
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		f[k++] = (struct h2_header){ np, v, (uint32_t)nl, (uint32_t)(eol - 1 - v) };
		np += nl;
	}
	r = h2_stream_respond(t->h2s, f, k, end_stream);
	free(names);
	if (r == 0 && end_stream)
		t->rs_ended = true;
	mark(t->parent);
	return r;
}

void h2down_write(struct hconn *t, const char *p, size_t len)
{
	size_t room;

	if (!t->h2s || !len)
		return;
	if (!buf_avail(&t->rs_pending)) {
		// nothing waiting: straight into the codec, as much as fits
		room = h2_stream_out_space(t->h2s);
		if (room > len)
			room = len;
		if (room && h2_stream_write(t->h2s, p, room) == 0) {
			p += room;
			len -= room;
		}
		mark(t->parent);
		if (!len)
			return;
	}
	// the rest goes behind what is pending, in order
	if (buf_append(&t->rs_pending, p, len) < 0) {
		h2_stream_reset(t->h2s, H2_INTERNAL_ERROR);
		mark(t->parent);
		return;
	}
	send_pending(t);
}

void h2down_trailer(struct hconn *t, const char *name, size_t name_len, const char *value,
		    size_t value_len)
{
	if (t->num_rs_trailers >= H2_MAX_TRAILERS || conn_specific(name, name_len))
		return;
	for (size_t i = 0; i < name_len; i++) {
		char ch = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] + 32) : name[i];

		buf_append(&t->rs_trailers, &ch, 1);
	}
	buf_append(&t->rs_trailers, "", 1);
	buf_append(&t->rs_trailers, value, value_len);
	buf_append(&t->rs_trailers, "", 1);
	t->num_rs_trailers++;
}

void h2down_done(struct hconn *t, bool abort)
{
	t->state = DS_CLOSED;
	if (!t->h2s)
		return;
	if (abort) {
		h2_stream_reset(t->h2s, t->flags && !strcmp(t->flags, "DR") ? H2_CANCEL :
				H2_INTERNAL_ERROR);
	} else if (!t->rs_ended) {
		t->rs_end_wanted = true;
		send_pending(t);
	}
	mark(t->parent);
}

void h2down_pump(struct hconn *t)
{
	struct sock *up;
	bool moved = false;

	if (t->state != DS_ACTIVE || (!t->up && !t->ust) || t->rq_done)
		return;
	up = t->up ? &t->up->s : NULL;
	while (buf_avail(&t->in) && (up ? sock_pending(up) : h2up_pending(t)) < 64 * 1024) {
		size_t n = buf_avail(&t->in);

		if (n > 16384)
			n = 16384;
		if (t->rq_framing == H1_BODY_LENGTH) {
			size_t take = n < t->rq_remaining ? n : (size_t)t->rq_remaining;

			if (up)
				buf_append(sock_out(up), buf_head(&t->in), take);
			else
				h2up_write(t, buf_head(&t->in), take);
			t->rq_remaining -= take;
		} else if (up) {
			char line[24];
			size_t ln = h1_chunk_size_line(line, n);

			buf_append(sock_out(up), line, ln);
			buf_append(sock_out(up), buf_head(&t->in), n);
			buf_append(sock_out(up), "\r\n", 2);
		} else {
			h2up_write(t, buf_head(&t->in), n);	// HTTP/2 both ways: DATA is DATA
		}
		buf_consume(&t->in, n);
		t->rq_bytes += n;
		t->rq_body_sent = true;
		if (t->h2s)
			h2_stream_consume(t->h2s, n);
		moved = true;
	}
	if (moved)
		mark(t->parent);
	if (t->rq_eos && !buf_avail(&t->in)) {
		if (!up) {
			h2up_end(t);	// request trailers, if any, are in t->sniff
		} else if (t->rq_framing == H1_BODY_CHUNKED) {
			buf_appends(sock_out(up), "0\r\n");
			buf_append(sock_out(up), buf_head(&t->sniff), buf_avail(&t->sniff));
			buf_appends(sock_out(up), "\r\n");
		} else if (t->rq_remaining) {
			t->up_reusable = false;	// shorter than announced (the codec checks)
		}
		if (up)
			sock_flush(up);
		http_request_done(t);
		return;
	}
	if (moved && up)
		sock_flush(up);
}
