// SPDX-License-Identifier: Apache-2.0
// log.h: the process log. "what failed (why)[, consequence]" lines on stderr.
// Worker threads never block on it: a line from a worker goes into that
// thread's buffer and the worker writes it out through its ring.
#ifndef MG_CORE_LOG_H
#define MG_CORE_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_ERR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

// log_sink is where a thread's lines go when it has one (a worker's ring
// writer). It copies the line; it must not block.
typedef void log_sink_fn(void *arg, const char *line, size_t len);

extern int log_level_max;

// log_set_thread_sink routes this thread's log lines to fn(arg, ...); NULL
// restores direct writes to stderr.
void log_set_thread_sink(log_sink_fn *fn, void *arg);

// log_set_thread_name tags this thread's lines ("main", "worker 0", ...).
void log_set_thread_name(const char *name);

// log_emit formats one line at level. ctx is unused for now and reserved for
// a connection to tag the line with.
void log_emit(enum log_level level, const void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vemit(enum log_level level, const void *ctx, const char *fmt, va_list ap);

// log_ratelimited is log_emit for per-connection errors: at most `burst` lines
// per second per call site; the rest are counted and summarized.
#define log_ratelimited(level, ctx, ...) do {				\
	static __thread unsigned long _rl_sec, _rl_n, _rl_dropped;	\
	if (log_ratelimit_ok(&_rl_sec, &_rl_n, &_rl_dropped))		\
		log_emit(level, ctx, __VA_ARGS__);			\
} while (0)

int log_ratelimit_ok(unsigned long *sec, unsigned long *n, unsigned long *dropped);

#ifdef NDEBUG
#define log_debug(...) do { } while (0)
#else
#define log_debug(...) log_emit(LOG_DEBUG, NULL, __VA_ARGS__)
#endif

#endif
