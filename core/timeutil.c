#include "config.h"

#include <stdio.h>
#include <time.h>

#include "stackhook/timeutil.h"

int64_t
sh_time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

void
sh_time_iso8601(int64_t t, char out[SH_ISO8601_LEN + 1])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, SH_ISO8601_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, SH_ISO8601_LEN + 1, "1970-01-01T00:00:00Z");
}
