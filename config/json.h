// SPDX-License-Identifier: Apache-2.0
// json.h: strict JSON (RFC 8259) read into the same node tree as yaml.h, so
// code that walks a struct ynode (the Istio model) reads the Kubernetes API's
// JSON responses as it reads YAML files, with JSON's types kept as tags.
#ifndef MG_CONFIG_JSON_H
#define MG_CONFIG_JSON_H

#include <stddef.h>

#include "config/yaml.h"

// json_tree_parse parses len bytes holding exactly one JSON value (with
// optional whitespace around it) into *t as its only document: t->docs[0],
// t->num_docs == 1. Strings become YS_DOUBLE_QUOTED scalars tagged YTAG_STR
// (str NUL-terminated, len counting any \u0000 in it); numbers YS_PLAIN
// scalars tagged YTAG_INT (no fraction or exponent) or YTAG_FLOAT holding
// their literal; true/false YTAG_BOOL, null YTAG_NULL; arrays YN_SEQ and
// objects YN_MAP with pairs in document order. Every node has the line and
// column (in characters, 1-based) of its first character.
//
// It refuses what RFC 8259 does not allow (comments, trailing commas, single
// quotes, leading zeros, NaN, control characters in strings, lone
// surrogates, invalid UTF-8, a BOM) and, as the YAML reader does, duplicate
// keys, nesting deeper than YTREE_MAX_DEPTH and more than YTREE_MAX_NODES
// nodes. It returns 0, -EBADMSG on malformed or refused input (err, which may
// be NULL, says where and why; *t is then empty), -EFBIG when len exceeds
// YTREE_MAX_FILE, or -ENOMEM. *t must be released with yaml_tree_free in
// every case.
int json_tree_parse(struct yaml_tree *t, const char *data, size_t len,
		    struct yaml_error *err);

#endif
