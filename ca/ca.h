// SPDX-License-Identifier: Apache-2.0
// ca.h: the certificate authority's logic, no sockets: the signing key and
// certificate (a self-signed root generated on first use, or Istio's plug-in
// layout), X.509-SVID issuance with Istio's field conventions, CSR checks,
// and bootstrap tokens. Time is always passed in (unix seconds), so tests and
// the MESHGATE_CLOCK_OFFSET_S hook control expiry.
#ifndef MG_CA_CA_H
#define MG_CA_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/base.h>
#include <openssl/x509.h>

#include "core/buf.h"

enum {
	CA_DEFAULT_TTL_S = 24 * 3600,		// Istio DEFAULT_WORKLOAD_CERT_TTL
	CA_MAX_TTL_S = 90 * 24 * 3600,		// Istio MAX_WORKLOAD_CERT_TTL (more is an error)
	CA_ROOT_TTL_S = 3650 * 24 * 3600,	// self-signed root, 10 years
	CA_BACKDATE_S = 120,			// NotBefore = now - 2 min
	CA_TOKEN_MAX_TTL_S = 30 * 24 * 3600,
};

struct ca {
	char trust_domain[256];
	char dir[4096];			// <state_dir>/ca
	bool plugged;			// Istio plug-in layout (ca-cert/ca-key/root-cert/cert-chain)
	EVP_PKEY *key;			// the signing key
	X509 *cert;			// the signing certificate
	STACK_OF(X509) *chain;		// signing cert's chain above it, up to and including the root
	X509 *root;			// the root (== cert when self-signed)
	struct buf bundle_pem;		// trust bundle: root-cert.pem as PEM
};

// ca_open loads <state_dir>/ca. If it holds ca-cert.pem, ca-key.pem,
// root-cert.pem and cert-chain.pem (Istio's plug-in layout), those are used;
// else root-cert.pem + root-key.pem (a root made by an earlier start); else,
// with create, a new ECDSA P-256 root is generated there (subject
// O=<trust_domain>, 10 years, key file 0600, directory 0700). Loaded material
// is checked: key matches certificate, signing cert is a CA, chain leads to
// root, not expired at now. It returns 0 or -errno with a reason in err.
int ca_open(struct ca *ca, const char *state_dir, const char *trust_domain, bool create,
	    int64_t now, char *err, size_t err_len);
void ca_close(struct ca *ca);

// ca_issue signs an X.509-SVID for spiffe://<td>/ns/<ns>/sa/<sa> over pub:
// empty subject, exactly one URI SAN (critical), basicConstraints CA:FALSE
// (critical), KeyUsage digitalSignature|keyEncipherment (critical), EKU
// serverAuth+clientAuth, SKI/AKI, a random positive 128-bit serial,
// NotBefore now-2min, NotAfter now+ttl clamped to the signer's NotAfter.
// ttl_s <= 0 means CA_DEFAULT_TTL_S; ttl_s > CA_MAX_TTL_S is -EINVAL. Weak
// keys (RSA < 2048, curves other than P-256/P-384) are -EINVAL.
int ca_issue(struct ca *ca, EVP_PKEY *pub, const char *ns, const char *sa, int64_t ttl_s,
	     int64_t now, X509 **out, char *err, size_t err_len);

// ca_sign_csr checks a PEM CSR (parse, signature, key strength) and issues
// for ns/sa as ca_issue does: only the CSR's public key is used; its subject
// and any requested SANs or extensions are ignored. On success out gets the
// chain as PEM, leaf first, root last, and the number of certificates in it
// is returned (each certificate one PEM block ending in "\n").
int ca_sign_csr(struct ca *ca, const char *csr_pem, size_t csr_len, const char *ns,
		const char *sa, int64_t ttl_s, int64_t now, struct buf *out,
		char *err, size_t err_len);

// ca_issue_keypair generates an ECDSA P-256 key and issues for it: the
// appliance's own identity and `meshgate ca issue`.
int ca_issue_keypair(struct ca *ca, const char *ns, const char *sa, int64_t ttl_s,
		     int64_t now, X509 **cert, EVP_PKEY **key, char *err, size_t err_len);

// ca_chain_pem appends leaf (PEM) and then the signing chain up to the root.
int ca_chain_pem(const struct ca *ca, X509 *leaf, struct buf *out);

// Bootstrap tokens: a JWT (ES256, or RS256 for an RSA plug-in key) signed
// by the CA key, bound to one identity: {"iss":"meshgate-ca/<td>",
// "aud":"meshgate-bootstrap","sub":"spiffe://<td>/ns/<ns>/sa/<sa>","iat",
// "exp","jti"}. ca_token_make writes it NUL-terminated into out.
int ca_token_make(struct ca *ca, const char *ns, const char *sa, int64_t ttl_s,
		  int64_t now, char *out, size_t out_len);
// ca_token_verify checks signature, alg (no "none", no HS*), iss, aud, exp
// (and iat not in the future beyond 60 s), and the identity form. It
// returns 0 with ns/sa filled, or -EACCES with a reason ("expired", "bad
// signature", ...) in err.
int ca_token_verify(struct ca *ca, const char *token, size_t len, int64_t now,
		    char ns[254], char sa[254], char *err, size_t err_len);

// ca_parse_ttl reads "24h", "90m", "3600s", "30d" or plain seconds.
int ca_parse_ttl(const char *s, int64_t *out_s);

// Additions to the contract above, for `meshgate ca` and the tests.

// ca_sent_chain pushes onto out (without taking references) the
// certificates a leaf issued by ca is sent with: for a plugged-in
// intermediate, ca-cert and the intermediates above it, the root left out
// (peers have it); nothing for a self-signed root.
void ca_sent_chain(const struct ca *ca, STACK_OF(X509) *out);

// ca_time_unix converts an X.509 time to unix seconds in *out_s. It returns
// 0 or -EINVAL.
int ca_time_unix(const ASN1_TIME *t, int64_t *out_s);

// ca_write_file writes data[0..len) to path with the given mode through a
// temporary file in the same directory (created with O_EXCL, fsynced, then
// renamed over path), so a crash never leaves a partial file. It returns 0
// or -errno.
int ca_write_file(const char *path, const void *data, size_t len, unsigned mode);

// ca_b64url_decode decodes unpadded base64url (RFC 7515 section 2)
// strictly: padding, characters outside the alphabet and non-zero unused
// bits are -EINVAL. It returns the number of bytes written to out, or
// -EINVAL, or -ENOSPC when out_len is too small.
int ca_b64url_decode(const char *in, size_t len, uint8_t *out, size_t out_len);

#endif
