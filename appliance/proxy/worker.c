// SPDX-License-Identifier: Apache-2.0
// worker.c: one data-plane thread per core: its own ring and provided
// buffers, its own SO_REUSEPORT listeners, endpoint state and pools. It
// picks up a newly published snapshot at the top of each loop turn and
// tells the control thread which generation it runs on.
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "config/bootstrap.h"
#include "core/bug.h"
#include "core/clock.h"
#include "core/log.h"
#include "proto/tls.h"
#include "proxy.h"

enum {
	WORKER_RING_ENTRIES = 2048,
	WORKER_NUM_BUFS = 512,
	WORKER_BUF_SIZE = 16 * 1024,
};

static struct ring_features g_feat;
static sem_t g_started;

uint64_t worker_rand(struct worker *w)
{
	// xorshift64*: request ids and load-balancing picks, not secrets
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

void worker_snap_acquire(struct worker *w, struct snap_hold **out)
{
	BUG_ON(!w->cur);
	w->cur->users++;
	*out = w->cur;
}

void worker_snap_release(struct worker *w, struct snap_hold *h)
{
	BUG_ON(!h->users);
	if (--h->users || h == w->cur)
		return;
	list_del(&h->link);
	snapshot_unref(h->snap);
	free(h);
}

static void destination_service_labels(const struct snap_cluster *c, const char *labels[IL_COUNT])
{
	if (!c)
		return;
	labels[IL_DESTINATION_SERVICE] = c->host ? c->host : c->service_name;
	labels[IL_DESTINATION_SERVICE_NAME] = c->service_name;
	labels[IL_DESTINATION_SERVICE_NAMESPACE] = c->service_namespace;
}

static void inbound_labels(const struct snapshot *s, const struct snap_cluster *c,
			   const struct tls_conn *peer, const char *labels[IL_COUNT])
{
	const struct spiffe_id *id = peer ? tls_conn_peer_id(peer) : NULL;

	labels[IL_REPORTER] = "destination";
	labels[IL_SOURCE_PRINCIPAL] = id ? id->id : "unknown";
	labels[IL_DESTINATION_WORKLOAD] = s->source_workload;
	labels[IL_DESTINATION_WORKLOAD_NAMESPACE] = s->source_namespace;
	labels[IL_DESTINATION_PRINCIPAL] = id ? s->source_principal : "unknown";
	labels[IL_DESTINATION_APP] = s->source_app;
	labels[IL_DESTINATION_VERSION] = s->source_version;
	labels[IL_DESTINATION_CANONICAL_SERVICE] = s->canonical_service;
	labels[IL_DESTINATION_CANONICAL_REVISION] = s->canonical_revision;
	labels[IL_CONNECTION_SECURITY_POLICY] = id ? "mutual_tls" : "none";
	destination_service_labels(c, labels);
}

static void source_labels(const struct snapshot *s, const struct snap_cluster *c,
			  const char *labels[IL_COUNT])
{
	labels[IL_REPORTER] = "source";
	labels[IL_SOURCE_WORKLOAD] = s->source_workload;
	labels[IL_SOURCE_WORKLOAD_NAMESPACE] = s->source_namespace;
	labels[IL_SOURCE_APP] = s->source_app;
	labels[IL_SOURCE_VERSION] = s->source_version;
	labels[IL_SOURCE_CANONICAL_SERVICE] = s->canonical_service;
	labels[IL_SOURCE_CANONICAL_REVISION] = s->canonical_revision;
	labels[IL_CONNECTION_SECURITY_POLICY] = "unknown";
	destination_service_labels(c, labels);
	if (c)
		labels[IL_DESTINATION_CANONICAL_SERVICE] = c->service_name;
}

bool worker_hs_admit(struct worker *w, const struct snapshot *s)
{
	const char *why = NULL;

	if (s->max_pending_tls_handshakes && w->hs_pending >= s->max_pending_tls_handshakes) {
		why = "max_pending_tls_handshakes";
	} else if (s->tls_handshake_rate) {
		uint64_t now = clock_mono_ns(), cap = (uint64_t)s->tls_handshake_rate * 1000;

		// refill: rate handshakes per second, bursts up to one second's
		if (!w->hs_refill_ns) {
			w->hs_credit = cap;
			w->hs_refill_ns = now;
		} else {
			uint64_t add = (now - w->hs_refill_ns) / 1000 * s->tls_handshake_rate / 1000;

			// the clock moves on only with credit given, so frequent
			// calls do not round the refill away
			if (add) {
				w->hs_credit = w->hs_credit + add > cap ? cap : w->hs_credit + add;
				w->hs_refill_ns = now;
			}
		}
		if (w->hs_credit < 1000)
			why = "tls_handshake_rate";
		else
			w->hs_credit -= 1000;
	}
	if (why) {
		metrics_inc(w->metrics, MC_TLS_HANDSHAKE_SHED, 1);
		log_ratelimited(LOG_WARN, NULL, "tls: handshake shed (%s reached), connection "
				"closed", why);
		return false;
	}
	w->hs_pending++;
	return true;
}

void worker_hs_done(struct worker *w)
{
	BUG_ON(!w->hs_pending);
	w->hs_pending--;
}

void worker_labels(const struct snapshot *s, uint32_t idx, const struct snap_cluster *c,
		   const struct tls_conn *peer, const char *labels[IL_COUNT])
{
	if (idx < s->num_listeners && s->listeners[idx].role == ROLE_INBOUND)
		inbound_labels(s, c, peer, labels);
	else
		source_labels(s, c, labels);
}

static void check_snapshot(struct worker *w)
{
	struct snapshot *g = __atomic_load_n(w->global, __ATOMIC_ACQUIRE);
	struct snap_hold *h, *old;

	if (g && (!w->cur || w->cur->snap != g)) {
		// Safe: the control thread keeps g alive until this worker
		// reports a generation at or past g's successor.
		h = calloc(1, sizeof(*h));
		if (h) {
			snapshot_ref(g);
			h->snap = g;
			list_init(&h->link);
			old = w->cur;
			w->cur = h;
			if (old) {
				if (!old->users) {
					snapshot_unref(old->snap);
					free(old);
				} else {
					list_add(&w->holds, &old->link);
				}
			}
			metrics_inc(w->metrics, MC_SNAPSHOT_SWAPS, 1);
			__atomic_store_n(&w->seen_ns, clock_mono_ns(), __ATOMIC_RELAXED);
		}
	}
	if (w->cur)
		__atomic_store_n(&w->seen_gen, w->cur->snap->gen, __ATOMIC_RELEASE);
}

static void log_sink(void *arg, const char *line, size_t len)
{
	struct worker *w = arg;

	ring_writer_put(&w->ring.log, line, len);
}

static void on_accept(struct sock_listener *sl, int fd)
{
	struct wlistener *l = container_of(sl, struct wlistener, sl);
	const struct snapshot *s = l->w->cur->snap;

	if (l->idx < s->num_listeners && s->listeners[l->idx].protocol == SNAP_LISTENER_TCP)
		tcp_accept(l, fd);
	else
		http_accept(l, fd);
}

static int open_access_log(struct worker *w, const char *path)
{
	int fd;

	if (!path[0])
		return 0;
	if (!strcmp(path, "stdout"))
		fd = dup(STDOUT_FILENO);
	else
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	w->access_log_on = true;
	return ring_writer_init(&w->access_log, fd, 1024 * 1024);
}

static int worker_setup(struct worker *w)
{
	const struct bootstrap *b = w->boot;
	int err;

	if ((err = ring_init(&w->ring, WORKER_RING_ENTRIES, WORKER_NUM_BUFS, WORKER_BUF_SIZE,
			     &g_feat)) < 0) {
		log_emit(LOG_ERR, NULL, "worker %d: ring setup failed (%s)", w->id, strerror(-err));
		return err;
	}
	sock_attach(&w->ring);
	w->ring.owner = w;
	if ((err = open_access_log(w, b->access_log)) < 0) {
		log_emit(LOG_ERR, NULL, "access log %s: open failed (%s)", b->access_log,
			 strerror(-err));
		return err;
	}
	w->eps = calloc(EP_TABLE_SIZE, sizeof(*w->eps));
	w->listeners = calloc((size_t)b->num_listeners + 1, sizeof(*w->listeners));
	if (!w->eps || !w->listeners)
		return -ENOMEM;
	check_snapshot(w);
	BUG_ON(!w->cur);
	for (int i = 0; i < b->num_listeners; i++) {
		const struct listener_cfg *lc = &b->listeners[i];
		struct wlistener *l = &w->listeners[i];
		int fd = sock_listen_fd((const struct sockaddr *)&lc->addr, lc->addr_len, 4096);

		if (fd < 0) {
			log_emit(LOG_ERR, NULL, "listener %s on %s:%u: bind failed (%s)", lc->name,
				 lc->address, lc->port, strerror(-fd));
			return fd;
		}
		l->w = w;
		l->idx = (uint32_t)i;
		l->sl.on_accept = on_accept;
		l->sl.owner = l;
		sock_listener_start(&l->sl, &w->ring, fd);
		w->num_listeners++;
	}
	return 0;
}

static void worker_drain(struct worker *w)
{
	w->drain_started = true;
	for (uint32_t i = 0; i < w->num_listeners; i++)
		sock_listener_stop(&w->listeners[i].sl);
	http_drain(w);
}

static void exit_tick(struct ring_timer *t)
{
}

// service_h2 produces the frames HTTP/2 connections owe after a ring
// turn; each side's work may give the other more, so until both are done.
static void service_h2(struct worker *w)
{
	while (!list_empty(&w->h2_dirty) || !list_empty(&w->h2up_dirty)) {
		h2down_service(w);
		h2up_service(w);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char name[24];

	snprintf(name, sizeof(name), "worker %d", w->id);
	log_set_thread_name(name);
	w->init_err = worker_setup(w);
	sem_post(&g_started);
	if (w->init_err)
		return NULL;
	log_set_thread_sink(log_sink, w);
	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		check_snapshot(w);
		if (__atomic_load_n(&w->draining, __ATOMIC_ACQUIRE) && !w->drain_started)
			worker_drain(w);
		if (w->drain_started && !w->num_conns)
			break;
		ring_run_once(&w->ring, true);
		service_h2(w);
		if (w->access_log_on)
			ring_writer_flush(&w->ring, &w->access_log);
	}
	// End what is left (drain deadline) and let every close complete, so
	// nothing the kernel still names is freed, and nothing leaks.
	http_close_all(w);
	tcp_close_all(w);
	for (int i = 0; i < 100 && (w->num_conns || w->num_up); i++) {
		struct ring_timer tick = { 0 };

		// each wait bounded: a completion that never comes costs 10 s
		// at most, not a process that never exits
		ring_timer_set(&w->ring, &tick, 100, exit_tick);
		ring_run_once(&w->ring, true);
		service_h2(w);
		ring_timer_cancel(&w->ring, &tick);
	}
	if (w->num_conns || w->num_up)
		log_emit(LOG_WARN, NULL, "worker %d: %u connection(s) did not finish closing",
			 w->id, w->num_conns + w->num_up);
	while (!list_empty(&w->holds)) {
		struct snap_hold *h = list_first(&w->holds, struct snap_hold, link);

		list_del(&h->link);
		snapshot_unref(h->snap);
		free(h);
	}
	if (w->cur) {
		snapshot_unref(w->cur->snap);
		free(w->cur);
		w->cur = NULL;
	}
	// flush what the log writers hold, synchronously: we are leaving
	log_set_thread_sink(NULL, NULL);
	ring_run_once(&w->ring, false);
	if (w->ring.log.fill_len && write(STDERR_FILENO, w->ring.log.fill, w->ring.log.fill_len) < 0)
		w->ring.log.dropped += w->ring.log.fill_len;
	if (w->access_log_on && w->access_log.fill_len &&
	    write(w->access_log.fd, w->access_log.fill, w->access_log.fill_len) < 0)
		w->access_log.dropped += w->access_log.fill_len;
	__atomic_store_n(&w->stop, 2, __ATOMIC_RELEASE);	// exited
	return NULL;
}

int workers_start(struct worker **out, int n, const struct bootstrap *b,
		  struct snapshot *const *global)
{
	struct worker *ws;
	int err;

	if ((err = ring_probe(&g_feat)) < 0)
		return err;
	if (sem_init(&g_started, 0, 0) < 0)
		return -errno;
	ws = calloc((size_t)n, sizeof(*ws));
	if (!ws)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct worker *w = &ws[i];

		w->id = i;
		w->boot = b;
		w->global = global;
		list_init(&w->conns);
		list_init(&w->tcp_conns);
		list_init(&w->h2_dirty);
		list_init(&w->h2up_dirty);
		list_init(&w->holds);
		if (getrandom(&w->rng, sizeof(w->rng), 0) != sizeof(w->rng) || !w->rng)
			w->rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)(i + 1);
		w->metrics = metrics_new();
		if (!w->metrics)
			return -ENOMEM;
		if ((err = pthread_create(&w->thread, NULL, worker_main, w)) != 0)
			return -err;
		sem_wait(&g_started);
		if (w->init_err)
			return w->init_err;
	}
	*out = ws;
	return 0;
}
