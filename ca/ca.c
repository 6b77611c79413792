// SPDX-License-Identifier: Apache-2.0
// ca.c: the CA's signing material (a self-signed root made on first use, or
// Istio's plug-in layout) and X.509-SVID issuance with Istio's conventions.
#include "ca.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "spiffe.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum {
	FILE_MAX = 1 << 20,	// any PEM file we read
	CSR_MAX = 64 << 10,	// a CSR is a few hundred bytes; RSA-8192 is ~3 KiB
	SERIAL_LEN = 16,	// 128 bits
	RSA_MIN_BITS = 2048,
	RSA_MAX_BITS = 8192,
};

// The Istio plug-in layout (Secret `cacerts`) and our own root's files.
static const char CA_CERT[] = "ca-cert.pem";
static const char CA_KEY[] = "ca-key.pem";
static const char CERT_CHAIN[] = "cert-chain.pem";
static const char ROOT_CERT[] = "root-cert.pem";
static const char ROOT_KEY[] = "root-key.pem";

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

// fail writes a reason into err (if any) and returns code.
static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return code;
}

// ssl_reason formats the first queued BoringSSL error and clears the queue.
static const char *ssl_reason(char *s, size_t len)
{
	uint32_t e = ERR_peek_error();

	if (!e)
		snprintf(s, len, "no detail");
	else
		ERR_error_string_n(e, s, len);
	ERR_clear_error();
	return s;
}

void ca_sent_chain(const struct ca *ca, STACK_OF(X509) *out)
{
	size_t n = ca->chain ? sk_X509_num(ca->chain) : 0;

	if (!ca->plugged)
		return;
	sk_X509_push(out, ca->cert);
	for (size_t i = 0; i + 1 < n; i++)	// the last one is the root
		if (X509_cmp(sk_X509_value(ca->chain, i), ca->cert))
			sk_X509_push(out, sk_X509_value(ca->chain, i));
}

int ca_time_unix(const ASN1_TIME *t, int64_t *out_s)
{
	ASN1_TIME *epoch;
	int days, secs, ok;

	if (!t)
		return -EINVAL;
	if (!(epoch = ASN1_TIME_set(NULL, 0)))
		return -ENOMEM;
	ok = ASN1_TIME_diff(&days, &secs, epoch, t);
	ASN1_TIME_free(epoch);
	if (!ok) {
		ERR_clear_error();
		return -EINVAL;
	}
	*out_s = (int64_t)days * 86400 + secs;
	return 0;
}

// set_time sets an X.509 time (UTCTime up to 2049, GeneralizedTime after,
// as RFC 5280 wants).
static int set_time(ASN1_TIME *t, int64_t when)
{
	if (!ASN1_TIME_set(t, (time_t)when)) {
		ERR_clear_error();
		return -EINVAL;
	}
	return 0;
}

// ---------------------------------------------------------------- files

int ca_write_file(const char *path, const void *data, size_t len, unsigned mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	uint8_t rnd[8];
	const char *p = data, *slash;
	int fd, dfd, err = 0;
	ssize_t n;

	RAND_bytes(rnd, sizeof(rnd));
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d.%02x%02x%02x%02x%02x%02x%02x%02x", path,
		     (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
		     rnd[7]) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	// O_EXCL: never write through a file (or symlink) someone planted.
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	// The umask may have cleared bits the caller asked for.
	if (fchmod(fd, mode) < 0)
		goto out_unlink;
	while (len) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto out_unlink;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0)
		goto out_unlink;
	if (close(fd) < 0) {
		fd = -1;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto out_unlink;
	// Make the rename itself durable.
	slash = strrchr(path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) + (slash == path), path);
	else
		snprintf(dir, sizeof(dir), ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
out_unlink:
	err = -errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return err;
}

// mkdir_p creates path and its missing parents with mode.
static int mkdir_p(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	struct stat st;
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -errno;
		if (i < n)
			p[i] = '/';
	}
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

// read_at reads dir/name (at most FILE_MAX bytes) into out.
static int read_at(int dfd, const char *name, struct buf *out)
{
	char chunk[8192];
	ssize_t n;
	int fd, err = 0;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > FILE_MAX) {
			err = -EFBIG;
			break;
		}
		if ((err = buf_append(out, chunk, (size_t)n)) < 0)
			break;
	}
	close(fd);
	return err;
}

// exists_at says whether dir/name exists: 1, 0, or -errno.
static int exists_at(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, 0) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

// ---------------------------------------------------------------- PEM

// parse_certs appends every CERTIFICATE block of pem to out (taking
// references). It returns the number added, or -EBADMSG for a damaged block.
static int parse_certs(const char *pem, size_t len, STACK_OF(X509) *out)
{
	BIO *bio;
	X509 *x;
	uint32_t e;
	int n = 0;

	if (!(bio = BIO_new_mem_buf(pem, len)))
		return -ENOMEM;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (!sk_X509_push(out, x)) {
			X509_free(x);
			BIO_free(bio);
			return -ENOMEM;
		}
		n++;
	}
	BIO_free(bio);
	// Running out of blocks ends the loop with "no start line"; anything
	// else is a block we could not read.
	e = ERR_peek_last_error();
	if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		ERR_clear_error();
		return -EBADMSG;
	}
	ERR_clear_error();
	return n;
}

// pem_append appends x as one PEM block ending in "\n".
static int pem_append(struct buf *out, X509 *x)
{
	const uint8_t *p;
	size_t n;
	BIO *bio;
	int err = -ENOMEM;

	if (!(bio = BIO_new(BIO_s_mem())))
		return -ENOMEM;
	if (PEM_write_bio_X509(bio, x) && BIO_mem_contents(bio, &p, &n))
		err = buf_append(out, p, n);
	BIO_free(bio);
	ERR_clear_error();
	return err;
}

// no_password refuses to prompt for an encrypted key's passphrase.
static int no_password(char *buf, int size, int rwflag, void *u)
{
	return 0;
}

// ---------------------------------------------------------------- checks

// key_check enforces the key policy: RSA 2048..8192 bits, or EC P-256/P-384.
static int key_check(const EVP_PKEY *pkey, const char *what, char *err, size_t err_len)
{
	const EC_GROUP *g;
	const char *sn;
	unsigned bits;
	int nid;

	switch (EVP_PKEY_id(pkey)) {
	case EVP_PKEY_RSA:
		bits = RSA_bits(EVP_PKEY_get0_RSA(pkey));
		if (bits < RSA_MIN_BITS)
			return fail(err, err_len, -EINVAL,
				    "%s: RSA key of %u bits is too weak (minimum %d)", what, bits,
				    RSA_MIN_BITS);
		if (bits > RSA_MAX_BITS)
			return fail(err, err_len, -EINVAL,
				    "%s: RSA key of %u bits is too large (maximum %d)", what, bits,
				    RSA_MAX_BITS);
		return 0;
	case EVP_PKEY_EC:
		g = EC_KEY_get0_group(EVP_PKEY_get0_EC_KEY(pkey));
		nid = g ? EC_GROUP_get_curve_name(g) : NID_undef;
		if (nid == NID_X9_62_prime256v1 || nid == NID_secp384r1)
			return 0;
		sn = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
		return fail(err, err_len, -EINVAL,
			    "%s: EC curve %s is not allowed (P-256 or P-384 only)", what,
			    sn ? sn : "(unknown)");
	default:
		return fail(err, err_len, -EINVAL,
			    "%s: unsupported key type (RSA or ECDSA P-256/P-384 only)", what);
	}
}

// not_after returns the earliest NotAfter along the signing path: a leaf
// must not outlive anything it chains through.
static int not_after(const struct ca *ca, int64_t *out)
{
	int64_t t, min;
	size_t i;
	int err;

	if ((err = ca_time_unix(X509_get0_notAfter(ca->cert), &min)) < 0)
		return err;
	for (i = 0; ca->chain && i < sk_X509_num(ca->chain); i++) {
		if ((err = ca_time_unix(X509_get0_notAfter(sk_X509_value(ca->chain, i)), &t)) < 0)
			return err;
		if (t < min)
			min = t;
	}
	*out = min;
	return 0;
}

// verify_path validates cert up to one of roots (trusted) through
// untrusted at time now, and returns the path (cert first, root last).
static int verify_path(X509 *cert, STACK_OF(X509) *roots, STACK_OF(X509) *untrusted,
		       int64_t now, STACK_OF(X509) **out, char *err, size_t err_len)
{
	X509_STORE *store;
	X509_STORE_CTX *ctx = NULL;
	size_t i;
	int rc = -ENOMEM, verr;

	if (!(store = X509_STORE_new()))
		return -ENOMEM;
	for (i = 0; i < sk_X509_num(roots); i++) {
		if (!X509_STORE_add_cert(store, sk_X509_value(roots, i)))
			ERR_clear_error();	// a duplicate root: harmless
	}
	if (!(ctx = X509_STORE_CTX_new()) || !X509_STORE_CTX_init(ctx, store, cert, untrusted))
		goto out;
	X509_STORE_CTX_set_time(ctx, 0, (time_t)now);
	if (X509_verify_cert(ctx) != 1) {
		verr = X509_STORE_CTX_get_error(ctx);
		rc = fail(err, err_len, -EINVAL, "certificate %d of the CA chain: %s",
			  X509_STORE_CTX_get_error_depth(ctx),
			  X509_verify_cert_error_string(verr));
		goto out;
	}
	if (!(*out = X509_STORE_CTX_get1_chain(ctx)))
		goto out;
	rc = 0;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}

// adopt checks cert/key against roots (and the untrusted intermediates)
// and, if all is well, fills ca. It takes ownership of cert and key in
// every case; it borrows roots and untrusted.
static int adopt(struct ca *ca, X509 *cert, EVP_PKEY *key, STACK_OF(X509) *roots,
		 STACK_OF(X509) *untrusted, int64_t now, char *err, size_t err_len)
{
	STACK_OF(X509) *path = NULL;
	X509 *x;
	size_t i;
	int rc;

	if ((rc = key_check(key, "CA key", err, err_len)) < 0)
		goto out;
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		rc = fail(err, err_len, -EINVAL, "CA key does not match the CA certificate");
		goto out;
	}
	// 1 is "basicConstraints CA:TRUE, and keyCertSign if KeyUsage is
	// present": legacy v1 roots and KU-only CAs are not accepted.
	if (X509_check_ca(cert) != 1) {
		rc = fail(err, err_len, -EINVAL,
			  "CA certificate is not a CA (needs basicConstraints CA:TRUE and keyCertSign)");
		goto out;
	}
	if ((rc = verify_path(cert, roots, untrusted, now, &path, err, err_len)) < 0)
		goto out;
	rc = -ENOMEM;
	if (!(ca->chain = sk_X509_new_null()))
		goto out;
	for (i = 1; i < sk_X509_num(path); i++) {
		x = sk_X509_value(path, i);
		if (!sk_X509_push(ca->chain, x))
			goto out;
		X509_up_ref(x);
	}
	ca->root = sk_X509_value(path, sk_X509_num(path) - 1);
	X509_up_ref(ca->root);
	// The bundle is every root we were given, re-encoded: comments and
	// stray text in the file do not travel.
	for (i = 0; i < sk_X509_num(roots); i++) {
		if ((rc = pem_append(&ca->bundle_pem, sk_X509_value(roots, i))) < 0)
			goto out;
	}
	ca->cert = cert;
	ca->key = key;
	cert = NULL;
	key = NULL;
	rc = 0;
out:
	sk_X509_pop_free(path, X509_free);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

// load_key reads a private key: PKCS#8 or traditional EC/RSA PEM.
static int load_key(int dfd, const char *name, EVP_PKEY **out, char *err, size_t err_len)
{
	struct buf b;
	char why[256];
	BIO *bio;
	int rc;

	buf_init(&b);
	if ((rc = read_at(dfd, name, &b)) < 0) {
		fail(err, err_len, rc, "%s: %s", name, strerror(-rc));
		goto out;
	}
	rc = -ENOMEM;
	if (!(bio = BIO_new_mem_buf(b.data, b.len)))
		goto out;
	*out = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	BIO_free(bio);
	rc = 0;
	if (!*out)
		rc = fail(err, err_len, -EINVAL,
			  "%s: not a usable private key (encrypted, or not PEM PKCS#8/EC/RSA?) (%s)",
			  name, ssl_reason(why, sizeof(why)));
out:
	OPENSSL_cleanse(b.data, b.cap);
	buf_cleanup(&b);
	return rc;
}

// load_certs reads every certificate of dir/name into a new stack.
static int load_certs(int dfd, const char *name, STACK_OF(X509) **out, char *err,
		      size_t err_len)
{
	struct buf b;
	int rc;

	buf_init(&b);
	if (!(*out = sk_X509_new_null()))
		return -ENOMEM;
	if ((rc = read_at(dfd, name, &b)) < 0) {
		fail(err, err_len, rc, "%s: %s", name, strerror(-rc));
		goto out;
	}
	rc = parse_certs(b.data ? b.data : "", b.len, *out);
	if (rc == -EBADMSG)
		fail(err, err_len, rc, "%s: damaged PEM certificate", name);
	else if (rc == 0)
		rc = fail(err, err_len, -EINVAL, "%s: no certificate in it", name);
out:
	buf_cleanup(&b);
	if (rc < 0) {
		sk_X509_pop_free(*out, X509_free);
		*out = NULL;
	}
	return rc;
}

// in_stack says whether x (by content) is in s.
static bool in_stack(STACK_OF(X509) *s, const X509 *x)
{
	size_t i;

	for (i = 0; i < sk_X509_num(s); i++) {
		if (!X509_cmp(sk_X509_value(s, i), x))
			return true;
	}
	return false;
}

// load_plugin reads Istio's plug-in layout: ca-cert.pem (the signing cert),
// ca-key.pem, root-cert.pem (one or more roots) and cert-chain.pem (Istio
// writes ca-cert + intermediates + root; some tools leave ca-cert out).
static int load_plugin(struct ca *ca, int dfd, int64_t now, char *err, size_t err_len)
{
	STACK_OF(X509) *certs = NULL, *roots = NULL, *chain = NULL, *untrusted = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL, *x;
	size_t i;
	int rc;

	if ((rc = load_certs(dfd, CA_CERT, &certs, err, err_len)) < 0)
		goto out;
	if (sk_X509_num(certs) != 1) {
		rc = fail(err, err_len, -EINVAL, "%s must hold exactly one certificate (has %zu)",
			  CA_CERT, sk_X509_num(certs));
		goto out;
	}
	cert = sk_X509_shift(certs);
	if ((rc = load_key(dfd, CA_KEY, &key, err, err_len)) < 0)
		goto out;
	if ((rc = load_certs(dfd, ROOT_CERT, &roots, err, err_len)) < 0)
		goto out;
	if ((rc = load_certs(dfd, CERT_CHAIN, &chain, err, err_len)) < 0)
		goto out;
	rc = -ENOMEM;
	if (!(untrusted = sk_X509_new_null()))
		goto out;
	// Intermediates only: the signing cert and the roots are known already,
	// and a root copy among the untrusted would only confuse path building.
	for (i = 0; i < sk_X509_num(chain); i++) {
		x = sk_X509_value(chain, i);
		if (!X509_cmp(x, cert) || in_stack(roots, x) || in_stack(untrusted, x))
			continue;
		if (!sk_X509_push(untrusted, x))
			goto out;
	}
	ca->plugged = true;
	rc = adopt(ca, cert, key, roots, untrusted, now, err, err_len);
	cert = NULL;
	key = NULL;
out:
	sk_X509_free(untrusted);	// borrowed from chain
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(roots, X509_free);
	sk_X509_pop_free(certs, X509_free);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

// load_root reads a root made by an earlier start.
static int load_root(struct ca *ca, int dfd, int64_t now, char *err, size_t err_len)
{
	STACK_OF(X509) *roots = NULL, *one = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert;
	size_t i;
	int rc;

	if ((rc = load_certs(dfd, ROOT_CERT, &roots, err, err_len)) < 0)
		return rc;
	if ((rc = load_key(dfd, ROOT_KEY, &key, err, err_len)) < 0)
		goto out;
	rc = -ENOMEM;
	if (!(one = sk_X509_new_null()))
		goto out;
	cert = sk_X509_value(roots, 0);
	if (!sk_X509_push(one, cert))
		goto out;
	X509_up_ref(cert);	// for one
	X509_up_ref(cert);	// for adopt
	// The signing root must anchor itself; further roots in the file (an
	// older root kept during a rotation) stay in the bundle.
	rc = adopt(ca, cert, key, one, NULL, now, err, err_len);
	key = NULL;
	if (rc == 0 && sk_X509_num(roots) > 1) {
		ca->bundle_pem.len = ca->bundle_pem.off = 0;
		for (i = 0; i < sk_X509_num(roots) && rc == 0; i++)
			rc = pem_append(&ca->bundle_pem, sk_X509_value(roots, i));
	}
out:
	sk_X509_pop_free(one, X509_free);
	sk_X509_pop_free(roots, X509_free);
	EVP_PKEY_free(key);
	return rc;
}

// ---------------------------------------------------------------- building

// set_serial gives x a random positive 128-bit serial. Bit 126 is forced
// on, so every serial has 127 significant bits (126 random) and a 16-byte
// DER INTEGER: never zero, never negative, always well over 64 bits.
static int set_serial(X509 *x)
{
	uint8_t b[SERIAL_LEN];
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn;
	int rc = -ENOMEM;

	RAND_bytes(b, sizeof(b));
	b[0] = (b[0] & 0x7f) | 0x40;
	if (!(bn = BN_bin2bn(b, sizeof(b), NULL)))
		return -ENOMEM;
	if ((ai = BN_to_ASN1_INTEGER(bn, NULL)) && X509_set_serialNumber(x, ai))
		rc = 0;
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	ERR_clear_error();
	return rc;
}

// key_id is RFC 5280 method 1: SHA-1 of the subjectPublicKey bits.
static int key_id(const X509 *x, uint8_t md[SHA_DIGEST_LENGTH])
{
	const ASN1_BIT_STRING *pk = X509_get0_pubkey_bitstr(x);

	if (!pk)
		return -EINVAL;
	SHA1(ASN1_STRING_get0_data(pk), (size_t)ASN1_STRING_length(pk), md);
	return 0;
}

static int add_ski(X509 *x)
{
	uint8_t md[SHA_DIGEST_LENGTH];
	ASN1_OCTET_STRING *os;
	int rc = -ENOMEM;

	if (key_id(x, md) < 0)
		return -EINVAL;
	if (!(os = ASN1_OCTET_STRING_new()))
		return -ENOMEM;
	if (ASN1_OCTET_STRING_set(os, md, sizeof(md)) &&
	    X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0, X509V3_ADD_DEFAULT) == 1)
		rc = 0;
	ASN1_OCTET_STRING_free(os);
	return rc;
}

// add_aki points at the issuer's SKI, or its computed key id if it has none.
static int add_aki(X509 *x, X509 *issuer)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	uint8_t md[SHA_DIGEST_LENGTH];
	AUTHORITY_KEYID *akid;
	int rc = -ENOMEM;

	if (!(akid = AUTHORITY_KEYID_new()))
		return -ENOMEM;
	if (ski) {
		akid->keyid = ASN1_OCTET_STRING_dup(ski);
	} else if (key_id(issuer, md) == 0 && (akid->keyid = ASN1_OCTET_STRING_new())) {
		if (!ASN1_OCTET_STRING_set(akid->keyid, md, sizeof(md)))
			goto out;
	}
	if (akid->keyid &&
	    X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT) == 1)
		rc = 0;
out:
	AUTHORITY_KEYID_free(akid);
	return rc;
}

static int add_basic_constraints(X509 *x, bool is_ca)
{
	BASIC_CONSTRAINTS *bc;
	int rc = -ENOMEM;

	if (!(bc = BASIC_CONSTRAINTS_new()))
		return -ENOMEM;
	bc->ca = is_ca ? 0xff : 0;
	if (X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) == 1)
		rc = 0;
	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

// add_key_usage sets the given KeyUsage bits (0 = digitalSignature, ...),
// critical.
static int add_key_usage(X509 *x, const int *bits, size_t n)
{
	ASN1_BIT_STRING *ku;
	int rc = -ENOMEM;
	size_t i;

	if (!(ku = ASN1_BIT_STRING_new()))
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!ASN1_BIT_STRING_set_bit(ku, bits[i], 1))
			goto out;
	}
	if (X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) == 1)
		rc = 0;
out:
	ASN1_BIT_STRING_free(ku);
	return rc;
}

static int add_eku_server_client(X509 *x)
{
	STACK_OF(ASN1_OBJECT) *eku;
	int rc = -ENOMEM;

	if (!(eku = sk_ASN1_OBJECT_new_null()))
		return -ENOMEM;
	// OBJ_nid2obj returns static objects: the stack is freed shallow.
	if (sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) &&
	    sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_client_auth)) &&
	    X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, X509V3_ADD_DEFAULT) == 1)
		rc = 0;
	sk_ASN1_OBJECT_free(eku);
	return rc;
}

// add_san_uri adds the single URI SAN, critical (the subject is empty).
static int add_san_uri(X509 *x, const char *uri)
{
	GENERAL_NAMES *gens;
	GENERAL_NAME *gen = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	int rc = -ENOMEM;

	if (!(gens = GENERAL_NAMES_new()))
		return -ENOMEM;
	if (!(gen = GENERAL_NAME_new()) || !(ia5 = ASN1_IA5STRING_new()) ||
	    !ASN1_STRING_set(ia5, uri, (int)strlen(uri)))
		goto out;
	GENERAL_NAME_set0_value(gen, GEN_URI, ia5);
	ia5 = NULL;
	if (!sk_GENERAL_NAME_push(gens, gen))
		goto out;
	gen = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 1, X509V3_ADD_DEFAULT) == 1)
		rc = 0;
out:
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return rc;
}

static int sign(X509 *x, EVP_PKEY *key)
{
	// SHA-256 with either key type: ecdsa-with-SHA256 or
	// sha256WithRSAEncryption (PKCS#1 v1.5), as Istio signs.
	if (!X509_sign(x, key, EVP_sha256())) {
		ERR_clear_error();
		return -EPROTO;
	}
	return 0;
}

// new_p256 generates an ECDSA P-256 key.
static EVP_PKEY *new_p256(void)
{
	EVP_PKEY *pkey = EVP_PKEY_new();
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);

	if (!pkey || !ec || !EC_KEY_generate_key(ec) || !EVP_PKEY_assign_EC_KEY(pkey, ec)) {
		ERR_clear_error();
		EC_KEY_free(ec);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

// key_pem encodes key as unencrypted PKCS#8 PEM.
static int key_pem(EVP_PKEY *key, struct buf *out)
{
	const uint8_t *p;
	size_t n;
	BIO *bio;
	int rc = -ENOMEM;

	if (!(bio = BIO_new(BIO_s_mem())))
		return -ENOMEM;
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) &&
	    BIO_mem_contents(bio, &p, &n))
		rc = buf_append(out, p, n);
	// The BIO's memory held the key: wipe it before it goes back.
	if (BIO_mem_contents(bio, &p, &n) && n)
		OPENSSL_cleanse((void *)p, n);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

// generate_root makes a self-signed ECDSA P-256 root, O=<trust domain>,
// writes root-key.pem (0600) then root-cert.pem, and adopts them. The key
// goes first: a crash in between leaves a key without a certificate, which
// the next start replaces, never a certificate whose key is lost.
static int generate_root(struct ca *ca, int dfd, int64_t now, char *err, size_t err_len)
{
	static const int ku_bits[] = { 5, 6 };	// keyCertSign, cRLSign
	STACK_OF(X509) *one = NULL;
	X509_NAME *name = NULL;
	EVP_PKEY *key;
	X509 *x = NULL;
	struct buf kb, cb;
	char path[sizeof(ca->dir) + 32];
	int rc = -ENOMEM;

	buf_init(&kb);
	buf_init(&cb);
	if (!(key = new_p256()))
		return fail(err, err_len, -ENOMEM, "generating the root key failed");
	if (!(x = X509_new()) || !X509_set_version(x, X509_VERSION_3) ||
	    !(name = X509_NAME_new()) ||
	    !X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8,
					(const uint8_t *)ca->trust_domain, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_set_pubkey(x, key))
		goto out_ssl;
	if ((rc = set_serial(x)) < 0 ||
	    (rc = set_time(X509_getm_notBefore(x), now - CA_BACKDATE_S)) < 0 ||
	    (rc = set_time(X509_getm_notAfter(x), now + CA_ROOT_TTL_S)) < 0 ||
	    (rc = add_basic_constraints(x, true)) < 0 ||
	    (rc = add_key_usage(x, ku_bits, ARRAY_SIZE(ku_bits))) < 0 || (rc = add_ski(x)) < 0 ||
	    (rc = sign(x, key)) < 0)
		goto out_ssl;
	if ((rc = key_pem(key, &kb)) < 0 || (rc = pem_append(&cb, x)) < 0)
		goto out_ssl;
	// The directory is ours from here on: private.
	if (fchmod(dfd, 0700) < 0) {
		rc = fail(err, err_len, -errno, "chmod %s: %s", ca->dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", ca->dir, ROOT_KEY);
	if ((rc = ca_write_file(path, kb.data, kb.len, 0600)) < 0) {
		fail(err, err_len, rc, "writing %s: %s", path, strerror(-rc));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", ca->dir, ROOT_CERT);
	if ((rc = ca_write_file(path, cb.data, cb.len, 0644)) < 0) {
		fail(err, err_len, rc, "writing %s: %s", path, strerror(-rc));
		goto out;
	}
	rc = -ENOMEM;
	if (!(one = sk_X509_new_null()) || !sk_X509_push(one, x))
		goto out;
	X509_up_ref(x);
	rc = adopt(ca, x, key, one, NULL, now, err, err_len);
	x = NULL;
	key = NULL;
	goto out;
out_ssl:
	ERR_clear_error();
	fail(err, err_len, rc, "building the root certificate failed");
out:
	sk_X509_pop_free(one, X509_free);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	OPENSSL_cleanse(kb.data, kb.cap);
	buf_cleanup(&kb);
	buf_cleanup(&cb);
	return rc;
}

// ---------------------------------------------------------------- API

int ca_open(struct ca *ca, const char *state_dir, const char *trust_domain, bool create,
	    int64_t now, char *err, size_t err_len)
{
	int dfd, rc, has_cert, has_key, has_chain;

	memset(ca, 0, sizeof(*ca));
	buf_init(&ca->bundle_pem);
	if (!state_dir || !*state_dir || !trust_domain)
		return fail(err, err_len, -EINVAL, "no state directory or trust domain");
	if (strlen(trust_domain) > SPIFFE_MAX_TD ||
	    !spiffe_td_valid(trust_domain, strlen(trust_domain)))
		return fail(err, err_len, -EINVAL, "invalid trust domain \"%.300s\"", trust_domain);
	snprintf(ca->trust_domain, sizeof(ca->trust_domain), "%s", trust_domain);
	if (snprintf(ca->dir, sizeof(ca->dir), "%s/ca", state_dir) >= (int)sizeof(ca->dir))
		return fail(err, err_len, -ENAMETOOLONG, "state directory path too long");
	if (create) {
		if ((rc = mkdir_p(state_dir, 0700)) < 0)
			return fail(err, err_len, rc, "creating %s: %s", state_dir, strerror(-rc));
		if (mkdir(ca->dir, 0700) < 0 && errno != EEXIST)
			return fail(err, err_len, -errno, "creating %s: %s", ca->dir,
				    strerror(errno));
	}
	dfd = open(ca->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT)
			return fail(err, err_len, -ENOENT, "no CA in %s", ca->dir);
		return fail(err, err_len, -errno, "%s: %s", ca->dir, strerror(errno));
	}
	// Two processes starting at once must not both generate a root.
	if (flock(dfd, create ? LOCK_EX : LOCK_SH) < 0) {
		rc = fail(err, err_len, -errno, "locking %s: %s", ca->dir, strerror(errno));
		goto out;
	}
	// Any plug-in file means the plug-in layout, which must then be whole:
	// falling back to our own root would silently fork the mesh's trust.
	if ((has_cert = exists_at(dfd, CA_CERT)) < 0 || (has_key = exists_at(dfd, CA_KEY)) < 0 ||
	    (has_chain = exists_at(dfd, CERT_CHAIN)) < 0) {
		rc = fail(err, err_len, -EIO, "cannot inspect %s", ca->dir);
		goto out;
	}
	if (has_cert || has_key || has_chain) {
		rc = load_plugin(ca, dfd, now, err, err_len);
		goto out;
	}
	if ((has_cert = exists_at(dfd, ROOT_CERT)) < 0 || (has_key = exists_at(dfd, ROOT_KEY)) < 0) {
		rc = fail(err, err_len, -EIO, "cannot inspect %s", ca->dir);
		goto out;
	}
	if (has_cert && has_key)
		rc = load_root(ca, dfd, now, err, err_len);
	else if (has_cert)
		rc = fail(err, err_len, -ENOENT, "%s/%s exists but %s does not", ca->dir,
			  ROOT_CERT, ROOT_KEY);
	else if (!create)
		rc = fail(err, err_len, -ENOENT, "no CA in %s", ca->dir);
	else
		rc = generate_root(ca, dfd, now, err, err_len);
out:
	close(dfd);	// drops the lock
	if (rc < 0)
		ca_close(ca);
	return rc < 0 ? rc : 0;
}

void ca_close(struct ca *ca)
{
	EVP_PKEY_free(ca->key);
	ca->key = NULL;
	X509_free(ca->cert);
	ca->cert = NULL;
	X509_free(ca->root);
	ca->root = NULL;
	sk_X509_pop_free(ca->chain, X509_free);
	ca->chain = NULL;
	buf_cleanup(&ca->bundle_pem);
	buf_init(&ca->bundle_pem);
	ca->plugged = false;
}

int ca_issue(struct ca *ca, EVP_PKEY *pub, const char *ns, const char *sa, int64_t ttl_s,
	     int64_t now, X509 **out, char *err, size_t err_len)
{
	static const int ku_bits[] = { 0, 2 };	// digitalSignature, keyEncipherment
	char id[SPIFFE_MAX_ID + 1];
	int64_t end, limit;
	X509 *x = NULL;
	int rc;

	*out = NULL;
	if (!ca->key || !ca->cert)
		return fail(err, err_len, -EINVAL, "CA not open");
	if (!pub || !ns || !sa)
		return fail(err, err_len, -EINVAL, "missing key or identity");
	if (ttl_s <= 0)
		ttl_s = CA_DEFAULT_TTL_S;
	if (ttl_s > CA_MAX_TTL_S)
		return fail(err, err_len, -EINVAL,
			    "requested TTL %llds exceeds the maximum (%dh)", (long long)ttl_s,
			    CA_MAX_TTL_S / 3600);
	if ((rc = key_check(pub, "public key", err, err_len)) < 0)
		return rc;
	if (spiffe_istio_id(id, sizeof(id), ca->trust_domain, ns, sa) < 0)
		return fail(err, err_len, -EINVAL, "invalid namespace \"%.64s\" or service account \"%.64s\"",
			    ns, sa);
	if ((rc = not_after(ca, &limit)) < 0)
		return fail(err, err_len, rc, "CA certificate has an unreadable NotAfter");
	if (limit <= now)
		return fail(err, err_len, -EKEYEXPIRED, "CA certificate has expired");
	end = now + ttl_s < limit ? now + ttl_s : limit;

	rc = -ENOMEM;
	// X509_new's subject is the empty name: a SPIFFE leaf carries its
	// identity in the SAN only, as Istio's do.
	if (!(x = X509_new()) || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) || !X509_set_pubkey(x, pub))
		goto out_ssl;
	if ((rc = set_serial(x)) < 0 ||
	    (rc = set_time(X509_getm_notBefore(x), now - CA_BACKDATE_S)) < 0 ||
	    (rc = set_time(X509_getm_notAfter(x), end)) < 0 ||
	    (rc = add_key_usage(x, ku_bits, ARRAY_SIZE(ku_bits))) < 0 ||
	    (rc = add_eku_server_client(x)) < 0 ||
	    (rc = add_basic_constraints(x, false)) < 0 || (rc = add_ski(x)) < 0 ||
	    (rc = add_aki(x, ca->cert)) < 0 || (rc = add_san_uri(x, id)) < 0 ||
	    (rc = sign(x, ca->key)) < 0)
		goto out_ssl;
	*out = x;
	return 0;
out_ssl:
	ERR_clear_error();
	X509_free(x);
	return fail(err, err_len, rc, "building the certificate failed");
}

int ca_issue_keypair(struct ca *ca, const char *ns, const char *sa, int64_t ttl_s,
		     int64_t now, X509 **cert, EVP_PKEY **key, char *err, size_t err_len)
{
	int rc;

	*cert = NULL;
	if (!(*key = new_p256()))
		return fail(err, err_len, -ENOMEM, "generating a key failed");
	if ((rc = ca_issue(ca, *key, ns, sa, ttl_s, now, cert, err, err_len)) < 0) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	return rc;
}

// ca_chain_pem returns 0 or -ENOMEM. The chain is leaf, the signing cert,
// then ca->chain (the signing cert's path above it, up to and including
// the root; empty when the signing cert is the self-signed root).
int ca_chain_pem(const struct ca *ca, X509 *leaf, struct buf *out)
{
	size_t i, mark = out->len;
	int rc;

	if ((rc = pem_append(out, leaf)) < 0 || (rc = pem_append(out, ca->cert)) < 0)
		goto out;
	for (i = 0; ca->chain && i < sk_X509_num(ca->chain); i++) {
		if ((rc = pem_append(out, sk_X509_value(ca->chain, i))) < 0)
			goto out;
	}
	return 0;
out:
	out->len = mark;
	return rc;
}

int ca_sign_csr(struct ca *ca, const char *csr_pem, size_t csr_len, const char *ns,
		const char *sa, int64_t ttl_s, int64_t now, struct buf *out,
		char *err, size_t err_len)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pub = NULL;
	X509 *leaf = NULL;
	char why[256];
	BIO *bio;
	int rc;

	if (!csr_pem || csr_len == 0)
		return fail(err, err_len, -EINVAL, "empty CSR");
	if (csr_len > CSR_MAX)
		return fail(err, err_len, -EINVAL, "CSR too large (%zu bytes)", csr_len);
	if (!(bio = BIO_new_mem_buf(csr_pem, csr_len)))
		return fail(err, err_len, -ENOMEM, "out of memory");
	req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!req) {
		rc = fail(err, err_len, -EINVAL, "CSR is not a PEM certificate request (%s)",
			  ssl_reason(why, sizeof(why)));
		goto out;
	}
	if (!(pub = X509_REQ_get_pubkey(req))) {
		rc = fail(err, err_len, -EINVAL, "CSR public key unsupported or damaged (%s)",
			  ssl_reason(why, sizeof(why)));
		goto out;
	}
	// Strength first: no point spending a verification on a key we refuse.
	if ((rc = key_check(pub, "CSR", err, err_len)) < 0)
		goto out;
	// Proof of possession. Only the key is used after this: the subject,
	// SANs and any requested extensions (CA:TRUE included) are ignored.
	if (X509_REQ_verify(req, pub) != 1) {
		rc = fail(err, err_len, -EINVAL, "CSR signature invalid (%s)",
			  ssl_reason(why, sizeof(why)));
		goto out;
	}
	if ((rc = ca_issue(ca, pub, ns, sa, ttl_s, now, &leaf, err, err_len)) < 0)
		goto out;
	if ((rc = ca_chain_pem(ca, leaf, out)) < 0) {
		fail(err, err_len, rc, "out of memory");
		goto out;
	}
	rc = 2 + (int)(ca->chain ? sk_X509_num(ca->chain) : 0);
out:
	ERR_clear_error();
	X509_free(leaf);
	EVP_PKEY_free(pub);
	X509_REQ_free(req);
	return rc;
}

// ca_parse_ttl returns 0, -EINVAL for anything but digits and one optional
// unit (s, m, h, d), or -ERANGE on overflow.
int ca_parse_ttl(const char *s, int64_t *out_s)
{
	int64_t v = 0, mult = 1;
	const char *p = s;

	if (!s || !(*p >= '0' && *p <= '9'))
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (*p - '0');
	}
	switch (*p) {
	case '\0':
		break;
	case 's':
		p++;
		break;
	case 'm':
		mult = 60;
		p++;
		break;
	case 'h':
		mult = 3600;
		p++;
		break;
	case 'd':
		mult = 86400;
		p++;
		break;
	default:
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	if (v > INT64_MAX / mult)
		return -ERANGE;
	*out_s = v * mult;
	return 0;
}
