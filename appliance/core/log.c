// SPDX-License-Identifier: Apache-2.0
// log.c: line formatting, per-thread sinks and rate limiting for the log.
// Lines carry a UTC timestamp, the level and the thread's name.
#include "log.h"

#define MIN_SZ(a, b) ((a) < (b) ? (a) : (b))

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int log_level_max = LOG_INFO;

static __thread log_sink_fn *t_sink;
static __thread void *t_sink_arg;
static __thread char t_name[24] = "main";

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warning",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_thread_sink(log_sink_fn *fn, void *arg)
{
	t_sink = fn;
	t_sink_arg = arg;
}

void log_set_thread_name(const char *name)
{
	snprintf(t_name, sizeof(t_name), "%s", name);
}

void log_vemit(enum log_level level, const void *ctx, const char *fmt, va_list ap)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	(void)ctx;
	if ((int)level > log_level_max)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s [%s] ",
		     ts.tv_nsec / 1000000, level_names[level], t_name);
	if (r > 0)
		n += (size_t)r;
	r = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (r > 0)
		n += MIN_SZ((size_t)r, sizeof(line) - n - 2);
	line[n++] = '\n';
	if (t_sink) {
		t_sink(t_sink_arg, line, n);
		return;
	}
	// stderr is the control thread's; a short write is not worth a retry loop.
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

void log_emit(enum log_level level, const void *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, ctx, fmt, ap);
	va_end(ap);
}

int log_ratelimit_ok(unsigned long *sec, unsigned long *n, unsigned long *dropped)
{
	unsigned long now = (unsigned long)time(NULL);

	if (now != *sec) {
		if (*dropped)
			log_emit(LOG_WARN, NULL, "log: %lu similar lines suppressed",
				 *dropped);
		*sec = now;
		*n = 0;
		*dropped = 0;
	}
	if (++*n <= 10)
		return 1;
	++*dropped;
	return 0;
}
