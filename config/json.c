// SPDX-License-Identifier: Apache-2.0
// json.c: strict JSON into yaml.h's node tree, in one pass and without
// recursion, for the Kubernetes API's responses (several MB of list).
#include "config/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

// An open array or object. Its children wait on the parser's kids stack
// (objects push key, value, key, ...) until it closes, and then go into the
// arena in one array of their final size: no reallocation per element, and
// the stack's memory is reused by every container.
struct jframe {
	struct ynode *node;
	size_t base;		// kids index of its first child
};

struct jparser {
	struct yaml_tree *t;
	struct yaml_error *err;
	const unsigned char *p, *end;
	int line;
	const unsigned char *line_start;
	// Columns count characters, as libyaml's do, so finding one means
	// counting from the line's start; remembering the last one keeps that
	// linear on the single multi-MB line the API server sends.
	const unsigned char *col_ptr;
	int col;
	struct ynode **kids;
	size_t num_kids, cap_kids;
	size_t num_nodes;
	int depth;
	struct jframe frames[YTREE_MAX_DEPTH];
	char found[32];
};

static int col_at(struct jparser *j, const unsigned char *pos)
{
	const unsigned char *q = j->col_ptr;
	int col = j->col;

	if (q < j->line_start || q > pos) {
		q = j->line_start;
		col = 1;
	}
	for (; q < pos; q++)
		col += (*q & 0xc0) != 0x80;
	j->col_ptr = pos;
	j->col = col;
	return col;
}

static int failv(struct jparser *j, int line, int col, const char *fmt, va_list ap)
{
	struct yaml_error *e = j->err;
	int n;

	if (!e || e->msg[0])
		return -EBADMSG;
	e->line = line;
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (col && n >= 0 && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, " at column %d", col);
	return -EBADMSG;
}

// fail refuses the input at pos, on the current line (tokens hold no line
// breaks). It returns -EBADMSG.
static int fail(struct jparser *j, const unsigned char *pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct jparser *j, const unsigned char *pos, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = failv(j, j->line, j->err ? col_at(j, pos) : 0, fmt, ap);
	va_end(ap);
	return r;
}

static int fail_line(struct jparser *j, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_line(struct jparser *j, int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = failv(j, line, 0, fmt, ap);
	va_end(ap);
	return r;
}

// found names what is at pos for an error message.
static const char *found(struct jparser *j, const unsigned char *pos)
{
	if (pos >= j->end)
		return "end of input";
	if (*pos > ' ' && *pos < 0x7f)
		snprintf(j->found, sizeof(j->found), "'%c'", *pos);
	else
		snprintf(j->found, sizeof(j->found), "byte 0x%02x", *pos);
	return j->found;
}

static inline void skip_ws(struct jparser *j)
{
	const unsigned char *p = j->p, *end = j->end;

	while (p < end) {
		if (*p == ' ' || *p == '\t') {
			p++;
		} else if (*p == '\n') {
			j->line++;
			j->line_start = ++p;
		} else if (*p == '\r') {
			if (++p < end && *p == '\n')
				p++;
			j->line++;
			j->line_start = p;
		} else {
			break;
		}
	}
	j->p = p;
}

static int node_new(struct jparser *j, enum ynode_type type, const unsigned char *pos,
		    struct ynode **out)
{
	struct ynode *n;

	if (j->num_nodes >= YTREE_MAX_NODES)
		return fail(j, pos, "more than %d nodes in one file", YTREE_MAX_NODES);
	n = arena_alloc(&j->t->ar, sizeof(*n));
	if (!n)
		return -ENOMEM;
	j->num_nodes++;
	n->type = type;
	n->line = j->line;
	n->col = col_at(j, pos);
	*out = n;
	return 0;
}

static inline int push(struct jparser *j, struct ynode *n)
{
	if (j->num_kids == j->cap_kids) {
		size_t cap = j->cap_kids ? j->cap_kids * 2 : 256;
		struct ynode **k = realloc(j->kids, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		j->kids = k;
		j->cap_kids = cap;
	}
	j->kids[j->num_kids++] = n;
	return 0;
}

// ---- strings ----

// stop[c] is set for the bytes a string scan must look at: its end, an
// escape, a control character (refused) and the start of a multi-byte
// character (validated).
static const uint8_t stop[256] = {
	[0x00 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

// escapable[c] is set for the c that may follow a backslash in a string.
static const uint8_t escapable[256] = {
	['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1, ['r'] = 1,
	['t'] = 1, ['u'] = 1,
};

// utf8_seq returns the length of the well-formed UTF-8 character at s, whose
// first byte is >= 0x80, or 0. RFC 3629's table: no overlong forms, no
// surrogates (ED A0..BF), nothing above U+10FFFF (F4 90.., F5..FF).
static size_t utf8_seq(const unsigned char *s, const unsigned char *end)
{
	size_t n = (size_t)(end - s);
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		return n >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		return n >= 4 && s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 &&
		       (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

static int hex4(const unsigned char *q, const unsigned char *end)
{
	int v = 0;

	if (end - q < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned char c = q[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v << 4 | ((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	return v;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

// unescape decodes the escaped string body [q, end) into buf, which has
// room for end - q bytes (an escape never decodes longer than itself). The
// scan has already checked the character after each '\'. It returns the
// decoded length or -EBADMSG.
static ssize_t unescape(struct jparser *j, const unsigned char *q, const unsigned char *end,
			char *buf)
{
	size_t o = 0;

	while (q < end) {
		const unsigned char *r = q;
		int v, w;

		while (r < end && *r != '\\')
			r++;
		memcpy(buf + o, q, (size_t)(r - q));
		o += (size_t)(r - q);
		if (r == end)
			break;
		q = r + 2;
		switch (r[1]) {
		case '"':  buf[o++] = '"'; continue;
		case '\\': buf[o++] = '\\'; continue;
		case '/':  buf[o++] = '/'; continue;
		case 'b':  buf[o++] = '\b'; continue;
		case 'f':  buf[o++] = '\f'; continue;
		case 'n':  buf[o++] = '\n'; continue;
		case 'r':  buf[o++] = '\r'; continue;
		case 't':  buf[o++] = '\t'; continue;
		}
		// \uXXXX, the only other escape the scan lets through
		if ((v = hex4(q, end)) < 0)
			return fail(j, r, "invalid \\u escape (four hex digits needed)");
		q += 4;
		if (v >= 0xdc00 && v <= 0xdfff)
			return fail(j, r, "lone low surrogate \\u%04x", (unsigned)v);
		if (v >= 0xd800 && v <= 0xdbff) {
			// UTF-16 pair: only a low surrogate may follow
			if (end - q < 2 || q[0] != '\\' || q[1] != 'u' ||
			    (w = hex4(q + 2, end)) < 0xdc00 || w > 0xdfff)
				return fail(j, r, "lone high surrogate \\u%04x", (unsigned)v);
			q += 6;
			v = 0x10000 + ((v - 0xd800) << 10) + (w - 0xdc00);
		}
		o += put_utf8(buf + o, (uint32_t)v);
	}
	return (ssize_t)o;
}

static int parse_string(struct jparser *j, struct ynode **out)
{
	const unsigned char *start = j->p, *s = start + 1, *end = j->end;
	struct ynode *n;
	size_t len;
	int err, esc = 0;

	if ((err = node_new(j, YN_SCALAR, start, &n)) < 0)
		return err;
	n->style = YS_DOUBLE_QUOTED;
	n->tag = YTAG_STR;
	for (;;) {
		size_t k;

		while (s < end && !stop[*s])
			s++;
		if (s == end)
			return fail(j, start, "unterminated string");
		if (*s == '"')
			break;
		if (*s == '\\') {
			if (s + 1 == end)
				return fail(j, start, "unterminated string");
			if (!escapable[s[1]])
				return fail(j, s, "invalid escape: backslash then %s in a string",
					    found(j, s + 1));
			esc = 1;
			s += 2;
			continue;
		}
		if (*s < 0x20)
			return fail(j, s, "control character 0x%02x in a string (escape it)", *s);
		if (!(k = utf8_seq(s, end)))
			return fail(j, s, "invalid UTF-8 (byte 0x%02x) in a string", *s);
		s += k;
	}
	len = (size_t)(s - start - 1);
	if (!esc) {
		n->str = arena_strndup(&j->t->ar, (const char *)start + 1, len);
		if (!n->str)
			return -ENOMEM;
		n->len = len;
	} else {
		char *buf = arena_alloc(&j->t->ar, len + 1);	// zeroed: NUL-terminated
		ssize_t r;

		if (!buf)
			return -ENOMEM;
		if ((r = unescape(j, start + 1, s, buf)) < 0)
			return (int)r;
		n->str = buf;
		n->len = (size_t)r;
	}
	j->p = s + 1;
	*out = n;
	return 0;
}

// ---- numbers and literals ----

static inline int is_digit(const unsigned char *s, const unsigned char *end)
{
	return s < end && *s >= '0' && *s <= '9';
}

// parse_number keeps the literal: the tag says integer or not, and
// yaml_tree_scalar_int/double convert it when asked, so an integer too big
// for int64_t is an -ERANGE then, not a silently rounded double now.
static int parse_number(struct jparser *j, struct ynode **out)
{
	const unsigned char *start = j->p, *s = start, *end = j->end;
	struct ynode *n;
	int err, is_float = 0;

	if (*s == '-')
		s++;
	if (!is_digit(s, end))
		return fail(j, s, "invalid number: expected a digit, found %s", found(j, s));
	if (*s == '0') {
		if (is_digit(++s, end))
			return fail(j, start, "invalid number: leading zeros are not allowed");
	} else {
		while (is_digit(s, end))
			s++;
	}
	if (s < end && *s == '.') {
		is_float = 1;
		if (!is_digit(++s, end))
			return fail(j, s, "invalid number: expected a digit after '.', found %s",
				    found(j, s));
		while (is_digit(s, end))
			s++;
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		is_float = 1;
		if (++s < end && (*s == '+' || *s == '-'))
			s++;
		if (!is_digit(s, end))
			return fail(j, s, "invalid number: expected a digit in the exponent, found %s",
				    found(j, s));
		while (is_digit(s, end))
			s++;
	}
	if ((err = node_new(j, YN_SCALAR, start, &n)) < 0)
		return err;
	n->style = YS_PLAIN;
	n->tag = is_float ? YTAG_FLOAT : YTAG_INT;
	n->len = (size_t)(s - start);
	if (!(n->str = arena_strndup(&j->t->ar, (const char *)start, n->len)))
		return -ENOMEM;
	j->p = s;
	*out = n;
	return 0;
}

static int parse_literal(struct jparser *j, struct ynode **out)
{
	static const struct {
		const char *text;
		size_t len;
		uint8_t tag;
	} lits[] = {
		{ "true", 4, YTAG_BOOL }, { "false", 5, YTAG_BOOL }, { "null", 4, YTAG_NULL },
	};
	const unsigned char *p = j->p;
	size_t i = *p == 't' ? 0 : *p == 'f' ? 1 : 2;
	struct ynode *n;
	int err;

	if ((size_t)(j->end - p) < lits[i].len || memcmp(p, lits[i].text, lits[i].len))
		return fail(j, p, "invalid literal (expected %s)", lits[i].text);
	if ((err = node_new(j, YN_SCALAR, p, &n)) < 0)
		return err;
	n->style = YS_PLAIN;
	n->tag = lits[i].tag;
	n->len = lits[i].len;
	n->str = lits[i].text;	// static: the tree never writes or frees a str
	j->p = p + lits[i].len;
	*out = n;
	return 0;
}

// ---- containers ----

static int key_cmp(const struct ynode *a, const struct ynode *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->str, b->str, a->len);
}

static int key_ref_cmp(const void *pa, const void *pb)
{
	const struct ynode *const *a = pa, *const *b = pb;
	int c = key_cmp(*a, *b);

	if (c)
		return c;
	// same key: document order, so the error names the later one
	return *a == *b ? 0 : (*a)->line < (*b)->line ||
	       ((*a)->line == (*b)->line && (*a)->col < (*b)->col) ? -1 : 1;
}

static int dup_error(struct jparser *j, const struct ynode *first, const struct ynode *again)
{
	char k[65];
	size_t n = again->len < 64 ? again->len : 64;

	// keys may hold anything \u escapes can say; keep the message one line
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)again->str[i];

		k[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	k[n] = '\0';
	return fail_line(j, again->line,
			 "duplicate key \"%s\" at column %d (first at line %d, column %d)",
			 k, again->col, first->line, first->col);
}

// check_dup_keys refuses an object that names a key twice, as the YAML
// reader does: RFC 8259 leaves the meaning open and parsers disagree on
// which value wins.
static int check_dup_keys(struct jparser *j, const struct ynode *map)
{
	const struct ynode **keys;
	size_t n = map->len;

	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t k = 0; k < i; k++)
				if (!key_cmp(map->pairs[i].key, map->pairs[k].key))
					return dup_error(j, map->pairs[k].key, map->pairs[i].key);
		return 0;
	}
	keys = malloc(n * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		keys[i] = map->pairs[i].key;
	qsort(keys, n, sizeof(*keys), key_ref_cmp);
	for (size_t i = 1; i < n; i++) {
		if (!key_cmp(keys[i], keys[i - 1])) {
			int err = dup_error(j, keys[i - 1], keys[i]);

			free(keys);
			return err;
		}
	}
	free(keys);
	return 0;
}

// close_container gives the innermost open container its children.
static int close_container(struct jparser *j, struct ynode **out)
{
	struct jframe *f = &j->frames[--j->depth];
	struct ynode *n = f->node, **kids = j->kids + f->base;
	size_t num = j->num_kids - f->base;
	int err;

	j->num_kids = f->base;
	if (n->type == YN_SEQ) {
		n->len = num;
		// never NULL, as from the YAML reader
		n->items = arena_alloc_array(&j->t->ar, num ? num : 1, sizeof(*n->items));
		if (!n->items)
			return -ENOMEM;
		if (num)
			memcpy(n->items, kids, num * sizeof(*n->items));
	} else {
		n->len = num / 2;
		n->pairs = arena_alloc_array(&j->t->ar, n->len ? n->len : 1, sizeof(*n->pairs));
		if (!n->pairs)
			return -ENOMEM;
		for (size_t i = 0; i < n->len; i++) {
			n->pairs[i].key = kids[2 * i];
			n->pairs[i].value = kids[2 * i + 1];
		}
		if ((err = check_dup_keys(j, n)) < 0)
			return err;
	}
	*out = n;
	return 0;
}

// parse reads one value into *root. It is a loop over three states (a value
// is expected, a key is expected, a value just ended) with the open
// containers in j->frames, so hostile nesting costs a bounded array, not the
// C stack.
static int parse(struct jparser *j, struct ynode **root)
{
	struct ynode *n = NULL;
	struct jframe *f;
	int err, comma = 0;

value:
	skip_ws(j);
	if (j->p == j->end)
		return fail(j, j->p, "expected a value, found end of input");
	switch (*j->p) {
	case '{':
	case '[':
		if (j->depth == YTREE_MAX_DEPTH)
			return fail(j, j->p, "nesting deeper than %d levels", YTREE_MAX_DEPTH);
		if ((err = node_new(j, *j->p == '{' ? YN_MAP : YN_SEQ, j->p, &n)) < 0)
			return err;
		f = &j->frames[j->depth++];
		f->node = n;
		f->base = j->num_kids;
		j->p++;
		comma = 0;
		skip_ws(j);
		if (j->p < j->end && *j->p == (n->type == YN_MAP ? '}' : ']'))
			goto close;
		if (n->type == YN_MAP)
			goto key;
		goto value;
	case '"':
		err = parse_string(j, &n);
		break;
	case '-':
	case '0' ... '9':
		err = parse_number(j, &n);
		break;
	case 't':
	case 'f':
	case 'n':
		err = parse_literal(j, &n);
		break;
	case ']':
		if (comma)
			return fail(j, j->p, "trailing comma before ']'");
		/* fall through */
	default:
		return fail(j, j->p, "expected a value, found %s", found(j, j->p));
	}
	if (err < 0)
		return err;
have_value:
	if (!j->depth) {
		*root = n;
		return 0;
	}
	if ((err = push(j, n)) < 0)
		return err;
	skip_ws(j);
	f = &j->frames[j->depth - 1];
	if (j->p < j->end && *j->p == ',') {
		j->p++;
		comma = 1;
		if (f->node->type == YN_MAP)
			goto key;
		goto value;
	}
	if (f->node->type == YN_MAP) {
		if (j->p < j->end && *j->p == '}')
			goto close;
		return fail(j, j->p, "expected ',' or '}' after an object member, found %s",
			    found(j, j->p));
	}
	if (j->p < j->end && *j->p == ']')
		goto close;
	return fail(j, j->p, "expected ',' or ']' after an array element, found %s",
		    found(j, j->p));
key:
	skip_ws(j);
	if (j->p == j->end || *j->p != '"') {
		if (comma && j->p < j->end && *j->p == '}')
			return fail(j, j->p, "trailing comma before '}'");
		return fail(j, j->p, "expected a string key, found %s", found(j, j->p));
	}
	if ((err = parse_string(j, &n)) < 0 || (err = push(j, n)) < 0)
		return err;
	skip_ws(j);
	if (j->p == j->end || *j->p != ':')
		return fail(j, j->p, "expected ':' after an object key, found %s", found(j, j->p));
	j->p++;
	comma = 0;
	goto value;
close:
	j->p++;
	if ((err = close_container(j, &n)) < 0)
		return err;
	goto have_value;
}

int json_tree_parse(struct yaml_tree *t, const char *data, size_t len,
		    struct yaml_error *err)
{
	struct jparser j;
	struct ynode *root = NULL;
	int ret;

	memset(t, 0, sizeof(*t));
	arena_init(&t->ar);
	if (err) {
		err->line = 0;
		err->msg[0] = '\0';
	}
	if (len > YTREE_MAX_FILE) {
		if (err)
			snprintf(err->msg, sizeof(err->msg), "file larger than %d MiB",
				 YTREE_MAX_FILE >> 20);
		return -EFBIG;
	}
	memset(&j, 0, sizeof(j));
	j.t = t;
	j.err = err;
	j.p = (const unsigned char *)data;
	j.end = j.p + len;
	j.line = 1;
	j.line_start = j.col_ptr = j.p;
	j.col = 1;
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
		// RFC 8259 8.1: senders must not add one; Go's encoding/json,
		// which the API server speaks, refuses it too
		ret = fail(&j, j.p, "byte order mark before the JSON value");
		goto out;
	}
	if ((ret = parse(&j, &root)) < 0)
		goto out;
	skip_ws(&j);
	if (j.p != j.end) {
		ret = fail(&j, j.p, "unexpected %s after the JSON value", found(&j, j.p));
		goto out;
	}
	t->docs = arena_alloc(&t->ar, sizeof(*t->docs));
	if (!t->docs) {
		ret = -ENOMEM;
		goto out;
	}
	t->docs[0] = root;
	t->num_docs = 1;
out:
	free(j.kids);
	if (ret < 0)
		yaml_tree_free(t);
	return ret;
}
