// SPDX-License-Identifier: Apache-2.0
// clock.c: wall clock with an injectable offset for expiry tests; the
// offset comes from the environment once at start.
#include "clock.h"

#include <stdlib.h>

static int64_t wall_offset_ns;

void clock_init(void)
{
	const char *s = getenv("MESHGATE_CLOCK_OFFSET_S");

	if (s)
		wall_offset_ns = strtoll(s, NULL, 10) * 1000000000ll;
}

uint64_t clock_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)((int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec + wall_offset_ns);
}
