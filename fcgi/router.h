/*
 * router.h - the route table and what every handler receives.
 */
#ifndef STACKHOOK_FCGI_ROUTER_H
#define STACKHOOK_FCGI_ROUTER_H

#include "http.h"
#include "stackhook/authz.h"
#include "stackhook/json.h"
#include "stackhook/db.h"
#include "stackhook/instance.h"
#include "stackhook/integrations.h"
#include "stackhook/users.h"

#define SH_ROUTE_MAX_ARGS 4
#define SH_ROUTE_ARG_MAX 256

struct sh_route_ctx {
	struct sh_instance *inst;
	struct sh_http_request *req;
	struct sh_http_response *resp;
	char args[SH_ROUTE_MAX_ARGS][SH_ROUTE_ARG_MAX]; /* the {} segments */
	struct sh_db *db;      /* set for routes flagged SH_ROUTE_DB or _AUTH */
	struct sh_user user;   /* set for routes flagged SH_ROUTE_AUTH */
	struct sh_actor actor; /* the same, as the core sees callers */
	cJSON *body;           /* the JSON object, for routes flagged _JSON */
};

/* A raw handler writes the answer into ctx->resp itself. */
typedef void (*sh_route_raw)(struct sh_route_ctx *ctx);

/* A call returns 0 and the object to answer with (NULL: no content), or
 * -1 with err; the router renders either. */
typedef int (*sh_route_call)(struct sh_route_ctx *ctx, cJSON **out,
			     struct sh_err *err);

enum {
	SH_ROUTE_DB = 1 << 0,   /* needs the database */
	SH_ROUTE_AUTH = 1 << 1, /* needs an authenticated user (and the db) */
	SH_ROUTE_JSON = 1 << 2, /* reads a JSON object body (after auth) */
};

struct sh_route {
	const char *method;
	const char *pattern; /* "/api/v1/spaces/{}": {} is one path segment */
	sh_route_raw raw;    /* either raw ... */
	sh_route_call call;  /* ... or call, answered with status */
	int status;
	unsigned flags;
};

/* Answers req into resp: matches the route, authenticates, reads the body
 * when the route wants it, and calls the handler. */
void sh_router_dispatch(struct sh_instance *inst, struct sh_http_request *req,
			struct sh_http_response *resp);

/*
 * Matches route against pattern, copying {} segments into args.  Returns
 * 1 on a match, 0 otherwise (also when a segment is longer than
 * SH_ROUTE_ARG_MAX - 1).  Exposed for the tests.
 */
int sh_router_match(const char *pattern, const char *route,
		    char args[SH_ROUTE_MAX_ARGS][SH_ROUTE_ARG_MAX]);

/* The path of public_url ("/stackhook"; "" when it is the site's root):
 * where the routes are mounted.  Points into public_url. */
const char *sh_router_mount_path(const char *public_url);

/*
 * The caller named by REMOTE_USER, when the config trusts the web server
 * (trust_remote_user = yes): fills ctx->user (id 0 for a person nobody
 * granted anything yet) and returns 1; 0 when there is none to trust; -1
 * with err (SH_E_UNAUTHORIZED for a malformed name, else the store's).
 * The API and the web pages share this rule.
 */
int sh_router_remote_user(struct sh_route_ctx *ctx, struct sh_err *err);

/* The config and secret key the integration calls need (no spool tally).
 * 0, or -1 with err when the key cannot be read. */
int sh_route_integration_env(struct sh_route_ctx *ctx,
			     struct sh_integration_env *env, struct sh_err *err);

/* The page of a list from ?limit= and ?after=.  0, or -1 with err. */
int sh_route_page(struct sh_route_ctx *ctx, struct sh_page *page,
		  struct sh_err *err);

/* An optional query parameter: *value is buf (filled) or NULL when
 * absent.  0, or -1 with err when it is malformed or too long. */
int sh_route_query(struct sh_route_ctx *ctx, const char *name, char *buf,
		   size_t size, const char **value, struct sh_err *err);

/* The route table, one file per family of handlers. */
extern const struct sh_route sh_routes[];
extern const size_t sh_route_count;

/* Raw handlers. */
void sh_route_healthz(struct sh_route_ctx *ctx);
void sh_route_metrics(struct sh_route_ctx *ctx);
void sh_route_webhook(struct sh_route_ctx *ctx);

/* Calls. */
int sh_route_whoami(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);

int sh_route_spaces_list(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_spaces_create(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_spaces_get(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_spaces_patch(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_spaces_delete(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_members_put(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_members_delete(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);

int sh_route_integrations_list(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_integrations_create(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_integrations_get(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_integrations_details(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_integrations_patch(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_integrations_rotate(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_integrations_delete(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_integrations_health(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);

int sh_route_stacks_list(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_stacks_create(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_stacks_get(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_stacks_patch(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_stacks_delete(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_stacks_run(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);

int sh_route_runs_list(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_runs_get(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_runs_transition(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_deliveries_list(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);
int sh_route_audit_list(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err);

#endif
