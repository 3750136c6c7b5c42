/*
 * metrics.h - counters kept in the database, and the Prometheus text of
 * GET /metrics (SPEC §4.3).  Every number comes from durable state, so
 * every responder process answers the same.
 */
#ifndef STACKHOOK_METRICS_H
#define STACKHOOK_METRICS_H

#include <stdint.h>

#include "stackhook/buf.h"
#include "stackhook/db.h"
#include "stackhook/err.h"

/* Adds n to counter name, in the caller's transaction or on its own. */
int sh_metrics_add(struct sh_db *db, const char *name, int64_t n,
		   struct sh_err *err);

/* The value of counter name (0 when never counted). */
int64_t sh_metrics_get(struct sh_db *db, const char *name);

/* Renders every metric in Prometheus text format into out. */
int sh_metrics_render(struct sh_db *db, const char *spool, struct sh_buf *out,
		      struct sh_err *err);

#endif
