#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "stackhook/fsutil.h"
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
