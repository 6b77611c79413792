// SPDX-License-Identifier: Apache-2.0
// json_test: the strict JSON reader: trees and typed scalars for valid input,
// -EBADMSG (and where) for each RFC 8259 rule, truncations, hostile nesting
// and sizes, and the same tree as the YAML reader gives for the same object.
#include "config/json.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"

#define TD "../shared/testdata/istio"

// ---- a growable buffer, for renderings and generated inputs ----

struct out {
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, const void *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->buf = realloc(o->buf, o->cap);
		if (!o->buf)
			abort();
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct out *o, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	puts_(o, buf);
}

// show renders bytes for a failure message: printable ASCII as is, the
// rest as <hh>. It returns a static buffer.
static const char *show(const char *s, size_t len)
{
	static char buf[160];
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < sizeof(buf); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '<')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "<%02x>", c);
	}
	if (o + 8 >= sizeof(buf))
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "...");
	buf[o] = '\0';
	return buf;
}

// ---- a compact rendering of a tree, to compare with the tables ----

// render writes n as {k:v,...}, [a,...], "string" (bytes other than printable
// ASCII, and " \ <, as <hh>), i:LITERAL, f:LITERAL, b:true, null. A scalar
// whose tag, style, kind and text disagree renders as ?!.
static void render(struct out *o, const struct ynode *n)
{
	enum yscalar_kind kind;
	int ok;

	if (!n) {
		puts_(o, "(nil)");
		return;
	}
	if (n->type == YN_MAP) {
		put(o, "{", 1);
		for (size_t i = 0; i < n->len; i++) {
			if (i)
				put(o, ",", 1);
			render(o, n->pairs[i].key);
			put(o, ":", 1);
			render(o, n->pairs[i].value);
		}
		put(o, "}", 1);
		return;
	}
	if (n->type == YN_SEQ) {
		put(o, "[", 1);
		for (size_t i = 0; i < n->len; i++) {
			if (i)
				put(o, ",", 1);
			render(o, n->items[i]);
		}
		put(o, "]", 1);
		return;
	}
	kind = yaml_tree_scalar_kind(n);
	ok = n->type == YN_SCALAR && n->str && n->str[n->len] == '\0';
	switch (n->tag) {
	case YTAG_STR:
		ok = ok && n->style == YS_DOUBLE_QUOTED && kind == YK_STR;
		put(o, "\"", 1);
		for (size_t i = 0; i < n->len; i++) {
			unsigned char c = (unsigned char)n->str[i];

			if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<')
				put(o, &n->str[i], 1);
			else
				putf(o, "<%02x>", c);
		}
		put(o, "\"", 1);
		break;
	case YTAG_INT:
		ok = ok && n->style == YS_PLAIN && kind == YK_INT && strlen(n->str) == n->len;
		puts_(o, "i:");
		puts_(o, n->str);
		break;
	case YTAG_FLOAT:
		ok = ok && n->style == YS_PLAIN && kind == YK_FLOAT && strlen(n->str) == n->len;
		puts_(o, "f:");
		puts_(o, n->str);
		break;
	case YTAG_BOOL:
		ok = ok && n->style == YS_PLAIN && kind == YK_BOOL &&
		     (!strcmp(n->str, "true") || !strcmp(n->str, "false"));
		puts_(o, "b:");
		puts_(o, n->str);
		break;
	case YTAG_NULL:
		ok = ok && n->style == YS_PLAIN && kind == YK_NULL && !strcmp(n->str, "null") &&
		     yaml_tree_is_null(n);
		puts_(o, "null");
		break;
	default:
		ok = 0;
	}
	if (!ok)
		puts_(o, "?!");
}

// ---- inputs that must parse, and their trees ----

struct good_case {
	const char *json;
	const char *tree;	// render()ing of the root
	size_t len;		// 0: strlen(json)
};

#define K8S_SERVICE_LIST \
	"{\"kind\":\"ServiceList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"4711\"}," \
	"\"items\":[{\"metadata\":{\"name\":\"reviews\",\"namespace\":\"default\"," \
	"\"uid\":\"0b1c\\u002d42\",\"labels\":{\"app\":\"reviews\",\"version\":\"v1\"}," \
	"\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":" \
	"\"{\\\"a\\\":1}\\n\"}},\"spec\":{\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\"," \
	"\"port\":9080,\"targetPort\":9080}],\"clusterIP\":\"10.96.0.10\"," \
	"\"publishNotReadyAddresses\":false,\"sessionAffinityConfig\":null}}]}"

#define K8S_SERVICE_LIST_TREE \
	"{\"kind\":\"ServiceList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"4711\"}," \
	"\"items\":[{\"metadata\":{\"name\":\"reviews\",\"namespace\":\"default\"," \
	"\"uid\":\"0b1c-42\",\"labels\":{\"app\":\"reviews\",\"version\":\"v1\"}," \
	"\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":" \
	"\"{<22>a<22>:1}<0a>\"}},\"spec\":{\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\"," \
	"\"port\":i:9080,\"targetPort\":i:9080}],\"clusterIP\":\"10.96.0.10\"," \
	"\"publishNotReadyAddresses\":b:false,\"sessionAffinityConfig\":null}}]}"

#define K8S_VIRTUAL_SERVICE \
	"{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"VirtualService\",\n" \
	" \"metadata\": {\"name\": \"reviews\", \"generation\": 3},\n" \
	" \"spec\": {\"hosts\": [\"reviews\"], \"http\": [{\"route\": [\n" \
	"   {\"destination\": {\"host\": \"reviews\", \"subset\": \"v1\"}, \"weight\": 75},\n" \
	"   {\"destination\": {\"host\": \"reviews\", \"subset\": \"v2\"}, \"weight\": 25}],\n" \
	"  \"timeout\": \"10s\", \"retries\": {\"attempts\": 3, \"perTryTimeout\": \"2s\"},\n" \
	"  \"fault\": {\"delay\": {\"percentage\": {\"value\": 0.1}, \"fixedDelay\": \"5s\"}}}]}}\n"

#define K8S_VIRTUAL_SERVICE_TREE \
	"{\"apiVersion\":\"networking.istio.io/v1\",\"kind\":\"VirtualService\"," \
	"\"metadata\":{\"name\":\"reviews\",\"generation\":i:3}," \
	"\"spec\":{\"hosts\":[\"reviews\"],\"http\":[{\"route\":[" \
	"{\"destination\":{\"host\":\"reviews\",\"subset\":\"v1\"},\"weight\":i:75}," \
	"{\"destination\":{\"host\":\"reviews\",\"subset\":\"v2\"},\"weight\":i:25}]," \
	"\"timeout\":\"10s\",\"retries\":{\"attempts\":i:3,\"perTryTimeout\":\"2s\"}," \
	"\"fault\":{\"delay\":{\"percentage\":{\"value\":f:0.1},\"fixedDelay\":\"5s\"}}}]}}"

static const struct good_case good_cases[] = {
	// containers and whitespace
	{ "{}", "{}" },
	{ "[]", "[]" },
	{ " \t\r\n{ \n} \r\n\t ", "{}" },
	{ "[ \t]", "[]" },
	{ "[[[[]]]]", "[[[[]]]]" },
	{ "[{}, [], {\"a\": []}]", "[{},[],{\"a\":[]}]" },
	{ "[1 , 2\t,\r\n3\n]", "[i:1,i:2,i:3]" },
	{ "[1,\"a\",true,false,null,{},[]]", "[i:1,\"a\",b:true,b:false,null,{},[]]" },
	{ "{\"b\":1,\"a\":2,\"c\":3}", "{\"b\":i:1,\"a\":i:2,\"c\":i:3}" },
	{ "{\"a\" : [ {\"b\" : null} ] }", "{\"a\":[{\"b\":null}]}" },
	{ "{\"a\":1,\"A\":2,\"a \":3}", "{\"a\":i:1,\"A\":i:2,\"a \":i:3}" },
	{ "{\"a\":1,\"a\\u0000\":2}", "{\"a\":i:1,\"a<00>\":i:2}" },
	{ "{\"\":\"\"}", "{\"\":\"\"}" },
	{ "{\"x\":{\"x\":{\"x\":1}}}", "{\"x\":{\"x\":{\"x\":i:1}}}" },
	// scalars at the root
	{ "0", "i:0" },
	{ "-0", "i:-0" },
	{ "7", "i:7" },
	{ "  42  ", "i:42" },
	{ "-123", "i:-123" },
	{ "9223372036854775807", "i:9223372036854775807" },
	{ "12345678901234567890123456789", "i:12345678901234567890123456789" },
	{ "1.5", "f:1.5" },
	{ "-0.0", "f:-0.0" },
	{ "0.000", "f:0.000" },
	{ "1e5", "f:1e5" },
	{ "1E5", "f:1E5" },
	{ "1e+5", "f:1e+5" },
	{ "1e-5", "f:1e-5" },
	{ "-2.5E-3", "f:-2.5E-3" },
	{ "0e0", "f:0e0" },
	{ "-0E-0", "f:-0E-0" },
	{ "10.25e+10", "f:10.25e+10" },
	{ "1e400", "f:1e400" },
	{ "true", "b:true" },
	{ "false", "b:false" },
	{ "null", "null" },
	{ "\n\nnull\n", "null" },
	// strings: JSON says string, so YAML's words stay strings
	{ "\"\"", "\"\"" },
	{ "\"abc\"", "\"abc\"" },
	{ "\"true\"", "\"true\"" },
	{ "\"on\"", "\"on\"" },
	{ "\"yes\"", "\"yes\"" },
	{ "\"null\"", "\"null\"" },
	{ "\"~\"", "\"~\"" },
	{ "\"1\"", "\"1\"" },
	{ "\"1.5\"", "\"1.5\"" },
	{ "\"0x10\"", "\"0x10\"" },
	{ "\"'single' inside\"", "\"'single' inside\"" },
	{ "\"a # not a comment\"", "\"a # not a comment\"" },
	{ "\"\x7f\"", "\"<7f>\"" },
	// escapes
	{ "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"<22><5c>/<08><0c><0a><0d><09>\"" },
	{ "\"\\u0041\\u00e9\\u00E9\"", "\"A<c3><a9><c3><a9>\"" },
	{ "\"\\u007f\\u0080\\u07ff\\u0800\"", "\"<7f><c2><80><df><bf><e0><a0><80>\"" },
	{ "\"\\u20ac\"", "\"<e2><82><ac>\"" },
	{ "\"\\ud7ff\\ue000\\uffff\"", "\"<ed><9f><bf><ee><80><80><ef><bf><bf>\"" },
	{ "\"\\ud83d\\ude00\"", "\"<f0><9f><98><80>\"" },
	{ "\"\\uD83D\\uDE00\"", "\"<f0><9f><98><80>\"" },
	{ "\"\\ud800\\udc00\"", "\"<f0><90><80><80>\"" },
	{ "\"\\udbff\\udfff\"", "\"<f4><8f><bf><bf>\"" },
	{ "\"x\\ud83d\\ude00y\\ud83d\\ude00\"", "\"x<f0><9f><98><80>y<f0><9f><98><80>\"" },
	{ "\"a\\u0000b\"", "\"a<00>b\"" },
	{ "\"\\u0000\"", "\"<00>\"" },
	{ "\"\\u0000\\u0000\"", "\"<00><00>\"" },
	{ "\"\\\\u0041\"", "\"<5c>u0041\"" },
	{ "\"\\/\\/\"", "\"//\"" },
	// raw UTF-8: the edges of each length and of the surrogate gap
	{ "\"caf\xc3\xa9\"", "\"caf<c3><a9>\"" },
	{ "\"\xc2\x80\xdf\xbf\"", "\"<c2><80><df><bf>\"" },
	{ "\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"",
	  "\"<e0><a0><80><ed><9f><bf><ee><80><80><ef><bf><bf>\"" },
	{ "\"\xf0\x90\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"",
	  "\"<f0><90><80><80><f0><9f><98><80><f4><8f><bf><bf>\"" },
	{ "{\"\xc3\xa9t\xc3\xa9\":\"\xe2\x82\xac\"}", "{\"<c3><a9>t<c3><a9>\":\"<e2><82><ac>\"}" },
	// Kubernetes-shaped objects
	{ K8S_SERVICE_LIST, K8S_SERVICE_LIST_TREE },
	{ K8S_VIRTUAL_SERVICE, K8S_VIRTUAL_SERVICE_TREE },
};

static void test_good_cases(void)
{
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		const struct good_case *gc = &good_cases[i];
		size_t len = gc->len ? gc->len : strlen(gc->json);
		struct out o = { 0 };
		struct yaml_tree t;
		struct yaml_error e;
		int r = json_tree_parse(&t, gc->json, len, &e);

		CHECK(r == 0, "%s: %d %s (line %d)", show(gc->json, len), r, e.msg, e.line);
		if (r == 0) {
			CHECK(t.num_docs == 1 && t.docs && t.docs[0], "%s: one document",
			      show(gc->json, len));
			render(&o, t.docs[0]);
			CHECK(!strcmp(o.buf, gc->tree), "%s:\n  got  %s\n  want %s",
			      show(gc->json, len), o.buf, gc->tree);
		}
		free(o.buf);
		yaml_tree_free(&t);
	}
}

// ---- typed scalar conversions ----

struct int_case {
	const char *json;
	int err;
	int64_t value;
};

static const struct int_case int_cases[] = {
	{ "0", 0, 0 }, { "-0", 0, 0 }, { "1", 0, 1 }, { "-1", 0, -1 }, { "65535", 0, 65535 },
	{ "123", 0, 123 }, { "1000000000000", 0, 1000000000000 },
	{ "9223372036854775807", 0, INT64_MAX }, { "-9223372036854775808", 0, INT64_MIN },
	{ "9223372036854775808", -ERANGE, 0 }, { "-9223372036854775809", -ERANGE, 0 },
	{ "18446744073709551615", -ERANGE, 0 }, { "18446744073709551616", -ERANGE, 0 },
	{ "99999999999999999999999", -ERANGE, 0 },
	{ "1234567890123456789012345678901234567890123456789012345678901234567890"
	  "1234567890123456789012345678901234567890123456789012345678901234567890", -ERANGE, 0 },
	{ "1.0", -EINVAL, 0 }, { "1e2", -EINVAL, 0 }, { "\"5\"", -EINVAL, 0 },
	{ "true", -EINVAL, 0 }, { "null", -EINVAL, 0 }, { "[1]", -EINVAL, 0 },
};

static void test_ints(void)
{
	for (size_t i = 0; i < sizeof(int_cases) / sizeof(int_cases[0]); i++) {
		const struct int_case *ic = &int_cases[i];
		struct yaml_tree t;
		struct yaml_error e;
		int64_t v = 0;
		int r;

		if (json_tree_parse(&t, ic->json, strlen(ic->json), &e) < 0) {
			CHECK(0, "int %s: parse error %s", ic->json, e.msg);
			yaml_tree_free(&t);
			continue;
		}
		r = yaml_tree_scalar_int(t.docs[0], &v);
		CHECK(r == ic->err, "int %s: ret %d want %d", ic->json, r, ic->err);
		CHECK(r || v == ic->value, "int %s: %lld want %lld", ic->json, (long long)v,
		      (long long)ic->value);
		yaml_tree_free(&t);
	}
}

struct double_case {
	const char *json;
	int err;
	double value;
	int neg;		// check the sign bit (for -0)
};

static const struct double_case double_cases[] = {
	{ "1e5", 0, 1e5, 0 }, { "1E5", 0, 1e5, 0 }, { "1e+5", 0, 1e5, 0 },
	{ "-2.5E-3", 0, -2.5e-3, 1 }, { "0.1", 0, 0.1, 0 }, { "1.5", 0, 1.5, 0 },
	{ "-0.0", 0, 0.0, 1 }, { "0e0", 0, 0.0, 0 }, { "123.456e-2", 0, 1.23456, 0 },
	{ "1e-400", 0, 0.0, 0 }, { "1e400", 0, HUGE_VAL, 0 }, { "-1e400", 0, -HUGE_VAL, 1 },
	{ "42", 0, 42.0, 0 }, { "-7", 0, -7.0, 1 },
	{ "-0", 0, 0.0, 0 },	// an integer: int64_t has no -0
	{ "12345678901234567890123", 0, 12345678901234567890123.0, 0 },
	{ "\"1.5\"", -EINVAL, 0, 0 }, { "true", -EINVAL, 0, 0 }, { "null", -EINVAL, 0, 0 },
};

static void test_doubles(void)
{
	for (size_t i = 0; i < sizeof(double_cases) / sizeof(double_cases[0]); i++) {
		const struct double_case *dc = &double_cases[i];
		struct yaml_tree t;
		struct yaml_error e;
		double v = 0;
		int r;

		if (json_tree_parse(&t, dc->json, strlen(dc->json), &e) < 0) {
			CHECK(0, "double %s: parse error %s", dc->json, e.msg);
			yaml_tree_free(&t);
			continue;
		}
		r = yaml_tree_scalar_double(t.docs[0], &v);
		CHECK(r == dc->err, "double %s: ret %d want %d", dc->json, r, dc->err);
		CHECK(r || (v == dc->value && !!signbit(v) == dc->neg), "double %s: %.17g want %.17g",
		      dc->json, v, dc->value);
		yaml_tree_free(&t);
	}
}

static void test_bools_nulls(void)
{
	static const struct {
		const char *json;
		int err, value, null;
	} cases[] = {
		{ "true", 0, 1, 0 }, { "false", 0, 0, 0 }, { "null", -EINVAL, 0, 1 },
		{ "\"true\"", -EINVAL, 0, 0 }, { "\"null\"", -EINVAL, 0, 0 }, { "\"\"", -EINVAL, 0, 0 },
		{ "0", -EINVAL, 0, 0 }, { "1", -EINVAL, 0, 0 }, { "{}", -EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct yaml_tree t;
		struct yaml_error e;
		int v = -1, r;

		if (json_tree_parse(&t, cases[i].json, strlen(cases[i].json), &e) < 0) {
			CHECK(0, "bool %s: parse error %s", cases[i].json, e.msg);
			yaml_tree_free(&t);
			continue;
		}
		r = yaml_tree_scalar_bool(t.docs[0], &v);
		CHECK(r == cases[i].err && (r || v == cases[i].value), "bool %s: ret %d value %d",
		      cases[i].json, r, v);
		CHECK(yaml_tree_is_null(t.docs[0]) == cases[i].null, "is_null %s", cases[i].json);
		yaml_tree_free(&t);
	}
}

// The typed tags win over the scalar's text and style: what a caller
// building nodes by hand (or a future reader) gets.
static void test_tags_by_hand(void)
{
	struct ynode n = { .type = YN_SCALAR, .style = YS_PLAIN };
	int64_t i;
	double d;
	int b;

	n.str = "on";
	n.len = 2;
	CHECK(yaml_tree_scalar_kind(&n) == YK_BOOL, "plain on is YAML 1.1 bool");
	n.tag = YTAG_STR;
	CHECK(yaml_tree_scalar_kind(&n) == YK_STR, "YTAG_STR on is a string");
	n.str = "1";
	n.len = 1;
	n.style = YS_DOUBLE_QUOTED;
	n.tag = YTAG_INT;
	CHECK(yaml_tree_scalar_kind(&n) == YK_INT && !yaml_tree_scalar_int(&n, &i) && i == 1,
	      "YTAG_INT wins over the quoted style");
	n.str = "017";
	n.len = 3;
	n.style = YS_PLAIN;
	n.tag = YTAG_NONE;
	CHECK(!yaml_tree_scalar_int(&n, &i) && i == 15, "YAML 017 is octal");
	n.tag = YTAG_INT;
	CHECK(!yaml_tree_scalar_int(&n, &i) && i == 17, "YTAG_INT 017 is decimal");
	n.str = "1_000";
	n.len = 5;
	CHECK(yaml_tree_scalar_int(&n, &i) == -EINVAL, "YTAG_INT takes no underscores");
	n.str = "-";
	n.len = 1;
	CHECK(yaml_tree_scalar_int(&n, &i) == -EINVAL, "YTAG_INT '-'");
	n.str = "";
	n.len = 0;
	CHECK(yaml_tree_scalar_int(&n, &i) == -EINVAL, "YTAG_INT empty");
	n.tag = YTAG_FLOAT;
	CHECK(yaml_tree_scalar_kind(&n) == YK_FLOAT && yaml_tree_scalar_double(&n, &d) == -EINVAL,
	      "YTAG_FLOAT empty");
	n.str = "1.5x";
	n.len = 4;
	CHECK(yaml_tree_scalar_double(&n, &d) == -EINVAL, "YTAG_FLOAT with junk");
	n.str = "1.5\0" "9";
	n.len = 5;
	CHECK(yaml_tree_scalar_double(&n, &d) == -EINVAL, "YTAG_FLOAT with a NUL");
	n.str = "";
	n.len = 0;
	n.tag = YTAG_NULL;
	CHECK(yaml_tree_is_null(&n), "YTAG_NULL");
	n.str = "false";
	n.len = 5;
	n.tag = YTAG_BOOL;
	CHECK(!yaml_tree_scalar_bool(&n, &b) && b == 0, "YTAG_BOOL false");
}

// ---- inputs that must be refused, and where ----

struct bad_case {
	const char *json;
	const char *msg;	// substring of the error
	int line;		// expected error line, 0 = don't care
	size_t len;		// 0: strlen(json)
};

static const struct bad_case bad_cases[] = {
	// nothing, or more than one value
	{ "", "expected a value, found end of input", 1 },
	{ " \n\t", "expected a value, found end of input", 2 },
	{ "1 2", "unexpected '2' after the JSON value at column 3", 1 },
	{ "{}{}", "unexpected '{' after the JSON value", 1 },
	{ "[]]", "unexpected ']' after the JSON value", 1 },
	{ "\"a\" \"b\"", "unexpected '\"' after the JSON value", 1 },
	{ "nullx", "unexpected 'x' after the JSON value", 1 },
	{ "1,", "unexpected ',' after the JSON value", 1 },
	{ "1\n\n]", "unexpected ']' after the JSON value at column 1", 3 },
	// comments
	{ "// c\n1", "expected a value, found '/'", 1 },
	{ "/* c */ 1", "expected a value, found '/'", 1 },
	{ "1 // c", "unexpected '/' after the JSON value", 1 },
	{ "[1,/* c */2]", "expected a value, found '/'", 1 },
	{ "# c\n1", "expected a value, found '#'", 1 },
	{ "{\"a\":1 # c\n}", "expected ',' or '}' after an object member, found '#'", 1 },
	// commas, colons, brackets
	{ "[1,]", "trailing comma before ']' at column 4", 1 },
	{ "[1,\n]", "trailing comma before ']' at column 1", 2 },
	{ "{\"a\":1,}", "trailing comma before '}'", 1 },
	{ "{\"a\":1,\n\n}", "trailing comma before '}'", 3 },
	{ "[,]", "expected a value, found ','", 1 },
	{ "[,1]", "expected a value, found ','", 1 },
	{ "[1,,2]", "expected a value, found ','", 1 },
	{ "{,}", "expected a string key, found ','", 1 },
	{ "[1 2]", "expected ',' or ']' after an array element, found '2'", 1 },
	{ "[1:2]", "expected ',' or ']' after an array element, found ':'", 1 },
	{ "{\"a\":1 \"b\":2}", "expected ',' or '}' after an object member, found '\"'", 1 },
	{ "{\"a\":1:2}", "expected ',' or '}' after an object member, found ':'", 1 },
	{ "{\"a\" 1}", "expected ':' after an object key, found '1'", 1 },
	{ "{\"a\"=1}", "expected ':' after an object key, found '='", 1 },
	{ "{\"a\"}", "expected ':' after an object key, found '}'", 1 },
	{ "{\"a\":}", "expected a value, found '}'", 1 },
	{ "{\"a\"::1}", "expected a value, found ':'", 1 },
	{ "[1}", "expected ',' or ']' after an array element, found '}'", 1 },
	{ "{\"a\":1]", "expected ',' or '}' after an object member, found ']'", 1 },
	{ "[{]}", "expected a string key, found ']'", 1 },
	{ "]", "expected a value, found ']'", 1 },
	{ "}", "expected a value, found '}'", 1 },
	{ ":", "expected a value, found ':'", 1 },
	{ ",", "expected a value, found ','", 1 },
	// truncated
	{ "[", "expected a value, found end of input", 1 },
	{ "{", "expected a string key, found end of input", 1 },
	{ "[1", "expected ',' or ']' after an array element, found end of input", 1 },
	{ "[1,", "expected a value, found end of input", 1 },
	{ "{\"a\"", "expected ':' after an object key, found end of input", 1 },
	{ "{\"a\":", "expected a value, found end of input", 1 },
	{ "{\"a\":1", "expected ',' or '}' after an object member, found end of input", 1 },
	{ "{\"a\":1,", "expected a string key, found end of input", 1 },
	{ "[[[]]", "expected ',' or ']' after an array element, found end of input", 1 },
	// quotes and keys
	{ "'a'", "expected a value, found '''", 1 },
	{ "['a']", "expected a value, found '''", 1 },
	{ "{'a':1}", "expected a string key, found '''", 1 },
	{ "{a:1}", "expected a string key, found 'a'", 1 },
	{ "{1:2}", "expected a string key, found '1'", 1 },
	{ "{null:1}", "expected a string key, found 'n'", 1 },
	{ "{true:1}", "expected a string key, found 't'", 1 },
	{ "{[]:1}", "expected a string key, found '['", 1 },
	{ "{{}:1}", "expected a string key, found '{'", 1 },
	{ "{\"a\":1,b:2}", "expected a string key, found 'b'", 1 },
	// numbers
	{ "01", "leading zeros are not allowed", 1 },
	{ "-01", "leading zeros are not allowed", 1 },
	{ "00", "leading zeros are not allowed", 1 },
	{ "0.5e01x", "unexpected 'x' after the JSON value", 1 },
	{ "[0123]", "leading zeros are not allowed at column 2", 1 },
	{ "{\"port\": 080}", "leading zeros are not allowed", 1 },
	{ "+1", "expected a value, found '+'", 1 },
	{ "[+1]", "expected a value, found '+'", 1 },
	{ ".5", "expected a value, found '.'", 1 },
	{ "-.5", "expected a digit, found '.'", 1 },
	{ "1.", "expected a digit after '.', found end of input", 1 },
	{ "1.e5", "expected a digit after '.', found 'e'", 1 },
	{ "[1.]", "expected a digit after '.', found ']'", 1 },
	{ "-", "expected a digit, found end of input", 1 },
	{ "- 1", "expected a digit, found byte 0x20", 1 },
	{ "--1", "expected a digit, found '-'", 1 },
	{ "1e", "expected a digit in the exponent, found end of input", 1 },
	{ "1e+", "expected a digit in the exponent", 1 },
	{ "1E-", "expected a digit in the exponent", 1 },
	{ "1e+-1", "expected a digit in the exponent, found '-'", 1 },
	{ "1ee5", "expected a digit in the exponent, found 'e'", 1 },
	{ "0.5e", "expected a digit in the exponent", 1 },
	{ "0x10", "unexpected 'x' after the JSON value", 1 },
	{ "0b1", "unexpected 'b' after the JSON value", 1 },
	{ "1_000", "unexpected '_' after the JSON value", 1 },
	{ "1.5.2", "unexpected '.' after the JSON value", 1 },
	{ "1e5.0", "unexpected '.' after the JSON value", 1 },
	{ "1 000", "unexpected '0' after the JSON value", 1 },
	{ "NaN", "expected a value, found 'N'", 1 },
	{ "nan", "invalid literal (expected null)", 1 },
	{ "Infinity", "expected a value, found 'I'", 1 },
	{ "-Infinity", "expected a digit, found 'I'", 1 },
	{ "inf", "expected a value, found 'i'", 1 },
	{ "[.inf]", "expected a value, found '.'", 1 },
	// literals
	{ "tru", "invalid literal (expected true)", 1 },
	{ "t", "invalid literal (expected true)", 1 },
	{ "True", "expected a value, found 'T'", 1 },
	{ "TRUE", "expected a value, found 'T'", 1 },
	{ "nul", "invalid literal (expected null)", 1 },
	{ "Null", "expected a value, found 'N'", 1 },
	{ "fals", "invalid literal (expected false)", 1 },
	{ "falsey", "unexpected 'y' after the JSON value", 1 },
	{ "[truex]", "expected ',' or ']' after an array element, found 'x'", 1 },
	{ "undefined", "expected a value, found 'u'", 1 },
	{ "None", "expected a value, found 'N'", 1 },
	{ "~", "expected a value, found '~'", 1 },
	{ "yes", "expected a value, found 'y'", 1 },
	{ "abc", "expected a value, found 'a'", 1 },
	// strings: termination and escapes
	{ "\"", "unterminated string at column 1", 1 },
	{ "\"abc", "unterminated string", 1 },
	{ "\"\\", "unterminated string", 1 },
	{ "\"abc\\\"", "unterminated string", 1 },
	{ "[\"a]", "unterminated string at column 2", 1 },
	{ "\"\\x41\"", "invalid escape: backslash then 'x'", 1 },
	{ "\"\\U0001F600\"", "invalid escape: backslash then 'U'", 1 },
	{ "\"\\a\"", "invalid escape: backslash then 'a'", 1 },
	{ "\"\\v\"", "invalid escape: backslash then 'v'", 1 },
	{ "\"\\0\"", "invalid escape: backslash then '0'", 1 },
	{ "\"\\'\"", "invalid escape: backslash then '''", 1 },
	{ "\"\\ \"", "invalid escape: backslash then byte 0x20", 1 },
	{ "\"\\\n\"", "invalid escape: backslash then byte 0x0a", 1 },
	{ "\"\\\xc3\xa9\"", "invalid escape: backslash then byte 0xc3", 1 },
	{ "\"\\u\"", "invalid \\u escape", 1 },
	{ "\"\\u12\"", "invalid \\u escape", 1 },
	{ "\"\\u123\"", "invalid \\u escape", 1 },
	{ "\"\\u12G4\"", "invalid \\u escape", 1 },
	{ "\"\\u-123\"", "invalid \\u escape", 1 },
	{ "\"\\u 123\"", "invalid \\u escape", 1 },
	{ "\"\\u+123\"", "invalid \\u escape", 1 },
	{ "\"ab\\u00\"", "invalid \\u escape (four hex digits needed) at column 4", 1 },
	{ "\"\\ud800\"", "lone high surrogate \\ud800", 1 },
	{ "\"\\udbff\"", "lone high surrogate \\udbff", 1 },
	{ "\"\\udc00\"", "lone low surrogate \\udc00", 1 },
	{ "\"\\udfff\"", "lone low surrogate \\udfff", 1 },
	{ "\"\\ud800\\u0041\"", "lone high surrogate", 1 },
	{ "\"\\ud800x\"", "lone high surrogate", 1 },
	{ "\"\\ud800\\ud800\"", "lone high surrogate", 1 },
	{ "\"\\ud800\\ue000\"", "lone high surrogate", 1 },
	{ "\"\\udc00\\ud800\"", "lone low surrogate", 1 },
	{ "\"\\ud800\\n\"", "lone high surrogate", 1 },
	{ "\"\\ud800\\udc0\"", "lone high surrogate", 1 },
	{ "\"\\ud800\\\\udc00\"", "lone high surrogate", 1 },
	{ "\"\\ud800\"\"\\udc00\"", "lone high surrogate", 1 },
	{ "{\"k\": \"\\ud83d\"}", "lone high surrogate \\ud83d at column 8", 1 },
	// strings: raw control characters
	{ "\"a\tb\"", "control character 0x09 in a string", 1 },
	{ "\"a\nb\"", "control character 0x0a in a string (escape it) at column 3", 1 },
	{ "\"\r\"", "control character 0x0d in a string", 1 },
	{ "\"\x01\"", "control character 0x01 in a string", 1 },
	{ "\"\x1f\"", "control character 0x1f in a string", 1 },
	{ "\"\x1b[31m\"", "control character 0x1b in a string", 1 },
	{ "\"a\0b\"", "control character 0x00 in a string", 1, 5 },
	{ "{\"a\tb\":1}", "control character 0x09 in a string", 1 },
	// whitespace JSON does not have, NULs around the value, a BOM
	{ "\f1", "expected a value, found byte 0x0c", 1 },
	{ "\v1", "expected a value, found byte 0x0b", 1 },
	{ "1\f", "unexpected byte 0x0c after the JSON value", 1 },
	{ "\xc2\xa0" "1", "expected a value, found byte 0xc2", 1 },
	{ "[1,\xe2\x80\xa8" "2]", "expected a value, found byte 0xe2", 1 },
	{ "\0", "expected a value, found byte 0x00", 1, 1 },
	{ "1\0", "unexpected byte 0x00 after the JSON value", 1, 2 },
	{ "{}\0", "unexpected byte 0x00 after the JSON value", 1, 3 },
	{ "[1,\0" "2]", "expected a value, found byte 0x00", 1, 6 },
	{ "\xef\xbb\xbf{}", "byte order mark", 1 },
	{ "\xef\xbb\xbf", "byte order mark", 1 },
	// invalid UTF-8: overlong forms
	{ "\"\xc0\x80\"", "invalid UTF-8 (byte 0xc0) in a string at column 2", 1 },
	{ "\"\xc0\xaf\"", "invalid UTF-8 (byte 0xc0)", 1 },
	{ "\"\xc1\xbf\"", "invalid UTF-8 (byte 0xc1)", 1 },
	{ "\"\xe0\x80\x80\"", "invalid UTF-8 (byte 0xe0)", 1 },
	{ "\"\xe0\x80\xaf\"", "invalid UTF-8 (byte 0xe0)", 1 },
	{ "\"\xe0\x9f\xbf\"", "invalid UTF-8 (byte 0xe0)", 1 },
	{ "\"\xf0\x80\x80\x80\"", "invalid UTF-8 (byte 0xf0)", 1 },
	{ "\"\xf0\x80\x80\xaf\"", "invalid UTF-8 (byte 0xf0)", 1 },
	{ "\"\xf0\x8f\xbf\xbf\"", "invalid UTF-8 (byte 0xf0)", 1 },
	// invalid UTF-8: surrogates encoded directly (and CESU-8)
	{ "\"\xed\xa0\x80\"", "invalid UTF-8 (byte 0xed)", 1 },
	{ "\"\xed\xaf\xbf\"", "invalid UTF-8 (byte 0xed)", 1 },
	{ "\"\xed\xb0\x80\"", "invalid UTF-8 (byte 0xed)", 1 },
	{ "\"\xed\xbf\xbf\"", "invalid UTF-8 (byte 0xed)", 1 },
	{ "\"\xed\xa0\xbd\xed\xb8\x80\"", "invalid UTF-8 (byte 0xed)", 1 },
	// invalid UTF-8: above U+10FFFF, bytes 0xf5-0xff
	{ "\"\xf4\x90\x80\x80\"", "invalid UTF-8 (byte 0xf4)", 1 },
	{ "\"\xf4\xbf\xbf\xbf\"", "invalid UTF-8 (byte 0xf4)", 1 },
	{ "\"\xf5\x80\x80\x80\"", "invalid UTF-8 (byte 0xf5)", 1 },
	{ "\"\xf7\xbf\xbf\xbf\"", "invalid UTF-8 (byte 0xf7)", 1 },
	{ "\"\xf8\x88\x80\x80\x80\"", "invalid UTF-8 (byte 0xf8)", 1 },
	{ "\"\xfb\xbf\xbf\xbf\xbf\"", "invalid UTF-8 (byte 0xfb)", 1 },
	{ "\"\xfc\x84\x80\x80\x80\x80\"", "invalid UTF-8 (byte 0xfc)", 1 },
	{ "\"\xfd\"", "invalid UTF-8 (byte 0xfd)", 1 },
	{ "\"\xfe\"", "invalid UTF-8 (byte 0xfe)", 1 },
	{ "\"\xff\"", "invalid UTF-8 (byte 0xff)", 1 },
	{ "\"\xfe\xff\"", "invalid UTF-8 (byte 0xfe)", 1 },
	// invalid UTF-8: lone continuation bytes
	{ "\"\x80\"", "invalid UTF-8 (byte 0x80)", 1 },
	{ "\"\xbf\"", "invalid UTF-8 (byte 0xbf)", 1 },
	{ "\"a\x80" "b\"", "invalid UTF-8 (byte 0x80) in a string at column 3", 1 },
	{ "\"\xc3\xa9\xa9\"", "invalid UTF-8 (byte 0xa9) in a string at column 3", 1 },
	// invalid UTF-8: truncated sequences
	{ "\"\xc3\"", "invalid UTF-8 (byte 0xc3)", 1 },
	{ "\"\xe2\x82\"", "invalid UTF-8 (byte 0xe2)", 1 },
	{ "\"\xf0\x9f\x98\"", "invalid UTF-8 (byte 0xf0)", 1 },
	{ "\"\xc3", "invalid UTF-8 (byte 0xc3)", 1 },
	{ "\"\xe2\x82", "invalid UTF-8 (byte 0xe2)", 1 },
	{ "\"\xf0\x9f\x98", "invalid UTF-8 (byte 0xf0)", 1 },
	{ "\"\xc3" "A\"", "invalid UTF-8 (byte 0xc3)", 1 },
	{ "\"\xe2\x28\xa1\"", "invalid UTF-8 (byte 0xe2)", 1 },
	{ "\"\xe2\x82" "A\"", "invalid UTF-8 (byte 0xe2)", 1 },
	{ "\"\xf0\x9f" "A" "\x80\"", "invalid UTF-8 (byte 0xf0)", 1 },
	{ "\"\xf0\x9f\x98" "\"", "invalid UTF-8 (byte 0xf0)", 1 },
	// invalid UTF-8 in a key; non-ASCII outside strings
	{ "{\"\xff\":1}", "invalid UTF-8 (byte 0xff)", 1 },
	{ "\xc3\xa9", "expected a value, found byte 0xc3", 1 },
	{ "[\xff]", "expected a value, found byte 0xff", 1 },
	{ "{\"a\":1}\xff", "unexpected byte 0xff after the JSON value", 1 },
	// duplicate keys (after unescaping, in any object)
	{ "{\"a\":1,\"a\":2}", "duplicate key \"a\" at column 8 (first at line 1, column 2)", 1 },
	{ "{\"a\":1,\"b\":{\"c\":1,\"c\":1}}", "duplicate key \"c\"", 1 },
	{ "{\"a\":1,\"\\u0061\":2}", "duplicate key \"a\"", 1 },
	{ "{\"a\":{},\"a\":[]}", "duplicate key \"a\"", 1 },
	{ "{\"\":1,\"\":2}", "duplicate key \"\"", 1 },
	{ "[{\"x\":1},{\"y\":1,\"y\":2}]", "duplicate key \"y\"", 1 },
	{ "{\"k\\n\":1,\"k\\n\":2}", "duplicate key \"k?\"", 1 },
	{ "{\n\"a\": 1,\n\"b\": 2,\n\"a\": 3\n}", "duplicate key \"a\" at column 1 (first at line 2, column 1)", 4 },
	// lines and columns (in characters) of errors
	{ "[1,\n 2,\n x]", "expected a value, found 'x' at column 2", 3 },
	{ "{\r\n\"a\":\r\n tru\r\n}", "invalid literal (expected true) at column 2", 3 },
	{ "\r\r[x]", "expected a value, found 'x' at column 2", 3 },
	{ "\r\n\n\r[x]", "expected a value, found 'x' at column 2", 4 },
	{ "[\"\xc3\xa9\xc3\xa9\", x]", "expected a value, found 'x' at column 8", 1 },
	{ "[\"\xf0\x9f\x98\x80\",\n\"\xe2\x82\xac\", 01]", "leading zeros are not allowed at column 6", 2 },
};

static void test_bad_cases(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		size_t len = bc->len ? bc->len : strlen(bc->json);
		struct yaml_tree t;
		struct yaml_error e;
		int r = json_tree_parse(&t, bc->json, len, &e);

		CHECK(r == -EBADMSG, "%s: want -EBADMSG, got %d", show(bc->json, len), r);
		CHECK(strstr(e.msg, bc->msg) != NULL, "%s: message \"%s\" lacks \"%s\"",
		      show(bc->json, len), e.msg, bc->msg);
		CHECK(!bc->line || e.line == bc->line, "%s: line %d, want %d (%s)",
		      show(bc->json, len), e.line, bc->line, e.msg);
		CHECK(t.num_docs == 0 && t.docs == NULL, "%s: tree not empty after error",
		      show(bc->json, len));
		yaml_tree_free(&t);
		// err is optional
		r = json_tree_parse(&t, bc->json, len, NULL);
		CHECK(r == -EBADMSG, "%s: without err: %d", show(bc->json, len), r);
		yaml_tree_free(&t);
	}
}

// ---- truncations and mutations of a realistic document ----

static const char sample[] =
	"{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n"
	"  {\"metadata\": {\"name\": \"caf\xc3\xa9-\xf0\x9f\x98\x80\", \"labels\": {\"a/b\": \"\\u00e9\\ud83d\\ude00\"}},\n"
	"   \"spec\": {\"ports\": [80, -443, 1.5e3], \"on\": true, \"off\": false, \"x\": null,\n"
	"            \"s\": \"tab\\there \\\"q\\\" \\\\ \\/ \\u0000 end\"}},\n"
	"  [], {}, [[]], \"\", 0, -0.25E+2\n"
	"]}";

// parse_ok checks what any successful parse must satisfy; on failure, that
// the tree was emptied.
static int parse_any(const char *s, size_t len, const char *what, size_t pos)
{
	struct yaml_tree t;
	struct yaml_error e;
	int r = json_tree_parse(&t, s, len, &e);

	if (r == 0) {
		struct out o = { 0 };

		render(&o, t.docs[0]);
		CHECK(t.num_docs == 1 && !strstr(o.buf, "?!"), "%s at %zu: bad tree %s", what, pos,
		      o.buf);
		free(o.buf);
	} else {
		CHECK(r == -EBADMSG && e.msg[0] && e.line >= 1 && !t.docs && !t.num_docs,
		      "%s at %zu: %d line %d \"%s\"", what, pos, r, e.line, e.msg);
	}
	yaml_tree_free(&t);
	return r;
}

static void test_truncations(void)
{
	size_t len = sizeof(sample) - 1;
	char *buf = malloc(len);
	static const unsigned char bytes[] = {
		0x00, 0x01, '\t', '\n', ' ', '"', '\'', ',', '-', '.', '/', '0', '1', ':', 'E', '[',
		'\\', ']', 'e', 'u', '{', '}', 0x7f, 0x80, 0xbf, 0xc3, 0xed, 0xf0, 0xf5, 0xff,
	};
	int ok = 0, bad = 0;

	CHECK(parse_any(sample, len, "sample", 0) == 0, "the sample parses");
	// every proper prefix is an unfinished object
	for (size_t n = 0; n < len; n++) {
		struct yaml_tree t;
		struct yaml_error e;
		int r;

		memcpy(buf, sample, n);	// a fresh buffer: ASan sees any read past n
		r = json_tree_parse(&t, buf, n, &e);
		CHECK(r == -EBADMSG && !t.docs, "prefix of %zu bytes: %d %s", n, r, e.msg);
		yaml_tree_free(&t);
	}
	// every byte replaced, every byte dropped: either a tree or a clean error
	for (size_t n = 0; n < len; n++) {
		memcpy(buf, sample, len);
		for (size_t b = 0; b < sizeof(bytes); b++) {
			buf[n] = (char)bytes[b];
			if (parse_any(buf, len, "mutation", n) == 0)
				ok++;
			else
				bad++;
		}
		memcpy(buf, sample, n);
		memcpy(buf + n, sample + n + 1, len - n - 1);
		if (parse_any(buf, len - 1, "deletion", n) == 0)
			ok++;
		else
			bad++;
	}
	CHECK(ok > 100 && bad > 100, "mutations: %d parsed, %d refused", ok, bad);
	free(buf);
}

// ---- nesting, node and size limits ----

static char *repeat(const char *a, int n, const char *mid, const char *b, int m, size_t *out_len)
{
	size_t la = strlen(a), lm = strlen(mid), lb = strlen(b);
	char *s = malloc(la * n + lm + lb * m + 1), *p = s;

	for (int i = 0; i < n; i++, p += la)
		memcpy(p, a, la);
	memcpy(p, mid, lm);
	p += lm;
	for (int i = 0; i < m; i++, p += lb)
		memcpy(p, b, lb);
	*p = '\0';
	*out_len = (size_t)(p - s);
	return s;
}

static void test_depth(void)
{
	static const struct {
		const char *open, *mid, *close;
		int n, m;
		int ok;
		const char *msg;
	} cases[] = {
		{ "[", "1", "]", 64, 64, 1, "" },
		{ "{\"a\":", "1", "}", 64, 64, 1, "" },
		{ "[{\"a\":", "1", "}]", 32, 32, 1, "" },
		{ "[", "1", "]", 65, 65, 0, "nesting deeper than 64 levels at column 65" },
		{ "{\"a\":", "1", "}", 65, 65, 0, "nesting deeper than 64 levels at column 321" },
		{ "[", "", "", 100000, 0, 0, "nesting deeper than 64 levels at column 65" },
		{ "[", "", "]", 100000, 100000, 0, "nesting deeper than 64 levels" },
		{ "{\"a\":", "", "", 100000, 0, 0, "nesting deeper than 64 levels" },
		{ "[{\"a\":", "", "", 50000, 0, 0, "nesting deeper than 64 levels" },
		{ "[\n", "", "", 100000, 0, 0, "nesting deeper than 64 levels at column 1" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct yaml_tree t;
		struct yaml_error e;
		size_t len;
		char *s = repeat(cases[i].open, cases[i].n, cases[i].mid, cases[i].close,
				 cases[i].m, &len);
		int r = json_tree_parse(&t, s, len, &e);

		if (cases[i].ok) {
			const struct ynode *n = r ? NULL : t.docs[0];
			int depth = 0;

			while (n && n->type != YN_SCALAR) {
				n = n->type == YN_SEQ ? n->items[0] : n->pairs[0].value;
				depth++;
			}
			CHECK(r == 0 && n && depth == cases[i].n * (int)strlen(cases[i].close),
			      "depth case %zu: %d %s, depth %d", i, r, e.msg, depth);
		} else {
			CHECK(r == -EBADMSG && strstr(e.msg, cases[i].msg), "depth case %zu: %d \"%s\"",
			      i, r, e.msg);
		}
		yaml_tree_free(&t);
		free(s);
	}
}

static void test_limits(void)
{
	struct yaml_tree t;
	struct yaml_error e;
	size_t n, o;
	char *s;
	int r;

	// exactly YTREE_MAX_NODES nodes (the array and its elements), then one more
	n = YTREE_MAX_NODES - 1;
	s = malloc(n * 2 + 16);
	o = 0;
	s[o++] = '[';
	for (size_t i = 0; i < n; i++) {
		s[o++] = '0';
		s[o++] = ',';
	}
	s[o - 1] = ']';
	r = json_tree_parse(&t, s, o, &e);
	CHECK(r == 0 && t.docs[0]->len == n, "%zu nodes: %d %s", n + 1, r, e.msg);
	yaml_tree_free(&t);
	s[o - 1] = ',';
	s[o++] = '0';
	s[o++] = ']';
	r = json_tree_parse(&t, s, o, &e);
	CHECK(r == -EBADMSG && strstr(e.msg, "more than 2097152 nodes"), "node limit: %d %s",
	      r, e.msg);
	yaml_tree_free(&t);
	free(s);

	// a file over 32 MiB is refused before parsing
	s = malloc((size_t)YTREE_MAX_FILE + 1);
	memset(s, ' ', (size_t)YTREE_MAX_FILE + 1);
	s[0] = '0';
	r = json_tree_parse(&t, s, (size_t)YTREE_MAX_FILE + 1, &e);
	CHECK(r == -EFBIG && strstr(e.msg, "32 MiB") && !t.docs, "32 MiB + 1: %d %s", r, e.msg);
	yaml_tree_free(&t);
	// 32 MiB exactly is fine, and JSON has no per-document limit: one
	// string bigger than YTREE_MAX_DOC
	r = json_tree_parse(&t, s, (size_t)YTREE_MAX_FILE, &e);
	CHECK(r == 0 && t.docs[0]->tag == YTAG_INT, "32 MiB of whitespace: %d %s", r, e.msg);
	yaml_tree_free(&t);
	n = (size_t)YTREE_MAX_DOC + 1024;
	s[0] = '"';
	memset(s + 1, 'x', n);
	s[n + 1] = '"';
	r = json_tree_parse(&t, s, n + 2, &e);
	CHECK(r == 0 && t.docs[0]->len == n && t.docs[0]->str[n] == '\0', "9 MiB string: %d %s",
	      r, e.msg);
	yaml_tree_free(&t);
	free(s);

	// a big object checks duplicates with the sorted path; one key a line
	s = malloc(64 * 2000 + 64);
	o = 0;
	s[o++] = '{';
	for (int i = 0; i < 2000; i++)
		o += (size_t)sprintf(s + o, "%s\n\"key%d\": %d", i ? "," : "", i, i);
	s[o++] = '}';
	r = json_tree_parse(&t, s, o, &e);
	CHECK(r == 0 && t.docs[0]->len == 2000 &&
	      !strcmp(t.docs[0]->pairs[1999].key->str, "key1999") &&
	      t.docs[0]->pairs[1999].key->line == 2001, "2000 keys: %d %s", r, e.msg);
	yaml_tree_free(&t);
	o--;
	o += (size_t)sprintf(s + o, ",\n\"key517\": 1}");
	r = json_tree_parse(&t, s, o, &e);
	CHECK(r == -EBADMSG && e.line == 2002 &&
	      strstr(e.msg, "duplicate key \"key517\" at column 1 (first at line 519, column 1)"),
	      "dup in 2000 keys: %d line %d %s", r, e.line, e.msg);
	yaml_tree_free(&t);
	free(s);
}

// ---- lines and columns of nodes ----

static void test_positions(void)
{
	static const char *const docs[] = {
		"{\n"
		"  \"a\": [1, \"x\",\n"
		"    {\"\xc3\xa9\": true}],\n"
		"\t\"b\": null }\n",
		"{\r\n"
		"  \"a\": [1, \"x\",\r\n"
		"    {\"\xc3\xa9\": true}],\r\n"
		"\t\"b\": null }\r\n",
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		const struct ynode *root, *a, *m, *b;
		struct yaml_tree t;
		struct yaml_error e;
		int r = json_tree_parse(&t, docs[i], strlen(docs[i]), &e);

		CHECK(r == 0, "positions %zu: %d %s", i, r, e.msg);
		if (r)
			continue;
		root = t.docs[0];
		a = yaml_tree_map_get(root, "a");
		b = yaml_tree_map_get(root, "b");
		CHECK(root->line == 1 && root->col == 1, "root at %d:%d", root->line, root->col);
		CHECK(root->pairs[0].key->line == 2 && root->pairs[0].key->col == 3, "key a at %d:%d",
		      root->pairs[0].key->line, root->pairs[0].key->col);
		CHECK(a && a->line == 2 && a->col == 8 && a->len == 3, "a at %d:%d",
		      a ? a->line : 0, a ? a->col : 0);
		if (!a || a->len != 3)
			goto next;
		CHECK(a->items[0]->line == 2 && a->items[0]->col == 9, "1 at %d:%d",
		      a->items[0]->line, a->items[0]->col);
		CHECK(a->items[1]->line == 2 && a->items[1]->col == 12, "x at %d:%d",
		      a->items[1]->line, a->items[1]->col);
		m = a->items[2];
		CHECK(m->line == 3 && m->col == 5, "map at %d:%d", m->line, m->col);
		CHECK(m->pairs[0].key->col == 6 && m->pairs[0].value->col == 11 &&
		      m->pairs[0].value->line == 3, "true at %d:%d (characters, not bytes)",
		      m->pairs[0].value->line, m->pairs[0].value->col);
		CHECK(root->pairs[1].key->line == 4 && root->pairs[1].key->col == 2, "key b at %d:%d",
		      root->pairs[1].key->line, root->pairs[1].key->col);
		CHECK(b && b->line == 4 && b->col == 7, "null at %d:%d", b ? b->line : 0,
		      b ? b->col : 0);
next:
		yaml_tree_free(&t);
		CHECK(!t.docs && !t.num_docs, "freed tree is empty");
	}
}

// ---- the YAML reader and the JSON reader agree ----

// same says whether a (from YAML) and b (from JSON) read the same to the
// Istio parser: node types, keys (bytes, order), scalar kinds and values.
// On a difference it writes the path into why.
static int same(const struct ynode *a, const struct ynode *b, char *why, size_t cap,
		const char *path)
{
	char sub[256];

	if (!a || !b || a->type != b->type || (a->type != YN_SCALAR && a->len != b->len)) {
		snprintf(why, cap, "%s: type or length differs", path);
		return 0;
	}
	if (a->type == YN_MAP) {
		for (size_t i = 0; i < a->len; i++) {
			const struct ynode *ka = a->pairs[i].key, *kb = b->pairs[i].key;

			if (ka->len != kb->len || memcmp(ka->str, kb->str, ka->len) ||
			    yaml_tree_scalar_kind(kb) != YK_STR) {
				snprintf(why, cap, "%s: key %zu: %s vs %s", path, i, ka->str, kb->str);
				return 0;
			}
			snprintf(sub, sizeof(sub), "%s.%s", path, ka->str);
			if (!same(a->pairs[i].value, b->pairs[i].value, why, cap, sub))
				return 0;
		}
		return 1;
	}
	if (a->type == YN_SEQ) {
		for (size_t i = 0; i < a->len; i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			if (!same(a->items[i], b->items[i], why, cap, sub))
				return 0;
		}
		return 1;
	}
	if (yaml_tree_scalar_kind(a) != yaml_tree_scalar_kind(b)) {
		snprintf(why, cap, "%s: kind %d vs %d (%s vs %s)", path, yaml_tree_scalar_kind(a),
			 yaml_tree_scalar_kind(b), a->str, b->str);
		return 0;
	}
	switch (yaml_tree_scalar_kind(a)) {
	case YK_STR:
		if (a->len != b->len || memcmp(a->str, b->str, a->len))
			goto differ;
		return 1;
	case YK_INT: {
		int64_t x = 0, y = 0;
		int ex = yaml_tree_scalar_int(a, &x), ey = yaml_tree_scalar_int(b, &y);

		if (ex != ey || x != y)
			goto differ;
		return 1;
	}
	case YK_FLOAT: {
		double x = 0, y = 1;

		if (yaml_tree_scalar_double(a, &x) || yaml_tree_scalar_double(b, &y) || x != y)
			goto differ;
		return 1;
	}
	case YK_BOOL: {
		int x = 0, y = 1;

		if (yaml_tree_scalar_bool(a, &x) || yaml_tree_scalar_bool(b, &y) || x != y)
			goto differ;
		return 1;
	}
	case YK_NULL:
		return 1;
	}
differ:
	snprintf(why, cap, "%s: %s vs %s", path, a->str, b->str);
	return 0;
}

static void json_string(struct out *o, const char *s, size_t len, int escape_all)
{
	put(o, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t k;

		if (c == '"' || c == '\\') {
			putf(o, "\\%c", c);
		} else if (c == '/' && escape_all) {
			puts_(o, "\\/");
		} else if (c < 0x20) {
			putf(o, "\\u%04x", c);
		} else if (c < 0x80 || !escape_all) {
			put(o, &s[i], 1);
		} else {
			// the YAML reader handed us valid UTF-8
			k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
			cp = c & (0x7f >> k);
			for (size_t j = 1; j < k && i + j < len; j++)
				cp = cp << 6 | ((unsigned char)s[i + j] & 0x3f);
			i += k - 1;
			if (cp >= 0x10000)
				putf(o, "\\u%04X\\u%04X", 0xd800 + ((cp - 0x10000) >> 10),
				     0xdc00 + ((cp - 0x10000) & 0x3ff));
			else
				putf(o, "\\u%04x", cp);
		}
	}
	put(o, "\"", 1);
}

// to_json writes n as JSON; escape_all also escapes '/' and every non-ASCII
// character (as the JSON reader must decode, though libyaml refuses the
// surrogate pairs). It returns -1 for what JSON cannot say (.inf, 0x1p3...).
static int to_json(struct out *o, const struct ynode *n, int escape_all)
{
	int64_t i;
	double d;
	int b;

	switch (n->type) {
	case YN_MAP:
		put(o, "{", 1);
		for (size_t k = 0; k < n->len; k++) {
			if (k)
				puts_(o, ", ");
			json_string(o, n->pairs[k].key->str, n->pairs[k].key->len, escape_all);
			puts_(o, ": ");
			if (to_json(o, n->pairs[k].value, escape_all) < 0)
				return -1;
		}
		put(o, "}", 1);
		return 0;
	case YN_SEQ:
		put(o, "[", 1);
		for (size_t k = 0; k < n->len; k++) {
			if (k)
				puts_(o, ", ");
			if (to_json(o, n->items[k], escape_all) < 0)
				return -1;
		}
		put(o, "]", 1);
		return 0;
	}
	switch (yaml_tree_scalar_kind(n)) {
	case YK_STR:
		json_string(o, n->str, n->len, escape_all);
		return 0;
	case YK_NULL:
		puts_(o, "null");
		return 0;
	case YK_BOOL:
		yaml_tree_scalar_bool(n, &b);
		puts_(o, b ? "true" : "false");
		return 0;
	case YK_INT:
		if (yaml_tree_scalar_int(n, &i) < 0)
			return -1;
		putf(o, "%lld", (long long)i);
		return 0;
	case YK_FLOAT:
		if (yaml_tree_scalar_double(n, &d) < 0 || !isfinite(d))
			return -1;
		putf(o, "%.17e", d);
		return 0;
	}
	return -1;
}

// check_agree parses text as JSON and as YAML and compares both with want
// (when given) and with each other.
static void check_agree(const char *name, const char *text, size_t len,
			const struct ynode *want, int yaml_too)
{
	struct yaml_tree tj, ty;
	struct yaml_error e;
	char why[512];
	int r;

	r = json_tree_parse(&tj, text, len, &e);
	CHECK(r == 0, "%s: json: %d line %d %s", name, r, e.line, e.msg);
	if (r == 0 && want)
		CHECK(same(want, tj.docs[0], why, sizeof(why), "$"), "%s: yaml vs json: %s", name, why);
	if (r == 0 && yaml_too) {
		r = yaml_tree_parse(&ty, text, len, &e);
		CHECK(r == 0 && ty.num_docs == 1, "%s: the JSON as YAML: %d line %d %s", name, r,
		      e.line, e.msg);
		if (r == 0 && ty.num_docs == 1)
			CHECK(same(ty.docs[0], tj.docs[0], why, sizeof(why), "$"),
			      "%s: yaml reader vs json reader on the JSON text: %s", name, why);
		yaml_tree_free(&ty);
	}
	yaml_tree_free(&tj);
}

static void test_agree_samples(void)
{
	// a Kubernetes object as kubectl -o yaml might write it, and as JSON
	static const char yaml[] =
		"apiVersion: networking.istio.io/v1\n"
		"kind: DestinationRule\n"
		"metadata:\n"
		"  name: reviews\n"
		"  namespace: default\n"
		"  labels: {app: reviews, \"8080\": \"on\", ver: \"1.10\"}\n"
		"  generation: 7\n"
		"spec:\n"
		"  host: reviews.default.svc.cluster.local\n"
		"  exportTo: [\".\"]\n"
		"  trafficPolicy:\n"
		"    connectionPool:\n"
		"      tcp: {maxConnections: 100, connectTimeout: 30ms}\n"
		"      http: {http2MaxRequests: 1000, useClientProtocol: true}\n"
		"    outlierDetection:\n"
		"      consecutive5xxErrors: 7\n"
		"      maxEjectionPercent: 33.5\n"
		"      minHealthPercent: 0\n"
		"    tls: {mode: ISTIO_MUTUAL, sni: null, caCertificates: \"caf\xc3\xa9 \xf0\x9f\x98\x80\"}\n"
		"  subsets:\n"
		"  - name: v1\n"
		"    labels: {version: v1}\n"
		"  - name: \"true\"\n"
		"    labels: {version: \"2\"}\n"
		"    trafficPolicy:\n"
		"      portLevelSettings:\n"
		"      - port: {number: 9080}\n"
		"        loadBalancer: {simple: LEAST_REQUEST, warmupDurationSecs: \"-0\"}\n";
	static const char json[] =
		"{\"apiVersion\":\"networking.istio.io/v1\",\"kind\":\"DestinationRule\","
		"\"metadata\":{\"name\":\"reviews\",\"namespace\":\"default\","
		"\"labels\":{\"app\":\"reviews\",\"8080\":\"on\",\"ver\":\"1.10\"},\"generation\":7},"
		"\"spec\":{\"host\":\"reviews.default.svc.cluster.local\",\"exportTo\":[\".\"],"
		"\"trafficPolicy\":{\"connectionPool\":{\"tcp\":{\"maxConnections\":100,"
		"\"connectTimeout\":\"30ms\"},\"http\":{\"http2MaxRequests\":1000,\"useClientProtocol\":true}},"
		"\"outlierDetection\":{\"consecutive5xxErrors\":7,\"maxEjectionPercent\":335e-1,"
		"\"minHealthPercent\":-0},\"tls\":{\"mode\":\"ISTIO_MUTUAL\",\"sni\":null,"
		"\"caCertificates\":\"caf\\u00e9 \\ud83d\\ude00\"}},"
		"\"subsets\":[{\"name\":\"v1\",\"labels\":{\"version\":\"v1\"}},"
		"{\"name\":\"true\",\"labels\":{\"version\":\"2\"},\"trafficPolicy\":{\"portLevelSettings\":"
		"[{\"port\":{\"number\":9080},\"loadBalancer\":{\"simple\":\"LEAST_REQUEST\","
		"\"warmupDurationSecs\":\"-0\"}}]}}]}}";
	struct yaml_tree ty;
	struct yaml_error e;
	int r = yaml_tree_parse(&ty, yaml, sizeof(yaml) - 1, &e);

	CHECK(r == 0, "sample yaml: %d %s", r, e.msg);
	if (r == 0)
		check_agree("DestinationRule", json, sizeof(json) - 1, ty.docs[0], 0);
	yaml_tree_free(&ty);
	// JSON with spaces is YAML too: both readers, one text
	check_agree("VirtualService", K8S_VIRTUAL_SERVICE, strlen(K8S_VIRTUAL_SERVICE), NULL, 1);
}

// test_agree_testdata reads Istio's sample and validation YAML, writes each
// document as JSON and checks that the JSON reader (and the YAML reader, on
// the JSON) gives back the tree the YAML reader built.
static void test_agree_testdata(void)
{
	static const char *const dirs[] = { TD "/bookinfo-networking", TD "/api-validation" };
	int files = 0, docs = 0;

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;

		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			char path[512], name[600];
			struct yaml_tree t;
			struct yaml_error e;
			size_t len, nl = strlen(de->d_name);
			char *text;
			FILE *f;

			if (nl < 5 || strcmp(de->d_name + nl - 5, ".yaml"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], de->d_name);
			if (!(f = fopen(path, "rb")))
				continue;
			text = malloc(1 << 20);
			len = fread(text, 1, 1 << 20, f);
			fclose(f);
			// the validation files hold invalid Istio, not invalid YAML
			if (yaml_tree_parse(&t, text, len, &e) == 0) {
				files++;
				for (int i = 0; i < t.num_docs; i++) {
					struct out plain = { 0 }, esc = { 0 };

					if (!t.docs[i] || to_json(&plain, t.docs[i], 0) < 0 ||
					    to_json(&esc, t.docs[i], 1) < 0) {
						free(plain.buf);
						free(esc.buf);
						continue;
					}
					docs++;
					snprintf(name, sizeof(name), "%s doc %d", path, i + 1);
					check_agree(name, plain.buf, plain.len, t.docs[i], 1);
					check_agree(name, esc.buf, esc.len, t.docs[i], 0);
					free(plain.buf);
					free(esc.buf);
				}
			}
			yaml_tree_free(&t);
			free(text);
		}
		closedir(dir);
	}
	if (!files)
		printf("json_test: no testdata in " TD ", agreement on samples only\n");
	else
		printf("json_test: %d testdata documents from %d files agree\n", docs, files);
}

int main(void)
{
	test_good_cases();
	test_ints();
	test_doubles();
	test_bools_nulls();
	test_tags_by_hand();
	test_bad_cases();
	test_truncations();
	test_depth();
	test_limits();
	test_positions();
	test_agree_samples();
	test_agree_testdata();
	printf("json_test: %zu valid, %zu invalid table cases; %d checks, %d failed\n",
	       sizeof(good_cases) / sizeof(good_cases[0]), sizeof(bad_cases) / sizeof(bad_cases[0]),
	       checks, failures);
	return failures ? 1 : 0;
}
