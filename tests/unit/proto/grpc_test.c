// SPDX-License-Identifier: Apache-2.0
// grpc_test: table-driven tests of gRPC framing: the deframer fed at every
// split, grpc-timeout, grpc-message escaping, status codes and trailers,
// with must-fail rows for each parser.
#include "proto/grpc.h"

#include "core/bug.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static int failures, checks;

#define CHECK(c, ...)							\
	do {								\
		checks++;						\
		if (!(c)) {						\
			failures++;					\
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #c); \
			printf(__VA_ARGS__);				\
			printf("\n");					\
		}							\
	} while (0)

#define B(s) s, sizeof(s) - 1

// dup copies a test input into a heap block of exactly its size, so that
// ASan reports any read past the end.
static char *dup(const char *s, size_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p)
		abort();
	memcpy(p, s, len);
	return p;
}

// ---------------------------------------------------------------------------
// Status codes

static void test_status(void)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
		"NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
		"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
	};
	static const struct {
		const char *in;
		size_t len;
		int err, code;
	} rows[] = {
		{ B("0"), 0, 0 }, { B("16"), 0, 16 }, { B("999"), 0, 999 }, { B("007"), 0, 7 },
		{ B(""), -EINVAL }, { B("1000"), -EINVAL }, { B("-1"), -EINVAL },
		{ B("+1"), -EINVAL }, { B(" 1"), -EINVAL }, { B("1 "), -EINVAL },
		{ B("1a"), -EINVAL }, { B("\0"), -EINVAL },
	};
	static const struct {
		int err;
		enum grpc_status st;
	} errs[] = {
		{ 0, GRPC_OK }, { -ENOTSUP, GRPC_UNIMPLEMENTED }, { -EMSGSIZE, GRPC_RESOURCE_EXHAUSTED },
		{ -ENOMEM, GRPC_RESOURCE_EXHAUSTED }, { -ETIMEDOUT, GRPC_DEADLINE_EXCEEDED },
		{ -EBADMSG, GRPC_INTERNAL }, { -EIO, GRPC_INTERNAL },
	};

	CHECK(ARRAY_SIZE(names) == GRPC_NUM_STATUS, "17 codes");
	for (int i = 0; i < GRPC_NUM_STATUS; i++) {
		const char *n = grpc_status_name(i);

		CHECK(n && !strcmp(n, names[i]), "name of %d: %s", i, n ? n : "(null)");
	}
	CHECK(grpc_status_name(17) == NULL, "17");
	CHECK(grpc_status_name(-1) == NULL, "-1");
	CHECK(GRPC_UNAUTHENTICATED == 16 && GRPC_UNIMPLEMENTED == 12 && GRPC_INTERNAL == 13 &&
	      GRPC_INVALID_ARGUMENT == 3 && GRPC_RESOURCE_EXHAUSTED == 8, "numbering");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char *p = dup(rows[i].in, rows[i].len);
		int code = -1, err = grpc_status_parse(p, rows[i].len, &code);

		CHECK(err == rows[i].err, "status_parse row %zu: %d", i, err);
		if (!rows[i].err)
			CHECK(code == rows[i].code, "status_parse row %zu: %d", i, code);
		free(p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(errs); i++)
		CHECK(grpc_status_of(errs[i].err) == errs[i].st, "status_of(%d)", errs[i].err);
}

// ---------------------------------------------------------------------------
// content-type

static void test_content_type(void)
{
	static const struct {
		const char *in;
		size_t len;
		bool ok;
	} rows[] = {
		{ B("application/grpc"), true },
		{ B("application/grpc+proto"), true },
		{ B("application/grpc+json"), true },
		{ B("application/grpc;charset=utf-8"), true },
		{ B("application/grpc-web"), false },
		{ B("application/grpcx"), false },
		{ B("application/json"), false },
		{ B("Application/grpc"), false },
		{ B("application/grp"), false },
		{ B(""), false },
		{ B("text/plain"), false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char *p = dup(rows[i].in, rows[i].len);

		CHECK(grpc_content_type_ok(p, rows[i].len) == rows[i].ok, "content-type %s",
		      rows[i].in);
		free(p);
	}
}

// ---------------------------------------------------------------------------
// Deframer

struct df_row {
	const char *id;
	const char *in;
	size_t len;
	uint32_t max;
	int err;		// error the stream must end in (0: none)
	int num_msgs;
	const char *msgs[3];	// expected messages, in order
	size_t msg_lens[3];
	bool idle;		// no partial message at the end
};

static const struct df_row df_rows[] = {
	{ "one", B("\0\0\0\0\5hello"), 0, 0, 1, { "hello" }, { 5 }, true },
	{ "two", B("\0\0\0\0\1a\0\0\0\0\2bc"), 0, 0, 2, { "a", "bc" }, { 1, 2 }, true },
	{ "empty message", B("\0\0\0\0\0"), 0, 0, 1, { "" }, { 0 }, true },
	{ "empty then one", B("\0\0\0\0\0\0\0\0\0\1z"), 0, 0, 2, { "", "z" }, { 0, 1 }, true },
	{ "binary payload", B("\0\0\0\0\4\0\1\2\377"), 0, 0, 1, { "\0\1\2\377" }, { 4 }, true },
	{ "exactly max", B("\0\0\0\0\4abcd"), 4, 0, 1, { "abcd" }, { 4 }, true },
	{ "three", B("\0\0\0\0\1x\0\0\0\0\1y\0\0\0\0\1z"), 0, 0, 3, { "x", "y", "z" },
	  { 1, 1, 1 }, true },
	// must fail or stay incomplete
	{ "truncated body", B("\0\0\0\0\5hel"), 0, 0, 0, {}, {}, false },
	{ "truncated prefix", B("\0\0\0"), 0, 0, 0, {}, {}, false },
	{ "second truncated", B("\0\0\0\0\1a\0\0"), 0, 0, 1, { "a" }, { 1 }, false },
	{ "compressed", B("\1\0\0\0\5hello"), 0, -ENOTSUP, 0, {}, {}, false },
	{ "flag 2", B("\2\0\0\0\1a"), 0, -EBADMSG, 0, {}, {}, false },
	{ "flag 0x80", B("\x80\0\0\0\1a"), 0, -EBADMSG, 0, {}, {}, false },
	{ "over max", B("\0\0\0\0\5abcde"), 4, -EMSGSIZE, 0, {}, {}, false },
	{ "4 GiB - 1", B("\0\xff\xff\xff\xff"), 0, -EMSGSIZE, 0, {}, {}, false },
	{ "4 MiB + 1", B("\0\0\x40\0\1"), 0, -EMSGSIZE, 0, {}, {}, false },
	{ "good then compressed", B("\0\0\0\0\1a\1\0\0\0\1b"), 0, -ENOTSUP, 1, { "a" }, { 1 },
	  false },
};

// df_run feeds row r in chunks of `step` bytes (0: all at once) and
// checks the outcome.
static void df_run(const struct df_row *r, size_t step)
{
	struct grpc_deframer d;
	int got = 0, err = 0;
	size_t off = 0;

	grpc_deframer_init(&d, r->max);
	while (off < r->len && !err) {
		size_t n = step ? MIN(step, r->len - off) : r->len - off;
		char *chunk = dup(r->in + off, n);
		size_t used = 0;

		while (used < n) {
			const char *msg;
			size_t msg_len;
			ssize_t k = grpc_deframe(&d, chunk + used, n - used, &msg, &msg_len);

			if (k < 0) {
				err = (int)k;
				break;
			}
			CHECK(k > 0 || msg, "%s step %zu: no progress", r->id, step);
			if (!k && !msg)
				break;
			used += (size_t)k;
			if (!msg)
				continue;
			if (got < r->num_msgs)
				CHECK(msg_len == r->msg_lens[got] &&
				      !memcmp(msg, r->msgs[got], msg_len),
				      "%s step %zu: message %d", r->id, step, got);
			got++;
		}
		free(chunk);
		off += n;
	}
	CHECK(err == r->err, "%s step %zu: err %d, want %d", r->id, step, err, r->err);
	CHECK(got == r->num_msgs, "%s step %zu: %d messages, want %d", r->id, step, got,
	      r->num_msgs);
	CHECK(grpc_deframer_idle(&d) == r->idle, "%s step %zu: idle", r->id, step);
	CHECK(d.num_msgs == (uint64_t)got, "%s step %zu: num_msgs", r->id, step);
	if (r->err) {
		const char *msg;
		size_t msg_len;

		CHECK(grpc_deframe(&d, "\0", 1, &msg, &msg_len) == r->err,
		      "%s: error is sticky", r->id);
	}
	grpc_deframer_cleanup(&d);
}

static void test_deframer(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(df_rows); i++)
		for (size_t step = 0; step <= df_rows[i].len; step++)
			df_run(&df_rows[i], step);
}

// test_deframer_large checks a message bigger than any chunk, arriving in
// odd pieces, and that memory follows the bytes received.
static void test_deframer_large(void)
{
	const size_t n = 300000;
	struct grpc_deframer d;
	struct buf in;
	size_t off = 0, got = 0;
	int ok = 1;

	uint8_t h[GRPC_PREFIX_LEN];

	buf_init(&in);
	CHECK(grpc_frame(&in, "", 0) == 0, "frame");	// an empty message first
	CHECK(grpc_prefix(h, n) == 0, "prefix");
	buf_append(&in, h, sizeof(h));
	for (size_t i = 0; i < n; i++) {
		char c = (char)(i * 7);

		buf_append(&in, &c, 1);
	}
	grpc_deframer_init(&d, 0);
	// Announcing 300000 bytes allocates nothing yet.
	{
		const char *msg;
		size_t msg_len;
		ssize_t k = grpc_deframe(&d, in.data, 10, &msg, &msg_len);

		CHECK(k == 5 && msg && msg_len == 0, "empty first: %zd", k);
		k = grpc_deframe(&d, in.data + 5, 5, &msg, &msg_len);
		CHECK(k == 5 && !msg && d.msg.cap == 0, "prefix only: %zd cap %zu", k, d.msg.cap);
		off = 10;
	}
	while (off < in.len) {
		size_t step = MIN((size_t)4093, in.len - off);
		const char *msg;
		size_t msg_len;
		ssize_t k = grpc_deframe(&d, in.data + off, step, &msg, &msg_len);

		if (k <= 0) {
			ok = 0;
			break;
		}
		off += (size_t)k;
		if (msg) {
			got++;
			for (size_t i = 0; i < msg_len && ok; i++)
				ok = msg[i] == (char)(i * 7);
			CHECK(msg_len == n, "large length %zu", msg_len);
		}
	}
	CHECK(ok && got == 1 && grpc_deframer_idle(&d), "large message");
	grpc_deframer_cleanup(&d);
	buf_cleanup(&in);
}

static void test_frame(void)
{
	struct buf b;
	uint8_t h[GRPC_PREFIX_LEN];

	buf_init(&b);
	CHECK(grpc_frame(&b, "abc", 3) == 0 && b.len == 8 &&
	      !memcmp(b.data, "\0\0\0\0\3abc", 8), "frame abc");
	CHECK(grpc_prefix(h, 0x01020304) == 0 && !memcmp(h, "\0\1\2\3\4", 5), "prefix order");
	CHECK(grpc_prefix(h, (size_t)UINT32_MAX + 1) == -EMSGSIZE, "prefix 4 GiB");
	buf_cleanup(&b);
}

// ---------------------------------------------------------------------------
// grpc-timeout

static void test_timeout(void)
{
	static const struct {
		const char *in;
		size_t len;
		int err;
		int64_t ns;
	} rows[] = {
		{ B("1S"), 0, 1000000000ll },
		{ B("100m"), 0, 100000000ll },
		{ B("1H"), 0, 3600000000000ll },
		{ B("2M"), 0, 120000000000ll },
		{ B("7u"), 0, 7000ll },
		{ B("9n"), 0, 9ll },
		{ B("0S"), 0, 0 },
		{ B("00000001S"), 0, 1000000000ll },
		{ B("99999999n"), 0, 99999999ll },
		{ B("99999999S"), 0, 99999999000000000ll },
		{ B("99999999H"), 0, INT64_MAX },	// saturates
		{ B("3000000H"), 0, INT64_MAX },
		// must fail
		{ B(""), -EINVAL }, { B("S"), -EINVAL }, { B("1"), -EINVAL },
		{ B("123456789S"), -EINVAL },	// 9 digits
		{ B("1s"), -EINVAL }, { B("1h"), -EINVAL }, { B("1X"), -EINVAL },
		{ B("-1S"), -EINVAL }, { B("+1S"), -EINVAL }, { B("1 S"), -EINVAL },
		{ B(" 1S"), -EINVAL }, { B("1S "), -EINVAL }, { B("1SS"), -EINVAL },
		{ B("1.5S"), -EINVAL }, { B("0x1S"), -EINVAL }, { B("1\0S"), -EINVAL },
		{ B("１S"), -EINVAL },
	};
	static const struct {
		int64_t ns;
		const char *out;
	} fmt[] = {
		{ 0, "0n" }, { 1, "1n" }, { 99999999, "99999999n" }, { 100000000, "100000u" },
		{ 100000001, "100001u" }, { 1000000000, "1000000u" },
		{ 3600000000000ll, "3600000m" }, { INT64_MAX, "2562048H" }, { -5, "0n" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char *p = dup(rows[i].in, rows[i].len);
		int64_t ns = -1;
		int err = grpc_timeout_parse(p, rows[i].len, &ns);

		CHECK(err == rows[i].err, "timeout row %zu (%s): err %d", i, rows[i].in, err);
		if (!rows[i].err)
			CHECK(ns == rows[i].ns, "timeout %s: %lld", rows[i].in, (long long)ns);
		free(p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(fmt); i++) {
		char out[GRPC_TIMEOUT_MAX_DIGITS + 2];
		int n = grpc_timeout_format(out, fmt[i].ns);
		int64_t back;

		CHECK(n == (int)strlen(fmt[i].out) && !strcmp(out, fmt[i].out),
		      "format %lld: %s", (long long)fmt[i].ns, out);
		CHECK(grpc_timeout_parse(out, (size_t)n, &back) == 0 &&
		      (back >= fmt[i].ns || back == INT64_MAX), "format %lld round trip",
		      (long long)fmt[i].ns);
	}
}

// ---------------------------------------------------------------------------
// grpc-message

static void test_message(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *enc;
	} enc[] = {
		{ B("hello"), "hello" },
		{ B("50%"), "50%25" },
		{ B("a\nb"), "a%0Ab" },
		{ B("\x1f \x7e\x7f"), "%1F ~%7F" },
		{ B("caf\xc3\xa9"), "caf%C3%A9" },
		{ B("\0"), "%00" },
		{ B("\xff"), "%FF" },
		{ B("request authenticate failure: expired"),
		  "request authenticate failure: expired" },
		{ B(""), "" },
	};
	static const struct {
		const char *in;
		size_t len;
		const char *dec;
		size_t dec_len;
	} dec[] = {
		{ B("%25"), B("%") },
		{ B("%C3%A9"), B("\xc3\xa9") },
		{ B("%0a"), B("\n") },
		{ B("%00"), B("\0") },
		// malformed escapes are kept, never an error
		{ B("%"), B("%") },
		{ B("%4"), B("%4") },
		{ B("%zz"), B("%zz") },
		{ B("%%41"), B("%A") },
		{ B("100%"), B("100%") },
		{ B("%4G"), B("%4G") },
	};
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < ARRAY_SIZE(enc); i++) {
		char *p = dup(enc[i].in, enc[i].len);

		b.off = b.len = 0;
		CHECK(grpc_message_encode(&b, p, enc[i].len) == 0 &&
		      b.len == strlen(enc[i].enc) && !memcmp(b.data, enc[i].enc, b.len),
		      "encode row %zu: %.*s", i, (int)b.len, b.data ? b.data : "");
		free(p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(dec); i++) {
		char *p = dup(dec[i].in, dec[i].len);

		b.off = b.len = 0;
		CHECK(grpc_message_decode(&b, p, dec[i].len) == 0 && b.len == dec[i].dec_len &&
		      !memcmp(b.data, dec[i].dec, b.len), "decode %s", dec[i].in);
		free(p);
	}
	// Every byte round-trips, and the encoding is printable ASCII only.
	{
		char all[256];
		struct buf d;
		bool printable = true;

		for (int i = 0; i < 256; i++)
			all[i] = (char)i;
		b.off = b.len = 0;
		buf_init(&d);
		CHECK(grpc_message_encode(&b, all, sizeof(all)) == 0, "encode all");
		for (size_t i = 0; i < b.len; i++)
			printable &= b.data[i] >= 0x20 && b.data[i] <= 0x7e;
		CHECK(printable, "encoding is printable");
		CHECK(grpc_message_decode(&d, b.data, b.len) == 0 && d.len == 256 &&
		      !memcmp(d.data, all, 256), "round trip");
		buf_cleanup(&d);
	}
	buf_cleanup(&b);
}

// ---------------------------------------------------------------------------
// Trailers

static bool hdr_is(const struct h2_header *h, const char *name, const char *value)
{
	return h->name_len == strlen(name) && !memcmp(h->name, name, h->name_len) &&
	       h->value_len == strlen(value) && !memcmp(h->value, value, h->value_len);
}

static void test_trailers(void)
{
	struct grpc_trailers t;
	const char *m = "request authenticate failure: bad\ntoken 100%";

	CHECK(grpc_trailers_build(&t, GRPC_OK, NULL, 0) == 0 && t.num == 1 &&
	      hdr_is(&t.h[0], "grpc-status", "0"), "OK");
	grpc_trailers_cleanup(&t);
	CHECK(grpc_trailers_build(&t, GRPC_UNAUTHENTICATED, m, strlen(m)) == 0 && t.num == 2 &&
	      hdr_is(&t.h[0], "grpc-status", "16") &&
	      hdr_is(&t.h[1], "grpc-message",
		     "request authenticate failure: bad%0Atoken 100%25"), "UNAUTHENTICATED");
	grpc_trailers_cleanup(&t);
	CHECK(grpc_trailers_build(&t, GRPC_INTERNAL, "", 0) == 0 && t.num == 1 &&
	      hdr_is(&t.h[0], "grpc-status", "13"), "empty message");
	grpc_trailers_cleanup(&t);
	CHECK(grpc_trailers_build(&t, (enum grpc_status)17, NULL, 0) == -EINVAL, "code 17");
	CHECK(grpc_trailers_build(&t, (enum grpc_status)-1, NULL, 0) == -EINVAL, "code -1");
}

int main(void)
{
	test_status();
	test_content_type();
	test_frame();
	test_deframer();
	test_deframer_large();
	test_timeout();
	test_message();
	test_trailers();
	printf("grpc_test: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
