/*
 * audit.h - the record of every change made through the API or the CLI.
 *
 * Who, when, what, on which object and from which address.  detail is a
 * short text chosen by the caller and must never hold a secret's value.
 */
#ifndef STACKHOOK_AUDIT_H
#define STACKHOOK_AUDIT_H

#include "stackhook/authz.h"
#include "stackhook/db.h"
#include "stackhook/page.h"
#include "stackhook/err.h"

struct sh_audit_entry {
	const char *actor;       /* user name, or "cli:<unix user>" */
	const char *address;     /* client address, NULL from the CLI */
	const char *action;      /* "create", "update", "delete", "revoke", ... */
	const char *object_type; /* "api_key", "space", "integration", ... */
	const char *object_id;
	const char *space;       /* the space the object belongs to, or NULL */
	const char *detail;      /* NULL or a short description, no secrets */
};

/* Appends entry in the caller's transaction.  Returns 0 or -1 (err set). */
int sh_audit_record(struct sh_db *db, const struct sh_audit_entry *entry,
		    struct sh_err *err);

/* sh_audit_record() for a change an actor made through the API or CLI. */
int sh_audit_actor(struct sh_db *db, const struct sh_actor *actor,
		   const char *action, const char *object_type,
		   const char *object_id, const char *space, const char *detail,
		   struct sh_err *err);

/*
 * Audit records, newest first: of one space (its admins) or of every space
 * (root admins) when space is NULL.  Never a secret: records hold only what
 * the writers put in them.
 */
int sh_audit_list(struct sh_db *db, const struct sh_actor *actor,
		  const char *space, const struct sh_page *page, cJSON **out,
		  struct sh_err *err);

#endif
