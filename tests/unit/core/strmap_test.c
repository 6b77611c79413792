// SPDX-License-Identifier: Apache-2.0
// strmap_test: puts, duplicates, replacement, lookups of absent keys (with
// and without a shared prefix, empty and binary keys), growth through many
// keys, and free.
#include "core/strmap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int failures;
#define CHECK(c, ...) do { if (!(c)) { printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #c); \
	printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

static const struct {
	const char *key;
	size_t len;		// 0: strlen
	uint32_t val;
	int want;		// strmap_put's result
} puts_[] = {
	{ "reviews.default.svc.cluster.local", 0, 1, 0 },
	{ "reviews.default.svc.cluster.loca", 0, 2, 0 },	// a prefix is another key
	{ "reviews.default.svc.cluster.local", 0, 3, -EEXIST },
	{ "", 0, 4, 0 },					// the empty key
	{ "", 0, 5, -EEXIST },
	{ "a\0b", 3, 6, 0 },					// binary keys
	{ "a\0c", 3, 7, 0 },
	{ "a", 0, 8, 0 },
};

int main(void)
{
	struct strmap m = { 0 };
	uint32_t v, old = 0;
	char key[32];

	CHECK(!strmap_get(&m, "x", 1, &v), "empty map");
	for (size_t i = 0; i < sizeof(puts_) / sizeof(puts_[0]); i++) {
		size_t len = puts_[i].len ? puts_[i].len : strlen(puts_[i].key);
		int r = strmap_put(&m, puts_[i].key, len, puts_[i].val, &old);

		CHECK(r == puts_[i].want, "put %zu: %d", i, r);
	}
	CHECK(old == 4, "the existing value is reported: %u", old);
	CHECK(strmap_get(&m, "reviews.default.svc.cluster.local", 33, &v) && v == 1, "first wins");
	CHECK(strmap_get(&m, "", 0, &v) && v == 4, "empty key");
	CHECK(strmap_get(&m, "a\0b", 3, &v) && v == 6 && strmap_get(&m, "a\0c", 3, &v) && v == 7 &&
	      strmap_get(&m, "a", 1, &v) && v == 8, "binary keys");
	CHECK(!strmap_get(&m, "a\0", 2, &v) && !strmap_get(&m, "reviews", 7, &v), "absent keys");
	CHECK(strmap_set(&m, "a", 1, 99) == 0 && strmap_get(&m, "a", 1, &v) && v == 99, "replace");
	CHECK(strmap_set(&m, "new", 3, 7) == 0 && strmap_get(&m, "new", 3, &v) && v == 7, "set adds");
	for (uint32_t i = 0; i < 100000; i++) {
		int n = snprintf(key, sizeof(key), "svc-%u.bench.example", i);

		CHECK(strmap_put(&m, key, (size_t)n, i, NULL) == 0, "grow put %u", i);
	}
	for (uint32_t i = 0; i < 100000; i += 7) {
		int n = snprintf(key, sizeof(key), "svc-%u.bench.example", i);

		CHECK(strmap_get(&m, key, (size_t)n, &v) && v == i, "grow get %u", i);
	}
	CHECK(!strmap_get(&m, "svc-100000.bench.example", 24, &v), "absent after growth");
	CHECK(m.num == 7 + 100000 && m.cap >= 2 * m.num, "load factor: %u of %u", m.num, m.cap);
	CHECK(strmap_get(&m, "reviews.default.svc.cluster.local", 33, &v) && v == 1,
	      "keys survive growth");
	strmap_free(&m);
	CHECK(m.cap == 0 && !strmap_get(&m, "a", 1, &v), "freed");
	printf("%s\n", failures ? "strmap_test: FAILED" : "strmap_test: ok");
	return failures ? 1 : 0;
}
