// SPDX-License-Identifier: Apache-2.0
// ca_service.c: istio.v1.auth.IstioCertificateService/CreateCertificate as
// istiod answers it, over proto/h2 and proto/grpc: authenticate (bearer
// token, else the mesh client certificate), rate-limit, sign with ca/.
// The only protobuf-c user (ca.pb-c.c is generated from ca.proto).
#include "control/ca_service.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca.pb-c.h"
#include "core/bug.h"
#include "core/clock.h"
#include "core/log.h"
#include "proto/grpc.h"
#include "proto/h2.h"

#define SERVICE "istio.v1.auth.IstioCertificateService"
#define METHOD "CreateCertificate"

enum {
	CA_SERVICE_RATE = 50,			// CSRs per second, refill
	CA_SERVICE_BURST = 100,
	CA_SERVICE_MAX_MSG = 64 * 1024,		// a request: a CSR (~2 KiB for RSA-4096) and metadata
	CA_SERVICE_MAX_RESP = 256 * 1024,	// a response: the chain
	CA_SERVICE_OUT_HIGHWAT = 1024 * 1024,	// output not taken by the socket
};

struct ca_service_conn {
	struct ca_service *svc;
	struct h2_conn *h2;
	void (*wake)(void *owner);	// an answer was made outside input: flush
	void *owner;
	bool has_peer;
	bool error_counted;
	struct spiffe_id peer;
};

// call is one CreateCertificate exchange (one HTTP/2 stream).
struct call {
	struct ca_service_conn *conn;
	struct h2_stream *s;
	struct grpc_deframer df;
	struct buf req;			// the request message
	struct buf auth;		// the authorization field's value
	int num_auth;			// authorization fields seen
	bool answered;
	char cluster[64];		// the ClusterID field ("" none)
	bool cluster_too_long;
	void *review;			// a token review in flight (svc->review_*)
	char own_err[256];		// why meshgate's own token check refused
};

void ca_service_init(struct ca_service *svc, struct ca *ca, int64_t (*now)(void))
{
	memset(svc, 0, sizeof(*svc));
	svc->ca = ca;
	svc->now = now ? now : clock_wall_s;
	svc->rate_per_s = CA_SERVICE_RATE;
	svc->burst = CA_SERVICE_BURST;
	// The bucket fills up on first use (last_refill_ms == 0), so that
	// rate_per_s and burst may be changed after init.
}

// take_token spends one CSR from the bucket, refilled at rate_per_s up to
// burst. Monotonic time: wall-clock steps must not refill or starve it.
static bool take_token(struct ca_service *svc)
{
	int64_t now_ms = (int64_t)clock_mono_ms() + 1;	// never 0, which means "unused"

	if (!svc->last_refill_ms)
		svc->tokens = svc->burst;
	else if (now_ms > svc->last_refill_ms)
		svc->tokens = MIN((double)svc->burst,
				  svc->tokens + (double)(now_ms - svc->last_refill_ms) *
					  svc->rate_per_s / 1000.0);
	svc->last_refill_ms = now_ms;
	if (svc->tokens < 1.0)
		return false;
	svc->tokens -= 1.0;
	return true;
}

// ---------------------------------------------------------------------------
// Answers

// respond_status ends the call with a Trailers-Only response: HTTP status
// and grpc-status in one HEADERS frame, as grpc-go does for early errors.
static void respond_status(struct call *k, int http_status, enum grpc_status code,
			   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void respond_status(struct call *k, int http_status, enum grpc_status code,
			   const char *fmt, ...)
{
	struct grpc_trailers t;
	struct h2_header h[4];
	char status[4], msg[512];
	va_list ap;
	int err;

	if (k->answered)
		return;
	k->answered = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (grpc_trailers_build(&t, code, msg, strlen(msg)) < 0) {
		h2_stream_reset(k->s, H2_INTERNAL_ERROR);
		return;
	}
	snprintf(status, sizeof(status), "%d", http_status);
	h[0] = (struct h2_header){ ":status", status, 7, (uint32_t)strlen(status) };
	h[1] = (struct h2_header){ "content-type", "application/grpc", 12, 16 };
	h[2] = t.h[0];
	h[3] = t.h[1];
	if ((err = h2_stream_respond(k->s, h, 2 + t.num, true)) < 0)
		log_debug("ca: answer on stream %d failed (%s)", h2_stream_id(k->s),
			  strerror(-err));
	grpc_trailers_cleanup(&t);
}

// split_chain turns ca_sign_csr's concatenated PEM into NUL-terminated
// certificates, each ending in "\n": *out_certs points into *store.
static int split_chain(const struct buf *pem, struct buf *store, char ***out_certs,
		       size_t *out_num)
{
	static const char end[] = "-----END CERTIFICATE-----\n";
	const char *p = buf_head(pem), *lim = p + buf_avail(pem);
	size_t num = 0, off[16];
	char **certs;

	while (p < lim && num < ARRAY_SIZE(off)) {
		const char *e = memmem(p, (size_t)(lim - p), end, sizeof(end) - 1);
		size_t n;

		if (!e)
			break;
		n = (size_t)(e + sizeof(end) - 1 - p);
		off[num++] = store->len;
		if (buf_append(store, p, n) < 0 || buf_append(store, "", 1) < 0)
			return -ENOMEM;
		p += n;
	}
	if (!num || p != lim)
		return -EINVAL;
	certs = calloc(num, sizeof(*certs));
	if (!certs)
		return -ENOMEM;
	for (size_t i = 0; i < num; i++)
		certs[i] = store->data + off[i];
	*out_certs = certs;
	*out_num = num;
	return 0;
}

// respond_chain sends the signed chain: HEADERS, one message, trailers.
static int respond_chain(struct call *k, const struct buf *pem)
{
	static const struct h2_header h[] = {
		{ ":status", "200", 7, 3 },
		{ "content-type", "application/grpc", 12, 16 },
	};
	Istio__V1__Auth__IstioCertificateResponse resp =
		ISTIO__V1__AUTH__ISTIO_CERTIFICATE_RESPONSE__INIT;
	struct grpc_trailers t;
	struct buf store, msg;
	size_t len;
	int err;

	buf_init(&store);
	buf_init(&msg);
	if ((err = split_chain(pem, &store, &resp.cert_chain, &resp.n_cert_chain)) < 0)
		goto out;
	len = istio__v1__auth__istio_certificate_response__get_packed_size(&resp);
	if (len + GRPC_PREFIX_LEN > CA_SERVICE_MAX_RESP) {
		err = -EMSGSIZE;
		goto out;
	}
	if ((err = buf_reserve(&msg, GRPC_PREFIX_LEN + len)) < 0)
		goto out;
	grpc_prefix((uint8_t *)msg.data, len);
	istio__v1__auth__istio_certificate_response__pack(&resp,
		(uint8_t *)msg.data + GRPC_PREFIX_LEN);
	msg.len = GRPC_PREFIX_LEN + len;
	if ((err = grpc_trailers_build(&t, GRPC_OK, NULL, 0)) < 0)
		goto out;
	k->answered = true;
	if ((err = h2_stream_respond(k->s, h, ARRAY_SIZE(h), false)) < 0 ||
	    (err = h2_stream_write(k->s, msg.data, msg.len)) < 0 ||
	    (err = h2_stream_end(k->s, t.h, t.num)) < 0)
		h2_stream_reset(k->s, H2_INTERNAL_ERROR);
	grpc_trailers_cleanup(&t);
out:
	free(resp.cert_chain);
	buf_cleanup(&store);
	buf_cleanup(&msg);
	return err;
}

// ---------------------------------------------------------------------------
// CreateCertificate

static void review_done(void *arg, int err, const char *ns, const char *sa, const char *why);

// authenticate finds the caller's identity: the bearer token if the call
// carries an authorization field (it alone decides then), else the verified
// client certificate of the connection. It returns 0, or -EACCES with the
// reason in why.
static int authenticate(struct call *k, char ns[SPIFFE_MAX_NAME + 1],
			char sa[SPIFFE_MAX_NAME + 1], char *why, size_t why_len)
{
	struct ca_service_conn *c = k->conn;
	struct ca_service *svc = c->svc;
	const char *v = k->auth.data;
	char err[256];
	size_t len = k->auth.len;

	if (k->num_auth > 1) {
		snprintf(why, why_len, "more than one authorization header");
		return -EACCES;
	}
	if (k->num_auth == 1) {
		// RFC 6750 §2.1: the scheme is case-insensitive, one space.
		if (len < 7 || strncasecmp(v, "Bearer ", 7) || len == 7) {
			snprintf(why, why_len, "authorization header is not a bearer token");
			return -EACCES;
		}
		if (ca_token_verify(svc->ca, v + 7, len - 7, svc->now(), ns, sa, err,
				    sizeof(err)) == 0)
			return 0;
		// not one of meshgate's tokens: a Kubernetes service account's?
		// (istiod's authenticators in turn; the reasons are all told)
		snprintf(k->own_err, sizeof(k->own_err), "%s", err);
		if (svc->review_start) {
			if (k->cluster_too_long || (k->cluster[0] && svc->cluster_id &&
						    strcmp(k->cluster, svc->cluster_id))) {
				snprintf(why, why_len, "bearer token: %.200s; kubernetes: client claims "
					 "to be in cluster \"%.64s\", but we only know about local cluster "
					 "\"%.64s\"", err, k->cluster, svc->cluster_id);
				return -EACCES;
			}
			k->review = svc->review_start(svc->review_arg, v + 7, len - 7, review_done, k);
			if (k->review)
				return 1;
			snprintf(why, why_len, "bearer token: %.200s; kubernetes: TokenReview could not "
				 "start", err);
			return -EACCES;
		}
		snprintf(why, why_len, "bearer token: %.256s", err);
		return -EACCES;
	}
	if (!c->has_peer) {
		snprintf(why, why_len, "no credential (no bearer token, no client certificate)");
		return -EACCES;
	}
	if (strcmp(c->peer.td, svc->ca->trust_domain)) {
		snprintf(why, why_len, "client certificate of trust domain \"%.100s\", not \"%.100s\"",
			 c->peer.td, svc->ca->trust_domain);
		return -EACCES;
	}
	if (spiffe_istio_split(&c->peer, ns, sa) < 0) {
		snprintf(why, why_len, "client certificate identity %.300s is not of the form "
			 "spiffe://<td>/ns/<ns>/sa/<sa>", c->peer.id);
		return -EACCES;
	}
	return 0;
}

static void refuse_unauthenticated(struct call *k, const char *why)
{
	k->conn->svc->stats.unauthenticated++;
	log_ratelimited(LOG_WARN, NULL, "ca: certificate request refused "
			"(request authenticate failure: %s)", why);
	respond_status(k, 200, GRPC_UNAUTHENTICATED, "request authenticate failure: %s", why);
}

static void sign_for(struct call *k, const char *ns, const char *sa);

static void create_certificate(struct call *k)
{
	char ns[SPIFFE_MAX_NAME + 1], sa[SPIFFE_MAX_NAME + 1], why[512];
	int r = authenticate(k, ns, sa, why, sizeof(why));

	if (r < 0)
		refuse_unauthenticated(k, why);
	else if (r == 0)
		sign_for(k, ns, sa);
	// r == 1: a token review answers later (review_done)
}

// review_done: the Kubernetes API said who the bearer token is.
static void review_done(void *arg, int err, const char *ns, const char *sa, const char *why)
{
	struct call *k = arg;
	struct ca_service_conn *c = k->conn;

	k->review = NULL;
	if (err < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "bearer token: %.200s; kubernetes: %.256s", k->own_err,
			 why ? why : strerror(-err));
		refuse_unauthenticated(k, msg);
	} else if (strlen(ns) > SPIFFE_MAX_NAME || strlen(sa) > SPIFFE_MAX_NAME) {
		refuse_unauthenticated(k, "kubernetes: service account name too long");
	} else {
		sign_for(k, ns, sa);
	}
	if (c->wake)
		c->wake(c->owner);
}

static void sign_for(struct call *k, const char *ns, const char *sa)
{
	struct ca_service *svc = k->conn->svc;
	Istio__V1__Auth__IstioCertificateRequest *req;
	char why[512];
	struct buf pem;
	int n, err;

	if (!take_token(svc)) {
		svc->stats.rate_limited++;
		log_ratelimited(LOG_WARN, NULL, "ca: certificate request for ns %s sa %s refused "
				"(over %u/s, burst %u)", ns, sa, svc->rate_per_s, svc->burst);
		respond_status(k, 200, GRPC_RESOURCE_EXHAUSTED,
			       "certificate signing rate limit exceeded, retry later");
		return;
	}
	req = istio__v1__auth__istio_certificate_request__unpack(NULL, k->req.len,
								 (const uint8_t *)k->req.data);
	if (!req) {
		svc->stats.invalid++;
		respond_status(k, 200, GRPC_INTERNAL,
			       "grpc: error unmarshalling request: bad IstioCertificateRequest");
		return;
	}
	buf_init(&pem);
	n = ca_sign_csr(svc->ca, req->csr, strlen(req->csr), ns, sa, req->validity_duration,
			svc->now(), &pem, why, sizeof(why));
	if (n < 0) {
		if (n == -EINVAL)
			svc->stats.invalid++;
		else
			svc->stats.errors++;
		log_ratelimited(LOG_WARN, NULL, "ca: certificate for ns %s sa %s refused (%s)", ns,
				sa, why);
		respond_status(k, 200, n == -EINVAL ? GRPC_INVALID_ARGUMENT : GRPC_INTERNAL,
			       "%s", why);
		goto out;
	}
	if ((err = respond_chain(k, &pem)) < 0) {
		svc->stats.errors++;
		log_ratelimited(LOG_WARN, NULL, "ca: certificate for ns %s sa %s not sent (%s)", ns,
				sa, strerror(-err));
		respond_status(k, 200, GRPC_INTERNAL, "certificate chain not sent");
		goto out;
	}
	svc->stats.issued++;
	log_emit(LOG_INFO, NULL, "ca: issued spiffe://%s/ns/%s/sa/%s (requested ttl %llds, "
		 "chain of %d)",
		 svc->ca->trust_domain, ns, sa, (long long)req->validity_duration, n);
out:
	buf_cleanup(&pem);
	istio__v1__auth__istio_certificate_request__free_unpacked(req, NULL);
}

// ---------------------------------------------------------------------------
// HTTP/2 callbacks

// route checks the request head as grpc-go's server does, in its order, and
// answers what it refuses. It returns true for CreateCertificate.
static bool route(struct call *k, const struct h2_header *h, size_t num)
{
	static const char prefix[] = "/" SERVICE "/";
	const struct h2_header *method = h2_header_find(h, num, ":method");
	const struct h2_header *path = h2_header_find(h, num, ":path");
	const struct h2_header *ct = h2_header_find(h, num, "content-type");
	const struct h2_header *to = h2_header_find(h, num, "grpc-timeout");
	const char *slash;
	int64_t timeout_ns;

	if (!method || !path) {
		// CONNECT: no :path, nothing to route.
		respond_status(k, 405, GRPC_INTERNAL, "gRPC requires POST with a :path");
		return false;
	}
	if (!ct || !grpc_content_type_ok(ct->value, ct->value_len)) {
		respond_status(k, 415, GRPC_INVALID_ARGUMENT, "invalid gRPC request content-type \"%s\"",
			       ct ? ct->value : "");
		return false;
	}
	if (strcmp(method->value, "POST")) {
		respond_status(k, 405, GRPC_INTERNAL,
			       "Received a HEADERS frame with :method \"%s\" which should be POST",
			       method->value);
		return false;
	}
	// Answered synchronously, so a deadline only matters if already past.
	if (to && grpc_timeout_parse(to->value, to->value_len, &timeout_ns) < 0) {
		respond_status(k, 400, GRPC_INTERNAL, "malformed grpc-timeout: \"%s\"", to->value);
		return false;
	}
	if (to && timeout_ns == 0) {
		respond_status(k, 200, GRPC_DEADLINE_EXCEEDED, "context deadline exceeded");
		return false;
	}
	if (!strcmp(path->value, "/" SERVICE "/" METHOD))
		return true;
	slash = path->value[0] == '/' ? strrchr(path->value, '/') : NULL;
	if (!slash || slash == path->value)
		respond_status(k, 200, GRPC_UNIMPLEMENTED, "malformed method name: \"%s\"",
			       path->value);
	else if (!strncmp(path->value, prefix, sizeof(prefix) - 1))
		respond_status(k, 200, GRPC_UNIMPLEMENTED, "unknown method %s for service %s",
			       slash + 1, SERVICE);
	else
		respond_status(k, 200, GRPC_UNIMPLEMENTED, "unknown service %.*s",
			       (int)(slash - path->value - 1), path->value + 1);
	return false;
}

static int on_headers(void *arg, struct h2_stream *s, const struct h2_header *h, size_t num,
		      bool end_stream)
{
	struct ca_service_conn *c = arg;
	const struct h2_header *cluster;
	struct call *k;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->conn = c;
	k->s = s;
	grpc_deframer_init(&k->df, CA_SERVICE_MAX_MSG);
	h2_stream_set_data(s, k);
	if (!route(k, h, num)) {
		c->svc->stats.errors++;
		return 0;
	}
	c->svc->stats.requests++;
	for (size_t i = 0; i < num; i++) {
		if (h[i].name_len != 13 || memcmp(h[i].name, "authorization", 13))
			continue;
		if (++k->num_auth == 1 && buf_append(&k->auth, h[i].value, h[i].value_len) < 0)
			return -ENOMEM;
	}
	// Istio's multicluster hint: a Kubernetes token is checked against the
	// cluster it names, and we know one
	if ((cluster = h2_header_find(h, num, "clusterid"))) {
		if (cluster->value_len >= sizeof(k->cluster))
			k->cluster_too_long = true;
		else
			memcpy(k->cluster, cluster->value, cluster->value_len);
	}
	return 0;
}

static int on_data(void *arg, struct h2_stream *s, const char *p, size_t len)
{
	struct call *k = h2_stream_data(s);
	struct ca_service *svc = k->conn->svc;

	while (len && !k->answered) {
		const char *msg;
		size_t msg_len;
		ssize_t n = grpc_deframe(&k->df, p, len, &msg, &msg_len);

		if (n < 0) {
			svc->stats.invalid++;
			if (n == -EMSGSIZE)
				respond_status(k, 200, GRPC_RESOURCE_EXHAUSTED,
					       "grpc: received message larger than max (%u)",
					       CA_SERVICE_MAX_MSG);
			else if (n == -ENOTSUP)
				respond_status(k, 200, GRPC_UNIMPLEMENTED,
					       "grpc: compressed message, no grpc-encoding is supported");
			else
				respond_status(k, 200, grpc_status_of((int)n),
					       "grpc: malformed message frame");
			return 0;
		}
		p += n;
		len -= (size_t)n;
		if (!msg)
			continue;
		if (k->df.num_msgs > 1) {
			svc->stats.invalid++;
			respond_status(k, 200, GRPC_INTERNAL,
				       "grpc: more than one request message for a unary RPC");
			return 0;
		}
		if (buf_append(&k->req, msg, msg_len) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int on_end_stream(void *arg, struct h2_stream *s)
{
	struct call *k = h2_stream_data(s);
	struct ca_service *svc = k->conn->svc;

	if (k->answered)
		return 0;
	if (!grpc_deframer_idle(&k->df) || k->df.num_msgs != 1) {
		svc->stats.invalid++;
		respond_status(k, 200, GRPC_INTERNAL, "grpc: %s",
			       !grpc_deframer_idle(&k->df) ? "truncated request message" :
							     "no request message for a unary RPC");
		return 0;
	}
	create_certificate(k);
	return 0;
}

static void on_stream_close(void *arg, struct h2_stream *s, uint32_t error_code)
{
	struct call *k = h2_stream_data(s);

	if (!k)
		return;
	if (k->review && k->conn->svc->review_cancel)
		k->conn->svc->review_cancel(k->conn->svc->review_arg, k->review);
	grpc_deframer_cleanup(&k->df);
	buf_cleanup(&k->req);
	buf_cleanup(&k->auth);
	free(k);
}

static const struct h2_callbacks callbacks = {
	.on_headers = on_headers,
	.on_data = on_data,
	.on_end_stream = on_end_stream,
	.on_stream_close = on_stream_close,
};

// ---------------------------------------------------------------------------
// Connections

struct ca_service_conn *ca_service_conn_new(struct ca_service *svc,
					    const struct spiffe_id *peer, struct buf *out,
					    void (*wake)(void *owner), void *owner)
{
	struct ca_service_conn *c = calloc(1, sizeof(*c));
	struct h2_config cfg;

	if (!c)
		return NULL;
	c->svc = svc;
	c->wake = wake;
	c->owner = owner;
	if (peer) {
		c->peer = *peer;
		// path points into id: re-aim it at our copy.
		c->peer.path = c->peer.id + (peer->path - peer->id);
		c->has_peer = true;
	}
	h2_config_default(&cfg);
	// ca_service_conn_input is all the owner calls: let a reply to a
	// burst of calls out whole. nghttp2's queue limits still stop a peer
	// that never reads.
	cfg.out_highwat = CA_SERVICE_OUT_HIGHWAT;
	cfg.stream_out_max = CA_SERVICE_MAX_RESP;
	c->h2 = h2_conn_new(&cfg, &callbacks, c, out);
	if (!c->h2) {
		free(c);
		return NULL;
	}
	return c;
}

// count_error counts a connection that ended in a protocol error, once.
static int count_error(struct ca_service_conn *c, int rc)
{
	if (rc == -EPROTO && !c->error_counted) {
		c->error_counted = true;
		c->svc->stats.errors++;
		log_ratelimited(LOG_WARN, NULL, "ca: connection closed (HTTP/2 protocol error%s)",
				h2_conn_stats(c->h2)->bad_preface ? ": bad client preface" : "");
	}
	return rc;
}

int ca_service_conn_input(struct ca_service_conn *c, const char *p, size_t len,
			  struct buf *out)
{
	return count_error(c, h2_conn_input(c->h2, p, len, out));
}

int ca_service_conn_flush(struct ca_service_conn *c, struct buf *out)
{
	return count_error(c, h2_conn_flush(c->h2, out));
}

bool ca_service_conn_want_close(const struct ca_service_conn *c)
{
	return h2_conn_want_close(c->h2);
}

int ca_service_conn_shutdown(struct ca_service_conn *c)
{
	return h2_conn_shutdown(c->h2);
}

void ca_service_conn_free(struct ca_service_conn *c)
{
	if (!c)
		return;
	h2_conn_free(c->h2);
	free(c);
}
