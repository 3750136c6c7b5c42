/*
 * test_ui.c - the web pages' parts: the HTML writer (escaping, template,
 * Markdown), form parsing, sessions, and the pages end to end through
 * sh_router_dispatch() with a fake transport (sign-in, CSRF, cross-site
 * refusals, escaping of stored values, no secret for readers, REMOTE_USER).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#include <cmocka.h>

#include "form.h"
#include "html.h"
#include "http.h"
#include "http_fake.h"
#include "router.h"
#include "stackhook/authz.h"
#include "stackhook/integrations.h"
#include "stackhook/sessions.h"
#include "stackhook/timeutil.h"
#include "stackhook/users.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* the HTML writer */

/* Runs fn-like code against a fresh buffer: the text written so far. */
struct page {
	struct sh_buf buf;
	struct sh_html h;
};

static void
page_init(struct page *p, size_t limit)
{
	sh_buf_init(&p->buf, limit);
	sh_html_init(&p->h, &p->buf);
}

/* cmocka fixture: a page with no limit in *state, released after the
 * test, also one that failed half-way. */
static int
page_setup(void **state)
{
	struct page *p = malloc(sizeof(*p));

	if (p == NULL)
		return -1;
	page_init(p, 0);
	*state = p;
	return 0;
}

static int
page_teardown(void **state)
{
	struct page *p = *state;

	sh_buf_release(&p->buf);
	free(p);
	return 0;
}

/* Empties the page for the next check (and lifts a limit). */
static void
page_restart(struct page *p)
{
	sh_buf_release(&p->buf);
	page_init(p, 0);
}

/* The page is exactly want and nothing failed; then it starts again. */
static void
expect_html(struct page *p, const char *want)
{
	assert_false(p->h.failed);
	assert_string_equal(sh_buf_str(&p->buf), want);
	page_restart(p);
}

/* A NULL-terminated list of strings, for expect_text. */
#define STRS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* text has every string of has and none of lacks (STRS lists, or NULL). */
static void
expect_text(const char *text, const char *const *has, const char *const *lacks)
{
	for (; has != NULL && *has != NULL; has++)
		if (strstr(text, *has) == NULL)
			fail_msg("\"%s\" is missing from:\n%s", *has, text);
	for (; lacks != NULL && *lacks != NULL; lacks++)
		if (strstr(text, *lacks) != NULL)
			fail_msg("\"%s\" should not be in:\n%s", *lacks, text);
}

static void
test_html_text_escapes(void **state)
{
	struct page *p = *state;

	sh_html_text(&p->h, "<a href='x' title=\"y\">Tom & Jerry</a>");
	expect_html(p, "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;Tom &amp; "
		       "Jerry&lt;/a&gt;");

	/* nothing else changes: UTF-8 and ordinary text pass */
	sh_html_text(&p->h, "Zürich — ok");
	sh_html_text(&p->h, NULL);
	sh_html_textn(&p->h, "<<<", 1);
	expect_html(p, "Zürich — ok&lt;");
}

static void
test_html_template(void **state)
{
	struct page *p = *state;

	sh_html(&p->h, "<p title=\"{}\">{} {i} {{x}</p>", "\"on\"", "<b>", 42LL);
	expect_html(p, "<p title=\"&quot;on&quot;\">&lt;b&gt; 42 {x}</p>");

	/* {u}: a URL component, then escaped (nothing left to escape) */
	sh_html(&p->h, "<a href=\"{u}/x?next={u}\">{}</a>", "/stack hook",
		"/ui/a&b\"c<d>", NULL);
	expect_html(p, "<a href=\"/stack%20hook/x?next=/ui/a%26b%22c%3Cd%3E\"></a>");

	/* a brace that is no hole stays; negative numbers too */
	sh_html(&p->h, "{a} {i}", -7LL);
	expect_html(p, "{a} -7");
}

static void
test_html_attr(void **state)
{
	struct page *p = *state;

	sh_html_raw(&p->h, "<input");
	sh_html_attr(&p->h, "value", "\" onfocus=\"alert(1)");
	sh_html_attr(&p->h, "placeholder", NULL);
	sh_html_raw(&p->h, ">");
	expect_html(p, "<input value=\"&quot; onfocus=&quot;alert(1)\">");
}

static void
test_html_sticky_failure(void **state)
{
	struct page *p = *state;

	page_init(p, 16); /* the fixture's page is empty: nothing to release */
	sh_html_raw(&p->h, "0123456789");
	assert_false(p->h.failed);
	sh_html_text(&p->h, "<too much>");
	assert_true(p->h.failed);
	/* nothing more is written once it failed */
	sh_html_raw(&p->h, "!");
	assert_true(p->h.failed);
	assert_null(strchr(sh_buf_str(&p->buf), '!'));
}

static char *
markdown(const char *text)
{
	struct page p;

	page_init(&p, 0);
	sh_html_markdown(&p.h, text);
	assert_false(p.h.failed);
	return p.buf.data ? sh_buf_detach(&p.buf) : strdup("");
}

static void
test_markdown(void **state)
{
	char *html;

	(void)state;
	html = markdown("# Title\n\nOne **bold** and *em* and `a<b`.\nSecond line.\n\n"
			"- first\n- [docs](https://example.com/a?b=1&c=2)\n\n"
			"```\n<script>alert(1)</script>\n```\nafter");
	assert_string_equal(html,
			    "<h3>Title</h3>\n"
			    "<p>One <strong>bold</strong> and <em>em</em> and "
			    "<code>a&lt;b</code>.<br>\nSecond line.</p>\n"
			    "<ul>\n<li>first</li>\n<li><a rel=\"nofollow noopener "
			    "noreferrer\" href=\"https://example.com/a?b=1&amp;c=2\">"
			    "docs</a></li>\n</ul>\n"
			    "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n"
			    "</code></pre>\n<p>after</p>\n");
	free(html);
}

static void
test_markdown_is_safe(void **state)
{
	static const char *const hostile[] = {
		"[x](javascript:alert(1))",
		"[x](JAVASCRIPT:alert(1))",
		"[x](data:text/html,<script>)",
		"[x](https://a\" onclick=\"alert(1))",
		"<img src=x onerror=alert(1)>",
		"**<b>**",
		"`unclosed <i>",
		"```\nunclosed fence <s>",
		"# <h1>",
		"\r\n\r\n- <li>\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char *html = markdown(hostile[i]);

		/* No markup from the text: every '<' we see is ours. */
		for (const char *p = strchr(html, '<'); p; p = strchr(p + 1, '<'))
			assert_true(strncmp(p, "<p>", 3) == 0 || strncmp(p, "</p>", 4) == 0 ||
				    strncmp(p, "<strong>", 8) == 0 ||
				    strncmp(p, "</strong>", 9) == 0 ||
				    strncmp(p, "<ul>", 4) == 0 || strncmp(p, "</ul>", 5) == 0 ||
				    strncmp(p, "<li>", 4) == 0 || strncmp(p, "</li>", 5) == 0 ||
				    strncmp(p, "<h3>", 4) == 0 || strncmp(p, "</h3>", 5) == 0 ||
				    strncmp(p, "<pre>", 5) == 0 || strncmp(p, "</pre>", 6) == 0 ||
				    strncmp(p, "<code>", 6) == 0 ||
				    strncmp(p, "</code>", 7) == 0);
		assert_null(strstr(html, "href"));
		free(html);
	}
}

static void
test_page_frame(void **state)
{
	struct sh_html_layout l = {
		.title = "<Prod>", .base = "/stackhook", .user = "bob&co",
		.csrf = "tok\"en", .nav = "stacks",
	};
	struct page *p = *state;

	sh_html_page_begin(&p->h, &l);
	sh_html_page_end(&p->h);
	expect_text(sh_buf_str(&p->buf),
		    STRS("<!doctype html>", "<title>&lt;Prod&gt; ",
			 "<meta name=\"viewport\"",
			 "href=\"/stackhook/ui/style.css\"",
			 "<strong>bob&amp;co</strong>",
			 "name=\"csrf\" value=\"tok&quot;en\"",
			 "href=\"/stackhook/ui/stacks\" aria-current=\"page\"",
			 "<main id=\"main\">", "</html>"),
		    NULL);
	page_restart(p);

	/* the sign-in page: no person, no sign-out form */
	l.user = NULL;
	sh_html_page_begin(&p->h, &l);
	expect_text(sh_buf_str(&p->buf), NULL, STRS("sign-out"));
}

/* ------------------------------------------------------------------ */
/* forms */

static void
parse_ok(const char *body, struct sh_form *form)
{
	struct sh_err err;

	sh_err_clear(&err);
	if (sh_form_parse(body, strlen(body), form, &err) < 0)
		fail_msg("sh_form_parse(%s): %s", body, err.msg);
}

static void
test_form_parse(void **state)
{
	struct sh_form form = {0};

	(void)state;
	parse_ok("name=GitLab+Prod&url=https%3A%2F%2Fgitlab.example.com%2F&empty="
		 "&flag&plus=a%2Bb&&name=second&z%C3%BC=%C3%BC",
		 &form);
	assert_string_equal(sh_form_get(&form, "name"), "GitLab Prod");
	assert_string_equal(sh_form_get(&form, "url"), "https://gitlab.example.com/");
	assert_string_equal(sh_form_get(&form, "empty"), "");
	assert_string_equal(sh_form_get(&form, "flag"), "");
	assert_string_equal(sh_form_get(&form, "plus"), "a+b");
	assert_string_equal(sh_form_get(&form, "zü"), "ü");
	assert_null(sh_form_get(&form, "missing"));
	assert_int_equal(form.count, 7);
	sh_form_release(&form);
	assert_int_equal(form.count, 0);

	parse_ok("", &form);
	assert_int_equal(form.count, 0);
	sh_form_release(&form);
}

static void
test_form_refused(void **state)
{
	static const char *const bad[] = {
		"a=%", "a=%4", "a=%zz", "a=%00", "a=%FF", "a=%C3", "%ZZ=1",
	};
	struct sh_form form = {0};
	struct sh_err err;
	char *big;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sh_err_clear(&err);
		assert_int_equal(sh_form_parse(bad[i], strlen(bad[i]), &form, &err), -1);
		assert_int_equal(err.code, SH_E_BAD_REQUEST);
		sh_form_release(&form);
	}
	/* a raw NUL byte */
	assert_int_equal(sh_form_parse("a=1\0b=2", 7, &form, &err), -1);
	assert_int_equal(err.code, SH_E_BAD_REQUEST);
	sh_form_release(&form);

	/* more fields than SH_FORM_MAX_FIELDS */
	big = calloc(1, SH_FORM_MAX_FIELDS * 8 + 16);
	assert_non_null(big);
	for (int i = 0; i <= SH_FORM_MAX_FIELDS; i++)
		sprintf(big + strlen(big), "%sf%d=1", i ? "&" : "", i);
	assert_int_equal(sh_form_parse(big, strlen(big), &form, &err), -1);
	assert_int_equal(err.code, SH_E_BAD_REQUEST);
	sh_form_release(&form);
	free(big);

	/* past SH_FORM_MAX_BYTES */
	big = malloc(SH_FORM_MAX_BYTES + 2);
	assert_non_null(big);
	memset(big, 'x', SH_FORM_MAX_BYTES + 1);
	big[0] = 'a';
	big[1] = '=';
	big[SH_FORM_MAX_BYTES + 1] = '\0';
	assert_int_equal(sh_form_parse(big, SH_FORM_MAX_BYTES + 1, &form, &err), -1);
	assert_int_equal(err.code, SH_E_PAYLOAD_TOO_LARGE);
	sh_form_release(&form);
	free(big);
}

/* ------------------------------------------------------------------ */
/* an instance with people */

/* alice is a root admin, bob the admin of the space team, carol reads
 * team: their API keys are e->key[ALICE], e->key[BOB], e->key[CAROL]. */
enum { ALICE, BOB, CAROL };

static const struct fake_person people[] = {
	[ALICE] = {"alice", SH_ROOT_SPACE, SH_ROLE_ADMIN},
	[BOB] = {"bob", "team", SH_ROLE_ADMIN},
	[CAROL] = {"carol", "team", SH_ROLE_READ},
};

static const char team_sql[] =
	"INSERT INTO spaces (id, name, parent, inherit, created_at, updated_at) "
	"VALUES ('team', 'Team', 'root', 1, 0, 0)";

static int
env_setup(void **state)
{
	return fake_env_setup(state, NULL, true, team_sql, people,
			      FAKE_COUNT(people));
}

static int
env_setup_trusting(void **state)
{
	return fake_env_setup(state, "trust_remote_user = yes\n", true, team_sql,
			      people, FAKE_COUNT(people));
}

/* ------------------------------------------------------------------ */
/* sessions */

static int64_t
count(struct sh_db *db, const char *sql)
{
	struct sh_stmt *st;
	int64_t n = -1;

	if (sh_db_query(db, sql, &st, NULL, "") == 1) {
		n = sh_stmt_int(st, 0);
		sh_stmt_release(st);
	}
	return n;
}

static void
test_sessions(void **state)
{
	struct fake_env *e = *state;
	struct sh_session s, found;
	struct sh_err err;
	int64_t now = sh_time_now(), removed;
	char *id = NULL, *other = NULL;
	char hash[SH_SHA256_HEX_LEN + 1];
	struct sh_stmt *st;

	sh_err_clear(&err);
	assert_int_equal(sh_sessions_open(e->db, e->key[BOB], now, &id, &s, &err), 0);
	assert_non_null(id);
	assert_int_equal(strncmp(id, "shs_", 4), 0);
	assert_true(strlen(id) <= SH_SESSION_ID_MAX);
	assert_string_equal(s.user.name, "bob");
	assert_true(strlen(s.csrf) >= 40);
	assert_int_equal(s.expires_at, now + SH_SESSION_TTL);

	/* only the id's hash is stored */
	sh_crypto_sha256_hex(id, strlen(id), hash);
	assert_int_equal(sh_db_query(e->db, "SELECT hash FROM sessions", &st, NULL, ""), 1);
	assert_string_equal(sh_stmt_text(st, 0), hash);
	sh_stmt_release(st);

	assert_int_equal(sh_sessions_find(e->db, id, now + 60, &found, &err), 0);
	assert_string_equal(found.user.name, "bob");
	assert_string_equal(found.csrf, s.csrf);
	assert_int_equal(found.expires_at, s.expires_at);

	/* expired, malformed, unknown: all "sign in again" */
	assert_int_equal(sh_sessions_find(e->db, id, now + SH_SESSION_TTL, &found, &err), -1);
	assert_int_equal(err.code, SH_E_UNAUTHORIZED);
	assert_int_equal(sh_sessions_find(e->db, "shs_bad id", now, &found, &err), -1);
	assert_int_equal(err.code, SH_E_UNAUTHORIZED);
	assert_int_equal(sh_sessions_find(e->db, "shs_AAAAAAAAAAAAAAAAAAAAAAAAAAAA", now,
					  &found, &err), -1);
	assert_int_equal(err.code, SH_E_UNAUTHORIZED);
	assert_int_equal(sh_sessions_find(e->db, NULL, now, &found, &err), -1);

	/* sessions are independent; signing out ends one */
	assert_int_equal(sh_sessions_open(e->db, e->key[BOB], now, &other, &s, &err), 0);
	assert_string_not_equal(other, id);
	assert_int_equal(sh_sessions_close(e->db, id, &err), 0);
	assert_int_equal(sh_sessions_find(e->db, id, now, &found, &err), -1);
	assert_int_equal(sh_sessions_find(e->db, other, now, &found, &err), 0);
	assert_int_equal(sh_sessions_close(e->db, "nonsense", &err), 0);

	/* expired sessions go at the next sign-in, or by prune */
	assert_int_equal(sh_sessions_prune(e->db, now + SH_SESSION_TTL, &removed, &err), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(count(e->db, "SELECT count(*) FROM sessions"), 0);

	sh_sessions_id_free(id);
	sh_sessions_id_free(other);
}

static void
test_sessions_refused_keys(void **state)
{
	struct fake_env *e = *state;
	struct sh_session s;
	struct sh_err err;
	char *id = (char *)"untouched";
	int64_t now = sh_time_now();
	struct sh_key_info *keys;
	size_t n;

	sh_err_clear(&err);
	assert_int_equal(sh_sessions_open(e->db, "shk_not-a-key", now, &id, &s, &err), -1);
	assert_int_equal(err.code, SH_E_UNAUTHORIZED);
	assert_null(id);
	assert_null(strstr(err.msg, "shk_not"));
	assert_int_equal(sh_sessions_open(e->db, "", now, &id, &s, &err), -1);
	assert_int_equal(count(e->db, "SELECT count(*) FROM sessions"), 0);

	/* revoking the key ends the sessions it opened */
	assert_int_equal(sh_sessions_open(e->db, e->key[CAROL], now, &id, &s, &err), 0);
	assert_int_equal(sh_keys_list(e->db, &keys, &n, &err), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i].user, "carol") == 0)
			assert_int_equal(sh_keys_revoke(e->db, keys[i].id, NULL, &err), 0);
	free(keys);
	assert_int_equal(sh_sessions_find(e->db, id, now, &s, &err), -1);
	assert_int_equal(err.code, SH_E_UNAUTHORIZED);
	sh_sessions_id_free(id);
}

static void
test_csrf_tokens(void **state)
{
	unsigned char key[SH_SECRET_KEY_LEN] = {1}, key2[SH_SECRET_KEY_LEN] = {2};
	char a[SH_SESSION_CSRF_MAX + 1], b[SH_SESSION_CSRF_MAX + 1];
	char c[SH_SESSION_CSRF_MAX + 1], d[SH_SESSION_CSRF_MAX + 1];
	struct sh_err err;

	(void)state;
	assert_true(sh_sessions_csrf_valid("abc", "abc"));
	assert_false(sh_sessions_csrf_valid("abc", "abd"));
	assert_false(sh_sessions_csrf_valid("abc", "ab"));
	assert_false(sh_sessions_csrf_valid("abc", NULL));
	assert_false(sh_sessions_csrf_valid("", ""));
	assert_false(sh_sessions_csrf_valid(NULL, "x"));

	assert_int_equal(sh_sessions_remote_csrf(key, "alice", a, &err), 0);
	assert_int_equal(sh_sessions_remote_csrf(key, "alice", b, &err), 0);
	assert_int_equal(sh_sessions_remote_csrf(key, "bob", c, &err), 0);
	assert_int_equal(sh_sessions_remote_csrf(key2, "alice", d, &err), 0);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(a, d);
}

/* ------------------------------------------------------------------ */
/* the pages through the router, with a fake transport */

/* One request: method, route, cookie (the session id, or NULL), body (a
 * form, or NULL), and more parameters as name, value pairs in ap, ending
 * in NULL. */
static void
vrequest(struct fake_env *e, struct sh_http_response *resp, const char *method,
	 const char *route, const char *session, const char *form, va_list ap)
{
	struct fake f = {0};
	char cookie[128], length[24];
	const char *name;

	fake_route(&f, method, route);
	if (session != NULL) {
		snprintf(cookie, sizeof(cookie), "theme=dark; " SH_SESSION_COOKIE "=%s",
			 session);
		fake_set(&f, "HTTP_COOKIE", cookie);
	}
	if (form != NULL) {
		f.body = form;
		f.body_len = strlen(form);
		snprintf(length, sizeof(length), "%zu", f.body_len);
		fake_set(&f, "CONTENT_LENGTH", length);
		fake_set(&f, "CONTENT_TYPE", "application/x-www-form-urlencoded");
	}
	while ((name = va_arg(ap, const char *)) != NULL)
		fake_set(&f, name, va_arg(ap, const char *));
	fake_serve(e->inst, &f, resp);
}

/* vrequest with the more parameters as arguments. */
static void
request(struct fake_env *e, struct sh_http_response *resp, const char *method,
	const char *route, const char *session, const char *form, ...)
{
	va_list ap;

	va_start(ap, form);
	vrequest(e, resp, method, route, session, form, ap);
	va_end(ap);
}

/* request, for a check of the status alone: returns it. */
static int
status_of(struct fake_env *e, const char *method, const char *route,
	  const char *session, const char *form, ...)
{
	struct sh_http_response resp;
	va_list ap;
	int status;

	va_start(ap, form);
	vrequest(e, &resp, method, route, session, form, ap);
	va_end(ap);
	status = resp.status;
	sh_http_response_release(&resp);
	return status;
}

/* The response has status, and its body every string of has and none of
 * lacks (as for expect_text). */
static void
expect_page(const struct sh_http_response *resp, int status,
	    const char *const *has, const char *const *lacks)
{
	assert_int_equal(resp->status, status);
	expect_text(sh_buf_str(&resp->body), has, lacks);
}

/* request (no more parameters) and expect_page, for a page that is only
 * looked at. */
static void
serve_page(struct fake_env *e, const char *method, const char *route,
	   const char *session, const char *form, int status,
	   const char *const *has, const char *const *lacks)
{
	struct sh_http_response resp;

	request(e, &resp, method, route, session, form, NULL);
	expect_page(&resp, status, has, lacks);
	sh_http_response_release(&resp);
}

/* The response sends the browser on to location (303 See Other). */
static void
expect_redirect(const struct sh_http_response *resp, const char *location)
{
	char value[256];

	assert_int_equal(resp->status, 303);
	assert_true(resp_header(resp, "Location", value, sizeof(value)));
	assert_string_equal(value, location);
}

/* Signs in with key; the session id goes to id (SH_SESSION_ID_MAX + 1). */
static void
sign_in(struct fake_env *e, const char *key, char *id)
{
	struct sh_http_response resp;
	char form[256], cookie[256];
	const char *v;

	snprintf(form, sizeof(form), "key=%s&next=%%2Fui%%2Fstacks", key);
	request(e, &resp, "POST", "/ui/sign-in", NULL, form, NULL);
	expect_redirect(&resp, "/stackhook/ui/stacks");
	assert_true(resp_header(&resp, "Set-Cookie", cookie, sizeof(cookie)));
	assert_non_null(strstr(cookie, "; Path=/stackhook/; HttpOnly; SameSite=Strict"));
	assert_null(strstr(cookie, "Secure"));
	v = cookie + strlen(SH_SESSION_COOKIE "=");
	snprintf(id, SH_SESSION_ID_MAX + 1, "%.*s", (int)strcspn(v, ";"), v);
	sh_http_response_release(&resp);
}

/* The CSRF token of the page in resp. */
static void
csrf_of(const struct sh_http_response *resp, char out[SH_SESSION_CSRF_MAX + 1])
{
	const char *p = strstr(sh_buf_str(&resp->body), "name=\"csrf\" value=\"");

	assert_non_null(p);
	p += strlen("name=\"csrf\" value=\"");
	snprintf(out, SH_SESSION_CSRF_MAX + 1, "%.*s", (int)strcspn(p, "\""), p);
}

/* GETs the form page at route (more parameters as for request), which
 * must be expect_page(200, has, lacks); its CSRF token goes to csrf
 * (SH_SESSION_CSRF_MAX + 1). */
static void
get_form(struct fake_env *e, const char *route, const char *session,
	 const char *const *has, const char *const *lacks, char *csrf, ...)
{
	struct sh_http_response resp;
	va_list ap;

	va_start(ap, csrf);
	vrequest(e, &resp, "GET", route, session, NULL, ap);
	va_end(ap);
	expect_page(&resp, 200, has, lacks);
	csrf_of(&resp, csrf);
	sh_http_response_release(&resp);
}

/* One POST of a page's form: the body (NULL: the page's token alone, as
 * its button sends it), more parameters, and the status it must get. */
struct post_case {
	const char *form;
	const char *params[4]; /* name, value pairs; a NULL name ends them */
	int status;
};

/* Posts each case to route, with the page's token csrf for a NULL form. */
static void
expect_posts(struct fake_env *e, const char *route, const char *session,
	     const char *csrf, const struct post_case *cases, size_t n)
{
	char token[SH_SESSION_CSRF_MAX + 16];

	snprintf(token, sizeof(token), "csrf=%s", csrf);
	for (size_t i = 0; i < n; i++) {
		const struct post_case *c = &cases[i];
		int status = status_of(e, "POST", route, session,
				       c->form != NULL ? c->form : token,
				       c->params[0], c->params[1], c->params[2],
				       c->params[3], NULL);

		if (status != c->status)
			fail_msg("POST %s, case %zu: status %d, not %d", route, i,
				 status, c->status);
	}
}

/* Creates an integration through the core, as bob. */
static void
make_integration(struct fake_env *e, const char *json)
{
	struct sh_integration_env ienv = {.cfg = e->inst->cfg};
	struct sh_actor actor = {.name = "bob"};
	struct sh_user bob;
	struct sh_err err;
	cJSON *body = cJSON_Parse(json), *out = NULL;

	assert_non_null(body);
	assert_int_equal(sh_users_find(e->db, "bob", &bob, &err), 0);
	actor.user_id = bob.id;
	assert_int_equal(sh_instance_key(e->inst, &ienv.secret_key, &err), 0);
	if (sh_integrations_create(e->db, &ienv, &actor, body, &out, &err) < 0)
		fail_msg("create: %s", err.msg);
	cJSON_Delete(body);
	cJSON_Delete(out);
}

static void
test_pages_sign_in(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
	char id[SH_SESSION_ID_MAX + 1], value[256];

	request(e, &resp, "GET", "/ui/", NULL, NULL, NULL);
	expect_redirect(&resp, "/stackhook/ui/sign-in");
	sh_http_response_release(&resp);

	request(e, &resp, "GET", "/ui/stacks/vpc", NULL, NULL, NULL);
	expect_redirect(&resp, "/stackhook/ui/sign-in?next=/ui/stacks/vpc");
	sh_http_response_release(&resp);

	request(e, &resp, "GET", "/ui/sign-in", NULL, NULL, "QUERY_STRING",
		"next=%2F%2Fevil.example%2F", NULL);
	/* only our own pages are a way back */
	expect_page(&resp, 200,
		    STRS("<label for=\"key\">API key</label>",
			 "name=\"next\" value=\"/ui/\""),
		    NULL);
	assert_string_equal(resp.content_type, "text/html; charset=utf-8");
	assert_true(resp_header(&resp, "Content-Security-Policy", value, sizeof(value)));
	assert_non_null(strstr(value, "default-src 'none'"));
	assert_true(resp_header(&resp, "X-Frame-Options", value, sizeof(value)));
	sh_http_response_release(&resp);

	/* a wrong key: the form again, 401, the key not echoed */
	request(e, &resp, "POST", "/ui/sign-in", NULL, "key=shk_wrong-guess", NULL);
	expect_page(&resp, 401, STRS("id=\"key-error\""), STRS("shk_wrong-guess"));
	assert_false(resp_header(&resp, "Set-Cookie", value, sizeof(value)));
	sh_http_response_release(&resp);

	sign_in(e, e->key[BOB], id);
	serve_page(e, "GET", "/ui/", id, NULL, 200,
		   STRS("Signed in as <strong>bob</strong>", "No integrations yet"),
		   NULL);

	/* over TLS the cookie is Secure */
	request(e, &resp, "POST", "/ui/sign-in", NULL, "key=x", "HTTPS", "on", NULL);
	sh_http_response_release(&resp);
	{
		char form[256];

		snprintf(form, sizeof(form), "key=%s", e->key[BOB]);
		request(e, &resp, "POST", "/ui/sign-in", NULL, form, "HTTPS", "on", NULL);
		assert_true(resp_header(&resp, "Set-Cookie", value, sizeof(value)));
		assert_non_null(strstr(value, "; Secure"));
		sh_http_response_release(&resp);
	}
}

static void
test_pages_csrf_and_origin(void **state)
{
	static const char doomed[] = "/ui/integrations/doomed/delete";
	static const char live[] =
		"SELECT count(*) FROM integrations WHERE deleted_at IS NULL";
	static const struct post_case refused[] = {
		{"x=1", {NULL}, 403},
		{"csrf=wrong", {NULL}, 403},
		{NULL, {"HTTP_ORIGIN", "http://localhost.evil"}, 403},
		{NULL, {"HTTP_SEC_FETCH_SITE", "cross-site"}, 403},
		/* a form body is required: JSON is not a page's form */
		{NULL, {"CONTENT_TYPE", "application/json"}, 400},
	};
	/* same origin (TU_PUBLIC_URL's), the token: done */
	static const struct post_case done[] = {
		{NULL, {"HTTP_ORIGIN", "http://localhost", "HTTP_SEC_FETCH_SITE",
			"same-origin"}, 303},
	};
	struct fake_env *e = *state;
	char id[SH_SESSION_ID_MAX + 1], csrf[SH_SESSION_CSRF_MAX + 1];

	make_integration(e, "{\"name\":\"Doomed\",\"space\":\"team\","
			    "\"api_host_url\":\"https://gitlab.example.com\"}");
	sign_in(e, e->key[BOB], id);
	get_form(e, doomed, id, NULL, NULL, csrf, NULL);

	expect_posts(e, doomed, id, csrf, refused, FAKE_COUNT(refused));
	assert_int_equal(count(e->db, live), 1);
	expect_posts(e, doomed, id, csrf, done, FAKE_COUNT(done));
	assert_int_equal(count(e->db, live), 0);
}

static void
test_pages_escape_and_secrets(void **state)
{
	static const char page[] = "/ui/integrations/script-alert-1-script";
	struct fake_env *e = *state;
	char id[SH_SESSION_ID_MAX + 1], secret[128];
	struct sh_integration_secrets s;
	struct sh_err err;
	const unsigned char *key;

	make_integration(e, "{\"name\":\"<script>alert(1)</script>\",\"space\":\"team\","
			    "\"api_host_url\":\"https://gitlab.example.com\","
			    "\"api_token\":\"glpat-NeverShown1234\","
			    "\"labels\":[\"<b>x</b>\"],"
			    "\"description\":\"<img src=x onerror=alert(1)> [a](javascript:x)\"}");
	assert_int_equal(sh_instance_key(e->inst, &key, &err), 0);
	assert_int_equal(sh_integrations_webhook_secrets(e->db, key, "script-alert-1-script",
							 &s, &err), 0);
	snprintf(secret, sizeof(secret), "%s", s.webhook_secret);
	sh_integrations_secrets_release(&s);

	/* the admin: details, everything escaped */
	sign_in(e, e->key[BOB], id);
	serve_page(e, "GET", "/ui/", id, NULL, 200,
		   STRS("&lt;script&gt;alert(1)&lt;/script&gt;"),
		   STRS("<script>alert", "<img", "<b>x", "href=\"javascript",
			secret));
	serve_page(e, "GET", page, id, NULL, 200,
		   STRS(secret, "/webhooks/gitlab/script-alert-1-script",
			"ending in 1234"),
		   STRS("glpat-NeverShown1234"));

	/* the reader: the summary, no secret, no confirmation pages */
	sign_in(e, e->key[CAROL], id);
	serve_page(e, "GET", "/ui/", id, NULL, 200, STRS("See summary"),
		   STRS(secret));
	serve_page(e, "GET", page, id, NULL, 200, NULL,
		   STRS(secret, "/webhooks/gitlab/"));
	serve_page(e, "GET", "/ui/integrations/script-alert-1-script/rotate", id,
		   NULL, 403, NULL, STRS(secret));
	assert_int_equal(status_of(e, "GET", "/ui/integrations/nope", id, NULL, NULL), 404);
}

static void
test_pages_setup_form(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
	char id[SH_SESSION_ID_MAX + 1], csrf[SH_SESSION_CSRF_MAX + 1], form[512];

	sign_in(e, e->key[BOB], id);
	get_form(e, "/ui/set-up", id, STRS("<option value=\"team\""),
		 STRS("<option value=\"root\""), csrf, NULL);

	/* the API's message next to its field; typed values kept, the
	 * token not */
	snprintf(form, sizeof(form),
		 "csrf=%s&name=My+%%3CGitLab%%3E&type=space&space=team&api_host_url="
		 "ftp%%3A%%2F%%2Fx&api_token=glpat-Typed5678&labels=a%%2C+b",
		 csrf);
	serve_page(e, "POST", "/ui/set-up", id, form, 400,
		   STRS("id=\"api_host_url-error\"",
			"aria-invalid=\"true\" aria-describedby="
			"\"api_host_url-error api_host_url-hint\"",
			"value=\"My &lt;GitLab&gt;\"", "value=\"ftp://x\"",
			"value=\"a, b\""),
		   STRS("glpat-Typed5678"));

	/* a space bob may not use: the core's message at the space */
	snprintf(form, sizeof(form),
		 "csrf=%s&name=Elsewhere&type=space&space=root&api_host_url="
		 "https%%3A%%2F%%2Fgitlab.example.com",
		 csrf);
	/* 404: bob cannot even read root */
	serve_page(e, "POST", "/ui/set-up", id, form, 404,
		   STRS("id=\"space-error\""), NULL);

	snprintf(form, sizeof(form),
		 "csrf=%s&name=Team+GitLab&type=space&space=team&api_host_url="
		 "+https%%3A%%2F%%2Fgitlab.example.com+&api_token=glpat-Typed5678"
		 "&labels=prod%%2C+eu%%2C+&description=line+1%%0D%%0Aline+2",
		 csrf);
	request(e, &resp, "POST", "/ui/set-up", id, form, NULL);
	expect_redirect(&resp, "/stackhook/ui/integrations/team-gitlab?created=1");
	sh_http_response_release(&resp);
	assert_int_equal(count(e->db, "SELECT count(*) FROM integrations WHERE slug = "
				      "'team-gitlab' AND labels = '[\"eu\",\"prod\"]' AND "
				      "description = 'line 1\nline 2' AND "
				      "api_host_url = 'https://gitlab.example.com'"), 1);
	/* the change is audited under bob's name, as through the API */
	assert_int_equal(count(e->db, "SELECT count(*) FROM audit WHERE actor = 'bob' "
				      "AND action = 'create' AND object_id = 'team-gitlab'"), 1);
}

static void
test_pages_remote_user(void **state)
{
	static const char rotate[] = "/ui/integrations/remote/rotate";
	static const struct post_case posts[] = {
		{"csrf=x", {"REMOTE_USER", "bob"}, 403},
		/* the page's token is bob's, not carol's */
		{NULL, {"REMOTE_USER", "carol"}, 403},
		{NULL, {"REMOTE_USER", "bob"}, 303},
	};
	struct fake_env *e = *state;
	char csrf[SH_SESSION_CSRF_MAX + 1];

	make_integration(e, "{\"name\":\"Remote\",\"space\":\"team\","
			    "\"api_host_url\":\"https://gitlab.example.com\"}");
	/* the web server signs people out, not us */
	get_form(e, rotate, NULL, NULL, STRS("/ui/sign-out"), csrf, "REMOTE_USER",
		 "bob", NULL);
	expect_posts(e, rotate, NULL, csrf, posts, FAKE_COUNT(posts));
	assert_int_equal(count(e->db, "SELECT count(*) FROM audit WHERE actor = 'bob' "
				      "AND action = 'rotate-secret'"), 1);
}

static void
test_pages_remote_user_untrusted(void **state)
{
	struct fake_env *e = *state;

	assert_int_equal(status_of(e, "GET", "/ui/", NULL, NULL, "REMOTE_USER", "bob",
				   NULL),
			 303);
}

static void
test_assets(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;

	request(e, &resp, "GET", "/ui/style.css", NULL, NULL, NULL);
	expect_page(&resp, 200, STRS("@media"), NULL);
	assert_string_equal(resp.content_type, "text/css; charset=utf-8");
	sh_http_response_release(&resp);
	serve_page(e, "GET", "/ui/copy.js", NULL, NULL, 200, STRS("clipboard"), NULL);
}

int
main(void)
{
#define P(f) cmocka_unit_test_setup_teardown(f, page_setup, page_teardown)
#define E(f, setup) cmocka_unit_test_setup_teardown(f, setup, fake_env_teardown)
	const struct CMUnitTest tests[] = {
		P(test_html_text_escapes),
		P(test_html_template),
		P(test_html_attr),
		P(test_html_sticky_failure),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_markdown_is_safe),
		P(test_page_frame),
		cmocka_unit_test(test_form_parse),
		cmocka_unit_test(test_form_refused),
		E(test_sessions, env_setup),
		E(test_sessions_refused_keys, env_setup),
		cmocka_unit_test(test_csrf_tokens),
		E(test_pages_sign_in, env_setup),
		E(test_pages_csrf_and_origin, env_setup),
		E(test_pages_escape_and_secrets, env_setup),
		E(test_pages_setup_form, env_setup),
		E(test_pages_remote_user, env_setup_trusting),
		E(test_pages_remote_user_untrusted, env_setup),
		E(test_assets, env_setup),
	};
#undef E
#undef P
	return cmocka_run_group_tests(tests, NULL, NULL);
}
