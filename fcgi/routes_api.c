/* Admin API routes (SPEC §4.2). */
#include "config.h"

#include "router.h"
#include "stackhook/authz.h"

void
sh_route_whoami(struct sh_route_ctx *ctx)
{
	struct sh_authz *az = NULL;
	struct sh_err err;
	cJSON *root, *roles;

	sh_err_clear(&err);
	if (sh_authz_load(ctx->db, ctx->user.id, &az, &err) < 0) {
		sh_http_error(ctx->resp, &err);
		return;
	}
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "user", ctx->user.name);
	roles = cJSON_AddObjectToObject(root, "roles");
	for (size_t i = 0; i < sh_authz_space_count(az); i++) {
		const char *space = sh_authz_space_id(az, i);
		enum sh_role role = sh_authz_role(az, space);

		if (role != SH_ROLE_NONE)
			cJSON_AddStringToObject(roles, space, sh_role_name(role));
	}
	sh_authz_free(az);
	sh_http_json(ctx->resp, 200, root);
}
