/*
 * hooks.h - `stackhook hooks sync` (SPEC §5.1): give every attached
 * project exactly one correct webhook to its integration's URL -- created,
 * or updated always with the secret token (GitLab resets it when the URL
 * changes) and the signing token where GitLab takes one; extra hooks to
 * the same URL removed when asked.  And the reporter's self-healing:
 * asking GitLab to resend the deliveries our hook failed.
 */
#ifndef STACKHOOK_HOOKS_H
#define STACKHOOK_HOOKS_H

#include <stdbool.h>
#include <stdio.h>

#include "stackhook/gitlab.h"
#include "stackhook/instance.h"

#define SH_RESEND_MAX 5       /* GitLab's limit: 5 resends a minute per hook */
#define SH_RESEND_WINDOW 86400

struct sh_hooks_options {
	const char *integration; /* only this slug, or NULL */
	const char *stack;       /* only this stack's project, or NULL */
	bool prune;              /* remove extra hooks to the same URL */
	bool dry_run;            /* say what would change, change nothing */
	FILE *out;               /* one line per project */
};

struct sh_hooks_stats {
	int created, updated, pruned, failed;
};

/* Returns 0 (failures per project are counted and printed), or -1 when it
 * could not work locally (err set). */
int sh_hooks_sync(struct sh_instance *inst, struct sh_gitlab *gl,
		  const struct sh_hooks_options *opt, struct sh_hooks_stats *stats,
		  struct sh_err *err);

/* Notes that integration's webhook in project_id is hook_id (for the
 * resends).  Best effort: a failure is not worth stopping for. */
void sh_hooks_remember(struct sh_db *db, int64_t integration_id,
		       int64_t project_id, int64_t hook_id);

/* For each hook stackhook knows, asks GitLab to resend the deliveries it
 * failed in the last 24 hours, each event once and at most SH_RESEND_MAX a
 * run.  *resent receives how many.  Returns 0, or -1 (database). */
int sh_hooks_resend_failed(struct sh_instance *inst, struct sh_gitlab *gl,
			   int *resent, struct sh_err *err);

#endif
