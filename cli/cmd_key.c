/*
 * stackhook key - API keys: create (printed once), list, revoke.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stackhook/audit.h"
#include "stackhook/timeutil.h"
#include "stackhook/users.h"

const char cli_key_usage[] =
	"usage: stackhook key create --user NAME\n"
	"       stackhook key list\n"
	"       stackhook key revoke ID\n"
	"\n"
	"  create  makes a new API key for NAME (creating the user if needed) and\n"
	"          prints it, the bare key alone on the last line; it is shown once\n"
	"  list    prints every key as a tab-separated table with a header\n"
	"  revoke  stops key ID from working\n";

static int
key_create(struct cli *cli, struct sh_db *db, const char *name)
{
	struct sh_user user;
	struct sh_err err;
	char *key = NULL, id_text[32];
	int64_t id;
	int created;

	sh_err_clear(&err);
	if (sh_user_name_check(name, "--user", &err) < 0)
		return cli_fail("--user: %s", err.msg);
	if (sh_db_begin(db, &err) < 0)
		return cli_fail("%s", err.msg);
	if (sh_users_ensure(db, name, &user, &created, &err) < 0 ||
	    sh_keys_create(db, &user, &key, &id, &err) < 0)
		goto fail;
	snprintf(id_text, sizeof(id_text), "%lld", (long long)id);
	if (sh_audit_record(db, &(struct sh_audit_entry){
		.actor = cli->actor, .action = "create", .object_type = "api_key",
		.object_id = id_text, .detail = name}, &err) < 0 ||
	    sh_db_commit(db, &err) < 0)
		goto fail;
	printf("%sAPI key %s for %s created, shown once below\n",
	       created ? "user created; " : "", id_text, name);
	printf("%s\n", key);
	free(key);
	return CLI_OK;
fail:
	sh_db_rollback(db);
	free(key);
	return cli_fail("%s", err.msg);
}

static void
print_time(int64_t t, const char *none)
{
	char text[SH_ISO8601_LEN + 1];

	if (t == 0) {
		fputs(none, stdout);
		return;
	}
	sh_time_iso8601(t, text);
	fputs(text, stdout);
}

static int
key_list(struct sh_db *db)
{
	struct sh_key_info *keys;
	struct sh_err err;
	size_t n;

	if (sh_keys_list(db, &keys, &n, &err) < 0)
		return cli_fail("%s", err.msg);
	printf("id\tuser\tprefix\tcreated\tlast_used\tstate\n");
	for (size_t i = 0; i < n; i++) {
		printf("%lld\t%s\t%s\t", (long long)keys[i].id, keys[i].user,
		       keys[i].prefix);
		print_time(keys[i].created_at, "-");
		putchar('\t');
		print_time(keys[i].last_used_at, "never");
		printf("\t%s\n", keys[i].revoked_at ? "revoked" : "active");
	}
	free(keys);
	return CLI_OK;
}

static int
key_revoke(struct cli *cli, struct sh_db *db, const char *id_text)
{
	struct sh_key_info info;
	struct sh_err err;
	char *end;
	long long id = strtoll(id_text, &end, 10);

	if (id_text[0] == '\0' || *end != '\0' || id <= 0)
		return cli_fail("revoke: `%s` is not a key id (see `stackhook key "
				"list`)", id_text);
	sh_err_clear(&err);
	if (sh_db_begin(db, &err) < 0)
		return cli_fail("%s", err.msg);
	if (sh_keys_revoke(db, id, &info, &err) < 0 ||
	    sh_audit_record(db, &(struct sh_audit_entry){
		.actor = cli->actor, .action = "revoke", .object_type = "api_key",
		.object_id = id_text, .detail = info.user}, &err) < 0 ||
	    sh_db_commit(db, &err) < 0) {
		sh_db_rollback(db);
		return cli_fail("%s", err.msg);
	}
	printf("API key %lld of %s revoked\n", id, info.user);
	return CLI_OK;
}

int
cli_key(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"user", required_argument, NULL, 'u'},
		{NULL, 0, NULL, 0},
	};
	const char *action = argc > 1 ? argv[1] : "", *user = NULL;
	struct sh_db *db;
	int opt;

	optind = 2;
	while ((opt = getopt_long(argc, argv, "u:", options, NULL)) != -1) {
		if (opt != 'u')
			goto usage;
		user = optarg;
	}
	if (strcmp(action, "create") == 0 && user != NULL && optind == argc) {
		if (cli_db(cli, &db) != CLI_OK)
			return CLI_FAILED;
		return key_create(cli, db, user);
	}
	if (strcmp(action, "list") == 0 && user == NULL && optind == argc) {
		if (cli_db(cli, &db) != CLI_OK)
			return CLI_FAILED;
		return key_list(db);
	}
	if (strcmp(action, "revoke") == 0 && user == NULL && optind == argc - 1) {
		if (cli_db(cli, &db) != CLI_OK)
			return CLI_FAILED;
		return key_revoke(cli, db, argv[optind]);
	}
usage:
	fputs(cli_key_usage, stderr);
	return CLI_USAGE;
}
