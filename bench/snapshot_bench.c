// SPDX-License-Identifier: Apache-2.0
// snapshot_bench: the control plane's cost on a large mesh, for
// scripts/bench: reads a directory of Istio YAML (bench/gen_mesh.py makes
// one), builds a snapshot from it, then rebuilds after one endpoint
// changed, and prints key=value lines: the time of each step (the best of
// --reps), the sizes, and the process's peak RSS.
//
//   snapshot_bench DIR [--reps N]
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/bootstrap.h"
#include "config/istio.h"
#include "control/snapshot_build.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/snapshot.h"

enum { MAX_ERRS = 16 };

static long status_kib(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "r");
	long n;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    !(*out = malloc((size_t)n + 1)) || fread(*out, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	(*out)[n] = '\0';
	*len = (size_t)n;
	return 0;
}

// edit_address moves the IPv4 address at p in place: its last digit
// becomes another (alternating with r), the same bytes and lines around it.
static void edit_address(char *p, int r)
{
	size_t n = strspn(p, "0123456789.");
	char d = n ? p[n - 1] : '0', pick[2];
	int k = 0;

	for (char c = '1'; c <= '9' && k < 2; c++)
		if (c != d)
			pick[k++] = c;
	if (n)
		p[n - 1] = pick[r & 1];
}

static double ms_since(uint64_t t0)
{
	return (double)(clock_mono_ns() - t0) / 1e6;
}

int main(int argc, char **argv)
{
	static struct bootstrap b;
	struct istio_error errs[MAX_ERRS];
	struct istio_config cfg;
	struct snapshot *s = NULL;
	double load_ms = 1e18, build_ms = 1e18, change_ms = 1e18, parse_ms = 1e18, full_ms = 1e18;
	uint64_t t0, endpoints = 0;
	int reps = 3, n = 0;
	char err[1024];

	if (argc < 2) {
		fprintf(stderr, "usage: snapshot_bench DIR [--reps N]\n");
		return 2;
	}
	if (argc == 4 && !strcmp(argv[2], "--reps"))
		reps = atoi(argv[3]) > 0 ? atoi(argv[3]) : 1;
	log_level_max = LOG_ERR;	// the builder's warnings are not what is measured
	bootstrap_default(&b);
	for (int r = 0; r < reps; r++) {
		double ms;

		t0 = clock_mono_ns();
		if (istio_load_dir(argv[1], &cfg, errs, MAX_ERRS, &n) < 0) {
			for (int i = 0; i < n; i++)
				fprintf(stderr, "%s\n", errs[i].msg);
			return 1;
		}
		ms = ms_since(t0);
		load_ms = ms < load_ms ? ms : load_ms;
		if (r + 1 < reps)
			istio_config_free(&cfg);
	}
	for (int i = 0; i < cfg.num_service_entries; i++)
		endpoints += (uint64_t)cfg.service_entries[i].num_endpoints;
	for (int r = 0; r < reps; r++) {
		double ms;

		t0 = clock_mono_ns();
		s = snapshot_build(&b, &cfg, NULL, err, sizeof(err));
		ms = ms_since(t0);
		if (!s) {
			fprintf(stderr, "snapshot: %s\n", err);
			return 1;
		}
		build_ms = ms < build_ms ? ms : build_ms;
		if (r + 1 < reps)
			snapshot_unref(s);
	}
	// one endpoint moves in the first entry's file: the file is parsed
	// alone, its endpoints swapped in (istio_config_take_endpoints), and
	// the snapshot patched (snapshot_update), as the running appliance
	// does; a full rebuild of the same change is timed beside it
	for (int r = 0; r < reps && cfg.num_service_entries &&
			cfg.service_entries[0].num_endpoints; r++) {
		const char *file = cfg.service_entries[0].meta.file;
		struct istio_config part;
		struct snapshot *s2;
		char *text = NULL, *at;
		size_t len = 0;
		double ms;
		int taken;

		if (read_file(file, &text, &len) < 0 || !(at = strstr(text, "address: "))) {
			fprintf(stderr, "%s: cannot read an endpoint address\n", file);
			return 1;
		}
		edit_address(at + 9, r);
		memset(&part, 0, sizeof(part));
		t0 = clock_mono_ns();
		if (istio_load_buf(file, text, len, &part, errs, MAX_ERRS, &n) < 0) {
			fprintf(stderr, "%s: %s\n", file, n ? errs[0].msg : "does not load");
			return 1;
		}
		ms = ms_since(t0);
		parse_ms = ms < parse_ms ? ms : parse_ms;
		t0 = clock_mono_ns();
		taken = istio_config_take_endpoints(&cfg, &part);
		s2 = taken == 1 ? snapshot_update(s, &b, &cfg, NULL, err, sizeof(err)) : NULL;
		ms = ms_since(t0);
		istio_config_free(&part);
		free(text);
		if (!s2 || !s2->base || s2->version == s->version) {
			fprintf(stderr, "after the change: %s\n", taken != 1 ? "not taken" :
				!s2 ? err : !s2->base ? "not a patch" : "same version");
			return 1;
		}
		change_ms = ms < change_ms ? ms : change_ms;
		snapshot_unref(s2);
		t0 = clock_mono_ns();
		s2 = snapshot_build(&b, &cfg, NULL, err, sizeof(err));
		ms = ms_since(t0);
		if (!s2) {
			fprintf(stderr, "full rebuild: %s\n", err);
			return 1;
		}
		full_ms = ms < full_ms ? ms : full_ms;
		snapshot_unref(s2);
	}
	printf("services=%d\nendpoints=%llu\nvirtual_services=%d\nclusters=%u\nvhosts=%u\n"
	       "load_ms=%.1f\nbuild_ms=%.1f\nendpoint_change_ms=%.2f\nchanged_file_parse_ms=%.1f\n"
	       "full_rebuild_ms=%.1f\nrss_mib=%.1f\npeak_rss_mib=%.1f\n", cfg.num_service_entries,
	       (unsigned long long)endpoints, cfg.num_virtual_services, s->num_clusters,
	       s->num_vhosts, load_ms, build_ms, change_ms, parse_ms, full_ms, (double)status_kib("VmRSS:") / 1024, (double)status_kib("VmHWM:") / 1024);
	snapshot_unref(s);
	istio_config_free(&cfg);
	return 0;
}
