#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "router.h"

int
sh_router_match(const char *pattern, const char *route,
		char args[SH_ROUTE_MAX_ARGS][SH_ROUTE_ARG_MAX])
{
	size_t nargs = 0;

	while (*pattern != '\0' && *route != '\0') {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t len = strcspn(route, "/");

			if (len == 0 || len >= SH_ROUTE_ARG_MAX ||
			    nargs >= SH_ROUTE_MAX_ARGS)
				return 0;
			memcpy(args[nargs], route, len);
			args[nargs++][len] = '\0';
			route += len;
			pattern += 2;
			continue;
		}
		if (*pattern != *route)
			return 0;
		pattern++;
		route++;
	}
	/* A trailing slash is the same route ("/api/v1/spaces/"). */
	if (route[0] == '/' && route[1] == '\0')
		route++;
	return *pattern == '\0' && *route == '\0';
}

const char *
sh_router_mount_path(const char *public_url)
{
	const char *host = strstr(public_url, "://");
	const char *path = host ? strchr(host + 3, '/') : NULL;

	return path ? path : "";
}

static void
unauthorized(struct sh_route_ctx *ctx, const char *challenge, const char *msg)
{
	sh_http_header(ctx->resp, "WWW-Authenticate", challenge);
	sh_http_errorf(ctx->resp, SH_E_UNAUTHORIZED, NULL, "%s", msg);
}

int
sh_router_remote_user(struct sh_route_ctx *ctx, struct sh_err *err)
{
	const char *remote = sh_http_param(ctx->req, "REMOTE_USER");

	if (!ctx->inst->cfg->trust_remote_user || remote == NULL || remote[0] == '\0')
		return 0;
	if (sh_users_find(ctx->db, remote, &ctx->user, err) == 0)
		return 1;
	if (err->code != SH_E_NOT_FOUND)
		return -1;
	/* A person the web server vouches for but nobody granted anything
	 * yet: known, with no roles. */
	sh_err_clear(err);
	ctx->user.id = 0;
	snprintf(ctx->user.name, sizeof(ctx->user.name), "%s", remote);
	if (sh_user_name_check(remote, NULL, err) == 0)
		return 1;
	return sh_err_set(err, SH_E_UNAUTHORIZED, NULL,
			  "REMOTE_USER is not a valid user name");
}

/* Finds the caller: an API key, else REMOTE_USER when the config trusts
 * the web server.  Returns 0, or -1 with the answer written. */
static int
authenticate(struct sh_route_ctx *ctx)
{
	const char *auth = sh_http_param(ctx->req, "HTTP_AUTHORIZATION");
	struct sh_err err;

	sh_err_clear(&err);
	if (auth != NULL && auth[0] != '\0') {
		if (strncasecmp(auth, "Bearer ", 7) != 0) {
			unauthorized(ctx, "Bearer realm=\"stackhook\"",
				     "use `Authorization: Bearer <api key>`");
			return -1;
		}
		auth += 7;
		while (*auth == ' ')
			auth++;
		if (sh_keys_authenticate(ctx->db, auth, &ctx->user, &err) == 0)
			return 0;
		if (err.code == SH_E_UNAUTHORIZED)
			unauthorized(ctx,
				     "Bearer realm=\"stackhook\", error=\"invalid_token\"",
				     "the API key is not valid");
		else
			sh_http_error(ctx->resp, &err);
		return -1;
	}
	switch (sh_router_remote_user(ctx, &err)) {
	case 1:
		return 0;
	case -1:
		if (err.code == SH_E_UNAUTHORIZED)
			unauthorized(ctx, "Bearer realm=\"stackhook\"", err.msg);
		else
			sh_http_error(ctx->resp, &err);
		return -1;
	default:
		break;
	}
	unauthorized(ctx, "Bearer realm=\"stackhook\"",
		     "an API key is required: `Authorization: Bearer <api key>`");
	return -1;
}

static void
method_not_allowed(struct sh_http_response *resp, const char *allow)
{
	sh_http_header(resp, "Allow", allow);
	sh_http_errorf(resp, SH_E_METHOD_NOT_ALLOWED, NULL,
		       "this route takes only %s", allow);
}

/* Finds the route; writes 404/405 when there is none.  Returns it or NULL. */
static const struct sh_route *
find_route(struct sh_route_ctx *ctx)
{
	char allow[64] = "";
	const char *method = ctx->req->method;

	for (size_t i = 0; i < sh_route_count; i++) {
		if (!sh_router_match(sh_routes[i].pattern, ctx->req->route, ctx->args))
			continue;
		if (strcmp(sh_routes[i].method, method) == 0)
			return &sh_routes[i];
		if (strstr(allow, sh_routes[i].method) == NULL)
			snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow),
				 "%s%s", allow[0] ? ", " : "", sh_routes[i].method);
	}
	if (allow[0] != '\0')
		method_not_allowed(ctx->resp, allow);
	else
		sh_http_errorf(ctx->resp, SH_E_NOT_FOUND, NULL,
			       "there is nothing at this address");
	return NULL;
}

int
sh_route_integration_env(struct sh_route_ctx *ctx, struct sh_integration_env *env,
			 struct sh_err *err)
{
	*env = (struct sh_integration_env){.cfg = ctx->inst->cfg};
	return sh_instance_key(ctx->inst, &env->secret_key, err);
}

int
sh_route_page(struct sh_route_ctx *ctx, struct sh_page *page, struct sh_err *err)
{
	char limit_buf[16], after_buf[32];
	const char *limit, *after;

	if (sh_route_query(ctx, "limit", limit_buf, sizeof(limit_buf), &limit, err) < 0 ||
	    sh_route_query(ctx, "after", after_buf, sizeof(after_buf), &after, err) < 0)
		return -1;
	return sh_page_parse(limit, after, page, err);
}

int
sh_route_query(struct sh_route_ctx *ctx, const char *name, char *buf, size_t size,
	       const char **value, struct sh_err *err)
{
	int rc = sh_http_query(ctx->req, name, buf, size);

	*value = rc == 1 ? buf : NULL;
	if (rc < 0)
		return sh_err_set(err, SH_E_INVALID_FIELD, name,
				  "the %s parameter is malformed or too long", name);
	return 0;
}

/* Runs a call route and renders its result. */
static void
answer_call(struct sh_route_ctx *ctx, const struct sh_route *route)
{
	struct sh_err err;
	cJSON *out = NULL;

	sh_err_clear(&err);
	if (route->call(ctx, &out, &err) < 0) {
		cJSON_Delete(out);
		sh_http_error(ctx->resp, &err);
	} else if (out == NULL) {
		ctx->resp->status = route->status;
	} else {
		sh_http_json(ctx->resp, route->status, out);
	}
}

void
sh_router_dispatch(struct sh_instance *inst, struct sh_http_request *req,
		   struct sh_http_response *resp)
{
	struct sh_route_ctx ctx = {.inst = inst, .req = req, .resp = resp};
	const struct sh_route *route;
	struct sh_err err;

	sh_err_clear(&err);
	resp->status = 0;
	sh_http_header(resp, "Cache-Control", "no-store");
	sh_http_header(resp, "X-Content-Type-Options", "nosniff");
	if (sh_http_parse_target(req, sh_router_mount_path(inst->cfg->public_url), &err) < 0) {
		sh_http_error(resp, &err);
		return;
	}
	route = find_route(&ctx);
	if (route == NULL)
		return;
	if (route->flags & (SH_ROUTE_DB | SH_ROUTE_AUTH)) {
		if (sh_instance_db(inst, &ctx.db, &err) < 0) {
			sh_http_header(resp, "Retry-After", "30");
			sh_http_error(resp, &err);
			return;
		}
	}
	if ((route->flags & SH_ROUTE_AUTH) && authenticate(&ctx) < 0)
		return;
	ctx.actor.user_id = ctx.user.id;
	ctx.actor.name = ctx.user.name;
	ctx.actor.address = req->remote_addr;
	if ((route->flags & SH_ROUTE_JSON) &&
	    (sh_http_read_body(req, inst->cfg->max_body, &err) < 0 ||
	     sh_json_parse_object(req->body, req->body_len, &ctx.body, &err) < 0)) {
		sh_http_error(resp, &err);
		return;
	}
	if (route->raw != NULL)
		route->raw(&ctx);
	else
		answer_call(&ctx, route);
	cJSON_Delete(ctx.body);
	if (resp->status == 0)
		sh_http_errorf(resp, SH_E_INTERNAL, NULL, "the handler gave no answer");
}
