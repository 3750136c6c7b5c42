/*
 * stackhook init - create or migrate what an instance needs; safe to run
 * again.  As root with `user` in the config, hands what it made to user.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "stackhook/audit.h"
#include "stackhook/authz.h"
#include "stackhook/fsutil.h"
#include "stackhook/schema.h"
#include "stackhook/spool.h"
#include "stackhook/users.h"

const char cli_init_usage[] =
	"usage: stackhook init [--admin NAME]\n"
	"\n"
	"Creates the database (applying schema migrations), the spool directories\n"
	"and the secret key where they are missing; safe to run again.  Run as\n"
	"root, it gives what it creates to the config's `user`.\n"
	"\n"
	"  --admin NAME  make NAME an admin of the root space and print a new API\n"
	"                key for NAME, the bare key alone on the last line\n";

/* Who should own the files: the config's user when we are root. */
struct owner {
	bool set;
	uid_t uid;
	gid_t gid;
};

static int
resolve_owner(const char *user, struct owner *owner)
{
	struct passwd *pw;

	owner->set = false;
	if (user == NULL)
		return CLI_OK;
	pw = getpwnam(user);
	if (pw == NULL)
		return cli_fail("user `%s` (from the config) does not exist", user);
	if (geteuid() != 0) {
		if (pw->pw_uid != geteuid())
			fprintf(stderr,
				"stackhook: not root: files stay with the current "
				"user, not `%s`\n", user);
		return CLI_OK;
	}
	owner->set = true;
	owner->uid = pw->pw_uid;
	owner->gid = pw->pw_gid;
	return CLI_OK;
}

static int
give(const struct owner *owner, const char *path)
{
	if (!owner->set)
		return CLI_OK;
	if (fchownat(AT_FDCWD, path, owner->uid, owner->gid,
		     AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
		return cli_fail("cannot chown %s: %s", path, strerror(errno));
	return CLI_OK;
}

static int
prepare_spool(const char *spool, const struct owner *owner)
{
	char path[PATH_MAX];
	struct sh_err err;
	bool created;

	if (sh_spool_prepare(spool, &created, &err) < 0)
		return cli_fail("%s", err.msg);
	if (give(owner, spool) != CLI_OK)
		return CLI_FAILED;
	for (int i = 0; i < SH_SPOOL_DIR_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", spool, sh_spool_dirs[i]);
		if (give(owner, path) != CLI_OK)
			return CLI_FAILED;
	}
	printf("spool %s: %s\n", spool, created ? "created" : "ok");
	return CLI_OK;
}

static int
prepare_key(const char *path, const struct owner *owner)
{
	struct sh_err err;
	bool created;

	if (sh_crypto_create_key(path, &created, &err) < 0)
		return cli_fail("%s", err.msg);
	if (created && give(owner, path) != CLI_OK)
		return CLI_FAILED;
	printf("secret key %s: %s\n", path, created ? "created" : "ok");
	return CLI_OK;
}

/* Makes the directory of an SQLite database, which must be writable by the
 * responder too (SQLite creates its -wal and -shm files beside it). */
static int
prepare_db_dir(const char *database, const struct owner *owner)
{
	char *dir = sh_fs_dirname(database);
	struct sh_err err;
	bool created;
	int rc = CLI_FAILED;

	if (dir == NULL)
		return cli_fail("out of memory");
	if (sh_fs_mkdir(dir, &created, &err) < 0) {
		cli_fail("%s", err.msg);
		goto out;
	}
	if (created && give(owner, dir) != CLI_OK)
		goto out;
	rc = CLI_OK;
out:
	free(dir);
	return rc;
}

static int
make_admin(struct cli *cli, struct sh_db *db, const char *name)
{
	struct sh_user user;
	struct sh_err err;
	char *key = NULL, id_text[32];
	int64_t id;

	sh_err_clear(&err);
	if (sh_db_begin(db, &err) < 0)
		return cli_fail("%s", err.msg);
	if (sh_users_ensure(db, name, &user, NULL, &err) < 0 ||
	    sh_authz_grant(db, SH_ROOT_SPACE, user.id, SH_ROLE_ADMIN, &err) < 0 ||
	    sh_keys_create(db, &user, &key, &id, &err) < 0)
		goto fail;
	snprintf(id_text, sizeof(id_text), "%lld", (long long)id);
	if (sh_audit_record(db, &(struct sh_audit_entry){
		.actor = cli->actor, .action = "grant", .object_type = "member",
		.object_id = name, .space = SH_ROOT_SPACE, .detail = "admin"}, &err) < 0 ||
	    sh_audit_record(db, &(struct sh_audit_entry){
		.actor = cli->actor, .action = "create", .object_type = "api_key",
		.object_id = id_text, .detail = name}, &err) < 0 ||
	    sh_db_commit(db, &err) < 0)
		goto fail;
	printf("admin %s: admin of %s; API key %s created, shown once below\n",
	       name, SH_ROOT_SPACE, id_text);
	printf("%s\n", key);
	sh_crypto_wipe(key, strlen(key));
	free(key);
	return CLI_OK;
fail:
	sh_db_rollback(db);
	if (key != NULL) {
		sh_crypto_wipe(key, strlen(key));
		free(key);
	}
	return cli_fail("%s", err.msg);
}

static int
prepare_database(struct cli *cli, const struct owner *owner, const char *admin)
{
	const struct sh_config *cfg = cli->inst->cfg;
	struct sh_db_options opt = {.busy_timeout_ms = cfg->busy_timeout_ms,
				    .create = true};
	char path[PATH_MAX];
	struct sh_db *db = NULL;
	struct sh_err err;
	int from, rc = CLI_FAILED;

	/* A PostgreSQL database is the server's business. */
	if (cfg->database[0] == '/' && prepare_db_dir(cfg->database, owner) != CLI_OK)
		return CLI_FAILED;
	if (sh_db_open(cfg->database, &opt, &db, &err) < 0 ||
	    sh_schema_migrate(db, &from, &err) < 0) {
		cli_fail("%s", err.msg);
		goto out;
	}
	if (from == sh_schema_current())
		printf("database %s: ok, schema %d\n", cfg->database, from);
	else if (from == 0)
		printf("database %s: created, schema %d\n", cfg->database,
		       sh_schema_current());
	else
		printf("database %s: migrated from schema %d to %d\n", cfg->database,
		       from, sh_schema_current());
	if (admin != NULL && make_admin(cli, db, admin) != CLI_OK)
		goto out;
	rc = CLI_OK;
out:
	/* Closing the last connection folds the WAL back into the file, so
	 * the files left to hand over are the database and what stays. */
	sh_db_close(db);
	if (rc == CLI_OK && cfg->database[0] == '/') {
		static const char *const suffixes[] = {"", "-wal", "-shm"};

		for (size_t i = 0; i < 3 && rc == CLI_OK; i++) {
			snprintf(path, sizeof(path), "%s%s", cfg->database, suffixes[i]);
			rc = give(owner, path);
		}
	}
	return rc;
}

int
cli_init(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"admin", required_argument, NULL, 'a'},
		{NULL, 0, NULL, 0},
	};
	const struct sh_config *cfg = cli->inst->cfg;
	const char *admin = NULL;
	struct owner owner;
	struct sh_err err;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt != 'a') {
			fputs(cli_init_usage, stderr);
			return CLI_USAGE;
		}
		admin = optarg;
	}
	if (optind < argc) {
		fputs(cli_init_usage, stderr);
		return CLI_USAGE;
	}
	if (admin != NULL && sh_user_name_check(admin, "--admin", &err) < 0)
		return cli_fail("--admin: %s", err.msg);
	if (resolve_owner(cfg->user, &owner) != CLI_OK)
		return CLI_FAILED;
	printf("config %s\n", cfg->path);
	if (prepare_key(cfg->secret_key_file, &owner) != CLI_OK ||
	    prepare_spool(cfg->spool, &owner) != CLI_OK ||
	    prepare_database(cli, &owner, admin) != CLI_OK)
		return CLI_FAILED;
	return CLI_OK;
}
