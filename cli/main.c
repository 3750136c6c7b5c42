/*
 * stackhook - the command line: init, key, version.
 */
#include "config.h"

#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "stackhook/log.h"
#include "stackhook/schema.h"

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage;
	const char *summary;
	bool as_root; /* keeps root's rights (init chowns what it makes) */
};

static int cmd_version(struct cli *cli, int argc, char **argv);
static const char version_usage[] = "usage: stackhook version\n";

static const struct command commands[] = {
	{"init", cli_init, cli_init_usage,
	 "create or migrate the database, spool and secret key", true},
	{"key", cli_key, cli_key_usage, "create, list and revoke API keys", false},
	{"report", cli_report, cli_report_usage,
	 "send waiting updates to GitLab (the cron job)", false},
	{"doctor", cli_doctor, cli_doctor_usage,
	 "check each integration against GitLab", false},
	{"hooks", cli_hooks, cli_hooks_usage,
	 "give every attached project one correct webhook", false},
	{"migrate", cli_migrate, cli_migrate_usage,
	 "copy an SQLite instance into PostgreSQL", false},
	{"rekey", cli_rekey, cli_rekey_usage,
	 "replace the secret key and re-seal every token under it", true},
	{"version", cmd_version, version_usage, "print versions", false},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

int
cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("stackhook: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_FAILED;
}

int
cli_db(struct cli *cli, struct sh_db **db)
{
	struct sh_err err;

	sh_err_clear(&err);
	if (sh_instance_db(cli->inst, db, &err) < 0)
		return cli_fail("%s", err.msg);
	return CLI_OK;
}

bool
cli_wants_help(int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return true;
		}
	}
	return false;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: stackhook [-c FILE] COMMAND [ARGS]\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\nOptions:\n"
		"  -c, --config FILE  config file (default: $STACKHOOK_CONFIG, else\n"
		"                     %s)\n"
		"  -h, --help         this help; `stackhook COMMAND --help` for one command\n"
		"  -V, --version      the version\n",
		sh_config_default_path());
}

static int
cmd_version(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	printf("stackhook %s\n", PACKAGE_VERSION);
	printf("schema %d\n", sh_schema_current());
	printf("sqlite %s\n", sqlite3_libversion());
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	return CLI_OK;
}

/* Run as root with `user` set, commands work as that user so that what
 * they create stays usable by the responder. */
static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user == NULL || geteuid() != 0)
		return CLI_OK;
	pw = getpwnam(user);
	if (pw == NULL)
		return cli_fail("user `%s` (from the config) does not exist", user);
	if (setgid(pw->pw_gid) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return cli_fail("cannot switch to user `%s`", user);
	return CLI_OK;
}

static void
set_actor(struct cli *cli)
{
	struct passwd *pw = getpwuid(getuid());

	snprintf(cli->actor, sizeof(cli->actor), "cli:%s",
		 pw ? pw->pw_name : "unknown");
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cli cli = {0};
	const struct command *cmd = NULL;
	struct sh_err err;
	int opt, rc;

	/* Stop at the command: its options are its own. */
	while ((opt = getopt_long(argc, argv, "+c:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cli.config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		case 'V':
			printf("stackhook %s\n", PACKAGE_VERSION);
			return CLI_OK;
		default:
			usage(stderr);
			return CLI_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fprintf(stderr, "stackhook: unknown command `%s`\n", argv[optind]);
		usage(stderr);
		return CLI_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (cli_wants_help(argc, argv, cmd->usage))
		return CLI_OK;
	if (cmd->run == cmd_version)
		return cmd_version(&cli, argc, argv);

	umask(077);
	sh_log_open(SH_LOG_STDERR, "stackhook", LOG_INFO);
	if (cli.config_path == NULL)
		cli.config_path = sh_config_default_path();
	if (sh_instance_open(cli.config_path, &cli.inst, &err) < 0)
		return cli_fail("%s", err.msg);
	set_actor(&cli);
	rc = cmd->as_root ? CLI_OK : drop_privileges(cli.inst->cfg->user);
	if (rc == CLI_OK) {
		optind = 1;
		rc = cmd->run(&cli, argc, argv);
	}
	sh_instance_free(cli.inst);
	return rc;
}
