/*
 * doctor.h - what can go wrong between an integration and GitLab, checked
 * (SPEC §5.1): the token (active, api scope, expiry), reachability and
 * TLS, the token's user; for each attached stack's project: it exists,
 * the user is at least Maintainer, and exactly one webhook points at the
 * integration's URL with the right events, SSL verification on and not
 * disabled by GitLab.  Each check says ok, warn or fail with the fix.
 */
#ifndef STACKHOOK_DOCTOR_H
#define STACKHOOK_DOCTOR_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "stackhook/gitlab.h"
#include "stackhook/instance.h"
#include "stackhook/slug.h"

#define SH_TOKEN_WARN_DAYS 14

enum sh_check_level { SH_CHECK_OK, SH_CHECK_WARN, SH_CHECK_FAIL };

struct sh_check {
	enum sh_check_level level;
	char integration[SH_SLUG_MAX + 1];
	char subject[300]; /* "token", "project group/app", ... */
	char message[512];
	char fix[300];     /* "" for ok */
};

struct sh_doctor_report {
	struct sh_check *checks;
	size_t count;
	int ok, warn, fail;
};

/* Checks every live integration, or only slug.  Results are stored for
 * the integration's health.  Returns 0 (the checks say what failed), or -1
 * when the checks could not run (database; err set). */
int sh_doctor_run(struct sh_instance *inst, struct sh_gitlab *gl,
		  const char *slug, struct sh_doctor_report *out,
		  struct sh_err *err);

/*
 * Rotates the token of each checked integration whose token expires within
 * SH_TOKEN_WARN_DAYS, through GitLab's self-rotation, and stores the new
 * token sealed at once.  Lines saying what happened go to report as ok or
 * fail checks.  Returns 0, or -1 (database; err set).
 */
int sh_doctor_rotate(struct sh_instance *inst, struct sh_gitlab *gl,
		     const char *slug, struct sh_doctor_report *report,
		     struct sh_err *err);

/* The report as JSON: {"checks":[...],"ok":N,"warn":N,"fail":N}. */
cJSON *sh_doctor_json(const struct sh_doctor_report *report);

void sh_doctor_release(struct sh_doctor_report *report);

/* "level" names: "ok", "warn", "fail". */
const char *sh_check_level_name(enum sh_check_level level);

#endif
