#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/config.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* Longest line we accept (libinih may allow fewer; it says how many). */
#define LINE_MAX_CHARS 1024

enum value_kind {
	V_STRING,
	V_ABS_PATH,    /* an absolute file system path */
	V_DATABASE,    /* an absolute path or a postgresql:// URI */
	V_HTTP_URL,
	V_RUN_URL,
	V_PREFIX,      /* a commit status name prefix */
	V_SIZE,
	V_DURATION_MS,
	V_DURATION_S,
	V_BOOL,
	V_LOG,
};

struct key_spec {
	const char *name;
	enum value_kind kind;
	size_t offset;
	bool required;
};

#define KEY(n, k, req) {#n, k, offsetof(struct sh_config, n), req}
static const struct key_spec key_specs[] = {
	KEY(database, V_DATABASE, true),
	KEY(spool, V_ABS_PATH, true),
	KEY(secret_key_file, V_ABS_PATH, true),
	KEY(public_url, V_HTTP_URL, true),
	KEY(user, V_STRING, false),
	KEY(run_url, V_RUN_URL, false),
	KEY(status_prefix, V_PREFIX, false),
	KEY(max_body, V_SIZE, false),
	KEY(busy_timeout_ms, V_DURATION_MS, false),
	KEY(trust_remote_user, V_BOOL, false),
	KEY(delivery_retention, V_DURATION_S, false),
	KEY(report_max_age, V_DURATION_S, false),
	KEY(retry_initial, V_DURATION_S, false),
	KEY(run_timeout, V_DURATION_S, false),
	KEY(log, V_LOG, false),
	KEY(aggregate_status, V_BOOL, false),
};
#undef KEY

/* The config file calls it busy_timeout; the struct says its unit. */
static const char *
spec_key_name(const struct key_spec *spec)
{
	return strcmp(spec->name, "busy_timeout_ms") == 0 ? "busy_timeout" :
							    spec->name;
}

#define AGENT_POOL_PREFIX "agent_pool."
#define AGENT_POOL_MAX 64

struct parser {
	FILE *file;
	char *line;
	size_t line_cap;
	int lineno;
	struct sh_config *cfg;
	bool seen[sizeof(key_specs) / sizeof(key_specs[0])];
	int error_line;  /* line of our first error, 0 = none */
	struct sh_err *err;
};

const char *
sh_config_default_path(void)
{
	const char *env = getenv("STACKHOOK_CONFIG");

	if (env != NULL && env[0] != '\0')
		return env;
	return SYSCONFDIR "/stackhook/stackhook.conf";
}

int
sh_config_parse_size(const char *text, size_t *out)
{
	unsigned long long n, mult = 1;
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno != 0)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	default:
		return -1;
	}
	/* Accept "10M", "10MB" and "10MiB" alike. */
	if (mult > 1 && strcmp(end, "iB") == 0)
		end += 2;
	else if (mult > 1 && (strcmp(end, "B") == 0 || strcmp(end, "b") == 0))
		end++;
	if (*end != '\0' || n > SIZE_MAX / mult)
		return -1;
	*out = (size_t)(n * mult);
	return 0;
}

int
sh_config_parse_duration_ms(const char *text, int64_t *out)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = {
		{"", 1000},          {"ms", 1},           {"s", 1000},
		{"m", 60 * 1000},    {"h", 3600 * 1000}, {"d", 86400 * 1000},
	};
	long long n;
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (n > INT64_MAX / units[i].ms)
			return -1;
		*out = n * units[i].ms;
		return 0;
	}
	return -1;
}

int
sh_config_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static bool
is_http_url(const char *v)
{
	const char *host;

	if (strncmp(v, "https://", 8) == 0)
		host = v + 8;
	else if (strncmp(v, "http://", 7) == 0)
		host = v + 7;
	else
		return false;
	if (*host == '\0' || *host == '/')
		return false;
	for (const char *p = v; *p; p++)
		if (!isgraph((unsigned char)*p))
			return false;
	return true;
}

static bool
is_status_prefix(const char *v)
{
	size_t len = strlen(v);

	if (len == 0 || len > 64)
		return false;
	for (const char *p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-/:", *p))
			return false;
	return true;
}

/* Checks value for spec's kind and stores it.  Returns a reason or NULL. */
static const char *
store_value(struct sh_config *cfg, const struct key_spec *spec, const char *value)
{
	void *field = (char *)cfg + spec->offset;
	int64_t ms;
	char *copy;

	switch (spec->kind) {
	case V_SIZE:
		if (sh_config_parse_size(value, (size_t *)field) < 0)
			return "expected a size such as 10M, 512K or 1048576";
		if (*(size_t *)field < 1024 || *(size_t *)field > (1ULL << 30))
			return "must be between 1K and 1G";
		return NULL;
	case V_DURATION_MS:
	case V_DURATION_S:
		if (sh_config_parse_duration_ms(value, &ms) < 0)
			return "expected a duration such as 500ms, 30s, 5m, 12h or 7d";
		if (ms <= 0)
			return "must be longer than zero";
		*(int64_t *)field = spec->kind == V_DURATION_MS ? ms : (ms + 999) / 1000;
		return NULL;
	case V_BOOL:
		return sh_config_parse_bool(value, (bool *)field) < 0 ?
			       "expected yes or no" :
			       NULL;
	case V_LOG:
		if (strcmp(value, "syslog") == 0)
			*(enum sh_log_target *)field = SH_LOG_SYSLOG;
		else if (strcmp(value, "stderr") == 0)
			*(enum sh_log_target *)field = SH_LOG_STDERR;
		else
			return "expected syslog or stderr";
		return NULL;
	case V_ABS_PATH:
		if (value[0] != '/')
			return "must be an absolute path";
		break;
	case V_DATABASE:
		if (value[0] != '/' && strncmp(value, "postgresql://", 13) != 0 &&
		    strncmp(value, "postgres://", 11) != 0)
			return "must be an absolute path (SQLite) or a postgresql:// URI";
		break;
	case V_HTTP_URL:
		if (!is_http_url(value))
			return "must be an http:// or https:// URL";
		break;
	case V_RUN_URL:
		if (strstr(value, "{run}") == NULL)
			return "must contain {run}";
		break;
	case V_PREFIX:
		if (!is_status_prefix(value))
			return "must be 1 to 64 letters, digits or . _ - / :";
		break;
	case V_STRING:
		if (value[0] == '\0')
			return "must not be empty";
		break;
	}
	copy = strdup(value);
	if (copy == NULL)
		return "out of memory";
	free(*(char **)field);
	*(char **)field = copy;
	return NULL;
}

static const char *
store_agent_pool(struct sh_config *cfg, const char *name, const char *url)
{
	struct sh_agent_pool *pools;
	const char *p;

	if (name[0] == '\0')
		return "needs a pool name after \"agent_pool.\"";
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-.", *p))
			return "pool names are letters, digits, '_', '-' and '.'";
	if (!is_http_url(url))
		return "must be an http:// or https:// URL";
	if (cfg->agent_pool_count >= AGENT_POOL_MAX)
		return "too many agent pools (at most 64)";
	pools = realloc(cfg->agent_pools,
			(cfg->agent_pool_count + 1) * sizeof(*pools));
	if (pools == NULL)
		return "out of memory";
	cfg->agent_pools = pools;
	pools[cfg->agent_pool_count].name = strdup(name);
	pools[cfg->agent_pool_count].url = strdup(url);
	cfg->agent_pool_count++;
	if (pools[cfg->agent_pool_count - 1].name == NULL ||
	    pools[cfg->agent_pool_count - 1].url == NULL)
		return "out of memory";
	return NULL;
}

/* Records the first error; later ones are not reported. */
static int
parser_fail(struct parser *p, const char *key, const char *reason)
{
	if (p->error_line == 0) {
		p->error_line = p->lineno;
		sh_err_set(p->err, SH_E_CONFIG, NULL, "%s:%d: %s: %s",
			   p->cfg->path, p->lineno, key, reason);
	}
	return 0;
}

/* Cuts an inline "# comment" (libinih only knows ';' inline). */
static void
cut_hash_comment(char *value)
{
	for (char *p = value; *p; p++) {
		if (*p == '#' && (p == value || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	}
	for (size_t n = strlen(value); n > 0 && isspace((unsigned char)value[n - 1]);)
		value[--n] = '\0';
}

static int
on_key(void *user, const char *section, const char *name, const char *raw)
{
	struct parser *p = user;
	const char *reason;
	char value[LINE_MAX_CHARS];

	if (section[0] != '\0')
		return parser_fail(p, name, "sections are not used in this file");
	snprintf(value, sizeof(value), "%s", raw);
	cut_hash_comment(value);

	if (strncmp(name, AGENT_POOL_PREFIX, strlen(AGENT_POOL_PREFIX)) == 0) {
		const char *pool = name + strlen(AGENT_POOL_PREFIX);

		if (sh_config_agent_pool(p->cfg, pool) != NULL)
			return parser_fail(p, name, "given twice");
		reason = store_agent_pool(p->cfg, pool, value);
		return reason ? parser_fail(p, name, reason) : 1;
	}
	for (size_t i = 0; i < sizeof(key_specs) / sizeof(key_specs[0]); i++) {
		if (strcmp(name, spec_key_name(&key_specs[i])) != 0)
			continue;
		if (p->seen[i])
			return parser_fail(p, name, "given twice");
		p->seen[i] = true;
		reason = store_value(p->cfg, &key_specs[i], value);
		return reason ? parser_fail(p, name, reason) : 1;
	}
	return parser_fail(p, name, "unknown key");
}

/* fgets-like reader for libinih that counts lines and refuses long ones. */
static char *
read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	ssize_t n = getline(&p->line, &p->line_cap, p->file);
	size_t start;

	if (n < 0)
		return NULL;
	p->lineno++;
	/* libinih's line buffer is fixed; a longer line is an error, not a cut. */
	if (n > num - 1 || n > LINE_MAX_CHARS) {
		char reason[64];

		snprintf(reason, sizeof(reason), "longer than %d characters",
			 (num - 2 < LINE_MAX_CHARS ? num - 2 : LINE_MAX_CHARS));
		parser_fail(p, "line", reason);
		str[0] = '\0';
		return str;
	}
	/* libinih reads an indented line as the continuation of the previous
	 * value; here indentation means nothing, so drop it. */
	start = strspn(p->line, " \t");
	memcpy(str, p->line + start, (size_t)n - start);
	str[n - start] = '\0';
	return str;
}

static int
set_defaults(struct sh_config *cfg)
{
	cfg->run_url = strdup("{public_url}/runs/{run}");
	cfg->status_prefix = strdup("stackhook");
	cfg->max_body = 10u << 20;
	cfg->busy_timeout_ms = 3000;
	cfg->trust_remote_user = false;
	cfg->delivery_retention = 7 * 86400;
	cfg->report_max_age = 3 * 86400;
	cfg->retry_initial = 30;
	cfg->run_timeout = 12 * 3600;
	cfg->log = SH_LOG_SYSLOG;
	cfg->aggregate_status = false;
	return cfg->run_url && cfg->status_prefix ? 0 : -1;
}

static int
check_required(struct parser *p)
{
	for (size_t i = 0; i < sizeof(key_specs) / sizeof(key_specs[0]); i++) {
		if (key_specs[i].required && !p->seen[i])
			return sh_err_set(p->err, SH_E_CONFIG, NULL,
					  "%s: required key `%s` is missing",
					  p->cfg->path, key_specs[i].name);
	}
	/* Webhook URLs are built as public_url + "/webhooks/...". */
	for (size_t n = strlen(p->cfg->public_url);
	     n > 0 && p->cfg->public_url[n - 1] == '/';)
		p->cfg->public_url[--n] = '\0';
	return 0;
}

int
sh_config_load(const char *path, struct sh_config **out, struct sh_err *err)
{
	struct parser p = {0};
	int rc;

	*out = NULL;
	p.err = err;
	p.cfg = calloc(1, sizeof(*p.cfg));
	if (p.cfg == NULL || set_defaults(p.cfg) < 0 ||
	    (p.cfg->path = strdup(path)) == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		goto fail;
	}
	p.file = fopen(path, "re");
	if (p.file == NULL) {
		sh_err_errno(err, SH_E_CONFIG, errno, "cannot read config file %s",
			     path);
		goto fail;
	}
	rc = ini_parse_stream(read_line, &p, on_key, &p);
	if (ferror(p.file)) {
		sh_err_errno(err, SH_E_CONFIG, errno, "cannot read config file %s",
			     path);
		goto fail;
	}
	if (rc > 0 && (p.error_line == 0 || rc < p.error_line)) {
		sh_err_set(err, SH_E_CONFIG, NULL,
			   "%s:%d: expected `key = value`", path, rc);
		goto fail;
	}
	if (rc != 0 || p.error_line != 0) {
		if (p.error_line == 0)
			sh_err_set(err, SH_E_CONFIG, NULL,
				   "%s: cannot parse the file", path);
		goto fail;
	}
	if (check_required(&p) < 0)
		goto fail;
	fclose(p.file);
	free(p.line);
	*out = p.cfg;
	return 0;
fail:
	if (p.file != NULL)
		fclose(p.file);
	free(p.line);
	sh_config_free(p.cfg);
	return -1;
}

void
sh_config_free(struct sh_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->agent_pool_count; i++) {
		free(cfg->agent_pools[i].name);
		free(cfg->agent_pools[i].url);
	}
	free(cfg->agent_pools);
	free(cfg->path);
	free(cfg->database);
	free(cfg->spool);
	free(cfg->secret_key_file);
	free(cfg->user);
	free(cfg->public_url);
	free(cfg->run_url);
	free(cfg->status_prefix);
	free(cfg);
}

const char *
sh_config_agent_pool(const struct sh_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->agent_pool_count; i++)
		if (cfg->agent_pools[i].name != NULL &&
		    strcmp(cfg->agent_pools[i].name, name) == 0)
			return cfg->agent_pools[i].url;
	return NULL;
}
