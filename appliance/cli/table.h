// SPDX-License-Identifier: Apache-2.0
// table.h: the CLI's aligned text tables, as Go's text/tabwriter prints
// istioctl's: a header row, columns sized to their widest cell (in
// characters) plus padding, left-aligned, the last column unpadded.
#ifndef MG_CLI_TABLE_H
#define MG_CLI_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum { TABLE_MAX_COLS = 12 };

// table_row is one row: its cells (owned by the table) and tags the caller
// sets to sort the rows and to find the objects behind them.
struct table_row {
	char *cells[TABLE_MAX_COLS];
	const void *src;	// the caller's: the JSON object the row shows
	uint32_t src_idx;	// the caller's: its index in its array
	uint32_t group_idx;	// the caller's: e.g. the listener a route row is for
	uint64_t key;		// the caller's: a numeric sort key
};

struct table {
	int num_cols;		// may be narrowed after adding rows, to hide a last column
	int padding;		// spaces after the widest cell of a column
	const char *const *header;	// num_cols names, borrowed
	struct table_row *rows;
	size_t num_rows, cap_rows;
};

// table_init readies t for rows of num_cols cells (1..TABLE_MAX_COLS) under
// header (borrowed: it must outlive t), padding spaces apart.
void table_init(struct table *t, const char *const *header, int num_cols, int padding);

// table_add appends a row of num_cols cells, copied; a NULL cell is empty.
// Control characters in a cell become '?', so a hostile value cannot move
// the terminal's cursor or break the alignment. It returns the row (its
// tags zeroed, for the caller to set) or NULL when out of memory.
struct table_row *table_add(struct table *t, const char *const *cells);

// table_sort orders the rows with cmp (qsort: give a total order).
void table_sort(struct table *t, int (*cmp)(const struct table_row *, const struct table_row *));

// table_render appends the header and the rows to out, one line each,
// without trailing spaces. It returns 0 or -ENOMEM.
int table_render(const struct table *t, struct buf *out);

// table_cleanup frees the rows and leaves t empty.
void table_cleanup(struct table *t);

#endif
