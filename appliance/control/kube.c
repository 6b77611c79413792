// SPDX-License-Identifier: Apache-2.0
// kube.c: list/watch of the Kubernetes API on the control ring (kube.h).
//
// One connection per watched resource, HTTP/1.1 with keep-alive: the list
// (in pages of KUBE_PAGE items) and then the watches go out one after the
// other on the same connection while it lasts. Bytes are parsed as they
// come: the response head by the strict HTTP/1.1 parser, the body through
// the chunked decoder, and each watch event (one JSON document per line)
// by the strict JSON parser. Objects are kept as parsed trees, shared
// between the objects of one list page (refcounted documents).
#include "kube.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/base64.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/json.h"
#include "config/yaml.h"
#include "control/control.h"
#include "control/kube_exec.h"
#include "core/buf.h"
#include "core/bug.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/log.h"
#include "core/strmap.h"
#include "kernel-bypass/sock.h"
#include "proto/h1.h"
#include "proto/tls.h"

enum {
	KUBE_PAGE = 500,			// items per list page, as client-go's pager
	KUBE_BACKOFF_MIN_MS = 100,
	KUBE_BACKOFF_MAX_MS = 5000,		// the cap, and client-go's reflector's
	KUBE_CONNECT_TIMEOUT_MS = 10000,
	KUBE_LIST_TIMEOUT_MS = 60000,
	KUBE_NOT_SERVED_RETRY_MS = 30000,	// a 404 kind (CRDs not installed) is asked again
	KUBE_SETTLE_MS = 100,			// a burst of events: one rebuild
	KUBE_MAX_BODY = YTREE_MAX_FILE,		// one list page
	KUBE_MAX_LINE = 8 * 1024 * 1024,	// one watch event
	KUBE_MAX_WATCHES = 512,
	KUBE_MAX_ERRS = 8,
	KUBE_MAX_SLICES = 1024,			// EndpointSlices per Service (100 endpoints each)
};

enum kres_kind { KR_SERVICE, KR_SLICE, KR_POD, KR_NAMESPACE, KR_CONFIGMAP, KR_ISTIO };

struct kres {
	const char *plural;
	const char *prefix;	// "/api/v1", "/apis/<group>/<version>"
	const char *api_version;
	const char *kind;
	enum kres_kind type;
	bool cluster_scoped;
	const char *only_ns;	// watched in this namespace only
};

static const struct kres resources[] = {
	{ "services", "/api/v1", "v1", "Service", KR_SERVICE, false },
	{ "endpointslices", "/apis/discovery.k8s.io/v1", "discovery.k8s.io/v1", "EndpointSlice",
	  KR_SLICE, false },
	{ "pods", "/api/v1", "v1", "Pod", KR_POD, false },
	{ "namespaces", "/api/v1", "v1", "Namespace", KR_NAMESPACE, true },
	// MeshConfig: the istio ConfigMap, as istiod reads it
	{ "configmaps", "/api/v1", "v1", "ConfigMap", KR_CONFIGMAP, false, "istio-system" },
#define ISTIO(plural, group, kind) \
	{ plural, "/apis/" group "/v1", group "/v1", kind, KR_ISTIO, false }
	ISTIO("serviceentries", "networking.istio.io", "ServiceEntry"),
	ISTIO("workloadentries", "networking.istio.io", "WorkloadEntry"),
	ISTIO("workloadgroups", "networking.istio.io", "WorkloadGroup"),
	ISTIO("virtualservices", "networking.istio.io", "VirtualService"),
	ISTIO("destinationrules", "networking.istio.io", "DestinationRule"),
	ISTIO("gateways", "networking.istio.io", "Gateway"),
	ISTIO("sidecars", "networking.istio.io", "Sidecar"),
	ISTIO("peerauthentications", "security.istio.io", "PeerAuthentication"),
	ISTIO("authorizationpolicies", "security.istio.io", "AuthorizationPolicy"),
	ISTIO("requestauthentications", "security.istio.io", "RequestAuthentication"),
	ISTIO("telemetries", "telemetry.istio.io", "Telemetry"),
#undef ISTIO
};

// kdoc is one parsed response body or event line; the objects in it hold
// references.
struct kdoc {
	int refs;
	struct yaml_tree t;
};

struct kobj {
	char *key;			// "ns/name" ("name" cluster-scoped); NULL: free slot
	struct kdoc *doc;
	const struct ynode *obj;
	char rv[32];			// its metadata.resourceVersion
	char reported_rv[32];		// the version whose error was logged
	uint64_t sig;			// pruned objects: a hash of what was kept
	char *group;			// an EndpointSlice's Service ("ns/name"), or NULL
	uint64_t pods;			// ... and a Bloom filter of the pods it names
};

struct kstore {
	struct kobj *v;
	uint32_t num, cap, live;
	struct strmap index;		// key -> v[]
};

enum kw_state { KW_IDLE, KW_CONNECTING, KW_LIST, KW_WATCH };

struct kconn;

struct kwatch {
	struct kube *k;
	const struct kres *res;
	char ns[64];			// "" cluster-wide
	struct kconn *c;
	enum kw_state state;
	// the response being read
	bool have_head;
	int status;
	enum h1_framing framing;
	uint64_t remaining;
	bool keep_alive;
	struct h1_chunked ch;
	struct buf in;			// raw bytes not consumed yet
	struct buf body;		// list: the body; watch: a partial line
	bool body_bad;			// over a limit: the connection is dropped
	// listing
	char cont[2048];		// the next page's continue token
	struct kstore pending;		// pages of a list in progress
	char pending_rv[32];
	struct kstore store;
	char rv[32];			// where the watch resumes
	bool synced;			// listed once
	bool not_served;		// 404: the kind is not installed
	bool relist;			// the next request is a list
	uint32_t backoff_ms;
	struct ring_timer timer;	// back-off, or the request's deadline
	uint64_t lists, watches, events, relists_expired, failures;
	char last_error[192];
};

struct kconn {
	struct sock s;
	struct kwatch *w;		// NULL once the watch let go
	struct kube *k;
};

struct kube {
	struct control *ctl;
	void (*changed)(struct control *ctl);
	// the API server
	char host[256];			// name or IP literal (no brackets)
	uint16_t port;
	bool tls;
	char server[1024];		// for messages
	char sni[256];			// "" for an IP literal
	struct tls_client *tls_cli;
	bool tls_cli_verify;		// the server's name is checked
	char token[8192];		// "" when none
	char token_file[4096];		// re-read at every connection
	struct kexec exec;		// an exec credential plugin (exec.argv[0] set)
	char domain[256];
	struct kwatch *watches;
	int num_watches;
	struct ring_timer settle;
	bool stopping;
	bool appended_synced;		// the last kube_append had every first list
	uint32_t conns;
	uint64_t rejected;		// Istio resources skipped as invalid
	char last_rejected[512];
	// what changed since the last kube_append: anything (dirty_all), or
	// only the endpoints of some Services: through their EndpointSlices
	// (dirty_svc, "ns/name") or the pods those name (dirty_pod)
	bool dirty_all;
	struct strmap dirty_svc, dirty_pod;
};

// ---- documents and stores ----

static void doc_unref(struct kdoc *d)
{
	if (d && --d->refs == 0) {
		yaml_tree_free(&d->t);
		free(d);
	}
}

static void store_free(struct kstore *s)
{
	for (uint32_t i = 0; i < s->num; i++) {
		free(s->v[i].key);
		free(s->v[i].group);
		doc_unref(s->v[i].doc);
	}
	free(s->v);
	strmap_free(&s->index);
	memset(s, 0, sizeof(*s));
}

static const char *str_at(const struct ynode *map, const char *key)
{
	const struct ynode *n = yaml_tree_map_get(map, key);

	return n && n->type == YN_SCALAR && yaml_tree_scalar_kind(n) == YK_STR ? n->str : NULL;
}

static const struct ynode *map_at(const struct ynode *map, const char *key)
{
	const struct ynode *n = yaml_tree_map_get(map, key);

	return n && n->type == YN_MAP ? n : NULL;
}

static const struct ynode *seq_at(const struct ynode *map, const char *key)
{
	const struct ynode *n = yaml_tree_map_get(map, key);

	return n && n->type == YN_SEQ ? n : NULL;
}

// obj_key writes "ns/name" (or "name") of an object; -EINVAL without a name.
static int obj_key(const struct ynode *obj, char *out, size_t cap)
{
	const struct ynode *md = map_at(obj, "metadata");
	const char *name = md ? str_at(md, "name") : NULL, *ns = md ? str_at(md, "namespace") : NULL;
	int n;

	if (!name || !*name)
		return -EINVAL;
	n = ns && *ns ? snprintf(out, cap, "%s/%s", ns, name) : snprintf(out, cap, "%s", name);
	return n > 0 && (size_t)n < cap ? n : -EINVAL;
}

static void obj_rv(const struct ynode *obj, char *out, size_t cap)
{
	const struct ynode *md = map_at(obj, "metadata");
	const char *rv = md ? str_at(md, "resourceVersion") : NULL;

	snprintf(out, cap, "%s", rv ? rv : "");
}

// store_put adds or replaces the object under its key. It returns 1 when
// the store changed, 0 when the same version was there, -errno.
static int store_put(struct kstore *s, struct kdoc *doc, const struct ynode *obj)
{
	char key[512], rv[32];
	uint32_t idx;
	int len = obj_key(obj, key, sizeof(key));
	struct kobj *o;

	if (len < 0)
		return -EINVAL;
	obj_rv(obj, rv, sizeof(rv));
	if (strmap_get(&s->index, key, (size_t)len, &idx)) {
		o = &s->v[idx];
		if (o->key && *rv && !strcmp(o->rv, rv))
			return 0;
		if (!o->key) {
			if (!(o->key = strdup(key)))
				return -ENOMEM;
			s->live++;
		}
		doc_unref(o->doc);
	} else {
		if (s->num == s->cap) {
			uint32_t ncap = s->cap ? s->cap * 2 : 64;
			struct kobj *nv = realloc(s->v, ncap * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			s->v = nv;
			s->cap = ncap;
		}
		o = &s->v[s->num];
		memset(o, 0, sizeof(*o));
		if (!(o->key = strdup(key)) || strmap_set(&s->index, key, (size_t)len, s->num) < 0) {
			free(o->key);
			o->key = NULL;
			return -ENOMEM;
		}
		s->num++;
		s->live++;
	}
	doc->refs++;
	o->doc = doc;
	o->obj = obj;
	memcpy(o->rv, rv, sizeof(rv));
	return 1;
}

// store_del removes the object with obj's key: 1 if it was there. The slot
// stays in the index, free, for the same key to come back.
static int store_del(struct kstore *s, const struct ynode *obj)
{
	char key[512];
	uint32_t idx;
	int len = obj_key(obj, key, sizeof(key));

	if (len < 0 || !strmap_get(&s->index, key, (size_t)len, &idx) || !s->v[idx].key)
		return 0;
	free(s->v[idx].key);
	s->v[idx].key = NULL;
	doc_unref(s->v[idx].doc);
	s->v[idx].doc = NULL;
	s->v[idx].obj = NULL;
	s->v[idx].reported_rv[0] = '\0';
	free(s->v[idx].group);
	s->v[idx].group = NULL;
	s->live--;
	return 1;
}

static const struct kobj *store_get(const struct kstore *s, const char *key)
{
	uint32_t idx;

	if (!strmap_get(&s->index, key, strlen(key), &idx) || !s->v[idx].key)
		return NULL;
	return &s->v[idx];
}

// ---- connection settings: kubeconfig or in-cluster ----

static int read_small(const char *path, char *out, size_t cap, size_t *out_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len < cap - 1 && (n = read(fd, out + len, cap - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return (int)n;
		}
		len += (size_t)n;
	}
	close(fd);
	out[len] = '\0';
	if (out_len)
		*out_len = len;
	return len == cap - 1 ? -EFBIG : 0;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

// b64_decode decodes standard base64 (whitespace ignored) into a malloc'd
// buffer.
static int b64_decode(const char *in, char **out, size_t *out_len)
{
	size_t n = strlen(in), j = 0, dl;
	char *clean = malloc(n + 1), *dec;

	if (!clean)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (in[i] != ' ' && in[i] != '\n' && in[i] != '\r' && in[i] != '\t')
			clean[j++] = in[i];
	if (!EVP_DecodedLength(&dl, j) || !(dec = malloc(dl + 1))) {
		free(clean);
		return -EINVAL;
	}
	if (!EVP_DecodeBase64((uint8_t *)dec, &dl, dl, (const uint8_t *)clean, j)) {
		free(clean);
		free(dec);
		return -EINVAL;
	}
	free(clean);
	dec[dl] = '\0';
	*out = dec;
	*out_len = dl;
	return 0;
}

// read_blob reads a PEM either inline (base64 "-data") or from a file
// (relative to dir).
static int read_blob(const char *data_b64, const char *file, const char *dir, char **out,
		     size_t *out_len, char *err, size_t err_len, const char *what)
{
	char path[4096];
	char *buf;
	int r;

	*out = NULL;
	*out_len = 0;
	if (data_b64) {
		if (b64_decode(data_b64, out, out_len) < 0) {
			snprintf(err, err_len, "%s-data is not base64", what);
			return -EINVAL;
		}
		return 0;
	}
	if (!file)
		return 0;
	if (file[0] != '/')
		snprintf(path, sizeof(path), "%s/%s", dir, file);
	else
		snprintf(path, sizeof(path), "%s", file);
	if (!(buf = malloc(1 << 20)))
		return -ENOMEM;
	if ((r = read_small(path, buf, 1 << 20, out_len)) < 0) {
		snprintf(err, err_len, "%s %s: %s", what, path, strerror(-r));
		free(buf);
		return r;
	}
	*out = buf;
	return 0;
}

static const struct ynode *named(const struct ynode *seq, const char *name, const char *inner)
{
	for (size_t i = 0; seq && i < seq->len; i++) {
		const char *n = str_at(seq->items[i], "name");

		if (n && !strcmp(n, name))
			return map_at(seq->items[i], inner);
	}
	return NULL;
}

struct kconfig {
	char server[1024];
	char *ca;
	size_t ca_len;
	char *cert, *key;
	size_t cert_len, key_len;
	bool insecure;
	char tls_server_name[256];
};

static void kconfig_free(struct kconfig *kc)
{
	free(kc->ca);
	free(kc->cert);
	free(kc->key);
}

static int load_kubeconfig(struct kube *k, const char *path, struct kconfig *kc, char *err,
			   size_t err_len)
{
	struct yaml_tree t;
	struct yaml_error ye;
	const struct ynode *root, *cluster, *user, *ctx = NULL;
	const char *cur, *s;
	char dir[4096], *data;
	size_t len;
	int r;

	if (!(data = malloc(1 << 20)))
		return -ENOMEM;
	if ((r = read_small(path, data, 1 << 20, &len)) < 0) {
		snprintf(err, err_len, "kubeconfig %s: %s", path, strerror(-r));
		free(data);
		return r;
	}
	r = yaml_tree_parse(&t, data, len, &ye);
	free(data);
	if (r < 0 || t.num_docs != 1 || !t.docs[0] || t.docs[0]->type != YN_MAP) {
		snprintf(err, err_len, "kubeconfig %s:%d: %s", path, r < 0 ? ye.line : 0,
			 r < 0 ? ye.msg : "not one YAML mapping");
		yaml_tree_free(&t);
		return -EINVAL;
	}
	root = t.docs[0];
	snprintf(dir, sizeof(dir), "%s", path);
	if (strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	else
		strcpy(dir, ".");
	cur = str_at(root, "current-context");
	if (cur)
		ctx = named(seq_at(root, "contexts"), cur, "context");
	else if (seq_at(root, "contexts") && seq_at(root, "contexts")->len == 1)
		ctx = map_at(seq_at(root, "contexts")->items[0], "context");
	if (!ctx) {
		snprintf(err, err_len, "kubeconfig %s: no current-context%s%s", path,
			 cur ? " named " : "", cur ? cur : "");
		r = -EINVAL;
		goto out;
	}
	cluster = (s = str_at(ctx, "cluster")) ? named(seq_at(root, "clusters"), s, "cluster") : NULL;
	user = (s = str_at(ctx, "user")) ? named(seq_at(root, "users"), s, "user") : NULL;
	if (!cluster || !(s = str_at(cluster, "server"))) {
		snprintf(err, err_len, "kubeconfig %s: the context's cluster has no server", path);
		r = -EINVAL;
		goto out;
	}
	snprintf(kc->server, sizeof(kc->server), "%s", s);
	{
		const struct ynode *ins = yaml_tree_map_get(cluster, "insecure-skip-tls-verify");
		int b = 0;

		kc->insecure = ins && yaml_tree_scalar_bool(ins, &b) == 0 && b;
	}
	if ((s = str_at(cluster, "tls-server-name")))
		snprintf(kc->tls_server_name, sizeof(kc->tls_server_name), "%s", s);
	if ((r = read_blob(str_at(cluster, "certificate-authority-data"),
			   str_at(cluster, "certificate-authority"), dir, &kc->ca, &kc->ca_len, err,
			   err_len, "certificate-authority")) < 0)
		goto out;
	if (user) {
		if ((s = str_at(user, "token")))
			snprintf(k->token, sizeof(k->token), "%s", s);
		else if ((s = str_at(user, "tokenFile"))) {
			int n = s[0] == '/' ?
				snprintf(k->token_file, sizeof(k->token_file), "%s", s) :
				snprintf(k->token_file, sizeof(k->token_file), "%.2000s/%.2000s", dir, s);

			if (n < 0 || (size_t)n >= sizeof(k->token_file)) {
				snprintf(err, err_len, "kubeconfig %s: tokenFile path too long", path);
				r = -ENAMETOOLONG;
				goto out;
			}
		}
		if ((r = read_blob(str_at(user, "client-certificate-data"),
				   str_at(user, "client-certificate"), dir, &kc->cert, &kc->cert_len,
				   err, err_len, "client-certificate")) < 0 ||
		    (r = read_blob(str_at(user, "client-key-data"), str_at(user, "client-key"), dir,
				   &kc->key, &kc->key_len, err, err_len, "client-key")) < 0)
			goto out;
		if (!k->token[0] && !k->token_file[0] && map_at(user, "exec") &&
		    (r = kexec_config(&k->exec, map_at(user, "exec"), dir, kc->server,
				      str_at(cluster, "certificate-authority-data"), err,
				      err_len)) < 0)
			goto out;
		if (yaml_tree_map_get(user, "auth-provider"))
			log_emit(LOG_WARN, NULL, "kubernetes: kubeconfig %s: auth-provider credentials "
				 "are not supported (kubectl dropped them too); use exec, a token or a "
				 "client certificate", path);
	}
	r = 0;
out:
	yaml_tree_free(&t);
	return r;
}

static const char SA_DIR[] = "/var/run/secrets/kubernetes.io/serviceaccount";

static int load_in_cluster(struct kube *k, struct kconfig *kc, char *err, size_t err_len)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
	char path[256];
	int r;

	if (!host || !*host) {
		snprintf(err, err_len, "no kubeconfig: [kubernetes] kubeconfig, $KUBECONFIG or "
			 "KUBERNETES_SERVICE_HOST (in-cluster) needed");
		return -ENOENT;
	}
	if (strchr(host, ':'))
		snprintf(kc->server, sizeof(kc->server), "https://[%s]:%s", host, port ? port : "443");
	else
		snprintf(kc->server, sizeof(kc->server), "https://%s:%s", host, port ? port : "443");
	snprintf(k->token_file, sizeof(k->token_file), "%s/token", SA_DIR);
	snprintf(path, sizeof(path), "%s/ca.crt", SA_DIR);
	r = read_blob(NULL, path, "/", &kc->ca, &kc->ca_len, err, err_len, "certificate-authority");
	return r;
}

// parse_server splits "https://host:port[/]" (IPv6 in brackets).
static int parse_server(struct kube *k, const char *url, char *err, size_t err_len)
{
	const char *p = url, *h, *e;
	size_t hl;

	if (!strncmp(p, "https://", 8)) {
		k->tls = true;
		p += 8;
	} else if (!strncmp(p, "http://", 7)) {
		k->tls = false;
		p += 7;
	} else {
		goto bad;
	}
	if (*p == '[') {
		h = p + 1;
		if (!(e = strchr(h, ']')))
			goto bad;
		hl = (size_t)(e - h);
		p = e + 1;
	} else {
		h = p;
		hl = strcspn(p, ":/");
		p += hl;
	}
	if (!hl || hl >= sizeof(k->host))
		goto bad;
	memcpy(k->host, h, hl);
	k->host[hl] = '\0';
	k->port = k->tls ? 443 : 80;
	if (*p == ':') {
		char *end;
		long v = strtol(p + 1, &end, 10);

		if (end == p + 1 || v < 1 || v > 65535)
			goto bad;
		k->port = (uint16_t)v;
		p = end;
	}
	if (*p && strcmp(p, "/")) {
		snprintf(err, err_len, "server %s: a path prefix is not supported", url);
		return -EINVAL;
	}
	snprintf(k->server, sizeof(k->server), "%s", url);
	return 0;
bad:
	snprintf(err, err_len, "server %s: not http(s)://host[:port]", url);
	return -EINVAL;
}

static bool is_ip(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

// ---- the watches ----

static void kw_schedule(struct kwatch *w, uint32_t ms);
static void kw_connect(struct kwatch *w);
static void kw_request(struct kwatch *w);

static void dirty_clear(struct kube *k);

static void kube_changed(struct kube *k)
{
	k->dirty_all = true;
	if (!ring_timer_armed(&k->settle) && !k->stopping)
		ring_timer_set(&k->ctl->ring, &k->settle, KUBE_SETTLE_MS, k->settle.fn);
}

static void settle_fire(struct ring_timer *t)
{
	struct kube *k = container_of(t, struct kube, settle);

	if (!k->stopping)
		k->changed(k->ctl);
}

static struct kconn *conn_of(struct sock *s)
{
	return container_of(s, struct kconn, s);
}

// kw_drop lets go of the connection (closing it) and retries after a
// back-off (0: at once).
static void kw_drop(struct kwatch *w, uint32_t delay_ms)
{
	struct kconn *c = w->c;

	if (c) {
		c->w = NULL;
		w->c = NULL;
		sock_close(&c->s, false);
	}
	ring_timer_cancel(&w->k->ctl->ring, &w->timer);
	// emptied, not freed: a parse in progress may still point into them
	w->in.off = w->in.len = 0;
	w->body.off = w->body.len = 0;
	w->have_head = false;
	w->state = KW_IDLE;
	if (!w->k->stopping)
		kw_schedule(w, delay_ms);
}

static uint32_t next_backoff(struct kwatch *w)
{
	uint32_t b = w->backoff_ms ? w->backoff_ms : KUBE_BACKOFF_MIN_MS, r = 0;

	w->backoff_ms = b * 2 > KUBE_BACKOFF_MAX_MS ? KUBE_BACKOFF_MAX_MS : b * 2;
	// jitter within the last quarter, so that watches retrying together
	// spread out and no wait passes the cap
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)clock_mono_ns();
	return b - b / 4 + r % (b / 4 + 1);
}

static void kw_fail(struct kwatch *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void kw_fail(struct kwatch *w, const char *fmt, ...)
{
	va_list ap;
	uint32_t delay = next_backoff(w);

	va_start(ap, fmt);
	vsnprintf(w->last_error, sizeof(w->last_error), fmt, ap);
	va_end(ap);
	w->failures++;
	log_ratelimited(LOG_WARN, NULL, "kubernetes: %s%s%s: %s (retry in %u ms)", w->res->plural,
			w->ns[0] ? " in " : "", w->ns, w->last_error, delay);
	kw_drop(w, delay);
}

static void kw_timer(struct ring_timer *t)
{
	struct kwatch *w = container_of(t, struct kwatch, timer);

	if (w->state == KW_IDLE)
		kw_connect(w);
	else if (w->state == KW_CONNECTING)
		kw_fail(w, "connect to %s timed out", w->k->server);
	else
		kw_fail(w, "%s timed out", w->state == KW_LIST ? "list" : "watch");
}

static void kw_schedule(struct kwatch *w, uint32_t ms)
{
	ring_timer_set(&w->k->ctl->ring, &w->timer, ms, kw_timer);
}

// api_tls_start begins TLS toward the API server on a connected s: the
// server's certificate must name the host we dialled (an IP literal: an
// IP SAN), unless the kubeconfig names another (tls-server-name).
static int api_tls_start(struct kube *k, struct sock *s, tls_handshake_cb *cb)
{
	const char *sans[1] = { k->sni[0] ? k->sni : k->host };

	return tls_connect(s, k->tls_cli, k->sni[0] ? k->sni : NULL, k->tls_cli_verify ? sans : NULL,
			   k->tls_cli_verify ? 1 : 0, cb);
}

static void conn_handshake(struct sock *s, struct tls_conn *t, int err)
{
	struct kconn *c = conn_of(s);
	struct kwatch *w = c->w;

	if (!w)
		return;
	if (err < 0) {
		kw_fail(w, "TLS with %s: %s", w->k->server, tls_conn_error(t));
		return;
	}
	kw_request(w);
}

static void conn_connected(struct sock *s, int err)
{
	struct kconn *c = conn_of(s);
	struct kwatch *w = c->w;

	if (!w)
		return;
	if (err < 0) {
		kw_fail(w, "connect to %s: %s", w->k->server, strerror(-err));
		return;
	}
	sock_recv_start(s);
	if (!w->k->tls) {
		kw_request(w);
		return;
	}
	if (api_tls_start(w->k, s, conn_handshake) < 0)
		kw_fail(w, "TLS setup failed");
}

static void on_event_line(struct kwatch *w, const char *line, size_t len);
static void on_list_body(struct kwatch *w);
static void on_response_end(struct kwatch *w);

static void body_data(void *arg, const char *p, size_t len)
{
	struct kwatch *w = arg;

	if (w->body_bad || !w->c)
		return;		// over a limit, or an event dropped the connection
	if (w->state == KW_LIST) {
		if (buf_avail(&w->body) + len > KUBE_MAX_BODY || buf_append(&w->body, p, len) < 0)
			w->body_bad = true;
		return;
	}
	// watch: one event per line
	while (len) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl ? (size_t)(nl - p) : len;

		if (buf_avail(&w->body) + n > KUBE_MAX_LINE) {
			w->body_bad = true;
			return;
		}
		if (nl && !buf_avail(&w->body)) {
			on_event_line(w, p, n);	// the common case: no copy
		} else {
			if (buf_append(&w->body, p, n) < 0) {
				w->body_bad = true;
				return;
			}
			if (nl) {
				on_event_line(w, buf_head(&w->body), buf_avail(&w->body));
				buf_consume(&w->body, buf_avail(&w->body));
			}
		}
		if (!nl || w->c == NULL)
			return;
		p = nl + 1;
		len -= n + 1;
	}
}

// conn_input parses what arrived: the head, then the body as it comes.
static void conn_input(struct kwatch *w)
{
	for (;;) {
		if (!w->have_head) {
			struct h1_msg msg;
			size_t scanned = 0;
			ssize_t hl = h1_head_end(buf_head(&w->in), buf_avail(&w->in), &scanned);

			if (hl == -EAGAIN) {
				if (buf_avail(&w->in) > H1_MAX_HEAD_BYTES)
					kw_fail(w, "response head too large");
				return;
			}
			if (hl < 0 || h1_parse_response(&msg, buf_head(&w->in), (size_t)hl,
						    (struct h1_str){ "GET", 3 }) < 0) {
				kw_fail(w, "malformed response head from %s", w->k->server);
				return;
			}
			if (msg.status < 200) {	// 1xx: skip it
				buf_consume(&w->in, (size_t)hl);
				continue;
			}
			w->have_head = true;
			w->status = msg.status;
			w->framing = msg.framing;
			w->remaining = msg.content_length;
			w->keep_alive = !(msg.flags & H1F_CONN_CLOSE) && msg.minor == 1 &&
					msg.framing != H1_BODY_EOF;
			h1_chunked_init(&w->ch);
			buf_consume(&w->in, (size_t)hl);
			buf_cleanup(&w->body);
			w->body_bad = false;
			if (w->status == 200) {
				w->backoff_ms = 0;
			}
		}
		if (w->status != 200) {
			// The body is a Status object; its reason is in the status
			// line's code. Drop the connection: simpler than skipping.
			if ((w->status == 404 && w->res->type == KR_ISTIO) ||
			    ((w->status == 404 || w->status == 403) &&
			     w->res->type == KR_CONFIGMAP)) {
				// the CRDs are not installed: an empty kind, asked again
				if (!w->not_served)
					log_emit(LOG_INFO, NULL, "kubernetes: %s%s%s not served (%d); "
						 "treated as empty", w->res->plural, w->ns[0] ? " in " : "",
						 w->ns, w->status);
				w->not_served = true;
				if (w->store.live || !w->synced) {
					// gone, or known for the first time: a rebuild
					store_free(&w->store);
					kube_changed(w->k);
				}
				w->synced = true;
				w->rv[0] = '\0';
				w->relist = true;
				kw_drop(w, KUBE_NOT_SERVED_RETRY_MS);
				return;
			}
			if (w->status == 410 && w->state == KW_LIST) {
				// an expired continue token: list again from the start
				w->relists_expired++;
				w->cont[0] = '\0';
				store_free(&w->pending);
				w->relist = true;
				kw_drop(w, 0);
				return;
			}
			if (w->status == 401)
				kexec_invalidate(&w->k->exec);	// a plugin's token: get another
			kw_fail(w, "%s answered %d%s", w->k->server, w->status,
				w->status == 401 ? " (Unauthorized: check the token)" :
				w->status == 403 ? " (Forbidden: RBAC does not allow list/watch)" : "");
			return;
		}
		// body
		if (w->framing == H1_BODY_CHUNKED) {
			struct h1_chunked_out out = { body_data, NULL, w };
			int done = 0;
			ssize_t n = h1_chunked_feed(&w->ch, buf_head(&w->in), buf_avail(&w->in), &out,
						    &done);

			if (!w->c)
				return;		// an event dropped the connection
			if (n < 0) {
				kw_fail(w, "malformed chunked body");
				return;
			}
			buf_consume(&w->in, (size_t)n);
			if (w->body_bad) {
				kw_fail(w, "response too large");
				return;
			}
			if (!done)
				return;
		} else if (w->framing == H1_BODY_LENGTH || w->framing == H1_BODY_EOF) {
			size_t n = buf_avail(&w->in);

			if (w->framing == H1_BODY_LENGTH && n > w->remaining)
				n = (size_t)w->remaining;
			body_data(w, buf_head(&w->in), n);
			if (!w->c)
				return;
			buf_consume(&w->in, n);
			if (w->body_bad) {
				kw_fail(w, "response too large");
				return;
			}
			if (w->framing == H1_BODY_EOF)
				return;		// ends with the connection
			w->remaining -= n;
			if (w->remaining)
				return;
		}
		w->have_head = false;
		on_response_end(w);
		if (!w->c || !buf_avail(&w->in))
			return;
	}
}

static void conn_recv(struct sock *s, const char *data, size_t len)
{
	struct kconn *c = conn_of(s);
	struct kwatch *w = c->w;

	if (!w)
		return;
	if (buf_append(&w->in, data, len) < 0) {
		kw_fail(w, "out of memory");
		return;
	}
	conn_input(w);
}

static void conn_eof(struct sock *s, int err)
{
	struct kconn *c = conn_of(s);
	struct kwatch *w = c->w;

	if (!w)
		return;
	if (w->have_head && w->status == 200 && w->framing == H1_BODY_EOF && !err) {
		w->have_head = false;
		w->keep_alive = false;
		on_response_end(w);
		if (w->c == c)
			kw_drop(w, 0);
		return;
	}
	if (w->state == KW_WATCH && w->have_head && w->status == 200) {
		// a watch cut short: resume from the last version, soon
		w->last_error[0] = '\0';
		kw_drop(w, next_backoff(w));
		return;
	}
	if (w->state == KW_WATCH && !w->have_head && !buf_avail(&w->in) && !err) {
		// the server closed the keep-alive connection between two
		// watches (a back-off all the same: a server that closes every
		// connection at once must not make this a busy loop)
		kw_drop(w, next_backoff(w));
		return;
	}
	kw_fail(w, "%s closed the connection%s%s", w->k->server, err ? ": " : "",
		err ? strerror(-err) : "");
}

static void conn_send_error(struct sock *s, int err)
{
	conn_eof(s, err);
}

static void conn_closed(struct sock *s)
{
	struct kconn *c = conn_of(s);

	c->k->conns--;
	free(c);
}

static const struct sock_ops conn_ops = {
	.recv = conn_recv,
	.eof = conn_eof,
	.send_error = conn_send_error,
	.connected = conn_connected,
	.closed = conn_closed,
};

static int server_addr(struct kube *k, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, k->host, &((struct sockaddr_in *)ss)->sin_addr) == 1 ||
	    !strcmp(k->host, "localhost")) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		if (!strcmp(k->host, "localhost"))
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_family = AF_INET;
		a->sin_port = htons(k->port);
		*len = sizeof(*a);
		return 0;
	}
	if (inet_pton(AF_INET6, k->host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(k->port);
		*len = sizeof(*a);
		return 0;
	}
	// a host name: c-ares keeps it resolved (pinned)
	if (dns_resolve(&k->ctl->dns, k->host, ss, 1) < 1)
		return -EAGAIN;
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons(k->port);
		*len = sizeof(struct sockaddr_in);
	} else {
		((struct sockaddr_in6 *)ss)->sin6_port = htons(k->port);
		*len = sizeof(struct sockaddr_in6);
	}
	return 0;
}

static void kw_connect(struct kwatch *w)
{
	struct kube *k = w->k;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct kconn *c;
	int fd;

	if (k->stopping)
		return;
	if (server_addr(k, &ss, &sl) < 0) {
		kw_fail(w, "%s: no address for %s yet", k->server, k->host);
		return;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		kw_fail(w, "socket: %s", strerror(errno));
		return;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		close(fd);
		kw_fail(w, "out of memory");
		return;
	}
	c->w = w;
	c->k = k;
	k->conns++;
	w->c = c;
	w->state = KW_CONNECTING;
	w->have_head = false;
	sock_init(&c->s, &k->ctl->ring, fd, &conn_ops);
	ring_timer_set(&k->ctl->ring, &w->timer, KUBE_CONNECT_TIMEOUT_MS, kw_timer);
	sock_connect(&c->s, (const struct sockaddr *)&ss, sl);
}

// append_query_str appends s percent-encoded for a query value.
static void append_query_str(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~')
			buf_append(b, s, 1);
		else
			buf_appendf(b, "%%%02X", ch);
	}
}

// api_token is the bearer token for the next request ("" for none).
// api_token writes the bearer token for a request ("" for none): the
// kubeconfig's, a token file's (read each time: projected tokens rotate) or
// an exec plugin's. It returns 0 or -errno with the reason in why.
static int api_token(struct kube *k, char token[8192], char *why, size_t why_len)
{
	token[0] = '\0';
	if (k->token[0]) {
		memcpy(token, k->token, 8192);
	} else if (k->token_file[0]) {
		if (read_small(k->token_file, token, 8192, NULL) < 0) {
			snprintf(why, why_len, "token file %.400s unreadable", k->token_file);
			return -EACCES;
		}
		trim(token);
	} else if (k->exec.argv[0]) {
		return kexec_token(&k->exec, clock_wall_s(), token, 8192, why, why_len);
	}
	return 0;
}

// append_host appends the Host field's value.
static void append_host(struct buf *o, const struct kube *k)
{
	if (strchr(k->host, ':'))
		buf_appendf(o, "[%s]", k->host);
	else
		buf_appends(o, k->host);
	if ((k->tls && k->port != 443) || (!k->tls && k->port != 80))
		buf_appendf(o, ":%u", k->port);
}

static void kw_request(struct kwatch *w)
{
	struct kube *k = w->k;
	struct buf *o = sock_out(&w->c->s);
	char token[sizeof(k->token)];
	bool list = w->relist || !w->synced || !w->rv[0];
	uint32_t r = 0;
	char why[512];

	if (api_token(k, token, why, sizeof(why)) < 0) {
		kw_fail(w, "%s", why);
		return;
	}
	w->state = list ? KW_LIST : KW_WATCH;
	w->have_head = false;
	buf_appends(o, "GET ");
	buf_appends(o, w->res->prefix);
	if (w->ns[0])
		buf_appendf(o, "/namespaces/%s", w->ns);
	buf_appendf(o, "/%s?", w->res->plural);
	if (list) {
		buf_appendf(o, "limit=%d", KUBE_PAGE);
		if (w->cont[0]) {
			buf_appends(o, "&continue=");
			append_query_str(o, w->cont);
		}
		w->lists++;
		ring_timer_set(&k->ctl->ring, &w->timer, KUBE_LIST_TIMEOUT_MS, kw_timer);
	} else {
		// client-go's reflector asks for 5-10 min watches
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint32_t)clock_mono_ns();
		r = 300 + r % 300;
		buf_appends(o, "watch=true&allowWatchBookmarks=true&resourceVersion=");
		append_query_str(o, w->rv);
		buf_appendf(o, "&timeoutSeconds=%u", r);
		w->watches++;
		ring_timer_set(&k->ctl->ring, &w->timer, (uint64_t)(r + 30) * 1000, kw_timer);
	}
	buf_appends(o, " HTTP/1.1\r\nHost: ");
	append_host(o, k);
	buf_appends(o, "\r\nUser-Agent: meshgate\r\nAccept: application/json\r\n");
	if (token[0]) {
		buf_appends(o, "Authorization: Bearer ");
		buf_appends(o, token);
		buf_appends(o, "\r\n");
	}
	buf_appends(o, "\r\n");
	explicit_bzero(token, sizeof(token));
	sock_flush(&w->c->s);
}

// on_response_end: a list page or a watch ended well.
static void on_response_end(struct kwatch *w)
{
	if (w->state == KW_LIST) {
		on_list_body(w);
		if (!w->c)
			return;
	}
	if (!buf_avail(&w->in))
		buf_cleanup(&w->in);	// a big list page's memory goes back
	// the next request: another page, or the watch (again)
	if (!w->keep_alive) {
		kw_drop(w, 0);
		return;
	}
	ring_timer_cancel(&w->k->ctl->ring, &w->timer);
	kw_request(w);
}

static void append_labels(struct buf *o, const struct ynode *labels);

// prune keeps of a Pod or Namespace only what the registry reads (name,
// namespace, resourceVersion, labels; a Pod's service account): real Pods
// carry kilobytes of spec, status and managedFields each, and a cluster's
// worth of them would otherwise stay parsed in memory. It returns a new
// document (one reference) or NULL.
static struct kdoc *prune(const struct ynode *obj, bool pod, uint64_t *sig)
{
	const struct ynode *md = map_at(obj, "metadata"), *spec = pod ? map_at(obj, "spec") : NULL;
	const struct ynode *labels = md ? map_at(md, "labels") : NULL;
	const char *sa = spec ? str_at(spec, "serviceAccountName") : NULL;
	const char *f[] = { "name", "namespace" };
	struct kdoc *d;
	struct yaml_error ye;
	struct buf b;

	buf_init(&b);
	buf_appends(&b, "{\"metadata\":{");
	for (size_t i = 0, n = 0; md && i < 2; i++) {
		const char *v = str_at(md, f[i]);

		if (!v)
			continue;
		buf_appendf(&b, "%s\"%s\":", n++ ? "," : "", f[i]);
		json_append_cstr(&b, v);
	}
	if (labels) {
		buf_appends(&b, ",\"labels\":");
		append_labels(&b, labels);
	}
	buf_appends(&b, "}");
	if (sa) {
		buf_appends(&b, ",\"spec\":{\"serviceAccountName\":");
		json_append_cstr(&b, sa);
		buf_appends(&b, "}");
	}
	buf_appends(&b, "}");
	*sig = hash64(buf_head(&b), buf_avail(&b));
	if (!(d = calloc(1, sizeof(*d))) ||
	    json_tree_parse(&d->t, buf_head(&b), buf_avail(&b), &ye) < 0) {
		if (d)
			yaml_tree_free(&d->t);
		free(d);
		buf_cleanup(&b);
		return NULL;
	}
	buf_cleanup(&b);
	d->refs = 1;
	return d;
}

// slice_service writes "ns/service" of the Service an EndpointSlice
// belongs to (its kubernetes.io/service-name label); -EINVAL without one.
static int slice_service(const struct ynode *slice, char *out, size_t cap)
{
	const struct ynode *md = map_at(slice, "metadata"), *lab = md ? map_at(md, "labels") : NULL;
	const char *svc = lab ? str_at(lab, "kubernetes.io/service-name") : NULL;
	const char *ns = md ? str_at(md, "namespace") : NULL;
	int n;

	if (!svc || !ns)
		return -EINVAL;
	n = snprintf(out, cap, "%s/%s", ns, svc);
	return n > 0 && (size_t)n < cap ? n : -EINVAL;
}

// pod_bits is a pod key's two bits in a slice's Bloom filter (kobj.pods).
static uint64_t pod_bits(const char *key, size_t len)
{
	uint64_t h = hash64(key, len);

	return 1ull << (h & 63) | 1ull << ((h >> 6) & 63);
}

// slice_ref_pod writes the key ("ns/name") of the pod an EndpointSlice's
// endpoint ep names (targetRef), or returns -EINVAL.
static int slice_ref_pod(const struct ynode *ep, const char *slice_ns, char *out, size_t cap)
{
	const struct ynode *ref = map_at(ep, "targetRef");
	const char *kind = ref ? str_at(ref, "kind") : NULL;
	const char *name = ref ? str_at(ref, "name") : NULL;
	const char *ns = ref ? str_at(ref, "namespace") : NULL;
	int n;

	if (!kind || !name || strcmp(kind, "Pod") || (!ns && !slice_ns))
		return -EINVAL;
	n = snprintf(out, cap, "%s/%s", ns ? ns : slice_ns, name);
	return n > 0 && (size_t)n < cap ? n : -EINVAL;
}

// slice_pods is the Bloom filter of the pods a slice's endpoints name: a
// burst of pod changes then reads only the slices that may name them.
static uint64_t slice_pods(const struct ynode *slice)
{
	const struct ynode *eps = seq_at(slice, "endpoints"), *md = map_at(slice, "metadata");
	const char *ns = md ? str_at(md, "namespace") : NULL;
	uint64_t bloom = 0;
	char key[512];
	int n;

	for (size_t e = 0; eps && e < eps->len; e++)
		if ((n = slice_ref_pod(eps->items[e], ns, key, sizeof(key))) >= 0)
			bloom |= pod_bits(key, (size_t)n);
	return bloom;
}

// keep puts obj (from document d) into store, pruned for Pods and
// Namespaces. Same returns as store_put.
static int keep(struct kwatch *w, struct kstore *store, struct kdoc *d, const struct ynode *obj)
{
	struct kdoc *pd;
	struct kobj *o;
	char key[512];
	uint64_t sig;
	int r;

	if (w->res->type == KR_SLICE) {
		// its Service, found once: bursts look slices up by it
		char svc[512];
		int n = slice_service(obj, svc, sizeof(svc));

		r = store_put(store, d, obj);
		if (r > 0 && obj_key(obj, key, sizeof(key)) >= 0 &&
		    (o = (struct kobj *)store_get(store, key))) {
			free(o->group);
			o->group = n >= 0 ? strdup(svc) : NULL;
			o->pods = slice_pods(obj);
		}
		return r;
	}
	if (w->res->type != KR_POD && w->res->type != KR_NAMESPACE)
		return store_put(store, d, obj);
	if (obj_key(obj, key, sizeof(key)) < 0)
		return -EINVAL;
	if (!(pd = prune(obj, w->res->type == KR_POD, &sig)))
		return -ENOMEM;
	o = (struct kobj *)store_get(store, key);
	if (o && o->sig == sig) {
		// a status update: nothing the registry reads changed, so no
		// rebuild (a pod's status churns far more than its labels)
		obj_rv(obj, o->rv, sizeof(o->rv));
		doc_unref(pd);
		return 0;
	}
	r = store_put(store, pd, pd->t.docs[0]);
	doc_unref(pd);
	if (r > 0 && (o = (struct kobj *)store_get(store, key))) {
		o->sig = sig;
		obj_rv(obj, o->rv, sizeof(o->rv));
	}
	return r;
}

// endpoints_changed notes a change that can only move endpoints: key (of
// length len) in set, then the burst's rebuild as kube_changed.
static void endpoints_changed(struct kube *k, struct strmap *set, const char *key, int len)
{
	if (len >= 0 && strmap_set(set, key, (size_t)len, 0) < 0)
		k->dirty_all = true;	// no memory to remember it: the full way
	if (!ring_timer_armed(&k->settle) && !k->stopping)
		ring_timer_set(&k->ctl->ring, &k->settle, KUBE_SETTLE_MS, k->settle.fn);
}

static struct kdoc *parse_doc(struct kwatch *w, const char *p, size_t len, const char *what)
{
	struct kdoc *d = calloc(1, sizeof(*d));
	struct yaml_error ye;
	int r;

	if (!d) {
		kw_fail(w, "out of memory");
		return NULL;
	}
	r = json_tree_parse(&d->t, p, len, &ye);
	if (r < 0 || d->t.num_docs != 1 || !d->t.docs[0] || d->t.docs[0]->type != YN_MAP) {
		kw_fail(w, "%s: malformed JSON (line %d: %s)", what, r < 0 ? ye.line : 0,
			r < 0 ? ye.msg : "not an object");
		yaml_tree_free(&d->t);
		free(d);
		return NULL;
	}
	d->refs = 1;
	return d;
}

static void on_list_body(struct kwatch *w)
{
	struct kdoc *d = parse_doc(w, buf_head(&w->body), buf_avail(&w->body), "list");
	const struct ynode *root, *md, *items;
	const char *rv, *cont;

	buf_cleanup(&w->body);
	if (!d)
		return;
	root = d->t.docs[0];
	md = map_at(root, "metadata");
	items = yaml_tree_map_get(root, "items");
	rv = md ? str_at(md, "resourceVersion") : NULL;
	cont = md ? str_at(md, "continue") : NULL;
	if (!rv || !*rv || (items && !yaml_tree_is_null(items) && items->type != YN_SEQ)) {
		doc_unref(d);
		kw_fail(w, "list: not a List (no metadata.resourceVersion or items)");
		return;
	}
	if (!w->cont[0]) {		// the first page gives the list's version
		store_free(&w->pending);
		snprintf(w->pending_rv, sizeof(w->pending_rv), "%s", rv);
	}
	for (size_t i = 0; items && items->type == YN_SEQ && i < items->len; i++) {
		if (keep(w, &w->pending, d, items->items[i]) < 0) {
			doc_unref(d);
			kw_fail(w, "list: an item without metadata.name, or out of memory");
			return;
		}
	}
	doc_unref(d);
	if (cont && *cont) {
		if (strlen(cont) >= sizeof(w->cont)) {
			kw_fail(w, "list: continue token too long");
			return;
		}
		strcpy(w->cont, cont);
		return;
	}
	// the whole list: it replaces what was known (deletions missed while
	// away included)
	w->cont[0] = '\0';
	store_free(&w->store);
	w->store = w->pending;
	memset(&w->pending, 0, sizeof(w->pending));
	memcpy(w->rv, w->pending_rv, sizeof(w->rv));
	w->relist = false;
	w->synced = true;
	w->not_served = false;
	w->last_error[0] = '\0';
	kube_changed(w->k);
}

static void on_event_line(struct kwatch *w, const char *line, size_t len)
{
	const struct ynode *root, *obj;
	const struct kobj *old;
	const char *type;
	struct kdoc *d;
	char key[512], old_svc[512];
	int changed = 0, old_len = -1;

	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (!len)
		return;
	if (!(d = parse_doc(w, line, len, "watch event")))
		return;
	root = d->t.docs[0];
	type = str_at(root, "type");
	obj = map_at(root, "object");
	if (!type || !obj) {
		doc_unref(d);
		kw_fail(w, "watch event without type or object");
		return;
	}
	w->events++;
	if (!strcmp(type, "ERROR")) {
		const struct ynode *code = yaml_tree_map_get(obj, "code");
		int64_t cv = 0;
		const char *msg = str_at(obj, "message");

		if (code)
			yaml_tree_scalar_int(code, &cv);
		if (cv == 410) {
			// the version is compacted away: list again, at once
			log_emit(LOG_INFO, NULL, "kubernetes: %s: watch expired (%s); relisting",
				 w->res->plural, msg ? msg : "410 Gone");
			w->relists_expired++;
			w->relist = true;
			doc_unref(d);
			kw_drop(w, 0);
			return;
		}
		doc_unref(d);
		kw_fail(w, "watch error %lld: %s", (long long)cv, msg ? msg : "");
		return;
	}
	// an EndpointSlice's Service, before and after the event
	if (w->res->type == KR_SLICE && obj_key(obj, key, sizeof(key)) >= 0 &&
	    (old = store_get(&w->store, key)) && old->group)
		old_len = snprintf(old_svc, sizeof(old_svc), "%s", old->group);
	if (!strcmp(type, "ADDED") || !strcmp(type, "MODIFIED"))
		changed = keep(w, &w->store, d, obj);
	else if (!strcmp(type, "DELETED"))
		changed = store_del(&w->store, obj);
	else if (strcmp(type, "BOOKMARK")) {
		doc_unref(d);
		kw_fail(w, "unknown watch event type %.32s", type);
		return;
	}
	if (changed < 0) {
		doc_unref(d);
		kw_fail(w, "watch %s event: an object without metadata.name, or out of memory", type);
		return;
	}
	obj_rv(obj, w->rv, sizeof(w->rv));
	if (changed > 0 && w->res->type == KR_SLICE) {
		// endpoints of at most two Services (a slice may change hands)
		endpoints_changed(w->k, &w->k->dirty_svc, old_svc, old_len);
		if ((old = store_get(&w->store, key)) && old->group)	// keep() found it
			endpoints_changed(w->k, &w->k->dirty_svc, old->group,
					  (int)strlen(old->group));
	} else if (changed > 0 && w->res->type == KR_POD) {
		// labels or service account: the endpoints that name the pod
		endpoints_changed(w->k, &w->k->dirty_pod, key, obj_key(obj, key, sizeof(key)));
	} else if (changed > 0) {
		kube_changed(w->k);
	}
	doc_unref(d);
}

// ---- start and stop ----

static int add_watch(struct kube *k, const struct kres *res, const char *ns)
{
	struct kwatch *w;

	if (k->num_watches == KUBE_MAX_WATCHES)
		return -E2BIG;
	w = &k->watches[k->num_watches++];
	memset(w, 0, sizeof(*w));
	w->k = k;
	w->res = res;
	snprintf(w->ns, sizeof(w->ns), "%s", ns);
	w->relist = true;
	return 0;
}

int kube_start(struct control *ctl, void (*changed)(struct control *ctl), char *err,
	       size_t err_len)
{
	const struct bootstrap *b = ctl->boot;
	struct kconfig kc;
	struct kube *k;
	const char *path = b->kube_config[0] ? b->kube_config : getenv("KUBECONFIG");
	int r;

	memset(&kc, 0, sizeof(kc));
	if (!(k = calloc(1, sizeof(*k))) ||
	    !(k->watches = calloc(KUBE_MAX_WATCHES, sizeof(*k->watches)))) {
		free(k);
		return -ENOMEM;
	}
	k->ctl = ctl;
	k->changed = changed;
	k->settle.fn = settle_fire;
	snprintf(k->domain, sizeof(k->domain), "%s", b->kube_domain);
	if (path && *path) {
		char first[4096];

		// $KUBECONFIG may be a list; the first file has the context
		snprintf(first, sizeof(first), "%s", path);
		first[strcspn(first, ":")] = '\0';
		r = load_kubeconfig(k, first, &kc, err, err_len);
	} else {
		r = load_in_cluster(k, &kc, err, err_len);
	}
	if (r == 0)
		r = parse_server(k, kc.server, err, err_len);
	if (r == 0 && k->tls) {
		struct tls_client_cfg tc = { 0 };
		struct tls_identity *id = NULL;

		if (kc.cert && kc.key &&
		    (r = tls_identity_load_pem(&id, kc.cert, kc.cert_len, kc.key, kc.key_len, err,
					       err_len)) < 0)
			goto out;
		tc.mode = id ? TLS_MUTUAL : TLS_SIMPLE;
		tc.identity = id;
		if (!kc.insecure) {
			if (!kc.ca) {
				// no CA given: the system's roots, as client-go
				tc.ca_file = "/etc/ssl/certs/ca-certificates.crt";
			} else {
				tc.ca_pem = kc.ca;
				tc.ca_pem_len = kc.ca_len;
			}
		} else {
			log_emit(LOG_WARN, NULL, "kubernetes: insecure-skip-tls-verify: the API "
				 "server's certificate is not checked");
		}
		tc.alpn[0] = "http/1.1";
		tc.num_alpn = 1;
		r = tls_client_new(&k->tls_cli, &tc, err, err_len);
		if (id)
			tls_identity_unref(id);
		if (r < 0)
			goto out;
		k->tls_cli_verify = !kc.insecure;
		if (kc.tls_server_name[0])
			snprintf(k->sni, sizeof(k->sni), "%s", kc.tls_server_name);
		else if (!is_ip(k->host))
			snprintf(k->sni, sizeof(k->sni), "%s", k->host);
	}
	if (r < 0)
		goto out;
	if (!is_ip(k->host) && strcmp(k->host, "localhost"))
		dns_pin(&ctl->dns, k->host);
	for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++) {
		const struct kres *res = &resources[i];

		if (res->only_ns) {
			add_watch(k, res, res->only_ns);
			continue;
		}
		if (res->cluster_scoped && b->kube_namespaces[0])
			continue;	// RBAC limited to namespaces cannot list them
		if (res->cluster_scoped || !b->kube_namespaces[0]) {
			add_watch(k, res, "");
			continue;
		}
		for (const char *p = b->kube_namespaces; *p;) {
			char ns[64];
			size_t n = strcspn(p, ",");

			snprintf(ns, sizeof(ns), "%.*s", (int)n, p);
			if (add_watch(k, res, ns) < 0) {
				snprintf(err, err_len, "too many namespaces x kinds (%d watches)",
					 KUBE_MAX_WATCHES);
				r = -E2BIG;
				goto out;
			}
			p += n + (p[n] == ',');
		}
	}
	for (int i = 0; i < k->num_watches; i++)
		kw_connect(&k->watches[i]);
	log_emit(LOG_INFO, NULL, "kubernetes: watching %s (%d watches%s%s, domain %s)", k->server,
		 k->num_watches, b->kube_namespaces[0] ? ", namespaces " : "",
		 b->kube_namespaces, k->domain);
	ctl->kube = k;
	kconfig_free(&kc);
	return 0;
out:
	kconfig_free(&kc);
	log_emit(LOG_ERR, NULL, "kubernetes: %s", err);
	if (k->tls_cli)
		tls_client_unref(k->tls_cli);
	free(k->watches);
	free(k);
	return r < 0 ? r : -EINVAL;
}

void kube_stop(struct kube *k)
{
	if (!k)
		return;
	k->stopping = true;
	ring_timer_cancel(&k->ctl->ring, &k->settle);
	for (int i = 0; i < k->num_watches; i++)
		kw_drop(&k->watches[i], 0);
}

void kube_free(struct kube *k)
{
	if (!k)
		return;
	for (int i = 0; i < k->num_watches; i++) {
		store_free(&k->watches[i].store);
		store_free(&k->watches[i].pending);
		buf_cleanup(&k->watches[i].in);
		buf_cleanup(&k->watches[i].body);
	}
	if (k->tls_cli)
		tls_client_unref(k->tls_cli);
	dirty_clear(k);
	kexec_free(&k->exec);
	free(k->watches);
	free(k);
}

bool kube_synced(const struct kube *k)
{
	for (int i = 0; k && i < k->num_watches; i++)
		if (!k->watches[i].synced)
			return false;
	return true;
}

bool kube_mesh_synced(const struct kube *k)
{
	for (int i = 0; k && i < k->num_watches; i++)
		if (k->watches[i].res->type == KR_CONFIGMAP && !k->watches[i].synced)
			return false;
	return k != NULL;
}

bool kube_appended_synced(const struct kube *k)
{
	return !k || k->appended_synced;
}

void kube_syncz(const struct kube *k, struct buf *o)
{
	for (int i = 0; k && i < k->num_watches; i++) {
		const struct kwatch *w = &k->watches[i];
		const char *st = !w->synced ? (w->last_error[0] ? "ERROR" : "SYNCING") :
				 w->not_served ? "NOT_SERVED" :
				 w->state == KW_WATCH && w->c ? "SYNCED" : "STALE";

		buf_appends(o, ",{\"source\":\"kubernetes\",\"server\":");
		json_append_cstr(o, k->server);
		buf_appends(o, ",\"resource\":");
		json_append_cstr(o, w->res->plural);
		buf_appends(o, ",\"namespace\":");
		json_append_cstr(o, w->ns[0] ? w->ns : NULL);
		buf_appendf(o, ",\"status\":\"%s\",\"resource_version\":", st);
		json_append_cstr(o, w->rv);
		buf_appendf(o, ",\"objects\":%u,\"lists\":%llu,\"watches\":%llu,\"events\":%llu,"
			    "\"relists_expired\":%llu,\"failures\":%llu,\"last_error\":",
			    w->store.live, (unsigned long long)w->lists,
			    (unsigned long long)w->watches, (unsigned long long)w->events,
			    (unsigned long long)w->relists_expired, (unsigned long long)w->failures);
		json_append_cstr(o, w->last_error[0] ? w->last_error : NULL);
		buf_appends(o, "}");
	}
	if (k) {
		buf_appendf(o, ",{\"source\":\"kubernetes-istio\",\"rejected\":%llu,\"last_rejected\":",
			    (unsigned long long)k->rejected);
		json_append_cstr(o, k->last_rejected[0] ? k->last_rejected : NULL);
		buf_appends(o, "}");
	}
}

// ---- turning the watches into configuration ----

static const struct kwatch *watch_of(const struct kube *k, enum kres_kind type, int from,
				     int *next)
{
	for (int i = from; i < k->num_watches; i++) {
		if (k->watches[i].res->type == type) {
			*next = i + 1;
			return &k->watches[i];
		}
	}
	return NULL;
}

static const struct kobj *find_obj(const struct kube *k, enum kres_kind type, const char *key)
{
	const struct kwatch *w;
	const struct kobj *o;
	int next = 0;

	while ((w = watch_of(k, type, next, &next)))
		if ((o = store_get(&w->store, key)))
			return o;
	return NULL;
}

// load_istio validates one Istio object from the API. List items come
// without apiVersion and kind; they are put back from the watch.
static void load_istio(struct kube *k, const struct kres *res, struct kobj *o,
		       struct istio_config *cfg)
{
	struct istio_error errs[KUBE_MAX_ERRS];
	struct ynode api = { 0 }, kind = { 0 }, root;
	struct ypair *pairs;
	const struct ynode *obj = o->obj;
	char name[600];
	size_t n = 0;
	int nerr = 0, r;

	if (!(pairs = malloc((obj->len + 2) * sizeof(*pairs))))
		return;
	api.type = kind.type = YN_SCALAR;
	api.style = kind.style = YS_DOUBLE_QUOTED;
	api.tag = kind.tag = YTAG_STR;
	api.str = res->api_version;
	api.len = strlen(res->api_version);
	kind.str = res->kind;
	kind.len = strlen(res->kind);
	{
		static struct ynode kapi = { .type = YN_SCALAR, .tag = YTAG_STR, .str = "apiVersion",
					     .len = 10 };
		static struct ynode kkind = { .type = YN_SCALAR, .tag = YTAG_STR, .str = "kind",
					      .len = 4 };
		const struct ynode *given_api = yaml_tree_map_get(obj, "apiVersion");

		// a watch event names its own version (v1beta1, ...): keep it
		pairs[n++] = (struct ypair){ &kapi, given_api ? (struct ynode *)given_api : &api };
		pairs[n++] = (struct ypair){ &kkind, &kind };
	}
	for (size_t i = 0; i < obj->len; i++) {
		const struct ynode *key = obj->pairs[i].key;

		if ((key->len == 10 && !memcmp(key->str, "apiVersion", 10)) ||
		    (key->len == 4 && !memcmp(key->str, "kind", 4)))
			continue;
		pairs[n++] = obj->pairs[i];
	}
	root = *obj;
	root.pairs = pairs;
	root.len = n;
	snprintf(name, sizeof(name), "kubernetes %s %s resourceVersion %s", res->kind, o->key,
		 o->rv[0] ? o->rv : "?");
	r = istio_load_node(name, &root, cfg, errs, KUBE_MAX_ERRS, &nerr);
	free(pairs);
	if (r < 0 && nerr) {
		k->rejected++;
		snprintf(k->last_rejected, sizeof(k->last_rejected), "%s", errs[0].msg);
		if (strcmp(o->reported_rv, o->rv)) {
			// once per version: every rebuild meets it again
			for (int i = 0; i < nerr; i++)
				log_emit(LOG_ERR, NULL, "config: %s (skipped)", errs[i].msg);
			memcpy(o->reported_rv, o->rv, sizeof(o->rv));
		}
	}
}

// protocol_of is Istio's kube port protocol: appProtocol, else the port
// name's prefix ("http-x", "grpc"), else NULL (detected).
const char *kube_port_protocol(const char *app, const char *name)
{
	static const struct {
		const char *word, *proto;
	} map[] = {
		{ "http", "HTTP" }, { "http2", "HTTP2" }, { "https", "HTTPS" }, { "grpc", "GRPC" },
		{ "grpc-web", "GRPC-WEB" }, { "tcp", "TCP" }, { "tls", "TLS" }, { "mongo", "MONGO" },
		{ "redis", "REDIS" }, { "mysql", "MYSQL" }, { "h2c", "HTTP2" },
		{ "kubernetes.io/h2c", "HTTP2" }, { "kubernetes.io/ws", "HTTP" },
		{ "kubernetes.io/wss", "HTTPS" },
	};
	char w[64];

	if (app && *app) {
		for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
			if (!strcasecmp(app, map[i].word))
				return map[i].proto;
	}
	if (!name || !*name)
		return NULL;
	if (!strncasecmp(name, "grpc-web", 8) && (name[8] == '\0' || name[8] == '-'))
		return "GRPC-WEB";
	snprintf(w, sizeof(w), "%.*s", (int)strcspn(name, "-"), name);
	for (size_t i = 0; i < 11; i++)	// the words, not the appProtocol-only values
		if (!strcasecmp(w, map[i].word) && strcmp(map[i].word, "h2c") &&
		    strcmp(map[i].word, "grpc-web"))
			return map[i].proto;
	return NULL;
}

struct svc_port {
	char name[80];		// the ServiceEntry port's name
	const char *svc_name;	// the Service port's own name ("" when unnamed)
	int64_t port;
	int64_t target;		// 0: by name or unset
};

static void append_labels(struct buf *o, const struct ynode *labels)
{
	bool first = true;

	buf_appends(o, "{");
	for (size_t i = 0; labels && labels->type == YN_MAP && i < labels->len; i++) {
		const struct ynode *v = labels->pairs[i].value;

		if (v->type != YN_SCALAR)
			continue;
		if (!first)
			buf_appends(o, ",");
		first = false;
		json_append_str(o, labels->pairs[i].key->str, labels->pairs[i].key->len);
		buf_appends(o, ":");
		json_append_str(o, v->str, v->len);
	}
	buf_appends(o, "}");
}

// service_entry writes the ServiceEntry of one Service as JSON into o:
// what istiod's Kubernetes registry makes of it. It returns false when the
// Service has nothing to route (no TCP port).
bool kube_service_json(const char *domain, const struct ynode *obj,
		       const struct ynode *const *slices, int num_slices, kube_pod_lookup *pods,
		       void *pods_arg, struct buf *o)
{
	const struct ynode *md = map_at(obj, "metadata"), *spec = map_at(obj, "spec");
	const char *name = md ? str_at(md, "name") : NULL, *ns = md ? str_at(md, "namespace") : NULL;
	const char *type = spec ? str_at(spec, "type") : NULL;
	const char *cip = spec ? str_at(spec, "clusterIP") : NULL;
	const char *ext = spec ? str_at(spec, "externalName") : NULL;
	const struct ynode *ports = spec ? seq_at(spec, "ports") : NULL, *ann;
	struct svc_port sp[64];
	int nsp = 0, neps = 0;
	bool external = type && !strcmp(type, "ExternalName");

	if (!name || !ns || !spec)
		return false;
	for (size_t i = 0; ports && i < ports->len && nsp < 64; i++) {
		const struct ynode *p = ports->items[i], *tp;
		const char *pn = str_at(p, "name"), *proto = str_at(p, "protocol");
		int64_t num = 0;

		if (proto && strcmp(proto, "TCP"))
			continue;	// UDP/SCTP: not proxied, as in Istio
		if (!yaml_tree_map_get(p, "port") ||
		    yaml_tree_scalar_int(yaml_tree_map_get(p, "port"), &num) < 0 || num < 1 ||
		    num > 65535)
			continue;
		sp[nsp].port = num;
		sp[nsp].svc_name = pn ? pn : "";
		sp[nsp].target = 0;
		if ((tp = yaml_tree_map_get(p, "targetPort")) && tp->type == YN_SCALAR &&
		    yaml_tree_scalar_kind(tp) == YK_INT)
			yaml_tree_scalar_int(tp, &sp[nsp].target);
		else if (!tp)
			sp[nsp].target = num;
		if (pn && *pn)
			snprintf(sp[nsp].name, sizeof(sp[nsp].name), "%s", pn);
		else
			snprintf(sp[nsp].name, sizeof(sp[nsp].name), "port-%lld", (long long)num);
		nsp++;
	}
	if (!nsp)
		return false;
	buf_appends(o, "{\"apiVersion\":\"networking.istio.io/v1\",\"kind\":\"ServiceEntry\","
		    "\"metadata\":{\"name\":");
	json_append_cstr(o, name);
	buf_appends(o, ",\"namespace\":");
	json_append_cstr(o, ns);
	buf_appends(o, "},\"spec\":{\"hosts\":[");
	buf_appendf(o, "\"%s.%s.svc.%s\"],", name, ns, domain);
	if (!external && cip && *cip && strcmp(cip, "None") && is_ip(cip)) {
		buf_appends(o, "\"addresses\":[");
		json_append_cstr(o, cip);
		buf_appends(o, "],");
	}
	buf_appends(o, "\"location\":\"MESH_INTERNAL\",\"ports\":[");
	for (int i = 0; i < nsp; i++) {
		const struct ynode *p = NULL;
		const char *proto;

		for (size_t j = 0; ports && j < ports->len; j++) {
			const char *pn = str_at(ports->items[j], "name");
			int64_t num = 0;

			yaml_tree_scalar_int(yaml_tree_map_get(ports->items[j], "port"), &num);
			if (num == sp[i].port && !strcmp(pn ? pn : "", sp[i].svc_name))
				p = ports->items[j];
		}
		proto = kube_port_protocol(p ? str_at(p, "appProtocol") : NULL, sp[i].svc_name);
		buf_appendf(o, "%s{\"number\":%lld,\"name\":", i ? "," : "", (long long)sp[i].port);
		json_append_cstr(o, sp[i].name);
		if (proto)
			buf_appendf(o, ",\"protocol\":\"%s\"", proto);
		if (sp[i].target > 0 && sp[i].target <= 65535)
			buf_appendf(o, ",\"targetPort\":%lld", (long long)sp[i].target);
		buf_appends(o, "}");
	}
	buf_appends(o, "],");
	if ((ann = md ? map_at(md, "annotations") : NULL) &&
	    str_at(ann, "networking.istio.io/exportTo")) {
		const char *e = str_at(ann, "networking.istio.io/exportTo");

		buf_appends(o, "\"exportTo\":[");
		for (int first = 1; *e; first = 0) {
			size_t n = strcspn(e, ",");

			while (n && *e == ' ')
				e++, n--;
			if (!first)
				buf_appends(o, ",");
			json_append_str(o, e, n);
			e += n + (e[n] == ',');
		}
		buf_appends(o, "],");
	}
	if (external) {
		buf_appends(o, "\"resolution\":\"DNS\",\"endpoints\":[{\"address\":");
		json_append_cstr(o, ext ? ext : "");
		buf_appends(o, "}]}}");
		return ext && *ext;
	}
	buf_appends(o, "\"resolution\":\"STATIC\",\"endpoints\":[");
	for (int s = 0; s < num_slices; s++) {
		const struct ynode *sl = slices[s], *eps = seq_at(sl, "endpoints");
		const struct ynode *sports = seq_at(sl, "ports");
		const char *at = str_at(sl, "addressType");

		if (at && strcmp(at, "IPv4") && strcmp(at, "IPv6"))
			continue;	// FQDN slices are not Pod endpoints
		for (size_t e = 0; eps && e < eps->len; e++) {
			const struct ynode *ep = eps->items[e], *cond = map_at(ep, "conditions");
			const struct ynode *addrs = seq_at(ep, "addresses"), *ready, *ref;
			const struct ynode *pod = NULL;
			const char *ip;
			int rb = 1;

			if (!addrs || !addrs->len || addrs->items[0]->type != YN_SCALAR)
				continue;
			ip = addrs->items[0]->str;
			// ready unset means ready (the API's rule); terminating
			// and not-ready endpoints take no new traffic
			if (cond && (ready = yaml_tree_map_get(cond, "ready")) &&
			    !yaml_tree_is_null(ready) && (yaml_tree_scalar_bool(ready, &rb) < 0 || !rb))
				continue;
			if (!is_ip(ip))
				continue;
			if ((ref = map_at(ep, "targetRef")) && str_at(ref, "kind") &&
			    !strcmp(str_at(ref, "kind"), "Pod") && str_at(ref, "name")) {
				char key[256];

				snprintf(key, sizeof(key), "%s/%s",
					 str_at(ref, "namespace") ? str_at(ref, "namespace") : ns,
					 str_at(ref, "name"));
				pod = pods ? pods(pods_arg, key) : NULL;
			}
			buf_appends(o, neps++ ? ",{\"address\":" : "{\"address\":");
			json_append_cstr(o, ip);
			buf_appends(o, ",\"ports\":{");
			for (int i = 0, np = 0; i < nsp; i++) {
				int64_t num = sp[i].target;

				for (size_t j = 0; sports && j < sports->len; j++) {
					const char *pn = str_at(sports->items[j], "name");
					const struct ynode *pv = yaml_tree_map_get(sports->items[j], "port");

					if (!strcmp(pn ? pn : "", sp[i].svc_name) && pv)
						yaml_tree_scalar_int(pv, &num);
				}
				if (num < 1 || num > 65535)
					continue;
				buf_appends(o, np++ ? "," : "");
				json_append_cstr(o, sp[i].name);
				buf_appendf(o, ":%lld", (long long)num);
			}
			buf_appends(o, "}");
			if (pod) {
				const struct ynode *pmd = map_at(pod, "metadata");
				const struct ynode *pspec = map_at(pod, "spec");
				const char *sa = pspec ? str_at(pspec, "serviceAccountName") : NULL;

				buf_appends(o, ",\"labels\":");
				append_labels(o, pmd ? map_at(pmd, "labels") : NULL);
				if (sa && *sa) {
					buf_appends(o, ",\"serviceAccount\":");
					json_append_cstr(o, sa);
				}
			}
			buf_appends(o, "}");
		}
	}
	buf_appends(o, "]}}");
	return true;
}

static int cmp_slice(const void *a, const void *b)
{
	const struct kobj *x = *(const struct kobj *const *)a, *y = *(const struct kobj *const *)b;

	return strcmp(x->key, y->key);
}

static const struct ynode *pod_lookup(void *arg, const char *key)
{
	const struct kobj *o = find_obj(arg, KR_POD, key);

	return o ? o->obj : NULL;
}

// slice_group is the EndpointSlices of one Service.
struct slice_group {
	const struct kobj **v;
	uint32_t num, cap;
};

static int group_add(struct slice_group *g, const struct kobj *s)
{
	if (g->num == g->cap) {
		uint32_t nc = g->cap ? g->cap * 2 : 4;
		void *nv = realloc(g->v, nc * sizeof(*g->v));

		if (!nv)
			return -ENOMEM;
		g->v = nv;
		g->cap = nc;
	}
	g->v[g->num++] = s;
	return 0;
}

static void groups_free(struct slice_group *g, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(g[i].v);
	free(g);
}

// load_service adds the ServiceEntry of Service s with its slices g (NULL:
// none) to cfg, reusing o. It returns 1 when added, 0 when the Service has
// nothing to route, -EINVAL when the entry was refused (logged once per
// version, counted), -ENOMEM.
static int load_service(struct kube *k, const struct kobj *s, struct slice_group *g,
			struct istio_config *cfg, struct buf *o)
{
	const struct ynode *slice_objs[KUBE_MAX_SLICES];
	struct istio_error errs[KUBE_MAX_ERRS];
	struct kdoc d = { 0 };
	struct yaml_error ye;
	char name[600];
	int nsl = g ? (int)g->num : 0, nerr = 0, r;

	if (nsl) {
		// a stable order: the snapshot's version must not change with
		// the watch's
		qsort(g->v, (size_t)nsl, sizeof(*g->v), cmp_slice);
	}
	o->off = o->len = 0;
	if (nsl > KUBE_MAX_SLICES) {
		log_ratelimited(LOG_WARN, NULL, "kubernetes: Service %s: %d EndpointSlices, only the "
				"first %d are used", s->key, nsl, KUBE_MAX_SLICES);
		nsl = KUBE_MAX_SLICES;
	}
	for (int j = 0; j < nsl; j++)
		slice_objs[j] = g->v[j]->obj;
	if (!kube_service_json(k->domain, s->obj, slice_objs, nsl, pod_lookup, k, o))
		return 0;
	if (json_tree_parse(&d.t, buf_head(o), buf_avail(o), &ye) < 0) {
		log_ratelimited(LOG_ERR, NULL, "kubernetes: Service %s: internal JSON error: %s",
				s->key, ye.msg);
		yaml_tree_free(&d.t);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "kubernetes Service %s resourceVersion %s", s->key,
		 s->rv[0] ? s->rv : "?");
	r = istio_load_generated(name, d.t.docs[0], cfg, errs, KUBE_MAX_ERRS, &nerr);
	yaml_tree_free(&d.t);
	if (r < 0 && nerr) {
		k->rejected++;
		snprintf(k->last_rejected, sizeof(k->last_rejected), "%s", errs[0].msg);
		if (strcmp(s->reported_rv, s->rv)) {
			log_emit(LOG_ERR, NULL, "config: %s (skipped)", errs[0].msg);
			memcpy(((struct kobj *)s)->reported_rv, s->rv, sizeof(s->rv));
		}
		return -EINVAL;
	}
	return r < 0 ? r : 1;
}

// group_slices puts every EndpointSlice whose Service is in by_svc (its
// value: the group) into groups; with add, Services not there yet get a
// new group each (*ngroups counts them).
static int group_slices(struct kube *k, struct strmap *by_svc, bool add,
			struct slice_group **groups, uint32_t *ngroups)
{
	const struct kwatch *w;
	uint32_t capg = *ngroups;
	int next = 0;

	while ((w = watch_of(k, KR_SLICE, next, &next))) {
		for (uint32_t i = 0; i < w->store.num; i++) {
			const struct kobj *s = &w->store.v[i];
			uint32_t g;
			int kl;

			if (!s->key || !s->group)
				continue;
			kl = (int)strlen(s->group);
			if (!strmap_get(by_svc, s->group, (size_t)kl, &g)) {
				if (!add)
					continue;
				if (*ngroups == capg) {
					uint32_t nc = capg ? capg * 2 : 64;
					void *ng = realloc(*groups, nc * sizeof(**groups));

					if (!ng)
						return -ENOMEM;
					*groups = ng;
					capg = nc;
				}
				g = (*ngroups)++;
				memset(&(*groups)[g], 0, sizeof((*groups)[g]));
				if (strmap_set(by_svc, s->group, (size_t)kl, g) < 0)
					return -ENOMEM;
			}
			if (group_add(&(*groups)[g], s) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

// load_services adds one ServiceEntry per Service (with its slices).
static int load_services(struct kube *k, struct istio_config *cfg)
{
	struct strmap by_svc = { 0 };
	struct slice_group *groups = NULL;
	uint32_t ngroups = 0;
	const struct kwatch *w;
	struct buf o;
	int next = 0, err;

	buf_init(&o);
	err = group_slices(k, &by_svc, true, &groups, &ngroups);
	while (!err && (w = watch_of(k, KR_SERVICE, next, &next))) {
		for (uint32_t i = 0; i < w->store.num && !err; i++) {
			const struct kobj *s = &w->store.v[i];
			uint32_t g;

			if (!s->key)
				continue;
			if (load_service(k, s, strmap_get(&by_svc, s->key, strlen(s->key), &g) ?
					       &groups[g] : NULL, cfg, &o) == -ENOMEM)
				err = -ENOMEM;
		}
	}
	groups_free(groups, ngroups);
	strmap_free(&by_svc);
	buf_cleanup(&o);
	return err;
}

static void dirty_clear(struct kube *k)
{
	k->dirty_all = false;
	strmap_free(&k->dirty_svc);
	strmap_free(&k->dirty_pod);
}

int kube_append(struct kube *k, struct istio_config *cfg)
{
	if (!k)
		return 0;
	dirty_clear(k);
	k->appended_synced = kube_synced(k);
	for (int i = 0; i < k->num_watches; i++) {
		struct kwatch *w = &k->watches[i];

		if (w->res->type != KR_ISTIO)
			continue;
		for (uint32_t j = 0; j < w->store.num; j++)
			if (w->store.v[j].key)
				load_istio(k, w->res, &w->store.v[j], cfg);
	}
	return load_services(k, cfg);
}

// pods_to_services adds to dirty_svc the Services whose slices name a pod
// of dirty_pod.
static int pods_to_services(struct kube *k)
{
	const struct kwatch *w;
	uint64_t *bits = calloc(k->dirty_pod.num + 1, sizeof(*bits));
	uint32_t nb = 0;
	int next = 0;

	if (!bits)
		return -ENOMEM;
	for (uint32_t i = 0; i < k->dirty_pod.cap; i++)
		if (k->dirty_pod.slots[i].key)
			bits[nb++] = pod_bits(k->dirty_pod.slots[i].key, k->dirty_pod.slots[i].len);
	while ((w = watch_of(k, KR_SLICE, next, &next))) {
		for (uint32_t i = 0; i < w->store.num; i++) {
			const struct kobj *s = &w->store.v[i];
			const struct ynode *eps, *md;
			bool maybe = false;
			char key[512];
			int kl;

			for (uint32_t b = 0; s->key && s->group && b < nb && !maybe; b++)
				maybe = (s->pods & bits[b]) == bits[b];
			if (!maybe)
				continue;
			eps = seq_at(s->obj, "endpoints");
			md = map_at(s->obj, "metadata");
			for (size_t e = 0; eps && e < eps->len; e++) {
				uint32_t v;

				kl = slice_ref_pod(eps->items[e], md ? str_at(md, "namespace") : NULL, key,
						   sizeof(key));
				if (kl < 0 || !strmap_get(&k->dirty_pod, key, (size_t)kl, &v))
					continue;
				if (strmap_set(&k->dirty_svc, s->group, strlen(s->group), 0) < 0) {
					free(bits);
					return -ENOMEM;
				}
				break;	// the slice's Service is in: next slice
			}
		}
	}
	free(bits);
	return 0;
}

int kube_append_endpoints(struct kube *k, struct istio_config *part)
{
	struct slice_group *groups = NULL;
	uint32_t ngroups = 0, capg = 0;
	struct buf o;
	int err = 0;

	if (!k || k->dirty_all)
		return -ESRCH;
	if (k->dirty_pod.num && pods_to_services(k) < 0)
		return -ENOMEM;
	// one group per dirty Service (the map's value), then their slices
	capg = k->dirty_svc.num;
	if (capg && !(groups = calloc(capg, sizeof(*groups))))
		return -ENOMEM;
	for (uint32_t i = 0; i < k->dirty_svc.cap; i++)
		if (k->dirty_svc.slots[i].key)
			k->dirty_svc.slots[i].val = ngroups++;
	buf_init(&o);
	if (ngroups)
		err = group_slices(k, &k->dirty_svc, false, &groups, &ngroups);
	for (uint32_t i = 0; !err && i < k->dirty_svc.cap; i++) {
		const struct strmap_slot *sl = &k->dirty_svc.slots[i];
		const struct kobj *svc;
		char key[512];

		if (!sl->key || sl->len >= sizeof(key))
			continue;
		memcpy(key, sl->key, sl->len);
		key[sl->len] = '\0';
		if (!(svc = find_obj(k, KR_SERVICE, key)))
			continue;	// slices without their Service: nothing to route
		// anything but an entry made (nothing to route, refused) is
		// not an endpoint change: the full way decides
		if (load_service(k, svc, &groups[sl->val], part, &o) != 1)
			err = -ESRCH;
	}
	groups_free(groups, ngroups);
	buf_cleanup(&o);
	if (!err)
		dirty_clear(k);
	return err;
}

const char *kube_mesh_config(const struct kube *k, size_t *len, char *rv, size_t rv_len)
{
	const struct kwatch *w;
	const struct kobj *o;
	const struct ynode *data, *mesh;
	int next = 0;

	if (!k || !(w = watch_of(k, KR_CONFIGMAP, 0, &next)) ||
	    !(o = store_get(&w->store, "istio-system/istio")) || !(data = map_at(o->obj, "data")) ||
	    !(mesh = yaml_tree_map_get(data, "mesh")) || mesh->type != YN_SCALAR)
		return NULL;
	snprintf(rv, rv_len, "%s", o->rv);
	*len = mesh->len;
	return mesh->str;
}

// ---- TokenReview ------------------------------------------------------------
//
// One connection per review (certificate requests are rare: each workload
// asks once per rotation), POST /apis/authentication.k8s.io/v1/tokenreviews,
// the answer read whole (bounded) and parsed as strict JSON.

enum { KUBE_REVIEW_TIMEOUT_MS = 10000, KUBE_REVIEW_MAX = 256 * 1024 };

struct kube_review {
	struct sock s;
	struct kube *k;
	kube_review_cb *cb;		// NULL once cancelled or done
	void *arg;
	char *body;			// the request body
	struct buf in;
	struct ring_timer timer;
	bool closing;
	char audience[64];
};

static struct kube_review *rev_of(struct sock *s)
{
	return container_of(s, struct kube_review, s);
}

// rev_finish reports once and closes.
static void rev_finish(struct kube_review *r, int err, const char *ns, const char *sa,
		       const char *why)
{
	kube_review_cb *cb = r->cb;

	r->cb = NULL;
	if (cb)
		cb(r->arg, err, ns, sa, why);
	if (!r->closing) {
		r->closing = true;
		ring_timer_cancel(&r->k->ctl->ring, &r->timer);
		sock_close(&r->s, false);
	}
}

static void rev_timeout(struct ring_timer *t)
{
	rev_finish(container_of(t, struct kube_review, timer), -ETIMEDOUT, NULL, NULL,
		   "TokenReview: the Kubernetes API did not answer in time");
}

static void rev_send(struct kube_review *r)
{
	struct buf *o = sock_out(&r->s);
	char token[8192], why[512];

	if (api_token(r->k, token, why, sizeof(why)) < 0) {
		char msg[600];

		snprintf(msg, sizeof(msg), "TokenReview: meshgate's own API token: %s", why);
		rev_finish(r, -EACCES, NULL, NULL, msg);
		return;
	}
	buf_appends(o, "POST /apis/authentication.k8s.io/v1/tokenreviews HTTP/1.1\r\nHost: ");
	append_host(o, r->k);
	buf_appendf(o, "\r\nUser-Agent: meshgate\r\nAccept: application/json\r\n"
		    "Content-Type: application/json\r\nConnection: close\r\n"
		    "Content-Length: %zu\r\n", strlen(r->body));
	if (token[0])
		buf_appendf(o, "Authorization: Bearer %s\r\n", token);
	buf_appends(o, "\r\n");
	buf_appends(o, r->body);
	explicit_bzero(token, sizeof(token));
	sock_flush(&r->s);
}

static void rev_handshake(struct sock *s, struct tls_conn *t, int err)
{
	struct kube_review *r = rev_of(s);

	if (!r->cb)
		return;
	if (err < 0) {
		char why[256];

		snprintf(why, sizeof(why), "TokenReview: TLS with %.100s: %.100s", r->k->server,
			 tls_conn_error(t));
		rev_finish(r, -EIO, NULL, NULL, why);
		return;
	}
	rev_send(r);
}

static void rev_connected(struct sock *s, int err)
{
	struct kube_review *r = rev_of(s);
	struct kube *k = r->k;

	if (!r->cb)
		return;
	if (err < 0) {
		rev_finish(r, -EIO, NULL, NULL, "TokenReview: cannot connect to the Kubernetes API");
		return;
	}
	sock_recv_start(s);
	if (!k->tls) {
		rev_send(r);
		return;
	}
	if (api_tls_start(k, s, rev_handshake) < 0)
		rev_finish(r, -EIO, NULL, NULL, "TokenReview: TLS setup failed");
}

static void rev_body_data(void *arg, const char *p, size_t len)
{
	buf_append(arg, p, len);
}

// rev_answer reads a complete TokenReview response.
static void rev_answer(struct kube_review *r, int status, const char *body, size_t len)
{
	struct yaml_tree t;
	struct yaml_error ye;
	const struct ynode *st, *user, *auds, *au;
	const char *name, *e;
	char why[384], ns[64], sa[256];
	int ok = 0;

	if (status != 201 && status != 200) {
		snprintf(why, sizeof(why), "TokenReview: the Kubernetes API answered %d%s", status,
			 status == 403 ? " (meshgate may not create tokenreviews)" : "");
		rev_finish(r, -EIO, NULL, NULL, why);
		return;
	}
	if (json_tree_parse(&t, body, len, &ye) < 0 || !t.docs[0] || t.docs[0]->type != YN_MAP) {
		yaml_tree_free(&t);
		rev_finish(r, -EIO, NULL, NULL, "TokenReview: malformed answer");
		return;
	}
	st = map_at(t.docs[0], "status");
	au = st ? yaml_tree_map_get(st, "authenticated") : NULL;
	if (!st || !au || yaml_tree_scalar_bool(au, &ok) < 0 || !ok) {
		e = st ? str_at(st, "error") : NULL;
		snprintf(why, sizeof(why), "the token is not authenticated by Kubernetes%s%.200s",
			 e ? ": " : "", e ? e : "");
		yaml_tree_free(&t);
		rev_finish(r, -EACCES, NULL, NULL, why);
		return;
	}
	// the token must be meant for us: its audiences, when the API says
	if ((auds = seq_at(st, "audiences"))) {
		bool hit = false;

		for (size_t i = 0; i < auds->len; i++)
			hit |= auds->items[i]->type == YN_SCALAR && !strcmp(auds->items[i]->str, r->audience);
		if (!hit) {
			snprintf(why, sizeof(why), "the token's audiences do not include %s", r->audience);
			yaml_tree_free(&t);
			rev_finish(r, -EACCES, NULL, NULL, why);
			return;
		}
	}
	user = map_at(st, "user");
	name = user ? str_at(user, "username") : NULL;
	// system:serviceaccount:<ns>:<sa>
	if (!name || strncmp(name, "system:serviceaccount:", 22) || !(e = strchr(name + 22, ':')) ||
	    e == name + 22 || (size_t)(e - name - 22) >= sizeof(ns) || !e[1] ||
	    strlen(e + 1) >= sizeof(sa) || strchr(e + 1, ':')) {
		snprintf(why, sizeof(why), "the token is not a service account's (user %.128s)",
			 name ? name : "none");
		yaml_tree_free(&t);
		rev_finish(r, -EACCES, NULL, NULL, why);
		return;
	}
	snprintf(ns, sizeof(ns), "%.*s", (int)(e - name - 22), name + 22);
	snprintf(sa, sizeof(sa), "%s", e + 1);
	yaml_tree_free(&t);
	rev_finish(r, 0, ns, sa, NULL);
}

static void rev_input(struct kube_review *r, bool at_eof)
{
	struct h1_msg msg;
	size_t scanned = 0;
	ssize_t hl = h1_head_end(buf_head(&r->in), buf_avail(&r->in), &scanned);

	if (hl == -EAGAIN) {
		if (at_eof || buf_avail(&r->in) > H1_MAX_HEAD_BYTES)
			rev_finish(r, -EIO, NULL, NULL, "TokenReview: bad answer head");
		return;
	}
	if (hl < 0 || h1_parse_response(&msg, buf_head(&r->in), (size_t)hl,
					(struct h1_str){ "POST", 4 }) < 0) {
		rev_finish(r, -EIO, NULL, NULL, "TokenReview: malformed answer head");
		return;
	}
	if (msg.framing == H1_BODY_LENGTH) {
		if (buf_avail(&r->in) - (size_t)hl < msg.content_length) {
			if (at_eof)
				rev_finish(r, -EIO, NULL, NULL, "TokenReview: truncated answer");
			return;
		}
		rev_answer(r, msg.status, buf_head(&r->in) + hl, (size_t)msg.content_length);
	} else if (msg.framing == H1_BODY_CHUNKED || msg.framing == H1_BODY_EOF) {
		struct buf body;
		int done = 0;

		buf_init(&body);
		if (msg.framing == H1_BODY_CHUNKED) {
			struct h1_chunked ch;
			struct h1_chunked_out out = { rev_body_data, NULL, &body };
			ssize_t n;

			// the whole answer is here or not: decode from the start
			h1_chunked_init(&ch);
			n = h1_chunked_feed(&ch, buf_head(&r->in) + hl, buf_avail(&r->in) - (size_t)hl,
					    &out, &done);
			if (n < 0) {
				buf_cleanup(&body);
				rev_finish(r, -EIO, NULL, NULL, "TokenReview: malformed chunked answer");
				return;
			}
		} else {
			done = at_eof;
			buf_append(&body, buf_head(&r->in) + hl, buf_avail(&r->in) - (size_t)hl);
		}
		if (!done) {
			buf_cleanup(&body);
			if (at_eof)
				rev_finish(r, -EIO, NULL, NULL, "TokenReview: truncated answer");
			return;
		}
		rev_answer(r, msg.status, buf_head(&body), buf_avail(&body));
		buf_cleanup(&body);
	} else {
		rev_answer(r, msg.status, "", 0);
	}
}

static void rev_recv(struct sock *s, const char *data, size_t len)
{
	struct kube_review *r = rev_of(s);

	if (!r->cb)
		return;
	if (buf_avail(&r->in) + len > KUBE_REVIEW_MAX || buf_append(&r->in, data, len) < 0) {
		rev_finish(r, -EIO, NULL, NULL, "TokenReview: answer too large");
		return;
	}
	rev_input(r, false);
}

static void rev_eof(struct sock *s, int err)
{
	struct kube_review *r = rev_of(s);

	if (!r->cb) {
		if (!r->closing) {
			r->closing = true;
			sock_close(&r->s, false);
		}
		return;
	}
	rev_input(r, true);
	if (r->cb)
		rev_finish(r, -EIO, NULL, NULL, "TokenReview: the Kubernetes API closed the connection");
}

static void rev_send_error(struct sock *s, int err)
{
	rev_eof(s, err);
}

static void rev_closed(struct sock *s)
{
	struct kube_review *r = rev_of(s);

	r->k->conns--;
	buf_cleanup(&r->in);
	free(r->body);
	free(r);
}

static const struct sock_ops rev_ops = {
	.recv = rev_recv,
	.eof = rev_eof,
	.send_error = rev_send_error,
	.connected = rev_connected,
	.closed = rev_closed,
};

struct kube_review *kube_token_review(struct kube *k, const char *token, size_t len,
				      const char *audience, kube_review_cb *cb, void *arg)
{
	struct kube_review *r;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct buf b;
	int fd;

	if (!k || k->stopping || server_addr(k, &ss, &sl) < 0)
		return NULL;
	if (!(r = calloc(1, sizeof(*r))))
		return NULL;
	buf_init(&b);
	buf_appends(&b, "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
		    "\"spec\":{\"token\":");
	json_append_str(&b, token, len);
	buf_appends(&b, ",\"audiences\":[");
	json_append_cstr(&b, audience);
	buf_appends(&b, "]}}");
	if (buf_append(&b, "", 1) < 0 ||
	    (fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		buf_cleanup(&b);
		free(r);
		return NULL;
	}
	r->body = b.data;	// NUL-terminated above
	r->k = k;
	r->cb = cb;
	r->arg = arg;
	snprintf(r->audience, sizeof(r->audience), "%s", audience);
	k->conns++;
	sock_init(&r->s, &k->ctl->ring, fd, &rev_ops);
	ring_timer_set(&k->ctl->ring, &r->timer, KUBE_REVIEW_TIMEOUT_MS, rev_timeout);
	sock_connect(&r->s, (const struct sockaddr *)&ss, sl);
	return r;
}

void kube_review_cancel(struct kube_review *r)
{
	if (!r)
		return;
	r->cb = NULL;
	if (!r->closing) {
		r->closing = true;
		ring_timer_cancel(&r->k->ctl->ring, &r->timer);
		sock_close(&r->s, false);
	}
}
