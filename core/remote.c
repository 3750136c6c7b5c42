#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/crypto.h"
#include "stackhook/remote.h"

static char *
open_secret(const unsigned char *key, struct sh_stmt *st, int col, struct sh_err *err)
{
	const void *sealed;
	size_t sealed_len, len;
	char *plain = NULL;

	if (sh_stmt_is_null(st, col))
		return NULL;
	sealed = sh_stmt_blob(st, col, &sealed_len);
	if (sh_crypto_open(key, sealed, sealed_len, &plain, &len, err) < 0)
		return NULL;
	return plain;
}

static void
wipe_free(char *s)
{
	if (s != NULL)
		sh_crypto_wipe(s, strlen(s));
	free(s);
}

int
sh_remote_load(struct sh_db *db, struct sh_instance *inst, int64_t id,
	       unsigned flags, struct sh_remote *out, struct sh_err *err)
{
	static const char sql[] =
		"SELECT slug, api_host_url, token_sealed, ca_file, secret_sealed, "
		"signing_sealed FROM integrations WHERE id = $1 AND deleted_at IS NULL";
	const unsigned char *key = NULL;
	struct sh_err open_err;
	const char *api, *pool;
	struct sh_stmt *st;
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = id;
	rc = sh_db_query(db, sql, &st, err, "i", id);
	if (rc <= 0)
		return rc;
	out->usable = true;
	snprintf(out->slug, sizeof(out->slug), "%s", sh_stmt_text(st, 0));
	api = sh_stmt_text(st, 1);
	if (strncmp(api, "private://", 10) == 0) {
		pool = sh_config_agent_pool(inst->cfg, api + 10);
		if (pool == NULL)
			snprintf(out->waiting, sizeof(out->waiting),
				 "the config has no agent_pool.%s to reach %s", api + 10,
				 api);
		else
			out->base_url = strdup(pool);
	} else {
		out->base_url = strdup(api);
	}
	if (!sh_stmt_is_null(st, 3))
		out->ca_file = strdup(sh_stmt_text(st, 3));
	sh_err_clear(&open_err);
	if (sh_instance_key(inst, &key, &open_err) == 0)
		out->token = open_secret(key, st, 2, &open_err);
	if (out->token == NULL && out->waiting[0] == '\0') {
		out->waiting_for_token = true;
		snprintf(out->waiting, sizeof(out->waiting), "%.200s",
			 sh_stmt_is_null(st, 2) ? "the integration has no api_token" :
						  open_err.msg);
	}
	if ((flags & SH_REMOTE_HOOK_SECRETS) && key != NULL) {
		out->webhook_secret = open_secret(key, st, 4, &open_err);
		out->signing_token = open_secret(key, st, 5, &open_err);
		if (asprintf(&out->webhook_url, "%s/webhooks/gitlab/%s",
			     inst->cfg->public_url, out->slug) < 0)
			out->webhook_url = NULL;
	}
	sh_stmt_release(st);
	return 0;
}

struct sh_gitlab_target
sh_remote_target(const struct sh_remote *r)
{
	struct sh_gitlab_target t = {r->base_url, r->token, r->ca_file};

	return t;
}

void
sh_remote_release(struct sh_remote *r)
{
	free(r->base_url);
	wipe_free(r->token);
	free(r->ca_file);
	free(r->webhook_url);
	wipe_free(r->webhook_secret);
	wipe_free(r->signing_token);
	memset(r, 0, sizeof(*r));
}

int
sh_remote_each(struct sh_instance *inst, const char *slug, unsigned flags,
	       int (*fn)(struct sh_remote *r, struct sh_db *db, void *arg,
			 struct sh_err *err),
	       void *arg, struct sh_err *err)
{
	static const char sql[] =
		"SELECT id FROM integrations WHERE deleted_at IS NULL "
		"AND (CAST($1 AS TEXT) IS NULL OR slug = $1) ORDER BY id";
	int64_t *ids = NULL;
	struct sh_stmt *st;
	struct sh_db *db;
	size_t n = 0;
	int rc;

	if (sh_instance_db(inst, &db, err) < 0 || sh_db_prepare(db, sql, &st, err) < 0)
		return -1;
	sh_stmt_bind_text(st, 1, slug);
	while ((rc = sh_stmt_step(st, err)) == 1) {
		int64_t *grown = realloc(ids, (n + 1) * sizeof(*ids));

		if (grown == NULL) {
			rc = sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			break;
		}
		ids = grown;
		ids[n++] = sh_stmt_int(st, 0);
	}
	sh_stmt_release(st);
	if (rc == 0 && n == 0 && slug != NULL)
		rc = sh_err_set(err, SH_E_NOT_FOUND, NULL, "there is no integration %.64s",
				slug);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct sh_remote r;

		rc = sh_remote_load(db, inst, ids[i], flags, &r, err);
		if (rc == 0)
			rc = fn(&r, db, arg, err);
		sh_remote_release(&r);
	}
	free(ids);
	return rc < 0 ? -1 : 0;
}
