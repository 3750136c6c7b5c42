#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "stackhook/hooks.h"
#include "stackhook/ingest.h"
#include "stackhook/log.h"
#include "stackhook/metrics.h"
#include "stackhook/remote.h"
#include "stackhook/timeutil.h"
#include "stackhook/updates.h"

#define PATH_CAP 2400

struct sync {
	struct sh_gitlab *gl;
	const struct sh_hooks_options *opt;
	struct sh_hooks_stats *stats;
	struct sh_remote *remote;
	struct sh_db *db;
};

/* One call; returns the parsed answer of a 2xx (or "{}" when empty), else
 * NULL with *status (0: transport failure). */
static cJSON *
call(struct sync *s, const char *method, const char *path, const cJSON *body,
     long *status)
{
	const struct sh_gitlab_target t = sh_remote_target(s->remote);
	struct sh_gitlab_answer a;
	char *json = body ? cJSON_PrintUnformatted(body) : NULL;
	struct sh_err err;
	cJSON *parsed = NULL;

	*status = 0;
	if (sh_gitlab_call(s->gl, &t, method, path, json, &a, &err) == 0) {
		if (a.transport == SH_GITLAB_OK)
			*status = a.status;
		if (a.status >= 200 && a.status < 300)
			parsed = a.len ? cJSON_ParseWithLength(a.body, a.len) :
					 cJSON_CreateObject();
		sh_gitlab_answer_release(&a);
	}
	if (json != NULL) {
		/* The body holds the webhook secret. */
		memset(json, 0, strlen(json));
		free(json);
	}
	return parsed;
}

/* What our hook must look like. */
static cJSON *
hook_body(const struct sh_remote *r)
{
	cJSON *b = cJSON_CreateObject();

	cJSON_AddStringToObject(b, "url", r->webhook_url);
	cJSON_AddStringToObject(b, "token", r->webhook_secret ? r->webhook_secret : "");
	cJSON_AddBoolToObject(b, "push_events", true);
	cJSON_AddBoolToObject(b, "tag_push_events", true);
	cJSON_AddBoolToObject(b, "merge_requests_events", true);
	cJSON_AddBoolToObject(b, "note_events", false);
	cJSON_AddBoolToObject(b, "pipeline_events", false);
	cJSON_AddBoolToObject(b, "enable_ssl_verification",
			      strncmp(r->webhook_url, "https://", 8) == 0);
	if (r->signing_token != NULL)
		cJSON_AddStringToObject(b, "signing_token", r->signing_token);
	return b;
}

void
sh_hooks_remember(struct sh_db *db, int64_t integration_id, int64_t project_id,
		  int64_t hook_id)
{
	static const char sql[] =
		"INSERT INTO gitlab_hooks (integration_id, project_id, hook_id, "
		"updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (integration_id, "
		"project_id) DO UPDATE SET hook_id = excluded.hook_id, "
		"updated_at = excluded.updated_at";

	sh_db_run(db, sql, NULL, "iiii", integration_id, project_id, hook_id,
		  sh_time_now());
}

static void
say(struct sync *s, const char *project, const char *what)
{
	fprintf(s->opt->out, "%s %s: %s\n", s->remote->slug, project, what);
}

static void
sync_project(struct sync *s, const char *project_path)
{
	char path[PATH_CAP], line[512];
	const cJSON *hook;
	cJSON *project, *hooks, *body, *answer = NULL;
	int64_t project_id, keep = 0;
	long status;
	size_t n = 0;

	n = (size_t)snprintf(path, sizeof(path), "/projects/");
	sh_updates_escape(project_path, path + n, sizeof(path) - n);
	project = call(s, "GET", path, NULL, &status);
	if (project == NULL) {
		snprintf(line, sizeof(line), "failed: GitLab does not show the project "
			 "(answer %ld)", status);
		say(s, project_path, line);
		s->stats->failed++;
		return;
	}
	project_id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(project, "id"));
	cJSON_Delete(project);
	snprintf(path, sizeof(path), "/projects/%lld/hooks?per_page=100",
		 (long long)project_id);
	hooks = call(s, "GET", path, NULL, &status);
	if (hooks == NULL) {
		snprintf(line, sizeof(line), "failed: cannot list webhooks (answer %ld; "
			 "Maintainer is needed)", status);
		say(s, project_path, line);
		s->stats->failed++;
		return;
	}
	body = hook_body(s->remote);
	cJSON_ArrayForEach(hook, hooks) {
		const char *url = cJSON_GetStringValue(cJSON_GetObjectItem(hook, "url"));
		int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(hook, "id"));

		if (url == NULL || strcmp(url, s->remote->webhook_url) != 0)
			continue;
		if (keep == 0) {
			keep = id;
			continue;
		}
		if (!s->opt->prune) {
			say(s, project_path, "another webhook points at the same URL "
					     "(--prune removes it)");
			continue;
		}
		snprintf(path, sizeof(path), "/projects/%lld/hooks/%lld",
			 (long long)project_id, (long long)id);
		if (s->opt->dry_run || (answer = call(s, "DELETE", path, NULL, &status)) != NULL) {
			if (!s->opt->dry_run)
				cJSON_Delete(answer);
			snprintf(line, sizeof(line), "%s extra webhook %lld",
				 s->opt->dry_run ? "would remove" : "removed", (long long)id);
			s->stats->pruned++;
		} else {
			snprintf(line, sizeof(line), "failed to remove webhook %lld (answer %ld)",
				 (long long)id, status);
			s->stats->failed++;
		}
		say(s, project_path, line);
	}
	if (keep != 0)
		snprintf(path, sizeof(path), "/projects/%lld/hooks/%lld",
			 (long long)project_id, (long long)keep);
	else
		snprintf(path, sizeof(path), "/projects/%lld/hooks", (long long)project_id);
	if (s->opt->dry_run) {
		say(s, project_path, keep ? "would update the webhook" :
					    "would create the webhook");
	} else if ((answer = call(s, keep ? "PUT" : "POST", path, body, &status)) != NULL) {
		keep = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(answer, "id"));
		cJSON_Delete(answer);
		sh_hooks_remember(s->db, s->remote->id, project_id, keep);
		if (status == 201)
			s->stats->created++;
		else
			s->stats->updated++;
		snprintf(line, sizeof(line), "%s webhook %lld (push, tag push, merge "
			 "request events)", status == 201 ? "created" : "updated",
			 (long long)keep);
		say(s, project_path, line);
	} else {
		snprintf(line, sizeof(line), "failed: GitLab refused the webhook (answer %ld)",
			 status);
		say(s, project_path, line);
		s->stats->failed++;
	}
	cJSON_Delete(body);
	cJSON_Delete(hooks);
}

static int
sync_integration(struct sh_remote *remote, struct sh_db *db, void *arg,
		 struct sh_err *err)
{
	static const char sql[] =
		"SELECT DISTINCT namespace || '/' || repository FROM stacks "
		"WHERE integration_id = $1 AND (CAST($2 AS TEXT) IS NULL OR id = $2) ORDER BY 1";
	struct sync *s = arg;
	char **paths = NULL;
	struct sh_stmt *st;
	size_t n = 0;
	int rc;

	s->remote = remote;
	s->db = db;
	if (remote->base_url == NULL || remote->token == NULL) {
		fprintf(s->opt->out, "%s: skipped: %s\n", remote->slug, remote->waiting);
		s->stats->failed++;
		return 0;
	}
	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_int(st, 1, remote->id);
	sh_stmt_bind_text(st, 2, s->opt->stack);
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
			sync_project(s, paths[i]);
		free(paths[i]);
	}
	free(paths);
	return rc < 0 ? -1 : 0;
}

int
sh_hooks_sync(struct sh_instance *inst, struct sh_gitlab *gl,
	      const struct sh_hooks_options *opt, struct sh_hooks_stats *stats,
	      struct sh_err *err)
{
	struct sync s = {.gl = gl, .opt = opt, .stats = stats};

	memset(stats, 0, sizeof(*stats));
	return sh_remote_each(inst, opt->integration, SH_REMOTE_HOOK_SECRETS,
			      sync_integration, &s, err);
}

/* ---------------------------------------------------------- resends ---- */

struct resend {
	struct sh_gitlab *gl;
	int resent;
};

/* "2026-11-26T10:00:00.000Z" as Unix seconds, 0 when unreadable. */
static int64_t
parse_time(const char *text)
{
	struct tm tm = {0};

	if (text == NULL || strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return 0;
	return (int64_t)timegm(&tm);
}

/* Which delivery an event is: its Idempotency-Key (the same across
 * resends), else the event's id. */
static void
event_key(const cJSON *event, char *out, size_t size)
{
	const cJSON *headers = cJSON_GetObjectItem(event, "request_headers"), *h;

	cJSON_ArrayForEach(h, headers) {
		if (h->string != NULL && strcasecmp(h->string, "Idempotency-Key") == 0 &&
		    cJSON_IsString(h) && strlen(h->valuestring) < size - 5) {
			snprintf(out, size, "key:%s", h->valuestring);
			return;
		}
	}
	snprintf(out, size, "id:%.0f", cJSON_GetNumberValue(cJSON_GetObjectItem(event, "id")));
}

/* Asks GitLab to resend one failed event, once per delivery.  Returns 1
 * when it was resent, 0 when not (seen, too old), -1 to stop. */
static int
resend_event(struct resend *r, struct sh_remote *remote, struct sh_db *db,
	     int64_t project_id, int64_t hook_id, const cJSON *event, int64_t now)
{
	static const char sql_seen[] =
		"SELECT 1 FROM resent_events WHERE integration_id = $1 AND hook_id = $2 "
		"AND event_key = $3";
	static const char sql_note[] =
		"INSERT INTO resent_events (integration_id, hook_id, event_key, at) "
		"VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
	const struct sh_gitlab_target t = sh_remote_target(remote);
	int64_t id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(event, "id"));
	int64_t at = parse_time(cJSON_GetStringValue(cJSON_GetObjectItem(event, "created_at")));
	char path[PATH_CAP], key[SH_DELIVERY_KEY_MAX + 16], counter[48];
	struct sh_gitlab_answer a;
	struct sh_stmt *st;
	struct sh_err err;
	int done;

	if (id <= 0 || at < now - SH_RESEND_WINDOW)
		return 0;
	event_key(event, key, sizeof(key));
	if (sh_db_query(db, sql_seen, &st, NULL, "iit", remote->id, hook_id, key) != 0) {
		sh_stmt_release(st);
		return 0;
	}
	snprintf(path, sizeof(path), "/projects/%lld/hooks/%lld/events/%lld/resend",
		 (long long)project_id, (long long)hook_id, (long long)id);
	if (sh_gitlab_call(r->gl, &t, "POST", path, NULL, &a, &err) < 0)
		return -1;
	done = a.transport == SH_GITLAB_OK && a.status >= 200 && a.status < 300;
	sh_gitlab_answer_release(&a);
	if (!done)
		return 0;
	snprintf(counter, sizeof(counter), "webhook_resends:%lld", (long long)remote->id);
	sh_db_run(db, sql_note, NULL, "iiti", remote->id, hook_id, key, now);
	sh_metrics_add(db, "webhook_resends", 1, NULL);
	sh_metrics_add(db, counter, 1, NULL);
	return 1;
}

static void
resend_hook(struct resend *r, struct sh_remote *remote, struct sh_db *db,
	    int64_t project_id, int64_t hook_id, int64_t now)
{
	static const char *const statuses[] = {"server_failure", "client_failure"};
	const struct sh_gitlab_target t = sh_remote_target(remote);
	int sent = 0, rc = 0;

	for (size_t k = 0; k < 2 && sent < SH_RESEND_MAX && rc >= 0; k++) {
		char path[PATH_CAP];
		struct sh_gitlab_answer a;
		struct sh_err err;
		const cJSON *event;
		cJSON *events;

		/* GitLab lists hook events 20 at a time at most. */
		snprintf(path, sizeof(path),
			 "/projects/%lld/hooks/%lld/events?status=%s&per_page=20",
			 (long long)project_id, (long long)hook_id, statuses[k]);
		if (sh_gitlab_call(r->gl, &t, "GET", path, NULL, &a, &err) < 0)
			return;
		events = a.transport == SH_GITLAB_OK && a.status == 200 ?
				 cJSON_ParseWithLength(a.body, a.len) :
				 NULL;
		sh_gitlab_answer_release(&a);
		cJSON_ArrayForEach(event, events) {
			if (sent >= SH_RESEND_MAX)
				break;
			rc = resend_event(r, remote, db, project_id, hook_id, event, now);
			if (rc < 0)
				break;
			sent += rc;
		}
		cJSON_Delete(events);
	}
	r->resent += sent;
}

static int
resend_integration(struct sh_remote *remote, struct sh_db *db, void *arg,
		   struct sh_err *err)
{
	static const char sql[] =
		"SELECT project_id, hook_id FROM gitlab_hooks WHERE integration_id = $1";
	struct resend *r = arg;
	int64_t (*hooks)[2] = NULL;
	struct sh_stmt *st;
	size_t n = 0;
	int rc;

	if (remote->base_url == NULL || remote->token == NULL)
		return 0;
	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_int(st, 1, remote->id);
	while ((rc = sh_stmt_step(st, err)) == 1) {
		int64_t (*grown)[2] = realloc(hooks, (n + 1) * sizeof(*hooks));

		if (grown == NULL) {
			rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			break;
		}
		hooks = grown;
		hooks[n][0] = sh_stmt_int(st, 0);
		hooks[n][1] = sh_stmt_int(st, 1);
		n++;
	}
	sh_stmt_release(st);
	for (size_t i = 0; rc == 0 && i < n; i++)
		resend_hook(r, remote, db, hooks[i][0], hooks[i][1], sh_time_now());
	free(hooks);
	return rc < 0 ? -1 : 0;
}

int
sh_hooks_resend_failed(struct sh_instance *inst, struct sh_gitlab *gl, int *resent,
		       struct sh_err *err)
{
	struct resend r = {.gl = gl};
	int rc = sh_remote_each(inst, NULL, 0, resend_integration, &r, err);

	*resent = r.resent;
	return rc;
}
