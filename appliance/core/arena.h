// SPDX-License-Identifier: Apache-2.0
// arena.h: a bump allocator for data freed all at once (snapshots, parsed
// configuration). Allocations are 16-byte aligned and zeroed.
#ifndef MG_CORE_ARENA_H
#define MG_CORE_ARENA_H

#include <stddef.h>

struct arena_chunk;

// arena is public so callers can embed one (arena_init/arena_cleanup) or
// allocate one (arena_new/arena_free).
struct arena {
	struct arena_chunk *head;	// chunk being carved; older ones follow
	size_t total;			// bytes obtained from malloc so far
};

// arena_init prepares caller storage; arena_cleanup frees what it holds
// (the arena can be reused after arena_init).
void arena_init(struct arena *a);
void arena_cleanup(struct arena *a);

// arena_new returns an empty arena, or NULL on ENOMEM.
struct arena *arena_new(void);
// arena_free frees the arena and everything allocated from it.
void arena_free(struct arena *a);
// arena_alloc returns n zeroed bytes owned by the arena, or NULL.
void *arena_alloc(struct arena *a, size_t n);
// arena_alloc_array is arena_alloc for nmemb elements, NULL on overflow.
void *arena_alloc_array(struct arena *a, size_t nmemb, size_t size);
// arena_strndup copies s[0..n) plus a NUL into the arena, or returns NULL.
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
// arena_sprintf formats into the arena, or returns NULL.
char *arena_sprintf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
// arena_bytes is the memory the arena holds.
size_t arena_bytes(const struct arena *a);

#endif
