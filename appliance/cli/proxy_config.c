// SPDX-License-Identifier: Apache-2.0
// proxy_config.c: `meshgate proxy-config listeners|routes|clusters|endpoints|
// secrets`, istioctl proxy-config's tables for a running meshgate, read from
// its admin API (/config_dump, /listeners, /certs); -o json prints the
// admin API's objects behind the rows. Exit 0, 1 when the admin API cannot
// be read (or answers nonsense), 2 on misuse.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "admin_api.h"
#include "ca/ca.h"
#include "cli.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"
#include "table.h"

enum pc_kind { PC_LISTENERS = 0, PC_ROUTES, PC_CLUSTERS, PC_ENDPOINTS, PC_SECRETS };

// The filter flags, and the kinds each applies to (bits of 1 << kind).
enum { PCF_PORT = 0, PCF_ADDRESS, PCF_NAME, PCF_FQDN, PCF_SUBSET, PCF_DIRECTION, PCF_CLUSTER,
       PCF_NUM };

static const struct {
	const char *flag;
	unsigned kinds;
} pc_flags[PCF_NUM] = {
	[PCF_PORT] = { "--port", 1u << PC_LISTENERS | 1u << PC_CLUSTERS | 1u << PC_ENDPOINTS },
	[PCF_ADDRESS] = { "--address", 1u << PC_LISTENERS | 1u << PC_ENDPOINTS },
	[PCF_NAME] = { "--name", 1u << PC_ROUTES },
	[PCF_FQDN] = { "--fqdn", 1u << PC_CLUSTERS },
	[PCF_SUBSET] = { "--subset", 1u << PC_CLUSTERS },
	[PCF_DIRECTION] = { "--direction", 1u << PC_CLUSTERS },
	[PCF_CLUSTER] = { "--cluster", 1u << PC_ENDPOINTS },
};

struct pc_filter {
	uint32_t port;			// 0: any
	const char *address;		// an IP, exact (listeners, endpoints)
	const char *name;		// routes: the route table (its listener)
	const char *fqdn;		// clusters: part of the host, as istioctl
	const char *subset;		// clusters
	const char *direction;		// clusters: inbound or outbound
	const char *cluster;		// endpoints: the cluster's name
};

static const char *const listener_cols[] = { "ADDRESSES", "PORT", "MATCH", "DESTINATION" };
static const char *const route_cols[] = { "NAME", "VHOST NAME", "DOMAINS", "MATCH",
					  "VIRTUAL SERVICE" };
static const char *const cluster_cols[] = { "SERVICE FQDN", "PORT", "SUBSET", "DIRECTION",
					    "TYPE", "DESTINATION RULE" };
static const char *const endpoint_cols[] = { "ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER" };
static const char *const secret_cols[] = { "RESOURCE NAME", "TYPE", "STATUS", "VALID CERT",
					   "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE" };

static int bad(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int add_row(struct table *t, const char *const *cells, const void *src, size_t src_idx,
		   size_t group_idx, uint64_t key, char *err, size_t err_len)
{
	struct table_row *r = table_add(t, cells);

	if (!r) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	r->src = src;
	r->src_idx = (uint32_t)src_idx;
	r->group_idx = (uint32_t)group_idx;
	r->key = key;
	return 0;
}

// split_hostport splits "1.2.3.4:80" or "[::1]:80" into the address
// (without brackets) and the port; a string without a port gives port 0.
static void split_hostport(const char *s, char *host, size_t host_len, uint32_t *port)
{
	const char *colon = strrchr(s, ':');
	size_t n;

	*port = 0;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		n = close ? (size_t)(close - s - 1) : strlen(s + 1);
		snprintf(host, host_len, "%.*s", (int)n, s + 1);
		if (close && close[1] == ':')
			*port = (uint32_t)strtoul(close + 2, NULL, 10);
		return;
	}
	if (!colon || strchr(s, ':') != colon) {	// no port, or a bare IPv6
		snprintf(host, host_len, "%s", s);
		return;
	}
	snprintf(host, host_len, "%.*s", (int)(colon - s), s);
	*port = (uint32_t)strtoul(colon + 1, NULL, 10);
}

// ---- listeners ----

// bound_address finds listener name's address in /listeners' answer (NULL:
// that meshgate has no /listeners): the address, "-", or -EBADMSG.
static int bound_address(const struct ynode *bound, const char *name, const char **out,
			 char *err, size_t err_len)
{
	const struct ynode *ls;
	char where[64];
	int rc;

	*out = "-";
	if (!bound)
		return 0;
	if ((rc = api_seq(bound, "/listeners", "listeners", true, &ls, err, err_len)) < 0)
		return rc;
	for (size_t i = 0; i < ls->len; i++) {
		const char *n, *a;

		snprintf(where, sizeof(where), "/listeners: listeners[%zu]", i);
		if ((rc = api_str(ls->items[i], where, "name", true, &n, err, err_len)) < 0 ||
		    (rc = api_str(ls->items[i], where, "address", true, &a, err, err_len)) < 0)
			return rc;
		if (!strcmp(n, name)) {
			*out = a[0] ? a : "-";
			return 0;
		}
	}
	return 0;
}

// map_listeners turns /config_dump's listeners (bound: /listeners' answer
// for their addresses, may be NULL) into rows: one per listener, as
// istioctl's one per filter chain (a meshgate listener has one).
static int map_listeners(const struct ynode *dump, const struct ynode *bound,
			 const struct pc_filter *f, struct table *t, char *err, size_t err_len)
{
	const struct ynode *ls;
	const char *policy;
	char where[64], port_s[16], dest[512];
	int rc;

	if ((rc = api_seq(dump, "/config_dump", "listeners", true, &ls, err, err_len)) < 0 ||
	    (rc = api_str(dump, "/config_dump", "outbound_traffic_policy", false, &policy, err,
			  err_len)) < 0)
		return rc;
	for (size_t i = 0; i < ls->len; i++) {
		const struct ynode *l = ls->items[i], *tls;
		const char *name, *proto, *role, *cluster, *mode = NULL, *addr;
		const char *cells[4];
		uint64_t port;
		bool od;

		snprintf(where, sizeof(where), "/config_dump: listeners[%zu]", i);
		if ((rc = api_str(l, where, "name", true, &name, err, err_len)) < 0 ||
		    (rc = api_uint(l, where, "port", true, 65535, &port, err, err_len)) < 0 ||
		    (rc = api_str(l, where, "protocol", false, &proto, err, err_len)) < 0 ||
		    (rc = api_str(l, where, "role", false, &role, err, err_len)) < 0 ||
		    (rc = api_str(l, where, "cluster", false, &cluster, err, err_len)) < 0 ||
		    (rc = api_bool(l, where, "original_dst", false, &od, err, err_len)) < 0 ||
		    (rc = api_map(l, where, "tls", false, &tls, err, err_len)) < 0 ||
		    (tls && (rc = api_str(tls, where, "mode", false, &mode, err, err_len)) < 0) ||
		    (rc = bound_address(bound, name, &addr, err, err_len)) < 0)
			return rc;
		if ((f->port && port != f->port) || (f->address && strcasecmp(addr, f->address)))
			continue;
		if (od && role && !strcmp(role, "inbound"))
			// captured inbound: to the address the client dialled
			snprintf(dest, sizeof(dest), "%s", cluster ? cluster : "InboundPassthroughCluster");
		else if (proto && !strcmp(proto, "tcp") && od)
			// captured outbound TCP: a ServiceEntry address, else the policy's
			snprintf(dest, sizeof(dest), "Cluster: by original destination, else %s",
				 policy && !strcmp(policy, "ALLOW_ANY") ? "PassthroughCluster" :
				 "BlackHoleCluster");
		else if (proto && !strcmp(proto, "tcp"))
			// istioctl prints the built-in clusters without the prefix
			snprintf(dest, sizeof(dest), cluster && !strchr(cluster, '|') &&
				 strstr(cluster, "Cluster") ? "%s" : "Cluster: %s", cluster ? cluster : "-");
		else
			snprintf(dest, sizeof(dest), "Route: %s", name);
		snprintf(port_s, sizeof(port_s), "%llu", (unsigned long long)port);
		cells[0] = addr;
		cells[1] = port_s;
		cells[2] = !mode || !strcmp(mode, "DISABLE") ? "ALL" : "Trans: tls";
		cells[3] = dest;
		if ((rc = add_row(t, cells, l, i, 0, port, err, err_len)) < 0)
			return rc;
		// PeerAuthentication PERMISSIVE: mutual TLS and plaintext both, as
		// Istio's two filter chains
		cells[2] = "Trans: raw_buffer";
		if (mode && !strcmp(mode, "PERMISSIVE") &&
		    (rc = add_row(t, cells, l, i, 0, port, err, err_len)) < 0)
			return rc;
	}
	return 0;
}

// istioctl sorts listeners by port, then address
static int listener_cmp(const struct table_row *a, const struct table_row *b)
{
	int c;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if ((c = strcmp(a->cells[0], b->cells[0])))
		return c;
	if (a->src_idx != b->src_idx)
		return a->src_idx < b->src_idx ? -1 : 1;
	return strcmp(a->cells[2], b->cells[2]);
}

// ---- routes ----

// routes_of says whether an HTTP listener routes by Host through the
// virtual hosts: every one but a captured inbound listener (which goes
// to the address the client dialled).
static bool routes_of(const char *proto, const char *role, bool od)
{
	return (!proto || !strcmp(proto, "http")) && !(od && role && !strcmp(role, "inbound"));
}

static int route_rows(const struct ynode *vh, size_t vh_idx, const char *where_vh,
		      const char *table_name, size_t l_idx, struct table *t, char *err,
		      size_t err_len)
{
	const struct ynode *routes;
	const char *name, *vs;
	char where[128], match[512];
	const char *cells[5];
	int rc;

	if ((rc = api_str(vh, where_vh, "name", true, &name, err, err_len)) < 0 ||
	    (rc = api_str(vh, where_vh, "virtual_service", false, &vs, err, err_len)) < 0 ||
	    (rc = api_seq(vh, where_vh, "routes", false, &routes, err, err_len)) < 0)
		return rc;
	cells[0] = table_name;
	cells[1] = name;
	cells[2] = name;
	cells[3] = "/*";
	cells[4] = vs ? vs : "";
	if (!routes || !routes->len)	// a registry host: its service, whatever the path
		return add_row(t, cells, vh, vh_idx, l_idx, 0, err, err_len);
	for (size_t r = 0; r < routes->len; r++) {
		const struct ynode *ms;

		snprintf(where, sizeof(where), "%s.routes[%zu]", where_vh, r);
		if ((rc = api_seq(routes->items[r], where, "match", false, &ms, err, err_len)) < 0)
			return rc;
		cells[3] = "/*";
		if (!ms || !ms->len) {
			if ((rc = add_row(t, cells, vh, vh_idx, l_idx, 0, err, err_len)) < 0)
				return rc;
			continue;
		}
		for (size_t m = 0; m < ms->len; m++) {
			const char *kind, *value;
			bool enforced = true;
			const struct ynode *e;

			snprintf(where, sizeof(where), "%s.routes[%zu].match[%zu]", where_vh, r, m);
			if ((rc = api_str(ms->items[m], where, "uri", true, &kind, err, err_len)) < 0 ||
			    (rc = api_str(ms->items[m], where, "value", false, &value, err,
					  err_len)) < 0 ||
			    (rc = api_bool(ms->items[m], where, "enforced", false, &enforced, err,
					   err_len)) < 0)
				return rc;
			e = yaml_tree_map_get(ms->items[m], "enforced");
			if (yaml_tree_is_null(e))
				enforced = true;	// absent: enforced
			if (!strcmp(kind, "any"))
				snprintf(match, sizeof(match), "/*");
			else if (!strcmp(kind, "prefix"))
				snprintf(match, sizeof(match), "%s*", value ? value : "/");
			else if (!strcmp(kind, "exact"))
				snprintf(match, sizeof(match), "%s", value ? value : "");
			else
				return bad(err, err_len, "%s.uri: unknown kind \"%s\" (want any, exact "
					   "or prefix)", where, kind);
			if (!enforced)
				snprintf(match + strlen(match), sizeof(match) - strlen(match),
					 " (unsupported: never matches)");
			cells[3] = match;
			if ((rc = add_row(t, cells, vh, vh_idx, l_idx, 0, err, err_len)) < 0)
				return rc;
		}
	}
	return 0;
}

// map_routes turns /config_dump's virtual hosts into rows: meshgate has one
// route table, which every HTTP listener uses, so each such listener (by
// its name, as Envoy names a route configuration) gets every virtual
// host, one row per route match.
static int map_routes(const struct ynode *dump, const struct pc_filter *f, struct table *t,
		      char *err, size_t err_len)
{
	const struct ynode *ls, *vhs;
	char where[64], where_vh[64];
	int rc;

	if ((rc = api_seq(dump, "/config_dump", "listeners", true, &ls, err, err_len)) < 0 ||
	    (rc = api_seq(dump, "/config_dump", "virtual_hosts", true, &vhs, err, err_len)) < 0)
		return rc;
	for (size_t i = 0; i < ls->len; i++) {
		const char *name, *proto, *role;
		bool od;

		snprintf(where, sizeof(where), "/config_dump: listeners[%zu]", i);
		if ((rc = api_str(ls->items[i], where, "name", true, &name, err, err_len)) < 0 ||
		    (rc = api_str(ls->items[i], where, "protocol", false, &proto, err, err_len)) < 0 ||
		    (rc = api_str(ls->items[i], where, "role", false, &role, err, err_len)) < 0 ||
		    (rc = api_bool(ls->items[i], where, "original_dst", false, &od, err, err_len)) < 0)
			return rc;
		if (!routes_of(proto, role, od) || (f->name && strcmp(name, f->name)))
			continue;
		for (size_t v = 0; v < vhs->len; v++) {
			snprintf(where_vh, sizeof(where_vh), "/config_dump: virtual_hosts[%zu]", v);
			if ((rc = api_want_map(vhs->items[v], where_vh, err, err_len)) < 0 ||
			    (rc = route_rows(vhs->items[v], v, where_vh, name, i, t, err, err_len)) < 0)
				return rc;
		}
	}
	return 0;
}

// ---- clusters ----

// parse_cluster_name splits Istio's "direction|port|subset|fqdn". It
// returns 0, or -EINVAL for another name (BlackHoleCluster, ...).
static int parse_cluster_name(const char *name, char dir[16], uint32_t *port,
			      char subset[256], char fqdn[512])
{
	const char *p1 = strchr(name, '|'), *p2, *p3;
	char *end;
	unsigned long v;

	if (!p1 || !(p2 = strchr(p1 + 1, '|')) || !(p3 = strchr(p2 + 1, '|')) ||
	    strchr(p3 + 1, '|') || (size_t)(p1 - name) >= 16 || (size_t)(p3 - p2 - 1) >= 256 ||
	    strlen(p3 + 1) >= 512 || p2 == p1 + 1)
		return -EINVAL;
	v = strtoul(p1 + 1, &end, 10);
	if (end != p2 || v > 65535 || p1[1] < '0' || p1[1] > '9')
		return -EINVAL;
	snprintf(dir, 16, "%.*s", (int)(p1 - name), name);
	snprintf(subset, 256, "%.*s", (int)(p3 - p2 - 1), p2 + 1);
	snprintf(fqdn, 512, "%s", p3 + 1);
	*port = (uint32_t)v;
	return 0;
}

// map_clusters turns /config_dump's clusters into rows. It sets
// *out_have_dr when a cluster names its DestinationRule (the column is
// blank for the others, as istioctl's).
static int map_clusters(const struct ynode *dump, const struct pc_filter *f, struct table *t,
			bool *out_have_dr, char *err, size_t err_len)
{
	const struct ynode *cs;
	char where[64], dir[16], subset[256], fqdn[512], port_s[16], dr_s[600];
	const char *slash;
	int rc;

	*out_have_dr = false;
	if ((rc = api_seq(dump, "/config_dump", "clusters", true, &cs, err, err_len)) < 0)
		return rc;
	for (size_t i = 0; i < cs->len; i++) {
		const char *name, *type, *dr;
		const char *cells[6];
		uint32_t port = 0;
		bool istio;

		snprintf(where, sizeof(where), "/config_dump: clusters[%zu]", i);
		if ((rc = api_str(cs->items[i], where, "name", true, &name, err, err_len)) < 0 ||
		    (rc = api_str(cs->items[i], where, "type", false, &type, err, err_len)) < 0 ||
		    (rc = api_str(cs->items[i], where, "destination_rule", false, &dr, err,
				  err_len)) < 0)
			return rc;
		istio = parse_cluster_name(name, dir, &port, subset, fqdn) == 0;
		if (!istio) {
			snprintf(fqdn, sizeof(fqdn), "%s", name);
			snprintf(dir, sizeof(dir), "-");
			subset[0] = '\0';
		}
		if ((f->fqdn && !strstr(fqdn, f->fqdn)) || (f->port && port != f->port) ||
		    (f->subset && (!istio || strcmp(subset, f->subset))) ||
		    (f->direction && (!istio || strcmp(dir, f->direction))))
			continue;
		snprintf(port_s, sizeof(port_s), istio ? "%u" : "-", port);
		cells[0] = fqdn;
		cells[1] = port_s;
		cells[2] = subset[0] ? subset : "-";
		cells[3] = dir;
		cells[4] = type ? type : "-";
		// istioctl's form: name.namespace
		if (dr && (slash = strchr(dr, '/')))
			snprintf(dr_s, sizeof(dr_s), "%s.%.*s", slash + 1, (int)(slash - dr), dr);
		else
			snprintf(dr_s, sizeof(dr_s), "%s", dr ? dr : "");
		cells[5] = dr_s;
		*out_have_dr |= dr != NULL;
		if ((rc = add_row(t, cells, cs->items[i], i, 0, port, err, err_len)) < 0)
			return rc;
	}
	return 0;
}

// istioctl sorts clusters by host, subset, port, direction
static int cluster_cmp(const struct table_row *a, const struct table_row *b)
{
	int c;

	if ((c = strcmp(a->cells[0], b->cells[0])) || (c = strcmp(a->cells[2], b->cells[2])))
		return c;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	if ((c = strcmp(a->cells[3], b->cells[3])))
		return c;
	return a->src_idx < b->src_idx ? -1 : a->src_idx > b->src_idx;
}

// ---- endpoints ----

// map_endpoints turns the endpoints of /config_dump's clusters into rows.
// meshgate has no active health checks and no outlier detection yet: every
// endpoint of the snapshot takes traffic, which is what HEALTHY and OK say
// in istioctl's table.
static int map_endpoints(const struct ynode *dump, const struct pc_filter *f, struct table *t,
			 char *err, size_t err_len)
{
	const struct ynode *cs;
	char where[96], host[256];
	int rc;

	if ((rc = api_seq(dump, "/config_dump", "clusters", true, &cs, err, err_len)) < 0)
		return rc;
	for (size_t i = 0; i < cs->len; i++) {
		const struct ynode *eps;
		const char *name;

		snprintf(where, sizeof(where), "/config_dump: clusters[%zu]", i);
		if ((rc = api_str(cs->items[i], where, "name", true, &name, err, err_len)) < 0 ||
		    (rc = api_seq(cs->items[i], where, "endpoints", false, &eps, err, err_len)) < 0)
			return rc;
		for (size_t e = 0; eps && e < eps->len; e++) {
			const char *addr;
			const char *cells[4];
			uint32_t port;

			snprintf(where, sizeof(where), "/config_dump: clusters[%zu].endpoints[%zu]", i, e);
			if ((rc = api_str(eps->items[e], where, "address", true, &addr, err,
					  err_len)) < 0)
				return rc;
			split_hostport(addr, host, sizeof(host), &port);
			if ((f->cluster && strcasecmp(name, f->cluster)) ||
			    (f->address && strcasecmp(host, f->address)) || (f->port && port != f->port))
				continue;
			cells[0] = addr;
			cells[1] = "HEALTHY";
			cells[2] = "OK";
			cells[3] = name;
			if ((rc = add_row(t, cells, cs->items[i], i, 0, port, err, err_len)) < 0)
				return rc;
		}
	}
	return 0;
}

// istioctl sorts endpoints by address, port, cluster
static int endpoint_cmp(const struct table_row *a, const struct table_row *b)
{
	char ha[256], hb[256];
	uint32_t pa, pb;
	int c;

	split_hostport(a->cells[0], ha, sizeof(ha), &pa);
	split_hostport(b->cells[0], hb, sizeof(hb), &pb);
	if ((c = strcmp(ha, hb)))
		return c;
	if (pa != pb)
		return pa < pb ? -1 : 1;
	if ((c = strcmp(a->cells[3], b->cells[3])))
		return c;
	return a->src_idx < b->src_idx ? -1 : a->src_idx > b->src_idx;
}

// ---- secrets ----

// cert_serial writes x's serial as istioctl does (lowercase hex, no
// leading zeros).
static void cert_serial(X509 *x, char *out, size_t out_len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	const char *p = hex;

	out[0] = '\0';
	if (hex) {
		bool neg = *p == '-';

		p += neg;
		while (p[0] == '0' && p[1])
			p++;
		snprintf(out, out_len, "%s%s", neg ? "-" : "", p);
		for (char *c = out; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
	}
	OPENSSL_free(hex);
	BN_free(bn);
}

static void rfc3339(int64_t t, char *out, size_t out_len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, out_len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, out_len, "-");
}

static int cert_row(struct table *t, const struct ynode *src, size_t idx, const char *name,
		    const char *type, X509 *x, int64_t now, const char *where, char *err,
		    size_t err_len)
{
	char serial[128], nb_s[32], na_s[32];
	int64_t nb, na;
	const char *cells[7];

	if (ca_time_unix(X509_get0_notBefore(x), &nb) < 0 ||
	    ca_time_unix(X509_get0_notAfter(x), &na) < 0)
		return bad(err, err_len, "%s.pem: a certificate with an unreadable validity", where);
	cert_serial(x, serial, sizeof(serial));
	rfc3339(na, na_s, sizeof(na_s));
	rfc3339(nb, nb_s, sizeof(nb_s));
	cells[0] = name;
	cells[1] = type;
	cells[2] = "ACTIVE";
	cells[3] = now >= nb && now <= na ? "true" : "false";
	cells[4] = serial;
	cells[5] = na_s;
	cells[6] = nb_s;
	return add_row(t, cells, src, idx, 0, 0, err, err_len);
}

// map_secrets turns /certs' certificates into rows as istioctl's secret
// table: the workload certificate chain by its leaf, the trust bundle by
// each root in it; VALID CERT says whether now is within the validity.
static int map_secrets(const struct ynode *certs, int64_t now, struct table *t, char *err,
		       size_t err_len)
{
	const struct ynode *cs;
	char where[64];
	int rc;

	if ((rc = api_seq(certs, "/certs", "certificates", true, &cs, err, err_len)) < 0)
		return rc;
	for (size_t i = 0; i < cs->len; i++) {
		const struct ynode *pem_n;
		const char *name, *type, *pem;
		int n = 0;
		BIO *bio;
		X509 *x;

		snprintf(where, sizeof(where), "/certs: certificates[%zu]", i);
		if ((rc = api_str(cs->items[i], where, "name", true, &name, err, err_len)) < 0 ||
		    (rc = api_str(cs->items[i], where, "type", true, &type, err, err_len)) < 0 ||
		    (rc = api_str(cs->items[i], where, "pem", false, &pem, err, err_len)) < 0)
			return rc;
		if (!pem || !pem[0]) {
			const char *cells[7] = { name, type, "WARMING", "false", "", "", "" };

			if ((rc = add_row(t, cells, cs->items[i], i, 0, 0, err, err_len)) < 0)
				return rc;
			continue;
		}
		pem_n = yaml_tree_map_get(cs->items[i], "pem");
		if (!(bio = BIO_new_mem_buf(pem, (int)(pem_n->len > INT32_MAX ? INT32_MAX :
							  pem_n->len)))) {
			snprintf(err, err_len, "out of memory");
			return -ENOMEM;
		}
		rc = 0;
		while (rc == 0 && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
			// a chain is shown by its leaf; a bundle by every root
			if (!n++ || strcmp(type, "Cert Chain"))
				rc = cert_row(t, cs->items[i], i, name, type, x, now, where, err,
					      err_len);
			X509_free(x);
		}
		BIO_free(bio);
		ERR_clear_error();
		if (rc < 0)
			return rc;
		if (!n)
			return bad(err, err_len, "%s.pem: no readable PEM certificate", where);
	}
	return 0;
}

// ---- -o json: the admin API's objects behind the rows ----

// mark_sources returns, per index of an array of num objects, the first
// row that shows it (in row order) or NULL; only rows of group (or any
// group when group is -1) count. The caller frees it.
static const struct table_row **mark_sources(const struct table *t, size_t num, long group)
{
	const struct table_row **by = calloc(num ? num : 1, sizeof(*by));

	for (size_t r = 0; by && r < t->num_rows; r++) {
		const struct table_row *row = &t->rows[r];

		if ((group < 0 || row->group_idx == (uint32_t)group) && row->src_idx < num &&
		    !by[row->src_idx])
			by[row->src_idx] = row;
	}
	return by;
}

// json_sources appends a JSON array of the objects of arr that rows show,
// in arr's order; with_address puts each row's first cell first as
// "address" (a listener's bound address, which /config_dump leaves out).
static int json_sources(const struct table *t, const struct ynode *arr, bool with_address,
			struct buf *out)
{
	const struct table_row **by = mark_sources(t, arr ? arr->len : 0, -1);
	bool first = true;
	int rc = 0;

	if (!by)
		return -ENOMEM;
	rc = buf_appends(out, "[");
	for (size_t i = 0; arr && i < arr->len && rc == 0; i++) {
		const struct ynode *o = arr->items[i];

		if (!by[i])
			continue;
		if ((!first && (rc = buf_appends(out, ",")) < 0) ||
		    (rc = api_json_indent(out, 1)) < 0)
			break;
		first = false;
		if (!with_address || o->type != YN_MAP) {
			rc = api_json_write(out, o, 1);
			continue;
		}
		if ((rc = buf_appends(out, "{")) < 0 || (rc = api_json_indent(out, 2)) < 0 ||
		    (rc = buf_appends(out, "\"address\": ")) < 0 ||
		    (rc = json_append_cstr(out, by[i]->cells[0])) < 0)
			break;
		for (size_t p = 0; p < o->len && rc == 0; p++) {
			if ((rc = buf_appends(out, ",")) < 0 || (rc = api_json_indent(out, 2)) < 0 ||
			    (rc = json_append_str(out, o->pairs[p].key->str, o->pairs[p].key->len)) < 0 ||
			    (rc = buf_appends(out, ": ")) < 0)
				break;
			rc = api_json_write(out, o->pairs[p].value, 2);
		}
		if (rc == 0 && (rc = api_json_indent(out, 1)) == 0)
			rc = buf_appends(out, "}");
	}
	if (rc == 0)
		rc = buf_appends(out, first ? "]" : "\n]");
	free(by);
	return rc;
}

// json_routes appends the route tables the rows show, as Envoy's route
// configurations: [{"name": LISTENER, "virtual_hosts": [...]}].
static int json_routes(const struct table *t, const struct ynode *ls, const struct ynode *vhs,
		       struct buf *out)
{
	bool first = true;
	int rc = buf_appends(out, "[");

	for (size_t l = 0; l < ls->len && rc == 0; l++) {
		const struct table_row **by = mark_sources(t, vhs->len, (long)l);
		const char *name = NULL;
		bool vfirst = true;

		if (!by)
			return -ENOMEM;
		for (size_t v = 0; v < vhs->len && !name; v++)
			name = by[v] ? by[v]->cells[0] : NULL;	// the table's name
		if (!name) {
			free(by);
			continue;
		}
		if ((first || (rc = buf_appends(out, ",")) == 0) &&
		    (rc = api_json_indent(out, 1)) == 0 && (rc = buf_appends(out, "{")) == 0 &&
		    (rc = api_json_indent(out, 2)) == 0 &&
		    (rc = buf_appends(out, "\"name\": ")) == 0 &&
		    (rc = json_append_cstr(out, name)) == 0 && (rc = buf_appends(out, ",")) == 0 &&
		    (rc = api_json_indent(out, 2)) == 0)
			rc = buf_appends(out, "\"virtual_hosts\": [");
		first = false;
		for (size_t v = 0; v < vhs->len && rc == 0; v++) {
			if (!by[v])
				continue;
			if ((!vfirst && (rc = buf_appends(out, ",")) < 0) ||
			    (rc = api_json_indent(out, 3)) < 0)
				break;
			vfirst = false;
			rc = api_json_write(out, vhs->items[v], 3);
		}
		if (rc == 0 && (rc = api_json_indent(out, 2)) == 0 &&
		    (rc = buf_appends(out, "]")) == 0 && (rc = api_json_indent(out, 1)) == 0)
			rc = buf_appends(out, "}");
		free(by);
	}
	if (rc == 0)
		rc = buf_appends(out, first ? "]" : "\n]");
	return rc;
}

// ---- one kind, answer to output ----

// pc_build fills t (pc_build initialises it; table_cleanup it in every
// case) with the rows of kind from the admin API's answer root (for
// listeners, bound is /listeners' answer or NULL), filtered and in
// istioctl's order. now is for the secrets' VALID CERT. It returns 0,
// -EBADMSG with where and why in err, or -ENOMEM.
static int pc_build(int kind, const struct ynode *root, const struct ynode *bound,
		    const struct pc_filter *f, int64_t now, struct table *t, char *err,
		    size_t err_len)
{
	const char *where = kind == PC_SECRETS ? "/certs" : "/config_dump";
	bool have_dr = false;
	int rc;

	switch (kind) {
	case PC_LISTENERS:
		table_init(t, listener_cols, 4, 1);	// istioctl's listener table: padding 1
		break;
	case PC_ROUTES:
		table_init(t, route_cols, 5, 5);
		break;
	case PC_CLUSTERS:
		table_init(t, cluster_cols, 6, 5);
		break;
	case PC_ENDPOINTS:
		table_init(t, endpoint_cols, 4, 5);
		break;
	default:
		table_init(t, secret_cols, 7, 5);
		break;
	}
	if ((rc = api_want_map(root, where, err, err_len)) < 0 ||
	    (bound && (rc = api_want_map(bound, "/listeners", err, err_len)) < 0))
		return rc;
	switch (kind) {
	case PC_LISTENERS:
		if ((rc = map_listeners(root, bound, f, t, err, err_len)) == 0)
			table_sort(t, listener_cmp);
		return rc;
	case PC_ROUTES:
		return map_routes(root, f, t, err, err_len);
	case PC_CLUSTERS:
		if ((rc = map_clusters(root, f, t, &have_dr, err, err_len)) == 0)
			table_sort(t, cluster_cmp);
		(void)have_dr;	// the column is always there, blank without a rule
		return rc;
	case PC_ENDPOINTS:
		if ((rc = map_endpoints(root, f, t, err, err_len)) == 0)
			table_sort(t, endpoint_cmp);
		return rc;
	default:
		return map_secrets(root, now, t, err, err_len);
	}
}

// pc_render appends t as a table, or with json the admin API's objects
// behind its rows (root is what pc_build read), and a final newline. It
// returns 0 or -ENOMEM.
static int pc_render(int kind, const struct table *t, const struct ynode *root, bool json,
		     struct buf *out)
{
	int rc;

	if (!json)
		return table_render(t, out);
	if (kind == PC_ROUTES)
		rc = json_routes(t, yaml_tree_map_get(root, "listeners"),
				 yaml_tree_map_get(root, "virtual_hosts"), out);
	else
		rc = json_sources(t, yaml_tree_map_get(root, kind == PC_LISTENERS ? "listeners" :
							 kind == PC_SECRETS ? "certificates" :
							 "clusters"),
				  kind == PC_LISTENERS, out);
	return rc < 0 ? rc : buf_appends(out, "\n");
}

// ---- the command ----

static void pc_usage(FILE *f)
{
	fprintf(f,
		"usage: meshgate proxy-config KIND [--admin HOST:PORT] [-o table|json] [FILTERS]\n\n"
		"Shows what a running meshgate serves, read from its admin API, as\n"
		"istioctl proxy-config does for Envoy. -o json prints the admin API's\n"
		"objects behind the rows (listeners: /config_dump's, with the bound address).\n\n"
		"kinds and their filters:\n"
		"  listeners  [--port N] [--address IP]\n"
		"  routes     [--name LISTENER]   (meshgate has one route table, which every\n"
		"                                  HTTP listener uses; NAME is the listener)\n"
		"  clusters   [--fqdn HOST] [--port N] [--subset NAME] [--direction inbound|outbound]\n"
		"  endpoints  [--cluster NAME] [--address IP] [--port N]\n"
		"  secrets    the workload certificate (default) and the trust bundle (ROOTCA)\n\n"
		"options:\n"
		"  --admin HOST:PORT  the admin API (default 127.0.0.1:%d; [IPV6]:PORT, or PORT)\n"
		"  -o, --output FMT   table (default) or json\n\n"
		"Not shown because meshgate does not have it yet: endpoint health (no\n"
		"active health checks or outlier detection: every endpoint is HEALTHY,\n"
		"OUTLIER CHECK OK). Exit 0, 1 when the admin API cannot be read, 2 on\n"
		"misuse.\n", ADMIN_API_DEFAULT_PORT);
}

static int parse_kind(const char *s)
{
	static const struct {
		const char *name;
		int kind;
	} kinds[] = {
		{ "listeners", PC_LISTENERS }, { "listener", PC_LISTENERS }, { "l", PC_LISTENERS },
		{ "routes", PC_ROUTES }, { "route", PC_ROUTES }, { "r", PC_ROUTES },
		{ "clusters", PC_CLUSTERS }, { "cluster", PC_CLUSTERS }, { "c", PC_CLUSTERS },
		{ "endpoints", PC_ENDPOINTS }, { "endpoint", PC_ENDPOINTS }, { "ep", PC_ENDPOINTS },
		{ "secrets", PC_SECRETS }, { "secret", PC_SECRETS }, { "s", PC_SECRETS },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(s, kinds[i].name))
			return kinds[i].kind;
	return -1;
}

static const char *const kind_names[] = { "listeners", "routes", "clusters", "endpoints",
					  "secrets" };

// flag_value takes a flag's value from "--flag=V" or the next argument.
static const char *flag_value(int argc, char **argv, int *i, const char *flag)
{
	size_t n = strlen(flag);

	if (!strncmp(argv[*i], flag, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (!strcmp(argv[*i], flag) && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static bool is_flag(const char *arg, const char *flag)
{
	size_t n = strlen(flag);

	return !strncmp(arg, flag, n) && (arg[n] == '\0' || arg[n] == '=');
}

// connect_hint tells what to check when no answer came at all.
static const char *connect_hint(int rc)
{
	return rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -EHOSTUNREACH ||
	       rc == -ENETUNREACH || rc == -ECONNRESET ?
	       "\n(is meshgate running, with its admin API ([admin] address, port) there? "
	       "--admin HOST:PORT names another)" : "";
}

int cli_proxy_config(int argc, char **argv)
{
	const char *admin_s = "127.0.0.1:15000", *output = "table";
	struct pc_filter f = { 0 };
	struct admin_addr addr;
	struct yaml_tree dump = { 0 }, extra = { 0 };
	struct table t;
	struct buf out;
	char err[1024];
	int kind = -1, rc = 1, status;
	unsigned used = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			pc_usage(stdout);
			return 0;
		}
		if (a[0] != '-') {
			if (kind >= 0 || (kind = parse_kind(a)) < 0) {
				fprintf(stderr, "meshgate proxy-config: %s %s\n", kind >= 0 ?
					"one kind at a time, not also" : "unknown kind", a);
				pc_usage(stderr);
				return 2;
			}
			continue;
		}
#define FLAG(name) (is_flag(a, name) && ((v = flag_value(argc, argv, &i, name)) || \
					   (fprintf(stderr, "meshgate proxy-config: %s needs a value\n", \
						    name), 0)))
		if (is_flag(a, "--admin")) {
			if (!FLAG("--admin"))
				return 2;
			admin_s = v;
		} else if (!strncmp(a, "-o", 2) && a[2] && a[2] != '=') {
			output = a + 2;		// -ojson
		} else if (is_flag(a, "-o") || is_flag(a, "--output")) {
			if (!FLAG(is_flag(a, "-o") ? "-o" : "--output"))
				return 2;
			output = v;
		} else if (is_flag(a, "--port")) {
			char *end;
			unsigned long p;

			if (!FLAG("--port"))
				return 2;
			p = strtoul(v, &end, 10);
			if (!*v || *end || !p || p > 65535) {
				fprintf(stderr, "meshgate proxy-config: --port %s: want 1..65535\n", v);
				return 2;
			}
			f.port = (uint32_t)p;
			used |= 1u << PCF_PORT;
		} else if (is_flag(a, "--address")) {
			if (!FLAG("--address"))
				return 2;
			f.address = v;
			used |= 1u << PCF_ADDRESS;
		} else if (is_flag(a, "--name")) {
			if (!FLAG("--name"))
				return 2;
			f.name = v;
			used |= 1u << PCF_NAME;
		} else if (is_flag(a, "--fqdn")) {
			if (!FLAG("--fqdn"))
				return 2;
			f.fqdn = v;
			used |= 1u << PCF_FQDN;
		} else if (is_flag(a, "--subset")) {
			if (!FLAG("--subset"))
				return 2;
			f.subset = v;
			used |= 1u << PCF_SUBSET;
		} else if (is_flag(a, "--direction")) {
			if (!FLAG("--direction"))
				return 2;
			if (strcmp(v, "inbound") && strcmp(v, "outbound")) {
				fprintf(stderr, "meshgate proxy-config: --direction %s: want inbound "
					"or outbound\n", v);
				return 2;
			}
			f.direction = v;
			used |= 1u << PCF_DIRECTION;
		} else if (is_flag(a, "--cluster")) {
			if (!FLAG("--cluster"))
				return 2;
			f.cluster = v;
			used |= 1u << PCF_CLUSTER;
		} else {
			fprintf(stderr, "meshgate proxy-config: unknown option %s\n", a);
			pc_usage(stderr);
			return 2;
		}
#undef FLAG
	}
	if (kind < 0) {
		fprintf(stderr, "meshgate proxy-config: which kind? listeners, routes, clusters, "
			"endpoints or secrets\n");
		pc_usage(stderr);
		return 2;
	}
	if (strcmp(output, "table") && strcmp(output, "json")) {
		fprintf(stderr, "meshgate proxy-config: -o %s: want table or json\n", output);
		return 2;
	}
	for (int k = 0; k < PCF_NUM; k++) {
		if ((used & 1u << k) && !(pc_flags[k].kinds & 1u << kind)) {
			fprintf(stderr, "meshgate proxy-config: %s does not apply to %s\n",
				pc_flags[k].flag, kind_names[kind]);
			return 2;
		}
	}
	if (admin_addr_parse(&addr, admin_s) < 0) {
		fprintf(stderr, "meshgate proxy-config: --admin %s: want HOST:PORT with a numeric "
			"address, [IPV6]:PORT or PORT\n", admin_s);
		return 2;
	}
	clock_init();	// MESHGATE_CLOCK_OFFSET_S, as the appliance reads it
	buf_init(&out);
	memset(&t, 0, sizeof(t));
	if ((status = admin_get_json(&addr, kind == PC_SECRETS ? "/certs" : "/config_dump", &dump,
				     NULL, err, sizeof(err))) < 0) {
		fprintf(stderr, "meshgate proxy-config: %s%s\n", err, connect_hint(status));
		goto out;
	}
	if (kind == PC_LISTENERS) {
		// a meshgate older than /listeners: the addresses are "-"
		int r = admin_get_json(&addr, "/listeners", &extra, &status, err, sizeof(err));

		if (r < 0 && status != 404) {
			fprintf(stderr, "meshgate proxy-config: %s\n", err);
			goto out;
		}
	}
	rc = pc_build(kind, dump.docs[0], extra.num_docs ? extra.docs[0] : NULL, &f,
		      clock_wall_s(), &t, err, sizeof(err));
	if (rc == -EBADMSG) {
		fprintf(stderr, "meshgate proxy-config: unexpected answer from the admin API at "
			"%s: %s\n", addr.text, err);
		rc = 1;
		goto out;
	}
	if (rc == 0)
		rc = pc_render(kind, &t, dump.docs[0], !strcmp(output, "json"), &out);
	if (rc < 0) {
		fprintf(stderr, "meshgate proxy-config: out of memory\n");
		rc = 1;
		goto out;
	}
	fwrite(out.data ? out.data : "", 1, out.len, stdout);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	table_cleanup(&t);
	buf_cleanup(&out);
	yaml_tree_free(&dump);
	yaml_tree_free(&extra);
	return rc;
}
