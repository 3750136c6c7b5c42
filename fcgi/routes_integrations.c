/* /api/v1/integrations (SPEC §3, §4.2). */
#include "config.h"

#include "router.h"
#include "stackhook/integrations.h"

/* The config and secret key the integration calls need; writes a 500 and
 * returns -1 when the key cannot be read. */
static int
env_of(struct sh_route_ctx *ctx, struct sh_integration_env *env)
{
	struct sh_err err;

	sh_err_clear(&err);
	env->cfg = ctx->inst->cfg;
	if (sh_instance_key(ctx->inst, &env->secret_key, &err) < 0) {
		sh_http_error(ctx->resp, &err);
		return -1;
	}
	return 0;
}

void
sh_route_integrations_list(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_page page;
	struct sh_err err;
	cJSON *out = NULL;
	int rc;

	if (sh_route_page(ctx, &page) < 0)
		return;
	rc = sh_integrations_list(ctx->db, &actor, &page, &out, &err);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_integrations_create(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_integration_env env;
	cJSON *body, *out = NULL;
	struct sh_err err;
	int rc;

	if (env_of(ctx, &env) < 0 || sh_route_body(ctx, &body) < 0)
		return;
	rc = sh_integrations_create(ctx->db, &env, &actor, body, &out, &err);
	cJSON_Delete(body);
	sh_route_reply(ctx, rc, 201, out, &err);
}

void
sh_route_integrations_get(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_err err;
	cJSON *out = NULL;
	int rc = sh_integrations_get(ctx->db, &actor, ctx->args[0], &out, &err);

	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_integrations_details(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_integration_env env;
	struct sh_err err;
	cJSON *out = NULL;
	int rc;

	if (env_of(ctx, &env) < 0)
		return;
	rc = sh_integrations_details(ctx->db, &env, &actor, ctx->args[0], &out, &err);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_integrations_patch(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_integration_env env;
	cJSON *body, *out = NULL;
	struct sh_err err;
	int rc;

	if (env_of(ctx, &env) < 0 || sh_route_body(ctx, &body) < 0)
		return;
	rc = sh_integrations_patch(ctx->db, &env, &actor, ctx->args[0], body, &out,
				   &err);
	cJSON_Delete(body);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_integrations_rotate(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_integration_env env;
	struct sh_err err;
	cJSON *out = NULL;
	int rc;

	if (env_of(ctx, &env) < 0)
		return;
	rc = sh_integrations_rotate_secret(ctx->db, &env, &actor, ctx->args[0], &out,
					   &err);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_integrations_delete(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_err err;
	int rc = sh_integrations_delete(ctx->db, &actor, ctx->args[0], &err);

	sh_route_reply(ctx, rc, 204, NULL, &err);
}

void
sh_route_integrations_health(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_integration_env env = {.cfg = ctx->inst->cfg};
	struct sh_err err;
	cJSON *out = NULL;
	int rc = sh_integrations_health(ctx->db, &env, &actor, ctx->args[0], &out,
					&err);

	sh_route_reply(ctx, rc, 200, out, &err);
}
