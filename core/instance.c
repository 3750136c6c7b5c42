#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stackhook/committer.h"
#include "stackhook/instance.h"
#include "stackhook/metrics.h"
#include "stackhook/schema.h"
#include "stackhook/spool.h"

int
sh_instance_open(const char *config_path, struct sh_instance **out,
		 struct sh_err *err)
{
	struct sh_instance *inst;

	*out = NULL;
	inst = calloc(1, sizeof(*inst));
	if (inst == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	if (sh_config_load(config_path, &inst->cfg, err) < 0) {
		free(inst);
		return -1;
	}
	inst->owns_cfg = true;
	*out = inst;
	return 0;
}

int
sh_instance_share(struct sh_config *cfg, struct sh_instance **out,
		  struct sh_err *err)
{
	struct sh_instance *inst = calloc(1, sizeof(*inst));

	*out = NULL;
	if (inst == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	inst->cfg = cfg;
	*out = inst;
	return 0;
}

void
sh_instance_free(struct sh_instance *inst)
{
	if (inst == NULL)
		return;
	sh_db_close(inst->db);
	sh_committer_close(inst->committer);
	if (inst->owns_cfg)
		sh_config_free(inst->cfg);
	sh_crypto_wipe(inst->key, sizeof(inst->key));
	free(inst);
}

int
sh_instance_db(struct sh_instance *inst, struct sh_db **db, struct sh_err *err)
{
	struct sh_db_options opt = {
		.busy_timeout_ms = inst->cfg->busy_timeout_ms,
		.create = false,
	};
	struct sh_db *fresh = NULL;

	*db = NULL;
	/* A lost connection (PostgreSQL restarted) is replaced, not reused. */
	if (inst->db != NULL && !sh_db_alive(inst->db))
		sh_instance_db_reset(inst);
	if (inst->db == NULL) {
		if (sh_db_open(inst->cfg->database, &opt, &fresh, err) < 0)
			return -1;
		if (sh_schema_check(fresh, err) < 0) {
			sh_db_close(fresh);
			return -1;
		}
		inst->db = fresh;
	}
	*db = inst->db;
	return 0;
}

void
sh_instance_db_reset(struct sh_instance *inst)
{
	sh_db_close(inst->db);
	inst->db = NULL;
}

int
sh_instance_committer(struct sh_instance *inst, struct sh_committer **out,
		      struct sh_err *err)
{
	if (inst->committer == NULL &&
	    sh_committer_open(inst->cfg, &inst->committer, err) < 0)
		return -1;
	*out = inst->committer;
	return 0;
}

int
sh_instance_key(struct sh_instance *inst, const unsigned char **key,
		struct sh_err *err)
{
	struct stat st;
	bool same = false;

	/* One stat() a request: a process that outlives a rekey does not go
	 * on opening new seals with the old key. */
	if (stat(inst->cfg->secret_key_file, &st) == 0)
		same = inst->key_loaded && st.st_dev == inst->key_dev &&
		       st.st_ino == inst->key_ino;
	else
		memset(&st, 0, sizeof(st));
	if (!same) {
		inst->key_loaded = false;
		if (sh_crypto_load_key(inst->cfg->secret_key_file, inst->key,
				       err) < 0)
			return -1;
		inst->key_loaded = true;
		inst->key_dev = st.st_dev;
		inst->key_ino = st.st_ino;
	}
	*key = inst->key;
	return 0;
}

static void
note(char dst[SH_HEALTH_REASON_MAX], const struct sh_err *err, bool *ok)
{
	snprintf(dst, SH_HEALTH_REASON_MAX, "%s", err->msg);
	*ok = false;
}

/* The schema query proves the connection still answers (the file may
 * have been removed or replaced since it was opened); a small commit
 * proves a write goes through now (SPEC §4.1 step 9: health stays 503
 * until writes succeed again). */
static int
ping(struct sh_db *db, struct sh_err *err)
{
	/* A real commit: a full disk lets a transaction begin and roll back,
	 * and refuses only what would be written. */
	if (sh_schema_check(db, err) < 0 || sh_db_begin(db, err) < 0 ||
	    sh_metrics_add(db, "health_probes", 1, err) < 0 ||
	    sh_db_commit(db, err) < 0) {
		sh_db_rollback(db);
		if (err != NULL && err->code == SH_E_STORAGE)
			sh_err_prefix(err, "cannot take writes");
		return -1;
	}
	return 0;
}

void
sh_instance_health(struct sh_instance *inst, struct sh_health *out)
{
	const unsigned char *key;
	struct sh_err err;
	struct sh_db *db;

	memset(out, 0, sizeof(*out));
	out->ok = true;
	sh_err_clear(&err);
	if (sh_instance_db(inst, &db, &err) < 0) {
		note(out->database, &err, &out->ok);
	} else if (ping(db, &err) < 0) {
		note(out->database, &err, &out->ok);
		sh_instance_db_reset(inst);
	}
	if (sh_spool_probe(inst->cfg->spool, &err) < 0)
		note(out->spool, &err, &out->ok);
	if (sh_instance_key(inst, &key, &err) < 0)
		note(out->secret_key, &err, &out->ok);
}
