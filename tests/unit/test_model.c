/*
 * test_model.c - the admin model of SPEC §3 through its public headers:
 * core/spaces.c, core/integrations.c, core/stacks.c and core/authz.c, on
 * a migrated temporary instance.
 *
 * Every test starts from the same tree, created through the API by a root
 * admin, and the same five actors:
 *
 *   root                          root-admin    admin of root
 *   └── parentspace (inherits)    parent-admin  admin
 *       ├── childspace (inherits) child-reader  read
 *       └── siblingspace (does not inherit)
 *                                 sibling-user  admin
 *   stranger: a known user without any role.
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stackhook/authz.h"
#include "stackhook/integrations.h"
#include "stackhook/json.h"
#include "stackhook/spaces.h"
#include "stackhook/stacks.h"
#include "stackhook/users.h"
#include "testutil.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct model {
	struct tu_dir dir;
	struct sh_instance *inst;
	struct sh_db *db;
	struct sh_integration_env env;
	const char *prefix; /* status_prefix */
	struct sh_actor root, padmin, creader, sib, stranger;
	struct sh_err last; /* the error of the last REFUSED call */
};

/* ------------------------------------------------------------------ */
/* helpers */

/* A JSON object from a printf format where ' stands for " (values must
 * not hold a quote).  Fails the test when it does not parse. */
static cJSON * __attribute__((format(printf, 1, 2)))
J(const char *fmt, ...)
{
	char text[8192];
	struct sh_err err;
	cJSON *obj = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && n < (int)sizeof(text));
	for (char *p = text; *p; p++)
		if (*p == '\'')
			*p = '"';
	sh_err_clear(&err);
	if (sh_json_parse_object(text, (size_t)n, &obj, &err) < 0)
		fail_msg("bad test JSON %s: %s", text, err.msg);
	return obj;
}

static void
expect_ok(int rc, const struct sh_err *err, const char *what, int line)
{
	if (rc != 0)
		fail_msg("line %d: %s failed: %s: %s", line, what,
			 sh_err_code_name(err->code), err->msg);
}

static void
expect_fail(int rc, const struct sh_err *err, enum sh_errcode code,
	    const char *field, const char *what, int line)
{
	if (rc != -1)
		fail_msg("line %d: %s succeeded, expected %s", line, what,
			 sh_err_code_name(code));
	if (err->code != code)
		fail_msg("line %d: %s: expected %s, got %s (%s)", line, what,
			 sh_err_code_name(code), sh_err_code_name(err->code), err->msg);
	if (field != NULL && strcmp(err->field, field) != 0)
		fail_msg("line %d: %s: expected the error on \"%s\", got \"%s\" (%s)",
			 line, what, field, err->field, err->msg);
	if (err->msg[0] == '\0')
		fail_msg("line %d: %s: the error has no message", line, what);
}

/* Both use a struct sh_err err in scope. */
#define OK(call)                                                             \
	do {                                                                 \
		sh_err_clear(&err);                                          \
		expect_ok((call), &err, #call, __LINE__);                    \
	} while (0)
#define FAILS(call, code, field)                                             \
	do {                                                                 \
		sh_err_clear(&err);                                          \
		expect_fail((call), &err, (code), (field), #call, __LINE__); \
	} while (0)

static const char *
str(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsString(item))
		fail_msg("\"%s\" is not a string member", name);
	return item->valuestring;
}

/* Expects obj's member pairs[i] to be the string pairs[i + 1], for each
 * pair of the NULL-terminated list; a failure names the caller's line
 * (EXPECT_STRS). */
static void
expect_strs_at(int line, const cJSON *obj, const char *const *pairs)
{
	for (size_t i = 0; pairs[i] != NULL; i += 2) {
		const char *got = str(obj, pairs[i]);

		if (strcmp(got, pairs[i + 1]) != 0)
			fail_msg("line %d: \"%s\" is \"%s\", expected \"%s\"", line,
				 pairs[i], got, pairs[i + 1]);
	}
}

#define EXPECT_STRS(obj, ...)                                                \
	expect_strs_at(__LINE__, (obj), (const char *const[]){__VA_ARGS__, NULL})

static bool
is_null(const cJSON *obj, const char *name)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(obj, name));
}

/* Checks that obj has every key of keys and none of absent. */
static void
expect_keys(const cJSON *obj, const char *const *keys, size_t nkeys,
	    const char *const *absent, size_t nabsent)
{
	for (size_t i = 0; i < nkeys; i++)
		if (!cJSON_HasObjectItem(obj, keys[i]))
			fail_msg("the object has no \"%s\"", keys[i]);
	for (size_t i = 0; i < nabsent; i++)
		if (cJSON_HasObjectItem(obj, absent[i]))
			fail_msg("the object shows \"%s\"", absent[i]);
}

/* The number of items of a page, after checking its shape. */
static int
page_count(const cJSON *page)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");

	assert_true(cJSON_IsArray(items));
	assert_true(cJSON_HasObjectItem(page, "next"));
	return cJSON_GetArraySize(items);
}

/* true when some item of page has member key equal to value. */
static bool
page_has(const cJSON *page, const char *key, const char *value)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(page, "items")) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, key);

		if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
			return true;
	}
	return false;
}

/* Expects page to list exactly the values (member key) given, in any
 * order. */
static void
expect_listed(const cJSON *page, const char *key, const char *const *values,
	      size_t n)
{
	char *text;

	for (size_t i = 0; i < n; i++) {
		if (!page_has(page, key, values[i])) {
			text = cJSON_PrintUnformatted(page);
			fail_msg("%s is not listed in %s", values[i], text);
		}
	}
	if ((size_t)page_count(page) != n) {
		text = cJSON_PrintUnformatted(page);
		fail_msg("expected %zu items, got %s", n, text);
	}
}

/* The number of audit records matching actor, action and object type. */
static int64_t
audit_count(struct sh_db *db, const char *actor, const char *action,
	    const char *object_type)
{
	static const char sql[] =
		"SELECT count(*) FROM audit WHERE actor = $1 AND action = $2 "
		"AND object_type = $3 AND address = '192.0.2.1'";
	struct sh_stmt *st;
	struct sh_err err;
	int64_t n;

	if (sh_db_query(db, sql, &st, &err, "ttt", actor, action, object_type) != 1)
		fail_msg("audit query: %s", err.msg);
	n = sh_stmt_int(st, 0);
	sh_stmt_release(st);
	return n;
}

static const struct sh_page first_page = {.limit = SH_PAGE_DEFAULT, .after = 0};

static void
add_user(struct sh_db *db, const char *name, struct sh_actor *actor)
{
	struct sh_user u;
	struct sh_err err;

	if (sh_users_ensure(db, name, &u, NULL, &err) < 0)
		fail_msg("ensure user %s: %s", name, err.msg);
	actor->user_id = u.id;
	actor->name = name;
	actor->address = "192.0.2.1";
}

/* ------------------------------------------------------------------ */
/* the calls of the model: one call states one check */

/* The creates and patches take a JSON body; the others none. */
enum op {
	SPACE_CREATE,
	SPACE_PATCH,
	SPACE_GET,
	SPACE_DELETE,
	INTEGRATION_CREATE,
	INTEGRATION_PATCH,
	INTEGRATION_GET,
	INTEGRATION_DETAILS,
	INTEGRATION_ROTATE,
	INTEGRATION_HEALTH,
	INTEGRATION_DELETE,
	STACK_CREATE,
	STACK_PATCH,
	STACK_GET,
	STACK_DELETE,
};

static const char *const op_names[] = {
	[SPACE_CREATE] = "space create",
	[SPACE_PATCH] = "space patch",
	[SPACE_GET] = "space get",
	[SPACE_DELETE] = "space delete",
	[INTEGRATION_CREATE] = "integration create",
	[INTEGRATION_PATCH] = "integration patch",
	[INTEGRATION_GET] = "integration get",
	[INTEGRATION_DETAILS] = "integration details",
	[INTEGRATION_ROTATE] = "integration rotate",
	[INTEGRATION_HEALTH] = "integration health",
	[INTEGRATION_DELETE] = "integration delete",
	[STACK_CREATE] = "stack create",
	[STACK_PATCH] = "stack patch",
	[STACK_GET] = "stack get",
	[STACK_DELETE] = "stack delete",
};

/* Runs op as actor a; id names what it reads or changes (a create has
 * none), body is for the creates and patches. */
static int
run_op(struct model *m, enum op op, const struct sh_actor *a, const char *id,
       const cJSON *body, cJSON **out, struct sh_err *err)
{
	switch (op) {
	case SPACE_CREATE:
		return sh_spaces_create(m->db, a, body, out, err);
	case SPACE_PATCH:
		return sh_spaces_patch(m->db, a, id, body, out, err);
	case SPACE_GET:
		return sh_spaces_get(m->db, a, id, out, err);
	case SPACE_DELETE:
		return sh_spaces_delete(m->db, a, id, err);
	case INTEGRATION_CREATE:
		return sh_integrations_create(m->db, &m->env, a, body, out, err);
	case INTEGRATION_PATCH:
		return sh_integrations_patch(m->db, &m->env, a, id, body, out, err);
	case INTEGRATION_GET:
		return sh_integrations_get(m->db, a, id, out, err);
	case INTEGRATION_DETAILS:
		return sh_integrations_details(m->db, &m->env, a, id, out, err);
	case INTEGRATION_ROTATE:
		return sh_integrations_rotate_secret(m->db, &m->env, a, id, out, err);
	case INTEGRATION_HEALTH:
		return sh_integrations_health(m->db, &m->env, a, id, out, err);
	case INTEGRATION_DELETE:
		return sh_integrations_delete(m->db, a, id, err);
	case STACK_CREATE:
		return sh_stacks_create(m->db, m->prefix, a, body, out, err);
	case STACK_PATCH:
		return sh_stacks_patch(m->db, m->prefix, a, id, body, out, err);
	case STACK_GET:
		return sh_stacks_get(m->db, m->prefix, a, id, out, err);
	case STACK_DELETE:
		return sh_stacks_delete(m->db, a, id, err);
	}
	fail_msg("unknown op %d", (int)op);
	return -1;
}

/* What a failure message calls the call: the op, the id, the body. */
static const char *
op_what(char *buf, size_t size, enum op op, const char *id,
	const char *body_text)
{
	snprintf(buf, size, "%s%s%s%s%s", op_names[op], id ? " " : "", id ? id : "",
		 body_text ? " " : "", body_text ? body_text : "");
	return buf;
}

/* op with body_text (see J; NULL for the ops without a body) as a must
 * succeed; returns the answer (delete it; NULL from a delete).  Through
 * DONE, failures name the caller's line. */
static cJSON *
done_at(int line, struct model *m, enum op op, const struct sh_actor *a,
	const char *id, const char *body_text)
{
	struct sh_err err;
	cJSON *body = body_text ? J("%s", body_text) : NULL, *out = NULL;
	char what[512];
	int rc;

	sh_err_clear(&err);
	rc = run_op(m, op, a, id, body, &out, &err);
	cJSON_Delete(body);
	expect_ok(rc, &err, op_what(what, sizeof(what), op, id, body_text), line);
	return out;
}

/* op with body_text as a must fail with code (on field, unless NULL) and
 * answer nothing; the error stays in m->last for checks of its message. */
static void
refused_at(int line, struct model *m, enum op op, const struct sh_actor *a,
	   const char *id, const char *body_text, enum sh_errcode code,
	   const char *field)
{
	cJSON *body = body_text ? J("%s", body_text) : NULL, *out = NULL;
	char what[512];
	bool answered;
	int rc;

	sh_err_clear(&m->last);
	rc = run_op(m, op, a, id, body, &out, &m->last);
	cJSON_Delete(body);
	answered = out != NULL;
	cJSON_Delete(out);
	op_what(what, sizeof(what), op, id, body_text);
	expect_fail(rc, &m->last, code, field, what, line);
	if (answered)
		fail_msg("line %d: %s: refused, yet answered", line, what);
}

#define DONE(...) done_at(__LINE__, __VA_ARGS__)
#define REFUSED(...) refused_at(__LINE__, __VA_ARGS__)

/* done_at, then expect_strs_at on its answer, which goes. */
static void
done_shows_at(int line, struct model *m, enum op op, const struct sh_actor *a,
	      const char *id, const char *body_text, const char *const *pairs)
{
	cJSON *out = done_at(line, m, op, a, id, body_text);

	expect_strs_at(line, out, pairs);
	cJSON_Delete(out);
}

/* DONE, and the answer shows the string members given as name, value
 * pairs. */
#define DONE_SHOWS(m, op, a, id, body_text, ...)                             \
	done_shows_at(__LINE__, (m), (op), (a), (id), (body_text),           \
		      (const char *const[]){__VA_ARGS__, NULL})

/* The rights every call on something below parentspace checks: the
 * reader of childspace may read, so op is forbidden (403) to them;
 * sibling-user and the stranger cannot read it, so for them it is not
 * found (404).  The error names field (unless NULL). */
static void
outsiders_refused_at(int line, struct model *m, enum op op, const char *id,
		     const char *body_text, const char *field)
{
	refused_at(line, m, op, &m->creader, id, body_text, SH_E_FORBIDDEN, field);
	refused_at(line, m, op, &m->sib, id, body_text, SH_E_NOT_FOUND, field);
	refused_at(line, m, op, &m->stranger, id, body_text, SH_E_NOT_FOUND, field);
}

#define OUTSIDERS_REFUSED(...) outsiders_refused_at(__LINE__, __VA_ARGS__)

static void
create_space(struct model *m, const char *body_text, const char *expected_id)
{
	cJSON *out = DONE(m, SPACE_CREATE, &m->root, NULL, body_text);

	assert_string_equal(str(out, "id"), expected_id);
	cJSON_Delete(out);
}

static void
grant(struct model *m, const char *space, const char *user, const char *role)
{
	struct sh_err err;
	cJSON *body = J("{'role': '%s'}", role), *out = NULL;

	OK(sh_spaces_set_member(m->db, &m->root, space, user, body, &out, &err));
	assert_string_equal(str(out, "role"), role);
	cJSON_Delete(out);
	cJSON_Delete(body);
}

static int
model_setup(void **state)
{
	struct model *m = calloc(1, sizeof(*m));
	const unsigned char *key;
	struct sh_err err;

	if (m == NULL)
		return -1;
	*state = m;
	if (tu_instance_open(&m->dir, NULL, true, &m->inst) < 0 ||
	    sh_instance_db(m->inst, &m->db, &err) < 0 ||
	    sh_instance_key(m->inst, &key, &err) < 0)
		return -1;
	m->env.cfg = m->inst->cfg;
	m->env.secret_key = key;
	m->prefix = m->inst->cfg->status_prefix;

	if (sh_db_begin(m->db, &err) < 0)
		return -1;
	add_user(m->db, "root-admin", &m->root);
	add_user(m->db, "parent-admin", &m->padmin);
	add_user(m->db, "child-reader", &m->creader);
	add_user(m->db, "sibling-user", &m->sib);
	add_user(m->db, "stranger", &m->stranger);
	if (sh_authz_grant(m->db, SH_ROOT_SPACE, m->root.user_id, SH_ROLE_ADMIN,
			   &err) < 0 ||
	    sh_db_commit(m->db, &err) < 0) {
		fprintf(stderr, "model_setup: %s\n", err.msg);
		return -1;
	}
	create_space(m, "{'name': 'ParentSpace'}", "parentspace");
	create_space(m, "{'name': 'ChildSpace', 'parent': 'parentspace'}",
		     "childspace");
	create_space(m, "{'name': 'SiblingSpace', 'parent': 'parentspace', "
			"'inherit': false}",
		     "siblingspace");
	grant(m, "parentspace", "parent-admin", "admin");
	grant(m, "childspace", "child-reader", "read");
	grant(m, "siblingspace", "sibling-user", "admin");
	return 0;
}

static int
model_teardown(void **state)
{
	struct model *m = *state;
	int rc;

	if (m == NULL)
		return 0;
	rc = tu_instance_close(&m->dir, m->inst);
	free(m);
	return rc;
}

/* What the tests make again and again, each by whom it belongs to; vpc
 * is attached to gitlab-prod, so the order is the order of making. */
enum thing {
	PROD,       /* "GitLab Prod" in parentspace, by its admin */
	VPC,        /* the stack "vpc" in childspace, by parent-admin */
	DEFAULT,    /* "GitLab Com", the default, by the root admin */
	CHILD_GL,   /* "Child GL" in childspace, by parent-admin */
	SIBLING_GL, /* "Sibling GL" in siblingspace, by sibling-user */
};

/* Makes thing t; returns the answer (with an integration's details). */
static cJSON *
make(struct model *m, enum thing t)
{
	static const struct {
		enum op op;
		size_t by; /* the actor: its offset in struct model */
		const char *body;
	} things[] = {
		[PROD] = {INTEGRATION_CREATE, offsetof(struct model, padmin),
			  "{'name': 'GitLab Prod', 'space': 'parentspace', "
			  "'api_host_url': 'https://gitlab.example.com', "
			  "'api_token': 'glpat-prod-token-c3vH', 'labels': ['prod']}"},
		[VPC] = {STACK_CREATE, offsetof(struct model, padmin),
			 "{'id': 'vpc', 'name': 'VPC', 'space': 'childspace', "
			 "'integration': 'gitlab-prod', 'namespace': 'group-1', "
			 "'repository': 'project-a', 'branch': 'main'}"},
		[DEFAULT] = {INTEGRATION_CREATE, offsetof(struct model, root),
			     "{'name': 'GitLab Com', 'type': 'default', "
			     "'api_host_url': 'https://gitlab.com'}"},
		[CHILD_GL] = {INTEGRATION_CREATE, offsetof(struct model, padmin),
			      "{'name': 'Child GL', 'space': 'childspace', "
			      "'api_host_url': 'https://c.example'}"},
		[SIBLING_GL] = {INTEGRATION_CREATE, offsetof(struct model, sib),
				"{'name': 'Sibling GL', 'space': 'siblingspace', "
				"'api_host_url': 'https://s.example'}"},
	};
	const struct sh_actor *by =
		(const struct sh_actor *)((const char *)m + things[t].by);

	return DONE(m, things[t].op, by, NULL, things[t].body);
}

/* model_setup, and the first n things made. */
static int
model_setup_making(void **state, size_t n)
{
	if (model_setup(state) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(make(*state, (enum thing)i));
	return 0;
}

/* model_setup and PROD. */
static int
prod_setup(void **state)
{
	return model_setup_making(state, 1);
}

/* model_setup, PROD and VPC. */
static int
vpc_setup(void **state)
{
	return model_setup_making(state, 2);
}

/* A test on the model of model_setup, prod_setup or vpc_setup: the body
 * has the model m, a cleared struct sh_err err for OK and FAILS, and a
 * cJSON *out that starts NULL. */
#define MODEL_TEST(name)                                                     \
	static void name##_body(struct model *m, struct sh_err err,          \
				cJSON *out);                                 \
	static void name(void **state)                                       \
	{                                                                    \
		struct sh_err err;                                           \
                                                                             \
		sh_err_clear(&err);                                          \
		name##_body(*state, err, NULL);                              \
	}                                                                    \
	static void name##_body(struct model *m,                             \
				struct sh_err err __attribute__((unused)),   \
				cJSON *out __attribute__((unused)))

enum kind { SPACES, INTEGRATIONS, STACKS };

/* The first page of kind that a sees; filter is for stacks only. */
static cJSON *
first_of(struct model *m, enum kind kind, const struct sh_actor *a,
	 const struct sh_stack_filter *filter)
{
	struct sh_err err;
	cJSON *page = NULL;

	switch (kind) {
	case SPACES:
		OK(sh_spaces_list(m->db, a, &first_page, &page, &err));
		break;
	case INTEGRATIONS:
		OK(sh_integrations_list(m->db, a, &first_page, &page, &err));
		break;
	case STACKS:
		OK(sh_stacks_list(m->db, m->prefix, a, filter, &first_page, &page,
				  &err));
		break;
	}
	return page;
}

/* a sees exactly the n ids (slugs for integrations) of kind. */
static void
expect_sees(struct model *m, enum kind kind, const struct sh_actor *a,
	    const struct sh_stack_filter *filter, const char *const *ids,
	    size_t n)
{
	cJSON *page = first_of(m, kind, a, filter);

	expect_listed(page, kind == INTEGRATIONS ? "slug" : "id", ids, n);
	cJSON_Delete(page);
}

/* Keys of a space, an integration summary and a stack (SPEC §4.2). */
static const char *const space_keys[] = {
	"id", "name", "parent", "inherit", "description", "created_at", "updated_at",
};
static const char *const summary_keys[] = {
	"name", "slug", "type", "space", "api_host_url", "user_facing_host_url",
	"labels", "description", "token_set", "token_last4", "created_at",
	"updated_at",
};
static const char *const secret_keys[] = {
	"webhook_secret", "api_token", "signing_token", "secret", "token",
	"secret_sealed", "token_sealed",
};
static const char *const summary_only_absent[] = {
	"webhook_secret", "api_token", "signing_token", "webhook_url", "secret",
	"token", "secret_sealed", "token_sealed",
};
static const char *const stack_keys[] = {
	"id", "name", "kind", "space", "integration", "namespace", "repository",
	"branch", "project_root", "environment", "labels",
};

/* ------------------------------------------------------------------ */
/* spaces: reading */

MODEL_TEST(test_space_read_rights)
{
	static const struct {
		const char *space;
		bool root, padmin, creader, sib, stranger;
	} cases[] = {
		{"root", true, false, false, false, false},
		{"parentspace", true, true, false, false, false},
		{"childspace", true, true, true, false, false},
		/* admins of a parent see (and manage) its children, even
		 * one that does not inherit */
		{"siblingspace", true, true, false, true, false},
	};

	for (size_t i = 0; i < COUNT(cases); i++) {
		const struct {
			const struct sh_actor *a;
			bool can;
		} who[] = {
			{&m->root, cases[i].root},         {&m->padmin, cases[i].padmin},
			{&m->creader, cases[i].creader},   {&m->sib, cases[i].sib},
			{&m->stranger, cases[i].stranger},
		};

		for (size_t j = 0; j < COUNT(who); j++) {
			if (who[j].can) {
				out = DONE(m, SPACE_GET, who[j].a, cases[i].space, NULL);
				assert_string_equal(str(out, "id"), cases[i].space);
				cJSON_Delete(out);
			} else {
				REFUSED(m, SPACE_GET, who[j].a, cases[i].space, NULL,
					SH_E_NOT_FOUND, NULL);
				/* the message never tells whether it exists */
				assert_null(strstr(m->last.msg, "role"));
			}
		}
	}
	REFUSED(m, SPACE_GET, &m->root, "nowhere", NULL, SH_E_NOT_FOUND, NULL);
}

MODEL_TEST(test_space_shape)
{
	out = DONE(m, SPACE_GET, &m->padmin, "childspace", NULL);
	expect_keys(out, space_keys, COUNT(space_keys), NULL, 0);
	assert_string_equal(str(out, "name"), "ChildSpace");
	assert_string_equal(str(out, "parent"), "parentspace");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "inherit")));
	assert_int_equal(strlen(str(out, "created_at")), 20);
	cJSON_Delete(out);

	out = DONE(m, SPACE_GET, &m->root, "siblingspace", NULL);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(out, "inherit")));
	cJSON_Delete(out);

	out = DONE(m, SPACE_GET, &m->root, "root", NULL);
	assert_true(is_null(out, "parent"));
	cJSON_Delete(out);
}

MODEL_TEST(test_space_list_visibility)
{
	static const char *const all[] = {"root", "parentspace", "childspace",
					  "siblingspace"};
	static const char *const padmin[] = {"parentspace", "childspace",
					     "siblingspace"};
	static const char *const creader[] = {"childspace"};
	static const char *const sib[] = {"siblingspace"};
	cJSON *page = first_of(m, SPACES, &m->root, NULL);

	expect_listed(page, "id", all, COUNT(all));
	/* newest first */
	assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItem(page, "items"), 0),
				"id"),
			    "siblingspace");
	assert_true(is_null(page, "next"));
	cJSON_Delete(page);
	expect_sees(m, SPACES, &m->padmin, NULL, padmin, COUNT(padmin));
	expect_sees(m, SPACES, &m->creader, NULL, creader, COUNT(creader));
	expect_sees(m, SPACES, &m->sib, NULL, sib, COUNT(sib));
	expect_sees(m, SPACES, &m->stranger, NULL, NULL, 0);
}

MODEL_TEST(test_space_list_pages)
{
	struct sh_page p = {.limit = 3, .after = 0};
	cJSON *page = NULL;
	const char *next;
	char cursor[32];

	OK(sh_spaces_list(m->db, &m->root, &p, &page, &err));
	assert_int_equal(page_count(page), 3);
	next = str(page, "next");
	snprintf(cursor, sizeof(cursor), "%s", next);
	assert_false(page_has(page, "id", "root"));
	cJSON_Delete(page);
	OK(sh_page_parse("3", cursor, &p, &err));
	OK(sh_spaces_list(m->db, &m->root, &p, &page, &err));
	assert_int_equal(page_count(page), 1);
	assert_true(page_has(page, "id", "root"));
	assert_true(is_null(page, "next"));
	cJSON_Delete(page);
}

/* ------------------------------------------------------------------ */
/* spaces: writing */

MODEL_TEST(test_space_create_rights)
{
	static const char reader_made[] =
		"{'name': 'Reader Made', 'parent': 'childspace'}";

	/* the admin of the parent creates; inherit defaults to true */
	out = DONE(m, SPACE_CREATE, &m->padmin, NULL,
		   "{'name': 'Grand Child', 'parent': 'childspace'}");
	assert_string_equal(str(out, "id"), "grand-child");
	assert_string_equal(str(out, "parent"), "childspace");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "inherit")));
	cJSON_Delete(out);

	/* a reader of the parent may not: 403; who cannot read it: 404 */
	OUTSIDERS_REFUSED(m, SPACE_CREATE, NULL, reader_made, "parent");
	/* no parent means root: only root admins */
	REFUSED(m, SPACE_CREATE, &m->padmin, NULL, "{'name': 'Top'}",
		SH_E_NOT_FOUND, "parent");
	DONE_SHOWS(m, SPACE_CREATE, &m->root, NULL, "{'name': 'Top'}",
		   "parent", "root");
	/* nothing was created by the refused calls */
	REFUSED(m, SPACE_GET, &m->root, "reader-made", NULL, SH_E_NOT_FOUND, NULL);
}

MODEL_TEST(test_space_create_checks)
{
	static const struct {
		bool by_root; /* else by parent-admin */
		const char *body;
		enum sh_errcode code;
		const char *field;
	} cases[] = {
		{false, "{'name': 'X', 'id': 'Bad Id', 'parent': 'parentspace'}",
		 SH_E_INVALID_FIELD, "id"},
		{false, "{'name': 'ChildSpace', 'parent': 'parentspace'}",
		 SH_E_CONFLICT, "id"},
		{true, "{'name': 'Root'}", SH_E_CONFLICT, "id"},
		{true, "{'name': 'X', 'parent': 'nowhere'}", SH_E_NOT_FOUND,
		 "parent"},
		{true, "{'name': 'X', 'owner': 'me'}", SH_E_UNKNOWN_FIELD, "owner"},
		{true, "{'parent': 'parentspace'}", SH_E_MISSING_FIELD, "name"},
		{true, "{'name': '!!!'}", SH_E_INVALID_FIELD, "name"},
		{true, "{'name': 'X', 'inherit': 'yes'}", SH_E_INVALID_FIELD,
		 "inherit"},
	};

	for (size_t i = 0; i < COUNT(cases); i++)
		REFUSED(m, SPACE_CREATE, cases[i].by_root ? &m->root : &m->padmin,
			NULL, cases[i].body, cases[i].code, cases[i].field);
}

MODEL_TEST(test_space_patch_rights)
{
	static const char desc[] = "{'description': 'Networks\\nand more'}";

	/* admin of the parent */
	DONE_SHOWS(m, SPACE_PATCH, &m->padmin, "childspace", desc,
		   "description", "Networks\nand more", "name", "ChildSpace");
	/* a reader: 403; who cannot read it: 404 */
	OUTSIDERS_REFUSED(m, SPACE_PATCH, "childspace", desc, NULL);
	/* an admin of a space is not an admin of its parent */
	REFUSED(m, SPACE_PATCH, &m->padmin, "parentspace", desc, SH_E_FORBIDDEN,
		NULL);
	REFUSED(m, SPACE_PATCH, &m->sib, "siblingspace", desc, SH_E_FORBIDDEN,
		NULL);
	cJSON_Delete(DONE(m, SPACE_PATCH, &m->root, "parentspace", desc));
	REFUSED(m, SPACE_PATCH, &m->root, "nowhere", desc, SH_E_NOT_FOUND, NULL);

	/* a new name keeps the id */
	DONE_SHOWS(m, SPACE_PATCH, &m->padmin, "childspace",
		   "{'name': 'Child Space Renamed'}",
		   "id", "childspace", "name", "Child Space Renamed");
	cJSON_Delete(DONE(m, SPACE_PATCH, &m->padmin, "childspace",
			  "{'name': 'ChildSpace'}"));

	/* null clears the description */
	DONE_SHOWS(m, SPACE_PATCH, &m->padmin, "childspace",
		   "{'description': null}",
		   "description", "");

	/* the id is not for changing */
	REFUSED(m, SPACE_PATCH, &m->root, "childspace", "{'id': 'other'}",
		SH_E_NAME_IMMUTABLE, "id");
	/* nor may a required field become null */
	REFUSED(m, SPACE_PATCH, &m->root, "childspace", "{'name': null}",
		SH_E_INVALID_FIELD, "name");
	DONE_SHOWS(m, SPACE_GET, &m->root, "childspace", NULL,
		   "name", "ChildSpace");
}

MODEL_TEST(test_space_move)
{
	/* below itself, or below its own child: refused */
	REFUSED(m, SPACE_PATCH, &m->root, "parentspace", "{'parent': 'childspace'}",
		SH_E_INVALID_FIELD, "parent");
	REFUSED(m, SPACE_PATCH, &m->root, "parentspace",
		"{'parent': 'parentspace'}", SH_E_INVALID_FIELD, "parent");
	REFUSED(m, SPACE_PATCH, &m->root, "root", "{'parent': 'childspace'}",
		SH_E_INVALID_FIELD, "parent");
	DONE_SHOWS(m, SPACE_GET, &m->root, "parentspace", NULL, "parent", "root");

	/* a move needs admin of the new parent too: parent-admin sees
	 * siblingspace (its child) but is not its admin */
	REFUSED(m, SPACE_PATCH, &m->padmin, "childspace",
		"{'parent': 'siblingspace'}", SH_E_FORBIDDEN, "parent");
	DONE_SHOWS(m, SPACE_PATCH, &m->root, "childspace",
		   "{'parent': 'siblingspace'}",
		   "parent", "siblingspace");
	/* child-reader now reads nothing above childspace, and the parent's
	 * admin lost childspace (its chain goes through siblingspace) */
	REFUSED(m, SPACE_GET, &m->padmin, "childspace", NULL, SH_E_NOT_FOUND, NULL);
	cJSON_Delete(DONE(m, SPACE_GET, &m->sib, "childspace", NULL));
	/* the root space has no parent to take, and nothing to inherit */
	REFUSED(m, SPACE_PATCH, &m->root, "root", "{'inherit': true}",
		SH_E_INVALID_FIELD, "inherit");
}

MODEL_TEST(test_space_inherit_changes_roles)
{
	struct sh_authz *az;

	cJSON_Delete(DONE(m, SPACE_PATCH, &m->padmin, "childspace",
			  "{'inherit': false}"));
	/* parent-admin's role came through inheritance only: no role in the
	 * space itself any more, though it still manages it as the parent's
	 * admin */
	OK(sh_authz_load(m->db, m->padmin.user_id, &az, &err));
	assert_int_equal(sh_authz_role(az, "childspace"), SH_ROLE_NONE);
	sh_authz_free(az);
	/* the direct grant stays; root admins stay admins everywhere */
	cJSON_Delete(DONE(m, SPACE_GET, &m->creader, "childspace", NULL));
	cJSON_Delete(DONE(m, SPACE_GET, &m->root, "childspace", NULL));
}

MODEL_TEST(test_space_delete)
{
	/* not empty: 409 naming the children */
	REFUSED(m, SPACE_DELETE, &m->root, "parentspace", NULL, SH_E_CONFLICT, NULL);
	assert_non_null(strstr(m->last.msg, "childspace"));
	assert_non_null(strstr(m->last.msg, "siblingspace"));

	/* rights: reader 403, outsider 404 */
	OUTSIDERS_REFUSED(m, SPACE_DELETE, "childspace", NULL, NULL);
	REFUSED(m, SPACE_DELETE, &m->root, "nowhere", NULL, SH_E_NOT_FOUND, NULL);
	REFUSED(m, SPACE_DELETE, &m->root, "root", NULL, SH_E_CONFLICT, NULL);

	/* empty, by the admin of the parent (its grants go with it) */
	DONE(m, SPACE_DELETE, &m->padmin, "childspace", NULL);
	REFUSED(m, SPACE_GET, &m->root, "childspace", NULL, SH_E_NOT_FOUND, NULL);
	REFUSED(m, SPACE_GET, &m->creader, "childspace", NULL, SH_E_NOT_FOUND, NULL);
	/* the id is free again, without the old grants */
	cJSON_Delete(DONE(m, SPACE_CREATE, &m->padmin, NULL,
			  "{'name': 'ChildSpace', 'parent': 'parentspace', "
			  "'inherit': false}"));
	REFUSED(m, SPACE_GET, &m->creader, "childspace", NULL, SH_E_NOT_FOUND, NULL);
}

MODEL_TEST(test_space_delete_lists_stacks_and_integrations)
{
	cJSON_Delete(make(m, CHILD_GL));
	cJSON_Delete(DONE(m, STACK_CREATE, &m->padmin, NULL,
			  "{'id': 'net', 'name': 'Net', 'space': 'childspace', "
			  "'namespace': 'g', 'repository': 'r', 'branch': 'main'}"));
	REFUSED(m, SPACE_DELETE, &m->padmin, "childspace", NULL, SH_E_CONFLICT, NULL);
	assert_non_null(strstr(m->last.msg, "net"));
	assert_non_null(strstr(m->last.msg, "child-gl"));
	/* still there */
	cJSON_Delete(DONE(m, SPACE_GET, &m->padmin, "childspace", NULL));
}

/* A deleted integration keeps its row (its id is never reused), but it
 * is not in the space any more: the emptied space can go. */
MODEL_TEST(test_space_delete_after_its_integration_was_deleted)
{
	cJSON_Delete(make(m, CHILD_GL));
	DONE(m, INTEGRATION_DELETE, &m->padmin, "child-gl", NULL);
	DONE(m, SPACE_DELETE, &m->padmin, "childspace", NULL);
	REFUSED(m, SPACE_GET, &m->root, "childspace", NULL, SH_E_NOT_FOUND, NULL);
}

/* A change of parent or inherit that would leave an attached stack unable
 * to use its integration: 409 naming the stack, nothing changed. */
MODEL_TEST(test_space_change_breaking_attachment)
{
	static const char *const changes[] = {
		"{'inherit': false}",
		"{'parent': 'root'}",
		"{'parent': 'siblingspace'}",
		"{'parent': 'root', 'inherit': true}",
	};

	for (size_t i = 0; i < COUNT(changes); i++) {
		REFUSED(m, SPACE_PATCH, &m->root, "childspace", changes[i],
			SH_E_CONFLICT, NULL);
		if (strstr(m->last.msg, "vpc") == NULL)
			fail_msg("%s: the conflict does not name the stack: %s",
				 changes[i], m->last.msg);
	}
	/* nothing changed */
	out = DONE(m, SPACE_GET, &m->root, "childspace", NULL);
	assert_string_equal(str(out, "parent"), "parentspace");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "inherit")));
	cJSON_Delete(out);
	DONE_SHOWS(m, STACK_GET, &m->root, "vpc", NULL,
		   "integration", "gitlab-prod");

	/* the parent's own inherit flag does not matter to the chain from
	 * childspace up to parentspace */
	cJSON_Delete(DONE(m, SPACE_PATCH, &m->root, "parentspace",
			  "{'inherit': false}"));

	/* once detached, the change goes through */
	cJSON_Delete(DONE(m, STACK_PATCH, &m->root, "vpc", "{'integration': null}"));
	out = DONE(m, SPACE_PATCH, &m->root, "childspace", "{'inherit': false}");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(out, "inherit")));
	cJSON_Delete(out);
}

/* Moving the space an integration lives in keeps the stacks below it. */
MODEL_TEST(test_space_move_with_its_stacks)
{
	create_space(m, "{'name': 'Other'}", "other");
	cJSON_Delete(DONE(m, SPACE_PATCH, &m->root, "parentspace",
			  "{'parent': 'other'}"));
	DONE_SHOWS(m, STACK_GET, &m->root, "vpc", NULL,
		   "integration", "gitlab-prod");
}

MODEL_TEST(test_space_members)
{
	cJSON *body;
	struct sh_user u;

	body = J("{'role': 'write'}");
	/* a user named for the first time is created */
	FAILS(sh_users_find(m->db, "newcomer", &u, &err), SH_E_NOT_FOUND, NULL);
	OK(sh_spaces_set_member(m->db, &m->padmin, "childspace", "newcomer", body,
				&out, &err));
	assert_string_equal(str(out, "user"), "newcomer");
	assert_string_equal(str(out, "space"), "childspace");
	cJSON_Delete(out);
	OK(sh_users_find(m->db, "newcomer", &u, &err));
	/* only admins grant */
	FAILS(sh_spaces_set_member(m->db, &m->creader, "childspace", "x", body, &out,
				   &err),
	      SH_E_FORBIDDEN, NULL);
	FAILS(sh_spaces_set_member(m->db, &m->sib, "childspace", "x", body, &out,
				   &err),
	      SH_E_NOT_FOUND, NULL);
	FAILS(sh_spaces_set_member(m->db, &m->root, "childspace", "bad name!", body,
				   &out, &err),
	      SH_E_INVALID_FIELD, NULL);
	cJSON_Delete(body);
	body = J("{'role': 'owner'}");
	FAILS(sh_spaces_set_member(m->db, &m->root, "childspace", "x", body, &out,
				   &err),
	      SH_E_INVALID_FIELD, "role");
	cJSON_Delete(body);

	/* the new writer can create stacks there now */
	{
		struct sh_actor w = {.user_id = u.id, .name = "newcomer"};

		cJSON_Delete(DONE(m, STACK_CREATE, &w, NULL,
				  "{'name': 'By Writer', 'space': 'childspace', "
				  "'namespace': 'g', 'repository': 'r', "
				  "'branch': 'main'}"));
		/* removing the grant takes it away */
		OK(sh_spaces_remove_member(m->db, &m->padmin, "childspace", "newcomer",
					   &err));
		REFUSED(m, STACK_GET, &w, "by-writer", NULL, SH_E_NOT_FOUND, NULL);
		FAILS(sh_spaces_remove_member(m->db, &m->padmin, "childspace",
					      "newcomer", &err),
		      SH_E_NOT_FOUND, NULL);
	}
}

/* ------------------------------------------------------------------ */
/* integrations */

MODEL_TEST(test_integration_create)
{
	static const char *const detail_keys[] = {"webhook_url", "webhook_secret",
						  "events"};
	cJSON *events;
	const char *secret;

	out = make(m, PROD);
	expect_keys(out, summary_keys, COUNT(summary_keys), NULL, 0);
	expect_keys(out, detail_keys, COUNT(detail_keys), NULL, 0);
	assert_false(cJSON_HasObjectItem(out, "api_token"));
	EXPECT_STRS(out, "name", "GitLab Prod", "slug", "gitlab-prod",
		    "type", "space", "space", "parentspace",
		    "api_host_url", "https://gitlab.example.com",
		    "user_facing_host_url", "https://gitlab.example.com",
		    "token_last4", "c3vH",
		    "webhook_url", TU_PUBLIC_URL "/webhooks/gitlab/gitlab-prod");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "token_set")));
	secret = str(out, "webhook_secret");
	/* at least 32 random bytes, printable */
	assert_true(strlen(secret) >= 43);
	for (const char *p = secret; *p; p++)
		assert_true(*p > 0x20 && *p < 0x7f);
	events = cJSON_GetObjectItem(out, "events");
	assert_int_equal(cJSON_GetArraySize(events), 3);
	assert_string_equal(cJSON_GetArrayItem(events, 0)->valuestring, "push");
	assert_string_equal(cJSON_GetArrayItem(events, 1)->valuestring, "tag_push");
	assert_string_equal(cJSON_GetArrayItem(events, 2)->valuestring,
			    "merge_request");
	cJSON_Delete(out);

	/* no token: token_set false, token_last4 null; labels are a set */
	out = DONE(m, INTEGRATION_CREATE, &m->root, NULL,
		   "{'name': 'GitLab Other', 'space': 'siblingspace', "
		   "'api_host_url': 'https://gitlab.other.example/gl/', "
		   "'user_facing_host_url': 'https://people.example', "
		   "'labels': ['b', 'a', 'b'], 'description': 'x\\ny'}");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(out, "token_set")));
	assert_true(is_null(out, "token_last4"));
	assert_string_equal(str(out, "api_host_url"), "https://gitlab.other.example/gl");
	assert_string_equal(str(out, "user_facing_host_url"), "https://people.example");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "labels")), 2);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "labels"), 0)
				    ->valuestring,
			    "a");
	assert_string_equal(str(out, "description"), "x\ny");
	cJSON_Delete(out);
}

MODEL_TEST(test_integration_create_rights)
{
	static const char child_gl[] =
		"{'name': 'Child GL', 'space': 'childspace', "
		"'api_host_url': 'https://gitlab.example.com'}";
	static const struct {
		const char *body;
		enum sh_errcode code;
		const char *field;
	} bad[] = {
		{"{'name': 'X', 'space': 'nowhere', "
		 "'api_host_url': 'https://gitlab.example.com'}",
		 SH_E_NOT_FOUND, "space"},
		{"{'name': 'X', 'api_host_url': 'https://gitlab.example.com'}",
		 SH_E_MISSING_FIELD, "space"},
		{"{'name': 'X', 'space': 'childspace'}", SH_E_MISSING_FIELD,
		 "api_host_url"},
		{"{'name': 'X', 'type': 'group', 'space': 'childspace', "
		 "'api_host_url': 'https://gitlab.example.com'}",
		 SH_E_INVALID_FIELD, "type"},
		{"{'name': 'X', 'space': 'childspace', 'api_token': 7, "
		 "'api_host_url': 'https://gitlab.example.com'}",
		 SH_E_INVALID_FIELD, "api_token"},
		{"{'name': 'X', 'space': 'childspace', 'ca_file': 'relative.pem', "
		 "'api_host_url': 'https://gitlab.example.com'}",
		 SH_E_INVALID_FIELD, "ca_file"},
		/* a name is one line of printable characters */
		{"{'name': 'GitLab\\nProd', 'space': 'childspace', "
		 "'api_host_url': 'https://gitlab.example.com'}",
		 SH_E_INVALID_FIELD, "name"},
		/* a name of more than 64 characters */
		{"{'name': '0000000000000000000000000000000000000000000000000000000000"
		 "0000000', 'space': 'childspace', "
		 "'api_host_url': 'https://gitlab.example.com'}",
		 SH_E_INVALID_FIELD, "name"},
	};

	OUTSIDERS_REFUSED(m, INTEGRATION_CREATE, NULL, child_gl, "space");
	/* an admin of the parent is an admin of the child */
	cJSON_Delete(DONE(m, INTEGRATION_CREATE, &m->padmin, NULL, child_gl));
	for (size_t i = 0; i < COUNT(bad); i++)
		REFUSED(m, INTEGRATION_CREATE, &m->root, NULL, bad[i].body,
			bad[i].code, bad[i].field);
}

MODEL_TEST(test_integration_default)
{
	static const char second[] =
		"{'name': 'Second Default', 'type': 'default', "
		"'api_host_url': 'https://gitlab.example.com'}";

	REFUSED(m, INTEGRATION_CREATE, &m->padmin, NULL,
		"{'name': 'GitLab Com', 'type': 'default', "
		"'api_host_url': 'https://gitlab.com'}",
		SH_E_FORBIDDEN, NULL);
	out = make(m, DEFAULT);
	assert_string_equal(str(out, "type"), "default");
	assert_string_equal(str(out, "space"), "root");
	cJSON_Delete(out);
	/* only one */
	REFUSED(m, INTEGRATION_CREATE, &m->root, NULL, second, SH_E_CONFLICT,
		"type");
	assert_non_null(strstr(m->last.msg, "GitLab Com"));
	/* it belongs to root */
	REFUSED(m, INTEGRATION_CREATE, &m->root, NULL,
		"{'name': 'Other', 'type': 'default', 'space': 'childspace', "
		"'api_host_url': 'https://gitlab.example.com'}",
		SH_E_INVALID_FIELD, "space");
	/* a space integration may not become a second default */
	cJSON_Delete(make(m, PROD));
	REFUSED(m, INTEGRATION_PATCH, &m->root, "gitlab-prod", "{'type': 'default'}",
		SH_E_CONFLICT, "type");
	/* after deleting the default, a new one can be made */
	DONE(m, INTEGRATION_DELETE, &m->root, "gitlab-com", NULL);
	cJSON_Delete(DONE(m, INTEGRATION_CREATE, &m->root, NULL, second));
}

MODEL_TEST(test_integration_slug_conflict)
{
	static const char *const names[] = {"GitLab Prod", "gitlab-prod",
					    "GITLAB  PROD!", "-- GitLab_Prod --"};
	char body[256];

	for (size_t i = 0; i < COUNT(names); i++) {
		/* in any space: slugs are global */
		snprintf(body, sizeof(body),
			 "{'name': '%s', 'space': 'siblingspace', "
			 "'api_host_url': 'https://gitlab.example.com'}",
			 names[i]);
		REFUSED(m, INTEGRATION_CREATE, &m->root, NULL, body, SH_E_CONFLICT,
			"name");
		if (strstr(m->last.msg, "GitLab Prod") == NULL)
			fail_msg("%s: the conflict does not name the existing "
				 "integration: %s", names[i], m->last.msg);
	}
}

MODEL_TEST(test_integration_urls)
{
	static const struct {
		const char *url;
		const char *stored;
	} good[] = {
		{"https://gitlab.example.com", "https://gitlab.example.com"},
		{"http://gitlab.local", "http://gitlab.local"},
		{"http://gitlab.local:8080", "http://gitlab.local:8080"},
		{"https://example.com/gitlab", "https://example.com/gitlab"},
		{"https://example.com/gitlab/", "https://example.com/gitlab"},
		{"https://example.com/", "https://example.com"},
		{"https://10.0.0.5:8443/a/b", "https://10.0.0.5:8443/a/b"},
		{"https://[::1]:8443", "https://[::1]:8443"},
		{"private://pool-1", "private://pool-1"},
		{"private://eu_west.2", "private://eu_west.2"},
	};
	static const char *const bad[] = {
		"ftp://gitlab.example.com",
		"https://user:pass@gitlab.example.com",
		"https://user@gitlab.example.com",
		"https://",
		"https:///path",
		"http://:8080",
		"https://gitlab.example.com?x=1",
		"https://gitlab.example.com/path?private_token=x",
		"https://gitlab.example.com/#frag",
		"https://gitlab.example.com:99999",
		"https://gitlab.example.com:0",
		"https://gitlab.example.com:",
		"https://gitlab.example.com:80x",
		"https://gitlab example.com",
		"https://gitlab.example.com/a b",
		"gitlab.example.com",
		"//gitlab.example.com",
		"HTTPS",
		"javascript:alert(1)",
		"file:///etc/passwd",
		"private://",
		"private://pool/x",
		"private://pool name",
		"",
	};
	cJSON *body;

	for (size_t i = 0; i < COUNT(good); i++) {
		char name[32];

		OK(sh_integrations_check_url(good[i].url, "api_host_url", &err));
		snprintf(name, sizeof(name), "Good %zu", i);
		/* private:// needs an address people can open for links */
		body = J("{'name': '%s', 'space': 'childspace', 'api_host_url': '%s', "
			 "'user_facing_host_url': 'https://gitlab.example.com'}",
			 name, good[i].url);
		OK(sh_integrations_create(m->db, &m->env, &m->padmin, body, &out, &err));
		assert_string_equal(str(out, "api_host_url"), good[i].stored);
		cJSON_Delete(out);
		cJSON_Delete(body);
	}
	/* without user_facing_host_url, private:// is refused */
	body = J("{'name': 'No Link', 'space': 'childspace', "
		 "'api_host_url': 'private://pool-1'}");
	FAILS(sh_integrations_create(m->db, &m->env, &m->padmin, body, &out, &err),
	      SH_E_MISSING_FIELD, "user_facing_host_url");
	cJSON_Delete(body);
	for (size_t i = 0; i < COUNT(bad); i++) {
		FAILS(sh_integrations_check_url(bad[i], "api_host_url", &err),
		      SH_E_INVALID_FIELD, "api_host_url");
		body = J("{'name': 'Bad', 'space': 'childspace', 'api_host_url': '%s'}",
			 bad[i]);
		sh_err_clear(&err);
		if (sh_integrations_create(m->db, &m->env, &m->padmin, body, &out,
					   &err) == 0)
			fail_msg("%s was accepted as api_host_url", bad[i]);
		expect_fail(-1, &err, SH_E_INVALID_FIELD, "api_host_url", bad[i],
			    __LINE__);
		cJSON_Delete(body);
		/* the same checks for the URL shown to people */
		body = J("{'name': 'Bad', 'space': 'childspace', "
			 "'api_host_url': 'https://gitlab.example.com', "
			 "'user_facing_host_url': '%s'}",
			 bad[i]);
		FAILS(sh_integrations_create(m->db, &m->env, &m->padmin, body, &out,
					     &err),
		      SH_E_INVALID_FIELD, "user_facing_host_url");
		cJSON_Delete(body);
	}
	/* people cannot open an agent pool */
	body = J("{'name': 'Bad', 'space': 'childspace', "
		 "'api_host_url': 'private://pool-1', "
		 "'user_facing_host_url': 'private://pool-1'}");
	FAILS(sh_integrations_create(m->db, &m->env, &m->padmin, body, &out, &err),
	      SH_E_INVALID_FIELD, "user_facing_host_url");
	cJSON_Delete(body);
	/* and in a patch */
	body = J("{'api_host_url': 'ftp://x'}");
	FAILS(sh_integrations_patch(m->db, &m->env, &m->padmin, "good-0", body, &out,
				    &err),
	      SH_E_INVALID_FIELD, "api_host_url");
	cJSON_Delete(body);
}

/* Every byte of every file of the instance (database, WAL, spool, ...). */
static void
scan_dir_for(const char *dir, const char *needle, const char *what)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[PATH_MAX];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		tu_join(path, dir, e->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			scan_dir_for(path, needle, what);
		} else if (S_ISREG(st.st_mode)) {
			size_t len = 0;
			char *data = tu_read_file(path, &len);

			assert_non_null(data);
			if (tu_mem_contains(data, len, needle)) {
				free(data);
				closedir(d);
				fail_msg("%s appears in the clear in %s", what, path);
			}
			free(data);
		}
	}
	closedir(d);
}

MODEL_TEST(test_integration_secrets_sealed)
{
	static const char token[] = "glpat-PLAIN-TOKEN-4f2a9c";
	static const char new_token[] = "glpat-ROTATED-TOKEN-77bd";
	static const char signing[] = "whsec_c2lnbmluZy1rZXktb2YtdGhlLXRlc3RzLTMyYnl0ZSE=";
	char secret[256];

	out = DONE(m, INTEGRATION_CREATE, &m->padmin, NULL,
		   "{'name': 'Sealed', 'space': 'parentspace', "
		   "'api_host_url': 'https://gitlab.example.com', "
		   "'api_token': 'glpat-PLAIN-TOKEN-4f2a9c', "
		   "'signing_token': "
		   "'whsec_c2lnbmluZy1rZXktb2YtdGhlLXRlc3RzLTMyYnl0ZSE='}");
	snprintf(secret, sizeof(secret), "%s", str(out, "webhook_secret"));
	assert_string_equal(str(out, "token_last4"), "2a9c");
	cJSON_Delete(out);
	scan_dir_for(m->dir.path, token, "the API token");
	scan_dir_for(m->dir.path, token + 6, "the API token without its prefix");
	scan_dir_for(m->dir.path, signing + 6, "the signing key");
	scan_dir_for(m->dir.path, secret, "the webhook secret");

	out = DONE(m, INTEGRATION_PATCH, &m->padmin, "sealed",
		   "{'api_token': 'glpat-ROTATED-TOKEN-77bd'}");
	assert_string_equal(str(out, "token_last4"), "77bd");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "signing_token_set")));
	expect_keys(out, NULL, 0, secret_keys, COUNT(secret_keys));
	cJSON_Delete(out);
	scan_dir_for(m->dir.path, new_token, "the new API token");
	/* also once everything is checkpointed into the main file */
	sh_instance_db_reset(m->inst);
	OK(sh_instance_db(m->inst, &m->db, &err));
	scan_dir_for(m->dir.path, token, "the API token");
	scan_dir_for(m->dir.path, new_token, "the new API token");
	scan_dir_for(m->dir.path, secret, "the webhook secret");
}

MODEL_TEST(test_integration_last4_shown_not_token)
{
	char *text;

	out = make(m, PROD);
	text = cJSON_PrintUnformatted(out);
	/* the answer holds the last four characters, never the token */
	assert_null(strstr(text, "glpat-prod-token"));
	free(text);
	cJSON_Delete(out);
}

MODEL_TEST(test_integration_patch)
{
	/* the name is immutable: the endpoint comes from it */
	REFUSED(m, INTEGRATION_PATCH, &m->padmin, "gitlab-prod",
		"{'name': 'GitLab Production'}", SH_E_NAME_IMMUTABLE, "name");
	REFUSED(m, INTEGRATION_PATCH, &m->padmin, "gitlab-prod",
		"{'name': 'GitLab Prod', 'description': 'same name'}",
		SH_E_NAME_IMMUTABLE, "name");
	/* the refused patch changed nothing */
	DONE_SHOWS(m, INTEGRATION_GET, &m->padmin, "gitlab-prod", NULL,
		   "description", "");

	/* anything else */
	out = DONE(m, INTEGRATION_PATCH, &m->padmin, "gitlab-prod",
		   "{'description': 'Production\\nGitLab', 'labels': ['z', 'y'], "
		   "'user_facing_host_url': 'https://people.example/', "
		   "'api_token': 'glpat-new-token-9xYz', "
		   "'ca_file': '/etc/ssl/ca.pem'}");
	EXPECT_STRS(out, "name", "GitLab Prod", "description", "Production\nGitLab",
		    "user_facing_host_url", "https://people.example",
		    "token_last4", "9xYz");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "labels"), 0)
				    ->valuestring,
			    "y");
	expect_keys(out, NULL, 0, secret_keys, COUNT(secret_keys));
	cJSON_Delete(out);
	/* null clears: the token, the people's URL (back to the API URL) */
	out = DONE(m, INTEGRATION_PATCH, &m->padmin, "gitlab-prod",
		   "{'api_token': null, 'user_facing_host_url': null, "
		   "'description': null, 'ca_file': null}");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(out, "token_set")));
	assert_true(is_null(out, "token_last4"));
	assert_string_equal(str(out, "user_facing_host_url"),
			    "https://gitlab.example.com");
	assert_string_equal(str(out, "description"), "");
	cJSON_Delete(out);
	/* but a required field cannot be cleared */
	REFUSED(m, INTEGRATION_PATCH, &m->padmin, "gitlab-prod",
		"{'api_host_url': null}", SH_E_INVALID_FIELD, "api_host_url");

	/* rights: a reader may list but not change: 403; the others 404 */
	OUTSIDERS_REFUSED(m, INTEGRATION_PATCH, "gitlab-prod", "{'description': 'x'}",
			  NULL);
	REFUSED(m, INTEGRATION_PATCH, &m->root, "nowhere", "{'description': 'x'}",
		SH_E_NOT_FOUND, NULL);
}

/* Moving an integration away from the stacks that use it: 409. */
MODEL_TEST(test_integration_move_breaking_attachment)
{
	REFUSED(m, INTEGRATION_PATCH, &m->root, "gitlab-prod",
		"{'space': 'siblingspace', 'description': 'moved', "
		"'api_token': 'glpat-never-stored'}",
		SH_E_CONFLICT, NULL);
	assert_non_null(strstr(m->last.msg, "vpc"));
	/* nothing of the refused patch was kept */
	DONE_SHOWS(m, INTEGRATION_GET, &m->root, "gitlab-prod", NULL,
		   "space", "parentspace", "description", "",
		   "token_last4", "c3vH");
	assert_int_equal(audit_count(m->db, "root-admin", "update", "integration"), 0);
	/* a move needs admin rights on the new space too */
	REFUSED(m, INTEGRATION_PATCH, &m->padmin, "gitlab-prod",
		"{'space': 'siblingspace'}", SH_E_NOT_FOUND, "space");
	/* into the stack's own space is fine */
	DONE_SHOWS(m, INTEGRATION_PATCH, &m->padmin, "gitlab-prod",
		   "{'space': 'childspace'}",
		   "space", "childspace");
}

/* The default made a space integration: stacks elsewhere lose it. */
MODEL_TEST(test_integration_default_to_space_breaking_attachment)
{
	cJSON_Delete(make(m, DEFAULT));
	cJSON_Delete(DONE(m, STACK_CREATE, &m->sib, NULL,
			  "{'id': 'sib', 'name': 'Sib', 'space': 'siblingspace', "
			  "'integration': 'gitlab-com', 'namespace': 'g', "
			  "'repository': 'r', 'branch': 'main'}"));
	REFUSED(m, INTEGRATION_PATCH, &m->root, "gitlab-com",
		"{'type': 'space', 'space': 'parentspace'}", SH_E_CONFLICT, NULL);
	assert_non_null(strstr(m->last.msg, "sib"));
	DONE_SHOWS(m, INTEGRATION_GET, &m->stranger, "gitlab-com", NULL,
		   "type", "default");
	/* into the stack's space it works, and it is no default any more */
	DONE_SHOWS(m, INTEGRATION_PATCH, &m->root, "gitlab-com",
		   "{'type': 'space', 'space': 'siblingspace'}",
		   "type", "space");
	REFUSED(m, INTEGRATION_GET, &m->stranger, "gitlab-com", NULL,
		SH_E_NOT_FOUND, NULL);
}

/* GitLab's signing tokens are "whsec_" and base64 of at least 16 bytes;
 * shorter and malformed ones are refused (and read within their bounds:
 * run this under valgrind or ASan). */
MODEL_TEST(test_integration_short_signing_token_refused)
{
	static const char *const bad[] = {
		"", "a", "abc", "whsec", "whsec_", "whsec_abc", "whsec_QUJD",
		"xxxxx_c2lnbmluZy1rZXktb2YtdGhlLXRlc3RzLTMyYnl0ZSE=",
		"whsec_c2lnbmluZy1rZXktb2YtdGhlLXRlc3RzLTMyYnl0ZSE",
	};
	cJSON *body;

	for (size_t i = 0; i < COUNT(bad); i++) {
		body = J("{'name': 'X', 'space': 'childspace', 'signing_token': '%s', "
			 "'api_host_url': 'https://gitlab.example.com'}",
			 bad[i]);
		sh_err_clear(&err);
		if (sh_integrations_create(m->db, &m->env, &m->root, body, &out,
					   &err) == 0) {
			cJSON_Delete(out);
			cJSON_Delete(body);
			fail_msg("signing_token \"%s\" was accepted", bad[i]);
		}
		cJSON_Delete(body);
		expect_fail(-1, &err, SH_E_INVALID_FIELD, "signing_token", bad[i],
			    __LINE__);
	}
	out = DONE(m, INTEGRATION_CREATE, &m->root, NULL,
		   "{'name': 'Signed', 'space': 'childspace', "
		   "'api_host_url': 'https://gitlab.example.com', "
		   "'signing_token': "
		   "'whsec_c2lnbmluZy1rZXktb2YtdGhlLXRlc3RzLTMyYnl0ZSE='}");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "signing_token_set")));
	cJSON_Delete(out);
}

/* A merge patch: null clears an optional set, as [] would. */
MODEL_TEST(test_patch_null_clears_labels)
{
	cJSON *body;
	int rc_stack, rc_integration, n_stack = -1, n_integration = -1;
	struct sh_err err_stack, err_integration;

	cJSON_Delete(DONE(m, STACK_CREATE, &m->root, NULL,
			  "{'id': 'app', 'name': 'App', 'namespace': 'g', "
			  "'repository': 'r', 'branch': 'main', "
			  "'labels': ['x']}"));
	/* both calls run before any assertion, so a failure leaks nothing */
	body = J("{'labels': null}");
	sh_err_clear(&err_stack);
	rc_stack = run_op(m, STACK_PATCH, &m->root, "app", body, &out, &err_stack);
	if (out != NULL)
		n_stack = cJSON_GetArraySize(cJSON_GetObjectItem(out, "labels"));
	cJSON_Delete(out);
	out = NULL;
	sh_err_clear(&err_integration);
	rc_integration = run_op(m, INTEGRATION_PATCH, &m->root, "gitlab-prod", body,
				&out, &err_integration);
	if (out != NULL)
		n_integration = cJSON_GetArraySize(cJSON_GetObjectItem(out, "labels"));
	cJSON_Delete(out);
	cJSON_Delete(body);
	expect_ok(rc_stack, &err_stack, "stack PATCH {\"labels\": null}", __LINE__);
	assert_int_equal(n_stack, 0);
	expect_ok(rc_integration, &err_integration,
		  "integration PATCH {\"labels\": null}", __LINE__);
	assert_int_equal(n_integration, 0);
}

MODEL_TEST(test_integration_details_rights)
{
	cJSON_Delete(make(m, DEFAULT));

	/* the space integration: admins of its space */
	out = DONE(m, INTEGRATION_DETAILS, &m->padmin, "gitlab-prod", NULL);
	assert_true(strlen(str(out, "webhook_secret")) >= 43);
	cJSON_Delete(out);
	cJSON_Delete(DONE(m, INTEGRATION_DETAILS, &m->root, "gitlab-prod", NULL));
	OUTSIDERS_REFUSED(m, INTEGRATION_DETAILS, "gitlab-prod", NULL, NULL);

	/* the default: root admins only, though everybody lists it */
	DONE_SHOWS(m, INTEGRATION_DETAILS, &m->root, "gitlab-com", NULL,
		   "webhook_url", TU_PUBLIC_URL "/webhooks/gitlab/gitlab-com");
	REFUSED(m, INTEGRATION_DETAILS, &m->padmin, "gitlab-com", NULL,
		SH_E_FORBIDDEN, NULL);
	REFUSED(m, INTEGRATION_DETAILS, &m->stranger, "gitlab-com", NULL,
		SH_E_FORBIDDEN, NULL);
	/* nor may they change, rotate or delete it */
	REFUSED(m, INTEGRATION_ROTATE, &m->padmin, "gitlab-com", NULL,
		SH_E_FORBIDDEN, NULL);
	REFUSED(m, INTEGRATION_DELETE, &m->padmin, "gitlab-com", NULL,
		SH_E_FORBIDDEN, NULL);
	/* the error never carries a secret */
	assert_null(strstr(m->last.msg, "secret"));
}

MODEL_TEST(test_integration_summary_hides_secrets)
{
	cJSON *page = NULL, *item;
	char secret[256];

	out = make(m, PROD);
	snprintf(secret, sizeof(secret), "%s", str(out, "webhook_secret"));
	cJSON_Delete(out);

	out = DONE(m, INTEGRATION_GET, &m->creader, "gitlab-prod", NULL);
	expect_keys(out, summary_keys, COUNT(summary_keys), summary_only_absent,
		    COUNT(summary_only_absent));
	{
		char *text = cJSON_PrintUnformatted(out);

		assert_null(strstr(text, secret));
		assert_null(strstr(text, "glpat-prod-token"));
		free(text);
	}
	cJSON_Delete(out);
	/* admins get the summary from a plain GET too */
	out = DONE(m, INTEGRATION_GET, &m->padmin, "gitlab-prod", NULL);
	expect_keys(out, summary_keys, COUNT(summary_keys), summary_only_absent,
		    COUNT(summary_only_absent));
	cJSON_Delete(out);
	OK(sh_integrations_list(m->db, &m->root, &first_page, &page, &err));
	cJSON_ArrayForEach(item, cJSON_GetObjectItem(page, "items"))
		expect_keys(item, summary_keys, COUNT(summary_keys),
			    summary_only_absent, COUNT(summary_only_absent));
	cJSON_Delete(page);
}

MODEL_TEST(test_integration_list_visibility)
{
	static const char *const all[] = {"gitlab-com", "gitlab-prod", "child-gl",
					  "sibling-gl"};
	static const char *const padmin[] = {"gitlab-com", "gitlab-prod", "child-gl"};
	static const char *const creader[] = {"gitlab-com", "gitlab-prod",
					      "child-gl"};
	static const char *const sib[] = {"gitlab-com", "sibling-gl"};
	static const char *const stranger[] = {"gitlab-com"};
	cJSON *page = NULL;

	cJSON_Delete(make(m, DEFAULT));
	cJSON_Delete(make(m, PROD));
	cJSON_Delete(make(m, CHILD_GL));
	cJSON_Delete(make(m, SIBLING_GL));

	page = first_of(m, INTEGRATIONS, &m->root, NULL);
	expect_listed(page, "slug", all, COUNT(all));
	/* newest first */
	assert_string_equal(str(cJSON_GetArrayItem(cJSON_GetObjectItem(page, "items"), 0),
				"slug"),
			    "sibling-gl");
	cJSON_Delete(page);
	expect_sees(m, INTEGRATIONS, &m->padmin, NULL, padmin, COUNT(padmin));
	expect_sees(m, INTEGRATIONS, &m->creader, NULL, creader, COUNT(creader));
	expect_sees(m, INTEGRATIONS, &m->sib, NULL, sib, COUNT(sib));
	expect_sees(m, INTEGRATIONS, &m->stranger, NULL, stranger, COUNT(stranger));

	/* what is not listed is not found */
	REFUSED(m, INTEGRATION_GET, &m->sib, "gitlab-prod", NULL, SH_E_NOT_FOUND, NULL);
	REFUSED(m, INTEGRATION_GET, &m->creader, "sibling-gl", NULL,
		SH_E_NOT_FOUND, NULL);
	REFUSED(m, INTEGRATION_GET, &m->stranger, "child-gl", NULL,
		SH_E_NOT_FOUND, NULL);
	out = DONE(m, INTEGRATION_GET, &m->stranger, "gitlab-com", NULL);
	cJSON_Delete(out);
	out = DONE(m, INTEGRATION_GET, &m->creader, "gitlab-prod", NULL);
	cJSON_Delete(out);

	/* pages of one */
	{
		struct sh_page p = {.limit = 1, .after = 0};
		char cursor[32];
		int seen = 0;

		for (;;) {
			OK(sh_integrations_list(m->db, &m->padmin, &p, &page, &err));
			seen += page_count(page);
			if (is_null(page, "next")) {
				cJSON_Delete(page);
				break;
			}
			snprintf(cursor, sizeof(cursor), "%s", str(page, "next"));
			cJSON_Delete(page);
			OK(sh_page_parse("1", cursor, &p, &err));
			assert_true(seen < 10);
		}
		assert_int_equal(seen, 3);
	}
}

MODEL_TEST(test_integration_rotate)
{
	char first[256];

	out = make(m, PROD);
	snprintf(first, sizeof(first), "%s", str(out, "webhook_secret"));
	cJSON_Delete(out);
	OUTSIDERS_REFUSED(m, INTEGRATION_ROTATE, "gitlab-prod", NULL, NULL);
	DONE_SHOWS(m, INTEGRATION_DETAILS, &m->padmin, "gitlab-prod", NULL,
		   "webhook_secret", first);

	out = DONE(m, INTEGRATION_ROTATE, &m->padmin, "gitlab-prod", NULL);
	assert_string_not_equal(str(out, "webhook_secret"), first);
	assert_true(strlen(str(out, "webhook_secret")) >= 43);
	assert_string_equal(str(out, "webhook_url"),
			    TU_PUBLIC_URL "/webhooks/gitlab/gitlab-prod");
	cJSON_Delete(out);
	out = DONE(m, INTEGRATION_DETAILS, &m->padmin, "gitlab-prod", NULL);
	assert_string_not_equal(str(out, "webhook_secret"), first);
	cJSON_Delete(out);
}

MODEL_TEST(test_integration_delete_detaches)
{
	static const char *const vpc[] = {"vpc"}, *const dns[] = {"dns"};
	static const char *const both[] = {"vpc", "dns"};
	struct sh_stack_filter detached = {.detached = true};
	struct sh_stack_filter by_prod = {.integration = "gitlab-prod"};
	char first_url[256], first_secret[256];
	int64_t first_id;

	out = make(m, PROD);
	{
		struct sh_integration_ref ref;

		OK(sh_integrations_find(m->db, "gitlab-prod", &ref, &err));
		first_id = ref.id;
	}
	snprintf(first_url, sizeof(first_url), "%s", str(out, "webhook_url"));
	snprintf(first_secret, sizeof(first_secret), "%s", str(out, "webhook_secret"));
	cJSON_Delete(out);
	cJSON_Delete(make(m, VPC));
	cJSON_Delete(DONE(m, STACK_CREATE, &m->root, NULL,
			  "{'id': 'dns', 'name': 'DNS', 'space': 'parentspace', "
			  "'namespace': 'g', 'repository': 'dns', "
			  "'branch': 'main'}"));

	expect_sees(m, STACKS, &m->root, &by_prod, vpc, COUNT(vpc));
	/* the detached filter shows dns only */
	expect_sees(m, STACKS, &m->root, &detached, dns, COUNT(dns));

	OUTSIDERS_REFUSED(m, INTEGRATION_DELETE, "gitlab-prod", NULL, NULL);
	DONE(m, INTEGRATION_DELETE, &m->padmin, "gitlab-prod", NULL);
	REFUSED(m, INTEGRATION_DELETE, &m->padmin, "gitlab-prod", NULL,
		SH_E_NOT_FOUND, NULL);
	REFUSED(m, INTEGRATION_GET, &m->root, "gitlab-prod", NULL,
		SH_E_NOT_FOUND, NULL);
	{
		struct sh_integration_ref ref;

		FAILS(sh_integrations_find(m->db, "gitlab-prod", &ref, &err),
		      SH_E_NOT_FOUND, NULL);
	}
	/* the delete is in the audit log, the refused attempts are not */
	assert_int_equal(audit_count(m->db, "parent-admin", "delete", "integration"),
			 1);
	assert_int_equal(audit_count(m->db, "child-reader", "delete", "integration"),
			 0);

	/* vpc is detached: integration null, and listed by the filter */
	out = DONE(m, STACK_GET, &m->creader, "vpc", NULL);
	assert_true(is_null(out, "integration"));
	cJSON_Delete(out);
	expect_sees(m, STACKS, &m->root, &detached, both, COUNT(both));

	/* the same name again: same URL, new secret, a new internal id; vpc
	 * stays detached */
	out = make(m, PROD);
	{
		struct sh_integration_ref ref;

		OK(sh_integrations_find(m->db, "gitlab-prod", &ref, &err));
		assert_true(ref.id > first_id);
		assert_string_equal(ref.space, "parentspace");
		assert_false(ref.is_default);
	}
	assert_string_equal(str(out, "webhook_url"), first_url);
	assert_string_not_equal(str(out, "webhook_secret"), first_secret);
	cJSON_Delete(out);
	out = DONE(m, STACK_GET, &m->root, "vpc", NULL);
	assert_true(is_null(out, "integration"));
	cJSON_Delete(out);
	expect_sees(m, STACKS, &m->root, &by_prod, NULL, 0);
	/* and it can be attached again */
	DONE_SHOWS(m, STACK_PATCH, &m->padmin, "vpc",
		   "{'integration': 'gitlab-prod'}",
		   "integration", "gitlab-prod");
}

MODEL_TEST(test_integration_health)
{
	cJSON_Delete(DONE(m, INTEGRATION_CREATE, &m->padmin, NULL,
			  "{'name': 'Pool GL', 'space': 'parentspace', "
			  "'api_host_url': 'private://nopool', "
			  "'user_facing_host_url': 'https://gl.example.com'}"));
	out = DONE(m, INTEGRATION_HEALTH, &m->padmin, "pool-gl", NULL);
	{
		char *text = cJSON_PrintUnformatted(out);

		/* no token, and an agent pool the config does not name */
		assert_non_null(strstr(text, "api_token"));
		assert_non_null(strstr(text, "agent_pool.nopool"));
		free(text);
	}
	cJSON_Delete(out);
	OUTSIDERS_REFUSED(m, INTEGRATION_HEALTH, "pool-gl", NULL, NULL);
}

/* ------------------------------------------------------------------ */
/* stacks */

MODEL_TEST(test_stack_create)
{
	out = make(m, VPC);
	expect_keys(out, stack_keys, COUNT(stack_keys), secret_keys,
		    COUNT(secret_keys));
	EXPECT_STRS(out, "id", "vpc", "name", "VPC", "kind", "stack",
		    "space", "childspace", "integration", "gitlab-prod",
		    "namespace", "group-1", "repository", "project-a",
		    "branch", "main", "project_root", "",
		    "environment", "stackhook/vpc");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "labels")), 0);
	cJSON_Delete(out);

	/* id from the name, a module, a subgroup path, root cleaned */
	out = DONE(m, STACK_CREATE, &m->root, NULL,
		   "{'name': 'Net Module', 'kind': 'module', "
		   "'namespace': 'group-1/sub/deeper', 'repository': 'net.tf', "
		   "'branch': 'release/2', 'project_root': 'modules/net/', "
		   "'labels': ['b', 'a', 'b'], 'environment': 'prod/net'}");
	EXPECT_STRS(out, "id", "net-module", "kind", "module", "space", "root",
		    "project_root", "modules/net", "environment", "prod/net");
	assert_true(is_null(out, "integration"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(out, "labels")), 2);
	cJSON_Delete(out);
}

MODEL_TEST(test_stack_environment_default)
{
	cJSON_Delete(DONE(m, STACK_CREATE, &m->root, NULL,
			  "{'id': 'app', 'name': 'App', 'namespace': 'g', "
			  "'repository': 'r', 'branch': 'main'}"));
	OK(sh_stacks_get(m->db, "ci", &m->root, "app", &out, &err));
	assert_string_equal(str(out, "environment"), "ci/app");
	cJSON_Delete(out);
	DONE_SHOWS(m, STACK_PATCH, &m->root, "app", "{'environment': 'production'}",
		   "environment", "production");
	/* null goes back to the default */
	DONE_SHOWS(m, STACK_PATCH, &m->root, "app", "{'environment': null}",
		   "environment", "stackhook/app");
}

MODEL_TEST(test_stack_integration_rules)
{
	static const char sib_prod[] =
		"{'name': 'Sib', 'space': 'siblingspace', "
		"'integration': 'gitlab-prod', 'namespace': 'g', "
		"'repository': 'r', 'branch': 'main'}";
	static const char by_reader[] =
		"{'name': 'Read', 'space': 'childspace', 'integration': 'gitlab-prod', "
		"'namespace': 'g', 'repository': 'r', 'branch': 'main'}";

	cJSON_Delete(make(m, DEFAULT));
	cJSON_Delete(make(m, CHILD_GL));

	/* childspace inherits from parentspace: usable */
	cJSON_Delete(make(m, VPC));

	/* siblingspace does not inherit: a root admin sees the integration,
	 * the space cannot use it (422) */
	REFUSED(m, STACK_CREATE, &m->root, NULL, sib_prod,
		SH_E_INTEGRATION_NOT_USABLE, "integration");
	assert_non_null(strstr(m->last.msg, "siblingspace"));
	/* its own admin cannot even list it: 404 */
	REFUSED(m, STACK_CREATE, &m->sib, NULL, sib_prod, SH_E_NOT_FOUND,
		"integration");

	/* an integration of a child space is not usable in its parent */
	REFUSED(m, STACK_CREATE, &m->padmin, NULL,
		"{'name': 'Up', 'space': 'parentspace', 'integration': 'child-gl', "
		"'namespace': 'g', 'repository': 'r', 'branch': 'main'}",
		SH_E_INTEGRATION_NOT_USABLE, "integration");

	/* the default is usable everywhere, by everyone who may write */
	DONE_SHOWS(m, STACK_CREATE, &m->sib, NULL,
		   "{'name': 'Sib', 'space': 'siblingspace', "
		   "'integration': 'gitlab-com', 'namespace': 'g', "
		   "'repository': 'r', 'branch': 'main'}",
		   "integration", "gitlab-com");
	cJSON_Delete(DONE(m, STACK_CREATE, &m->root, NULL,
			  "{'name': 'Top', 'integration': 'gitlab-com', "
			  "'namespace': 'g', 'repository': 'r', "
			  "'branch': 'main'}"));

	/* a reader of the space: 403; an outsider: 404; unknown: 404 */
	OUTSIDERS_REFUSED(m, STACK_CREATE, NULL, by_reader, "space");
	REFUSED(m, STACK_CREATE, &m->root, NULL,
		"{'name': 'Nope', 'space': 'childspace', 'integration': 'nowhere', "
		"'namespace': 'g', 'repository': 'r', 'branch': 'main'}",
		SH_E_NOT_FOUND, "integration");
	/* nothing was created by the refusals */
	REFUSED(m, STACK_GET, &m->root, "read", NULL, SH_E_NOT_FOUND, NULL);
	REFUSED(m, STACK_GET, &m->root, "up", NULL, SH_E_NOT_FOUND, NULL);
}

MODEL_TEST(test_stack_create_checks)
{
	static const struct {
		const char *extra; /* fields added to a valid body */
		enum sh_errcode code;
		const char *field;
	} cases[] = {
		{"'kind': 'job'", SH_E_INVALID_FIELD, "kind"},
		{"'branch': 'a..b'", SH_E_INVALID_FIELD, "branch"},
		{"'branch': 'x.lock'", SH_E_INVALID_FIELD, "branch"},
		{"'namespace': 'group/'", SH_E_INVALID_FIELD, "namespace"},
		{"'namespace': 'a b'", SH_E_INVALID_FIELD, "namespace"},
		{"'repository': 'a/b'", SH_E_INVALID_FIELD, "repository"},
		{"'repository': '..'", SH_E_INVALID_FIELD, "repository"},
		{"'project_root': '../x'", SH_E_INVALID_FIELD, "project_root"},
		{"'project_root': '/abs'", SH_E_INVALID_FIELD, "project_root"},
		{"'environment': ''", SH_E_INVALID_FIELD, "environment"},
		{"'environment': 'a;b'", SH_E_INVALID_FIELD, "environment"},
		{"'id': 'Not A Slug'", SH_E_INVALID_FIELD, "id"},
		{"'labels': [1]", SH_E_INVALID_FIELD, "labels[0]"},
		{"'integration': 5", SH_E_INVALID_FIELD, "integration"},
		{"'colour': 'red'", SH_E_UNKNOWN_FIELD, "colour"},
		{"'space': 'nowhere'", SH_E_NOT_FOUND, "space"},
	};
	static const char *const required[] = {"name", "namespace", "repository",
					       "branch"};
	cJSON *body;

	for (size_t i = 0; i < COUNT(cases); i++) {
		cJSON *extra = J("{%s}", cases[i].extra), *item;

		body = J("{'name': 'Chk', 'namespace': 'g', 'repository': 'r', "
			 "'branch': 'main'}");
		cJSON_ArrayForEach(item, extra) {
			cJSON_DeleteItemFromObjectCaseSensitive(body, item->string);
			cJSON_AddItemToObject(body, item->string,
					      cJSON_Duplicate(item, true));
		}
		cJSON_Delete(extra);
		FAILS(sh_stacks_create(m->db, m->prefix, &m->root, body, &out, &err),
		      cases[i].code, cases[i].field);
		cJSON_Delete(body);
	}
	for (size_t i = 0; i < COUNT(required); i++) {
		body = J("{'name': 'Chk', 'namespace': 'g', 'repository': 'r', "
			 "'branch': 'main'}");
		cJSON_DeleteItemFromObject(body, required[i]);
		FAILS(sh_stacks_create(m->db, m->prefix, &m->root, body, &out, &err),
		      SH_E_MISSING_FIELD, required[i]);
		cJSON_Delete(body);
	}
	/* ids are unique */
	body = J("{'id': 'dup', 'name': 'Dup', 'namespace': 'g', 'repository': 'r', "
		 "'branch': 'main'}");
	OK(sh_stacks_create(m->db, m->prefix, &m->root, body, &out, &err));
	cJSON_Delete(out);
	FAILS(sh_stacks_create(m->db, m->prefix, &m->root, body, &out, &err),
	      SH_E_CONFLICT, "id");
	cJSON_Delete(body);
}

MODEL_TEST(test_stack_read_rights)
{
	static const char *const creader[] = {"vpc"};
	static const char *const root[] = {"vpc", "sib", "top"};
	struct sh_stack_filter none = {0}, in_child = {.space = "childspace"};

	cJSON_Delete(DONE(m, STACK_CREATE, &m->sib, NULL,
			  "{'id': 'sib', 'name': 'Sib', 'space': 'siblingspace', "
			  "'namespace': 'g', 'repository': 'r', 'branch': 'main'}"));
	cJSON_Delete(DONE(m, STACK_CREATE, &m->root, NULL,
			  "{'id': 'top', 'name': 'Top', 'namespace': 'g', "
			  "'repository': 'r', 'branch': 'main'}"));

	cJSON_Delete(DONE(m, STACK_GET, &m->creader, "vpc", NULL));
	REFUSED(m, STACK_GET, &m->sib, "vpc", NULL, SH_E_NOT_FOUND, NULL);
	REFUSED(m, STACK_GET, &m->stranger, "vpc", NULL, SH_E_NOT_FOUND, NULL);
	REFUSED(m, STACK_GET, &m->padmin, "sib", NULL, SH_E_NOT_FOUND, NULL);
	REFUSED(m, STACK_GET, &m->root, "nowhere", NULL, SH_E_NOT_FOUND, NULL);

	expect_sees(m, STACKS, &m->creader, &none, creader, COUNT(creader));
	expect_sees(m, STACKS, &m->root, &none, root, COUNT(root));
	expect_sees(m, STACKS, &m->root, &in_child, creader, COUNT(creader));
	expect_sees(m, STACKS, &m->stranger, &none, NULL, 0);
}

MODEL_TEST(test_stack_patch)
{
	static const char *const required[] = {"name", "namespace", "repository",
					       "branch"};
	static const char to_sibling[] = "{'space': 'siblingspace'}";
	char body[64];

	cJSON_Delete(make(m, SIBLING_GL));

	/* required fields stay non-null */
	for (size_t i = 0; i < COUNT(required); i++) {
		snprintf(body, sizeof(body), "{'%s': null}", required[i]);
		REFUSED(m, STACK_PATCH, &m->padmin, "vpc", body, SH_E_INVALID_FIELD,
			required[i]);
	}
	REFUSED(m, STACK_PATCH, &m->padmin, "vpc", "{'id': 'other'}",
		SH_E_NAME_IMMUTABLE, "id");
	REFUSED(m, STACK_PATCH, &m->padmin, "vpc", "{'branch': 'a..b'}",
		SH_E_INVALID_FIELD, "branch");
	DONE_SHOWS(m, STACK_GET, &m->root, "vpc", NULL,
		   "name", "VPC", "branch", "main");

	/* a merge patch of the rest */
	DONE_SHOWS(m, STACK_PATCH, &m->padmin, "vpc",
		   "{'name': 'VPC 2', 'branch': 'develop', "
		   "'project_root': 'infra/vpc/', 'labels': ['net'], "
		   "'namespace': 'Group-2', 'repository': 'Proj'}",
		   "id", "vpc", "name", "VPC 2", "branch", "develop",
		   "project_root", "infra/vpc", "namespace", "Group-2",
		   "repository", "Proj", "integration", "gitlab-prod");
	DONE_SHOWS(m, STACK_PATCH, &m->padmin, "vpc", "{'project_root': null}",
		   "project_root", "");

	/* rights */
	OUTSIDERS_REFUSED(m, STACK_PATCH, "vpc", "{'name': 'Nope'}", NULL);

	/* attaching what the actor cannot list: 404, and moving a stack where
	 * its integration is not usable: 422 */
	REFUSED(m, STACK_PATCH, &m->padmin, "vpc", "{'integration': 'sibling-gl'}",
		SH_E_NOT_FOUND, "integration");
	REFUSED(m, STACK_PATCH, &m->root, "vpc", "{'integration': 'sibling-gl'}",
		SH_E_INTEGRATION_NOT_USABLE, "integration");
	REFUSED(m, STACK_PATCH, &m->root, "vpc", to_sibling,
		SH_E_INTEGRATION_NOT_USABLE, "integration");
	REFUSED(m, STACK_PATCH, &m->padmin, "vpc", to_sibling, SH_E_NOT_FOUND,
		"space");
	/* a refused patch keeps nothing of its other fields */
	REFUSED(m, STACK_PATCH, &m->root, "vpc",
		"{'name': 'Moved', 'branch': 'other', 'space': 'siblingspace'}",
		SH_E_INTEGRATION_NOT_USABLE, "integration");
	DONE_SHOWS(m, STACK_GET, &m->root, "vpc", NULL,
		   "name", "VPC 2", "branch", "develop", "space", "childspace");
	/* with a usable integration in the same patch, the move works */
	DONE_SHOWS(m, STACK_PATCH, &m->root, "vpc",
		   "{'space': 'siblingspace', 'integration': 'sibling-gl'}",
		   "space", "siblingspace", "integration", "sibling-gl");
	/* detach */
	out = DONE(m, STACK_PATCH, &m->sib, "vpc", "{'integration': null}");
	assert_true(is_null(out, "integration"));
	cJSON_Delete(out);
}

MODEL_TEST(test_stack_delete)
{
	OUTSIDERS_REFUSED(m, STACK_DELETE, "vpc", NULL, NULL);
	DONE(m, STACK_DELETE, &m->padmin, "vpc", NULL);
	REFUSED(m, STACK_GET, &m->root, "vpc", NULL, SH_E_NOT_FOUND, NULL);
	REFUSED(m, STACK_DELETE, &m->padmin, "vpc", NULL, SH_E_NOT_FOUND, NULL);
	/* the space is empty of stacks now */
	DONE(m, SPACE_DELETE, &m->padmin, "childspace", NULL);
}

/* ------------------------------------------------------------------ */
/* authz on the snapshot */

/* The role sh_authz_role should find on a space. */
struct want_role {
	const char *space;
	enum sh_role role;
};

/* Checks sh_authz_role on az for each of the n spaces of want; a failure
 * names the space and the caller's line (EXPECT_ROLES). */
static void
expect_roles_at(int line, const struct sh_authz *az,
		const struct want_role *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum sh_role got = sh_authz_role(az, want[i].space);

		if (got != want[i].role)
			fail_msg("line %d: on \"%s\": expected %s, got %s", line,
				 want[i].space, sh_role_name(want[i].role),
				 sh_role_name(got));
	}
}

#define EXPECT_ROLES(az, ...)                                                \
	expect_roles_at(__LINE__, (az), (const struct want_role[]){__VA_ARGS__}, \
			sizeof((const struct want_role[]){__VA_ARGS__}) /    \
				sizeof(struct want_role))

/* What sh_authz_may_list_integration or sh_authz_may_admin_integration
 * should answer for an integration (the default one or of a space). */
struct want_may {
	enum { MAY_LIST, MAY_ADMIN } may;
	bool is_default;
	const char *space;
	bool yes;
};

/* Checks each of the n answers of want on az; a failure names the
 * question and the caller's line (EXPECT_MAY). */
static void
expect_may_at(int line, const struct sh_authz *az, const struct want_may *want,
	      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct want_may *w = &want[i];
		bool got = w->may == MAY_ADMIN
				   ? sh_authz_may_admin_integration(az, w->is_default,
								    w->space)
				   : sh_authz_may_list_integration(az, w->is_default,
								   w->space);

		if (got != w->yes)
			fail_msg("line %d: may %s the %s integration of \"%s\": "
				 "expected %s, got %s",
				 line, w->may == MAY_ADMIN ? "admin" : "list",
				 w->is_default ? "default" : "space", w->space,
				 w->yes ? "yes" : "no", got ? "yes" : "no");
	}
}

#define EXPECT_MAY(az, ...)                                                  \
	expect_may_at(__LINE__, (az), (const struct want_may[]){__VA_ARGS__},    \
		      sizeof((const struct want_may[]){__VA_ARGS__}) /           \
			      sizeof(struct want_may))

MODEL_TEST(test_authz_roles)
{
	struct sh_authz *az = NULL;
	const char *why;

	OK(sh_authz_load(m->db, m->padmin.user_id, &az, &err));
	EXPECT_ROLES(az, {"parentspace", SH_ROLE_ADMIN}, {"childspace", SH_ROLE_ADMIN},
		     {"siblingspace", SH_ROLE_NONE}, {"root", SH_ROLE_NONE},
		     {"nowhere", SH_ROLE_NONE});
	assert_false(sh_authz_is_root_admin(az));
	assert_true(sh_authz_within(az, "childspace", "parentspace"));
	assert_true(sh_authz_within(az, "childspace", "childspace"));
	assert_false(sh_authz_within(az, "parentspace", "childspace"));
	assert_string_equal(sh_authz_parent(az, "childspace"), "parentspace");
	assert_null(sh_authz_parent(az, "root"));
	assert_true(sh_authz_can_use(az, false, "parentspace", "childspace", NULL));
	assert_true(sh_authz_can_use(az, false, "childspace", "childspace", NULL));
	assert_false(sh_authz_can_use(az, false, "parentspace", "siblingspace", &why));
	assert_string_equal(why, "siblingspace");
	assert_false(sh_authz_can_use(az, false, "childspace", "parentspace", &why));
	assert_non_null(why);
	assert_true(sh_authz_can_use(az, true, "root", "siblingspace", NULL));
	EXPECT_MAY(az, {MAY_ADMIN, false, "childspace", true},
		   {MAY_ADMIN, true, "root", false}, {MAY_LIST, true, "root", true},
		   {MAY_LIST, false, "siblingspace", false});
	sh_authz_free(az);

	OK(sh_authz_load(m->db, m->creader.user_id, &az, &err));
	EXPECT_ROLES(az, {"childspace", SH_ROLE_READ}, {"parentspace", SH_ROLE_NONE});
	EXPECT_MAY(az,
		   /* a reader of a space that can use it lists it, not
		    * administers it */
		   {MAY_LIST, false, "parentspace", true},
		   {MAY_ADMIN, false, "parentspace", false},
		   /* a space integration of root reaches childspace through
		    * the chain */
		   {MAY_LIST, false, "root", true},
		   {MAY_LIST, false, "siblingspace", false});
	sh_authz_free(az);

	OK(sh_authz_load(m->db, m->root.user_id, &az, &err));
	assert_true(sh_authz_is_root_admin(az));
	assert_int_equal(sh_authz_role(az, "siblingspace"), SH_ROLE_ADMIN);
	EXPECT_MAY(az, {MAY_ADMIN, true, "root", true});
	sh_authz_free(az);

	/* a role granted higher up and lower down: the highest counts */
	OK(sh_db_begin(m->db, &err));
	OK(sh_authz_grant(m->db, "parentspace", m->creader.user_id, SH_ROLE_WRITE,
			  &err));
	OK(sh_db_commit(m->db, &err));
	OK(sh_authz_load(m->db, m->creader.user_id, &az, &err));
	EXPECT_ROLES(az, {"childspace", SH_ROLE_WRITE}, {"siblingspace", SH_ROLE_NONE});
	sh_authz_free(az);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, model_setup, model_teardown)
#define P(f) cmocka_unit_test_setup_teardown(f, prod_setup, model_teardown)
#define V(f) cmocka_unit_test_setup_teardown(f, vpc_setup, model_teardown)
	const struct CMUnitTest tests[] = {
		T(test_space_read_rights),
		T(test_space_shape),
		T(test_space_list_visibility),
		T(test_space_list_pages),
		T(test_space_create_rights),
		T(test_space_create_checks),
		T(test_space_patch_rights),
		T(test_space_move),
		T(test_space_inherit_changes_roles),
		T(test_space_delete),
		T(test_space_delete_lists_stacks_and_integrations),
		T(test_space_delete_after_its_integration_was_deleted),
		V(test_space_change_breaking_attachment),
		V(test_space_move_with_its_stacks),
		T(test_space_members),
		T(test_integration_create),
		T(test_integration_create_rights),
		T(test_integration_default),
		P(test_integration_slug_conflict),
		T(test_integration_urls),
		T(test_integration_secrets_sealed),
		T(test_integration_last4_shown_not_token),
		P(test_integration_patch),
		V(test_integration_move_breaking_attachment),
		T(test_integration_default_to_space_breaking_attachment),
		T(test_integration_short_signing_token_refused),
		P(test_patch_null_clears_labels),
		P(test_integration_details_rights),
		T(test_integration_summary_hides_secrets),
		T(test_integration_list_visibility),
		T(test_integration_rotate),
		T(test_integration_delete_detaches),
		T(test_integration_health),
		P(test_stack_create),
		T(test_stack_environment_default),
		P(test_stack_integration_rules),
		T(test_stack_create_checks),
		V(test_stack_read_rights),
		V(test_stack_patch),
		V(test_stack_delete),
		T(test_authz_roles),
	};
#undef T
#undef P
#undef V

	return cmocka_run_group_tests(tests, NULL, NULL);
}
