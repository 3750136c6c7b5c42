/*
 * committer.h - group commit of webhook deliveries across processes
 * (SPEC §8).
 *
 * Every responder process -- a thread of spawn-fcgi -F 1, one of -F N, a
 * mod_fcgid process, a CGI run -- maps one small file in the spool
 * directory (SH_COMMITTER_FILE).  It holds a robust, process-shared lock,
 * the right to write a batch, and SH_COMMIT_BATCH_MAX slots.  A delivery
 * is copied into a free slot and queued; then whichever process holds the
 * lock next takes every queued slot and commits them together: one
 * transaction, one spool file, one fsync of each.  The others sleep on a
 * futex, not in SQLite's busy handler, and are woken when their result is
 * in their slot.  Under light load a batch is one delivery and nothing
 * waits; under load the fsyncs are shared, as PostgreSQL's WAL shares them.
 *
 * A process killed at any point loses nothing it answered 2xx for: a
 * batch is answered only after its commit.  A leader killed mid-batch
 * leaves the lock to the kernel's robust-futex recovery; the next holder
 * fails the slots it was writing (their senders answer 503, and GitLab
 * sends again), and no one waits past busy_timeout.
 */
#ifndef STACKHOOK_COMMITTER_H
#define STACKHOOK_COMMITTER_H

#include <sys/types.h>

#include "stackhook/config.h"
#include "stackhook/db.h"
#include "stackhook/err.h"
#include "stackhook/ingest.h"

#define SH_COMMIT_BATCH_MAX 32
#define SH_COMMITTER_FILE "ingest.v1.shm" /* in the spool directory */

struct sh_committer;

/* Maps cfg's shared file, creating it (0600) when needed.  cfg must
 * outlive *out.  Returns 0 or -1 (err set, SH_E_STORAGE). */
int sh_committer_open(const struct sh_config *cfg, struct sh_committer **out,
		      struct sh_err *err);

/*
 * Commits d (authenticated and parsed) in the next batch.  When this
 * caller is the one that writes the batch, it writes through c's own
 * connection to cfg's database (opened on first use; one per process, so
 * that its page cache outlives the batch).  Returns 0 with d's outcome
 * set, or -1 with err (SH_E_STORAGE: nothing of d was kept, or -- when
 * the writer died after its commit -- d will show as a duplicate when
 * GitLab sends it again).  Thread-safe: the threads of a process share c.
 */
int sh_committer_submit(struct sh_committer *c, struct sh_delivery *d,
			struct sh_err *err);

/* The process writing a batch right now, or 0. */
pid_t sh_committer_writer(const struct sh_committer *c);

/* Deliveries queued or being written right now, in every process. */
int sh_committer_pending(const struct sh_committer *c);

/* Closes its connection and unmaps the file.  NULL is allowed. */
void sh_committer_close(struct sh_committer *c);

#endif
