// SPDX-License-Identifier: Apache-2.0
// json.h: appending JSON values to a struct buf (the admin API's
// /config_dump and friends). Writing only; parsing lives elsewhere.
#ifndef MG_CORE_JSON_H
#define MG_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>

struct buf;

// json_append_str appends s[0..len) as a quoted JSON string. s need not be
// NUL-terminated and may contain NULs. '"', '\\' and control characters are
// escaped; so are '<', '>', '&', U+2028 and U+2029 (as Go's encoding/json
// does), so the output can be embedded in HTML and JavaScript. Each byte that
// is not part of valid UTF-8 becomes \ufffd, so the output is always valid
// JSON. It returns 0 or -ENOMEM.
int json_append_str(struct buf *out, const char *s, size_t len);

// json_append_cstr is json_append_str for a NUL-terminated s; NULL appends
// null. It returns 0 or -ENOMEM.
int json_append_cstr(struct buf *out, const char *s);

// json_append_key appends `"key":` (key escaped as by json_append_str). It
// returns 0 or -ENOMEM.
int json_append_key(struct buf *out, const char *key);

// json_append_u64 and json_append_i64 append a decimal number. They return
// 0 or -ENOMEM.
int json_append_u64(struct buf *out, uint64_t v);
int json_append_i64(struct buf *out, int64_t v);

// json_append_double appends the shortest of %.15g/%.17g that reads back as
// v; NaN and infinities, which JSON cannot express, append null. It returns
// 0 or -ENOMEM.
int json_append_double(struct buf *out, double v);

// json_append_bool appends true or false. It returns 0 or -ENOMEM.
int json_append_bool(struct buf *out, int v);

// json_append_null appends null. It returns 0 or -ENOMEM.
int json_append_null(struct buf *out);

// json_utf8_len returns the length (1 to 4) of the well-formed UTF-8
// sequence at s[0..len), or 0 if s does not start with one (stray
// continuation byte, overlong form, surrogate, > U+10FFFF, truncated).
// len must be > 0. Telemetry uses it to keep its text output valid UTF-8.
size_t json_utf8_len(const char *s, size_t len);

#endif
