/*
 * stackhook migrate --from FILE.db - copy an SQLite instance into the
 * PostgreSQL database the config names.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "stackhook/migrate.h"

const char cli_migrate_usage[] =
	"usage: stackhook migrate --from FILE.db\n"
	"\n"
	"Copies the SQLite database FILE.db (spaces, users, keys, integrations\n"
	"with their sealed tokens, stacks, runs, deliveries, the audit log) into\n"
	"the database the config names -- a postgresql:// one, created with\n"
	"`stackhook init` and still empty -- in one transaction, then checks\n"
	"that every table holds as many rows on both sides.  Keep the same\n"
	"secret_key_file: the tokens stay sealed under it.\n";

int
cli_migrate(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"from", required_argument, NULL, 'f'},
		{NULL, 0, NULL, 0},
	};
	const char *from = NULL;
	struct sh_err err;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt != 'f') {
			fputs(cli_migrate_usage, stderr);
			return CLI_USAGE;
		}
		from = optarg;
	}
	if (from == NULL || optind < argc) {
		fputs(cli_migrate_usage, stderr);
		return CLI_USAGE;
	}
	sh_err_clear(&err);
	if (strcmp(from, cli->inst->cfg->database) == 0)
		return cli_fail("--from names the config's own database");
	if (sh_migrate_copy(from, cli->inst->cfg->database,
			    cli->inst->cfg->busy_timeout_ms, stdout, &err) < 0)
		return cli_fail("%s", err.msg);
	printf("copied %s into the configured database\n", from);
	return CLI_OK;
}
