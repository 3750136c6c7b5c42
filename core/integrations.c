#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "stackhook/audit.h"
#include "stackhook/crypto.h"
#include "stackhook/integrations.h"
#include "stackhook/metrics.h"
#include "stackhook/spool.h"
#include "stackhook/spaces.h"
#include "stackhook/timeutil.h"

#define NAME_MAX_CHARS 64
#define URL_MAX 2048
#define TOKEN_MAX 1024
#define DESCRIPTION_MAX 16384
#define LABELS_MAX 32
#define SECRET_BYTES 32
#define SIGNING_PREFIX "whsec_"

static const struct sh_json_field integration_fields[] = {
	{"name", SH_JSON_STRING, NAME_MAX_CHARS, SH_JSON_REQUIRED | SH_JSON_IMMUTABLE},
	{"type", SH_JSON_STRING, 16, 0},
	{"space", SH_JSON_STRING, SH_SLUG_MAX, 0},
	{"api_host_url", SH_JSON_STRING, URL_MAX, SH_JSON_REQUIRED},
	{"user_facing_host_url", SH_JSON_STRING, URL_MAX, SH_JSON_NULLABLE},
	{"api_token", SH_JSON_STRING, TOKEN_MAX, SH_JSON_NULLABLE},
	{"signing_token", SH_JSON_STRING, TOKEN_MAX, SH_JSON_NULLABLE},
	{"labels", SH_JSON_STRINGS, LABELS_MAX, SH_JSON_NULLABLE},
	{"description", SH_JSON_TEXT, DESCRIPTION_MAX, SH_JSON_NULLABLE},
	{"ca_file", SH_JSON_STRING, 1024, SH_JSON_NULLABLE},
};
#define FIELD_COUNT (sizeof(integration_fields) / sizeof(integration_fields[0]))

static const char *const gitlab_events[] = {"push", "tag_push", "merge_request"};

#define INTEGRATION_SELECT                                                   \
	"SELECT id, slug, name, type, space, api_host_url, "                 \
	"coalesce(user_facing_host_url, api_host_url), token_last4, "         \
	"token_sealed IS NOT NULL, signing_sealed IS NOT NULL, labels, "      \
	"description, ca_file, created_at, updated_at, secret_sealed "        \
	"FROM integrations "
enum { C_ID, C_SLUG, C_NAME, C_TYPE, C_SPACE, C_API, C_USER_URL, C_LAST4,
       C_TOKEN_SET, C_SIGNING_SET, C_LABELS, C_DESCRIPTION, C_CA_FILE,
       C_CREATED, C_UPDATED, C_SECRET };

static void
read_ref(struct sh_stmt *st, struct sh_integration_ref *ref)
{
	ref->id = sh_stmt_int(st, C_ID);
	snprintf(ref->slug, sizeof(ref->slug), "%s", sh_stmt_text(st, C_SLUG));
	snprintf(ref->space, sizeof(ref->space), "%s", sh_stmt_text(st, C_SPACE));
	ref->is_default = strcmp(sh_stmt_text(st, C_TYPE), "default") == 0;
}

static void
add_text_or_null(cJSON *o, const char *name, const char *value)
{
	if (value != NULL)
		cJSON_AddStringToObject(o, name, value);
	else
		cJSON_AddNullToObject(o, name);
}

static cJSON *
summary_json(struct sh_stmt *st)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", sh_stmt_text(st, C_NAME));
	cJSON_AddStringToObject(o, "slug", sh_stmt_text(st, C_SLUG));
	cJSON_AddStringToObject(o, "type", sh_stmt_text(st, C_TYPE));
	cJSON_AddStringToObject(o, "space", sh_stmt_text(st, C_SPACE));
	cJSON_AddStringToObject(o, "api_host_url", sh_stmt_text(st, C_API));
	cJSON_AddStringToObject(o, "user_facing_host_url",
				sh_stmt_text(st, C_USER_URL));
	cJSON_AddItemToObject(o, "labels",
			      sh_json_strings_parse(sh_stmt_text(st, C_LABELS)));
	cJSON_AddStringToObject(o, "description", sh_stmt_text(st, C_DESCRIPTION));
	add_text_or_null(o, "ca_file", sh_stmt_text(st, C_CA_FILE));
	cJSON_AddBoolToObject(o, "token_set", sh_stmt_int(st, C_TOKEN_SET) != 0);
	add_text_or_null(o, "token_last4", sh_stmt_text(st, C_LAST4));
	cJSON_AddBoolToObject(o, "signing_token_set",
			      sh_stmt_int(st, C_SIGNING_SET) != 0);
	sh_json_add_time(o, "created_at", sh_stmt_int(st, C_CREATED));
	sh_json_add_time(o, "updated_at", sh_stmt_int(st, C_UPDATED));
	return o;
}

static int
add_details(cJSON *o, struct sh_stmt *st, const struct sh_integration_env *env,
	    struct sh_err *err)
{
	const void *sealed;
	char *secret = NULL, *url = NULL;
	size_t sealed_len, secret_len;
	cJSON *events;

	sealed = sh_stmt_blob(st, C_SECRET, &sealed_len);
	if (sh_crypto_open(env->secret_key, sealed, sealed_len, &secret,
			   &secret_len, err) < 0)
		return -1;
	if (asprintf(&url, "%s/webhooks/gitlab/%s", env->cfg->public_url,
		     sh_stmt_text(st, C_SLUG)) < 0) {
		url = NULL;
		sh_crypto_wipe(secret, secret_len);
		free(secret);
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	}
	cJSON_AddStringToObject(o, "webhook_url", url);
	cJSON_AddStringToObject(o, "webhook_secret", secret);
	events = cJSON_AddArrayToObject(o, "events");
	for (size_t i = 0; i < sizeof(gitlab_events) / sizeof(gitlab_events[0]); i++)
		cJSON_AddItemToArray(events, cJSON_CreateString(gitlab_events[i]));
	sh_crypto_wipe(secret, secret_len);
	free(secret);
	free(url);
	return 0;
}

/* Borrows the statement on the live integration's row. */
static int
query_live(struct sh_db *db, const char *slug, struct sh_stmt **st,
	   struct sh_err *err)
{
	static const char sql[] =
		INTEGRATION_SELECT "WHERE slug = $1 AND deleted_at IS NULL";
	int rc = sh_db_query(db, sql, st, err, "t", slug);

	if (rc == 0)
		sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no integration %.64s",
			   slug);
	return rc == 1 ? 0 : -1;
}

int
sh_integrations_find(struct sh_db *db, const char *slug,
		     struct sh_integration_ref *out, struct sh_err *err)
{
	struct sh_stmt *st;

	if (query_live(db, slug, &st, err) < 0)
		return -1;
	read_ref(st, out);
	sh_stmt_release(st);
	return 0;
}

/*
 * Finds the integration and checks the actor's rights on it: listing
 * (need_admin false) or administering.  On success *st is left on its row.
 */
static int
open_checked(struct sh_db *db, const struct sh_authz *az, const char *slug,
	     bool need_admin, struct sh_stmt **st, struct sh_integration_ref *ref,
	     struct sh_err *err)
{
	if (query_live(db, slug, st, err) < 0)
		return -1;
	read_ref(*st, ref);
	if (!sh_authz_may_list_integration(az, ref->is_default, ref->space)) {
		sh_stmt_release(*st);
		*st = NULL;
		return sh_err_set(err, SH_E_NOT_FOUND, NULL,
				  "there is no integration %.64s", slug);
	}
	if (need_admin &&
	    !sh_authz_may_admin_integration(az, ref->is_default, ref->space)) {
		sh_stmt_release(*st);
		*st = NULL;
		return sh_err_set(err, SH_E_FORBIDDEN, NULL,
				  ref->is_default ?
					  "only root admins may do this with the "
					  "default integration" :
					  "this needs the admin role in space %s",
				  ref->space);
	}
	return 0;
}

static bool
integration_visible(struct sh_stmt *st, void *az)
{
	struct sh_integration_ref ref;

	read_ref(st, &ref);
	return sh_authz_may_list_integration(az, ref.is_default, ref.space);
}

static cJSON *
integration_render(struct sh_stmt *st, void *unused)
{
	(void)unused;
	return summary_json(st);
}

int
sh_integrations_list(struct sh_db *db, const struct sh_actor *actor,
		     const struct sh_page *page, cJSON **out, struct sh_err *err)
{
	static const char sql[] = INTEGRATION_SELECT
		"WHERE deleted_at IS NULL AND id < $1 ORDER BY id DESC";
	struct sh_authz *az = NULL;
	struct sh_stmt *st;
	int rc;

	*out = NULL;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0)
		return -1;
	rc = sh_db_prepare(db, sql, &st, err);
	if (rc == 0) {
		sh_stmt_bind_int(st, 1, page->after > 0 ? page->after : INT64_MAX);
		rc = sh_page_collect(st, page, C_ID, integration_visible,
				     integration_render, az, out, err);
	}
	sh_authz_free(az);
	return rc;
}

/* Reads one integration for the actor: summary, with details when asked
 * (which needs the admin right). */
static int
read_one(struct sh_db *db, const struct sh_integration_env *env,
	 const struct sh_actor *actor, const char *slug, bool details,
	 cJSON **out, struct sh_err *err)
{
	struct sh_integration_ref ref;
	struct sh_authz *az = NULL;
	struct sh_stmt *st = NULL;
	int rc = -1;

	*out = NULL;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0 ||
	    open_checked(db, az, slug, details, &st, &ref, err) < 0)
		goto out;
	*out = summary_json(st);
	if (details && add_details(*out, st, env, err) < 0) {
		cJSON_Delete(*out);
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	sh_stmt_release(st);
	sh_authz_free(az);
	return rc;
}

int
sh_integrations_get(struct sh_db *db, const struct sh_actor *actor,
		    const char *slug, cJSON **out, struct sh_err *err)
{
	return read_one(db, NULL, actor, slug, false, out, err);
}

int
sh_integrations_details(struct sh_db *db, const struct sh_integration_env *env,
			const struct sh_actor *actor, const char *slug,
			cJSON **out, struct sh_err *err)
{
	return read_one(db, env, actor, slug, true, out, err);
}

static bool
is_host_char(int c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_';
}

int
sh_integrations_check_url(const char *url, const char *field,
			  struct sh_err *err)
{
	const char *p, *host;
	size_t host_len;

	if (strncmp(url, "private://", 10) == 0) {
		p = url + 10;
		if (*p == '\0')
			goto bad;
		for (; *p; p++)
			if (!is_host_char((unsigned char)*p))
				goto bad;
		return 0;
	}
	if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		goto bad;
	if (*host == '[') { /* an IPv6 literal */
		p = strchr(host, ']');
		if (p == NULL || p == host + 1)
			goto bad;
		for (const char *q = host + 1; q < p; q++)
			if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
				goto bad;
		p++;
	} else {
		for (p = host; is_host_char((unsigned char)*p); p++)
			;
		host_len = (size_t)(p - host);
		if (host_len == 0 || host_len > 253)
			goto bad;
	}
	if (*p == ':') {
		const char *port = ++p;

		while (isdigit((unsigned char)*p))
			p++;
		if (p == port || p - port > 5 || atoi(port) == 0 || atoi(port) > 65535)
			goto bad;
	}
	if (*p != '\0' && *p != '/')
		goto bad; /* user:password@host, a query or a fragment */
	for (; *p; p++)
		if (!isgraph((unsigned char)*p) || *p == '?' || *p == '#')
			goto bad;
	return 0;
bad:
	return sh_err_set(err, SH_E_INVALID_FIELD, field,
			  "%s must be https://host[:port][/path], "
			  "http://host[:port][/path] or private://<agent-pool>",
			  field);
}

/* A copy of url without trailing '/', so that paths join cleanly. */
static char *
trimmed_url(const char *url)
{
	char *copy = strdup(url);
	size_t n;

	if (copy == NULL)
		return NULL;
	n = strlen(copy);
	while (n > 0 && copy[n - 1] == '/' && strstr(copy, "://") + 3 < copy + n - 1)
		copy[--n] = '\0';
	return copy;
}

/* GitLab's webhook signing token: "whsec_" and the base64 of the key. */
static int
check_signing_token(const char *token, struct sh_err *err)
{
	bool prefixed = strncmp(token, SIGNING_PREFIX, strlen(SIGNING_PREFIX)) == 0;
	const char *b64 = prefixed ? token + strlen(SIGNING_PREFIX) : "";
	size_t len = strlen(b64);
	unsigned char key[TOKEN_MAX];
	int n;

	if (!prefixed || len == 0 || len % 4 != 0 ||
	    (n = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)len)) < 16) {
		sh_crypto_wipe(key, sizeof(key));
		return sh_err_set(err, SH_E_INVALID_FIELD, "signing_token",
				  "signing_token must be whsec_ followed by the "
				  "base64 of the key, as GitLab shows it");
	}
	sh_crypto_wipe(key, sizeof(key));
	return 0;
}

/* Checks the values of body that need more than a type and length check. */
static int
check_values(const cJSON *body, const char **type, struct sh_err *err)
{
	const char *api = sh_json_str(body, "api_host_url");
	const char *user_url = sh_json_str(body, "user_facing_host_url");
	const char *signing = sh_json_str(body, "signing_token");
	const char *token = sh_json_str(body, "api_token");
	const char *ca_file = sh_json_str(body, "ca_file");

	*type = sh_json_str(body, "type");
	if (*type != NULL && strcmp(*type, "default") != 0 &&
	    strcmp(*type, "space") != 0)
		return sh_err_set(err, SH_E_INVALID_FIELD, "type",
				  "type must be default or space");
	if (api != NULL && sh_integrations_check_url(api, "api_host_url", err) < 0)
		return -1;
	if (user_url != NULL &&
	    (sh_integrations_check_url(user_url, "user_facing_host_url", err) < 0 ||
	     strncmp(user_url, "private://", 10) == 0))
		return sh_err_set(err, SH_E_INVALID_FIELD, "user_facing_host_url",
				  "user_facing_host_url must be an https:// or "
				  "http:// URL people can open");
	if (token != NULL && strlen(token) < 4)
		return sh_err_set(err, SH_E_INVALID_FIELD, "api_token",
				  "api_token is too short to be a GitLab token");
	if (signing != NULL && check_signing_token(signing, err) < 0)
		return -1;
	if (ca_file != NULL && ca_file[0] != '/')
		return sh_err_set(err, SH_E_INVALID_FIELD, "ca_file",
				  "ca_file must be an absolute path to a PEM file");
	return 0;
}

/* Seals a token, or binds NULL when text is NULL. */
static int
seal_text(const struct sh_integration_env *env, const char *text,
	  unsigned char **sealed, size_t *len, struct sh_err *err)
{
	*sealed = NULL;
	*len = 0;
	if (text == NULL)
		return 0;
	return sh_crypto_seal(env->secret_key, text, strlen(text), sealed, len, err);
}

/* Checks that the actor may own an integration of this type in space, and
 * that a default one does not exist yet.  Inside the transaction. */
static int
check_placement(struct sh_db *db, const struct sh_authz *az, bool is_default,
		const char *space, int64_t self_id, struct sh_err *err)
{
	static const char sql_default[] =
		"SELECT name FROM integrations WHERE type = 'default' "
		"AND deleted_at IS NULL AND id <> $1";
	char what[SH_SLUG_MAX + 16];
	struct sh_stmt *st;
	int rc;

	if (is_default) {
		if (!sh_authz_is_root_admin(az))
			return sh_err_set(err, SH_E_FORBIDDEN, "type",
					  "only root admins manage the default "
					  "integration");
		rc = sh_db_query(db, sql_default, &st, err, "i", self_id);
		if (rc == 1) {
			sh_err_set(err, SH_E_CONFLICT, "type",
				   "there is already a default integration: %s",
				   sh_stmt_text(st, 0));
			sh_stmt_release(st);
		}
		return rc == 0 ? 0 : -1;
	}
	snprintf(what, sizeof(what), "space %.64s", space);
	if (sh_spaces_require(az, space, SH_ROLE_ADMIN, what, err) < 0) {
		snprintf(err->field, sizeof(err->field), "space");
		return -1;
	}
	return 0;
}

static int
check_slug_free(struct sh_db *db, const char *slug, struct sh_err *err)
{
	static const char sql[] = "SELECT name FROM integrations WHERE slug = $1 "
				  "AND deleted_at IS NULL";
	struct sh_stmt *st;
	int rc = sh_db_query(db, sql, &st, err, "t", slug);

	if (rc == 1) {
		sh_err_set(err, SH_E_CONFLICT, "name",
			   "integration %s already has the webhook endpoint %s; "
			   "choose another name", sh_stmt_text(st, 0), slug);
		sh_stmt_release(st);
	}
	return rc == 0 ? 0 : -1;
}

/* Reads the integration just written, with details, inside the transaction. */
static int
read_details(struct sh_db *db, const struct sh_integration_env *env,
	     const char *slug, cJSON **out, struct sh_err *err)
{
	struct sh_stmt *st;

	if (query_live(db, slug, &st, err) < 0)
		return -1;
	*out = summary_json(st);
	if (add_details(*out, st, env, err) < 0) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	sh_stmt_release(st);
	return *out ? 0 : -1;
}

/* The last four characters of a token, shown so people can tell tokens
 * apart; NULL for no token. */
static const char *
last4(const char *token)
{
	size_t n = token ? strlen(token) : 0;

	return n >= 4 ? token + n - 4 : NULL;
}

int
sh_integrations_create(struct sh_db *db, const struct sh_integration_env *env,
		       const struct sh_actor *actor, const cJSON *body,
		       cJSON **out, struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO integrations (slug, name, type, space, api_host_url, "
		"user_facing_host_url, token_sealed, token_last4, signing_sealed, "
		"secret_sealed, labels, description, ca_file, created_at, updated_at) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)";
	const char *type, *space, *token = sh_json_str(body, "api_token");
	char slug[SH_SLUG_MAX + 1];
	unsigned char *token_sealed = NULL, *signing_sealed = NULL, *secret_sealed = NULL;
	size_t token_len, signing_len, secret_len;
	char *api = NULL, *user_url = NULL, *labels = NULL, *secret = NULL;
	struct sh_authz *az = NULL;
	bool is_default;

	*out = NULL;
	if (sh_json_check(body, integration_fields, FIELD_COUNT, SH_JSON_CREATE,
			  err) < 0 ||
	    check_values(body, &type, err) < 0 ||
	    sh_slug_from_name(sh_json_str(body, "name"), slug, "name", err) < 0)
		return -1;
	is_default = type != NULL && strcmp(type, "default") == 0;
	space = sh_json_str(body, "space");
	if (is_default && space != NULL && strcmp(space, SH_ROOT_SPACE) != 0)
		return sh_err_set(err, SH_E_INVALID_FIELD, "space",
				  "the default integration belongs to the root space");
	if (!is_default && space == NULL)
		return sh_err_set(err, SH_E_MISSING_FIELD, "space",
				  "space is required for a space integration");
	if (is_default)
		space = SH_ROOT_SPACE;
	/* Links people follow cannot point at an agent pool. */
	if (strncmp(sh_json_str(body, "api_host_url"), "private://", 10) == 0 &&
	    sh_json_str(body, "user_facing_host_url") == NULL)
		return sh_err_set(err, SH_E_MISSING_FIELD, "user_facing_host_url",
				  "an integration reached through private:// needs "
				  "user_facing_host_url, the address people open");
	api = trimmed_url(sh_json_str(body, "api_host_url"));
	user_url = sh_json_str(body, "user_facing_host_url") ?
			   trimmed_url(sh_json_str(body, "user_facing_host_url")) :
			   NULL;
	labels = sh_json_strings_text(body, "labels");
	secret = sh_crypto_token("", SECRET_BYTES, err);
	if (api == NULL || labels == NULL || secret == NULL ||
	    (sh_json_str(body, "user_facing_host_url") && user_url == NULL)) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		goto fail_nodb;
	}
	if (seal_text(env, token, &token_sealed, &token_len, err) < 0 ||
	    seal_text(env, sh_json_str(body, "signing_token"), &signing_sealed,
		      &signing_len, err) < 0 ||
	    seal_text(env, secret, &secret_sealed, &secret_len, err) < 0)
		goto fail_nodb;
	if (sh_db_begin(db, err) < 0)
		goto fail_nodb;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0 ||
	    check_placement(db, az, is_default, space, 0, err) < 0 ||
	    check_slug_free(db, slug, err) < 0 ||
	    sh_db_run(db, sql, err, "tttttt" "b" "t" "b" "b" "ttt" "i", slug,
		      sh_json_str(body, "name"), is_default ? "default" : "space",
		      space, api, user_url, token_sealed, token_len, last4(token),
		      signing_sealed, signing_len, secret_sealed, secret_len, labels,
		      sh_json_str(body, "description") ? sh_json_str(body, "description") : "",
		      sh_json_str(body, "ca_file"), sh_time_now()) < 0 ||
	    sh_audit_actor(db, actor, "create", "integration", slug, space,
			   sh_json_str(body, "name"), err) < 0 ||
	    read_details(db, env, slug, out, err) < 0 || sh_db_commit(db, err) < 0)
		goto fail;
	goto out;
fail:
	sh_db_rollback(db);
fail_nodb:
	cJSON_Delete(*out);
	*out = NULL;
out:
	sh_authz_free(az);
	if (secret != NULL)
		sh_crypto_wipe(secret, strlen(secret));
	free(secret);
	free(api);
	free(user_url);
	free(labels);
	free(token_sealed);
	free(signing_sealed);
	free(secret_sealed);
	return *out ? 0 : -1;
}

/* One UPDATE per patchable column: static SQL, values always bound. */
static int
patch_text(struct sh_db *db, int64_t id, const char *sql, const char *value,
	   struct sh_err *err)
{
	return sh_db_run(db, sql, err, "ti", value, id) < 0 ? -1 : 0;
}

static int
patch_secret(struct sh_db *db, const struct sh_integration_env *env, int64_t id,
	     const char *sql, const char *value, struct sh_err *err)
{
	unsigned char *sealed;
	size_t len;
	int rc;

	if (seal_text(env, value, &sealed, &len, err) < 0)
		return -1;
	rc = sh_db_run(db, sql, err, "bi", sealed, len, id) < 0 ? -1 : 0;
	free(sealed);
	return rc;
}

static int
apply_patch(struct sh_db *db, const struct sh_integration_env *env, int64_t id,
	    const cJSON *body, struct sh_err *err)
{
	const char *token = sh_json_str(body, "api_token");
	char *api = NULL, *user_url = NULL, *labels = NULL;
	int rc = -1;

	if (sh_json_has(body, "api_host_url") &&
	    ((api = trimmed_url(sh_json_str(body, "api_host_url"))) == NULL ||
	     patch_text(db, id, "UPDATE integrations SET api_host_url = $1 WHERE id = $2",
			api, err) < 0))
		goto out;
	if (sh_json_has(body, "user_facing_host_url") &&
	    ((sh_json_str(body, "user_facing_host_url") != NULL &&
	      (user_url = trimmed_url(sh_json_str(body, "user_facing_host_url"))) == NULL) ||
	     patch_text(db, id,
			"UPDATE integrations SET user_facing_host_url = $1 WHERE id = $2",
			user_url, err) < 0))
		goto out;
	if (sh_json_has(body, "labels") &&
	    ((labels = sh_json_strings_text(body, "labels")) == NULL ||
	     patch_text(db, id, "UPDATE integrations SET labels = $1 WHERE id = $2",
			labels, err) < 0))
		goto out;
	if (sh_json_has(body, "description") &&
	    patch_text(db, id,
		       "UPDATE integrations SET description = coalesce($1, '') WHERE id = $2",
		       sh_json_str(body, "description"), err) < 0)
		goto out;
	if (sh_json_has(body, "ca_file") &&
	    patch_text(db, id, "UPDATE integrations SET ca_file = $1 WHERE id = $2",
		       sh_json_str(body, "ca_file"), err) < 0)
		goto out;
	if (sh_json_has(body, "api_token") &&
	    (patch_secret(db, env, id,
			  "UPDATE integrations SET token_sealed = $1 WHERE id = $2",
			  token, err) < 0 ||
	     patch_text(db, id, "UPDATE integrations SET token_last4 = $1 WHERE id = $2",
			last4(token), err) < 0))
		goto out;
	if (sh_json_has(body, "signing_token") &&
	    patch_secret(db, env, id,
			 "UPDATE integrations SET signing_sealed = $1 WHERE id = $2",
			 sh_json_str(body, "signing_token"), err) < 0)
		goto out;
	rc = sh_db_run(db, "UPDATE integrations SET updated_at = $1 WHERE id = $2",
		       err, "ii", sh_time_now(), id) < 0 ? -1 : 0;
out:
	if (rc < 0 && (err == NULL || err->code == SH_OK))
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	free(api);
	free(user_url);
	free(labels);
	return rc;
}

/* A change of type or space: rights on the new place, one default. */
static int
apply_move(struct sh_db *db, const struct sh_authz *az,
	   const struct sh_integration_ref *ref, const cJSON *body,
	   const char *type, struct sh_err *err)
{
	static const char sql[] =
		"UPDATE integrations SET type = $1, space = $2 WHERE id = $3";
	bool is_default = type ? strcmp(type, "default") == 0 : ref->is_default;
	const char *space = sh_json_str(body, "space");

	if (space == NULL)
		space = is_default ? SH_ROOT_SPACE : ref->space;
	if (is_default && strcmp(space, SH_ROOT_SPACE) != 0)
		return sh_err_set(err, SH_E_INVALID_FIELD, "space",
				  "the default integration belongs to the root space");
	if (check_placement(db, az, is_default, space, ref->id, err) < 0)
		return -1;
	return sh_db_run(db, sql, err, "tti", is_default ? "default" : "space",
			 space, ref->id) < 0 ? -1 : 0;
}

int
sh_integrations_patch(struct sh_db *db, const struct sh_integration_env *env,
		      const struct sh_actor *actor, const char *slug,
		      const cJSON *body, cJSON **out, struct sh_err *err)
{
	struct sh_integration_ref ref;
	struct sh_authz *az = NULL;
	struct sh_stmt *st = NULL;
	const char *type;
	bool moves = sh_json_has(body, "type") || sh_json_has(body, "space");

	*out = NULL;
	if (sh_json_check(body, integration_fields, FIELD_COUNT, SH_JSON_PATCH,
			  err) < 0 ||
	    check_values(body, &type, err) < 0)
		return -1;
	if (sh_db_begin(db, err) < 0)
		return -1;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0 ||
	    open_checked(db, az, slug, true, &st, &ref, err) < 0)
		goto fail;
	sh_stmt_release(st);
	if ((moves && apply_move(db, az, &ref, body, type, err) < 0) ||
	    apply_patch(db, env, ref.id, body, err) < 0 ||
	    (moves && sh_spaces_check_attachments(db, actor, err) < 0) ||
	    sh_audit_actor(db, actor, "update", "integration", slug, ref.space,
			   NULL, err) < 0 ||
	    read_details(db, env, slug, out, err) < 0 || sh_db_commit(db, err) < 0)
		goto fail;
	sh_authz_free(az);
	/* Only admins patch, but the answer is the summary like a GET. */
	cJSON_DeleteItemFromObject(*out, "webhook_secret");
	return 0;
fail:
	sh_db_rollback(db);
	sh_authz_free(az);
	cJSON_Delete(*out);
	*out = NULL;
	return -1;
}

int
sh_integrations_rotate_secret(struct sh_db *db,
			      const struct sh_integration_env *env,
			      const struct sh_actor *actor, const char *slug,
			      cJSON **out, struct sh_err *err)
{
	static const char sql[] =
		"UPDATE integrations SET secret_sealed = $1, updated_at = $2 "
		"WHERE id = $3";
	struct sh_integration_ref ref;
	struct sh_authz *az = NULL;
	struct sh_stmt *st = NULL;
	unsigned char *sealed = NULL;
	char *secret = NULL;
	size_t len;

	*out = NULL;
	secret = sh_crypto_token("", SECRET_BYTES, err);
	if (secret == NULL || seal_text(env, secret, &sealed, &len, err) < 0)
		goto out;
	if (sh_db_begin(db, err) < 0)
		goto out;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0 ||
	    open_checked(db, az, slug, true, &st, &ref, err) < 0)
		goto fail;
	sh_stmt_release(st);
	if (sh_db_run(db, sql, err, "bii", sealed, len, sh_time_now(), ref.id) < 0 ||
	    sh_audit_actor(db, actor, "rotate-secret", "integration", slug,
			   ref.space, NULL, err) < 0 ||
	    read_details(db, env, slug, out, err) < 0 || sh_db_commit(db, err) < 0)
		goto fail;
	goto out;
fail:
	sh_db_rollback(db);
	cJSON_Delete(*out);
	*out = NULL;
out:
	sh_authz_free(az);
	if (secret != NULL)
		sh_crypto_wipe(secret, strlen(secret));
	free(secret);
	free(sealed);
	return *out ? 0 : -1;
}

int
sh_integrations_delete(struct sh_db *db, const struct sh_actor *actor,
		       const char *slug, struct sh_err *err)
{
	static const char sql_delete[] =
		"UPDATE integrations SET deleted_at = $1 WHERE id = $2";
	static const char sql_detach[] =
		"UPDATE stacks SET integration_id = NULL, updated_at = $1 "
		"WHERE integration_id = $2";
	struct sh_integration_ref ref;
	struct sh_authz *az = NULL;
	struct sh_stmt *st = NULL;
	char detail[64];
	int64_t detached, now = sh_time_now();

	if (sh_db_begin(db, err) < 0)
		return -1;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0 ||
	    open_checked(db, az, slug, true, &st, &ref, err) < 0)
		goto fail;
	sh_stmt_release(st);
	if (sh_db_run(db, sql_delete, err, "ii", now, ref.id) < 0 ||
	    (detached = sh_db_run(db, sql_detach, err, "ii", now, ref.id)) < 0)
		goto fail;
	snprintf(detail, sizeof(detail), "detached %lld stacks", (long long)detached);
	if (sh_audit_actor(db, actor, "delete", "integration", slug, ref.space,
			   detail, err) < 0 ||
	    sh_db_commit(db, err) < 0)
		goto fail;
	sh_authz_free(az);
	return 0;
fail:
	sh_db_rollback(db);
	sh_authz_free(az);
	return -1;
}

/* The key inside "whsec_<base64>", decoded into a new buffer. */
static int
decode_signing_key(const char *token, unsigned char **key, size_t *len,
		   struct sh_err *err)
{
	const char *b64 = token + strlen(SIGNING_PREFIX);
	size_t b64_len = strlen(b64);
	int n;

	*key = malloc(b64_len / 4 * 3 + 1);
	if (*key == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	n = EVP_DecodeBlock(*key, (const unsigned char *)b64, (int)b64_len);
	if (n < 0) {
		free(*key);
		*key = NULL;
		return sh_err_set(err, SH_E_INTERNAL, NULL, "stored signing token is malformed");
	}
	/* EVP_DecodeBlock counts padding as zero bytes. */
	while (b64_len > 0 && b64[b64_len - 1] == '=') {
		b64_len--;
		n--;
	}
	*len = (size_t)n;
	return 0;
}

int
sh_integrations_webhook_secrets(struct sh_db *db, const unsigned char *secret_key,
				const char *slug, struct sh_integration_secrets *out,
				struct sh_err *err)
{
	static const char sql[] =
		"SELECT id, slug, type, space, secret_sealed, signing_sealed "
		"FROM integrations WHERE slug = $1 AND deleted_at IS NULL";
	const void *sealed;
	char *signing = NULL;
	size_t sealed_len, signing_len = 0;
	struct sh_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = sh_db_query(db, sql, &st, err, "t", slug);
	if (rc == 0)
		return sh_err_set(err, SH_E_NOT_FOUND, NULL,
				  "there is no integration %.64s", slug);
	if (rc < 0)
		return -1;
	out->ref.id = sh_stmt_int(st, 0);
	snprintf(out->ref.slug, sizeof(out->ref.slug), "%s", sh_stmt_text(st, 1));
	out->ref.is_default = strcmp(sh_stmt_text(st, 2), "default") == 0;
	snprintf(out->ref.space, sizeof(out->ref.space), "%s", sh_stmt_text(st, 3));
	sealed = sh_stmt_blob(st, 4, &sealed_len);
	rc = sh_crypto_open(secret_key, sealed, sealed_len, &out->webhook_secret,
			    &out->webhook_secret_len, err);
	if (rc == 0 && !sh_stmt_is_null(st, 5)) {
		sealed = sh_stmt_blob(st, 5, &sealed_len);
		rc = sh_crypto_open(secret_key, sealed, sealed_len, &signing,
				    &signing_len, err);
		if (rc == 0)
			rc = decode_signing_key(signing, &out->signing_key,
						&out->signing_key_len, err);
	}
	sh_stmt_release(st);
	if (signing != NULL) {
		sh_crypto_wipe(signing, signing_len);
		free(signing);
	}
	if (rc < 0)
		sh_integrations_secrets_release(out);
	return rc;
}

void
sh_integrations_secrets_release(struct sh_integration_secrets *s)
{
	if (s->webhook_secret != NULL) {
		sh_crypto_wipe(s->webhook_secret, s->webhook_secret_len);
		free(s->webhook_secret);
	}
	if (s->signing_key != NULL) {
		sh_crypto_wipe(s->signing_key, s->signing_key_len);
		free(s->signing_key);
	}
	s->webhook_secret = NULL;
	s->signing_key = NULL;
}

/* The sealed columns, each with its own statement (no SQL is built). */
static const struct {
	const char *column;
	const char *update;
} sealed_columns[] = {
	{"token_sealed", "UPDATE integrations SET token_sealed = $1 WHERE id = $2"},
	{"signing_sealed", "UPDATE integrations SET signing_sealed = $1 WHERE id = $2"},
	{"secret_sealed", "UPDATE integrations SET secret_sealed = $1 WHERE id = $2"},
};
#define SEALED_COLUMN_COUNT (sizeof(sealed_columns) / sizeof(sealed_columns[0]))

/* One integration's sealed values, read before any is written. */
struct sealed_row {
	int64_t id;
	char slug[SH_SLUG_MAX + 1];
	unsigned char *value[SEALED_COLUMN_COUNT];
	size_t len[SEALED_COLUMN_COUNT];
};

static void
sealed_rows_free(struct sealed_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < SEALED_COLUMN_COUNT; c++)
			free(rows[i].value[c]);
	free(rows);
}

static int
read_sealed(struct sh_db *db, struct sealed_row **out, size_t *n, struct sh_err *err)
{
	static const char sql[] =
		"SELECT id, slug, token_sealed, signing_sealed, secret_sealed "
		"FROM integrations ORDER BY id";
	struct sealed_row *rows = NULL, *grown;
	struct sh_stmt *st;
	int rc = sh_db_query(db, sql, &st, err, "");

	*n = 0;
	while (rc == 1) {
		grown = realloc(rows, (*n + 1) * sizeof(*rows));
		if (grown == NULL) {
			sh_stmt_release(st);
			rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			break;
		}
		rows = grown;
		memset(&rows[*n], 0, sizeof(*rows));
		rows[*n].id = sh_stmt_int(st, 0);
		snprintf(rows[*n].slug, sizeof(rows[*n].slug), "%s", sh_stmt_text(st, 1));
		(*n)++;
		for (size_t c = 0; c < SEALED_COLUMN_COUNT; c++) {
			size_t len;
			const void *blob = sh_stmt_blob(st, (int)c + 2, &len);

			if (sh_stmt_is_null(st, (int)c + 2))
				continue;
			rows[*n - 1].value[c] = malloc(len ? len : 1);
			if (rows[*n - 1].value[c] == NULL) {
				sh_stmt_release(st);
				rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
				goto out;
			}
			memcpy(rows[*n - 1].value[c], blob, len);
			rows[*n - 1].len[c] = len;
		}
		rc = sh_stmt_step(st, err);
	}
out:
	if (rc < 0) {
		sealed_rows_free(rows, *n);
		*n = 0;
		return -1;
	}
	*out = rows;
	return 0;
}

/* Re-seals one value under new_key unless it opens with it already. */
static int
reseal_value(struct sh_db *db, const struct sealed_row *row, size_t c,
	     const unsigned char *old_key, const unsigned char *new_key,
	     int *resealed, struct sh_err *err)
{
	struct sh_err ignored;
	unsigned char *sealed = NULL;
	size_t plain_len = 0, sealed_len;
	char *plain = NULL;
	int rc = -1;

	if (sh_crypto_open(new_key, row->value[c], row->len[c], &plain, &plain_len,
			   &ignored) == 0) {
		rc = 0;
		goto out;
	}
	if (sh_crypto_open(old_key, row->value[c], row->len[c], &plain, &plain_len,
			   &ignored) < 0) {
		sh_err_set(err, SH_E_CONFIG, NULL,
			   "integration %s: its %s opens with neither the old nor the "
			   "new key; nothing was changed",
			   row->slug, sealed_columns[c].column);
		goto out;
	}
	if (sh_crypto_seal(new_key, plain, plain_len, &sealed, &sealed_len, err) < 0 ||
	    sh_db_run(db, sealed_columns[c].update, err, "bi", sealed, sealed_len,
		      row->id) < 0)
		goto out;
	(*resealed)++;
	rc = 0;
out:
	if (plain != NULL) {
		sh_crypto_wipe(plain, plain_len);
		free(plain);
	}
	free(sealed);
	return rc;
}

int
sh_integrations_reseal(struct sh_db *db, const unsigned char *old_key,
		       const unsigned char *new_key, int *resealed,
		       struct sh_err *err)
{
	struct sealed_row *rows = NULL;
	size_t n = 0;

	*resealed = 0;
	if (sh_db_begin(db, err) < 0)
		return -1;
	if (read_sealed(db, &rows, &n, err) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		for (size_t c = 0; c < SEALED_COLUMN_COUNT; c++)
			if (rows[i].value[c] != NULL &&
			    reseal_value(db, &rows[i], c, old_key, new_key, resealed,
					 err) < 0)
				goto fail;
	if (sh_db_commit(db, err) < 0)
		goto fail;
	sealed_rows_free(rows, n);
	return 0;
fail:
	sh_db_rollback(db);
	sealed_rows_free(rows, n);
	*resealed = 0;
	return -1;
}

/* Problems that can be seen without asking GitLab. */
static void
add_local_problems(cJSON *problems, struct sh_stmt *st,
		   const struct sh_integration_env *env)
{
	const char *api = sh_stmt_text(st, C_API);
	const char *ca_file = sh_stmt_text(st, C_CA_FILE);
	char line[512];

	if (sh_stmt_int(st, C_TOKEN_SET) == 0)
		cJSON_AddItemToArray(problems, cJSON_CreateString(
			"no api_token is set: reports to GitLab cannot be sent"));
	if (strncmp(api, "private://", 10) == 0 &&
	    sh_config_agent_pool(env->cfg, api + 10) == NULL) {
		snprintf(line, sizeof(line),
			 "reports wait: the config has no agent_pool.%s to reach %s",
			 api + 10, api);
		cJSON_AddItemToArray(problems, cJSON_CreateString(line));
	}
	if (ca_file != NULL && access(ca_file, R_OK) != 0) {
		snprintf(line, sizeof(line), "ca_file %s cannot be read", ca_file);
		cJSON_AddItemToArray(problems, cJSON_CreateString(line));
	}
}

/* The last delivery this integration received. */
static void
add_last_delivery(struct sh_db *db, cJSON *o, int64_t id)
{
	static const char sql[] =
		"SELECT id, received_at, kind, outcome, reason FROM deliveries "
		"WHERE integration_id = $1 ORDER BY id DESC LIMIT 1";
	struct sh_stmt *st;
	cJSON *d;
	char text[24];

	if (sh_db_query(db, sql, &st, NULL, "i", id) != 1) {
		cJSON_AddNullToObject(o, "last_delivery");
		return;
	}
	d = cJSON_AddObjectToObject(o, "last_delivery");
	snprintf(text, sizeof(text), "%lld", (long long)sh_stmt_int(st, 0));
	cJSON_AddStringToObject(d, "id", text);
	sh_json_add_time(d, "received_at", sh_stmt_int(st, 1));
	cJSON_AddStringToObject(d, "kind", sh_stmt_text(st, 2));
	cJSON_AddStringToObject(d, "outcome", sh_stmt_text(st, 3));
	if (sh_stmt_is_null(st, 4))
		cJSON_AddNullToObject(d, "reason");
	else
		cJSON_AddStringToObject(d, "reason", sh_stmt_text(st, 4));
	sh_stmt_release(st);
}

/* Projects whose deliveries arrived twice under different keys. */
static void
add_duplicate_hooks(struct sh_db *db, cJSON *o, int64_t id)
{
	static const char sql[] =
		"SELECT project_path, count(*), max(received_at) FROM deliveries "
		"WHERE integration_id = $1 AND suspected_duplicate_hook = 1 "
		"GROUP BY project_path ORDER BY project_path";
	cJSON *list = cJSON_AddArrayToObject(o, "suspected_duplicate_hooks");
	struct sh_stmt *st;

	if (sh_db_prepare(db, sql, &st, NULL) < 0)
		return;
	sh_stmt_bind_int(st, 1, id);
	while (sh_stmt_step(st, NULL) == 1) {
		cJSON *item = cJSON_CreateObject();

		cJSON_AddStringToObject(item, "project", sh_stmt_text(st, 0));
		cJSON_AddNumberToObject(item, "deliveries", (double)sh_stmt_int(st, 1));
		sh_json_add_time(item, "last_seen", sh_stmt_int(st, 2));
		cJSON_AddStringToObject(item, "fix",
					"in the project's Settings > Webhooks, keep "
					"one webhook to this integration's URL");
		cJSON_AddItemToArray(list, item);
	}
	sh_stmt_release(st);
}

/* What the reporter met, by kind of trouble. */
static void
add_reporter_errors(struct sh_db *db, cJSON *o, int64_t id)
{
	static const char sql[] =
		"SELECT kind, count, last_at, last_message FROM report_problems "
		"WHERE integration_id = $1";
	static const char *const kinds[] = {"credentials", "unreachable", "rejected"};
	cJSON *errors = cJSON_AddObjectToObject(o, "reporter_errors");
	struct sh_stmt *st;

	for (size_t i = 0; i < 3; i++)
		cJSON_AddNullToObject(errors, kinds[i]);
	if (sh_db_prepare(db, sql, &st, NULL) < 0)
		return;
	sh_stmt_bind_int(st, 1, id);
	while (sh_stmt_step(st, NULL) == 1) {
		cJSON *k = cJSON_CreateObject();

		cJSON_AddNumberToObject(k, "count", (double)sh_stmt_int(st, 1));
		sh_json_add_time(k, "last_at", sh_stmt_int(st, 2));
		cJSON_AddStringToObject(k, "last_message", sh_stmt_text(st, 3) ?
								   sh_stmt_text(st, 3) : "");
		cJSON_ReplaceItemInObjectCaseSensitive(errors, sh_stmt_text(st, 0), k);
	}
	sh_stmt_release(st);
}

/* The last `stackhook doctor` run, as it stored it. */
static void
add_doctor(struct sh_db *db, cJSON *o, int64_t id)
{
	static const char sql[] =
		"SELECT at, report FROM doctor_results WHERE integration_id = $1";
	struct sh_stmt *st;
	cJSON *d, *report;

	if (sh_db_query(db, sql, &st, NULL, "i", id) != 1) {
		cJSON_AddNullToObject(o, "doctor");
		return;
	}
	report = cJSON_Parse(sh_stmt_text(st, 1));
	d = cJSON_AddObjectToObject(o, "doctor");
	sh_json_add_time(d, "at", sh_stmt_int(st, 0));
	if (report != NULL)
		cJSON_AddItemToObject(d, "report", report);
	sh_stmt_release(st);
}

static void
add_waiting_reports(cJSON *o, const struct sh_integration_env *env, int64_t id)
{
	struct sh_spool_stats own;
	const struct sh_spool_stats *stats = &own;
	cJSON *w = cJSON_AddObjectToObject(o, "reports");

	if (env->tally != NULL)
		stats = sh_spool_tally_find(env->tally, id);
	else if (sh_spool_stats(env->cfg->spool, id, &own, NULL) < 0)
		return;
	cJSON_AddNumberToObject(w, "waiting", (double)(stats->entries[1] + stats->entries[2]));
	cJSON_AddNumberToObject(w, "deferred", (double)stats->entries[2]);
	cJSON_AddNumberToObject(w, "failed", (double)stats->entries[3]);
	if (stats->oldest > 0)
		cJSON_AddNumberToObject(w, "oldest_waiting_seconds",
					(double)(sh_time_now() - stats->oldest));
	else
		cJSON_AddNullToObject(w, "oldest_waiting_seconds");
}

int
sh_integrations_health(struct sh_db *db, const struct sh_integration_env *env,
		       const struct sh_actor *actor, const char *slug,
		       cJSON **out, struct sh_err *err)
{
	static const char sql_stacks[] =
		"SELECT count(*) FROM stacks WHERE integration_id = $1";
	struct sh_integration_ref ref;
	struct sh_authz *az = NULL;
	struct sh_stmt *st = NULL, *count = NULL;
	char refusals[48];
	cJSON *o;
	int rc = -1;

	*out = NULL;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0 ||
	    open_checked(db, az, slug, true, &st, &ref, err) < 0 ||
	    sh_db_query(db, sql_stacks, &count, err, "i", ref.id) != 1)
		goto out;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "integration", slug);
	cJSON_AddNumberToObject(o, "stacks", (double)sh_stmt_int(count, 0));
	add_local_problems(cJSON_AddArrayToObject(o, "problems"), st, env);
	sh_stmt_release(count);
	count = NULL;
	sh_stmt_release(st);
	st = NULL;
	add_last_delivery(db, o, ref.id);
	add_duplicate_hooks(db, o, ref.id);
	snprintf(refusals, sizeof(refusals), "storage_refusals:%lld", (long long)ref.id);
	cJSON_AddNumberToObject(o, "storage_refusals",
				(double)sh_metrics_get(db, refusals));
	add_reporter_errors(db, o, ref.id);
	add_waiting_reports(o, env, ref.id);
	add_doctor(db, o, ref.id);
	snprintf(refusals, sizeof(refusals), "webhook_resends:%lld", (long long)ref.id);
	cJSON_AddNumberToObject(o, "webhook_resends",
				(double)sh_metrics_get(db, refusals));
	*out = o;
	rc = 0;
out:
	sh_stmt_release(count);
	sh_stmt_release(st);
	sh_authz_free(az);
	return rc;
}
