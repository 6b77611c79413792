// SPDX-License-Identifier: Apache-2.0
// proxy_status.c: `meshgate proxy-status`, istioctl proxy-status's table
// for running meshgates: whether each data plane runs the configuration
// its sources last gave (/syncz), and who and which version it is
// (/server_info). Exit 0, 1 when an admin API cannot be read, 2 on misuse.
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_api.h"
#include "cli.h"
#include "core/buf.h"
#include "table.h"

enum { PS_MAX_ADMINS = 64 };

static const char *const status_cols[] = { "NAME", "CLUSTER", "CDS", "LDS", "EDS", "RDS",
					   "ECDS", "ISTIOD", "VERSION" };

// Sync states, worst last.
enum { PS_SYNCED = 0, PS_STALE, PS_ERROR };

static const char *const state_names[] = { "SYNCED", "STALE", "STALE (error)" };

// source_state reads a /syncz source's status: SYNCED, and the states
// that mean nothing is pending (OFF: the source is not used; NOT_SERVED:
// the API server has no such resource), are in sync; SYNCING and STALE
// (first answers or a change still on its way to the workers) are stale;
// ERROR (a change refused, the last good configuration serving) is an
// error; anything else is taken as stale.
static int source_state(const char *s)
{
	if (!s || !strcmp(s, "SYNCED") || !strcmp(s, "OFF") || !strcmp(s, "NOT_SERVED"))
		return PS_SYNCED;
	if (!strcmp(s, "ERROR"))
		return PS_ERROR;
	return PS_STALE;
}

// map_status turns one meshgate's /server_info and /syncz into a row.
// meshgate builds listeners, routes and clusters in one snapshot from its
// configuration sources (files, Kubernetes), so CDS, LDS and RDS share
// their state; endpoints (EDS) also wait on DNS answers. meshgate has no
// extension configs (ECDS: NOT SENT) and is its own control plane
// (ISTIOD: embedded). CLUSTER is the Kubernetes API server it follows, or
// "-".
static int map_status(const struct ynode *info, const struct ynode *syncz, struct table *t,
		      char *err, size_t err_len)
{
	const struct ynode *srcs;
	const char *name, *ns, *version, *cluster = NULL;
	char who[256], where[64];
	const char *cells[9];
	int cfg = PS_SYNCED, dns = PS_SYNCED, rc;

	if ((rc = api_want_map(info, "/server_info", err, err_len)) < 0 ||
	    (rc = api_str(info, "/server_info", "name", true, &name, err, err_len)) < 0 ||
	    (rc = api_str(info, "/server_info", "namespace", false, &ns, err, err_len)) < 0 ||
	    (rc = api_str(info, "/server_info", "version", false, &version, err, err_len)) < 0 ||
	    (rc = api_want_map(syncz, "/syncz", err, err_len)) < 0 ||
	    (rc = api_seq(syncz, "/syncz", "sources", true, &srcs, err, err_len)) < 0)
		return rc;
	for (size_t i = 0; i < srcs->len; i++) {
		const char *src, *st, *server;
		int s;

		snprintf(where, sizeof(where), "/syncz: sources[%zu]", i);
		if ((rc = api_str(srcs->items[i], where, "source", true, &src, err, err_len)) < 0 ||
		    (rc = api_str(srcs->items[i], where, "status", false, &st, err, err_len)) < 0 ||
		    (rc = api_str(srcs->items[i], where, "server", false, &server, err, err_len)) < 0)
			return rc;
		if (!st)
			continue;	// counters only (kubernetes-istio)
		s = source_state(st);
		if (!strcmp(src, "dns")) {
			dns = s > dns ? s : dns;
			continue;
		}
		cfg = s > cfg ? s : cfg;
		if (!strcmp(src, "kubernetes") && server && !cluster)
			cluster = server;
	}
	snprintf(who, sizeof(who), "%s%s%s", name, ns ? "." : "", ns ? ns : "");
	cells[0] = who;
	cells[1] = cluster ? cluster : "-";
	cells[2] = state_names[cfg];
	cells[3] = state_names[cfg];
	cells[4] = state_names[dns > cfg ? dns : cfg];
	cells[5] = state_names[cfg];
	cells[6] = "NOT SENT";
	cells[7] = "embedded";
	cells[8] = version ? version : "-";
	if (!table_add(t, cells)) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int status_cmp(const struct table_row *a, const struct table_row *b)
{
	int c = strcmp(a->cells[0], b->cells[0]);

	return c ? c : a->src_idx < b->src_idx ? -1 : a->src_idx > b->src_idx;
}

static void ps_usage(FILE *f)
{
	fprintf(f,
		"usage: meshgate proxy-status [--admin HOST:PORT]... [-o table|json]\n\n"
		"Whether each meshgate's data plane runs the configuration its sources last\n"
		"gave (its admin API's /syncz), as istioctl proxy-status does for Envoys.\n"
		"--admin may be given more than once (default 127.0.0.1:%d).\n\n"
		"CDS, LDS and RDS share one state (one snapshot holds them all): SYNCED, STALE\n"
		"(workers still switching, or a source's first answers pending) or STALE\n"
		"(error) (a change was refused and the last good configuration serves); EDS\n"
		"also waits on DNS answers. ECDS is NOT SENT (meshgate has no extension\n"
		"configs); ISTIOD is embedded (meshgate is its own control plane); CLUSTER is\n"
		"the Kubernetes API server it follows, or -. -o json prints each meshgate's\n"
		"/server_info and /syncz. Exit 0, 1 when an admin API cannot be read, 2 on\n"
		"misuse.\n", ADMIN_API_DEFAULT_PORT);
}

int cli_proxy_status(int argc, char **argv)
{
	const char *admins[PS_MAX_ADMINS], *output = "table";
	int num_admins = 0, rc = 0, failed = 0;
	struct yaml_tree info, syncz;
	struct table t;
	struct buf out;
	char err[1024];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			ps_usage(stdout);
			return 0;
		}
		if ((!strcmp(a, "--admin") || !strcmp(a, "-o") || !strcmp(a, "--output")) &&
		    i + 1 >= argc) {
			fprintf(stderr, "meshgate proxy-status: %s needs a value\n", a);
			return 2;
		}
		if (!strcmp(a, "--admin") || !strncmp(a, "--admin=", 8)) {
			if (num_admins == PS_MAX_ADMINS) {
				fprintf(stderr, "meshgate proxy-status: at most %d --admin\n",
					PS_MAX_ADMINS);
				return 2;
			}
			admins[num_admins++] = a[7] == '=' ? a + 8 : argv[++i];
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			output = argv[++i];
		} else if (!strncmp(a, "--output=", 9) || !strncmp(a, "-o=", 3)) {
			output = strchr(a, '=') + 1;
		} else if (!strncmp(a, "-o", 2) && a[2]) {
			output = a + 2;
		} else {
			fprintf(stderr, "meshgate proxy-status: unknown argument %s\n", a);
			ps_usage(stderr);
			return 2;
		}
	}
	if (strcmp(output, "table") && strcmp(output, "json")) {
		fprintf(stderr, "meshgate proxy-status: -o %s: want table or json\n", output);
		return 2;
	}
	if (!num_admins)
		admins[num_admins++] = "127.0.0.1:15000";
	for (int i = 0; i < num_admins; i++) {
		struct admin_addr addr;

		if (admin_addr_parse(&addr, admins[i]) < 0) {
			fprintf(stderr, "meshgate proxy-status: --admin %s: want HOST:PORT with a "
				"numeric address, [IPV6]:PORT or PORT\n", admins[i]);
			return 2;
		}
	}
	table_init(&t, status_cols, 9, 5);
	buf_init(&out);
	if (!strcmp(output, "json"))
		buf_appends(&out, "[");
	for (int i = 0; i < num_admins; i++) {
		struct admin_addr addr;
		int r;

		admin_addr_parse(&addr, admins[i]);
		memset(&info, 0, sizeof(info));
		memset(&syncz, 0, sizeof(syncz));
		if ((r = admin_get_json(&addr, "/server_info", &info, NULL, err, sizeof(err))) < 0 ||
		    (r = admin_get_json(&addr, "/syncz", &syncz, NULL, err, sizeof(err))) < 0 ||
		    (r = map_status(info.docs[0], syncz.docs[0], &t, err, sizeof(err))) < 0) {
			fprintf(stderr, "meshgate proxy-status: %s%s%s\n",
				r == -EBADMSG && !strstr(err, "GET ") ? "unexpected answer: " : "",
				err, r == -ECONNREFUSED || r == -ETIMEDOUT ?
				"\n(is meshgate running, with its admin API there? --admin HOST:PORT)" :
				"");
			failed++;
		} else {
			t.rows[t.num_rows - 1].src_idx = (uint32_t)i;
			if (!strcmp(output, "json")) {
				buf_appends(&out, t.num_rows > 1 ? "," : "");
				api_json_indent(&out, 1);
				buf_appends(&out, "{");
				api_json_indent(&out, 2);
				buf_appends(&out, "\"server_info\": ");
				api_json_write(&out, info.docs[0], 2);
				buf_appends(&out, ",");
				api_json_indent(&out, 2);
				buf_appends(&out, "\"syncz\": ");
				api_json_write(&out, syncz.docs[0], 2);
				api_json_indent(&out, 1);
				buf_appends(&out, "}");
			}
		}
		yaml_tree_free(&info);
		yaml_tree_free(&syncz);
	}
	if (!strcmp(output, "json")) {
		buf_appends(&out, t.num_rows ? "\n]\n" : "]\n");
	} else if (t.num_rows || !failed) {
		table_sort(&t, status_cmp);
		table_render(&t, &out);
	}
	if (out.len && (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout)))
		rc = 1;
	table_cleanup(&t);
	buf_cleanup(&out);
	return failed || rc ? 1 : 0;
}
