// SPDX-License-Identifier: Apache-2.0
// tls.h: TLS on BoringSSL over ring-driven sockets. A tls_conn is a
// sock_filter: the socket I/O stays on the ring, BoringSSL only sees a
// custom BIO that reads the bytes a recv completion delivered and writes
// straight into the sock's wire queue, so handshakes, reads and writes never
// block a worker.
//
// tls_server and tls_client are immutable, reference-counted contexts built
// by the control thread (they are part of a snapshot) and shared by workers;
// a connection keeps a reference for its whole life, so a rotation or a
// reload never pulls a context from under a handshake.
#ifndef MG_PROTO_TLS_H
#define MG_PROTO_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/base.h>
#include <openssl/x509.h>

#include "ca/spiffe.h"
#include "ca/verify.h"
#include "core/buf.h"

struct sock;

enum tls_mode {
	TLS_OFF = 0,
	TLS_SIMPLE,		// server: certificate from files; client: verify the server
	TLS_MUTUAL,		// plus client certificates verified against a CA bundle
	TLS_ISTIO_MUTUAL,	// the appliance's SVID, peers verified as SPIFFE SVIDs
};

const char *tls_mode_name(enum tls_mode m);

enum { TLS_MAX_CERTS = 8, TLS_MAX_ALPN = 8, TLS_MAX_SANS = 16 };

// tls_identity is a certificate with its key and chain (leaf first, the
// root excluded). Reference-counted and immutable.
struct tls_identity {
	int refs;
	X509 *cert;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;		// intermediates to send after the leaf
	int64_t not_before, not_after;	// unix seconds
	char spiffe[SPIFFE_MAX_ID + 1];	// "" if the cert has no SPIFFE ID
};

// tls_identity_new takes references on cert, key and chain's members.
struct tls_identity *tls_identity_new(X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain);
// tls_identity_load reads a certificate file (leaf then chain) and a key file.
int tls_identity_load(struct tls_identity **out, const char *cert_file, const char *key_file,
		      char *err, size_t err_len);
// tls_identity_load_pem is tls_identity_load on PEM text in memory.
int tls_identity_load_pem(struct tls_identity **out, const char *cert_pem, size_t cert_len,
			  const char *key_pem, size_t key_len, char *err, size_t err_len);
void tls_identity_ref(struct tls_identity *id);
void tls_identity_unref(struct tls_identity *id);

// tls_bundle is a reference-counted trust bundle (SPIFFE roots by trust
// domain) that TLS contexts share.
struct tls_bundle {
	int refs;
	struct trust_bundle b;
	struct buf pem;			// the PEM it came from (the mesh root), for /certs
};

struct tls_bundle *tls_bundle_new(const char *td, const char *pem, size_t len);
void tls_bundle_ref(struct tls_bundle *b);
void tls_bundle_unref(struct tls_bundle *b);

struct tls_server_cfg {
	enum tls_mode mode;
	// SIMPLE/MUTUAL: one or more certificates; the client's SNI selects by
	// the certificates' DNS names (exact, then "*." wildcard), the first is
	// the default. ISTIO_MUTUAL: the appliance's SVID.
	struct tls_identity *certs[TLS_MAX_CERTS];
	int num_certs;
	const char *ca_file;		// MUTUAL: client certificates must chain to these
	struct tls_bundle *bundle;	// ISTIO_MUTUAL: SPIFFE trust bundle
	// MUTUAL/ISTIO_MUTUAL: a client without a certificate is let through
	// (unauthenticated); one that presents a certificate is verified
	bool client_cert_optional;
	// no_sessions turns resumption off: no TLS 1.3 session tickets, no
	// TLS 1.2 tickets or session-ID cache; every handshake is a full one
	// (and saves the tickets' cost when clients never resume)
	bool no_sessions;
	// ALPN the server accepts, in its order of preference. A client
	// offering none of them gets no ALPN answer (as Envoy does).
	const char *alpn[TLS_MAX_ALPN];
	int num_alpn;
};

struct tls_server;

int tls_server_new(struct tls_server **out, const struct tls_server_cfg *cfg,
		   char *err, size_t err_len);
void tls_server_ref(struct tls_server *s);
void tls_server_unref(struct tls_server *s);
enum tls_mode tls_server_mode(const struct tls_server *s);

struct tls_client_cfg {
	enum tls_mode mode;
	struct tls_identity *identity;	// MUTUAL/ISTIO_MUTUAL: our client certificate
	const char *ca_file;		// SIMPLE/MUTUAL: server must chain to these (NULL: no check)
	const char *ca_pem;		// or PEM text (when ca_file is NULL)
	size_t ca_pem_len;
	struct tls_bundle *bundle;	// ISTIO_MUTUAL
	const char *alpn[TLS_MAX_ALPN];	// offered, in order
	int num_alpn;
};

struct tls_client;

int tls_client_new(struct tls_client **out, const struct tls_client_cfg *cfg,
		   char *err, size_t err_len);
void tls_client_ref(struct tls_client *c);
void tls_client_unref(struct tls_client *c);

struct tls_conn;

// tls_handshake_cb runs once per connection: err 0 when the handshake is
// done (the peer is verified as the mode requires), else -EPROTO.
typedef void tls_handshake_cb(struct sock *s, struct tls_conn *t, int err);

// tls_accept installs a server-side TLS filter on s. Bytes the owner has
// already read raw (sniffing) can be passed in first[0..first_len). It
// returns 0 or -ENOMEM.
int tls_accept(struct sock *s, struct tls_server *srv, tls_handshake_cb *cb,
	       const char *first, size_t first_len);

// tls_connect installs a client-side TLS filter on a connected s and sends
// the ClientHello. sni may be NULL. With ISTIO_MUTUAL the server's SPIFFE ID
// must be one of sans[] (none: any ID of the trust bundle); with SIMPLE or
// MUTUAL, sans[] are DNS or URI SANs to match (none: chain only).
int tls_connect(struct sock *s, struct tls_client *cli, const char *sni,
		const char *const *sans, int num_sans, tls_handshake_cb *cb);

// What a finished handshake learned.
const char *tls_conn_alpn(const struct tls_conn *t);		// "" if none
const char *tls_conn_sni(const struct tls_conn *t);		// "" if none
const char *tls_conn_version(const struct tls_conn *t);	// "TLSv1.3"
const char *tls_conn_cipher(const struct tls_conn *t);
bool tls_conn_resumed(const struct tls_conn *t);
// tls_conn_peer_id is the verified peer SPIFFE ID, or NULL.
const struct spiffe_id *tls_conn_peer_id(const struct tls_conn *t);
// tls_conn_peer_cert_hash is the hex SHA-256 of the peer's leaf, or "".
const char *tls_conn_peer_cert_hash(const struct tls_conn *t);
const char *tls_conn_error(const struct tls_conn *t);		// last failure reason

// tls_sniff looks at the first bytes of a connection: 1 if they start a
// TLS ClientHello, 0 if they cannot, -EAGAIN if too few bytes to tell.
int tls_sniff(const char *p, size_t len);

// tls_sniff_alpn_sni parses a complete ClientHello record prefix to find
// SNI and whether any offered ALPN starts with "istio". It returns 0,
// -EAGAIN (need more bytes) or -EBADMSG.
int tls_sniff_hello(const char *p, size_t len, char *sni, size_t sni_len, bool *istio_alpn);

// Counters, summed over every thread (relaxed atomics).
struct tls_stats {
	uint64_t handshakes, handshake_errors, no_cert, verify_failed, resumed;
};
void tls_stats_get(struct tls_stats *out);

#endif
