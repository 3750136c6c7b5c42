/* Operations routes (SPEC §4.3): /healthz. */
#include "config.h"

#include <stdio.h>

#include "router.h"

static void
add_check(cJSON *checks, struct sh_buf *summary, const char *name,
	  const char *reason)
{
	cJSON_AddStringToObject(checks, name, reason[0] ? reason : "ok");
	if (reason[0] != '\0')
		sh_buf_printf(summary, "%s%s: %s", summary->len ? "; " : "", name,
			      reason);
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
	if (!health.ok) {
		error = cJSON_AddObjectToObject(root, "error");
		cJSON_AddStringToObject(error, "code", "storage_unavailable");
		cJSON_AddStringToObject(error, "message", sh_buf_str(&summary));
	}
	sh_buf_release(&summary);
	sh_http_json(ctx->resp, health.ok ? 200 : 503, root);
}
