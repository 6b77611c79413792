// SPDX-License-Identifier: Apache-2.0
// yaml.c: libyaml events folded into a struct ynode tree, refusing what configs
// never need but attackers like: aliases, merge keys, deep nesting, dup keys.
#include "config/yaml.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY	// XXH3_state_t on the stack
#include <xxhash.h>
#include <yaml.h>

struct frame {
	struct ynode *node;	// container being built; NULL for the document
	struct ynode **kids;	// children so far (map: key, value, key, ...)
	size_t num, cap;
};

struct builder {
	struct yaml_tree *t;
	struct yaml_error *err;
	const char *data;
	size_t data_len;
	// frames[0] is the document level; frames[d] the d-th open container.
	struct frame frames[YTREE_MAX_DEPTH + 1];
	int depth;		// frames in use; 0 outside a document
	size_t num_nodes;
	size_t docs_cap;
	size_t doc_start;	// mark index where the current document began
	int refused;		// fail() was called: the input, not memory, is bad
};

static int fail(struct builder *b, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct builder *b, int line, const char *fmt, ...)
{
	va_list ap;

	b->refused = 1;
	if (b->err && !b->err->msg[0]) {
		b->err->line = line;
		va_start(ap, fmt);
		vsnprintf(b->err->msg, sizeof(b->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static int mark_line(const yaml_mark_t *m)
{
	return m->line >= INT_MAX ? INT_MAX : (int)m->line + 1;
}

// line_at counts lines up to a byte offset, for errors libyaml reports
// without a mark (the reader's encoding errors).
static int line_at(const struct builder *b, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && i < b->data_len; i++)
		if (b->data[i] == '\n' && line < INT_MAX)
			line++;
	return line;
}

static int parse_tag(struct builder *b, const yaml_char_t *tag, int scalar,
		     const yaml_mark_t *m, uint8_t *out)
{
	const char *s = (const char *)tag;

	*out = YTAG_NONE;
	if (!s)
		return 0;
	if (!strcmp(s, "tag:yaml.org,2002:str") || (scalar && !strcmp(s, "!"))) {
		if (!scalar)
			goto bad;
		*out = YTAG_STR;
		return 0;
	}
	if (!strcmp(s, "!"))
		return 0;
	if (!strcmp(s, "tag:yaml.org,2002:seq") && !scalar) {
		*out = YTAG_SEQ;
		return 0;
	}
	if (!strcmp(s, "tag:yaml.org,2002:map") && !scalar) {
		*out = YTAG_MAP;
		return 0;
	}
bad:
	return fail(b, mark_line(m), "unsupported tag %.64s", s);
}

static struct ynode *node_new(struct builder *b, enum ynode_type type,
			      const yaml_mark_t *m)
{
	struct ynode *n;

	if (b->num_nodes >= YTREE_MAX_NODES) {
		fail(b, mark_line(m), "more than %d nodes in one file", YTREE_MAX_NODES);
		return NULL;
	}
	n = arena_alloc(&b->t->ar, sizeof(*n));
	if (!n)
		return NULL;
	b->num_nodes++;
	n->type = type;
	n->line = mark_line(m);
	n->col = m->column >= INT_MAX ? INT_MAX : (int)m->column + 1;
	return n;
}

// in_key_position reports whether the next child of the innermost open
// container is a mapping key.
static int in_key_position(const struct builder *b)
{
	const struct frame *f = &b->frames[b->depth - 1];

	return f->node && f->node->type == YN_MAP && f->num % 2 == 0;
}

static int add_child(struct builder *b, struct ynode *n)
{
	struct frame *f = &b->frames[b->depth - 1];

	if (in_key_position(b)) {
		if (n->type != YN_SCALAR)
			return fail(b, n->line, "mapping keys must be scalars");
		if (n->style == YS_PLAIN && n->tag == YTAG_NONE && !strcmp(n->str, "<<"))
			return fail(b, n->line, "merge keys (<<) are not supported");
	}
	if (!f->node && f->num)
		return fail(b, n->line, "more than one root node in a document");
	if (f->num == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		struct ynode **k = realloc(f->kids, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		f->kids = k;
		f->cap = cap;
	}
	f->kids[f->num++] = n;
	return 0;
}

static int key_cmp(const struct ynode *a, const struct ynode *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return memcmp(a->str, b->str, a->len);
}

struct key_ref {
	const struct ynode *key;
	size_t idx;
};

static int key_ref_cmp(const void *pa, const void *pb)
{
	const struct key_ref *a = pa, *b = pb;
	int c = key_cmp(a->key, b->key);

	if (c)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static int dup_error(struct builder *b, const struct ynode *first, const struct ynode *again)
{
	return fail(b, again->line, "duplicate key \"%.64s\" (first at line %d)",
		    again->str, first->line);
}

// check_dup_keys refuses a mapping that names a key twice: YAML says it is
// an error, go-yaml and libyaml disagree on which value wins, and a config
// whose meaning depends on that is a bug or an attack.
static int check_dup_keys(struct builder *b, const struct ynode *map)
{
	struct key_ref *refs;
	size_t n = map->len;

	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (!key_cmp(map->pairs[i].key, map->pairs[j].key))
					return dup_error(b, map->pairs[j].key, map->pairs[i].key);
		return 0;
	}
	refs = malloc(n * sizeof(*refs));
	if (!refs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		refs[i].key = map->pairs[i].key;
		refs[i].idx = i;
	}
	qsort(refs, n, sizeof(*refs), key_ref_cmp);
	for (size_t i = 1; i < n; i++) {
		if (!key_cmp(refs[i].key, refs[i - 1].key)) {
			int err = dup_error(b, refs[i - 1].key, refs[i].key);

			free(refs);
			return err;
		}
	}
	free(refs);
	return 0;
}

static int open_container(struct builder *b, enum ynode_type type,
			  const yaml_char_t *anchor, const yaml_char_t *tag,
			  const yaml_mark_t *m)
{
	struct ynode *n;
	struct frame *f;
	uint8_t t;
	int err;

	if (anchor)
		return fail(b, mark_line(m), "anchors (&%.64s) are not supported", anchor);
	if ((err = parse_tag(b, tag, 0, m, &t)) < 0)
		return err;
	if ((t == YTAG_SEQ && type != YN_SEQ) || (t == YTAG_MAP && type != YN_MAP))
		return fail(b, mark_line(m), "tag does not match the node");
	if (in_key_position(b))
		return fail(b, mark_line(m), "mapping keys must be scalars");
	if (b->depth > YTREE_MAX_DEPTH)
		return fail(b, mark_line(m), "nesting deeper than %d levels", YTREE_MAX_DEPTH);
	n = node_new(b, type, m);
	if (!n)
		return b->refused ? -EBADMSG : -ENOMEM;
	n->tag = t;
	f = &b->frames[b->depth++];
	f->node = n;
	f->num = 0;
	return 0;
}

static int close_container(struct builder *b)
{
	struct frame *f = &b->frames[b->depth - 1];
	struct ynode *n = f->node;
	int err;

	if (n->type == YN_SEQ) {
		n->len = f->num;
		n->items = arena_alloc_array(&b->t->ar, f->num ? f->num : 1, sizeof(*n->items));
		if (!n->items)
			return -ENOMEM;
		if (f->num)
			memcpy(n->items, f->kids, f->num * sizeof(*n->items));
	} else {
		n->len = f->num / 2;
		n->pairs = arena_alloc_array(&b->t->ar, n->len ? n->len : 1, sizeof(*n->pairs));
		if (!n->pairs)
			return -ENOMEM;
		for (size_t i = 0; i < n->len; i++) {
			n->pairs[i].key = f->kids[2 * i];
			n->pairs[i].value = f->kids[2 * i + 1];
		}
		if ((err = check_dup_keys(b, n)) < 0)
			return err;
	}
	f->node = NULL;
	f->num = 0;
	b->depth--;
	return add_child(b, n);
}

static int add_scalar(struct builder *b, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	struct ynode *n;
	uint8_t tag;
	int err;

	if (ev->data.scalar.anchor)
		return fail(b, mark_line(m), "anchors (&%.64s) are not supported",
			    ev->data.scalar.anchor);
	if ((err = parse_tag(b, ev->data.scalar.tag, 1, m, &tag)) < 0)
		return err;
	n = node_new(b, YN_SCALAR, m);
	if (!n)
		return b->refused ? -EBADMSG : -ENOMEM;
	n->tag = tag;
	switch (ev->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		n->style = YS_SINGLE_QUOTED;
		break;
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		n->style = YS_DOUBLE_QUOTED;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
		n->style = YS_LITERAL;
		break;
	case YAML_FOLDED_SCALAR_STYLE:
		n->style = YS_FOLDED;
		break;
	default:
		n->style = YS_PLAIN;
		break;
	}
	n->len = ev->data.scalar.length;
	n->str = arena_strndup(&b->t->ar, (const char *)ev->data.scalar.value, n->len);
	if (!n->str)
		return -ENOMEM;
	return add_child(b, n);
}

static int end_document(struct builder *b)
{
	struct yaml_tree *t = b->t;
	struct frame *f = &b->frames[0];

	if ((size_t)t->num_docs == b->docs_cap) {
		size_t cap = b->docs_cap ? b->docs_cap * 2 : 8;
		struct ynode **d = arena_alloc_array(&t->ar, cap, sizeof(*d));

		if (!d)
			return -ENOMEM;
		if (t->num_docs)
			memcpy(d, t->docs, t->num_docs * sizeof(*d));
		t->docs = d;
		b->docs_cap = cap;
	}
	t->docs[t->num_docs++] = f->num ? f->kids[0] : NULL;
	f->num = 0;
	b->depth = 0;
	return 0;
}

static int parser_error(struct builder *b, const yaml_parser_t *p)
{
	int line;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (p->error == YAML_READER_ERROR)
		line = line_at(b, p->problem_offset);
	else
		line = mark_line(&p->problem_mark);
	if (p->context)
		return fail(b, line, "%s (%s at line %d)",
			    p->problem ? p->problem : "syntax error",
			    p->context, mark_line(&p->context_mark));
	return fail(b, line, "%s", p->problem ? p->problem : "syntax error");
}

static int handle_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_STREAM_END_EVENT:
	case YAML_NO_EVENT:
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		b->doc_start = ev->start_mark.index;
		b->depth = 1;
		b->frames[0].node = NULL;
		b->frames[0].num = 0;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return end_document(b);
	case YAML_ALIAS_EVENT:
		return fail(b, mark_line(&ev->start_mark),
			    "aliases (*%.64s) are not supported", ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		return add_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return open_container(b, YN_SEQ, ev->data.sequence_start.anchor,
				      ev->data.sequence_start.tag, &ev->start_mark);
	case YAML_MAPPING_START_EVENT:
		return open_container(b, YN_MAP, ev->data.mapping_start.anchor,
				      ev->data.mapping_start.tag, &ev->start_mark);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return close_container(b);
	}
	return 0;
}

// parse_once runs libyaml over data. When libyaml stops at a plain scalar
// with a ':' before a flow indicator (see quote_flow_scalar), *fix_line and
// *fix_col (0-based) point at that scalar.
static int parse_once(struct yaml_tree *t, const char *data, size_t len,
		      struct yaml_error *err, size_t *fix_line, size_t *fix_col)
{
	struct builder b;
	yaml_parser_t p;
	yaml_event_t ev;
	int ret = 0, done = 0;

	memset(t, 0, sizeof(*t));
	arena_init(&t->ar);
	if (err) {
		err->line = 0;
		err->msg[0] = '\0';
	}
	memset(&b, 0, sizeof(b));
	b.t = t;
	b.err = err;
	b.data = data;
	b.data_len = len;
	if (!yaml_parser_initialize(&p))
		return -ENOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)data, len);
	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_SCANNER_ERROR && p.problem && p.context &&
			    !strcmp(p.problem, "found unexpected ':'") &&
			    !strcmp(p.context, "while scanning a plain scalar")) {
				*fix_line = p.context_mark.line;
				*fix_col = p.context_mark.column;
			}
			ret = parser_error(&b, &p);
			break;
		}
		if (ev.type != YAML_STREAM_START_EVENT && b.depth &&
		    ev.end_mark.index - b.doc_start > YTREE_MAX_DOC) {
			ret = fail(&b, mark_line(&ev.start_mark),
				   "document larger than %d MiB", YTREE_MAX_DOC >> 20);
			yaml_event_delete(&ev);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		ret = handle_event(&b, &ev);
		yaml_event_delete(&ev);
		if (ret < 0)
			break;
	}
	yaml_parser_delete(&p);
	for (int i = 0; i <= YTREE_MAX_DEPTH; i++)
		free(b.frames[i].kids);
	if (ret < 0)
		yaml_tree_free(t);
	return ret;
}

// byte_offset turns libyaml's (line, column), counted in characters, into
// a byte offset in UTF-8 data, or SIZE_MAX.
static size_t byte_offset(const char *data, size_t len, size_t line, size_t col)
{
	size_t i = 0;

	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		i = 3;
	while (line && i < len) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\r') {
			i += (i + 1 < len && data[i + 1] == '\n') ? 2 : 1;
			line--;
		} else if (c == '\n') {
			i++;
			line--;
		} else if (c == 0xc2 && i + 1 < len && (unsigned char)data[i + 1] == 0x85) {
			i += 2;
			line--;
		} else if (c == 0xe2 && i + 2 < len && (unsigned char)data[i + 1] == 0x80 &&
			   ((unsigned char)data[i + 2] == 0xa8 || (unsigned char)data[i + 2] == 0xa9)) {
			i += 3;
			line--;
		} else {
			i++;
		}
	}
	while (col && i < len) {
		i++;
		while (i < len && ((unsigned char)data[i] & 0xc0) == 0x80)
			i++;
		col--;
	}
	return (line || col) ? SIZE_MAX : i;
}

// quote_flow_scalar works around libyaml 0.2.5 refusing a plain scalar in
// a flow collection when a ':' precedes a flow indicator, as in
// `addresses: [1.2.3.4, 2001:db8::]`. YAML 1.2 and go-yaml (so Kubernetes)
// take "2001:db8::" as the scalar. We single-quote it, which keeps its
// value, its line and its meaning (a plain scalar with ':' resolves to a
// string). It returns a new buffer, or NULL when the scalar is not one we
// can safely quote (then libyaml's error stands).
static char *quote_flow_scalar(const char *data, size_t len, size_t off, size_t *out_len)
{
	size_t end = off, quotes = 0, o = 0;
	char *buf;

	if (off >= len)
		return NULL;
	for (; end < len; end++) {
		char c = data[end];

		if (c == '\n' || c == '\r')
			return NULL;	// multi-line plain scalars: leave to the user
		if (c == ',' || c == '[' || c == ']' || c == '{' || c == '}')
			break;
		if (c == ':' && end + 1 < len && (data[end + 1] == ' ' || data[end + 1] == '\t'))
			break;
		if ((c == ' ' || c == '\t') && end + 1 < len && data[end + 1] == '#')
			break;
		if (c == '\'')
			quotes++;
	}
	if (end == len)
		return NULL;
	while (end > off && (data[end - 1] == ' ' || data[end - 1] == '\t'))
		end--;
	if (end == off || len > SIZE_MAX - quotes - 3)
		return NULL;
	buf = malloc(len + quotes + 3);
	if (!buf)
		return NULL;
	memcpy(buf, data, off);
	o = off;
	buf[o++] = '\'';
	for (size_t i = off; i < end; i++) {
		if (data[i] == '\'')
			buf[o++] = '\'';
		buf[o++] = data[i];
	}
	buf[o++] = '\'';
	memcpy(buf + o, data + end, len - end);
	o += len - end;
	buf[o] = '\0';
	*out_len = o;
	return buf;
}

int yaml_tree_parse(struct yaml_tree *t, const char *data, size_t len,
		    struct yaml_error *err)
{
	char *fixed = NULL, *next;
	size_t flen = len, line, col, off;
	int ret;

	memset(t, 0, sizeof(*t));
	arena_init(&t->ar);
	if (len > YTREE_MAX_FILE) {
		if (err) {
			err->line = 0;
			snprintf(err->msg, sizeof(err->msg), "file larger than %d MiB",
				 YTREE_MAX_FILE >> 20);
		}
		return -EFBIG;
	}
	// A bounded number of rewrites: each costs a full parse.
	for (int tries = 0;; tries++) {
		line = col = SIZE_MAX;
		ret = parse_once(t, fixed ? fixed : data, flen, err, &line, &col);
		if (ret != -EBADMSG || line == SIZE_MAX || tries == 16)
			break;
		if (len >= 2 && ((unsigned char)data[0] == 0xfe || (unsigned char)data[0] == 0xff))
			break;	// UTF-16: offsets are not bytes
		off = byte_offset(fixed ? fixed : data, flen, line, col);
		if (off == SIZE_MAX)
			break;
		next = quote_flow_scalar(fixed ? fixed : data, flen, off, &flen);
		if (!next)
			break;
		free(fixed);
		fixed = next;
	}
	// Node strings live in the arena, so the rewritten input can go.
	free(fixed);
	return ret;
}

void yaml_tree_free(struct yaml_tree *t)
{
	arena_cleanup(&t->ar);
	t->docs = NULL;
	t->num_docs = 0;
}

const struct ynode *yaml_tree_map_get(const struct ynode *map, const char *key)
{
	size_t klen = strlen(key);

	if (!map || map->type != YN_MAP)
		return NULL;
	for (size_t i = 0; i < map->len; i++) {
		const struct ynode *k = map->pairs[i].key;

		if (k->len == klen && !memcmp(k->str, key, klen))
			return map->pairs[i].value;
	}
	return NULL;
}

static int is_one_of(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return 1;
	return 0;
}

enum { WORD_MAX = 5 };	// the longest word below ("false", "+.inf")

static const char *const null_words[] = { "~", "null", "Null", "NULL", NULL };
static const char *const true_words[] = {
	"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL
};
static const char *const false_words[] = {
	"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", NULL
};
static const char *const inf_nan_words[] = {
	".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
	".nan", ".NaN", ".NAN", NULL
};

// strip_underscores copies s without '_' into buf (YAML 1.1 digit grouping).
// It returns the new length, or -1 when it does not fit.
static int strip_underscores(const char *s, size_t len, char *buf, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_')
			continue;
		if (o + 1 >= cap)
			return -1;
		buf[o++] = s[i];
	}
	buf[o] = '\0';
	return (int)o;
}

static int digits_ok(const char *s, int base)
{
	if (!*s)
		return 0;
	for (; *s; s++) {
		int c = *s, v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return 0;
		if (v >= base)
			return 0;
	}
	return 1;
}

// int_syntax checks buf (underscores removed) for a YAML 1.1 integer as
// go-yaml reads it: [+-] then 0x.., 0o.., 0b.., 0[0-7]* or [1-9][0-9]*.
// It returns the base and sets *digits, or 0 when buf is no integer.
static int int_syntax(const char *buf, const char **digits, int *neg)
{
	const char *s = buf;

	*neg = 0;
	if (*s == '+' || *s == '-')
		*neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		*digits = s + 2;
		return digits_ok(s + 2, 16) ? 16 : 0;
	}
	if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		*digits = s + 2;
		return digits_ok(s + 2, 8) ? 8 : 0;
	}
	if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		*digits = s + 2;
		return digits_ok(s + 2, 2) ? 2 : 0;
	}
	*digits = s;
	if (s[0] == '0')
		return digits_ok(s, 8) ? 8 : 0;
	return digits_ok(s, 10) ? 10 : 0;
}

// float_syntax matches go-yaml's ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
static int float_syntax(const char *s)
{
	int n = 0;

	if (*s == '+' || *s == '-')
		s++;
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9')
			s++, n++;
		if (!n)
			return 0;
	} else {
		while (*s >= '0' && *s <= '9')
			s++, n++;
		if (!n)
			return 0;
		if (*s == '.') {
			s++;
			while (*s >= '0' && *s <= '9')
				s++;
		}
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		n = 0;
		if (*s == '+' || *s == '-')
			s++;
		while (*s >= '0' && *s <= '9')
			s++, n++;
		if (!n)
			return 0;
	}
	return *s == '\0';
}

enum yscalar_kind yaml_tree_scalar_kind(const struct ynode *n)
{
	char buf[128];
	const char *digits;
	int neg;

	if (!n || n->type != YN_SCALAR)
		return YK_STR;
	switch (n->tag) {
	case YTAG_STR:
		return YK_STR;
	case YTAG_NULL:
		return YK_NULL;
	case YTAG_BOOL:
		return YK_BOOL;
	case YTAG_INT:
		return YK_INT;
	case YTAG_FLOAT:
		return YK_FLOAT;
	}
	if (n->style != YS_PLAIN)
		return YK_STR;
	// every null, bool, inf and nan word is at most WORD_MAX bytes: longer
	// scalars (host names, addresses) skip the lists
	if (n->len == 0 || (n->len <= WORD_MAX && is_one_of(n->str, null_words)))
		return YK_NULL;
	if (n->len <= WORD_MAX &&
	    (is_one_of(n->str, true_words) || is_one_of(n->str, false_words)))
		return YK_BOOL;
	if (n->len >= sizeof(buf) || strlen(n->str) != n->len)
		return YK_STR;
	if (strip_underscores(n->str, n->len, buf, sizeof(buf)) < 0)
		return YK_STR;
	if (int_syntax(buf, &digits, &neg))
		return YK_INT;
	if (float_syntax(buf) || (n->len <= WORD_MAX && is_one_of(n->str, inf_nan_words)))
		return YK_FLOAT;
	return YK_STR;
}

int yaml_tree_is_null(const struct ynode *n)
{
	return !n || (n->type == YN_SCALAR && yaml_tree_scalar_kind(n) == YK_NULL);
}

// decimal_int reads a YTAG_INT literal: -?[0-9]+ of any length (JSON puts no
// bound on it, unlike the 128 bytes a plain YAML integer may have).
static int decimal_int(const char *s, size_t len, int *neg, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;
	int over = 0;

	*neg = len && s[0] == '-';
	i = (size_t)*neg;
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';

		if (d > 9)
			return -EINVAL;
		if (v > (ULLONG_MAX - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	*out = v;
	return over ? -ERANGE : 0;
}

int yaml_tree_scalar_int(const struct ynode *n, int64_t *out)
{
	char buf[128];
	const char *digits;
	unsigned long long v = 0;
	int base, neg, err;

	if (yaml_tree_scalar_kind(n) != YK_INT)
		return -EINVAL;
	if (n->tag == YTAG_INT) {
		if ((err = decimal_int(n->str, n->len, &neg, &v)) < 0)
			return err;
		goto sign;
	}
	strip_underscores(n->str, n->len, buf, sizeof(buf));
	base = int_syntax(buf, &digits, &neg);
	for (const char *s = digits; *s; s++) {
		int c = *s;
		unsigned d = c <= '9' ? (unsigned)(c - '0') :
			     (unsigned)((c | 0x20) - 'a' + 10);

		if (v > (ULLONG_MAX - d) / (unsigned)base)
			return -ERANGE;
		v = v * (unsigned)base + d;
	}
sign:
	if (neg) {
		if (v > (unsigned long long)INT64_MAX + 1)
			return -ERANGE;
		*out = v == (unsigned long long)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > INT64_MAX)
			return -ERANGE;
		*out = (int64_t)v;
	}
	return 0;
}

int yaml_tree_scalar_bool(const struct ynode *n, int *out)
{
	if (yaml_tree_scalar_kind(n) != YK_BOOL)
		return -EINVAL;
	*out = is_one_of(n->str, true_words);
	return 0;
}

// literal_double reads a typed number's literal whole. JSON's number syntax
// is a subset of strtod's; the check on the end refuses a literal with a NUL
// or junk that a hand-built node might carry.
static int literal_double(const struct ynode *n, double *out)
{
	char *end;
	double d;

	if (!n->len)
		return -EINVAL;
	d = strtod(n->str, &end);
	if (end != n->str + n->len)
		return -EINVAL;
	*out = d;
	return 0;
}

int yaml_tree_scalar_double(const struct ynode *n, double *out)
{
	char buf[128];
	int64_t i;
	int err;

	switch (yaml_tree_scalar_kind(n)) {
	case YK_INT:
		err = yaml_tree_scalar_int(n, &i);
		if (err == -ERANGE && n->tag == YTAG_INT)
			return literal_double(n, out);	// JSON: 1e20 written out
		if (err < 0)
			return -EINVAL;
		*out = (double)i;
		return 0;
	case YK_FLOAT:
		break;
	default:
		return -EINVAL;
	}
	if (n->tag == YTAG_FLOAT)
		return literal_double(n, out);
	if (is_one_of(n->str, inf_nan_words)) {
		if (strstr(n->str, "inf") || strstr(n->str, "Inf") || strstr(n->str, "INF"))
			*out = n->str[0] == '-' ? -INFINITY : INFINITY;
		else
			*out = NAN;
		return 0;
	}
	strip_underscores(n->str, n->len, buf, sizeof(buf));
	*out = strtod(buf, NULL);
	return 0;
}

// ---- content hashes ----

static void hash_node(XXH3_state_t *st, const struct ynode *n, const struct ynode *skip, int depth)
{
	uint8_t head[2];
	uint64_t len;

	if (!n) {
		XXH3_64bits_update(st, "\0\0", 2);
		return;
	}
	head[0] = n->type;
	head[1] = n->tag;
	XXH3_64bits_update(st, head, sizeof(head));
	if (depth > YTREE_MAX_DEPTH)
		return;		// the parser refuses deeper trees: never reached
	switch (n->type) {
	case YN_SCALAR:
		len = n->len;
		XXH3_64bits_update(st, &len, sizeof(len));
		XXH3_64bits_update(st, n->str, n->len);
		break;
	case YN_SEQ:
		len = n->len;
		XXH3_64bits_update(st, &len, sizeof(len));
		for (size_t i = 0; i < n->len; i++)
			hash_node(st, n->items[i], skip, depth + 1);
		break;
	case YN_MAP:
		len = n->len;
		for (size_t i = 0; i < n->len; i++)
			len -= n->pairs[i].value == skip && skip;
		XXH3_64bits_update(st, &len, sizeof(len));
		for (size_t i = 0; i < n->len; i++) {
			if (skip && n->pairs[i].value == skip)
				continue;
			hash_node(st, n->pairs[i].key, skip, depth + 1);
			hash_node(st, n->pairs[i].value, skip, depth + 1);
		}
		break;
	}
}

uint64_t ynode_hash(const struct ynode *n, const struct ynode *skip)
{
	XXH3_state_t st;

	XXH3_INITSTATE(&st);
	XXH3_64bits_reset(&st);
	hash_node(&st, n, skip, 0);
	return XXH3_64bits_digest(&st);
}
