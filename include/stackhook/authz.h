/*
 * authz.h - who may do what: roles in the tree of spaces (SPEC §3).
 *
 * A user has at most one direct role per space.  The effective role in a
 * space S is the highest of the direct role in S and, when S inherits, the
 * effective role in S's parent.  Admins of root are admins everywhere.
 */
#ifndef STACKHOOK_AUTHZ_H
#define STACKHOOK_AUTHZ_H

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

/* The spaces of the snapshot, for listing: count, and the id of the i-th
 * (valid while az lives). */
size_t sh_authz_space_count(const struct sh_authz *az);
const char *sh_authz_space_id(const struct sh_authz *az, size_t i);

#endif
