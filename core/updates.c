#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/buf.h"
#include "stackhook/crypto.h"
#include "stackhook/timeutil.h"
#include "stackhook/updates.h"

static const struct {
	const char *run;
	const char *gitlab;
	const char *description;
} states[] = {
	{"queued", "pending", "Queued"},
	{"preparing", "running", "Preparing"},
	{"planning", "running", "Planning"},
	{"unconfirmed", "running", "Waiting for confirmation"},
	{"confirmed", "running", "Confirmed"},
	{"applying", "running", "Applying"},
	{"finished", "success", "Finished"},
	{"failed", "failed", "Failed"},
	{"canceled", "canceled", "Canceled"},
	{"discarded", "canceled", "Discarded"},
};

static int
state_index(const char *run_state)
{
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(states[i].run, run_state) == 0)
			return (int)i;
	return 0;
}

const char *
sh_updates_status_state(const char *run_state)
{
	return states[state_index(run_state)].gitlab;
}

void
sh_updates_status_name(const struct sh_config *cfg, const struct sh_run *run,
		       char *out, size_t size)
{
	snprintf(out, size, "%s/%s%s", cfg->status_prefix, run->stack,
		 run->kind == SH_RUN_PROPOSED ? "/proposed" : "");
}

int
sh_updates_escape(const char *text, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL;

		if (n + (plain ? 1 : 3) >= size) {
			if (size > 0)
				out[0] = '\0';
			return -1;
		}
		if (plain) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	if (size == 0)
		return -1;
	out[n] = '\0';
	return 0;
}

void
sh_updates_project_path(const struct sh_run *run, char *out, size_t size)
{
	int n;

	if (run->project_id > 0) {
		snprintf(out, size, "/projects/%lld", (long long)run->project_id);
		return;
	}
	/* GitLab wants "group/sub/project" as one segment.  The callers' buffers
	 * hold 3 bytes per byte of SH_PROJECT_PATH_MAX. */
	n = snprintf(out, size, "/projects/");
	if (n > 0 && (size_t)n < size)
		sh_updates_escape(run->project_path, out + n, size - (size_t)n);
}

/* run_url with {public_url} and {run} filled in. */
static char *
target_url(const struct sh_config *cfg, const char *run_id)
{
	struct sh_buf url = SH_BUF_INIT;

	for (const char *p = cfg->run_url; *p;) {
		if (strncmp(p, "{public_url}", 12) == 0) {
			sh_buf_puts(&url, cfg->public_url);
			p += 12;
		} else if (strncmp(p, "{run}", 5) == 0) {
			sh_buf_puts(&url, run_id);
			p += 5;
		} else {
			sh_buf_append(&url, p++, 1);
		}
	}
	return sh_buf_detach(&url);
}

/* An entry's common part; the caller adds kind, key and request. */
static cJSON *
new_entry(const struct sh_run *run, const char *kind, const char *key)
{
	char id[33];
	unsigned char raw[16];
	cJSON *e = cJSON_CreateObject(), *project;

	if (sh_crypto_random(raw, sizeof(raw), NULL) < 0)
		memset(raw, 0, sizeof(raw));
	for (int i = 0; i < 16; i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	cJSON_AddNumberToObject(e, "version", SH_SPOOL_VERSION);
	cJSON_AddStringToObject(e, "id", id);
	cJSON_AddNumberToObject(e, "created", (double)sh_time_now());
	cJSON_AddNumberToObject(e, "integration", (double)run->integration_id);
	project = cJSON_AddObjectToObject(e, "project");
	if (run->project_id > 0)
		cJSON_AddNumberToObject(project, "id", (double)run->project_id);
	else
		cJSON_AddNullToObject(project, "id");
	cJSON_AddStringToObject(project, "path", run->project_path);
	cJSON_AddStringToObject(e, "kind", kind);
	cJSON_AddStringToObject(e, "key", key);
	cJSON_AddStringToObject(e, "run", run->id);
	cJSON_AddStringToObject(e, "stack", run->stack);
	cJSON_AddNumberToObject(e, "attempts", 0);
	cJSON_AddNumberToObject(e, "next_attempt", 0);
	cJSON_AddNullToObject(e, "last_error");
	return e;
}

cJSON *
sh_updates_commit_status(const struct sh_config *cfg, const struct sh_run *run)
{
	char name[256], project[SH_PROJECT_PATH_MAX * 3 + 16], path[sizeof(project) + 64];
	char key[sizeof(name) + sizeof(project) + SH_GIT_REF_MAX + 96];
	char description[SH_STATUS_DESCRIPTION_MAX + 1];
	cJSON *entry, *request, *body;
	char *url;

	sh_updates_status_name(cfg, run, name, sizeof(name));
	sh_updates_project_path(run, project, sizeof(project));
	snprintf(path, sizeof(path), "%s/statuses/%s", project, run->sha);
	snprintf(key, sizeof(key), "status:%lld:%s:%s:%s:%s",
		 (long long)run->integration_id, project, run->sha, run->ref, name);
	if (run->has_summary)
		snprintf(description, sizeof(description),
			 "Plan: %lld to add, %lld to change, %lld to destroy",
			 (long long)run->add, (long long)run->change,
			 (long long)run->destroy);
	else
		snprintf(description, sizeof(description), "%s",
			 states[state_index(run->state)].description);
	url = target_url(cfg, run->id);
	entry = new_entry(run, "commit_status", key);
	if (url == NULL || entry == NULL) {
		free(url);
		cJSON_Delete(entry);
		return NULL;
	}
	request = cJSON_AddObjectToObject(entry, "request");
	cJSON_AddStringToObject(request, "method", "POST");
	cJSON_AddStringToObject(request, "path", path);
	body = cJSON_AddObjectToObject(request, "body");
	cJSON_AddStringToObject(body, "state", sh_updates_status_state(run->state));
	cJSON_AddStringToObject(body, "ref", run->ref);
	cJSON_AddStringToObject(body, "name", name);
	cJSON_AddStringToObject(body, "target_url", url);
	cJSON_AddStringToObject(body, "description", description);
	free(url);
	return entry;
}

void
sh_updates_note_marker(const char *stack, char *out, size_t size)
{
	snprintf(out, size, "<!-- stackhook:stack=%s -->", stack);
}

/* Appends text so that no line starts with '/': GitLab would run such a
 * line as a quick action (/close, /merge, ...). */
static void
append_escaped(struct sh_buf *b, const char *text, size_t len)
{
	bool line_start = true;

	for (size_t i = 0; i < len; i++) {
		if (line_start && text[i] == '/')
			sh_buf_puts(b, " ");
		sh_buf_append(b, &text[i], 1);
		line_start = text[i] == '\n';
	}
}

/* The longest run of backticks in text: a code fence must be longer. */
static size_t
longest_backticks(const char *text, size_t len)
{
	size_t best = 0, run = 0;

	for (size_t i = 0; i < len; i++) {
		run = text[i] == '`' ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

/* Cuts at most max bytes of text without splitting a UTF-8 character. */
static size_t
utf8_cut(const char *text, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)text[max] & 0xc0) == 0x80)
		max--;
	return max;
}

static const char *
result_word(const char *state)
{
	if (strcmp(state, "finished") == 0)
		return "planned";
	if (strcmp(state, "failed") == 0)
		return "failed";
	return state;
}

char *
sh_updates_note_body(const struct sh_config *cfg, const struct sh_run *run,
		     const struct sh_note_context *note)
{
	struct sh_buf b = SH_BUF_INIT;
	char marker[SH_SLUG_MAX + 40];
	char *url = target_url(cfg, run->id);
	size_t plan_len, cut, fence;

	sh_updates_note_marker(run->stack, marker, sizeof(marker));
	sh_buf_printf(&b, "%s\n", marker);
	sh_buf_printf(&b, "#### %s stackhook: ",
		      strcmp(run->state, "finished") == 0 ? ":white_check_mark:" : ":x:");
	append_escaped(&b, note->stack_name, strlen(note->stack_name));
	sh_buf_printf(&b, " %s", result_word(run->state));
	if (run->has_summary)
		sh_buf_printf(&b, ": %lld to add, %lld to change, %lld to destroy",
			      (long long)run->add, (long long)run->change,
			      (long long)run->destroy);
	sh_buf_puts(&b, "\n\n| | |\n|---|---|\n");
	sh_buf_printf(&b, "| Stack | `%s` |\n", run->stack);
	sh_buf_printf(&b, "| Commit | [`%.8s`](%s/%s/-/commit/%s) |\n", run->sha,
		      note->user_facing_url, run->project_path, run->sha);
	sh_buf_printf(&b, "| Result | %s |\n", run->state);
	if (run->has_summary)
		sh_buf_printf(&b, "| Plan | Plan: %lld to add, %lld to change, %lld "
			      "to destroy |\n", (long long)run->add,
			      (long long)run->change, (long long)run->destroy);
	if (note->message != NULL && note->message[0] != '\0') {
		sh_buf_puts(&b, "\n");
		append_escaped(&b, note->message, strlen(note->message));
		sh_buf_puts(&b, "\n");
	}
	if (note->plan != NULL && note->plan[0] != '\0') {
		plan_len = strlen(note->plan);
		cut = utf8_cut(note->plan, plan_len, SH_NOTE_PLAN_MAX);
		fence = longest_backticks(note->plan, cut) + 1;
		if (fence < 3)
			fence = 3;
		sh_buf_puts(&b, "\n<details><summary>Plan output</summary>\n\n");
		for (size_t i = 0; i < fence; i++)
			sh_buf_puts(&b, "`");
		sh_buf_puts(&b, "\n");
		append_escaped(&b, note->plan, cut);
		if (cut > 0 && note->plan[cut - 1] != '\n')
			sh_buf_puts(&b, "\n");
		for (size_t i = 0; i < fence; i++)
			sh_buf_puts(&b, "`");
		sh_buf_puts(&b, "\n");
		if (cut < plan_len)
			sh_buf_printf(&b, "\nThe plan was cut to fit GitLab's comment "
				      "limit; the whole plan is on the [run page](%s).\n",
				      url ? url : "");
		sh_buf_puts(&b, "</details>\n");
	}
	sh_buf_printf(&b, "\n[Run `%s`](%s)\n", run->id, url ? url : "");
	free(url);
	return sh_buf_detach(&b);
}

cJSON *
sh_updates_mr_note(const struct sh_config *cfg, const struct sh_run *run,
		   const struct sh_note_context *note)
{
	char project[SH_PROJECT_PATH_MAX * 3 + 16], marker[SH_SLUG_MAX + 40];
	char key[sizeof(project) + SH_SLUG_MAX + SH_SHA_LEN + 64];
	cJSON *entry, *iids, *request, *body;
	char *text;

	sh_updates_project_path(run, project, sizeof(project));
	sh_updates_note_marker(run->stack, marker, sizeof(marker));
	snprintf(key, sizeof(key), "note:%lld:%s:%s:%s",
		 (long long)run->integration_id, project, run->stack, run->sha);
	text = sh_updates_note_body(cfg, run, note);
	entry = new_entry(run, "mr_note", key);
	if (text == NULL || entry == NULL) {
		free(text);
		cJSON_Delete(entry);
		return NULL;
	}
	cJSON_AddStringToObject(entry, "sha", run->sha);
	cJSON_AddStringToObject(entry, "marker", marker);
	iids = cJSON_AddArrayToObject(entry, "merge_requests");
	for (size_t i = 0; i < note->iid_count; i++)
		cJSON_AddItemToArray(iids, cJSON_CreateNumber((double)note->iids[i]));
	request = cJSON_AddObjectToObject(entry, "request");
	cJSON_AddStringToObject(request, "method", "POST");
	cJSON_AddStringToObject(request, "path", project);
	body = cJSON_AddObjectToObject(request, "body");
	cJSON_AddStringToObject(body, "body", text);
	free(text);
	return entry;
}

cJSON *
sh_updates_deployment(const struct sh_run *run, const char *environment,
		      const char *status)
{
	char project[SH_PROJECT_PATH_MAX * 3 + 16], path[sizeof(project) + 16];
	char key[SH_RUN_ID_LEN + 16];
	cJSON *entry, *request, *body;

	sh_updates_project_path(run, project, sizeof(project));
	snprintf(path, sizeof(path), "%s/deployments", project);
	snprintf(key, sizeof(key), "deployment:%s", run->id);
	entry = new_entry(run, "deployment", key);
	if (entry == NULL)
		return NULL;
	request = cJSON_AddObjectToObject(entry, "request");
	cJSON_AddStringToObject(request, "method", "POST");
	cJSON_AddStringToObject(request, "path", path);
	body = cJSON_AddObjectToObject(request, "body");
	cJSON_AddStringToObject(body, "environment", environment);
	cJSON_AddStringToObject(body, "sha", run->sha);
	cJSON_AddStringToObject(body, "ref", run->ref);
	cJSON_AddBoolToObject(body, "tag", run->trigger == SH_TRIGGER_TAG);
	cJSON_AddStringToObject(body, "status", status);
	return entry;
}
