// SPDX-License-Identifier: Apache-2.0
// token.c: bootstrap tokens: compact JWTs signed by the CA key (ES256,
// ES384 for a P-384 key, RS256 for RSA) bound to one Istio identity.
#include "ca.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/digest.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "core/json.h"
#include "spiffe.h"

enum {
	TOKEN_MAX = 8192,	// bytes, the whole compact token
	TOKEN_SKEW_S = 60,	// iat and nbf may be this far in the future
	KID_LEN = 16,		// hex of 8 bytes
	SIG_MAX = 1024,		// RSA-8192
	JSON_MAX_FIELDS = 16,
};

static const char AUDIENCE[] = "meshgate-bootstrap";

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

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

// ---------------------------------------------------------------- base64url

static const char B64URL[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// b64url_append encodes p[0..n) without padding.
static int b64url_append(struct buf *out, const void *data, size_t n)
{
	const uint8_t *p = data;
	char q[4];
	uint32_t v;
	size_t i;
	int rc;

	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		q[0] = B64URL[v >> 18];
		q[1] = B64URL[(v >> 12) & 63];
		q[2] = B64URL[(v >> 6) & 63];
		q[3] = B64URL[v & 63];
		if ((rc = buf_append(out, q, 4)) < 0)
			return rc;
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		q[0] = B64URL[v >> 18];
		q[1] = B64URL[(v >> 12) & 63];
		return buf_append(out, q, 2);
	}
	if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		q[0] = B64URL[v >> 18];
		q[1] = B64URL[(v >> 12) & 63];
		q[2] = B64URL[(v >> 6) & 63];
		return buf_append(out, q, 3);
	}
	return 0;
}

static int b64url_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int ca_b64url_decode(const char *in, size_t len, uint8_t *out, size_t out_len)
{
	size_t i, o = 0, need;
	uint32_t acc = 0;
	int bits = 0, v;

	if (len % 4 == 1)
		return -EINVAL;
	need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	if (need > out_len)
		return -ENOSPC;
	if (need > INT32_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if ((v = b64url_val(in[i])) < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	// Canonical form only: the unused low bits of the last character are 0,
	// so one token has one spelling.
	if (acc != 0)
		return -EINVAL;
	return (int)o;
}

// ---------------------------------------------------------------- JSON

// A member of a flat JSON object: a string (decoded in place) or an integer.
struct jfield {
	const char *key;
	size_t key_len;
	bool is_str;
	const char *str;
	size_t str_len;
	int64_t num;
};

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			v |= (uint32_t)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			v |= (uint32_t)(p[i] - 'a' + 10);
		else if (p[i] >= 'A' && p[i] <= 'F')
			v |= (uint32_t)(p[i] - 'A' + 10);
		else
			return -EBADMSG;
	}
	*out = v;
	return 0;
}

// json_string decodes the string at *pp (at its opening quote) in place:
// the decoded bytes never outrun the input, so they overwrite it. No NULs,
// no lone surrogates, no invalid UTF-8.
static int json_string(char **pp, char *end, const char **out, size_t *out_len)
{
	char *r = *pp, *w;
	uint32_t cp, lo;
	size_t n;

	if (r >= end || *r != '"')
		return -EBADMSG;
	w = ++r;
	*out = w;
	for (;;) {
		if (r >= end)
			return -EBADMSG;
		if (*r == '"')
			break;
		if ((unsigned char)*r < 0x20)
			return -EBADMSG;
		if ((unsigned char)*r >= 0x80) {
			if (!(n = json_utf8_len(r, (size_t)(end - r))))
				return -EBADMSG;
			memmove(w, r, n);
			w += n;
			r += n;
			continue;
		}
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		if (++r >= end)
			return -EBADMSG;
		switch (*r++) {
		case '"':
			*w++ = '"';
			continue;
		case '\\':
			*w++ = '\\';
			continue;
		case '/':
			*w++ = '/';
			continue;
		case 'b':
			*w++ = '\b';
			continue;
		case 'f':
			*w++ = '\f';
			continue;
		case 'n':
			*w++ = '\n';
			continue;
		case 'r':
			*w++ = '\r';
			continue;
		case 't':
			*w++ = '\t';
			continue;
		case 'u':
			break;
		default:
			return -EBADMSG;
		}
		if (end - r < 4 || hex4(r, &cp) < 0)
			return -EBADMSG;
		r += 4;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return -EBADMSG;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - r < 6 || r[0] != '\\' || r[1] != 'u' || hex4(r + 2, &lo) < 0 ||
			    lo < 0xdc00 || lo > 0xdfff)
				return -EBADMSG;
			r += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (cp == 0)
			return -EBADMSG;
		if (cp < 0x80) {
			*w++ = (char)cp;
		} else if (cp < 0x800) {
			*w++ = (char)(0xc0 | cp >> 6);
			*w++ = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			*w++ = (char)(0xe0 | cp >> 12);
			*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
			*w++ = (char)(0x80 | (cp & 0x3f));
		} else {
			*w++ = (char)(0xf0 | cp >> 18);
			*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
			*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
			*w++ = (char)(0x80 | (cp & 0x3f));
		}
	}
	*out_len = (size_t)(w - *out);
	*pp = r + 1;
	return 0;
}

// json_int reads an integer: no fraction, exponent, leading zeros or '+'.
static int json_int(char **pp, char *end, int64_t *out)
{
	char *p = *pp;
	bool neg = false;
	uint64_t v = 0, lim;

	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	if (p >= end || *p < '0' || *p > '9')
		return -EBADMSG;
	if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
		return -EBADMSG;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (lim - (uint64_t)(*p - '0')) / 10)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
		return -EBADMSG;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	*pp = p;
	return 0;
}

// json_flat parses one object of string and integer members, nothing
// nested, no duplicate keys, nothing after it. It decodes in place.
static int json_flat(char *p, size_t len, struct jfield *f, int max, int *num)
{
	char *end = p + len;
	struct jfield *m;
	int i, n = 0;

	p = (char *)skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return -EBADMSG;
	p = (char *)skip_ws(p, end);
	if (p < end && *p == '}') {
		p++;
		goto done;
	}
	for (;;) {
		if (n == max)
			return -E2BIG;
		m = &f[n];
		if (json_string(&p, end, &m->key, &m->key_len) < 0)
			return -EBADMSG;
		for (i = 0; i < n; i++) {
			if (f[i].key_len == m->key_len && !memcmp(f[i].key, m->key, m->key_len))
				return -EEXIST;
		}
		p = (char *)skip_ws(p, end);
		if (p >= end || *p++ != ':')
			return -EBADMSG;
		p = (char *)skip_ws(p, end);
		if (p < end && *p == '"') {
			m->is_str = true;
			if (json_string(&p, end, &m->str, &m->str_len) < 0)
				return -EBADMSG;
		} else {
			m->is_str = false;
			if (json_int(&p, end, &m->num) < 0)
				return -EBADMSG;
		}
		n++;
		p = (char *)skip_ws(p, end);
		if (p >= end)
			return -EBADMSG;
		if (*p == '}') {
			p++;
			break;
		}
		if (*p++ != ',')
			return -EBADMSG;
		p = (char *)skip_ws(p, end);
	}
done:
	if (skip_ws(p, end) != end)
		return -EBADMSG;
	*num = n;
	return 0;
}

static const struct jfield *jget(const struct jfield *f, int n, const char *key)
{
	size_t kl = strlen(key);
	int i;

	for (i = 0; i < n; i++) {
		if (f[i].key_len == kl && !memcmp(f[i].key, key, kl))
			return &f[i];
	}
	return NULL;
}

// jeq compares a string member with want.
static bool jeq(const struct jfield *m, const char *want)
{
	size_t n = strlen(want);

	return m && m->is_str && m->str_len == n && !CRYPTO_memcmp(m->str, want, n);
}

// ---------------------------------------------------------------- keys

// key_alg names the JWS algorithm the CA key signs with, its digest and
// the JOSE signature length.
static const char *key_alg(EVP_PKEY *key, const EVP_MD **md, size_t *sig_len)
{
	const EC_GROUP *g;

	switch (EVP_PKEY_id(key)) {
	case EVP_PKEY_EC:
		g = EC_KEY_get0_group(EVP_PKEY_get0_EC_KEY(key));
		switch (g ? EC_GROUP_get_curve_name(g) : NID_undef) {
		case NID_X9_62_prime256v1:
			*md = EVP_sha256();
			*sig_len = 64;
			return "ES256";
		case NID_secp384r1:
			*md = EVP_sha384();
			*sig_len = 96;
			return "ES384";
		}
		return NULL;
	case EVP_PKEY_RSA:
		*md = EVP_sha256();
		*sig_len = RSA_size(EVP_PKEY_get0_RSA(key));
		return *sig_len <= SIG_MAX ? "RS256" : NULL;
	}
	return NULL;
}

// key_kid is the hex of the first 8 bytes of SHA-256 over the CA cert's DER.
static int key_kid(X509 *cert, char kid[KID_LEN + 1])
{
	uint8_t *der = NULL, md[SHA256_DIGEST_LENGTH];
	int n, i;

	if ((n = i2d_X509(cert, &der)) <= 0) {
		ERR_clear_error();
		return -EINVAL;
	}
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	for (i = 0; i < KID_LEN / 2; i++)
		snprintf(kid + 2 * i, 3, "%02x", md[i]);
	return 0;
}

// jws_sign signs in[0..len) and writes the JOSE signature (r||s for ECDSA).
static int jws_sign(EVP_PKEY *key, const EVP_MD *md, size_t sig_len, const void *in,
		    size_t len, uint8_t *sig)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned dlen;
	ECDSA_SIG *es;
	EVP_MD_CTX *ctx;
	size_t n = sig_len;
	int rc = -EPROTO;

	if (EVP_PKEY_id(key) == EVP_PKEY_EC) {
		if (!EVP_Digest(in, len, digest, &dlen, md, NULL))
			goto out;
		if (!(es = ECDSA_do_sign(digest, dlen, EVP_PKEY_get0_EC_KEY(key))))
			goto out;
		if (BN_bn2bin_padded(sig, sig_len / 2, ECDSA_SIG_get0_r(es)) &&
		    BN_bn2bin_padded(sig + sig_len / 2, sig_len / 2, ECDSA_SIG_get0_s(es)))
			rc = 0;
		ECDSA_SIG_free(es);
		goto out;
	}
	if (!(ctx = EVP_MD_CTX_new()))
		return -ENOMEM;
	if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) &&
	    EVP_DigestSign(ctx, sig, &n, in, len) && n == sig_len)
		rc = 0;
	EVP_MD_CTX_free(ctx);
out:
	ERR_clear_error();
	return rc;
}

// jws_verify checks a JOSE signature over in[0..len) with the CA key.
static bool jws_verify(EVP_PKEY *key, const EVP_MD *md, size_t sig_len, const void *in,
		       size_t len, const uint8_t *sig, size_t n)
{
	uint8_t digest[EVP_MAX_MD_SIZE];
	BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *es = NULL;
	EVP_MD_CTX *ctx;
	unsigned dlen;
	bool ok = false;

	if (n != sig_len)
		return false;
	if (EVP_PKEY_id(key) == EVP_PKEY_EC) {
		if (!EVP_Digest(in, len, digest, &dlen, md, NULL) || !(es = ECDSA_SIG_new()) ||
		    !(r = BN_bin2bn(sig, n / 2, NULL)) || !(s = BN_bin2bn(sig + n / 2, n / 2, NULL)))
			goto out;
		if (!ECDSA_SIG_set0(es, r, s))
			goto out;
		r = s = NULL;
		ok = ECDSA_do_verify(digest, dlen, es, EVP_PKEY_get0_EC_KEY(key)) == 1;
		goto out;
	}
	if (!(ctx = EVP_MD_CTX_new()))
		goto out;
	ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) &&
	     EVP_DigestVerify(ctx, sig, n, in, len) == 1;
	EVP_MD_CTX_free(ctx);
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	ERR_clear_error();
	return ok;
}

// ---------------------------------------------------------------- API

int ca_token_make(struct ca *ca, const char *ns, const char *sa, int64_t ttl_s,
		  int64_t now, char *out, size_t out_len)
{
	char id[SPIFFE_MAX_ID + 1], kid[KID_LEN + 1], jti[33];
	uint8_t rnd[16], sig[SIG_MAX];
	struct buf hdr, pl, tok;
	const EVP_MD *md;
	const char *alg;
	size_t sig_len;
	int rc, i;

	if (!ca->key || !ca->cert || !ns || !sa || !out)
		return -EINVAL;
	if (ttl_s <= 0 || ttl_s > CA_TOKEN_MAX_TTL_S)
		return -EINVAL;
	if (!(alg = key_alg(ca->key, &md, &sig_len)))
		return -EINVAL;
	if (spiffe_istio_id(id, sizeof(id), ca->trust_domain, ns, sa) < 0)
		return -EINVAL;
	if ((rc = key_kid(ca->cert, kid)) < 0)
		return rc;
	RAND_bytes(rnd, sizeof(rnd));
	for (i = 0; i < 16; i++)
		snprintf(jti + 2 * i, 3, "%02x", rnd[i]);
	buf_init(&hdr);
	buf_init(&pl);
	buf_init(&tok);
	rc = -ENOMEM;
	if (buf_appends(&hdr, "{\"alg\":") || json_append_cstr(&hdr, alg) ||
	    buf_appends(&hdr, ",\"typ\":\"JWT\",\"kid\":") || json_append_cstr(&hdr, kid) ||
	    buf_appends(&hdr, "}"))
		goto out;
	if (buf_appends(&pl, "{\"iss\":\"meshgate-ca/") ||
	    buf_appends(&pl, ca->trust_domain) || buf_appends(&pl, "\",\"aud\":") ||
	    json_append_cstr(&pl, AUDIENCE) || buf_appends(&pl, ",\"sub\":") ||
	    json_append_cstr(&pl, id) || buf_appends(&pl, ",\"iat\":") ||
	    json_append_i64(&pl, now) || buf_appends(&pl, ",\"exp\":") ||
	    json_append_i64(&pl, now + ttl_s) || buf_appends(&pl, ",\"jti\":") ||
	    json_append_cstr(&pl, jti) || buf_appends(&pl, "}"))
		goto out;
	if (b64url_append(&tok, hdr.data, hdr.len) || buf_appends(&tok, ".") ||
	    b64url_append(&tok, pl.data, pl.len))
		goto out;
	if ((rc = jws_sign(ca->key, md, sig_len, tok.data, tok.len, sig)) < 0)
		goto out;
	rc = -ENOMEM;
	if (buf_appends(&tok, ".") || b64url_append(&tok, sig, sig_len))
		goto out;
	rc = -ENOSPC;
	if (tok.len + 1 > out_len)
		goto out;
	memcpy(out, tok.data, tok.len);
	out[tok.len] = '\0';
	rc = 0;
out:
	buf_cleanup(&hdr);
	buf_cleanup(&pl);
	buf_cleanup(&tok);
	return rc;
}

int ca_token_verify(struct ca *ca, const char *token, size_t len, int64_t now,
		    char ns[254], char sa[254], char *err, size_t err_len)
{
	struct jfield hf[JSON_MAX_FIELDS], pf[JSON_MAX_FIELDS];
	const struct jfield *alg, *kid, *typ, *iss, *aud, *sub, *iat, *exp, *jti, *nbf;
	const char *d1, *d2, *why;
	char want_kid[KID_LEN + 1], want_iss[SPIFFE_MAX_TD + 16];
	struct spiffe_id id;
	const EVP_MD *md;
	const char *want_alg;
	size_t sig_len;
	uint8_t *dec = NULL, *h, *p, *s;
	int hn, pn, nh, np, sn, rc = -EACCES, i;

	ns[0] = sa[0] = '\0';
	if (!ca->key || !ca->cert)
		return fail(err, err_len, -EINVAL, "CA not open");
	if (!token || len == 0)
		return fail(err, err_len, -EACCES, "empty token");
	if (len > TOKEN_MAX)
		return fail(err, err_len, -EACCES, "token too large (%zu bytes, limit %d)", len,
			    TOKEN_MAX);
	// Three segments, none empty; a fourth '.' lands in the signature,
	// where base64url decoding refuses it.
	if (!(d1 = memchr(token, '.', len)) ||
	    !(d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token))) || d1 == token ||
	    d2 == d1 + 1 || d2 + 1 == token + len)
		return fail(err, err_len, -EACCES, "malformed token (want header.payload.signature)");
	if (!(dec = malloc(len)))
		return fail(err, err_len, -ENOMEM, "out of memory");
	h = dec;
	if ((hn = ca_b64url_decode(token, (size_t)(d1 - token), h, len)) < 0) {
		rc = fail(err, err_len, -EACCES, "malformed token header (base64url)");
		goto out;
	}
	p = h + hn;
	if ((pn = ca_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), p, len - (size_t)hn)) < 0) {
		rc = fail(err, err_len, -EACCES, "malformed token payload (base64url)");
		goto out;
	}
	s = p + pn;
	if ((sn = ca_b64url_decode(d2 + 1, len - (size_t)(d2 + 1 - token), s,
				       len - (size_t)hn - (size_t)pn)) < 0) {
		rc = fail(err, err_len, -EACCES, "malformed token signature (base64url)");
		goto out;
	}

	// Header: exactly what we write. Unknown members (crit, jku, x5u, ...)
	// are refused rather than ignored: no one else mints these tokens.
	if (json_flat((char *)h, (size_t)hn, hf, JSON_MAX_FIELDS, &nh) < 0) {
		rc = fail(err, err_len, -EACCES, "malformed token header (JSON)");
		goto out;
	}
	for (i = 0; i < nh; i++) {
		if (!jget(hf + i, 1, "alg") && !jget(hf + i, 1, "typ") && !jget(hf + i, 1, "kid")) {
			rc = fail(err, err_len, -EACCES, "unexpected token header member");
			goto out;
		}
	}
	alg = jget(hf, nh, "alg");
	kid = jget(hf, nh, "kid");
	typ = jget(hf, nh, "typ");
	if (!alg || !alg->is_str) {
		rc = fail(err, err_len, -EACCES, "token has no alg");
		goto out;
	}
	if (!(want_alg = key_alg(ca->key, &md, &sig_len))) {
		rc = fail(err, err_len, -EACCES, "CA key cannot verify tokens");
		goto out;
	}
	if (!jeq(alg, want_alg)) {
		rc = fail(err, err_len, -EACCES, "token alg \"%.*s\" not accepted (want %s)",
			  (int)(alg->str_len > 16 ? 16 : alg->str_len), alg->str, want_alg);
		goto out;
	}
	if (typ && !jeq(typ, "JWT")) {
		rc = fail(err, err_len, -EACCES, "token typ is not JWT");
		goto out;
	}
	if (key_kid(ca->cert, want_kid) < 0 || !kid || !jeq(kid, want_kid)) {
		rc = fail(err, err_len, -EACCES, "token kid does not name this CA");
		goto out;
	}
	if (!jws_verify(ca->key, md, sig_len, token, (size_t)(d2 - token), s, (size_t)sn)) {
		rc = fail(err, err_len, -EACCES, "bad signature");
		goto out;
	}

	// Payload: signed by us, but still checked strictly.
	if (json_flat((char *)p, (size_t)pn, pf, JSON_MAX_FIELDS, &np) < 0) {
		rc = fail(err, err_len, -EACCES, "malformed token payload (JSON)");
		goto out;
	}
	iss = jget(pf, np, "iss");
	aud = jget(pf, np, "aud");
	sub = jget(pf, np, "sub");
	iat = jget(pf, np, "iat");
	exp = jget(pf, np, "exp");
	jti = jget(pf, np, "jti");
	nbf = jget(pf, np, "nbf");
	if (!iss || !aud || !sub || !iat || !exp || !jti || !sub->is_str || iat->is_str ||
	    exp->is_str || !jti->is_str || jti->str_len == 0 || (nbf && nbf->is_str) ||
	    iat->num < 0 || exp->num < 0) {
		rc = fail(err, err_len, -EACCES, "token claims missing or mistyped");
		goto out;
	}
	snprintf(want_iss, sizeof(want_iss), "meshgate-ca/%s", ca->trust_domain);
	if (!jeq(iss, want_iss)) {
		rc = fail(err, err_len, -EACCES, "wrong issuer");
		goto out;
	}
	if (!jeq(aud, AUDIENCE)) {
		rc = fail(err, err_len, -EACCES, "wrong audience");
		goto out;
	}
	if (exp->num <= now) {
		rc = fail(err, err_len, -EACCES, "token expired");
		goto out;
	}
	if (iat->num > now + TOKEN_SKEW_S || (nbf && nbf->num > now + TOKEN_SKEW_S)) {
		rc = fail(err, err_len, -EACCES, "token not yet valid (issued in the future)");
		goto out;
	}
	if (exp->num <= iat->num || exp->num - iat->num > CA_TOKEN_MAX_TTL_S) {
		rc = fail(err, err_len, -EACCES, "token lifetime out of range");
		goto out;
	}
	if (spiffe_parse(sub->str, sub->str_len, &id, &why) < 0) {
		rc = fail(err, err_len, -EACCES, "token subject is not a SPIFFE ID (%s)", why);
		goto out;
	}
	if (strcmp(id.td, ca->trust_domain) != 0) {
		rc = fail(err, err_len, -EACCES, "token subject is in another trust domain");
		goto out;
	}
	if (spiffe_istio_split(&id, ns, sa) < 0) {
		ns[0] = sa[0] = '\0';
		rc = fail(err, err_len, -EACCES, "token subject is not spiffe://<td>/ns/<ns>/sa/<sa>");
		goto out;
	}
	rc = 0;
out:
	free(dec);
	return rc;
}
