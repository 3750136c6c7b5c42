#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "stackhook/buf.h"
#include "stackhook/db.h"
#include "stackhook/migrate.h"
#include "stackhook/schema.h"

/* In an order the foreign keys accept (spaces' parents are set after). */
static const struct {
	const char *name;
	const char *identity; /* the generated column, or NULL */
} tables[] = {
	{"users", "id"},
	{"api_keys", "id"},
	{"sessions", NULL}, /* people signed in to the pages stay signed in */
	{"spaces", "seq"},
	{"grants", NULL},
	{"integrations", "id"},
	{"stacks", "seq"},
	{"deliveries", "id"},
	{"runs", "seq"},
	{"run_merge_requests", NULL},
	{"mr_notes", NULL},
	{"report_problems", NULL},
	{"counters", NULL},
	{"doctor_results", NULL},
	{"gitlab_hooks", NULL},
	{"resent_events", NULL},
	{"audit", "id"},
};
#define TABLE_COUNT (sizeof(tables) / sizeof(tables[0]))

/*
 * The statements are built from the table list above and the source's
 * own column names -- never from input -- and every value is bound.  The
 * connections cache statements by the SQL's address, so the texts live in
 * one list freed only after both connections are closed.
 */
struct texts {
	char **items;
	size_t count;
};

static const char *
keep(struct texts *t, struct sh_buf *b)
{
	char **grown = realloc(t->items, (t->count + 1) * sizeof(*grown));
	char *text = sh_buf_detach(b);

	if (grown == NULL || text == NULL) {
		free(text);
		return NULL;
	}
	t->items = grown;
	t->items[t->count++] = text;
	return text;
}

static int64_t
count_rows(struct sh_db *db, struct texts *t, const char *table, struct sh_err *err)
{
	struct sh_buf b = SH_BUF_INIT;
	const char *sql;
	struct sh_stmt *st;
	int64_t n = -1;

	sh_buf_printf(&b, "SELECT count(*) FROM %s", table);
	sql = keep(t, &b);
	if (sql == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		return -1;
	}
	if (sh_db_query(db, sql, &st, err, "") == 1) {
		n = sh_stmt_int(st, 0);
		sh_stmt_release(st);
	}
	return n;
}

/* Copies one table's rows; spaces go in without their parent first. */
static int
copy_table(struct sh_db *from, struct sh_db *to, struct texts *t, const char *table,
	   struct sh_err *err)
{
	struct sh_buf b = SH_BUF_INIT;
	const char *select_sql, *insert_sql = NULL;
	struct sh_stmt *src, *dst;
	int rc, cols = 0;

	sh_buf_printf(&b, "SELECT * FROM %s", table);
	if ((select_sql = keep(t, &b)) == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	rc = sh_db_query(from, select_sql, &src, err, "");
	while (rc == 1) {
		if (insert_sql == NULL) {
			cols = sh_stmt_column_count(src);
			sh_buf_printf(&b, "INSERT INTO %s (", table);
			for (int i = 0; i < cols; i++)
				sh_buf_printf(&b, "%s%s", i ? ", " : "",
					      sh_stmt_column_name(src, i));
			sh_buf_puts(&b, ") VALUES (");
			for (int i = 0; i < cols; i++)
				sh_buf_printf(&b, "%s$%d", i ? ", " : "", i + 1);
			sh_buf_puts(&b, ")");
			if ((insert_sql = keep(t, &b)) == NULL) {
				rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
				break;
			}
		}
		if (sh_db_prepare(to, insert_sql, &dst, err) < 0) {
			rc = -1;
			break;
		}
		for (int i = 0; i < cols; i++) {
			size_t len;
			const void *blob;
			bool parent = strcmp(table, "spaces") == 0 &&
				      strcmp(sh_stmt_column_name(src, i), "parent") == 0;

			if (sh_stmt_is_null(src, i) || parent) {
				sh_stmt_bind_null(dst, i + 1);
			} else if (sh_stmt_column_is_blob(src, i)) {
				blob = sh_stmt_blob(src, i, &len);
				sh_stmt_bind_blob(dst, i + 1, blob, len);
			} else {
				sh_stmt_bind_text(dst, i + 1, sh_stmt_text(src, i));
			}
		}
		rc = sh_stmt_step(dst, err);
		sh_stmt_release(dst);
		if (rc < 0)
			break;
		rc = sh_stmt_step(src, err);
	}
	sh_stmt_release(src); /* NULL when the query had no row */
	sh_buf_release(&b);
	return rc < 0 ? -1 : 0;
}

static int
copy_parents(struct sh_db *from, struct sh_db *to, struct sh_err *err)
{
	static const char sql_read[] =
		"SELECT id, parent FROM spaces WHERE parent IS NOT NULL";
	static const char sql_set[] = "UPDATE spaces SET parent = $1 WHERE id = $2";
	struct sh_stmt *st;
	int rc;

	if (sh_db_prepare(from, sql_read, &st, err) < 0)
		return -1;
	while ((rc = sh_stmt_step(st, err)) == 1)
		if (sh_db_run(to, sql_set, err, "tt", sh_stmt_text(st, 1),
			      sh_stmt_text(st, 0)) < 0) {
			rc = -1;
			break;
		}
	sh_stmt_release(st);
	return rc < 0 ? -1 : 0;
}

/* PostgreSQL's identity columns continue after the copied ids. */
static int
advance_identity(struct sh_db *to, struct texts *t, const char *table,
		 const char *column, struct sh_err *err)
{
	struct sh_buf b = SH_BUF_INIT;
	const char *sql;

	if (sh_db_backend(to) != SH_DB_POSTGRES)
		return 0;
	sh_buf_printf(&b, "SELECT setval(pg_get_serial_sequence('%s', '%s'), "
		      "coalesce(max(%s), 0) + 1, false) FROM %s", table, column, column,
		      table);
	if ((sql = keep(t, &b)) == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	return sh_db_exec(to, sql, err);
}

static int
copy_all(struct sh_db *from, struct sh_db *to, struct texts *t, FILE *out,
	 struct sh_err *err)
{
	int64_t have;

	if (sh_schema_check(from, err) < 0 || sh_schema_check(to, err) < 0)
		return -1;
	if ((have = count_rows(to, t, "users", err)) != 0 ||
	    (have = count_rows(to, t, "integrations", err)) != 0)
		return have < 0 ? -1 :
				  sh_err_set(err, SH_E_CONFLICT, NULL,
					     "the destination already holds users or "
					     "integrations: migrate into an empty database");
	if (sh_db_begin(to, err) < 0)
		return -1;
	/* The migration made its own root space; the source's replaces it. */
	if (sh_db_exec(to, "DELETE FROM spaces", err) < 0)
		goto fail;
	for (size_t i = 0; i < TABLE_COUNT; i++)
		if (copy_table(from, to, t, tables[i].name, err) < 0 ||
		    (tables[i].identity != NULL &&
		     advance_identity(to, t, tables[i].name, tables[i].identity, err) < 0))
			goto fail;
	if (copy_parents(from, to, err) < 0)
		goto fail;
	for (size_t i = 0; i < TABLE_COUNT; i++) {
		int64_t a = count_rows(from, t, tables[i].name, err);
		int64_t b = count_rows(to, t, tables[i].name, err);

		if (a < 0 || b < 0)
			goto fail;
		if (a != b) {
			sh_err_set(err, SH_E_INTERNAL, NULL,
				   "table %s: %lld rows copied of %lld", tables[i].name,
				   (long long)b, (long long)a);
			goto fail;
		}
		fprintf(out, "%-20s %lld rows\n", tables[i].name, (long long)a);
	}
	return sh_db_commit(to, err);
fail:
	sh_db_rollback(to);
	return -1;
}

int
sh_migrate_copy(const char *from_path, const char *to_target, int64_t busy_timeout_ms,
		FILE *out, struct sh_err *err)
{
	struct sh_db_options opt = {.busy_timeout_ms = busy_timeout_ms};
	struct sh_db *from = NULL, *to = NULL;
	struct texts t = {0};
	int rc = -1;

	if (from_path[0] != '/')
		return sh_err_set(err, SH_E_USAGE, NULL,
				  "--from takes the absolute path of an SQLite database");
	if (sh_db_open(from_path, &opt, &from, err) == 0 &&
	    sh_db_open(to_target, &opt, &to, err) == 0)
		rc = copy_all(from, to, &t, out, err);
	sh_db_close(from);
	sh_db_close(to);
	for (size_t i = 0; i < t.count; i++)
		free(t.items[i]);
	free(t.items);
	return rc;
}
