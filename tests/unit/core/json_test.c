// SPDX-License-Identifier: Apache-2.0
// json_test: string escaping (including hostile and invalid UTF-8 input),
// number formatting and the UTF-8 validator of core/json.
#include "core/json.h"
#include "core/buf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

// expect compares the buffer with want and resets it.
static void expect(struct buf *b, const char *want, const char *what)
{
	if (b->len != strlen(want) || memcmp(b->data, want, b->len) != 0) {
		printf("FAIL %s: got [%.*s] want [%s]\n", what, (int)b->len,
		       b->data ? b->data : "", want);
		failures++;
	}
	b->len = b->off = 0;
}

static const struct {
	const char *in;
	size_t len;		// 0: strlen(in)
	const char *want;
} str_cases[] = {
	{ "", 0, "\"\"" },
	{ "plain text", 0, "\"plain text\"" },
	{ "a\"b", 0, "\"a\\\"b\"" },
	{ "a\\b", 0, "\"a\\\\b\"" },
	{ "\b\f\n\r\t", 0, "\"\\b\\f\\n\\r\\t\"" },
	{ "\x01\x1f", 0, "\"\\u0001\\u001f\"" },
	{ "\x7f", 0, "\"\x7f\"" },		// DEL is valid in JSON
	{ "a\0b", 3, "\"a\\u0000b\"" },		// embedded NUL with explicit length
	{ "</script>&", 0, "\"\\u003c/script\\u003e\\u0026\"" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0,
	  "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },	// valid UTF-8 kept
	{ "\xe2\x80\xa8\xe2\x80\xa9", 0, "\"\\u2028\\u2029\"" },
	{ "\xe2\x80\xa7", 0, "\"\xe2\x80\xa7\"" },		// U+2027 is fine
	{ "\xff", 0, "\"\\ufffd\"" },
	{ "a\x80z", 0, "\"a\\ufffdz\"" },			// stray continuation
	{ "\xc0\xaf", 0, "\"\\ufffd\\ufffd\"" },		// overlong '/'
	{ "\xe0\x80\xaf", 0, "\"\\ufffd\\ufffd\\ufffd\"" },	// overlong, 3 bytes
	{ "\xed\xa0\x80", 0, "\"\\ufffd\\ufffd\\ufffd\"" },	// surrogate D800
	{ "\xf4\x90\x80\x80", 0, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },	// > U+10FFFF
	{ "\xe2\x82", 0, "\"\\ufffd\\ufffd\"" },		// truncated at the end
	{ "\xe2\x82z", 0, "\"\\ufffd\\ufffdz\"" },		// truncated mid-string
	{ "x\n\"injected\":1", 0, "\"x\\n\\\"injected\\\":1\"" },
};

static const struct {
	const char *in;
	size_t want;
} utf8_cases[] = {
	{ "a", 1 }, { "\xc2\x80", 2 }, { "\xdf\xbf", 2 }, { "\xc1\xbf", 0 },
	{ "\xe0\xa0\x80", 3 }, { "\xe0\x9f\xbf", 0 }, { "\xed\x9f\xbf", 3 },
	{ "\xed\xa0\x80", 0 }, { "\xef\xbf\xbf", 3 }, { "\xf0\x90\x80\x80", 4 },
	{ "\xf0\x8f\xbf\xbf", 0 }, { "\xf4\x8f\xbf\xbf", 4 }, { "\xf5\x80\x80\x80", 0 },
	{ "\x80", 0 }, { "\xc2", 0 }, { "\xc2z", 0 }, { "\xf0\x90\x80", 0 },
};

static const struct {
	double v;
	const char *want;
} dbl_cases[] = {
	{ 0, "0" }, { 1.5, "1.5" }, { -2, "-2" }, { 0.1, "0.1" },
	{ 1e300, "1e+300" }, { 0.30000000000000004, "0.30000000000000004" },
};

int main(void)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < sizeof(str_cases) / sizeof(str_cases[0]); i++) {
		size_t len = str_cases[i].len ? str_cases[i].len : strlen(str_cases[i].in);
		char what[32];

		snprintf(what, sizeof(what), "str case %zu", i);
		CHECK(json_append_str(&b, str_cases[i].in, len) == 0);
		expect(&b, str_cases[i].want, what);
	}
	for (i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
		size_t got = json_utf8_len(utf8_cases[i].in, strlen(utf8_cases[i].in));

		if (got != utf8_cases[i].want) {
			printf("FAIL utf8 case %zu: got %zu want %zu\n", i, got, utf8_cases[i].want);
			failures++;
		}
	}
	for (i = 0; i < sizeof(dbl_cases) / sizeof(dbl_cases[0]); i++) {
		CHECK(json_append_double(&b, dbl_cases[i].v) == 0);
		expect(&b, dbl_cases[i].want, "double");
	}
	CHECK(json_append_double(&b, NAN) == 0);
	expect(&b, "null", "NaN");
	CHECK(json_append_double(&b, -INFINITY) == 0);
	expect(&b, "null", "-Inf");

	CHECK(json_append_u64(&b, 0) == 0);
	expect(&b, "0", "u64 0");
	CHECK(json_append_u64(&b, UINT64_MAX) == 0);
	expect(&b, "18446744073709551615", "u64 max");
	CHECK(json_append_i64(&b, INT64_MIN) == 0);
	expect(&b, "-9223372036854775808", "i64 min");
	CHECK(json_append_i64(&b, -1) == 0);
	expect(&b, "-1", "i64 -1");
	CHECK(json_append_i64(&b, INT64_MAX) == 0);
	expect(&b, "9223372036854775807", "i64 max");

	CHECK(json_append_bool(&b, 1) == 0 && json_append_bool(&b, 0) == 0);
	expect(&b, "truefalse", "bool");
	CHECK(json_append_cstr(&b, NULL) == 0);
	expect(&b, "null", "cstr NULL");
	CHECK(json_append_key(&b, "k\"ey") == 0 && json_append_cstr(&b, "v") == 0);
	expect(&b, "\"k\\\"ey\":\"v\"", "key");

	// Appends go after existing content, not over it.
	buf_appends(&b, "[");
	CHECK(json_append_str(&b, "x", 1) == 0);
	buf_appends(&b, ",");
	CHECK(json_append_u64(&b, 7) == 0);
	buf_appends(&b, "]");
	expect(&b, "[\"x\",7]", "composition");

	buf_cleanup(&b);
	printf("%s\n", failures ? "json_test: FAILED" : "json_test: ok");
	return failures ? 1 : 0;
}
