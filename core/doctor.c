#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stackhook/crypto.h"
#include "stackhook/doctor.h"
#include "stackhook/hooks.h"
#include "stackhook/log.h"
#include "stackhook/remote.h"
#include "stackhook/timeutil.h"
#include "stackhook/updates.h"

#define MAINTAINER 40
#define PATH_CAP 2400
#define REF_CAP 2048 /* an encoded project path: well under PATH_CAP */

static const char *const level_names[] = {"ok", "warn", "fail"};

const char *
sh_check_level_name(enum sh_check_level level)
{
	return (unsigned)level <= SH_CHECK_FAIL ? level_names[level] : "fail";
}

/* What one integration's checks need. */
struct visit {
	struct sh_instance *inst;
	struct sh_db *db;
	struct sh_gitlab *gl;
	struct sh_remote *remote;
	struct sh_doctor_report *report;
	int64_t user_id;
	char username[256];
};

static void __attribute__((format(printf, 5, 6)))
add(struct visit *v, enum sh_check_level level, const char *subject,
    const char *fix, const char *fmt, ...)
{
	struct sh_doctor_report *r = v->report;
	struct sh_check *grown = realloc(r->checks, (r->count + 1) * sizeof(*grown));
	struct sh_check *c;
	va_list ap;

	if (grown == NULL)
		return;
	r->checks = grown;
	c = &grown[r->count++];
	memset(c, 0, sizeof(*c));
	c->level = level;
	snprintf(c->integration, sizeof(c->integration), "%s", v->remote->slug);
	snprintf(c->subject, sizeof(c->subject), "%s", subject);
	snprintf(c->fix, sizeof(c->fix), "%s", fix ? fix : "");
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
	if (level == SH_CHECK_OK)
		r->ok++;
	else if (level == SH_CHECK_WARN)
		r->warn++;
	else
		r->fail++;
}

/* GETs path; returns the parsed answer (2xx) or NULL, with *status (0 for
 * a transport failure, whose text goes to why). */
static cJSON *
get(struct visit *v, const char *path, long *status, char *why, size_t size)
{
	const struct sh_gitlab_target t = sh_remote_target(v->remote);
	struct sh_gitlab_answer a;
	struct sh_err err;
	cJSON *json = NULL;

	*status = 0;
	if (sh_gitlab_call(v->gl, &t, "GET", path, NULL, &a, &err) < 0) {
		snprintf(why, size, "%.250s", err.msg);
		return NULL;
	}
	if (a.transport != SH_GITLAB_OK)
		snprintf(why, size, "%s", a.error);
	else
		*status = a.status;
	if (a.status >= 200 && a.status < 300)
		json = cJSON_ParseWithLength(a.body, a.len);
	sh_gitlab_answer_release(&a);
	return json;
}

/* Days from now until a "YYYY-MM-DD" date (negative: past); false when
 * the text is not such a date. */
static bool
days_until(const char *date, int64_t now, long *days)
{
	struct tm tm = {0};

	if (date == NULL || strptime(date, "%Y-%m-%d", &tm) == NULL)
		return false;
	*days = (long)((timegm(&tm) - now) / 86400);
	return true;
}

static bool
has_scope(const cJSON *scopes, const char *scope)
{
	const cJSON *s;

	cJSON_ArrayForEach(s, scopes)
		if (cJSON_IsString(s) && strcmp(s->valuestring, scope) == 0)
			return true;
	return false;
}

/* The token: GitLab answers at all (reachability, TLS), accepts it, and
 * it is active, has the api scope and does not expire too soon. */
static bool
check_token(struct visit *v)
{
	char why[300];
	long status, days;
	const char *expires;
	cJSON *self = get(v, "/personal_access_tokens/self", &status, why, sizeof(why));

	if (status == 0) {
		add(v, SH_CHECK_FAIL, "reachability",
		    "check the API host URL, the network path and ca_file for a "
		    "private certificate authority",
		    "cannot reach GitLab at %s: %s", v->remote->base_url, why);
		return false;
	}
	if (status == 401 || self == NULL ||
	    !cJSON_IsTrue(cJSON_GetObjectItem(self, "active")) ||
	    cJSON_IsTrue(cJSON_GetObjectItem(self, "revoked"))) {
		add(v, SH_CHECK_FAIL, "token",
		    "create a new access token with the api scope and PATCH it into "
		    "the integration's api_token",
		    "GitLab refuses the token (answer %ld): it is revoked, expired "
		    "or mistyped", status);
		cJSON_Delete(self);
		return false;
	}
	add(v, SH_CHECK_OK, "reachability", NULL, "GitLab answers at %s",
	    v->remote->base_url);
	if (!has_scope(cJSON_GetObjectItem(self, "scopes"), "api"))
		add(v, SH_CHECK_FAIL, "token scope",
		    "create a token with the api scope: statuses, comments, "
		    "deployments and webhooks need it",
		    "the token lacks the api scope");
	else
		add(v, SH_CHECK_OK, "token scope", NULL, "the token has the api scope");
	expires = cJSON_GetStringValue(cJSON_GetObjectItem(self, "expires_at"));
	if (expires == NULL)
		add(v, SH_CHECK_OK, "token expiry", NULL, "the token does not expire");
	else if (!days_until(expires, sh_time_now(), &days))
		add(v, SH_CHECK_WARN, "token expiry", "check the token in GitLab",
		    "GitLab gave an expiry date stackhook cannot read: %.40s", expires);
	else if (days < 0)
		add(v, SH_CHECK_FAIL, "token expiry", "create a new token",
		    "the token expired on %s", expires);
	else if (days < SH_TOKEN_WARN_DAYS)
		add(v, SH_CHECK_WARN, "token expiry",
		    "run `stackhook doctor --rotate` to rotate it now",
		    "the token expires on %s, in %ld days", expires, days);
	else
		add(v, SH_CHECK_OK, "token expiry", NULL, "the token expires on %s",
		    expires);
	cJSON_Delete(self);
	return true;
}

static void
check_user(struct visit *v)
{
	char why[300];
	long status;
	cJSON *user = get(v, "/user", &status, why, sizeof(why));
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(user, "username"));

	v->user_id = user ? (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(user, "id")) : 0;
	if (user == NULL || name == NULL) {
		add(v, SH_CHECK_FAIL, "user", "check the token in GitLab",
		    "GitLab does not say whose the token is (answer %ld)", status);
	} else {
		snprintf(v->username, sizeof(v->username), "%s", name);
		add(v, SH_CHECK_OK, "user", NULL, "the token belongs to %s", name);
	}
	cJSON_Delete(user);
}

static bool
hook_flag(const cJSON *hook, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItem(hook, name));
}

static void
check_hooks(struct visit *v, const char *subject, int64_t project_id)
{
	char path[PATH_CAP], why[300];
	const cJSON *hook, *ours = NULL;

	const char *alert;
	long status;
	int count = 0;
	cJSON *hooks;

	snprintf(path, sizeof(path), "/projects/%lld/hooks?per_page=100",
		 (long long)project_id);
	hooks = get(v, path, &status, why, sizeof(why));
	if (hooks == NULL) {
		add(v, SH_CHECK_FAIL, subject,
		    "the token's user must be Maintainer to read webhooks",
		    "cannot list the project's webhooks (answer %ld)", status);
		return;
	}
	cJSON_ArrayForEach(hook, hooks) {
		const char *url = cJSON_GetStringValue(cJSON_GetObjectItem(hook, "url"));

		if (url != NULL && v->remote->webhook_url != NULL &&
		    strcmp(url, v->remote->webhook_url) == 0) {
			count++;
			if (ours == NULL)
				ours = hook;
		}
	}
	if (count == 0) {
		add(v, SH_CHECK_FAIL, subject, "run `stackhook hooks sync`",
		    "no webhook points at %s", v->remote->webhook_url);
	} else if (count > 1) {
		add(v, SH_CHECK_FAIL, subject, "run `stackhook hooks sync --prune`",
		    "%d webhooks point at %s: each event arrives %d times", count,
		    v->remote->webhook_url, count);
	} else if (!hook_flag(ours, "push_events") || !hook_flag(ours, "tag_push_events") ||
		   !hook_flag(ours, "merge_requests_events")) {
		add(v, SH_CHECK_FAIL, subject, "run `stackhook hooks sync`",
		    "the webhook lacks some of the push, tag push and merge request "
		    "events");
	} else if (!hook_flag(ours, "enable_ssl_verification") &&
		   strncmp(v->remote->webhook_url, "https://", 8) == 0) {
		add(v, SH_CHECK_FAIL, subject, "run `stackhook hooks sync`",
		    "the webhook does not verify SSL");
	} else if ((alert = cJSON_GetStringValue(cJSON_GetObjectItem(ours, "alert_status"))) != NULL &&
		   strcmp(alert, "executable") != 0) {
		add(v, SH_CHECK_FAIL, subject,
		    "fix what made deliveries fail, then send a test event from the "
		    "project's Settings > Webhooks to re-enable it",
		    "GitLab disabled the webhook after failed deliveries (%.40s)", alert);
	} else {
		add(v, SH_CHECK_OK, subject, NULL, "one webhook with the right events");
	}
	if (ours != NULL && project_id > 0)
		sh_hooks_remember(v->db, v->remote->id, project_id,
				  (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(ours, "id")));
	cJSON_Delete(hooks);
}

static void
check_project(struct visit *v, const char *project_path)
{
	char ref[REF_CAP], path[PATH_CAP], subject[300], why[300];
	int64_t project_id;
	long status, level;
	cJSON *project, *member;

	snprintf(subject, sizeof(subject), "project %.250s", project_path);
	sh_updates_escape(project_path, ref, sizeof(ref));
	snprintf(path, sizeof(path), "/projects/%s", ref);
	project = get(v, path, &status, why, sizeof(why));
	if (project == NULL) {
		add(v, SH_CHECK_FAIL, subject,
		    "check the stack's namespace and repository, and that the "
		    "token's user is a member of the project",
		    "GitLab does not show the project (answer %ld)", status);
		return;
	}
	project_id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(project, "id"));
	cJSON_Delete(project);
	snprintf(path, sizeof(path), "/projects/%lld/members/all/%lld",
		 (long long)project_id, (long long)v->user_id);
	member = get(v, path, &status, why, sizeof(why));
	level = member ? (long)cJSON_GetNumberValue(cJSON_GetObjectItem(member, "access_level")) : 0;
	cJSON_Delete(member);
	if (level < MAINTAINER)
		add(v, SH_CHECK_FAIL, subject,
		    "give the token's user the Maintainer role in the project",
		    "%s has access level %ld; Maintainer (40) is needed for "
		    "webhooks and protected branches", v->username, level);
	else
		add(v, SH_CHECK_OK, subject, NULL, "%s is Maintainer or more",
		    v->username);
	check_hooks(v, subject, project_id);
}

static int
check_projects(struct visit *v, struct sh_err *err)
{
	static const char sql[] =
		"SELECT DISTINCT namespace || '/' || repository FROM stacks "
		"WHERE integration_id = $1 ORDER BY 1";
	char **paths = NULL;
	struct sh_stmt *st;
	size_t n = 0;
	int rc;

	if (sh_db_prepare(v->db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_int(st, 1, v->remote->id);
	while ((rc = sh_stmt_step(st, err)) == 1) {
		char **grown = realloc(paths, (n + 1) * sizeof(*paths));

		if (grown == NULL) {
			rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			break;
		}
		paths = grown;
		paths[n++] = strdup(sh_stmt_text(st, 0));
	}
	sh_stmt_release(st);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && paths[i] != NULL)
			check_project(v, paths[i]);
		free(paths[i]);
	}
	free(paths);
	if (rc == 0 && n == 0)
		add(v, SH_CHECK_WARN, "stacks", "attach stacks to the integration",
		    "no stack uses this integration");
	return rc < 0 ? -1 : 0;
}

static void
store(struct visit *v, size_t first)
{
	static const char sql[] =
		"INSERT INTO doctor_results (integration_id, at, report) VALUES "
		"($1, $2, $3) ON CONFLICT (integration_id) DO UPDATE SET at = "
		"excluded.at, report = excluded.report";
	struct sh_doctor_report part = {
		.checks = v->report->checks + first,
		.count = v->report->count - first,
	};
	cJSON *json;
	char *text;

	for (size_t i = 0; i < part.count; i++) {
		if (part.checks[i].level == SH_CHECK_OK)
			part.ok++;
		else if (part.checks[i].level == SH_CHECK_WARN)
			part.warn++;
		else
			part.fail++;
	}
	json = sh_doctor_json(&part);
	text = cJSON_PrintUnformatted(json);
	if (text != NULL)
		sh_db_run(v->db, sql, NULL, "iit", v->remote->id, sh_time_now(), text);
	free(text);
	cJSON_Delete(json);
}

static int
diagnose(struct sh_remote *remote, struct sh_db *db, void *arg, struct sh_err *err)
{
	struct visit *v = arg;
	size_t first = v->report->count;
	int rc = 0;

	v->remote = remote;
	v->db = db;
	if (v->remote->base_url == NULL || v->remote->token == NULL)
		add(v, SH_CHECK_FAIL, v->remote->base_url ? "token" : "reachability",
		    v->remote->waiting_for_token ? "PATCH an api_token into the integration" :
						  "add the agent_pool line to the config",
		    "%s", v->remote->waiting);
	else if (check_token(v)) {
		check_user(v);
		rc = check_projects(v, err);
	}
	store(v, first);
	return rc;
}

int
sh_doctor_run(struct sh_instance *inst, struct sh_gitlab *gl, const char *slug,
	      struct sh_doctor_report *out, struct sh_err *err)
{
	struct visit v = {.inst = inst, .gl = gl, .report = out};

	memset(out, 0, sizeof(*out));
	return sh_remote_each(inst, slug, SH_REMOTE_HOOK_SECRETS, diagnose, &v, err);
}

/* The old token's lifetime in days (created_at to expires_at), between
 * 30 and 365; 90 when GitLab does not say. */
static long
lifetime_days(const cJSON *self)
{
	const char *created = cJSON_GetStringValue(cJSON_GetObjectItem(self, "created_at"));
	const char *expires = cJSON_GetStringValue(cJSON_GetObjectItem(self, "expires_at"));
	struct tm tm = {0};
	long until, days = 90;

	if (created != NULL && strptime(created, "%Y-%m-%d", &tm) != NULL &&
	    days_until(expires, (int64_t)timegm(&tm), &until))
		days = until;
	return days < 30 ? 30 : days > 365 ? 365 : days;
}

/* Rotates the token when it expires soon; the new one is sealed and
 * stored before anything else can fail, since GitLab revoked the old. */
static int
rotate(struct sh_remote *remote, struct sh_db *db, void *arg, struct sh_err *err)
{
	static const char sql[] =
		"UPDATE integrations SET token_sealed = $1, token_last4 = $2, "
		"updated_at = $3 WHERE id = $4";
	const struct sh_gitlab_target t = sh_remote_target(remote);
	struct visit *v = arg;
	struct sh_gitlab_answer a;
	const unsigned char *key;
	unsigned char *sealed = NULL;
	const char *token, *expires;
	char why[300];
	size_t sealed_len;
	long status, days, lifetime;
	cJSON *self, *answer = NULL;
	int rc = 0;

	v->remote = remote;
	v->db = db;
	if (v->remote->base_url == NULL || v->remote->token == NULL)
		return 0;
	self = get(v, "/personal_access_tokens/self", &status, why, sizeof(why));
	expires = cJSON_GetStringValue(cJSON_GetObjectItem(self, "expires_at"));
	if (self == NULL || !days_until(expires, sh_time_now(), &days) ||
	    days >= SH_TOKEN_WARN_DAYS) {
		cJSON_Delete(self);
		return 0;
	}
	/* Without expires_at GitLab gives the new token one week: inside the
	 * warning, so it would be rotated again and again.  Keep the old
	 * token's lifetime, within GitLab's usual year. */
	lifetime = lifetime_days(self);
	cJSON_Delete(self);
	{
		char body[64], date[16];
		time_t until = (time_t)(sh_time_now() + (int64_t)lifetime * 86400);
		struct tm tm;

		gmtime_r(&until, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		snprintf(body, sizeof(body), "{\"expires_at\":\"%s\"}", date);
		if (sh_gitlab_call(v->gl, &t, "POST", "/personal_access_tokens/self/rotate",
				   body, &a, err) < 0)
			return -1;
	}
	if (a.transport == SH_GITLAB_OK && a.status >= 200 && a.status < 300)
		answer = cJSON_ParseWithLength(a.body, a.len);
	token = cJSON_GetStringValue(cJSON_GetObjectItem(answer, "token"));
	if (token == NULL || strlen(token) < 4) {
		add(v, SH_CHECK_FAIL, "token rotation",
		    "rotate the token in GitLab by hand and PATCH it into the "
		    "integration", "GitLab did not rotate the token (answer %ld)",
		    a.status);
	} else if (sh_instance_key(v->inst, &key, err) < 0 ||
		   sh_crypto_seal(key, token, strlen(token), &sealed, &sealed_len, err) < 0 ||
		   sh_db_run(v->db, sql, err, "btii", sealed, sealed_len,
			     token + strlen(token) - 4, sh_time_now(), v->remote->id) < 0) {
		sh_log(LOG_ERR, "doctor: %s: the rotated token could not be stored: %s",
		       v->remote->slug, err->msg);
		rc = -1;
	} else {
		expires = cJSON_GetStringValue(cJSON_GetObjectItem(answer, "expires_at"));
		add(v, SH_CHECK_OK, "token rotation", NULL,
		    "the token was rotated and the new one stored (expires %s)",
		    expires ? expires : "never");
	}
	free(sealed);
	cJSON_Delete(answer);
	sh_crypto_wipe(a.body, a.len);
	sh_gitlab_answer_release(&a);
	return rc;
}

int
sh_doctor_rotate(struct sh_instance *inst, struct sh_gitlab *gl, const char *slug,
		 struct sh_doctor_report *report, struct sh_err *err)
{
	struct visit v = {.inst = inst, .gl = gl, .report = report};

	return sh_remote_each(inst, slug, 0, rotate, &v, err);
}

cJSON *
sh_doctor_json(const struct sh_doctor_report *report)
{
	cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, "checks");

	for (size_t i = 0; i < report->count; i++) {
		const struct sh_check *c = &report->checks[i];
		cJSON *item = cJSON_CreateObject();

		cJSON_AddStringToObject(item, "integration", c->integration);
		cJSON_AddStringToObject(item, "level", sh_check_level_name(c->level));
		cJSON_AddStringToObject(item, "subject", c->subject);
		cJSON_AddStringToObject(item, "message", c->message);
		if (c->fix[0] != '\0')
			cJSON_AddStringToObject(item, "fix", c->fix);
		cJSON_AddItemToArray(list, item);
	}
	cJSON_AddNumberToObject(o, "ok", report->ok);
	cJSON_AddNumberToObject(o, "warn", report->warn);
	cJSON_AddNumberToObject(o, "fail", report->fail);
	return o;
}

void
sh_doctor_release(struct sh_doctor_report *report)
{
	free(report->checks);
	memset(report, 0, sizeof(*report));
}
