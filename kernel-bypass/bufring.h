// SPDX-License-Identifier: Apache-2.0
// bufring.h: a provided-buffer ring (IORING_REGISTER_PBUF_RING) for
// multishot recv. A buffer belongs to the kernel until its CQE names it, and
// to us until bufring_recycle() gives it back.
#ifndef MG_KB_BUFRING_H
#define MG_KB_BUFRING_H

#include <liburing.h>
#include <stdint.h>

enum { BUFRING_GROUP = 0 };

struct bufring {
	struct io_uring_buf_ring *ring;
	char *base;		// nbufs * buf_size bytes, prefaulted
	uint32_t nbufs, buf_size, mask;
	uint32_t pending;	// recycled since the last publish
	uint32_t outstanding;	// buffers handed to us and not yet recycled
};

// bufring_setup registers nbufs buffers of buf_size with the ring. It
// returns 0 or -errno.
int bufring_setup(struct io_uring *ring, struct bufring *br, uint32_t nbufs, uint32_t buf_size);
void bufring_cleanup(struct io_uring *ring, struct bufring *br);

static inline char *bufring_buf(const struct bufring *br, uint16_t bid)
{
	return br->base + (size_t)bid * br->buf_size;
}

// bufring_recycle hands buffer bid back; bufring_publish makes every
// recycled buffer visible to the kernel at once (once per loop turn).
void bufring_recycle(struct bufring *br, uint16_t bid);
void bufring_publish(struct bufring *br);

#endif
