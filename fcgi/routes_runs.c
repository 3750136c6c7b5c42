/* /api/v1/runs and /api/v1/deliveries (SPEC §4.2). */
#include "config.h"

#include "router.h"
#include "stackhook/deliveries.h"
#include "stackhook/runs.h"
#include "stackhook/transitions.h"

/* Reads an optional query parameter into buf; writes 400 and returns -1
 * when it is malformed.  *value is buf or NULL. */
static int
query(struct sh_route_ctx *ctx, const char *name, char *buf, size_t size,
      const char **value)
{
	int rc = sh_http_query(ctx->req, name, buf, size);

	*value = rc == 1 ? buf : NULL;
	if (rc < 0) {
		sh_http_errorf(ctx->resp, SH_E_INVALID_FIELD, name,
			       "the %s parameter is malformed", name);
		return -1;
	}
	return 0;
}

void
sh_route_runs_list(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	char stack_buf[SH_SLUG_MAX + 1], state_buf[32];
	const char *stack, *state;
	struct sh_page page;
	struct sh_err err;
	cJSON *out = NULL;
	int rc;

	if (sh_route_page(ctx, &page) < 0 ||
	    query(ctx, "stack", stack_buf, sizeof(stack_buf), &stack) < 0 ||
	    query(ctx, "state", state_buf, sizeof(state_buf), &state) < 0)
		return;
	rc = sh_runs_list(ctx->db, &actor, stack, state, &page, &out, &err);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_runs_get(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	struct sh_err err;
	cJSON *out = NULL;
	int rc = sh_runs_get(ctx->db, &actor, ctx->args[0], &out, &err);

	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_deliveries_list(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	char slug_buf[SH_SLUG_MAX + 1];
	const char *slug;
	struct sh_page page;
	struct sh_err err;
	cJSON *out = NULL;
	int rc;

	if (sh_route_page(ctx, &page) < 0 ||
	    query(ctx, "integration", slug_buf, sizeof(slug_buf), &slug) < 0)
		return;
	rc = sh_deliveries_list(ctx->db, &actor, slug, &page, &out, &err);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_runs_transition(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	cJSON *body, *out = NULL;
	struct sh_err err;
	int rc;

	if (sh_route_body(ctx, &body) < 0)
		return;
	rc = sh_runs_transition(ctx->db, ctx->inst->cfg, &actor, ctx->args[0], body,
				&out, &err);
	cJSON_Delete(body);
	sh_route_reply(ctx, rc, 200, out, &err);
}

void
sh_route_stacks_run(struct sh_route_ctx *ctx)
{
	struct sh_actor actor = sh_route_actor(ctx);
	cJSON *body, *out = NULL;
	struct sh_err err;
	int rc;

	if (sh_route_body(ctx, &body) < 0)
		return;
	rc = sh_runs_create_manual(ctx->db, ctx->inst->cfg, &actor, ctx->args[0],
				   body, &out, &err);
	cJSON_Delete(body);
	sh_route_reply(ctx, rc, 201, out, &err);
}
