/*
 * testutil.h - helpers shared by the unit tests (header only).
 *
 * Include after "config.h" and <cmocka.h>.  Everything is static inline so
 * that each test program takes only what it uses.
 *
 * Temporary directories: tu_dir_setup()/tu_dir_teardown() are cmocka
 * fixtures that give each test a fresh directory (struct tu_dir in *state)
 * and remove it afterwards, also when the test failed.
 */
#ifndef STACKHOOK_TESTUTIL_H
#define STACKHOOK_TESTUTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stackhook/crypto.h"
#include "stackhook/db.h"
#include "stackhook/err.h"
#include "stackhook/instance.h"
#include "stackhook/schema.h"
#include "stackhook/spool.h"

struct tu_dir {
	char path[PATH_MAX];
};

/* Joins dir and name into out (PATH_MAX bytes); returns out. */
static inline char *
tu_join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	if (n < 0 || n >= PATH_MAX) {
		fprintf(stderr, "tu_join: path too long: %s/%s\n", dir, name);
		abort();
	}
	return out;
}

/* Makes a new private directory under $TMPDIR (or /tmp) into out. */
static inline int
tu_mkdtemp(char *out, size_t size)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if (snprintf(out, size, "%s/stackhook-test.XXXXXX", tmp) >= (int)size)
		return -1;
	return mkdtemp(out) == NULL ? -1 : 0;
}

/* Pre-order pass: a test may have taken permissions away from a
 * directory; give them back so that its entries can be removed. */
static inline int
tu_rmtree_chmod(const char *path, const struct stat *st, int flag,
		struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D && (st->st_mode & 0700) != 0700)
		chmod(path, 0700);
	return 0;
}

static inline int
tu_rmtree_entry(const char *path, const struct stat *st, int flag,
		struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0 && errno != ENOENT)
		fprintf(stderr, "tu_rmtree: %s: %s\n", path, strerror(errno));
	return 0;
}

/* Removes path and everything below it; a missing path is fine. */
static inline int
tu_rmtree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode)) {
		chmod(path, 0700);
		nftw(path, tu_rmtree_chmod, 16, FTW_PHYS);
	}
	nftw(path, tu_rmtree_entry, 16, FTW_DEPTH | FTW_PHYS);
	return lstat(path, &st) == 0 ? -1 : 0;
}

/* Writes text to path (replacing it) with mode.  Returns 0 or -1. */
static inline int
tu_write_file_len(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	if (fchmod(fd, mode) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static inline int
tu_write_file(const char *path, const char *text)
{
	return tu_write_file_len(path, text, strlen(text), 0600);
}

/* Reads the whole file at path into a new NUL-terminated buffer (free it).
 * Returns NULL when it cannot be read. */
static inline char *
tu_read_file(const char *path, size_t *len)
{
	struct stat st;
	char *data;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return NULL;
	}
	data = malloc((size_t)st.st_size + 1);
	if (data == NULL) {
		close(fd);
		return NULL;
	}
	n = read(fd, data, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(data);
		return NULL;
	}
	data[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	return data;
}

/* true when the len bytes at hay contain needle. */
static inline bool
tu_mem_contains(const void *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle)) != NULL;
}

/* The public_url the instance helpers write. */
#define TU_PUBLIC_URL "http://localhost/stackhook"

/*
 * Writes dir/stackhook.conf naming dir/stackhook.db, dir/spool and
 * dir/secret.key, public_url TU_PUBLIC_URL, log = stderr, followed by
 * extra (NULL for none; full lines).  The path goes to out (PATH_MAX).
 */
/*
 * With STACKHOOK_TEST_PG set (a postgresql:// URI), the database is a new
 * schema of that server, so the same tests run on both backends; else an
 * SQLite file in dir.  Writes the config's database value into out.
 */
static inline int
tu_database(const char *dir, char *out, size_t size)
{
	static unsigned counter;
	const char *pg = getenv("STACKHOOK_TEST_PG");
	struct sh_db_options opt = {.busy_timeout_ms = 1000};
	char schema[64], sql[128];
	struct sh_db *db;
	struct sh_err err;
	int rc;

	if (pg == NULL || pg[0] == '\0')
		return snprintf(out, size, "%s/stackhook.db", dir) < (int)size ? 0 : -1;
	snprintf(schema, sizeof(schema), "t%ld_%u", (long)getpid(), counter++);
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
	sh_err_clear(&err);
	if (sh_db_open(pg, &opt, &db, &err) < 0) {
		fprintf(stderr, "tu_database: %s\n", err.msg);
		return -1;
	}
	rc = sh_db_exec(db, sql, &err);
	sh_db_close(db);
	if (rc < 0)
		return -1;
	return snprintf(out, size, "%s%soptions=-csearch_path%%3D%s", pg,
			strchr(pg, '?') ? "&" : "?", schema) < (int)size ? 0 : -1;
}

static inline int
tu_write_config(const char *dir, const char *extra, char *out)
{
	char text[4 * PATH_MAX + 1024], database[PATH_MAX];
	int n;

	if (tu_database(dir, database, sizeof(database)) < 0)
		return -1;
	n = snprintf(text, sizeof(text),
		     "# written by the unit tests\n"
		     "database = %s\n"
		     "spool = %s/spool\n"
		     "secret_key_file = %s/secret.key\n"
		     "public_url = " TU_PUBLIC_URL "\n"
		     "log = stderr\n"
		     "%s",
		     database, dir, dir, extra ? extra : "");
	if (n < 0 || n >= (int)sizeof(text))
		return -1;
	tu_join(out, dir, "stackhook.conf");
	return tu_write_file(out, text);
}

/*
 * Does what `stackhook init` does for the config at config_path: creates
 * and migrates the database, the spool and the secret key.  Returns 0 or
 * -1 (with a line on stderr).
 */
static inline int
tu_init_instance(const char *config_path)
{
	struct sh_db_options opt = {.busy_timeout_ms = 1000, .create = true};
	struct sh_config *cfg = NULL;
	struct sh_db *db = NULL;
	struct sh_err err;
	bool created;
	int rc = -1;

	sh_err_clear(&err);
	if (sh_config_load(config_path, &cfg, &err) < 0 ||
	    sh_db_open(cfg->database, &opt, &db, &err) < 0 ||
	    sh_schema_migrate(db, NULL, &err) < 0 ||
	    sh_spool_prepare(cfg->spool, NULL, &err) < 0 ||
	    sh_crypto_create_key(cfg->secret_key_file, &created, &err) < 0) {
		fprintf(stderr, "tu_init_instance: %s\n", err.msg);
		goto out;
	}
	rc = 0;
out:
	sh_db_close(db);
	sh_config_free(cfg);
	return rc;
}

/* Writes a config into dir (see tu_write_config), initializes the instance
 * when init is true, and opens it into *out.  Returns 0 or -1. */
static inline int
tu_make_instance(const char *dir, const char *extra, bool init,
		 struct sh_instance **out)
{
	char conf[PATH_MAX];
	struct sh_err err;

	*out = NULL;
	sh_err_clear(&err);
	if (tu_write_config(dir, extra, conf) < 0)
		return -1;
	if (init && tu_init_instance(conf) < 0)
		return -1;
	if (sh_instance_open(conf, out, &err) < 0) {
		fprintf(stderr, "tu_make_instance: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* tu_make_instance in a new temporary directory dir: the start of the
 * fixtures that need a whole instance.  Returns 0 or -1. */
static inline int
tu_instance_open(struct tu_dir *dir, const char *extra, bool init,
		 struct sh_instance **out)
{
	*out = NULL;
	if (tu_mkdtemp(dir->path, sizeof(dir->path)) < 0)
		return -1;
	return tu_make_instance(dir->path, extra, init, out);
}

/* Undoes tu_instance_open, also a half-done one (inst NULL, dir empty).
 * Returns 0, or -1 when the directory stays. */
static inline int
tu_instance_close(struct tu_dir *dir, struct sh_instance *inst)
{
	sh_instance_free(inst);
	return dir->path[0] != '\0' ? tu_rmtree(dir->path) : 0;
}

/* cmocka fixtures: a fresh temporary directory per test in *state. */
static inline int
tu_dir_setup(void **state)
{
	struct tu_dir *d = calloc(1, sizeof(*d));

	if (d == NULL || tu_mkdtemp(d->path, sizeof(d->path)) < 0) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static inline int
tu_dir_teardown(void **state)
{
	struct tu_dir *d = *state;
	int rc;

	if (d == NULL)
		return 0;
	rc = tu_rmtree(d->path);
	free(d);
	*state = NULL;
	return rc < 0 ? -1 : 0;
}

/* true when the effective user is root (who bypasses file permissions). */
static inline bool
tu_is_root(void)
{
	return geteuid() == 0;
}

#endif
