#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stackhook/db.h"
#include "stackhook/fsutil.h"
#include "stackhook/log.h"
#include "stackhook/spool.h"

const char *const sh_spool_dirs[SH_SPOOL_DIR_COUNT] = {"tmp", "new", "deferred",
						      "failed"};

/* Joins spool and name into out, refusing to cut. */
static int
spool_path(char out[PATH_MAX], const char *spool, const char *name,
	   struct sh_err *err)
{
	if (snprintf(out, PATH_MAX, "%s/%s", spool, name) >= PATH_MAX)
		return sh_err_set(err, SH_E_CONFIG, NULL, "spool path %s is too long",
				  spool);
	return 0;
}

int
sh_spool_prepare(const char *spool, bool *created, struct sh_err *err)
{
	char path[PATH_MAX];
	bool made, any;

	if (sh_fs_mkdir(spool, &any, err) < 0)
		return -1;
	for (int i = 0; i < SH_SPOOL_DIR_COUNT; i++) {
		if (spool_path(path, spool, sh_spool_dirs[i], err) < 0 ||
		    sh_fs_mkdir(path, &made, err) < 0)
			return -1;
		any = any || made;
	}
	if (created != NULL)
		*created = any;
	return 0;
}

int
sh_spool_check(const char *spool, struct sh_err *err)
{
	char path[PATH_MAX];

	for (int i = 0; i < SH_SPOOL_DIR_COUNT; i++) {
		if (spool_path(path, spool, sh_spool_dirs[i], err) < 0)
			return -1;
		if (access(path, W_OK | X_OK) < 0)
			return sh_err_errno(err, SH_E_STORAGE, errno,
					    "spool directory %s is not writable",
					    path);
	}
	return 0;
}

void
sh_spool_batch_init(struct sh_spool_batch *batch, const char *spool)
{
	memset(batch, 0, sizeof(*batch));
	batch->spool = spool;
	sh_buf_init(&batch->lines, 0);
}

void
sh_spool_batch_release(struct sh_spool_batch *batch)
{
	sh_buf_release(&batch->lines);
}

int
sh_spool_batch_add(struct sh_spool_batch *batch, const cJSON *entry,
		   struct sh_err *err)
{
	char *line = cJSON_PrintUnformatted(entry);
	int rc = -1;

	if (line != NULL && sh_buf_puts(&batch->lines, line) == 0 &&
	    sh_buf_puts(&batch->lines, "\n") == 0)
		rc = 0;
	free(line);
	if (rc < 0)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	batch->count++;
	return 0;
}

/* A name unique on this host and sortable by time: microseconds since the
 * epoch in fixed-width hex, then the process and a per-process counter. */
static void
make_name(char *out, size_t size)
{
	static atomic_uint counter;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(out, size, "%013llx.%ld.%u.jsonl",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
			 (unsigned long long)ts.tv_nsec / 1000ULL,
		 (long)getpid(), atomic_fetch_add(&counter, 1));
}

int
sh_spool_batch_write(struct sh_spool_batch *batch, struct sh_err *err)
{
	char path[PATH_MAX];
	int fd;

	if (batch->count == 0)
		return 0;
	make_name(batch->name, sizeof(batch->name));
	if (snprintf(path, sizeof(path), "%s/tmp/%s", batch->spool, batch->name) >=
	    (int)sizeof(path))
		return sh_err_set(err, SH_E_STORAGE, NULL, "spool path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return sh_err_errno(err, SH_E_STORAGE, errno,
				    "cannot create spool file %s", path);
	if (sh_fs_write_full(fd, batch->lines.data, batch->lines.len) < 0 ||
	    fsync(fd) < 0) {
		sh_err_errno(err, SH_E_STORAGE, errno, "cannot write spool file %s",
			     path);
		close(fd);
		unlink(path);
		return -1;
	}
	if (close(fd) < 0) {
		sh_err_errno(err, SH_E_STORAGE, errno, "cannot write spool file %s",
			     path);
		unlink(path);
		return -1;
	}
	batch->written = true;
	return 0;
}

int
sh_spool_batch_publish_into(struct sh_spool_batch *batch, const char *dir,
			    struct sh_err *err)
{
	char from[PATH_MAX], to[PATH_MAX], into[PATH_MAX];

	if (!batch->written)
		return 0;
	snprintf(from, sizeof(from), "%s/tmp/%s", batch->spool, batch->name);
	snprintf(to, sizeof(to), "%s/%s/%s", batch->spool, dir, batch->name);
	snprintf(into, sizeof(into), "%s/%s", batch->spool, dir);
	if (rename(from, to) < 0)
		return sh_err_errno(err, SH_E_STORAGE, errno,
				    "cannot move spool file %s into %s/", from, dir);
	batch->written = false;
	return sh_fs_fsync_dir(into, true, err);
}

int
sh_spool_batch_publish(struct sh_spool_batch *batch, struct sh_err *err)
{
	return sh_spool_batch_publish_into(batch, "new", err);
}

int
sh_spool_lock(const char *spool, int *fd, struct sh_err *err)
{
	char path[PATH_MAX];

	*fd = -1;
	if (spool_path(path, spool, "lock", err) < 0)
		return -1;
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return sh_err_errno(err, SH_E_STORAGE, errno, "cannot open %s", path);
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno == EWOULDBLOCK) {
		close(*fd);
		*fd = -1;
		return 1;
	}
	sh_err_errno(err, SH_E_STORAGE, errno, "cannot lock %s", path);
	close(*fd);
	*fd = -1;
	return -1;
}

void
sh_spool_batch_abort(struct sh_spool_batch *batch)
{
	char path[PATH_MAX];

	if (!batch->written)
		return;
	snprintf(path, sizeof(path), "%s/tmp/%s", batch->spool, batch->name);
	unlink(path);
	batch->written = false;
}

/* The integration an entry (one line) belongs to, 0 when it names none. */
static int64_t
line_integration(const char *line)
{
	const char *p = strstr(line, "\"integration\":");

	return p != NULL ? strtoll(p + 14, NULL, 10) : 0;
}

/* Adds one entry, created at t, found in directory dir; first_in_file
 * when it is the first entry of its file counted into these stats. */
static void
stats_add(struct sh_spool_stats *s, int dir, int64_t t, bool first_in_file)
{
	s->entries[dir]++;
	if (first_in_file)
		s->files[dir]++;
	/* Waiting means new/ or deferred/ (indexes 1 and 2). */
	if ((dir == 1 || dir == 2) && t > 0 && (s->oldest == 0 || t < s->oldest))
		s->oldest = t;
}

/* Where one scan puts what it finds: into out when the entry is of
 * integration (or integration is 0), and into tally by integration when
 * tally is set. */
struct scan {
	int64_t integration;
	struct sh_spool_stats *out;
	struct sh_spool_tally *tally;
	unsigned long file; /* files seen so far: which file a row last counted */
};

static struct sh_spool_tally_row *
tally_row(struct sh_spool_tally *t, int64_t integration)
{
	struct sh_spool_tally_row *grown;

	for (size_t i = 0; i < t->count; i++)
		if (t->rows[i].integration == integration)
			return &t->rows[i];
	grown = realloc(t->rows, (t->count + 1) * sizeof(*grown));
	if (grown == NULL)
		return NULL;
	t->rows = grown;
	memset(&grown[t->count], 0, sizeof(*grown));
	grown[t->count].integration = integration;
	return &grown[t->count++];
}

/* Reads the entries (lines) of one file into the scan. */
static int
scan_file(struct scan *sc, int dir, int dirfd, const char *name)
{
	char *line = NULL;
	size_t cap = 0;
	bool counted = false;
	int rc = 0;
	FILE *f;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0; /* sent and removed meanwhile */
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return -1;
	}
	sc->file++;
	/* Counting every file, an empty one (being written) counts too. */
	if (sc->out != NULL && sc->integration == 0) {
		sc->out->files[dir]++;
		counted = true;
	}
	while (getline(&line, &cap, f) > 0) {
		const char *created = strstr(line, "\"created\":");
		int64_t t = created ? atoll(created + 10) : 0;
		int64_t owner = line_integration(line);
		struct sh_spool_tally_row *row;

		if (sc->out != NULL && (sc->integration == 0 || owner == sc->integration)) {
			stats_add(sc->out, dir, t, !counted);
			counted = true;
		}
		if (sc->tally == NULL)
			continue;
		row = tally_row(sc->tally, owner);
		if (row == NULL) {
			rc = -1;
			break;
		}
		stats_add(&row->stats, dir, t, row->last_file != sc->file);
		row->last_file = sc->file;
	}
	free(line);
	fclose(f);
	return rc;
}

static int
scan(const char *spool, struct scan *sc, struct sh_err *err)
{
	char path[PATH_MAX];

	for (int i = 0; i < SH_SPOOL_DIR_COUNT; i++) {
		struct dirent *de;
		DIR *d;
		int rc = 0;

		if (spool_path(path, spool, sh_spool_dirs[i], err) < 0)
			return -1;
		d = opendir(path);
		if (d == NULL)
			return sh_err_errno(err, SH_E_STORAGE, errno, "cannot read %s", path);
		while (rc == 0 && (de = readdir(d)) != NULL) {
			struct stat st;

			if (de->d_name[0] == '.' ||
			    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			rc = scan_file(sc, i, dirfd(d), de->d_name);
		}
		closedir(d);
		if (rc < 0)
			return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	}
	return 0;
}

int
sh_spool_stats(const char *spool, int64_t integration, struct sh_spool_stats *out,
	       struct sh_err *err)
{
	struct scan sc = {.integration = integration, .out = out};

	memset(out, 0, sizeof(*out));
	return scan(spool, &sc, err);
}

int
sh_spool_tally(const char *spool, struct sh_spool_tally *out, struct sh_err *err)
{
	struct scan sc = {.tally = out};

	memset(out, 0, sizeof(*out));
	if (scan(spool, &sc, err) == 0)
		return 0;
	sh_spool_tally_release(out);
	return -1;
}

const struct sh_spool_stats *
sh_spool_tally_find(const struct sh_spool_tally *t, int64_t integration)
{
	static const struct sh_spool_stats none;

	for (size_t i = 0; i < t->count; i++)
		if (t->rows[i].integration == integration)
			return &t->rows[i].stats;
	return &none;
}

void
sh_spool_tally_release(struct sh_spool_tally *t)
{
	free(t->rows);
	t->rows = NULL;
	t->count = 0;
}

int
sh_spool_probe(const char *spool, struct sh_err *err)
{
	char path[PATH_MAX];
	int fd, rc = 0;

	if (sh_spool_check(spool, err) < 0)
		return -1;
	if (snprintf(path, sizeof(path), "%s/tmp/.probe.%ld", spool, (long)getpid()) >=
	    (int)sizeof(path))
		return sh_err_set(err, SH_E_STORAGE, NULL, "spool path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return sh_err_errno(err, SH_E_STORAGE, errno, "cannot write in %s/tmp",
				    spool);
	if (sh_fs_write_full(fd, "\n", 1) < 0 || fsync(fd) < 0)
		rc = sh_err_errno(err, SH_E_STORAGE, errno, "cannot write in %s/tmp",
				  spool);
	close(fd);
	unlink(path);
	return rc;
}

int
sh_spool_batch_commit(struct sh_spool_batch *batch, struct sh_db *db,
		      struct sh_err *err)
{
	struct sh_err publish_err;

	/* On disk before the transaction commits, so that nothing answered
	 * as done precedes its updates. */
	if (sh_spool_batch_write(batch, err) < 0 ||
	    (batch->written &&
	     sh_db_run(db, "INSERT INTO spool_batches (name, at) VALUES ($1, $2)", err,
		       "ti", batch->name, (int64_t)time(NULL)) < 0) ||
	    sh_db_commit(db, err) < 0) {
		sh_db_rollback(db);
		sh_spool_batch_abort(batch);
		sh_spool_batch_release(batch);
		return -1;
	}
	sh_err_clear(&publish_err);
	if (sh_spool_batch_publish(batch, &publish_err) < 0)
		sh_log(LOG_ERR, "spool: %s (the reporter recovers it from tmp/)",
		       publish_err.msg);
	sh_spool_batch_release(batch);
	return 0;
}
