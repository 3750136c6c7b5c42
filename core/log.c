#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "stackhook/log.h"

static enum sh_log_target log_target = SH_LOG_STDERR;
static const char *log_ident = "stackhook";
static int log_max_priority = LOG_INFO;

void
sh_log_open(enum sh_log_target target, const char *ident, int max_priority)
{
	log_target = target;
	log_ident = ident;
	log_max_priority = max_priority;
	if (target == SH_LOG_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static const char *
priority_name(int priority)
{
	switch (priority) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void
sh_log(int priority, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (priority > log_max_priority)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Messages quote what clients sent: a line break must not forge a
	 * line of its own. */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';

	if (log_target == SH_LOG_SYSLOG) {
		syslog(priority, "%s", line);
		return;
	}
	/* One write per line so that lines of concurrent processes (Apache's
	 * error log, a shared stderr) do not interleave. */
	fprintf(stderr, "%s[%ld]: %s: %s\n", log_ident, (long)getpid(),
		priority_name(priority), line);
}
