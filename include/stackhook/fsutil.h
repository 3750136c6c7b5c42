/*
 * fsutil.h - durable file operations shared by the key file and the spool.
 */
#ifndef STACKHOOK_FSUTIL_H
#define STACKHOOK_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "stackhook/err.h"

/* read(2) until len bytes or end of file; retries EINTR.  Returns the
 * bytes read, or -1 with errno set. */
ssize_t sh_fs_read_full(int fd, void *buf, size_t len);

/* write(2) all len bytes; retries EINTR and short writes.  0 or -1 (errno). */
int sh_fs_write_full(int fd, const void *buf, size_t len);

/* fsync(2) the directory holding path (or path itself when is_dir), so that
 * a create or rename inside it survives a crash.  0 or -1 (err set). */
int sh_fs_fsync_dir(const char *path, bool is_dir, struct sh_err *err);

/*
 * Creates path (which must not exist) with mode 0600, writes len bytes,
 * fsyncs the file and its directory.  On failure nothing is left behind.
 * Returns 0 or -1 (err set).
 */
int sh_fs_write_new_file(const char *path, const void *data, size_t len,
			 struct sh_err *err);

/*
 * Makes directory path with mode 0700 unless it exists.  *created tells
 * which happened (may be NULL).  Returns 0 or -1 (err set; also when path
 * exists but is not a directory).
 */
int sh_fs_mkdir(const char *path, bool *created, struct sh_err *err);

/* The directory part of path in a new string (free it), "." for none. */
char *sh_fs_dirname(const char *path);

#endif
