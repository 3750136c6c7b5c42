#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "db_backend.h"

int
sh_db_open(const char *target, const struct sh_db_options *opt,
	   struct sh_db **out, struct sh_err *err)
{
	*out = NULL;
	if (strncmp(target, "postgresql://", 13) == 0 ||
	    strncmp(target, "postgres://", 11) == 0)
		return sh_db_pg_open(target, opt, out, err);
	if (target[0] != '/')
		return sh_err_set(err, SH_E_CONFIG, NULL,
				  "database must be an absolute SQLite path or a "
				  "postgresql:// URI");
	return sh_db_sqlite_open(target, opt, out, err);
}

void
sh_db_close(struct sh_db *db)
{
	if (db != NULL)
		db->ops->close(db);
}

enum sh_db_backend
sh_db_backend(const struct sh_db *db)
{
	return db->ops->backend;
}

int
sh_db_set_busy_timeout(struct sh_db *db, int64_t ms, struct sh_err *err)
{
	return db->ops->set_busy_timeout(db, ms < 1 ? 1 : ms, err);
}

int
sh_db_exec(struct sh_db *db, const char *sql, struct sh_err *err)
{
	return db->ops->exec(db, sql, err);
}

int
sh_db_begin(struct sh_db *db, struct sh_err *err)
{
	if (db->in_transaction)
		return sh_err_set(err, SH_E_INTERNAL, NULL,
				  "a transaction is already open");
	if (db->ops->exec(db, db->begin_sql, err) < 0)
		return -1;
	db->in_transaction = true;
	return 0;
}

int
sh_db_commit(struct sh_db *db, struct sh_err *err)
{
	if (db->ops->exec(db, "COMMIT", err) < 0) {
		sh_db_rollback(db);
		return -1;
	}
	db->in_transaction = false;
	return 0;
}

void
sh_db_rollback(struct sh_db *db)
{
	if (!db->in_transaction)
		return;
	db->in_transaction = false;
	db->ops->exec(db, "ROLLBACK", NULL);
}

int
sh_db_prepare(struct sh_db *db, const char *sql, struct sh_stmt **out,
	      struct sh_err *err)
{
	return db->ops->prepare(db, sql, out, err);
}

int64_t
sh_db_changes(struct sh_db *db)
{
	return db->ops->changes(db);
}

int
sh_stmt_bind_text(struct sh_stmt *st, int idx, const char *text)
{
	return st->db->ops->bind_text(st, idx, text);
}

int
sh_stmt_bind_int(struct sh_stmt *st, int idx, int64_t value)
{
	return st->db->ops->bind_int(st, idx, value);
}

int
sh_stmt_bind_blob(struct sh_stmt *st, int idx, const void *data, size_t len)
{
	return st->db->ops->bind_blob(st, idx, data, len);
}

int
sh_stmt_bind_null(struct sh_stmt *st, int idx)
{
	return st->db->ops->bind_null(st, idx);
}

int
sh_stmt_step(struct sh_stmt *st, struct sh_err *err)
{
	return st->db->ops->step(st, err);
}

bool
sh_stmt_is_null(struct sh_stmt *st, int col)
{
	return st->db->ops->is_null(st, col);
}

const char *
sh_stmt_text(struct sh_stmt *st, int col)
{
	return st->db->ops->text(st, col);
}

int64_t
sh_stmt_int(struct sh_stmt *st, int col)
{
	return st->db->ops->int64(st, col);
}

const void *
sh_stmt_blob(struct sh_stmt *st, int col, size_t *len)
{
	return st->db->ops->blob(st, col, len);
}

void
sh_stmt_release(struct sh_stmt *st)
{
	if (st != NULL)
		st->db->ops->release(st);
}

/* Binds the variadic arguments described by types (see db.h). */
static int
bind_args(struct sh_stmt *st, const char *types, va_list ap, struct sh_err *err)
{
	int rc = 0;

	/* Catches a types string that does not match the SQL before any
	 * argument is read the wrong way. */
	if ((size_t)st->db->ops->param_count(st) != strlen(types))
		return sh_err_set(err, SH_E_INTERNAL, NULL,
				  "statement takes %d values, %zu given",
				  st->db->ops->param_count(st), strlen(types));

	for (int i = 0; types[i] != '\0'; i++) {
		const void *data;

		switch (types[i]) {
		case 't':
			rc |= sh_stmt_bind_text(st, i + 1, va_arg(ap, const char *));
			break;
		case 'i':
			rc |= sh_stmt_bind_int(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'z': {
			int64_t v = va_arg(ap, int64_t);

			rc |= v ? sh_stmt_bind_int(st, i + 1, v) :
				  sh_stmt_bind_null(st, i + 1);
			break;
		}
		case 'b':
			data = va_arg(ap, const void *);
			rc |= sh_stmt_bind_blob(st, i + 1, data, va_arg(ap, size_t));
			break;
		default:
			return sh_err_set(err, SH_E_INTERNAL, NULL,
					  "bad bind type '%c'", types[i]);
		}
	}
	if (rc != 0)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "cannot bind a value");
	return 0;
}

int64_t
sh_db_run(struct sh_db *db, const char *sql, struct sh_err *err,
	  const char *types, ...)
{
	struct sh_stmt *st;
	va_list ap;
	int rc;

	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	va_start(ap, types);
	rc = bind_args(st, types, ap, err);
	va_end(ap);
	while (rc == 0 && (rc = sh_stmt_step(st, err)) == 1)
		rc = 0;
	sh_stmt_release(st);
	return rc < 0 ? -1 : sh_db_changes(db);
}

int
sh_db_query(struct sh_db *db, const char *sql, struct sh_stmt **out,
	    struct sh_err *err, const char *types, ...)
{
	struct sh_stmt *st;
	va_list ap;
	int rc;

	*out = NULL;
	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	va_start(ap, types);
	rc = bind_args(st, types, ap, err);
	va_end(ap);
	if (rc == 0)
		rc = sh_stmt_step(st, err);
	if (rc != 1) {
		sh_stmt_release(st);
		return rc < 0 ? -1 : 0;
	}
	*out = st;
	return 1;
}

bool
sh_db_alive(struct sh_db *db)
{
	return db->ops->alive(db);
}

int
sh_stmt_column_count(struct sh_stmt *st)
{
	return st->db->ops->column_count(st);
}

const char *
sh_stmt_column_name(struct sh_stmt *st, int col)
{
	return st->db->ops->column_name(st, col);
}

bool
sh_stmt_column_is_blob(struct sh_stmt *st, int col)
{
	return st->db->ops->column_is_blob(st, col);
}
