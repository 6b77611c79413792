// SPDX-License-Identifier: Apache-2.0
// bufring.c: provided-buffer ring set up by hand (liburing 2.3 lacks
// io_uring_setup_buf_ring). Recycling is batched: one tail store per turn.
#include "bufring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int bufring_setup(struct io_uring *ring, struct bufring *br, uint32_t nbufs, uint32_t buf_size)
{
	struct io_uring_buf_reg reg;
	size_t ring_len = (size_t)nbufs * sizeof(struct io_uring_buf);
	void *p;
	int err;

	memset(br, 0, sizeof(*br));
	if (!nbufs || (nbufs & (nbufs - 1)) || nbufs > 32768)
		return -EINVAL;
	p = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	br->ring = p;
	// Prefault the buffers: their memory is the engine's fixed cost, paid
	// at start, not growth while a long body streams through.
	p = mmap(NULL, (size_t)nbufs * buf_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		goto out_ring;
	}
	br->base = p;
	br->nbufs = nbufs;
	br->buf_size = buf_size;
	br->mask = (uint32_t)io_uring_buf_ring_mask(nbufs);
	io_uring_buf_ring_init(br->ring);
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)br->ring;
	reg.ring_entries = nbufs;
	reg.bgid = BUFRING_GROUP;
	if ((err = io_uring_register_buf_ring(ring, &reg, 0)) < 0)
		goto out_base;
	for (uint32_t i = 0; i < nbufs; i++)
		io_uring_buf_ring_add(br->ring, bufring_buf(br, (uint16_t)i), buf_size,
				      (uint16_t)i, (int)br->mask, (int)i);
	io_uring_buf_ring_advance(br->ring, (int)nbufs);
	return 0;
out_base:
	munmap(br->base, (size_t)nbufs * buf_size);
out_ring:
	munmap(br->ring, ring_len);
	memset(br, 0, sizeof(*br));
	return err;
}

void bufring_cleanup(struct io_uring *ring, struct bufring *br)
{
	if (!br->ring)
		return;
	io_uring_unregister_buf_ring(ring, BUFRING_GROUP);
	munmap(br->base, (size_t)br->nbufs * br->buf_size);
	munmap(br->ring, (size_t)br->nbufs * sizeof(struct io_uring_buf));
	memset(br, 0, sizeof(*br));
}

void bufring_recycle(struct bufring *br, uint16_t bid)
{
	io_uring_buf_ring_add(br->ring, bufring_buf(br, bid), br->buf_size, bid,
			      (int)br->mask, (int)br->pending);
	br->pending++;
	br->outstanding--;
}

void bufring_publish(struct bufring *br)
{
	if (!br->pending)
		return;
	io_uring_buf_ring_advance(br->ring, (int)br->pending);
	br->pending = 0;
}
