/*
 * ingest.h - the accept path of a GitLab webhook (SPEC §4.1).
 *
 *   sh_ingest_authenticate()  integration by slug (404), X-Gitlab-Token in
 *                             constant time (401) -- before the body is read;
 *   sh_ingest_parse()         signature when the integration signs (401),
 *                             JSON and the event (400), the delivery key;
 *   sh_ingest_commit()        a batch of deliveries: one transaction, one
 *                             spool file, one fsync each -- what the group
 *                             commit of SPEC §8 (committer.h) writes.  Each
 *                             delivery gets its outcome.
 *   sh_ingest_answer()        the JSON answer and status for one delivery.
 *
 * Nothing is stored for a delivery refused before sh_ingest_commit(), and
 * a failed commit leaves neither database rows nor spool files.
 */
#ifndef STACKHOOK_INGEST_H
#define STACKHOOK_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "stackhook/config.h"
#include "stackhook/db.h"
#include "stackhook/deliveries.h"
#include "stackhook/integrations.h"
#include "stackhook/runs.h"
#include "stackhook/webhook.h"

#define SH_DELIVERY_KEY_MAX 128
#define SH_SIGNATURE_TOLERANCE 300 /* seconds either side of now */
#define SH_INGEST_STACKS_MAX 1000  /* stacks one delivery is matched against */

/* The headers of a webhook request, as received (NULL when absent). */
struct sh_webhook_request {
	const char *slug;
	const char *token;             /* X-Gitlab-Token */
	const char *idempotency_key;   /* Idempotency-Key */
	const char *event_uuid;        /* X-Gitlab-Event-UUID */
	const char *event_header;      /* X-Gitlab-Event */
	const char *webhook_id;        /* webhook-id (signed deliveries) */
	const char *webhook_timestamp; /* webhook-timestamp */
	const char *webhook_signature; /* webhook-signature */
	const char *remote_addr;
};

struct sh_ingest_run {
	char id[SH_RUN_ID_LEN + 1];
	char stack[SH_SLUG_MAX + 1];
	enum sh_run_kind kind;
	bool created;
};

/* One delivery on its way through the accept path. */
struct sh_delivery {
	struct sh_integration_secrets secrets;
	const struct sh_webhook_request *request; /* borrowed */
	char key[SH_DELIVERY_KEY_MAX + 8];
	cJSON *body;
	struct sh_event event;

	/* the result of sh_ingest_commit() */
	bool committed;
	enum sh_delivery_outcome outcome;
	int64_t id;
	char reason[SH_REASON_MAX];
	struct sh_ingest_run *runs;
	size_t run_count;
};

/* Zeroes d for a request (kept by pointer). */
void sh_delivery_init(struct sh_delivery *d, const struct sh_webhook_request *req);

/* Frees what d holds and wipes its secrets. */
void sh_delivery_release(struct sh_delivery *d);

int sh_ingest_authenticate(struct sh_db *db, const unsigned char *secret_key,
			   struct sh_delivery *d, struct sh_err *err);

int sh_ingest_parse(struct sh_delivery *d, const char *body, size_t len,
		    struct sh_err *err);

/* What sh_ingest_commit() needs besides the database. */
struct sh_ingest_env {
	const struct sh_config *cfg;
	int64_t now; /* 0 = the clock */
};

/*
 * Stores count deliveries in one transaction and their spool entries in
 * one file.  Returns 0 (each delivery's outcome set), or -1 with err
 * (SH_E_STORAGE and the like): then nothing of the batch was kept.
 */
int sh_ingest_commit(struct sh_db *db, const struct sh_ingest_env *env,
		     struct sh_delivery **batch, size_t count, struct sh_err *err);

/* The answer for a committed delivery: 202 accepted, 200 ignored or
 * duplicate.  Returns a new object. */
cJSON *sh_ingest_answer(const struct sh_delivery *d, int *status);

#endif
