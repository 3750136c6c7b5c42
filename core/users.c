#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/crypto.h"
#include "stackhook/timeutil.h"
#include "stackhook/users.h"

#define KEY_PREFIX "shk_"
#define KEY_RANDOM_BYTES 32
#define KEY_MAX_LEN 128 /* anything longer is not one of ours */
#define LAST_USED_GRANULARITY 3600

int
sh_user_name_check(const char *name, const char *field, struct sh_err *err)
{
	size_t len = strlen(name);

	if (len == 0 || len > SH_USER_NAME_MAX)
		return sh_err_set(err, SH_E_INVALID_FIELD, field,
				  "a user name is 1 to %d characters",
				  SH_USER_NAME_MAX);
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._@+-\\", *p))
			return sh_err_set(err, SH_E_INVALID_FIELD, field,
					  "a user name has only letters, digits "
					  "and . _ @ + - \\");
	return 0;
}

static void
copy_name(char dst[SH_USER_NAME_MAX + 1], const char *src)
{
	snprintf(dst, SH_USER_NAME_MAX + 1, "%s", src ? src : "");
}

int
sh_users_find(struct sh_db *db, const char *name, struct sh_user *out,
	      struct sh_err *err)
{
	static const char sql[] = "SELECT id, name FROM users WHERE name = $1";
	struct sh_stmt *st;
	int rc;

	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_text(st, 1, name);
	rc = sh_stmt_step(st, err);
	if (rc == 1) {
		out->id = sh_stmt_int(st, 0);
		copy_name(out->name, sh_stmt_text(st, 1));
	}
	sh_stmt_release(st);
	if (rc == 0)
		return sh_err_set(err, SH_E_NOT_FOUND, NULL, "no user is called %s",
				  name);
	return rc < 0 ? -1 : 0;
}

int
sh_users_ensure(struct sh_db *db, const char *name, struct sh_user *out,
		int *created, struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO users (name, created_at) VALUES ($1, $2) "
		"ON CONFLICT (name) DO NOTHING";
	struct sh_stmt *st;
	int rc;

	if (sh_user_name_check(name, "user", err) < 0)
		return -1;
	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_text(st, 1, name);
	sh_stmt_bind_int(st, 2, sh_time_now());
	rc = sh_stmt_step(st, err);
	sh_stmt_release(st);
	if (rc < 0)
		return -1;
	if (created != NULL)
		*created = sh_db_changes(db) > 0;
	return sh_users_find(db, name, out, err);
}

int
sh_keys_create(struct sh_db *db, const struct sh_user *user, char **key,
	       int64_t *id, struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO api_keys (user_id, hash, prefix, created_at) "
		"VALUES ($1, $2, $3, $4) RETURNING id";
	char hash[SH_SHA256_HEX_LEN + 1], prefix[SH_KEY_PREFIX_LEN + 1];
	struct sh_stmt *st = NULL;
	char *fresh;
	int rc;

	*key = NULL;
	fresh = sh_crypto_token(KEY_PREFIX, KEY_RANDOM_BYTES, err);
	if (fresh == NULL)
		return -1;
	sh_crypto_sha256_hex(fresh, strlen(fresh), hash);
	snprintf(prefix, sizeof(prefix), "%s", fresh);
	if (sh_db_prepare(db, sql, &st, err) < 0)
		goto fail;
	sh_stmt_bind_int(st, 1, user->id);
	sh_stmt_bind_text(st, 2, hash);
	sh_stmt_bind_text(st, 3, prefix);
	sh_stmt_bind_int(st, 4, sh_time_now());
	rc = sh_stmt_step(st, err);
	if (rc == 1)
		*id = sh_stmt_int(st, 0);
	sh_stmt_release(st);
	if (rc != 1) {
		if (rc == 0)
			sh_err_set(err, SH_E_INTERNAL, NULL, "key was not stored");
		goto fail;
	}
	*key = fresh;
	return 0;
fail:
	sh_crypto_wipe(fresh, strlen(fresh));
	free(fresh);
	return -1;
}

/* The columns read_key_info() reads. */
#define KEY_INFO_SELECT                                                        \
	"SELECT k.id, u.name, k.prefix, k.created_at, "                        \
	"coalesce(k.last_used_at, 0), coalesce(k.revoked_at, 0) "              \
	"FROM api_keys k JOIN users u ON u.id = k.user_id "

static void
read_key_info(struct sh_stmt *st, struct sh_key_info *info)
{
	info->id = sh_stmt_int(st, 0);
	copy_name(info->user, sh_stmt_text(st, 1));
	snprintf(info->prefix, sizeof(info->prefix), "%s",
		 sh_stmt_text(st, 2) ? sh_stmt_text(st, 2) : "");
	info->created_at = sh_stmt_int(st, 3);
	info->last_used_at = sh_stmt_int(st, 4);
	info->revoked_at = sh_stmt_int(st, 5);
}

int
sh_keys_list(struct sh_db *db, struct sh_key_info **items, size_t *count,
	     struct sh_err *err)
{
	static const char sql[] = KEY_INFO_SELECT "ORDER BY k.id DESC";
	struct sh_key_info *list = NULL, *grown;
	struct sh_stmt *st;
	size_t n = 0;
	int rc;

	*items = NULL;
	*count = 0;
	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	while ((rc = sh_stmt_step(st, err)) == 1) {
		grown = realloc(list, (n + 1) * sizeof(*list));
		if (grown == NULL) {
			rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			break;
		}
		list = grown;
		read_key_info(st, &list[n++]);
	}
	sh_stmt_release(st);
	if (rc < 0) {
		free(list);
		return -1;
	}
	*items = list;
	*count = n;
	return 0;
}

int
sh_keys_revoke(struct sh_db *db, int64_t id, struct sh_key_info *info,
	       struct sh_err *err)
{
	static const char sql_find[] = KEY_INFO_SELECT "WHERE k.id = $1";
	static const char sql_revoke[] =
		"UPDATE api_keys SET revoked_at = $1 WHERE id = $2";
	struct sh_key_info found;
	struct sh_stmt *st;
	int rc;

	if (sh_db_prepare(db, sql_find, &st, err) < 0)
		return -1;
	sh_stmt_bind_int(st, 1, id);
	rc = sh_stmt_step(st, err);
	if (rc == 1)
		read_key_info(st, &found);
	sh_stmt_release(st);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no key %lld",
				  (long long)id);
	if (found.revoked_at != 0)
		return sh_err_set(err, SH_E_CONFLICT, NULL,
				  "key %lld is already revoked", (long long)id);
	if (sh_db_prepare(db, sql_revoke, &st, err) < 0)
		return -1;
	sh_stmt_bind_int(st, 1, sh_time_now());
	sh_stmt_bind_int(st, 2, id);
	rc = sh_stmt_step(st, err);
	sh_stmt_release(st);
	if (rc < 0)
		return -1;
	if (info != NULL)
		*info = found;
	return 0;
}

/* Best effort: a busy database must not turn a valid key into a refusal. */
static void
note_key_use(struct sh_db *db, int64_t id, int64_t now)
{
	static const char sql[] =
		"UPDATE api_keys SET last_used_at = $1 WHERE id = $2";
	struct sh_stmt *st;

	if (sh_db_prepare(db, sql, &st, NULL) < 0)
		return;
	sh_stmt_bind_int(st, 1, now);
	sh_stmt_bind_int(st, 2, id);
	sh_stmt_step(st, NULL);
	sh_stmt_release(st);
}

int
sh_keys_authenticate(struct sh_db *db, const char *key, struct sh_user *out,
		     struct sh_err *err)
{
	return sh_keys_authenticate_id(db, key, out, NULL, err);
}

int
sh_keys_authenticate_id(struct sh_db *db, const char *key, struct sh_user *out,
			int64_t *id, struct sh_err *err)
{
	static const char sql[] =
		"SELECT k.id, k.hash, coalesce(k.revoked_at, 0), "
		"coalesce(k.last_used_at, 0), u.id, u.name "
		"FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.hash = $1";
	char hash[SH_SHA256_HEX_LEN + 1];
	struct sh_stmt *st;
	const char *stored;
	int64_t key_id = 0, last_used = 0, now;
	bool valid = false;
	int rc;

	if (strlen(key) > KEY_MAX_LEN ||
	    strncmp(key, KEY_PREFIX, strlen(KEY_PREFIX)) != 0)
		return sh_err_set(err, SH_E_UNAUTHORIZED, NULL,
				  "the API key is not valid");
	/* The lookup is by hash, so its timing says nothing about the key;
	 * the comparison after it is constant-time all the same. */
	sh_crypto_sha256_hex(key, strlen(key), hash);
	if (sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_text(st, 1, hash);
	rc = sh_stmt_step(st, err);
	if (rc == 1) {
		stored = sh_stmt_text(st, 1);
		valid = stored != NULL &&
			sh_crypto_equal(stored, strlen(stored), hash, strlen(hash)) &&
			sh_stmt_int(st, 2) == 0;
		key_id = sh_stmt_int(st, 0);
		last_used = sh_stmt_int(st, 3);
		out->id = sh_stmt_int(st, 4);
		copy_name(out->name, sh_stmt_text(st, 5));
	}
	sh_stmt_release(st);
	if (rc < 0)
		return -1;
	if (!valid)
		return sh_err_set(err, SH_E_UNAUTHORIZED, NULL,
				  "the API key is not valid");
	now = sh_time_now();
	if (now - last_used >= LAST_USED_GRANULARITY)
		note_key_use(db, key_id, now);
	if (id != NULL)
		*id = key_id;
	return 0;
}
