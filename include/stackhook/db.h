/*
 * db.h - the SQL connection every store module talks through.
 *
 * One small interface, two backends (SQLite now, PostgreSQL per SPEC §9):
 * store modules write portable SQL with $1, $2, ... placeholders and never
 * see the backend.  Only prepared statements exist; values are always
 * bound, never pasted into SQL text.
 *
 * A connection belongs to one thread at a time.  Statements are cached per
 * connection and keyed by the SQL string's address, so callers pass string
 * literals (static storage) as sql.
 */
#ifndef STACKHOOK_DB_H
#define STACKHOOK_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stackhook/err.h"

struct sh_db;
struct sh_stmt;

enum sh_db_backend {
	SH_DB_SQLITE,
	SH_DB_POSTGRES,
};

struct sh_db_options {
	int64_t busy_timeout_ms; /* how long a write waits for another writer */
	bool create;             /* create the database when missing (init only) */
};

/*
 * Opens the database named by target: an absolute SQLite path (WAL mode,
 * synchronous=FULL) or a postgresql:// URI (libpq; the password comes from
 * ~/.pgpass or PGPASSFILE).  On success *out owns the
 * connection (sh_db_close() it).  Returns 0, or -1 with err set: code
 * SH_E_STORAGE when the database is missing, unreadable or not a database.
 */
int sh_db_open(const char *target, const struct sh_db_options *opt,
	       struct sh_db **out, struct sh_err *err);

/* Closes db and its cached statements.  NULL is allowed. */
void sh_db_close(struct sh_db *db);

enum sh_db_backend sh_db_backend(const struct sh_db *db);

/*
 * Transactions.  sh_db_begin() starts a write transaction that holds the
 * write lock from its first statement (SQLite: BEGIN IMMEDIATE), waiting at
 * most busy_timeout for it.  Reads outside a transaction see one snapshot
 * per statement.  sh_db_rollback() is safe to call when none is open.
 */
int sh_db_begin(struct sh_db *db, struct sh_err *err);
int sh_db_commit(struct sh_db *db, struct sh_err *err);
void sh_db_rollback(struct sh_db *db);

/* How long the next write transactions wait for the write lock (at
 * least 1 ms; opened with the options' busy_timeout_ms).  Returns 0 or -1
 * (err set). */
int sh_db_set_busy_timeout(struct sh_db *db, int64_t ms, struct sh_err *err);

/* Runs SQL without parameters (one or more statements: schema changes). */
int sh_db_exec(struct sh_db *db, const char *sql, struct sh_err *err);

/*
 * Borrows the prepared statement for sql (a string literal), preparing it
 * on first use.  Give it back with sh_stmt_release() before borrowing the
 * same SQL again.  Returns 0 or -1 (err set).
 */
int sh_db_prepare(struct sh_db *db, const char *sql, struct sh_stmt **out,
		  struct sh_err *err);

/*
 * Binds parameter idx (1-based).  Text and blobs are copied.  A NULL text
 * binds SQL NULL.  Return 0 or -1 (a bad index or out of memory: the error
 * shows at sh_stmt_step()).
 */
int sh_stmt_bind_text(struct sh_stmt *st, int idx, const char *text);
int sh_stmt_bind_int(struct sh_stmt *st, int idx, int64_t value);
int sh_stmt_bind_blob(struct sh_stmt *st, int idx, const void *data, size_t len);
int sh_stmt_bind_null(struct sh_stmt *st, int idx);

/*
 * Runs the statement to its next row.  Returns 1 when a row is ready, 0 when
 * done, -1 on error (err set: SH_E_CONFLICT for a unique or foreign key
 * violation, SH_E_STORAGE for a busy, full, read-only or broken database).
 */
int sh_stmt_step(struct sh_stmt *st, struct sh_err *err);

/* Column values of the current row (0-based).  Text and blob pointers stay
 * valid until the next step or release; NULL text reads as NULL. */
bool sh_stmt_is_null(struct sh_stmt *st, int col);
const char *sh_stmt_text(struct sh_stmt *st, int col);
int64_t sh_stmt_int(struct sh_stmt *st, int col);
const void *sh_stmt_blob(struct sh_stmt *st, int col, size_t *len);

/*
 * Prepares sql, binds the arguments described by types -- one letter each:
 * 't' const char * (NULL binds NULL), 'i' int64_t, 'z' int64_t where 0
 * binds NULL (an optional reference), 'b' const void * and size_t -- and
 * steps until done.  Returns the rows changed (>= 0), or -1
 * (err set).  For statements that return no rows.
 */
int64_t sh_db_run(struct sh_db *db, const char *sql, struct sh_err *err,
		  const char *types, ...);

/*
 * Like sh_db_run() but leaves the statement on its first row: returns 1
 * with *out borrowed (sh_stmt_release() it), 0 when there is no row (the
 * statement released already), -1 on error.
 */
int sh_db_query(struct sh_db *db, const char *sql, struct sh_stmt **out,
		struct sh_err *err, const char *types, ...);

/* false when the connection is known to be lost (a PostgreSQL server
 * restarted): the owner should close it and open a new one. */
bool sh_db_alive(struct sh_db *db);

/* The shape of a result, for copying tables between backends. */
int sh_stmt_column_count(struct sh_stmt *st);
const char *sh_stmt_column_name(struct sh_stmt *st, int col);
bool sh_stmt_column_is_blob(struct sh_stmt *st, int col);

/* Rows changed by the last INSERT/UPDATE/DELETE on this connection. */
int64_t sh_db_changes(struct sh_db *db);

/* Resets the statement and gives it back to its connection's cache. */
void sh_stmt_release(struct sh_stmt *st);

#endif
