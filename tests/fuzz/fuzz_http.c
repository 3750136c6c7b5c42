/* libFuzzer target: request targets and query strings (the route the
 * responder derives from PATH_INFO or REQUEST_URI) and route matching. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *uri;

static const char *
param(void *ctx, const char *name)
{
	(void)ctx;
	if (strcmp(name, "REQUEST_METHOD") == 0)
		return "GET";
	if (strcmp(name, "REQUEST_URI") == 0)
		return uri;
	if (strcmp(name, "QUERY_STRING") == 0)
		return strchr(uri, '?') ? strchr(uri, '?') + 1 : "";
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char args[SH_ROUTE_MAX_ARGS][SH_ROUTE_ARG_MAX];
	struct sh_http_request req = {.param = param};
	char value[256], *text = malloc(size + 1);
	struct sh_err err;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	uri = text;
	if (sh_http_parse_target(&req, "/stackhook", &err) == 0) {
		sh_router_match("/api/v1/spaces/{}/members/{}", req.route, args);
		sh_router_match("/webhooks/gitlab/{}", req.route, args);
		sh_http_query(&req, "after", value, sizeof(value));
		sh_http_query(&req, "integration", value, sizeof(value));
	}
	sh_http_request_release(&req);
	free(text);
	return 0;
}
