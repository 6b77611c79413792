// SPDX-License-Identifier: Apache-2.0
// route.c: request -> route -> cluster on a snapshot, as Istio's sidecar
// outbound route configuration does it: virtual host by Host (exact, then
// most specific wildcard), first matching http route, weighted destination.
#include <string.h>
#include <strings.h>

#include "proxy.h"

static bool match_uri(const struct snap_match *m, const char *path, size_t len)
{
	switch (m->uri_kind) {
	case MATCH_ANY:
		return true;
	case MATCH_EXACT:
		if (len != m->uri_len)
			return false;
		return m->ignore_case ? !strncasecmp(path, m->uri, len) : !memcmp(path, m->uri, len);
	case MATCH_PREFIX:
		if (len < m->uri_len)
			return false;
		return m->ignore_case ? !strncasecmp(path, m->uri, m->uri_len)
				      : !memcmp(path, m->uri, m->uri_len);
	}
	return false;
}

static bool route_matches(const struct snap_route *r, uint32_t port, const char *path, size_t len,
			  const struct snap_match **which)
{
	*which = NULL;
	if (!r->num_matches)
		return true;
	for (uint32_t i = 0; i < r->num_matches; i++) {
		const struct snap_match *m = &r->matches[i];

		if (m->unsupported)
			continue;
		if (m->port && m->port != port)
			continue;
		if (match_uri(m, path, len)) {
			*which = m;
			return true;
		}
	}
	return false;
}

static const struct snap_cluster *service_cluster(const struct snap_service *svc, uint32_t port,
						  uint16_t listener_port)
{
	// A port in the authority selects that service port. One that names
	// no service port is usually the proxy's own (a client that reached
	// us explicitly): then pick as if none was given.
	for (uint32_t i = 0; port && i < svc->num_ports; i++)
		if (svc->ports[i] == port)
			return svc->port_clusters[i];
	if (svc->num_ports == 1)
		return svc->port_clusters[0];
	for (uint32_t i = 0; i < svc->num_ports; i++)
		if (svc->ports[i] == listener_port)
			return svc->port_clusters[i];
	return NULL;
}

void route_request(const struct snapshot *s, const char *host, size_t host_len,
		   uint32_t port, uint16_t listener_port, const char *path, size_t path_len,
		   uint64_t rnd, struct route_result *out)
{
	const struct snap_vhost *vh = snapshot_find_vhost(s, host, host_len);
	uint32_t match_port = port ? port : listener_port;

	memset(out, 0, sizeof(*out));
	if (!vh) {
		out->kind = s->outbound_policy == SNAP_ALLOW_ANY ? ROUTE_PASSTHROUGH
									   : ROUTE_BLOCK_ALL;
		out->route_name = out->kind == ROUTE_PASSTHROUGH ? "allow_any" : "block_all";
		out->cluster = out->kind == ROUTE_PASSTHROUGH ? &s->passthrough : &s->blackhole;
		return;
	}
	if (!vh->vs_name) {
		// a registry host without a VirtualService routes to itself
		out->cluster = snap_cluster_of(s, service_cluster(vh->service, port, listener_port));
		out->kind = out->cluster ? ROUTE_CLUSTER : ROUTE_NOT_FOUND;
		out->route_name = "default";
		return;
	}
	for (uint32_t i = 0; i < vh->num_routes; i++) {
		const struct snap_route *r = &vh->routes[i];
		uint64_t pick;

		if (!route_matches(r, match_port, path, path_len, &out->match))
			continue;
		out->route = r;
		out->route_name = r->name[0] ? r->name : vh->vs_name;
		if (r->unsupported) {
			out->kind = ROUTE_NOT_IMPLEMENTED;
			return;
		}
		if (r->direct || r->redirect) {
			out->kind = r->direct ? ROUTE_DIRECT : ROUTE_REDIRECT;
			return;
		}
		if (!r->num_dests || !r->total_weight) {
			out->kind = ROUTE_NO_CLUSTER;
			return;
		}
		pick = rnd % r->total_weight;
		for (uint32_t d = 0; d < r->num_dests; d++) {
			if (pick < r->dests[d].weight) {
				out->cluster = snap_cluster_of(s, r->dests[d].cluster);
				out->dest = &r->dests[d];
				out->kind = out->cluster ? ROUTE_CLUSTER : ROUTE_NO_CLUSTER;
				return;
			}
			pick -= r->dests[d].weight;
		}
		out->kind = ROUTE_NO_CLUSTER;
		return;
	}
	out->kind = ROUTE_NOT_FOUND;
	out->route_name = vh->vs_name;
}
