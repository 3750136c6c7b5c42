#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/committer.h"
#include "stackhook/db.h"
#include "stackhook/log.h"

/* A delivery waiting for its batch, on its request thread's stack. */
struct waiter {
	struct sh_delivery *delivery;
	struct waiter *next;
	bool done;
	int rc;
	struct sh_err err;
};

struct sh_committer {
	const struct sh_config *cfg;
	struct sh_db *db;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;  /* the queue has something, or stop */
	pthread_cond_t done;  /* a batch finished */
	struct waiter *head, *tail;
	bool stopping;
};

/* Commits one batch; on a failure of several, retries them one by one so
 * that one bad delivery does not take its neighbours down with it. */
static void
commit_batch(struct sh_committer *c, struct waiter **batch, size_t n)
{
	const struct sh_ingest_env env = {.cfg = c->cfg};
	struct sh_db_options opt = {.busy_timeout_ms = c->cfg->busy_timeout_ms};
	struct sh_delivery *deliveries[SH_COMMIT_BATCH_MAX];
	struct sh_err err;

	for (size_t i = 0; i < n; i++)
		deliveries[i] = batch[i]->delivery;
	sh_err_clear(&err);
	/* Opened on demand, and again after a storage failure, like the
	 * request threads' connections: a missing database is a 503, not a
	 * dead responder. */
	if (c->db != NULL && !sh_db_alive(c->db)) {
		sh_db_close(c->db);
		c->db = NULL;
	}
	if (c->db == NULL && sh_db_open(c->cfg->database, &opt, &c->db, &err) < 0) {
		for (size_t i = 0; i < n; i++) {
			batch[i]->rc = -1;
			batch[i]->err = err;
		}
		return;
	}
	if (sh_ingest_commit(c->db, &env, deliveries, n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			batch[i]->rc = 0;
		return;
	}
	if (n == 1 || err.code == SH_E_STORAGE) {
		for (size_t i = 0; i < n; i++) {
			batch[i]->rc = -1;
			batch[i]->err = err;
		}
		if (err.code == SH_E_STORAGE) {
			sh_db_close(c->db);
			c->db = NULL;
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		sh_err_clear(&batch[i]->err);
		batch[i]->rc = sh_ingest_commit(c->db, &env, &deliveries[i], 1,
						&batch[i]->err);
	}
}

static void *
run(void *arg)
{
	struct sh_committer *c = arg;
	struct waiter *batch[SH_COMMIT_BATCH_MAX];

	pthread_mutex_lock(&c->lock);
	for (;;) {
		size_t n = 0;

		while (c->head == NULL && !c->stopping)
			pthread_cond_wait(&c->work, &c->lock);
		if (c->head == NULL)
			break;
		while (c->head != NULL && n < SH_COMMIT_BATCH_MAX) {
			batch[n++] = c->head;
			c->head = c->head->next;
		}
		if (c->head == NULL)
			c->tail = NULL;
		pthread_mutex_unlock(&c->lock);
		commit_batch(c, batch, n);
		pthread_mutex_lock(&c->lock);
		for (size_t i = 0; i < n; i++)
			batch[i]->done = true;
		pthread_cond_broadcast(&c->done);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int
sh_committer_start(const struct sh_config *cfg, struct sh_committer **out,
		   struct sh_err *err)
{
	struct sh_committer *c;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	c->cfg = cfg;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->work, NULL);
	pthread_cond_init(&c->done, NULL);
	if (pthread_create(&c->thread, NULL, run, c) != 0) {
		sh_db_close(c->db);
		pthread_mutex_destroy(&c->lock);
		pthread_cond_destroy(&c->work);
		pthread_cond_destroy(&c->done);
		free(c);
		return sh_err_set(err, SH_E_INTERNAL, NULL, "cannot start a thread");
	}
	*out = c;
	return 0;
}

int
sh_committer_submit(struct sh_committer *c, struct sh_delivery *d,
		    struct sh_err *err)
{
	struct waiter w = {.delivery = d};

	pthread_mutex_lock(&c->lock);
	if (c->stopping) {
		pthread_mutex_unlock(&c->lock);
		return sh_err_set(err, SH_E_STORAGE, NULL, "the responder is stopping");
	}
	if (c->tail != NULL)
		c->tail->next = &w;
	else
		c->head = &w;
	c->tail = &w;
	pthread_cond_signal(&c->work);
	while (!w.done)
		pthread_cond_wait(&c->done, &c->lock);
	pthread_mutex_unlock(&c->lock);
	if (w.rc < 0 && err != NULL)
		*err = w.err;
	return w.rc;
}

void
sh_committer_stop(struct sh_committer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = true;
	pthread_cond_signal(&c->work);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	sh_db_close(c->db);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->work);
	pthread_cond_destroy(&c->done);
	free(c);
}
