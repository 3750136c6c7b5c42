#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/crypto.h"
#include "stackhook/runs.h"
#include "stackhook/spaces.h"
#include "stackhook/timeutil.h"

#define RUN_COLUMNS                                                           \
	"r.seq, r.id, r.stack, r.kind, r.trigger, r.sha, r.ref, r.state, "        \
	"r.summary_add IS NOT NULL, r.summary_add, r.summary_change, "            \
	"r.summary_destroy, r.integration_id, r.project_id, r.project_path, "      \
	"r.delivery_id, r.created_at, r.updated_at"
#define RUN_SELECT "SELECT " RUN_COLUMNS " FROM runs r "
enum { C_SEQ, C_ID, C_STACK, C_KIND, C_TRIGGER, C_SHA, C_REF, C_STATE,
       C_HAS_SUMMARY, C_ADD, C_CHANGE, C_DESTROY, C_INTEGRATION, C_PROJECT_ID,
       C_PROJECT_PATH, C_DELIVERY, C_CREATED, C_UPDATED, C_SPACE };

static void
copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static enum sh_trigger
parse_trigger(const char *text)
{
	for (int t = SH_TRIGGER_PUSH; t <= SH_TRIGGER_MANUAL; t++)
		if (text != NULL && strcmp(text, sh_trigger_name(t)) == 0)
			return (enum sh_trigger)t;
	return SH_TRIGGER_MANUAL;
}

static void
read_run(struct sh_stmt *st, struct sh_run *run)
{
	memset(run, 0, sizeof(*run));
	run->seq = sh_stmt_int(st, C_SEQ);
	copy(run->id, sizeof(run->id), sh_stmt_text(st, C_ID));
	copy(run->stack, sizeof(run->stack), sh_stmt_text(st, C_STACK));
	run->kind = strcmp(sh_stmt_text(st, C_KIND), "tracked") == 0 ? SH_RUN_TRACKED :
								       SH_RUN_PROPOSED;
	run->trigger = parse_trigger(sh_stmt_text(st, C_TRIGGER));
	copy(run->sha, sizeof(run->sha), sh_stmt_text(st, C_SHA));
	copy(run->ref, sizeof(run->ref), sh_stmt_text(st, C_REF));
	copy(run->state, sizeof(run->state), sh_stmt_text(st, C_STATE));
	run->has_summary = sh_stmt_int(st, C_HAS_SUMMARY) != 0;
	run->add = sh_stmt_int(st, C_ADD);
	run->change = sh_stmt_int(st, C_CHANGE);
	run->destroy = sh_stmt_int(st, C_DESTROY);
	run->integration_id = sh_stmt_int(st, C_INTEGRATION);
	run->project_id = sh_stmt_int(st, C_PROJECT_ID);
	copy(run->project_path, sizeof(run->project_path),
	     sh_stmt_text(st, C_PROJECT_PATH));
	run->delivery_id = sh_stmt_int(st, C_DELIVERY);
	run->created_at = sh_stmt_int(st, C_CREATED);
	run->updated_at = sh_stmt_int(st, C_UPDATED);
}

/* 16 characters of lowercase base32 from the CSPRNG (80 bits). */
static int
new_run_id(char out[SH_RUN_ID_LEN + 1], struct sh_err *err)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char raw[SH_RUN_ID_LEN];

	if (sh_crypto_random(raw, sizeof(raw), err) < 0)
		return -1;
	for (int i = 0; i < SH_RUN_ID_LEN; i++)
		out[i] = alphabet[raw[i] & 31];
	out[SH_RUN_ID_LEN] = '\0';
	return 0;
}

int
sh_runs_find(struct sh_db *db, const char *id, struct sh_run *out,
	     struct sh_err *err)
{
	static const char sql[] = RUN_SELECT "WHERE r.id = $1";
	struct sh_stmt *st;
	int rc = sh_db_query(db, sql, &st, err, "t", id);

	if (rc == 0)
		return sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no run %.64s", id);
	if (rc < 0)
		return -1;
	read_run(st, out);
	sh_stmt_release(st);
	return 0;
}

static int
find_same(struct sh_db *db, const struct sh_run_request *req, struct sh_run *out,
	  struct sh_err *err)
{
	static const char sql[] =
		RUN_SELECT "WHERE r.stack = $1 AND r.sha = $2 AND r.kind = $3";
	struct sh_stmt *st;
	int rc = sh_db_query(db, sql, &st, err, "ttt", req->stack, req->sha,
			     sh_run_kind_name(req->kind));

	if (rc == 1) {
		read_run(st, out);
		sh_stmt_release(st);
	}
	return rc;
}

static int
add_merge_request(struct sh_db *db, int64_t seq, int64_t iid, bool *added,
		  struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO run_merge_requests (run_seq, iid) VALUES ($1, $2) "
		"ON CONFLICT (run_seq, iid) DO NOTHING";
	int64_t n = sh_db_run(db, sql, err, "ii", seq, iid);

	if (n < 0)
		return -1;
	*added = n > 0;
	return 0;
}

int
sh_runs_create_or_join(struct sh_db *db, const struct sh_run_request *req,
		       struct sh_run *out, bool *created, bool *new_mr,
		       struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO runs (id, stack, kind, trigger, sha, ref, state, "
		"delivery_id, integration_id, project_id, project_path, created_at, "
		"updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $10, "
		"$11, $11) ON CONFLICT DO NOTHING";
	char id[SH_RUN_ID_LEN + 1];
	bool sha_known = req->sha != NULL && req->sha[0] != '\0';
	int rc;

	*created = false;
	*new_mr = false;
	if (sha_known) {
		rc = find_same(db, req, out, err);
		if (rc < 0)
			return -1;
		if (rc == 1)
			goto merge_request;
	}
	if (new_run_id(id, err) < 0 ||
	    sh_db_run(db, sql, err, "tttt" "tt" "zz" "zt" "i", id, req->stack,
		      sh_run_kind_name(req->kind), sh_trigger_name(req->trigger),
		      sha_known ? req->sha : NULL, req->ref, req->delivery_id,
		      req->integration_id, req->project_id, req->project_path,
		      sh_time_now()) < 0 ||
	    sh_runs_find(db, id, out, err) < 0)
		return -1;
	*created = true;
merge_request:
	if (req->mr_iid > 0)
		return add_merge_request(db, out->seq, req->mr_iid, new_mr, err);
	return 0;
}

cJSON *
sh_runs_json(struct sh_db *db, const struct sh_run *run)
{
	static const char sql_mrs[] =
		"SELECT iid FROM run_merge_requests WHERE run_seq = $1 ORDER BY iid";
	cJSON *o = cJSON_CreateObject(), *mrs, *summary;
	struct sh_stmt *st;

	cJSON_AddStringToObject(o, "id", run->id);
	cJSON_AddStringToObject(o, "stack", run->stack);
	cJSON_AddStringToObject(o, "kind", sh_run_kind_name(run->kind));
	cJSON_AddStringToObject(o, "trigger", sh_trigger_name(run->trigger));
	if (run->sha[0] != '\0')
		cJSON_AddStringToObject(o, "sha", run->sha);
	else
		cJSON_AddNullToObject(o, "sha");
	cJSON_AddStringToObject(o, "ref", run->ref);
	mrs = cJSON_AddArrayToObject(o, "merge_requests");
	if (sh_db_prepare(db, sql_mrs, &st, NULL) == 0) {
		sh_stmt_bind_int(st, 1, run->seq);
		while (sh_stmt_step(st, NULL) == 1)
			cJSON_AddItemToArray(mrs, cJSON_CreateNumber(
							  (double)sh_stmt_int(st, 0)));
		sh_stmt_release(st);
	}
	cJSON_AddStringToObject(o, "state", run->state);
	if (run->has_summary) {
		summary = cJSON_AddObjectToObject(o, "summary");
		cJSON_AddNumberToObject(summary, "add", (double)run->add);
		cJSON_AddNumberToObject(summary, "change", (double)run->change);
		cJSON_AddNumberToObject(summary, "destroy", (double)run->destroy);
	} else {
		cJSON_AddNullToObject(o, "summary");
	}
	sh_json_add_time(o, "created_at", run->created_at);
	sh_json_add_time(o, "updated_at", run->updated_at);
	if (run->delivery_id > 0) {
		char id[24];

		snprintf(id, sizeof(id), "%lld", (long long)run->delivery_id);
		cJSON_AddStringToObject(o, "delivery", id);
	} else {
		cJSON_AddNullToObject(o, "delivery");
	}
	return o;
}

/* The space of a stack, or "" when the stack is gone. */
static int
stack_space(struct sh_db *db, const char *stack, char space[SH_SLUG_MAX + 1],
	    struct sh_err *err)
{
	static const char sql[] = "SELECT space FROM stacks WHERE id = $1";
	struct sh_stmt *st;
	int rc = sh_db_query(db, sql, &st, err, "t", stack);

	space[0] = '\0';
	if (rc == 1) {
		copy(space, SH_SLUG_MAX + 1, sh_stmt_text(st, 0));
		sh_stmt_release(st);
	}
	return rc < 0 ? -1 : 0;
}

int
sh_runs_get(struct sh_db *db, const struct sh_actor *actor, const char *id,
	    cJSON **out, struct sh_err *err)
{
	char space[SH_SLUG_MAX + 1];
	struct sh_authz *az = NULL;
	struct sh_run run;
	int rc = -1;

	*out = NULL;
	if (sh_runs_find(db, id, &run, err) < 0 ||
	    stack_space(db, run.stack, space, err) < 0 ||
	    sh_authz_load(db, actor->user_id, &az, err) < 0)
		goto out;
	if (sh_authz_role(az, space) < SH_ROLE_READ) {
		sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no run %.64s", id);
		goto out;
	}
	*out = sh_runs_json(db, &run);
	rc = 0;
out:
	sh_authz_free(az);
	return rc;
}

int
sh_runs_list(struct sh_db *db, const struct sh_actor *actor, const char *stack,
	     const char *state, const struct sh_page *page, cJSON **out,
	     struct sh_err *err)
{
	static const char sql[] =
		"SELECT " RUN_COLUMNS ", s.space FROM runs r "
		"JOIN stacks s ON s.id = r.stack WHERE r.seq < $1 "
		"AND (CAST($2 AS TEXT) IS NULL OR r.stack = $2) AND (CAST($3 AS TEXT) IS NULL OR r.state = $3) "
		"ORDER BY r.seq DESC";
	struct sh_authz *az = NULL;
	struct sh_stmt *st = NULL;
	cJSON *items = cJSON_CreateArray();
	struct sh_run *runs = NULL;
	size_t n = 0;
	long long next = 0;
	int rc = -1;

	*out = NULL;
	runs = calloc((size_t)page->limit + 1, sizeof(*runs));
	if (runs == NULL || sh_authz_load(db, actor->user_id, &az, err) < 0 ||
	    sh_db_prepare(db, sql, &st, err) < 0)
		goto out;
	sh_stmt_bind_int(st, 1, page->after > 0 ? page->after : INT64_MAX);
	sh_stmt_bind_text(st, 2, stack);
	sh_stmt_bind_text(st, 3, state);
	/* Rows are collected first: rendering queries the database too. */
	while ((rc = sh_stmt_step(st, err)) == 1) {
		if (sh_authz_role(az, sh_stmt_text(st, C_SPACE)) < SH_ROLE_READ)
			continue;
		if (n == (size_t)page->limit) {
			next = runs[n - 1].seq;
			break;
		}
		read_run(st, &runs[n++]);
	}
	sh_stmt_release(st);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(items, sh_runs_json(db, &runs[i]));
	*out = sh_page_result(items, next);
	items = NULL;
	rc = 0;
out:
	if (rc < 0 && runs == NULL)
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	cJSON_Delete(items);
	sh_authz_free(az);
	free(runs);
	return rc < 0 ? -1 : 0;
}
