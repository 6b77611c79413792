// SPDX-License-Identifier: Apache-2.0
// bug.h: invariants that stay checked in release builds. A failed BUG_ON means
// memory would be corrupted if we went on, so it aborts with the location.
#ifndef MG_CORE_BUG_H
#define MG_CORE_BUG_H

#include <stdio.h>
#include <stdlib.h>

#define BUG_ON(cond) do {						\
	if (__builtin_expect(!!(cond), 0)) {				\
		fprintf(stderr, "BUG at %s:%d: %s\n",			\
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
