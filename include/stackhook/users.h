/*
 * users.h - people and programs that call the admin API, and their API keys.
 *
 * Writing functions run inside the caller's transaction (sh_db_begin()), so
 * that a change and its audit record commit together.
 */
#ifndef STACKHOOK_USERS_H
#define STACKHOOK_USERS_H

#include <stdint.h>

#include "stackhook/db.h"
#include "stackhook/err.h"

#define SH_USER_NAME_MAX 64
#define SH_KEY_PREFIX_LEN 12 /* "shk_" and 8 characters: shown, not secret */

struct sh_user {
	int64_t id;
	char name[SH_USER_NAME_MAX + 1];
};

struct sh_key_info {
	int64_t id;
	char user[SH_USER_NAME_MAX + 1];
	char prefix[SH_KEY_PREFIX_LEN + 1];
	int64_t created_at;
	int64_t last_used_at; /* 0 = never */
	int64_t revoked_at;   /* 0 = active */
};

/* 0 when name is a valid user name (1-64 of A-Z a-z 0-9 . _ @ + - \);
 * else -1 with err (SH_E_INVALID_FIELD, field as given). */
int sh_user_name_check(const char *name, const char *field, struct sh_err *err);

/* Finds the user called name.  Returns 0 (found), or -1 with err
 * (SH_E_NOT_FOUND when there is none). */
int sh_users_find(struct sh_db *db, const char *name, struct sh_user *out,
		  struct sh_err *err);

/* Finds the user called name, creating it when missing.  *created may be
 * NULL.  Returns 0 or -1 (err set). */
int sh_users_ensure(struct sh_db *db, const char *name, struct sh_user *out,
		    int *created, struct sh_err *err);

/*
 * Makes a new API key for user: 32 CSPRNG bytes, stored only as a SHA-256
 * hash.  *key (freed by the caller) receives the key itself, the only time
 * it exists in the clear; *id its number.  Returns 0 or -1 (err set).
 */
int sh_keys_create(struct sh_db *db, const struct sh_user *user, char **key,
		   int64_t *id, struct sh_err *err);

/* Every key, newest first, in a new array (free() it).  Returns 0 or -1. */
int sh_keys_list(struct sh_db *db, struct sh_key_info **items, size_t *count,
		 struct sh_err *err);

/* Revokes key id; *info (may be NULL) receives it as it was.  Returns 0, or
 * -1 with err (SH_E_NOT_FOUND, or SH_E_CONFLICT when already revoked). */
int sh_keys_revoke(struct sh_db *db, int64_t id, struct sh_key_info *info,
		   struct sh_err *err);

/*
 * Finds the user of an active key.  Returns 0, or -1 with err
 * (SH_E_UNAUTHORIZED for an unknown, malformed or revoked key; the key
 * itself is never in the message).  Notes the key's use at most hourly.
 */
int sh_keys_authenticate(struct sh_db *db, const char *key, struct sh_user *out,
			 struct sh_err *err);

/* The same; *id (may be NULL) receives the key's id, so that what the key
 * opened (a web session) can end when it is revoked. */
int sh_keys_authenticate_id(struct sh_db *db, const char *key,
			    struct sh_user *out, int64_t *id, struct sh_err *err);

#endif
