// SPDX-License-Identifier: Apache-2.0
// accesslog_test: exact Envoy/Istio TEXT lines (full, all-absent, IPv6),
// START_TIME formatting, addresses, and escaping of hostile values.
#include "telemetry/accesslog.h"
#include "core/buf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static struct buf out;

static void set_addr(struct sockaddr_storage *ss, const char *ip, unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (!ip)
		return;
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			abort();
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
			abort();
	}
}

#define S(e, f, v) ((e)->f = (v), (e)->f##_len = strlen(v))

// full_entry is a bookinfo request as a sidecar logs it.
static void full_entry(struct accesslog_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->start_time_ns = 1704164645678999999ull;	// 2024-01-02T03:04:05.678999999Z
	S(e, method, "GET");
	S(e, path, "/productpage?u=1");
	e->protocol = "HTTP/1.1";
	e->response_code = 200;
	e->response_flags = "-";
	e->response_code_details = "via_upstream";
	e->termination_details = NULL;
	e->upstream_failure = NULL;
	e->bytes_received = 0;
	e->bytes_sent = 5183;
	e->duration_ms = 12;
	e->upstream_service_time_ms = 11;
	S(e, xff, "203.0.113.7");
	S(e, user_agent, "curl/8.5.0");
	S(e, request_id, "7d3c8a4e-9b1f-4f7c-a1d2-0e5b6c7d8e9f");
	S(e, authority, "productpage:9080");
	set_addr(&e->upstream_host, "10.244.0.12", 9080);
	e->upstream_cluster = "outbound|9080||productpage.default.svc.cluster.local";
	set_addr(&e->upstream_local, "10.244.0.5", 51234);
	set_addr(&e->downstream_local, "10.96.1.2", 9080);
	set_addr(&e->downstream_remote, "10.244.0.5", 40000);
	e->requested_server_name = "outbound_.9080_._.productpage.default.svc.cluster.local";
	e->route_name = "default";
}

static const char *fmt(const struct accesslog_entry *e)
{
	out.len = out.off = 0;
	CHECK(accesslog_format(&out, e) == 0);
	CHECK(buf_reserve(&out, 1) == 0);
	out.data[out.len] = '\0';
	return out.data;
}

static void expect_str(const char *got, const char *want, int line)
{
	if (strcmp(got, want)) {
		printf("FAIL %s:%d:\n  got  %s\n  want %s\n", __FILE__, line, got, want);
		failures++;
	}
}
#define EXPECT_STR(g, w) expect_str(g, w, __LINE__)

// fields splits a line the way a log shipper does: space-separated tokens,
// a token starting with '"' running to the next '"'. It returns the count
// or -1 if the line is not exactly one line.
static int fields(const char *line, char tok[][512], int max)
{
	const char *p = line, *q;
	int n = 0;

	if (!*line || strchr(line, '\n') != line + strlen(line) - 1)
		return -1;
	while (*p != '\n') {
		if (n == max)
			return -1;
		if (*p == '"') {
			q = strchr(p + 1, '"');
			if (!q)
				return -1;
			q++;
		} else {
			q = p + strcspn(p, " \n");
		}
		if ((size_t)(q - p) >= 512)
			return -1;
		memcpy(tok[n], p, (size_t)(q - p));
		tok[n][q - p] = '\0';
		n++;
		if (*q == ' ')
			q++;
		else if (*q != '\n')
			return -1;	// something glued to a quoted field
		p = q;
	}
	return n;
}

enum { NUM_FIELDS = 22 };	// "[time]" and "method path proto" count as one each

static void test_full(void)
{
	struct accesslog_entry e;
	char tok[32][512];

	full_entry(&e);
	EXPECT_STR(fmt(&e),
		   "[2024-01-02T03:04:05.678Z] \"GET /productpage?u=1 HTTP/1.1\" 200 - via_upstream - "
		   "\"-\" 0 5183 12 11 \"203.0.113.7\" \"curl/8.5.0\" "
		   "\"7d3c8a4e-9b1f-4f7c-a1d2-0e5b6c7d8e9f\" \"productpage:9080\" \"10.244.0.12:9080\" "
		   "outbound|9080||productpage.default.svc.cluster.local 10.244.0.5:51234 "
		   "10.96.1.2:9080 10.244.0.5:40000 "
		   "outbound_.9080_._.productpage.default.svc.cluster.local default\n");
	CHECK(fields(out.data, tok, 32) == NUM_FIELDS);

	// Appends after what is already there.
	out.len = 0;
	buf_appends(&out, "x");
	CHECK(accesslog_format(&out, &e) == 0);
	CHECK(out.len > 1 && out.data[0] == 'x' && out.data[1] == '[');
}

// A TCP connection refused by the blackhole: nearly everything absent.
static void test_absent(void)
{
	struct accesslog_entry e;
	char tok[32][512];

	memset(&e, 0, sizeof(e));
	e.duration_ms = -1;
	e.upstream_service_time_ms = -1;
	EXPECT_STR(fmt(&e),
		   "[1970-01-01T00:00:00.000Z] \"- - -\" 0 - - - \"-\" 0 0 - - \"-\" \"-\" \"-\" "
		   "\"-\" \"-\" - - - - - -\n");
	CHECK(fields(out.data, tok, 32) == NUM_FIELDS);

	// Empty (non-NULL) strings and negative codes print "-" too.
	e.method = "";
	e.protocol = "";
	e.response_flags = "";
	e.response_code = -1;
	e.upstream_cluster = "BlackHoleCluster";
	e.response_flags = "UH";
	e.duration_ms = 0;
	EXPECT_STR(fmt(&e),
		   "[1970-01-01T00:00:00.000Z] \"- - -\" - UH - - \"-\" 0 0 0 - \"-\" \"-\" \"-\" "
		   "\"-\" \"-\" BlackHoleCluster - - - - -\n");
}

static void test_ipv6(void)
{
	struct accesslog_entry e;
	char tok[32][512];

	full_entry(&e);
	e.protocol = "HTTP/2";
	set_addr(&e.upstream_host, "fd00:10:244::c", 9080);
	set_addr(&e.upstream_local, "fd00:10:244::5", 51234);
	set_addr(&e.downstream_local, "::1", 15006);
	set_addr(&e.downstream_remote, "2001:db8::5", 40000);
	S(&e, authority, "[2001:db8::1]:9080");
	EXPECT_STR(fmt(&e),
		   "[2024-01-02T03:04:05.678Z] \"GET /productpage?u=1 HTTP/2\" 200 - via_upstream - "
		   "\"-\" 0 5183 12 11 \"203.0.113.7\" \"curl/8.5.0\" "
		   "\"7d3c8a4e-9b1f-4f7c-a1d2-0e5b6c7d8e9f\" \"[2001:db8::1]:9080\" \"[fd00:10:244::c]:9080\" "
		   "outbound|9080||productpage.default.svc.cluster.local [fd00:10:244::5]:51234 "
		   "[::1]:15006 [2001:db8::5]:40000 "
		   "outbound_.9080_._.productpage.default.svc.cluster.local default\n");
	CHECK(fields(out.data, tok, 32) == NUM_FIELDS);
}

static const struct {
	uint64_t ns;
	const char *want;
} time_cases[] = {
	{ 0, "1970-01-01T00:00:00.000Z" },
	{ 999999, "1970-01-01T00:00:00.000Z" },			// truncated, not rounded
	{ 1000000, "1970-01-01T00:00:00.001Z" },
	{ 951782400ull * 1000000000 + 5000000, "2000-02-29T00:00:00.005Z" },
	{ 1709164800ull * 1000000000, "2024-02-29T00:00:00.000Z" },
	{ 1704067199ull * 1000000000 + 999999999, "2023-12-31T23:59:59.999Z" },
	{ 4102444799ull * 1000000000 + 120000000, "2099-12-31T23:59:59.120Z" },
	{ UINT64_MAX, "2554-07-21T23:34:33.709Z" },
};

static void test_time(void)
{
	struct accesslog_entry e;
	char want[64];
	size_t i;

	memset(&e, 0, sizeof(e));
	for (i = 0; i < sizeof(time_cases) / sizeof(time_cases[0]); i++) {
		e.start_time_ns = time_cases[i].ns;
		fmt(&e);
		snprintf(want, sizeof(want), "[%s] ", time_cases[i].want);
		if (strncmp(out.data, want, strlen(want))) {
			printf("FAIL time case %zu: got %.27s want %s\n", i, out.data, want);
			failures++;
		}
	}
}

static void test_addr(void)
{
	static const struct {
		const char *ip;
		unsigned port;
		const char *want;
	} cases[] = {
		{ "10.0.0.1", 80, "10.0.0.1:80" },
		{ "255.255.255.255", 65535, "255.255.255.255:65535" },
		{ "2001:db8::1", 443, "[2001:db8::1]:443" },
		{ "::1", 8080, "[::1]:8080" },
		{ "::ffff:10.0.0.1", 80, "[::ffff:10.0.0.1]:80" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535,
		  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
		{ NULL, 0, "-" },
	};
	struct sockaddr_storage ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	char buf[64];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_addr(&ss, cases[i].ip, cases[i].port);
		n = accesslog_format_addr(buf, sizeof(buf), &ss);
		if (n != strlen(cases[i].want) || strcmp(buf, cases[i].want)) {
			printf("FAIL addr case %zu: got %s (%zu) want %s\n", i, buf, n, cases[i].want);
			failures++;
		}
	}
	CHECK(accesslog_format_addr(buf, sizeof(buf), NULL) == 1 && !strcmp(buf, "-"));
	memset(&ss, 0, sizeof(ss));
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, "/run/app.sock");
	CHECK(accesslog_format_addr(buf, sizeof(buf), &ss) == 13 && !strcmp(buf, "/run/app.sock"));
	memcpy(sun->sun_path, "\0abstract", 10);
	CHECK(accesslog_format_addr(buf, sizeof(buf), &ss) == 9 && !strcmp(buf, "@abstract"));
	// A short buffer truncates and still terminates.
	set_addr(&ss, "10.0.0.1", 80);
	CHECK(accesslog_format_addr(buf, 5, &ss) == 4 && !strcmp(buf, "10.0"));
	CHECK(accesslog_format_addr(buf, 0, &ss) == 0);
}

// Hostile values: each must stay inside its own field, escaped.
static const struct {
	const char *ua;		// as received
	const char *want;	// the user-agent field as logged, quotes included
} esc_cases[] = {
	{ "Mozilla/5.0 (X11)", "\"Mozilla/5.0 (X11)\"" },	// spaces fine in quotes
	{ "a\"b", "\"a\\x22b\"" },
	{ "a\\b", "\"a\\x5Cb\"" },
	{ "a\nb", "\"a\\x0Ab\"" },
	{ "a\r\nb", "\"a\\x0D\\x0Ab\"" },
	{ "t\tab", "\"t\\x09ab\"" },
	{ "\x1b[31mred", "\"\\x1B[31mred\"" },			// terminal escape
	{ "del\x7f", "\"del\\x7F\"" },
	{ "nel\xc2\x85", "\"nel\\xC2\\x85\"" },			// C1 control in UTF-8
	{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" },	// UTF-8 kept
	{ "bad\xff\xc0\xaf", "\"bad\\xFF\\xC0\\xAF\"" },
	{ "x\" 200 - - - \"-\" 0 0 0 0 \"forged", "\"x\\x22 200 - - - \\x22-\\x22 0 0 0 0 \\x22forged\"" },
	{ "\n[2024-01-01T00:00:00.000Z] \"GET /admin HTTP/1.1\" 200",
	  "\"\\x0A[2024-01-01T00:00:00.000Z] \\x22GET /admin HTTP/1.1\\x22 200\"" },
};

static void test_escaping(void)
{
	struct accesslog_entry e;
	char tok[32][512];
	size_t i;

	for (i = 0; i < sizeof(esc_cases) / sizeof(esc_cases[0]); i++) {
		full_entry(&e);
		S(&e, user_agent, esc_cases[i].ua);
		fmt(&e);
		if (fields(out.data, tok, 32) != NUM_FIELDS || strcmp(tok[12], esc_cases[i].want)) {
			printf("FAIL escape case %zu: line %s", i, out.data);
			failures++;
		}
	}

	// Every string field, hostile at once: still one line of 22 fields.
	full_entry(&e);
	S(&e, method, "G\"ET");
	S(&e, path, "/a b\"\n");
	e.protocol = "HTTP/1.1\r";
	e.response_flags = "UH\n";
	e.response_code_details = "a b";
	e.termination_details = "x\"y";
	e.upstream_failure = "TLS error: \"bad\"\n";
	S(&e, xff, "1.2.3.4\", 5.6.7.8");
	S(&e, request_id, "id\\");
	S(&e, authority, "h\"ost");
	e.upstream_cluster = "c l";
	e.requested_server_name = "evil\n.example";
	e.route_name = "r\"";
	fmt(&e);
	CHECK(fields(out.data, tok, 32) == NUM_FIELDS);
	EXPECT_STR(tok[1], "\"G\\x22ET /a b\\x22\\x0A HTTP/1.1\\x0D\"");
	EXPECT_STR(tok[3], "UH\\x0A");
	EXPECT_STR(tok[4], "a\\x20b");		// unquoted: a space would split it
	EXPECT_STR(tok[5], "x\\x22y");
	EXPECT_STR(tok[6], "\"TLS error: \\x22bad\\x22\\x0A\"");
	EXPECT_STR(tok[11], "\"1.2.3.4\\x22, 5.6.7.8\"");
	EXPECT_STR(tok[13], "\"id\\x5C\"");
	EXPECT_STR(tok[14], "\"h\\x22ost\"");
	EXPECT_STR(tok[16], "c\\x20l");
	EXPECT_STR(tok[20], "evil\\x0A.example");
	EXPECT_STR(tok[21], "r\\x22");

	// Lengths are honoured: no reading past them, NULs inside are escaped.
	full_entry(&e);
	e.user_agent = "abc\0def";
	e.user_agent_len = 7;
	e.request_id = "1234567890";
	e.request_id_len = 4;
	fmt(&e);
	CHECK(fields(out.data, tok, 32) == NUM_FIELDS);
	EXPECT_STR(tok[12], "\"abc\\x00def\"");
	EXPECT_STR(tok[13], "\"1234\"");
}

// The splitter must itself reject broken lines.
static void test_fields_rejects(void)
{
	static const char *const bad[] = {
		"a b\nc\n",		// two lines
		"a \"b\n",		// unterminated quote
		"a \"b\"c\n",		// glued
		"a b",			// no newline
	};
	char tok[8][512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (fields(bad[i], tok, 8) != -1) {
			printf("FAIL splitter accepted bad line %zu\n", i);
			failures++;
		}
	CHECK(fields("a \"b c\" d\n", tok, 8) == 3 && !strcmp(tok[1], "\"b c\""));
}

int main(void)
{
	buf_init(&out);
	test_fields_rejects();
	test_full();
	test_absent();
	test_ipv6();
	test_time();
	test_addr();
	test_escaping();
	buf_cleanup(&out);
	printf("%s\n", failures ? "accesslog_test: FAILED" : "accesslog_test: ok");
	return failures ? 1 : 0;
}
