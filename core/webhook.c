#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/buf.h"
#include "stackhook/webhook.h"

#define ZERO_SHA "0000000000000000000000000000000000000000"
#define HEADS "refs/heads/"
#define TAGS "refs/tags/"

const char *
sh_run_kind_name(enum sh_run_kind kind)
{
	return kind == SH_RUN_TRACKED ? "tracked" : "proposed";
}

const char *
sh_trigger_name(enum sh_trigger trigger)
{
	static const char *const names[] = {"push", "tag", "merge_request", "manual"};

	return (unsigned)trigger < 4 ? names[trigger] : "manual";
}

static const cJSON *
member(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* A required member of a kind; missing or null → missing_field, other
 * kinds → invalid_field, both naming path. */
static int
need(const cJSON *item, cJSON_bool (*is)(const cJSON *), const char *path,
     const char *what, struct sh_err *err)
{
	if (item == NULL || cJSON_IsNull(item))
		return sh_err_set(err, SH_E_MISSING_FIELD, path, "%s is required", path);
	if (!is(item))
		return sh_err_set(err, SH_E_INVALID_FIELD, path, "%s must be %s", path,
				  what);
	return 0;
}

/* A whole, positive number that fits int64_t. */
static int
need_id(const cJSON *item, const char *path, int64_t *out, struct sh_err *err)
{
	if (need(item, cJSON_IsNumber, path, "a number", err) < 0)
		return -1;
	if (item->valuedouble < 1 || item->valuedouble > 9007199254740991.0 ||
	    item->valuedouble != (double)(int64_t)item->valuedouble)
		return sh_err_set(err, SH_E_INVALID_FIELD, path,
				  "%s must be a positive whole number", path);
	*out = (int64_t)item->valuedouble;
	return 0;
}

static int
need_sha(const cJSON *item, const char *path, char out[SH_SHA_LEN + 1],
	 struct sh_err *err)
{
	if (need(item, cJSON_IsString, path, "a commit id", err) < 0)
		return -1;
	if (!sh_git_sha_valid(item->valuestring))
		return sh_err_set(err, SH_E_INVALID_FIELD, path,
				  "%s must be 40 hexadecimal digits", path);
	for (int i = 0; i <= SH_SHA_LEN; i++)
		out[i] = (char)tolower((unsigned char)item->valuestring[i]);
	return 0;
}

/* An optional sha: absent or null leaves "", anything else must be valid. */
static int
optional_sha(const cJSON *item, const char *path, char out[SH_SHA_LEN + 1],
	     struct sh_err *err)
{
	out[0] = '\0';
	if (item == NULL || cJSON_IsNull(item))
		return 0;
	return need_sha(item, path, out, err);
}

static int
parse_project(const cJSON *body, struct sh_event *ev, struct sh_err *err)
{
	const cJSON *project = member(body, "project"), *path;

	if (need(project, cJSON_IsObject, "project", "an object", err) < 0)
		return -1;
	path = member(project, "path_with_namespace");
	if (need(path, cJSON_IsString, "project.path_with_namespace", "a string",
		 err) < 0)
		return -1;
	if (strlen(path->valuestring) > SH_PROJECT_PATH_MAX ||
	    !sh_git_namespace_valid(path->valuestring) ||
	    strchr(path->valuestring, '/') == NULL)
		return sh_err_set(err, SH_E_INVALID_FIELD, "project.path_with_namespace",
				  "project.path_with_namespace must be a GitLab "
				  "project path such as group/project");
	snprintf(ev->project_path, sizeof(ev->project_path), "%s", path->valuestring);
	if (member(project, "id") != NULL)
		return need_id(member(project, "id"), "project.id", &ev->project_id, err);
	return need_id(member(body, "project_id"), "project_id", &ev->project_id, err);
}

static void __attribute__((format(printf, 2, 3)))
ignore(struct sh_event *ev, const char *fmt, ...)
{
	va_list ap;

	ev->ignored = true;
	va_start(ap, fmt);
	vsnprintf(ev->reason, sizeof(ev->reason), fmt, ap);
	va_end(ap);
}

/* ref must be prefix + a valid name; the name goes to ev->name. */
static int
parse_ref(const cJSON *body, const char *prefix, struct sh_event *ev,
	  struct sh_err *err)
{
	const cJSON *ref = member(body, "ref");
	size_t plen = strlen(prefix);

	if (need(ref, cJSON_IsString, "ref", "a string", err) < 0)
		return -1;
	if (strncmp(ref->valuestring, prefix, plen) != 0 ||
	    !sh_git_ref_name_valid(ref->valuestring + plen))
		return sh_err_set(err, SH_E_INVALID_FIELD, "ref",
				  "ref must be %s followed by a valid name", prefix);
	snprintf(ev->ref, sizeof(ev->ref), "%s", ref->valuestring);
	snprintf(ev->name, sizeof(ev->name), "%s", ref->valuestring + plen);
	return 0;
}

/* The paths the listed commits touch, each ending in a NUL. */
static int
collect_paths(const cJSON *commits, struct sh_event *ev, struct sh_err *err)
{
	static const char *const lists[] = {"added", "modified", "removed"};
	struct sh_buf paths = SH_BUF_INIT;
	const cJSON *commit, *path;

	cJSON_ArrayForEach(commit, commits) {
		for (size_t i = 0; i < 3; i++) {
			cJSON_ArrayForEach(path, member(commit, lists[i])) {
				if (cJSON_IsString(path) &&
				    sh_buf_append(&paths, path->valuestring,
						  strlen(path->valuestring) + 1) < 0) {
					sh_buf_release(&paths);
					return sh_err_set(err, SH_E_INTERNAL, NULL,
							  "out of memory");
				}
			}
		}
	}
	ev->paths_len = paths.len;
	ev->paths = paths.data;
	return 0;
}

static int
parse_push(const cJSON *body, struct sh_event *ev, bool tag, struct sh_err *err)
{
	const cJSON *commits, *total;

	if (need_sha(member(body, "after"), "after", ev->after, err) < 0)
		return -1;
	if (strcmp(ev->after, ZERO_SHA) == 0) {
		const cJSON *ref = member(body, "ref");
		const char *name = cJSON_IsString(ref) ? ref->valuestring : "(unnamed)";
		const char *prefix = tag ? TAGS : HEADS;

		if (strncmp(name, prefix, strlen(prefix)) == 0)
			name += strlen(prefix);
		ignore(ev, "%s %.200s was deleted", tag ? "tag" : "branch", name);
		return 0;
	}
	if (parse_ref(body, tag ? TAGS : HEADS, ev, err) < 0 ||
	    need_sha(member(body, "checkout_sha"), "checkout_sha", ev->checkout_sha,
		     err) < 0 ||
	    optional_sha(member(body, "before"), "before", ev->before, err) < 0 ||
	    parse_project(body, ev, err) < 0)
		return -1;
	commits = member(body, "commits");
	total = member(body, "total_commits_count");
	ev->commits_complete = cJSON_IsArray(commits) && cJSON_IsNumber(total) &&
			       total->valuedouble ==
				       (double)cJSON_GetArraySize(commits);
	/* With commits missing from the list the push may touch anything:
	 * the paths would not decide, so they are not kept; nor for a tag,
	 * which runs a module whatever it changes. */
	return ev->commits_complete && !tag ? collect_paths(commits, ev, err) : 0;
}

/* Draft marked ready: changes.draft (older: work_in_progress) went from
 * true to false. */
static bool
became_ready(const cJSON *changes)
{
	static const char *const names[] = {"draft", "work_in_progress"};

	for (size_t i = 0; i < 2; i++) {
		const cJSON *c = member(changes, names[i]);

		if (cJSON_IsTrue(member(c, "previous")) &&
		    cJSON_IsFalse(member(c, "current")))
			return true;
	}
	return false;
}

static int
parse_merge_request(const cJSON *body, struct sh_event *ev, struct sh_err *err)
{
	const cJSON *attrs = member(body, "object_attributes"), *action, *state;
	const cJSON *last_commit, *source_branch;
	int64_t source = 0, target = 0;

	if (need(attrs, cJSON_IsObject, "object_attributes", "an object", err) < 0)
		return -1;
	action = member(attrs, "action");
	if (need(action, cJSON_IsString, "object_attributes.action", "a string",
		 err) < 0)
		return -1;
	snprintf(ev->action, sizeof(ev->action), "%s", action->valuestring);
	if (strcmp(ev->action, "open") != 0 && strcmp(ev->action, "reopen") != 0 &&
	    strcmp(ev->action, "update") != 0) {
		ignore(ev, "merge request %s: nothing to plan", ev->action);
		return 0;
	}
	if (strcmp(ev->action, "update") == 0 &&
	    (member(attrs, "oldrev") == NULL || cJSON_IsNull(member(attrs, "oldrev"))) &&
	    !became_ready(member(body, "changes"))) {
		ignore(ev, "%s", "merge request update without new commits");
		return 0;
	}
	state = member(attrs, "state");
	if (cJSON_IsString(state) && strcmp(state->valuestring, "opened") != 0) {
		ignore(ev, "merge request is %s", state->valuestring);
		return 0;
	}
	if (need_id(member(attrs, "source_project_id"),
		    "object_attributes.source_project_id", &source, err) < 0 ||
	    need_id(member(attrs, "target_project_id"),
		    "object_attributes.target_project_id", &target, err) < 0)
		return -1;
	if (source != target) {
		ignore(ev, "%s", "merge request from a fork");
		return 0;
	}
	last_commit = member(attrs, "last_commit");
	if (need(last_commit, cJSON_IsObject, "object_attributes.last_commit",
		 "an object", err) < 0 ||
	    need_sha(member(last_commit, "id"), "object_attributes.last_commit.id",
		     ev->last_commit, err) < 0 ||
	    need_id(member(attrs, "iid"), "object_attributes.iid", &ev->mr_iid,
		    err) < 0)
		return -1;
	source_branch = member(attrs, "source_branch");
	if (need(source_branch, cJSON_IsString, "object_attributes.source_branch",
		 "a string", err) < 0)
		return -1;
	if (!sh_git_ref_name_valid(source_branch->valuestring))
		return sh_err_set(err, SH_E_INVALID_FIELD,
				  "object_attributes.source_branch",
				  "object_attributes.source_branch must be a valid "
				  "branch name");
	snprintf(ev->source_branch, sizeof(ev->source_branch), "%s",
		 source_branch->valuestring);
	return parse_project(body, ev, err);
}

int
sh_webhook_parse(const cJSON *body, struct sh_event *ev, struct sh_err *err)
{
	const cJSON *kind = member(body, "object_kind");
	struct sh_err unused;
	int rc;

	memset(ev, 0, sizeof(*ev));
	if (need(kind, cJSON_IsString, "object_kind", "a string", err) < 0)
		return -1;
	snprintf(ev->object_kind, sizeof(ev->object_kind), "%s", kind->valuestring);
	if (strcmp(kind->valuestring, "push") == 0) {
		ev->kind = SH_EVENT_PUSH;
		rc = parse_push(body, ev, false, err);
	} else if (strcmp(kind->valuestring, "tag_push") == 0) {
		ev->kind = SH_EVENT_TAG_PUSH;
		rc = parse_push(body, ev, true, err);
	} else if (strcmp(kind->valuestring, "merge_request") == 0) {
		ev->kind = SH_EVENT_MERGE_REQUEST;
		rc = parse_merge_request(body, ev, err);
	} else {
		ev->kind = SH_EVENT_OTHER;
		ignore(ev, "%.24s events do not trigger runs", ev->object_kind);
		rc = 0;
	}
	/* An ignored event still says which project it came from, when it
	 * can: the deliveries view shows it. */
	if (rc == 0 && ev->ignored && ev->project_path[0] == '\0' &&
	    parse_project(body, ev, &unused) < 0) {
		ev->project_path[0] = '\0';
		ev->project_id = 0;
	}
	return rc;
}

void
sh_webhook_event_release(struct sh_event *ev)
{
	free(ev->paths);
	ev->paths = NULL;
	ev->paths_len = 0;
}

bool
sh_webhook_is_version_tag(const char *tag)
{
	const char *p = tag[0] == 'v' ? tag + 1 : tag;

	for (int part = 0; part < 3; part++) {
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
		if (part < 2 && *p++ != '.')
			return false;
	}
	if (*p == '\0')
		return true;
	if (*p != '-' && *p != '+')
		return false;
	for (p++; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '+')
			return false;
	return p[-1] != '-' && p[-1] != '+';
}

/* true when path lies in directory root ("" = everywhere). */
static bool
under(const char *path, const char *root)
{
	size_t n = strlen(root);

	return n == 0 ||
	       (strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0'));
}

/* Does any listed commit touch a path under root? */
static bool
touches(const struct sh_event *ev, const char *root)
{
	for (size_t at = 0; at < ev->paths_len; at += strlen(ev->paths + at) + 1)
		if (under(ev->paths + at, root))
			return true;
	return false;
}

static void
run(struct sh_decision *out, enum sh_run_kind kind, enum sh_trigger trigger,
    const char *sha, const char *ref)
{
	out->run = true;
	out->kind = kind;
	out->trigger = trigger;
	snprintf(out->sha, sizeof(out->sha), "%s", sha);
	snprintf(out->ref, sizeof(out->ref), "%s", ref);
}

static void __attribute__((format(printf, 2, 3)))
skip(struct sh_decision *out, const char *fmt, ...)
{
	va_list ap;

	out->run = false;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

void
sh_webhook_decide(const struct sh_event *ev, const struct sh_stack_target *stack,
		  struct sh_decision *out)
{
	memset(out, 0, sizeof(*out));
	if (ev->ignored) {
		skip(out, "%s", ev->reason);
		return;
	}
	switch (ev->kind) {
	case SH_EVENT_PUSH:
		if (stack->project_root[0] != '\0' && ev->commits_complete &&
		    !touches(ev, stack->project_root)) {
			skip(out, "%s: the push changes nothing under %s", stack->id,
			     stack->project_root);
			return;
		}
		run(out, strcmp(ev->name, stack->branch) == 0 ? SH_RUN_TRACKED :
								 SH_RUN_PROPOSED,
		    SH_TRIGGER_PUSH, ev->checkout_sha, ev->name);
		return;
	case SH_EVENT_TAG_PUSH:
		if (!stack->is_module) {
			skip(out, "%s: tag pushes run modules, not stacks", stack->id);
			return;
		}
		if (!sh_webhook_is_version_tag(ev->name)) {
			skip(out, "%s: tag %s is not a version (v1.2.3 or 1.2.3)",
			     stack->id, ev->name);
			return;
		}
		/* checkout_sha is the commit; after is the tag object for an
		 * annotated tag. */
		run(out, SH_RUN_TRACKED, SH_TRIGGER_TAG, ev->checkout_sha, ev->name);
		return;
	case SH_EVENT_MERGE_REQUEST:
		run(out, SH_RUN_PROPOSED, SH_TRIGGER_MERGE_REQUEST, ev->last_commit,
		    ev->source_branch);
		out->mr_iid = ev->mr_iid;
		return;
	case SH_EVENT_OTHER:
		break;
	}
	skip(out, "%s events do not trigger runs", ev->object_kind);
}
