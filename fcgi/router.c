#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "router.h"

#define API SH_ROUTE_AUTH
#define API_BODY (SH_ROUTE_AUTH | SH_ROUTE_BODY)

static const struct sh_route routes[] = {
	{"GET", "/healthz", sh_route_healthz, 0},
	{"GET", "/metrics", sh_route_metrics, SH_ROUTE_DB},
	{"POST", "/webhooks/gitlab/{}", sh_route_webhook, SH_ROUTE_DB},
	{"GET", "/api/v1/whoami", sh_route_whoami, API},

	{"GET", "/api/v1/spaces", sh_route_spaces_list, API},
	{"POST", "/api/v1/spaces", sh_route_spaces_create, API_BODY},
	{"GET", "/api/v1/spaces/{}", sh_route_spaces_get, API},
	{"PATCH", "/api/v1/spaces/{}", sh_route_spaces_patch, API_BODY},
	{"DELETE", "/api/v1/spaces/{}", sh_route_spaces_delete, API},
	{"PUT", "/api/v1/spaces/{}/members/{}", sh_route_members_put, API_BODY},
	{"DELETE", "/api/v1/spaces/{}/members/{}", sh_route_members_delete, API},

	{"GET", "/api/v1/integrations", sh_route_integrations_list, API},
	{"POST", "/api/v1/integrations", sh_route_integrations_create, API_BODY},
	{"GET", "/api/v1/integrations/{}", sh_route_integrations_get, API},
	{"PATCH", "/api/v1/integrations/{}", sh_route_integrations_patch, API_BODY},
	{"DELETE", "/api/v1/integrations/{}", sh_route_integrations_delete, API},
	{"GET", "/api/v1/integrations/{}/details", sh_route_integrations_details, API},
	{"POST", "/api/v1/integrations/{}/rotate-secret", sh_route_integrations_rotate, API},
	{"GET", "/api/v1/integrations/{}/health", sh_route_integrations_health, API},

	{"GET", "/api/v1/stacks", sh_route_stacks_list, API},
	{"POST", "/api/v1/stacks", sh_route_stacks_create, API_BODY},
	{"GET", "/api/v1/stacks/{}", sh_route_stacks_get, API},
	{"PATCH", "/api/v1/stacks/{}", sh_route_stacks_patch, API_BODY},
	{"DELETE", "/api/v1/stacks/{}", sh_route_stacks_delete, API},
	{"POST", "/api/v1/stacks/{}/runs", sh_route_stacks_run, API_BODY},

	{"GET", "/api/v1/runs", sh_route_runs_list, API},
	{"GET", "/api/v1/runs/{}", sh_route_runs_get, API},
	{"POST", "/api/v1/runs/{}/transitions", sh_route_runs_transition, API_BODY},
	{"GET", "/api/v1/deliveries", sh_route_deliveries_list, API},
};

#define ROUTE_COUNT (sizeof(routes) / sizeof(routes[0]))

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

/* The path part of public_url ("" when it is the site's root). */
static const char *
mount_path(const char *public_url)
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

/* Finds the caller: an API key, else REMOTE_USER when the config trusts
 * the web server.  Returns 0, or -1 with the answer written. */
static int
authenticate(struct sh_route_ctx *ctx)
{
	const char *auth = sh_http_param(ctx->req, "HTTP_AUTHORIZATION");
	const char *remote = sh_http_param(ctx->req, "REMOTE_USER");
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
	if (ctx->inst->cfg->trust_remote_user && remote != NULL && remote[0] != '\0') {
		if (sh_users_find(ctx->db, remote, &ctx->user, &err) == 0)
			return 0;
		if (err.code != SH_E_NOT_FOUND) {
			sh_http_error(ctx->resp, &err);
			return -1;
		}
		/* A person the web server vouches for but nobody granted
		 * anything yet: known, with no roles. */
		ctx->user.id = 0;
		snprintf(ctx->user.name, sizeof(ctx->user.name), "%s", remote);
		if (sh_user_name_check(remote, NULL, &err) == 0)
			return 0;
		unauthorized(ctx, "Bearer realm=\"stackhook\"",
			     "REMOTE_USER is not a valid user name");
		return -1;
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

	for (size_t i = 0; i < ROUTE_COUNT; i++) {
		if (!sh_router_match(routes[i].pattern, ctx->req->route, ctx->args))
			continue;
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
		if (strstr(allow, routes[i].method) == NULL)
			snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow),
				 "%s%s", allow[0] ? ", " : "", routes[i].method);
	}
	if (allow[0] != '\0')
		method_not_allowed(ctx->resp, allow);
	else
		sh_http_errorf(ctx->resp, SH_E_NOT_FOUND, NULL,
			       "there is nothing at this address");
	return NULL;
}

struct sh_actor
sh_route_actor(const struct sh_route_ctx *ctx)
{
	struct sh_actor actor = {
		.user_id = ctx->user.id,
		.name = ctx->user.name,
		.address = ctx->req->remote_addr,
	};

	return actor;
}

int
sh_route_body(struct sh_route_ctx *ctx, cJSON **body)
{
	struct sh_err err;

	sh_err_clear(&err);
	if (sh_json_parse_object(ctx->req->body, ctx->req->body_len, body, &err) < 0) {
		sh_http_error(ctx->resp, &err);
		return -1;
	}
	return 0;
}

void
sh_route_reply(struct sh_route_ctx *ctx, int rc, int status, cJSON *out,
	       const struct sh_err *err)
{
	if (rc < 0) {
		cJSON_Delete(out);
		sh_http_error(ctx->resp, err);
	} else if (out == NULL) {
		ctx->resp->status = status;
	} else {
		sh_http_json(ctx->resp, status, out);
	}
}

int
sh_route_page(struct sh_route_ctx *ctx, struct sh_page *page)
{
	char limit[16], after[32];
	int has_limit = sh_http_query(ctx->req, "limit", limit, sizeof(limit));
	int has_after = sh_http_query(ctx->req, "after", after, sizeof(after));
	struct sh_err err;

	sh_err_clear(&err);
	if (has_limit < 0 || has_after < 0) {
		sh_http_errorf(ctx->resp, SH_E_INVALID_FIELD,
			       has_limit < 0 ? "limit" : "after",
			       "the %s parameter is malformed",
			       has_limit < 0 ? "limit" : "after");
		return -1;
	}
	if (sh_page_parse(has_limit ? limit : NULL, has_after ? after : NULL, page,
			  &err) < 0) {
		sh_http_error(ctx->resp, &err);
		return -1;
	}
	return 0;
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
	if (sh_http_parse_target(req, mount_path(inst->cfg->public_url), &err) < 0) {
		sh_http_error(resp, &err);
		return;
	}
	route = find_route(&ctx);
	if (route == NULL)
		return;
	if (route->flags & (SH_ROUTE_DB | SH_ROUTE_AUTH)) {
		if (sh_instance_db(inst, &ctx.db, &err) < 0) {
			sh_http_error(resp, &err);
			return;
		}
	}
	if ((route->flags & SH_ROUTE_AUTH) && authenticate(&ctx) < 0)
		return;
	if ((route->flags & SH_ROUTE_BODY) &&
	    sh_http_read_body(req, inst->cfg->max_body, &err) < 0) {
		sh_http_error(resp, &err);
		return;
	}
	route->handler(&ctx);
	if (resp->status == 0)
		sh_http_errorf(resp, SH_E_INTERNAL, NULL, "the handler gave no answer");
}
