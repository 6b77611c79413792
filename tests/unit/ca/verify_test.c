// SPDX-License-Identifier: Apache-2.0
// verify_test: svid_verify against a table of certificate chains built here
// with BoringSSL (hardening.md 2.5 and 2.7), each cross-checked with
// `openssl verify`, plus trust bundle versions and concurrent verification.
#include "ca/verify.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/digest.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static int64_t now;

// die stops the test on a failure of the harness itself (not of the code
// under test).
static void die(const char *what)
{
	fprintf(stderr, "verify_test: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

// ---- certificate builder -------------------------------------------------

enum { KU_ABSENT = -1 };				// cert_spec.ku
enum { EKU_ABSENT = -1, EKU_SERVER = 1, EKU_CLIENT = 2 };	// cert_spec.eku
enum { BC_DEFAULT = 0, BC_ABSENT, BC_CA, BC_NOT_CA };	// cert_spec.bc
enum { SERIAL_DEFAULT = 0, SERIAL_ZERO, SERIAL_NEG, SERIAL_20, SERIAL_21 };

#define URI_2049 "<2049-byte id>"	// cert_spec.uri: built at run time
#define URI_LIT(s) .uri = s, .uri_len = sizeof(s) - 1	// a literal with NULs

// cert_spec describes one certificate. Zero everywhere is a well-formed
// certificate of its kind: a leaf is an X509-SVID for
// spiffe://td1/ns/default/sa/web (cA=false, KU digitalSignature critical,
// EKU serverAuth+clientAuth), a CA has cA=true and KU keyCertSign|cRLSign.
// Every certificate gets SKID and AKID so `openssl verify -x509_strict` has
// nothing to say about the well-formed ones.
struct cert_spec {
	const char *cn;		// NULL: the default CN; "": no CN
	bool no_uri;		// no URI SAN
	const char *uri;	// NULL: the kind's default (CA: none)
	size_t uri_len;		// 0: strlen(uri)
	const char *uri2;	// a second URI SAN
	const char *dns;	// a DNS SAN
	const char *email;	// an email SAN
	int bc;
	int pathlen1;		// pathLenConstraint + 1; 0: none
	int ku;			// 0: default; KU_ABSENT; else KU_* bits
	bool ku_noncrit;
	int eku;		// 0: default (leaf both, CA none); EKU_ABSENT; else bits
	int64_t nb, na;		// validity as offsets from now; 0, 0: -1 h, +1 day
	int serial;
	bool unknown_crit;	// a critical extension with an unknown OID
	bool dup_ext;		// the key usage extension twice
	const char *nc_permit;	// nameConstraints permitted URI subtree
	const char *nc_exclude;	// nameConstraints excluded URI subtree
	bool nc_ip;		// nameConstraints permitted iPAddress subtree
};

static EVP_PKEY *key_new(void)
{
	EVP_PKEY *pk = EVP_PKEY_new();
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);

	if (pk == NULL || ec == NULL || !EC_KEY_generate_key(ec) || !EVP_PKEY_assign_EC_KEY(pk, ec))
		die("key generation");
	return pk;
}

static void add_ext(X509 *x, int nid, void *v, int crit, unsigned long flags)
{
	if (X509_add1_ext_i2d(x, nid, v, crit, flags) != 1)
		die("X509_add1_ext_i2d");
}

static GENERAL_NAME *gn_ia5(int type, const char *s, size_t len)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *v = ASN1_IA5STRING_new();

	if (g == NULL || v == NULL || !ASN1_STRING_set(v, s, (int)len))
		die("GENERAL_NAME");
	g->type = type;
	g->d.ia5 = v;
	return g;
}

static void nc_push(STACK_OF(GENERAL_SUBTREE) **sk, GENERAL_NAME *base)
{
	GENERAL_SUBTREE *st = GENERAL_SUBTREE_new();

	if (*sk == NULL)
		*sk = sk_GENERAL_SUBTREE_new_null();
	GENERAL_NAME_free(st->base);
	st->base = base;
	if (!sk_GENERAL_SUBTREE_push(*sk, st))
		die("nameConstraints");
}

static void set_serial(X509 *x, int kind)
{
	uint8_t b[21];
	size_t n = kind == SERIAL_21 ? 21 : kind == SERIAL_20 ? 20 : 16;
	BIGNUM *bn;
	ASN1_INTEGER *ai;

	RAND_bytes(b, n);
	b[0] = kind == SERIAL_20 || kind == SERIAL_21 ? 0x7f : (b[0] & 0x7f) | 0x01;
	if ((bn = BN_bin2bn(b, n, NULL)) == NULL)
		die("BN_bin2bn");
	if (kind == SERIAL_ZERO)
		BN_zero(bn);
	if (kind == SERIAL_NEG)
		BN_set_negative(bn, 1);
	if ((ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL || !X509_set_serialNumber(x, ai))
		die("serial");
	ASN1_INTEGER_free(ai);
	BN_free(bn);
}

// skid_of returns x's SHA-1 key identifier (RFC 5280 4.2.1.2 method 1).
static ASN1_OCTET_STRING *skid_of(X509 *x)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned md_len;
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

	if (os == NULL || !X509_pubkey_digest(x, EVP_sha1(), md, &md_len) ||
	    !ASN1_OCTET_STRING_set(os, md, (int)md_len))
		die("SKID");
	return os;
}

// cert_make builds a certificate for key per s, issued by issuer (NULL:
// self-issued) and signed with sign_key, and returns it as parsed back
// from its DER, as a peer's certificate would be.
static X509 *cert_make(const struct cert_spec *s, bool ca, const char *dflt_cn, EVP_PKEY *key,
		       X509 *issuer, EVP_PKEY *sign_key)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	const char *cn = s->cn ? s->cn : dflt_cn;
	int ku = s->ku ? s->ku : ca ? KU_KEY_CERT_SIGN | KU_CRL_SIGN : KU_DIGITAL_SIGNATURE;
	int eku = s->eku ? s->eku : ca ? EKU_ABSENT : EKU_SERVER | EKU_CLIENT;
	int bc = s->bc ? s->bc : ca ? BC_CA : BC_NOT_CA;
	int64_t nb = s->nb, na = s->na;
	uint8_t *der = NULL;
	const uint8_t *p;
	X509 *out;
	int der_len;

	if (x == NULL || name == NULL || gens == NULL)
		die("X509_new");
	if (nb == 0 && na == 0) {
		nb = -3600;
		na = 86400;
	}
	X509_set_version(x, X509_VERSION_3);
	set_serial(x, s->serial);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const uint8_t *)"meshgate-test", -1, -1, 0);
	if (cn[0] != '\0')
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const uint8_t *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(now + nb));
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(now + na));
	X509_set_pubkey(x, key);

	if (bc != BC_ABSENT) {
		BASIC_CONSTRAINTS *b = BASIC_CONSTRAINTS_new();

		b->ca = bc == BC_CA ? 0xff : 0;
		if (s->pathlen1) {
			b->pathlen = ASN1_INTEGER_new();
			ASN1_INTEGER_set(b->pathlen, s->pathlen1 - 1);
		}
		add_ext(x, NID_basic_constraints, b, 1, X509V3_ADD_DEFAULT);
		BASIC_CONSTRAINTS_free(b);
	}
	if (ku != KU_ABSENT) {
		ASN1_BIT_STRING *bits = ASN1_BIT_STRING_new();

		// KU_* masks are the first DER byte's bits: 0x80 is bit 0.
		for (int i = 0; i < 8; i++)
			if (ku & (0x80 >> i))
				ASN1_BIT_STRING_set_bit(bits, i, 1);
		add_ext(x, NID_key_usage, bits, !s->ku_noncrit, X509V3_ADD_DEFAULT);
		if (s->dup_ext)
			add_ext(x, NID_key_usage, bits, !s->ku_noncrit, X509V3_ADD_APPEND);
		ASN1_BIT_STRING_free(bits);
	}
	if (eku != EKU_ABSENT) {
		EXTENDED_KEY_USAGE *e = sk_ASN1_OBJECT_new_null();

		if (eku & EKU_SERVER)
			sk_ASN1_OBJECT_push(e, OBJ_nid2obj(NID_server_auth));
		if (eku & EKU_CLIENT)
			sk_ASN1_OBJECT_push(e, OBJ_nid2obj(NID_client_auth));
		add_ext(x, NID_ext_key_usage, e, 0, X509V3_ADD_DEFAULT);
		sk_ASN1_OBJECT_free(e);
	}

	if (!s->no_uri) {
		const char *uri = s->uri ? s->uri : ca ? NULL : "spiffe://td1/ns/default/sa/web";

		if (uri != NULL && strcmp(uri, URI_2049) == 0) {
			char *big = malloc(SPIFFE_MAX_ID + 2);

			memset(big, 'a', SPIFFE_MAX_ID + 1);
			memcpy(big, "spiffe://td1/", 13);
			sk_GENERAL_NAME_push(gens, gn_ia5(GEN_URI, big, SPIFFE_MAX_ID + 1));
			free(big);
		} else if (uri != NULL) {
			size_t len = s->uri_len ? s->uri_len : strlen(uri);

			sk_GENERAL_NAME_push(gens, gn_ia5(GEN_URI, uri, len));
		}
	}
	if (s->uri2)
		sk_GENERAL_NAME_push(gens, gn_ia5(GEN_URI, s->uri2, strlen(s->uri2)));
	if (s->dns)
		sk_GENERAL_NAME_push(gens, gn_ia5(GEN_DNS, s->dns, strlen(s->dns)));
	if (s->email)
		sk_GENERAL_NAME_push(gens, gn_ia5(GEN_EMAIL, s->email, strlen(s->email)));
	if (sk_GENERAL_NAME_num(gens) > 0)
		add_ext(x, NID_subject_alt_name, gens, cn[0] == '\0', X509V3_ADD_DEFAULT);
	sk_GENERAL_NAME_pop_free(gens, GENERAL_NAME_free);

	{
		ASN1_OCTET_STRING *skid = skid_of(x);
		AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();

		add_ext(x, NID_subject_key_identifier, skid, 0, X509V3_ADD_DEFAULT);
		akid->keyid = issuer ? skid_of(issuer) : skid;
		add_ext(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT);
		if (akid->keyid == skid)
			akid->keyid = NULL;
		AUTHORITY_KEYID_free(akid);
		ASN1_OCTET_STRING_free(skid);
	}

	if (s->nc_permit || s->nc_exclude || s->nc_ip) {
		NAME_CONSTRAINTS *nc = NAME_CONSTRAINTS_new();

		if (s->nc_permit)
			nc_push(&nc->permittedSubtrees, gn_ia5(GEN_URI, s->nc_permit, strlen(s->nc_permit)));
		if (s->nc_exclude)
			nc_push(&nc->excludedSubtrees, gn_ia5(GEN_URI, s->nc_exclude, strlen(s->nc_exclude)));
		if (s->nc_ip) {
			static const uint8_t net[8] = { 10, 0, 0, 0, 255, 0, 0, 0 };
			GENERAL_NAME *g = GENERAL_NAME_new();

			g->type = GEN_IPADD;
			g->d.iPAddress = ASN1_OCTET_STRING_new();
			ASN1_OCTET_STRING_set(g->d.iPAddress, net, sizeof(net));
			nc_push(&nc->permittedSubtrees, g);
		}
		add_ext(x, NID_name_constraints, nc, 1, X509V3_ADD_DEFAULT);
		NAME_CONSTRAINTS_free(nc);
	}

	if (s->unknown_crit) {
		static const uint8_t der_null[2] = { 0x05, 0x00 };
		ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.55555.1.1", 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *ext;

		ASN1_OCTET_STRING_set(os, der_null, sizeof(der_null));
		ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, os);
		if (ext == NULL || !X509_add_ext(x, ext, -1))
			die("unknown extension");
		X509_EXTENSION_free(ext);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(oid);
	}

	if (!X509_sign(x, sign_key, EVP_sha256()))
		die("X509_sign");
	if ((der_len = i2d_X509(x, &der)) <= 0)
		die("i2d_X509");
	p = der;
	if ((out = d2i_X509(NULL, &p, der_len)) == NULL)
		die("d2i_X509");
	OPENSSL_free(der);
	X509_NAME_free(name);
	X509_free(x);
	return out;
}

// ---- the case table ------------------------------------------------------

enum {
	F_LEAF_IN_CHAIN = 1 << 0,	// the peer also sends its leaf in the chain
	F_BAD_SIG = 1 << 1,		// leaf signed by a key that is not the issuer's
	F_SELF_SIGNED_LEAF = 1 << 2,	// leaf issued by itself
	F_DUP_INTER = 1 << 3,		// every intermediate sent twice
	F_CROSS = 1 << 4,		// the extra root cross-signs the root, sent as
					// an intermediate; the leaf is issued by the root
	F_LEAF_IN_BUNDLE = 1 << 5,	// the self-signed leaf is itself a bundle root
	F_ROOT_IN_CHAIN = 1 << 6,	// the peer also sends the root
};

// What `openssl verify` must say about a case.
enum ossl_expect {
	OS_ANY = 0,	// a rule openssl does not apply (SPIFFE, serial): recorded only
	OS_AGREE,	// X.509-level rule: openssl must reach our verdict
	OS_REJECT,	// openssl must reject though we accept (it has no skew)
};

#define MAX_INTER 5

struct vcase {
	const char *name;
	struct cert_spec root;		// the root that anchors the chain
	const char *root_td;		// its bundle entry: NULL "td1", "-" not in the bundle
	const char *extra_td;		// another, unrelated root in the bundle for this td
	const char *extra_cn;		// its CN (default "extra root")
	int num_inter;
	struct cert_spec inter[MAX_INTER];	// inter[0] is issued by the root
	struct cert_spec leaf;
	int flags;
	enum svid_role role;
	const char *want;		// NULL: accept; else a substring of the reason
	enum ossl_expect ossl;
};

#define SERVER .role = SVID_PEER_IS_SERVER
#define TD2_LEAF .leaf = { .uri = "spiffe://td2/ns/default/sa/web" }

static const struct vcase cases[] = {
	// Well-formed chains.
	{ "valid leaf, peer is client", .ossl = OS_AGREE },
	{ "valid leaf, peer is server", SERVER, .ossl = OS_AGREE },
	{ "valid leaf via intermediate", .num_inter = 1, .ossl = OS_AGREE },
	{ "leaf repeated in chain", .num_inter = 1, .flags = F_LEAF_IN_CHAIN, .ossl = OS_AGREE },
	{ "duplicated intermediate", .num_inter = 2, .flags = F_DUP_INTER, .ossl = OS_AGREE },
	{ "5-cert chain (limit)", .num_inter = 3, .ossl = OS_AGREE },
	{ "5-cert chain, root sent too", .num_inter = 3, .flags = F_ROOT_IN_CHAIN,
	  .ossl = OS_AGREE },
	{ "6-cert chain", .num_inter = 4, .want = "chain too long", .ossl = OS_AGREE },
	{ "no EKU at all", .leaf = { .eku = EKU_ABSENT }, .ossl = OS_AGREE },
	{ "20-byte serial", .leaf = { .serial = SERIAL_20 }, .ossl = OS_AGREE },
	{ "extra DNS SAN", .leaf = { .dns = "web.default.svc" }, .ossl = OS_AGREE },
	{ "intermediate with td-only ID", .num_inter = 1, .inter = { { .uri = "spiffe://td1" } },
	  .ossl = OS_AGREE },

	// Validity and skew (SVID_SKEW_S = 60).
	{ "expired", .leaf = { .nb = -86400, .na = -3600 }, .want = "expired", .ossl = OS_AGREE },
	{ "not yet valid", .leaf = { .nb = 3600, .na = 86400 }, .want = "not yet valid",
	  .ossl = OS_AGREE },
	{ "not yet valid within skew (+30 s)", .leaf = { .nb = 30, .na = 86400 },
	  .ossl = OS_REJECT },
	{ "expired within skew (-30 s)", .leaf = { .nb = -86400, .na = -30 },
	  .ossl = OS_REJECT },
	{ "not yet valid beyond skew (+90 s)", .leaf = { .nb = 90, .na = 86400 },
	  .want = "not yet valid", .ossl = OS_AGREE },
	{ "expired beyond skew (-90 s)", .leaf = { .nb = -86400, .na = -90 }, .want = "expired",
	  .ossl = OS_AGREE },
	{ "expired intermediate", .num_inter = 1, .inter = { { .nb = -86400, .na = -3600 } },
	  .want = "expired", .ossl = OS_AGREE },

	// Trust domains (hardening.md 2.7 item 7).
	{ "td2 leaf under td1 root", TD2_LEAF, .want = "trust domain mismatch" },
	{ "federated td2 root vs td1 ID", .root_td = "td2", .extra_td = "td1",
	  .want = "trust domain mismatch" },
	{ "federated td2 leaf via td2 root", .root_td = "td2", .extra_td = "td1", TD2_LEAF,
	  .ossl = OS_AGREE },
	{ "signed by another root", .root_td = "-", .extra_td = "td1", .want = "unknown issuer",
	  .ossl = OS_AGREE },
	{ "impostor root with the same name", .root_td = "-", .extra_td = "td1",
	  .extra_cn = "root", .want = "unknown issuer", .ossl = OS_AGREE },
	{ "self-signed leaf", .flags = F_SELF_SIGNED_LEAF, .want = "unknown issuer",
	  .ossl = OS_AGREE },
	{ "bad signature", .num_inter = 1, .flags = F_BAD_SIG, .want = "bad signature",
	  .ossl = OS_AGREE },
	{ "td1 root as td2 intermediate, td2 leaf", .extra_td = "td2", .flags = F_CROSS,
	  TD2_LEAF, .ossl = OS_AGREE },
	{ "td1 root as td2 intermediate, td1 leaf", .root_td = "-", .extra_td = "td2",
	  .flags = F_CROSS, .want = "trust domain mismatch" },
	{ "leaf is a bundle root", .flags = F_SELF_SIGNED_LEAF | F_LEAF_IN_BUNDLE,
	  .want = "leaf is a trust anchor" },

	// SANs (items 1-4, 11).
	{ "two URI SANs", .leaf = { .uri2 = "spiffe://td1/ns/default/sa/other" },
	  .want = "two URI SANs" },
	{ "non-SPIFFE URI", .leaf = { .uri = "https://td1/ns/default/sa/web" },
	  .want = "scheme is not spiffe://" },
	{ "no SAN", .leaf = { .no_uri = true }, .want = "no URI SAN" },
	{ "DNS SAN with spiffe://, no URI", .leaf = { .no_uri = true,
	  .dns = "spiffe://td1/ns/a/sa/b" }, .want = "non-URI SAN" },
	{ "email SAN with spiffe://, no URI", .leaf = { .no_uri = true,
	  .email = "spiffe://td1/ns/a/sa/b" }, .want = "non-URI SAN" },
	{ "CN with spiffe://, no URI", .leaf = { .no_uri = true,
	  .cn = "spiffe://td1/ns/a/sa/b" }, .want = "subject" },
	{ "uppercase trust domain", .leaf = { .uri = "spiffe://TD1/ns/a/sa/b" },
	  .want = "uppercase in trust domain" },
	{ "dot segment in ID", .leaf = { .uri = "spiffe://td1/ns/../sa/b" },
	  .want = "dot segment" },
	{ "trust-domain-only ID as leaf", .leaf = { .uri = "spiffe://td1" }, .want = "no path" },
	{ "2049-byte ID", .leaf = { .uri = URI_2049 }, .want = "longer than 2048" },
	{ "NUL in SAN", .leaf = { URI_LIT("spiffe://td1/ns/a\0/sa/b") }, .want = "NUL" },

	// Leaf key usage and CA-ness (items 5, 6; CVE-2022-21657).
	// RFC 5280 lets a CA certificate be an end entity and openssl 3 accepts
	// it; X509-SVID does not, so this one is SPIFFE-level.
	{ "CA flag on leaf", .leaf = { .bc = BC_CA }, .want = "leaf is a CA" },
	{ "keyCertSign on leaf", .leaf = { .ku = KU_DIGITAL_SIGNATURE | KU_KEY_CERT_SIGN },
	  .want = "leaf is a CA", .ossl = OS_AGREE },
	{ "KU missing", .leaf = { .ku = KU_ABSENT }, .want = "bad key usage" },
	{ "KU not critical", .leaf = { .ku_noncrit = true }, .want = "bad key usage" },
	{ "KU without digitalSignature", .leaf = { .ku = KU_KEY_ENCIPHERMENT },
	  .want = "bad key usage", .ossl = OS_AGREE },
	{ "serverAuth-only EKU as client", .leaf = { .eku = EKU_SERVER },
	  .want = "EKU does not allow client auth", .ossl = OS_AGREE },
	{ "clientAuth-only EKU as server", .leaf = { .eku = EKU_CLIENT }, SERVER,
	  .want = "EKU does not allow server auth", .ossl = OS_AGREE },
	{ "clientAuth-only EKU as client", .leaf = { .eku = EKU_CLIENT }, .ossl = OS_AGREE },

	// Chain structure (item 10).
	{ "pathLen exceeded", .num_inter = 2, .inter = { { .pathlen1 = 1 } },
	  .want = "path length exceeded", .ossl = OS_AGREE },
	{ "pathLen 0 on the root", .root = { .pathlen1 = 1 }, .num_inter = 1,
	  .want = "path length exceeded", .ossl = OS_AGREE },
	{ "pathLen 0 intermediate issuing leaf", .num_inter = 1, .inter = { { .pathlen1 = 1 } },
	  .ossl = OS_AGREE },
	{ "intermediate not a CA", .num_inter = 1, .inter = { { .bc = BC_NOT_CA } },
	  .want = "not a CA", .ossl = OS_AGREE },
	{ "intermediate with a path in its ID", .num_inter = 1,
	  .inter = { { .uri = "spiffe://td1/ns/x/sa/y" } }, .want = "signing cert ID has a path" },
	{ "intermediate with another td's ID", .num_inter = 1,
	  .inter = { { .uri = "spiffe://td2" } }, .want = "another trust domain" },

	// Extensions (item 11).
	{ "unknown critical extension on leaf", .leaf = { .unknown_crit = true },
	  .want = "critical extension", .ossl = OS_AGREE },
	{ "unknown critical extension on intermediate", .num_inter = 1,
	  .inter = { { .unknown_crit = true } }, .want = "critical extension", .ossl = OS_AGREE },
	{ "unknown critical extension on root", .root = { .unknown_crit = true },
	  .want = "critical extension", .ossl = OS_AGREE },
	{ "duplicated extension", .leaf = { .dup_ext = true }, .want = "duplicated extension" },

	// Name constraints (item 8).
	{ "NC permitted td1, td1 leaf", .num_inter = 1, .inter = { { .nc_permit = "td1" } },
	  .ossl = OS_AGREE },
	{ "NC permitted td1 issuing td2 leaf", .root_td = "td2", .num_inter = 1,
	  .inter = { { .nc_permit = "td1" } }, TD2_LEAF, .want = "name constraints",
	  .ossl = OS_AGREE },
	{ "NC excluded td1, td1 leaf", .num_inter = 1, .inter = { { .nc_exclude = "td1" } },
	  .want = "name constraints", .ossl = OS_AGREE },
	{ "NC iPAddress subtree (unsupported)", .num_inter = 1, .inter = { { .nc_ip = true } },
	  .want = "name constraints: unsupported" },

	// Serial numbers (item 12).
	{ "serial 0", .leaf = { .serial = SERIAL_ZERO }, .want = "bad serial" },
	{ "negative serial", .leaf = { .serial = SERIAL_NEG }, .want = "bad serial" },
	{ "serial 21 bytes", .leaf = { .serial = SERIAL_21 }, .want = "bad serial" },
};

enum { NUM_CASES = sizeof(cases) / sizeof(cases[0]) };

// A built case: the bundle, the leaf, the chain the peer sends, and the
// PEM files for openssl.
struct built {
	struct trust_bundle b;
	X509 *leaf;
	STACK_OF(X509) *chain;
	X509 *certs[MAX_INTER + 5];	// everything to free
	int num_certs;
	bool has_inter;
};

static char *pem_of(X509 *x, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	const uint8_t *p;
	size_t n;
	char *s;

	if (bio == NULL || !PEM_write_bio_X509(bio, x) || !BIO_mem_contents(bio, &p, &n))
		die("PEM_write_bio_X509");
	s = malloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	*len = n;
	BIO_free(bio);
	return s;
}

static void bundle_add_cert(struct trust_bundle *b, const char *td, X509 *x)
{
	size_t len;
	char *pem = pem_of(x, &len);

	if (bundle_add_pem(b, td, pem, len) < 0)
		die("bundle_add_pem");
	free(pem);
}

static void pem_append(const char *path, X509 *x)
{
	FILE *f = fopen(path, "a");

	if (f == NULL || !PEM_write_X509(f, x))
		die(path);
	fclose(f);
}

static X509 *keep(struct built *bt, X509 *x)
{
	bt->certs[bt->num_certs++] = x;
	return x;
}

// case_build makes c's PKI. With dir, it also writes root.pem (the bundle),
// inter.pem (the untrusted chain) and leaf.pem there.
static void case_build(const struct vcase *c, struct built *bt, const char *dir)
{
	static const struct cert_spec dflt;
	EVP_PKEY *keys[MAX_INTER + 4];
	int num_keys = 0;
	char rp[512], ip[512], lp[512];
	X509 *root, *issuer, *inter[MAX_INTER], *extra = NULL, *cross = NULL;
	EVP_PKEY *ikey, *lkey, *skey;
	const char *root_td = c->root_td ? c->root_td : "td1";
	bool in_bundle = strcmp(root_td, "-") != 0;

	memset(bt, 0, sizeof(*bt));
	if (dir != NULL) {
		snprintf(rp, sizeof(rp), "%s/root.pem", dir);
		snprintf(ip, sizeof(ip), "%s/inter.pem", dir);
		snprintf(lp, sizeof(lp), "%s/leaf.pem", dir);
		unlink(rp);
		unlink(ip);
		unlink(lp);
	}

	ikey = keys[num_keys++] = key_new();
	root = issuer = keep(bt, cert_make(&c->root, true, "root", ikey, NULL, ikey));
	if (in_bundle) {
		bundle_add_cert(&bt->b, root_td, root);
		if (dir != NULL)
			pem_append(rp, root);
	}
	if (c->extra_td != NULL) {
		struct cert_spec es = dflt;
		EVP_PKEY *ek = keys[num_keys++] = key_new();

		es.cn = c->extra_cn ? c->extra_cn : "extra root";
		extra = keep(bt, cert_make(&es, true, "", ek, NULL, ek));
		bundle_add_cert(&bt->b, c->extra_td, extra);
		if (dir != NULL)
			pem_append(rp, extra);
		if (c->flags & F_CROSS)
			cross = keep(bt, cert_make(&c->root, true, "root", ikey, extra, ek));
	}
	for (int i = 0; i < c->num_inter; i++) {
		char cn[32];
		EVP_PKEY *k = keys[num_keys++] = key_new();

		snprintf(cn, sizeof(cn), "inter %d", i + 1);
		inter[i] = keep(bt, cert_make(&c->inter[i], true, cn, k, issuer, ikey));
		issuer = inter[i];
		ikey = k;
	}
	lkey = keys[num_keys++] = key_new();
	skey = ikey;
	if (c->flags & F_BAD_SIG)
		skey = keys[num_keys++] = key_new();
	if (c->flags & F_SELF_SIGNED_LEAF) {
		issuer = NULL;
		skey = lkey;
	}
	bt->leaf = keep(bt, cert_make(&c->leaf, false, "leaf", lkey, issuer, skey));
	if (c->flags & F_LEAF_IN_BUNDLE) {
		bundle_add_cert(&bt->b, "td1", bt->leaf);
		if (dir != NULL)
			pem_append(rp, bt->leaf);
	}

	bt->chain = sk_X509_new_null();
	if (c->flags & F_LEAF_IN_CHAIN)
		sk_X509_push(bt->chain, bt->leaf);
	if (cross != NULL) {
		sk_X509_push(bt->chain, cross);
		if (dir != NULL)
			pem_append(ip, cross);
	}
	for (int rep = 0; rep < (c->flags & F_DUP_INTER ? 2 : 1); rep++) {
		for (int i = c->num_inter - 1; i >= 0; i--) {
			sk_X509_push(bt->chain, inter[i]);
			if (dir != NULL)
				pem_append(ip, inter[i]);
		}
	}
	if (c->flags & F_ROOT_IN_CHAIN) {
		sk_X509_push(bt->chain, root);
		if (dir != NULL)
			pem_append(ip, root);
	}
	bt->has_inter = c->num_inter > 0 || cross != NULL || (c->flags & F_ROOT_IN_CHAIN);
	if (dir != NULL)
		pem_append(lp, bt->leaf);
	for (int i = 0; i < num_keys; i++)
		EVP_PKEY_free(keys[i]);
}

static void built_free(struct built *bt)
{
	bundle_free(&bt->b);
	sk_X509_free(bt->chain);
	for (int i = 0; i < bt->num_certs; i++)
		X509_free(bt->certs[i]);
}

// openssl_verify runs `openssl verify` on dir's files and returns 1 for
// OK, 0 for a rejection (with openssl's message in msg), -1 if it could
// not run.
static int openssl_verify(const char *dir, bool has_inter, enum svid_role role, char *msg,
			  size_t msg_len)
{
	char cmd[2048], line[512];
	FILE *p;
	int st;

	// openssl's -verify_depth counts intermediates only (leaf and anchor
	// excluded), ours counts every certificate.
	snprintf(cmd, sizeof(cmd),
		 "openssl verify -x509_strict -attime %lld -verify_depth %d -purpose %s "
		 "-CAfile %s/root.pem %s%s%s %s/leaf.pem 2>&1",
		 (long long)now, SVID_MAX_DEPTH - 2,
		 role == SVID_PEER_IS_CLIENT ? "sslclient" : "sslserver", dir,
		 has_inter ? "-untrusted " : "", has_inter ? dir : "",
		 has_inter ? "/inter.pem" : "", dir);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	snprintf(msg, msg_len, "OK");
	while (fgets(line, sizeof(line), p) != NULL) {
		char *e = strstr(line, "lookup:");

		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "error ", 6) == 0 && e != NULL && strcmp(msg, "OK") == 0)
			snprintf(msg, msg_len, "%.*s (%s)", (int)(strchr(line + 6, ' ') - line - 6),
				 line + 6, e + 8);
	}
	st = pclose(p);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	if (WEXITSTATUS(st) != 0 && strcmp(msg, "OK") == 0)
		snprintf(msg, msg_len, "exit %d", WEXITSTATUS(st));
	return WEXITSTATUS(st) == 0;
}

static void test_cases(void)
{
	char tmpl[] = "/tmp/verify_test.XXXXXX";
	const char *dir = NULL;
	bool have_openssl = system("command -v openssl >/dev/null 2>&1") == 0;
	int num_cmp = 0, num_disagree_ok = 0;

	if (have_openssl && (dir = mkdtemp(tmpl)) == NULL)
		die("mkdtemp");
	if (!have_openssl)
		printf("verify_test: openssl not on PATH, skipping the cross-check\n");

	printf("%-44s | %-52s | %s\n", "case", "svid_verify", "openssl verify");
	for (int i = 0; i < NUM_CASES; i++) {
		const struct vcase *c = &cases[i];
		struct built bt;
		struct spiffe_id id;
		const char *why = NULL;
		char omsg[256] = "-", ours[128];
		int rc, orc = -1;
		bool ok;

		case_build(c, &bt, dir);
		rc = svid_verify(&bt.b, bt.leaf, bt.chain, c->role, now, &id, &why);
		if (c->want == NULL) {
			ok = rc == 0 && why == NULL && strncmp(id.id, "spiffe://", 9) == 0 &&
			     id.path > id.id && id.path[0] == '/';
		} else {
			ok = rc == -EACCES && why != NULL && strstr(why, c->want) != NULL &&
			     id.id[0] == '\0';
		}
		snprintf(ours, sizeof(ours), "%s%s%s", rc == 0 ? "accept" : "reject: ",
			 rc == 0 ? "" : why, ok ? "" : "  <-- WRONG");
		if (!ok) {
			printf("FAIL %s: want %s, got rc %d (%s)\n", c->name,
			       c->want ? c->want : "accept", rc, why ? why : "-");
			failures++;
		}
		if (dir != NULL) {
			orc = openssl_verify(dir, bt.has_inter, c->role, omsg, sizeof(omsg));
			if (orc < 0) {
				printf("FAIL %s: could not run openssl\n", c->name);
				failures++;
			} else if (c->ossl == OS_AGREE) {
				num_cmp++;
				if ((orc == 1) != (rc == 0)) {
					printf("FAIL %s: openssl disagrees on an X.509-level rule: %s\n",
					       c->name, omsg);
					failures++;
				}
			} else if (c->ossl == OS_REJECT) {
				num_cmp++;
				num_disagree_ok++;
				if (orc != 0) {
					printf("FAIL %s: openssl should reject (no skew)\n", c->name);
					failures++;
				}
			}
		}
		printf("%-44s | %-52s | %s%s\n", c->name, ours, omsg,
		       c->ossl == OS_AGREE ? "" : c->ossl == OS_REJECT ? "  [no skew in openssl]" :
		       "  [not compared]");
		built_free(&bt);
	}
	if (dir != NULL) {
		char path[512];

		for (int i = 0; i < 3; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 i == 0 ? "root.pem" : i == 1 ? "inter.pem" : "leaf.pem");
			unlink(path);
		}
		if (rmdir(dir) != 0)
			printf("verify_test: rmdir %s failed\n", dir);
		printf("verify_test: %d cases, %d checked against openssl (%d where openssl must "
		       "differ: skew)\n", NUM_CASES, num_cmp, num_disagree_ok);
	}
}

// ---- bundles ------------------------------------------------------------

static void test_bundle(void)
{
	static const struct cert_spec dflt;
	struct trust_bundle a = { 0 }, b = { 0 }, c = { 0 };
	EVP_PKEY *k1 = key_new(), *k2 = key_new();
	X509 *r1 = cert_make(&dflt, true, "root one", k1, NULL, k1);
	X509 *r2 = cert_make(&dflt, true, "root two", k2, NULL, k2);
	size_t l1, l2;
	char *p1 = pem_of(r1, &l1), *p2 = pem_of(r2, &l2);
	char both[8192], buf[64];
	uint64_t v;

	snprintf(both, sizeof(both), "# comment\n%s%s", p1, p2);
	CHECK(a.version == 0);
	CHECK(bundle_add_pem(&a, "td1", p1, l1) == 1);
	v = a.version;
	CHECK(v != 0);
	// The same root again adds nothing and keeps the version.
	CHECK(bundle_add_pem(&a, "td1", p1, l1) == 0);
	CHECK(a.version == v && a.num_domains == 1);
	CHECK(bundle_add_pem(&a, "td1", p2, l2) == 1);
	CHECK(a.version != v);
	// Same contents in another order, or in one PEM: same version.
	CHECK(bundle_add_pem(&b, "td1", p2, l2) == 1);
	CHECK(bundle_add_pem(&b, "td1", p1, l1) == 1);
	CHECK(b.version == a.version);
	CHECK(bundle_add_pem(&c, "td1", both, strlen(both)) == 2);
	CHECK(c.version == a.version);
	// The same roots under another trust domain are other contents.
	bundle_free(&c);
	CHECK(c.num_domains == 0 && c.version == 0);
	CHECK(bundle_add_pem(&c, "td2", both, strlen(both)) == 2);
	CHECK(c.version != a.version);
	// Federation: domains in either order.
	CHECK(bundle_add_pem(&a, "td2", p1, l1) == 1);
	bundle_free(&b);
	CHECK(bundle_add_pem(&b, "td2", p1, l1) == 1);
	CHECK(bundle_add_pem(&b, "td1", both, strlen(both)) == 2);
	CHECK(b.version == a.version && b.num_domains == 2);

	// Errors leave the bundle as it was.
	v = a.version;
	CHECK(bundle_add_pem(&a, "TD1", p1, l1) == -EINVAL);
	CHECK(bundle_add_pem(&a, "", p1, l1) == -EINVAL);
	CHECK(bundle_add_pem(&a, "td3", "garbage", 7) == -EINVAL);
	CHECK(bundle_add_pem(&a, "td3", "", 0) == -EINVAL);
	strcpy(both, p1);
	both[l1 / 2] = '!';	// corrupt the base64
	CHECK(bundle_add_pem(&a, "td3", both, l1) == -EINVAL);
	CHECK(a.version == v && a.num_domains == 2);
	for (int i = 2; i < BUNDLE_MAX_DOMAINS; i++) {
		snprintf(buf, sizeof(buf), "d%d", i);
		CHECK(bundle_add_pem(&a, buf, p1, l1) == 1);
	}
	CHECK(a.num_domains == BUNDLE_MAX_DOMAINS);
	CHECK(bundle_add_pem(&a, "one-too-many", p1, l1) == -EINVAL);
	CHECK(bundle_add_pem(&a, "td1", p1, l1) == 0);	// an existing domain still takes adds

	// An empty bundle anchors nothing.
	{
		struct trust_bundle e = { 0 };
		struct spiffe_id id;
		const char *why;

		CHECK(svid_verify(&e, r1, NULL, SVID_PEER_IS_CLIENT, now, &id, &why) == -EACCES);
		CHECK(svid_verify(NULL, r1, NULL, SVID_PEER_IS_CLIENT, now, NULL, NULL) == -EACCES);
		CHECK(svid_verify(&a, NULL, NULL, SVID_PEER_IS_CLIENT, now, NULL, &why) == -EACCES);
	}

	bundle_free(&a);
	bundle_free(&b);
	bundle_free(&c);
	bundle_free(NULL);
	free(p1);
	free(p2);
	X509_free(r1);
	X509_free(r2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

// ---- what a successful verification reports ---------------------------

static void test_identity(void)
{
	static const struct vcase c = { "id", .num_inter = 1,
		.leaf = { .uri = "spiffe://td1/ns/prod/sa/api" } };
	struct built bt;
	struct spiffe_id id;
	const char *why = "unset";

	case_build(&c, &bt, NULL);
	CHECK(svid_verify(&bt.b, bt.leaf, bt.chain, SVID_PEER_IS_SERVER, now, &id, &why) == 0);
	CHECK(why == NULL);
	CHECK(strcmp(id.id, "spiffe://td1/ns/prod/sa/api") == 0);
	CHECK(strcmp(id.td, "td1") == 0 && strcmp(id.path, "/ns/prod/sa/api") == 0);
	CHECK(id.path == id.id + 12);
	// The chain is optional only when the root issued the leaf directly.
	CHECK(svid_verify(&bt.b, bt.leaf, NULL, SVID_PEER_IS_SERVER, now, &id, &why) == -EACCES);
	CHECK(why != NULL && strstr(why, "unknown issuer") != NULL && id.id[0] == '\0');
	// NULL id and why are allowed.
	CHECK(svid_verify(&bt.b, bt.leaf, bt.chain, SVID_PEER_IS_CLIENT, now, NULL, NULL) == 0);
	// Far future and far past.
	CHECK(svid_verify(&bt.b, bt.leaf, bt.chain, SVID_PEER_IS_CLIENT, now + 2 * 86400, &id,
			  &why) == -EACCES && strcmp(why, "expired") == 0);
	CHECK(svid_verify(&bt.b, bt.leaf, bt.chain, SVID_PEER_IS_CLIENT, now - 2 * 3600, &id,
			  &why) == -EACCES && strcmp(why, "not yet valid") == 0);
	built_free(&bt);
}

// ---- concurrent use of one bundle ---------------------------------------

struct worker {
	pthread_t t;
	const struct built *good, *bad;
	int errors;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 200; i++) {
		struct spiffe_id id;
		const char *why;

		if (svid_verify(&w->good->b, w->good->leaf, w->good->chain, SVID_PEER_IS_CLIENT, now,
				&id, &why) != 0 || strcmp(id.id, "spiffe://td1/ns/default/sa/web") != 0)
			w->errors++;
		// The bad leaf is checked against the good bundle: it shares
		// nothing with it, so it must fail every time.
		if (svid_verify(&w->good->b, w->bad->leaf, w->bad->chain, SVID_PEER_IS_CLIENT, now,
				&id, &why) != -EACCES || strcmp(why, "unknown issuer") != 0)
			w->errors++;
	}
	return NULL;
}

static void test_threads(void)
{
	static const struct vcase good = { "good", .num_inter = 2 };
	static const struct vcase bad = { "bad", .num_inter = 1 };
	struct built g, b;
	struct worker w[8];

	case_build(&good, &g, NULL);
	case_build(&bad, &b, NULL);
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ .good = &g, .bad = &b };
		if (pthread_create(&w[i].t, NULL, worker_run, &w[i]) != 0)
			die("pthread_create");
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(w[i].t, NULL);
		CHECK(w[i].errors == 0);
	}
	built_free(&g);
	built_free(&b);
}

int main(void)
{
	now = (int64_t)time(NULL);
	test_cases();
	test_bundle();
	test_identity();
	test_threads();
	printf("%s\n", failures ? "verify_test: FAILED" : "verify_test: ok");
	return failures ? 1 : 0;
}
