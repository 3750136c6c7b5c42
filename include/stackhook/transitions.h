/*
 * transitions.h - moving runs through their states (SPEC §3 "Runs"), and
 * queueing, in the same step, the GitLab updates each state implies
 * (SPEC §5): commit statuses, merge request comments, deployments.
 *
 * The run's change and its spool entries are one unit: the spool file is
 * written and fsynced before the transaction commits and published after
 * (see spool.h), and a failure leaves neither.
 */
#ifndef STACKHOOK_TRANSITIONS_H
#define STACKHOOK_TRANSITIONS_H

#include <cjson/cJSON.h>

#include "stackhook/authz.h"
#include "stackhook/config.h"
#include "stackhook/db.h"
#include "stackhook/runs.h"
#include "stackhook/spool.h"

#define SH_PLAN_MAX (1u << 20) /* 1 MiB of plan text */

/* true when the state is one a run ends in. */
bool sh_run_state_final(const char *state);

/*
 * POST /api/v1/runs/{id}/transitions: body {"state", "summary"?: {"add",
 * "change", "destroy"}, "plan"?, "commit"?, "message"?}; needs the write
 * role in the stack's space.  An invalid move is SH_E_INVALID_TRANSITION.
 * *out is the run after the move.
 */
int sh_runs_transition(struct sh_db *db, const struct sh_config *cfg,
		       const struct sh_actor *actor, const char *id,
		       const cJSON *body, cJSON **out, struct sh_err *err);

/*
 * POST /api/v1/stacks/{id}/runs: a manual tracked run, body {"commit"?,
 * "ref"?} (ref defaults to the tracked branch).  A detached stack is
 * SH_E_STACK_DETACHED.  *out is the new run.
 */
int sh_runs_create_manual(struct sh_db *db, const struct sh_config *cfg,
			  const struct sh_actor *actor, const char *stack,
			  const cJSON *body, cJSON **out, struct sh_err *err);

/*
 * Moves every run left in a non-final state since before now - run_timeout
 * to failed ("timed out"), so GitLab never shows a job running forever.
 * *count receives how many.  Returns 0 or -1 (err set).
 */
int sh_runs_expire(struct sh_db *db, const struct sh_config *cfg, int64_t now,
		   int *count, struct sh_err *err);

/*
 * Queues the merge request comment of a finished or failed proposed run
 * into spool, for the merge requests in iids (all it knows when count is
 * 0 and iids NULL).  In the caller's transaction.  Used when a merge
 * request event joins a run that has already ended.
 */
int sh_runs_queue_note(struct sh_db *db, const struct sh_config *cfg,
		       const struct sh_run *run, const int64_t *iids,
		       size_t count, struct sh_spool_batch *spool,
		       struct sh_err *err);

#endif
