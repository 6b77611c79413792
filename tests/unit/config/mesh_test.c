// SPDX-License-Identifier: Apache-2.0
// mesh_test: MeshConfig documents (mesh.yaml, the istio ConfigMap's mesh
// key): the fields meshgate acts on, layering under the bootstrap file
// (which wins for what it sets), and documents that must be refused with
// "name:line: field: what".
#include "config/mesh.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config/bootstrap.h"

#include "tests/unit/check.h"

struct good_case {
	const char *name, *yaml;
	unsigned set;
	int outbound;
	const char *td, *root_ns, *access_log;
	int auto_mtls;			// -1: not checked
	uint32_t connect_ms;		// 0: not checked
	const char *not_enforced;	// substring, or NULL for none
};

static const struct good_case good[] = {
	{ "empty", "", 0, 0, "", "", "", 1, 10000, NULL },
	{ "null document", "~\n", 0, 0, "", "", "", 1, 10000, NULL },
	{ "registry only", "outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n", MESH_SET_OUTBOUND,
	  OUTBOUND_REGISTRY_ONLY, "", "", "", -1, 0, NULL },
	{ "allow any", "outboundTrafficPolicy: {mode: ALLOW_ANY}\n", MESH_SET_OUTBOUND,
	  OUTBOUND_ALLOW_ANY, "", "", "", -1, 0, NULL },
	{ "policy without mode", "outboundTrafficPolicy: {}\n", 0, 0, "", "", "", -1, 0, NULL },
	{ "trust domain", "trustDomain: example.org\n", MESH_SET_TRUST_DOMAIN, 0, "example.org", "",
	  "", -1, 0, NULL },
	{ "root namespace", "rootNamespace: mesh-root\n", MESH_SET_ROOT_NS, 0, "", "mesh-root", "",
	  -1, 0, NULL },
	{ "auto mtls off", "enableAutoMtls: false\n", MESH_SET_AUTO_MTLS, 0, "", "", "", 0, 0, NULL },
	{ "connect timeout", "connectTimeout: 2.5s\n", MESH_SET_CONNECT_TIMEOUT, 0, "", "", "", -1,
	  2500, NULL },
	{ "access log stdout", "accessLogFile: /dev/stdout\n", MESH_SET_ACCESS_LOG, 0, "", "",
	  "stdout", -1, 0, NULL },
	{ "access log off", "accessLogFile: \"\"\n", MESH_SET_ACCESS_LOG, 0, "", "", "", -1, 0, NULL },
	{ "json form", "{\"trustDomain\":\"td.local\",\"enableAutoMtls\":true}", MESH_SET_TRUST_DOMAIN |
	  MESH_SET_AUTO_MTLS, 0, "td.local", "", "", 1, 0, NULL },
	{ "known, not enforced", "enableTracing: true\ndefaultConfig:\n  discoveryAddress: istiod:15012\n",
	  0, 0, "", "", "", -1, 0, "enableTracing, defaultConfig" },
	{ "unknown field ignored", "someFutureField: 1\n", 0, 0, "", "", "", -1, 0, "someFutureField?" },
	{ "istio's default mesh", "defaultConfig:\n  discoveryAddress: istiod.istio-system.svc:15012\n"
	  "defaultProviders:\n  metrics: [prometheus]\nenablePrometheusMerge: true\nrootNamespace: "
	  "istio-system\ntrustDomain: cluster.local\n", MESH_SET_ROOT_NS | MESH_SET_TRUST_DOMAIN, 0,
	  "cluster.local", "istio-system", "", -1, 0, "defaultProviders" },
};

struct bad_case {
	const char *name, *yaml;
	int line;
	const char *msg;
};

static const struct bad_case bad[] = {
	{ "not yaml", "a: [\n", 2, "yaml:" },
	{ "a list", "- a\n", 1, "must be a mapping" },
	{ "two documents", "a: 1\n---\nb: 2\n", 3, "one MeshConfig document" },
	{ "bad mode", "outboundTrafficPolicy:\n  mode: DENY\n", 2, "is not REGISTRY_ONLY or ALLOW_ANY" },
	{ "mode lowercase", "outboundTrafficPolicy: {mode: allow_any}\n", 1, "not REGISTRY_ONLY" },
	{ "policy not a map", "outboundTrafficPolicy: ALLOW_ANY\n", 1, "must be a mapping" },
	{ "policy unknown field", "outboundTrafficPolicy: {mod: ALLOW_ANY}\n", 1, "unknown field" },
	{ "trust domain upper", "trustDomain: Example.org\n", 1, "may only hold" },
	{ "trust domain empty", "trustDomain: \"\"\n", 1, "non-empty" },
	{ "trust domain list", "trustDomain: [a]\n", 1, "non-empty string" },
	{ "root ns bad", "rootNamespace: Istio_System\n", 1, "RFC 1123 label" },
	{ "root ns dash", "rootNamespace: -a\n", 1, "RFC 1123 label" },
	{ "auto mtls not bool", "enableAutoMtls: maybe\n", 1, "true or false" },
	{ "timeout not duration", "connectTimeout: ten\n", 1, "not a duration" },
	{ "timeout zero", "connectTimeout: 0s\n", 1, "between 1ms and 24h" },
	{ "timeout negative", "connectTimeout: -1s\n", 1, "not a duration" },
	{ "access log relative", "accessLogFile: logs/a.log\n", 1, "not an absolute path" },
};

static void test_good(void)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct good_case *g = &good[i];
		struct mesh_config m;
		char err[512] = "";
		int r = mesh_config_parse("m.yaml", g->yaml, strlen(g->yaml), &m, err, sizeof(err));

		CHECK(r == 0, "%s: %s", g->name, err);
		if (r)
			continue;
		CHECK(m.set == g->set, "%s: set %#x want %#x", g->name, m.set, g->set);
		if (g->set & MESH_SET_OUTBOUND)
			CHECK(m.outbound_policy == g->outbound, "%s", g->name);
		CHECK(!strcmp(m.trust_domain, g->td), "%s: td %s", g->name, m.trust_domain);
		CHECK(!strcmp(m.root_namespace, g->root_ns), "%s: root %s", g->name, m.root_namespace);
		CHECK(!strcmp(m.access_log, g->access_log), "%s: log %s", g->name, m.access_log);
		if (g->auto_mtls >= 0)
			CHECK(m.auto_mtls == (bool)g->auto_mtls, "%s", g->name);
		if (g->connect_ms)
			CHECK(m.connect_timeout_ms == g->connect_ms, "%s: %u", g->name, m.connect_timeout_ms);
		if (g->not_enforced)
			CHECK(strstr(m.not_enforced, g->not_enforced), "%s: %s", g->name, m.not_enforced);
		else
			CHECK(!m.not_enforced[0], "%s: %s", g->name, m.not_enforced);
	}
}

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad_case *c = &bad[i];
		struct mesh_config m;
		char err[512] = "", want[32];
		int r = mesh_config_parse("m.yaml", c->yaml, strlen(c->yaml), &m, err, sizeof(err));

		snprintf(want, sizeof(want), "m.yaml:%d: ", c->line);
		CHECK(r == -EINVAL, "%s: accepted", c->name);
		CHECK(!strncmp(err, want, strlen(want)), "%s: got \"%s\", want prefix %s", c->name, err,
		      want);
		CHECK(strstr(err, c->msg), "%s: got \"%s\", want \"%s\"", c->name, err, c->msg);
	}
}

// The bootstrap file wins for what it sets; MeshConfig fills the rest.
static void test_apply(void)
{
	struct bootstrap b;
	struct mesh_config m;
	char err[256];
	const char *y = "outboundTrafficPolicy: {mode: ALLOW_ANY}\ntrustDomain: td.example\n"
			"rootNamespace: root\nenableAutoMtls: false\nconnectTimeout: 3s\n";
	unsigned changed;

	bootstrap_default(&b);
	CHECK(mesh_config_parse("m", y, strlen(y), &m, err, sizeof(err)) == 0, "%s", err);
	changed = mesh_config_apply(&m, &b);
	CHECK(b.outbound_policy == OUTBOUND_ALLOW_ANY && !strcmp(b.trust_domain, "td.example") &&
	      !strcmp(b.root_namespace, "root") && !b.auto_mtls && b.connect_timeout_ms == 3000,
	      "applied over the defaults");
	CHECK(changed == (MESH_SET_OUTBOUND | MESH_SET_TRUST_DOMAIN | MESH_SET_ROOT_NS |
			  MESH_SET_AUTO_MTLS | MESH_SET_CONNECT_TIMEOUT), "changed %#x", changed);
	CHECK(mesh_config_apply(&m, &b) == 0, "applying again changes nothing");

	bootstrap_default(&b);
	b.mesh_ini_set = MESH_SET_OUTBOUND | MESH_SET_TRUST_DOMAIN;	// the INI said so
	mesh_config_apply(&m, &b);
	CHECK(b.outbound_policy == OUTBOUND_REGISTRY_ONLY && !strcmp(b.trust_domain, "cluster.local"),
	      "the bootstrap file's values win");
	CHECK(!strcmp(b.root_namespace, "root"), "MeshConfig fills what the file left");
}

int main(void)
{
	test_good();
	test_bad();
	test_apply();
	printf("mesh_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
