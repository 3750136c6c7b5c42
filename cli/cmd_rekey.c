/*
 * stackhook rekey - a new secret key, and every sealed token re-sealed
 * under it.
 *
 * The new key waits in KEY.new until the database has committed; the old
 * one is kept as KEY.old (a hard link) and KEY.new is renamed over KEY
 * last.  Each step can be interrupted: run again, the command finds KEY.new
 * and finishes the same rekey.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "stackhook/crypto.h"
#include "stackhook/fsutil.h"
#include "stackhook/integrations.h"

const char cli_rekey_usage[] =
	"usage: stackhook rekey\n"
	"\n"
	"Replaces the secret key (secret_key_file) with a new random one and\n"
	"re-seals every integration's GitLab token, webhook secret and signing\n"
	"token under it, in one transaction.  Best run with the responders and\n"
	"the reporter stopped: a running one reads the new key at its next\n"
	"request, but a token it was saving meanwhile may keep the old seal.\n"
	"The old key stays in FILE.old -- backups of the database made before\n"
	"now need it.  Interrupted, run it again: it finishes the same rekey.\n";

struct key_paths {
	char key[PATH_MAX], fresh[PATH_MAX], old[PATH_MAX];
};

static int
key_paths(const char *key, struct key_paths *p)
{
	if (snprintf(p->key, sizeof(p->key), "%s", key) >= (int)sizeof(p->key) ||
	    snprintf(p->fresh, sizeof(p->fresh), "%s.new", key) >= (int)sizeof(p->fresh) ||
	    snprintf(p->old, sizeof(p->old), "%s.old", key) >= (int)sizeof(p->old))
		return cli_fail("secret_key_file %s: path too long", key);
	return CLI_OK;
}

/* The new key: the one an interrupted rekey left in KEY.new, else a new
 * one written there, owned like KEY (the responders' user reads it). */
static int
new_key(const struct key_paths *p, unsigned char key[SH_SECRET_KEY_LEN])
{
	struct stat st;
	struct sh_err err;
	bool created;

	sh_err_clear(&err);
	if (access(p->fresh, F_OK) == 0) {
		printf("finishing the rekey that stopped: the new key is in %s\n", p->fresh);
	} else if (stat(p->key, &st) < 0 ||
		   sh_crypto_create_key(p->fresh, &created, &err) < 0) {
		return cli_fail("%s", err.msg[0] ? err.msg : strerror(errno));
	} else if (geteuid() == 0 && chown(p->fresh, st.st_uid, st.st_gid) < 0) {
		cli_fail("cannot chown %s: %s", p->fresh, strerror(errno));
		unlink(p->fresh);
		return CLI_FAILED;
	}
	if (sh_crypto_load_key(p->fresh, key, &err) < 0)
		return cli_fail("%s", err.msg);
	return CLI_OK;
}

/*
 * The database is written as the config's user, so that SQLite files it
 * creates (-wal, -shm) stay the responders'; the key files, beside root's
 * others, as root.  Only the effective ids change: the saved ones bring
 * root back.
 */
static int
become(const struct passwd *pw)
{
	if (pw == NULL)
		return CLI_OK;
	if (setegid(pw->pw_gid) < 0 || seteuid(pw->pw_uid) < 0)
		return cli_fail("cannot act as user `%s`: %s", pw->pw_name, strerror(errno));
	return CLI_OK;
}

static int
become_root(const struct passwd *pw)
{
	if (pw == NULL)
		return CLI_OK;
	if (seteuid(0) < 0 || setegid(0) < 0)
		return cli_fail("cannot act as root again: %s", strerror(errno));
	return CLI_OK;
}

static int
reseal(const struct sh_config *cfg, const struct passwd *pw,
       const unsigned char *old_key, const unsigned char *new_key, int *n)
{
	struct sh_db_options opt = {.busy_timeout_ms = cfg->busy_timeout_ms};
	struct sh_db *db = NULL;
	struct sh_err err;
	int rc = CLI_FAILED;

	sh_err_clear(&err);
	if (become(pw) != CLI_OK)
		return CLI_FAILED;
	if (sh_db_open(cfg->database, &opt, &db, &err) < 0 ||
	    sh_integrations_reseal(db, old_key, new_key, n, &err) < 0)
		cli_fail("%s", err.msg);
	else
		rc = CLI_OK;
	sh_db_close(db);
	return become_root(pw) == CLI_OK ? rc : CLI_FAILED;
}

int
cli_rekey(struct cli *cli, int argc, char **argv)
{
	const struct sh_config *cfg = cli->inst->cfg;
	unsigned char old_key[SH_SECRET_KEY_LEN], fresh_key[SH_SECRET_KEY_LEN];
	const struct passwd *pw = NULL;
	struct key_paths p;
	struct sh_err err;
	int n = 0, rc = CLI_FAILED;

	(void)argv;
	if (argc > 1) {
		fputs(cli_rekey_usage, stderr);
		return CLI_USAGE;
	}
	sh_err_clear(&err);
	if (key_paths(cfg->secret_key_file, &p) != CLI_OK)
		return CLI_FAILED;
	if (access(p.old, F_OK) == 0 && access(p.fresh, F_OK) != 0)
		return cli_fail("%s holds the key of an earlier rekey: move it somewhere "
				"safe (backups made before that rekey need it), then run "
				"rekey again", p.old);
	if (geteuid() == 0 && cfg->user != NULL && (pw = getpwnam(cfg->user)) == NULL)
		return cli_fail("user `%s` (from the config) does not exist", cfg->user);
	if (sh_crypto_load_key(p.key, old_key, &err) < 0)
		return cli_fail("%s", err.msg);
	if (new_key(&p, fresh_key) != CLI_OK ||
	    reseal(cfg, pw, old_key, fresh_key, &n) != CLI_OK)
		goto out;
	/* The old key stays reachable before the new one takes its name. */
	if (access(p.old, F_OK) != 0 && link(p.key, p.old) < 0) {
		cli_fail("cannot keep the old key as %s: %s", p.old, strerror(errno));
		goto out;
	}
	if (rename(p.fresh, p.key) < 0) {
		cli_fail("cannot move %s to %s: %s", p.fresh, p.key, strerror(errno));
		goto out;
	}
	if (sh_fs_fsync_dir(p.key, false, &err) < 0) {
		cli_fail("%s", err.msg);
		goto out;
	}
	printf("re-sealed %d value(s) under a new key in %s\n"
	       "the old key is in %s: keep it with the backups made before now\n"
	       "start the responders and the reporter again if they were stopped\n",
	       n, p.key, p.old);
	rc = CLI_OK;
out:
	sh_crypto_wipe(old_key, sizeof(old_key));
	sh_crypto_wipe(fresh_key, sizeof(fresh_key));
	return rc;
}
