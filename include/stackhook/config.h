/*
 * config.h - the one config file both programs read (SPEC §2).
 *
 * The file is `key = value` lines; `#` or `;` start a comment (at the start
 * of a line, or after white space).  A missing or unreadable file, an
 * unknown or repeated key, or a bad value is an error naming the file, the
 * line and the key.
 */
#ifndef STACKHOOK_CONFIG_H
#define STACKHOOK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stackhook/err.h"
#include "stackhook/log.h"

struct sh_agent_pool {
	char *name; /* the NAME of private://NAME */
	char *url;  /* where the reporter reaches it */
};

struct sh_config {
	char *path;            /* the file it was read from */
	char *database;        /* SQLite file path or postgresql:// URI */
	char *spool;           /* spool directory */
	char *secret_key_file; /* 32 random bytes sealing API tokens */
	char *user;            /* owner of database, key and spool; NULL = none */
	char *public_url;      /* base of webhook URLs, without a trailing '/' */
	char *run_url;         /* target_url template: {public_url}, {run} */
	char *status_prefix;
	size_t max_body;             /* bytes */
	int64_t busy_timeout_ms;
	bool trust_remote_user;
	int64_t delivery_retention;  /* seconds */
	int64_t report_max_age;      /* seconds */
	int64_t retry_initial;       /* seconds */
	int64_t run_timeout;         /* seconds */
	struct sh_agent_pool *agent_pools;
	size_t agent_pool_count;
	enum sh_log_target log;
	bool aggregate_status;
};

/*
 * The config file to read: $STACKHOOK_CONFIG when set and not empty, else
 * $(sysconfdir)/stackhook/stackhook.conf.  The string is static or the
 * environment's; do not free it.
 */
const char *sh_config_default_path(void);

/*
 * Reads and checks the file at path.  On success *out owns a new config
 * (free it with sh_config_free()) and 0 is returned; on failure -1 with err
 * set (code SH_E_CONFIG) naming the file, line and key.
 */
int sh_config_load(const char *path, struct sh_config **out, struct sh_err *err);

/* Frees cfg and everything it holds.  NULL is allowed. */
void sh_config_free(struct sh_config *cfg);

/*
 * Value parsers, shared with the CLI's options.  They return 0 and set *out,
 * or -1 when text is not a valid value (no error struct: the caller knows
 * which key or option it parses).
 *   size:     "1048576", "512K", "10M", "1G" (binary multiples)
 *   duration: "30", "30s", "500ms", "5m", "12h", "7d" (bare number = seconds)
 *   bool:     yes/no, true/false, on/off, 1/0
 */
int sh_config_parse_size(const char *text, size_t *out);
int sh_config_parse_duration_ms(const char *text, int64_t *out);
int sh_config_parse_bool(const char *text, bool *out);

/* The URL of the agent pool NAME, or NULL when the config has none. */
const char *sh_config_agent_pool(const struct sh_config *cfg, const char *name);

#endif
