// SPDX-License-Identifier: Apache-2.0
// spiffe.c: SPIFFE IDs per the SPIFFE-ID standard, strict: one pass over the
// bytes, every rule a static reason, nothing decoded or normalized.
#include "ca/spiffe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char scheme[] = "spiffe://";
enum { SCHEME_LEN = sizeof(scheme) - 1 };

// td_char says whether c may appear in a trust domain: [a-z0-9.-_].
static bool td_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

// seg_char says whether c may appear in a path segment: [A-Za-z0-9.-_].
static bool seg_char(unsigned char c)
{
	return td_char(c) || (c >= 'A' && c <= 'Z');
}

// uri_reason names the URI feature a forbidden character introduces, so the
// caller learns "port not allowed" rather than "bad character".
static const char *uri_reason(unsigned char c, bool in_td)
{
	switch (c) {
	case '%':
		return "percent-encoding not allowed";
	case '?':
		return "query not allowed";
	case '#':
		return "fragment not allowed";
	case '@':
		return in_td ? "userinfo not allowed" : "bad character in path";
	case ':':
		return in_td ? "port not allowed" : "bad character in path";
	case '\0':
		return "NUL byte in ID";
	}
	if (c >= 0x80)
		return in_td ? "non-ASCII byte in trust domain" : "non-ASCII byte in path";
	if (in_td && c >= 'A' && c <= 'Z')
		return "uppercase in trust domain";
	return in_td ? "bad character in trust domain" : "bad character in path";
}

// td_check validates a trust domain and returns NULL or a static reason.
static const char *td_check(const char *td, size_t len)
{
	if (len == 0)
		return "empty trust domain";
	if (len > SPIFFE_MAX_TD)
		return "trust domain longer than 255 bytes";
	for (size_t i = 0; i < len; i++)
		if (!td_char((unsigned char)td[i]))
			return uri_reason((unsigned char)td[i], true);
	return NULL;
}

// seg_check validates one path segment (no slashes) and returns NULL or a
// static reason.
static const char *seg_check(const char *s, size_t len)
{
	if (len == 0)
		return "empty path segment";
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return "dot segment in path";
	for (size_t i = 0; i < len; i++)
		if (!seg_char((unsigned char)s[i]))
			return uri_reason((unsigned char)s[i], false);
	return NULL;
}

// path_check validates p[0..len), which is "" or starts with '/', and
// returns NULL or a static reason.
static const char *path_check(const char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		// p[i] == '/': the segment runs to the next '/' or the end.
		const char *seg = p + i + 1;
		const char *end = memchr(seg, '/', len - i - 1);
		size_t seg_len = end ? (size_t)(end - seg) : len - i - 1;
		const char *why;

		if (seg_len == 0 && i + 1 == len)
			return "trailing slash in path";
		if ((why = seg_check(seg, seg_len)) != NULL)
			return why;
		i += 1 + seg_len;
	}
	return NULL;
}

int spiffe_parse(const char *s, size_t len, struct spiffe_id *out, const char **why)
{
	const char *reason = NULL;
	const char *td, *slash;
	size_t td_len;

	if (s == NULL) {
		reason = "no ID";
		goto out_inval;
	}
	if (len > SPIFFE_MAX_ID) {
		reason = "ID longer than 2048 bytes";
		goto out_inval;
	}
	// A NUL anywhere is an error even where another rule would also catch
	// it: C string handling downstream would silently truncate the ID.
	if (memchr(s, '\0', len) != NULL) {
		reason = "NUL byte in ID";
		goto out_inval;
	}
	if (len < SCHEME_LEN || memcmp(s, scheme, SCHEME_LEN) != 0) {
		if (len >= SCHEME_LEN && strncasecmp(s, scheme, SCHEME_LEN) == 0)
			reason = "scheme must be lowercase spiffe://";
		else
			reason = "scheme is not spiffe://";
		goto out_inval;
	}
	td = s + SCHEME_LEN;
	slash = memchr(td, '/', len - SCHEME_LEN);
	td_len = slash ? (size_t)(slash - td) : len - SCHEME_LEN;
	if ((reason = td_check(td, td_len)) != NULL)
		goto out_inval;
	if ((reason = path_check(td + td_len, len - SCHEME_LEN - td_len)) != NULL)
		goto out_inval;

	if (out != NULL) {
		memcpy(out->id, s, len);
		out->id[len] = '\0';
		memcpy(out->td, td, td_len);
		out->td[td_len] = '\0';
		out->path = out->id + SCHEME_LEN + td_len;
	}
	if (why != NULL)
		*why = NULL;
	return 0;
out_inval:
	if (why != NULL)
		*why = reason;
	return -EINVAL;
}

bool spiffe_td_valid(const char *td, size_t len)
{
	return td != NULL && td_check(td, len) == NULL;
}

// name_valid says whether a namespace or service account can stand as one
// path segment of an Istio ID and still fit spiffe_istio_split's buffers.
static bool name_valid(const char *s, size_t len)
{
	return len <= SPIFFE_MAX_NAME && seg_check(s, len) == NULL;
}

int spiffe_istio_id(char *out, size_t out_len, const char *td, const char *ns,
		    const char *sa)
{
	int n;

	if (out == NULL || td == NULL || ns == NULL || sa == NULL)
		return -EINVAL;
	if (!spiffe_td_valid(td, strlen(td)) || !name_valid(ns, strlen(ns)) ||
	    !name_valid(sa, strlen(sa)))
		return -EINVAL;
	n = snprintf(out, out_len, "spiffe://%s/ns/%s/sa/%s", td, ns, sa);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= out_len)
		return -ENOSPC;
	return n;
}

int spiffe_istio_split(const struct spiffe_id *id, char ns[SPIFFE_MAX_NAME + 1],
		       char sa[SPIFFE_MAX_NAME + 1])
{
	const char *p, *ns_end, *sa_p;
	size_t ns_len, sa_len;

	if (id == NULL || id->path == NULL || ns == NULL || sa == NULL)
		return -EINVAL;
	p = id->path;
	if (strncmp(p, "/ns/", 4) != 0)
		return -EINVAL;
	p += 4;
	ns_end = strchr(p, '/');
	if (ns_end == NULL)
		return -EINVAL;
	ns_len = (size_t)(ns_end - p);
	if (strncmp(ns_end, "/sa/", 4) != 0)
		return -EINVAL;
	sa_p = ns_end + 4;
	sa_len = strlen(sa_p);
	// The ID was parsed, but a caller may have filled the struct by hand:
	// re-check both names rather than trust it. A '/' in sa_p (a fifth
	// segment) fails name_valid like any other non-segment character.
	if (!name_valid(p, ns_len) || !name_valid(sa_p, sa_len))
		return -EINVAL;
	memcpy(ns, p, ns_len);
	ns[ns_len] = '\0';
	memcpy(sa, sa_p, sa_len);
	sa[sa_len] = '\0';
	return 0;
}
