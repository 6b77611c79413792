// SPDX-License-Identifier: Apache-2.0
// bootstrap.h: the appliance's bootstrap configuration, read from an INI file
// through inih, or the embedded default. Unknown sections/keys and bad
// values are errors naming file:line; meshgate refuses to start on them.
#ifndef MG_CONFIG_BOOTSTRAP_H
#define MG_CONFIG_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	BOOT_MAX_LISTENERS = 32,
	BOOT_MAX_LABELS = 16,
};

enum outbound_policy {
	OUTBOUND_REGISTRY_ONLY = 0,
	OUTBOUND_ALLOW_ANY,
};

enum listener_proto {
	LISTENER_HTTP = 0,
	LISTENER_TCP,
};

// Server-side TLS of a listener, as Istio's Gateway server tls modes.
enum listener_tls {
	LTLS_OFF = 0,
	LTLS_SIMPLE,		// certificates from files
	LTLS_MUTUAL,		// plus client certificates verified against tls_ca
	LTLS_ISTIO_MUTUAL,	// the appliance's SVID; clients must present mesh SVIDs
};

enum { BOOT_MAX_TLS_CERTS = 8 };

enum listener_role {
	ROLE_OUTBOUND = 0,	// the mesh's outbound side (sidecar 15001-like, explicit)
	ROLE_INBOUND,		// inbound to the local workload
	ROLE_GATEWAY,		// gateway listener (later issue)
};

struct label {
	char key[64];
	char value[64];
};

struct listener_cfg {
	char name[64];
	char address[64];	// as written ("127.0.0.1", "::", "[::1]" is accepted and stored without brackets)
	uint16_t port;
	struct sockaddr_storage addr;	// resolved numeric address+port (AF_INET or AF_INET6)
	socklen_t addr_len;
	enum listener_proto protocol;
	enum listener_role role;
	// protocol=tcp: the destination, "host:port" where host is a registered
	// service host (ServiceEntry) or an IP literal ([v6]:port for IPv6).
	char destination[256];
	enum listener_tls tls;
	// tls_set: the tls key was given. An inbound listener without it
	// follows PeerAuthentication (STRICT/PERMISSIVE/DISABLE, Istio's
	// default PERMISSIVE) with the appliance's SVID, as a sidecar's
	// inbound does.
	bool tls_set;
	// tls_cert/tls_key: comma-separated lists paired in order (several
	// certificates: the client's SNI selects, the first is the default).
	char tls_cert[2048];
	char tls_key[2048];
	char tls_ca[1024];	// MUTUAL: CA bundle for client certificates
	int num_tls_certs;
	// tls_sessions: the listener resumes sessions (cache and tickets);
	// off makes every connection a full handshake.
	bool tls_sessions;
	// original_dst: the listener receives redirected connections (an
	// nftables/iptables REDIRECT, like Istio's 15006) and forwards each to
	// the destination it was addressed to (SO_ORIGINAL_DST), the local
	// workload: TCP as bytes, HTTP request by request without Host
	// routing. role = outbound (Istio's 15001): HTTP is routed by Host,
	// TLS by SNI, other bytes by ServiceEntry address, and what is not
	// registered goes to the original destination (ALLOW_ANY) or is
	// closed (REGISTRY_ONLY). Not for gateways.
	bool original_dst;
	int line;		// line of the [listener NAME] header, for messages
};

struct bootstrap {
	char path[4096];	// file it came from, "" for the embedded default
	// [appliance]
	char name[64];			// default: "meshgate"
	int workers;			// 0 = auto (one per online CPU); else 1..256
	char trust_domain[256];		// default "cluster.local"
	char state_dir[4096];		// default "./state"
	char namespace_[64];		// default "default"
	char service_account[64];	// default "meshgate"
	struct label labels[BOOT_MAX_LABELS];	// "app=meshgate,version=v1"
	int num_labels;
	// [admin]
	char admin_address[64];		// default 127.0.0.1
	uint16_t admin_port;		// default 15000
	uint16_t health_port;		// default 15021 (bound on health_address)
	uint16_t prometheus_port;	// default 15090 (bound on health_address)
	char health_address[64];	// default 0.0.0.0
	// [mesh]
	char config_dir[4096];		// default "./mesh.d"
	enum outbound_policy outbound_policy;	// default REGISTRY_ONLY
	char mesh_config[4096];		// a MeshConfig file (mesh.yaml), "" none
	// MeshConfig's other fields meshgate acts on (mesh.h): from the file or
	// the istio ConfigMap
	char root_namespace[64];	// default "istio-system"
	bool auto_mtls;			// enableAutoMtls, default true
	uint32_t connect_timeout_ms;	// connectTimeout, default 10 s
	unsigned mesh_ini_set;		// MESH_SET_* given by this file: they win
	// [ca]
	char ca_address[64];		// default 0.0.0.0
	uint16_t ca_port;		// default 15012; 0 = the signing service is off
	// [dns] servers: where ServiceEntry host names are resolved, as
	// c-ares' "ip:port,[ip6]:port" list; "" = the system's resolv.conf
	char dns_servers[512];
	int64_t workload_cert_ttl_s;	// the appliance's own SVID, default 24h
	// [kubernetes]: the section's presence turns the source on
	// (bootstrap_kube_auto turns it on from the environment for the
	// embedded default); kube_config "" reads $KUBECONFIG, then in-cluster
	bool kube_enabled;
	char kube_config[4096];
	char kube_domain[256];		// default "cluster.local"
	char kube_namespaces[1024];	// "a,b"; "" = every namespace
	char kube_cluster_id[64];	// the ClusterID the CA accepts, default "Kubernetes"
	// [telemetry]
	char access_log[4096];		// "" (off), "stdout", or a path
	// [limits]
	// TLS handshake flood shedding, per worker: new connections that need a
	// server handshake are closed at once while max_pending_tls_handshakes
	// are unfinished (default 1024; 0: no cap) or past tls_handshake_rate
	// per second (default 0: no rate; bursts up to one second's worth).
	uint32_t max_pending_tls_handshakes;
	uint32_t tls_handshake_rate;
	uint32_t max_request_body_buffer;	// bytes buffered where buffering is needed; default 1 MiB (413 above)
	uint32_t header_timeout_ms;	// default 10000
	uint32_t idle_timeout_ms;	// default 3600000
	uint32_t drain_timeout_ms;	// default 15000
	// [listener NAME] sections, in file order
	struct listener_cfg listeners[BOOT_MAX_LISTENERS];
	int num_listeners;
};

// bootstrap_default fills *b with the embedded default: one HTTP outbound
// listener "outbound_http" on 127.0.0.1:8080, admin on 127.0.0.1:15000,
// health :15021, Prometheus :15090, config_dir ./mesh.d, REGISTRY_ONLY.
void bootstrap_default(struct bootstrap *b);

// bootstrap_load reads the INI file at path over the defaults. It returns 0,
// or -EINVAL with a message "path:line: what is wrong" in err (or -errno
// with "path: strerror" when the file cannot be read).
// It starts from bootstrap_default(), so keys the file omits keep their
// defaults; on any error *b is left exactly as it was. err may be NULL.
int bootstrap_load(struct bootstrap *b, const char *path, char *err, size_t err_len);

// bootstrap_parse_addr parses "ADDR" + port into a sockaddr (numeric only,
// IPv4 or IPv6, "[v6]" accepted). It returns 0 or -EINVAL.
int bootstrap_parse_addr(const char *address, uint16_t port,
			 struct sockaddr_storage *out, socklen_t *out_len);

#endif
