#include "config.h"

#include <stdio.h>
#include <string.h>

#include "stackhook/deliveries.h"
#include "stackhook/integrations.h"

static const char *const outcome_names[] = {"accepted", "ignored", "duplicate"};

const char *
sh_delivery_outcome_name(enum sh_delivery_outcome outcome)
{
	return (unsigned)outcome <= SH_DELIVERY_DUPLICATE ? outcome_names[outcome] :
							     "ignored";
}

int
sh_deliveries_seen(struct sh_db *db, int64_t integration_id, const char *key,
		   int64_t since, int64_t *id, struct sh_err *err)
{
	static const char sql_find[] =
		"SELECT id FROM deliveries WHERE integration_id = $1 AND key = $2 "
		"AND outcome <> 'duplicate' AND received_at >= $3";
	/* Only the rows the unique key holds matter, and naming them the
	 * way its partial index does keeps this an index lookup. */
	static const char sql_forget[] =
		"DELETE FROM deliveries WHERE integration_id = $1 AND key = $2 "
		"AND outcome <> 'duplicate' AND received_at < $3";
	struct sh_stmt *st;
	int rc = sh_db_query(db, sql_find, &st, err, "iti", integration_id, key,
			     since);

	*id = 0;
	if (rc == 1) {
		*id = sh_stmt_int(st, 0);
		sh_stmt_release(st);
		return 0;
	}
	if (rc < 0)
		return -1;
	return sh_db_run(db, sql_forget, err, "iti", integration_id, key, since) < 0 ?
		       -1 :
		       0;
}

int
sh_deliveries_same_event(struct sh_db *db, const struct sh_delivery_record *r,
			 int64_t since, bool *found, struct sh_err *err)
{
	static const char sql[] =
		"SELECT 1 FROM deliveries WHERE integration_id = $1 AND project_id = $2 "
		"AND kind = $3 AND ref = $4 AND after_sha = $5 "
		"AND coalesce(before_sha, '') = coalesce($6, '') AND key <> $7 "
		"AND outcome <> 'duplicate' AND received_at >= $8 LIMIT 1";
	struct sh_stmt *st;
	int rc;

	*found = false;
	if (r->project_id == 0 || r->ref == NULL || r->after == NULL)
		return 0;
	rc = sh_db_query(db, sql, &st, err, "iittttti", r->integration_id,
			 r->project_id, r->kind, r->ref, r->after, r->before, r->key,
			 since);
	if (rc == 1) {
		*found = true;
		sh_stmt_release(st);
	}
	return rc < 0 ? -1 : 0;
}

int
sh_deliveries_insert(struct sh_db *db, const struct sh_delivery_record *r,
		     int64_t *id, struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO deliveries (integration_id, key, event_uuid, event_header, "
		"kind, project_id, project_path, ref, before_sha, after_sha, outcome, "
		"reason, suspected_duplicate_hook, remote_addr, received_at) VALUES "
		"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
		"RETURNING id";
	struct sh_stmt *st;
	int rc = sh_db_query(db, sql, &st, err, "itttt" "z" "tttttt" "i" "t" "i",
			     r->integration_id, r->key, r->event_uuid,
			     r->event_header, r->kind, r->project_id, r->project_path,
			     r->ref, r->before, r->after,
			     sh_delivery_outcome_name(r->outcome), r->reason,
			     (int64_t)r->suspected_duplicate_hook, r->remote_addr,
			     r->received_at);

	if (rc == 1) {
		*id = sh_stmt_int(st, 0);
		sh_stmt_release(st);
		return 0;
	}
	if (rc == 0)
		sh_err_set(err, SH_E_INTERNAL, NULL, "the delivery was not stored");
	return -1;
}

static cJSON *
delivery_json(struct sh_stmt *st)
{
	cJSON *o = cJSON_CreateObject();
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)sh_stmt_int(st, 0));
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "integration", sh_stmt_text(st, 1));
	cJSON_AddStringToObject(o, "kind", sh_stmt_text(st, 2));
	if (sh_stmt_is_null(st, 3))
		cJSON_AddNullToObject(o, "project");
	else
		cJSON_AddStringToObject(o, "project", sh_stmt_text(st, 3));
	if (sh_stmt_is_null(st, 4))
		cJSON_AddNullToObject(o, "ref");
	else
		cJSON_AddStringToObject(o, "ref", sh_stmt_text(st, 4));
	cJSON_AddStringToObject(o, "outcome", sh_stmt_text(st, 5));
	if (sh_stmt_is_null(st, 6))
		cJSON_AddNullToObject(o, "reason");
	else
		cJSON_AddStringToObject(o, "reason", sh_stmt_text(st, 6));
	cJSON_AddBoolToObject(o, "suspected_duplicate_hook", sh_stmt_int(st, 7) != 0);
	if (sh_stmt_is_null(st, 8))
		cJSON_AddNullToObject(o, "event_uuid");
	else
		cJSON_AddStringToObject(o, "event_uuid", sh_stmt_text(st, 8));
	sh_json_add_time(o, "received_at", sh_stmt_int(st, 9));
	return o;
}

int
sh_deliveries_list(struct sh_db *db, const struct sh_actor *actor,
		   const char *slug, const struct sh_page *page, cJSON **out,
		   struct sh_err *err)
{
	static const char sql[] =
		"SELECT d.id, i.slug, d.kind, d.project_path, d.ref, d.outcome, "
		"d.reason, d.suspected_duplicate_hook, d.event_uuid, d.received_at "
		"FROM deliveries d JOIN integrations i ON i.id = d.integration_id "
		"WHERE d.id < $1 AND ($2 = 0 OR d.integration_id = $2) "
		"ORDER BY d.id DESC LIMIT $3";
	struct sh_integration_ref ref = {0};
	struct sh_authz *az = NULL;
	struct sh_stmt *st = NULL;
	cJSON *items = cJSON_CreateArray();
	long long last = 0;
	int n = 0, rc = -1;

	*out = NULL;
	if (sh_authz_load(db, actor->user_id, &az, err) < 0)
		goto out;
	if (slug != NULL) {
		if (sh_integrations_find(db, slug, &ref, err) < 0 ||
		    !sh_authz_may_list_integration(az, ref.is_default, ref.space)) {
			sh_err_set(err, SH_E_NOT_FOUND, "integration",
				   "there is no integration %.64s", slug);
			goto out;
		}
		if (!sh_authz_may_admin_integration(az, ref.is_default, ref.space)) {
			sh_err_set(err, SH_E_FORBIDDEN, NULL,
				   "deliveries are shown to the integration's admins");
			goto out;
		}
	} else if (!sh_authz_is_root_admin(az)) {
		sh_err_set(err, SH_E_FORBIDDEN, NULL,
			   "only root admins see every delivery; add ?integration=");
		goto out;
	}
	if (sh_db_prepare(db, sql, &st, err) < 0)
		goto out;
	sh_stmt_bind_int(st, 1, page->after > 0 ? page->after : INT64_MAX);
	sh_stmt_bind_int(st, 2, ref.id);
	sh_stmt_bind_int(st, 3, page->limit + 1);
	while ((rc = sh_stmt_step(st, err)) == 1) {
		if (n == page->limit)
			break;
		cJSON_AddItemToArray(items, delivery_json(st));
		last = sh_stmt_int(st, 0);
		n++;
	}
	sh_stmt_release(st);
	if (rc < 0)
		goto out;
	*out = sh_page_result(items, rc == 1 ? last : 0);
	items = NULL;
	rc = 0;
out:
	cJSON_Delete(items);
	sh_authz_free(az);
	return rc < 0 ? -1 : 0;
}

int
sh_deliveries_prune(struct sh_db *db, int64_t cutoff, int64_t *removed,
		    struct sh_err *err)
{
	int64_t n = sh_db_run(db, "DELETE FROM deliveries WHERE received_at < $1",
			      err, "i", cutoff);

	if (n < 0)
		return -1;
	if (removed != NULL)
		*removed = n;
	return 0;
}
