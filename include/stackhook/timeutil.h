/*
 * timeutil.h - wall-clock time as stored (Unix seconds) and as shown (UTC).
 */
#ifndef STACKHOOK_TIMEUTIL_H
#define STACKHOOK_TIMEUTIL_H

#include <stdint.h>

#define SH_ISO8601_LEN 20 /* "2026-11-26T10:00:00Z" */

/* Seconds since the epoch. */
int64_t sh_time_now(void);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ" into out. */
void sh_time_iso8601(int64_t t, char out[SH_ISO8601_LEN + 1]);

#endif
