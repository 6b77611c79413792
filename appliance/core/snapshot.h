// SPDX-License-Identifier: Apache-2.0
// snapshot.h: the immutable, fully resolved configuration the data plane
// runs on: listeners, virtual hosts with their routes, clusters and
// endpoints. The control thread builds one, publishes it with an atomic
// pointer, and frees it once no worker can reach it; workers never lock.
#ifndef MG_CORE_SNAPSHOT_H
#define MG_CORE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

// Mirrors of the bootstrap's enums, so the data plane needs only this header.
enum snap_outbound_policy { SNAP_REGISTRY_ONLY = 0, SNAP_ALLOW_ANY = 1 };
enum snap_listener_proto { SNAP_LISTENER_HTTP = 0, SNAP_LISTENER_TCP = 1 };

enum snap_cluster_kind {
	CLUSTER_EDS = 0,	// endpoints from the registry
	CLUSTER_PASSTHROUGH,	// original destination (ALLOW_ANY)
	CLUSTER_BLACKHOLE,	// no endpoints, refuse (REGISTRY_ONLY)
};

struct snap_endpoint {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uint32_t weight;
	char addr_str[64];	// "ip:port" / "[v6]:port"
	bool mtls_ready;	// labelled security.istio.io/tlsMode=istio: auto mTLS applies
	const char *source;	// "WorkloadEntry ns/name", "dns name", or NULL (inline)
};

struct snap_cluster {
	const char *name;	// "outbound|80||reviews.example"
	const char *host;	// service host
	uint32_t port;		// service port
	const char *service_name;	// for metrics (destination_service_name)
	const char *service_namespace;
	enum snap_cluster_kind kind;
	uint32_t connect_timeout_ms;
	struct snap_endpoint *eps;
	uint32_t num_eps;
	uint32_t idx;		// index in snapshot->clusters
	// Upstream TLS: a struct tls_client (proto/tls.h), NULL for plaintext.
	// With tls_auto (Istio's auto mTLS) it applies only to endpoints that
	// are mtls_ready; others get plaintext.
	void *tls;
	bool tls_auto;
	const char *tls_mode;		// "ISTIO_MUTUAL", ... or NULL
	const char *dr_name;		// "ns/name" of the DestinationRule that shaped it, or NULL
	const char *sni;		// SNI to send, or NULL
	const char *const *sans;	// identities/names the server may present
	uint32_t num_sans;
	uint64_t tls_key;		// pooled connections are reused only with the same key
	// HTTP/2 toward the endpoints (proxy/h2up.c): the port's protocol is
	// HTTP2, GRPC or GRPC-WEB, or a DestinationRule's h2UpgradePolicy
	// says UPGRADE; with use_client_protocol the client's version
	// decides instead. Streams per connection: at most max_streams
	// (DestinationRule maxConcurrentStreams, 0: the server's SETTINGS),
	// and a connection carries at most max_requests_per_cx (0: no limit).
	bool h2;
	bool use_client_protocol;
	uint32_t max_streams;
	uint32_t max_requests_per_cx;
	// Envoy's max_requests circuit breaker (DestinationRule
	// http2MaxRequests, for every HTTP version): at most max_requests
	// requests in flight to the cluster across workers (0: no limit);
	// *rq_active counts them (atomic, in this snapshot's arena: a new
	// snapshot starts a new count, as Envoy's updated cluster does).
	uint32_t max_requests;
	uint32_t *rq_active;
};

enum { SNAP_NO_IDX = UINT32_MAX };	// idx of clusters not in snapshot->clusters

enum snap_match_kind {
	MATCH_ANY = 0,
	MATCH_EXACT,
	MATCH_PREFIX,
};

struct snap_match {
	enum snap_match_kind uri_kind;
	const char *uri;
	uint32_t uri_len;
	bool ignore_case;
	uint32_t port;		// 0 any
	bool unsupported;	// uses a field this build does not enforce: never matches
};

// snap_header_ops are Istio's HeaderOperations for one direction.
struct snap_header_ops {
	const char **set_names, **set_values;
	uint32_t num_set;
	const char **add_names, **add_values;
	uint32_t num_add;
	const char **remove;
	uint32_t num_remove;
};

// snap_headers: a route's or destination's request and response operations.
struct snap_headers {
	struct snap_header_ops request, response;
};

struct snap_dest {
	struct snap_cluster *cluster;	// NULL when the destination is unknown (503 NC)
	uint32_t weight;
	const char *host;		// as resolved, for messages
	const struct snap_headers *headers;	// destination-level, or NULL
};

// snap_redirect is a route's redirect (Istio HTTPRedirect); NULL and 0
// keep what the request had.
struct snap_redirect {
	const char *uri, *authority, *scheme;
	uint32_t port;
	int derive_port;		// -1 unset, 0 FROM_PROTOCOL_DEFAULT, 1 FROM_REQUEST_PORT
	uint32_t code;			// 301 when unset
};

// snap_direct is a route's directResponse.
struct snap_direct {
	uint32_t status;
	const char *body;
	uint32_t body_len;
};

struct snap_route {
	const char *name;		// Istio's route name: the http[].name or "" 
	struct snap_match *matches;	// none = match everything
	uint32_t num_matches;
	struct snap_dest *dests;
	uint32_t num_dests;
	uint32_t total_weight;
	int64_t timeout_ms;		// -1: none
	const char *unsupported;	// features this build cannot honour: answer 500
	const struct snap_redirect *redirect;	// the route answers with a redirect
	const struct snap_direct *direct;	// the route answers with its own response
	const struct snap_headers *headers;	// route-level, or NULL
	const char *rewrite_uri;		// replaces the matched prefix (or path), or NULL
	const char *rewrite_authority;		// replaces the Host, or NULL
};

// A virtual host: a routable name (VirtualService host or registry host).
struct snap_vhost {
	const char *name;		// lowercase; "*.example.com" for wildcards
	bool wildcard;
	const char *vs_name;		// "reviews.default" when from a VirtualService, else NULL
	struct snap_route *routes;	// from the VirtualService
	uint32_t num_routes;
	// the registry service with this exact host (NULL if none): used when
	// no VirtualService binds the name, and to pick ports.
	struct snap_service *service;
};

struct snap_service {
	const char *host;
	const char *name, *namespace_;
	const char *source;	// "ServiceEntry ns/name (file:line)"
	struct snap_cluster **port_clusters;	// one per service port
	uint32_t *ports;
	uint32_t num_ports;
	// DestinationRule subsets: the endpoints whose labels match, one
	// cluster per service port ("outbound|80|v1|reviews...")
	struct snap_subset {
		const char *name;
		struct snap_cluster **port_clusters;
	} *subsets;
	uint32_t num_subsets;
};

struct snap_listener {
	const char *name;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int protocol;		// enum snap_listener_proto
	int role;
	struct snap_cluster *tcp_cluster;	// protocol tcp: the destination
	uint16_t port;
	// Server-side TLS (a struct tls_server from proto/tls.h, NULL when the
	// listener is plaintext). Connections take their own reference.
	void *tls;
	const char *tls_mode;		// "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"
	const char *tls_certs;		// certificate fingerprints (for the dump), or NULL
	// Inbound listeners without an explicit tls follow PeerAuthentication:
	// STRICT installs tls (ISTIO_MUTUAL) on every connection, PERMISSIVE
	// sniffs the first bytes (TLS with an Istio ALPN: mTLS; plaintext:
	// as is), DISABLE takes plaintext.
	int peer_auth;			// enum snap_peer_auth
	const char *peer_auth_from;	// "ns/name" of the deciding policy, or "default"
	// original_dst: connections go to the address they were redirected
	// from (SO_ORIGINAL_DST), through inbound_passthrough. PeerAuthentication's
	// portLevelMtls then names those destination ports: port_modes
	// override peer_auth for them (see snap_peer_auth_for).
	bool original_dst;
	struct snap_port_mode {
		uint16_t port;
		int mode;		// enum snap_peer_auth
		const char *from;
	} *port_modes;
	uint32_t num_port_modes;
};

enum snap_peer_auth {
	SNAP_PA_NONE = 0,	// not PeerAuthentication-driven (explicit tls or outbound)
	SNAP_PA_DISABLE,
	SNAP_PA_PERMISSIVE,
	SNAP_PA_STRICT,
};

// snap_peer_auth_for is the PeerAuthentication mode for a connection to
// port (the original destination's on an original_dst listener, else the
// listener's own).
static inline int snap_peer_auth_for(const struct snap_listener *l, uint16_t port)
{
	for (uint32_t i = 0; i < l->num_port_modes; i++)
		if (l->port_modes[i].port == port)
			return l->port_modes[i].mode;
	return l->peer_auth;
}

// snap_addr is a ServiceEntry address (a VIP, or a CIDR) on one service
// port: where a captured outbound connection that is neither HTTP nor TLS
// with a known SNI goes, by its original destination.
struct snap_addr {
	uint8_t ip[16];		// IPv6, or IPv4 as v4-mapped IPv6
	uint8_t prefix;		// 128 for one address (an IPv4 /24 is 120)
	uint16_t port;
	const struct snap_cluster *cluster;
};

// snap_cleanup releases something a snapshot holds outside its arena (TLS
// contexts, certificates); they run when the snapshot is freed.
struct snap_cleanup {
	void (*fn)(void *arg);
	void *arg;
	struct snap_cleanup *next;
};

struct snapshot {
	uint64_t version;		// XXH3 of the inputs
	uint64_t gen;			// publish generation, 1, 2, ...
	int refcnt;			// atomic
	int outbound_policy;		// enum snap_outbound_policy
	struct snap_vhost *vhosts;
	uint32_t num_vhosts;
	// open-addressing index of exact names -> vnames[] index + 1: each
	// vhost's own name, and the shorter forms of a "<svc>.<ns>.svc.<domain>"
	// name ("<svc>.<ns>.svc", "<svc>.<ns>", and "<svc>" in the appliance's
	// namespace), as Istio's sidecar routes accept them
	uint32_t *vhost_index;
	uint32_t vhost_index_mask;
	struct snap_vname {
		const char *name;
		uint32_t vhost;		// vhosts[] index
	} *vnames;
	uint32_t num_vnames;
	// wildcard vhosts, most specific (longest suffix) first
	struct snap_vhost **wildcards;
	uint32_t num_wildcards;
	struct snap_cluster **clusters;	// every cluster, idx order
	uint32_t num_clusters;
	struct snap_service *services;
	uint32_t num_services;
	struct snap_cluster passthrough, blackhole;
	// the template of a captured inbound connection's one-endpoint cluster
	// (Istio's InboundPassthroughCluster); connections copy it
	struct snap_cluster inbound_passthrough;
	struct snap_listener *listeners;
	uint32_t num_listeners;
	// ServiceEntry addresses: single addresses in an open-addressing
	// index (slot -> addrs[] index + 1), CIDRs after them, longest prefix
	// first
	struct snap_addr *addrs;
	uint32_t num_addrs, num_exact_addrs;
	uint32_t *addr_index;
	uint32_t addr_index_mask;
	// config knobs copied from the bootstrap
	uint32_t header_timeout_ms, idle_timeout_ms, max_body_buffer;
	uint32_t max_pending_tls_handshakes, tls_handshake_rate;	// per worker; 0: none
	const char *source_workload, *source_namespace, *source_principal;
	const char *source_app, *source_version;
	// Istio's canonical service/revision: the app/version labels, else the
	// workload name and "latest"
	const char *canonical_service, *canonical_revision;
	struct snap_cleanup *cleanups;
	void *arena;			// owns everything above
	// A snapshot patched for an endpoint-only change (snapshot_build with
	// a previous one) shares everything of base, the last full build,
	// but clusters[]: those whose endpoints changed are its own. Routes,
	// services, listeners and addresses keep pointing at base's clusters,
	// so what they point at goes through snap_cluster_of.
	struct snapshot *base;		// a reference, or NULL for a full build
	void *build_state;		// the builder's (snapshot_build.c)
};

// snap_cluster_of is this snapshot's version of a cluster reached from
// its routes, services, listeners or addresses (see base).
static inline const struct snap_cluster *snap_cluster_of(const struct snapshot *s,
							 const struct snap_cluster *c)
{
	return c && c->idx < s->num_clusters ? s->clusters[c->idx] : c;
}

// snapshot_ref takes a reference; snapshot_unref drops one and frees the
// snapshot with the last.
void snapshot_ref(struct snapshot *s);
void snapshot_unref(struct snapshot *s);

// snapshot_find_addr returns the cluster registered for a destination
// address and port (a ServiceEntry address), or NULL.
const struct snap_cluster *snapshot_find_addr(const struct snapshot *s,
					      const struct sockaddr_storage *sa);
// snap_addr_key makes sa's address v4-mapped IPv6 in ip and returns its
// port (0 for another family).
uint16_t snap_addr_key(const struct sockaddr_storage *sa, uint8_t ip[16]);
// snap_addr_hash is the index's hash of (ip, port).
uint32_t snap_addr_hash(const uint8_t ip[16], uint16_t port);

// snapshot_find_vhost returns the virtual host for a lowercase host name
// without port: exact names first, then the most specific wildcard.
const struct snap_vhost *snapshot_find_vhost(const struct snapshot *s,
					     const char *host, size_t len);

#endif
