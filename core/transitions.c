#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/audit.h"
#include "stackhook/log.h"
#include "stackhook/spaces.h"
#include "stackhook/timeutil.h"
#include "stackhook/transitions.h"
#include "stackhook/updates.h"

#define MESSAGE_MAX 4096

static const char *const final_states[] = {"finished", "failed", "canceled",
					   "discarded"};

static const struct {
	const char *from;
	const char *to;
} moves[] = {
	{"queued", "preparing"},      {"queued", "canceled"},
	{"preparing", "planning"},    {"preparing", "failed"},
	{"preparing", "canceled"},    {"planning", "finished"},
	{"planning", "unconfirmed"},  {"planning", "failed"},
	{"planning", "canceled"},     {"unconfirmed", "confirmed"},
	{"unconfirmed", "discarded"}, {"confirmed", "applying"},
	{"confirmed", "canceled"},    {"applying", "finished"},
	{"applying", "failed"},
};

static const struct sh_json_field transition_fields[] = {
	{"state", SH_JSON_STRING, 16, SH_JSON_REQUIRED},
	{"summary", SH_JSON_OBJECT, 0, 0},
	{"plan", SH_JSON_TEXT, SH_PLAN_MAX, 0},
	{"commit", SH_JSON_STRING, SH_SHA_LEN, 0},
	{"message", SH_JSON_TEXT, MESSAGE_MAX, 0},
};

static const struct sh_json_field summary_fields[] = {
	{"add", SH_JSON_INT, 1000000000, SH_JSON_REQUIRED},
	{"change", SH_JSON_INT, 1000000000, SH_JSON_REQUIRED},
	{"destroy", SH_JSON_INT, 1000000000, SH_JSON_REQUIRED},
};

static const struct sh_json_field manual_fields[] = {
	{"commit", SH_JSON_STRING, SH_SHA_LEN, 0},
	{"ref", SH_JSON_STRING, SH_GIT_REF_MAX, 0},
};

bool
sh_run_state_final(const char *state)
{
	for (size_t i = 0; i < sizeof(final_states) / sizeof(final_states[0]); i++)
		if (strcmp(state, final_states[i]) == 0)
			return true;
	return false;
}

static bool
move_allowed(const char *from, const char *to)
{
	for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++)
		if (strcmp(moves[i].from, from) == 0 && strcmp(moves[i].to, to) == 0)
			return true;
	return false;
}

/* What a transition asks for. */
struct change {
	const char *state;
	bool has_summary;
	int64_t add, change, destroy;
	const char *plan;
	const char *commit;
	const char *message;
	bool forced; /* the reporter's timeout: no state machine check */
};

/* The state machine and the summary rules of SPEC §3. */
static int
check_move(const struct sh_run *run, const struct change *c, struct sh_err *err)
{
	bool changes;

	if (c->forced)
		return 0;
	if (!move_allowed(run->state, c->state))
		return sh_err_set(err, SH_E_INVALID_TRANSITION, "state",
				  "run %s cannot go from %s to %s", run->id,
				  run->state, c->state);
	if (strcmp(run->state, "planning") != 0 ||
	    (strcmp(c->state, "finished") != 0 && strcmp(c->state, "unconfirmed") != 0))
		return 0;
	if (!c->has_summary)
		return sh_err_set(err, SH_E_INVALID_TRANSITION, "summary",
				  "leaving planning for %s needs the plan's summary",
				  c->state);
	changes = c->add + c->change + c->destroy > 0;
	if (run->kind == SH_RUN_PROPOSED && strcmp(c->state, "unconfirmed") == 0)
		return sh_err_set(err, SH_E_INVALID_TRANSITION, "state",
				  "a proposed run is never confirmed: it finishes");
	if (run->kind == SH_RUN_TRACKED && changes &&
	    strcmp(c->state, "finished") == 0)
		return sh_err_set(err, SH_E_INVALID_TRANSITION, "state",
				  "a tracked run with changes goes to unconfirmed");
	if (run->kind == SH_RUN_TRACKED && !changes &&
	    strcmp(c->state, "unconfirmed") == 0)
		return sh_err_set(err, SH_E_INVALID_TRANSITION, "state",
				  "a tracked run without changes finishes");
	return 0;
}

/* The stack facts the GitLab updates need. */
struct stack_facts {
	char name[SH_SLUG_MAX + 1];
	char space[SH_SLUG_MAX + 1];
	char environment[320];
	char user_url[2100];
};

static int
load_facts(struct sh_db *db, const struct sh_config *cfg, const struct sh_run *run,
	   struct stack_facts *f, struct sh_err *err)
{
	static const char sql[] =
		"SELECT s.name, s.space, s.environment, "
		"(SELECT coalesce(i.user_facing_host_url, i.api_host_url) "
		" FROM integrations i WHERE i.id = $2) "
		"FROM stacks s WHERE s.id = $1";
	struct sh_stmt *st;
	int rc = sh_db_query(db, sql, &st, err, "ti", run->stack, run->integration_id);

	if (rc == 0)
		return sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no stack %s",
				  run->stack);
	if (rc < 0)
		return -1;
	snprintf(f->name, sizeof(f->name), "%s", sh_stmt_text(st, 0));
	snprintf(f->space, sizeof(f->space), "%s", sh_stmt_text(st, 1));
	if (sh_stmt_is_null(st, 2))
		snprintf(f->environment, sizeof(f->environment), "%s/%s",
			 cfg->status_prefix, run->stack);
	else
		snprintf(f->environment, sizeof(f->environment), "%s",
			 sh_stmt_text(st, 2));
	snprintf(f->user_url, sizeof(f->user_url), "%s",
		 sh_stmt_is_null(st, 3) ? "" : sh_stmt_text(st, 3));
	sh_stmt_release(st);
	return 0;
}

static int
queue(struct sh_spool_batch *spool, cJSON *entry, struct sh_err *err)
{
	int rc;

	if (entry == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	rc = sh_spool_batch_add(spool, entry, err);
	cJSON_Delete(entry);
	return rc;
}

int
sh_runs_queue_note(struct sh_db *db, const struct sh_config *cfg,
		   const struct sh_run *run, const int64_t *iids, size_t count,
		   struct sh_spool_batch *spool, struct sh_err *err)
{
	static const char sql_run[] =
		"SELECT plan, message FROM runs WHERE seq = $1";
	static const char sql_mrs[] =
		"SELECT iid FROM run_merge_requests WHERE run_seq = $1 ORDER BY iid";
	struct sh_note_context note = {0};
	struct stack_facts facts;
	int64_t *known = NULL;
	char *plan = NULL, *message = NULL;
	struct sh_stmt *st;
	size_t n = 0;
	int rc = -1;

	if (run->integration_id == 0 || run->sha[0] == '\0')
		return 0;
	if (load_facts(db, cfg, run, &facts, err) < 0 ||
	    sh_db_query(db, sql_run, &st, err, "i", run->seq) != 1)
		return -1;
	plan = sh_stmt_is_null(st, 0) ? NULL : strdup(sh_stmt_text(st, 0));
	message = sh_stmt_is_null(st, 1) ? NULL : strdup(sh_stmt_text(st, 1));
	sh_stmt_release(st);
	if (iids == NULL) {
		if (sh_db_prepare(db, sql_mrs, &st, err) < 0)
			goto out;
		sh_stmt_bind_int(st, 1, run->seq);
		while ((rc = sh_stmt_step(st, err)) == 1) {
			int64_t *grown = realloc(known, (n + 1) * sizeof(*known));

			if (grown == NULL) {
				rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
				break;
			}
			known = grown;
			known[n++] = sh_stmt_int(st, 0);
		}
		sh_stmt_release(st);
		if (rc < 0)
			goto out;
		iids = known;
		count = n;
	}
	note.stack_name = facts.name;
	note.user_facing_url = facts.user_url;
	note.plan = plan;
	note.message = message;
	note.iids = iids;
	note.iid_count = count;
	rc = queue(spool, sh_updates_mr_note(cfg, run, &note), err);
out:
	free(known);
	free(plan);
	free(message);
	return rc < 0 ? -1 : 0;
}

/* The deployment a tracked run with changes makes (SPEC §5): created
 * running at unconfirmed or applying, then success, failed or canceled. */
static int
queue_deployment(struct sh_db *db, const struct sh_config *cfg,
		 const struct sh_run *run, bool deploying,
		 struct sh_spool_batch *spool, struct sh_err *err)
{
	const char *status = NULL;
	struct stack_facts facts;

	if (run->kind != SH_RUN_TRACKED || run->integration_id == 0)
		return 0;
	if (strcmp(run->state, "unconfirmed") == 0 ||
	    strcmp(run->state, "applying") == 0)
		status = deploying ? NULL : "running";
	else if (deploying && strcmp(run->state, "finished") == 0)
		status = "success";
	else if (deploying && strcmp(run->state, "failed") == 0)
		status = "failed";
	else if (deploying && sh_run_state_final(run->state))
		status = "canceled";
	if (status == NULL)
		return 0;
	if (load_facts(db, cfg, run, &facts, err) < 0 ||
	    queue(spool, sh_updates_deployment(run, facts.environment, status), err) < 0)
		return -1;
	return sh_db_run(db, "UPDATE runs SET deploying = 1 WHERE seq = $1", err,
			 "i", run->seq) < 0 ? -1 : 0;
}

/* Applies c to run (re-read afterwards) and queues the updates. */
static int
apply(struct sh_db *db, const struct sh_config *cfg, struct sh_run *run,
      const struct change *c, struct sh_spool_batch *spool, struct sh_err *err)
{
	static const char sql[] =
		"UPDATE runs SET state = $1, "
		"summary_add = CASE WHEN $2 = 1 THEN $3 ELSE summary_add END, "
		"summary_change = CASE WHEN $2 = 1 THEN $4 ELSE summary_change END, "
		"summary_destroy = CASE WHEN $2 = 1 THEN $5 ELSE summary_destroy END, "
		"plan = coalesce($6, plan), message = coalesce($7, message), "
		"sha = coalesce(sha, $8), updated_at = $9 WHERE seq = $10";
	static const char sql_deploying[] = "SELECT deploying FROM runs WHERE seq = $1";
	struct sh_stmt *st;
	bool deploying = false;
	char id[SH_RUN_ID_LEN + 1];

	if (check_move(run, c, err) < 0)
		return -1;
	if (c->commit != NULL && run->sha[0] != '\0' && strcmp(c->commit, run->sha) != 0)
		return sh_err_set(err, SH_E_INVALID_TRANSITION, "commit",
				  "run %s already has commit %s", run->id, run->sha);
	if (c->commit == NULL && run->sha[0] == '\0' && strcmp(c->state, "preparing") == 0)
		return sh_err_set(err, SH_E_MISSING_FIELD, "commit",
				  "this manual run needs the commit it prepares");
	if (sh_db_query(db, sql_deploying, &st, err, "i", run->seq) == 1) {
		deploying = sh_stmt_int(st, 0) != 0;
		sh_stmt_release(st);
	}
	snprintf(id, sizeof(id), "%s", run->id);
	if (sh_db_run(db, sql, err, "ti" "iii" "ttt" "ii", c->state,
		      (int64_t)c->has_summary, c->add, c->change, c->destroy, c->plan,
		      c->message, c->commit, sh_time_now(), run->seq) < 0 ||
	    sh_runs_find(db, id, run, err) < 0)
		return -1;
	if (run->sha[0] == '\0' || run->integration_id == 0)
		return 0;
	if (queue(spool, sh_updates_commit_status(cfg, run), err) < 0)
		return -1;
	if (run->kind == SH_RUN_PROPOSED &&
	    (strcmp(run->state, "finished") == 0 || strcmp(run->state, "failed") == 0) &&
	    sh_runs_queue_note(db, cfg, run, NULL, 0, spool, err) < 0)
		return -1;
	return queue_deployment(db, cfg, run, deploying, spool, err);
}

/* Runs fn inside one transaction with one spool batch for its entries. */
static int
with_spool(struct sh_db *db, const struct sh_config *cfg,
	   int (*fn)(struct sh_db *, const struct sh_config *, void *,
		     struct sh_spool_batch *, struct sh_err *),
	   void *arg, struct sh_err *err)
{
	struct sh_spool_batch spool;

	sh_spool_batch_init(&spool, cfg->spool);
	if (sh_db_begin(db, err) < 0) {
		sh_spool_batch_release(&spool);
		return -1;
	}
	if (fn(db, cfg, arg, &spool, err) < 0) {
		sh_db_rollback(db);
		sh_spool_batch_release(&spool);
		return -1;
	}
	return sh_spool_batch_commit(&spool, db, err);
}

/* Checks the actor's role in the space of a run's stack (into space). */
static int
require_run_role(struct sh_db *db, const struct sh_actor *actor,
		 const struct sh_run *run, enum sh_role need,
		 char space[SH_SLUG_MAX + 1], struct sh_err *err)
{
	static const char sql[] = "SELECT space FROM stacks WHERE id = $1";
	struct sh_authz *az = NULL;
	char what[SH_RUN_ID_LEN + 8];
	struct sh_stmt *st;
	int rc = sh_db_query(db, sql, &st, err, "t", run->stack);

	space[0] = '\0';
	if (rc < 0)
		return -1;
	if (rc == 1) {
		snprintf(space, SH_SLUG_MAX + 1, "%s", sh_stmt_text(st, 0));
		sh_stmt_release(st);
	}
	if (sh_authz_load(db, actor->user_id, &az, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "run %s", run->id);
	rc = sh_spaces_require(az, space, need, what, err);
	sh_authz_free(az);
	return rc;
}

struct transition_call {
	const struct sh_actor *actor;
	const char *id;
	struct change change;
	struct sh_run run;
};

static int
do_transition(struct sh_db *db, const struct sh_config *cfg, void *arg,
	      struct sh_spool_batch *spool, struct sh_err *err)
{
	struct transition_call *call = arg;
	char space[SH_SLUG_MAX + 1], detail[48];

	if (sh_runs_find(db, call->id, &call->run, err) < 0 ||
	    require_run_role(db, call->actor, &call->run, SH_ROLE_WRITE, space, err) < 0)
		return -1;
	snprintf(detail, sizeof(detail), "%s -> %s", call->run.state,
		 call->change.state);
	if (apply(db, cfg, &call->run, &call->change, spool, err) < 0)
		return -1;
	return sh_audit_actor(db, call->actor, "transition", "run", call->run.id,
			      space, detail, err);
}

static int
read_change(const cJSON *body, struct change *c, struct sh_err *err)
{
	const cJSON *summary = cJSON_GetObjectItemCaseSensitive(body, "summary");
	static const char *const states[] = {
		"queued", "preparing", "planning", "unconfirmed", "confirmed",
		"applying", "finished", "failed", "canceled", "discarded"};
	bool known = false;

	memset(c, 0, sizeof(*c));
	if (sh_json_check(body, transition_fields,
			  sizeof(transition_fields) / sizeof(transition_fields[0]),
			  SH_JSON_CREATE, err) < 0)
		return -1;
	c->state = sh_json_str(body, "state");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		known = known || strcmp(states[i], c->state) == 0;
	if (!known)
		return sh_err_set(err, SH_E_INVALID_FIELD, "state",
				  "state %.16s is not a run state", c->state);
	if (summary != NULL) {
		if (sh_json_check(summary, summary_fields, 3, SH_JSON_CREATE, err) < 0) {
			char path[SH_ERR_FIELD_MAX + 16];

			snprintf(path, sizeof(path), "summary.%s", err->field);
			snprintf(err->field, sizeof(err->field), "%.*s",
				 SH_ERR_FIELD_MAX - 1, path);
			return -1;
		}
		c->has_summary = true;
		c->add = (int64_t)cJSON_GetObjectItem(summary, "add")->valuedouble;
		c->change = (int64_t)cJSON_GetObjectItem(summary, "change")->valuedouble;
		c->destroy = (int64_t)cJSON_GetObjectItem(summary, "destroy")->valuedouble;
	}
	c->plan = sh_json_str(body, "plan");
	c->commit = sh_json_str(body, "commit");
	c->message = sh_json_str(body, "message");
	if (c->commit != NULL && !sh_git_sha_valid(c->commit))
		return sh_err_set(err, SH_E_INVALID_FIELD, "commit",
				  "commit must be 40 hexadecimal digits");
	return 0;
}

int
sh_runs_transition(struct sh_db *db, const struct sh_config *cfg,
		   const struct sh_actor *actor, const char *id, const cJSON *body,
		   cJSON **out, struct sh_err *err)
{
	struct transition_call call = {.actor = actor, .id = id};

	*out = NULL;
	if (read_change(body, &call.change, err) < 0 ||
	    with_spool(db, cfg, do_transition, &call, err) < 0)
		return -1;
	*out = sh_runs_json(db, &call.run);
	return 0;
}

struct manual_call {
	const struct sh_actor *actor;
	const char *stack;
	const char *commit;
	const char *ref;
	struct sh_run run;
};

static int
do_manual(struct sh_db *db, const struct sh_config *cfg, void *arg,
	  struct sh_spool_batch *spool, struct sh_err *err)
{
	static const char sql[] =
		"SELECT s.space, s.branch, s.integration_id, s.project_id, "
		"s.namespace || '/' || s.repository FROM stacks s WHERE s.id = $1";
	struct manual_call *call = arg;
	struct sh_run_request req = {0};
	char space[SH_SLUG_MAX + 1], branch[SH_GIT_REF_MAX + 1];
	char path[SH_PROJECT_PATH_MAX + 1], what[SH_SLUG_MAX + 16];
	struct sh_authz *az = NULL;
	struct sh_stmt *st;
	bool created, new_mr;
	int rc = sh_db_query(db, sql, &st, err, "t", call->stack);

	if (rc == 0)
		return sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no stack %.64s",
				  call->stack);
	if (rc < 0)
		return -1;
	snprintf(space, sizeof(space), "%s", sh_stmt_text(st, 0));
	snprintf(branch, sizeof(branch), "%s", sh_stmt_text(st, 1));
	req.integration_id = sh_stmt_int(st, 2);
	req.project_id = sh_stmt_int(st, 3);
	snprintf(path, sizeof(path), "%s", sh_stmt_text(st, 4));
	sh_stmt_release(st);
	if (sh_authz_load(db, call->actor->user_id, &az, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "stack %.64s", call->stack);
	rc = sh_spaces_require(az, space, SH_ROLE_WRITE, what, err);
	sh_authz_free(az);
	if (rc < 0)
		return -1;
	if (req.integration_id == 0)
		return sh_err_set(err, SH_E_STACK_DETACHED, NULL,
				  "stack %s has no integration: attach one first",
				  call->stack);
	req.stack = call->stack;
	req.kind = SH_RUN_TRACKED;
	req.trigger = SH_TRIGGER_MANUAL;
	req.sha = call->commit;
	req.ref = call->ref ? call->ref : branch;
	req.project_path = path;
	if (sh_runs_create_or_join(db, &req, &call->run, &created, &new_mr, err) < 0)
		return -1;
	if (!created)
		return sh_err_set(err, SH_E_CONFLICT, "commit",
				  "run %s already exists for this commit",
				  call->run.id);
	if (sh_audit_actor(db, call->actor, "create", "run", call->run.id, space,
			   call->stack, err) < 0)
		return -1;
	if (call->run.sha[0] == '\0')
		return 0;
	return queue(spool, sh_updates_commit_status(cfg, &call->run), err);
}

int
sh_runs_create_manual(struct sh_db *db, const struct sh_config *cfg,
		      const struct sh_actor *actor, const char *stack,
		      const cJSON *body, cJSON **out, struct sh_err *err)
{
	struct manual_call call = {.actor = actor, .stack = stack};

	*out = NULL;
	if (sh_json_check(body, manual_fields, 2, SH_JSON_CREATE, err) < 0)
		return -1;
	call.commit = sh_json_str(body, "commit");
	call.ref = sh_json_str(body, "ref");
	if (call.commit != NULL && !sh_git_sha_valid(call.commit))
		return sh_err_set(err, SH_E_INVALID_FIELD, "commit",
				  "commit must be 40 hexadecimal digits");
	if (call.ref != NULL && !sh_git_ref_name_valid(call.ref))
		return sh_err_set(err, SH_E_INVALID_FIELD, "ref",
				  "ref must be a valid branch or tag name");
	if (with_spool(db, cfg, do_manual, &call, err) < 0)
		return -1;
	*out = sh_runs_json(db, &call.run);
	return 0;
}

struct expire_call {
	int64_t cutoff;
	int count;
};

static int
do_expire(struct sh_db *db, const struct sh_config *cfg, void *arg,
	  struct sh_spool_batch *spool, struct sh_err *err)
{
	static const char sql[] =
		"SELECT id FROM runs WHERE state NOT IN "
		"('finished','failed','canceled','discarded') AND updated_at < $1 "
		"ORDER BY seq LIMIT 1000";
	struct expire_call *call = arg;
	const struct change timed_out = {.state = "failed", .message = "timed out",
					 .forced = true};
	char (*ids)[SH_RUN_ID_LEN + 1] = NULL;
	struct sh_stmt *st;
	size_t n = 0;
	int rc;

	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_int(st, 1, call->cutoff);
	while ((rc = sh_stmt_step(st, err)) == 1) {
		char (*grown)[SH_RUN_ID_LEN + 1] = realloc(ids, (n + 1) * sizeof(*ids));

		if (grown == NULL) {
			rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			break;
		}
		ids = grown;
		snprintf(ids[n++], SH_RUN_ID_LEN + 1, "%s", sh_stmt_text(st, 0));
	}
	sh_stmt_release(st);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct sh_run run;

		if (sh_runs_find(db, ids[i], &run, err) < 0 ||
		    apply(db, cfg, &run, &timed_out, spool, err) < 0)
			rc = -1;
	}
	free(ids);
	call->count = rc == 0 ? (int)n : 0;
	return rc;
}

int
sh_runs_expire(struct sh_db *db, const struct sh_config *cfg, int64_t now,
	       int *count, struct sh_err *err)
{
	struct expire_call call = {.cutoff = now - cfg->run_timeout};
	int rc = with_spool(db, cfg, do_expire, &call, err);

	*count = call.count;
	return rc;
}
