// SPDX-License-Identifier: Apache-2.0
// buf_test: growth, consume/compact and formatted appends of struct buf.
#include "core/buf.h"

#include <stdio.h>
#include <string.h>

static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

int main(void)
{
	struct buf b;
	char big[5000];

	buf_init(&b);
	CHECK(buf_appends(&b, "hello") == 0);
	CHECK(buf_avail(&b) == 5 && memcmp(buf_head(&b), "hello", 5) == 0);
	buf_consume(&b, 2);
	CHECK(buf_avail(&b) == 3 && memcmp(buf_head(&b), "llo", 3) == 0);
	memset(big, 'x', sizeof(big));
	CHECK(buf_append(&b, big, sizeof(big)) == 0);
	CHECK(buf_avail(&b) == 3 + sizeof(big) && memcmp(buf_head(&b), "llox", 4) == 0);
	CHECK(buf_appendf(&b, "%d-%s", 42, "z") == 0);
	CHECK(memcmp(buf_head(&b) + buf_avail(&b) - 4, "42-z", 4) == 0);
	buf_consume(&b, buf_avail(&b));
	CHECK(b.off == 0 && b.len == 0);
	buf_cleanup(&b);
	CHECK(b.data == NULL);
	printf("%s\n", failures ? "buf_test: FAILED" : "buf_test: ok");
	return failures ? 1 : 0;
}
