// SPDX-License-Identifier: Apache-2.0
// upstream.c: upstream HTTP/1.1 connections: connect with a timeout, a
// per-worker keep-alive pool per endpoint (most recently used first), and
// the hand-off of completions to the downstream connection that owns one.
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bug.h"
#include "core/log.h"
#include "proxy.h"
#include "proto/tls.h"

enum { UPSTREAM_IDLE_TIMEOUT_MS = 3600 * 1000 };

static struct upconn *up_of(struct sock *s)
{
	return container_of(s, struct upconn, s);
}

// detach separates an upstream connection from its downstream owner and
// stops counting it as an active request.
static void detach(struct upconn *up)
{
	if (up->owner) {
		if (up->owner->up == up)
			up->owner->up = NULL;
		up->owner = NULL;
		if (up->ep && up->ep->active_rq)
			up->ep->active_rq--;
	}
}

static void up_close(struct upconn *up)
{
	detach(up);
	if (up->state == UP_IDLE) {
		list_del(&up->link);
		if (up->ep)
			up->ep->num_idle--;
	}
	up->state = UP_CLOSING;
	ring_timer_cancel(&up->w->ring, &up->timer);
	sock_close(&up->s, false);
}

static void up_recv(struct sock *s, const char *data, size_t len)
{
	struct upconn *up = up_of(s);

	if (!up->owner) {
		// Bytes on an idle connection answer nothing we sent: the
		// connection is out of sync and must not carry a request.
		log_ratelimited(LOG_WARN, NULL, "upstream: %zu unexpected bytes on an idle "
				"connection, closing it", len);
		up_close(up);
		return;
	}
	up->got_bytes = true;
	http_upstream_data(up->owner, data, len);
}

static void connect_failed(struct upconn *up, int err);

static void up_eof(struct sock *s, int err)
{
	struct upconn *up = up_of(s);
	struct hconn *c = up->owner;

	if (up->handshaking) {	// the peer went away mid-handshake
		up->handshaking = false;
		ring_timer_cancel(&up->w->ring, &up->timer);
		connect_failed(up, err ? err : -ECONNRESET);
		return;
	}
	if (!c) {
		up_close(up);
		return;
	}
	http_upstream_eof(c, err);
}

static void up_send_error(struct sock *s, int err)
{
	up_eof(s, err);
}

static void up_drained(struct sock *s)
{
	struct upconn *up = up_of(s);

	if (up->owner)
		http_upstream_drained(up->owner);
}

static void connect_failed(struct upconn *up, int err)
{
	struct hconn *c = up->owner;

	if (up->ep)
		__atomic_store_n(&up->ep->cx_connect_fail, up->ep->cx_connect_fail + 1,
				 __ATOMIC_RELAXED);
	metrics_inc(up->w->metrics, MC_UPSTREAM_CONNECT_FAIL, 1);
	up_close(up);
	if (c)
		http_upstream_failed(c, err, true);
}

uint64_t upstream_tls_key(const struct snap_cluster *c, const struct snap_endpoint *ep)
{
	if (!c->tls || (c->tls_auto && !ep->mtls_ready))
		return 0;
	return c->tls_key;
}

int upstream_start_tls(struct sock *s, const struct snap_cluster *c,
		       void (*cb)(struct sock *s, struct tls_conn *t, int err))
{
	return tls_connect(s, c->tls, c->sni, c->sans, (int)c->num_sans, cb);
}

static void up_ready(struct upconn *up)
{
	up->state = UP_BUSY;
	sock_recv_start(&up->s);
	if (up->owner)
		http_upstream_ready(up->owner);
	else
		upstream_release(up, true);
}

static void up_handshake(struct sock *s, struct tls_conn *t, int err)
{
	struct upconn *up = up_of(s);

	up->handshaking = false;
	ring_timer_cancel(&up->w->ring, &up->timer);
	if (err < 0) {
		log_ratelimited(LOG_WARN, NULL, "upstream: TLS handshake failed: %s",
				tls_conn_error(t));
		connect_failed(up, -EPROTO);
		return;
	}
	up_ready(up);
}

static void up_connected(struct sock *s, int err)
{
	struct upconn *up = up_of(s);

	if (err < 0) {
		ring_timer_cancel(&up->w->ring, &up->timer);
		connect_failed(up, err);
		return;
	}
	if (up->tls_key && up->owner) {
		// the connect timeout keeps running over the handshake
		up->handshaking = true;
		sock_recv_start(&up->s);
		if (upstream_start_tls(&up->s, up->owner->cluster, up_handshake) < 0) {
			ring_timer_cancel(&up->w->ring, &up->timer);
			connect_failed(up, -EPROTO);
		}
		return;
	}
	ring_timer_cancel(&up->w->ring, &up->timer);
	if (up->tls_key) {	// owner gone before the handshake could start
		up_close(up);
		return;
	}
	up->state = UP_BUSY;
	sock_recv_start(&up->s);
	if (up->owner)
		http_upstream_ready(up->owner);
	else
		upstream_release(up, true);
}

static void up_connect_timeout(struct ring_timer *t)
{
	connect_failed(container_of(t, struct upconn, timer), -ETIMEDOUT);
}

static void up_idle_timeout(struct ring_timer *t)
{
	up_close(container_of(t, struct upconn, timer));
}

static void up_closed(struct sock *s)
{
	struct upconn *up = up_of(s);

	metrics_gauge_add(up->w->metrics, MC_UPSTREAM_ACTIVE, -1);
	up->w->num_up--;
	buf_cleanup(&up->in);
	free(up);
}

static const struct sock_ops up_ops = {
	.recv = up_recv,
	.eof = up_eof,
	.drained = up_drained,
	.send_error = up_send_error,
	.connected = up_connected,
	.closed = up_closed,
};

void upstream_acquire(struct hconn *c)
{
	struct worker *w = c->w;
	const struct snap_endpoint *ep;
	struct ep_state *e;
	struct upconn *up;
	int fd, one = 1;

	if (h2up_wanted(c)) {
		h2up_acquire(c);	// a stream on a multiplexed connection
		return;
	}
	ep = lb_pick(w, c->cluster, c->failed_ep);
	BUG_ON(!ep);	// callers answer 503 UH for clusters without endpoints
	c->ep = ep;
	c->eps = e = ep_state_get(w, ep);
	if (e && !c->raw) {	// a raw tunnel takes a connection of its own
		__atomic_store_n(&e->rq_total, e->rq_total + 1, __ATOMIC_RELAXED);
		// Reuse only when the request could be replayed if the pooled
		// connection turns out to be dead (see http_upstream_eof).
		uint64_t key = upstream_tls_key(c->cluster, ep);
		struct upconn *hit = NULL;
		struct list *pos;

		list_for_each(pos, &e->idle) {
			struct upconn *u = list_entry(pos, struct upconn, link);

			if (u->tls_key == key) {
				hit = u;
				break;
			}
		}
		if (hit) {
			up = hit;
			list_del(&up->link);
			e->num_idle--;
			ring_timer_cancel(&w->ring, &up->timer);
			up->state = UP_BUSY;
			up->owner = c;
			up->reused = true;
			up->got_bytes = false;
			up->scanned = 0;
			c->up = up;
			e->active_rq++;
			metrics_inc(w->metrics, MC_UPSTREAM_REUSED, 1);
			http_upstream_ready(c);
			return;
		}
	}
	fd = socket(ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		http_upstream_failed(c, -errno, true);
		return;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		log_ratelimited(LOG_WARN, NULL, "setsockopt(TCP_NODELAY) failed (%s), ignored",
				strerror(errno));
	up = calloc(1, sizeof(*up));
	if (!up) {
		close(fd);
		http_upstream_failed(c, -ENOMEM, true);
		return;
	}
	sock_init(&up->s, &w->ring, fd, &up_ops);
	up->w = w;
	up->ep = e;
	up->tls_key = upstream_tls_key(c->cluster, ep);
	up->owner = c;
	up->state = UP_CONNECTING;
	list_init(&up->link);
	c->up = up;
	if (e) {
		e->active_rq++;
		__atomic_store_n(&e->cx_total, e->cx_total + 1, __ATOMIC_RELAXED);
	}
	metrics_inc(w->metrics, MC_UPSTREAM_CONNECT, 1);
	metrics_gauge_add(w->metrics, MC_UPSTREAM_ACTIVE, 1);
	w->num_up++;
	sock_connect(&up->s, (const struct sockaddr *)&ep->addr, ep->addr_len);
	ring_timer_set(&w->ring, &up->timer, c->cluster->connect_timeout_ms, up_connect_timeout);
}

void upstream_release(struct upconn *up, bool reusable)
{
	struct ep_state *e = up->ep;

	detach(up);
	if (!reusable || !e || up->state != UP_BUSY || e->num_idle >= POOL_MAX_IDLE_PER_EP ||
	    __atomic_load_n(&up->w->draining, __ATOMIC_RELAXED) || sock_pending(&up->s) ||
	    (up->s.flags & (SOCK_EOF | SOCK_CLOSING))) {
		up_close(up);
		return;
	}
	up->state = UP_IDLE;
	up->requests++;
	up->in.off = up->in.len = 0;
	list_add(&e->idle, &up->link);
	e->num_idle++;
	ring_timer_set(&up->w->ring, &up->timer, UPSTREAM_IDLE_TIMEOUT_MS, up_idle_timeout);
	// keep a recv armed: it notices the upstream closing the idle connection
	sock_recv_start(&up->s);
}

// upstream_abort drops a connection in the middle of a transaction.
void upstream_abort(struct upconn *up)
{
	up_close(up);
}

// upstream_close_idle closes every pooled connection (drain).
void upstream_close_idle(struct worker *w)
{
	for (uint32_t i = 0; i < EP_TABLE_SIZE; i++) {
		struct ep_state *e = &w->eps[i];
		struct list *pos, *tmp;

		if (!e->published)
			continue;
		list_for_each_safe(pos, tmp, &e->idle)
			up_close(list_entry(pos, struct upconn, link));
	}
	h2up_close_idle(w, false);
}
