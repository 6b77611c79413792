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

#endif
