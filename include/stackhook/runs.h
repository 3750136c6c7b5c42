/*
 * runs.h - runs of stacks and modules (SPEC §3 "Runs"): one per (stack,
 * sha, kind), with the merge requests they know.
 */
#ifndef STACKHOOK_RUNS_H
#define STACKHOOK_RUNS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "stackhook/authz.h"
#include "stackhook/db.h"
#include "stackhook/json.h"
#include "stackhook/slug.h"
#include "stackhook/webhook.h"

#define SH_RUN_ID_LEN 16

struct sh_run {
	int64_t seq;
	char id[SH_RUN_ID_LEN + 1];
	char stack[SH_SLUG_MAX + 1];
	enum sh_run_kind kind;
	enum sh_trigger trigger;
	char sha[SH_SHA_LEN + 1];        /* "" until known (manual runs) */
	char ref[SH_GIT_REF_MAX + 1];
	char state[16];
	bool has_summary;
	int64_t add, change, destroy;
	int64_t integration_id;          /* the integration reports go through */
	int64_t project_id;              /* GitLab's, 0 when not known */
	char project_path[SH_PROJECT_PATH_MAX + 1];
	int64_t delivery_id;             /* 0 for manual runs */
	int64_t created_at, updated_at;
};

/* What a new run is made of; sha may be "" only for manual runs. */
struct sh_run_request {
	const char *stack;
	enum sh_run_kind kind;
	enum sh_trigger trigger;
	const char *sha;
	const char *ref;
	int64_t mr_iid;          /* 0 = none */
	int64_t integration_id;
	int64_t project_id;
	const char *project_path;
	int64_t delivery_id;     /* 0 = none */
};

/*
 * Creates the run, or joins the existing one for the same (stack, sha,
 * kind).  In the caller's transaction.  *created tells which; *out is the
 * run as stored.  A merge request iid is added to the run either way;
 * *new_mr says whether it was new to the run.  Returns 0 or -1 (err set).
 */
int sh_runs_create_or_join(struct sh_db *db, const struct sh_run_request *req,
			   struct sh_run *out, bool *created, bool *new_mr,
			   struct sh_err *err);

/* Reads a run by id (no rights check).  SH_E_NOT_FOUND when none. */
int sh_runs_find(struct sh_db *db, const char *id, struct sh_run *out,
		 struct sh_err *err);

/* The run as the API shows it (with its merge request iids). */
cJSON *sh_runs_json(struct sh_db *db, const struct sh_run *run);

/* Runs the actor can read (read role in their stack's space), newest
 * first, optionally only of one stack and/or in one state. */
int sh_runs_list(struct sh_db *db, const struct sh_actor *actor,
		 const char *stack, const char *state, const struct sh_page *page,
		 cJSON **out, struct sh_err *err);

/* One run, for readers of its stack's space. */
int sh_runs_get(struct sh_db *db, const struct sh_actor *actor, const char *id,
		cJSON **out, struct sh_err *err);

#endif
