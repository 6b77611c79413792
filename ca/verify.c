// SPDX-License-Identifier: Apache-2.0
// verify.c: X.509-SVID peer validation: BoringSSL builds and checks the path
// (X509_STORE per trust domain), then the X509-SVID rules are enforced on top.
#include "ca/verify.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/hash.h"
#include "core/log.h"

// Untrusted certificates a peer may send beside its leaf. A valid chain
// needs at most SVID_MAX_DEPTH - 1; the slack tolerates a peer that also
// sends its root or a cross-signed alternative, the bound keeps a peer from
// making path building chew through a long list.
enum { MAX_UNTRUSTED = 2 * SVID_MAX_DEPTH };

// Why a path-building attempt failed: the X509_V_ERR_* code, the depth of
// the certificate it is about, and how long the partial chain got.
struct vfail {
	int err;
	int depth;
	int num;
};

// has_spiffe says whether p[0..len) contains "spiffe://" in any case. It
// reads raw bytes, so a NUL does not hide what follows it.
static bool has_spiffe(const unsigned char *p, size_t len)
{
	static const char pat[] = "spiffe://";
	const size_t pat_len = sizeof(pat) - 1;

	for (size_t i = 0; i + pat_len <= len; i++) {
		size_t j = 0;

		while (j < pat_len && (p[i + j] | 0x20) == (unsigned char)pat[j])
			j++;
		if (j == pat_len)
			return true;
	}
	return false;
}

// str_has_spiffe is has_spiffe over an ASN1 string's bytes.
static bool str_has_spiffe(const ASN1_STRING *s)
{
	return s != NULL && has_spiffe(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
}

// name_has_spiffe says whether any attribute of nm mentions spiffe://. Values
// are converted to UTF-8 first so BMPString and UniversalString encodings
// are seen too; an attribute that does not convert counts as a hit (fail
// closed: we cannot tell what it says).
static bool name_has_spiffe(const X509_NAME *nm)
{
	for (int i = 0; i < X509_NAME_entry_count(nm); i++) {
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i));
		unsigned char *utf8 = NULL;
		int len = ASN1_STRING_to_UTF8(&utf8, v);
		bool hit;

		if (len < 0)
			return true;
		hit = has_spiffe(utf8, (size_t)len);
		OPENSSL_free(utf8);
		if (hit)
			return true;
	}
	return false;
}

// serial_check applies RFC 5280 4.1.2.2: positive, at most 20 octets in its
// DER encoding (the sign padding counts).
static const char *serial_check(X509 *x)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	const unsigned char *p;
	int len;

	if (sn == NULL)
		return "bad serial: missing";
	if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER)
		return "bad serial: negative";
	p = ASN1_STRING_get0_data(sn);
	len = ASN1_STRING_length(sn);
	while (len > 0 && p[0] == 0) {
		p++;
		len--;
	}
	if (len == 0)
		return "bad serial: zero";
	if (len + (p[0] & 0x80 ? 1 : 0) > 20)
		return "bad serial: longer than 20 bytes";
	return NULL;
}

// leaf_id finds the leaf's one URI SAN and parses it into *sid. Any other
// place that carries "spiffe://" (DNS, email, otherName or directoryName
// SANs, the subject) is refused outright rather than ignored: a peer that
// puts an ID there is probing for type confusion (CVE-2022-21656).
static const char *leaf_id(X509 *leaf, struct spiffe_id *sid)
{
	GENERAL_NAMES *names;
	const ASN1_IA5STRING *uri = NULL;
	const char *why = NULL;
	int crit = -1, num_uri = 0;

	names = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
	if (names == NULL && crit != -1)
		return "invalid SAN extension";
	for (size_t i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gen = sk_GENERAL_NAME_value(names, i);
		const ASN1_TYPE *v;

		switch (gen->type) {
		case GEN_URI:
			num_uri++;
			uri = gen->d.uniformResourceIdentifier;
			break;
		case GEN_DNS:
		case GEN_EMAIL:
			if (str_has_spiffe(gen->d.ia5))
				why = "spiffe ID in a non-URI SAN";
			break;
		case GEN_OTHERNAME:
			v = gen->d.otherName->value;
			if (v != NULL && v->type != V_ASN1_BOOLEAN && v->type != V_ASN1_NULL &&
			    v->type != V_ASN1_OBJECT && str_has_spiffe(v->value.asn1_string))
				why = "spiffe ID in a non-URI SAN";
			break;
		case GEN_DIRNAME:
			if (name_has_spiffe(gen->d.directoryName))
				why = "spiffe ID in a non-URI SAN";
			break;
		default:
			break;
		}
		if (why != NULL)
			goto out_names;
	}
	if (name_has_spiffe(X509_get_subject_name(leaf))) {
		why = "spiffe ID in the subject";
		goto out_names;
	}
	if (num_uri == 0) {
		why = "no URI SAN";
		goto out_names;
	}
	if (num_uri > 1) {
		why = "two URI SANs or more";
		goto out_names;
	}
	if (spiffe_parse((const char *)ASN1_STRING_get0_data(uri),
			 (size_t)ASN1_STRING_length(uri), sid, &why) < 0)
		goto out_names;
	if (sid->path[0] == '\0')
		why = "leaf ID has no path (trust-domain ID)";
out_names:
	GENERAL_NAMES_free(names);
	return why;
}

// leaf_check applies the X509-SVID leaf rules that need no chain, cheapest
// first, and fills *sid with the leaf's ID.
static const char *leaf_check(X509 *leaf, enum svid_role role, struct spiffe_id *sid)
{
	uint32_t flags = X509_get_extension_flags(leaf);
	uint32_t ku, eku;
	const char *why;
	int idx;

	if (flags & EXFLAG_INVALID)
		return "invalid or duplicated extension";
	if ((why = serial_check(leaf)) != NULL)
		return why;
	if ((why = leaf_id(leaf, sid)) != NULL)
		return why;
	if (flags & EXFLAG_CA)
		return "leaf is a CA (basicConstraints cA=true)";
	if (!(flags & EXFLAG_KUSAGE))
		return "bad key usage: extension missing";
	idx = X509_get_ext_by_NID(leaf, NID_key_usage, -1);
	if (idx < 0 || !X509_EXTENSION_get_critical(X509_get_ext(leaf, idx)))
		return "bad key usage: extension not critical";
	ku = X509_get_key_usage(leaf);
	if (ku & (KU_KEY_CERT_SIGN | KU_CRL_SIGN))
		return "leaf is a CA (key usage keyCertSign or cRLSign)";
	if (!(ku & KU_DIGITAL_SIGNATURE))
		return "bad key usage: no digitalSignature";
	if (flags & EXFLAG_XKUSAGE) {
		eku = X509_get_extended_key_usage(leaf);
		if (role == SVID_PEER_IS_CLIENT && !(eku & XKU_SSL_CLIENT))
			return "EKU does not allow client auth";
		if (role == SVID_PEER_IS_SERVER && !(eku & XKU_SSL_SERVER))
			return "EKU does not allow server auth";
	}
	return NULL;
}

// untrusted_build copies chain's pointers (no references: the stack lives
// only as long as the call) minus any copy of the leaf into *out.
static const char *untrusted_build(X509 *leaf, STACK_OF(X509) *chain, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk;

	*out = NULL;
	if (chain == NULL)
		return NULL;
	if ((sk = sk_X509_new_null()) == NULL)
		return "out of memory";
	for (size_t i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		if (x == NULL || x == leaf || X509_cmp(x, leaf) == 0)
			continue;
		if (sk_X509_num(sk) >= MAX_UNTRUSTED) {
			sk_X509_free(sk);
			return "chain too long";
		}
		if (!sk_X509_push(sk, x)) {
			sk_X509_free(sk);
			return "out of memory";
		}
	}
	*out = sk;
	return NULL;
}

// chain_build runs BoringSSL's path validation of leaf against one trust
// domain's store at time t. It returns the context that holds the verified
// chain (the caller frees it), or NULL with *f filled.
static X509_STORE_CTX *chain_build(X509_STORE *store, X509 *leaf, STACK_OF(X509) *untrusted,
				   int purpose, int64_t t, struct vfail *f)
{
	X509_STORE_CTX *ctx;
	X509_VERIFY_PARAM *param;
	STACK_OF(X509) *built;

	f->err = X509_V_ERR_OUT_OF_MEM;
	f->depth = 0;
	f->num = 0;
	if ((ctx = X509_STORE_CTX_new()) == NULL)
		return NULL;
	if (!X509_STORE_CTX_init(ctx, store, leaf, untrusted))
		goto out_ctx;
	param = X509_STORE_CTX_get0_param(ctx);
	// X509_V_FLAG_X509_STRICT is 0 in BoringSSL (strict is the default);
	// set it anyway so a library where it means something gets it.
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
	X509_VERIFY_PARAM_clear_flags(param, X509_V_FLAG_PARTIAL_CHAIN |
				      X509_V_FLAG_IGNORE_CRITICAL);
	// This BoringSSL stops building at depth + 1 certificates, leaf and
	// root included (OpenSSL 1.1+ at depth + 2); either way chain_check
	// enforces SVID_MAX_DEPTH exactly on what was built.
	X509_VERIFY_PARAM_set_depth(param, SVID_MAX_DEPTH - 1);
	X509_VERIFY_PARAM_set_time(param, (time_t)t);
	if (!X509_STORE_CTX_set_purpose(ctx, purpose)) {
		f->err = X509_V_ERR_INVALID_CALL;
		goto out_ctx;
	}
	if (X509_verify_cert(ctx) == 1)
		return ctx;
	f->err = X509_STORE_CTX_get_error(ctx);
	if (f->err == X509_V_OK)
		f->err = X509_V_ERR_UNSPECIFIED;
	f->depth = X509_STORE_CTX_get_error_depth(ctx);
	built = X509_STORE_CTX_get0_chain(ctx);
	f->num = built != NULL ? (int)sk_X509_num(built) : 0;
out_ctx:
	X509_STORE_CTX_free(ctx);
	return NULL;
}

// chain_build_skew is chain_build with clock skew. Skew is implemented by
// verifying again at an adjusted time, not by overriding errors in a verify
// callback: if the only thing wrong at now is that a certificate is not yet
// valid, the whole validation is repeated at now + SVID_SKEW_S (and at
// now - SVID_SKEW_S for expired). Every other check runs again unchanged, so
// a skew retry can never hide another error; BoringSSL stops at the first
// error, so the retry is also how we learn whether time was the only one.
// The price: a chain that needs +skew for one certificate and -skew for
// another at the same time is refused.
static X509_STORE_CTX *chain_build_skew(X509_STORE *store, X509 *leaf, STACK_OF(X509) *untrusted,
					int purpose, int64_t now, struct vfail *f)
{
	X509_STORE_CTX *ctx = chain_build(store, leaf, untrusted, purpose, now, f);

	if (ctx != NULL)
		return ctx;
	if (f->err == X509_V_ERR_CERT_NOT_YET_VALID)
		return chain_build(store, leaf, untrusted, purpose, now + SVID_SKEW_S, f);
	if (f->err == X509_V_ERR_CERT_HAS_EXPIRED)
		return chain_build(store, leaf, untrusted, purpose, now - SVID_SKEW_S, f);
	return NULL;
}

// issuer_unknown says whether a failure means "no path to this store's
// roots", as opposed to a path that was found and is bad.
static bool issuer_unknown(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return true;
	}
	return false;
}

// fail_reason turns a path-validation failure into a static reason.
static const char *fail_reason(const struct vfail *f, enum svid_role role)
{
	bool client = role == SVID_PEER_IS_CLIENT;

	if (issuer_unknown(f->err)) {
		// Building stops at the depth limit, and what is left then has
		// no anchor: report the limit, not the missing issuer.
		if (f->num >= SVID_MAX_DEPTH)
			return "chain too long";
		return "unknown issuer";
	}
	switch (f->err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "expired";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "not yet valid";
	case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
	case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
		return "bad validity time";
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:
		return "chain too long";
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
		return "bad signature";
	case X509_V_ERR_INVALID_CA:
		return "issuer is not a CA";
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
		return "issuer key usage lacks keyCertSign";
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:
		return "path length exceeded";
	case X509_V_ERR_INVALID_PURPOSE:
		if (f->depth == 0)
			return client ? "EKU does not allow client auth" :
					"EKU does not allow server auth";
		return client ? "issuer not valid for client auth" :
				"issuer not valid for server auth";
	case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:
		return "unknown critical extension";
	case X509_V_ERR_INVALID_EXTENSION:
	case X509_V_ERR_INVALID_POLICY_EXTENSION:
		return "invalid extension";
	case X509_V_ERR_PERMITTED_VIOLATION:
		return "name constraints: not permitted";
	case X509_V_ERR_EXCLUDED_VIOLATION:
		return "name constraints: excluded";
	case X509_V_ERR_SUBTREE_MINMAX:
	case X509_V_ERR_UNSUPPORTED_CONSTRAINT_TYPE:
	case X509_V_ERR_UNSUPPORTED_CONSTRAINT_SYNTAX:
	case X509_V_ERR_UNSUPPORTED_NAME_SYNTAX:
	case X509_V_ERR_NAME_CONSTRAINTS_WITHOUT_SANS:
		return "name constraints: unsupported";
	case X509_V_ERR_OUT_OF_MEM:
		return "out of memory";
	}
	return "chain verification failed";
}

// nc_supported says whether every subtree of x's name constraints is one
// BoringSSL evaluates (URI, DNS, email, directoryName, no min/max). The
// library looks at a subtree only when the chain has a name of its type,
// so an iPAddress or otherName constraint would pass unevaluated; we fail
// closed on the certificate instead.
static bool nc_supported(X509 *x)
{
	NAME_CONSTRAINTS *nc;
	STACK_OF(GENERAL_SUBTREE) *lists[2];
	bool ok = true;
	int crit = -1;

	nc = X509_get_ext_d2i(x, NID_name_constraints, &crit, NULL);
	if (nc == NULL)
		return crit == -1;
	lists[0] = nc->permittedSubtrees;
	lists[1] = nc->excludedSubtrees;
	for (int l = 0; l < 2 && ok; l++) {
		for (size_t i = 0; i < sk_GENERAL_SUBTREE_num(lists[l]) && ok; i++) {
			const GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value(lists[l], i);

			if (st->minimum != NULL || st->maximum != NULL)
				ok = false;
			switch (st->base->type) {
			case GEN_URI:
			case GEN_DNS:
			case GEN_EMAIL:
			case GEN_DIRNAME:
				break;
			default:
				ok = false;
			}
		}
	}
	NAME_CONSTRAINTS_free(nc);
	return ok;
}

// signer_id_check: a signing certificate may carry a URI SAN, and then it
// must be the trust-domain ID of the leaf's trust domain (X509-SVID:
// a signing certificate's ID has no path). Another trust domain is refused too: a signer that names a
// different domain than the one it issues for is a misissuance.
static const char *signer_id_check(X509 *x, const struct spiffe_id *leaf_sid)
{
	GENERAL_NAMES *names;
	struct spiffe_id sid;
	const char *why = NULL;
	int crit = -1;

	names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (names == NULL)
		return crit == -1 ? NULL : "invalid SAN extension in chain";
	for (size_t i = 0; i < sk_GENERAL_NAME_num(names) && why == NULL; i++) {
		const GENERAL_NAME *gen = sk_GENERAL_NAME_value(names, i);
		const ASN1_IA5STRING *uri = gen->d.uniformResourceIdentifier;

		if (gen->type != GEN_URI)
			continue;
		if (spiffe_parse((const char *)ASN1_STRING_get0_data(uri),
				 (size_t)ASN1_STRING_length(uri), &sid, NULL) < 0)
			why = "signing cert URI SAN is not a SPIFFE ID";
		else if (sid.path[0] != '\0')
			why = "signing cert ID has a path";
		else if (strcmp(sid.td, leaf_sid->td) != 0)
			why = "signing cert ID in another trust domain";
	}
	GENERAL_NAMES_free(names);
	return why;
}

// chain_check applies the rules BoringSSL's path validation leaves out or
// applies only to untrusted certificates (this version checks neither the
// anchor's critical extensions nor its pathLen nor that it is a CA): the
// length bound, every signer a CA, pathLen along the whole chain, signing
// cert IDs, and name constraints we can evaluate.
static const char *chain_check(STACK_OF(X509) *chain, const struct spiffe_id *sid)
{
	int n = (int)sk_X509_num(chain);
	int below = 0;	// non-self-issued intermediates under position i
	const char *why;

	if (n > SVID_MAX_DEPTH)
		return "chain too long";
	if (n < 2)
		return "leaf is a trust anchor";
	for (int i = 0; i < n; i++) {
		X509 *x = sk_X509_value(chain, i);
		uint32_t flags = X509_get_extension_flags(x);
		long pathlen;

		if (flags & EXFLAG_INVALID)
			return "invalid extension";
		if (flags & EXFLAG_CRITICAL)
			return "unknown critical extension";
		if (i == 0)
			continue;
		if (!(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA))
			return "issuer is not a CA";
		pathlen = X509_get_pathlen(x);
		if (pathlen >= 0 && below > pathlen)
			return "path length exceeded";
		if ((why = signer_id_check(x, sid)) != NULL)
			return why;
		if (!nc_supported(x))
			return "name constraints: unsupported";
		if (!(flags & EXFLAG_SI))
			below++;
	}
	return NULL;
}

// is_anchor says whether x is itself one of b's roots. Path validation
// would take such a leaf as its own trust anchor (a chain of one).
static bool is_anchor(const struct trust_bundle *b, X509 *x)
{
	for (int i = 0; i < b->num_domains; i++)
		for (size_t j = 0; j < sk_X509_num(b->domains[i].roots); j++)
			if (X509_cmp(sk_X509_value(b->domains[i].roots, j), x) == 0)
				return true;
	return false;
}

// domain_find returns the index of td in b, or -1.
static int domain_find(const struct trust_bundle *b, const char *td)
{
	for (int i = 0; i < b->num_domains; i++)
		if (strcmp(b->domains[i].td, td) == 0)
			return i;
	return -1;
}

int svid_verify(const struct trust_bundle *b, X509 *leaf, STACK_OF(X509) *chain,
		enum svid_role role, int64_t now, struct spiffe_id *id, const char **why)
{
	struct spiffe_id sid;
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	struct vfail f, best = { .err = X509_V_OK };
	const char *reason;
	int purpose, own, anchor = -1;

	if (id != NULL) {
		id->id[0] = '\0';
		id->td[0] = '\0';
		id->path = id->id;
	}
	if (b == NULL || leaf == NULL) {
		reason = "no certificate or bundle";
		goto out;
	}
	if (role == SVID_PEER_IS_CLIENT) {
		purpose = X509_PURPOSE_SSL_CLIENT;
	} else if (role == SVID_PEER_IS_SERVER) {
		purpose = X509_PURPOSE_SSL_SERVER;
	} else {
		reason = "bad role";
		goto out;
	}
	if ((reason = leaf_check(leaf, role, &sid)) != NULL)
		goto out;
	if (is_anchor(b, leaf)) {
		reason = "leaf is a trust anchor";
		goto out;
	}
	if ((reason = untrusted_build(leaf, chain, &untrusted)) != NULL)
		goto out;

	// The leaf's trust domain is the only one that may anchor it, so try
	// its roots first. If they do not lead anywhere, the other domains
	// are tried only to tell "trust domain mismatch" from "unknown
	// issuer"; a chain they anchor is still refused.
	own = domain_find(b, sid.td);
	if (own >= 0 && b->domains[own].store != NULL) {
		ctx = chain_build_skew(b->domains[own].store, leaf, untrusted, purpose, now, &best);
		if (ctx != NULL)
			anchor = own;
	}
	if (anchor < 0 && (best.err == X509_V_OK || issuer_unknown(best.err))) {
		for (int i = 0; i < b->num_domains && anchor < 0; i++) {
			if (i == own || b->domains[i].store == NULL)
				continue;
			ctx = chain_build_skew(b->domains[i].store, leaf, untrusted, purpose, now, &f);
			if (ctx != NULL)
				anchor = i;
			else if (best.err == X509_V_OK || (issuer_unknown(best.err) && !issuer_unknown(f.err)))
				best = f;
		}
	}
	if (anchor < 0) {
		reason = best.err == X509_V_OK ? "unknown issuer (empty bundle)" :
						 fail_reason(&best, role);
		goto out;
	}
	if (anchor != own || strcmp(b->domains[anchor].td, sid.td) != 0) {
		reason = "trust domain mismatch";
		goto out;
	}
	if ((reason = chain_check(X509_STORE_CTX_get0_chain(ctx), &sid)) != NULL)
		goto out;
	if (id != NULL) {
		*id = sid;
		id->path = id->id + (sid.path - sid.id);
	}
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	// Path building leaves errors on this thread's queue; they are all
	// summed up in reason.
	ERR_clear_error();
	if (why != NULL)
		*why = reason;
	return reason == NULL ? 0 : -EACCES;
}

// roots_hash adds to *sum one XXH3 per (td, root) pair, seeded by td, so
// the bundle's version is a function of its contents only, whatever the
// order of additions. It returns 0 or -ENOMEM.
static int roots_hash(const char *td, STACK_OF(X509) *roots, uint64_t *sum, uint64_t *count)
{
	uint64_t seed = hash64(td, strlen(td));

	for (size_t i = 0; i < sk_X509_num(roots); i++) {
		uint8_t *der = NULL;
		int len = i2d_X509(sk_X509_value(roots, i), &der);

		if (len < 0)
			return -ENOMEM;
		*sum += hash64_seed(der, (size_t)len, seed);
		*count += 1;
		OPENSSL_free(der);
	}
	return 0;
}

// pem_read parses every certificate in pem into a new stack. It returns
// NULL on malformed input or when there is no certificate, and logs why.
static STACK_OF(X509) *pem_read(const char *td, const char *pem, size_t len)
{
	STACK_OF(X509) *certs = NULL;
	BIO *bio;
	X509 *x;
	uint32_t e;

	if (len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	if ((certs = sk_X509_new_null()) == NULL)
		goto out_bio;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			goto out_certs;
		}
	}
	// The loop ends on "no start line" at the end of the text; anything
	// else is a malformed block.
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		log_emit(LOG_WARN, NULL, "trust bundle %s: PEM parse failed (%s), not added", td,
			 ERR_reason_error_string(e));
		goto out_certs;
	}
	if (sk_X509_num(certs) == 0) {
		log_emit(LOG_WARN, NULL, "trust bundle %s: PEM parse failed (no certificate), "
			 "not added", td);
		goto out_certs;
	}
	BIO_free(bio);
	return certs;
out_certs:
	sk_X509_pop_free(certs, X509_free);
	certs = NULL;
out_bio:
	BIO_free(bio);
	return NULL;
}

// roots_contain says whether roots holds a certificate equal to x.
static bool roots_contain(STACK_OF(X509) *roots, X509 *x)
{
	for (size_t i = 0; i < sk_X509_num(roots); i++)
		if (X509_cmp(sk_X509_value(roots, i), x) == 0)
			return true;
	return false;
}

int bundle_add_pem(struct trust_bundle *b, const char *td, const char *pem, size_t len)
{
	STACK_OF(X509) *certs, *roots = NULL;
	X509_STORE *store = NULL;
	uint64_t sum = 0, count = 0;
	int d, added = 0, err = -ENOMEM;

	if (b == NULL || td == NULL || pem == NULL || !spiffe_td_valid(td, strlen(td)))
		return -EINVAL;
	d = domain_find(b, td);
	if (d < 0 && b->num_domains >= BUNDLE_MAX_DOMAINS)
		return -EINVAL;
	if ((certs = pem_read(td, pem, len)) == NULL) {
		ERR_clear_error();
		return -EINVAL;
	}

	// Stage the domain's new root set and store; b changes only once
	// everything is allocated.
	if ((roots = sk_X509_new_null()) == NULL)
		goto out_certs;
	for (int pass = 0; pass < 2; pass++) {
		STACK_OF(X509) *src = pass == 0 ? (d >= 0 ? b->domains[d].roots : NULL) : certs;

		for (size_t i = 0; i < sk_X509_num(src); i++) {
			X509 *x = sk_X509_value(src, i);

			if (roots_contain(roots, x))
				continue;
			if (!sk_X509_push(roots, x))
				goto out_roots;
			X509_up_ref(x);
			if (pass == 1)
				added++;
		}
	}
	if ((store = X509_STORE_new()) == NULL)
		goto out_roots;
	for (size_t i = 0; i < sk_X509_num(roots); i++) {
		X509 *x = sk_X509_value(roots, i);

		if (!X509_STORE_add_cert(store, x))
			goto out_store;
		// Fill the extension cache now, while the bundle is still
		// private to this thread.
		X509_get_extension_flags(x);
	}
	for (int i = 0; i < b->num_domains; i++)
		if (i != d && roots_hash(b->domains[i].td, b->domains[i].roots, &sum, &count) < 0)
			goto out_store;
	if (roots_hash(td, roots, &sum, &count) < 0)
		goto out_store;

	if (d < 0) {
		d = b->num_domains++;
		strcpy(b->domains[d].td, td);
	}
	sk_X509_pop_free(b->domains[d].roots, X509_free);
	X509_STORE_free(b->domains[d].store);
	b->domains[d].roots = roots;
	b->domains[d].store = store;
	b->version = hash64_seed(&sum, sizeof(sum), count);
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return added;
out_store:
	X509_STORE_free(store);
out_roots:
	sk_X509_pop_free(roots, X509_free);
out_certs:
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return err;
}

void bundle_free(struct trust_bundle *b)
{
	if (b == NULL)
		return;
	for (int i = 0; i < b->num_domains; i++) {
		sk_X509_pop_free(b->domains[i].roots, X509_free);
		X509_STORE_free(b->domains[i].store);
	}
	memset(b, 0, sizeof(*b));
}
