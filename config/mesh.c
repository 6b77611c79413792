// SPDX-License-Identifier: Apache-2.0
// mesh.c: Istio's MeshConfig (mesh.h).
#include "mesh.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/bootstrap.h"
#include "config/istio.h"
#include "config/yaml.h"

// MeshConfig fields meshgate accepts without acting on them (istiod's
// meshconfig.proto). Anything else is ignored too, as istiod's apply does,
// but named in the log as unknown.
static const char *const known_fields[] = {
	"proxyListenPort", "proxyInboundListenPort", "proxyHttpPort", "tcpKeepalive",
	"ingressClass", "ingressService", "ingressControllerMode", "ingressSelector",
	"enableTracing", "accessLogFormat", "accessLogEncoding", "enableEnvoyAccessLogService",
	"disableEnvoyListenerLog", "defaultConfig", "outboundClusterStatName",
	"inboundClusterStatName", "enablePrometheusMerge", "verifyCertificateAtClient", "ca",
	"extensionProviders", "defaultProviders", "discoverySelectors", "pathNormalization",
	"defaultHttpRetryPolicy", "meshMTLS", "tlsDefaults", "sdsUdsPath", "localityLbSetting",
	"dnsRefreshRate", "h2UpgradePolicy", "inboundTrafficPolicy", "trustDomainAliases",
	"caCertificates", "defaultServiceExportTo", "defaultVirtualServiceExportTo",
	"defaultDestinationRuleExportTo", "configSources", "certificates", "thriftConfig",
	"serviceSettings", "protocolDetectionTimeout", "enableSdsTokenMount", "mixerCheckServer",
	"mixerReportServer", "disablePolicyChecks", "policyCheckFailOpen",
	"sidecarToTelemetrySessionAffinity", "serviceEntryExportTo", "configSourcesRootCert",
	"outboundTrafficPolicyMode", "reportBatchMaxEntries", "reportBatchMaxTime",
	"enableAutoMtls", "trustDomain", "rootNamespace", "connectTimeout", "accessLogFile",
	"outboundTrafficPolicy", "idleTimeout", "dnsRefreshRateSeconds", "proxyHttp",
	NULL,
};

static bool known(const char *k)
{
	for (int i = 0; known_fields[i]; i++)
		if (!strcmp(known_fields[i], k))
			return true;
	return false;
}

static bool label_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i && i + 1 < n)))
			return false;
	}
	return true;
}

static const char *scalar(const struct ynode *n)
{
	return n && n->type == YN_SCALAR && yaml_tree_scalar_kind(n) != YK_NULL ? n->str : NULL;
}

#define BAD(node, ...) do {							\
		int _o = snprintf(err, err_len, "%s:%d: ", name, (node) ? (node)->line : 0); \
		if (_o > 0 && (size_t)_o < err_len)				\
			snprintf(err + _o, err_len - (size_t)_o, __VA_ARGS__);	\
		r = -EINVAL;							\
		goto out;							\
	} while (0)

int mesh_config_parse(const char *name, const char *data, size_t len, struct mesh_config *out,
		      char *err, size_t err_len)
{
	struct yaml_tree t;
	struct yaml_error ye;
	const struct ynode *root;
	size_t ne = 0;
	int r;

	memset(out, 0, sizeof(*out));
	out->auto_mtls = true;
	out->connect_timeout_ms = 10000;
	r = yaml_tree_parse(&t, data, len, &ye);
	if (r < 0) {
		snprintf(err, err_len, "%s:%d: yaml: %s", name, ye.line, ye.msg);
		yaml_tree_free(&t);
		return -EINVAL;
	}
	r = 0;
	root = t.num_docs ? t.docs[0] : NULL;
	if (t.num_docs > 1)
		BAD(t.docs[1], "one MeshConfig document expected, got %d", t.num_docs);
	if (!root || yaml_tree_is_null(root))
		goto out;		// an empty mesh config: the defaults
	if (root->type != YN_MAP)
		BAD(root, "a MeshConfig must be a mapping");
	for (size_t i = 0; i < root->len; i++) {
		const struct ynode *k = root->pairs[i].key, *v = root->pairs[i].value;
		const char *s = scalar(v);

		if (!strcmp(k->str, "trustDomain")) {
			if (!s || !*s)
				BAD(v, "trustDomain: must be a non-empty string");
			for (const char *p = s; *p; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
				      *p == '-' || *p == '_'))
					BAD(v, "trustDomain: \"%.64s\" may only hold a-z 0-9 . - _", s);
			if (strlen(s) >= sizeof(out->trust_domain))
				BAD(v, "trustDomain: longer than 255 characters");
			strcpy(out->trust_domain, s);
			out->set |= MESH_SET_TRUST_DOMAIN;
		} else if (!strcmp(k->str, "outboundTrafficPolicy")) {
			const struct ynode *mode = yaml_tree_map_get(v, "mode");
			const char *m = scalar(mode);

			if (v->type != YN_MAP)
				BAD(v, "outboundTrafficPolicy: must be a mapping");
			for (size_t j = 0; j < v->len; j++)
				if (strcmp(v->pairs[j].key->str, "mode") &&
				    strcmp(v->pairs[j].key->str, "egressProxy"))
					BAD(v->pairs[j].key, "outboundTrafficPolicy.%.64s: unknown field",
					    v->pairs[j].key->str);
			if (!m)
				continue;	// {} sets nothing over the defaults
			if (!strcmp(m, "REGISTRY_ONLY"))
				out->outbound_policy = OUTBOUND_REGISTRY_ONLY;
			else if (!strcmp(m, "ALLOW_ANY"))
				out->outbound_policy = OUTBOUND_ALLOW_ANY;
			else
				BAD(mode, "outboundTrafficPolicy.mode: \"%.64s\" is not REGISTRY_ONLY or "
				    "ALLOW_ANY", m);
			out->set |= MESH_SET_OUTBOUND;
		} else if (!strcmp(k->str, "rootNamespace")) {
			if (!s || !label_ok(s))
				BAD(v, "rootNamespace: must be a namespace name (RFC 1123 label)");
			snprintf(out->root_namespace, sizeof(out->root_namespace), "%s", s);
			out->set |= MESH_SET_ROOT_NS;
		} else if (!strcmp(k->str, "enableAutoMtls")) {
			int b = 0;

			if (yaml_tree_is_null(v))
				continue;
			if (yaml_tree_scalar_bool(v, &b) < 0)
				BAD(v, "enableAutoMtls: must be true or false");
			out->auto_mtls = b;
			out->set |= MESH_SET_AUTO_MTLS;
		} else if (!strcmp(k->str, "connectTimeout")) {
			int64_t ms;

			if (!s || istio_parse_duration(s, &ms) < 0)
				BAD(v, "connectTimeout: not a duration (\"10s\")");
			if (ms < 1 || ms > 24LL * 3600 * 1000)
				BAD(v, "connectTimeout: must be between 1ms and 24h");
			out->connect_timeout_ms = (uint32_t)ms;
			out->set |= MESH_SET_CONNECT_TIMEOUT;
		} else if (!strcmp(k->str, "accessLogFile")) {
			if (!s)
				s = "";
			if (strlen(s) >= sizeof(out->access_log))
				BAD(v, "accessLogFile: path too long");
			snprintf(out->access_log, sizeof(out->access_log), "%s",
				 !strcmp(s, "/dev/stdout") ? "stdout" : s);
			if (*s && strcmp(s, "/dev/stdout") && s[0] != '/')
				BAD(v, "accessLogFile: \"%.64s\" is not an absolute path or /dev/stdout", s);
			out->set |= MESH_SET_ACCESS_LOG;
		} else {
			size_t kl = strlen(k->str);

			// named in the log: not acted on (known) or unknown
			if (ne + kl + 3 < sizeof(out->not_enforced)) {
				ne += (size_t)snprintf(out->not_enforced + ne, sizeof(out->not_enforced) - ne,
						       "%s%s%s", ne ? ", " : "", k->str,
						       known(k->str) ? "" : "?");
			}
		}
	}
out:
	yaml_tree_free(&t);
	return r;
}

unsigned mesh_config_apply(const struct mesh_config *m, struct bootstrap *b)
{
	unsigned use = m->set & ~b->mesh_ini_set, changed = 0;

	if ((use & MESH_SET_TRUST_DOMAIN) && strcmp(b->trust_domain, m->trust_domain)) {
		strcpy(b->trust_domain, m->trust_domain);
		changed |= MESH_SET_TRUST_DOMAIN;
	}
	if ((use & MESH_SET_OUTBOUND) && (int)b->outbound_policy != m->outbound_policy) {
		b->outbound_policy = (enum outbound_policy)m->outbound_policy;
		changed |= MESH_SET_OUTBOUND;
	}
	if ((use & MESH_SET_ROOT_NS) && strcmp(b->root_namespace, m->root_namespace)) {
		strcpy(b->root_namespace, m->root_namespace);
		changed |= MESH_SET_ROOT_NS;
	}
	if ((use & MESH_SET_AUTO_MTLS) && b->auto_mtls != m->auto_mtls) {
		b->auto_mtls = m->auto_mtls;
		changed |= MESH_SET_AUTO_MTLS;
	}
	if ((use & MESH_SET_CONNECT_TIMEOUT) && b->connect_timeout_ms != m->connect_timeout_ms) {
		b->connect_timeout_ms = m->connect_timeout_ms;
		changed |= MESH_SET_CONNECT_TIMEOUT;
	}
	if ((use & MESH_SET_ACCESS_LOG) && strcmp(b->access_log, m->access_log)) {
		strcpy(b->access_log, m->access_log);
		changed |= MESH_SET_ACCESS_LOG;
	}
	return changed;
}
