// SPDX-License-Identifier: Apache-2.0
// h1.c: strict RFC 9112 HTTP/1.1 head parser and chunked codec on the proxy's
// hot path: one pass over the bytes, table-driven classes, no allocation.
#include "h1.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

// Character classes, one bit each in cls[].
enum {
	C_TCHAR = 1u << 0,	// token (RFC 9110 §5.6.2)
	C_NAME = 1u << 1,	// token without '_' (field names by default)
	C_METHOD = 1u << 2,	// token without lowercase letters
	C_TARGET = 1u << 3,	// request-target: VCHAR except '#'
	C_VALUE = 1u << 4,	// field value: HTAB SP VCHAR obs-text
	C_HOST = 1u << 5,	// reg-name: unreserved, sub-delims but ','
	C_QDTEXT = 1u << 6,	// quoted-string text: HTAB SP ! #-[ ]-~ obs-text
	C_HEX = 1u << 7,	// HEXDIG
};

// cls was generated from the RFC grammars (see the C_* comments); the unit
// test checks every byte of it through the public parser.
static const uint8_t cls[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	// 00
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	// 10
	0x50, 0x7f, 0x18, 0x57, 0x7f, 0x5f, 0x7f, 0x7f, 0x78, 0x78, 0x7f, 0x7f, 0x58, 0x7f, 0x7f, 0x58,	// 20
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x58, 0x78, 0x58, 0x78, 0x58, 0x58,	// 30
	0x58, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f,	// 40
	0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x58, 0x18, 0x58, 0x5f, 0x7d,	// 50
	0x5f, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0xfb, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b,	// 60
	0x7b, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b, 0x58, 0x5f, 0x58, 0x7f, 0x00,	// 70
	0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50,	// 80
	0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50,	// 90
	0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50,	// a0
	0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50,	// b0
	0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50,	// c0
	0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50,	// d0
	0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50,	// e0
	0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50,	// f0
};

_Static_assert(H1_MAX_CONNECTION == sizeof(((struct h1_msg *)0)->connection_idx),
	       "connection_idx holds H1_MAX_CONNECTION indexes");
_Static_assert(H1_MAX_HEADERS <= 255, "connection_idx is uint8_t");
_Static_assert(H1_MAX_HEAD_BYTES < INT32_MAX, "head lengths fit int and uint32_t");

// lc lowers ASCII letters only. `c | 0x20` would fold '\r' onto '-' and '^'
// onto '~', so names could match a literal they do not spell.
static inline unsigned char lc(unsigned char c)
{
	return c + ((unsigned)(c - 'A') < 26u ? 32 : 0);
}

// hexval is the value of a byte known to be HEXDIG.
static inline unsigned hexval(unsigned char c)
{
	return (c & 0xf) + (c >> 6) * 9;
}

static inline bool ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

// ieq compares p[0..len) with a lowercase literal of the same length.
static inline bool ieq(const unsigned char *p, size_t len, const char *lit, size_t lit_len)
{
	if (len != lit_len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (lc(p[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

#define IEQ(p, len, lit) ieq((p), (len), lit, sizeof(lit) - 1)

static inline struct h1_str mkstr(const unsigned char *p, const unsigned char *end)
{
	struct h1_str s = { (const char *)p, (uint32_t)(end - p) };

	return s;
}

ssize_t h1_head_end(const char *buf, size_t len, size_t *scanned)
{
	const unsigned char *b = (const unsigned char *)buf, *cr, *lf;
	size_t lead = 0, i;
	unsigned n = 0;

	// Leading empty lines are bounded, so finding their end again on every
	// call is O(1) and *scanned need not encode it.
	while (lead + 1 < len && b[lead] == '\r' && b[lead + 1] == '\n') {
		if (++n > H1_MAX_LEADING_CRLF)
			return -EBADMSG;
		lead += 2;
	}
	i = *scanned > lead ? *scanned : lead;
	if (i > len)
		i = len;
	// Every LF must follow a CR and every CR precede an LF: find the next
	// CR, then make sure no LF came before it.
	while (i < len) {
		cr = memchr(b + i, '\r', len - i);
		lf = memchr(b + i, '\n', (cr ? (size_t)(cr - b) : len) - i);
		if (lf)
			return -EBADMSG;
		if (!cr) {
			i = len;
			break;
		}
		i = cr - b;
		if (i + 1 == len)
			break;		// wait for the byte after the CR
		if (b[i + 1] != '\n')
			return -EBADMSG;
		// b[lead] is never an empty line's CR: the loop above took those.
		if (i > lead && b[i - 1] == '\n') {
			*scanned = i + 2;
			return i + 2;
		}
		i += 2;
	}
	*scanned = i;
	return -EAGAIN;
}

// skip_leading returns the start of the start line, or NULL for too many
// empty lines.
static const unsigned char *skip_leading(const unsigned char *p, const unsigned char *end)
{
	for (unsigned n = 0; end - p >= 2 && p[0] == '\r' && p[1] == '\n'; n++) {
		if (n == H1_MAX_LEADING_CRLF)
			return NULL;
		p += 2;
	}
	return p;
}

// port_ok accepts 1-5 digits up to 65535.
static bool port_ok(const unsigned char *p, const unsigned char *end)
{
	unsigned v = 0;

	if (p == end || end - p > 5)
		return false;
	for (; p < end; p++) {
		if ((unsigned)(*p - '0') > 9)
			return false;
		v = v * 10 + (*p - '0');
	}
	return v <= 65535;
}

// host_ok validates uri-host [ ":" port ] (RFC 9110 §7.2) with a non-empty
// host, no userinfo and no comma; IP literals are IPv6 only (no zone, no
// IPvFuture). need_port is for CONNECT's authority-form.
static bool host_ok(const unsigned char *p, const unsigned char *end, bool need_port)
{
	const unsigned char *h = p;

	if (p == end)
		return false;
	if (*p == '[') {
		char tmp[INET6_ADDRSTRLEN];
		struct in6_addr a;
		const unsigned char *rb = memchr(p, ']', end - p);
		size_t n;

		if (!rb)
			return false;
		n = rb - p - 1;
		if (!n || n >= sizeof(tmp))
			return false;
		memcpy(tmp, p + 1, n);
		tmp[n] = 0;
		if (inet_pton(AF_INET6, tmp, &a) != 1)
			return false;
		p = rb + 1;
	} else {
		while (p < end) {
			if (cls[*p] & C_HOST)
				p++;
			else if (*p == '%' && end - p >= 3 && (cls[p[1]] & C_HEX) && (cls[p[2]] & C_HEX))
				p += 3;
			else
				break;
		}
		if (p == h)
			return false;
	}
	if (p == end)
		return !need_port;
	if (*p != ':')
		return false;
	return port_ok(p + 1, end);
}

// cl_parse reads 1-19 digits without sign or leading zero: 19 digits cannot
// overflow a uint64_t, so no overflow check is needed.
static bool cl_parse(const unsigned char *p, const unsigned char *end, uint64_t *out)
{
	size_t n = end - p;
	uint64_t v = 0;

	if (!n || n > 19 || (*p == '0' && n > 1))
		return false;
	for (; p < end; p++) {
		unsigned d = *p - '0';

		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

// list_next returns the next element of a comma list (RFC 9110 §5.6.1)
// whose elements must be tokens: 1 with *tok set, 0 at the end, -1 when an
// element is not a token. Empty elements are skipped, as recipients must.
static int list_next(const unsigned char **pp, const unsigned char *end, struct h1_str *tok)
{
	const unsigned char *p = *pp, *s;

	for (;;) {
		while (p < end && (ows(*p) || *p == ','))
			p++;
		if (p == end)
			return 0;
		s = p;
		while (p < end && (cls[*p] & C_TCHAR))
			p++;
		if (p == s)
			return -1;
		*tok = mkstr(s, p);
		while (p < end && ows(*p))
			p++;
		if (p < end && *p != ',')
			return -1;
		*pp = p;
		return 1;
	}
}

// What the field lines said about framing and the connection.
struct fields {
	unsigned te_fields;
	unsigned te_tokens;
	unsigned te_chunked;
	bool te_bad;		// malformed list, parameters, or extra whitespace
	bool te_last_chunked;	// the last coding of all TE fields is chunked
	bool cl_bad;		// malformed, list, or (requests) repeated
	bool cl_differ;
	bool host_bad;
	bool dup_upgrade;
	const unsigned char *host, *host_end;
};

// framing_ws_ok tells whether a framing field (Content-Length,
// Transfer-Encoding) has at most one SP between ':' and the value and no
// whitespace after it: OWS is legal there, but "\tchunked" and " 5 " are
// what smuggling probes send, and no real client pads these fields.
static bool framing_ws_ok(const unsigned char *colon, const unsigned char *v,
			  const unsigned char *ve, const unsigned char *cr)
{
	return ve == cr && (v - colon == 1 || (v - colon == 2 && colon[1] == ' '));
}

// te_add reads one Transfer-Encoding field: a list of bare tokens. Parameters,
// quotes, empty elements and odd whitespace all make it malformed.
static void te_add(struct fields *f, const unsigned char *p, const unsigned char *end)
{
	const unsigned char *s;

	f->te_fields++;
	for (;;) {
		s = p;
		while (p < end && (cls[*p] & C_TCHAR))
			p++;
		if (p == s) {
			f->te_bad = true;
			return;
		}
		f->te_tokens++;
		f->te_last_chunked = IEQ(s, p - s, "chunked");
		f->te_chunked += f->te_last_chunked;
		while (p < end && ows(*p))
			p++;
		if (p == end)
			return;
		if (*p++ != ',') {
			f->te_bad = true;
			return;
		}
		while (p < end && ows(*p))
			p++;
	}
}

// parse_fields parses field lines from p up to and including the empty line
// that must end exactly at end. It returns 0 or the HTTP status to answer.
static int parse_fields(struct h1_msg *msg, const unsigned char *p, const unsigned char *end,
			bool req, unsigned name_mask, struct fields *f)
{
	// The head ends with CRLF CRLF and no scan below crosses a CR, so every
	// scan stops inside the buffer and p[1] after a CR is always readable.
	for (;;) {
		const unsigned char *name = p, *colon, *v, *ve;
		struct h1_header *h;
		size_t nlen;

		if (*p == '\r') {
			if (p[1] != '\n' || p + 2 != end)
				return 400;
			return 0;
		}
		// SP/HTAB first (obs-fold), whitespace before ':', NUL, DEL,
		// non-ASCII and (by default) '_' all stop the name early.
		while (cls[*p] & name_mask)
			p++;
		nlen = p - name;
		if (!nlen || *p != ':')
			return 400;
		colon = p++;
		while (ows(*p))
			p++;
		v = p;
		while (cls[*p] & C_VALUE)
			p++;
		if (*p != '\r' || p[1] != '\n')
			return 400;
		if (req && p + 2 - name > H1_MAX_FIELD_LINE)
			return 431;
		if (msg->num_headers == H1_MAX_HEADERS)
			return 431;
		ve = p;
		while (ve > v && ows(ve[-1]))
			ve--;
		p += 2;
		h = &msg->headers[msg->num_headers++];
		h->name = mkstr(name, name + nlen);
		h->value = mkstr(v, ve);

		// Dispatch on length; IEQ stops at the first differing byte.
		switch (nlen) {
		case 2:
			if (req && IEQ(name, nlen, "te")) {
				const unsigned char *q = v, *s, *se;

				// TE is hop-by-hop and stripped; only look for
				// "trailers", never reject on its syntax.
				while (q < ve) {
					while (q < ve && (ows(*q) || *q == ','))
						q++;
					s = q;
					while (q < ve && (cls[*q] & C_TCHAR))
						q++;
					se = q;
					while (q < ve && ows(*q))
						q++;
					if (IEQ(s, se - s, "trailers") && (q == ve || *q == ','))
						msg->flags |= H1F_TE_TRAILERS;
					while (q < ve && *q != ',')
						q++;
				}
			}
			break;
		case 4:
			if (req && IEQ(name, nlen, "host")) {
				if (msg->flags & H1F_HOST)
					f->host_bad = true;
				msg->flags |= H1F_HOST;
				f->host = v;
				f->host_end = ve;
				if (!host_ok(v, ve, false))
					f->host_bad = true;
			}
			break;
		case 6:
			if (req && IEQ(name, nlen, "expect") && IEQ(v, ve - v, "100-continue"))
				msg->flags |= H1F_EXPECT_CONTINUE;
			break;
		case 7:
			if (IEQ(name, nlen, "upgrade")) {
				if (msg->flags & H1F_UPGRADE)
					f->dup_upgrade = true;
				msg->flags |= H1F_UPGRADE;
				msg->upgrade = h->value;
			}
			break;
		case 10:
			if (IEQ(name, nlen, "connection")) {
				const unsigned char *q = v;
				struct h1_str t;
				int r;

				if (msg->num_connection == H1_MAX_CONNECTION)
					return 400;
				msg->connection_idx[msg->num_connection++] = msg->num_headers - 1;
				while ((r = list_next(&q, ve, &t)) > 0) {
					const unsigned char *s = (const unsigned char *)t.p;

					if (IEQ(s, t.len, "close"))
						msg->flags |= H1F_CONN_CLOSE;
					else if (IEQ(s, t.len, "keep-alive"))
						msg->flags |= H1F_CONN_KEEPALIVE;
					else if (IEQ(s, t.len, "upgrade"))
						msg->flags |= H1F_CONN_UPGRADE;
				}
				if (r < 0)
					return 400;
			}
			break;
		case 14:
			if (lc(*name) == 'c' && IEQ(name, nlen, "content-length")) {
				uint64_t cl = 0;

				if (!framing_ws_ok(colon, v, ve, p - 2) || !cl_parse(v, ve, &cl)) {
					f->cl_bad = true;
				} else if (msg->flags & H1F_CONTENT_LENGTH) {
					if (req)
						f->cl_bad = true;
					else if (cl != msg->content_length)
						f->cl_differ = true;
				}
				msg->flags |= H1F_CONTENT_LENGTH;
				if (!f->cl_bad)
					msg->content_length = cl;
			}
			break;
		case 17:
			if (lc(*name) == 't' && IEQ(name, nlen, "transfer-encoding")) {
				if (!framing_ws_ok(colon, v, ve, p - 2))
					f->te_bad = true;
				te_add(f, v, ve);
			}
			break;
		}
	}
}

static void msg_reset(struct h1_msg *msg)
{
	static const struct h1_str empty = { "", 0 };

	msg->method = msg->target = msg->path = msg->authority = empty;
	msg->reason = msg->upgrade = empty;
	msg->status = 0;
	msg->minor = 0;
	msg->flags = 0;
	msg->framing = H1_BODY_NONE;
	msg->content_length = 0;
	msg->num_headers = 0;
	msg->num_connection = 0;
	msg->head_len = 0;
}

// target_form checks the request-target against the method and fills path
// and authority. It returns 0 or 400.
static int target_form(struct h1_msg *msg, const unsigned char *t, const unsigned char *te)
{
	static const char slash[] = "/";
	const unsigned char *m = (const unsigned char *)msg->method.p, *a, *ae;
	size_t mlen = msg->method.len, n = te - t;
	bool connect = mlen == 7 && !memcmp(m, "CONNECT", 7);

	if (*t == '/') {
		if (connect)
			return 400;
		msg->path = mkstr(t, te);
		return 0;
	}
	if (n == 1 && *t == '*') {
		if (mlen != 7 || memcmp(m, "OPTIONS", 7))
			return 400;
		msg->path = mkstr(t, te);
		return 0;
	}
	if (connect) {
		if (!host_ok(t, te, true))
			return 400;
		msg->authority = mkstr(t, te);
		return 0;
	}
	if (n > 7 && IEQ(t, 7, "http://"))
		a = t + 7;
	else if (n > 8 && IEQ(t, 8, "https://"))
		a = t + 8;
	else
		return 400;
	for (ae = a; ae < te && *ae != '/' && *ae != '?'; ae++)
		;
	// "http://a?q" would need a path we cannot point at without copying;
	// no client sends it.
	if (ae < te && *ae == '?')
		return 400;
	if (!host_ok(a, ae, false))
		return 400;
	msg->authority = mkstr(a, ae);
	if (ae == te) {
		msg->path.p = slash;
		msg->path.len = 1;
	} else {
		msg->path = mkstr(ae, te);
	}
	msg->flags |= H1F_ABSOLUTE_FORM;
	return 0;
}

static int parse_request(struct h1_msg *msg, const unsigned char *p,
			 const unsigned char *end, unsigned opts)
{
	struct fields f = { 0 };
	const unsigned char *s, *t, *te;
	int st;

	if (end - p > H1_MAX_HEAD_BYTES)
		return 431;
	if (end - p < 4 || memcmp(end - 4, "\r\n\r\n", 4))
		return 400;
	p = skip_leading(p, end);
	// A request line needs at least "M / HTTP/1.1\r\n" then "\r\n".
	if (!p || end - p < 16)
		return 400;

	s = p;
	while (cls[*p] & C_METHOD)
		p++;
	if (p == s || *p != ' ')
		return 400;
	msg->method = mkstr(s, p);
	t = ++p;
	while (cls[*p] & C_TARGET)
		p++;
	if (p == t || *p != ' ')
		return 400;
	te = p;
	if (te - t > H1_MAX_TARGET)
		return 414;
	msg->target = mkstr(t, te);
	p++;
	// "HTTP/1.x\r\n", then at least the empty line.
	if (end - p < 12)
		return 400;
	if (!memcmp(p, "HTTP/1.", 7) && (p[7] == '0' || p[7] == '1') && p[8] == '\r' && p[9] == '\n') {
		msg->minor = p[7] - '0';
	} else {
		// A well-formed version we do not speak is 505 (this is where
		// "PRI * HTTP/2.0" ends), anything else is malformed.
		if (!memcmp(p, "HTTP/", 5) && (unsigned)(p[5] - '0') <= 9 && p[6] == '.' &&
		    (unsigned)(p[7] - '0') <= 9 && p[8] == '\r' && p[9] == '\n')
			return 505;
		return 400;
	}
	p += 10;
	if ((st = target_form(msg, t, te)))
		return st;

	st = parse_fields(msg, p, end, true,
			  (opts & H1_OPT_ALLOW_UNDERSCORE) ? C_TCHAR : C_NAME, &f);
	if (st)
		return st;
	if (f.host_bad || f.cl_bad || f.dup_upgrade)
		return 400;
	if (msg->minor == 1 && !(msg->flags & H1F_HOST))
		return 400;
	// absolute-form and CONNECT already took the target's authority.
	if (!msg->authority.len && f.host)
		msg->authority = mkstr(f.host, f.host_end);
	if (f.te_fields) {
		if ((msg->flags & H1F_CONTENT_LENGTH) || msg->minor == 0 || f.te_bad)
			return 400;
		if (f.te_tokens == 1 && f.te_chunked == 1) {
			msg->flags |= H1F_CHUNKED;
			msg->framing = H1_BODY_CHUNKED;
		} else if (f.te_chunked) {
			return 400;
		} else {
			return 501;
		}
	} else if (msg->flags & H1F_CONTENT_LENGTH) {
		msg->framing = H1_BODY_LENGTH;
	}
	if (msg->minor == 0) {
		if (!(msg->flags & H1F_CONN_KEEPALIVE))
			msg->flags |= H1F_CONN_CLOSE;
		// RFC 9110 §10.1.1: 100-continue in HTTP/1.0 must be ignored.
		msg->flags &= ~H1F_EXPECT_CONTINUE;
	}
	return 0;
}

int h1_parse_request(struct h1_msg *msg, const char *buf, size_t head_len,
		     unsigned opts, int *out_status)
{
	const unsigned char *p = (const unsigned char *)buf;
	int st;

	msg_reset(msg);
	st = parse_request(msg, p, p + head_len, opts);
	if (st) {
		*out_status = st;
		return -EBADMSG;
	}
	msg->head_len = head_len;
	return head_len;
}

static int parse_response(struct h1_msg *msg, const unsigned char *p, const unsigned char *end,
			  struct h1_str req_method)
{
	struct fields f = { 0 };
	const unsigned char *s;
	bool no_body;
	int status;

	if (end - p > H1_MAX_HEAD_BYTES)
		return -1;
	if (end - p < 4 || memcmp(end - 4, "\r\n\r\n", 4))
		return -1;
	p = skip_leading(p, end);
	// "HTTP/1.1 200" then CRLF, then the empty line.
	if (!p || end - p < 16)
		return -1;
	if (memcmp(p, "HTTP/1.", 7) || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return -1;
	msg->minor = p[7] - '0';
	if ((unsigned)(p[9] - '1') > 4 || (unsigned)(p[10] - '0') > 9 || (unsigned)(p[11] - '0') > 9)
		return -1;
	status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	msg->status = status;
	p += 12;
	// The reason may be empty, and we also take "HTTP/1.1 200" with no
	// SP at all: the reason carries nothing and framing does not depend
	// on it.
	if (*p == ' ') {
		s = ++p;
		while (cls[*p] & C_VALUE)
			p++;
		msg->reason = mkstr(s, p);
	}
	if (*p != '\r' || p[1] != '\n')
		return -1;
	p += 2;
	if (parse_fields(msg, p, end, false, C_TCHAR, &f))
		return -1;
	if (f.cl_bad || f.cl_differ || f.dup_upgrade)
		return -1;
	if (f.te_fields) {
		if ((msg->flags & H1F_CONTENT_LENGTH) || msg->minor == 0 || f.te_bad || f.te_chunked > 1)
			return -1;
	}

	no_body = status < 200 || status == 204 || status == 304 ||
		  (req_method.len == 4 && !memcmp(req_method.p, "HEAD", 4)) ||
		  (status < 300 && req_method.len == 7 && !memcmp(req_method.p, "CONNECT", 7));
	if (no_body) {
		// RFC 9112 §6.1: no TE on 1xx/204; RFC 9110 §15.3.5: 204 has
		// no content, so a CL other than 0 means the upstream is
		// confused about framing.
		if ((status < 200 || status == 204) && f.te_fields)
			return -1;
		if (status == 204 && (msg->flags & H1F_CONTENT_LENGTH) && msg->content_length)
			return -1;
		msg->framing = H1_BODY_NONE;
	} else if (f.te_fields) {
		if (f.te_last_chunked) {
			msg->flags |= H1F_CHUNKED;
			msg->framing = H1_BODY_CHUNKED;
		} else {
			msg->framing = H1_BODY_EOF;
		}
	} else if (msg->flags & H1F_CONTENT_LENGTH) {
		msg->framing = H1_BODY_LENGTH;
	} else {
		msg->framing = H1_BODY_EOF;
	}
	if ((msg->minor == 0 && !(msg->flags & H1F_CONN_KEEPALIVE)) || msg->framing == H1_BODY_EOF)
		msg->flags |= H1F_CONN_CLOSE;
	return 0;
}

int h1_parse_response(struct h1_msg *msg, const char *buf, size_t head_len,
		      struct h1_str req_method)
{
	const unsigned char *p = (const unsigned char *)buf;

	msg_reset(msg);
	if (parse_response(msg, p, p + head_len, req_method))
		return -EBADMSG;
	msg->head_len = head_len;
	return head_len;
}

int h1_find_header(const struct h1_msg *msg, const char *name, size_t name_len)
{
	for (unsigned i = 0; i < msg->num_headers; i++) {
		const struct h1_str *n = &msg->headers[i].name;
		size_t j;

		if (n->len != name_len)
			continue;
		for (j = 0; j < name_len; j++)
			if (lc(n->p[j]) != lc(name[j]))
				break;
		if (j == name_len)
			return i;
	}
	return -1;
}

static bool str_ieq_str(struct h1_str a, struct h1_str b)
{
	if (a.len != b.len)
		return false;
	for (uint32_t i = 0; i < a.len; i++)
		if (lc(a.p[i]) != lc(b.p[i]))
			return false;
	return true;
}

bool h1_str_ieq(struct h1_str s, const char *lit)
{
	struct h1_str l = { lit, (uint32_t)strlen(lit) };

	return str_ieq_str(s, l);
}

// fixed_hop tells whether name is hop-by-hop by definition.
static bool fixed_hop(const unsigned char *n, size_t len)
{
	switch (len) {
	case 2:
		return IEQ(n, len, "te");
	case 7:
		return IEQ(n, len, "upgrade");
	case 10:
		return IEQ(n, len, "connection") || IEQ(n, len, "keep-alive");
	case 14:
		return IEQ(n, len, "http2-settings");
	case 16:
		return IEQ(n, len, "proxy-connection");
	case 17:
		return IEQ(n, len, "transfer-encoding");
	}
	return false;
}

bool h1_is_hop_by_hop(const struct h1_msg *msg, struct h1_str name)
{
	if (fixed_hop((const unsigned char *)name.p, name.len))
		return true;
	if (!msg || !name.len)
		return false;
	for (unsigned i = 0; i < msg->num_connection; i++) {
		const struct h1_str *v = &msg->headers[msg->connection_idx[i]].value;
		const unsigned char *q = (const unsigned char *)v->p, *ve = q + v->len;
		struct h1_str t;

		while (list_next(&q, ve, &t) > 0)
			if (str_ieq_str(t, name))
				return true;
	}
	return false;
}

// Chunked decoder states; CH_SIZE is 0 so a zeroed struct is ready.
enum {
	CH_SIZE = 0,		// hex digits of the chunk size
	CH_EXT_START,		// after ';': first tchar of an ext name
	CH_EXT_NAME,
	CH_EXT_VAL_START,	// after '=': token or '"'
	CH_EXT_VAL,		// token value
	CH_EXT_QS,		// quoted-string value
	CH_EXT_QP,		// after '\' in a quoted-string
	CH_EXT_QEND,		// after the closing '"'
	CH_SIZE_LF,		// CR seen at the end of the size line
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER,		// a trailer line, or the final empty line
	CH_TRAILER_LF,
	CH_DONE,
	CH_ERROR,
};

void h1_chunked_init(struct h1_chunked *c)
{
	c->state = CH_SIZE;
	c->remaining = 0;
	c->line_len = 0;
	c->trailer_bytes = 0;
	c->ndigits = 0;
	c->tline_len = 0;
}

// trailer_dropped tells whether a trailer field must never reach the
// other side: framing, routing, credentials and hop-by-hop fields.
static bool trailer_dropped(const unsigned char *n, size_t len)
{
	if (len >= 6 && IEQ(n, 6, "proxy-"))
		return true;
	switch (len) {
	case 4:
		return IEQ(n, len, "host");
	case 7:
		return IEQ(n, len, "trailer") || IEQ(n, len, "upgrade");
	case 13:
		return IEQ(n, len, "authorization");
	case 14:
		return IEQ(n, len, "content-length");
	}
	return fixed_hop(n, len);
}

// trailer_line validates one complete trailer field line held in tline
// and reports it unless it is dropped. It returns 0 or -EBADMSG.
static int trailer_line(struct h1_chunked *c, const struct h1_chunked_out *out)
{
	const unsigned char *p = (const unsigned char *)c->tline, *end = p + c->tline_len, *v, *ve;
	const unsigned char *name = p;
	size_t nlen;
	bool underscore = false;

	while (p < end && (cls[*p] & C_TCHAR)) {
		underscore |= *p == '_';
		p++;
	}
	nlen = p - name;
	if (!nlen || p == end || *p != ':')
		return -EBADMSG;
	p++;
	while (p < end && ows(*p))
		p++;
	v = p;
	while (p < end && (cls[*p] & C_VALUE))
		p++;
	if (p != end)
		return -EBADMSG;
	ve = end;
	while (ve > v && ows(ve[-1]))
		ve--;
	// Names with '_' are dropped like in heads (where they are a 400).
	if (underscore || trailer_dropped(name, nlen))
		return 0;
	if (out && out->trailer)
		out->trailer(out->arg, (const char *)name, nlen, (const char *)v, ve - v);
	return 0;
}

ssize_t h1_chunked_feed(struct h1_chunked *c, const char *in, size_t len,
			const struct h1_chunked_out *out, int *out_done)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + len;
	int st = c->state;

	*out_done = 0;
	if (st == CH_ERROR)
		return -EBADMSG;
	while (p < end) {
		unsigned char ch;

		if (st == CH_DATA) {
			size_t n = end - p;

			if (n > c->remaining)
				n = c->remaining;
			if (out && out->data)
				out->data(out->arg, (const char *)p, n);
			p += n;
			c->remaining -= n;
			if (!c->remaining)
				st = CH_DATA_CR;
			continue;
		}
		if (st == CH_DONE)
			break;
		ch = *p++;
		if (st < CH_SIZE_LF && ++c->line_len > H1_MAX_CHUNK_LINE)
			goto bad;
		switch (st) {
		case CH_SIZE:
			if (cls[ch] & C_HEX) {
				if (c->ndigits == 16)
					goto bad;
				c->remaining = c->remaining << 4 | hexval(ch);
				c->ndigits++;
				break;
			}
			if (!c->ndigits)
				goto bad;
			if (ch == ';')
				st = CH_EXT_START;
			else if (ch == '\r')
				st = CH_SIZE_LF;
			else
				goto bad;
			break;
		case CH_EXT_START:
			if (!(cls[ch] & C_TCHAR))
				goto bad;
			st = CH_EXT_NAME;
			break;
		case CH_EXT_NAME:
		case CH_EXT_VAL:
			if (cls[ch] & C_TCHAR)
				break;
			if (ch == '=' && st == CH_EXT_NAME)
				st = CH_EXT_VAL_START;
			else if (ch == ';')
				st = CH_EXT_START;
			else if (ch == '\r')
				st = CH_SIZE_LF;
			else
				goto bad;
			break;
		case CH_EXT_VAL_START:
			if (cls[ch] & C_TCHAR)
				st = CH_EXT_VAL;
			else if (ch == '"')
				st = CH_EXT_QS;
			else
				goto bad;
			break;
		case CH_EXT_QS:
			if (ch == '"')
				st = CH_EXT_QEND;
			else if (ch == '\\')
				st = CH_EXT_QP;
			else if (!(cls[ch] & C_QDTEXT))
				goto bad;
			break;
		case CH_EXT_QP:
			// quoted-pair: HTAB / SP / VCHAR / obs-text
			if (!(cls[ch] & C_VALUE))
				goto bad;
			st = CH_EXT_QS;
			break;
		case CH_EXT_QEND:
			if (ch == ';')
				st = CH_EXT_START;
			else if (ch == '\r')
				st = CH_SIZE_LF;
			else
				goto bad;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				goto bad;
			c->ndigits = 0;
			c->line_len = 0;
			if (c->remaining) {
				st = CH_DATA;
			} else {
				c->trailer_bytes = 0;
				c->tline_len = 0;
				st = CH_TRAILER;
			}
			break;
		case CH_DATA_CR:
			if (ch != '\r')
				goto bad;
			st = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				goto bad;
			st = CH_SIZE;
			break;
		case CH_TRAILER:
			if (++c->trailer_bytes > H1_MAX_TRAILER_BYTES)
				goto bad;
			if (ch == '\r') {
				st = CH_TRAILER_LF;
				break;
			}
			// A bare LF, or a line that starts with whitespace
			// (obs-fold), is never a valid field line.
			if (ch == '\n' || (!c->tline_len && ows(ch)))
				goto bad;
			if (c->tline_len == sizeof(c->tline))
				goto bad;
			c->tline[c->tline_len++] = ch;
			break;
		case CH_TRAILER_LF:
			if (++c->trailer_bytes > H1_MAX_TRAILER_BYTES || ch != '\n')
				goto bad;
			if (!c->tline_len) {
				st = CH_DONE;
				break;
			}
			if (trailer_line(c, out) < 0)
				goto bad;
			c->tline_len = 0;
			st = CH_TRAILER;
			break;
		default:
			goto bad;
		}
	}
	c->state = st;
	*out_done = st == CH_DONE;
	return (const char *)p - in;
bad:
	c->state = CH_ERROR;
	return -EBADMSG;
}

size_t h1_chunk_size_line(char *out, uint64_t len)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0, i;

	do {
		tmp[n++] = hex[len & 15];
		len >>= 4;
	} while (len);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\r';
	out[n + 1] = '\n';
	out[n + 2] = 0;
	return n + 2;
}

const char *h1_status_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 102: return "Processing";
	case 103: return "Early Hints";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 203: return "Non-Authoritative Information";
	case 204: return "No Content";
	case 205: return "Reset Content";
	case 206: return "Partial Content";
	case 207: return "Multi-Status";
	case 208: return "Already Reported";
	case 226: return "IM Used";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 305: return "Use Proxy";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 418: return "I'm a teapot";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Content";
	case 423: return "Locked";
	case 424: return "Failed Dependency";
	case 425: return "Too Early";
	case 426: return "Upgrade Required";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 451: return "Unavailable For Legal Reasons";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 506: return "Variant Also Negotiates";
	case 507: return "Insufficient Storage";
	case 508: return "Loop Detected";
	case 510: return "Not Extended";
	case 511: return "Network Authentication Required";
	}
	return "Unknown";
}
