// SPDX-License-Identifier: Apache-2.0
// yaml.h: YAML (and so JSON) read through libyaml's event parser into a small
// node tree: scalars, sequences and mappings, each with its line. Hostile
// input is refused, not expanded: anchors/aliases (alias bombs), merge keys,
// deep nesting, duplicate keys, oversized documents and files. json.h reads
// strict JSON (the Kubernetes API's) into the same tree.
#ifndef MG_CONFIG_YAML_H
#define MG_CONFIG_YAML_H

#include <stddef.h>
#include <stdint.h>

#include "config/arena.h"

enum {
	YTREE_MAX_DEPTH = 64,			// nested sequences/mappings
	YTREE_MAX_DOC = 8 * 1024 * 1024,	// bytes per document
	YTREE_MAX_FILE = 32 * 1024 * 1024,	// bytes per stream (file)
	YTREE_MAX_NODES = 2 * 1024 * 1024,	// nodes per stream: bounds memory
};

enum ynode_type {
	YN_SCALAR = 1,
	YN_SEQ,
	YN_MAP,
};

enum ynode_style {
	YS_PLAIN = 0,		// resolved by YAML 1.1 rules (see yaml_tree_scalar_kind)
	YS_SINGLE_QUOTED,
	YS_DOUBLE_QUOTED,
	YS_LITERAL,		// |
	YS_FOLDED,		// >
};

// Explicit tags we accept. Anything else ("!foo", "!!binary", ...) is an error.
// The typed scalar tags are never read from YAML: the JSON reader (json.h)
// sets them so that a JSON value keeps the type its syntax gave it instead of
// going through YAML 1.1 resolution again.
enum ynode_tag {
	YTAG_NONE = 0,
	YTAG_STR,		// !!str: the scalar is a string whatever it looks like
	YTAG_SEQ,
	YTAG_MAP,
	YTAG_NULL,		// JSON null; str is "null"
	YTAG_BOOL,		// JSON true/false; str is "true" or "false"
	YTAG_INT,		// JSON number without fraction or exponent; str is its literal
	YTAG_FLOAT,		// JSON number with a fraction or exponent; str is its literal
};

// What a scalar means once YAML 1.1 resolution (as Kubernetes' go-yaml does
// it) is applied: a plain `on` is a boolean, a quoted "on" a string.
enum yscalar_kind {
	YK_STR = 0,
	YK_NULL,
	YK_BOOL,
	YK_INT,
	YK_FLOAT,
};

struct ypair;

struct ynode {
	uint8_t type;		// enum ynode_type
	uint8_t style;		// enum ynode_style (scalars)
	uint8_t tag;		// enum ynode_tag
	int line;		// 1-based line of the node's first character
	int col;		// 1-based column
	size_t len;		// scalar: bytes in str; seq: items; map: pairs
	union {
		const char *str;	// scalar value, NUL-terminated (may hold NULs)
		struct ynode **items;	// sequence
		struct ypair *pairs;	// mapping, in document order
	};
};

struct ypair {
	struct ynode *key;	// always a scalar
	struct ynode *value;
};

struct yaml_tree {
	struct ynode **docs;	// one root per document ("---"), in order
	int num_docs;
	struct arena ar;	// owns every node and string
};

struct yaml_error {
	int line;		// 1-based, 0 when not tied to a line
	char msg[256];
};

// yaml_tree_parse parses len bytes of YAML (a stream of documents) into *t.
// It returns 0, -EBADMSG on malformed or refused input (err says where and
// why; *t is then empty), -EFBIG when len exceeds YTREE_MAX_FILE, or -ENOMEM.
// *t must be released with yaml_tree_free in every case.
int yaml_tree_parse(struct yaml_tree *t, const char *data, size_t len,
		    struct yaml_error *err);

// yaml_tree_free frees what *t owns and leaves it empty.
void yaml_tree_free(struct yaml_tree *t);

// yaml_tree_map_get returns the value for key in mapping map, or NULL when
// map is not a mapping or has no such key. The node is owned by the tree.
const struct ynode *yaml_tree_map_get(const struct ynode *map, const char *key);

// yaml_tree_scalar_kind resolves a scalar: a typed tag decides (YTAG_STR is
// YK_STR, YTAG_NULL YK_NULL, YTAG_BOOL YK_BOOL, YTAG_INT YK_INT, YTAG_FLOAT
// YK_FLOAT); otherwise quoted and block scalars are strings and plain ones
// follow YAML 1.1 (null ~, y/yes/on/true..., ints in decimal/0x/0o/0b with _,
// floats, .inf, .nan). Non-scalars give YK_STR.
enum yscalar_kind yaml_tree_scalar_kind(const struct ynode *n);

// yaml_tree_is_null reports whether n is absent (NULL) or a null scalar.
int yaml_tree_is_null(const struct ynode *n);

// yaml_tree_scalar_int converts an YK_INT scalar (a YTAG_INT one is read as
// a decimal literal, "-0" included). It returns 0, -ERANGE when the value
// does not fit an int64_t, or -EINVAL when n is not an integer.
int yaml_tree_scalar_int(const struct ynode *n, int64_t *out);

// yaml_tree_scalar_bool converts an YK_BOOL scalar. It returns 0 or -EINVAL.
int yaml_tree_scalar_bool(const struct ynode *n, int *out);

// yaml_tree_scalar_double converts an YK_INT or YK_FLOAT scalar (a YTAG_FLOAT
// one, or a YTAG_INT one too big for an int64_t, with strtod on its literal;
// an exponent too big gives +-HUGE_VAL as it does for YAML). It returns 0 or
// -EINVAL.
int yaml_tree_scalar_double(const struct ynode *n, double *out);

// ynode_hash is XXH3 of n's content: types, tags, scalar bytes, keys and
// values in document order; lines, columns and quoting style do not count,
// so the same value written elsewhere hashes the same. The node skip (may
// be NULL) and what it holds are left out, as if absent from its mapping.
uint64_t ynode_hash(const struct ynode *n, const struct ynode *skip);

#endif
