/*
 * db_pg.c - the PostgreSQL backend of db.h (SPEC §9), over libpq.
 *
 * Statements are prepared once per connection (named s<N>) and run with
 * text parameters, except blobs, which travel binary.  A write transaction
 * takes a transaction-scoped advisory lock, so writers queue one at a time
 * as with SQLite's BEGIN IMMEDIATE: a check-then-insert (a delivery's key,
 * a run's commit) stays correct across nodes, while the database's unique
 * indexes remain the last word.  Durability is synchronous_commit = on.
 */
#include "config.h"

#include <dlfcn.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_backend.h"
#include "stackhook/log.h"

/*
 * libpq is loaded on first use, not linked: a process on SQLite then never
 * maps it nor the twenty-odd libraries it brings (LDAP, Kerberos, GnuTLS),
 * about 3 MiB of a responder's private memory (SPEC §8 allows 8).  The
 * soname has been libpq.so.5 since PostgreSQL 8.2.
 */
#define LIBPQ_SONAME "libpq.so.5"
#define PQ_FUNCTIONS(X) \
	X(PQclear) \
	X(PQcmdTuples) \
	X(PQconnectdb) \
	X(PQconsumeInput) \
	X(PQdb) \
	X(PQdescribePrepared) \
	X(PQerrorMessage) \
	X(PQexec) \
	X(PQexecPrepared) \
	X(PQfinish) \
	X(PQfname) \
	X(PQfreemem) \
	X(PQftype) \
	X(PQgetisnull) \
	X(PQgetvalue) \
	X(PQhost) \
	X(PQisBusy) \
	X(PQnfields) \
	X(PQnparams) \
	X(PQntuples) \
	X(PQport) \
	X(PQprepare) \
	X(PQresultErrorField) \
	X(PQresultErrorMessage) \
	X(PQresultStatus) \
	X(PQsetNoticeProcessor) \
	X(PQstatus) \
	X(PQunescapeBytea)

static struct {
#define PQ_POINTER(name) __typeof__(name) *name;
	PQ_FUNCTIONS(PQ_POINTER)
#undef PQ_POINTER
} pq;

static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static char pq_missing[256]; /* why it could not be loaded; "" when it was */

static void
pq_load(void)
{
	void *lib = dlopen(LIBPQ_SONAME, RTLD_NOW | RTLD_LOCAL);
	void *sym;

	if (lib == NULL) {
		snprintf(pq_missing, sizeof(pq_missing), "%s", dlerror());
		return;
	}
	/* memcpy: ISO C has no cast from dlsym's void * to a function. */
#define PQ_LOOKUP(name)                                                          \
	if ((sym = dlsym(lib, #name)) == NULL) {                                 \
		snprintf(pq_missing, sizeof(pq_missing), LIBPQ_SONAME " has no %s", \
			 #name);                                                 \
		dlclose(lib);                                                    \
		return;                                                          \
	}                                                                        \
	memcpy(&pq.name, &sym, sizeof(sym));
	PQ_FUNCTIONS(PQ_LOOKUP)
#undef PQ_LOOKUP
}

#define MAX_PARAMS 32

struct pg_stmt {
	struct sh_stmt base;
	const char *sql;       /* cache key: the caller's literal */
	char name[16];
	int nparams;
	bool borrowed;
	/* bound values for the next run */
	char *values[MAX_PARAMS];
	int lengths[MAX_PARAMS];
	int formats[MAX_PARAMS];
	/* the current result */
	PGresult *result;
	int row;               /* -1 before the first step */
	unsigned char *blob;   /* the last blob decoded for sh_stmt_blob() */
};

struct pg_db {
	struct sh_db base;
	PGconn *conn;
	struct pg_stmt **stmts;
	size_t stmt_count;
	int64_t changes;
	char *target;          /* the URI without its password, for messages */
	int64_t lock_timeout_ms; /* as last SET */
};

static const struct sh_db_ops pg_ops;

/* SQLSTATE classes decide what a user sees: a conflict is theirs, a lost
 * connection or a serialization failure is storage trouble (503). */
static int
fail_pg(struct pg_db *db, const PGresult *res, struct sh_err *err, const char *what)
{
	const char *state = res ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? pq.PQresultErrorMessage(res) : pq.PQerrorMessage(db->conn);
	char text[256];
	size_t n;

	snprintf(text, sizeof(text), "%s", msg && msg[0] ? msg : "no answer");
	n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	if (state != NULL && strncmp(state, "23", 2) == 0)
		return sh_err_set(err, SH_E_CONFLICT, NULL,
				  "the change conflicts with existing data (%s)", text);
	if (state == NULL || strncmp(state, "08", 2) == 0 ||
	    strncmp(state, "40", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strncmp(state, "55", 2) == 0 ||
	    strncmp(state, "57", 2) == 0 || pq.PQstatus(db->conn) != CONNECTION_OK)
		return sh_err_set(err, SH_E_STORAGE, NULL, "database %s: %s: %s",
				  db->target, what, text);
	return sh_err_set(err, SH_E_INTERNAL, NULL, "database %s: %s: %s", db->target,
			  what, text);
}

static int
pg_exec(struct sh_db *base, const char *sql, struct sh_err *err)
{
	struct pg_db *db = (struct pg_db *)base;
	PGresult *res = pq.PQexec(db->conn, sql);
	ExecStatusType status = pq.PQresultStatus(res);
	int rc = 0;

	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
		rc = fail_pg(db, res, err, "cannot run statement");
	pq.PQclear(res);
	return rc;
}

static void
clear_values(struct pg_stmt *st)
{
	for (int i = 0; i < MAX_PARAMS; i++) {
		free(st->values[i]);
		st->values[i] = NULL;
		st->lengths[i] = 0;
		st->formats[i] = 0;
	}
}

static int
pg_prepare(struct sh_db *base, const char *sql, struct sh_stmt **out,
	   struct sh_err *err)
{
	struct pg_db *db = (struct pg_db *)base;
	struct pg_stmt *st, **grown;
	PGresult *res;

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
	grown = realloc(db->stmts, (db->stmt_count + 1) * sizeof(*grown));
	if (grown != NULL)
		db->stmts = grown;
	if (st == NULL || grown == NULL) {
		free(st);
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	}
	snprintf(st->name, sizeof(st->name), "s%zu", db->stmt_count);
	res = pq.PQprepare(db->conn, st->name, sql, 0, NULL);
	if (pq.PQresultStatus(res) != PGRES_COMMAND_OK) {
		fail_pg(db, res, err, "cannot prepare statement");
		pq.PQclear(res);
		free(st);
		return -1;
	}
	pq.PQclear(res);
	res = pq.PQdescribePrepared(db->conn, st->name);
	st->nparams = pq.PQresultStatus(res) == PGRES_COMMAND_OK ? pq.PQnparams(res) : 0;
	pq.PQclear(res);
	if (st->nparams > MAX_PARAMS) {
		free(st);
		return sh_err_set(err, SH_E_INTERNAL, NULL, "too many parameters");
	}
	st->base.db = base;
	st->sql = sql;
	st->row = -1;
	st->borrowed = true;
	db->stmts[db->stmt_count++] = st;
	*out = &st->base;
	return 0;
}

static int64_t
pg_changes(struct sh_db *base)
{
	return ((struct pg_db *)base)->changes;
}

static int
pg_param_count(struct sh_stmt *st)
{
	return ((struct pg_stmt *)st)->nparams;
}

#define PGST(st) ((struct pg_stmt *)(st))

static int
set_value(struct sh_stmt *base, int idx, char *value, int len, int format)
{
	struct pg_stmt *st = PGST(base);

	if (idx < 1 || idx > MAX_PARAMS) {
		free(value);
		return -1;
	}
	free(st->values[idx - 1]);
	st->values[idx - 1] = value;
	st->lengths[idx - 1] = len;
	st->formats[idx - 1] = format;
	return 0;
}

static int
pg_bind_text(struct sh_stmt *st, int idx, const char *text)
{
	char *copy = text ? strdup(text) : NULL;

	if (text != NULL && copy == NULL)
		return -1;
	return set_value(st, idx, copy, 0, 0);
}

static int
pg_bind_int(struct sh_stmt *st, int idx, int64_t value)
{
	char *text = malloc(24);

	if (text == NULL)
		return -1;
	snprintf(text, 24, "%lld", (long long)value);
	return set_value(st, idx, text, 0, 0);
}

static int
pg_bind_blob(struct sh_stmt *st, int idx, const void *data, size_t len)
{
	char *copy;

	/* As with SQLite, no data binds NULL. */
	if (data == NULL)
		return set_value(st, idx, NULL, 0, 0);
	copy = malloc(len ? len : 1);
	if (copy == NULL || len > INT32_MAX) {
		free(copy);
		return -1;
	}
	memcpy(copy, data, len);
	return set_value(st, idx, copy, (int)len, 1);
}

static int
pg_bind_null(struct sh_stmt *st, int idx)
{
	return set_value(st, idx, NULL, 0, 0);
}

static int
pg_step(struct sh_stmt *base, struct sh_err *err)
{
	struct pg_stmt *st = PGST(base);
	struct pg_db *db = (struct pg_db *)base->db;
	ExecStatusType status;
	const char *tuples;

	if (st->result == NULL) {
		st->result = pq.PQexecPrepared(db->conn, st->name, st->nparams,
					       (const char *const *)st->values, st->lengths,
					       st->formats, 0);
		status = pq.PQresultStatus(st->result);
		if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
			fail_pg(db, st->result, err, "statement failed");
			pq.PQclear(st->result);
			st->result = NULL;
			return -1;
		}
		tuples = pq.PQcmdTuples(st->result);
		db->changes = tuples && tuples[0] ? atoll(tuples) : 0;
		st->row = -1;
	}
	if (pq.PQresultStatus(st->result) != PGRES_TUPLES_OK ||
	    st->row + 1 >= pq.PQntuples(st->result))
		return 0;
	st->row++;
	return 1;
}

static bool
pg_is_null(struct sh_stmt *st, int col)
{
	return pq.PQgetisnull(PGST(st)->result, PGST(st)->row, col) != 0;
}

static const char *
pg_text(struct sh_stmt *st, int col)
{
	if (pg_is_null(st, col))
		return NULL;
	return pq.PQgetvalue(PGST(st)->result, PGST(st)->row, col);
}

/* Booleans come back as t/f, integers as text. */
static int64_t
pg_column_int64(struct sh_stmt *st, int col)
{
	const char *v = pg_text(st, col);

	if (v == NULL)
		return 0;
	if (strcmp(v, "t") == 0)
		return 1;
	if (strcmp(v, "f") == 0)
		return 0;
	return atoll(v);
}

static const void *
pg_blob(struct sh_stmt *base, int col, size_t *len)
{
	struct pg_stmt *st = PGST(base);
	const char *v = pg_text(base, col);

	pq.PQfreemem(st->blob);
	st->blob = NULL;
	*len = 0;
	if (v == NULL)
		return NULL;
	st->blob = pq.PQunescapeBytea((const unsigned char *)v, len);
	return st->blob;
}

/* A round trip only when the value changes. */
static int
pg_set_busy_timeout(struct sh_db *base, int64_t ms, struct sh_err *err)
{
	struct pg_db *db = (struct pg_db *)base;
	char sql[64];

	if (ms == db->lock_timeout_ms)
		return 0;
	snprintf(sql, sizeof(sql), "SET lock_timeout = %lld", (long long)ms);
	if (pg_exec(base, sql, err) < 0)
		return -1;
	db->lock_timeout_ms = ms;
	return 0;
}

static bool
pg_alive(struct sh_db *db)
{
	PGconn *conn = ((struct pg_db *)db)->conn;

	/* libpq notices a server that went away only when it reads: take in
	 * what waits on the socket -- its goodbye, then, on a second read, the
	 * end of the stream -- and let it parse the goodbye. */
	for (int i = 0; i < 2 && pq.PQstatus(conn) == CONNECTION_OK; i++)
		if (pq.PQconsumeInput(conn) == 0 || pq.PQisBusy(conn) < 0)
			break;
	return pq.PQstatus(conn) == CONNECTION_OK;
}

static int
pg_column_count(struct sh_stmt *st)
{
	return PGST(st)->result ? pq.PQnfields(PGST(st)->result) : 0;
}

static const char *
pg_column_name(struct sh_stmt *st, int col)
{
	return pq.PQfname(PGST(st)->result, col);
}

#define BYTEA_OID 17

static bool
pg_column_is_blob(struct sh_stmt *st, int col)
{
	return pq.PQftype(PGST(st)->result, col) == BYTEA_OID;
}

static void
pg_release(struct sh_stmt *base)
{
	struct pg_stmt *st = PGST(base);

	pq.PQclear(st->result);
	st->result = NULL;
	pq.PQfreemem(st->blob);
	st->blob = NULL;
	clear_values(st);
	st->row = -1;
	st->borrowed = false;
}

static void
pg_close(struct sh_db *base)
{
	struct pg_db *db = (struct pg_db *)base;

	for (size_t i = 0; i < db->stmt_count; i++) {
		pg_release(&db->stmts[i]->base);
		free(db->stmts[i]);
	}
	free(db->stmts);
	pq.PQfinish(db->conn);
	free(db->target);
	free(db);
}

static const struct sh_db_ops pg_ops = {
	.backend = SH_DB_POSTGRES,
	.close = pg_close,
	.exec = pg_exec,
	.prepare = pg_prepare,
	.changes = pg_changes,
	.param_count = pg_param_count,
	.alive = pg_alive,
	.set_busy_timeout = pg_set_busy_timeout,
	.column_count = pg_column_count,
	.column_name = pg_column_name,
	.column_is_blob = pg_column_is_blob,
	.bind_text = pg_bind_text,
	.bind_int = pg_bind_int,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.is_null = pg_is_null,
	.text = pg_text,
	.int64 = pg_column_int64,
	.blob = pg_blob,
	.release = pg_release,
};

/* The URI as messages may show it: host and database, never a password. */
static char *
safe_target(PGconn *conn)
{
	const char *host = pq.PQhost(conn), *port = pq.PQport(conn), *name = pq.PQdb(conn);
	char *out = NULL;

	if (asprintf(&out, "postgresql://%s:%s/%s", host ? host : "", port ? port : "",
		     name ? name : "") < 0)
		return NULL;
	return out;
}

/* The server's notices and warnings go to our log, in its format. */
static void
on_notice(void *arg, const char *message)
{
	char line[512];
	size_t n;

	(void)arg;
	snprintf(line, sizeof(line), "%s", message);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	sh_log(strncmp(line, "NOTICE", 6) == 0 ? LOG_DEBUG : LOG_WARNING,
	       "postgresql: %s", line);
}

int
sh_db_pg_open(const char *uri, const struct sh_db_options *opt,
	      struct sh_db **out, struct sh_err *err)
{
	struct pg_db *db;

	*out = NULL;
	pthread_once(&pq_once, pq_load);
	if (pq_missing[0] != '\0')
		return sh_err_set(err, SH_E_STORAGE, NULL,
				  "cannot use PostgreSQL: %s (Debian's libpq5 package)",
				  pq_missing);
	db = calloc(1, sizeof(*db));
	if (db == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	db->base.ops = &pg_ops;
	/* 7403101: any constant, the key of stackhook's writer lock. */
	db->base.begin_sql = "BEGIN; SELECT pg_advisory_xact_lock(7403101)";
	db->conn = pq.PQconnectdb(uri);
	if (pq.PQstatus(db->conn) != CONNECTION_OK) {
		char msg[256];
		size_t n;

		snprintf(msg, sizeof(msg), "%s", pq.PQerrorMessage(db->conn));
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		pq.PQfinish(db->conn);
		free(db);
		return sh_err_set(err, SH_E_STORAGE, NULL,
				  "cannot connect to PostgreSQL: %s", msg);
	}
	db->target = safe_target(db->conn);
	pq.PQsetNoticeProcessor(db->conn, on_notice, NULL);
	/* A writer waits at most busy_timeout for the lock, as with SQLite. */
	db->lock_timeout_ms = -1;
	if (sh_db_set_busy_timeout(&db->base, opt->busy_timeout_ms, err) < 0 ||
	    pg_exec(&db->base, "SET synchronous_commit = on", err) < 0) {
		pg_close(&db->base);
		return -1;
	}
	*out = &db->base;
	return 0;
}
