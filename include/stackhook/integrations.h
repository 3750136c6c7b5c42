/*
 * integrations.h - GitLab integrations (SPEC §3): named, typed default or
 * space, with a webhook endpoint derived from the immutable name, a
 * generated webhook secret and a write-only, sealed API token.
 *
 * Rights are checked here (an integration the actor may not list is
 * SH_E_NOT_FOUND, one it may list but not administer SH_E_FORBIDDEN).
 * Writes run their own transaction and are audited; secrets never reach
 * the audit log or an error message.  Objects come back as new cJSON
 * values the caller deletes.
 */
#ifndef STACKHOOK_INTEGRATIONS_H
#define STACKHOOK_INTEGRATIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "stackhook/authz.h"
#include "stackhook/config.h"
#include "stackhook/db.h"
#include "stackhook/json.h"
#include "stackhook/slug.h"
#include "stackhook/spool.h"

/* What the other modules need to know of one integration. */
struct sh_integration_ref {
	int64_t id;
	char slug[SH_SLUG_MAX + 1];
	char space[SH_SLUG_MAX + 1];
	bool is_default;
};

/* Everything a call needs besides the database and the actor. */
struct sh_integration_env {
	const struct sh_config *cfg;     /* public_url, agent pools */
	const unsigned char *secret_key; /* seals tokens and secrets */
	/* The spool read once for a page of many integrations' health; NULL:
	 * sh_integrations_health() reads it for the one. */
	const struct sh_spool_tally *tally;
};

int sh_integrations_list(struct sh_db *db, const struct sh_actor *actor,
			 const struct sh_page *page, cJSON **out,
			 struct sh_err *err);

/* The summary (no secrets), for those who may list it. */
int sh_integrations_get(struct sh_db *db, const struct sh_actor *actor,
			const char *slug, cJSON **out, struct sh_err *err);

/* The summary plus webhook_url, webhook_secret and the GitLab events to
 * enable, for admins of the integration's space (root for the default). */
int sh_integrations_details(struct sh_db *db, const struct sh_integration_env *env,
			    const struct sh_actor *actor, const char *slug,
			    cJSON **out, struct sh_err *err);

/* Creates from body and answers with the details. */
int sh_integrations_create(struct sh_db *db, const struct sh_integration_env *env,
			   const struct sh_actor *actor, const cJSON *body,
			   cJSON **out, struct sh_err *err);

/* A merge patch of anything but the name (SH_E_NAME_IMMUTABLE). */
int sh_integrations_patch(struct sh_db *db, const struct sh_integration_env *env,
			  const struct sh_actor *actor, const char *slug,
			  const cJSON *body, cJSON **out, struct sh_err *err);

/* A new webhook secret; answers with the details. */
int sh_integrations_rotate_secret(struct sh_db *db,
				  const struct sh_integration_env *env,
				  const struct sh_actor *actor, const char *slug,
				  cJSON **out, struct sh_err *err);

/* Deletes the integration and detaches the stacks that used it. */
int sh_integrations_delete(struct sh_db *db, const struct sh_actor *actor,
			   const char *slug, struct sh_err *err);

/* What is known of the integration's health, for its admins. */
int sh_integrations_health(struct sh_db *db, const struct sh_integration_env *env,
			   const struct sh_actor *actor, const char *slug,
			   cJSON **out, struct sh_err *err);

/* Finds a live integration by slug without any rights check (for the
 * modules that already checked).  SH_E_NOT_FOUND when there is none. */
int sh_integrations_find(struct sh_db *db, const char *slug,
			 struct sh_integration_ref *out, struct sh_err *err);

/* What the webhook path needs to verify a delivery. */
struct sh_integration_secrets {
	struct sh_integration_ref ref;
	char *webhook_secret;       /* the X-Gitlab-Token to expect */
	size_t webhook_secret_len;
	unsigned char *signing_key; /* decoded signing_token key, or NULL */
	size_t signing_key_len;
};

/*
 * Opens the secrets of the live integration slug with the secret key.
 * SH_E_NOT_FOUND when there is none (deleted ones included).  Release
 * with sh_integrations_secrets_release(), which wipes them.
 */
int sh_integrations_webhook_secrets(struct sh_db *db,
				    const unsigned char *secret_key,
				    const char *slug,
				    struct sh_integration_secrets *out,
				    struct sh_err *err);

void sh_integrations_secrets_release(struct sh_integration_secrets *s);

/*
 * Seals every integration's GitLab token, webhook secret and signing token
 * (deleted integrations' too) under new_key instead of old_key, in one
 * transaction.  A value that already opens with new_key is left as it is,
 * so that a re-seal interrupted after its commit can be run again.
 * *resealed counts the values changed.  SH_E_CONFIG, and nothing changed,
 * when a value opens with neither key.
 */
int sh_integrations_reseal(struct sh_db *db, const unsigned char *old_key,
			   const unsigned char *new_key, int *resealed,
			   struct sh_err *err);

/* Checks an API host URL: http(s)://host[:port][/path] or
 * private://POOL.  Exposed for the tests. */
int sh_integrations_check_url(const char *url, const char *field,
			      struct sh_err *err);

#endif
