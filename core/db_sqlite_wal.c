/*
 * db_sqlite_wal.c - an SQLite VFS that writes a transaction's WAL frames
 * with one pwrite() instead of two for each page.
 *
 * SQLite appends a frame to the WAL as two writes, its 24-byte header and
 * its page, and a batch of deliveries touches some twenty pages: forty
 * system calls, the largest share of a delivery's cost once fsync is
 * shared (bench/ingest --target eatmydata).  This VFS is the default one
 * with the WAL file's writes gathered in memory while they follow one
 * another, and written out before anything could need them on disk: an
 * xSync (every commit: the store runs with synchronous=FULL, which syncs
 * the WAL before the commit becomes visible in the WAL index), a read, a
 * truncate, a size query, a file control, a write elsewhere, or a close.
 * So every process sees the same file as without it, and a failed write
 * fails the commit that needed it, as before.
 */
#include "config.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "db_backend.h"

/* At most this much in one write: the unix VFS takes up to 128 KiB - 1
 * (it masks larger ones and calls the short write a full disk). */
#define GATHER_MAX (120 * 1024)
#define GATHER_FIRST (32 * 1024)

struct wal_file {
	sqlite3_file base; /* pMethods = &wal_methods */
	sqlite3_file *real; /* the default VFS's file, right after this */
	unsigned char *buf;
	size_t len, cap;
	sqlite3_int64 offset; /* where buf[0] goes */
};

/* The real file follows at an offset that keeps it aligned. */
#define REAL_OFFSET \
	((sizeof(struct wal_file) + sizeof(void *) - 1) & ~(sizeof(void *) - 1))

static sqlite3_vfs *real_vfs;
static sqlite3_vfs gather_vfs;
static int register_rc = SQLITE_OK;
static pthread_once_t register_once = PTHREAD_ONCE_INIT;

static int
flush(struct wal_file *f)
{
	int rc;

	if (f->len == 0)
		return SQLITE_OK;
	rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->offset);
	f->len = 0;
	return rc;
}

static int
wal_write(sqlite3_file *file, const void *data, int amount, sqlite3_int64 at)
{
	struct wal_file *f = (struct wal_file *)file;
	size_t n = (size_t)amount;
	int rc;

	if (f->len > 0 && at == f->offset + (sqlite3_int64)f->len &&
	    f->len + n <= GATHER_MAX) {
		if (f->len + n > f->cap) {
			size_t cap = f->cap * 2;
			unsigned char *grown;

			while (cap < f->len + n)
				cap *= 2;
			if (cap > GATHER_MAX)
				cap = GATHER_MAX;
			grown = realloc(f->buf, cap);
			if (grown == NULL)
				goto write_through;
			f->buf = grown;
			f->cap = cap;
		}
		memcpy(f->buf + f->len, data, n);
		f->len += n;
		return SQLITE_OK;
	}
write_through:
	rc = flush(f);
	if (rc != SQLITE_OK)
		return rc;
	if (f->buf == NULL && (f->buf = malloc(GATHER_FIRST)) != NULL)
		f->cap = GATHER_FIRST;
	if (n > f->cap)
		return f->real->pMethods->xWrite(f->real, data, amount, at);
	memcpy(f->buf, data, n);
	f->len = n;
	f->offset = at;
	return SQLITE_OK;
}

static int
wal_close(sqlite3_file *file)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc = flush(f), closed;

	closed = f->real->pMethods->xClose(f->real);
	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : closed;
}

static int
wal_read(sqlite3_file *file, void *out, int amount, sqlite3_int64 at)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc = flush(f);

	return rc != SQLITE_OK ? rc :
	       f->real->pMethods->xRead(f->real, out, amount, at);
}

static int
wal_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc = flush(f);

	return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int
wal_sync(sqlite3_file *file, int flags)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc = flush(f);

	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int
wal_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc = flush(f);

	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

static int
wal_file_control(sqlite3_file *file, int op, void *arg)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc = flush(f);

	return rc != SQLITE_OK ? rc :
	       f->real->pMethods->xFileControl(f->real, op, arg);
}

/* The rest is the real file's, unchanged. */
#define REAL(file) (((struct wal_file *)(file))->real)

static int
wal_lock(sqlite3_file *file, int level)
{
	return REAL(file)->pMethods->xLock(REAL(file), level);
}

static int
wal_unlock(sqlite3_file *file, int level)
{
	return REAL(file)->pMethods->xUnlock(REAL(file), level);
}

static int
wal_check_reserved(sqlite3_file *file, int *out)
{
	return REAL(file)->pMethods->xCheckReservedLock(REAL(file), out);
}

static int
wal_sector_size(sqlite3_file *file)
{
	return REAL(file)->pMethods->xSectorSize(REAL(file));
}

static int
wal_device(sqlite3_file *file)
{
	return REAL(file)->pMethods->xDeviceCharacteristics(REAL(file));
}

static int
wal_shm_map(sqlite3_file *file, int region, int size, int extend,
	    void volatile **out)
{
	return REAL(file)->pMethods->xShmMap(REAL(file), region, size, extend, out);
}

static int
wal_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	return REAL(file)->pMethods->xShmLock(REAL(file), offset, n, flags);
}

static void
wal_shm_barrier(sqlite3_file *file)
{
	REAL(file)->pMethods->xShmBarrier(REAL(file));
}

static int
wal_shm_unmap(sqlite3_file *file, int delete_flag)
{
	return REAL(file)->pMethods->xShmUnmap(REAL(file), delete_flag);
}

static int
wal_fetch(sqlite3_file *file, sqlite3_int64 at, int amount, void **out)
{
	return REAL(file)->pMethods->xFetch(REAL(file), at, amount, out);
}

static int
wal_unfetch(sqlite3_file *file, sqlite3_int64 at, void *page)
{
	return REAL(file)->pMethods->xUnfetch(REAL(file), at, page);
}

static const sqlite3_io_methods wal_methods = {
	.iVersion = 3,
	.xClose = wal_close,
	.xRead = wal_read,
	.xWrite = wal_write,
	.xTruncate = wal_truncate,
	.xSync = wal_sync,
	.xFileSize = wal_file_size,
	.xLock = wal_lock,
	.xUnlock = wal_unlock,
	.xCheckReservedLock = wal_check_reserved,
	.xFileControl = wal_file_control,
	.xSectorSize = wal_sector_size,
	.xDeviceCharacteristics = wal_device,
	.xShmMap = wal_shm_map,
	.xShmLock = wal_shm_lock,
	.xShmBarrier = wal_shm_barrier,
	.xShmUnmap = wal_shm_unmap,
	.xFetch = wal_fetch,
	.xUnfetch = wal_unfetch,
};

/* The database and its other files are the real VFS's, opened in place;
 * the WAL is wrapped. */
static int
gather_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
	    int *out_flags)
{
	struct wal_file *f = (struct wal_file *)file;
	int rc;

	(void)vfs;
	if (!(flags & SQLITE_OPEN_WAL))
		return real_vfs->xOpen(real_vfs, name, file, flags, out_flags);
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)((char *)file + REAL_OFFSET);
	rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK)
		return rc;
	/* Every method is forwarded: the real file must have them all. */
	if (f->real->pMethods == NULL || f->real->pMethods->iVersion < 3) {
		if (f->real->pMethods != NULL)
			f->real->pMethods->xClose(f->real);
		return SQLITE_CANTOPEN;
	}
	f->base.pMethods = &wal_methods;
	return SQLITE_OK;
}

static int
gather_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int
gather_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int
gather_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static int
gather_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int
gather_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return real_vfs->xSleep(real_vfs, us);
}

static int
gather_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int
gather_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xGetLastError(real_vfs, n, out);
}

static int
gather_current_time_ms(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

/* xDlOpen and the rest stay NULL: the store loads no SQLite extensions. */
static void
register_vfs(void)
{
	real_vfs = sqlite3_vfs_find(NULL);
	if (real_vfs == NULL || real_vfs->iVersion < 2) {
		register_rc = SQLITE_ERROR;
		return;
	}
	gather_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)REAL_OFFSET + real_vfs->szOsFile,
		.mxPathname = real_vfs->mxPathname,
		.zName = SH_SQLITE_VFS,
		.xOpen = gather_open,
		.xDelete = gather_delete,
		.xAccess = gather_access,
		.xFullPathname = gather_full_pathname,
		.xRandomness = gather_randomness,
		.xSleep = gather_sleep,
		.xCurrentTime = gather_current_time,
		.xGetLastError = gather_last_error,
		.xCurrentTimeInt64 = gather_current_time_ms,
	};
	register_rc = sqlite3_vfs_register(&gather_vfs, 0);
}

const char *
sh_db_sqlite_vfs(void)
{
	pthread_once(&register_once, register_vfs);
	return register_rc == SQLITE_OK ? SH_SQLITE_VFS : NULL;
}
