// SPDX-License-Identifier: Apache-2.0
// ca_service.h: Istio's certificate service on :15012,
// istio.v1.auth.IstioCertificateService/CreateCertificate, over gRPC on
// HTTP/2 (proto/h2 on nghttp2). Runs on the control thread. It knows no
// sockets or TLS: the connection owner feeds decrypted bytes in and sends
// what comes out, and tells it the peer's verified SPIFFE ID, if any.
#ifndef MG_CONTROL_CA_SERVICE_H
#define MG_CONTROL_CA_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/ca.h"
#include "ca/spiffe.h"
#include "core/buf.h"

struct ca_service_stats {
	uint64_t requests;		// CreateCertificate calls
	uint64_t issued;
	uint64_t unauthenticated;	// refused: no/bad/expired/foreign credential
	uint64_t invalid;		// bad CSR, bad TTL, bad message
	uint64_t rate_limited;
	uint64_t errors;		// protocol errors, other failures
};

struct ca_service {
	struct ca *ca;			// borrowed; the control thread owns it
	int64_t (*now)(void);		// unix seconds (injectable clock)
	uint32_t rate_per_s;		// CSR token bucket refill, default 50
	uint32_t burst;			// default 100
	double tokens;
	int64_t last_refill_ms;
	struct ca_service_stats stats;
	// A bearer token that is not one of meshgate's own is checked by
	// review_start (Kubernetes TokenReview, audience istio-ca); NULL: such
	// tokens are refused. done(call, ...) runs later, unless cancelled.
	void *(*review_start)(void *arg, const char *token, size_t len,
			      void (*done)(void *call, int err, const char *ns, const char *sa,
					   const char *why), void *call);
	void (*review_cancel)(void *arg, void *review);
	void *review_arg;
	const char *cluster_id;		// the ClusterID a Kubernetes token may name
};

struct ca_service_conn;

// ca_service_init prepares svc over ca. now may be NULL (wall clock).
void ca_service_init(struct ca_service *svc, struct ca *ca, int64_t (*now)(void));

// ca_service_conn_new starts an HTTP/2 server session for one connection.
// peer is the client certificate's verified SPIFFE ID, or NULL. The
// connection preface/SETTINGS to send are appended to out.
// wake(owner) runs when an answer was made outside ca_service_conn_input
// (a token review came back): the owner calls ca_service_conn_flush.
struct ca_service_conn *ca_service_conn_new(struct ca_service *svc,
					    const struct spiffe_id *peer, struct buf *out,
					    void (*wake)(void *owner), void *owner);

// ca_service_conn_input feeds received bytes and appends whatever must be
// sent to out. It returns 0, or a negative errno when the connection must be
// closed once out is flushed (protocol error, GOAWAY sent, peer done).
int ca_service_conn_input(struct ca_service_conn *c, const char *p, size_t len,
			  struct buf *out);

// ca_service_conn_want_close says the session is finished (GOAWAY both
// ways, or nothing more to read or write).
bool ca_service_conn_want_close(const struct ca_service_conn *c);

// ca_service_conn_flush appends output still pending in the session (when
// more than 1 MiB was waiting in out at the last input) to out. It returns
// as ca_service_conn_input does.
int ca_service_conn_flush(struct ca_service_conn *c, struct buf *out);

// ca_service_conn_shutdown starts a graceful close (GOAWAY, PING, final
// GOAWAY): calls in progress complete, then want_close turns true. Call
// ca_service_conn_flush to send it. It returns 0 or -errno.
int ca_service_conn_shutdown(struct ca_service_conn *c);

// ca_service_conn_free ends the session; NULL is a no-op.
void ca_service_conn_free(struct ca_service_conn *c);

#endif
