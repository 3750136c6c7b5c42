/*
 * migrate.h - `stackhook migrate --from FILE.db`: copy an SQLite instance
 * into an empty PostgreSQL database (SPEC §9), in one transaction, and
 * check that every table holds as many rows on both sides.
 */
#ifndef STACKHOOK_MIGRATE_H
#define STACKHOOK_MIGRATE_H

#include <stdint.h>
#include <stdio.h>

#include "stackhook/err.h"

/* Copies every table of the SQLite database at from into the database
 * named by to, which must be migrated to the current schema and hold no
 * user or integration yet.  One line per table goes to out.  Returns 0,
 * or -1 with err (then nothing was copied). */
int sh_migrate_copy(const char *from, const char *to, int64_t busy_timeout_ms,
		    FILE *out, struct sh_err *err);

#endif
