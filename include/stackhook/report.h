/*
 * report.h - the reporter's pass over the spool (SPEC §6): recover what a
 * crash left in tmp/, time out stale runs, forget old deliveries, then
 * send new/ and due deferred/ entries to GitLab, oldest first, coalescing
 * updates that a newer one supersedes.  Each entry ends sent, deferred
 * (written to deferred/ with its next attempt before its file goes) or
 * failed (kept in failed/ with the reason): nothing is dropped silently.
 *
 * The caller holds the spool lock (sh_spool_lock()).
 */
#ifndef STACKHOOK_REPORT_H
#define STACKHOOK_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "stackhook/gitlab.h"
#include "stackhook/instance.h"

#define SH_RETRY_MAX 3600         /* seconds: the longest backoff */
#define SH_TMP_RECOVER_AGE 300    /* seconds before a tmp/ file is an orphan */

struct sh_report_options {
	bool dry_run; /* print what would be sent; change nothing */
	FILE *out;    /* where --dry-run prints */
};

struct sh_report_stats {
	int sent;
	int coalesced;
	int deferred;
	int failed;
	int recovered; /* tmp/ files moved into new/ */
	int expired;   /* runs timed out */
};

/* One pass.  Returns 0 (GitLab's refusals are results, in stats), or -1
 * when the pass could not work locally (database, spool; err set). */
int sh_report_pass(struct sh_instance *inst, struct sh_gitlab *gl,
		   const struct sh_report_options *opt,
		   struct sh_report_stats *stats, struct sh_err *err);

#endif
