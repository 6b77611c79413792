// SPDX-License-Identifier: Apache-2.0
// kube_test: what a Kubernetes Service becomes (kube_service_json), table
// by table: ports and their protocol, cluster IPs, headless and
// ExternalName Services, EndpointSlice conditions and address types, named
// target ports, pod labels and service accounts, the exportTo annotation;
// and API objects in shapes a hostile or broken API server could send,
// which must give no entry or an entry without the bad part, never a
// crash. Every entry produced must pass the Istio loader.
#include "control/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/istio.h"
#include "config/json.h"
#include "config/yaml.h"
#include "core/buf.h"

#include "tests/unit/check.h"

// ---- kube_port_protocol ----

static void test_protocol(void)
{
	static const struct {
		const char *app, *name, *want;
	} rows[] = {
		{ NULL, "http", "HTTP" }, { NULL, "http-web", "HTTP" }, { NULL, "HTTP-Web", "HTTP" },
		{ NULL, "http2", "HTTP2" }, { NULL, "https-admin", "HTTPS" }, { NULL, "grpc", "GRPC" },
		{ NULL, "grpc-web", "GRPC-WEB" }, { NULL, "grpc-web-x", "GRPC-WEB" },
		{ NULL, "grpc-webx", "GRPC" }, { NULL, "tcp-db", "TCP" }, { NULL, "tls", "TLS" },
		{ NULL, "mongo", "MONGO" }, { NULL, "redis-cache", "REDIS" }, { NULL, "mysql", "MYSQL" },
		{ NULL, "web", NULL }, { NULL, "", NULL }, { NULL, NULL, NULL }, { NULL, "h2c", NULL },
		{ NULL, "httpx", NULL }, { NULL, "-http", NULL }, { NULL, "udp-dns", NULL },
		{ "http", "tcp-x", "HTTP" }, { "GRPC", NULL, "GRPC" }, { "grpc-web", "", "GRPC-WEB" },
		{ "kubernetes.io/h2c", "web", "HTTP2" }, { "kubernetes.io/ws", NULL, "HTTP" },
		{ "kubernetes.io/wss", NULL, "HTTPS" }, { "h2c", NULL, "HTTP2" },
		{ "unknown-proto", "http", "HTTP" }, { "unknown-proto", "web", NULL },
		{ "", "grpc", "GRPC" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got = kube_port_protocol(rows[i].app, rows[i].name);

		CHECK((!got && !rows[i].want) || (got && rows[i].want && !strcmp(got, rows[i].want)),
		      "appProtocol %s name %s: %s, want %s", rows[i].app ? rows[i].app : "-",
		      rows[i].name ? rows[i].name : "-", got ? got : "none",
		      rows[i].want ? rows[i].want : "none");
	}
}

// ---- kube_service_json ----

static const char *const PODS[] = {
	"{\"metadata\":{\"name\":\"r-1\",\"namespace\":\"default\",\"labels\":{\"app\":\"r\","
	"\"version\":\"v1\",\"security.istio.io/tlsMode\":\"istio\"}},"
	"\"spec\":{\"serviceAccountName\":\"reviews\"}}",
	"{\"metadata\":{\"name\":\"r-2\",\"namespace\":\"default\",\"labels\":{\"app\":\"r\","
	"\"version\":\"v2\",\"n\":5}},\"spec\":{}}",
	NULL,
};

static struct yaml_tree pod_trees[8];

static const struct ynode *pods(void *arg, const char *key)
{
	for (int i = 0; PODS[i]; i++) {
		const struct ynode *md = yaml_tree_map_get(pod_trees[i].docs[0], "metadata");
		const struct ynode *n = yaml_tree_map_get(md, "name");
		char k[128];

		snprintf(k, sizeof(k), "default/%s", n->str);
		if (!strcmp(k, key))
			return pod_trees[i].docs[0];
	}
	return NULL;
}

struct svc_case {
	const char *name;
	const char *svc;
	const char *slices[3];
	bool produced;
	// substrings the ServiceEntry JSON must hold, and must not
	const char *has[8];
	const char *lacks[6];
	bool refused;		// the loader refuses the entry (the Service is skipped)
};

#define SVC(spec) "{\"metadata\":{\"name\":\"r\",\"namespace\":\"default\"},\"spec\":" spec "}"
#define PORT80 "\"ports\":[{\"name\":\"http\",\"port\":80,\"targetPort\":9080,\"protocol\":\"TCP\"}]"
#define SLICE(eps) "{\"metadata\":{\"name\":\"r-x\",\"namespace\":\"default\",\"labels\":" \
	"{\"kubernetes.io/service-name\":\"r\"}},\"addressType\":\"IPv4\",\"ports\":[{\"name\":" \
	"\"http\",\"port\":9080}],\"endpoints\":" eps "}"
#define EP(ip, ready, pod) "{\"addresses\":[\"" ip "\"],\"conditions\":{\"ready\":" ready "}," \
	"\"targetRef\":{\"kind\":\"Pod\",\"name\":\"" pod "\",\"namespace\":\"default\"}}"

static const struct svc_case cases[] = {
	{ "a ClusterIP Service with two ready pods",
	  SVC("{\"clusterIP\":\"10.96.0.9\"," PORT80 "}"),
	  { SLICE("[" EP("10.1.0.1", "true", "r-1") "," EP("10.1.0.2", "true", "r-2") "]") }, true,
	  { "\"hosts\":[\"r.default.svc.cluster.local\"]", "\"addresses\":[\"10.96.0.9\"]",
	    "\"number\":80,\"name\":\"http\",\"protocol\":\"HTTP\",\"targetPort\":9080",
	    "\"address\":\"10.1.0.1\",\"ports\":{\"http\":9080}", "\"serviceAccount\":\"reviews\"",
	    "\"security.istio.io/tlsMode\":\"istio\"", "\"n\":\"5\"", "\"resolution\":\"STATIC\"" },
	  { NULL } },
	{ "not-ready and non-IP endpoints are left out",
	  SVC("{\"clusterIP\":\"10.96.0.9\"," PORT80 "}"),
	  { SLICE("[" EP("10.1.0.1", "false", "r-1") "," EP("not-an-ip", "true", "r-2") ","
		  EP("10.1.0.3", "null", "r-9") "]") }, true,
	  { "\"address\":\"10.1.0.3\"" }, { "10.1.0.1", "not-an-ip", "\"labels\"" } },
	{ "ready given as a string is not ready",
	  SVC("{\"clusterIP\":\"10.96.0.9\"," PORT80 "}"),
	  { SLICE("[" EP("10.1.0.1", "\"true\"", "r-1") "]") }, true,
	  { "\"endpoints\":[]" }, { "10.1.0.1" } },
	{ "headless: no address, pod IPs",
	  SVC("{\"clusterIP\":\"None\"," PORT80 "}"),
	  { SLICE("[" EP("10.1.0.1", "true", "r-1") "]") }, true,
	  { "\"address\":\"10.1.0.1\"" }, { "\"addresses\"" } },
	{ "a cluster IP that is not an IP is dropped",
	  SVC("{\"clusterIP\":\"10.96.0.999\"," PORT80 "}"), { NULL }, true,
	  { "\"endpoints\":[]" }, { "\"addresses\"" } },
	{ "ExternalName: resolution DNS to the name",
	  SVC("{\"type\":\"ExternalName\",\"externalName\":\"db.example.com\"," PORT80 "}"),
	  { NULL }, true,
	  { "\"resolution\":\"DNS\"", "\"address\":\"db.example.com\"" }, { "\"addresses\"" } },
	{ "UDP and SCTP ports are not proxied",
	  SVC("{\"clusterIP\":\"10.96.0.9\",\"ports\":[{\"name\":\"dns\",\"port\":53,\"protocol\":"
	      "\"UDP\"},{\"name\":\"tcp-dns\",\"port\":53,\"protocol\":\"TCP\"},{\"name\":\"s\","
	      "\"port\":9,\"protocol\":\"SCTP\"}]}"), { NULL }, true,
	  { "\"number\":53,\"name\":\"tcp-dns\",\"protocol\":\"TCP\"" }, { "\"name\":\"dns\"",
									  "\"number\":9" } },
	{ "only UDP: nothing to route",
	  SVC("{\"clusterIP\":\"10.96.0.9\",\"ports\":[{\"port\":53,\"protocol\":\"UDP\"}]}"),
	  { NULL }, false, { NULL }, { NULL } },
	{ "ports out of range or of the wrong type are skipped",
	  SVC("{\"clusterIP\":\"10.96.0.9\",\"ports\":[{\"port\":0},{\"port\":70000},{\"port\":"
	      "\"80\"},{\"port\":-1},{\"port\":1.5},{\"name\":\"web\",\"port\":8080}]}"), { NULL },
	  true, { "\"number\":8080,\"name\":\"web\",\"targetPort\":8080" },
	  { "70000", "\"number\":0", "\"number\":-1" } },
	{ "unnamed port gets a name; appProtocol decides",
	  SVC("{\"clusterIP\":\"10.96.0.9\",\"ports\":[{\"port\":7000,\"appProtocol\":\"grpc\","
	      "\"targetPort\":\"grpc-port\"}]}"),
	  { "{\"metadata\":{\"name\":\"r-x\",\"namespace\":\"default\"},\"addressType\":\"IPv4\","
	    "\"ports\":[{\"name\":\"\",\"port\":7443}],\"endpoints\":[" EP("10.1.0.1", "true", "r-1")
	    "]}" }, true,
	  { "\"number\":7000,\"name\":\"port-7000\",\"protocol\":\"GRPC\"",
	    "\"ports\":{\"port-7000\":7443}" }, { "\"targetPort\"" } },
	{ "FQDN slices are not pod endpoints",
	  SVC("{\"clusterIP\":\"10.96.0.9\"," PORT80 "}"),
	  { "{\"metadata\":{\"name\":\"r-f\",\"namespace\":\"default\"},\"addressType\":\"FQDN\","
	    "\"endpoints\":[{\"addresses\":[\"x.example\"]}]}" }, true,
	  { "\"endpoints\":[]" }, { "x.example" } },
	{ "exportTo annotation",
	  "{\"metadata\":{\"name\":\"r\",\"namespace\":\"default\",\"annotations\":{"
	  "\"networking.istio.io/exportTo\":\"., istio-system\"}},\"spec\":{\"clusterIP\":"
	  "\"10.96.0.9\"," PORT80 "}}", { NULL }, true,
	  { "\"exportTo\":[\".\",\"istio-system\"]" }, { NULL } },
	{ "no metadata: nothing", "{\"spec\":{\"clusterIP\":\"10.96.0.9\"," PORT80 "}}", { NULL },
	  false, { NULL }, { NULL } },
	{ "no spec: nothing", "{\"metadata\":{\"name\":\"r\",\"namespace\":\"default\"}}", { NULL },
	  false, { NULL }, { NULL } },
	{ "spec of the wrong type: nothing",
	  "{\"metadata\":{\"name\":\"r\",\"namespace\":\"default\"},\"spec\":[1]}", { NULL }, false,
	  { NULL }, { NULL } },
	{ "ports not a list: nothing", SVC("{\"clusterIP\":\"10.96.0.9\",\"ports\":{}}"), { NULL },
	  false, { NULL }, { NULL } },
	{ "endpoints and addresses of the wrong types",
	  SVC("{\"clusterIP\":\"10.96.0.9\"," PORT80 "}"),
	  { SLICE("{}"), SLICE("[1,{\"addresses\":\"10.1.0.1\"},{\"addresses\":[[1]]},"
			       "{\"addresses\":[]}]") }, true,
	  { "\"endpoints\":[]" }, { "10.1.0.1" } },
	{ "a targetRef to an unknown pod: no labels",
	  SVC("{\"clusterIP\":\"10.96.0.9\"," PORT80 "}"),
	  { SLICE("[" EP("10.1.0.7", "true", "gone") "]") }, true,
	  { "\"address\":\"10.1.0.7\"" }, { "\"labels\"", "serviceAccount" } },
	{ "names that JSON must escape stay escaped",
	  "{\"metadata\":{\"name\":\"r\",\"namespace\":\"default\"},\"spec\":{\"clusterIP\":"
	  "\"10.96.0.9\",\"ports\":[{\"name\":\"http-\\\"x\\\"\",\"port\":80}]}}", { NULL }, true,
	  { "\"name\":\"http-\\\"x\\\"\"" }, { NULL }, true },
};

static void test_service_json(void)
{
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct svc_case *k = &cases[c];
		struct yaml_tree svc, sl[3], out;
		const struct ynode *slices[3];
		struct yaml_error ye;
		struct buf o;
		int n = 0;
		bool got;

		CHECK(json_tree_parse(&svc, k->svc, strlen(k->svc), &ye) == 0, "%s: service JSON: %s",
		      k->name, ye.msg);
		for (int i = 0; i < 3 && k->slices[i]; i++, n++) {
			CHECK(json_tree_parse(&sl[i], k->slices[i], strlen(k->slices[i]), &ye) == 0,
			      "%s: slice JSON: %s", k->name, ye.msg);
			slices[i] = sl[i].docs[0];
		}
		buf_init(&o);
		got = kube_service_json("cluster.local", svc.docs[0], slices, n, pods, NULL, &o);
		CHECK(got == k->produced, "%s: produced %d", k->name, got);
		if (got) {
			struct istio_config cfg;
			struct istio_error errs[4];
			int nerr = 0;

			buf_append(&o, "", 1);
			for (int i = 0; i < 8 && k->has[i]; i++)
				CHECK(strstr(o.data, k->has[i]), "%s: lacks %s in %s", k->name, k->has[i],
				      o.data);
			for (int i = 0; i < 6 && k->lacks[i]; i++)
				CHECK(!strstr(o.data, k->lacks[i]), "%s: has %s in %s", k->name,
				      k->lacks[i], o.data);
			// what comes out is valid JSON and a valid ServiceEntry
			CHECK(json_tree_parse(&out, o.data, o.len - 1, &ye) == 0, "%s: output JSON: %s",
			      k->name, ye.msg);
			memset(&cfg, 0, sizeof(cfg));
			if (out.num_docs == 1 && k->refused) {
				// not a port name Kubernetes allows either: the
				// Service is skipped with the loader's reason
				CHECK(istio_load_generated("test", out.docs[0], &cfg, errs, 4, &nerr) < 0 &&
				      nerr && strstr(errs[0].msg, "ports[0].name"),
				      "%s: refused: %s", k->name, nerr ? errs[0].msg : "accepted");
			} else if (out.num_docs == 1) {
				CHECK(istio_load_generated("test", out.docs[0], &cfg, errs, 4, &nerr) == 0 &&
				      cfg.num_service_entries == 1,
				      "%s: the loader refuses it: %s (%s)", k->name,
				      nerr ? errs[0].msg : "?", o.data);
				// a user's resource of the same name does not clash
				CHECK(istio_load_generated("again", out.docs[0], &cfg, errs, 4, &nerr) == 0,
				      "%s: a second load of the same name", k->name);
			}
			istio_config_free(&cfg);
			yaml_tree_free(&out);
		}
		buf_cleanup(&o);
		yaml_tree_free(&svc);
		for (int i = 0; i < n; i++)
			yaml_tree_free(&sl[i]);
	}
}

int main(void)
{
	struct yaml_error ye;

	for (int i = 0; PODS[i]; i++)
		if (json_tree_parse(&pod_trees[i], PODS[i], strlen(PODS[i]), &ye) < 0) {
			printf("pod %d: %s\n", i, ye.msg);
			return 1;
		}
	test_protocol();
	test_service_json();
	for (int i = 0; PODS[i]; i++)
		yaml_tree_free(&pod_trees[i]);
	printf("kube_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
