/* /api/v1/stacks (SPEC §3, §4.2). */
#include "config.h"

#include <string.h>

#include "router.h"
#include "stackhook/slug.h"
#include "stackhook/stacks.h"
#include "stackhook/transitions.h"

int
sh_route_stacks_list(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	char space_buf[SH_SLUG_MAX + 1], integration_buf[SH_SLUG_MAX + 1];
	struct sh_stack_filter filter = {0};
	const char *integration;
	struct sh_page page;

	if (sh_route_page(ctx, &page, err) < 0 ||
	    sh_route_query(ctx, "space", space_buf, sizeof(space_buf), &filter.space,
			   err) < 0 ||
	    sh_route_query(ctx, "integration", integration_buf,
			   sizeof(integration_buf), &integration, err) < 0)
		return -1;
	if (integration != NULL && strcmp(integration, "null") == 0)
		filter.detached = true;
	else
		filter.integration = integration;
	return sh_stacks_list(ctx->db, ctx->inst->cfg->status_prefix, &ctx->actor,
			      &filter, &page, out, err);
}

int
sh_route_stacks_create(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	return sh_stacks_create(ctx->db, ctx->inst->cfg->status_prefix, &ctx->actor,
				ctx->body, out, err);
}

int
sh_route_stacks_get(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	return sh_stacks_get(ctx->db, ctx->inst->cfg->status_prefix, &ctx->actor,
			     ctx->args[0], out, err);
}

int
sh_route_stacks_patch(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	return sh_stacks_patch(ctx->db, ctx->inst->cfg->status_prefix, &ctx->actor,
			       ctx->args[0], ctx->body, out, err);
}

int
sh_route_stacks_delete(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	(void)out;
	return sh_stacks_delete(ctx->db, &ctx->actor, ctx->args[0], err);
}

int
sh_route_stacks_run(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	return sh_runs_create_manual(ctx->db, ctx->inst->cfg, &ctx->actor,
				     ctx->args[0], ctx->body, out, err);
}
