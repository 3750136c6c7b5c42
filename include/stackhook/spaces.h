/*
 * spaces.h - the tree of spaces and its members (SPEC §3, §4.2).
 *
 * Every function checks the actor's rights itself and answers with the
 * error a user should see: a space the actor cannot read is SH_E_NOT_FOUND,
 * one it can read but not change is SH_E_FORBIDDEN.  Writing functions run
 * their own transaction and record the change in the audit log.
 * Objects come back as new cJSON values the caller deletes.
 */
#ifndef STACKHOOK_SPACES_H
#define STACKHOOK_SPACES_H

#include <cjson/cJSON.h>

#include "stackhook/authz.h"
#include "stackhook/db.h"
#include "stackhook/err.h"
#include "stackhook/json.h"

/* The spaces the actor can read, newest first. */
int sh_spaces_list(struct sh_db *db, const struct sh_actor *actor,
		   const struct sh_page *page, cJSON **out, struct sh_err *err);

int sh_spaces_get(struct sh_db *db, const struct sh_actor *actor,
		  const char *id, cJSON **out, struct sh_err *err);

/* body: {"name", "id"?, "parent"? (root), "inherit"? (true),
 * "description"?}; needs admin of the parent. */
int sh_spaces_create(struct sh_db *db, const struct sh_actor *actor,
		     const cJSON *body, cJSON **out, struct sh_err *err);

/* A merge patch of name, parent, inherit, description; needs admin of the
 * parent (and of a new parent).  Refuses a change that leaves an attached
 * stack unable to use its integration (SH_E_CONFLICT naming the stacks). */
int sh_spaces_patch(struct sh_db *db, const struct sh_actor *actor,
		    const char *id, const cJSON *body, cJSON **out,
		    struct sh_err *err);

/* Deletes an empty space (no child spaces, stacks or integrations, else
 * SH_E_CONFLICT listing them); needs admin of the parent. */
int sh_spaces_delete(struct sh_db *db, const struct sh_actor *actor,
		     const char *id, struct sh_err *err);

/* Grants user (created when named for the first time) the role in body
 * {"role": "read"|"write"|"admin"}; needs admin of the space. */
int sh_spaces_set_member(struct sh_db *db, const struct sh_actor *actor,
			 const char *space, const char *user, const cJSON *body,
			 cJSON **out, struct sh_err *err);

/* Removes user's direct role in space; needs admin of the space. */
int sh_spaces_remove_member(struct sh_db *db, const struct sh_actor *actor,
			    const char *space, const char *user,
			    struct sh_err *err);

/*
 * Shared by the modules that guard objects living in a space: returns 0
 * when the actor's role in space is at least need, else -1 with err set to
 * SH_E_NOT_FOUND (what = "space x" etc.) when the actor cannot even read
 * it, SH_E_FORBIDDEN otherwise.
 */
int sh_spaces_require(const struct sh_authz *az, const char *space,
		      enum sh_role need, const char *what, struct sh_err *err);

/*
 * Inside a write transaction that changed the tree or an integration:
 * fails with SH_E_CONFLICT naming every stack whose space can no longer
 * use its integration.  Returns 0 when all still can.
 */
int sh_spaces_check_attachments(struct sh_db *db, const struct sh_actor *actor,
				struct sh_err *err);

#endif
