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

#endif
