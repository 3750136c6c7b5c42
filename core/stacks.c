#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/audit.h"
#include "stackhook/git.h"
#include "stackhook/integrations.h"
#include "stackhook/slug.h"
#include "stackhook/spaces.h"
#include "stackhook/stacks.h"
#include "stackhook/timeutil.h"

#define NAME_MAX_CHARS 64
#define ENVIRONMENT_MAX 255
#define DESCRIPTION_MAX 4096
#define LABELS_MAX 32

static const struct sh_json_field stack_fields[] = {
	{"id", SH_JSON_STRING, SH_SLUG_MAX, SH_JSON_IMMUTABLE},
	{"name", SH_JSON_STRING, NAME_MAX_CHARS, SH_JSON_REQUIRED},
	{"kind", SH_JSON_STRING, 16, 0},
	{"space", SH_JSON_STRING, SH_SLUG_MAX, 0},
	{"integration", SH_JSON_STRING, SH_SLUG_MAX, SH_JSON_NULLABLE},
	{"namespace", SH_JSON_STRING, SH_GIT_PATH_MAX, SH_JSON_REQUIRED},
	{"repository", SH_JSON_STRING, 255, SH_JSON_REQUIRED},
	{"branch", SH_JSON_STRING, SH_GIT_REF_MAX, SH_JSON_REQUIRED},
	{"project_root", SH_JSON_STRING, SH_GIT_PATH_MAX, SH_JSON_NULLABLE},
	{"environment", SH_JSON_STRING, ENVIRONMENT_MAX, SH_JSON_NULLABLE},
	{"labels", SH_JSON_STRINGS, LABELS_MAX, SH_JSON_NULLABLE},
	{"description", SH_JSON_TEXT, DESCRIPTION_MAX, SH_JSON_NULLABLE},
};
#define FIELD_COUNT (sizeof(stack_fields) / sizeof(stack_fields[0]))

#define STACK_SELECT                                                          \
	"SELECT s.seq, s.id, s.name, s.kind, s.space, i.slug, s.namespace, "  \
	"s.repository, s.branch, s.project_root, s.environment, s.labels, "    \
	"s.description, s.project_id, s.created_at, s.updated_at "             \
	"FROM stacks s LEFT JOIN integrations i ON i.id = s.integration_id "
enum { C_SEQ, C_ID, C_NAME, C_KIND, C_SPACE, C_INTEGRATION, C_NAMESPACE,
       C_REPOSITORY, C_BRANCH, C_ROOT, C_ENVIRONMENT, C_LABELS, C_DESCRIPTION,
       C_PROJECT_ID, C_CREATED, C_UPDATED };

static cJSON *
stack_json(struct sh_stmt *st, const char *status_prefix)
{
	cJSON *o = cJSON_CreateObject();
	char env[SH_SLUG_MAX + 80];

	cJSON_AddStringToObject(o, "id", sh_stmt_text(st, C_ID));
	cJSON_AddStringToObject(o, "name", sh_stmt_text(st, C_NAME));
	cJSON_AddStringToObject(o, "kind", sh_stmt_text(st, C_KIND));
	cJSON_AddStringToObject(o, "space", sh_stmt_text(st, C_SPACE));
	if (sh_stmt_is_null(st, C_INTEGRATION))
		cJSON_AddNullToObject(o, "integration");
	else
		cJSON_AddStringToObject(o, "integration",
					sh_stmt_text(st, C_INTEGRATION));
	cJSON_AddStringToObject(o, "namespace", sh_stmt_text(st, C_NAMESPACE));
	cJSON_AddStringToObject(o, "repository", sh_stmt_text(st, C_REPOSITORY));
	cJSON_AddStringToObject(o, "branch", sh_stmt_text(st, C_BRANCH));
	cJSON_AddStringToObject(o, "project_root", sh_stmt_text(st, C_ROOT));
	if (sh_stmt_is_null(st, C_ENVIRONMENT)) {
		snprintf(env, sizeof(env), "%s/%s", status_prefix,
			 sh_stmt_text(st, C_ID));
		cJSON_AddStringToObject(o, "environment", env);
	} else {
		cJSON_AddStringToObject(o, "environment",
					sh_stmt_text(st, C_ENVIRONMENT));
	}
	cJSON_AddItemToObject(o, "labels",
			      sh_json_strings_parse(sh_stmt_text(st, C_LABELS)));
	cJSON_AddStringToObject(o, "description", sh_stmt_text(st, C_DESCRIPTION));
	if (sh_stmt_is_null(st, C_PROJECT_ID))
		cJSON_AddNullToObject(o, "project_id");
	else
		cJSON_AddNumberToObject(o, "project_id",
					(double)sh_stmt_int(st, C_PROJECT_ID));
	sh_json_add_time(o, "created_at", sh_stmt_int(st, C_CREATED));
	sh_json_add_time(o, "updated_at", sh_stmt_int(st, C_UPDATED));
	return o;
}

/* Reads a stack; *space receives its space (for rights checks). */
static int
read_stack(struct sh_db *db, const char *status_prefix, const char *id,
	   cJSON **out, char space[SH_SLUG_MAX + 1], struct sh_err *err)
{
	static const char sql[] = STACK_SELECT "WHERE s.id = $1";
	struct sh_stmt *st;
	int rc = sh_db_query(db, sql, &st, err, "t", id);

	if (rc == 0)
		return sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no stack %.64s",
				  id);
	if (rc < 0)
		return -1;
	if (out != NULL)
		*out = stack_json(st, status_prefix);
	if (space != NULL)
		snprintf(space, SH_SLUG_MAX + 1, "%s", sh_stmt_text(st, C_SPACE));
	sh_stmt_release(st);
	return 0;
}

/* The stack's space, with the actor's role checked: not readable means
 * "no such stack". */
static int
require_stack(struct sh_db *db, const struct sh_authz *az, const char *id,
	      enum sh_role need, char space[SH_SLUG_MAX + 1], struct sh_err *err)
{
	char what[SH_SLUG_MAX + 16];

	if (read_stack(db, "", id, NULL, space, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "stack %.64s", id);
	if (sh_authz_role(az, space) < SH_ROLE_READ)
		return sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no %s", what);
	return sh_spaces_require(az, space, need, what, err);
}

struct listing {
	const struct sh_authz *az;
	const char *status_prefix;
};

static bool
stack_visible(struct sh_stmt *st, void *arg)
{
	const struct listing *l = arg;

	return sh_authz_role(l->az, sh_stmt_text(st, C_SPACE)) >= SH_ROLE_READ;
}

static cJSON *
stack_render(struct sh_stmt *st, void *arg)
{
	const struct listing *l = arg;

	return stack_json(st, l->status_prefix);
}

int
sh_stacks_list(struct sh_db *db, const char *status_prefix,
	       const struct sh_actor *actor, const struct sh_stack_filter *filter,
	       const struct sh_page *page, cJSON **out, struct sh_err *err)
{
	static const char sql[] = STACK_SELECT
		"WHERE s.seq < $1 AND (CAST($2 AS TEXT) IS NULL OR s.space = $2) "
		"AND (CAST($3 AS TEXT) IS NULL OR i.slug = $3) "
		"AND ($4 = 0 OR s.integration_id IS NULL) ORDER BY s.seq DESC";
	struct sh_authz *az = NULL;
	struct listing l;
	struct sh_stmt *st;
	int rc;

	*out = NULL;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0)
		return -1;
	l.az = az;
	l.status_prefix = status_prefix;
	rc = sh_db_prepare(db, sql, &st, err);
	if (rc == 0) {
		sh_stmt_bind_int(st, 1, page->after > 0 ? page->after : INT64_MAX);
		sh_stmt_bind_text(st, 2, filter->space);
		sh_stmt_bind_text(st, 3, filter->integration);
		sh_stmt_bind_int(st, 4, filter->detached);
		rc = sh_page_collect(st, page, C_SEQ, stack_visible, stack_render, &l,
				     out, err);
	}
	sh_authz_free(az);
	return rc;
}

int
sh_stacks_get(struct sh_db *db, const char *status_prefix,
	      const struct sh_actor *actor, const char *id, cJSON **out,
	      struct sh_err *err)
{
	char space[SH_SLUG_MAX + 1];
	struct sh_authz *az;
	int rc;

	*out = NULL;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0)
		return -1;
	rc = require_stack(db, az, id, SH_ROLE_READ, space, err);
	sh_authz_free(az);
	return rc < 0 ? -1 : read_stack(db, status_prefix, id, out, NULL, err);
}

/* Values that need more than a type and length check. */
static int
check_values(const cJSON *body, struct sh_err *err)
{
	const char *kind = sh_json_str(body, "kind");
	const char *ns = sh_json_str(body, "namespace");
	const char *repo = sh_json_str(body, "repository");
	const char *branch = sh_json_str(body, "branch");
	const char *root = sh_json_str(body, "project_root");
	const char *env = sh_json_str(body, "environment");

	if (kind != NULL && strcmp(kind, "stack") != 0 && strcmp(kind, "module") != 0)
		return sh_err_set(err, SH_E_INVALID_FIELD, "kind",
				  "kind must be stack or module");
	if (ns != NULL && !sh_git_namespace_valid(ns))
		return sh_err_set(err, SH_E_INVALID_FIELD, "namespace",
				  "namespace must be a GitLab user or group path "
				  "such as group-1 or group-1/sub");
	if (repo != NULL && !sh_git_project_valid(repo))
		return sh_err_set(err, SH_E_INVALID_FIELD, "repository",
				  "repository must be a GitLab project path such "
				  "as project-a");
	if (branch != NULL && !sh_git_ref_name_valid(branch))
		return sh_err_set(err, SH_E_INVALID_FIELD, "branch",
				  "branch must be a valid git branch name");
	if (root != NULL && !sh_git_subdir_valid(root))
		return sh_err_set(err, SH_E_INVALID_FIELD, "project_root",
				  "project_root must be a directory inside the "
				  "repository, such as infra/vpc");
	if (env != NULL && (env[0] == '\0' || strspn(env, "abcdefghijklmnopqrstuvwxyz"
					     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_/.${}") !=
							  strlen(env)))
		return sh_err_set(err, SH_E_INVALID_FIELD, "environment",
				  "environment may hold letters, digits, spaces and "
				  "- _ / . $ { }");
	return 0;
}

/* Resolves the integration a stack in space should attach to: one the
 * actor may list (else not found) and the space may use (else 422). */
static int
resolve_integration(struct sh_db *db, const struct sh_authz *az,
		    const char *slug, const char *space, int64_t *id,
		    struct sh_err *err)
{
	struct sh_integration_ref ref;
	const char *why;

	if (sh_integrations_find(db, slug, &ref, err) < 0 ||
	    !sh_authz_may_list_integration(az, ref.is_default, ref.space)) {
		return sh_err_set(err, SH_E_NOT_FOUND, "integration",
				  "there is no integration %.64s", slug);
	}
	if (!sh_authz_can_use(az, ref.is_default, ref.space, space, &why))
		return sh_err_set(err, SH_E_INTEGRATION_NOT_USABLE, "integration",
				  "integration %s belongs to space %s, which space "
				  "%s cannot use: %s%s", ref.slug, ref.space, space,
				  why ? why : space,
				  why && strcmp(why, SH_ROOT_SPACE) == 0 ?
					  " is the root of the tree" :
					  " does not inherit from its parent");
	*id = ref.id;
	return 0;
}

/* Lower-case "namespace/repository": how deliveries find the stack. */
static char *
project_key(const char *ns, const char *repo)
{
	char *key = NULL;

	if (asprintf(&key, "%s/%s", ns, repo) < 0)
		return NULL;
	for (char *p = key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return key;
}

/* A copy of a subdirectory without its trailing '/'. */
static char *
clean_root(const char *root)
{
	char *copy = strdup(root ? root : "");
	size_t n = copy ? strlen(copy) : 0;

	while (n > 0 && copy[n - 1] == '/')
		copy[--n] = '\0';
	return copy;
}

int
sh_stacks_create(struct sh_db *db, const char *status_prefix,
		 const struct sh_actor *actor, const cJSON *body, cJSON **out,
		 struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO stacks (id, name, kind, space, integration_id, namespace, "
		"repository, project_key, branch, project_root, environment, labels, "
		"description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, "
		"$7, $8, $9, $10, $11, $12, $13, $14, $14)";
	static const char sql_exists[] = "SELECT 1 FROM stacks WHERE id = $1";
	const char *space = sh_json_str(body, "space"), *given = sh_json_str(body, "id");
	const char *kind = sh_json_str(body, "kind");
	const char *integration = sh_json_str(body, "integration");
	char id[SH_SLUG_MAX + 1], what[SH_SLUG_MAX + 16];
	char *key = NULL, *labels = NULL, *root = NULL;
	struct sh_authz *az = NULL;
	struct sh_stmt *st;
	int64_t integration_id = 0;
	int rc;

	*out = NULL;
	if (sh_json_check(body, stack_fields, FIELD_COUNT, SH_JSON_CREATE, err) < 0 ||
	    check_values(body, err) < 0)
		return -1;
	if (given != NULL ? sh_slug_check(given, "id", err) < 0 :
			    sh_slug_from_name(sh_json_str(body, "name"), id, "name",
					      err) < 0)
		return -1;
	if (given != NULL)
		snprintf(id, sizeof(id), "%s", given);
	if (space == NULL)
		space = SH_ROOT_SPACE;
	key = project_key(sh_json_str(body, "namespace"),
			  sh_json_str(body, "repository"));
	labels = sh_json_strings_text(body, "labels");
	root = clean_root(sh_json_str(body, "project_root"));
	if (key == NULL || labels == NULL || root == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		goto out;
	}
	if (sh_db_begin(db, err) < 0)
		goto out;
	snprintf(what, sizeof(what), "space %.64s", space);
	if (sh_authz_load(db, actor->user_id, &az, err) < 0)
		goto fail;
	if (sh_spaces_require(az, space, SH_ROLE_WRITE, what, err) < 0) {
		snprintf(err->field, sizeof(err->field), "space");
		goto fail;
	}
	if (integration != NULL &&
	    resolve_integration(db, az, integration, space, &integration_id, err) < 0)
		goto fail;
	rc = sh_db_query(db, sql_exists, &st, err, "t", id);
	if (rc != 0) {
		if (rc == 1) {
			sh_stmt_release(st);
			sh_err_set(err, SH_E_CONFLICT, "id", "stack %s exists already",
				   id);
		}
		goto fail;
	}
	if (sh_db_run(db, sql, err, "tttt" "z" "tttttttt" "i", id,
		      sh_json_str(body, "name"), kind ? kind : "stack", space,
		      integration_id, sh_json_str(body, "namespace"),
		      sh_json_str(body, "repository"), key, sh_json_str(body, "branch"),
		      root, sh_json_str(body, "environment"), labels,
		      sh_json_str(body, "description") ? sh_json_str(body, "description") : "",
		      sh_time_now()) < 0 ||
	    sh_audit_actor(db, actor, "create", "stack", id, space,
			   sh_json_str(body, "name"), err) < 0 ||
	    read_stack(db, status_prefix, id, out, NULL, err) < 0 ||
	    sh_db_commit(db, err) < 0)
		goto fail;
	goto out;
fail:
	sh_db_rollback(db);
	cJSON_Delete(*out);
	*out = NULL;
out:
	sh_authz_free(az);
	free(key);
	free(labels);
	free(root);
	return *out ? 0 : -1;
}

/* Applies the simple columns of a patch, one static UPDATE each. */
static int
patch_columns(struct sh_db *db, const char *id, const cJSON *body,
	      struct sh_err *err)
{
	static const struct {
		const char *field;
		const char *sql;
	} columns[] = {
		{"name", "UPDATE stacks SET name = $1 WHERE id = $2"},
		{"kind", "UPDATE stacks SET kind = $1 WHERE id = $2"},
		{"branch", "UPDATE stacks SET branch = $1 WHERE id = $2"},
		{"environment", "UPDATE stacks SET environment = $1 WHERE id = $2"},
		{"description",
		 "UPDATE stacks SET description = coalesce($1, '') WHERE id = $2"},
	};

	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++)
		if (sh_json_has(body, columns[i].field) &&
		    sh_db_run(db, columns[i].sql, err, "tt",
			      sh_json_str(body, columns[i].field), id) < 0)
			return -1;
	return 0;
}

/* Namespace or repository changes move the project key; the learnt
 * project id belongs to the old project, so it is forgotten. */
static int
patch_project(struct sh_db *db, const char *id, const cJSON *body,
	      struct sh_err *err)
{
	static const char sql_read[] =
		"SELECT namespace, repository FROM stacks WHERE id = $1";
	static const char sql[] =
		"UPDATE stacks SET namespace = $1, repository = $2, project_key = $3, "
		"project_id = NULL WHERE id = $4";
	const char *ns = sh_json_str(body, "namespace"), *repo = sh_json_str(body, "repository");
	char *cur_ns = NULL, *cur_repo = NULL, *key = NULL;
	struct sh_stmt *st;
	int rc = -1;

	if (ns == NULL && repo == NULL)
		return 0;
	if (sh_db_query(db, sql_read, &st, err, "t", id) != 1)
		return -1;
	cur_ns = strdup(ns ? ns : sh_stmt_text(st, 0));
	cur_repo = strdup(repo ? repo : sh_stmt_text(st, 1));
	sh_stmt_release(st);
	if (cur_ns == NULL || cur_repo == NULL ||
	    (key = project_key(cur_ns, cur_repo)) == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		goto out;
	}
	rc = sh_db_run(db, sql, err, "tttt", cur_ns, cur_repo, key, id) < 0 ? -1 : 0;
out:
	free(cur_ns);
	free(cur_repo);
	free(key);
	return rc;
}

static int
patch_lists(struct sh_db *db, const char *id, const cJSON *body,
	    struct sh_err *err)
{
	char *labels = NULL, *root = NULL;
	int rc = -1;

	if (sh_json_has(body, "labels") &&
	    ((labels = sh_json_strings_text(body, "labels")) == NULL ||
	     sh_db_run(db, "UPDATE stacks SET labels = $1 WHERE id = $2", err, "tt",
		       labels, id) < 0))
		goto out;
	if (sh_json_has(body, "project_root") &&
	    ((root = clean_root(sh_json_str(body, "project_root"))) == NULL ||
	     sh_db_run(db, "UPDATE stacks SET project_root = $1 WHERE id = $2", err,
		       "tt", root, id) < 0))
		goto out;
	rc = 0;
out:
	if (rc < 0 && err != NULL && err->code == SH_OK)
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	free(labels);
	free(root);
	return rc;
}

/* A new space or integration: rights on the new space, and the stack's
 * integration (new or kept) must be usable from where it ends up. */
static int
patch_placement(struct sh_db *db, const struct sh_authz *az, const char *id,
		const char *space, const cJSON *body, struct sh_err *err)
{
	static const char sql_current[] =
		"SELECT i.slug FROM stacks s JOIN integrations i "
		"ON i.id = s.integration_id WHERE s.id = $1";
	const char *new_space = sh_json_str(body, "space");
	const char *integration = sh_json_str(body, "integration");
	char what[SH_SLUG_MAX + 16], current[SH_SLUG_MAX + 1] = "";
	struct sh_stmt *st;
	int64_t integration_id = 0;
	int rc;

	if (new_space != NULL) {
		snprintf(what, sizeof(what), "space %.64s", new_space);
		if (sh_spaces_require(az, new_space, SH_ROLE_WRITE, what, err) < 0) {
			snprintf(err->field, sizeof(err->field), "space");
			return -1;
		}
		space = new_space;
	}
	if (!sh_json_has(body, "integration")) {
		rc = sh_db_query(db, sql_current, &st, err, "t", id);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			snprintf(current, sizeof(current), "%s", sh_stmt_text(st, 0));
			sh_stmt_release(st);
		}
		integration = current[0] ? current : NULL;
	}
	if (integration != NULL &&
	    resolve_integration(db, az, integration, space, &integration_id, err) < 0)
		return -1;
	return sh_db_run(db,
			 "UPDATE stacks SET space = $1, integration_id = $2 "
			 "WHERE id = $3",
			 err, "tzt", space, integration_id, id) < 0 ? -1 : 0;
}

int
sh_stacks_patch(struct sh_db *db, const char *status_prefix,
		const struct sh_actor *actor, const char *id, const cJSON *body,
		cJSON **out, struct sh_err *err)
{
	char space[SH_SLUG_MAX + 1];
	struct sh_authz *az = NULL;

	*out = NULL;
	if (sh_json_check(body, stack_fields, FIELD_COUNT, SH_JSON_PATCH, err) < 0 ||
	    check_values(body, err) < 0)
		return -1;
	/* A merge patch may null what may be empty, never what is required. */
	for (size_t i = 0; i < FIELD_COUNT; i++)
		if ((stack_fields[i].flags & SH_JSON_REQUIRED) &&
		    cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body, stack_fields[i].name)))
			return sh_err_set(err, SH_E_INVALID_FIELD, stack_fields[i].name,
					  "%s cannot be null", stack_fields[i].name);
	if (sh_db_begin(db, err) < 0)
		return -1;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0 ||
	    require_stack(db, az, id, SH_ROLE_WRITE, space, err) < 0 ||
	    patch_columns(db, id, body, err) < 0 || patch_project(db, id, body, err) < 0 ||
	    patch_lists(db, id, body, err) < 0 ||
	    ((sh_json_has(body, "space") || sh_json_has(body, "integration")) &&
	     patch_placement(db, az, id, space, body, err) < 0) ||
	    sh_db_run(db, "UPDATE stacks SET updated_at = $1 WHERE id = $2", err,
		      "it", sh_time_now(), id) < 0 ||
	    sh_audit_actor(db, actor, "update", "stack", id, space, NULL, err) < 0 ||
	    read_stack(db, status_prefix, id, out, NULL, err) < 0 ||
	    sh_db_commit(db, err) < 0) {
		sh_db_rollback(db);
		sh_authz_free(az);
		cJSON_Delete(*out);
		*out = NULL;
		return -1;
	}
	sh_authz_free(az);
	return 0;
}

int
sh_stacks_delete(struct sh_db *db, const struct sh_actor *actor, const char *id,
		 struct sh_err *err)
{
	char space[SH_SLUG_MAX + 1];
	struct sh_authz *az = NULL;

	if (sh_db_begin(db, err) < 0)
		return -1;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0 ||
	    require_stack(db, az, id, SH_ROLE_WRITE, space, err) < 0 ||
	    sh_db_run(db, "DELETE FROM stacks WHERE id = $1", err, "t", id) < 0 ||
	    sh_audit_actor(db, actor, "delete", "stack", id, space, NULL, err) < 0 ||
	    sh_db_commit(db, err) < 0) {
		sh_db_rollback(db);
		sh_authz_free(az);
		return -1;
	}
	sh_authz_free(az);
	return 0;
}
