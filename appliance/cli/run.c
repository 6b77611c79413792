// SPDX-License-Identifier: Apache-2.0
// run.c: `meshgate run`: load the bootstrap (a file or the embedded
// default), then hand over to the control thread until drained.
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config/bootstrap.h"
#include "control/control.h"
#include "core/clock.h"
#include "core/log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: meshgate run [-c FILE.ini] [--state-dir DIR] [--log-level LEVEL]\n"
		"  With no -c, the embedded default: HTTP listener 127.0.0.1:8080 (outbound),\n"
		"  admin 127.0.0.1:15000, health :15021, Prometheus :15090, Istio YAML in ./mesh.d\n");
}

int cli_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct bootstrap b;
	const char *path = NULL, *state_dir = NULL;
	char err[1024];
	int c;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 's':
			state_dir = optarg;
			break;
		case 'l':
			if (!strcmp(optarg, "debug"))
				log_level_max = LOG_DEBUG;
			else if (!strcmp(optarg, "info"))
				log_level_max = LOG_INFO;
			else if (!strcmp(optarg, "warning"))
				log_level_max = LOG_WARN;
			else if (!strcmp(optarg, "error"))
				log_level_max = LOG_ERR;
			else {
				fprintf(stderr, "meshgate run: unknown log level %s\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "meshgate run: unexpected argument %s\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	clock_init();
	bootstrap_default(&b);
	if (path && bootstrap_load(&b, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "meshgate: %s\n", err);
		return 1;
	}
	// The embedded default follows the environment as kubectl reads it: a
	// KUBECONFIG, or a pod's in-cluster service account.
	if (!path && ((getenv("KUBECONFIG") && *getenv("KUBECONFIG")) ||
		      getenv("KUBERNETES_SERVICE_HOST")))
		b.kube_enabled = true;
	if (state_dir)
		snprintf(b.state_dir, sizeof(b.state_dir), "%s", state_dir);
	return control_run(&b);
}
