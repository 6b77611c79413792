// SPDX-License-Identifier: Apache-2.0
// check.h: the table tests' one assertion. CHECK(cond, fmt, ...) counts a
// check and, when cond is false, prints where and why and counts a
// failure; main() reports checks/failures and exits non-zero on any.
#ifndef MG_TESTS_UNIT_CHECK_H
#define MG_TESTS_UNIT_CHECK_H

#include <stdio.h>

static int failures, checks;

#define CHECK(c, ...) do {						\
	checks++;							\
	if (!(c)) {							\
		failures++;						\
		printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #c);	\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

#endif
