// SPDX-License-Identifier: Apache-2.0
// grpc.c: gRPC wire conventions over HTTP/2 (length-prefixed messages,
// status, timeouts, grpc-message escaping), byte-exact with grpc-go.
#include "grpc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/bug.h"

static const char *const status_names[GRPC_NUM_STATUS] = {
	[GRPC_OK] = "OK",
	[GRPC_CANCELLED] = "CANCELLED",
	[GRPC_UNKNOWN] = "UNKNOWN",
	[GRPC_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
	[GRPC_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
	[GRPC_NOT_FOUND] = "NOT_FOUND",
	[GRPC_ALREADY_EXISTS] = "ALREADY_EXISTS",
	[GRPC_PERMISSION_DENIED] = "PERMISSION_DENIED",
	[GRPC_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
	[GRPC_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
	[GRPC_ABORTED] = "ABORTED",
	[GRPC_OUT_OF_RANGE] = "OUT_OF_RANGE",
	[GRPC_UNIMPLEMENTED] = "UNIMPLEMENTED",
	[GRPC_INTERNAL] = "INTERNAL",
	[GRPC_UNAVAILABLE] = "UNAVAILABLE",
	[GRPC_DATA_LOSS] = "DATA_LOSS",
	[GRPC_UNAUTHENTICATED] = "UNAUTHENTICATED",
};

const char *grpc_status_name(int code)
{
	if (code < 0 || code >= GRPC_NUM_STATUS)
		return NULL;
	return status_names[code];
}

int grpc_status_parse(const char *s, size_t len, int *out)
{
	int v = 0;

	if (len < 1 || len > 3)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

enum grpc_status grpc_status_of(int err)
{
	switch (err) {
	case 0:
		return GRPC_OK;
	case -ENOTSUP:
		return GRPC_UNIMPLEMENTED;
	case -EMSGSIZE:
	case -ENOMEM:
		return GRPC_RESOURCE_EXHAUSTED;
	case -ETIMEDOUT:
		return GRPC_DEADLINE_EXCEEDED;
	default:
		return GRPC_INTERNAL;
	}
}

bool grpc_content_type_ok(const char *v, size_t len)
{
	static const char base[] = "application/grpc";
	const size_t n = sizeof(base) - 1;

	// grpc-go's contentSubtype: the prefix is compared as sent.
	if (len < n || memcmp(v, base, n))
		return false;
	return len == n || v[n] == '+' || v[n] == ';';
}

int grpc_prefix(uint8_t out[GRPC_PREFIX_LEN], size_t len)
{
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	out[0] = 0;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
	return 0;
}

int grpc_frame(struct buf *out, const void *msg, size_t len)
{
	uint8_t hdr[GRPC_PREFIX_LEN];
	int err;

	if ((err = grpc_prefix(hdr, len)) < 0)
		return err;
	if ((err = buf_reserve(out, sizeof(hdr) + len)) < 0)
		return err;
	buf_append(out, hdr, sizeof(hdr));
	buf_append(out, msg, len);
	return 0;
}

void grpc_deframer_init(struct grpc_deframer *d, uint32_t max_msg)
{
	memset(d, 0, sizeof(*d));
	d->max_msg = max_msg ? max_msg : GRPC_MAX_MSG;
}

void grpc_deframer_cleanup(struct grpc_deframer *d)
{
	buf_cleanup(&d->msg);
}

ssize_t grpc_deframe(struct grpc_deframer *d, const char *p, size_t len, const char **msg,
		     size_t *msg_len)
{
	size_t used = 0, n;

	*msg = NULL;
	*msg_len = 0;
	if (d->err)
		return d->err;
	// A message handed out of msg on the last call is dropped now.
	if (!d->hdr_len)
		d->msg.off = d->msg.len = 0;
	while (d->hdr_len < GRPC_PREFIX_LEN) {
		if (used == len)
			return (ssize_t)used;
		d->hdr[d->hdr_len++] = (uint8_t)p[used++];
		if (d->hdr_len < GRPC_PREFIX_LEN)
			continue;
		if (d->hdr[0] == 1)
			return d->err = -ENOTSUP;
		if (d->hdr[0] != 0)
			return d->err = -EBADMSG;
		d->msg_len = (uint32_t)d->hdr[1] << 24 | (uint32_t)d->hdr[2] << 16 |
			     (uint32_t)d->hdr[3] << 8 | d->hdr[4];
		if (d->msg_len > d->max_msg)
			return d->err = -EMSGSIZE;
	}
	// Zero-copy when the whole message is in this piece.
	if (!buf_avail(&d->msg) && len - used >= d->msg_len) {
		*msg = p + used;
		*msg_len = d->msg_len;
		used += d->msg_len;
		goto done;
	}
	// Grow with the bytes that arrive, not with the length the peer
	// announced.
	n = MIN(len - used, d->msg_len - buf_avail(&d->msg));
	if (buf_append(&d->msg, p + used, n) < 0)
		return d->err = -ENOMEM;
	used += n;
	if (buf_avail(&d->msg) < d->msg_len)
		return (ssize_t)used;
	*msg = buf_head(&d->msg);
	*msg_len = d->msg_len;
done:
	d->hdr_len = 0;
	d->num_msgs++;
	return (ssize_t)used;
}

bool grpc_deframer_idle(const struct grpc_deframer *d)
{
	return d->hdr_len == 0 && !d->err;
}

int grpc_timeout_parse(const char *s, size_t len, int64_t *out_ns)
{
	static const struct {
		char unit;
		int64_t ns;
	} units[] = {
		{ 'H', 3600 * 1000000000ll }, { 'M', 60 * 1000000000ll },
		{ 'S', 1000000000ll }, { 'm', 1000000ll }, { 'u', 1000ll }, { 'n', 1ll },
	};
	int64_t v = 0, mul = 0;

	if (len < 2 || len > GRPC_TIMEOUT_MAX_DIGITS + 1)
		return -EINVAL;
	for (size_t i = 0; i < len - 1; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (s[len - 1] == units[i].unit)
			mul = units[i].ns;
	if (!mul)
		return -EINVAL;
	*out_ns = v > INT64_MAX / mul ? INT64_MAX : v * mul;
	return 0;
}

int grpc_timeout_format(char out[GRPC_TIMEOUT_MAX_DIGITS + 2], int64_t ns)
{
	static const struct {
		char unit;
		int64_t ns;
	} units[] = {
		{ 'n', 1ll }, { 'u', 1000ll }, { 'm', 1000000ll }, { 'S', 1000000000ll },
		{ 'M', 60 * 1000000000ll }, { 'H', 3600 * 1000000000ll },
	};
	const int64_t max = 99999999;
	int64_t v = 0;
	char unit = 'H';

	if (ns < 0)
		ns = 0;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		v = ns / units[i].ns + (ns % units[i].ns != 0);
		unit = units[i].unit;
		if (v <= max)
			break;
	}
	if (v > max)
		v = max;
	return snprintf(out, GRPC_TIMEOUT_MAX_DIGITS + 2, "%lld%c", (long long)v, unit);
}

int grpc_message_encode(struct buf *out, const char *msg, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	int err;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c >= 0x20 && c <= 0x7e && c != '%') {
			if ((err = buf_append(out, &c, 1)) < 0)
				return err;
			continue;
		}
		char e[3] = { '%', hex[c >> 4], hex[c & 0xf] };

		if ((err = buf_append(out, e, sizeof(e))) < 0)
			return err;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int grpc_message_decode(struct buf *out, const char *s, size_t len)
{
	int err;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		char c = s[i];

		if (c == '%' && i + 2 < len && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if ((err = buf_append(out, &c, 1)) < 0)
			return err;
	}
	return 0;
}

int grpc_trailers_build(struct grpc_trailers *t, enum grpc_status code, const char *msg,
			size_t msg_len)
{
	int err;

	memset(t, 0, sizeof(*t));
	if ((int)code < 0 || code >= GRPC_NUM_STATUS)
		return -EINVAL;
	snprintf(t->status, sizeof(t->status), "%d", (int)code);
	t->h[0] = (struct h2_header){ "grpc-status", t->status, 11, (uint32_t)strlen(t->status) };
	t->num = 1;
	if (!msg || !msg_len)
		return 0;
	if ((err = grpc_message_encode(&t->message, msg, msg_len)) < 0) {
		buf_cleanup(&t->message);
		return err;
	}
	t->h[1] = (struct h2_header){ "grpc-message", t->message.data, 12,
				      (uint32_t)buf_avail(&t->message) };
	t->num = 2;
	return 0;
}

void grpc_trailers_cleanup(struct grpc_trailers *t)
{
	buf_cleanup(&t->message);
	t->num = 0;
}
