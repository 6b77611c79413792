// SPDX-License-Identifier: Apache-2.0
// bootstrap_test: defaults, every key, listeners replacing the default, and
// files that must be refused with "path:line: what" leaving *b untouched.
#include "config/bootstrap.h"
#include "config/mesh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/check.h"

static char dir[PATH_MAX];

static const char *write_ini(const char *name, const char *text)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(1);
	}
	fwrite(text, 1, strlen(text), f);
	fclose(f);
	return path;
}

// ---- files that must be refused ----

struct bad_case {
	const char *name;
	const char *ini;
	int line;		// expected "path:line:"
	const char *msg;	// substring after it
};

static const struct bad_case bad_cases[] = {
	{ "unknown section", "[appliance]\nname = a\n[bogus]\nx = 1\n", 3, "unknown section [bogus]" },
	{ "unknown empty section", "[bogus]\n", 1, "unknown section [bogus]" },
	{ "unknown key", "[admin]\nport = 15000\nprot = 1\n", 3, "unknown key \"prot\" in [admin]" },
	{ "case matters", "[appliance]\nWorkers = 2\n", 2, "unknown key \"Workers\"" },
	{ "key before section", "name = x\n[appliance]\n", 1, "outside of any [section]" },
	{ "duplicate key", "[admin]\nport = 1\n\n port = 2\n", 4, "duplicate key \"port\" (first at line 2)" },
	{ "duplicate section", "[mesh]\n[admin]\n[mesh]\n", 3, "section [mesh] already given at line 1" },
	{ "text after header", "[admin] x\n", 1, "text after the section header" },
	{ "syntax", "[admin]\nport 15000\n", 2, "syntax error" },
	{ "unclosed header", "[admin\nport = 1\n", 1, "syntax error" },
	{ "port 0", "[admin]\nport = 0\n", 2, "port: 0 is out of range (1..65535)" },
	{ "port 65536", "[admin]\nhealth_port = 65536\n", 2, "out of range" },
	{ "port huge", "[admin]\nprometheus_port = 99999999999999999999999\n", 2, "out of range" },
	{ "port sign", "[admin]\nport = +80\n", 2, "not a decimal number" },
	{ "port text", "[admin]\nport = 80x\n", 2, "not a decimal number" },
	{ "port empty", "[admin]\nport =\n", 2, "not a decimal number" },
	{ "workers 0", "[appliance]\nworkers = 0\n", 2, "out of range (1..256)" },
	{ "workers 257", "[appliance]\nworkers = 257\n", 2, "out of range (1..256)" },
	{ "workers word", "[appliance]\nworkers = many\n", 2, "neither auto nor a number" },
	{ "name chars", "[appliance]\nname = a b\n", 2, "must be 1-63 characters" },
	{ "trust domain upper", "[appliance]\ntrust_domain = Cluster.Local\n", 2, "may only hold a-z" },
	{ "namespace upper", "[appliance]\nnamespace = Default\n", 2, "not a DNS-1123 label" },
	{ "namespace dash", "[appliance]\nnamespace = -x\n", 2, "not a DNS-1123 label" },
	{ "sa empty", "[appliance]\nservice_account =\n", 2, "not a DNS-1123 name" },
	{ "state_dir empty", "[appliance]\nstate_dir =\n", 2, "must not be empty" },
	{ "label no =", "[appliance]\nlabels = app\n", 2, "\"app\" is not key=value" },
	{ "label empty key", "[appliance]\nlabels = =x\n", 2, "invalid key" },
	{ "label bad key", "[appliance]\nlabels = a b=c\n", 2, "invalid key" },
	{ "label bad value", "[appliance]\nlabels = a=b c\n", 2, "invalid value" },
	{ "label long value", "[appliance]\nlabels = a=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	  2, "invalid value" },
	{ "label bad prefix", "[appliance]\nlabels = -x.io/a=b\n", 2, "invalid key" },
	{ "label twice", "[appliance]\nlabels = a=1,b=2,a=3\n", 2, "key a given twice" },
	{ "too many labels", "[appliance]\nlabels = a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,n=1,o=1,p=1,q=1\n",
	  2, "more than 16 labels" },
	{ "policy", "[mesh]\noutbound_traffic_policy = registry_only\n", 2, "not REGISTRY_ONLY or ALLOW_ANY" },
	{ "config_dir empty", "[mesh]\nconfig_dir =\n", 2, "must not be empty" },
	{ "access_log word", "[telemetry]\naccess_log = stderr\n", 2, "not \"\", stdout, or a path" },
	{ "admin hostname", "[admin]\naddress = localhost\n", 2, "not a numeric IPv4 or IPv6 address" },
	{ "admin bad ip", "[admin]\naddress = 1.2.3.4.5\n", 2, "not a numeric" },
	{ "admin leading zero", "[admin]\naddress = 127.0.0.01\n", 2, "not a numeric" },
	{ "admin unbalanced", "[admin]\naddress = [::1\n", 2, "not a numeric" },
	{ "admin v4 in brackets", "[admin]\naddress = [127.0.0.1]\n", 2, "not a numeric" },
	{ "body 0", "[limits]\nmax_request_body_buffer = 0\n", 2, "out of range" },
	{ "body 2^32", "[limits]\nmax_request_body_buffer = 4294967296\n", 2, "out of range" },
	{ "duration no unit", "[limits]\nheader_timeout = 10\n", 2, "not a duration" },
	{ "duration unit", "[limits]\nheader_timeout = 10d\n", 2, "not a duration" },
	{ "duration negative", "[limits]\nidle_timeout = -1s\n", 2, "not a duration" },
	{ "duration fraction", "[limits]\nidle_timeout = 1.5s\n", 2, "not a duration" },
	{ "duration zero", "[limits]\nheader_timeout = 0s\n", 2, "too short (min 1 ms)" },
	{ "duration overflow", "[limits]\ndrain_timeout = 99999999999999999999999ms\n", 2, "too long" },
	{ "duration > u32", "[limits]\nidle_timeout = 1194h\n", 2, "too long" },
	{ "pending handshakes big", "[limits]\nmax_pending_tls_handshakes = 1048577\n", 2,
	  "max_pending_tls_handshakes: 1048577 is out of range (0..1048576)" },
	{ "pending handshakes word", "[limits]\nmax_pending_tls_handshakes = many\n", 2,
	  "max_pending_tls_handshakes: \"many\" is not a decimal number" },
	{ "handshake rate negative", "[limits]\ntls_handshake_rate = -1\n", 2,
	  "tls_handshake_rate: \"-1\" is not a decimal number" },
	{ "dns bare v6", "[dns]\nservers = ::1:53\n", 2, "is not a list of ip[:port]" },
	{ "dns host name", "[dns]\nservers = dns.example\n", 2, "is not a list of ip[:port]" },
	{ "dns port 0", "[dns]\nservers = 127.0.0.1:0\n", 2, "is not a list of ip[:port]" },
	{ "dns empty item", "[dns]\nservers = 127.0.0.1,,::1\n", 2, "is not a list of ip[:port]" },
	{ "dns unknown key", "[dns]\nsearch = x\n", 2, "unknown key \"search\" in [dns]" },
	{ "listener no name", "[listener]\nport = 1\n", 1, "needs a name" },
	{ "listener bad name", "[listener a/b]\nport = 1\n", 1, "may only hold" },
	{ "listener twice", "[listener a]\nport = 1\n[listener a]\nport = 2\n", 3,
	  "listener \"a\" already defined at line 1" },
	{ "listener no port", "[listener a]\naddress = 127.0.0.1\n", 1, "listener \"a\": port is required" },
	{ "listener port 0", "[listener a]\nport = 0\n", 2, "out of range" },
	{ "listener bad protocol", "[listener a]\nport = 1\nprotocol = udp\n", 3, "not http or tcp" },
	{ "listener bad role", "[listener a]\nport = 1\nrole = sidecar\n", 3, "not outbound, inbound or gateway" },
	{ "listener bad address", "[listener a]\nport = 1\naddress = ::1:\n", 3, "not a numeric" },
	{ "listener unknown key", "[listener a]\nport = 1\nhost = x\n", 3, "unknown key \"host\" in [listener a]" },
	{ "listener dup key", "[listener a]\nport = 1\nport = 1\n", 3, "duplicate key" },
	{ "tcp without destination", "[listener a]\nport = 1\nprotocol = tcp\n", 1,
	  "protocol tcp needs destination" },
	{ "http with destination", "[listener a]\nport = 1\n\ndestination = x:1\n", 4,
	  "destination is only for protocol tcp" },
	{ "original_dst gateway", "[listener a]\nport = 1\nrole = gateway\noriginal_dst = on\n", 1,
	  "original_dst is for role = inbound or outbound" },
	{ "original_dst with destination", "[listener a]\nport = 1\nrole = inbound\nprotocol = tcp\n"
	  "original_dst = on\ndestination = x:1\n", 6, "original_dst and destination exclude" },
	{ "original_dst not bool", "[listener a]\nport = 1\nrole = inbound\noriginal_dst = maybe\n", 4,
	  "original_dst: \"maybe\" is not on or off" },
	{ "original_dst empty", "[listener a]\nport = 1\nrole = inbound\noriginal_dst =\n", 4,
	  "is not on or off" },
	{ "tls_sessions not bool", "[listener a]\nport = 1\ntls_sessions = 2\n", 3,
	  "tls_sessions: \"2\" is not on or off" },
	{ "destination no port", "[listener a]\nport = 1\nprotocol = tcp\ndestination = host\n", 4,
	  "not host:port" },
	{ "destination port 0", "[listener a]\nport = 1\nprotocol = tcp\ndestination = host:0\n", 4,
	  "must be 1..65535" },
	{ "destination port big", "[listener a]\nport = 1\nprotocol = tcp\ndestination = host:65536\n", 4,
	  "must be 1..65535" },
	{ "destination bare v6", "[listener a]\nport = 1\nprotocol = tcp\ndestination = ::1:80\n", 4,
	  "not host:port" },
	{ "destination bad v6", "[listener a]\nport = 1\nprotocol = tcp\ndestination = [zz::1]:80\n", 4,
	  "not an IPv6 address" },
	{ "destination bad host", "[listener a]\nport = 1\nprotocol = tcp\ndestination = a..b:80\n", 4,
	  "not host:port" },
	{ "same address:port", "[listener a]\nport = 8080\n[listener b]\naddress = 127.0.0.1\nport = 8080\n",
	  3, "listener \"b\" on port 8080 conflicts with listener \"a\" (line 1)" },
	{ "wildcard overlap", "[listener a]\naddress = 0.0.0.0\nport = 80\n[listener b]\nport = 80\n",
	  4, "conflicts with listener \"a\"" },
	{ "v6 any vs v6", "[listener a]\naddress = ::\nport = 80\n[listener b]\naddress = ::1\nport = 80\n",
	  4, "conflicts" },
	{ "listener on admin port", "[listener a]\nport = 15000\n", 1,
	  "listener \"a\" on port 15000 conflicts with admin (default)" },
	{ "admin on default listener", "[admin]\nport = 8080\n", 2,
	  "admin on port 8080 conflicts with listener \"outbound_http\" (default)" },
	{ "prometheus = health", "[admin]\nprometheus_port = 15021\n", 2, "prometheus on port 15021 conflicts with health" },
	{ "33 listeners",
	  "[listener l1]\nport=1\n[listener l2]\nport=2\n[listener l3]\nport=3\n[listener l4]\nport=4\n"
	  "[listener l5]\nport=5\n[listener l6]\nport=6\n[listener l7]\nport=7\n[listener l8]\nport=8\n"
	  "[listener l9]\nport=9\n[listener l10]\nport=10\n[listener l11]\nport=11\n[listener l12]\nport=12\n"
	  "[listener l13]\nport=13\n[listener l14]\nport=14\n[listener l15]\nport=15\n[listener l16]\nport=16\n"
	  "[listener l17]\nport=17\n[listener l18]\nport=18\n[listener l19]\nport=19\n[listener l20]\nport=20\n"
	  "[listener l21]\nport=21\n[listener l22]\nport=22\n[listener l23]\nport=23\n[listener l24]\nport=24\n"
	  "[listener l25]\nport=25\n[listener l26]\nport=26\n[listener l27]\nport=27\n[listener l28]\nport=28\n"
	  "[listener l29]\nport=29\n[listener l30]\nport=30\n[listener l31]\nport=31\n[listener l32]\nport=32\n"
	  "[listener l33]\nport=33\n", 65, "more than 32 listeners" },
	{ "line too long", "[appliance]\nstate_dir = /xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", 2, "line longer than" },
	{ "control char", "[appliance]\nstate_dir = a\x01" "b\n", 2, "control characters" },
};

static void test_bad_cases(void)
{
	char want[PATH_MAX + 128], err[512];

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *bc = &bad_cases[i];
		const char *path = write_ini("bad.ini", bc->ini);
		struct bootstrap *b = malloc(sizeof(*b)), *before = malloc(sizeof(*b));
		int r;

		memset(b, 0x5a, sizeof(*b));
		memcpy(before, b, sizeof(*b));
		r = bootstrap_load(b, path, err, sizeof(err));
		snprintf(want, sizeof(want), "%s:%d: ", path, bc->line);
		CHECK(r == -EINVAL, "%s: ret %d, want -EINVAL (%s)", bc->name, r, err);
		CHECK(!strncmp(err, want, strlen(want)), "%s: \"%s\" does not start with \"%s\"",
		      bc->name, err, want);
		CHECK(strstr(err, bc->msg) != NULL, "%s: \"%s\" lacks \"%s\"", bc->name, err, bc->msg);
		CHECK(!memcmp(b, before, sizeof(*b)), "%s: *b changed on error", bc->name);
		free(b);
		free(before);
	}
}

// ---- files that must load ----

static void test_defaults(void)
{
	struct bootstrap b;
	char err[256];
	const struct sockaddr_in *sin;
	int r;

	bootstrap_default(&b);
	CHECK(!strcmp(b.name, "meshgate") && b.workers == 0 && !strcmp(b.trust_domain, "cluster.local"),
	      "appliance defaults");
	CHECK(b.admin_port == 15000 && b.health_port == 15021 && b.prometheus_port == 15090 &&
	      !strcmp(b.admin_address, "127.0.0.1") && !strcmp(b.health_address, "0.0.0.0"),
	      "admin defaults");
	CHECK(!strcmp(b.config_dir, "./mesh.d") && b.outbound_policy == OUTBOUND_REGISTRY_ONLY,
	      "mesh defaults");
	CHECK(b.max_request_body_buffer == 1048576 && b.header_timeout_ms == 10000 &&
	      b.idle_timeout_ms == 3600000 && b.drain_timeout_ms == 15000, "limits defaults");
	CHECK(b.num_listeners == 2 && !strcmp(b.listeners[0].name, "outbound_http") &&
	      b.listeners[0].port == 8080 && b.listeners[0].protocol == LISTENER_HTTP &&
	      b.listeners[0].role == ROLE_OUTBOUND && !b.listeners[0].original_dst,
	      "default listener");
	CHECK(!strcmp(b.listeners[1].name, "outbound_capture") && b.listeners[1].port == 15001 &&
	      b.listeners[1].role == ROLE_OUTBOUND && b.listeners[1].original_dst &&
	      b.listeners[1].addr_len == sizeof(struct sockaddr_in), "default capture listener");
	sin = (const struct sockaddr_in *)&b.listeners[0].addr;
	CHECK(sin->sin_family == AF_INET && ntohs(sin->sin_port) == 8080 &&
	      sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK) &&
	      b.listeners[0].addr_len == sizeof(*sin), "default listener sockaddr");

	// an empty file and a comment-only file are the defaults
	r = bootstrap_load(&b, write_ini("empty.ini", ""), err, sizeof(err));
	CHECK(r == 0 && b.num_listeners == 2 && b.admin_port == 15000, "empty file: %d %s", r, err);
	CHECK(!strcmp(b.path, write_ini("empty.ini", "")), "path recorded: %s", b.path);
	r = bootstrap_load(&b, write_ini("c.ini", "; nothing\n# here\n\n"), err, sizeof(err));
	CHECK(r == 0 && b.num_listeners == 2, "comment-only file: %d %s", r, err);
}

static void test_full(void)
{
	static const char ini[] =
		"; comment\n"
		"[appliance]\r\n"
		"  name = edge.1_a\r\n"
		"workers = 12   ; inline comment\n"
		"trust_domain = example.org\n"
		"state_dir = /var/lib/meshgate\n"
		"namespace = prod\n"
		"service_account = edge-gw\n"
		"labels = app=edge, version = v2 ,example.com/tier=front,empty=\n"
		"[admin]\n"
		"address = ::1\n"
		"port = 9901\n"
		"health_address = [::]\n"
		"health_port = 9902\n"
		"prometheus_port = 9903\n"
		"[mesh]\n"
		"config_dir = /etc/meshgate/mesh.d\n"
		"outbound_traffic_policy = ALLOW_ANY\n"
		"[telemetry]\n"
		"access_log = /var/log/meshgate/access.log\n"
		"[limits]\n"
		"max_request_body_buffer = 4294967295\n"
		"header_timeout = 500ms\n"
		"idle_timeout = 2m\n"
		"drain_timeout = 0s\n"
		"[listener in]\n"
		"address = [::1]\n"
		"port = 15006\n"
		"role = inbound\n"
		"original_dst = on\n"
		"tls_sessions = off\n"
		"[listener db]\n"
		"port = 3306\n"
		"protocol = tcp\n"
		"role = gateway\n"
		"destination = [2001:db8::1]:3306\n"
		"[listener db2]\n"
		"address = 127.0.0.2\n"
		"port = 3306\n"
		"protocol = tcp\n"
		"destination = mysql.example.com:3306\n";
	struct bootstrap b;
	char err[256];
	const struct sockaddr_in6 *sin6;
	int r;

	bootstrap_default(&b);
	r = bootstrap_load(&b, write_ini("full.ini", ini), err, sizeof(err));
	CHECK(r == 0, "full file: %d %s", r, err);
	if (r)
		return;
	CHECK(!strcmp(b.name, "edge.1_a") && b.workers == 12, "name/workers: %s %d", b.name, b.workers);
	CHECK(!strcmp(b.trust_domain, "example.org") && !strcmp(b.state_dir, "/var/lib/meshgate") &&
	      !strcmp(b.namespace_, "prod") && !strcmp(b.service_account, "edge-gw"), "identity");
	CHECK(b.mesh_ini_set & MESH_SET_TRUST_DOMAIN,
	      "trust_domain given in the file wins over MeshConfig's trustDomain");
	CHECK(b.num_labels == 4 && !strcmp(b.labels[1].key, "version") &&
	      !strcmp(b.labels[1].value, "v2") && !strcmp(b.labels[2].key, "example.com/tier") &&
	      !strcmp(b.labels[3].value, ""), "labels: %d", b.num_labels);
	CHECK(!strcmp(b.admin_address, "::1") && b.admin_port == 9901 &&
	      !strcmp(b.health_address, "::") && b.health_port == 9902 && b.prometheus_port == 9903,
	      "admin: %s %s", b.admin_address, b.health_address);
	CHECK(!strcmp(b.config_dir, "/etc/meshgate/mesh.d") && b.outbound_policy == OUTBOUND_ALLOW_ANY,
	      "mesh");
	CHECK(!strcmp(b.access_log, "/var/log/meshgate/access.log"), "access_log");
	CHECK(b.max_request_body_buffer == 4294967295u && b.header_timeout_ms == 500 &&
	      b.idle_timeout_ms == 120000 && b.drain_timeout_ms == 0, "limits");
	CHECK(b.num_listeners == 3, "listeners replace the default: %d", b.num_listeners);
	CHECK(!strcmp(b.listeners[0].name, "in") && !strcmp(b.listeners[0].address, "::1") &&
	      b.listeners[0].role == ROLE_INBOUND && b.listeners[0].protocol == LISTENER_HTTP &&
	      b.listeners[0].line == 26, "listener in: %s line %d", b.listeners[0].address,
	      b.listeners[0].line);
	sin6 = (const struct sockaddr_in6 *)&b.listeners[0].addr;
	CHECK(sin6->sin6_family == AF_INET6 && ntohs(sin6->sin6_port) == 15006 &&
	      IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) && b.listeners[0].addr_len == sizeof(*sin6),
	      "listener in sockaddr");
	CHECK(!strcmp(b.listeners[1].address, "127.0.0.1") && b.listeners[1].protocol == LISTENER_TCP &&
	      b.listeners[1].role == ROLE_GATEWAY &&
	      !strcmp(b.listeners[1].destination, "[2001:db8::1]:3306"), "listener db");
	CHECK(!strcmp(b.listeners[2].destination, "mysql.example.com:3306"), "listener db2");
	CHECK(b.listeners[0].original_dst && !b.listeners[0].tls_sessions &&
	      !b.listeners[1].original_dst && b.listeners[1].tls_sessions, "original_dst/tls_sessions");
}

// One port on "::" and "0.0.0.0": IPv6 sockets are v6-only, so both bind.
static void test_dual_family(void)
{
	struct bootstrap b;
	char err[256];
	int r;

	bootstrap_default(&b);
	r = bootstrap_load(&b, write_ini("dual.ini", "[listener a]\naddress = ::\nport = 15006\n"
					 "role = inbound\noriginal_dst = on\n[listener b]\n"
					 "address = 0.0.0.0\nport = 15006\nrole = inbound\n"
					 "original_dst = on\n"), err, sizeof(err));
	CHECK(r == 0 && b.num_listeners == 2, "v6 and v4 wildcard on one port: %d %s", r, err);
}

static void test_dns(void)
{
	struct bootstrap b;
	char err[256];
	int r;

	bootstrap_default(&b);
	CHECK(b.dns_servers[0] == '\0', "dns default: the system's");
	r = bootstrap_load(&b, write_ini("dns.ini", "[dns]\nservers = 127.0.0.1:5353, [::1]:53 ,10.0.0.2\n"),
			   err, sizeof(err));
	CHECK(r == 0 && !strcmp(b.dns_servers, "127.0.0.1:5353,[::1]:53,10.0.0.2:53"),
	      "dns servers: %d %s %s", r, err, b.dns_servers);
}

static void test_examples_and_io(void)
{
	struct bootstrap b;
	char err[512], path[PATH_MAX + 32];
	int r;

	bootstrap_default(&b);
	r = bootstrap_load(&b, "config/examples/meshgate.ini", err, sizeof(err));
	CHECK(r == 0 && b.num_listeners == 1 && b.num_labels == 2, "examples/meshgate.ini: %d %s", r, err);
	r = bootstrap_load(&b, "config/examples/edge-tcp.ini", err, sizeof(err));
	CHECK(r == 0 && b.num_listeners == 2 && b.listeners[1].protocol == LISTENER_TCP,
	      "examples/edge-tcp.ini: %d %s", r, err);

	snprintf(path, sizeof(path), "%s/missing.ini", dir);
	r = bootstrap_load(&b, path, err, sizeof(err));
	CHECK(r == -ENOENT && strstr(err, "missing.ini: No such file"), "missing file: %d %s", r, err);
	r = bootstrap_load(&b, dir, err, sizeof(err));
	CHECK(r == -EISDIR, "directory: %d %s", r, err);
	r = bootstrap_load(&b, write_ini("nul.ini", ""), NULL, 0);
	CHECK(r == 0, "NULL err buffer");
	{
		// NUL byte inside the file (write_ini stops at NUL, so write by hand)
		FILE *f;

		snprintf(path, sizeof(path), "%s/nul.ini", dir);
		f = fopen(path, "wb");
		fwrite("[admin]\nport = 1\0\n", 1, 18, f);
		fclose(f);
		r = bootstrap_load(&b, path, err, sizeof(err));
		CHECK(r == -EINVAL && strstr(err, ":2: NUL byte"), "NUL byte: %d %s", r, err);
	}
	CHECK(bootstrap_parse_addr("[::1]", 1, &(struct sockaddr_storage){ 0 }, &(socklen_t){ 0 }) == 0,
	      "parse_addr [::1]");
	CHECK(bootstrap_parse_addr("", 1, &(struct sockaddr_storage){ 0 }, &(socklen_t){ 0 }) == -EINVAL,
	      "parse_addr empty");
	CHECK(bootstrap_parse_addr("example.com", 1, &(struct sockaddr_storage){ 0 },
				   &(socklen_t){ 0 }) == -EINVAL, "parse_addr name");
	CHECK(bootstrap_parse_addr("fe80::1%eth0", 1, &(struct sockaddr_storage){ 0 },
				   &(socklen_t){ 0 }) == -EINVAL, "parse_addr zone");
}

// chdir_repo_root moves to the repository root (where config/ lives): the
// tests read files by paths relative to it, whatever directory CTest used.
static void chdir_repo_root(void)
{
	for (int i = 0; i < 5; i++) {
		if (access("config/bootstrap.h", F_OK) == 0)
			return;
		if (chdir("..") < 0)
			break;
	}
	printf("bootstrap_test: cannot find the repository root from the working directory\n");
	exit(1);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	chdir_repo_root();
	snprintf(dir, sizeof(dir), "%s/bootstrap_test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_bad_cases();
	test_defaults();
	test_full();
	test_dual_family();
	test_dns();
	test_examples_and_io();
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("note: could not remove %s\n", dir);
	}
	printf("bootstrap_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
