// SPDX-License-Identifier: Apache-2.0
// admin.c: a small HTTP/1.1 server for operators and scrapers: /ready,
// /config_dump, /registry, /syncz, /listeners, /certs, /server_info,
// /clusters, /stats, /stats/prometheus, /healthz/ready. Requests are parsed
// with the data plane's strict parser.
#include "admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca/ca.h"
#include "config/istio.h"
#include "control/control.h"
#include "control/kube.h"
#include "control/snapshot_build.h"
#include "core/bug.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/log.h"
#include "kernel-bypass/sock.h"
#include "proto/h1.h"
#include "proto/tls.h"
#include "proxy/proxy.h"
#include "telemetry/metrics.h"

enum { ADMIN_SERVER_ADMIN = 0, ADMIN_SERVER_HEALTH, ADMIN_SERVER_PROM, ADMIN_NUM_SERVERS };
enum { ADMIN_TIMEOUT_MS = 30000 };

struct admin_server {
	struct sock_listener sl;	// first
	struct control *ctl;
	int kind;
};

struct aconn {
	struct sock s;			// first
	struct admin_server *srv;
	struct buf in;
	size_t scanned;
	struct ring_timer timer;
	bool closing;
};

static struct admin_server g_servers[ADMIN_NUM_SERVERS];
static struct h1_msg g_msg;

static void respond(struct aconn *a, int status, const char *ctype, const char *body,
		    size_t len, bool keep)
{
	struct buf *o = sock_out(&a->s);

	buf_appendf(o, "HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %zu\r\n%s\r\n",
		    status, h1_status_reason(status), ctype, len, keep ? "" : "connection: close\r\n");
	buf_append(o, body, len);
	sock_flush(&a->s);
}

// applied_generation is the snapshot generation every worker has switched
// to (the oldest any worker runs on): publish-to-data-plane convergence.
static uint64_t applied_generation(const struct control *ctl)
{
	uint64_t min = UINT64_MAX;

	for (int i = 0; i < ctl->num_workers; i++) {
		uint64_t g = __atomic_load_n(&ctl->workers[i].seen_gen, __ATOMIC_ACQUIRE);

		min = g < min ? g : min;
	}
	return min == UINT64_MAX ? 0 : min;
}

static void endpoints_json(struct buf *o, const struct snap_cluster *c)
{
	buf_appends(o, "[");
	for (uint32_t e = 0; e < c->num_eps; e++) {
		buf_appends(o, e ? ",{\"address\":" : "{\"address\":");
		json_append_cstr(o, c->eps[e].addr_str);
		buf_appendf(o, ",\"weight\":%u,\"tls_mode\":\"%s\",\"source\":", c->eps[e].weight,
			    c->eps[e].mtls_ready ? "istio" : "disabled");
		json_append_cstr(o, c->eps[e].source ? c->eps[e].source : "inline");
		buf_appends(o, "}");
	}
	buf_appends(o, "]");
}

// registry_json is /registry: every service of the serving snapshot with
// its ports, clusters, subsets and endpoints and where each came from, then
// the DNS names and their answers.
static void registry_json(struct control *ctl, struct buf *o)
{
	const struct snapshot *s = ctl->global;
	char ip[INET6_ADDRSTRLEN];

	buf_appendf(o, "{\"generation\":%llu,\"services\":[", (unsigned long long)s->gen);
	for (uint32_t i = 0; i < s->num_services; i++) {
		const struct snap_service *sv = &s->services[i];

		buf_appends(o, i ? ",{\"host\":" : "{\"host\":");
		json_append_cstr(o, sv->host);
		buf_appends(o, ",\"namespace\":");
		json_append_cstr(o, sv->namespace_);
		buf_appends(o, ",\"source\":");
		json_append_cstr(o, sv->source);
		buf_appends(o, ",\"ports\":[");
		for (uint32_t p = 0; p < sv->num_ports; p++) {
			buf_appendf(o, "%s{\"port\":%u,\"cluster\":", p ? "," : "", sv->ports[p]);
			json_append_cstr(o, sv->port_clusters[p]->name);
			buf_appends(o, ",\"endpoints\":");
			endpoints_json(o, snap_cluster_of(s, sv->port_clusters[p]));
			buf_appends(o, "}");
		}
		buf_appends(o, "],\"subsets\":[");
		for (uint32_t k = 0; k < sv->num_subsets; k++) {
			buf_appends(o, k ? ",{\"name\":" : "{\"name\":");
			json_append_cstr(o, sv->subsets[k].name);
			buf_appends(o, ",\"ports\":[");
			for (uint32_t p = 0; p < sv->num_ports; p++) {
				buf_appendf(o, "%s{\"port\":%u,\"cluster\":", p ? "," : "", sv->ports[p]);
				json_append_cstr(o, sv->subsets[k].port_clusters[p]->name);
				buf_appends(o, ",\"endpoints\":");
				endpoints_json(o, snap_cluster_of(s, sv->subsets[k].port_clusters[p]));
				buf_appends(o, "}");
			}
			buf_appends(o, "]}");
		}
		buf_appends(o, "]}");
	}
	buf_appends(o, "],\"dns\":[");
	for (uint32_t i = 0; i < ctl->dns.num; i++) {
		const struct dns_name *n = &ctl->dns.names[i];

		buf_appends(o, i ? ",{\"name\":" : "{\"name\":");
		json_append_cstr(o, n->name);
		buf_appendf(o, ",\"wanted\":%s,\"answered\":%s,\"failures\":%u,\"last_error\":",
			    n->wanted ? "true" : "false", n->answered ? "true" : "false", n->failures);
		json_append_cstr(o, n->last_error[0] ? n->last_error : NULL);
		buf_appends(o, ",\"addresses\":[");
		for (int k = 0; k < n->num_addrs; k++) {
			const struct sockaddr_storage *a = &n->addrs[k];

			if (a->ss_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, ip, sizeof(ip));
			else
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, ip, sizeof(ip));
			buf_appendf(o, "%s\"%s\"", k ? "," : "", ip);
		}
		buf_appends(o, "]}");
	}
	buf_appends(o, "]}");
}

struct res_dump {
	struct buf *o;
	const struct istio_sources *files;
	uint64_t *hashes;	// files->v[i]'s content hash (NULL: out of memory)
	int n;
};

static void res_one(void *arg, const struct istio_meta *m)
{
	struct res_dump *d = arg;
	const char *rv = strstr(m->file, " resourceVersion ");
	char ver[32] = "";

	if (rv) {
		snprintf(ver, sizeof(ver), "%s", rv + 17);
	} else {
		// a file's version: the hash of the bytes it was loaded from
		for (int i = 0; d->hashes && i < d->files->num; i++) {
			if (!strcmp(d->files->v[i].name, m->file)) {
				snprintf(ver, sizeof(ver), "%016llx", (unsigned long long)d->hashes[i]);
				break;
			}
		}
	}
	buf_appends(d->o, d->n++ ? ",{\"kind\":" : "{\"kind\":");
	json_append_cstr(d->o, m->kind);
	buf_appends(d->o, ",\"namespace\":");
	json_append_cstr(d->o, m->namespace_);
	buf_appends(d->o, ",\"name\":");
	json_append_cstr(d->o, m->name);
	buf_appends(d->o, ",\"source\":");
	json_append_str(d->o, m->file, rv ? (size_t)(rv - m->file) : strlen(m->file));
	if (!rv)
		buf_appendf(d->o, ",\"line\":%d", m->line);
	buf_appends(d->o, ",\"version\":");
	json_append_cstr(d->o, ver[0] ? ver : NULL);
	buf_appends(d->o, "}");
}

// resources_json adds "resources" to the dump: every Istio resource of the
// configuration serving, with where it came from and its version.
static void resources_json(struct control *ctl, struct buf *o)
{
	struct res_dump d = { o, &ctl->sources, NULL, 0 };

	while (buf_avail(o) && o->data[o->len - 1] == '\n')
		o->len--;
	if (!buf_avail(o) || o->data[o->len - 1] != '}' || !ctl->have_cfg)
		return;
	o->len--;
	// each file hashed once, not once per resource it holds
	if ((d.hashes = calloc((size_t)ctl->sources.num + 1, sizeof(*d.hashes))))
		for (int i = 0; i < ctl->sources.num; i++)
			d.hashes[i] = hash64(ctl->sources.v[i].data, ctl->sources.v[i].len);
	buf_appends(o, ",\"resources\":[");
	istio_config_each(&ctl->cfg, res_one, &d);
	buf_appends(o, "]}\n");
	free(d.hashes);
}

// syncz_json is /syncz: each configuration source, the version it last
// applied and whether the data plane runs it (SYNCED) or a change was
// refused (ERROR, with the reason) or workers are still switching (STALE).
static void syncz_json(struct control *ctl, struct buf *o)
{
	uint64_t applied = applied_generation(ctl);
	const char *state = ctl->last_error[0] ? "ERROR" : applied >= ctl->global->gen ? "SYNCED" : "STALE";
	uint32_t unanswered = 0, failing = 0;

	for (uint32_t i = 0; i < ctl->dns.num; i++) {
		unanswered += ctl->dns.names[i].wanted && !ctl->dns.names[i].answered;
		failing += ctl->dns.names[i].wanted && ctl->dns.names[i].failures > 0;
	}
	buf_appends(o, "{\"sources\":[{\"source\":\"file\",\"path\":");
	json_append_cstr(o, ctl->boot->config_dir);
	buf_appendf(o, ",\"status\":\"%s\",\"version\":\"%016llx\",\"generation\":%llu,"
		    "\"applied_generation\":%llu,\"reloads\":%llu,\"errors\":%llu,\"last_error\":",
		    state, (unsigned long long)ctl->global->version,
		    (unsigned long long)ctl->global->gen, (unsigned long long)applied,
		    (unsigned long long)ctl->reloads, (unsigned long long)ctl->reload_errors);
	json_append_cstr(o, ctl->last_error[0] ? ctl->last_error : NULL);
	buf_appendf(o, "},{\"source\":\"dns\",\"status\":\"%s\",\"names\":%u,\"unanswered\":%u,"
		    "\"failing\":%u}", !ctl->dns.started ? "OFF" : unanswered || failing ? "STALE" :
		    "SYNCED", ctl->dns.num, unanswered, failing);
	kube_syncz(ctl->kube, o);
	buf_appends(o, "]}");
}

// listeners_json is /listeners: each listener's name with the address and
// port it is bound to (what /config_dump leaves out), as Envoy's /listeners.
static void listeners_json(struct control *ctl, struct buf *o)
{
	const struct snapshot *s = ctl->global;
	char ip[INET6_ADDRSTRLEN];

	buf_appends(o, "{\"listeners\":[");
	for (uint32_t i = 0; i < s->num_listeners; i++) {
		const struct snap_listener *l = &s->listeners[i];

		ip[0] = '\0';
		if (l->addr.ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)&l->addr)->sin_addr, ip,
				  sizeof(ip));
		else if (l->addr.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&l->addr)->sin6_addr, ip,
				  sizeof(ip));
		buf_appends(o, i ? ",{\"name\":" : "{\"name\":");
		json_append_cstr(o, l->name);
		buf_appendf(o, ",\"address\":\"%s\",\"port\":%u}", ip, l->port);
	}
	buf_appends(o, "]}");
}

// certs_json is /certs: the workload certificate ("default": leaf first,
// then the authority's chain up to its root) and the mesh trust bundle
// ("ROOTCA"), as PEM, with the SPIFFE ID and validity the appliance holds.
static void certs_json(struct control *ctl, struct buf *o)
{
	const struct tls_identity *id = ctl->identity;
	struct buf pem;
	bool first = true;

	buf_init(&pem);
	buf_appends(o, "{\"certificates\":[");
	if (id && ctl->ca_ok && ca_chain_pem(&ctl->ca, id->cert, &pem) == 0) {
		buf_appends(o, "{\"name\":\"default\",\"type\":\"Cert Chain\",\"spiffe\":");
		json_append_cstr(o, id->spiffe);
		buf_appendf(o, ",\"not_before\":%lld,\"not_after\":%lld,\"pem\":",
			    (long long)id->not_before, (long long)id->not_after);
		json_append_str(o, buf_head(&pem), buf_avail(&pem));
		buf_appends(o, "}");
		first = false;
	}
	if (ctl->bundle) {
		buf_appends(o, first ? "{\"name\":\"ROOTCA\",\"type\":\"CA\",\"trust_domain\":" :
			    ",{\"name\":\"ROOTCA\",\"type\":\"CA\",\"trust_domain\":");
		json_append_cstr(o, ctl->boot->trust_domain);
		buf_appends(o, ",\"pem\":");
		json_append_str(o, buf_head(&ctl->bundle->pem), buf_avail(&ctl->bundle->pem));
		buf_appends(o, "}");
	}
	buf_appends(o, "]}");
	buf_cleanup(&pem);
}

// server_info_json is /server_info: which appliance this is, its version
// and state, for `meshgate proxy-status`.
static void server_info_json(struct control *ctl, struct buf *o)
{
	const struct bootstrap *b = ctl->boot;

	buf_appends(o, "{\"name\":");
	json_append_cstr(o, b->name);
	buf_appends(o, ",\"namespace\":");
	json_append_cstr(o, b->namespace_);
	buf_appends(o, ",\"service_account\":");
	json_append_cstr(o, b->service_account);
	buf_appends(o, ",\"trust_domain\":");
	json_append_cstr(o, b->trust_domain);
	buf_appends(o, ",\"version\":");
	json_append_cstr(o, MESHGATE_VERSION);
	buf_appendf(o, ",\"state\":\"%s\",\"uptime_s\":%llu,\"workers\":%d,"
		    "\"config_version\":\"%016llx\"}", ctl->draining ? "DRAINING" : "LIVE",
		    (unsigned long long)((ctl->ring.now_ms - ctl->started_ms) / 1000),
		    ctl->num_workers, (unsigned long long)ctl->global->version);
}

static void clusters_text(struct control *ctl, struct buf *o)
{
	const struct snapshot *s = ctl->global;

	for (uint32_t c = 0; c < s->num_clusters; c++) {
		const struct snap_cluster *cl = s->clusters[c];

		for (uint32_t e = 0; e < cl->num_eps; e++) {
			const struct snap_endpoint *ep = &cl->eps[e];
			uint64_t rq = 0, cx = 0, fail = 0, active = 0, idle = 0;

			for (int w = 0; w < ctl->num_workers; w++) {
				const struct ep_state *st = ep_state_find(&ctl->workers[w], ep);

				if (!st)
					continue;
				rq += __atomic_load_n(&st->rq_total, __ATOMIC_RELAXED);
				cx += __atomic_load_n(&st->cx_total, __ATOMIC_RELAXED);
				fail += __atomic_load_n(&st->cx_connect_fail, __ATOMIC_RELAXED);
				active += __atomic_load_n(&st->active_rq, __ATOMIC_RELAXED);
				idle += __atomic_load_n(&st->num_idle, __ATOMIC_RELAXED);
			}
			buf_appendf(o, "%s::%s::rq_total::%llu\n%s::%s::rq_active::%llu\n"
				    "%s::%s::cx_total::%llu\n%s::%s::cx_connect_fail::%llu\n"
				    "%s::%s::cx_idle::%llu\n%s::%s::weight::%u\n",
				    cl->name, ep->addr_str, (unsigned long long)rq,
				    cl->name, ep->addr_str, (unsigned long long)active,
				    cl->name, ep->addr_str, (unsigned long long)cx,
				    cl->name, ep->addr_str, (unsigned long long)fail,
				    cl->name, ep->addr_str, (unsigned long long)idle,
				    cl->name, ep->addr_str, ep->weight);
		}
	}
}

// security_prometheus renders the CA service, TLS and identity counters.
static void security_prometheus(const struct control *ctl, struct buf *o)
{
	const struct ca_service_stats *cs = &ctl->ca_svc.stats;
	struct tls_stats ts;

	tls_stats_get(&ts);
	buf_appendf(o, "# TYPE meshgate_ca_requests_total counter\n"
		    "meshgate_ca_requests_total{result=\"issued\"} %llu\n"
		    "meshgate_ca_requests_total{result=\"unauthenticated\"} %llu\n"
		    "meshgate_ca_requests_total{result=\"invalid\"} %llu\n"
		    "meshgate_ca_requests_total{result=\"rate_limited\"} %llu\n"
		    "meshgate_ca_requests_total{result=\"error\"} %llu\n"
		    "# TYPE meshgate_tls_handshakes_total counter\n"
		    "meshgate_tls_handshakes_total %llu\n"
		    "# TYPE meshgate_tls_handshake_errors_total counter\n"
		    "meshgate_tls_handshake_errors_total %llu\n"
		    "# TYPE meshgate_tls_resumed_total counter\nmeshgate_tls_resumed_total %llu\n"
		    "# TYPE meshgate_tls_peer_verify_failed_total counter\n"
		    "meshgate_tls_peer_verify_failed_total %llu\n"
		    "# TYPE meshgate_tls_peer_no_certificate_total counter\n"
		    "meshgate_tls_peer_no_certificate_total %llu\n"
		    "# TYPE meshgate_identity_rotations_total counter\n"
		    "meshgate_identity_rotations_total %llu\n"
		    "# TYPE meshgate_identity_rotation_errors_total counter\n"
		    "meshgate_identity_rotation_errors_total %llu\n"
		    "# TYPE meshgate_ca_reloads_total counter\nmeshgate_ca_reloads_total %llu\n"
		    "# TYPE meshgate_ca_reload_errors_total counter\n"
		    "meshgate_ca_reload_errors_total %llu\n"
		    "# TYPE meshgate_identity_expiry_timestamp_seconds gauge\n"
		    "meshgate_identity_expiry_timestamp_seconds %lld\n",
		    (unsigned long long)cs->issued, (unsigned long long)cs->unauthenticated,
		    (unsigned long long)cs->invalid, (unsigned long long)cs->rate_limited,
		    (unsigned long long)cs->errors, (unsigned long long)ts.handshakes,
		    (unsigned long long)ts.handshake_errors, (unsigned long long)ts.resumed,
		    (unsigned long long)ts.verify_failed, (unsigned long long)ts.no_cert,
		    (unsigned long long)ctl->rotations, (unsigned long long)ctl->rotation_errors,
		    (unsigned long long)ctl->ca_reloads, (unsigned long long)ctl->ca_reload_errors,
		    (long long)(ctl->identity ? ctl->identity->not_after : 0));
}

static void security_stats(const struct control *ctl, struct buf *o)
{
	const struct ca_service_stats *cs = &ctl->ca_svc.stats;
	struct tls_stats ts;

	tls_stats_get(&ts);
	buf_appendf(o, "identity.spiffe: %s\nidentity.not_after: %lld\n"
		    "identity.rotations: %llu\nidentity.rotation_errors: %llu\n"
		    "ca.reloads: %llu\nca.reload_errors: %llu\n"
		    "ca.requests: %llu\nca.issued: %llu\nca.unauthenticated: %llu\n"
		    "ca.invalid: %llu\nca.rate_limited: %llu\nca.errors: %llu\n"
		    "tls.handshakes: %llu\ntls.handshake_errors: %llu\ntls.resumed: %llu\n"
		    "tls.verify_failed: %llu\ntls.no_cert: %llu\n",
		    ctl->identity ? ctl->identity->spiffe : "",
		    (long long)(ctl->identity ? ctl->identity->not_after : 0),
		    (unsigned long long)ctl->rotations, (unsigned long long)ctl->rotation_errors,
		    (unsigned long long)ctl->ca_reloads, (unsigned long long)ctl->ca_reload_errors,
		    (unsigned long long)cs->requests, (unsigned long long)cs->issued,
		    (unsigned long long)cs->unauthenticated, (unsigned long long)cs->invalid,
		    (unsigned long long)cs->rate_limited, (unsigned long long)cs->errors,
		    (unsigned long long)ts.handshakes, (unsigned long long)ts.handshake_errors,
		    (unsigned long long)ts.resumed, (unsigned long long)ts.verify_failed,
		    (unsigned long long)ts.no_cert);
}

static void handle(struct aconn *a, const struct h1_msg *m, bool keep)
{
	struct control *ctl = a->srv->ctl;
	struct metrics *stores[256];
	int n = ctl->num_workers < 256 ? ctl->num_workers : 256;
	struct buf body;
	const char *path = m->path.p;
	size_t plen = m->path.len;
	const char *q = memchr(path, '?', plen);
	int kind = a->srv->kind;

	if (q)
		plen = (size_t)(q - path);
	for (int i = 0; i < n; i++)
		stores[i] = ctl->workers[i].metrics;
	buf_init(&body);
#define IS(lit) (plen == sizeof(lit) - 1 && !memcmp(path, lit, plen))
	if (!h1_str_ieq(m->method, "GET") && !h1_str_ieq(m->method, "HEAD")) {
		respond(a, 405, "text/plain", "method not allowed\n", 19, keep);
	} else if (kind == ADMIN_SERVER_HEALTH && IS("/healthz/ready")) {
		if (ctl->draining)
			respond(a, 503, "text/plain", "draining\n", 9, keep);
		else if (ctl->identity_deferred)
			respond(a, 503, "text/plain", "kubernetes: the authority waits for the istio "
				"ConfigMap\n", 56, keep);
		else if (!ctl->identity)
			respond(a, 503, "text/plain", "no workload certificate\n", 24, keep);
		else if (!ctl->synced_once && (!ctl->kube_ready_gen ||
					       applied_generation(ctl) < ctl->kube_ready_gen))
			respond(a, 503, "text/plain", "kubernetes: first lists pending\n", 32, keep);
		else if (!ctl->synced_once && dns_first_sync_pending(&ctl->dns))
			respond(a, 503, "text/plain", "dns: first lookups pending\n", 27, keep);
		else if (!ctl->synced_once && !applied_generation(ctl))
			respond(a, 503, "text/plain", "workers not started\n", 20, keep);
		else {
			ctl->synced_once = true;	// later changes do not flap readiness
			respond(a, 200, "text/plain", "", 0, keep);
		}
	} else if ((kind == ADMIN_SERVER_PROM || kind == ADMIN_SERVER_ADMIN) &&
		   IS("/stats/prometheus")) {
		metrics_render_prometheus(&body, stores, n);
		security_prometheus(ctl, &body);
		buf_appendf(&body, "# TYPE meshgate_config_reloads_total counter\n"
			    "meshgate_config_reloads_total %llu\n"
			    "# TYPE meshgate_config_errors_total counter\n"
			    "meshgate_config_errors_total %llu\n"
			    "# TYPE meshgate_workers gauge\nmeshgate_workers %d\n",
			    (unsigned long long)ctl->reloads,
			    (unsigned long long)ctl->reload_errors, ctl->num_workers);
		respond(a, 200, "text/plain; version=0.0.4", body.data ? body.data : "", body.len, keep);
	} else if (kind != ADMIN_SERVER_ADMIN) {
		respond(a, 404, "text/plain", "not found\n", 10, keep);
	} else if (IS("/ready")) {
		if (ctl->draining)
			respond(a, 503, "text/plain", "DRAINING\n", 9, keep);
		else
			respond(a, 200, "text/plain", "LIVE\n", 5, keep);
	} else if (IS("/config_dump")) {
		snapshot_dump(ctl->global, &body);
		resources_json(ctl, &body);
		respond(a, 200, "application/json", body.data, body.len, keep);
	} else if (IS("/registry")) {
		registry_json(ctl, &body);
		respond(a, 200, "application/json", body.data, body.len, keep);
	} else if (IS("/syncz")) {
		syncz_json(ctl, &body);
		respond(a, 200, "application/json", body.data, body.len, keep);
	} else if (IS("/listeners")) {
		listeners_json(ctl, &body);
		respond(a, 200, "application/json", body.data, body.len, keep);
	} else if (IS("/certs")) {
		certs_json(ctl, &body);
		respond(a, 200, "application/json", body.data, body.len, keep);
	} else if (IS("/server_info")) {
		server_info_json(ctl, &body);
		respond(a, 200, "application/json", body.data, body.len, keep);
	} else if (IS("/clusters")) {
		clusters_text(ctl, &body);
		respond(a, 200, "text/plain", body.data ? body.data : "", body.len, keep);
	} else if (IS("/stats")) {
		metrics_render_stats(&body, stores, n);
		buf_appendf(&body, "config.reloads: %llu\nconfig.errors: %llu\n"
			    "config.version: %016llx\nconfig.generation: %llu\n"
			    "config.applied_generation: %llu\n"
			    "config.last_load_us: %llu\nconfig.last_build_us: %llu\n"
			    "server.workers: %d\nserver.uptime_s: %llu\n",
			    (unsigned long long)ctl->reloads, (unsigned long long)ctl->reload_errors,
			    (unsigned long long)ctl->global->version,
			    (unsigned long long)ctl->global->gen,
			    (unsigned long long)applied_generation(ctl),
			    (unsigned long long)ctl->last_load_us, (unsigned long long)ctl->last_build_us,
			    ctl->num_workers,
			    (unsigned long long)((ctl->ring.now_ms - ctl->started_ms) / 1000));
		buf_appendf(&body, "config.full_builds: %llu\nconfig.endpoint_patches: %llu\n"
			    "config.kube_endpoint_bursts: %llu\n",
			    (unsigned long long)ctl->full_builds, (unsigned long long)ctl->patches,
			    (unsigned long long)ctl->kube_endpoint_bursts);
		if (applied_generation(ctl) == ctl->gen) {
			// the last publish to the last worker running it
			uint64_t last = 0;

			for (int i = 0; i < ctl->num_workers; i++) {
				uint64_t t = __atomic_load_n(&ctl->workers[i].seen_ns, __ATOMIC_RELAXED);

				last = t > last ? t : last;
			}
			buf_appendf(&body, "config.publish_to_applied_us: %llu\n",
				    (unsigned long long)(last > ctl->published_ns ?
							 (last - ctl->published_ns) / 1000 : 0));
		}
		if (ctl->last_error[0])
			buf_appendf(&body, "config.last_error: %s\n", ctl->last_error);
		buf_appendf(&body, "dns.names: %u\ndns.queries: %llu\ndns.failures: %llu\n"
			    "dns.changes: %llu\n", ctl->dns.num,
			    (unsigned long long)ctl->dns.queries,
			    (unsigned long long)ctl->dns.failures,
			    (unsigned long long)ctl->dns.changes);
		security_stats(ctl, &body);
		respond(a, 200, "text/plain", body.data, body.len, keep);
	} else if (IS("/")) {
		static const char idx[] = "meshgate admin\n/ready\n/config_dump\n/registry\n"
					  "/syncz\n/listeners\n/certs\n/server_info\n/clusters\n"
					  "/stats\n/stats/prometheus\n";

		respond(a, 200, "text/plain", idx, sizeof(idx) - 1, keep);
	} else {
		respond(a, 404, "text/plain", "not found\n", 10, keep);
	}
#undef IS
	buf_cleanup(&body);
}

static void a_timeout(struct ring_timer *t);

static void a_close(struct aconn *a)
{
	if (a->closing)
		return;
	a->closing = true;
	// bounded: a_timeout forces the close if the client never reads
	ring_timer_set(&a->srv->ctl->ring, &a->timer, 2000, a_timeout);
	sock_close(&a->s, true);
}

static void a_recv(struct sock *s, const char *data, size_t len)
{
	struct aconn *a = container_of(s, struct aconn, s);
	int status = 400;

	if (a->closing)
		return;
	if (buf_append(&a->in, data, len) < 0 || buf_avail(&a->in) > H1_MAX_HEAD_BYTES) {
		a_close(a);
		return;
	}
	for (;;) {
		ssize_t end = h1_head_end(buf_head(&a->in), buf_avail(&a->in), &a->scanned);
		bool keep;

		if (end == -EAGAIN)
			return;
		if (end < 0 || h1_parse_request(&g_msg, buf_head(&a->in), (size_t)end, 0, &status) < 0) {
			respond(a, status, "text/plain", "bad request\n", 12, false);
			a_close(a);
			return;
		}
		keep = g_msg.minor == 1 && !(g_msg.flags & H1F_CONN_CLOSE) &&
		       g_msg.framing == H1_BODY_NONE;
		handle(a, &g_msg, keep);
		buf_consume(&a->in, (size_t)end);
		a->scanned = 0;
		if (!keep) {
			a_close(a);
			return;
		}
		ring_timer_set(&a->srv->ctl->ring, &a->timer, ADMIN_TIMEOUT_MS, a_timeout);
		if (!buf_avail(&a->in))
			return;
	}
}

static void a_eof(struct sock *s, int err)
{
	a_close(container_of(s, struct aconn, s));
}

static void a_closed(struct sock *s)
{
	struct aconn *a = container_of(s, struct aconn, s);

	ring_timer_cancel(&a->srv->ctl->ring, &a->timer);
	buf_cleanup(&a->in);
	free(a);
}

static const struct sock_ops a_ops = {
	.recv = a_recv,
	.eof = a_eof,
	.send_error = a_eof,
	.closed = a_closed,
};

static void a_timeout(struct ring_timer *t)
{
	struct aconn *a = container_of(t, struct aconn, timer);

	if (a->closing)
		sock_close(&a->s, false);
	else
		a_close(a);
}

static void a_accept(struct sock_listener *sl, int fd)
{
	struct admin_server *srv = container_of(sl, struct admin_server, sl);
	struct aconn *a = calloc(1, sizeof(*a));

	if (!a) {
		close(fd);
		return;
	}
	sock_init(&a->s, &srv->ctl->ring, fd, &a_ops);
	a->srv = srv;
	ring_timer_set(&srv->ctl->ring, &a->timer, ADMIN_TIMEOUT_MS, a_timeout);
	sock_recv_start(&a->s);
}

static int open_server(struct control *ctl, int kind, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (!port)
		return 0;	// disabled
	if (bootstrap_parse_addr(addr, port, &ss, &len) < 0) {
		log_emit(LOG_ERR, NULL, "admin: bad address %s", addr);
		return -EINVAL;
	}
	fd = sock_listen_fd((struct sockaddr *)&ss, len, 128);
	if (fd < 0) {
		log_emit(LOG_ERR, NULL, "admin: bind %s:%u failed (%s)", addr, port, strerror(-fd));
		return fd;
	}
	g_servers[kind].ctl = ctl;
	g_servers[kind].kind = kind;
	g_servers[kind].sl.on_accept = a_accept;
	sock_listener_start(&g_servers[kind].sl, &ctl->ring, fd);
	return 0;
}

int admin_start(struct control *ctl)
{
	const struct bootstrap *b = ctl->boot;
	int err;

	if ((err = open_server(ctl, ADMIN_SERVER_ADMIN, b->admin_address, b->admin_port)) < 0 ||
	    (err = open_server(ctl, ADMIN_SERVER_HEALTH, b->health_address, b->health_port)) < 0 ||
	    (err = open_server(ctl, ADMIN_SERVER_PROM, b->health_address, b->prometheus_port)) < 0)
		return err;
	return 0;
}
