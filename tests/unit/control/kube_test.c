// SPDX-License-Identifier: Apache-2.0
// kube_test: what a Kubernetes Service becomes (kube_service_json), table
// by table: ports and their protocol, cluster IPs, headless and
// ExternalName Services, EndpointSlice conditions and address types, named
// target ports, pod labels and service accounts, the exportTo annotation;
// and API objects in shapes a hostile or broken API server could send,
// which must give no entry or an entry without the bad part, never a
// crash. Every entry produced must pass the Istio loader.
#include "control/kube.h"
#include "control/kube_exec.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
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

// ---- exec credential plugins ----

static void test_exec(void)
{
	static const struct {
		const char *in;
		long long want;		// -1: refused
	} times[] = {
		{ "2026-01-02T03:04:05Z", 1767323045 },
		{ "2026-01-02t03:04:05z", 1767323045 },
		{ "2026-01-02T03:04:05.123456Z", 1767323045 },
		{ "2026-01-02T04:04:05+01:00", 1767323045 },
		{ "2026-01-02T02:04:05-01:00", 1767323045 },
		{ "2026-01-02 03:04:05Z", -1 },
		{ "2026-01-02T03:04:05", -1 },
		{ "2026-13-02T03:04:05Z", -1 },
		{ "2026-01-02T03:04:05.Z", -1 },
		{ "2026-01-02T03:04:05+0100", -1 },
		{ "2026-01-02T03:04:05Zjunk", -1 },
		{ "", -1 },
	};
	static const struct {
		const char *name, *out;
		const char *token;	// NULL: refused
		long long expiry;
	} outs[] = {
		{ "v1 with expiry", "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
		  "\"ExecCredential\",\"status\":{\"token\":\"abc\",\"expirationTimestamp\":"
		  "\"2026-01-02T03:04:05Z\"}}", "abc", 1767323045 },
		{ "no expiry", "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
		  "\"ExecCredential\",\"status\":{\"token\":\"t\"}}", "t", 0 },
		{ "another version than asked", "{\"apiVersion\":\"client.authentication.k8s.io/"
		  "v1beta1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}", NULL, 0 },
		{ "not an ExecCredential", "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"Secret\",\"status\":{\"token\":\"t\"}}", NULL, 0 },
		{ "a client certificate only", "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"x\","
		  "\"clientKeyData\":\"y\"}}", NULL, 0 },
		{ "a token with a line break", "{\"apiVersion\":\"client.authentication.k8s.io/v1\","
		  "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"a\\r\\nb\"}}", NULL, 0 },
		{ "a bad expiry", "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
		  "\"ExecCredential\",\"status\":{\"token\":\"t\",\"expirationTimestamp\":"
		  "\"tomorrow\"}}", NULL, 0 },
		{ "not JSON", "token: abc", NULL, 0 },
		{ "empty", "", NULL, 0 },
	};
	static const struct {
		const char *name, *yaml;
		bool ok;
	} cfgs[] = {
		{ "v1", "{apiVersion: client.authentication.k8s.io/v1, command: plugin, args: [a, b], "
		  "env: [{name: A, value: b}], provideClusterInfo: true}", true },
		{ "v1beta1", "{apiVersion: client.authentication.k8s.io/v1beta1, command: /bin/p}", true },
		{ "v1alpha1 (gone)", "{apiVersion: client.authentication.k8s.io/v1alpha1, command: p}",
		  false },
		{ "no command", "{apiVersion: client.authentication.k8s.io/v1}", false },
		{ "interactive Always", "{apiVersion: client.authentication.k8s.io/v1, command: p, "
		  "interactiveMode: Always}", false },
		{ "env without a value", "{apiVersion: client.authentication.k8s.io/v1, command: p, "
		  "env: [{name: A}]}", false },
		{ "args not a list", "{apiVersion: client.authentication.k8s.io/v1, command: p, "
		  "args: a}", false },
	};
	char token[64], err[256], dir[] = "/tmp/kube_exec_test.XXXXXX", path[512];
	int64_t t, exp;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		int r = kexec_time(times[i].in, &t);

		CHECK(times[i].want < 0 ? r < 0 : r == 0 && t == times[i].want, "time %s: %d %lld",
		      times[i].in, r, (long long)t);
	}
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		int r = kexec_parse(outs[i].out, strlen(outs[i].out), "client.authentication.k8s.io/v1",
				    token, sizeof(token), &exp, err, sizeof(err));

		CHECK(outs[i].token ? r == 0 && !strcmp(token, outs[i].token) && exp == outs[i].expiry
				    : r < 0 && err[0], "exec output %s: %d %s", outs[i].name, r, err);
	}
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		struct yaml_tree tr;
		struct yaml_error ye;
		struct kexec x;
		int r = -1;

		if (yaml_tree_parse(&tr, cfgs[i].yaml, strlen(cfgs[i].yaml), &ye) == 0)
			r = kexec_config(&x, tr.docs[0], "/etc/kube", "https://k:6443", "Q0E=", err,
					 sizeof(err));
		CHECK((r == 0) == cfgs[i].ok, "exec config %s: %d %s", cfgs[i].name, r, err);
		if (r == 0 && i == 0)
			CHECK(!strcmp(x.argv[0], "plugin") && !strcmp(x.argv[2], "b") && !x.argv[3] &&
			      !strcmp(x.env[0], "A=b") &&
			      strstr(x.exec_info, "\"cluster\":{\"server\":\"https://k:6443\""),
			      "exec config: argv, env and the cluster info: %s", x.exec_info);
		if (r == 0)
			kexec_free(&x);
		yaml_tree_free(&tr);
	}
	// a real plugin: run once, its token kept until it expires
	if (mkdtemp(dir)) {
		static const char plugin[] =
			"#!/bin/sh\n"
			"echo run >> \"$(dirname \"$0\")/runs\"\n"
			"case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 3;; esac\n"
			"printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
			"\"ExecCredential\",\"status\":{\"token\":\"%s\",\"expirationTimestamp\":"
			"\"2030-01-01T00:00:00Z\"}}' \"$1-$PLUGIN_ENV\"\n";
		static const char yaml[] = "{apiVersion: client.authentication.k8s.io/v1, "
					   "command: ./plugin.sh, args: [tok], "
					   "env: [{name: PLUGIN_ENV, value: x}]}";
		struct yaml_tree tr;
		struct yaml_error ye;
		struct kexec x;
		FILE *f;
		int r1 = -1, r2 = -1, r3 = -1;

		snprintf(path, sizeof(path), "%s/plugin.sh", dir);
		if ((f = fopen(path, "w"))) {
			fputs(plugin, f);
			fclose(f);
			chmod(path, 0755);
		}
		if (yaml_tree_parse(&tr, yaml, sizeof(yaml) - 1, &ye) == 0 &&
		    kexec_config(&x, tr.docs[0], dir, "https://k", NULL, err, sizeof(err)) == 0) {
			r1 = kexec_token(&x, 1767323045, token, sizeof(token), err, sizeof(err));
			CHECK(r1 == 0 && !strcmp(token, "tok-x"), "plugin: token %s (%s)", token, err);
			r2 = kexec_token(&x, 1767323046, token, sizeof(token), err, sizeof(err));
			CHECK(r2 == 0 && x.runs == 1, "plugin: the token is kept (%llu runs)",
			      (unsigned long long)x.runs);
			kexec_invalidate(&x);	// a 401
			r3 = kexec_token(&x, 1767323047, token, sizeof(token), err, sizeof(err));
			CHECK(r3 == 0 && x.runs == 2, "plugin: a 401 runs it again");
			r3 = kexec_token(&x, 1893456000, token, sizeof(token), err, sizeof(err));
			CHECK(r3 == 0 && x.runs == 3, "plugin: an expired token runs it again");
			kexec_free(&x);
			yaml_tree_free(&tr);
		} else {
			CHECK(false, "plugin config: %s", err);
		}
		// one that fails, one that is missing
		snprintf(path, sizeof(path), "{apiVersion: client.authentication.k8s.io/v1, "
			 "command: /bin/false}");
		if (yaml_tree_parse(&tr, path, strlen(path), &ye) == 0 &&
		    kexec_config(&x, tr.docs[0], dir, "", NULL, err, sizeof(err)) == 0) {
			CHECK(kexec_token(&x, 1, token, sizeof(token), err, sizeof(err)) < 0 &&
			      strstr(err, "exited with 1"), "a failing plugin: %s", err);
			kexec_free(&x);
		}
		yaml_tree_free(&tr);
		snprintf(path, sizeof(path), "{apiVersion: client.authentication.k8s.io/v1, "
			 "command: no-such-plugin-here}");
		if (yaml_tree_parse(&tr, path, strlen(path), &ye) == 0 &&
		    kexec_config(&x, tr.docs[0], dir, "", NULL, err, sizeof(err)) == 0) {
			CHECK(kexec_token(&x, 1, token, sizeof(token), err, sizeof(err)) < 0 && err[0],
			      "a missing plugin: %s", err);
			kexec_free(&x);
		}
		yaml_tree_free(&tr);
		snprintf(path, sizeof(path), "rm -rf %s", dir);
		if (system(path) != 0)
			printf("note: %s left\n", dir);
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
	test_exec();
	for (int i = 0; PODS[i]; i++)
		yaml_tree_free(&pod_trees[i]);
	printf("kube_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
