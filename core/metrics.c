#include "config.h"

#include <stdio.h>

#include "stackhook/metrics.h"
#include "stackhook/spool.h"
#include "stackhook/timeutil.h"

int
sh_metrics_add(struct sh_db *db, const char *name, int64_t n, struct sh_err *err)
{
	static const char sql[] =
		"INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) "
		"DO UPDATE SET value = counters.value + excluded.value";

	return sh_db_run(db, sql, err, "ti", name, n) < 0 ? -1 : 0;
}

int64_t
sh_metrics_get(struct sh_db *db, const char *name)
{
	static const char sql[] = "SELECT value FROM counters WHERE name = $1";
	struct sh_stmt *st;
	int64_t v = 0;

	if (sh_db_query(db, sql, &st, NULL, "t", name) == 1) {
		v = sh_stmt_int(st, 0);
		sh_stmt_release(st);
	}
	return v;
}

static void
family(struct sh_buf *out, const char *name, const char *type, const char *help)
{
	sh_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int64_t
runs_in(struct sh_db *db, const char *state)
{
	static const char sql[] = "SELECT count(*) FROM runs WHERE state = $1";
	struct sh_stmt *st;
	int64_t n = 0;

	if (sh_db_query(db, sql, &st, NULL, "t", state) == 1) {
		n = sh_stmt_int(st, 0);
		sh_stmt_release(st);
	}
	return n;
}

int
sh_metrics_render(struct sh_db *db, const char *spool, struct sh_buf *out,
		  struct sh_err *err)
{
	static const char *const outcomes[] = {"accepted", "ignored", "duplicate",
					       "refused"};
	static const char *const states[] = {
		"queued", "preparing", "planning", "unconfirmed", "confirmed",
		"applying", "finished", "failed", "canceled", "discarded"};
	static const char *const results[] = {"sent", "coalesced", "deferred",
					      "failed"};
	struct sh_spool_stats stats;
	char name[64];

	if (sh_spool_stats(spool, 0, &stats, err) < 0)
		return -1;
	family(out, "stackhook_deliveries_total", "counter",
	       "Webhook deliveries by outcome (refused: answered 4xx).");
	for (size_t i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "deliveries_%s", outcomes[i]);
		sh_buf_printf(out, "stackhook_deliveries_total{outcome=\"%s\"} %lld\n",
			      outcomes[i], (long long)sh_metrics_get(db, name));
	}
	family(out, "stackhook_ingest_batches_total", "counter",
	       "Transactions that stored deliveries (group commit: several "
	       "deliveries share one).");
	sh_buf_printf(out, "stackhook_ingest_batches_total %lld\n",
		      (long long)sh_metrics_get(db, "ingest_batches"));
	family(out, "stackhook_runs", "gauge", "Runs by state.");
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		sh_buf_printf(out, "stackhook_runs{state=\"%s\"} %lld\n", states[i],
			      (long long)runs_in(db, states[i]));
	family(out, "stackhook_spool_entries", "gauge",
	       "GitLab updates in the spool, by directory.");
	for (int i = 0; i < SH_SPOOL_DIR_COUNT; i++)
		sh_buf_printf(out, "stackhook_spool_entries{dir=\"%s\"} %ld\n",
			      sh_spool_dirs[i], stats.entries[i]);
	family(out, "stackhook_spool_oldest_seconds", "gauge",
	       "Age of the oldest update waiting to be sent.");
	sh_buf_printf(out, "stackhook_spool_oldest_seconds %lld\n",
		      stats.oldest ? (long long)(sh_time_now() - stats.oldest) : 0LL);
	family(out, "stackhook_reports_total", "counter",
	       "Updates the reporter handled, by result.");
	for (size_t i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "reports_%s", results[i]);
		sh_buf_printf(out, "stackhook_reports_total{result=\"%s\"} %lld\n",
			      results[i], (long long)sh_metrics_get(db, name));
	}
	family(out, "stackhook_webhook_resends_total", "counter",
	       "Failed deliveries the reporter asked GitLab to send again.");
	sh_buf_printf(out, "stackhook_webhook_resends_total %lld\n",
		      (long long)sh_metrics_get(db, "webhook_resends"));
	family(out, "stackhook_storage_refusals_total", "counter",
	       "Deliveries answered 503 because storage refused the write.");
	sh_buf_printf(out, "stackhook_storage_refusals_total %lld\n",
		      (long long)sh_metrics_get(db, "storage_refusals"));
	return 0;
}
