// SPDX-License-Identifier: Apache-2.0
// spiffe.h: SPIFFE IDs as the SPIFFE-ID standard defines them: parsing with
// every rule enforced (scheme, trust-domain characters, path segments, no
// percent-encoding, userinfo, port, query or fragment, length), and the
// Istio form spiffe://<td>/ns/<ns>/sa/<sa>.
#ifndef MG_CA_SPIFFE_H
#define MG_CA_SPIFFE_H

#include <stdbool.h>
#include <stddef.h>

enum {
	SPIFFE_MAX_ID = 2048,		// bytes, the whole URI
	SPIFFE_MAX_TD = 255,		// bytes, the trust domain
	SPIFFE_MAX_NAME = 253,		// a Kubernetes namespace or service account
};

struct spiffe_id {
	char id[SPIFFE_MAX_ID + 1];	// the whole ID, NUL-terminated
	char td[SPIFFE_MAX_TD + 1];	// trust domain
	const char *path;		// into id: "" for a trust-domain ID, else "/..."
};

// spiffe_parse validates s[0..len) (which may contain NULs: they are an
// error) and fills *out. It returns 0, or -EINVAL with a static reason in
// *why ("uppercase in trust domain", "empty path segment", ...).
int spiffe_parse(const char *s, size_t len, struct spiffe_id *out, const char **why);

// spiffe_td_valid says whether td is a valid trust domain name.
bool spiffe_td_valid(const char *td, size_t len);

// spiffe_istio_id writes "spiffe://td/ns/ns/sa/sa" into out. Namespace and
// service account must be valid path segments. It returns the length, or
// -EINVAL / -ENOSPC.
int spiffe_istio_id(char *out, size_t out_len, const char *td, const char *ns,
		    const char *sa);

// spiffe_istio_split reads the Istio form's namespace and service account
// from a parsed ID. It returns 0, or -EINVAL if the path is not exactly
// /ns/<ns>/sa/<sa>.
int spiffe_istio_split(const struct spiffe_id *id, char ns[SPIFFE_MAX_NAME + 1],
		       char sa[SPIFFE_MAX_NAME + 1]);

#endif
