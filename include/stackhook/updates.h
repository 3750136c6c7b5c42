/*
 * updates.h - the GitLab updates a run's state implies (SPEC §5), as spool
 * entries (SPEC §6).  Pure: no I/O.
 *
 * An entry never holds a token: the reporter adds credentials when it
 * sends.  Entries are new cJSON objects the caller deletes.
 */
#ifndef STACKHOOK_UPDATES_H
#define STACKHOOK_UPDATES_H

#include <cjson/cJSON.h>

#include "stackhook/config.h"
#include "stackhook/runs.h"

#define SH_SPOOL_VERSION 1
#define SH_STATUS_DESCRIPTION_MAX 255

/* GitLab's commit status state for a run state (queued → "pending", ...). */
const char *sh_updates_status_state(const char *run_state);

/* "<prefix>/<stack>" for tracked runs, "<prefix>/<stack>/proposed" else. */
void sh_updates_status_name(const struct sh_config *cfg, const struct sh_run *run,
			    char *out, size_t size);

/*
 * text as one percent-encoded URL component (RFC 3986: all but ASCII
 * letters, digits and -._~ as %XX): "group/sub/project" as one path
 * segment, an environment name in a query.  Returns 0, or -1 when out
 * (size bytes) cannot hold it, out then "".  3 * strlen(text) + 1 always do.
 */
int sh_updates_escape(const char *text, char *out, size_t size);

/* The API path of the run's project: "/projects/<id>", or the URL-encoded
 * path when the id is not known yet. */
void sh_updates_project_path(const struct sh_run *run, char *out, size_t size);

/*
 * The commit status entry for the run in its current state: target_url
 * from run_url, a description of at most 255 characters that carries the
 * plan summary once the run has one.  NULL when out of memory.
 */
cJSON *sh_updates_commit_status(const struct sh_config *cfg,
				const struct sh_run *run);

/* What a merge request comment shows besides the run. */
struct sh_note_context {
	const char *stack_name;
	const char *user_facing_url; /* the integration's, for links people open */
	const char *plan;            /* the plan's text, or NULL */
	const char *message;         /* the transition's message, or NULL */
	const int64_t *iids;         /* the merge requests the run knows */
	size_t iid_count;            /* 0: the reporter asks GitLab for them */
};

#define SH_NOTE_MAX 1000000     /* GitLab's limit on a note, in characters */
#define SH_NOTE_PLAN_MAX 900000 /* room left for the rest of the comment */

/* The marker that finds a stack's comment again: a hidden HTML comment. */
void sh_updates_note_marker(const char *stack, char *out, size_t size);

/* The markdown of the comment for a finished or failed proposed run:
 * lines starting with '/' are escaped (no quick actions), the plan is cut
 * to fit GitLab's limit with a line saying so.  A new string to free(). */
char *sh_updates_note_body(const struct sh_config *cfg, const struct sh_run *run,
			   const struct sh_note_context *note);

/* The mr_note entry: one comment per stack and merge request, edited in
 * place by the reporter. */
cJSON *sh_updates_mr_note(const struct sh_config *cfg, const struct sh_run *run,
			  const struct sh_note_context *note);

/* The deployment entry putting the run's deployment in environment into
 * status ("running", "success", "failed", "canceled"). */
cJSON *sh_updates_deployment(const struct sh_run *run, const char *environment,
			     const char *status);

#endif
