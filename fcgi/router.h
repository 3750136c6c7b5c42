/*
 * router.h - the route table and what every handler receives.
 */
#ifndef STACKHOOK_FCGI_ROUTER_H
#define STACKHOOK_FCGI_ROUTER_H

#include "http.h"
#include "stackhook/db.h"
#include "stackhook/instance.h"
#include "stackhook/users.h"

#define SH_ROUTE_MAX_ARGS 4
#define SH_ROUTE_ARG_MAX 256

struct sh_route_ctx {
	struct sh_instance *inst;
	struct sh_http_request *req;
	struct sh_http_response *resp;
	char args[SH_ROUTE_MAX_ARGS][SH_ROUTE_ARG_MAX]; /* the {} segments */
	struct sh_db *db;     /* set for routes flagged SH_ROUTE_DB or _AUTH */
	struct sh_user user;  /* set for routes flagged SH_ROUTE_AUTH */
};

typedef void (*sh_route_handler)(struct sh_route_ctx *ctx);

enum {
	SH_ROUTE_DB = 1 << 0,   /* needs the database */
	SH_ROUTE_AUTH = 1 << 1, /* needs an authenticated user (and the db) */
	SH_ROUTE_BODY = 1 << 2, /* reads the request body (after auth) */
};

struct sh_route {
	const char *method;
	const char *pattern; /* "/api/v1/spaces/{}": {} is one path segment */
	sh_route_handler handler;
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

/* Handlers, one file per family. */
void sh_route_healthz(struct sh_route_ctx *ctx);
void sh_route_whoami(struct sh_route_ctx *ctx);

#endif
