// SPDX-License-Identifier: Apache-2.0
// buf.c: growable byte buffers. Growth doubles; memory is returned only by
// buf_cleanup, so a connection reuses its buffer across requests.
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->cap - b->len >= n)
		return 0;
	if (b->off && b->cap - (b->len - b->off) >= n) {
		buf_compact(b);
		return 0;
	}
	need = b->len - b->off + n;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if (b->off) {
		p = malloc(cap);
		if (!p)
			return -ENOMEM;
		memcpy(p, b->data + b->off, b->len - b->off);
		free(b->data);
		b->len -= b->off;
		b->off = 0;
	} else {
		p = realloc(b->data, cap);
		if (!p)
			return -ENOMEM;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
	int err;

	if (!n)
		return 0;
	if ((err = buf_reserve(b, n)) < 0)
		return err;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(b->data ? b->data + b->len : NULL, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < b->cap - b->len) {
		b->len += (size_t)n;
		return 0;
	}
	if ((err = buf_reserve(b, (size_t)n + 1)) < 0)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void buf_compact(struct buf *b)
{
	if (!b->off)
		return;
	memmove(b->data, b->data + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

void buf_cleanup(struct buf *b)
{
	free(b->data);
	buf_init(b);
}
