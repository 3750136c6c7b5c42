/*
 * test_config.c - core/config.c: the config file and its value parsers.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stackhook/config.h"
#include "testutil.h"

#define REQUIRED                                                               \
	"database = /var/lib/stackhook/stackhook.db\n"                         \
	"spool = /var/spool/stackhook\n"                                       \
	"secret_key_file = /etc/stackhook/secret.key\n"                        \
	"public_url = https://ci.example.com/stackhook\n"

/* The file load_text writes: <tmp>/stackhook.conf, into path. */
static char *
conf_path(void **state, char path[PATH_MAX])
{
	struct tu_dir *d = *state;

	return tu_join(path, d->path, "stackhook.conf");
}

/* Writes text to conf_path and loads it. */
static int
load_text(void **state, const char *text, struct sh_config **cfg,
	  struct sh_err *err)
{
	char path[PATH_MAX];

	assert_int_equal(tu_write_file(conf_path(state, path), text), 0);
	sh_err_clear(err);
	*cfg = NULL;
	return sh_config_load(path, cfg, err);
}

/* Loads text, which must load; returns the config (free it). */
static struct sh_config *
load_ok(void **state, const char *text)
{
	struct sh_config *cfg;
	struct sh_err err;

	if (load_text(state, text, &cfg, &err) < 0)
		fail_msg("config refused: %s", err.msg);
	assert_non_null(cfg);
	return cfg;
}

/*
 * Every refusal is the same kind: the load fails with SH_E_CONFIG, leaves
 * no config behind (also one set before), and its message names the file
 * -- here path, and each string of ap up to a NULL.
 */
static void
vexpect_refused(const char *path, va_list ap)
{
	struct sh_config *cfg = (struct sh_config *)&cfg;
	struct sh_err err;
	const char *s;

	sh_err_clear(&err);
	if (sh_config_load(path, &cfg, &err) == 0) {
		sh_config_free(cfg);
		fail_msg("%s loaded but should be refused", path);
	}
	assert_null(cfg);
	assert_int_equal(err.code, SH_E_CONFIG);
	if (strstr(err.msg, path) == NULL)
		fail_msg("message \"%s\" does not name \"%s\"", err.msg, path);
	while ((s = va_arg(ap, const char *)) != NULL)
		if (strstr(err.msg, s) == NULL)
			fail_msg("message \"%s\" does not name \"%s\"", err.msg, s);
}

/* vexpect_refused for the file at path. */
static void
expect_file_refused(const char *path, ...)
{
	va_list ap;

	va_start(ap, path);
	vexpect_refused(path, ap);
	va_end(ap);
}

/* vexpect_refused for text, written to conf_path. */
static void
expect_refused(void **state, const char *text, ...)
{
	char path[PATH_MAX];
	va_list ap;

	assert_int_equal(tu_write_file(conf_path(state, path), text), 0);
	va_start(ap, text);
	vexpect_refused(path, ap);
	va_end(ap);
}

/* Loads text, which must fail; checks the message names "PATH:LINE: key". */
static void
expect_error_at(void **state, const char *text, int line, const char *key)
{
	char path[PATH_MAX], where[PATH_MAX + 64];

	snprintf(where, sizeof(where), "%s:%d: %s", conf_path(state, path), line,
		 key);
	expect_refused(state, text, where, NULL);
}

static void
test_defaults(void **state)
{
	char path[PATH_MAX];
	struct sh_config *cfg = load_ok(state, REQUIRED);

	assert_string_equal(cfg->path, conf_path(state, path));
	assert_string_equal(cfg->database, "/var/lib/stackhook/stackhook.db");
	assert_string_equal(cfg->spool, "/var/spool/stackhook");
	assert_string_equal(cfg->secret_key_file, "/etc/stackhook/secret.key");
	assert_string_equal(cfg->public_url, "https://ci.example.com/stackhook");
	assert_null(cfg->user);
	assert_string_equal(cfg->run_url, "{public_url}/runs/{run}");
	assert_string_equal(cfg->status_prefix, "stackhook");
	assert_int_equal(cfg->max_body, 10 * 1024 * 1024);
	assert_int_equal(cfg->busy_timeout_ms, 3000);
	assert_false(cfg->trust_remote_user);
	assert_int_equal(cfg->delivery_retention, 7 * 86400);
	assert_int_equal(cfg->report_max_age, 3 * 86400);
	assert_int_equal(cfg->retry_initial, 30);
	assert_int_equal(cfg->run_timeout, 12 * 3600);
	assert_int_equal(cfg->log, SH_LOG_SYSLOG);
	assert_false(cfg->aggregate_status);
	assert_int_equal(cfg->agent_pool_count, 0);
	assert_null(sh_config_agent_pool(cfg, "anything"));
	sh_config_free(cfg);
}

static void
test_every_key(void **state)
{
	static const char text[] =
		"database = postgresql://stackhook@db.example/stackhook\n"
		"spool = /srv/spool\n"
		"secret_key_file = /srv/secret.key\n"
		"user = www-data\n"
		"public_url = http://ci.example.com:8080/hooks\n"
		"run_url = https://platform.example/runs/{run}?from={public_url}\n"
		"status_prefix = ci/iac-1.x:\n"
		"max_body = 512K\n"
		"busy_timeout = 500ms\n"
		"trust_remote_user = yes\n"
		"delivery_retention = 2d\n"
		"report_max_age = 5h\n"
		"retry_initial = 1m\n"
		"run_timeout = 90\n"
		"agent_pool.edge = https://gitlab.internal.example\n"
		"agent_pool.dc-2_b.x = http://10.0.0.1:8080/gitlab\n"
		"log = stderr\n"
		"aggregate_status = on\n";
	struct sh_config *cfg = load_ok(state, text);

	assert_string_equal(cfg->database,
			    "postgresql://stackhook@db.example/stackhook");
	assert_string_equal(cfg->spool, "/srv/spool");
	assert_string_equal(cfg->secret_key_file, "/srv/secret.key");
	assert_string_equal(cfg->user, "www-data");
	assert_string_equal(cfg->public_url, "http://ci.example.com:8080/hooks");
	assert_string_equal(cfg->run_url,
			    "https://platform.example/runs/{run}?from={public_url}");
	assert_string_equal(cfg->status_prefix, "ci/iac-1.x:");
	assert_int_equal(cfg->max_body, 512 * 1024);
	assert_int_equal(cfg->busy_timeout_ms, 500);
	assert_true(cfg->trust_remote_user);
	assert_int_equal(cfg->delivery_retention, 2 * 86400);
	assert_int_equal(cfg->report_max_age, 5 * 3600);
	assert_int_equal(cfg->retry_initial, 60);
	assert_int_equal(cfg->run_timeout, 90);
	assert_int_equal(cfg->log, SH_LOG_STDERR);
	assert_true(cfg->aggregate_status);
	assert_int_equal(cfg->agent_pool_count, 2);
	assert_string_equal(sh_config_agent_pool(cfg, "edge"),
			    "https://gitlab.internal.example");
	assert_string_equal(sh_config_agent_pool(cfg, "dc-2_b.x"),
			    "http://10.0.0.1:8080/gitlab");
	assert_null(sh_config_agent_pool(cfg, "dc"));
	assert_null(sh_config_agent_pool(cfg, "EDGE"));
	sh_config_free(cfg);
}

/* Durations in whole seconds round up: half a second is not zero. */
static void
test_seconds_round_up(void **state)
{
	struct sh_config *cfg;

	cfg = load_ok(state, REQUIRED "delivery_retention = 500ms\n"
				      "retry_initial = 1500ms\n"
				      "busy_timeout = 2s\n");
	assert_int_equal(cfg->delivery_retention, 1);
	assert_int_equal(cfg->retry_initial, 2);
	assert_int_equal(cfg->busy_timeout_ms, 2000);
	sh_config_free(cfg);
}

/* Nine lines with comments in every place; test_comments adds a tenth. */
#define COMMENTED                                                      \
	"# a comment at the start of a line\n"                         \
	"; another one\n"                                              \
	"   # an indented comment\n"                                   \
	"\n"                                                           \
	"database = /db/stackhook.db # after the value\n"              \
	"spool = /spool ; after the value\n"                           \
	"secret_key_file = /key\t# after a tab\n"                      \
	"public_url = https://ci.example.com/a#b   # "                 \
	"'#' inside a value stays\n"                                   \
	"user = svc#1\n"

static void
test_comments(void **state)
{
	struct sh_config *cfg;

	/* The last line's ';' is not preceded by white space: part of the
	 * value, which makes it invalid.  Check the rest without it first. */
	expect_error_at(state, COMMENTED "max_body = 1M;\n", 10, "max_body");

	cfg = load_ok(state, COMMENTED "max_body = 1M ; ok\n");
	assert_string_equal(cfg->database, "/db/stackhook.db");
	assert_string_equal(cfg->spool, "/spool");
	assert_string_equal(cfg->secret_key_file, "/key");
	assert_string_equal(cfg->public_url, "https://ci.example.com/a#b");
	assert_string_equal(cfg->user, "svc#1");
	assert_int_equal(cfg->max_body, 1024 * 1024);
	sh_config_free(cfg);
}

static void
test_crlf_and_spacing(void **state)
{
	struct sh_config *cfg;

	cfg = load_ok(state, "database=/db\r\n"
			     "spool   =   /spool   \r\n"
			     "secret_key_file =\t/key\r\n"
			     "public_url = https://x.example\r\n");
	assert_string_equal(cfg->database, "/db");
	assert_string_equal(cfg->spool, "/spool");
	assert_string_equal(cfg->secret_key_file, "/key");
	assert_string_equal(cfg->public_url, "https://x.example");
	sh_config_free(cfg);
}

static void
test_required_missing(void **state)
{
	static const char *const lines[] = {
		"database = /db\n",
		"spool = /spool\n",
		"secret_key_file = /key\n",
		"public_url = https://x.example\n",
	};
	static const char *const keys[] = {"database", "spool", "secret_key_file",
					   "public_url"};

	for (size_t skip = 0; skip < 4; skip++) {
		char text[512] = "";

		for (size_t i = 0; i < 4; i++)
			if (i != skip)
				strcat(text, lines[i]);
		expect_refused(state, text, keys[skip], NULL);
	}
}

static void
test_empty_file(void **state)
{
	expect_refused(state, "", "database", NULL);
}

static void
test_missing_file(void **state)
{
	struct tu_dir *d = *state;
	char path[PATH_MAX];

	expect_file_refused(tu_join(path, d->path, "nope.conf"), NULL);
}

/* A directory opens with fopen() but cannot be read. */
static void
test_directory_as_file(void **state)
{
	struct tu_dir *d = *state;

	expect_file_refused(d->path, NULL);
}

static void
test_unknown_key(void **state)
{
	expect_error_at(state, REQUIRED "\n# colour\ncolour = blue\n", 7, "colour");
	/* The file says busy_timeout; the struct's name is not a key. */
	expect_error_at(state, REQUIRED "busy_timeout_ms = 3s\n", 5,
			"busy_timeout_ms");
	/* Keys are case-sensitive. */
	expect_error_at(state, "Database = /db\n" REQUIRED, 1, "Database");
}

static void
test_unknown_key_says_so(void **state)
{
	expect_refused(state, REQUIRED "colour = blue\n", "unknown key", NULL);
}

static void
test_bad_values(void **state)
{
	static const struct {
		const char *line;
		const char *key;
	} cases[] = {
		{"database = relative/stackhook.db", "database"},
		{"database = mysql://db", "database"},
		{"spool = spool", "spool"},
		{"secret_key_file = ~/secret.key", "secret_key_file"},
		{"public_url = ftp://ci.example.com", "public_url"},
		{"public_url = https://", "public_url"},
		{"public_url = https:///path", "public_url"},
		{"public_url = ci.example.com", "public_url"},
		{"user =", "user"},
		{"run_url = https://platform.example/runs", "run_url"},
		{"status_prefix = has space", "status_prefix"},
		{"status_prefix = a;b", "status_prefix"},
		{"status_prefix = "
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "status_prefix"},
		{"max_body = lots", "max_body"},
		{"max_body = 512", "max_body"},   /* below 1K */
		{"max_body = 2G", "max_body"},    /* above 1G */
		{"max_body = -1M", "max_body"},
		{"busy_timeout = 0s", "busy_timeout"},
		{"busy_timeout = -1s", "busy_timeout"},
		{"busy_timeout = soon", "busy_timeout"},
		{"delivery_retention = 0", "delivery_retention"},
		{"report_max_age = 3w", "report_max_age"},
		{"retry_initial = 1.5s", "retry_initial"},
		{"run_timeout = 12 h", "run_timeout"},
		{"trust_remote_user = maybe", "trust_remote_user"},
		{"aggregate_status = ", "aggregate_status"},
		{"log = /var/log/stackhook.log", "log"},
		{"log = SYSLOG", "log"},
		{"agent_pool. = https://x.example", "agent_pool."},
		{"agent_pool.a/b = https://x.example", "agent_pool.a/b"},
		{"agent_pool.edge = private://edge", "agent_pool.edge"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024];

		snprintf(text, sizeof(text), "# first line\n%s\n" REQUIRED,
			 cases[i].line);
		expect_error_at(state, text, 2, cases[i].key);
	}
}

static void
test_repeated_key(void **state)
{
	expect_error_at(state, REQUIRED "max_body = 1M\nmax_body = 2M\n", 6,
			"max_body");
	expect_refused(state, REQUIRED "public_url = https://y.example\n",
		       ":5: public_url", "twice", NULL);
	expect_error_at(state,
			REQUIRED "agent_pool.a = https://a.example\n"
				 "agent_pool.a = https://b.example\n",
			6, "agent_pool.a");
}

/* The first error is the one reported. */
static void
test_first_error_wins(void **state)
{
	expect_error_at(state, REQUIRED "max_body = x\ncolour = blue\n", 5,
			"max_body");
}

static void
test_not_key_value(void **state)
{
	expect_refused(state, REQUIRED "just some words\n", ":5:", NULL);
}

static void
test_sections_refused(void **state)
{
	expect_error_at(state, REQUIRED "[extra]\nmax_body = 1M\n", 6, "max_body");
}

static void
test_line_too_long(void **state)
{
	char text[4096], long_value[2048];

	memset(long_value, 'a', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	snprintf(text, sizeof(text), REQUIRED "# fine\nuser = %s\n", long_value);
	expect_refused(state, text, ":6:", "longer than", NULL);

	/* A long comment is not a reason to cut the next line silently. */
	snprintf(text, sizeof(text), "# %.300s\n" REQUIRED, long_value);
	expect_refused(state, text, ":1:", NULL);
}

/* A moderately long value (a deep path) is accepted whole, not cut. */
static void
test_long_line_within_limit(void **state)
{
	char text[1024], value[160];
	struct sh_config *cfg;

	value[0] = '/';
	memset(value + 1, 'd', sizeof(value) - 2);
	value[sizeof(value) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "database = %s\nspool = /s\nsecret_key_file = /k\n"
		 "public_url = https://x.example\n",
		 value);
	cfg = load_ok(state, text);
	assert_string_equal(cfg->database, value);
	sh_config_free(cfg);
}

/* An indented `key = value` line is its own key, not the continuation of
 * the previous value (libinih's multi-line mode). */
static void
test_indented_key_line(void **state)
{
	struct sh_config *cfg;
	struct sh_err err;

	if (load_text(state, REQUIRED "    max_body = 1M\n", &cfg, &err) == 0) {
		assert_int_equal(cfg->max_body, 1024 * 1024);
		sh_config_free(cfg);
		return;
	}
	if (strstr(err.msg, ":5: max_body") == NULL)
		fail_msg("indented line 5 holds max_body, but the error is \"%s\"",
			 err.msg);
}

static void
test_public_url_trailing_slash(void **state)
{
	static const struct {
		const char *given, *want;
	} cases[] = {
		{"https://ci.example.com/stackhook/", "https://ci.example.com/stackhook"},
		{"https://ci.example.com/", "https://ci.example.com"},
		{"https://ci.example.com//", "https://ci.example.com"},
		{"https://ci.example.com", "https://ci.example.com"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		struct sh_config *cfg;

		snprintf(text, sizeof(text),
			 "database = /db\nspool = /s\nsecret_key_file = /k\n"
			 "public_url = %s\n",
			 cases[i].given);
		cfg = load_ok(state, text);
		assert_string_equal(cfg->public_url, cases[i].want);
		sh_config_free(cfg);
	}
}

/* A number parser of the config, its answer widened to one type so that
 * one check serves them all. */
typedef int (*number_parser)(const char *text, long long *out);

struct number_case {
	const char *text;
	long long want;
};

static int
parse_size(const char *text, long long *out)
{
	size_t v = (size_t)*out;
	int rc = sh_config_parse_size(text, &v);

	*out = (long long)v;
	return rc;
}

static int
parse_duration(const char *text, long long *out)
{
	int64_t v = *out;
	int rc = sh_config_parse_duration_ms(text, &v);

	*out = v;
	return rc;
}

/* parse (what names it in messages) takes every good text to its value,
 * and refuses every bad one without touching its output. */
static void
check_parser(const char *what, number_parser parse,
	     const struct number_case *good, size_t ngood,
	     const char *const *bad, size_t nbad)
{
	long long out;

	for (size_t i = 0; i < ngood; i++) {
		out = 12345;
		if (parse(good[i].text, &out) != 0)
			fail_msg("%s \"%s\" refused", what, good[i].text);
		assert_int_equal(out, good[i].want);
	}
	for (size_t i = 0; i < nbad; i++) {
		out = 12345;
		if (parse(bad[i], &out) != -1)
			fail_msg("%s \"%s\" accepted as %lld", what, bad[i], out);
		assert_int_equal(out, 12345);
	}
}

static void
test_parse_size(void **state)
{
	static const struct number_case good[] = {
		{"0", 0},
		{"1048576", 1048576},
		{"512K", 512 * 1024},
		{"512k", 512 * 1024},
		{"10M", 10 * 1024 * 1024},
		{"10MB", 10 * 1024 * 1024},
		{"10MiB", 10 * 1024 * 1024},
		{"1G", 1024 * 1024 * 1024},
	};
	static const char *const bad[] = {
		"", "M", "K10", "-1", "+1", " 10M", "10M ", "10 M", "1.5M", "10X",
		"10MM", "10Mi", "10KiBB", "0x10", "1T",
		"99999999999999999999999",
		"18446744073709551615G",
	};

	(void)state;
	check_parser("size", parse_size, good, sizeof(good) / sizeof(good[0]),
		     bad, sizeof(bad) / sizeof(bad[0]));
}

static void
test_parse_duration(void **state)
{
	static const struct number_case good[] = {
		{"500ms", 500},
		{"30s", 30000},
		{"30", 30000},
		{"0", 0},
		{"5m", 300000},
		{"12h", 12LL * 3600 * 1000},
		{"7d", 7LL * 86400 * 1000},
		{"1000d", 1000LL * 86400 * 1000},
	};
	static const char *const bad[] = {
		"", "s", "ms", "-5s", "+5s", " 5s", "5s ", "5 s", "1.5s", "5x",
		"5M", "5S", "5sec", "5mss", "5hm", "0x10",
		"99999999999999999999", "9223372036854775807d",
		"9223372036854775807", /* bare seconds, overflows in ms */
	};

	(void)state;
	check_parser("duration", parse_duration, good,
		     sizeof(good) / sizeof(good[0]), bad,
		     sizeof(bad) / sizeof(bad[0]));
}

static void
test_parse_bool(void **state)
{
	static const char *const yes[] = {"yes", "YES", "true", "True", "on", "1"};
	static const char *const no[] = {"no", "No", "false", "FALSE", "off", "0"};
	static const char *const bad[] = {"", "y", "n", "2", "yess", "enabled",
					  " yes", "yes "};
	bool out;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		out = false;
		assert_int_equal(sh_config_parse_bool(yes[i], &out), 0);
		assert_true(out);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		out = true;
		assert_int_equal(sh_config_parse_bool(no[i], &out), 0);
		assert_false(out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sh_config_parse_bool(bad[i], &out) != -1)
			fail_msg("bool \"%s\" accepted", bad[i]);
	}
}

static void
test_bools_in_file(void **state)
{
	struct sh_config *cfg;

	cfg = load_ok(state, REQUIRED "trust_remote_user = TRUE\n"
				      "aggregate_status = 0\n");
	assert_true(cfg->trust_remote_user);
	assert_false(cfg->aggregate_status);
	sh_config_free(cfg);
}

static void
test_agent_pools(void **state)
{
	char text[8192];
	struct sh_config *cfg;
	size_t len;

	cfg = load_ok(state, REQUIRED "agent_pool.a = https://a.example\n"
				      "agent_pool.b = https://b.example/x\n");
	assert_int_equal(cfg->agent_pool_count, 2);
	assert_string_equal(cfg->agent_pools[0].name, "a");
	assert_string_equal(sh_config_agent_pool(cfg, "a"), "https://a.example");
	assert_string_equal(sh_config_agent_pool(cfg, "b"), "https://b.example/x");
	assert_null(sh_config_agent_pool(cfg, "c"));
	assert_null(sh_config_agent_pool(cfg, ""));
	sh_config_free(cfg);

	/* There is a cap, and passing it is an error, not a silent cut. */
	len = (size_t)snprintf(text, sizeof(text), "%s", REQUIRED);
	for (int i = 0; i < 65; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"agent_pool.p%d = https://p%d.example\n", i,
					i);
	expect_error_at(state, text, 69, "agent_pool.p64");
}

static void
test_default_path(void **state)
{
	const char *saved = getenv("STACKHOOK_CONFIG");
	char *copy = saved ? strdup(saved) : NULL;

	(void)state;
	assert_int_equal(setenv("STACKHOOK_CONFIG", "/srv/x/stackhook.conf", 1), 0);
	assert_string_equal(sh_config_default_path(), "/srv/x/stackhook.conf");
	assert_int_equal(setenv("STACKHOOK_CONFIG", "", 1), 0);
	assert_string_equal(sh_config_default_path(),
			    SYSCONFDIR "/stackhook/stackhook.conf");
	assert_int_equal(unsetenv("STACKHOOK_CONFIG"), 0);
	assert_string_equal(sh_config_default_path(),
			    SYSCONFDIR "/stackhook/stackhook.conf");
	if (copy != NULL) {
		setenv("STACKHOOK_CONFIG", copy, 1);
		free(copy);
	}
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, tu_dir_setup, tu_dir_teardown)
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_every_key),
		T(test_seconds_round_up),
		T(test_comments),
		T(test_crlf_and_spacing),
		T(test_required_missing),
		T(test_empty_file),
		T(test_missing_file),
		T(test_directory_as_file),
		T(test_unknown_key),
		T(test_unknown_key_says_so),
		T(test_bad_values),
		T(test_repeated_key),
		T(test_first_error_wins),
		T(test_not_key_value),
		T(test_sections_refused),
		T(test_line_too_long),
		T(test_long_line_within_limit),
		T(test_indented_key_line),
		T(test_public_url_trailing_slash),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_bool),
		T(test_bools_in_file),
		T(test_agent_pools),
		cmocka_unit_test(test_default_path),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
