#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "stackhook/crypto.h"
#include "stackhook/ingest.h"
#include "stackhook/log.h"
#include "stackhook/metrics.h"
#include "stackhook/slug.h"
#include "stackhook/spool.h"
#include "stackhook/timeutil.h"
#include "stackhook/transitions.h"
#include "stackhook/updates.h"

#define SAME_EVENT_WINDOW 600 /* seconds: two hooks deliver the same push */

void
sh_delivery_init(struct sh_delivery *d, const struct sh_webhook_request *req)
{
	memset(d, 0, sizeof(*d));
	d->request = req;
}

void
sh_delivery_release(struct sh_delivery *d)
{
	sh_integrations_secrets_release(&d->secrets);
	sh_webhook_event_release(&d->event);
	cJSON_Delete(d->body);
	free(d->runs);
	d->body = NULL;
	d->runs = NULL;
}

int
sh_ingest_authenticate(struct sh_db *db, const unsigned char *secret_key,
		       struct sh_delivery *d, struct sh_err *err)
{
	const char *token = d->request->token;
	struct sh_err ignored;

	if (sh_slug_check(d->request->slug, "slug", &ignored) < 0)
		return sh_err_set(err, SH_E_NOT_FOUND, NULL,
				  "there is no integration at this address");
	if (sh_integrations_webhook_secrets(db, secret_key, d->request->slug,
					    &d->secrets, err) < 0)
		return -1;
	/* The received token is never logged or echoed, whatever it holds. */
	if (token == NULL ||
	    !sh_crypto_equal(token, strlen(token), d->secrets.webhook_secret,
			     d->secrets.webhook_secret_len))
		return sh_err_set(err, SH_E_UNAUTHORIZED, NULL,
				  "X-Gitlab-Token is missing or is not this "
				  "integration's webhook secret");
	return 0;
}

/* Standard Webhooks: HMAC-SHA256 of "id.timestamp.body", base64, listed
 * among the space-separated "v1,<base64>" entries of webhook-signature. */
static int
check_signature(const struct sh_delivery *d, const char *body, size_t len,
		int64_t now, struct sh_err *err)
{
	const struct sh_webhook_request *r = d->request;
	unsigned char mac[SH_SHA256_LEN];
	char expected[64];
	struct sh_buf signed_text = SH_BUF_INIT;
	const char *p;
	char *end;
	long long ts;
	bool valid = false;

	if (r->webhook_id == NULL || r->webhook_timestamp == NULL ||
	    r->webhook_signature == NULL)
		return sh_err_set(err, SH_E_UNAUTHORIZED, NULL,
				  "this integration signs its webhooks: webhook-id, "
				  "webhook-timestamp and webhook-signature are required");
	ts = strtoll(r->webhook_timestamp, &end, 10);
	if (!isdigit((unsigned char)r->webhook_timestamp[0]) || *end != '\0' ||
	    ts < now - SH_SIGNATURE_TOLERANCE || ts > now + SH_SIGNATURE_TOLERANCE)
		return sh_err_set(err, SH_E_UNAUTHORIZED, NULL,
				  "webhook-timestamp is not within 5 minutes of now");
	if (sh_buf_printf(&signed_text, "%s.%s.", r->webhook_id,
			  r->webhook_timestamp) < 0 ||
	    sh_buf_append(&signed_text, body, len) < 0 ||
	    sh_crypto_hmac_sha256(d->secrets.signing_key, d->secrets.signing_key_len,
				  signed_text.data, signed_text.len, mac, err) < 0) {
		sh_buf_release(&signed_text);
		return sh_err_set(err, SH_E_INTERNAL, NULL, "cannot compute signature");
	}
	sh_buf_release(&signed_text);
	EVP_EncodeBlock((unsigned char *)expected, mac, SH_SHA256_LEN);
	for (p = r->webhook_signature; *p != '\0';) {
		size_t n = strcspn(p, " ");

		if (n > 3 && strncmp(p, "v1,", 3) == 0 &&
		    sh_crypto_equal(p + 3, n - 3, expected, strlen(expected)))
			valid = true;
		p += n;
		p += strspn(p, " ");
	}
	if (!valid)
		return sh_err_set(err, SH_E_UNAUTHORIZED, NULL,
				  "webhook-signature does not match the body");
	return 0;
}

/* Idempotency-Key when GitLab sent one (>= 17.4), else the body's hash. */
static int
delivery_key(struct sh_delivery *d, const char *body, size_t len,
	     struct sh_err *err)
{
	const char *key = d->request->idempotency_key;
	char hash[SH_SHA256_HEX_LEN + 1];

	if (key == NULL || key[0] == '\0') {
		sh_crypto_sha256_hex(body, len, hash);
		snprintf(d->key, sizeof(d->key), "sha256:%s", hash);
		return 0;
	}
	if (strlen(key) > SH_DELIVERY_KEY_MAX)
		return sh_err_set(err, SH_E_BAD_REQUEST, NULL,
				  "Idempotency-Key is longer than %d characters",
				  SH_DELIVERY_KEY_MAX);
	for (const char *p = key; *p; p++)
		if (!isgraph((unsigned char)*p))
			return sh_err_set(err, SH_E_BAD_REQUEST, NULL,
					  "Idempotency-Key must be printable");
	snprintf(d->key, sizeof(d->key), "%s", key);
	return 0;
}

int
sh_ingest_parse(struct sh_delivery *d, const char *body, size_t len,
		struct sh_err *err)
{
	if (d->secrets.signing_key != NULL &&
	    check_signature(d, body, len, sh_time_now(), err) < 0)
		return -1;
	if (delivery_key(d, body, len, err) < 0 ||
	    sh_json_parse_object(body, len, &d->body, err) < 0 ||
	    sh_webhook_parse(d->body, &d->event, err) < 0)
		return -1;
	return 0;
}

/* A stack following the delivery's project. */
struct target {
	char id[SH_SLUG_MAX + 1];
	char branch[SH_GIT_REF_MAX + 1];
	char root[SH_GIT_PATH_MAX + 1];
	bool is_module;
};

/* Reads the rows of a query sh_db_query() started (rc its result) into a
 * new array, releasing the statement. */
static int
collect_targets(struct sh_stmt *st, int rc, struct target **out, size_t *n,
		struct sh_err *err)
{
	struct target *list = NULL, *grown;
	bool borrowed = rc == 1;

	*n = 0;
	while (rc == 1 && *n < SH_INGEST_STACKS_MAX) {
		grown = realloc(list, (*n + 1) * sizeof(*list));
		if (grown == NULL) {
			rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			break;
		}
		list = grown;
		snprintf(list[*n].id, sizeof(list[*n].id), "%s", sh_stmt_text(st, 0));
		list[*n].is_module = strcmp(sh_stmt_text(st, 1), "module") == 0;
		snprintf(list[*n].branch, sizeof(list[*n].branch), "%s",
			 sh_stmt_text(st, 2));
		snprintf(list[*n].root, sizeof(list[*n].root), "%s",
			 sh_stmt_text(st, 3));
		(*n)++;
		rc = sh_stmt_step(st, err);
	}
	if (borrowed)
		sh_stmt_release(st);
	if (rc < 0) {
		free(list);
		*n = 0;
		return -1;
	}
	*out = list;
	return 0;
}

/*
 * The stacks following the delivery's project: by path first; only when
 * none does, by the project id remembered from earlier deliveries (the
 * project was renamed or moved: the stored path follows it).
 */
static int
match_stacks(struct sh_db *db, int64_t integration_id, const struct sh_event *ev,
	     struct target **out, size_t *n, struct sh_err *err)
{
	static const char sql_by_path[] =
		"SELECT id, kind, branch, project_root FROM stacks "
		"WHERE integration_id = $1 AND project_key = $2 ORDER BY id";
	static const char sql_by_id[] =
		"SELECT id, kind, branch, project_root FROM stacks "
		"WHERE integration_id = $1 AND project_id = $2 ORDER BY id";
	static const char sql_learn_id[] =
		"UPDATE stacks SET project_id = $1 WHERE integration_id = $2 "
		"AND project_key = $3 AND (project_id IS NULL OR project_id <> $1)";
	static const char sql_follow[] =
		"UPDATE stacks SET namespace = $1, repository = $2, project_key = $3 "
		"WHERE integration_id = $4 AND project_id = $5";
	char key[SH_PROJECT_PATH_MAX + 1], ns[SH_PROJECT_PATH_MAX + 1];
	struct sh_stmt *st;
	const char *slash;
	int rc;

	*out = NULL;
	for (size_t i = 0; i <= strlen(ev->project_path); i++)
		key[i] = (char)tolower((unsigned char)ev->project_path[i]);
	rc = sh_db_query(db, sql_by_path, &st, err, "it", integration_id, key);
	if (collect_targets(st, rc, out, n, err) < 0)
		return -1;
	if (*n > 0)
		return sh_db_run(db, sql_learn_id, err, "iit", ev->project_id,
				 integration_id, key) < 0 ? -1 : 0;
	rc = sh_db_query(db, sql_by_id, &st, err, "ii", integration_id,
			 ev->project_id);
	if (collect_targets(st, rc, out, n, err) < 0)
		return -1;
	if (*n == 0)
		return 0;
	slash = strrchr(ev->project_path, '/');
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - ev->project_path),
		 ev->project_path);
	if (sh_db_run(db, sql_follow, err, "tttii", ns, slash + 1, key,
		      integration_id, ev->project_id) < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Joins the reasons of the stacks that ignored the delivery. */
static void
add_reason(char *dst, size_t size, const char *reason)
{
	size_t n = strlen(dst);

	if (n + 3 >= size)
		return;
	snprintf(dst + n, size - n, "%s%s", n ? "; " : "", reason);
}

static int
queue_status(struct sh_spool_batch *spool, const struct sh_config *cfg,
	     const struct sh_run *run, struct sh_err *err)
{
	cJSON *entry = sh_updates_commit_status(cfg, run);
	int rc;

	if (entry == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	rc = sh_spool_batch_add(spool, entry, err);
	cJSON_Delete(entry);
	return rc;
}

static int
make_runs(struct sh_db *db, const struct sh_ingest_env *env,
	  struct sh_delivery *d, const struct sh_decision *decisions,
	  const struct target *targets, size_t n, struct sh_spool_batch *spool,
	  struct sh_err *err)
{
	d->runs = calloc(n, sizeof(*d->runs));
	if (d->runs == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct sh_run_request req = {
			.stack = targets[i].id,
			.kind = decisions[i].kind,
			.trigger = decisions[i].trigger,
			.sha = decisions[i].sha,
			.ref = decisions[i].ref,
			.mr_iid = decisions[i].mr_iid,
			.integration_id = d->secrets.ref.id,
			.project_id = d->event.project_id,
			.project_path = d->event.project_path,
			.delivery_id = d->id,
		};
		struct sh_ingest_run *out = &d->runs[d->run_count];
		struct sh_run run;
		bool created, new_mr;

		if (!decisions[i].run)
			continue;
		if (sh_runs_create_or_join(db, &req, &run, &created, &new_mr, err) < 0)
			return -1;
		snprintf(out->id, sizeof(out->id), "%s", run.id);
		snprintf(out->stack, sizeof(out->stack), "%s", run.stack);
		out->kind = run.kind;
		out->created = created;
		d->run_count++;
		if (created && queue_status(spool, env->cfg, &run, err) < 0)
			return -1;
		/* A merge request joining a proposed run that has ended gets
		 * its comment now. */
		if (!created && new_mr && run.kind == SH_RUN_PROPOSED &&
		    (strcmp(run.state, "finished") == 0 ||
		     strcmp(run.state, "failed") == 0) &&
		    sh_runs_queue_note(db, env->cfg, &run, &req.mr_iid, 1, spool,
				       err) < 0)
			return -1;
	}
	return 0;
}

static int
commit_one(struct sh_db *db, const struct sh_ingest_env *env, int64_t now,
	   struct sh_delivery *d, struct sh_spool_batch *spool, struct sh_err *err)
{
	struct sh_delivery_record rec = {
		.integration_id = d->secrets.ref.id,
		.key = d->key,
		.event_uuid = d->request->event_uuid,
		.event_header = d->request->event_header,
		.kind = d->event.object_kind,
		.project_id = d->event.project_id,
		.project_path = d->event.project_path[0] ? d->event.project_path : NULL,
		.ref = d->event.ref[0] ? d->event.ref :
		       (d->event.source_branch[0] ? d->event.source_branch : NULL),
		.before = d->event.before[0] ? d->event.before : NULL,
		.after = d->event.after[0] ? d->event.after :
			 (d->event.last_commit[0] ? d->event.last_commit : NULL),
		.remote_addr = d->request->remote_addr,
		.received_at = now,
	};
	struct sh_decision *decisions = NULL;
	struct target *targets = NULL;
	char counter[32];
	size_t n = 0, runs = 0;
	int64_t seen;
	int rc = -1;

	d->reason[0] = '\0';
	if (sh_deliveries_seen(db, rec.integration_id, d->key,
			       now - env->cfg->delivery_retention, &seen, err) < 0)
		return -1;
	if (seen != 0) {
		d->outcome = SH_DELIVERY_DUPLICATE;
		snprintf(d->reason, sizeof(d->reason), "already received as delivery %lld",
			 (long long)seen);
	} else if (d->event.ignored) {
		d->outcome = SH_DELIVERY_IGNORED;
		snprintf(d->reason, sizeof(d->reason), "%s", d->event.reason);
	} else {
		if (match_stacks(db, rec.integration_id, &d->event, &targets, &n, err) < 0)
			goto out;
		decisions = calloc(n + 1, sizeof(*decisions));
		if (decisions == NULL) {
			sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			struct sh_stack_target t = {targets[i].id, targets[i].is_module,
						    targets[i].branch, targets[i].root};

			sh_webhook_decide(&d->event, &t, &decisions[i]);
			if (decisions[i].run)
				runs++;
			else
				add_reason(d->reason, sizeof(d->reason),
					   decisions[i].reason);
		}
		if (n == 0)
			snprintf(d->reason, sizeof(d->reason),
				 "no stack follows %s through this integration",
				 d->event.project_path);
		d->outcome = runs > 0 ? SH_DELIVERY_ACCEPTED : SH_DELIVERY_IGNORED;
		if (runs > 0)
			d->reason[0] = '\0';
		if (sh_deliveries_same_event(db, &rec, now - SAME_EVENT_WINDOW,
					     &rec.suspected_duplicate_hook, err) < 0)
			goto out;
	}
	rec.outcome = d->outcome;
	rec.reason = d->reason[0] ? d->reason : NULL;
	snprintf(counter, sizeof(counter), "deliveries_%s",
		 sh_delivery_outcome_name(d->outcome));
	if (sh_deliveries_insert(db, &rec, &d->id, err) < 0 ||
	    sh_metrics_add(db, counter, 1, err) < 0 ||
	    (runs > 0 && make_runs(db, env, d, decisions, targets, n, spool, err) < 0))
		goto out;
	if (rec.suspected_duplicate_hook)
		sh_log(LOG_WARNING,
		       "webhook: integration %s: project %s sent the same event "
		       "twice: it may have more than one webhook",
		       d->secrets.ref.slug, d->event.project_path);
	rc = 0;
out:
	free(decisions);
	free(targets);
	return rc;
}

int
sh_ingest_commit(struct sh_db *db, const struct sh_ingest_env *env,
		 struct sh_delivery **batch, size_t count, struct sh_err *err)
{
	struct sh_spool_batch spool;
	int64_t now = env->now ? env->now : sh_time_now();

	sh_spool_batch_init(&spool, env->cfg->spool);
	if (sh_db_begin(db, err) < 0)
		goto fail_nodb;
	/* deliveries / batches is the group commit's batch size. */
	if (sh_metrics_add(db, "ingest_batches", 1, err) < 0)
		goto fail;
	for (size_t i = 0; i < count; i++) {
		batch[i]->run_count = 0;
		if (commit_one(db, env, now, batch[i], &spool, err) < 0)
			goto fail;
	}
	/* A 2xx never precedes the pending statuses: see spool.h. */
	if (sh_spool_batch_commit(&spool, db, err) < 0)
		goto fail_released;
	for (size_t i = 0; i < count; i++)
		batch[i]->committed = true;
	return 0;
fail:
	sh_db_rollback(db);
	sh_spool_batch_abort(&spool);
fail_nodb:
	sh_spool_batch_release(&spool);
fail_released:
	for (size_t i = 0; i < count; i++) {
		free(batch[i]->runs);
		batch[i]->runs = NULL;
		batch[i]->run_count = 0;
	}
	return -1;
}

cJSON *
sh_ingest_answer(const struct sh_delivery *d, int *status)
{
	cJSON *o = cJSON_CreateObject(), *runs;
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)d->id);
	switch (d->outcome) {
	case SH_DELIVERY_ACCEPTED:
		*status = 202;
		cJSON_AddStringToObject(o, "status", "accepted");
		cJSON_AddStringToObject(o, "delivery", id);
		runs = cJSON_AddArrayToObject(o, "runs");
		for (size_t i = 0; i < d->run_count; i++) {
			cJSON *r = cJSON_CreateObject();

			cJSON_AddStringToObject(r, "id", d->runs[i].id);
			cJSON_AddStringToObject(r, "stack", d->runs[i].stack);
			cJSON_AddStringToObject(r, "kind", sh_run_kind_name(d->runs[i].kind));
			cJSON_AddBoolToObject(r, "created", d->runs[i].created);
			cJSON_AddItemToArray(runs, r);
		}
		break;
	case SH_DELIVERY_IGNORED:
		*status = 200;
		cJSON_AddStringToObject(o, "status", "ignored");
		cJSON_AddStringToObject(o, "reason", d->reason);
		cJSON_AddStringToObject(o, "delivery", id);
		break;
	case SH_DELIVERY_DUPLICATE:
		*status = 200;
		cJSON_AddStringToObject(o, "status", "duplicate");
		cJSON_AddStringToObject(o, "delivery", id);
		break;
	}
	return o;
}
