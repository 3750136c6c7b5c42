#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stackhook/fsutil.h"

ssize_t
sh_fs_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int
sh_fs_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

char *
sh_fs_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int
sh_fs_fsync_dir(const char *path, bool is_dir, struct sh_err *err)
{
	char *dir = is_dir ? strdup(path) : sh_fs_dirname(path);
	int fd = -1, rc = -1;

	if (dir == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		sh_err_errno(err, SH_E_IO, errno, "cannot sync directory %s", dir);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	return rc;
}

int
sh_fs_write_new_file(const char *path, const void *data, size_t len,
		     struct sh_err *err)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return sh_err_errno(err, SH_E_IO, errno, "cannot create %s", path);
	if (sh_fs_write_full(fd, data, len) < 0 || fsync(fd) < 0) {
		sh_err_errno(err, SH_E_IO, errno, "cannot write %s", path);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		sh_err_errno(err, SH_E_IO, errno, "cannot write %s", path);
		goto fail;
	}
	fd = -1;
	if (sh_fs_fsync_dir(path, false, err) < 0)
		goto fail;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(path);
	return -1;
}

int
sh_fs_mkdir(const char *path, bool *created, struct sh_err *err)
{
	struct stat st;

	if (created != NULL)
		*created = false;
	if (mkdir(path, 0700) == 0) {
		if (created != NULL)
			*created = true;
		return sh_fs_fsync_dir(path, false, err);
	}
	if (errno != EEXIST)
		return sh_err_errno(err, SH_E_IO, errno, "cannot create directory %s",
				    path);
	if (stat(path, &st) < 0)
		return sh_err_errno(err, SH_E_IO, errno, "cannot stat %s", path);
	if (!S_ISDIR(st.st_mode))
		return sh_err_set(err, SH_E_IO, NULL, "%s exists and is not a directory",
				  path);
	return 0;
}
