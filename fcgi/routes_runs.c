/* /api/v1/runs, /api/v1/deliveries and /api/v1/audit (SPEC §4.2). */
#include "config.h"

#include "router.h"
#include "stackhook/audit.h"
#include "stackhook/deliveries.h"
#include "stackhook/runs.h"
#include "stackhook/transitions.h"

int
sh_route_runs_list(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	char stack_buf[SH_SLUG_MAX + 1], state_buf[32];
	const char *stack, *state;
	struct sh_page page;

	if (sh_route_page(ctx, &page, err) < 0 ||
	    sh_route_query(ctx, "stack", stack_buf, sizeof(stack_buf), &stack, err) < 0 ||
	    sh_route_query(ctx, "state", state_buf, sizeof(state_buf), &state, err) < 0)
		return -1;
	return sh_runs_list(ctx->db, &ctx->actor, stack, state, &page, out, err);
}

int
sh_route_runs_get(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	return sh_runs_get(ctx->db, &ctx->actor, ctx->args[0], out, err);
}

int
sh_route_runs_transition(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	return sh_runs_transition(ctx->db, ctx->inst->cfg, &ctx->actor, ctx->args[0],
				  ctx->body, out, err);
}

int
sh_route_deliveries_list(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	char slug_buf[SH_SLUG_MAX + 1];
	const char *slug;
	struct sh_page page;

	if (sh_route_page(ctx, &page, err) < 0 ||
	    sh_route_query(ctx, "integration", slug_buf, sizeof(slug_buf), &slug,
			   err) < 0)
		return -1;
	return sh_deliveries_list(ctx->db, &ctx->actor, slug, &page, out, err);
}

int
sh_route_audit_list(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	char space_buf[SH_SLUG_MAX + 1];
	const char *space;
	struct sh_page page;

	if (sh_route_page(ctx, &page, err) < 0 ||
	    sh_route_query(ctx, "space", space_buf, sizeof(space_buf), &space, err) < 0)
		return -1;
	return sh_audit_list(ctx->db, &ctx->actor, space, &page, out, err);
}
