// SPDX-License-Identifier: Apache-2.0
// yaml_test: what the YAML tree refuses (alias bombs, merge keys, depth, dup
// keys, sizes, tags), scalar kinds (quoted "on" stays a string), lines.
#include "config/yaml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"

// ---- inputs that must be refused (and where) ----

struct bad_case {
	const char *name;
	const char *yaml;
	const char *msg;	// substring of the error
	int line;		// expected error line, 0 = don't care
};

static const struct bad_case bad_cases[] = {
	{ "billion laughs", "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	  "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	  "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	  "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
	  "anchors", 1 },
	{ "alias", "a: 1\nb: *x\n", "aliases (*x)", 0 },
	{ "anchor alone", "a:\n  b: &x 1\n", "anchors (&x)", 2 },
	{ "anchor on map", "a: &m\n  b: 1\n", "anchors (&m)", 1 },
	{ "merge key", "base: {a: 1}\nc:\n  <<: {b: 2}\n", "merge keys (<<)", 3 },
	{ "merge key in flow", "c: {<<: {b: 2}}\n", "merge keys", 1 },
	{ "duplicate key", "a: 1\nb: 2\na: 3\n", "duplicate key \"a\" (first at line 1)", 3 },
	{ "duplicate key nested", "x:\n  y: 1\n  z: 2\n  y: 3\n", "duplicate key \"y\"", 4 },
	{ "duplicate quoted vs plain", "a: 1\n\"a\": 2\n", "duplicate key \"a\"", 2 },
	{ "duplicate in flow", "{a: 1, a: 2}\n", "duplicate key", 1 },
	{ "complex key", "? [a, b]\n: c\n", "mapping keys must be scalars", 1 },
	{ "unsupported tag", "a: !foo bar\n", "unsupported tag", 1 },
	{ "binary tag", "a: !!binary aGVsbG8=\n", "unsupported tag", 1 },
	{ "str tag on map", "a: !!str {b: 1}\n", "unsupported tag", 1 },
	{ "tab indent", "a:\n\tb: 1\n", "", 2 },
	{ "bad indent", "a: b\n c: d\n", "mapping values are not allowed", 2 },
	{ "unclosed flow", "a: [1, 2\n", "", 0 },
	{ "unclosed quote", "a: \"abc\n", "", 0 },
	{ "invalid utf-8", "a: \xff\xfe\xfd\n", "UTF-8", 1 },
	{ "second doc broken", "a: 1\n---\nb: [\n", "", 0 },
	{ "dup key in 2nd doc", "a: 1\n---\nb: 1\nb: 2\n", "duplicate key \"b\"", 4 },
};

static void test_bad_cases(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		struct yaml_tree t;
		struct yaml_error e;
		int r = yaml_tree_parse(&t, bc->yaml, strlen(bc->yaml), &e);

		CHECK(r == -EBADMSG, "%s: want -EBADMSG, got %d", bc->name, r);
		CHECK(strstr(e.msg, bc->msg) != NULL, "%s: message \"%s\" lacks \"%s\"",
		      bc->name, e.msg, bc->msg);
		CHECK(!bc->line || e.line == bc->line, "%s: line %d, want %d (%s)",
		      bc->name, e.line, bc->line, e.msg);
		CHECK(t.num_docs == 0 && t.docs == NULL, "%s: tree not empty after error", bc->name);
		yaml_tree_free(&t);
	}
}

// ---- limits built at run time ----

static char *repeat(const char *a, int n, const char *mid, const char *b, int m)
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
	return s;
}

static int parse_str(const char *s, size_t len, struct yaml_tree *t, struct yaml_error *e)
{
	return yaml_tree_parse(t, s, len, e);
}

static void test_depth(void)
{
	struct yaml_tree t;
	struct yaml_error e;
	char *s;
	int r;

	// 64 nested flow sequences: allowed
	s = repeat("[", 64, "1", "]", 64);
	r = parse_str(s, strlen(s), &t, &e);
	CHECK(r == 0, "depth 64 flow: %d %s", r, e.msg);
	yaml_tree_free(&t);
	free(s);
	// 65: refused
	s = repeat("[", 65, "1", "]", 65);
	r = parse_str(s, strlen(s), &t, &e);
	CHECK(r == -EBADMSG && strstr(e.msg, "nesting deeper than 64"), "depth 65: %d %s", r, e.msg);
	yaml_tree_free(&t);
	free(s);
	// 10k deep, flow and block
	s = repeat("[", 10000, "", "]", 10000);
	r = parse_str(s, strlen(s), &t, &e);
	CHECK(r == -EBADMSG && strstr(e.msg, "nesting"), "depth 10k flow: %d %s", r, e.msg);
	yaml_tree_free(&t);
	free(s);
	s = repeat("{a: ", 10000, "1", "}", 10000);
	r = parse_str(s, strlen(s), &t, &e);
	CHECK(r == -EBADMSG && strstr(e.msg, "nesting"), "depth 10k flow map: %d %s", r, e.msg);
	yaml_tree_free(&t);
	free(s);
	{
		// 1000 block mappings, each level indented by one more space
		size_t cap = 1000 * 1010, o = 0;
		char *b = malloc(cap);

		for (int i = 0; i < 1000; i++) {
			memset(b + o, ' ', i);
			o += i;
			memcpy(b + o, "k:\n", 3);
			o += 3;
		}
		r = parse_str(b, o, &t, &e);
		CHECK(r == -EBADMSG && strstr(e.msg, "nesting"), "depth 1000 block: %d %s", r, e.msg);
		CHECK(e.line == 65, "depth 1000 block: error at line %d, want 65", e.line);
		yaml_tree_free(&t);
		free(b);
	}
}

static void test_sizes(void)
{
	struct yaml_tree t;
	struct yaml_error e;
	size_t big = YTREE_MAX_DOC + 1024;
	char *s = malloc((size_t)YTREE_MAX_FILE + 16);
	int r;

	// one document larger than 8 MiB (a long comment-free string)
	memcpy(s, "a: ", 3);
	memset(s + 3, 'x', big);
	s[3 + big] = '\n';
	r = parse_str(s, big + 4, &t, &e);
	CHECK(r == -EBADMSG && strstr(e.msg, "document larger than 8 MiB"),
	      "8 MiB doc: %d %s", r, e.msg);
	yaml_tree_free(&t);
	// the same bytes split into small documents: fine
	{
		size_t o = 0;

		while (o + 64 < big) {
			memcpy(s + o, "---\na: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", 56);
			o += 56;
		}
		r = parse_str(s, o, &t, &e);
		CHECK(r == 0 && t.num_docs == (int)(o / 56), "many docs: %d docs %d %s",
		      r, t.num_docs, e.msg);
		yaml_tree_free(&t);
	}
	// a file over 32 MiB is refused before parsing
	memset(s, '#', (size_t)YTREE_MAX_FILE + 1);
	r = parse_str(s, (size_t)YTREE_MAX_FILE + 1, &t, &e);
	CHECK(r == -EFBIG && strstr(e.msg, "32 MiB"), "32 MiB file: %d %s", r, e.msg);
	yaml_tree_free(&t);
	free(s);

	// too many nodes
	{
		size_t n = YTREE_MAX_NODES + 10, o = 0;
		char *l = malloc(n * 2 + 8);

		l[o++] = '[';
		for (size_t i = 0; i < n; i++) {
			l[o++] = '1';
			l[o++] = ',';
		}
		l[o - 1] = ']';
		r = parse_str(l, o, &t, &e);
		CHECK(r == -EBADMSG && strstr(e.msg, "nodes"), "node limit: %d %s", r, e.msg);
		yaml_tree_free(&t);
		free(l);
	}
	// a big map checks duplicates with the sorted path
	{
		size_t o = 0;
		char *m = malloc(64 * 1000 + 64);

		for (int i = 0; i < 1000; i++)
			o += (size_t)sprintf(m + o, "key%d: %d\n", i, i);
		r = parse_str(m, o, &t, &e);
		CHECK(r == 0 && t.docs[0]->len == 1000, "1000 keys: %d %s", r, e.msg);
		yaml_tree_free(&t);
		o += (size_t)sprintf(m + o, "key517: again\n");
		r = parse_str(m, o, &t, &e);
		CHECK(r == -EBADMSG && strstr(e.msg, "duplicate key \"key517\" (first at line 518)") &&
		      e.line == 1001, "dup in 1000 keys: %d line %d %s", r, e.line, e.msg);
		yaml_tree_free(&t);
		free(m);
	}
}

// ---- scalar resolution ----

struct kind_case {
	const char *yaml;	// the value after "v: "
	enum yscalar_kind kind;
};

static const struct kind_case kind_cases[] = {
	{ "on", YK_BOOL }, { "On", YK_BOOL }, { "ON", YK_BOOL }, { "off", YK_BOOL },
	{ "yes", YK_BOOL }, { "no", YK_BOOL }, { "y", YK_BOOL }, { "n", YK_BOOL },
	{ "true", YK_BOOL }, { "False", YK_BOOL },
	{ "\"on\"", YK_STR }, { "'yes'", YK_STR }, { "!!str on", YK_STR }, { "! no", YK_STR },
	{ "~", YK_NULL }, { "null", YK_NULL }, { "NULL", YK_NULL }, { "", YK_NULL },
	{ "\"\"", YK_STR }, { "''", YK_STR },
	{ "0", YK_INT }, { "80", YK_INT }, { "-12", YK_INT }, { "+7", YK_INT },
	{ "0x1F", YK_INT }, { "0o17", YK_INT }, { "017", YK_INT }, { "0b101", YK_INT },
	{ "1_000", YK_INT },
	{ "1.5", YK_FLOAT }, { "1e3", YK_FLOAT }, { ".5", YK_FLOAT }, { "-2.5E-3", YK_FLOAT },
	{ ".inf", YK_FLOAT }, { "-.Inf", YK_FLOAT }, { ".nan", YK_FLOAT }, { "08", YK_FLOAT },
	{ "1.2.3.4", YK_STR }, { "10s", YK_STR }, { "v1", YK_STR }, { "0x", YK_STR },
	{ "1.10.0", YK_STR }, { "nope", YK_STR }, { "\"80\"", YK_STR }, { "|\n  on\n", YK_STR },
	{ ">\n  yes\n", YK_STR }, { "2001:db8::1", YK_STR }, { "*.example.com", YK_STR },
};

static void test_kinds(void)
{
	char buf[128];

	for (size_t i = 0; i < sizeof(kind_cases) / sizeof(kind_cases[0]); i++) {
		const struct kind_case *kc = &kind_cases[i];
		const struct ynode *v;
		struct yaml_tree t;
		struct yaml_error e;
		int r;

		if (kc->yaml[0] == '*') {
			snprintf(buf, sizeof(buf), "v: \"%s\"\n", kc->yaml);	// alias syntax
		} else {
			snprintf(buf, sizeof(buf), "v: %s\n", kc->yaml);
		}
		r = yaml_tree_parse(&t, buf, strlen(buf), &e);
		CHECK(r == 0, "kind %s: parse %d %s", kc->yaml, r, e.msg);
		if (r == 0) {
			v = yaml_tree_map_get(t.docs[0], "v");
			CHECK(v && yaml_tree_scalar_kind(v) == kc->kind, "kind of %s: %d, want %d",
			      kc->yaml, v ? (int)yaml_tree_scalar_kind(v) : -1, kc->kind);
		}
		yaml_tree_free(&t);
	}
}

struct int_case {
	const char *yaml;
	int err;
	int64_t value;
};

static const struct int_case int_cases[] = {
	{ "0", 0, 0 }, { "65535", 0, 65535 }, { "-1", 0, -1 }, { "0x10", 0, 16 },
	{ "010", 0, 8 }, { "0b11", 0, 3 }, { "1_000_000", 0, 1000000 },
	{ "9223372036854775807", 0, INT64_MAX }, { "-9223372036854775808", 0, INT64_MIN },
	{ "9223372036854775808", -ERANGE, 0 }, { "99999999999999999999999", -ERANGE, 0 },
	{ "-9223372036854775809", -ERANGE, 0 },
	{ "1.5", -EINVAL, 0 }, { "\"5\"", -EINVAL, 0 }, { "five", -EINVAL, 0 },
};

static void test_ints(void)
{
	char buf[128];

	for (size_t i = 0; i < sizeof(int_cases) / sizeof(int_cases[0]); i++) {
		const struct int_case *ic = &int_cases[i];
		struct yaml_tree t;
		struct yaml_error e;
		int64_t v = 0;
		int r;

		snprintf(buf, sizeof(buf), "v: %s\n", ic->yaml);
		if (yaml_tree_parse(&t, buf, strlen(buf), &e) < 0) {
			CHECK(0, "int %s: parse error %s", ic->yaml, e.msg);
			continue;
		}
		r = yaml_tree_scalar_int(yaml_tree_map_get(t.docs[0], "v"), &v);
		CHECK(r == ic->err, "int %s: ret %d want %d", ic->yaml, r, ic->err);
		CHECK(r || v == ic->value, "int %s: %lld want %lld", ic->yaml, (long long)v,
		      (long long)ic->value);
		yaml_tree_free(&t);
	}
}

// ---- structure and lines ----

static void test_structure(void)
{
	static const char doc[] =
		"# comment\n"			// 1
		"apiVersion: v1\n"		// 2
		"spec:\n"			// 3
		"  hosts:\n"			// 4
		"  - a.example\n"		// 5
		"  - \"on\"\n"			// 6
		"  port: 80\n"			// 7
		"---\n"				// 8
		"---\n"				// 9
		"{\"json\": [1, true, null, \"x\"], \"nested\": {\"k\": \"v\"}}\n"	// 10
		"---\n"				// 11
		"addresses: [1.2.3.4, 2001:db8::, '::1']\n";	// 12
	const struct ynode *root, *spec, *hosts, *json, *addrs;
	struct yaml_tree t;
	struct yaml_error e;
	int r = yaml_tree_parse(&t, doc, sizeof(doc) - 1, &e);

	CHECK(r == 0, "structure: %d %s", r, e.msg);
	if (r)
		return;
	CHECK(t.num_docs == 4, "documents: %d, want 4", t.num_docs);
	root = t.docs[0];
	CHECK(root->type == YN_MAP && root->line == 2, "root line %d", root->line);
	spec = yaml_tree_map_get(root, "spec");
	CHECK(spec && spec->type == YN_MAP && spec->line == 4, "spec line %d", spec ? spec->line : -1);
	hosts = yaml_tree_map_get(spec, "hosts");
	CHECK(hosts && hosts->type == YN_SEQ && hosts->len == 2, "hosts");
	if (hosts && hosts->len == 2) {
		CHECK(hosts->items[0]->line == 5 && !strcmp(hosts->items[0]->str, "a.example"), "host 0");
		CHECK(hosts->items[1]->line == 6 && hosts->items[1]->style == YS_DOUBLE_QUOTED &&
		      yaml_tree_scalar_kind(hosts->items[1]) == YK_STR, "quoted on stays a string");
		CHECK(hosts->items[0]->col == 5, "column %d", hosts->items[0]->col);
	}
	CHECK(yaml_tree_map_get(spec, "port")->line == 7, "port line");
	CHECK(yaml_tree_map_get(root, "missing") == NULL, "missing key");
	CHECK(yaml_tree_map_get(hosts, "x") == NULL, "map_get on a list");
	CHECK(yaml_tree_is_null(t.docs[1]), "empty document is null");
	json = t.docs[2];
	CHECK(json && json->type == YN_MAP && json->line == 10, "json doc");
	if (json && json->type == YN_MAP) {
		const struct ynode *arr = yaml_tree_map_get(json, "json");

		CHECK(arr && arr->len == 4 && yaml_tree_scalar_kind(arr->items[0]) == YK_INT &&
		      yaml_tree_scalar_kind(arr->items[1]) == YK_BOOL &&
		      yaml_tree_scalar_kind(arr->items[2]) == YK_NULL &&
		      yaml_tree_scalar_kind(arr->items[3]) == YK_STR, "json kinds");
	}
	// libyaml refuses "2001:db8::" before "]"; we quote it (YAML 1.2 reading)
	addrs = yaml_tree_map_get(t.docs[3], "addresses");
	CHECK(addrs && addrs->len == 3 && !strcmp(addrs->items[1]->str, "2001:db8::") &&
	      addrs->items[1]->line == 12 && !strcmp(addrs->items[2]->str, "::1"),
	      "flow scalar ending in ':'");
	yaml_tree_free(&t);
	CHECK(t.docs == NULL && t.num_docs == 0, "freed tree is empty");
}

static void test_misc(void)
{
	struct yaml_tree t;
	struct yaml_error e;
	int r;

	r = yaml_tree_parse(&t, "", 0, &e);
	CHECK(r == 0 && t.num_docs == 0, "empty stream: %d docs %d", r, t.num_docs);
	yaml_tree_free(&t);
	r = yaml_tree_parse(&t, "# only a comment\n", 17, &e);
	CHECK(r == 0 && t.num_docs == 0, "comment-only stream: %d docs %d", r, t.num_docs);
	yaml_tree_free(&t);
	r = yaml_tree_parse(&t, "a: \"x\\0y\"\n", 10, &e);
	CHECK(r == 0 && yaml_tree_map_get(t.docs[0], "a")->len == 3, "NUL in a scalar is kept with its length");
	yaml_tree_free(&t);
	r = yaml_tree_parse(&t, "\xef\xbb\xbf" "a: [x:]\n", 11, &e);
	CHECK(r == 0 && !strcmp(yaml_tree_map_get(t.docs[0], "a")->items[0]->str, "x:"),
	      "BOM + flow colon: %d %s", r, e.msg);
	yaml_tree_free(&t);
	// "x:" then a line break is a key: [{x: y}], no rewrite involved
	r = yaml_tree_parse(&t, "a: [x:\n  y]\n", 12, &e);
	CHECK(r == 0 && yaml_tree_map_get(t.docs[0], "a")->items[0]->type == YN_MAP,
	      "flow pair across lines: %d %s", r, e.msg);
	yaml_tree_free(&t);
	r = yaml_tree_parse(&t, "a: [b, 'it''s', c:d:]\n", 22, &e);
	CHECK(r == 0 && !strcmp(yaml_tree_map_get(t.docs[0], "a")->items[2]->str, "c:d:"),
	      "flow colon after a quoted quote: %d %s", r, e.msg);
	yaml_tree_free(&t);
	r = yaml_tree_parse(&t, "a: !!str 123\nb: !!map {c: 1}\nd: !!seq [1]\n", 42, &e);
	CHECK(r == 0 && yaml_tree_scalar_kind(yaml_tree_map_get(t.docs[0], "a")) == YK_STR,
	      "core tags: %d %s", r, e.msg);
	yaml_tree_free(&t);
}

int main(void)
{
	test_bad_cases();
	test_depth();
	test_sizes();
	test_kinds();
	test_ints();
	test_structure();
	test_misc();
	printf("yaml_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
