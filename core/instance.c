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
	pthread_mutex_init(&inst->committer_lock, NULL);
	*out = inst;
	return 0;
}

int
sh_instance_share(struct sh_instance *primary, struct sh_instance **out,
		  struct sh_err *err)
{
	struct sh_instance *inst = calloc(1, sizeof(*inst));

	*out = NULL;
	if (inst == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	inst->cfg = primary->cfg;
	inst->primary = primary;
	*out = inst;
	return 0;
}

void
sh_instance_free(struct sh_instance *inst)
{
	if (inst == NULL)
		return;
	sh_db_close(inst->db);
	if (inst->primary == NULL) {
		sh_committer_close(inst->committer);
		pthread_mutex_destroy(&inst->committer_lock);
	}
	if (inst->owns_cfg)
		sh_config_free(inst->cfg);
	sh_crypto_wipe(inst->key, sizeof(inst->key));
	free(inst);
}

int
sh_instance_db(struct sh_instance *inst, struct sh_db **db, struct sh_err *err)
{
	*db = NULL;
	/* A lost connection (PostgreSQL restarted) is replaced, not reused. */
	if (inst->db != NULL && !sh_db_alive(inst->db))
		sh_instance_db_reset(inst);
	if (inst->db == NULL &&
	    sh_schema_open(inst->cfg->database, inst->cfg->busy_timeout_ms,
			   &inst->db, err) < 0)
		return -1;
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
	struct sh_instance *owner = inst->primary ? inst->primary : inst;
	int rc = 0;

	pthread_mutex_lock(&owner->committer_lock);
	if (owner->committer == NULL)
		rc = sh_committer_open(owner->cfg, &owner->committer, err);
	*out = owner->committer;
	pthread_mutex_unlock(&owner->committer_lock);
	return rc;
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
