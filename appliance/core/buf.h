// SPDX-License-Identifier: Apache-2.0
// buf.h: a growable contiguous byte buffer with a read offset. Used for the
// bytes of a message head being accumulated and for small generated output.
#ifndef MG_CORE_BUF_H
#define MG_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	char *data;
	size_t off;	// first unread byte
	size_t len;	// end of valid bytes
	size_t cap;
};

static inline void buf_init(struct buf *b) { memset(b, 0, sizeof(*b)); }
static inline size_t buf_avail(const struct buf *b) { return b->len - b->off; }
static inline char *buf_head(const struct buf *b) { return b->data + b->off; }

// buf_reserve makes room for n more bytes. It returns 0 or -ENOMEM.
int buf_reserve(struct buf *b, size_t n);

// buf_append copies n bytes in. It returns 0 or -ENOMEM.
int buf_append(struct buf *b, const void *p, size_t n);

// buf_appendf formats into the buffer. It returns 0, -ENOMEM or -EINVAL.
int buf_appendf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline int buf_appends(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

// buf_append_u64 appends v in decimal: the hot paths' numbers without
// printf. It returns 0 or -ENOMEM.
static inline int buf_append_u64(struct buf *b, uint64_t v)
{
	char d[20];
	int n = (int)sizeof(d);

	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return buf_append(b, d + n, sizeof(d) - (size_t)n);
}

// buf_consume drops n unread bytes; it resets the buffer when empty.
void buf_consume(struct buf *b, size_t n);

// buf_compact moves the unread bytes to the front.
void buf_compact(struct buf *b);

// buf_cleanup frees the storage; the buffer can be reused after buf_init.
void buf_cleanup(struct buf *b);

#endif
