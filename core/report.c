#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stackhook/crypto.h"
#include "stackhook/deliveries.h"
#include "stackhook/fsutil.h"
#include "stackhook/log.h"
#include "stackhook/metrics.h"
#include "stackhook/remote.h"
#include "stackhook/report.h"
#include "stackhook/spool.h"
#include "stackhook/timeutil.h"
#include "stackhook/transitions.h"
#include "stackhook/updates.h"

#define SPOOL_FILE_MAX (64u << 20) /* a batch file larger than this is not ours */
#define NOTE_PAGES_MAX 5           /* pages of notes searched for our marker */

enum fate {
	F_KEEP,      /* not due: stays where it is */
	F_SENT,      /* done at GitLab */
	F_COALESCED, /* superseded by a newer entry with the same key */
	F_DEFERRED,  /* try again later */
	F_FAILED,    /* given up on, kept in failed/ */
};

struct source {
	char name[256];
	bool deferred; /* from deferred/, else new/ */
	bool touched;  /* some entry of it changed fate: rewrite the file */
	bool written;  /* rewritten already */
	size_t due;    /* its entries still to send in this pass */
};

struct entry {
	cJSON *json;
	size_t source;
	size_t line;
	int64_t created;
	int64_t next_attempt;
	int attempts;
	int64_t integration;
	const char *kind;
	const char *key;
	enum fate fate;
	bool tried;          /* a request went out (counts as an attempt) */
	long retry_after;
	char reason[320];
};

/* What the pass knows of one integration. */
struct target {
	struct sh_remote remote;
	int64_t throttled_until;
	int problems[3];      /* credentials, unreachable, rejected */
	char last_problem[3][256];
};

enum problem { P_CREDENTIALS, P_UNREACHABLE, P_REJECTED };
static const char *const problem_names[] = {"credentials", "unreachable", "rejected"};

struct pass {
	struct sh_instance *inst;
	struct sh_db *db;
	struct sh_gitlab *gl;
	const struct sh_report_options *opt;
	struct sh_report_stats *stats;
	int64_t now;
	struct source *sources;
	size_t source_count;
	struct entry *entries;
	size_t entry_count;
	struct target *targets;
	size_t target_count;
	/* new/ and deferred/ have removals not yet fsynced (see settle). */
	bool unsettled[2];
};

/* ---------------------------------------------------------- loading ---- */

static int
add_source(struct pass *p, const char *name, bool deferred, size_t *index)
{
	struct source *grown = realloc(p->sources, (p->source_count + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	p->sources = grown;
	memset(&grown[p->source_count], 0, sizeof(*grown));
	snprintf(grown[p->source_count].name, sizeof(grown->name), "%s", name);
	grown[p->source_count].deferred = deferred;
	*index = p->source_count++;
	return 0;
}

static int64_t
get_int(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNumber(item) ? (int64_t)item->valuedouble : 0;
}

static int
add_entry(struct pass *p, size_t source, size_t line, const char *text, size_t len)
{
	struct entry *grown = realloc(p->entries, (p->entry_count + 1) * sizeof(*grown));
	struct entry *e;

	if (grown == NULL)
		return -1;
	p->entries = grown;
	e = &grown[p->entry_count++];
	memset(e, 0, sizeof(*e));
	e->source = source;
	e->line = line;
	e->json = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsObject(e->json) || cJSON_GetObjectItem(e->json, "kind") == NULL ||
	    cJSON_GetObjectItem(e->json, "request") == NULL) {
		/* Kept, never dropped: failed/ gets the text as it was. */
		cJSON_Delete(e->json);
		e->json = cJSON_CreateObject();
		cJSON_AddItemToObject(e->json, "raw",
				      cJSON_CreateString(len < 65536 ? text : "(too long)"));
		e->fate = F_FAILED;
		snprintf(e->reason, sizeof(e->reason), "not a valid spool entry");
		p->sources[source].touched = true;
		p->stats->failed++;
		return 0;
	}
	e->created = get_int(e->json, "created");
	e->next_attempt = get_int(e->json, "next_attempt");
	e->attempts = (int)get_int(e->json, "attempts");
	e->integration = get_int(e->json, "integration");
	e->kind = cJSON_GetStringValue(cJSON_GetObjectItem(e->json, "kind"));
	e->key = cJSON_GetStringValue(cJSON_GetObjectItem(e->json, "key"));
	if (e->kind == NULL)
		e->kind = "";
	return 0;
}

static char *
read_file(const char *path, size_t *len)
{
	struct sh_buf buf = SH_BUF_INIT;
	char chunk[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	sh_buf_init(&buf, SPOOL_FILE_MAX);
	while ((n = sh_fs_read_full(fd, chunk, sizeof(chunk))) > 0)
		if (sh_buf_append(&buf, chunk, (size_t)n) < 0) {
			n = -1;
			break;
		}
	close(fd);
	if (n < 0) {
		sh_buf_release(&buf);
		return NULL;
	}
	*len = buf.len;
	return sh_buf_detach(&buf);
}

static int
load_dir(struct pass *p, const char *dir, bool deferred, struct sh_err *err)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", p->inst->cfg->spool, dir);
	d = opendir(path);
	if (d == NULL)
		return sh_err_errno(err, SH_E_STORAGE, errno, "cannot read %s", path);
	while ((de = readdir(d)) != NULL) {
		char file[PATH_MAX];
		size_t len = 0, index, line = 0;
		char *text, *start;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(file, sizeof(file), "%s/%s", path, de->d_name) >=
		    (int)sizeof(file))
			continue;
		text = read_file(file, &len);
		if (text == NULL) {
			sh_log(LOG_ERR, "report: cannot read %s: %s", file, strerror(errno));
			continue;
		}
		if (add_source(p, de->d_name, deferred, &index) < 0) {
			free(text);
			closedir(d);
			return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		}
		for (start = text; start < text + len;) {
			char *nl = memchr(start, '\n', (size_t)(text + len - start));
			size_t n = nl ? (size_t)(nl - start) : (size_t)(text + len - start);

			if (n > 0 && add_entry(p, index, line++, start, n) < 0) {
				free(text);
				closedir(d);
				return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			}
			start += n + 1;
		}
		free(text);
	}
	closedir(d);
	return 0;
}

/* ------------------------------------------------------- recovering ---- */

/* A tmp/ file older than a writer could hold it: its transaction either
 * committed (its runs exist: publish it) or not (remove it). */
static void
recover_tmp(struct pass *p)
{
	static const char sql_committed[] = "SELECT 1 FROM spool_batches WHERE name = $1";
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tmp", p->inst->cfg->spool);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char path[PATH_MAX], to[PATH_MAX];
		struct stat st;
		size_t len = 0;
		char *text;
		struct sh_stmt *st_row;
		bool committed = false;

		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_mtime > p->now - SH_TMP_RECOVER_AGE)
			continue;
		/* Committed means: the transaction recorded the file's name, and
		 * the file is whole (it was fsynced before that commit). */
		text = read_file(path, &len);
		if (text != NULL && len > 0 && text[len - 1] == '\n' &&
		    sh_db_query(p->db, sql_committed, &st_row, NULL, "t", de->d_name) == 1) {
			committed = true;
			sh_stmt_release(st_row);
		}
		free(text);
		snprintf(to, sizeof(to), "%s/new/%s", p->inst->cfg->spool, de->d_name);
		if (p->opt->dry_run)
			continue;
		if (committed && rename(path, to) == 0) {
			p->stats->recovered++;
			sh_log(LOG_NOTICE, "report: recovered %s into new/", de->d_name);
		} else if (!committed) {
			unlink(path);
		}
	}
	closedir(d);
	if (p->stats->recovered > 0) {
		snprintf(dir, sizeof(dir), "%s/new", p->inst->cfg->spool);
		sh_fs_fsync_dir(dir, true, NULL);
	}
}

/* ------------------------------------------------------- coalescing ---- */

static struct pass *sort_pass;

/* Oldest first: creation time, then file, then line. */
static int
by_age(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c;

	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	c = strcmp(sort_pass->sources[x->source].name, sort_pass->sources[y->source].name);
	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Among entries with the same key only the newest is sent. */
static void
coalesce(struct pass *p)
{
	for (size_t i = p->entry_count; i-- > 0;) {
		struct entry *newer = &p->entries[i];

		if (newer->key == NULL || newer->fate == F_FAILED ||
		    newer->fate == F_COALESCED)
			continue;
		for (size_t j = 0; j < i; j++) {
			struct entry *older = &p->entries[j];

			if (older->fate != F_KEEP || older->key == NULL ||
			    strcmp(older->key, newer->key) != 0)
				continue;
			older->fate = F_COALESCED;
			p->sources[older->source].touched = true;
			p->stats->coalesced++;
		}
	}
}

/* ---------------------------------------------------------- targets ---- */

static void
free_targets(struct pass *p)
{
	for (size_t i = 0; i < p->target_count; i++)
		sh_remote_release(&p->targets[i].remote);
	free(p->targets);
}

static struct target *
target_of(struct pass *p, int64_t id, struct sh_err *err)
{
	struct target *grown;

	for (size_t i = 0; i < p->target_count; i++)
		if (p->targets[i].remote.id == id)
			return &p->targets[i];
	grown = realloc(p->targets, (p->target_count + 1) * sizeof(*grown));
	if (grown == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		return NULL;
	}
	p->targets = grown;
	memset(&grown[p->target_count], 0, sizeof(*grown));
	if (sh_remote_load(p->db, p->inst, id, 0, &grown[p->target_count].remote,
			   err) < 0)
		return NULL;
	return &p->targets[p->target_count++];
}

/* ---------------------------------------------------------- sending ---- */

enum result {
	R_DONE,
	R_DEFER,        /* transient: 409, 5xx, transport */
	R_CREDENTIALS,  /* 401, 403: deferred, shown in health */
	R_THROTTLED,    /* 429 */
	R_REJECTED,     /* other 4xx: failed */
	R_WAIT,         /* not yet: deferred, nothing wrong with GitLab */
};

static enum result
classify(const struct sh_gitlab_answer *a, char *why, size_t size)
{
	if (a->transport != SH_GITLAB_OK) {
		snprintf(why, size, "%s", a->error);
		return R_DEFER;
	}
	if (a->status >= 200 && a->status < 300)
		return R_DONE;
	snprintf(why, size, "GitLab answered %ld: %.200s", a->status,
		 a->body ? a->body : "");
	/* The status already has this state (SPEC §6): done. */
	if (a->status == 400 && a->body != NULL &&
	    strstr(a->body, "Cannot transition status via") != NULL)
		return R_DONE;
	if (a->status == 401 || a->status == 403)
		return R_CREDENTIALS;
	if (a->status == 429)
		return R_THROTTLED;
	if (a->status == 409 || a->status >= 500 || a->status < 200)
		return R_DEFER;
	return R_REJECTED;
}

/* One call; *result classifies it.  Returns the answer's parsed JSON on
 * success (the caller deletes it) or NULL. */
static cJSON *
call(struct pass *p, struct target *t, struct entry *e, const char *method,
     const char *path, const cJSON *body, enum result *result)
{
	const struct sh_gitlab_target gt = sh_remote_target(&t->remote);
	struct sh_gitlab_answer a;
	char *json = body ? cJSON_PrintUnformatted(body) : NULL;
	struct sh_err err;
	cJSON *parsed = NULL;

	e->tried = true;
	if (sh_gitlab_call(p->gl, &gt, method, path, json, &a, &err) < 0) {
		free(json);
		snprintf(e->reason, sizeof(e->reason), "%.300s", err.msg);
		*result = R_DEFER;
		return NULL;
	}
	free(json);
	*result = classify(&a, e->reason, sizeof(e->reason));
	e->retry_after = a.retry_after;
	if (*result == R_DONE && a.body != NULL)
		parsed = cJSON_ParseWithLength(a.body, a.len);
	sh_gitlab_answer_release(&a);
	return parsed;
}

static enum result
send_status(struct pass *p, struct target *t, struct entry *e)
{
	const cJSON *req = cJSON_GetObjectItem(e->json, "request");
	enum result r;

	cJSON_Delete(call(p, t, e, "POST",
			  cJSON_GetStringValue(cJSON_GetObjectItem(req, "path")),
			  cJSON_GetObjectItem(req, "body"), &r));
	return r;
}

/* A deployment of this environment, sha and ref GitLab already has (the
 * newest), or 0. */
static int64_t
find_deployment(struct pass *p, struct target *t, struct entry *e,
		const char *path, const cJSON *body, enum result *r)
{
	const char *env = cJSON_GetStringValue(cJSON_GetObjectItem(body, "environment"));
	const char *sha = cJSON_GetStringValue(cJSON_GetObjectItem(body, "sha"));
	const char *ref = cJSON_GetStringValue(cJSON_GetObjectItem(body, "ref"));
	char query[PATH_MAX], enc[3 * 255 + 1]; /* GitLab's longest name */
	const cJSON *d;
	cJSON *list;
	int64_t id = 0;

	*r = R_DONE;
	/* The environment's name may hold '/': encoded for the query. */
	if (env == NULL || sha == NULL || ref == NULL ||
	    sh_updates_escape(env, enc, sizeof(enc)) < 0)
		return 0;
	snprintf(query, sizeof(query),
		 "%s?environment=%s&order_by=id&sort=desc&per_page=20", path, enc);
	list = call(p, t, e, "GET", query, NULL, r);
	cJSON_ArrayForEach(d, list) {
		const char *dsha = cJSON_GetStringValue(cJSON_GetObjectItem(d, "sha"));
		const char *dref = cJSON_GetStringValue(cJSON_GetObjectItem(d, "ref"));

		if (dsha != NULL && dref != NULL && strcmp(dsha, sha) == 0 &&
		    strcmp(dref, ref) == 0) {
			id = get_int(d, "id");
			break;
		}
	}
	cJSON_Delete(list);
	return id;
}

/* Moves a known deployment to the status wanted.  GitLab refuses a move
 * to the status it has: sent twice (at least once), that is done. */
static enum result
update_deployment(struct pass *p, struct target *t, struct entry *e,
		  const char *path, int64_t id, const char *wanted)
{
	char put_path[PATH_MAX];
	cJSON *status = cJSON_CreateObject(), *answer;
	enum result r, check;
	const char *now;

	snprintf(put_path, sizeof(put_path), "%s/%lld", path, (long long)id);
	cJSON_AddStringToObject(status, "status", wanted);
	answer = call(p, t, e, "PUT", put_path, status, &r);
	cJSON_Delete(status);
	cJSON_Delete(answer);
	if (r != R_REJECTED)
		return r;
	answer = call(p, t, e, "GET", put_path, NULL, &check);
	now = cJSON_GetStringValue(cJSON_GetObjectItem(answer, "status"));
	if (check == R_DONE && now != NULL && strcmp(now, wanted) == 0)
		r = R_DONE;
	cJSON_Delete(answer);
	return r;
}

/* A POST that got no answer (a reporter killed, a timeout) may still be
 * creating its deployment or note at GitLab.  The stored id (runs.
 * deployment_id, mr_notes.note_id) holds -(time of that POST) until
 * GitLab's id is known; another POST waits until the first could no longer
 * be running, then looks before creating.  True (e deferred) while that
 * wait lasts. */
#define POST_SETTLE SH_GITLAB_TIMEOUT

static bool
earlier_post_unsettled(struct pass *p, struct entry *e, int64_t stored_id,
		       const char *what)
{
	if (stored_id >= 0 || p->now >= -stored_id + POST_SETTLE)
		return false;
	e->retry_after = (long)(-stored_id + POST_SETTLE - p->now);
	snprintf(e->reason, sizeof(e->reason),
		 "an earlier request for this %s got no answer; "
		 "looking again once it cannot be running", what);
	return true;
}

static enum result
send_deployment(struct pass *p, struct target *t, struct entry *e)
{
	static const char sql_get[] = "SELECT deployment_id FROM runs WHERE id = $1";
	static const char sql_set[] = "UPDATE runs SET deployment_id = $1 WHERE id = $2";
	const cJSON *req = cJSON_GetObjectItem(e->json, "request");
	const cJSON *body = cJSON_GetObjectItem(req, "body");
	const char *path = cJSON_GetStringValue(cJSON_GetObjectItem(req, "path"));
	const char *run = cJSON_GetStringValue(cJSON_GetObjectItem(e->json, "run"));
	const char *wanted = cJSON_GetStringValue(cJSON_GetObjectItem(body, "status"));
	int64_t id = 0;
	struct sh_stmt *st;
	enum result r;
	cJSON *answer;

	if (path == NULL || wanted == NULL)
		return R_REJECTED;
	if (run != NULL && sh_db_query(p->db, sql_get, &st, NULL, "t", run) == 1) {
		id = sh_stmt_int(st, 0);
		sh_stmt_release(st);
	}
	if (earlier_post_unsettled(p, e, id, "deployment"))
		return R_WAIT;
	if (id <= 0) {
		id = find_deployment(p, t, e, path, body, &r);
		if (r != R_DONE)
			return r;
		if (id > 0 && run != NULL)
			sh_db_run(p->db, sql_set, NULL, "it", id, run);
	}
	if (id > 0)
		return update_deployment(p, t, e, path, id, wanted);
	/* Durable before the request: it is what a killed reporter leaves. */
	if (run != NULL && sh_db_run(p->db, sql_set, NULL, "it", -(int64_t)p->now, run) < 0) {
		snprintf(e->reason, sizeof(e->reason), "cannot note the deployment request");
		return R_DEFER;
	}
	answer = call(p, t, e, "POST", path, body, &r);
	id = get_int(answer, "id");
	if (r == R_DONE && id > 0 && run != NULL)
		sh_db_run(p->db, sql_set, NULL, "it", id, run);
	cJSON_Delete(answer);
	return r;
}

/* The note of this stack on merge request iid: stored id, else found by
 * its marker among the merge request's notes; 0 when there is none.
 * *r is R_WAIT while an earlier unanswered POST may still be creating it. */
static int64_t
find_note(struct pass *p, struct target *t, struct entry *e, const char *project,
	  int64_t iid, const char *stack, const char *marker, enum result *r)
{
	static const char sql[] =
		"SELECT note_id FROM mr_notes WHERE integration_id = $1 AND project = $2 "
		"AND iid = $3 AND stack = $4";
	struct sh_stmt *st;
	int64_t id = 0;

	*r = R_DONE;
	if (sh_db_query(p->db, sql, &st, NULL, "itit", e->integration, project, iid,
			stack) == 1) {
		id = sh_stmt_int(st, 0);
		sh_stmt_release(st);
		if (earlier_post_unsettled(p, e, id, "comment")) {
			*r = R_WAIT;
			return 0;
		}
		if (id > 0)
			return id;
		id = 0;
	}
	for (int page = 1; page <= NOTE_PAGES_MAX && id == 0; page++) {
		char path[PATH_MAX];
		const cJSON *note;
		cJSON *notes;

		snprintf(path, sizeof(path),
			 "%s/merge_requests/%lld/notes?per_page=100&page=%d&sort=asc",
			 project, (long long)iid, page);
		notes = call(p, t, e, "GET", path, NULL, r);
		if (*r != R_DONE) {
			cJSON_Delete(notes);
			return 0;
		}
		cJSON_ArrayForEach(note, notes) {
			const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(note, "body"));

			if (text != NULL && strstr(text, marker) != NULL) {
				id = get_int(note, "id");
				break;
			}
		}
		if (cJSON_GetArraySize(notes) < 100)
			page = NOTE_PAGES_MAX;
		cJSON_Delete(notes);
	}
	return id;
}

static int
remember_note(struct pass *p, int64_t integration, const char *project,
	      int64_t iid, const char *stack, int64_t id)
{
	static const char sql[] =
		"INSERT INTO mr_notes (integration_id, project, iid, stack, note_id, "
		"updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT "
		"(integration_id, project, iid, stack) DO UPDATE SET note_id = "
		"excluded.note_id, updated_at = excluded.updated_at";

	return sh_db_run(p->db, sql, NULL, "itit" "ii", integration, project, iid, stack,
			 id, p->now) < 0 ? -1 : 0;
}

static enum result
note_on(struct pass *p, struct target *t, struct entry *e, const char *project,
	int64_t iid, const cJSON *body)
{
	const char *stack = cJSON_GetStringValue(cJSON_GetObjectItem(e->json, "stack"));
	const char *marker = cJSON_GetStringValue(cJSON_GetObjectItem(e->json, "marker"));
	char path[PATH_MAX];
	enum result r;
	int64_t id;
	cJSON *answer;

	if (stack == NULL || marker == NULL)
		return R_REJECTED;
	id = find_note(p, t, e, project, iid, stack, marker, &r);
	if (r != R_DONE)
		return r;
	if (id > 0) {
		snprintf(path, sizeof(path), "%s/merge_requests/%lld/notes/%lld", project,
			 (long long)iid, (long long)id);
		cJSON_Delete(call(p, t, e, "PUT", path, body, &r));
		if (r == R_DONE) {
			remember_note(p, e->integration, project, iid, stack, id);
			return r;
		}
		if (r != R_REJECTED)
			return r;
		/* The note is gone (deleted by someone): write a new one. */
	}
	/* Durable before the request: it is what a killed reporter leaves. */
	if (remember_note(p, e->integration, project, iid, stack, -(int64_t)p->now) < 0) {
		snprintf(e->reason, sizeof(e->reason), "cannot note the comment request");
		return R_DEFER;
	}
	snprintf(path, sizeof(path), "%s/merge_requests/%lld/notes", project,
		 (long long)iid);
	answer = call(p, t, e, "POST", path, body, &r);
	id = get_int(answer, "id");
	cJSON_Delete(answer);
	if (r == R_DONE && id > 0)
		remember_note(p, e->integration, project, iid, stack, id);
	return r;
}

static enum result
send_note(struct pass *p, struct target *t, struct entry *e)
{
	const cJSON *req = cJSON_GetObjectItem(e->json, "request");
	const char *project = cJSON_GetStringValue(cJSON_GetObjectItem(req, "path"));
	const char *sha = cJSON_GetStringValue(cJSON_GetObjectItem(e->json, "sha"));
	const cJSON *iids = cJSON_GetObjectItem(e->json, "merge_requests"), *iid;
	cJSON *found = NULL;
	enum result r = R_DONE;

	if (project == NULL)
		return R_REJECTED;
	/* A run that knows no merge request: ask GitLab which are open for
	 * its commit. */
	if (cJSON_GetArraySize(iids) == 0 && sha != NULL) {
		char path[PATH_MAX];
		const cJSON *mr;

		snprintf(path, sizeof(path), "%s/repository/commits/%s/merge_requests",
			 project, sha);
		found = call(p, t, e, "GET", path, NULL, &r);
		if (r != R_DONE) {
			cJSON_Delete(found);
			return r;
		}
		cJSON_ArrayForEach(mr, found) {
			const char *state = cJSON_GetStringValue(cJSON_GetObjectItem(mr, "state"));

			if (state != NULL && strcmp(state, "opened") == 0 &&
			    (r = note_on(p, t, e, project, get_int(mr, "iid"),
					 cJSON_GetObjectItem(req, "body"))) != R_DONE)
				break;
		}
		cJSON_Delete(found);
		return r;
	}
	cJSON_ArrayForEach(iid, iids) {
		if (!cJSON_IsNumber(iid))
			continue;
		r = note_on(p, t, e, project, (int64_t)iid->valuedouble,
			    cJSON_GetObjectItem(req, "body"));
		if (r != R_DONE)
			break;
	}
	return r;
}

/* ---------------------------------------------------------- outcomes ---- */

static void
note_problem(struct target *t, enum problem kind, const char *why)
{
	t->problems[kind]++;
	snprintf(t->last_problem[kind], sizeof(t->last_problem[kind]), "%.250s", why);
}

static void
defer(struct pass *p, struct entry *e, long at_least)
{
	int64_t delay = p->inst->cfg->retry_initial;
	unsigned char jitter;

	for (int i = 0; i < e->attempts && delay < SH_RETRY_MAX; i++)
		delay *= 2;
	if (delay > SH_RETRY_MAX)
		delay = SH_RETRY_MAX;
	/* ±20% so that entries deferred together do not return together. */
	if (sh_crypto_random(&jitter, 1, NULL) == 0)
		delay = delay * (80 + jitter % 41) / 100;
	if (delay < at_least)
		delay = at_least;
	if (delay < 1)
		delay = 1;
	if (e->tried)
		e->attempts++;
	e->next_attempt = p->now + delay;
	e->fate = F_DEFERRED;
	p->sources[e->source].touched = true;
}

static void
fail(struct pass *p, struct entry *e, const char *why)
{
	if (why != NULL)
		snprintf(e->reason, sizeof(e->reason), "%s", why);
	e->fate = F_FAILED;
	p->sources[e->source].touched = true;
}

static void
print_dry(struct pass *p, const struct entry *e, const struct target *t)
{
	const cJSON *req = cJSON_GetObjectItem(e->json, "request");
	char *body = cJSON_PrintUnformatted(cJSON_GetObjectItem(req, "body"));

	fprintf(p->opt->out, "would send %s %s %s/api/v4%s%s %.300s\n", e->kind,
		cJSON_GetStringValue(cJSON_GetObjectItem(req, "method")),
		t->remote.base_url ? t->remote.base_url : "(no host)",
		cJSON_GetStringValue(cJSON_GetObjectItem(req, "path")),
		strcmp(e->kind, "mr_note") == 0 ? "/merge_requests/<iid>/notes" : "",
		body ? body : "");
	free(body);
}

static int
handle(struct pass *p, struct entry *e, struct sh_err *err)
{
	struct target *t;
	enum result r;

	if (e->created + p->inst->cfg->report_max_age < p->now) {
		fail(p, e, "older than report_max_age: given up");
		return 0;
	}
	t = target_of(p, e->integration, err);
	if (t == NULL)
		return -1;
	if (!t->remote.usable) {
		fail(p, e, "the integration no longer exists");
		return 0;
	}
	if (t->throttled_until > p->now) {
		/* Not tried: a 429 earlier in this pass holds the rest back. */
		snprintf(e->reason, sizeof(e->reason), "GitLab asked to slow down");
		defer(p, e, (long)(t->throttled_until - p->now));
		return 0;
	}
	if (t->remote.base_url == NULL || t->remote.token == NULL) {
		snprintf(e->reason, sizeof(e->reason), "waiting: %s", t->remote.waiting);
		if (t->remote.waiting_for_token)
			note_problem(t, P_CREDENTIALS, t->remote.waiting);
		defer(p, e, 0);
		return 0;
	}
	if (p->opt->dry_run) {
		print_dry(p, e, t);
		e->fate = F_SENT;
		return 0;
	}
	if (strcmp(e->kind, "commit_status") == 0)
		r = send_status(p, t, e);
	else if (strcmp(e->kind, "deployment") == 0)
		r = send_deployment(p, t, e);
	else if (strcmp(e->kind, "mr_note") == 0)
		r = send_note(p, t, e);
	else {
		snprintf(e->reason, sizeof(e->reason), "unknown kind %.32s", e->kind);
		r = R_REJECTED;
	}
	switch (r) {
	case R_DONE:
		e->fate = F_SENT;
		p->sources[e->source].touched = true;
		break;
	case R_DEFER:
		note_problem(t, P_UNREACHABLE, e->reason);
		defer(p, e, e->retry_after);
		break;
	case R_CREDENTIALS:
		note_problem(t, P_CREDENTIALS, e->reason);
		defer(p, e, e->retry_after);
		break;
	case R_THROTTLED:
		defer(p, e, e->retry_after);
		t->throttled_until = e->next_attempt;
		break;
	case R_WAIT:
		defer(p, e, e->retry_after);
		break;
	case R_REJECTED:
		note_problem(t, P_REJECTED, e->reason);
		fail(p, e, NULL);
		break;
	}
	return 0;
}

/* ----------------------------------------------------------- writing ---- */

static void
stamp(struct entry *e)
{
	cJSON_DeleteItemFromObject(e->json, "attempts");
	cJSON_DeleteItemFromObject(e->json, "next_attempt");
	cJSON_DeleteItemFromObject(e->json, "last_error");
	cJSON_AddNumberToObject(e->json, "attempts", e->attempts);
	cJSON_AddNumberToObject(e->json, "next_attempt", (double)e->next_attempt);
	if (e->reason[0] != '\0')
		cJSON_AddStringToObject(e->json, "last_error", e->reason);
	else
		cJSON_AddNullToObject(e->json, "last_error");
}

/* Writes a touched source's remaining entries into deferred/ and failed/,
 * durably, and only then removes it.  The removal itself is made durable
 * by settle(), once per pass: lost to a power cut, it only brings back
 * entries GitLab already has, and delivery is at least once anyway. */
static int
rewrite(struct pass *p, size_t source, struct sh_err *err)
{
	struct sh_spool_batch keep, failed;
	char path[PATH_MAX];
	const struct source *s = &p->sources[source];
	int rc = -1;

	sh_spool_batch_init(&keep, p->inst->cfg->spool);
	sh_spool_batch_init(&failed, p->inst->cfg->spool);
	for (size_t i = 0; i < p->entry_count; i++) {
		struct entry *e = &p->entries[i];

		if (e->source != source)
			continue;
		if (e->fate == F_DEFERRED || e->fate == F_KEEP) {
			stamp(e);
			if (sh_spool_batch_add(&keep, e->json, err) < 0)
				goto out;
		} else if (e->fate == F_FAILED) {
			cJSON_DeleteItemFromObject(e->json, "failed_reason");
			cJSON_AddStringToObject(e->json, "failed_reason", e->reason);
			cJSON_DeleteItemFromObject(e->json, "failed_at");
			cJSON_AddNumberToObject(e->json, "failed_at", (double)p->now);
			if (sh_spool_batch_add(&failed, e->json, err) < 0)
				goto out;
		}
	}
	if (sh_spool_batch_write(&keep, err) < 0 || sh_spool_batch_write(&failed, err) < 0 ||
	    sh_spool_batch_publish_into(&keep, "deferred", err) < 0 ||
	    sh_spool_batch_publish_into(&failed, "failed", err) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/%s/%s", p->inst->cfg->spool,
		 s->deferred ? "deferred" : "new", s->name);
	if (unlink(path) < 0 && errno != ENOENT) {
		sh_err_errno(err, SH_E_STORAGE, errno, "cannot remove %s", path);
		goto out;
	}
	p->unsettled[s->deferred] = true;
	rc = 0;
out:
	if (rc < 0) {
		sh_spool_batch_abort(&keep);
		sh_spool_batch_abort(&failed);
	}
	sh_spool_batch_release(&keep);
	sh_spool_batch_release(&failed);
	return rc;
}

/* Makes the removals so far durable. */
static int
settle(struct pass *p, struct sh_err *err)
{
	static const char *const dirs[] = {"new", "deferred"};
	char path[PATH_MAX];

	for (size_t i = 0; i < 2; i++) {
		if (!p->unsettled[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", p->inst->cfg->spool, dirs[i]);
		if (sh_fs_fsync_dir(path, true, err) < 0)
			return -1;
		p->unsettled[i] = false;
	}
	return 0;
}

/* Health facts for the integrations' admins, and the /metrics counters. */
static void
record(struct pass *p)
{
	static const char sql_problem[] =
		"INSERT INTO report_problems (integration_id, kind, count, last_at, "
		"last_message) VALUES ($1, $2, $3, $4, $5) ON CONFLICT "
		"(integration_id, kind) DO UPDATE SET count = report_problems.count + excluded.count, "
		"last_at = excluded.last_at, last_message = excluded.last_message";
	const struct {
		const char *name;
		int value;
	} counters[] = {
		{"reports_sent", p->stats->sent},
		{"reports_coalesced", p->stats->coalesced},
		{"reports_deferred", p->stats->deferred},
		{"reports_failed", p->stats->failed},
	};

	if (p->opt->dry_run || sh_db_begin(p->db, NULL) < 0)
		return;
	for (size_t i = 0; i < p->target_count; i++)
		for (int k = 0; k < 3; k++)
			if (p->targets[i].problems[k] > 0)
				sh_db_run(p->db, sql_problem, NULL, "itiit", p->targets[i].remote.id,
					  problem_names[k], (int64_t)p->targets[i].problems[k],
					  p->now, p->targets[i].last_problem[k]);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (counters[i].value > 0)
			sh_metrics_add(p->db, counters[i].name, counters[i].value, NULL);
	if (sh_db_commit(p->db, NULL) < 0)
		sh_db_rollback(p->db);
}

/* ------------------------------------------------------------- pass ---- */

static void
housekeeping(struct pass *p)
{
	struct sh_err err;
	int expired = 0;

	if (p->opt->dry_run)
		return;
	sh_err_clear(&err);
	if (sh_runs_expire(p->db, p->inst->cfg, p->now, &expired, &err) < 0)
		sh_log(LOG_ERR, "report: cannot time out stale runs: %s", err.msg);
	p->stats->expired += expired;
	if (sh_db_begin(p->db, &err) == 0) {
		if (sh_deliveries_prune(p->db, p->now - p->inst->cfg->delivery_retention,
					NULL, &err) < 0 ||
		    sh_db_run(p->db, "DELETE FROM spool_batches WHERE at < $1", &err, "i",
			      p->now - p->inst->cfg->report_max_age - 86400) < 0 ||
		    sh_db_commit(p->db, &err) < 0) {
			sh_db_rollback(p->db);
			sh_log(LOG_ERR, "report: cannot prune deliveries: %s", err.msg);
		}
	}
}

int
sh_report_pass(struct sh_instance *inst, struct sh_gitlab *gl,
	       const struct sh_report_options *opt, struct sh_report_stats *stats,
	       struct sh_err *err)
{
	struct pass p = {.inst = inst, .gl = gl, .opt = opt, .stats = stats};
	int rc = -1;

	p.now = sh_time_now();
	if (sh_instance_db(inst, &p.db, err) < 0 || sh_spool_check(inst->cfg->spool, err) < 0)
		return -1;
	recover_tmp(&p);
	housekeeping(&p);
	if (load_dir(&p, "new", false, err) < 0 || load_dir(&p, "deferred", true, err) < 0)
		goto out;
	sort_pass = &p;
	if (p.entry_count > 1)
		qsort(p.entries, p.entry_count, sizeof(*p.entries), by_age);
	sort_pass = NULL;
	coalesce(&p);
	for (size_t i = 0; i < p.entry_count; i++)
		if (p.entries[i].fate == F_KEEP && p.entries[i].next_attempt <= p.now)
			p.sources[p.entries[i].source].due++;
	/* Files that hold only superseded entries go first: killed later, a
	 * reporter must never send an older state after the newest. */
	for (size_t s = 0; !opt->dry_run && s < p.source_count; s++) {
		if (p.sources[s].touched && p.sources[s].due == 0) {
			if (rewrite(&p, s, err) < 0)
				goto out;
			p.sources[s].written = true;
		}
	}
	/* ...and their removal is durable before anything newer is sent, so
	 * that not even a power cut can make GitLab see a state go back. */
	if (settle(&p, err) < 0)
		goto out;
	for (size_t i = 0; i < p.entry_count; i++) {
		struct entry *e = &p.entries[i];
		struct source *src = &p.sources[e->source];

		if (e->fate != F_KEEP || e->next_attempt > p.now)
			continue;
		if (handle(&p, e, err) < 0)
			goto out;
		if (e->fate == F_SENT)
			stats->sent++;
		else if (e->fate == F_DEFERRED)
			stats->deferred++;
		else if (e->fate == F_FAILED)
			stats->failed++;
		/* A file is settled as soon as its last entry is: a reporter
		 * killed later does not send what GitLab confirmed again. */
		if (--src->due == 0 && src->touched && !opt->dry_run) {
			if (rewrite(&p, e->source, err) < 0)
				goto out;
			src->written = true;
		}
	}
	if (!opt->dry_run)
		for (size_t s = 0; s < p.source_count; s++)
			if (p.sources[s].touched && !p.sources[s].written &&
			    rewrite(&p, s, err) < 0)
				goto out;
	if (settle(&p, err) < 0)
		goto out;
	record(&p);
	rc = 0;
out:
	for (size_t i = 0; i < p.entry_count; i++)
		cJSON_Delete(p.entries[i].json);
	free(p.entries);
	free(p.sources);
	free_targets(&p);
	return rc;
}
