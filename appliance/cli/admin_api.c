// SPDX-License-Identifier: Apache-2.0
// admin_api.c: how the CLI reads a running meshgate's admin API: one
// blocking GET per request over a plain TCP socket, bounded by a deadline
// (SO_SNDTIMEO/SO_RCVTIMEO, so no poll), answers parsed by proto/h1.
#include "admin_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "config/json.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "proto/h1.h"

static int fail(char *err, size_t err_len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return rc;
}

static int parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;

	if (!len || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (!v || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int admin_addr_parse(struct admin_addr *out, const char *s)
{
	char host[64];
	const char *colon, *port_s;
	size_t hl;
	uint16_t port;

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return -EINVAL;
	if (!strchr(s, ':')) {		// a bare port
		host[0] = '\0';
		port_s = s;
	} else if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':' || (hl = (size_t)(close - s - 1)) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		port_s = close + 2;
		if (!strchr(host, ':'))
			return -EINVAL;		// brackets are for IPv6
	} else {
		colon = strrchr(s, ':');
		if ((hl = (size_t)(colon - s)) >= sizeof(host) || memchr(s, ':', hl))
			return -EINVAL;		// IPv6 needs brackets
		memcpy(host, s, hl);
		host[hl] = '\0';
		port_s = colon + 1;
	}
	if (parse_port(port_s, strlen(port_s), &port) < 0)
		return -EINVAL;
	if (!host[0] || !strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		out->len = sizeof(*a6);
		snprintf(out->text, sizeof(out->text), "[%s]:%u", host, port);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&out->ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		out->len = sizeof(*a4);
		snprintf(out->text, sizeof(out->text), "%s:%u", host, port);
	}
	snprintf(out->host, sizeof(out->host), "%s", out->text);
	return 0;
}

// arm gives the socket's next send or receive what is left of the
// deadline (a zero timeval would mean no timeout at all).
static int arm(int fd, uint64_t deadline_ms)
{
	uint64_t now = clock_mono_ms();
	struct timeval tv;

	if (now >= deadline_ms)
		return -ETIMEDOUT;
	tv.tv_sec = (time_t)((deadline_ms - now) / 1000);
	tv.tv_usec = (suseconds_t)((deadline_ms - now) % 1000 * 1000);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

static int send_all(int fd, const char *p, size_t len, uint64_t deadline_ms)
{
	while (len) {
		ssize_t n;
		int rc;

		if ((rc = arm(fd, deadline_ms)) < 0)
			return rc;
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

// recv_more appends what the socket has (at least one byte) to in. It
// returns the byte count, 0 at the peer's end of stream, or -errno.
static ssize_t recv_more(int fd, struct buf *in, uint64_t deadline_ms)
{
	for (;;) {
		ssize_t n;
		int rc;

		if ((rc = arm(fd, deadline_ms)) < 0 || (rc = buf_reserve(in, 16384)) < 0)
			return rc;
		n = recv(fd, in->data + in->len, in->cap - in->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		in->len += (size_t)n;
		return n;
	}
}

struct body_sink {
	struct buf *out;
	size_t start;
	int rc;
};

static void body_data(void *arg, const char *p, size_t len)
{
	struct body_sink *s = arg;

	if (s->rc)
		return;
	if (s->out->len - s->start + len > ADMIN_API_MAX_BODY)
		s->rc = -EFBIG;
	else if (buf_append(s->out, p, len) < 0)
		s->rc = -ENOMEM;
}

// read_answer reads one response from fd; see admin_get.
static int read_answer(int fd, uint64_t deadline_ms, struct buf *in, struct buf *out,
		       const char **why)
{
	struct h1_msg *msg = malloc(sizeof(*msg));
	struct body_sink sink = { out, out->len, 0 };
	enum h1_framing framing;
	uint64_t length;
	size_t scanned = 0;
	ssize_t hl, n;
	int status, rc;

	if (!msg)
		return -ENOMEM;
	*why = "no complete response head";
	for (;;) {
		hl = h1_head_end(buf_head(in), buf_avail(in), &scanned);
		if (hl != -EAGAIN)
			break;
		if (buf_avail(in) > H1_MAX_HEAD_BYTES) {
			*why = "response head larger than 60 KiB";
			rc = -EBADMSG;
			goto out;
		}
		if ((n = recv_more(fd, in, deadline_ms)) <= 0) {
			if (n == 0 && !buf_avail(in))
				*why = "connection closed without an answer";
			else if (n == 0)
				*why = "connection closed inside the response head";
			rc = n < 0 ? (int)n : -EBADMSG;
			goto out;
		}
	}
	if (hl < 0 || hl > H1_MAX_HEAD_BYTES ||
	    h1_parse_response(msg, buf_head(in), (size_t)hl, (struct h1_str){ "GET", 3 }) < 0) {
		*why = "malformed response head";
		rc = -EBADMSG;
		goto out;
	}
	if (msg->status < 200) {
		*why = "an interim (1xx) answer to a GET";
		rc = -EBADMSG;
		goto out;
	}
	status = msg->status;
	framing = msg->framing;
	length = msg->content_length;
	buf_consume(in, (size_t)hl);	// msg's strings are not used past here
	switch (framing) {
	case H1_BODY_NONE:
		break;
	case H1_BODY_LENGTH:
		if (length > ADMIN_API_MAX_BODY) {
			rc = -EFBIG;
			goto out;
		}
		while (buf_avail(in) < length) {
			if ((n = recv_more(fd, in, deadline_ms)) <= 0) {
				*why = "connection closed inside the body";
				rc = n < 0 ? (int)n : -EBADMSG;
				goto out;
			}
		}
		if ((rc = buf_append(out, buf_head(in), (size_t)length)) < 0)
			goto out;
		break;
	case H1_BODY_CHUNKED: {
		struct h1_chunked ch;
		struct h1_chunked_out cout = { body_data, NULL, &sink };
		int done = 0;

		h1_chunked_init(&ch);
		for (;;) {
			n = h1_chunked_feed(&ch, buf_head(in), buf_avail(in), &cout, &done);
			if (n < 0) {
				*why = "malformed chunked body";
				rc = -EBADMSG;
				goto out;
			}
			buf_consume(in, (size_t)n);
			if (sink.rc) {
				rc = sink.rc;
				goto out;
			}
			if (done)
				break;
			if ((n = recv_more(fd, in, deadline_ms)) <= 0) {
				*why = "connection closed inside the chunked body";
				rc = n < 0 ? (int)n : -EBADMSG;
				goto out;
			}
		}
		break;
	}
	case H1_BODY_EOF:
		for (;;) {
			body_data(&sink, buf_head(in), buf_avail(in));
			buf_consume(in, buf_avail(in));
			if (sink.rc) {
				rc = sink.rc;
				goto out;
			}
			if ((n = recv_more(fd, in, deadline_ms)) < 0) {
				rc = (int)n;
				goto out;
			}
			if (n == 0)
				break;
		}
		break;
	}
	rc = status;
out:
	free(msg);
	return rc;
}

int admin_get(const struct admin_addr *a, const char *path, int timeout_ms,
	      struct buf *out_body, char *err, size_t err_len)
{
	uint64_t deadline_ms = clock_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1);
	const char *why = NULL;
	struct buf req, in;
	size_t mark = out_body->len;
	int fd, rc;

	buf_init(&req);
	buf_init(&in);
	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, err_len, -errno, "GET http://%s%s: socket failed (%s)", a->text,
			    path, strerror(errno));
	// connect honours SO_SNDTIMEO: EINPROGRESS once it runs out
	why = "connect failed";
	if ((rc = arm(fd, deadline_ms)) < 0)
		goto out_fd;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
		rc = errno == EINPROGRESS || errno == EAGAIN ? -ETIMEDOUT : -errno;
		goto out_fd;
	}
	why = NULL;
	if (buf_appendf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: meshgate-cli\r\n"
			"Accept: application/json\r\nConnection: close\r\n\r\n", path, a->host) < 0) {
		rc = -ENOMEM;
		goto out_fd;
	}
	if ((rc = send_all(fd, req.data, req.len, deadline_ms)) < 0) {
		why = "sending the request failed";
		goto out_fd;
	}
	rc = read_answer(fd, deadline_ms, &in, out_body, &why);
out_fd:
	close(fd);
	buf_cleanup(&req);
	buf_cleanup(&in);
	if (rc >= 0)
		return rc;
	out_body->len = mark;
	if (rc == -ETIMEDOUT)
		fail(err, err_len, rc, "GET http://%s%s: %s within %d ms", a->text, path,
		     why && !strcmp(why, "connect failed") ? "no connection" : "no complete answer",
		     timeout_ms);
	else if (rc == -EFBIG)
		fail(err, err_len, rc, "GET http://%s%s: answer larger than %d MiB", a->text, path,
		     ADMIN_API_MAX_BODY >> 20);
	else if (rc == -EBADMSG)
		fail(err, err_len, rc, "GET http://%s%s: not a valid HTTP/1.1 answer (%s)", a->text,
		     path, why ? why : "malformed");
	else
		fail(err, err_len, rc, "GET http://%s%s: %s (%s)", a->text, path,
		     why ? why : "failed", strerror(-rc));
	return rc;
}

int admin_get_json(const struct admin_addr *a, const char *path, struct yaml_tree *t,
		   int *out_status, char *err, size_t err_len)
{
	struct yaml_error jerr;
	struct buf body;
	int status, rc;

	memset(t, 0, sizeof(*t));
	if (out_status)
		*out_status = 0;
	buf_init(&body);
	err[0] = '\0';
	status = admin_get(a, path, ADMIN_API_TIMEOUT_MS, &body, err, err_len);
	if (status < 0) {
		rc = status;
		goto out;
	}
	if (out_status)
		*out_status = status;
	if (status != 200) {
		size_t n = 0;

		// the body's first line, printable ASCII only, says why
		while (n < body.len && n < 200 && body.data[n] != '\n' && body.data[n] != '\r')
			n++;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)body.data[i] < 0x20 || (unsigned char)body.data[i] > 0x7e)
				body.data[i] = '?';
		rc = fail(err, err_len, -EIO, "GET http://%s%s: HTTP %d %s%s%.*s", a->text, path,
			  status, h1_status_reason(status), n ? ": " : "", (int)n,
			  n ? body.data : "");
		goto out;
	}
	memset(&jerr, 0, sizeof(jerr));
	rc = json_tree_parse(t, body.data ? body.data : "", body.len, &jerr);
	if (rc == -EBADMSG)
		fail(err, err_len, rc, "GET http://%s%s: the answer is not valid JSON (line %d: %s)",
		     a->text, path, jerr.line, jerr.msg);
	else if (rc < 0)
		fail(err, err_len, rc, "GET http://%s%s: cannot read the answer (%s)", a->text, path,
		     strerror(-rc));
out:
	buf_cleanup(&body);
	return rc;
}

// ---- typed fields ----

int api_want_map(const struct ynode *n, const char *where, char *err, size_t err_len)
{
	if (!n || n->type != YN_MAP)
		return fail(err, err_len, -EBADMSG, "%s: want an object", where);
	return 0;
}

static bool absent(const struct ynode *v)
{
	return !v || (v->type == YN_SCALAR && v->tag == YTAG_NULL);
}

// field finds obj[key]: 1 present, 0 absent and optional, or -EBADMSG.
static int field(const struct ynode *obj, const char *where, const char *key, bool required,
		 const struct ynode **v, char *err, size_t err_len)
{
	int rc;

	if ((rc = api_want_map(obj, where, err, err_len)) < 0)
		return rc;
	*v = yaml_tree_map_get(obj, key);
	if (!absent(*v))
		return 1;
	if (required)
		return fail(err, err_len, -EBADMSG, "%s.%s: missing", where, key);
	return 0;
}

int api_str(const struct ynode *obj, const char *where, const char *key, bool required,
	    const char **out, char *err, size_t err_len)
{
	const struct ynode *v;
	int rc = field(obj, where, key, required, &v, err, err_len);

	*out = NULL;
	if (rc <= 0)
		return rc;
	if (v->type != YN_SCALAR || v->tag != YTAG_STR)
		return fail(err, err_len, -EBADMSG, "%s.%s: want a string", where, key);
	*out = v->str;
	return 0;
}

int api_uint(const struct ynode *obj, const char *where, const char *key, bool required,
	     uint64_t max, uint64_t *out, char *err, size_t err_len)
{
	const struct ynode *v;
	int64_t i;
	int rc = field(obj, where, key, required, &v, err, err_len);

	*out = 0;
	if (rc <= 0)
		return rc;
	if (v->type != YN_SCALAR || v->tag != YTAG_INT || yaml_tree_scalar_int(v, &i) < 0 ||
	    i < 0 || (uint64_t)i > max)
		return fail(err, err_len, -EBADMSG, "%s.%s: want an integer 0..%llu", where, key,
			    (unsigned long long)max);
	*out = (uint64_t)i;
	return 0;
}

int api_bool(const struct ynode *obj, const char *where, const char *key, bool required,
	     bool *out, char *err, size_t err_len)
{
	const struct ynode *v;
	int rc = field(obj, where, key, required, &v, err, err_len);

	*out = false;
	if (rc <= 0)
		return rc;
	if (v->type != YN_SCALAR || v->tag != YTAG_BOOL)
		return fail(err, err_len, -EBADMSG, "%s.%s: want true or false", where, key);
	*out = !strcmp(v->str, "true");
	return 0;
}

static int typed(const struct ynode *obj, const char *where, const char *key, bool required,
		 int type, const char *what, const struct ynode **out, char *err, size_t err_len)
{
	const struct ynode *v;
	int rc = field(obj, where, key, required, &v, err, err_len);

	*out = NULL;
	if (rc <= 0)
		return rc;
	if (v->type != type)
		return fail(err, err_len, -EBADMSG, "%s.%s: want %s", where, key, what);
	*out = v;
	return 0;
}

int api_seq(const struct ynode *obj, const char *where, const char *key, bool required,
	    const struct ynode **out, char *err, size_t err_len)
{
	return typed(obj, where, key, required, YN_SEQ, "an array", out, err, err_len);
}

int api_map(const struct ynode *obj, const char *where, const char *key, bool required,
	    const struct ynode **out, char *err, size_t err_len)
{
	return typed(obj, where, key, required, YN_MAP, "an object", out, err, err_len);
}

// ---- JSON out ----

int api_json_indent(struct buf *out, int depth)
{
	int rc = buf_append(out, "\n", 1);

	for (int i = 0; i < depth && rc == 0; i++)
		rc = buf_append(out, "    ", 4);
	return rc;
}

int api_json_write(struct buf *out, const struct ynode *n, int depth)
{
	int rc = 0;

	if (!n)
		return json_append_null(out);
	switch (n->type) {
	case YN_MAP:
		if (!n->len)
			return buf_appends(out, "{}");
		rc = buf_appends(out, "{");
		for (size_t i = 0; i < n->len && rc == 0; i++) {
			const struct ypair *p = &n->pairs[i];

			if ((rc = api_json_indent(out, depth + 1)) < 0 ||
			    (rc = json_append_str(out, p->key->str, p->key->len)) < 0 ||
			    (rc = buf_appends(out, ": ")) < 0 ||
			    (rc = api_json_write(out, p->value, depth + 1)) < 0)
				break;
			if (i + 1 < n->len)
				rc = buf_appends(out, ",");
		}
		if (rc == 0 && (rc = api_json_indent(out, depth)) == 0)
			rc = buf_appends(out, "}");
		return rc;
	case YN_SEQ:
		if (!n->len)
			return buf_appends(out, "[]");
		rc = buf_appends(out, "[");
		for (size_t i = 0; i < n->len && rc == 0; i++) {
			if ((rc = api_json_indent(out, depth + 1)) < 0 ||
			    (rc = api_json_write(out, n->items[i], depth + 1)) < 0)
				break;
			if (i + 1 < n->len)
				rc = buf_appends(out, ",");
		}
		if (rc == 0 && (rc = api_json_indent(out, depth)) == 0)
			rc = buf_appends(out, "]");
		return rc;
	default:
		switch (n->tag) {
		case YTAG_NULL:
		case YTAG_BOOL:
		case YTAG_INT:
		case YTAG_FLOAT:
			// json_tree_parse kept the literal, already valid JSON
			return buf_append(out, n->str, n->len);
		default:
			return json_append_str(out, n->str, n->len);
		}
	}
}
