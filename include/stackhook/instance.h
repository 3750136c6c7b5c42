/*
 * instance.h - one configured stackhook: its config, its database
 * connection (opened on demand) and its secret key.
 *
 * The responder keeps an instance for its lifetime; a database that cannot
 * be opened is not fatal: each use tries again, and sh_instance_health()
 * says what is wrong, so /healthz can answer 503 while the process serves.
 */
#ifndef STACKHOOK_INSTANCE_H
#define STACKHOOK_INSTANCE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "stackhook/config.h"
#include "stackhook/crypto.h"
#include "stackhook/db.h"
#include "stackhook/err.h"

struct sh_committer;

struct sh_instance {
	struct sh_config *cfg;
	bool owns_cfg;        /* false for an instance sharing another's config */
	struct sh_db *db;     /* NULL until sh_instance_db() succeeds */
	unsigned char key[SH_SECRET_KEY_LEN];
	bool key_loaded;
	dev_t key_dev; /* the key file it came from (rekey replaces it) */
	ino_t key_ino;
	/* The group commit, one per process: a shared instance uses its
	 * primary's (committer_lock guards opening it). */
	struct sh_instance *primary; /* NULL for a primary */
	struct sh_committer *committer; /* NULL until sh_instance_committer() */
	pthread_mutex_t committer_lock;
};

/* Reads the config at path; *out (sh_instance_free() it) opens nothing yet.
 * Returns 0 or -1 (err set, SH_E_CONFIG). */
int sh_instance_open(const char *config_path, struct sh_instance **out,
		     struct sh_err *err);

/* A second instance for another thread: its own database connection,
 * primary's config and group commit (borrowed: primary must outlive the
 * new instance). */
int sh_instance_share(struct sh_instance *primary, struct sh_instance **out,
		      struct sh_err *err);

/* Closes the database, wipes the key, frees inst.  NULL is allowed. */
void sh_instance_free(struct sh_instance *inst);

/*
 * The database connection, opened on first use and checked to have the
 * current schema.  The connection stays owned by inst.  Returns 0, or -1
 * with err (SH_E_STORAGE) -- then the next call tries again.
 */
int sh_instance_db(struct sh_instance *inst, struct sh_db **db,
		   struct sh_err *err);

/* Drops the connection after a storage failure, so that the next use
 * reopens it (the file may have been replaced or repaired). */
void sh_instance_db_reset(struct sh_instance *inst);

/* The group commit of webhook deliveries (committer.h), mapped on first
 * use and owned by inst's primary; thread-safe.  Returns 0, or -1 with
 * err (SH_E_STORAGE). */
int sh_instance_committer(struct sh_instance *inst, struct sh_committer **out,
			  struct sh_err *err);

/* The secret key, read on first use and again once the file has been
 * replaced (stackhook rekey renames a new one over it).  Returns 0 or -1
 * (err set). */
int sh_instance_key(struct sh_instance *inst, const unsigned char **key,
		    struct sh_err *err);

#define SH_HEALTH_REASON_MAX SH_ERR_MSG_MAX

struct sh_health {
	bool ok;
	char database[SH_HEALTH_REASON_MAX]; /* "" when fine, else the reason */
	char spool[SH_HEALTH_REASON_MAX];
	char secret_key[SH_HEALTH_REASON_MAX];
};

/* Checks database (answers, schema current), spool (writable) and key. */
void sh_instance_health(struct sh_instance *inst, struct sh_health *out);

#endif
