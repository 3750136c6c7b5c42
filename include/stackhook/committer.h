/*
 * committer.h - group commit for webhook deliveries (SPEC §8).
 *
 * One writer thread per responder process, with its own database
 * connection, takes whatever deliveries the request threads have handed
 * over (up to SH_COMMIT_BATCH_MAX, without waiting to fill a batch) and
 * commits them together: one transaction, one spool file, one fsync of
 * each.  Under light load a batch is one delivery and nothing waits; under
 * load the fsync cost is shared, as PostgreSQL's group commit shares it.
 */
#ifndef STACKHOOK_COMMITTER_H
#define STACKHOOK_COMMITTER_H

#include "stackhook/config.h"
#include "stackhook/err.h"
#include "stackhook/ingest.h"

#define SH_COMMIT_BATCH_MAX 64

struct sh_committer;

/* Starts the committer's thread; its connection opens on first use, and
 * again after a storage failure.  cfg must outlive it.  Returns 0 or -1
 * (err set). */
int sh_committer_start(const struct sh_config *cfg, struct sh_committer **out,
		       struct sh_err *err);

/*
 * Hands d (authenticated and parsed) to the committer and waits until its
 * batch is on disk.  Returns 0 with d's outcome set, or -1 with err (the
 * batch failed: nothing of d was kept).  Thread-safe.
 */
int sh_committer_submit(struct sh_committer *c, struct sh_delivery *d,
			struct sh_err *err);

/* Commits what is queued, stops the thread, closes the connection. */
void sh_committer_stop(struct sh_committer *c);

#endif
