/*
 * ui.h - the web pages (SPEC §4.4): the admin API's core calls, rendered
 * as HTML for people.
 *
 * Pages decide nothing the core decides: a form becomes the same JSON body
 * the API takes and goes to the same core function; what the person may
 * see or do comes back as that call's error (404, 403), shown on the page,
 * next to the field it names.
 *
 * Who is calling: REMOTE_USER when the config trusts the web server (the
 * API's rule, sh_router_remote_user()), else the session cookie of
 * sessions.h, else the sign-in page.  Every change is a POST from a page
 * of the same origin carrying the person's CSRF token.
 *
 * One file per family of pages: ui.c (this machinery), ui_assets.c (the
 * stylesheet and the copy script), ui_session.c (sign-in, sign-out),
 * ui_integrations.c, ui_stacks.c, ui_runs.c.
 */
#ifndef STACKHOOK_FCGI_UI_H
#define STACKHOOK_FCGI_UI_H

#include <stdbool.h>

#include "form.h"
#include "html.h"
#include "router.h"
#include "stackhook/sessions.h"

#define SH_UI_LIST_LIMIT 100 /* rows a list page shows before "Older" */

struct sh_ui {
	struct sh_route_ctx *ctx;
	struct sh_html html; /* writes ctx->resp->body */
	const char *base;    /* the mount path ("" or "/stackhook"), in cfg */
	bool signed_in;
	bool session;        /* signed in through a session cookie */
	char csrf[SH_SESSION_CSRF_MAX + 1]; /* the token the forms carry */
	struct sh_form form; /* the fields of a POST */
};

enum {
	SH_UI_POST = 1 << 0,     /* a change: same origin, form read, CSRF checked */
	SH_UI_OPTIONAL = 1 << 1, /* signing in is not required (sign-in pages) */
};

/*
 * Starts a page: for a POST, refuses cross-site requests (403) and reads
 * the form; finds who is calling and fills ctx->user and ctx->actor; for
 * a POST, checks the CSRF token (403).  Not signed in: a GET is sent to
 * the sign-in page (303), a POST too, unless flags has SH_UI_OPTIONAL.
 * Returns 0, or -1 with the answer written.  Either way, end with
 * sh_ui_leave().
 */
int sh_ui_enter(struct sh_route_ctx *ctx, struct sh_ui *ui, unsigned flags);

/* Wipes and frees the form. */
void sh_ui_leave(struct sh_ui *ui);

/* The frame's top, with title and the current section ("integrations",
 * "stacks" or NULL). */
void sh_ui_begin(struct sh_ui *ui, const char *title, const char *nav);

/* The frame's bottom; sets the status, the content type and the security
 * headers.  A page whose writing failed becomes a plain 500. */
void sh_ui_end(struct sh_ui *ui, int status);

/* 303 See Other to path below the mount ("/ui/stacks/vpc"): path must
 * hold no characters that need encoding (slugs, ids) -- or encode them. */
void sh_ui_redirect(struct sh_ui *ui, const char *path);

/* A whole page for err (its status, its public message). */
void sh_ui_error_page(struct sh_ui *ui, const struct sh_err *err);

/* The hidden CSRF field every state-changing form carries. */
void sh_ui_csrf_input(struct sh_ui *ui);

/* The POSTed field name ("" when absent: forms keep what was typed). */
const char *sh_ui_field(const struct sh_ui *ui, const char *name);

/* true when err is about the form field name: its JSON path is name or
 * starts with name followed by '[' or '.' ("labels[2]" is about labels). */
bool sh_ui_err_on(const struct sh_err *err, const char *name);

/* For a form field: aria-invalid when err is about it, and
 * aria-describedby naming the message (NAME-error) and the element whose
 * id is hint (NULL: none); then the message itself, as <p id="NAME-error">
 * (nothing when err is not about the field). */
void sh_ui_field_attrs(struct sh_ui *ui, const struct sh_err *err,
		       const char *name, const char *hint);
void sh_ui_field_error(struct sh_ui *ui, const struct sh_err *err,
		       const char *name);

/* A notice at the top of a page (role="status"); text escaped. */
void sh_ui_notice(struct sh_ui *ui, const char *text);

/* An error at the top of a form (role="alert") unless it names a field the
 * form shows (fields: NULL-terminated). */
void sh_ui_form_error(struct sh_ui *ui, const struct sh_err *err,
		      const char *const *fields);

/* The value of the request's cookie name into out: 1 when found, 0 when
 * not (or when it does not fit in size bytes: not one of ours). */
int sh_ui_cookie(struct sh_route_ctx *ctx, const char *name, char *out,
		 size_t size);

/* Sets the session cookie to id (HttpOnly, SameSite=Strict, Secure over
 * TLS, for the mount path, lasting SH_SESSION_TTL), or clears it when id
 * is NULL. */
void sh_ui_session_cookie(struct sh_ui *ui, const char *id);

/* The page to go to after signing in: next when it is a page of ours
 * ("/ui/..." or "/runs/..."), else "/ui/". */
const char *sh_ui_next(const char *next);

/* The string member name of o, "" when absent or null. */
const char *sh_ui_str(const cJSON *o, const char *name);

/* The number member name of o as an integer, 0 when absent. */
long long sh_ui_count(const cJSON *o, const char *name);

/* A time as the API writes it ("2026-11-26T10:00:00Z") as people read it
 * ("2026-11-26 10:00 UTC"), in out; returns out (or iso, "" for NULL, when
 * it is not such a time). */
const char *sh_ui_when(const char *iso, char out[32]);

/* Route handlers (SH_ROUTE_DB unless said; each does its own page auth). */
void sh_ui_style(struct sh_route_ctx *ctx);  /* no flags */
void sh_ui_script(struct sh_route_ctx *ctx); /* no flags */
void sh_ui_sign_in_page(struct sh_route_ctx *ctx);
void sh_ui_sign_in(struct sh_route_ctx *ctx);
void sh_ui_sign_out(struct sh_route_ctx *ctx);
void sh_ui_integrations_page(struct sh_route_ctx *ctx);
void sh_ui_setup_page(struct sh_route_ctx *ctx);
void sh_ui_setup(struct sh_route_ctx *ctx);
void sh_ui_integration_page(struct sh_route_ctx *ctx);
void sh_ui_rotate_page(struct sh_route_ctx *ctx);
void sh_ui_rotate(struct sh_route_ctx *ctx);
void sh_ui_delete_page(struct sh_route_ctx *ctx);
void sh_ui_delete(struct sh_route_ctx *ctx);
void sh_ui_stacks_page(struct sh_route_ctx *ctx);
void sh_ui_stack_page(struct sh_route_ctx *ctx);
void sh_ui_stack_attach(struct sh_route_ctx *ctx);
void sh_ui_run_page(struct sh_route_ctx *ctx);

#endif
