/* POST /webhooks/gitlab/{slug} (SPEC §4.1). */
#include "config.h"

#include "router.h"
#include "stackhook/committer.h"
#include "stackhook/ingest.h"
#include "stackhook/log.h"
#include "stackhook/metrics.h"

#include <stdio.h>

#define STORAGE_RETRY_AFTER "30"

/* Refusals are logged (never with the received token) and answered. */
static void
refuse(struct sh_route_ctx *ctx, const struct sh_webhook_request *wr,
       const struct sh_err *err)
{
	sh_log(LOG_INFO, "webhook: %.64s: refused (%s): %s", wr->slug,
	       sh_err_code_name(err->code), err->msg);
	sh_metrics_add(ctx->db, "deliveries_refused", 1, NULL);
	sh_http_error(ctx->resp, err);
}

/* Best effort, and without waiting: the database may be what refused
 * the write, and the 503 has already waited busy_timeout for it (the log
 * line storage_failure() writes is the record that does not depend on the
 * database). */
static void
count_storage_refusal(struct sh_route_ctx *ctx, const struct sh_delivery *d)
{
	char name[48];

	if (sh_db_set_busy_timeout(ctx->db, 0, NULL) < 0)
		return;
	if (sh_metrics_add(ctx->db, "storage_refusals", 1, NULL) == 0 &&
	    d->secrets.ref.id > 0) {
		snprintf(name, sizeof(name), "storage_refusals:%lld",
			 (long long)d->secrets.ref.id);
		sh_metrics_add(ctx->db, name, 1, NULL);
	}
	sh_db_set_busy_timeout(ctx->db, ctx->inst->cfg->busy_timeout_ms, NULL);
}

/*
 * The delivery could not be stored (SPEC §4.1 step 9): 503 with
 * Retry-After, a log line with the key an admin resends it by from
 * GitLab's recent events, the refusal counted, and the connection
 * dropped so the next request opens a fresh one.
 */
static void
storage_failure(struct sh_route_ctx *ctx, const struct sh_webhook_request *wr,
		const struct sh_delivery *d, struct sh_err *err)
{
	const char *key = wr->idempotency_key ? wr->idempotency_key :
			  d->key[0] ? d->key : "(no Idempotency-Key)";

	sh_log(LOG_ERR, "webhook: %.64s: delivery %.128s not stored, resend it from "
	       "GitLab's recent events: %s", wr->slug, key, err->msg);
	if (ctx->db != NULL) {
		count_storage_refusal(ctx, d);
		if (err->code == SH_E_STORAGE)
			sh_instance_db_reset(ctx->inst);
	}
	sh_http_header(ctx->resp, "Retry-After", STORAGE_RETRY_AFTER);
	err->code = SH_E_STORAGE;
	sh_http_error(ctx->resp, err);
}

void
sh_route_webhook(struct sh_route_ctx *ctx)
{
	struct sh_http_request *req = ctx->req;
	struct sh_webhook_request wr = {
		.slug = ctx->args[0],
		.token = sh_http_param(req, "HTTP_X_GITLAB_TOKEN"),
		.idempotency_key = sh_http_param(req, "HTTP_IDEMPOTENCY_KEY"),
		.event_uuid = sh_http_param(req, "HTTP_X_GITLAB_EVENT_UUID"),
		.event_header = sh_http_param(req, "HTTP_X_GITLAB_EVENT"),
		.webhook_id = sh_http_param(req, "HTTP_WEBHOOK_ID"),
		.webhook_timestamp = sh_http_param(req, "HTTP_WEBHOOK_TIMESTAMP"),
		.webhook_signature = sh_http_param(req, "HTTP_WEBHOOK_SIGNATURE"),
		.remote_addr = req->remote_addr,
	};
	struct sh_committer *committer;
	const unsigned char *key;
	struct sh_delivery d;
	struct sh_err err;
	cJSON *answer;
	int status;

	sh_err_clear(&err);
	sh_delivery_init(&d, &wr);
	if (sh_instance_key(ctx->inst, &key, &err) < 0) {
		sh_http_error(ctx->resp, &err);
		goto out;
	}
	/* The database is opened here, not by the router, so that every
	 * storage failure of a delivery is answered the same way. */
	if (sh_instance_db(ctx->inst, &ctx->db, &err) < 0) {
		storage_failure(ctx, &wr, &d, &err);
		goto out;
	}
	/* Token first: a stranger's body is never read. */
	if (sh_ingest_authenticate(ctx->db, key, &d, &err) < 0 ||
	    sh_http_read_body(req, ctx->inst->cfg->max_body, &err) < 0 ||
	    sh_ingest_parse(&d, req->body, req->body_len, &err) < 0) {
		if (err.code == SH_E_STORAGE)
			storage_failure(ctx, &wr, &d, &err);
		else if (err.code == SH_E_INTERNAL)
			sh_http_error(ctx->resp, &err);
		else
			refuse(ctx, &wr, &err);
		goto out;
	}
	if (sh_instance_committer(ctx->inst, &committer, &err) < 0 ||
	    sh_committer_submit(committer, &d, &err) < 0) {
		storage_failure(ctx, &wr, &d, &err);
		goto out;
	}
	answer = sh_ingest_answer(&d, &status);
	sh_http_json(ctx->resp, status, answer);
out:
	sh_delivery_release(&d);
}
