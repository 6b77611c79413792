// SPDX-License-Identifier: Apache-2.0
// snapshot.c: reference counting and host lookup on immutable snapshots;
// safe from any thread since nothing here writes a snapshot.
#include "snapshot.h"

#include <string.h>

#include "arena.h"
#include "hash.h"

void snapshot_ref(struct snapshot *s)
{
	__atomic_add_fetch(&s->refcnt, 1, __ATOMIC_RELAXED);
}

void snapshot_unref(struct snapshot *s)
{
	if (!s || __atomic_sub_fetch(&s->refcnt, 1, __ATOMIC_ACQ_REL))
		return;
	for (struct snap_cleanup *c = s->cleanups; c; c = c->next)
		c->fn(c->arg);
	arena_free(s->arena);
}

const struct snap_vhost *snapshot_find_vhost(const struct snapshot *s,
					     const char *host, size_t len)
{
	if (s->vhost_index_mask) {
		uint32_t i = (uint32_t)hash64(host, len) & s->vhost_index_mask;

		for (;; i = (i + 1) & s->vhost_index_mask) {
			uint32_t v = s->vhost_index[i];
			const struct snap_vhost *vh;

			if (!v)
				break;
			vh = &s->vhosts[v - 1];
			if (!vh->wildcard && strlen(vh->name) == len &&
			    !memcmp(vh->name, host, len))
				return vh;
		}
	}
	for (uint32_t i = 0; i < s->num_wildcards; i++) {
		const struct snap_vhost *vh = s->wildcards[i];
		size_t sl = strlen(vh->name) - 1;	// ".example.com" or "" for "*"

		if (!sl)
			return vh;
		if (len > sl && !memcmp(host + len - sl, vh->name + 1, sl))
			return vh;
	}
	return NULL;
}
