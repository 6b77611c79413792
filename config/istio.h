// SPDX-License-Identifier: Apache-2.0
// istio.h: the Istio resource model read from YAML. For now ServiceEntry and
// VirtualService (the subset issue 2 routes on, every other field kept for
// later issues is parsed as it is added). All strings are owned by the
// istio_config they belong to (one arena), freed by istio_config_free.
#ifndef MG_CONFIG_ISTIO_H
#define MG_CONFIG_ISTIO_H

#include <stdint.h>
#include <stddef.h>

struct istio_meta {
	const char *kind;	// "ServiceEntry", ...
	const char *name;
	const char *namespace_;	// "default" when metadata.namespace is absent
	const char *file;
	int line;		// line of the document's start
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

struct http_route_dest {
	struct destination destination;
	int32_t weight;		// 0 = unset
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
	unsigned features;	// HR_F_* present in the YAML (validated, not kept)
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

struct istio_config {
	struct service_entry *service_entries;
	int num_service_entries;
	struct virtual_service *virtual_services;
	int num_virtual_services;
	int num_ignored;	// documents of kinds this build does not act on yet
	void *arena;		// private: owns every string and array above
};

struct istio_error {
	char msg[512];		// "file:line: Kind ns/name: field: what is wrong"
};

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

// istio_config_free frees everything *cfg owns and zeroes it.
void istio_config_free(struct istio_config *cfg);

// istio_parse_duration parses a protobuf Duration string ("1s", "0.5s",
// "100ms", "1m", "1h", "1.5h", "2h30m" as istio accepts) into milliseconds.
// It returns 0 or -EINVAL.
int istio_parse_duration(const char *s, int64_t *out_ms);

#endif
