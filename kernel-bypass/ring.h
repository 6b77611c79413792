// SPDX-License-Identifier: Apache-2.0
// ring.h: one io_uring event loop per thread. Operations carry a packed
// user_data (object pointer | op code in the low 3 bits); completions are
// reaped in batches and dispatched to the object's handler. Timers live in a
// user-space heap and bound the wait; other threads wake a loop through an
// eventfd read that is always pending on its ring.
#ifndef MG_KB_RING_H
#define MG_KB_RING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "bufring.h"

// Op codes packed into the low bits of user_data. Objects are 8-aligned.
enum ring_op {
	RING_OP_NONE = 0,	// completions we ignore (cancels)
	RING_OP_ACCEPT,
	RING_OP_RECV,
	RING_OP_SEND,
	RING_OP_CONNECT,
	RING_OP_CLOSE,		// close and shutdown
	RING_OP_EVENT,		// a ring_event read (eventfd, signalfd)
	RING_OP_WRITE,
};

#define RING_OP_MASK 7ull

static inline uint64_t ring_ud(void *obj, enum ring_op op)
{
	return (uint64_t)(uintptr_t)obj | (uint64_t)op;
}

struct ring;
struct ring_timer;
struct ring_event;

// ring_event_fn handles the completion of a ring_event_read.
typedef void ring_event_fn(struct ring *r, int res, struct ring_event *ev);

// ring_event reads a small fixed record (eventfd counter, signalfd_siginfo)
// from an fd through the ring; re-arm it from the callback.
struct ring_event {
	int fd;
	bool armed;
	ring_event_fn *fn;
	char data[512];		// fits an inotify event with the longest name
};

typedef void ring_timer_fn(struct ring_timer *t);

// ring_timer is embedded in its owner. idx is its heap slot, 0 when idle.
struct ring_timer {
	uint64_t deadline_ms;
	uint32_t idx;
	ring_timer_fn *fn;
};

// ring_handler_fn handles a completion for an object that registered op.
typedef void ring_handler_fn(struct ring *r, struct io_uring_cqe *cqe, void *obj);

struct ring_features {
	bool single_issuer;	// IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN
	bool coop_taskrun;
	bool ext_arg;		// wait with timeout in one syscall
	bool recv_multishot;
	bool accept_multishot;
	bool send_zc;
	bool cancel_fd;
};

// ring_writer sends log and access-log bytes to a file descriptor through
// the ring without blocking: one write in flight, a second buffer filling.
struct ring_writer {
	int fd;
	bool busy;
	char *fill, *flight;
	uint32_t fill_len, flight_len, flight_off, cap;
	uint64_t dropped;	// bytes dropped because both buffers were full
};

struct ring {
	struct io_uring uring;
	struct bufring br;
	struct ring_features feat;
	uint64_t now_ms;		// monotonic, updated once per loop turn
	// timer heap (1-based)
	struct ring_timer **heap;
	uint32_t heap_len, heap_cap;
	// cross-thread wake-ups
	struct ring_event wake;
	void (*on_wake)(struct ring *r);
	// handlers per op
	ring_handler_fn *handlers[8];
	struct ring_writer log;		// stderr for this thread's log lines
	void *owner;			// the worker or control thread
	uint64_t sqe_full;		// times the SQ was full and we flushed early
};

// ring_probe fills the kernel features once per process (on a throwaway
// ring). It logs what is missing. It returns 0 or -errno if io_uring itself
// is unusable.
int ring_probe(struct ring_features *out);

// ring_init sets up a ring with `entries` SQEs and a provided-buffer ring of
// nbufs x buf_size (nbufs a power of two; 0 = none). Call it on the thread
// that will run the loop (single issuer). It returns 0 or -errno.
int ring_init(struct ring *r, unsigned entries, unsigned nbufs, unsigned buf_size,
	      const struct ring_features *feat);
void ring_exit(struct ring *r);

// ring_sqe returns a submission entry, flushing the queue if it is full.
struct io_uring_sqe *ring_sqe(struct ring *r);

// ring_run_once submits what is queued, waits for a completion or the next
// timer (no wait when !block), dispatches every completion and expired
// timer. It returns the number of completions handled.
int ring_run_once(struct ring *r, bool block);

// ring_timer_set arms (or re-arms) t to fire at now + ms.
void ring_timer_set(struct ring *r, struct ring_timer *t, uint64_t ms, ring_timer_fn *fn);
void ring_timer_cancel(struct ring *r, struct ring_timer *t);
static inline bool ring_timer_armed(const struct ring_timer *t) { return t->idx != 0; }

// ring_wake wakes r's thread from any thread; r->on_wake runs there.
void ring_wake(struct ring *r);

// ring_writer_init prepares w for fd with two buffers of cap bytes.
int ring_writer_init(struct ring_writer *w, int fd, uint32_t cap);
void ring_writer_cleanup(struct ring_writer *w);
// ring_writer_put copies len bytes for writing; drops them (counting) when
// the buffers are full. ring_writer_flush starts a write if none is in flight.
void ring_writer_put(struct ring_writer *w, const char *p, size_t len);
void ring_writer_flush(struct ring *r, struct ring_writer *w);

// ring_event_read arms ev to read len (<= sizeof(ev->data)) bytes from ev->fd.
void ring_event_read(struct ring *r, struct ring_event *ev, size_t len);

// ring_event_poll arms ev as a one-shot poll for events (POLLIN, POLLOUT)
// on ev->fd: fn gets the ready mask, or -errno (-ECANCELED after
// ring_event_cancel). For sockets a library drives itself (c-ares).
void ring_event_poll(struct ring *r, struct ring_event *ev, unsigned events);

// ring_event_cancel cancels ev's read or poll if armed; fn still runs once
// for it (with -ECANCELED unless it completed first), so ev must live
// until then.
void ring_event_cancel(struct ring *r, struct ring_event *ev);

// ring_cancel_fd cancels every operation on fd (completions follow).
void ring_cancel_fd(struct ring *r, int fd);

#endif
