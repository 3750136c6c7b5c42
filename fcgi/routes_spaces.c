/* /api/v1/spaces and their members (SPEC §4.2). */
#include "config.h"

#include "router.h"
#include "stackhook/spaces.h"

int
sh_route_spaces_list(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	struct sh_page page;

	if (sh_route_page(ctx, &page, err) < 0)
		return -1;
	return sh_spaces_list(ctx->db, &ctx->actor, &page, out, err);
}

int
sh_route_spaces_create(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	return sh_spaces_create(ctx->db, &ctx->actor, ctx->body, out, err);
}

int
sh_route_spaces_get(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	return sh_spaces_get(ctx->db, &ctx->actor, ctx->args[0], out, err);
}

int
sh_route_spaces_patch(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	return sh_spaces_patch(ctx->db, &ctx->actor, ctx->args[0], ctx->body, out, err);
}

int
sh_route_spaces_delete(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	(void)out;
	return sh_spaces_delete(ctx->db, &ctx->actor, ctx->args[0], err);
}

int
sh_route_members_put(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	return sh_spaces_set_member(ctx->db, &ctx->actor, ctx->args[0], ctx->args[1],
				    ctx->body, out, err);
}

int
sh_route_members_delete(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	(void)out;
	return sh_spaces_remove_member(ctx->db, &ctx->actor, ctx->args[0],
				       ctx->args[1], err);
}
