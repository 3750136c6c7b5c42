/*
 * sessions.h - signed-in people of the web pages (SPEC §4.4).
 *
 * Signing in takes an API key and opens a server-side session: a random id
 * (from the CSPRNG) that travels only in the browser's cookie -- the table
 * keeps its SHA-256 --, the user, the key that opened it, a CSRF token that
 * every form of the session carries, and an expiry.  A session ends at its
 * expiry, when it is closed (sign-out), or when its API key is revoked.
 *
 * People the web server vouches for (REMOTE_USER) have no session; their
 * forms carry sh_sessions_remote_csrf(), which only the holder of the
 * secret key can compute.
 */
#ifndef STACKHOOK_SESSIONS_H
#define STACKHOOK_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "stackhook/crypto.h"
#include "stackhook/db.h"
#include "stackhook/err.h"
#include "stackhook/users.h"

#define SH_SESSION_TTL (12 * 60 * 60) /* seconds a session lasts */
#define SH_SESSION_COOKIE "stackhook_session"
#define SH_SESSION_ID_MAX 64   /* longest cookie value sessions hand out */
#define SH_SESSION_CSRF_MAX 64 /* longest CSRF token, without the NUL */

struct sh_session {
	struct sh_user user;
	char csrf[SH_SESSION_CSRF_MAX + 1];
	int64_t created_at;
	int64_t expires_at;
};

/*
 * Signs in with api_key: authenticates it (SH_E_UNAUTHORIZED when it is
 * not a valid, active key; the key is never in a message), forgets expired
 * sessions and opens a new one lasting SH_SESSION_TTL from now, in one
 * transaction.  *id receives the session id -- the cookie's value, the only
 * time it exists in the clear --, freed by the caller with
 * sh_sessions_id_free(); *out the session.  Returns 0 or -1 (err set;
 * *id NULL).
 */
int sh_sessions_open(struct sh_db *db, const char *api_key, int64_t now,
		     char **id, struct sh_session *out, struct sh_err *err);

/*
 * Finds the live session whose id is id (a cookie's value, untrusted).
 * Returns 0 with *out, or -1 with err: SH_E_UNAUTHORIZED when there is none
 * -- unknown, malformed, expired, or its API key revoked --, else the
 * store's error.
 */
int sh_sessions_find(struct sh_db *db, const char *id, int64_t now,
		     struct sh_session *out, struct sh_err *err);

/* Signs out: deletes the session whose id is id (nothing when there is
 * none).  Returns 0 or -1 (err set). */
int sh_sessions_close(struct sh_db *db, const char *id, struct sh_err *err);

/* Forgets sessions that expired before now; *removed may be NULL. */
int sh_sessions_prune(struct sh_db *db, int64_t now, int64_t *removed,
		      struct sh_err *err);

/* true when token (a form's value, untrusted; NULL is false) is the
 * expected CSRF token; the time taken does not depend on where they
 * differ. */
bool sh_sessions_csrf_valid(const char *expected, const char *token);

/*
 * The CSRF token of a person the web server vouches for (REMOTE_USER):
 * HMAC-SHA256 under the secret key of the user's name, in hex, into out.
 * Returns 0 or -1 (err set).
 */
int sh_sessions_remote_csrf(const unsigned char key[SH_SECRET_KEY_LEN],
			    const char *user, char out[SH_SESSION_CSRF_MAX + 1],
			    struct sh_err *err);

/* Wipes and frees a session id from sh_sessions_open().  NULL is allowed. */
void sh_sessions_id_free(char *id);

#endif
