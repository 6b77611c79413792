// SPDX-License-Identifier: Apache-2.0
// metrics_test: series creation and summing across stores, histogram
// buckets, label escaping and defaults, overflow, and a writer racing the
// scraper. Every render is checked by a strict Prometheus 0.0.4 validator.
#include "telemetry/metrics.h"
#include "core/buf.h"
#include "core/json.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

// ---- a strict validator for the text we emit ----

static int is_name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static int is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

struct vstate {
	char family[128];		// current # TYPE family
	char type[16];
	char seen[64][128];		// families typed so far
	int num_seen;
	char last_bucket_key[32768];	// previous _bucket line up to its le
	char key[32768];
	uint64_t last_bucket;
	char **keys;			// "name{labels}" of every sample, for duplicates
	int num_keys, cap_keys;
};

static int suffix_is(const char *name, size_t len, const char *suf)
{
	size_t n = strlen(suf);

	return len > n && !memcmp(name + len - n, suf, n);
}

// validate_line checks one line (without '\n'). It returns NULL or why not.
static const char *validate_line(struct vstate *vs, const char *l, size_t len)
{
	const char *p = l, *end = l + len, *name, *lb = NULL, *le = NULL;
	size_t nlen, flen, i;
	char *key;
	uint64_t v;
	char *e;

	if (len == 0)
		return "empty line";
	if (*p == '#') {
		char fam[128], type[16], c[256];
		int n;

		if (len >= 7 && !memcmp(l, "# HELP ", 7))
			return NULL;
		if (len >= sizeof(c))
			return "comment too long";
		memcpy(c, l, len);	// sscanf would strlen() the whole exposition
		c[len] = '\0';
		if (sscanf(c, "# TYPE %127s %15s%n", fam, type, &n) != 2 || (size_t)n != len)
			return "bad comment";
		if (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram"))
			return "bad type";
		for (i = 0; i < (size_t)vs->num_seen; i++)
			if (!strcmp(vs->seen[i], fam))
				return "family typed twice";
		if (vs->num_seen < 64)
			strcpy(vs->seen[vs->num_seen++], fam);
		strcpy(vs->family, fam);
		strcpy(vs->type, type);
		return NULL;
	}
	name = p;
	if (!is_name_start((unsigned char)*p))
		return "bad name start";
	while (p < end && is_name_char((unsigned char)*p))
		p++;
	nlen = (size_t)(p - name);
	// The sample belongs to the current family.
	flen = nlen;
	if (!strcmp(vs->type, "histogram")) {
		if (suffix_is(name, nlen, "_bucket"))
			flen -= 7;
		else if (suffix_is(name, nlen, "_sum"))
			flen -= 4;
		else if (suffix_is(name, nlen, "_count"))
			flen -= 6;
		else
			return "histogram sample without suffix";
	}
	if (flen != strlen(vs->family) || memcmp(name, vs->family, flen))
		return "sample outside its family";
	if (p < end && *p == '{') {
		lb = ++p;
		for (;;) {
			const char *ln = p;

			if (!is_name_start((unsigned char)*p))
				return "bad label name";
			while (p < end && is_name_char((unsigned char)*p))
				p++;
			if ((size_t)(p - ln) == 2 && !memcmp(ln, "le", 2))
				le = ln;
			if (p + 1 >= end || p[0] != '=' || p[1] != '"')
				return "label without =\"";
			p += 2;
			while (p < end && *p != '"') {
				if (*p == '\n')
					return "raw newline";
				if (*p == '\\') {
					if (p + 1 >= end || (p[1] != '\\' && p[1] != '"' && p[1] != 'n'))
						return "bad escape";
					p += 2;
					continue;
				}
				if ((unsigned char)*p >= 0x80) {
					size_t n = json_utf8_len(p, (size_t)(end - p));

					if (!n)
						return "invalid UTF-8";
					p += n;
					continue;
				}
				p++;
			}
			if (p >= end)
				return "unterminated value";
			p++;
			if (p < end && *p == ',') {
				p++;
				continue;
			}
			if (p < end && *p == '}') {
				p++;
				break;
			}
			return "bad label separator";
		}
	}
	if (p >= end || *p != ' ')
		return "no space before value";
	p++;
	if (p >= end)
		return "no value";
	if (strncmp(p, "+Inf", 4) && strncmp(p, "-Inf", 4) && strncmp(p, "NaN", 3)) {
		char tmp[64];

		if ((size_t)(end - p) >= sizeof(tmp))
			return "value too long";
		memcpy(tmp, p, (size_t)(end - p));
		tmp[end - p] = '\0';
		strtod(tmp, &e);
		if (*e || e == tmp)
			return "bad value";
	}
	// Histogram buckets of one series are cumulative.
	if (suffix_is(name, nlen, "_bucket")) {
		size_t klen;

		if (!le || !lb)
			return "bucket without le";
		klen = (size_t)(le - l);
		if (klen >= sizeof(vs->key))
			return "labels too long";
		memcpy(vs->key, l, klen);
		vs->key[klen] = '\0';
		v = strtoull(p, NULL, 10);
		if (!strcmp(vs->key, vs->last_bucket_key) && v < vs->last_bucket)
			return "buckets not cumulative";
		strcpy(vs->last_bucket_key, vs->key);
		vs->last_bucket = v;
	}
	if (vs->num_keys == vs->cap_keys) {
		vs->cap_keys = vs->cap_keys ? 2 * vs->cap_keys : 1024;
		vs->keys = realloc(vs->keys, (size_t)vs->cap_keys * sizeof(*vs->keys));
	}
	key = strndup(l, (size_t)(p - l));
	vs->keys[vs->num_keys++] = key;
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

// validate checks a whole exposition. It returns NULL or the first problem.
static const char *validate(const char *text, size_t len)
{
	struct vstate *vs = calloc(1, sizeof(*vs));
	const char *p = text, *end = text + len, *nl, *why = NULL;
	int i;

	if (len && text[len - 1] != '\n')
		why = "no final newline";
	while (!why && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		why = validate_line(vs, p, (size_t)(nl - p));
		if (why)
			printf("  at line: %.*s\n", (int)(nl - p > 200 ? 200 : nl - p), p);
		p = nl + 1;
	}
	if (!why) {
		qsort(vs->keys, (size_t)vs->num_keys, sizeof(char *), cmp_str);
		for (i = 1; i < vs->num_keys; i++)
			if (!strcmp(vs->keys[i - 1], vs->keys[i]))
				why = "duplicate series";
	}
	for (i = 0; i < vs->num_keys; i++)
		free(vs->keys[i]);
	free(vs->keys);
	free(vs);
	return why;
}

// The validator must itself reject what Prometheus would reject.
static const char *const bad_expositions[] = {
	"# TYPE a counter\na{x=\"1\"} 1",			// no final newline
	"# TYPE a counter\na{x=\"1\n\"} 1\n",			// raw newline in value
	"# TYPE a counter\na{x=\"\\q\"} 1\n",			// bad escape
	"# TYPE a counter\na{x=\"\xff\"} 1\n",			// invalid UTF-8
	"# TYPE a counter\na{x=\"1\"} 1\na{x=\"1\"} 2\n",	// duplicate
	"# TYPE a counter\n# TYPE a counter\na 1\n",		// typed twice
	"# TYPE a counter\nb 1\n",				// outside family
	"# TYPE a counter\na{x=1} 1\n",				// unquoted
	"# TYPE a counter\na{x=\"1\"}1\n",			// no space
	"# TYPE a counter\na{x=\"1\"} one\n",			// bad value
	"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n",
	"# TYPE h histogram\nh{x=\"1\"} 1\n",
};

// ---- helpers ----

static struct buf out;

static void render(struct metrics *const *stores, int n)
{
	out.len = out.off = 0;
	const char *why;

	CHECK(metrics_render_prometheus(&out, stores, n) == 0);
	if ((why = validate(out.data, out.len))) {
		printf("FAIL render: invalid exposition: %s\n", why);
		failures++;
	}
	CHECK(buf_reserve(&out, 1) == 0);
	out.data[out.len] = '\0';
}

// count_line counts exact occurrences of line (without '\n') in out.
static int count_line(const char *line)
{
	size_t n = strlen(line);
	const char *p = out.data, *end = out.data + out.len;
	int k = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if ((size_t)(nl - p) == n && !memcmp(p, line, n))
			k++;
		p = nl + 1;
	}
	return k;
}

static void expect_line(const char *line, int line_no)
{
	int k = count_line(line);

	if (k != 1) {
		printf("FAIL %s:%d: line seen %d times: %s\n", __FILE__, line_no, k, line);
		failures++;
	}
}
#define EXPECT_LINE(l) expect_line(l, __LINE__)

// value_of returns the value of the sample line starting with `prefix `
// (prefix is name{labels}), or -1.
static double value_of(const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p = out.data, *end = out.data + out.len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if ((size_t)(nl - p) > n && !memcmp(p, prefix, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p = nl + 1;
	}
	return -1;
}

// A plain HTTP label set: every value is distinct and needs no escaping.
static void labels_http(const char *l[IL_COUNT], const char *workload, const char *code)
{
	static const char *const base[IL_COUNT] = {
		"source", "productpage-v1", "productpage", "v1", "default",
		"spiffe://cluster.local/ns/default/sa/bookinfo-productpage",
		"productpage", "v1", "Kubernetes", "reviews-v2", "default",
		"spiffe://cluster.local/ns/default/sa/bookinfo-reviews", "reviews",
		"v2", "reviews.default.svc.cluster.local", "reviews", "v2", "reviews",
		"default", "Kubernetes", "http", "200", "0", "-", "mutual_tls",
	};

	memcpy(l, base, sizeof(base));
	if (workload)
		l[IL_SOURCE_WORKLOAD] = workload;
	if (code)
		l[IL_RESPONSE_CODE] = code;
}

// label_text builds the expected `a="b",...` text of l (no escaping needed).
static void label_text(char *dst, size_t cap, const char *const l[IL_COUNT], int tcp)
{
	size_t off = 0;
	int i;

	dst[0] = '\0';
	for (i = 0; i < IL_COUNT; i++) {
		const char *v = l[i] && *l[i] ? l[i] : i == IL_RESPONSE_FLAGS ? "-" : "unknown";

		if (tcp && (i == IL_RESPONSE_CODE || i == IL_GRPC_RESPONSE_STATUS))
			continue;
		off += (size_t)snprintf(dst + off, cap - off, "%s%s=\"%s\"", off ? "," : "",
					istio_label_names[i], v);
	}
}

// ---- tests ----

static void test_names(void)
{
	int i;

	CHECK(!strcmp(istio_label_names[0], "reporter"));
	CHECK(!strcmp(istio_label_names[IL_CONNECTION_SECURITY_POLICY], "connection_security_policy"));
	for (i = 0; i < IL_COUNT; i++)
		CHECK(istio_label_names[i] && *istio_label_names[i]);
	for (i = 0; i < MC_COUNT; i++)
		CHECK(mg_counter_names[i] && *mg_counter_names[i]);
	CHECK(!strcmp(mg_counter_names[MC_ACCEPTED], "downstream_cx_total"));
	CHECK(!strcmp(mg_counter_names[MC_RQ_400], "downstream_rq_400"));
	CHECK(mg_counter_is_gauge[MC_DOWNSTREAM_ACTIVE] && mg_counter_is_gauge[MC_UPSTREAM_ACTIVE]);
	CHECK(!mg_counter_is_gauge[MC_ACCEPTED]);
	for (i = 1; i < METRICS_NUM_DURATION_BUCKETS; i++)
		CHECK(metrics_duration_buckets[i] > metrics_duration_buckets[i - 1]);
	CHECK(metrics_duration_buckets[0] == 0.5 && metrics_duration_buckets[18] == 3600000);
}

// Two stores, same label sets: one series each, summed; a label set only in
// the second store still shows up; # TYPE once per family.
static void test_sum_two_stores(void)
{
	struct metrics *s[2] = { metrics_new(), metrics_new() };
	const char *a[IL_COUNT], *b[IL_COUNT];
	char ta[2048], tb[2048], line[4096];

	labels_http(a, NULL, "200");
	labels_http(b, NULL, "503");
	b[IL_RESPONSE_FLAGS] = "UH";
	metrics_http_observe(s[0], a, 3, 100, 2000);
	metrics_http_observe(s[0], a, 7.25, 0, 20);
	metrics_http_observe(s[1], a, 1000, 5, 5);
	metrics_http_observe(s[1], b, 0.1, 0, 19);
	CHECK(metrics_num_series(s[0], MK_HTTP) == 1);
	CHECK(metrics_num_series(s[1], MK_HTTP) == 2);
	render(s, 2);
	label_text(ta, sizeof(ta), a, 0);
	label_text(tb, sizeof(tb), b, 0);
	CHECK(strstr(tb, "response_flags=\"UH\"") && strstr(tb, "response_code=\"503\""));

	EXPECT_LINE("# TYPE istio_requests_total counter");
	EXPECT_LINE("# TYPE istio_request_duration_milliseconds histogram");
	EXPECT_LINE("# TYPE istio_request_bytes histogram");
	EXPECT_LINE("# TYPE istio_response_bytes histogram");
	CHECK(!strstr(out.data, "istio_tcp_"));	// no TCP series: no TCP families
	snprintf(line, sizeof(line), "istio_requests_total{%s} 3", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_requests_total{%s} 1", tb);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_request_duration_milliseconds_sum{%s} 1010.25", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_request_duration_milliseconds_count{%s} 3", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_request_duration_milliseconds_bucket{%s,le=\"5\"} 1", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_request_duration_milliseconds_bucket{%s,le=\"10\"} 2", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_request_duration_milliseconds_bucket{%s,le=\"1000\"} 3", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_request_duration_milliseconds_bucket{%s,le=\"+Inf\"} 3", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_request_bytes_sum{%s} 105", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_request_bytes_bucket{%s,le=\"1\"} 1", ta);	// the 0
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_request_bytes_bucket{%s,le=\"10\"} 2", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_response_bytes_sum{%s} 2025", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_response_bytes_bucket{%s,le=\"1000\"} 2", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_response_bytes_bucket{%s,le=\"10000\"} 3", ta);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_request_duration_milliseconds_sum{%s} 0.1", tb);
	EXPECT_LINE(line);
	// The first store's series comes first (creation order).
	CHECK(strstr(out.data, ta) < strstr(out.data, tb));
	metrics_free(s[0]);
	metrics_free(s[1]);
}

// Bucket placement: le is an inclusive upper bound; junk goes to 0 or +Inf.
static const struct {
	double ms;
	const char *le;		// first bucket that counts it
	const char *sum;
} dur_cases[] = {
	{ 0, "0.5", "0" },
	{ 0.5, "0.5", "0.5" },
	{ 0.5004, "1", "0.5" },			// sum is kept in whole microseconds
	{ 0.501, "1", "0.501" },
	{ 1, "1", "1" },
	{ 4.9999, "5", "5" },
	{ 250, "250", "250" },
	{ 250.001, "500", "250.001" },
	{ 3600000, "3600000", "3600000" },
	{ 3600000.5, "+Inf", "3600000.5" },
	{ -3, "0.5", "0" },			// clock stepped back: 0
	{ NAN, "0.5", "0" },
	{ INFINITY, "+Inf", "1000000000000" },	// capped sum
	{ 1e300, "+Inf", "1000000000000" },
};

static const char *const dur_les[] = {
	"0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500",
	"5000", "10000", "30000", "60000", "300000", "600000", "1800000", "3600000", "+Inf",
};

static const struct {
	uint64_t bytes;
	const char *le;
} bytes_cases[] = {
	{ 0, "1" }, { 1, "1" }, { 2, "10" }, { 10, "10" }, { 11, "100" },
	{ 999999, "1000000" }, { 1000000000, "1000000000" }, { 1000000001, "+Inf" },
	{ UINT64_MAX, "+Inf" },
};

static const char *const bytes_les[] = {
	"1", "10", "100", "1000", "10000", "100000", "1000000", "10000000",
	"100000000", "1000000000", "+Inf",
};

static void check_cumulative(const char *family, const char *text, const char *const *les,
			     int nles, const char *first, const char *what)
{
	char line[4096];
	int i, on = 0;
	double v;

	for (i = 0; i < nles; i++) {
		if (!strcmp(les[i], first))
			on = 1;
		snprintf(line, sizeof(line), "%s_bucket{%s,le=\"%s\"}", family, text, les[i]);
		v = value_of(line);
		if (v != on) {
			printf("FAIL %s: %s le=%s is %g, want %d\n", what, family, les[i], v, on);
			failures++;
		}
	}
}

static void test_buckets(void)
{
	const char *l[IL_COUNT];
	char text[2048], line[4096], what[64];
	struct metrics *m;
	size_t i;

	labels_http(l, NULL, NULL);
	label_text(text, sizeof(text), l, 0);
	for (i = 0; i < sizeof(dur_cases) / sizeof(dur_cases[0]); i++) {
		m = metrics_new();
		metrics_http_observe(m, l, dur_cases[i].ms, 0, 0);
		render(&m, 1);
		snprintf(what, sizeof(what), "duration case %zu", i);
		check_cumulative("istio_request_duration_milliseconds", text, dur_les, 20,
				 dur_cases[i].le, what);
		snprintf(line, sizeof(line), "istio_request_duration_milliseconds_sum{%s} %s",
			 text, dur_cases[i].sum);
		if (count_line(line) != 1) {
			printf("FAIL %s: sum, want %s\n", what, dur_cases[i].sum);
			failures++;
		}
		metrics_free(m);
	}
	for (i = 0; i < sizeof(bytes_cases) / sizeof(bytes_cases[0]); i++) {
		m = metrics_new();
		metrics_http_observe(m, l, 1, bytes_cases[i].bytes, bytes_cases[i].bytes);
		render(&m, 1);
		snprintf(what, sizeof(what), "bytes case %zu", i);
		check_cumulative("istio_request_bytes", text, bytes_les, 11, bytes_cases[i].le, what);
		check_cumulative("istio_response_bytes", text, bytes_les, 11, bytes_cases[i].le, what);
		snprintf(line, sizeof(line), "istio_response_bytes_sum{%s} %" PRIu64, text,
			 bytes_cases[i].bytes);
		CHECK(count_line(line) == 1);
		metrics_free(m);
	}
}

// Label values that must be escaped, or normalized to stay valid UTF-8.
static const struct {
	const char *in;
	const char *want;	// as it appears between the quotes
} esc_cases[] = {
	{ "plain", "plain" },
	{ "a\"b", "a\\\"b" },
	{ "a\\b", "a\\\\b" },
	{ "a\nb", "a\\nb" },
	{ "x\"} 1\nistio_requests_total{reporter=\"forged", "x\\\"} 1\\nistio_requests_total{reporter=\\\"forged" },
	{ "\\n", "\\\\n" },			// a literal backslash-n stays two chars
	{ "tab\there", "tab\there" },		// only \\, " and newline are escaped
	{ "caf\xc3\xa9", "caf\xc3\xa9" },
	{ "bad\xff", "bad\xef\xbf\xbd" },
	{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },
};

static void test_escaping(void)
{
	char text[4096], line[8192], want[512];
	const char *l[IL_COUNT];
	struct metrics *m;
	size_t i;

	for (i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		m = metrics_new();
		labels_http(l, NULL, NULL);
		l[IL_DESTINATION_SERVICE] = esc_cases[i].in;
		metrics_http_observe(m, l, 1, 1, 1);
		render(&m, 1);	// validates: a forged line would fail here
		l[IL_DESTINATION_SERVICE] = "@@";
		label_text(text, sizeof(text), l, 0);
		snprintf(want, sizeof(want), "destination_service=\"%s\"", esc_cases[i].want);
		*strstr(text, "destination_service=\"@@\"") = '\0';
		snprintf(line, sizeof(line), "istio_requests_total{%s%s", text, want);
		if (!strstr(out.data, line)) {
			printf("FAIL escape case %zu: want %s\n", i, want);
			failures++;
		}
		CHECK(!strstr(out.data, "\nistio_requests_total{reporter=\"forged"));
		metrics_free(m);
	}
	// Two raw values that render alike (two invalid bytes) merge into one
	// series instead of two lines Prometheus would reject as duplicates.
	m = metrics_new();
	labels_http(l, NULL, NULL);
	l[IL_SOURCE_APP] = "\xfe";
	metrics_http_observe(m, l, 1, 1, 1);
	l[IL_SOURCE_APP] = "\xff";
	metrics_http_observe(m, l, 1, 1, 1);
	CHECK(metrics_num_series(m, MK_HTTP) == 2);
	render(&m, 1);
	labels_http(l, NULL, NULL);
	l[IL_SOURCE_APP] = "\xef\xbf\xbd";
	label_text(text, sizeof(text), l, 0);
	snprintf(line, sizeof(line), "istio_requests_total{%s} 2", text);
	EXPECT_LINE(line);
	metrics_free(m);
}

// NULL and "" are "unknown" ("-" for response_flags) and the same series
// as the spelled-out defaults.
static void test_defaults(void)
{
	const char *l[IL_COUNT] = { 0 };
	char text[2048], line[4096];
	struct metrics *m = metrics_new();
	int i;

	metrics_http_observe(m, l, 1, 0, 0);
	for (i = 0; i < IL_COUNT; i++)
		l[i] = "";
	metrics_http_observe(m, l, 1, 0, 0);
	for (i = 0; i < IL_COUNT; i++)
		l[i] = i == IL_RESPONSE_FLAGS ? "-" : "unknown";
	metrics_http_observe(m, l, 1, 0, 0);
	CHECK(metrics_num_series(m, MK_HTTP) == 1);
	render(&m, 1);
	label_text(text, sizeof(text), l, 0);
	CHECK(strstr(text, "reporter=\"unknown\"") && strstr(text, "response_flags=\"-\""));
	snprintf(line, sizeof(line), "istio_requests_total{%s} 3", text);
	EXPECT_LINE(line);
	// A "-" elsewhere is a value, not the default.
	l[IL_SOURCE_APP] = "-";
	metrics_http_observe(m, l, 1, 0, 0);
	CHECK(metrics_num_series(m, MK_HTTP) == 2);
	metrics_free(m);
}

static void test_tcp(void)
{
	struct metrics *s[2] = { metrics_new(), metrics_new() };
	char text[2048], line[4096];
	const char *l[IL_COUNT];

	labels_http(l, NULL, "200");
	l[IL_REQUEST_PROTOCOL] = "tcp";
	l[IL_GRPC_RESPONSE_STATUS] = "14";
	metrics_tcp_opened(s[0], l);
	metrics_tcp_bytes(s[0], l, 100, 7);
	// A different response_code is ignored: the same TCP series.
	l[IL_RESPONSE_CODE] = "503";
	metrics_tcp_bytes(s[0], l, 1, 0);
	metrics_tcp_closed(s[0], l);
	metrics_tcp_opened(s[1], l);
	CHECK(metrics_num_series(s[0], MK_TCP) == 1);
	CHECK(metrics_num_series(s[0], MK_HTTP) == 0);
	render(s, 2);
	label_text(text, sizeof(text), l, 1);
	CHECK(!strstr(text, "response_code") && !strstr(text, "grpc_response_status"));
	CHECK(!strstr(out.data, "response_code=") && !strstr(out.data, "istio_requests_total"));
	EXPECT_LINE("# TYPE istio_tcp_connections_opened_total counter");
	EXPECT_LINE("# TYPE istio_tcp_received_bytes_total counter");
	snprintf(line, sizeof(line), "istio_tcp_connections_opened_total{%s} 2", text);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_tcp_connections_closed_total{%s} 1", text);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_tcp_sent_bytes_total{%s} 101", text);
	EXPECT_LINE(line);
	snprintf(line, sizeof(line), "istio_tcp_received_bytes_total{%s} 7", text);
	EXPECT_LINE(line);
	CHECK(strstr(out.data, "istio_tcp_connections_opened_total") <
	      strstr(out.data, "istio_tcp_connections_closed_total"));
	CHECK(strstr(out.data, "istio_tcp_sent_bytes_total") <
	      strstr(out.data, "istio_tcp_received_bytes_total"));
	metrics_free(s[0]);
	metrics_free(s[1]);
}

static void test_own_counters(void)
{
	struct metrics *s[3] = { metrics_new(), NULL, metrics_new() };
	struct buf st;

	metrics_inc(s[0], MC_ACCEPTED, 3);
	metrics_inc(s[2], MC_ACCEPTED, 2);
	metrics_inc(s[2], MC_RQ_431, 1);
	metrics_gauge_add(s[0], MC_DOWNSTREAM_ACTIVE, 2);
	metrics_gauge_add(s[2], MC_DOWNSTREAM_ACTIVE, 1);
	metrics_gauge_add(s[2], MC_DOWNSTREAM_ACTIVE, -4);	// transiently negative
	CHECK(metrics_get(s[0], MC_ACCEPTED) == 3);
	CHECK((int64_t)metrics_get(s[2], MC_DOWNSTREAM_ACTIVE) == -3);
	render(s, 3);	// a NULL slot is skipped
	EXPECT_LINE("# TYPE meshgate_downstream_cx_total counter");
	EXPECT_LINE("meshgate_downstream_cx_total 5");
	EXPECT_LINE("meshgate_downstream_rq_431 1");
	EXPECT_LINE("# TYPE meshgate_downstream_cx_active gauge");
	EXPECT_LINE("meshgate_downstream_cx_active -1");
	EXPECT_LINE("meshgate_log_bytes_dropped 0");
	EXPECT_LINE("meshgate_metrics_http_series_overflow 0");
	CHECK(!strstr(out.data, "istio_"));	// no series: no Istio families

	buf_init(&st);
	buf_appends(&st, "keep\n");
	CHECK(metrics_render_stats(&st, s, 3) == 0);
	CHECK(buf_reserve(&st, 1) == 0);
	st.data[st.len] = '\0';
	CHECK(!strncmp(st.data, "keep\ndownstream_cx_total: 5\n", 28));
	CHECK(strstr(st.data, "\ndownstream_cx_active: -1\n"));
	CHECK(strstr(st.data, "\ndownstream_rq_431: 1\n"));
	CHECK(strstr(st.data, "\nmetrics_tcp_series_overflow: 0\n"));
	buf_cleanup(&st);
	// No stores at all is valid output too.
	render(NULL, 0);
	EXPECT_LINE("meshgate_downstream_cx_total 0");
	metrics_free(s[0]);
	metrics_free(s[2]);
	metrics_free(NULL);
}

static void test_overflow(void)
{
	struct metrics *s[2] = { metrics_new(), metrics_new() };
	const char *l[IL_COUNT];
	char wl[32], text[2048], line[4096];
	int i;

	for (i = 0; i < METRICS_MAX_SERIES + 10; i++) {
		snprintf(wl, sizeof(wl), "w%d", i);
		labels_http(l, wl, NULL);
		metrics_http_observe(s[0], l, 1, 0, 0);
	}
	CHECK(metrics_num_series(s[0], MK_HTTP) == METRICS_MAX_SERIES);
	CHECK(metrics_overflow(s[0], MK_HTTP) == 10);
	// A known series still counts when the table is full; a new one does not.
	labels_http(l, "w0", NULL);
	metrics_http_observe(s[0], l, 1, 0, 0);
	labels_http(l, "brand-new", NULL);
	metrics_http_observe(s[0], l, 1, 0, 0);
	metrics_tcp_opened(s[0], l);		// the TCP table is separate
	CHECK(metrics_overflow(s[0], MK_HTTP) == 11);
	CHECK(metrics_num_series(s[0], MK_TCP) == 1 && metrics_overflow(s[0], MK_TCP) == 0);
	labels_http(l, "brand-new", NULL);
	metrics_http_observe(s[1], l, 1, 0, 0);	// the other store has room
	render(s, 2);
	EXPECT_LINE("meshgate_metrics_http_series_overflow 11");
	EXPECT_LINE("meshgate_metrics_tcp_series_overflow 0");
	labels_http(l, "w0", NULL);
	label_text(text, sizeof(text), l, 0);
	snprintf(line, sizeof(line), "istio_requests_total{%s} 2", text);
	EXPECT_LINE(line);
	labels_http(l, "brand-new", NULL);
	label_text(text, sizeof(text), l, 0);
	snprintf(line, sizeof(line), "istio_requests_total{%s} 1", text);
	EXPECT_LINE(line);
	metrics_free(s[0]);
	metrics_free(s[1]);
}

// Long values are cut at METRICS_MAX_LABEL_LEN, and the interned bytes of a
// table are bounded even when every series carries maximal values.
static void test_label_limits(void)
{
	static char big[IL_COUNT][METRICS_MAX_LABEL_LEN + 100];
	struct metrics *m = metrics_new();
	const char *l[IL_COUNT];
	unsigned n;
	int i, k;

	for (i = 0; i < IL_COUNT; i++) {
		memset(big[i], 'a' + i % 26, sizeof(big[i]) - 1);
		big[i][sizeof(big[i]) - 1] = '\0';
		l[i] = big[i];
	}
	metrics_http_observe(m, l, 1, 0, 0);
	big[0][METRICS_MAX_LABEL_LEN + 5] = 'Z';	// beyond the cut: same series
	metrics_http_observe(m, l, 1, 0, 0);
	CHECK(metrics_num_series(m, MK_HTTP) == 1);
	big[0][METRICS_MAX_LABEL_LEN - 1] = 'Y';	// within: a new one
	metrics_http_observe(m, l, 1, 0, 0);
	CHECK(metrics_num_series(m, MK_HTTP) == 2);
	render(&m, 1);
	CHECK(!strstr(out.data, "Z") && strstr(out.data, "reporter=\"a"));
	CHECK(strstr(out.data, "aaaaaY\",source_workload=\"bbbb"));
	for (k = 0; k < METRICS_MAX_SERIES; k++) {
		snprintf(big[1], 16, "%08d", k);
		big[1][8] = 'b';
		metrics_http_observe(m, l, 1, 0, 0);
	}
	n = metrics_num_series(m, MK_HTTP);
	CHECK(n > 100 && n < METRICS_MAX_SERIES);
	CHECK(metrics_overflow(m, MK_HTTP) == METRICS_MAX_SERIES + 2 - n);
	metrics_free(m);
}

// ---- a writer racing the scraper ----

enum { RACE_ITERS = 200000, RACE_SERIES = 200, RACE_CHECKPOINTS = 20 };

static int writer_done, renders_done;

static void *writer(void *arg)
{
	struct metrics *m = arg;
	const char *l[IL_COUNT];
	char wl[32];
	int i;

	for (i = 0; i < RACE_ITERS; i++) {
		// Now and then wait for the reader so that the two overlap
		// however fast either side is; in between both run freely.
		if (i % (RACE_ITERS / RACE_CHECKPOINTS) == 0)
			while (__atomic_load_n(&renders_done, __ATOMIC_ACQUIRE) <
			       i / (RACE_ITERS / RACE_CHECKPOINTS))
				sched_yield();
		// New series keep appearing while the reader walks the table.
		snprintf(wl, sizeof(wl), "w%d", i % (1 + i / (RACE_ITERS / RACE_SERIES)));
		labels_http(l, wl, i & 1 ? "200" : "500");
		metrics_http_observe(m, l, (double)(i % 5000), (uint64_t)i, 10);
		if (i % 7 == 0) {
			l[IL_REQUEST_PROTOCOL] = "tcp";
			metrics_tcp_opened(m, l);
			metrics_tcp_bytes(m, l, 3, 4);
		}
		metrics_inc(m, MC_RQ_TOTAL, 1);
		metrics_gauge_add(m, MC_DOWNSTREAM_ACTIVE, i & 1 ? -1 : 1);
	}
	__atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

// total_of sums the values of every line starting with `name{`.
static uint64_t total_of(const char *name)
{
	size_t n = strlen(name);
	const char *p = out.data, *end = out.data + out.len;
	uint64_t t = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if ((size_t)(nl - p) > n && !memcmp(p, name, n) && p[n] == '{')
			t += strtoull(memrchr(p, ' ', (size_t)(nl - p)) + 1, NULL, 10);
		p = nl + 1;
	}
	return t;
}

static void test_race(void)
{
	struct metrics *s[2] = { metrics_new(), metrics_new() };
	uint64_t last = 0, t, rq;
	pthread_t th;
	int renders = 0, bad = 0;

	metrics_inc(s[1], MC_RQ_TOTAL, 1);	// a quiet second store
	CHECK(pthread_create(&th, NULL, writer, s[0]) == 0);
	while (!__atomic_load_n(&writer_done, __ATOMIC_ACQUIRE) || renders < 3) {
		render(s, 2);
		renders++;
		__atomic_store_n(&renders_done, renders, __ATOMIC_RELEASE);
		t = total_of("istio_requests_total");
		rq = (uint64_t)value_of("meshgate_downstream_rq_total");
		// Never backwards, never more than was written.
		if (t < last || t > RACE_ITERS || rq > RACE_ITERS + 1)
			bad++;
		if (total_of("istio_request_duration_milliseconds_count") < t ||
		    total_of("istio_tcp_connections_opened_total") > RACE_ITERS / 7 + 1)
			bad++;
		last = t;
	}
	pthread_join(th, NULL);
	CHECK(bad == 0);
	render(s, 2);
	CHECK(total_of("istio_requests_total") == RACE_ITERS);
	CHECK(total_of("istio_request_duration_milliseconds_count") == RACE_ITERS);
	CHECK(total_of("istio_tcp_connections_opened_total") == (RACE_ITERS + 6) / 7);
	CHECK(value_of("meshgate_downstream_rq_total") == RACE_ITERS + 1);
	CHECK(value_of("meshgate_downstream_cx_active") == 0);
	CHECK(metrics_num_series(s[0], MK_HTTP) >= RACE_SERIES);
	printf("race: %d renders while writing\n", renders);
	metrics_free(s[0]);
	metrics_free(s[1]);
}

int main(void)
{
	size_t i;

	buf_init(&out);
	for (i = 0; i < sizeof(bad_expositions) / sizeof(bad_expositions[0]); i++) {
		const char *t = bad_expositions[i];

		const char *why = validate(t, strlen(t));

		if (!why) {
			printf("FAIL validator accepted bad exposition %zu\n", i);
			failures++;
		} else {
			printf("ok: bad exposition %zu rejected (%s)\n", i, why);
		}
	}
	test_names();
	test_sum_two_stores();
	test_buckets();
	test_escaping();
	test_defaults();
	test_tcp();
	test_own_counters();
	test_overflow();
	test_label_limits();
	test_race();
	buf_cleanup(&out);
	printf("%s\n", failures ? "metrics_test: FAILED" : "metrics_test: ok");
	return failures ? 1 : 0;
}
