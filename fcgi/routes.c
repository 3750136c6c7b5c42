/* The route table (SPEC §4): data, one line per route. */
#include "config.h"

#include "router.h"

#define RAW(m, p, fn, flags) {m, p, fn, NULL, 0, flags}
#define CALL(m, p, fn, status, flags) {m, p, NULL, fn, status, flags}
#define API SH_ROUTE_AUTH
#define API_JSON (SH_ROUTE_AUTH | SH_ROUTE_JSON)

const struct sh_route sh_routes[] = {
	RAW("GET", "/healthz", sh_route_healthz, 0),
	RAW("GET", "/metrics", sh_route_metrics, SH_ROUTE_DB),
	RAW("POST", "/webhooks/gitlab/{}", sh_route_webhook, 0),

	CALL("GET", "/api/v1/whoami", sh_route_whoami, 200, API),

	CALL("GET", "/api/v1/spaces", sh_route_spaces_list, 200, API),
	CALL("POST", "/api/v1/spaces", sh_route_spaces_create, 201, API_JSON),
	CALL("GET", "/api/v1/spaces/{}", sh_route_spaces_get, 200, API),
	CALL("PATCH", "/api/v1/spaces/{}", sh_route_spaces_patch, 200, API_JSON),
	CALL("DELETE", "/api/v1/spaces/{}", sh_route_spaces_delete, 204, API),
	CALL("PUT", "/api/v1/spaces/{}/members/{}", sh_route_members_put, 200, API_JSON),
	CALL("DELETE", "/api/v1/spaces/{}/members/{}", sh_route_members_delete, 204, API),

	CALL("GET", "/api/v1/integrations", sh_route_integrations_list, 200, API),
	CALL("POST", "/api/v1/integrations", sh_route_integrations_create, 201, API_JSON),
	CALL("GET", "/api/v1/integrations/{}", sh_route_integrations_get, 200, API),
	CALL("PATCH", "/api/v1/integrations/{}", sh_route_integrations_patch, 200, API_JSON),
	CALL("DELETE", "/api/v1/integrations/{}", sh_route_integrations_delete, 204, API),
	CALL("GET", "/api/v1/integrations/{}/details", sh_route_integrations_details, 200, API),
	CALL("POST", "/api/v1/integrations/{}/rotate-secret", sh_route_integrations_rotate,
	     200, API),
	CALL("GET", "/api/v1/integrations/{}/health", sh_route_integrations_health, 200, API),

	CALL("GET", "/api/v1/stacks", sh_route_stacks_list, 200, API),
	CALL("POST", "/api/v1/stacks", sh_route_stacks_create, 201, API_JSON),
	CALL("GET", "/api/v1/stacks/{}", sh_route_stacks_get, 200, API),
	CALL("PATCH", "/api/v1/stacks/{}", sh_route_stacks_patch, 200, API_JSON),
	CALL("DELETE", "/api/v1/stacks/{}", sh_route_stacks_delete, 204, API),
	CALL("POST", "/api/v1/stacks/{}/runs", sh_route_stacks_run, 201, API_JSON),

	CALL("GET", "/api/v1/runs", sh_route_runs_list, 200, API),
	CALL("GET", "/api/v1/runs/{}", sh_route_runs_get, 200, API),
	CALL("POST", "/api/v1/runs/{}/transitions", sh_route_runs_transition, 200, API_JSON),
	CALL("GET", "/api/v1/deliveries", sh_route_deliveries_list, 200, API),
	CALL("GET", "/api/v1/audit", sh_route_audit_list, 200, API),
};

const size_t sh_route_count = sizeof(sh_routes) / sizeof(sh_routes[0]);
