/*
 * Group commit across processes: see committer.h for the idea.
 *
 * A slot goes FREE -> FILLING (its sender copies the delivery in) ->
 * QUEUED -> TAKEN (a writer holds the lock and commits it) -> DONE (the
 * result is in the slot) -> FREE (its sender has read it).  A sender that
 * gives up at busy_timeout takes a QUEUED slot back to FREE (nothing was
 * kept) or marks a TAKEN one ABANDONED, which its writer frees.  Only the
 * lock holder makes slots TAKEN and it settles all of them before it
 * unlocks, so a TAKEN slot seen by the next holder was left by a writer
 * that died: it is failed, and its sender answers 503.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "stackhook/committer.h"
#include "stackhook/fsutil.h"
#include "stackhook/log.h"
#include "stackhook/schema.h"

#define MAGIC 0x31636873u     /* "shc1" */
#define SLOT_DATA (96 * 1024) /* a delivery's strings and paths; its runs */
#define WAIT_SLICE_MS 50      /* how soon a waiter notices a writer died */
#define RECLAIM_MS 60000      /* a slot held this long lost its process */
/* A batch's wait for the database is what is left of its writer's
 * deadline, rounded down to this: the value then stays the same from one
 * batch to the next (PostgreSQL's SET lock_timeout is a round trip). */
#define BUSY_STEP_MS 100
#define BOOT_ID_LEN 40

enum slot_state { FREE, FILLING, QUEUED, TAKEN, DONE, ABANDONED };

struct slot {
	_Atomic uint32_t state;
	uint32_t ticket;  /* queue order; also tells a reused slot apart */
	int64_t since_ms; /* claimed or settled, on the monotonic clock */

	/* the delivery, written by its sender */
	struct sh_integration_ref integration;
	char key[SH_DELIVERY_KEY_MAX + 8];
	struct sh_event event; /* its paths follow the strings in data */
	uint32_t strings_len;  /* event_uuid, event_header, remote_addr */

	/* the result, written by the batch's writer */
	int32_t rc;
	struct sh_err err;
	enum sh_delivery_outcome outcome;
	int64_t id;
	char reason[SH_REASON_MAX];
	uint32_t run_count;
	unsigned char data[SLOT_DATA]; /* the delivery's; then its runs */
};

struct region {
	uint32_t magic;
	uint32_t size;
	char boot_id[BOOT_ID_LEN]; /* a lock from before a reboot is void */
	pthread_mutex_t writer;
	_Atomic uint32_t epoch; /* futex: bumped when a batch is settled */
	_Atomic uint32_t next_ticket;
	_Atomic int32_t writer_pid;
	struct slot slots[SH_COMMIT_BATCH_MAX];
};

_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t),
	       "the epoch is a futex word");
_Static_assert(SH_INGEST_STACKS_MAX * sizeof(struct sh_ingest_run) <= SLOT_DATA,
	       "a slot holds the answer of a delivery that runs every stack");

struct sh_committer {
	const struct sh_config *cfg;
	struct region *r;
	/* This process's connection for the batches it writes, used only
	 * while holding the lock: one connection whichever thread writes,
	 * so its page cache stays warm from one batch to the next. */
	struct sh_db *db;
};

/* A delivery a writer took from a slot, copied out of it. */
struct taken {
	struct slot *slot;
	struct sh_webhook_request request;
	struct sh_delivery d;
	char *strings;
	int rc;
	struct sh_err err;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
read_boot_id(char out[BOOT_ID_LEN])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	memset(out, 0, BOOT_ID_LEN);
	if (f == NULL)
		return;
	if (fgets(out, BOOT_ID_LEN, f) == NULL)
		memset(out, 0, BOOT_ID_LEN);
	fclose(f);
}

/* Sleeps until the epoch moves on from seen, or ms pass.  Not
 * FUTEX_PRIVATE: the waiters are in other processes. */
static void
wait_epoch(struct region *r, uint32_t seen, int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	syscall(SYS_futex, (uint32_t *)&r->epoch, FUTEX_WAIT, seen, &ts, NULL, 0);
}

static void
bump_epoch(struct region *r)
{
	atomic_fetch_add(&r->epoch, 1);
	syscall(SYS_futex, (uint32_t *)&r->epoch, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* What is left of deadline, in waits of at most WAIT_SLICE_MS. */
static int64_t
remaining(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left > WAIT_SLICE_MS ? WAIT_SLICE_MS : left;
}

static int
init_region(struct region *r, const char boot[BOOT_ID_LEN], struct sh_err *err)
{
	pthread_mutexattr_t attr;
	int rc;

	memset(r, 0, offsetof(struct region, slots));
	for (size_t i = 0; i < SH_COMMIT_BATCH_MAX; i++)
		atomic_store(&r->slots[i].state, FREE);
	if ((rc = pthread_mutexattr_init(&attr)) != 0)
		return sh_err_errno(err, SH_E_STORAGE, rc, "cannot set up the batch lock");
	/* Robust: the kernel hands the lock on when its holder dies. */
	if ((rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED)) != 0 ||
	    (rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST)) != 0 ||
	    (rc = pthread_mutex_init(&r->writer, &attr)) != 0) {
		pthread_mutexattr_destroy(&attr);
		return sh_err_errno(err, SH_E_STORAGE, rc, "cannot set up the batch lock");
	}
	pthread_mutexattr_destroy(&attr);
	memcpy(r->boot_id, boot, BOOT_ID_LEN);
	r->size = sizeof(*r);
	atomic_thread_fence(memory_order_release);
	r->magic = MAGIC;
	return 0;
}

int
sh_committer_open(const struct sh_config *cfg, struct sh_committer **out,
		  struct sh_err *err)
{
	struct sh_committer *c = NULL;
	struct region *r = MAP_FAILED;
	char path[PATH_MAX], boot[BOOT_ID_LEN];
	struct stat st;
	int fd;

	*out = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", cfg->spool,
			     SH_COMMITTER_FILE) >= sizeof(path))
		return sh_err_set(err, SH_E_STORAGE, NULL, "the spool path is too long");
	read_boot_id(boot);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return sh_err_errno(err, SH_E_STORAGE, errno, "cannot open %s", path);
	/* One process sets the file up; the others wait the moment it takes. */
	if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
		sh_err_errno(err, SH_E_STORAGE, errno, "cannot lock %s", path);
		goto fail;
	}
	/* Every block allocated up front: a write to the map can then never
	 * meet a full disk, which would be a SIGBUS rather than an error. */
	if (st.st_size != (off_t)sizeof(*r) &&
	    (ftruncate(fd, 0) < 0 ||
	     (errno = posix_fallocate(fd, 0, sizeof(*r))) != 0)) {
		sh_err_errno(err, SH_E_STORAGE, errno, "cannot size %s", path);
		goto fail;
	}
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r == MAP_FAILED) {
		sh_err_errno(err, SH_E_STORAGE, errno, "cannot map %s", path);
		goto fail;
	}
	if ((r->magic != MAGIC || r->size != sizeof(*r) ||
	     memcmp(r->boot_id, boot, BOOT_ID_LEN) != 0) &&
	    init_region(r, boot, err) < 0)
		goto fail;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		goto fail;
	}
	c->cfg = cfg;
	c->r = r;
	/* Unlocked by hand: the map keeps the open file, and its flock,
	 * alive after close(). */
	flock(fd, LOCK_UN);
	close(fd);
	*out = c;
	return 0;
fail:
	if (r != MAP_FAILED)
		munmap(r, sizeof(*r));
	flock(fd, LOCK_UN);
	close(fd);
	return -1;
}

void
sh_committer_close(struct sh_committer *c)
{
	if (c == NULL)
		return;
	sh_db_close(c->db);
	munmap(c->r, sizeof(*c->r));
	free(c);
}

pid_t
sh_committer_writer(const struct sh_committer *c)
{
	return (pid_t)atomic_load(&c->r->writer_pid);
}

int
sh_committer_pending(const struct sh_committer *c)
{
	int n = 0;

	for (size_t i = 0; i < SH_COMMIT_BATCH_MAX; i++) {
		uint32_t state = atomic_load(&c->r->slots[i].state);

		n += state == QUEUED || state == TAKEN;
	}
	return n;
}

/* ---------------------------------------------------------- a slot ---- */

static size_t
string_size(const char *s)
{
	return s == NULL ? 1 : strlen(s) + 2;
}

/* Bytes d takes in a slot's data: each string as a presence byte and its
 * text with a NUL, then the paths. */
static size_t
packed_size(const struct sh_delivery *d)
{
	const struct sh_webhook_request *q = d->request;

	return string_size(q->event_uuid) + string_size(q->event_header) +
	       string_size(q->remote_addr) + d->event.paths_len;
}

static size_t
pack_string(unsigned char *at, const char *s)
{
	if (s == NULL) {
		at[0] = 0;
		return 1;
	}
	at[0] = 1;
	memcpy(at + 1, s, strlen(s) + 1);
	return strlen(s) + 2;
}

static void
pack(struct slot *s, const struct sh_delivery *d)
{
	const struct sh_webhook_request *q = d->request;
	size_t at = 0;

	s->integration = d->secrets.ref;
	memcpy(s->key, d->key, sizeof(s->key));
	s->event = d->event;
	s->event.paths = NULL;
	at += pack_string(s->data + at, q->event_uuid);
	at += pack_string(s->data + at, q->event_header);
	at += pack_string(s->data + at, q->remote_addr);
	s->strings_len = (uint32_t)at;
	if (d->event.paths_len > 0)
		memcpy(s->data + at, d->event.paths, d->event.paths_len);
}

static const char *
unpack_string(const char **at)
{
	const char *s = *at;

	if (s[0] == 0) {
		*at = s + 1;
		return NULL;
	}
	*at = s + strlen(s + 1) + 2;
	return s + 1;
}

/* Copies the delivery out of t->slot: its data becomes the result. */
static int
unpack(struct taken *t)
{
	const struct slot *s = t->slot;
	struct sh_event *ev = &t->d.event;
	const char *at;

	t->strings = malloc(s->strings_len);
	if (t->strings == NULL)
		return -1;
	memcpy(t->strings, s->data, s->strings_len);
	at = t->strings;
	t->request.event_uuid = unpack_string(&at);
	t->request.event_header = unpack_string(&at);
	t->request.remote_addr = unpack_string(&at);
	sh_delivery_init(&t->d, &t->request);
	t->d.secrets.ref = s->integration;
	t->request.slug = t->d.secrets.ref.slug;
	memcpy(t->d.key, s->key, sizeof(t->d.key));
	*ev = s->event;
	ev->paths = NULL;
	if (ev->paths_len > 0) {
		ev->paths = malloc(ev->paths_len);
		if (ev->paths == NULL) {
			ev->paths_len = 0;
			return -1;
		}
		memcpy(ev->paths, s->data + s->strings_len, ev->paths_len);
	}
	return 0;
}

/* Writes the result of t into its slot and hands the slot back. */
static void
settle(struct taken *t)
{
	struct slot *s = t->slot;
	uint32_t expected = TAKEN;

	s->rc = t->rc;
	if (t->rc < 0) {
		s->err = t->err;
	} else {
		s->outcome = t->d.outcome;
		s->id = t->d.id;
		memcpy(s->reason, t->d.reason, sizeof(s->reason));
		s->run_count = (uint32_t)t->d.run_count;
		if (t->d.run_count > 0)
			memcpy(s->data, t->d.runs,
			       t->d.run_count * sizeof(*t->d.runs));
	}
	s->since_ms = now_ms();
	/* ABANDONED: its sender gave up at busy_timeout and is gone. */
	if (!atomic_compare_exchange_strong(&s->state, &expected, DONE))
		atomic_store(&s->state, FREE);
}

/* Reads the result out of a DONE slot into d and frees the slot. */
static int
collect(struct slot *s, struct sh_delivery *d, struct sh_err *err)
{
	int rc = s->rc;

	if (rc < 0) {
		*err = s->err;
	} else {
		d->outcome = s->outcome;
		d->id = s->id;
		memcpy(d->reason, s->reason, sizeof(d->reason));
		d->run_count = s->run_count;
		d->runs = NULL;
		if (d->run_count > 0) {
			d->runs = malloc(d->run_count * sizeof(*d->runs));
			if (d->runs == NULL) {
				d->run_count = 0;
				rc = sh_err_set(err, SH_E_INTERNAL, NULL,
						"out of memory after the delivery "
						"was stored");
			} else {
				memcpy(d->runs, s->data,
				       d->run_count * sizeof(*d->runs));
			}
		}
		d->committed = rc == 0;
	}
	atomic_store(&s->state, FREE);
	return rc;
}

/* ------------------------------------------------------- the writer --- */

/* Settles what a writer that died left, and slots whose process died. */
static void
recover(struct region *r)
{
	int64_t stale = now_ms() - RECLAIM_MS;

	for (size_t i = 0; i < SH_COMMIT_BATCH_MAX; i++) {
		struct slot *s = &r->slots[i];
		uint32_t state = atomic_load(&s->state);

		if (state == TAKEN) {
			s->rc = -1;
			sh_err_set(&s->err, SH_E_STORAGE, NULL,
				   "the process writing this delivery's batch "
				   "stopped before it finished");
			s->since_ms = now_ms();
			atomic_store(&s->state, DONE);
		} else if (state == ABANDONED ||
			   ((state == FILLING || state == DONE) && s->since_ms < stale)) {
			atomic_store(&s->state, FREE);
		}
	}
}

/* Takes every queued slot, oldest first. */
static size_t
take_queued(struct region *r, struct taken *t)
{
	size_t n = 0;

	for (size_t i = 0; i < SH_COMMIT_BATCH_MAX; i++) {
		struct slot *s = &r->slots[i];
		uint32_t expected = QUEUED;
		size_t j;

		if (!atomic_compare_exchange_strong(&s->state, &expected, TAKEN))
			continue;
		for (j = n; j > 0 && (int32_t)(t[j - 1].slot->ticket - s->ticket) > 0; j--)
			t[j] = t[j - 1];
		memset(&t[j], 0, sizeof(t[j]));
		t[j].slot = s;
		n++;
	}
	return n;
}

/* The writer's connection, opened on first use and again after a
 * storage failure (the file may have been replaced or repaired, or
 * PostgreSQL restarted). */
static int
writer_db(struct sh_committer *c, struct sh_err *err)
{
	if (c->db != NULL && sh_db_alive(c->db))
		return 0;
	sh_db_close(c->db);
	c->db = NULL;
	return sh_schema_open(c->cfg->database, c->cfg->busy_timeout_ms, &c->db,
			      err);
}

static void
fail_all(int *rc, struct sh_err **errs, size_t n, const struct sh_err *err)
{
	for (size_t i = 0; i < n; i++) {
		rc[i] = -1;
		*errs[i] = *err;
	}
}

/* One transaction for the batch; when that fails for another reason than
 * storage, one each, so that one bad delivery does not take its
 * neighbours down with it. */
static void
commit(struct sh_committer *c, int64_t deadline, struct sh_delivery **batch,
       int *rc, struct sh_err **errs, size_t n)
{
	const struct sh_ingest_env env = {.cfg = c->cfg};
	int64_t left = deadline - now_ms();
	struct sh_err err;

	sh_err_clear(&err);
	/* The writer is a sender too: it waits for the database no longer
	 * than its own busy_timeout lasts (the others give up on theirs). */
	if (writer_db(c, &err) < 0 ||
	    sh_db_set_busy_timeout(c->db, left - left % BUSY_STEP_MS, &err) < 0) {
		fail_all(rc, errs, n, &err);
		return;
	}
	if (sh_ingest_commit(c->db, &env, batch, n, &err) == 0) {
		for (size_t i = 0; i < n; i++)
			rc[i] = 0;
		return;
	}
	if (err.code == SH_E_STORAGE) {
		sh_db_close(c->db);
		c->db = NULL;
	}
	if (n == 1 || err.code == SH_E_STORAGE) {
		fail_all(rc, errs, n, &err);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		sh_err_clear(errs[i]);
		rc[i] = sh_ingest_commit(c->db, &env, &batch[i], 1, errs[i]);
	}
}

/*
 * Holding the lock, until deadline (the caller's): commits the queued
 * slots, and own (a delivery too big for a slot, or NULL) with them; its
 * result goes to *own_rc/own_err.
 */
static void
write_batch(struct sh_committer *c, int64_t deadline, struct sh_delivery *own,
	    int *own_rc, struct sh_err *own_err)
{
	struct sh_delivery *batch[SH_COMMIT_BATCH_MAX + 1];
	struct sh_err *errs[SH_COMMIT_BATCH_MAX + 1];
	int rc[SH_COMMIT_BATCH_MAX + 1];
	struct region *r = c->r;
	struct taken *t;
	size_t n, count = 0;

	atomic_store(&r->writer_pid, (int32_t)getpid());
	recover(r);
	t = calloc(SH_COMMIT_BATCH_MAX, sizeof(*t));
	n = t != NULL ? take_queued(r, t) : 0;
	for (size_t i = 0; i < n; i++) {
		if (unpack(&t[i]) < 0) {
			t[i].rc = sh_err_set(&t[i].err, SH_E_INTERNAL, NULL,
					     "out of memory");
			continue;
		}
		batch[count] = &t[i].d;
		errs[count++] = &t[i].err;
	}
	if (own != NULL) {
		batch[count] = own;
		errs[count++] = own_err;
	}
	if (count > 0)
		commit(c, deadline, batch, rc, errs, count);
	for (size_t i = 0, k = 0; i < n; i++) {
		if (t[i].rc == 0 && batch[k] == &t[i].d)
			t[i].rc = rc[k++];
		settle(&t[i]);
		sh_delivery_release(&t[i].d);
		free(t[i].strings);
	}
	if (own != NULL)
		*own_rc = rc[count - 1];
	free(t);
	atomic_store(&r->writer_pid, 0);
}

/* The result of taking the lock: 1 held, 0 not (busy, timed out), -1
 * error. */
static int
locked(struct region *r, int rc, struct sh_err *err)
{
	switch (rc) {
	case 0:
		return 1;
	case EOWNERDEAD:
		/* What its holder left is settled by recover(). */
		pthread_mutex_consistent(&r->writer);
		sh_log(LOG_WARNING, "webhook: a responder died while writing a "
		       "batch of deliveries; they are answered 503 and GitLab "
		       "sends them again");
		return 1;
	case EBUSY:
	case ETIMEDOUT:
		return 0;
	default:
		return sh_err_errno(err, SH_E_STORAGE, rc, "cannot take the batch lock");
	}
}

static void
unlock(struct region *r)
{
	pthread_mutex_unlock(&r->writer);
	/* After the unlock: a woken waiter may take the lock at once. */
	bump_epoch(r);
}

/* A delivery too big for a slot is written by its own process, in the
 * next batch it writes. */
static int
submit_alone(struct sh_committer *c, struct sh_delivery *d, int64_t timeout_ms,
	     struct sh_err *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct timespec until;
	int rc = -1, held;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	held = locked(c->r, pthread_mutex_timedlock(&c->r->writer, &until), err);
	if (held < 0)
		return -1;
	if (held == 0)
		return sh_err_set(err, SH_E_STORAGE, NULL,
				  "another batch of deliveries was still being "
				  "written after busy_timeout (%lld ms)",
				  (long long)timeout_ms);
	write_batch(c, deadline, d, &rc, err);
	unlock(c->r);
	return rc;
}

static struct slot *
claim(struct region *r, int64_t deadline)
{
	for (;;) {
		uint32_t seen = atomic_load(&r->epoch);

		for (size_t i = 0; i < SH_COMMIT_BATCH_MAX; i++) {
			struct slot *s = &r->slots[i];
			uint32_t expected = FREE;

			if (atomic_compare_exchange_strong(&s->state, &expected,
							   FILLING)) {
				s->since_ms = now_ms();
				return s;
			}
		}
		if (remaining(deadline) <= 0)
			return NULL;
		wait_epoch(r, seen, remaining(deadline));
	}
}

/* At busy_timeout: takes the slot back if no writer has it yet. */
static int
give_up(struct sh_committer *c, struct slot *s, struct sh_delivery *d,
	struct sh_err *err)
{
	uint32_t expected = QUEUED;

	if (atomic_compare_exchange_strong(&s->state, &expected, FREE))
		return sh_err_set(err, SH_E_STORAGE, NULL,
				  "no batch took this delivery within busy_timeout "
				  "(%lld ms): the database is busy",
				  (long long)c->cfg->busy_timeout_ms);
	expected = TAKEN;
	if (atomic_compare_exchange_strong(&s->state, &expected, ABANDONED))
		return sh_err_set(err, SH_E_STORAGE, NULL,
				  "this delivery's batch was still being written "
				  "after busy_timeout (%lld ms)",
				  (long long)c->cfg->busy_timeout_ms);
	return collect(s, d, err); /* settled meanwhile */
}

int
sh_committer_submit(struct sh_committer *c, struct sh_delivery *d,
		    struct sh_err *err)
{
	struct region *r = c->r;
	int64_t deadline = now_ms() + c->cfg->busy_timeout_ms;
	struct slot *s;
	uint32_t ticket;

	if (packed_size(d) > SLOT_DATA)
		return submit_alone(c, d, c->cfg->busy_timeout_ms, err);
	s = claim(r, deadline);
	if (s == NULL)
		return sh_err_set(err, SH_E_STORAGE, NULL,
				  "all %d batch slots stayed taken for busy_timeout "
				  "(%lld ms)", SH_COMMIT_BATCH_MAX,
				  (long long)c->cfg->busy_timeout_ms);
	pack(s, d);
	ticket = atomic_fetch_add(&r->next_ticket, 1);
	s->ticket = ticket;
	atomic_store(&s->state, QUEUED);
	for (;;) {
		/* Read before trying the lock: a writer that unlocks after
		 * this moves the epoch on, and the wait returns at once. */
		uint32_t seen = atomic_load(&r->epoch);
		int held;

		if (atomic_load(&s->state) == DONE) {
			if (s->ticket != ticket)
				return sh_err_set(err, SH_E_STORAGE, NULL,
						  "this delivery's slot was taken "
						  "over while it waited");
			return collect(s, d, err);
		}
		/* Past the deadline, a sender no longer starts a batch: its
		 * transaction would wait for the database on top. */
		if (remaining(deadline) <= 0)
			return give_up(c, s, d, err);
		held = locked(r, pthread_mutex_trylock(&r->writer), err);
		if (held < 0) {
			struct sh_err why = *err;

			if (give_up(c, s, d, err) == 0)
				return 0;
			*err = why;
			return -1;
		}
		if (held > 0) {
			write_batch(c, deadline, NULL, NULL, NULL);
			unlock(r);
			continue;
		}
		wait_epoch(r, seen, remaining(deadline));
	}
}
