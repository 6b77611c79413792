// SPDX-License-Identifier: Apache-2.0
// cli.h: meshgate's subcommands, one file each.
#ifndef MG_CLI_CLI_H
#define MG_CLI_CLI_H

// cli_run is `meshgate run [-c FILE.ini] [--state-dir DIR]`. It returns
// the process exit status.
int cli_run(int argc, char **argv);

// cli_ca is `meshgate ca init|issue|token|bundle|inspect` (argv[0] is
// "ca"). It returns the process exit status: 0, 1 on error, 2 on misuse.
int cli_ca(int argc, char **argv);

// cli_validate is `meshgate validate PATH...` (argv[0] is "validate"): 0
// when every resource is valid, 2 when any is not.
int cli_validate(int argc, char **argv);
int cli_analyze(int argc, char **argv);	// cli_analyze is `meshgate analyze PATH... [-f FILE]...` (cli/analyze.c): 0, 1 warnings with --fail-on-warning, 2 errors

// cli_proxy_config is `meshgate proxy-config listeners|routes|clusters|
// endpoints|secrets [--admin HOST:PORT] [-o table|json] [filters]` (argv[0]
// is "proxy-config"): istioctl proxy-config's tables from a running
// meshgate's admin API. It returns 0, 1 when the admin API cannot be read,
// 2 on misuse.
int cli_proxy_config(int argc, char **argv);

// cli_proxy_status is `meshgate proxy-status [--admin HOST:PORT]...
// [-o table|json]` (argv[0] is "proxy-status"): each meshgate's sync state
// as istioctl proxy-status shows it. It returns 0, 1 when an admin API
// cannot be read, 2 on misuse.
int cli_proxy_status(int argc, char **argv);

#endif
