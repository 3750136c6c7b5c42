#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/audit.h"
#include "stackhook/buf.h"
#include "stackhook/slug.h"
#include "stackhook/spaces.h"
#include "stackhook/timeutil.h"
#include "stackhook/users.h"

#define SPACE_NAME_MAX 64
#define DESCRIPTION_MAX 4096
#define CONFLICT_LIST_MAX 10 /* names shown in a 409 before "and N more" */

static const struct sh_json_field space_fields[] = {
	{"id", SH_JSON_STRING, SH_SLUG_MAX, SH_JSON_IMMUTABLE},
	{"name", SH_JSON_STRING, SPACE_NAME_MAX, SH_JSON_REQUIRED},
	{"parent", SH_JSON_STRING, SH_SLUG_MAX, 0},
	{"inherit", SH_JSON_BOOL, 0, 0},
	{"description", SH_JSON_TEXT, DESCRIPTION_MAX, SH_JSON_NULLABLE},
};
#define SPACE_FIELD_COUNT (sizeof(space_fields) / sizeof(space_fields[0]))

static const struct sh_json_field member_fields[] = {
	{"role", SH_JSON_STRING, 16, SH_JSON_REQUIRED},
};

#define SPACE_SELECT                                                         \
	"SELECT seq, id, name, parent, inherit, description, created_at, "   \
	"updated_at FROM spaces "

static cJSON *
space_json(struct sh_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", sh_stmt_text(st, 1));
	cJSON_AddStringToObject(o, "name", sh_stmt_text(st, 2));
	if (sh_stmt_is_null(st, 3))
		cJSON_AddNullToObject(o, "parent");
	else
		cJSON_AddStringToObject(o, "parent", sh_stmt_text(st, 3));
	cJSON_AddBoolToObject(o, "inherit", sh_stmt_int(st, 4) != 0);
	cJSON_AddStringToObject(o, "description", sh_stmt_text(st, 5));
	sh_json_add_time(o, "created_at", sh_stmt_int(st, 6));
	sh_json_add_time(o, "updated_at", sh_stmt_int(st, 7));
	return o;
}

int
sh_spaces_require(const struct sh_authz *az, const char *space,
		  enum sh_role need, const char *what, struct sh_err *err)
{
	enum sh_role role = sh_authz_role(az, space);

	if (role >= need)
		return 0;
	if (role == SH_ROLE_NONE)
		return sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no %s",
				  what);
	return sh_err_set(err, SH_E_FORBIDDEN, NULL,
			  "%s: this needs the %s role in space %s", what,
			  sh_role_name(need), space);
}

/* Admins of a parent manage its children, inheriting or not; everyone
 * else sees the spaces they can read. */
static bool
can_see_space(const struct sh_authz *az, const char *id)
{
	const char *parent = sh_authz_parent(az, id);

	return sh_authz_role(az, id) >= SH_ROLE_READ ||
	       (parent != NULL && sh_authz_role(az, parent) == SH_ROLE_ADMIN);
}

/* Admin of the parent, for writes on a space (root: root admins). */
static int
require_parent_admin(const struct sh_authz *az, const char *id,
		     struct sh_err *err)
{
	const char *parent = sh_authz_parent(az, id);

	if (!sh_authz_space_exists(az, id) || !can_see_space(az, id))
		return sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no space %.64s",
				  id);
	if (parent == NULL && !sh_authz_is_root_admin(az))
		return sh_err_set(err, SH_E_FORBIDDEN, NULL,
				  "only root admins change the root space");
	if (parent != NULL && sh_authz_role(az, parent) < SH_ROLE_ADMIN)
		return sh_err_set(err, SH_E_FORBIDDEN, NULL,
				  "space %s: this needs the admin role in its "
				  "parent space %s", id, parent);
	return 0;
}

static int
read_space(struct sh_db *db, const char *id, cJSON **out, struct sh_err *err)
{
	static const char sql[] = SPACE_SELECT "WHERE id = $1";
	struct sh_stmt *st;
	int rc = sh_db_query(db, sql, &st, err, "t", id);

	if (rc == 1) {
		*out = space_json(st);
		sh_stmt_release(st);
	} else if (rc == 0) {
		sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no space %s", id);
	}
	return rc == 1 ? 0 : -1;
}

static bool
space_visible(struct sh_stmt *st, void *az)
{
	return can_see_space(az, sh_stmt_text(st, 1));
}

static cJSON *
space_render(struct sh_stmt *st, void *unused)
{
	(void)unused;
	return space_json(st);
}

int
sh_spaces_list(struct sh_db *db, const struct sh_actor *actor,
	       const struct sh_page *page, cJSON **out, struct sh_err *err)
{
	static const char sql[] = SPACE_SELECT "WHERE seq < $1 ORDER BY seq DESC";
	struct sh_authz *az = NULL;
	struct sh_stmt *st;
	int rc;

	*out = NULL;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0)
		return -1;
	rc = sh_db_prepare(db, sql, &st, err);
	if (rc == 0) {
		sh_stmt_bind_int(st, 1, page->after > 0 ? page->after : INT64_MAX);
		rc = sh_page_collect(st, page, 0, space_visible, space_render, az, out,
				     err);
	}
	sh_authz_free(az);
	return rc;
}

int
sh_spaces_get(struct sh_db *db, const struct sh_actor *actor, const char *id,
	      cJSON **out, struct sh_err *err)
{
	struct sh_authz *az;
	char what[SH_SLUG_MAX + 16];
	int rc;

	*out = NULL;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "space %.64s", id);
	rc = can_see_space(az, id) ? 0 :
				     sh_spaces_require(az, id, SH_ROLE_READ, what, err);
	sh_authz_free(az);
	if (rc < 0)
		return -1;
	return read_space(db, id, out, err);
}

int
sh_spaces_create(struct sh_db *db, const struct sh_actor *actor,
		 const cJSON *body, cJSON **out, struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO spaces (id, name, parent, inherit, description, "
		"created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)";
	const char *name, *parent, *given_id, *description;
	char id[SH_SLUG_MAX + 1], what[SH_SLUG_MAX + 16];
	struct sh_authz *az = NULL;
	int64_t now = sh_time_now();

	*out = NULL;
	if (sh_json_check(body, space_fields, SPACE_FIELD_COUNT, SH_JSON_CREATE,
			  err) < 0)
		return -1;
	name = sh_json_str(body, "name");
	given_id = sh_json_str(body, "id");
	parent = sh_json_str(body, "parent");
	description = sh_json_str(body, "description");
	if (parent == NULL)
		parent = SH_ROOT_SPACE;
	if (given_id != NULL) {
		if (sh_slug_check(given_id, "id", err) < 0)
			return -1;
		snprintf(id, sizeof(id), "%s", given_id);
	} else if (sh_slug_from_name(name, id, "name", err) < 0) {
		return -1;
	}
	if (sh_db_begin(db, err) < 0)
		return -1;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0)
		goto fail;
	snprintf(what, sizeof(what), "space %s", parent);
	if (sh_spaces_require(az, parent, SH_ROLE_ADMIN, what, err) < 0) {
		strcpy(err->field, "parent");
		goto fail;
	}
	if (sh_authz_space_exists(az, id)) {
		sh_err_set(err, SH_E_CONFLICT, "id", "space %s exists already", id);
		goto fail;
	}
	if (sh_db_run(db, sql, err, "tttiti", id, name, parent,
		      (int64_t)sh_json_bool(body, "inherit", true),
		      description ? description : "", now) < 0 ||
	    sh_audit_actor(db, actor, "create", "space", id, id, name, err) < 0 ||
	    read_space(db, id, out, err) < 0 || sh_db_commit(db, err) < 0)
		goto fail;
	sh_authz_free(az);
	return 0;
fail:
	sh_db_rollback(db);
	sh_authz_free(az);
	cJSON_Delete(*out);
	*out = NULL;
	return -1;
}

/* Appends up to CONFLICT_LIST_MAX values of column 0 of the rows of sql
 * (bound to id) to msg as "label a, b, c".  Returns rows found, or -1. */
static int
list_dependents(struct sh_db *db, const char *sql, const char *id,
		const char *label, struct sh_buf *msg, struct sh_err *err)
{
	struct sh_stmt *st;
	int n = 0, rc;

	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_text(st, 1, id);
	while ((rc = sh_stmt_step(st, err)) == 1) {
		if (n == 0)
			sh_buf_printf(msg, "%s%s ", msg->len ? "; " : "", label);
		if (n < CONFLICT_LIST_MAX)
			sh_buf_printf(msg, "%s%s", n ? ", " : "", sh_stmt_text(st, 0));
		n++;
	}
	sh_stmt_release(st);
	if (rc < 0)
		return -1;
	if (n > CONFLICT_LIST_MAX)
		sh_buf_printf(msg, " and %d more", n - CONFLICT_LIST_MAX);
	return n;
}

/* Stacks attached to space integrations they could no longer use with the
 * tree as it now stands in the transaction.  Returns how many, or -1. */
static int
broken_attachments(struct sh_db *db, const struct sh_authz *az,
		   struct sh_buf *msg, struct sh_err *err)
{
	static const char sql[] =
		"SELECT s.id, s.space, i.space, i.slug FROM stacks s "
		"JOIN integrations i ON i.id = s.integration_id "
		"WHERE i.type = 'space' AND i.deleted_at IS NULL ORDER BY s.id";
	struct sh_stmt *st;
	int n = 0, rc;

	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	while ((rc = sh_stmt_step(st, err)) == 1) {
		if (sh_authz_can_use(az, false, sh_stmt_text(st, 2),
				     sh_stmt_text(st, 1), NULL))
			continue;
		if (n < CONFLICT_LIST_MAX)
			sh_buf_printf(msg, "%s%s (uses %s)", n ? ", " : "",
				      sh_stmt_text(st, 0), sh_stmt_text(st, 3));
		n++;
	}
	sh_stmt_release(st);
	if (rc < 0)
		return -1;
	if (n > CONFLICT_LIST_MAX)
		sh_buf_printf(msg, " and %d more", n - CONFLICT_LIST_MAX);
	return n;
}

/* Checks a new parent: an existing space the actor administers, not the
 * space itself nor one below it. */
static int
check_new_parent(const struct sh_authz *az, const char *id, const char *parent,
		 struct sh_err *err)
{
	char what[SH_SLUG_MAX + 16];

	if (strcmp(id, SH_ROOT_SPACE) == 0)
		return sh_err_set(err, SH_E_INVALID_FIELD, "parent",
				  "the root space has no parent");
	snprintf(what, sizeof(what), "space %.64s", parent);
	if (sh_authz_role(az, parent) < SH_ROLE_ADMIN) {
		if (can_see_space(az, parent))
			return sh_err_set(err, SH_E_FORBIDDEN, "parent",
					  "moving a space below %s needs the admin "
					  "role in %s", parent, parent);
		sh_spaces_require(az, parent, SH_ROLE_ADMIN, what, err);
		strcpy(err->field, "parent");
		return -1;
	}
	if (sh_authz_within(az, parent, id))
		return sh_err_set(err, SH_E_INVALID_FIELD, "parent",
				  "space %s cannot move below itself", id);
	return 0;
}

int
sh_spaces_check_attachments(struct sh_db *db, const struct sh_actor *actor,
			    struct sh_err *err)
{
	struct sh_buf msg = SH_BUF_INIT;
	struct sh_authz *after = NULL;
	int n;

	if (sh_authz_load(db, actor->user_id, &after, err) < 0)
		return -1;
	n = broken_attachments(db, after, &msg, err);
	sh_authz_free(after);
	if (n > 0)
		sh_err_set(err, SH_E_CONFLICT, NULL,
			   "this change would leave stacks unable to use their "
			   "integration: %s", sh_buf_str(&msg));
	sh_buf_release(&msg);
	return n == 0 ? 0 : -1;
}

int
sh_spaces_patch(struct sh_db *db, const struct sh_actor *actor, const char *id,
		const cJSON *body, cJSON **out, struct sh_err *err)
{
	static const char sql[] =
		"UPDATE spaces SET name = coalesce($2, name), "
		"parent = coalesce($3, parent), "
		"inherit = CASE WHEN $4 < 0 THEN inherit ELSE $4 END, "
		"description = CASE WHEN $5 = 1 THEN coalesce($6, '') "
		"ELSE description END, updated_at = $7 WHERE id = $1";
	const char *parent = sh_json_str(body, "parent");
	const cJSON *inherit = cJSON_GetObjectItemCaseSensitive(body, "inherit");
	struct sh_authz *az = NULL;
	bool tree_change;

	*out = NULL;
	if (sh_json_check(body, space_fields, SPACE_FIELD_COUNT, SH_JSON_PATCH,
			  err) < 0)
		return -1;
	if (sh_db_begin(db, err) < 0)
		return -1;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0 ||
	    require_parent_admin(az, id, err) < 0 ||
	    (parent != NULL && check_new_parent(az, id, parent, err) < 0))
		goto fail;
	if (strcmp(id, SH_ROOT_SPACE) == 0 && cJSON_IsTrue(inherit)) {
		sh_err_set(err, SH_E_INVALID_FIELD, "inherit",
			   "the root space has nothing to inherit from");
		goto fail;
	}
	tree_change = parent != NULL || inherit != NULL;
	if (sh_db_run(db, sql, err, "tttiiti", id, sh_json_str(body, "name"), parent,
		      (int64_t)(inherit ? cJSON_IsTrue(inherit) : -1),
		      (int64_t)sh_json_has(body, "description"),
		      sh_json_str(body, "description"), sh_time_now()) < 0 ||
	    (tree_change && sh_spaces_check_attachments(db, actor, err) < 0) ||
	    sh_audit_actor(db, actor, "update", "space", id, id, NULL, err) < 0 ||
	    read_space(db, id, out, err) < 0 || sh_db_commit(db, err) < 0)
		goto fail;
	sh_authz_free(az);
	return 0;
fail:
	sh_db_rollback(db);
	sh_authz_free(az);
	cJSON_Delete(*out);
	*out = NULL;
	return -1;
}

int
sh_spaces_delete(struct sh_db *db, const struct sh_actor *actor, const char *id,
		 struct sh_err *err)
{
	static const char sql_children[] =
		"SELECT id FROM spaces WHERE parent = $1 ORDER BY id";
	static const char sql_stacks[] =
		"SELECT id FROM stacks WHERE space = $1 ORDER BY id";
	static const char sql_integrations[] =
		"SELECT slug FROM integrations WHERE space = $1 "
		"AND deleted_at IS NULL ORDER BY slug";
	static const char sql_delete[] = "DELETE FROM grants WHERE space = $1";
	static const char sql_delete_space[] = "DELETE FROM spaces WHERE id = $1";
	/* Deleted integrations keep their row (their id is never reused):
	 * they move to root when their space goes. */
	static const char sql_keep_deleted[] =
		"UPDATE integrations SET space = 'root' WHERE space = $1 "
		"AND deleted_at IS NOT NULL";
	struct sh_buf msg = SH_BUF_INIT;
	struct sh_authz *az = NULL;
	int a, b, c;

	if (sh_db_begin(db, err) < 0)
		return -1;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0 ||
	    require_parent_admin(az, id, err) < 0)
		goto fail;
	if (strcmp(id, SH_ROOT_SPACE) == 0) {
		sh_err_set(err, SH_E_CONFLICT, NULL, "the root space cannot be deleted");
		goto fail;
	}
	a = list_dependents(db, sql_children, id, "child spaces", &msg, err);
	b = a < 0 ? -1 : list_dependents(db, sql_stacks, id, "stacks", &msg, err);
	c = b < 0 ? -1 :
		    list_dependents(db, sql_integrations, id, "integrations", &msg,
				    err);
	if (c < 0)
		goto fail;
	if (a + b + c > 0) {
		sh_err_set(err, SH_E_CONFLICT, NULL,
			   "space %s is not empty: %s", id, sh_buf_str(&msg));
		goto fail;
	}
	if (sh_db_run(db, sql_delete, err, "t", id) < 0 ||
	    sh_db_run(db, sql_keep_deleted, err, "t", id) < 0 ||
	    sh_db_run(db, sql_delete_space, err, "t", id) < 0 ||
	    sh_audit_actor(db, actor, "delete", "space", id, id, NULL, err) < 0 ||
	    sh_db_commit(db, err) < 0)
		goto fail;
	sh_buf_release(&msg);
	sh_authz_free(az);
	return 0;
fail:
	sh_db_rollback(db);
	sh_buf_release(&msg);
	sh_authz_free(az);
	return -1;
}

/* Common part of member changes: the space exists and the actor is its
 * admin; user is a valid name.  Runs inside the caller's transaction. */
static int
require_space_admin(struct sh_db *db, const struct sh_actor *actor,
		    const char *space, const char *user, struct sh_err *err)
{
	struct sh_authz *az;
	char what[SH_SLUG_MAX + 16];
	int rc;

	if (sh_user_name_check(user, "user", err) < 0)
		return -1;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "space %.64s", space);
	rc = sh_spaces_require(az, space, SH_ROLE_ADMIN, what, err);
	sh_authz_free(az);
	return rc;
}

int
sh_spaces_set_member(struct sh_db *db, const struct sh_actor *actor,
		     const char *space, const char *user, const cJSON *body,
		     cJSON **out, struct sh_err *err)
{
	struct sh_user member;
	enum sh_role role;

	*out = NULL;
	if (sh_json_check(body, member_fields, 1, SH_JSON_CREATE, err) < 0)
		return -1;
	if (sh_role_parse(sh_json_str(body, "role"), &role) < 0)
		return sh_err_set(err, SH_E_INVALID_FIELD, "role",
				  "role must be read, write or admin");
	if (sh_db_begin(db, err) < 0)
		return -1;
	if (require_space_admin(db, actor, space, user, err) < 0 ||
	    sh_users_ensure(db, user, &member, NULL, err) < 0 ||
	    sh_authz_grant(db, space, member.id, role, err) < 0 ||
	    sh_audit_actor(db, actor, "grant", "member", user, space, sh_role_name(role),
		  err) < 0 ||
	    sh_db_commit(db, err) < 0) {
		sh_db_rollback(db);
		return -1;
	}
	*out = cJSON_CreateObject();
	cJSON_AddStringToObject(*out, "space", space);
	cJSON_AddStringToObject(*out, "user", user);
	cJSON_AddStringToObject(*out, "role", sh_role_name(role));
	return 0;
}

int
sh_spaces_remove_member(struct sh_db *db, const struct sh_actor *actor,
			const char *space, const char *user, struct sh_err *err)
{
	struct sh_user member;

	if (sh_db_begin(db, err) < 0)
		return -1;
	if (require_space_admin(db, actor, space, user, err) < 0)
		goto fail;
	if (sh_users_find(db, user, &member, err) < 0) {
		if (err->code == SH_E_NOT_FOUND)
			sh_err_set(err, SH_E_NOT_FOUND, NULL,
				   "%s has no role in space %s", user, space);
		goto fail;
	}
	if (sh_authz_grant(db, space, member.id, SH_ROLE_NONE, err) < 0)
		goto fail;
	if (sh_db_changes(db) == 0) {
		sh_err_set(err, SH_E_NOT_FOUND, NULL, "%s has no role in space %s",
			   user, space);
		goto fail;
	}
	if (sh_audit_actor(db, actor, "revoke", "member", user, space, NULL, err) < 0 ||
	    sh_db_commit(db, err) < 0)
		goto fail;
	return 0;
fail:
	sh_db_rollback(db);
	return -1;
}
