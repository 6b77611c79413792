// SPDX-License-Identifier: Apache-2.0
// json.c: JSON value writers for admin output. Strings are escaped so that
// any bytes, hostile or not, come out as one valid JSON string.
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

size_t json_utf8_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] < 0xc2)		// continuation byte or overlong C0/C1
		return 0;
	if (p[0] < 0xe0) {
		n = 2;
	} else if (p[0] < 0xf0) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	// overlong
		else if (p[0] == 0xed)
			hi = 0x9f;	// UTF-16 surrogates
	} else if (p[0] < 0xf5) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	// overlong
		else if (p[0] == 0xf4)
			hi = 0x8f;	// > U+10FFFF
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	// Only the second byte has a narrowed range; the rest are 80..BF.
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

int json_append_str(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run = 0, n;
	char esc[8];
	const char *e;
	size_t elen;
	unsigned char c;
	int err;

	// Most strings need no escaping: reserve once for the common case.
	if ((err = buf_reserve(out, len + 2)) < 0)
		return err;
	buf_append(out, "\"", 1);
	while (i < len) {
		c = (unsigned char)s[i];
		n = 1;
		e = NULL;
		elen = 2;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		case '<': case '>': case '&':
			goto unicode;
		default:
			if (c < 0x20)
				goto unicode;
			if (c < 0x80)
				break;
			n = json_utf8_len(s + i, len - i);
			if (!n) {
				n = 1;
				e = "\\ufffd";
				elen = 6;
			} else if (n == 3 && c == 0xe2 && (unsigned char)s[i + 1] == 0x80 &&
				   ((unsigned char)s[i + 2] & 0xfe) == 0xa8) {
				e = (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
				elen = 6;
			}
			break;
		unicode:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			e = esc;
			elen = 6;
			break;
		}
		if (e) {
			if ((err = buf_append(out, s + run, i - run)) < 0 ||
			    (err = buf_append(out, e, elen)) < 0)
				return err;
			run = i + n;
		}
		i += n;
	}
	if ((err = buf_append(out, s + run, i - run)) < 0)
		return err;
	return buf_append(out, "\"", 1);
}

int json_append_cstr(struct buf *out, const char *s)
{
	if (!s)
		return json_append_null(out);
	return json_append_str(out, s, strlen(s));
}

int json_append_key(struct buf *out, const char *key)
{
	int err;

	if ((err = json_append_str(out, key, strlen(key))) < 0)
		return err;
	return buf_append(out, ":", 1);
}

int json_append_u64(struct buf *out, uint64_t v)
{
	char tmp[20], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return buf_append(out, p, (size_t)(tmp + sizeof(tmp) - p));
}

int json_append_i64(struct buf *out, int64_t v)
{
	int err;

	if (v >= 0)
		return json_append_u64(out, (uint64_t)v);
	if ((err = buf_append(out, "-", 1)) < 0)
		return err;
	// -(v + 1) + 1 avoids negating INT64_MIN.
	return json_append_u64(out, (uint64_t)-(v + 1) + 1);
}

int json_append_double(struct buf *out, double v)
{
	char tmp[32];
	int n;

	if (!isfinite(v))
		return json_append_null(out);
	n = snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	return buf_append(out, tmp, (size_t)n);
}

int json_append_bool(struct buf *out, int v)
{
	return v ? buf_append(out, "true", 4) : buf_append(out, "false", 5);
}

int json_append_null(struct buf *out)
{
	return buf_append(out, "null", 4);
}
