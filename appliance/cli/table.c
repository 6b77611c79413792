// SPDX-License-Identifier: Apache-2.0
// table.c: aligned text tables for the CLI (proxy-config, proxy-status),
// laid out as istioctl's tabwriter output so the two read alike.
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

void table_init(struct table *t, const char *const *header, int num_cols, int padding)
{
	memset(t, 0, sizeof(*t));
	t->header = header;
	t->num_cols = num_cols < 1 ? 1 : num_cols > TABLE_MAX_COLS ? TABLE_MAX_COLS : num_cols;
	t->padding = padding < 0 ? 0 : padding;
}

static char *cell_dup(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		d[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	d[n] = '\0';
	return d;
}

// row_free frees every cell slot: a caller may narrow num_cols to hide a
// trailing column after the rows were added.
static void row_free(struct table_row *r)
{
	for (int c = 0; c < TABLE_MAX_COLS; c++) {
		free(r->cells[c]);
		r->cells[c] = NULL;
	}
}

struct table_row *table_add(struct table *t, const char *const *cells)
{
	struct table_row *r;

	if (t->num_rows == t->cap_rows) {
		size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
		struct table_row *nr = realloc(t->rows, cap * sizeof(*nr));

		if (!nr)
			return NULL;
		t->rows = nr;
		t->cap_rows = cap;
	}
	r = &t->rows[t->num_rows];
	memset(r, 0, sizeof(*r));
	for (int c = 0; c < t->num_cols; c++) {
		if (!(r->cells[c] = cell_dup(cells[c]))) {
			row_free(r);
			return NULL;
		}
	}
	t->num_rows++;
	return r;
}

typedef int row_cmp(const struct table_row *, const struct table_row *);

static int qsort_cmp(const void *a, const void *b, void *arg)
{
	row_cmp **cmp = arg;

	return (*cmp)(a, b);
}

void table_sort(struct table *t, int (*cmp)(const struct table_row *, const struct table_row *))
{
	if (t->num_rows > 1)
		qsort_r(t->rows, t->num_rows, sizeof(*t->rows), qsort_cmp, &cmp);
}

// width counts characters, not bytes: a UTF-8 continuation byte adds none.
static size_t width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int render_line(const struct table *t, const char *const *cells, const size_t *w,
		       struct buf *out)
{
	size_t start = out->len;
	int rc = 0;

	for (int c = 0; c < t->num_cols && rc == 0; c++) {
		const char *s = cells[c] ? cells[c] : "";

		rc = buf_appends(out, s);
		if (c + 1 < t->num_cols) {
			for (size_t k = width(s); k < w[c] + (size_t)t->padding && rc == 0; k++)
				rc = buf_append(out, " ", 1);
		}
	}
	if (rc < 0)
		return rc;
	// an empty last cell would leave the padding of the one before it
	while (out->len > start && out->data[out->len - 1] == ' ')
		out->len--;
	return buf_append(out, "\n", 1);
}

int table_render(const struct table *t, struct buf *out)
{
	size_t w[TABLE_MAX_COLS] = { 0 };
	int rc;

	for (int c = 0; c < t->num_cols; c++) {
		w[c] = t->header && t->header[c] ? width(t->header[c]) : 0;
		for (size_t r = 0; r < t->num_rows; r++) {
			size_t n = width(t->rows[r].cells[c]);

			w[c] = n > w[c] ? n : w[c];
		}
	}
	if (t->header && (rc = render_line(t, t->header, w, out)) < 0)
		return rc;
	for (size_t r = 0; r < t->num_rows; r++)
		if ((rc = render_line(t, (const char *const *)t->rows[r].cells, w, out)) < 0)
			return rc;
	return 0;
}

void table_cleanup(struct table *t)
{
	for (size_t r = 0; r < t->num_rows; r++)
		row_free(&t->rows[r]);
	free(t->rows);
	t->rows = NULL;
	t->num_rows = t->cap_rows = 0;
}
