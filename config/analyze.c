// SPDX-License-Identifier: Apache-2.0
// analyze.c: `meshgate analyze`'s checks: Istio resources against each other
// and against the Kubernetes objects beside them, with istioctl analyze's codes.
//
// Each check follows one analyzer of istio/istio pkg/config/analysis/analyzers
// (named at the check), with its message text from msg/messages.yaml. Where
// meshgate knows more than istioctl does offline (a Deployment's pod template
// is a workload; a subset is matched against its own service's workloads, not
// every pod of the mesh) it says so at the check.
#include "config/analyze.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/arena.h"
#include "config/istio.h"
#include "config/yaml.h"

enum {
	MAX_LOAD_ERRS = 32,	// loader errors kept per document
	MAX_TEXT = 2048,	// one message's text
};

#define ROOT_NAMESPACE "istio-system"	// MeshConfig rootNamespace's default
#define CLUSTER_DOMAIN "cluster.local"

// RK_* index the Istio kinds whose documents are kept (for field lines),
// in the order of istio_config's arrays.
enum {
	RK_SE = 0, RK_VS, RK_DR, RK_PA, RK_WE, RK_SC, RK_AP, RK_RA, RK_GW, RK_WG, RK_TM,
	RK_NUM
};

struct doclist {
	const struct ynode **v;		// v[i] is the document of the kind's i-th resource
	int num, cap;
};

struct an_port {
	uint32_t port;
	uint32_t target_port;	// 0: unset or named
	const char *name;
	const char *protocol;	// as written; NULL = TCP (Kubernetes' default)
};

// an_svc is one entry of the registry: a Kubernetes Service or a
// ServiceEntry (se set), as Istio's analyzers see both.
struct an_svc {
	const char *ns, *name;
	const struct service_entry *se;	// NULL: a Kubernetes Service
	const struct kv *selector;	// Service spec.selector / SE workloadSelector
	int num_selector;
	struct an_port *ports;
	int num_ports;
	const char *export_to;	// Service: networking.istio.io/exportTo annotation
};

// an_workload is what runs, or will: a Pod, a controller's pod template, a
// WorkloadEntry, a WorkloadGroup's template.
struct an_workload {
	const char *kind, *ns, *name;
	const struct kv *labels;
	int num_labels;
	bool out_of_mesh;	// sidecar.istio.io/inject: "false"
};

struct an_namespace {
	const char *name;
	const struct kv *labels;
	int num_labels;
};

// an_host is one (visibility scope, FQDN) key of the registry, as Istio's
// util.InitServiceEntryHostMap builds them.
struct an_host {
	const char *scope;	// "*" or a namespace
	const char *fqdn;
	const struct an_svc *svc;
};

struct analyze_priv {
	struct arena ar;		// every string and array below, unless noted
	struct istio_config cfg;
	struct yaml_tree **trees;	// malloc'd; kept so documents stay readable
	int num_trees, cap_trees;
	struct doclist docs[RK_NUM];	// malloc'd arrays
	struct an_svc *ksvcs;		// Kubernetes Services (malloc'd)
	int num_ksvcs, cap_ksvcs;
	struct an_workload *wls;	// malloc'd
	int num_wls, cap_wls;
	struct an_namespace *nss;	// Namespace objects (malloc'd)
	int num_nss, cap_nss;
	// built by analyze_run
	struct an_svc *svcs;
	int num_svcs;
	struct an_host *hosts;
	int num_hosts;
	int cap_msgs, cap_problems;
	bool oom;
};

// ---- small helpers ----

static int grow(void **arr, int *cap, int num, size_t size)
{
	void *p;
	int ncap;

	if (num < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, (size_t)ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

#define PUSH(arr, num, cap) \
	(grow((void **)&(arr), &(cap), (num), sizeof(*(arr))) < 0 ? NULL : &(arr)[(num)++])

static const char *ystr(const struct ynode *n)
{
	if (!n || n->type != YN_SCALAR || yaml_tree_is_null(n))
		return NULL;
	return n->str;
}

static const struct ynode *yget(const struct ynode *m, const char *key)
{
	return m ? yaml_tree_map_get(m, key) : NULL;
}

static const struct ynode *yat(const struct ynode *s, size_t i)
{
	return s && s->type == YN_SEQ && i < s->len ? s->items[i] : NULL;
}

static size_t ylen(const struct ynode *s)
{
	return s && s->type == YN_SEQ ? s->len : 0;
}

// ypath walks "a.b[2].c" from n; NULL when any step is missing.
static const struct ynode *ypath(const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static const struct ynode *ypath(const struct ynode *n, const char *fmt, ...)
{
	char path[256], key[128];
	const char *p = path;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	while (n && *p) {
		if (*p == '.') {
			p++;
		} else if (*p == '[') {
			char *end;
			unsigned long i = strtoul(p + 1, &end, 10);

			n = yat(n, i);
			p = *end == ']' ? end + 1 : end;
		} else {
			size_t l = strcspn(p, ".[");

			if (l >= sizeof(key))
				return NULL;
			memcpy(key, p, l);
			key[l] = '\0';
			n = yget(n, key);
			p += l;
		}
	}
	return n;
}

static int line_of(const struct ynode *n, int fallback)
{
	return n ? n->line : fallback;
}

static bool labels_match(const struct kv *sel, int num_sel, const struct kv *l, int num_l)
{
	for (int i = 0; i < num_sel; i++) {
		int j;

		for (j = 0; j < num_l; j++)
			if (!strcmp(sel[i].key, l[j].key) && !strcmp(sel[i].value, l[j].value))
				break;
		if (j == num_l)
			return false;
	}
	return true;
}

static int kv_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->key, ((const struct kv *)b)->key);
}

// selector_str is Kubernetes' labels.SelectorFromSet(set).String():
// "k1=v1,k2=v2", keys sorted; "" for an empty set.
static const char *selector_str(struct analyze_priv *p, const struct kv *l, int n)
{
	struct kv *s;
	size_t len = 1;
	char *out, *o;

	if (n <= 0)
		return "";
	s = arena_alloc_array(&p->ar, (size_t)n, sizeof(*s));
	if (!s)
		return "";
	memcpy(s, l, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), kv_key_cmp);
	for (int i = 0; i < n; i++)
		len += strlen(s[i].key) + strlen(s[i].value) + 2;
	out = o = arena_alloc(&p->ar, len);
	if (!out)
		return "";
	for (int i = 0; i < n; i++)
		o += sprintf(o, "%s%s=%s", i ? "," : "", s[i].key, s[i].value);
	return out;
}

// first_label is util.ExtractLabelFromSelectorString: the first key of the
// sorted selector, used to find the selector's line.
static const char *first_label(struct analyze_priv *p, const char *sel)
{
	size_t l = strcspn(sel, "=");

	return arena_strndup(&p->ar, sel, l);
}

// gq is Go's %q of s (strconv.Quote for the ASCII subset; UTF-8 passes).
static const char *gq(struct analyze_priv *p, const char *s)
{
	size_t len = 3;
	char *out, *o;

	for (const char *c = s; *c; c++)
		len += 4;
	out = o = arena_alloc(&p->ar, len);
	if (!out)
		return "\"\"";
	*o++ = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			*o++ = '\\';
			*o++ = (char)*c;
		} else if (*c == '\n') {
			o += sprintf(o, "\\n");
		} else if (*c == '\t') {
			o += sprintf(o, "\\t");
		} else if (*c == '\r') {
			o += sprintf(o, "\\r");
		} else if (*c < 0x20 || *c == 0x7f) {
			o += sprintf(o, "\\x%02x", *c);
		} else {
			*o++ = (char)*c;
		}
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

char *analyze_expand_host(char *buf, size_t len, const char *host, const char *ns)
{
	return istio_expand_host(buf, len, host, ns, CLUSTER_DOMAIN);
}

static const char *fqdn(struct analyze_priv *p, const char *host, const char *ns)
{
	char buf[512];

	return arena_strdup(&p->ar, analyze_expand_host(buf, sizeof(buf), host, ns));
}

// host_matches is Istio's host.Name.Matches: n and o match when they are
// equal or a wildcard of one covers the other.
static bool host_matches(const char *n, const char *o)
{
	bool nw = n[0] == '*', ow = o[0] == '*';
	size_t nl = strlen(n), ol = strlen(o);

	if (nw && ow) {
		if (nl < ol)
			return ol - 1 >= nl - 1 && !strcasecmp(o + 1 + (ol - nl), n + 1);
		return !strcasecmp(n + 1 + (nl - ol), o + 1);
	}
	if (nw)
		return ol >= nl - 1 && !strcasecmp(o + (ol - (nl - 1)), n + 1);
	if (ow)
		return nl >= ol - 1 && !strcasecmp(n + (nl - (ol - 1)), o + 1);
	return !strcasecmp(n, o);
}

// ---- results ----

const char *analyze_level_name(enum analyze_level l)
{
	return l == ANALYZE_ERROR ? "Error" : l == ANALYZE_WARNING ? "Warning" : "Info";
}

int analyze_parse_level(const char *s, enum analyze_level *out)
{
	if (!strcasecmp(s, "error"))
		*out = ANALYZE_ERROR;
	else if (!strcasecmp(s, "warning"))
		*out = ANALYZE_WARNING;
	else if (!strcasecmp(s, "info"))
		*out = ANALYZE_INFO;
	else
		return -EINVAL;
	return 0;
}

static struct analyze_priv *priv_get(struct analyze *a)
{
	if (!a->priv) {
		a->priv = calloc(1, sizeof(*a->priv));
		if (a->priv)
			arena_init(&a->priv->ar);
	}
	return a->priv;
}

static void vproblem(struct analyze *a, const char *fmt, va_list ap)
{
	struct analyze_priv *p = a->priv;
	char buf[MAX_TEXT];
	char **slot;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	slot = PUSH(a->problems, a->num_problems, p->cap_problems);
	if (!slot || !(*slot = arena_strdup(&p->ar, buf))) {
		if (slot)
			a->num_problems--;
		p->oom = true;
	}
}

int analyze_add_problem(struct analyze *a, const char *fmt, ...)
{
	va_list ap;

	if (!priv_get(a))
		return -ENOMEM;
	va_start(ap, fmt);
	vproblem(a, fmt, ap);
	va_end(ap);
	return a->priv->oom ? -ENOMEM : 0;
}

static void problem(struct analyze *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct analyze *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(a, fmt, ap);
	va_end(ap);
}

// msg_add records one message on the resource (kind, ns, name) read at
// file; line 0 stands for the resource's own line (doc_line).
static void msg_add(struct analyze *a, enum analyze_level lvl, const char *code,
		    const char *kind, const char *ns, const char *name, const char *file,
		    int line, const char *text)
{
	struct analyze_priv *p = a->priv;
	struct analyze_msg *m;

	if (a->ns && !a->all_namespaces && ns && strcmp(ns, a->ns))
		return;		// istioctl -n: only that namespace's messages
	m = PUSH(a->msgs, a->num_msgs, p->cap_msgs);
	if (!m || !(text = arena_strdup(&p->ar, text))) {
		if (m)
			a->num_msgs--;
		p->oom = true;
		return;
	}
	*m = (struct analyze_msg){ .level = lvl, .code = code, .kind = kind, .ns = ns,
				   .name = name, .file = file, .line = line, .text = text };
}

static void report(struct analyze *a, enum analyze_level lvl, const char *code,
		   const struct istio_meta *r, int line, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

// report is msg_add on an Istio resource; line 0: the resource's line.
static void report(struct analyze *a, enum analyze_level lvl, const char *code,
		   const struct istio_meta *r, int line, const char *fmt, ...)
{
	char text[MAX_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	msg_add(a, lvl, code, r->kind, r->namespace_, r->name, r->file, line ? line : r->line, text);
}

// ---- loading ----

static void counts(const struct istio_config *c, int n[RK_NUM])
{
	n[RK_SE] = c->num_service_entries;
	n[RK_VS] = c->num_virtual_services;
	n[RK_DR] = c->num_destination_rules;
	n[RK_PA] = c->num_peer_authentications;
	n[RK_WE] = c->num_workload_entries;
	n[RK_SC] = c->num_sidecars;
	n[RK_AP] = c->num_authorization_policies;
	n[RK_RA] = c->num_request_authentications;
	n[RK_GW] = c->num_gateways;
	n[RK_WG] = c->num_workload_groups;
	n[RK_TM] = c->num_telemetries;
}

// set_namespace gives a document without metadata.namespace the one of
// --namespace, before the loader reads it (so that duplicates and messages
// see it too), as istioctl does for files.
static int set_namespace(struct analyze *a, const struct ynode *doc)
{
	struct analyze_priv *p = a->priv;
	struct ynode *md = (struct ynode *)yget(doc, "metadata");	// our tree
	struct ypair *np;
	struct ynode *k, *v;

	if (!a->ns || !md || md->type != YN_MAP || yget(md, "namespace"))
		return 0;
	np = arena_alloc_array(&p->ar, md->len + 1, sizeof(*np));
	k = arena_alloc(&p->ar, sizeof(*k));
	v = arena_alloc(&p->ar, sizeof(*v));
	if (!np || !k || !v)
		return -ENOMEM;
	if (md->len)
		memcpy(np, md->pairs, md->len * sizeof(*np));
	*k = (struct ynode){ .type = YN_SCALAR, .line = md->line, .col = md->col,
			     .len = strlen("namespace"), .str = "namespace" };
	*v = (struct ynode){ .type = YN_SCALAR, .tag = YTAG_STR, .line = md->line, .col = md->col,
			     .len = strlen(a->ns), .str = a->ns };
	np[md->len] = (struct ypair){ k, v };
	md->pairs = np;
	md->len++;
	return 0;
}

// schema_error turns one loader error ("file:line: Kind ns/name: path:
// what") into an IST0106 message (schema.ValidationAnalyzer), or a problem
// for a resource defined twice (istioctl: "Error(s) adding files").
static void schema_error(struct analyze *a, const char *file, const struct ynode *doc,
			 const char *err)
{
	struct analyze_priv *p = a->priv;
	const struct ynode *md = yget(doc, "metadata");
	const char *kind = ystr(yget(doc, "kind")), *ns = ystr(yget(md, "namespace"));
	const char *name = ystr(yget(md, "name")), *rest = err;
	size_t fl = strlen(file);
	char pfx[600];
	int line = doc ? doc->line : 0;

	if (!strncmp(err, file, fl) && err[fl] == ':') {
		char *end;
		long l = strtol(err + fl + 1, &end, 10);

		if (end != err + fl + 1 && end[0] == ':' && end[1] == ' ') {
			line = (int)l;
			rest = end + 2;
		}
	}
	if (!ns)
		ns = "default";
	snprintf(pfx, sizeof(pfx), "%s %s/%s: ", kind ? kind : "", ns, name ? name : "?");
	if (kind && !strncmp(rest, pfx, strlen(pfx))) {
		rest += strlen(pfx);
	} else if (!strncmp(rest, "document: ", 10)) {
		rest += 10;
		kind = NULL;
	} else {
		kind = NULL;
	}
	if (!strncmp(rest, "already defined at ", 19)) {
		problem(a, "%s", err);
		return;
	}
	{
		char text[MAX_TEXT];

		snprintf(text, sizeof(text), "Schema validation error: %.1900s", rest);
		msg_add(a, ANALYZE_ERROR, "IST0106", kind ? arena_strdup(&p->ar, kind) : NULL,
			kind ? arena_strdup(&p->ar, ns) : NULL, kind && name ? arena_strdup(&p->ar, name) : "?",
			file, line, text);
	}
}

static int load_istio(struct analyze *a, const char *file, const struct ynode *doc)
{
	struct analyze_priv *p = a->priv;
	struct istio_error errs[MAX_LOAD_ERRS];
	int before[RK_NUM], after[RK_NUM], n = 0, rc;

	if (set_namespace(a, doc) < 0)
		return -ENOMEM;
	counts(&p->cfg, before);
	rc = istio_load_node(file, doc, &p->cfg, errs, MAX_LOAD_ERRS, &n);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		for (int i = 0; i < n; i++)
			schema_error(a, file, doc, errs[i].msg);
		if (!n)
			problem(a, "%s:%d: %s", file, doc ? doc->line : 0, strerror(-rc));
		return 0;
	}
	counts(&p->cfg, after);
	for (int k = 0; k < RK_NUM; k++) {
		struct doclist *dl = &p->docs[k];

		for (int i = before[k]; i < after[k]; i++) {
			const struct ynode **slot = PUSH(dl->v, dl->num, dl->cap);

			if (!slot)
				return -ENOMEM;
			*slot = doc;
		}
	}
	return 0;
}

// kv_of reads a map of strings (labels, annotations, a selector).
static int kv_of(struct analyze_priv *p, const struct ynode *m, const struct kv **out, int *num)
{
	struct kv *v;

	*out = NULL;
	*num = 0;
	if (!m || m->type != YN_MAP || !m->len)
		return 0;
	v = arena_alloc_array(&p->ar, m->len, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->len; i++) {
		const char *val = ystr(m->pairs[i].value);

		v[i].key = m->pairs[i].key->str;
		v[i].value = val ? val : "";
	}
	*out = v;
	*num = (int)m->len;
	return 0;
}

static const char *kv_get(const struct kv *l, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(l[i].key, key))
			return l[i].value;
	return NULL;
}

struct k8s_meta {
	const char *name, *ns;
	const struct kv *labels, *annotations;
	int num_labels, num_annotations;
};

static void k8s_error(struct analyze *a, const char *file, const char *kind, const char *ns,
		      const char *name, const struct ynode *at, const char *what)
{
	struct analyze_priv *p = a->priv;
	char text[MAX_TEXT];

	snprintf(text, sizeof(text), "Schema validation error: %s", what);
	msg_add(a, ANALYZE_ERROR, "IST0106", arena_strdup(&p->ar, kind), ns, name ? name : "?",
		file, at ? at->line : 0, text);
}

// read_meta reads a Kubernetes object's metadata (and labels/annotations
// from md, which is a pod template's metadata for controllers). It returns
// 0, -EINVAL (reported) or -ENOMEM.
static int read_meta(struct analyze *a, const char *file, const struct ynode *doc,
		     const char *kind, struct k8s_meta *m)
{
	struct analyze_priv *p = a->priv;
	const struct ynode *md = yget(doc, "metadata");

	memset(m, 0, sizeof(*m));
	m->name = ystr(yget(md, "name"));
	m->ns = ystr(yget(md, "namespace"));
	if (!m->ns)
		m->ns = a->ns ? a->ns : "default";
	if (!m->name || !*m->name) {
		k8s_error(a, file, kind, m->ns, NULL, md ? md : doc, "metadata.name: Required value");
		return -EINVAL;
	}
	if (kv_of(p, yget(md, "labels"), &m->labels, &m->num_labels) < 0 ||
	    kv_of(p, yget(md, "annotations"), &m->annotations, &m->num_annotations) < 0)
		return -ENOMEM;
	return 0;
}

static int add_workload(struct analyze_priv *p, const char *kind, const char *ns, const char *name,
			const struct kv *labels, int num_labels, const struct kv *annotations,
			int num_annotations)
{
	struct an_workload *w = PUSH(p->wls, p->num_wls, p->cap_wls);
	const char *inject = kv_get(annotations, num_annotations, "sidecar.istio.io/inject");

	if (!w)
		return -ENOMEM;
	*w = (struct an_workload){ .kind = kind, .ns = ns, .name = name, .labels = labels,
				   .num_labels = num_labels,
				   .out_of_mesh = inject && !strcmp(inject, "false") };
	return 0;
}

static int load_service(struct analyze *a, const char *file, const struct ynode *doc)
{
	struct analyze_priv *p = a->priv;
	const struct ynode *spec = yget(doc, "spec"), *ports = yget(spec, "ports");
	struct k8s_meta m;
	struct an_svc *s;
	int rc;

	if ((rc = read_meta(a, file, doc, "Service", &m)) < 0)
		return rc == -EINVAL ? 0 : rc;
	if (!(s = PUSH(p->ksvcs, p->num_ksvcs, p->cap_ksvcs)))
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->ns = m.ns;
	s->name = m.name;
	s->export_to = kv_get(m.annotations, m.num_annotations, "networking.istio.io/exportTo");
	if (kv_of(p, yget(spec, "selector"), &s->selector, &s->num_selector) < 0)
		return -ENOMEM;
	if (ylen(ports)) {
		s->ports = arena_alloc_array(&p->ar, ylen(ports), sizeof(*s->ports));
		if (!s->ports)
			return -ENOMEM;
	}
	for (size_t i = 0; i < ylen(ports); i++) {
		const struct ynode *pn = yat(ports, i), *num = yget(pn, "port"), *tp = yget(pn, "targetPort");
		struct an_port *po = &s->ports[s->num_ports];
		int64_t v;

		if (yaml_tree_scalar_int(num, &v) < 0 || v < 1 || v > 65535) {
			char what[64];

			snprintf(what, sizeof(what), "spec.ports[%zu].port: Invalid value", i);
			k8s_error(a, file, "Service", m.ns, m.name, num ? num : pn, what);
			continue;
		}
		po->port = (uint32_t)v;
		// IntOrString.IntValue(): a number, or a string of digits
		if (tp && yaml_tree_scalar_kind(tp) == YK_INT && yaml_tree_scalar_int(tp, &v) == 0 &&
		    v > 0 && v <= 65535)
			po->target_port = (uint32_t)v;
		else if (ystr(tp) && tp->str[0] && strspn(tp->str, "0123456789") == strlen(tp->str) &&
			 strlen(tp->str) < 6 && atoi(tp->str) <= 65535)
			po->target_port = (uint32_t)atoi(tp->str);
		po->name = ystr(yget(pn, "name"));
		po->protocol = ystr(yget(pn, "protocol"));
		s->num_ports++;
	}
	return 0;
}

static int load_k8s(struct analyze *a, const char *file, const struct ynode *doc, const char *api,
		    const char *kind)
{
	struct analyze_priv *p = a->priv;
	const struct ynode *tmpl_md;
	const struct kv *tl, *ta;
	int ntl, nta, rc;
	struct k8s_meta m;

	if (!strcmp(kind, "Service"))
		return load_service(a, file, doc);
	if ((rc = read_meta(a, file, doc, kind, &m)) < 0)
		return rc == -EINVAL ? 0 : rc;
	if (!strcmp(kind, "Namespace")) {
		struct an_namespace *n = PUSH(p->nss, p->num_nss, p->cap_nss);

		if (!n)
			return -ENOMEM;
		*n = (struct an_namespace){ .name = m.name, .labels = m.labels,
					    .num_labels = m.num_labels };
		return 0;
	}
	if (!strcmp(kind, "Pod"))
		return add_workload(p, "Pod", m.ns, m.name, m.labels, m.num_labels, m.annotations,
				    m.num_annotations);
	// A controller's pod template: its pods will carry these labels.
	// istioctl counts only Pod objects (what a live cluster shows).
	if (!strcmp(api, "batch/v1") && !strcmp(kind, "CronJob"))
		tmpl_md = ypath(doc, "spec.jobTemplate.spec.template.metadata");
	else
		tmpl_md = ypath(doc, "spec.template.metadata");
	if (kv_of(p, yget(tmpl_md, "labels"), &tl, &ntl) < 0 ||
	    kv_of(p, yget(tmpl_md, "annotations"), &ta, &nta) < 0)
		return -ENOMEM;
	return add_workload(p, arena_strdup(&p->ar, kind), m.ns, m.name, tl, ntl, ta, nta);
}

// k8s_kind says whether (apiVersion, kind) is a Kubernetes object analyze
// reads.
static bool k8s_kind(const char *api, const char *kind)
{
	static const struct {
		const char *api, *kind;
	} kinds[] = {
		{ "v1", "Service" }, { "v1", "Pod" }, { "v1", "Namespace" },
		{ "v1", "ReplicationController" },
		{ "apps/v1", "Deployment" }, { "apps/v1", "StatefulSet" },
		{ "apps/v1", "DaemonSet" }, { "apps/v1", "ReplicaSet" },
		{ "batch/v1", "Job" }, { "batch/v1", "CronJob" },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(api, kinds[i].api) && !strcmp(kind, kinds[i].kind))
			return true;
	return false;
}

static bool istio_group(const char *api)
{
	const char *slash = strchr(api, '/');
	size_t gl = slash ? (size_t)(slash - api) : 0;

	return gl >= 8 && !strncmp(api + gl - 8, "istio.io", 8);
}

static int add_doc(struct analyze *a, const char *file, const struct ynode *doc, int depth)
{
	const char *api, *kind;

	if (yaml_tree_is_null(doc))
		return 0;
	a->num_docs++;
	api = ystr(yget(doc, "apiVersion"));
	kind = ystr(yget(doc, "kind"));
	if (doc->type != YN_MAP || !api || !kind || istio_group(api))
		return load_istio(a, file, doc);	// the loader names what is wrong
	if (!strcmp(api, "v1") && !strcmp(kind, "List") && depth == 0) {
		const struct ynode *items = yget(doc, "items");

		a->num_docs--;
		for (size_t i = 0; i < ylen(items); i++) {
			int rc = add_doc(a, file, yat(items, i), depth + 1);

			if (rc < 0)
				return rc;
		}
		return 0;
	}
	if (!strcmp(api, "v1") && !strcmp(kind, "List"))
		return load_istio(a, file, doc);
	if (k8s_kind(api, kind))
		return load_k8s(a, file, doc, api, kind);
	a->num_skipped++;
	return 0;
}

int analyze_add_buf(struct analyze *a, const char *name, const char *data, size_t len)
{
	struct analyze_priv *p = priv_get(a);
	struct yaml_tree *t, **slot;
	struct yaml_error ye;
	const char *file;
	int rc;

	if (!p || !(file = arena_strdup(&p->ar, name)) || !(t = calloc(1, sizeof(*t))))
		return -ENOMEM;
	if (!(slot = PUSH(p->trees, p->num_trees, p->cap_trees))) {
		free(t);
		return -ENOMEM;
	}
	*slot = t;
	rc = yaml_tree_parse(t, data, len, &ye);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		if (ye.line)
			problem(a, "%s:%d: yaml: %s", file, ye.line, ye.msg);
		else
			problem(a, "%s: yaml: %s", file, ye.msg);
		return p->oom ? -ENOMEM : -EINVAL;
	}
	for (int i = 0; i < t->num_docs; i++)
		if ((rc = add_doc(a, file, t->docs[i], 0)) < 0)
			return rc;
	return p->oom ? -ENOMEM : 0;
}

// ---- the registry (util.InitServiceEntryHostMap, util.GetDestinationHost) ----

static bool export_all(const char **e, int n)
{
	if (!n)
		return true;
	for (int i = 0; i < n; i++)
		if (!strcmp(e[i], "*"))
			return true;
	return false;
}

static int add_host(struct analyze_priv *p, int *cap, const char *scope, const char *fq,
		    const struct an_svc *s)
{
	struct an_host *h = PUSH(p->hosts, p->num_hosts, *cap);

	if (!h || !scope || !fq)
		return -ENOMEM;
	*h = (struct an_host){ scope, fq, s };
	return 0;
}

static int build_registry(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;
	int cap = 0;

	p->svcs = arena_alloc_array(&p->ar, (size_t)(c->num_service_entries + p->num_ksvcs) + 1,
				    sizeof(*p->svcs));
	if (!p->svcs)
		return -ENOMEM;
	for (int i = 0; i < c->num_service_entries; i++) {
		const struct service_entry *se = &c->service_entries[i];
		struct an_svc *s = &p->svcs[p->num_svcs++];

		*s = (struct an_svc){ .ns = se->meta.namespace_, .name = se->meta.name, .se = se,
				      .selector = se->workload_selector,
				      .num_selector = se->num_workload_selector };
		if (se->num_ports) {
			s->ports = arena_alloc_array(&p->ar, (size_t)se->num_ports, sizeof(*s->ports));
			if (!s->ports)
				return -ENOMEM;
		}
		for (int j = 0; j < se->num_ports; j++)
			s->ports[s->num_ports++] = (struct an_port){
				.port = se->ports[j].number, .target_port = se->ports[j].target_port,
				.name = se->ports[j].name, .protocol = se->ports[j].protocol };
	}
	for (int i = 0; i < p->num_ksvcs; i++)
		p->svcs[p->num_svcs++] = p->ksvcs[i];
	// ServiceEntries first, Services after: a Service wins a host both
	// define, as the later write to Istio's map does.
	for (int i = 0; i < p->num_svcs; i++) {
		const struct an_svc *s = &p->svcs[i];

		if (s->se) {
			const char *scope = export_all(s->se->export_to, s->se->num_export_to) ?
					    "*" : s->ns;

			for (int j = 0; j < s->se->num_hosts; j++)
				if (add_host(p, &cap, scope, fqdn(p, s->se->hosts[j], s->ns), s) < 0)
					return -ENOMEM;
			continue;
		}
		if (!s->export_to || !*s->export_to) {
			if (add_host(p, &cap, "*", fqdn(p, s->name, s->ns), s) < 0)
				return -ENOMEM;
			continue;
		}
		for (const char *e = s->export_to; *e;) {
			size_t l = strcspn(e, ",");
			const char *scope = l == 1 && *e == '.' ? s->ns : arena_strndup(&p->ar, e, l);

			if (add_host(p, &cap, scope, fqdn(p, s->name, s->ns), s) < 0)
				return -ENOMEM;
			e += l + (e[l] == ',');
		}
	}
	return 0;
}

static const struct an_svc *find_scoped(const struct analyze_priv *p, const char *scope,
					 const char *fq)
{
	for (int i = p->num_hosts - 1; i >= 0; i--)
		if (!strcmp(p->hosts[i].scope, scope) && !strcmp(p->hosts[i].fqdn, fq))
			return p->hosts[i].svc;
	return NULL;
}

// lookup_host is util.GetDestinationHost: the service a host names, seen
// from namespace ns by a resource exported to export_to.
static const struct an_svc *lookup_host(struct analyze_priv *p, const char *ns,
					 const char **export_to, int num_export_to,
					 const char *host)
{
	char fq[512];
	const struct an_svc *s;
	const char *h = host[0] == '*' ? host + 1 : host;
	size_t hl = strlen(h);

	analyze_expand_host(fq, sizeof(fq), host, ns);
	if ((s = find_scoped(p, "*", fq)))
		return s;
	if (!num_export_to) {
		if ((s = find_scoped(p, ns, fq)))
			return s;
	}
	for (int i = 0; i < num_export_to; i++) {
		const char *e = strcmp(export_to[i], ".") ? export_to[i] : ns;

		if ((s = find_scoped(p, e, fq)))
			return s;
	}
	for (int i = 0; i < p->num_hosts; i++) {
		const struct an_host *e = &p->hosts[i];
		size_t sl;

		if (e->fqdn[0] != '*' || (strcmp(e->scope, "*") && strcmp(e->scope, ns)))
			continue;
		sl = strlen(e->fqdn + 1);
		if (hl >= sl && !strcasecmp(h + hl - sl, e->fqdn + 1))
			return e->svc;
	}
	return NULL;
}

// ---- VirtualService destinations (virtualservice/util.go) ----

struct dest {
	const char *host, *subset;	// subset NULL when unset
	uint32_t port;			// 0: unset
	int line;			// of destination.host
	bool mirror;
};

// vs_dests lists a VirtualService's route destinations (tcp, tls, then
// http, as getRouteDestinations) followed by its http mirrors.
static int vs_dests(struct analyze_priv *p, const struct ynode *doc, struct dest **out, int *num)
{
	static const char *const kinds[] = { "tcp", "tls", "http" };
	const struct ynode *spec = yget(doc, "spec");
	struct dest *d;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < 3; i++) {
		const struct ynode *rules = yget(spec, kinds[i]);

		for (size_t r = 0; r < ylen(rules); r++)
			n += ylen(yget(yat(rules, r), "route")) + (i == 2);
	}
	*out = NULL;
	*num = 0;
	if (!n)
		return 0;
	if (!(d = arena_alloc_array(&p->ar, n, sizeof(*d))))
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < 3; i++) {
			const struct ynode *rules = yget(spec, kinds[i]);

			for (size_t r = 0; r < ylen(rules); r++) {
				const struct ynode *rule = yat(rules, r), *routes = yget(rule, "route");
				const struct ynode *dn[64];
				size_t nd = 0;

				if (pass == 0) {
					for (size_t j = 0; j < ylen(routes) && nd < 64; j++)
						dn[nd++] = yget(yat(routes, j), "destination");
				} else if (i == 2 && yget(rule, "mirror")) {
					dn[nd++] = yget(rule, "mirror");
				}
				for (size_t j = 0; j < nd; j++) {
					const struct ynode *hn = yget(dn[j], "host");
					int64_t port = 0;

					if (!ystr(hn))
						continue;
					if (yaml_tree_scalar_int(ypath(dn[j], "port.number"), &port) < 0)
						port = 0;
					d[k++] = (struct dest){ .host = hn->str,
								.subset = ystr(yget(dn[j], "subset")),
								.port = (uint32_t)port, .line = hn->line,
								.mirror = pass == 1 };
				}
			}
		}
	}
	*out = d;
	*num = (int)k;
	return 0;
}

// ports_str is Go's %v of the port numbers ([]int): "[9080 9090]".
static const char *ports_str(struct analyze_priv *p, const struct an_svc *s)
{
	char buf[MAX_TEXT];
	size_t o = 0;

	buf[o++] = '[';
	for (int i = 0; i < s->num_ports && o < sizeof(buf) - 16; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? " " : "", s->ports[i].port);
	snprintf(buf + o, sizeof(buf) - o, "]");
	return arena_strdup(&p->ar, buf);
}

// check_ports is checkServiceEntryPorts: IST0112 when a multi-port service
// is named without a port, IST0101 host:port when the port is not its.
static void check_ports(struct analyze *a, const struct istio_meta *r, const struct dest *d,
			const struct an_svc *s)
{
	struct analyze_priv *p = a->priv;

	if (!d->port) {
		if (s->num_ports > 1)
			report(a, ANALYZE_ERROR, "IST0112", r, d->line,
			       "This VirtualService routes to a service %s that exposes multiple ports "
			       "%s. Specifying a port in the destination is required to disambiguate.",
			       gq(p, d->host), ports_str(p, s));
		return;
	}
	for (int i = 0; i < s->num_ports; i++)
		if (s->ports[i].port == d->port)
			return;
	{
		char hp[600];

		snprintf(hp, sizeof(hp), "%s:%u", d->host, d->port);
		report(a, ANALYZE_ERROR, "IST0101", r, d->line, "Referenced %s not found: %s",
		       "host:port", gq(p, hp));
	}
}

// resource_key is util.GetResourceNameFromHost: "ns/name" of the service a
// host names, for matching a destination's subset to DestinationRules.
static const char *resource_key(struct analyze_priv *p, const char *ns, const char *host)
{
	static const char sfx[] = ".svc.cluster.local";
	size_t hl = strlen(host), sl = sizeof(sfx) - 1;

	if (hl > sl && !strcmp(host + hl - sl, sfx)) {
		// ^(.+)\.(.+)\.svc\.cluster\.local$: the first group is greedy
		const char *dot = NULL;

		for (const char *c = host + hl - sl - 1; c > host; c--)
			if (*c == '.') {
				dot = c;
				break;
			}
		if (dot && dot > host && (size_t)(dot - host) + 1 < hl - sl)
			return arena_sprintf(&p->ar, "%.*s/%.*s", (int)(hl - sl - (size_t)(dot - host) - 1),
					     dot + 1, (int)(dot - host), host);
	}
	return arena_sprintf(&p->ar, "%s/%s", ns, host);
}

static bool subset_defined(const struct analyze_priv *p, const char *key, const char *subset)
{
	const struct istio_config *c = &p->cfg;

	for (int i = 0; i < c->num_destination_rules; i++) {
		const struct destination_rule *dr = &c->destination_rules[i];
		const char *k;

		for (int j = 0; j < dr->num_subsets; j++) {
			if (strcmp(dr->subsets[j].name, subset))
				continue;
			k = resource_key((struct analyze_priv *)p, dr->meta.namespace_, dr->host);
			if (k && !strcmp(k, key))
				return true;
		}
	}
	return false;
}

// vs_destinations is virtualservice.DestinationHostAnalyzer (IST0101 host,
// mirror host, host:port; IST0112) and virtualservice.DestinationRuleAnalyzer
// (IST0101 host+subset).
static int vs_destinations(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;

	for (int i = 0; i < c->num_virtual_services; i++) {
		const struct virtual_service *vs = &c->virtual_services[i];
		const char *ns = vs->meta.namespace_;
		struct dest *d;
		int n;

		if (vs_dests(p, p->docs[RK_VS].v[i], &d, &n) < 0)
			return -ENOMEM;
		for (int j = 0; j < n; j++) {
			const struct an_svc *s = lookup_host(p, ns, vs->export_to, vs->num_export_to,
							     d[j].host);

			if (!s)
				report(a, ANALYZE_ERROR, "IST0101", &vs->meta, d[j].line,
				       "Referenced %s not found: %s", d[j].mirror ? "mirror host" : "host",
				       gq(p, d[j].host));
			else
				check_ports(a, &vs->meta, &d[j], s);
		}
		for (int j = 0; j < n; j++) {
			char hs[600];

			if (!d[j].subset || !*d[j].subset ||
			    subset_defined(p, resource_key(p, ns, d[j].host), d[j].subset))
				continue;
			snprintf(hs, sizeof(hs), "%s+%s", d[j].host, d[j].subset);
			report(a, ANALYZE_ERROR, "IST0101", &vs->meta, d[j].line,
			       "Referenced %s not found: %s",
			       d[j].mirror ? "mirror+subset in destinationrule" :
					     "host+subset in destinationrule", gq(p, hs));
		}
	}
	return 0;
}

// vs_ingress_subsets is DestinationHostAnalyzer.analyzeSubset (IST0140): a
// VirtualService bound to a gateway routes, without a subset, to a host
// whose own VirtualService splits it by subset; at the gateway that split
// does not apply. Istio compares the hosts as written, and finds no line
// for the message (its field path uses the route's name): the resource's.
static int vs_ingress_subsets(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;

	for (int i = 0; i < c->num_virtual_services; i++) {
		const struct virtual_service *vs = &c->virtual_services[i];

		if (!vs->num_gateways)
			continue;
		for (int h = 0; h < vs->num_http; h++) {
			const struct http_route *hr = &vs->http[h];

			for (int r = 0; r < hr->num_route; r++) {
				const struct destination *rd = &hr->route[r].destination;

				if (rd->subset && *rd->subset)
					continue;
				for (int k = 0; k < c->num_virtual_services; k++) {
					const struct virtual_service *o = &c->virtual_services[k];

					for (int oh = 0; oh < o->num_http; oh++)
						for (int orr = 0; orr < o->http[oh].num_route; orr++) {
							const struct destination *od =
								&o->http[oh].route[orr].destination;
							bool own = false;

							if (!od->subset || !*od->subset ||
							    strcmp(od->host, rd->host))
								continue;
							for (int x = 0; x < o->num_hosts; x++)
								own |= !strcmp(o->hosts[x], od->host);
							if (!own)
								continue;
							report(a, ANALYZE_WARNING, "IST0140", &vs->meta, 0,
							       "Subset in virtual service %s/%s has no effect "
							       "on ingress gateway %s/%s requests",
							       o->meta.namespace_, o->meta.name,
							       vs->meta.namespace_, vs->meta.name);
						}
				}
			}
		}
	}
	return 0;
}

static const struct gateway *find_gateway(const struct istio_config *c, const char *vs_ns,
					   const char *ref)
{
	const char *slash = strchr(ref, '/');
	size_t nl = slash ? (size_t)(slash - ref) : strlen(vs_ns);
	const char *ns = slash ? ref : vs_ns, *name = slash ? slash + 1 : ref;

	for (int i = 0; i < c->num_gateways; i++) {
		const struct istio_meta *m = &c->gateways[i].meta;

		if (strlen(m->namespace_) == nl && !strncmp(m->namespace_, ns, nl) &&
		    !strcmp(m->name, name))
			return &c->gateways[i];
	}
	return NULL;
}

// vs_host_in_gateway is GatewayAnalyzer's vsHostInGateway: whether any host
// of the VirtualService is among the gateway's servers' hosts visible to the
// VirtualService's namespace.
static bool vs_host_in_gateway(const struct gateway *gw, const struct virtual_service *vs)
{
	const char *vns = vs->meta.namespace_;

	if (!gw)
		return false;
	for (int s = 0; s < gw->num_servers; s++) {
		const struct gw_server *sv = &gw->servers[s];

		for (int h = 0; h < sv->num_hosts; h++) {
			const char *gh = sv->hosts[h], *slash = strchr(gh, '/');

			if (slash) {
				size_t nl = (size_t)(slash - gh);
				const char *hns = gh;

				if (nl == 1 && gh[0] == '.') {	// ./host: the gateway's namespace
					hns = gw->meta.namespace_;
					nl = strlen(hns);
				}
				if (!(nl == 1 && hns[0] == '*') &&
				    (strlen(vns) != nl || strncmp(hns, vns, nl)))
					continue;
				gh = slash + 1;
			}
			for (int v = 0; v < vs->num_hosts; v++)
				if (host_matches(gh, vs->hosts[v]))
					return true;
		}
	}
	return false;
}

static const char *strlist(struct analyze_priv *p, const char **v, int n)
{
	char buf[MAX_TEXT];
	size_t o = 0;

	buf[o++] = '[';
	for (int i = 0; i < n && o < sizeof(buf) - 2; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", i ? " " : "", v[i]);
	if (o > sizeof(buf) - 2)
		o = sizeof(buf) - 2;
	buf[o++] = ']';
	buf[o] = '\0';
	return arena_strdup(&p->ar, buf);
}

// vs_gateways is virtualservice.GatewayAnalyzer: IST0101 for a gateway that
// does not exist, IST0132 when none of the VirtualService's hosts is on it
// (both for a missing gateway, as Istio does).
static int vs_gateways(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;

	for (int i = 0; i < c->num_virtual_services; i++) {
		const struct virtual_service *vs = &c->virtual_services[i];
		const struct ynode *doc = p->docs[RK_VS].v[i];

		for (int g = 0; g < vs->num_gateways; g++) {
			const char *ref = vs->gateways[g];
			const struct gateway *gw;
			int line = line_of(ypath(doc, "spec.gateways[%d]", g), 0);
			char full[600];

			if (!strcmp(ref, "mesh"))
				continue;
			gw = find_gateway(c, vs->meta.namespace_, ref);
			if (!gw)
				report(a, ANALYZE_ERROR, "IST0101", &vs->meta, line,
				       "Referenced %s not found: %s", "gateway", gq(p, ref));
			if (vs_host_in_gateway(gw, vs))
				continue;
			if (strchr(ref, '/'))
				snprintf(full, sizeof(full), "%s", ref);
			else
				snprintf(full, sizeof(full), "%s/%s", vs->meta.namespace_, ref);
			report(a, ANALYZE_WARNING, "IST0132", &vs->meta, line,
			       "one or more host %s defined in VirtualService %s/%s not found in Gateway %s.",
			       strlist(p, vs->hosts, vs->num_hosts), vs->meta.namespace_, vs->meta.name,
			       full);
		}
	}
	return 0;
}

// ---- IST0109: virtualservice.ConflictingMeshGatewayHostsAnalyzer ----

struct mesh_host {
	const char *scope, *fqdn;	// the ScopedFqdn "scope/fqdn"
	int vs;				// index into virtual_services
};

// sort_vs orders VirtualService indexes by namespace/name.
static void sort_vs(int *list, int n, const struct virtual_service *v)
{
	for (int i = 1; i < n; i++) {
		int x = list[i], j = i;

		while (j > 0) {
			const struct istio_meta *a = &v[list[j - 1]].meta, *b = &v[x].meta;
			int r = strcmp(a->namespace_, b->namespace_);

			if ((r ? r : strcmp(a->name, b->name)) <= 0)
				break;
			list[j] = list[j - 1];
			j--;
		}
		list[j] = x;
	}
}

static int mesh_conflicts(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;
	struct mesh_host *mh = NULL;
	int num = 0, cap = 0, *list, *reported, rc = -ENOMEM;

	list = calloc((size_t)c->num_virtual_services + 1, sizeof(*list));
	reported = calloc((size_t)c->num_virtual_services + 1, sizeof(*reported));
	if (!list || !reported)
		goto out;
	for (int i = 0; i < c->num_virtual_services; i++) {
		const struct virtual_service *vs = &c->virtual_services[i];
		const char *ns = vs->meta.namespace_;
		bool mesh = !vs->num_gateways;

		for (int g = 0; g < vs->num_gateways; g++)
			mesh |= !strcmp(vs->gateways[g], "mesh");
		if (!mesh)
			continue;
		for (int e = 0; e < (export_all(vs->export_to, vs->num_export_to) ? 1 : vs->num_export_to); e++) {
			const char *scope = "*";
			bool seen = false;

			if (!export_all(vs->export_to, vs->num_export_to)) {
				scope = strcmp(vs->export_to[e], ".") ? vs->export_to[e] : ns;
				for (int x = 0; x < e; x++)	// a set of scopes
					seen |= !strcmp(strcmp(vs->export_to[x], ".") ? vs->export_to[x] : ns,
							scope);
				if (seen)
					continue;
			}
			for (int h = 0; h < vs->num_hosts; h++) {
				struct mesh_host *m = PUSH(mh, num, cap);

				if (!m)
					goto out;
				*m = (struct mesh_host){ scope, fqdn(p, vs->hosts[h], ns), i };
				if (!m->fqdn)
					goto out;
			}
		}
	}
	for (int i = 0; i < num; i++) {
		int n = 0;
		bool first = true;

		for (int j = 0; j < i; j++)	// each ScopedFqdn once
			first &= strcmp(mh[j].scope, mh[i].scope) || strcmp(mh[j].fqdn, mh[i].fqdn);
		if (!first)
			continue;
		for (int j = 0; j < num; j++) {
			bool in = !strcmp(mh[j].scope, mh[i].scope) && !strcmp(mh[j].fqdn, mh[i].fqdn);

			// a namespace-scoped host also conflicts with the
			// exported-to-all hosts that match it
			if (!in && strcmp(mh[i].scope, "*") && !strcmp(mh[j].scope, "*"))
				in = host_matches(mh[i].fqdn, mh[j].fqdn);
			if (in) {
				bool dup = false;

				for (int x = 0; x < n; x++)
					dup |= list[x] == mh[j].vs;
				if (!dup)
					list[n++] = mh[j].vs;
			}
		}
		if (n < 2)
			continue;
		sort_vs(list, n, c->virtual_services);
		{
			char names[MAX_TEXT];
			size_t o = 0;

			names[0] = '\0';
			for (int x = 0; x < n && o < sizeof(names); x++)
				o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s/%s", x ? "," : "",
						      c->virtual_services[list[x]].meta.namespace_,
						      c->virtual_services[list[x]].meta.name);
			for (int x = 0; x < n; x++) {
				const struct virtual_service *vs = &c->virtual_services[list[x]];

				if (reported[list[x]])
					continue;
				reported[list[x]] = 1;
				report(a, ANALYZE_ERROR, "IST0109", &vs->meta,
				       line_of(ypath(p->docs[RK_VS].v[list[x]], "metadata.name"), 0),
				       "The VirtualServices %s associated with mesh gateway define the same "
				       "host %s/%s which can lead to undefined behavior. This can be fixed "
				       "by merging the conflicting VirtualServices into a single resource.",
				       names, mh[i].scope, mh[i].fqdn);
			}
		}
	}
	rc = 0;
out:
	free(mh);
	free(list);
	free(reported);
	return rc;
}

// ---- IST0130 / IST0131: the HTTP route order checks Istio's
// VirtualService validation reports through the schema analyzer ----

static bool ynode_equal(const struct ynode *x, const struct ynode *y)
{
	if (!x || !y)
		return x == y;
	if (x->type != y->type || x->len != y->len)
		return false;
	if (x->type == YN_SCALAR)
		return !strcmp(x->str, y->str);
	if (x->type == YN_SEQ) {
		for (size_t i = 0; i < x->len; i++)
			if (!ynode_equal(x->items[i], y->items[i]))
				return false;
		return true;
	}
	for (size_t i = 0; i < x->len; i++)	// a map: the same keys, in any order
		if (!ynode_equal(x->pairs[i].value, yaml_tree_map_get(y, x->pairs[i].key->str)))
			return false;
	return true;
}

static const char *rule_name(struct analyze_priv *p, const struct ynode *rule, size_t n)
{
	const char *name = ystr(yget(rule, "name"));

	return name && *name ? gq(p, name) : arena_sprintf(&p->ar, "#%zu", n);
}

static int vs_unreachable(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;

	for (int i = 0; i < c->num_virtual_services; i++) {
		const struct virtual_service *vs = &c->virtual_services[i];
		const struct ynode *http = ypath(p->docs[RK_VS].v[i], "spec.http");
		long empty_seen = -1;

		for (size_t r = 0; r < ylen(http); r++) {
			const struct ynode *rule = yat(http, r), *match = yget(rule, "match");
			size_t dups = 0;

			if (!ylen(match)) {
				if (empty_seen >= 0)
					report(a, ANALYZE_WARNING, "IST0130", &vs->meta, 0,
					       "VirtualService rule %s not used (%s).", rule_name(p, rule, r),
					       "only the last rule can have no matches");
				empty_seen = (long)r;
				continue;
			}
			for (size_t m = 0; m < ylen(match); m++) {
				const struct ynode *mn = yat(match, m);
				bool found = false;

				if (empty_seen >= 0) {
					report(a, ANALYZE_WARNING, "IST0130", &vs->meta, 0,
					       "VirtualService rule %s not used (%s).", rule_name(p, rule, r),
					       "route without matches defined before");
					continue;
				}
				for (size_t pr = 0; pr < r && !found; pr++) {
					const struct ynode *pm = yget(yat(http, pr), "match");

					for (size_t pm_i = 0; pm_i < ylen(pm) && !found; pm_i++) {
						if (!ynode_equal(mn, yat(pm, pm_i)))
							continue;
						found = true;
						{
							const char *mname = ystr(yget(mn, "name"));

							report(a, ANALYZE_INFO, "IST0131", &vs->meta, 0,
							       "VirtualService rule %s match %s is not used "
							       "(duplicate/overlapping match in rule %s).",
							       rule_name(p, rule, r),
							       mname && *mname ? gq(p, mname) :
										 arena_sprintf(&p->ar, "#%zu", m),
							       rule_name(p, yat(http, pr), pr));
						}
					}
				}
				dups += found;
			}
			if (dups == ylen(match))
				report(a, ANALYZE_WARNING, "IST0130", &vs->meta, 0,
				       "VirtualService rule %s not used (%s).", rule_name(p, rule, r),
				       "all matches used by prior rules");
		}
	}
	return 0;
}

// ---- DestinationRules ----

// svc_selects says whether a subset (labels l) of service s selects a
// workload. istioctl (destinationrule.PodNotSelectedAnalyzer) matches the
// subset's labels, plus a ServiceEntry's workloadSelector, against every
// Pod of the mesh; meshgate matches them against the service's own
// workloads: a Service's selector in its namespace, a ServiceEntry's
// workloadSelector in its namespace, or its inline endpoints. A Service
// without a selector has endpoints we cannot see: it selects.
static bool svc_selects(const struct analyze_priv *p, const struct an_svc *s,
			const struct kv *l, int n)
{
	if (!s->se && !s->num_selector)
		return true;
	if (s->se && !s->num_selector) {
		for (int i = 0; i < s->se->num_endpoints; i++)
			if (labels_match(l, n, s->se->endpoints[i].labels, s->se->endpoints[i].num_labels))
				return true;
		return !s->se->num_endpoints && !n;	// DNS hosts carry no labels
	}
	for (int i = 0; i < p->num_wls; i++) {
		const struct an_workload *w = &p->wls[i];

		if (!strcmp(w->ns, s->ns) && labels_match(s->selector, s->num_selector, w->labels, w->num_labels) &&
		    labels_match(l, n, w->labels, w->num_labels))
			return true;
	}
	return false;
}

static bool wildcard_known(const struct analyze_priv *p, const char *ns, const char *host)
{
	for (int i = 0; i < p->num_hosts; i++)
		if ((!strcmp(p->hosts[i].scope, "*") || !strcmp(p->hosts[i].scope, ns)) &&
		    host_matches(host, p->hosts[i].fqdn))
			return true;
	return false;
}

// dr_hosts_subsets is destinationrule.PodNotSelectedAnalyzer: IST0174 for a
// host the registry does not know, IST0173 for a subset selecting nothing.
// A wildcard host that covers a known host is known (Istio looks wildcards
// up only among wildcard ServiceEntries, and warns about "*.local").
static int dr_hosts_subsets(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;

	for (int i = 0; i < c->num_destination_rules; i++) {
		const struct destination_rule *dr = &c->destination_rules[i];
		const struct an_svc *s = lookup_host(p, dr->meta.namespace_, dr->export_to,
						     dr->num_export_to, dr->host);

		if (!s) {
			if (dr->host[0] == '*' && wildcard_known(p, dr->meta.namespace_, dr->host))
				continue;
			report(a, ANALYZE_WARNING, "IST0174", &dr->meta, 0,
			       "The host %s defined in the DestinationRule does not match any services "
			       "in the mesh.", dr->host);
			continue;
		}
		for (int j = 0; j < dr->num_subsets; j++)
			if (!svc_selects(p, s, dr->subsets[j].labels, dr->subsets[j].num_labels))
				report(a, ANALYZE_ERROR, "IST0173", &dr->meta, 0,
				       "The Subset %s defined in the DestinationRule does not select any "
				       "pods. Which may lead to 503 UH (NoHealthyUpstream).",
				       dr->subsets[j].name);
	}
	return 0;
}

// dr_ca_certificates is destinationrule.CaCertificateAnalyzer (IST0128,
// IST0129): SIMPLE or MUTUAL TLS to the upstream without caCertificates
// (unless a credentialName of a DestinationRule with a workloadSelector
// supplies them) does not verify the server.
static int dr_ca_certificates(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;

	for (int i = 0; i < c->num_destination_rules; i++) {
		const struct destination_rule *dr = &c->destination_rules[i];
		const struct dr_traffic_policy *tp = dr->traffic_policy;
		const struct ynode *doc = p->docs[RK_DR].v[i];

		if (!tp)
			continue;
		if (tp->tls && (tp->tls->mode == DR_TLS_SIMPLE || tp->tls->mode == DR_TLS_MUTUAL) &&
		    !tp->tls->ca_certificates &&
		    !(tp->tls->credential_name && dr->has_workload_selector))
			report(a, ANALYZE_WARNING, "IST0128", &dr->meta,
			       line_of(ypath(doc, "spec.trafficPolicy.tls.caCertificates"), 0),
			       "DestinationRule %s/%s in namespace %s has TLS mode set to %s but no "
			       "caCertificates are set to validate server identity for host: %s",
			       dr->meta.namespace_, dr->meta.name, dr->meta.namespace_,
			       tp->tls->mode == DR_TLS_SIMPLE ? "SIMPLE" : "MUTUAL", dr->host);
		for (int j = 0; j < tp->num_port_level_settings; j++) {
			const struct dr_port_policy *pp = &tp->port_level_settings[j];

			if (!pp->tls || (pp->tls->mode != DR_TLS_SIMPLE && pp->tls->mode != DR_TLS_MUTUAL) ||
			    pp->tls->ca_certificates ||
			    (pp->tls->credential_name && dr->has_workload_selector))
				continue;
			report(a, ANALYZE_WARNING, "IST0129", &dr->meta,
			       line_of(ypath(doc, "spec.trafficPolicy.portLevelSettings[%d].tls.caCertificates",
					     j), 0),
			       "DestinationRule %s/%s in namespace %s has TLS mode set to %s but no "
			       "caCertificates are set to validate server identity for host: %s at port "
			       "number:%u",
			       dr->meta.namespace_, dr->meta.name, dr->meta.namespace_,
			       pp->tls->mode == DR_TLS_SIMPLE ? "SIMPLE" : "MUTUAL", dr->host, pp->port);
		}
	}
	return 0;
}

// ---- Gateways ----

static bool port_in(const uint32_t *v, int n, uint32_t port)
{
	for (int i = 0; i < n; i++)
		if (v[i] == port)
			return true;
	return false;
}

// gateway_workloads is gateway.IngressGatewayPortAnalyzer: IST0101 when
// the selector matches no workload (any namespace), else IST0162 for a
// server port that no Service selecting those workloads targets (TCP
// ports; a Service port without protocol is TCP, as the API server
// defaults it).
static int gateway_workloads(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;
	uint32_t *ports = NULL;
	int cap = 0, rc = -ENOMEM;

	for (int i = 0; i < c->num_gateways; i++) {
		const struct gateway *gw = &c->gateways[i];
		const char *sel = selector_str(p, gw->selector, gw->num_selector);
		int matches = 0, num = 0, line;

		for (int w = 0; w < p->num_wls; w++) {
			const struct an_workload *wl = &p->wls[w];

			if (!labels_match(gw->selector, gw->num_selector, wl->labels, wl->num_labels))
				continue;
			matches++;
			for (int s = 0; s < p->num_ksvcs; s++) {
				const struct an_svc *sv = &p->ksvcs[s];

				if (strcmp(sv->ns, wl->ns) || !sv->num_selector ||
				    !labels_match(sv->selector, sv->num_selector, wl->labels, wl->num_labels))
					continue;
				for (int j = 0; j < sv->num_ports; j++) {
					const struct an_port *po = &sv->ports[j];
					uint32_t *slot;

					if (po->protocol && strcmp(po->protocol, "TCP"))
						continue;
					if (!(slot = PUSH(ports, num, cap)))
						goto out;
					*slot = po->target_port ? po->target_port : po->port;
				}
			}
		}
		line = line_of(yget(ypath(p->docs[RK_GW].v[i], "spec.selector"), first_label(p, sel)), 0);
		if (!matches) {
			report(a, ANALYZE_ERROR, "IST0101", &gw->meta, line, "Referenced %s not found: %s",
			       "selector", gq(p, sel));
			continue;
		}
		for (int s = 0; s < gw->num_servers; s++) {
			uint32_t port = gw->servers[s].port.number;

			if (port && !port_in(ports, num, port))
				report(a, ANALYZE_WARNING, "IST0162", &gw->meta, line,
				       "The gateway is listening on a target port (port %u) that is not "
				       "defined in the Service associated with its workload instances (Pod "
				       "selector %s). If you need to access the gateway port through the "
				       "gateway Service, it will not be available.", port, sel);
		}
	}
	rc = 0;
out:
	free(ports);
	return rc;
}

// gateway_unbound is meshgate's MG0001 (Istio has no such analyzer): a
// Gateway no VirtualService names serves no route; every request to it gets
// 404 NR. A server in AUTO_PASSTHROUGH needs no VirtualService.
static int gateway_unbound(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;

	for (int i = 0; i < c->num_gateways; i++) {
		const struct gateway *gw = &c->gateways[i];
		bool bound = false;

		for (int s = 0; s < gw->num_servers; s++)
			bound |= gw->servers[s].tls && gw->servers[s].tls->mode == GW_TLS_AUTO_PASSTHROUGH;
		for (int v = 0; v < c->num_virtual_services && !bound; v++) {
			const struct virtual_service *vs = &c->virtual_services[v];

			for (int g = 0; g < vs->num_gateways; g++)
				bound |= find_gateway(c, vs->meta.namespace_, vs->gateways[g]) == gw;
		}
		if (!bound)
			report(a, ANALYZE_INFO, "MG0001", &gw->meta, 0,
			       "No VirtualService is bound to this Gateway (spec.gateways names "
			       "%s/%s nowhere): its servers route nothing and answer 404 NR.",
			       gw->meta.namespace_, gw->meta.name);
	}
	return 0;
}

// ---- workload selectors ----

static const struct an_namespace *find_namespace(const struct analyze_priv *p, const char *ns)
{
	for (int i = 0; i < p->num_nss; i++)
		if (!strcmp(p->nss[i].name, ns))
			return &p->nss[i];
	return NULL;
}

// in_mesh is util.PodInMesh loosened for meshgate, which does not inject
// sidecars: a workload is in the mesh unless it or its namespace opts out
// (sidecar.istio.io/inject: "false", istio-injection=disabled). istioctl
// also wants an istio-proxy container or an opt-in.
static bool in_mesh(const struct analyze_priv *p, const struct an_workload *w)
{
	const struct an_namespace *n = find_namespace(p, w->ns);
	const char *inj = n ? kv_get(n->labels, n->num_labels, "istio-injection") : NULL;

	return !w->out_of_mesh && !(inj && !strcmp(inj, "disabled"));
}

// selects says whether a selector (in namespace ns; NULL: any) picks a
// workload.
static bool selects(const struct analyze_priv *p, const char *ns, const struct kv *sel, int n,
		    bool mesh_only)
{
	for (int i = 0; i < p->num_wls; i++) {
		const struct an_workload *w = &p->wls[i];

		if ((!ns || !strcmp(w->ns, ns)) && (!mesh_only || in_mesh(p, w)) &&
		    labels_match(sel, n, w->labels, w->num_labels))
			return true;
	}
	return false;
}

// sidecar_selectors is sidecar.SelectorAnalyzer's first half: IST0101 when
// a Sidecar's workloadSelector matches no workload of its namespace.
static int sidecar_selectors(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;

	for (int i = 0; i < c->num_sidecars; i++) {
		const struct sidecar *sc = &c->sidecars[i];
		const char *sel;

		if (!sc->num_selector || selects(p, sc->meta.namespace_, sc->selector, sc->num_selector, false))
			continue;
		sel = selector_str(p, sc->selector, sc->num_selector);
		report(a, ANALYZE_ERROR, "IST0101", &sc->meta,
		       line_of(yget(ypath(p->docs[RK_SC].v[i], "spec.workloadSelector.labels"),
				    first_label(p, sel)), 0),
		       "Referenced %s not found: %s", "selector", gq(p, sel));
	}
	return 0;
}

static bool namespace_known(const struct analyze_priv *p, const char *pattern)
{
	const struct istio_config *c = &p->cfg;
	size_t pl = strlen(pattern);

	// authz.namespaceMatch over the namespaces there are: Namespace
	// objects, and (meshgate) any namespace something was read in
	for (int i = -1; i < p->num_nss + p->num_wls + p->num_ksvcs + c->num_authorization_policies; i++) {
		const char *ns;
		size_t nl;

		if (i < 0)
			ns = "default";
		else if (i < p->num_nss)
			ns = p->nss[i].name;
		else if (i < p->num_nss + p->num_wls)
			ns = p->wls[i - p->num_nss].ns;
		else if (i < p->num_nss + p->num_wls + p->num_ksvcs)
			ns = p->ksvcs[i - p->num_nss - p->num_wls].ns;
		else
			ns = c->authorization_policies[i - p->num_nss - p->num_wls - p->num_ksvcs].meta.namespace_;
		nl = strlen(ns);
		if (!strcmp(pattern, "*"))
			return true;
		if (pattern[0] == '*' && nl >= pl - 1 && !strcmp(ns + nl - (pl - 1), pattern + 1))
			return true;
		if (pl && pattern[pl - 1] == '*' && !strncmp(ns, pattern, pl - 1))
			return true;
		if (!strcasecmp(ns, pattern))
			return true;
	}
	return false;
}

// authz_policies is authz.AuthorizationPoliciesAnalyzer: IST0127 when a
// policy selects no workload in the mesh (namespace-wide: when its
// namespace has none; in the root namespace: anywhere), IST0101 for a
// source namespace that does not exist. Policies attached by targetRef are
// left alone.
static int authz_policies(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;

	for (int i = 0; i < c->num_authorization_policies; i++) {
		const struct authorization_policy *ap = &c->authorization_policies[i];
		const struct policy_scope *sc = &ap->scope;
		const char *ns = ap->meta.namespace_;
		const struct ynode *doc = p->docs[RK_AP].v[i];

		if (sc->target_ref || sc->num_target_refs) {
			;
		} else if (!strcmp(ns, ROOT_NAMESPACE)) {
			if (sc->has_selector && !selects(p, NULL, sc->selector, sc->num_selector, true))
				report(a, ANALYZE_WARNING, "IST0127", &ap->meta, 0,
				       "No matching workloads for this resource with the following labels: %s",
				       selector_str(p, sc->selector, sc->num_selector));
		} else if (!sc->has_selector) {
			if (!selects(p, ns, NULL, 0, true))
				report(a, ANALYZE_WARNING, "IST0127", &ap->meta, 0,
				       "No matching workloads for this resource with the following labels: %s",
				       "");
		} else if (!selects(p, ns, sc->selector, sc->num_selector, true)) {
			report(a, ANALYZE_WARNING, "IST0127", &ap->meta, 0,
			       "No matching workloads for this resource with the following labels: %s",
			       selector_str(p, sc->selector, sc->num_selector));
		}
		for (int r = 0; r < ap->num_rules; r++)
			for (int f = 0; f < ap->rules[r].num_from; f++) {
				const struct ap_source *src = &ap->rules[r].from[f];

				for (int k = 0; k < src->num_namespaces + src->num_not_namespaces; k++) {
					bool pos = k < src->num_namespaces;
					const char *n = pos ? src->namespaces[k] :
							      src->not_namespaces[k - src->num_namespaces];

					if (namespace_known(p, n))
						continue;
					report(a, ANALYZE_ERROR, "IST0101", &ap->meta,
					       line_of(ypath(doc, "spec.rules[%d].from[%d].source.%s[%d]", r, f,
							     pos ? "namespaces" : "notNamespaces",
							     pos ? k : k - src->num_namespaces), 0),
					       "Referenced %s not found: %s", "namespace", gq(p, n));
				}
			}
	}
	return 0;
}

// policy_selectors is meshgate's MG0002 (Istio has no analyzer for these
// kinds): a PeerAuthentication or RequestAuthentication whose selector
// matches no workload (of its namespace; of any in the root namespace)
// applies to nothing. The text is IST0127's.
static int policy_selectors(struct analyze *a)
{
	struct analyze_priv *p = a->priv;
	const struct istio_config *c = &p->cfg;

	for (int i = 0; i < c->num_peer_authentications + c->num_request_authentications; i++) {
		bool pa = i < c->num_peer_authentications;
		const struct peer_authentication *x = pa ? &c->peer_authentications[i] : NULL;
		const struct request_authentication *y =
			pa ? NULL : &c->request_authentications[i - c->num_peer_authentications];
		const struct istio_meta *m = pa ? &x->meta : &y->meta;
		const struct kv *sel = pa ? x->selector : y->scope.selector;
		int n = pa ? x->num_selector : y->scope.num_selector;
		const char *ns = strcmp(m->namespace_, ROOT_NAMESPACE) ? m->namespace_ : NULL;
		const char *s;
		const struct ynode *doc = pa ? p->docs[RK_PA].v[i] :
					       p->docs[RK_RA].v[i - c->num_peer_authentications];

		if (!n || selects(p, ns, sel, n, false))
			continue;
		s = selector_str(p, sel, n);
		report(a, ANALYZE_WARNING, "MG0002", m,
		       line_of(yget(ypath(doc, "spec.selector.matchLabels"), first_label(p, s)), 0),
		       "No matching workloads for this resource with the following labels: %s", s);
	}
	return 0;
}

// ---- running ----

static int origin_cmp(const struct analyze_msg *x, const struct analyze_msg *y)
{
	int r;

	if (!x->kind || !y->kind)
		return !!x->kind - !!y->kind;
	if ((r = strcmp(x->kind, y->kind)) || (r = strcmp(x->ns, y->ns)) || (r = strcmp(x->name, y->name)))
		return r;
	return 0;
}

// msg_cmp is diag.Messages.Sort: level, code, origin, then the whole text.
static int msg_cmp(const void *va, const void *vb)
{
	const struct analyze_msg *x = va, *y = vb;
	int r;

	if (x->level != y->level)
		return (int)x->level - (int)y->level;
	if ((r = strcmp(x->code, y->code)) || (r = origin_cmp(x, y)))
		return r;
	if ((r = strcmp(x->file ? x->file : "", y->file ? y->file : "")))
		return r;
	if (x->line != y->line)
		return x->line - y->line;
	return strcmp(x->text, y->text);
}

int analyze_run(struct analyze *a)
{
	static int (*const analyzers[])(struct analyze *) = {
		vs_destinations, vs_ingress_subsets, vs_gateways, mesh_conflicts, vs_unreachable,
		dr_hosts_subsets, dr_ca_certificates, gateway_workloads, gateway_unbound,
		sidecar_selectors, authz_policies, policy_selectors,
	};
	struct analyze_priv *p = priv_get(a);
	const struct istio_config *c;
	int n = 0;

	if (!p)
		return -ENOMEM;
	c = &p->cfg;
	// WorkloadEntries run, WorkloadGroups are the templates of those to come
	for (int i = 0; i < c->num_workload_entries; i++) {
		const struct workload_entry *we = &c->workload_entries[i];

		if (add_workload(p, "WorkloadEntry", we->meta.namespace_, we->meta.name, we->ep.labels,
				 we->ep.num_labels, NULL, 0) < 0)
			return -ENOMEM;
	}
	for (int i = 0; i < c->num_workload_groups; i++) {
		const struct workload_group *wg = &c->workload_groups[i];

		if (add_workload(p, "WorkloadGroup", wg->meta.namespace_, wg->meta.name, wg->labels,
				 wg->num_labels, wg->annotations, wg->num_annotations) < 0)
			return -ENOMEM;
	}
	if (build_registry(a) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(analyzers) / sizeof(analyzers[0]); i++)
		if (analyzers[i](a) < 0 || p->oom)
			return -ENOMEM;
	if (a->num_msgs)
		qsort(a->msgs, (size_t)a->num_msgs, sizeof(*a->msgs), msg_cmp);
	for (int i = 0; i < a->num_msgs; i++)	// SortedDedupedCopy
		if (!n || msg_cmp(&a->msgs[n - 1], &a->msgs[i]))
			a->msgs[n++] = a->msgs[i];
	a->num_msgs = n;
	return 0;
}

void analyze_cleanup(struct analyze *a)
{
	struct analyze_priv *p = a->priv;

	if (p) {
		for (int i = 0; i < p->num_trees; i++) {
			yaml_tree_free(p->trees[i]);
			free(p->trees[i]);
		}
		free(p->trees);
		for (int k = 0; k < RK_NUM; k++)
			free(p->docs[k].v);
		free(p->ksvcs);
		free(p->wls);
		free(p->nss);
		free(p->hosts);
		istio_config_free(&p->cfg);
		arena_cleanup(&p->ar);
		free(p);
	}
	free(a->msgs);
	free(a->problems);
	memset(a, 0, sizeof(*a));
}
