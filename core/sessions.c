#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/sessions.h"

#define ID_PREFIX "shs_"
#define ID_RANDOM_BYTES 32   /* 43 base64url characters */
#define CSRF_RANDOM_BYTES 32
#define CSRF_CONTEXT "stackhook csrf\n"

/* A session id as sh_sessions_open() makes them; anything else is not
 * looked up at all. */
static bool
id_well_formed(const char *id)
{
	size_t len = strlen(id);

	if (len <= strlen(ID_PREFIX) || len > SH_SESSION_ID_MAX ||
	    strncmp(id, ID_PREFIX, strlen(ID_PREFIX)) != 0)
		return false;
	return strspn(id + strlen(ID_PREFIX),
		      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789-_") == len - strlen(ID_PREFIX);
}

void
sh_sessions_id_free(char *id)
{
	if (id == NULL)
		return;
	sh_crypto_wipe(id, strlen(id));
	free(id);
}

int
sh_sessions_prune(struct sh_db *db, int64_t now, int64_t *removed,
		  struct sh_err *err)
{
	int64_t n = sh_db_run(db, "DELETE FROM sessions WHERE expires_at <= $1", err,
			      "i", now);

	if (n < 0)
		return -1;
	if (removed != NULL)
		*removed = n;
	return 0;
}

int
sh_sessions_open(struct sh_db *db, const char *api_key, int64_t now, char **id,
		 struct sh_session *out, struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO sessions (hash, user_id, key_id, csrf, created_at, "
		"expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
	char hash[SH_SHA256_HEX_LEN + 1];
	char *csrf = NULL;
	int64_t key_id = 0;

	*id = NULL;
	memset(out, 0, sizeof(*out));
	if (sh_keys_authenticate_id(db, api_key, &out->user, &key_id, err) < 0)
		return -1;
	*id = sh_crypto_token(ID_PREFIX, ID_RANDOM_BYTES, err);
	csrf = sh_crypto_token("", CSRF_RANDOM_BYTES, err);
	if (*id == NULL || csrf == NULL)
		goto fail_nodb;
	snprintf(out->csrf, sizeof(out->csrf), "%s", csrf);
	out->created_at = now;
	out->expires_at = now + SH_SESSION_TTL;
	sh_crypto_sha256_hex(*id, strlen(*id), hash);
	if (sh_db_begin(db, err) < 0)
		goto fail_nodb;
	if (sh_sessions_prune(db, now, NULL, err) < 0 ||
	    sh_db_run(db, sql, err, "tiitii", hash, out->user.id, key_id, csrf,
		      out->created_at, out->expires_at) < 0 ||
	    sh_db_commit(db, err) < 0) {
		sh_db_rollback(db);
		goto fail_nodb;
	}
	sh_sessions_id_free(csrf);
	return 0;
fail_nodb:
	sh_sessions_id_free(csrf);
	sh_sessions_id_free(*id);
	*id = NULL;
	memset(out, 0, sizeof(*out));
	return -1;
}

int
sh_sessions_find(struct sh_db *db, const char *id, int64_t now,
		 struct sh_session *out, struct sh_err *err)
{
	static const char sql[] =
		"SELECT s.hash, s.csrf, s.created_at, s.expires_at, u.id, u.name "
		"FROM sessions s JOIN users u ON u.id = s.user_id "
		"JOIN api_keys k ON k.id = s.key_id "
		"WHERE s.hash = $1 AND s.expires_at > $2 AND k.revoked_at IS NULL";
	char hash[SH_SHA256_HEX_LEN + 1];
	struct sh_stmt *st;
	const char *stored;
	bool valid = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (id == NULL || !id_well_formed(id))
		return sh_err_set(err, SH_E_UNAUTHORIZED, NULL,
				  "the session has ended; sign in again");
	sh_crypto_sha256_hex(id, strlen(id), hash);
	rc = sh_db_query(db, sql, &st, err, "ti", hash, now);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		/* Found by its hash, so the lookup's timing says nothing of
		 * the id; the comparison is constant-time all the same. */
		stored = sh_stmt_text(st, 0);
		valid = stored != NULL &&
			sh_crypto_equal(stored, strlen(stored), hash, strlen(hash));
		snprintf(out->csrf, sizeof(out->csrf), "%s", sh_stmt_text(st, 1));
		out->created_at = sh_stmt_int(st, 2);
		out->expires_at = sh_stmt_int(st, 3);
		out->user.id = sh_stmt_int(st, 4);
		snprintf(out->user.name, sizeof(out->user.name), "%s",
			 sh_stmt_text(st, 5));
		sh_stmt_release(st);
	}
	if (!valid) {
		memset(out, 0, sizeof(*out));
		return sh_err_set(err, SH_E_UNAUTHORIZED, NULL,
				  "the session has ended; sign in again");
	}
	return 0;
}

int
sh_sessions_close(struct sh_db *db, const char *id, struct sh_err *err)
{
	char hash[SH_SHA256_HEX_LEN + 1];

	if (id == NULL || !id_well_formed(id))
		return 0;
	sh_crypto_sha256_hex(id, strlen(id), hash);
	return sh_db_run(db, "DELETE FROM sessions WHERE hash = $1", err, "t",
			 hash) < 0 ? -1 : 0;
}

bool
sh_sessions_csrf_valid(const char *expected, const char *token)
{
	if (expected == NULL || token == NULL || expected[0] == '\0')
		return false;
	return sh_crypto_equal(expected, strlen(expected), token, strlen(token));
}

int
sh_sessions_remote_csrf(const unsigned char key[SH_SECRET_KEY_LEN],
			const char *user, char out[SH_SESSION_CSRF_MAX + 1],
			struct sh_err *err)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[SH_SHA256_LEN];
	char data[sizeof(CSRF_CONTEXT) + SH_USER_NAME_MAX + 1];
	int n = snprintf(data, sizeof(data), CSRF_CONTEXT "%s", user);

	out[0] = '\0';
	if (n < 0 || (size_t)n >= sizeof(data))
		return sh_err_set(err, SH_E_INTERNAL, NULL, "user name too long");
	if (sh_crypto_hmac_sha256(key, SH_SECRET_KEY_LEN, data, (size_t)n, mac,
				  err) < 0)
		return -1;
	for (size_t i = 0; i < SH_SHA256_LEN; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[2 * SH_SHA256_LEN] = '\0';
	return 0;
}
