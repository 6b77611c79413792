// SPDX-License-Identifier: Apache-2.0
// istio_test: Istio's validation files and bookinfo samples, tables of cases
// that must fail (file, line, resource, field) or load, parsed values of
// every kind, durations, dirs.
#include "config/istio.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/check.h"

#define TD "../shared/testdata/istio"
#define MAX_ERRS 64

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void dump_errs(const struct istio_error *e, int n)
{
	for (int i = 0; i < n; i++)
		printf("      %s\n", e[i].msg);
}

// num_resources counts what a config holds, of every kind.
static int num_resources(const struct istio_config *cfg)
{
	return cfg->num_service_entries + cfg->num_virtual_services + cfg->num_destination_rules +
	       cfg->num_peer_authentications + cfg->num_workload_entries + cfg->num_sidecars +
	       cfg->num_authorization_policies + cfg->num_request_authentications + cfg->num_gateways +
	       cfg->num_workload_groups + cfg->num_telemetries + cfg->num_ignored;
}

static int count_lines_starting(const char *text, const char *prefix)
{
	int n = 0;
	size_t pl = strlen(prefix);

	for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, prefix, pl))
			n++;
	return n;
}

// ---- Istio's validation testdata, one document at a time ----

struct doc {
	int first, last;	// lines
	char *text;		// the document, preceded by first-1 newlines
	int has_content;	// a line that is not blank and not a comment
	char name[128];		// metadata.name
	char err[256];		// the _err: value (quotes removed)
};

static void finish_doc(struct doc *d, const char *start, const char *end, int first, int last)
{
	size_t len = (size_t)(end - start);
	const char *q, *r;

	memset(d, 0, sizeof(*d));
	d->first = first;
	d->last = last;
	d->text = malloc((size_t)first + len + 1);
	memset(d->text, '\n', (size_t)first - 1);
	memcpy(d->text + first - 1, start, len);
	d->text[first - 1 + len] = '\0';
	for (q = start; q < end; q = strchr(q, '\n') + 1) {
		const char *s = q;

		while (*s == ' ')
			s++;
		if (*s != '\n' && *s != '#')
			d->has_content = 1;
		if (!strchr(q, '\n'))
			break;
	}
	if ((q = strstr(d->text, "\nmetadata:\n  name: "))) {
		q = strstr(q, "name: ") + 6;
		r = strchr(q, '\n');
		snprintf(d->name, sizeof(d->name), "%.*s", (int)(r - q), q);
	}
	// _err: "double", 'single' or bare, as YAML allows
	if ((q = strstr(d->text, "\n_err: "))) {
		q += 7;
		if (*q == '"' || *q == '\'') {
			r = strchr(q + 1, *q);
			q++;
		} else {
			r = strchr(q, '\n');
		}
		if (r)
			snprintf(d->err, sizeof(d->err), "%.*s", (int)(r - q), q);
	}
}

// split_docs cuts a stream at "---" lines. Each piece keeps its line
// numbers (it is padded with newlines), so messages can be checked against
// the original file.
static int split_docs(const char *text, struct doc *docs, int max)
{
	const char *p = text, *start = text;
	int n = 0, line = 1, first = 1;

	while (*p) {
		const char *nl = strchr(p, '\n');
		const char *next = nl ? nl + 1 : p + strlen(p);

		if (!strncmp(p, "---", 3) && (p[3] == '\n' || p[3] == '\0' || p[3] == ' ')) {
			if (p > start && n < max)
				finish_doc(&docs[n++], start, p, first, line - 1);
			start = next;
			first = line + 1;
		}
		p = next;
		line++;
	}
	if (p > start && n < max)
		finish_doc(&docs[n++], start, p, first, line - 1);
	return n;
}

static void test_validation_file(const char *file, int want_valid, const char *kind)
{
	struct istio_error errs[MAX_ERRS];
	struct doc docs[64];
	size_t len;
	char *text = slurp(file, &len);
	int n, nerr, tested = 0;

	CHECK(text != NULL, "cannot read %s", file);
	if (!text)
		return;
	n = split_docs(text, docs, 64);
	for (int i = 0; i < n; i++) {
		struct doc *d = &docs[i];
		struct istio_config cfg = { 0 };
		int r;

		if (!d->has_content) {
			free(d->text);
			continue;
		}
		tested++;
		r = istio_load_buf(file, d->text, strlen(d->text), &cfg, errs, MAX_ERRS, &nerr);
		if (want_valid) {
			CHECK(r == 0 && nerr == 0, "%s:%d (%s) must be accepted: %d", file, d->first,
			      d->name, r);
			if (r)
				dump_errs(errs, nerr);
			CHECK(num_resources(&cfg) == 1, "%s:%d one resource per document", file, d->first);
			if (kind && !strcmp(kind, "DestinationRule"))
				CHECK(cfg.num_destination_rules == 1, "%s:%d is a DestinationRule", file,
				      d->first);
			if (kind && !strcmp(kind, "AuthorizationPolicy"))
				CHECK(cfg.num_authorization_policies == 1, "%s:%d is an AuthorizationPolicy",
				      file, d->first);
			if (kind && !strcmp(kind, "RequestAuthentication"))
				CHECK(cfg.num_request_authentications == 1, "%s:%d is a RequestAuthentication",
				      file, d->first);
		} else {
			char want[256];
			int any_err = 0, lines_ok = 1, names_ok = 1;

			CHECK(r == -EINVAL && nerr > 0, "%s:%d (%s) must be rejected: %d", file, d->first,
			      d->name, r);
			snprintf(want, sizeof(want), "%s default/%s: ", kind, d->name);
			for (int k = 0; k < nerr; k++) {
				const char *m = errs[k].msg;
				int line = 0;

				if (strncmp(m, file, strlen(file)) || m[strlen(file)] != ':' ||
				    sscanf(m + strlen(file) + 1, "%d", &line) != 1 ||
				    line < d->first || line > d->last)
					lines_ok = 0;
				if (!strstr(m, want))
					names_ok = 0;
				if (d->err[0] && strstr(m, d->err))
					any_err = 1;
			}
			CHECK(lines_ok, "%s:%d: messages must name the file and a line of the document", file,
			      d->first);
			CHECK(names_ok, "%s:%d: messages must name \"%s\"", file, d->first, want);
			CHECK(!d->err[0] || any_err, "%s:%d (%s): no message says \"%s\"", file, d->first,
			      d->name, d->err);
			if (!lines_ok || !names_ok || (d->err[0] && !any_err))
				dump_errs(errs, nerr);
			CHECK(num_resources(&cfg) == 0, "%s:%d: nothing of a rejected document is kept", file,
			      d->first);
		}
		istio_config_free(&cfg);
		free(d->text);
	}
	CHECK(tested > 0, "%s: no documents found", file);
	free(text);
}

static void test_testdata(void)
{
	struct istio_error errs[MAX_ERRS];
	struct istio_config cfg = { 0 };
	const struct service_entry *se;
	int r, n;

	test_validation_file(TD "/api-validation/serviceentry-valid.yaml", 1, "ServiceEntry");
	test_validation_file(TD "/api-validation/serviceentry-invalid.yaml", 0, "ServiceEntry");
	test_validation_file(TD "/api-validation/destinationrule-valid.yaml", 1, "DestinationRule");
	test_validation_file(TD "/api-validation/destinationrule-invalid.yaml", 0, "DestinationRule");
	test_validation_file(TD "/api-validation/authz-valid.yaml", 1, "AuthorizationPolicy");
	test_validation_file(TD "/api-validation/authz-invalid.yaml", 0, "AuthorizationPolicy");
	test_validation_file(TD "/api-validation/reqauth-valid.yaml", 1, "RequestAuthentication");
	test_validation_file(TD "/api-validation/reqauth-invalid.yaml", 0, "RequestAuthentication");

	// the whole valid file at once, and what "full" holds
	r = istio_load_file(TD "/api-validation/serviceentry-valid.yaml", &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_service_entries == 5, "serviceentry-valid.yaml: %d, %d SEs", r,
	      cfg.num_service_entries);
	if (r == 0 && cfg.num_service_entries == 5) {
		se = &cfg.service_entries[0];
		CHECK(!strcmp(se->meta.name, "full") && !strcmp(se->meta.namespace_, "default") &&
		      !strcmp(se->meta.kind, "ServiceEntry") && se->meta.line == 1 &&
		      strstr(se->meta.file, "serviceentry-valid.yaml"), "full: meta");
		CHECK(se->num_hosts == 1 && !strcmp(se->hosts[0], "example.com"), "full: hosts");
		CHECK(se->num_addresses == 2 && !strcmp(se->addresses[0], "1.2.3.4") &&
		      !strcmp(se->addresses[1], "001:db8::"), "full: addresses");
		CHECK(se->num_export_to == 2 && !strcmp(se->export_to[1], "."), "full: exportTo");
		CHECK(se->location == SE_MESH_EXTERNAL && se->resolution == SE_RES_DNS, "full: enums");
		CHECK(se->num_ports == 1 && se->ports[0].number == 1234 &&
		      !strcmp(se->ports[0].protocol, "HTTP") && !strcmp(se->ports[0].name, "foo") &&
		      se->ports[0].target_port == 2345, "full: ports");
		CHECK(se->num_workload_selector == 1 && !strcmp(se->workload_selector[0].key, "foo") &&
		      !strcmp(se->workload_selector[0].value, "bar"), "full: selector");
		CHECK(se->num_subject_alt_names == 1 && !strcmp(se->subject_alt_names[0], "sa"), "full: SANs");
		se = &cfg.service_entries[1];
		CHECK(se->num_endpoints == 1 && !strcmp(se->endpoints[0].address, "sub.example.com"),
		      "static-endpoints: endpoints");
		CHECK(cfg.service_entries[3].num_hosts == 1 && !strcmp(cfg.service_entries[3].hosts[0], "*x") &&
		      cfg.service_entries[3].resolution == SE_RES_NONE, "partial-wildcard");
	} else {
		dump_errs(errs, n);
	}
	istio_config_free(&cfg);
	CHECK(cfg.arena == NULL && cfg.num_service_entries == 0, "free zeroes the config");

	// the whole invalid file: every document reports, nothing is kept
	r = istio_load_file(TD "/api-validation/serviceentry-invalid.yaml", &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -EINVAL && n >= 13 && cfg.num_service_entries == 0, "serviceentry-invalid.yaml: %d, %d errors",
	      r, n);
	istio_config_free(&cfg);
	r = istio_load_file(TD "/api-validation/destinationrule-invalid.yaml", &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -EINVAL && n == 3 && cfg.num_destination_rules == 0,
	      "destinationrule-invalid.yaml: %d, %d errors", r, n);
	istio_config_free(&cfg);

	// the valid DR file at once: its documents share a name, so only the
	// first loads and the others are duplicates
	r = istio_load_file(TD "/api-validation/destinationrule-valid.yaml", &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -EINVAL && n == 2 && strstr(errs[0].msg, "DestinationRule default/bookinfo-ratings: "
						"already defined at"),
	      "destinationrule-valid.yaml as one file: %d, %d: %s", r, n, n ? errs[0].msg : "");
	istio_config_free(&cfg);
}

// ---- bookinfo ----

static void test_bookinfo(void)
{
	static const char *const files[] = {
		"bookinfo-gateway.yaml", "certmanager-gateway.yaml", "destination-rule-all-mtls.yaml",
		"destination-rule-all.yaml", "destination-rule-reviews.yaml",
		"egress-rule-google-apis.yaml", "fault-injection-details-v1.yaml",
		"virtual-service-all-v1.yaml", "virtual-service-details-v2.yaml",
		"virtual-service-ratings-db.yaml", "virtual-service-ratings-mysql-vm.yaml",
		"virtual-service-ratings-mysql.yaml", "virtual-service-ratings-test-abort.yaml",
		"virtual-service-ratings-test-delay.yaml", "virtual-service-reviews-50-v3.yaml",
		"virtual-service-reviews-80-20.yaml", "virtual-service-reviews-90-10.yaml",
		"virtual-service-reviews-jason-v2-v3.yaml", "virtual-service-reviews-test-v2.yaml",
		"virtual-service-reviews-v2-v3.yaml", "virtual-service-reviews-v3.yaml",
	};
	struct istio_error errs[MAX_ERRS];
	char path[PATH_MAX];
	int total_vs = 0, total_dr = 0, total_gw = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct istio_config cfg = { 0 };
		const struct virtual_service *vs;
		size_t len;
		char *text;
		int r, n, want_vs, want_se, want_dr, want_gw;

		snprintf(path, sizeof(path), TD "/bookinfo-networking/%s", files[i]);
		text = slurp(path, &len);
		CHECK(text != NULL, "cannot read %s", path);
		if (!text)
			continue;
		want_vs = count_lines_starting(text, "kind: VirtualService");
		want_se = count_lines_starting(text, "kind: ServiceEntry");
		want_dr = count_lines_starting(text, "kind: DestinationRule");
		want_gw = count_lines_starting(text, "kind: Gateway");
		free(text);
		r = istio_load_file(path, &cfg, errs, MAX_ERRS, &n);
		CHECK(r == 0 && cfg.num_virtual_services == want_vs && cfg.num_service_entries == want_se &&
		      cfg.num_destination_rules == want_dr && cfg.num_gateways == want_gw && cfg.num_ignored == 0,
		      "%s: %d, %d VS (want %d), %d SE, %d DR (want %d), %d GW (want %d)", files[i], r,
		      cfg.num_virtual_services, want_vs, cfg.num_service_entries, cfg.num_destination_rules,
		      want_dr, cfg.num_gateways, want_gw);
		total_gw += cfg.num_gateways;
		total_dr += cfg.num_destination_rules;
		if (r)
			dump_errs(errs, n);
		total_vs += cfg.num_virtual_services;
		vs = cfg.virtual_services;
		if (r == 0 && !strcmp(files[i], "virtual-service-reviews-80-20.yaml")) {
			const struct http_route *h = &vs[0].http[0];

			CHECK(vs[0].num_hosts == 1 && !strcmp(vs[0].hosts[0], "reviews") && vs[0].num_http == 1 &&
			      h->num_route == 2 && h->route[0].weight == 80 && h->route[1].weight == 20 &&
			      !strcmp(h->route[0].destination.host, "reviews") &&
			      !strcmp(h->route[0].destination.subset, "v1") &&
			      !strcmp(h->route[1].destination.subset, "v2") && h->timeout_ms == -1 &&
			      h->features == 0 && h->num_match == 0, "80-20 parsed");
		}
		if (r == 0 && !strcmp(files[i], "virtual-service-reviews-jason-v2-v3.yaml")) {
			const struct http_match *m = &vs[0].http[0].match[0];

			CHECK(vs[0].num_http == 2 && vs[0].http[0].num_match == 1 && m->num_headers_exact == 1 &&
			      !strcmp(m->headers_exact[0].key, "end-user") &&
			      !strcmp(m->headers_exact[0].value, "jason") && m->num_headers == 1 &&
			      m->headers[0].match.kind == SM_EXACT && vs[0].http[1].num_match == 0,
			      "jason match parsed");
		}
		if (r == 0 && !strcmp(files[i], "bookinfo-gateway.yaml")) {
			const struct http_route *h = &vs[0].http[0];
			const struct gateway *gw = &cfg.gateways[0];

			CHECK(!strcmp(gw->meta.name, "bookinfo-gateway") && !strcmp(gw->meta.kind, "Gateway") &&
			      gw->num_selector == 1 && !strcmp(gw->selector[0].key, "istio") &&
			      !strcmp(gw->selector[0].value, "ingressgateway") && gw->num_servers == 1 &&
			      gw->servers[0].port.number == 8080 && !strcmp(gw->servers[0].port.name, "http") &&
			      !strcmp(gw->servers[0].port.protocol, "HTTP") && gw->servers[0].num_hosts == 1 &&
			      !strcmp(gw->servers[0].hosts[0], "*") && !gw->servers[0].tls && !gw->servers[0].bind,
			      "bookinfo Gateway parsed");

			CHECK(!strcmp(vs[0].hosts[0], "*") && vs[0].num_gateways == 1 &&
			      !strcmp(vs[0].gateways[0], "bookinfo-gateway") && h->num_match == 5 &&
			      h->match[0].uri.kind == SM_EXACT && !strcmp(h->match[0].uri.value, "/productpage") &&
			      h->match[1].uri.kind == SM_PREFIX && !strcmp(h->match[1].uri.value, "/static") &&
			      h->route[0].destination.port == 9080 && h->route[0].destination.subset == NULL &&
			      h->route[0].weight == 0, "gateway VS parsed");
		}
		if (r == 0 && !strcmp(files[i], "destination-rule-all-mtls.yaml")) {
			const struct destination_rule *dr = cfg.destination_rules;

			CHECK(!strcmp(dr[1].meta.name, "reviews") && !strcmp(dr[1].host, "reviews") &&
			      dr[1].traffic_policy && dr[1].traffic_policy->tls &&
			      dr[1].traffic_policy->tls->mode == DR_TLS_ISTIO_MUTUAL && dr[1].num_subsets == 3 &&
			      !strcmp(dr[1].subsets[2].name, "v3") && dr[1].subsets[2].num_labels == 1 &&
			      !strcmp(dr[1].subsets[2].labels[0].value, "v3"), "all-mtls DR parsed");
		}
		if (r == 0 && !strcmp(files[i], "fault-injection-details-v1.yaml"))
			CHECK((vs[0].http[0].features & HR_F_FAULT) && !(vs[0].http[1].features & HR_F_FAULT),
			      "fault flagged");
		if (r == 0 && !strcmp(files[i], "egress-rule-google-apis.yaml")) {
			const struct service_entry *se = &cfg.service_entries[0];

			const struct dr_traffic_policy *tp = cfg.destination_rules[0].traffic_policy;

			CHECK(tp && tp->load_balancer && tp->load_balancer->simple == DR_LB_ROUND_ROBIN &&
			      tp->num_port_level_settings == 1 && tp->port_level_settings[0].port == 443 &&
			      tp->port_level_settings[0].tls &&
			      tp->port_level_settings[0].tls->mode == DR_TLS_SIMPLE && !tp->tls,
			      "egress DR parsed");
			CHECK(se->resolution == SE_RES_DNS && se->num_ports == 2 &&
			      !strcmp(se->ports[1].protocol, "HTTPS") && se->ports[1].number == 443 &&
			      vs[0].http[0].match[0].port == 80 && vs[0].http[0].route[0].destination.port == 443,
			      "egress parsed");
		}
		istio_config_free(&cfg);
	}
	CHECK(total_vs == 24, "bookinfo VirtualServices: %d", total_vs);
	CHECK(total_dr == 11, "bookinfo DestinationRules: %d", total_dr);
	CHECK(total_gw == 2, "bookinfo Gateways: %d", total_gw);

	// The samples are alternatives (reviews is defined in many files), so
	// loading them as one directory must fail as a whole.
	{
		struct istio_config cfg;
		int r, n;

		r = istio_load_dir(TD "/bookinfo-networking", &cfg, errs, MAX_ERRS, &n);
		CHECK(r == -EINVAL && n > 0 && strstr(errs[0].msg, "already defined at") &&
		      cfg.num_virtual_services == 0 && cfg.arena == NULL,
		      "bookinfo dir: %d, %d errors: %s", r, n, n ? errs[0].msg : "");
		istio_config_free(&cfg);
	}
}

// ---- our own cases ----

#define SE_HDR "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: t\n  namespace: ns1\nspec:\n"
#define VS_HDR "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: t\n  namespace: ns1\nspec:\n"
#define DR_HDR "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: t\n  namespace: ns1\nspec:\n"
#define PA_HDR "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: t\n  namespace: ns1\nspec:\n"
#define WE_HDR "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: t\n  namespace: ns1\nspec:\n"
#define SC_HDR "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: t\n  namespace: ns1\nspec:\n"
#define AP_HDR "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: t\n  namespace: ns1\nspec:\n"
#define RA_HDR "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata:\n  name: t\n  namespace: ns1\nspec:\n"
#define GW_HDR "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: t\n  namespace: ns1\nspec:\n"
#define WG_HDR "apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata:\n  name: t\n  namespace: ns1\nspec:\n"
#define TM_HDR "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata:\n  name: t\n  namespace: ns1\nspec:\n"
// GW_PORT starts the servers list with a server on that port (lines 7, 8);
// GW_PORT2 adds one; GW_ANY gives it hosts ["*"] (one line).
#define GW_PORT(num, name, proto) "  servers:\n  - port: {number: " num ", name: " name ", protocol: " proto "}\n"
#define GW_PORT2(num, name, proto) "  - port: {number: " num ", name: " name ", protocol: " proto "}\n"
#define GW_ANY "    hosts: [\"*\"]\n"
#define AP_RULE "  rules:\n  - from:\n    - source:\n"
#define AP_TO "  rules:\n  - to:\n    - operation:\n"
#define AP_WHEN "  rules:\n  - when:\n    - key: "
#define RA_RULE "  jwtRules:\n  - issuer: example.com\n"
#define ROUTE "  http:\n  - route:\n    - destination:\n        host: r\n"
// line numbers: the spec's first field is on line 7

struct case_ {
	const char *name;
	const char *yaml;
	int line;		// error line (0: don't care); 0 for good cases
	const char *msg;	// substring of some error; NULL = must load
};

static const struct case_ cases[] = {
	// ServiceEntry: must fail
	{ "se no hosts", SE_HDR "  ports:\n  - {number: 80, name: http}\n", 7, "ServiceEntry ns1/t: spec.hosts: Required value" },
	{ "se empty hosts", SE_HDR "  hosts: []\n", 7, "spec.hosts: Required value" },
	{ "se host *", SE_HDR "  hosts: [a.com, \"*\"]\n", 7, "spec.hosts[1]: hostname cannot be wildcard" },
	{ "se host suffix wildcard", SE_HDR "  hosts: [\"foo*\"]\n", 7, "spec.hosts[0]: domain name \"foo*\" invalid (label \"foo*\" invalid)" },
	{ "se host middle wildcard", SE_HDR "  hosts: [\"a.*.com\"]\n", 7, "invalid (label \"*\" invalid)" },
	{ "se host underscore", SE_HDR "  hosts:\n  - a_b.com\n", 8, "spec.hosts[0]: domain name \"a_b.com\" invalid" },
	{ "se host numeric tld", SE_HDR "  hosts: [foo.123]\n", 7, "top level domain \"123\" cannot be all-numeric" },
	{ "se host empty", SE_HDR "  hosts: [\"\"]\n", 7, "empty domain name not allowed" },
	{ "se host yaml bool", SE_HDR "  hosts: [on]\n", 7, "spec.hosts[0]: expected a string, got a boolean (\"on\"); quote it" },
	{ "se host number", SE_HDR "  hosts: [1.5]\n", 7, "expected a string, got a number" },
	{ "se host map", SE_HDR "  hosts: [{a: 1}]\n", 7, "expected a string, got a mapping" },
	{ "se host null item", SE_HDR "  hosts: [a.com, ~]\n", 7, "spec.hosts[1]: must not be null" },
	{ "se hosts scalar", SE_HDR "  hosts: a.com\n", 7, "spec.hosts: expected a list, got a string" },
	{ "se address cidr", SE_HDR "  hosts: [a.com]\n  addresses: [1.2.3.4/33]\n", 8, "spec.addresses[0]: \"1.2.3.4/33\" is not a valid CIDR block" },
	{ "se address ip", SE_HDR "  hosts: [a.com]\n  addresses: [300.1.1.1]\n", 8, "is not a valid IP" },
	{ "se address 2 slashes", SE_HDR "  hosts: [a.com]\n  addresses: [1.2.3.4/8/9]\n", 8, "is not a valid IP" },
	{ "se cidr with dns", SE_HDR "  hosts: [a.com]\n  addresses: [10.0.0.0/8]\n  resolution: DNS\n", 8, "spec.addresses: CIDR addresses are allowed only for NONE/STATIC" },
	{ "se port number missing", SE_HDR "  hosts: [a.com]\n  ports:\n  - name: http\n", 9, "spec.ports[0].number: Required value" },
	{ "se port name missing", SE_HDR "  hosts: [a.com]\n  ports:\n  - number: 80\n", 9, "spec.ports[0].name: Required value" },
	{ "se port name bad", SE_HDR "  hosts: [a.com]\n  ports:\n  - number: 80\n    name: web_1\n", 10, "spec.ports[0].name: invalid port name: \"web_1\"" },
	{ "se port protocol", SE_HDR "  hosts: [a.com]\n  ports:\n  - {number: 25, name: smtp, protocol: SMTP}\n", 9, "spec.ports[0].protocol: unsupported protocol: \"SMTP\"" },
	{ "se port quoted number", SE_HDR "  hosts: [a.com]\n  ports:\n  - {number: \"80\", name: a}\n", 9, "spec.ports[0].number: expected an integer, got a string" },
	{ "se port 0", SE_HDR "  hosts: [a.com]\n  ports:\n  - number: 0\n    name: a\n", 9, "spec.ports[0].number: port must be between 1-65535 (got 0)" },
	{ "se port negative", SE_HDR "  hosts: [a.com]\n  ports:\n  - {number: -1, name: a}\n", 9, "\"-1\" is out of range for uint32" },
	{ "se port huge", SE_HDR "  hosts: [a.com]\n  ports:\n  - {number: 99999999999, name: a}\n", 9, "out of range for uint32" },
	{ "se targetPort 0", SE_HDR "  hosts: [a.com]\n  ports:\n  - {number: 1, name: a, targetPort: 0}\n", 9, "spec.ports[0].targetPort: port must be between 1-65535" },
	{ "se port null", SE_HDR "  hosts: [a.com]\n  ports:\n  - ~\n", 9, "spec.ports[0]: service entry port may not be null" },
	{ "se port unknown field", SE_HDR "  hosts: [a.com]\n  ports:\n  - number: 1\n    name: a\n    nmae: b\n", 11, "spec.ports[0].nmae: unknown field" },
	{ "se dup port number", SE_HDR "  hosts: [a.com]\n  ports:\n  - {number: 80, name: a}\n  - {number: 80, name: b}\n", 10, "spec.ports[1].number: port number cannot be duplicated" },
	{ "se dup port name", SE_HDR "  hosts: [a.com]\n  ports:\n  - {number: 80, name: a}\n  - {number: 81, name: a}\n", 10, "spec.ports[1].name: Duplicate value" },
	{ "se location", SE_HDR "  hosts: [a.com]\n  location: EXTERNAL\n", 8, "spec.location: Unsupported value: \"EXTERNAL\": supported values: \"MESH_EXTERNAL\", \"MESH_INTERNAL\"" },
	{ "se resolution case", SE_HDR "  hosts: [a.com]\n  resolution: dns\n", 8, "spec.resolution: Unsupported value: \"dns\"" },
	{ "se resolution number", SE_HDR "  hosts: [a.com]\n  resolution: 1\n", 8, "expected a string, got an integer" },
	{ "se static hostname", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  endpoints:\n  - address: b.com\n", 10, "spec.endpoints[0].address: endpoint address \"b.com\" is not a valid IP address" },
	{ "se static unix 2 ports", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  ports:\n  - {number: 1, name: a}\n  - {number: 2, name: b}\n  endpoints:\n  - address: unix:///run/x.sock\n", 13, "exactly 1 service port required for unix endpoints" },
	{ "se unix with ports", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  ports:\n  - {number: 1, name: a}\n  endpoints:\n  - address: unix:///run/x.sock\n    ports: {a: 1}\n", 13, "spec.endpoints[0]: UDS may not include ports" },
	{ "se unix relative", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  endpoints:\n  - address: unix://run/x\n", 10, "UDS must be an absolute path or abstract socket" },
	{ "se unix dir", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  endpoints:\n  - address: unix:///run/\n", 10, "UDS may not be a dir" },
	{ "se dns unix", SE_HDR "  hosts: [a.com]\n  resolution: DNS\n  endpoints:\n  - address: unix:///run/x\n", 10, "is not a valid FQDN or an IP address" },
	{ "se dns bad endpoint", SE_HDR "  hosts: [a.com]\n  resolution: DNS\n  endpoints:\n  - address: \"not a host\"\n", 10, "spec.endpoints[0].address: endpoint address \"not a host\" is not a valid FQDN or an IP address" },
	{ "se dns wildcard host", SE_HDR "  hosts: [\"*.a.com\"]\n  resolution: DNS\n", 7, "spec.hosts[0]: hosts must be FQDN if no endpoints are provided for resolution mode DNS" },
	{ "se dns rr 2", SE_HDR "  hosts: [a.com]\n  resolution: DNS_ROUND_ROBIN\n  endpoints:\n  - address: b.com\n  - address: c.com\n", 9, "DNS_ROUND_ROBIN mode cannot have multiple endpoints" },
	{ "se none endpoints", SE_HDR "  hosts: [a.com]\n  endpoints:\n  - address: 1.1.1.1\n", 8, "spec.endpoints: NONE mode cannot set endpoints" },
	{ "se endpoint port undefined", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  ports:\n  - {number: 80, name: http}\n  endpoints:\n  - address: 1.1.1.1\n    ports:\n      grpc: 9000\n", 14, "spec.endpoints[0].ports[grpc]: endpoint port \"grpc\" is not defined by the service entry" },
	{ "se endpoint port range", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  ports:\n  - {number: 80, name: http}\n  endpoints:\n  - address: 1.1.1.1\n    ports: {http: 70000}\n", 13, "spec.endpoints[0].ports[http]: port must be between 1-65535 (got 70000)" },
	{ "se endpoint no address", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  endpoints:\n  - labels: {a: b}\n", 10, "spec.endpoints[0]: Address is required" },
	{ "se endpoint label", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  endpoints:\n  - address: 1.1.1.1\n    labels: {a: \"b c\"}\n", 11, "spec.endpoints[0].labels[a]: invalid label value: \"b c\"" },
	{ "se endpoint unknown", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  endpoints:\n  - adress: 1.1.1.1\n", 10, "spec.endpoints[0].adress: unknown field" },
	{ "se endpoint null", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  endpoints: [~]\n", 9, "spec.endpoints[0]: endpoint cannot be nil" },
	{ "se selector + endpoints", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  workloadSelector: {labels: {a: b}}\n  endpoints: [{address: 1.1.1.1}]\n", 10, "spec: only one of WorkloadSelector or Endpoints can be set" },
	{ "se selector matchLabels", SE_HDR "  hosts: [a.com]\n  workloadSelector:\n    matchLabels: {a: b}\n", 9, "spec.workloadSelector.matchLabels: unknown field" },
	{ "se selector wildcard", SE_HDR "  hosts: [a.com]\n  workloadSelector:\n    labels: {app: \"web*\"}\n", 9, "spec.workloadSelector.labels[app]: wildcard is not supported in selector" },
	{ "se exportTo . and ns", SE_HDR "  hosts: [a.com]\n  exportTo: [., ns1]\n", 8, "spec.exportTo[1]: duplicate entries in exportTo: . and current namespace ns1" },
	{ "se exportTo dup", SE_HDR "  hosts: [a.com]\n  exportTo: [a, a]\n", 8, "duplicate entries in exportTo for entry \"a\"" },
	{ "se exportTo * and ns", SE_HDR "  hosts: [a.com]\n  exportTo: [\"*\", a]\n", 8, "cannot have both public (*) and non-public" },
	{ "se exportTo ~ and ns", SE_HDR "  hosts: [a.com]\n  exportTo: [\"~\", a]\n", 8, "cannot export service entry to no one (~) and someone" },
	{ "se exportTo bad", SE_HDR "  hosts: [a.com]\n  exportTo: [a_b]\n", 8, "only .,*, or a valid DNS 1123 label" },
	{ "se multi host tcp", SE_HDR "  hosts: [a.com, b.com]\n  resolution: DNS\n  ports:\n  - {number: 5432, name: pg, protocol: TCP}\n", 10, "spec.ports[0]: multiple hosts provided with non-HTTP, non-TLS ports" },
	{ "se multi host no protocol", SE_HDR "  hosts: [a.com, b.com]\n  resolution: STATIC\n  ports:\n  - {number: 1, name: a}\n", 10, "multiple hosts provided" },
	{ "se unknown spec field", SE_HDR "  hosts: [a.com]\n  hostz: [b.com]\n", 8, "spec.hostz: unknown field" },
	{ "se spec list", SE_HDR "  - a\n", 7, "spec: expected a mapping, got a list" },
	{ "se no spec", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: t}\n", 1, "ServiceEntry default/t: spec: Required value" },
	{ "se spec null", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: t}\nspec:\n", 1, "spec: Required value" },
	{ "meta bad name", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: Bad_Name\nspec: {hosts: [a.com]}\n", 4, "metadata.name: a lowercase RFC 1123 subdomain" },
	{ "meta bad ns", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: a\n  namespace: NS\nspec: {hosts: [a.com]}\n", 5, "metadata.namespace: a lowercase RFC 1123 label" },
	{ "meta no name", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  namespace: a\nspec: {hosts: [a.com]}\n", 4, "ServiceEntry a/?: metadata.name: Required value" },
	{ "meta name y", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: y\nspec: {hosts: [a.com]}\n", 4, "ServiceEntry default/?: metadata.name: expected a string, got a boolean (\"y\")" },
	{ "meta none", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nspec: {hosts: [a.com]}\n", 1, "metadata.name: Required value" },
	{ "meta unknown", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: a\n  nmae: b\nspec: {hosts: [a.com]}\n", 5, "metadata.nmae: unknown field" },
	{ "meta bad label", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: a\n  labels: {\"a b\": c}\nspec: {hosts: [a.com]}\n", 5, "invalid label key" },
	{ "top unknown", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: a}\nspecs: {}\nspec: {hosts: [a.com]}\n", 4, "ServiceEntry default/a: specs: unknown field" },
	{ "unknown kind", "apiVersion: networking.istio.io/v1\nkind: Foo\nmetadata: {name: a}\n", 2, "Foo default/a: unknown kind \"Foo\" for apiVersion \"networking.istio.io/v1\"" },
	{ "unknown group", "apiVersion: example.com/v1\nkind: ServiceEntry\nmetadata: {name: a}\n", 2, "unknown kind \"ServiceEntry\" for apiVersion \"example.com/v1\"" },
	{ "unknown version", "apiVersion: networking.istio.io/v2\nkind: ServiceEntry\nmetadata: {name: a}\n", 1, "ServiceEntry is not served as \"networking.istio.io/v2\"" },
	{ "envoyfilter v1", "apiVersion: networking.istio.io/v1\nkind: EnvoyFilter\nmetadata: {name: a}\n", 1, "EnvoyFilter is not served" },
	{ "telemetry v1beta1", "apiVersion: telemetry.istio.io/v1beta1\nkind: Telemetry\nmetadata: {name: a}\n", 1, "not served" },
	{ "core v1", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n", 2, "unknown kind \"Service\" for apiVersion \"v1\"" },
	{ "no kind", "apiVersion: networking.istio.io/v1\nmetadata: {name: a}\n", 1, "document: kind: Required value" },
	{ "no apiVersion", "kind: ServiceEntry\nmetadata: {name: a}\n", 1, "ServiceEntry default/a: apiVersion: Required value" },
	{ "doc is list", "- a\n- b\n", 1, "document: a document must be a mapping" },
	{ "doc is scalar", "hello\n", 1, "a document must be a mapping" },
	{ "same name twice", SE_HDR "  hosts: [a.com]\n---\n" SE_HDR "  hosts: [b.com]\n", 9, "ServiceEntry ns1/t: already defined at case.yaml:1" },
	{ "yaml error", SE_HDR "  hosts: [a.com\n", 0, "case.yaml:" },
	{ "yaml alias", SE_HDR "  hosts: &h [a.com]\n  subjectAltNames: *h\n", 7, "case.yaml:7: yaml: anchors (&h) are not supported" },
	{ "yaml dup key", SE_HDR "  hosts: [a.com]\n  hosts: [b.com]\n", 8, "case.yaml:8: yaml: duplicate key \"hosts\"" },
	{ "ignored kind spec list", "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: a}\nspec: [1]\n", 4, "EnvoyFilter default/a: spec: expected a mapping" },
	{ "list in list", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n", 4, "a List inside a List" },
	{ "list bad item", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.istio.io/v1\n  kind: ServiceEntry\n  metadata: {name: x}\n  spec: {hosts: [\"*\"]}\n", 7, "ServiceEntry default/x: spec.hosts[0]: hostname cannot be wildcard" },

	// ServiceEntry: must load
	{ "se minimal", SE_HDR "  hosts: [a.com]\n", 0, NULL },
	{ "se _err stripped", "_err: \"test metadata\"\n" SE_HDR "  hosts: [a.com]\n", 0, NULL },
	{ "se status allowed", SE_HDR "  hosts: [a.com]\nstatus: {conditions: []}\n", 0, NULL },
	{ "se kubectl metadata", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: a\n  uid: 123e4567\n  resourceVersion: \"42\"\n  generation: 3\n  creationTimestamp: \"2024-01-01T00:00:00Z\"\n  labels: {app: x}\n  annotations: {note: \"anything: goes\"}\n  managedFields: [{manager: kubectl}]\nspec: {hosts: [a.com]}\n", 0, NULL },
	{ "se none tcp no address", SE_HDR "  hosts: [a.com]\n  ports:\n  - {number: 5432, name: pg, protocol: TCP}\n", 0, NULL },
	{ "se static selector", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  workloadSelector: {labels: {app: db}}\n", 0, NULL },
	{ "se static no endpoints", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n", 0, NULL },
	{ "se static unix", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  ports: [{number: 80, name: http, protocol: http}]\n  endpoints:\n  - address: unix:///run/a.sock\n  - address: unix://@abstract\n", 0, NULL },
	{ "se static ipv6", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  endpoints: [{address: \"2001:db8::1\"}, {address: 10.0.0.1, weight: 3, locality: r/z, network: n1, serviceAccount: sa}]\n", 0, NULL },
	{ "se network only", SE_HDR "  hosts: [a.com]\n  resolution: STATIC\n  endpoints: [{network: remote}]\n", 0, NULL },
	{ "se dns wildcard endpoints", SE_HDR "  hosts: [\"*.a.com\"]\n  resolution: DNS\n  endpoints: [{address: b.com}]\n", 0, NULL },
	{ "se exportTo none", SE_HDR "  hosts: [a.com]\n  exportTo: [\"~\"]\n", 0, NULL },
	{ "se empty protocol", SE_HDR "  hosts: [a.com]\n  ports: [{number: 80, name: http, protocol: \"\"}]\n", 0, NULL },
	{ "se quoted on", SE_HDR "  hosts: [\"on\", 'yes']\n", 0, NULL },
	{ "se trailing dot", SE_HDR "  hosts: [example.com.]\n", 0, NULL },
	{ "se ip host", SE_HDR "  hosts: [a.com]\n  addresses: [\"::1\", 10.0.0.0/8, 2001:db8::/32]\n  resolution: STATIC\n", 0, NULL },
	{ "se null fields pruned", SE_HDR "  hosts: [a.com]\n  addresses:\n  ports: ~\n", 0, NULL },
	{ "se multi host http", SE_HDR "  hosts: [a.com, b.com]\n  resolution: DNS\n  ports: [{number: 80, name: http, protocol: HTTP}, {number: 443, name: tls, protocol: TLS}]\n", 0, NULL },
	{ "se json", "{\"apiVersion\": \"networking.istio.io/v1beta1\", \"kind\": \"ServiceEntry\",\n \"metadata\": {\"name\": \"j\"},\n \"spec\": {\"hosts\": [\"a.com\"], \"ports\": [{\"number\": 80, \"name\": \"http\"}]}}\n", 0, NULL },
	{ "list", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.istio.io/v1\n  kind: ServiceEntry\n  metadata: {name: x}\n  spec: {hosts: [a.com]}\n- apiVersion: networking.istio.io/v1alpha3\n  kind: DestinationRule\n  metadata: {name: yy}\n  spec: {host: a.com}\n", 0, NULL },
	{ "same name other ns", SE_HDR "  hosts: [a.com]\n---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: t, namespace: ns2}\nspec: {hosts: [a.com]}\n", 0, NULL },
	{ "same name other kind", SE_HDR "  hosts: [a.com]\n---\n" VS_HDR "  hosts: [a.com]\n" ROUTE, 0, NULL },
	{ "empty docs", "---\n---\n# nothing\n---\n" SE_HDR "  hosts: [a.com]\n---\n", 0, NULL },

	// VirtualService: must fail
	{ "vs delegate with gateways", VS_HDR "  gateways: [gw]\n" ROUTE, 7, "VirtualService ns1/t: spec.gateways: delegate virtual service must have no gateways specified" },
	{ "vs * for mesh", VS_HDR "  hosts: [\"*\"]\n" ROUTE, 7, "spec.hosts[0]: wildcard host * is not allowed for virtual services bound to the mesh gateway" },
	{ "vs * with mesh gateway", VS_HDR "  hosts: [\"*\"]\n  gateways: [gw, mesh]\n" ROUTE, 7, "wildcard host * is not allowed" },
	{ "vs dup hosts", VS_HDR "  hosts: [\"*.foo.com\", a.foo.com]\n" ROUTE, 7, "spec.hosts[1]: duplicate hosts in virtual service: \"*.foo.com\" & \"a.foo.com\"" },
	{ "vs bad host", VS_HDR "  hosts: [a_b]\n" ROUTE, 7, "spec.hosts[0]: domain name \"a_b\" invalid" },
	{ "vs no routes", VS_HDR "  hosts: [r]\n", 7, "spec: http, tcp or tls must be provided in virtual service" },
	{ "vs no spec", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: t}\n", 1, "spec: Required value" },
	{ "vs route missing", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - uri: {prefix: /}\n", 9, "spec.http[0]: HTTP route, redirect or direct_response is required" },
	{ "vs route empty", VS_HDR "  hosts: [r]\n  http:\n  - route: []\n", 9, "spec.http[0]: HTTP route, redirect or direct_response is required" },
	{ "vs http null", VS_HDR "  hosts: [r]\n  http: [~]\n", 8, "spec.http[0]: http route may not be null" },
	{ "vs dest host missing", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination:\n        subset: v1\n", 11, "spec.http[0].route[0].destination.host: Required value" },
	{ "vs dest missing", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - weight: 100\n", 10, "spec.http[0].route[0]: destination is required" },
	{ "vs dest *", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: \"*\"}\n", 10, "destination.host: invalid destination host *" },
	{ "vs dest bad host", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: \"a b\"}\n", 10, "destination.host: domain name \"a b\" invalid" },
	{ "vs subset", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r, subset: v_1}\n", 10, "destination.subset: subset name is invalid: \"v_1\"" },
	{ "vs port 0", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r, port: {number: 0}}\n", 10, "destination.port.number: port number 0 must be in the range 1..65535" },
	{ "vs port big", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination:\n        host: r\n        port:\n          number: 70000\n", 13, "spec.http[0].route[0].destination.port.number: port number 70000 must be in the range 1..65535" },
	{ "vs port empty", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r, port: {}}\n", 10, "port number 0 must be in the range" },
	{ "vs port name", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r, port: {name: http}}\n", 10, "destination.port.name: unknown field" },
	{ "vs weight negative", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r}\n      weight: -1\n", 11, "spec.http[0].route[0].weight: weight -1 < 0" },
	{ "vs weights zero", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: a}\n      weight: 0\n    - destination: {host: b}\n", 9, "spec.http[0].route: total destination weight = 0" },
	{ "vs weight int32", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: a}\n      weight: 2147483648\n", 11, "\"2147483648\" is out of range for int32" },
	{ "vs weight quoted", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: a}\n      weight: \"50\"\n", 11, "weight: expected an integer, got a string" },
	{ "vs weight sum u32", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - {destination: {host: a}, weight: 2147483647}\n    - {destination: {host: b}, weight: 2147483647}\n    - {destination: {host: c}, weight: 2147483647}\n", 9, "total destination weight 6442450941 is larger than 4294967295" },
	{ "vs timeout 0", VS_HDR "  hosts: [r]\n" ROUTE "    timeout: 0s\n", 12, "spec.http[0].timeout: duration must be greater than 1ms" },
	{ "vs timeout sub-ms", VS_HDR "  hosts: [r]\n" ROUTE "    timeout: 1.5ms\n", 12, "only durations to ms precision are supported" },
	{ "vs timeout text", VS_HDR "  hosts: [r]\n" ROUTE "    timeout: soon\n", 12, "\"soon\" is not a valid duration" },
	{ "vs timeout int", VS_HDR "  hosts: [r]\n" ROUTE "    timeout: 10\n", 12, "expected a duration string such as \"10s\"" },
	{ "vs timeout negative", VS_HDR "  hosts: [r]\n" ROUTE "    timeout: -1s\n", 12, "\"-1s\" is not a valid duration" },
	{ "vs timeout huge", VS_HDR "  hosts: [r]\n" ROUTE "    timeout: 100000000h\n", 12, "duration \"100000000h\" is out of range" },
	{ "vs uri two kinds", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - uri: {exact: /a, prefix: /b}\n    route: [{destination: {host: r}}]\n", 10, "spec.http[0].match[0].uri.prefix: only one of exact, prefix or regex may be set" },
	{ "vs uri unknown", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - uri: {exactly: /a}\n    route: [{destination: {host: r}}]\n", 10, "spec.http[0].match[0].uri.exactly: unknown field" },
	{ "vs uri scalar", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - uri: /a\n    route: [{destination: {host: r}}]\n", 10, "spec.http[0].match[0].uri: expected a mapping, got a string" },
	{ "vs regex paren", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - uri: {regex: \"/a(\"}\n    route: [{destination: {host: r}}]\n", 10, "\"uri\": missing closing ) in regex" },
	{ "vs regex lookahead", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - uri: {regex: \"/a(?=b)\"}\n    route: [{destination: {host: r}}]\n", 10, "lookaround is not supported" },
	{ "vs regex backref", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - headers: {x: {regex: \"(a)\\\\1\"}}\n    route: [{destination: {host: r}}]\n", 10, "\"headers\": backreferences are not supported" },
	{ "vs regex nested rep", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - uri: {regex: \"a**\"}\n    route: [{destination: {host: r}}]\n", 10, "repetition" },
	{ "vs regex count", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - uri: {regex: \"a{1001}\"}\n    route: [{destination: {host: r}}]\n", 10, "invalid repeat count" },
	{ "vs regex empty", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - uri: {regex: \"\"}\n    route: [{destination: {host: r}}]\n", 10, "regex string match should not be empty" },
	{ "vs scheme empty prefix", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - scheme: {prefix: \"\"}\n    route: [{destination: {host: r}}]\n", 10, "\"scheme\": prefix string match should not be empty" },
	{ "vs header name", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - headers: {\"bad header\": {exact: a}}\n    route: [{destination: {host: r}}]\n", 10, "spec.http[0].match[0].headers[bad header]: header name \"bad header\" is not a valid header name" },
	{ "vs header null", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - headers:\n        x-a:\n    route: [{destination: {host: r}}]\n", 11, "headers match \"x-a\" cannot be null" },
	{ "vs jwt claim mesh", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - headers: {\"@request.auth.claims.group\": {exact: a}}\n    route: [{destination: {host: r}}]\n", 10, "JWT claim based routing (key: \"@request.auth.claims.group\") is only supported for gateway" },
	{ "vs match port", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - port: 70000\n    route: [{destination: {host: r}}]\n", 10, "spec.http[0].match[0].port: port number 70000 must be in the range 1..65535" },
	{ "vs source ns", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - sourceNamespace: Bad_NS\n    route: [{destination: {host: r}}]\n", 10, "sourceNamespace match \"Bad_NS\" is invalid" },
	{ "vs source labels", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - sourceLabels: {app: \"x y\"}\n    route: [{destination: {host: r}}]\n", 10, "match[0].sourceLabels[app]: invalid label value" },
	{ "vs match gateways", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - gateways: [\"ns/\"]\n    route: [{destination: {host: r}}]\n", 10, "config namespace and gateway name cannot be empty" },
	{ "vs match unknown", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - url: {prefix: /}\n    route: [{destination: {host: r}}]\n", 10, "spec.http[0].match[0].url: unknown field" },
	{ "vs ignoreUriCase string", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - ignoreUriCase: \"true\"\n    route: [{destination: {host: r}}]\n", 10, "expected true or false" },
	{ "vs redirect + route", VS_HDR "  hosts: [r]\n" ROUTE "    redirect: {uri: /x}\n", 9, "spec.http[0]: HTTP route cannot contain both route and redirect" },
	{ "vs redirect empty", VS_HDR "  hosts: [r]\n  http:\n  - redirect: {redirectCode: 301}\n", 9, "spec.http[0].redirect: redirect must specify URI, authority, scheme, or port" },
	{ "vs redirect code", VS_HDR "  hosts: [r]\n  http:\n  - redirect: {uri: /x, redirectCode: 200}\n", 9, "redirectCode: 200 is not a valid redirect code, must be 3xx" },
	{ "vs redirect scheme", VS_HDR "  hosts: [r]\n  http:\n  - redirect: {scheme: ftp}\n", 9, "invalid redirect scheme, must be \"http\" or \"https\"" },
	{ "vs redirect port+derive", VS_HDR "  hosts: [r]\n  http:\n  - redirect: {port: 8080, derivePort: FROM_REQUEST_PORT}\n", 9, "only one of port or derivePort may be set" },
	{ "vs direct status", VS_HDR "  hosts: [r]\n  http:\n  - directResponse: {status: 700}\n", 9, "directResponse.status: HTTP status 700 is not in range 200-599" },
	{ "vs direct no status", VS_HDR "  hosts: [r]\n  http:\n  - directResponse: {body: {string: hi}}\n", 9, "directResponse.status: Required value" },
	{ "vs direct + route", VS_HDR "  hosts: [r]\n" ROUTE "    directResponse: {status: 200}\n", 9, "HTTP route cannot contain both route and direct_response" },
	{ "vs direct body both", VS_HDR "  hosts: [r]\n  http:\n  - directResponse: {status: 200, body: {string: a, bytes: YQ==}}\n", 9, "only one of string or bytes" },
	{ "vs direct bytes", VS_HDR "  hosts: [r]\n  http:\n  - directResponse: {status: 200, body: {bytes: \"not base64!\"}}\n", 9, "not valid base64" },
	{ "vs rewrite both", VS_HDR "  hosts: [r]\n" ROUTE "    rewrite: {uri: /a, uriRegexRewrite: {match: a, rewrite: b}}\n", 12, "rewrite may only contain one of URI or UriRegexRewrite" },
	{ "vs rewrite empty", VS_HDR "  hosts: [r]\n" ROUTE "    rewrite: {}\n", 12, "rewrite must specify at least one of URI, UriRegexRewrite, or authority" },
	{ "vs rewrite regex half", VS_HDR "  hosts: [r]\n" ROUTE "    rewrite: {uriRegexRewrite: {match: a}}\n", 12, "UriRegexRewrite requires both Rewrite and Match" },
	{ "vs rewrite + redirect", VS_HDR "  hosts: [r]\n  http:\n  - redirect: {uri: /x}\n    rewrite: {uri: /y}\n", 10, "HTTP route rule cannot contain both rewrite and redirect" },
	{ "vs authority twice", VS_HDR "  hosts: [r]\n" ROUTE "    rewrite: {authority: a.com}\n    headers:\n      request:\n        set: {\":authority\": b.com}\n", 15, "authority header cannot be set multiple times" },
	{ "vs header op host", VS_HDR "  hosts: [r]\n" ROUTE "    headers:\n      response:\n        set: {host: b.com}\n", 14, "spec.http[0].headers.response.set[host]: invalid header \"host\"" },
	{ "vs header op remove pseudo", VS_HDR "  hosts: [r]\n" ROUTE "    headers:\n      request:\n        remove: [\":path\"]\n", 14, "remove[0]: header name \":path\" is not a valid header name" },
	{ "vs header op remove host", VS_HDR "  hosts: [r]\n" ROUTE "    headers:\n      request:\n        remove: [Host]\n", 14, "invalid header \"Host\": header cannot have \":\" prefix or be the \"host\" header" },
	{ "vs header op value", VS_HDR "  hosts: [r]\n" ROUTE "    headers:\n      request:\n        add: {x-a: \"a\\r\\nb\"}\n", 14, "must not contain CR or LF" },
	{ "vs header op unknown", VS_HDR "  hosts: [r]\n" ROUTE "    headers:\n      request:\n        append: {x-a: b}\n", 14, "headers.request.append: unknown field" },
	{ "vs dest headers bad", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r}\n      headers: {response: {remove: [\"\"]}}\n", 11, "header name cannot be empty" },
	{ "vs retries negative", VS_HDR "  hosts: [r]\n" ROUTE "    retries: {attempts: -1}\n", 12, "retries.attempts: attempts cannot be negative" },
	{ "vs retries 0 with policy", VS_HDR "  hosts: [r]\n" ROUTE "    retries: {attempts: 0, perTryTimeout: 1s}\n", 12, "http retry policy configured when attempts are set to 0 (disabled)" },
	{ "vs retryOn", VS_HDR "  hosts: [r]\n" ROUTE "    retries: {attempts: 2, retryOn: \"5xx,bogus\"}\n", 12, "retries.retryOn: \"bogus\" is not a valid retryOn policy" },
	{ "vs retryOn space", VS_HDR "  hosts: [r]\n" ROUTE "    retries: {attempts: 2, retryOn: \"5xx, reset\"}\n", 12, "\" reset\" is not a valid retryOn policy" },
	{ "vs retryOn code", VS_HDR "  hosts: [r]\n" ROUTE "    retries: {attempts: 2, retryOn: \"599\"}\n", 12, "\"599\" is not a valid retryOn policy" },
	{ "vs perTryTimeout", VS_HDR "  hosts: [r]\n" ROUTE "    retries: {attempts: 2, perTryTimeout: 0.5ms}\n", 12, "duration must be greater than 1ms" },
	{ "vs fault empty", VS_HDR "  hosts: [r]\n" ROUTE "    fault: {}\n", 12, "fault: HTTP fault injection must have an abort and/or a delay" },
	{ "vs fault status", VS_HDR "  hosts: [r]\n" ROUTE "    fault: {abort: {httpStatus: 199}}\n", 12, "fault.abort.httpStatus: HTTP status 199 is not in range 200-599" },
	{ "vs fault grpc", VS_HDR "  hosts: [r]\n" ROUTE "    fault: {abort: {grpcStatus: NOPE}}\n", 12, "Unsupported value: \"NOPE\"" },
	{ "vs fault http2", VS_HDR "  hosts: [r]\n" ROUTE "    fault: {abort: {http2Error: REFUSED_STREAM}}\n", 12, "HTTP/2 abort fault injection not supported yet" },
	{ "vs fault two kinds", VS_HDR "  hosts: [r]\n" ROUTE "    fault: {abort: {httpStatus: 500, grpcStatus: INTERNAL}}\n", 12, "only one of httpStatus, grpcStatus or http2Error" },
	{ "vs fault percentage", VS_HDR "  hosts: [r]\n" ROUTE "    fault:\n      abort:\n        httpStatus: 500\n        percentage: {value: 101}\n", 15, "fault.abort.percentage: percentage 101 is neither 0.0, nor in range [0.0001, 100.0]" },
	{ "vs fault tiny percentage", VS_HDR "  hosts: [r]\n" ROUTE "    fault: {delay: {fixedDelay: 1s, percentage: {value: 0.00001}}}\n", 12, "is neither 0.0, nor in range" },
	{ "vs fault percent", VS_HDR "  hosts: [r]\n" ROUTE "    fault: {delay: {fixedDelay: 1s, percent: 101}}\n", 12, "percentage 101 is not in range 0..100" },
	{ "vs fault exponential", VS_HDR "  hosts: [r]\n" ROUTE "    fault: {delay: {exponentialDelay: 1s}}\n", 12, "exponentialDelay not supported yet" },
	{ "vs fault delay both", VS_HDR "  hosts: [r]\n" ROUTE "    fault: {delay: {fixedDelay: 1s, exponentialDelay: 1s}}\n", 12, "only one of fixedDelay or exponentialDelay" },
	{ "vs fault + redirect", VS_HDR "  hosts: [r]\n  http:\n  - redirect: {uri: /x}\n    fault: {abort: {httpStatus: 500}}\n", 10, "HTTP route cannot contain both fault and redirect" },
	{ "vs mirror + mirrors", VS_HDR "  hosts: [r]\n" ROUTE "    mirror: {host: m}\n    mirrors: [{destination: {host: m}}]\n", 13, "HTTP route cannot contain both mirror and mirrors" },
	{ "vs mirrors no dest", VS_HDR "  hosts: [r]\n" ROUTE "    mirrors: [{percentage: {value: 5}}]\n", 12, "mirrors[0]: destination is required for mirrors" },
	{ "vs mirrors pct", VS_HDR "  hosts: [r]\n" ROUTE "    mirrors: [{destination: {host: m}, percentage: {value: 150}}]\n", 12, "mirror percentage must have a max value of 100" },
	{ "vs mirrorPercentage", VS_HDR "  hosts: [r]\n" ROUTE "    mirror: {host: m}\n    mirrorPercentage: {value: 101}\n", 13, "mirror_percentage must have a max value of 100" },
	{ "vs mirror_percent", VS_HDR "  hosts: [r]\n" ROUTE "    mirror: {host: m}\n    mirror_percent: 101\n", 13, "mirror_percent must have a max value of 100 (it has 101)" },
	{ "vs mirror bad host", VS_HDR "  hosts: [r]\n" ROUTE "    mirror: {host: \"*\"}\n", 12, "mirror.host: invalid destination host *" },
	{ "vs cors method", VS_HDR "  hosts: [r]\n" ROUTE "    corsPolicy: {allowMethods: [GET, FETCH]}\n", 12, "corsPolicy.allowMethods[1]: Unsupported value: \"FETCH\"" },
	{ "vs cors maxAge", VS_HDR "  hosts: [r]\n" ROUTE "    corsPolicy: {maxAge: 1500ms}\n", 12, "max_age duration is accurate only to seconds precision" },
	{ "vs cors origin empty", VS_HDR "  hosts: [r]\n" ROUTE "    corsPolicy: {allowOrigins: [{}]}\n", 12, "is not a valid match type for CORS allow origins" },
	{ "vs cors preflight", VS_HDR "  hosts: [r]\n" ROUTE "    corsPolicy: {unmatchedPreflights: DROP}\n", 12, "Unsupported value: \"DROP\"" },
	{ "vs root route + route", VS_HDR "  hosts: [r]\n  http:\n  - delegate: {name: d, namespace: nsx}\n    route: [{destination: {host: r}}]\n", 10, "spec.http[0]: root HTTP route must not specify route" },
	{ "vs delegate in delegate", VS_HDR "  http:\n  - delegate: {name: d}\n    route: [{destination: {host: r}}]\n", 8, "delegate HTTP route cannot contain delegate" },
	{ "vs delegate tcp", VS_HDR "  tcp:\n  - route: [{destination: {host: r}}]\n", 7, "delegate virtual service must have no tcp route specified" },
	{ "vs delegate tls", VS_HDR "  tls:\n  - match: [{sniHosts: [a.com]}]\n    route: [{destination: {host: r}}]\n", 7, "delegate virtual service must have no tls route specified" },
	{ "vs tcp no route", VS_HDR "  hosts: [r]\n  tcp:\n  - match: [{port: 5432}]\n", 9, "spec.tcp[0]: TCP route is required" },
	{ "vs tcp subnet", VS_HDR "  hosts: [r]\n  tcp:\n  - match: [{destinationSubnets: [10.0.0.0/33]}]\n    route: [{destination: {host: r}}]\n", 9, "\"10.0.0.0/33\" is not a valid CIDR block" },
	{ "vs tcp weights", VS_HDR "  hosts: [r]\n  tcp:\n  - route: [{destination: {host: a}, weight: 0}, {destination: {host: b}, weight: 0}]\n", 9, "total destination weight = 0" },
	{ "vs tcp route headers", VS_HDR "  hosts: [r]\n  tcp:\n  - route: [{destination: {host: a}, headers: {}}]\n", 9, "tcp[0].route[0].headers: unknown field" },
	{ "vs tls no match", VS_HDR "  hosts: [a.com]\n  tls:\n  - route: [{destination: {host: r}}]\n", 9, "TLS route must have at least one match condition" },
	{ "vs tls no sni", VS_HDR "  hosts: [a.com]\n  tls:\n  - match: [{port: 443}]\n    route: [{destination: {host: r}}]\n", 9, "TLS match must have at least one SNI host" },
	{ "vs tls sni subset", VS_HDR "  hosts: [a.com]\n  tls:\n  - match: [{sniHosts: [b.com]}]\n    route: [{destination: {host: r}}]\n", 9, "tls[0].match[0].sniHosts[0]: SNI host \"b.com\" is not a compatible subset" },
	{ "vs exportTo ~", VS_HDR "  hosts: [r]\n" ROUTE "  exportTo: [\"~\"]\n", 12, "exportTo ~ (none) is not allowed" },
	{ "vs unknown route field", VS_HDR "  hosts: [r]\n  http:\n  - routes: [{destination: {host: r}}]\n", 9, "spec.http[0].routes: unknown field" },
	{ "vs unknown spec field", VS_HDR "  hosts: [r]\n" ROUTE "  grpc: []\n", 12, "spec.grpc: unknown field" },
	{ "vs gateway ns", VS_HDR "  hosts: [r]\n  gateways: [\"Bad_ns/gw\"]\n" ROUTE, 8, "spec.gateways[0]: invalid value for namespace: \"Bad_ns/gw\"" },
	{ "vs host bool", VS_HDR "  hosts: [yes]\n" ROUTE, 7, "expected a string, got a boolean (\"yes\")" },
	{ "vs hosts scalar", VS_HDR "  hosts: reviews\n" ROUTE, 7, "spec.hosts: expected a list" },
	{ "vs header exact bool", VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - headers: {x-debug: {exact: on}}\n    route: [{destination: {host: r}}]\n", 10, "headers[x-debug].exact: expected a string, got a boolean (\"on\"); quote it" },

	// VirtualService: must load
	{ "vs minimal", VS_HDR "  hosts: [r]\n" ROUTE, 0, NULL },
	{ "vs single zero weight", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r}\n      weight: 0\n", 0, NULL },
	{ "vs weights not 100", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - {destination: {host: a}, weight: 30}\n    - {destination: {host: b}, weight: 30}\n    - {destination: {host: c}}\n", 0, NULL },
	{ "vs weights over 100", VS_HDR "  hosts: [r]\n  http:\n  - route:\n    - {destination: {host: a}, weight: 500}\n    - {destination: {host: b}, weight: 1000}\n", 0, NULL },
	{ "vs delegate vs", VS_HDR "  http:\n  - match: [{uri: {prefix: /a}}]\n    route: [{destination: {host: r}}]\n", 0, NULL },
	{ "vs root with delegate", VS_HDR "  hosts: [r]\n  http:\n  - match: [{uri: {prefix: /a}}]\n    delegate: {name: d, namespace: nsx}\n", 0, NULL },
	{ "vs ip host", VS_HDR "  hosts: [10.0.0.1, \"2001:db8::1\"]\n" ROUTE, 0, NULL },
	{ "vs gateway *", VS_HDR "  hosts: [\"*\"]\n  gateways: [istio-system/gw, gw2.ns.svc.cluster.local]\n" ROUTE, 0, NULL },
	{ "vs uri empty prefix", VS_HDR "  hosts: [r]\n  http:\n  - match: [{uri: {prefix: \"\"}}, {uri: {}}]\n    route: [{destination: {host: r}}]\n", 0, NULL },
	{ "vs without headers *", VS_HDR "  hosts: [r]\n  http:\n  - match: [{withoutHeaders: {x-a: {regex: \"*\"}}, headers: {x-b: {}}}]\n    route: [{destination: {host: r}}]\n", 0, NULL },
	{ "vs jwt claim gateway", VS_HDR "  hosts: [r]\n  gateways: [gw]\n  http:\n  - match: [{headers: {\"@request.auth.claims.group\": {exact: a}}}]\n    route: [{destination: {host: r}}]\n", 0, NULL },
	{ "vs redirect only", VS_HDR "  hosts: [r]\n  http:\n  - redirect: {uri: /new, authority: b.com, redirectCode: 308, scheme: https, derivePort: FROM_PROTOCOL_DEFAULT}\n", 0, NULL },
	{ "vs direct only", VS_HDR "  hosts: [r]\n  http:\n  - directResponse: {status: 503, body: {string: \"down\"}}\n", 0, NULL },
	{ "vs tcp tls", VS_HDR "  hosts: [a.com, \"*.b.com\"]\n  tcp:\n  - match: [{port: 5432, destinationSubnets: [10.0.0.0/8], sourceLabels: {app: x}}]\n    route: [{destination: {host: db, port: {number: 5432}}}]\n  tls:\n  - match: [{sniHosts: [a.com, x.b.com], port: 443}]\n    route: [{destination: {host: egress}}]\n", 0, NULL },
	{ "vs regex ok", VS_HDR "  hosts: [r]\n  http:\n  - match: [{uri: {regex: \"^/api/v[0-9]+/(users|items)/[^/]*$\"}}, {authority: {regex: \"(?i)a{1,3}\\\\.example\\\\.com\"}}]\n    route: [{destination: {host: r}}]\n", 0, NULL },
	{ "vs ns gateway match", VS_HDR "  hosts: [r]\n  http:\n  - match: [{gateways: [mesh], sourceNamespace: ns2, statPrefix: s}]\n    route: [{destination: {host: r}}]\n", 0, NULL },
	{ "vs json", "{\"apiVersion\": \"networking.istio.io/v1alpha3\", \"kind\": \"VirtualService\", \"metadata\": {\"name\": \"j\"},\n \"spec\": {\"hosts\": [\"r\"], \"http\": [{\"route\": [{\"destination\": {\"host\": \"r\"}, \"weight\": 100}], \"timeout\": \"2.5s\"}]}}\n", 0, NULL },
	// DestinationRule: must fail
	{ "dr no host", DR_HDR "  subsets: [{name: v1}]\n", 7, "DestinationRule ns1/t: spec.host: Required value" },
	{ "dr host null", DR_HDR "  host: ~\n", 7, "spec.host: Required value" },
	{ "dr host bad", DR_HDR "  host: a_b.com\n", 7, "spec.host: domain name \"a_b.com\" invalid (label \"a_b\" invalid)" },
	{ "dr host empty", DR_HDR "  host: \"\"\n", 7, "spec.host: empty domain name not allowed" },
	{ "dr host suffix wildcard", DR_HDR "  host: \"a.*\"\n", 7, "invalid (label \"*\" invalid)" },
	{ "dr host list", DR_HDR "  host: [a.com]\n", 7, "spec.host: expected a string, got a list" },
	{ "dr hosts field", DR_HDR "  host: r\n  hosts: [r]\n", 8, "spec.hosts: unknown field" },
	{ "dr subset dup", DR_HDR "  host: r\n  subsets:\n  - name: v1\n  - name: v1\n", 10, "spec.subsets[1].name: duplicate subset names: v1" },
	{ "dr subset bad name", DR_HDR "  host: r\n  subsets:\n  - name: v_1\n", 9, "spec.subsets[0].name: subset name is invalid: \"v_1\"" },
	{ "dr subset empty name", DR_HDR "  host: r\n  subsets:\n  - name: \"\"\n", 9, "spec.subsets[0].name: subset name cannot be empty" },
	{ "dr subset no name", DR_HDR "  host: r\n  subsets:\n  - labels: {version: v1}\n", 9, "spec.subsets[0].name: Required value" },
	{ "dr subset null", DR_HDR "  host: r\n  subsets: [~]\n", 8, "spec.subsets[0]: subset may not be null" },
	{ "dr subset label value", DR_HDR "  host: r\n  subsets:\n  - name: v1\n    labels: {version: \"v 1\"}\n", 10, "spec.subsets[0].labels[version]: invalid label value: \"v 1\"" },
	{ "dr subset label key", DR_HDR "  host: r\n  subsets:\n  - name: v1\n    labels: {\"a/b/c\": x}\n", 10, "invalid label key: \"a/b/c\"" },
	{ "dr subset label number", DR_HDR "  host: r\n  subsets:\n  - name: v1\n    labels: {version: 1.10}\n", 10, "labels[version]: expected a string, got a number" },
	{ "dr subset policy", DR_HDR "  host: r\n  subsets:\n  - name: v1\n    trafficPolicy: {loadBalancer: {simple: FASTEST}}\n", 10, "spec.subsets[0].trafficPolicy.loadBalancer.simple: Unsupported value: \"FASTEST\"" },
	{ "dr policy empty", DR_HDR "  host: r\n  trafficPolicy: {}\n", 8, "spec.trafficPolicy: traffic policy must have at least one field" },
	{ "dr policy only empty ports", DR_HDR "  host: r\n  trafficPolicy: {portLevelSettings: []}\n", 8, "traffic policy must have at least one field" },
	{ "dr mutual no cert", DR_HDR "  host: r\n  trafficPolicy:\n    tls:\n      mode: MUTUAL\n", 10, "spec.trafficPolicy.tls: client certificate required for mutual tls" },
	{ "dr mutual no key", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: MUTUAL, clientCertificate: /c.pem}\n", 9, "spec.trafficPolicy.tls: private key required for mutual tls" },
	{ "dr mutual empty cert", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: MUTUAL, clientCertificate: \"\", privateKey: /k.pem}\n", 9, "client certificate required for mutual tls" },
	{ "dr istio mutual cert", DR_HDR "  host: r\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n      clientCertificate: /c.pem\n", 11, "spec.trafficPolicy.tls.clientCertificate: ISTIO_MUTUAL TLS cannot have associated client certificate" },
	{ "dr istio mutual credential", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL, credentialName: c}\n", 9, "ISTIO_MUTUAL TLS cannot have associated credentialName" },
	{ "dr istio mutual ca", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL, caCertificates: /ca.pem}\n", 9, "ISTIO_MUTUAL TLS cannot have associated CA bundle" },
	{ "dr credential + ca", DR_HDR "  host: r\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n      credentialName: c\n      caCertificates: /ca.pem\n", 11, "tls.credentialName: cannot specify client certificates or CA certificate or CA CRL If credentialName is set" },
	{ "dr insecure + sans", DR_HDR "  host: r\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n      subjectAltNames: [a.com]\n      insecureSkipVerify: true\n", 12, "tls.insecureSkipVerify: cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true" },
	{ "dr insecure mutual ca", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: MUTUAL, credentialName: c, caCertificates: /ca.pem, insecureSkipVerify: true}\n", 9, "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true" },
	{ "dr tls mode bad", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: STRICT}\n", 9, "spec.trafficPolicy.tls.mode: Unsupported value: \"STRICT\": supported values: \"DISABLE\", \"SIMPLE\", \"MUTUAL\", \"ISTIO_MUTUAL\"" },
	{ "dr tls mode lowercase", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: simple}\n", 9, "Unsupported value: \"simple\"" },
	{ "dr tls unknown", DR_HDR "  host: r\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n      sniHost: a.com\n", 11, "spec.trafficPolicy.tls.sniHost: unknown field" },
	{ "dr tls insecure string", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: SIMPLE, insecureSkipVerify: \"true\"}\n", 9, "tls.insecureSkipVerify: expected true or false, got a string" },
	{ "dr tls sans scalar", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: SIMPLE, subjectAltNames: a.com}\n", 9, "tls.subjectAltNames: expected a list" },
	{ "dr lb simple bad", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer: {simple: FASTEST}\n", 9, "loadBalancer.simple: Unsupported value: \"FASTEST\"" },
	{ "dr lb simple + hash", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      simple: RANDOM\n      consistentHash: {useSourceIp: true}\n", 11, "spec.trafficPolicy.loadBalancer: only one of simple or consistentHash may be set" },
	{ "dr hash two keys", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n        httpHeaderName: x-user\n        useSourceIp: true\n", 12, "consistentHash.useSourceIp: only one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName may be set" },
	{ "dr hash no key", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {ringHash: {minimumRingSize: 1024}}\n", 10, "consistentHash: consistentHash must set one of httpHeaderName, httpCookie, useSourceIp or httpQueryParameterName" },
	{ "dr hash header bad", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {httpHeaderName: \"x user\"}\n", 10, "consistentHash.httpHeaderName: header name \"x user\" is not a valid header name" },
	{ "dr hash cookie no name", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n        httpCookie: {path: /, ttl: 0s}\n", 11, "consistentHash.httpCookie: name required for HttpCookie" },
	{ "dr hash cookie ttl", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {httpCookie: {name: u, ttl: 10}}\n", 10, "httpCookie.ttl: expected a duration string" },
	{ "dr maglev not prime", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        maglev: {tableSize: 65536}\n", 12, "consistentHash.maglev: tableSize must be a prime number for maglev" },
	{ "dr maglev too large", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {useSourceIp: true, maglev: {tableSize: 5000011}}\n", 10, "tableSize must be less than 5000011 for maglev" },
	{ "dr maglev zero", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {useSourceIp: true, maglev: {}}\n", 10, "tableSize must be set for maglev" },
	{ "dr maglev + ring", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        ringHash: {minimumRingSize: 64}\n        maglev: {tableSize: 65537}\n", 13, "consistentHash.maglev: only one of ringHash or maglev may be set" },
	{ "dr minimumRingSize + ringHash", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n        useSourceIp: true\n        minimumRingSize: 64\n        ringHash: {minimumRingSize: 64}\n", 12, "consistentHash.minimumRingSize: only one of MinimumRingSize or Maglev/Ringhash can be specified" },
	{ "dr warmup pct", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      warmup: {duration: 10s, minimumPercent: -1}\n", 10, "warmup.minimumPercent: Invalid value: -1: should be greater than or equal to 0" },
	{ "dr warmup no duration", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      warmup: {aggression: 2}\n", 10, "loadBalancer.warmup.duration: Required value" },
	{ "dr warmupDurationSecs", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer: {warmupDurationSecs: 0s}\n", 9, "loadBalancer.warmupDurationSecs: duration must be greater than 1ms" },
	{ "dr locality both", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute: [{from: us-west/*, to: {\"us-west/*\": 100}}]\n        failover: [{from: us-east, to: eu-west}]\n", 11, "localityLbSetting: can not simultaneously specify 'distribute' and 'failover'" },
	{ "dr locality weight sum", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - from: us-west/zone1/*\n          to: {\"us-west/zone1/*\": 80, \"us-west/zone2/*\": 10}\n", 12, "localityLbSetting.distribute[0]: total locality weight 90 != 100" },
	{ "dr locality weight 0", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute: [{from: a, to: {b: 0, c: 100}}]\n", 11, "locality weight must be in range [1, 100]" },
	{ "dr locality wildcard middle", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute: [{from: \"us-*/zone1\", to: {a: 100}}]\n", 11, "locality \"us-*/zone1\" wildcard '*' number can not exceed 1 and must be in the end" },
	{ "dr locality overlap", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - {from: us-west/*, to: {a: 100}}\n        - {from: us-west/zone1, to: {a: 100}}\n", 11, "localityLbSetting.distribute: locality \"us-west/zone1\" overlap with previous specified ones" },
	{ "dr locality to overlap", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute:\n        - {from: a, to: {\"r1/z1\": 50, \"r1/z1/s1\": 50}}\n", 12, "distribute[0]: locality \"r1/z1/s1\" overlap with previous specified ones" },
	{ "dr locality empty zone", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        distribute: [{from: \"us//z\", to: {a: 100}}]\n", 11, "must not contain empty region/zone/subzone info" },
	{ "dr failover same", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        failover:\n        - {from: us-east, to: us-east}\n", 12, "localityLbSetting.failover[0]: locality lb failover settings must specify different regions" },
	{ "dr failover zone", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        failover: [{from: us-east/z1, to: us-west}]\n", 11, "locality lb failover only specify region" },
	{ "dr failover topology", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        failover: [{from: us-east, to: us-west}]\n        failoverPriority: [topology.kubernetes.io/zone]\n", 12, "localityLbSetting.failoverPriority: can not simultaneously set 'failover' and topology label 'topology.kubernetes.io/zone'" },
	{ "dr outlier pct", DR_HDR "  host: r\n  trafficPolicy:\n    outlierDetection: {maxEjectionPercent: 101}\n", 9, "outlierDetection.maxEjectionPercent: percentage 101 is not in range 0..100" },
	{ "dr outlier min health", DR_HDR "  host: r\n  trafficPolicy:\n    outlierDetection: {minHealthPercent: -5}\n", 9, "percentage -5 is not in range 0..100" },
	{ "dr outlier interval", DR_HDR "  host: r\n  trafficPolicy:\n    outlierDetection: {interval: 0.5ms}\n", 9, "outlierDetection.interval: duration must be greater than 1ms" },
	{ "dr outlier ejection", DR_HDR "  host: r\n  trafficPolicy:\n    outlierDetection: {baseEjectionTime: 1500us}\n", 9, "only durations to ms precision are supported" },
	{ "dr outlier local origin", DR_HDR "  host: r\n  trafficPolicy:\n    outlierDetection:\n      consecutiveLocalOriginFailures: 3\n", 10, "outlierDetection.consecutiveLocalOriginFailures: outlier detection consecutive local origin failures is specified, but split external local origin errors is set to false" },
	{ "dr outlier 5xx negative", DR_HDR "  host: r\n  trafficPolicy:\n    outlierDetection: {consecutive5xxErrors: -1}\n", 9, "\"-1\" is out of range for uint32" },
	{ "dr outlier unknown", DR_HDR "  host: r\n  trafficPolicy:\n    outlierDetection: {consecutive5XXErrors: 1}\n", 9, "outlierDetection.consecutive5XXErrors: unknown field" },
	{ "dr pool empty", DR_HDR "  host: r\n  trafficPolicy:\n    connectionPool: {}\n", 9, "spec.trafficPolicy.connectionPool: connection pool must have at least one field" },
	{ "dr pool negative", DR_HDR "  host: r\n  trafficPolicy:\n    connectionPool: {tcp: {maxConnections: -1}}\n", 9, "connectionPool.tcp.maxConnections: max connections must be non-negative" },
	{ "dr pool int32", DR_HDR "  host: r\n  trafficPolicy:\n    connectionPool: {http: {http2MaxRequests: 4294967295}}\n", 9, "out of range for int32" },
	{ "dr pool connect timeout", DR_HDR "  host: r\n  trafficPolicy:\n    connectionPool: {tcp: {connectTimeout: 0s}}\n", 9, "connectionPool.tcp.connectTimeout: duration must be greater than 1ms" },
	{ "dr pool keepalive", DR_HDR "  host: r\n  trafficPolicy:\n    connectionPool: {tcp: {tcpKeepalive: {time: 7200}}}\n", 9, "tcpKeepalive.time: expected a duration string" },
	{ "dr pool pending", DR_HDR "  host: r\n  trafficPolicy:\n    connectionPool: {http: {http1MaxPendingRequests: -2}}\n", 9, "http1 max pending requests must be non-negative" },
	{ "dr h2 upgrade enum", DR_HDR "  host: r\n  trafficPolicy:\n    connectionPool: {http: {h2UpgradePolicy: ALWAYS}}\n", 9, "http.h2UpgradePolicy: Unsupported value: \"ALWAYS\": supported values: \"DEFAULT\", \"DO_NOT_UPGRADE\", \"UPGRADE\"" },
	{ "dr h2 upgrade + client protocol", DR_HDR "  host: r\n  trafficPolicy:\n    connectionPool:\n      http:\n        h2UpgradePolicy: UPGRADE\n        useClientProtocol: true\n", 12, "http.useClientProtocol: use client protocol must not be true when H2UpgradePolicy is UPGRADE" },
	{ "dr h2 keepalive", DR_HDR "  host: r\n  trafficPolicy:\n    connectionPool: {http: {http2KeepAlive: {interval: 0s}}}\n", 9, "http2KeepAlive.interval: duration must be greater than 1ms" },
	{ "dr port level no port", DR_HDR "  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - tls: {mode: SIMPLE}\n", 10, "spec.trafficPolicy.portLevelSettings[0].port: Required value" },
	{ "dr port level empty", DR_HDR "  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 80}\n", 10, "portLevelSettings[0]: port traffic policy must have at least one field" },
	{ "dr port level 0", DR_HDR "  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 0}\n      tls: {mode: SIMPLE}\n", 10, "portLevelSettings[0].port.number: port number 0 must be in the range 1..65535" },
	{ "dr port level name", DR_HDR "  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - port: {name: http}\n      tls: {mode: SIMPLE}\n", 10, "port.name: unknown field" },
	{ "dr port level dup", DR_HDR "  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 80}\n      tls: {mode: SIMPLE}\n    - port: {number: 80}\n      loadBalancer: {simple: RANDOM}\n", 12, "portLevelSettings[1].port: Duplicate value: port 80 already has a port-level traffic policy" },
	{ "dr port level tls", DR_HDR "  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 443}\n      tls:\n        mode: MUTUAL\n", 12, "spec.trafficPolicy.portLevelSettings[0].tls: client certificate required for mutual tls" },
	{ "dr port level null", DR_HDR "  host: r\n  trafficPolicy:\n    portLevelSettings: [~]\n", 9, "portLevelSettings[0]: traffic policy may not be null" },
	{ "dr port level tunnel", DR_HDR "  host: r\n  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 80}\n      tunnel: {targetHost: a.com, targetPort: 80}\n", 11, "portLevelSettings[0].tunnel: unknown field" },
	{ "dr tunnel + proxy", DR_HDR "  host: r\n  trafficPolicy:\n    tunnel: {targetHost: a.com, targetPort: 8443}\n    proxyProtocol: {version: V2}\n", 10, "spec.trafficPolicy: tunnel and proxyProtocol must not be set together" },
	{ "dr tunnel protocol", DR_HDR "  host: r\n  trafficPolicy:\n    tunnel: {protocol: GET, targetHost: a.com, targetPort: 1}\n", 9, "tunnel.protocol: tunnel protocol must be \"CONNECT\" or \"POST\"" },
	{ "dr tunnel port", DR_HDR "  host: r\n  trafficPolicy:\n    tunnel: {targetHost: a.com, targetPort: 0}\n", 9, "tunnel.targetPort: tunnel target port is invalid: port number 0 must be in the range 1..65535" },
	{ "dr tunnel host", DR_HDR "  host: r\n  trafficPolicy:\n    tunnel: {targetHost: \"a b\", targetPort: 1}\n", 9, "tunnel target host must be valid FQDN or IP address" },
	{ "dr tunnel no host", DR_HDR "  host: r\n  trafficPolicy:\n    tunnel: {targetPort: 1}\n", 9, "spec.trafficPolicy.tunnel.targetHost: Required value" },
	{ "dr proxy version", DR_HDR "  host: r\n  trafficPolicy:\n    proxyProtocol: {version: V3}\n", 9, "proxyProtocol.version: Unsupported value: \"V3\"" },
	{ "dr retry budget", DR_HDR "  host: r\n  trafficPolicy:\n    retryBudget: {percent: 101}\n", 9, "retryBudget.percent: Invalid value: 101: should be less than or equal to 100" },
	{ "dr exportTo ~", DR_HDR "  host: r\n  exportTo: [\"~\"]\n", 8, "spec.exportTo[0]: exportTo ~ (none) is not allowed" },
	{ "dr exportTo dup", DR_HDR "  host: r\n  exportTo: [., ns1]\n", 8, "duplicate entries in exportTo: . and current namespace ns1" },
	{ "dr selector export beyond", DR_HDR "  host: r\n  workloadSelector: {matchLabels: {app: a}}\n  exportTo: [\"*\"]\n", 9, "spec.exportTo: destination rule with workload selector cannot have exportTo beyond current namespace" },
	{ "dr selector export multiple", DR_HDR "  host: r\n  workloadSelector: {matchLabels: {app: a}}\n  exportTo: [., ns2]\n", 9, "destination rule with workload selector cannot have multiple entries in exportTo" },
	{ "dr empty selector export beyond", DR_HDR "  host: r\n  workloadSelector: {}\n  exportTo: [\"*\"]\n", 9, "cannot have exportTo beyond current namespace" },
	{ "dr selector wildcard", DR_HDR "  host: r\n  workloadSelector:\n    matchLabels: {app: \"a*\"}\n", 9, "spec.workloadSelector.matchLabels[app]: wildcard is not supported in selector" },
	{ "dr selector labels", DR_HDR "  host: r\n  workloadSelector:\n    labels: {app: a}\n", 9, "spec.workloadSelector.labels: unknown field" },
	{ "dr no spec", "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: t}\n", 1, "DestinationRule default/t: spec: Required value" },
	{ "dr v1alpha1", "apiVersion: networking.istio.io/v1alpha1\nkind: DestinationRule\nmetadata: {name: t}\nspec: {host: r}\n", 1, "DestinationRule is not served as \"networking.istio.io/v1alpha1\"" },
	{ "dr same name twice", DR_HDR "  host: r\n---\n" DR_HDR "  host: s\n", 9, "DestinationRule ns1/t: already defined at case.yaml:1" },

	// DestinationRule: must load
	{ "dr minimal", DR_HDR "  host: r\n", 0, NULL },
	{ "dr wildcard host", DR_HDR "  host: \"*.example.com\"\n", 0, NULL },
	{ "dr star host", DR_HDR "  host: \"*\"\n", 0, NULL },
	{ "dr null fields pruned", DR_HDR "  host: r\n  trafficPolicy:\n  subsets: ~\n", 0, NULL },
	{ "dr subsets", DR_HDR "  host: reviews.prod.svc.cluster.local\n  subsets:\n  - name: v1\n    labels: {version: v1}\n  - name: v2\n    labels: {version: v2, \"app.kubernetes.io/name\": reviews}\n    trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}\n  - name: egress-sni\n", 0, NULL },
	{ "dr mutual files", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, caCertificates: /ca.pem, caCrl: /crl.pem, sni: r.example, subjectAltNames: [r.example]}\n", 0, NULL },
	{ "dr mutual credential", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: MUTUAL, credentialName: client-credential}\n", 0, NULL },
	{ "dr istio mutual sni", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: ISTIO_MUTUAL, sni: my.sni, subjectAltNames: [\"spiffe://cluster.local/ns/a/sa/b\"]}\n", 0, NULL },
	{ "dr simple insecure", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {mode: SIMPLE, insecureSkipVerify: true, sni: r.example}\n", 0, NULL },
	{ "dr tls empty", DR_HDR "  host: r\n  trafficPolicy:\n    tls: {}\n", 0, NULL },
	{ "dr lb simple all", DR_HDR "  host: r\n  subsets:\n  - {name: a, trafficPolicy: {loadBalancer: {simple: UNSPECIFIED}}}\n  - {name: b, trafficPolicy: {loadBalancer: {simple: LEAST_CONN}}}\n  - {name: c, trafficPolicy: {loadBalancer: {simple: RANDOM}}}\n  - {name: d, trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}}\n  - {name: e, trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}}\n", 0, NULL },
	{ "dr hash cookie", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash:\n        httpCookie: {name: user, path: /, ttl: 0s, attributes: [{name: SameSite, value: Strict}]}\n        ringHash: {minimumRingSize: 2048}\n", 0, NULL },
	{ "dr hash query maglev", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {httpQueryParameterName: user, maglev: {tableSize: 65537}}\n", 0, NULL },
	{ "dr hash deprecated ring", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      consistentHash: {useSourceIp: true, minimumRingSize: 128}\n", 0, NULL },
	{ "dr locality distribute", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        enabled: true\n        distribute:\n        - from: us-west/zone1/*\n          to: {\"us-west/zone1/*\": 80, \"us-west/zone2/*\": 20}\n        - from: us-west/zone2/*\n          to: {\"us-west/zone1/*\": 20, \"us-west/zone2/*\": 80}\n", 0, NULL },
	{ "dr locality failover", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer:\n      localityLbSetting:\n        failover: [{from: us-east, to: eu-west}, {from: us-west, to: us-east}]\n        failoverPriority: [network.istio.io/subzone, \"app=foo\"]\n    outlierDetection: {consecutive5xxErrors: 100, interval: 1s, baseEjectionTime: 1m}\n", 0, NULL },
	{ "dr warmup", DR_HDR "  host: r\n  trafficPolicy:\n    loadBalancer: {simple: ROUND_ROBIN, warmupDurationSecs: 60s, warmup: {duration: 1m, minimumPercent: 0, aggression: 1.5}}\n", 0, NULL },
	{ "dr pool full", DR_HDR "  host: r\n  trafficPolicy:\n    connectionPool:\n      tcp: {maxConnections: 100, connectTimeout: 30ms, tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}, maxConnectionDuration: 1h, idleTimeout: 5m}\n      http: {http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRequestsPerConnection: 1, maxRetries: 3, idleTimeout: 30s, h2UpgradePolicy: DO_NOT_UPGRADE, useClientProtocol: true, maxConcurrentStreams: 100}\n", 0, NULL },
	{ "dr outlier full", DR_HDR "  host: r\n  trafficPolicy:\n    outlierDetection: {consecutiveErrors: 7, consecutiveGatewayErrors: 0, consecutive5xxErrors: 0, interval: 5m, baseEjectionTime: 15m, maxEjectionPercent: 100, minHealthPercent: 50, splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 2}\n", 0, NULL },
	{ "dr tunnel", DR_HDR "  host: r\n  trafficPolicy:\n    tunnel: {protocol: POST, targetHost: 10.0.0.1, targetPort: 8443}\n", 0, NULL },
	{ "dr proxy protocol", DR_HDR "  host: r\n  trafficPolicy:\n    proxyProtocol: {}\n", 0, NULL },
	{ "dr retry budget ok", DR_HDR "  host: r\n  trafficPolicy:\n    retryBudget: {percent: 25.5, minRetryConcurrency: 5}\n", 0, NULL },
	{ "dr selector export .", DR_HDR "  host: r\n  workloadSelector: {matchLabels: {app: ratings}}\n  exportTo: [.]\n", 0, NULL },
	{ "dr v1alpha3", "apiVersion: networking.istio.io/v1alpha3\nkind: DestinationRule\nmetadata: {name: t}\nspec: {host: r, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}\n", 0, NULL },
	{ "dr v1beta1", "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: t}\nspec: {host: r}\n", 0, NULL },
	{ "dr json", "{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"DestinationRule\", \"metadata\": {\"name\": \"j\"},\n \"spec\": {\"host\": \"r\", \"trafficPolicy\": {\"portLevelSettings\": [{\"port\": {\"number\": 443}, \"tls\": {\"mode\": \"SIMPLE\"}}]}}}\n", 0, NULL },
	{ "dr and vs share a name", DR_HDR "  host: r\n---\n" VS_HDR "  hosts: [r]\n" ROUTE, 0, NULL },
	{ "dr same name other ns", DR_HDR "  host: r\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: t, namespace: ns2}\nspec: {host: r}\n", 0, NULL },

	// PeerAuthentication: must fail
	{ "pa mode bad", PA_HDR "  mtls: {mode: MUTUAL}\n", 7, "PeerAuthentication ns1/t: spec.mtls.mode: Unsupported value: \"MUTUAL\": supported values: \"UNSET\", \"DISABLE\", \"PERMISSIVE\", \"STRICT\"" },
	{ "pa mode lowercase", PA_HDR "  mtls:\n    mode: strict\n", 8, "spec.mtls.mode: Unsupported value: \"strict\"" },
	{ "pa mode bool", PA_HDR "  mtls: {mode: on}\n", 7, "expected a string, got a boolean (\"on\")" },
	{ "pa mtls unknown", PA_HDR "  mtls:\n    mode: STRICT\n    strict: true\n", 9, "spec.mtls.strict: unknown field" },
	{ "pa unknown field", PA_HDR "  mtl: {mode: STRICT}\n", 7, "spec.mtl: unknown field" },
	{ "pa port 0", PA_HDR "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    0: {mode: STRICT}\n", 9, "spec.portLevelMtls[0]: port must be in range 1..65535" },
	{ "pa port 70000", PA_HDR "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    70000: {mode: STRICT}\n", 9, "portLevelMtls[70000]: port must be in range 1..65535" },
	{ "pa port name", PA_HDR "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    http: {mode: STRICT}\n", 9, "portLevelMtls[http]: port \"http\" is not a valid port number" },
	{ "pa port negative", PA_HDR "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    -1: {mode: STRICT}\n", 9, "port \"-1\" is not a valid port number" },
	{ "pa port too big", PA_HDR "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    \"4294967296\": {mode: STRICT}\n", 9, "is not a valid port number" },
	{ "pa port dup", PA_HDR "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    8080: {mode: STRICT}\n    \"08080\": {mode: DISABLE}\n", 10, "portLevelMtls[08080]: Duplicate value: port 8080 already has a port-level mTLS mode" },
	{ "pa port dup key", PA_HDR "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    8080: {mode: STRICT}\n    \"8080\": {mode: DISABLE}\n", 10, "yaml: duplicate key \"8080\"" },
	{ "pa port null", PA_HDR "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    8080:\n", 9, "portLevelMtls entry must not be null" },
	{ "pa port mode bad", PA_HDR "  selector: {matchLabels: {app: a}}\n  portLevelMtls:\n    8080: {mode: ENABLED}\n", 9, "spec.portLevelMtls[8080].mode: Unsupported value: \"ENABLED\"" },
	{ "pa port no selector", PA_HDR "  mtls: {mode: STRICT}\n  portLevelMtls:\n    8080: {mode: DISABLE}\n", 8, "spec.portLevelMtls: mesh/namespace peer authentication cannot have port level mTLS" },
	{ "pa port empty selector", PA_HDR "  selector: {matchLabels: {}}\n  portLevelMtls: {8080: {mode: DISABLE}}\n", 8, "cannot have port level mTLS" },
	{ "pa port map empty", PA_HDR "  selector: {matchLabels: {app: a}}\n  portLevelMtls: {}\n", 8, "spec.portLevelMtls: port level mTLS, if defined, must have at least one element" },
	{ "pa port list", PA_HDR "  selector: {matchLabels: {app: a}}\n  portLevelMtls: [{port: 8080, mode: STRICT}]\n", 8, "spec.portLevelMtls: expected a mapping, got a list" },
	{ "pa selector wildcard", PA_HDR "  selector:\n    matchLabels: {\"*\": a}\n", 8, "spec.selector.matchLabels[*]: wildcard is not supported in selector" },
	{ "pa selector labels", PA_HDR "  selector:\n    labels: {app: a}\n", 8, "spec.selector.labels: unknown field" },
	{ "pa selector value number", PA_HDR "  selector: {matchLabels: {version: 2}}\n", 7, "matchLabels[version]: expected a string, got an integer" },
	{ "pa v1alpha3", "apiVersion: security.istio.io/v1alpha3\nkind: PeerAuthentication\nmetadata: {name: t}\n", 1, "PeerAuthentication is not served as \"security.istio.io/v1alpha3\"" },
	{ "pa wrong group", "apiVersion: networking.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: t}\n", 2, "unknown kind \"PeerAuthentication\" for apiVersion \"networking.istio.io/v1\"" },
	{ "pa same name twice", PA_HDR "  mtls: {mode: STRICT}\n---\n" PA_HDR "  mtls: {mode: DISABLE}\n", 9, "PeerAuthentication ns1/t: already defined at case.yaml:1" },

	// PeerAuthentication: must load
	{ "pa no spec", "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\n", 0, NULL },
	{ "pa empty spec", PA_HDR, 0, NULL },
	{ "pa strict", PA_HDR "  mtls: {mode: STRICT}\n", 0, NULL },
	{ "pa unset", PA_HDR "  mtls: {}\n", 0, NULL },
	{ "pa port level", PA_HDR "  selector: {matchLabels: {app: a}}\n  mtls: {mode: STRICT}\n  portLevelMtls:\n    8080: {mode: DISABLE}\n    \"9090\": {mode: PERMISSIVE}\n    9091: {}\n", 0, NULL },
	// Sidecar: must fail
	{ "sc empty", SC_HDR "  workloadSelector: {labels: {app: a}}\n", 7, "sidecar: empty configuration provided" },
	{ "sc egress no hosts", SC_HDR "  egress:\n  - port: {number: 80, name: http, protocol: HTTP}\n", 8, "egress listener must contain at least one host" },
	{ "sc egress host form", SC_HDR "  egress:\n  - hosts: [reviews.default.svc.cluster.local]\n", 8, "sidecar: host must be of form namespace/dnsName" },
	{ "sc egress host ns", SC_HDR "  egress:\n  - hosts: [Bad_NS/foo.com]\n", 8, "sidecar: invalid namespace Bad_NS" },
	{ "sc egress host name", SC_HDR "  egress:\n  - hosts: [\"ns/a..b\"]\n", 8, "spec.egress[0].hosts[0]: sidecar: domain name" },
	{ "sc two catch-alls", SC_HDR "  egress:\n  - hosts: [\"./*\"]\n  - hosts: [\"istio-system/*\"]\n", 9, "egress can have only one listener with empty port" },
	{ "sc ingress no port", SC_HDR "  ingress:\n  - defaultEndpoint: 127.0.0.1:8080\n", 8, "sidecar: port is required for ingress listeners" },
	{ "sc ingress endpoint", SC_HDR "  ingress:\n  - port: {number: 9080, name: http, protocol: HTTP}\n    defaultEndpoint: 10.0.0.1:8080\n", 9, "defaultEndpoint \"10.0.0.1:8080\" must be" },
	{ "sc ingress endpoint port", SC_HDR "  ingress:\n  - port: {number: 9080, name: http, protocol: HTTP}\n    defaultEndpoint: 127.0.0.1:0\n", 9, "is not a valid port" },
	{ "sc bad bind", SC_HDR "  egress:\n  - bind: nowhere\n    hosts: [\"*/*\"]\n", 8, "sidecar: invalid bind address" },
	{ "sc capture mode", SC_HDR "  egress:\n  - captureMode: SOMETIMES\n    hosts: [\"*/*\"]\n", 8, "Unsupported value: \"SOMETIMES\"" },
	{ "sc outbound mode", SC_HDR "  outboundTrafficPolicy: {mode: DENY}\n", 7, "Unsupported value: \"DENY\"" },
	{ "sc egress proxy registry-only", SC_HDR "  outboundTrafficPolicy:\n    mode: REGISTRY_ONLY\n    egressProxy: {host: egress.example, port: {number: 80}}\n", 8, "egress_proxy must be set only with ALLOW_ANY" },
	{ "sc egress proxy no host", SC_HDR "  outboundTrafficPolicy:\n    mode: ALLOW_ANY\n    egressProxy: {port: {number: 80}}\n", 9, "egress_proxy: host is required" },
	{ "sc unknown field", SC_HDR "  egress:\n  - hosts: [\"*/*\"]\n  ports: []\n", 9, "spec.ports: unknown field" },
	{ "sc selector wildcard", SC_HDR "  workloadSelector: {labels: {app: \"*\"}}\n  egress: [{hosts: [\"*/*\"]}]\n", 7, "wildcard is not supported in selector" },
	// Sidecar: must load
	{ "sc namespace default", SC_HDR "  egress:\n  - hosts: [\"./*\", \"istio-system/*\"]\n", 0, NULL },
	{ "sc full", SC_HDR "  workloadSelector: {labels: {app: ratings}}\n  ingress:\n  - port: {number: 9080, protocol: HTTP, name: somename}\n    defaultEndpoint: unix:///var/run/someuds.sock\n  egress:\n  - port: {number: 9080, protocol: HTTP, name: egresshttp}\n    hosts: [\"prod-us1/*\"]\n  - hosts: [\"istio-system/*\", \"~/*\", \"*/*.example.com\"]\n  outboundTrafficPolicy: {mode: ALLOW_ANY, egressProxy: {host: foo.bar, subset: v1, port: {number: 443}}}\n", 0, NULL },
	{ "sc mode only", SC_HDR "  outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n", 0, NULL },
	// WorkloadEntry: must fail
	{ "we no spec", "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: {name: t}\n", 1, "WorkloadEntry default/t: spec: Required value" },
	{ "we no address", WE_HDR "  labels: {app: vm}\n", 7, "WorkloadEntry ns1/t: spec: Address is required" },
	{ "we bad address", WE_HDR "  address: a..b\n", 7, "spec.address: address \"a..b\" is not a valid FQDN or an IP address" },
	{ "we wildcard address", WE_HDR "  address: \"*.vm.example\"\n", 7, "is not a valid FQDN or an IP address" },
	{ "we port 0", WE_HDR "  address: 10.0.0.1\n  ports: {http: 0}\n", 8, "spec.ports[http]: port must be between 1-65535 (got 0)" },
	{ "we port name", WE_HDR "  address: 10.0.0.1\n  ports: {Http_1: 80}\n", 8, "port name must be valid" },
	{ "we uds ports", WE_HDR "  address: unix:///run/app.sock\n  ports: {http: 80}\n", 8, "UDS may not include ports" },
	{ "we uds relative", WE_HDR "  address: unix://run/app.sock\n", 7, "UDS must be an absolute path or abstract socket" },
	{ "we bad label", WE_HDR "  address: 10.0.0.1\n  labels: {\"-bad\": x}\n", 8, "spec.labels" },
	{ "we unknown field", WE_HDR "  address: 10.0.0.1\n  zone: a\n", 8, "spec.zone: unknown field" },
	{ "we weight string", WE_HDR "  address: 10.0.0.1\n  weight: heavy\n", 8, "spec.weight" },
	{ "we twice", WE_HDR "  address: 10.0.0.1\n---\n" WE_HDR "  address: 10.0.0.2\n", 9, "already defined at case.yaml:1" },
	// WorkloadEntry: must load
	{ "we ip", WE_HDR "  address: 10.0.0.1\n  ports: {http: 8080}\n  labels: {app: vm, version: v1}\n  serviceAccount: vm-sa\n  network: vpc1\n  locality: us/east/a\n  weight: 3\n", 0, NULL },
	{ "we ipv6", WE_HDR "  address: \"2001:db8::1\"\n", 0, NULL },
	{ "we fqdn", WE_HDR "  address: vm1.example.com\n", 0, NULL },
	{ "we network only", WE_HDR "  network: remote\n", 0, NULL },
	{ "we v1alpha3", "apiVersion: networking.istio.io/v1alpha3\nkind: WorkloadEntry\nmetadata: {name: x}\nspec: {address: 10.0.0.9}\n", 0, NULL },
	{ "pa v1beta1", "apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\nmetadata: {name: t}\nspec: {mtls: {mode: PERMISSIVE}}\n", 0, NULL },
	{ "pa json", "{\"apiVersion\": \"security.istio.io/v1\", \"kind\": \"PeerAuthentication\", \"metadata\": {\"name\": \"j\"}, \"spec\": {\"selector\": {\"matchLabels\": {\"app\": \"x\"}}, \"portLevelMtls\": {\"443\": {\"mode\": \"DISABLE\"}}}}\n", 0, NULL },
	{ "pa and dr share a name", PA_HDR "  mtls: {mode: STRICT}\n---\n" DR_HDR "  host: r\n", 0, NULL },
	// AuthorizationPolicy: must fail (AP_RULE's source fields are on line 10)
	{ "ap action", AP_HDR "  action: REJECT\n", 7, "AuthorizationPolicy ns1/t: spec.action: Unsupported value: \"REJECT\": supported values: \"ALLOW\", \"DENY\", \"AUDIT\", \"CUSTOM\"" },
	{ "ap custom no provider", AP_HDR "  action: CUSTOM\n  rules: [{}]\n", 7, "spec: provider.name is required with the CUSTOM action" },
	{ "ap custom no rules", AP_HDR "  action: CUSTOM\n  provider: {name: ext}\n", 7, "spec.action: CUSTOM action without rules is never triggered" },
	{ "ap provider not custom", AP_HDR "  action: DENY\n  provider: {name: ext}\n  rules: [{}]\n", 8, "spec.provider: provider is only allowed with the CUSTOM action" },
	{ "ap custom principals", AP_HDR "  action: CUSTOM\n  provider: {name: ext}\n" AP_RULE "        principals: [a]\n", 12, "spec.rules[0].from[0].source: source principals is not supported with the CUSTOM action" },
	{ "ap custom auth key", AP_HDR "  action: CUSTOM\n  provider: {name: ext}\n" AP_WHEN "request.auth.principal\n      values: [a]\n", 11, "spec.rules[0].when[0].key: \"request.auth.principal\" is not supported with the CUSTOM action" },
	{ "ap selector and targetRef", AP_HDR "  selector: {matchLabels: {app: a}}\n  targetRef: {kind: Gateway, group: gateway.networking.k8s.io, name: gw}\n", 7, "spec: only one of targetRefs or selector can be set" },
	{ "ap targetRef kind missing", AP_HDR "  targetRef: {name: gw}\n", 7, "spec.targetRef.kind: Required value" },
	{ "ap targetRefs null item", AP_HDR "  targetRefs:\n  - ~\n", 8, "spec.targetRefs[0] in body must be of type object" },
	{ "ap targetRef same ns", AP_HDR "  targetRef: {kind: Service, name: a, namespace: ns1}\n", 7, "spec.targetRef.namespace: cross namespace referencing is not currently supported" },
	{ "ap targetRef unknown", AP_HDR "  targetRef: {kind: Service, name: a, nmae: b}\n", 7, "spec.targetRef.nmae: unknown field" },
	{ "ap sa and ns", AP_HDR AP_RULE "        serviceAccounts: [ns/sa]\n        notNamespaces: [x]\n", 10, "spec.rules[0].from[0].source: Cannot set serviceAccounts with namespaces or principals" },
	{ "ap notSa and principal", AP_HDR AP_RULE "        notServiceAccounts: [sa]\n        principals: [x]\n", 10, "Cannot set serviceAccounts with namespaces or principals" },
	{ "ap sa too many", AP_HDR AP_RULE "        serviceAccounts: [s1,s2,s3,s4,s5,s6,s7,s8,s9,s10,s11,s12,s13,s14,s15,s16,s17]\n", 10, "must have at most 16 items" },
	{ "ap ipBlocks bad", AP_HDR AP_RULE "        ipBlocks: [1.2.3.4, 1.2.3.0/33]\n", 10, "spec.rules[0].from[0].source.ipBlocks[1]: \"1.2.3.0/33\" is not a valid CIDR block" },
	{ "ap notRemoteIpBlocks host", AP_HDR AP_RULE "        notRemoteIpBlocks: [example.com]\n", 10, "notRemoteIpBlocks[0]: \"example.com\" is not a valid IP" },
	{ "ap empty principal", AP_HDR AP_RULE "        principals: [\"\"]\n", 10, "source.principals[0]: empty value not allowed, found in principals" },
	{ "ap source empty", AP_HDR AP_RULE "        principals: []\n", 10, "spec.rules[0].from[0].source: `from.source` must not be empty" },
	{ "ap source missing", AP_HDR "  rules:\n  - from:\n    - {}\n", 9, "spec.rules[0].from[0]: `from.source` must not be null" },
	{ "ap from empty", AP_HDR "  rules:\n  - from: []\n", 8, "spec.rules[0].from: `from` must not be empty" },
	{ "ap source unknown", AP_HDR AP_RULE "        users: [a]\n", 10, "source.users: unknown field" },
	{ "ap port 0", AP_HDR AP_TO "        ports: [\"0\"]\n", 10, "operation.ports[0]: bad port \"0\"" },
	{ "ap port big", AP_HDR AP_TO "        notPorts: [\"65536\"]\n", 10, "operation.notPorts[0]: bad port \"65536\"" },
	{ "ap port int", AP_HDR AP_TO "        ports: [80]\n", 10, "operation.ports[0]: expected a string, got an integer" },
	{ "ap port name", AP_HDR AP_TO "        ports: [http]\n", 10, "bad port \"http\"" },
	{ "ap path bad brace", AP_HDR AP_TO "        paths: [\"/a/{x}\"]\n", 10, "operation.paths[0]: invalid or unsupported path \"/a/{x}\"" },
	{ "ap path ** twice", AP_HDR AP_TO "        paths: [\"/{**}/a/{**}\"]\n", 10, "'{' or '}' beyond a supported path template" },
	{ "ap path * after **", AP_HDR AP_TO "        notPaths: [\"/{**}/{*}\"]\n", 10, "notPaths[0]: invalid or unsupported path" },
	{ "ap path template star", AP_HDR AP_TO "        paths: [\"/a*/{*}\"]\n", 10, "segment \"a*\" is not a valid string literal" },
	{ "ap operation empty", AP_HDR AP_TO "        methods: []\n", 10, "spec.rules[0].to[0].operation: `to.operation` must not be empty" },
	{ "ap when no values", AP_HDR AP_WHEN "source.ip\n", 9, "spec.rules[0].when[0]: at least one of `values` or `notValues` must be set for key \"source.ip\"" },
	{ "ap when no key", AP_HDR "  rules:\n  - when:\n    - values: [a]\n", 9, "`key` must not be empty" },
	{ "ap when unknown key", AP_HDR AP_WHEN "source.user\n      values: [a]\n", 9, "spec.rules[0].when[0].key: unknown attribute \"source.user\"" },
	{ "ap when header no name", AP_HDR AP_WHEN "request.headers[]\n      values: [a]\n", 9, "unknown attribute \"request.headers[]\"" },
	{ "ap when header no bracket", AP_HDR AP_WHEN "request.headers\n      values: [a]\n", 9, "unknown attribute" },
	{ "ap when claims broken", AP_HDR AP_WHEN "\"request.auth.claims[a]]\"\n      values: [a]\n", 9, "unknown attribute" },
	{ "ap when ip value", AP_HDR AP_WHEN "destination.ip\n      values: [10.0.0.1]\n      notValues: [10.0.0.0/40]\n", 11, "when[0].notValues[0]: \"10.0.0.0/40\" is not a valid CIDR block" },
	{ "ap when port value", AP_HDR AP_WHEN "destination.port\n      values: [\"99999\"]\n", 10, "when[0].values[0]: bad port \"99999\"" },
	{ "ap when empty value", AP_HDR AP_WHEN "source.namespace\n      values: [\"\"]\n", 10, "empty value not allowed, found in values" },
	{ "ap when unknown field", AP_HDR AP_WHEN "source.ip\n      value: [1.1.1.1]\n", 10, "when[0].value: unknown field" },
	{ "ap rule null", AP_HDR "  rules:\n  - ~\n", 8, "spec.rules[0]: `rule` must not be null" },
	{ "ap rule unknown", AP_HDR "  rules:\n  - form: []\n", 8, "spec.rules[0].form: unknown field" },
	{ "ap provider unknown", AP_HDR "  action: CUSTOM\n  provider: {name: a, url: b}\n  rules: [{}]\n", 8, "spec.provider.url: unknown field" },
	{ "ap v1alpha1", "apiVersion: security.istio.io/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: t}\n", 1, "AuthorizationPolicy is not served as" },
	{ "ap same name twice", AP_HDR "  action: DENY\n---\n" AP_HDR "  action: AUDIT\n", 9, "AuthorizationPolicy ns1/t: already defined at case.yaml:1" },
	// RequestAuthentication: must fail
	{ "ra no issuer", RA_HDR "  jwtRules:\n  - audiences: [a]\n", 8, "RequestAuthentication ns1/t: spec.jwtRules[0].issuer: Required value" },
	{ "ra empty issuer", RA_HDR "  jwtRules:\n  - issuer: \"\"\n", 8, "spec.jwtRules[0].issuer in body should be at least 1 chars long" },
	{ "ra rule scalar", RA_HDR "  jwtRules: [a]\n", 7, "spec.jwtRules[0] in body must be of type object" },
	{ "ra jwksUri ftp", RA_HDR RA_RULE "    jwksUri: ftp://example.com/jwks\n", 9, "spec.jwtRules[0].jwksUri: \"ftp://example.com/jwks\": url must have scheme http:// or https://" },
	{ "ra jwksUri no host", RA_HDR RA_RULE "    jwksUri: \"https:///jwks\"\n", 9, "url must have a host" },
	{ "ra jwksUri relative", RA_HDR RA_RULE "    jwksUri: /jwks.json\n", 9, "url must have scheme" },
	{ "ra jwks and jwksUri", RA_HDR RA_RULE "    jwksUri: https://a.com/k\n    jwks: '{\"keys\": []}'\n", 8, "spec.jwtRules[0]: only one of jwks or jwksUri can be set" },
	{ "ra jwks not json", RA_HDR RA_RULE "    jwks: not-a-key-set\n", 9, "spec.jwtRules[0].jwks: jwks parse error: not a JSON object" },
	{ "ra jwks key no kty", RA_HDR RA_RULE "    jwks: '{\"keys\": [{\"n\": \"x\"}]}'\n", 9, "jwks parse error: keys[0] has no \"kty\"" },
	{ "ra header pattern", RA_HDR RA_RULE "    outputPayloadToHeader: \"x payload\"\n", 9, "spec.jwtRules[0].outputPayloadToHeader in body should match '^[-_A-Za-z0-9]+$'" },
	{ "ra claim header no claim", RA_HDR RA_RULE "    outputClaimToHeaders:\n    - header: x-sub\n", 10, "outputClaimToHeaders[0].claim: Required value" },
	{ "ra timeout 0", RA_HDR RA_RULE "    timeout: 0s\n", 9, "spec.jwtRules[0].timeout: \"0s\": must be a valid duration greater than 1ms" },
	{ "ra timeout int", RA_HDR RA_RULE "    timeout: 5\n", 9, "must be a valid duration greater than 1ms" },
	{ "ra forward not bool", RA_HDR RA_RULE "    forwardOriginalToken: maybe\n", 9, "forwardOriginalToken: expected true or false" },
	{ "ra fromHeaders unknown", RA_HDR RA_RULE "    fromHeaders:\n    - {name: x, prefx: y}\n", 10, "fromHeaders[0].prefx: unknown field" },
	{ "ra unknown rule field", RA_HDR RA_RULE "    jwks_uri: https://a.com\n", 9, "spec.jwtRules[0].jwks_uri: unknown field" },
	{ "ra unknown spec field", RA_HDR "  rules: []\n", 7, "spec.rules: unknown field" },
	{ "ra targetRefs and targetRef", RA_HDR "  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: a}]\n  targetRef: {kind: Service, name: b}\n", 7, "only one of targetRefs or selector can be set" },
	{ "ra targetRef empty name", RA_HDR "  targetRef: {kind: Service, name: \"\"}\n", 7, "spec.targetRef.name in body should be at least 1 chars long" },
	{ "ra targetRef group upper", RA_HDR "  targetRef: {kind: Gateway, group: Gateway.networking.k8s.io, name: a}\n", 7, "spec.targetRef.group in body should match" },
	{ "ra selector wildcard", RA_HDR "  selector:\n    matchLabels: {app: \"a*\"}\n", 8, "spec.selector.matchLabels[app]: wildcard is not supported in selector" },
	// AuthorizationPolicy, RequestAuthentication: must load
	{ "ap no spec", "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-all}\n", 0, NULL },
	{ "ap empty spec allow-nothing", AP_HDR "  {}\n", 0, NULL },
	{ "ap allow all", AP_HDR "  rules:\n  - {}\n", 0, NULL },
	{ "ap deny no rules", AP_HDR "  action: DENY\n", 0, NULL },
	{ "ap custom", AP_HDR "  action: CUSTOM\n  provider: {name: ext-authz}\n  rules:\n  - to:\n    - operation: {paths: [\"/admin/*\"]}\n", 0, NULL },
	{ "ap v1beta1 targetRefs", "apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: {name: t}\nspec:\n  targetRefs:\n  - {kind: Gateway, group: gateway.networking.k8s.io, name: gw}\n  - {kind: Service, group: \"\", name: s}\n  rules: [{to: [{operation: {ports: [\"8080\"], methods: [GET]}}]}]\n", 0, NULL },
	{ "ap ipv6 blocks", AP_HDR AP_RULE "        ipBlocks: [\"2001:db8::/32\", \"::1\"]\n", 0, NULL },
	{ "ap templates", AP_HDR AP_TO "        paths: [\"/{*}/a/{**}\", \"/x/{**}/\", \"/api/v1.0/{*}/~user@host:1;a=b\"]\n", 0, NULL },
	{ "ap braces without template", AP_HDR AP_TO "        paths: [\"*\", \"/a*\"]\n", 0, NULL },
	{ "ap only notValues", AP_HDR AP_WHEN "request.auth.claims[groups]\n      notValues: [admin]\n", 0, NULL },
	{ "ap sa alone", AP_HDR AP_RULE "        serviceAccounts: [ns1/sa]\n        ipBlocks: [10.0.0.0/8]\n", 0, NULL },
	{ "ra no spec", "apiVersion: security.istio.io/v1beta1\nkind: RequestAuthentication\nmetadata: {name: t}\n", 0, NULL },
	{ "ra jwks inline", RA_HDR "  selector: {matchLabels: {app: a}}\n" RA_RULE "    jwks: '{\"keys\": []}'\n    fromParams: [token]\n    timeout: 1500ms\n", 0, NULL },
	{ "ra jwksUri upper scheme", RA_HDR RA_RULE "    jwksUri: HTTP://example.com:8080/jwks?x=1\n", 0, NULL },
	{ "ra jwks single key", RA_HDR RA_RULE "    jwks: '{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"a\", \"y\": \"b\"}'\n", 0, NULL },
	{ "ra jwks set", RA_HDR RA_RULE "    jwks: |\n      {\"keys\": [{\"kty\": \"RSA\", \"e\": \"AQAB\", \"n\": \"xyz\"}]}\n", 0, NULL },
	{ "ra two rules", RA_HDR RA_RULE "  - issuer: other\n    audiences: [a, b]\n", 0, NULL },
	{ "ap and ra share a name", AP_HDR "  action: DENY\n---\n" RA_HDR "  jwtRules: []\n", 0, NULL },

	// Gateway: must fail
	{ "gw no spec", "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: t}\n", 1, "Gateway default/t: spec.servers: gateway must have at least one server" },
	{ "gw spec list", "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: a}\nspec: [1]\n", 4, "Gateway default/a: spec: expected a mapping" },
	{ "gw empty servers", GW_HDR "  selector: {istio: ingressgateway}\n  servers: []\n", 8, "Gateway ns1/t: spec.servers: gateway must have at least one server" },
	{ "gw server null", GW_HDR "  servers:\n  -\n", 8, "spec.servers[0]: server may not be nil" },
	{ "gw no port", GW_HDR "  servers:\n  - hosts: [\"*\"]\n", 8, "spec.servers[0].port: Required value" },
	{ "gw no hosts", GW_HDR "  servers:\n  - port: {number: 80, name: http, protocol: HTTP}\n", 8, "spec.servers[0].hosts: Required value" },
	{ "gw empty hosts", GW_HDR GW_PORT("80", "http", "HTTP") "    hosts: []\n", 9, "spec.servers[0].hosts: server config must contain at least one host" },
	{ "gw port 0", GW_HDR GW_PORT("0", "http", "HTTP") GW_ANY, 8, "spec.servers[0].port.number: port number 0 must be in the range 1..65535" },
	{ "gw port 70000", GW_HDR GW_PORT("70000", "http", "HTTP") GW_ANY, 8, "port number 70000 must be in the range 1..65535" },
	{ "gw port negative", GW_HDR GW_PORT("-1", "http", "HTTP") GW_ANY, 8, "spec.servers[0].port.number: \"-1\" is out of range for uint32" },
	{ "gw protocol bad", GW_HDR GW_PORT("21", "ftp", "FTP") GW_ANY, 8, "spec.servers[0].port.protocol: invalid protocol \"FTP\", supported protocols are" },
	{ "gw protocol missing", GW_HDR "  servers:\n  - port: {number: 80, name: http}\n" GW_ANY, 8, "spec.servers[0].port.protocol: Required value" },
	{ "gw protocol empty", GW_HDR GW_PORT("80", "http", "\"\"") GW_ANY, 8, "invalid protocol \"\"" },
	{ "gw port name empty", GW_HDR GW_PORT("80", "\"\"", "HTTP") GW_ANY, 8, "spec.servers[0].port.name: port name must be set" },
	{ "gw port name missing", GW_HDR "  servers:\n  - port: {number: 80, protocol: HTTP}\n" GW_ANY, 8, "spec.servers[0].port.name: Required value" },
	{ "gw targetPort", GW_HDR "  servers:\n  - port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}\n" GW_ANY, 8, "spec.servers[0].port.targetPort: targetPort has no impact on Gateways" },
	{ "gw duplicate port names", GW_HDR GW_PORT("80", "web", "HTTP") GW_ANY "  - port: {number: 81, name: web, protocol: HTTP}\n    hosts: [\"*\"]\n", 10, "spec.servers[1].port.name: port names in servers must be unique: duplicate name \"web\"" },
	{ "gw host short name", GW_HDR GW_PORT("80", "http", "HTTP") "    hosts: [reviews]\n", 9, "spec.servers[0].hosts[0]: short names (non FQDN) are not allowed (got \"reviews\")" },
	{ "gw host bad namespace", GW_HDR GW_PORT("80", "http", "HTTP") "    hosts: [\"Bad_NS/a.example.com\"]\n", 9, "spec.servers[0].hosts[0]: invalid namespace value \"Bad_NS\" in gateway" },
	{ "gw host tilde namespace", GW_HDR GW_PORT("80", "http", "HTTP") "    hosts: [\"~/a.example.com\"]\n", 9, "invalid namespace value \"~\" in gateway" },
	{ "gw host empty namespace", GW_HDR GW_PORT("80", "http", "HTTP") "    hosts: [\"/a.example.com\"]\n", 9, "config namespace and dnsName in host entry cannot be empty" },
	{ "gw host empty name", GW_HDR GW_PORT("80", "http", "HTTP") "    hosts: [\"ns1/\"]\n", 9, "config namespace and dnsName in host entry cannot be empty" },
	{ "gw host partial wildcard", GW_HDR GW_PORT("80", "http", "HTTP") "    hosts: [\"ns1/foo*.example.com\"]\n", 9, "partial wildcard \"foo*.example.com\" not allowed" },
	{ "gw host bad label", GW_HDR GW_PORT("80", "http", "HTTP") "    hosts: [\"*.a_b.example.com\"]\n", 9, "domain name \"*.a_b.example.com\" invalid" },
	{ "gw host numeric tld", GW_HDR GW_PORT("80", "http", "HTTP") "    hosts: [\"./a.123\"]\n", 9, "top level domain \"123\" cannot be all-numeric" },
	{ "gw https without tls", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY, 8, "spec.servers[0].port: server must have TLS settings for HTTPS/TLS protocols" },
	{ "gw tls protocol without tls", GW_HDR GW_PORT("443", "tls", "TLS") GW_ANY, 8, "server must have TLS settings for HTTPS/TLS protocols" },
	{ "gw tcp with tls", GW_HDR GW_PORT("31400", "tcp", "TCP") GW_ANY "    tls: {mode: SIMPLE, credentialName: c}\n", 10, "spec.servers[0].tls: server cannot have TLS settings for non HTTPS/TLS ports" },
	{ "gw tcp with https redirect", GW_HDR GW_PORT("31400", "tcp", "TCP") GW_ANY "    tls: {httpsRedirect: true}\n", 10, "server cannot have TLS settings for non HTTPS/TLS ports" },
	{ "gw http with simple tls", GW_HDR GW_PORT("80", "http", "HTTP") GW_ANY "    tls: {mode: SIMPLE, credentialName: c}\n", 10, "spec.servers[0].tls: server cannot have TLS settings for plain text HTTP ports" },
	{ "gw http with certificate", GW_HDR GW_PORT("80", "http", "HTTP") GW_ANY "    tls: {httpsRedirect: true, serverCertificate: /etc/c.pem}\n", 10, "server cannot have TLS settings for plain text HTTP ports" },
	{ "gw simple without certificate", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls:\n      mode: SIMPLE\n", 10, "spec.servers[0].tls: SIMPLE TLS requires a server certificate" },
	{ "gw simple without key", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls:\n      mode: SIMPLE\n      serverCertificate: /etc/c.pem\n", 10, "SIMPLE TLS requires a private key" },
	{ "gw mutual without ca", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls:\n      mode: MUTUAL\n      serverCertificate: /etc/c.pem\n      privateKey: /etc/k.pem\n", 10, "spec.servers[0].tls: MUTUAL TLS requires a client CA bundle" },
	{ "gw optional mutual without ca", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: OPTIONAL_MUTUAL, serverCertificate: /c, privateKey: /k}\n", 10, "MUTUAL TLS requires a client CA bundle" },
	{ "gw mutual ca only per certificate", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls:\n      mode: MUTUAL\n      tlsCertificates:\n      - {serverCertificate: /c, privateKey: /k, caCertificates: /ca}\n", 10, "MUTUAL TLS requires a client CA bundle" },
	{ "gw istio mutual certificate", GW_HDR GW_PORT("443", "tls", "TLS") GW_ANY "    tls:\n      mode: ISTIO_MUTUAL\n      serverCertificate: /etc/c.pem\n", 12, "spec.servers[0].tls.serverCertificate: ISTIO_MUTUAL TLS cannot have associated server certificate" },
	{ "gw istio mutual credential", GW_HDR GW_PORT("443", "tls", "TLS") GW_ANY "    tls:\n      mode: ISTIO_MUTUAL\n      credentialName: c\n", 12, "spec.servers[0].tls.credentialName: ISTIO_MUTUAL TLS cannot have associated credentialName" },
	{ "gw istio mutual ca", GW_HDR GW_PORT("443", "tls", "TLS") GW_ANY "    tls: {mode: ISTIO_MUTUAL, caCertificates: /ca}\n", 10, "ISTIO_MUTUAL TLS cannot have associated CA bundle" },
	{ "gw two certificate sources", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: SIMPLE, credentialName: c, serverCertificate: /c, privateKey: /k}\n", 10, "spec.servers[0].tls: only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified" },
	{ "gw credentialName and credentialNames", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls:\n      mode: SIMPLE\n      credentialName: a\n      credentialNames: [b]\n", 13, "spec.servers[0].tls.credentialNames: only one of credentialName or credentialNames can be set" },
	{ "gw credentialNames and tlsCertificates", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls:\n      mode: SIMPLE\n      credentialNames: [b]\n      tlsCertificates: [{serverCertificate: /c, privateKey: /k}]\n", 13, "only one of credentialNames or tlsCertificates can be set" },
	{ "gw three credentialNames", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: SIMPLE, credentialNames: [a, b, c]}\n", 10, "spec.servers[0].tls.credentialNames: must have at most 2 items" },
	{ "gw empty credentialNames", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: SIMPLE, credentialName: a, credentialNames: []}\n", 10, "spec.servers[0].tls.credentialNames in body should have at least 1 items" },
	{ "gw tlsCertificate without key", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls:\n      mode: SIMPLE\n      tlsCertificates:\n      - serverCertificate: /c\n", 13, "spec.servers[0].tls.tlsCertificates[0]: SIMPLE TLS requires a private key" },
	{ "gw crl with simple", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: SIMPLE, serverCertificate: /c, privateKey: /k, caCrl: /crl}\n", 10, "spec.servers[0].tls.caCrl: CRL is not supported with SIMPLE TLS" },
	{ "gw crl with credential", GW_HDR GW_PORT("443", "tls", "TLS") GW_ANY "    tls: {mode: PASSTHROUGH, credentialName: c, caCrl: /crl}\n", 10, "CRL is not supported with credentialName" },
	{ "gw tls mode bad", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: STRICT}\n", 10, "spec.servers[0].tls.mode: Unsupported value: \"STRICT\": supported values: \"PASSTHROUGH\", \"SIMPLE\"" },
	{ "gw tls version bad", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_4}\n", 10, "spec.servers[0].tls.minProtocolVersion: Unsupported value: \"TLSV1_4\"" },
	{ "gw httpsRedirect string", GW_HDR GW_PORT("80", "http", "HTTP") GW_ANY "    tls: {httpsRedirect: \"yes\"}\n", 10, "spec.servers[0].tls.httpsRedirect: expected true or false" },
	{ "gw tls unknown field", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: SIMPLE, credentialName: c, sni: a.example.com}\n", 10, "spec.servers[0].tls.sni: unknown field" },
	{ "gw bind not ip", GW_HDR GW_PORT("80", "http", "HTTP") GW_ANY "    bind: gw.example.com\n", 10, "spec.servers[0].bind: \"gw.example.com\" is not a valid IP" },
	{ "gw unix bind with port", GW_HDR GW_PORT("80", "http", "HTTP") GW_ANY "    bind: unix:///run/gw.sock\n", 10, "spec.servers[0].bind: port number must be 0 for unix domain socket (got 80)" },
	{ "gw unix bind relative", GW_HDR GW_PORT("0", "http", "HTTP") GW_ANY "    bind: unix://run/gw.sock\n", 10, "\"run/gw.sock\" is not an absolute path to a file" },
	{ "gw unix bind empty", GW_HDR GW_PORT("0", "http", "HTTP") GW_ANY "    bind: unix://\n", 10, "unix address must not be empty" },
	{ "gw name with dots", "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw.example\nspec:\n" GW_PORT("80", "http", "HTTP") GW_ANY, 4, "Gateway default/gw.example: metadata.name: invalid gateway name: \"gw.example\"" },
	{ "gw unknown server field", GW_HDR GW_PORT("80", "http", "HTTP") GW_ANY "    hostz: [a]\n", 10, "spec.servers[0].hostz: unknown field" },
	{ "gw unknown spec field", GW_HDR GW_PORT("80", "http", "HTTP") GW_ANY "  workloadSelector: {app: gw}\n", 10, "spec.workloadSelector: unknown field" },
	{ "gw selector list", GW_HDR "  selector: [istio]\n" GW_PORT("80", "http", "HTTP") GW_ANY, 7, "spec.selector: expected a mapping, got a list" },
	{ "gw selector value number", GW_HDR "  selector: {version: 2}\n" GW_PORT("80", "http", "HTTP") GW_ANY, 7, "spec.selector[version]: expected a string, got an integer" },
	{ "gw v1alpha2", "apiVersion: networking.istio.io/v1alpha2\nkind: Gateway\nmetadata: {name: t}\n", 1, "Gateway is not served as \"networking.istio.io/v1alpha2\"" },
	{ "gw twice", GW_HDR GW_PORT("80", "http", "HTTP") GW_ANY "---\n" GW_HDR GW_PORT("81", "http", "HTTP") GW_ANY, 11, "Gateway ns1/t: already defined at case.yaml:1" },
	// Gateway: must load
	{ "gw bookinfo", GW_HDR "  selector: {istio: ingressgateway}\n" GW_PORT("8080", "http", "HTTP") GW_ANY, 0, NULL },
	{ "gw no selector", GW_HDR GW_PORT("80", "http", "HTTP") "    hosts: [\"ns1/a.example.com\", \"./b.example.com\", \"*/*.example.com\", \"*/*\"]\n", 0, NULL },
	{ "gw https credentialName", GW_HDR GW_PORT("443", "https", "HTTPS") "    hosts: [bookinfo.example.com]\n    tls: {mode: SIMPLE, credentialName: bookinfo-cert}\n", 0, NULL },
	{ "gw https files", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls:\n      mode: SIMPLE\n      serverCertificate: /etc/certs/server.pem\n      privateKey: /etc/certs/key.pem\n      minProtocolVersion: TLSV1_2\n      maxProtocolVersion: TLSV1_3\n      cipherSuites: [ECDHE-ECDSA-AES256-GCM-SHA384, NOT-A-CIPHER]\n", 0, NULL },
	{ "gw mutual", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: MUTUAL, serverCertificate: /c, privateKey: /k, caCertificates: /ca, caCrl: /crl, subjectAltNames: [spiffe://td/ns/a/sa/b], verifyCertificateSpki: [abc=], verifyCertificateHash: [\"AB:CD\"]}\n", 0, NULL },
	{ "gw optional mutual credential", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: OPTIONAL_MUTUAL, credentialName: c, caCertCredentialName: ca}\n", 0, NULL },
	{ "gw mutual credential", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: MUTUAL, credentialName: c}\n", 0, NULL },
	{ "gw passthrough", GW_HDR GW_PORT("443", "tls", "TLS") "    hosts: [\"*.example.com\"]\n    tls: {mode: PASSTHROUGH}\n", 0, NULL },
	{ "gw passthrough with certificate", GW_HDR GW_PORT("443", "tls", "TLS") GW_ANY "    tls: {mode: PASSTHROUGH, serverCertificate: /c}\n", 0, NULL },
	{ "gw auto passthrough", GW_HDR GW_PORT("15443", "tls", "TLS") "    hosts: [\"*.local\"]\n    tls: {mode: AUTO_PASSTHROUGH}\n", 0, NULL },
	{ "gw istio mutual", GW_HDR GW_PORT("15443", "tls", "TLS") GW_ANY "    tls: {mode: ISTIO_MUTUAL, subjectAltNames: [spiffe://cluster.local/ns/a/sa/b]}\n", 0, NULL },
	{ "gw https redirect", GW_HDR GW_PORT("80", "http", "HTTP") GW_ANY "    tls: {httpsRedirect: true}\n" GW_PORT2("443", "https", "HTTPS") GW_ANY "    tls: {mode: SIMPLE, credentialName: c}\n", 0, NULL },
	{ "gw two credentialNames", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls: {mode: SIMPLE, credentialNames: [rsa, ecdsa]}\n", 0, NULL },
	{ "gw two tlsCertificates", GW_HDR GW_PORT("443", "https", "HTTPS") GW_ANY "    tls:\n      mode: SIMPLE\n      tlsCertificates:\n      - {serverCertificate: /rsa.pem, privateKey: /rsa.key}\n      - {serverCertificate: /ec.pem, privateKey: /ec.key}\n", 0, NULL },
	{ "gw unix bind", GW_HDR GW_PORT("0", "http", "HTTP") GW_ANY "    bind: unix:///run/gw.sock\n" GW_PORT2("0", "http2", "HTTP") GW_ANY "    bind: unix://@gw\n", 0, NULL },
	{ "gw ip host and bind", GW_HDR GW_PORT("8443", "grpc", "grpc") "    hosts: [10.0.0.1, \"ns1/10.0.0.2\"]\n    bind: 10.0.0.1\n    name: internal\n    defaultEndpoint: 127.0.0.1:8080\n", 0, NULL },
	{ "gw same number two names", GW_HDR GW_PORT("80", "a", "HTTP") "    hosts: [a.example.com]\n" GW_PORT2("80", "b", "HTTP") "    hosts: [b.example.com]\n", 0, NULL },
	{ "gw protocols", GW_HDR GW_PORT("1", "a", "http2") GW_ANY GW_PORT2("2", "b", "GRPC-WEB") GW_ANY GW_PORT2("3", "c", "mongo") GW_ANY GW_PORT2("4", "d", "HTTP_PROXY") GW_ANY, 0, NULL },
	{ "gw v1beta1", "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: g}\nspec:\n" GW_PORT("80", "http", "HTTP") GW_ANY, 0, NULL },
	{ "gw v1alpha3 json", "{\"apiVersion\": \"networking.istio.io/v1alpha3\", \"kind\": \"Gateway\", \"metadata\": {\"name\": \"j\"}, \"spec\": {\"selector\": {\"app\": \"gw\"}, \"servers\": [{\"port\": {\"number\": 443, \"name\": \"https\", \"protocol\": \"HTTPS\"}, \"hosts\": [\"*\"], \"tls\": {\"mode\": \"SIMPLE\", \"credentialName\": \"c\"}}]}}\n", 0, NULL },
	{ "gw and vs share a name", GW_HDR GW_PORT("80", "http", "HTTP") GW_ANY "---\n" VS_HDR "  hosts: [r]\n  gateways: [t]\n" ROUTE, 0, NULL },

	// WorkloadGroup: must fail
	{ "wg no spec", "apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {name: no-spec}\n", 1, "WorkloadGroup default/no-spec: spec: Required value" },
	{ "wg no template", WG_HDR "  metadata:\n    labels: {app: vm}\n", 7, "WorkloadGroup ns1/t: spec.template: Required value" },
	{ "wg template null", WG_HDR "  template:\n", 7, "spec.template: Required value" },
	{ "wg template list", WG_HDR "  template: [a]\n", 7, "spec.template: expected a mapping, got a list" },
	{ "wg template unknown field", WG_HDR "  template:\n    serviceAccount: sa\n    zone: a\n", 9, "spec.template.zone: unknown field" },
	{ "wg template uds ports", WG_HDR "  template:\n    address: unix:///run/vm.sock\n    ports: {http: 80}\n", 9, "spec.template: UDS may not include ports" },
	{ "wg template uds relative", WG_HDR "  template:\n    address: unix://run/vm.sock\n", 8, "spec.template.address: UDS must be an absolute path or abstract socket" },
	{ "wg template port 0", WG_HDR "  template:\n    ports: {http: 0}\n", 8, "spec.template.ports[http]: port must be between 1-65535 (got 0)" },
	{ "wg template long port name", WG_HDR "  template:\n    address: 1.2.3.4\n    ports:\n      http-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 80\n", 10, "port name must be valid" },
	{ "wg template weight", WG_HDR "  template:\n    weight: -1\n", 8, "spec.template.weight: \"-1\" is out of range for uint32" },
	{ "wg metadata bad label", WG_HDR "  metadata:\n    labels: {\"-app\": vm}\n  template: {}\n", 8, "spec.metadata.labels[-app]: invalid label key: \"-app\"" },
	{ "wg metadata bad label value", WG_HDR "  metadata:\n    labels: {app: \"a b\"}\n  template: {}\n", 8, "invalid label value: \"a b\"" },
	{ "wg metadata unknown field", WG_HDR "  metadata:\n    name: x\n  template: {}\n", 8, "spec.metadata.name: unknown field" },
	{ "wg annotations list", WG_HDR "  metadata:\n    annotations: [a]\n  template: {}\n", 8, "spec.metadata.annotations: expected a mapping, got a list" },
	{ "wg probe empty", WG_HDR "  template: {}\n  probe: {periodSeconds: 5}\n", 8, "spec.probe: unknown health check method: one of httpGet, tcpSocket or exec must be set" },
	{ "wg probe two methods", WG_HDR "  template: {}\n  probe:\n    tcpSocket: {port: 80}\n    exec: {command: [true]}\n", 10, "spec.probe.exec: only one of httpGet, tcpSocket, exec or grpc may be set" },
	{ "wg probe grpc", WG_HDR "  template: {}\n  probe:\n    grpc: {port: 9090, service: health}\n", 9, "spec.probe.grpc: unknown health check method grpc" },
	{ "wg probe grpc port", WG_HDR "  template: {}\n  probe:\n    grpc: {port: 0}\n", 9, "spec.probe.grpc.port: port must be between 1-65535 (got 0)" },
	{ "wg period negative", WG_HDR "  template: {}\n  probe:\n    periodSeconds: -1\n    tcpSocket: {port: 80}\n", 9, "spec.probe.periodSeconds: periodSeconds must be non-negative" },
	{ "wg initial delay negative", WG_HDR "  template: {}\n  probe:\n    initialDelaySeconds: -5\n    tcpSocket: {port: 80}\n", 9, "initialDelaySeconds must be non-negative" },
	{ "wg failure threshold negative", WG_HDR "  template: {}\n  probe: {failureThreshold: -1, successThreshold: -2, tcpSocket: {port: 80}}\n", 8, "failureThreshold must be non-negative" },
	{ "wg timeout string", WG_HDR "  template: {}\n  probe: {timeoutSeconds: 1s, tcpSocket: {port: 80}}\n", 8, "spec.probe.timeoutSeconds: expected an integer, got a string" },
	{ "wg http no port", WG_HDR "  template: {}\n  probe:\n    httpGet: {path: /ready}\n", 9, "spec.probe.httpGet.port: Required value" },
	{ "wg http port 0", WG_HDR "  template: {}\n  probe:\n    httpGet: {port: 0}\n", 9, "spec.probe.httpGet.port: port must be between 1-65535 (got 0)" },
	{ "wg http scheme", WG_HDR "  template: {}\n  probe:\n    httpGet: {port: 80, scheme: https}\n", 9, "spec.probe.httpGet.scheme: scheme must be one of [HTTP, HTTPS] (got \"https\")" },
	{ "wg http header pattern", WG_HDR "  template: {}\n  probe:\n    httpGet:\n      httpHeaders:\n        - name: \"**\"\n      port: 80\n", 11, "spec.probe.httpGet.httpHeaders[0].name in body should match" },
	{ "wg http header underscore", WG_HDR "  template: {}\n  probe:\n    httpGet:\n      port: 80\n      httpHeaders: [{name: x_api, value: a}]\n", 11, "spec.probe.httpGet.httpHeaders[0].name: header name \"x_api\" is not a valid header name" },
	{ "wg http header no name", WG_HDR "  template: {}\n  probe:\n    httpGet:\n      port: 80\n      httpHeaders: [{value: a}]\n", 11, "spec.probe.httpGet.httpHeaders[0]: header name cannot be empty" },
	{ "wg http header null", WG_HDR "  template: {}\n  probe:\n    httpGet:\n      port: 80\n      httpHeaders:\n      -\n", 12, "httpHeaders[0]: invalid nil header" },
	{ "wg tcp port 65536", WG_HDR "  probe:\n    tcpSocket:\n      port: 65536\n  template:\n    serviceAccount: sa\n    network: net\n", 9, "spec.probe.tcpSocket.port: port must be between 1-65535 (got 65536)" },
	{ "wg tcp no port", WG_HDR "  template: {}\n  probe:\n    tcpSocket: {host: 127.0.0.1}\n", 9, "spec.probe.tcpSocket.port: Required value" },
	{ "wg exec no command", WG_HDR "  template: {}\n  probe:\n    exec: {}\n", 9, "spec.probe.exec.command: Required value" },
	{ "wg exec empty command", WG_HDR "  template: {}\n  probe:\n    exec: {command: []}\n", 9, "spec.probe.exec.command: exec.command is required" },
	{ "wg exec empty argument", WG_HDR "  template: {}\n  probe:\n    exec: {command: [cat, \"\"]}\n", 9, "spec.probe.exec.command[1] in body should be at least 1 chars long" },
	{ "wg probe unknown field", WG_HDR "  template: {}\n  probe:\n    livenessProbe: {}\n    tcpSocket: {port: 80}\n", 9, "spec.probe.livenessProbe: unknown field" },
	{ "wg twice", WG_HDR "  template: {}\n---\n" WG_HDR "  template: {}\n", 9, "WorkloadGroup ns1/t: already defined at case.yaml:1" },
	// WorkloadGroup: must load
	{ "wg full", WG_HDR "  metadata:\n    labels: {foo: bar}\n    annotations: {foo: bar}\n  probe:\n    failureThreshold: 2\n    initialDelaySeconds: 1\n    periodSeconds: 1\n    successThreshold: 1\n    timeoutSeconds: 1\n    httpGet:\n      port: 8080\n      host: bar\n      scheme: HTTPS\n      path: /bar\n      httpHeaders:\n        - name: foo\n          value: bar\n  template:\n    serviceAccount: sa\n    network: net\n    labels: {app: app}\n    ports: {http: 1}\n    weight: 2\n    locality: foo/bar/baz\n", 0, NULL },
	{ "wg tcp probe", WG_HDR "  probe:\n    tcpSocket:\n      port: 8080\n  template:\n    serviceAccount: sa\n    network: net\n", 0, NULL },
	{ "wg template empty", WG_HDR "  template: {}\n", 0, NULL },
	{ "wg template address", WG_HDR "  template:\n    address: 1.2.3.4\n    ports:\n      http-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 80\n      http-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 80\n", 0, NULL },
	{ "wg template labels", WG_HDR "  template:\n    labels: {app: ratings-vm, class: vm}\n    serviceAccount: bookinfo-ratings\n", 0, NULL },
	{ "wg template unix", WG_HDR "  template: {address: \"unix:///var/run/app.sock\"}\n", 0, NULL },
	{ "wg exec probe", WG_HDR "  template: {serviceAccount: default}\n  probe:\n    exec:\n      command: [/bin/check, --ready]\n", 0, NULL },
	{ "wg http probe minimal", WG_HDR "  template: {}\n  probe: {httpGet: {port: 3100}}\n", 0, NULL },
	{ "wg http header dash", WG_HDR "  template: {}\n  probe:\n    httpGet:\n      port: 80\n      httpHeaders: [{name: Lit-Header, value: Im-The-Best}, {name: Lit-Header, value: again}, {name: x-empty}]\n", 0, NULL },
	{ "wg zero thresholds", WG_HDR "  template: {}\n  probe: {periodSeconds: 0, timeoutSeconds: 0, tcpSocket: {port: 22, host: localhost}}\n", 0, NULL },
	{ "wg metadata only labels", WG_HDR "  metadata:\n    labels: {app.kubernetes.io/name: reviews, app.kubernetes.io/version: \"1.3.4\"}\n  template:\n    ports: {grpc: 3550, http: 8080}\n    serviceAccount: default\n", 0, NULL },
	{ "wg v1beta1", "apiVersion: networking.istio.io/v1beta1\nkind: WorkloadGroup\nmetadata: {name: g}\nspec: {template: {network: net1}}\n", 0, NULL },
	{ "wg v1alpha3", "apiVersion: networking.istio.io/v1alpha3\nkind: WorkloadGroup\nmetadata: {name: g}\nspec: {template: {}}\n", 0, NULL },
	{ "wg json", "{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"WorkloadGroup\", \"metadata\": {\"name\": \"j\"}, \"spec\": {\"template\": {\"ports\": {\"http\": 80}}, \"probe\": {\"tcpSocket\": {\"port\": 80}}}}\n", 0, NULL },
	{ "wg and we share a name", WG_HDR "  template: {}\n---\n" WE_HDR "  address: 10.0.0.1\n", 0, NULL },

	// Telemetry: must fail
	{ "tm provider name empty", TM_HDR "  metrics:\n  - providers:\n    - name: \"\"\n", 9, "Telemetry ns1/t: spec.metrics[0].providers[0].name in body should be at least 1 chars long" },
	{ "tm provider no name", TM_HDR "  tracing:\n  - providers: [{}]\n", 8, "spec.tracing[0].providers[0].name: Required value" },
	{ "tm provider string", TM_HDR "  accessLogging:\n  - providers: [envoy]\n", 8, "spec.accessLogging[0].providers[0] in body must be of type object" },
	{ "tm custom metric empty", TM_HDR "  metrics:\n  - overrides:\n    - match:\n        customMetric: \"\"\n", 10, "spec.metrics[0].overrides[0].match.customMetric in body should be at least 1 chars long" },
	{ "tm metric and custom metric", TM_HDR "  metrics:\n  - overrides:\n    - match: {metric: REQUEST_COUNT, customMetric: foo}\n", 9, "spec.metrics[0].overrides[0].match.customMetric: only one of metric or customMetric may be set" },
	{ "tm metric bad", TM_HDR "  metrics:\n  - overrides:\n    - match: {metric: REQUESTS}\n", 9, "spec.metrics[0].overrides[0].match.metric: Unsupported value: \"REQUESTS\"" },
	{ "tm upsert without value", TM_HDR "  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: UPSERT\n", 10, "spec.metrics[0].overrides[0].tagOverrides[foo]: value must be set when operation is UPSERT" },
	{ "tm override without operation", TM_HDR "  metrics:\n  - overrides:\n    - tagOverrides: {foo: {}}\n", 9, "tagOverrides[foo]: value must be set when operation is UPSERT" },
	{ "tm remove with value", TM_HDR "  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: REMOVE\n          value: oops\n", 12, "spec.metrics[0].overrides[0].tagOverrides[foo].value: value must not be set when operation is REMOVE" },
	{ "tm remove with empty value", TM_HDR "  metrics:\n  - overrides:\n    - tagOverrides: {foo: {operation: REMOVE, value: \"\"}}\n", 9, "value must not be set when operation is REMOVE" },
	{ "tm tag operation bad", TM_HDR "  metrics:\n  - overrides:\n    - tagOverrides: {foo: {operation: DELETE}}\n", 9, "tagOverrides[foo].operation: Unsupported value: \"DELETE\": supported values: \"UPSERT\", \"REMOVE\"" },
	{ "tm tag override null", TM_HDR "  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n", 10, "tagOverrides[foo]: tagOverrides may not be null" },
	{ "tm reporting interval zero", TM_HDR "  metrics:\n  - reportingInterval: 0s\n", 8, "spec.metrics[0].reportingInterval: \"0s\": must be a valid duration greater than 1ms" },
	{ "tm reporting interval number", TM_HDR "  metrics:\n  - reportingInterval: 5\n", 8, "must be a valid duration greater than 1ms" },
	{ "tm reporting interval junk", TM_HDR "  metrics:\n  - reportingInterval: soon\n", 8, "\"soon\": must be a valid duration greater than 1ms" },
	{ "tm sampling over 100", TM_HDR "  tracing:\n  - randomSamplingPercentage: 100.5\n", 8, "spec.tracing[0].randomSamplingPercentage: Invalid value: 100.5: should be less than or equal to 100" },
	{ "tm sampling negative", TM_HDR "  tracing:\n  - randomSamplingPercentage: -1\n", 8, "should be greater than or equal to 0" },
	{ "tm sampling string", TM_HDR "  tracing:\n  - randomSamplingPercentage: \"50\"\n", 8, "spec.tracing[0].randomSamplingPercentage: expected a number" },
	{ "tm selector and targetRef", TM_HDR "  selector: {matchLabels: {app: a}}\n  targetRef: {kind: Service, name: a}\n", 7, "Telemetry ns1/t: spec: only one of targetRefs or selector can be set" },
	{ "tm targetRef and targetRefs", TM_HDR "  targetRef: {kind: Service, name: a}\n  targetRefs: [{kind: Service, name: b}]\n", 7, "only one of targetRefs or selector can be set" },
	{ "tm targetRef kind", TM_HDR "  targetRef: {kind: Deployment, group: apps, name: a}\n", 7, "spec.targetRef: targetRef must be to one of core/Service, networking.istio.io/ServiceEntry, gateway.networking.k8s.io/Gateway, gateway.networking.k8s.io/GatewayClass but was apps/Deployment" },
	{ "tm targetRefs gateway wrong group", TM_HDR "  targetRefs:\n  - {kind: Service, name: a}\n  - {kind: Gateway, group: networking.istio.io, name: gw}\n", 9, "spec.targetRefs[1]: targetRef must be to one of" },
	{ "tm targetRef no name", TM_HDR "  targetRef: {kind: Service}\n", 7, "spec.targetRef.name: Required value" },
	{ "tm targetRef namespace", TM_HDR "  targetRef: {kind: Service, name: a, namespace: other}\n", 7, "cross namespace referencing is not currently supported" },
	{ "tm selector wildcard", TM_HDR "  selector:\n    matchLabels: {app: \"*\"}\n", 8, "spec.selector.matchLabels[app]: wildcard is not supported in selector" },
	{ "tm literal empty", TM_HDR "  tracing:\n  - customTags:\n      team:\n        literal: {value: \"\"}\n", 10, "spec.tracing[0].customTags[team].literal.value in body should be at least 1 chars long" },
	{ "tm environment no name", TM_HDR "  tracing:\n  - customTags:\n      pod:\n        environment: {defaultValue: x}\n", 10, "spec.tracing[0].customTags[pod].environment.name: Required value" },
	{ "tm custom tag two types", TM_HDR "  tracing:\n  - customTags:\n      t:\n        literal: {value: a}\n        header: {name: x-a}\n", 11, "spec.tracing[0].customTags[t].header: only one of literal, environment, header or formatter may be set" },
	{ "tm custom tag null", TM_HDR "  tracing:\n  - customTags:\n      t:\n", 9, "spec.tracing[0].customTags[t]: tag \"t\" may not have a nil value" },
	{ "tm custom tag empty name", TM_HDR "  tracing:\n  - customTags:\n      \"\": {literal: {value: a}}\n", 9, "tag name may not be empty" },
	{ "tm custom tag unknown type", TM_HDR "  tracing:\n  - customTags:\n      t: {cookie: {name: a}}\n", 9, "spec.tracing[0].customTags[t].cookie: unknown field" },
	{ "tm tracing mode bad", TM_HDR "  tracing:\n  - match: {mode: INBOUND}\n", 8, "spec.tracing[0].match.mode: Unsupported value: \"INBOUND\": supported values: \"CLIENT_AND_SERVER\", \"CLIENT\", \"SERVER\"" },
	{ "tm tracing not list", TM_HDR "  tracing: {providers: [{name: zipkin}]}\n", 7, "spec.tracing: expected a list, got a mapping" },
	{ "tm disable string", TM_HDR "  tracing:\n  - disableSpanReporting: \"true\"\n", 8, "spec.tracing[0].disableSpanReporting: expected true or false" },
	{ "tm filter incomplete", TM_HDR "  accessLogging:\n  - filter:\n      expression: \"response.code >=\"\n", 9, "spec.accessLogging[0].filter.expression: must be a valid CEL expression, <input>:1:17: Syntax error" },
	{ "tm filter unbalanced", TM_HDR "  accessLogging:\n  - filter: {expression: \"(response.code >= 400\"}\n", 8, "must be a valid CEL expression, <input>:1:22: Syntax error: missing ')'" },
	{ "tm filter single equals", TM_HDR "  accessLogging:\n  - filter: {expression: \"response.code = 400\"}\n", 8, "Syntax error: token recognition error" },
	{ "tm filter empty", TM_HDR "  accessLogging:\n  - filter: {}\n", 8, "spec.accessLogging[0].filter: must be a valid CEL expression" },
	{ "tm filter reserved word", TM_HDR "  accessLogging:\n  - filter: {expression: \"if > 1\"}\n", 8, "Syntax error: reserved identifier" },
	{ "tm filter unterminated string", TM_HDR "  accessLogging:\n  - filter: {expression: \"request.host == 'a\"}\n", 8, "Syntax error: unterminated string literal" },
	{ "tm filter bad escape", TM_HDR "  accessLogging:\n  - filter: {expression: \"request.host == '\\\\q'\"}\n", 8, "invalid escape sequence" },
	{ "tm filter trailing", TM_HDR "  accessLogging:\n  - filter: {expression: \"a b\"}\n", 8, "Syntax error: extraneous input" },
	{ "tm filter optional syntax", TM_HDR "  accessLogging:\n  - filter: {expression: \"request.?host\"}\n", 8, "unsupported syntax '.?'" },
	{ "tm filter not then minus", TM_HDR "  accessLogging:\n  - filter: {expression: \"!-a\"}\n", 8, "must be a valid CEL expression" },
	{ "tm access logging unknown", TM_HDR "  accessLogging:\n  - providers: [{name: envoy}]\n    format: json\n", 9, "spec.accessLogging[0].format: unknown field" },
	{ "tm unknown spec field", TM_HDR "  logging: []\n", 7, "spec.logging: unknown field" },
	{ "tm twice", TM_HDR "  tracing: []\n---\n" TM_HDR "  metrics: []\n", 9, "Telemetry ns1/t: already defined at case.yaml:1" },
	// Telemetry: must load
	{ "tm full", TM_HDR "  metrics:\n  - providers:\n    - name: prometheus\n    reportingInterval: 5s\n    overrides:\n    - tagOverrides:\n        request_method:\n          value: \"request.method\"\n        request_host:\n          value: \"request.host\"\n      match:\n        customMetric: \"foo\"\n      disabled: false\n    - match:\n        metric: GRPC_REQUEST_MESSAGES\n      disabled: true\n  accessLogging:\n  - disabled: false\n    filter:\n      expression: 'true'\n    match:\n      mode: CLIENT\n    providers:\n    - name: stdout\n  tracing:\n  - providers:\n    - name: otlp\n    match:\n      mode: CLIENT_AND_SERVER\n    randomSamplingPercentage: 54.54\n    useRequestIdForTraceSampling: true\n    disableSpanReporting: false\n    customTags:\n      env:\n        environment:\n          name: \"NAME\"\n          defaultValue: \"default\"\n      header:\n        header:\n          name: \"x-name\"\n          defaultValue: \"default name\"\n      literal:\n        literal:\n          value: \"default literal\"\n", 0, NULL },
	{ "tm tag upsert", TM_HDR "  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: UPSERT\n          value: add\n", 0, NULL },
	{ "tm tag remove", TM_HDR "  metrics:\n  - overrides:\n    - tagOverrides:\n        foo:\n          operation: REMOVE\n", 0, NULL },
	{ "tm no spec", "apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: mesh-default, namespace: istio-system}\n", 0, NULL },
	{ "tm empty spec", TM_HDR "  {}\n", 0, NULL },
	{ "tm targetRef gateway", TM_HDR "  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: waypoint}\n  accessLogging: [{providers: [{name: envoy}]}]\n", 0, NULL },
	{ "tm targetRefs", TM_HDR "  targetRefs:\n  - {kind: Service, name: reviews}\n  - {group: \"\", kind: Service, name: ratings}\n  - {group: networking.istio.io, kind: ServiceEntry, name: ext}\n  - {group: gateway.networking.k8s.io, kind: GatewayClass, name: istio}\n  tracing: [{randomSamplingPercentage: 10}]\n", 0, NULL },
	{ "tm filter rich", TM_HDR "  accessLogging:\n  - filter:\n      expression: >-\n        response.code >= 400 || xds.cluster_name == \"outbound|80||a.default.svc.cluster.local\" &&\n        request.headers['x-debug'].startsWith('1') && !(connection.mtls) && -response.duration < -1.5e3\n", 0, NULL },
	{ "tm filter literals", TM_HDR "  accessLogging:\n  - filter:\n      expression: 'request.method in [\"GET\", \"HEAD\",] ? {\"a\": 1u, 2: 0x1F}.size() > 0 : r\"\\d+\".matches(b\"x\" + \"\"\"y\"\"\") || .google.protobuf.Duration{seconds: 1} == null || a.`b-c` % 2 == 0 // done'\n", 0, NULL },
	{ "tm sampling bounds", TM_HDR "  tracing:\n  - randomSamplingPercentage: 0\n  - randomSamplingPercentage: 100\n    enableIstioTags: false\n", 0, NULL },
	{ "tm formatter tag", TM_HDR "  tracing:\n  - customTags:\n      route: {formatter: {value: \"%ROUTE_NAME%\"}}\n      empty: {}\n", 0, NULL },
	{ "tm metrics only overrides", TM_HDR "  metrics:\n  - overrides:\n    - disabled: true\n    - match: {mode: SERVER, metric: TCP_SENT_BYTES}\n", 0, NULL },
	{ "tm reporting interval fine", TM_HDR "  metrics:\n  - reportingInterval: 1ms\n  - reportingInterval: 1.5s\n", 0, NULL },
	{ "tm disabled logging", TM_HDR "  selector: {matchLabels: {app: reviews}}\n  accessLogging:\n  - disabled: true\n", 0, NULL },
	{ "tm v1alpha1", "apiVersion: telemetry.istio.io/v1alpha1\nkind: Telemetry\nmetadata: {name: t}\nspec: {tracing: [{providers: [{name: zipkin}]}]}\n", 0, NULL },
	{ "tm json", "{\"apiVersion\": \"telemetry.istio.io/v1\", \"kind\": \"Telemetry\", \"metadata\": {\"name\": \"j\"}, \"spec\": {\"metrics\": [{\"providers\": [{\"name\": \"prometheus\"}], \"overrides\": [{\"tagOverrides\": {\"x\": {\"operation\": \"REMOVE\"}}}]}]}}\n", 0, NULL },
	{ "tm and ap share a name", TM_HDR "  tracing: []\n---\n" AP_HDR "  action: DENY\n  rules: [{}]\n", 0, NULL },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct case_ *tc = &cases[i];
		struct istio_error errs[MAX_ERRS];
		struct istio_config cfg = { 0 };
		char want_line[64];
		int r, n, found = 0;

		r = istio_load_buf("case.yaml", tc->yaml, strlen(tc->yaml), &cfg, errs, MAX_ERRS, &n);
		if (!tc->msg) {
			CHECK(r == 0 && n == 0, "%s: must load, got %d", tc->name, r);
			if (r)
				dump_errs(errs, n);
			istio_config_free(&cfg);
			continue;
		}
		CHECK(r == -EINVAL && n > 0, "%s: must fail, got %d", tc->name, r);
		snprintf(want_line, sizeof(want_line), "case.yaml:%d: ", tc->line);
		for (int k = 0; k < n; k++)
			if (strstr(errs[k].msg, tc->msg) &&
			    (!tc->line || !strncmp(errs[k].msg, want_line, strlen(want_line))))
				found = 1;
		CHECK(found, "%s: no error at line %d with \"%s\"", tc->name, tc->line, tc->msg);
		if (!found)
			dump_errs(errs, n);
		CHECK(num_resources(&cfg) == 0, "%s: a failed buffer adds nothing", tc->name);
		istio_config_free(&cfg);
	}
}

// ---- values of a rich VirtualService ----

static void test_values(void)
{
	static const char y[] =
		VS_HDR
		"  hosts: [reviews.example]\n"			// 7
		"  gateways: [mesh]\n"
		"  exportTo: [\".\"]\n"
		"  http:\n"
		"  - name: first\n"				// 11
		"    match:\n"
		"    - name: m0\n"
		"      uri: {prefix: /api}\n"
		"      method: {exact: GET}\n"
		"      scheme: {exact: https}\n"
		"      authority: {regex: \"a.*\"}\n"
		"      headers:\n"
		"        X-User: {exact: jason}\n"
		"        x-trace: {prefix: abc}\n"
		"        x-any: {}\n"
		"      withoutHeaders: {x-no: {exact: \"1\"}}\n"
		"      queryParams: {q: {regex: \"[0-9]+\"}}\n"
		"      port: 8080\n"
		"      ignoreUriCase: true\n"
		"      sourceLabels: {app: web}\n"
		"      gateways: [mesh]\n"
		"      sourceNamespace: front\n"
		"    route:\n"
		"    - destination: {host: reviews.example, subset: v2, port: {number: 9080}}\n"
		"      weight: 75\n"
		"      headers: {request: {set: {x-a: b}}}\n"
		"    - destination: {host: reviews.example}\n"
		"      weight: 25\n"
		"    timeout: 1h30m\n"
		"    retries: {attempts: 3, perTryTimeout: 2s, retryOn: \"gateway-error,connect-failure,503\"}\n"
		"    mirror: {host: shadow}\n"
		"    mirrorPercentage: {value: 12.5}\n"
		"    corsPolicy: {allowOrigins: [{exact: \"https://a.com\"}], allowMethods: [GET], maxAge: 24h}\n"
		"    rewrite: {uri: /v2}\n"
		"  - route: [{destination: {host: reviews.example}}]\n"
		"    timeout: 0.25s\n"
		"  tcp:\n"
		"  - route: [{destination: {host: db}}]\n";
	struct istio_error errs[MAX_ERRS];
	struct istio_config cfg = { 0 };
	const struct virtual_service *vs;
	const struct http_route *h;
	const struct http_match *m;
	int r, n;

	r = istio_load_buf("values.yaml", y, sizeof(y) - 1, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_virtual_services == 1, "values: %d", r);
	if (r) {
		dump_errs(errs, n);
		istio_config_free(&cfg);
		return;
	}
	vs = &cfg.virtual_services[0];
	CHECK(!strcmp(vs->meta.namespace_, "ns1") && !strcmp(vs->meta.name, "t") &&
	      !strcmp(vs->meta.file, "values.yaml") && vs->meta.line == 1, "meta");
	CHECK(vs->num_gateways == 1 && vs->num_export_to == 1 && vs->num_http == 2 &&
	      vs->num_tcp == 1 && vs->num_tls == 0, "counts");
	h = &vs->http[0];
	CHECK(!strcmp(h->name, "first") && h->num_match == 1 && h->num_route == 2, "route shape");
	CHECK(h->timeout_ms == 5400000, "timeout 1h30m: %lld", (long long)h->timeout_ms);
	CHECK(h->features == (HR_F_RETRIES | HR_F_MIRROR | HR_F_CORS | HR_F_REWRITE | HR_F_HEADERS),
	      "features %#x", h->features);
	CHECK(h->route[0].weight == 75 && h->route[1].weight == 25 && h->route[0].destination.port == 9080 &&
	      !strcmp(h->route[0].destination.subset, "v2") && !h->route[1].destination.subset, "dests");
	m = &h->match[0];
	CHECK(!strcmp(m->name, "m0") && m->uri.kind == SM_PREFIX && !strcmp(m->uri.value, "/api") &&
	      m->method.kind == SM_EXACT && m->scheme.kind == SM_EXACT && m->authority.kind == SM_REGEX,
	      "string matches");
	CHECK(m->num_headers == 3 && !strcmp(m->headers[0].name, "x-user") &&
	      m->headers[1].match.kind == SM_PREFIX && m->headers[2].match.kind == SM_NONE,
	      "headers (lowercased, presence)");
	CHECK(m->num_headers_exact == 1 && !strcmp(m->headers_exact[0].key, "x-user") &&
	      !strcmp(m->headers_exact[0].value, "jason"), "headers_exact");
	CHECK(m->num_without_headers == 1 && m->num_query_params == 1 &&
	      m->query_params[0].match.kind == SM_REGEX && m->port == 8080 && m->ignore_uri_case == 1 &&
	      m->num_source_labels == 1 && m->num_gateways == 1 && !strcmp(m->source_namespace, "front"),
	      "other match fields");
	CHECK(vs->http[1].timeout_ms == 250 && vs->http[1].num_match == 0 && vs->http[1].features == 0,
	      "second route");
	istio_config_free(&cfg);
}

// ---- values of a rich DestinationRule and of PeerAuthentications ----

static void test_dr_values(void)
{
	static const char y[] =
		DR_HDR
		"  host: reviews.prod.svc.cluster.local\n"
		"  exportTo: [\".\"]\n"
		"  workloadSelector: {matchLabels: {app: productpage}}\n"
		"  trafficPolicy:\n"
		"    loadBalancer:\n"
		"      consistentHash:\n"
		"        httpCookie: {name: user, path: /, ttl: 1h, attributes: [{name: SameSite, value: Lax}]}\n"
		"        maglev: {tableSize: 65537}\n"
		"      localityLbSetting:\n"
		"        enabled: true\n"
		"        failover: [{from: us-east, to: eu-west}]\n"
		"        failoverPriority: [topology.istio.io/network]\n"
		"      warmup: {duration: 2m, minimumPercent: 10, aggression: 2}\n"
		"    connectionPool:\n"
		"      tcp:\n"
		"        maxConnections: 100\n"
		"        connectTimeout: 30ms\n"
		"        tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}\n"
		"      http:\n"
		"        http2MaxRequests: 1000\n"
		"        maxRequestsPerConnection: 10\n"
		"        h2UpgradePolicy: UPGRADE\n"
		"        idleTimeout: 90s\n"
		"        http2KeepAlive: {interval: 15s, timeout: 5s}\n"
		"    outlierDetection:\n"
		"      consecutive5xxErrors: 7\n"
		"      consecutiveGatewayErrors: 0\n"
		"      interval: 5m\n"
		"      baseEjectionTime: 15m\n"
		"      maxEjectionPercent: 50\n"
		"    tls:\n"
		"      mode: SIMPLE\n"
		"      sni: reviews.example.com\n"
		"      subjectAltNames: [reviews.example.com, \"spiffe://cluster.local/ns/default/sa/reviews\"]\n"
		"      caCertificates: /etc/ca.pem\n"
		"      credentialName: \"\"\n"
		"    portLevelSettings:\n"
		"    - port: {number: 9443}\n"
		"      tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem, insecureSkipVerify: false}\n"
		"    - port: {number: 9080}\n"
		"      loadBalancer: {simple: LEAST_REQUEST}\n"
		"      connectionPool: {http: {h2UpgradePolicy: DO_NOT_UPGRADE, useClientProtocol: true}}\n"
		"    retryBudget: {percent: 20, minRetryConcurrency: 3}\n"
		"  subsets:\n"
		"  - name: v1\n"
		"    labels: {version: v1, track: stable}\n"
		"  - name: v2\n"
		"    labels: {version: v2}\n"
		"    trafficPolicy:\n"
		"      tls: {mode: ISTIO_MUTUAL, sni: v2.reviews}\n"
		"      tunnel: {targetHost: egress.example.com, targetPort: 8443}\n"
		"  - name: v3\n";
	static const char y2[] =
		DR_HDR "  host: r\n---\n" VS_HDR "  hosts: [r]\n" ROUTE "---\n"
		"apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"	// line 21
		"metadata: {name: u, namespace: ns1}\n"
		"spec: {host: r, trafficPolicy: {tls: {}, proxyProtocol: {version: V2}}}\n";
	struct istio_error errs[MAX_ERRS];
	struct istio_config cfg = { 0 };
	const struct destination_rule *dr;
	const struct dr_traffic_policy *tp;
	const struct dr_load_balancer *lb;
	const struct dr_tls *t;
	int r, n;

	r = istio_load_buf("dr.yaml", y, sizeof(y) - 1, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_destination_rules == 1 && cfg.num_ignored == 0, "dr values: %d", r);
	if (r) {
		dump_errs(errs, n);
		istio_config_free(&cfg);
		return;
	}
	dr = &cfg.destination_rules[0];
	CHECK(!strcmp(dr->meta.kind, "DestinationRule") && !strcmp(dr->meta.name, "t") &&
	      !strcmp(dr->meta.namespace_, "ns1") && dr->meta.line == 1, "dr meta");
	CHECK(!strcmp(dr->host, "reviews.prod.svc.cluster.local"), "dr host");
	CHECK(dr->num_export_to == 1 && !strcmp(dr->export_to[0], ".") && dr->has_workload_selector &&
	      dr->num_workload_selector == 1 && !strcmp(dr->workload_selector[0].key, "app") &&
	      !strcmp(dr->workload_selector[0].value, "productpage"), "dr exportTo, selector");
	tp = dr->traffic_policy;
	CHECK(tp != NULL, "dr traffic policy");
	if (!tp)
		goto out;
	lb = tp->load_balancer;
	CHECK(lb && lb->simple == DR_LB_UNSPECIFIED && lb->consistent_hash &&
	      lb->consistent_hash->key == DR_HASH_COOKIE &&
	      !strcmp(lb->consistent_hash->cookie_name, "user") &&
	      !strcmp(lb->consistent_hash->cookie_path, "/") &&
	      lb->consistent_hash->cookie_ttl_ms == 3600000 &&
	      lb->consistent_hash->num_cookie_attributes == 1 &&
	      !strcmp(lb->consistent_hash->cookie_attributes[0].key, "SameSite") &&
	      !strcmp(lb->consistent_hash->cookie_attributes[0].value, "Lax") &&
	      lb->consistent_hash->algo == DR_HASH_ALGO_MAGLEV &&
	      lb->consistent_hash->maglev_table_size == 65537, "dr consistent hash");
	CHECK(lb && lb->locality_lb && lb->locality_lb->enabled == 1 && lb->locality_lb->num_failover == 1 &&
	      !strcmp(lb->locality_lb->failover[0].from, "us-east") &&
	      !strcmp(lb->locality_lb->failover[0].to, "eu-west") &&
	      lb->locality_lb->num_failover_priority == 1 && lb->locality_lb->num_distribute == 0,
	      "dr locality");
	CHECK(lb && lb->warmup && lb->warmup->duration_ms == 120000 && lb->warmup->minimum_percent == 10 &&
	      lb->warmup->aggression == 2 && lb->warmup_duration_ms == -1, "dr warmup");
	CHECK(tp->connection_pool && tp->connection_pool->tcp && tp->connection_pool->http,
	      "dr connection pool");
	if (tp->connection_pool && tp->connection_pool->tcp && tp->connection_pool->http) {
		const struct dr_tcp_pool *tcp = tp->connection_pool->tcp;
		const struct dr_http_pool *http = tp->connection_pool->http;

		CHECK(tcp->max_connections == 100 && tcp->connect_timeout_ms == 30 && tcp->keepalive &&
		      tcp->keepalive->probes == 3 && tcp->keepalive->time_ms == 7200000 &&
		      tcp->keepalive->interval_ms == 75000 && tcp->idle_timeout_ms == -1 &&
		      tcp->max_connection_duration_ms == -1, "dr tcp pool");
		CHECK(http->http2_max_requests == 1000 && http->max_requests_per_connection == 10 &&
		      http->http1_max_pending_requests == 0 && http->h2_upgrade_policy == DR_H2_UPGRADE &&
		      http->idle_timeout_ms == 90000 && !http->use_client_protocol &&
		      http->h2_keepalive_interval_ms == 15000 && http->h2_keepalive_timeout_ms == 5000,
		      "dr http pool");
	}
	CHECK(tp->outlier_detection && tp->outlier_detection->consecutive_5xx_errors == 7 &&
	      tp->outlier_detection->consecutive_gateway_errors == 0 &&
	      tp->outlier_detection->consecutive_local_origin_failures == -1 &&
	      tp->outlier_detection->interval_ms == 300000 &&
	      tp->outlier_detection->base_ejection_time_ms == 900000 &&
	      tp->outlier_detection->max_ejection_percent == 50, "dr outlier");
	t = tp->tls;
	CHECK(t && t->mode == DR_TLS_SIMPLE && !strcmp(t->sni, "reviews.example.com") &&
	      t->num_subject_alt_names == 2 && !strcmp(t->subject_alt_names[0], "reviews.example.com") &&
	      !strcmp(t->subject_alt_names[1], "spiffe://cluster.local/ns/default/sa/reviews") &&
	      !strcmp(t->ca_certificates, "/etc/ca.pem") && t->credential_name == NULL &&
	      t->client_certificate == NULL && t->insecure_skip_verify == -1, "dr tls");
	CHECK(tp->num_port_level_settings == 2, "dr port-level count");
	if (tp->num_port_level_settings == 2) {
		const struct dr_port_policy *pp = tp->port_level_settings;

		CHECK(pp[0].port == 9443 && pp[0].tls && pp[0].tls->mode == DR_TLS_MUTUAL &&
		      !strcmp(pp[0].tls->client_certificate, "/c.pem") &&
		      !strcmp(pp[0].tls->private_key, "/k.pem") && pp[0].tls->insecure_skip_verify == 0 &&
		      !pp[0].load_balancer && !pp[0].connection_pool && !pp[0].outlier_detection,
		      "dr port-level tls");
		CHECK(pp[1].port == 9080 && !pp[1].tls && pp[1].load_balancer &&
		      pp[1].load_balancer->simple == DR_LB_LEAST_REQUEST && pp[1].connection_pool &&
		      pp[1].connection_pool->http && !pp[1].connection_pool->tcp &&
		      pp[1].connection_pool->http->h2_upgrade_policy == DR_H2_DO_NOT_UPGRADE &&
		      pp[1].connection_pool->http->use_client_protocol == 1, "dr port-level lb, h2");
	}
	CHECK(tp->retry_budget && tp->retry_budget->percent == 20 &&
	      tp->retry_budget->min_retry_concurrency == 3 && !tp->tunnel && tp->proxy_protocol == -1,
	      "dr retry budget, no tunnel");
	CHECK(dr->num_subsets == 3, "dr subsets");
	if (dr->num_subsets == 3) {
		const struct dr_subset *s = dr->subsets;

		CHECK(!strcmp(s[0].name, "v1") && s[0].num_labels == 2 && !strcmp(s[0].labels[0].key, "version") &&
		      !strcmp(s[0].labels[0].value, "v1") && !strcmp(s[0].labels[1].key, "track") &&
		      !strcmp(s[0].labels[1].value, "stable") && !s[0].traffic_policy, "dr subset v1");
		CHECK(!strcmp(s[1].name, "v2") && s[1].num_labels == 1 && s[1].traffic_policy &&
		      s[1].traffic_policy->tls && s[1].traffic_policy->tls->mode == DR_TLS_ISTIO_MUTUAL &&
		      !strcmp(s[1].traffic_policy->tls->sni, "v2.reviews") && s[1].traffic_policy->tunnel &&
		      !strcmp(s[1].traffic_policy->tunnel->protocol, "CONNECT") &&
		      !strcmp(s[1].traffic_policy->tunnel->target_host, "egress.example.com") &&
		      s[1].traffic_policy->tunnel->target_port == 8443 &&
		      !s[1].traffic_policy->load_balancer, "dr subset v2");
		CHECK(!strcmp(s[2].name, "v3") && s[2].num_labels == 0 && !s[2].traffic_policy, "dr subset v3");
	}
out:
	istio_config_free(&cfg);

	// no trafficPolicy at all, and a policy with only a tls block
	r = istio_load_buf("dr2.yaml", y2, sizeof(y2) - 1, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_destination_rules == 2 && cfg.num_virtual_services == 1, "dr2: %d", r);
	if (r == 0 && cfg.num_destination_rules == 2) {
		dr = cfg.destination_rules;
		CHECK(!dr[0].traffic_policy && dr[0].num_subsets == 0 && !dr[0].has_workload_selector,
		      "dr without policy");
		CHECK(dr[1].traffic_policy && dr[1].traffic_policy->tls &&
		      dr[1].traffic_policy->tls->mode == DR_TLS_DISABLE && !dr[1].traffic_policy->tls->sni &&
		      dr[1].traffic_policy->proxy_protocol == DR_PROXY_V2 && dr[1].meta.line == 21,
		      "dr explicit DISABLE, proxy v2: line %d", dr[1].meta.line);
	}
	istio_config_free(&cfg);
}

static void test_pa_values(void)
{
	static const char y[] =
		PA_HDR
		"  selector:\n"
		"    matchLabels: {app: reviews, version: v1}\n"
		"  mtls: {mode: STRICT}\n"
		"  portLevelMtls:\n"
		"    8080: {mode: DISABLE}\n"
		"    \"9090\": {mode: PERMISSIVE}\n"
		"    9091: {}\n"
		"    9092: {mode: UNSET}\n"
		"---\n"
		"apiVersion: security.istio.io/v1beta1\n"
		"kind: PeerAuthentication\n"
		"metadata: {name: default, namespace: istio-system}\n"
		"spec:\n"
		"  mtls:\n"
		"    mode: PERMISSIVE\n"
		"---\n"
		"apiVersion: security.istio.io/v1\n"
		"kind: PeerAuthentication\n"
		"metadata: {name: default, namespace: ns2}\n";
	struct istio_error errs[MAX_ERRS];
	struct istio_config cfg = { 0 };
	const struct peer_authentication *pa;
	int r, n;

	r = istio_load_buf("pa.yaml", y, sizeof(y) - 1, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_peer_authentications == 3 && cfg.num_ignored == 0, "pa values: %d", r);
	if (r) {
		dump_errs(errs, n);
		istio_config_free(&cfg);
		return;
	}
	pa = cfg.peer_authentications;
	CHECK(!strcmp(pa[0].meta.kind, "PeerAuthentication") && !strcmp(pa[0].meta.namespace_, "ns1") &&
	      pa[0].num_selector == 2 && !strcmp(pa[0].selector[0].key, "app") &&
	      !strcmp(pa[0].selector[1].value, "v1") && pa[0].mtls_mode == PA_MTLS_STRICT, "pa[0] selector, mode");
	CHECK(pa[0].num_port_level_mtls == 4 && pa[0].port_level_mtls[0].port == 8080 &&
	      pa[0].port_level_mtls[0].mode == PA_MTLS_DISABLE && pa[0].port_level_mtls[1].port == 9090 &&
	      pa[0].port_level_mtls[1].mode == PA_MTLS_PERMISSIVE && pa[0].port_level_mtls[2].port == 9091 &&
	      pa[0].port_level_mtls[2].mode == PA_MTLS_UNSET && pa[0].port_level_mtls[3].port == 9092 &&
	      pa[0].port_level_mtls[3].mode == PA_MTLS_UNSET, "pa[0] port-level modes");
	CHECK(!strcmp(pa[1].meta.name, "default") && !strcmp(pa[1].meta.namespace_, "istio-system") &&
	      pa[1].num_selector == 0 && pa[1].mtls_mode == PA_MTLS_PERMISSIVE &&
	      pa[1].num_port_level_mtls == 0, "pa[1] mesh-wide");
	CHECK(!strcmp(pa[2].meta.namespace_, "ns2") && pa[2].mtls_mode == PA_MTLS_UNSET &&
	      pa[2].num_selector == 0 && pa[2].num_port_level_mtls == 0, "pa[2] no spec");
	istio_config_free(&cfg);
}

// ---- values of an AuthorizationPolicy and a RequestAuthentication ----

static void test_authn_values(void)
{
	static const char y[] =
		AP_HDR
		"  selector:\n"
		"    matchLabels: {app: web, version: v1}\n"
		"  action: DENY\n"
		"  rules:\n"
		"  - from:\n"
		"    - source:\n"
		"        principals: [cluster.local/ns/a/sa/b, \"*\"]\n"
		"        notNamespaces: [kube-system]\n"
		"        ipBlocks: [10.0.0.0/8]\n"
		"        notRemoteIpBlocks: [\"2001:db8::1\"]\n"
		"        trustDomains: [td]\n"
		"    - source:\n"
		"        serviceAccounts: [ns1/sa]\n"
		"        notServiceAccounts: [sa2]\n"
		"        requestPrincipals: [\"iss/sub\"]\n"
		"    to:\n"
		"    - operation:\n"
		"        hosts: [a.com]\n"
		"        notHosts: [\"*.b.com\"]\n"
		"        ports: [\"8080\"]\n"
		"        notPorts: [\"9090\"]\n"
		"        methods: [GET, POST]\n"
		"        notMethods: [DELETE]\n"
		"        paths: [\"/api/{*}/x\"]\n"
		"        notPaths: [\"/admin/{**}\"]\n"
		"    when:\n"
		"    - key: request.auth.claims[groups][0]\n"
		"      values: [admins]\n"
		"      notValues: [guests]\n"
		"  - {}\n"
		"---\n"
		"apiVersion: security.istio.io/v1beta1\n"
		"kind: AuthorizationPolicy\n"
		"metadata: {name: ext, namespace: ns2}\n"
		"spec:\n"
		"  targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}\n"
		"  action: CUSTOM\n"
		"  provider: {name: opa}\n"
		"  rules: [{to: [{operation: {paths: [/x]}}]}]\n"
		"---\n"
		RA_HDR
		"  targetRefs:\n"
		"  - {kind: Service, name: svc}\n"
		"  - {group: \"\", kind: Service, name: svc2}\n"
		"  jwtRules:\n"
		"  - issuer: https://issuer.example\n"
		"    audiences: [aud1, aud2]\n"
		"    jwksUri: https://issuer.example/jwks.json\n"
		"    fromHeaders:\n"
		"    - name: x-jwt\n"
		"      prefix: \"Bearer \"\n"
		"    - name: x-token\n"
		"    fromParams: [token]\n"
		"    fromCookies: [session]\n"
		"    outputPayloadToHeader: x-payload\n"
		"    forwardOriginalToken: true\n"
		"    outputClaimToHeaders:\n"
		"    - {header: x-sub, claim: sub}\n"
		"    timeout: 2.5s\n"
		"    spaceDelimitedClaims: [scope, perms]\n"
		"  - issuer: other\n"
		"    jwks: '{\"keys\": []}'\n";
	struct istio_error errs[MAX_ERRS];
	struct istio_config cfg = { 0 };
	const struct authorization_policy *ap;
	const struct request_authentication *ra;
	const struct ap_source *src;
	const struct ap_operation *op;
	const struct jwt_rule *j;
	int r, n;

	r = istio_load_buf("authn.yaml", y, sizeof(y) - 1, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_authorization_policies == 2 && cfg.num_request_authentications == 1 &&
	      cfg.num_ignored == 0, "authn values: %d", r);
	if (r || cfg.num_authorization_policies != 2 || cfg.num_request_authentications != 1) {
		dump_errs(errs, n);
		istio_config_free(&cfg);
		return;
	}
	ap = cfg.authorization_policies;
	CHECK(!strcmp(ap[0].meta.kind, "AuthorizationPolicy") && !strcmp(ap[0].meta.namespace_, "ns1") &&
	      ap[0].scope.has_selector && ap[0].scope.num_selector == 2 &&
	      !strcmp(ap[0].scope.selector[1].key, "version") && !ap[0].scope.target_ref &&
	      ap[0].scope.num_target_refs == 0 && ap[0].action == AP_DENY && !ap[0].provider_name,
	      "ap[0] scope, action");
	CHECK(ap[0].num_rules == 2 && ap[0].rules[0].num_from == 2 && ap[0].rules[0].num_to == 1 &&
	      ap[0].rules[0].num_when == 1 && ap[0].rules[1].num_from == 0 && ap[0].rules[1].num_to == 0 &&
	      ap[0].rules[1].num_when == 0, "ap[0] rules");
	src = ap[0].rules[0].from;
	CHECK(src[0].num_principals == 2 && !strcmp(src[0].principals[1], "*") &&
	      src[0].num_not_namespaces == 1 && !strcmp(src[0].not_namespaces[0], "kube-system") &&
	      src[0].num_ip_blocks == 1 && !strcmp(src[0].ip_blocks[0], "10.0.0.0/8") &&
	      src[0].num_not_remote_ip_blocks == 1 && !strcmp(src[0].not_remote_ip_blocks[0], "2001:db8::1") &&
	      src[0].num_trust_domains == 1 && src[0].num_service_accounts == 0, "ap[0] source 0");
	CHECK(src[1].num_service_accounts == 1 && !strcmp(src[1].service_accounts[0], "ns1/sa") &&
	      src[1].num_not_service_accounts == 1 && !strcmp(src[1].not_service_accounts[0], "sa2") &&
	      src[1].num_request_principals == 1 && !strcmp(src[1].request_principals[0], "iss/sub") &&
	      src[1].num_principals == 0, "ap[0] source 1");
	op = ap[0].rules[0].to;
	CHECK(op->num_hosts == 1 && !strcmp(op->hosts[0], "a.com") && op->num_not_hosts == 1 &&
	      !strcmp(op->not_hosts[0], "*.b.com") && op->num_ports == 1 && !strcmp(op->ports[0], "8080") &&
	      op->num_not_ports == 1 && !strcmp(op->not_ports[0], "9090") && op->num_methods == 2 &&
	      !strcmp(op->methods[1], "POST") && op->num_not_methods == 1 && op->num_paths == 1 &&
	      !strcmp(op->paths[0], "/api/{*}/x") && op->num_not_paths == 1 &&
	      !strcmp(op->not_paths[0], "/admin/{**}"), "ap[0] operation");
	CHECK(!strcmp(ap[0].rules[0].when[0].key, "request.auth.claims[groups][0]") &&
	      ap[0].rules[0].when[0].num_values == 1 && !strcmp(ap[0].rules[0].when[0].values[0], "admins") &&
	      ap[0].rules[0].when[0].num_not_values == 1 &&
	      !strcmp(ap[0].rules[0].when[0].not_values[0], "guests"), "ap[0] when");
	CHECK(!strcmp(ap[1].meta.namespace_, "ns2") && ap[1].action == AP_CUSTOM &&
	      ap[1].provider_name && !strcmp(ap[1].provider_name, "opa") && !ap[1].scope.has_selector &&
	      ap[1].scope.target_ref && !strcmp(ap[1].scope.target_ref->group, "gateway.networking.k8s.io") &&
	      !strcmp(ap[1].scope.target_ref->kind, "Gateway") && !strcmp(ap[1].scope.target_ref->name, "gw") &&
	      !ap[1].scope.target_ref->namespace_ && ap[1].num_rules == 1 &&
	      !strcmp(ap[1].rules[0].to[0].paths[0], "/x"), "ap[1] custom, targetRef");
	ra = cfg.request_authentications;
	CHECK(!strcmp(ra->meta.kind, "RequestAuthentication") && !ra->scope.has_selector &&
	      !ra->scope.target_ref && ra->scope.num_target_refs == 2 &&
	      !strcmp(ra->scope.target_refs[0].group, "") && !strcmp(ra->scope.target_refs[0].kind, "Service") &&
	      !strcmp(ra->scope.target_refs[1].name, "svc2") && ra->num_jwt_rules == 2, "ra scope");
	j = &ra->jwt_rules[0];
	CHECK(!strcmp(j->issuer, "https://issuer.example") && j->num_audiences == 2 &&
	      !strcmp(j->audiences[1], "aud2") && !strcmp(j->jwks_uri, "https://issuer.example/jwks.json") &&
	      !j->jwks && j->num_from_headers == 2 && !strcmp(j->from_headers[0].name, "x-jwt") &&
	      !strcmp(j->from_headers[0].prefix, "Bearer ") && !j->from_headers[1].prefix &&
	      j->num_from_params == 1 && !strcmp(j->from_params[0], "token") && j->num_from_cookies == 1 &&
	      !strcmp(j->from_cookies[0], "session"), "ra rule 0 locations");
	CHECK(!strcmp(j->output_payload_to_header, "x-payload") && j->forward_original_token == 1 &&
	      j->num_output_claim_to_headers == 1 && !strcmp(j->output_claim_to_headers[0].header, "x-sub") &&
	      !strcmp(j->output_claim_to_headers[0].claim, "sub") && j->timeout_ms == 2500 &&
	      j->num_space_delimited_claims == 2 && !strcmp(j->space_delimited_claims[1], "perms"),
	      "ra rule 0 outputs");
	j = &ra->jwt_rules[1];
	CHECK(!strcmp(j->issuer, "other") && !j->jwks_uri && j->jwks && !strcmp(j->jwks, "{\"keys\": []}") &&
	      j->timeout_ms == -1 && j->forward_original_token == 0 && !j->output_payload_to_header &&
	      j->num_audiences == 0, "ra rule 1 defaults");
	istio_config_free(&cfg);
	CHECK(cfg.num_authorization_policies == 0 && cfg.authorization_policies == NULL &&
	      cfg.num_request_authentications == 0 && cfg.arena == NULL, "authn free zeroes");
}

// ---- values of a Gateway, a WorkloadGroup and a Telemetry ----

static void test_gw_values(void)
{
	static const char y[] =
		GW_HDR
		"  selector: {istio: ingressgateway, app: gw}\n"
		"  servers:\n"
		"  - port: {number: 80, name: http, protocol: http}\n"
		"    hosts: [\"ns1/a.example.com\", \"*.example.com\"]\n"
		"    tls: {httpsRedirect: true}\n"
		"    name: plain\n"
		"  - port: {number: 443, name: https, protocol: HTTPS}\n"
		"    hosts: [a.example.com]\n"
		"    bind: 10.0.0.1\n"
		"    defaultEndpoint: 127.0.0.1:8080\n"
		"    tls:\n"
		"      mode: MUTUAL\n"
		"      tlsCertificates:\n"
		"      - {serverCertificate: /rsa.pem, privateKey: /rsa.key, caCertificates: /rsa-ca.pem}\n"
		"      - {serverCertificate: /ec.pem, privateKey: /ec.key}\n"
		"      caCertificates: /ca.pem\n"
		"      caCrl: /crl.pem\n"
		"      subjectAltNames: [spiffe://td/ns/a/sa/b]\n"
		"      verifyCertificateSpki: [spki=]\n"
		"      verifyCertificateHash: [\"AB:CD\", \"EF:01\"]\n"
		"      minProtocolVersion: TLSV1_2\n"
		"      maxProtocolVersion: TLSV1_3\n"
		"      cipherSuites: [ECDHE-RSA-AES256-GCM-SHA384]\n"
		"  - port: {number: 0, name: uds, protocol: TLS}\n"
		"    hosts: [\"*\"]\n"
		"    bind: unix:///run/gw.sock\n"
		"    tls: {mode: OPTIONAL_MUTUAL, credentialNames: [rsa, ecdsa], caCertCredentialName: ca}\n";
	struct istio_error errs[MAX_ERRS];
	struct istio_config cfg = { 0 };
	const struct gateway *gw;
	const struct gw_server *s;
	const struct gw_tls *t;
	int r, n;

	r = istio_load_buf("gw.yaml", y, sizeof(y) - 1, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_gateways == 1 && cfg.num_ignored == 0, "gw values: %d", r);
	if (r) {
		dump_errs(errs, n);
		goto out;
	}
	gw = cfg.gateways;
	CHECK(!strcmp(gw->meta.kind, "Gateway") && !strcmp(gw->meta.name, "t") &&
	      !strcmp(gw->meta.namespace_, "ns1") && gw->num_selector == 2 &&
	      !strcmp(gw->selector[1].key, "app") && !strcmp(gw->selector[1].value, "gw") &&
	      gw->num_servers == 3, "gw meta, selector");
	s = &gw->servers[0];
	CHECK(s->port.number == 80 && !strcmp(s->port.protocol, "HTTP") && !strcmp(s->port.name, "http") &&
	      s->num_hosts == 2 && !strcmp(s->hosts[0], "ns1/a.example.com") && s->tls &&
	      s->tls->https_redirect && s->tls->mode == GW_TLS_PASSTHROUGH && !strcmp(s->name, "plain") &&
	      !s->bind && !s->default_endpoint, "gw server 0");
	s = &gw->servers[1];
	t = s->tls;
	CHECK(s->port.number == 443 && !strcmp(s->port.protocol, "HTTPS") && !strcmp(s->bind, "10.0.0.1") &&
	      !strcmp(s->default_endpoint, "127.0.0.1:8080") && !s->name && t && !t->https_redirect,
	      "gw server 1");
	CHECK(t && t->mode == GW_TLS_MUTUAL && t->num_tls_certificates == 2 &&
	      !strcmp(t->tls_certificates[0].ca_certificates, "/rsa-ca.pem") &&
	      !strcmp(t->tls_certificates[1].private_key, "/ec.key") &&
	      !t->tls_certificates[1].ca_certificates && !strcmp(t->ca_certificates, "/ca.pem") &&
	      !strcmp(t->ca_crl, "/crl.pem") && !t->server_certificate && !t->credential_name &&
	      t->num_subject_alt_names == 1 && t->num_verify_certificate_spki == 1 &&
	      t->num_verify_certificate_hash == 2 && !strcmp(t->verify_certificate_hash[1], "EF:01") &&
	      t->min_protocol_version == GW_TLS_V1_2 && t->max_protocol_version == GW_TLS_V1_3 &&
	      t->num_cipher_suites == 1, "gw server 1 tls");
	s = &gw->servers[2];
	t = s->tls;
	CHECK(s->port.number == 0 && !strcmp(s->bind, "unix:///run/gw.sock") && t &&
	      t->mode == GW_TLS_OPTIONAL_MUTUAL && t->num_credential_names == 2 &&
	      !strcmp(t->credential_names[1], "ecdsa") && !strcmp(t->ca_cert_credential_name, "ca") &&
	      t->min_protocol_version == GW_TLS_V_AUTO, "gw server 2");
out:
	istio_config_free(&cfg);
}

static void test_wg_values(void)
{
	static const char y[] =
		WG_HDR
		"  metadata:\n"
		"    labels: {app: reviews, version: v1}\n"
		"    annotations: {note: \"a: b\"}\n"
		"  template:\n"
		"    ports: {grpc: 3550, http: 8080}\n"
		"    serviceAccount: default\n"
		"    network: vm-net\n"
		"    locality: us/east\n"
		"    weight: 3\n"
		"  probe:\n"
		"    initialDelaySeconds: 5\n"
		"    timeoutSeconds: 3\n"
		"    periodSeconds: 4\n"
		"    successThreshold: 2\n"
		"    failureThreshold: 6\n"
		"    httpGet:\n"
		"      path: /foo/bar\n"
		"      host: 127.0.0.1\n"
		"      port: 3100\n"
		"      scheme: HTTPS\n"
		"      httpHeaders:\n"
		"      - name: Lit-Header\n"
		"        value: Im-The-Best\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: WorkloadGroup\n"
		"metadata: {name: exec}\n"
		"spec:\n"
		"  template: {address: 10.0.0.9}\n"
		"  probe: {exec: {command: [/bin/true, -v]}}\n"
		"---\n"
		"apiVersion: networking.istio.io/v1\n"
		"kind: WorkloadGroup\n"
		"metadata: {name: tcp}\n"
		"spec:\n"
		"  template: {}\n"
		"  probe: {tcpSocket: {port: 22}}\n";
	struct istio_error errs[MAX_ERRS];
	struct istio_config cfg = { 0 };
	const struct workload_group *wg;
	const struct wg_probe *p;
	int r, n;

	r = istio_load_buf("wg.yaml", y, sizeof(y) - 1, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_workload_groups == 3 && cfg.num_workload_entries == 0 && cfg.num_ignored == 0,
	      "wg values: %d", r);
	if (r) {
		dump_errs(errs, n);
		goto out;
	}
	wg = cfg.workload_groups;
	CHECK(!strcmp(wg[0].meta.kind, "WorkloadGroup") && wg[0].num_labels == 2 &&
	      !strcmp(wg[0].labels[1].value, "v1") && wg[0].num_annotations == 1 &&
	      !strcmp(wg[0].annotations[0].value, "a: b"), "wg metadata");
	CHECK(!wg[0].template_.address && wg[0].template_.num_ports == 2 &&
	      !strcmp(wg[0].template_.ports[0].key, "grpc") && !strcmp(wg[0].template_.ports[1].value, "8080") &&
	      !strcmp(wg[0].template_.service_account, "default") &&
	      !strcmp(wg[0].template_.network, "vm-net") && !strcmp(wg[0].template_.locality, "us/east") &&
	      wg[0].template_.weight == 3 && wg[0].template_.num_labels == 0, "wg template");
	p = wg[0].probe;
	CHECK(p && p->initial_delay_seconds == 5 && p->timeout_seconds == 3 && p->period_seconds == 4 &&
	      p->success_threshold == 2 && p->failure_threshold == 6 && p->kind == WG_PROBE_HTTP_GET &&
	      !strcmp(p->http_get.path, "/foo/bar") && !strcmp(p->http_get.host, "127.0.0.1") &&
	      p->http_get.port == 3100 && !strcmp(p->http_get.scheme, "HTTPS") && p->http_get.num_headers == 1 &&
	      !strcmp(p->http_get.headers[0].key, "Lit-Header") &&
	      !strcmp(p->http_get.headers[0].value, "Im-The-Best"), "wg http probe");
	p = wg[1].probe;
	CHECK(!strcmp(wg[1].meta.namespace_, "default") && !strcmp(wg[1].template_.address, "10.0.0.9") &&
	      wg[1].num_labels == 0 && p && p->kind == WG_PROBE_EXEC && p->exec.num_command == 2 &&
	      !strcmp(p->exec.command[1], "-v") && p->period_seconds == 0, "wg exec probe");
	p = wg[2].probe;
	CHECK(p && p->kind == WG_PROBE_TCP_SOCKET && p->tcp_socket.port == 22 && !p->tcp_socket.host,
	      "wg tcp probe");
out:
	istio_config_free(&cfg);
}

static void test_tm_values(void)
{
	static const char y[] =
		TM_HDR
		"  selector: {matchLabels: {app: reviews}}\n"
		"  tracing:\n"
		"  - match: {mode: SERVER}\n"
		"    providers: [{name: otel}]\n"
		"    randomSamplingPercentage: 12.5\n"
		"    disableSpanReporting: true\n"
		"    useRequestIdForTraceSampling: false\n"
		"    customTags:\n"
		"      env: {environment: {name: POD, defaultValue: none}}\n"
		"      hdr: {header: {name: x-user}}\n"
		"      lit: {literal: {value: v1}}\n"
		"      fmt: {formatter: {value: \"%UPSTREAM_CLUSTER%\"}}\n"
		"  - {}\n"
		"  metrics:\n"
		"  - providers: [{name: prometheus}, {name: stackdriver}]\n"
		"    reportingInterval: 15s\n"
		"    overrides:\n"
		"    - match: {metric: REQUEST_DURATION, mode: CLIENT}\n"
		"      disabled: true\n"
		"    - match: {customMetric: my_metric}\n"
		"      tagOverrides:\n"
		"        request_protocol: {operation: REMOVE}\n"
		"        team: {value: \"'payments'\"}\n"
		"  accessLogging:\n"
		"  - providers: [{name: envoy}]\n"
		"    match: {mode: CLIENT}\n"
		"    filter: {expression: \"response.code >= 400\"}\n"
		"  - disabled: true\n";
	struct istio_error errs[MAX_ERRS];
	struct istio_config cfg = { 0 };
	const struct telemetry *tm;
	const struct tm_tracing *tr;
	const struct tm_metrics *mt;
	const struct tm_access_logging *al;
	int r, n;

	r = istio_load_buf("tm.yaml", y, sizeof(y) - 1, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_telemetries == 1 && cfg.num_ignored == 0, "tm values: %d", r);
	if (r) {
		dump_errs(errs, n);
		goto out;
	}
	tm = cfg.telemetries;
	CHECK(!strcmp(tm->meta.kind, "Telemetry") && tm->scope.has_selector && tm->scope.num_selector == 1 &&
	      !strcmp(tm->scope.selector[0].value, "reviews") && !tm->scope.target_ref &&
	      tm->num_tracing == 2 && tm->num_metrics == 1 && tm->num_access_logging == 2, "tm scope, counts");
	tr = &tm->tracing[0];
	CHECK(tr->match_mode == TM_MODE_SERVER && tr->num_providers == 1 && !strcmp(tr->providers[0], "otel") &&
	      tr->random_sampling_percentage == 12.5 && tr->disable_span_reporting == 1 &&
	      tr->use_request_id_for_trace_sampling == 0 && tr->enable_istio_tags == -1 &&
	      tr->num_custom_tags == 4, "tm tracing 0");
	CHECK(tr->num_custom_tags == 4 && !strcmp(tr->custom_tags[0].name, "env") &&
	      tr->custom_tags[0].kind == TM_TAG_ENVIRONMENT && !strcmp(tr->custom_tags[0].source, "POD") &&
	      !strcmp(tr->custom_tags[0].default_value, "none") && tr->custom_tags[1].kind == TM_TAG_HEADER &&
	      !strcmp(tr->custom_tags[1].source, "x-user") && !tr->custom_tags[1].default_value &&
	      tr->custom_tags[2].kind == TM_TAG_LITERAL && !strcmp(tr->custom_tags[2].value, "v1") &&
	      tr->custom_tags[3].kind == TM_TAG_FORMATTER &&
	      !strcmp(tr->custom_tags[3].value, "%UPSTREAM_CLUSTER%"), "tm custom tags");
	tr = &tm->tracing[1];
	CHECK(tr->match_mode == TM_MODE_CLIENT_AND_SERVER && tr->num_providers == 0 &&
	      tr->random_sampling_percentage == -1 && tr->disable_span_reporting == -1, "tm tracing 1");
	mt = &tm->metrics[0];
	CHECK(mt->num_providers == 2 && !strcmp(mt->providers[1], "stackdriver") &&
	      mt->reporting_interval_ms == 15000 && mt->num_overrides == 2 &&
	      mt->overrides[0].metric == TM_METRIC_REQUEST_DURATION && !mt->overrides[0].custom_metric &&
	      mt->overrides[0].match_mode == TM_MODE_CLIENT && mt->overrides[0].disabled == 1 &&
	      mt->overrides[0].num_tag_overrides == 0, "tm metrics override 0");
	CHECK(mt->num_overrides == 2 && !strcmp(mt->overrides[1].custom_metric, "my_metric") &&
	      mt->overrides[1].disabled == -1 && mt->overrides[1].num_tag_overrides == 2 &&
	      !strcmp(mt->overrides[1].tag_overrides[0].name, "request_protocol") &&
	      mt->overrides[1].tag_overrides[0].operation == TM_TAG_REMOVE &&
	      !mt->overrides[1].tag_overrides[0].value &&
	      mt->overrides[1].tag_overrides[1].operation == TM_TAG_UPSERT &&
	      !strcmp(mt->overrides[1].tag_overrides[1].value, "'payments'"), "tm metrics override 1");
	al = tm->access_logging;
	CHECK(al[0].num_providers == 1 && al[0].match_mode == TM_MODE_CLIENT && al[0].disabled == -1 &&
	      !strcmp(al[0].filter, "response.code >= 400") && al[1].disabled == 1 && !al[1].filter &&
	      al[1].num_providers == 0, "tm access logging");
out:
	istio_config_free(&cfg);
}

// ---- kinds that are parsed now, kinds that are not, rollback ----

static void test_kind_counts(void)
{
	static const char good[] =
		GW_HDR GW_PORT("80", "http", "HTTP") GW_ANY
		"---\n" WG_HDR "  template: {}\n"
		"---\n" TM_HDR "  tracing: [{providers: [{name: zipkin}]}]\n"
		"---\napiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: {name: ef}\n"
		"spec: {configPatches: []}\n"
		"---\napiVersion: networking.istio.io/v1beta1\nkind: ProxyConfig\nmetadata: {name: pc}\n"
		"spec: {concurrency: 2}\n";
	// a good WorkloadGroup and Telemetry, then a bad Gateway: none is kept
	static const char bad[] =
		"apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {name: wg2}\nspec: {template: {}}\n"
		"---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: {name: tm2}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw2}\nspec: {servers: []}\n";
	struct istio_error errs[MAX_ERRS];
	struct istio_config cfg = { 0 };
	int r, n;

	r = istio_load_buf("good.yaml", good, sizeof(good) - 1, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_gateways == 1 && cfg.num_workload_groups == 1 && cfg.num_telemetries == 1 &&
	      cfg.num_ignored == 2, "parsed kinds are not ignored: %d, %d ignored", r, cfg.num_ignored);
	if (r)
		dump_errs(errs, n);
	r = istio_load_buf("bad.yaml", bad, sizeof(bad) - 1, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "bad.yaml:13: Gateway default/gw2: spec.servers: "
						"gateway must have at least one server") &&
	      cfg.num_gateways == 1 && cfg.num_workload_groups == 1 && cfg.num_telemetries == 1 &&
	      cfg.num_ignored == 2, "rollback: %d, %d errors: %s", r, n, n ? errs[0].msg : "");
	// the rolled-back names are free again; the kept ones are not
	r = istio_load_buf("again.yaml", bad, strstr(bad, "---\napiVersion: networking.istio.io/v1\nkind: Gateway") - bad,
			   &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_workload_groups == 2 && cfg.num_telemetries == 2, "after rollback: %d", r);
	r = istio_load_buf("dup.yaml", good, strstr(good, "---") - good, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "Gateway ns1/t: already defined at good.yaml:1"),
	      "gateway duplicate across files: %s", n ? errs[0].msg : "");
	istio_config_free(&cfg);
	CHECK(!cfg.gateways && !cfg.num_gateways && !cfg.num_telemetries && !cfg.arena, "free zeroes the new kinds");
}

// test_bookinfo_gateways loads every file of the bookinfo samples that holds
// a Gateway, whatever else the directory gains.
static void test_bookinfo_gateways(void)
{
	DIR *d = opendir(TD "/bookinfo-networking");
	struct dirent *e;
	int files = 0, total = 0;

	CHECK(d != NULL, "cannot open %s", TD "/bookinfo-networking");
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct istio_error errs[MAX_ERRS];
		struct istio_config cfg = { 0 };
		char path[PATH_MAX];
		size_t len;
		char *text;
		int r, n, want;

		if (!istio_wanted_file(e->d_name))
			continue;
		snprintf(path, sizeof(path), TD "/bookinfo-networking/%s", e->d_name);
		if (!(text = slurp(path, &len)))
			continue;
		want = count_lines_starting(text, "kind: Gateway");
		free(text);
		if (!want)
			continue;
		files++;
		r = istio_load_file(path, &cfg, errs, MAX_ERRS, &n);
		CHECK(r == 0 && cfg.num_gateways == want, "%s: %d, %d of %d Gateways", e->d_name, r,
		      cfg.num_gateways, want);
		if (r)
			dump_errs(errs, n);
		for (int i = 0; i < cfg.num_gateways; i++)
			CHECK(cfg.gateways[i].num_servers > 0 && cfg.gateways[i].servers[0].num_hosts > 0,
			      "%s: Gateway %s has servers", e->d_name, cfg.gateways[i].meta.name);
		total += cfg.num_gateways;
		istio_config_free(&cfg);
	}
	closedir(d);
	CHECK(files >= 2 && total >= 2, "bookinfo: %d files with %d Gateways", files, total);
}

// ---- durations ----

struct dur_case {
	const char *s;
	int ok;
	int64_t ms;
};

static const struct dur_case dur_cases[] = {
	{ "1s", 1, 1000 }, { "0.5s", 1, 500 }, { "100ms", 1, 100 }, { "1m", 1, 60000 },
	{ "1h", 1, 3600000 }, { "1.5h", 1, 5400000 }, { "2h30m", 1, 9000000 },
	{ "1h30m15s", 1, 5415000 }, { "0", 1, 0 }, { "0s", 1, 0 }, { "1000000us", 1, 1000 },
	{ "2000000ns", 1, 2 }, { "1.000s", 1, 1000 }, { ".5s", 1, 500 }, { "1.s", 1, 1000 },
	{ "3\xc2\xb5s", 0, 0 }, { "1000\xc2\xb5s", 1, 1 },
	{ "315576000000s", 1, 315576000000000LL }, { "315576000001s", 0, 0 },
	{ "", 0, 0 }, { "-1s", 0, 0 }, { "+1s", 0, 0 }, { "1", 0, 0 }, { "s", 0, 0 },
	{ ".s", 0, 0 }, { "1d", 0, 0 }, { "1 s", 0, 0 }, { "1s ", 0, 0 }, { "1.5ms", 0, 0 },
	{ "1ns", 0, 0 }, { "abc", 0, 0 }, { "99999999999999999999999h", 0, 0 }, { "1h-5m", 0, 0 },
};

static void test_durations(void)
{
	for (size_t i = 0; i < sizeof(dur_cases) / sizeof(dur_cases[0]); i++) {
		const struct dur_case *dc = &dur_cases[i];
		int64_t ms = -7;
		int r = istio_parse_duration(dc->s, &ms);

		CHECK(dc->ok ? r == 0 : r == -EINVAL, "duration \"%s\": ret %d", dc->s, r);
		CHECK(!dc->ok || ms == dc->ms, "duration \"%s\": %lld ms, want %lld", dc->s,
		      (long long)ms, (long long)dc->ms);
	}
	CHECK(istio_parse_duration(NULL, &(int64_t){ 0 }) == -EINVAL, "NULL duration");
}

// ---- directories and files ----

static char tmpdir[PATH_MAX];

static void put(const char *name, const char *text)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	fputs(text, f);
	fclose(f);
}

static void test_dirs(void)
{
	struct istio_error errs[MAX_ERRS];
	struct istio_config cfg;
	char path[PATH_MAX + 64];
	int r, n;

	snprintf(tmpdir, sizeof(tmpdir), "%s/istio_test.XXXXXX",
		 getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		CHECK(0, "mkdtemp");
		return;
	}
	put("b.yaml", SE_HDR "  hosts: [b.com]\n");
	put("a.yml", VS_HDR "  hosts: [r]\n" ROUTE);
	put("c.json", "{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"ServiceEntry\", "
	    "\"metadata\": {\"name\": \"c\"}, \"spec\": {\"hosts\": [\"c.com\"]}}\n");
	put(".hidden.yaml", "not: [valid\n");
	put("notes.txt", "not: [valid\n");
	put("d.yaml.bak", "not: [valid\n");
	snprintf(path, sizeof(path), "%s/sub.yaml", tmpdir);
	mkdir(path, 0700);

	r = istio_load_dir(tmpdir, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && n == 0 && cfg.num_service_entries == 2 && cfg.num_virtual_services == 1,
	      "good dir: %d, %d SE %d VS", r, cfg.num_service_entries, cfg.num_virtual_services);
	if (r)
		dump_errs(errs, n);
	if (r == 0 && cfg.num_service_entries == 2)
		CHECK(strstr(cfg.service_entries[0].meta.file, "/b.yaml") &&
		      strstr(cfg.service_entries[1].meta.file, "/c.json"), "files sorted by name");
	istio_config_free(&cfg);

	// one bad file: nothing at all, and its errors reported
	put("z.yaml", SE_HDR "  hosts: [\"*\"]\n---\n" SE_HDR "  hosts: [ok.com]\n  resolution: NOPE\n");
	memset(&cfg, 0x5a, sizeof(cfg));
	r = istio_load_dir(tmpdir, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -EINVAL && n == 2 && cfg.num_service_entries == 0 && cfg.num_virtual_services == 0 &&
	      cfg.service_entries == NULL && cfg.arena == NULL, "bad dir: %d, %d errors", r, n);
	CHECK(n >= 2 && strstr(errs[0].msg, "/z.yaml:7: ServiceEntry ns1/t: spec.hosts[0]:") &&
	      strstr(errs[1].msg, "/z.yaml:16: ServiceEntry ns1/t: spec.resolution:"),
	      "bad dir messages: %s | %s", n > 0 ? errs[0].msg : "", n > 1 ? errs[1].msg : "");
	// error cap
	r = istio_load_dir(tmpdir, &cfg, errs, 1, &n);
	CHECK(r == -EINVAL && n == 1, "max_errs 1: %d %d", r, n);
	r = istio_load_dir(tmpdir, &cfg, NULL, 0, &n);
	CHECK(r == -EINVAL && n == 0, "no error buffer: %d %d", r, n);
	r = istio_load_dir(tmpdir, &cfg, NULL, 0, NULL);
	CHECK(r == -EINVAL, "no counters: %d", r);

	// the same name in two files
	put("z.yaml", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: t\n"
	    "  namespace: ns1\nspec:\n  hosts: [z.com]\n");
	r = istio_load_dir(tmpdir, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "/z.yaml:1: ServiceEntry ns1/t: already defined at ") &&
	      strstr(errs[0].msg, "/b.yaml:1"), "cross-file duplicate: %s", n ? errs[0].msg : "");
	istio_config_free(&cfg);
	snprintf(path, sizeof(path), "%s/z.yaml", tmpdir);
	unlink(path);

	// missing directory: empty mesh; a file instead of a directory: error
	snprintf(path, sizeof(path), "%s/none", tmpdir);
	r = istio_load_dir(path, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && n == 0 && cfg.num_service_entries == 0, "missing dir: %d", r);
	istio_config_free(&cfg);
	snprintf(path, sizeof(path), "%s/b.yaml", tmpdir);
	r = istio_load_dir(path, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -ENOTDIR && n == 1 && strstr(errs[0].msg, "Not a directory"), "file as dir: %d", r);

	// istio_load_file appends, and rolls back on error
	memset(&cfg, 0, sizeof(cfg));
	r = istio_load_file(path, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_service_entries == 1, "load_file: %d", r);
	put("bad.yaml", VS_HDR "  hosts: [r]\n" ROUTE "---\n" SE_HDR "  hosts: [\"*\"]\n");
	snprintf(path, sizeof(path), "%s/bad.yaml", tmpdir);
	r = istio_load_file(path, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -EINVAL && cfg.num_service_entries == 1 && cfg.num_virtual_services == 0,
	      "load_file rollback: %d, %d SE, %d VS", r, cfg.num_service_entries, cfg.num_virtual_services);
	snprintf(path, sizeof(path), "%s/a.yml", tmpdir);
	r = istio_load_file(path, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_service_entries == 1 && cfg.num_virtual_services == 1, "load_file append: %d", r);
	r = istio_load_file(path, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "already defined"), "append duplicate: %d", r);
	istio_config_free(&cfg);
	snprintf(path, sizeof(path), "%s/nope.yaml", tmpdir);
	r = istio_load_file(path, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -ENOENT && n == 1 && strstr(errs[0].msg, "nope.yaml: No such file"), "missing file: %d", r);
	snprintf(path, sizeof(path), "%s/sub.yaml", tmpdir);
	r = istio_load_file(path, &cfg, errs, MAX_ERRS, &n);
	CHECK(r == -EISDIR, "directory as file: %d", r);
	istio_config_free(&cfg);

	// a file over 32 MiB
	{
		FILE *f;

		snprintf(path, sizeof(path), "%s/huge.yaml", tmpdir);
		f = fopen(path, "wb");
		fseek(f, 33 << 20, SEEK_SET);
		fputc('\n', f);
		fclose(f);
		r = istio_load_file(path, &cfg, errs, MAX_ERRS, &n);
		CHECK(r == -EFBIG && n == 1 && strstr(errs[0].msg, "larger than 32 MiB"), "huge file: %d", r);
		istio_config_free(&cfg);
		unlink(path);
	}

	// the examples shipped with the config folder
	r = istio_load_dir("config/examples/mesh.d", &cfg, errs, MAX_ERRS, &n);
	CHECK(r == 0 && cfg.num_service_entries == 1 && cfg.num_virtual_services == 1 &&
	      !strcmp(cfg.service_entries[0].hosts[0], "reviews.example") &&
	      cfg.service_entries[0].resolution == SE_RES_STATIC &&
	      cfg.service_entries[0].num_endpoints == 2 &&
	      !strcmp(cfg.service_entries[0].endpoints[1].ports[0].value, "9082"),
	      "examples/mesh.d: %d", r);
	if (r)
		dump_errs(errs, n);
	istio_config_free(&cfg);

	snprintf(path, sizeof(path), "rm -rf '%s'", tmpdir);
	if (system(path) != 0)
		printf("note: could not remove %s\n", tmpdir);
}

// ---- hostile input through the whole loader ----

static int load_one(const char *text, size_t len, struct istio_error *errs, int *n)
{
	struct istio_config cfg = { 0 };
	int r = istio_load_buf("h.yaml", text, len, &cfg, errs, MAX_ERRS, n);

	istio_config_free(&cfg);
	return r;
}

static void test_hostile(void)
{
	struct istio_error errs[MAX_ERRS];
	size_t cap = 1 << 20, o;
	char *b = malloc(cap);
	int r, n;

	// 10k-deep nesting inside a spec
	o = (size_t)snprintf(b, cap, SE_HDR "  hosts: ");
	for (int i = 0; i < 10000; i++)
		b[o++] = '[';
	for (int i = 0; i < 10000; i++)
		b[o++] = ']';
	b[o++] = '\n';
	r = load_one(b, o, errs, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "h.yaml:7: yaml: nesting deeper than 64"),
	      "deep nesting: %d %s", r, n ? errs[0].msg : "");

	// a billion-laughs document
	o = (size_t)snprintf(b, cap, "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
			     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" SE_HDR "  hosts: *c\n");
	r = load_one(b, o, errs, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "h.yaml:1: yaml: anchors (&a) are not supported"),
	      "alias bomb: %d %s", r, n ? errs[0].msg : "");

	// a regex over Istio's 1024-byte cap
	o = (size_t)snprintf(b, cap, VS_HDR "  hosts: [r]\n  http:\n  - match:\n    - uri: {regex: \"");
	memset(b + o, 'a', 1025);
	o += 1025;
	o += (size_t)snprintf(b + o, cap - o, "\"}\n    route: [{destination: {host: r}}]\n");
	r = load_one(b, o, errs, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "h.yaml:10: VirtualService ns1/t: "
					     "spec.http[0].match[0].uri.regex: \"uri\": regex is too large"),
	      "long regex: %d %s", r, n ? errs[0].msg : "");

	// 2000 resources in one stream, then the same name again at the end
	o = 0;
	for (int i = 0; i < 2000; i++)
		o += (size_t)snprintf(b + o, cap - o, "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
				      "metadata: {name: se%d}\nspec: {hosts: [h%d.example]}\n", i, i);
	{
		struct istio_config cfg = { 0 };

		r = istio_load_buf("many.yaml", b, o, &cfg, errs, MAX_ERRS, &n);
		CHECK(r == 0 && cfg.num_service_entries == 2000 &&
		      !strcmp(cfg.service_entries[1999].meta.name, "se1999") &&
		      !strcmp(cfg.service_entries[0].hosts[0], "h0.example"), "2000 SEs: %d", r);
		istio_config_free(&cfg);
	}
	o += (size_t)snprintf(b + o, cap - o, "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
			      "metadata: {name: se7}\nspec: {hosts: [x.example]}\n");
	r = load_one(b, o, errs, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "ServiceEntry default/se7: already defined at many.yaml:")
	      == NULL && strstr(errs[0].msg, "ServiceEntry default/se7: already defined at h.yaml:37"),
	      "duplicate among many: %s", n ? errs[0].msg : "");

	// tens of thousands of subsets, port-level settings and port-level
	// mTLS entries with one duplicate each: the checks must not be quadratic
	o = (size_t)snprintf(b, cap, DR_HDR "  host: r\n  subsets:\n");
	for (int i = 0; i < 100000 && o + 64 < cap; i++)
		o += (size_t)snprintf(b + o, cap - o, "  - name: s%d\n", i);
	o += (size_t)snprintf(b + o, cap - o, "  - name: s77\n");
	r = load_one(b, o, errs, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "].name: duplicate subset names: s77"),
	      "many subsets: %d %d %s", r, n, n ? errs[0].msg : "");
	o = (size_t)snprintf(b, cap, DR_HDR "  host: r\n  trafficPolicy:\n    portLevelSettings:\n");
	for (int i = 0; i < 20000 && o + 64 < cap; i++)
		o += (size_t)snprintf(b + o, cap - o, "    - {port: {number: %d}, tls: {}}\n", i % 65535 + 1);
	o += (size_t)snprintf(b + o, cap - o, "    - {port: {number: 9}, tls: {}}\n");
	r = load_one(b, o, errs, &n);
	CHECK(r == -EINVAL && n == 2 && strstr(errs[0].msg, "portLevelSettings: must have at most 4096 items") &&
	      strstr(errs[1].msg, "portLevelSettings[20000].port: Duplicate value: port 9"),
	      "many port-level settings: %d %d %s", r, n, n > 1 ? errs[1].msg : "");
	o = (size_t)snprintf(b, cap, PA_HDR "  selector: {matchLabels: {a: b}}\n  portLevelMtls:\n");
	for (int i = 1; i <= 60000 && o + 64 < cap; i++)
		o += (size_t)snprintf(b + o, cap - o, "    %d: {mode: STRICT}\n", i);
	o += (size_t)snprintf(b + o, cap - o, "    \"0042\": {}\n");
	r = load_one(b, o, errs, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "portLevelMtls[0042]: Duplicate value: port 42"),
	      "many port-level mTLS: %d %d %s", r, n, n ? errs[0].msg : "");

	// thousands of Gateway servers with one repeated port name: the
	// uniqueness check must not be quadratic either
	o = (size_t)snprintf(b, cap, GW_HDR "  servers:\n");
	for (int i = 0; i < 10000 && o + 96 < cap; i++)
		o += (size_t)snprintf(b + o, cap - o, "  - {port: {number: %d, name: p%d, protocol: TCP}, hosts: [\"*\"]}\n",
				      i % 65535 + 1, i);
	o += (size_t)snprintf(b + o, cap - o, "  - {port: {number: 9, name: p777, protocol: TCP}, hosts: [\"*\"]}\n");
	r = load_one(b, o, errs, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "servers[10000].port.name: port names in servers must be "
					     "unique: duplicate name \"p777\""),
	      "many servers: %d %d %s", r, n, n ? errs[0].msg : "");

	// a CEL filter nested past cel-go's recursion limit, one just under it,
	// and one over its size limit
	for (int depth = 240; depth <= 260; depth += 20) {
		o = (size_t)snprintf(b, cap, TM_HDR "  accessLogging:\n  - filter:\n      expression: \"");
		for (int i = 0; i < depth; i++)
			b[o++] = '(';
		b[o++] = 'a';
		for (int i = 0; i < depth; i++)
			b[o++] = ')';
		o += (size_t)snprintf(b + o, cap - o, "\"\n");
		r = load_one(b, o, errs, &n);
		if (depth < 250)
			CHECK(r == 0, "CEL depth %d: %d %s", depth, r, n ? errs[0].msg : "");
		else
			CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "recursion limit exceeded"),
			      "CEL depth %d: %d %s", depth, r, n ? errs[0].msg : "");
	}
	o = (size_t)snprintf(b, cap, TM_HDR "  accessLogging:\n  - filter:\n      expression: \"a");
	for (int i = 0; i < 60000; i++)
		o += (size_t)snprintf(b + o, cap - o, "+a");
	o += (size_t)snprintf(b + o, cap - o, "\"\n");
	r = load_one(b, o, errs, &n);
	CHECK(r == -EINVAL && n == 1 && strstr(errs[0].msg, "expression code point size exceeds limit"),
	      "CEL size: %d %s", r, n ? errs[0].msg : "");

	// many errors: only max_errs are kept, all are counted as failure
	o = (size_t)snprintf(b, cap, SE_HDR "  hosts: [");
	for (int i = 0; i < 500; i++)
		o += (size_t)snprintf(b + o, cap - o, "%s\"*\"", i ? ", " : "");
	o += (size_t)snprintf(b + o, cap - o, "]\n");
	r = load_one(b, o, errs, &n);
	CHECK(r == -EINVAL && n == MAX_ERRS, "error cap: %d %d", r, n);
	free(b);
}

// ---- message format, exactly ----

static void test_message_format(void)
{
	static const char y[] = SE_HDR "  hosts: [a.com]\n  ports:\n  - name: http\n    number: 0\n";
	struct istio_error errs[4];
	struct istio_config cfg = { 0 };
	int n;

	istio_load_buf("dir/x.yaml", y, sizeof(y) - 1, &cfg, errs, 4, &n);
	CHECK(n == 1 && !strcmp(errs[0].msg, "dir/x.yaml:10: ServiceEntry ns1/t: spec.ports[0].number: "
				"port must be between 1-65535 (got 0)"), "exact message: %s", n ? errs[0].msg : "");
	istio_config_free(&cfg);
	// control characters in names and values never reach a message raw
	istio_load_buf("x.yaml", "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		       "metadata: {name: \"a\\nb\"}\nspec: {hosts: [\"x\\u001b[31m\"]}\n", 111, &cfg, errs, 4, &n);
	CHECK(n >= 1, "control chars: %d errors", n);
	for (int i = 0; i < n; i++)
		for (const char *p = errs[i].msg; *p; p++)
			CHECK((unsigned char)*p >= 0x20, "raw control byte in \"%s\"", errs[i].msg);
	istio_config_free(&cfg);
}

static void chdir_repo_root(void)
{
	for (int i = 0; i < 5; i++) {
		if (access("config/istio.h", F_OK) == 0)
			return;
		if (chdir("..") < 0)
			break;
	}
	printf("istio_test: cannot find the repository root from the working directory\n");
	exit(1);
}

int main(void)
{
	chdir_repo_root();
	if (access(TD "/api-validation/serviceentry-valid.yaml", R_OK) != 0) {
		printf("istio_test: %s not found (the shared testdata sits beside the repository)\n", TD);
		return 1;
	}
	test_testdata();
	test_bookinfo();
	test_cases();
	test_values();
	test_dr_values();
	test_pa_values();
	test_authn_values();
	test_gw_values();
	test_wg_values();
	test_tm_values();
	test_kind_counts();
	test_bookinfo_gateways();
	test_durations();
	test_dirs();
	test_hostile();
	test_message_format();
	printf("istio_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
