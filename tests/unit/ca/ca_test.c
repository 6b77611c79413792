// SPDX-License-Identifier: Apache-2.0
// ca_test: the CA: root creation and reload, Istio's plug-in layout, the
// X.509-SVID fields, TTL rules, CSR checks, bootstrap tokens, and issued
// certificates cross-checked by openssl verify -x509_strict and certtool.
#include "ca/ca.h"
#include "ca/spiffe.h"
#include "core/buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/curve25519.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int failures, checks;

#define CHECK(c) do {								\
	checks++;								\
	if (!(c)) {								\
		printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);		\
		failures++;							\
	}									\
} while (0)

// CHECKM is CHECK with a printf-style note (the case name, the reason).
#define CHECKM(c, ...) do {							\
	checks++;								\
	if (!(c)) {								\
		printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #c);		\
		printf(__VA_ARGS__);						\
		putchar('\n');							\
		failures++;							\
	}									\
} while (0)

static char tmp_root[64];
static int64_t now;
static bool have_openssl, have_certtool;

// ---------------------------------------------------------------- helpers

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *tpath(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// tpath formats a path under the temp dir (a few rotating static buffers).
static const char *tpath(const char *fmt, ...)
{
	static char bufs[8][512];
	static int next;
	char *b = bufs[next++ % 8];
	int n = snprintf(b, sizeof(bufs[0]), "%s/", tmp_root);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b + n, sizeof(bufs[0]) - (size_t)n, fmt, ap);
	va_end(ap);
	return b;
}

static void mkdirs(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	if (system(cmd) != 0)
		printf("mkdir -p %s failed\n", path);
}

static EVP_PKEY *gen_ec(int nid)
{
	EVP_PKEY *pkey = EVP_PKEY_new();
	EC_KEY *ec = EC_KEY_new_by_curve_name(nid);

	if (!pkey || !ec || !EC_KEY_generate_key(ec) || !EVP_PKEY_assign_EC_KEY(pkey, ec)) {
		ERR_clear_error();
		EC_KEY_free(ec);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

static EVP_PKEY *gen_rsa(int bits)
{
	EVP_PKEY *pkey = EVP_PKEY_new();
	RSA *rsa = RSA_new();
	BIGNUM *e = BN_new();

	if (!pkey || !rsa || !e || !BN_set_word(e, RSA_F4) ||
	    !RSA_generate_key_ex(rsa, bits, e, NULL) || !EVP_PKEY_assign_RSA(pkey, rsa)) {
		ERR_clear_error();
		BN_free(e);
		RSA_free(rsa);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	BN_free(e);
	return pkey;
}

static EVP_PKEY *gen_ed25519(void)
{
	uint8_t pub[32], priv[64];

	ED25519_keypair(pub, priv);
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (!ext || !X509_add_ext(x, ext, -1))
		printf("test setup: extension %d=%s failed\n", nid, value);
	X509_EXTENSION_free(ext);
}

// make_cert builds a CA certificate (or, with ca false, a plain leaf) for
// key, signed by issuer/issuer_key (self-signed when issuer is NULL).
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
		       int64_t nb, int64_t na, bool ca)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *serial;

	X509_set_version(x, X509_VERSION_3);
	BN_rand(bn, 120, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY);
	serial = BN_to_ASN1_INTEGER(bn, NULL);
	X509_set_serialNumber(x, serial);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
				   (const uint8_t *)"meshgate test", -1, -1, 0);
	X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, (const uint8_t *)cn,
				   -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb);
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na);
	X509_set_pubkey(x, key);
	if (ca) {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
	}
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (issuer)
		add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
		printf("test setup: signing %s failed\n", cn);
	ERR_clear_error();
	return x;
}

static int write_text(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	fwrite(p, 1, n, f);
	return fclose(f);
}

// write_certs writes the NULL-terminated list of certificates as PEM.
static void write_certs(const char *path, ...)
{
	BIO *bio = BIO_new_file(path, "w");
	va_list ap;
	X509 *x;

	va_start(ap, path);
	while ((x = va_arg(ap, X509 *)))
		PEM_write_bio_X509(bio, x);
	va_end(ap);
	BIO_free(bio);
}

// write_key writes key as PKCS#8, or in the traditional EC/RSA form.
static void write_key(const char *path, EVP_PKEY *key, bool traditional)
{
	BIO *bio = BIO_new_file(path, "w");

	if (!traditional)
		PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	else if (EVP_PKEY_id(key) == EVP_PKEY_EC)
		PEM_write_bio_ECPrivateKey(bio, EVP_PKEY_get0_EC_KEY(key), NULL, NULL, 0, NULL,
					   NULL);
	else
		PEM_write_bio_RSAPrivateKey(bio, EVP_PKEY_get0_RSA(key), NULL, NULL, 0, NULL,
					    NULL);
	BIO_free(bio);
}

static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	if (p)
		p[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return p;
}

static int file_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

static int64_t t_unix(const ASN1_TIME *t)
{
	int64_t v = INT64_MIN;

	if (ca_time_unix(t, &v) < 0)
		return INT64_MIN;
	return v;
}

static bool same_der(X509 *a, X509 *b)
{
	uint8_t *da = NULL, *db = NULL;
	int na = i2d_X509(a, &da), nb = i2d_X509(b, &db);
	bool same = na > 0 && na == nb && !memcmp(da, db, (size_t)na);

	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

static STACK_OF(X509) *parse_pem_certs(const char *p, size_t n)
{
	STACK_OF(X509) *s = sk_X509_new_null();
	BIO *bio = BIO_new_mem_buf(p, n);
	X509 *x;

	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		sk_X509_push(s, x);
	ERR_clear_error();
	BIO_free(bio);
	return s;
}

// count_str counts occurrences of needle in p[0..n).
static int count_str(const char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	const char *q = p, *end = p + n;
	int c = 0;

	while ((q = memmem(q, (size_t)(end - q), needle, k))) {
		c++;
		q += k;
	}
	return c;
}

// chain_verifies runs X509_verify_cert on chain[0] with chain[1..] as
// untrusted and root trusted.
static bool chain_verifies(STACK_OF(X509) *chain, X509 *root, int64_t at)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	bool ok;
	size_t i;

	X509_STORE_add_cert(store, root);
	for (i = 1; i < sk_X509_num(chain); i++)
		sk_X509_push(untrusted, sk_X509_value(chain, i));
	X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), untrusted);
	X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	ok = X509_verify_cert(ctx) == 1;
	if (!ok)
		printf("  X509_verify_cert: %s\n",
		       X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	ERR_clear_error();
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static char *csr_pem(X509_REQ *req)
{
	const uint8_t *p;
	size_t n;
	BIO *bio = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (PEM_write_bio_X509_REQ(bio, req) && BIO_mem_contents(bio, &p, &n)) {
		s = malloc(n + 1);
		memcpy(s, p, n);
		s[n] = '\0';
	}
	BIO_free(bio);
	return s;
}

// make_csr builds a CSR for key; hostile asks for a CN, foreign SANs and
// CA:TRUE, none of which may reach the certificate.
static X509_REQ *make_csr(EVP_PKEY *key, bool hostile)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509_REQ_set_version(req, X509_REQ_VERSION_1);
	X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
				   (const uint8_t *)"victim", -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_NAME_free(name);
	X509_REQ_set_pubkey(req, key);
	if (hostile) {
		X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
		e = X509V3_EXT_nconf_nid(NULL, &ctx, NID_subject_alt_name,
					"DNS:evil.example,URI:spiffe://cluster.local/ns/kube-system/sa/admin");
		sk_X509_EXTENSION_push(exts, e);
		e = X509V3_EXT_nconf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		sk_X509_EXTENSION_push(exts, e);
		e = X509V3_EXT_nconf_nid(NULL, &ctx, NID_key_usage, "critical,keyCertSign");
		sk_X509_EXTENSION_push(exts, e);
		X509_REQ_add_extensions(req, exts);
	}
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_sign(req, key, EVP_PKEY_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256());
	ERR_clear_error();
	return req;
}

// csr_for returns the PEM of a fresh CSR for key (freeing nothing of key).
static char *csr_for(EVP_PKEY *key, bool hostile)
{
	X509_REQ *req;
	char *s;

	if (!key)
		return NULL;
	req = make_csr(key, hostile);
	s = csr_pem(req);
	X509_REQ_free(req);
	return s;
}

// csr_broken returns a CSR whose signature no longer matches: the subject
// is changed after signing.
static char *csr_broken(EVP_PKEY *key)
{
	X509_REQ *req = make_csr(key, false);
	uint8_t *der = NULL, *hit;
	char *s;
	BIO *bio = BIO_new(BIO_s_mem());
	const uint8_t *mp;
	size_t mn;
	int n = i2d_X509_REQ(req, &der);

	hit = memmem(der, (size_t)n, "victim", 6);
	if (hit)
		hit[5] = 'M';
	PEM_write_bio(bio, "CERTIFICATE REQUEST", "", der, n);
	BIO_mem_contents(bio, &mp, &mn);
	s = malloc(mn + 1);
	memcpy(s, mp, mn);
	s[mn] = '\0';
	BIO_free(bio);
	OPENSSL_free(der);
	X509_REQ_free(req);
	return s;
}

static int san_count(X509 *x, int type)
{
	GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n = 0;
	size_t i;

	for (i = 0; g && i < sk_GENERAL_NAME_num(g); i++)
		n += sk_GENERAL_NAME_value(g, i)->type == type;
	GENERAL_NAMES_free(g);
	return n;
}

static bool ext_crit(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

// ---------------------------------------------------------------- SVID

// check_svid verifies every Istio field of an issued leaf.
static void check_svid(const char *what, struct ca *ca, X509 *x, const char *want_id,
		       int64_t issued_at, int64_t want_end)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	BASIC_CONSTRAINTS *bc;
	const ASN1_OCTET_STRING *aki, *ski;
	EVP_PKEY *signer = X509_get_pubkey(ca->cert);
	const ASN1_STRING *uri;
	int crit = -1, sig_nid = X509_get_signature_nid(x);

	CHECKM(X509_get_version(x) == X509_VERSION_3, "%s", what);
	CHECKM(X509_NAME_entry_count(X509_get_subject_name(x)) == 0, "%s: subject not empty", what);
	CHECKM(!X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ca->cert)),
	       "%s: issuer", what);
	// exactly one SAN, a URI, critical, the exact ID
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	CHECKM(gens && sk_GENERAL_NAME_num(gens) == 1, "%s: one SAN", what);
	CHECKM(crit == 1, "%s: SAN critical", what);
	if (gens && sk_GENERAL_NAME_num(gens) == 1) {
		g = sk_GENERAL_NAME_value(gens, 0);
		CHECKM(g->type == GEN_URI, "%s: SAN is a URI", what);
		if (g->type == GEN_URI) {
			uri = g->d.uniformResourceIdentifier;
			CHECKM((size_t)ASN1_STRING_length(uri) == strlen(want_id) &&
			       !memcmp(ASN1_STRING_get0_data(uri), want_id, strlen(want_id)),
			       "%s: SAN %.*s want %s", what, ASN1_STRING_length(uri),
			       (const char *)ASN1_STRING_get0_data(uri), want_id);
		}
	}
	GENERAL_NAMES_free(gens);
	// CA:FALSE, explicitly present and critical
	crit = -1;
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	CHECKM(bc && !bc->ca && !bc->pathlen && crit == 1, "%s: basicConstraints", what);
	BASIC_CONSTRAINTS_free(bc);
	CHECKM(X509_check_ca(x) == 0, "%s: not a CA", what);
	// KU digitalSignature|keyEncipherment, critical; EKU server+client
	CHECKM(X509_get_key_usage(x) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT),
	       "%s: KU %#x", what, X509_get_key_usage(x));
	CHECKM(ext_crit(x, NID_key_usage), "%s: KU critical", what);
	CHECKM(X509_get_extended_key_usage(x) == (XKU_SSL_SERVER | XKU_SSL_CLIENT),
	       "%s: EKU %#x", what, X509_get_extended_key_usage(x));
	CHECKM(X509_get_ext_by_NID(x, NID_ext_key_usage, -1) >= 0 && !ext_crit(x, NID_ext_key_usage),
	       "%s: EKU present, not critical", what);
	// SKI, and AKI = the signer's key id
	ski = X509_get0_subject_key_id(x);
	aki = X509_get0_authority_key_id(x);
	CHECKM(ski && ASN1_STRING_length(ski) == 20, "%s: SKI", what);
	CHECKM(aki && X509_get0_subject_key_id(ca->cert) &&
	       !ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(ca->cert)), "%s: AKI", what);
	CHECKM(X509_get_ext_count(x) == 6, "%s: %d extensions, want 6", what,
	       X509_get_ext_count(x));
	// validity
	CHECKM(t_unix(X509_get0_notBefore(x)) == issued_at - CA_BACKDATE_S, "%s: NotBefore", what);
	CHECKM(t_unix(X509_get0_notAfter(x)) == want_end, "%s: NotAfter %lld want %lld", what,
	       (long long)t_unix(X509_get0_notAfter(x)), (long long)want_end);
	// signed by the CA, with SHA-256
	CHECKM(signer && X509_verify(x, signer) == 1, "%s: signature", what);
	if (EVP_PKEY_id(signer) == EVP_PKEY_EC)
		CHECKM(sig_nid == NID_ecdsa_with_SHA256, "%s: sig alg %d", what, sig_nid);
	else
		CHECKM(sig_nid == NID_sha256WithRSAEncryption, "%s: sig alg %d", what, sig_nid);
	EVP_PKEY_free(signer);
	ERR_clear_error();
}

static void test_svid(struct ca *ca)
{
	static const struct {
		const char *ns, *sa;
		bool ok;
	} ids[] = {
		{ "default", "web", true },
		{ "istio-system", "istiod.v1_2", true },
		{ "a", "B", true },
		{ "", "web", false },
		{ "default", "", false },
		{ "de/fault", "web", false },
		{ "..", "web", false },
		{ "default", "we%2fb", false },
		{ "default", "web?x", false },
		{ "default", "web#x", false },
		{ "default", "w b", false },
		{ "default", "w\xc3\xa9", false },
	};
	char err[512], id[SPIFFE_MAX_ID + 1], seen[100][40];
	EVP_PKEY *key;
	X509 *x;
	size_t i;
	int j, k, rc, dups = 0;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		err[0] = '\0';
		rc = ca_issue_keypair(ca, ids[i].ns, ids[i].sa, 3600, now, &x, &key, err, sizeof(err));
		CHECKM((rc == 0) == ids[i].ok, "ns=%s sa=%s rc=%d %s", ids[i].ns, ids[i].sa, rc, err);
		if (rc == 0) {
			snprintf(id, sizeof(id), "spiffe://%s/ns/%s/sa/%s", ca->trust_domain,
				 ids[i].ns, ids[i].sa);
			check_svid(id, ca, x, id, now, now + 3600);
			CHECK(X509_check_private_key(x, key) == 1);
			X509_free(x);
			EVP_PKEY_free(key);
		} else {
			CHECKM(!x && !key && err[0], "failure leaves no output, gives a reason");
		}
	}

	// Key policy on ca_issue itself, not only through CSRs.
	{
		static const struct {
			const char *name;
			int kind;	// 0 EC nid, 1 RSA bits, 2 Ed25519, 3 NULL
			int arg;
			bool ok;
		} keys[] = {
			{ "P-256", 0, NID_X9_62_prime256v1, true },
			{ "P-384", 0, NID_secp384r1, true },
			{ "P-521", 0, NID_secp521r1, false },
			{ "P-224", 0, NID_secp224r1, false },
			{ "RSA-2048", 1, 2048, true },
			{ "RSA-1024", 1, 1024, false },
			{ "RSA-2040", 1, 2040, false },
			{ "Ed25519", 2, 0, false },
			{ "no key", 3, 0, false },
		};

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			key = keys[i].kind == 0 ? gen_ec(keys[i].arg) :
			      keys[i].kind == 1 ? gen_rsa(keys[i].arg) :
			      keys[i].kind == 2 ? gen_ed25519() : NULL;
			if (!key && keys[i].kind != 3) {
				printf("skip: key %s (BoringSSL cannot make it)\n", keys[i].name);
				continue;
			}
			x = (X509 *)1;
			err[0] = '\0';
			rc = ca_issue(ca, key, "default", "web", 60, now, &x, err, sizeof(err));
			CHECKM((rc == 0) == keys[i].ok, "ca_issue key %s: %d %s", keys[i].name, rc, err);
			CHECKM(rc == 0 ? x != NULL : (x == NULL && rc == -EINVAL && err[0]),
			       "ca_issue key %s output", keys[i].name);
			if (rc == 0)
				X509_free(x);
			EVP_PKEY_free(key);
		}
	}

	// Serials: random, positive, >= 64 bits, <= 20 bytes, all distinct.
	for (j = 0; j < 100; j++) {
		BIGNUM *bn;
		char *hex;

		x = NULL;
		key = NULL;
		rc = ca_issue_keypair(ca, "default", "web", 0, now, &x, &key, err, sizeof(err));
		CHECKM(rc == 0, "issue %d: %s", j, err);
		if (rc)
			break;
		bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
		CHECKM(bn && !BN_is_negative(bn) && !BN_is_zero(bn) && BN_num_bits(bn) >= 64 &&
		       BN_num_bytes(bn) <= 20, "serial %d bits", bn ? (int)BN_num_bits(bn) : -1);
		hex = BN_bn2hex(bn);
		snprintf(seen[j], sizeof(seen[j]), "%s", hex);
		for (k = 0; k < j; k++)
			dups += !strcmp(seen[k], seen[j]);
		OPENSSL_free(hex);
		BN_free(bn);
		X509_free(x);
		EVP_PKEY_free(key);
	}
	CHECKM(j == 100 && dups == 0, "%d repeated serials in %d", dups, j);
}

// ---------------------------------------------------------------- TTL

static void test_ttl_parse(void)
{
	static const struct {
		const char *in;
		int rc;
		int64_t want;
	} cases[] = {
		{ "24h", 0, 86400 },
		{ "90m", 0, 5400 },
		{ "3600s", 0, 3600 },
		{ "30d", 0, 2592000 },
		{ "3600", 0, 3600 },
		{ "0", 0, 0 },
		{ "2160h", 0, 7776000 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "", -EINVAL, 0 },
		{ "-5", -EINVAL, 0 },
		{ "+5", -EINVAL, 0 },
		{ "h", -EINVAL, 0 },
		{ "24x", -EINVAL, 0 },
		{ "24hh", -EINVAL, 0 },
		{ "24h5", -EINVAL, 0 },
		{ " 24h", -EINVAL, 0 },
		{ "24h ", -EINVAL, 0 },
		{ "1.5h", -EINVAL, 0 },
		{ "1h30m", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "24H", -EINVAL, 0 },
		{ "9223372036854775808", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		{ "106751991167301d", -ERANGE, 0 },
		{ "2562047788015216h", -ERANGE, 0 },
	};
	int64_t v;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -42;
		rc = ca_parse_ttl(cases[i].in, &v);
		CHECKM(rc == cases[i].rc, "ca_parse_ttl(\"%s\") = %d", cases[i].in, rc);
		if (cases[i].rc == 0)
			CHECKM(v == cases[i].want, "ca_parse_ttl(\"%s\") -> %lld", cases[i].in,
			       (long long)v);
		else
			CHECKM(v == -42, "ca_parse_ttl(\"%s\") wrote on failure", cases[i].in);
	}
	CHECK(ca_parse_ttl(NULL, &v) == -EINVAL);
}

static void test_ttl_rules(struct ca *ca)
{
	static const struct {
		int64_t ttl;
		int rc;
		int64_t life;
	} cases[] = {
		{ 0, 0, CA_DEFAULT_TTL_S },
		{ -5, 0, CA_DEFAULT_TTL_S },
		{ INT64_MIN, 0, CA_DEFAULT_TTL_S },
		{ 1, 0, 1 },
		{ 3600, 0, 3600 },
		{ CA_MAX_TTL_S, 0, CA_MAX_TTL_S },
		{ CA_MAX_TTL_S + 1, -EINVAL, 0 },
		{ 365LL * 86400, -EINVAL, 0 },
		{ INT64_MAX, -EINVAL, 0 },
	};
	char err[512];
	EVP_PKEY *key;
	X509 *x;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		rc = ca_issue_keypair(ca, "default", "ttl", cases[i].ttl, now, &x, &key, err,
				      sizeof(err));
		CHECKM(rc == cases[i].rc, "ttl %lld: rc %d (%s)", (long long)cases[i].ttl, rc, err);
		if (rc == 0) {
			CHECKM(t_unix(X509_get0_notAfter(x)) == now + cases[i].life,
			       "ttl %lld: NotAfter", (long long)cases[i].ttl);
			CHECK(t_unix(X509_get0_notBefore(x)) == now - CA_BACKDATE_S);
			X509_free(x);
			EVP_PKEY_free(key);
		} else {
			CHECKM(strstr(err, "exceeds the maximum (2160h)"), "reason: %s", err);
		}
	}
}

// test_clamp opens a root made long ago, so the leaf must stop with it.
static void test_clamp(void)
{
	char err[512];
	int64_t made = now - CA_ROOT_TTL_S + 5 * 86400, root_end;
	struct ca ca;
	EVP_PKEY *key;
	X509 *x;
	int rc;

	rc = ca_open(&ca, tpath("clamp"), "cluster.local", true, made, err, sizeof(err));
	CHECKM(rc == 0, "old root: %s", err);
	if (rc)
		return;
	root_end = t_unix(X509_get0_notAfter(ca.root));
	CHECK(root_end == now + 5 * 86400);
	rc = ca_issue_keypair(&ca, "default", "web", 30 * 86400, now, &x, &key, err, sizeof(err));
	CHECKM(rc == 0, "clamped issue: %s", err);
	if (rc == 0) {
		check_svid("clamped", &ca, x, "spiffe://cluster.local/ns/default/sa/web", now,
			   root_end);
		X509_free(x);
		EVP_PKEY_free(key);
	}
	rc = ca_issue_keypair(&ca, "default", "web", 3600, now, &x, &key, err, sizeof(err));
	CHECK(rc == 0 && t_unix(X509_get0_notAfter(x)) == now + 3600);
	if (rc == 0) {
		X509_free(x);
		EVP_PKEY_free(key);
	}
	// Past the root's end nothing is issued.
	rc = ca_issue_keypair(&ca, "default", "web", 3600, now + 6 * 86400, &x, &key, err,
			      sizeof(err));
	CHECKM(rc < 0 && !x, "issue after the root expired: %d", rc);
	ca_close(&ca);
	// ... and it no longer opens.
	rc = ca_open(&ca, tpath("clamp"), "cluster.local", true, now + 6 * 86400, err, sizeof(err));
	CHECKM(rc < 0 && strstr(err, "expired"), "expired root opened: %d %s", rc, err);
}

// ---------------------------------------------------------------- CSR

static void test_csr(struct ca *ca)
{
	struct {
		const char *name;
		char *pem;
		size_t len;		// 0: strlen
		int64_t ttl;
		bool ok;
		const char *reason;	// substring of err on failure
		bool skip;
	} cases[16];
	EVP_PKEY *k_p256 = gen_ec(NID_X9_62_prime256v1), *k_p384 = gen_ec(NID_secp384r1);
	EVP_PKEY *k_p224 = gen_ec(NID_secp224r1), *k_rsa2048 = gen_rsa(2048);
	EVP_PKEY *k_rsa1024 = gen_rsa(1024), *k_ed = gen_ed25519();
	char err[512], *big, cmd[1024];
	int n = 0, i, rc;
	struct buf out;
	X509 *leaf;
	STACK_OF(X509) *chain;
	const char *id = "spiffe://cluster.local/ns/default/sa/csr";

	memset(cases, 0, sizeof(cases));
#define CASE(nm, p, ok_, why) do {						\
	cases[n].name = nm;							\
	cases[n].pem = p;							\
	cases[n].ok = ok_;							\
	cases[n].reason = why;							\
	cases[n].skip = !cases[n].pem;						\
	n++;									\
} while (0)
	CASE("P-256", csr_for(k_p256, false), true, NULL);
	CASE("P-384", csr_for(k_p384, false), true, NULL);
	CASE("RSA-2048", csr_for(k_rsa2048, false), true, NULL);
	CASE("hostile P-256 (foreign SANs, CA:TRUE, CN)", csr_for(k_p256, true), true, NULL);
	CASE("RSA-1024", csr_for(k_rsa1024, false), false, "too weak");
	CASE("P-224", csr_for(k_p224, false), false, "not allowed");
	CASE("Ed25519", csr_for(k_ed, false), false, "unsupported key type");
	CASE("broken signature", csr_broken(k_p256), false, "signature");
	CASE("garbage", strdup("hello, world\n"), false, "not a PEM");
	CASE("empty", strdup(""), false, "empty");
	CASE("a certificate, not a CSR", NULL, false, "not a PEM");
	{
		// the CA's own certificate is a PEM, but not a request
		struct buf b;

		buf_init(&b);
		ca_chain_pem(ca, ca->cert, &b);
		buf_appends(&b, "");
		cases[n - 1].pem = strndup(b.data, b.len);
		cases[n - 1].skip = false;
		buf_cleanup(&b);
	}
	CASE("truncated", csr_for(k_p256, false), false, "not a PEM");
	if (cases[n - 1].pem)
		cases[n - 1].pem[strlen(cases[n - 1].pem) / 2] = '\0';
	big = malloc(70 * 1024 + 1);
	memset(big, 'A', 70 * 1024);
	big[70 * 1024] = '\0';
	CASE("oversize", big, false, "too large");
	CASE("TTL over the maximum", csr_for(k_p256, false), false, "exceeds the maximum");
	cases[n - 1].ttl = CA_MAX_TTL_S + 1;
	// secp256k1 is not in BoringSSL: have openssl make one if it is here.
	CASE("secp256k1", NULL, false, "unsupported");
	if (have_openssl) {
		snprintf(cmd, sizeof(cmd),
			 "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:secp256k1 -nodes "
			 "-subj /CN=k1 -keyout %s -out %s >/dev/null 2>&1",
			 tpath("k1.key"), tpath("k1.csr"));
		if (system(cmd) == 0) {
			cases[n - 1].pem = read_text(tpath("k1.csr"), NULL);
			cases[n - 1].skip = !cases[n - 1].pem;
		}
	}
#undef CASE

	for (i = 0; i < n; i++) {
		if (cases[i].skip) {
			printf("skip: CSR case \"%s\" (cannot build the input here)\n", cases[i].name);
			continue;
		}
		buf_init(&out);
		buf_appends(&out, "keep");	// failure must leave this alone
		err[0] = '\0';
		rc = ca_sign_csr(ca, cases[i].pem, cases[i].len ? cases[i].len : strlen(cases[i].pem),
				 "default", "csr", cases[i].ttl, now, &out, err, sizeof(err));
		if (!cases[i].ok) {
			CHECKM(rc < 0, "%s: accepted", cases[i].name);
			CHECKM(out.len == 4, "%s: output touched on failure", cases[i].name);
			CHECKM(cases[i].reason && strstr(err, cases[i].reason) != NULL,
			       "%s: reason \"%s\", want \"%s\"", cases[i].name, err, cases[i].reason);
			buf_cleanup(&out);
			continue;
		}
		CHECKM(rc == 2, "%s: rc %d (%s)", cases[i].name, rc, err);
		if (rc != 2) {
			buf_cleanup(&out);
			continue;
		}
		// every element one PEM block ending in "\n"; leaf first, root last
		CHECK(count_str(out.data + 4, out.len - 4, "-----BEGIN CERTIFICATE-----\n") == 2);
		CHECK(count_str(out.data + 4, out.len - 4, "-----END CERTIFICATE-----\n") == 2);
		CHECK(out.data[out.len - 1] == '\n');
		chain = parse_pem_certs(out.data + 4, out.len - 4);
		CHECK(sk_X509_num(chain) == 2);
		if (sk_X509_num(chain) == 2) {
			leaf = sk_X509_value(chain, 0);
			check_svid(cases[i].name, ca, leaf, id, now, now + CA_DEFAULT_TTL_S);
			CHECK(same_der(sk_X509_value(chain, 1), ca->root));
			CHECK(san_count(leaf, GEN_DNS) == 0 && san_count(leaf, GEN_URI) == 1);
			CHECK(chain_verifies(chain, ca->root, now));
		}
		sk_X509_pop_free(chain, X509_free);
		buf_cleanup(&out);
	}
	for (i = 0; i < n; i++)
		free(cases[i].pem);
	EVP_PKEY_free(k_p256);
	EVP_PKEY_free(k_p384);
	EVP_PKEY_free(k_p224);
	EVP_PKEY_free(k_rsa2048);
	EVP_PKEY_free(k_rsa1024);
	EVP_PKEY_free(k_ed);
}

// ---------------------------------------------------------------- tokens

static void b64url(const void *data, size_t n, char *out)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const uint8_t *p = data;
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = tbl[(v >> 6) & 63];
		out[o++] = tbl[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = tbl[(v >> 6) & 63];
	}
	out[o] = '\0';
}

static void kid_of(X509 *cert, char kid[17])
{
	uint8_t *der = NULL, md[32];
	int n = i2d_X509(cert, &der), i;

	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	for (i = 0; i < 8; i++)
		snprintf(kid + 2 * i, 3, "%02x", md[i]);
}

enum sig_kind { SIG_JOSE = 0, SIG_DER, SIG_HS256, SIG_NONE };

// mint builds a token from raw header and payload JSON, signed with the CA
// key (JOSE r||s or RSA), as DER ECDSA, as HMAC keyed with the bundle, or
// with an empty signature.
static void mint(struct ca *ca, const char *hdr, const char *pl, enum sig_kind kind, char *out)
{
	uint8_t digest[32], sig[1024];
	unsigned hl;
	size_t sl = 0, o;
	ECDSA_SIG *es;
	EVP_MD_CTX *ctx;
	uint8_t *der = NULL;

	b64url(hdr, strlen(hdr), out);
	o = strlen(out);
	out[o++] = '.';
	b64url(pl, strlen(pl), out + o);
	o = strlen(out);
	SHA256((const uint8_t *)out, o, digest);
	switch (kind) {
	case SIG_JOSE:
		if (EVP_PKEY_id(ca->key) == EVP_PKEY_EC) {
			es = ECDSA_do_sign(digest, 32, EVP_PKEY_get0_EC_KEY(ca->key));
			BN_bn2bin_padded(sig, 32, ECDSA_SIG_get0_r(es));
			BN_bn2bin_padded(sig + 32, 32, ECDSA_SIG_get0_s(es));
			ECDSA_SIG_free(es);
			sl = 64;
		} else {
			ctx = EVP_MD_CTX_new();
			sl = sizeof(sig);
			EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, ca->key);
			EVP_DigestSign(ctx, sig, &sl, (const uint8_t *)out, o);
			EVP_MD_CTX_free(ctx);
		}
		break;
	case SIG_DER:
		es = ECDSA_do_sign(digest, 32, EVP_PKEY_get0_EC_KEY(ca->key));
		ECDSA_SIG_to_bytes(&der, &sl, es);
		memcpy(sig, der, sl);
		OPENSSL_free(der);
		ECDSA_SIG_free(es);
		break;
	case SIG_HS256:
		HMAC(EVP_sha256(), ca->bundle_pem.data, ca->bundle_pem.len, (const uint8_t *)out, o,
		     sig, &hl);
		sl = hl;
		break;
	case SIG_NONE:
		sl = 0;
		break;
	}
	out[o++] = '.';
	b64url(sig, sl, out + o);
}

static void test_b64url(void)
{
	static const struct {
		const char *in;
		int rc;
		const char *out;
	} cases[] = {
		{ "", 0, "" },
		{ "Zg", 1, "f" },
		{ "Zm8", 2, "fo" },
		{ "Zm9v", 3, "foo" },
		{ "-_-_", 3, "\xfb\xff\xbf" },
		{ "Zh", -EINVAL, NULL },	// non-zero unused bits
		{ "Zm9", -EINVAL, NULL },
		{ "Z", -EINVAL, NULL },
		{ "Zg==", -EINVAL, NULL },
		{ "Zg=", -EINVAL, NULL },
		{ "+/+/", -EINVAL, NULL },
		{ "Zm 9v", -EINVAL, NULL },
		{ "Zm9v\n", -EINVAL, NULL },
		{ "Zm.v", -EINVAL, NULL },
	};
	uint8_t out[16];
	size_t i;
	int rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = ca_b64url_decode(cases[i].in, strlen(cases[i].in), out, sizeof(out));
		CHECKM(rc == cases[i].rc, "b64url \"%s\": %d", cases[i].in, rc);
		if (rc > 0 && rc == cases[i].rc)
			CHECKM(!memcmp(out, cases[i].out, (size_t)rc), "b64url \"%s\" bytes",
			       cases[i].in);
	}
	CHECK(ca_b64url_decode("Zm9v", 4, out, 2) == -ENOSPC);
	// embedded NUL
	CHECK(ca_b64url_decode("Zm\0v", 4, out, sizeof(out)) == -EINVAL);
}

// test_tokens covers make/verify and the forgeries a verifier must refuse.
// other is a CA of another key (its tokens must not verify here).
static void test_tokens(struct ca *ca, struct ca *other)
{
	char tok[8192], forged[20000], kid[17], hdr[512], pl[1024], err[512];
	char ns[254], sa[254], *p;
	const char *alg = EVP_PKEY_id(ca->key) == EVP_PKEY_RSA ? "RS256" : "ES256";
	uint8_t dec[1024];
	size_t n;
	int rc, i;
	const char *iss_ok = "meshgate-ca/cluster.local";

	kid_of(ca->cert, kid);
	rc = ca_token_make(ca, "default", "web", 3600, now, tok, sizeof(tok));
	CHECKM(rc == 0, "token make: %d", rc);
	n = strlen(tok);
	rc = ca_token_verify(ca, tok, n, now, ns, sa, err, sizeof(err));
	CHECKM(rc == 0 && !strcmp(ns, "default") && !strcmp(sa, "web"), "round trip: %d %s", rc,
	       err);
	// header: exactly {"alg":..,"typ":"JWT","kid":..}; signature size
	p = strchr(tok, '.');
	rc = ca_b64url_decode(tok, (size_t)(p - tok), dec, sizeof(dec) - 1);
	CHECK(rc > 0);
	if (rc > 0) {
		dec[rc] = '\0';
		snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", alg, kid);
		CHECKM(!strcmp((char *)dec, hdr), "header %s want %s", (char *)dec, hdr);
	}
	rc = ca_b64url_decode(p + 1, (size_t)(strchr(p + 1, '.') - p - 1), dec, sizeof(dec) - 1);
	CHECK(rc > 0);
	if (rc > 0) {
		dec[rc] = '\0';
		snprintf(pl, sizeof(pl),
			 "{\"iss\":\"%s\",\"aud\":\"meshgate-bootstrap\",\"sub\":"
			 "\"spiffe://cluster.local/ns/default/sa/web\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"",
			 iss_ok, (long long)now, (long long)now + 3600);
		CHECKM(!strncmp((char *)dec, pl, strlen(pl)), "payload %s", (char *)dec);
		CHECKM(strlen((char *)dec) == strlen(pl) + 32 + 2, "jti is 32 hex");
	}
	p = strrchr(tok, '.') + 1;
	rc = ca_b64url_decode(p, strlen(p), dec, sizeof(dec));
	if (EVP_PKEY_id(ca->key) == EVP_PKEY_EC)
		CHECKM(rc == 64, "ES256 signature is r||s, 64 bytes (got %d)", rc);
	else
		CHECKM(rc == 256, "RS256 signature size %d", rc);
	// Two tokens differ (jti).
	rc = ca_token_make(ca, "default", "web", 3600, now, forged, sizeof(forged));
	CHECK(rc == 0 && strcmp(forged, tok) != 0);

	// Time: valid up to exp-1, expired at exp.
	rc = ca_token_verify(ca, tok, n, now + 3599, ns, sa, err, sizeof(err));
	CHECKM(rc == 0, "before exp: %s", err);
	rc = ca_token_verify(ca, tok, n, now + 3600, ns, sa, err, sizeof(err));
	CHECKM(rc == -EACCES && strstr(err, "token expired") && !ns[0] && !sa[0],
	       "at exp: %d %s", rc, err);
	// iat in the future beyond 60 s (the verifier's clock is behind).
	rc = ca_token_verify(ca, tok, n, now - 61, ns, sa, err, sizeof(err));
	CHECKM(rc == -EACCES, "iat 61s ahead: %d", rc);
	rc = ca_token_verify(ca, tok, n, now - 60, ns, sa, err, sizeof(err));
	CHECKM(rc == 0, "iat 60s ahead: %s", err);

	// Make: bad inputs.
	CHECK(ca_token_make(ca, "default", "web", 0, now, forged, sizeof(forged)) == -EINVAL);
	CHECK(ca_token_make(ca, "default", "web", -1, now, forged, sizeof(forged)) == -EINVAL);
	CHECK(ca_token_make(ca, "default", "web", CA_TOKEN_MAX_TTL_S + 1, now, forged,
			    sizeof(forged)) == -EINVAL);
	CHECK(ca_token_make(ca, "default", "web", CA_TOKEN_MAX_TTL_S, now, forged,
			    sizeof(forged)) == 0);
	CHECK(ca_token_make(ca, "de/fault", "web", 60, now, forged, sizeof(forged)) == -EINVAL);
	CHECK(ca_token_make(ca, "default", "web", 60, now, forged, 64) == -ENOSPC);

	// Byte flips: signature, payload, header.
	{
		static const struct {
			const char *name;
			int which;	// 0 header, 1 payload, 2 signature
		} flips[] = { { "signature", 2 }, { "payload", 1 }, { "header", 0 } };
		char *seg;
		size_t k;

		for (k = 0; k < 3; k++) {
			strcpy(forged, tok);
			seg = forged;
			for (i = 0; i < flips[k].which; i++)
				seg = strchr(seg, '.') + 1;
			seg[5] = seg[5] == 'A' ? 'B' : 'A';
			rc = ca_token_verify(ca, forged, n, now, ns, sa, err, sizeof(err));
			CHECKM(rc == -EACCES, "flipped %s byte accepted", flips[k].name);
		}
		strcpy(forged, tok);
		seg = strrchr(forged, '.') + 1;
		seg[10] = seg[10] == 'A' ? 'B' : 'A';
		rc = ca_token_verify(ca, forged, n, now, ns, sa, err, sizeof(err));
		CHECKM(rc == -EACCES && strstr(err, "bad signature"), "flipped sig: %s", err);
	}

	// Forgeries with well-formed JSON. {A}=alg, {K}=kid, {N}=now.
	{
		static const struct {
			const char *name;
			const char *hdr;	// %1$s alg, %2$s kid
			const char *pl;		// %1$lld now, %2$lld now+3600
			enum sig_kind sig;
			bool ok;
		} f[] = {
			{ "control: re-signed by the CA",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, true },
			{ "control: whitespace and key order",
			  " { \"kid\" : \"%2$s\" , \"alg\" : \"%1$s\" } ",
			  "{\"jti\":\"x\",\"exp\":%2$lld,\"iat\":%1$lld,\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"aud\":\"meshgate-bootstrap\",\"iss\":\"meshgate-ca/cluster.local\",\"extra\":\"ignored\"}",
			  SIG_JOSE, true },
			{ "alg none, empty signature",
			  "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_NONE, false },
			{ "alg none, CA signature",
			  "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "alg HS256 keyed with the bundle",
			  "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_HS256, false },
			{ "alg ES384 (mismatch)",
			  "{\"alg\":\"ES384\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "alg es256 (case)",
			  "{\"alg\":\"es256\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "duplicate alg",
			  "{\"alg\":\"%1$s\",\"alg\":\"none\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "crit header",
			  "{\"alg\":\"%1$s\",\"kid\":\"%2$s\",\"crit\":\"exp\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "wrong kid",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"0000000000000000\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "no kid",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "typ not JWT",
			  "{\"alg\":\"%1$s\",\"typ\":\"JOSE+X\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "wrong aud",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"istio-ca\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "aud as an array",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":[\"meshgate-bootstrap\"],\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "wrong iss",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/other.domain\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "sub in another trust domain",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://other.domain/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "sub not the Istio form",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/workload/x\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "sub with an escaped slash",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a\\/sa/b/sa/c\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "sub uppercase trust domain",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://Cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "sub with a NUL escape",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\\u0000x\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "exp missing",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "exp as a string",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":\"%2$lld\",\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "exp as a float",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld.0,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "exp overflowing int64",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":99999999999999999999,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "lifetime over 30 days",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld9,\"jti\":\"x\"}",
			  SIG_JOSE, false },
			{ "nested object claim",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\",\"x\":{\"y\":1}}",
			  SIG_JOSE, false },
			{ "trailing garbage after the object",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}x",
			  SIG_JOSE, false },
			{ "DER ECDSA signature",
			  "{\"alg\":\"%1$s\",\"typ\":\"JWT\",\"kid\":\"%2$s\"}",
			  "{\"iss\":\"meshgate-ca/cluster.local\",\"aud\":\"meshgate-bootstrap\",\"sub\":\"spiffe://cluster.local/ns/a/sa/b\",\"iat\":%1$lld,\"exp\":%2$lld,\"jti\":\"x\"}",
			  SIG_DER, false },
		};
		size_t k;

		for (k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
			if (f[k].sig == SIG_DER && EVP_PKEY_id(ca->key) != EVP_PKEY_EC)
				continue;
			snprintf(hdr, sizeof(hdr), f[k].hdr, alg, kid);
			snprintf(pl, sizeof(pl), f[k].pl, (long long)now, (long long)now + 3600);
			mint(ca, hdr, pl, f[k].sig, forged);
			err[0] = '\0';
			rc = ca_token_verify(ca, forged, strlen(forged), now, ns, sa, err, sizeof(err));
			if (f[k].ok)
				CHECKM(rc == 0 && !strcmp(ns, "a") && !strcmp(sa, "b"), "%s: %d %s",
				       f[k].name, rc, err);
			else
				CHECKM(rc == -EACCES && err[0] && !ns[0], "%s: accepted (%d)", f[k].name, rc);
		}
	}

	// Encoding-level garbage.
	{
		static const char *bad[] = {
			"",
			"abc",
			"a.b",
			"..",
			"a..c",
			"eyJ.eyJ.",
			"e+J.eyJ.abc",
			"eyJ=.eyJ.abc",
			"eyJ.eyJ.abc.def",
			"!!!.***.???",
		};
		size_t k;

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			rc = ca_token_verify(ca, bad[k], strlen(bad[k]), now, ns, sa, err, sizeof(err));
			CHECKM(rc == -EACCES, "garbage \"%s\" accepted", bad[k]);
		}
		// the real token with padding, '+', a 4th segment, trailing NUL
		snprintf(forged, sizeof(forged), "%s=", tok);
		CHECK(ca_token_verify(ca, forged, strlen(forged), now, ns, sa, err, sizeof(err)) == -EACCES);
		snprintf(forged, sizeof(forged), "%s.", tok);
		CHECK(ca_token_verify(ca, forged, strlen(forged), now, ns, sa, err, sizeof(err)) == -EACCES);
		snprintf(forged, sizeof(forged), "%s", tok);
		CHECK(ca_token_verify(ca, forged, n + 1, now, ns, sa, err, sizeof(err)) == -EACCES);
		snprintf(forged, sizeof(forged), "%s", tok);
		for (p = forged; *p; p++)
			if (*p == '-' || *p == '_') {
				*p = *p == '-' ? '+' : '/';
				break;
			}
		if (*p)
			CHECK(ca_token_verify(ca, forged, n, now, ns, sa, err, sizeof(err)) == -EACCES);
		// oversize: 8 KiB + 1 of valid alphabet
		memset(forged, 'A', 8193);
		forged[100] = '.';
		forged[200] = '.';
		rc = ca_token_verify(ca, forged, 8193, now, ns, sa, err, sizeof(err));
		CHECKM(rc == -EACCES && strstr(err, "too large"), "oversize: %s", err);
		// a huge payload that decodes fine but is over the limit
		memset(forged, 'A', sizeof(forged));
		rc = ca_token_verify(ca, forged, sizeof(forged), now, ns, sa, err, sizeof(err));
		CHECK(rc == -EACCES);
	}

	// A token of another CA (other key, same trust domain) does not verify.
	if (other) {
		rc = ca_token_make(other, "default", "web", 3600, now, forged, sizeof(forged));
		CHECK(rc == 0);
		rc = ca_token_verify(ca, forged, strlen(forged), now, ns, sa, err, sizeof(err));
		CHECKM(rc == -EACCES, "other CA's token accepted");
	}
}

// ---------------------------------------------------------------- files

static void test_root_files(void)
{
	char err[512];
	const char *state = tpath("state/nested/deeper");
	const char *dir = tpath("state/nested/deeper/ca");
	struct ca ca, again;
	X509_NAME *subj;
	X509_NAME_ENTRY *e;
	const ASN1_STRING *o;
	BASIC_CONSTRAINTS *bc;
	BIGNUM *bn;
	char *text;
	size_t len;
	DIR *d;
	struct dirent *de;
	int crit = -1, rc, nfiles = 0;

	rc = ca_open(&ca, state, "cluster.local", false, now, err, sizeof(err));
	CHECKM(rc == -ENOENT, "open without create on nothing: %d", rc);
	rc = ca_open(&ca, state, "cluster.local", true, now, err, sizeof(err));
	CHECKM(rc == 0, "create: %s", err);
	if (rc)
		return;
	CHECK(!ca.plugged);
	CHECK(ca.cert && ca.root && ca.key && ca.chain && sk_X509_num(ca.chain) == 0);
	CHECK(same_der(ca.cert, ca.root));
	CHECK(!strcmp(ca.dir, dir));
	CHECKM(file_mode(dir) == 0700, "ca dir mode %o", file_mode(dir));
	CHECKM(file_mode(tpath("state/nested/deeper/ca/root-key.pem")) == 0600, "key mode %o",
	       file_mode(tpath("state/nested/deeper/ca/root-key.pem")));
	CHECK(file_mode(tpath("state/nested/deeper/ca/root-cert.pem")) == 0644);
	CHECK(file_mode(tpath("state/nested")) == 0700);
	// no temp file left behind
	if ((d = opendir(dir))) {
		while ((de = readdir(d)))
			nfiles += de->d_name[0] != '.';
		closedir(d);
	}
	CHECKM(nfiles == 2, "%d files in the ca dir", nfiles);
	text = read_text(tpath("state/nested/deeper/ca/root-key.pem"), NULL);
	CHECK(text && !strncmp(text, "-----BEGIN PRIVATE KEY-----\n", 28));
	free(text);
	text = read_text(tpath("state/nested/deeper/ca/root-cert.pem"), &len);
	CHECK(text && len == ca.bundle_pem.len && !memcmp(text, ca.bundle_pem.data, len));
	free(text);

	// The root's fields.
	subj = X509_get_subject_name(ca.root);
	CHECK(X509_NAME_entry_count(subj) == 1);
	e = X509_NAME_get_entry(subj, 0);
	o = X509_NAME_ENTRY_get_data(e);
	CHECK(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) == NID_organizationName);
	CHECK(ASN1_STRING_length(o) == 13 && !memcmp(ASN1_STRING_get0_data(o), "cluster.local", 13));
	CHECK(!X509_NAME_cmp(subj, X509_get_issuer_name(ca.root)));
	bc = X509_get_ext_d2i(ca.root, NID_basic_constraints, &crit, NULL);
	CHECK(bc && bc->ca && !bc->pathlen && crit == 1);
	BASIC_CONSTRAINTS_free(bc);
	CHECK(X509_get_key_usage(ca.root) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
	CHECK(ext_crit(ca.root, NID_key_usage));
	CHECK(X509_get0_subject_key_id(ca.root) != NULL);
	CHECK(X509_get_signature_nid(ca.root) == NID_ecdsa_with_SHA256);
	CHECK(EVP_PKEY_id(ca.key) == EVP_PKEY_EC &&
	      EC_GROUP_get_curve_name(EC_KEY_get0_group(EVP_PKEY_get0_EC_KEY(ca.key))) ==
		      NID_X9_62_prime256v1);
	CHECK(t_unix(X509_get0_notAfter(ca.root)) == now + CA_ROOT_TTL_S);
	CHECK(t_unix(X509_get0_notBefore(ca.root)) <= now);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(ca.root), NULL);
	CHECK(bn && !BN_is_negative(bn) && BN_num_bits(bn) >= 64);
	BN_free(bn);

	// A second open loads the same root, with or without create.
	rc = ca_open(&again, state, "cluster.local", false, now + 100, err, sizeof(err));
	CHECKM(rc == 0 && same_der(again.cert, ca.cert) && !again.plugged, "reload: %s", err);
	if (rc == 0)
		ca_close(&again);
	rc = ca_open(&again, state, "cluster.local", true, now + 100, err, sizeof(err));
	CHECKM(rc == 0 && same_der(again.cert, ca.cert), "reload with create: %s", err);
	if (rc == 0) {
		CHECK(EVP_PKEY_cmp(again.key, ca.key) == 1);
		ca_close(&again);
	}
	ca_close(&ca);
	ca_close(&ca);	// idempotent

	// Bad trust domains.
	CHECK(ca_open(&ca, state, "Cluster.Local", true, now, err, sizeof(err)) == -EINVAL);
	CHECK(ca_open(&ca, state, "", true, now, err, sizeof(err)) == -EINVAL);
	CHECK(ca_open(&ca, state, "a/b", true, now, err, sizeof(err)) == -EINVAL);

	// A certificate without its key is an error, not a reason to replace it.
	mkdirs(tpath("halfcert/ca"));
	text = read_text(tpath("state/nested/deeper/ca/root-cert.pem"), &len);
	write_text(tpath("halfcert/ca/root-cert.pem"), text, len);
	free(text);
	rc = ca_open(&ca, tpath("halfcert"), "cluster.local", true, now, err, sizeof(err));
	CHECKM(rc < 0, "root-cert.pem without key accepted");
	// A key without a certificate (a crash between the renames) is replaced.
	mkdirs(tpath("halfkey/ca"));
	text = read_text(tpath("state/nested/deeper/ca/root-key.pem"), &len);
	write_text(tpath("halfkey/ca/root-key.pem"), text, len);
	free(text);
	rc = ca_open(&ca, tpath("halfkey"), "cluster.local", false, now, err, sizeof(err));
	CHECKM(rc == -ENOENT, "key only, no create: %d", rc);
	rc = ca_open(&ca, tpath("halfkey"), "cluster.local", true, now, err, sizeof(err));
	CHECKM(rc == 0, "key only, create: %s", err);
	if (rc == 0)
		ca_close(&ca);
	// A damaged certificate or a foreign key is refused.
	mkdirs(tpath("damaged/ca"));
	text = read_text(tpath("state/nested/deeper/ca/root-cert.pem"), &len);
	text[len / 2] ^= 1;
	write_text(tpath("damaged/ca/root-cert.pem"), text, len);
	free(text);
	text = read_text(tpath("state/nested/deeper/ca/root-key.pem"), &len);
	write_text(tpath("damaged/ca/root-key.pem"), text, len);
	free(text);
	rc = ca_open(&ca, tpath("damaged"), "cluster.local", true, now, err, sizeof(err));
	CHECKM(rc < 0, "damaged root accepted");
	{
		EVP_PKEY *k = gen_ec(NID_X9_62_prime256v1);

		mkdirs(tpath("foreignkey/ca"));
		text = read_text(tpath("state/nested/deeper/ca/root-cert.pem"), &len);
		write_text(tpath("foreignkey/ca/root-cert.pem"), text, len);
		free(text);
		write_key(tpath("foreignkey/ca/root-key.pem"), k, false);
		EVP_PKEY_free(k);
		rc = ca_open(&ca, tpath("foreignkey"), "cluster.local", true, now, err, sizeof(err));
		CHECKM(rc < 0 && strstr(err, "does not match"), "foreign root key: %d %s", rc, err);
	}

	// ca_write_file: mode regardless of umask, replaces, leaves no temp.
	{
		mode_t old = umask(0);

		CHECK(ca_write_file(tpath("wf"), "one", 3, 0600) == 0);
		CHECK(file_mode(tpath("wf")) == 0600);
		umask(077);
		CHECK(ca_write_file(tpath("wf"), "two!", 4, 0644) == 0);
		CHECK(file_mode(tpath("wf")) == 0644);
		umask(old);
		text = read_text(tpath("wf"), &len);
		CHECK(text && len == 4 && !memcmp(text, "two!", 4));
		free(text);
		CHECK(ca_write_file(tpath("nodir/wf"), "x", 1, 0600) == -ENOENT);
	}
}

// ---------------------------------------------------------------- plug-in

struct pki {
	EVP_PKEY *root_key, *i1_key, *i2_key;
	X509 *root, *i1, *i2;
};

static void write_plugin(const char *dir, X509 *ca_cert, EVP_PKEY *ca_key, bool traditional,
			 X509 *root, X509 *c0, X509 *c1, X509 *c2)
{
	char p[600];

	mkdirs(dir);
	snprintf(p, sizeof(p), "%s/ca-cert.pem", dir);
	write_certs(p, ca_cert, NULL);
	snprintf(p, sizeof(p), "%s/ca-key.pem", dir);
	write_key(p, ca_key, traditional);
	snprintf(p, sizeof(p), "%s/root-cert.pem", dir);
	write_certs(p, root, NULL);
	snprintf(p, sizeof(p), "%s/cert-chain.pem", dir);
	write_certs(p, c0, c1, c2, NULL);
}

// plugin_issue opens state, issues, and checks the chain it returns.
static void plugin_issue(const char *what, const char *state, X509 *want_signer,
			 X509 **want_chain, int num_want, X509 *root, int64_t want_end)
{
	char err[512], csr_err[512];
	struct ca ca;
	struct buf out;
	EVP_PKEY *key = gen_ec(NID_X9_62_prime256v1);
	char *csr = csr_for(key, true);
	STACK_OF(X509) *chain;
	int rc, i;

	rc = ca_open(&ca, state, "cluster.local", false, now, err, sizeof(err));
	CHECKM(rc == 0, "%s: open: %s", what, err);
	if (rc) {
		free(csr);
		EVP_PKEY_free(key);
		return;
	}
	CHECKM(ca.plugged, "%s: plugged", what);
	CHECKM(same_der(ca.cert, want_signer), "%s: signer", what);
	CHECKM(same_der(ca.root, root), "%s: root", what);
	buf_init(&out);
	rc = ca_sign_csr(&ca, csr, strlen(csr), "default", "web", 0, now, &out, csr_err,
			 sizeof(csr_err));
	CHECKM(rc == num_want + 1, "%s: sign_csr rc %d (%s)", what, rc, csr_err);
	chain = parse_pem_certs(out.data, out.len);
	CHECKM((int)sk_X509_num(chain) == num_want + 1, "%s: chain of %zu", what,
	       sk_X509_num(chain));
	CHECK(count_str(out.data, out.len, "-----END CERTIFICATE-----\n") == num_want + 1);
	if ((int)sk_X509_num(chain) == num_want + 1) {
		check_svid(what, &ca, sk_X509_value(chain, 0),
			   "spiffe://cluster.local/ns/default/sa/web", now, want_end);
		for (i = 0; i < num_want; i++)
			CHECKM(same_der(sk_X509_value(chain, (size_t)i + 1), want_chain[i]),
			       "%s: chain[%d]", what, i + 1);
		CHECKM(chain_verifies(chain, root, now), "%s: X509_verify_cert", what);
	}
	sk_X509_pop_free(chain, X509_free);
	buf_cleanup(&out);
	ca_close(&ca);
	free(csr);
	EVP_PKEY_free(key);
}

static void test_plugin(struct ca *self)
{
	EVP_PKEY *rk = gen_ec(NID_X9_62_prime256v1), *k1 = gen_ec(NID_X9_62_prime256v1);
	EVP_PKEY *k2 = gen_ec(NID_secp384r1), *rsa = gen_rsa(2048), *weak = gen_rsa(1024);
	EVP_PKEY *stray = gen_ec(NID_X9_62_prime256v1), *k_leaf = gen_ec(NID_X9_62_prime256v1);
	int64_t i1_end = now + 40 * 86400, end_default = now + CA_DEFAULT_TTL_S;
	X509 *root = make_cert("root", rk, NULL, NULL, now - 3600, now + 3650LL * 86400, true);
	X509 *other_root = make_cert("other root", stray, NULL, NULL, now - 3600,
				     now + 3650LL * 86400, true);
	X509 *i1 = make_cert("intermediate 1", k1, root, rk, now - 3600, i1_end, true);
	X509 *i2 = make_cert("intermediate 2", k2, i1, k1, now - 3600, now + 365LL * 86400, true);
	X509 *irsa = make_cert("rsa intermediate", rsa, root, rk, now - 3600, now + 365LL * 86400,
			       true);
	X509 *iweak = make_cert("weak intermediate", weak, root, rk, now - 3600,
				now + 365LL * 86400, true);
	X509 *notca = make_cert("not a CA", k1, root, rk, now - 3600, now + 365LL * 86400, false);
	X509 *want[3];
	char err[512], ns[254], sa[254], tok[8192];
	struct ca ca;
	EVP_PKEY *lk;
	X509 *x;
	int rc;

	// Istio's layout: cert-chain = ca-cert + root. Traditional EC key.
	write_plugin(tpath("p1/ca"), i1, k1, true, root, i1, root, NULL);
	want[0] = i1;
	want[1] = root;
	plugin_issue("plug-in 2-level", tpath("p1"), i1, want, 2, root, end_default);
	// 3 levels, cert-chain with ca-cert at its head; PKCS#8 key; P-384 signer.
	write_plugin(tpath("p2/ca"), i2, k2, false, root, i2, i1, root);
	want[0] = i2;
	want[1] = i1;
	want[2] = root;
	plugin_issue("plug-in 3-level, chain with head", tpath("p2"), i2, want, 3, root,
		     end_default);
	// ... and without it.
	write_plugin(tpath("p3/ca"), i2, k2, false, root, i1, root, NULL);
	plugin_issue("plug-in 3-level, chain without head", tpath("p3"), i2, want, 3, root,
		     end_default);
	// cert-chain with a duplicate: still no duplicates out.
	write_plugin(tpath("p4/ca"), i2, k2, false, root, i2, i1, i1);
	plugin_issue("plug-in, duplicated intermediate", tpath("p4"), i2, want, 3, root,
		     end_default);

	// NotAfter clamped to the signer's (i1 ends in 40 days).
	rc = ca_open(&ca, tpath("p1"), "cluster.local", false, now, err, sizeof(err));
	CHECKM(rc == 0, "p1 reopen: %s", err);
	if (rc == 0) {
		rc = ca_issue(&ca, k_leaf, "default", "web", CA_MAX_TTL_S, now, &x, err, sizeof(err));
		CHECKM(rc == 0, "clamp issue: %s", err);
		if (rc == 0) {
			check_svid("plug-in clamp", &ca, x, "spiffe://cluster.local/ns/default/sa/web",
				   now, i1_end);
			X509_free(x);
		}
		// Tokens work with a plug-in key too; the self-signed CA's do not.
		rc = ca_token_make(&ca, "ns1", "sa1", 600, now, tok, sizeof(tok));
		CHECK(rc == 0);
		rc = ca_token_verify(&ca, tok, strlen(tok), now, ns, sa, err, sizeof(err));
		CHECKM(rc == 0 && !strcmp(ns, "ns1") && !strcmp(sa, "sa1"), "plug-in token: %s", err);
		rc = ca_token_verify(self, tok, strlen(tok), now, ns, sa, err, sizeof(err));
		CHECKM(rc == -EACCES, "plug-in token verified by another CA");
		ca_close(&ca);
	}
	// The intermediate has expired: refused.
	rc = ca_open(&ca, tpath("p1"), "cluster.local", false, i1_end + 1, err, sizeof(err));
	CHECKM(rc < 0 && strstr(err, "expired"), "expired intermediate: %d %s", rc, err);

	// RSA-2048 signer: sha256WithRSAEncryption leaves, RS256 tokens.
	write_plugin(tpath("prsa/ca"), irsa, rsa, true, root, irsa, root, NULL);
	want[0] = irsa;
	want[1] = root;
	plugin_issue("plug-in RSA", tpath("prsa"), irsa, want, 2, root, end_default);
	rc = ca_open(&ca, tpath("prsa"), "cluster.local", false, now, err, sizeof(err));
	CHECKM(rc == 0, "prsa: %s", err);
	if (rc == 0) {
		test_tokens(&ca, self);
		// An ES256 token of the EC CA, presented to the RSA CA.
		rc = ca_token_make(self, "default", "web", 600, now, tok, sizeof(tok));
		rc = ca_token_verify(&ca, tok, strlen(tok), now, ns, sa, err, sizeof(err));
		CHECKM(rc == -EACCES && strstr(err, "alg"), "ES256 on an RSA CA: %s", err);
		ca_close(&ca);
	}

	// Refusals.
	static const struct {
		const char *name;
		const char *reason;
	} bad[] = {
		{ "mismatched key", "does not match" },
		{ "root-cert.pem is another root", "CA chain" },
		{ "ca-cert is not a CA", "not a CA" },
		{ "weak RSA-1024 intermediate", "too weak" },
		{ "incomplete: no root-cert.pem", "root-cert.pem" },
		{ "incomplete: no cert-chain.pem", "cert-chain.pem" },
		{ "two certificates in ca-cert.pem", "exactly one" },
		{ "encrypted or garbage key", "private key" },
	};
	size_t b;

	for (b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		const char *st = tpath("bad%zu", b), *dir = tpath("bad%zu/ca", b);
		char p[600];

		switch (b) {
		case 0:
			write_plugin(dir, i1, stray, false, root, i1, root, NULL);
			break;
		case 1:
			write_plugin(dir, i1, k1, false, other_root, i1, root, NULL);
			break;
		case 2:
			write_plugin(dir, notca, k1, false, root, notca, root, NULL);
			break;
		case 3:
			write_plugin(dir, iweak, weak, false, root, iweak, root, NULL);
			break;
		case 4:
			write_plugin(dir, i1, k1, false, root, i1, root, NULL);
			snprintf(p, sizeof(p), "%s/root-cert.pem", dir);
			unlink(p);
			break;
		case 5:
			write_plugin(dir, i1, k1, false, root, i1, root, NULL);
			snprintf(p, sizeof(p), "%s/cert-chain.pem", dir);
			unlink(p);
			break;
		case 6:
			write_plugin(dir, i1, k1, false, root, i1, root, NULL);
			snprintf(p, sizeof(p), "%s/ca-cert.pem", dir);
			write_certs(p, i1, root, NULL);
			break;
		case 7:
			write_plugin(dir, i1, k1, false, root, i1, root, NULL);
			snprintf(p, sizeof(p), "%s/ca-key.pem", dir);
			write_text(p, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 58);
			break;
		}
		err[0] = '\0';
		// create: the broken plug-in must not be "fixed" by a new root either
		rc = ca_open(&ca, st, "cluster.local", true, now, err, sizeof(err));
		CHECKM(rc < 0 && strstr(err, bad[b].reason), "plug-in %s: rc %d, reason \"%s\"",
		       bad[b].name, rc, err);
		if (rc == 0)
			ca_close(&ca);
		snprintf(p, sizeof(p), "%s/root-key.pem", dir);
		CHECKM(access(p, F_OK) != 0, "plug-in %s: a root was generated", bad[b].name);
	}

	// Two roots in root-cert.pem (a rotation): both in the bundle.
	write_plugin(tpath("p5/ca"), i1, k1, false, root, i1, root, NULL);
	write_certs(tpath("p5/ca/root-cert.pem"), other_root, root, NULL);
	rc = ca_open(&ca, tpath("p5"), "cluster.local", false, now, err, sizeof(err));
	CHECKM(rc == 0, "two roots: %s", err);
	if (rc == 0) {
		CHECK(count_str(ca.bundle_pem.data, ca.bundle_pem.len, "BEGIN CERTIFICATE") == 2);
		CHECK(same_der(ca.root, root));
		ca_close(&ca);
	}

	// Keypair issuance on a plug-in CA.
	rc = ca_open(&ca, tpath("p2"), "cluster.local", false, now, err, sizeof(err));
	if (rc == 0) {
		rc = ca_issue_keypair(&ca, "a", "b", 60, now, &x, &lk, err, sizeof(err));
		CHECKM(rc == 0, "keypair on plug-in: %s", err);
		if (rc == 0) {
			CHECK(X509_check_private_key(x, lk) == 1);
			X509_free(x);
			EVP_PKEY_free(lk);
		}
		// A P-384 signing key makes ES384 tokens (96-byte r||s).
		rc = ca_token_make(&ca, "a", "b", 60, now, tok, sizeof(tok));
		CHECK(rc == 0);
		if (rc == 0) {
			uint8_t h[256];
			char *dot = strchr(tok, '.');
			int hn = ca_b64url_decode(tok, (size_t)(dot - tok), h, sizeof(h) - 1);

			CHECK(hn > 0 && memmem(h, (size_t)hn, "\"alg\":\"ES384\"", 13));
			dot = strrchr(tok, '.') + 1;
			CHECK(ca_b64url_decode(dot, strlen(dot), h, sizeof(h)) == 96);
			rc = ca_token_verify(&ca, tok, strlen(tok), now, ns, sa, err, sizeof(err));
			CHECKM(rc == 0 && !strcmp(ns, "a") && !strcmp(sa, "b"), "ES384: %s", err);
		}
		ca_close(&ca);
	}

	// Leave files for the openssl cross-check.
	write_certs(tpath("plug-root.pem"), root, NULL);
	write_certs(tpath("plug-inter.pem"), i2, i1, NULL);

	EVP_PKEY_free(rk);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(weak);
	EVP_PKEY_free(stray);
	EVP_PKEY_free(k_leaf);
	X509_free(root);
	X509_free(other_root);
	X509_free(i1);
	X509_free(i2);
	X509_free(irsa);
	X509_free(iweak);
	X509_free(notca);
}

// ---------------------------------------------------------------- linters

// run runs a shell command, printing its output if it fails.
static int run(const char *cmd)
{
	char line[512], full[2048];
	struct buf out;
	FILE *f;
	int rc;

	snprintf(full, sizeof(full), "%s 2>&1", cmd);
	if (!(f = popen(full, "r")))
		return -1;
	buf_init(&out);
	while (fgets(line, sizeof(line), f))
		buf_appends(&out, line);
	rc = pclose(f);
	if (rc != 0)
		printf("  $ %s\n%.*s", cmd, (int)out.len, out.data ? out.data : "");
	buf_cleanup(&out);
	return rc;
}

static void test_linters(struct ca *ca)
{
	char err[512], cmd[2048];
	EVP_PKEY *key;
	X509 *leaf;
	struct buf chain;
	struct ca plug;
	int rc;

	if (!have_openssl && !have_certtool) {
		printf("skip: neither openssl nor certtool is installed: no independent check\n");
		return;
	}
	rc = ca_issue_keypair(ca, "default", "lint", 3600, now, &leaf, &key, err, sizeof(err));
	CHECKM(rc == 0, "lint issue: %s", err);
	if (rc)
		return;
	buf_init(&chain);
	ca_chain_pem(ca, leaf, &chain);
	write_certs(tpath("lint-leaf.pem"), leaf, NULL);
	write_text(tpath("lint-root.pem"), ca->bundle_pem.data, ca->bundle_pem.len);
	write_text(tpath("lint-chain.pem"), chain.data, chain.len);
	buf_cleanup(&chain);
	X509_free(leaf);
	EVP_PKEY_free(key);

	if (have_openssl) {
		snprintf(cmd, sizeof(cmd), "openssl verify -x509_strict -CAfile %s %s",
			 tpath("lint-root.pem"), tpath("lint-root.pem"));
		CHECKM(run(cmd) == 0, "openssl -x509_strict rejects the root");
		snprintf(cmd, sizeof(cmd), "openssl verify -x509_strict -CAfile %s %s",
			 tpath("lint-root.pem"), tpath("lint-leaf.pem"));
		CHECKM(run(cmd) == 0, "openssl -x509_strict rejects the leaf");
		snprintf(cmd, sizeof(cmd),
			 "openssl verify -x509_strict -purpose sslserver -CAfile %s %s",
			 tpath("lint-root.pem"), tpath("lint-leaf.pem"));
		CHECKM(run(cmd) == 0, "openssl: not a server cert");
		snprintf(cmd, sizeof(cmd),
			 "openssl verify -x509_strict -purpose sslclient -CAfile %s %s",
			 tpath("lint-root.pem"), tpath("lint-leaf.pem"));
		CHECKM(run(cmd) == 0, "openssl: not a client cert");
	} else {
		printf("skip: openssl not installed: no openssl verify -x509_strict check\n");
	}
	if (have_certtool) {
		snprintf(cmd, sizeof(cmd), "certtool --verify --load-ca-certificate %s --infile %s",
			 tpath("lint-root.pem"), tpath("lint-chain.pem"));
		CHECKM(run(cmd) == 0, "certtool rejects the chain");
	} else {
		printf("skip: certtool not installed\n");
	}

	// A plug-in (3-level) leaf.
	rc = ca_open(&plug, tpath("p2"), "cluster.local", false, now, err, sizeof(err));
	if (rc == 0) {
		rc = ca_issue_keypair(&plug, "default", "lint", 3600, now, &leaf, &key, err,
				      sizeof(err));
		if (rc == 0) {
			write_certs(tpath("lint-pleaf.pem"), leaf, NULL);
			buf_init(&chain);
			ca_chain_pem(&plug, leaf, &chain);
			write_text(tpath("lint-pchain.pem"), chain.data, chain.len);
			buf_cleanup(&chain);
			X509_free(leaf);
			EVP_PKEY_free(key);
			if (have_openssl) {
				snprintf(cmd, sizeof(cmd),
					 "openssl verify -x509_strict -CAfile %s -untrusted %s %s",
					 tpath("plug-root.pem"), tpath("plug-inter.pem"),
					 tpath("lint-pleaf.pem"));
				CHECKM(run(cmd) == 0, "openssl -x509_strict rejects the plug-in leaf");
			}
			if (have_certtool) {
				snprintf(cmd, sizeof(cmd),
					 "certtool --verify --load-ca-certificate %s --infile %s",
					 tpath("plug-root.pem"), tpath("lint-pchain.pem"));
				CHECKM(run(cmd) == 0, "certtool rejects the plug-in chain");
			}
		}
		ca_close(&plug);
	}
}

int main(void)
{
	char err[512];
	struct ca ca, other;
	int rc;

	now = (int64_t)time(NULL);
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/ca_test.XXXXXX");
	if (!mkdtemp(tmp_root)) {
		perror("mkdtemp");
		return 1;
	}
	have_openssl = system("command -v openssl >/dev/null 2>&1") == 0;
	have_certtool = system("command -v certtool >/dev/null 2>&1") == 0;

	test_ttl_parse();
	test_b64url();
	test_root_files();

	rc = ca_open(&ca, tpath("main"), "cluster.local", true, now, err, sizeof(err));
	CHECKM(rc == 0, "main CA: %s", err);
	rc |= ca_open(&other, tpath("other"), "cluster.local", true, now, err, sizeof(err));
	CHECKM(rc == 0, "other CA: %s", err);
	if (rc == 0) {
		test_svid(&ca);
		test_ttl_rules(&ca);
		test_clamp();
		test_csr(&ca);
		test_tokens(&ca, &other);
		test_plugin(&ca);
		test_linters(&ca);
		ca_close(&ca);
		ca_close(&other);
	}

	rm_rf(tmp_root);
	if (failures) {
		printf("ca_test: %d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("ca_test: all %d checks passed\n", checks);
	return 0;
}
