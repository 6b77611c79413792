// SPDX-License-Identifier: Apache-2.0
// analyze_test: `meshgate analyze`'s checks, table-driven: small YAML inputs
// (Istio resources beside Kubernetes Services and workloads) and the exact
// messages (level, code, resource) each must give, or none; message texts
// and lines for the codes; --namespace; host expansion; unusable inputs.
#include "config/analyze.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"

// The Kubernetes side most cases share: reviews (v1, v2 by Deployment; v3
// by a bare Pod), ratings with two ports, an ingress gateway in istio-system.
static const char K8S[] =
	"apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\n"
	"spec: {selector: {app: reviews}, ports: [{port: 9080, name: http}]}\n"
	"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: reviews-v1}\n"
	"spec: {template: {metadata: {labels: {app: reviews, version: v1}}}}\n"
	"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: reviews-v2}\n"
	"spec: {template: {metadata: {labels: {app: reviews, version: v2}}}}\n"
	"---\napiVersion: v1\nkind: Pod\nmetadata: {name: reviews-v3-abc, labels: {app: reviews, version: v3}}\n"
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: ratings}\n"
	"spec: {selector: {app: ratings}, ports: [{port: 9080, name: http}, {port: 9090, name: grpc}]}\n"
	"---\napiVersion: v1\nkind: Pod\nmetadata: {name: ratings-1, labels: {app: ratings, version: v1}}\n"
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: istio-ingressgateway, namespace: istio-system}\n"
	"spec: {selector: {istio: ingressgateway}, ports: [{port: 80, targetPort: 8080, protocol: TCP, name: http2}]}\n"
	"---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: istio-ingressgateway, namespace: istio-system}\n"
	"spec: {template: {metadata: {labels: {istio: ingressgateway}}}}\n"
	"---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: skipped}\n";

#define VS(name, body) \
	"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: " name "}\nspec: " body "\n"
#define DR(name, body) \
	"---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: " name "}\nspec: " body "\n"
#define GW(name, body) \
	"---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: " name "}\nspec: " body "\n"
#define KIND(kind, name, body) \
	"---\napiVersion: " kind "\nmetadata: {name: " name "}\nspec: " body "\n"
#define AP "security.istio.io/v1\nkind: AuthorizationPolicy"
#define PA "security.istio.io/v1\nkind: PeerAuthentication"
#define RA "security.istio.io/v1\nkind: RequestAuthentication"
#define SC "networking.istio.io/v1\nkind: Sidecar"
#define SE "networking.istio.io/v1\nkind: ServiceEntry"
#define WE "networking.istio.io/v1\nkind: WorkloadEntry"

#define DR_REVIEWS DR("reviews", "{host: reviews, subsets: [{name: v1, labels: {version: v1}}, " \
			       "{name: v2, labels: {version: v2}}, {name: v3, labels: {version: v3}}]}")
#define GW_BOOK GW("gw", "{selector: {istio: ingressgateway}, servers: [{port: {number: 8080, " \
			 "name: http, protocol: HTTP}, hosts: ['*']}]}")

struct tcase {
	const char *name;
	const char *yaml;	// added after K8S
	const char *want;	// "Level CODE Kind ns/name" per message, in order, "\n"-joined; "" = clean
	const char *ns;		// --namespace
};

static const struct tcase cases[] = {
	// ---- clean ----
	{ "subsets of Deployments and a Pod, all routed", DR_REVIEWS
	  VS("reviews", "{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}, weight: 50},"
	     " {destination: {host: reviews, subset: v3}, weight: 50}]}]}"), "" },
	{ "FQDN host, port given on a two-port service",
	  VS("ratings", "{hosts: [ratings.default.svc.cluster.local], http: [{route: [{destination: "
	     "{host: ratings.default.svc.cluster.local, port: {number: 9090}}}]}]}"), "" },
	{ "gateway bound, selector and target port found", GW_BOOK
	  VS("in", "{hosts: ['*'], gateways: [gw], http: [{route: [{destination: {host: reviews}}]}]}"), "" },
	{ "ServiceEntry hosts, a wildcard one, a DNS host without subsets",
	  KIND(SE, "ext", "{hosts: [api.example.com], ports: [{number: 443, name: tls, "
	       "protocol: TLS}], resolution: DNS}")
	  KIND(SE, "wild", "{hosts: ['*.example.org'], ports: [{number: 443, name: tls, "
	       "protocol: TLS}], resolution: NONE}")
	  VS("ext", "{hosts: [api.example.com], tls: [{match: [{sniHosts: [api.example.com]}], route: "
	     "[{destination: {host: api.example.com}}]}]}")
	  VS("ext2", "{hosts: [www.example.org], tls: [{match: [{sniHosts: [www.example.org]}], route: "
	     "[{destination: {host: www.example.org}}]}]}")
	  DR("ext", "{host: api.example.com}"), "" },
	{ "mesh-wide DestinationRule for *.local", DR("all", "{host: '*.local', trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}"), "" },
	{ "policies that select workloads",
	  KIND(AP, "ap", "{selector: {matchLabels: {app: reviews}}, rules: [{from: [{source: {namespaces: [default, 'istio-*']}}]}]}")
	  KIND(PA, "pa", "{selector: {matchLabels: {app: ratings}}, mtls: {mode: STRICT}}")
	  KIND(SC, "sc", "{workloadSelector: {labels: {app: reviews}}, egress: [{hosts: ['./*']}]}"), "" },
	{ "WorkloadEntry selected by a ServiceEntry subset",
	  KIND(SE, "vm", "{hosts: [vm.internal], ports: [{number: 80, name: http, protocol: HTTP}], "
	       "resolution: STATIC, workloadSelector: {labels: {app: vm}}}")
	  KIND(WE, "vm-1", "{address: 10.0.0.1, labels: {app: vm, version: v1}}")
	  DR("vm", "{host: vm.internal, subsets: [{name: v1, labels: {version: v1}}]}"), "" },
	{ "a v1 List of resources",
	  "---\napiVersion: v1\nkind: List\nitems:\n"
	  "- {apiVersion: networking.istio.io/v1, kind: VirtualService, metadata: {name: l}, "
	  "spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}}\n"
	  "- {apiVersion: v1, kind: Pod, metadata: {name: p, labels: {x: y}}}\n", "" },

	// ---- IST0101 ReferencedResourceNotFound (Error) ----
	{ "host not in the registry",
	  VS("r", "{hosts: [reviews], http: [{route: [{destination: {host: reviews2}}]}]}"),
	  "Error IST0101 VirtualService default/r" },
	{ "short name resolves in the VirtualService's namespace",
	  "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: shop}\n"
	  "spec: {hosts: [x], http: [{route: [{destination: {host: reviews}}]}]}\n",
	  "Error IST0101 VirtualService shop/r" },
	{ "host.namespace is not expanded (Istio's rule)",
	  VS("r", "{hosts: [reviews], http: [{route: [{destination: {host: reviews.default}}]}]}"),
	  "Error IST0101 VirtualService default/r" },
	{ "Service exported to its own namespace only",
	  "---\napiVersion: v1\nkind: Service\nmetadata: {name: priv, namespace: a, annotations: "
	  "{networking.istio.io/exportTo: '.'}}\nspec: {selector: {app: priv}, ports: [{port: 80}]}\n"
	  "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: b}\n"
	  "spec: {hosts: [x], http: [{route: [{destination: {host: priv.a.svc.cluster.local}}]}]}\n"
	  "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r, namespace: a}\n"
	  "spec: {hosts: [x], http: [{route: [{destination: {host: priv}}]}]}\n",
	  "Error IST0101 VirtualService b/r" },
	{ "subset no DestinationRule defines", DR_REVIEWS
	  VS("r", "{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v9}}]}]}"),
	  "Error IST0101 VirtualService default/r" },
	{ "port the service does not have",
	  VS("r", "{hosts: [reviews], http: [{route: [{destination: {host: reviews, port: {number: 80}}}]}]}"),
	  "Error IST0101 VirtualService default/r" },
	{ "mirror host not found",
	  VS("r", "{hosts: [reviews], http: [{route: [{destination: {host: reviews}}], mirror: {host: shadow}}]}"),
	  "Error IST0101 VirtualService default/r" },
	{ "gateway that does not exist (and so no host on it)",
	  VS("r", "{hosts: [reviews], gateways: [nogw], http: [{route: [{destination: {host: reviews}}]}]}"),
	  "Error IST0101 VirtualService default/r\nWarning IST0132 VirtualService default/r" },
	{ "gateway selector matches no workload",
	  GW("gw", "{selector: {app: nothing}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]}")
	  VS("in", "{hosts: ['*'], gateways: [gw], http: [{route: [{destination: {host: reviews}}]}]}"),
	  "Error IST0101 Gateway default/gw" },
	{ "Sidecar workloadSelector matches nothing in its namespace",
	  KIND(SC, "sc", "{workloadSelector: {labels: {app: nope}}, egress: [{hosts: ['./*']}]}"),
	  "Error IST0101 Sidecar default/sc" },
	{ "AuthorizationPolicy source namespace that does not exist",
	  KIND(AP, "ap", "{selector: {matchLabels: {app: reviews}}, rules: [{from: [{source: {namespaces: [nope]}}]}]}"),
	  "Error IST0101 AuthorizationPolicy default/ap" },

	// ---- IST0106 SchemaValidationError (Error) ----
	{ "schema error: the loader's field and text",
	  VS("bad", "{hosts: [reviews], http: [{route: [{destination: {host: reviews}, weight: -5}]}]}"),
	  "Error IST0106 VirtualService default/bad" },

	// ---- IST0109 ConflictingMeshGatewayVirtualServiceHosts (Error) ----
	{ "two VirtualServices for one host on the mesh",
	  VS("a", "{hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}")
	  VS("b", "{hosts: [reviews.default.svc.cluster.local], http: [{route: [{destination: {host: reviews}}]}]}"),
	  "Error IST0109 VirtualService default/a\nError IST0109 VirtualService default/b" },
	{ "no conflict when one is bound to a gateway only", GW_BOOK
	  VS("a", "{hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}")
	  VS("b", "{hosts: [reviews], gateways: [gw], http: [{route: [{destination: {host: reviews}}]}]}"),
	  "" },
	{ "no conflict between exports to different namespaces",
	  VS("a", "{hosts: [reviews], exportTo: [a], http: [{route: [{destination: {host: reviews}}]}]}")
	  VS("b", "{hosts: [reviews], exportTo: [b], http: [{route: [{destination: {host: reviews}}]}]}"),
	  "" },

	// ---- IST0112 VirtualServiceDestinationPortSelectorRequired (Error) ----
	{ "two-port service without a destination port",
	  VS("r", "{hosts: [ratings], http: [{route: [{destination: {host: ratings}}]}]}"),
	  "Error IST0112 VirtualService default/r" },

	// ---- IST0127 NoMatchingWorkloadsFound (Warning) ----
	{ "AuthorizationPolicy selecting nothing",
	  KIND(AP, "ap", "{selector: {matchLabels: {app: nope}}}"),
	  "Warning IST0127 AuthorizationPolicy default/ap" },
	{ "namespace-wide AuthorizationPolicy in an empty namespace",
	  "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ap, namespace: empty}\nspec: {}\n",
	  "Warning IST0127 AuthorizationPolicy empty/ap" },
	{ "root-namespace AuthorizationPolicy matches any namespace",
	  "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ap, namespace: istio-system}\n"
	  "spec: {selector: {matchLabels: {app: reviews}}}\n", "" },
	{ "workloads opted out of the mesh do not count",
	  "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: o, labels: {app: x}, "
	  "annotations: {sidecar.istio.io/inject: 'false'}}\n"
	  "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ap, namespace: o}\n"
	  "spec: {selector: {matchLabels: {app: x}}}\n",
	  "Warning IST0127 AuthorizationPolicy o/ap" },

	// ---- IST0128 / IST0129 NoServerCertificateVerification* (Warning) ----
	{ "SIMPLE TLS without caCertificates, rule and port level",
	  DR("t", "{host: reviews, trafficPolicy: {tls: {mode: SIMPLE}, portLevelSettings: "
	     "[{port: {number: 9080}, tls: {mode: MUTUAL, clientCertificate: /c, privateKey: /k}}]}}"),
	  "Warning IST0128 DestinationRule default/t\nWarning IST0129 DestinationRule default/t" },
	{ "caCertificates given: verified",
	  DR("t", "{host: reviews, trafficPolicy: {tls: {mode: SIMPLE, caCertificates: /ca.pem}}}"), "" },

	// ---- IST0130 / IST0131 (VirtualService rule order) ----
	{ "two rules without match; a duplicate match",
	  VS("r", "{hosts: [reviews], http: [{match: [{uri: {exact: /a}}], route: [{destination: {host: reviews}}]},"
	     " {match: [{uri: {exact: /a}}, {uri: {exact: /b}}], route: [{destination: {host: reviews}}]},"
	     " {route: [{destination: {host: reviews}}]}, {route: [{destination: {host: reviews}}]}]}"),
	  "Warning IST0130 VirtualService default/r\nInfo IST0131 VirtualService default/r" },

	// ---- IST0132 VirtualServiceHostNotFoundInGateway (Warning) ----
	{ "VirtualService host the gateway does not serve",
	  GW("gw", "{selector: {istio: ingressgateway}, servers: [{port: {number: 8080, name: http, protocol: HTTP}, "
	     "hosts: ['shop.example.com']}]}")
	  VS("in", "{hosts: [www.example.com], gateways: [gw], http: [{route: [{destination: {host: reviews}}]}]}"),
	  "Warning IST0132 VirtualService default/in" },

	// ---- IST0140 IngressRouteRulesNotAffected (Warning) ----
	{ "gateway route without subset to a host split by subsets", GW_BOOK DR_REVIEWS
	  VS("reviews", "{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}]}]}")
	  VS("in", "{hosts: ['*'], gateways: [gw], http: [{route: [{destination: {host: reviews}}]}]}"),
	  "Warning IST0140 VirtualService default/in" },

	// ---- IST0162 GatewayPortNotDefinedOnService (Warning) ----
	{ "gateway port no Service targets",
	  GW("gw", "{selector: {istio: ingressgateway}, servers: [{port: {number: 9443, name: https, protocol: HTTPS}, "
	     "hosts: ['*'], tls: {mode: SIMPLE, credentialName: c}}]}")
	  VS("in", "{hosts: ['*'], gateways: [gw], http: [{route: [{destination: {host: reviews}}]}]}"),
	  "Warning IST0162 Gateway default/gw" },

	// ---- IST0173 DestinationRuleSubsetNotSelectPods (Error) ----
	{ "subset whose labels select no workload",
	  DR("reviews", "{host: reviews, subsets: [{name: v1, labels: {version: v1}}, {name: v4, labels: {version: v4}}]}"),
	  "Error IST0173 DestinationRule default/reviews" },
	{ "subset labels of another service's workload",
	  DR("ratings", "{host: ratings, subsets: [{name: v2, labels: {version: v2}}]}"),
	  "Error IST0173 DestinationRule default/ratings" },
	{ "ServiceEntry subset no WorkloadEntry matches",
	  KIND(SE, "vm", "{hosts: [vm.internal], ports: [{number: 80, name: http, protocol: HTTP}], "
	       "resolution: STATIC, workloadSelector: {labels: {app: vm}}}")
	  KIND(WE, "vm-1", "{address: 10.0.0.1, labels: {app: vm, version: v1}}")
	  DR("vm", "{host: vm.internal, subsets: [{name: v2, labels: {version: v2}}]}"),
	  "Error IST0173 DestinationRule default/vm" },

	// ---- IST0174 UnknownDestinationRuleHost (Warning) ----
	{ "DestinationRule for an unknown host", DR("g", "{host: ghost}"),
	  "Warning IST0174 DestinationRule default/g" },

	// ---- MG0001: Gateway without VirtualService (Info) ----
	{ "gateway no VirtualService binds", GW_BOOK, "Info MG0001 Gateway default/gw" },
	{ "AUTO_PASSTHROUGH gateway needs no VirtualService",
	  GW("eastwest", "{selector: {istio: ingressgateway}, servers: [{port: {number: 8080, name: tls, "
	     "protocol: TLS}, hosts: ['*.local'], tls: {mode: AUTO_PASSTHROUGH}}]}"), "" },

	// ---- MG0002: PeerAuthentication / RequestAuthentication selecting nothing (Warning) ----
	{ "PeerAuthentication and RequestAuthentication selecting nothing",
	  KIND(PA, "pa", "{selector: {matchLabels: {app: nope}}, mtls: {mode: STRICT}}")
	  KIND(RA, "ra", "{selector: {matchLabels: {app: nope}}, jwtRules: [{issuer: x}]}"),
	  "Warning MG0002 PeerAuthentication default/pa\nWarning MG0002 RequestAuthentication default/ra" },

	// ---- --namespace ----
	{ "--namespace: resources without one land there, Kubernetes objects too",
	  VS("r", "{hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}")
	  VS("r2", "{hosts: [x], http: [{route: [{destination: {host: reviews.default.svc.cluster.local}}]}]}"),
	  "Error IST0101 VirtualService shop/r2", "shop" },
	{ "--namespace: messages of other namespaces are dropped",
	  "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: g, namespace: other}\n"
	  "spec: {host: ghost}\n" DR("g2", "{host: ghost}"),
	  "Warning IST0174 DestinationRule shop/g2", "shop" },
};

static void run_case(const struct tcase *t)
{
	struct analyze a = { 0 };
	char got[4096] = "";
	size_t o = 0, len = strlen(K8S) + strlen(t->yaml);
	char *buf = malloc(len + 1);
	int rc;

	snprintf(buf, len + 1, "%s%s", K8S, t->yaml);
	a.ns = t->ns;
	rc = analyze_add_buf(&a, "case.yaml", buf, len);
	CHECK(rc == 0, "%s: add: %d", t->name, rc);
	rc = analyze_run(&a);
	CHECK(rc == 0, "%s: run: %d", t->name, rc);
	for (int i = 0; i < a.num_msgs && o < sizeof(got); i++) {
		const struct analyze_msg *m = &a.msgs[i];

		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s %s %s %s/%s", o ? "\n" : "",
				      analyze_level_name(m->level), m->code, m->kind ? m->kind : "-",
				      m->ns ? m->ns : "-", m->name ? m->name : "-");
	}
	CHECK(!strcmp(got, t->want), "%s:\n  got  [%s]\n  want [%s]", t->name, got, t->want);
	CHECK(a.num_problems == 0, "%s: problems: %s", t->name, a.num_problems ? a.problems[0] : "");
	CHECK(a.num_skipped == 1, "%s: the ServiceAccount is skipped (%d)", t->name, a.num_skipped);
	analyze_cleanup(&a);
	free(buf);
}

// one analyzes yaml (with K8S) and returns the first message, copied.
static struct analyze_msg one(struct analyze *a, const char *yaml)
{
	size_t len = strlen(K8S) + strlen(yaml);
	char *buf = malloc(len + 1);
	struct analyze_msg m = { 0 };

	snprintf(buf, len + 1, "%s%s", K8S, yaml);
	memset(a, 0, sizeof(*a));
	if (analyze_add_buf(a, "t.yaml", buf, len) == 0 && analyze_run(a) == 0 && a->num_msgs)
		m = a->msgs[0];
	free(buf);
	return m;
}

static int line_of(const char *text, const char *needle)
{
	const char *at = strstr(text, needle);
	int line = 1;

	if (!at)
		return -1;
	for (const char *c = text; c < at; c++)
		line += *c == '\n';
	return line;
}

// test_texts checks Istio's message texts and the lines they point at.
static void test_texts(void)
{
	static const struct {
		const char *yaml, *text, *line_at;	// line_at: where the message points
	} t[] = {
		{ VS("r", "{hosts: [reviews], http: [{route: [{destination: {host: reviews2}}]}]}"),
		  "Referenced host not found: \"reviews2\"", "reviews2" },
		{ DR_REVIEWS VS("r", "{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v9}}]}]}"),
		  "Referenced host+subset in destinationrule not found: \"reviews+v9\"", "subset: v9" },
		{ VS("r", "{hosts: [reviews], http: [{route: [{destination: {host: reviews, port: {number: 80}}}]}]}"),
		  "Referenced host:port not found: \"reviews:80\"", "port: {number: 80}" },
		{ VS("r", "{hosts: [reviews], http: [{route: [{destination: {host: reviews}}], mirror: {host: shadow}}]}"),
		  "Referenced mirror host not found: \"shadow\"", "shadow" },
		{ VS("r", "{hosts: [ratings], http: [{route: [{destination: {host: ratings}}]}]}"),
		  "This VirtualService routes to a service \"ratings\" that exposes multiple ports [9080 9090]. "
		  "Specifying a port in the destination is required to disambiguate.", "host: ratings}" },
		{ GW("gw", "{selector: {app: nothing, tier: edge}, servers: [{port: {number: 80, name: http, "
		     "protocol: HTTP}, hosts: ['*']}]}"),
		  "Referenced selector not found: \"app=nothing,tier=edge\"", "app: nothing" },
		{ VS("a", "{hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}")
		  VS("b", "{hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}"),
		  "The VirtualServices default/a,default/b associated with mesh gateway define the same host "
		  "*/reviews.default.svc.cluster.local which can lead to undefined behavior. This can be fixed by "
		  "merging the conflicting VirtualServices into a single resource.", "name: a}" },
		{ DR("reviews", "{host: reviews, subsets: [{name: v4, labels: {version: v4}}]}"),
		  "The Subset v4 defined in the DestinationRule does not select any pods. Which may lead to 503 UH "
		  "(NoHealthyUpstream).", "networking.istio.io/v1\nkind: DestinationRule" },
		{ DR("g", "{host: ghost}"),
		  "The host ghost defined in the DestinationRule does not match any services in the mesh.",
		  "networking.istio.io/v1\nkind: DestinationRule" },
		{ DR("t", "{host: reviews, trafficPolicy: {portLevelSettings: [{port: {number: 9080}, tls: {mode: SIMPLE}}]}}"),
		  "DestinationRule default/t in namespace default has TLS mode set to SIMPLE but no caCertificates are "
		  "set to validate server identity for host: reviews at port number:9080",
		  "networking.istio.io/v1\nkind: DestinationRule" },
		{ VS("r", "{hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}, "
		     "{name: second, route: [{destination: {host: reviews}}]}]}"),
		  "VirtualService rule \"second\" not used (only the last rule can have no matches).",
		  "networking.istio.io/v1\nkind: VirtualService" },
		{ VS("r", "{hosts: [reviews], gateways: [nogw], http: [{route: [{destination: {host: reviews}}]}]}"),
		  "Referenced gateway not found: \"nogw\"", "nogw" },
		{ KIND(AP, "ap", "{selector: {matchLabels: {app: nope}}}"),
		  "No matching workloads for this resource with the following labels: app=nope",
		  "security.istio.io/v1\nkind: AuthorizationPolicy" },
		{ VS("bad", "{hosts: [reviews], http: [{route: [{destination: {host: reviews}, weight: -5}]}]}"),
		  "Schema validation error: spec.http[0].route[0].weight: ", "weight: -5" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct analyze a;
		struct analyze_msg m = one(&a, t[i].yaml);
		char *full = malloc(strlen(K8S) + strlen(t[i].yaml) + 1);
		int want_line;

		sprintf(full, "%s%s", K8S, t[i].yaml);
		want_line = line_of(full, t[i].line_at);
		CHECK(m.text && !strncmp(m.text, t[i].text, strlen(t[i].text)),
		      "text %zu:\n  got  [%s]\n  want [%s]", i, m.text ? m.text : "(none)", t[i].text);
		CHECK(m.file && !strcmp(m.file, "t.yaml") && m.line == want_line,
		      "line %zu: got %s:%d, want %d", i, m.file ? m.file : "-", m.line, want_line);
		free(full);
		analyze_cleanup(&a);
	}
}

static void test_inputs(void)
{
	struct analyze a = { 0 };
	const char dup[] = DR("d", "{host: reviews}") DR("d", "{host: reviews}");
	int rc;

	rc = analyze_add_buf(&a, "bad.yaml", "a: [1, 2\nb: c\n", 14);
	CHECK(rc == -EINVAL && a.num_problems == 1 && !strncmp(a.problems[0], "bad.yaml:", 9),
	      "unreadable YAML is a problem: %d %s", rc, a.num_problems ? a.problems[0] : "");
	rc = analyze_add_buf(&a, "dup.yaml", dup, sizeof(dup) - 1);
	CHECK(rc == 0 && a.num_problems == 2 && strstr(a.problems[1], "already defined at dup.yaml:"),
	      "a resource defined twice is a problem: %s", a.num_problems > 1 ? a.problems[1] : "");
	rc = analyze_add_buf(&a, "k.yaml", "apiVersion: v1\nkind: Service\nmetadata: {}\n", 42);
	CHECK(rc == 0 && analyze_run(&a) == 0 && a.num_msgs == 2 && !strcmp(a.msgs[0].code, "IST0106") &&
	      strstr(a.msgs[0].text, "metadata.name") && !strcmp(a.msgs[1].code, "IST0174"),
	      "a Service without a name: IST0106 (and the DestinationRule's host is unknown)");
	analyze_cleanup(&a);
	CHECK(a.priv == NULL && a.msgs == NULL, "cleanup zeroes");

	// nothing at all is clean
	rc = analyze_run(&a);
	CHECK(rc == 0 && a.num_msgs == 0, "empty input: no messages");
	analyze_cleanup(&a);
}

static void test_helpers(void)
{
	char buf[256];
	enum analyze_level l;

	CHECK(!strcmp(analyze_expand_host(buf, sizeof(buf), "reviews", "default"),
		      "reviews.default.svc.cluster.local"), "%s", buf);
	CHECK(!strcmp(analyze_expand_host(buf, sizeof(buf), "Reviews.Default", "x"), "reviews.default"), "%s", buf);
	CHECK(!strcmp(analyze_expand_host(buf, sizeof(buf), "*.example.com", "x"), "*.example.com"), "%s", buf);
	CHECK(!strcmp(analyze_expand_host(buf, sizeof(buf), "*", "x"), "*"), "%s", buf);
	CHECK(analyze_parse_level("warning", &l) == 0 && l == ANALYZE_WARNING, "warning");
	CHECK(analyze_parse_level("Error", &l) == 0 && l == ANALYZE_ERROR, "Error");
	CHECK(analyze_parse_level("INFO", &l) == 0 && l == ANALYZE_INFO, "INFO");
	CHECK(analyze_parse_level("warn", &l) == -EINVAL, "warn is not a level");
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	test_texts();
	test_inputs();
	test_helpers();
	printf("analyze_test: %d/%d checks passed\n", checks - failures, checks);
	return failures ? 1 : 0;
}
