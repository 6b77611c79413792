// SPDX-License-Identifier: Apache-2.0
// tls.c: BoringSSL as a sock_filter. The BIO under each SSL reads the bytes
// of the recv completion being processed (and a small queue of what a
// handshake left unread) and writes into the sock's wire queue, which the
// ring sends. Verification is ours for every mode (custom verify): X.509
// path validation against the configured CA, SPIFFE rules on top for
// ISTIO_MUTUAL, and a re-check of the stored chain on resumption so a
// resumed session never skips what a full handshake would check.
#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "core/clock.h"
#include "core/log.h"
#include "kernel-bypass/sock.h"

// TLS 1.2 suites: ECDHE with AEAD only (Istio's list without the RSA
// key-exchange suites). TLS 1.3 suites are BoringSSL's fixed AEAD set.
static const char CIPHERS_12[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
static const char CURVES[] = "X25519:P-256:P-384";

enum { SESS_CACHE_SIZE = 256 };

struct tls_server {
	int refs;
	enum tls_mode mode;
	int num_ctx;
	SSL_CTX *ctx[TLS_MAX_CERTS];
	char **names[TLS_MAX_CERTS];	// DNS names per certificate, NULL-terminated
	X509_STORE *ca;			// MUTUAL
	struct tls_bundle *bundle;	// ISTIO_MUTUAL
	uint8_t alpn[256];		// preference list, wire format
	size_t alpn_len;
};

struct sess_entry {
	uint64_t key;
	SSL_SESSION *sess;
};

struct tls_client {
	int refs;
	enum tls_mode mode;
	SSL_CTX *ctx;
	X509_STORE *ca;
	struct tls_bundle *bundle;
	struct tls_identity *identity;
	uint8_t alpn[256];
	size_t alpn_len;
	pthread_mutex_t lock;		// the session cache, touched per new connection only
	struct sess_entry cache[SESS_CACHE_SIZE];
};

struct tls_conn {
	SSL *ssl;
	struct sock *s;
	struct tls_server *srv;
	struct tls_client *cli;
	tls_handshake_cb *cb;
	const char *in;			// the recv completion's bytes
	size_t in_len;
	struct buf inq;			// bytes a previous call left unread
	bool hs_done;
	bool shut;
	bool failed;
	uint64_t sess_key;		// client: session cache key
	struct spiffe_id *peer;		// verified SPIFFE ID
	char *sans;			// client: expected SANs, NUL-separated
	int num_sans;
	const char *why;
	char hash[65];
};

static struct tls_stats g_stats;
static BIO_METHOD *g_bio;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static __thread char t_plain[16384];

static void stat_inc(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

void tls_stats_get(struct tls_stats *out)
{
	out->handshakes = __atomic_load_n(&g_stats.handshakes, __ATOMIC_RELAXED);
	out->handshake_errors = __atomic_load_n(&g_stats.handshake_errors, __ATOMIC_RELAXED);
	out->no_cert = __atomic_load_n(&g_stats.no_cert, __ATOMIC_RELAXED);
	out->verify_failed = __atomic_load_n(&g_stats.verify_failed, __ATOMIC_RELAXED);
	out->resumed = __atomic_load_n(&g_stats.resumed, __ATOMIC_RELAXED);
}

const char *tls_mode_name(enum tls_mode m)
{
	switch (m) {
	case TLS_OFF: return "DISABLE";
	case TLS_SIMPLE: return "SIMPLE";
	case TLS_MUTUAL: return "MUTUAL";
	case TLS_ISTIO_MUTUAL: return "ISTIO_MUTUAL";
	}
	return "?";
}

// ssl_err formats BoringSSL's error queue into err and clears it.
static void ssl_err(char *err, size_t len, const char *what)
{
	unsigned long e = ERR_get_error();
	char b[256];

	if (e)
		ERR_error_string_n(e, b, sizeof(b));
	else
		snprintf(b, sizeof(b), "unknown error");
	if (err)
		snprintf(err, len, "%s: %s", what, b);
	ERR_clear_error();
}

// ---- the BIO --------------------------------------------------------------

static int bio_write(BIO *b, const char *p, int n)
{
	struct tls_conn *t = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (n <= 0)
		return 0;
	if (buf_append(&t->s->wire, p, (size_t)n) < 0)
		return -1;
	return n;
}

static int bio_read(BIO *b, char *p, int n)
{
	struct tls_conn *t = BIO_get_data(b);
	size_t k;

	BIO_clear_retry_flags(b);
	if (n <= 0)
		return 0;
	if (buf_avail(&t->inq)) {
		k = buf_avail(&t->inq) < (size_t)n ? buf_avail(&t->inq) : (size_t)n;
		memcpy(p, buf_head(&t->inq), k);
		buf_consume(&t->inq, k);
		return (int)k;
	}
	if (t->in_len) {
		k = t->in_len < (size_t)n ? t->in_len : (size_t)n;
		memcpy(p, t->in, k);
		t->in += k;
		t->in_len -= k;
		return (int)k;
	}
	BIO_set_retry_read(b);
	return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void init_once(void)
{
	g_bio = BIO_meth_new(BIO_TYPE_SOURCE_SINK | 0x40, "meshgate-sock");
	BIO_meth_set_write(g_bio, bio_write);
	BIO_meth_set_read(g_bio, bio_read);
	BIO_meth_set_ctrl(g_bio, bio_ctrl);
	BIO_meth_set_create(g_bio, bio_create);
}

// conn_of finds the connection through the BIO, which carries it anyway:
// no ex_data index, whose stack BoringSSL would allocate on every SSL and
// copy on every SSL_free.
static struct tls_conn *conn_of(const SSL *ssl)
{
	BIO *b = SSL_get_rbio(ssl);

	return b ? BIO_get_data(b) : NULL;
}

// ---- identities and bundles -----------------------------------------------

static void identity_spiffe(struct tls_identity *id)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(id->cert, NID_subject_alt_name, NULL, NULL);

	id->spiffe[0] = 0;
	for (size_t i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		size_t n;

		if (g->type != GEN_URI)
			continue;
		d = ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
		n = (size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier);
		if (n > 9 && n <= SPIFFE_MAX_ID && !memcmp(d, "spiffe://", 9)) {
			memcpy(id->spiffe, d, n);
			id->spiffe[n] = 0;
			break;
		}
	}
	GENERAL_NAMES_free(gens);
}

struct tls_identity *tls_identity_new(X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain)
{
	struct tls_identity *id = calloc(1, sizeof(*id));

	if (!id)
		return NULL;
	id->refs = 1;
	X509_up_ref(cert);
	id->cert = cert;
	EVP_PKEY_up_ref(key);
	id->key = key;
	id->chain = sk_X509_new_null();
	for (size_t i = 0; chain && i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);

		X509_up_ref(c);
		sk_X509_push(id->chain, c);
	}
	ca_time_unix(X509_get0_notBefore(cert), &id->not_before);
	ca_time_unix(X509_get0_notAfter(cert), &id->not_after);
	identity_spiffe(id);
	return id;
}

void tls_identity_ref(struct tls_identity *id)
{
	__atomic_add_fetch(&id->refs, 1, __ATOMIC_RELAXED);
}

void tls_identity_unref(struct tls_identity *id)
{
	if (!id || __atomic_sub_fetch(&id->refs, 1, __ATOMIC_ACQ_REL))
		return;
	X509_free(id->cert);
	EVP_PKEY_free(id->key);
	sk_X509_pop_free(id->chain, X509_free);
	free(id);
}

// identity_from_bios reads a leaf then its chain from cb and a key from kb;
// cname and kname name them in messages.
static int identity_from_bios(struct tls_identity **out, BIO *cb, const char *cname, BIO *kb,
			      const char *kname, char *err, size_t err_len)
{
	X509 *cert = NULL, *c;
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *chain = NULL;
	int rc = -EINVAL;

	if (!(cert = PEM_read_bio_X509(cb, NULL, NULL, NULL))) {
		ssl_err(err, err_len, cname);
		goto out;
	}
	chain = sk_X509_new_null();
	while ((c = PEM_read_bio_X509(cb, NULL, NULL, NULL)))
		sk_X509_push(chain, c);
	ERR_clear_error();	// the end of the file reads as an error
	if (!(key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL))) {
		ssl_err(err, err_len, kname);
		goto out;
	}
	if (!X509_check_private_key(cert, key)) {
		snprintf(err, err_len, "%s: key does not match certificate %s", kname, cname);
		ERR_clear_error();
		goto out;
	}
	if (!(*out = tls_identity_new(cert, key, chain))) {
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

int tls_identity_load(struct tls_identity **out, const char *cert_file, const char *key_file,
		      char *err, size_t err_len)
{
	BIO *cb, *kb;
	int rc;

	if (!(cb = BIO_new_file(cert_file, "r"))) {
		rc = errno ? -errno : -EINVAL;
		snprintf(err, err_len, "%s: cannot read (%s)", cert_file, strerror(errno));
		ERR_clear_error();
		return rc;
	}
	if (!(kb = BIO_new_file(key_file, "r"))) {
		snprintf(err, err_len, "%s: cannot read (%s)", key_file, strerror(errno));
		ERR_clear_error();
		BIO_free(cb);
		return -EINVAL;
	}
	rc = identity_from_bios(out, cb, cert_file, kb, key_file, err, err_len);
	BIO_free(cb);
	BIO_free(kb);
	return rc;
}

int tls_identity_load_pem(struct tls_identity **out, const char *cert_pem, size_t cert_len,
			  const char *key_pem, size_t key_len, char *err, size_t err_len)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, cert_len), *kb = BIO_new_mem_buf(key_pem, key_len);
	int rc = -ENOMEM;

	if (cb && kb)
		rc = identity_from_bios(out, cb, "client certificate", kb, "client key", err,
					err_len);
	BIO_free(cb);
	BIO_free(kb);
	return rc;
}

struct tls_bundle *tls_bundle_new(const char *td, const char *pem, size_t len)
{
	struct tls_bundle *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->refs = 1;
	if (bundle_add_pem(&b->b, td, pem, len) <= 0 || buf_append(&b->pem, pem, len) < 0) {
		bundle_free(&b->b);
		buf_cleanup(&b->pem);
		free(b);
		return NULL;
	}
	return b;
}

void tls_bundle_ref(struct tls_bundle *b)
{
	__atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
}

void tls_bundle_unref(struct tls_bundle *b)
{
	if (!b || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL))
		return;
	bundle_free(&b->b);
	buf_cleanup(&b->pem);
	free(b);
}

// ---- verification -----------------------------------------------------------

// peer_chain converts the peer's certificates into X509 objects: leaf and
// the untrusted rest (which includes the leaf; verifiers skip it).
static int peer_chain(const SSL *ssl, X509 **leaf, STACK_OF(X509) **rest)
{
	const STACK_OF(CRYPTO_BUFFER) *bufs = SSL_get0_peer_certificates(ssl);

	*leaf = NULL;
	*rest = NULL;
	if (!bufs || !sk_CRYPTO_BUFFER_num(bufs))
		return -ENOENT;
	*rest = sk_X509_new_null();
	for (size_t i = 0; i < sk_CRYPTO_BUFFER_num(bufs); i++) {
		const CRYPTO_BUFFER *cb = sk_CRYPTO_BUFFER_value(bufs, i);
		const uint8_t *d = CRYPTO_BUFFER_data(cb);
		X509 *x = d2i_X509(NULL, &d, (long)CRYPTO_BUFFER_len(cb));

		if (!x)
			goto bad;
		sk_X509_push(*rest, x);
	}
	*leaf = sk_X509_value(*rest, 0);
	X509_up_ref(*leaf);
	return 0;
bad:
	ERR_clear_error();
	sk_X509_pop_free(*rest, X509_free);
	*rest = NULL;
	return -EBADMSG;
}

static int verify_x509(X509_STORE *store, X509 *leaf, STACK_OF(X509) *rest, int purpose,
		       const char **why)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = 0;

	if (!ctx || !X509_STORE_CTX_init(ctx, store, leaf, rest)) {
		*why = "out of memory";
		goto out;
	}
	X509_STORE_CTX_set_purpose(ctx, purpose);
	X509_STORE_CTX_set_time(ctx, 0, (time_t)clock_wall_s());
	X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(ctx), SVID_MAX_DEPTH - 1);
	ok = X509_verify_cert(ctx) == 1;
	if (!ok)
		*why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : -EACCES;
}

static bool san_matches(X509 *leaf, const char *want)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	size_t wl = strlen(want);
	bool hit = false;

	for (size_t i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !hit; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *v;

		if (g->type == GEN_URI)
			v = g->d.uniformResourceIdentifier;
		else if (g->type == GEN_DNS)
			v = g->d.dNSName;
		else
			continue;
		hit = (size_t)ASN1_STRING_length(v) == wl &&
		      !memcmp(ASN1_STRING_get0_data(v), want, wl);
	}
	GENERAL_NAMES_free(gens);
	// an IP literal matches an IP SAN; a DNS SAN may be a wildcard the
	// expected name falls under
	if (!hit && wl && !strchr(want, '/')) {
		if (X509_check_ip_asc(leaf, want, 0) == 1)
			hit = true;
		else
			hit = X509_check_host(leaf, want, wl, 0, NULL) == 1;
	}
	ERR_clear_error();
	return hit;
}

// check_peer runs every check the mode requires on the peer's chain. It is
// the custom-verify callback's body and runs again after a resumption.
static int check_peer(struct tls_conn *t)
{
	bool client_side = t->cli != NULL;
	enum tls_mode mode = client_side ? t->cli->mode : t->srv->mode;
	X509_STORE *store = client_side ? t->cli->ca : t->srv->ca;
	struct tls_bundle *bundle = client_side ? t->cli->bundle : t->srv->bundle;
	X509 *leaf;
	STACK_OF(X509) *rest;
	struct spiffe_id id;
	int rc;

	if (peer_chain(t->ssl, &leaf, &rest) < 0) {
		t->why = "peer sent no certificate";
		stat_inc(&g_stats.no_cert);
		return -EACCES;
	}
	{
		uint8_t md[32];
		unsigned int ml = 0;

		X509_digest(leaf, EVP_sha256(), md, &ml);
		for (unsigned int i = 0; i < ml && i < 32; i++)
			snprintf(t->hash + 2 * i, 3, "%02x", md[i]);
	}
	if (mode == TLS_ISTIO_MUTUAL) {
		rc = svid_verify(&bundle->b, leaf, rest,
				 client_side ? SVID_PEER_IS_SERVER : SVID_PEER_IS_CLIENT,
				 clock_wall_s(), &id, &t->why);
		if (rc == 0 && client_side && t->num_sans) {
			const char *p = t->sans;
			bool hit = false;

			for (int i = 0; i < t->num_sans && !hit; i++, p += strlen(p) + 1)
				hit = !strcmp(p, id.id);
			if (!hit) {
				t->why = "server identity is not one the destination may have";
				rc = -EACCES;
			}
		}
		if (rc == 0) {
			if (!t->peer && !(t->peer = malloc(sizeof(*t->peer))))
				rc = -ENOMEM;
			else {
				*t->peer = id;
				t->peer->path = t->peer->id + (id.path - id.id);
			}
		}
	} else {
		rc = 0;
		if (store)
			rc = verify_x509(store, leaf, rest,
					 client_side ? X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT,
					 &t->why);
		if (rc == 0 && client_side && t->num_sans) {
			const char *p = t->sans;
			bool hit = false;

			for (int i = 0; i < t->num_sans && !hit; i++, p += strlen(p) + 1)
				hit = san_matches(leaf, p);
			if (!hit) {
				t->why = "server certificate matches none of subjectAltNames";
				rc = -EACCES;
			}
		}
	}
	X509_free(leaf);
	sk_X509_pop_free(rest, X509_free);
	if (rc < 0)
		stat_inc(&g_stats.verify_failed);
	return rc;
}

static enum ssl_verify_result_t custom_verify(SSL *ssl, uint8_t *out_alert)
{
	struct tls_conn *t = conn_of(ssl);

	if (check_peer(t) == 0)
		return ssl_verify_ok;
	*out_alert = SSL_AD_BAD_CERTIFICATE;
	if (t->why && !strcmp(t->why, "unknown issuer"))
		*out_alert = SSL_AD_UNKNOWN_CA;
	else if (t->why && strstr(t->why, "expired"))
		*out_alert = SSL_AD_CERTIFICATE_EXPIRED;
	return ssl_verify_invalid;
}

// ---- contexts -------------------------------------------------------------

static int alpn_encode(uint8_t *out, size_t cap, size_t *out_len, const char *const *list, int n)
{
	size_t off = 0;

	for (int i = 0; i < n; i++) {
		size_t l = strlen(list[i]);

		if (!l || l > 255 || off + 1 + l > cap)
			return -EINVAL;
		out[off++] = (uint8_t)l;
		memcpy(out + off, list[i], l);
		off += l;
	}
	*out_len = off;
	return 0;
}

static SSL_CTX *ctx_new(char *err, size_t err_len)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_method());

	if (!ctx) {
		ssl_err(err, err_len, "SSL_CTX_new");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_strict_cipher_list(ctx, CIPHERS_12) ||
	    !SSL_CTX_set1_curves_list(ctx, CURVES)) {
		ssl_err(err, err_len, "TLS context settings");
		SSL_CTX_free(ctx);
		return NULL;
	}
	// renegotiation is refused (BoringSSL's default) and 0-RTT stays off
	SSL_CTX_set_early_data_enabled(ctx, 0);
	return ctx;
}

static X509_STORE *store_from_file(const char *path, char *err, size_t err_len)
{
	X509_STORE *st = X509_STORE_new();

	if (!st || !X509_STORE_load_locations(st, path, NULL)) {
		ssl_err(err, err_len, path);
		X509_STORE_free(st);
		return NULL;
	}
	return st;
}

// store_from_pem is store_from_file on PEM text in memory: every
// certificate in it is a trust anchor.
static X509_STORE *store_from_pem(const char *pem, size_t len, char *err, size_t err_len)
{
	X509_STORE *st = X509_STORE_new();
	BIO *b = BIO_new_mem_buf(pem, len);
	X509 *c;
	int n = 0;

	if (!st || !b)
		goto bad;
	while ((c = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		int ok = X509_STORE_add_cert(st, c);

		X509_free(c);
		if (!ok)
			goto bad;
		n++;
	}
	ERR_clear_error();
	if (!n) {
		snprintf(err, err_len, "certificate authority: no PEM certificate");
		goto out;
	}
	BIO_free(b);
	return st;
bad:
	ssl_err(err, err_len, "certificate authority");
out:
	BIO_free(b);
	X509_STORE_free(st);
	return NULL;
}

static int alpn_select(SSL *ssl, const uint8_t **out, uint8_t *out_len, const uint8_t *in,
		       unsigned in_len, void *arg)
{
	struct tls_conn *t = conn_of(ssl);
	const struct tls_server *srv = t->srv;

	for (size_t i = 0; i < srv->alpn_len; i += 1 + srv->alpn[i]) {
		const uint8_t *want = srv->alpn + i + 1;
		uint8_t wl = srv->alpn[i];

		for (unsigned j = 0; j < in_len; j += 1u + in[j]) {
			if (j + 1u + in[j] > in_len)
				return SSL_TLSEXT_ERR_ALERT_FATAL;
			if (in[j] == wl && !memcmp(in + j + 1, want, wl)) {
				*out = in + j + 1;
				*out_len = wl;
				return SSL_TLSEXT_ERR_OK;
			}
		}
	}
	return SSL_TLSEXT_ERR_NOACK;
}

static bool name_matches(const char *pattern, const char *host)
{
	if (!strcasecmp(pattern, host))
		return true;
	if (pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = strchr(host, '.');

		return dot && dot != host && !strcasecmp(dot, pattern + 1);
	}
	return false;
}

static int servername_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls_conn *t = conn_of(ssl);
	const struct tls_server *srv = t->srv;
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	int pick = -1;

	if (!sni || srv->num_ctx < 2)
		return SSL_TLSEXT_ERR_OK;
	// exact names first, then wildcards, in certificate order
	for (int pass = 0; pass < 2 && pick < 0; pass++)
		for (int i = 0; i < srv->num_ctx && pick < 0; i++)
			for (char **n = srv->names[i]; n && *n && pick < 0; n++)
				if ((pass == 0) == ((*n)[0] != '*') && name_matches(*n, sni))
					pick = i;
	if (pick > 0)
		SSL_set_SSL_CTX(ssl, srv->ctx[pick]);
	return SSL_TLSEXT_ERR_OK;
}

static char **cert_names(X509 *cert)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	size_t n = gens ? sk_GENERAL_NAME_num(gens) : 0, k = 0;
	char **out = calloc(n + 2, sizeof(*out));

	if (!out)
		goto done;
	for (size_t i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DNS)
			out[k++] = strndup((const char *)ASN1_STRING_get0_data(g->d.dNSName),
					   (size_t)ASN1_STRING_length(g->d.dNSName));
	}
	if (!k) {
		char cn[256];

		if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName,
					      cn, sizeof(cn)) > 0)
			out[k++] = strdup(cn);
	}
done:
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
	return out;
}

static void server_free(struct tls_server *s)
{
	for (int i = 0; i < s->num_ctx; i++) {
		SSL_CTX_free(s->ctx[i]);
		for (char **n = s->names[i]; n && *n; n++)
			free(*n);
		free(s->names[i]);
	}
	X509_STORE_free(s->ca);
	tls_bundle_unref(s->bundle);
	free(s);
}

int tls_server_new(struct tls_server **out, const struct tls_server_cfg *cfg,
		   char *err, size_t err_len)
{
	struct tls_server *s;
	static const uint8_t sid_ctx[] = "meshgate";

	pthread_once(&g_once, init_once);
	if (cfg->mode == TLS_OFF || cfg->num_certs < 1 || cfg->num_certs > TLS_MAX_CERTS) {
		snprintf(err, err_len, "TLS server needs a mode and 1..%d certificates", TLS_MAX_CERTS);
		return -EINVAL;
	}
	if (cfg->mode == TLS_ISTIO_MUTUAL && !cfg->bundle) {
		snprintf(err, err_len, "ISTIO_MUTUAL needs the mesh trust bundle");
		return -EINVAL;
	}
	if (cfg->mode == TLS_MUTUAL && !cfg->ca_file) {
		snprintf(err, err_len, "MUTUAL needs a CA certificate file for client certificates");
		return -EINVAL;
	}
	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	s->refs = 1;
	s->mode = cfg->mode;
	if (alpn_encode(s->alpn, sizeof(s->alpn), &s->alpn_len, cfg->alpn, cfg->num_alpn) < 0) {
		snprintf(err, err_len, "bad ALPN list");
		goto bad;
	}
	if (cfg->mode == TLS_MUTUAL && !(s->ca = store_from_file(cfg->ca_file, err, err_len)))
		goto bad;
	if (cfg->mode == TLS_ISTIO_MUTUAL) {
		tls_bundle_ref(cfg->bundle);
		s->bundle = cfg->bundle;
	}
	for (int i = 0; i < cfg->num_certs; i++) {
		const struct tls_identity *id = cfg->certs[i];
		SSL_CTX *ctx = ctx_new(err, err_len);

		if (!ctx)
			goto bad;
		s->ctx[s->num_ctx++] = ctx;
		if (!SSL_CTX_use_certificate(ctx, id->cert) ||
		    !SSL_CTX_use_PrivateKey(ctx, id->key) ||
		    (sk_X509_num(id->chain) && !SSL_CTX_set1_chain(ctx, id->chain)) ||
		    !SSL_CTX_check_private_key(ctx)) {
			ssl_err(err, err_len, "server certificate");
			goto bad;
		}
		s->names[i] = cert_names(id->cert);
		SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
		if (cfg->no_sessions) {
			SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
			SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
			SSL_CTX_set_num_tickets(ctx, 0);
		}
		if (cfg->mode == TLS_MUTUAL || cfg->mode == TLS_ISTIO_MUTUAL)
			SSL_CTX_set_custom_verify(ctx, SSL_VERIFY_PEER |
						  (cfg->client_cert_optional ? 0 :
						   SSL_VERIFY_FAIL_IF_NO_PEER_CERT), custom_verify);
		if (s->alpn_len)
			SSL_CTX_set_alpn_select_cb(ctx, alpn_select, s);
		SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
	}
	*out = s;
	return 0;
bad:
	server_free(s);
	return -EINVAL;
}

void tls_server_ref(struct tls_server *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void tls_server_unref(struct tls_server *s)
{
	if (s && !__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL))
		server_free(s);
}

enum tls_mode tls_server_mode(const struct tls_server *s)
{
	return s->mode;
}

// The client's session cache, keyed by everything the verification of a
// new handshake would depend on: the context (mode, CA, bundle version, our
// identity: a new tls_client for any change), the SNI and expected SANs.
static int sess_new_cb(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_conn *t = conn_of(ssl);
	struct tls_client *c = t ? t->cli : NULL;
	struct sess_entry *e;

	if (!c || !t->sess_key)
		return 0;
	pthread_mutex_lock(&c->lock);
	e = &c->cache[t->sess_key % SESS_CACHE_SIZE];
	if (e->sess)
		SSL_SESSION_free(e->sess);
	e->key = t->sess_key;
	e->sess = sess;		// the reference BoringSSL handed us
	pthread_mutex_unlock(&c->lock);
	return 1;
}

static void client_free(struct tls_client *c)
{
	for (int i = 0; i < SESS_CACHE_SIZE; i++)
		SSL_SESSION_free(c->cache[i].sess);
	SSL_CTX_free(c->ctx);
	X509_STORE_free(c->ca);
	tls_bundle_unref(c->bundle);
	tls_identity_unref(c->identity);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int tls_client_new(struct tls_client **out, const struct tls_client_cfg *cfg,
		   char *err, size_t err_len)
{
	struct tls_client *c;

	pthread_once(&g_once, init_once);
	if (cfg->mode == TLS_OFF) {
		snprintf(err, err_len, "TLS client needs a mode");
		return -EINVAL;
	}
	if ((cfg->mode == TLS_MUTUAL || cfg->mode == TLS_ISTIO_MUTUAL) && !cfg->identity) {
		snprintf(err, err_len, "%s needs a client certificate", tls_mode_name(cfg->mode));
		return -EINVAL;
	}
	if (cfg->mode == TLS_ISTIO_MUTUAL && !cfg->bundle) {
		snprintf(err, err_len, "ISTIO_MUTUAL needs the mesh trust bundle");
		return -EINVAL;
	}
	if (!(c = calloc(1, sizeof(*c))))
		return -ENOMEM;
	c->refs = 1;
	c->mode = cfg->mode;
	pthread_mutex_init(&c->lock, NULL);
	if (alpn_encode(c->alpn, sizeof(c->alpn), &c->alpn_len, cfg->alpn, cfg->num_alpn) < 0) {
		snprintf(err, err_len, "bad ALPN list");
		goto bad;
	}
	if (!(c->ctx = ctx_new(err, err_len)))
		goto bad;
	if (cfg->ca_file && !(c->ca = store_from_file(cfg->ca_file, err, err_len)))
		goto bad;
	if (!cfg->ca_file && cfg->ca_pem && !(c->ca = store_from_pem(cfg->ca_pem, cfg->ca_pem_len,
								  err, err_len)))
		goto bad;
	if (cfg->bundle) {
		tls_bundle_ref(cfg->bundle);
		c->bundle = cfg->bundle;
	}
	if (cfg->identity) {
		tls_identity_ref(cfg->identity);
		c->identity = cfg->identity;
		if (!SSL_CTX_use_certificate(c->ctx, cfg->identity->cert) ||
		    !SSL_CTX_use_PrivateKey(c->ctx, cfg->identity->key) ||
		    (sk_X509_num(cfg->identity->chain) &&
		     !SSL_CTX_set1_chain(c->ctx, cfg->identity->chain))) {
			ssl_err(err, err_len, "client certificate");
			goto bad;
		}
	}
	SSL_CTX_set_custom_verify(c->ctx, SSL_VERIFY_PEER, custom_verify);
	SSL_CTX_set_session_cache_mode(c->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_sess_set_new_cb(c->ctx, sess_new_cb);
	*out = c;
	return 0;
bad:
	client_free(c);
	return -EINVAL;
}

void tls_client_ref(struct tls_client *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
}

void tls_client_unref(struct tls_client *c)
{
	if (c && !__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL))
		client_free(c);
}

// ---- the filter -------------------------------------------------------------

static void fail(struct tls_conn *t, const char *what)
{
	unsigned long e = ERR_peek_error();

	if (!t->why)
		t->why = e ? ERR_reason_error_string(e) : what;
	if (!t->why)
		t->why = what;
	ERR_clear_error();
	t->failed = true;
}

static int finish_handshake(struct tls_conn *t)
{
	t->hs_done = true;
	stat_inc(&g_stats.handshakes);
	if (SSL_session_reused(t->ssl)) {
		stat_inc(&g_stats.resumed);
		// a resumed session skipped verification: re-check the chain
		// it carries against what is configured now
		bool verify = t->cli || t->srv->mode != TLS_SIMPLE;

		if (verify && SSL_get0_peer_certificates(t->ssl) && check_peer(t) < 0)
			return -EPROTO;
	}
	return 0;
}

static int filter_input(struct sock *s, const char *data, size_t len)
{
	struct tls_conn *t = s->filter_ctx;
	int rc;

	if (t->failed)
		return -EPROTO;
	t->in = data;
	t->in_len = len;
	if (!t->hs_done) {
		rc = SSL_do_handshake(t->ssl);
		if (rc != 1) {
			int e = SSL_get_error(t->ssl, rc);

			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				goto stash;
			fail(t, "handshake failed");
			goto failed;
		}
		if (finish_handshake(t) < 0)
			goto failed;
		t->cb(s, t, 0);
		if (s->flags & SOCK_CLOSING)
			return 0;
		sock_flush(s);	// plaintext the owner queued before the handshake
	}
	for (;;) {
		rc = SSL_read(t->ssl, t_plain, sizeof(t_plain));
		if (rc > 0) {
			sock_deliver(s, t_plain, (size_t)rc);
			if (s->flags & (SOCK_CLOSING | SOCK_EOF))
				return 0;
			continue;
		}
		switch (SSL_get_error(t->ssl, rc)) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			goto stash;
		case SSL_ERROR_ZERO_RETURN:
			return 1;	// close_notify
		default:
			fail(t, "record error");
			log_ratelimited(LOG_DEBUG, NULL, "tls: %s", t->why);
			return -EPROTO;
		}
	}
stash:
	if (t->in_len && buf_append(&t->inq, t->in, t->in_len) < 0)
		return -ENOMEM;
	t->in = NULL;
	t->in_len = 0;
	return 0;
failed:
	stat_inc(&g_stats.handshake_errors);
	log_ratelimited(LOG_INFO, NULL, "tls: %s handshake failed: %s",
			t->cli ? "upstream" : "downstream", t->why);
	t->in_len = 0;
	t->cb(s, t, -EPROTO);
	return -EPROTO;
}

static int filter_output(struct sock *s, struct buf *plain, struct buf *wire)
{
	struct tls_conn *t = s->filter_ctx;

	if (t->failed)
		return -EPROTO;
	if (!t->hs_done)
		return 0;
	while (buf_avail(plain)) {
		size_t n = buf_avail(plain);
		int rc = SSL_write(t->ssl, buf_head(plain), n > (1u << 30) ? 1 << 30 : (int)n);

		if (rc <= 0) {
			fail(t, "write failed");
			return -EPROTO;
		}
		buf_consume(plain, (size_t)rc);
	}
	buf_compact(plain);
	return 0;
}

static void filter_shutdown(struct sock *s, struct buf *wire)
{
	struct tls_conn *t = s->filter_ctx;

	if (t->hs_done && !t->shut && !t->failed) {
		t->shut = true;
		SSL_shutdown(t->ssl);
		ERR_clear_error();
	}
}

static void filter_release(struct sock *s)
{
	struct tls_conn *t = s->filter_ctx;

	SSL_free(t->ssl);
	buf_cleanup(&t->inq);
	tls_server_unref(t->srv);
	tls_client_unref(t->cli);
	free(t->peer);
	free(t->sans);
	free(t);
	s->filter_ctx = NULL;
}

static const struct sock_filter_ops tls_filter = {
	.input = filter_input,
	.output = filter_output,
	.shutdown = filter_shutdown,
	.release = filter_release,
};

static struct tls_conn *conn_new(struct sock *s, SSL_CTX *ctx, tls_handshake_cb *cb)
{
	struct tls_conn *t = calloc(1, sizeof(*t));
	BIO *bio;

	if (!t)
		return NULL;
	t->s = s;
	t->cb = cb;
	if (!(t->ssl = SSL_new(ctx)) || !(bio = BIO_new(g_bio))) {
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return NULL;
	}
	BIO_set_data(bio, t);
	SSL_set_bio(t->ssl, bio, bio);
	return t;
}

int tls_accept(struct sock *s, struct tls_server *srv, tls_handshake_cb *cb,
	       const char *first, size_t first_len)
{
	struct tls_conn *t = conn_new(s, srv->ctx[0], cb);

	if (!t)
		return -ENOMEM;
	tls_server_ref(srv);
	t->srv = srv;
	SSL_set_accept_state(t->ssl);
	sock_set_filter(s, &tls_filter, t);
	if (first_len)
		sock_filter_input(s, first, first_len);
	return 0;
}

int tls_connect(struct sock *s, struct tls_client *cli, const char *sni,
		const char *const *sans, int num_sans, tls_handshake_cb *cb)
{
	struct tls_conn *t = conn_new(s, cli->ctx, cb);
	size_t total = 0;
	uint64_t key = 1469598103934665603ull;
	int rc;

	if (!t)
		return -ENOMEM;
	tls_client_ref(cli);
	t->cli = cli;
	for (int i = 0; i < num_sans; i++)
		total += strlen(sans[i]) + 1;
	if (total && !(t->sans = malloc(total)))
		goto nomem;
	for (int i = 0, off = 0; i < num_sans; i++) {
		size_t l = strlen(sans[i]) + 1;

		memcpy(t->sans + off, sans[i], l);
		off += (int)l;
	}
	t->num_sans = num_sans;
	if (sni && *sni && !SSL_set_tlsext_host_name(t->ssl, sni))
		goto nomem;
	if (cli->alpn_len && SSL_set_alpn_protos(t->ssl, cli->alpn, cli->alpn_len))
		goto nomem;
	// FNV-1a over SNI and SANs: the session cache key
	for (const char *p = sni ? sni : ""; *p; p++)
		key = (key ^ (uint8_t)*p) * 1099511628211ull;
	key = (key ^ 0xff) * 1099511628211ull;
	for (size_t i = 0; i < total; i++)
		key = (key ^ (uint8_t)t->sans[i]) * 1099511628211ull;
	t->sess_key = key | 1;
	pthread_mutex_lock(&cli->lock);
	{
		struct sess_entry *e = &cli->cache[key % SESS_CACHE_SIZE];

		if (e->sess && e->key == t->sess_key)
			SSL_set_session(t->ssl, e->sess);
	}
	pthread_mutex_unlock(&cli->lock);
	SSL_set_connect_state(t->ssl);
	sock_set_filter(s, &tls_filter, t);
	rc = SSL_do_handshake(t->ssl);	// writes the ClientHello into wire
	if (rc != 1 && SSL_get_error(t->ssl, rc) != SSL_ERROR_WANT_READ) {
		fail(t, "cannot start handshake");
		return -EPROTO;
	}
	sock_flush(s);
	return 0;
nomem:
	ERR_clear_error();
	tls_client_unref(cli);
	SSL_free(t->ssl);
	free(t->sans);
	free(t);
	return -ENOMEM;
}

const char *tls_conn_alpn(const struct tls_conn *t)
{
	static __thread char b[256];
	const uint8_t *p;
	unsigned n;

	SSL_get0_alpn_selected(t->ssl, &p, &n);
	if (!p)
		n = 0;	// none chosen: ""
	memcpy(b, p ? (const void *)p : "", n);
	b[n] = 0;
	return b;
}

const char *tls_conn_sni(const struct tls_conn *t)
{
	const char *s = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);

	return s ? s : "";
}

const char *tls_conn_version(const struct tls_conn *t)
{
	return SSL_get_version(t->ssl);
}

const char *tls_conn_cipher(const struct tls_conn *t)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(t->ssl);

	return c ? SSL_CIPHER_standard_name(c) : "";
}

bool tls_conn_resumed(const struct tls_conn *t)
{
	return SSL_session_reused(t->ssl);
}

const struct spiffe_id *tls_conn_peer_id(const struct tls_conn *t)
{
	return t->peer;
}

const char *tls_conn_peer_cert_hash(const struct tls_conn *t)
{
	return t->hash;
}

const char *tls_conn_error(const struct tls_conn *t)
{
	return t->why ? t->why : "";
}

// ---- sniffing -------------------------------------------------------------

int tls_sniff(const char *p, size_t len)
{
	const uint8_t *u = (const uint8_t *)p;

	if (len < 1)
		return -EAGAIN;
	if (u[0] != 0x16)
		return 0;
	if (len < 2)
		return -EAGAIN;
	if (u[1] != 0x03)
		return 0;
	if (len < 6)
		return -EAGAIN;
	return u[5] == 0x01 ? 1 : 0;	// handshake type ClientHello
}

int tls_sniff_hello(const char *p, size_t len, char *sni, size_t sni_len, bool *istio_alpn)
{
	CBS rec, body, hello, sid, suites, comp, exts;
	uint8_t type, hs_type;
	uint16_t ver, rlen;
	uint32_t hlen;

	*istio_alpn = false;
	if (sni_len)
		sni[0] = 0;
	CBS_init(&rec, (const uint8_t *)p, len);
	if (!CBS_get_u8(&rec, &type) || !CBS_get_u16(&rec, &ver) || !CBS_get_u16(&rec, &rlen))
		return -EAGAIN;
	if (type != 0x16 || (ver >> 8) != 3 || rlen == 0 || rlen > 16384 + 2048)
		return -EBADMSG;
	if (CBS_len(&rec) < rlen)
		return -EAGAIN;
	CBS_init(&body, CBS_data(&rec), rlen);
	if (!CBS_get_u8(&body, &hs_type) || hs_type != 1 || !CBS_get_u24(&body, &hlen))
		return -EBADMSG;
	if (CBS_len(&body) < hlen)
		return -EAGAIN;		// a hello split over records: treat as need-more
	CBS_init(&hello, CBS_data(&body), hlen);
	if (!CBS_skip(&hello, 2 + 32) || !CBS_get_u8_length_prefixed(&hello, &sid) ||
	    !CBS_get_u16_length_prefixed(&hello, &suites) ||
	    !CBS_get_u8_length_prefixed(&hello, &comp))
		return -EBADMSG;
	if (!CBS_len(&hello))
		return 0;	// no extensions
	if (!CBS_get_u16_length_prefixed(&hello, &exts))
		return -EBADMSG;
	while (CBS_len(&exts)) {
		uint16_t et;
		CBS ed;

		if (!CBS_get_u16(&exts, &et) || !CBS_get_u16_length_prefixed(&exts, &ed))
			return -EBADMSG;
		if (et == 0) {		// server_name
			CBS list, name;
			uint8_t nt;

			if (!CBS_get_u16_length_prefixed(&ed, &list))
				return -EBADMSG;
			while (CBS_len(&list)) {
				if (!CBS_get_u8(&list, &nt) ||
				    !CBS_get_u16_length_prefixed(&list, &name))
					return -EBADMSG;
				if (nt == 0 && CBS_len(&name) < sni_len &&
				    !memchr(CBS_data(&name), 0, CBS_len(&name))) {
					memcpy(sni, CBS_data(&name), CBS_len(&name));
					sni[CBS_len(&name)] = 0;
				}
			}
		} else if (et == 16) {	// ALPN
			CBS list, proto;

			if (!CBS_get_u16_length_prefixed(&ed, &list))
				return -EBADMSG;
			while (CBS_len(&list)) {
				if (!CBS_get_u8_length_prefixed(&list, &proto))
					return -EBADMSG;
				if (CBS_len(&proto) >= 5 && !memcmp(CBS_data(&proto), "istio", 5))
					*istio_alpn = true;
			}
		}
	}
	return 0;
}
