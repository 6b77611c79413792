// SPDX-License-Identifier: Apache-2.0
// h2up.c: HTTP/2 toward upstreams. Clusters whose port speaks HTTP2, GRPC
// or GRPC-WEB (or whose DestinationRule upgrades them) get multiplexed
// connections, per worker per endpoint, as Envoy's HTTP/2 pool: a request
// takes a stream on a ready connection that has room (the server's
// SETTINGS_MAX_CONCURRENT_STREAMS, the DestinationRule's
// maxConcurrentStreams), waits on one still connecting, or opens another.
// A connection that carried maxRequestsPerConnection streams, or got a
// GOAWAY, takes no more and closes when its last stream ends.
//
// The transaction (http.c) is the same as over HTTP/1.1: its upstream
// request head, built as HTTP/1.1 text, becomes the stream's header block
// here; its body goes in unframed; the response comes back through
// http_upstream_h2_* as a parsed head, raw body bytes, trailers and an end.
// Response bytes give their window back only as the client side takes
// them (h2up_consume), request bytes wait in rq_pending while the stream's
// buffer is full: a slow reader on either side slows the other.
//
// Like h2down.c, codec callbacks run only inside h2c_conn_input (the
// connection's recv) and h2c_conn_flush (h2up_service after each ring
// turn); a transaction that ends detaches from its stream first, so no
// callback reaches a transaction that is gone.
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/bug.h"
#include "core/log.h"
#include "proto/h2_client.h"
#include "proto/tls.h"
#include "proxy.h"

enum {
	H2UP_IDLE_TIMEOUT_MS = 3600 * 1000,	// Istio's default idleTimeout (1 h)
	H2UP_FLOW_HIGH = 64 * 1024,
};

struct h2up {
	struct sock s;			// first
	struct worker *w;
	struct ep_state *ep;		// NULL: not pooled (endpoint table full)
	struct h2c_conn *h2;		// set once connected (and TLS done)
	struct list link;		// ep->h2_conns
	struct list dirty;		// w->h2up_dirty
	struct list waiting;		// transactions until the connection is ready
	uint32_t num_waiting;
	struct ring_timer timer;	// connect, then idle
	uint64_t tls_key;
	uint32_t max_streams;		// the cluster's cap, 0: the server's
	uint32_t max_requests;		// per connection, 0: no limit
	uint32_t opened;		// streams opened so far
	uint32_t connect_timeout_ms;
	bool tls;
	bool handshaking;
	bool started;			// the server's SETTINGS came: streams may open
	bool retired;			// no new streams (GOAWAY, request limit, drain)
	bool closing;
};

static struct h2up *mux_of(struct sock *s)
{
	return container_of(s, struct h2up, s);
}

static void mark(struct h2up *m)
{
	if (m->closing || !m->h2 || !list_empty(&m->dirty))
		return;
	list_add_tail(&m->w->h2up_dirty, &m->dirty);
}

static void mux_close(struct h2up *m, int err);

static void idle_timeout(struct ring_timer *t)
{
	struct h2up *m = container_of(t, struct h2up, timer);

	if (m->h2 && !h2c_conn_open_streams(m->h2) && !m->num_waiting)
		mux_close(m, 0);
}

// settle arms the idle timer when nothing uses the connection, and
// closes a retired one then. Never from inside a codec callback: those
// mark the connection, and h2up_service settles it.
static void settle(struct h2up *m)
{
	if (m->closing || !m->h2 || !m->started || h2c_conn_open_streams(m->h2) || m->num_waiting)
		return;
	if (m->retired) {
		mux_close(m, 0);
		return;
	}
	ring_timer_set(&m->w->ring, &m->timer, H2UP_IDLE_TIMEOUT_MS, idle_timeout);
}

// ---- the request ------------------------------------------------------------

// connection-specific fields (RFC 9113 8.2.2) and Host, which becomes
// :authority
static bool skip_field(const char *n, size_t len)
{
	static const char *const names[] = { "connection", "keep-alive", "proxy-connection",
					     "transfer-encoding", "upgrade", "te", "host",
					     "http2-settings" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && !strncasecmp(names[i], n, len))
			return true;
	return false;
}

// open_stream turns c->rq_head ("METHOD PATH HTTP/1.1\r\nhost: A\r\n" +
// fields + CRLF, as http.c builds it for any upstream) into a header
// block and opens the stream.
static int open_stream(struct h2up *m, struct hconn *c)
{
	struct h2_header f[H1_MAX_HEADERS + 24];
	const char *head = buf_head(&c->rq_head), *end = head + buf_avail(&c->rq_head);
	const char *line, *eol, *sp1, *sp2;
	char *names, *np;
	size_t k = 0;

	eol = memchr(head, '\n', (size_t)(end - head));
	sp1 = eol ? memchr(head, ' ', (size_t)(eol - head)) : NULL;
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp2)
		return -EINVAL;
	names = np = malloc(buf_avail(&c->rq_head) + 1);
	if (!names)
		return -ENOMEM;
	f[k++] = (struct h2_header){ ":method", head, 7, (uint32_t)(sp1 - head) };
	f[k++] = (struct h2_header){ ":scheme", m->tls ? "https" : "http", 7, m->tls ? 5 : 4 };
	f[k++] = (struct h2_header){ ":authority", "", 10, 0 };
	f[k++] = (struct h2_header){ ":path", sp1 + 1, 5, (uint32_t)(sp2 - sp1 - 1) };
	for (line = eol + 1; line < end && k < sizeof(f) / sizeof(f[0]); line = eol + 1) {
		const char *colon, *v;
		size_t nl;

		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol || eol == line + 1)
			break;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon)
			continue;
		nl = (size_t)(colon - line);
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		if (nl == 4 && !strncasecmp(line, "host", 4)) {
			f[2].value = v;
			f[2].value_len = (uint32_t)(eol - 1 - v);
			continue;
		}
		if (skip_field(line, nl))
			continue;
		for (size_t i = 0; i < nl; i++)
			np[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]);
		f[k++] = (struct h2_header){ np, v, (uint32_t)nl, (uint32_t)(eol - 1 - v) };
		np += nl;
	}
	// gRPC servers want to know the client takes trailers (RFC 9113 8.2.2;
	// a client's own TE went with the hop-by-hop fields)
	if (c->grpc && k < sizeof(f) / sizeof(f[0]))
		f[k++] = (struct h2_header){ "te", "trailers", 2, 8 };
	c->ust = h2c_stream_open(m->h2, f, k, c->rq_framing == H1_BODY_NONE, c);
	free(names);
	if (!c->ust)
		return -errno;
	c->ust_ended = c->rq_framing == H1_BODY_NONE;
	m->opened++;
	if (m->max_requests && m->opened >= m->max_requests)
		m->retired = true;	// maxRequestsPerConnection
	ring_timer_cancel(&m->w->ring, &m->timer);
	mark(m);
	return 0;
}

static void start(struct h2up *m, struct hconn *c)
{
	int err = open_stream(m, c);

	if (err < 0) {
		c->mux = NULL;
		http_upstream_failed(c, err, false);
		return;
	}
	http_upstream_ready(c);
}

static bool has_room(const struct h2up *m)
{
	uint32_t open;

	if (m->retired || m->closing)
		return false;
	open = (m->h2 ? h2c_conn_open_streams(m->h2) : 0) + m->num_waiting;
	if (m->max_streams && open >= m->max_streams)
		return false;
	if (m->max_requests && m->opened + m->num_waiting >= m->max_requests)
		return false;
	if (!m->started)	// its limits are not known yet: queue, sorted out then
		return open < (m->max_streams ? m->max_streams : 100);
	return h2c_conn_can_open(m->h2) &&
	       open < h2c_conn_peer_max_streams(m->h2);
}

// ---- codec callbacks ------------------------------------------------------------

static struct hconn *owner(struct h2c_stream *s)
{
	return h2c_stream_data(s);
}

static int on_headers(void *arg, struct h2c_stream *s, const struct h2_header *h, size_t num,
		      bool end_stream)
{
	struct hconn *c = owner(s);
	struct h1_msg *msg;
	const struct h2_header *cl = NULL;

	(void)arg;
	if (!c)
		return 0;
	msg = &c->w->scratch;
	memset(msg, 0, offsetof(struct h1_msg, headers));
	msg->minor = 1;
	msg->num_connection = 0;	// after headers[]: a previous parse's otherwise
	msg->head_len = 0;
	msg->reason = (struct h1_str){ "", 0 };
	for (size_t i = 0; i < num; i++) {
		if (!strcmp(h[i].name, ":status")) {
			msg->status = atoi(h[i].value);
			continue;
		}
		if (h[i].name[0] == ':')
			continue;
		if (!strcmp(h[i].name, "content-length"))
			cl = &h[i];
		if (!strcmp(h[i].name, "grpc-status"))
			snprintf(c->grpc_status, sizeof(c->grpc_status), "%.3s", h[i].value);
		if (msg->num_headers < H1_MAX_HEADERS) {
			msg->headers[msg->num_headers].name =
				(struct h1_str){ h[i].name, h[i].name_len };
			msg->headers[msg->num_headers++].value =
				(struct h1_str){ h[i].value, h[i].value_len };
		}
	}
	msg->reason = (struct h1_str){ h1_status_reason(msg->status),
				       (uint32_t)strlen(h1_status_reason(msg->status)) };
	if (end_stream || c->head_request || msg->status == 204 || msg->status == 304) {
		msg->framing = H1_BODY_NONE;
	} else if (cl) {
		msg->framing = H1_BODY_LENGTH;
		msg->content_length = strtoull(cl->value, NULL, 10);	// nghttp2 checked it
		msg->flags |= H1F_CONTENT_LENGTH;
	} else {
		msg->framing = H1_BODY_EOF;	// until END_STREAM
	}
	http_upstream_h2_head(c, msg);
	return 0;
}

static int on_interim(void *arg, struct h2c_stream *s, const struct h2_header *h, size_t num)
{
	struct hconn *c = owner(s);

	(void)arg;
	if (c && num && !strcmp(h[0].name, ":status"))
		http_upstream_interim(c, atoi(h[0].value));
	return 0;
}

static int on_data(void *arg, struct h2c_stream *s, const char *p, size_t len)
{
	struct hconn *c = owner(s);

	(void)arg;
	if (!c) {
		h2c_stream_consume(s, len);
		return 0;
	}
	c->rs_unconsumed += len;
	http_upstream_h2_data(c, p, len);
	return 0;
}

static int on_trailers(void *arg, struct h2c_stream *s, const struct h2_header *h, size_t num)
{
	struct hconn *c = owner(s);

	(void)arg;
	for (size_t i = 0; c && i < num; i++) {
		if (h[i].name[0] == ':')
			continue;
		if (!strcmp(h[i].name, "grpc-status"))
			snprintf(c->grpc_status, sizeof(c->grpc_status), "%.3s", h[i].value);
		http_upstream_h2_trailer(c, h[i].name, h[i].name_len, h[i].value, h[i].value_len);
	}
	return 0;
}

static int on_end_stream(void *arg, struct h2c_stream *s)
{
	struct hconn *c = owner(s);

	(void)arg;
	if (c)
		http_upstream_h2_end(c);
	return 0;
}

static void on_stream_close(void *arg, struct h2c_stream *s, uint32_t code)
{
	struct h2up *m = arg;
	struct hconn *c = owner(s);

	if (c) {
		c->ust = NULL;
		c->mux = NULL;
		if (code == H2_REFUSED_STREAM && !c->rs_head_sent && !c->rq_body_sent &&
		    c->reuse_retries < 3) {
			// not processed (RFC 9113 8.7): the request may go again
			c->reuse_retries++;
			c->state = DS_UPSTREAM;
			c->failed_ep = NULL;
			upstream_acquire(c);
		} else if (code == H2_NO_ERROR || m->closing) {
			// a clean end, or the connection went (termination)
			http_upstream_eof(c, code == H2_NO_ERROR ? 0 : -ECONNRESET);
		} else {
			http_upstream_reset(c, code);	// the server's RST_STREAM
		}
	}
	mark(m);
}

static void on_drain(void *arg, struct h2c_stream *s)
{
	struct hconn *c = owner(s);

	(void)arg;
	if (!c)
		return;
	h2up_write(c, NULL, 0);
	http_upstream_drained(c);	// more request bytes may go now
}

static void on_goaway(void *arg, int32_t last_stream_id, uint32_t code)
{
	struct h2up *m = arg;

	(void)last_stream_id;
	m->retired = true;
	if (code != H2_NO_ERROR)
		log_ratelimited(LOG_WARN, NULL, "upstream %s: HTTP/2 GOAWAY (error 0x%x)",
				m->ep ? "" : "?", code);
}

static const struct h2c_callbacks callbacks = {
	.on_headers = on_headers,
	.on_interim = on_interim,
	.on_data = on_data,
	.on_trailers = on_trailers,
	.on_end_stream = on_end_stream,
	.on_stream_close = on_stream_close,
	.on_drain = on_drain,
	.on_goaway = on_goaway,
};

// ---- the connection --------------------------------------------------------------

// fail_waiting hands the waiting transactions back (connect failure).
static void fail_waiting(struct h2up *m, int err)
{
	while (!list_empty(&m->waiting)) {
		struct hconn *c = list_first(&m->waiting, struct hconn, mux_link);

		list_del(&c->mux_link);
		m->num_waiting--;
		c->mux = NULL;
		http_upstream_failed(c, err, true);
	}
}

static void mux_close(struct h2up *m, int err)
{
	struct h2c_conn *h = m->h2;

	if (m->closing)
		return;
	m->closing = true;
	list_del(&m->link);
	list_del(&m->dirty);
	ring_timer_cancel(&m->w->ring, &m->timer);
	if (m->ep && err)
		__atomic_store_n(&m->ep->rq_error, m->ep->rq_error + 1, __ATOMIC_RELAXED);
	fail_waiting(m, err ? err : -ECONNRESET);
	if (h) {
		// streams end (their transactions see a reset or a refusal)
		// while m->h2 is still there for the callbacks
		h2c_conn_goaway(h, H2_NO_ERROR);
		h2c_conn_flush(h, sock_out(&m->s));
		h2c_conn_free(h);
		m->h2 = NULL;
	}
	sock_close(&m->s, false);
}

static void connect_timeout(struct ring_timer *t);

static void ready(struct h2up *m)
{
	struct h2_config cfg;

	h2_config_default(&cfg);
	if (m->max_streams)
		cfg.max_concurrent_streams = m->max_streams;
	m->h2 = h2c_conn_new(&cfg, &callbacks, m, sock_out(&m->s));
	if (!m->h2) {
		mux_close(m, -ENOMEM);
		return;
	}
	sock_flush(&m->s);
	// the requests wait for the server's SETTINGS (mux_recv): sent now,
	// more than its SETTINGS_MAX_CONCURRENT_STREAMS would be refused. A
	// server that never sends them (not HTTP/2) fails like a connect.
	ring_timer_set(&m->w->ring, &m->timer, m->connect_timeout_ms, connect_timeout);
}

// begin opens the waiting requests' streams once the server's SETTINGS
// say how many it takes; the rest choose a connection again.
static void begin(struct h2up *m)
{
	struct list extra;

	m->started = true;
	ring_timer_cancel(&m->w->ring, &m->timer);
	list_init(&extra);
	while (!list_empty(&m->waiting) && !m->closing) {
		struct hconn *c = list_first(&m->waiting, struct hconn, mux_link);

		list_del(&c->mux_link);
		m->num_waiting--;
		if (has_room(m))
			start(m, c);
		else
			list_add_tail(&extra, &c->mux_link);
	}
	while (!list_empty(&extra)) {
		struct hconn *c = list_first(&extra, struct hconn, mux_link);

		list_del(&c->mux_link);
		c->mux = NULL;
		upstream_acquire(c);
	}
	settle(m);
}

static void mux_recv(struct sock *s, const char *data, size_t len)
{
	struct h2up *m = mux_of(s);
	int r;

	if (!m->h2 || m->closing)
		return;
	r = h2c_conn_input(m->h2, data, len, sock_out(&m->s));
	if (m->closing)
		return;
	sock_flush(&m->s);
	if (r == 0 && !m->started && h2c_conn_peer_settings(m->h2))
		begin(m);
	if (r < 0) {
		if (r != -ESHUTDOWN)
			log_ratelimited(LOG_WARN, NULL, "upstream HTTP/2: %s, closing the "
					"connection", r == -EPROTO ? "protocol error" :
					"out of memory");
		mux_close(m, r == -ESHUTDOWN ? 0 : r);
		return;
	}
	settle(m);
}

static void mux_eof(struct sock *s, int err)
{
	struct h2up *m = mux_of(s);

	mux_close(m, err ? err : -ECONNRESET);
}

static void mux_drained(struct sock *s)
{
	mark(mux_of(s));
}

static void mux_handshake(struct sock *s, struct tls_conn *t, int err)
{
	struct h2up *m = mux_of(s);

	m->handshaking = false;
	ring_timer_cancel(&m->w->ring, &m->timer);
	if (err < 0) {
		log_ratelimited(LOG_WARN, NULL, "upstream: TLS handshake failed: %s",
				tls_conn_error(t));
		metrics_inc(m->w->metrics, MC_UPSTREAM_CONNECT_FAIL, 1);
		mux_close(m, -EPROTO);
		return;
	}
	ready(m);
}

static void mux_connected(struct sock *s, int err)
{
	struct h2up *m = mux_of(s);
	struct hconn *first;

	if (err < 0) {
		if (m->ep)
			__atomic_store_n(&m->ep->cx_connect_fail, m->ep->cx_connect_fail + 1,
					 __ATOMIC_RELAXED);
		metrics_inc(m->w->metrics, MC_UPSTREAM_CONNECT_FAIL, 1);
		mux_close(m, err);
		return;
	}
	if (m->tls) {
		if (list_empty(&m->waiting)) {
			mux_close(m, -ECONNRESET);
			return;
		}
		first = list_first(&m->waiting, struct hconn, mux_link);
		m->handshaking = true;
		sock_recv_start(&m->s);
		if (upstream_start_tls(&m->s, first->cluster, mux_handshake) < 0)
			mux_close(m, -EPROTO);
		return;	// the connect timeout runs on over the handshake
	}
	ring_timer_cancel(&m->w->ring, &m->timer);
	sock_recv_start(&m->s);
	ready(m);
}

static void connect_timeout(struct ring_timer *t)
{
	struct h2up *m = container_of(t, struct h2up, timer);

	metrics_inc(m->w->metrics, MC_UPSTREAM_CONNECT_FAIL, 1);
	mux_close(m, -ETIMEDOUT);
}

static void mux_closed(struct sock *s)
{
	struct h2up *m = mux_of(s);

	metrics_gauge_add(m->w->metrics, MC_UPSTREAM_ACTIVE, -1);
	m->w->num_up--;
	free(m);
}

static const struct sock_ops mux_ops = {
	.recv = mux_recv,
	.eof = mux_eof,
	.drained = mux_drained,
	.send_error = mux_eof,
	.connected = mux_connected,
	.closed = mux_closed,
};

static struct h2up *mux_new(struct worker *w, struct ep_state *e, const struct snap_cluster *cl,
			    const struct snap_endpoint *ep, uint64_t key)
{
	struct h2up *m;
	int fd, one = 1;

	fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	m = calloc(1, sizeof(*m));
	if (!m) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	sock_init(&m->s, &w->ring, fd, &mux_ops);
	m->w = w;
	m->ep = e;
	m->tls_key = key;
	m->tls = key != 0;
	m->max_streams = cl->max_streams;
	m->max_requests = cl->max_requests_per_cx;
	m->connect_timeout_ms = cl->connect_timeout_ms;
	list_init(&m->link);
	list_init(&m->dirty);
	list_init(&m->waiting);
	if (e) {
		list_add(&e->h2_conns, &m->link);
		__atomic_store_n(&e->cx_total, e->cx_total + 1, __ATOMIC_RELAXED);
	}
	metrics_inc(w->metrics, MC_UPSTREAM_CONNECT, 1);
	metrics_gauge_add(w->metrics, MC_UPSTREAM_ACTIVE, 1);
	w->num_up++;
	sock_connect(&m->s, (const struct sockaddr *)&ep->addr, ep->addr_len);
	ring_timer_set(&w->ring, &m->timer, cl->connect_timeout_ms, connect_timeout);
	return m;
}

// ---- the transaction's side ------------------------------------------------------

bool h2up_wanted(const struct hconn *c)
{
	const struct snap_cluster *cl = c->cluster;

	if (!cl || c->raw || c->upgrade)
		return false;
	if (cl->use_client_protocol)
		return c->parent != NULL;
	return cl->h2;
}

void h2up_acquire(struct hconn *c)
{
	struct worker *w = c->w;
	const struct snap_endpoint *ep = lb_pick(w, c->cluster, c->failed_ep);
	struct ep_state *e;
	struct h2up *m = NULL;
	uint64_t key;
	struct list *pos;

	BUG_ON(!ep);
	c->ep = ep;
	c->eps = e = ep_state_get(w, ep);
	key = upstream_tls_key(c->cluster, ep);
	if (e) {
		__atomic_store_n(&e->rq_total, e->rq_total + 1, __ATOMIC_RELAXED);
		list_for_each(pos, &e->h2_conns) {
			struct h2up *u = list_entry(pos, struct h2up, link);

			if (u->tls_key == key && has_room(u)) {
				m = u;
				break;
			}
		}
	}
	if (m && m->started) {
		metrics_inc(w->metrics, MC_UPSTREAM_REUSED, 1);
		c->mux = m;
		start(m, c);
		return;
	}
	if (!m && !(m = mux_new(w, e, c->cluster, ep, key))) {
		http_upstream_failed(c, -errno, true);
		return;
	}
	c->mux = m;
	list_add_tail(&m->waiting, &c->mux_link);
	m->num_waiting++;
}

size_t h2up_pending(const struct hconn *c)
{
	return buf_avail(&c->rq_pending);
}

void h2up_write(struct hconn *c, const char *p, size_t len)
{
	size_t room, n;

	if (!c->ust)
		return;
	if (len && !buf_avail(&c->rq_pending)) {
		room = h2c_stream_out_space(c->ust);
		n = room < len ? room : len;
		if (n && h2c_stream_write(c->ust, p, n) == 0) {
			p += n;
			len -= n;
		}
	}
	if (len && buf_append(&c->rq_pending, p, len) < 0) {
		h2c_stream_reset(c->ust, H2_INTERNAL_ERROR);
		mark(c->mux);
		return;
	}
	n = buf_avail(&c->rq_pending);
	if (n) {
		room = h2c_stream_out_space(c->ust);
		if (room > n)
			room = n;
		if (room && h2c_stream_write(c->ust, buf_head(&c->rq_pending), room) == 0)
			buf_consume(&c->rq_pending, room);
		// still more: the buffer is full now; this refused write asks
		// for on_drain
		if (buf_avail(&c->rq_pending))
			h2c_stream_write(c->ust, buf_head(&c->rq_pending),
					 buf_avail(&c->rq_pending));
	}
	if (!buf_avail(&c->rq_pending) && c->ust_end_wanted && !c->ust_ended) {
		struct h2_header tr[H2_MAX_TRAILERS];
		char *lines = buf_avail(&c->sniff) ? buf_head(&c->sniff) : NULL;
		char *end = lines ? lines + buf_avail(&c->sniff) : NULL;
		size_t k = 0;

		// "name: value\r\n" lines, lowercased in place
		while (lines && lines < end && k < H2_MAX_TRAILERS) {
			char *eol = memchr(lines, '\n', (size_t)(end - lines));
			char *colon = eol ? memchr(lines, ':', (size_t)(eol - lines)) : NULL;
			char *v;

			if (!colon)
				break;
			for (char *q = lines; q < colon; q++)
				*q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
			v = colon + 1;
			while (v < eol && *v == ' ')
				v++;
			if (!skip_field(lines, (size_t)(colon - lines)))
				tr[k++] = (struct h2_header){ lines, v, (uint32_t)(colon - lines),
							      (uint32_t)(eol - 1 - v) };
			lines = eol + 1;
		}
		c->ust_ended = true;
		if (h2c_stream_end(c->ust, tr, k) < 0)
			h2c_stream_reset(c->ust, H2_INTERNAL_ERROR);
	}
	mark(c->mux);
}

void h2up_end(struct hconn *c)
{
	c->ust_end_wanted = true;
	h2up_write(c, NULL, 0);
}

void h2up_consume(struct hconn *c)
{
	bool room;

	if (!c->ust || !c->rs_unconsumed)
		return;
	room = c->parent ? !buf_avail(&c->rs_pending) : sock_pending(&c->s) < H2UP_FLOW_HIGH;
	if (!room)
		return;
	h2c_stream_consume(c->ust, c->rs_unconsumed);
	c->rs_unconsumed = 0;
	mark(c->mux);
}

void h2up_release(struct hconn *c, bool abort)
{
	struct h2up *m = c->mux;

	if (!m)
		return;
	if (!c->ust) {	// still waiting for the connection
		list_del(&c->mux_link);
		m->num_waiting--;
		c->mux = NULL;
		return;		// a connection still connecting: ready() settles it
	}
	h2c_stream_set_data(c->ust, NULL);
	if (c->rs_unconsumed)
		h2c_stream_consume(c->ust, c->rs_unconsumed);
	if (abort || !c->ust_ended || !c->rs_done)
		h2c_stream_reset(c->ust, H2_CANCEL);
	c->ust = NULL;
	c->mux = NULL;
	c->rs_unconsumed = 0;
	buf_cleanup(&c->rq_pending);
	c->ust_end_wanted = c->ust_ended = false;
	mark(m);
}

void h2up_service(struct worker *w)
{
	while (!list_empty(&w->h2up_dirty)) {
		struct h2up *m = list_first(&w->h2up_dirty, struct h2up, dirty);
		int r;

		list_del(&m->dirty);
		if (!m->h2 || m->closing)
			continue;
		r = h2c_conn_flush(m->h2, sock_out(&m->s));
		if (m->closing)
			continue;
		sock_flush(&m->s);
		if (r < 0)
			mux_close(m, r == -ESHUTDOWN ? 0 : r);
		else
			settle(m);
	}
}

void h2up_close_idle(struct worker *w, bool all)
{
	for (uint32_t i = 0; i < EP_TABLE_SIZE; i++) {
		struct ep_state *e = &w->eps[i];
		struct list *pos, *tmp;

		if (!e->published)
			continue;
		list_for_each_safe(pos, tmp, &e->h2_conns) {
			struct h2up *m = list_entry(pos, struct h2up, link);

			m->retired = true;
			if (all || !m->h2 || (!h2c_conn_open_streams(m->h2) && !m->num_waiting))
				mux_close(m, all ? -ECANCELED : 0);
			else
				mark(m);
		}
	}
}
