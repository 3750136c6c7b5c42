/* Signing in with an API key, and out (SPEC §4.4). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "stackhook/timeutil.h"
#include "ui.h"

static void
sign_in_form(struct sh_ui *ui, const char *next, const struct sh_err *err,
	     int status)
{
	struct sh_html *h = &ui->html;

	sh_ui_begin(ui, "Sign in", NULL);
	sh_html_raw(h, "<h1>Sign in</h1>\n");
	sh_html(h,
		"<form class=\"stack\" method=\"post\" action=\"{u}/ui/sign-in\">\n"
		"<input type=\"hidden\" name=\"next\" value=\"{}\">\n"
		"<div><label for=\"key\">API key</label>\n"
		"<input type=\"password\" id=\"key\" name=\"key\" required "
		"autocomplete=\"off\" spellcheck=\"false\"",
		ui->base, sh_ui_next(next));
	sh_ui_field_attrs(ui, err, "key", "key-hint");
	sh_html_raw(h, ">\n");
	sh_ui_field_error(ui, err, "key");
	sh_html_raw(h,
		    "<p class=\"hint\" id=\"key-hint\">Your stackhook API key "
		    "(<code>shk_…</code>), from <code>stackhook key create --user "
		    "NAME</code> or the admin who manages stackhook. It opens a "
		    "session of 12 hours in this browser.</p></div>\n"
		    "<div><button type=\"submit\">Sign in</button></div>\n</form>\n");
	if (ui->ctx->inst->cfg->trust_remote_user)
		sh_html_raw(h, "<p class=\"muted\">This server also trusts the web "
			       "server's sign-in (REMOTE_USER): where it asks for "
			       "your name and password, you need no key.</p>\n");
	sh_ui_end(ui, status);
}

void
sh_ui_sign_in_page(struct sh_route_ctx *ctx)
{
	char next_buf[512];
	const char *next;
	struct sh_err err;
	struct sh_ui ui;

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, SH_UI_OPTIONAL) == 0) {
		if (sh_route_query(ctx, "next", next_buf, sizeof(next_buf), &next,
				   &err) < 0)
			next = NULL;
		if (ui.signed_in)
			sh_ui_redirect(&ui, sh_ui_next(next));
		else
			sign_in_form(&ui, next, NULL, 200);
	}
	sh_ui_leave(&ui);
}

void
sh_ui_sign_in(struct sh_route_ctx *ctx)
{
	struct sh_session session = {0};
	char *id = NULL;
	const char *key, *next;
	struct sh_err err;
	struct sh_ui ui;

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, SH_UI_POST | SH_UI_OPTIONAL) < 0)
		goto out;
	key = sh_ui_field(&ui, "key");
	next = sh_ui_next(sh_ui_field(&ui, "next"));
	while (*key == ' ')
		key++;
	if (sh_sessions_open(ctx->db, key, sh_time_now(), &id, &session, &err) < 0) {
		if (err.code == SH_E_UNAUTHORIZED)
			snprintf(err.field, sizeof(err.field), "key");
		if (err.code == SH_E_UNAUTHORIZED || err.code == SH_E_FORBIDDEN) {
			/* The page is built again from scratch: not signed in. */
			ui.signed_in = ui.session = false;
			sign_in_form(&ui, next, &err, 401);
		} else {
			sh_ui_error_page(&ui, &err);
		}
		goto out;
	}
	sh_ui_session_cookie(&ui, id);
	sh_ui_redirect(&ui, next);
out:
	sh_sessions_id_free(id);
	sh_crypto_wipe(&session, sizeof(session));
	sh_ui_leave(&ui);
}

void
sh_ui_sign_out(struct sh_route_ctx *ctx)
{
	char id[SH_SESSION_ID_MAX + 1] = "";
	struct sh_err err;
	struct sh_ui ui;

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, SH_UI_POST) == 0) {
		if (!ui.session) {
			/* Signed in by the web server: it signs people out. */
			sh_ui_redirect(&ui, "/ui/");
			goto out;
		}
		if (sh_ui_cookie(ctx, SH_SESSION_COOKIE, id, sizeof(id)) != 1)
			id[0] = '\0';
		if (sh_sessions_close(ctx->db, id, &err) < 0) {
			sh_ui_error_page(&ui, &err);
			goto out;
		}
		sh_ui_session_cookie(&ui, NULL);
		sh_ui_redirect(&ui, "/ui/sign-in");
	}
out:
	sh_crypto_wipe(id, sizeof(id));
	sh_ui_leave(&ui);
}
