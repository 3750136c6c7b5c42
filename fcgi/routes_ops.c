/* Operations routes (SPEC §4.3): /healthz and /metrics. */
#include "config.h"

#include <stdio.h>

#include "router.h"
#include "stackhook/metrics.h"
#include "stackhook/spool.h"
#include "stackhook/timeutil.h"

static void
add_check(cJSON *checks, struct sh_buf *summary, const char *name,
	  const char *reason)
{
	cJSON_AddStringToObject(checks, name, reason[0] ? reason : "ok");
	if (reason[0] != '\0')
		sh_buf_printf(summary, "%s%s: %s", summary->len ? "; " : "", name,
			      reason);
}

/* How much waits in the spool, for an operator's glance. */
static void
add_spool(cJSON *root, const char *spool)
{
	struct sh_spool_stats stats;
	cJSON *o;

	if (sh_spool_stats(spool, 0, &stats, NULL) < 0)
		return;
	o = cJSON_AddObjectToObject(root, "spool");
	for (int i = 0; i < SH_SPOOL_DIR_COUNT; i++)
		cJSON_AddNumberToObject(o, sh_spool_dirs[i], (double)stats.entries[i]);
	cJSON_AddNumberToObject(o, "oldest_seconds",
				stats.oldest ? (double)(sh_time_now() - stats.oldest) : 0);
}

void
sh_route_metrics(struct sh_route_ctx *ctx)
{
	struct sh_err err;

	sh_err_clear(&err);
	sh_buf_release(&ctx->resp->body);
	if (sh_metrics_render(ctx->db, ctx->inst->cfg->spool, &ctx->resp->body,
			      &err) < 0) {
		sh_http_error(ctx->resp, &err);
		return;
	}
	ctx->resp->status = 200;
	ctx->resp->content_type = "text/plain; version=0.0.4";
}

void
sh_route_healthz(struct sh_route_ctx *ctx)
{
	struct sh_buf summary = SH_BUF_INIT;
	struct sh_health health;
	cJSON *root, *checks, *error;

	sh_instance_health(ctx->inst, &health);
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "status", health.ok ? "ok" : "unavailable");
	checks = cJSON_AddObjectToObject(root, "checks");
	add_check(checks, &summary, "database", health.database);
	add_check(checks, &summary, "spool", health.spool);
	add_check(checks, &summary, "secret_key", health.secret_key);
	add_spool(root, ctx->inst->cfg->spool);
	if (!health.ok) {
		error = cJSON_AddObjectToObject(root, "error");
		cJSON_AddStringToObject(error, "code", "storage_unavailable");
		cJSON_AddStringToObject(error, "message", sh_buf_str(&summary));
	}
	sh_buf_release(&summary);
	sh_http_json(ctx->resp, health.ok ? 200 : 503, root);
}
