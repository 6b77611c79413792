// SPDX-License-Identifier: Apache-2.0
// validate.c: `meshgate validate PATH...`, Istio's resources checked on
// their own as `istioctl validate -f` does: each file by itself (a
// directory: the files istio_load_dir reads; "-": standard input), with the
// same schema and webhook rules the control plane applies on load. One line
// per error on stderr ("file:line: Kind ns/name: field: what"), one line per
// valid file on stdout. Exit 0 when everything is valid, 2 when anything is
// not (or cannot be read), 2 on misuse.
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config/istio.h"

enum { MAX_ERRS = 256, STDIN_MAX = 64 << 20 };

static int resources(const struct istio_config *c)
{
	return c->num_service_entries + c->num_virtual_services + c->num_destination_rules +
	       c->num_peer_authentications + c->num_workload_entries + c->num_sidecars +
	       c->num_authorization_policies + c->num_request_authentications +
	       c->num_gateways + c->num_workload_groups + c->num_telemetries;
}

// report prints the outcome of one load and returns 0 (valid) or 1.
static int report(const char *name, int rc, const struct istio_config *cfg,
		  const struct istio_error *errs, int n)
{
	if (rc == 0) {
		printf("%s: valid (%d resource%s checked", name, resources(cfg),
		       resources(cfg) == 1 ? "" : "s");
		if (cfg->num_ignored)
			printf("; %d document%s of kinds this build does not validate yet, "
			       "not checked", cfg->num_ignored, cfg->num_ignored == 1 ? "" : "s");
		printf(")\n");
		return 0;
	}
	for (int i = 0; i < n; i++)
		fprintf(stderr, "%s\n", errs[i].msg);
	if (!n)
		fprintf(stderr, "%s: %s\n", name, strerror(-rc));
	else if (n == MAX_ERRS)
		fprintf(stderr, "%s: more errors not shown\n", name);
	return 1;
}

static int validate_file(const char *path, struct istio_error *errs)
{
	struct istio_config cfg;
	int n = 0, rc, bad;

	memset(&cfg, 0, sizeof(cfg));
	cfg.validate_only = true;
	rc = istio_load_file(path, &cfg, errs, MAX_ERRS, &n);
	bad = report(path, rc, &cfg, errs, n);
	istio_config_free(&cfg);
	return bad;
}

static int validate_stdin(struct istio_error *errs)
{
	struct istio_config cfg;
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	int n = 0, rc, bad;

	if (!buf)
		return report("-", -ENOMEM, NULL, NULL, 0);
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb = cap < STDIN_MAX ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				free(buf);
				fprintf(stderr, "-: standard input larger than %d MiB\n", STDIN_MAX >> 20);
				return 1;
			}
			buf = nb;
			cap *= 2;
		}
		got = fread(buf + len, 1, cap - len, stdin);
		len += got;
		if (!got)
			break;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.validate_only = true;
	rc = istio_load_buf("-", buf, len, &cfg, errs, MAX_ERRS, &n);
	bad = report("-", rc, &cfg, errs, n);
	istio_config_free(&cfg);
	free(buf);
	return bad;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int validate_dir(const char *dir, struct istio_error *errs)
{
	char path[PATH_MAX];
	int n, bad = 0, found = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t num = 0;

	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		char **nn;

		if (!istio_wanted_file(de->d_name))
			continue;
		nn = realloc(names, (num + 1) * sizeof(*names));
		if (!nn || !(nn[num] = strdup(de->d_name))) {
			names = nn ? nn : names;
			bad = 1;
			fprintf(stderr, "%s: out of memory\n", dir);
			break;
		}
		names = nn;
		num++;
	}
	closedir(d);
	qsort(names, num, sizeof(*names), name_cmp);
	for (size_t i = 0; i < num; i++) {
		struct stat st;

		n = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			fprintf(stderr, "%s/%s: path too long\n", dir, names[i]);
			bad = 1;
		} else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			bad |= validate_file(path, errs);
			found++;
		}
		free(names[i]);
	}
	free(names);
	if (!found && !bad)
		printf("%s: no *.yaml, *.yml or *.json files\n", dir);
	return bad;
}

int cli_validate(int argc, char **argv)
{
	struct istio_error *errs;
	int bad = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: meshgate validate PATH...\n"
			"  checks Istio resources (files, directories, - for stdin) as istioctl\n"
			"  validate does; exit 0 when all are valid, 2 when any is not\n");
		return argc < 2 ? 2 : 0;
	}
	errs = calloc(MAX_ERRS, sizeof(*errs));
	if (!errs) {
		fprintf(stderr, "meshgate validate: out of memory\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (!strcmp(argv[i], "-"))
			bad |= validate_stdin(errs);
		else if (stat(argv[i], &st) < 0)
			bad |= report(argv[i], -errno, NULL, NULL, 0);
		else if (S_ISDIR(st.st_mode))
			bad |= validate_dir(argv[i], errs);
		else
			bad |= validate_file(argv[i], errs);
	}
	free(errs);
	return bad ? 2 : 0;
}
