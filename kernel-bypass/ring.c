// SPDX-License-Identifier: Apache-2.0
// ring.c: the per-thread io_uring loop: setup with feature fallback, batched
// reaping and dispatch by packed user_data, a timer heap bounding each wait,
// eventfd wake-ups and a non-blocking writer for log output.
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/bug.h"
#include "core/clock.h"
#include "core/log.h"

static void handle_none(struct ring *r, struct io_uring_cqe *cqe, void *obj)
{
}

static void handle_event(struct ring *r, struct io_uring_cqe *cqe, void *obj)
{
	struct ring_event *ev = obj;

	ev->armed = false;
	ev->fn(r, cqe->res, ev);
}

static void wake_fn(struct ring *r, int res, struct ring_event *ev)
{
	if (r->on_wake)
		r->on_wake(r);
}

void ring_event_read(struct ring *r, struct ring_event *ev, size_t len)
{
	struct io_uring_sqe *sqe;

	if (ev->armed)
		return;
	sqe = ring_sqe(r);
	io_uring_prep_read(sqe, ev->fd, ev->data, (unsigned)(len < sizeof(ev->data) ? len : sizeof(ev->data)), 0);
	io_uring_sqe_set_data64(sqe, ring_ud(ev, RING_OP_EVENT));
	ev->armed = true;
}

void ring_event_poll(struct ring *r, struct ring_event *ev, unsigned events)
{
	struct io_uring_sqe *sqe;

	if (ev->armed)
		return;
	sqe = ring_sqe(r);
	io_uring_prep_poll_add(sqe, ev->fd, events);
	io_uring_sqe_set_data64(sqe, ring_ud(ev, RING_OP_EVENT));
	ev->armed = true;
}

void ring_event_cancel(struct ring *r, struct ring_event *ev)
{
	struct io_uring_sqe *sqe;

	if (!ev->armed)
		return;
	sqe = ring_sqe(r);
	io_uring_prep_cancel64(sqe, ring_ud(ev, RING_OP_EVENT), 0);
	io_uring_sqe_set_data64(sqe, RING_OP_NONE);
}

static void writer_submit(struct ring *r, struct ring_writer *w)
{
	struct io_uring_sqe *sqe = ring_sqe(r);

	io_uring_prep_write(sqe, w->fd, w->flight + w->flight_off,
			    w->flight_len - w->flight_off, (uint64_t)-1);
	io_uring_sqe_set_data64(sqe, ring_ud(w, RING_OP_WRITE));
	w->busy = true;
}

static void handle_write(struct ring *r, struct io_uring_cqe *cqe, void *obj)
{
	struct ring_writer *w = obj;

	w->busy = false;
	if (cqe->res > 0 && w->flight_off + (uint32_t)cqe->res < w->flight_len) {
		w->flight_off += (uint32_t)cqe->res;
		writer_submit(r, w);
		return;
	}
	if (cqe->res < 0)
		w->dropped += w->flight_len - w->flight_off;
	w->flight_len = w->flight_off = 0;
	ring_writer_flush(r, w);
}

// probe_multishot_recv checks on a socketpair that a multishot recv stays
// armed after delivering data (kernel 6.0+).
static bool probe_multishot_recv(struct io_uring *u)
{
	struct io_uring_buf_reg reg;
	struct io_uring_buf_ring *br;
	struct io_uring_cqe *cqe;
	static char bufs[2][64];
	bool ok = false;
	int sv[2];

	br = aligned_alloc(4096, 4096);
	if (!br)
		return false;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)br;
	reg.ring_entries = 2;
	reg.bgid = 7;
	io_uring_buf_ring_init(br);
	if (io_uring_register_buf_ring(u, &reg, 0) < 0)
		goto out_free;
	for (int i = 0; i < 2; i++)
		io_uring_buf_ring_add(br, bufs[i], sizeof(bufs[i]), (uint16_t)i, 1, i);
	io_uring_buf_ring_advance(br, 2);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		goto out_unreg;
	struct io_uring_sqe *sqe = io_uring_get_sqe(u);
	io_uring_prep_recv_multishot(sqe, sv[0], NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = 7;
	io_uring_sqe_set_data64(sqe, 1);
	io_uring_submit(u);
	if (write(sv[1], "x", 1) == 1 && io_uring_wait_cqe(u, &cqe) == 0) {
		ok = cqe->res == 1 && (cqe->flags & IORING_CQE_F_MORE);
		io_uring_cqe_seen(u, cqe);
	}
	close(sv[1]);
	close(sv[0]);
	// drain the final completion(s) of the recv
	while (io_uring_peek_cqe(u, &cqe) == 0)
		io_uring_cqe_seen(u, cqe);
out_unreg:
	io_uring_unregister_buf_ring(u, 7);
out_free:
	free(br);
	return ok;
}

int ring_probe(struct ring_features *out)
{
	struct io_uring_params p;
	struct io_uring_probe *probe;
	struct io_uring u;
	int err;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	if ((err = io_uring_queue_init_params(8, &u, &p)) == 0) {
		out->single_issuer = true;
	} else {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_COOP_TASKRUN;
		if ((err = io_uring_queue_init_params(8, &u, &p)) == 0) {
			out->coop_taskrun = true;
		} else {
			memset(&p, 0, sizeof(p));
			if ((err = io_uring_queue_init_params(8, &u, &p)) < 0) {
				log_emit(LOG_ERR, NULL, "io_uring: setup failed (%s), "
					 "meshgate needs io_uring (kernel.io_uring_disabled?)",
					 strerror(-err));
				return err;
			}
		}
	}
	out->ext_arg = p.features & IORING_FEAT_EXT_ARG;
	probe = io_uring_get_probe_ring(&u);
	if (probe) {
		out->send_zc = io_uring_opcode_supported(probe, IORING_OP_SEND_ZC);
		out->cancel_fd = io_uring_opcode_supported(probe, IORING_OP_SOCKET);	// 5.19+, as fd cancel
		out->accept_multishot = out->cancel_fd;
		io_uring_free_probe(probe);
	}
	out->recv_multishot = probe_multishot_recv(&u);
	io_uring_queue_exit(&u);
	if (!out->single_issuer)
		log_emit(LOG_WARN, NULL, "io_uring: no SINGLE_ISSUER/DEFER_TASKRUN, using %s",
			 out->coop_taskrun ? "COOP_TASKRUN" : "default task-run");
	if (!out->recv_multishot)
		log_emit(LOG_WARN, NULL, "io_uring: no multishot recv, using one-shot recv");
	if (!out->accept_multishot)
		log_emit(LOG_WARN, NULL, "io_uring: no multishot accept, using one-shot accept");
	if (!out->ext_arg)
		log_emit(LOG_WARN, NULL, "io_uring: no EXT_ARG, timed waits cost an extra SQE");
	return 0;
}

int ring_init(struct ring *r, unsigned entries, unsigned nbufs, unsigned buf_size,
	      const struct ring_features *feat)
{
	struct io_uring_params p;
	int err;

	memset(r, 0, sizeof(*r));
	r->feat = *feat;
	r->wake.fd = -1;
	r->wake.fn = wake_fn;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = entries * 4;
	if (feat->single_issuer)
		p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	else if (feat->coop_taskrun)
		p.flags |= IORING_SETUP_COOP_TASKRUN;
	if ((err = io_uring_queue_init_params(entries, &r->uring, &p)) < 0)
		return err;
	if (nbufs && (err = bufring_setup(&r->uring, &r->br, nbufs, buf_size)) < 0)
		goto out_ring;
	r->wake.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake.fd < 0) {
		err = -errno;
		goto out_br;
	}
	if ((err = ring_writer_init(&r->log, STDERR_FILENO, 64 * 1024)) < 0)
		goto out_fd;
	r->heap_cap = 256;
	r->heap = calloc(r->heap_cap + 1, sizeof(*r->heap));
	if (!r->heap) {
		err = -ENOMEM;
		goto out_writer;
	}
	for (int i = 0; i < 8; i++)
		r->handlers[i] = handle_none;
	r->handlers[RING_OP_EVENT] = handle_event;
	r->handlers[RING_OP_WRITE] = handle_write;
	r->now_ms = clock_mono_ms();
	return 0;
out_writer:
	ring_writer_cleanup(&r->log);
out_fd:
	close(r->wake.fd);
out_br:
	bufring_cleanup(&r->uring, &r->br);
out_ring:
	io_uring_queue_exit(&r->uring);
	return err;
}

void ring_exit(struct ring *r)
{
	bufring_cleanup(&r->uring, &r->br);
	io_uring_queue_exit(&r->uring);
	if (r->wake.fd >= 0)
		close(r->wake.fd);
	ring_writer_cleanup(&r->log);
	free(r->heap);
	r->heap = NULL;
}

struct io_uring_sqe *ring_sqe(struct ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->uring);

	if (likely(sqe))
		return sqe;
	r->sqe_full++;
	io_uring_submit(&r->uring);
	sqe = io_uring_get_sqe(&r->uring);
	BUG_ON(!sqe);
	return sqe;
}

void ring_wake(struct ring *r)
{
	uint64_t one = 1;

	if (write(r->wake.fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_emit(LOG_WARN, NULL, "ring: wake-up write failed (%s)", strerror(errno));
}

// Timer heap, 1-based, ordered by deadline.
static void heap_swap(struct ring *r, uint32_t a, uint32_t b)
{
	struct ring_timer *t = r->heap[a];

	r->heap[a] = r->heap[b];
	r->heap[b] = t;
	r->heap[a]->idx = a;
	r->heap[b]->idx = b;
}

static void heap_up(struct ring *r, uint32_t i)
{
	while (i > 1 && r->heap[i / 2]->deadline_ms > r->heap[i]->deadline_ms) {
		heap_swap(r, i, i / 2);
		i /= 2;
	}
}

static void heap_down(struct ring *r, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i, m = i;

		if (l <= r->heap_len && r->heap[l]->deadline_ms < r->heap[m]->deadline_ms)
			m = l;
		if (l + 1 <= r->heap_len && r->heap[l + 1]->deadline_ms < r->heap[m]->deadline_ms)
			m = l + 1;
		if (m == i)
			return;
		heap_swap(r, i, m);
		i = m;
	}
}

void ring_timer_cancel(struct ring *r, struct ring_timer *t)
{
	uint32_t i = t->idx;

	if (!i)
		return;
	BUG_ON(i > r->heap_len || r->heap[i] != t);
	t->idx = 0;
	if (i != r->heap_len) {
		r->heap[i] = r->heap[r->heap_len];
		r->heap[i]->idx = i;
		r->heap_len--;
		heap_down(r, i);
		heap_up(r, i);
	} else {
		r->heap_len--;
	}
}

void ring_timer_set(struct ring *r, struct ring_timer *t, uint64_t ms, ring_timer_fn *fn)
{
	t->fn = fn;
	if (t->idx) {
		uint64_t old = t->deadline_ms;

		t->deadline_ms = r->now_ms + ms;
		if (t->deadline_ms < old)
			heap_up(r, t->idx);
		else
			heap_down(r, t->idx);
		return;
	}
	if (r->heap_len == r->heap_cap) {
		struct ring_timer **h = realloc(r->heap, (r->heap_cap * 2 + 1) * sizeof(*h));

		BUG_ON(!h);	// a timer we cannot arm would leak its connection forever
		r->heap = h;
		r->heap_cap *= 2;
	}
	t->deadline_ms = r->now_ms + ms;
	r->heap[++r->heap_len] = t;
	t->idx = r->heap_len;
	heap_up(r, t->idx);
}

static void run_timers(struct ring *r)
{
	while (r->heap_len && r->heap[1]->deadline_ms <= r->now_ms) {
		struct ring_timer *t = r->heap[1];

		ring_timer_cancel(r, t);
		t->fn(t);
	}
}

int ring_run_once(struct ring *r, bool block)
{
	struct __kernel_timespec ts, *tsp = NULL;
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int err;

	bufring_publish(&r->br);
	ring_writer_flush(r, &r->log);
	ring_event_read(r, &r->wake, sizeof(uint64_t));
	if (block && r->heap_len) {
		uint64_t now = clock_mono_ms();
		uint64_t d = r->heap[1]->deadline_ms > now ? r->heap[1]->deadline_ms - now : 0;

		ts.tv_sec = (long long)(d / 1000);
		ts.tv_nsec = (long long)(d % 1000) * 1000000;
		tsp = &ts;
	}
	if (block)
		err = io_uring_submit_and_wait_timeout(&r->uring, &cqe, 1, tsp, NULL);
	else	// with DEFER_TASKRUN, completions are only posted when we ask
		err = io_uring_submit_and_get_events(&r->uring);
	if (err < 0 && err != -ETIME && err != -EINTR && err != -EBUSY)
		log_ratelimited(LOG_WARN, NULL, "ring: submit failed (%s)", strerror(-err));
	r->now_ms = clock_mono_ms();
	io_uring_for_each_cqe(&r->uring, head, cqe) {
		uint64_t ud = cqe->user_data;

		r->handlers[ud & RING_OP_MASK](r, cqe, (void *)(uintptr_t)(ud & ~RING_OP_MASK));
		n++;
	}
	io_uring_cq_advance(&r->uring, n);
	run_timers(r);
	return (int)n;
}

void ring_cancel_fd(struct ring *r, int fd)
{
	struct io_uring_sqe *sqe = ring_sqe(r);

	io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, 0);
}

int ring_writer_init(struct ring_writer *w, int fd, uint32_t cap)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->cap = cap;
	w->fill = malloc(cap);
	w->flight = malloc(cap);
	if (!w->fill || !w->flight) {
		ring_writer_cleanup(w);
		return -ENOMEM;
	}
	return 0;
}

void ring_writer_cleanup(struct ring_writer *w)
{
	free(w->fill);
	free(w->flight);
	w->fill = w->flight = NULL;
}

void ring_writer_put(struct ring_writer *w, const char *p, size_t len)
{
	if (!w->fill || len > w->cap - w->fill_len) {
		w->dropped += len;
		return;
	}
	memcpy(w->fill + w->fill_len, p, len);
	w->fill_len += (uint32_t)len;
}

void ring_writer_flush(struct ring *r, struct ring_writer *w)
{
	char *t;

	if (w->busy || !w->fill_len)
		return;
	t = w->flight;
	w->flight = w->fill;
	w->flight_len = w->fill_len;
	w->flight_off = 0;
	w->fill = t;
	w->fill_len = 0;
	writer_submit(r, w);
}
