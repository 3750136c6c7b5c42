/*
 * db_backend.h - what a database backend provides to db.c (private to core).
 *
 * Each backend embeds struct sh_db and struct sh_stmt at the start of its
 * own structs and fills a static const struct sh_db_ops.
 */
#ifndef STACKHOOK_DB_BACKEND_H
#define STACKHOOK_DB_BACKEND_H

#include "stackhook/db.h"

struct sh_db_ops {
	enum sh_db_backend backend;
	void (*close)(struct sh_db *db);
	int (*exec)(struct sh_db *db, const char *sql, struct sh_err *err);
	int (*prepare)(struct sh_db *db, const char *sql, struct sh_stmt **out,
		       struct sh_err *err);
	int64_t (*changes)(struct sh_db *db);
	int (*param_count)(struct sh_stmt *st);
	bool (*alive)(struct sh_db *db);
	int (*set_busy_timeout)(struct sh_db *db, int64_t ms, struct sh_err *err);
	int (*column_count)(struct sh_stmt *st);
	const char *(*column_name)(struct sh_stmt *st, int col);
	bool (*column_is_blob)(struct sh_stmt *st, int col);
	int (*bind_text)(struct sh_stmt *st, int idx, const char *text);
	int (*bind_int)(struct sh_stmt *st, int idx, int64_t value);
	int (*bind_blob)(struct sh_stmt *st, int idx, const void *data, size_t len);
	int (*bind_null)(struct sh_stmt *st, int idx);
	int (*step)(struct sh_stmt *st, struct sh_err *err);
	bool (*is_null)(struct sh_stmt *st, int col);
	const char *(*text)(struct sh_stmt *st, int col);
	int64_t (*int64)(struct sh_stmt *st, int col);
	const void *(*blob)(struct sh_stmt *st, int col, size_t *len);
	void (*release)(struct sh_stmt *st);
};

struct sh_db {
	const struct sh_db_ops *ops;
	const char *begin_sql; /* the backend's "start a write transaction" */
	bool in_transaction;
};

struct sh_stmt {
	struct sh_db *db;
};

int sh_db_sqlite_open(const char *path, const struct sh_db_options *opt,
		      struct sh_db **out, struct sh_err *err);
/* The VFS the SQLite backend opens its files with (db_sqlite_wal.c): the
 * default one, with each commit's WAL frames written in one go.  NULL
 * when it cannot be registered (then the default VFS serves). */
#define SH_SQLITE_VFS "stackhook-wal"
const char *sh_db_sqlite_vfs(void);

int sh_db_pg_open(const char *uri, const struct sh_db_options *opt,
		  struct sh_db **out, struct sh_err *err);

#endif
