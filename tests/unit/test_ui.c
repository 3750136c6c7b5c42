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

static void
test_html_text_escapes(void **state)
{
	struct page p;

	(void)state;
	page_init(&p, 0);
	sh_html_text(&p.h, "<a href='x' title=\"y\">Tom & Jerry</a>");
	assert_string_equal(sh_buf_str(&p.buf),
			    "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;Tom &amp; "
			    "Jerry&lt;/a&gt;");
	sh_buf_release(&p.buf);

	/* nothing else changes: UTF-8 and ordinary text pass */
	page_init(&p, 0);
	sh_html_text(&p.h, "Zürich — ok");
	sh_html_text(&p.h, NULL);
	sh_html_textn(&p.h, "<<<", 1);
	assert_string_equal(sh_buf_str(&p.buf), "Zürich — ok&lt;");
	assert_false(p.h.failed);
	sh_buf_release(&p.buf);
}

static void
test_html_template(void **state)
{
	struct page p;

	(void)state;
	page_init(&p, 0);
	sh_html(&p.h, "<p title=\"{}\">{} {i} {{x}</p>", "\"on\"", "<b>", 42LL);
	assert_string_equal(sh_buf_str(&p.buf),
			    "<p title=\"&quot;on&quot;\">&lt;b&gt; 42 {x}</p>");
	sh_buf_release(&p.buf);

	/* {u}: a URL component, then escaped (nothing left to escape) */
	page_init(&p, 0);
	sh_html(&p.h, "<a href=\"{u}/x?next={u}\">{}</a>", "/stack hook",
		"/ui/a&b\"c<d>", NULL);
	assert_string_equal(sh_buf_str(&p.buf),
			    "<a href=\"/stack%20hook/x?next=/ui/a%26b%22c%3Cd%3E\"></a>");
	sh_buf_release(&p.buf);

	/* a brace that is no hole stays; negative numbers too */
	page_init(&p, 0);
	sh_html(&p.h, "{a} {i}", -7LL);
	assert_string_equal(sh_buf_str(&p.buf), "{a} -7");
	sh_buf_release(&p.buf);
}

static void
test_html_attr(void **state)
{
	struct page p;

	(void)state;
	page_init(&p, 0);
	sh_html_raw(&p.h, "<input");
	sh_html_attr(&p.h, "value", "\" onfocus=\"alert(1)");
	sh_html_attr(&p.h, "placeholder", NULL);
	sh_html_raw(&p.h, ">");
	assert_string_equal(sh_buf_str(&p.buf),
			    "<input value=\"&quot; onfocus=&quot;alert(1)\">");
	sh_buf_release(&p.buf);
}

static void
test_html_sticky_failure(void **state)
{
	struct page p;

	(void)state;
	page_init(&p, 16);
	sh_html_raw(&p.h, "0123456789");
	assert_false(p.h.failed);
	sh_html_text(&p.h, "<too much>");
	assert_true(p.h.failed);
	/* nothing more is written once it failed */
	sh_html_raw(&p.h, "!");
	assert_true(p.h.failed);
	assert_null(strchr(sh_buf_str(&p.buf), '!'));
	sh_buf_release(&p.buf);
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
	struct page p;
	const char *s;

	(void)state;
	page_init(&p, 0);
	sh_html_page_begin(&p.h, &l);
	sh_html_page_end(&p.h);
	s = sh_buf_str(&p.buf);
	assert_non_null(strstr(s, "<!doctype html>"));
	assert_non_null(strstr(s, "<title>&lt;Prod&gt; "));
	assert_non_null(strstr(s, "<meta name=\"viewport\""));
	assert_non_null(strstr(s, "href=\"/stackhook/ui/style.css\""));
	assert_non_null(strstr(s, "<strong>bob&amp;co</strong>"));
	assert_non_null(strstr(s, "name=\"csrf\" value=\"tok&quot;en\""));
	assert_non_null(strstr(s, "href=\"/stackhook/ui/stacks\" aria-current=\"page\""));
	assert_non_null(strstr(s, "<main id=\"main\">"));
	assert_non_null(strstr(s, "</html>"));
	sh_buf_release(&p.buf);

	/* the sign-in page: no person, no sign-out form */
	l.user = NULL;
	page_init(&p, 0);
	sh_html_page_begin(&p.h, &l);
	assert_null(strstr(sh_buf_str(&p.buf), "sign-out"));
	sh_buf_release(&p.buf);
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

static bool
body_has(const struct sh_http_response *resp, const char *needle)
{
	return strstr(sh_buf_str(&resp->body), needle) != NULL;
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
	assert_int_equal(resp.status, 303);
	assert_true(resp_header(&resp, "Location", cookie, sizeof(cookie)));
	assert_string_equal(cookie, "/stackhook/ui/stacks");
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
	assert_int_equal(resp.status, 303);
	assert_true(resp_header(&resp, "Location", value, sizeof(value)));
	assert_string_equal(value, "/stackhook/ui/sign-in");
	sh_http_response_release(&resp);

	request(e, &resp, "GET", "/ui/stacks/vpc", NULL, NULL, NULL);
	assert_true(resp_header(&resp, "Location", value, sizeof(value)));
	assert_string_equal(value, "/stackhook/ui/sign-in?next=/ui/stacks/vpc");
	sh_http_response_release(&resp);

	request(e, &resp, "GET", "/ui/sign-in", NULL, NULL, "QUERY_STRING",
		"next=%2F%2Fevil.example%2F", NULL);
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.content_type, "text/html; charset=utf-8");
	assert_true(body_has(&resp, "<label for=\"key\">API key</label>"));
	/* only our own pages are a way back */
	assert_true(body_has(&resp, "name=\"next\" value=\"/ui/\""));
	assert_true(resp_header(&resp, "Content-Security-Policy", value, sizeof(value)));
	assert_non_null(strstr(value, "default-src 'none'"));
	assert_true(resp_header(&resp, "X-Frame-Options", value, sizeof(value)));
	sh_http_response_release(&resp);

	/* a wrong key: the form again, 401, the key not echoed */
	request(e, &resp, "POST", "/ui/sign-in", NULL, "key=shk_wrong-guess", NULL);
	assert_int_equal(resp.status, 401);
	assert_true(body_has(&resp, "id=\"key-error\""));
	assert_false(body_has(&resp, "shk_wrong-guess"));
	assert_false(resp_header(&resp, "Set-Cookie", value, sizeof(value)));
	sh_http_response_release(&resp);

	sign_in(e, e->key[BOB], id);
	request(e, &resp, "GET", "/ui/", id, NULL, NULL);
	assert_int_equal(resp.status, 200);
	assert_true(body_has(&resp, "Signed in as <strong>bob</strong>"));
	assert_true(body_has(&resp, "No integrations yet"));
	sh_http_response_release(&resp);

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
	struct fake_env *e = *state;
	struct sh_http_response resp;
	char id[SH_SESSION_ID_MAX + 1], csrf[SH_SESSION_CSRF_MAX + 1], form[256];

	make_integration(e, "{\"name\":\"Doomed\",\"space\":\"team\","
			    "\"api_host_url\":\"https://gitlab.example.com\"}");
	sign_in(e, e->key[BOB], id);
	request(e, &resp, "GET", doomed, id, NULL, NULL);
	assert_int_equal(resp.status, 200);
	csrf_of(&resp, csrf);
	sh_http_response_release(&resp);

	assert_int_equal(status_of(e, "POST", doomed, id, "x=1", NULL), 403);
	assert_int_equal(status_of(e, "POST", doomed, id, "csrf=wrong", NULL), 403);
	snprintf(form, sizeof(form), "csrf=%s", csrf);
	assert_int_equal(status_of(e, "POST", doomed, id, form, "HTTP_ORIGIN",
				   "http://localhost.evil", NULL),
			 403);
	assert_int_equal(status_of(e, "POST", doomed, id, form, "HTTP_SEC_FETCH_SITE",
				   "cross-site", NULL),
			 403);
	/* a form body is required: JSON is not a page's form */
	assert_int_equal(status_of(e, "POST", doomed, id, form, "CONTENT_TYPE",
				   "application/json", NULL),
			 400);
	assert_int_equal(count(e->db, "SELECT count(*) FROM integrations WHERE "
				      "deleted_at IS NULL"), 1);

	/* same origin (TU_PUBLIC_URL's), the token: done */
	assert_int_equal(status_of(e, "POST", doomed, id, form, "HTTP_ORIGIN",
				   "http://localhost", "HTTP_SEC_FETCH_SITE",
				   "same-origin", NULL),
			 303);
	assert_int_equal(count(e->db, "SELECT count(*) FROM integrations WHERE "
				      "deleted_at IS NULL"), 0);
}

static void
test_pages_escape_and_secrets(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
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
	request(e, &resp, "GET", "/ui/", id, NULL, NULL);
	assert_int_equal(resp.status, 200);
	assert_false(body_has(&resp, "<script>alert"));
	assert_false(body_has(&resp, "<img"));
	assert_false(body_has(&resp, "<b>x"));
	assert_false(body_has(&resp, "href=\"javascript"));
	assert_true(body_has(&resp, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_false(body_has(&resp, secret));
	sh_http_response_release(&resp);
	request(e, &resp, "GET", "/ui/integrations/script-alert-1-script", id, NULL, NULL);
	assert_int_equal(resp.status, 200);
	assert_true(body_has(&resp, secret));
	assert_true(body_has(&resp, "/webhooks/gitlab/script-alert-1-script"));
	assert_false(body_has(&resp, "glpat-NeverShown1234"));
	assert_true(body_has(&resp, "ending in 1234"));
	sh_http_response_release(&resp);

	/* the reader: the summary, no secret, no confirmation pages */
	sign_in(e, e->key[CAROL], id);
	request(e, &resp, "GET", "/ui/", id, NULL, NULL);
	assert_int_equal(resp.status, 200);
	assert_true(body_has(&resp, "See summary"));
	assert_false(body_has(&resp, secret));
	sh_http_response_release(&resp);
	request(e, &resp, "GET", "/ui/integrations/script-alert-1-script", id, NULL, NULL);
	assert_int_equal(resp.status, 200);
	assert_false(body_has(&resp, secret));
	assert_false(body_has(&resp, "/webhooks/gitlab/"));
	sh_http_response_release(&resp);
	request(e, &resp, "GET", "/ui/integrations/script-alert-1-script/rotate", id,
		NULL, NULL);
	assert_int_equal(resp.status, 403);
	assert_false(body_has(&resp, secret));
	sh_http_response_release(&resp);
	assert_int_equal(status_of(e, "GET", "/ui/integrations/nope", id, NULL, NULL), 404);
}

static void
test_pages_setup_form(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
	char id[SH_SESSION_ID_MAX + 1], csrf[SH_SESSION_CSRF_MAX + 1], form[512];
	char value[256];

	sign_in(e, e->key[BOB], id);
	request(e, &resp, "GET", "/ui/set-up", id, NULL, NULL);
	assert_int_equal(resp.status, 200);
	assert_true(body_has(&resp, "<option value=\"team\""));
	assert_false(body_has(&resp, "<option value=\"root\""));
	csrf_of(&resp, csrf);
	sh_http_response_release(&resp);

	/* the API's message next to its field; typed values kept, the
	 * token not */
	snprintf(form, sizeof(form),
		 "csrf=%s&name=My+%%3CGitLab%%3E&type=space&space=team&api_host_url="
		 "ftp%%3A%%2F%%2Fx&api_token=glpat-Typed5678&labels=a%%2C+b",
		 csrf);
	request(e, &resp, "POST", "/ui/set-up", id, form, NULL);
	assert_int_equal(resp.status, 400);
	assert_true(body_has(&resp, "id=\"api_host_url-error\""));
	assert_true(body_has(&resp, "aria-invalid=\"true\" aria-describedby="
				    "\"api_host_url-error api_host_url-hint\""));
	assert_true(body_has(&resp, "value=\"My &lt;GitLab&gt;\""));
	assert_true(body_has(&resp, "value=\"ftp://x\""));
	assert_true(body_has(&resp, "value=\"a, b\""));
	assert_false(body_has(&resp, "glpat-Typed5678"));
	sh_http_response_release(&resp);

	/* a space bob may not use: the core's message at the space */
	snprintf(form, sizeof(form),
		 "csrf=%s&name=Elsewhere&type=space&space=root&api_host_url="
		 "https%%3A%%2F%%2Fgitlab.example.com",
		 csrf);
	request(e, &resp, "POST", "/ui/set-up", id, form, NULL);
	assert_int_equal(resp.status, 404); /* bob cannot even read root */
	assert_true(body_has(&resp, "id=\"space-error\""));
	sh_http_response_release(&resp);

	snprintf(form, sizeof(form),
		 "csrf=%s&name=Team+GitLab&type=space&space=team&api_host_url="
		 "+https%%3A%%2F%%2Fgitlab.example.com+&api_token=glpat-Typed5678"
		 "&labels=prod%%2C+eu%%2C+&description=line+1%%0D%%0Aline+2",
		 csrf);
	request(e, &resp, "POST", "/ui/set-up", id, form, NULL);
	assert_int_equal(resp.status, 303);
	assert_true(resp_header(&resp, "Location", value, sizeof(value)));
	assert_string_equal(value, "/stackhook/ui/integrations/team-gitlab?created=1");
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
	struct fake_env *e = *state;
	struct sh_http_response resp;
	char csrf[SH_SESSION_CSRF_MAX + 1], form[256];

	make_integration(e, "{\"name\":\"Remote\",\"space\":\"team\","
			    "\"api_host_url\":\"https://gitlab.example.com\"}");
	request(e, &resp, "GET", rotate, NULL, NULL, "REMOTE_USER", "bob", NULL);
	assert_int_equal(resp.status, 200);
	/* the web server signs people out, not us */
	assert_false(body_has(&resp, "/ui/sign-out"));
	csrf_of(&resp, csrf);
	sh_http_response_release(&resp);

	assert_int_equal(status_of(e, "POST", rotate, NULL, "csrf=x", "REMOTE_USER",
				   "bob", NULL),
			 403);
	snprintf(form, sizeof(form), "csrf=%s", csrf);
	/* carol's token is not bob's */
	assert_int_equal(status_of(e, "POST", rotate, NULL, form, "REMOTE_USER",
				   "carol", NULL),
			 403);
	assert_int_equal(status_of(e, "POST", rotate, NULL, form, "REMOTE_USER",
				   "bob", NULL),
			 303);
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
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.content_type, "text/css; charset=utf-8");
	assert_true(body_has(&resp, "@media"));
	sh_http_response_release(&resp);
	request(e, &resp, "GET", "/ui/copy.js", NULL, NULL, NULL);
	assert_int_equal(resp.status, 200);
	assert_true(body_has(&resp, "clipboard"));
	sh_http_response_release(&resp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_text_escapes),
		cmocka_unit_test(test_html_template),
		cmocka_unit_test(test_html_attr),
		cmocka_unit_test(test_html_sticky_failure),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_markdown_is_safe),
		cmocka_unit_test(test_page_frame),
		cmocka_unit_test(test_form_parse),
		cmocka_unit_test(test_form_refused),
		cmocka_unit_test_setup_teardown(test_sessions, env_setup, fake_env_teardown),
		cmocka_unit_test_setup_teardown(test_sessions_refused_keys, env_setup,
						fake_env_teardown),
		cmocka_unit_test(test_csrf_tokens),
		cmocka_unit_test_setup_teardown(test_pages_sign_in, env_setup, fake_env_teardown),
		cmocka_unit_test_setup_teardown(test_pages_csrf_and_origin, env_setup,
						fake_env_teardown),
		cmocka_unit_test_setup_teardown(test_pages_escape_and_secrets, env_setup,
						fake_env_teardown),
		cmocka_unit_test_setup_teardown(test_pages_setup_form, env_setup,
						fake_env_teardown),
		cmocka_unit_test_setup_teardown(test_pages_remote_user, env_setup_trusting,
						fake_env_teardown),
		cmocka_unit_test_setup_teardown(test_pages_remote_user_untrusted, env_setup,
						fake_env_teardown),
		cmocka_unit_test_setup_teardown(test_assets, env_setup, fake_env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
