/* /api/v1/spaces and their members (SPEC §4.2). */
#include "config.h"

#include "router.h"
#include "stackhook/spaces.h"

void
sh_route_spaces_list(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_page page;
	struct sh_err err;
	cJSON *out = NULL;
	int rc;

	if (sh_route_page(ctx, &page) < 0)
		return;
	rc = sh_spaces_list(ctx->db, &actor, &page, &out, &err);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_spaces_create(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	cJSON *body, *out = NULL;
	struct sh_err err;
	int rc;

	if (sh_route_body(ctx, &body) < 0)
		return;
	rc = sh_spaces_create(ctx->db, &actor, body, &out, &err);
	cJSON_Delete(body);
	sh_route_reply(ctx, rc, 201, out, &err);
}

void
sh_route_spaces_get(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_err err;
	cJSON *out = NULL;
	int rc = sh_spaces_get(ctx->db, &actor, ctx->args[0], &out, &err);

	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_spaces_patch(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	cJSON *body, *out = NULL;
	struct sh_err err;
	int rc;

	if (sh_route_body(ctx, &body) < 0)
		return;
	rc = sh_spaces_patch(ctx->db, &actor, ctx->args[0], body, &out, &err);
	cJSON_Delete(body);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_spaces_delete(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_err err;
	int rc = sh_spaces_delete(ctx->db, &actor, ctx->args[0], &err);

	sh_route_reply(ctx, rc, 204, NULL, &err);
}

void
sh_route_members_put(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	cJSON *body, *out = NULL;
	struct sh_err err;
	int rc;

	if (sh_route_body(ctx, &body) < 0)
		return;
	rc = sh_spaces_set_member(ctx->db, &actor, ctx->args[0], ctx->args[1], body,
				  &out, &err);
	cJSON_Delete(body);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_members_delete(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_err err;
	int rc = sh_spaces_remove_member(ctx->db, &actor, ctx->args[0],
					 ctx->args[1], &err);

	sh_route_reply(ctx, rc, 204, NULL, &err);
}
