// SPDX-License-Identifier: Apache-2.0
// proxy_config_test: `meshgate proxy-config`'s mapping from the admin API's
// JSON (/config_dump, /listeners, /certs) to istioctl's tables, table-
// driven: each kind with and without its filters, the exact text, -o json
// (the objects behind the rows), and malformed answers (wrong shapes,
// types, ranges, unreadable PEM), each a clear error naming where.
#include "appliance/cli/proxy_config.c"

#include "config/json.h"

#include "tests/unit/check.h"

// A config dump as meshgate's /config_dump gives it, trimmed: every
// listener shape (plain HTTP, TCP, captured inbound PERMISSIVE, inbound
// ISTIO_MUTUAL, captured outbound TCP), a VirtualService's routes with
// prefix, exact, unenforced and no matches, a registry host, subsets.
static const char DUMP[] =
	"{\"version\":\"bb29480c70eb54d7\",\"generation\":1,"
	"\"outbound_traffic_policy\":\"REGISTRY_ONLY\",\"listeners\":["
	"{\"name\":\"outbound_http\",\"port\":28080,\"protocol\":\"http\",\"role\":\"outbound\","
	"\"tls\":{\"mode\":\"DISABLE\"}},"
	"{\"name\":\"tcp_out\",\"port\":28081,\"protocol\":\"tcp\",\"role\":\"outbound\","
	"\"cluster\":\"outbound|9080||reviews.example\",\"tls\":{\"mode\":\"DISABLE\"}},"
	"{\"name\":\"in_capture\",\"port\":15006,\"protocol\":\"http\",\"role\":\"inbound\","
	"\"original_dst\":true,\"cluster\":\"InboundPassthroughCluster\","
	"\"tls\":{\"mode\":\"PERMISSIVE\",\"peer_authentication\":\"default\"}},"
	"{\"name\":\"in_mtls\",\"port\":9080,\"protocol\":\"http\",\"role\":\"inbound\","
	"\"tls\":{\"mode\":\"ISTIO_MUTUAL\"}},"
	"{\"name\":\"out_capture\",\"port\":15001,\"protocol\":\"tcp\",\"role\":\"outbound\","
	"\"original_dst\":true,\"cluster\":\"InboundPassthroughCluster\",\"tls\":{\"mode\":\"DISABLE\"}}"
	"],\"virtual_hosts\":["
	"{\"name\":\"reviews.example\",\"virtual_service\":\"reviews.default\","
	"\"service\":\"reviews.example\",\"routes\":["
	"{\"name\":\"v2-route\",\"not_implemented\":null,\"timeout_ms\":-1,\"match\":["
	"{\"uri\":\"prefix\",\"value\":\"/v2\",\"enforced\":true},"
	"{\"uri\":\"exact\",\"value\":\"/exact\",\"enforced\":false}],"
	"\"route\":[{\"host\":\"reviews.example\",\"cluster\":\"outbound|9080|v2|reviews.example\","
	"\"weight\":100}]},"
	"{\"name\":\"\",\"not_implemented\":null,\"timeout_ms\":-1,\"match\":[],\"route\":[]}]},"
	"{\"name\":\"ratings.example\",\"virtual_service\":null,\"service\":\"ratings.example\","
	"\"routes\":[]}],"
	"\"clusters\":["
	"{\"name\":\"outbound|9080||reviews.example\",\"type\":\"EDS\",\"connect_timeout_ms\":10000,"
	"\"endpoints\":[{\"address\":\"127.0.0.2:9080\",\"weight\":1},"
	"{\"address\":\"127.0.0.1:9080\",\"weight\":1}]},"
	"{\"name\":\"outbound|9080|v2|reviews.example\",\"type\":\"EDS\",\"endpoints\":["
	"{\"address\":\"127.0.0.2:9080\",\"weight\":1,\"tls_mode\":\"istio\"}]},"
	"{\"name\":\"outbound|9080|v1|reviews.example\",\"type\":\"EDS\",\"endpoints\":["
	"{\"address\":\"127.0.0.1:9080\",\"weight\":1}]},"
	"{\"name\":\"outbound|80||ratings.example\",\"type\":\"EDS\",\"endpoints\":["
	"{\"address\":\"[::1]:8080\",\"weight\":1}]},"
	"{\"name\":\"inbound|8080||web.local\",\"type\":\"STATIC\",\"endpoints\":[]},"
	"{\"name\":\"PassthroughCluster\",\"type\":\"ORIGINAL_DST\"}],"
	"\"addresses\":[]}";

static const char BOUND[] =
	"{\"listeners\":[{\"name\":\"outbound_http\",\"address\":\"127.0.0.1\",\"port\":28080},"
	"{\"name\":\"tcp_out\",\"address\":\"127.0.0.1\",\"port\":28081},"
	"{\"name\":\"in_capture\",\"address\":\"0.0.0.0\",\"port\":15006},"
	"{\"name\":\"in_mtls\",\"address\":\"::1\",\"port\":9080},"
	"{\"name\":\"out_capture\",\"address\":\"0.0.0.0\",\"port\":15001}]}";

// Certificates with known serials and validity (made once with Python's
// cryptography): a leaf (serial fedcba9876543210, 2030-01-02T03:04:05Z to
// 2030-01-03T03:04:05Z, SPIFFE ID spiffe://cluster.local/ns/default/sa/
// meshgate), a root valid 2029-12-31 to 2039-12-31 (serial 75c7df9c759ea07f)
// and an expired one (2020 to 2021, serial 1).
static const char LEAF_PEM[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBUzCB+qADAgECAgkA/ty6mHZUMhAwCgYIKoZIzj0EAwIwDzENMAsGA1UECgwE\n"
	"bGVhZjAeFw0zMDAxMDIwMzA0MDVaFw0zMDAxMDMwMzA0MDVaMA8xDTALBgNVBAoM\n"
	"BGxlYWYwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATvaqVNo3OwmMJdxgnWrVDr\n"
	"pm9LW0UB6w88J8r9ZRaw2GmhGcvYJQNnlB8T5APwJJCOaEZolT99tY/eErsDBYlJ\n"
	"oz8wPTA7BgNVHREBAf8EMTAvhi1zcGlmZmU6Ly9jbHVzdGVyLmxvY2FsL25zL2Rl\n"
	"ZmF1bHQvc2EvbWVzaGdhdGUwCgYIKoZIzj0EAwIDSAAwRQIhAPtu9nIi/hTAPQWc\n"
	"A6C64U3RS+WHuPy6I4QH5PtBoc9PAiBc4ZRtI/E0VoFLUE9M/ipTO0vkOtF/ZPu3\n"
	"7B+4o306Ew==\n"
	"-----END CERTIFICATE-----\n";
static const char ROOT1_PEM[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBIjCByqADAgECAgh1x9+cdZ6gfzAKBggqhkjOPQQDAjAYMRYwFAYDVQQKDA1j\n"
	"bHVzdGVyLmxvY2FsMB4XDTI5MTIzMTAwMDAwMFoXDTM5MTIzMTAwMDAwMFowGDEW\n"
	"MBQGA1UECgwNY2x1c3Rlci5sb2NhbDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA\n"
	"BG8ceR2PQ8CWlhHTznndWl1FLvcdcGjIfSmClwRUBqLlq4t6ETcpH1UgxlVX2n3R\n"
	"pFGn4DOnqODKqRB5mmcpiAgwCgYIKoZIzj0EAwIDRwAwRAIgPlAyLkC90Q3vIQbE\n"
	"wAXfEHgBbZ90nnbWJzJrYvKAH1ACIAkU+VUwonldSMJSQrq8rIoAPT5vOXFPOri1\n"
	"QKnDwwVJ\n"
	"-----END CERTIFICATE-----\n";
static const char ROOT2_PEM[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBEjCBuaADAgECAgEBMAoGCCqGSM49BAMCMBMxETAPBgNVBAoMCG9sZC5yb290\n"
	"MB4XDTIwMDEwMTAwMDAwMFoXDTIxMDEwMTAwMDAwMFowEzERMA8GA1UECgwIb2xk\n"
	"LnJvb3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR9SVQ9qObf+McoNjJXAdpJ\n"
	"2DCx01CRQ6ZkXBhXTVhpACX8D/gxm02UPWAkbQfByu9+6ph4ij0s1VbRxnxw2WZB\n"
	"MAoGCCqGSM49BAMCA0gAMEUCIQD9jhYhn+EnpB6D0q+GsHCucF8uhKi9hU8+NAON\n"
	"S32pXgIgFCOS/IREUnFeNKnfTe9YYHxF9EH8K7pahLj2ONZuosY=\n"
	"-----END CERTIFICATE-----\n";

enum { NOW = 1893585600 };	// 2030-01-02T12:00:00Z: the leaf and root1 valid

// Placeholders in a /certs case, replaced by the PEM (JSON-escaped).
#define P_LEAF "@LEAF@"
#define P_ROOTS "@ROOTS@"
#define P_LEAF_ROOT "@LEAF_ROOT@"

struct pc_case {
	const char *name;
	int kind;
	const char *json;		// the answer (/certs with placeholders)
	const char *bound;		// /listeners' answer, or NULL
	struct pc_filter f;
	const char *want;		// the table; NULL: an error is wanted
	const char *want_err;		// the error's text (a part of it)
};

static const struct pc_case cases[] = {
	// ---- listeners ----
	{ "listeners: every shape, by port then address", PC_LISTENERS, DUMP, BOUND, { 0 },
	  "ADDRESSES PORT  MATCH             DESTINATION\n"
	  "::1       9080  Trans: tls        Route: in_mtls\n"
	  "0.0.0.0   15001 ALL               Cluster: by original destination, else BlackHoleCluster\n"
	  "0.0.0.0   15006 Trans: raw_buffer InboundPassthroughCluster\n"
	  "0.0.0.0   15006 Trans: tls        InboundPassthroughCluster\n"
	  "127.0.0.1 28080 ALL               Route: outbound_http\n"
	  "127.0.0.1 28081 ALL               Cluster: outbound|9080||reviews.example\n", NULL },
	{ "listeners --port", PC_LISTENERS, DUMP, BOUND, { .port = 28081 },
	  "ADDRESSES PORT  MATCH DESTINATION\n"
	  "127.0.0.1 28081 ALL   Cluster: outbound|9080||reviews.example\n", NULL },
	{ "listeners --address", PC_LISTENERS, DUMP, BOUND, { .address = "0.0.0.0" },
	  "ADDRESSES PORT  MATCH             DESTINATION\n"
	  "0.0.0.0   15001 ALL               Cluster: by original destination, else BlackHoleCluster\n"
	  "0.0.0.0   15006 Trans: raw_buffer InboundPassthroughCluster\n"
	  "0.0.0.0   15006 Trans: tls        InboundPassthroughCluster\n", NULL },
	{ "listeners: a filter that matches nothing gives the header", PC_LISTENERS, DUMP, BOUND,
	  { .port = 1 }, "ADDRESSES PORT MATCH DESTINATION\n", NULL },
	{ "listeners without /listeners (an older meshgate): addresses -", PC_LISTENERS,
	  "{\"listeners\":[{\"name\":\"a\",\"port\":80,\"protocol\":\"http\"}]}", NULL, { 0 },
	  "ADDRESSES PORT MATCH DESTINATION\n"
	  "-         80   ALL   Route: a\n", NULL },
	{ "listeners: ALLOW_ANY captured outbound", PC_LISTENERS,
	  "{\"outbound_traffic_policy\":\"ALLOW_ANY\",\"listeners\":[{\"name\":\"o\",\"port\":15001,"
	  "\"protocol\":\"tcp\",\"role\":\"outbound\",\"original_dst\":true}]}", NULL, { 0 },
	  "ADDRESSES PORT  MATCH DESTINATION\n"
	  "-         15001 ALL   Cluster: by original destination, else PassthroughCluster\n", NULL },
	{ "listeners: empty", PC_LISTENERS, "{\"listeners\":[]}", "{\"listeners\":[]}", { 0 },
	  "ADDRESSES PORT MATCH DESTINATION\n", NULL },
	// ---- routes ----
	{ "routes: one table per HTTP listener but the captured inbound", PC_ROUTES, DUMP, NULL,
	  { 0 },
	  "NAME              VHOST NAME          DOMAINS             MATCH                                   VIRTUAL SERVICE\n"
	  "outbound_http     reviews.example     reviews.example     /v2*                                    reviews.default\n"
	  "outbound_http     reviews.example     reviews.example     /exact (unsupported: never matches)     reviews.default\n"
	  "outbound_http     reviews.example     reviews.example     /*                                      reviews.default\n"
	  "outbound_http     ratings.example     ratings.example     /*\n"
	  "in_mtls           reviews.example     reviews.example     /v2*                                    reviews.default\n"
	  "in_mtls           reviews.example     reviews.example     /exact (unsupported: never matches)     reviews.default\n"
	  "in_mtls           reviews.example     reviews.example     /*                                      reviews.default\n"
	  "in_mtls           ratings.example     ratings.example     /*\n", NULL },
	{ "routes --name", PC_ROUTES, DUMP, NULL, { .name = "in_mtls" },
	  "NAME        VHOST NAME          DOMAINS             MATCH                                   VIRTUAL SERVICE\n"
	  "in_mtls     reviews.example     reviews.example     /v2*                                    reviews.default\n"
	  "in_mtls     reviews.example     reviews.example     /exact (unsupported: never matches)     reviews.default\n"
	  "in_mtls     reviews.example     reviews.example     /*                                      reviews.default\n"
	  "in_mtls     ratings.example     ratings.example     /*\n", NULL },
	{ "routes --name of a TCP listener: none", PC_ROUTES, DUMP, NULL, { .name = "tcp_out" },
	  "NAME     VHOST NAME     DOMAINS     MATCH     VIRTUAL SERVICE\n", NULL },
	// ---- clusters ----
	{ "clusters: by host, subset, port; other names as they are", PC_CLUSTERS, DUMP, NULL,
	  { 0 },
	  "SERVICE FQDN           PORT     SUBSET     DIRECTION     TYPE             DESTINATION RULE\n"
	  "PassthroughCluster     -        -          -             ORIGINAL_DST\n"
	  "ratings.example        80       -          outbound      EDS\n"
	  "reviews.example        9080     -          outbound      EDS\n"
	  "reviews.example        9080     v1         outbound      EDS\n"
	  "reviews.example        9080     v2         outbound      EDS\n"
	  "web.local              8080     -          inbound       STATIC\n", NULL },
	{ "clusters --fqdn is a part of the host, as istioctl's", PC_CLUSTERS, DUMP, NULL,
	  { .fqdn = "reviews" },
	  "SERVICE FQDN        PORT     SUBSET     DIRECTION     TYPE     DESTINATION RULE\n"
	  "reviews.example     9080     -          outbound      EDS\n"
	  "reviews.example     9080     v1         outbound      EDS\n"
	  "reviews.example     9080     v2         outbound      EDS\n", NULL },
	{ "clusters --fqdn --port --subset --direction", PC_CLUSTERS, DUMP, NULL,
	  { .fqdn = "reviews.example", .port = 9080, .subset = "v2", .direction = "outbound" },
	  "SERVICE FQDN        PORT     SUBSET     DIRECTION     TYPE     DESTINATION RULE\n"
	  "reviews.example     9080     v2         outbound      EDS\n", NULL },
	{ "clusters --direction inbound", PC_CLUSTERS, DUMP, NULL, { .direction = "inbound" },
	  "SERVICE FQDN     PORT     SUBSET     DIRECTION     TYPE       DESTINATION RULE\n"
	  "web.local        8080     -          inbound       STATIC\n", NULL },
	{ "clusters --port 80", PC_CLUSTERS, DUMP, NULL, { .port = 80 },
	  "SERVICE FQDN        PORT     SUBSET     DIRECTION     TYPE     DESTINATION RULE\n"
	  "ratings.example     80       -          outbound      EDS\n", NULL },
	{ "clusters: the DESTINATION RULE column once the dump names rules", PC_CLUSTERS,
	  "{\"clusters\":[{\"name\":\"outbound|80|v1|a.b\",\"type\":\"EDS\",\"destination_rule\":"
	  "\"a.default\"},{\"name\":\"outbound|80||a.b\",\"type\":\"EDS\"}]}", NULL, { 0 },
	  "SERVICE FQDN     PORT     SUBSET     DIRECTION     TYPE     DESTINATION RULE\n"
	  "a.b              80       -          outbound      EDS\n"
	  "a.b              80       v1         outbound      EDS      a.default\n", NULL },
	{ "clusters: names that only look like Istio's", PC_CLUSTERS,
	  "{\"clusters\":[{\"name\":\"outbound|x||a\"},{\"name\":\"a|1|b|c|d\"},"
	  "{\"name\":\"outbound||v1|a\"}]}", NULL, { 0 },
	  "SERVICE FQDN       PORT     SUBSET     DIRECTION     TYPE     DESTINATION RULE\n"
	  "a|1|b|c|d          -        -          -             -\n"
	  "outbound|x||a      -        -          -             -\n"
	  "outbound||v1|a     -        -          -             -\n", NULL },
	// ---- endpoints ----
	{ "endpoints: by address, port, cluster", PC_ENDPOINTS, DUMP, NULL, { 0 },
	  "ENDPOINT           STATUS      OUTLIER CHECK     CLUSTER\n"
	  "127.0.0.1:9080     HEALTHY     OK                outbound|9080|v1|reviews.example\n"
	  "127.0.0.1:9080     HEALTHY     OK                outbound|9080||reviews.example\n"
	  "127.0.0.2:9080     HEALTHY     OK                outbound|9080|v2|reviews.example\n"
	  "127.0.0.2:9080     HEALTHY     OK                outbound|9080||reviews.example\n"
	  "[::1]:8080         HEALTHY     OK                outbound|80||ratings.example\n", NULL },
	{ "endpoints --cluster", PC_ENDPOINTS, DUMP, NULL,
	  { .cluster = "outbound|9080||reviews.example" },
	  "ENDPOINT           STATUS      OUTLIER CHECK     CLUSTER\n"
	  "127.0.0.1:9080     HEALTHY     OK                outbound|9080||reviews.example\n"
	  "127.0.0.2:9080     HEALTHY     OK                outbound|9080||reviews.example\n", NULL },
	{ "endpoints --address --port", PC_ENDPOINTS, DUMP, NULL,
	  { .address = "127.0.0.2", .port = 9080 },
	  "ENDPOINT           STATUS      OUTLIER CHECK     CLUSTER\n"
	  "127.0.0.2:9080     HEALTHY     OK                outbound|9080|v2|reviews.example\n"
	  "127.0.0.2:9080     HEALTHY     OK                outbound|9080||reviews.example\n", NULL },
	{ "endpoints --address of an IPv6 endpoint", PC_ENDPOINTS, DUMP, NULL,
	  { .address = "::1" },
	  "ENDPOINT       STATUS      OUTLIER CHECK     CLUSTER\n"
	  "[::1]:8080     HEALTHY     OK                outbound|80||ratings.example\n", NULL },
	{ "endpoints --port that no endpoint has", PC_ENDPOINTS, DUMP, NULL, { .port = 1 },
	  "ENDPOINT     STATUS     OUTLIER CHECK     CLUSTER\n", NULL },
	// ---- secrets ----
	{ "secrets: the chain by its leaf, the bundle by each root", PC_SECRETS,
	  "{\"certificates\":[{\"name\":\"default\",\"type\":\"Cert Chain\",\"spiffe\":"
	  "\"spiffe://cluster.local/ns/default/sa/meshgate\",\"pem\":" P_LEAF_ROOT "},"
	  "{\"name\":\"ROOTCA\",\"type\":\"CA\",\"pem\":" P_ROOTS "}]}", NULL, { 0 },
	  "RESOURCE NAME     TYPE           STATUS     VALID CERT     SERIAL NUMBER        NOT AFTER                NOT BEFORE\n"
	  "default           Cert Chain     ACTIVE     true           fedcba9876543210     2030-01-03T03:04:05Z     2030-01-02T03:04:05Z\n"
	  "ROOTCA            CA             ACTIVE     true           75c7df9c759ea07f     2039-12-31T00:00:00Z     2029-12-31T00:00:00Z\n"
	  "ROOTCA            CA             ACTIVE     false          1                    2021-01-01T00:00:00Z     2020-01-01T00:00:00Z\n",
	  NULL },
	{ "secrets: a certificate without PEM is warming", PC_SECRETS,
	  "{\"certificates\":[{\"name\":\"default\",\"type\":\"Cert Chain\",\"pem\":null}]}", NULL,
	  { 0 },
	  "RESOURCE NAME     TYPE           STATUS      VALID CERT     SERIAL NUMBER     NOT AFTER     NOT BEFORE\n"
	  "default           Cert Chain     WARMING     false\n", NULL },
	{ "secrets: none", PC_SECRETS, "{\"certificates\":[]}", NULL, { 0 },
	  "RESOURCE NAME     TYPE     STATUS     VALID CERT     SERIAL NUMBER     NOT AFTER     NOT BEFORE\n",
	  NULL },

	// ---- malformed answers: clear errors, never a crash ----
	{ "the answer is an array", PC_CLUSTERS, "[1,2]", NULL, { 0 }, NULL,
	  "/config_dump: want an object" },
	{ "the answer is a string", PC_LISTENERS, "\"x\"", NULL, { 0 }, NULL,
	  "/config_dump: want an object" },
	{ "no listeners", PC_LISTENERS, "{}", NULL, { 0 }, NULL, "/config_dump.listeners: missing" },
	{ "listeners: null", PC_LISTENERS, "{\"listeners\":null}", NULL, { 0 }, NULL,
	  "/config_dump.listeners: missing" },
	{ "listeners is an object", PC_LISTENERS, "{\"listeners\":{}}", NULL, { 0 }, NULL,
	  "/config_dump.listeners: want an array" },
	{ "a listener is a number", PC_LISTENERS, "{\"listeners\":[1]}", NULL, { 0 }, NULL,
	  "/config_dump: listeners[0]: want an object" },
	{ "a listener without a name", PC_LISTENERS,
	  "{\"listeners\":[{\"name\":\"a\",\"port\":1},{\"port\":80}]}", NULL, { 0 }, NULL,
	  "/config_dump: listeners[1].name: missing" },
	{ "a port as a string", PC_LISTENERS, "{\"listeners\":[{\"name\":\"a\",\"port\":\"80\"}]}",
	  NULL, { 0 }, NULL, "/config_dump: listeners[0].port: want an integer 0..65535" },
	{ "a port out of range", PC_LISTENERS, "{\"listeners\":[{\"name\":\"a\",\"port\":65536}]}",
	  NULL, { 0 }, NULL, "listeners[0].port: want an integer 0..65535" },
	{ "a negative port", PC_LISTENERS, "{\"listeners\":[{\"name\":\"a\",\"port\":-1}]}", NULL,
	  { 0 }, NULL, "listeners[0].port: want an integer" },
	{ "a fractional port", PC_LISTENERS, "{\"listeners\":[{\"name\":\"a\",\"port\":80.5}]}",
	  NULL, { 0 }, NULL, "listeners[0].port: want an integer" },
	{ "a huge port", PC_LISTENERS,
	  "{\"listeners\":[{\"name\":\"a\",\"port\":99999999999999999999999}]}", NULL, { 0 }, NULL,
	  "listeners[0].port: want an integer" },
	{ "tls is a string", PC_LISTENERS,
	  "{\"listeners\":[{\"name\":\"a\",\"port\":1,\"tls\":\"DISABLE\"}]}", NULL, { 0 }, NULL,
	  "/config_dump: listeners[0].tls: want an object" },
	{ "original_dst is a string", PC_LISTENERS,
	  "{\"listeners\":[{\"name\":\"a\",\"port\":1,\"original_dst\":\"yes\"}]}", NULL, { 0 },
	  NULL, "listeners[0].original_dst: want true or false" },
	{ "/listeners with a nameless entry", PC_LISTENERS,
	  "{\"listeners\":[{\"name\":\"a\",\"port\":1}]}", "{\"listeners\":[{\"address\":\"x\"}]}",
	  { 0 }, NULL, "/listeners: listeners[0].name: missing" },
	{ "/listeners is an array", PC_LISTENERS, "{\"listeners\":[]}", "[]", { 0 }, NULL,
	  "/listeners: want an object" },
	{ "no virtual hosts", PC_ROUTES, "{\"listeners\":[]}", NULL, { 0 }, NULL,
	  "/config_dump.virtual_hosts: missing" },
	{ "a nameless virtual host", PC_ROUTES,
	  "{\"listeners\":[{\"name\":\"l\",\"port\":1}],\"virtual_hosts\":[{\"routes\":[]}]}", NULL,
	  { 0 }, NULL, "/config_dump: virtual_hosts[0].name: missing" },
	{ "a virtual host that is not an object", PC_ROUTES,
	  "{\"listeners\":[{\"name\":\"l\",\"port\":1}],\"virtual_hosts\":[[]]}", NULL, { 0 }, NULL,
	  "/config_dump: virtual_hosts[0]: want an object" },
	{ "routes is an object", PC_ROUTES,
	  "{\"listeners\":[{\"name\":\"l\",\"port\":1}],\"virtual_hosts\":[{\"name\":\"h\","
	  "\"routes\":{}}]}", NULL, { 0 }, NULL, "virtual_hosts[0].routes: want an array" },
	{ "a match kind meshgate does not write", PC_ROUTES,
	  "{\"listeners\":[{\"name\":\"l\",\"port\":1}],\"virtual_hosts\":[{\"name\":\"h\","
	  "\"routes\":[{\"match\":[{\"uri\":\"regex\",\"value\":\".*\"}]}]}]}", NULL, { 0 }, NULL,
	  "virtual_hosts[0].routes[0].match[0].uri: unknown kind \"regex\"" },
	{ "a match without its kind", PC_ROUTES,
	  "{\"listeners\":[{\"name\":\"l\",\"port\":1}],\"virtual_hosts\":[{\"name\":\"h\","
	  "\"routes\":[{\"match\":[{\"value\":\"/\"}]}]}]}", NULL, { 0 }, NULL,
	  "virtual_hosts[0].routes[0].match[0].uri: missing" },
	{ "a virtual service name that is a number", PC_ROUTES,
	  "{\"listeners\":[{\"name\":\"l\",\"port\":1}],\"virtual_hosts\":[{\"name\":\"h\","
	  "\"virtual_service\":7}]}", NULL, { 0 }, NULL,
	  "virtual_hosts[0].virtual_service: want a string" },
	{ "no clusters", PC_CLUSTERS, "{\"listeners\":[]}", NULL, { 0 }, NULL,
	  "/config_dump.clusters: missing" },
	{ "a nameless cluster", PC_CLUSTERS, "{\"clusters\":[{\"type\":\"EDS\"}]}", NULL, { 0 },
	  NULL, "/config_dump: clusters[0].name: missing" },
	{ "a cluster name that is an array", PC_ENDPOINTS, "{\"clusters\":[{\"name\":[]}]}", NULL,
	  { 0 }, NULL, "/config_dump: clusters[0].name: want a string" },
	{ "endpoints is a string", PC_ENDPOINTS,
	  "{\"clusters\":[{\"name\":\"c\",\"endpoints\":\"1.2.3.4:80\"}]}", NULL, { 0 }, NULL,
	  "clusters[0].endpoints: want an array" },
	{ "an endpoint without an address", PC_ENDPOINTS,
	  "{\"clusters\":[{\"name\":\"c\",\"endpoints\":[{\"weight\":1}]}]}", NULL, { 0 }, NULL,
	  "/config_dump: clusters[0].endpoints[0].address: missing" },
	{ "no certificates", PC_SECRETS, "{}", NULL, { 0 }, NULL, "/certs.certificates: missing" },
	{ "a certificate without a type", PC_SECRETS,
	  "{\"certificates\":[{\"name\":\"default\"}]}", NULL, { 0 }, NULL,
	  "/certs: certificates[0].type: missing" },
	{ "PEM that is not PEM", PC_SECRETS,
	  "{\"certificates\":[{\"name\":\"d\",\"type\":\"CA\",\"pem\":\"garbage\"}]}", NULL, { 0 },
	  NULL, "/certs: certificates[0].pem: no readable PEM certificate" },
	{ "PEM cut short", PC_SECRETS,
	  "{\"certificates\":[{\"name\":\"d\",\"type\":\"CA\",\"pem\":"
	  "\"-----BEGIN CERTIFICATE-----\\nMIIBEjCBuaADAgECAgEBMAoGCCqGSM49\\n\"}]}", NULL, { 0 },
	  NULL, "/certs: certificates[0].pem: no readable PEM certificate" },
	{ "PEM whose base64 is not a certificate", PC_SECRETS,
	  "{\"certificates\":[{\"name\":\"d\",\"type\":\"CA\",\"pem\":"
	  "\"-----BEGIN CERTIFICATE-----\\naGVsbG8=\\n-----END CERTIFICATE-----\\n\"}]}", NULL,
	  { 0 }, NULL, "/certs: certificates[0].pem: no readable PEM certificate" },
};

// expand replaces the PEM placeholders with JSON strings.
static void expand(const char *in, struct buf *out)
{
	struct buf pem;

	buf_init(&pem);
	while (*in) {
		const char *p = strchr(in, '@');

		if (!p) {
			buf_appends(out, in);
			break;
		}
		buf_append(out, in, (size_t)(p - in));
		pem.len = pem.off = 0;
		if (!strncmp(p, P_LEAF_ROOT, strlen(P_LEAF_ROOT))) {
			buf_appends(&pem, LEAF_PEM);
			buf_appends(&pem, ROOT1_PEM);
			in = p + strlen(P_LEAF_ROOT);
		} else if (!strncmp(p, P_LEAF, strlen(P_LEAF))) {
			buf_appends(&pem, LEAF_PEM);
			in = p + strlen(P_LEAF);
		} else if (!strncmp(p, P_ROOTS, strlen(P_ROOTS))) {
			buf_appends(&pem, ROOT1_PEM);
			buf_appends(&pem, ROOT2_PEM);
			in = p + strlen(P_ROOTS);
		} else {
			buf_append(out, "@", 1);
			in = p + 1;
			continue;
		}
		json_append_str(out, pem.data, pem.len);
	}
	buf_cleanup(&pem);
}

static int parse(const char *s, struct yaml_tree *t)
{
	struct yaml_error je;
	struct buf b;
	int rc;

	buf_init(&b);
	expand(s, &b);
	rc = json_tree_parse(t, b.data ? b.data : "", b.len, &je);
	if (rc < 0)
		printf("FAIL: a test input is not JSON (line %d: %s): %s\n", je.line, je.msg, s);
	buf_cleanup(&b);
	return rc;
}

// run builds and renders kind as the command does.
static int run(const struct pc_case *c, bool json, struct buf *out, char *err, size_t err_len,
	       struct yaml_tree *keep)
{
	struct yaml_tree bound = { 0 };
	struct table t;
	int rc;

	memset(keep, 0, sizeof(*keep));
	if (parse(c->json, keep) < 0 || (c->bound && parse(c->bound, &bound) < 0)) {
		yaml_tree_free(&bound);
		return -1000;
	}
	rc = pc_build(c->kind, keep->docs[0], c->bound ? bound.docs[0] : NULL, &c->f, NOW, &t,
		      err, err_len);
	if (rc == 0)
		rc = pc_render(c->kind, &t, keep->docs[0], json, out);
	table_cleanup(&t);
	yaml_tree_free(&bound);
	return rc;
}

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pc_case *c = &cases[i];
		struct yaml_tree keep;
		struct buf out;
		char err[512] = "";
		int rc;

		buf_init(&out);
		rc = run(c, false, &out, err, sizeof(err), &keep);
		if (c->want) {
			CHECK(rc == 0, "%s: rc %d (%s)", c->name, rc, err);
			CHECK(out.len == strlen(c->want) && !memcmp(out.data, c->want, out.len),
			      "%s: got\n%.*s\nwant\n%s", c->name, (int)out.len,
			      out.data ? out.data : "", c->want);
		} else {
			CHECK(rc == -EBADMSG, "%s: rc %d (%s)", c->name, rc, err);
			CHECK(strstr(err, c->want_err), "%s: err \"%s\", want \"%s\"", c->name, err,
			      c->want_err);
		}
		buf_cleanup(&out);
		yaml_tree_free(&keep);
		// -o json: well-formed JSON whenever the table is, and an error
		// whenever it is not
		buf_init(&out);
		rc = run(c, true, &out, err, sizeof(err), &keep);
		CHECK(c->want ? rc == 0 : rc == -EBADMSG, "%s: -o json rc %d", c->name, rc);
		if (rc == 0) {
			struct yaml_tree back;
			struct yaml_error je;

			CHECK(json_tree_parse(&back, out.data, out.len, &je) == 0 &&
			      back.docs[0]->type == YN_SEQ, "%s: -o json is a JSON array (%s):\n%.*s",
			      c->name, je.msg, (int)out.len, out.data);
			yaml_tree_free(&back);
		}
		buf_cleanup(&out);
		yaml_tree_free(&keep);
	}
}

// json_of renders -o json for a case and parses it back.
static const struct ynode *json_of(const struct pc_case *c, struct yaml_tree *back)
{
	struct yaml_tree keep;
	struct yaml_error je;
	struct buf out;
	char err[256];
	const struct ynode *r = NULL;

	buf_init(&out);
	memset(back, 0, sizeof(*back));
	if (run(c, true, &out, err, sizeof(err), &keep) == 0 &&
	    json_tree_parse(back, out.data, out.len, &je) == 0)
		r = back->docs[0];
	buf_cleanup(&out);
	yaml_tree_free(&keep);
	return r;
}

static const char *str_at(const struct ynode *obj, const char *key)
{
	const struct ynode *v = yaml_tree_map_get(obj, key);

	return v && v->type == YN_SCALAR ? v->str : "";
}

static void test_json(void)
{
	struct pc_case c = { "json", PC_LISTENERS, DUMP, BOUND, { .address = "0.0.0.0" }, "", NULL };
	struct yaml_tree back;
	const struct ynode *r;

	// listeners: the dump's objects, bound address first, one per
	// listener even when a listener has two rows
	r = json_of(&c, &back);
	CHECK(r && r->len == 2, "listeners --address: %zu objects", r ? r->len : 0);
	if (r && r->len == 2) {
		CHECK(!strcmp(r->items[0]->pairs[0].key->str, "address") &&
		      !strcmp(str_at(r->items[0], "address"), "0.0.0.0") &&
		      !strcmp(str_at(r->items[0], "name"), "in_capture") &&
		      !strcmp(str_at(r->items[1], "name"), "out_capture"),
		      "listeners: in the dump's order with their address");
		CHECK(yaml_tree_map_get(yaml_tree_map_get(r->items[0], "tls"), "peer_authentication"),
		      "listeners: the dump's fields kept");
	}
	yaml_tree_free(&back);

	// routes: a route configuration per listener, the virtual hosts once
	c.kind = PC_ROUTES;
	c.f = (struct pc_filter){ 0 };
	r = json_of(&c, &back);
	CHECK(r && r->len == 2 && !strcmp(str_at(r->items[0], "name"), "outbound_http") &&
	      !strcmp(str_at(r->items[1], "name"), "in_mtls"), "routes: one per HTTP listener");
	if (r && r->len == 2) {
		const struct ynode *v = yaml_tree_map_get(r->items[1], "virtual_hosts");

		CHECK(v && v->len == 2 && !strcmp(str_at(v->items[0], "name"), "reviews.example") &&
		      yaml_tree_map_get(v->items[0], "routes")->len == 2,
		      "routes: each virtual host once, whole");
	}
	yaml_tree_free(&back);

	// endpoints: the clusters holding the endpoints shown
	c.kind = PC_ENDPOINTS;
	c.f = (struct pc_filter){ .address = "127.0.0.2" };
	r = json_of(&c, &back);
	CHECK(r && r->len == 2 && !strcmp(str_at(r->items[0], "name"),
					  "outbound|9080||reviews.example") &&
	      !strcmp(str_at(r->items[1], "name"), "outbound|9080|v2|reviews.example"),
	      "endpoints: their clusters, in the dump's order");
	yaml_tree_free(&back);

	// clusters: filtered
	c.kind = PC_CLUSTERS;
	c.f = (struct pc_filter){ .subset = "v1" };
	r = json_of(&c, &back);
	CHECK(r && r->len == 1 && !strcmp(str_at(r->items[0], "name"),
					  "outbound|9080|v1|reviews.example"), "clusters --subset");
	yaml_tree_free(&back);

	// nothing shown: an empty array
	c.f = (struct pc_filter){ .subset = "none" };
	r = json_of(&c, &back);
	CHECK(r && r->type == YN_SEQ && r->len == 0, "no rows: []");
	yaml_tree_free(&back);

	// secrets: the /certs objects, PEM included
	c = (struct pc_case){ "secrets", PC_SECRETS,
			      "{\"certificates\":[{\"name\":\"ROOTCA\",\"type\":\"CA\",\"pem\":"
			      P_ROOTS "}]}", NULL, { 0 }, "", NULL };
	r = json_of(&c, &back);
	CHECK(r && r->len == 1 && strstr(str_at(r->items[0], "pem"), "BEGIN CERTIFICATE"),
	      "secrets: one object for a bundle of two roots, with its PEM");
	yaml_tree_free(&back);
}

static void test_exact_json(void)
{
	struct pc_case c = { "exact", PC_LISTENERS,
			     "{\"listeners\":[{\"name\":\"a\",\"port\":80,\"tls\":{}},"
			     "{\"name\":\"b\",\"port\":81}]}",
			     "{\"listeners\":[{\"name\":\"a\",\"address\":\"::1\",\"port\":80}]}",
			     { .port = 80 }, "", NULL };
	static const char want[] = "[\n    {\n        \"address\": \"::1\",\n"
				   "        \"name\": \"a\",\n        \"port\": 80,\n"
				   "        \"tls\": {}\n    }\n]\n";
	struct yaml_tree keep;
	struct buf out;
	char err[128];

	buf_init(&out);
	CHECK(run(&c, true, &out, err, sizeof(err), &keep) == 0, "run");
	CHECK(out.len == sizeof(want) - 1 && !memcmp(out.data, want, out.len),
	      "listeners -o json, exactly:\n%.*s", (int)out.len, out.data);
	buf_cleanup(&out);
	yaml_tree_free(&keep);
}

static void test_helpers(void)
{
	char host[64], dir[16], subset[256], fqdn[512];
	uint32_t port;

	split_hostport("10.0.0.1:8080", host, sizeof(host), &port);
	CHECK(!strcmp(host, "10.0.0.1") && port == 8080, "v4: %s %u", host, port);
	split_hostport("[fd00::1]:443", host, sizeof(host), &port);
	CHECK(!strcmp(host, "fd00::1") && port == 443, "v6: %s %u", host, port);
	split_hostport("fd00::1", host, sizeof(host), &port);
	CHECK(!strcmp(host, "fd00::1") && port == 0, "bare v6: %s %u", host, port);
	split_hostport("[fd00::1", host, sizeof(host), &port);
	CHECK(!strcmp(host, "fd00::1") && port == 0, "unclosed bracket: %s %u", host, port);
	split_hostport("unix", host, sizeof(host), &port);
	CHECK(!strcmp(host, "unix") && port == 0, "no port");
	CHECK(parse_cluster_name("outbound|9080|v1|r.example", dir, &port, subset, fqdn) == 0 &&
	      !strcmp(dir, "outbound") && port == 9080 && !strcmp(subset, "v1") &&
	      !strcmp(fqdn, "r.example"), "cluster name");
	CHECK(parse_cluster_name("outbound|65536||a", dir, &port, subset, fqdn) < 0, "port > 65535");
	CHECK(parse_cluster_name("outbound|-1||a", dir, &port, subset, fqdn) < 0, "port < 0");
	CHECK(parse_cluster_name("BlackHoleCluster", dir, &port, subset, fqdn) < 0, "a name");
	CHECK(parse_kind("ep") == PC_ENDPOINTS && parse_kind("secret") == PC_SECRETS &&
	      parse_kind("clusterz") < 0, "kinds and aliases");
}

// walk calls fn on every array and object of the tree under n.
static void walk(const struct ynode *n, void (*fn)(const struct ynode *, void *), void *arg)
{
	if (!n || n->type == YN_SCALAR)
		return;
	fn(n, arg);
	for (size_t i = 0; i < n->len; i++)
		walk(n->type == YN_SEQ ? n->items[i] : n->pairs[i].value, fn, arg);
}

struct confusion {
	const struct ynode *bound;
	int runs, bad;
};

static void try_root(const struct ynode *root, void *arg)
{
	struct confusion *cf = arg;

	for (int kind = PC_LISTENERS; kind <= PC_SECRETS; kind++) {
		for (int json = 0; json < 2; json++) {
			struct table t;
			struct buf out;
			char err[512] = "";
			int rc;

			buf_init(&out);
			rc = pc_build(kind, root, kind == PC_LISTENERS ? cf->bound : NULL,
				      &(struct pc_filter){ 0 }, NOW, &t, err, sizeof(err));
			if (rc == 0)
				rc = pc_render(kind, &t, root, json, &out);
			cf->runs++;
			if (rc != 0 && (rc != -EBADMSG || !err[0])) {
				cf->bad++;
				printf("FAIL kind %d on a node at line %d: rc %d\n", kind, root->line, rc);
			}
			table_cleanup(&t);
			buf_cleanup(&out);
		}
	}
}

static void try_bound(const struct ynode *bound, void *arg)
{
	struct confusion *cf = arg, sub = { bound, 0, 0 };
	const struct ynode *dump = cf->bound;	// here: the dump

	try_root(dump, &sub);
	cf->runs += sub.runs;
	cf->bad += sub.bad;
}

// test_confusion gives every array and object of the sample answers to
// every kind as its answer (and, for listeners, as /listeners' answer):
// type confusion anywhere must give a table or a clear error.
static void test_confusion(void)
{
	struct yaml_tree dump, certs;
	struct confusion cf = { 0 };
	struct pc_case c = { "certs", PC_SECRETS,
			     "{\"certificates\":[{\"name\":\"default\",\"type\":\"Cert Chain\","
			     "\"pem\":" P_LEAF_ROOT "},{\"name\":\"R\",\"type\":\"CA\",\"pem\":"
			     P_ROOTS "}]}", NULL, { 0 }, "", NULL };

	if (parse(DUMP, &dump) < 0 || parse(c.json, &certs) < 0)
		return;
	walk(dump.docs[0], try_root, &cf);
	walk(certs.docs[0], try_root, &cf);
	cf.bound = dump.docs[0];
	walk(dump.docs[0], try_bound, &cf);
	CHECK(cf.runs > 500 && cf.bad == 0, "type confusion: %d runs, %d without a clear answer",
	      cf.runs, cf.bad);
	yaml_tree_free(&dump);
	yaml_tree_free(&certs);
}

int main(void)
{
	test_cases();
	test_confusion();
	test_json();
	test_exact_json();
	test_helpers();
	printf("proxy_config_test: %zu table cases; %d checks, %d failed\n",
	       sizeof(cases) / sizeof(cases[0]), checks, failures);
	return failures ? 1 : 0;
}
