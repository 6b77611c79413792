// SPDX-License-Identifier: Apache-2.0
// clock.h: monotonic and wall time in one place, so tests can inject a clock
// (expiry and rotation) and the hot path reads a cached value per loop turn.
#ifndef MG_CORE_CLOCK_H
#define MG_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

// clock_mono_ns returns CLOCK_MONOTONIC in nanoseconds.
static inline uint64_t clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_mono_ms(void)
{
	return clock_mono_ns() / 1000000ull;
}

// clock_wall_ns returns CLOCK_REALTIME in nanoseconds, shifted by the offset
// the test hook MESHGATE_CLOCK_OFFSET_S sets (see clock_init).
uint64_t clock_wall_ns(void);

// clock_wall_s is clock_wall_ns in whole unix seconds (certificates, tokens).
static inline int64_t clock_wall_s(void)
{
	return (int64_t)(clock_wall_ns() / 1000000000ull);
}

// clock_init reads MESHGATE_CLOCK_OFFSET_S (seconds, may be negative) once.
void clock_init(void);

#endif
