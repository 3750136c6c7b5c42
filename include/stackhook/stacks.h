/*
 * stacks.h - stacks and modules: the GitLab project and branch they follow
 * and the integration they receive webhooks through (SPEC §3).
 *
 * Reads need the read role in the stack's space, writes the write role
 * (SH_E_NOT_FOUND when the actor cannot read the space, SH_E_FORBIDDEN
 * otherwise).  Attaching an integration the actor cannot list is
 * SH_E_NOT_FOUND, one the space cannot use SH_E_INTEGRATION_NOT_USABLE.
 * Objects come back as new cJSON values the caller deletes.
 */
#ifndef STACKHOOK_STACKS_H
#define STACKHOOK_STACKS_H

#include <cjson/cJSON.h>

#include "stackhook/authz.h"
#include "stackhook/db.h"
#include "stackhook/json.h"

struct sh_stack_filter {
	const char *space;       /* only this space, or NULL */
	const char *integration; /* only attached to this slug, or NULL */
	bool detached;           /* only detached stacks (integration=null) */
};

/* status_prefix names the default environment (<prefix>/<stack id>). */
int sh_stacks_list(struct sh_db *db, const char *status_prefix,
		   const struct sh_actor *actor,
		   const struct sh_stack_filter *filter,
		   const struct sh_page *page, cJSON **out, struct sh_err *err);

int sh_stacks_get(struct sh_db *db, const char *status_prefix,
		  const struct sh_actor *actor, const char *id, cJSON **out,
		  struct sh_err *err);

/* body: name, namespace, repository, branch required; id, kind, space
 * (root), integration, project_root, environment, labels, description. */
int sh_stacks_create(struct sh_db *db, const char *status_prefix,
		     const struct sh_actor *actor, const cJSON *body,
		     cJSON **out, struct sh_err *err);

/* A merge patch of anything but the id. */
int sh_stacks_patch(struct sh_db *db, const char *status_prefix,
		    const struct sh_actor *actor, const char *id,
		    const cJSON *body, cJSON **out, struct sh_err *err);

int sh_stacks_delete(struct sh_db *db, const struct sh_actor *actor,
		     const char *id, struct sh_err *err);

#endif
