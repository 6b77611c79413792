// SPDX-License-Identifier: Apache-2.0
// spiffe_test: SPIFFE ID parsing against a table of valid and invalid IDs
// (hardening.md 2.7 item 3 and the SPIFFE-ID standard), and the Istio form.
#include "ca/spiffe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

// One table row: s[0..len) (len 0: strlen), and either the parts a valid ID
// yields or a substring of the reason an invalid one gets.
struct id_case {
	const char *s;
	size_t len;
	bool ok;
	const char *td;		// ok: expected trust domain
	const char *path;	// ok: expected path
	const char *why;	// !ok: expected reason substring
};

static const struct id_case id_cases[] = {
	{ "spiffe://td/x", 0, true, "td", "/x", NULL },
	{ "spiffe://example.org/ns/default/sa/web", 0, true, "example.org", "/ns/default/sa/web", NULL },
	{ "spiffe://td", 0, true, "td", "", NULL },			// trust-domain (root-only) ID
	{ "spiffe://td/Ns/A/Sa/B", 0, true, "td", "/Ns/A/Sa/B", NULL },	// uppercase path is valid
	{ "spiffe://td_1.example-x/seg_1.a-b/Z9", 0, true, "td_1.example-x", "/seg_1.a-b/Z9", NULL },
	{ "spiffe://td/...", 0, true, "td", "/...", NULL },		// only "." and ".." are dot segments
	{ "spiffe://td/.a/a./..b", 0, true, "td", "/.a/a./..b", NULL },
	{ "spiffe://a/b/c/d/e/f/g", 0, true, "a", "/b/c/d/e/f/g", NULL },
	// hardening.md 2.7 item 3, in order.
	{ "spiffe://td:443/x", 0, false, NULL, NULL, "port" },
	{ "spiffe://u@td/x", 0, false, NULL, NULL, "userinfo" },
	{ "spiffe://td/x?y", 0, false, NULL, NULL, "query" },
	{ "spiffe://td/x#y", 0, false, NULL, NULL, "fragment" },
	{ "spiffe://td/a/../b", 0, false, NULL, NULL, "dot segment" },
	{ "spiffe://td/a//b", 0, false, NULL, NULL, "empty path segment" },
	{ "spiffe://td/a%2Fb", 0, false, NULL, NULL, "percent" },
	{ "spiffe://td/x/", 0, false, NULL, NULL, "trailing slash" },
	{ "SPIFFE://td/x", 0, false, NULL, NULL, "lowercase" },
	{ "spiffe:///x", 0, false, NULL, NULL, "empty trust domain" },
	// item 2: uppercase trust domain.
	{ "spiffe://TD.example/ns/a/sa/b", 0, false, NULL, NULL, "uppercase in trust domain" },
	{ "spiffe://tD/x", 0, false, NULL, NULL, "uppercase in trust domain" },
	// scheme
	{ "Spiffe://td/x", 0, false, NULL, NULL, "lowercase" },
	{ "https://td/x", 0, false, NULL, NULL, "scheme" },
	{ "spiffe:/td/x", 0, false, NULL, NULL, "scheme" },
	{ "spiffe:td/x", 0, false, NULL, NULL, "scheme" },
	{ "", 0, false, NULL, NULL, "scheme" },
	{ "spiffe://", 0, false, NULL, NULL, "empty trust domain" },
	// dot and empty segments
	{ "spiffe://td/.", 0, false, NULL, NULL, "dot segment" },
	{ "spiffe://td/..", 0, false, NULL, NULL, "dot segment" },
	{ "spiffe://td/a/./b", 0, false, NULL, NULL, "dot segment" },
	{ "spiffe://td/", 0, false, NULL, NULL, "trailing slash" },
	{ "spiffe://td//", 0, false, NULL, NULL, "empty path segment" },
	{ "spiffe://td//a", 0, false, NULL, NULL, "empty path segment" },
	// percent-encoding anywhere
	{ "spiffe://td/a%20b", 0, false, NULL, NULL, "percent" },
	{ "spiffe://td/%", 0, false, NULL, NULL, "percent" },
	{ "spiffe://td%2e/x", 0, false, NULL, NULL, "percent" },
	// query, fragment, port, userinfo in odd places
	{ "spiffe://td?x", 0, false, NULL, NULL, "query" },
	{ "spiffe://td#x", 0, false, NULL, NULL, "fragment" },
	{ "spiffe://td:/x", 0, false, NULL, NULL, "port" },
	{ "spiffe://@td/x", 0, false, NULL, NULL, "userinfo" },
	{ "spiffe://td/x:y", 0, false, NULL, NULL, "bad character in path" },
	{ "spiffe://td/x@y", 0, false, NULL, NULL, "bad character in path" },
	// other characters
	{ "spiffe://td/a b", 0, false, NULL, NULL, "bad character in path" },
	{ "spiffe://td/a+b", 0, false, NULL, NULL, "bad character in path" },
	{ "spiffe://td/a\\b", 0, false, NULL, NULL, "bad character in path" },
	{ "spiffe://t d/x", 0, false, NULL, NULL, "bad character in trust domain" },
	{ "spiffe://[::1]/x", 0, false, NULL, NULL, "bad character in trust domain" },
	{ "spiffe://td\\x", 0, false, NULL, NULL, "bad character in trust domain" },
	// unicode (UTF-8) in either part
	{ "spiffe://t\xc3\xabst/x", 0, false, NULL, NULL, "non-ASCII byte in trust domain" },
	{ "spiffe://td/caf\xc3\xa9", 0, false, NULL, NULL, "non-ASCII byte in path" },
	{ "spiffe://td/\xff", 0, false, NULL, NULL, "non-ASCII" },
	// NUL bytes: explicit lengths so the NUL is inside the input
	{ "spiffe://td/a\0b", 15, false, NULL, NULL, "NUL" },
	{ "spiffe://t\0d/x", 14, false, NULL, NULL, "NUL" },
	{ "spiffe://td/x\0", 14, false, NULL, NULL, "NUL" },
};

// long_id builds "spiffe://td/aaaa..." of exactly n bytes.
static char *long_id(size_t n)
{
	char *s = malloc(n + 1);

	memset(s, 'a', n);
	memcpy(s, "spiffe://td/", 12);
	s[n] = '\0';
	return s;
}

// long_td builds "spiffe://<td_len x 'a'>/x".
static char *long_td(size_t td_len)
{
	char *s = malloc(td_len + 12);

	memcpy(s, "spiffe://", 9);
	memset(s + 9, 'a', td_len);
	memcpy(s + 9 + td_len, "/x", 3);
	return s;
}

static void run_case(const char *label, const char *s, size_t len, bool ok, const char *td,
		     const char *path, const char *why_sub)
{
	struct spiffe_id id;
	const char *why = "unset";
	int rc;

	memset(&id, 0x5a, sizeof(id));
	rc = spiffe_parse(s, len, &id, &why);
	if (ok) {
		if (rc != 0) {
			printf("FAIL %s: want valid, got %d (%s)\n", label, rc, why);
			failures++;
			return;
		}
		if (strlen(id.id) != len || memcmp(id.id, s, len) != 0 ||
		    (td && strcmp(id.td, td) != 0) || (path && strcmp(id.path, path) != 0) ||
		    id.path < id.id || id.path > id.id + len) {
			printf("FAIL %s: parts td=%s path=%s\n", label, id.td, id.path);
			failures++;
		}
		return;
	}
	if (rc != -EINVAL || why == NULL || strstr(why, why_sub) == NULL) {
		printf("FAIL %s: want -EINVAL \"%s\", got %d \"%s\"\n", label, why_sub, rc,
		       why ? why : "(null)");
		failures++;
	}
	// The output is untouched on failure.
	if (rc != 0 && ((unsigned char *)&id)[0] != 0x5a) {
		printf("FAIL %s: output written on failure\n", label);
		failures++;
	}
}

static void test_table(void)
{
	char label[64];
	char *s;

	for (size_t i = 0; i < sizeof(id_cases) / sizeof(id_cases[0]); i++) {
		const struct id_case *c = &id_cases[i];
		size_t len = c->len ? c->len : strlen(c->s);

		snprintf(label, sizeof(label), "case %zu (%.30s)", i, c->s);
		run_case(label, c->s, len, c->ok, c->td, c->path, c->why);
	}
	// Length limits: the whole ID, then the trust domain.
	s = long_id(SPIFFE_MAX_ID);
	run_case("2048-byte ID", s, SPIFFE_MAX_ID, true, "td", NULL, NULL);
	free(s);
	s = long_id(SPIFFE_MAX_ID + 1);
	run_case("2049-byte ID", s, SPIFFE_MAX_ID + 1, false, NULL, NULL, "longer than 2048");
	free(s);
	s = long_td(SPIFFE_MAX_TD);
	run_case("255-byte td", s, strlen(s), true, NULL, "/x", NULL);
	free(s);
	s = long_td(SPIFFE_MAX_TD + 1);
	run_case("256-byte td", s, strlen(s), false, NULL, NULL, "trust domain longer");
	free(s);
	run_case("NULL input", NULL, 0, false, NULL, NULL, "no ID");
	printf("spiffe_test: %zu table IDs + 5 length/NULL cases\n",
	       sizeof(id_cases) / sizeof(id_cases[0]));
}

static void test_td_valid(void)
{
	CHECK(spiffe_td_valid("cluster.local", 13));
	CHECK(spiffe_td_valid("a-b_c.0", 7));
	CHECK(!spiffe_td_valid("", 0));
	CHECK(!spiffe_td_valid(NULL, 0));
	CHECK(!spiffe_td_valid("Cluster.local", 13));
	CHECK(!spiffe_td_valid("td:80", 5));
	CHECK(!spiffe_td_valid("t\0d", 3));
	CHECK(!spiffe_td_valid("td/x", 4));
}

static void test_istio(void)
{
	char buf[SPIFFE_MAX_ID + 1], ns[SPIFFE_MAX_NAME + 1], sa[SPIFFE_MAX_NAME + 1];
	char big[SPIFFE_MAX_NAME + 2];
	struct spiffe_id id;
	const char *want = "spiffe://cluster.local/ns/default/sa/web-1";
	int n;

	// Round trip: build, parse, split.
	n = spiffe_istio_id(buf, sizeof(buf), "cluster.local", "default", "web-1");
	CHECK(n == (int)strlen(want) && strcmp(buf, want) == 0);
	CHECK(spiffe_parse(buf, (size_t)n, &id, NULL) == 0);
	CHECK(spiffe_istio_split(&id, ns, sa) == 0);
	CHECK(strcmp(ns, "default") == 0 && strcmp(sa, "web-1") == 0);
	CHECK(strcmp(id.td, "cluster.local") == 0);

	// Exact fit, one byte short.
	CHECK(spiffe_istio_id(buf, strlen(want) + 1, "cluster.local", "default", "web-1") == n);
	CHECK(spiffe_istio_id(buf, strlen(want), "cluster.local", "default", "web-1") == -ENOSPC);
	CHECK(spiffe_istio_id(buf, 0, "cluster.local", "default", "web-1") == -ENOSPC);

	// Names must be valid path segments, the td a valid trust domain.
	CHECK(spiffe_istio_id(buf, sizeof(buf), "cluster.local", "", "web") == -EINVAL);
	CHECK(spiffe_istio_id(buf, sizeof(buf), "cluster.local", "a/b", "web") == -EINVAL);
	CHECK(spiffe_istio_id(buf, sizeof(buf), "cluster.local", "..", "web") == -EINVAL);
	CHECK(spiffe_istio_id(buf, sizeof(buf), "cluster.local", ".", "web") == -EINVAL);
	CHECK(spiffe_istio_id(buf, sizeof(buf), "cluster.local", "ns", "a%2fb") == -EINVAL);
	CHECK(spiffe_istio_id(buf, sizeof(buf), "cluster.local", "ns", "a?b") == -EINVAL);
	CHECK(spiffe_istio_id(buf, sizeof(buf), "Cluster.local", "ns", "sa") == -EINVAL);
	CHECK(spiffe_istio_id(buf, sizeof(buf), "", "ns", "sa") == -EINVAL);
	CHECK(spiffe_istio_id(buf, sizeof(buf), NULL, "ns", "sa") == -EINVAL);
	CHECK(spiffe_istio_id(NULL, 10, "td", "ns", "sa") == -EINVAL);
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';	// 254 bytes: one over SPIFFE_MAX_NAME
	CHECK(spiffe_istio_id(buf, sizeof(buf), "td", big, "sa") == -EINVAL);
	CHECK(spiffe_istio_id(buf, sizeof(buf), "td", "ns", big) == -EINVAL);
	big[SPIFFE_MAX_NAME] = '\0';	// 253: fits
	n = spiffe_istio_id(buf, sizeof(buf), "td", big, big);
	CHECK(n > 0 && spiffe_parse(buf, (size_t)n, &id, NULL) == 0);
	CHECK(spiffe_istio_split(&id, ns, sa) == 0 && strcmp(ns, big) == 0 && strcmp(sa, big) == 0);

	// Split needs exactly /ns/<ns>/sa/<sa>.
	static const char *const bad[] = {
		"spiffe://td",
		"spiffe://td/ns/a",
		"spiffe://td/ns/a/sa",
		"spiffe://td/ns/a/sa/b/c",
		"spiffe://td/ns/a/xx/b",
		"spiffe://td/NS/a/sa/b",
		"spiffe://td/ns/a/SA/b",
		"spiffe://td/x/ns/a/sa/b",
		"spiffe://td/sa/b/ns/a",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (spiffe_parse(bad[i], strlen(bad[i]), &id, NULL) != 0) {
			printf("FAIL split setup: %s does not parse\n", bad[i]);
			failures++;
			continue;
		}
		strcpy(ns, "keep");
		if (spiffe_istio_split(&id, ns, sa) != -EINVAL || strcmp(ns, "keep") != 0) {
			printf("FAIL split accepted %s\n", bad[i]);
			failures++;
		}
	}
	// A 254-byte namespace is a valid ID but not an Istio one.
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(buf, sizeof(buf), "spiffe://td/ns/%s/sa/x", big);
	CHECK(spiffe_parse(buf, strlen(buf), &id, NULL) == 0);
	CHECK(spiffe_istio_split(&id, ns, sa) == -EINVAL);

	// A struct filled by hand is re-checked, not trusted.
	memset(&id, 0, sizeof(id));
	strcpy(id.id, "spiffe://td/ns//sa/b");
	strcpy(id.td, "td");
	id.path = id.id + 11;
	CHECK(spiffe_istio_split(&id, ns, sa) == -EINVAL);
	strcpy(id.id, "spiffe://td/ns/a/sa/b/");
	CHECK(spiffe_istio_split(&id, ns, sa) == -EINVAL);
	strcpy(id.id, "spiffe://td/ns/../sa/b");
	CHECK(spiffe_istio_split(&id, ns, sa) == -EINVAL);
	id.path = NULL;
	CHECK(spiffe_istio_split(&id, ns, sa) == -EINVAL);
	CHECK(spiffe_istio_split(NULL, ns, sa) == -EINVAL);
}

int main(void)
{
	test_table();
	test_td_valid();
	test_istio();
	printf("%s\n", failures ? "spiffe_test: FAILED" : "spiffe_test: ok");
	return failures ? 1 : 0;
}
