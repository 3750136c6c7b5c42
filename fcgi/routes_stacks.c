/* /api/v1/stacks (SPEC §3, §4.2). */
#include "config.h"

#include <string.h>

#include "router.h"
#include "stackhook/slug.h"
#include "stackhook/stacks.h"

void
sh_route_stacks_list(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	char space[SH_SLUG_MAX + 1], integration[SH_SLUG_MAX + 1];
	struct sh_stack_filter filter = {0};
	struct sh_page page;
	struct sh_err err;
	cJSON *out = NULL;
	int has_space, has_integration, rc;

	if (sh_route_page(ctx, &page) < 0)
		return;
	has_space = sh_http_query(ctx->req, "space", space, sizeof(space));
	has_integration = sh_http_query(ctx->req, "integration", integration,
					sizeof(integration));
	if (has_space < 0 || has_integration < 0) {
		sh_http_errorf(ctx->resp, SH_E_INVALID_FIELD,
			       has_space < 0 ? "space" : "integration",
			       "the %s parameter is not a valid id",
			       has_space < 0 ? "space" : "integration");
		return;
	}
	filter.space = has_space ? space : NULL;
	if (has_integration && strcmp(integration, "null") == 0)
		filter.detached = true;
	else if (has_integration)
		filter.integration = integration;
	rc = sh_stacks_list(ctx->db, ctx->inst->cfg->status_prefix, &actor, &filter,
			    &page, &out, &err);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_stacks_create(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	cJSON *body, *out = NULL;
	struct sh_err err;
	int rc;

	if (sh_route_body(ctx, &body) < 0)
		return;
	rc = sh_stacks_create(ctx->db, ctx->inst->cfg->status_prefix, &actor, body,
			      &out, &err);
	cJSON_Delete(body);
	sh_route_reply(ctx, rc, 201, out, &err);
}

void
sh_route_stacks_get(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_err err;
	cJSON *out = NULL;
	int rc = sh_stacks_get(ctx->db, ctx->inst->cfg->status_prefix, &actor,
			       ctx->args[0], &out, &err);

	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_stacks_patch(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	cJSON *body, *out = NULL;
	struct sh_err err;
	int rc;

	if (sh_route_body(ctx, &body) < 0)
		return;
	rc = sh_stacks_patch(ctx->db, ctx->inst->cfg->status_prefix, &actor,
			     ctx->args[0], body, &out, &err);
	cJSON_Delete(body);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_stacks_delete(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_err err;
	int rc = sh_stacks_delete(ctx->db, &actor, ctx->args[0], &err);

	sh_route_reply(ctx, rc, 204, NULL, &err);
}
