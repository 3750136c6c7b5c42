/* Admin API routes (SPEC §4.2). */
#include "config.h"

#include "router.h"
#include "stackhook/authz.h"

int
sh_route_whoami(struct sh_route_ctx *ctx, cJSON **out, struct sh_err *err)
{
	struct sh_authz *az = NULL;
	cJSON *root, *roles;

	if (sh_authz_load(ctx->db, ctx->user.id, &az, err) < 0)
		return -1;
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
	*out = root;
	return 0;
}
