/*
 * authz.h - who may do what: roles in the tree of spaces (SPEC §3).
 *
 * A user has at most one direct role per space.  The effective role in a
 * space S is the highest of the direct role in S and, when S inherits, the
 * effective role in S's parent.  Admins of root are admins everywhere.
 */
#ifndef STACKHOOK_AUTHZ_H
#define STACKHOOK_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stackhook/db.h"
#include "stackhook/err.h"

#define SH_ROOT_SPACE "root"

enum sh_role {
	SH_ROLE_NONE = 0,
	SH_ROLE_READ,
	SH_ROLE_WRITE,
	SH_ROLE_ADMIN,
};

/* "read", "write", "admin" ("none" for SH_ROLE_NONE). */
const char *sh_role_name(enum sh_role role);

/* Parses "read", "write" or "admin".  Returns 0 or -1. */
int sh_role_parse(const char *text, enum sh_role *out);

/*
 * Sets user's direct role in space (SH_ROLE_NONE removes it).  Runs in the
 * caller's transaction.  Returns 0 or -1 (err set; SH_E_NOT_FOUND when the
 * space does not exist).
 */
int sh_authz_grant(struct sh_db *db, const char *space, int64_t user_id,
		   enum sh_role role, struct sh_err *err);

/* A snapshot of the space tree and one user's direct roles. */
struct sh_authz;

/* Loads the snapshot for user_id.  *out is freed with sh_authz_free().
 * Returns 0 or -1 (err set). */
int sh_authz_load(struct sh_db *db, int64_t user_id, struct sh_authz **out,
		  struct sh_err *err);

void sh_authz_free(struct sh_authz *az);

/* The user's effective role in space (SH_ROLE_NONE for an unknown space). */
enum sh_role sh_authz_role(const struct sh_authz *az, const char *space);

/* true when the user is an admin of root (an admin everywhere). */
bool sh_authz_is_root_admin(const struct sh_authz *az);

/* true when space exists in the snapshot. */
bool sh_authz_space_exists(const struct sh_authz *az, const char *space);

/* The parent of space, or NULL for root or an unknown space. */
const char *sh_authz_parent(const struct sh_authz *az, const char *space);

/* true when space is ancestor or lies below it. */
bool sh_authz_within(const struct sh_authz *az, const char *space,
		     const char *ancestor);

/*
 * Whether a stack in stack_space may use an integration (SPEC §3): a
 * default one always; a space one when the stack is in its space or below
 * it through an unbroken chain of inheriting spaces.  When it may not and
 * why is not NULL, *why names the space where the chain breaks.
 */
bool sh_authz_can_use(const struct sh_authz *az, bool is_default,
		      const char *integration_space, const char *stack_space,
		      const char **why);

/* Integrations: listed (summary) to readers of a space that can use it --
 * a default one to everybody; administered (details, changes) by admins
 * of its space -- a default one by root admins only. */
bool sh_authz_may_list_integration(const struct sh_authz *az, bool is_default,
				   const char *space);
bool sh_authz_may_admin_integration(const struct sh_authz *az, bool is_default,
				    const char *space);

/* Who is calling, for permission checks and the audit log. */
struct sh_actor {
	int64_t user_id;     /* 0 for a REMOTE_USER nobody granted anything */
	const char *name;
	const char *address; /* client address, NULL from the CLI */
};

/* The spaces of the snapshot, for listing: count, and the id of the i-th
 * (valid while az lives). */
size_t sh_authz_space_count(const struct sh_authz *az);
const char *sh_authz_space_id(const struct sh_authz *az, size_t i);

#endif
