/*
 * deliveries.h - the record of every webhook delivery that passed the
 * token check, with its outcome (SPEC §4.1 steps 5 and 8): the "why did
 * nothing run?" view, and the memory that makes resends harmless.
 */
#ifndef STACKHOOK_DELIVERIES_H
#define STACKHOOK_DELIVERIES_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "stackhook/authz.h"
#include "stackhook/db.h"
#include "stackhook/json.h"

enum sh_delivery_outcome {
	SH_DELIVERY_ACCEPTED,
	SH_DELIVERY_IGNORED,
	SH_DELIVERY_DUPLICATE,
};

const char *sh_delivery_outcome_name(enum sh_delivery_outcome outcome);

/* One delivery as stored. */
struct sh_delivery_record {
	int64_t integration_id;
	const char *key;          /* Idempotency-Key, or "sha256:<hex of body>" */
	const char *event_uuid;   /* X-Gitlab-Event-UUID, recorded only */
	const char *event_header; /* X-Gitlab-Event */
	const char *kind;         /* the body's object_kind */
	int64_t project_id;       /* 0 = unknown */
	const char *project_path;
	const char *ref;
	const char *before;
	const char *after;
	enum sh_delivery_outcome outcome;
	const char *reason;
	bool suspected_duplicate_hook;
	const char *remote_addr;
	int64_t received_at;
};

/*
 * In the caller's transaction: the id of the delivery with the same key
 * received at or after since (0 when none).  Older ones with the key are
 * forgotten, so the key may be used again.
 */
int sh_deliveries_seen(struct sh_db *db, int64_t integration_id,
		       const char *key, int64_t since, int64_t *id,
		       struct sh_err *err);

/* In the caller's transaction: true when another delivery (another key)
 * of the same push or event arrived at or after since -- the sign of a
 * second webhook on one project. */
int sh_deliveries_same_event(struct sh_db *db, const struct sh_delivery_record *r,
			     int64_t since, bool *found, struct sh_err *err);

/* Stores r in the caller's transaction; *id receives its id. */
int sh_deliveries_insert(struct sh_db *db, const struct sh_delivery_record *r,
			 int64_t *id, struct sh_err *err);

/* Recent deliveries, newest first: of one integration (its admins), or of
 * all (root admins) when slug is NULL. */
int sh_deliveries_list(struct sh_db *db, const struct sh_actor *actor,
		       const char *slug, const struct sh_page *page, cJSON **out,
		       struct sh_err *err);

/* Forgets deliveries received before cutoff.  *removed may be NULL. */
int sh_deliveries_prune(struct sh_db *db, int64_t cutoff, int64_t *removed,
			struct sh_err *err);

#endif
