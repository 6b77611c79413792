// SPDX-License-Identifier: Apache-2.0
// strmap.h: a map from byte-string keys to uint32_t values (open addressing,
// XXH3, grows at half full). Keys are copied. For the control plane's
// lookups by name, which must stay O(1) at tens of thousands of resources.
#ifndef MG_CORE_STRMAP_H
#define MG_CORE_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap {
	struct strmap_slot {
		uint64_t hash;
		char *key;		// NULL: empty
		uint32_t len;
		uint32_t val;
	} *slots;
	uint32_t cap, num;	// cap is 0 or a power of two
};

// strmap_put adds key -> val. It returns 0, -EEXIST when key is there (its
// value is left alone and stored in *old when old is not NULL), or -ENOMEM.
int strmap_put(struct strmap *m, const void *key, size_t len, uint32_t val, uint32_t *old);

// strmap_set adds key -> val or replaces the value of key: 0 or -ENOMEM.
int strmap_set(struct strmap *m, const void *key, size_t len, uint32_t val);

// strmap_get finds key; it returns false when absent.
bool strmap_get(const struct strmap *m, const void *key, size_t len, uint32_t *val);

// strmap_free releases the map (a zeroed map is empty and needs no init).
void strmap_free(struct strmap *m);

#endif
