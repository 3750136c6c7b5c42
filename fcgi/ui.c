/* The machinery every page shares: who is calling, CSRF, the frame. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ui.h"
#include "stackhook/log.h"
#include "stackhook/timeutil.h"

#define NEXT_MAX 512

/* Content-Security-Policy of every page: our stylesheet and script only,
 * forms post to us only, no framing. */
static const char page_csp[] =
	"default-src 'none'; style-src 'self'; script-src 'self'; "
	"img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
	"base-uri 'none'";

/* The scheme, host and port of public_url: what a same-origin browser
 * sends as Origin. */
static size_t
origin_len(const char *public_url)
{
	const char *host = strstr(public_url, "://");
	const char *path = host ? strchr(host + 3, '/') : NULL;

	return path ? (size_t)(path - public_url) : strlen(public_url);
}

/* A form posted from another site: the browser says so (Sec-Fetch-Site),
 * or its Origin is not ours. */
static bool
cross_site(struct sh_route_ctx *ctx)
{
	const char *site = sh_http_param(ctx->req, "HTTP_SEC_FETCH_SITE");
	const char *origin = sh_http_param(ctx->req, "HTTP_ORIGIN");
	const char *url = ctx->inst->cfg->public_url;
	size_t n = origin_len(url);

	if (site != NULL && site[0] != '\0' && strcmp(site, "same-origin") != 0 &&
	    strcmp(site, "none") != 0)
		return true;
	if (origin != NULL && origin[0] != '\0' &&
	    (strlen(origin) != n || strncasecmp(origin, url, n) != 0))
		return true;
	return false;
}

/* Whether the person reached us over TLS: then the cookie is Secure. */
static bool
over_tls(struct sh_route_ctx *ctx)
{
	const char *https = sh_http_param(ctx->req, "HTTPS");

	return (https != NULL && strcasecmp(https, "on") == 0) ||
	       strncmp(ctx->inst->cfg->public_url, "https://", 8) == 0;
}

int
sh_ui_cookie(struct sh_route_ctx *ctx, const char *name, char *out, size_t size)
{
	const char *p = sh_http_param(ctx->req, "HTTP_COOKIE");
	size_t name_len = strlen(name);

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		if (len > name_len && strncmp(p, name, name_len) == 0 &&
		    p[name_len] == '=') {
			len -= name_len + 1;
			if (len >= size)
				return 0;
			memcpy(out, p + name_len + 1, len);
			out[len] = '\0';
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

const char *
sh_ui_str(const cJSON *o, const char *name)
{
	const char *s = sh_json_str(o, name);

	return s ? s : "";
}

long long
sh_ui_count(const cJSON *o, const char *name)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(n) ? (long long)n->valuedouble : 0;
}

const char *
sh_ui_when(const char *iso, char out[32])
{
	if (iso == NULL || strlen(iso) != SH_ISO8601_LEN || iso[10] != 'T')
		return iso ? iso : "";
	snprintf(out, 32, "%.10s %.5s UTC", iso, iso + 11);
	return out;
}

/* Headers of every HTML answer. */
static void
page_headers(struct sh_ui *ui)
{
	struct sh_http_response *resp = ui->ctx->resp;

	sh_http_header(resp, "Content-Security-Policy", page_csp);
	sh_http_header(resp, "X-Frame-Options", "DENY");
	sh_http_header(resp, "Referrer-Policy", "same-origin");
}

void
sh_ui_begin(struct sh_ui *ui, const char *title, const char *nav)
{
	struct sh_html_layout l = {
		.title = title,
		.base = ui->base,
		.user = ui->signed_in ? ui->ctx->user.name : NULL,
		.csrf = ui->session ? ui->csrf : NULL,
		.nav = nav,
	};

	sh_html_page_begin(&ui->html, &l);
}

void
sh_ui_end(struct sh_ui *ui, int status)
{
	struct sh_http_response *resp = ui->ctx->resp;

	sh_html_page_end(&ui->html);
	page_headers(ui);
	if (ui->html.failed) {
		sh_log(LOG_ERR, "ui: %s: the page did not fit in memory",
		       ui->ctx->req->route);
		sh_buf_release(&resp->body);
		sh_buf_puts(&resp->body, "stackhook failed to write the page\n");
		resp->content_type = "text/plain; charset=utf-8";
		resp->status = 500;
		return;
	}
	resp->content_type = "text/html; charset=utf-8";
	resp->status = status;
}

void
sh_ui_redirect(struct sh_ui *ui, const char *path)
{
	struct sh_http_response *resp = ui->ctx->resp;
	struct sh_buf location = SH_BUF_INIT;

	sh_buf_release(&resp->body);
	if (sh_buf_printf(&location, "%s%s", ui->base, path) < 0) {
		resp->status = 500;
		return;
	}
	sh_http_header(resp, "Location", sh_buf_str(&location));
	sh_buf_release(&location);
	page_headers(ui);
	resp->content_type = "text/plain; charset=utf-8";
	sh_buf_puts(&resp->body, "See Other\n");
	resp->status = 303;
}

static const char *
status_title(int status)
{
	switch (status) {
	case 400: return "The request cannot be used";
	case 401: return "Sign in again";
	case 403: return "Not allowed";
	case 404: return "Not found";
	case 409: return "Conflict";
	case 413: return "Too large";
	case 422: return "Not usable";
	case 503: return "Try again shortly";
	default: return "Something went wrong";
	}
}

void
sh_ui_error_page(struct sh_ui *ui, const struct sh_err *err)
{
	int status = sh_err_http_status(err->code);

	sh_buf_release(&ui->ctx->resp->body);
	sh_html_init(&ui->html, &ui->ctx->resp->body);
	sh_ui_begin(ui, status_title(status), NULL);
	sh_html(&ui->html,
		"<h1>{}</h1>\n<p class=\"error\" role=\"alert\">{}</p>\n"
		"<p><a href=\"{u}/ui/\">Back to Source code</a></p>\n",
		status_title(status), sh_http_public_message(err), ui->base);
	sh_ui_end(ui, status);
}

void
sh_ui_csrf_input(struct sh_ui *ui)
{
	sh_html(&ui->html, "<input type=\"hidden\" name=\"csrf\" value=\"{}\">\n",
		ui->csrf);
}

const char *
sh_ui_field(const struct sh_ui *ui, const char *name)
{
	const char *v = sh_form_get(&ui->form, name);

	return v ? v : "";
}

bool
sh_ui_err_on(const struct sh_err *err, const char *name)
{
	size_t n = strlen(name);

	if (err == NULL || err->code == SH_OK || err->field[0] == '\0')
		return false;
	return strncmp(err->field, name, n) == 0 &&
	       (err->field[n] == '\0' || err->field[n] == '[' || err->field[n] == '.');
}

void
sh_ui_field_attrs(struct sh_ui *ui, const struct sh_err *err, const char *name,
		  const char *hint)
{
	bool bad = sh_ui_err_on(err, name);

	if (bad)
		sh_html_raw(&ui->html, " aria-invalid=\"true\"");
	if (bad && hint != NULL)
		sh_html(&ui->html, " aria-describedby=\"{}-error {}\"", name, hint);
	else if (bad)
		sh_html(&ui->html, " aria-describedby=\"{}-error\"", name);
	else if (hint != NULL)
		sh_html(&ui->html, " aria-describedby=\"{}\"", hint);
}

void
sh_ui_field_error(struct sh_ui *ui, const struct sh_err *err, const char *name)
{
	if (sh_ui_err_on(err, name))
		sh_html(&ui->html, "<p class=\"field-error\" id=\"{}-error\">{}</p>\n",
			name, sh_http_public_message(err));
}

void
sh_ui_notice(struct sh_ui *ui, const char *text)
{
	sh_html(&ui->html, "<p class=\"notice\" role=\"status\">{}</p>\n", text);
}

void
sh_ui_form_error(struct sh_ui *ui, const struct sh_err *err,
		 const char *const *fields)
{
	if (err == NULL || err->code == SH_OK)
		return;
	for (size_t i = 0; fields != NULL && fields[i] != NULL; i++) {
		if (sh_ui_err_on(err, fields[i])) {
			sh_html(&ui->html,
				"<p class=\"error\" role=\"alert\">The form has a "
				"problem: <a href=\"#{}\">{}</a></p>\n",
				fields[i], sh_http_public_message(err));
			return;
		}
	}
	sh_html(&ui->html, "<p class=\"error\" role=\"alert\">{}</p>\n",
		sh_http_public_message(err));
}

/* A 403 page for a refused change. */
static void
refuse(struct sh_ui *ui, const char *why)
{
	struct sh_err err;

	sh_err_set(&err, SH_E_FORBIDDEN, NULL, "%s", why);
	sh_ui_error_page(ui, &err);
}

/* Reads a POST's form. */
static int
read_form(struct sh_ui *ui, struct sh_err *err)
{
	struct sh_route_ctx *ctx = ui->ctx;
	const char *type = sh_http_param(ctx->req, "CONTENT_TYPE");
	static const char urlencoded[] = "application/x-www-form-urlencoded";
	size_t limit = ctx->inst->cfg->max_body < SH_FORM_MAX_BYTES ?
			       ctx->inst->cfg->max_body :
			       SH_FORM_MAX_BYTES;

	if (type == NULL || strncasecmp(type, urlencoded, strlen(urlencoded)) != 0)
		return sh_err_set(err, SH_E_BAD_REQUEST, NULL,
				  "pages take forms (%s)", urlencoded);
	if (sh_http_read_body(ctx->req, limit, err) < 0)
		return -1;
	return sh_form_parse(ctx->req->body, ctx->req->body_len, &ui->form, err);
}

/* Who is calling: 1 signed in, 0 not, -1 with err. */
static int
identify(struct sh_ui *ui, struct sh_err *err)
{
	struct sh_route_ctx *ctx = ui->ctx;
	char id[SH_SESSION_ID_MAX + 1];
	const unsigned char *key;
	struct sh_session s;
	int rc = sh_router_remote_user(ctx, err);

	if (rc == 1) {
		if (sh_instance_key(ctx->inst, &key, err) < 0 ||
		    sh_sessions_remote_csrf(key, ctx->user.name, ui->csrf, err) < 0)
			return -1;
		return 1;
	}
	if (rc < 0)
		return -1;
	if (sh_ui_cookie(ctx, SH_SESSION_COOKIE, id, sizeof(id)) != 1)
		return 0;
	rc = sh_sessions_find(ctx->db, id, sh_time_now(), &s, err);
	sh_crypto_wipe(id, sizeof(id));
	if (rc < 0) {
		if (err->code != SH_E_UNAUTHORIZED)
			return -1;
		sh_err_clear(err);
		return 0;
	}
	ctx->user = s.user;
	snprintf(ui->csrf, sizeof(ui->csrf), "%s", s.csrf);
	ui->session = true;
	return 1;
}

/* Characters a path below the mount may have to be a place to return to
 * after signing in. */
static bool
next_valid(const char *next)
{
	size_t len = next ? strlen(next) : 0;

	if (len == 0 || len >= NEXT_MAX || next[0] != '/' || next[1] == '/')
		return false;
	if (strncmp(next, "/ui", 3) != 0 && strncmp(next, "/runs/", 6) != 0)
		return false;
	return strspn(next, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789/-_.~") == len;
}

const char *
sh_ui_next(const char *next)
{
	return next_valid(next) ? next : "/ui/";
}

/* Sends someone not signed in to the sign-in page, to come back here. */
static void
to_sign_in(struct sh_ui *ui)
{
	char path[NEXT_MAX + 32];
	const char *route = ui->ctx->req->route;

	if (strcmp(ui->ctx->req->method, "GET") == 0 && next_valid(route) &&
	    strcmp(route, "/ui") != 0 && strcmp(route, "/ui/") != 0)
		snprintf(path, sizeof(path), "/ui/sign-in?next=%s", route);
	else
		snprintf(path, sizeof(path), "/ui/sign-in");
	sh_ui_redirect(ui, path);
}

int
sh_ui_enter(struct sh_route_ctx *ctx, struct sh_ui *ui, unsigned flags)
{
	struct sh_err err;
	int rc;

	memset(ui, 0, sizeof(*ui));
	ui->ctx = ctx;
	ui->base = sh_router_mount_path(ctx->inst->cfg->public_url);
	sh_html_init(&ui->html, &ctx->resp->body);
	sh_err_clear(&err);
	if ((flags & SH_UI_POST) && cross_site(ctx)) {
		refuse(ui, "forms posted from another site are refused");
		return -1;
	}
	if ((flags & SH_UI_POST) && read_form(ui, &err) < 0) {
		sh_ui_error_page(ui, &err);
		return -1;
	}
	rc = identify(ui, &err);
	if (rc < 0) {
		sh_ui_error_page(ui, &err);
		return -1;
	}
	ui->signed_in = rc == 1;
	ctx->actor.user_id = ctx->user.id;
	ctx->actor.name = ctx->user.name;
	ctx->actor.address = ctx->req->remote_addr;
	if (!ui->signed_in) {
		if (flags & SH_UI_OPTIONAL)
			return 0;
		to_sign_in(ui);
		return -1;
	}
	if ((flags & SH_UI_POST) && !(flags & SH_UI_OPTIONAL) &&
	    !sh_sessions_csrf_valid(ui->csrf, sh_form_get(&ui->form, "csrf"))) {
		refuse(ui, "the form's security token is missing or stale: "
			   "reload the page and try again");
		return -1;
	}
	return 0;
}

void
sh_ui_leave(struct sh_ui *ui)
{
	struct sh_http_request *req = ui->ctx->req;

	sh_form_release(&ui->form);
	/* The body may have held an API key or a GitLab token. */
	if (req->body != NULL)
		sh_crypto_wipe(req->body, req->body_len);
	sh_crypto_wipe(ui->csrf, sizeof(ui->csrf));
}

void
sh_ui_session_cookie(struct sh_ui *ui, const char *id)
{
	struct sh_buf cookie = SH_BUF_INIT;

	if (sh_buf_printf(&cookie, "%s=%s; Path=%s/; HttpOnly; SameSite=Strict; "
			  "Max-Age=%d%s", SH_SESSION_COOKIE, id ? id : "",
			  ui->base, id ? SH_SESSION_TTL : 0,
			  over_tls(ui->ctx) ? "; Secure" : "") == 0)
		sh_http_header(ui->ctx->resp, "Set-Cookie", sh_buf_str(&cookie));
	if (cookie.data != NULL)
		sh_crypto_wipe(cookie.data, cookie.len);
	sh_buf_release(&cookie);
}
