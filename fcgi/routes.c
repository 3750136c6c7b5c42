/* The route table (SPEC §4): data, one line per route. */
#include "config.h"

#include "router.h"
#include "ui.h"

#define RAW(m, p, fn, flags) {m, p, fn, NULL, 0, flags}
#define CALL(m, p, fn, status, flags) {m, p, NULL, fn, status, flags}
#define API SH_ROUTE_AUTH
#define API_JSON (SH_ROUTE_AUTH | SH_ROUTE_JSON)
/* A web page (SPEC §4.4): HTML for people, finding who is calling itself
 * (session cookie or REMOTE_USER) -- not part of the API's contract in
 * docs/openapi.yaml, hence a macro of its own. */
#define PAGE(m, p, fn) RAW(m, p, fn, SH_ROUTE_DB)
#define PAGE_ASSET(p, fn) RAW("GET", p, fn, 0) /* the stylesheet, the script */

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

	PAGE_ASSET("/ui/style.css", sh_ui_style),
	PAGE_ASSET("/ui/copy.js", sh_ui_script),
	PAGE("GET", "/ui/sign-in", sh_ui_sign_in_page),
	PAGE("POST", "/ui/sign-in", sh_ui_sign_in),
	PAGE("POST", "/ui/sign-out", sh_ui_sign_out),
	PAGE("GET", "/ui", sh_ui_integrations_page),
	PAGE("GET", "/ui/set-up", sh_ui_setup_page),
	PAGE("POST", "/ui/set-up", sh_ui_setup),
	PAGE("GET", "/ui/integrations/{}", sh_ui_integration_page),
	PAGE("GET", "/ui/integrations/{}/rotate", sh_ui_rotate_page),
	PAGE("POST", "/ui/integrations/{}/rotate", sh_ui_rotate),
	PAGE("GET", "/ui/integrations/{}/delete", sh_ui_delete_page),
	PAGE("POST", "/ui/integrations/{}/delete", sh_ui_delete),
	PAGE("GET", "/ui/stacks", sh_ui_stacks_page),
	PAGE("GET", "/ui/stacks/{}", sh_ui_stack_page),
	PAGE("POST", "/ui/stacks/{}/integration", sh_ui_stack_attach),
	PAGE("GET", "/runs/{}", sh_ui_run_page),
};

const size_t sh_route_count = sizeof(sh_routes) / sizeof(sh_routes[0]);
