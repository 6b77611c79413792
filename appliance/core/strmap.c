// SPDX-License-Identifier: Apache-2.0
// strmap.c: see strmap.h.
#include "strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

static struct strmap_slot *find(const struct strmap *m, uint64_t h, const void *key, size_t len)
{
	uint32_t mask = m->cap - 1;

	for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];

		if (!s->key || (s->hash == h && s->len == len && !memcmp(s->key, key, len)))
			return s;
	}
}

static int grow(struct strmap *m)
{
	struct strmap old = *m;
	uint32_t cap = m->cap ? m->cap * 2 : 64;

	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return -ENOMEM;
	}
	m->cap = cap;
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].hash, old.slots[i].key, old.slots[i].len) = old.slots[i];
	free(old.slots);
	return 0;
}

int strmap_put(struct strmap *m, const void *key, size_t len, uint32_t val, uint32_t *old)
{
	uint64_t h = hash64(key, len);
	struct strmap_slot *s;

	if (len > UINT32_MAX)
		return -EINVAL;
	if ((m->num + 1) * 2 > m->cap && grow(m) < 0)
		return -ENOMEM;
	s = find(m, h, key, len);
	if (s->key) {
		if (old)
			*old = s->val;
		return -EEXIST;
	}
	s->key = malloc(len ? len : 1);
	if (!s->key)
		return -ENOMEM;
	memcpy(s->key, key, len);
	s->hash = h;
	s->len = (uint32_t)len;
	s->val = val;
	m->num++;
	return 0;
}

int strmap_set(struct strmap *m, const void *key, size_t len, uint32_t val)
{
	int r = strmap_put(m, key, len, val, NULL);

	if (r == -EEXIST) {
		find(m, hash64(key, len), key, len)->val = val;
		return 0;
	}
	return r;
}

bool strmap_get(const struct strmap *m, const void *key, size_t len, uint32_t *val)
{
	const struct strmap_slot *s;

	if (!m->cap)
		return false;
	s = find(m, hash64(key, len), key, len);
	if (!s->key)
		return false;
	*val = s->val;
	return true;
}

void strmap_free(struct strmap *m)
{
	for (uint32_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	m->slots = NULL;
	m->cap = m->num = 0;
}
