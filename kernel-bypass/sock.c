// SPDX-License-Identifier: Apache-2.0
// sock.c: ring-driven stream sockets and listeners. Every operation that
// names a sock counts in ->inflight; .closed runs only when that count drops
// to zero after sock_close, so no completion ever finds freed memory.
#include "sock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "core/bug.h"
#include "core/log.h"

static void submit_recv(struct sock *s)
{
	struct io_uring_sqe *sqe = ring_sqe(s->ring);

	if (s->ring->feat.recv_multishot)
		io_uring_prep_recv_multishot(sqe, s->fd, NULL, 0, 0);
	else
		io_uring_prep_recv(sqe, s->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BUFRING_GROUP;
	io_uring_sqe_set_data64(sqe, ring_ud(s, RING_OP_RECV));
	s->inflight++;
	s->flags |= SOCK_RECV_ARMED;
}

static void submit_send(struct sock *s)
{
	struct io_uring_sqe *sqe = ring_sqe(s->ring);

	io_uring_prep_send(sqe, s->fd, buf_head(&s->flight), buf_avail(&s->flight),
			   MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ring_ud(s, RING_OP_SEND));
	s->send_sqe = sqe;
	s->inflight++;
	s->flags |= SOCK_SENDING;
}

// merge_unsubmitted appends q to the send in flight if that SEND is still
// in the submission queue: what one completion handler queues after its
// first flush (a response, then the close_notify a shutdown adds) leaves in
// one send instead of one send and one packet each. The kernel reads the
// SQE only when it is submitted, so until then its buffer may still grow
// and move. It returns true if it took q.
static bool merge_unsubmitted(struct sock *s, struct buf *q)
{
	const struct io_uring_sq *sq = &s->ring->uring.sq;
	struct io_uring_sqe *sqe = s->send_sqe;
	unsigned shift = s->ring->uring.flags & IORING_SETUP_SQE128 ? 1 : 0;
	unsigned idx;

	if (!sqe || buf_avail(&s->flight) + buf_avail(q) > (1u << 30))
		return false;
	// queued but unsubmitted SQEs are the slots of [sqe_head, sqe_tail)
	idx = (unsigned)(sqe - sq->sqes) >> shift;
	if (((idx - sq->sqe_head) & sq->ring_mask) >= sq->sqe_tail - sq->sqe_head ||
	    sqe->user_data != ring_ud(s, RING_OP_SEND))
		return false;
	if (buf_append(&s->flight, buf_head(q), buf_avail(q)) < 0)
		return false;
	q->off = q->len = 0;
	sqe->addr = (uint64_t)(uintptr_t)buf_head(&s->flight);
	sqe->len = (uint32_t)buf_avail(&s->flight);
	return true;
}

static void cancel_op(struct sock *s, enum ring_op op)
{
	struct io_uring_sqe *sqe = ring_sqe(s->ring);

	io_uring_prep_cancel64(sqe, ring_ud(s, op), 0);
	io_uring_sqe_set_data64(sqe, 0);
}

// send_fin shuts the write side down now, once every queued byte is in the
// socket. TCP's shutdown never blocks; as a ring op it is always punted to
// an io-wq thread (a thread wake-up and two context switches per
// connection), so it is a plain syscall.
static void send_fin(struct sock *s)
{
	if (shutdown(s->fd, SHUT_WR) < 0 && errno != ENOTCONN)
		log_ratelimited(LOG_DEBUG, NULL, "shutdown(SHUT_WR) failed (%s), ignored",
				strerror(errno));
}

// maybe_closed moves a closing sock along: the fd is closed only once no
// operation can still resolve its number (a completion naming it could
// otherwise act on whatever connection the kernel hands that number to
// next).
static void maybe_closed(struct sock *s)
{
	struct io_uring_sqe *sqe;

	if (!(s->flags & SOCK_CLOSING) || s->inflight)
		return;
	if (!(s->flags & SOCK_CLOSE_SENT)) {
		sqe = ring_sqe(s->ring);
		io_uring_prep_close(sqe, s->fd);
		io_uring_sqe_set_data64(sqe, ring_ud(s, RING_OP_CLOSE));
		s->inflight++;
		s->flags |= SOCK_CLOSE_SENT;
		s->fd = -1;
		return;
	}
	buf_cleanup(&s->out);
	buf_cleanup(&s->flight);
	buf_cleanup(&s->wire);
	if (s->filter && s->filter->release)
		s->filter->release(s);
	s->filter = NULL;
	s->ops->closed(s);
}

void sock_init(struct sock *s, struct ring *r, int fd, const struct sock_ops *ops)
{
	memset(s, 0, sizeof(*s));
	BUG_ON((uintptr_t)s & RING_OP_MASK);
	s->ring = r;
	s->fd = fd;
	s->ops = ops;
}

void sock_recv_start(struct sock *s)
{
	if (s->flags & (SOCK_CLOSING | SOCK_EOF))
		return;
	s->flags |= SOCK_RECV_WANT;
	if (!(s->flags & SOCK_RECV_ARMED))
		submit_recv(s);
}

void sock_recv_stop(struct sock *s)
{
	s->flags &= (uint16_t)~SOCK_RECV_WANT;
	// A one-shot recv ends by itself; a multishot one must be cancelled or
	// it would keep draining the socket and defeat TCP flow control.
	if ((s->flags & SOCK_RECV_ARMED) && !(s->flags & SOCK_RECV_CANCEL) &&
	    s->ring->feat.recv_multishot) {
		cancel_op(s, RING_OP_RECV);
		s->flags |= SOCK_RECV_CANCEL;
	}
}

void sock_flush(struct sock *s)
{
	struct buf t, *q = &s->out;
	int err;

	if (s->flags & (SOCK_CLOSING | SOCK_CONNECTING))
		return;
	if (s->filter) {
		q = &s->wire;
		if (buf_avail(&s->out) &&
		    (err = s->filter->output(s, &s->out, &s->wire)) < 0) {
			// cannot encode: drop what is queued, the owner learns
			// of it as a send error
			s->out.off = s->out.len = 0;
			if (!(s->flags & SOCK_SENDING))
				s->ops->send_error(s, err);
			return;
		}
	}
	if (!buf_avail(q))
		return;
	if (s->flags & SOCK_SENDING) {
		merge_unsubmitted(s, q);
		return;
	}
	// The kernel reads the flight buffer until the send completes; new
	// bytes go to the other buffer meanwhile, so neither moves under it.
	t = s->flight;
	s->flight = *q;
	*q = t;
	q->off = q->len = 0;
	submit_send(s);
}

void sock_set_filter(struct sock *s, const struct sock_filter_ops *f, void *ctx)
{
	s->filter = f;
	s->filter_ctx = ctx;
}

// filter_eof ends the stream on the filter's word (error or close_notify).
static void filter_eof(struct sock *s, int err)
{
	if (s->flags & (SOCK_EOF | SOCK_CLOSING))
		return;
	s->flags |= SOCK_EOF | SOCK_FILTER_EOF;
	s->flags &= (uint16_t)~SOCK_RECV_WANT;
	s->ops->eof(s, err);
}

void sock_filter_input(struct sock *s, const char *data, size_t len)
{
	int res;

	if (s->flags & (SOCK_FILTER_EOF | SOCK_CLOSING))
		return;
	res = s->filter->input(s, data, len);
	if (s->flags & SOCK_CLOSING)
		return;
	sock_flush(s);		// handshake messages, alerts
	if (res != 0 && !(s->flags & SOCK_CLOSING))
		filter_eof(s, res > 0 ? 0 : res);
}

int sock_send(struct sock *s, const void *p, size_t len)
{
	int err;

	if (s->flags & (SOCK_CLOSING | SOCK_SHUT_WR))
		return -EPIPE;
	if ((err = buf_append(&s->out, p, len)) < 0)
		return err;
	sock_flush(s);
	return 0;
}

void sock_connect(struct sock *s, const struct sockaddr *sa, socklen_t len)
{
	struct io_uring_sqe *sqe = ring_sqe(s->ring);

	memcpy(&s->connect_addr, sa, len);
	io_uring_prep_connect(sqe, s->fd, (struct sockaddr *)&s->connect_addr, len);
	io_uring_sqe_set_data64(sqe, ring_ud(s, RING_OP_CONNECT));
	s->inflight++;
	s->flags |= SOCK_CONNECTING;
}

void sock_shutdown_wr(struct sock *s)
{
	if (s->flags & (SOCK_SHUT_WR | SOCK_CLOSING))
		return;
	if (s->filter) {
		sock_flush(s);	// the owner's last bytes go before the alert
		s->filter->shutdown(s, &s->wire);
	}
	s->flags |= SOCK_SHUT_WR;
	sock_flush(s);
	if (!sock_pending(s))
		send_fin(s);
}

void sock_close(struct sock *s, bool flush_first)
{
	if (s->flags & SOCK_CLOSING)
		return;
	if (flush_first && s->filter && !(s->flags & (SOCK_SHUT_WR | SOCK_CONNECTING))) {
		sock_flush(s);
		s->filter->shutdown(s, &s->wire);
		s->flags |= SOCK_SHUT_WR;
	}
	if (flush_first && sock_pending(s) && !(s->flags & SOCK_CONNECTING)) {
		s->flags |= SOCK_CLOSE_AFTER_FLUSH;
		sock_recv_stop(s);
		sock_flush(s);
		if (s->flags & SOCK_SENDING)
			return;	// handle_send closes once the queue is empty
		// nothing can go out any more: close now
	}
	s->flags |= SOCK_CLOSING;
	s->flags &= (uint16_t)~SOCK_RECV_WANT;
	if ((s->flags & SOCK_RECV_ARMED) && !(s->flags & SOCK_RECV_CANCEL))
		cancel_op(s, RING_OP_RECV);
	if (s->flags & SOCK_SENDING)
		cancel_op(s, RING_OP_SEND);
	if (s->flags & SOCK_CONNECTING)
		cancel_op(s, RING_OP_CONNECT);
	maybe_closed(s);
}

static void handle_recv(struct ring *r, struct io_uring_cqe *cqe, void *obj)
{
	struct sock *s = obj;
	bool more = cqe->flags & IORING_CQE_F_MORE;
	int res = cqe->res;

	if (!more) {
		s->inflight--;
		s->flags &= (uint16_t)~(SOCK_RECV_ARMED | SOCK_RECV_CANCEL);
	}
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);

		r->br.outstanding++;
		if (res > 0 && !(s->flags & SOCK_CLOSING)) {
			s->bytes_in += (uint64_t)res;
			if (s->filter)
				sock_filter_input(s, bufring_buf(&r->br, bid), (size_t)res);
			else
				s->ops->recv(s, bufring_buf(&r->br, bid), (size_t)res);
		}
		bufring_recycle(&r->br, bid);
	}
	if (s->flags & SOCK_CLOSING) {
		maybe_closed(s);
		return;
	}
	if (res == 0 || (res < 0 && res != -ENOBUFS && res != -ECANCELED)) {
		if (s->flags & SOCK_EOF)
			return;
		s->flags |= SOCK_EOF;
		s->flags &= (uint16_t)~SOCK_RECV_WANT;
		s->ops->eof(s, res);
		return;
	}
	if (res == -ENOBUFS)
		log_ratelimited(LOG_WARN, NULL, "recv: provided buffers exhausted, re-arming");
	if (!(s->flags & SOCK_RECV_ARMED) && (s->flags & SOCK_RECV_WANT) &&
	    !(s->flags & (SOCK_EOF | SOCK_CLOSING)))
		submit_recv(s);
}

static void handle_send(struct ring *r, struct io_uring_cqe *cqe, void *obj)
{
	struct sock *s = obj;
	int res = cqe->res;

	s->inflight--;
	s->flags &= (uint16_t)~SOCK_SENDING;
	s->send_sqe = NULL;
	if (s->flags & SOCK_CLOSING) {
		maybe_closed(s);
		return;
	}
	if (res < 0) {
		s->flight.off = s->flight.len = 0;
		s->out.off = s->out.len = 0;
		s->wire.off = s->wire.len = 0;
		// the owner already asked for the close: finish it here, its
		// callbacks may no longer be listening
		if (s->flags & SOCK_CLOSE_AFTER_FLUSH) {
			sock_close(s, false);
			return;
		}
		s->ops->send_error(s, res);
		return;
	}
	s->bytes_out += (uint64_t)res;
	buf_consume(&s->flight, (size_t)res);
	if (buf_avail(&s->flight)) {
		submit_send(s);
		return;
	}
	if (buf_avail(&s->out) || buf_avail(&s->wire)) {
		sock_flush(s);
		if (s->flags & SOCK_SENDING)
			return;
		// a filter may hold plaintext it cannot encode yet
	}
	if (s->flags & SOCK_CLOSE_AFTER_FLUSH) {
		sock_close(s, false);
		return;
	}
	if (sock_pending(s))
		return;		// plaintext waits for the filter's handshake
	if (s->flags & SOCK_SHUT_WR)
		send_fin(s);
	if (s->ops->drained)
		s->ops->drained(s);
}

static void handle_connect(struct ring *r, struct io_uring_cqe *cqe, void *obj)
{
	struct sock *s = obj;

	s->inflight--;
	s->flags &= (uint16_t)~SOCK_CONNECTING;
	if (s->flags & SOCK_CLOSING) {
		maybe_closed(s);
		return;
	}
	s->ops->connected(s, cqe->res);
	if (!(s->flags & SOCK_CLOSING))
		sock_flush(s);
}

static void handle_close(struct ring *r, struct io_uring_cqe *cqe, void *obj)
{
	struct sock *s = obj;

	s->inflight--;
	maybe_closed(s);
}

static void submit_accept(struct sock_listener *l)
{
	struct io_uring_sqe *sqe = ring_sqe(l->ring);

	if (l->ring->feat.accept_multishot)
		io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	else
		io_uring_prep_accept(sqe, l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, ring_ud(l, RING_OP_ACCEPT));
	l->armed = true;
}

static void accept_retry(struct ring_timer *t)
{
	struct sock_listener *l = container_of(t, struct sock_listener, retry);

	if (!l->stopped && !l->armed)
		submit_accept(l);
}

static void handle_accept(struct ring *r, struct io_uring_cqe *cqe, void *obj)
{
	struct sock_listener *l = obj;
	bool more = cqe->flags & IORING_CQE_F_MORE;

	if (!more)
		l->armed = false;
	if (cqe->res >= 0) {
		if (l->stopped)
			close(cqe->res);
		else
			l->on_accept(l, cqe->res);
	} else if (cqe->res != -ECANCELED) {
		l->errors++;
		// Out of descriptors or memory: pause accepting instead of
		// spinning on an error the next accept would hit again.
		if (cqe->res == -EMFILE || cqe->res == -ENFILE || cqe->res == -ENOMEM ||
		    cqe->res == -ENOBUFS) {
			log_ratelimited(LOG_WARN, NULL, "accept failed (%s), pausing 100 ms",
					strerror(-cqe->res));
			if (!l->stopped && !l->armed)
				ring_timer_set(r, &l->retry, 100, accept_retry);
			return;
		}
		log_ratelimited(LOG_WARN, NULL, "accept failed (%s)", strerror(-cqe->res));
	}
	if (l->stopped) {
		if (!l->armed && l->fd >= 0) {
			close(l->fd);
			l->fd = -1;
		}
		return;
	}
	if (!l->armed)
		submit_accept(l);
}

void sock_attach(struct ring *r)
{
	r->handlers[RING_OP_ACCEPT] = handle_accept;
	r->handlers[RING_OP_RECV] = handle_recv;
	r->handlers[RING_OP_SEND] = handle_send;
	r->handlers[RING_OP_CONNECT] = handle_connect;
	r->handlers[RING_OP_CLOSE] = handle_close;
}

int sock_listen_fd(const struct sockaddr *sa, socklen_t len, int backlog)
{
	int fd, one = 1, err;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto out_err;
	if (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto out_err;
	// Accepted sockets inherit TCP_NODELAY: one syscall per listener, not
	// per connection.
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		log_emit(LOG_WARN, NULL, "setsockopt(TCP_NODELAY) failed (%s), ignored",
			 strerror(errno));
	if (bind(fd, sa, len) < 0 || listen(fd, backlog) < 0)
		goto out_err;
	return fd;
out_err:
	err = -errno;
	close(fd);
	return err;
}

void sock_listener_start(struct sock_listener *l, struct ring *r, int fd)
{
	BUG_ON((uintptr_t)l & RING_OP_MASK);
	l->ring = r;
	l->fd = fd;
	l->stopped = false;
	submit_accept(l);
}

void sock_listener_stop(struct sock_listener *l)
{
	if (l->stopped)
		return;
	l->stopped = true;
	ring_timer_cancel(l->ring, &l->retry);
	if (l->armed) {
		struct io_uring_sqe *sqe = ring_sqe(l->ring);

		io_uring_prep_cancel64(sqe, ring_ud(l, RING_OP_ACCEPT), 0);
		io_uring_sqe_set_data64(sqe, 0);
		// the fd is closed when the accept's final completion arrives
		return;
	}
	if (l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
}
