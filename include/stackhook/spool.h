/*
 * spool.h - the spool directory where GitLab updates wait for the reporter
 * (SPEC §6): tmp/ for entries being written, new/ for ready ones,
 * deferred/ for retries, failed/ for those given up on, and the lock file.
 */
#ifndef STACKHOOK_SPOOL_H
#define STACKHOOK_SPOOL_H

#include <stdbool.h>

#include "stackhook/err.h"

/* Creates the spool directory and its subdirectories (mode 0700) where
 * missing.  *created (may be NULL) tells whether anything was made.
 * Returns 0 or -1 (err set). */
int sh_spool_prepare(const char *spool, bool *created, struct sh_err *err);

/* 0 when the spool's directories exist and this process may write them;
 * else -1 with err (SH_E_STORAGE) saying which. */
int sh_spool_check(const char *spool, struct sh_err *err);

/* The subdirectories, in the order sh_spool_prepare() makes them. */
extern const char *const sh_spool_dirs[];
#define SH_SPOOL_DIR_COUNT 4

#endif
