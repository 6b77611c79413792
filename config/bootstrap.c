// SPDX-License-Identifier: Apache-2.0
// bootstrap.c: the INI bootstrap file through inih; any unknown or repeated key
// or bad value stops startup with "path:line: what", nothing half-applied.
#include "config/bootstrap.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <ini.h>

#include "config/mesh.h"
#include "core/bug.h"

enum {
	BOOT_MAX_FILE = 1024 * 1024,	// a bootstrap file is a page or two
	MAX_KEYS = 16,			// keys per section (bitmask + first lines)
};

enum section {
	SEC_NONE = 0,		// before the first [section]
	SEC_APPLIANCE,
	SEC_ADMIN,
	SEC_MESH,
	SEC_TELEMETRY,
	SEC_LIMITS,
	SEC_LISTENER,
	SEC_CA,
	SEC_DNS,
	SEC_KUBERNETES,
	SEC_BAD,		// a header already reported as wrong
	SEC_COUNT,
};

static const char *const section_names[SEC_COUNT] = {
	[SEC_APPLIANCE] = "appliance",
	[SEC_ADMIN] = "admin",
	[SEC_MESH] = "mesh",
	[SEC_TELEMETRY] = "telemetry",
	[SEC_LIMITS] = "limits",
	[SEC_LISTENER] = "listener",
	[SEC_CA] = "ca",
	[SEC_DNS] = "dns",
	[SEC_KUBERNETES] = "kubernetes",
};

struct seen_keys {
	uint32_t mask;
	int line[MAX_KEYS];
};

struct parse_state {
	struct bootstrap *b;
	const char *path;
	char *err;
	size_t err_len;
	bool failed;
	// what the reader hands to inih
	const char *data;
	size_t len, off;
	int line;		// line number of the last line handed to inih
	// where we are
	enum section cur;
	struct listener_cfg *lis;	// current [listener NAME]
	int section_line[SEC_COUNT];
	struct seen_keys seen[SEC_COUNT];
	struct seen_keys lis_seen[BOOT_MAX_LISTENERS];
	int lis_dest_line[BOOT_MAX_LISTENERS];
	int lis_num_keys[BOOT_MAX_LISTENERS];
};

static void bad(struct parse_state *ps, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

// bad records the first error as "path:line: what"; later ones are dropped
// because they are often consequences of the first.
static void bad(struct parse_state *ps, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->failed)
		return;
	ps->failed = true;
	if (!ps->err || !ps->err_len)
		return;
	n = snprintf(ps->err, ps->err_len, "%s:%d: ", ps->path, line);
	if (n < 0 || (size_t)n >= ps->err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->err_len - n, fmt, ap);
	va_end(ap);
}

void bootstrap_default(struct bootstrap *b)
{
	struct listener_cfg *l;

	memset(b, 0, sizeof(*b));
	strcpy(b->name, "meshgate");
	b->workers = 0;
	strcpy(b->trust_domain, "cluster.local");
	strcpy(b->state_dir, "./state");
	strcpy(b->namespace_, "default");
	strcpy(b->service_account, "meshgate");
	strcpy(b->admin_address, "127.0.0.1");
	b->admin_port = 15000;
	strcpy(b->health_address, "0.0.0.0");
	b->health_port = 15021;
	b->prometheus_port = 15090;
	strcpy(b->config_dir, "./mesh.d");
	b->outbound_policy = OUTBOUND_REGISTRY_ONLY;
	b->max_request_body_buffer = 1024 * 1024;
	b->max_pending_tls_handshakes = 1024;
	b->header_timeout_ms = 10000;
	b->idle_timeout_ms = 3600000;
	b->drain_timeout_ms = 15000;
	strcpy(b->ca_address, "0.0.0.0");
	b->ca_port = 15012;
	b->workload_cert_ttl_s = 24 * 3600;
	strcpy(b->kube_domain, "cluster.local");
	strcpy(b->kube_cluster_id, "Kubernetes");	// istiod's default CLUSTER_ID
	strcpy(b->root_namespace, "istio-system");
	b->auto_mtls = true;
	b->connect_timeout_ms = 10000;

	l = &b->listeners[0];
	strcpy(l->name, "outbound_http");
	strcpy(l->address, "127.0.0.1");
	l->port = 8080;
	l->protocol = LISTENER_HTTP;
	l->role = ROLE_OUTBOUND;
	l->tls_sessions = true;
	bootstrap_parse_addr(l->address, l->port, &l->addr, &l->addr_len);
	// Istio's outbound capture port: connections that redirect rules
	// (scripts/capture) send here go on by Host, SNI or address
	l = &b->listeners[1];
	strcpy(l->name, "outbound_capture");
	strcpy(l->address, "127.0.0.1");
	l->port = 15001;
	l->protocol = LISTENER_HTTP;
	l->role = ROLE_OUTBOUND;
	l->original_dst = true;
	l->tls_sessions = true;
	bootstrap_parse_addr(l->address, l->port, &l->addr, &l->addr_len);
	b->num_listeners = 2;
}

int bootstrap_parse_addr(const char *address, uint16_t port,
			 struct sockaddr_storage *out, socklen_t *out_len)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = address ? strlen(address) : 0;
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
	bool bracketed = false;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	if (address[0] == '[') {
		if (len < 3 || address[len - 1] != ']')
			return -EINVAL;
		memcpy(buf, address + 1, len - 2);
		buf[len - 2] = '\0';
		bracketed = true;
	} else {
		memcpy(buf, address, len + 1);
	}
	memset(out, 0, sizeof(*out));
	if (!bracketed && inet_pton(AF_INET, buf, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*out_len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*out_len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

// ---- value parsers: each returns 0 or reports and returns -1 ----

static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;

	if (!*v)
		return -1;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		if (n > (max - (uint64_t)(*v - '0')) / 10)
			return -2;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	*out = n;
	return 0;
}

static int set_number(struct parse_state *ps, const char *key, const char *v,
		      uint64_t min, uint64_t max, uint64_t *out)
{
	int r = parse_u64(v, UINT64_MAX, out);

	if (r == -1) {
		bad(ps, ps->line, "%s: \"%.64s\" is not a decimal number", key, v);
		return -1;
	}
	if (r == -2 || *out < min || *out > max) {
		bad(ps, ps->line, "%s: %.64s is out of range (%llu..%llu)", key, v,
		    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

static int set_port(struct parse_state *ps, const char *key, const char *v, uint16_t *out)
{
	uint64_t n;

	if (set_number(ps, key, v, 1, 65535, &n) < 0)
		return -1;
	*out = (uint16_t)n;
	return 0;
}

// set_duration reads "<N>ms", "<N>s", "<N>m" or "<N>h" into milliseconds.
static int set_duration(struct parse_state *ps, const char *key, const char *v,
			uint32_t min_ms, uint32_t *out)
{
	char num[32];
	const char *unit = v;
	uint64_t n, mult;

	while (*unit >= '0' && *unit <= '9')
		unit++;
	if (unit == v || (size_t)(unit - v) >= sizeof(num))
		goto syntax;
	memcpy(num, v, unit - v);
	num[unit - v] = '\0';
	if (!strcmp(unit, "ms"))
		mult = 1;
	else if (!strcmp(unit, "s"))
		mult = 1000;
	else if (!strcmp(unit, "m"))
		mult = 60 * 1000;
	else if (!strcmp(unit, "h"))
		mult = 3600 * 1000;
	else
		goto syntax;
	if (parse_u64(num, UINT32_MAX, &n) < 0 || n > UINT32_MAX / mult) {
		bad(ps, ps->line, "%s: %.64s is too long (max %u ms)", key, v, UINT32_MAX);
		return -1;
	}
	if (n * mult < min_ms) {
		bad(ps, ps->line, "%s: %.64s is too short (min %u ms)", key, v, min_ms);
		return -1;
	}
	*out = (uint32_t)(n * mult);
	return 0;
syntax:
	bad(ps, ps->line, "%s: \"%.64s\" is not a duration (e.g. 500ms, 10s, 5m, 1h)", key, v);
	return -1;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int set_string(struct parse_state *ps, const char *key, const char *v,
		      char *dst, size_t cap, bool allow_empty)
{
	size_t len = strlen(v);

	if (!len && !allow_empty) {
		bad(ps, ps->line, "%s: must not be empty", key);
		return -1;
	}
	if (len >= cap) {
		bad(ps, ps->line, "%s: longer than %zu bytes", key, cap - 1);
		return -1;
	}
	if (!printable(v)) {
		bad(ps, ps->line, "%s: contains control characters", key);
		return -1;
	}
	memcpy(dst, v, len + 1);
	return 0;
}

// dns_label: RFC 1123 label, lowercase as Kubernetes names are.
static bool dns_label(const char *s, size_t len)
{
	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      (c == '-' && i > 0 && i < len - 1)))
			return false;
	}
	return true;
}

static bool dns_subdomain(const char *s, size_t len)
{
	const char *end = s + len, *dot;

	if (len == 0 || len > 253)
		return false;
	for (;;) {
		dot = memchr(s, '.', end - s);
		if (!dns_label(s, dot ? (size_t)(dot - s) : (size_t)(end - s)))
			return false;
		if (!dot)
			return true;
		s = dot + 1;
	}
}

static bool name_chars(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || len > max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

// label_name: a Kubernetes qualified name (alnum ends, -_. inside), <= 63.
static bool label_name(const char *s, size_t len, bool allow_empty)
{
	if (len == 0)
		return allow_empty;
	if (len > 63)
		return false;
	if (!isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static void trim(char **s, size_t *len)
{
	while (*len && isspace((unsigned char)**s))
		(*s)++, (*len)--;
	while (*len && isspace((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

// set_labels parses "k=v,k2=v2". Keys are [prefix/]name as in Kubernetes;
// values may be empty.
static int set_labels(struct parse_state *ps, const char *v)
{
	struct bootstrap *b = ps->b;
	char buf[1024];
	char *item, *save = NULL;

	b->num_labels = 0;
	if (strlen(v) >= sizeof(buf)) {
		bad(ps, ps->line, "labels: too long");
		return -1;
	}
	strcpy(buf, v);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '='), *k = item, *val, *slash;
		size_t klen, vlen;

		if (!eq) {
			bad(ps, ps->line, "labels: \"%.64s\" is not key=value", item);
			return -1;
		}
		klen = eq - item;
		val = eq + 1;
		vlen = strlen(val);
		trim(&k, &klen);
		trim(&val, &vlen);
		slash = memchr(k, '/', klen);
		if (klen == 0 || klen >= sizeof(b->labels[0].key) ||
		    (slash && (!dns_subdomain(k, slash - k) ||
			       !label_name(slash + 1, klen - (slash + 1 - k), false))) ||
		    (!slash && !label_name(k, klen, false))) {
			bad(ps, ps->line, "labels: invalid key \"%.*s\"", (int)MIN(klen, 64), k);
			return -1;
		}
		if (!label_name(val, vlen, true)) {
			bad(ps, ps->line, "labels: invalid value \"%.*s\" for key %.*s",
			    (int)MIN(vlen, 64), val, (int)klen, k);
			return -1;
		}
		for (int i = 0; i < b->num_labels; i++) {
			if (strlen(b->labels[i].key) == klen && !memcmp(b->labels[i].key, k, klen)) {
				bad(ps, ps->line, "labels: key %.*s given twice", (int)klen, k);
				return -1;
			}
		}
		if (b->num_labels == BOOT_MAX_LABELS) {
			bad(ps, ps->line, "labels: more than %d labels", BOOT_MAX_LABELS);
			return -1;
		}
		memcpy(b->labels[b->num_labels].key, k, klen);
		b->labels[b->num_labels].key[klen] = '\0';
		memcpy(b->labels[b->num_labels].value, val, vlen);
		b->labels[b->num_labels].value[vlen] = '\0';
		b->num_labels++;
	}
	return 0;
}

static int set_address(struct parse_state *ps, const char *key, const char *v,
		       char *dst, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t len = strlen(v);

	if (bootstrap_parse_addr(v, 0, &ss, &sl) < 0) {
		bad(ps, ps->line, "%s: \"%.64s\" is not a numeric IPv4 or IPv6 address", key, v);
		return -1;
	}
	if (v[0] == '[') {
		v++;
		len -= 2;
	}
	if (len >= cap) {
		bad(ps, ps->line, "%s: too long", key);
		return -1;
	}
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

// ---- [appliance] ----

static int k_name(struct parse_state *ps, const char *key, const char *v)
{
	if (!name_chars(v, sizeof(ps->b->name) - 1)) {
		bad(ps, ps->line, "%s: \"%.64s\" must be 1-63 characters of A-Z a-z 0-9 . _ -", key, v);
		return -1;
	}
	strcpy(ps->b->name, v);
	return 0;
}

static int k_workers(struct parse_state *ps, const char *key, const char *v)
{
	uint64_t n;

	if (!strcmp(v, "auto")) {
		ps->b->workers = 0;
		return 0;
	}
	if (parse_u64(v, UINT64_MAX, &n) == -1) {
		bad(ps, ps->line, "%s: \"%.64s\" is neither auto nor a number", key, v);
		return -1;
	}
	if (set_number(ps, key, v, 1, 256, &n) < 0)
		return -1;
	ps->b->workers = (int)n;
	return 0;
}

static int k_trust_domain(struct parse_state *ps, const char *key, const char *v)
{
	size_t len = strlen(v);

	// SPIFFE trust domain characters: lowercase letters, digits, . - _
	for (const char *p = v; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '-' || *p == '_')) {
			bad(ps, ps->line, "%s: \"%.64s\" may only hold a-z 0-9 . - _", key, v);
			return -1;
		}
	}
	if (!len || len >= sizeof(ps->b->trust_domain)) {
		bad(ps, ps->line, "%s: must be 1-255 characters", key);
		return -1;
	}
	strcpy(ps->b->trust_domain, v);
	ps->b->mesh_ini_set |= MESH_SET_TRUST_DOMAIN;	// over MeshConfig's trustDomain
	return 0;
}

static int k_state_dir(struct parse_state *ps, const char *key, const char *v)
{
	return set_string(ps, key, v, ps->b->state_dir, sizeof(ps->b->state_dir), false);
}

static int k_namespace(struct parse_state *ps, const char *key, const char *v)
{
	if (!dns_label(v, strlen(v))) {
		bad(ps, ps->line, "%s: \"%.64s\" is not a DNS-1123 label (a-z 0-9 -, at most 63)", key, v);
		return -1;
	}
	strcpy(ps->b->namespace_, v);
	return 0;
}

static int k_service_account(struct parse_state *ps, const char *key, const char *v)
{
	size_t len = strlen(v);

	if (len >= sizeof(ps->b->service_account) || !dns_subdomain(v, len)) {
		bad(ps, ps->line, "%s: \"%.64s\" is not a DNS-1123 name of at most 63 characters", key, v);
		return -1;
	}
	strcpy(ps->b->service_account, v);
	return 0;
}

static int k_labels(struct parse_state *ps, const char *key, const char *v)
{
	return set_labels(ps, v);
}

// ---- [admin] ----

static int k_admin_address(struct parse_state *ps, const char *key, const char *v)
{
	return set_address(ps, key, v, ps->b->admin_address, sizeof(ps->b->admin_address));
}

static int k_admin_port(struct parse_state *ps, const char *key, const char *v)
{
	return set_port(ps, key, v, &ps->b->admin_port);
}

static int k_health_address(struct parse_state *ps, const char *key, const char *v)
{
	return set_address(ps, key, v, ps->b->health_address, sizeof(ps->b->health_address));
}

static int k_health_port(struct parse_state *ps, const char *key, const char *v)
{
	return set_port(ps, key, v, &ps->b->health_port);
}

static int k_prometheus_port(struct parse_state *ps, const char *key, const char *v)
{
	return set_port(ps, key, v, &ps->b->prometheus_port);
}

// ---- [mesh] ----

static int k_mesh_config(struct parse_state *ps, const char *key, const char *v)
{
	return set_string(ps, key, v, ps->b->mesh_config, sizeof(ps->b->mesh_config), true);
}

static int k_config_dir(struct parse_state *ps, const char *key, const char *v)
{
	return set_string(ps, key, v, ps->b->config_dir, sizeof(ps->b->config_dir), false);
}

static int k_outbound_policy(struct parse_state *ps, const char *key, const char *v)
{
	ps->b->mesh_ini_set |= MESH_SET_OUTBOUND;
	if (!strcmp(v, "REGISTRY_ONLY")) {
		ps->b->outbound_policy = OUTBOUND_REGISTRY_ONLY;
	} else if (!strcmp(v, "ALLOW_ANY")) {
		ps->b->outbound_policy = OUTBOUND_ALLOW_ANY;
	} else {
		bad(ps, ps->line, "%s: \"%.64s\" is not REGISTRY_ONLY or ALLOW_ANY", key, v);
		return -1;
	}
	return 0;
}

// ---- [telemetry] ----

static int k_access_log(struct parse_state *ps, const char *key, const char *v)
{
	// A bare word other than stdout is more likely a typo ("stderr", "off")
	// than a file meant to appear in the working directory.
	if (*v && strcmp(v, "stdout") && v[0] != '/' && strncmp(v, "./", 2) &&
	    strncmp(v, "../", 3)) {
		bad(ps, ps->line, "%s: \"%.64s\" is not \"\", stdout, or a path "
		    "(absolute, or starting with ./)", key, v);
		return -1;
	}
	ps->b->mesh_ini_set |= MESH_SET_ACCESS_LOG;
	return set_string(ps, key, v, ps->b->access_log, sizeof(ps->b->access_log), true);
}

// ---- [limits] ----

static int k_max_body(struct parse_state *ps, const char *key, const char *v)
{
	uint64_t n;

	if (set_number(ps, key, v, 1, UINT32_MAX, &n) < 0)
		return -1;
	ps->b->max_request_body_buffer = (uint32_t)n;
	return 0;
}

static int k_max_pending_hs(struct parse_state *ps, const char *key, const char *v)
{
	uint64_t n;

	if (set_number(ps, key, v, 0, 1u << 20, &n) < 0)
		return -1;
	ps->b->max_pending_tls_handshakes = (uint32_t)n;
	return 0;
}

static int k_hs_rate(struct parse_state *ps, const char *key, const char *v)
{
	uint64_t n;

	if (set_number(ps, key, v, 0, 1u << 24, &n) < 0)
		return -1;
	ps->b->tls_handshake_rate = (uint32_t)n;
	return 0;
}

static int k_header_timeout(struct parse_state *ps, const char *key, const char *v)
{
	return set_duration(ps, key, v, 1, &ps->b->header_timeout_ms);
}

static int k_idle_timeout(struct parse_state *ps, const char *key, const char *v)
{
	return set_duration(ps, key, v, 1, &ps->b->idle_timeout_ms);
}

static int k_drain_timeout(struct parse_state *ps, const char *key, const char *v)
{
	return set_duration(ps, key, v, 0, &ps->b->drain_timeout_ms);
}

// ---- [listener NAME] ----

static int k_l_address(struct parse_state *ps, const char *key, const char *v)
{
	return set_address(ps, key, v, ps->lis->address, sizeof(ps->lis->address));
}

static int k_l_port(struct parse_state *ps, const char *key, const char *v)
{
	return set_port(ps, key, v, &ps->lis->port);
}

static int k_l_protocol(struct parse_state *ps, const char *key, const char *v)
{
	if (!strcmp(v, "http")) {
		ps->lis->protocol = LISTENER_HTTP;
	} else if (!strcmp(v, "tcp")) {
		ps->lis->protocol = LISTENER_TCP;
	} else {
		bad(ps, ps->line, "%s: \"%.64s\" is not http or tcp", key, v);
		return -1;
	}
	return 0;
}

static int k_l_role(struct parse_state *ps, const char *key, const char *v)
{
	if (!strcmp(v, "outbound")) {
		ps->lis->role = ROLE_OUTBOUND;
	} else if (!strcmp(v, "inbound")) {
		ps->lis->role = ROLE_INBOUND;
	} else if (!strcmp(v, "gateway")) {
		ps->lis->role = ROLE_GATEWAY;
	} else {
		bad(ps, ps->line, "%s: \"%.64s\" is not outbound, inbound or gateway", key, v);
		return -1;
	}
	return 0;
}

static bool host_name(const char *s, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!isalnum((unsigned char)c) && c != '-' && c != '.')
			return false;
		if (c == '.' && (i == 0 || s[i - 1] == '.'))
			return false;
	}
	return true;
}

// k_l_destination checks "host:port" / "[v6]:port". Whether host names a
// registered service is for the registry to decide once the mesh is loaded.
static int k_l_destination(struct parse_state *ps, const char *key, const char *v)
{
	const char *colon, *host = v;
	size_t hlen;
	uint64_t port;
	char ip[INET6_ADDRSTRLEN];
	struct in6_addr a6;

	if (v[0] == '[') {
		const char *close = strchr(v, ']');

		if (!close || close[1] != ':')
			goto syntax;
		hlen = close - v - 1;
		if (hlen >= sizeof(ip))
			goto syntax;
		memcpy(ip, v + 1, hlen);
		ip[hlen] = '\0';
		if (inet_pton(AF_INET6, ip, &a6) != 1) {
			bad(ps, ps->line, "%s: \"%.64s\" is not an IPv6 address", key, ip);
			return -1;
		}
		colon = close + 1;
	} else {
		colon = strrchr(v, ':');
		if (!colon || memchr(v, ':', colon - v))
			goto syntax;
		hlen = colon - v;
		if (!host_name(host, hlen))
			goto syntax;
	}
	if (parse_u64(colon + 1, UINT64_MAX, &port) < 0 || port < 1 || port > 65535) {
		bad(ps, ps->line, "%s: port in \"%.64s\" must be 1..65535", key, v);
		return -1;
	}
	ps->lis_dest_line[ps->lis - ps->b->listeners] = ps->line;
	return set_string(ps, key, v, ps->lis->destination, sizeof(ps->lis->destination), false);
syntax:
	bad(ps, ps->line, "%s: \"%.64s\" is not host:port (or [IPv6]:port)", key, v);
	return -1;
}

static int set_bool(struct parse_state *ps, const char *key, const char *v, bool *out)
{
	static const char *const yes[] = { "on", "true", "yes", "1" };
	static const char *const no[] = { "off", "false", "no", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*out = !strcasecmp(v, yes[i]);
			return 0;
		}
	}
	bad(ps, ps->line, "%s: \"%.64s\" is not on or off", key, v);
	return -1;
}

static int k_l_original_dst(struct parse_state *ps, const char *key, const char *v)
{
	return set_bool(ps, key, v, &ps->lis->original_dst);
}

static int k_l_tls_sessions(struct parse_state *ps, const char *key, const char *v)
{
	return set_bool(ps, key, v, &ps->lis->tls_sessions);
}

static int k_l_tls(struct parse_state *ps, const char *key, const char *v)
{
	static const char *const names[] = { "off", "simple", "mutual", "istio_mutual" };

	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(v, names[i]) || (i == 0 && !strcasecmp(v, "disable"))) {
			ps->lis->tls = (enum listener_tls)i;
			ps->lis->tls_set = true;
			return 0;
		}
	}
	bad(ps, ps->line, "%s: \"%.64s\" is not off, simple, mutual or istio_mutual", key, v);
	return -1;
}

// path_list checks a comma-separated list of paths and counts them.
static int path_list(struct parse_state *ps, const char *key, const char *v, char *dst,
		     size_t cap, int *out_num)
{
	int n = 0;

	for (const char *p = v; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		while (l && (*p == ' ' || *p == '\t'))
			p++, l--;
		while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		if (!l) {
			bad(ps, ps->line, "%s: empty path in the list", key);
			return -1;
		}
		if (++n > BOOT_MAX_TLS_CERTS) {
			bad(ps, ps->line, "%s: more than %d certificates", key, BOOT_MAX_TLS_CERTS);
			return -1;
		}
		p = e ? e + 1 : p + strlen(p);
	}
	*out_num = n;
	return set_string(ps, key, v, dst, cap, false);
}

static int k_l_tls_cert(struct parse_state *ps, const char *key, const char *v)
{
	return path_list(ps, key, v, ps->lis->tls_cert, sizeof(ps->lis->tls_cert),
			 &ps->lis->num_tls_certs);
}

static int k_l_tls_key(struct parse_state *ps, const char *key, const char *v)
{
	int n;

	if (path_list(ps, key, v, ps->lis->tls_key, sizeof(ps->lis->tls_key), &n) < 0)
		return -1;
	ps->lis_num_keys[ps->lis - ps->b->listeners] = n;
	return 0;
}

static int k_l_tls_ca(struct parse_state *ps, const char *key, const char *v)
{
	return set_string(ps, key, v, ps->lis->tls_ca, sizeof(ps->lis->tls_ca), false);
}

static int k_ca_address(struct parse_state *ps, const char *key, const char *v)
{
	return set_address(ps, key, v, ps->b->ca_address, sizeof(ps->b->ca_address));
}

static int k_ca_port(struct parse_state *ps, const char *key, const char *v)
{
	if (!strcmp(v, "0")) {
		ps->b->ca_port = 0;
		return 0;
	}
	return set_port(ps, key, v, &ps->b->ca_port);
}

static int k_ca_ttl(struct parse_state *ps, const char *key, const char *v)
{
	char *end;
	unsigned long long n;
	uint64_t mult;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (end == v || errno || (v[0] < '0' || v[0] > '9'))
		goto bad;
	if (!strcmp(end, "s"))
		mult = 1;
	else if (!strcmp(end, "m"))
		mult = 60;
	else if (!strcmp(end, "h"))
		mult = 3600;
	else if (!strcmp(end, "d"))
		mult = 86400;
	else
		goto bad;
	if (n > 90ull * 86400 / mult || n * mult < 10)
		goto bad;
	ps->b->workload_cert_ttl_s = (int64_t)(n * mult);
	return 0;
bad:
	bad(ps, ps->line, "%s: \"%.64s\" must be a duration from 10s to 2160h (90d)", key, v);
	return -1;
}

typedef int key_fn(struct parse_state *ps, const char *key, const char *v);

struct key_desc {
	const char *name;
	key_fn *fn;
};

static const struct key_desc appliance_keys[] = {
	{ "name", k_name },
	{ "workers", k_workers },
	{ "trust_domain", k_trust_domain },
	{ "state_dir", k_state_dir },
	{ "namespace", k_namespace },
	{ "service_account", k_service_account },
	{ "labels", k_labels },
	{ NULL, NULL },
};

static const struct key_desc admin_keys[] = {
	{ "address", k_admin_address },
	{ "port", k_admin_port },
	{ "health_address", k_health_address },
	{ "health_port", k_health_port },
	{ "prometheus_port", k_prometheus_port },
	{ NULL, NULL },
};

static const struct key_desc mesh_keys[] = {
	{ "config_dir", k_config_dir },
	{ "outbound_traffic_policy", k_outbound_policy },
	{ "mesh_config", k_mesh_config },
	{ NULL, NULL },
};

static const struct key_desc telemetry_keys[] = {
	{ "access_log", k_access_log },
	{ NULL, NULL },
};

static const struct key_desc limits_keys[] = {
	{ "max_request_body_buffer", k_max_body },
	{ "max_pending_tls_handshakes", k_max_pending_hs },
	{ "tls_handshake_rate", k_hs_rate },
	{ "header_timeout", k_header_timeout },
	{ "idle_timeout", k_idle_timeout },
	{ "drain_timeout", k_drain_timeout },
	{ NULL, NULL },
};

enum { LK_ADDRESS = 0, LK_PORT };

static const struct key_desc listener_keys[] = {
	[LK_ADDRESS] = { "address", k_l_address },
	[LK_PORT] = { "port", k_l_port },
	{ "protocol", k_l_protocol },
	{ "role", k_l_role },
	{ "destination", k_l_destination },
	{ "tls", k_l_tls },
	{ "tls_cert", k_l_tls_cert },
	{ "tls_key", k_l_tls_key },
	{ "tls_ca", k_l_tls_ca },
	{ "tls_sessions", k_l_tls_sessions },
	{ "original_dst", k_l_original_dst },
	{ NULL, NULL },
};

static const struct key_desc ca_keys[] = {
	{ "address", k_ca_address },
	{ "port", k_ca_port },
	{ "workload_cert_ttl", k_ca_ttl },
	{ NULL, NULL },
};

// [dns] servers: "ip", "ip:port" or "[ipv6]:port", comma-separated; kept
// in c-ares' servers-csv form.
static int k_dns_servers(struct parse_state *ps, const char *key, const char *v)
{
	char out[sizeof(ps->b->dns_servers)], item[80];
	size_t o = 0;

	for (const char *p = v; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		struct sockaddr_storage ss;
		socklen_t sl;
		char host[64];
		unsigned long port = 53;
		const char *colon;

		while (l && (*p == ' ' || *p == '\t'))
			p++, l--;
		while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		if (!l || l >= sizeof(item))
			goto bad;
		memcpy(item, p, l);
		item[l] = '\0';
		if (item[0] == '[') {
			char *rb = strchr(item, ']');

			if (!rb || (size_t)(rb - item - 1) >= sizeof(host))
				goto bad;
			memcpy(host, item + 1, (size_t)(rb - item - 1));
			host[rb - item - 1] = '\0';
			colon = rb[1] == ':' ? rb + 1 : NULL;
			if (rb[1] && !colon)
				goto bad;
		} else {
			colon = strchr(item, ':');
			if (colon && strchr(colon + 1, ':'))
				goto bad;	// a bare IPv6 address needs [brackets]
			snprintf(host, sizeof(host), "%.*s", colon ? (int)(colon - item) : (int)l, item);
		}
		if (colon) {
			char *end;

			port = strtoul(colon + 1, &end, 10);
			if (end == colon + 1 || *end || port < 1 || port > 65535)
				goto bad;
		}
		if (bootstrap_parse_addr(host, (uint16_t)port, &ss, &sl) < 0)
			goto bad;
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s%s%s:%lu", o ? "," : "",
				      ss.ss_family == AF_INET6 ? "[" : "", host,
				      ss.ss_family == AF_INET6 ? "]" : "", port);
		if (o >= sizeof(out)) {
			bad(ps, ps->line, "%s: too long", key);
			return -1;
		}
		p = e ? e + 1 : p + strlen(p);
	}
	memcpy(ps->b->dns_servers, out, o + 1);
	return 0;
bad:
	bad(ps, ps->line, "%s: \"%.64s\" is not a list of ip[:port] (IPv6 as [addr]:port)", key, v);
	return -1;
}

static const struct key_desc dns_keys[] = {
	{ "servers", k_dns_servers },
	{ NULL, NULL },
};

// ---- [kubernetes] ----

static int k_kube_config(struct parse_state *ps, const char *key, const char *v)
{
	return set_string(ps, key, v, ps->b->kube_config, sizeof(ps->b->kube_config), true);
}

static int k_kube_domain(struct parse_state *ps, const char *key, const char *v)
{
	size_t len = strlen(v);

	if (len >= sizeof(ps->b->kube_domain) || !dns_subdomain(v, len)) {
		bad(ps, ps->line, "%s: \"%.64s\" is not a DNS name", key, v);
		return -1;
	}
	memcpy(ps->b->kube_domain, v, len + 1);
	return 0;
}

// namespaces: a comma-separated list of namespace names; empty is all.
static int k_kube_namespaces(struct parse_state *ps, const char *key, const char *v)
{
	char out[sizeof(ps->b->kube_namespaces)];
	size_t o = 0;

	for (const char *p = v; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		while (n && isspace((unsigned char)*p))
			p++, n--;
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (!dns_label(p, n)) {
			bad(ps, ps->line, "%s: \"%.*s\" is not a namespace name", key,
			    (int)(n > 64 ? 64 : n), p);
			return -1;
		}
		if (o + n + 2 > sizeof(out)) {
			bad(ps, ps->line, "%s: longer than %zu bytes", key, sizeof(out) - 2);
			return -1;
		}
		if (o)
			out[o++] = ',';
		memcpy(out + o, p, n);
		o += n;
		p = e ? e + 1 : p + strlen(p);
	}
	out[o] = '\0';
	memcpy(ps->b->kube_namespaces, out, o + 1);
	return 0;
}

static int k_kube_cluster_id(struct parse_state *ps, const char *key, const char *v)
{
	return set_string(ps, key, v, ps->b->kube_cluster_id, sizeof(ps->b->kube_cluster_id), false);
}

static const struct key_desc kube_keys[] = {
	{ "cluster_id", k_kube_cluster_id },
	{ "kubeconfig", k_kube_config },
	{ "domain", k_kube_domain },
	{ "namespaces", k_kube_namespaces },
	{ NULL, NULL },
};

static const struct key_desc *const section_keys[SEC_COUNT] = {
	[SEC_APPLIANCE] = appliance_keys,
	[SEC_ADMIN] = admin_keys,
	[SEC_MESH] = mesh_keys,
	[SEC_TELEMETRY] = telemetry_keys,
	[SEC_LIMITS] = limits_keys,
	[SEC_LISTENER] = listener_keys,
	[SEC_CA] = ca_keys,
	[SEC_DNS] = dns_keys,
	[SEC_KUBERNETES] = kube_keys,
};

static void start_listener(struct parse_state *ps, const char *name, size_t len)
{
	struct bootstrap *b = ps->b;
	struct listener_cfg *l;

	if (!len) {
		bad(ps, ps->line, "a listener section needs a name: [listener NAME]");
		return;
	}
	if (len >= sizeof(l->name)) {
		bad(ps, ps->line, "listener name longer than %zu bytes", sizeof(l->name) - 1);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-' &&
		    name[i] != '.') {
			bad(ps, ps->line, "listener name \"%.*s\" may only hold A-Z a-z 0-9 . _ -",
			    (int)len, name);
			return;
		}
	}
	if (ps->section_line[SEC_LISTENER] == 0) {
		// The file's listeners replace the default list.
		b->num_listeners = 0;
		ps->section_line[SEC_LISTENER] = ps->line;
	}
	for (int i = 0; i < b->num_listeners; i++) {
		if (strlen(b->listeners[i].name) == len && !memcmp(b->listeners[i].name, name, len)) {
			bad(ps, ps->line, "listener \"%.*s\" already defined at line %d",
			    (int)len, name, b->listeners[i].line);
			return;
		}
	}
	if (b->num_listeners == BOOT_MAX_LISTENERS) {
		bad(ps, ps->line, "more than %d listeners", BOOT_MAX_LISTENERS);
		return;
	}
	l = &b->listeners[b->num_listeners++];
	memset(l, 0, sizeof(*l));
	memcpy(l->name, name, len);
	l->protocol = LISTENER_HTTP;
	l->role = ROLE_OUTBOUND;
	l->tls_sessions = true;
	l->line = ps->line;
	ps->lis = l;
	ps->cur = SEC_LISTENER;
}

// section_header follows the [...] lines as the reader hands them to inih, so
// that empty and repeated sections are seen too (inih reports neither).
static void section_header(struct parse_state *ps, const char *line)
{
	const char *close = strchr(line, ']'), *name = line + 1, *rest;
	size_t len;

	ps->cur = SEC_BAD;
	if (!close)
		return;		// inih reports the syntax error
	for (rest = close + 1; *rest && isspace((unsigned char)*rest); rest++)
		;
	if (*rest && *rest != ';' && *rest != '#') {
		bad(ps, ps->line, "text after the section header");
		return;
	}
	len = close - name;
	while (len && isspace((unsigned char)*name))
		name++, len--;
	while (len && isspace((unsigned char)name[len - 1]))
		len--;
	if (len >= 8 && !memcmp(name, "listener", 8) &&
	    (len == 8 || isspace((unsigned char)name[8]))) {
		name += 8;
		len -= 8;
		while (len && isspace((unsigned char)*name))
			name++, len--;
		start_listener(ps, name, len);
		return;
	}
	for (int s = SEC_APPLIANCE; s < SEC_BAD; s++) {
		if (s == SEC_LISTENER)
			continue;
		if (strlen(section_names[s]) == len && !memcmp(section_names[s], name, len)) {
			if (ps->section_line[s]) {
				bad(ps, ps->line, "section [%s] already given at line %d",
				    section_names[s], ps->section_line[s]);
				return;
			}
			ps->section_line[s] = ps->line;
			ps->cur = s;
			if (s == SEC_KUBERNETES)
				ps->b->kube_enabled = true;
			return;
		}
	}
	bad(ps, ps->line, "unknown section [%.*s]", (int)MIN(len, 64), name);
}

// line_reader hands inih one line at a time, so we know every line's number
// and see every section header. Leading blanks are dropped: indentation is
// allowed, and inih then never joins lines as multi-line values.
static char *line_reader(char *str, int num, void *stream)
{
	struct parse_state *ps = stream;
	const char *p, *nl;
	size_t len;

	if (ps->failed || ps->off >= ps->len)
		return NULL;
	p = ps->data + ps->off;
	nl = memchr(p, '\n', ps->len - ps->off);
	len = nl ? (size_t)(nl - p) + 1 : ps->len - ps->off;
	ps->off += len;
	ps->line++;
	if (memchr(p, '\0', len)) {
		bad(ps, ps->line, "NUL byte in line");
		return NULL;
	}
	while (len && (*p == ' ' || *p == '\t'))
		p++, len--;
	if (num < 2 || len + 1 > (size_t)num) {
		bad(ps, ps->line, "line longer than %d bytes", num > 2 ? num - 2 : 0);
		return NULL;
	}
	memcpy(str, p, len);
	str[len] = '\0';
	if (str[0] == '[')
		section_header(ps, str);
	return str;
}

static int key_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	const struct key_desc *keys;
	struct seen_keys *seen;
	int i;

	if (ps->failed)
		return 0;
	if (!value)
		value = "";
	if (ps->cur == SEC_NONE) {
		bad(ps, ps->line, "\"%.64s\" is outside of any [section]", name);
		return 0;
	}
	if (ps->cur == SEC_BAD)
		return 0;
	keys = section_keys[ps->cur];
	for (i = 0; keys[i].name; i++)
		if (!strcmp(keys[i].name, name))
			break;
	if (!keys[i].name) {
		bad(ps, ps->line, "unknown key \"%.64s\" in [%.80s]", name, section);
		return 0;
	}
	if (ps->cur == SEC_LISTENER)
		seen = &ps->lis_seen[ps->lis - ps->b->listeners];
	else
		seen = &ps->seen[ps->cur];
	if (seen->mask & (1u << i)) {
		bad(ps, ps->line, "duplicate key \"%s\" (first at line %d)", name, seen->line[i]);
		return 0;
	}
	seen->mask |= 1u << i;
	seen->line[i] = ps->line;
	keys[i].fn(ps, name, value);
	return ps->failed ? 0 : 1;
}

struct bound {
	char what[96];
	struct sockaddr_storage ss;
	int line;
};

static void bound_add(struct bound *bd, int *n, const char *what, const char *addr,
		      uint16_t port, int line)
{
	struct bound *x = &bd[(*n)++];
	socklen_t sl;

	snprintf(x->what, sizeof(x->what), "%s", what);
	bootstrap_parse_addr(addr, port, &x->ss, &sl);
	x->line = line;
}

static uint16_t ss_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static bool ss_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

// overlaps reports whether binding both would collide: same port and same
// address, or a wildcard of the same family, or [::] (dual stack) with IPv4.
static bool overlaps(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (ss_port(a) != ss_port(b))
		return false;
	// IPv6 sockets are bound IPV6_V6ONLY (sock_listen_fd): "::" and
	// "0.0.0.0" on one port are two sockets that both bind, as in Envoy
	if (a->ss_family != b->ss_family)
		return false;
	if (ss_any(a) || ss_any(b))
		return true;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

static int key_line(const struct seen_keys *s, const struct key_desc *keys, const char *name)
{
	for (int i = 0; keys[i].name; i++)
		if (!strcmp(keys[i].name, name))
			return (s->mask & (1u << i)) ? s->line[i] : 0;
	return 0;
}

// finish applies listener defaults and checks what spans keys: required
// keys, tcp/http destination rules, and sockets that could not both bind.
static void finish(struct parse_state *ps)
{
	struct bootstrap *b = ps->b;
	struct bound bd[BOOT_MAX_LISTENERS + 4];
	const struct seen_keys *adm = &ps->seen[SEC_ADMIN];
	char what[96];
	int n = 0, line;

	for (int i = 0; i < b->num_listeners && ps->section_line[SEC_LISTENER]; i++) {
		struct listener_cfg *l = &b->listeners[i];
		const struct seen_keys *s = &ps->lis_seen[i];

		if (!(s->mask & (1u << LK_PORT))) {
			bad(ps, l->line, "listener \"%s\": port is required", l->name);
			return;
		}
		if (!(s->mask & (1u << LK_ADDRESS)))
			strcpy(l->address, "127.0.0.1");
		if (l->original_dst && l->role == ROLE_GATEWAY) {
			bad(ps, l->line, "listener \"%s\": original_dst is for role = inbound or "
			    "outbound (captured traffic, Istio's 15006 and 15001)", l->name);
			return;
		}
		if (l->original_dst && l->destination[0]) {
			bad(ps, ps->lis_dest_line[i], "listener \"%s\": original_dst and destination "
			    "exclude each other (the original destination is the target)", l->name);
			return;
		}
		if (l->protocol == LISTENER_TCP && !l->destination[0] && !l->original_dst) {
			bad(ps, l->line, "listener \"%s\": protocol tcp needs destination = host:port",
			    l->name);
			return;
		}
		if (l->protocol == LISTENER_HTTP && l->destination[0]) {
			bad(ps, ps->lis_dest_line[i], "listener \"%s\": destination is only for "
			    "protocol tcp (http routes by Host)", l->name);
			return;
		}
		if ((l->tls == LTLS_SIMPLE || l->tls == LTLS_MUTUAL) && !l->num_tls_certs) {
			bad(ps, l->line, "listener \"%s\": tls %s needs tls_cert and tls_key",
			    l->name, l->tls == LTLS_SIMPLE ? "simple" : "mutual");
			return;
		}
		if (l->num_tls_certs != ps->lis_num_keys[i]) {
			bad(ps, l->line, "listener \"%s\": %d tls_cert but %d tls_key",
			    l->name, l->num_tls_certs, ps->lis_num_keys[i]);
			return;
		}
		if (l->tls == LTLS_MUTUAL && !l->tls_ca[0]) {
			bad(ps, l->line, "listener \"%s\": tls mutual needs tls_ca", l->name);
			return;
		}
		if ((l->tls == LTLS_OFF || l->tls == LTLS_ISTIO_MUTUAL) &&
		    (l->num_tls_certs || l->tls_ca[0])) {
			bad(ps, l->line, "listener \"%s\": tls_cert/tls_key/tls_ca are for tls "
			    "simple or mutual", l->name);
			return;
		}
		if (bootstrap_parse_addr(l->address, l->port, &l->addr, &l->addr_len) < 0) {
			bad(ps, l->line, "listener \"%s\": bad address", l->name);
			return;
		}
	}
	line = key_line(adm, admin_keys, "port");
	if (!line)
		line = key_line(adm, admin_keys, "address");
	bound_add(bd, &n, "admin", b->admin_address, b->admin_port, line);
	line = key_line(adm, admin_keys, "health_port");
	if (!line)
		line = key_line(adm, admin_keys, "health_address");
	bound_add(bd, &n, "health", b->health_address, b->health_port, line);
	// Prometheus is scraped from outside, so it binds where health does.
	line = key_line(adm, admin_keys, "prometheus_port");
	if (!line)
		line = key_line(adm, admin_keys, "health_address");
	bound_add(bd, &n, "prometheus", b->health_address, b->prometheus_port, line);
	if (b->ca_port)
		bound_add(bd, &n, "ca", b->ca_address, b->ca_port,
			  key_line(&ps->seen[SEC_CA], ca_keys, "port"));
	for (int i = 0; i < b->num_listeners; i++) {
		snprintf(what, sizeof(what), "listener \"%s\"", b->listeners[i].name);
		bound_add(bd, &n, what, b->listeners[i].address, b->listeners[i].port,
			  b->listeners[i].line);
	}
	for (int j = 1; j < n; j++) {
		for (int i = 0; i < j; i++) {
			const struct bound *x = &bd[j], *y = &bd[i];

			if (!overlaps(&x->ss, &y->ss))
				continue;
			if (x->line < y->line) {
				x = &bd[i];
				y = &bd[j];
			}
			if (y->line)
				bad(ps, x->line, "%s on port %u conflicts with %s (line %d)",
				    x->what, ss_port(&x->ss), y->what, y->line);
			else
				bad(ps, x->line, "%s on port %u conflicts with %s (default)",
				    x->what, ss_port(&x->ss), y->what);
			return;
		}
	}
}

// read_file reads a whole (small) file. It returns 0 or -errno.
static int read_file(const char *path, char **out, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, n;
	int err = 0;

	if (!f)
		return -errno;
	buf = malloc(BOOT_MAX_FILE + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while ((n = fread(buf + len, 1, BOOT_MAX_FILE + 1 - len, f)) > 0) {
		len += n;
		if (len > BOOT_MAX_FILE) {
			err = -EFBIG;
			goto out;
		}
	}
	if (ferror(f)) {
		err = errno ? -errno : -EIO;
		goto out;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return err;
}

int bootstrap_load(struct bootstrap *b, const char *path, char *err, size_t err_len)
{
	struct parse_state ps;
	struct bootstrap *tmp;
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int ret, r;

	if (err && err_len)
		err[0] = '\0';
	if (strlen(path) >= sizeof(b->path)) {
		if (err && err_len)
			snprintf(err, err_len, "%.64s...: path too long", path);
		return -ENAMETOOLONG;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (err && err_len)
			snprintf(err, err_len, "%s: %s", path, strerror(EISDIR));
		return -EISDIR;
	}
	if ((ret = read_file(path, &data, &len)) < 0) {
		if (err && err_len) {
			if (ret == -EFBIG)
				snprintf(err, err_len, "%s: larger than %d bytes", path, BOOT_MAX_FILE);
			else
				snprintf(err, err_len, "%s: %s", path, strerror(-ret));
		}
		return ret;
	}
	// Parse into a copy so that *b changes only when the whole file is good.
	tmp = malloc(sizeof(*tmp));
	if (!tmp) {
		ret = -ENOMEM;
		goto out;
	}
	bootstrap_default(tmp);
	strcpy(tmp->path, path);
	memset(&ps, 0, sizeof(ps));
	ps.b = tmp;
	ps.path = path;
	ps.err = err;
	ps.err_len = err_len;
	ps.data = data;
	ps.len = len;
	r = ini_parse_stream(line_reader, &ps, key_handler, &ps);
	if (r == -2) {
		ret = -ENOMEM;
		goto out;
	}
	if (!ps.failed && r > 0)
		bad(&ps, r, "syntax error (expected [section], key = value, or a ; comment)");
	if (!ps.failed)
		finish(&ps);
	if (ps.failed) {
		ret = -EINVAL;
		goto out;
	}
	memcpy(b, tmp, sizeof(*b));
	ret = 0;
out:
	if (ret == -ENOMEM && err && err_len)
		snprintf(err, err_len, "%s: %s", path, strerror(ENOMEM));
	free(tmp);
	free(data);
	return ret;
}
