// SPDX-License-Identifier: Apache-2.0
// snapshot_build.c: turns the bootstrap and Istio resources into a snapshot:
// registry services and their clusters, virtual hosts from VirtualServices
// bound to the mesh, listeners; then renders it as JSON and hashes that
// rendering (XXH3) into the snapshot's version.
#include "snapshot_build.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/log.h"

enum { CONNECT_TIMEOUT_MS = 10000 };

struct builder {
	struct arena *a;
	struct snapshot *s;
	const struct bootstrap *b;
	char *err;
	size_t err_len;
	// growing arrays (heap, copied into the arena at the end)
	struct snap_cluster **clusters;
	uint32_t num_clusters, cap_clusters;
	struct snap_service *services;
	uint32_t num_services, cap_services;
	struct snap_vhost *vhosts;
	uint32_t num_vhosts, cap_vhosts;
};

static char *lower_dup(struct arena *a, const char *s)
{
	char *p = arena_strdup(a, s);

	for (char *q = p; q && *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

char *snapshot_expand_host(struct arena *a, const char *host, const char *ns,
			   const char *domain)
{
	if (!strchr(host, '.') && strcmp(host, "*") != 0) {
		char *p = arena_sprintf(a, "%s.%s.svc.%s", host, ns, domain);

		for (char *q = p; q && *q; q++)
			*q = (char)tolower((unsigned char)*q);
		return p;
	}
	return lower_dup(a, host);
}

static int grow(void **arr, uint32_t *cap, uint32_t num, size_t elem)
{
	void *p;
	uint32_t ncap;

	if (num < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

// parse_ip_port fills an address from an IP literal and a port.
static int parse_ip(const char *ip, uint32_t port, struct snap_endpoint *ep)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ep->addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ep->addr;

	memset(&ep->addr, 0, sizeof(ep->addr));
	if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		ep->addr_len = sizeof(*in4);
		snprintf(ep->addr_str, sizeof(ep->addr_str), "%s:%u", ip, port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		ep->addr_len = sizeof(*in6);
		snprintf(ep->addr_str, sizeof(ep->addr_str), "[%s]:%u", ip, port);
		return 0;
	}
	return -EINVAL;
}

static struct snap_cluster *new_cluster(struct builder *bd, const char *host, uint32_t port,
					const char *svc_ns)
{
	struct snap_cluster *c;

	if (grow((void **)&bd->clusters, &bd->cap_clusters, bd->num_clusters, sizeof(*bd->clusters)))
		return NULL;
	c = arena_alloc(bd->a, sizeof(*c));
	if (!c)
		return NULL;
	c->name = arena_sprintf(bd->a, "outbound|%u||%s", port, host);
	c->host = host;
	c->port = port;
	c->service_name = host;
	c->service_namespace = svc_ns;
	c->connect_timeout_ms = CONNECT_TIMEOUT_MS;
	bd->clusters[bd->num_clusters++] = c;
	return c;
}

static struct snap_service *find_service(struct builder *bd, const char *host)
{
	for (uint32_t i = 0; i < bd->num_services; i++)
		if (!strcmp(bd->services[i].host, host))
			return &bd->services[i];
	return NULL;
}

static const char *endpoint_port_for(const struct se_endpoint *ep, const struct se_port *p,
				     uint32_t *out)
{
	for (int i = 0; i < ep->num_ports; i++) {
		if (p->name && !strcmp(ep->ports[i].key, p->name)) {
			*out = (uint32_t)strtoul(ep->ports[i].value, NULL, 10);
			return NULL;
		}
	}
	*out = p->target_port ? p->target_port : p->number;
	return NULL;
}

static int add_service_entry(struct builder *bd, const struct service_entry *se)
{
	for (int h = 0; h < se->num_hosts; h++) {
		const char *host = lower_dup(bd->a, se->hosts[h]);
		struct snap_service *svc;

		if (find_service(bd, host)) {
			log_emit(LOG_WARN, NULL, "%s:%d: ServiceEntry %s/%s: host %s is already "
				 "registered by another ServiceEntry, the first one wins",
				 se->meta.file, se->meta.line, se->meta.namespace_,
				 se->meta.name, host);
			continue;
		}
		if (host[0] == '*') {
			log_emit(LOG_WARN, NULL, "%s:%d: ServiceEntry %s/%s: wildcard host %s "
				 "is not enforced yet (needs DNS/original destination)",
				 se->meta.file, se->meta.line, se->meta.namespace_,
				 se->meta.name, host);
			continue;
		}
		if (grow((void **)&bd->services, &bd->cap_services, bd->num_services,
			 sizeof(*bd->services)))
			return -ENOMEM;
		svc = &bd->services[bd->num_services++];
		memset(svc, 0, sizeof(*svc));
		svc->host = host;
		svc->name = host;
		svc->namespace_ = arena_strdup(bd->a, se->meta.namespace_);
		svc->num_ports = (uint32_t)se->num_ports;
		svc->ports = arena_alloc(bd->a, sizeof(uint32_t) * (se->num_ports + 1));
		svc->port_clusters = arena_alloc(bd->a, sizeof(void *) * (se->num_ports + 1));
		if (!svc->ports || !svc->port_clusters)
			return -ENOMEM;
		for (int p = 0; p < se->num_ports; p++) {
			const struct se_port *sp = &se->ports[p];
			struct snap_cluster *c = new_cluster(bd, host, sp->number, svc->namespace_);
			uint32_t n = 0;

			if (!c)
				return -ENOMEM;
			svc->ports[p] = sp->number;
			svc->port_clusters[p] = c;
			if (se->resolution == SE_RES_NONE && !se->num_endpoints) {
				c->kind = CLUSTER_PASSTHROUGH;
				continue;
			}
			c->eps = arena_alloc(bd->a, sizeof(*c->eps) * (se->num_endpoints + 1));
			if (!c->eps)
				return -ENOMEM;
			for (int e = 0; e < se->num_endpoints; e++) {
				const struct se_endpoint *ep = &se->endpoints[e];
				uint32_t port;

				endpoint_port_for(ep, sp, &port);
				if (parse_ip(ep->address, port, &c->eps[n]) < 0) {
					log_emit(LOG_WARN, NULL, "%s:%d: ServiceEntry %s/%s: endpoint "
						 "%s is not an IP address; DNS resolution is not "
						 "implemented yet, endpoint skipped",
						 se->meta.file, se->meta.line, se->meta.namespace_,
						 se->meta.name, ep->address);
					continue;
				}
				c->eps[n].weight = ep->weight ? ep->weight : 1;
				n++;
			}
			c->num_eps = n;
		}
	}
	return 0;
}

static struct snap_vhost *find_vhost(struct builder *bd, const char *name)
{
	for (uint32_t i = 0; i < bd->num_vhosts; i++)
		if (!strcmp(bd->vhosts[i].name, name))
			return &bd->vhosts[i];
	return NULL;
}

static struct snap_vhost *add_vhost(struct builder *bd, const char *name)
{
	struct snap_vhost *vh;

	if (grow((void **)&bd->vhosts, &bd->cap_vhosts, bd->num_vhosts, sizeof(*bd->vhosts)))
		return NULL;
	vh = &bd->vhosts[bd->num_vhosts++];
	memset(vh, 0, sizeof(*vh));
	vh->name = name;
	vh->wildcard = name[0] == '*';
	return vh;
}

static struct snap_cluster *service_port_cluster(const struct snap_service *svc, uint32_t port)
{
	if (!svc)
		return NULL;
	if (!port)
		return svc->num_ports == 1 ? svc->port_clusters[0] : NULL;
	for (uint32_t i = 0; i < svc->num_ports; i++)
		if (svc->ports[i] == port)
			return svc->port_clusters[i];
	return NULL;
}

static bool bound_to_mesh(const struct virtual_service *vs)
{
	if (!vs->num_gateways)
		return true;
	for (int i = 0; i < vs->num_gateways; i++)
		if (!strcmp(vs->gateways[i], "mesh"))
			return true;
	return false;
}

static int build_route(struct builder *bd, const struct virtual_service *vs,
		       const struct http_route *hr, struct snap_route *r)
{
	const char *ns = vs->meta.namespace_;
	const char *domain = "cluster.local";

	r->name = arena_strdup(bd->a, hr->name ? hr->name : "");
	r->timeout_ms = hr->timeout_ms;
	r->num_matches = (uint32_t)hr->num_match;
	r->matches = arena_alloc(bd->a, sizeof(*r->matches) * (hr->num_match + 1));
	r->dests = arena_alloc(bd->a, sizeof(*r->dests) * (hr->num_route + 1));
	if (!r->matches || !r->dests)
		return -ENOMEM;
	for (int m = 0; m < hr->num_match; m++) {
		const struct http_match *hm = &hr->match[m];
		struct snap_match *sm = &r->matches[m];

		sm->ignore_case = hm->ignore_uri_case;
		sm->port = hm->port;
		switch (hm->uri.kind) {
		case SM_EXACT:
			sm->uri_kind = MATCH_EXACT;
			break;
		case SM_PREFIX:
			sm->uri_kind = MATCH_PREFIX;
			break;
		case SM_REGEX:
			sm->unsupported = true;
			break;
		default:
			sm->uri_kind = MATCH_ANY;
		}
		if (hm->uri.value) {
			sm->uri = arena_strdup(bd->a, hm->uri.value);
			sm->uri_len = (uint32_t)strlen(hm->uri.value);
		}
		// A match that names a condition we cannot evaluate yet must
		// never match: matching more than the author meant could send
		// traffic where a policy says it must not go.
		if (hm->scheme.kind || hm->method.kind || hm->authority.kind ||
		    hm->num_headers_exact || hm->num_headers || hm->num_without_headers ||
		    hm->num_query_params || hm->num_source_labels || hm->num_gateways ||
		    hm->source_namespace)
			sm->unsupported = true;
		if (sm->unsupported)
			log_emit(LOG_WARN, NULL, "%s:%d: VirtualService %s/%s: http[%s].match uses "
				 "conditions not enforced yet (regex, scheme, method, authority, "
				 "headers, queryParams, sourceLabels, gateways, sourceNamespace); "
				 "that match never matches", vs->meta.file, vs->meta.line, ns,
				 vs->meta.name, hr->name ? hr->name : "");
	}
	if (hr->features & (HR_F_REDIRECT | HR_F_DIRECT_RESPONSE | HR_F_DELEGATE | HR_F_REWRITE |
			    HR_F_FAULT)) {
		// Forwarding as if these were absent would change what the
		// author asked for; a matched request gets a clear 500 instead.
		r->unsupported = "redirect/directResponse/delegate/rewrite/fault";
		log_emit(LOG_WARN, NULL, "%s:%d: VirtualService %s/%s: http[%s] uses %s, not "
			 "implemented yet: requests it matches are answered 500",
			 vs->meta.file, vs->meta.line, ns, vs->meta.name, hr->name ? hr->name : "",
			 r->unsupported);
	}
	if (hr->features & (HR_F_RETRIES | HR_F_MIRROR | HR_F_CORS | HR_F_HEADERS))
		log_emit(LOG_WARN, NULL, "%s:%d: VirtualService %s/%s: http[%s]: retries, mirror, "
			 "corsPolicy and headers are not enforced yet (Istio's default retries "
			 "apply)", vs->meta.file, vs->meta.line, ns, vs->meta.name,
			 hr->name ? hr->name : "");
	for (int d = 0; d < hr->num_route; d++) {
		const struct http_route_dest *rd = &hr->route[d];
		struct snap_dest *sd = &r->dests[r->num_dests];
		const struct snap_service *svc;

		sd->host = snapshot_expand_host(bd->a, rd->destination.host, ns, domain);
		svc = find_service(bd, sd->host);
		sd->cluster = service_port_cluster(svc, rd->destination.port);
		if (rd->destination.subset) {
			log_emit(LOG_WARN, NULL, "%s:%d: VirtualService %s/%s: destination subset "
				 "%s needs DestinationRule support (not yet), routes to it get 503 NC",
				 vs->meta.file, vs->meta.line, ns, vs->meta.name,
				 rd->destination.subset);
			sd->cluster = NULL;
		}
		sd->weight = hr->num_route == 1 ? 100 : (uint32_t)(rd->weight > 0 ? rd->weight : 0);
		r->total_weight += sd->weight;
		r->num_dests++;
	}
	return 0;
}

static int add_virtual_service(struct builder *bd, const struct virtual_service *vs)
{
	if (!bound_to_mesh(vs))
		return 0;	// gateway-bound: a later issue
	for (int h = 0; h < vs->num_hosts; h++) {
		char *name = snapshot_expand_host(bd->a, vs->hosts[h], vs->meta.namespace_,
						  "cluster.local");
		struct snap_vhost *vh = find_vhost(bd, name);

		if (vh && vh->vs_name) {
			log_emit(LOG_WARN, NULL, "%s:%d: VirtualService %s/%s: host %s is already "
				 "bound by VirtualService %s, ignored here",
				 vs->meta.file, vs->meta.line, vs->meta.namespace_,
				 vs->meta.name, name, vh->vs_name);
			continue;
		}
		if (!vh && !(vh = add_vhost(bd, name)))
			return -ENOMEM;
		vh->vs_name = arena_sprintf(bd->a, "%s.%s", vs->meta.name, vs->meta.namespace_);
		vh->num_routes = (uint32_t)vs->num_http;
		vh->routes = arena_alloc(bd->a, sizeof(*vh->routes) * (vs->num_http + 1));
		if (!vh->routes)
			return -ENOMEM;
		for (int i = 0; i < vs->num_http; i++)
			if (build_route(bd, vs, &vs->http[i], &vh->routes[i]))
				return -ENOMEM;
	}
	return 0;
}

static int cmp_wildcard(const void *a, const void *b)
{
	const struct snap_vhost *x = *(struct snap_vhost *const *)a;
	const struct snap_vhost *y = *(struct snap_vhost *const *)b;
	size_t lx = strlen(x->name), ly = strlen(y->name);

	return lx == ly ? strcmp(x->name, y->name) : (lx > ly ? -1 : 1);
}

static int index_vhosts(struct builder *bd)
{
	struct snapshot *s = bd->s;
	uint32_t size = 16;

	while (size < s->num_vhosts * 2)
		size *= 2;
	s->vhost_index = arena_alloc(bd->a, size * sizeof(uint32_t));
	s->wildcards = arena_alloc(bd->a, sizeof(void *) * (s->num_vhosts + 1));
	if (!s->vhost_index || !s->wildcards)
		return -ENOMEM;
	s->vhost_index_mask = size - 1;
	for (uint32_t v = 0; v < s->num_vhosts; v++) {
		struct snap_vhost *vh = &s->vhosts[v];
		uint32_t i;

		if (vh->wildcard) {
			s->wildcards[s->num_wildcards++] = vh;
			continue;
		}
		i = (uint32_t)hash64(vh->name, strlen(vh->name)) & s->vhost_index_mask;
		while (s->vhost_index[i])
			i = (i + 1) & s->vhost_index_mask;
		s->vhost_index[i] = v + 1;
	}
	qsort(s->wildcards, s->num_wildcards, sizeof(void *), cmp_wildcard);
	return 0;
}

// tcp_destination resolves a tcp listener's "host:port" to a cluster: a
// registered service port, or a static cluster for an IP literal.
static struct snap_cluster *tcp_destination(struct builder *bd, const struct listener_cfg *l)
{
	char host[256];
	const char *colon = strrchr(l->destination, ':');
	uint32_t port;
	size_t hl;
	struct snap_cluster *c;
	struct snap_service *svc;

	if (!colon)
		return NULL;
	port = (uint32_t)strtoul(colon + 1, NULL, 10);
	hl = (size_t)(colon - l->destination);
	if (hl >= sizeof(host))
		return NULL;
	memcpy(host, l->destination, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	for (char *q = host; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	if ((svc = find_service(bd, host)))
		return service_port_cluster(svc, port);
	c = new_cluster(bd, arena_strdup(bd->a, host), port, "unknown");
	if (!c || !(c->eps = arena_alloc(bd->a, sizeof(*c->eps))))
		return NULL;
	if (parse_ip(host, port, &c->eps[0]) < 0)
		return NULL;
	c->eps[0].weight = 1;
	c->num_eps = 1;
	return c;
}

static int build_listeners(struct builder *bd)
{
	struct snapshot *s = bd->s;
	const struct bootstrap *b = bd->b;

	s->listeners = arena_alloc(bd->a, sizeof(*s->listeners) * (b->num_listeners + 1));
	if (!s->listeners)
		return -ENOMEM;
	for (int i = 0; i < b->num_listeners; i++) {
		const struct listener_cfg *lc = &b->listeners[i];
		struct snap_listener *sl = &s->listeners[i];

		sl->name = arena_strdup(bd->a, lc->name);
		sl->addr = lc->addr;
		sl->addr_len = lc->addr_len;
		sl->protocol = lc->protocol == LISTENER_TCP ? SNAP_LISTENER_TCP : SNAP_LISTENER_HTTP;
		sl->role = lc->role;
		sl->port = lc->port;
		if (lc->protocol == LISTENER_TCP) {
			sl->tcp_cluster = tcp_destination(bd, lc);
			if (!sl->tcp_cluster) {
				snprintf(bd->err, bd->err_len, "%s:%d: [listener %s]: destination %s "
					 "is neither a registered service port nor an IP:port",
					 b->path[0] ? b->path : "(embedded)", lc->line, lc->name,
					 lc->destination);
				return -EINVAL;
			}
		}
	}
	s->num_listeners = (uint32_t)b->num_listeners;
	return 0;
}

static void dump_cluster(struct buf *o, const struct snap_cluster *c)
{
	static const char *const kinds[] = { "EDS", "ORIGINAL_DST", "STATIC" };

	buf_appends(o, "{");
	json_append_key(o, "name");
	json_append_cstr(o, c->name);
	buf_appends(o, ",");
	json_append_key(o, "type");
	json_append_cstr(o, kinds[c->kind]);
	buf_appendf(o, ",\"connect_timeout_ms\":%u,\"endpoints\":[", c->connect_timeout_ms);
	for (uint32_t e = 0; e < c->num_eps; e++) {
		buf_appendf(o, "%s{\"address\":", e ? "," : "");
		json_append_cstr(o, c->eps[e].addr_str);
		buf_appendf(o, ",\"weight\":%u}", c->eps[e].weight);
	}
	buf_appends(o, "]}");
}

static void dump_body(const struct snapshot *s, struct buf *o)
{
	static const char *const match_kinds[] = { "any", "exact", "prefix" };

	buf_appendf(o, "\"outbound_traffic_policy\":\"%s\",\"listeners\":[",
		    s->outbound_policy ? "ALLOW_ANY" : "REGISTRY_ONLY");
	for (uint32_t i = 0; i < s->num_listeners; i++) {
		const struct snap_listener *l = &s->listeners[i];

		buf_appendf(o, "%s{\"name\":", i ? "," : "");
		json_append_cstr(o, l->name);
		buf_appendf(o, ",\"port\":%u,\"protocol\":\"%s\"", l->port,
			    l->protocol == LISTENER_TCP ? "tcp" : "http");
		if (l->tcp_cluster) {
			buf_appends(o, ",\"cluster\":");
			json_append_cstr(o, l->tcp_cluster->name);
		}
		buf_appends(o, "}");
	}
	buf_appends(o, "],\"virtual_hosts\":[");
	for (uint32_t v = 0; v < s->num_vhosts; v++) {
		const struct snap_vhost *vh = &s->vhosts[v];

		buf_appendf(o, "%s{\"name\":", v ? "," : "");
		json_append_cstr(o, vh->name);
		buf_appends(o, ",\"virtual_service\":");
		json_append_cstr(o, vh->vs_name);
		buf_appends(o, ",\"service\":");
		json_append_cstr(o, vh->service ? vh->service->host : NULL);
		buf_appends(o, ",\"routes\":[");
		for (uint32_t r = 0; r < vh->num_routes; r++) {
			const struct snap_route *rt = &vh->routes[r];

			buf_appendf(o, "%s{\"name\":", r ? "," : "");
			json_append_cstr(o, rt->name);
			buf_appends(o, ",\"not_implemented\":");
			json_append_cstr(o, rt->unsupported);
			buf_appendf(o, ",\"timeout_ms\":%lld,\"match\":[", (long long)rt->timeout_ms);
			for (uint32_t m = 0; m < rt->num_matches; m++) {
				const struct snap_match *sm = &rt->matches[m];

				buf_appendf(o, "%s{\"uri\":\"%s\",\"value\":", m ? "," : "",
					    match_kinds[sm->uri_kind]);
				json_append_cstr(o, sm->uri);
				buf_appendf(o, ",\"enforced\":%s}", sm->unsupported ? "false" : "true");
			}

			buf_appends(o, "],\"route\":[");
			for (uint32_t d = 0; d < rt->num_dests; d++) {
				buf_appendf(o, "%s{\"host\":", d ? "," : "");
				json_append_cstr(o, rt->dests[d].host);
				buf_appends(o, ",\"cluster\":");
				json_append_cstr(o, rt->dests[d].cluster ? rt->dests[d].cluster->name : NULL);
				buf_appendf(o, ",\"weight\":%u}", rt->dests[d].weight);
			}
			buf_appends(o, "]}");
		}
		buf_appends(o, "]}");
	}
	buf_appends(o, "],\"clusters\":[");
	for (uint32_t c = 0; c < s->num_clusters; c++) {
		if (c)
			buf_appends(o, ",");
		dump_cluster(o, s->clusters[c]);
	}
	buf_appends(o, "]");
}

int snapshot_dump(const struct snapshot *s, struct buf *out)
{
	buf_appendf(out, "{\"version\":\"%016llx\",\"generation\":%llu,",
		    (unsigned long long)s->version, (unsigned long long)s->gen);
	dump_body(s, out);
	return buf_appends(out, "}\n");
}

struct snapshot *snapshot_build(const struct bootstrap *b, const struct istio_config *cfg,
				char *err, size_t err_len)
{
	struct builder bd;
	struct snapshot *s;
	struct buf dump;
	int rc = -ENOMEM;

	memset(&bd, 0, sizeof(bd));
	bd.b = b;
	bd.err = err;
	bd.err_len = err_len;
	snprintf(err, err_len, "out of memory");
	if (!(bd.a = arena_new()))
		return NULL;
	s = bd.s = arena_alloc(bd.a, sizeof(*s));
	if (!s)
		goto out;
	s->arena = bd.a;
	s->refcnt = 1;
	s->outbound_policy = b->outbound_policy == OUTBOUND_ALLOW_ANY ? SNAP_ALLOW_ANY
									    : SNAP_REGISTRY_ONLY;
	s->header_timeout_ms = b->header_timeout_ms;
	s->idle_timeout_ms = b->idle_timeout_ms;
	s->max_body_buffer = b->max_request_body_buffer;
	s->source_workload = arena_strdup(bd.a, b->name);
	s->source_namespace = arena_strdup(bd.a, b->namespace_);
	s->source_principal = arena_sprintf(bd.a, "spiffe://%s/ns/%s/sa/%s", b->trust_domain,
					    b->namespace_, b->service_account);
	s->source_app = s->source_version = "unknown";
	for (int i = 0; i < b->num_labels; i++) {
		if (!strcmp(b->labels[i].key, "app"))
			s->source_app = arena_strdup(bd.a, b->labels[i].value);
		else if (!strcmp(b->labels[i].key, "version"))
			s->source_version = arena_strdup(bd.a, b->labels[i].value);
	}
	for (int i = 0; i < cfg->num_service_entries; i++)
		if ((rc = add_service_entry(&bd, &cfg->service_entries[i])) < 0)
			goto out;
	// registry hosts are routable names of their own
	for (uint32_t i = 0; i < bd.num_services; i++) {
		struct snap_vhost *vh = add_vhost(&bd, bd.services[i].host);

		if (!vh) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (int i = 0; i < cfg->num_virtual_services; i++)
		if ((rc = add_virtual_service(&bd, &cfg->virtual_services[i])) < 0)
			goto out;
	rc = -ENOMEM;
	// copy the growing arrays into the arena, then link services to vhosts
	s->services = arena_alloc(bd.a, sizeof(*s->services) * (bd.num_services + 1));
	s->vhosts = arena_alloc(bd.a, sizeof(*s->vhosts) * (bd.num_vhosts + 1));
	if (!s->services || !s->vhosts)
		goto out;
	if (bd.num_services)
		memcpy(s->services, bd.services, sizeof(*s->services) * bd.num_services);
	s->num_services = bd.num_services;
	if (bd.num_vhosts)
		memcpy(s->vhosts, bd.vhosts, sizeof(*s->vhosts) * bd.num_vhosts);
	s->num_vhosts = bd.num_vhosts;
	for (uint32_t v = 0; v < s->num_vhosts; v++)
		for (uint32_t i = 0; i < s->num_services; i++)
			if (!strcmp(s->services[i].host, s->vhosts[v].name))
				s->vhosts[v].service = &s->services[i];
	if ((rc = build_listeners(&bd)) < 0)
		goto out;
	rc = -ENOMEM;
	s->clusters = arena_alloc(bd.a, sizeof(*s->clusters) * (bd.num_clusters + 1));
	if (!s->clusters)
		goto out;
	for (uint32_t c = 0; c < bd.num_clusters; c++) {
		bd.clusters[c]->idx = c;
		s->clusters[c] = bd.clusters[c];
	}
	s->num_clusters = bd.num_clusters;
	s->passthrough.name = "PassthroughCluster";
	s->passthrough.service_name = "PassthroughCluster";
	s->passthrough.kind = CLUSTER_PASSTHROUGH;
	s->passthrough.connect_timeout_ms = CONNECT_TIMEOUT_MS;
	s->blackhole.name = "BlackHoleCluster";
	s->blackhole.service_name = "BlackHoleCluster";
	s->blackhole.kind = CLUSTER_BLACKHOLE;
	if (index_vhosts(&bd) < 0)
		goto out;
	buf_init(&dump);
	dump_body(s, &dump);
	s->version = hash64(dump.data, dump.len);
	buf_cleanup(&dump);
	free(bd.clusters);
	free(bd.services);
	free(bd.vhosts);
	err[0] = '\0';
	return s;
out:
	free(bd.clusters);
	free(bd.services);
	free(bd.vhosts);
	arena_free(bd.a);
	if (rc != -EINVAL)
		snprintf(err, err_len, "snapshot: %s", strerror(-rc));
	return NULL;
}
