#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "stackhook/buf.h"
#include "stackhook/schema.h"
#include "stackhook/timeutil.h"

struct migration {
	int version;
	const char *sqlite;
};

/* Append only: a released migration never changes. */
static const struct migration migrations[] = {
	{1,
	 "CREATE TABLE users ("
	 "  id INTEGER PRIMARY KEY,"
	 "  name TEXT NOT NULL UNIQUE,"
	 "  created_at INTEGER NOT NULL);"
	 "CREATE TABLE api_keys ("
	 "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	 "  user_id INTEGER NOT NULL REFERENCES users(id),"
	 "  hash TEXT NOT NULL UNIQUE,"
	 "  prefix TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL,"
	 "  last_used_at INTEGER,"
	 "  revoked_at INTEGER);"
	 /* seq orders lists and makes their cursors; ids are the slugs. */
	 "CREATE TABLE spaces ("
	 "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	 "  id TEXT NOT NULL UNIQUE,"
	 "  name TEXT NOT NULL,"
	 "  parent TEXT REFERENCES spaces(id),"
	 "  inherit INTEGER NOT NULL DEFAULT 1,"
	 "  description TEXT NOT NULL DEFAULT '',"
	 "  created_at INTEGER NOT NULL,"
	 "  updated_at INTEGER NOT NULL);"
	 "CREATE INDEX spaces_parent ON spaces(parent);"
	 "INSERT INTO spaces (id, name, parent, inherit, created_at, updated_at)"
	 "  VALUES ('root', 'root', NULL, 0, CAST(strftime('%s','now') AS INTEGER),"
	 "          CAST(strftime('%s','now') AS INTEGER));"
	 "CREATE TABLE grants ("
	 "  space TEXT NOT NULL REFERENCES spaces(id),"
	 "  user_id INTEGER NOT NULL REFERENCES users(id),"
	 "  role TEXT NOT NULL CHECK (role IN ('read','write','admin')),"
	 "  PRIMARY KEY (space, user_id));"
	 "CREATE INDEX grants_user ON grants(user_id);"
	 /* A deleted integration keeps its row (deleted_at set) so that its
	 * id is never reused and its spool entries are recognised. */
	 "CREATE TABLE integrations ("
	 "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	 "  slug TEXT NOT NULL,"
	 "  name TEXT NOT NULL,"
	 "  type TEXT NOT NULL CHECK (type IN ('default','space')),"
	 "  space TEXT NOT NULL REFERENCES spaces(id),"
	 "  api_host_url TEXT NOT NULL,"
	 "  user_facing_host_url TEXT,"
	 "  token_sealed BLOB,"
	 "  token_last4 TEXT,"
	 "  signing_sealed BLOB,"
	 "  secret_sealed BLOB NOT NULL,"
	 "  labels TEXT NOT NULL DEFAULT '[]',"
	 "  description TEXT NOT NULL DEFAULT '',"
	 "  ca_file TEXT,"
	 "  created_at INTEGER NOT NULL,"
	 "  updated_at INTEGER NOT NULL,"
	 "  deleted_at INTEGER);"
	 "CREATE UNIQUE INDEX integrations_slug ON integrations(slug)"
	 "  WHERE deleted_at IS NULL;"
	 "CREATE UNIQUE INDEX integrations_one_default ON integrations(type)"
	 "  WHERE type = 'default' AND deleted_at IS NULL;"
	 "CREATE INDEX integrations_space ON integrations(space);"
	 "CREATE TABLE stacks ("
	 "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	 "  id TEXT NOT NULL UNIQUE,"
	 "  name TEXT NOT NULL,"
	 "  kind TEXT NOT NULL CHECK (kind IN ('stack','module')),"
	 "  space TEXT NOT NULL REFERENCES spaces(id),"
	 "  integration_id INTEGER REFERENCES integrations(id),"
	 "  namespace TEXT NOT NULL,"
	 "  repository TEXT NOT NULL,"
	 "  project_key TEXT NOT NULL,"  /* lower(namespace/repository) */
	 "  project_id INTEGER,"         /* GitLab's, learnt from a delivery */
	 "  branch TEXT NOT NULL,"
	 "  project_root TEXT NOT NULL DEFAULT '',"
	 "  environment TEXT,"
	 "  labels TEXT NOT NULL DEFAULT '[]',"
	 "  description TEXT NOT NULL DEFAULT '',"
	 "  created_at INTEGER NOT NULL,"
	 "  updated_at INTEGER NOT NULL);"
	 "CREATE INDEX stacks_space ON stacks(space);"
	 "CREATE INDEX stacks_project ON stacks(integration_id, project_key);"
	 "CREATE INDEX stacks_project_id ON stacks(integration_id, project_id);"
	 /* Every delivery that passed the token check, with its outcome.
	 * The key de-duplicates among the non-duplicate ones. */
	 "CREATE TABLE deliveries ("
	 "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	 "  integration_id INTEGER NOT NULL REFERENCES integrations(id),"
	 "  key TEXT NOT NULL,"
	 "  event_uuid TEXT,"
	 "  event_header TEXT,"
	 "  kind TEXT NOT NULL,"
	 "  project_id INTEGER,"
	 "  project_path TEXT,"
	 "  ref TEXT,"
	 "  before_sha TEXT,"
	 "  after_sha TEXT,"
	 "  outcome TEXT NOT NULL CHECK (outcome IN ('accepted','ignored','duplicate')),"
	 "  reason TEXT,"
	 "  suspected_duplicate_hook INTEGER NOT NULL DEFAULT 0,"
	 "  remote_addr TEXT,"
	 "  received_at INTEGER NOT NULL);"
	 "CREATE UNIQUE INDEX deliveries_key ON deliveries(integration_id, key)"
	 "  WHERE outcome <> 'duplicate';"
	 "CREATE INDEX deliveries_received ON deliveries(received_at);"
	 "CREATE INDEX deliveries_integration ON deliveries(integration_id, id);"
	 "CREATE INDEX deliveries_same_push ON deliveries(integration_id, project_id,"
	 "  kind, ref, after_sha);"
	 "CREATE TABLE runs ("
	 "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	 "  id TEXT NOT NULL UNIQUE,"
	 "  stack TEXT NOT NULL REFERENCES stacks(id) ON DELETE CASCADE,"
	 "  kind TEXT NOT NULL CHECK (kind IN ('tracked','proposed')),"
	 "  trigger TEXT NOT NULL,"
	 "  sha TEXT,"
	 "  ref TEXT,"
	 "  state TEXT NOT NULL,"
	 "  summary_add INTEGER,"
	 "  summary_change INTEGER,"
	 "  summary_destroy INTEGER,"
	 "  message TEXT,"
	 "  plan TEXT,"
	 "  deploying INTEGER NOT NULL DEFAULT 0,"  /* a deployment was queued */
	 "  deployment_id INTEGER,"                 /* GitLab's, once created */
	 "  delivery_id INTEGER REFERENCES deliveries(id) ON DELETE SET NULL,"
	 "  integration_id INTEGER REFERENCES integrations(id),"
	 "  project_id INTEGER,"
	 "  project_path TEXT,"
	 "  created_at INTEGER NOT NULL,"
	 "  updated_at INTEGER NOT NULL);"
	 "CREATE UNIQUE INDEX runs_one_per_commit ON runs(stack, sha, kind)"
	 "  WHERE sha IS NOT NULL;"
	 "CREATE INDEX runs_state ON runs(state, updated_at);"
	 "CREATE TABLE run_merge_requests ("
	 "  run_seq INTEGER NOT NULL REFERENCES runs(seq) ON DELETE CASCADE,"
	 "  iid INTEGER NOT NULL,"
	 "  PRIMARY KEY (run_seq, iid));"
	 /* One comment per stack and merge request, edited in place. */
	 "CREATE TABLE mr_notes ("
	 "  integration_id INTEGER NOT NULL,"
	 "  project TEXT NOT NULL,"
	 "  iid INTEGER NOT NULL,"
	 "  stack TEXT NOT NULL,"
	 "  note_id INTEGER NOT NULL,"
	 "  updated_at INTEGER NOT NULL,"
	 "  PRIMARY KEY (integration_id, project, iid, stack));"
	 /* What the reporter met, per integration and kind of trouble. */
	 "CREATE TABLE report_problems ("
	 "  integration_id INTEGER NOT NULL,"
	 "  kind TEXT NOT NULL CHECK (kind IN ('credentials','unreachable','rejected')),"
	 "  count INTEGER NOT NULL DEFAULT 0,"
	 "  last_at INTEGER NOT NULL,"
	 "  last_message TEXT,"
	 "  PRIMARY KEY (integration_id, kind));"
	 /* The last `stackhook doctor` run per integration, for its health. */
	 "CREATE TABLE doctor_results ("
	 "  integration_id INTEGER PRIMARY KEY,"
	 "  at INTEGER NOT NULL,"
	 "  report TEXT NOT NULL);"
	 /* Our webhook in each project, as hooks sync or doctor found it. */
	 "CREATE TABLE gitlab_hooks ("
	 "  integration_id INTEGER NOT NULL,"
	 "  project_id INTEGER NOT NULL,"
	 "  hook_id INTEGER NOT NULL,"
	 "  updated_at INTEGER NOT NULL,"
	 "  PRIMARY KEY (integration_id, project_id));"
	 /* Failed deliveries the reporter asked GitLab to resend, once each. */
	 /* Keyed by the delivery's Idempotency-Key when GitLab shows it:
	 * each resend is a new event with a new id. */
	 "CREATE TABLE resent_events ("
	 "  integration_id INTEGER NOT NULL,"
	 "  hook_id INTEGER NOT NULL,"
	 "  event_key TEXT NOT NULL,"
	 "  at INTEGER NOT NULL,"
	 "  PRIMARY KEY (integration_id, hook_id, event_key));"
	 /* Each spool file a transaction wrote, recorded by the same
	 * transaction: the proof a file left in tmp/ by a crash belongs to
	 * a commit (and the reporter may publish it). */
	 "CREATE TABLE spool_batches ("
	 "  name TEXT PRIMARY KEY,"
	 "  at INTEGER NOT NULL);"
	 "CREATE TABLE counters ("
	 "  name TEXT PRIMARY KEY,"
	 "  value INTEGER NOT NULL DEFAULT 0);"
	 "CREATE TABLE audit ("
	 "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	 "  at INTEGER NOT NULL,"
	 "  actor TEXT NOT NULL,"
	 "  address TEXT,"
	 "  action TEXT NOT NULL,"
	 "  object_type TEXT NOT NULL,"
	 "  object_id TEXT NOT NULL,"
	 "  space TEXT,"
	 "  detail TEXT);"
	 "CREATE INDEX audit_space ON audit(space, id);"},
	/* Web page sessions (sessions.h): only the id's SHA-256 is kept; a
	 * session ends with its expiry, its sign-out or its API key. */
	{2,
	 "CREATE TABLE sessions ("
	 "  hash TEXT PRIMARY KEY,"
	 "  user_id INTEGER NOT NULL REFERENCES users(id),"
	 "  key_id INTEGER NOT NULL REFERENCES api_keys(id),"
	 "  csrf TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL,"
	 "  expires_at INTEGER NOT NULL);"
	 "CREATE INDEX sessions_expires ON sessions(expires_at);"},
};

#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
sh_schema_current(void)
{
	return migrations[MIGRATION_COUNT - 1].version;
}

static const char sql_has_table_sqlite[] =
	"SELECT count(*) FROM sqlite_master "
	"WHERE type = 'table' AND name = 'schema_migrations'";
static const char sql_has_table_pg[] =
	"SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations' "
	"AND schemaname = current_schema()";
static const char sql_max_version[] =
	"SELECT coalesce(max(version), 0) FROM schema_migrations";
static const char sql_record[] =
	"INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)";

/* Reads one integer from a one-row query. */
static int
query_int(struct sh_db *db, const char *sql, int64_t *out, struct sh_err *err)
{
	struct sh_stmt *st;
	int rc;

	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	rc = sh_stmt_step(st, err);
	if (rc == 1)
		*out = sh_stmt_int(st, 0);
	sh_stmt_release(st);
	if (rc == 0)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "query returned no row");
	return rc < 0 ? -1 : 0;
}

int
sh_schema_version(struct sh_db *db, int *version, struct sh_err *err)
{
	int64_t n;

	*version = 0;
	if (query_int(db, sh_db_backend(db) == SH_DB_POSTGRES ? sql_has_table_pg :
								   sql_has_table_sqlite,
		      &n, err) < 0)
		return -1;
	if (n == 0)
		return 0;
	if (query_int(db, sql_max_version, &n, err) < 0)
		return -1;
	*version = (int)n;
	return 0;
}

/*
 * The migrations are written once, in SQLite's dialect; PostgreSQL gets
 * them with the few words that differ replaced (identity columns, 64-bit
 * integers, bytea, the clock).  Returns a new string, or NULL.
 */
static char *
to_postgres(const char *sql)
{
	static const struct {
		const char *from;
		const char *to;
	} words[] = {
		{"INTEGER PRIMARY KEY AUTOINCREMENT", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"},
		{"(  id INTEGER PRIMARY KEY,",
		 "(  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"},
		{"INTEGER", "BIGINT"},
		{"BLOB", "BYTEA"},
		{"CAST(strftime('%s','now') AS BIGINT)", "CAST(extract(epoch FROM now()) AS BIGINT)"},
	};
	char *out = strdup(sql);

	for (size_t w = 0; out != NULL && w < sizeof(words) / sizeof(words[0]); w++) {
		struct sh_buf b = SH_BUF_INIT;
		const char *p = out, *hit;
		size_t from_len = strlen(words[w].from);

		while ((hit = strstr(p, words[w].from)) != NULL) {
			sh_buf_append(&b, p, (size_t)(hit - p));
			sh_buf_puts(&b, words[w].to);
			p = hit + from_len;
		}
		sh_buf_puts(&b, p);
		free(out);
		out = sh_buf_detach(&b);
	}
	return out;
}

static int
apply_ddl(struct sh_db *db, const char *sql, struct sh_err *err)
{
	char *pg;
	int rc;

	if (sh_db_backend(db) != SH_DB_POSTGRES)
		return sh_db_exec(db, sql, err);
	pg = to_postgres(sql);
	if (pg == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	rc = sh_db_exec(db, pg, err);
	free(pg);
	return rc;
}

/* A newer schema may mean columns this binary would not fill in. */
static int
refuse_newer(int version, struct sh_err *err)
{
	return sh_err_set(err, SH_E_STORAGE, NULL,
			  "the database has schema version %d, newer than this "
			  "stackhook (%d): install the newer stackhook",
			  version, sh_schema_current());
}

int
sh_schema_migrate(struct sh_db *db, int *from, struct sh_err *err)
{
	struct sh_stmt *st;
	int version;

	if (sh_db_begin(db, err) < 0)
		return -1;
	if (apply_ddl(db,
		      "CREATE TABLE IF NOT EXISTS schema_migrations ("
		      "  version INTEGER PRIMARY KEY,"
		      "  applied_at INTEGER NOT NULL)",
		      err) < 0 ||
	    sh_schema_version(db, &version, err) < 0)
		goto fail;
	if (from != NULL)
		*from = version;
	if (version > sh_schema_current()) {
		refuse_newer(version, err);
		goto fail;
	}
	for (int i = 0; i < MIGRATION_COUNT; i++) {
		int rc;

		if (migrations[i].version <= version)
			continue;
		if (apply_ddl(db, migrations[i].sqlite, err) < 0) {
			sh_err_prefix(err, "migration %d", migrations[i].version);
			goto fail;
		}
		if (sh_db_prepare(db, sql_record, &st, err) < 0)
			goto fail;
		sh_stmt_bind_int(st, 1, migrations[i].version);
		sh_stmt_bind_int(st, 2, sh_time_now());
		rc = sh_stmt_step(st, err);
		sh_stmt_release(st);
		if (rc < 0)
			goto fail;
	}
	return sh_db_commit(db, err);
fail:
	sh_db_rollback(db);
	return -1;
}

int
sh_schema_check(struct sh_db *db, struct sh_err *err)
{
	int version;

	if (sh_schema_version(db, &version, err) < 0)
		return -1;
	if (version == sh_schema_current())
		return 0;
	if (version < sh_schema_current())
		return sh_err_set(err, SH_E_STORAGE, NULL,
				  "the database has schema version %d and this "
				  "stackhook needs %d: run `stackhook init` to "
				  "migrate it", version, sh_schema_current());
	return refuse_newer(version, err);
}

int
sh_schema_open(const char *database, int64_t busy_timeout_ms,
	       struct sh_db **out, struct sh_err *err)
{
	const struct sh_db_options opt = {.busy_timeout_ms = busy_timeout_ms};
	struct sh_db *db;

	*out = NULL;
	if (sh_db_open(database, &opt, &db, err) < 0)
		return -1;
	if (sh_schema_check(db, err) < 0) {
		sh_db_close(db);
		return -1;
	}
	*out = db;
	return 0;
}
