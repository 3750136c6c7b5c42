/*
 * spool.h - the spool directory where GitLab updates wait for the reporter
 * (SPEC §6): tmp/ for entries being written, new/ for ready ones,
 * deferred/ for retries, failed/ for those given up on, and the lock file.
 */
#ifndef STACKHOOK_SPOOL_H
#define STACKHOOK_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "stackhook/buf.h"
#include "stackhook/err.h"

#define SH_SPOOL_DIR_COUNT 4 /* tmp, new, deferred, failed */

/* Creates the spool directory and its subdirectories (mode 0700) where
 * missing.  *created (may be NULL) tells whether anything was made.
 * Returns 0 or -1 (err set). */
int sh_spool_prepare(const char *spool, bool *created, struct sh_err *err);

/* 0 when the spool's directories exist and this process may write them;
 * else -1 with err (SH_E_STORAGE) saying which. */
int sh_spool_check(const char *spool, struct sh_err *err);

/* sh_spool_check() and a real write: a byte written, fsynced and removed
 * in tmp/ (a full disk passes the permission check). */
int sh_spool_probe(const char *spool, struct sh_err *err);

/*
 * A batch of entries written as one spool file, one JSON object per line.
 * The protocol that keeps "answered 2xx" and "on disk" the same thing:
 *   sh_spool_batch_add()      collect entries in memory;
 *   sh_spool_batch_write()    write tmp/NAME and fsync it -- before the
 *                             database transaction commits;
 *   sh_spool_batch_publish()  rename into new/ and fsync new/ -- after it
 *                             commits;
 *   sh_spool_batch_abort()    remove tmp/NAME when the commit failed.
 * A crash between commit and publish leaves a complete, fsynced file in
 * tmp/; the reporter recovers it when the database recorded its name.
 */
struct sh_spool_batch {
	const char *spool;   /* borrowed */
	char name[96];       /* file name, sortable by creation time */
	bool written;
	size_t count;
	struct sh_buf lines;
};

/* Starts an empty batch for spool (kept by pointer). */
void sh_spool_batch_init(struct sh_spool_batch *batch, const char *spool);

/* Appends entry (not taken) as one line.  Returns 0 or -1 (err set). */
int sh_spool_batch_add(struct sh_spool_batch *batch, const cJSON *entry,
		       struct sh_err *err);

/* Writes and fsyncs tmp/NAME.  An empty batch writes nothing.  Returns 0
 * or -1 (err SH_E_STORAGE; nothing left behind). */
int sh_spool_batch_write(struct sh_spool_batch *batch, struct sh_err *err);

/* Moves tmp/NAME into new/ and fsyncs new/.  Returns 0 or -1 (err set;
 * the file stays in tmp/ for recovery). */
int sh_spool_batch_publish(struct sh_spool_batch *batch, struct sh_err *err);

/* The same into another subdirectory ("deferred", "failed"): how the
 * reporter rewrites what it keeps. */
int sh_spool_batch_publish_into(struct sh_spool_batch *batch, const char *dir,
				struct sh_err *err);

struct sh_db;

/*
 * The whole protocol in one call, for a write transaction the caller has
 * open on db: writes the batch, records its name in the transaction (the
 * proof, after a crash, that the file belongs to a commit), commits,
 * publishes.  On failure the
 * transaction is rolled back and the file removed (-1, err set).  A
 * publish failure after the commit is only logged: the file waits in tmp/
 * for the reporter.  The batch is released either way.
 */
int sh_spool_batch_commit(struct sh_spool_batch *batch, struct sh_db *db,
			  struct sh_err *err);

/* Removes tmp/NAME if written.  Safe to call at any point. */
void sh_spool_batch_abort(struct sh_spool_batch *batch);

/* Frees the batch's memory (not its files). */
void sh_spool_batch_release(struct sh_spool_batch *batch);

/*
 * Takes spool/lock with flock() without waiting.  Returns 0 with *fd the
 * lock (close it to release), 1 when another process holds it, -1 on
 * error (err set).
 */
int sh_spool_lock(const char *spool, int *fd, struct sh_err *err);

/* How much waits in the spool. */
struct sh_spool_stats {
	long entries[SH_SPOOL_DIR_COUNT]; /* per sh_spool_dirs[] */
	long files[SH_SPOOL_DIR_COUNT];
	int64_t oldest;                   /* creation time of the oldest entry
					   * waiting in new/ or deferred/, 0 when
					   * none */
};

/* Counts entries (lines) and files in each subdirectory.  Entries of one
 * integration only when integration > 0.  Returns 0 or -1 (err set). */
int sh_spool_stats(const char *spool, int64_t integration,
		   struct sh_spool_stats *out, struct sh_err *err);

/* The same for every integration at once, in one pass over the spool: for
 * a page that shows many (each sh_spool_stats() reads the whole spool). */
struct sh_spool_tally_row {
	int64_t integration; /* 0: entries that name none */
	struct sh_spool_stats stats;
	unsigned long last_file; /* internal: the last file counted */
};

struct sh_spool_tally {
	struct sh_spool_tally_row *rows;
	size_t count;
};

/* Fills out (release it with sh_spool_tally_release()).  Returns 0 or -1
 * (err set, out empty). */
int sh_spool_tally(const char *spool, struct sh_spool_tally *out,
		   struct sh_err *err);

/* The stats of one integration: all zero when it has no entry. */
const struct sh_spool_stats *sh_spool_tally_find(const struct sh_spool_tally *t,
						 int64_t integration);

void sh_spool_tally_release(struct sh_spool_tally *t);

/* The subdirectories, in the order sh_spool_prepare() makes them. */
extern const char *const sh_spool_dirs[];

#endif
