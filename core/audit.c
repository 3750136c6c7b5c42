#include "config.h"

#include <stdio.h>

#include "stackhook/audit.h"
#include "stackhook/json.h"
#include "stackhook/timeutil.h"

int
sh_audit_record(struct sh_db *db, const struct sh_audit_entry *e,
		struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO audit (at, actor, address, action, object_type, "
		"object_id, space, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
	struct sh_stmt *st;
	int rc;

	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_int(st, 1, sh_time_now());
	sh_stmt_bind_text(st, 2, e->actor);
	sh_stmt_bind_text(st, 3, e->address);
	sh_stmt_bind_text(st, 4, e->action);
	sh_stmt_bind_text(st, 5, e->object_type);
	sh_stmt_bind_text(st, 6, e->object_id);
	sh_stmt_bind_text(st, 7, e->space);
	sh_stmt_bind_text(st, 8, e->detail);
	rc = sh_stmt_step(st, err);
	sh_stmt_release(st);
	return rc < 0 ? -1 : 0;
}

int
sh_audit_actor(struct sh_db *db, const struct sh_actor *actor,
	       const char *action, const char *object_type, const char *object_id,
	       const char *space, const char *detail, struct sh_err *err)
{
	struct sh_audit_entry e = {
		.actor = actor->name, .address = actor->address, .action = action,
		.object_type = object_type, .object_id = object_id, .space = space,
		.detail = detail,
	};

	return sh_audit_record(db, &e, err);
}

static bool
audit_visible(struct sh_stmt *st, void *unused)
{
	(void)st;
	(void)unused;
	return true;
}

static void
add_text(cJSON *o, const char *name, struct sh_stmt *st, int col)
{
	if (sh_stmt_is_null(st, col))
		cJSON_AddNullToObject(o, name);
	else
		cJSON_AddStringToObject(o, name, sh_stmt_text(st, col));
}

static cJSON *
audit_render(struct sh_stmt *st, void *unused)
{
	cJSON *o = cJSON_CreateObject();
	char id[24];

	(void)unused;
	snprintf(id, sizeof(id), "%lld", (long long)sh_stmt_int(st, 0));
	cJSON_AddStringToObject(o, "id", id);
	sh_json_add_time(o, "at", sh_stmt_int(st, 1));
	add_text(o, "actor", st, 2);
	add_text(o, "address", st, 3);
	add_text(o, "action", st, 4);
	add_text(o, "object_type", st, 5);
	add_text(o, "object_id", st, 6);
	add_text(o, "space", st, 7);
	add_text(o, "detail", st, 8);
	return o;
}

int
sh_audit_list(struct sh_db *db, const struct sh_actor *actor, const char *space,
	      const struct sh_page *page, cJSON **out, struct sh_err *err)
{
	static const char sql[] =
		"SELECT id, at, actor, address, action, object_type, object_id, space, "
		"detail FROM audit WHERE id < $1 AND (CAST($2 AS TEXT) IS NULL OR space = $2) "
		"ORDER BY id DESC";
	struct sh_authz *az = NULL;
	struct sh_stmt *st;
	int rc = -1;

	*out = NULL;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0)
		return -1;
	if (space == NULL && !sh_authz_is_root_admin(az)) {
		sh_err_set(err, SH_E_FORBIDDEN, NULL,
			   "only root admins see every space's audit; add ?space=");
		goto out;
	}
	if (space != NULL && sh_authz_role(az, space) < SH_ROLE_ADMIN) {
		sh_err_set(err, sh_authz_role(az, space) == SH_ROLE_NONE ?
					SH_E_NOT_FOUND : SH_E_FORBIDDEN,
			   "space", sh_authz_role(az, space) == SH_ROLE_NONE ?
					    "there is no space %.64s" :
					    "the audit of space %.64s is for its admins",
			   space);
		goto out;
	}
	if (sh_db_prepare(db, sql, &st, err) < 0)
		goto out;
	sh_stmt_bind_int(st, 1, page->after > 0 ? page->after : INT64_MAX);
	sh_stmt_bind_text(st, 2, space);
	rc = sh_page_collect(st, page, 0, audit_visible, audit_render, NULL, out, err);
out:
	sh_authz_free(az);
	return rc;
}
