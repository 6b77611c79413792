// SPDX-License-Identifier: Apache-2.0
// sock.h: stream sockets driven entirely on a ring: multishot recv into
// provided buffers (pausable for backpressure), a copy-in send queue with one
// send in flight, connect, shutdown, and a close that completes only when no
// operation references the socket any more. Listeners use multishot accept.
#ifndef MG_KB_SOCK_H
#define MG_KB_SOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "ring.h"

struct sock;

// sock_filter_ops transform the byte stream between the owner and the
// socket (TLS is one). The owner keeps reading plaintext through .recv and
// writing it into sock_out(); the filter sees wire bytes only.
struct sock_filter_ops {
	// input: wire bytes arrived. The filter hands plaintext to the owner
	// with sock_deliver() and may queue wire bytes (a handshake answer)
	// into s->wire. It returns 0, 1 for a clean end of stream (the peer's
	// close_notify), or -errno, which ends the stream: .eof(err) follows.
	int (*input)(struct sock *s, const char *data, size_t len);
	// output: move what it can of plain (the owner's bytes) into wire.
	// Bytes it cannot take yet (handshake unfinished) stay in plain.
	int (*output)(struct sock *s, struct buf *plain, struct buf *wire);
	// shutdown: queue the end-of-stream message (close_notify) into wire.
	void (*shutdown)(struct sock *s, struct buf *wire);
	// release: the sock is closed; free the filter state. Called just
	// before .closed.
	void (*release)(struct sock *s);
};

// sock_ops are the owner's callbacks. None of them may free the sock: that
// happens only in .closed, after the last completion that names it.
struct sock_ops {
	// recv: len > 0 bytes arrived; data is valid during the call only.
	void (*recv)(struct sock *s, const char *data, size_t len);
	// eof: the peer closed its side (err 0) or recv failed (-errno).
	void (*eof)(struct sock *s, int err);
	// drained: the send queue became empty. Optional.
	void (*drained)(struct sock *s);
	// send_error: a send failed (-EPIPE, -ECONNRESET, ...).
	void (*send_error)(struct sock *s, int err);
	// connected: sock_connect finished with 0 or -errno. Optional.
	void (*connected)(struct sock *s, int err);
	// closed: every operation is done and the queues are freed; the owner
	// frees the sock now.
	void (*closed)(struct sock *s);
};

enum {
	SOCK_RECV_WANT = 1u << 0,	// the owner wants data
	SOCK_RECV_ARMED = 1u << 1,	// a (multishot) recv is in flight
	SOCK_RECV_CANCEL = 1u << 2,	// a cancel for it is in flight
	SOCK_SENDING = 1u << 3,
	SOCK_CONNECTING = 1u << 4,
	SOCK_CLOSING = 1u << 5,
	SOCK_CLOSE_AFTER_FLUSH = 1u << 6,
	SOCK_EOF = 1u << 7,		// eof delivered, recv never re-armed
	SOCK_SHUT_WR = 1u << 8,
	SOCK_CLOSE_SENT = 1u << 9,	// the CLOSE op is in flight
	SOCK_FILTER_EOF = 1u << 10,	// the filter ended the stream
};

struct sock {
	struct ring *ring;
	const struct sock_ops *ops;
	int fd;
	uint16_t flags;
	uint16_t inflight;	// operations whose completion names this sock
	struct buf out;		// bytes queued, not yet handed to the kernel
	struct buf flight;	// bytes of the send in flight
	struct buf wire;	// with a filter: its output, waiting to be sent
	struct io_uring_sqe *send_sqe;	// the SEND of flight, while it may be unsubmitted
	const struct sock_filter_ops *filter;
	void *filter_ctx;
	struct sockaddr_storage connect_addr;
	uint64_t bytes_in, bytes_out;
};

// sock_attach installs the socket completion handlers on a ring.
void sock_attach(struct ring *r);

// sock_init wraps a connected or connecting non-blocking fd (takes
// ownership: sock_close closes it).
void sock_init(struct sock *s, struct ring *r, int fd, const struct sock_ops *ops);

// sock_recv_start asks for data; sock_recv_stop pauses (backpressure):
// data already on its way may still be delivered until the recv is gone.
void sock_recv_start(struct sock *s);
void sock_recv_stop(struct sock *s);

// sock_send queues a copy of p[0..len) and starts sending. It returns 0 or
// -ENOMEM / -EPIPE (closing).
int sock_send(struct sock *s, const void *p, size_t len);

// sock_out returns the queue buffer to format into directly; call
// sock_flush afterwards.
static inline struct buf *sock_out(struct sock *s) { return &s->out; }
void sock_flush(struct sock *s);

// sock_pending is the number of bytes queued or in flight.
static inline size_t sock_pending(const struct sock *s)
{
	return buf_avail(&s->out) + buf_avail(&s->wire) + buf_avail(&s->flight);
}

// sock_set_filter installs a stream filter (before any data flows, or from
// inside .recv when the owner decides on the first bytes). The filter's
// state is ctx; it is released with the sock.
void sock_set_filter(struct sock *s, const struct sock_filter_ops *f, void *ctx);

// sock_filter_input runs the filter over bytes the owner already received
// raw (it sniffed them before installing the filter).
void sock_filter_input(struct sock *s, const char *data, size_t len);

// sock_deliver is the filter's way to hand plaintext to the owner.
static inline void sock_deliver(struct sock *s, const char *data, size_t len)
{
	s->ops->recv(s, data, len);
}

// sock_connect starts a connect to sa. .connected reports the result.
void sock_connect(struct sock *s, const struct sockaddr *sa, socklen_t len);

// sock_shutdown_wr sends FIN once the queue is flushed.
void sock_shutdown_wr(struct sock *s);

// sock_close cancels everything and closes; .closed follows. With
// flush_first, queued bytes are sent first; a peer that never reads can
// hold that forever, so the caller bounds it with a timer that calls
// sock_close(s, false), which always proceeds.
void sock_close(struct sock *s, bool flush_first);

// sock_listener accepts connections with multishot accept.
struct sock_listener {
	struct ring *ring;
	int fd;
	bool armed;
	bool stopped;
	void (*on_accept)(struct sock_listener *l, int fd);
	void *owner;
	struct ring_timer retry;	// backoff after EMFILE/ENFILE/ENOMEM
	uint64_t errors;
};

// sock_listen_fd creates a bound listening socket with SO_REUSEPORT (so
// every worker has its own). It returns the fd or -errno.
int sock_listen_fd(const struct sockaddr *sa, socklen_t len, int backlog);

// sock_listener_start arms accept; sock_listener_stop cancels it and closes
// the fd (drain: stop accepting).
void sock_listener_start(struct sock_listener *l, struct ring *r, int fd);
void sock_listener_stop(struct sock_listener *l);

#endif
