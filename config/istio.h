// SPDX-License-Identifier: Apache-2.0
// istio.h: the Istio resource model read from YAML: ServiceEntry,
// VirtualService, DestinationRule, Gateway, PeerAuthentication,
// WorkloadEntry, WorkloadGroup, Sidecar, AuthorizationPolicy,
// RequestAuthentication and Telemetry (EnvoyFilter and ProxyConfig are
// checked for shape and counted). All strings are owned by the istio_config
// they belong to (one arena), freed by istio_config_free.
#ifndef MG_CONFIG_ISTIO_H
#define MG_CONFIG_ISTIO_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

struct istio_meta {
	const char *kind;	// "ServiceEntry", ...
	const char *name;
	const char *namespace_;	// "default" when metadata.namespace is absent
	const char *file;
	int line;		// line of the document's start
	// XXH3 of the document as written (ynode_hash; for a ServiceEntry
	// without its spec.endpoints), its file and line: the snapshot
	// builder compares them to tell an endpoint-only change from others
	uint64_t hash;
};

struct kv {
	const char *key;
	const char *value;
};

enum se_location { SE_MESH_EXTERNAL = 0, SE_MESH_INTERNAL };
enum se_resolution { SE_RES_NONE = 0, SE_RES_STATIC, SE_RES_DNS, SE_RES_DNS_ROUND_ROBIN };

struct se_port {
	uint32_t number;	// 1..65535
	const char *protocol;	// upper case: HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, HTTP_PROXY, MONGO,
				// REDIS, MYSQL, TCP, TLS, UDP, HBONE; NULL = unset (sniffed)
	const char *name;
	uint32_t target_port;	// 0 = same as number
};

struct se_endpoint {
	const char *address;	// IP literal, hostname (DNS), or unix://
	struct kv *ports;	// port name -> number (value as decimal string)
	int num_ports;
	struct kv *labels;
	int num_labels;
	const char *network, *locality, *service_account;
	uint32_t weight;	// 0 = unset
};

struct service_entry {
	struct istio_meta meta;
	const char **hosts;
	int num_hosts;
	const char **addresses;
	int num_addresses;
	struct se_port *ports;
	int num_ports;
	enum se_location location;
	enum se_resolution resolution;
	struct se_endpoint *endpoints;
	int num_endpoints;
	const char **export_to;
	int num_export_to;
	struct kv *workload_selector;	// labels
	int num_workload_selector;
	const char **subject_alt_names;
	int num_subject_alt_names;
	uint64_t ep_hash;	// ynode_hash of spec.endpoints (see meta.hash)
};

enum string_match_kind { SM_NONE = 0, SM_EXACT, SM_PREFIX, SM_REGEX };

struct string_match {
	enum string_match_kind kind;
	const char *value;
};

// named_match is one entry of a headers / withoutHeaders / queryParams map.
// match.kind SM_NONE means "present, any value" ({} in the YAML).
struct named_match {
	const char *name;	// header names are lowercased (HTTP/2 form)
	struct string_match match;
};

struct http_match {
	const char *name;
	struct string_match uri, scheme, method, authority;
	int ignore_uri_case;
	uint32_t port;	// 0 = any
	// headers / queryParams / sourceLabels / gateways / withoutHeaders:
	// kept for a later issue
	struct kv *headers_exact;	// only exact matches are kept here for now
	int num_headers_exact;
	// Every match kind, so that a router can refuse what it does not
	// implement instead of matching more than the author meant.
	struct named_match *headers;	// all of match.headers, in file order
	int num_headers;
	struct named_match *without_headers;
	int num_without_headers;
	struct named_match *query_params;
	int num_query_params;
	struct kv *source_labels;
	int num_source_labels;
	const char **gateways;
	int num_gateways;
	const char *source_namespace;	// NULL if unset
	const char *stat_prefix;	// NULL if unset
};

struct destination {
	const char *host;
	const char *subset;	// NULL if none
	uint32_t port;		// 0 = unset
};

// header_ops are Istio's HeaderOperations: set (replace), add (append),
// remove; names lowercase as written.
struct header_ops {
	struct kv *set, *add;
	int num_set, num_add;
	const char **remove;
	int num_remove;
};

// http_headers are a route's or a destination's header manipulations.
struct http_headers {
	struct header_ops request, response;
};

struct http_route_dest {
	struct destination destination;
	int32_t weight;		// 0 = unset
	struct http_headers *headers;	// NULL unless set
};

// http_redirect is an HTTPRoute's redirect; NULL/0 fields keep the request's.
struct http_redirect {
	const char *uri;		// replaces the whole path (a query in it replaces the request's)
	const char *authority;
	const char *scheme;		// "http" or "https"
	uint32_t port;			// 0 = unset
	int derive_port;		// -1 unset, 0 FROM_PROTOCOL_DEFAULT, 1 FROM_REQUEST_PORT
	uint32_t code;			// 0 = unset (301)
};

// http_rewrite is an HTTPRoute's rewrite.
struct http_rewrite {
	const char *uri;		// replaces the matched prefix (or the whole path)
	const char *authority;		// replaces Host/:authority
	bool uri_regex;			// uriRegexRewrite (regex_rewrite): kept as a flag
};

// http_direct_response is an HTTPRoute's directResponse.
struct http_direct_response {
	uint32_t status;
	const char *body;		// decoded (string, or bytes from base64); NULL = none
	size_t body_len;
};

struct http_route {
	const char *name;
	struct http_match *match;
	int num_match;
	struct http_route_dest *route;
	int num_route;
	int64_t timeout_ms;	// -1 = unset (no route timeout)
	// redirect, rewrite, retries, fault, mirror, headers, corsPolicy,
	// directResponse, delegate: later issues
	unsigned features;	// HR_F_* present in the YAML
	struct http_redirect *redirect;			// NULL unless HR_F_REDIRECT
	struct http_direct_response *direct_response;	// NULL unless HR_F_DIRECT_RESPONSE
	struct http_rewrite *rewrite;			// NULL unless HR_F_REWRITE
	struct http_headers *headers;			// route-level headers, or NULL
	const char *delegate_name;	// delegate.name, NULL if no delegate
	const char *delegate_namespace;	// delegate.namespace, NULL if unset
};

// HR_F_* flag the HTTPRoute fields that were validated but are not carried
// in struct http_route yet. A router that does not implement one must
// refuse the route (or say so), not silently route without it.
enum http_route_feature {
	HR_F_REDIRECT = 1 << 0,
	HR_F_DIRECT_RESPONSE = 1 << 1,
	HR_F_DELEGATE = 1 << 2,
	HR_F_REWRITE = 1 << 3,
	HR_F_RETRIES = 1 << 4,
	HR_F_FAULT = 1 << 5,
	HR_F_MIRROR = 1 << 6,		// mirror, mirrors, mirrorPercent(age)
	HR_F_CORS = 1 << 7,
	HR_F_HEADERS = 1 << 8,		// route- or destination-level header operations
};

struct virtual_service {
	struct istio_meta meta;
	const char **hosts;
	int num_hosts;
	const char **gateways;
	int num_gateways;
	struct http_route *http;
	int num_http;
	const char **export_to;
	int num_export_to;
	int num_tcp;	// tcp: routes, validated but not kept yet
	int num_tls;	// tls: routes, validated but not kept yet
};

// ---- DestinationRule (networking.istio.io v1, v1beta1, v1alpha3) ----
//
// Optional messages are pointers, NULL when the YAML leaves them out: for
// several of them absence means something else than an explicit default
// (no tls at all lets auto-mTLS decide; tls {mode: DISABLE} turns it off).
// Durations are milliseconds, -1 when unset. Optional strings are NULL when
// unset; an empty string reads as unset, as protobuf reads it. Plain proto3
// numbers are 0 when unset (the field's default then applies); wrapped
// numbers (google.protobuf.*Value) use -1 for unset.

enum dr_tls_mode {
	DR_TLS_DISABLE = 0,
	DR_TLS_SIMPLE,
	DR_TLS_MUTUAL,
	DR_TLS_ISTIO_MUTUAL,
};

// dr_tls is ClientTLSSettings: how the client side of an upstream
// connection does TLS.
struct dr_tls {
	enum dr_tls_mode mode;		// DISABLE when mode is left out
	const char *client_certificate;	// file path, MUTUAL only; NULL = unset
	const char *private_key;	// file path, MUTUAL only; NULL = unset
	const char *ca_certificates;	// file path; NULL = unset (system roots)
	const char *credential_name;	// secret holding key/cert/CA; NULL = unset
	const char **subject_alt_names;	// SANs the server cert must carry (any of)
	int num_subject_alt_names;
	const char *sni;		// NULL = unset
	int insecure_skip_verify;	// -1 unset, 0 false, 1 true
	const char *ca_crl;		// file path; NULL = unset
};

// DR_LB_* are LoadBalancerSettings.SimpleLB, in proto order.
enum dr_lb_simple {
	DR_LB_UNSPECIFIED = 0,	// Istio picks LEAST_REQUEST
	DR_LB_LEAST_CONN,	// deprecated alias of LEAST_REQUEST
	DR_LB_RANDOM,
	DR_LB_PASSTHROUGH,
	DR_LB_ROUND_ROBIN,
	DR_LB_LEAST_REQUEST,
};

enum dr_hash_key {
	DR_HASH_NONE = 0,
	DR_HASH_HEADER,		// http_header_name
	DR_HASH_COOKIE,		// http_cookie
	DR_HASH_SOURCE_IP,	// use_source_ip
	DR_HASH_QUERY_PARAM,	// http_query_parameter_name
};

enum dr_hash_algo {
	DR_HASH_ALGO_DEFAULT = 0,	// ring hash
	DR_HASH_ALGO_RING_HASH,
	DR_HASH_ALGO_MAGLEV,
};

// dr_consistent_hash is ConsistentHashLB: key says which hash key is set
// (exactly one is), algo which ring.
struct dr_consistent_hash {
	enum dr_hash_key key;
	const char *http_header_name;		// DR_HASH_HEADER
	const char *cookie_name;		// DR_HASH_COOKIE: name (required)
	const char *cookie_path;		// NULL = unset
	int64_t cookie_ttl_ms;			// -1 unset; 0 = session cookie
	struct kv *cookie_attributes;		// httpCookie.attributes {name, value}
	int num_cookie_attributes;
	int use_source_ip;			// DR_HASH_SOURCE_IP
	const char *http_query_parameter_name;	// DR_HASH_QUERY_PARAM
	enum dr_hash_algo algo;
	uint64_t ring_hash_min_size;		// ringHash.minimumRingSize, 0 = 1024
	uint64_t maglev_table_size;		// maglev.tableSize (a prime < 5000011)
	uint64_t minimum_ring_size;		// deprecated top-level form, 0 = unset
};

struct dr_locality_weight {
	const char *locality;	// "region/zone/subzone", may end in "*"
	uint32_t weight;	// 1..100, a distribute entry's weights sum to 100
};

struct dr_locality_distribute {
	const char *from;
	struct dr_locality_weight *to;
	int num_to;
};

struct dr_locality_failover {
	const char *from, *to;	// regions
};

// dr_locality_lb is LocalityLoadBalancerSetting; it replaces the mesh-wide
// setting as a whole. distribute and failover are never both set.
struct dr_locality_lb {
	struct dr_locality_distribute *distribute;
	int num_distribute;
	struct dr_locality_failover *failover;
	int num_failover;
	const char **failover_priority;	// label names, optionally "label=value"
	int num_failover_priority;
	int enabled;			// -1 unset (mesh default), 0, 1
};

// dr_warmup is LoadBalancerSettings.warmup (slow start for new endpoints).
struct dr_warmup {
	int64_t duration_ms;	// required, >= 1ms
	double minimum_percent;	// 0..100, -1 unset
	double aggression;	// >= 0, -1 unset
};

// dr_load_balancer is LoadBalancerSettings; simple and consistent_hash are
// a oneof (at most one set).
struct dr_load_balancer {
	enum dr_lb_simple simple;
	struct dr_consistent_hash *consistent_hash;	// NULL: simple applies
	struct dr_locality_lb *locality_lb;		// NULL: mesh settings apply
	int64_t warmup_duration_ms;			// warmupDurationSecs, -1 unset
	struct dr_warmup *warmup;			// NULL = unset
};

struct dr_tcp_keepalive {
	uint32_t probes;	// 0 = OS default
	int64_t time_ms;	// -1 = OS default
	int64_t interval_ms;	// -1 = OS default
};

// dr_tcp_pool and dr_http_pool are ConnectionPoolSettings.{tcp,http}.
struct dr_tcp_pool {
	int32_t max_connections;		// 0 = unlimited (2^32-1)
	int64_t connect_timeout_ms;		// -1 = 10s
	struct dr_tcp_keepalive *keepalive;	// NULL = no SO_KEEPALIVE
	int64_t max_connection_duration_ms;	// -1 = none
	int64_t idle_timeout_ms;		// -1 = 1h
};

enum dr_h2_upgrade {
	DR_H2_DEFAULT = 0,
	DR_H2_DO_NOT_UPGRADE,
	DR_H2_UPGRADE,
};

struct dr_http_pool {
	int32_t http1_max_pending_requests;	// 0 = 2^32-1
	int32_t http2_max_requests;		// 0 = 2^32-1
	int32_t max_requests_per_connection;	// 0 = unlimited; 1 = no keep-alive
	int32_t max_retries;			// 0 = 2^32-1
	int64_t idle_timeout_ms;		// -1 = 1h
	enum dr_h2_upgrade h2_upgrade_policy;
	int use_client_protocol;
	int32_t max_concurrent_streams;		// 0 = 2^31-1
	int64_t h2_keepalive_interval_ms;	// http2KeepAlive.interval, -1 unset
	int64_t h2_keepalive_timeout_ms;	// http2KeepAlive.timeout, -1 unset
};

// dr_conn_pool is ConnectionPoolSettings; at least one of tcp, http is set.
struct dr_conn_pool {
	struct dr_tcp_pool *tcp;	// NULL = unset
	struct dr_http_pool *http;	// NULL = unset
};

// dr_outlier is OutlierDetection (ejection of failing endpoints).
struct dr_outlier {
	int32_t consecutive_errors;		// deprecated; 0 = unset
	int64_t consecutive_gateway_errors;	// -1 unset (off); 0 disables
	int64_t consecutive_5xx_errors;		// -1 unset (5); 0 disables
	int64_t interval_ms;			// -1 = 10s
	int64_t base_ejection_time_ms;		// -1 = 30s
	int32_t max_ejection_percent;		// 0..100; 0 = unset (10)
	int32_t min_health_percent;		// 0..100
	int split_external_local_origin_errors;
	int64_t consecutive_local_origin_failures;	// -1 unset (5)
};

// dr_port_policy is one portLevelSettings entry: it replaces (does not
// merge with) the policy above it for that port.
struct dr_port_policy {
	uint32_t port;				// 1..65535, unique in the list
	struct dr_load_balancer *load_balancer;	// NULL = unset
	struct dr_conn_pool *connection_pool;
	struct dr_outlier *outlier_detection;
	struct dr_tls *tls;
};

// dr_tunnel is TrafficPolicy.tunnel: TCP carried in HTTP CONNECT or POST.
struct dr_tunnel {
	const char *protocol;	// "CONNECT" (also when left out) or "POST"
	const char *target_host;	// FQDN or IP
	uint32_t target_port;
};

enum dr_proxy_protocol { DR_PROXY_V1 = 0, DR_PROXY_V2 };

// dr_retry_budget caps concurrent retries relative to active requests.
struct dr_retry_budget {
	double percent;			// 0..100, -1 unset (20)
	uint32_t min_retry_concurrency;	// 0 = unset (3)
};

// dr_traffic_policy is a TrafficPolicy, at the rule or at a subset; at
// least one field is set. A subset's policy overrides the rule's field by
// field; a port_level_settings entry replaces the rest for its port.
struct dr_traffic_policy {
	struct dr_load_balancer *load_balancer;	// NULL = unset
	struct dr_conn_pool *connection_pool;
	struct dr_outlier *outlier_detection;
	struct dr_tls *tls;
	struct dr_port_policy *port_level_settings;
	int num_port_level_settings;
	struct dr_tunnel *tunnel;
	int proxy_protocol;		// -1 unset, else enum dr_proxy_protocol
	struct dr_retry_budget *retry_budget;
};

// dr_subset is a named set of the host's endpoints (by labels).
struct dr_subset {
	const char *name;		// DNS-1123 label, unique in the rule
	struct kv *labels;		// endpoint labels; may be empty
	int num_labels;
	struct dr_traffic_policy *traffic_policy;	// NULL: the rule's applies
};

// destination_rule is a DestinationRule: policy for traffic to host after
// routing. traffic_policy->tls, subsets[].traffic_policy->tls and
// port_level_settings[].tls are the client TLS settings a proxy applies.
struct destination_rule {
	struct istio_meta meta;
	const char *host;		// FQDN, short name or *.wildcard
	struct dr_traffic_policy *traffic_policy;	// NULL = unset
	struct dr_subset *subsets;
	int num_subsets;
	const char **export_to;
	int num_export_to;
	int has_workload_selector;	// workloadSelector present (may be empty)
	struct kv *workload_selector;	// workloadSelector.matchLabels
	int num_workload_selector;
};

// ---- WorkloadEntry (networking.istio.io) ----

// workload_entry is a WorkloadEntry: one non-Kubernetes workload (a VM, a
// bare-metal host), the same fields as a ServiceEntry endpoint. A
// ServiceEntry whose workloadSelector matches its labels in its namespace
// lists it among its endpoints.
struct workload_entry {
	struct istio_meta meta;
	struct se_endpoint ep;
};

// ---- Sidecar (networking.istio.io) ----

enum sidecar_capture { SC_CAPTURE_DEFAULT = 0, SC_CAPTURE_IPTABLES, SC_CAPTURE_NONE };

struct sidecar_listener {
	struct se_port port;		// number 0: no port (an egress catch-all)
	const char *bind;		// IP or unix://, or NULL
	enum sidecar_capture capture_mode;
	const char *default_endpoint;	// ingress: "127.0.0.1:8080", "unix://...", ...
	const char **hosts;		// egress: "namespace/dnsName"
	int num_hosts;
};

// sidecar is a Sidecar: which services a workload's proxy sees (egress
// hosts) and its outbound traffic policy. The one that applies to a
// workload: its namespace's Sidecar selecting it, else its namespace's
// Sidecar without selector, else the root namespace's.
struct sidecar {
	struct istio_meta meta;
	struct kv *selector;		// workloadSelector.labels
	int num_selector;
	struct sidecar_listener *ingress, *egress;
	int num_ingress, num_egress;
	int outbound_mode;		// -1 unset, else enum outbound_policy (REGISTRY_ONLY 0, ALLOW_ANY 1)
	const char *egress_proxy_host;	// outboundTrafficPolicy.egressProxy
	const char *egress_proxy_subset;
	uint32_t egress_proxy_port;
	bool has_inbound_connection_pool;
};

// ---- PeerAuthentication (security.istio.io v1, v1beta1) ----

enum pa_mtls_mode {
	PA_MTLS_UNSET = 0,	// inherit from the parent scope
	PA_MTLS_DISABLE,
	PA_MTLS_PERMISSIVE,
	PA_MTLS_STRICT,
};

// pa_port_mtls is one portLevelMtls entry.
struct pa_port_mtls {
	uint32_t port;		// 1..65535 (workload port, after service targetPort)
	enum pa_mtls_mode mode;
};

// peer_authentication is a PeerAuthentication: which mTLS a workload
// accepts. Cross-resource rules (one mesh-wide policy in the root
// namespace, precedence) are the consumer's, not checked at load.
struct peer_authentication {
	struct istio_meta meta;
	struct kv *selector;	// selector.matchLabels; none = namespace- or
	int num_selector;	// mesh-wide (root namespace) policy
	enum pa_mtls_mode mtls_mode;	// UNSET when mtls is left out
	struct pa_port_mtls *port_level_mtls;	// in file order; needs a selector
	int num_port_level_mtls;
};

// ---- AuthorizationPolicy, RequestAuthentication (security.istio.io v1, v1beta1) ----

// policy_target_ref is a PolicyTargetReference: the object (a Service, a
// Gateway, ...) a policy attaches to instead of selecting workloads.
struct policy_target_ref {
	const char *group;	// "" (or "core") = the core group
	const char *kind;
	const char *name;
	const char *namespace_;	// NULL = the policy's own (the only one supported)
};

// policy_scope is what a security policy applies to: at most one of
// selector, target_ref, target_refs is set; none = namespace- or mesh-wide.
struct policy_scope {
	int has_selector;		// selector present (matchLabels may be empty)
	struct kv *selector;		// selector.matchLabels
	int num_selector;
	struct policy_target_ref *target_ref;	// NULL = unset
	struct policy_target_ref *target_refs;
	int num_target_refs;
};

enum ap_action { AP_ALLOW = 0, AP_DENY, AP_AUDIT, AP_CUSTOM };

// ap_source is Rule.From.source: every list set must match (AND), any item
// of a list (OR); not_* lists must not match. Strings keep Istio's
// "prefix*", "*suffix", "*" forms as written.
struct ap_source {
	const char **principals, **not_principals;
	int num_principals, num_not_principals;
	const char **request_principals, **not_request_principals;
	int num_request_principals, num_not_request_principals;
	const char **namespaces, **not_namespaces;
	int num_namespaces, num_not_namespaces;
	const char **ip_blocks, **not_ip_blocks;	// IPs or CIDRs
	int num_ip_blocks, num_not_ip_blocks;
	const char **remote_ip_blocks, **not_remote_ip_blocks;
	int num_remote_ip_blocks, num_not_remote_ip_blocks;
	const char **service_accounts, **not_service_accounts;	// "ns/sa" or "sa"
	int num_service_accounts, num_not_service_accounts;
	const char **trust_domains, **not_trust_domains;
	int num_trust_domains, num_not_trust_domains;
};

// ap_operation is Rule.To.operation.
struct ap_operation {
	const char **hosts, **not_hosts;
	int num_hosts, num_not_hosts;
	const char **ports, **not_ports;	// decimal strings, 1..65535
	int num_ports, num_not_ports;
	const char **methods, **not_methods;
	int num_methods, num_not_methods;
	const char **paths, **not_paths;	// may hold {*} / {**} templates
	int num_paths, num_not_paths;
};

// ap_condition is one Rule.when entry; at least one list is non-empty.
struct ap_condition {
	const char *key;	// "request.headers[x]", "source.ip", ...
	const char **values, **not_values;
	int num_values, num_not_values;
};

// ap_rule matches when any from, any to and every when match; an empty
// list (left out) matches anything.
struct ap_rule {
	struct ap_source *from;		// from[].source, in file order
	int num_from;
	struct ap_operation *to;	// to[].operation
	int num_to;
	struct ap_condition *when;
	int num_when;
};

// authorization_policy is an AuthorizationPolicy. No rules: ALLOW denies
// everything, DENY/AUDIT match nothing.
struct authorization_policy {
	struct istio_meta meta;
	struct policy_scope scope;
	enum ap_action action;		// ALLOW when left out
	const char *provider_name;	// provider.name, CUSTOM only; NULL = unset
	struct ap_rule *rules;
	int num_rules;
};

// jwt_header is one JWTRule.fromHeaders entry.
struct jwt_header {
	const char *name;
	const char *prefix;	// NULL = unset (e.g. "Bearer ")
};

// jwt_claim_header is one JWTRule.outputClaimToHeaders entry.
struct jwt_claim_header {
	const char *header;	// [-_A-Za-z0-9]+
	const char *claim;
};

// jwt_rule is a JWTRule: how a token of one issuer is found and checked.
struct jwt_rule {
	const char *issuer;
	const char **audiences;
	int num_audiences;
	const char *jwks_uri;		// http(s) URL; NULL = unset
	const char *jwks;		// inline JWKS JSON; NULL = unset
	struct jwt_header *from_headers;	// none: Authorization: Bearer
	int num_from_headers;
	const char **from_params;	// none: access_token
	int num_from_params;
	const char **from_cookies;
	int num_from_cookies;
	const char *output_payload_to_header;	// NULL = unset
	int forward_original_token;		// 0 or 1
	struct jwt_claim_header *output_claim_to_headers;
	int num_output_claim_to_headers;
	int64_t timeout_ms;			// JWKS fetch timeout; -1 = unset (5s)
	const char **space_delimited_claims;
	int num_space_delimited_claims;
};

// request_authentication is a RequestAuthentication: which JWTs a workload
// accepts (a request with an invalid one is rejected; one without passes).
struct request_authentication {
	struct istio_meta meta;
	struct policy_scope scope;
	struct jwt_rule *jwt_rules;
	int num_jwt_rules;
};

// ---- Gateway (networking.istio.io v1, v1beta1, v1alpha3) ----
//
// Checked as Istio's CRD schema and istiod's ValidateGateway check it; the
// data plane does not act on Gateways yet. Optional strings are NULL when
// unset ("" reads as unset, as protobuf reads it).

// GW_TLS_* are ServerTLSSettings.TLSmode, in proto order: PASSTHROUGH is
// what a tls block without mode means.
enum gw_tls_mode {
	GW_TLS_PASSTHROUGH = 0,
	GW_TLS_SIMPLE,
	GW_TLS_MUTUAL,
	GW_TLS_AUTO_PASSTHROUGH,
	GW_TLS_ISTIO_MUTUAL,
	GW_TLS_OPTIONAL_MUTUAL,
};

// GW_TLS_V* are ServerTLSSettings.TLSProtocol, in proto order.
enum gw_tls_version {
	GW_TLS_V_AUTO = 0,
	GW_TLS_V1_0,
	GW_TLS_V1_1,
	GW_TLS_V1_2,
	GW_TLS_V1_3,
};

// gw_tls_certificate is one tlsCertificates entry (file paths).
struct gw_tls_certificate {
	const char *server_certificate;
	const char *private_key;
	const char *ca_certificates;
};

// gw_tls is a server's ServerTLSSettings.
struct gw_tls {
	bool https_redirect;
	enum gw_tls_mode mode;
	const char *server_certificate;		// file paths, NULL = unset
	const char *private_key;
	const char *ca_certificates;
	const char *ca_crl;
	const char *credential_name;		// secret name, NULL = unset
	const char **credential_names;		// 1..2 secrets (RSA and ECDSA)
	int num_credential_names;
	const char *ca_cert_credential_name;	// CA bundle secret, NULL = unset
	struct gw_tls_certificate *tls_certificates;	// 1..2 when set
	int num_tls_certificates;
	const char **subject_alt_names;
	int num_subject_alt_names;
	const char **verify_certificate_spki;
	int num_verify_certificate_spki;
	const char **verify_certificate_hash;
	int num_verify_certificate_hash;
	enum gw_tls_version min_protocol_version;
	enum gw_tls_version max_protocol_version;
	const char **cipher_suites;		// as written; Istio only warns on unknown ones
	int num_cipher_suites;
};

// gw_server is one Server: a port the gateway listens on and the hosts it
// exposes there.
struct gw_server {
	struct se_port port;		// protocol canonical upper case, never NULL;
					// number 0 only with a unix:// bind
	const char *bind;		// IP or unix://path, NULL = unset
	const char **hosts;		// "ns/host", "*/host", "./host" or a bare host
	int num_hosts;
	struct gw_tls *tls;		// NULL: no tls block
	const char *default_endpoint;	// NULL = unset
	const char *name;		// NULL = unset
};

// gateway is a Gateway: the servers of the gateway workloads its selector
// picks (in any namespace).
struct gateway {
	struct istio_meta meta;
	struct kv *selector;		// selector labels; none = every gateway
	int num_selector;
	struct gw_server *servers;	// at least one
	int num_servers;
};

// ---- WorkloadGroup (networking.istio.io v1, v1beta1, v1alpha3) ----

enum wg_probe_kind {
	WG_PROBE_HTTP_GET = 0,
	WG_PROBE_TCP_SOCKET,
	WG_PROBE_EXEC,
	WG_PROBE_GRPC,		// accepted by the CRD, refused by istiod's webhook
};

// wg_probe is a ReadinessProbe; exactly one health check method is set.
// Numbers are 0 when unset (the proxy's defaults then apply).
struct wg_probe {
	int32_t initial_delay_seconds;
	int32_t timeout_seconds;
	int32_t period_seconds;
	int32_t success_threshold;
	int32_t failure_threshold;
	enum wg_probe_kind kind;
	struct {
		const char *path;	// NULL = unset
		uint32_t port;
		const char *host;	// NULL = unset (the workload's IP)
		const char *scheme;	// "HTTP" or "HTTPS"; NULL = unset (HTTP)
		struct kv *headers;	// httpHeaders {name, value}, repeats allowed
		int num_headers;
	} http_get;
	struct {
		const char *host;	// NULL = unset
		uint32_t port;
	} tcp_socket;
	struct {
		const char **command;	// at least one item
		int num_command;
	} exec;
	struct {
		uint32_t port;
		const char *service;	// NULL = unset
	} grpc;
};

// workload_group is a WorkloadGroup: the template the WorkloadEntries of
// auto-registered VMs are made from.
struct workload_group {
	struct istio_meta meta;
	struct kv *labels;		// spec.metadata.labels
	int num_labels;
	struct kv *annotations;		// spec.metadata.annotations
	int num_annotations;
	struct se_endpoint template_;	// a WorkloadEntry spec; its address may be empty
	struct wg_probe *probe;		// NULL = unset
};

// ---- Telemetry (telemetry.istio.io v1, v1alpha1) ----
//
// Nullable booleans and wrapped numbers are -1 when unset.

// TM_MODE_* are WorkloadMode, in proto order.
enum tm_mode {
	TM_MODE_CLIENT_AND_SERVER = 0,
	TM_MODE_CLIENT,
	TM_MODE_SERVER,
};

enum tm_tag_kind {
	TM_TAG_NONE = 0,	// {}: no type set (the CRD allows it)
	TM_TAG_LITERAL,
	TM_TAG_ENVIRONMENT,
	TM_TAG_HEADER,
	TM_TAG_FORMATTER,
};

// tm_custom_tag is one Tracing.customTags entry.
struct tm_custom_tag {
	const char *name;		// the tag
	enum tm_tag_kind kind;
	const char *value;		// literal.value or formatter.value
	const char *source;		// environment.name or header.name
	const char *default_value;	// environment/header defaultValue, NULL = unset
};

// tm_tracing is one Tracing entry.
struct tm_tracing {
	enum tm_mode match_mode;	// match.mode; CLIENT_AND_SERVER when unset
	const char **providers;		// providers[].name
	int num_providers;
	double random_sampling_percentage;	// 0..100, -1 unset
	int disable_span_reporting;
	struct tm_custom_tag *custom_tags;
	int num_custom_tags;
	int use_request_id_for_trace_sampling;
	int enable_istio_tags;
};

// TM_METRIC_* are MetricSelector.IstioMetric, in proto order.
enum tm_metric {
	TM_METRIC_ALL_METRICS = 0,
	TM_METRIC_REQUEST_COUNT,
	TM_METRIC_REQUEST_DURATION,
	TM_METRIC_REQUEST_SIZE,
	TM_METRIC_RESPONSE_SIZE,
	TM_METRIC_TCP_OPENED_CONNECTIONS,
	TM_METRIC_TCP_CLOSED_CONNECTIONS,
	TM_METRIC_TCP_SENT_BYTES,
	TM_METRIC_TCP_RECEIVED_BYTES,
	TM_METRIC_GRPC_REQUEST_MESSAGES,
	TM_METRIC_GRPC_RESPONSE_MESSAGES,
};

enum tm_tag_op { TM_TAG_UPSERT = 0, TM_TAG_REMOVE };

struct tm_tag_override {
	const char *name;
	enum tm_tag_op operation;	// UPSERT when unset
	const char *value;		// UPSERT: the value expression; NULL for REMOVE
};

// tm_metrics_override is one MetricsOverrides entry.
struct tm_metrics_override {
	enum tm_metric metric;		// match.metric; ALL_METRICS when unset
	const char *custom_metric;	// match.customMetric; when set, metric is unused
	enum tm_mode match_mode;
	int disabled;
	struct tm_tag_override *tag_overrides;
	int num_tag_overrides;
};

// tm_metrics is one Metrics entry.
struct tm_metrics {
	const char **providers;
	int num_providers;
	struct tm_metrics_override *overrides;
	int num_overrides;
	int64_t reporting_interval_ms;	// -1 = unset
};

// tm_access_logging is one AccessLogging entry.
struct tm_access_logging {
	enum tm_mode match_mode;
	const char **providers;
	int num_providers;
	int disabled;
	const char *filter;		// filter.expression (CEL), NULL = unset
};

// telemetry is a Telemetry: tracing, metrics and access logging for the
// workloads (or objects) it applies to; the data plane does not act on it
// yet.
struct telemetry {
	struct istio_meta meta;
	struct policy_scope scope;
	struct tm_tracing *tracing;
	int num_tracing;
	struct tm_metrics *metrics;
	int num_metrics;
	struct tm_access_logging *access_logging;
	int num_access_logging;
};

struct istio_config {
	struct service_entry *service_entries;
	int num_service_entries;
	struct virtual_service *virtual_services;
	int num_virtual_services;
	struct destination_rule *destination_rules;
	int num_destination_rules;
	struct peer_authentication *peer_authentications;
	int num_peer_authentications;
	struct workload_entry *workload_entries;
	int num_workload_entries;
	struct sidecar *sidecars;
	int num_sidecars;
	struct authorization_policy *authorization_policies;
	int num_authorization_policies;
	struct request_authentication *request_authentications;
	int num_request_authentications;
	struct gateway *gateways;
	int num_gateways;
	struct workload_group *workload_groups;
	int num_workload_groups;
	struct telemetry *telemetries;
	int num_telemetries;
	int num_ignored;	// EnvoyFilter and ProxyConfig documents: checked
				// for shape only, not parsed
	// validate_only: each document is checked on its own, as istioctl
	// validate does; a namespace/name seen before is not an error (the
	// caller set it before loading; the config is for checking only)
	bool validate_only;
	void *arena;		// private: owns every string and array above
};

struct istio_error {
	char msg[512];		// "file:line: Kind ns/name: field: what is wrong"
};

// istio_wanted_file says whether istio_load_dir reads a directory entry of
// that name (*.yaml, *.yml, *.json, not hidden).
bool istio_wanted_file(const char *name);

// istio_load_dir reads every *.yaml, *.yml and *.json file in dir (sorted by
// name, not recursive; a missing dir is an empty config) into *out. On
// validation errors it returns -EINVAL and fills up to max_errs errors
// (*out_num_errs); *out is then empty. It returns 0 or -errno.
// Names starting with "." and entries that are not regular files (after
// following symlinks, as in ConfigMap volumes) are skipped. *out is
// overwritten, not freed; errs may be NULL with max_errs 0. The same
// namespace/name twice for a kind is an error ("already defined at").
int istio_load_dir(const char *dir, struct istio_config *out,
		   struct istio_error *errs, int max_errs, int *out_num_errs);

// istio_sources are the files a load read (their path and bytes), so that
// a later rebuild (a Kubernetes change) can load the same good files again
// without reading a directory that may hold a broken edit by then.
struct istio_sources {
	struct istio_source {
		char *name;
		char *data;
		size_t len;
	} *v;
	int num, cap;
};

// istio_load_dir_keep is istio_load_dir that also hands the files it read
// to *keep (zeroed by the caller) when it succeeds; on failure *keep is
// left empty.
int istio_load_dir_keep(const char *dir, struct istio_config *out, struct istio_sources *keep,
			struct istio_error *errs, int max_errs, int *out_num_errs);

// istio_read_dir reads the files istio_load_dir_keep would load into *keep
// (zeroed by the caller), without loading them. Same returns.
int istio_read_dir(const char *dir, struct istio_sources *keep, struct istio_error *errs,
		   int max_errs, int *out_num_errs);

// istio_load_sources loads kept files into *cfg (as istio_load_buf each).
int istio_load_sources(const struct istio_sources *srcs, struct istio_config *cfg,
		       struct istio_error *errs, int max_errs, int *out_num_errs);
void istio_sources_free(struct istio_sources *srcs);

// istio_load_file parses one file (multi-document YAML; JSON is YAML) and
// appends what it holds to *cfg, which must have been zeroed or filled by a
// previous istio_load_*. Same return convention. On any error nothing of the
// file is appended: *cfg keeps exactly the resources it held.
int istio_load_file(const char *path, struct istio_config *cfg,
		    struct istio_error *errs, int max_errs, int *out_num_errs);

// istio_load_buf is istio_load_file on a buffer; name is used in messages.
int istio_load_buf(const char *name, const char *data, size_t len,
		   struct istio_config *cfg, struct istio_error *errs,
		   int max_errs, int *out_num_errs);

// istio_load_node is istio_load_buf on one document already parsed (a
// Kubernetes API object read as JSON): a resource, or a v1 List of them.
// name is the source named in messages ("kubernetes VirtualService ns/x").
// On any error nothing of the document is appended.
struct ynode;
int istio_load_node(const char *name, const struct ynode *doc, struct istio_config *cfg,
		    struct istio_error *errs, int max_errs, int *out_num_errs);

// istio_load_generated is istio_load_node for a resource meshgate made
// itself (a Kubernetes Service as a ServiceEntry): its namespace/name may
// be one a user's resource of the same kind has too.
int istio_load_generated(const char *name, const struct ynode *doc, struct istio_config *cfg,
			 struct istio_error *errs, int max_errs, int *out_num_errs);

// istio_expand_host resolves a host named in namespace ns as Istio does
// for VirtualService, DestinationRule and Sidecar fields: a short name
// becomes name.ns.svc.<domain>, a wildcard or a name with a dot stays as
// written; lowercased, into buf (len bytes, truncated to fit). Returns buf.
char *istio_expand_host(char *buf, size_t len, const char *host, const char *ns,
			const char *domain);

// istio_config_take_endpoints applies an endpoint-only update: every
// ServiceEntry of part replaces the endpoints of its twin in cfg (same
// source file, namespace and name) when nothing else of it changed (same
// meta.hash). It returns how many twins got other endpoints, or -ESRCH when
// part holds anything else (a resource of another kind, an entry with no
// twin or with other changes): cfg is then left exactly as it was and the
// change needs a full load. On success cfg owns what part held (part is
// left empty); istio_config_taken counts the parts cfg took since it was
// loaded, *bytes (may be NULL) what they hold and *own (may be NULL) what
// cfg's own loading holds, so the caller can load afresh when they pile up.
int istio_config_take_endpoints(struct istio_config *cfg, struct istio_config *part);
int istio_config_taken(const struct istio_config *cfg, size_t *bytes, size_t *own);

// istio_config_each calls fn for every resource's metadata, kind by kind.
void istio_config_each(const struct istio_config *cfg,
		       void (*fn)(void *arg, const struct istio_meta *m), void *arg);

// istio_config_free frees everything *cfg owns and zeroes it.
void istio_config_free(struct istio_config *cfg);

// istio_parse_duration parses a protobuf Duration string ("1s", "0.5s",
// "100ms", "1m", "1h", "1.5h", "2h30m" as istio accepts) into milliseconds.
// It returns 0 or -EINVAL.
int istio_parse_duration(const char *s, int64_t *out_ms);

#endif
