/*
 * webhook.h - a GitLab delivery as an event, and the trigger rules that
 * decide which runs it makes (SPEC §4.1 steps 4 and 7).
 *
 * Pure functions: no I/O, no allocation beyond the event's list of
 * changed paths; easy to test and to fuzz.
 */
#ifndef STACKHOOK_WEBHOOK_H
#define STACKHOOK_WEBHOOK_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "stackhook/err.h"
#include "stackhook/git.h"

#define SH_SHA_LEN 40
#define SH_REASON_MAX 256
#define SH_PROJECT_PATH_MAX 1024

enum sh_event_kind {
	SH_EVENT_OTHER = 0,   /* any object_kind we do not act on */
	SH_EVENT_PUSH,
	SH_EVENT_TAG_PUSH,
	SH_EVENT_MERGE_REQUEST,
};

enum sh_run_kind { SH_RUN_TRACKED, SH_RUN_PROPOSED };
enum sh_trigger { SH_TRIGGER_PUSH, SH_TRIGGER_TAG, SH_TRIGGER_MERGE_REQUEST,
		  SH_TRIGGER_MANUAL };

const char *sh_run_kind_name(enum sh_run_kind kind);
const char *sh_trigger_name(enum sh_trigger trigger);

/* What a delivery says, as far as the rules need it.  Everything is a
 * copy: the event outlives the parsed body, and (but for paths) it is
 * plain data that can be copied as it is -- to another process, say. */
struct sh_event {
	enum sh_event_kind kind;
	char object_kind[32];
	bool ignored;                /* an ignore rule applied while parsing */
	char reason[SH_REASON_MAX];  /* why, when ignored */

	int64_t project_id;
	char project_path[SH_PROJECT_PATH_MAX + 1]; /* path_with_namespace */

	/* push and tag push */
	char ref[SH_GIT_REF_MAX + 12];  /* "refs/heads/x" */
	char name[SH_GIT_REF_MAX + 1];  /* branch or tag name */
	char before[SH_SHA_LEN + 1];    /* "" when absent */
	char after[SH_SHA_LEN + 1];
	char checkout_sha[SH_SHA_LEN + 1];
	bool commits_complete;         /* every pushed commit is listed */
	/* When commits_complete: each path the listed commits add, modify
	 * or remove, followed by a NUL, paths_len bytes in all (NULL when
	 * none).  Owned by the event: sh_webhook_event_release(). */
	char *paths;
	size_t paths_len;

	/* merge request */
	int64_t mr_iid;
	char action[32];
	char last_commit[SH_SHA_LEN + 1];
	char source_branch[SH_GIT_REF_MAX + 1];
};

/*
 * Reads body into ev.  The ignore rules that need no stack (kinds we do not
 * act on, deleted branches and tags, merge request actions without new
 * code, forks) set ev->ignored and a reason, and come before field checks.
 * Returns 0, or -1 with err (SH_E_MISSING_FIELD / SH_E_INVALID_FIELD naming
 * the JSON path) when a field that decides the event is missing or wrong,
 * SH_E_INTERNAL when memory runs out.  Either way, release ev after.
 */
int sh_webhook_parse(const cJSON *body, struct sh_event *ev, struct sh_err *err);

/* Frees what ev holds (its paths).  A zeroed event is fine. */
void sh_webhook_event_release(struct sh_event *ev);

/* The parts of a stack the rules look at. */
struct sh_stack_target {
	const char *id;
	bool is_module;
	const char *branch;
	const char *project_root; /* "" for the whole repository */
};

struct sh_decision {
	bool run;                     /* false: ignored, see reason */
	enum sh_run_kind kind;
	enum sh_trigger trigger;
	char sha[SH_SHA_LEN + 1];
	char ref[SH_GIT_REF_MAX + 1]; /* branch or tag name */
	int64_t mr_iid;               /* 0 = none */
	char reason[SH_REASON_MAX];
};

/* Applies the trigger rules of SPEC §4.1 step 7 to one stack. */
void sh_webhook_decide(const struct sh_event *ev,
		       const struct sh_stack_target *stack,
		       struct sh_decision *out);

/* true for "1.2.3" and "v1.2.3" (with an optional -pre or +build part). */
bool sh_webhook_is_version_tag(const char *tag);

#endif
