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
#include <strings.h>

#define XXH_STATIC_LINKING_ONLY	// XXH3_state_t on the stack
#include <xxhash.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/log.h"
#include "core/strmap.h"
#include "proto/tls.h"


struct builder {
	struct arena *a;
	struct snapshot *s;
	const struct bootstrap *b;
	const struct snap_secrets *sec;
	const struct istio_config *cfg;
	struct tls_client *mesh_http, *mesh_h2, *mesh_tcp;	// auto-mTLS clients, shared by clusters
	char *err;
	size_t err_len;
	// growing arrays (heap, copied into the arena at the end)
	struct snap_cluster **clusters;
	uint32_t num_clusters, cap_clusters;
	struct snap_service *services;
	uint32_t num_services, cap_services;
	struct snap_vhost *vhosts;
	uint32_t num_vhosts, cap_vhosts;
	struct snap_addr *addrs;
	uint32_t num_addrs, cap_addrs;
	// the current ServiceEntry's endpoints' sources (WorkloadEntries), or
	// NULL for its own endpoints
	const char **ep_sources;
	// the Sidecar that applies to the appliance, or NULL
	const struct sidecar *sidecar;
	// name -> index in services / vhosts: lookups stay O(1) at scale
	struct strmap svc_index, vhost_index;
	// the services each ServiceEntry registered: [svc_first, +svc_num)
	uint32_t *svc_first, *svc_num;
};

// build_state is what a snapshot keeps of its inputs so that the next
// build can be a patch (see snapshot_update).
struct build_state {
	uint64_t fingerprint;		// every input but endpoints
	uint64_t we_hash;		// the WorkloadEntries
	uint32_t num_se;
	const uint64_t *ep_hash;	// per ServiceEntry (cfg order): its endpoints
	const uint32_t *svc_first, *svc_num;	// base's services, per ServiceEntry
	const uint32_t *patched;	// entries base's clusters are redone for, ascending
	uint32_t num_patched;
	struct tls_client *mesh_http, *mesh_h2, *mesh_tcp;	// base's auto-mTLS clients
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
	char buf[1024];

	return arena_strdup(a, istio_expand_host(buf, sizeof(buf), host, ns, domain));
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
	c->connect_timeout_ms = bd->b->connect_timeout_ms;
	c->rq_active = arena_alloc(bd->a, sizeof(*c->rq_active));
	if (!c->rq_active)
		return NULL;
	bd->clusters[bd->num_clusters++] = c;
	return c;
}

static struct snap_service *find_service(struct builder *bd, const char *host)
{
	uint32_t i;

	return strmap_get(&bd->svc_index, host, strlen(host), &i) ? &bd->services[i] : NULL;
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

static void cleanup_tls_client(void *arg)
{
	tls_client_unref(arg);
}

static int add_cleanup(struct builder *bd, void (*fn)(void *), void *arg)
{
	struct snap_cleanup *cl = arena_alloc(bd->a, sizeof(*cl));

	if (!cl)
		return -ENOMEM;
	cl->fn = fn;
	cl->arg = arg;
	cl->next = bd->s->cleanups;
	bd->s->cleanups = cl;
	return 0;
}

static bool is_http_protocol(const char *proto)
{
	return !proto || !strcmp(proto, "HTTP") || !strcmp(proto, "HTTP2") ||
	       !strcmp(proto, "GRPC") || !strcmp(proto, "GRPC-WEB") || !strcmp(proto, "HTTP_PROXY");
}

// mesh_client returns the shared ISTIO_MUTUAL client context for HTTP or
// TCP traffic (Istio's ALPN lists), or NULL without an identity.
static struct tls_client *mesh_client(struct builder *bd, int kind)
{
	static const char *const alpn_http[] = { "istio-http/1.1", "istio", "http/1.1" };
	static const char *const alpn_h2[] = { "istio-h2", "istio", "h2" };
	static const char *const alpn_tcp[] = { "istio-peer-exchange", "istio" };
	static const char *const *const lists[] = { alpn_tcp, alpn_http, alpn_h2 };
	bool http = kind > 0;
	struct tls_client **slot = kind == 2 ? &bd->mesh_h2 : http ? &bd->mesh_http : &bd->mesh_tcp;
	struct tls_client_cfg cfg;
	char why[256];

	if (*slot)
		return *slot;
	if (!bd->sec || !bd->sec->identity || !bd->sec->bundle)
		return NULL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = TLS_ISTIO_MUTUAL;
	cfg.identity = bd->sec->identity;
	cfg.bundle = bd->sec->bundle;
	for (int i = 0; i < (http ? 3 : 2); i++)
		cfg.alpn[cfg.num_alpn++] = lists[kind][i];
	if (tls_client_new(slot, &cfg, why, sizeof(why)) < 0) {
		log_emit(LOG_ERR, NULL, "snapshot: mesh TLS client: %s", why);
		return NULL;
	}
	if (add_cleanup(bd, cleanup_tls_client, *slot) < 0) {
		tls_client_unref(*slot);
		*slot = NULL;
		return NULL;
	}
	return *slot;
}

// cluster_tls_key hashes everything a pooled TLS connection was made
// with, so a connection is reused only for the same SNI, expected
// identities, client certificate and trust bundle.
static void cluster_tls_key(struct builder *bd, struct snap_cluster *c)
{
	struct buf k;

	buf_init(&k);
	buf_appendf(&k, "%s|%s|", c->tls_mode ? c->tls_mode : "", c->sni ? c->sni : "");
	for (uint32_t i = 0; i < c->num_sans; i++)
		buf_appendf(&k, "%s,", c->sans[i]);
	if (bd->sec && bd->sec->identity)
		buf_appendf(&k, "|%s|%lld", bd->sec->identity->spiffe,
			    (long long)bd->sec->identity->not_before);
	if (bd->sec && bd->sec->bundle)
		buf_appendf(&k, "|%016llx", (unsigned long long)bd->sec->bundle->b.version);
	c->tls_key = hash64(k.data ? k.data : "", k.len) | 1;
	buf_cleanup(&k);
}

// auto_mtls gives a ServiceEntry port's cluster Istio's automatic mutual
// TLS: endpoints labelled security.istio.io/tlsMode=istio are dialled with
// ISTIO_MUTUAL, SNI outbound_.<port>_._.<host>, and the server must present
// one of the identities the ServiceEntry names (subjectAltNames) or its
// endpoints run as (serviceAccount); without any, any mesh identity.
static int auto_mtls(struct builder *bd, const struct service_entry *se,
		     const struct se_port *sp, struct snap_cluster *c)
{
	const char **sans;
	uint32_t n = 0;
	bool any = false;

	if (!bd->b->auto_mtls)
		return 0;	// MeshConfig enableAutoMtls: false
	for (uint32_t e = 0; e < c->num_eps; e++)
		any |= c->eps[e].mtls_ready;
	if (!any)
		return 0;
	if (!(c->tls = mesh_client(bd, c->h2 ? 2 : is_http_protocol(sp->protocol)))) {
		log_emit(LOG_WARN, NULL, "%s:%d: ServiceEntry %s/%s: endpoints want mutual TLS "
			 "but the appliance has no workload certificate; they get plaintext",
			 se->meta.file, se->meta.line, se->meta.namespace_, se->meta.name);
		return 0;
	}
	c->tls_auto = true;
	c->tls_mode = "ISTIO_MUTUAL";
	c->sni = arena_sprintf(bd->a, "outbound_.%u_._.%s", c->port, c->host);
	sans = arena_alloc(bd->a, sizeof(*sans) * (se->num_subject_alt_names + se->num_endpoints + 1));
	if (!sans || !c->sni)
		return -ENOMEM;
	for (int i = 0; i < se->num_subject_alt_names; i++)
		sans[n++] = arena_strdup(bd->a, se->subject_alt_names[i]);
	for (int i = 0; i < se->num_endpoints; i++) {
		const char *sa = se->endpoints[i].service_account;
		const char *id;
		bool dup = false;

		if (!sa || !sa[0])
			continue;
		id = arena_sprintf(bd->a, "spiffe://%s/ns/%s/sa/%s", bd->b->trust_domain,
				   se->meta.namespace_, sa);
		for (uint32_t k = 0; k < n; k++)
			dup |= !strcmp(sans[k], id);
		if (!dup)
			sans[n++] = id;
	}
	c->sans = sans;
	c->num_sans = n;
	cluster_tls_key(bd, c);
	return 0;
}

// visible says whether a resource of namespace ns exported to export_to is
// seen by this appliance (its [appliance] namespace), as Istio's exportTo:
// none listed or "*" is everyone, "." its own namespace, "~" no one,
// otherwise the namespaces named.
static bool visible(const struct builder *bd, const char *ns, const char *const *export_to, int n)
{
	const char *me = bd->b->namespace_;

	if (!n)
		return true;
	for (int i = 0; i < n; i++) {
		const char *e = export_to[i];

		if (!strcmp(e, "*") || !strcmp(e, me) || (!strcmp(e, ".") && !strcmp(ns, me)))
			return true;
	}
	return false;
}

static bool labels_match(const struct kv *sel, int num_sel, const struct bootstrap *b);

// pick_sidecar finds the Sidecar for the appliance as a workload, as
// istiod does: one in its namespace whose workloadSelector matches its
// labels, else its namespace's without selector, else the root namespace's
// (istio-system) without selector; the first by name at each level.
static const struct sidecar *pick_sidecar(const struct builder *bd)
{
	const struct istio_config *cfg = bd->cfg;
	const struct sidecar *wl = NULL, *ns = NULL, *root = NULL;
	const char *me = bd->b->namespace_;

	for (int i = 0; cfg && i < cfg->num_sidecars; i++) {
		const struct sidecar *sc = &cfg->sidecars[i];
		const struct sidecar **slot = NULL;

		if (!strcmp(sc->meta.namespace_, me) && sc->num_selector &&
		    labels_match(sc->selector, sc->num_selector, bd->b))
			slot = &wl;
		else if (!strcmp(sc->meta.namespace_, me) && !sc->num_selector)
			slot = &ns;
		else if (!strcmp(sc->meta.namespace_, bd->b->root_namespace) && !sc->num_selector)
			slot = &root;
		if (slot && (!*slot || strcmp(sc->meta.name, (*slot)->meta.name) < 0))
			*slot = sc;
	}
	return wl ? wl : ns ? ns : root;
}

// imported says whether the appliance's Sidecar lets it see host of
// namespace ns: its egress hosts ("namespace/dnsName": "*" any namespace,
// "." the Sidecar's own, "~" none; "*", "*.suffix" or an exact name). No
// Sidecar or no egress listener imports everything.
static bool imported(const struct builder *bd, const char *ns, const char *host)
{
	const struct sidecar *sc = bd->sidecar;
	size_t hl = strlen(host);

	if (!sc || !sc->num_egress)
		return true;
	for (int l = 0; l < sc->num_egress; l++) {
		for (int i = 0; i < sc->egress[l].num_hosts; i++) {
			const char *e = sc->egress[l].hosts[i], *slash = strchr(e, '/');
			const char *name = slash ? slash + 1 : e;
			size_t nl = slash ? (size_t)(slash - e) : 0, dl = strlen(name);

			if (!slash || (nl == 1 && e[0] == '~'))
				continue;
			if (!(nl == 1 && e[0] == '*') &&
			    !(nl == 1 && e[0] == '.' && !strcmp(ns, sc->meta.namespace_)) &&
			    !(strlen(ns) == nl && !strncmp(ns, e, nl)))
				continue;
			if (!strcmp(name, "*") || !strcasecmp(name, host) ||
			    (name[0] == '*' && hl > dl - 1 && !strcasecmp(host + hl - (dl - 1), name + 1)))
				return true;
		}
	}
	return false;
}

// find_dr returns the DestinationRule for a service host: an exact host
// (short names expanded in the rule's namespace) first, else the most
// specific wildcard.
static const struct destination_rule *find_dr(struct builder *bd, const char *host)
{
	const struct destination_rule *best = NULL;
	size_t best_len = 0;

	for (int i = 0; bd->cfg && i < bd->cfg->num_destination_rules; i++) {
		const struct destination_rule *dr = &bd->cfg->destination_rules[i];
		char *h;

		if (!visible(bd, dr->meta.namespace_, dr->export_to, dr->num_export_to))
			continue;
		h = snapshot_expand_host(bd->a, dr->host, dr->meta.namespace_, bd->b->kube_domain);
		size_t hl = h ? strlen(h) : 0, l = strlen(host);

		if (!h)
			continue;
		if (!strcmp(h, host))
			return dr;
		if (h[0] == '*' && (hl == 1 || (l > hl - 1 && !strcmp(host + l - (hl - 1), h + 1)))) {
			if (!best || hl > best_len) {
				best = dr;
				best_len = hl;
			}
		}
	}
	return best;
}

static const struct dr_tls *dr_tls_for(const struct destination_rule *dr, uint32_t port)
{
	const struct dr_traffic_policy *tp = dr ? dr->traffic_policy : NULL;

	if (!tp)
		return NULL;
	for (int i = 0; i < tp->num_port_level_settings; i++)
		if (tp->port_level_settings[i].port == port && tp->port_level_settings[i].tls)
			return tp->port_level_settings[i].tls;
	return tp->tls;
}

// file_hash is XXH3 of a small file's contents (0 if unreadable or NULL).
static uint64_t file_hash(const char *path)
{
	FILE *f = path ? fopen(path, "rb") : NULL;
	struct buf b;
	char chunk[4096];
	size_t n;
	uint64_t h;

	if (!f)
		return 0;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < (16u << 20))
		buf_append(&b, chunk, n);
	fclose(f);
	h = hash64(b.data ? b.data : "", b.len);
	buf_cleanup(&b);
	return h;
}

static const char *const SYSTEM_ROOTS = "/etc/ssl/certs/ca-certificates.crt";

// dr_origination applies a DestinationRule's trafficPolicy.tls (or the
// port's portLevelSettings tls) to a cluster: DISABLE turns auto mTLS off,
// ISTIO_MUTUAL uses the appliance's SVID, SIMPLE and MUTUAL read their
// files now, so a reload picks up changed files. Settings the data plane
// cannot honour (credentialName needs a secret store) fail the build with
// the resource and field named, rather than silently sending plaintext.
static int dr_origination(struct builder *bd, const struct destination_rule *dr,
			  const struct dr_tls *t, const struct se_port *sp, struct snap_cluster *c)
{
	struct tls_client_cfg cfg;
	struct tls_client *cli;
	struct tls_identity *id = NULL;
	const char **sans;
	char why[512];
	bool http = is_http_protocol(sp->protocol);
	int rc;

#define DR_ERR(...) do { \
		char m_[700]; \
		snprintf(m_, sizeof(m_), __VA_ARGS__); \
		snprintf(bd->err, bd->err_len, "%s:%d: DestinationRule %s/%s: %s", \
			 dr->meta.file, dr->meta.line, dr->meta.namespace_, dr->meta.name, m_); \
		return -EINVAL; \
	} while (0)

	c->tls = NULL;
	c->tls_auto = false;
	c->tls_mode = NULL;
	c->sni = NULL;
	c->num_sans = 0;
	if (t->mode == DR_TLS_DISABLE)
		return 0;
	if (t->num_subject_alt_names) {
		sans = arena_alloc(bd->a, sizeof(*sans) * (size_t)t->num_subject_alt_names);
		if (!sans)
			return -ENOMEM;
		for (int i = 0; i < t->num_subject_alt_names; i++)
			sans[i] = arena_strdup(bd->a, t->subject_alt_names[i]);
		c->sans = sans;
		c->num_sans = (uint32_t)t->num_subject_alt_names;
	}
	if (t->mode == DR_TLS_ISTIO_MUTUAL) {
		if (!(c->tls = mesh_client(bd, c->h2 ? 2 : http)))
			DR_ERR("trafficPolicy.tls: ISTIO_MUTUAL needs the appliance's workload "
			       "certificate, which is not available");
		c->tls_mode = "ISTIO_MUTUAL";
		c->sni = t->sni ? arena_strdup(bd->a, t->sni)
				: arena_sprintf(bd->a, "outbound_.%u_._.%s", c->port, c->host);
		cluster_tls_key(bd, c);
		return 0;
	}
	if (t->credential_name)
		DR_ERR("trafficPolicy.tls.credentialName: certificates from a secret store are "
		       "not supported yet; use clientCertificate/privateKey/caCertificates files");
	if (t->ca_crl)
		DR_ERR("trafficPolicy.tls.caCrl: certificate revocation lists are not supported yet");
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = t->mode == DR_TLS_MUTUAL ? TLS_MUTUAL : TLS_SIMPLE;
	if (t->insecure_skip_verify != 1)
		cfg.ca_file = t->ca_certificates ? t->ca_certificates : SYSTEM_ROOTS;
	if (cfg.mode == TLS_MUTUAL) {
		if (tls_identity_load(&id, t->client_certificate, t->private_key, why,
				      sizeof(why)) < 0)
			DR_ERR("trafficPolicy.tls.clientCertificate: %.500s", why);
		cfg.identity = id;
	}
	if (c->h2)
		cfg.alpn[cfg.num_alpn++] = "h2";
	else if (http)
		cfg.alpn[cfg.num_alpn++] = "http/1.1";
	rc = tls_client_new(&cli, &cfg, why, sizeof(why));
	tls_identity_unref(id);
	if (rc < 0)
		DR_ERR("trafficPolicy.tls: %.500s", why);
	if (add_cleanup(bd, cleanup_tls_client, cli) < 0) {
		tls_client_unref(cli);
		return -ENOMEM;
	}
	c->tls = cli;
	c->tls_mode = cfg.mode == TLS_MUTUAL ? "MUTUAL" : "SIMPLE";
	// Istio's auto SNI: the host, and then the certificate must name it
	c->sni = arena_strdup(bd->a, t->sni ? t->sni : c->host);
	if (!c->num_sans && t->insecure_skip_verify != 1) {
		sans = arena_alloc(bd->a, sizeof(*sans));
		if (!sans)
			return -ENOMEM;
		sans[0] = c->sni;
		c->sans = sans;
		c->num_sans = 1;
	}
	cluster_tls_key(bd, c);
	{
		// a changed CA or client certificate file must not reuse pools
		struct buf k;

		buf_init(&k);
		buf_appendf(&k, "%016llx|%016llx|%016llx", (unsigned long long)c->tls_key,
			    (unsigned long long)file_hash(cfg.ca_file),
			    (unsigned long long)file_hash(t->client_certificate));
		c->tls_key = hash64(k.data, k.len) | 1;
		buf_cleanup(&k);
	}
	return 0;
#undef DR_ERR
}

static bool endpoint_mtls_ready(const struct se_endpoint *ep)
{
	for (int i = 0; i < ep->num_labels; i++)
		if (!strcmp(ep->labels[i].key, "security.istio.io/tlsMode") &&
		    !strcmp(ep->labels[i].value, "istio"))
			return true;
	return false;
}

// parse_addr reads a ServiceEntry address, "10.0.0.1" or "10.0.0.0/24" (or
// IPv6), into a v4-mapped key and prefix length.
static int parse_addr(const char *s, uint8_t ip[16], uint8_t *prefix)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long bits;
	bool v4;
	char *end;

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, buf, ip + 12) == 1) {
		ip[10] = ip[11] = 0xff;
		v4 = true;
	} else if (inet_pton(AF_INET6, buf, ip) == 1) {
		v4 = false;
	} else {
		return -EINVAL;
	}
	bits = v4 ? 32 : 128;
	if (slash) {
		bits = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || bits > (v4 ? 32u : 128u))
			return -EINVAL;
	}
	*prefix = (uint8_t)(v4 ? bits + 96 : bits);
	return 0;
}

// add_addresses registers a ServiceEntry's addresses on each port of svc.
static int add_addresses(struct builder *bd, const struct service_entry *se,
			 const struct snap_service *svc)
{
	for (int i = 0; i < se->num_addresses; i++) {
		uint8_t ip[16], prefix;

		if (parse_addr(se->addresses[i], ip, &prefix) < 0) {
			log_emit(LOG_WARN, NULL, "%s:%d: ServiceEntry %s/%s: address %s is not "
				 "an IP or CIDR, skipped", se->meta.file, se->meta.line,
				 se->meta.namespace_, se->meta.name, se->addresses[i]);
			continue;
		}
		for (uint32_t p = 0; p < svc->num_ports; p++) {
			struct snap_addr *a;

			if (grow((void **)&bd->addrs, &bd->cap_addrs, bd->num_addrs,
				 sizeof(*bd->addrs)))
				return -ENOMEM;
			a = &bd->addrs[bd->num_addrs++];
			memcpy(a->ip, ip, 16);
			a->prefix = prefix;
			a->port = (uint16_t)svc->ports[p];
			a->cluster = svc->port_clusters[p];
		}
	}
	return 0;
}

static int cmp_cidr(const void *x, const void *y)
{
	const struct snap_addr *a = x, *b = y;

	return (int)b->prefix - (int)a->prefix;
}

// index_addrs copies the addresses into the snapshot: single addresses
// into the hash index (the first registration of an address and port
// wins), CIDRs after them, longest prefix first.
static int index_addrs(struct builder *bd)
{
	struct snapshot *s = bd->s;
	uint32_t size = 16, n = 0;

	s->addrs = arena_alloc(bd->a, sizeof(*s->addrs) * (bd->num_addrs + 1));
	if (!s->addrs)
		return -ENOMEM;
	for (uint32_t i = 0; i < bd->num_addrs; i++)
		if (bd->addrs[i].prefix == 128)
			s->addrs[n++] = bd->addrs[i];
	s->num_exact_addrs = n;
	for (uint32_t i = 0; i < bd->num_addrs; i++)
		if (bd->addrs[i].prefix != 128)
			s->addrs[n++] = bd->addrs[i];
	s->num_addrs = n;
	qsort(s->addrs + s->num_exact_addrs, n - s->num_exact_addrs, sizeof(*s->addrs), cmp_cidr);
	while (size < s->num_exact_addrs * 2)
		size *= 2;
	s->addr_index = arena_alloc(bd->a, size * sizeof(uint32_t));
	if (!s->addr_index)
		return -ENOMEM;
	s->addr_index_mask = size - 1;
	for (uint32_t v = 0; v < s->num_exact_addrs; v++) {
		const struct snap_addr *a = &s->addrs[v];
		uint32_t i = snap_addr_hash(a->ip, a->port) & s->addr_index_mask;
		bool dup = false;

		for (; s->addr_index[i]; i = (i + 1) & s->addr_index_mask) {
			const struct snap_addr *o = &s->addrs[s->addr_index[i] - 1];

			if (o->port == a->port && !memcmp(o->ip, a->ip, 16))
				dup = true;
		}
		if (!dup)
			s->addr_index[i] = v + 1;
	}
	return 0;
}

// dns_endpoints fills out with the addresses known for a DNS name and
// returns how many: all of them for resolution DNS (Envoy's STRICT_DNS),
// the first for DNS_ROUND_ROBIN (LOGICAL_DNS). None until it resolved.
static uint32_t dns_endpoints(struct builder *bd, const struct service_entry *se,
			      const char *name, uint32_t port, struct snap_endpoint *out)
{
	struct sockaddr_storage addrs[SNAP_DNS_MAX_ADDRS];
	char ip[INET6_ADDRSTRLEN];
	const char *src;
	int n = bd->sec && bd->sec->resolve ?
		bd->sec->resolve(bd->sec->resolve_arg, name, addrs, SNAP_DNS_MAX_ADDRS) : 0;

	if (n > 0 && se->resolution == SE_RES_DNS_ROUND_ROBIN)
		n = 1;
	src = n > 0 ? arena_sprintf(bd->a, "dns %s", name) : NULL;
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].source = src;
		if (addrs[i].ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&out[i].addr;

			*a = *(const struct sockaddr_in *)&addrs[i];
			a->sin_port = htons((uint16_t)port);
			out[i].addr_len = sizeof(*a);
			inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
			snprintf(out[i].addr_str, sizeof(out[i].addr_str), "%s:%u", ip, port);
		} else {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out[i].addr;

			*a = *(const struct sockaddr_in6 *)&addrs[i];
			a->sin6_port = htons((uint16_t)port);
			out[i].addr_len = sizeof(*a);
			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
			snprintf(out[i].addr_str, sizeof(out[i].addr_str), "[%s]:%u", ip, port);
		}
	}
	return n > 0 ? (uint32_t)n : 0;
}

// labels_cover says whether an endpoint's labels include every label of a
// subset's selector.
static bool labels_cover(const struct kv *have, int num_have, const struct kv *want, int num_want)
{
	for (int i = 0; i < num_want; i++) {
		bool hit = false;

		for (int k = 0; k < num_have && !hit; k++)
			hit = !strcmp(have[k].key, want[i].key) && !strcmp(have[k].value, want[i].value);
		if (!hit)
			return false;
	}
	return true;
}

// fill_endpoints gives cluster c (host's port sp of se) its endpoints: the
// entry's endpoints (IP literals, or host names resolved for resolution
// DNS), only those whose labels match sub when sub is a subset, or the
// host itself resolved for resolution DNS without endpoints.
static int fill_endpoints(struct builder *bd, const struct service_entry *se,
			  const struct se_port *sp, const char *host, const struct dr_subset *sub,
			  struct snap_cluster *c)
{
	bool dns = se->resolution == SE_RES_DNS || se->resolution == SE_RES_DNS_ROUND_ROBIN;
	size_t room = dns && !se->num_endpoints ? SNAP_DNS_MAX_ADDRS : 1;
	uint32_t n = 0;
	unsigned char ip[16];

	// one slot per IP literal, a DNS answer's worth per host name
	for (int e = 0; e < se->num_endpoints; e++)
		room += dns && inet_pton(AF_INET, se->endpoints[e].address, ip) != 1 &&
			inet_pton(AF_INET6, se->endpoints[e].address, ip) != 1 ? SNAP_DNS_MAX_ADDRS : 1;
	c->eps = arena_alloc(bd->a, sizeof(*c->eps) * room);
	if (!c->eps)
		return -ENOMEM;
	for (int e = 0; e < se->num_endpoints; e++) {
		const struct se_endpoint *ep = &se->endpoints[e];
		uint32_t port, k, got;

		if (sub && !labels_cover(ep->labels, ep->num_labels, sub->labels, sub->num_labels))
			continue;
		endpoint_port_for(ep, sp, &port);
		if (parse_ip(ep->address, port, &c->eps[n]) == 0) {
			got = 1;
		} else if (se->resolution == SE_RES_DNS || se->resolution == SE_RES_DNS_ROUND_ROBIN) {
			got = dns_endpoints(bd, se, ep->address, port, &c->eps[n]);
		} else {
			if (!sub)
				log_emit(LOG_WARN, NULL, "%s:%d: ServiceEntry %s/%s: endpoint %s is "
					 "not an IP address and resolution is not DNS, endpoint "
					 "skipped", se->meta.file, se->meta.line, se->meta.namespace_,
					 se->meta.name, ep->address);
			continue;
		}
		for (k = n; k < n + got; k++) {
			c->eps[k].weight = ep->weight ? ep->weight : 1;
			c->eps[k].mtls_ready = endpoint_mtls_ready(ep);
			if (bd->ep_sources)	// else inline, or what DNS said
				c->eps[k].source = bd->ep_sources[e];
		}
		n += got;
	}
	// resolution DNS without endpoints: the host itself is resolved (a
	// subset of such an entry selects by labels it cannot have: none, as
	// in Istio, unless it has no labels)
	if (!se->num_endpoints && (se->resolution == SE_RES_DNS ||
				   se->resolution == SE_RES_DNS_ROUND_ROBIN) &&
	    (!sub || !sub->num_labels)) {
		n = dns_endpoints(bd, se, host, sp->target_port ? sp->target_port : sp->number,
				  c->eps);
		for (uint32_t k = 0; k < n; k++)
			c->eps[k].weight = 1;
	}
	c->num_eps = n;
	return 0;
}

// http_pool_for is the connectionPool.http a cluster on port follows: the
// subset's policy (port level first), then the rule's (port level first).
static const struct dr_http_pool *http_pool_for(const struct destination_rule *dr,
						const struct dr_subset *sub, uint32_t port)
{
	const struct dr_traffic_policy *tps[2] = { sub ? sub->traffic_policy : NULL,
						   dr ? dr->traffic_policy : NULL };

	for (int k = 0; k < 2; k++) {
		const struct dr_traffic_policy *tp = tps[k];

		for (int i = 0; tp && i < tp->num_port_level_settings; i++)
			if (tp->port_level_settings[i].port == port &&
			    tp->port_level_settings[i].connection_pool &&
			    tp->port_level_settings[i].connection_pool->http)
				return tp->port_level_settings[i].connection_pool->http;
		if (tp && tp->connection_pool && tp->connection_pool->http)
			return tp->connection_pool->http;
	}
	return NULL;
}

// cluster_protocol decides how a cluster speaks HTTP to its endpoints, as
// istiod does: HTTP/2 for HTTP2, GRPC and GRPC-WEB ports, or for HTTP ones
// when the DestinationRule says h2UpgradePolicy UPGRADE (DO_NOT_UPGRADE
// keeps HTTP/1.1); useClientProtocol lets the client's version decide.
static void cluster_protocol(const struct destination_rule *dr, const struct dr_subset *sub,
			     const struct se_port *sp, struct snap_cluster *c)
{
	const struct dr_http_pool *hp = http_pool_for(dr, sub, sp->number);
	const char *proto = sp->protocol;

	if (!is_http_protocol(proto) || (proto && !strcmp(proto, "HTTP_PROXY")))
		return;
	c->h2 = proto && (!strcmp(proto, "HTTP2") || !strcmp(proto, "GRPC") ||
			  !strcmp(proto, "GRPC-WEB"));
	if (!hp)
		return;
	if (hp->h2_upgrade_policy == DR_H2_UPGRADE)
		c->h2 = true;
	c->use_client_protocol = hp->use_client_protocol == 1;
	c->max_streams = hp->max_concurrent_streams > 0 ? (uint32_t)hp->max_concurrent_streams : 0;
	c->max_requests_per_cx = hp->max_requests_per_connection > 0 ?
				 (uint32_t)hp->max_requests_per_connection : 0;
	c->max_requests = hp->http2_max_requests > 0 ? (uint32_t)hp->http2_max_requests : 0;
}

// subset_tls is the client TLS a subset's cluster on port uses: the
// subset's own traffic policy (port level first) over the rule's.
static const struct dr_tls *subset_tls(const struct destination_rule *dr,
				       const struct dr_subset *sub, uint32_t port)
{
	const struct dr_traffic_policy *tp = sub ? sub->traffic_policy : NULL;

	for (int i = 0; tp && i < tp->num_port_level_settings; i++)
		if (tp->port_level_settings[i].port == port && tp->port_level_settings[i].tls)
			return tp->port_level_settings[i].tls;
	if (tp && tp->tls)
		return tp->tls;
	return dr_tls_for(dr, port);
}

// add_subsets gives svc the subsets of the DestinationRule for its host.
static int add_subsets(struct builder *bd, const struct service_entry *se,
		       struct snap_service *svc)
{
	const struct destination_rule *dr = find_dr(bd, svc->host);

	if (!dr || !dr->num_subsets)
		return 0;
	svc->subsets = arena_alloc(bd->a, sizeof(*svc->subsets) * (size_t)dr->num_subsets);
	if (!svc->subsets)
		return -ENOMEM;
	for (int s = 0; s < dr->num_subsets; s++) {
		const struct dr_subset *sub = &dr->subsets[s];
		struct snap_subset *ss = &svc->subsets[svc->num_subsets++];

		ss->name = arena_strdup(bd->a, sub->name);
		ss->port_clusters = arena_alloc(bd->a, sizeof(void *) * (se->num_ports + 1));
		if (!ss->name || !ss->port_clusters)
			return -ENOMEM;
		for (int p = 0; p < se->num_ports; p++) {
			const struct se_port *sp = &se->ports[p];
			struct snap_cluster *c = new_cluster(bd, svc->host, sp->number, svc->namespace_);
			const struct dr_tls *t;
			int rc;

			if (!c)
				return -ENOMEM;
			c->name = arena_sprintf(bd->a, "outbound|%u|%s|%s", sp->number, sub->name,
						svc->host);
			ss->port_clusters[p] = c;
			if (se->resolution == SE_RES_NONE && !se->num_endpoints) {
				c->kind = CLUSTER_PASSTHROUGH;
				continue;
			}
			if ((rc = fill_endpoints(bd, se, sp, svc->host, sub, c)) < 0)
				return rc;
			c->dr_name = arena_sprintf(bd->a, "%s/%s", dr->meta.namespace_, dr->meta.name);
			cluster_protocol(dr, sub, sp, c);
			t = subset_tls(dr, sub, sp->number);
			rc = t ? dr_origination(bd, dr, t, sp, c) : auto_mtls(bd, se, sp, c);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

// selected_entry makes *out a copy of se whose endpoints are the
// WorkloadEntries its workloadSelector selects in its namespace (Istio's
// VM onboarding: one WorkloadEntry per VM, a ServiceEntry selecting them).
static int selected_entry(struct builder *bd, const struct service_entry *se,
			  struct service_entry *out)
{
	const struct istio_config *cfg = bd->cfg;
	int n = 0;

	*out = *se;
	out->endpoints = arena_alloc(bd->a, sizeof(*out->endpoints) *
				     ((size_t)cfg->num_workload_entries + 1));
	bd->ep_sources = arena_alloc(bd->a, sizeof(char *) * ((size_t)cfg->num_workload_entries + 1));
	if (!out->endpoints || !bd->ep_sources)
		return -ENOMEM;
	for (int i = 0; i < cfg->num_workload_entries; i++) {
		const struct workload_entry *we = &cfg->workload_entries[i];

		if (!strcmp(we->meta.namespace_, se->meta.namespace_) &&
		    labels_cover(we->ep.labels, we->ep.num_labels, se->workload_selector,
				 se->num_workload_selector)) {
			bd->ep_sources[n] = arena_sprintf(bd->a, "WorkloadEntry %s/%s",
							  we->meta.namespace_, we->meta.name);
			out->endpoints[n++] = we->ep;
		}
	}
	out->num_endpoints = n;
	return 0;
}

static int add_service_entry(struct builder *bd, const struct service_entry *se)
{
	bool addressed = false;
	struct service_entry sel;

	if (!visible(bd, se->meta.namespace_, se->export_to, se->num_export_to))
		return 0;	// not exported to this namespace
	bd->ep_sources = NULL;	// inline endpoints

	if (se->num_workload_selector) {
		if (selected_entry(bd, se, &sel) < 0)
			return -ENOMEM;
		se = &sel;
	}

	for (int h = 0; h < se->num_hosts; h++) {
		const char *host = lower_dup(bd->a, se->hosts[h]);
		struct snap_service *svc;

		if (!imported(bd, se->meta.namespace_, host))
			continue;	// the appliance's Sidecar does not import it

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
		if (strmap_put(&bd->svc_index, host, strlen(host), bd->num_services, NULL) < 0)
			return -ENOMEM;
		svc = &bd->services[bd->num_services++];
		memset(svc, 0, sizeof(*svc));
		svc->host = host;
		svc->name = host;
		svc->namespace_ = arena_strdup(bd->a, se->meta.namespace_);
		svc->source = arena_sprintf(bd->a, "ServiceEntry %s/%s (%s:%d)", se->meta.namespace_,
					    se->meta.name, se->meta.file, se->meta.line);
		svc->num_ports = (uint32_t)se->num_ports;
		svc->ports = arena_alloc(bd->a, sizeof(uint32_t) * (se->num_ports + 1));
		svc->port_clusters = arena_alloc(bd->a, sizeof(void *) * (se->num_ports + 1));
		if (!svc->ports || !svc->port_clusters)
			return -ENOMEM;
		for (int p = 0; p < se->num_ports; p++) {
			const struct se_port *sp = &se->ports[p];
			struct snap_cluster *c = new_cluster(bd, host, sp->number, svc->namespace_);
			int rc;

			if (!c)
				return -ENOMEM;
			svc->ports[p] = sp->number;
			svc->port_clusters[p] = c;
			if (se->resolution == SE_RES_NONE && !se->num_endpoints) {
				c->kind = CLUSTER_PASSTHROUGH;
				continue;
			}
			if ((rc = fill_endpoints(bd, se, sp, host, NULL, c)) < 0)
				return rc;
			{
				const struct destination_rule *dr = find_dr(bd, host);
				const struct dr_tls *t = dr_tls_for(dr, sp->number);

				if (dr)
					c->dr_name = arena_sprintf(bd->a, "%s/%s", dr->meta.namespace_,
								   dr->meta.name);
				cluster_protocol(dr, NULL, sp, c);
				rc = t ? dr_origination(bd, dr, t, sp, c) : auto_mtls(bd, se, sp, c);
				if (rc < 0)
					return rc;
			}
		}
		{
			int rc = add_subsets(bd, se, svc);

			if (rc < 0)
				return rc;
		}
		// the addresses belong to the entry: its first registered host
		// carries them
		if (!addressed && se->num_addresses) {
			addressed = true;
			if (add_addresses(bd, se, svc) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static struct snap_vhost *find_vhost(struct builder *bd, const char *name)
{
	uint32_t i;

	return strmap_get(&bd->vhost_index, name, strlen(name), &i) ? &bd->vhosts[i] : NULL;
}

static struct snap_vhost *add_vhost(struct builder *bd, const char *name)
{
	struct snap_vhost *vh;

	if (grow((void **)&bd->vhosts, &bd->cap_vhosts, bd->num_vhosts, sizeof(*bd->vhosts)) ||
	    strmap_put(&bd->vhost_index, name, strlen(name), bd->num_vhosts, NULL) < 0)
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

static struct snap_cluster *subset_port_cluster(const struct snap_service *svc,
						const char *subset, uint32_t port)
{
	for (uint32_t s = 0; svc && s < svc->num_subsets; s++) {
		const struct snap_subset *ss = &svc->subsets[s];

		if (strcmp(ss->name, subset))
			continue;
		if (!port)
			return svc->num_ports == 1 ? ss->port_clusters[0] : NULL;
		for (uint32_t i = 0; i < svc->num_ports; i++)
			if (svc->ports[i] == port)
				return ss->port_clusters[i];
	}
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

static int copy_ops(struct builder *bd, const struct header_ops *in, struct snap_header_ops *out)
{
	out->num_set = (uint32_t)in->num_set;
	out->num_add = (uint32_t)in->num_add;
	out->num_remove = (uint32_t)in->num_remove;
	out->set_names = arena_alloc(bd->a, sizeof(char *) * (size_t)(in->num_set + 1));
	out->set_values = arena_alloc(bd->a, sizeof(char *) * (size_t)(in->num_set + 1));
	out->add_names = arena_alloc(bd->a, sizeof(char *) * (size_t)(in->num_add + 1));
	out->add_values = arena_alloc(bd->a, sizeof(char *) * (size_t)(in->num_add + 1));
	out->remove = arena_alloc(bd->a, sizeof(char *) * (size_t)(in->num_remove + 1));
	if (!out->set_names || !out->set_values || !out->add_names || !out->add_values || !out->remove)
		return -ENOMEM;
	for (int i = 0; i < in->num_set; i++) {
		out->set_names[i] = lower_dup(bd->a, in->set[i].key);
		out->set_values[i] = arena_strdup(bd->a, in->set[i].value);
	}
	for (int i = 0; i < in->num_add; i++) {
		out->add_names[i] = lower_dup(bd->a, in->add[i].key);
		out->add_values[i] = arena_strdup(bd->a, in->add[i].value);
	}
	for (int i = 0; i < in->num_remove; i++)
		out->remove[i] = lower_dup(bd->a, in->remove[i]);
	return 0;
}

// copy_headers puts a route's or destination's header operations into the
// snapshot.
static const struct snap_headers *copy_headers(struct builder *bd, const struct http_headers *h)
{
	struct snap_headers *out;

	if (!h || !(out = arena_alloc(bd->a, sizeof(*out))))
		return NULL;
	if (copy_ops(bd, &h->request, &out->request) < 0 ||
	    copy_ops(bd, &h->response, &out->response) < 0)
		return NULL;
	return out;
}

static int build_route(struct builder *bd, const struct virtual_service *vs,
		       const struct http_route *hr, struct snap_route *r)
{
	const char *ns = vs->meta.namespace_;
	const char *domain = bd->b->kube_domain;

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
	if (hr->redirect) {
		struct snap_redirect *rd = arena_alloc(bd->a, sizeof(*rd));

		if (!rd)
			return -ENOMEM;
		rd->uri = hr->redirect->uri ? arena_strdup(bd->a, hr->redirect->uri) : NULL;
		rd->authority = hr->redirect->authority ?
				arena_strdup(bd->a, hr->redirect->authority) : NULL;
		rd->scheme = hr->redirect->scheme;	// a literal
		rd->port = hr->redirect->port;
		rd->derive_port = hr->redirect->derive_port;
		rd->code = hr->redirect->code ? hr->redirect->code : 301;
		r->redirect = rd;
	}
	if (hr->direct_response) {
		struct snap_direct *dr = arena_alloc(bd->a, sizeof(*dr));

		if (!dr)
			return -ENOMEM;
		dr->status = hr->direct_response->status;
		dr->body_len = (uint32_t)hr->direct_response->body_len;
		dr->body = dr->body_len ? arena_strndup(bd->a, hr->direct_response->body,
							 hr->direct_response->body_len) : "";
		if (!dr->body)
			return -ENOMEM;
		r->direct = dr;
	}
	if (hr->headers && !(r->headers = copy_headers(bd, hr->headers)))
		return -ENOMEM;
	if (hr->rewrite) {
		r->rewrite_uri = hr->rewrite->uri ? arena_strdup(bd->a, hr->rewrite->uri) : NULL;
		r->rewrite_authority = hr->rewrite->authority ?
				       arena_strdup(bd->a, hr->rewrite->authority) : NULL;
	}
	if ((hr->features & (HR_F_DELEGATE | HR_F_FAULT)) || (hr->rewrite && hr->rewrite->uri_regex)) {
		// Forwarding as if these were absent would change what the
		// author asked for; a matched request gets a clear 500 instead.
		r->unsupported = "delegate/fault/uriRegexRewrite";
		log_emit(LOG_WARN, NULL, "%s:%d: VirtualService %s/%s: http[%s] uses %s, not "
			 "implemented yet: requests it matches are answered 500",
			 vs->meta.file, vs->meta.line, ns, vs->meta.name, hr->name ? hr->name : "",
			 r->unsupported);
	}
	if (hr->features & (HR_F_RETRIES | HR_F_MIRROR | HR_F_CORS))
		log_emit(LOG_WARN, NULL, "%s:%d: VirtualService %s/%s: http[%s]: retries, mirror "
			 "and corsPolicy are not enforced yet (Istio's default retries apply)",
			 vs->meta.file, vs->meta.line, ns, vs->meta.name, hr->name ? hr->name : "");
	for (int d = 0; d < hr->num_route; d++) {
		const struct http_route_dest *rd = &hr->route[d];
		struct snap_dest *sd = &r->dests[r->num_dests];
		const struct snap_service *svc;

		sd->host = snapshot_expand_host(bd->a, rd->destination.host, ns, domain);
		svc = find_service(bd, sd->host);
		sd->cluster = service_port_cluster(svc, rd->destination.port);
		if (rd->destination.subset) {
			// a subset no DestinationRule defines: 503 NC, as Envoy
			// answers for a route to a cluster that does not exist
			sd->cluster = subset_port_cluster(svc, rd->destination.subset,
							  rd->destination.port);
			if (!sd->cluster)
				log_emit(LOG_WARN, NULL, "%s:%d: VirtualService %s/%s: destination "
					 "%s subset %s is not defined by a DestinationRule for that "
					 "host: routes to it get 503 NC", vs->meta.file, vs->meta.line,
					 ns, vs->meta.name, sd->host, rd->destination.subset);
		}
		if (rd->headers && !(sd->headers = copy_headers(bd, rd->headers)))
			return -ENOMEM;
		sd->weight = hr->num_route == 1 ? 100 : (uint32_t)(rd->weight > 0 ? rd->weight : 0);
		r->total_weight += sd->weight;
		r->num_dests++;
	}
	return 0;
}

static int add_virtual_service(struct builder *bd, const struct virtual_service *vs)
{
	if (!visible(bd, vs->meta.namespace_, vs->export_to, vs->num_export_to))
		return 0;	// not exported to this namespace
	if (!bound_to_mesh(vs))
		return 0;	// gateway-bound: a later issue
	for (int h = 0; h < vs->num_hosts; h++) {
		char *name = snapshot_expand_host(bd->a, vs->hosts[h], vs->meta.namespace_,
						  bd->b->kube_domain);
		struct snap_vhost *vh;

		if (!imported(bd, vs->meta.namespace_, name))
			continue;	// the appliance's Sidecar does not import it
		vh = find_vhost(bd, name);

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

static bool vname_put(struct snapshot *s, const char *name, uint32_t v)
{
	uint32_t i = (uint32_t)hash64(name, strlen(name)) & s->vhost_index_mask;

	for (; s->vhost_index[i]; i = (i + 1) & s->vhost_index_mask)
		if (!strcmp(s->vnames[s->vhost_index[i] - 1].name, name))
			return false;	// taken: an exact name wins over a short form
	s->vnames[s->num_vnames].name = name;
	s->vnames[s->num_vnames].vhost = v;
	s->vhost_index[i] = ++s->num_vnames;
	return true;
}

static int index_vhosts(struct builder *bd)
{
	struct snapshot *s = bd->s;
	const char *domain = bd->b->kube_domain, *own_ns = bd->b->namespace_;
	size_t dl = strlen(domain);
	uint32_t size = 16, max = s->num_vhosts * 4;

	while (size < max * 2)
		size *= 2;
	s->vhost_index = arena_alloc(bd->a, size * sizeof(uint32_t));
	s->vnames = arena_alloc(bd->a, (max + 1) * sizeof(*s->vnames));
	s->wildcards = arena_alloc(bd->a, sizeof(void *) * (s->num_vhosts + 1));
	if (!s->vhost_index || !s->vnames || !s->wildcards)
		return -ENOMEM;
	memset(s->vhost_index, 0, size * sizeof(uint32_t));
	s->vhost_index_mask = size - 1;
	for (uint32_t v = 0; v < s->num_vhosts; v++) {
		struct snap_vhost *vh = &s->vhosts[v];

		if (vh->wildcard)
			s->wildcards[s->num_wildcards++] = vh;
		else
			vname_put(s, vh->name, v);
	}
	// the short forms, after every exact name
	for (uint32_t v = 0; v < s->num_vhosts; v++) {
		const char *n = s->vhosts[v].name, *dot1, *dot2;
		size_t len = strlen(n);

		if (s->vhosts[v].wildcard || len <= dl + 5 || n[len - dl - 1] != '.' ||
		    memcmp(n + len - dl, domain, dl) || memcmp(n + len - dl - 5, ".svc", 4))
			continue;
		// n is "<svc>.<ns>.svc.<domain>"
		if (!(dot1 = strchr(n, '.')) || !(dot2 = strchr(dot1 + 1, '.')) ||
		    (size_t)(dot2 - n) != len - dl - 5)
			continue;
		vname_put(s, arena_sprintf(bd->a, "%.*s", (int)(len - dl - 1), n), v);
		vname_put(s, arena_sprintf(bd->a, "%.*s", (int)(dot2 - n), n), v);
		if (strlen(own_ns) == (size_t)(dot2 - dot1 - 1) &&
		    !memcmp(dot1 + 1, own_ns, (size_t)(dot2 - dot1 - 1)))
			vname_put(s, arena_sprintf(bd->a, "%.*s", (int)(dot1 - n), n), v);
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

static void cleanup_tls_server(void *arg)
{
	tls_server_unref(arg);
}

// split_paths copies the i-th entry of a comma-separated list into out.
static void split_path(const char *list, int i, char *out, size_t cap)
{
	const char *p = list;

	for (; i > 0 && p; i--)
		if ((p = strchr(p, ',')))
			p++;
	out[0] = '\0';
	if (!p)
		return;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t l = strcspn(p, ",");
	while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
		l--;
	if (l >= cap)
		l = cap - 1;
	memcpy(out, p, l);
	out[l] = '\0';
}

static bool labels_match(const struct kv *sel, int num_sel, const struct bootstrap *b)
{
	for (int i = 0; i < num_sel; i++) {
		bool hit = false;

		for (int k = 0; k < b->num_labels && !hit; k++)
			hit = !strcmp(b->labels[k].key, sel[i].key) &&
			      !strcmp(b->labels[k].value, sel[i].value);
		if (!hit)
			return false;
	}
	return true;
}

static int pa_mode_of(enum pa_mtls_mode m)
{
	switch (m) {
	case PA_MTLS_DISABLE: return SNAP_PA_DISABLE;
	case PA_MTLS_PERMISSIVE: return SNAP_PA_PERMISSIVE;
	case PA_MTLS_STRICT: return SNAP_PA_STRICT;
	case PA_MTLS_UNSET: break;
	}
	return SNAP_PA_NONE;
}

// peer_auth_mode resolves Istio's PeerAuthentication for the appliance as a
// workload (its [appliance] namespace and labels) on port: a policy
// selecting it (its portLevelMtls for the port first), then its
// namespace's policy without selector, then the mesh-wide one in the root
// namespace (istio-system); UNSET inherits, and the default is PERMISSIVE.
// Among several policies at one level the first by namespace/name wins
// (istiod takes the oldest; files carry no creation time).
static int peer_auth_mode(struct builder *bd, uint16_t port, const char **from,
			  const struct peer_authentication **wl_out)
{
	const struct istio_config *cfg = bd->cfg;
	const struct peer_authentication *wl = NULL, *ns = NULL, *mesh = NULL;
	const char *my_ns = bd->b->namespace_;

	for (int i = 0; cfg && i < cfg->num_peer_authentications; i++) {
		const struct peer_authentication *pa = &cfg->peer_authentications[i];
		const struct peer_authentication **slot = NULL;

		if (!strcmp(pa->meta.namespace_, my_ns) && pa->num_selector &&
		    labels_match(pa->selector, pa->num_selector, bd->b))
			slot = &wl;
		else if (!strcmp(pa->meta.namespace_, my_ns) && !pa->num_selector)
			slot = &ns;
		else if (!strcmp(pa->meta.namespace_, bd->b->root_namespace) && !pa->num_selector)
			slot = &mesh;
		if (slot && (!*slot || strcmp(pa->meta.name, (*slot)->meta.name) < 0))
			*slot = pa;
	}
	*wl_out = wl;
	if (wl) {
		for (int i = 0; i < wl->num_port_level_mtls; i++)
			if (wl->port_level_mtls[i].port == port &&
			    pa_mode_of(wl->port_level_mtls[i].mode)) {
				*from = arena_sprintf(bd->a, "%s/%s (port %u)", wl->meta.namespace_,
						      wl->meta.name, port);
				return pa_mode_of(wl->port_level_mtls[i].mode);
			}
	}
	const struct peer_authentication *chain[3] = { wl, ns, mesh };
	for (int i = 0; i < 3; i++) {
		if (chain[i] && pa_mode_of(chain[i]->mtls_mode)) {
			*from = arena_sprintf(bd->a, "%s/%s", chain[i]->meta.namespace_,
					      chain[i]->meta.name);
			return pa_mode_of(chain[i]->mtls_mode);
		}
	}
	*from = "default";
	return SNAP_PA_PERMISSIVE;
}

// port_modes records, for an original_dst listener, the portLevelMtls of
// the workload policy wl: each names a destination port of the workload.
static int port_modes(struct builder *bd, const struct listener_cfg *lc,
		      struct snap_listener *sl, const struct peer_authentication *wl)
{
	if (!lc->original_dst || !wl || !wl->num_port_level_mtls)
		return 0;
	sl->port_modes = arena_alloc(bd->a, sizeof(*sl->port_modes) * wl->num_port_level_mtls);
	if (!sl->port_modes)
		return -ENOMEM;
	for (int i = 0; i < wl->num_port_level_mtls; i++) {
		struct snap_port_mode *pm = &sl->port_modes[sl->num_port_modes];

		pm->mode = pa_mode_of(wl->port_level_mtls[i].mode);
		if (!pm->mode)
			continue;	// UNSET: the workload's mode applies
		pm->port = (uint16_t)wl->port_level_mtls[i].port;
		pm->from = arena_sprintf(bd->a, "%s/%s (port %u)", wl->meta.namespace_,
					 wl->meta.name, pm->port);
		if (!pm->from)
			return -ENOMEM;
		sl->num_port_modes++;
	}
	return 0;
}

// listener_tls builds the server TLS context of a listener: certificates
// read from files now (so a reload picks up changed files) or the
// appliance's SVID, the ALPN its protocol speaks, and the trust material.
static int listener_tls(struct builder *bd, const struct listener_cfg *lc,
			struct snap_listener *sl)
{
	// HTTP/2 first, as Envoy's HTTP connection manager (AUTO codec) offers it
	static const char *const http_alpn[] = { "h2", "http/1.1", "http/1.0" };
	static const char *const istio_http_alpn[] = { "istio-h2", "h2", "istio-http/1.1",
						       "istio-http/1.0", "istio", "http/1.1",
						       "http/1.0" };
	static const char *const istio_tcp_alpn[] = { "istio-peer-exchange", "istio" };
	struct tls_server_cfg cfg;
	struct tls_server *srv;
	const char *where = bd->b->path[0] ? bd->b->path : "(embedded)";
	char why[512], cert[1024], key[1024];
	int rc = -EINVAL;

	memset(&cfg, 0, sizeof(cfg));
	if (lc->role == ROLE_INBOUND && !lc->tls_set) {
		const struct peer_authentication *wl;
		bool any_tls, strict;

		// a captured listener's own port means nothing to the
		// workload's policy: its ports are the original destinations'
		sl->peer_auth = peer_auth_mode(bd, lc->original_dst ? 0 : lc->port,
					       &sl->peer_auth_from, &wl);
		if (port_modes(bd, lc, sl, wl) < 0)
			return -ENOMEM;
		any_tls = sl->peer_auth != SNAP_PA_DISABLE;
		strict = sl->peer_auth == SNAP_PA_STRICT;
		for (uint32_t i = 0; i < sl->num_port_modes; i++) {
			any_tls |= sl->port_modes[i].mode != SNAP_PA_DISABLE;
			strict |= sl->port_modes[i].mode == SNAP_PA_STRICT;
		}
		if (!any_tls) {
			sl->tls_mode = "DISABLE";
			return 0;
		}
		if (!bd->sec || !bd->sec->identity || !bd->sec->bundle) {
			if (strict) {
				snprintf(bd->err, bd->err_len, "%s:%d: [listener %s]: PeerAuthentication "
					 "%s requires STRICT mutual TLS, but the appliance has no "
					 "workload certificate", where, lc->line, lc->name,
					 sl->peer_auth_from);
				return -EINVAL;
			}
			log_emit(LOG_WARN, NULL, "[listener %s]: PERMISSIVE without a workload "
				 "certificate: plaintext only", lc->name);
			sl->peer_auth = SNAP_PA_DISABLE;
			sl->num_port_modes = 0;
			sl->tls_mode = "DISABLE";
			return 0;
		}
		cfg.mode = TLS_ISTIO_MUTUAL;
	}
	switch (cfg.mode == TLS_ISTIO_MUTUAL ? LTLS_ISTIO_MUTUAL : lc->tls) {
	case LTLS_OFF:
		sl->tls_mode = "DISABLE";
		return 0;
	case LTLS_SIMPLE: cfg.mode = TLS_SIMPLE; break;
	case LTLS_MUTUAL: cfg.mode = TLS_MUTUAL; break;
	case LTLS_ISTIO_MUTUAL: cfg.mode = TLS_ISTIO_MUTUAL; break;
	}
	sl->tls_mode = sl->peer_auth == SNAP_PA_PERMISSIVE ? "PERMISSIVE" :
		       sl->peer_auth == SNAP_PA_STRICT ? "STRICT" : tls_mode_name(cfg.mode);
	if (cfg.mode == TLS_ISTIO_MUTUAL) {
		if (!bd->sec || !bd->sec->identity || !bd->sec->bundle) {
			snprintf(bd->err, bd->err_len, "%s:%d: [listener %s]: tls istio_mutual "
				 "needs the appliance's workload certificate, which is not "
				 "available", where, lc->line, lc->name);
			return -EINVAL;
		}
		cfg.certs[0] = bd->sec->identity;
		cfg.num_certs = 1;
		cfg.bundle = bd->sec->bundle;
	} else {
		for (int i = 0; i < lc->num_tls_certs; i++) {
			split_path(lc->tls_cert, i, cert, sizeof(cert));
			split_path(lc->tls_key, i, key, sizeof(key));
			if (tls_identity_load(&cfg.certs[i], cert, key, why, sizeof(why)) < 0) {
				snprintf(bd->err, bd->err_len, "%s:%d: [listener %s]: tls_cert: %s",
					 where, lc->line, lc->name, why);
				goto out;
			}
			cfg.num_certs = i + 1;
		}
		if (cfg.mode == TLS_MUTUAL)
			cfg.ca_file = lc->tls_ca;
	}
	if (lc->protocol == LISTENER_HTTP) {
		const char *const *a = cfg.mode == TLS_ISTIO_MUTUAL ? istio_http_alpn : http_alpn;
		int n = cfg.mode == TLS_ISTIO_MUTUAL ? 7 : 3;

		for (int i = 0; i < n; i++)
			cfg.alpn[cfg.num_alpn++] = a[i];
	} else if (cfg.mode == TLS_ISTIO_MUTUAL) {
		for (int i = 0; i < 2; i++)
			cfg.alpn[cfg.num_alpn++] = istio_tcp_alpn[i];
	}
	cfg.no_sessions = !lc->tls_sessions;
	if (tls_server_new(&srv, &cfg, why, sizeof(why)) < 0) {
		snprintf(bd->err, bd->err_len, "%s:%d: [listener %s]: tls: %s", where, lc->line,
			 lc->name, why);
		goto out;
	}
	if (add_cleanup(bd, cleanup_tls_server, srv) < 0) {
		tls_server_unref(srv);
		rc = -ENOMEM;
		goto out;
	}
	sl->tls = srv;
	// the certificates' fingerprints go into the dump, so a changed file
	// or a rotated SVID makes a new snapshot version
	{
		struct buf fp;

		buf_init(&fp);
		for (int i = 0; i < cfg.num_certs; i++) {
			uint8_t md[32];
			unsigned int ml = 0;

			X509_digest(cfg.certs[i]->cert, EVP_sha256(), md, &ml);
			buf_appendf(&fp, "%s", i ? "," : "");
			for (unsigned int k = 0; k < ml; k++)
				buf_appendf(&fp, "%02x", md[k]);
		}
		if (cfg.bundle)
			buf_appendf(&fp, ";bundle=%016llx", (unsigned long long)cfg.bundle->b.version);
		sl->tls_certs = arena_strndup(bd->a, fp.data ? fp.data : "", fp.len);
		buf_cleanup(&fp);
	}
	rc = 0;
out:
	if (cfg.mode != TLS_ISTIO_MUTUAL)
		for (int i = 0; i < cfg.num_certs; i++)
			tls_identity_unref(cfg.certs[i]);
	return rc;
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
		sl->original_dst = lc->original_dst;
		if (lc->protocol == LISTENER_TCP && !lc->original_dst) {
			sl->tcp_cluster = tcp_destination(bd, lc);
			if (!sl->tcp_cluster) {
				snprintf(bd->err, bd->err_len, "%s:%d: [listener %s]: destination %s "
					 "is neither a registered service port nor an IP:port",
					 b->path[0] ? b->path : "(embedded)", lc->line, lc->name,
					 lc->destination);
				return -EINVAL;
			}
		}
		if (listener_tls(bd, lc, sl) < 0)
			return -EINVAL;
		s->num_listeners = (uint32_t)i + 1;
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
	buf_appendf(o, ",\"connect_timeout_ms\":%u", c->connect_timeout_ms);
	if (c->dr_name) {
		buf_appends(o, ",");
		json_append_key(o, "destination_rule");
		json_append_cstr(o, c->dr_name);
	}
	if (c->tls_mode) {
		buf_appendf(o, ",\"tls\":{\"mode\":\"%s\",\"auto\":%s,\"sni\":", c->tls_mode,
			    c->tls_auto ? "true" : "false");
		json_append_cstr(o, c->sni);
		buf_appends(o, ",\"subject_alt_names\":[");
		for (uint32_t i = 0; i < c->num_sans; i++) {
			if (i)
				buf_appends(o, ",");
			json_append_cstr(o, c->sans[i]);
		}
		buf_appendf(o, "],\"key\":\"%016llx\"}", (unsigned long long)c->tls_key);
	}
	buf_appends(o, ",\"endpoints\":[");
	for (uint32_t e = 0; e < c->num_eps; e++) {
		buf_appendf(o, "%s{\"address\":", e ? "," : "");
		json_append_cstr(o, c->eps[e].addr_str);
		buf_appendf(o, ",\"weight\":%u%s}", c->eps[e].weight,
			    c->eps[e].mtls_ready ? ",\"tls_mode\":\"istio\"" : "");
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
		buf_appendf(o, ",\"port\":%u,\"protocol\":\"%s\",\"role\":\"%s\"", l->port,
			    l->protocol == LISTENER_TCP ? "tcp" : "http",
			    l->role == ROLE_INBOUND ? "inbound" :
			    l->role == ROLE_GATEWAY ? "gateway" : "outbound");
		if (l->tcp_cluster) {
			buf_appends(o, ",\"cluster\":");
			json_append_cstr(o, l->tcp_cluster->name);
		}
		if (l->original_dst)
			buf_appends(o, ",\"original_dst\":true,\"cluster\":\"InboundPassthroughCluster\"");
		if (l->num_port_modes) {
			static const char *const names[] = { "", "DISABLE", "PERMISSIVE", "STRICT" };

			buf_appends(o, ",\"port_level_mtls\":{");
			for (uint32_t k = 0; k < l->num_port_modes; k++) {
				buf_appendf(o, "%s\"%u\":{\"mode\":\"%s\",\"from\":", k ? "," : "",
					    l->port_modes[k].port, names[l->port_modes[k].mode]);
				json_append_cstr(o, l->port_modes[k].from);
				buf_appends(o, "}");
			}
			buf_appends(o, "}");
		}
		buf_appendf(o, ",\"tls\":{\"mode\":\"%s\"", l->tls_mode ? l->tls_mode : "DISABLE");
		if (l->peer_auth) {
			buf_appends(o, ",\"peer_authentication\":");
			json_append_cstr(o, l->peer_auth_from);
		}
		if (l->tls_certs) {
			buf_appends(o, ",\"certificates\":");
			json_append_cstr(o, l->tls_certs);
		}
		buf_appends(o, "}}");
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
	buf_appends(o, "],\"addresses\":[");
	for (uint32_t i = 0; i < s->num_addrs; i++) {
		const struct snap_addr *a = &s->addrs[i];
		char ip[INET6_ADDRSTRLEN];
		bool v4 = a->prefix >= 96 && !memcmp(a->ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);

		if (v4)
			inet_ntop(AF_INET, a->ip + 12, ip, sizeof(ip));
		else
			inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
		buf_appendf(o, "%s{\"address\":\"%s/%u\",\"port\":%u,\"cluster\":", i ? "," : "",
			    ip, v4 ? a->prefix - 96u : a->prefix, a->port);
		json_append_cstr(o, a->cluster->name);
		buf_appends(o, "}");
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

// ---- endpoint-only changes ----
//
// A Kubernetes cluster changes endpoints all day (every rollout, every
// scale, every pod that turns ready) and almost never anything else. Such a
// change does not rebuild: the new snapshot shares everything of the last
// full build (its base) but the clusters of the ServiceEntries whose
// endpoints changed, which are redone from the configuration exactly as a
// full build does (fill_endpoints, auto_mtls). Istio's EDS does the same.
//
// Whether a change is endpoint-only is decided on the inputs, never
// guessed: a fingerprint of everything but endpoints (the bootstrap, the
// certificates, and each resource's meta.hash, which the loader takes over
// the document without a ServiceEntry's endpoints) must equal the base's.
// Then the entries to redo are those whose endpoints hash differs, those
// resolved by DNS (answers change on their own), those selecting
// WorkloadEntries when any WorkloadEntry changed, and every one redone
// since the base (each patch starts from the base, so patches never chain).
// When too many pile up, a full build starts a new base.

enum { PATCH_MAX_ENTRIES = 512 };	// entries redone on a base before a full build

// fp_* batch 64-bit words into one XXH3 stream.
struct fp {
	XXH3_state_t st;
	uint64_t w[64];
	uint32_t n;
};

static void fp_add(struct fp *f, uint64_t v)
{
	f->w[f->n++] = v;
	if (f->n == 64) {
		XXH3_64bits_update(&f->st, f->w, sizeof(f->w));
		f->n = 0;
	}
}

static uint64_t fp_end(struct fp *f)
{
	XXH3_64bits_update(&f->st, f->w, f->n * sizeof(f->w[0]));
	return XXH3_64bits_digest(&f->st);
}

static void fp_meta(void *arg, const struct istio_meta *m)
{
	// ServiceEntries and WorkloadEntries are taken apart (fingerprint)
	if (strcmp(m->kind, "ServiceEntry") && strcmp(m->kind, "WorkloadEntry"))
		fp_add(arg, m->hash);
}

static bool by_dns(const struct service_entry *se)
{
	return se->resolution == SE_RES_DNS || se->resolution == SE_RES_DNS_ROUND_ROBIN;
}

// fingerprint hashes every input of a build but endpoints; *we the
// WorkloadEntries (endpoints of the entries that select them).
static uint64_t fingerprint(const struct bootstrap *b, const struct istio_config *cfg,
			    const struct snap_secrets *sec, uint64_t *we)
{
	struct fp f;

	XXH3_INITSTATE(&f.st);
	XXH3_64bits_reset(&f.st);
	f.n = 0;
	fp_add(&f, hash64(b, sizeof(*b)));
	fp_add(&f, (uint64_t)(uintptr_t)(sec ? sec->identity : NULL));
	fp_add(&f, (uint64_t)(uintptr_t)(sec ? sec->bundle : NULL));
	fp_add(&f, sec && sec->resolve);
	fp_add(&f, (uint64_t)cfg->num_ignored);
	istio_config_each(cfg, fp_meta, &f);
	for (int i = 0; i < cfg->num_service_entries; i++) {
		const struct service_entry *se = &cfg->service_entries[i];

		// an entry without endpoints or resolution is a passthrough
		// cluster: gaining endpoints changes more than them
		fp_add(&f, se->meta.hash + (se->resolution == SE_RES_NONE && !se->num_endpoints));
	}
	fp_add(&f, UINT64_MAX);		// counts: the lists above cannot shift
	fp_add(&f, (uint64_t)cfg->num_service_entries);
	fp_add(&f, (uint64_t)cfg->num_workload_entries);
	*we = (uint64_t)cfg->num_workload_entries;
	for (int i = 0; i < cfg->num_workload_entries; i++)
		*we = hash64_seed(&cfg->workload_entries[i].meta.hash, sizeof(uint64_t), *we);
	return fp_end(&f);
}

// keep_state records in a full build what the next one needs to patch it.
static int keep_state(struct builder *bd)
{
	const struct istio_config *cfg = bd->cfg;
	struct build_state *st = arena_alloc(bd->a, sizeof(*st));
	uint64_t *eh = arena_alloc(bd->a, sizeof(uint64_t) * ((size_t)cfg->num_service_entries + 1));

	if (!st || !eh)
		return -ENOMEM;
	memset(st, 0, sizeof(*st));
	st->fingerprint = fingerprint(bd->b, cfg, bd->sec, &st->we_hash);
	st->num_se = (uint32_t)cfg->num_service_entries;
	for (int i = 0; i < cfg->num_service_entries; i++)
		eh[i] = cfg->service_entries[i].ep_hash;
	st->ep_hash = eh;
	st->svc_first = bd->svc_first;
	st->svc_num = bd->svc_num;
	st->mesh_http = bd->mesh_http;
	st->mesh_h2 = bd->mesh_h2;
	st->mesh_tcp = bd->mesh_tcp;
	bd->s->build_state = st;
	return 0;
}

// patch_cluster redoes base cluster c0 (port sp of se, subset sub or none)
// with the entry's endpoints now, as add_service_entry and add_subsets do.
static int patch_cluster(struct builder *bd, const struct service_entry *se,
			 const struct se_port *sp, const char *host,
			 const struct destination_rule *dr, const struct dr_subset *sub,
			 const struct snap_cluster *c0)
{
	const struct dr_tls *t;
	struct snap_cluster *c;
	int rc;

	if (c0->kind != CLUSTER_EDS || c0->idx >= bd->s->num_clusters)
		return 0;	// a passthrough: it has no endpoints to change
	if (!(c = arena_alloc(bd->a, sizeof(*c))))
		return -ENOMEM;
	*c = *c0;
	if ((rc = fill_endpoints(bd, se, sp, host, sub, c)) < 0)
		return rc;
	// TLS a DestinationRule originates does not depend on endpoints;
	// auto mTLS does (their labels, their service accounts)
	t = sub ? subset_tls(dr, sub, sp->number) : dr_tls_for(dr, sp->number);
	if (!t) {
		c->tls = NULL;
		c->tls_auto = false;
		c->tls_mode = NULL;
		c->sni = NULL;
		c->sans = NULL;
		c->num_sans = 0;
		c->tls_key = 0;
		if ((rc = auto_mtls(bd, se, sp, c)) < 0)
			return rc;
	}
	bd->s->clusters[c0->idx] = c;
	return 0;
}

// patch_entry redoes the clusters of ServiceEntry i in the patch bd builds
// on base.
static int patch_entry(struct builder *bd, const struct snapshot *base,
		       const struct build_state *st, uint32_t i)
{
	const struct service_entry *se = &bd->cfg->service_entries[i];
	struct service_entry sel;
	int rc;

	bd->ep_sources = NULL;
	if (se->num_workload_selector) {
		if (selected_entry(bd, se, &sel) < 0)
			return -ENOMEM;
		se = &sel;
	}
	for (uint32_t k = st->svc_first[i]; k < st->svc_first[i] + st->svc_num[i]; k++) {
		const struct snap_service *svc = &base->services[k];
		const struct destination_rule *dr = find_dr(bd, svc->host);

		if (svc->num_ports != (uint32_t)se->num_ports ||
		    (svc->num_subsets && (!dr || (uint32_t)dr->num_subsets != svc->num_subsets)))
			return -ESTALE;	// cannot be with equal fingerprints
		for (uint32_t p = 0; p < svc->num_ports; p++) {
			if ((rc = patch_cluster(bd, se, &se->ports[p], svc->host, dr, NULL,
						svc->port_clusters[p])) < 0)
				return rc;
			for (uint32_t j = 0; j < svc->num_subsets; j++)
				if ((rc = patch_cluster(bd, se, &se->ports[p], svc->host, dr,
							&dr->subsets[j],
							svc->subsets[j].port_clusters[p])) < 0)
					return rc;
		}
	}
	return 0;
}

// entry_differs says a cluster of ServiceEntry i differs in s from base's.
static bool entry_differs(const struct snapshot *s, const struct snapshot *base,
			  const struct build_state *st, uint32_t i)
{
	for (uint32_t k = st->svc_first[i]; k < st->svc_first[i] + st->svc_num[i]; k++) {
		const struct snap_service *svc = &base->services[k];

		for (uint32_t p = 0; p < svc->num_ports; p++) {
			for (uint32_t j = 0; j <= svc->num_subsets; j++) {
				const struct snap_cluster *c = j ? svc->subsets[j - 1].port_clusters[p]
								 : svc->port_clusters[p];

				if (c->idx < s->num_clusters && s->clusters[c->idx] != c)
					return true;
			}
		}
	}
	return false;
}

// same_sources says two clusters' endpoints came from the same places
// (what /registry shows beside the dump).
static bool same_sources(const struct snap_cluster *a, const struct snap_cluster *b)
{
	if (a->num_eps != b->num_eps || a->tls != b->tls)
		return false;
	for (uint32_t e = 0; e < a->num_eps; e++) {
		const char *x = a->eps[e].source, *y = b->eps[e].source;

		if ((!x) != (!y) || (x && strcmp(x, y)))
			return false;
	}
	return true;
}

// patch returns prev patched for cfg, or NULL when the change is not
// endpoint-only (or too many entries were redone on the base already).
static struct snapshot *patch(struct snapshot *prev, const struct bootstrap *b,
			      const struct istio_config *cfg, const struct snap_secrets *sec)
{
	const struct build_state *ps = prev->build_state;
	struct snapshot *base = prev->base ? prev->base : prev, *s = NULL;
	struct build_state *st;
	struct builder bd;
	uint64_t we, *eh;
	uint32_t *list = NULL, n = 0;
	uint8_t *dirty;
	struct buf v, was;
	int rc = -ENOMEM;

	if (!ps || (uint32_t)cfg->num_service_entries != ps->num_se ||
	    fingerprint(b, cfg, sec, &we) != ps->fingerprint)
		return NULL;
	if (!(dirty = calloc(ps->num_se + 1, 1)))
		return NULL;
	for (uint32_t i = 0; i < ps->num_se; i++) {
		const struct service_entry *se = &cfg->service_entries[i];

		dirty[i] = se->ep_hash != ps->ep_hash[i] || by_dns(se) ||
			   (we != ps->we_hash && se->num_workload_selector);
	}
	for (uint32_t k = 0; k < ps->num_patched; k++)
		dirty[ps->patched[k]] = 1;
	for (uint32_t i = 0; i < ps->num_se; i++)
		n += dirty[i];
	if (n > PATCH_MAX_ENTRIES) {
		free(dirty);
		return NULL;
	}
	memset(&bd, 0, sizeof(bd));
	bd.b = b;
	bd.sec = sec;
	bd.cfg = cfg;
	bd.mesh_http = ps->mesh_http;
	bd.mesh_h2 = ps->mesh_h2;
	bd.mesh_tcp = ps->mesh_tcp;
	if (!(bd.a = arena_new()) || !(s = bd.s = arena_alloc(bd.a, sizeof(*s)))) {
		arena_free(bd.a);
		free(dirty);
		return NULL;
	}
	*s = *prev;
	s->arena = bd.a;
	s->refcnt = 1;
	s->gen = 0;
	s->cleanups = NULL;
	s->base = base;
	snapshot_ref(base);
	s->build_state = NULL;
	s->clusters = arena_alloc(bd.a, sizeof(*s->clusters) * (base->num_clusters + 1));
	st = arena_alloc(bd.a, sizeof(*st));
	eh = arena_alloc(bd.a, sizeof(uint64_t) * (ps->num_se + 1));
	list = arena_alloc(bd.a, sizeof(uint32_t) * (n + 1));
	if (!s->clusters || !st || !eh || !list)
		goto fail;
	memcpy(s->clusters, base->clusters, sizeof(*s->clusters) * base->num_clusters);
	n = 0;
	for (uint32_t i = 0; i < ps->num_se; i++) {
		eh[i] = cfg->service_entries[i].ep_hash;
		if (!dirty[i])
			continue;
		list[n++] = i;
		if ((rc = patch_entry(&bd, base, ps, i)) < 0)
			goto fail;
	}
	*st = *ps;
	st->ep_hash = eh;
	st->we_hash = we;
	st->patched = list;
	st->num_patched = n;
	s->build_state = st;
	// the version: the base's and every cluster that differs from it (one
	// redone the same, as DNS entries often are, is the base's again)
	buf_init(&v);
	buf_init(&was);
	buf_append(&v, &base->version, sizeof(base->version));
	for (uint32_t c = 0; c < s->num_clusters; c++) {
		size_t at = v.len;

		if (s->clusters[c] == base->clusters[c])
			continue;
		buf_append(&v, &c, sizeof(c));
		dump_cluster(&v, s->clusters[c]);
		was.off = was.len = 0;
		buf_append(&was, &c, sizeof(c));
		dump_cluster(&was, base->clusters[c]);
		if (was.len == v.len - at && !memcmp(was.data, v.data + at, was.len) &&
		    same_sources(s->clusters[c], base->clusters[c])) {
			s->clusters[c] = base->clusters[c];
			v.len = at;
		}
	}
	s->version = v.len > sizeof(base->version) ? hash64(v.data, v.len) : base->version;
	buf_cleanup(&v);
	buf_cleanup(&was);
	// what the next patch redoes: the entries that differ from the base
	for (uint32_t k = n = 0; k < st->num_patched; k++)
		if (entry_differs(s, base, ps, list[k]))
			list[n++] = list[k];
	st->num_patched = n;
	free(dirty);
	return s;
fail:
	log_emit(LOG_WARN, NULL, "snapshot: endpoint patch failed (%s): full build",
		 strerror(-rc));
	free(dirty);
	snapshot_unref(s);	// its cleanups, its reference to base
	return NULL;
}

struct snapshot *snapshot_update(struct snapshot *prev, const struct bootstrap *b,
				 const struct istio_config *cfg, const struct snap_secrets *sec,
				 char *err, size_t err_len)
{
	struct snapshot *s = prev ? patch(prev, b, cfg, sec) : NULL;

	if (s) {
		err[0] = '\0';
		return s;
	}
	return snapshot_build(b, cfg, sec, err, err_len);
}

struct snapshot *snapshot_build(const struct bootstrap *b, const struct istio_config *cfg,
				const struct snap_secrets *sec, char *err, size_t err_len)
{
	struct builder bd;
	struct snapshot *s;
	struct buf dump;
	int rc = -ENOMEM;

	memset(&bd, 0, sizeof(bd));
	bd.b = b;
	bd.sec = sec;
	bd.cfg = cfg;
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
	if ((bd.sidecar = pick_sidecar(&bd))) {
		const struct sidecar *sc = bd.sidecar;
		bool unenforced = sc->num_ingress || sc->egress_proxy_host ||
				  sc->has_inbound_connection_pool;

		// Sidecar.outboundTrafficPolicy overrides the mesh's
		if (sc->outbound_mode >= 0)
			s->outbound_policy = sc->outbound_mode == 1 ? SNAP_ALLOW_ANY : SNAP_REGISTRY_ONLY;
		for (int l = 0; l < sc->num_egress; l++)
			unenforced |= sc->egress[l].port.number || sc->egress[l].bind ||
				      sc->egress[l].capture_mode;
		if (unenforced)
			log_emit(LOG_WARN, NULL, "%s:%d: Sidecar %s/%s: egress hosts and "
				 "outboundTrafficPolicy.mode apply; ingress listeners, egress ports, "
				 "bind, captureMode, egressProxy and inboundConnectionPool are not "
				 "enforced yet", sc->meta.file, sc->meta.line, sc->meta.namespace_,
				 sc->meta.name);
	}
	s->header_timeout_ms = b->header_timeout_ms;
	s->max_pending_tls_handshakes = b->max_pending_tls_handshakes;
	s->tls_handshake_rate = b->tls_handshake_rate;
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
	s->canonical_service = strcmp(s->source_app, "unknown") ? s->source_app : s->source_workload;
	s->canonical_revision = strcmp(s->source_version, "unknown") ? s->source_version : "latest";
	bd.svc_first = arena_alloc(bd.a, sizeof(uint32_t) * ((size_t)cfg->num_service_entries + 1));
	bd.svc_num = arena_alloc(bd.a, sizeof(uint32_t) * ((size_t)cfg->num_service_entries + 1));
	if (!bd.svc_first || !bd.svc_num)
		goto out;
	for (int i = 0; i < cfg->num_service_entries; i++) {
		bd.svc_first[i] = bd.num_services;
		if ((rc = add_service_entry(&bd, &cfg->service_entries[i])) < 0)
			goto out;
		bd.svc_num[i] = bd.num_services - bd.svc_first[i];
	}
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
	for (uint32_t v = 0; v < s->num_vhosts; v++) {
		uint32_t i;

		if (strmap_get(&bd.svc_index, s->vhosts[v].name, strlen(s->vhosts[v].name), &i))
			s->vhosts[v].service = &s->services[i];
	}
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
	s->passthrough.connect_timeout_ms = b->connect_timeout_ms;
	s->passthrough.idx = SNAP_NO_IDX;
	s->inbound_passthrough = s->passthrough;
	s->inbound_passthrough.name = "InboundPassthroughCluster";
	s->inbound_passthrough.service_name = "InboundPassthroughCluster";
	s->blackhole.name = "BlackHoleCluster";
	s->blackhole.service_name = "BlackHoleCluster";
	s->blackhole.kind = CLUSTER_BLACKHOLE;
	s->blackhole.idx = SNAP_NO_IDX;
	if (index_vhosts(&bd) < 0 || index_addrs(&bd) < 0 || keep_state(&bd) < 0)
		goto out;
	buf_init(&dump);
	dump_body(s, &dump);
	s->version = hash64(dump.data, dump.len);
	buf_cleanup(&dump);
	free(bd.clusters);
	free(bd.services);
	free(bd.vhosts);
	free(bd.addrs);
	strmap_free(&bd.svc_index);
	strmap_free(&bd.vhost_index);
	err[0] = '\0';
	return s;
out:
	free(bd.clusters);
	free(bd.services);
	free(bd.vhosts);
	free(bd.addrs);
	strmap_free(&bd.svc_index);
	strmap_free(&bd.vhost_index);
	if (s)
		snapshot_unref(s);	// runs the cleanups registered so far
	else
		arena_free(bd.a);
	if (rc != -EINVAL)
		snprintf(err, err_len, "snapshot: %s", strerror(-rc));
	return NULL;
}
