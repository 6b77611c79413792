// SPDX-License-Identifier: Apache-2.0
// verify.h: X.509-SVID peer validation against trust bundles, with the
// SPIFFE rules on top of RFC 5280 path validation: exactly one URI SAN that
// is a valid SPIFFE ID in the trust domain of the root that anchored the
// chain, leaf not a CA, key usage present with digitalSignature, EKU for the
// role, chain depth bounded, validity with a bounded clock skew. Fails closed
// on unknown critical extensions and unsupported name constraints.
#ifndef MG_CA_VERIFY_H
#define MG_CA_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/base.h>
#include <openssl/x509.h>

#include "spiffe.h"

enum {
	SVID_MAX_DEPTH = 5,		// certificates in a chain, leaf included
	SVID_SKEW_S = 60,		// allowed clock skew on either side
	BUNDLE_MAX_DOMAINS = 16,
};

// A trust bundle: roots per trust domain (one for the mesh, more for
// federation). Immutable once built; shared read-only between threads.
// Start from a zeroed struct; build it with bundle_add_pem on one thread
// before sharing it.
struct trust_bundle {
	uint64_t version;		// changes with the contents (resumption keys on it)
	int num_domains;
	struct {
		char td[SPIFFE_MAX_TD + 1];
		STACK_OF(X509) *roots;
		X509_STORE *store;	// roots, built by bundle_add_pem; read-only after
	} domains[BUNDLE_MAX_DOMAINS];
};

// bundle_add_pem adds the certificates of a PEM file's text as roots of
// trust domain td. A certificate already in td is skipped, so the bundle's
// contents are a set. b->version becomes an XXH3 hash of the contents that
// is independent of the order of additions. It returns the number added or
// -EINVAL (bad td, unparsable PEM, no certificate, too many domains); -ENOMEM
// on allocation failure. On error b is unchanged.
int bundle_add_pem(struct trust_bundle *b, const char *td, const char *pem, size_t len);

// bundle_free releases every root and store of b and zeroes it. NULL is a
// no-op.
void bundle_free(struct trust_bundle *b);

enum svid_role {
	SVID_PEER_IS_CLIENT,		// we are the server: EKU must allow clientAuth
	SVID_PEER_IS_SERVER,		// we are the client: EKU must allow serverAuth
};

// svid_verify validates leaf with the untrusted intermediates in chain (may
// be NULL; the leaf may appear in it) against b at time now. On success it
// returns 0 and fills *id with the leaf's SPIFFE ID; otherwise -EACCES with
// a static reason in *why. Validity allows SVID_SKEW_S either side (how:
// chain_build_skew in verify.c). On failure *id is cleared; id and why may
// be NULL. Safe to call from many threads on one bundle.
int svid_verify(const struct trust_bundle *b, X509 *leaf, STACK_OF(X509) *chain,
		enum svid_role role, int64_t now, struct spiffe_id *id, const char **why);

#endif
