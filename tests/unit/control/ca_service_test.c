// SPDX-License-Identifier: Apache-2.0
// ca_service_test: drives IstioCertificateService/CreateCertificate in
// memory with an nghttp2 client, against a real CA in a temporary state
// directory: issuance for the token's (or client certificate's) identity,
// never the CSR's; every refusal with Istio's and grpc-go's codes; limits.
// The protobuf messages are encoded and decoded by hand here, so the test
// checks the wire format rather than trusting the generated code.
#include "control/ca_service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <openssl/bio.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/bug.h"
#include "proto/grpc.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static int failures, checks;

#define CHECK(c, ...)							\
	do {								\
		checks++;						\
		if (!(c)) {						\
			failures++;					\
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #c); \
			printf(__VA_ARGS__);				\
			printf("\n");					\
		}							\
	} while (0)

#define PATH "/istio.v1.auth.IstioCertificateService/CreateCertificate"
#define TD "cluster.local"

static int64_t fake_now;

static int64_t test_now(void)
{
	return fake_now;
}

// ---------------------------------------------------------------------------
// Hand-made protobuf

static void pb_varint(struct buf *b, uint64_t v)
{
	uint8_t c;

	do {
		c = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			c |= 0x80;
		buf_append(b, &c, 1);
	} while (v);
}

static void pb_bytes(struct buf *b, unsigned field, const void *p, size_t len)
{
	pb_varint(b, field << 3 | 2);
	pb_varint(b, len);
	buf_append(b, p, len);
}

// request encodes IstioCertificateRequest{csr, validity_duration, metadata}.
static void request_msg(struct buf *b, const char *csr, int64_t ttl, bool metadata)
{
	// A google.protobuf.Struct {fields: {"ClusterID": "Kubernetes"}}, as
	// the Istio agent may send it.
	static const char meta[] = "\x0a\x19\x0a\x09" "ClusterID" "\x12\x0c\x1a\x0a" "Kubernetes";

	pb_bytes(b, 1, csr, strlen(csr));
	if (ttl) {
		pb_varint(b, 3 << 3 | 0);
		pb_varint(b, (uint64_t)ttl);
	}
	if (metadata)
		pb_bytes(b, 4, meta, sizeof(meta) - 1);
}

static int pb_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t c = *(*p)++;

		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
	}
	return -1;
}

// parse_chain decodes IstioCertificateResponse.cert_chain into chain[].
static int parse_chain(const char *msg, size_t len, char *chain[8])
{
	const uint8_t *p = (const uint8_t *)msg, *end = p + len;
	int n = 0;

	while (p < end) {
		uint64_t key, l;

		if (pb_read_varint(&p, end, &key) || key != (1 << 3 | 2) ||
		    pb_read_varint(&p, end, &l) || l > (uint64_t)(end - p) || n == 8)
			return -1;
		chain[n] = strndup((const char *)p, l);
		n++;
		p += l;
	}
	return n;
}

// ---------------------------------------------------------------------------
// CSRs and certificates (BoringSSL)

static EVP_PKEY *p256_key(void)
{
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EVP_PKEY *key = EVP_PKEY_new();

	BUG_ON(!ec || !key || !EC_KEY_generate_key(ec) || !EVP_PKEY_assign_EC_KEY(key, ec));
	return key;
}

// csr_pem builds a P-256 CSR that asks for an identity it must not get:
// a CN and SANs of kube-system/admin.
static char *csr_pem(EVP_PKEY *key)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509V3_CTX ctx;
	BIO *bio = BIO_new(BIO_s_mem());
	const uint8_t *p;
	size_t n;
	char *s;

	X509_REQ_set_version(req, X509_REQ_VERSION_1);
	X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
				   (const uint8_t *)"admin", -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_NAME_free(name);
	X509_REQ_set_pubkey(req, key);
	X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
	sk_X509_EXTENSION_push(exts, X509V3_EXT_nconf_nid(NULL, &ctx, NID_subject_alt_name,
		"URI:spiffe://" TD "/ns/kube-system/sa/admin,DNS:decoy.example"));
	X509_REQ_add_extensions(req, exts);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	BUG_ON(!X509_REQ_sign(req, key, EVP_sha256()));
	BUG_ON(!PEM_write_bio_X509_REQ(bio, req) || !BIO_mem_contents(bio, &p, &n));
	s = strndup((const char *)p, n);
	BIO_free(bio);
	X509_REQ_free(req);
	return s;
}

static X509 *pem_cert(const char *pem)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)strlen(pem));
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);

	BIO_free(bio);
	return x;
}

// uri_san returns the certificate's URI SANs joined by ',' (static).
static const char *uri_san(X509 *x)
{
	static char out[1024];
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

	out[0] = 0;
	for (size_t i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_URI)
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%.*s",
				 out[0] ? "," : "", ASN1_STRING_length(g->d.uniformResourceIdentifier),
				 (const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier));
		else
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%stype%d",
				 out[0] ? "," : "", g->type);
	}
	GENERAL_NAMES_free(gens);
	return out;
}

// ---------------------------------------------------------------------------
// One call over HTTP/2

struct resp {
	int status;		// HTTP
	int grpc;		// grpc-status, -1 if none
	char message[512];	// grpc-message, decoded
	struct buf body;
	bool closed;
	uint32_t close_code;
	int num_chain;
	char *chain[8];
};

struct client {
	nghttp2_session *s;
	struct resp *r[64];	// by (stream id - 1) / 2
	const struct buf *body;	// request body being sent
	size_t body_off;
};

static struct resp *resp_of(struct client *cl, int32_t id)
{
	return id >= 1 && (id - 1) / 2 < 64 ? cl->r[(id - 1) / 2] : NULL;
}

static int cl_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *n, size_t nl,
		     const uint8_t *v, size_t vl, uint8_t flags, void *ud)
{
	struct resp *r = resp_of(ud, f->hd.stream_id);
	struct buf dec;

	if (!r)
		return 0;
	if (nl == 7 && !memcmp(n, ":status", 7))
		r->status = atoi((const char *)v);
	if (nl == 11 && !memcmp(n, "grpc-status", 11))
		r->grpc = atoi((const char *)v);
	if (nl == 12 && !memcmp(n, "grpc-message", 12)) {
		buf_init(&dec);
		grpc_message_decode(&dec, (const char *)v, vl);
		snprintf(r->message, sizeof(r->message), "%.*s", (int)dec.len, dec.data);
		buf_cleanup(&dec);
	}
	return 0;
}

static int cl_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *p, size_t len,
		   void *ud)
{
	struct resp *r = resp_of(ud, id);

	if (r)
		buf_append(&r->body, p, len);
	return 0;
}

static int cl_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
	struct resp *r = resp_of(ud, id);

	if (r) {
		r->closed = true;
		r->close_code = code;
	}
	return 0;
}

static ssize_t cl_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
		       uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	const struct buf *b = src->ptr;
	size_t *off = &((struct client *)ud)->body_off;
	size_t n = MIN(len, b->len - *off);

	memcpy(buf, b->data + *off, n);
	*off += n;
	if (*off == b->len) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		*off = 0;
	}
	return (ssize_t)n;
}

static void client_init(struct client *cl)
{
	nghttp2_session_callbacks *cbs;

	memset(cl, 0, sizeof(*cl));
	BUG_ON(nghttp2_session_callbacks_new(&cbs));
	nghttp2_session_callbacks_set_on_header_callback(cbs, cl_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cl_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cl_close);
	BUG_ON(nghttp2_session_client_new(&cl->s, cbs, cl));
	nghttp2_session_callbacks_del(cbs);
	BUG_ON(nghttp2_submit_settings(cl->s, NGHTTP2_FLAG_NONE, NULL, 0));
}

// pump moves bytes between the client and the service until both are
// quiet; it returns the first non-zero ca_service_conn_input result.
static int pump(struct client *cl, struct ca_service_conn *c, struct buf *out)
{
	int rc = 0;

	for (int round = 0; round < 1000; round++) {
		const uint8_t *p;
		ssize_t n;
		bool moved = false;

		while ((n = nghttp2_session_mem_send(cl->s, &p)) > 0) {
			moved = true;
			if (!rc)
				rc = ca_service_conn_input(c, (const char *)p, (size_t)n, out);
		}
		if (buf_avail(out)) {
			moved = true;
			n = nghttp2_session_mem_recv(cl->s, (const uint8_t *)buf_head(out),
						     buf_avail(out));
			CHECK(n >= 0, "client: %s", n < 0 ? nghttp2_strerror((int)n) : "");
			buf_consume(out, buf_avail(out));
		}
		if (!moved)
			break;
	}
	return rc;
}

// What a call carries. Fields left zero take the defaults of a good call.
enum body_kind { BODY_GOOD = 0, BODY_NONE, BODY_GARBAGE, BODY_BAD_CSR, BODY_COMPRESSED,
		 BODY_TWO, BODY_HUGE, BODY_TRUNCATED };

struct call_opts {
	const char *path;		// NULL: CreateCertificate
	const char *method;		// NULL: POST
	const char *ctype;		// NULL: application/grpc
	const char *auth;		// authorization value, NULL: none
	const char *auth2;		// a second authorization field
	const char *timeout;		// grpc-timeout
	bool cluster_id;
	bool metadata;
	enum body_kind body;
	int64_t ttl;
};

static const char *csr;		// the test CSR, PEM

static void build_body(struct buf *b, const struct call_opts *o)
{
	struct buf m;

	buf_init(&m);
	switch (o->body) {
	case BODY_GOOD:
	case BODY_TWO:
	case BODY_TRUNCATED:
		request_msg(&m, csr, o->ttl, o->metadata);
		break;
	case BODY_BAD_CSR:
		request_msg(&m, "-----BEGIN CERTIFICATE REQUEST-----\nnot a csr\n"
			    "-----END CERTIFICATE REQUEST-----\n", o->ttl, false);
		break;
	case BODY_GARBAGE:
		buf_append(&m, "\x0a\xff\xff\xff\x0f\x01\x02", 7);
		break;
	case BODY_HUGE:
		buf_reserve(&m, 70000);
		memset(m.data, 'a', 70000);
		m.len = 70000;
		break;
	case BODY_COMPRESSED:
		request_msg(&m, csr, o->ttl, false);
		break;
	case BODY_NONE:
		break;
	}
	if (o->body != BODY_NONE)
		grpc_frame(b, m.data, m.len);
	if (o->body == BODY_COMPRESSED)
		b->data[0] = 1;
	if (o->body == BODY_TWO)
		grpc_frame(b, m.data, m.len);
	if (o->body == BODY_TRUNCATED)
		b->len -= 10;
	buf_cleanup(&m);
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), 0 }

// submit starts one call on cl; r receives the answer.
static void submit(struct client *cl, const struct call_opts *o, struct buf *body,
		   struct resp *r)
{
	nghttp2_nv nv[12] = {
		NV(":method", o->method ? o->method : "POST"), NV(":scheme", "https"),
		NV(":path", o->path ? o->path : PATH), NV(":authority", "istiod.istio-system.svc"),
		NV("content-type", o->ctype ? o->ctype : "application/grpc"), NV("te", "trailers"),
	};
	nghttp2_data_provider prd = { .source.ptr = body, .read_callback = cl_read };
	size_t n = 6;
	int32_t id;

	memset(r, 0, sizeof(*r));
	r->grpc = -1;
	buf_init(&r->body);
	buf_init(body);
	build_body(body, o);
	if (o->auth)
		nv[n++] = (nghttp2_nv)NV("authorization", o->auth);
	if (o->auth2)
		nv[n++] = (nghttp2_nv)NV("authorization", o->auth2);
	if (o->timeout)
		nv[n++] = (nghttp2_nv)NV("grpc-timeout", o->timeout);
	if (o->cluster_id)
		nv[n++] = (nghttp2_nv)NV("clusterid", "Kubernetes");
	id = nghttp2_submit_request(cl->s, NULL, nv, n, o->body == BODY_NONE ? NULL : &prd, NULL);
	BUG_ON(id < 1 || (id - 1) / 2 >= 64);
	cl->r[(id - 1) / 2] = r;
}

// finish decodes the response message into r->chain.
static void finish(struct resp *r)
{
	struct grpc_deframer d;
	const char *msg;
	size_t len;
	ssize_t n;

	r->num_chain = 0;
	if (!r->body.len)
		return;
	grpc_deframer_init(&d, 0);
	n = grpc_deframe(&d, r->body.data, r->body.len, &msg, &len);
	CHECK(n == (ssize_t)r->body.len && msg, "one response message");
	if (msg)
		r->num_chain = parse_chain(msg, len, r->chain);
	grpc_deframer_cleanup(&d);
}

static void resp_cleanup(struct resp *r)
{
	for (int i = 0; i < r->num_chain && i < 8; i++)
		free(r->chain[i]);
	buf_cleanup(&r->body);
}

// call runs one call on a fresh connection from peer (NULL: no client
// certificate).
static void call(struct ca_service *svc, const struct spiffe_id *peer,
		 const struct call_opts *o, struct resp *r)
{
	struct client cl;
	struct ca_service_conn *c;
	struct buf out, body;
	int rc;

	buf_init(&out);
	client_init(&cl);
	c = ca_service_conn_new(svc, peer, &out, NULL, NULL);
	BUG_ON(!c);
	submit(&cl, o, &body, r);
	rc = pump(&cl, c, &out);
	CHECK(rc == 0, "conn input %d", rc);
	CHECK(r->closed, "call closed");
	finish(r);
	ca_service_conn_free(c);
	nghttp2_session_del(cl.s);
	buf_cleanup(&out);
	buf_cleanup(&body);
}

// ---------------------------------------------------------------------------
// Tests

static struct ca ca, ca_other;
static struct ca_service svc;
static char token[4096], token_other[4096], token_short[4096];
static char bearer[4200], bearer_other[4200], bearer_short[4200], bearer_bad_sig[4200];
static char bearer_lc[4200];

static uint64_t *stat_field(struct ca_service_stats *s, int which)
{
	uint64_t *f[] = { &s->issued, &s->unauthenticated, &s->invalid, &s->rate_limited,
			  &s->errors };

	return f[which];
}

enum { ST_ISSUED = 0, ST_UNAUTH, ST_INVALID, ST_RATE, ST_ERRORS };

struct row {
	const char *id;
	struct call_opts o;
	int peer;			// 0 none, 1 mesh identity, 2 foreign td, 3 not Istio form
	int http;
	int grpc;
	const char *msg;		// substring of grpc-message
	int stat;			// ST_* that must grow by one
	bool request;			// counted in requests
	const char *san;		// for OK: the leaf's URI SAN
	int64_t ttl_check;		// for OK: NotAfter - NotBefore
	int64_t clock_shift;		// fake clock moved by this for the call
};

static struct spiffe_id peers[4];

static void run_row(const struct row *w)
{
	struct ca_service_stats before = svc.stats;
	struct resp r;
	int64_t saved = fake_now;

	fake_now += w->clock_shift;
	call(&svc, w->peer ? &peers[w->peer] : NULL, &w->o, &r);
	fake_now = saved;
	CHECK(r.status == w->http, "%s: HTTP %d, want %d", w->id, r.status, w->http);
	CHECK(r.grpc == w->grpc, "%s: grpc-status %d (%s), want %d", w->id, r.grpc, r.message,
	      w->grpc);
	if (w->msg)
		CHECK(strstr(r.message, w->msg), "%s: grpc-message \"%s\" lacks \"%s\"", w->id,
		      r.message, w->msg);
	CHECK(*stat_field(&svc.stats, w->stat) == *stat_field(&before, w->stat) + 1,
	      "%s: stat %d not counted", w->id, w->stat);
	CHECK(svc.stats.requests == before.requests + (w->request ? 1 : 0), "%s: requests",
	      w->id);
	if (w->grpc == 0) {
		X509 *leaf, *root;

		CHECK(r.num_chain == 2, "%s: chain of %d", w->id, r.num_chain);
		for (int i = 0; i < r.num_chain; i++) {
			size_t l = strlen(r.chain[i]);

			CHECK(!strncmp(r.chain[i], "-----BEGIN CERTIFICATE-----\n", 28) &&
			      !strstr(r.chain[i] + 1, "-----BEGIN"),
			      "%s: element %d is one PEM certificate", w->id, i);
			CHECK(strstr(r.chain[i], "-----END CERTIFICATE-----\n") ==
			      r.chain[i] + l - 26, "%s: element %d ends the PEM", w->id, i);
		}
		leaf = r.num_chain > 0 ? pem_cert(r.chain[0]) : NULL;
		root = r.num_chain > 1 ? pem_cert(r.chain[1]) : NULL;
		CHECK(leaf && root, "%s: PEM parses", w->id);
		if (leaf && root) {
			EVP_PKEY *k = X509_get_pubkey(root);
			int days = 0, secs = 0;

			CHECK(!strcmp(uri_san(leaf), w->san), "%s: SAN %s, want %s", w->id,
			      uri_san(leaf), w->san);
			CHECK(X509_verify(leaf, k) == 1, "%s: leaf signed by the root", w->id);
			CHECK(X509_cmp(root, ca.root) == 0, "%s: last is the root", w->id);
			CHECK(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(leaf),
					     X509_get0_notAfter(leaf)) == 1 &&
			      (int64_t)days * 86400 + secs == w->ttl_check + 120,
			      "%s: lifetime %dd %ds", w->id, days, secs);
			EVP_PKEY_free(k);
		}
		X509_free(leaf);
		X509_free(root);
		ERR_clear_error();
	}
	resp_cleanup(&r);
}

static void test_rows(void)
{
	const char *me = "spiffe://" TD "/ns/default/sa/workload";
	const struct row rows[] = {
		{ "token", { .auth = bearer }, 0, 200, 0, NULL, ST_ISSUED, true, me, 86400 },
		{ "token, ttl 1h, ClusterID, metadata",
		  { .auth = bearer, .ttl = 3600, .cluster_id = true, .metadata = true }, 0, 200, 0,
		  NULL, ST_ISSUED, true, me, 3600 },
		{ "token, grpc-timeout 10S", { .auth = bearer, .timeout = "10S" }, 0, 200, 0, NULL,
		  ST_ISSUED, true, me, 86400 },
		{ "token, lowercase scheme", { .auth = bearer_lc }, 0, 200, 0, NULL, ST_ISSUED,
		  true, me, 86400 },
		{ "peer certificate", {}, 1, 200, 0, NULL, ST_ISSUED, true,
		  "spiffe://" TD "/ns/prod/sa/renewer", 86400 },
		{ "token wins over peer", { .auth = bearer }, 1, 200, 0, NULL, ST_ISSUED, true, me,
		  86400 },
		{ "ttl 90d", { .auth = bearer, .ttl = 90 * 86400 }, 0, 200, 0, NULL, ST_ISSUED, true,
		  me, 90 * 86400 },
		// refused: authentication
		{ "no credential", {}, 0, 200, 16, "request authenticate failure: ", ST_UNAUTH, true },
		{ "garbage token", { .auth = "Bearer abc.def.ghi" }, 0, 200, 16,
		  "request authenticate failure: ", ST_UNAUTH, true },
		{ "bad signature", { .auth = bearer_bad_sig }, 0, 200, 16,
		  "request authenticate failure: ", ST_UNAUTH, true },
		{ "expired token", { .auth = bearer_short }, 0, 200, 16,
		  "request authenticate failure: ", ST_UNAUTH, true, .clock_shift = 7200 },
		{ "other trust domain's token", { .auth = bearer_other }, 0, 200, 16,
		  "request authenticate failure: ", ST_UNAUTH, true },
		{ "not a bearer token", { .auth = "Basic dXNlcjpwYXNz" }, 0, 200, 16,
		  "not a bearer token", ST_UNAUTH, true },
		// ("Bearer " itself never gets here: nghttp2 resets a stream
		// whose field value ends in whitespace, RFC 9113 §8.2.1.)
		{ "scheme only", { .auth = "Bearer" }, 0, 200, 16, "not a bearer token", ST_UNAUTH,
		  true },
		{ "two authorization fields", { .auth = bearer, .auth2 = bearer }, 0, 200, 16,
		  "more than one", ST_UNAUTH, true },
		{ "bad token, good peer", { .auth = "Bearer x.y.z" }, 1, 200, 16,
		  "request authenticate failure: ", ST_UNAUTH, true },
		{ "peer of another trust domain", {}, 2, 200, 16, "trust domain", ST_UNAUTH, true },
		{ "peer not ns/sa", {}, 3, 200, 16, "not of the form", ST_UNAUTH, true },
		// refused: the request
		{ "ttl 91d", { .auth = bearer, .ttl = 91 * 86400 }, 0, 200, 3, NULL, ST_INVALID,
		  true },
		{ "bad CSR", { .auth = bearer, .body = BODY_BAD_CSR }, 0, 200, 3, "CSR", ST_INVALID,
		  true },
		{ "garbage protobuf", { .auth = bearer, .body = BODY_GARBAGE }, 0, 200, 13,
		  "unmarshalling", ST_INVALID, true },
		{ "no message", { .auth = bearer, .body = BODY_NONE }, 0, 200, 13, "no request",
		  ST_INVALID, true },
		{ "two messages", { .auth = bearer, .body = BODY_TWO }, 0, 200, 13, "more than one",
		  ST_INVALID, true },
		{ "truncated message", { .auth = bearer, .body = BODY_TRUNCATED }, 0, 200, 13,
		  "truncated", ST_INVALID, true },
		{ "compressed", { .auth = bearer, .body = BODY_COMPRESSED }, 0, 200, 12, "compressed",
		  ST_INVALID, true },
		{ "70 KB message", { .auth = bearer, .body = BODY_HUGE }, 0, 200, 8, "larger than max",
		  ST_INVALID, true },
		// refused: routing (grpc-go's answers)
		{ "unknown method", { .auth = bearer,
		  .path = "/istio.v1.auth.IstioCertificateService/DeleteCertificate" }, 0, 200, 12,
		  "unknown method DeleteCertificate for service istio.v1.auth.IstioCertificateService",
		  ST_ERRORS, false },
		{ "unknown service", { .auth = bearer, .path = "/foo.Bar/CreateCertificate" }, 0, 200,
		  12, "unknown service foo.Bar", ST_ERRORS, false },
		{ "malformed path", { .auth = bearer, .path = "/nomethod" }, 0, 200, 12, "malformed",
		  ST_ERRORS, false },
		{ "content-type json", { .auth = bearer, .ctype = "application/json" }, 0, 415, 3,
		  "invalid gRPC request content-type \"application/json\"", ST_ERRORS, false },
		{ "method PUT", { .auth = bearer, .method = "PUT" }, 0, 405, 13, "should be POST",
		  ST_ERRORS, false },
		{ "bad grpc-timeout", { .auth = bearer, .timeout = "18f6n" }, 0, 400, 13,
		  "malformed grpc-timeout", ST_ERRORS, false },
		{ "grpc-timeout 9 digits", { .auth = bearer, .timeout = "123456789S" }, 0, 400, 13,
		  "malformed grpc-timeout", ST_ERRORS, false },
		{ "deadline already past", { .auth = bearer, .timeout = "0n" }, 0, 200, 4, NULL,
		  ST_ERRORS, false },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		run_row(&rows[i]);
}

// test_rate_limit: a bucket of 2 without refill lets two CSRs through.
static void test_rate_limit(void)
{
	struct call_opts o = { .auth = bearer };
	uint32_t rate = svc.rate_per_s, burst = svc.burst;
	uint64_t limited = svc.stats.rate_limited;
	struct resp r;

	svc.rate_per_s = 0;
	svc.burst = 2;
	svc.last_refill_ms = 0;
	for (int i = 0; i < 3; i++) {
		call(&svc, NULL, &o, &r);
		CHECK(r.grpc == (i < 2 ? 0 : 8), "call %d: grpc-status %d", i, r.grpc);
		if (i == 2)
			CHECK(strstr(r.message, "rate"), "message %s", r.message);
		resp_cleanup(&r);
	}
	CHECK(svc.stats.rate_limited == limited + 1, "rate_limited");
	// Unauthenticated calls do not spend the bucket.
	o.auth = NULL;
	call(&svc, NULL, &o, &r);
	CHECK(r.grpc == 16, "unauthenticated while limited: %d", r.grpc);
	resp_cleanup(&r);
	svc.rate_per_s = rate;
	svc.burst = burst;
	svc.last_refill_ms = 0;
}

// test_one_connection: ten calls in flight on one connection, answered in
// one pass, then a graceful shutdown.
static void test_one_connection(void)
{
	struct call_opts o = { .auth = bearer };
	struct resp r[10];
	struct buf body[10], out;
	struct client cl;
	struct ca_service_conn *c;
	int ok = 0, rc;

	buf_init(&out);
	client_init(&cl);
	c = ca_service_conn_new(&svc, NULL, &out, NULL, NULL);
	BUG_ON(!c);
	for (int i = 0; i < 10; i++)
		submit(&cl, &o, &body[i], &r[i]);
	rc = pump(&cl, c, &out);
	CHECK(rc == 0, "input %d", rc);
	for (int i = 0; i < 10; i++) {
		finish(&r[i]);
		ok += r[i].grpc == 0 && r[i].num_chain == 2;
		resp_cleanup(&r[i]);
		buf_cleanup(&body[i]);
	}
	CHECK(ok == 10, "10 calls: %d OK", ok);
	CHECK(ca_service_conn_shutdown(c) == 0, "shutdown");
	CHECK(ca_service_conn_flush(c, &out) == 0, "flush");
	rc = pump(&cl, c, &out);
	CHECK(ca_service_conn_flush(c, &out) == -ESHUTDOWN && ca_service_conn_want_close(c),
	      "closed after shutdown (%d)", rc);
	ca_service_conn_free(c);
	nghttp2_session_del(cl.s);
	buf_cleanup(&out);
}

// test_bad_preface: not HTTP/2 at all.
static void test_bad_preface(void)
{
	static const char req[] = "POST " PATH " HTTP/1.1\r\nHost: x\r\n\r\n";
	uint64_t errors = svc.stats.errors;
	struct ca_service_conn *c;
	struct buf out;

	buf_init(&out);
	c = ca_service_conn_new(&svc, NULL, &out, NULL, NULL);
	BUG_ON(!c);
	CHECK(buf_avail(&out) > 0, "server preface sent");
	CHECK(ca_service_conn_input(c, req, sizeof(req) - 1, &out) == -EPROTO, "HTTP/1.1");
	CHECK(ca_service_conn_want_close(c), "want_close");
	CHECK(svc.stats.errors == errors + 1, "counted");
	ca_service_conn_free(c);
	ca_service_conn_free(NULL);
	buf_cleanup(&out);
}

int main(void)
{
	char dir[] = "/tmp/ca_service_test.XXXXXX", dir2[] = "/tmp/ca_service_test.XXXXXX";
	char err[256], cmd[256];
	const char *why;
	EVP_PKEY *key;
	size_t l;
	int rc = 0;

	fake_now = (int64_t)time(NULL);
	if (!mkdtemp(dir) || !mkdtemp(dir2)) {
		perror("mkdtemp");
		return 1;
	}
	if (ca_open(&ca, dir, TD, true, fake_now, err, sizeof(err)) < 0 ||
	    ca_open(&ca_other, dir2, "other.example", true, fake_now, err, sizeof(err)) < 0) {
		printf("ca_open: %s\n", err);
		rc = 1;
		goto out;
	}
	ca_service_init(&svc, &ca, test_now);
	CHECK(svc.rate_per_s == 50 && svc.burst == 100, "defaults");
	BUG_ON(ca_token_make(&ca, "default", "workload", 24 * 3600, fake_now, token,
			     sizeof(token)) < 0);
	BUG_ON(ca_token_make(&ca, "default", "workload", 3600, fake_now, token_short,
			     sizeof(token_short)) < 0);
	BUG_ON(ca_token_make(&ca_other, "default", "workload", 3600, fake_now, token_other,
			     sizeof(token_other)) < 0);
	snprintf(bearer, sizeof(bearer), "Bearer %s", token);
	snprintf(bearer_short, sizeof(bearer_short), "Bearer %s", token_short);
	snprintf(bearer_lc, sizeof(bearer_lc), "bearer %s", token);
	snprintf(bearer_other, sizeof(bearer_other), "Bearer %s", token_other);
	snprintf(bearer_bad_sig, sizeof(bearer_bad_sig), "Bearer %s", token);
	l = strlen(bearer_bad_sig);
	bearer_bad_sig[l - 3] = bearer_bad_sig[l - 3] == 'A' ? 'B' : 'A';
	BUG_ON(spiffe_parse("spiffe://" TD "/ns/prod/sa/renewer", strlen("spiffe://" TD
			    "/ns/prod/sa/renewer"), &peers[1], &why) < 0);
	BUG_ON(spiffe_parse("spiffe://other.example/ns/prod/sa/renewer",
			    strlen("spiffe://other.example/ns/prod/sa/renewer"), &peers[2], &why) < 0);
	BUG_ON(spiffe_parse("spiffe://" TD "/workload/x", strlen("spiffe://" TD "/workload/x"),
			    &peers[3], &why) < 0);
	key = p256_key();
	csr = csr_pem(key);
	EVP_PKEY_free(key);

	test_rows();
	test_rate_limit();
	test_one_connection();
	test_bad_preface();

	free((char *)csr);
	ca_close(&ca);
	ca_close(&ca_other);
out:
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, dir2);
	if (system(cmd) != 0)
		printf("cleanup of %s failed\n", dir);
	printf("ca_service_test: %d checks, %d failures\n", checks, failures);
	return rc || failures ? 1 : 0;
}
