/*
 * Unit tests for the group commit across processes (committer.c): real
 * processes, a real SQLite store and spool.  Nothing here is timed: the
 * tests hold the database's write lock so that deliveries must queue, and
 * count transactions (the ingest_batches counter) instead of seconds.
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "stackhook/buf.h"
#include "stackhook/committer.h"
#include "stackhook/instance.h"
#include "stackhook/ingest.h"
#include "stackhook/metrics.h"
#include "testutil.h"

#define SENDERS 6
#define EXIT_STORED 0
#define EXIT_REFUSED 3 /* SH_E_STORAGE: the sender would answer 503 */
#define EXIT_BROKEN 1

struct fixture {
	struct tu_dir dir;
	char conf[PATH_MAX];
	struct sh_instance *inst; /* the test's own: it holds the lock */
	struct sh_db *db;
	char *push;               /* push.json's text */
	size_t push_len;
};

/* An integration and a stack following push.json's project. */
static const char seed_sql[] =
	"INSERT INTO integrations (id, slug, name, type, space, api_host_url, "
	"  secret_sealed, created_at, updated_at) "
	"VALUES (1, 'gl', 'GL', 'default', 'root', 'https://gitlab.example', "
	"  x'00', 0, 0);"
	"INSERT INTO stacks (id, name, kind, space, integration_id, namespace, "
	"  repository, project_key, branch, created_at, updated_at) "
	"VALUES ('prod', 'prod', 'stack', 'root', 1, 'mike', 'diaspora', "
	"  'mike/diaspora', 'master', 0, 0);";

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[PATH_MAX];
	struct sh_err err;

	if (f == NULL)
		return -1;
	*state = f;
	sh_err_clear(&err);
	/* Long enough that a blocked writer is still waiting when the test
	 * lets go, short enough that the refusals come soon. */
	if (tu_instance_open(&f->dir, "busy_timeout = 4s\n", true, &f->inst) < 0 ||
	    sh_instance_db(f->inst, &f->db, &err) < 0 ||
	    sh_db_exec(f->db, seed_sql, &err) < 0) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	tu_join(f->conf, f->dir.path, "stackhook.conf");
	tu_join(path, FIXTURES_DIR, "push.json");
	f->push = tu_read_file(path, &f->push_len);
	return f->push != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	if (f == NULL)
		return 0;
	free(f->push);
	rc = tu_instance_close(&f->dir, f->inst);
	free(f);
	return rc;
}

/* d, parsed from body as the webhook route would, under key. */
static void
parse(struct sh_delivery *d, struct sh_webhook_request *req, const char *key,
      const char *body, size_t len)
{
	struct sh_err err;

	memset(req, 0, sizeof(*req));
	req->slug = "gl";
	req->idempotency_key = key;
	req->remote_addr = "127.0.0.1";
	sh_delivery_init(d, req);
	d->secrets.ref.id = 1;
	snprintf(d->secrets.ref.slug, sizeof(d->secrets.ref.slug), "gl");
	sh_err_clear(&err);
	if (sh_ingest_parse(d, body, len, &err) < 0)
		fail_msg("parse: %s", err.msg);
}

/* Submits push.json (text, len) under key through inst; the sender's
 * exit status. */
static int
send_push(struct sh_instance *inst, const char *key, const char *text,
	  size_t len)
{
	struct sh_webhook_request req;
	struct sh_committer *c;
	struct sh_delivery d;
	struct sh_err err;
	int status = EXIT_BROKEN;

	parse(&d, &req, key, text, len);
	sh_err_clear(&err);
	if (sh_instance_committer(inst, &c, &err) == 0) {
		if (sh_committer_submit(c, &d, &err) == 0)
			status = d.committed && d.outcome == SH_DELIVERY_ACCEPTED ?
				 EXIT_STORED : EXIT_BROKEN;
		else if (err.code == SH_E_STORAGE)
			status = EXIT_REFUSED;
	}
	if (status != EXIT_STORED)
		fprintf(stderr, "send_push %s: %s\n", key, err.msg);
	sh_delivery_release(&d);
	return status;
}

static int
send_own(struct fixture *f, const char *key)
{
	return send_push(f->inst, key, f->push, f->push_len);
}

/* The sender process: `test_committer --send CONFIG KEY`. */
static int
sender_main(const char *conf, const char *key)
{
	struct sh_instance *inst;
	char path[PATH_MAX], *text;
	struct sh_err err;
	size_t len;
	int status = EXIT_BROKEN;

	sh_err_clear(&err);
	tu_join(path, FIXTURES_DIR, "push.json");
	text = tu_read_file(path, &len);
	if (text != NULL && sh_instance_open(conf, &inst, &err) == 0) {
		status = send_push(inst, key, text, len);
		sh_instance_free(inst);
	}
	free(text);
	return status;
}

/* A sender in a process of its own, as a mod_fcgid process is: a new
 * program image, not a fork of this one (SQLite's state does not survive
 * a fork). */
static pid_t
spawn_sender(struct fixture *f, const char *key)
{
	pid_t pid = fork();

	if (pid == 0) {
		execl("/proc/self/exe", "test_committer", "--send", f->conf, key,
		      (char *)NULL);
		_exit(127);
	}
	assert_true(pid > 0);
	return pid;
}

static struct sh_committer *
committer(struct fixture *f)
{
	struct sh_committer *c;
	struct sh_err err;

	sh_err_clear(&err);
	if (sh_instance_committer(f->inst, &c, &err) < 0)
		fail_msg("committer: %s", err.msg);
	return c;
}

/* Waits (without a clock: up to a generous number of short naps) until
 * n deliveries are queued or being written, and the writer is known. */
static void
wait_pending(struct fixture *f, int n)
{
	struct sh_committer *c = committer(f);
	const struct timespec nap = {0, 10 * 1000 * 1000};

	for (int i = 0; i < 3000; i++) {
		if (sh_committer_pending(c) == n && sh_committer_writer(c) != 0)
			return;
		nanosleep(&nap, NULL);
	}
	fail_msg("%d deliveries pending, %d expected", sh_committer_pending(c), n);
}

static int
wait_sender(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static int64_t
count_rows(struct fixture *f, const char *sql)
{
	struct sh_stmt *st;
	struct sh_err err;
	int64_t n;

	sh_err_clear(&err);
	if (sh_db_query(f->db, sql, &st, &err, "") != 1)
		fail_msg("%s: %s", sql, err.msg);
	n = sh_stmt_int(st, 0);
	sh_stmt_release(st);
	return n;
}

/* Spool files in dir (new, tmp) of the instance's spool. */
static int
spool_files(struct fixture *f, const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", f->inst->cfg->spool, dir);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Holds the database's write lock, as an admin request or the reporter
 * would, so that the senders must queue behind it. */
static void
hold_write_lock(struct fixture *f)
{
	struct sh_err err;

	sh_err_clear(&err);
	if (sh_db_begin(f->db, &err) < 0)
		fail_msg("begin: %s", err.msg);
}

/* Holds the write lock and starts SENDERS senders (keys k0...), until
 * all of them are queued or being written. */
static void
queue_behind_lock(struct fixture *f, pid_t senders[SENDERS])
{
	char key[16];

	hold_write_lock(f);
	for (int i = 0; i < SENDERS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		senders[i] = spawn_sender(f, key);
	}
	wait_pending(f, SENDERS);
}

static void
test_one_delivery(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(send_own(f, "k1"), EXIT_STORED);
	assert_int_equal(sh_metrics_get(f->db, "ingest_batches"), 1);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM runs"), 1);
	assert_int_equal(spool_files(f, "new"), 1); /* its pending status */
	assert_int_equal(sh_committer_pending(committer(f)), 0);
	assert_int_equal(sh_committer_writer(committer(f)), 0);
}

/* Six processes: one writes (and waits for the lock), five queue behind
 * it and go into the next transaction together. */
static void
test_processes_share_batches(void **state)
{
	struct fixture *f = *state;
	pid_t senders[SENDERS];

	queue_behind_lock(f, senders);
	sh_db_rollback(f->db);
	for (int i = 0; i < SENDERS; i++)
		assert_int_equal(wait_sender(senders[i]), EXIT_STORED);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM deliveries"), SENDERS);
	/* The first writer may have found more than its own slot queued. */
	assert_in_range(sh_metrics_get(f->db, "ingest_batches"), 1, 2);
	/* one run, joined by the other five, one pending status */
	assert_int_equal(count_rows(f, "SELECT count(*) FROM runs"), 1);
	assert_int_equal(spool_files(f, "new"), 1);
	assert_int_equal(spool_files(f, "tmp"), 0);
	assert_int_equal(sh_committer_pending(committer(f)), 0);
}

/* The writer is killed while it waits inside its batch: everyone else is
 * answered (503) within busy_timeout, nothing is stored, and the next
 * delivery goes through. */
static void
test_writer_killed(void **state)
{
	struct fixture *f = *state;
	struct sh_committer *c = committer(f);
	pid_t senders[SENDERS], writer;
	char key[16];

	queue_behind_lock(f, senders);
	writer = sh_committer_writer(c);
	assert_int_equal(kill(writer, SIGKILL), 0);
	for (int i = 0; i < SENDERS; i++)
		assert_int_equal(wait_sender(senders[i]),
				 senders[i] == writer ? -SIGKILL : EXIT_REFUSED);
	sh_db_rollback(f->db);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM deliveries"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM runs"), 0);
	assert_int_equal(spool_files(f, "new"), 0);
	assert_int_equal(spool_files(f, "tmp"), 0);
	assert_int_equal(sh_committer_pending(c), 0);
	/* GitLab sends them again: stored now, none a duplicate */
	for (int i = 0; i < SENDERS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(send_own(f, key), EXIT_STORED);
	}
	assert_int_equal(count_rows(f, "SELECT count(*) FROM deliveries "
				       "WHERE outcome = 'accepted'"), SENDERS);
}

/* A push listing more paths than a slot holds is written by its own
 * process, with the same result. */
static void
test_too_big_for_a_slot(void **state)
{
	struct fixture *f = *state;
	struct sh_buf body = SH_BUF_INIT;
	struct sh_webhook_request req;
	struct sh_committer *c = committer(f);
	struct sh_delivery d;
	struct sh_err err;
	const char *tail = strstr(f->push, "\"commits\"");

	assert_non_null(tail);
	/* every commit listed, one of them touching 3,000 long paths */
	assert_int_equal(sh_buf_append(&body, f->push, (size_t)(tail - f->push)), 0);
	assert_int_equal(sh_buf_puts(&body, "\"total_commits_count\": 1, "
					    "\"commits\": [{\"added\": ["), 0);
	for (int i = 0; i < 3000; i++)
		assert_int_equal(sh_buf_printf(&body, "%s\"infra/modules/network/"
					       "subnets/zone-%04d/main.tf\"",
					       i ? "," : "", i), 0);
	assert_int_equal(sh_buf_puts(&body, "]}]}"), 0);
	parse(&d, &req, "big", body.data, body.len);
	assert_true(d.event.commits_complete);
	assert_true(d.event.paths_len > 128 * 1024);
	sh_err_clear(&err);
	assert_int_equal(sh_committer_submit(c, &d, &err), 0);
	assert_int_equal(d.outcome, SH_DELIVERY_ACCEPTED);
	assert_int_equal(d.run_count, 1);
	assert_string_equal(d.runs[0].stack, "prod");
	sh_delivery_release(&d);
	sh_buf_release(&body);
	assert_int_equal(sh_metrics_get(f->db, "ingest_batches"), 1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_processes_share_batches, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big_for_a_slot, setup,
						teardown),
	};

	if (argc == 4 && strcmp(argv[1], "--send") == 0)
		return sender_main(argv[2], argv[3]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
