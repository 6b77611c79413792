// SPDX-License-Identifier: Apache-2.0
// table_test: the CLI's table formatter: columns sized to their widest
// cell (header included, in characters) plus padding, the last column
// unpadded, no trailing spaces, control characters neutralised, sorting,
// and a narrowed column count hiding (and still freeing) a last column.
#include "appliance/cli/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#include "tests/unit/check.h"

enum { MAX_ROWS = 6 };

struct table_case {
	const char *name;
	int num_cols, padding;
	const char *header[5];
	const char *rows[MAX_ROWS][5];	// rows until one whose first cell is NULL
	int narrow_to;			// > 0: num_cols after adding the rows
	const char *want;
};

static const struct table_case cases[] = {
	{ "header only", 3, 5, { "A", "BB", "CCC" }, { { NULL } }, 0,
	  "A     BB     CCC\n" },
	{ "istioctl's cluster table", 5, 5,
	  { "SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE" },
	  { { "reviews.example", "9080", "-", "outbound", "EDS" },
	    { "r.example", "443", "v1", "outbound", "EDS" } }, 0,
	  "SERVICE FQDN        PORT     SUBSET     DIRECTION     TYPE\n"
	  "reviews.example     9080     -          outbound      EDS\n"
	  "r.example           443      v1         outbound      EDS\n" },
	{ "padding 1 (istioctl's listener table)", 4, 1,
	  { "ADDRESSES", "PORT", "MATCH", "DESTINATION" },
	  { { "127.0.0.1", "8080", "ALL", "Route: outbound_http" },
	    { "::1", "15001", "Trans: tls", "Cluster: outbound|9080||a" } }, 0,
	  "ADDRESSES PORT  MATCH      DESTINATION\n"
	  "127.0.0.1 8080  ALL        Route: outbound_http\n"
	  "::1       15001 Trans: tls Cluster: outbound|9080||a\n" },
	{ "a cell wider than its header widens the column", 2, 2, { "N", "V" },
	  { { "longer-than-header", "x" } }, 0,
	  "N                   V\n"
	  "longer-than-header  x\n" },
	{ "an empty last cell leaves no trailing spaces", 3, 5, { "A", "B", "C" },
	  { { "a", "b", "" }, { "a", "", "" }, { "", "", "c" } }, 0,
	  "A     B     C\n"
	  "a     b\n"
	  "a\n"
	  "            c\n" },
	{ "NULL cells are empty", 2, 1, { "A", "B" }, { { "x", NULL } }, 0,
	  "A B\n"
	  "x\n" },
	{ "width counts characters, not UTF-8 bytes", 2, 1, { "NAME", "X" },
	  { { "h\xc3\xa9llo", "1" }, { "\xe2\x9c\x93", "2" } }, 0,
	  "NAME  X\n"
	  "h\xc3\xa9llo 1\n"
	  "\xe2\x9c\x93     2\n" },
	{ "control characters cannot break lines or drive the terminal", 2, 1, { "A", "B" },
	  { { "a\nb", "\x1b[2Jc\td\x7f" } }, 0,
	  "A   B\n"
	  "a?b ?[2Jc?d?\n" },
	{ "a narrowed table hides its last column", 3, 5, { "A", "B", "HIDDEN" },
	  { { "a", "b", "hidden-value" } }, 2,
	  "A     B\n"
	  "a     b\n" },
	{ "one column", 1, 5, { "ONLY" }, { { "x" }, { "longer" } }, 0,
	  "ONLY\n"
	  "x\n"
	  "longer\n" },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct table_case *c = &cases[i];
		struct table t;
		struct buf out;
		int rc = 0;

		table_init(&t, c->header, c->num_cols, c->padding);
		for (int r = 0; r < MAX_ROWS && c->rows[r][0]; r++)
			CHECK(table_add(&t, c->rows[r]) != NULL, "%s: row %d", c->name, r);
		if (c->narrow_to)
			t.num_cols = c->narrow_to;
		buf_init(&out);
		rc = table_render(&t, &out);
		CHECK(rc == 0, "%s: render %d", c->name, rc);
		CHECK(out.len == strlen(c->want) && !memcmp(out.data, c->want, out.len),
		      "%s: got\n%.*s\nwant\n%s", c->name, (int)out.len, out.data ? out.data : "",
		      c->want);
		buf_cleanup(&out);
		table_cleanup(&t);
		CHECK(t.num_rows == 0 && t.rows == NULL, "%s: cleanup empties", c->name);
	}
}

static int by_key_then_first(const struct table_row *a, const struct table_row *b)
{
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return strcmp(a->cells[0], b->cells[0]);
}

static void test_sort_and_tags(void)
{
	static const char *const header[] = { "K", "V" };
	static const char *const rows[][2] = { { "c", "3" }, { "a", "1" }, { "b", "1" },
					       { "a", "0" } };
	static const uint64_t keys[] = { 3, 1, 1, 0 };
	const char *want = "K V\na 0\na 1\nb 1\nc 3\n";
	struct table t;
	struct buf out;

	table_init(&t, header, 2, 1);
	for (size_t i = 0; i < 4; i++) {
		struct table_row *r = table_add(&t, rows[i]);

		CHECK(r && !r->src && !r->src_idx && !r->group_idx && !r->key, "tags start zeroed");
		if (r) {
			r->key = keys[i];
			r->src_idx = (uint32_t)i;
		}
	}
	table_sort(&t, by_key_then_first);
	buf_init(&out);
	CHECK(table_render(&t, &out) == 0, "render");
	CHECK(out.len == strlen(want) && !memcmp(out.data, want, out.len), "sorted: got\n%.*s",
	      (int)out.len, out.data);
	CHECK(t.rows[0].src_idx == 3 && t.rows[3].src_idx == 0, "tags travel with their rows");
	buf_cleanup(&out);
	table_cleanup(&t);
}

static void test_many_rows(void)
{
	static const char *const header[] = { "N" };
	struct table t;
	struct buf out;
	char cell[16];
	const char *cells[1] = { cell };

	// growth past the first allocation, and each line rendered
	table_init(&t, header, 1, 1);
	for (int i = 0; i < 1000; i++) {
		snprintf(cell, sizeof(cell), "%d", i);
		CHECK(table_add(&t, cells) != NULL, "row %d", i);
	}
	buf_init(&out);
	CHECK(table_render(&t, &out) == 0, "render");
	CHECK(t.num_rows == 1000 && out.len == 2 + 10 * 2 + 90 * 3 + 900 * 4, "1000 rows: %zu bytes",
	      out.len);
	buf_cleanup(&out);
	table_cleanup(&t);
}

int main(void)
{
	test_cases();
	test_sort_and_tags();
	test_many_rows();
	printf("table_test: %zu table cases; %d checks, %d failed\n",
	       sizeof(cases) / sizeof(cases[0]), checks, failures);
	return failures ? 1 : 0;
}
