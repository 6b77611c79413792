// SPDX-License-Identifier: Apache-2.0
// hash.h: XXH3 for tables and snapshot versions.
#ifndef MG_CORE_HASH_H
#define MG_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

static inline uint64_t hash64(const void *p, size_t len)
{
	return XXH3_64bits(p, len);
}

static inline uint64_t hash64_seed(const void *p, size_t len, uint64_t seed)
{
	return XXH3_64bits_withSeed(p, len, seed);
}

#endif
