// SPDX-License-Identifier: Apache-2.0
// tcp.c: the L4 proxy: a TCP listener forwards raw bytes to its cluster in
// both directions with backpressure, respects half-close (FIN travels to
// the other side once its queue is flushed), and counts istio_tcp_*.
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/bootstrap.h"
#include "core/bug.h"
#include "core/clock.h"
#include "core/log.h"
#include "proxy.h"
#include "proto/tls.h"

enum { TCP_FLOW_HIGH = 64 * 1024, TCP_RETRIES = 2, TCP_CLOSE_GRACE_MS = 5000 };

struct tcpconn {
	struct sock down;	// first two: both 8-aligned
	struct sock up;
	struct worker *w;
	struct list link;
	struct snap_hold *hold;
	const struct snap_cluster *cluster;
	const struct snap_endpoint *ep, *failed;
	struct ring_timer timer;
	int retries;
	int socks_open;		// sock objects not yet .closed
	bool up_created, up_ready, closing, opened_counted;
	bool down_paused, up_paused;
	bool handshaking;	// upstream TLS handshake in progress
	struct tls_conn *tls;		// the downstream TLS once its handshake finished
	uint32_t lidx;			// listener index (labels)
	struct snap_endpoint od_ep;	// original_dst listener: the destination
	struct snap_cluster od_cluster;
	struct tls_server *sniff_srv;	// PERMISSIVE: deciding (a reference)
	bool hs_pending;		// counted in w->hs_pending
	struct buf sniff;
	bool retry_pending;	// retry once the failed upstream sock is closed
	struct buf pending;	// client bytes while no upstream sock exists
};

static const struct sock_ops down_ops, up_ops;
static void down_handshake(struct sock *s, struct tls_conn *tls, int err);
static int down_tls_accept(struct tcpconn *t, struct tls_server *srv, const char *p, size_t len);

static struct tcpconn *of_down(struct sock *s) { return container_of(s, struct tcpconn, down); }
static struct tcpconn *of_up(struct sock *s) { return container_of(s, struct tcpconn, up); }

static void labels_for(struct tcpconn *t, const char *labels[IL_COUNT])
{
	const struct snapshot *s = t->hold->snap;

	memset(labels, 0, sizeof(char *) * IL_COUNT);
	worker_labels(s, t->lidx, t->cluster, t->tls, labels);
	labels[IL_REQUEST_PROTOCOL] = "tcp";
	labels[IL_RESPONSE_FLAGS] = t->up_ready ? "-" : (t->cluster && t->cluster->num_eps ? "UF" : "UH");
}

static void close_grace(struct ring_timer *timer);

static void tcp_close(struct tcpconn *t)
{
	const char *labels[IL_COUNT];

	if (t->closing)
		return;
	t->closing = true;
	labels_for(t, labels);
	metrics_tcp_bytes(t->w->metrics, labels, t->down.bytes_out, t->down.bytes_in);
	metrics_tcp_closed(t->w->metrics, labels);
	ring_timer_cancel(&t->w->ring, &t->timer);
	sock_close(&t->down, false);
	if (t->up_created || t->retry_pending)
		sock_close(&t->up, false);	// no-op when already closing
	t->retry_pending = false;
	if (t->hold) {
		worker_snap_release(t->w, t->hold);
		t->hold = NULL;
	}
}

static void close_grace(struct ring_timer *timer)
{
	tcp_close(container_of(timer, struct tcpconn, timer));
}

// maybe_done closes both sides once each has sent FIN and every queued
// byte went out.
static void maybe_done(struct tcpconn *t)
{
	if (t->closing)
		return;
	if ((t->down.flags & SOCK_EOF) && (!t->up_created || (t->up.flags & SOCK_EOF)) &&
	    !sock_pending(&t->down) && (!t->up_created || !sock_pending(&t->up)))
		tcp_close(t);
}

static void flow(struct tcpconn *t)
{
	bool want_down, want_up;

	if (t->closing)
		return;
	want_down = buf_avail(&t->pending) +
		    (t->up_created ? sock_pending(&t->up) : 0) < TCP_FLOW_HIGH;
	if (want_down && t->down_paused) {
		t->down_paused = false;
		sock_recv_start(&t->down);
	} else if (!want_down && !t->down_paused) {
		t->down_paused = true;
		sock_recv_stop(&t->down);
	}
	if (!t->up_ready)
		return;
	// while PERMISSIVE sniffs, the server's first bytes (a banner) wait:
	// sent now they would land in front of our TLS handshake
	want_up = sock_pending(&t->down) < TCP_FLOW_HIGH && !t->sniff_srv;
	if (want_up && t->up_paused) {
		t->up_paused = false;
		sock_recv_start(&t->up);
	} else if (!want_up && !t->up_paused) {
		t->up_paused = true;
		sock_recv_stop(&t->up);
	}
}

static void connect_upstream(struct tcpconn *t);

static void retry_fire(struct ring_timer *timer)
{
	connect_upstream(container_of(timer, struct tcpconn, timer));
}

static void upstream_failed(struct tcpconn *t, int err)
{
	metrics_inc(t->w->metrics, MC_UPSTREAM_CONNECT_FAIL, 1);
	if (t->retries < TCP_RETRIES) {
		t->retries++;
		t->failed = t->ep;
		if (t->up_created) {
			// The struct is reused for the next attempt only after
			// every completion of this one is in (up_closed).
			// keep the client's bytes: a connecting sock never sent any
			t->pending = t->up.out;
			buf_init(&t->up.out);
			t->retry_pending = true;
			t->up_created = false;
			sock_close(&t->up, false);
		} else {
			ring_timer_set(&t->w->ring, &t->timer,
				       worker_rand(t->w) % (25ull << t->retries), retry_fire);
		}
		return;
	}
	metrics_inc(t->w->metrics, MC_CONNECT_FAILED, 1);
	log_ratelimited(LOG_WARN, NULL, "tcp upstream %s: connect failed (%s), closing downstream",
			t->ep ? t->ep->addr_str : "?", strerror(-err));
	tcp_close(t);
}

static void up_ready(struct tcpconn *t);

static void up_handshake(struct sock *s, struct tls_conn *tls, int err)
{
	struct tcpconn *t = of_up(s);

	t->handshaking = false;
	ring_timer_cancel(&t->w->ring, &t->timer);
	if (err < 0) {
		log_ratelimited(LOG_WARN, NULL, "tcp upstream %s: TLS handshake failed: %s",
				t->ep->addr_str, tls_conn_error(tls));
		upstream_failed(t, -EPROTO);
		return;
	}
	up_ready(t);
}

static void up_connected(struct sock *s, int err)
{
	struct tcpconn *t = of_up(s);

	if (err < 0) {
		ring_timer_cancel(&t->w->ring, &t->timer);
		upstream_failed(t, err);
		return;
	}
	if (upstream_tls_key(t->cluster, t->ep)) {
		// the connect timeout keeps running over the handshake
		t->handshaking = true;
		sock_recv_start(&t->up);
		if (upstream_start_tls(&t->up, t->cluster, up_handshake) < 0) {
			t->handshaking = false;
			ring_timer_cancel(&t->w->ring, &t->timer);
			upstream_failed(t, -EPROTO);
		}
		return;
	}
	ring_timer_cancel(&t->w->ring, &t->timer);
	up_ready(t);
}

static void up_ready(struct tcpconn *t)
{
	const char *labels[IL_COUNT];

	t->up_ready = true;
	labels_for(t, labels);
	metrics_tcp_opened(t->w->metrics, labels);
	t->opened_counted = true;
	t->up_paused = true;	// flow() starts reading when it may
	if (t->down.flags & SOCK_EOF)
		sock_shutdown_wr(&t->up);
	flow(t);
}

static void connect_timeout(struct ring_timer *timer)
{
	upstream_failed(container_of(timer, struct tcpconn, timer), -ETIMEDOUT);
}

static void connect_upstream(struct tcpconn *t)
{
	int fd, one = 1;

	if (t->closing)
		return;
	t->ep = lb_pick(t->w, t->cluster, t->failed);
	fd = socket(t->ep->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		upstream_failed(t, -errno);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	// bytes the client sent before this attempt go out once it connects
	sock_init(&t->up, &t->w->ring, fd, &up_ops);
	t->up.out = t->pending;
	buf_init(&t->pending);
	t->up_created = true;
	t->socks_open++;
	metrics_inc(t->w->metrics, MC_UPSTREAM_CONNECT, 1);
	sock_connect(&t->up, (const struct sockaddr *)&t->ep->addr, t->ep->addr_len);
	ring_timer_set(&t->w->ring, &t->timer, t->cluster->connect_timeout_ms, connect_timeout);
}

static void down_recv(struct sock *s, const char *data, size_t len);

// down_sniff tells mesh mTLS from anything else on a PERMISSIVE listener:
// TLS with an Istio ALPN is terminated; plaintext and other TLS go to the
// destination untouched, as Istio's inbound passthrough chains do.
static void down_sniff(struct tcpconn *t, const char *data, size_t len)
{
	struct tls_server *srv = t->sniff_srv;
	struct buf first;
	int r;

	if (buf_append(&t->sniff, data, len) < 0) {
		tcp_close(t);
		return;
	}
	r = permissive_sniff(buf_head(&t->sniff), buf_avail(&t->sniff));
	if (r == -EAGAIN)
		return;
	t->sniff_srv = NULL;
	first = t->sniff;
	buf_init(&t->sniff);
	if (r == 1) {
		if (down_tls_accept(t, srv, buf_head(&first), buf_avail(&first)) < 0)
			tcp_close(t);
	} else {
		down_recv(&t->down, buf_head(&first), buf_avail(&first));
	}
	buf_cleanup(&first);
	tls_server_unref(srv);
	flow(t);
}

static void down_recv(struct sock *s, const char *data, size_t len)
{
	struct tcpconn *t = of_down(s);

	if (t->closing)
		return;
	if (t->sniff_srv) {
		down_sniff(t, data, len);
		return;
	}
	buf_append(t->up_created ? &t->up.out : &t->pending, data, len);
	if (t->up_ready)
		sock_flush(&t->up);
	flow(t);
}

static void up_recv(struct sock *s, const char *data, size_t len)
{
	struct tcpconn *t = of_up(s);

	if (t->closing)
		return;
	sock_send(&t->down, data, len);
	flow(t);
}

static void down_eof(struct sock *s, int err)
{
	struct tcpconn *t = of_down(s);

	if (err) {
		tcp_close(t);
		return;
	}
	if (t->up_ready)
		sock_shutdown_wr(&t->up);
	maybe_done(t);
	if (!t->closing && !ring_timer_armed(&t->timer) && t->up_ready)
		ring_timer_set(&t->w->ring, &t->timer, 3600 * 1000, close_grace);
}

static void up_eof(struct sock *s, int err)
{
	struct tcpconn *t = of_up(s);

	if (t->handshaking) {	// the peer went away mid-handshake
		t->handshaking = false;
		ring_timer_cancel(&t->w->ring, &t->timer);
		upstream_failed(t, err ? err : -ECONNRESET);
		return;
	}
	if (err) {
		tcp_close(t);
		return;
	}
	sock_shutdown_wr(&t->down);
	maybe_done(t);
}

static void send_error(struct sock *s, int err)
{
	struct tcpconn *t = s->ops == &down_ops ? of_down(s) : of_up(s);

	tcp_close(t);
}

static void drained(struct sock *s)
{
	struct tcpconn *t = s->ops == &down_ops ? of_down(s) : of_up(s);

	flow(t);
	maybe_done(t);
}

static void sock_gone(struct tcpconn *t)
{
	if (--t->socks_open)
		return;
	list_del(&t->link);
	t->w->num_conns--;
	metrics_gauge_add(t->w->metrics, MC_DOWNSTREAM_ACTIVE, -1);
	buf_cleanup(&t->pending);
	buf_cleanup(&t->sniff);
	if (t->sniff_srv)
		tls_server_unref(t->sniff_srv);
	if (t->hs_pending)
		worker_hs_done(t->w);
	free(t);
}

static void down_closed(struct sock *s)
{
	sock_gone(of_down(s));
}

static void up_closed(struct sock *s)
{
	struct tcpconn *t = of_up(s);

	if (t->retry_pending && !t->closing) {
		t->retry_pending = false;
		t->socks_open--;
		ring_timer_set(&t->w->ring, &t->timer, worker_rand(t->w) % (25ull << t->retries),
			       retry_fire);
		return;
	}
	sock_gone(t);
}

static const struct sock_ops down_ops = {
	.recv = down_recv,
	.eof = down_eof,
	.drained = drained,
	.send_error = send_error,
	.closed = down_closed,
};

static const struct sock_ops up_ops = {
	.recv = up_recv,
	.eof = up_eof,
	.drained = drained,
	.send_error = send_error,
	.connected = up_connected,
	.closed = up_closed,
};

static void down_handshake(struct sock *s, struct tls_conn *tls, int err)
{
	struct tcpconn *t = of_down(s);

	if (t->hs_pending) {
		t->hs_pending = false;
		worker_hs_done(t->w);
	}
	// a failure ends in .eof(-EPROTO), which closes
	if (!err)
		t->tls = tls;
}

// down_tls_accept starts the server handshake if the worker admits one
// more (flood shedding).
static int down_tls_accept(struct tcpconn *t, struct tls_server *srv, const char *p, size_t len)
{
	struct worker *w = t->w;

	if (!w->cur || !worker_hs_admit(w, w->cur->snap))
		return -EBUSY;
	t->hs_pending = true;
	return tls_accept(&t->down, srv, down_handshake, p, len);
}

void tcp_accept(struct wlistener *l, int fd)
{
	struct worker *w = l->w;
	struct tcpconn *t = calloc(1, sizeof(*t));
	const struct snapshot *s;
	const struct snap_listener *sl;
	int pa;

	if (!t) {
		close(fd);
		return;
	}
	sock_init(&t->down, &w->ring, fd, &down_ops);
	t->w = w;
	t->socks_open = 1;
	list_add_tail(&w->tcp_conns, &t->link);
	w->num_conns++;
	metrics_inc(w->metrics, MC_ACCEPTED, 1);
	metrics_gauge_add(w->metrics, MC_DOWNSTREAM_ACTIVE, 1);
	worker_snap_acquire(w, &t->hold);
	s = t->hold->snap;
	t->lidx = l->idx;
	sl = l->idx < s->num_listeners ? &s->listeners[l->idx] : NULL;
	t->cluster = sl ? snap_cluster_of(s, sl->tcp_cluster) : NULL;
	if (sl && sl->original_dst) {
		struct sockaddr_storage local;
		socklen_t len = sizeof(local);
		int r = getsockname(fd, (struct sockaddr *)&local, &len) < 0 ? -errno :
			original_dst(fd, &local, &t->od_ep);

		if (r < 0) {
			metrics_inc(w->metrics, MC_NO_ORIGINAL_DST, 1);
			log_ratelimited(LOG_INFO, NULL, "inbound %s: no original destination (%s), "
					"closing", sl->name, r == -ELOOP ? "not redirected" :
					strerror(-r));
			tcp_close(t);
			return;
		}
		if (sl->role == ROLE_INBOUND) {
			t->cluster = &s->inbound_passthrough;
		} else {
			// captured outbound: a registered address, else the policy
			t->cluster = snapshot_find_addr(s, &t->od_ep.addr);
			if (!t->cluster)
				t->cluster = s->outbound_policy == SNAP_ALLOW_ANY ? &s->passthrough
										  : &s->blackhole;
		}
		if (t->cluster->kind == CLUSTER_PASSTHROUGH && !t->cluster->num_eps) {
			original_dst_cluster(t->cluster, &t->od_ep, &t->od_cluster);
			t->cluster = &t->od_cluster;
		}
	}
	if (!t->cluster || t->cluster->kind == CLUSTER_BLACKHOLE || !t->cluster->num_eps) {
		// BlackHoleCluster: the connect succeeded, we close with no data
		metrics_inc(w->metrics, t->cluster && t->cluster->kind != CLUSTER_BLACKHOLE ?
			    MC_NO_HEALTHY : MC_BLACKHOLE, 1);
		log_ratelimited(LOG_INFO, NULL, "tcp: %s for listener %s%s%s, closing",
				t->cluster && t->cluster->kind == CLUSTER_BLACKHOLE ?
				"not in the registry (REGISTRY_ONLY, BlackHoleCluster)" : "no endpoint",
				sl ? sl->name : "?", t->od_ep.addr_len ? ", original destination " : "",
				t->od_ep.addr_len ? t->od_ep.addr_str : "");
		tcp_close(t);
		return;
	}
	pa = sl ? listener_peer_auth(sl, sl->original_dst ? &t->od_ep : NULL) : SNAP_PA_NONE;
	if (sl && sl->tls && pa == SNAP_PA_PERMISSIVE) {
		t->sniff_srv = sl->tls;
		tls_server_ref(t->sniff_srv);
	} else if (sl && sl->tls && pa != SNAP_PA_DISABLE &&
		   down_tls_accept(t, sl->tls, NULL, 0) < 0) {
		tcp_close(t);
		return;
	}
	sock_recv_start(&t->down);
	connect_upstream(t);
}

void tcp_close_all(struct worker *w)
{
	struct list *pos, *tmp;

	list_for_each_safe(pos, tmp, &w->tcp_conns)
		tcp_close(list_entry(pos, struct tcpconn, link));
}
