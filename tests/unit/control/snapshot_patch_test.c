// SPDX-License-Identifier: Apache-2.0
// snapshot_patch_test: endpoint-only changes (snapshot_update). For each
// row, a world is built, then changed; the snapshot that follows must be a
// patch exactly when only endpoints changed (ServiceEntry endpoints,
// WorkloadEntries, DNS answers), and either way it must serve what a full
// build of the changed world serves: the same /config_dump body, the same
// endpoints behind every service and subset, routes that reach them. Also
// istio_config_take_endpoints, the way Kubernetes endpoint bursts come in,
// with the inputs it must refuse.
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "../check.h"
#include "ca/ca.h"
#include "config/bootstrap.h"
#include "config/istio.h"
#include "control/snapshot_build.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/snapshot.h"
#include "proto/tls.h"
#include "proxy/proxy.h"

// ---- a world: one YAML whose parts a row changes ----

struct world {
	const char *reviews_ports;	// flow sequences
	const char *reviews_eps;
	const char *ratings_eps;
	const char *vm_addr;		// the WorkloadEntry's
	const char *subset;		// the VirtualService's destination subset
	const char *extra;		// one more document (or "")
};

static const struct world defaults = {
	.reviews_ports = "[{number: 9080, name: http, protocol: HTTP}]",
	.reviews_eps = "[{address: 10.0.0.1, labels: {version: v1}, serviceAccount: reviews}, "
		       "{address: 10.0.0.2, labels: {version: v2}, serviceAccount: reviews}]",
	.ratings_eps = "[{address: 10.1.0.1}]",
	.vm_addr = "10.2.0.1",
	.subset = "v1",
	.extra = "",
};

static void world_yaml(const struct world *w, struct buf *o)
{
#define F(x) (w->x ? w->x : defaults.x)
	buf_appendf(o,
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: reviews, namespace: default}\n"
		"spec:\n  hosts: [reviews.default.svc.cluster.local]\n  ports: %s\n"
		"  resolution: STATIC\n  endpoints: %s\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
		"metadata: {name: reviews, namespace: default}\n"
		"spec:\n  host: reviews\n"
		"  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: ratings, namespace: default}\n"
		"spec:\n  hosts: [ratings.example]\n"
		"  ports: [{number: 80, name: http, protocol: HTTP}]\n"
		"  resolution: STATIC\n  endpoints: %s\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
		"metadata: {name: ratings, namespace: default}\n"
		"spec:\n  host: ratings.example\n  trafficPolicy: {tls: {mode: DISABLE}}\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: vms, namespace: default}\n"
		"spec:\n  hosts: [vms.example]\n"
		"  ports: [{number: 80, name: http, protocol: HTTP, targetPort: 8080}]\n"
		"  resolution: STATIC\n  workloadSelector: {labels: {app: vm}}\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
		"metadata: {name: vm1, namespace: default}\n"
		"spec: {address: %s, labels: {app: vm, security.istio.io/tlsMode: istio}, "
		"serviceAccount: vm-sa}\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: ext, namespace: default}\n"
		"spec:\n  hosts: [ext.example]\n  ports: [{number: 443, name: tls, protocol: TLS}]\n"
		"  resolution: DNS\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: none, namespace: default}\n"
		"spec:\n  hosts: [none.example]\n  ports: [{number: 80, name: http, protocol: HTTP}]\n"
		"  resolution: NONE\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
		"metadata: {name: reviews, namespace: default}\n"
		"spec:\n  hosts: [reviews]\n"
		"  http: [{route: [{destination: {host: reviews, subset: %s}}]}]\n"
		"%s",
		F(reviews_ports), F(reviews_eps), F(ratings_eps), F(vm_addr), F(subset),
		F(extra));
#undef F
}

// ---- DNS answers for ext.example, as the control plane's resolver ----

static const char *dns_answer[SNAP_DNS_MAX_ADDRS];

static int resolve(void *arg, const char *name, struct sockaddr_storage *out, int max)
{
	int n = 0;

	(void)arg;
	if (strcmp(name, "ext.example"))
		return 0;
	for (; n < max && dns_answer[n]; n++) {
		struct sockaddr_in *in = (struct sockaddr_in *)&out[n];

		memset(&out[n], 0, sizeof(out[n]));
		in->sin_family = AF_INET;
		inet_pton(AF_INET, dns_answer[n], &in->sin_addr);
	}
	return n;
}

// ---- helpers ----

static struct bootstrap boot;

static int load(const struct world *w, struct istio_config *cfg)
{
	struct istio_error errs[8];
	struct buf y;
	int n = 0, r;

	buf_init(&y);
	world_yaml(w, &y);
	memset(cfg, 0, sizeof(*cfg));
	r = istio_load_buf("world.yaml", buf_head(&y), buf_avail(&y), cfg, errs, 8, &n);
	for (int i = 0; i < n; i++)
		printf("config: %s\n", errs[i].msg);
	buf_cleanup(&y);
	return r;
}

// body is the /config_dump of s without its version and generation.
static char *body(const struct snapshot *s)
{
	struct buf o;
	char *b, *at;

	buf_init(&o);
	snapshot_dump(s, &o);
	buf_append(&o, "", 1);
	at = strstr(buf_head(&o), "\"outbound_traffic_policy\"");
	b = strdup(at ? at : "");
	buf_cleanup(&o);
	return b;
}

// same_service_endpoints: every service and subset of a reaches the same
// endpoints (by address, weight and mTLS readiness) as b's, through
// snap_cluster_of as the data plane does.
static bool same_service_endpoints(const struct snapshot *a, const struct snapshot *b)
{
	if (a->num_services != b->num_services)
		return false;
	for (uint32_t i = 0; i < a->num_services; i++) {
		const struct snap_service *x = &a->services[i], *y = &b->services[i];

		if (strcmp(x->host, y->host) || x->num_ports != y->num_ports ||
		    x->num_subsets != y->num_subsets)
			return false;
		for (uint32_t p = 0; p < x->num_ports; p++) {
			for (uint32_t k = 0; k <= x->num_subsets; k++) {
				const struct snap_cluster *cx = snap_cluster_of(a, k ?
					x->subsets[k - 1].port_clusters[p] : x->port_clusters[p]);
				const struct snap_cluster *cy = snap_cluster_of(b, k ?
					y->subsets[k - 1].port_clusters[p] : y->port_clusters[p]);

				if (cx->num_eps != cy->num_eps || cx->tls_auto != cy->tls_auto ||
				    cx->num_sans != cy->num_sans || (!cx->tls) != (!cy->tls))
					return false;
				for (uint32_t e = 0; e < cx->num_eps; e++)
					if (strcmp(cx->eps[e].addr_str, cy->eps[e].addr_str) ||
					    cx->eps[e].weight != cy->eps[e].weight ||
					    cx->eps[e].mtls_ready != cy->eps[e].mtls_ready)
						return false;
				for (uint32_t n = 0; n < cx->num_sans; n++)
					if (strcmp(cx->sans[n], cy->sans[n]))
						return false;
			}
		}
	}
	return true;
}

// ---- the rows ----

struct row {
	const char *name;
	struct world before, after;
	const char *dns_before[3], *dns_after[3];
	bool new_identity;	// the certificates rotate too
	bool patch;		// the change must be applied as a patch
	const char *route_to;	// after: the reviews route reaches this endpoint
};

static const struct row rows[] = {
	{ "one endpoint moves",
	  {0}, { .reviews_eps = "[{address: 10.0.0.9, labels: {version: v1}, serviceAccount: reviews}, "
				"{address: 10.0.0.2, labels: {version: v2}, serviceAccount: reviews}]" },
	  { 0 }, { 0 }, false, true, "10.0.0.9:9080" },
	{ "an endpoint added, one removed",
	  {0}, { .reviews_eps = "[{address: 10.0.0.2, labels: {version: v2}, serviceAccount: reviews}, "
				"{address: 10.0.0.3, labels: {version: v1}, serviceAccount: reviews}]" },
	  { 0 }, { 0 }, false, true, "10.0.0.3:9080" },
	{ "a pod's label moves it from subset v1 to v2",
	  {0}, { .reviews_eps = "[{address: 10.0.0.1, labels: {version: v2}, serviceAccount: reviews}, "
				"{address: 10.0.0.2, labels: {version: v2}, serviceAccount: reviews}]" },
	  { 0 }, { 0 }, false, true, NULL },
	{ "endpoints join the mesh: auto mTLS turns on, with their service account",
	  {0}, { .reviews_eps = "[{address: 10.0.0.1, labels: {version: v1, "
				"security.istio.io/tlsMode: istio}, serviceAccount: reviews-v1}, "
				"{address: 10.0.0.2, labels: {version: v2}, serviceAccount: reviews}]" },
	  { 0 }, { 0 }, false, true, "10.0.0.1:9080" },
	{ "endpoints leave the mesh: auto mTLS turns off",
	  { .reviews_eps = "[{address: 10.0.0.1, labels: {version: v1, "
			   "security.istio.io/tlsMode: istio}, serviceAccount: reviews}]" },
	  { .reviews_eps = "[{address: 10.0.0.1, labels: {version: v1}, serviceAccount: reviews}]" },
	  { 0 }, { 0 }, false, true, "10.0.0.1:9080" },
	{ "a rule's TLS (DISABLE) stays while its endpoints change",
	  {0}, { .ratings_eps = "[{address: 10.1.0.1, labels: {security.istio.io/tlsMode: istio}}, "
				"{address: 10.1.0.2}]" },
	  { 0 }, { 0 }, false, true, NULL },
	{ "a WorkloadEntry moves",
	  {0}, { .vm_addr = "10.2.0.7" }, { 0 }, { 0 }, false, true, NULL },
	{ "every endpoint goes",
	  {0}, { .ratings_eps = "[]" }, { 0 }, { 0 }, false, true, NULL },
	{ "a DNS answer changes",
	  {0}, {0}, { "10.9.0.1" }, { "10.9.0.2", "10.9.0.3" }, false, true, NULL },
	{ "nothing changes",
	  {0}, {0}, { "10.9.0.1" }, { "10.9.0.1" }, false, true, NULL },
	// not endpoint-only: a full build
	{ "a port is added",
	  {0}, { .reviews_ports = "[{number: 9080, name: http, protocol: HTTP}, "
				  "{number: 9081, name: http-alt, protocol: HTTP}]" },
	  { 0 }, { 0 }, false, false, NULL },
	{ "a route changes",
	  {0}, { .subset = "v2" }, { 0 }, { 0 }, false, false, "10.0.0.2:9080" },
	{ "a resource is added",
	  {0}, { .extra = "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
			  "metadata: {name: more, namespace: default}\n"
			  "spec:\n  hosts: [more.example]\n  ports: [{number: 80, name: http}]\n"
			  "  resolution: STATIC\n  endpoints: [{address: 10.8.0.1}]\n" },
	  { 0 }, { 0 }, false, false, NULL },
	{ "the certificates rotate with an endpoint change",
	  {0}, { .ratings_eps = "[{address: 10.1.0.5}]" }, { 0 }, { 0 }, true, false, NULL },
};

static struct tls_identity *ids[2];
static struct tls_bundle *bundle;

static void run_row(const struct row *r)
{
	struct istio_config c1, c2;
	struct snap_secrets s1 = { ids[0], bundle, resolve, NULL };
	struct snap_secrets s2 = { r->new_identity ? ids[1] : ids[0], bundle, resolve, NULL };
	struct snapshot *prev, *next, *full;
	struct route_result rr;
	char err[256];
	char *bn, *bf;

	if (load(&r->before, &c1) < 0 || load(&r->after, &c2) < 0) {
		CHECK(false, "%s: the worlds load", r->name);
		return;
	}
	memcpy(dns_answer, r->dns_before, sizeof(r->dns_before));
	prev = snapshot_build(&boot, &c1, &s1, err, sizeof(err));
	CHECK(prev != NULL, "%s: build: %s", r->name, err);
	memcpy(dns_answer, r->dns_after, sizeof(r->dns_after));
	next = prev ? snapshot_update(prev, &boot, &c2, &s2, err, sizeof(err)) : NULL;
	full = snapshot_build(&boot, &c2, &s2, err, sizeof(err));
	CHECK(next && full, "%s: update and full build: %s", r->name, err);
	if (next && full) {
		CHECK(!!next->base == r->patch, "%s: %s, want %s", r->name,
		      next->base ? "patched" : "built in full", r->patch ? "a patch" : "a full build");
		bn = body(next);
		bf = body(full);
		CHECK(!strcmp(bn, bf), "%s: the update serves what a full build does:\n%s\n%s",
		      r->name, bn, bf);
		free(bn);
		free(bf);
		CHECK(same_service_endpoints(next, full), "%s: services reach the same endpoints",
		      r->name);
		if (!strcmp(r->name, "nothing changes"))
			CHECK(next->version == prev->version, "%s: same version", r->name);
		else
			CHECK(next->version != prev->version, "%s: a new version", r->name);
		if (r->route_to) {
			route_request(next, "reviews.default.svc.cluster.local", 33, 0, 9080, "/", 1,
				      0, &rr);
			CHECK(rr.kind == ROUTE_CLUSTER && rr.cluster && rr.cluster->num_eps &&
			      !strcmp(rr.cluster->eps[0].addr_str, r->route_to),
			      "%s: the route reaches %s, got %s", r->name, r->route_to,
			      rr.cluster && rr.cluster->num_eps ? rr.cluster->eps[0].addr_str : "none");
		}
	}
	// the patch outlives what it was patched from, as on a worker
	snapshot_unref(prev);
	snapshot_unref(next);
	snapshot_unref(full);
	istio_config_free(&c1);
	istio_config_free(&c2);
}

// patches pile up on one base: each starts from it, none from another
// patch, and the result still equals a full build
static void run_sequence(void)
{
	static const char *const eps[] = {
		"[{address: 10.0.0.1, labels: {version: v1}, serviceAccount: reviews}]",
		"[{address: 10.0.0.5, labels: {version: v1}, serviceAccount: reviews}]",
		"[{address: 10.0.0.1, labels: {version: v1}, serviceAccount: reviews}]",
	};
	static const char *const ratings[] = { "[{address: 10.1.0.1}]", "[{address: 10.1.0.1}]",
					       "[{address: 10.1.0.6}]" };
	struct snap_secrets sec = { ids[0], bundle, resolve, NULL };
	struct istio_config cfg[3];
	struct snapshot *s, *full;
	char err[256];

	memset(dns_answer, 0, sizeof(dns_answer));
	for (int i = 0; i < 3; i++) {
		struct world w = { .reviews_eps = eps[i], .ratings_eps = ratings[i] };

		if (load(&w, &cfg[i]) < 0) {
			CHECK(false, "sequence: world %d loads", i);
			return;
		}
	}
	s = snapshot_build(&boot, &cfg[0], &sec, err, sizeof(err));
	for (int i = 1; s && i < 3; i++) {
		struct snapshot *n = snapshot_update(s, &boot, &cfg[i], &sec, err, sizeof(err));
		char *bn, *bf;

		full = snapshot_build(&boot, &cfg[i], &sec, err, sizeof(err));
		CHECK(n && full && n->base && !n->base->base, "sequence %d: a patch on the base", i);
		if (n && full) {
			bn = body(n);
			bf = body(full);
			CHECK(!strcmp(bn, bf), "sequence %d: equals a full build", i);
			free(bn);
			free(bf);
		}
		snapshot_unref(full);
		snapshot_unref(s);
		s = n;
	}
	snapshot_unref(s);
	for (int i = 0; i < 3; i++)
		istio_config_free(&cfg[i]);
}

// ---- istio_config_take_endpoints ----

static void run_take(void)
{
	struct istio_config cfg, part;
	struct istio_error errs[4];
	struct buf y;
	int n = 0;
	static const char se_head[] =
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: reviews, namespace: default}\n"
		"spec:\n  hosts: [reviews.default.svc.cluster.local]\n";
	static const struct {
		const char *name, *yaml, *file;
		int want;
	} cases[] = {
		{ "other endpoints", "  ports: [{number: 9080, name: http, protocol: HTTP}]\n"
		  "  resolution: STATIC\n  endpoints: [{address: 10.0.0.7}]\n", "world.yaml", 1 },
		{ "the same endpoints", "  ports: [{number: 9080, name: http, protocol: HTTP}]\n"
		  "  resolution: STATIC\n  endpoints: %s\n", "world.yaml", 0 },
		{ "a port changed too", "  ports: [{number: 9081, name: http, protocol: HTTP}]\n"
		  "  resolution: STATIC\n  endpoints: [{address: 10.0.0.7}]\n", "world.yaml", -ESRCH },
		{ "from another source", "  ports: [{number: 9080, name: http, protocol: HTTP}]\n"
		  "  resolution: STATIC\n  endpoints: [{address: 10.0.0.7}]\n", "other.yaml", -ESRCH },
		{ "not a ServiceEntry", NULL, "world.yaml", -ESRCH },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		if (load(&defaults, &cfg) < 0) {
			CHECK(false, "take: the world loads");
			return;
		}
		buf_init(&y);
		if (cases[i].yaml) {
			buf_appends(&y, se_head);
			buf_appendf(&y, cases[i].yaml, defaults.reviews_eps);
		} else {
			buf_appends(&y, "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
				    "metadata: {name: reviews, namespace: default}\n"
				    "spec:\n  hosts: [reviews]\n"
				    "  http: [{route: [{destination: {host: reviews}}]}]\n");
		}
		memset(&part, 0, sizeof(part));
		r = istio_load_buf(cases[i].file, buf_head(&y), buf_avail(&y), &part, errs, 4, &n);
		CHECK(r == 0, "take %s: loads: %s", cases[i].name, n ? errs[0].msg : "");
		r = istio_config_take_endpoints(&cfg, &part);
		CHECK(r == cases[i].want, "take %s: %d, want %d", cases[i].name, r, cases[i].want);
		{
			size_t bytes, own;
			int taken = istio_config_taken(&cfg, &bytes, &own);

			CHECK(taken == (r >= 0) && (bytes > 0) == (r >= 0) && own > 0,
			      "take %s: taken %d (%zu bytes, own %zu)", cases[i].name, taken, bytes,
			      own);
		}
		CHECK(!strcmp(cfg.service_entries[0].endpoints[0].address,
			      cases[i].want == 1 ? "10.0.0.7" : "10.0.0.1"),
		      "take %s: endpoint %s", cases[i].name, cfg.service_entries[0].endpoints[0].address);
		if (r == 1) {
			// the configuration with what it took builds as a patch
			struct snap_secrets sec = { ids[0], bundle, resolve, NULL };
			struct istio_config before;
			struct snapshot *prev, *next;
			char err[256];

			if (load(&defaults, &before) == 0) {
				prev = snapshot_build(&boot, &before, &sec, err, sizeof(err));
				next = prev ? snapshot_update(prev, &boot, &cfg, &sec, err, sizeof(err))
					    : NULL;
				CHECK(next && next->base, "take: the taken endpoints build as a patch");
				snapshot_unref(prev);
				snapshot_unref(next);
				istio_config_free(&before);
			}
		}
		istio_config_free(&part);
		istio_config_free(&cfg);
		buf_cleanup(&y);
	}
}

// ---- certificates for auto mTLS ----

static int make_identities(char *dir)
{
	struct ca ca;
	char err[256];
	int64_t now = 1700000000;

	if (!mkdtemp(dir))
		return -errno;
	if (ca_open(&ca, dir, "cluster.local", true, now, err, sizeof(err)) < 0) {
		printf("ca_open: %s\n", err);
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		X509 *cert = NULL;
		EVP_PKEY *key = NULL;
		STACK_OF(X509) *chain = sk_X509_new_null();

		if (!chain || ca_issue_keypair(&ca, "default", "meshgate", 3600, now, &cert, &key, err,
					       sizeof(err)) < 0) {
			printf("issue: %s\n", err);
			return -1;
		}
		ca_sent_chain(&ca, chain);
		ids[i] = tls_identity_new(cert, key, chain);
		sk_X509_free(chain);
		X509_free(cert);
		EVP_PKEY_free(key);
	}
	bundle = tls_bundle_new("cluster.local", buf_head(&ca.bundle_pem), buf_avail(&ca.bundle_pem));
	ca_close(&ca);
	return ids[0] && ids[1] && bundle ? 0 : -1;
}

int main(void)
{
	char dir[] = "/tmp/snapshot_patch_test.XXXXXX", cmd[64];

	log_level_max = LOG_ERR;
	bootstrap_default(&boot);
	if (make_identities(dir) < 0) {
		printf("FAIL: no certificates\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
	run_sequence();
	run_take();
	tls_identity_unref(ids[0]);
	tls_identity_unref(ids[1]);
	tls_bundle_unref(bundle);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("note: %s not removed\n", dir);
	printf("snapshot_patch_test: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
