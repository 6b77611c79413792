// SPDX-License-Identifier: Apache-2.0
// istio.c: ServiceEntry, VirtualService, DestinationRule, Gateway, the
// security kinds (PeerAuthentication, AuthorizationPolicy,
// RequestAuthentication), WorkloadGroup, Telemetry and the rest of the Istio
// YAML into the istio.h model, checked as Istio's CRD schemas and webhook
// check them; a load is all or nothing.
#include "config/istio.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "config/arena.h"
#include "config/yaml.h"
#include "core/bug.h"
#include "core/strmap.h"

// istio_priv is what istio_config.arena points to.
struct istio_priv {
	struct arena ar;
	// capacity of the arrays in the config
	int cap_se, cap_vs, cap_dr, cap_pa, cap_we, cap_sc, cap_ap, cap_ra, cap_gw, cap_wg, cap_tm;
	// kind + namespace/name -> index in the kind's array, for duplicates
	// in O(1); an index past the array's count is stale (a rolled-back file)
	struct strmap names;
	// parts taken by istio_config_take_endpoints: their endpoints are in use
	struct istio_priv *taken;
	int num_taken;
};

struct errsink {
	struct istio_error *errs;
	int max;
	int num;		// filled in errs
	int total;		// found (may exceed max)
};

// ctx is the state while one resource is checked: where we are (for
// messages) and where the output goes.
struct ctx {
	struct arena *ar;	// the config's arena: output strings and arrays
	struct errsink *es;
	const char *file;
	int doc_line;
	const char *kind, *ns, *name;	// printable, for messages; NULL = unknown
	int errors;		// in this resource
	bool allow_dups;	// istio_config.validate_only
	bool oom;
	char path[512];		// "spec.http[0].route[1].destination.host"
	size_t plen;
	char vbuf[4][128];	// quoted values for messages (ring)
	int vi;
	char msg[320];		// message built by a validator
};

static void sink_add(struct errsink *es, const char *msg)
{
	es->total++;
	if (es->errs && es->num < es->max) {
		snprintf(es->errs[es->num].msg, sizeof(es->errs[es->num].msg), "%s", msg);
		es->num++;
	}
}

// clean copies s (len bytes) for a message: control bytes become '?', and
// long values are cut with "...".
static void clean(char *dst, size_t cap, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 4 < cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		dst[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (o + 4 >= cap && len > o) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

// qv returns s quoted and cleaned, for a message. Four may be live at once.
static const char *qv(struct ctx *c, const char *s)
{
	char *buf = c->vbuf[c->vi++ & 3];

	buf[0] = '"';
	clean(buf + 1, sizeof(c->vbuf[0]) - 2, s ? s : "", s ? strlen(s) : 0);
	strcat(buf, "\"");
	return buf;
}

static void fail(struct ctx *c, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

// fail reports "file:line: Kind ns/name: path: what" at node n (or at the
// document when n is NULL).
static void fail(struct ctx *c, const struct ynode *n, const char *fmt, ...)
{
	char msg[sizeof(((struct istio_error *)0)->msg)];
	size_t o;
	va_list ap;

	c->errors++;
	o = (size_t)snprintf(msg, sizeof(msg), "%s:%d: ", c->file, n ? n->line : c->doc_line);
	if (o < sizeof(msg)) {
		if (c->kind)
			o += snprintf(msg + o, sizeof(msg) - o, "%s %s/%s: ", c->kind,
				      c->ns ? c->ns : "default", c->name ? c->name : "?");
		else
			o += snprintf(msg + o, sizeof(msg) - o, "document: ");
	}
	if (o < sizeof(msg) && c->plen)
		o += snprintf(msg + o, sizeof(msg) - o, "%s: ", c->path);
	if (o < sizeof(msg)) {
		va_start(ap, fmt);
		vsnprintf(msg + o, sizeof(msg) - o, fmt, ap);
		va_end(ap);
	}
	sink_add(c->es, msg);
}

static void oom(struct ctx *c)
{
	if (!c->oom)
		fail(c, NULL, "out of memory");
	c->oom = true;
}

static size_t path_push(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static size_t path_push(struct ctx *c, const char *fmt, ...)
{
	size_t mark = c->plen;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->path + c->plen, sizeof(c->path) - c->plen, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->plen = MIN(c->plen + (size_t)n, sizeof(c->path) - 1);
	return mark;
}

static void path_pop(struct ctx *c, size_t mark)
{
	c->plen = mark;
	c->path[mark] = '\0';
}

// path_append adds "." (unless first) and s[0..len) without formatting:
// the loader pushes a path element for every field it reads.
static size_t path_append(struct ctx *c, const char *s, size_t len)
{
	size_t mark = c->plen, room = sizeof(c->path) - 1 - c->plen;

	if (c->plen && room) {
		c->path[c->plen++] = '.';
		room--;
	}
	len = MIN(len, room);
	memcpy(c->path + c->plen, s, len);
	c->plen += len;
	c->path[c->plen] = '\0';
	return mark;
}

static size_t path_key(struct ctx *c, const struct ynode *key)
{
	char k[96];

	clean(k, sizeof(k), key->str, key->len);
	return path_append(c, k, strlen(k));
}

static size_t path_field(struct ctx *c, const char *name)
{
	return path_append(c, name, strlen(name));
}

static size_t path_idx(struct ctx *c, size_t i)
{
	return path_push(c, "[%zu]", i);
}

static size_t path_mapkey(struct ctx *c, const struct ynode *key)
{
	char k[96];

	clean(k, sizeof(k), key->str, key->len);
	return path_push(c, "[%s]", k);
}

static bool key_is(const struct ypair *p, const char *name)
{
	size_t len = strlen(name);

	return p->key->len == len && !memcmp(p->key->str, name, len);
}

static const char *type_name(const struct ynode *n)
{
	if (n->type == YN_SEQ)
		return "a list";
	if (n->type == YN_MAP)
		return "a mapping";
	switch (yaml_tree_scalar_kind(n)) {
	case YK_NULL:
		return "null";
	case YK_BOOL:
		return "a boolean";
	case YK_INT:
		return "an integer";
	case YK_FLOAT:
		return "a number";
	default:
		return "a string";
	}
}

static bool expect_map(struct ctx *c, const struct ynode *n)
{
	if (n->type == YN_MAP)
		return true;
	fail(c, n, "expected a mapping, got %s", type_name(n));
	return false;
}

static bool expect_seq(struct ctx *c, const struct ynode *n)
{
	if (n->type == YN_SEQ)
		return true;
	fail(c, n, "expected a list, got %s", type_name(n));
	return false;
}

// next_field walks a mapping's fields: it skips null values (Kubernetes
// prunes them, so `field:` means unset), keeps the path at the current
// field, and returns NULL after the last one with the path restored.
static const struct ypair *next_field(struct ctx *c, const struct ynode *map,
				      size_t *it, size_t *mark)
{
	if (*mark != SIZE_MAX) {
		path_pop(c, *mark);
		*mark = SIZE_MAX;
	}
	while (*it < map->len) {
		const struct ypair *p = &map->pairs[(*it)++];

		if (yaml_tree_is_null(p->value))
			continue;
		*mark = path_key(c, p->key);
		return p;
	}
	return NULL;
}

// FOR_FIELDS iterates a mapping's set fields; nested loops need distinct p.
#define FOR_FIELDS(c, map, p)						\
	for (size_t _it_##p = 0, _mark_##p = SIZE_MAX;			\
	     ((p) = next_field((c), (map), &_it_##p, &_mark_##p)) != NULL; )

static void unknown_field(struct ctx *c, const struct ypair *p)
{
	fail(c, p->key, "unknown field");
}

static void required(struct ctx *c, const struct ynode *at, const char *field)
{
	size_t m = path_field(c, field);

	fail(c, at, "Required value");
	path_pop(c, m);
}

// key_of returns the key of value in map: errors about a field as a whole
// read best at its "field:" line. It returns value when it has no key there.
static const struct ynode *key_of(const struct ynode *map, const struct ynode *value)
{
	if (map && map->type == YN_MAP)
		for (size_t i = 0; i < map->len; i++)
			if (map->pairs[i].value == value)
				return map->pairs[i].key;
	return value;
}

// ---- scalars ----

// scalar_str returns a scalar's string (borrowed from the tree) or NULL
// after reporting why it is not a string.
static const char *scalar_str(struct ctx *c, const struct ynode *n)
{
	enum yscalar_kind k;

	if (n->type != YN_SCALAR) {
		fail(c, n, "expected a string, got %s", type_name(n));
		return NULL;
	}
	k = yaml_tree_scalar_kind(n);
	if (k == YK_NULL) {
		fail(c, n, "must not be null");
		return NULL;
	}
	if (k != YK_STR) {
		// YAML 1.1 (what Kubernetes reads) turns a plain on/no/y into a
		// boolean and 1.10 into a number: never silently into a string.
		fail(c, n, "expected a string, got %s (%s); quote it if a string is meant",
		     type_name(n), qv(c, n->str));
		return NULL;
	}
	if (strlen(n->str) != n->len) {
		fail(c, n, "contains a NUL byte");
		return NULL;
	}
	return n->str;
}

// get_str copies a string value into the config arena. It returns 0 or -1.
static int get_str(struct ctx *c, const struct ynode *n, const char **out)
{
	const char *s = scalar_str(c, n);
	char *copy;

	if (!s)
		return -1;
	copy = arena_strndup(c->ar, s, n->len);
	if (!copy) {
		oom(c);
		return -1;
	}
	*out = copy;
	return 0;
}

static int get_i64(struct ctx *c, const struct ynode *n, int64_t min, int64_t max,
		   const char *type, int64_t *out)
{
	int64_t v;

	if (n->type != YN_SCALAR || yaml_tree_scalar_kind(n) != YK_INT) {
		fail(c, n, "expected an integer, got %s", type_name(n));
		return -1;
	}
	if (yaml_tree_scalar_int(n, &v) < 0 || v < min || v > max) {
		fail(c, n, "%s is out of range for %s", qv(c, n->str), type);
		return -1;
	}
	*out = v;
	return 0;
}

static int get_u32(struct ctx *c, const struct ynode *n, uint32_t *out)
{
	int64_t v;

	if (get_i64(c, n, 0, UINT32_MAX, "uint32", &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int get_i32(struct ctx *c, const struct ynode *n, int32_t *out)
{
	int64_t v;

	if (get_i64(c, n, INT32_MIN, INT32_MAX, "int32", &v) < 0)
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int get_bool(struct ctx *c, const struct ynode *n, int *out)
{
	if (n->type != YN_SCALAR || yaml_tree_scalar_bool(n, out) < 0) {
		fail(c, n, "expected true or false, got %s", type_name(n));
		return -1;
	}
	return 0;
}

static int get_double(struct ctx *c, const struct ynode *n, double *out)
{
	if (n->type != YN_SCALAR || yaml_tree_scalar_double(n, out) < 0) {
		fail(c, n, "expected a number, got %s", type_name(n));
		return -1;
	}
	if (isnan(*out) || isinf(*out)) {
		fail(c, n, "expected a finite number");
		return -1;
	}
	return 0;
}

// get_enum matches a string against names and reports the choices.
static int get_enum(struct ctx *c, const struct ynode *n, const char *const *names, int *out)
{
	char list[256];
	size_t o = 0;
	const char *s = scalar_str(c, n);

	if (!s)
		return -1;
	for (int i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	}
	list[0] = '\0';
	for (int i = 0; names[i] && o < sizeof(list); i++)
		o += snprintf(list + o, sizeof(list) - o, "%s\"%s\"", i ? ", " : "", names[i]);
	fail(c, n, "Unsupported value: %s: supported values: %s", qv(c, s), list);
	return -1;
}

static int parse_duration_ns(const char *s, __int128 *out);

// get_duration reads a Duration. With istio_check it applies Istio's
// ValidateDuration: at least 1ms and a whole number of milliseconds.
static int get_duration(struct ctx *c, const struct ynode *n, bool istio_check, int64_t *out_ms)
{
	const char *s;
	__int128 ns;
	int err;

	if (n->type == YN_SCALAR && yaml_tree_scalar_kind(n) == YK_INT) {
		fail(c, n, "expected a duration string such as \"10s\" or \"100ms\", got %s",
		     qv(c, n->str));
		return -1;
	}
	if (!(s = scalar_str(c, n)))
		return -1;
	err = parse_duration_ns(s, &ns);
	if (err == -ERANGE) {
		fail(c, n, "duration %s is out of range", qv(c, s));
		return -1;
	}
	if (err < 0) {
		fail(c, n, "%s is not a valid duration (e.g. \"1.5s\", \"100ms\", \"1h30m\")", qv(c, s));
		return -1;
	}
	if (istio_check && ns < 1000000) {
		fail(c, n, "duration must be greater than 1ms");
		return -1;
	}
	if (istio_check && ns % 1000000) {
		fail(c, n, "only durations to ms precision are supported");
		return -1;
	}
	*out_ms = (int64_t)(ns / 1000000);
	return 0;
}

// get_str_list reads a list of strings into an arena array (NULL items on
// errors, which fail the resource anyway).
static int get_str_list(struct ctx *c, const struct ynode *n, const char ***out, int *num)
{
	const char **arr;
	int bad = 0;

	if (!expect_seq(c, n))
		return -1;
	arr = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*arr));
	if (!arr) {
		oom(c);
		return -1;
	}
	for (size_t i = 0; i < n->len; i++) {
		size_t m = path_idx(c, i);

		if (get_str(c, n->items[i], &arr[i]) < 0)
			bad = -1;
		path_pop(c, m);
	}
	*out = arr;
	*num = (int)n->len;
	return bad;
}

static int map_key_str(struct ctx *c, const struct ynode *key)
{
	if (yaml_tree_scalar_kind(key) != YK_STR || strlen(key->str) != key->len) {
		fail(c, key, "key %s must be a string; quote it", qv(c, key->str));
		return -1;
	}
	return 0;
}

// get_str_map reads a map<string, string> (labels, header values).
static int get_str_map(struct ctx *c, const struct ynode *n, struct kv **out, int *num)
{
	struct kv *arr;
	int bad = 0;

	if (!expect_map(c, n))
		return -1;
	arr = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*arr));
	if (!arr) {
		oom(c);
		return -1;
	}
	for (size_t i = 0; i < n->len; i++) {
		const struct ypair *p = &n->pairs[i];
		size_t m = path_mapkey(c, p->key);

		if (map_key_str(c, p->key) < 0 || get_str(c, p->key, &arr[i].key) < 0 ||
		    get_str(c, p->value, &arr[i].value) < 0)
			bad = -1;
		path_pop(c, m);
	}
	*out = arr;
	*num = (int)n->len;
	return bad;
}

static void max_items(struct ctx *c, const struct ynode *n, size_t max)
{
	if (n->type == YN_SEQ && n->len > max)
		fail(c, n, "must have at most %zu items", max);
	if (n->type == YN_MAP && n->len > max)
		fail(c, n, "must have at most %zu properties", max);
}

// ---- Istio's string rules (pkg/config/validation, pkg/config/labels) ----

static bool alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

// dns1123_label is Istio's IsDNS1123Label: [a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?,
// at most 63 (Istio accepts upper case where Kubernetes does not).
static bool dns1123_label(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !alnum(s[0]) || !alnum(s[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool dns1123_label_z(const char *s)
{
	return dns1123_label(s, strlen(s));
}

// wildcard_label is IsWildcardDNS1123Label: "*", or [*|*-]label.
static bool wildcard_label(const char *s, size_t len)
{
	if (len > 63)
		return false;
	if (len == 1 && s[0] == '*')
		return true;
	if (len && s[0] == '*') {
		s++, len--;
		if (len && s[0] == '-')
			s++, len--;
	}
	return dns1123_label(s, len);
}

// k8s_label is Kubernetes' lowercase RFC 1123 label (namespaces).
static bool k8s_label(const char *s)
{
	size_t len = strlen(s);

	if (!dns1123_label(s, len))
		return false;
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			return false;
	return true;
}

// k8s_subdomain is Kubernetes' lowercase RFC 1123 subdomain (object names).
static bool k8s_subdomain(const char *s, size_t len)
{
	const char *end = s + len, *dot;

	if (len == 0 || len > 253)
		return false;
	for (;;) {
		dot = memchr(s, '.', end - s);
		size_t l = dot ? (size_t)(dot - s) : (size_t)(end - s);

		if (!dns1123_label(s, l))
			return false;
		for (size_t i = 0; i < l; i++)
			if (s[i] >= 'A' && s[i] <= 'Z')
				return false;
		if (!dot)
			return true;
		s = dot + 1;
	}
}

static bool is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool all_digits_atoi(const char *s, size_t len)
{
	// strconv.Atoi: optional sign, then digits.
	size_t i = 0;

	if (len && (s[0] == '+' || s[0] == '-'))
		i++;
	if (i == len)
		return false;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

// dns1123_labels is validateDNS1123Labels; it returns an error or NULL.
static const char *dns1123_labels(struct ctx *c, const char *full, const char *domain)
{
	const char *p = domain, *end = domain + strlen(domain), *last = strrchr(domain, '.');
	const char *tld = last ? last + 1 : domain;

	if (all_digits_atoi(tld, strlen(tld))) {
		snprintf(c->msg, sizeof(c->msg),
			 "domain name %s invalid (top level domain %s cannot be all-numeric)",
			 qv(c, full), qv(c, tld));
		return c->msg;
	}
	for (;;) {
		const char *dot = memchr(p, '.', end - p);
		size_t l = dot ? (size_t)(dot - p) : (size_t)(end - p);
		char label[80];

		if (!dot && l == 0)
			return NULL;	// trailing dot: "istio.io."
		if (!dns1123_label(p, l)) {
			clean(label, sizeof(label), p, l);
			snprintf(c->msg, sizeof(c->msg), "domain name %s invalid (label %s invalid)",
				 qv(c, full), qv(c, label));
			return c->msg;
		}
		if (!dot)
			return NULL;
		p = dot + 1;
	}
}

static const char *dns_preconditions(struct ctx *c, const char *name)
{
	if (strlen(name) > 255) {
		snprintf(c->msg, sizeof(c->msg), "domain name %s too long (max 255)", qv(c, name));
		return c->msg;
	}
	if (!*name)
		return "empty domain name not allowed";
	return NULL;
}

static const char *validate_fqdn(struct ctx *c, const char *s)
{
	const char *e = dns_preconditions(c, s);

	return e ? e : dns1123_labels(c, s, s);
}

static const char *validate_wildcard_domain(struct ctx *c, const char *s)
{
	const char *e = dns_preconditions(c, s), *dot;
	char label[80];

	if (e)
		return e;
	dot = strchr(s, '.');
	if (!wildcard_label(s, dot ? (size_t)(dot - s) : strlen(s))) {
		clean(label, sizeof(label), s, dot ? (size_t)(dot - s) : strlen(s));
		snprintf(c->msg, sizeof(c->msg), "domain name %s invalid (label %s invalid)",
			 qv(c, s), qv(c, label));
		return c->msg;
	}
	return dot ? dns1123_labels(c, s, dot + 1) : NULL;
}

// validate_ip_subnet is ValidateIPSubnet: an IP, or one "/" and a CIDR.
static const char *validate_ip_subnet(struct ctx *c, const char *s)
{
	const char *slash = strchr(s, '/');
	char ip[INET6_ADDRSTRLEN];
	unsigned char buf[sizeof(struct in6_addr)];
	size_t len;
	int fam, bits = 0;
	const char *d;

	if (!slash || strchr(slash + 1, '/')) {
		if (is_ip(s))
			return NULL;
		snprintf(c->msg, sizeof(c->msg), "%s is not a valid IP", qv(c, s));
		return c->msg;
	}
	len = slash - s;
	if (len >= sizeof(ip))
		goto bad;
	memcpy(ip, s, len);
	ip[len] = '\0';
	if (inet_pton(AF_INET, ip, buf) == 1)
		fam = 32;
	else if (inet_pton(AF_INET6, ip, buf) == 1)
		fam = 128;
	else
		goto bad;
	d = slash + 1;
	if (!*d || strlen(d) > 3)
		goto bad;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			goto bad;
		bits = bits * 10 + (*d - '0');
	}
	if (bits > fam)
		goto bad;
	return NULL;
bad:
	snprintf(c->msg, sizeof(c->msg), "%s is not a valid CIDR block", qv(c, s));
	return c->msg;
}

// qualified_name: Kubernetes label name, ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], <= 63.
static bool qualified_name(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !alnum(s[0]) || !alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static bool label_key_ok(const char *k)
{
	const char *slash = strchr(k, '/');

	if (!slash)
		return qualified_name(k, strlen(k));
	// prefix: a DNS subdomain (Istio's regex allows upper case here too)
	if (slash == k || slash - k > 253)
		return false;
	for (const char *p = k, *dot; p < slash; p = dot + 1) {
		dot = memchr(p, '.', slash - p);
		if (!dot)
			dot = slash;
		if (!dns1123_label(p, dot - p))
			return false;
	}
	return qualified_name(slash + 1, strlen(slash + 1));
}

static bool label_value_ok(const char *v)
{
	return !*v || qualified_name(v, strlen(v));
}

// validate_labels is labels.Instance.Validate on a map node + parsed kvs.
static void validate_labels(struct ctx *c, const struct ynode *n, const struct kv *kv, int num)
{
	for (int i = 0; i < num; i++) {
		size_t m;

		if (!kv[i].key || !kv[i].value)
			continue;
		m = path_mapkey(c, n->pairs[i].key);
		if (!label_key_ok(kv[i].key))
			fail(c, n->pairs[i].key, "invalid label key: %s", qv(c, kv[i].key));
		if (!label_value_ok(kv[i].value))
			fail(c, n->pairs[i].value, "invalid label value: %s", qv(c, kv[i].value));
		path_pop(c, m);
	}
}

// port_range reports Istio's ValidatePort message for n out of 1..65535.
static bool port_ok(struct ctx *c, const struct ynode *n, int64_t port)
{
	if (port >= 1 && port <= 65535)
		return true;
	fail(c, n, "port number %lld must be in the range 1..65535", (long long)port);
	return false;
}

struct proto_desc {
	const char *lower;	// as protocol.Parse compares
	const char *canon;	// what we store
	bool http, tls;
};

static const struct proto_desc protocols[] = {
	{ "tcp", "TCP", false, false },
	{ "udp", "UDP", false, false },
	{ "grpc", "GRPC", true, false },
	{ "grpc-web", "GRPC-WEB", true, false },
	{ "http", "HTTP", true, false },
	{ "http_proxy", "HTTP_PROXY", true, false },
	{ "http2", "HTTP2", true, false },
	{ "https", "HTTPS", false, true },
	{ "tls", "TLS", false, true },
	{ "mongo", "MONGO", false, false },
	{ "redis", "REDIS", false, false },
	{ "mysql", "MYSQL", false, false },
	{ "hbone", "HBONE", false, false },
	{ NULL, NULL, false, false },
};

// parse_protocol is protocol.Parse (case-insensitive); NULL = unsupported.
static const struct proto_desc *parse_protocol(const char *s)
{
	for (int i = 0; s && protocols[i].lower; i++)
		if (!strcasecmp(s, protocols[i].lower))
			return &protocols[i];
	return NULL;
}

// header_token: RFC 9110 token characters (header names).
static bool header_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!alnum(*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static const char jwt_claim_prefix[] = "@request.auth.claims.";

static bool is_jwt_claim_key(const char *name)
{
	return !strncmp(name, jwt_claim_prefix, sizeof(jwt_claim_prefix) - 1) &&
	       name[sizeof(jwt_claim_prefix) - 1];
}

static bool authority_header(const char *k)
{
	return !strcasecmp(k, ":authority") || !strcasecmp(k, "host");
}

static bool internal_header(const char *k)
{
	return k[0] == ':' || !strcasecmp(k, "host");
}

static const char *header_value_error(const char *v)
{
	for (; *v; v++)
		if (*v == '\r' || *v == '\n')
			return "header value must not contain CR or LF";
	return NULL;
}

// check_regex approximates RE2's parser without RE2: it rejects what RE2
// rejects most often (Perl lookaround and backreferences, unbalanced
// groups/classes, dangling or nested repetition, counts over 1000) and
// Istio's 1024-byte cap. The router compiles what passes.
static const char *check_regex(struct ctx *c, const char *re, const char *where)
{
	int depth = 0;
	bool can_repeat = false;	// an atom precedes
	int rep = 0;			// 0 none, 1 after op, 2 after lazy '?'
	const char *p = re;

	if (!*re) {
		snprintf(c->msg, sizeof(c->msg), "\"%s\": regex string match should not be empty", where);
		return c->msg;
	}
	if (strlen(re) > 1024) {
		snprintf(c->msg, sizeof(c->msg),
			 "\"%s\": regex is too large, max length allowed is 1024", where);
		return c->msg;
	}
	while (*p) {
		char ch = *p++;

		switch (ch) {
		case '\\':
			if (!*p)
				goto trailing;
			if (*p >= '1' && *p <= '9')
				goto backref;
			p++;
			can_repeat = true;
			rep = 0;
			break;
		case '[':
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '\\' && p[1])
					p++;
				else if (*p == '[' && p[1] == ':') {
					const char *e = strstr(p, ":]");

					if (e)
						p = e + 1;
				}
				p++;
			}
			if (!*p)
				goto unclosed_class;
			p++;
			can_repeat = true;
			rep = 0;
			break;
		case '(':
			if (*p == '?') {
				if (p[1] == '=' || p[1] == '!' || p[1] == '>' ||
				    (p[1] == '<' && (p[2] == '=' || p[2] == '!')))
					goto perl;
			}
			depth++;
			can_repeat = false;
			rep = 0;
			if (*p == '?') {
				// (?flags) or (?:...) or (?P<name>...)
				p++;
				while (*p && *p != ')' && *p != ':' && *p != '<' && *p != '>')
					p++;
			}
			break;
		case ')':
			if (depth == 0)
				goto unexpected_paren;
			depth--;
			can_repeat = true;
			rep = 0;
			break;
		case '|':
			can_repeat = false;
			rep = 0;
			break;
		case '*':
		case '+':
		case '?':
			if (rep == 1 && ch == '?') {
				rep = 2;
				break;
			}
			if (!can_repeat || rep)
				goto repetition;
			rep = 1;
			break;
		case '{': {
			// {n}, {n,}, {n,m}: counts over 1000 are errors; anything
			// else is a literal brace, as in RE2.
			char *end;
			long lo = strtol(p, &end, 10), hi;

			if (end == p || !isdigit((unsigned char)*p))
				goto literal;
			hi = lo;
			if (*end == ',') {
				char *e2;

				hi = strtol(end + 1, &e2, 10);
				if (e2 == end + 1)
					hi = -1;
				end = e2;
			}
			if (*end != '}')
				goto literal;
			if (!can_repeat || rep)
				goto repetition;
			if (lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo)) {
				snprintf(c->msg, sizeof(c->msg), "\"%s\": invalid repeat count in regex", where);
				return c->msg;
			}
			p = end + 1;
			rep = 1;
			break;
		}
		default:
		literal:
			can_repeat = true;
			rep = 0;
			break;
		}
	}
	if (depth) {
		snprintf(c->msg, sizeof(c->msg), "\"%s\": missing closing ) in regex", where);
		return c->msg;
	}
	return NULL;
trailing:
	snprintf(c->msg, sizeof(c->msg), "\"%s\": trailing backslash at end of regex", where);
	return c->msg;
backref:
	snprintf(c->msg, sizeof(c->msg), "\"%s\": backreferences are not supported "
		 "(Istio uses RE2 syntax)", where);
	return c->msg;
unclosed_class:
	snprintf(c->msg, sizeof(c->msg), "\"%s\": missing closing ] in regex", where);
	return c->msg;
perl:
	snprintf(c->msg, sizeof(c->msg), "\"%s\": lookaround is not supported (Istio uses RE2 syntax)",
		 where);
	return c->msg;
unexpected_paren:
	snprintf(c->msg, sizeof(c->msg), "\"%s\": unexpected ) in regex", where);
	return c->msg;
repetition:
	snprintf(c->msg, sizeof(c->msg), "\"%s\": missing argument to repetition operator "
		 "or nested repetition in regex", where);
	return c->msg;
}

// percentage_ok is validatePercentage on networking.Percent.
static void check_percentage(struct ctx *c, const struct ynode *at, double v)
{
	if (v < 0.0 || v > 100.0 || (v > 0.0 && v < 0.0001))
		fail(c, at, "percentage %g is neither 0.0, nor in range [0.0001, 100.0]", v);
}

static bool name_matches(const char *n, const char *o)
{
	// host.Name.Matches: wildcards match by suffix.
	size_t ln = strlen(n), lo = strlen(o);
	bool wn = ln && n[0] == '*', wo = lo && o[0] == '*';

	if (wn && wo) {
		if (ln < lo)
			return lo - 1 >= ln - 1 && !strcmp(o + 1 + (lo - ln), n + 1);
		return !strcmp(n + 1 + (ln - lo), o + 1);
	}
	if (wn)
		return lo >= ln - 1 && !strcmp(o + lo - (ln - 1), n + 1);
	if (wo)
		return ln >= lo - 1 && !strcmp(n + ln - (lo - 1), o + 1);
	return !strcmp(n, o);
}

static bool name_subset_of(const char *n, const char *o)
{
	// host.Name.SubsetOf
	size_t ln = strlen(n), lo = strlen(o);
	bool wn = ln && n[0] == '*', wo = lo && o[0] == '*';

	if (wn) {
		if (!wo || ln < lo)
			return false;
		return !strcmp(n + 1 + (ln - lo), o + 1);
	}
	if (wo)
		return ln >= lo - 1 && !strcmp(n + ln - (lo - 1), o + 1);
	return !strcmp(n, o);
}

// check_export_to is validateExportTo: ".", "*", "~" (ServiceEntry only) or
// namespaces, without duplicates ("." counts as the resource's namespace).
static void check_export_to(struct ctx *c, const struct ynode *n, const char **e, int num,
			    bool service_entry)
{
	bool has_public = false, has_none = false;

	for (int i = 0; i < num; i++) {
		const char *key = e[i];
		size_t m;

		if (!key)
			continue;
		m = path_idx(c, i);
		if (!strcmp(key, "."))
			key = c->ns ? c->ns : "default";
		for (int j = 0; j < i; j++) {
			const char *prev = e[j];

			if (!prev)
				continue;
			if (!strcmp(prev, "."))
				prev = c->ns ? c->ns : "default";
			if (!strcmp(prev, key)) {
				if (strcmp(key, e[i]) || strcmp(prev, e[j]))
					fail(c, n->items[i], "duplicate entries in exportTo: . and "
					     "current namespace %s", c->ns ? c->ns : "default");
				else
					fail(c, n->items[i], "duplicate entries in exportTo for entry %s",
					     qv(c, e[i]));
				goto next;
			}
		}
		if (!strcmp(e[i], "*"))
			has_public = true;
		else if (!strcmp(e[i], "~")) {
			has_none = true;
			if (!service_entry)
				fail(c, n->items[i], "exportTo ~ (none) is not allowed for Istio "
				     "configuration objects");
		} else if (strcmp(e[i], ".") && !dns1123_label_z(e[i])) {
			fail(c, n->items[i], "only .,*, or a valid DNS 1123 label is allowed as "
			     "exportTo entry");
		}
next:
		path_pop(c, m);
	}
	if (has_public && num > 1)
		fail(c, n, "cannot have both public (*) and non-public exportTo values for a resource");
	if (has_none && service_entry && num > 1)
		fail(c, n, "cannot export service entry to no one (~) and someone");
}

// check_gateway_names is validateGatewayNames: "ns/name", or a legacy FQDN.
static void check_gateway_names(struct ctx *c, const struct ynode *n, const char **g, int num)
{
	for (int i = 0; i < num; i++) {
		const char *slash, *e;
		size_t m;

		if (!g[i])
			continue;
		m = path_idx(c, i);
		slash = strchr(g[i], '/');
		if (!slash) {
			if ((e = validate_fqdn(c, g[i])))
				fail(c, n->items[i], "%s", e);
		} else {
			size_t nl = slash - g[i];

			if (nl == 0 || !slash[1])
				fail(c, n->items[i], "config namespace and gateway name cannot be empty");
			else if (!dns1123_label(g[i], nl))
				fail(c, n->items[i], "invalid value for namespace: %s", qv(c, g[i]));
			else if (!dns1123_label_z(slash + 1))
				fail(c, n->items[i], "invalid value for gateway name: %s",
				     qv(c, slash + 1));
		}
		path_pop(c, m);
	}
}

// ---- small readers and checks shared by the kinds below ----

// new_of returns size zeroed bytes from the config arena, or NULL after
// reporting that memory ran out.
static void *new_of(struct ctx *c, size_t size)
{
	void *p = arena_alloc(c->ar, size);

	if (!p)
		oom(c);
	return p;
}

// get_opt_str is get_str for an optional string: "" reads as unset (NULL),
// as protobuf reads it.
static int get_opt_str(struct ctx *c, const struct ynode *n, const char **out)
{
	if (get_str(c, n, out) < 0)
		return -1;
	if (!**out)
		*out = NULL;
	return 0;
}

// get_u32_value reads a google.protobuf.UInt32Value: a plain integer in YAML.
static int get_u32_value(struct ctx *c, const struct ynode *n, int64_t *out)
{
	uint32_t v;

	if (get_u32(c, n, &v) < 0)
		return -1;
	*out = v;
	return 0;
}

static int get_u64(struct ctx *c, const struct ynode *n, uint64_t *out)
{
	int64_t v;

	if (get_i64(c, n, 0, INT64_MAX, "uint64", &v) < 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

// get_nonneg_i32 reads an int32 that Istio requires to be >= 0; what is
// names the field in Istio's words ("max connections").
static void get_nonneg_i32(struct ctx *c, const struct ynode *n, const char *what, int32_t *out)
{
	if (get_i32(c, n, out) == 0 && *out < 0)
		fail(c, n, "%s must be non-negative", what);
}

// check_min_max is a CRD minimum/maximum, worded as the API server words it.
static void check_min_max(struct ctx *c, const struct ynode *n, double v, double min, double max)
{
	if (v < min)
		fail(c, n, "Invalid value: %g: should be greater than or equal to %g", v, min);
	else if (v > max)
		fail(c, n, "Invalid value: %g: should be less than or equal to %g", v, max);
}

// fail_field reports msg at field of map (its key's line, the path through
// it), or at map when the field is absent.
static void fail_field(struct ctx *c, const struct ynode *map, const char *field, const char *msg)
{
	const struct ynode *v = yaml_tree_map_get(map, field);
	size_t m;

	if (!v) {
		fail(c, map, "%s", msg);
		return;
	}
	m = path_field(c, field);
	fail(c, key_of(map, v), "%s", msg);
	path_pop(c, m);
}

// check_selector_labels is validateWorkloadSelector on the labels of a
// selector: no empty keys, no wildcards. n is the labels mapping.
static void check_selector_labels(struct ctx *c, const struct ynode *n, const struct kv *kv, int num)
{
	for (int i = 0; i < num; i++) {
		size_t mi;

		if (!kv[i].key || !kv[i].value)
			continue;
		mi = path_mapkey(c, n->pairs[i].key);
		if (!*kv[i].key)
			fail(c, n->pairs[i].key, "empty key is not supported in selector: %s=%s",
			     kv[i].key, qv(c, kv[i].value));
		if (strchr(kv[i].key, '*') || strchr(kv[i].value, '*'))
			fail(c, n->pairs[i].value, "wildcard is not supported in selector: %s",
			     qv(c, kv[i].value));
		path_pop(c, mi);
	}
}

// parse_match_labels reads a type.v1beta1.WorkloadSelector ({matchLabels}).
static void parse_match_labels(struct ctx *c, const struct ynode *n, struct kv **out, int *num)
{
	const struct ypair *q;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, q) {
		if (!key_is(q, "matchLabels")) {
			unknown_field(c, q);
			continue;
		}
		if (get_str_map(c, q->value, out, num) < 0)
			continue;
		max_items(c, q->value, 4096);
		check_selector_labels(c, q->value, *out, *num);
	}
}

// ---- ServiceEntry ----

static const char *const se_locations[] = { "MESH_EXTERNAL", "MESH_INTERNAL", NULL };
static const char *const se_resolutions[] = { "NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", NULL };

// se_nodes keeps the YAML nodes of a ServiceEntry spec for the checks that
// span fields and run after every field is read.
struct se_nodes {
	const struct ynode *spec, *hosts, *addresses, *ports, *endpoints, *selector;
	const struct ynode *selector_labels, *export_to, *resolution;
};

static void parse_se_port(struct ctx *c, const struct ynode *n, struct se_port *port)
{
	const struct ypair *p;
	bool has_number = false, has_name = false;
	const char *proto = NULL;
	uint32_t v;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "number")) {
			if (get_u32(c, p->value, &v) < 0)
				continue;
			has_number = true;
			port->number = v;
			if (v < 1 || v > 65535)
				fail(c, p->value, "port must be between 1-65535 (got %u)", v);
		} else if (key_is(p, "protocol")) {
			const struct proto_desc *pd;

			if (!(proto = scalar_str(c, p->value)))
				continue;
			if (strlen(proto) > 256)
				fail(c, p->value, "may not be longer than 256");
			else if (*proto && !(pd = parse_protocol(proto)))
				fail(c, p->value, "unsupported protocol: %s", qv(c, proto));
			else if (*proto)
				port->protocol = pd->canon;	// "" stays unset: sniffed
		} else if (key_is(p, "name")) {
			if (get_str(c, p->value, &port->name) < 0)
				continue;
			has_name = true;
			if (strlen(port->name) > 256)
				fail(c, p->value, "may not be longer than 256");
			else if (!dns1123_label_z(port->name))
				fail(c, p->value, "invalid port name: %s", qv(c, port->name));
		} else if (key_is(p, "targetPort")) {
			if (get_u32(c, p->value, &v) < 0)
				continue;
			port->target_port = v;
			if (v < 1 || v > 65535)
				fail(c, p->value, "port must be between 1-65535 (got %u)", v);
		} else {
			unknown_field(c, p);
		}
	}
	if (!has_number)
		required(c, n, "number");
	if (!has_name)
		required(c, n, "name");
}

static void parse_se_ports(struct ctx *c, const struct ynode *n, struct service_entry *se)
{
	if (!expect_seq(c, n))
		return;
	max_items(c, n, 256);
	se->ports = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*se->ports));
	if (!se->ports) {
		oom(c);
		return;
	}
	se->num_ports = (int)n->len;
	for (size_t i = 0; i < n->len; i++) {
		size_t m = path_idx(c, i);

		if (yaml_tree_is_null(n->items[i]))
			fail(c, n->items[i], "service entry port may not be null");
		else
			parse_se_port(c, n->items[i], &se->ports[i]);
		path_pop(c, m);
	}
	// Names are the list's map key (listType=map); numbers must be unique.
	for (size_t i = 1; i < n->len; i++) {
		const struct se_port *pi = &se->ports[i];

		for (size_t j = 0; j < i; j++) {
			const struct se_port *pj = &se->ports[j];
			size_t m;

			if (pi->name && pj->name && !strcmp(pi->name, pj->name)) {
				m = path_idx(c, i);
				path_field(c, "name");
				fail(c, yaml_tree_map_get(n->items[i], "name"),
				     "Duplicate value: service entry port name %s already defined",
				     qv(c, pi->name));
				path_pop(c, m);
				break;
			}
		}
		for (size_t j = 0; j < i; j++) {
			const struct se_port *pj = &se->ports[j];
			size_t m;

			if (pi->number && pi->number == pj->number) {
				m = path_idx(c, i);
				path_field(c, "number");
				fail(c, yaml_tree_map_get(n->items[i], "number"),
				     "port number cannot be duplicated: service entry port %u "
				     "already defined", pi->number);
				path_pop(c, m);
				break;
			}
		}
	}
}

// parse_endpoint reads a WorkloadEntry spec (a ServiceEntry endpoint, a
// WorkloadGroup template). need_address is the CRD's "Address is required",
// which a WorkloadGroup template is exempt from: the address is filled in
// per workload.
static void parse_endpoint(struct ctx *c, const struct ynode *n, struct se_endpoint *ep,
			   const struct ynode **ports_node, const struct ynode **labels_node,
			   bool need_address)
{
	const struct ypair *p;
	bool has_network = false;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "address")) {
			const char *a;

			if (get_str(c, p->value, &ep->address) < 0)
				continue;
			a = ep->address;
			if (strlen(a) > 256) {
				fail(c, p->value, "may not be longer than 256");
			} else if (!strncmp(a, "unix://", 7)) {
				if (a[7] != '/' && a[7] != '@')
					fail(c, p->value, "UDS must be an absolute path or abstract socket");
				else if (a[strlen(a) - 1] == '/')
					fail(c, p->value, "UDS may not be a dir");
			}
		} else if (key_is(p, "ports")) {
			const struct ynode *pn = p->value;

			*ports_node = pn;
			if (!expect_map(c, pn))
				continue;
			ep->ports = arena_alloc_array(c->ar, pn->len ? pn->len : 1, sizeof(*ep->ports));
			if (!ep->ports) {
				oom(c);
				continue;
			}
			ep->num_ports = (int)pn->len;
			for (size_t i = 0; i < pn->len; i++) {
				const struct ypair *pp = &pn->pairs[i];
				size_t m = path_mapkey(c, pp->key);
				uint32_t v;
				char num[16];

				if (map_key_str(c, pp->key) == 0 &&
				    get_str(c, pp->key, &ep->ports[i].key) == 0 &&
				    !dns1123_label_z(ep->ports[i].key))
					fail(c, pp->key, "port name must be valid: %s",
					     qv(c, ep->ports[i].key));
				if (yaml_tree_is_null(pp->value)) {
					fail(c, pp->value, "must not be null");
				} else if (get_u32(c, pp->value, &v) == 0) {
					if (v < 1 || v > 65535)
						fail(c, pp->value, "port must be between 1-65535 (got %u)", v);
					snprintf(num, sizeof(num), "%u", v);
					if (!(ep->ports[i].value = arena_strdup(c->ar, num)))
						oom(c);
				}
				path_pop(c, m);
			}
		} else if (key_is(p, "labels")) {
			*labels_node = p->value;
			get_str_map(c, p->value, &ep->labels, &ep->num_labels);
		} else if (key_is(p, "network")) {
			if (get_str(c, p->value, &ep->network) == 0)
				has_network = true;
		} else if (key_is(p, "locality")) {
			get_str(c, p->value, &ep->locality);
		} else if (key_is(p, "weight")) {
			get_u32(c, p->value, &ep->weight);
		} else if (key_is(p, "serviceAccount")) {
			get_str(c, p->value, &ep->service_account);
		} else {
			unknown_field(c, p);
		}
	}
	if (need_address && !ep->address && !has_network && !yaml_tree_map_get(n, "address"))
		fail(c, n, "Address is required");
	if (ep->address && !strncmp(ep->address, "unix://", 7) && *ports_node)
		fail(c, *ports_node, "UDS may not include ports");
}

static bool se_has_port(const struct service_entry *se, const char *name)
{
	for (int i = 0; i < se->num_ports; i++)
		if (se->ports[i].name && !strcmp(se->ports[i].name, name))
			return true;
	return false;
}

// check_endpoints applies the resolution-dependent rules of
// ValidateServiceEntry / validateWorkloadEntry to every endpoint.
static void check_endpoints(struct ctx *c, const struct se_nodes *sn, struct service_entry *se,
			    const struct ynode **ep_ports, const struct ynode **ep_labels)
{
	const struct ynode *eps = sn->endpoints;
	size_t m0 = path_field(c, "endpoints");

	for (int i = 0; i < se->num_endpoints; i++) {
		const struct se_endpoint *ep = &se->endpoints[i];
		const struct ynode *en = eps->items[i];
		const struct ynode *an = yaml_tree_map_get(en, "address");
		size_t m = path_idx(c, (size_t)i);
		const char *a = ep->address ? ep->address : "";
		bool unix_ep = !strncmp(a, "unix://", 7);

		if (en->type != YN_MAP)
			goto next;
		if (an)
			path_field(c, "address");
		if (se->resolution == SE_RES_STATIC) {
			if (!unix_ep && *a && !is_ip(a))
				fail(c, an, "endpoint address %s is not a valid IP address", qv(c, a));
			if (unix_ep && se->num_ports != 1)
				fail(c, an, "exactly 1 service port required for unix endpoints");
		} else if (se->resolution == SE_RES_DNS || se->resolution == SE_RES_DNS_ROUND_ROBIN) {
			if (!is_ip(a) && validate_fqdn(c, a))
				fail(c, an ? an : en, "endpoint address %s is not a valid FQDN or an IP address",
				     qv(c, a));
		}
		path_pop(c, m);
		m = path_idx(c, (size_t)i);
		if (ep_labels[i]) {
			size_t ml = path_field(c, "labels");

			validate_labels(c, ep_labels[i], ep->labels, ep->num_labels);
			path_pop(c, ml);
		}
		if (ep_ports[i] && ep_ports[i]->type == YN_MAP) {
			size_t mp = path_field(c, "ports");

			for (int j = 0; j < ep->num_ports; j++) {
				size_t mk;

				if (!ep->ports[j].key || se_has_port(se, ep->ports[j].key))
					continue;
				mk = path_mapkey(c, ep_ports[i]->pairs[j].key);
				fail(c, ep_ports[i]->pairs[j].key,
				     "endpoint port %s is not defined by the service entry",
				     qv(c, ep->ports[j].key));
				path_pop(c, mk);
			}
			path_pop(c, mp);
		}
next:
		path_pop(c, m);
	}
	path_pop(c, m0);
}

// parse_workload_entry checks a WorkloadEntry as istiod does: the
// endpoint's fields, an address that is an IP, a fully-qualified name
// without wildcards (for ServiceEntries with resolution DNS) or a unix
// socket, ports 1..65535 without UDS, valid labels.
static void parse_workload_entry(struct ctx *c, const struct ynode *spec, struct workload_entry *we)
{
	const struct ynode *ports = NULL, *labels = NULL, *an;
	const char *a;
	size_t m;

	if (!spec) {
		fail(c, NULL, "spec: Required value");
		return;
	}
	m = path_field(c, "spec");
	parse_endpoint(c, spec, &we->ep, &ports, &labels, true);
	if (spec->type == YN_MAP) {
		an = yaml_tree_map_get(spec, "address");
		a = we->ep.address;
		if (a && *a && strncmp(a, "unix://", 7) && !is_ip(a) && validate_fqdn(c, a)) {
			size_t ma = path_field(c, "address");

			fail(c, an, "address %s is not a valid FQDN or an IP address", qv(c, a));
			path_pop(c, ma);
		}
		if (labels) {
			size_t ml = path_field(c, "labels");

			validate_labels(c, labels, we->ep.labels, we->ep.num_labels);
			path_pop(c, ml);
		}
	}
	path_pop(c, m);
}

static void parse_service_entry(struct ctx *c, const struct ynode *spec, struct service_entry *se)
{
	struct se_nodes sn = { .spec = spec };
	const struct ynode **ep_ports = NULL, **ep_labels = NULL;
	const struct ypair *p;
	bool cidr = false;
	int v;
	size_t m;

	if (!spec) {
		fail(c, NULL, "spec: Required value");
		return;
	}
	m = path_field(c, "spec");
	if (!expect_map(c, spec))
		goto out;
	FOR_FIELDS(c, spec, p) {
		if (key_is(p, "hosts")) {
			sn.hosts = p->value;
			if (get_str_list(c, p->value, &se->hosts, &se->num_hosts) < 0)
				continue;
			max_items(c, p->value, 256);
			for (int i = 0; i < se->num_hosts; i++) {
				size_t mi = path_idx(c, (size_t)i);
				const char *e;

				if (!strcmp(se->hosts[i], "*"))
					fail(c, p->value->items[i], "hostname cannot be wildcard");
				else if ((e = validate_wildcard_domain(c, se->hosts[i])))
					fail(c, p->value->items[i], "%s", e);
				path_pop(c, mi);
			}
		} else if (key_is(p, "addresses")) {
			sn.addresses = p->value;
			if (get_str_list(c, p->value, &se->addresses, &se->num_addresses) < 0)
				continue;
			max_items(c, p->value, 256);
			for (int i = 0; i < se->num_addresses; i++) {
				size_t mi = path_idx(c, (size_t)i);
				const char *e;

				if (strchr(se->addresses[i], '/'))
					cidr = true;
				if (strlen(se->addresses[i]) > 64)
					fail(c, p->value->items[i], "may not be longer than 64");
				else if ((e = validate_ip_subnet(c, se->addresses[i])))
					fail(c, p->value->items[i], "%s", e);
				path_pop(c, mi);
			}
		} else if (key_is(p, "ports")) {
			sn.ports = p->value;
			parse_se_ports(c, p->value, se);
		} else if (key_is(p, "location")) {
			if (get_enum(c, p->value, se_locations, &v) == 0)
				se->location = (enum se_location)v;
		} else if (key_is(p, "resolution")) {
			sn.resolution = p->value;
			if (get_enum(c, p->value, se_resolutions, &v) == 0)
				se->resolution = (enum se_resolution)v;
		} else if (key_is(p, "endpoints")) {
			const struct ynode *en = p->value;

			sn.endpoints = en;
			if (!expect_seq(c, en))
				continue;
			max_items(c, en, 4096);
			se->endpoints = arena_alloc_array(c->ar, en->len ? en->len : 1,
							  sizeof(*se->endpoints));
			ep_ports = arena_alloc_array(c->ar, en->len ? en->len : 1, sizeof(*ep_ports));
			ep_labels = arena_alloc_array(c->ar, en->len ? en->len : 1, sizeof(*ep_labels));
			if (!se->endpoints || !ep_ports || !ep_labels) {
				oom(c);
				continue;
			}
			se->num_endpoints = (int)en->len;
			for (size_t i = 0; i < en->len; i++) {
				size_t mi = path_idx(c, i);

				if (yaml_tree_is_null(en->items[i]))
					fail(c, en->items[i], "endpoint cannot be nil");
				else
					parse_endpoint(c, en->items[i], &se->endpoints[i],
						       &ep_ports[i], &ep_labels[i], true);
				path_pop(c, mi);
			}
		} else if (key_is(p, "workloadSelector")) {
			const struct ypair *q;

			sn.selector = p->value;
			if (!expect_map(c, p->value))
				continue;
			FOR_FIELDS(c, p->value, q) {
				if (!key_is(q, "labels")) {
					unknown_field(c, q);
					continue;
				}
				sn.selector_labels = q->value;
				if (get_str_map(c, q->value, &se->workload_selector,
						&se->num_workload_selector) < 0)
					continue;
				max_items(c, q->value, 256);
				check_selector_labels(c, q->value, se->workload_selector,
						      se->num_workload_selector);
			}
		} else if (key_is(p, "exportTo")) {
			sn.export_to = p->value;
			if (get_str_list(c, p->value, &se->export_to, &se->num_export_to) == 0)
				check_export_to(c, p->value, se->export_to, se->num_export_to, true);
		} else if (key_is(p, "subjectAltNames")) {
			get_str_list(c, p->value, &se->subject_alt_names, &se->num_subject_alt_names);
		} else {
			unknown_field(c, p);
		}
	}
	if (c->errors)
		goto out;	// the rules below assume well-typed fields

	// Checks that span fields (CRD x-kubernetes-validations and the webhook).
	if (se->num_hosts == 0)
		required(c, sn.hosts ? sn.hosts : spec, "hosts");
	if (sn.selector && sn.endpoints)
		fail(c, key_of(spec, sn.endpoints), "only one of WorkloadSelector or Endpoints can be set");
	if (cidr && se->resolution != SE_RES_NONE && se->resolution != SE_RES_STATIC) {
		size_t ma = path_field(c, "addresses");

		fail(c, key_of(spec, sn.addresses),
		     "CIDR addresses are allowed only for NONE/STATIC resolution types");
		path_pop(c, ma);
	}
	if (se->resolution == SE_RES_NONE && sn.endpoints) {
		size_t me = path_field(c, "endpoints");

		fail(c, key_of(spec, sn.endpoints), "NONE mode cannot set endpoints");
		path_pop(c, me);
	}
	if (se->resolution == SE_RES_DNS_ROUND_ROBIN && se->num_endpoints > 1) {
		size_t me = path_field(c, "endpoints");

		fail(c, key_of(spec, sn.endpoints), "DNS_ROUND_ROBIN mode cannot have multiple endpoints");
		path_pop(c, me);
	}
	if ((se->resolution == SE_RES_DNS || se->resolution == SE_RES_DNS_ROUND_ROBIN) &&
	    se->num_endpoints == 0) {
		for (int i = 0; i < se->num_hosts; i++) {
			size_t mh = path_field(c, "hosts");

			path_idx(c, (size_t)i);
			if (validate_fqdn(c, se->hosts[i]))
				fail(c, sn.hosts->items[i], "hosts must be FQDN if no endpoints are "
				     "provided for resolution mode %s", se_resolutions[se->resolution]);
			path_pop(c, mh);
		}
	}
	if (se->resolution != SE_RES_NONE && sn.endpoints)
		check_endpoints(c, &sn, se, ep_ports, ep_labels);
	if (se->resolution != SE_RES_NONE && se->num_hosts > 1) {
		// Plain TCP cannot tell hosts apart; only NONE ignores hosts.
		for (int i = 0; i < se->num_ports; i++) {
			const struct proto_desc *pd = parse_protocol(se->ports[i].protocol);

			if (!pd || (!pd->http && !pd->tls)) {
				size_t mp = path_field(c, "ports");

				path_idx(c, (size_t)i);
				fail(c, sn.ports->items[i], "multiple hosts provided with non-HTTP, "
				     "non-TLS ports");
				path_pop(c, mp);
				break;
			}
		}
	}
out:
	path_pop(c, m);
}

// ---- VirtualService ----

struct vs_info {
	bool delegate;		// no hosts: a delegate VirtualService
	bool to_gateway;	// bound to gateways other than "mesh"
	const struct ynode *jwt_key;	// first JWT-claim header key seen
};

static void parse_string_match(struct ctx *c, const struct ynode *n, struct string_match *sm)
{
	const struct ypair *p;
	int set = 0;

	sm->kind = SM_NONE;
	sm->value = NULL;
	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		enum string_match_kind k;

		if (key_is(p, "exact"))
			k = SM_EXACT;
		else if (key_is(p, "prefix"))
			k = SM_PREFIX;
		else if (key_is(p, "regex"))
			k = SM_REGEX;
		else {
			unknown_field(c, p);
			continue;
		}
		if (++set > 1) {
			fail(c, p->key, "only one of exact, prefix or regex may be set");
			continue;
		}
		if (get_str(c, p->value, &sm->value) == 0)
			sm->kind = k;
	}
}

// check_string_match is validateStringMatch (prefix must not be empty unless
// allow_empty_prefix, as for uri) plus the regex check.
static void check_string_match(struct ctx *c, const struct ynode *n, const struct string_match *sm,
			       const char *where, bool allow_empty_prefix)
{
	const char *field = sm->kind == SM_PREFIX ? "prefix" : "regex", *e;
	const struct ynode *at = n && n->type == YN_MAP ? yaml_tree_map_get(n, field) : NULL;
	size_t m = at ? path_field(c, field) : c->plen;

	if (!at)
		at = n;
	if (sm->kind == SM_PREFIX && !allow_empty_prefix && !*sm->value)
		fail(c, at, "\"%s\": prefix string match should not be empty", where);
	if (sm->kind == SM_REGEX && (e = check_regex(c, sm->value, where)))
		fail(c, at, "%s", e);
	path_pop(c, m);
}

// parse_named_matches reads headers / withoutHeaders / queryParams.
static int parse_named_matches(struct ctx *c, const struct ynode *n, const char *where,
			       bool header, bool without, struct vs_info *vi,
			       struct named_match **out, int *num)
{
	struct named_match *arr;

	if (!expect_map(c, n))
		return -1;
	arr = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*arr));
	if (!arr) {
		oom(c);
		return -1;
	}
	for (size_t i = 0; i < n->len; i++) {
		const struct ypair *p = &n->pairs[i];
		size_t m = path_mapkey(c, p->key);
		const char *name;

		if (map_key_str(c, p->key) < 0 || get_str(c, p->key, &arr[i].name) < 0)
			goto next;
		name = arr[i].name;
		if (header) {
			if (!*name)
				fail(c, p->key, "header name cannot be empty");
			else if (is_jwt_claim_key(name)) {
				if (!vi->jwt_key)
					vi->jwt_key = p->key;
			} else if (!header_token(name))
				fail(c, p->key, "header name %s is not a valid header name", qv(c, name));
			else
				for (char *s = (char *)name; *s; s++)
					*s = (char)tolower((unsigned char)*s);
		}
		if (yaml_tree_is_null(p->value)) {
			fail(c, p->value, "%s match %s cannot be null", where, qv(c, name));
			goto next;
		}
		parse_string_match(c, p->value, &arr[i].match);
		// withoutHeaders: regex "*" is Istio's "present", not RE2.
		if (!(without && arr[i].match.kind == SM_REGEX && !strcmp(arr[i].match.value, "*")))
			check_string_match(c, p->value, &arr[i].match, where, false);
next:
		path_pop(c, m);
	}
	*out = arr;
	*num = (int)n->len;
	return 0;
}

static void parse_http_match(struct ctx *c, const struct ynode *n, struct http_match *hm,
			     struct vs_info *vi)
{
	const struct ypair *p;
	uint32_t v;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "name")) {
			get_str(c, p->value, &hm->name);
		} else if (key_is(p, "uri")) {
			parse_string_match(c, p->value, &hm->uri);
			// an empty uri prefix is allowed (Envoy's path prefix "")
			check_string_match(c, p->value, &hm->uri, "uri", true);
		} else if (key_is(p, "scheme")) {
			parse_string_match(c, p->value, &hm->scheme);
			check_string_match(c, p->value, &hm->scheme, "scheme", false);
		} else if (key_is(p, "method")) {
			parse_string_match(c, p->value, &hm->method);
			check_string_match(c, p->value, &hm->method, "method", false);
		} else if (key_is(p, "authority")) {
			parse_string_match(c, p->value, &hm->authority);
			check_string_match(c, p->value, &hm->authority, "authority", false);
		} else if (key_is(p, "headers")) {
			int nx = 0;

			if (parse_named_matches(c, p->value, "headers", true, false, vi,
						&hm->headers, &hm->num_headers) < 0)
				continue;
			hm->headers_exact = arena_alloc_array(c->ar, hm->num_headers ? hm->num_headers : 1,
							      sizeof(*hm->headers_exact));
			if (!hm->headers_exact) {
				oom(c);
				continue;
			}
			for (int i = 0; i < hm->num_headers; i++) {
				if (hm->headers[i].match.kind != SM_EXACT)
					continue;
				hm->headers_exact[nx].key = hm->headers[i].name;
				hm->headers_exact[nx].value = hm->headers[i].match.value;
				nx++;
			}
			hm->num_headers_exact = nx;
		} else if (key_is(p, "withoutHeaders")) {
			parse_named_matches(c, p->value, "withoutHeaders", true, true, vi,
					    &hm->without_headers, &hm->num_without_headers);
		} else if (key_is(p, "queryParams")) {
			parse_named_matches(c, p->value, "queryParams", false, false, vi,
					    &hm->query_params, &hm->num_query_params);
		} else if (key_is(p, "port")) {
			if (get_u32(c, p->value, &v) < 0)
				continue;
			hm->port = v;
			if (v)
				port_ok(c, p->value, v);
		} else if (key_is(p, "sourceLabels")) {
			if (get_str_map(c, p->value, &hm->source_labels, &hm->num_source_labels) == 0)
				validate_labels(c, p->value, hm->source_labels, hm->num_source_labels);
		} else if (key_is(p, "gateways")) {
			if (get_str_list(c, p->value, &hm->gateways, &hm->num_gateways) == 0)
				check_gateway_names(c, p->value, hm->gateways, hm->num_gateways);
		} else if (key_is(p, "ignoreUriCase")) {
			get_bool(c, p->value, &hm->ignore_uri_case);
		} else if (key_is(p, "sourceNamespace")) {
			if (get_str(c, p->value, &hm->source_namespace) == 0 &&
			    !dns1123_label_z(hm->source_namespace))
				fail(c, p->value, "sourceNamespace match %s is invalid",
				     qv(c, hm->source_namespace));
		} else if (key_is(p, "statPrefix")) {
			get_str(c, p->value, &hm->stat_prefix);
		} else {
			unknown_field(c, p);
		}
	}
}

static void parse_port_selector(struct ctx *c, const struct ynode *n, uint32_t *port)
{
	const struct ypair *p;
	bool has = false;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "number")) {
			if (get_u32(c, p->value, port) == 0) {
				has = true;
				port_ok(c, p->value, *port);
			}
		} else {
			unknown_field(c, p);
		}
	}
	if (!has)
		fail(c, n, "port number 0 must be in the range 1..65535");
}

// parse_destination reads and validates a Destination (validateDestination).
static void parse_destination(struct ctx *c, const struct ynode *n, struct destination *d)
{
	const struct ypair *p;
	const char *e;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "host")) {
			if (get_str(c, p->value, &d->host) < 0)
				continue;
			if (!strcmp(d->host, "*"))
				fail(c, p->value, "invalid destination host *");
			else if ((e = validate_wildcard_domain(c, d->host)))
				fail(c, p->value, "%s", e);
		} else if (key_is(p, "subset")) {
			if (get_str(c, p->value, &d->subset) < 0)
				continue;
			if (!*d->subset)
				d->subset = NULL;	// unset, as protobuf reads ""
			else if (!dns1123_label_z(d->subset))
				fail(c, p->value, "subset name is invalid: %s", qv(c, d->subset));
		} else if (key_is(p, "port")) {
			parse_port_selector(c, p->value, &d->port);
		} else {
			unknown_field(c, p);
		}
	}
	if (!d->host && !yaml_tree_map_get(n, "host"))
		required(c, n, "host");
	else if (!d->host && yaml_tree_is_null(yaml_tree_map_get(n, "host")))
		required(c, n, "host");
}

// parse_header_ops checks Headers{request,response}{set,add,remove}.
// authority_out gets the request authority set (for the rewrite conflict).
static void parse_header_ops(struct ctx *c, const struct ynode *n, const char **authority_out,
			     const struct ynode **authority_node, struct http_headers *out)
{
	const struct ypair *p, *q;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		bool request = key_is(p, "request");
		struct header_ops *ops = request ? &out->request : &out->response;

		if (!request && !key_is(p, "response")) {
			unknown_field(c, p);
			continue;
		}
		if (!expect_map(c, p->value))
			continue;
		FOR_FIELDS(c, p->value, q) {
			bool set = key_is(q, "set"), add = key_is(q, "add");

			if (set || add) {
				struct kv *kv;
				int num;

				if (get_str_map(c, q->value, &kv, &num) < 0)
					continue;
				if (set) {
					ops->set = kv;
					ops->num_set = num;
				} else {
					ops->add = kv;
					ops->num_add = num;
				}
				for (int i = 0; i < num; i++) {
					const struct ypair *hp = &q->value->pairs[i];
					size_t m = path_mapkey(c, hp->key);
					const char *e;

					if (!*kv[i].key) {
						fail(c, hp->key, "header name cannot be empty");
					} else if (request && authority_header(kv[i].key)) {
						if (*authority_out)
							fail(c, hp->key, "authority header cannot be set "
							     "multiple times: have %s, attempting to set %s",
							     qv(c, *authority_out), qv(c, kv[i].value));
						*authority_out = kv[i].value;
						*authority_node = hp->key;
					} else if (!header_token(kv[i].key)) {
						fail(c, hp->key, "header name %s is not a valid header name",
						     qv(c, kv[i].key));
					} else if (internal_header(kv[i].key)) {
						fail(c, hp->key, "invalid header %s: header cannot have "
						     "\":\" prefix or be the \"host\" header", qv(c, kv[i].key));
					}
					if ((e = header_value_error(kv[i].value)))
						fail(c, hp->value, "%s", e);
					path_pop(c, m);
				}
			} else if (key_is(q, "remove")) {
				const char **names;
				int num;

				if (get_str_list(c, q->value, &names, &num) < 0)
					continue;
				ops->remove = names;
				ops->num_remove = num;
				for (int i = 0; i < num; i++) {
					size_t m = path_idx(c, (size_t)i);

					if (!*names[i])
						fail(c, q->value->items[i], "header name cannot be empty");
					else if (!header_token(names[i]))
						fail(c, q->value->items[i], "header name %s is not a valid "
						     "header name", qv(c, names[i]));
					else if (internal_header(names[i]))
						fail(c, q->value->items[i], "invalid header %s: header "
						     "cannot have \":\" prefix or be the \"host\" header",
						     qv(c, names[i]));
					path_pop(c, m);
				}
			} else {
				unknown_field(c, q);
			}
		}
	}
}

static void parse_percent(struct ctx *c, const struct ynode *n, double *out, bool *has)
{
	const struct ypair *p;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "value")) {
			if (get_double(c, p->value, out) == 0)
				*has = true;
		} else {
			unknown_field(c, p);
		}
	}
}

static void parse_route_dests(struct ctx *c, const struct ynode *key, const struct ynode *n,
			      bool http, struct http_route_dest **out, int *num, unsigned *features)
{
	struct http_route_dest *arr;
	int64_t total = 0;

	if (!expect_seq(c, n))
		return;
	arr = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*arr));
	if (!arr) {
		oom(c);
		return;
	}
	for (size_t i = 0; i < n->len; i++) {
		const struct ynode *it = n->items[i];
		size_t m = path_idx(c, i);
		const struct ypair *p;
		bool has_dest = false;

		if (yaml_tree_is_null(it)) {
			fail(c, it, "weight may not be nil");
			goto next;
		}
		if (!expect_map(c, it))
			goto next;
		FOR_FIELDS(c, it, p) {
			if (key_is(p, "destination")) {
				has_dest = true;
				parse_destination(c, p->value, &arr[i].destination);
			} else if (key_is(p, "weight")) {
				if (get_i32(c, p->value, &arr[i].weight) < 0)
					continue;
				if (arr[i].weight < 0)
					fail(c, p->value, "weight %d < 0", arr[i].weight);
				else
					total += arr[i].weight;
			} else if (http && key_is(p, "headers")) {
				const char *auth = NULL;
				const struct ynode *an = NULL;

				*features |= HR_F_HEADERS;
				if (!(arr[i].headers = arena_alloc(c->ar, sizeof(*arr[i].headers)))) {
					oom(c);
					continue;
				}
				memset(arr[i].headers, 0, sizeof(*arr[i].headers));
				parse_header_ops(c, p->value, &auth, &an, arr[i].headers);
			} else {
				unknown_field(c, p);
			}
		}
		if (!has_dest)
			fail(c, it, "destination is required");
next:
		path_pop(c, m);
	}
	if (n->len > 1 && total == 0)
		fail(c, key, "total destination weight = 0");
	// Envoy sums weights into a uint32.
	if (total > UINT32_MAX)
		fail(c, key, "total destination weight %lld is larger than 4294967295", (long long)total);
	*out = arr;
	*num = (int)n->len;
}

static const char *const retry_on_policies[] = {
	"5xx", "gateway-error", "reset", "reset-before-request", "connect-failure",
	"retriable-4xx", "refused-stream", "retriable-status-codes", "retriable-headers",
	"envoy-ratelimited", "http3-post-connect-failure",
	"cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable",
	NULL,
};

// http_status_text reports whether Go's http.StatusText(code) is non-empty.
static bool http_status_known(long code)
{
	static const short known[] = {
		100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226,
		300, 301, 302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405,
		406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 421,
		422, 423, 424, 425, 426, 428, 429, 431, 451, 500, 501, 502, 503, 504,
		505, 506, 507, 508, 510, 511,
	};

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (known[i] == code)
			return true;
	return false;
}

static void parse_retries(struct ctx *c, const struct ynode *n)
{
	const struct ypair *p;
	int32_t attempts = 0;
	const struct ynode *pertry = NULL, *retry_on = NULL, *remote = NULL;
	int64_t ms;
	int b;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "attempts")) {
			if (get_i32(c, p->value, &attempts) == 0 && attempts < 0)
				fail(c, p->value, "attempts cannot be negative");
		} else if (key_is(p, "perTryTimeout")) {
			pertry = p->value;
			get_duration(c, p->value, true, &ms);
		} else if (key_is(p, "retryOn")) {
			const char *s = scalar_str(c, p->value), *q;

			if (!s)
				continue;
			if (*s)
				retry_on = p->value;
			for (q = s; *s && q; q = strchr(q, ',') ? strchr(q, ',') + 1 : NULL) {
				const char *e = strchr(q, ',');
				size_t len = e ? (size_t)(e - q) : strlen(q);
				char pol[64];
				char *end;
				long code;
				bool ok = false;

				clean(pol, sizeof(pol), q, len);
				code = strtol(pol, &end, 10);
				if (len && !*end && http_status_known(code))
					ok = true;
				for (int i = 0; !ok && retry_on_policies[i]; i++)
					if (strlen(retry_on_policies[i]) == len &&
					    !memcmp(retry_on_policies[i], q, len))
						ok = true;
				if (!ok)
					fail(c, p->value, "%s is not a valid retryOn policy", qv(c, pol));
			}
		} else if (key_is(p, "retryRemoteLocalities")) {
			remote = p->value;
			get_bool(c, p->value, &b);
		} else if (key_is(p, "retryIgnorePreviousHosts")) {
			get_bool(c, p->value, &b);
		} else if (key_is(p, "backoff")) {
			get_duration(c, p->value, true, &ms);
		} else {
			unknown_field(c, p);
		}
	}
	if (attempts == 0 && (pertry || retry_on || remote))
		fail(c, n, "http retry policy configured when attempts are set to 0 (disabled)");
}

static const char *const grpc_statuses[] = {
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED", NULL,
};

static void check_http_status(struct ctx *c, const struct ynode *at, int64_t status)
{
	if (status < 200 || status > 600)
		fail(c, at, "HTTP status %lld is not in range 200-599", (long long)status);
}

static void parse_fault(struct ctx *c, const struct ynode *n)
{
	const struct ypair *p, *q;
	bool has_abort = false, has_delay = false;
	double pct;
	bool has_pct;
	int64_t ms;
	int32_t i32;
	int idx;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "abort")) {
			int kinds = 0;

			has_abort = true;
			if (!expect_map(c, p->value))
				continue;
			FOR_FIELDS(c, p->value, q) {
				if (key_is(q, "percentage")) {
					has_pct = false;
					parse_percent(c, q->value, &pct, &has_pct);
					if (has_pct)
						check_percentage(c, q->value, pct);
				} else if (key_is(q, "httpStatus")) {
					kinds++;
					if (get_i32(c, q->value, &i32) == 0)
						check_http_status(c, q->value, i32);
				} else if (key_is(q, "grpcStatus")) {
					kinds++;
					get_enum(c, q->value, grpc_statuses, &idx);
				} else if (key_is(q, "http2Error")) {
					kinds++;
					if (scalar_str(c, q->value))
						fail(c, q->value, "HTTP/2 abort fault injection not supported yet");
				} else {
					unknown_field(c, q);
				}
			}
			if (kinds > 1)
				fail(c, p->value, "only one of httpStatus, grpcStatus or http2Error may be set");
		} else if (key_is(p, "delay")) {
			int kinds = 0;

			has_delay = true;
			if (!expect_map(c, p->value))
				continue;
			FOR_FIELDS(c, p->value, q) {
				if (key_is(q, "percentage")) {
					has_pct = false;
					parse_percent(c, q->value, &pct, &has_pct);
					if (has_pct)
						check_percentage(c, q->value, pct);
				} else if (key_is(q, "percent")) {
					if (get_i32(c, q->value, &i32) == 0 && (i32 < 0 || i32 > 100))
						fail(c, q->value, "percentage %d is not in range 0..100", i32);
				} else if (key_is(q, "fixedDelay")) {
					kinds++;
					get_duration(c, q->value, true, &ms);
				} else if (key_is(q, "exponentialDelay")) {
					kinds++;
					if (get_duration(c, q->value, true, &ms) == 0)
						fail(c, q->value, "exponentialDelay not supported yet");
				} else {
					unknown_field(c, q);
				}
			}
			if (kinds > 1)
				fail(c, p->value, "only one of fixedDelay or exponentialDelay may be set");
		} else {
			unknown_field(c, p);
		}
	}
	if (!has_abort && !has_delay)
		fail(c, n, "HTTP fault injection must have an abort and/or a delay");
}

static const char *const derive_ports[] = { "FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT", NULL };

static void parse_redirect(struct ctx *c, const struct ynode *n, struct http_redirect *rd)
{
	const struct ypair *p;
	const char *s;
	bool any = false, has_port = false, has_derive = false;
	uint32_t v;
	int idx;

	rd->derive_port = -1;
	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "uri") || key_is(p, "authority")) {
			if ((s = scalar_str(c, p->value)) && *s) {
				any = true;
				if (!(*(key_is(p, "uri") ? &rd->uri : &rd->authority) = arena_strdup(c->ar, s)))
					oom(c);
			}
		} else if (key_is(p, "scheme")) {
			if (!(s = scalar_str(c, p->value)))
				continue;
			if (*s)
				any = true;
			if (*s && strcmp(s, "http") && strcmp(s, "https"))
				fail(c, p->value, "invalid redirect scheme, must be \"http\" or \"https\"");
			else if (*s)
				rd->scheme = !strcmp(s, "http") ? "http" : "https";
		} else if (key_is(p, "port")) {
			has_port = true;
			any = true;
			if (get_u32(c, p->value, &v) == 0 && v > 0 && port_ok(c, p->value, v))
				rd->port = v;
		} else if (key_is(p, "derivePort")) {
			has_derive = true;
			any = true;
			if (get_enum(c, p->value, derive_ports, &idx) == 0)
				rd->derive_port = idx;
		} else if (key_is(p, "redirectCode")) {
			if (get_u32(c, p->value, &v) < 0)
				continue;
			if (v != 0 && (v < 300 || v > 399))
				fail(c, p->value, "%u is not a valid redirect code, must be 3xx", v);
			else
				rd->code = v;
		} else {
			unknown_field(c, p);
		}
	}
	if (has_port && has_derive)
		fail(c, n, "only one of port or derivePort may be set");
	if (!any)
		fail(c, n, "redirect must specify URI, authority, scheme, or port");
}

static bool base64_ok(const char *s)
{
	size_t len = strlen(s), pad = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '=') {
			pad++;
			continue;
		}
		if (pad || !(alnum(ch) || ch == '+' || ch == '/' || ch == '-' || ch == '_'))
			return false;
	}
	return pad <= 2;
}

// b64_decode decodes base64 (standard or URL alphabet, padding optional)
// that base64_ok accepted into the arena; *len gets the size.
static char *b64_decode(struct ctx *c, const char *s, size_t *len)
{
	size_t n = strlen(s), o = 0;
	char *out = arena_alloc(c->ar, n / 4 * 3 + 4);
	uint32_t acc = 0;
	int bits = 0;

	if (!out) {
		oom(c);
		return NULL;
	}
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		char ch = s[i];
		int v = ch >= 'A' && ch <= 'Z' ? ch - 'A' : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26 :
			ch >= '0' && ch <= '9' ? ch - '0' + 52 : (ch == '+' || ch == '-') ? 62 : 63;

		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits & 0xff);
		}
	}
	*len = o;
	return out;
}

static void parse_direct_response(struct ctx *c, const struct ynode *n, struct http_direct_response *dr)
{
	const struct ypair *p, *q;
	bool has_status = false;
	uint32_t status;
	const char *s;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "status")) {
			if (get_u32(c, p->value, &status) == 0) {
				has_status = true;
				check_http_status(c, p->value, status);
				dr->status = status;
			}
		} else if (key_is(p, "body")) {
			int kinds = 0;

			if (!expect_map(c, p->value))
				continue;
			FOR_FIELDS(c, p->value, q) {
				bool bytes = key_is(q, "bytes");

				if (!bytes && !key_is(q, "string")) {
					unknown_field(c, q);
					continue;
				}
				if (++kinds > 1)
					fail(c, q->key, "only one of string or bytes may be set");
				if (!(s = scalar_str(c, q->value)))
					continue;
				if (bytes && !base64_ok(s))
					fail(c, q->value, "not valid base64");
				if ((bytes ? strlen(s) / 4 * 3 : strlen(s)) > 1024 * 1024)
					fail(c, q->value, "large direct_responses may impact control plane "
					     "performance, must be less than 1MB");
				else if (bytes && base64_ok(s))
					dr->body = b64_decode(c, s, &dr->body_len);
				else if (!bytes && (dr->body = arena_strdup(c->ar, s)))
					dr->body_len = strlen(s);
			}
		} else {
			unknown_field(c, p);
		}
	}
	if (!has_status)
		required(c, n, "status");
}

static void parse_rewrite(struct ctx *c, const struct ynode *n, const char **authority,
			  const struct ynode **authority_node, struct http_rewrite *rw)
{
	const struct ypair *p, *q;
	bool uri = false, regex = false;
	const char *s, *e;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "uri")) {
			if ((s = scalar_str(c, p->value)) && *s) {
				uri = true;
				if (!(rw->uri = arena_strdup(c->ar, s)))
					oom(c);
			}
		} else if (key_is(p, "authority")) {
			if ((s = scalar_str(c, p->value)) && *s) {
				*authority = s;
				*authority_node = p->value;
				if (!(rw->authority = arena_strdup(c->ar, s)))
					oom(c);
			}
		} else if (key_is(p, "uriRegexRewrite")) {
			const char *match = NULL, *rewrite = NULL;
			const struct ynode *mn = NULL;

			regex = true;
			rw->uri_regex = true;
			if (!expect_map(c, p->value))
				continue;
			FOR_FIELDS(c, p->value, q) {
				if (key_is(q, "match")) {
					match = scalar_str(c, q->value);
					mn = q->value;
				} else if (key_is(q, "rewrite")) {
					rewrite = scalar_str(c, q->value);
				} else {
					unknown_field(c, q);
				}
			}
			if (!match || !*match || !rewrite || !*rewrite)
				fail(c, p->value, "UriRegexRewrite requires both Rewrite and Match "
				     "fields to be specified");
			else if ((e = check_regex(c, match, "HTTPRewrite.UriRegexRewrite.Match")))
				fail(c, mn, "%s", e);
		} else {
			unknown_field(c, p);
		}
	}
	if (uri && regex)
		fail(c, n, "rewrite may only contain one of URI or UriRegexRewrite");
	else if (!uri && !regex && !**authority)
		fail(c, n, "rewrite must specify at least one of URI, UriRegexRewrite, or authority");
}

static const char *const cors_methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*", NULL,
};

static const char *const unmatched_preflights[] = { "UNSPECIFIED", "FORWARD", "IGNORE", NULL };

static void parse_cors(struct ctx *c, const struct ynode *n)
{
	const struct ypair *p;
	const char **list;
	int num, idx, b;
	int64_t ms;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "allowOrigin")) {
			get_str_list(c, p->value, &list, &num);
		} else if (key_is(p, "allowOrigins")) {
			if (!expect_seq(c, p->value))
				continue;
			for (size_t i = 0; i < p->value->len; i++) {
				const struct ynode *it = p->value->items[i];
				size_t m = path_idx(c, i);
				struct string_match sm;

				if (yaml_tree_is_null(it)) {
					fail(c, it, "must not be null");
				} else {
					parse_string_match(c, it, &sm);
					if (sm.kind == SM_NONE || !*sm.value)
						fail(c, it, "'' is not a valid match type for CORS allow origins");
					else
						check_string_match(c, it, &sm, "corsPolicy.allowOrigins", false);
				}
				path_pop(c, m);
			}
		} else if (key_is(p, "allowMethods")) {
			if (!expect_seq(c, p->value))
				continue;
			for (size_t i = 0; i < p->value->len; i++) {
				size_t m = path_idx(c, i);

				get_enum(c, p->value->items[i], cors_methods, &idx);
				path_pop(c, m);
			}
		} else if (key_is(p, "allowHeaders") || key_is(p, "exposeHeaders")) {
			if (get_str_list(c, p->value, &list, &num) < 0)
				continue;
			for (int i = 0; i < num; i++) {
				size_t m = path_idx(c, (size_t)i);

				if (strcmp(list[i], "*") && !header_token(list[i]))
					fail(c, p->value->items[i], "header name %s is not a valid header name",
					     qv(c, list[i]));
				path_pop(c, m);
			}
		} else if (key_is(p, "maxAge")) {
			if (get_duration(c, p->value, true, &ms) == 0 && ms % 1000)
				fail(c, p->value, "max_age duration is accurate only to seconds precision");
		} else if (key_is(p, "allowCredentials")) {
			get_bool(c, p->value, &b);
		} else if (key_is(p, "unmatchedPreflights")) {
			get_enum(c, p->value, unmatched_preflights, &idx);
		} else {
			unknown_field(c, p);
		}
	}
}

static void parse_mirrors(struct ctx *c, const struct ynode *n)
{
	if (!expect_seq(c, n))
		return;
	for (size_t i = 0; i < n->len; i++) {
		const struct ynode *it = n->items[i];
		size_t m = path_idx(c, i);
		const struct ypair *p;
		bool has_dest = false;

		if (yaml_tree_is_null(it)) {
			fail(c, it, "mirror cannot be null");
			goto next;
		}
		if (!expect_map(c, it))
			goto next;
		FOR_FIELDS(c, it, p) {
			if (key_is(p, "destination")) {
				struct destination d = { 0 };

				has_dest = true;
				parse_destination(c, p->value, &d);
			} else if (key_is(p, "percentage")) {
				double v;
				bool has = false;

				parse_percent(c, p->value, &v, &has);
				if (has && v > 100)
					fail(c, p->value, "mirror percentage must have a max value of 100 "
					     "(it has %f)", v);
				if (has && v < 0)
					fail(c, p->value, "mirror percentage must have a min value of 0 "
					     "(it has %f)", v);
			} else {
				unknown_field(c, p);
			}
		}
		if (!has_dest)
			fail(c, it, "destination is required for mirrors");
next:
		path_pop(c, m);
	}
}

static void parse_delegate(struct ctx *c, const struct ynode *n, struct http_route *r)
{
	const struct ypair *p;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "name"))
			get_str(c, p->value, &r->delegate_name);
		else if (key_is(p, "namespace"))
			get_str(c, p->value, &r->delegate_namespace);
		else
			unknown_field(c, p);
	}
}

static void parse_http_route(struct ctx *c, const struct ynode *n, struct http_route *r,
			     struct vs_info *vi)
{
	const struct ypair *p;
	const struct ynode *redirect = NULL, *direct = NULL, *fault = NULL, *rewrite = NULL;
	const struct ynode *delegate = NULL, *route = NULL, *mirror = NULL, *mirrors = NULL;
	const char *rw_authority = "", *hdr_authority = NULL;
	const struct ynode *rw_auth_node = NULL, *hdr_auth_node = NULL;
	uint32_t v;

	r->timeout_ms = -1;
	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "name")) {
			get_str(c, p->value, &r->name);
		} else if (key_is(p, "match")) {
			const struct ynode *ms = p->value;

			if (!expect_seq(c, ms))
				continue;
			r->match = arena_alloc_array(c->ar, ms->len ? ms->len : 1, sizeof(*r->match));
			if (!r->match) {
				oom(c);
				continue;
			}
			r->num_match = (int)ms->len;
			for (size_t i = 0; i < ms->len; i++) {
				size_t m = path_idx(c, i);

				if (yaml_tree_is_null(ms->items[i]))
					fail(c, ms->items[i], "match may not be null");
				else
					parse_http_match(c, ms->items[i], &r->match[i], vi);
				path_pop(c, m);
			}
		} else if (key_is(p, "route")) {
			route = p->value;
			parse_route_dests(c, p->key, p->value, true, &r->route, &r->num_route, &r->features);
		} else if (key_is(p, "redirect")) {
			redirect = p->value;
			r->features |= HR_F_REDIRECT;
			if (!(r->redirect = arena_alloc(c->ar, sizeof(*r->redirect)))) {
				oom(c);
				continue;
			}
			memset(r->redirect, 0, sizeof(*r->redirect));
			parse_redirect(c, p->value, r->redirect);
		} else if (key_is(p, "directResponse")) {
			direct = p->value;
			r->features |= HR_F_DIRECT_RESPONSE;
			if (!(r->direct_response = arena_alloc(c->ar, sizeof(*r->direct_response)))) {
				oom(c);
				continue;
			}
			memset(r->direct_response, 0, sizeof(*r->direct_response));
			parse_direct_response(c, p->value, r->direct_response);
		} else if (key_is(p, "delegate")) {
			delegate = p->value;
			r->features |= HR_F_DELEGATE;
			parse_delegate(c, p->value, r);
		} else if (key_is(p, "rewrite")) {
			rewrite = p->value;
			r->features |= HR_F_REWRITE;
			if (!(r->rewrite = arena_alloc(c->ar, sizeof(*r->rewrite)))) {
				oom(c);
				continue;
			}
			memset(r->rewrite, 0, sizeof(*r->rewrite));
			parse_rewrite(c, p->value, &rw_authority, &rw_auth_node, r->rewrite);
		} else if (key_is(p, "timeout")) {
			get_duration(c, p->value, true, &r->timeout_ms);
		} else if (key_is(p, "retries")) {
			r->features |= HR_F_RETRIES;
			parse_retries(c, p->value);
		} else if (key_is(p, "fault")) {
			fault = p->value;
			r->features |= HR_F_FAULT;
			parse_fault(c, p->value);
		} else if (key_is(p, "mirror")) {
			struct destination d = { 0 };

			mirror = p->value;
			r->features |= HR_F_MIRROR;
			parse_destination(c, p->value, &d);
		} else if (key_is(p, "mirrors")) {
			mirrors = p->value;
			r->features |= HR_F_MIRROR;
			parse_mirrors(c, p->value);
		} else if (key_is(p, "mirrorPercent") || key_is(p, "mirror_percent")) {
			r->features |= HR_F_MIRROR;
			if (get_u32(c, p->value, &v) == 0 && v > 100)
				fail(c, p->value, "mirror_percent must have a max value of 100 (it has %u)", v);
		} else if (key_is(p, "mirrorPercentage")) {
			double d;
			bool has = false;

			r->features |= HR_F_MIRROR;
			parse_percent(c, p->value, &d, &has);
			if (has && d > 100)
				fail(c, p->value, "mirror_percentage must have a max value of 100 (it has %f)", d);
			if (has && d < 0)
				fail(c, p->value, "mirror_percentage must have a min value of 0 (it has %f)", d);
		} else if (key_is(p, "corsPolicy")) {
			r->features |= HR_F_CORS;
			parse_cors(c, p->value);
		} else if (key_is(p, "headers")) {
			r->features |= HR_F_HEADERS;
			if (!(r->headers = arena_alloc(c->ar, sizeof(*r->headers)))) {
				oom(c);
				continue;
			}
			memset(r->headers, 0, sizeof(*r->headers));
			parse_header_ops(c, p->value, &hdr_authority, &hdr_auth_node, r->headers);
		} else {
			unknown_field(c, p);
		}
	}

	// validateHTTPRouteConflict, by route type.
	if (!vi->delegate && delegate) {
		// a root route: only delegate (and match) may route
		if (redirect)
			fail(c, key_of(n, redirect), "root HTTP route%s%s must not specify redirect",
			     r->name ? " " : "", r->name ? r->name : "");
		if (route)
			fail(c, key_of(n, route), "root HTTP route%s%s must not specify route",
			     r->name ? " " : "", r->name ? r->name : "");
		return;
	}
	if (vi->delegate && delegate)
		fail(c, key_of(n, delegate), "delegate HTTP route cannot contain delegate");
	if (redirect) {
		if (route)
			fail(c, key_of(n, route), "HTTP route cannot contain both route and redirect");
		if (fault)
			fail(c, key_of(n, fault), "HTTP route cannot contain both fault and redirect");
		if (rewrite)
			fail(c, key_of(n, rewrite), "HTTP route rule cannot contain both rewrite and redirect");
		if (direct)
			fail(c, key_of(n, direct), "HTTP route rule cannot contain both direct_response and redirect");
	} else if (direct) {
		if (route)
			fail(c, key_of(n, route), "HTTP route cannot contain both route and direct_response");
		if (fault)
			fail(c, key_of(n, fault), "HTTP route cannot contain both fault and direct_response");
		if (rewrite)
			fail(c, key_of(n, rewrite), "HTTP route rule cannot contain both rewrite and direct_response");
	} else if (r->num_route == 0) {
		fail(c, route ? key_of(n, route) : n, "HTTP route, redirect or direct_response is required");
	}
	if (mirror && mirrors)
		fail(c, key_of(n, mirrors), "HTTP route cannot contain both mirror and mirrors");
	if (*rw_authority && hdr_authority)
		fail(c, hdr_auth_node, "authority header cannot be set multiple times: have %s, "
		     "attempting to set %s", qv(c, rw_authority), qv(c, hdr_authority));
	(void)rw_auth_node;
}

// parse_l4_routes checks tcp: (tls == false) or tls: routes.
static void parse_l4_routes(struct ctx *c, const struct ynode *n, bool tls,
			    const struct virtual_service *vs, struct vs_info *vi)
{
	if (!expect_seq(c, n))
		return;
	for (size_t i = 0; i < n->len; i++) {
		const struct ynode *it = n->items[i];
		size_t m = path_idx(c, i);
		const struct ypair *p, *q;
		int num_match = 0, num_route = 0;
		unsigned features = 0;

		if (yaml_tree_is_null(it)) {
			fail(c, it, "%s route may not be null", tls ? "tls" : "tcp");
			goto next;
		}
		if (!expect_map(c, it))
			goto next;
		FOR_FIELDS(c, it, p) {
			if (key_is(p, "route")) {
				struct http_route_dest *rd;

				parse_route_dests(c, p->key, p->value, false, &rd, &num_route, &features);
			} else if (key_is(p, "match")) {
				if (!expect_seq(c, p->value))
					continue;
				num_match = (int)p->value->len;
				for (size_t j = 0; j < p->value->len; j++) {
					const struct ynode *mn = p->value->items[j];
					size_t mj = path_idx(c, j);
					bool has_sni = false;

					if (yaml_tree_is_null(mn)) {
						fail(c, mn, tls ? "TLS match may not be null" : "tcp match may not be nil");
						goto next_match;
					}
					if (!expect_map(c, mn))
						goto next_match;
					FOR_FIELDS(c, mn, q) {
						const char **list;
						struct kv *kv;
						int num;
						uint32_t v;
						const char *s, *e;

						if (tls && key_is(q, "sniHosts")) {
							if (get_str_list(c, q->value, &list, &num) < 0)
								continue;
							has_sni = num > 0;
							for (int k = 0; k < num; k++) {
								size_t mk = path_idx(c, (size_t)k);
								bool sub = false;

								if ((e = validate_wildcard_domain(c, list[k]))) {
									if (!is_ip(list[k]))
										fail(c, q->value->items[k], "%s", e);
									path_pop(c, mk);
									continue;
								}
								for (int h = 0; h < vs->num_hosts && !sub; h++)
									sub = vs->hosts[h] &&
									      name_subset_of(list[k], vs->hosts[h]);
								if (!sub)
									fail(c, q->value->items[k], "SNI host %s is not a "
									     "compatible subset of any of the virtual "
									     "service hosts", qv(c, list[k]));
								path_pop(c, mk);
							}
						} else if (key_is(q, "destinationSubnets")) {
							if (get_str_list(c, q->value, &list, &num) < 0)
								continue;
							for (int k = 0; k < num; k++) {
								size_t mk = path_idx(c, (size_t)k);

								if ((e = validate_ip_subnet(c, list[k])))
									fail(c, q->value->items[k], "%s", e);
								path_pop(c, mk);
							}
						} else if (key_is(q, "port")) {
							if (get_u32(c, q->value, &v) == 0 && v)
								port_ok(c, q->value, v);
						} else if (key_is(q, "sourceLabels")) {
							if (get_str_map(c, q->value, &kv, &num) == 0)
								validate_labels(c, q->value, kv, num);
						} else if (key_is(q, "gateways")) {
							if (get_str_list(c, q->value, &list, &num) == 0)
								check_gateway_names(c, q->value, list, num);
						} else if (key_is(q, "sourceNamespace")) {
							if ((s = scalar_str(c, q->value)) && *s && !dns1123_label_z(s))
								fail(c, q->value, "sourceNamespace match %s is invalid",
								     qv(c, s));
						} else if (!tls && key_is(q, "sourceSubnet")) {
							if ((s = scalar_str(c, q->value)) && *s &&
							    (e = validate_ip_subnet(c, s)))
								fail(c, q->value, "%s", e);
						} else {
							unknown_field(c, q);
						}
					}
					if (tls && !has_sni)
						fail(c, mn, "TLS match must have at least one SNI host");
next_match:
					path_pop(c, mj);
				}
			} else {
				unknown_field(c, p);
			}
		}
		if (tls && num_match == 0)
			fail(c, it, "TLS route must have at least one match condition");
		if (num_route == 0)
			fail(c, it, "%s route is required", tls ? "TLS" : "TCP");
next:
		path_pop(c, m);
	}
	(void)vi;
}

static void parse_virtual_service(struct ctx *c, const struct ynode *spec, struct virtual_service *vs)
{
	struct vs_info vi = { 0 };
	const struct ynode *hosts = NULL, *gateways = NULL, *http = NULL, *tcp = NULL, *tls = NULL;
	const struct ypair *p;
	size_t m;

	if (!spec) {
		fail(c, NULL, "spec: Required value");
		return;
	}
	m = path_field(c, "spec");
	if (!expect_map(c, spec))
		goto out;
	// hosts and gateways decide how routes are checked: read them first.
	FOR_FIELDS(c, spec, p) {
		if (key_is(p, "hosts")) {
			hosts = p->value;
			get_str_list(c, p->value, &vs->hosts, &vs->num_hosts);
		} else if (key_is(p, "gateways")) {
			gateways = p->value;
			if (get_str_list(c, p->value, &vs->gateways, &vs->num_gateways) == 0)
				check_gateway_names(c, p->value, vs->gateways, vs->num_gateways);
		}
	}
	vi.delegate = vs->num_hosts == 0;
	vi.to_gateway = vs->num_gateways > 0;
	for (int i = 0; i < vs->num_gateways; i++)
		if (vs->gateways[i] && !strcmp(vs->gateways[i], "mesh"))
			vi.to_gateway = false;
	FOR_FIELDS(c, spec, p) {
		if (key_is(p, "hosts") || key_is(p, "gateways")) {
			continue;
		} else if (key_is(p, "http")) {
			const struct ynode *hn = p->value;

			http = hn;
			if (!expect_seq(c, hn))
				continue;
			vs->http = arena_alloc_array(c->ar, hn->len ? hn->len : 1, sizeof(*vs->http));
			if (!vs->http) {
				oom(c);
				continue;
			}
			vs->num_http = (int)hn->len;
			for (size_t i = 0; i < hn->len; i++) {
				size_t mi = path_idx(c, i);

				vs->http[i].timeout_ms = -1;
				if (yaml_tree_is_null(hn->items[i]))
					fail(c, hn->items[i], "http route may not be null");
				else
					parse_http_route(c, hn->items[i], &vs->http[i], &vi);
				path_pop(c, mi);
			}
		} else if (key_is(p, "tcp")) {
			tcp = p->value;
			if (tcp->type == YN_SEQ)
				vs->num_tcp = (int)tcp->len;
			parse_l4_routes(c, p->value, false, vs, &vi);
		} else if (key_is(p, "tls")) {
			tls = p->value;
			if (tls->type == YN_SEQ)
				vs->num_tls = (int)tls->len;
			parse_l4_routes(c, p->value, true, vs, &vi);
		} else if (key_is(p, "exportTo")) {
			if (get_str_list(c, p->value, &vs->export_to, &vs->num_export_to) == 0)
				check_export_to(c, p->value, vs->export_to, vs->num_export_to, false);
		} else {
			unknown_field(c, p);
		}
	}

	if (vi.delegate) {
		if (vs->num_gateways) {
			size_t mg = path_field(c, "gateways");

			fail(c, key_of(spec, gateways), "delegate virtual service must have no gateways specified");
			path_pop(c, mg);
		}
		if (vs->num_tls)
			fail(c, key_of(spec, tls), "delegate virtual service must have no tls route specified");
		if (vs->num_tcp)
			fail(c, key_of(spec, tcp), "delegate virtual service must have no tcp route specified");
	}
	if (vi.jwt_key && !vi.to_gateway)
		fail(c, vi.jwt_key, "JWT claim based routing (key: %s) is only supported for gateway, "
		     "found no gateways", qv(c, vi.jwt_key->str));
	if (hosts && hosts->type == YN_SEQ) {
		bool all_valid = true;
		size_t mh = path_field(c, "hosts");

		for (int i = 0; i < vs->num_hosts; i++) {
			const char *h = vs->hosts[i], *e;
			size_t mi;

			if (!h) {
				all_valid = false;
				continue;
			}
			mi = path_idx(c, (size_t)i);
			if ((e = validate_wildcard_domain(c, h))) {
				if (!is_ip(h)) {
					fail(c, hosts->items[i], "%s", e);
					all_valid = false;
				}
			} else if (!vi.to_gateway && !strcmp(h, "*")) {
				fail(c, hosts->items[i], "wildcard host * is not allowed for virtual "
				     "services bound to the mesh gateway");
				all_valid = false;
			}
			path_pop(c, mi);
		}
		for (int i = 0; all_valid && i < vs->num_hosts; i++) {
			for (int j = i + 1; j < vs->num_hosts; j++) {
				size_t mi;

				if (!name_matches(vs->hosts[i], vs->hosts[j]))
					continue;
				mi = path_idx(c, (size_t)j);
				fail(c, hosts->items[j], "duplicate hosts in virtual service: %s & %s",
				     qv(c, vs->hosts[i]), qv(c, vs->hosts[j]));
				path_pop(c, mi);
			}
		}
		path_pop(c, mh);
	}
	if (vs->num_http == 0 && vs->num_tcp == 0 && vs->num_tls == 0)
		fail(c, spec, "http, tcp or tls must be provided in virtual service");
	(void)http;
out:
	path_pop(c, m);
}

// keyed is one list entry in a duplicate check: a name or a number.
struct keyed {
	const char *s;		// NULL when u is the key
	uint32_t u;
	size_t idx;		// position in the list
};

static int keyed_cmp(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int r = x->s && y->s ? strcmp(x->s, y->s) : 0;

	if (!r && x->u != y->u)
		r = x->u < y->u ? -1 : 1;
	if (!r)
		r = x->idx < y->idx ? -1 : x->idx > y->idx;
	return r;
}

// mark_dups sets dup[idx] for each of the n entries of k that repeats an
// earlier one. Sorting keeps it O(n log n): the YAML layer allows millions
// of nodes, and a quadratic check would let one file stall a load.
static void mark_dups(struct keyed *k, size_t n, bool *dup)
{
	qsort(k, n, sizeof(*k), keyed_cmp);
	for (size_t i = 1; i < n; i++) {
		bool same_s = k[i].s && k[i - 1].s ? !strcmp(k[i].s, k[i - 1].s) : !k[i].s && !k[i - 1].s;

		if (same_s && k[i].u == k[i - 1].u)
			dup[k[i].idx] = true;
	}
}

// ---- DestinationRule ----

static const char *const dr_tls_modes[] = { "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL", NULL };
static const char *const dr_lb_simples[] = {
	"UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST", NULL,
};
static const char *const dr_h2_upgrades[] = { "DEFAULT", "DO_NOT_UPGRADE", "UPGRADE", NULL };
static const char *const dr_proxy_versions[] = { "V1", "V2", NULL };

// parse_dr_tls reads ClientTLSSettings and applies agent.ValidateTLS. Istio
// ignores the certificate fields under ISTIO_MUTUAL (the mesh identity is
// used); we refuse them, as the Gateway server side does, rather than let
// an author believe a certificate is in use that is not.
static struct dr_tls *parse_dr_tls(struct ctx *c, const struct ynode *n)
{
	static const struct {
		const char *field, *what;
	} istio_mutual_forbidden[] = {
		{ "clientCertificate", "client certificate" },
		{ "privateKey", "private key" },
		{ "caCertificates", "CA bundle" },
		{ "credentialName", "credentialName" },
	};
	struct dr_tls *t;
	const struct ypair *p;
	int e0 = c->errors, v;

	if (!expect_map(c, n) || !(t = new_of(c, sizeof(*t))))
		return NULL;
	t->insecure_skip_verify = -1;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "mode")) {
			if (get_enum(c, p->value, dr_tls_modes, &v) == 0)
				t->mode = (enum dr_tls_mode)v;
		} else if (key_is(p, "clientCertificate")) {
			get_opt_str(c, p->value, &t->client_certificate);
		} else if (key_is(p, "privateKey")) {
			get_opt_str(c, p->value, &t->private_key);
		} else if (key_is(p, "caCertificates")) {
			get_opt_str(c, p->value, &t->ca_certificates);
		} else if (key_is(p, "credentialName")) {
			get_opt_str(c, p->value, &t->credential_name);
		} else if (key_is(p, "subjectAltNames")) {
			get_str_list(c, p->value, &t->subject_alt_names, &t->num_subject_alt_names);
		} else if (key_is(p, "sni")) {
			get_opt_str(c, p->value, &t->sni);
		} else if (key_is(p, "insecureSkipVerify")) {
			get_bool(c, p->value, &t->insecure_skip_verify);
		} else if (key_is(p, "caCrl")) {
			get_opt_str(c, p->value, &t->ca_crl);
		} else {
			unknown_field(c, p);
		}
	}
	if (c->errors != e0)
		return t;	// the rules below assume well-typed fields
	if (t->mode == DR_TLS_ISTIO_MUTUAL) {
		const char *set[] = { t->client_certificate, t->private_key, t->ca_certificates,
				      t->credential_name };

		for (size_t i = 0; i < ARRAY_SIZE(istio_mutual_forbidden); i++) {
			if (!set[i])
				continue;
			snprintf(c->msg, sizeof(c->msg), "ISTIO_MUTUAL TLS cannot have associated %s",
				 istio_mutual_forbidden[i].what);
			fail_field(c, n, istio_mutual_forbidden[i].field, c->msg);
		}
		return t;
	}
	if (t->insecure_skip_verify == 1) {
		if (t->mode == DR_TLS_SIMPLE &&
		    (t->ca_certificates || t->credential_name || t->num_subject_alt_names))
			fail_field(c, n, "insecureSkipVerify", "cannot specify CaCertificates or "
				   "CredentialName or SubjectAltNames when InsecureSkipVerify is set true");
		if (t->mode == DR_TLS_MUTUAL && (t->ca_certificates || t->num_subject_alt_names))
			fail_field(c, n, "insecureSkipVerify", "cannot specify CaCertificates or "
				   "SubjectAltNames when InsecureSkipVerify is set true");
	}
	if ((t->mode == DR_TLS_SIMPLE || t->mode == DR_TLS_MUTUAL) && t->credential_name) {
		// the credential brings the key, the certificate and the CA
		if (t->client_certificate || t->ca_certificates || t->private_key || t->ca_crl)
			fail_field(c, n, "credentialName", "cannot specify client certificates or CA "
				   "certificate or CA CRL If credentialName is set");
		return t;
	}
	if (t->mode == DR_TLS_MUTUAL) {
		if (!t->client_certificate)
			fail(c, n, "client certificate required for mutual tls");
		if (!t->private_key)
			fail(c, n, "private key required for mutual tls");
	}
	return t;
}

// Envoy's isPrime (source/common/common/utility.cc), which Istio copies so
// that a table size it accepts is one Envoy accepts.
static bool is_prime(uint64_t x)
{
	uint64_t limit;

	if (x != 0 && x < 4)
		return true;
	if ((x & 1) == 0)
		return false;
	limit = (uint64_t)sqrt((double)x);
	for (uint64_t f = 3; f <= limit; f += 2)
		if (x % f == 0)
			return false;
	return true;
}

static void parse_dr_cookie(struct ctx *c, const struct ynode *n, struct dr_consistent_hash *h)
{
	const struct ypair *p, *q;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "name")) {
			get_opt_str(c, p->value, &h->cookie_name);
		} else if (key_is(p, "path")) {
			get_opt_str(c, p->value, &h->cookie_path);
		} else if (key_is(p, "ttl")) {
			// no 1ms floor here: 0s asks for a session cookie
			get_duration(c, p->value, false, &h->cookie_ttl_ms);
		} else if (key_is(p, "attributes")) {
			const struct ynode *an = p->value;

			if (!expect_seq(c, an))
				continue;
			h->cookie_attributes = arena_alloc_array(c->ar, an->len ? an->len : 1,
								 sizeof(*h->cookie_attributes));
			if (!h->cookie_attributes) {
				oom(c);
				continue;
			}
			h->num_cookie_attributes = (int)an->len;
			for (size_t i = 0; i < an->len; i++) {
				struct kv *kv = &h->cookie_attributes[i];
				size_t m = path_idx(c, i);

				if (yaml_tree_is_null(an->items[i])) {
					fail(c, an->items[i], "cookie attribute may not be null");
					goto next;
				}
				if (!expect_map(c, an->items[i]))
					goto next;
				FOR_FIELDS(c, an->items[i], q) {
					if (key_is(q, "name"))
						get_str(c, q->value, &kv->key);
					else if (key_is(q, "value"))
						get_str(c, q->value, &kv->value);
					else
						unknown_field(c, q);
				}
				if (!kv->key || !*kv->key)
					fail(c, an->items[i], "cookie attribute name is required");
next:
				path_pop(c, m);
			}
		} else {
			unknown_field(c, p);
		}
	}
	if (!h->cookie_name)
		fail(c, n, "name required for HttpCookie");
}

static void parse_dr_hash_algo(struct ctx *c, const struct ynode *n, const char *field,
			       uint64_t *out)
{
	const struct ypair *p;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, field))
			get_u64(c, p->value, out);
		else
			unknown_field(c, p);
	}
}

// parse_dr_hash reads ConsistentHashLB. The hash key is a oneof; Istio
// accepts none at all (Envoy then hashes nothing and spreads at random),
// which we refuse as the brief for this model asks: exactly one.
static struct dr_consistent_hash *parse_dr_hash(struct ctx *c, const struct ynode *n)
{
	struct dr_consistent_hash *h;
	const struct ypair *p;
	const struct ynode *first_key = NULL, *first_algo = NULL, *maglev = NULL, *minring = NULL;
	int e0 = c->errors;

	if (!expect_map(c, n) || !(h = new_of(c, sizeof(*h))))
		return NULL;
	h->cookie_ttl_ms = -1;
	FOR_FIELDS(c, n, p) {
		enum dr_hash_key key = DR_HASH_NONE;
		enum dr_hash_algo algo = DR_HASH_ALGO_DEFAULT;

		if (key_is(p, "httpHeaderName")) {
			key = DR_HASH_HEADER;
			if (get_str(c, p->value, &h->http_header_name) == 0 && !header_token(h->http_header_name))
				fail(c, p->value, "header name %s is not a valid header name",
				     qv(c, h->http_header_name));
		} else if (key_is(p, "httpCookie")) {
			key = DR_HASH_COOKIE;
			parse_dr_cookie(c, p->value, h);
		} else if (key_is(p, "useSourceIp")) {
			key = DR_HASH_SOURCE_IP;
			get_bool(c, p->value, &h->use_source_ip);
		} else if (key_is(p, "httpQueryParameterName")) {
			key = DR_HASH_QUERY_PARAM;
			if (get_str(c, p->value, &h->http_query_parameter_name) == 0 &&
			    !*h->http_query_parameter_name)
				fail(c, p->value, "query parameter name cannot be empty");
		} else if (key_is(p, "ringHash")) {
			algo = DR_HASH_ALGO_RING_HASH;
			parse_dr_hash_algo(c, p->value, "minimumRingSize", &h->ring_hash_min_size);
		} else if (key_is(p, "maglev")) {
			algo = DR_HASH_ALGO_MAGLEV;
			maglev = p->value;
			parse_dr_hash_algo(c, p->value, "tableSize", &h->maglev_table_size);
		} else if (key_is(p, "minimumRingSize")) {
			minring = p->key;
			get_u64(c, p->value, &h->minimum_ring_size);
		} else {
			unknown_field(c, p);
		}
		if (key != DR_HASH_NONE && first_key) {
			fail(c, p->key, "only one of httpHeaderName, httpCookie, useSourceIp or "
			     "httpQueryParameterName may be set");
		} else if (key != DR_HASH_NONE) {
			h->key = key;
			first_key = p->key;
		}
		if (algo != DR_HASH_ALGO_DEFAULT && first_algo) {
			fail(c, p->key, "only one of ringHash or maglev may be set");
		} else if (algo != DR_HASH_ALGO_DEFAULT) {
			h->algo = algo;
			first_algo = p->key;
		}
	}
	if (c->errors != e0)
		return h;
	if (!first_key)
		fail(c, n, "consistentHash must set one of httpHeaderName, httpCookie, useSourceIp "
		     "or httpQueryParameterName");
	if (h->minimum_ring_size && first_algo) {
		size_t m = path_field(c, "minimumRingSize");

		fail(c, minring, "only one of MinimumRingSize or Maglev/Ringhash can be specified");
		path_pop(c, m);
	}
	if (maglev) {
		size_t m = path_field(c, "maglev");

		if (h->maglev_table_size == 0)
			fail(c, maglev, "tableSize must be set for maglev");
		else if (h->maglev_table_size >= 5000011)
			fail(c, maglev, "tableSize must be less than 5000011 for maglev");
		if (h->maglev_table_size && !is_prime(h->maglev_table_size))
			fail(c, maglev, "tableSize must be a prime number for maglev");
		path_pop(c, m);
	}
	return h;
}

// locality is one "region[/zone[/subzone]]" cut as getLocalityParam cuts it
// (the subzone keeps any further "/").
struct locality {
	const char *part[3];
	size_t len[3];
	int level;		// index of the last part, -1 when a part is empty
};

static void locality_split(const char *l, struct locality *out)
{
	for (out->level = 0;; out->level++) {
		const char *slash = out->level < 2 ? strchr(l, '/') : NULL;
		size_t len = slash ? (size_t)(slash - l) : strlen(l);

		out->part[out->level] = l;
		out->len[out->level] = len;
		if (len == 0) {
			out->level = -1;
			return;
		}
		if (!slash)
			return;
		l = slash + 1;
	}
}

static bool part_is(const struct locality *a, int i, const struct locality *b)
{
	return a->len[i] == b->len[i] && !memcmp(a->part[i], b->part[i], a->len[i]);
}

static bool part_star(const struct locality *a, int i)
{
	return a->len[i] == 1 && a->part[i][0] == '*';
}

// covered reports whether an earlier locality e covers (overlaps) l: a
// region covers its zones, a zone ("r/z" or "r/*") its subzones.
static bool covered(const struct locality *e, const struct locality *l)
{
	if (part_star(e, 0))
		return true;	// "*" covers everything after it
	if (!part_is(e, 0, l))
		return false;
	if (l->level == 0 || e->level == 0)
		return true;
	if (e->level == 1 && (part_star(e, 1) || part_is(e, 1, l)))
		return true;
	if (l->level == 1)
		return e->level == 2 && part_is(e, 1, l);
	return part_is(e, 1, l) && (part_star(e, 2) || part_is(e, 2, l));
}

enum { MAX_LOCALITIES = 4096 };

// check_localities is validateLocalities: wildcards only at the end, and no
// locality covered by an earlier one. It returns an error or NULL.
static const char *check_localities(struct ctx *c, const char *const *locs, int num)
{
	struct locality *ls;
	const char *err = NULL;

	if (num <= 0)
		return NULL;
	if (num > MAX_LOCALITIES) {
		// the overlap check is quadratic; no real mesh comes near this
		snprintf(c->msg, sizeof(c->msg), "at most %d localities may be listed (got %d)",
			 MAX_LOCALITIES, num);
		return c->msg;
	}
	if (!(ls = calloc((size_t)num, sizeof(*ls)))) {
		oom(c);
		return NULL;
	}
	for (int i = 0; i < num && !err; i++) {
		const char *l = locs[i], *star = strchr(l, '*');

		if (star && (strchr(star + 1, '*') || star[1])) {
			snprintf(c->msg, sizeof(c->msg), "locality %s wildcard '*' number can not exceed 1 "
				 "and must be in the end", qv(c, l));
			err = c->msg;
			break;
		}
		locality_split(l, &ls[i]);
		for (int j = 0; j < i && !err; j++) {
			// Istio looks for an earlier "*" before it parses
			bool hit = ls[i].level < 0 ? part_star(&ls[j], 0) : covered(&ls[j], &ls[i]);

			if (!hit)
				continue;
			snprintf(c->msg, sizeof(c->msg), "locality %s overlap with previous specified ones",
				 qv(c, l));
			err = c->msg;
		}
		if (!err && ls[i].level < 0) {
			snprintf(c->msg, sizeof(c->msg), "locality %s must not contain empty "
				 "region/zone/subzone info", qv(c, l));
			err = c->msg;
		}
	}
	free(ls);
	return err;
}

static bool topology_label(const char *l)
{
	return !strcmp(l, "topology.kubernetes.io/region") || !strcmp(l, "topology.kubernetes.io/zone") ||
	       !strcmp(l, "topology.istio.io/subzone");
}

// parse_dr_distribute reads localityLbSetting.distribute[].
static void parse_dr_distribute(struct ctx *c, const struct ynode *n, struct dr_locality_lb *l)
{
	if (!expect_seq(c, n))
		return;
	l->distribute = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*l->distribute));
	if (!l->distribute) {
		oom(c);
		return;
	}
	l->num_distribute = (int)n->len;
	for (size_t i = 0; i < n->len; i++) {
		struct dr_locality_distribute *d = &l->distribute[i];
		const struct ynode *it = n->items[i];
		size_t m = path_idx(c, i);
		const struct ypair *p;

		if (yaml_tree_is_null(it)) {
			fail(c, it, "distribute may not be null");
			goto next;
		}
		if (!expect_map(c, it))
			goto next;
		FOR_FIELDS(c, it, p) {
			if (key_is(p, "from")) {
				get_str(c, p->value, &d->from);
			} else if (key_is(p, "to")) {
				const struct ynode *tn = p->value;

				if (!expect_map(c, tn))
					continue;
				d->to = arena_alloc_array(c->ar, tn->len ? tn->len : 1, sizeof(*d->to));
				if (!d->to) {
					oom(c);
					continue;
				}
				d->num_to = (int)tn->len;
				for (size_t k = 0; k < tn->len; k++) {
					size_t mk = path_mapkey(c, tn->pairs[k].key);

					if (map_key_str(c, tn->pairs[k].key) == 0)
						get_str(c, tn->pairs[k].key, &d->to[k].locality);
					if (yaml_tree_is_null(tn->pairs[k].value))
						fail(c, tn->pairs[k].value, "must not be null");
					else
						get_u32(c, tn->pairs[k].value, &d->to[k].weight);
					path_pop(c, mk);
				}
			} else {
				unknown_field(c, p);
			}
		}
next:
		path_pop(c, m);
	}
}

// parse_dr_locality reads LocalityLoadBalancerSetting and applies
// ValidateLocalityLbSetting (whose checks stop at the first error).
static struct dr_locality_lb *parse_dr_locality(struct ctx *c, const struct ynode *n)
{
	struct dr_locality_lb *l;
	const struct ypair *p;
	const struct ynode *distribute = NULL, *failover = NULL;
	const char **from;
	const char *e;
	int e0 = c->errors;

	if (!expect_map(c, n) || !(l = new_of(c, sizeof(*l))))
		return NULL;
	l->enabled = -1;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "distribute")) {
			distribute = p->value;
			parse_dr_distribute(c, p->value, l);
		} else if (key_is(p, "failover")) {
			const struct ynode *fn = p->value;
			const struct ypair *q;

			failover = fn;
			if (!expect_seq(c, fn))
				continue;
			l->failover = arena_alloc_array(c->ar, fn->len ? fn->len : 1, sizeof(*l->failover));
			if (!l->failover) {
				oom(c);
				continue;
			}
			l->num_failover = (int)fn->len;
			for (size_t i = 0; i < fn->len; i++) {
				size_t m = path_idx(c, i);

				if (yaml_tree_is_null(fn->items[i]))
					fail(c, fn->items[i], "failover may not be null");
				else if (expect_map(c, fn->items[i]))
					FOR_FIELDS(c, fn->items[i], q) {
						if (key_is(q, "from"))
							get_str(c, q->value, &l->failover[i].from);
						else if (key_is(q, "to"))
							get_str(c, q->value, &l->failover[i].to);
						else
							unknown_field(c, q);
					}
				path_pop(c, m);
			}
		} else if (key_is(p, "failoverPriority")) {
			get_str_list(c, p->value, &l->failover_priority, &l->num_failover_priority);
		} else if (key_is(p, "enabled")) {
			get_bool(c, p->value, &l->enabled);
		} else {
			unknown_field(c, p);
		}
	}
	if (c->errors != e0)
		return l;
	if (l->num_distribute && l->num_failover) {
		fail(c, n, "can not simultaneously specify 'distribute' and 'failover'");
		return l;
	}
	if (l->num_failover && l->num_failover_priority) {
		for (int i = 0; i < l->num_failover_priority; i++) {
			if (!topology_label(l->failover_priority[i]))
				continue;
			snprintf(c->msg, sizeof(c->msg), "can not simultaneously set 'failover' and "
				 "topology label '%s' in 'failover_priority'", l->failover_priority[i]);
			fail_field(c, n, "failoverPriority", c->msg);
			return l;
		}
	}
	if (!(from = calloc(l->num_distribute ? (size_t)l->num_distribute : 1, sizeof(*from)))) {
		oom(c);
		return l;
	}
	for (int i = 0; i < l->num_distribute; i++) {
		const struct dr_locality_distribute *d = &l->distribute[i];
		const char **to;
		uint64_t total = 0;
		size_t m = path_field(c, "distribute");

		path_idx(c, (size_t)i);
		from[i] = d->from ? d->from : "";
		for (int k = 0; k < d->num_to; k++) {
			if (d->to[k].weight == 0 || d->to[k].weight > 100) {
				fail(c, distribute->items[i], "locality weight must be in range [1, 100]");
				path_pop(c, m);
				goto out;
			}
			total += d->to[k].weight;
		}
		if (total != 100) {
			fail(c, distribute->items[i], "total locality weight %llu != 100",
			     (unsigned long long)total);
			path_pop(c, m);
			goto out;
		}
		if (!(to = calloc(d->num_to ? (size_t)d->num_to : 1, sizeof(*to)))) {
			oom(c);
			path_pop(c, m);
			goto out;
		}
		for (int k = 0; k < d->num_to; k++)
			to[k] = d->to[k].locality;
		if ((e = check_localities(c, to, d->num_to)))
			fail(c, distribute->items[i], "%s", e);
		free(to);
		path_pop(c, m);
	}
	if ((e = check_localities(c, from, l->num_distribute)))
		fail_field(c, n, "distribute", e);
	for (int i = 0; i < l->num_failover; i++) {
		const struct dr_locality_failover *f = &l->failover[i];
		const char *fr = f->from ? f->from : "", *to = f->to ? f->to : "";
		size_t m = path_field(c, "failover");

		path_idx(c, (size_t)i);
		if (!strcmp(fr, to))
			fail(c, failover->items[i], "locality lb failover settings must specify "
			     "different regions");
		if (strchr(fr, '/') || strchr(to, '/'))
			fail(c, failover->items[i], "locality lb failover only specify region");
		if (strchr(fr, '*') || strchr(to, '*'))
			fail(c, failover->items[i], "locality lb failover region should not contain "
			     "'*' wildcard");
		path_pop(c, m);
	}
out:
	free(from);
	return l;
}

static struct dr_warmup *parse_dr_warmup(struct ctx *c, const struct ynode *n)
{
	struct dr_warmup *w;
	const struct ypair *p;
	bool has_duration = false;

	if (!expect_map(c, n) || !(w = new_of(c, sizeof(*w))))
		return NULL;
	w->duration_ms = -1;
	w->minimum_percent = -1;
	w->aggression = -1;
	FOR_FIELDS(c, n, p) {
		double d;

		if (key_is(p, "duration")) {
			has_duration = true;
			get_duration(c, p->value, true, &w->duration_ms);
		} else if (key_is(p, "minimumPercent")) {
			if (get_double(c, p->value, &d) < 0)
				continue;
			check_min_max(c, p->value, d, 0, 100);
			w->minimum_percent = d;
		} else if (key_is(p, "aggression")) {
			if (get_double(c, p->value, &d) < 0)
				continue;
			check_min_max(c, p->value, d, 0, INFINITY);
			w->aggression = d;
		} else {
			unknown_field(c, p);
		}
	}
	if (!has_duration)
		required(c, n, "duration");
	return w;
}

// parse_dr_lb reads LoadBalancerSettings (validateLoadBalancer).
static struct dr_load_balancer *parse_dr_lb(struct ctx *c, const struct ynode *n)
{
	struct dr_load_balancer *lb;
	const struct ypair *p;
	const struct ynode *simple = NULL, *hash = NULL;
	int v;

	if (!expect_map(c, n) || !(lb = new_of(c, sizeof(*lb))))
		return NULL;
	lb->warmup_duration_ms = -1;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "simple")) {
			simple = p->key;
			if (get_enum(c, p->value, dr_lb_simples, &v) == 0)
				lb->simple = (enum dr_lb_simple)v;
		} else if (key_is(p, "consistentHash")) {
			hash = p->key;
			lb->consistent_hash = parse_dr_hash(c, p->value);
		} else if (key_is(p, "localityLbSetting")) {
			lb->locality_lb = parse_dr_locality(c, p->value);
		} else if (key_is(p, "warmupDurationSecs")) {
			get_duration(c, p->value, true, &lb->warmup_duration_ms);
		} else if (key_is(p, "warmup")) {
			lb->warmup = parse_dr_warmup(c, p->value);
		} else {
			unknown_field(c, p);
		}
	}
	if (simple && hash)
		fail(c, simple->line > hash->line ? simple : hash,
		     "only one of simple or consistentHash may be set");
	return lb;
}

static struct dr_tcp_keepalive *parse_dr_keepalive(struct ctx *c, const struct ynode *n)
{
	struct dr_tcp_keepalive *k;
	const struct ypair *p;

	if (!expect_map(c, n) || !(k = new_of(c, sizeof(*k))))
		return NULL;
	k->time_ms = k->interval_ms = -1;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "probes"))
			get_u32(c, p->value, &k->probes);
		else if (key_is(p, "time"))
			get_duration(c, p->value, true, &k->time_ms);
		else if (key_is(p, "interval"))
			get_duration(c, p->value, true, &k->interval_ms);
		else
			unknown_field(c, p);
	}
	return k;
}

static struct dr_tcp_pool *parse_dr_tcp_pool(struct ctx *c, const struct ynode *n)
{
	struct dr_tcp_pool *t;
	const struct ypair *p;

	if (!expect_map(c, n) || !(t = new_of(c, sizeof(*t))))
		return NULL;
	t->connect_timeout_ms = t->max_connection_duration_ms = t->idle_timeout_ms = -1;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "maxConnections"))
			get_nonneg_i32(c, p->value, "max connections", &t->max_connections);
		else if (key_is(p, "connectTimeout"))
			get_duration(c, p->value, true, &t->connect_timeout_ms);
		else if (key_is(p, "tcpKeepalive"))
			t->keepalive = parse_dr_keepalive(c, p->value);
		else if (key_is(p, "maxConnectionDuration"))
			get_duration(c, p->value, true, &t->max_connection_duration_ms);
		else if (key_is(p, "idleTimeout"))
			get_duration(c, p->value, true, &t->idle_timeout_ms);
		else
			unknown_field(c, p);
	}
	return t;
}

static struct dr_http_pool *parse_dr_http_pool(struct ctx *c, const struct ynode *n)
{
	struct dr_http_pool *h;
	const struct ypair *p, *q;
	const struct ynode *ucp = NULL;
	int v;

	if (!expect_map(c, n) || !(h = new_of(c, sizeof(*h))))
		return NULL;
	h->idle_timeout_ms = h->h2_keepalive_interval_ms = h->h2_keepalive_timeout_ms = -1;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "http1MaxPendingRequests")) {
			get_nonneg_i32(c, p->value, "http1 max pending requests",
				       &h->http1_max_pending_requests);
		} else if (key_is(p, "http2MaxRequests")) {
			get_nonneg_i32(c, p->value, "http2 max requests", &h->http2_max_requests);
		} else if (key_is(p, "maxRequestsPerConnection")) {
			get_nonneg_i32(c, p->value, "max requests per connection",
				       &h->max_requests_per_connection);
		} else if (key_is(p, "maxRetries")) {
			get_nonneg_i32(c, p->value, "max retries", &h->max_retries);
		} else if (key_is(p, "idleTimeout")) {
			get_duration(c, p->value, true, &h->idle_timeout_ms);
		} else if (key_is(p, "h2UpgradePolicy")) {
			if (get_enum(c, p->value, dr_h2_upgrades, &v) == 0)
				h->h2_upgrade_policy = (enum dr_h2_upgrade)v;
		} else if (key_is(p, "useClientProtocol")) {
			ucp = p->key;
			get_bool(c, p->value, &h->use_client_protocol);
		} else if (key_is(p, "maxConcurrentStreams")) {
			get_nonneg_i32(c, p->value, "max concurrent streams", &h->max_concurrent_streams);
		} else if (key_is(p, "http2KeepAlive")) {
			if (!expect_map(c, p->value))
				continue;
			FOR_FIELDS(c, p->value, q) {
				if (key_is(q, "interval"))
					get_duration(c, q->value, true, &h->h2_keepalive_interval_ms);
				else if (key_is(q, "timeout"))
					get_duration(c, q->value, true, &h->h2_keepalive_timeout_ms);
				else
					unknown_field(c, q);
			}
		} else {
			unknown_field(c, p);
		}
	}
	if (h->h2_upgrade_policy == DR_H2_UPGRADE && h->use_client_protocol) {
		size_t m = path_field(c, "useClientProtocol");

		fail(c, ucp, "use client protocol must not be true when H2UpgradePolicy is UPGRADE");
		path_pop(c, m);
	}
	return h;
}

// parse_dr_pool reads ConnectionPoolSettings (validateConnectionPool).
static struct dr_conn_pool *parse_dr_pool(struct ctx *c, const struct ynode *n)
{
	struct dr_conn_pool *cp;
	const struct ypair *p;
	bool any = false;

	if (!expect_map(c, n) || !(cp = new_of(c, sizeof(*cp))))
		return NULL;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "tcp")) {
			any = true;
			cp->tcp = parse_dr_tcp_pool(c, p->value);
		} else if (key_is(p, "http")) {
			any = true;
			cp->http = parse_dr_http_pool(c, p->value);
		} else {
			unknown_field(c, p);
		}
	}
	if (!any)
		fail(c, n, "connection pool must have at least one field");
	return cp;
}

static void get_percent_i32(struct ctx *c, const struct ynode *n, int32_t *out)
{
	if (get_i32(c, n, out) == 0 && (*out < 0 || *out > 100))
		fail(c, n, "percentage %d is not in range 0..100", *out);
}

// parse_dr_outlier reads OutlierDetection (validateOutlierDetection).
static struct dr_outlier *parse_dr_outlier(struct ctx *c, const struct ynode *n)
{
	struct dr_outlier *o;
	const struct ypair *p;
	const struct ynode *local = NULL;
	int e0 = c->errors;

	if (!expect_map(c, n) || !(o = new_of(c, sizeof(*o))))
		return NULL;
	o->consecutive_gateway_errors = o->consecutive_5xx_errors = -1;
	o->consecutive_local_origin_failures = -1;
	o->interval_ms = o->base_ejection_time_ms = -1;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "consecutiveErrors")) {
			// deprecated (a warning in Istio), still honoured
			get_i32(c, p->value, &o->consecutive_errors);
		} else if (key_is(p, "consecutiveGatewayErrors")) {
			get_u32_value(c, p->value, &o->consecutive_gateway_errors);
		} else if (key_is(p, "consecutive5xxErrors")) {
			get_u32_value(c, p->value, &o->consecutive_5xx_errors);
		} else if (key_is(p, "interval")) {
			get_duration(c, p->value, true, &o->interval_ms);
		} else if (key_is(p, "baseEjectionTime")) {
			get_duration(c, p->value, true, &o->base_ejection_time_ms);
		} else if (key_is(p, "maxEjectionPercent")) {
			get_percent_i32(c, p->value, &o->max_ejection_percent);
		} else if (key_is(p, "minHealthPercent")) {
			get_percent_i32(c, p->value, &o->min_health_percent);
		} else if (key_is(p, "splitExternalLocalOriginErrors")) {
			get_bool(c, p->value, &o->split_external_local_origin_errors);
		} else if (key_is(p, "consecutiveLocalOriginFailures")) {
			local = p->key;
			get_u32_value(c, p->value, &o->consecutive_local_origin_failures);
		} else {
			unknown_field(c, p);
		}
	}
	if (c->errors == e0 && !o->split_external_local_origin_errors &&
	    o->consecutive_local_origin_failures > 0) {
		size_t m = path_field(c, "consecutiveLocalOriginFailures");

		fail(c, local, "outlier detection consecutive local origin failures is specified, but "
		     "split external local origin errors is set to false");
		path_pop(c, m);
	}
	return o;
}

// parse_dr_tunnel reads TunnelSettings (validateTunnelSettings).
static struct dr_tunnel *parse_dr_tunnel(struct ctx *c, const struct ynode *n)
{
	struct dr_tunnel *t;
	const struct ypair *p;
	bool has_host = false, has_port = false;
	const char *e;

	if (!expect_map(c, n) || !(t = new_of(c, sizeof(*t))))
		return NULL;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "protocol")) {
			if (get_opt_str(c, p->value, &t->protocol) == 0 && t->protocol &&
			    strcmp(t->protocol, "CONNECT") && strcmp(t->protocol, "POST"))
				fail(c, p->value, "tunnel protocol must be \"CONNECT\" or \"POST\"");
		} else if (key_is(p, "targetHost")) {
			has_host = true;
			if (get_str(c, p->value, &t->target_host) == 0 && !is_ip(t->target_host) &&
			    (e = validate_fqdn(c, t->target_host)))
				fail(c, p->value, "tunnel target host must be valid FQDN or IP address: %s", e);
		} else if (key_is(p, "targetPort")) {
			has_port = true;
			if (get_u32(c, p->value, &t->target_port) == 0 &&
			    (t->target_port < 1 || t->target_port > 65535))
				fail(c, p->value, "tunnel target port is invalid: port number %u must be in "
				     "the range 1..65535", t->target_port);
		} else {
			unknown_field(c, p);
		}
	}
	if (!t->protocol)
		t->protocol = "CONNECT";
	if (!has_host)
		required(c, n, "targetHost");
	if (!has_port)
		required(c, n, "targetPort");
	return t;
}

static void parse_dr_retry_budget(struct ctx *c, const struct ynode *n, struct dr_traffic_policy *tp)
{
	struct dr_retry_budget *rb;
	const struct ypair *p;
	double d;

	if (!expect_map(c, n) || !(rb = new_of(c, sizeof(*rb))))
		return;
	rb->percent = -1;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "percent")) {
			if (get_double(c, p->value, &d) < 0)
				continue;
			check_min_max(c, p->value, d, 0, 100);
			rb->percent = d;
		} else if (key_is(p, "minRetryConcurrency")) {
			get_u32(c, p->value, &rb->min_retry_concurrency);
		} else {
			unknown_field(c, p);
		}
	}
	tp->retry_budget = rb;
}

// parse_dr_port_policy reads one PortTrafficPolicy; *has_port says whether
// it named a port (for the uniqueness check).
static void parse_dr_port_policy(struct ctx *c, const struct ynode *n, struct dr_port_policy *pp,
				 bool *has_port)
{
	const struct ypair *p;
	bool any = false;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "port")) {
			*has_port = true;
			parse_port_selector(c, p->value, &pp->port);
		} else if (key_is(p, "loadBalancer")) {
			any = true;
			pp->load_balancer = parse_dr_lb(c, p->value);
		} else if (key_is(p, "connectionPool")) {
			any = true;
			pp->connection_pool = parse_dr_pool(c, p->value);
		} else if (key_is(p, "outlierDetection")) {
			any = true;
			pp->outlier_detection = parse_dr_outlier(c, p->value);
		} else if (key_is(p, "tls")) {
			any = true;
			pp->tls = parse_dr_tls(c, p->value);
		} else {
			unknown_field(c, p);
		}
	}
	if (!*has_port)
		required(c, n, "port");
	if (!any)
		fail(c, n, "port traffic policy must have at least one field");
}

static void parse_dr_port_policies(struct ctx *c, const struct ynode *n, struct dr_traffic_policy *tp)
{
	struct keyed *keys = NULL;
	bool *has_port, *dup = NULL;
	size_t nk = 0;

	if (!expect_seq(c, n))
		return;
	max_items(c, n, 4096);
	tp->port_level_settings = arena_alloc_array(c->ar, n->len ? n->len : 1,
						    sizeof(*tp->port_level_settings));
	has_port = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*has_port));
	if (!tp->port_level_settings || !has_port) {
		oom(c);
		return;
	}
	tp->num_port_level_settings = (int)n->len;
	for (size_t i = 0; i < n->len; i++) {
		size_t m = path_idx(c, i);

		if (yaml_tree_is_null(n->items[i]))
			fail(c, n->items[i], "traffic policy may not be null");
		else
			parse_dr_port_policy(c, n->items[i], &tp->port_level_settings[i], &has_port[i]);
		path_pop(c, m);
	}
	// Two entries for one port: which one applies would depend on order.
	keys = calloc(n->len ? n->len : 1, sizeof(*keys));
	dup = calloc(n->len ? n->len : 1, sizeof(*dup));
	if (!keys || !dup) {
		oom(c);
		goto out;
	}
	for (size_t i = 0; i < n->len; i++)
		if (has_port[i] && tp->port_level_settings[i].port)
			keys[nk++] = (struct keyed){ .u = tp->port_level_settings[i].port, .idx = i };
	mark_dups(keys, nk, dup);
	for (size_t i = 0; i < n->len; i++) {
		size_t m;

		if (!dup[i])
			continue;
		m = path_idx(c, i);
		path_field(c, "port");
		fail(c, key_of(n->items[i], yaml_tree_map_get(n->items[i], "port")),
		     "Duplicate value: port %u already has a port-level traffic policy",
		     tp->port_level_settings[i].port);
		path_pop(c, m);
	}
out:
	free(keys);
	free(dup);
}

// parse_dr_policy reads a TrafficPolicy (validateTrafficPolicy).
static struct dr_traffic_policy *parse_dr_policy(struct ctx *c, const struct ynode *n)
{
	struct dr_traffic_policy *tp;
	const struct ypair *p;
	const struct ynode *tunnel = NULL, *proxy = NULL;
	bool any = false;
	int v;

	if (!expect_map(c, n) || !(tp = new_of(c, sizeof(*tp))))
		return NULL;
	tp->proxy_protocol = -1;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "loadBalancer")) {
			any = true;
			tp->load_balancer = parse_dr_lb(c, p->value);
		} else if (key_is(p, "connectionPool")) {
			any = true;
			tp->connection_pool = parse_dr_pool(c, p->value);
		} else if (key_is(p, "outlierDetection")) {
			any = true;
			tp->outlier_detection = parse_dr_outlier(c, p->value);
		} else if (key_is(p, "tls")) {
			any = true;
			tp->tls = parse_dr_tls(c, p->value);
		} else if (key_is(p, "portLevelSettings")) {
			// an empty list is no list, as protobuf reads it
			any |= p->value->type != YN_SEQ || p->value->len > 0;
			parse_dr_port_policies(c, p->value, tp);
		} else if (key_is(p, "tunnel")) {
			any = true;
			tunnel = p->key;
			tp->tunnel = parse_dr_tunnel(c, p->value);
		} else if (key_is(p, "proxyProtocol")) {
			const struct ypair *q;

			any = true;
			proxy = p->key;
			if (!expect_map(c, p->value))
				continue;
			tp->proxy_protocol = DR_PROXY_V1;
			FOR_FIELDS(c, p->value, q) {
				if (!key_is(q, "version"))
					unknown_field(c, q);
				else if (get_enum(c, q->value, dr_proxy_versions, &v) == 0)
					tp->proxy_protocol = v;
			}
		} else if (key_is(p, "retryBudget")) {
			any = true;
			parse_dr_retry_budget(c, p->value, tp);
		} else {
			unknown_field(c, p);
		}
	}
	if (!any)
		fail(c, n, "traffic policy must have at least one field");
	if (tunnel && proxy)
		fail(c, tunnel->line > proxy->line ? tunnel : proxy,
		     "tunnel and proxyProtocol must not be set together");
	return tp;
}

static void parse_dr_subset(struct ctx *c, const struct ynode *n, struct dr_subset *s)
{
	const struct ypair *p;
	bool has_name = false;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "name")) {
			has_name = true;
			if (get_str(c, p->value, &s->name) < 0)
				continue;
			if (!*s->name)
				fail(c, p->value, "subset name cannot be empty");
			else if (!dns1123_label_z(s->name))
				fail(c, p->value, "subset name is invalid: %s", qv(c, s->name));
		} else if (key_is(p, "labels")) {
			if (get_str_map(c, p->value, &s->labels, &s->num_labels) == 0)
				validate_labels(c, p->value, s->labels, s->num_labels);
		} else if (key_is(p, "trafficPolicy")) {
			s->traffic_policy = parse_dr_policy(c, p->value);
		} else {
			unknown_field(c, p);
		}
	}
	if (!has_name)
		required(c, n, "name");
}

static void parse_dr_subsets(struct ctx *c, const struct ynode *n, struct destination_rule *dr)
{
	struct keyed *keys;
	bool *dup;
	size_t nk = 0;

	if (!expect_seq(c, n))
		return;
	dr->subsets = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*dr->subsets));
	if (!dr->subsets) {
		oom(c);
		return;
	}
	dr->num_subsets = (int)n->len;
	for (size_t i = 0; i < n->len; i++) {
		size_t m = path_idx(c, i);

		if (yaml_tree_is_null(n->items[i]))
			fail(c, n->items[i], "subset may not be null");
		else
			parse_dr_subset(c, n->items[i], &dr->subsets[i]);
		path_pop(c, m);
	}
	keys = calloc(n->len ? n->len : 1, sizeof(*keys));
	dup = calloc(n->len ? n->len : 1, sizeof(*dup));
	if (!keys || !dup) {
		oom(c);
		goto out;
	}
	for (size_t i = 0; i < n->len; i++)
		if (dr->subsets[i].name && *dr->subsets[i].name)
			keys[nk++] = (struct keyed){ .s = dr->subsets[i].name, .idx = i };
	mark_dups(keys, nk, dup);
	for (size_t i = 0; i < n->len; i++) {
		size_t m;

		if (!dup[i])
			continue;
		m = path_idx(c, i);
		path_field(c, "name");
		fail(c, yaml_tree_map_get(n->items[i], "name"), "duplicate subset names: %s",
		     dr->subsets[i].name);
		path_pop(c, m);
	}
out:
	free(keys);
	free(dup);
}

// check_dr_export_to is validateExportTo's rule for a DestinationRule with a
// workload selector: it may be exported to its own namespace only.
static void check_dr_export_to(struct ctx *c, const struct ynode *n, const struct destination_rule *dr)
{
	const char *ns = c->ns ? c->ns : "default";
	bool has_ns = false;
	int distinct = 0;

	for (int i = 0; i < dr->num_export_to; i++) {
		const char *k = strcmp(dr->export_to[i], ".") ? dr->export_to[i] : ns;
		bool seen = false;

		for (int j = 0; j < i && !seen; j++)
			seen = !strcmp(strcmp(dr->export_to[j], ".") ? dr->export_to[j] : ns, k);
		distinct += !seen;
		has_ns |= !strcmp(k, ns);
	}
	if (!distinct)
		return;
	if (!has_ns)
		fail(c, n, "destination rule with workload selector cannot have exportTo beyond "
		     "current namespace");
	else if (distinct > 1)
		fail(c, n, "destination rule with workload selector cannot have multiple entries in "
		     "exportTo");
}

static void parse_destination_rule(struct ctx *c, const struct ynode *spec, struct destination_rule *dr)
{
	const struct ypair *p;
	const struct ynode *host = NULL, *export_to = NULL;
	const char *e;
	size_t m;

	if (!spec) {
		fail(c, NULL, "spec: Required value");
		return;
	}
	m = path_field(c, "spec");
	if (!expect_map(c, spec))
		goto out;
	FOR_FIELDS(c, spec, p) {
		if (key_is(p, "host")) {
			host = p->value;
			if (get_str(c, p->value, &dr->host) == 0 && (e = validate_wildcard_domain(c, dr->host)))
				fail(c, p->value, "%s", e);
		} else if (key_is(p, "trafficPolicy")) {
			dr->traffic_policy = parse_dr_policy(c, p->value);
		} else if (key_is(p, "subsets")) {
			parse_dr_subsets(c, p->value, dr);
		} else if (key_is(p, "exportTo")) {
			export_to = p->value;
			if (get_str_list(c, p->value, &dr->export_to, &dr->num_export_to) == 0)
				check_export_to(c, p->value, dr->export_to, dr->num_export_to, false);
		} else if (key_is(p, "workloadSelector")) {
			dr->has_workload_selector = 1;
			parse_match_labels(c, p->value, &dr->workload_selector, &dr->num_workload_selector);
		} else {
			unknown_field(c, p);
		}
	}
	if (!host)
		required(c, spec, "host");
	if (c->errors)
		goto out;
	if (dr->has_workload_selector && dr->num_export_to) {
		size_t me = path_field(c, "exportTo");

		check_dr_export_to(c, key_of(spec, export_to), dr);
		path_pop(c, me);
	}
out:
	path_pop(c, m);
}

// ---- PeerAuthentication ----

static const char *const pa_modes[] = { "UNSET", "DISABLE", "PERMISSIVE", "STRICT", NULL };

// parse_mode_map reads a map whose one field is mode, one of modes (the
// PeerAuthentication mtls and Telemetry match shape). It returns the mode's
// index, or -1 when absent or bad (reported).
static int parse_mode_map(struct ctx *c, const struct ynode *n, const char *const *modes)
{
	const struct ypair *p;
	int v, mode = -1;

	if (!expect_map(c, n))
		return -1;
	FOR_FIELDS(c, n, p) {
		if (!key_is(p, "mode"))
			unknown_field(c, p);
		else if (get_enum(c, p->value, modes, &v) == 0)
			mode = v;
	}
	return mode;
}

static void parse_pa_mtls(struct ctx *c, const struct ynode *n, enum pa_mtls_mode *mode)
{
	int v = parse_mode_map(c, n, pa_modes);

	if (v >= 0)
		*mode = (enum pa_mtls_mode)v;
}

// pa_port_key reads a portLevelMtls key: map<uint32, ...> keys are strings
// in JSON ("8080") and usually plain integers in YAML. It returns 0 or -1.
static int pa_port_key(struct ctx *c, const struct ynode *key, uint32_t *out)
{
	enum yscalar_kind k = yaml_tree_scalar_kind(key);
	uint64_t v = 0;
	int64_t i;

	if (k == YK_INT && key->style == YS_PLAIN) {
		if (yaml_tree_scalar_int(key, &i) < 0 || i < 0 || i > UINT32_MAX)
			goto bad;
		v = (uint64_t)i;
	} else if (k == YK_STR && key->len && key->len <= 10 && strlen(key->str) == key->len) {
		// strconv.ParseUint(s, 10, 32), as protojson reads a map key
		for (size_t j = 0; j < key->len; j++) {
			if (key->str[j] < '0' || key->str[j] > '9')
				goto bad;
			v = v * 10 + (uint64_t)(key->str[j] - '0');
		}
		if (v > UINT32_MAX)
			goto bad;
	} else {
		goto bad;
	}
	*out = (uint32_t)v;
	return 0;
bad:
	fail(c, key, "port %s is not a valid port number", qv(c, key->str));
	return -1;
}

static void parse_pa_ports(struct ctx *c, const struct ynode *n, struct peer_authentication *pa)
{
	struct keyed *keys = NULL;
	bool *dup = NULL;
	size_t nk = 0;

	if (!expect_map(c, n))
		return;
	pa->port_level_mtls = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*pa->port_level_mtls));
	keys = calloc(n->len ? n->len : 1, sizeof(*keys));
	dup = calloc(n->len ? n->len : 1, sizeof(*dup));
	if (!pa->port_level_mtls || !keys || !dup) {
		oom(c);
		goto out;
	}
	pa->num_port_level_mtls = (int)n->len;
	for (size_t i = 0; i < n->len; i++) {
		const struct ypair *pp = &n->pairs[i];
		struct pa_port_mtls *pm = &pa->port_level_mtls[i];
		size_t m = path_mapkey(c, pp->key);

		if (pa_port_key(c, pp->key, &pm->port) == 0) {
			if (pm->port < 1 || pm->port > 65535)
				fail(c, pp->key, "port must be in range 1..65535");
			else
				keys[nk++] = (struct keyed){ .u = pm->port, .idx = i };
		}
		if (yaml_tree_is_null(pp->value))
			fail(c, pp->value, "portLevelMtls entry must not be null");
		else
			parse_pa_mtls(c, pp->value, &pm->mode);
		path_pop(c, m);
	}
	// "8080" and 8080 are one key once read, though not to YAML
	mark_dups(keys, nk, dup);
	for (size_t i = 0; i < n->len; i++) {
		size_t m;

		if (!dup[i])
			continue;
		m = path_mapkey(c, n->pairs[i].key);
		fail(c, n->pairs[i].key, "Duplicate value: port %u already has a port-level mTLS mode",
		     pa->port_level_mtls[i].port);
		path_pop(c, m);
	}
out:
	free(keys);
	free(dup);
}

// parse_peer_authentication reads a PeerAuthentication spec
// (ValidatePeerAuthentication). A missing spec is an empty one: a mesh- or
// namespace-wide policy that inherits its mode.
static void parse_peer_authentication(struct ctx *c, const struct ynode *spec,
				      struct peer_authentication *pa)
{
	const struct ypair *p;
	const struct ynode *ports = NULL;
	size_t m;

	if (!spec)
		return;
	m = path_field(c, "spec");
	if (!expect_map(c, spec))
		goto out;
	FOR_FIELDS(c, spec, p) {
		if (key_is(p, "selector")) {
			parse_match_labels(c, p->value, &pa->selector, &pa->num_selector);
		} else if (key_is(p, "mtls")) {
			parse_pa_mtls(c, p->value, &pa->mtls_mode);
		} else if (key_is(p, "portLevelMtls")) {
			ports = p->value;
			parse_pa_ports(c, p->value, pa);
		} else {
			unknown_field(c, p);
		}
	}
	if (c->errors || !ports)
		goto out;
	if (pa->num_port_level_mtls == 0) {
		size_t mp = path_field(c, "portLevelMtls");

		fail(c, key_of(spec, ports), "port level mTLS, if defined, must have at least one element");
		path_pop(c, mp);
	} else if (pa->num_selector == 0) {
		// ports are a workload's: without a selector there is none
		size_t mp = path_field(c, "portLevelMtls");

		fail(c, key_of(spec, ports), "mesh/namespace peer authentication cannot have port "
		     "level mTLS");
		path_pop(c, mp);
	}
out:
	path_pop(c, m);
}

// ---- Sidecar ----

static const char *const sc_capture_modes[] = { "DEFAULT", "IPTABLES", "NONE", NULL };
static const char *const sc_outbound_modes[] = { "REGISTRY_ONLY", "ALLOW_ANY", NULL };

// check_egress_host validates "namespace/dnsName" as istiod does: the
// namespace "*", ".", "~" or a DNS-1123 label, the name "*" or a
// (wildcard) domain.
static void check_egress_host(struct ctx *c, const struct ynode *n, const char *h)
{
	const char *slash = strchr(h, '/'), *e;
	size_t nl;

	if (!slash) {
		fail(c, n, "sidecar: host must be of form namespace/dnsName (got %s)", qv(c, h));
		return;
	}
	nl = (size_t)(slash - h);
	if (!(nl == 1 && (h[0] == '*' || h[0] == '.' || h[0] == '~')) && !dns1123_label(h, nl))
		fail(c, n, "sidecar: invalid namespace %.*s in host %s", (int)(nl < 64 ? nl : 64), h,
		     qv(c, h));
	if (strcmp(slash + 1, "*") && (e = validate_wildcard_domain(c, slash + 1)))
		fail(c, n, "sidecar: %s", e);
}

// check_default_endpoint: an ingress listener's defaultEndpoint is a
// loopback or any-address with a port, or a unix socket.
static void check_default_endpoint(struct ctx *c, const struct ynode *n, const char *v)
{
	static const char *const hosts[] = { "127.0.0.1:", "0.0.0.0:", "[::1]:", "[::]:", NULL };
	char *end;
	unsigned long port;

	if (!strncmp(v, "unix://", 7)) {
		if (v[7] != '/' && v[7] != '@')
			fail(c, n, "UDS must be an absolute path or abstract socket");
		return;
	}
	for (int i = 0; hosts[i]; i++) {
		size_t l = strlen(hosts[i]);

		if (strncmp(v, hosts[i], l))
			continue;
		port = strtoul(v + l, &end, 10);
		if (end == v + l || *end || port < 1 || port > 65535)
			fail(c, n, "sidecar: defaultEndpoint port %s is not a valid port", qv(c, v + l));
		return;
	}
	fail(c, n, "sidecar: defaultEndpoint %s must be 127.0.0.1:PORT, 0.0.0.0:PORT, [::1]:PORT, "
	     "[::]:PORT or unix://path", qv(c, v));
}

static void parse_sidecar_listener(struct ctx *c, const struct ynode *n, struct sidecar_listener *l,
				   bool egress)
{
	const struct ypair *p;
	bool has_port = false;
	int v;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "port")) {
			has_port = true;
			parse_se_port(c, p->value, &l->port);
		} else if (key_is(p, "bind")) {
			if (get_str(c, p->value, &l->bind) == 0 && strncmp(l->bind, "unix://", 7) &&
			    !is_ip(l->bind))
				fail(c, p->value, "sidecar: invalid bind address %s", qv(c, l->bind));
		} else if (key_is(p, "captureMode")) {
			if (get_enum(c, p->value, sc_capture_modes, &v) == 0)
				l->capture_mode = (enum sidecar_capture)v;
		} else if (egress && key_is(p, "hosts")) {
			if (get_str_list(c, p->value, &l->hosts, &l->num_hosts) < 0)
				continue;
			for (int i = 0; i < l->num_hosts; i++) {
				size_t m = path_idx(c, (size_t)i);

				check_egress_host(c, p->value->items[i], l->hosts[i]);
				path_pop(c, m);
			}
		} else if (!egress && key_is(p, "defaultEndpoint")) {
			if (get_str(c, p->value, &l->default_endpoint) == 0)
				check_default_endpoint(c, p->value, l->default_endpoint);
		} else if (!egress && (key_is(p, "tls") || key_is(p, "connectionPool"))) {
			continue;	// kept as written; not enforced (logged by the builder)
		} else {
			unknown_field(c, p);
		}
	}
	if (!egress && !has_port)
		fail(c, n, "sidecar: port is required for ingress listeners");
	if (egress && !l->num_hosts)
		fail(c, n, "sidecar: egress listener must contain at least one host");
}

static void parse_sidecar(struct ctx *c, const struct ynode *spec, struct sidecar *sc)
{
	const struct ypair *p, *q;
	int catch_all = 0;
	size_t m;

	sc->outbound_mode = -1;
	if (!spec) {
		fail(c, NULL, "spec: Required value");
		return;
	}
	m = path_field(c, "spec");
	if (!expect_map(c, spec))
		goto out;
	FOR_FIELDS(c, spec, p) {
		if (key_is(p, "workloadSelector")) {
			if (!expect_map(c, p->value))
				continue;
			FOR_FIELDS(c, p->value, q) {
				if (!key_is(q, "labels")) {
					unknown_field(c, q);
					continue;
				}
				if (get_str_map(c, q->value, &sc->selector, &sc->num_selector) == 0)
					check_selector_labels(c, q->value, sc->selector, sc->num_selector);
			}
		} else if (key_is(p, "ingress") || key_is(p, "egress")) {
			bool egress = key_is(p, "egress");
			struct sidecar_listener **arr = egress ? &sc->egress : &sc->ingress;
			int *num = egress ? &sc->num_egress : &sc->num_ingress;

			if (!expect_seq(c, p->value))
				continue;
			max_items(c, p->value, 1024);
			*arr = arena_alloc_array(c->ar, p->value->len ? p->value->len : 1, sizeof(**arr));
			if (!*arr) {
				oom(c);
				continue;
			}
			*num = (int)p->value->len;
			for (size_t i = 0; i < p->value->len; i++) {
				size_t mi = path_idx(c, i);

				parse_sidecar_listener(c, p->value->items[i], &(*arr)[i], egress);
				if (egress && !(*arr)[i].port.number && ++catch_all == 2)
					fail(c, p->value->items[i], "sidecar: egress can have only one "
					     "listener with empty port");
				path_pop(c, mi);
			}
		} else if (key_is(p, "outboundTrafficPolicy")) {
			int v;

			if (!expect_map(c, p->value))
				continue;
			FOR_FIELDS(c, p->value, q) {
				if (key_is(q, "mode")) {
					if (get_enum(c, q->value, sc_outbound_modes, &v) == 0)
						sc->outbound_mode = v;
				} else if (key_is(q, "egressProxy")) {
					const struct ypair *r;

					if (!expect_map(c, q->value))
						continue;
					FOR_FIELDS(c, q->value, r) {
						if (key_is(r, "host")) {
							get_str(c, r->value, &sc->egress_proxy_host);
						} else if (key_is(r, "subset")) {
							get_str(c, r->value, &sc->egress_proxy_subset);
						} else if (key_is(r, "port")) {
							const struct ypair *t;

							if (!expect_map(c, r->value))
								continue;
							FOR_FIELDS(c, r->value, t) {
								if (key_is(t, "number"))
									get_u32(c, t->value, &sc->egress_proxy_port);
								else
									unknown_field(c, t);
							}
						} else {
							unknown_field(c, r);
						}
					}
					if (!sc->egress_proxy_host)
						fail(c, q->value, "sidecar: egress_proxy: host is required");
				} else {
					unknown_field(c, q);
				}
			}
			if (sc->egress_proxy_host && sc->outbound_mode != 1)
				fail(c, p->value, "sidecar: egress_proxy must be set only with ALLOW_ANY "
				     "outbound_traffic_policy mode");
		} else if (key_is(p, "inboundConnectionPool")) {
			sc->has_inbound_connection_pool = true;
		} else {
			unknown_field(c, p);
		}
	}
	if (!c->errors && !sc->num_ingress && !sc->num_egress && sc->outbound_mode < 0 &&
	    !sc->has_inbound_connection_pool)
		fail(c, spec, "sidecar: empty configuration provided");
out:
	path_pop(c, m);
}

// ---- AuthorizationPolicy, RequestAuthentication: shared parts ----

// body_fail reports a CRD schema error as the API server words it, the
// path inside the sentence: "spec.targetRef.kind in body should match ...".
static void body_fail(struct ctx *c, const struct ynode *n, const char *what)
{
	char path[sizeof(c->path)];
	size_t plen = c->plen;

	memcpy(path, c->path, plen + 1);
	path_pop(c, 0);
	fail(c, n, "%s in body %s", plen ? path : "spec", what);
	path_append(c, path, plen);
}

// expect_object fails n unless it is a mapping (the CRD schema's "must be of
// type object", which a null item also gets).
static bool expect_object(struct ctx *c, const struct ynode *n)
{
	if (yaml_tree_is_null(n) || n->type != YN_MAP) {
		body_fail(c, n, "must be of type object");
		return false;
	}
	return true;
}

// get_nonempty_str is get_str for a field with minLength 1.
static int get_nonempty_str(struct ctx *c, const struct ynode *n, const char **out)
{
	if (get_str(c, n, out) < 0)
		return -1;
	if (**out)
		return 0;
	body_fail(c, n, "should be at least 1 chars long");
	return -1;
}

// get_nonempty_list is get_str_list for items with minLength 1.
static int get_nonempty_list(struct ctx *c, const struct ynode *n, const char ***out, int *num)
{
	int bad = get_str_list(c, n, out, num);

	if (bad < 0)
		return bad;
	for (int i = 0; i < *num; i++) {
		size_t m = path_idx(c, (size_t)i);

		if (!*(*out)[i]) {
			body_fail(c, n->items[i], "should be at least 1 chars long");
			bad = -1;
		}
		path_pop(c, m);
	}
	return bad;
}

#define REF_GROUP_RE "^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
#define REF_KIND_RE "^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"
#define HEADER_RE "^[-_A-Za-z0-9]+$"

// ref_kind_ok is PolicyTargetReference.kind's pattern, at most 63 long.
static bool ref_kind_ok(const char *s)
{
	size_t len = strlen(s);

	if (!len || len > 63 || !isalpha((unsigned char)s[0]) || !alnum(s[len - 1]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

// header_name_ok is the pattern of header names JWT claims are copied to.
static bool header_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!alnum(*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

// parse_target_ref reads a PolicyTargetReference (its CRD schema and CEL).
static void parse_target_ref(struct ctx *c, const struct ynode *n, struct policy_target_ref *r)
{
	const struct ypair *p;

	if (!expect_object(c, n))
		return;
	r->group = "";
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "group")) {
			if (get_str(c, p->value, &r->group) == 0 &&
			    (strlen(r->group) > 253 || (*r->group && !k8s_subdomain(r->group, strlen(r->group)))))
				body_fail(c, p->value, "should match '" REF_GROUP_RE "'");
		} else if (key_is(p, "kind")) {
			if (get_nonempty_str(c, p->value, &r->kind) == 0 && !ref_kind_ok(r->kind))
				body_fail(c, p->value, "should match '" REF_KIND_RE "'");
		} else if (key_is(p, "name")) {
			if (get_nonempty_str(c, p->value, &r->name) == 0 && strlen(r->name) > 253)
				body_fail(c, p->value, "may not be longer than 253");
		} else if (key_is(p, "namespace")) {
			// the CRD allows only the policy's own namespace, left out
			if (get_opt_str(c, p->value, &r->namespace_) == 0 && r->namespace_)
				fail(c, p->value, "cross namespace referencing is not currently supported");
		} else {
			unknown_field(c, p);
		}
	}
	if (!yaml_tree_map_get(n, "kind") || yaml_tree_is_null(yaml_tree_map_get(n, "kind")))
		required(c, n, "kind");
	if (!yaml_tree_map_get(n, "name") || yaml_tree_is_null(yaml_tree_map_get(n, "name")))
		required(c, n, "name");
}

// parse_scope_field reads p into s when it is selector, targetRef or
// targetRefs; it returns false for any other field.
static bool parse_scope_field(struct ctx *c, const struct ypair *p, struct policy_scope *s)
{
	const struct ynode *n = p->value;

	if (key_is(p, "selector")) {
		s->has_selector = 1;
		parse_match_labels(c, n, &s->selector, &s->num_selector);
	} else if (key_is(p, "targetRef")) {
		if ((s->target_ref = new_of(c, sizeof(*s->target_ref))))
			parse_target_ref(c, n, s->target_ref);
	} else if (key_is(p, "targetRefs")) {
		if (!expect_seq(c, n))
			return true;
		max_items(c, n, 16);
		s->target_refs = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*s->target_refs));
		if (!s->target_refs) {
			oom(c);
			return true;
		}
		s->num_target_refs = (int)n->len;
		for (size_t i = 0; i < n->len; i++) {
			size_t m = path_idx(c, i);

			parse_target_ref(c, n->items[i], &s->target_refs[i]);
			path_pop(c, m);
		}
	} else {
		return false;
	}
	return true;
}

// check_scope is the CEL rule on a policy's spec: a policy selects
// workloads or attaches to objects, not both, and names its objects once.
static void check_scope(struct ctx *c, const struct ynode *spec)
{
	static const char *const f[] = { "selector", "targetRef", "targetRefs" };
	int set = 0;

	for (size_t i = 0; i < ARRAY_SIZE(f); i++)
		set += !yaml_tree_is_null(yaml_tree_map_get(spec, f[i]));
	if (set > 1)
		fail(c, spec, "only one of targetRefs or selector can be set");
}

// ---- AuthorizationPolicy ----

static const char *const ap_actions[] = { "ALLOW", "DENY", "AUDIT", "CUSTOM", NULL };

// LF_* say how the items of a rule's string list are checked beyond
// "not empty".
enum lf_check { LF_ANY = 0, LF_IP, LF_PORT, LF_PATH };

struct list_field {
	const char *name;
	size_t off, num_off;	// of the array and its count in the struct
	enum lf_check check;
};

#define LF(type, yaml, field, check) \
	{ yaml, offsetof(type, field), offsetof(type, num_##field), check }

static const struct list_field ap_source_fields[] = {
	LF(struct ap_source, "principals", principals, LF_ANY),
	LF(struct ap_source, "notPrincipals", not_principals, LF_ANY),
	LF(struct ap_source, "requestPrincipals", request_principals, LF_ANY),
	LF(struct ap_source, "notRequestPrincipals", not_request_principals, LF_ANY),
	LF(struct ap_source, "namespaces", namespaces, LF_ANY),
	LF(struct ap_source, "notNamespaces", not_namespaces, LF_ANY),
	LF(struct ap_source, "ipBlocks", ip_blocks, LF_IP),
	LF(struct ap_source, "notIpBlocks", not_ip_blocks, LF_IP),
	LF(struct ap_source, "remoteIpBlocks", remote_ip_blocks, LF_IP),
	LF(struct ap_source, "notRemoteIpBlocks", not_remote_ip_blocks, LF_IP),
	LF(struct ap_source, "serviceAccounts", service_accounts, LF_ANY),
	LF(struct ap_source, "notServiceAccounts", not_service_accounts, LF_ANY),
	LF(struct ap_source, "trustDomains", trust_domains, LF_ANY),
	LF(struct ap_source, "notTrustDomains", not_trust_domains, LF_ANY),
};

static const struct list_field ap_operation_fields[] = {
	LF(struct ap_operation, "hosts", hosts, LF_ANY),
	LF(struct ap_operation, "notHosts", not_hosts, LF_ANY),
	LF(struct ap_operation, "ports", ports, LF_PORT),
	LF(struct ap_operation, "notPorts", not_ports, LF_PORT),
	LF(struct ap_operation, "methods", methods, LF_ANY),
	LF(struct ap_operation, "notMethods", not_methods, LF_ANY),
	LF(struct ap_operation, "paths", paths, LF_PATH),
	LF(struct ap_operation, "notPaths", not_paths, LF_PATH),
};

// port_str_ok is a port written as a string: decimal, 1..65535.
static bool port_str_ok(const char *s)
{
	size_t len = strlen(s);
	long v;

	if (!len || len > 5 || !all_digits_atoi(s, len) || s[0] == '+' || s[0] == '-')
		return false;
	v = strtol(s, NULL, 10);
	return v >= 1 && v <= 65535;
}

// path_literal_ok is a path segment Envoy's URI templates take literally
// (RFC 3986 pchar, less what the template syntax reserves).
static bool path_literal_ok(const char *s, size_t len)
{
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!alnum(s[i]) && !strchr("-._~%!$&'()+,;:@=", s[i]))
			return false;
	return true;
}

// check_path_template is Istio's CheckValidPathTemplate: "{*}" stands for
// one segment, "{**}" for the rest (once, and no "{*}" after it); other
// braces are errors, and next to a template only literal segments are
// allowed. It returns an error or NULL.
static const char *check_path_template(struct ctx *c, const char *path, const char *field)
{
	bool tmpl = strstr(path, "{*}") || strstr(path, "{**}"), any = false;
	const char *p = path, *end = path + strlen(path);

	while (p < end && *p == '/')
		p++;
	while (end > p && end[-1] == '/')
		end--;
	for (;;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t l = slash ? (size_t)(slash - p) : (size_t)(end - p);
		char seg[64];

		if (l == 3 && !memcmp(p, "{*}", 3) && !any) {
			// one segment
		} else if (l == 4 && !memcmp(p, "{**}", 4) && !any) {
			any = true;
		} else if (memchr(p, '{', l) || memchr(p, '}', l)) {
			snprintf(c->msg, sizeof(c->msg), "invalid or unsupported path %s, found in %s: "
				 "'{' or '}' beyond a supported path template ({*} or a last {**})",
				 qv(c, path), field);
			return c->msg;
		} else if (tmpl && !path_literal_ok(p, l)) {
			clean(seg, sizeof(seg), p, l);
			snprintf(c->msg, sizeof(c->msg), "invalid or unsupported path %s, found in %s: "
				 "segment %s is not a valid string literal", qv(c, path), field,
				 qv(c, seg));
			return c->msg;
		}
		if (!slash)
			return NULL;
		p = slash + 1;
	}
}

// check_list_item checks one item of a rule's string list.
static void check_list_item(struct ctx *c, const struct ynode *n, const char *field, const char *v,
			    enum lf_check check)
{
	const char *e = NULL;

	if (!*v) {
		fail(c, n, "empty value not allowed, found in %s", field);
		return;
	}
	switch (check) {
	case LF_IP:
		e = validate_ip_subnet(c, v);
		break;
	case LF_PORT:
		if (!port_str_ok(v)) {
			snprintf(c->msg, sizeof(c->msg), "bad port %s: must be a number in 1..65535",
				 qv(c, v));
			e = c->msg;
		}
		break;
	case LF_PATH:
		e = check_path_template(c, v, field);
		break;
	case LF_ANY:
		break;
	}
	if (e)
		fail(c, n, "%s", e);
}

// check_list checks the items of a list read by get_str_list.
static void check_list(struct ctx *c, const struct ynode *n, const char *field, const char **v,
		       int num, enum lf_check check)
{
	for (int i = 0; i < num; i++) {
		size_t m;

		if (!v[i])
			continue;	// get_str_list reported it
		m = path_idx(c, (size_t)i);
		check_list_item(c, n->items[i], field, v[i], check);
		path_pop(c, m);
	}
}

// parse_list_fields reads a mapping whose fields are all string lists
// (Source, Operation) into obj. It returns how many lists are non-empty.
static int parse_list_fields(struct ctx *c, const struct ynode *n, const struct list_field *f,
			     size_t nf, void *obj)
{
	const struct ypair *p;
	int set = 0;

	if (!expect_map(c, n))
		return -1;
	FOR_FIELDS(c, n, p) {
		size_t i;

		for (i = 0; i < nf && !key_is(p, f[i].name); i++)
			;
		if (i == nf) {
			unknown_field(c, p);
			continue;
		}
		const char ***arr = (const char ***)((char *)obj + f[i].off);
		int *num = (int *)((char *)obj + f[i].num_off);

		if (get_str_list(c, p->value, arr, num) < 0) {
			set++;	// reported; "must not be empty" would be noise
			continue;
		}
		set += *num > 0;
		check_list(c, p->value, f[i].name, *arr, *num, f[i].check);
	}
	return set;
}

// map_key_ok is Istio's validateMapKey for prefix[...] keys; nested
// allows prefix[a][b] (JWT claims).
static bool map_key_ok(const char *key, const char *prefix, bool nested)
{
	size_t pl = strlen(prefix), len = strlen(key);
	const char *p;

	if (strncmp(key, prefix, pl) || len < pl + 3 || key[pl] != '[' || key[len - 1] != ']')
		return false;
	for (p = key + pl + 1; p < key + len - 1; p++) {
		if (*p == '[')
			return false;
		if (*p != ']')
			continue;
		// "][" between two non-empty names
		if (!nested || p[1] != '[' || p[-1] == '[' || p[2] == ']')
			return false;
		p++;
	}
	return key[pl + 1] != ']';
}

// when_key is ValidateAttribute's key check: it returns how the key's
// values are checked, or -1 for a key Istio does not support.
static int when_key(const char *k)
{
	static const struct {
		const char *name;
		enum lf_check check;
	} plain[] = {
		{ "source.ip", LF_IP }, { "remote.ip", LF_IP }, { "source.namespace", LF_ANY },
		{ "source.principal", LF_ANY }, { "source.trustDomain", LF_ANY },
		{ "request.auth.principal", LF_ANY }, { "request.auth.audiences", LF_ANY },
		{ "request.auth.presenter", LF_ANY }, { "destination.ip", LF_IP },
		{ "destination.port", LF_PORT }, { "connection.sni", LF_ANY },
	};
	static const char envoy[] = "experimental.envoy.filters.";
	const char *b;

	for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
		if (!strcmp(k, plain[i].name))
			return plain[i].check;
	if (map_key_ok(k, "request.headers", false) || map_key_ok(k, "request.auth.claims", true))
		return LF_ANY;
	if (!strncmp(k, envoy, sizeof(envoy) - 1)) {
		// experimental.envoy.filters.<filter>[<metadata key>]
		k += sizeof(envoy) - 1;
		b = strchr(k, '[');
		if (b && b > k && b[1] != ']' && !strchr(b + 1, '[') && strchr(b, ']') == k + strlen(k) - 1)
			return LF_ANY;
	}
	return -1;
}

static void parse_ap_condition(struct ctx *c, const struct ynode *n, struct ap_condition *w)
{
	const struct ynode *keyn = NULL, *vals = NULL, *nvals = NULL;
	const struct ypair *p;
	int check;

	if (yaml_tree_is_null(n)) {
		fail(c, n, "`when` must not be null");
		return;
	}
	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "key")) {
			if (get_str(c, p->value, &w->key) == 0)
				keyn = p->value;
		} else if (key_is(p, "values")) {
			if (get_str_list(c, p->value, &w->values, &w->num_values) == 0)
				vals = p->value;
		} else if (key_is(p, "notValues")) {
			if (get_str_list(c, p->value, &w->not_values, &w->num_not_values) == 0)
				nvals = p->value;
		} else {
			unknown_field(c, p);
		}
	}
	if (!w->key || !*w->key) {
		fail_field(c, n, "key", "`key` must not be empty");
		return;
	}
	if (!w->num_values && !w->num_not_values) {
		fail(c, n, "at least one of `values` or `notValues` must be set for key %s",
		     qv(c, w->key));
		return;
	}
	if ((check = when_key(w->key)) < 0) {
		size_t m = path_field(c, "key");

		fail(c, keyn, "unknown attribute %s (supported: request.headers[<name>], source.ip, "
		     "remote.ip, source.namespace, source.principal, source.trustDomain, "
		     "request.auth.principal, request.auth.audiences, request.auth.presenter, "
		     "request.auth.claims[<name>], destination.ip, destination.port, connection.sni, "
		     "experimental.envoy.filters.<filter>[<key>])", qv(c, w->key));
		path_pop(c, m);
		return;
	}
	if (vals) {
		size_t m = path_field(c, "values");

		check_list(c, vals, "values", w->values, w->num_values, (enum lf_check)check);
		path_pop(c, m);
	}
	if (nvals) {
		size_t m = path_field(c, "notValues");

		check_list(c, nvals, "notValues", w->not_values, w->num_not_values, (enum lf_check)check);
		path_pop(c, m);
	}
}

// parse_ap_clauses reads from: [{source}] or to: [{operation}] (item is
// "source" or "operation") into an array of size-byte objects.
static void parse_ap_clauses(struct ctx *c, const struct ynode *n, const char *list,
			     const char *item, const struct list_field *f, size_t nf, size_t size,
			     void **out, int *num)
{
	char *arr;

	if (!expect_seq(c, n))
		return;
	if (!n->len) {
		fail(c, n, "`%s` must not be empty", list);
		return;
	}
	arr = arena_alloc_array(c->ar, n->len, size);
	if (!arr) {
		oom(c);
		return;
	}
	*out = arr;
	*num = (int)n->len;
	for (size_t i = 0; i < n->len; i++) {
		const struct ynode *it = n->items[i];
		const struct ynode *v = NULL;
		const struct ypair *p;
		size_t m = path_idx(c, i);

		if (yaml_tree_is_null(it)) {
			fail(c, it, "`%s` must not be null", list);
		} else if (expect_map(c, it)) {
			FOR_FIELDS(c, it, p) {
				if (!key_is(p, item)) {
					unknown_field(c, p);
					continue;
				}
				v = p->value;
				if (parse_list_fields(c, v, f, nf, arr + i * size) == 0)
					fail(c, v, "`%s.%s` must not be empty", list, item);
			}
			if (!v)
				fail(c, it, "`%s.%s` must not be null", list, item);
		}
		path_pop(c, m);
	}
}

static void parse_ap_rule(struct ctx *c, const struct ynode *n, struct ap_rule *r)
{
	const struct ypair *p;

	if (yaml_tree_is_null(n)) {
		fail(c, n, "`rule` must not be null");
		return;
	}
	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "from")) {
			parse_ap_clauses(c, p->value, "from", "source", ap_source_fields,
					 ARRAY_SIZE(ap_source_fields), sizeof(struct ap_source),
					 (void **)&r->from, &r->num_from);
		} else if (key_is(p, "to")) {
			parse_ap_clauses(c, p->value, "to", "operation", ap_operation_fields,
					 ARRAY_SIZE(ap_operation_fields), sizeof(struct ap_operation),
					 (void **)&r->to, &r->num_to);
		} else if (key_is(p, "when")) {
			if (!expect_seq(c, p->value))
				continue;
			r->when = arena_alloc_array(c->ar, p->value->len ? p->value->len : 1,
						    sizeof(*r->when));
			if (!r->when) {
				oom(c);
				continue;
			}
			r->num_when = (int)p->value->len;
			for (size_t i = 0; i < p->value->len; i++) {
				size_t m = path_idx(c, i);

				parse_ap_condition(c, p->value->items[i], &r->when[i]);
				path_pop(c, m);
			}
		} else {
			unknown_field(c, p);
		}
	}
}

// check_ap_source is the per-source rules of the webhook and the CRD.
static void check_ap_source(struct ctx *c, const struct ynode *at, const struct ap_source *s,
			    bool custom)
{
	static const struct {
		size_t off;
		const char *name;
	} no_custom[] = {
		{ offsetof(struct ap_source, num_namespaces), "namespaces" },
		{ offsetof(struct ap_source, num_not_namespaces), "notNamespaces" },
		{ offsetof(struct ap_source, num_principals), "principals" },
		{ offsetof(struct ap_source, num_not_principals), "notPrincipals" },
		{ offsetof(struct ap_source, num_request_principals), "requestPrincipals" },
		{ offsetof(struct ap_source, num_not_request_principals), "notRequestPrincipals" },
	};

	if ((s->num_service_accounts || s->num_not_service_accounts) &&
	    (s->num_namespaces || s->num_not_namespaces || s->num_principals || s->num_not_principals))
		fail(c, at, "Cannot set serviceAccounts with namespaces or principals");
	if (s->num_service_accounts > 16 || s->num_not_service_accounts > 16)
		fail(c, at, "serviceAccounts and notServiceAccounts must have at most 16 items");
	for (int i = 0; i < s->num_service_accounts; i++)
		if (s->service_accounts[i] && strlen(s->service_accounts[i]) > 320)
			fail(c, at, "serviceAccounts[%d] may not be longer than 320", i);
	for (int i = 0; i < s->num_not_service_accounts; i++)
		if (s->not_service_accounts[i] && strlen(s->not_service_accounts[i]) > 320)
			fail(c, at, "notServiceAccounts[%d] may not be longer than 320", i);
	for (size_t i = 0; custom && i < ARRAY_SIZE(no_custom); i++)
		if (*(const int *)((const char *)s + no_custom[i].off))
			fail(c, at, "source %s is not supported with the CUSTOM action", no_custom[i].name);
}

// parse_authorization_policy reads an AuthorizationPolicy spec
// (ValidateAuthorizationPolicy and the CRD's rules). A missing spec is an
// empty one: ALLOW with no rules, which denies everything it selects.
static void parse_authorization_policy(struct ctx *c, const struct ynode *spec,
				       struct authorization_policy *ap)
{
	const struct ynode *rules = NULL, *provider = NULL;
	const struct ypair *p, *q;
	size_t m;

	if (!spec)
		return;
	m = path_field(c, "spec");
	if (!expect_map(c, spec))
		goto out;
	FOR_FIELDS(c, spec, p) {
		int v;

		if (parse_scope_field(c, p, &ap->scope))
			continue;
		if (key_is(p, "action")) {
			if (get_enum(c, p->value, ap_actions, &v) == 0)
				ap->action = (enum ap_action)v;
		} else if (key_is(p, "provider")) {
			provider = p->value;
			if (!expect_map(c, p->value))
				continue;
			FOR_FIELDS(c, p->value, q) {
				if (key_is(q, "name"))
					get_str(c, q->value, &ap->provider_name);
				else
					unknown_field(c, q);
			}
		} else if (key_is(p, "rules")) {
			rules = p->value;
			if (!expect_seq(c, p->value))
				continue;
			ap->rules = arena_alloc_array(c->ar, rules->len ? rules->len : 1, sizeof(*ap->rules));
			if (!ap->rules) {
				oom(c);
				continue;
			}
			ap->num_rules = (int)rules->len;
			for (size_t i = 0; i < rules->len; i++) {
				size_t mi = path_idx(c, i);

				parse_ap_rule(c, rules->items[i], &ap->rules[i]);
				path_pop(c, mi);
			}
		} else {
			unknown_field(c, p);
		}
	}
	check_scope(c, spec);
	if (c->errors)
		goto out;
	if (ap->action == AP_CUSTOM) {
		if (!ap->num_rules)
			fail_field(c, spec, "action", "CUSTOM action without rules is never triggered; "
				   "add an empty rule {} to trigger it for every request");
		if (!ap->provider_name || !*ap->provider_name)
			fail_field(c, spec, "provider", "provider.name is required with the CUSTOM action");
	} else if (provider) {
		fail_field(c, spec, "provider", "provider is only allowed with the CUSTOM action");
	}
	for (int i = 0; i < ap->num_rules; i++) {
		const struct ap_rule *r = &ap->rules[i];
		const struct ynode *rn = rules->items[i];
		size_t mi = path_field(c, "rules");

		path_idx(c, (size_t)i);
		for (int j = 0; j < r->num_from; j++) {
			const struct ynode *fn = yaml_tree_map_get(rn, "from")->items[j];
			size_t mj = path_push(c, ".from[%d].source", j);

			check_ap_source(c, yaml_tree_map_get(fn, "source"), &r->from[j],
					ap->action == AP_CUSTOM);
			path_pop(c, mj);
		}
		for (int j = 0; ap->action == AP_CUSTOM && j < r->num_when; j++) {
			const char *k = r->when[j].key;

			if (!strcmp(k, "source.namespace") || !strcmp(k, "source.principal") ||
			    !strncmp(k, "request.auth.", 13)) {
				const struct ynode *wn = yaml_tree_map_get(rn, "when")->items[j];
				size_t mj = path_push(c, ".when[%d].key", j);

				fail(c, yaml_tree_map_get(wn, "key"), "%s is not supported with the "
				     "CUSTOM action", qv(c, k));
				path_pop(c, mj);
			}
		}
		path_pop(c, mi);
	}
out:
	path_pop(c, m);
}

// ---- RequestAuthentication ----

// jwks_uri_ok is what a JWKS URI must be: http or https (any case, as URL
// parsers fold it), a host, no blanks or backslashes.
static bool jwks_uri_ok(const char *s, const char **why)
{
	const char *p = s, *host;

	*why = "url must have scheme http:// or https://";
	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':' || !((p - s == 4 && !strncasecmp(s, "http", 4)) ||
			   (p - s == 5 && !strncasecmp(s, "https", 5))))
		return false;
	if (strncmp(p, "://", 3)) {
		*why = "url must be http(s)://host/...";
		return false;
	}
	host = p + 3;
	*why = "url must have a host";
	if (!*host || *host == '/' || *host == '?' || *host == '#')
		return false;
	*why = "url must not contain spaces, control characters or backslashes";
	for (p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\\')
			return false;
	return true;
}

// jwk_ok is a JSON Web Key: an object with a string "kty".
static bool jwk_ok(const struct ynode *k)
{
	const struct ynode *kty = yaml_tree_map_get(k, "kty");

	return k && k->type == YN_MAP && kty && kty->type == YN_SCALAR &&
	       yaml_tree_scalar_kind(kty) == YK_STR && kty->len;
}

// jwks_error is what the webhook's JWKS parse checks: one JSON object,
// a key set ({"keys": [key...]}) or a single key. It returns an error or
// NULL. Keys are not checked further (their material is the verifier's).
static const char *jwks_error(struct ctx *c, const char *jwks)
{
	const struct ynode *root, *keys;
	struct yaml_tree t;
	struct yaml_error ye;
	const char *e = NULL;
	int err;

	err = yaml_tree_parse(&t, jwks, strlen(jwks), &ye);
	if (err == -ENOMEM) {
		oom(c);
		goto out;
	}
	if (err < 0 || t.num_docs != 1 || !(root = t.docs[0]) || root->type != YN_MAP) {
		e = "jwks parse error: not a JSON object";
		goto out;
	}
	keys = yaml_tree_map_get(root, "keys");
	if (!keys) {
		if (!jwk_ok(root))
			e = "jwks parse error: neither a key set (\"keys\") nor a key (\"kty\")";
		goto out;
	}
	if (keys->type != YN_SEQ) {
		e = "jwks parse error: \"keys\" must be a list";
		goto out;
	}
	for (size_t i = 0; i < keys->len; i++) {
		if (!jwk_ok(keys->items[i])) {
			snprintf(c->msg, sizeof(c->msg), "jwks parse error: keys[%zu] has no \"kty\"", i);
			e = c->msg;
			break;
		}
	}
out:
	yaml_tree_free(&t);
	return e;
}

static void parse_jwt_header(struct ctx *c, const struct ynode *n, struct jwt_header *h)
{
	const struct ypair *p;

	if (!expect_object(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "name"))
			get_nonempty_str(c, p->value, &h->name);
		else if (key_is(p, "prefix"))
			get_opt_str(c, p->value, &h->prefix);
		else
			unknown_field(c, p);
	}
	if (yaml_tree_is_null(yaml_tree_map_get(n, "name")))
		required(c, n, "name");
}

static void parse_claim_header(struct ctx *c, const struct ynode *n, struct jwt_claim_header *h)
{
	const struct ypair *p;

	if (!expect_object(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "header")) {
			if (get_nonempty_str(c, p->value, &h->header) == 0 && !header_name_ok(h->header))
				body_fail(c, p->value, "should match '" HEADER_RE "'");
		} else if (key_is(p, "claim")) {
			get_nonempty_str(c, p->value, &h->claim);
		} else {
			unknown_field(c, p);
		}
	}
	if (yaml_tree_is_null(yaml_tree_map_get(n, "header")))
		required(c, n, "header");
	if (yaml_tree_is_null(yaml_tree_map_get(n, "claim")))
		required(c, n, "claim");
}

// parse_objects reads a list of objects of size bytes with parse.
static void parse_objects(struct ctx *c, const struct ynode *n, size_t size, void **out, int *num,
			  void (*parse)(struct ctx *, const struct ynode *, void *))
{
	char *arr;

	if (!expect_seq(c, n))
		return;
	arr = arena_alloc_array(c->ar, n->len ? n->len : 1, size);
	if (!arr) {
		oom(c);
		return;
	}
	*out = arr;
	*num = (int)n->len;
	for (size_t i = 0; i < n->len; i++) {
		size_t m = path_idx(c, i);

		parse(c, n->items[i], arr + i * size);
		path_pop(c, m);
	}
}

static void parse_jwt_header_v(struct ctx *c, const struct ynode *n, void *h)
{
	parse_jwt_header(c, n, h);
}

static void parse_claim_header_v(struct ctx *c, const struct ynode *n, void *h)
{
	parse_claim_header(c, n, h);
}

static void parse_jwt_rule(struct ctx *c, const struct ynode *n, void *out)
{
	struct jwt_rule *j = out;
	const struct ypair *p;
	const char *why;

	j->timeout_ms = -1;
	if (!expect_object(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		const struct ynode *v = p->value;

		if (key_is(p, "issuer")) {
			get_nonempty_str(c, v, &j->issuer);
		} else if (key_is(p, "audiences")) {
			get_nonempty_list(c, v, &j->audiences, &j->num_audiences);
		} else if (key_is(p, "jwksUri")) {
			if (get_opt_str(c, v, &j->jwks_uri) == 0 && j->jwks_uri) {
				if (strlen(j->jwks_uri) > 2048)
					body_fail(c, v, "may not be longer than 2048");
				else if (!jwks_uri_ok(j->jwks_uri, &why))
					fail(c, v, "%s: %s", qv(c, j->jwks_uri), why);
			}
		} else if (key_is(p, "jwks")) {
			const char *e;

			if (get_opt_str(c, v, &j->jwks) == 0 && j->jwks && (e = jwks_error(c, j->jwks)))
				fail(c, v, "%s", e);
		} else if (key_is(p, "fromHeaders")) {
			parse_objects(c, v, sizeof(*j->from_headers), (void **)&j->from_headers,
				      &j->num_from_headers, parse_jwt_header_v);
		} else if (key_is(p, "fromParams")) {
			get_nonempty_list(c, v, &j->from_params, &j->num_from_params);
		} else if (key_is(p, "fromCookies")) {
			get_nonempty_list(c, v, &j->from_cookies, &j->num_from_cookies);
		} else if (key_is(p, "outputPayloadToHeader")) {
			if (get_str(c, v, &j->output_payload_to_header) == 0 &&
			    !header_name_ok(j->output_payload_to_header))
				body_fail(c, v, "should match '" HEADER_RE "'");
		} else if (key_is(p, "forwardOriginalToken")) {
			get_bool(c, v, &j->forward_original_token);
		} else if (key_is(p, "outputClaimToHeaders")) {
			parse_objects(c, v, sizeof(*j->output_claim_to_headers),
				      (void **)&j->output_claim_to_headers,
				      &j->num_output_claim_to_headers, parse_claim_header_v);
		} else if (key_is(p, "timeout")) {
			const char *s = NULL;
			__int128 ns;

			if (v->type == YN_SCALAR && yaml_tree_scalar_kind(v) == YK_STR)
				s = v->str;
			if (!s || parse_duration_ns(s, &ns) < 0 || ns < 1000000) {
				fail(c, v, "%s: must be a valid duration greater than 1ms",
				     qv(c, v->type == YN_SCALAR ? v->str : ""));
				continue;
			}
			j->timeout_ms = (int64_t)((ns + 999999) / 1000000);
		} else if (key_is(p, "spaceDelimitedClaims")) {
			get_nonempty_list(c, v, &j->space_delimited_claims, &j->num_space_delimited_claims);
		} else {
			unknown_field(c, p);
		}
	}
	if (yaml_tree_is_null(yaml_tree_map_get(n, "issuer")))
		required(c, n, "issuer");
	if (j->jwks_uri && j->jwks)
		fail(c, n, "only one of jwks or jwksUri can be set");
}

// parse_request_authentication reads a RequestAuthentication spec
// (ValidateRequestAuthentication and the CRD's rules). A missing spec
// is an empty one: no JWT rules.
static void parse_request_authentication(struct ctx *c, const struct ynode *spec,
					 struct request_authentication *ra)
{
	const struct ypair *p;
	size_t m;

	if (!spec)
		return;
	m = path_field(c, "spec");
	if (!expect_map(c, spec))
		goto out;
	FOR_FIELDS(c, spec, p) {
		if (parse_scope_field(c, p, &ra->scope))
			continue;
		if (key_is(p, "jwtRules")) {
			max_items(c, p->value, 4096);
			parse_objects(c, p->value, sizeof(*ra->jwt_rules), (void **)&ra->jwt_rules,
				      &ra->num_jwt_rules, parse_jwt_rule);
		} else {
			unknown_field(c, p);
		}
	}
	check_scope(c, spec);
out:
	path_pop(c, m);
}

// ---- Gateway ----

static const char *const gw_tls_modes[] = {
	"PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL", NULL,
};
static const char *const gw_tls_versions[] = {
	"TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3", NULL,
};

// has_field says whether map sets field (null reads as unset, as in CEL's has()).
static bool has_field(const struct ynode *map, const char *field)
{
	return map && map->type == YN_MAP && !yaml_tree_is_null(yaml_tree_map_get(map, field));
}

// parse_gw_port reads a server's Port. Unlike a ServiceEntry port, the
// protocol is required and the name only has to be set (validateServerPort);
// the number's range depends on bind and is checked by the server.
static void parse_gw_port(struct ctx *c, const struct ynode *n, struct se_port *port)
{
	const struct ypair *p;
	const struct proto_desc *pd;
	const char *proto;
	uint32_t v = 0;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "number")) {
			get_u32(c, p->value, &port->number);
		} else if (key_is(p, "protocol")) {
			if (!(proto = scalar_str(c, p->value)))
				continue;
			if ((pd = parse_protocol(proto)))
				port->protocol = pd->canon;
			else
				fail(c, p->value, "invalid protocol %s, supported protocols are HTTP, HTTP2, "
				     "GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP", qv(c, proto));
		} else if (key_is(p, "name")) {
			if (get_str(c, p->value, &port->name) == 0 && !*port->name)
				fail(c, p->value, "port name must be set");
		} else if (key_is(p, "targetPort")) {
			if (get_u32(c, p->value, &v) == 0 && v > 0)
				fail(c, p->key, "targetPort has no impact on Gateways");
			port->target_port = v;
		} else {
			unknown_field(c, p);
		}
	}
	if (!has_field(n, "number"))
		required(c, n, "number");
	if (!has_field(n, "protocol"))
		required(c, n, "protocol");
	if (!has_field(n, "name"))
		required(c, n, "name");
}

// check_gw_host_part is validateSidecarOrGatewayHostnamePart for a
// gateway: an FQDN or *.wildcard (or an IP), never a short name.
static void check_gw_host_part(struct ctx *c, const struct ynode *n, const char *h)
{
	const char *e;

	if (strcmp(h, "*") && !strchr(h, '.'))
		fail(c, n, "short names (non FQDN) are not allowed (got %s)", qv(c, h));
	if ((e = validate_wildcard_domain(c, h)) && !is_ip(h))
		fail(c, n, "%s", e);
	if (strchr(h, '*') && strlen(h) != 1 && strncmp(h, "*.", 2))
		fail(c, n, "partial wildcard %s not allowed", qv(c, h));
}

// check_gw_host is ValidateNamespaceSlashWildcardHostname for a gateway:
// "namespace/host" with the namespace "*", "." or a DNS-1123 label, or a
// bare host (the old form).
static void check_gw_host(struct ctx *c, const struct ynode *n, const char *h)
{
	const char *slash = strchr(h, '/');
	char ns[80];
	size_t nl;

	if (!slash) {
		check_gw_host_part(c, n, h);
		return;
	}
	nl = (size_t)(slash - h);
	if (nl == 0 || !slash[1])
		fail(c, n, "config namespace and dnsName in host entry cannot be empty");
	if (!(nl == 1 && (h[0] == '*' || h[0] == '.')) && !dns1123_label(h, nl)) {
		clean(ns, sizeof(ns), h, nl);
		fail(c, n, "invalid namespace value %s in gateway", qv(c, ns));
	}
	check_gw_host_part(c, n, slash + 1);
}

static void parse_gw_cert(struct ctx *c, const struct ynode *n, void *out)
{
	struct gw_tls_certificate *cert = out;
	const struct ypair *p;

	if (!expect_object(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "serverCertificate"))
			get_opt_str(c, p->value, &cert->server_certificate);
		else if (key_is(p, "privateKey"))
			get_opt_str(c, p->value, &cert->private_key);
		else if (key_is(p, "caCertificates"))
			get_opt_str(c, p->value, &cert->ca_certificates);
		else
			unknown_field(c, p);
	}
}

// list_bounds is the CRD's minItems: 1 and maxItems: max on a list.
static void list_bounds(struct ctx *c, const struct ynode *n, size_t max)
{
	if (n->type != YN_SEQ)
		return;
	if (!n->len)
		body_fail(c, n, "should have at least 1 items");
	max_items(c, n, max);
}

static struct gw_tls *parse_gw_tls(struct ctx *c, const struct ynode *n)
{
	struct gw_tls *t;
	const struct ypair *p;
	int v;

	if (!expect_map(c, n) || !(t = new_of(c, sizeof(*t))))
		return NULL;
	FOR_FIELDS(c, n, p) {
		const struct ynode *x = p->value;

		if (key_is(p, "httpsRedirect")) {
			if (get_bool(c, x, &v) == 0)
				t->https_redirect = v;
		} else if (key_is(p, "mode")) {
			if (get_enum(c, x, gw_tls_modes, &v) == 0)
				t->mode = (enum gw_tls_mode)v;
		} else if (key_is(p, "serverCertificate")) {
			get_opt_str(c, x, &t->server_certificate);
		} else if (key_is(p, "privateKey")) {
			get_opt_str(c, x, &t->private_key);
		} else if (key_is(p, "caCertificates")) {
			get_opt_str(c, x, &t->ca_certificates);
		} else if (key_is(p, "caCrl")) {
			get_opt_str(c, x, &t->ca_crl);
		} else if (key_is(p, "credentialName")) {
			get_opt_str(c, x, &t->credential_name);
		} else if (key_is(p, "caCertCredentialName")) {
			get_opt_str(c, x, &t->ca_cert_credential_name);
		} else if (key_is(p, "credentialNames")) {
			if (get_str_list(c, x, &t->credential_names, &t->num_credential_names) == 0)
				list_bounds(c, x, 2);
		} else if (key_is(p, "tlsCertificates")) {
			parse_objects(c, x, sizeof(*t->tls_certificates), (void **)&t->tls_certificates,
				      &t->num_tls_certificates, parse_gw_cert);
			list_bounds(c, x, 2);
		} else if (key_is(p, "subjectAltNames")) {
			get_str_list(c, x, &t->subject_alt_names, &t->num_subject_alt_names);
		} else if (key_is(p, "verifyCertificateSpki")) {
			get_str_list(c, x, &t->verify_certificate_spki, &t->num_verify_certificate_spki);
		} else if (key_is(p, "verifyCertificateHash")) {
			get_str_list(c, x, &t->verify_certificate_hash, &t->num_verify_certificate_hash);
		} else if (key_is(p, "minProtocolVersion")) {
			if (get_enum(c, x, gw_tls_versions, &v) == 0)
				t->min_protocol_version = (enum gw_tls_version)v;
		} else if (key_is(p, "maxProtocolVersion")) {
			if (get_enum(c, x, gw_tls_versions, &v) == 0)
				t->max_protocol_version = (enum gw_tls_version)v;
		} else if (key_is(p, "cipherSuites")) {
			get_str_list(c, x, &t->cipher_suites, &t->num_cipher_suites);
		} else {
			unknown_field(c, p);
		}
	}
	return t;
}

// check_gw_tls applies the CRD's rules on ServerTLSSettings and istiod's
// validateTLSOptions (its errors; what it only warns about passes). n is
// the tls mapping, at where errors about it as a whole are reported.
static void check_gw_tls(struct ctx *c, const struct ynode *n, const struct ynode *at,
			 const struct gw_tls *t)
{
	bool mutual = t->mode == GW_TLS_MUTUAL || t->mode == GW_TLS_OPTIONAL_MUTUAL;
	const char *prefix = mutual ? "MUTUAL TLS" : "SIMPLE TLS";
	int sources;

	if (has_field(n, "tlsCertificates") && has_field(n, "credentialNames"))
		fail_field(c, n, "tlsCertificates",
			   "only one of credentialNames or tlsCertificates can be set");
	if (has_field(n, "credentialName") && has_field(n, "credentialNames"))
		fail_field(c, n, "credentialNames",
			   "only one of credentialName or credentialNames can be set");
	if (t->mode == GW_TLS_ISTIO_MUTUAL) {
		// the mesh's own certificates are used
		if (t->server_certificate)
			fail_field(c, n, "serverCertificate",
				   "ISTIO_MUTUAL TLS cannot have associated server certificate");
		if (t->private_key)
			fail_field(c, n, "privateKey", "ISTIO_MUTUAL TLS cannot have associated private key");
		if (t->ca_certificates)
			fail_field(c, n, "caCertificates",
				   "ISTIO_MUTUAL TLS cannot have associated CA bundle");
		if (t->num_tls_certificates)
			fail_field(c, n, "tlsCertificates",
				   "ISTIO_MUTUAL TLS cannot have associated tlsCertificates");
		if (t->credential_name)
			fail_field(c, n, "credentialName",
				   "ISTIO_MUTUAL TLS cannot have associated credentialName");
		if (t->num_credential_names)
			fail_field(c, n, "credentialNames",
				   "ISTIO_MUTUAL TLS cannot have associated credentialNames");
		return;
	}
	sources = (t->server_certificate && t->private_key) + !!t->credential_name +
		  !!t->num_credential_names + !!t->num_tls_certificates;
	if (sources > 1)
		fail(c, at, "only one of credential_name, credential_names, server_certificate/private_key, "
		     "tls_certificates should be specified");
	if (t->mode == GW_TLS_SIMPLE || mutual) {
		// with a credential the certificates come from a secret
		if (t->credential_name || t->num_credential_names)
			return;
		if (mutual && !t->ca_certificates)
			fail(c, at, "%s requires a client CA bundle", prefix);
		if (!t->num_tls_certificates) {
			if (!t->server_certificate)
				fail(c, at, "%s requires a server certificate", prefix);
			if (!t->private_key)
				fail(c, at, "%s requires a private key", prefix);
		}
		for (int i = 0; i < t->num_tls_certificates; i++) {
			const struct ynode *cn = yaml_tree_map_get(n, "tlsCertificates")->items[i];
			size_t m = path_field(c, "tlsCertificates");

			path_idx(c, (size_t)i);
			if (!t->tls_certificates[i].server_certificate)
				fail(c, cn, "%s requires a server certificate", prefix);
			if (!t->tls_certificates[i].private_key)
				fail(c, cn, "%s requires a private key", prefix);
			path_pop(c, m);
		}
	}
	if (t->ca_crl && t->credential_name)
		fail_field(c, n, "caCrl", "CRL is not supported with credentialName. CRL has to be "
			   "specified in the credential");
	if (t->ca_crl && t->mode == GW_TLS_SIMPLE)
		fail_field(c, n, "caCrl", "CRL is not supported with SIMPLE TLS");
}

// check_gw_bind is validateServerBind: an IP, or unix://path with port 0.
static void check_gw_bind(struct ctx *c, const struct ynode *n, const struct gw_server *s)
{
	const struct ynode *bn = yaml_tree_map_get(n, "bind");
	const char *b = s->bind, *path;
	size_t m;

	if (!b)
		return;
	m = path_field(c, "bind");
	if (!strncmp(b, "unix://", 7)) {
		path = b + 7;
		if (!*path)
			fail(c, bn, "unix address must not be empty");
		else if (*path != '@' && (*path != '/' || path[strlen(path) - 1] == '/'))
			fail(c, bn, "%s is not an absolute path to a file", qv(c, path));
		if (s->port.number)
			fail(c, bn, "port number must be 0 for unix domain socket (got %u)", s->port.number);
	} else if (!is_ip(b)) {
		fail(c, bn, "%s is not a valid IP", qv(c, b));
	}
	path_pop(c, m);
}

static void parse_gw_server(struct ctx *c, const struct ynode *n, struct gw_server *s)
{
	const struct ynode *port = NULL, *hosts = NULL, *tls = NULL;
	const struct ypair *p;
	int port_errors;

	if (yaml_tree_is_null(n)) {
		fail(c, n, "server may not be nil");
		return;
	}
	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "port")) {
			port = p->value;
			port_errors = c->errors;
			parse_gw_port(c, port, &s->port);
			if (c->errors != port_errors)
				port = NULL;	// the checks below need a well-formed port
		} else if (key_is(p, "bind")) {
			get_opt_str(c, p->value, &s->bind);
		} else if (key_is(p, "hosts")) {
			hosts = p->value;
			if (get_str_list(c, hosts, &s->hosts, &s->num_hosts) < 0)
				continue;
			for (int i = 0; i < s->num_hosts; i++) {
				size_t m = path_idx(c, (size_t)i);

				check_gw_host(c, hosts->items[i], s->hosts[i]);
				path_pop(c, m);
			}
		} else if (key_is(p, "tls")) {
			tls = p->value;
			s->tls = parse_gw_tls(c, tls);
		} else if (key_is(p, "defaultEndpoint")) {
			get_opt_str(c, p->value, &s->default_endpoint);
		} else if (key_is(p, "name")) {
			get_opt_str(c, p->value, &s->name);
		} else {
			unknown_field(c, p);
		}
	}
	if (!has_field(n, "port"))
		required(c, n, "port");
	if (!has_field(n, "hosts"))
		required(c, n, "hosts");
	else if (hosts->type == YN_SEQ && !hosts->len)
		fail_field(c, n, "hosts", "server config must contain at least one host");
	// validateServerPort: the number may only be 0 on a unix socket
	if (port && (s->port.number || !s->bind || strncmp(s->bind, "unix://", 7))) {
		size_t m = path_field(c, "port");

		path_field(c, "number");
		port_errors = c->errors;
		port_ok(c, yaml_tree_map_get(port, "number"), s->port.number);
		if (c->errors != port_errors)
			port = NULL;
		path_pop(c, m);
	}
	check_gw_bind(c, n, s);
	if (s->tls) {
		size_t m = path_field(c, "tls");

		check_gw_tls(c, tls, key_of(n, tls), s->tls);
		path_pop(c, m);
	}
	if (port && s->port.protocol) {
		const struct proto_desc *pd = parse_protocol(s->port.protocol);
		const struct gw_tls *t = s->tls;
		bool terminates = t && ((t->mode != GW_TLS_PASSTHROUGH && t->mode != GW_TLS_AUTO_PASSTHROUGH) ||
					t->ca_certificates || t->private_key || t->server_certificate);

		if (pd->tls && !tls)
			fail_field(c, n, "port", "server must have TLS settings for HTTPS/TLS protocols");
		else if (!pd->tls && t && !pd->http)
			fail_field(c, n, "tls", "server cannot have TLS settings for non HTTPS/TLS ports");
		else if (!pd->tls && terminates)	// HTTP may only carry httpsRedirect
			fail_field(c, n, "tls", "server cannot have TLS settings for plain text HTTP ports");
	}
}

// parse_gateway reads a Gateway spec (the CRD and ValidateGateway).
static void parse_gateway(struct ctx *c, const struct ynode *spec, struct gateway *gw)
{
	const struct ynode *servers = NULL;
	const struct ypair *p;
	struct keyed *keys = NULL;
	bool *dup = NULL;
	size_t m, nk = 0;

	if (!spec) {
		fail(c, NULL, "spec.servers: gateway must have at least one server");
		return;
	}
	m = path_field(c, "spec");
	if (!expect_map(c, spec))
		goto out;
	FOR_FIELDS(c, spec, p) {
		if (key_is(p, "selector")) {
			get_str_map(c, p->value, &gw->selector, &gw->num_selector);
		} else if (key_is(p, "servers")) {
			servers = p->value;
			if (!expect_seq(c, servers))
				continue;
			gw->servers = arena_alloc_array(c->ar, servers->len ? servers->len : 1,
							sizeof(*gw->servers));
			if (!gw->servers) {
				oom(c);
				continue;
			}
			gw->num_servers = (int)servers->len;
			for (size_t i = 0; i < servers->len; i++) {
				size_t mi = path_idx(c, i);

				parse_gw_server(c, servers->items[i], &gw->servers[i]);
				path_pop(c, mi);
			}
		} else {
			unknown_field(c, p);
		}
	}
	if (!gw->num_servers) {
		if (!servers || servers->type == YN_SEQ) {
			size_t ms = path_field(c, "servers");

			fail(c, servers ? key_of(spec, servers) : spec,
			     "gateway must have at least one server");
			path_pop(c, ms);
		}
		goto out;
	}
	// Port names are unique across servers (ValidateGateway).
	keys = calloc((size_t)gw->num_servers, sizeof(*keys));
	dup = calloc((size_t)gw->num_servers, sizeof(*dup));
	if (!keys || !dup) {
		oom(c);
		goto out;
	}
	for (int i = 0; i < gw->num_servers; i++)
		if (gw->servers[i].port.name)
			keys[nk++] = (struct keyed){ .s = gw->servers[i].port.name, .idx = (size_t)i };
	mark_dups(keys, nk, dup);
	for (int i = 0; i < gw->num_servers; i++) {
		size_t ms;

		if (!dup[i])
			continue;
		ms = path_field(c, "servers");
		path_idx(c, (size_t)i);
		path_field(c, "port");
		path_field(c, "name");
		fail(c, yaml_tree_map_get(yaml_tree_map_get(servers->items[i], "port"), "name"),
		     "port names in servers must be unique: duplicate name %s",
		     qv(c, gw->servers[i].port.name));
		path_pop(c, ms);
	}
out:
	free(keys);
	free(dup);
	path_pop(c, m);
}

// check_gateway_name: istiod requires a Gateway's name to be a DNS-1123
// label (no dots), since VirtualServices name it as "namespace/name".
static void check_gateway_name(struct ctx *c, const struct ynode *md, const struct istio_meta *meta)
{
	size_t m;

	if (!meta->name || !k8s_subdomain(meta->name, strlen(meta->name)) || dns1123_label_z(meta->name))
		return;
	m = path_field(c, "metadata");
	path_field(c, "name");
	fail(c, yaml_tree_map_get(md, "name"), "invalid gateway name: %s", qv(c, meta->name));
	path_pop(c, m);
}

// ---- WorkloadGroup ----

// get_probe_port reads a health check's port: the CRD's 1-65535 (istiod's
// ValidatePort agrees).
static void get_probe_port(struct ctx *c, const struct ynode *n, uint32_t *out)
{
	if (get_u32(c, n, out) == 0 && (*out < 1 || *out > 65535))
		fail(c, n, "port must be between 1-65535 (got %u)", *out);
}

// probe_header_ok is ValidateProbeHeaderName's pattern, [-A-Za-z0-9]+
// (stricter than the CRD's, which also allows '_').
static bool probe_header_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!alnum(*s) && *s != '-')
			return false;
	return true;
}

static void parse_wg_header(struct ctx *c, const struct ynode *n, void *out)
{
	struct kv *h = out;
	const struct ypair *p;

	if (yaml_tree_is_null(n)) {
		fail(c, n, "invalid nil header");
		return;
	}
	if (!expect_object(c, n))
		return;
	h->key = "";
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "name")) {
			if (get_str(c, p->value, &h->key) < 0)
				continue;
			if (!header_name_ok(h->key))
				body_fail(c, p->value, "should match '" HEADER_RE "'");
			else if (!probe_header_ok(h->key))
				fail(c, p->value, "header name %s is not a valid header name", qv(c, h->key));
		} else if (key_is(p, "value")) {
			get_str(c, p->value, &h->value);
		} else {
			unknown_field(c, p);
		}
	}
	if (!*h->key && !has_field(n, "name"))
		fail(c, n, "header name cannot be empty");
	if (!h->value)
		h->value = "";
}

static void parse_wg_http_get(struct ctx *c, const struct ynode *n, struct wg_probe *pr)
{
	const struct ypair *p;

	FOR_FIELDS(c, n, p) {
		const struct ynode *v = p->value;

		if (key_is(p, "path")) {
			get_opt_str(c, v, &pr->http_get.path);
		} else if (key_is(p, "port")) {
			get_probe_port(c, v, &pr->http_get.port);
		} else if (key_is(p, "host")) {
			get_opt_str(c, v, &pr->http_get.host);
		} else if (key_is(p, "scheme")) {
			if (get_opt_str(c, v, &pr->http_get.scheme) == 0 && pr->http_get.scheme &&
			    strcmp(pr->http_get.scheme, "HTTP") && strcmp(pr->http_get.scheme, "HTTPS"))
				fail(c, v, "scheme must be one of [HTTP, HTTPS] (got %s)",
				     qv(c, pr->http_get.scheme));
		} else if (key_is(p, "httpHeaders")) {
			parse_objects(c, v, sizeof(*pr->http_get.headers), (void **)&pr->http_get.headers,
				      &pr->http_get.num_headers, parse_wg_header);
		} else {
			unknown_field(c, p);
		}
	}
	if (!has_field(n, "port"))
		required(c, n, "port");
}

static void parse_wg_tcp_socket(struct ctx *c, const struct ynode *n, struct wg_probe *pr)
{
	const struct ypair *p;

	FOR_FIELDS(c, n, p) {
		if (key_is(p, "host"))
			get_opt_str(c, p->value, &pr->tcp_socket.host);
		else if (key_is(p, "port"))
			get_probe_port(c, p->value, &pr->tcp_socket.port);
		else
			unknown_field(c, p);
	}
	if (!has_field(n, "port"))
		required(c, n, "port");
}

static void parse_wg_exec(struct ctx *c, const struct ynode *n, struct wg_probe *pr)
{
	const struct ypair *p;

	FOR_FIELDS(c, n, p) {
		if (!key_is(p, "command")) {
			unknown_field(c, p);
			continue;
		}
		if (get_nonempty_list(c, p->value, &pr->exec.command, &pr->exec.num_command) == 0 &&
		    !pr->exec.num_command)
			fail(c, p->value, "exec.command is required");
	}
	if (!has_field(n, "command"))
		required(c, n, "command");
}

static void parse_wg_grpc(struct ctx *c, const struct ynode *n, struct wg_probe *pr)
{
	const struct ypair *p;

	FOR_FIELDS(c, n, p) {
		if (key_is(p, "port"))
			get_probe_port(c, p->value, &pr->grpc.port);
		else if (key_is(p, "service"))
			get_opt_str(c, p->value, &pr->grpc.service);
		else
			unknown_field(c, p);
	}
}

// parse_wg_probe reads a ReadinessProbe (the CRD's oneOf and istiod's
// validateReadinessProbe, which knows httpGet, tcpSocket and exec only);
// at is the probe's key, where errors about the probe as a whole go.
static struct wg_probe *parse_wg_probe(struct ctx *c, const struct ynode *n, const struct ynode *at)
{
	static const char *const methods[] = { "httpGet", "tcpSocket", "exec", "grpc" };
	const struct ypair *p, *method = NULL;
	struct wg_probe *pr;

	if (!expect_map(c, n) || !(pr = new_of(c, sizeof(*pr))))
		return NULL;
	FOR_FIELDS(c, n, p) {
		const struct ynode *v = p->value;
		int k = -1;

		if (key_is(p, "initialDelaySeconds")) {
			get_nonneg_i32(c, v, "initialDelaySeconds", &pr->initial_delay_seconds);
		} else if (key_is(p, "timeoutSeconds")) {
			get_nonneg_i32(c, v, "timeoutSeconds", &pr->timeout_seconds);
		} else if (key_is(p, "periodSeconds")) {
			get_nonneg_i32(c, v, "periodSeconds", &pr->period_seconds);
		} else if (key_is(p, "successThreshold")) {
			get_nonneg_i32(c, v, "successThreshold", &pr->success_threshold);
		} else if (key_is(p, "failureThreshold")) {
			get_nonneg_i32(c, v, "failureThreshold", &pr->failure_threshold);
		} else {
			for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
				if (key_is(p, methods[i]))
					k = (int)i;
			if (k < 0) {
				unknown_field(c, p);
				continue;
			}
			if (method) {
				fail(c, p->key, "only one of httpGet, tcpSocket, exec or grpc may be set");
				continue;
			}
			method = p;
			pr->kind = (enum wg_probe_kind)k;
			if (!expect_object(c, v))
				continue;
			if (pr->kind == WG_PROBE_HTTP_GET)
				parse_wg_http_get(c, v, pr);
			else if (pr->kind == WG_PROBE_TCP_SOCKET)
				parse_wg_tcp_socket(c, v, pr);
			else if (pr->kind == WG_PROBE_EXEC)
				parse_wg_exec(c, v, pr);
			else
				parse_wg_grpc(c, v, pr);
		}
	}
	if (!method)
		fail(c, at, "unknown health check method: one of httpGet, tcpSocket or exec must be set");
	else if (pr->kind == WG_PROBE_GRPC)
		fail_field(c, n, "grpc", "unknown health check method grpc: istiod accepts httpGet, "
			   "tcpSocket or exec");
	return pr;
}

static void parse_wg_metadata(struct ctx *c, const struct ynode *n, struct workload_group *wg)
{
	const struct ypair *p;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "labels")) {
			if (get_str_map(c, p->value, &wg->labels, &wg->num_labels) < 0)
				continue;
			max_items(c, p->value, 256);
			validate_labels(c, p->value, wg->labels, wg->num_labels);
		} else if (key_is(p, "annotations")) {
			if (get_str_map(c, p->value, &wg->annotations, &wg->num_annotations) == 0)
				max_items(c, p->value, 256);
		} else {
			unknown_field(c, p);
		}
	}
}

// parse_workload_group reads a WorkloadGroup spec (the CRD and
// ValidateWorkloadGroup). The template is a WorkloadEntry whose address may
// be left out; istiod does not apply the WorkloadEntry webhook rules to it.
static void parse_workload_group(struct ctx *c, const struct ynode *spec, struct workload_group *wg)
{
	const struct ypair *p;
	size_t m;

	if (!spec) {
		fail(c, NULL, "spec: Required value");
		return;
	}
	m = path_field(c, "spec");
	if (!expect_map(c, spec))
		goto out;
	FOR_FIELDS(c, spec, p) {
		if (key_is(p, "metadata")) {
			parse_wg_metadata(c, p->value, wg);
		} else if (key_is(p, "template")) {
			const struct ynode *ports = NULL, *labels = NULL;

			if (expect_map(c, p->value))
				parse_endpoint(c, p->value, &wg->template_, &ports, &labels, false);
			if (labels)
				max_items(c, labels, 256);
			if (ports)
				max_items(c, ports, 128);
		} else if (key_is(p, "probe")) {
			wg->probe = parse_wg_probe(c, p->value, p->key);
		} else {
			unknown_field(c, p);
		}
	}
	if (!has_field(spec, "template"))
		required(c, spec, "template");
out:
	path_pop(c, m);
}

// ---- CEL syntax (Telemetry access log filters) ----
//
// istiod parses a filter with cel-go's default environment and refuses what
// does not parse; nothing is type-checked. This is a recognizer for CEL's
// grammar (without the optional syntax the default environment lacks) and
// cel-go's limits. What cel-go checks beyond the grammar while parsing
// (integer literal ranges, the arguments of macros such as has()) passes.

enum cel_tok { CT_EOF = 0, CT_IDENT, CT_ESC_IDENT, CT_LIT, CT_OP };

struct cel_token {
	enum cel_tok kind;
	char op[3];		// CT_OP: "||", "(", "in", ...
	bool reserved;		// CT_IDENT: a reserved word
	size_t pos;		// byte offset, for messages
};

struct cel_parser {
	const struct cel_token *t;
	size_t i, n;
	int depth;
	const char *err;	// static text
	size_t err_pos;
};

enum { CEL_MAX_DEPTH = 250, CEL_MAX_LEN = 100000 };	// cel-go's defaults

static bool cel_ident_char(char ch)
{
	return alnum(ch) || ch == '_';
}

// cel_string returns the end of the string literal whose quote is at s[i],
// or 0 with *err set.
static size_t cel_string(const char *s, size_t i, bool raw, const char **err)
{
	char q = s[i];
	bool triple = s[i + 1] == q && s[i + 2] == q;
	size_t j = i + (triple ? 3 : 1);

	for (;;) {
		char ch = s[j];

		if (!ch) {
			*err = "unterminated string literal";
			return 0;
		}
		if (triple ? (ch == q && s[j + 1] == q && s[j + 2] == q) : ch == q)
			return j + (triple ? 3 : 1);
		if (!triple && (ch == '\n' || ch == '\r')) {
			*err = "newline in a quoted string literal";
			return 0;
		}
		if (ch != '\\' || raw) {
			j++;
			continue;
		}
		ch = s[j + 1];
		if (ch && strchr("abfnrtv\"'\\?`", ch)) {
			j += 2;
		} else if (ch == 'x' || ch == 'X' || ch == 'u' || ch == 'U') {
			size_t digits = ch == 'u' ? 4 : ch == 'U' ? 8 : 2;

			for (size_t k = 0; k < digits; k++)
				if (!isxdigit((unsigned char)s[j + 2 + k]))
					goto bad;
			j += 2 + digits;
		} else if (ch >= '0' && ch <= '3' && s[j + 2] >= '0' && s[j + 2] <= '7' &&
			   s[j + 3] >= '0' && s[j + 3] <= '7') {
			j += 4;
		} else {
			goto bad;
		}
	}
bad:
	*err = "invalid escape sequence in a string literal";
	return 0;
}

// cel_lex splits s into tokens (an array of strlen(s) + 1 at most, ending
// in CT_EOF). It returns the count, or 0 with *err and *pos set.
static size_t cel_lex(const char *s, struct cel_token *t, const char **err, size_t *pos)
{
	static const char *const ops2[] = { "||", "&&", "==", "!=", "<=", ">=", NULL };
	static const char *const reserved[] = {
		"as", "break", "const", "continue", "else", "for", "function", "if", "import", "let",
		"loop", "package", "namespace", "return", "var", "void", "while", NULL,
	};
	size_t i = 0, n = 0;

	for (;;) {
		struct cel_token *k = &t[n];
		char ch = s[i];
		size_t j;

		memset(k, 0, sizeof(*k));
		k->pos = i;
		if (!ch) {
			k->kind = CT_EOF;
			return n + 1;
		}
		if (strchr(" \t\r\n\f", ch)) {
			i++;
			continue;
		}
		if (ch == '/' && s[i + 1] == '/') {
			while (s[i] && s[i] != '\n')
				i++;
			continue;
		}
		// string and bytes literals: r"..", b'..', rb"""..""" and so on
		j = i;
		while (j < i + 2 && (s[j] == 'r' || s[j] == 'R' || s[j] == 'b' || s[j] == 'B'))
			j++;
		if ((s[j] == '"' || s[j] == '\'') && (j < i + 2 ||
		    tolower((unsigned char)s[i]) != tolower((unsigned char)s[i + 1]))) {
			bool raw = (j > i && tolower((unsigned char)s[i]) == 'r') ||
				   (j > i + 1 && tolower((unsigned char)s[i + 1]) == 'r');

			if (!(i = cel_string(s, j, raw, err)))
				goto fail;
			k->kind = CT_LIT;
			n++;
			continue;
		}
		if (isdigit((unsigned char)ch) || (ch == '.' && isdigit((unsigned char)s[i + 1]))) {
			bool is_float = false;

			j = i;
			if (ch == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
				j += 2;
				if (!isxdigit((unsigned char)s[j])) {
					*err = "invalid hex literal";
					goto fail;
				}
				while (isxdigit((unsigned char)s[j]))
					j++;
			} else {
				while (isdigit((unsigned char)s[j]))
					j++;
				if (s[j] == '.' && isdigit((unsigned char)s[j + 1])) {
					is_float = true;
					for (j++; isdigit((unsigned char)s[j]); j++)
						;
				}
				if (s[j] == 'e' || s[j] == 'E') {
					size_t e = j + 1;

					if (s[e] == '+' || s[e] == '-')
						e++;
					if (isdigit((unsigned char)s[e])) {
						is_float = true;
						for (j = e; isdigit((unsigned char)s[j]); j++)
							;
					}
				}
			}
			if (!is_float && (s[j] == 'u' || s[j] == 'U'))
				j++;
			i = j;
			k->kind = CT_LIT;
			n++;
			continue;
		}
		if (isalpha((unsigned char)ch) || ch == '_') {
			for (j = i; cel_ident_char(s[j]); j++)
				;
			k->kind = CT_IDENT;
			if ((j - i == 4 && (!strncmp(s + i, "true", 4) || !strncmp(s + i, "null", 4))) ||
			    (j - i == 5 && !strncmp(s + i, "false", 5))) {
				k->kind = CT_LIT;
			} else if (j - i == 2 && !strncmp(s + i, "in", 2)) {
				k->kind = CT_OP;
				strcpy(k->op, "in");
			}
			for (int r = 0; reserved[r]; r++)
				if (strlen(reserved[r]) == j - i && !strncmp(s + i, reserved[r], j - i))
					k->reserved = true;
			i = j;
			n++;
			continue;
		}
		if (ch == '`') {
			for (j = i + 1; s[j] && (cel_ident_char(s[j]) || strchr(".-/ ", s[j])); j++)
				;
			if (s[j] != '`' || j == i + 1) {
				*err = "invalid quoted field name";
				goto fail;
			}
			k->kind = CT_ESC_IDENT;
			i = j + 1;
			n++;
			continue;
		}
		k->kind = CT_OP;
		for (int o = 0; ops2[o]; o++) {
			if (!strncmp(s + i, ops2[o], 2)) {
				memcpy(k->op, ops2[o], 2);
				break;
			}
		}
		if (!k->op[0]) {
			if (!strchr("<>!+-*/%?:.,[](){}", ch)) {
				*err = "token recognition error";
				goto fail;
			}
			k->op[0] = ch;
		}
		i += strlen(k->op);
		n++;
	}
fail:
	*pos = i;
	return 0;
}

static const struct cel_token *cel_peek(const struct cel_parser *p, size_t k)
{
	size_t j = p->i + k;

	return &p->t[j < p->n ? j : p->n - 1];
}

static bool cel_is(const struct cel_parser *p, size_t k, const char *op)
{
	const struct cel_token *t = cel_peek(p, k);

	return t->kind == CT_OP && !strcmp(t->op, op);
}

static bool cel_fail(struct cel_parser *p, const char *msg)
{
	if (!p->err) {
		p->err = msg;
		p->err_pos = cel_peek(p, 0)->pos;
	}
	return false;
}

static bool cel_accept(struct cel_parser *p, const char *op)
{
	if (!cel_is(p, 0, op))
		return false;
	p->i++;
	return true;
}

static bool cel_expect(struct cel_parser *p, const char *op)
{
	static const char *const msgs[] = {
		")", "missing ')'", "]", "missing ']'", "}", "missing '}'", ":", "missing ':'",
		",", "missing ','", NULL,
	};

	if (cel_accept(p, op))
		return true;
	for (int i = 0; msgs[i]; i += 2)
		if (!strcmp(msgs[i], op))
			return cel_fail(p, msgs[i + 1]);
	return cel_fail(p, "mismatched input");
}

static bool cel_expr(struct cel_parser *p);

// cel_args reads "expr (, expr)*" up to close, which it consumes. Lists and
// maps may end in a comma; call arguments may not.
static bool cel_args(struct cel_parser *p, const char *close, bool trailing_comma, bool map)
{
	if (cel_accept(p, close))
		return true;
	for (;;) {
		if (cel_is(p, 0, "?"))
			return cel_fail(p, "unsupported syntax '?'");
		if (!cel_expr(p))
			return false;
		if (map && (!cel_expect(p, ":") || !cel_expr(p)))
			return false;
		if (cel_accept(p, close))
			return true;
		if (!cel_expect(p, ","))
			return false;
		if (trailing_comma && cel_accept(p, close))
			return true;
	}
}

// cel_fields reads a message's "field: expr, ..." up to '}'.
static bool cel_fields(struct cel_parser *p)
{
	if (cel_accept(p, "}"))
		return true;
	for (;;) {
		const struct cel_token *t = cel_peek(p, 0);

		if (t->kind != CT_IDENT && t->kind != CT_ESC_IDENT)
			return cel_fail(p, "expected a field name");
		p->i++;
		if (!cel_expect(p, ":") || !cel_expr(p))
			return false;
		if (cel_accept(p, "}"))
			return true;
		if (!cel_expect(p, ","))
			return false;
		if (cel_accept(p, "}"))
			return true;
	}
}

static bool cel_primary(struct cel_parser *p)
{
	const struct cel_token *t = cel_peek(p, 0);
	size_t k;

	if (t->kind == CT_LIT) {
		p->i++;
		return true;
	}
	if (cel_accept(p, "("))
		return cel_expr(p) && cel_expect(p, ")");
	if (cel_accept(p, "["))
		return cel_args(p, "]", true, false);
	if (cel_accept(p, "{"))
		return cel_args(p, "}", true, true);
	cel_accept(p, ".");
	t = cel_peek(p, 0);
	if (t->kind == CT_EOF)
		return cel_fail(p, "mismatched input '<EOF>'");
	if (t->kind != CT_IDENT)
		return cel_fail(p, "mismatched input");
	if (t->reserved)
		return cel_fail(p, "reserved identifier");
	p->i++;
	if (cel_accept(p, "("))
		return cel_args(p, ")", false, false);
	// a.b.C{field: value} creates a message
	for (k = 0; cel_is(p, k, ".") && cel_peek(p, k + 1)->kind == CT_IDENT; k += 2)
		;
	if (cel_is(p, k, "{")) {
		p->i += k + 1;
		return cel_fields(p);
	}
	return true;
}

static bool cel_member(struct cel_parser *p)
{
	if (!cel_primary(p))
		return false;
	for (;;) {
		if (cel_accept(p, ".")) {
			const struct cel_token *t = cel_peek(p, 0);

			if (cel_is(p, 0, "?"))
				return cel_fail(p, "unsupported syntax '.?'");
			if (t->kind != CT_IDENT && t->kind != CT_ESC_IDENT)
				return cel_fail(p, "expected a field name after '.'");
			p->i++;
			if (t->kind == CT_IDENT && cel_accept(p, "(") && !cel_args(p, ")", false, false))
				return false;
		} else if (cel_accept(p, "[")) {
			if (cel_is(p, 0, "?"))
				return cel_fail(p, "unsupported syntax '[?'");
			if (!cel_expr(p) || !cel_expect(p, "]"))
				return false;
		} else {
			return true;
		}
	}
}

static bool cel_unary(struct cel_parser *p)
{
	if (cel_is(p, 0, "!") || cel_is(p, 0, "-")) {
		const char *op = cel_peek(p, 0)->op;

		while (cel_accept(p, op))
			;
	}
	return cel_member(p);
}

// cel_binary reads operands joined by the operators of one precedence
// level (level 0: * / %, 1: + -, 2: relations, 3: &&, 4: ||).
static bool cel_binary(struct cel_parser *p, int level)
{
	static const char *const ops[][8] = {
		{ "*", "/", "%", NULL },
		{ "+", "-", NULL },
		{ "<", "<=", ">", ">=", "==", "!=", "in", NULL },
		{ "&&", NULL },
		{ "||", NULL },
	};

	for (;;) {
		bool more = false;

		if (!(level ? cel_binary(p, level - 1) : cel_unary(p)))
			return false;
		for (int i = 0; ops[level][i]; i++)
			more |= cel_accept(p, ops[level][i]);
		if (!more)
			return true;
	}
}

static bool cel_expr(struct cel_parser *p)
{
	bool ok;

	if (++p->depth > CEL_MAX_DEPTH)
		return cel_fail(p, "expression recursion limit exceeded");
	ok = cel_binary(p, 4);
	if (ok && cel_accept(p, "?"))
		ok = cel_binary(p, 4) && cel_expect(p, ":") && cel_expr(p);
	p->depth--;
	return ok;
}

// cel_error returns why expr is not a CEL expression, or NULL.
static const char *cel_error(struct ctx *c, const char *expr)
{
	size_t len = strlen(expr), pos = 0, line = 1, col = 1;
	struct cel_parser p = { 0 };
	struct cel_token *t;
	const char *err = NULL;

	if (len > CEL_MAX_LEN) {
		snprintf(c->msg, sizeof(c->msg), "must be a valid CEL expression, expression code point "
			 "size exceeds limit: size: %zu, limit %d", len, CEL_MAX_LEN);
		return c->msg;
	}
	if (!(t = calloc(len + 2, sizeof(*t)))) {
		oom(c);
		return NULL;
	}
	p.t = t;
	if (!(p.n = cel_lex(expr, t, &err, &pos))) {
		p.err = err;
		p.err_pos = pos;
	} else if (cel_expr(&p) && cel_peek(&p, 0)->kind != CT_EOF) {
		cel_fail(&p, "extraneous input");
	}
	free(t);
	if (!p.err)
		return NULL;
	for (size_t i = 0; i < p.err_pos && expr[i]; i++, col++)
		if (expr[i] == '\n')
			line++, col = 0;
	snprintf(c->msg, sizeof(c->msg), "must be a valid CEL expression, <input>:%zu:%zu: Syntax error: %s",
		 line, col, p.err);
	return c->msg;
}

// ---- Telemetry ----

static const char *const tm_modes[] = { "CLIENT_AND_SERVER", "CLIENT", "SERVER", NULL };
static const char *const tm_metrics[] = {
	"ALL_METRICS", "REQUEST_COUNT", "REQUEST_DURATION", "REQUEST_SIZE", "RESPONSE_SIZE",
	"TCP_OPENED_CONNECTIONS", "TCP_CLOSED_CONNECTIONS", "TCP_SENT_BYTES", "TCP_RECEIVED_BYTES",
	"GRPC_REQUEST_MESSAGES", "GRPC_RESPONSE_MESSAGES", NULL,
};
static const char *const tm_tag_ops[] = { "UPSERT", "REMOVE", NULL };

// get_nullable_bool reads a google.protobuf.BoolValue into -1/0/1.
static void get_nullable_bool(struct ctx *c, const struct ynode *n, int *out)
{
	int v;

	if (get_bool(c, n, &v) == 0)
		*out = v;
}

// parse_tm_match reads a {mode} match (tracing, access logging).
static void parse_tm_match(struct ctx *c, const struct ynode *n, enum tm_mode *mode)
{
	int v = parse_mode_map(c, n, tm_modes);

	if (v >= 0)
		*mode = (enum tm_mode)v;
}

static void parse_tm_provider(struct ctx *c, const struct ynode *n, void *out)
{
	const char **name = out;
	const struct ypair *p;

	if (!expect_object(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "name"))
			get_nonempty_str(c, p->value, name);
		else
			unknown_field(c, p);
	}
	if (!has_field(n, "name"))
		required(c, n, "name");
}

// parse_tm_providers reads providers[]{name} into a list of names.
static void parse_tm_providers(struct ctx *c, const struct ynode *n, const char ***out, int *num)
{
	parse_objects(c, n, sizeof(**out), (void **)out, num, parse_tm_provider);
}

// parse_tm_tag_source reads the object of one custom tag type: {value} for
// literal and formatter, {name, defaultValue} for environment and header.
static void parse_tm_tag_source(struct ctx *c, const struct ynode *n, struct tm_custom_tag *tag)
{
	bool named = tag->kind == TM_TAG_ENVIRONMENT || tag->kind == TM_TAG_HEADER;
	const char *req = named ? "name" : "value";
	const struct ypair *p;

	if (!expect_object(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, req))
			get_nonempty_str(c, p->value, named ? &tag->source : &tag->value);
		else if (named && key_is(p, "defaultValue"))
			get_opt_str(c, p->value, &tag->default_value);
		else
			unknown_field(c, p);
	}
	if (!has_field(n, req))
		required(c, n, req);
}

static void parse_tm_custom_tags(struct ctx *c, const struct ynode *n, struct tm_tracing *tr)
{
	static const char *const kinds[] = { NULL, "literal", "environment", "header", "formatter" };

	if (!expect_map(c, n))
		return;
	tr->custom_tags = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*tr->custom_tags));
	if (!tr->custom_tags) {
		oom(c);
		return;
	}
	tr->num_custom_tags = (int)n->len;
	for (size_t i = 0; i < n->len; i++) {
		const struct ypair *tp = &n->pairs[i];
		struct tm_custom_tag *tag = &tr->custom_tags[i];
		size_t m = path_mapkey(c, tp->key);
		const struct ypair *q;

		if (map_key_str(c, tp->key) < 0 || get_str(c, tp->key, &tag->name) < 0)
			goto next;
		if (!*tag->name)
			fail(c, tp->key, "tag name may not be empty");
		if (yaml_tree_is_null(tp->value)) {
			fail(c, tp->value, "tag %s may not have a nil value", qv(c, tag->name));
			goto next;
		}
		if (!expect_map(c, tp->value))
			goto next;
		FOR_FIELDS(c, tp->value, q) {
			int k = 0;

			for (int j = 1; j < (int)ARRAY_SIZE(kinds); j++)
				if (key_is(q, kinds[j]))
					k = j;
			if (!k) {
				unknown_field(c, q);
				continue;
			}
			if (tag->kind) {
				fail(c, q->key,
				     "only one of literal, environment, header or formatter may be set");
				continue;
			}
			tag->kind = (enum tm_tag_kind)k;
			parse_tm_tag_source(c, q->value, tag);
		}
next:
		path_pop(c, m);
	}
}

static void parse_tm_tracing(struct ctx *c, const struct ynode *n, void *out)
{
	struct tm_tracing *tr = out;
	const struct ypair *p;

	tr->random_sampling_percentage = -1;
	tr->disable_span_reporting = -1;
	tr->use_request_id_for_trace_sampling = -1;
	tr->enable_istio_tags = -1;
	if (!expect_object(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		const struct ynode *v = p->value;

		if (key_is(p, "match")) {
			parse_tm_match(c, v, &tr->match_mode);
		} else if (key_is(p, "providers")) {
			parse_tm_providers(c, v, &tr->providers, &tr->num_providers);
		} else if (key_is(p, "randomSamplingPercentage")) {
			if (get_double(c, v, &tr->random_sampling_percentage) == 0)
				check_min_max(c, v, tr->random_sampling_percentage, 0, 100);
		} else if (key_is(p, "disableSpanReporting")) {
			get_nullable_bool(c, v, &tr->disable_span_reporting);
		} else if (key_is(p, "customTags")) {
			parse_tm_custom_tags(c, v, tr);
		} else if (key_is(p, "useRequestIdForTraceSampling")) {
			get_nullable_bool(c, v, &tr->use_request_id_for_trace_sampling);
		} else if (key_is(p, "enableIstioTags")) {
			get_nullable_bool(c, v, &tr->enable_istio_tags);
		} else {
			unknown_field(c, p);
		}
	}
}

static void parse_tm_metric_match(struct ctx *c, const struct ynode *n, struct tm_metrics_override *o)
{
	const struct ypair *p, *first = NULL;
	int v;

	if (!expect_map(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "metric") || key_is(p, "customMetric")) {
			if (first) {
				fail(c, p->key, "only one of metric or customMetric may be set");
				continue;
			}
			first = p;
			if (key_is(p, "customMetric"))
				get_nonempty_str(c, p->value, &o->custom_metric);
			else if (get_enum(c, p->value, tm_metrics, &v) == 0)
				o->metric = (enum tm_metric)v;
		} else if (key_is(p, "mode")) {
			if (get_enum(c, p->value, tm_modes, &v) == 0)
				o->match_mode = (enum tm_mode)v;
		} else {
			unknown_field(c, p);
		}
	}
}

// parse_tm_tag_overrides reads a tagOverrides map: the CRD's rules on
// operation and value, and istiod's (an unset operation is UPSERT, which
// needs a value).
static void parse_tm_tag_overrides(struct ctx *c, const struct ynode *n, struct tm_metrics_override *o)
{
	if (!expect_map(c, n))
		return;
	o->tag_overrides = arena_alloc_array(c->ar, n->len ? n->len : 1, sizeof(*o->tag_overrides));
	if (!o->tag_overrides) {
		oom(c);
		return;
	}
	o->num_tag_overrides = (int)n->len;
	for (size_t i = 0; i < n->len; i++) {
		const struct ypair *tp = &n->pairs[i], *q;
		struct tm_tag_override *to = &o->tag_overrides[i];
		size_t m = path_mapkey(c, tp->key);
		int v, before = c->errors;

		if (map_key_str(c, tp->key) < 0 || get_str(c, tp->key, &to->name) < 0)
			goto next;
		if (yaml_tree_is_null(tp->value)) {
			fail(c, tp->value, "tagOverrides may not be null");
			goto next;
		}
		if (!expect_object(c, tp->value))
			goto next;
		FOR_FIELDS(c, tp->value, q) {
			if (key_is(q, "operation")) {
				if (get_enum(c, q->value, tm_tag_ops, &v) == 0)
					to->operation = (enum tm_tag_op)v;
			} else if (key_is(q, "value")) {
				get_str(c, q->value, &to->value);
			} else {
				unknown_field(c, q);
			}
		}
		if (c->errors != before)
			goto next;
		if (to->operation == TM_TAG_UPSERT && (!to->value || !*to->value))
			fail(c, tp->key, "value must be set when operation is UPSERT");
		else if (to->operation == TM_TAG_REMOVE && has_field(tp->value, "value"))
			fail_field(c, tp->value, "value", "value must not be set when operation is REMOVE");
		if (to->operation == TM_TAG_REMOVE)
			to->value = NULL;
next:
		path_pop(c, m);
	}
}

static void parse_tm_override(struct ctx *c, const struct ynode *n, void *out)
{
	struct tm_metrics_override *o = out;
	const struct ypair *p;

	o->disabled = -1;
	if (yaml_tree_is_null(n)) {
		fail(c, n, "tagOverrides may not be null");
		return;
	}
	if (!expect_object(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		if (key_is(p, "match"))
			parse_tm_metric_match(c, p->value, o);
		else if (key_is(p, "disabled"))
			get_nullable_bool(c, p->value, &o->disabled);
		else if (key_is(p, "tagOverrides"))
			parse_tm_tag_overrides(c, p->value, o);
		else
			unknown_field(c, p);
	}
}

static void parse_tm_metrics(struct ctx *c, const struct ynode *n, void *out)
{
	struct tm_metrics *mt = out;
	const struct ypair *p;

	mt->reporting_interval_ms = -1;
	if (!expect_object(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		const struct ynode *v = p->value;

		if (key_is(p, "providers")) {
			parse_tm_providers(c, v, &mt->providers, &mt->num_providers);
		} else if (key_is(p, "overrides")) {
			parse_objects(c, v, sizeof(*mt->overrides), (void **)&mt->overrides,
				      &mt->num_overrides, parse_tm_override);
		} else if (key_is(p, "reportingInterval")) {
			// the CRD's rule: duration(self) >= duration('1ms')
			const char *s = NULL;
			__int128 ns;

			if (v->type == YN_SCALAR && yaml_tree_scalar_kind(v) == YK_STR)
				s = v->str;
			if (!s || parse_duration_ns(s, &ns) < 0 || ns < 1000000) {
				fail(c, v, "%s: must be a valid duration greater than 1ms",
				     qv(c, v->type == YN_SCALAR ? v->str : ""));
				continue;
			}
			mt->reporting_interval_ms = (int64_t)((ns + 999999) / 1000000);
		} else {
			unknown_field(c, p);
		}
	}
}

static void parse_tm_access_logging(struct ctx *c, const struct ynode *n, void *out)
{
	struct tm_access_logging *al = out;
	const struct ypair *p, *q;
	const char *e;

	al->disabled = -1;
	if (!expect_object(c, n))
		return;
	FOR_FIELDS(c, n, p) {
		const struct ynode *v = p->value;

		if (key_is(p, "match")) {
			parse_tm_match(c, v, &al->match_mode);
		} else if (key_is(p, "providers")) {
			parse_tm_providers(c, v, &al->providers, &al->num_providers);
		} else if (key_is(p, "disabled")) {
			get_nullable_bool(c, v, &al->disabled);
		} else if (key_is(p, "filter")) {
			const char *expr = "";
			int before = c->errors;

			if (!expect_map(c, v))
				continue;
			FOR_FIELDS(c, v, q) {
				if (key_is(q, "expression"))
					get_str(c, q->value, &expr);
				else
					unknown_field(c, q);
			}
			// istiod parses a set filter, even one without an expression
			if (c->errors == before && (e = cel_error(c, expr))) {
				size_t m = has_field(v, "expression") ? path_field(c, "expression") : c->plen;

				fail(c, has_field(v, "expression") ? yaml_tree_map_get(v, "expression") : v,
				     "%s", e);
				path_pop(c, m);
			}
			al->filter = expr;
		} else {
			unknown_field(c, p);
		}
	}
}

// check_target_kinds is validatePolicyTargetReference's list: a Telemetry
// attaches to a Service, a ServiceEntry or a Gateway API Gateway or
// GatewayClass.
static void check_target_kinds(struct ctx *c, const struct ynode *spec, const struct policy_scope *s)
{
	static const char *const allowed[][2] = {
		{ "core", "Service" },
		{ "networking.istio.io", "ServiceEntry" },
		{ "gateway.networking.k8s.io", "Gateway" },
		{ "gateway.networking.k8s.io", "GatewayClass" },
	};
	const struct policy_target_ref *refs = s->target_ref ? s->target_ref : s->target_refs;
	int num = s->target_ref ? 1 : s->num_target_refs;
	const struct ynode *n = yaml_tree_map_get(spec, s->target_ref ? "targetRef" : "targetRefs");

	for (int i = 0; i < num; i++) {
		const struct policy_target_ref *r = &refs[i];
		const char *group = r->group && *r->group ? r->group : "core";
		bool ok = false;
		size_t m;

		if (!r->kind)
			continue;
		for (size_t j = 0; j < ARRAY_SIZE(allowed); j++)
			ok |= !strcmp(group, allowed[j][0]) && !strcmp(r->kind, allowed[j][1]);
		if (ok)
			continue;
		m = path_field(c, s->target_ref ? "targetRef" : "targetRefs");
		if (!s->target_ref)
			path_idx(c, (size_t)i);
		fail(c, s->target_ref ? n : n->items[i], "targetRef must be to one of core/Service, "
		     "networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway, "
		     "gateway.networking.k8s.io/GatewayClass but was %s/%s", r->group ? r->group : "",
		     r->kind);
		path_pop(c, m);
	}
}

// parse_telemetry reads a Telemetry spec (the CRD and ValidateTelemetry).
// A missing spec is an empty one.
static void parse_telemetry(struct ctx *c, const struct ynode *spec, struct telemetry *tm)
{
	const struct ypair *p;
	size_t m;

	if (!spec)
		return;
	m = path_field(c, "spec");
	if (!expect_map(c, spec))
		goto out;
	FOR_FIELDS(c, spec, p) {
		const struct ynode *v = p->value;

		if (parse_scope_field(c, p, &tm->scope))
			continue;
		if (key_is(p, "tracing"))
			parse_objects(c, v, sizeof(*tm->tracing), (void **)&tm->tracing, &tm->num_tracing,
				      parse_tm_tracing);
		else if (key_is(p, "metrics"))
			parse_objects(c, v, sizeof(*tm->metrics), (void **)&tm->metrics, &tm->num_metrics,
				      parse_tm_metrics);
		else if (key_is(p, "accessLogging"))
			parse_objects(c, v, sizeof(*tm->access_logging), (void **)&tm->access_logging,
				      &tm->num_access_logging, parse_tm_access_logging);
		else
			unknown_field(c, p);
	}
	check_scope(c, spec);
	if (!c->errors)
		check_target_kinds(c, spec, &tm->scope);
out:
	path_pop(c, m);
}

// ---- documents ----

enum kind_id {
	K_SERVICE_ENTRY = 0,
	K_VIRTUAL_SERVICE,
	K_DESTINATION_RULE,
	K_PEER_AUTHENTICATION,
	K_WORKLOAD_ENTRY,
	K_SIDECAR,
	K_AUTHORIZATION_POLICY,
	K_REQUEST_AUTHENTICATION,
	K_GATEWAY,
	K_WORKLOAD_GROUP,
	K_TELEMETRY,
	K_IGNORED,
};

// V_* are the API versions a kind is served in.
enum {
	V_V1 = 1 << 0,
	V_V1BETA1 = 1 << 1,
	V_V1ALPHA3 = 1 << 2,
	V_V1ALPHA1 = 1 << 3,
};

struct kind_desc {
	const char *group;
	const char *kind;
	unsigned versions;
	enum kind_id id;
};

static const struct kind_desc kinds[] = {
	{ "networking.istio.io", "ServiceEntry", V_V1 | V_V1BETA1 | V_V1ALPHA3, K_SERVICE_ENTRY },
	{ "networking.istio.io", "VirtualService", V_V1 | V_V1BETA1 | V_V1ALPHA3, K_VIRTUAL_SERVICE },
	{ "networking.istio.io", "DestinationRule", V_V1 | V_V1BETA1 | V_V1ALPHA3, K_DESTINATION_RULE },
	{ "networking.istio.io", "Gateway", V_V1 | V_V1BETA1 | V_V1ALPHA3, K_GATEWAY },
	{ "networking.istio.io", "Sidecar", V_V1 | V_V1BETA1 | V_V1ALPHA3, K_SIDECAR },
	{ "networking.istio.io", "WorkloadEntry", V_V1 | V_V1BETA1 | V_V1ALPHA3, K_WORKLOAD_ENTRY },
	{ "networking.istio.io", "WorkloadGroup", V_V1 | V_V1BETA1 | V_V1ALPHA3, K_WORKLOAD_GROUP },
	{ "networking.istio.io", "EnvoyFilter", V_V1ALPHA3, K_IGNORED },
	{ "networking.istio.io", "ProxyConfig", V_V1BETA1, K_IGNORED },
	{ "security.istio.io", "AuthorizationPolicy", V_V1 | V_V1BETA1, K_AUTHORIZATION_POLICY },
	{ "security.istio.io", "PeerAuthentication", V_V1 | V_V1BETA1, K_PEER_AUTHENTICATION },
	{ "security.istio.io", "RequestAuthentication", V_V1 | V_V1BETA1, K_REQUEST_AUTHENTICATION },
	{ "telemetry.istio.io", "Telemetry", V_V1 | V_V1ALPHA1, K_TELEMETRY },
};

static unsigned version_bit(const char *v)
{
	if (!strcmp(v, "v1"))
		return V_V1;
	if (!strcmp(v, "v1beta1"))
		return V_V1BETA1;
	if (!strcmp(v, "v1alpha3"))
		return V_V1ALPHA3;
	if (!strcmp(v, "v1alpha1"))
		return V_V1ALPHA1;
	return 0;
}

// ObjectMeta fields Kubernetes may put in what it writes out
// (kubectl get -o yaml); we read name/namespace and check the rest's shape.
static const char *const meta_opaque[] = {
	"uid", "resourceVersion", "creationTimestamp", "deletionTimestamp", "selfLink",
	"generateName", "generation", "deletionGracePeriodSeconds", "managedFields",
	"ownerReferences", "finalizers", NULL,
};

static void parse_metadata(struct ctx *c, const struct ynode *md, struct istio_meta *meta)
{
	const struct ypair *p;
	size_t m;
	struct kv *kv;
	int num;

	if (yaml_tree_is_null(md)) {
		fail(c, NULL, "metadata.name: Required value");
		return;
	}
	m = path_field(c, "metadata");
	if (!expect_map(c, md))
		goto out;
	FOR_FIELDS(c, md, p) {
		bool opaque = false;

		if (key_is(p, "name")) {
			if (get_str(c, p->value, &meta->name) < 0)
				continue;
			if (!k8s_subdomain(meta->name, strlen(meta->name)))
				fail(c, p->value, "a lowercase RFC 1123 subdomain must consist of lower case "
				     "alphanumeric characters, '-' or '.', and must start and end with an "
				     "alphanumeric character (at most 253)");
		} else if (key_is(p, "namespace")) {
			if (get_str(c, p->value, &meta->namespace_) < 0)
				continue;
			if (!k8s_label(meta->namespace_))
				fail(c, p->value, "a lowercase RFC 1123 label must consist of lower case "
				     "alphanumeric characters or '-', and must start and end with an "
				     "alphanumeric character (at most 63)");
		} else if (key_is(p, "labels")) {
			if (get_str_map(c, p->value, &kv, &num) == 0)
				validate_labels(c, p->value, kv, num);
		} else if (key_is(p, "annotations")) {
			get_str_map(c, p->value, &kv, &num);
		} else {
			for (int i = 0; meta_opaque[i]; i++)
				opaque |= key_is(p, meta_opaque[i]);
			if (!opaque)
				unknown_field(c, p);
		}
	}
	if (!meta->name)
		required(c, md, "name");
out:
	path_pop(c, m);
}

// peek_str returns a string field for messages before it is validated.
static const char *peek_str(struct ctx *c, const struct ynode *map, const char *key, char *buf,
			    size_t cap)
{
	const struct ynode *n = yaml_tree_map_get(map, key);

	if (!n || n->type != YN_SCALAR || yaml_tree_scalar_kind(n) != YK_STR)
		return NULL;
	clean(buf, cap, n->str, n->len);
	return buf;
}

struct loader {
	struct istio_config *cfg;
	struct istio_priv *priv;
	struct errsink *es;
	const char *file;
	bool generated;		// made by meshgate (a Kubernetes Service): no name clash
};

// duplicate reports a resource whose namespace/name an earlier one of the
// same kind already took: applying both would make one silently win. It
// records a resource it lets through at index num of its kind's array (the
// kind is told apart by the address of its count, num_field).
static bool duplicate(struct ctx *c, const struct ynode *root, const struct istio_meta *a,
		      const void *arr, size_t stride, size_t meta_off, int num,
		      const int *num_field, struct strmap *names)
{
	char key[sizeof(void *) + 2 * 256 + 2];
	size_t nl = strlen(a->namespace_), ml = strlen(a->name), len;
	uint32_t idx;

	if (nl > 256 || ml > 256)
		return false;	// validation already failed such a name
	memcpy(key, &num_field, sizeof(num_field));
	memcpy(key + sizeof(num_field), a->namespace_, nl + 1);
	memcpy(key + sizeof(num_field) + nl + 1, a->name, ml);
	len = sizeof(num_field) + nl + 1 + ml;
	if (strmap_get(names, key, len, &idx) && (int)idx < num) {
		const struct istio_meta *b =
			(const struct istio_meta *)((const char *)arr + (size_t)idx * stride + meta_off);

		fail(c, root, "already defined at %s:%d", b->file, b->line);
		return true;
	}
	if (strmap_set(names, key, len, (uint32_t)num) < 0)
		oom(c);
	return false;
}

static int grow(struct arena *ar, void **arr, int *cap, int num, size_t size)
{
	void *n;
	int ncap;

	if (num < *cap)
		return 0;
	if (*cap > INT_MAX / 2)
		return -ENOMEM;
	ncap = *cap ? *cap * 2 : 16;
	n = arena_alloc_array(ar, (size_t)ncap, size);
	if (!n)
		return -ENOMEM;
	if (num)
		memcpy(n, *arr, (size_t)num * size);
	*arr = n;
	*cap = ncap;
	return 0;
}

// add_resource appends a parsed resource (size bytes, its istio_meta at
// meta_off) to its kind's array, unless parsing failed or the kind already
// has that namespace/name.
static void add_resource(struct ctx *c, const struct ynode *root, const struct istio_meta *meta,
			 void *obj, size_t size, size_t meta_off, void **arr, int *num, int *cap,
			 struct strmap *names)
{
	if (c->errors || (!c->allow_dups &&
			  duplicate(c, root, meta, *arr, size, meta_off, *num, num, names)))
		return;
	if (c->oom)
		return;
	if (grow(c->ar, arr, cap, *num, size) < 0) {
		oom(c);
		return;
	}
	memcpy((char *)obj + meta_off, meta, sizeof(*meta));
	memcpy((char *)*arr + (size_t)*num * size, obj, size);
	(*num)++;
}

#define ADD_RESOURCE(field, num_field, cap_field, obj)					\
	add_resource(c, root, &meta, &(obj), sizeof(obj), offsetof(typeof(obj), meta),	\
		     (void **)&cfg->field, &cfg->num_field, &ld->priv->cap_field, &ld->priv->names)

static void load_object(struct loader *ld, const struct ynode *root, int depth);

static void load_list(struct loader *ld, struct ctx *c, const struct ynode *root, int depth)
{
	const struct ynode *items = yaml_tree_map_get(root, "items");
	const struct ypair *p;

	FOR_FIELDS(c, root, p) {
		if (!key_is(p, "apiVersion") && !key_is(p, "kind") && !key_is(p, "items") &&
		    !key_is(p, "metadata"))
			unknown_field(c, p);
	}
	if (!items || yaml_tree_is_null(items))
		return;
	path_field(c, "items");
	if (!expect_seq(c, items))
		return;
	if (depth > 0) {
		fail(c, root, "a List inside a List is not supported");
		return;
	}
	for (size_t i = 0; i < items->len; i++)
		load_object(ld, items->items[i], depth + 1);
}

// load_object checks one resource and, when it is clean, adds it to the
// config. Errors go to the sink; nothing of a bad resource is kept.
static void load_object(struct loader *ld, const struct ynode *root, int depth)
{
	struct ctx cx, *c = &cx;
	const struct ynode *api, *kindn, *md, *spec;
	const struct kind_desc *kd = NULL;
	const struct ypair *p;
	char kbuf[64], nbuf[256], nsbuf[64];
	const char *api_s, *kind_s, *slash;
	struct istio_meta meta = { 0 };
	struct istio_config *cfg = ld->cfg;
	unsigned vbit;

	memset(c, 0, sizeof(*c));
	c->ar = &ld->priv->ar;
	c->es = ld->es;
	c->file = ld->file;
	c->doc_line = root ? root->line : 0;
	c->allow_dups = cfg->validate_only || ld->generated;
	if (yaml_tree_is_null(root))
		return;		// an empty document ("---" at the end)
	if (root->type != YN_MAP) {
		fail(c, root, "a document must be a mapping (an Istio resource), got %s",
		     type_name(root));
		return;
	}
	api = yaml_tree_map_get(root, "apiVersion");
	kindn = yaml_tree_map_get(root, "kind");
	md = yaml_tree_map_get(root, "metadata");
	spec = yaml_tree_map_get(root, "spec");
	if (yaml_tree_is_null(spec))
		spec = NULL;	// "spec:" with nothing is no spec
	c->kind = peek_str(c, root, "kind", kbuf, sizeof(kbuf));
	c->name = md ? peek_str(c, md, "name", nbuf, sizeof(nbuf)) : NULL;
	c->ns = md ? peek_str(c, md, "namespace", nsbuf, sizeof(nsbuf)) : NULL;

	if (yaml_tree_is_null(api) || yaml_tree_is_null(kindn)) {
		fail(c, root, "%s: Required value", yaml_tree_is_null(api) ? "apiVersion" : "kind");
		return;
	}
	if (!(api_s = scalar_str(c, api)) || !(kind_s = scalar_str(c, kindn)))
		return;
	if (!strcmp(api_s, "v1") && !strcmp(kind_s, "List")) {
		load_list(ld, c, root, depth);
		return;
	}
	slash = strchr(api_s, '/');
	vbit = slash ? version_bit(slash + 1) : 0;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (!slash || strlen(kinds[i].group) != (size_t)(slash - api_s) ||
		    memcmp(kinds[i].group, api_s, slash - api_s))
			continue;
		if (!strcmp(kinds[i].kind, kind_s)) {
			kd = &kinds[i];
			break;
		}
	}
	if (!kd) {
		fail(c, kindn, "unknown kind %s for apiVersion %s", qv(c, kind_s), qv(c, api_s));
		return;
	}
	if (!(kd->versions & vbit)) {
		fail(c, api, "%s is not served as %s", kd->kind, qv(c, api_s));
		return;
	}
	FOR_FIELDS(c, root, p) {
		// _err is test metadata in Istio's validation files, not a field.
		if (!key_is(p, "apiVersion") && !key_is(p, "kind") && !key_is(p, "metadata") &&
		    !key_is(p, "spec") && !key_is(p, "status") && !key_is(p, "_err"))
			unknown_field(c, p);
	}
	parse_metadata(c, md, &meta);
	meta.kind = kd->kind;
	if (!meta.namespace_)
		meta.namespace_ = "default";
	meta.file = ld->file;
	meta.line = root->line;
	// where it was written counts too: the snapshot names it
	meta.hash = XXH3_64bits_withSeed(ld->file, strlen(ld->file),
					 ynode_hash(root, kd->id == K_SERVICE_ENTRY && spec ?
						    yaml_tree_map_get(spec, "endpoints") : NULL) +
					 (uint64_t)root->line);

	switch (kd->id) {
	case K_SERVICE_ENTRY: {
		struct service_entry se = { 0 };

		parse_service_entry(c, spec, &se);
		se.ep_hash = ynode_hash(spec ? yaml_tree_map_get(spec, "endpoints") : NULL, NULL);
		ADD_RESOURCE(service_entries, num_service_entries, cap_se, se);
		break;
	}
	case K_VIRTUAL_SERVICE: {
		struct virtual_service vs = { 0 };

		parse_virtual_service(c, spec, &vs);
		ADD_RESOURCE(virtual_services, num_virtual_services, cap_vs, vs);
		break;
	}
	case K_DESTINATION_RULE: {
		struct destination_rule dr = { 0 };

		parse_destination_rule(c, spec, &dr);
		ADD_RESOURCE(destination_rules, num_destination_rules, cap_dr, dr);
		break;
	}
	case K_PEER_AUTHENTICATION: {
		struct peer_authentication pa = { 0 };

		parse_peer_authentication(c, spec, &pa);
		ADD_RESOURCE(peer_authentications, num_peer_authentications, cap_pa, pa);
		break;
	}
	case K_WORKLOAD_ENTRY: {
		struct workload_entry we = { 0 };

		parse_workload_entry(c, spec, &we);
		ADD_RESOURCE(workload_entries, num_workload_entries, cap_we, we);
		break;
	}
	case K_SIDECAR: {
		struct sidecar sc = { 0 };

		parse_sidecar(c, spec, &sc);
		ADD_RESOURCE(sidecars, num_sidecars, cap_sc, sc);
		break;
	}
	case K_AUTHORIZATION_POLICY: {
		struct authorization_policy ap = { 0 };

		parse_authorization_policy(c, spec, &ap);
		ADD_RESOURCE(authorization_policies, num_authorization_policies, cap_ap, ap);
		break;
	}
	case K_REQUEST_AUTHENTICATION: {
		struct request_authentication ra = { 0 };

		parse_request_authentication(c, spec, &ra);
		ADD_RESOURCE(request_authentications, num_request_authentications, cap_ra, ra);
		break;
	}
	case K_GATEWAY: {
		struct gateway gw = { 0 };

		check_gateway_name(c, md, &meta);
		parse_gateway(c, spec, &gw);
		ADD_RESOURCE(gateways, num_gateways, cap_gw, gw);
		break;
	}
	case K_WORKLOAD_GROUP: {
		struct workload_group wg = { 0 };

		parse_workload_group(c, spec, &wg);
		ADD_RESOURCE(workload_groups, num_workload_groups, cap_wg, wg);
		break;
	}
	case K_TELEMETRY: {
		struct telemetry tm = { 0 };

		parse_telemetry(c, spec, &tm);
		ADD_RESOURCE(telemetries, num_telemetries, cap_tm, tm);
		break;
	}
	case K_IGNORED:
		// EnvoyFilter and ProxyConfig are not parsed: only their
		// shape is checked
		if (spec && !yaml_tree_is_null(spec) && spec->type != YN_MAP) {
			size_t m = path_field(c, "spec");

			expect_map(c, spec);
			path_pop(c, m);
		}
		if (!c->errors)
			cfg->num_ignored++;
		break;
	}
}

// ---- durations ----

// parse_duration_ns reads a Go-style duration ("1h30m", "1.5s", "100ms",
// "250us", "0"), which covers protobuf's "<seconds>[.<frac>]s" form. Signs
// are refused (Istio has no negative durations); the limit is protobuf's
// Duration range (315576000000 s).
static int parse_duration_ns(const char *s, __int128 *out)
{
	static const struct {
		const char *unit;
		int64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 },
		{ "ms", 1000000 }, { "s", 1000000000LL }, { "m", 60000000000LL },
		{ "h", 3600000000000LL },
	};
	const __int128 max = (__int128)315576000000LL * 1000000000LL;
	__int128 total = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	while (*s) {
		__int128 ip = 0, frac = 0, scale = 1;
		int digits = 0, fdigits = 0;
		size_t ul = 0;
		int64_t mult = 0;

		while (*s >= '0' && *s <= '9') {
			if (ip > max)
				return -ERANGE;
			ip = ip * 10 + (*s++ - '0');
			digits++;
		}
		if (*s == '.') {
			s++;
			while (*s >= '0' && *s <= '9') {
				if (fdigits < 18) {
					frac = frac * 10 + (*s - '0');
					scale *= 10;
				}
				fdigits++;
				s++;
			}
		}
		if (!digits && !fdigits)
			return -EINVAL;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].unit);

			// longest match: "ms" before "m", "ns"/"us" before "s"
			if (!strncmp(s, units[i].unit, l) && l > ul) {
				ul = l;
				mult = units[i].ns;
			}
		}
		if (!ul)
			return -EINVAL;
		s += ul;
		total += ip * mult + frac * mult / scale;
		if (total > max)
			return -ERANGE;
	}
	*out = total;
	return 0;
}

int istio_parse_duration(const char *s, int64_t *out_ms)
{
	__int128 ns;

	if (parse_duration_ns(s, &ns) < 0 || ns % 1000000)
		return -EINVAL;
	*out_ms = (int64_t)(ns / 1000000);
	return 0;
}

// ---- loading ----

static struct istio_priv *priv_get(struct istio_config *cfg)
{
	struct istio_priv *pv = cfg->arena;

	if (!pv) {
		pv = calloc(1, sizeof(*pv));
		if (!pv)
			return NULL;
		arena_init(&pv->ar);
		cfg->arena = pv;
	}
	return pv;
}

static void sink_init(struct errsink *es, struct istio_error *errs, int max_errs)
{
	es->errs = errs;
	es->max = errs && max_errs > 0 ? max_errs : 0;
	es->num = 0;
	es->total = 0;
}

static void sinkf(struct errsink *es, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sinkf(struct errsink *es, const char *fmt, ...)
{
	char msg[sizeof(((struct istio_error *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sink_add(es, msg);
}

static void finish_errs(const struct errsink *es, int *out_num_errs)
{
	if (out_num_errs)
		*out_num_errs = es->num;
}

// counts is what a config held before a load, to roll a failed one back.
struct counts {
	int se, vs, dr, pa, we, sc, ap, ra, gw, wg, tm, ign;
};

static void counts_save(const struct istio_config *cfg, struct counts *k)
{
	k->se = cfg->num_service_entries;
	k->vs = cfg->num_virtual_services;
	k->dr = cfg->num_destination_rules;
	k->pa = cfg->num_peer_authentications;
	k->we = cfg->num_workload_entries;
	k->sc = cfg->num_sidecars;
	k->ap = cfg->num_authorization_policies;
	k->ra = cfg->num_request_authentications;
	k->gw = cfg->num_gateways;
	k->wg = cfg->num_workload_groups;
	k->tm = cfg->num_telemetries;
	k->ign = cfg->num_ignored;
}

static void counts_restore(struct istio_config *cfg, const struct counts *k)
{
	cfg->num_service_entries = k->se;
	cfg->num_virtual_services = k->vs;
	cfg->num_destination_rules = k->dr;
	cfg->num_peer_authentications = k->pa;
	cfg->num_workload_entries = k->we;
	cfg->num_sidecars = k->sc;
	cfg->num_authorization_policies = k->ap;
	cfg->num_request_authentications = k->ra;
	cfg->num_gateways = k->gw;
	cfg->num_workload_groups = k->wg;
	cfg->num_telemetries = k->tm;
	cfg->num_ignored = k->ign;
}

static int loader_init(struct loader *ld, const char *name, struct istio_config *cfg,
		       struct errsink *es)
{
	struct istio_priv *pv = priv_get(cfg);

	ld->cfg = cfg;
	ld->priv = pv;
	ld->es = es;
	ld->generated = false;
	ld->file = pv ? arena_strdup(&pv->ar, name) : NULL;
	if (!ld->file) {
		sinkf(es, "%s: out of memory", name);
		return -ENOMEM;
	}
	return 0;
}

// load_buf parses one stream into cfg. On any error cfg keeps only what it
// held before (the arrays' counts are rolled back).
static int load_buf(const char *name, const char *data, size_t len, struct istio_config *cfg,
		    struct errsink *es)
{
	struct yaml_tree t;
	struct yaml_error ye;
	struct loader ld;
	struct counts k;
	int before = es->total;
	int err;

	counts_save(cfg, &k);
	if (loader_init(&ld, name, cfg, es) < 0)
		return -ENOMEM;
	err = yaml_tree_parse(&t, data, len, &ye);
	if (err < 0) {
		if (err == -ENOMEM)
			sinkf(es, "%s: out of memory", name);
		else if (ye.line)
			sinkf(es, "%s:%d: yaml: %s", name, ye.line, ye.msg);
		else
			sinkf(es, "%s: yaml: %s", name, ye.msg);
		yaml_tree_free(&t);
		return err == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	for (int i = 0; i < t.num_docs; i++)
		load_object(&ld, t.docs[i], 0);
	yaml_tree_free(&t);
	if (es->total != before) {
		counts_restore(cfg, &k);
		return -EINVAL;
	}
	return 0;
}

static int load_node(const char *name, const struct ynode *doc, struct istio_config *cfg,
		     struct istio_error *errs, int max_errs, int *out_num_errs, bool generated)
{
	struct errsink es;
	struct loader ld;
	struct counts k;
	int err = 0;

	sink_init(&es, errs, max_errs);
	counts_save(cfg, &k);
	if (loader_init(&ld, name, cfg, &es) < 0) {
		err = -ENOMEM;
		goto out;
	}
	ld.generated = generated;
	load_object(&ld, doc, 0);
	if (es.total) {
		counts_restore(cfg, &k);
		err = -EINVAL;
	}
out:
	finish_errs(&es, out_num_errs);
	return err;
}

int istio_load_node(const char *name, const struct ynode *doc, struct istio_config *cfg,
		    struct istio_error *errs, int max_errs, int *out_num_errs)
{
	return load_node(name, doc, cfg, errs, max_errs, out_num_errs, false);
}

int istio_load_generated(const char *name, const struct ynode *doc, struct istio_config *cfg,
			 struct istio_error *errs, int max_errs, int *out_num_errs)
{
	return load_node(name, doc, cfg, errs, max_errs, out_num_errs, true);
}

static int read_all(const char *path, char **out, size_t *out_len, struct errsink *es)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		sinkf(es, "%s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		sinkf(es, "%s: %s", path, strerror(-err));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		sinkf(es, "%s: %s", path, strerror(EISDIR));
		goto out;
	}
	if (st.st_size > YTREE_MAX_FILE) {
		err = -EFBIG;
		sinkf(es, "%s: larger than %d MiB", path, YTREE_MAX_FILE >> 20);
		goto out;
	}
	cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		sinkf(es, "%s: out of memory", path);
		goto out;
	}
	// Read to EOF, not to st_size: the file may be growing or a pipe.
	for (;;) {
		if (len == cap) {
			char *nb;

			if (cap > YTREE_MAX_FILE) {
				err = -EFBIG;
				sinkf(es, "%s: larger than %d MiB", path, YTREE_MAX_FILE >> 20);
				goto out;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				err = -ENOMEM;
				sinkf(es, "%s: out of memory", path);
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			sinkf(es, "%s: %s", path, strerror(-err));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > YTREE_MAX_FILE) {
		err = -EFBIG;
		sinkf(es, "%s: larger than %d MiB", path, YTREE_MAX_FILE >> 20);
		goto out;
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return err;
}

int istio_load_buf(const char *name, const char *data, size_t len,
		   struct istio_config *cfg, struct istio_error *errs,
		   int max_errs, int *out_num_errs)
{
	struct errsink es;
	int err;

	sink_init(&es, errs, max_errs);
	err = load_buf(name, data, len, cfg, &es);
	finish_errs(&es, out_num_errs);
	return err;
}

int istio_load_file(const char *path, struct istio_config *cfg,
		    struct istio_error *errs, int max_errs, int *out_num_errs)
{
	struct errsink es;
	char *data = NULL;
	size_t len = 0;
	int err;

	sink_init(&es, errs, max_errs);
	err = read_all(path, &data, &len, &es);
	if (err == 0)
		err = load_buf(path, data, len, cfg, &es);
	free(data);
	finish_errs(&es, out_num_errs);
	return err;
}

bool istio_wanted_file(const char *n)
{
	size_t len = strlen(n);

	if (n[0] == '.')
		return false;	// hidden files, Kubernetes' ..data links
	return (len > 5 && !strcmp(n + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(n + len - 4, ".yml")) ||
	       (len > 5 && !strcmp(n + len - 5, ".json"));
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void istio_sources_free(struct istio_sources *srcs)
{
	for (int i = 0; i < srcs->num; i++) {
		free(srcs->v[i].name);
		free(srcs->v[i].data);
	}
	free(srcs->v);
	memset(srcs, 0, sizeof(*srcs));
}

static int keep_source(struct istio_sources *srcs, const char *path, char *data, size_t len)
{
	if (srcs->num == srcs->cap) {
		int ncap = srcs->cap ? srcs->cap * 2 : 16;
		void *nv = realloc(srcs->v, (size_t)ncap * sizeof(srcs->v[0]));

		if (!nv)
			return -ENOMEM;
		srcs->v = nv;
		srcs->cap = ncap;
	}
	if (!(srcs->v[srcs->num].name = strdup(path)))
		return -ENOMEM;
	srcs->v[srcs->num].data = data;
	srcs->v[srcs->num].len = len;
	srcs->num++;
	return 0;
}

int istio_load_sources(const struct istio_sources *srcs, struct istio_config *cfg,
		       struct istio_error *errs, int max_errs, int *out_num_errs)
{
	struct errsink es;
	int err = 0;

	sink_init(&es, errs, max_errs);
	for (int i = 0; i < srcs->num; i++) {
		int r = load_buf(srcs->v[i].name, srcs->v[i].data, srcs->v[i].len, cfg, &es);

		if (r < 0 && (err == 0 || err == -EINVAL))
			err = r;
	}
	finish_errs(&es, out_num_errs);
	return err;
}

int istio_load_dir(const char *dir, struct istio_config *out,
		   struct istio_error *errs, int max_errs, int *out_num_errs)
{
	return istio_load_dir_keep(dir, out, NULL, errs, max_errs, out_num_errs);
}

static int scan_dir(const char *dir, struct istio_config *out, struct istio_sources *keep,
		    struct istio_error *errs, int max_errs, int *out_num_errs);

int istio_load_dir_keep(const char *dir, struct istio_config *out, struct istio_sources *keep,
			struct istio_error *errs, int max_errs, int *out_num_errs)
{
	return scan_dir(dir, out, keep, errs, max_errs, out_num_errs);
}

int istio_read_dir(const char *dir, struct istio_sources *keep, struct istio_error *errs,
		   int max_errs, int *out_num_errs)
{
	return scan_dir(dir, NULL, keep, errs, max_errs, out_num_errs);
}

// scan_dir reads dir's files into keep (may be NULL) and, unless out is
// NULL, loads them into *out.
static int scan_dir(const char *dir, struct istio_config *out, struct istio_sources *keep,
		    struct istio_error *errs, int max_errs, int *out_num_errs)
{
	struct errsink es;
	struct istio_config cfg = { 0 };
	char **names = NULL, path[PATH_MAX];
	size_t num = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	sink_init(&es, errs, max_errs);
	d = opendir(dir);
	if (!d) {
		err = -errno;
		if (err == -ENOENT) {
			finish_errs(&es, out_num_errs);
			return 0;	// no directory: an empty mesh
		}
		sinkf(&es, "%s: %s", dir, strerror(-err));
		goto out;
	}
	while ((errno = 0, de = readdir(d))) {
		char **nn;

		if (!istio_wanted_file(de->d_name))
			continue;
		if (num == cap) {
			cap = cap ? cap * 2 : 32;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				err = -ENOMEM;
				break;
			}
			names = nn;
		}
		if (!(names[num] = strdup(de->d_name))) {
			err = -ENOMEM;
			break;
		}
		num++;
	}
	if (!err && errno)
		err = -errno;
	closedir(d);
	if (err) {
		sinkf(&es, "%s: %s", dir, strerror(-err));
		goto out;
	}
	if (num)
		qsort(names, num, sizeof(*names), name_cmp);
	for (size_t i = 0; i < num; i++) {
		struct stat st;
		char *data = NULL;
		size_t len = 0;
		int r;

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path)) {
			sinkf(&es, "%s/%s: %s", dir, names[i], strerror(ENAMETOOLONG));
			err = -ENAMETOOLONG;
			continue;
		}
		// Only regular files, through symlinks (ConfigMap volumes use
		// them). A name that vanished since readdir is skipped; other
		// stat errors are reported by read_all.
		if (stat(path, &st) < 0) {
			if (errno == ENOENT)
				continue;
		} else if (!S_ISREG(st.st_mode)) {
			continue;
		}
		r = read_all(path, &data, &len, &es);
		if (r == 0 && out)
			r = load_buf(path, data, len, &cfg, &es);
		if (r == 0 && keep) {
			if ((r = keep_source(keep, path, data, len)) == 0)
				data = NULL;
			else
				sinkf(&es, "%s: out of memory", path);
		}
		free(data);
		if (r < 0 && (err == 0 || err == -EINVAL))
			err = r;
		// keep going: report every file's errors in one pass
	}
	if (!err && es.total)
		err = -EINVAL;
out:
	for (size_t i = 0; i < num; i++)
		free(names[i]);
	free(names);
	if (err) {
		istio_config_free(&cfg);
		if (keep)
			istio_sources_free(keep);
	} else if (out) {
		*out = cfg;
	}
	finish_errs(&es, out_num_errs);
	return err;
}

void istio_config_free(struct istio_config *cfg)
{
	struct istio_priv *pv = cfg->arena, *next;

	for (; pv; pv = next) {
		next = pv->taken;
		arena_cleanup(&pv->ar);
		strmap_free(&pv->names);
		free(pv);
	}
	memset(cfg, 0, sizeof(*cfg));
}

static bool same_source(const struct istio_meta *a, const struct istio_meta *b)
{
	return a->line == b->line && !strcmp(a->file, b->file) && !strcmp(a->name, b->name) &&
	       !strcmp(a->namespace_, b->namespace_);
}

int istio_config_take_endpoints(struct istio_config *cfg, struct istio_config *part)
{
	struct istio_priv *pv = cfg->arena, *ppv = part->arena;
	int *twin, changed = 0;

	if (!pv || !ppv || part->num_virtual_services || part->num_destination_rules ||
	    part->num_peer_authentications || part->num_workload_entries || part->num_sidecars ||
	    part->num_authorization_policies || part->num_request_authentications ||
	    part->num_gateways || part->num_workload_groups || part->num_telemetries ||
	    part->num_ignored)
		return -ESRCH;
	if (!(twin = calloc((size_t)part->num_service_entries + 1, sizeof(*twin))))
		return -ENOMEM;
	// every entry first finds its twin: nothing changes unless all do.
	// The search starts after the last twin: a file's entries are in order
	for (int i = 0, last = -1, n = cfg->num_service_entries; i < part->num_service_entries; i++) {
		const struct service_entry *p = &part->service_entries[i];
		int k = -1;

		for (int j = 0; j < n && k < 0; j++) {
			int at = (last + 1 + j) % n;

			if (same_source(&cfg->service_entries[at].meta, &p->meta))
				k = at;
		}
		last = k;
		if (k < 0 || cfg->service_entries[k].meta.hash != p->meta.hash) {
			free(twin);
			return -ESRCH;
		}
		twin[i] = k;
	}
	for (int i = 0; i < part->num_service_entries; i++) {
		const struct service_entry *p = &part->service_entries[i];
		struct service_entry *t = &cfg->service_entries[twin[i]];

		if (t->ep_hash == p->ep_hash)
			continue;
		t->endpoints = p->endpoints;
		t->num_endpoints = p->num_endpoints;
		t->ep_hash = p->ep_hash;
		changed++;
	}
	free(twin);
	// part's arena now backs endpoints of cfg: cfg keeps it
	ppv->taken = pv->taken;
	pv->taken = ppv;
	pv->num_taken++;
	memset(part, 0, sizeof(*part));
	return changed;
}

int istio_config_taken(const struct istio_config *cfg, size_t *bytes, size_t *own)
{
	const struct istio_priv *pv = cfg->arena;

	if (bytes)
		*bytes = 0;
	if (own)
		*own = pv ? arena_bytes(&pv->ar) : 0;
	for (const struct istio_priv *t = pv ? pv->taken : NULL; bytes && t; t = t->taken)
		*bytes += arena_bytes(&t->ar);
	return pv ? pv->num_taken : 0;
}

void istio_config_each(const struct istio_config *cfg,
		       void (*fn)(void *arg, const struct istio_meta *m), void *arg)
{
#define EACH(arr, num)							\
	for (int i = 0; i < cfg->num; i++)				\
		fn(arg, &cfg->arr[i].meta)
	EACH(service_entries, num_service_entries);
	EACH(workload_entries, num_workload_entries);
	EACH(workload_groups, num_workload_groups);
	EACH(virtual_services, num_virtual_services);
	EACH(destination_rules, num_destination_rules);
	EACH(gateways, num_gateways);
	EACH(sidecars, num_sidecars);
	EACH(peer_authentications, num_peer_authentications);
	EACH(authorization_policies, num_authorization_policies);
	EACH(request_authentications, num_request_authentications);
	EACH(telemetries, num_telemetries);
#undef EACH
}

char *istio_expand_host(char *buf, size_t len, const char *host, const char *ns,
			const char *domain)
{
	// Istio's ResolveShortnameToFQDN: a wildcard or a name with a dot is
	// taken as written
	if (host[0] != '*' && !strchr(host, '.'))
		snprintf(buf, len, "%s.%s.svc.%s", host, ns, domain);
	else
		snprintf(buf, len, "%s", host);
	for (char *c = buf; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return buf;
}
