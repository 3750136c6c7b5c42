/*
 * schema.h - versioned schema migrations.
 *
 * `stackhook init` migrates; the responder only checks, so that a database
 * older (or newer) than the binary is a clear 503, never a crash.
 */
#ifndef STACKHOOK_SCHEMA_H
#define STACKHOOK_SCHEMA_H

#include "stackhook/db.h"
#include "stackhook/err.h"

/* The schema version this binary reads and writes. */
int sh_schema_current(void);

/* Reads the database's schema version into *version (0 = empty database).
 * Returns 0 or -1 (err set). */
int sh_schema_version(struct sh_db *db, int *version, struct sh_err *err);

/*
 * Applies every missing migration in one transaction.  *from receives the
 * version found (may be NULL).  Refuses a database newer than the binary.
 * Returns 0 or -1 (err set; nothing changed).
 */
int sh_schema_migrate(struct sh_db *db, int *from, struct sh_err *err);

/* 0 when db's schema is the current one; else -1 with err (SH_E_STORAGE)
 * saying what to do. */
int sh_schema_check(struct sh_db *db, struct sh_err *err);

/* Opens an existing store (sh_db_open) and checks its schema: how a
 * service opens its connections.  Returns 0 with *out, or -1 with err. */
int sh_schema_open(const char *database, int64_t busy_timeout_ms,
		   struct sh_db **out, struct sh_err *err);

#endif
