/*
 * remote.h - how to reach an integration's GitLab: the API base (an agent
 * pool's URL for private://NAME), the opened API token, the CA file; and,
 * for the commands that set up webhooks, the webhook URL and secrets.
 *
 * Secrets are wiped by sh_remote_release().  Nothing here is logged.
 */
#ifndef STACKHOOK_REMOTE_H
#define STACKHOOK_REMOTE_H

#include <stdbool.h>
#include <stdint.h>

#include "stackhook/db.h"
#include "stackhook/gitlab.h"
#include "stackhook/instance.h"
#include "stackhook/slug.h"

struct sh_remote {
	int64_t id;
	char slug[SH_SLUG_MAX + 1];
	bool usable;          /* exists and is not deleted */
	char *base_url;       /* NULL when it cannot be reached: see waiting */
	char *token;          /* NULL when none is set or it cannot be opened */
	char *ca_file;
	char waiting[256];    /* why base_url or token is missing, or "" */
	bool waiting_for_token;
	/* Filled only with SH_REMOTE_HOOK_SECRETS: */
	char *webhook_url;
	char *webhook_secret;
	char *signing_token;  /* "whsec_..." or NULL */
};

enum {
	SH_REMOTE_HOOK_SECRETS = 1 << 0,
};

/* Loads integration id (live or not: check usable).  Returns 0, or -1 on
 * a database failure (err set); a missing token or pool is not an error
 * but a reason in waiting. */
int sh_remote_load(struct sh_db *db, struct sh_instance *inst, int64_t id,
		   unsigned flags, struct sh_remote *out, struct sh_err *err);

/* The target sh_gitlab_call() needs (valid while r lives). */
struct sh_gitlab_target sh_remote_target(const struct sh_remote *r);

/*
 * Calls fn for each live integration (only slug when not NULL) with its
 * remote loaded with flags; stops at the first -1.  SH_E_NOT_FOUND when
 * slug names none.  Returns 0 or -1 (err set).
 */
int sh_remote_each(struct sh_instance *inst, const char *slug, unsigned flags,
		   int (*fn)(struct sh_remote *r, struct sh_db *db, void *arg,
			     struct sh_err *err),
		   void *arg, struct sh_err *err);

/* Frees r's strings, wiping the secrets. */
void sh_remote_release(struct sh_remote *r);

#endif
