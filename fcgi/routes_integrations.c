/* /api/v1/integrations (SPEC §3, §4.2). */
#include "config.h"

#include "router.h"
#include "stackhook/integrations.h"

int
sh_route_integrations_list(struct sh_route_ctx *ctx, cJSON **out,
			   struct sh_err *err)
{
	struct sh_page page;

	if (sh_route_page(ctx, &page, err) < 0)
		return -1;
	return sh_integrations_list(ctx->db, &ctx->actor, &page, out, err);
}

int
sh_route_integrations_create(struct sh_route_ctx *ctx, cJSON **out,
			     struct sh_err *err)
{
	struct sh_integration_env env;

	if (sh_route_integration_env(ctx, &env, err) < 0)
		return -1;
	return sh_integrations_create(ctx->db, &env, &ctx->actor, ctx->body, out, err);
}

int
sh_route_integrations_get(struct sh_route_ctx *ctx, cJSON **out,
			  struct sh_err *err)
{
	return sh_integrations_get(ctx->db, &ctx->actor, ctx->args[0], out, err);
}

int
sh_route_integrations_details(struct sh_route_ctx *ctx, cJSON **out,
			      struct sh_err *err)
{
	struct sh_integration_env env;

	if (sh_route_integration_env(ctx, &env, err) < 0)
		return -1;
	return sh_integrations_details(ctx->db, &env, &ctx->actor, ctx->args[0], out,
				       err);
}

int
sh_route_integrations_patch(struct sh_route_ctx *ctx, cJSON **out,
			    struct sh_err *err)
{
	struct sh_integration_env env;

	if (sh_route_integration_env(ctx, &env, err) < 0)
		return -1;
	return sh_integrations_patch(ctx->db, &env, &ctx->actor, ctx->args[0],
				     ctx->body, out, err);
}

int
sh_route_integrations_rotate(struct sh_route_ctx *ctx, cJSON **out,
			     struct sh_err *err)
{
	struct sh_integration_env env;

	if (sh_route_integration_env(ctx, &env, err) < 0)
		return -1;
	return sh_integrations_rotate_secret(ctx->db, &env, &ctx->actor, ctx->args[0],
					     out, err);
}

int
sh_route_integrations_delete(struct sh_route_ctx *ctx, cJSON **out,
			     struct sh_err *err)
{
	(void)out;
	return sh_integrations_delete(ctx->db, &ctx->actor, ctx->args[0], err);
}

int
sh_route_integrations_health(struct sh_route_ctx *ctx, cJSON **out,
			     struct sh_err *err)
{
	struct sh_integration_env env = {.cfg = ctx->inst->cfg};

	return sh_integrations_health(ctx->db, &env, &ctx->actor, ctx->args[0], out,
				      err);
}
