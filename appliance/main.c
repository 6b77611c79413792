// SPDX-License-Identifier: Apache-2.0
// main.c: the meshgate executable: dispatch to a subcommand. One binary is
// the control plane, the CA and the data plane.
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

// MESHGATE_VERSION comes from CMakeLists.txt, which the admin API reads too.

static void usage(FILE *f)
{
	fprintf(f, "usage: meshgate COMMAND [ARGS]\n\n"
		"commands:\n"
		"  run           run the appliance (control plane + data plane)\n"
		"  ca            the certificate authority: init, issue, token, bundle, inspect\n"
		"  validate      check Istio resources (files, directories, -) as istioctl validate\n"
		"  analyze       check Istio resources against each other and the registry,\n"
		"                offline, as istioctl analyze\n"
		"  proxy-config  a running meshgate's listeners, routes, clusters, endpoints or\n"
		"                secrets, from its admin API, as istioctl proxy-config (alias pc)\n"
		"  proxy-status  whether running meshgates serve their latest configuration, as\n"
		"                istioctl proxy-status (alias ps)\n"
		"  version       print the version\n"
		"  help          this text\n\n"
		"`meshgate COMMAND --help` tells more.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "run"))
		return cli_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ca"))
		return cli_ca(argc - 1, argv + 1);
	if (!strcmp(argv[1], "validate"))
		return cli_validate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "analyze"))
		return cli_analyze(argc - 1, argv + 1);
	if (!strcmp(argv[1], "proxy-config") || !strcmp(argv[1], "pc"))
		return cli_proxy_config(argc - 1, argv + 1);
	if (!strcmp(argv[1], "proxy-status") || !strcmp(argv[1], "ps"))
		return cli_proxy_status(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("meshgate %s\n", MESHGATE_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "meshgate: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
