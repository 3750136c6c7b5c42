#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/authz.h"

struct space_node {
	char *id;
	char *parent_id;
	long parent;  /* index in spaces, -1 for none */
	bool inherit;
	enum sh_role direct;
};

struct sh_authz {
	struct space_node *spaces;
	size_t count;
	bool root_admin;
};

static const char *const role_names[] = {"none", "read", "write", "admin"};

const char *
sh_role_name(enum sh_role role)
{
	return (unsigned)role <= SH_ROLE_ADMIN ? role_names[role] : "none";
}

int
sh_role_parse(const char *text, enum sh_role *out)
{
	for (int r = SH_ROLE_READ; r <= SH_ROLE_ADMIN; r++) {
		if (strcmp(text, role_names[r]) == 0) {
			*out = (enum sh_role)r;
			return 0;
		}
	}
	return -1;
}

int
sh_authz_grant(struct sh_db *db, const char *space, int64_t user_id,
	       enum sh_role role, struct sh_err *err)
{
	static const char sql_set[] =
		"INSERT INTO grants (space, user_id, role) VALUES ($1, $2, $3) "
		"ON CONFLICT (space, user_id) DO UPDATE SET role = excluded.role";
	static const char sql_remove[] =
		"DELETE FROM grants WHERE space = $1 AND user_id = $2";
	static const char sql_space[] = "SELECT 1 FROM spaces WHERE id = $1";
	struct sh_stmt *st;
	int rc;

	rc = sh_db_query(db, sql_space, &st, err, "t", space);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return sh_err_set(err, SH_E_NOT_FOUND, "space", "there is no space %s",
				  space);
	sh_stmt_release(st);
	if (role == SH_ROLE_NONE)
		return sh_db_run(db, sql_remove, err, "ti", space, user_id) < 0 ? -1 : 0;
	return sh_db_run(db, sql_set, err, "tit", space, user_id,
			 sh_role_name(role)) < 0 ? -1 : 0;
}

void
sh_authz_free(struct sh_authz *az)
{
	if (az == NULL)
		return;
	for (size_t i = 0; i < az->count; i++) {
		free(az->spaces[i].id);
		free(az->spaces[i].parent_id);
	}
	free(az->spaces);
	free(az);
}

static long
find_space(const struct sh_authz *az, const char *id)
{
	for (size_t i = 0; i < az->count; i++)
		if (strcmp(az->spaces[i].id, id) == 0)
			return (long)i;
	return -1;
}

static int
load_spaces(struct sh_db *db, struct sh_authz *az, struct sh_err *err)
{
	static const char sql[] = "SELECT id, parent, inherit FROM spaces";
	struct space_node *grown, *node;
	struct sh_stmt *st;
	int rc;

	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	while ((rc = sh_stmt_step(st, err)) == 1) {
		grown = realloc(az->spaces, (az->count + 1) * sizeof(*grown));
		if (grown == NULL) {
			rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			break;
		}
		az->spaces = grown;
		node = &az->spaces[az->count++];
		memset(node, 0, sizeof(*node));
		node->id = strdup(sh_stmt_text(st, 0));
		node->parent_id = sh_stmt_is_null(st, 1) ? NULL :
							   strdup(sh_stmt_text(st, 1));
		node->inherit = sh_stmt_int(st, 2) != 0;
		if (node->id == NULL ||
		    (!sh_stmt_is_null(st, 1) && node->parent_id == NULL)) {
			rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			break;
		}
	}
	sh_stmt_release(st);
	return rc < 0 ? -1 : 0;
}

static int
load_grants(struct sh_db *db, int64_t user_id, struct sh_authz *az,
	    struct sh_err *err)
{
	static const char sql[] = "SELECT space, role FROM grants WHERE user_id = $1";
	struct sh_stmt *st;
	enum sh_role role;
	long i;
	int rc;

	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_int(st, 1, user_id);
	while ((rc = sh_stmt_step(st, err)) == 1) {
		i = find_space(az, sh_stmt_text(st, 0));
		if (i < 0 || sh_role_parse(sh_stmt_text(st, 1), &role) < 0)
			continue;
		az->spaces[i].direct = role;
		if (strcmp(az->spaces[i].id, SH_ROOT_SPACE) == 0 &&
		    role == SH_ROLE_ADMIN)
			az->root_admin = true;
	}
	sh_stmt_release(st);
	return rc < 0 ? -1 : 0;
}

int
sh_authz_load(struct sh_db *db, int64_t user_id, struct sh_authz **out,
	      struct sh_err *err)
{
	struct sh_authz *az = calloc(1, sizeof(*az));

	*out = NULL;
	if (az == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	if (load_spaces(db, az, err) < 0 || load_grants(db, user_id, az, err) < 0) {
		sh_authz_free(az);
		return -1;
	}
	for (size_t i = 0; i < az->count; i++)
		az->spaces[i].parent = az->spaces[i].parent_id ?
					       find_space(az, az->spaces[i].parent_id) :
					       -1;
	*out = az;
	return 0;
}

enum sh_role
sh_authz_role(const struct sh_authz *az, const char *space)
{
	enum sh_role best = SH_ROLE_NONE;
	long i = find_space(az, space);

	if (i < 0)
		return SH_ROLE_NONE;
	if (az->root_admin)
		return SH_ROLE_ADMIN;
	/* Walk up while the chain inherits; the step count guards against a
	 * cycle that a broken database could hold. */
	for (size_t steps = 0; i >= 0 && steps <= az->count; steps++) {
		const struct space_node *node = &az->spaces[i];

		if (node->direct > best)
			best = node->direct;
		if (!node->inherit)
			break;
		i = node->parent;
	}
	return best;
}

size_t
sh_authz_space_count(const struct sh_authz *az)
{
	return az->count;
}

const char *
sh_authz_space_id(const struct sh_authz *az, size_t i)
{
	return i < az->count ? az->spaces[i].id : NULL;
}

bool
sh_authz_is_root_admin(const struct sh_authz *az)
{
	return az->root_admin;
}

bool
sh_authz_space_exists(const struct sh_authz *az, const char *space)
{
	return find_space(az, space) >= 0;
}

const char *
sh_authz_parent(const struct sh_authz *az, const char *space)
{
	long i = find_space(az, space);

	return i >= 0 && az->spaces[i].parent >= 0 ?
		       az->spaces[az->spaces[i].parent].id :
		       NULL;
}

bool
sh_authz_within(const struct sh_authz *az, const char *space,
		const char *ancestor)
{
	long i = find_space(az, space);

	for (size_t steps = 0; i >= 0 && steps <= az->count; steps++) {
		if (strcmp(az->spaces[i].id, ancestor) == 0)
			return true;
		i = az->spaces[i].parent;
	}
	return false;
}

bool
sh_authz_can_use(const struct sh_authz *az, bool is_default,
		 const char *integration_space, const char *stack_space,
		 const char **why)
{
	long i = find_space(az, stack_space);

	if (why != NULL)
		*why = NULL;
	if (is_default)
		return true;
	for (size_t steps = 0; i >= 0 && steps <= az->count; steps++) {
		const struct space_node *node = &az->spaces[i];

		if (strcmp(node->id, integration_space) == 0)
			return true;
		if (!node->inherit || node->parent < 0) {
			if (why != NULL)
				*why = node->id;
			return false;
		}
		i = node->parent;
	}
	if (why != NULL)
		*why = stack_space;
	return false;
}

bool
sh_authz_may_list_integration(const struct sh_authz *az, bool is_default,
			      const char *space)
{
	if (is_default || az->root_admin)
		return true;
	for (size_t i = 0; i < az->count; i++) {
		if (sh_authz_role(az, az->spaces[i].id) >= SH_ROLE_READ &&
		    sh_authz_can_use(az, false, space, az->spaces[i].id, NULL))
			return true;
	}
	return false;
}

bool
sh_authz_may_admin_integration(const struct sh_authz *az, bool is_default,
			       const char *space)
{
	if (is_default)
		return az->root_admin;
	return sh_authz_role(az, space) == SH_ROLE_ADMIN;
}
