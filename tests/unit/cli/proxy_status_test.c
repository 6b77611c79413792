// SPDX-License-Identifier: Apache-2.0
// proxy_status_test: `meshgate proxy-status`'s mapping from /server_info
// and /syncz to istioctl's status row, table-driven: every source state
// and how it reaches CDS/LDS/RDS and EDS, the Kubernetes server as
// CLUSTER, and malformed answers as clear errors.
#include "appliance/cli/proxy_status.c"

#include "config/json.h"

#include "tests/unit/check.h"

#define INFO "{\"name\":\"edge\",\"namespace\":\"prod\",\"version\":\"0.1.0-dev\"," \
	     "\"state\":\"LIVE\"}"
#define FILE_SRC(st) "{\"source\":\"file\",\"path\":\"./mesh.d\",\"status\":\"" st "\"," \
		     "\"version\":\"00000000000000aa\",\"last_error\":null}"
#define DNS_SRC(st) "{\"source\":\"dns\",\"status\":\"" st "\",\"names\":1}"
#define KUBE_SRC(st) "{\"source\":\"kubernetes\",\"server\":\"https://10.0.0.1:443\"," \
		     "\"resource\":\"services\",\"status\":\"" st "\"}"
#define KUBE_ISTIO "{\"source\":\"kubernetes-istio\",\"rejected\":0,\"last_rejected\":null}"

#define HEAD "NAME          CLUSTER     CDS        LDS        EDS        RDS        ECDS         ISTIOD       VERSION\n"

struct ps_case {
	const char *name;
	const char *info, *syncz;
	const char *want;		// the table; NULL: an error is wanted
	const char *want_err;
};

static const struct ps_case cases[] = {
	{ "all synced, DNS off", INFO, "{\"sources\":[" FILE_SRC("SYNCED") "," DNS_SRC("OFF") "]}",
	  HEAD
	  "edge.prod     -           SYNCED     SYNCED     SYNCED     SYNCED     NOT SENT     embedded     0.1.0-dev\n",
	  NULL },
	{ "workers still switching: all stale", INFO,
	  "{\"sources\":[" FILE_SRC("STALE") "," DNS_SRC("SYNCED") "]}",
	  "NAME          CLUSTER     CDS       LDS       EDS       RDS       ECDS         ISTIOD       VERSION\n"
	  "edge.prod     -           STALE     STALE     STALE     STALE     NOT SENT     embedded     0.1.0-dev\n",
	  NULL },
	{ "a refused change: stale (error), the last good serving", INFO,
	  "{\"sources\":[" FILE_SRC("ERROR") "," DNS_SRC("SYNCED") "]}",
	  "NAME          CLUSTER     CDS               LDS               EDS               RDS               ECDS         ISTIOD       VERSION\n"
	  "edge.prod     -           STALE (error)     STALE (error)     STALE (error)     STALE (error)     NOT SENT     embedded     0.1.0-dev\n",
	  NULL },
	{ "DNS answers pending: only EDS", INFO,
	  "{\"sources\":[" FILE_SRC("SYNCED") "," DNS_SRC("STALE") "]}",
	  "NAME          CLUSTER     CDS        LDS        EDS       RDS        ECDS         ISTIOD       VERSION\n"
	  "edge.prod     -           SYNCED     SYNCED     STALE     SYNCED     NOT SENT     embedded     0.1.0-dev\n",
	  NULL },
	{ "Kubernetes: CLUSTER is its server; a syncing watch is stale", INFO,
	  "{\"sources\":[" FILE_SRC("SYNCED") "," DNS_SRC("OFF") "," KUBE_SRC("SYNCING") ","
	  KUBE_SRC("NOT_SERVED") "," KUBE_ISTIO "]}",
	  "NAME          CLUSTER                  CDS       LDS       EDS       RDS       ECDS         ISTIOD       VERSION\n"
	  "edge.prod     https://10.0.0.1:443     STALE     STALE     STALE     STALE     NOT SENT     embedded     0.1.0-dev\n",
	  NULL },
	{ "Kubernetes synced, a resource not served", INFO,
	  "{\"sources\":[" FILE_SRC("SYNCED") "," KUBE_SRC("SYNCED") "," KUBE_SRC("NOT_SERVED") "]}",
	  "NAME          CLUSTER                  CDS        LDS        EDS        RDS        ECDS         ISTIOD       VERSION\n"
	  "edge.prod     https://10.0.0.1:443     SYNCED     SYNCED     SYNCED     SYNCED     NOT SENT     embedded     0.1.0-dev\n",
	  NULL },
	{ "an unknown state is not called synced", INFO,
	  "{\"sources\":[" FILE_SRC("WEIRD") "]}",
	  "NAME          CLUSTER     CDS       LDS       EDS       RDS       ECDS         ISTIOD       VERSION\n"
	  "edge.prod     -           STALE     STALE     STALE     STALE     NOT SENT     embedded     0.1.0-dev\n",
	  NULL },
	{ "no namespace, no version", "{\"name\":\"mg\"}", "{\"sources\":[]}",
	  "NAME     CLUSTER     CDS        LDS        EDS        RDS        ECDS         ISTIOD       VERSION\n"
	  "mg       -           SYNCED     SYNCED     SYNCED     SYNCED     NOT SENT     embedded     -\n",
	  NULL },

	{ "/server_info is an array", "[]", "{\"sources\":[]}", NULL, "/server_info: want an object" },
	{ "/server_info without a name", "{\"version\":\"1\"}", "{\"sources\":[]}", NULL,
	  "/server_info.name: missing" },
	{ "a version that is a number", "{\"name\":\"a\",\"version\":1}", "{\"sources\":[]}", NULL,
	  "/server_info.version: want a string" },
	{ "/syncz without sources", INFO, "{}", NULL, "/syncz.sources: missing" },
	{ "/syncz sources is an object", INFO, "{\"sources\":{}}", NULL,
	  "/syncz.sources: want an array" },
	{ "/syncz is a number", INFO, "3", NULL, "/syncz: want an object" },
	{ "a source without its name", INFO, "{\"sources\":[{\"status\":\"SYNCED\"}]}", NULL,
	  "/syncz: sources[0].source: missing" },
	{ "a status that is a number", INFO, "{\"sources\":[{\"source\":\"file\",\"status\":1}]}",
	  NULL, "/syncz: sources[0].status: want a string" },
	{ "a source that is a string", INFO, "{\"sources\":[\"file\"]}", NULL,
	  "/syncz: sources[0]: want an object" },
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ps_case *c = &cases[i];
		struct yaml_tree info, syncz;
		struct yaml_error je;
		struct table t;
		struct buf out;
		char err[512] = "";
		int rc;

		if (json_tree_parse(&info, c->info, strlen(c->info), &je) < 0 ||
		    json_tree_parse(&syncz, c->syncz, strlen(c->syncz), &je) < 0) {
			CHECK(0, "%s: a test input is not JSON: %s", c->name, je.msg);
			continue;
		}
		table_init(&t, status_cols, 9, 5);
		buf_init(&out);
		rc = map_status(info.docs[0], syncz.docs[0], &t, err, sizeof(err));
		if (c->want) {
			CHECK(rc == 0, "%s: rc %d (%s)", c->name, rc, err);
			CHECK(table_render(&t, &out) == 0 && out.len == strlen(c->want) &&
			      !memcmp(out.data, c->want, out.len), "%s: got\n%.*s\nwant\n%s", c->name,
			      (int)out.len, out.data ? out.data : "", c->want);
		} else {
			CHECK(rc == -EBADMSG && strstr(err, c->want_err), "%s: rc %d err \"%s\"",
			      c->name, rc, err);
			CHECK(t.num_rows == 0, "%s: no row", c->name);
		}
		buf_cleanup(&out);
		table_cleanup(&t);
		yaml_tree_free(&info);
		yaml_tree_free(&syncz);
	}
}

static void test_states(void)
{
	CHECK(source_state(NULL) == PS_SYNCED && source_state("OFF") == PS_SYNCED &&
	      source_state("NOT_SERVED") == PS_SYNCED && source_state("SYNCED") == PS_SYNCED,
	      "in sync");
	CHECK(source_state("STALE") == PS_STALE && source_state("SYNCING") == PS_STALE &&
	      source_state("") == PS_STALE && source_state("synced") == PS_STALE, "stale");
	CHECK(source_state("ERROR") == PS_ERROR, "error");
}

int main(void)
{
	test_cases();
	test_states();
	printf("proxy_status_test: %zu table cases; %d checks, %d failed\n",
	       sizeof(cases) / sizeof(cases[0]), checks, failures);
	return failures ? 1 : 0;
}
