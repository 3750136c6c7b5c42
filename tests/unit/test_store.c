/*
 * test_store.c - the store: core/db*.c, schema.c, users.c, authz.c,
 * audit.c, spool.c and instance.c against real SQLite files.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stackhook/audit.h"
#include "stackhook/authz.h"
#include "stackhook/db.h"
#include "stackhook/instance.h"
#include "stackhook/schema.h"
#include "stackhook/spool.h"
#include "stackhook/timeutil.h"
#include "stackhook/users.h"
#include "testutil.h"

struct store {
	struct tu_dir dir;
	char db_path[PATH_MAX];
	char spool[PATH_MAX]; /* where the spool tests make theirs */
	struct sh_db *db; /* migrated, for the tests that use the fixture */
	struct sh_instance *inst; /* for the instance tests */
};

static int
open_db(const char *path, bool create, struct sh_db **db, struct sh_err *err)
{
	struct sh_db_options opt = {.busy_timeout_ms = 1000, .create = create};

	sh_err_clear(err);
	return sh_db_open(path, &opt, db, err);
}

/* Fixture: only a temporary directory (struct store without a db). */
static int
dir_setup(void **state)
{
	struct store *s = calloc(1, sizeof(*s));

	if (s == NULL || tu_mkdtemp(s->dir.path, sizeof(s->dir.path)) < 0) {
		free(s);
		return -1;
	}
	tu_join(s->db_path, s->dir.path, "stackhook.db");
	tu_join(s->spool, s->dir.path, "spool");
	*state = s;
	return 0;
}

/* Fixture: dir_setup with a migrated database in it. */
static int
store_setup(void **state)
{
	struct store *s;
	struct sh_err err;

	if (dir_setup(state) < 0)
		return -1;
	s = *state;
	if (open_db(s->db_path, true, &s->db, &err) < 0 ||
	    sh_schema_migrate(s->db, NULL, &err) < 0) {
		fprintf(stderr, "store_setup: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* Opens an instance (initialized when init) in the fixture's directory. */
static int
add_instance(void **state, bool init)
{
	struct store *s = *state;

	return tu_make_instance(s->dir.path, NULL, init, &s->inst);
}

/* Fixture: an instance on dir_setup's directory, never initialized. */
static int
bare_instance_setup(void **state)
{
	return dir_setup(state) < 0 ? -1 : add_instance(state, false);
}

/* Fixture: store_setup with an initialized instance in the same directory;
 * on SQLite its database is the fixture's file, which tests spoil. */
static int
instance_setup(void **state)
{
	return store_setup(state) < 0 ? -1 : add_instance(state, true);
}

/* Undoes any of the fixtures above.  struct store starts with its
 * struct tu_dir, so tu_dir_teardown removes the directory and frees it. */
static int
store_teardown(void **state)
{
	struct store *s = *state;

	if (s != NULL) {
		sh_instance_free(s->inst);
		sh_db_close(s->db);
	}
	return tu_dir_teardown(state);
}

/* The statement of a one-row query (a literal), stepped to its row;
 * fails the test when there is none.  Release it. */
static struct sh_stmt *
query_row(struct sh_db *db, const char *sql)
{
	struct sh_stmt *st;
	struct sh_err err;

	if (sh_db_prepare(db, sql, &st, &err) < 0)
		fail_msg("prepare %s: %s", sql, err.msg);
	if (sh_stmt_step(st, &err) != 1) {
		sh_stmt_release(st);
		fail_msg("no row from %s: %s", sql, err.msg);
	}
	return st;
}

/* Runs a one-value query (a literal) and returns its integer. */
static int64_t
query_int(struct sh_db *db, const char *sql)
{
	struct sh_stmt *st = query_row(db, sql);
	int64_t v = sh_stmt_int(st, 0);

	sh_stmt_release(st);
	return v;
}

/* Runs a one-value text query; copies the answer into out. */
static void
query_text(struct sh_db *db, const char *sql, char *out, size_t size)
{
	struct sh_stmt *st = query_row(db, sql);

	snprintf(out, size, "%s", sh_stmt_text(st, 0) ? sh_stmt_text(st, 0) : "(null)");
	sh_stmt_release(st);
}

static void
add_space(struct sh_db *db, const char *id, const char *parent, bool inherit)
{
	static const char sql[] =
		"INSERT INTO spaces (id,name,parent,inherit,created_at,updated_at) "
		"VALUES ($1,$2,$3,$4,0,0)";
	struct sh_stmt *st;
	struct sh_err err;
	int rc;

	assert_int_equal(sh_db_prepare(db, sql, &st, &err), 0);
	sh_stmt_bind_text(st, 1, id);
	sh_stmt_bind_text(st, 2, id);
	sh_stmt_bind_text(st, 3, parent);
	sh_stmt_bind_int(st, 4, inherit);
	rc = sh_stmt_step(st, &err);
	sh_stmt_release(st);
	if (rc != 0)
		fail_msg("insert space %s: %s", id, err.msg);
}

static struct sh_user
make_user(struct sh_db *db, const char *name)
{
	struct sh_user u;
	struct sh_err err;

	if (sh_users_ensure(db, name, &u, NULL, &err) < 0)
		fail_msg("ensure user %s: %s", name, err.msg);
	return u;
}

/* Creates a key for user in its own transaction; the caller frees it. */
static char *
make_key(struct sh_db *db, const struct sh_user *user, int64_t *id)
{
	struct sh_err err;
	char *key = NULL;
	int64_t kid = 0;

	assert_int_equal(sh_db_begin(db, &err), 0);
	if (sh_keys_create(db, user, &key, &kid, &err) < 0)
		fail_msg("create key: %s", err.msg);
	assert_int_equal(sh_db_commit(db, &err), 0);
	if (id != NULL)
		*id = kid;
	return key;
}

/* ------------------------------------------------------------------ */
/* opening */

static void
test_open_missing(void **state)
{
	struct store *s = *state;
	struct sh_db *db = (struct sh_db *)&db;
	struct stat st;
	struct sh_err err;

	assert_int_equal(open_db(s->db_path, false, &db, &err), -1);
	assert_null(db);
	assert_int_equal(err.code, SH_E_STORAGE);
	assert_non_null(strstr(err.msg, "stackhook init"));
	/* and nothing was created on the way */
	assert_int_equal(stat(s->db_path, &st), -1);
}

static void
test_open_not_a_database(void **state)
{
	struct store *s = *state;
	char text[8192], *after;
	struct sh_db *db = (struct sh_db *)&db;
	struct sh_err err;
	size_t len;

	for (size_t i = 0; i < sizeof(text) - 1; i++)
		text[i] = (char)('a' + i % 26);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(tu_write_file(s->db_path, text), 0);
	assert_int_equal(open_db(s->db_path, false, &db, &err), -1);
	assert_null(db);
	assert_int_equal(err.code, SH_E_STORAGE);
	/* with create, too: an existing file is never taken over */
	assert_int_equal(open_db(s->db_path, true, &db, &err), -1);
	assert_int_equal(err.code, SH_E_STORAGE);
	after = tu_read_file(s->db_path, &len);
	assert_non_null(after);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(after, text, len);
	free(after);
}

static void
test_open_relative_path(void **state)
{
	struct sh_db *db;
	struct sh_err err;

	(void)state;
	assert_int_equal(open_db("stackhook.db", true, &db, &err), -1);
	assert_null(db);
	assert_int_equal(err.code, SH_E_CONFIG);
}

static void
test_pragmas(void **state)
{
	struct store *s = *state;
	char mode[32];
	struct sh_db *db;
	struct sh_err err;

	query_text(s->db, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	assert_int_equal(query_int(s->db, "PRAGMA synchronous"), 2); /* FULL */
	assert_int_equal(query_int(s->db, "PRAGMA foreign_keys"), 1);

	/* the same on a connection to the existing file */
	assert_int_equal(open_db(s->db_path, false, &db, &err), 0);
	query_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	assert_int_equal(query_int(db, "PRAGMA synchronous"), 2);
	assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(sh_db_backend(db), SH_DB_SQLITE);
	sh_db_close(db);
}

/*
 * The WAL's frames are gathered into few writes (db_sqlite_wal.c): a
 * transaction larger than one gathered write and than the page cache (so
 * it spills, and rewrites frames it already wrote), and one rolled back,
 * must read the same from another connection, which reads only the file.
 */
static void
test_wal_gathered_writes(void **state)
{
	static const char fill[] =
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
		"WHERE i < 3000) INSERT INTO wal_probe SELECT i, randomblob(700) "
		"FROM n";
	struct store *s = *state;
	struct sh_db *other;
	struct sh_err err;
	char check[32];

	assert_int_equal(sh_db_exec(s->db, "CREATE TABLE wal_probe (i, b)", &err), 0);
	assert_int_equal(sh_db_begin(s->db, &err), 0);
	assert_int_equal(sh_db_exec(s->db, fill, &err), 0);
	assert_int_equal(sh_db_exec(s->db, "UPDATE wal_probe SET i = i * 2", &err), 0);
	assert_int_equal(sh_db_commit(s->db, &err), 0);
	assert_int_equal(sh_db_begin(s->db, &err), 0);
	assert_int_equal(sh_db_exec(s->db, fill, &err), 0);
	sh_db_rollback(s->db);
	assert_int_equal(sh_db_exec(s->db, "INSERT INTO wal_probe VALUES (-1, x'00')",
				    &err), 0);

	assert_int_equal(open_db(s->db_path, false, &other, &err), 0);
	assert_int_equal(query_int(other, "SELECT count(*) FROM wal_probe"), 3001);
	assert_int_equal(query_int(other, "SELECT sum(i) FROM wal_probe"),
			 3000 * 3001 - 1);
	assert_int_equal(query_int(other, "SELECT sum(length(b)) FROM wal_probe"),
			 3000 * 700 + 1);
	query_text(other, "PRAGMA integrity_check", check, sizeof(check));
	assert_string_equal(check, "ok");
	/* And after a checkpoint, from the database file itself. */
	assert_int_equal(sh_db_exec(s->db, "PRAGMA wal_checkpoint(TRUNCATE)", &err), 0);
	assert_int_equal(query_int(other, "SELECT sum(i) FROM wal_probe"),
			 3000 * 3001 - 1);
	sh_db_close(other);
}

/* ------------------------------------------------------------------ */
/* schema */

static void
test_migrate_from_empty(void **state)
{
	struct store *s = *state;
	struct sh_db *db;
	struct sh_err err;
	int version = -1, from = -1;

	assert_int_equal(open_db(s->db_path, true, &db, &err), 0);
	assert_int_equal(sh_schema_version(db, &version, &err), 0);
	assert_int_equal(version, 0);

	assert_int_equal(sh_schema_migrate(db, &from, &err), 0);
	assert_int_equal(from, 0);
	assert_int_equal(sh_schema_version(db, &version, &err), 0);
	assert_int_equal(version, sh_schema_current());
	assert_true(sh_schema_current() >= 1);
	assert_int_equal(sh_schema_check(db, &err), 0);
	/* the tables exist and root is there */
	assert_int_equal(query_int(db, "SELECT count(*) FROM sqlite_master WHERE "
				       "type = 'table' AND name IN ('users', "
				       "'api_keys', 'spaces', 'grants', 'audit')"),
			 5);
	assert_int_equal(query_int(db, "SELECT count(*) FROM spaces WHERE id = "
				       "'root' AND parent IS NULL"),
			 1);
	assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"),
			 sh_schema_current());

	/* again: a no-op */
	assert_int_equal(sh_schema_migrate(db, &from, &err), 0);
	assert_int_equal(from, sh_schema_current());
	assert_int_equal(query_int(db, "SELECT count(*) FROM schema_migrations"),
			 sh_schema_current());
	assert_int_equal(query_int(db, "SELECT count(*) FROM spaces"), 1);
	sh_db_close(db);
}

static void
test_schema_check_empty(void **state)
{
	struct store *s = *state;
	struct sh_db *db;
	struct sh_err err;

	assert_int_equal(open_db(s->db_path, true, &db, &err), 0);
	sh_err_clear(&err);
	assert_int_equal(sh_schema_check(db, &err), -1);
	assert_int_equal(err.code, SH_E_STORAGE);
	assert_non_null(strstr(err.msg, "stackhook init"));
	sh_db_close(db);
}

static void
test_schema_check_old(void **state)
{
	struct store *s = *state;
	struct sh_err err;
	int version;

	/* Pretend the last migration was never applied. */
	assert_int_equal(sh_db_exec(s->db,
				    "DELETE FROM schema_migrations WHERE version = "
				    "(SELECT max(version) FROM schema_migrations)",
				    &err),
			 0);
	assert_int_equal(sh_schema_version(s->db, &version, &err), 0);
	assert_int_equal(version, sh_schema_current() - 1);
	sh_err_clear(&err);
	assert_int_equal(sh_schema_check(s->db, &err), -1);
	assert_int_equal(err.code, SH_E_STORAGE);
	assert_non_null(strstr(err.msg, "stackhook init"));
}

static void
test_schema_newer_refused(void **state)
{
	struct store *s = *state;
	struct sh_err err;
	int from = -1;

	assert_int_equal(sh_db_exec(s->db,
				    "INSERT INTO schema_migrations VALUES (1000, 0)",
				    &err),
			 0);
	sh_err_clear(&err);
	assert_int_equal(sh_schema_check(s->db, &err), -1);
	assert_int_equal(err.code, SH_E_STORAGE);
	assert_non_null(strstr(err.msg, "newer"));
	sh_err_clear(&err);
	assert_int_equal(sh_schema_migrate(s->db, &from, &err), -1);
	assert_int_equal(from, 1000);
	assert_int_equal(err.code, SH_E_STORAGE);
	/* nothing changed, and no transaction was left open */
	assert_int_equal(query_int(s->db, "SELECT max(version) FROM schema_migrations"),
			 1000);
	assert_int_equal(sh_db_begin(s->db, &err), 0);
	sh_db_rollback(s->db);
}

/* ------------------------------------------------------------------ */
/* users and keys */

static void
test_users_ensure_find(void **state)
{
	struct store *s = *state;
	struct sh_user a, b, c;
	struct sh_err err;
	int created = -1;

	assert_int_equal(sh_users_ensure(s->db, "alice", &a, &created, &err), 0);
	assert_int_equal(created, 1);
	assert_true(a.id > 0);
	assert_string_equal(a.name, "alice");

	assert_int_equal(sh_users_ensure(s->db, "alice", &b, &created, &err), 0);
	assert_int_equal(created, 0);
	assert_int_equal(b.id, a.id);

	assert_int_equal(sh_users_find(s->db, "alice", &c, &err), 0);
	assert_int_equal(c.id, a.id);
	assert_string_equal(c.name, "alice");

	assert_int_equal(sh_users_ensure(s->db, "bob", &b, &created, &err), 0);
	assert_int_equal(created, 1);
	assert_int_not_equal(b.id, a.id);

	sh_err_clear(&err);
	assert_int_equal(sh_users_find(s->db, "carol", &c, &err), -1);
	assert_int_equal(err.code, SH_E_NOT_FOUND);
	/* names are exact */
	assert_int_equal(sh_users_find(s->db, "Alice", &c, &err), -1);
	assert_int_equal(err.code, SH_E_NOT_FOUND);
}

static void
test_user_names(void **state)
{
	static const char *const good[] = {"a", "alice", "a.b_c@d+e-f\\g", "X9"};
	static const char *const bad[] = {"", "with space", "semi;colon",
					  "new\nline", "slash/", "quote'",
					  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	struct store *s = *state;
	struct sh_user u;
	struct sh_err err;
	char longest[SH_USER_NAME_MAX + 1];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (sh_user_name_check(good[i], "user", &err) != 0)
			fail_msg("\"%s\" refused: %s", good[i], err.msg);
	memset(longest, 'n', SH_USER_NAME_MAX);
	longest[SH_USER_NAME_MAX] = '\0';
	assert_int_equal(sh_user_name_check(longest, "user", &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sh_err_clear(&err);
		if (sh_user_name_check(bad[i], "owner", &err) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(err.code, SH_E_INVALID_FIELD);
		assert_string_equal(err.field, "owner");
		/* and ensure refuses it without touching the table */
		assert_int_equal(sh_users_ensure(s->db, bad[i], &u, NULL, &err), -1);
		assert_int_equal(err.code, SH_E_INVALID_FIELD);
	}
	assert_int_equal(query_int(s->db, "SELECT count(*) FROM users"), 0);
}

static void
test_keys_authenticate(void **state)
{
	struct store *s = *state;
	struct sh_user alice = make_user(s->db, "alice"), who;
	struct sh_err err;
	int64_t id = 0;
	char *key = make_key(s->db, &alice, &id);

	assert_non_null(key);
	assert_true(id > 0);
	assert_int_equal(strncmp(key, "shk_", 4), 0);
	assert_int_equal(strlen(key), 4 + 43); /* 32 bytes, base64url */

	memset(&who, 0, sizeof(who));
	assert_int_equal(sh_keys_authenticate(s->db, key, &who, &err), 0);
	assert_int_equal(who.id, alice.id);
	assert_string_equal(who.name, "alice");
	free(key);
}

static void
test_keys_refused(void **state)
{
	struct store *s = *state;
	struct sh_user alice = make_user(s->db, "alice"), who;
	char *key = make_key(s->db, &alice, NULL);
	char wrong[128], longer[256];
	const char *bad[6];
	struct sh_err err;

	/* one character changed */
	snprintf(wrong, sizeof(wrong), "%s", key);
	wrong[10] = wrong[10] == 'A' ? 'B' : 'A';
	snprintf(longer, sizeof(longer), "%s%s%s%s", key, key, key, key);
	bad[0] = wrong;
	bad[1] = "";
	bad[2] = "nope";
	bad[3] = key + 4;  /* without its prefix */
	bad[4] = longer;   /* too long to be ours */
	bad[5] = "shk_";
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sh_err_clear(&err);
		if (sh_keys_authenticate(s->db, bad[i], &who, &err) != -1)
			fail_msg("key \"%s\" accepted", bad[i]);
		assert_int_equal(err.code, SH_E_UNAUTHORIZED);
		if (bad[i][0] != '\0')
			assert_null(strstr(err.msg, bad[i]));
	}
	free(key);
}

static void
test_keys_revoke(void **state)
{
	struct store *s = *state;
	struct sh_user alice = make_user(s->db, "alice"), who;
	struct sh_key_info info;
	struct sh_err err;
	int64_t id, other_id;
	char *key = make_key(s->db, &alice, &id);
	char *other = make_key(s->db, &alice, &other_id);

	memset(&info, 0, sizeof(info));
	assert_int_equal(sh_db_begin(s->db, &err), 0);
	assert_int_equal(sh_keys_revoke(s->db, id, &info, &err), 0);
	assert_int_equal(sh_db_commit(s->db, &err), 0);
	assert_int_equal(info.id, id);
	assert_string_equal(info.user, "alice");
	assert_int_equal(strncmp(info.prefix, key, SH_KEY_PREFIX_LEN), 0);
	assert_int_equal(info.revoked_at, 0); /* as it was */

	sh_err_clear(&err);
	assert_int_equal(sh_keys_authenticate(s->db, key, &who, &err), -1);
	assert_int_equal(err.code, SH_E_UNAUTHORIZED);
	/* the other key still works */
	assert_int_equal(sh_keys_authenticate(s->db, other, &who, &err), 0);

	sh_err_clear(&err);
	assert_int_equal(sh_keys_revoke(s->db, id, NULL, &err), -1);
	assert_int_equal(err.code, SH_E_CONFLICT);
	sh_err_clear(&err);
	assert_int_equal(sh_keys_revoke(s->db, 999999, NULL, &err), -1);
	assert_int_equal(err.code, SH_E_NOT_FOUND);
	free(key);
	free(other);
}

static void
test_keys_list(void **state)
{
	struct store *s = *state;
	struct sh_user alice = make_user(s->db, "alice");
	struct sh_user bob = make_user(s->db, "bob"), who;
	struct sh_key_info *items = NULL;
	struct sh_err err;
	int64_t ids[3];
	char *keys[3];
	size_t count = 99;

	assert_int_equal(sh_keys_list(s->db, &items, &count, &err), 0);
	assert_int_equal(count, 0);
	free(items);

	keys[0] = make_key(s->db, &alice, &ids[0]);
	keys[1] = make_key(s->db, &bob, &ids[1]);
	keys[2] = make_key(s->db, &alice, &ids[2]);
	assert_int_equal(sh_keys_revoke(s->db, ids[1], NULL, &err), 0);
	assert_int_equal(sh_keys_authenticate(s->db, keys[2], &who, &err), 0);

	assert_int_equal(sh_keys_list(s->db, &items, &count, &err), 0);
	assert_int_equal(count, 3);
	/* newest first */
	for (size_t i = 0; i < 3; i++) {
		const struct sh_key_info *k = &items[i];
		size_t made = 2 - i;

		assert_int_equal(k->id, ids[made]);
		assert_int_equal(strncmp(k->prefix, keys[made], SH_KEY_PREFIX_LEN), 0);
		assert_int_equal(strlen(k->prefix), SH_KEY_PREFIX_LEN);
		assert_true(k->created_at > 0);
	}
	assert_string_equal(items[0].user, "alice");
	assert_string_equal(items[1].user, "bob");
	assert_string_equal(items[2].user, "alice");
	assert_int_equal(items[0].revoked_at, 0);
	assert_true(items[1].revoked_at > 0);
	assert_int_equal(items[2].revoked_at, 0);
	/* use is noted */
	assert_true(items[0].last_used_at > 0);
	assert_int_equal(items[2].last_used_at, 0);
	free(items);
	for (int i = 0; i < 3; i++)
		free(keys[i]);
}

/* Reads every file of the database (main, -wal, -shm) and reports whether
 * any holds needle. */
static bool
db_files_contain(const char *db_path, const char *needle, bool *read_any)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	bool found = false;

	*read_any = false;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char path[PATH_MAX + 16], *data;
		size_t len;

		snprintf(path, sizeof(path), "%s%s", db_path, suffixes[i]);
		data = tu_read_file(path, &len);
		if (data == NULL)
			continue;
		*read_any = true;
		found = found || tu_mem_contains(data, len, needle);
		free(data);
	}
	return found;
}

static void
test_plain_key_not_stored(void **state)
{
	struct store *s = *state;
	struct sh_user alice = make_user(s->db, "alice"), who;
	char hash[SH_SHA256_HEX_LEN + 1];
	struct sh_err err;
	bool read_any;
	char *key = make_key(s->db, &alice, NULL);

	assert_int_equal(sh_keys_authenticate(s->db, key, &who, &err), 0);
	sh_crypto_sha256_hex(key, strlen(key), hash);

	/* while the connection is open (the WAL holds the commits) ... */
	assert_false(db_files_contain(s->db_path, key + 4, &read_any));
	assert_true(read_any);
	/* ... and after it is closed and checkpointed */
	sh_db_close(s->db);
	s->db = NULL;
	assert_false(db_files_contain(s->db_path, key, &read_any));
	assert_false(db_files_contain(s->db_path, key + 4, &read_any));
	/* the same search finds what is meant to be there: the hash */
	assert_true(db_files_contain(s->db_path, hash, &read_any));
	free(key);
}

/* ------------------------------------------------------------------ */
/* authorization */

static enum sh_role
role_of(struct sh_db *db, int64_t user, const char *space)
{
	struct sh_authz *az;
	struct sh_err err;
	enum sh_role role;

	if (sh_authz_load(db, user, &az, &err) < 0)
		fail_msg("authz load: %s", err.msg);
	role = sh_authz_role(az, space);
	sh_authz_free(az);
	return role;
}

/* The role role_of should find on a space. */
struct want_role {
	const char *space;
	enum sh_role role;
};

/* Checks role_of for each of the n spaces of want; a failure names the
 * space and the caller's line (EXPECT_ROLES). */
static void
expect_roles_at(int line, struct sh_db *db, int64_t user,
		const struct want_role *want, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum sh_role got = role_of(db, user, want[i].space);

		if (got != want[i].role)
			fail_msg("line %d: on \"%s\": expected %s, got %s", line,
				 want[i].space, sh_role_name(want[i].role),
				 sh_role_name(got));
	}
}

#define EXPECT_ROLES(db, user, ...)                                          \
	expect_roles_at(__LINE__, (db), (user),                              \
			(const struct want_role[]){__VA_ARGS__},             \
			sizeof((const struct want_role[]){__VA_ARGS__}) /    \
				sizeof(struct want_role))

static void
grant(struct sh_db *db, const char *space, int64_t user, enum sh_role role)
{
	struct sh_err err;

	if (sh_authz_grant(db, space, user, role, &err) < 0)
		fail_msg("grant %s: %s", space, err.msg);
}

/*
 * root -> a (inherits) -> b (inherits) -> c (does NOT inherit) -> d (inherits)
 * root -> x (inherits)
 */
static void
make_tree(struct sh_db *db)
{
	add_space(db, "a", "root", true);
	add_space(db, "b", "a", true);
	add_space(db, "c", "b", false);
	add_space(db, "d", "c", true);
	add_space(db, "x", "root", true);
}

static void
test_role_names(void **state)
{
	enum sh_role r = SH_ROLE_NONE;

	(void)state;
	assert_string_equal(sh_role_name(SH_ROLE_NONE), "none");
	assert_string_equal(sh_role_name(SH_ROLE_READ), "read");
	assert_string_equal(sh_role_name(SH_ROLE_WRITE), "write");
	assert_string_equal(sh_role_name(SH_ROLE_ADMIN), "admin");
	assert_int_equal(sh_role_parse("read", &r), 0);
	assert_int_equal(r, SH_ROLE_READ);
	assert_int_equal(sh_role_parse("write", &r), 0);
	assert_int_equal(r, SH_ROLE_WRITE);
	assert_int_equal(sh_role_parse("admin", &r), 0);
	assert_int_equal(r, SH_ROLE_ADMIN);
	assert_int_equal(sh_role_parse("none", &r), -1);
	assert_int_equal(sh_role_parse("Admin", &r), -1);
	assert_int_equal(sh_role_parse("", &r), -1);
	assert_true(SH_ROLE_READ < SH_ROLE_WRITE && SH_ROLE_WRITE < SH_ROLE_ADMIN);
}

static void
test_authz_chain(void **state)
{
	struct store *s = *state;
	struct sh_user u = make_user(s->db, "u");

	make_tree(s->db);
	assert_int_equal(role_of(s->db, u.id, "a"), SH_ROLE_NONE);

	grant(s->db, "a", u.id, SH_ROLE_WRITE);
	/* c does not inherit: the chain stops there, and below it */
	EXPECT_ROLES(s->db, u.id, {"root", SH_ROLE_NONE}, {"a", SH_ROLE_WRITE},
		     {"b", SH_ROLE_WRITE}, {"c", SH_ROLE_NONE}, {"d", SH_ROLE_NONE},
		     {"x", SH_ROLE_NONE});

	/* a direct grant in c flows on to d */
	grant(s->db, "c", u.id, SH_ROLE_READ);
	EXPECT_ROLES(s->db, u.id, {"c", SH_ROLE_READ}, {"d", SH_ROLE_READ});

	/* the highest of direct and inherited */
	grant(s->db, "b", u.id, SH_ROLE_READ);
	assert_int_equal(role_of(s->db, u.id, "b"), SH_ROLE_WRITE);
	grant(s->db, "b", u.id, SH_ROLE_ADMIN);
	EXPECT_ROLES(s->db, u.id, {"b", SH_ROLE_ADMIN}, {"a", SH_ROLE_WRITE},
		     {"c", SH_ROLE_READ});
	/* one row per (space, user): a grant replaces */
	assert_int_equal(query_int(s->db, "SELECT count(*) FROM grants WHERE space = 'b'"),
			 1);

	/* removing */
	grant(s->db, "a", u.id, SH_ROLE_NONE);
	EXPECT_ROLES(s->db, u.id, {"a", SH_ROLE_NONE}, {"b", SH_ROLE_ADMIN});
	grant(s->db, "b", u.id, SH_ROLE_NONE);
	assert_int_equal(role_of(s->db, u.id, "b"), SH_ROLE_NONE);
	/* removing what is not there is fine */
	grant(s->db, "x", u.id, SH_ROLE_NONE);
	assert_int_equal(query_int(s->db, "SELECT count(*) FROM grants"), 1);
}

static void
test_authz_root(void **state)
{
	struct store *s = *state;
	struct sh_user admin = make_user(s->db, "admin");
	struct sh_user writer = make_user(s->db, "writer");
	struct sh_user nobody = make_user(s->db, "nobody");
	static const char *const all[] = {"root", "a", "b", "c", "d", "x"};

	make_tree(s->db);
	grant(s->db, "root", admin.id, SH_ROLE_ADMIN);
	grant(s->db, "root", writer.id, SH_ROLE_WRITE);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		/* root admins are admins everywhere, past non-inheriting c */
		assert_int_equal(role_of(s->db, admin.id, all[i]), SH_ROLE_ADMIN);
		assert_int_equal(role_of(s->db, nobody.id, all[i]), SH_ROLE_NONE);
	}
	/* a lesser role on root follows inheritance like any other */
	EXPECT_ROLES(s->db, writer.id, {"root", SH_ROLE_WRITE}, {"a", SH_ROLE_WRITE},
		     {"b", SH_ROLE_WRITE}, {"x", SH_ROLE_WRITE}, {"c", SH_ROLE_NONE},
		     {"d", SH_ROLE_NONE});
	/* unknown spaces: none, even for a root admin */
	assert_int_equal(role_of(s->db, admin.id, "nope"), SH_ROLE_NONE);
	assert_int_equal(role_of(s->db, writer.id, ""), SH_ROLE_NONE);
}

static void
test_authz_snapshot(void **state)
{
	struct store *s = *state;
	struct sh_user u = make_user(s->db, "u");
	struct sh_authz *az;
	struct sh_err err;
	bool seen[6] = {false};
	static const char *const all[] = {"root", "a", "b", "c", "d", "x"};

	make_tree(s->db);
	assert_int_equal(sh_authz_load(s->db, u.id, &az, &err), 0);
	assert_int_equal(sh_authz_space_count(az), 6);
	for (size_t i = 0; i < sh_authz_space_count(az); i++)
		for (size_t j = 0; j < 6; j++)
			if (strcmp(sh_authz_space_id(az, i), all[j]) == 0)
				seen[j] = true;
	for (size_t j = 0; j < 6; j++)
		assert_true(seen[j]);
	assert_null(sh_authz_space_id(az, 6));
	/* a snapshot: later grants do not show in it */
	grant(s->db, "a", u.id, SH_ROLE_ADMIN);
	assert_int_equal(sh_authz_role(az, "a"), SH_ROLE_NONE);
	sh_authz_free(az);
	assert_int_equal(role_of(s->db, u.id, "a"), SH_ROLE_ADMIN);
	sh_authz_free(NULL);
}

static void
test_authz_grant_unknown_space(void **state)
{
	struct store *s = *state;
	struct sh_user u = make_user(s->db, "u");
	struct sh_err err;

	sh_err_clear(&err);
	assert_int_equal(sh_authz_grant(s->db, "nope", u.id, SH_ROLE_READ, &err), -1);
	assert_int_equal(err.code, SH_E_NOT_FOUND);
	assert_int_equal(query_int(s->db, "SELECT count(*) FROM grants"), 0);
}

/* A grant to a user id that does not exist must not blame the space. */
static void
test_grant_unknown_user_keeps_space(void **state)
{
	struct store *s = *state;
	struct sh_err err;

	add_space(s->db, "a", "root", true);
	sh_err_clear(&err);
	assert_int_equal(sh_authz_grant(s->db, "a", 424242, SH_ROLE_READ, &err), -1);
	assert_int_equal(query_int(s->db, "SELECT count(*) FROM grants"), 0);
	if (strcmp(err.field, "space") == 0 || strstr(err.msg, "no space") != NULL)
		fail_msg("grant to an unknown user says: field \"%s\", \"%s\"",
			 err.field, err.msg);
}

/* ------------------------------------------------------------------ */
/* audit and transactions */

static void
test_audit_record(void **state)
{
	static const char sql[] =
		"SELECT at, actor, address, action, object_type, object_id, space, "
		"detail FROM audit ORDER BY id";
	struct store *s = *state;
	struct sh_audit_entry api = {
		.actor = "alice", .address = "192.0.2.7", .action = "create",
		.object_type = "space", .object_id = "a", .space = "root",
		.detail = "name=A",
	};
	struct sh_audit_entry cli = {
		.actor = "cli:root", .action = "revoke", .object_type = "api_key",
		.object_id = "3",
	};
	struct sh_stmt *st;
	struct sh_err err;
	int64_t before = sh_time_now();

	assert_int_equal(sh_db_begin(s->db, &err), 0);
	assert_int_equal(sh_audit_record(s->db, &api, &err), 0);
	assert_int_equal(sh_audit_record(s->db, &cli, &err), 0);
	assert_int_equal(sh_db_commit(s->db, &err), 0);

	assert_int_equal(sh_db_prepare(s->db, sql, &st, &err), 0);
	assert_int_equal(sh_stmt_step(st, &err), 1);
	assert_true(sh_stmt_int(st, 0) >= before);
	assert_true(sh_stmt_int(st, 0) <= sh_time_now());
	assert_string_equal(sh_stmt_text(st, 1), "alice");
	assert_string_equal(sh_stmt_text(st, 2), "192.0.2.7");
	assert_string_equal(sh_stmt_text(st, 3), "create");
	assert_string_equal(sh_stmt_text(st, 4), "space");
	assert_string_equal(sh_stmt_text(st, 5), "a");
	assert_string_equal(sh_stmt_text(st, 6), "root");
	assert_string_equal(sh_stmt_text(st, 7), "name=A");
	assert_int_equal(sh_stmt_step(st, &err), 1);
	assert_string_equal(sh_stmt_text(st, 1), "cli:root");
	assert_true(sh_stmt_is_null(st, 2));
	assert_string_equal(sh_stmt_text(st, 3), "revoke");
	assert_true(sh_stmt_is_null(st, 6));
	assert_true(sh_stmt_is_null(st, 7));
	assert_int_equal(sh_stmt_step(st, &err), 0);
	sh_stmt_release(st);
}

static void
test_transaction_rollback(void **state)
{
	struct store *s = *state;
	struct sh_audit_entry e = {.actor = "a", .action = "create",
				   .object_type = "user", .object_id = "ghost"};
	struct sh_user u, who;
	struct sh_err err;
	char *key = NULL;
	int64_t id;

	assert_int_equal(sh_db_begin(s->db, &err), 0);
	assert_int_equal(sh_users_ensure(s->db, "ghost", &u, NULL, &err), 0);
	assert_int_equal(sh_keys_create(s->db, &u, &key, &id, &err), 0);
	assert_int_equal(sh_audit_record(s->db, &e, &err), 0);
	sh_db_rollback(s->db);

	sh_err_clear(&err);
	assert_int_equal(sh_users_find(s->db, "ghost", &who, &err), -1);
	assert_int_equal(err.code, SH_E_NOT_FOUND);
	assert_int_equal(sh_keys_authenticate(s->db, key, &who, &err), -1);
	assert_int_equal(query_int(s->db, "SELECT count(*) FROM users"), 0);
	assert_int_equal(query_int(s->db, "SELECT count(*) FROM api_keys"), 0);
	assert_int_equal(query_int(s->db, "SELECT count(*) FROM audit"), 0);
	free(key);

	/* rolling back with nothing open is harmless */
	sh_db_rollback(s->db);
}

static void
test_transaction_commit(void **state)
{
	struct store *s = *state;
	struct sh_db *other;
	struct sh_user u;
	struct sh_err err;

	assert_int_equal(sh_db_begin(s->db, &err), 0);
	/* no nesting */
	sh_err_clear(&err);
	assert_int_equal(sh_db_begin(s->db, &err), -1);
	assert_int_not_equal(err.code, SH_OK);
	assert_int_equal(sh_users_ensure(s->db, "kept", &u, NULL, &err), 0);
	assert_int_equal(sh_db_commit(s->db, &err), 0);

	/* another connection sees it */
	assert_int_equal(open_db(s->db_path, false, &other, &err), 0);
	assert_int_equal(sh_users_find(other, "kept", &u, &err), 0);
	sh_db_close(other);
}

/* A write transaction holds the write lock from its start (BEGIN
 * IMMEDIATE): a second writer waits busy_timeout, then gets a storage
 * error rather than a late failure at its first write. */
static void
test_transaction_write_lock(void **state)
{
	struct store *s = *state;
	struct sh_db_options opt = {.busy_timeout_ms = 20, .create = false};
	struct sh_db *other;
	struct sh_user u;
	struct sh_err err;

	assert_int_equal(sh_db_open(s->db_path, &opt, &other, &err), 0);
	assert_int_equal(sh_db_begin(s->db, &err), 0);
	sh_err_clear(&err);
	assert_int_equal(sh_db_begin(other, &err), -1);
	assert_int_equal(err.code, SH_E_STORAGE);
	/* readers are not blocked */
	assert_int_equal(sh_users_find(other, "nobody", &u, &err), -1);
	assert_int_equal(err.code, SH_E_NOT_FOUND);
	sh_db_rollback(s->db);
	/* once the lock is free, the other connection may write */
	assert_int_equal(sh_db_begin(other, &err), 0);
	assert_int_equal(sh_users_ensure(other, "later", &u, NULL, &err), 0);
	assert_int_equal(sh_db_commit(other, &err), 0);
	sh_db_close(other);
	assert_int_equal(sh_users_find(s->db, "later", &u, &err), 0);
}

static void
test_constraint_is_conflict(void **state)
{
	static const char sql[] =
		"INSERT INTO users (name, created_at) VALUES ($1, 0)";
	struct store *s = *state;
	struct sh_stmt *st;
	struct sh_err err;
	int rc;

	make_user(s->db, "dup");
	assert_int_equal(sh_db_prepare(s->db, sql, &st, &err), 0);
	sh_stmt_bind_text(st, 1, "dup");
	sh_err_clear(&err);
	rc = sh_stmt_step(st, &err);
	sh_stmt_release(st);
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, SH_E_CONFLICT);
	/* a statement is given back and may be borrowed again */
	assert_int_equal(sh_db_prepare(s->db, sql, &st, &err), 0);
	sh_stmt_bind_text(st, 1, "other");
	assert_int_equal(sh_stmt_step(st, &err), 0);
	sh_stmt_release(st);
	assert_int_equal(sh_db_changes(s->db), 1);
}

/* ------------------------------------------------------------------ */
/* spool */

static void
test_spool_prepare(void **state)
{
	struct store *s = *state;
	const char *spool = s->spool;
	char path[PATH_MAX];
	struct stat st;
	struct sh_err err;
	bool created = false;

	assert_int_equal(sh_spool_prepare(spool, &created, &err), 0);
	assert_true(created);
	assert_int_equal(stat(spool, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_string_equal(sh_spool_dirs[0], "tmp");
	assert_string_equal(sh_spool_dirs[1], "new");
	assert_string_equal(sh_spool_dirs[2], "deferred");
	assert_string_equal(sh_spool_dirs[3], "failed");
	for (int i = 0; i < SH_SPOOL_DIR_COUNT; i++) {
		tu_join(path, spool, sh_spool_dirs[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0700);
	}
	assert_int_equal(sh_spool_check(spool, &err), 0);

	/* again: nothing to make */
	created = true;
	assert_int_equal(sh_spool_prepare(spool, &created, &err), 0);
	assert_false(created);

	/* one missing subdirectory is made again */
	tu_join(path, spool, "deferred");
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(sh_spool_prepare(spool, &created, &err), 0);
	assert_true(created);
	assert_int_equal(stat(path, &st), 0);
}

/* sh_spool_check(spool) fails with a storage error whose message names
 * culprit (unless NULL). */
static void
expect_spool_unusable(const char *spool, const char *culprit)
{
	struct sh_err err;

	sh_err_clear(&err);
	assert_int_equal(sh_spool_check(spool, &err), -1);
	assert_int_equal(err.code, SH_E_STORAGE);
	if (culprit != NULL)
		assert_non_null(strstr(err.msg, culprit));
}

static void
test_spool_check_fails(void **state)
{
	struct store *s = *state;
	const char *spool = s->spool;
	char path[PATH_MAX];
	struct sh_err err;

	/* not there at all */
	expect_spool_unusable(spool, NULL);

	assert_int_equal(sh_spool_prepare(spool, NULL, &err), 0);
	/* a subdirectory missing: named in the message */
	tu_join(path, spool, "failed");
	assert_int_equal(rmdir(path), 0);
	expect_spool_unusable(spool, path);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(sh_spool_check(spool, &err), 0);

	/* read-only: root bypasses permissions, so only as another user */
	tu_join(path, spool, "new");
	assert_int_equal(chmod(path, 0500), 0);
	if (!tu_is_root())
		expect_spool_unusable(spool, path);
	assert_int_equal(chmod(path, 0700), 0);
}

static void
test_spool_prepare_over_file(void **state)
{
	struct store *s = *state;
	const char *spool = s->spool;
	char path[PATH_MAX];
	struct sh_err err;

	assert_int_equal(tu_write_file(spool, "not a directory"), 0);
	assert_int_equal(sh_spool_prepare(spool, NULL, &err), -1);
	assert_int_equal(unlink(spool), 0);
	assert_int_equal(mkdir(spool, 0700), 0);
	tu_join(path, spool, "new");
	assert_int_equal(tu_write_file(path, "not a directory"), 0);
	assert_int_equal(sh_spool_prepare(spool, NULL, &err), -1);
	assert_non_null(strstr(err.msg, path));
}

/* A spool file of entries "integration created" pairs, in dir. */
static void
spool_file(const char *spool, const char *dir, const char *name,
	   const int64_t (*entries)[2], size_t n)
{
	char path[PATH_MAX], sub[PATH_MAX], text[1024] = "";

	for (size_t i = 0; i < n; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "{\"version\":1,\"created\":%lld,\"integration\":%lld,"
			 "\"kind\":\"commit_status\"}\n",
			 (long long)entries[i][1], (long long)entries[i][0]);
	tu_join(sub, spool, dir);
	assert_int_equal(tu_write_file(tu_join(path, sub, name), text), 0);
}

/* sh_spool_stats() of one integration, and sh_spool_tally() of all in one
 * pass, agree: entries, files holding them, the oldest waiting. */
static void
test_spool_stats_and_tally(void **state)
{
	struct store *s = *state;
	static const int64_t a[][2] = {{1, 500}, {2, 400}, {1, 300}};
	static const int64_t b[][2] = {{2, 200}};
	static const int64_t c[][2] = {{1, 100}, {12, 50}};
	const char *spool = s->spool;
	struct sh_spool_stats one, all;
	struct sh_spool_tally tally;
	const struct sh_spool_stats *t;
	struct sh_err err;

	assert_int_equal(sh_spool_prepare(spool, NULL, &err), 0);
	spool_file(spool, "new", "a.jsonl", a, 3);
	spool_file(spool, "deferred", "b.jsonl", b, 1);
	spool_file(spool, "failed", "c.jsonl", c, 2);
	spool_file(spool, "tmp", "empty.jsonl", NULL, 0);

	assert_int_equal(sh_spool_stats(spool, 1, &one, &err), 0);
	assert_int_equal(one.entries[1], 2);
	assert_int_equal(one.files[1], 1);
	assert_int_equal(one.entries[2], 0);
	assert_int_equal(one.entries[3], 1);
	assert_int_equal(one.files[0], 0);
	assert_int_equal(one.oldest, 300); /* failed/ does not wait */

	assert_int_equal(sh_spool_stats(spool, 0, &all, &err), 0);
	assert_int_equal(all.entries[1], 3);
	assert_int_equal(all.entries[2], 1);
	assert_int_equal(all.entries[3], 2);
	assert_int_equal(all.files[0], 1); /* being written: counted, empty */
	assert_int_equal(all.oldest, 200);

	assert_int_equal(sh_spool_tally(spool, &tally, &err), 0);
	t = sh_spool_tally_find(&tally, 1);
	assert_memory_equal(t, &one, sizeof(one));
	t = sh_spool_tally_find(&tally, 2);
	assert_int_equal(t->entries[1], 1);
	assert_int_equal(t->entries[2], 1);
	assert_int_equal(t->files[1], 1);
	assert_int_equal(t->oldest, 200);
	/* 12 is not 1 followed by something */
	assert_int_equal(sh_spool_tally_find(&tally, 12)->entries[3], 1);
	assert_int_equal(sh_spool_tally_find(&tally, 7)->entries[1], 0);
	sh_spool_tally_release(&tally);
	assert_null(tally.rows);
}

/* ------------------------------------------------------------------ */
/* instance */

static void
test_instance_health_missing(void **state)
{
	struct store *s = *state;
	struct sh_health h;

	sh_instance_health(s->inst, &h);
	assert_false(h.ok);
	assert_non_null(strstr(h.database, "stackhook init"));
	assert_string_not_equal(h.spool, "");
	assert_string_not_equal(h.secret_key, "");
	assert_null(s->inst->db);
}

static void
test_instance_health_not_a_database(void **state)
{
	struct store *s = *state;
	char text[4096];
	struct sh_instance *inst = s->inst;
	struct sh_health h;
	struct sh_db *db;
	struct sh_err err;

	sh_db_close(s->db);
	s->db = NULL;
	unlink(s->db_path);
	memset(text, 'z', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	assert_int_equal(tu_write_file(s->db_path, text), 0);

	sh_instance_health(inst, &h);
	assert_false(h.ok);
	assert_string_not_equal(h.database, "");
	assert_string_equal(h.spool, "");
	assert_string_equal(h.secret_key, "");
	sh_err_clear(&err);
	assert_int_equal(sh_instance_db(inst, &db, &err), -1);
	assert_null(db);
	assert_int_equal(err.code, SH_E_STORAGE);
}

static void
test_instance_health_old_schema(void **state)
{
	struct store *s = *state;
	struct sh_instance *inst = s->inst;
	struct sh_health h;

	/* the fixture's database is migrated; take its schema back */
	assert_int_equal(sh_db_exec(s->db, "DELETE FROM schema_migrations", NULL), 0);
	sh_instance_health(inst, &h);
	assert_false(h.ok);
	assert_non_null(strstr(h.database, "stackhook init"));
}

static void
test_instance_health_ok(void **state)
{
	struct store *s = *state;
	const unsigned char *key;
	struct sh_instance *inst = s->inst;
	struct sh_health h;
	struct sh_db *db, *again;
	struct sh_err err;
	char path[PATH_MAX], *bytes;
	size_t len;

	sh_instance_health(inst, &h);
	if (!h.ok)
		fail_msg("unhealthy: db \"%s\" spool \"%s\" key \"%s\"", h.database,
			 h.spool, h.secret_key);
	assert_string_equal(h.database, "");
	assert_string_equal(h.spool, "");
	assert_string_equal(h.secret_key, "");
	/* twice: the open connection is checked again */
	sh_instance_health(inst, &h);
	assert_true(h.ok);

	assert_int_equal(sh_instance_db(inst, &db, &err), 0);
	assert_int_equal(sh_instance_db(inst, &again, &err), 0);
	assert_ptr_equal(db, again);
	assert_int_equal(sh_instance_key(inst, &key, &err), 0);
	bytes = tu_read_file(tu_join(path, s->dir.path, "secret.key"), &len);
	assert_non_null(bytes);
	assert_int_equal(len, SH_SECRET_KEY_LEN);
	assert_memory_equal(key, bytes, SH_SECRET_KEY_LEN);
	free(bytes);

	/* after a reset the next use opens it again */
	sh_instance_db_reset(inst);
	assert_null(inst->db);
	assert_int_equal(sh_instance_db(inst, &db, &err), 0);
	assert_non_null(db);
}

static void
test_instance_open_bad_config(void **state)
{
	struct store *s = *state;
	struct sh_instance *inst = (struct sh_instance *)&inst;
	char path[PATH_MAX];
	struct sh_err err;

	tu_join(path, s->dir.path, "missing.conf");
	assert_int_equal(sh_instance_open(path, &inst, &err), -1);
	assert_null(inst);
	assert_int_equal(err.code, SH_E_CONFIG);
	sh_instance_free(NULL);
}

int
main(void)
{
#define D(f) cmocka_unit_test_setup_teardown(f, dir_setup, store_teardown)
#define S(f) cmocka_unit_test_setup_teardown(f, store_setup, store_teardown)
#define B(f) cmocka_unit_test_setup_teardown(f, bare_instance_setup, store_teardown)
#define I(f) cmocka_unit_test_setup_teardown(f, instance_setup, store_teardown)
	const struct CMUnitTest tests[] = {
		D(test_open_missing),
		D(test_open_not_a_database),
		cmocka_unit_test(test_open_relative_path),
		S(test_pragmas),
		S(test_wal_gathered_writes),
		D(test_migrate_from_empty),
		D(test_schema_check_empty),
		S(test_schema_check_old),
		S(test_schema_newer_refused),
		S(test_users_ensure_find),
		S(test_user_names),
		S(test_keys_authenticate),
		S(test_keys_refused),
		S(test_keys_revoke),
		S(test_keys_list),
		S(test_plain_key_not_stored),
		cmocka_unit_test(test_role_names),
		S(test_authz_chain),
		S(test_authz_root),
		S(test_authz_snapshot),
		S(test_authz_grant_unknown_space),
		S(test_grant_unknown_user_keeps_space),
		S(test_audit_record),
		S(test_transaction_rollback),
		S(test_transaction_commit),
		S(test_transaction_write_lock),
		S(test_constraint_is_conflict),
		D(test_spool_prepare),
		D(test_spool_check_fails),
		D(test_spool_prepare_over_file),
		D(test_spool_stats_and_tally),
		B(test_instance_health_missing),
		I(test_instance_health_not_a_database),
		I(test_instance_health_old_schema),
		I(test_instance_health_ok),
		D(test_instance_open_bad_config),
	};
#undef D
#undef S
#undef B
#undef I
	return cmocka_run_group_tests(tests, NULL, NULL);
}
