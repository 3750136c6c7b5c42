/*
 * db_sqlite.c - the SQLite backend of db.h.
 *
 * WAL with synchronous=FULL (NORMAL may lose the last commits on power
 * loss; and db_sqlite_wal.c relies on the WAL's sync at every commit),
 * BEGIN IMMEDIATE for writes, a busy timeout, foreign keys on.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db_backend.h"

struct sqlite_stmt {
	struct sh_stmt base;
	sqlite3_stmt *handle;
	const char *sql; /* cache key: the caller's literal */
	bool borrowed;
};

struct sqlite_db {
	struct sh_db base;
	sqlite3 *handle;
	char *path;
	struct sqlite_stmt **stmts;
	size_t stmt_count;
};

static const struct sh_db_ops sqlite_ops;

/* Maps an SQLite failure to our error codes, with a message for a person. */
static int
fail_sqlite(struct sqlite_db *db, int rc, struct sh_err *err, const char *what)
{
	const char *msg = db->handle ? sqlite3_errmsg(db->handle) : sqlite3_errstr(rc);
	enum sh_errcode code;

	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		code = SH_E_CONFLICT;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_PROTOCOL:
		code = SH_E_STORAGE;
		break;
	default:
		code = SH_E_INTERNAL;
		break;
	}
	/* A conflict is the client's business; where the file lives is not. */
	if (code == SH_E_CONFLICT)
		return sh_err_set(err, code, NULL,
				  "the change conflicts with existing data (%s)", msg);
	return sh_err_set(err, code, NULL, "database %s: %s: %s", db->path, what,
			  msg);
}

/* Copies sql with each "$N" placeholder turned into SQLite's "?N", so that
 * parameter numbers mean the same in both backends. */
static char *
translate_placeholders(const char *sql)
{
	char *out = strdup(sql);
	bool in_string = false;

	if (out == NULL)
		return NULL;
	for (char *p = out; *p; p++) {
		if (*p == '\'')
			in_string = !in_string;
		else if (!in_string && *p == '$' && p[1] >= '0' && p[1] <= '9')
			*p = '?';
	}
	return out;
}

static int
sqlite_exec(struct sh_db *base, const char *sql, struct sh_err *err)
{
	struct sqlite_db *db = (struct sqlite_db *)base;
	int rc = sqlite3_exec(db->handle, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return fail_sqlite(db, rc, err, "cannot run statement");
	return 0;
}

static int
sqlite_prepare(struct sh_db *base, const char *sql, struct sh_stmt **out,
	       struct sh_err *err)
{
	struct sqlite_db *db = (struct sqlite_db *)base;
	struct sqlite_stmt *st = NULL, **grown;
	char *native = NULL;
	int rc;

	*out = NULL;
	for (size_t i = 0; i < db->stmt_count; i++) {
		if (db->stmts[i]->sql != sql)
			continue;
		if (db->stmts[i]->borrowed)
			return sh_err_set(err, SH_E_INTERNAL, NULL,
					  "statement borrowed twice");
		db->stmts[i]->borrowed = true;
		*out = &db->stmts[i]->base;
		return 0;
	}
	st = calloc(1, sizeof(*st));
	native = translate_placeholders(sql);
	grown = realloc(db->stmts, (db->stmt_count + 1) * sizeof(*grown));
	if (grown != NULL)
		db->stmts = grown;
	if (st == NULL || native == NULL || grown == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		goto fail;
	}
	rc = sqlite3_prepare_v3(db->handle, native, -1, SQLITE_PREPARE_PERSISTENT,
				&st->handle, NULL);
	if (rc != SQLITE_OK) {
		fail_sqlite(db, rc, err, "cannot prepare statement");
		goto fail;
	}
	free(native);
	st->base.db = base;
	st->sql = sql;
	st->borrowed = true;
	db->stmts[db->stmt_count++] = st;
	*out = &st->base;
	return 0;
fail:
	free(native);
	free(st);
	return -1;
}

static int
sqlite_param_count(struct sh_stmt *st)
{
	return sqlite3_bind_parameter_count(((struct sqlite_stmt *)st)->handle);
}

static int64_t
sqlite_changes(struct sh_db *base)
{
	return sqlite3_changes64(((struct sqlite_db *)base)->handle);
}

#define HANDLE(st) (((struct sqlite_stmt *)(st))->handle)

static int
sqlite_bind_text(struct sh_stmt *st, int idx, const char *text)
{
	if (text == NULL)
		return sqlite3_bind_null(HANDLE(st), idx) == SQLITE_OK ? 0 : -1;
	return sqlite3_bind_text(HANDLE(st), idx, text, -1, SQLITE_TRANSIENT) ==
			       SQLITE_OK ?
		       0 :
		       -1;
}

static int
sqlite_bind_int(struct sh_stmt *st, int idx, int64_t value)
{
	return sqlite3_bind_int64(HANDLE(st), idx, value) == SQLITE_OK ? 0 : -1;
}

static int
sqlite_bind_blob(struct sh_stmt *st, int idx, const void *data, size_t len)
{
	return sqlite3_bind_blob64(HANDLE(st), idx, data, len, SQLITE_TRANSIENT) ==
			       SQLITE_OK ?
		       0 :
		       -1;
}

static int
sqlite_bind_null(struct sh_stmt *st, int idx)
{
	return sqlite3_bind_null(HANDLE(st), idx) == SQLITE_OK ? 0 : -1;
}

static int
sqlite_step(struct sh_stmt *st, struct sh_err *err)
{
	int rc = sqlite3_step(HANDLE(st));

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return fail_sqlite((struct sqlite_db *)st->db, rc, err,
			   "statement failed");
}

static bool
sqlite_is_null(struct sh_stmt *st, int col)
{
	return sqlite3_column_type(HANDLE(st), col) == SQLITE_NULL;
}

static const char *
sqlite_text(struct sh_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(HANDLE(st), col);
}

static int64_t
sqlite_column_int64(struct sh_stmt *st, int col)
{
	return sqlite3_column_int64(HANDLE(st), col);
}

static const void *
sqlite_blob(struct sh_stmt *st, int col, size_t *len)
{
	const void *data = sqlite3_column_blob(HANDLE(st), col);

	*len = (size_t)sqlite3_column_bytes(HANDLE(st), col);
	return data;
}

static bool
sqlite_alive(struct sh_db *db)
{
	(void)db;
	return true;
}

static int
sqlite_set_busy_timeout(struct sh_db *base, int64_t ms, struct sh_err *err)
{
	struct sqlite_db *db = (struct sqlite_db *)base;
	int rc = sqlite3_busy_timeout(db->handle, ms > INT_MAX ? INT_MAX : (int)ms);

	return rc == SQLITE_OK ? 0 : fail_sqlite(db, rc, err, "cannot set busy_timeout");
}

static int
sqlite_column_count(struct sh_stmt *st)
{
	return sqlite3_column_count(HANDLE(st));
}

static const char *
sqlite_column_name(struct sh_stmt *st, int col)
{
	return sqlite3_column_name(HANDLE(st), col);
}

static bool
sqlite_column_is_blob(struct sh_stmt *st, int col)
{
	return sqlite3_column_type(HANDLE(st), col) == SQLITE_BLOB;
}

static void
sqlite_release(struct sh_stmt *base)
{
	struct sqlite_stmt *st = (struct sqlite_stmt *)base;

	sqlite3_reset(st->handle);
	sqlite3_clear_bindings(st->handle);
	st->borrowed = false;
}

static void
sqlite_close(struct sh_db *base)
{
	struct sqlite_db *db = (struct sqlite_db *)base;

	for (size_t i = 0; i < db->stmt_count; i++) {
		sqlite3_finalize(db->stmts[i]->handle);
		free(db->stmts[i]);
	}
	free(db->stmts);
	sqlite3_close(db->handle);
	free(db->path);
	free(db);
}

static const struct sh_db_ops sqlite_ops = {
	.backend = SH_DB_SQLITE,
	.close = sqlite_close,
	.exec = sqlite_exec,
	.prepare = sqlite_prepare,
	.changes = sqlite_changes,
	.param_count = sqlite_param_count,
	.alive = sqlite_alive,
	.set_busy_timeout = sqlite_set_busy_timeout,
	.column_count = sqlite_column_count,
	.column_name = sqlite_column_name,
	.column_is_blob = sqlite_column_is_blob,
	.bind_text = sqlite_bind_text,
	.bind_int = sqlite_bind_int,
	.bind_blob = sqlite_bind_blob,
	.bind_null = sqlite_bind_null,
	.step = sqlite_step,
	.is_null = sqlite_is_null,
	.text = sqlite_text,
	.int64 = sqlite_column_int64,
	.blob = sqlite_blob,
	.release = sqlite_release,
};

/* Applies the connection settings; the first statement also proves the
 * file is an SQLite database. */
static int
configure(struct sqlite_db *db, const struct sh_db_options *opt,
	  struct sh_err *err)
{
	sqlite3_stmt *st = NULL;
	const char *mode;
	int rc;

	sqlite3_extended_result_codes(db->handle, 1);
	sqlite3_busy_timeout(db->handle, (int)opt->busy_timeout_ms);
	rc = sqlite3_prepare_v2(db->handle, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return fail_sqlite(db, rc, err, "cannot open");
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		sqlite3_finalize(st);
		return sh_err_set(err, SH_E_STORAGE, NULL,
				  "database %s: cannot switch to WAL mode", db->path);
	}
	sqlite3_finalize(st);
	rc = sqlite3_exec(db->handle,
			  "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
			  /* A responder holds a connection per thread: keep each
			   * one's page cache small (the OS caches the file). */
			  "PRAGMA cache_size=-256;", NULL,
			  NULL, NULL);
	if (rc != SQLITE_OK)
		return fail_sqlite(db, rc, err, "cannot configure");
	return 0;
}

int
sh_db_sqlite_open(const char *path, const struct sh_db_options *opt,
		  struct sh_db **out, struct sh_err *err)
{
	struct sqlite_db *db;
	struct stat st;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	int rc;

	*out = NULL;
	if (!opt->create && stat(path, &st) < 0)
		return sh_err_errno(err, SH_E_STORAGE, errno,
				    "database %s cannot be opened (run `stackhook "
				    "init` to create it)", path);
	if (opt->create)
		flags |= SQLITE_OPEN_CREATE;
	db = calloc(1, sizeof(*db));
	if (db == NULL || (db->path = strdup(path)) == NULL) {
		free(db);
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	}
	db->base.ops = &sqlite_ops;
	db->base.begin_sql = "BEGIN IMMEDIATE";
	rc = sqlite3_open_v2(path, &db->handle, flags, sh_db_sqlite_vfs());
	if (rc != SQLITE_OK) {
		fail_sqlite(db, rc, err, "cannot open");
		goto fail;
	}
	if (configure(db, opt, err) < 0)
		goto fail;
	*out = &db->base;
	return 0;
fail:
	sqlite_close(&db->base);
	return -1;
}
