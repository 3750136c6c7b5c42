/*
 * cli.h - what the `stackhook` command's subcommands share.
 *
 * Each subcommand parses its own options, calls the core and prints; it
 * returns the process exit status: 0 done, 1 failed, 2 bad usage.
 */
#ifndef STACKHOOK_CLI_H
#define STACKHOOK_CLI_H

#include <stdbool.h>

#include "stackhook/instance.h"

enum {
	CLI_OK = 0,
	CLI_FAILED = 1,
	CLI_USAGE = 2,
};

struct cli {
	const char *config_path;
	struct sh_instance *inst; /* loaded before the subcommand runs */
	char actor[80];           /* "cli:<unix user>", for the audit log */
};

/* Prints "stackhook: <msg>" on stderr and returns CLI_FAILED. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Opens the database with the current schema, or prints why not. */
int cli_db(struct cli *cli, struct sh_db **db);

/* True when argv[1] asks for help; prints usage to stdout then. */
bool cli_wants_help(int argc, char **argv, const char *usage);

int cli_init(struct cli *cli, int argc, char **argv);
int cli_key(struct cli *cli, int argc, char **argv);
int cli_report(struct cli *cli, int argc, char **argv);
int cli_doctor(struct cli *cli, int argc, char **argv);
int cli_hooks(struct cli *cli, int argc, char **argv);
int cli_migrate(struct cli *cli, int argc, char **argv);
int cli_rekey(struct cli *cli, int argc, char **argv);

extern const char cli_init_usage[];
extern const char cli_key_usage[];
extern const char cli_report_usage[];
extern const char cli_doctor_usage[];
extern const char cli_hooks_usage[];
extern const char cli_migrate_usage[];
extern const char cli_rekey_usage[];

#endif
