// SPDX-License-Identifier: Apache-2.0
// admin_api_test: the CLI's admin API client against a canned server on
// loopback: bodies by Content-Length, chunked (split anywhere) and by
// close; every malformed or truncated answer, a silent server (deadline),
// a refused connection, an oversized body, non-200 and non-JSON answers,
// each a clear error; HOST:PORT forms; typed field access and JSON output.
#include "appliance/cli/admin_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/json.h"
#include "core/buf.h"
#include "core/clock.h"

#include "tests/unit/check.h"

// ---- the canned server ----

enum { MAX_PARTS = 4 };

struct answer {
	const char *parts[MAX_PARTS];	// written in turn, 20 ms apart
	int silent_ms;			// > 0: say nothing for this long, then close
	size_t big_cl;			// > 0: claim this Content-Length, send a little
	int stall_ms;			// > 0: after the parts, wait this long before closing
};

static struct answer g_answer;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_request[4096];
static int g_listen_fd;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static void *server(void *arg)
{
	for (;;) {
		int fd = accept(g_listen_fd, NULL, NULL);
		struct answer a;
		size_t got = 0;

		if (fd < 0)
			return NULL;
		pthread_mutex_lock(&g_mu);
		a = g_answer;
		pthread_mutex_unlock(&g_mu);
		memset(g_request, 0, sizeof(g_request));
		while (got < sizeof(g_request) - 1 && !strstr(g_request, "\r\n\r\n")) {
			ssize_t n = recv(fd, g_request + got, sizeof(g_request) - 1 - got, 0);

			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (a.silent_ms)
			sleep_ms(a.silent_ms);
		if (a.big_cl) {
			char head[128];

			snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n{",
				 a.big_cl);
			send(fd, head, strlen(head), MSG_NOSIGNAL);
		}
		for (int i = 0; i < MAX_PARTS && a.parts[i]; i++) {
			if (i)
				sleep_ms(20);
			send(fd, a.parts[i], strlen(a.parts[i]), MSG_NOSIGNAL);
		}
		if (a.stall_ms)
			sleep_ms(a.stall_ms);
		close(fd);
	}
}

static uint16_t start_server(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	pthread_t th;

	g_listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (g_listen_fd < 0 || bind(g_listen_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(g_listen_fd, 16) < 0 || getsockname(g_listen_fd, (struct sockaddr *)&sin, &len) < 0) {
		perror("server");
		exit(1);
	}
	pthread_create(&th, NULL, server, NULL);
	pthread_detach(th);
	return ntohs(sin.sin_port);
}

static void set_answer(const struct answer *a)
{
	pthread_mutex_lock(&g_mu);
	g_answer = *a;
	pthread_mutex_unlock(&g_mu);
}

// ---- admin_get ----

struct get_case {
	const char *name;
	struct answer answer;
	int timeout_ms;		// 0: 2000
	int want;		// the status, or -errno
	const char *want_body;	// with a status
	const char *want_err;	// a part of err, with an error
};

static const struct get_case get_cases[] = {
	{ "Content-Length", { { "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":1}" } }, 0,
	  200, "{\"a\":1}", NULL },
	{ "a body in pieces", { { "HTTP/1.1 200 OK\r\nContent-Len", "gth: 11\r\n\r\n{\"a\":",
				  "[1,2]", "}" } }, 0, 200, "{\"a\":[1,2]}", NULL },
	{ "chunked, split inside sizes and data",
	  { { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n",
	      "9\r\n:[1,2,3]}\r", "\n0\r\n\r\n" } }, 0, 200, "{\"a\":[1,2,3]}", NULL },
	{ "chunked with a trailer", { { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
					"2\r\n{}\r\n0\r\nx-t: 1\r\n\r\n" } }, 0, 200, "{}", NULL },
	{ "a body delimited by the close", { { "HTTP/1.1 200 OK\r\n\r\n{\"eof\":", "true}" } }, 0,
	  200, "{\"eof\":true}", NULL },
	{ "204: no body", { { "HTTP/1.1 204 No Content\r\n\r\n" } }, 0, 204, "", NULL },
	{ "a non-200 status is returned, not an error",
	  { { "HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n" } }, 0, 404,
	  "not found\n", NULL },
	{ "closed without an answer", { { NULL } }, 0, -EBADMSG, NULL, "without an answer" },
	{ "closed inside the head", { { "HTTP/1.1 200 OK\r\nContent-" } }, 0, -EBADMSG, NULL,
	  "inside the response head" },
	{ "a bad status line", { { "HTTP/1.1 2000 OK\r\n\r\n" } }, 0, -EBADMSG, NULL,
	  "malformed response head" },
	{ "not HTTP at all", { { "SSH-2.0-OpenSSH_9.2\r\n\r\n" } }, 0, -EBADMSG, NULL,
	  "malformed response head" },
	{ "a bare LF in the head", { { "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n" } }, 0,
	  -EBADMSG, NULL, "not a valid HTTP/1.1 answer" },
	{ "Content-Length and Transfer-Encoding (smuggling shape)",
	  { { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "0\r\n\r\n" } }, 0, -EBADMSG, NULL, "malformed response head" },
	{ "two different Content-Lengths",
	  { { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}" } }, 0,
	  -EBADMSG, NULL, "malformed response head" },
	{ "a body cut short", { { "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\":" } }, 0,
	  -EBADMSG, NULL, "closed inside the body" },
	{ "a bad chunk size", { { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				  "zz\r\n{}\r\n0\r\n\r\n" } }, 0, -EBADMSG, NULL,
	  "malformed chunked body" },
	{ "a chunked body cut short", { { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
					  "10\r\n{}" } }, 0, -EBADMSG, NULL,
	  "closed inside the chunked body" },
	{ "an interim answer", { { "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n" } }, 0,
	  -EBADMSG, NULL, "interim" },
	{ "a Content-Length over the limit", { { NULL }, 0, (size_t)ADMIN_API_MAX_BODY + 1 }, 0,
	  -EFBIG, NULL, "larger than 32 MiB" },
	{ "a silent server: the deadline", { { NULL }, 700 }, 200, -ETIMEDOUT, NULL,
	  "no complete answer within 200 ms" },
	{ "a server that stalls mid-body: the deadline",
	  { { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{" }, 0, 0, 700 }, 200, -ETIMEDOUT,
	  NULL, "no complete answer within 200 ms" },
};

static void test_get(const struct admin_addr *a)
{
	for (size_t i = 0; i < sizeof(get_cases) / sizeof(get_cases[0]); i++) {
		const struct get_case *c = &get_cases[i];
		char err[512] = "";
		struct buf body;
		int rc;

		set_answer(&c->answer);
		buf_init(&body);
		rc = admin_get(a, "/config_dump", c->timeout_ms ? c->timeout_ms : 2000, &body, err,
			       sizeof(err));
		CHECK(rc == c->want, "%s: got %d (%s), want %d", c->name, rc, err, c->want);
		if (rc >= 0 && c->want_body)
			CHECK(body.len == strlen(c->want_body) &&
			      !memcmp(body.data ? body.data : "", c->want_body, body.len),
			      "%s: body %.*s", c->name, (int)body.len, body.data ? body.data : "");
		if (rc < 0) {
			CHECK(c->want_err && strstr(err, c->want_err), "%s: err \"%s\"", c->name, err);
			CHECK(strstr(err, "GET http://127.0.0.1:") && strstr(err, "/config_dump"),
			      "%s: err names the request: \"%s\"", c->name, err);
			CHECK(body.len == 0, "%s: nothing left in the body on error", c->name);
		}
		buf_cleanup(&body);
	}
	CHECK(strstr(g_request, "GET /config_dump HTTP/1.1\r\n") == g_request &&
	      strstr(g_request, "\r\nHost: 127.0.0.1:") && strstr(g_request, "Connection: close"),
	      "the request: %s", g_request);
}

// ---- admin_get_json ----

struct json_case {
	const char *name;
	const char *answer;
	int want;
	int want_status;
	const char *want_err;
};

static const struct json_case json_cases[] = {
	{ "an object", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{\"k\":[1]}", 0, 200, NULL },
	{ "404 quotes the body's first line",
	  "HTTP/1.1 404 Not Found\r\nContent-Length: 15\r\n\r\nnot found\nmore\n", -EIO, 404,
	  "HTTP 404 Not Found: not found" },
	{ "503 without a body", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
	  -EIO, 503, "HTTP 503 Service Unavailable" },
	{ "an error body's control characters are neutralised",
	  "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 6\r\n\r\na\x1b[2Jb", -EIO, 500,
	  "Internal Server Error: a?[2Jb" },
	{ "not JSON", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!", -EBADMSG, 200,
	  "not valid JSON (line 1" },
	{ "truncated JSON", "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n{\"listeners\":", -EBADMSG,
	  200, "not valid JSON" },
	{ "JSON with a trailing comma", "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{\"a\":1,}",
	  -EBADMSG, 200, "not valid JSON" },
	{ "an empty 200", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", -EBADMSG, 200,
	  "not valid JSON" },
	{ "two JSON values", "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n{}{}", -EBADMSG, 200,
	  "not valid JSON" },
};

static void test_get_json(const struct admin_addr *a)
{
	for (size_t i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]); i++) {
		const struct json_case *c = &json_cases[i];
		struct answer ans = { { c->answer } };
		struct yaml_tree t;
		char err[512] = "";
		int status = -1, rc;

		set_answer(&ans);
		rc = admin_get_json(a, "/syncz", &t, &status, err, sizeof(err));
		CHECK(rc == c->want, "%s: got %d (%s), want %d", c->name, rc, err, c->want);
		CHECK(status == c->want_status, "%s: status %d", c->name, status);
		if (rc == 0)
			CHECK(t.num_docs == 1 && t.docs[0]->type == YN_MAP, "%s: a tree", c->name);
		else
			CHECK(strstr(err, c->want_err) && strstr(err, "GET http://127.0.0.1:") &&
			      strstr(err, "/syncz"), "%s: err \"%s\"", c->name, err);
		yaml_tree_free(&t);
	}
}

static void test_refused(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct admin_addr a;
	struct yaml_tree t;
	char spec[32], err[512] = "";
	int status = -1, rc;

	// a port nobody listens on: bound, never listened, then closed
	bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(fd, (struct sockaddr *)&sin, &len);
	close(fd);
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", ntohs(sin.sin_port));
	CHECK(admin_addr_parse(&a, spec) == 0, "parse %s", spec);
	rc = admin_get_json(&a, "/config_dump", &t, &status, err, sizeof(err));
	CHECK(rc == -ECONNREFUSED && status == 0, "refused: %d %d", rc, status);
	CHECK(strstr(err, "connect failed (Connection refused)") && strstr(err, spec),
	      "refused: err \"%s\"", err);
	yaml_tree_free(&t);
}

// ---- HOST:PORT ----

struct addr_case {
	const char *in;
	int want;
	const char *text;
	int family;
};

static const struct addr_case addr_cases[] = {
	{ "127.0.0.1:15000", 0, "127.0.0.1:15000", AF_INET },
	{ "10.1.2.3:1", 0, "10.1.2.3:1", AF_INET },
	{ "15000", 0, "127.0.0.1:15000", AF_INET },
	{ "localhost:15001", 0, "127.0.0.1:15001", AF_INET },
	{ ":15002", 0, "127.0.0.1:15002", AF_INET },
	{ "[::1]:15000", 0, "[::1]:15000", AF_INET6 },
	{ "[fd00::1]:65535", 0, "[fd00::1]:65535", AF_INET6 },
	{ "::1:15000", -EINVAL, NULL, 0 },		// IPv6 needs brackets
	{ "[127.0.0.1]:80", -EINVAL, NULL, 0 },
	{ "[::1]", -EINVAL, NULL, 0 },
	{ "[::1]15000", -EINVAL, NULL, 0 },
	{ "admin.example:15000", -EINVAL, NULL, 0 },	// no name resolution
	{ "127.0.0.1:0", -EINVAL, NULL, 0 },
	{ "127.0.0.1:65536", -EINVAL, NULL, 0 },
	{ "127.0.0.1:", -EINVAL, NULL, 0 },
	{ "127.0.0.1:80x", -EINVAL, NULL, 0 },
	{ "127.0.0.1:+80", -EINVAL, NULL, 0 },
	{ "127.0.0.1:0080000", -EINVAL, NULL, 0 },
	{ "256.0.0.1:80", -EINVAL, NULL, 0 },
	{ "", -EINVAL, NULL, 0 },
	{ "x", -EINVAL, NULL, 0 },
};

static void test_addrs(void)
{
	for (size_t i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++) {
		const struct addr_case *c = &addr_cases[i];
		struct admin_addr a;
		int rc = admin_addr_parse(&a, c->in);

		CHECK(rc == c->want, "\"%s\": %d", c->in, rc);
		if (rc == 0)
			CHECK(!strcmp(a.text, c->text) && a.ss.ss_family == c->family,
			      "\"%s\": %s", c->in, a.text);
	}
	CHECK(admin_addr_parse(&(struct admin_addr){ 0 }, NULL) == -EINVAL, "NULL");
}

// ---- typed fields and JSON out ----

static void test_fields(void)
{
	static const char doc[] = "{\"s\":\"str\",\"n\":42,\"big\":70000,\"neg\":-1,\"f\":1.5,"
				  "\"b\":true,\"z\":null,\"a\":[1,\"x\"],\"o\":{\"k\":\"v\"},"
				  "\"e\":{},\"q\":[],\"u\":\"\\u00e9<&>\\n\"}";
	struct yaml_tree t;
	struct yaml_error je;
	const struct ynode *r, *n;
	const char *s;
	uint64_t u;
	bool b;
	char err[256];
	struct buf out;

	if (json_tree_parse(&t, doc, sizeof(doc) - 1, &je) < 0) {
		CHECK(0, "parse: %s", je.msg);
		return;
	}
	r = t.docs[0];
	CHECK(api_str(r, "/x", "s", true, &s, err, sizeof(err)) == 0 && !strcmp(s, "str"), "str");
	CHECK(api_str(r, "/x", "n", true, &s, err, sizeof(err)) == -EBADMSG &&
	      !strcmp(err, "/x.n: want a string"), "a number is not a string: %s", err);
	CHECK(api_str(r, "/x", "missing", false, &s, err, sizeof(err)) == 0 && !s, "optional");
	CHECK(api_str(r, "/x", "z", false, &s, err, sizeof(err)) == 0 && !s, "null is absent");
	CHECK(api_str(r, "/x", "missing", true, &s, err, sizeof(err)) == -EBADMSG &&
	      !strcmp(err, "/x.missing: missing"), "required: %s", err);
	CHECK(api_uint(r, "/x", "n", true, 65535, &u, err, sizeof(err)) == 0 && u == 42, "uint");
	CHECK(api_uint(r, "/x", "big", true, 65535, &u, err, sizeof(err)) == -EBADMSG &&
	      strstr(err, "/x.big: want an integer 0..65535"), "over max: %s", err);
	CHECK(api_uint(r, "/x", "neg", true, 65535, &u, err, sizeof(err)) == -EBADMSG, "negative");
	CHECK(api_uint(r, "/x", "f", true, 65535, &u, err, sizeof(err)) == -EBADMSG, "a float");
	CHECK(api_uint(r, "/x", "s", true, 65535, &u, err, sizeof(err)) == -EBADMSG, "a string");
	CHECK(api_bool(r, "/x", "b", true, &b, err, sizeof(err)) == 0 && b, "bool");
	CHECK(api_bool(r, "/x", "s", true, &b, err, sizeof(err)) == -EBADMSG &&
	      strstr(err, "want true or false"), "not a bool: %s", err);
	CHECK(api_seq(r, "/x", "a", true, &n, err, sizeof(err)) == 0 && n->len == 2, "seq");
	CHECK(api_seq(r, "/x", "o", true, &n, err, sizeof(err)) == -EBADMSG &&
	      strstr(err, "/x.o: want an array"), "an object is not an array: %s", err);
	CHECK(api_map(r, "/x", "o", true, &n, err, sizeof(err)) == 0 && n->len == 1, "map");
	CHECK(api_map(r, "/x", "a", true, &n, err, sizeof(err)) == -EBADMSG, "an array");
	n = yaml_tree_map_get(r, "a");
	CHECK(api_str(n, "/x.a", "k", false, &s, err, sizeof(err)) == -EBADMSG &&
	      !strcmp(err, "/x.a: want an object"), "fields of a non-object: %s", err);
	CHECK(api_want_map(NULL, "/x", err, sizeof(err)) == -EBADMSG, "NULL");
	buf_init(&out);
	CHECK(api_json_write(&out, r, 0) == 0, "write");
	{
		static const char want[] =
			"{\n    \"s\": \"str\",\n    \"n\": 42,\n    \"big\": 70000,\n    \"neg\": -1,\n"
			"    \"f\": 1.5,\n    \"b\": true,\n    \"z\": null,\n    \"a\": [\n        1,\n"
			"        \"x\"\n    ],\n    \"o\": {\n        \"k\": \"v\"\n    },\n"
			"    \"e\": {},\n    \"q\": [],\n"
			"    \"u\": \"\xc3\xa9\\u003c\\u0026\\u003e\\n\"\n}";

		CHECK(out.len == sizeof(want) - 1 && !memcmp(out.data, want, out.len),
		      "json out:\n%.*s", (int)out.len, out.data);
	}
	buf_cleanup(&out);
	yaml_tree_free(&t);
}

int main(void)
{
	struct admin_addr a;
	char spec[32];

	clock_init();
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", start_server());
	if (admin_addr_parse(&a, spec) < 0) {
		printf("FAIL parse %s\n", spec);
		return 1;
	}
	test_get(&a);
	test_get_json(&a);
	test_refused();
	test_addrs();
	test_fields();
	printf("admin_api_test: %zu answer, %zu JSON, %zu address cases; %d checks, %d failed\n",
	       sizeof(get_cases) / sizeof(get_cases[0]), sizeof(json_cases) / sizeof(json_cases[0]),
	       sizeof(addr_cases) / sizeof(addr_cases[0]), checks, failures);
	return failures ? 1 : 0;
}
