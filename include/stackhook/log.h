/*
 * log.h - one logger for the process: syslog or standard error.
 *
 * Messages follow "where: object: reason" and never carry a secret, a token
 * or a credential received from a client.  The logger is process-wide state
 * set once at startup; sh_log() is safe to call from several threads.
 */
#ifndef STACKHOOK_LOG_H
#define STACKHOOK_LOG_H

#include <syslog.h>

enum sh_log_target {
	SH_LOG_STDERR = 0, /* the default until sh_log_open() is called */
	SH_LOG_SYSLOG,
};

/*
 * Sends further messages to target.  ident (a static string, kept by
 * pointer) names the program in each line.  Messages of a priority above
 * max_priority (LOG_INFO, LOG_DEBUG, ...) are dropped.
 */
void sh_log_open(enum sh_log_target target, const char *ident, int max_priority);

/* Logs at priority (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG). */
void sh_log(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
