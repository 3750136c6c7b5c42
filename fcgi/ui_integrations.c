/*
 * The Source code page (integrations and their health), Set up
 * integration, See details, rotate secret and Delete (SPEC §3, §4.4): the
 * core calls of /api/v1/integrations behind forms.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/integrations.h"
#include "stackhook/spaces.h"
#include "stackhook/stacks.h"
#include "ui.h"

/* The fields of the set-up form, named as the API's body names them. */
static const char *const setup_fields[] = {
	"name", "type", "space", "api_host_url", "user_facing_host_url",
	"api_token", "signing_token", "labels", "description", "ca_file", NULL,
};

static void
labels(struct sh_html *h, const cJSON *o)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(o, "labels"))
		if (cJSON_IsString(item))
			sh_html(h, " <span class=\"badge\">{}</span>", item->valuestring);
}

static void
fact(struct sh_html *h, const char *term, const char *value)
{
	sh_html(h, "<dt>{}</dt><dd>{}</dd>\n", term, value);
}

/* ---------------------------------------------------------------- */
/* the Source code page */

/* Health at a glance, from the same call as GET .../health: only the
 * integration's admins may see it.  Returns whether the reader is one. */
static bool
health_cell(struct sh_ui *ui, const struct sh_integration_env *env,
	    const char *slug)
{
	struct sh_html *h = &ui->html;
	const cJSON *last, *reports, *dups, *errors, *problems, *item;
	cJSON *health = NULL;
	struct sh_err err;
	char t[32];
	int shown = 0;

	sh_err_clear(&err);
	if (sh_integrations_health(ui->ctx->db, env, &ui->ctx->actor, slug, &health,
				   &err) < 0) {
		sh_html(h, "<span class=\"muted\">{}</span>",
			err.code == SH_E_FORBIDDEN ? "Shown to its admins" :
						     "Not available now");
		return false;
	}
	last = cJSON_GetObjectItemCaseSensitive(health, "last_delivery");
	if (cJSON_IsObject(last))
		sh_html(h, "<div>Last delivery {} <span class=\"badge{}\">{}</span></div>",
			sh_ui_when(sh_ui_str(last, "received_at"), t),
			strcmp(sh_ui_str(last, "outcome"), "accepted") == 0 ? " ok" : "",
			sh_ui_str(last, "outcome"));
	else
		sh_html_raw(h, "<div class=\"muted\">No delivery yet</div>");
	dups = cJSON_GetObjectItemCaseSensitive(health, "suspected_duplicate_hooks");
	if (cJSON_GetArraySize(dups) > 0) {
		sh_html(h, "<div><span class=\"badge warn\">{i} project(s) with a "
			   "duplicate webhook</span></div>",
			(long long)cJSON_GetArraySize(dups));
		shown++;
	}
	reports = cJSON_GetObjectItemCaseSensitive(health, "reports");
	if (sh_ui_count(reports, "waiting") > 0) {
		sh_html(h, "<div><span class=\"badge\">{i} report(s) waiting</span></div>",
			(long long)sh_ui_count(reports, "waiting"));
		shown++;
	}
	if (sh_ui_count(reports, "failed") > 0) {
		sh_html(h, "<div><span class=\"badge bad\">{i} report(s) failed</span></div>",
			(long long)sh_ui_count(reports, "failed"));
		shown++;
	}
	errors = cJSON_GetObjectItemCaseSensitive(health, "reporter_errors");
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(errors, "credentials"))) {
		sh_html_raw(h, "<div><span class=\"badge bad\">GitLab refused the "
			       "token</span></div>");
		shown++;
	}
	problems = cJSON_GetObjectItemCaseSensitive(health, "problems");
	cJSON_ArrayForEach(item, problems) {
		if (cJSON_IsString(item)) {
			sh_html(h, "<div><span class=\"badge warn\">{}</span></div>",
				item->valuestring);
			shown++;
		}
	}
	if (shown == 0)
		sh_html_raw(h, "<div><span class=\"badge ok\">No problems</span></div>");
	cJSON_Delete(health);
	return true;
}

/* Whether the person is an admin of some space (may set up integrations):
 * the roles come from the same snapshot the core checks with. */
static int
admin_somewhere(struct sh_ui *ui, bool *yes, struct sh_err *err)
{
	struct sh_authz *az = NULL;

	*yes = false;
	if (sh_authz_load(ui->ctx->db, ui->ctx->actor.user_id, &az, err) < 0)
		return -1;
	for (size_t i = 0; i < sh_authz_space_count(az) && !*yes; i++)
		*yes = sh_authz_role(az, sh_authz_space_id(az, i)) == SH_ROLE_ADMIN;
	sh_authz_free(az);
	return 0;
}

static void
empty_state(struct sh_ui *ui, bool can_set_up)
{
	struct sh_html *h = &ui->html;

	sh_html_raw(h,
		    "<div class=\"empty\">\n<h2>No integrations yet</h2>\n"
		    "<p>An integration connects stackhook to one GitLab: it receives "
		    "GitLab's webhooks (pushes, tags, merge requests) for the stacks "
		    "attached to it, and reports each run back as commit statuses, "
		    "merge request comments and deployments.</p>\n<ol>\n"
		    "<li>Set up an integration with your GitLab's address and an API "
		    "token (a personal, group or project access token with the "
		    "<code>api</code> scope, of a Maintainer).</li>\n"
		    "<li>Paste its webhook URL and secret into each GitLab project "
		    "(Settings &gt; Webhooks), or run <code>stackhook hooks "
		    "sync</code>.</li>\n"
		    "<li>Attach your stacks to it on their pages.</li>\n</ol>\n");
	if (can_set_up)
		sh_html(h, "<p><a class=\"button\" href=\"{u}/ui/set-up\">Set up "
			   "integration</a></p>\n",
			ui->base);
	else
		sh_html_raw(h, "<p class=\"muted\">Setting one up needs the admin "
			       "role in a space: ask an admin of stackhook.</p>\n");
	sh_html_raw(h, "</div>\n");
}

static void
integration_row(struct sh_ui *ui, const struct sh_integration_env *env,
		const cJSON *it)
{
	struct sh_html *h = &ui->html;
	const char *slug = sh_ui_str(it, "slug");
	bool admin;

	sh_html(h, "<tr>\n<td><a href=\"{u}/ui/integrations/{u}\"><strong>{}</strong></a>",
		ui->base, slug, sh_ui_str(it, "name"));
	labels(h, it);
	sh_html(h, "<div class=\"muted\">{}</div></td>\n", slug);
	if (strcmp(sh_ui_str(it, "type"), "default") == 0)
		sh_html_raw(h, "<td data-label=\"Type\">Default<div class=\"muted\">every stack</div></td>\n");
	else
		sh_html(h, "<td data-label=\"Type\">Space<div class=\"muted\">{}</div></td>\n",
			sh_ui_str(it, "space"));
	sh_html(h, "<td data-label=\"GitLab\">{}", sh_ui_str(it, "api_host_url"));
	if (strcmp(sh_ui_str(it, "api_host_url"), sh_ui_str(it, "user_facing_host_url")) != 0)
		sh_html(h, "<div class=\"muted\">people open {}</div>",
			sh_ui_str(it, "user_facing_host_url"));
	sh_html_raw(h, "</td>\n<td class=\"description\" data-label=\"Description\">");
	sh_html_markdown(h, sh_ui_str(it, "description"));
	sh_html_raw(h, "</td>\n<td data-label=\"Health\">");
	admin = health_cell(ui, env, slug);
	sh_html(h,
		"</td>\n<td><details class=\"menu\"><summary aria-label=\"Actions "
		"for {}\">Actions</summary><ul>\n",
		sh_ui_str(it, "name"));
	if (admin)
		sh_html(h,
			"<li><a href=\"{u}/ui/integrations/{u}\">See details</a></li>\n"
			"<li><a href=\"{u}/ui/integrations/{u}/delete\">Delete</a></li>\n",
			ui->base, slug, ui->base, slug);
	else
		sh_html(h, "<li><a href=\"{u}/ui/integrations/{u}\">See summary</a></li>\n",
			ui->base, slug);
	sh_html_raw(h, "</ul></details></td>\n</tr>\n");
}

void
sh_ui_integrations_page(struct sh_route_ctx *ctx)
{
	struct sh_integration_env env;
	struct sh_spool_tally tally = {0};
	const cJSON *items, *it, *next;
	cJSON *list = NULL;
	struct sh_page page;
	struct sh_err err;
	struct sh_ui ui;
	bool can_set_up;
	char after[32];

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, 0) < 0)
		goto out;
	if (sh_route_integration_env(ctx, &env, &err) < 0 ||
	    sh_route_page(ctx, &page, &err) < 0 ||
	    admin_somewhere(&ui, &can_set_up, &err) < 0 ||
	    sh_integrations_list(ctx->db, &ctx->actor, &page, &list, &err) < 0) {
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	sh_ui_begin(&ui, "Source code", "integrations");
	sh_html_raw(&ui.html, "<div class=\"bar\"><h1>Source code</h1>");
	if (can_set_up)
		sh_html(&ui.html, "<a class=\"button\" href=\"{u}/ui/set-up\">Set up "
				  "integration</a>",
			ui.base);
	sh_html_raw(&ui.html, "</div>\n<p class=\"muted\">The GitLab integrations "
			      "you can see, newest first.</p>\n");
	items = cJSON_GetObjectItemCaseSensitive(list, "items");
	if (cJSON_GetArraySize(items) == 0 && page.after == 0) {
		empty_state(&ui, can_set_up);
	} else {
		/* One pass over the spool for every row's health, not one
		 * each; without it, each row reads the spool itself. */
		if (sh_spool_tally(env.cfg->spool, &tally, NULL) == 0)
			env.tally = &tally;
		sh_html_raw(&ui.html,
			    "<div class=\"table\"><table>\n<thead><tr><th scope=\"col\">"
			    "Name</th><th scope=\"col\">Type</th><th scope=\"col\">"
			    "GitLab</th><th scope=\"col\">Description</th><th "
			    "scope=\"col\">Health</th><th scope=\"col\"><span "
			    "class=\"muted\">Menu</span></th></tr></thead>\n<tbody>\n");
		cJSON_ArrayForEach(it, items)
			integration_row(&ui, &env, it);
		sh_html_raw(&ui.html, "</tbody></table></div>\n");
	}
	next = cJSON_GetObjectItemCaseSensitive(list, "next");
	if (cJSON_IsString(next)) {
		snprintf(after, sizeof(after), "%s", next->valuestring);
		sh_html(&ui.html, "<p><a href=\"{u}/ui/?after={u}\">Older "
				  "integrations</a></p>\n",
			ui.base, after);
	}
	sh_ui_end(&ui, 200);
out:
	sh_spool_tally_release(&tally);
	cJSON_Delete(list);
	sh_ui_leave(&ui);
}

/* ---------------------------------------------------------------- */
/* Set up integration */

/* A copy of s without white space at either end, into a new string. */
static char *
trimmed(const char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return strndup(s, len);
}

/* Adds the one-line field name to body, trimmed; when empty, only if
 * always (the core then says what is missing). */
static int
add_line(cJSON *body, const struct sh_ui *ui, const char *name, bool always)
{
	char *v = trimmed(sh_ui_field(ui, name));
	int rc = 0;

	if (v == NULL)
		return -1;
	if ((v[0] != '\0' || always) && cJSON_AddStringToObject(body, name, v) == NULL)
		rc = -1;
	sh_crypto_wipe(v, strlen(v));
	free(v);
	return rc;
}

/* The labels field: separated by commas or line breaks. */
static int
add_labels(cJSON *body, const struct sh_ui *ui)
{
	const char *p = sh_ui_field(ui, "labels");
	cJSON *arr = NULL;

	while (*p) {
		size_t n = strcspn(p, ",\n");
		char *one = strndup(p, n), *t = one ? trimmed(one) : NULL;

		free(one);
		if (t == NULL)
			return -1;
		if (t[0] != '\0') {
			if (arr == NULL && (arr = cJSON_AddArrayToObject(body, "labels")) == NULL) {
				free(t);
				return -1;
			}
			cJSON_AddItemToArray(arr, cJSON_CreateString(t));
		}
		free(t);
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

/* The description as typed, with the browser's CRLF line breaks as LF. */
static int
add_text(cJSON *body, const struct sh_ui *ui, const char *name)
{
	const char *v = sh_ui_field(ui, name);
	char *copy, *o;
	int rc = 0;

	if (v[0] == '\0')
		return 0;
	copy = o = malloc(strlen(v) + 1);
	if (copy == NULL)
		return -1;
	for (const char *p = v; *p; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			*o++ = *p;
	*o = '\0';
	if (cJSON_AddStringToObject(body, name, copy) == NULL)
		rc = -1;
	free(copy);
	return rc;
}

/* The JSON body POST /api/v1/integrations takes, from the form. */
static cJSON *
setup_body(const struct sh_ui *ui)
{
	cJSON *body = cJSON_CreateObject();
	bool is_default = strcmp(sh_ui_field(ui, "type"), "default") == 0;

	if (body == NULL || add_line(body, ui, "name", true) < 0 ||
	    add_line(body, ui, "type", false) < 0 ||
	    (!is_default && add_line(body, ui, "space", false) < 0) ||
	    add_line(body, ui, "api_host_url", true) < 0 ||
	    add_line(body, ui, "user_facing_host_url", false) < 0 ||
	    add_line(body, ui, "api_token", false) < 0 ||
	    add_line(body, ui, "signing_token", false) < 0 ||
	    add_labels(body, ui) < 0 || add_text(body, ui, "description") < 0 ||
	    add_line(body, ui, "ca_file", false) < 0) {
		cJSON_Delete(body);
		return NULL;
	}
	return body;
}

/* Wipes the tokens a body holds before it is freed. */
static void
body_free(cJSON *body)
{
	static const char *const secrets[] = {"api_token", "signing_token",
						 "webhook_secret"};

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(body, secrets[i]);

		if (cJSON_IsString(v))
			sh_crypto_wipe(v->valuestring, strlen(v->valuestring));
	}
	cJSON_Delete(body);
}

/* <input> of a one-line field with label, hint and error. */
static void
text_input(struct sh_ui *ui, const struct sh_err *err, const char *name,
	   const char *label, const char *type, const char *value,
	   const char *hint, bool required)
{
	struct sh_html *h = &ui->html;
	char hint_id[64];

	sh_html(h, "<div><label for=\"{}\">{}</label>\n<input type=\"{}\" id=\"{}\" "
		   "name=\"{}\"",
		name, label, type, name, name);
	sh_html_attr(h, "value", value);
	if (required)
		sh_html_raw(h, " required");
	if (strcmp(type, "password") == 0)
		sh_html_raw(h, " autocomplete=\"off\"");
	snprintf(hint_id, sizeof(hint_id), "%s-hint", name);
	sh_ui_field_attrs(ui, err, name, hint ? hint_id : NULL);
	sh_html_raw(h, ">\n");
	sh_ui_field_error(ui, err, name);
	if (hint != NULL)
		sh_html(h, "<p class=\"hint\" id=\"{}-hint\">{}</p>\n", name, hint);
	sh_html_raw(h, "</div>\n");
}

/* The spaces where the person is an admin: a space integration's owner. */
static int
space_options(struct sh_ui *ui, const char *chosen, size_t *count,
	      struct sh_err *err)
{
	struct sh_page page = {.limit = SH_PAGE_MAX, .after = 0};
	struct sh_authz *az = NULL;
	const cJSON *sp;
	cJSON *spaces = NULL;

	*count = 0;
	if (sh_authz_load(ui->ctx->db, ui->ctx->actor.user_id, &az, err) < 0 ||
	    sh_spaces_list(ui->ctx->db, &ui->ctx->actor, &page, &spaces, err) < 0) {
		sh_authz_free(az);
		return -1;
	}
	cJSON_ArrayForEach(sp, cJSON_GetObjectItemCaseSensitive(spaces, "items")) {
		const char *id = sh_ui_str(sp, "id");

		if (sh_authz_role(az, id) != SH_ROLE_ADMIN)
			continue;
		sh_html(&ui->html, "<option value=\"{}\"", id);
		if (strcmp(id, chosen) == 0)
			sh_html_raw(&ui->html, " selected");
		if (strcmp(sh_ui_str(sp, "name"), id) == 0)
			sh_html(&ui->html, ">{}</option>\n", id);
		else
			sh_html(&ui->html, ">{} ({})</option>\n", sh_ui_str(sp, "name"), id);
		(*count)++;
	}
	cJSON_Delete(spaces);
	sh_authz_free(az);
	return 0;
}

static void
setup_form(struct sh_ui *ui, const struct sh_err *err, int status)
{
	struct sh_html *h = &ui->html;
	bool posted = ui->form.count > 0;
	bool is_default = strcmp(sh_ui_field(ui, "type"), "default") == 0;
	struct sh_err list_err;
	size_t spaces;

	sh_err_clear(&list_err);
	sh_ui_begin(ui, "Set up integration", "integrations");
	sh_html(h, "<p><a href=\"{u}/ui/\">Source code</a> /</p>\n"
		   "<h1>Set up integration</h1>\n",
		ui->base);
	sh_ui_form_error(ui, err, setup_fields);
	sh_html(h, "<form class=\"stack\" method=\"post\" action=\"{u}/ui/set-up\" "
		   "novalidate>\n",
		ui->base);
	sh_ui_csrf_input(ui);
	text_input(ui, err, "name", "Name", "text", sh_ui_field(ui, "name"),
		   "A friendly name, 1 to 64 characters. It cannot be changed "
		   "later: the webhook URL is made from it.", true);

	sh_html_raw(h, "<fieldset><legend>Type</legend>\n<div>");
	sh_html_raw(h, "<input type=\"radio\" id=\"type-space\" name=\"type\" "
		       "value=\"space\"");
	if (!is_default)
		sh_html_raw(h, " checked");
	sh_html_raw(h, "> <label class=\"inline\" for=\"type-space\">Space &mdash; "
		       "usable by stacks in its space and the spaces below it "
		       "that inherit</label></div>\n<div><input type=\"radio\" "
		       "id=\"type\" name=\"type\" value=\"default\"");
	if (is_default)
		sh_html_raw(h, " checked");
	sh_ui_field_attrs(ui, err, "type", NULL);
	sh_html_raw(h, "> <label class=\"inline\" for=\"type\">Default &mdash; "
		       "usable by every stack; there is only one, managed by root "
		       "admins</label></div>\n");
	sh_ui_field_error(ui, err, "type");
	sh_html_raw(h, "</fieldset>\n");

	sh_html_raw(h, "<div><label for=\"space\">Space</label>\n<select id=\"space\" "
		       "name=\"space\"");
	sh_ui_field_attrs(ui, err, "space", "space-hint");
	sh_html_raw(h, ">\n");
	if (space_options(ui, sh_ui_field(ui, "space"), &spaces, &list_err) < 0)
		sh_html_raw(h, "<option value=\"\">(the spaces cannot be read now)</option>\n");
	sh_html_raw(h, "</select>\n");
	sh_ui_field_error(ui, err, "space");
	sh_html(h, "<p class=\"hint\" id=\"space-hint\">{}</p></div>\n",
		spaces > 0 ? "The spaces where you are an admin. Ignored for the "
			     "default integration (it belongs to root)." :
			     "You are an admin of no space.");

	text_input(ui, err, "api_host_url", "API host URL", "url",
		   sh_ui_field(ui, "api_host_url"),
		   "Where stackhook reaches GitLab: https://gitlab.example.com "
		   "(a path is fine for GitLab under a sub-path), or "
		   "private://POOL for an agent pool.", true);
	text_input(ui, err, "user_facing_host_url", "User-facing host URL", "url",
		   sh_ui_field(ui, "user_facing_host_url"),
		   "The address people open, used in every link stackhook shows. "
		   "Empty: the API host URL.", false);
	/* Tokens are never sent back, not even to the person who typed them. */
	text_input(ui, err, "api_token", "API token", "password", NULL,
		   posted ? "Type the token again: stackhook never shows a token "
			    "it was given." :
			    "A GitLab access token with the api scope. Stored "
			    "sealed; never shown again.", false);
	text_input(ui, err, "labels", "Labels", "text", sh_ui_field(ui, "labels"),
		   "Separated by commas, e.g. prod, eu.", false);

	sh_html_raw(h, "<div><label for=\"description\">Description</label>\n"
		       "<textarea id=\"description\" name=\"description\"");
	sh_ui_field_attrs(ui, err, "description", "description-hint");
	sh_html_raw(h, ">");
	sh_html_text(h, sh_ui_field(ui, "description"));
	sh_html_raw(h, "</textarea>\n");
	sh_ui_field_error(ui, err, "description");
	sh_html_raw(h, "<p class=\"hint\" id=\"description-hint\">Markdown: "
		       "paragraphs, lists, <code>`code`</code>, **bold**, "
		       "[links](https://…).</p></div>\n");

	sh_html_raw(h, "<fieldset><legend>Advanced</legend>\n");
	text_input(ui, err, "signing_token", "Webhook signing token", "password", NULL,
		   "Optional: GitLab's signing token (whsec_…); deliveries must "
		   "then be signed too. Write-only, like the API token.", false);
	text_input(ui, err, "ca_file", "CA file", "text", sh_ui_field(ui, "ca_file"),
		   "Optional: absolute path of a PEM file, for a GitLab whose "
		   "certificate comes from a private authority.", false);
	sh_html_raw(h, "</fieldset>\n");
	sh_html(h, "<div><button type=\"submit\">Set up integration</button> "
		   "<a class=\"button secondary\" href=\"{u}/ui/\">Cancel</a></div>\n"
		   "</form>\n",
		ui->base);
	sh_ui_end(ui, status);
}

void
sh_ui_setup_page(struct sh_route_ctx *ctx)
{
	struct sh_ui ui;

	if (sh_ui_enter(ctx, &ui, 0) == 0)
		setup_form(&ui, NULL, 200);
	sh_ui_leave(&ui);
}

void
sh_ui_setup(struct sh_route_ctx *ctx)
{
	struct sh_integration_env env;
	cJSON *body = NULL, *out = NULL;
	char path[SH_SLUG_MAX + 64];
	struct sh_err err;
	struct sh_ui ui;

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, SH_UI_POST) < 0)
		goto out;
	if (sh_route_integration_env(ctx, &env, &err) < 0) {
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	body = setup_body(&ui);
	if (body == NULL) {
		sh_err_set(&err, SH_E_INTERNAL, NULL, "out of memory");
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	if (sh_integrations_create(ctx->db, &env, &ctx->actor, body, &out, &err) < 0) {
		/* Server-side failures get their own page; the person's
		 * mistakes come back next to the field, with what was typed. */
		if (sh_err_http_status(err.code) >= 500)
			sh_ui_error_page(&ui, &err);
		else
			setup_form(&ui, &err, sh_err_http_status(err.code));
		goto out;
	}
	snprintf(path, sizeof(path), "/ui/integrations/%s?created=1", sh_ui_str(out, "slug"));
	sh_ui_redirect(&ui, path);
out:
	body_free(body);
	body_free(out);
	sh_ui_leave(&ui);
}

/* ---------------------------------------------------------------- */
/* See details */

static void
copy_field(struct sh_html *h, const char *id, const char *label,
	   const char *value, const char *hint)
{
	sh_html(h,
		"<div class=\"field\"><label for=\"{}\">{}</label>\n<div class=\"copy\">"
		"<input type=\"text\" id=\"{}\" readonly value=\"{}\" "
		"aria-describedby=\"{}-hint\" spellcheck=\"false\">"
		"<button type=\"button\" class=\"secondary\" data-copy=\"{}\" hidden>"
		"Copy</button></div>\n"
		"<p class=\"hint\"><span id=\"{}-hint\">{}</span> <span id=\"{}-copied\" "
		"role=\"status\"></span></p></div>\n",
		id, label, id, value, id, id, id, hint, id);
}

static void
summary_facts(struct sh_ui *ui, const cJSON *o)
{
	struct sh_html *h = &ui->html;
	char t[32], last4[48];

	sh_html_raw(h, "<dl class=\"facts\">\n");
	fact(h, "Webhook name", sh_ui_str(o, "slug"));
	fact(h, "Type", strcmp(sh_ui_str(o, "type"), "default") == 0 ?
			     "Default: usable by every stack" :
			     "Space: usable by stacks in its space and below");
	fact(h, "Space", sh_ui_str(o, "space"));
	fact(h, "API host URL", sh_ui_str(o, "api_host_url"));
	fact(h, "User-facing host URL", sh_ui_str(o, "user_facing_host_url"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "token_set"))) {
		snprintf(last4, sizeof(last4), "set, ending in %s", sh_ui_str(o, "token_last4"));
		fact(h, "API token", last4);
	} else {
		fact(h, "API token", "not set: reports cannot be sent");
	}
	fact(h, "Signing token",
	     cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "signing_token_set")) ?
		     "set" : "not set");
	if (sh_ui_str(o, "ca_file")[0] != '\0')
		fact(h, "CA file", sh_ui_str(o, "ca_file"));
	sh_html_raw(h, "<dt>Labels</dt><dd>");
	labels(h, o);
	sh_html_raw(h, "</dd>\n");
	fact(h, "Created", sh_ui_when(sh_ui_str(o, "created_at"), t));
	fact(h, "Updated", sh_ui_when(sh_ui_str(o, "updated_at"), t));
	sh_html_raw(h, "</dl>\n");
	if (sh_ui_str(o, "description")[0] != '\0') {
		sh_html_raw(h, "<h2>Description</h2>\n<div class=\"description\">");
		sh_html_markdown(h, sh_ui_str(o, "description"));
		sh_html_raw(h, "</div>\n");
	}
}

static const char *
event_label(const char *event)
{
	if (strcmp(event, "push") == 0)
		return "Push events";
	if (strcmp(event, "tag_push") == 0)
		return "Tag push events";
	if (strcmp(event, "merge_request") == 0)
		return "Merge request events";
	return event;
}

static void
connect_section(struct sh_ui *ui, const cJSON *o)
{
	struct sh_html *h = &ui->html;
	const cJSON *event;
	const char *slug = sh_ui_str(o, "slug");

	sh_html_raw(h, "<h2>Connect GitLab</h2>\n<p>In each GitLab project "
		       "(Settings &gt; Webhooks), add a webhook with this URL and "
		       "secret token, or let <code>stackhook hooks sync</code> do "
		       "it.</p>\n");
	copy_field(h, "webhook-url", "Webhook URL", sh_ui_str(o, "webhook_url"),
		   "Made from the integration's name.");
	copy_field(h, "webhook-secret", "Secret token", sh_ui_str(o, "webhook_secret"),
		   "GitLab sends it with every delivery; keep it secret.");
	sh_html_raw(h, "<p>Trigger on these events:</p>\n<ul>\n");
	cJSON_ArrayForEach(event, cJSON_GetObjectItemCaseSensitive(o, "events"))
		if (cJSON_IsString(event))
			sh_html(h, "<li>{}</li>\n", event_label(event->valuestring));
	sh_html_raw(h, "</ul>\n<p>Keep <strong>Enable SSL verification</strong> "
		       "on.</p>\n");
	sh_html(h,
		"<p><a class=\"button secondary\" href=\"{u}/ui/integrations/{u}/rotate\">"
		"Rotate secret</a> <a class=\"button danger\" "
		"href=\"{u}/ui/integrations/{u}/delete\">Delete</a></p>\n",
		ui->base, slug, ui->base, slug);
}

void
sh_ui_integration_page(struct sh_route_ctx *ctx)
{
	struct sh_integration_env env;
	const char *slug = ctx->args[0];
	char flag[8];
	const char *created, *rotated;
	cJSON *o = NULL;
	struct sh_err err;
	struct sh_ui ui;
	bool admin;

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, 0) < 0)
		goto out;
	if (sh_route_integration_env(ctx, &env, &err) < 0) {
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	/* Details when the core gives them (admins), else the summary. */
	admin = sh_integrations_details(ctx->db, &env, &ctx->actor, slug, &o, &err) == 0;
	if (!admin && err.code == SH_E_FORBIDDEN) {
		sh_err_clear(&err);
		sh_integrations_get(ctx->db, &ctx->actor, slug, &o, &err);
	}
	if (o == NULL) {
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	sh_ui_begin(&ui, sh_ui_str(o, "name"), "integrations");
	sh_html(&ui.html, "<p><a href=\"{u}/ui/\">Source code</a> /</p>\n<h1>{}</h1>\n",
		ui.base, sh_ui_str(o, "name"));
	if (sh_route_query(ctx, "created", flag, sizeof(flag), &created, &err) == 0 &&
	    created != NULL)
		sh_ui_notice(&ui, "The integration is set up. Connect GitLab with the "
				  "webhook URL and secret token below.");
	if (sh_route_query(ctx, "rotated", flag, sizeof(flag), &rotated, &err) == 0 &&
	    rotated != NULL)
		sh_ui_notice(&ui, "A new secret token was made: GitLab's deliveries "
				  "are refused until it is pasted into each webhook.");
	if (admin) {
		connect_section(&ui, o);
		sh_html_raw(&ui.html, "<h2>Health</h2>\n<div>");
		health_cell(&ui, &env, slug);
		sh_html_raw(&ui.html, "</div>\n");
	} else {
		sh_html(&ui.html,
			"<p class=\"muted\">The webhook URL and secret token are "
			"shown to the admins of {}.</p>\n",
			strcmp(sh_ui_str(o, "type"), "default") == 0 ? "the root space" :
								 "its space");
	}
	sh_html_raw(&ui.html, "<h2>Summary</h2>\n");
	summary_facts(&ui, o);
	sh_ui_end(&ui, 200);
out:
	body_free(o);
	sh_ui_leave(&ui);
}

/* ---------------------------------------------------------------- */
/* rotate secret and Delete: a confirmation page, then the POST */

/* The details of slug, for a confirmation page: the core's rights check
 * (404, 403) with nothing of it shown. */
static cJSON *
for_admin(struct sh_ui *ui, const char *slug)
{
	struct sh_integration_env env;
	struct sh_err err;
	cJSON *o = NULL;

	sh_err_clear(&err);
	if (sh_route_integration_env(ui->ctx, &env, &err) < 0 ||
	    sh_integrations_details(ui->ctx->db, &env, &ui->ctx->actor, slug, &o,
				    &err) < 0) {
		sh_ui_error_page(ui, &err);
		return NULL;
	}
	return o;
}

void
sh_ui_rotate_page(struct sh_route_ctx *ctx)
{
	const char *slug = ctx->args[0];
	cJSON *o = NULL;
	struct sh_ui ui;

	if (sh_ui_enter(ctx, &ui, 0) < 0 || (o = for_admin(&ui, slug)) == NULL)
		goto out;
	sh_ui_begin(&ui, "Rotate secret", "integrations");
	sh_html(&ui.html,
		"<p><a href=\"{u}/ui/\">Source code</a> / <a "
		"href=\"{u}/ui/integrations/{u}\">{}</a> /</p>\n"
		"<h1>Rotate the secret of {}?</h1>\n"
		"<p>A new secret token replaces the current one at once. Until it "
		"is pasted into each GitLab webhook (or <code>stackhook hooks "
		"sync</code> runs), GitLab's deliveries are refused with 401, and "
		"GitLab disables a webhook after four failures in a row.</p>\n"
		"<form method=\"post\" action=\"{u}/ui/integrations/{u}/rotate\">\n",
		ui.base, ui.base, slug, sh_ui_str(o, "name"), sh_ui_str(o, "name"), ui.base, slug);
	sh_ui_csrf_input(&ui);
	sh_html(&ui.html,
		"<button type=\"submit\" class=\"danger\">Rotate secret</button> "
		"<a class=\"button secondary\" href=\"{u}/ui/integrations/{u}\">Cancel</a>\n"
		"</form>\n",
		ui.base, slug);
	sh_ui_end(&ui, 200);
out:
	body_free(o);
	sh_ui_leave(&ui);
}

void
sh_ui_rotate(struct sh_route_ctx *ctx)
{
	struct sh_integration_env env;
	const char *slug = ctx->args[0];
	char path[SH_ROUTE_ARG_MAX + 64];
	cJSON *out = NULL;
	struct sh_err err;
	struct sh_ui ui;

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, SH_UI_POST) < 0)
		goto out;
	if (sh_route_integration_env(ctx, &env, &err) < 0 ||
	    sh_integrations_rotate_secret(ctx->db, &env, &ctx->actor, slug, &out,
					  &err) < 0) {
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	snprintf(path, sizeof(path), "/ui/integrations/%s?rotated=1", sh_ui_str(out, "slug"));
	sh_ui_redirect(&ui, path);
out:
	body_free(out);
	sh_ui_leave(&ui);
}

void
sh_ui_delete_page(struct sh_route_ctx *ctx)
{
	struct sh_page page = {.limit = SH_PAGE_MAX, .after = 0};
	struct sh_stack_filter filter = {.integration = ctx->args[0]};
	const char *slug = ctx->args[0];
	cJSON *o = NULL, *stacks = NULL;
	const cJSON *items, *st;
	struct sh_err err;
	struct sh_ui ui;

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, 0) < 0 || (o = for_admin(&ui, slug)) == NULL)
		goto out;
	if (sh_stacks_list(ctx->db, ctx->inst->cfg->status_prefix, &ctx->actor,
			   &filter, &page, &stacks, &err) < 0) {
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	items = cJSON_GetObjectItemCaseSensitive(stacks, "items");
	sh_ui_begin(&ui, "Delete integration", "integrations");
	sh_html(&ui.html,
		"<p><a href=\"{u}/ui/\">Source code</a> / <a "
		"href=\"{u}/ui/integrations/{u}\">{}</a> /</p>\n"
		"<h1>Delete {}?</h1>\n",
		ui.base, ui.base, slug, sh_ui_str(o, "name"), sh_ui_str(o, "name"));
	if (cJSON_GetArraySize(items) == 0) {
		sh_html_raw(&ui.html, "<p>No stack uses it.</p>\n");
	} else {
		sh_html(&ui.html,
			"<p>These {i} stack(s) will be <strong>detached</strong>: they "
			"receive no more webhooks and cannot be run by hand until "
			"another integration is attached.</p>\n<ul id=\"detached\">\n",
			(long long)cJSON_GetArraySize(items));
		cJSON_ArrayForEach(st, items)
			sh_html(&ui.html, "<li><a href=\"{u}/ui/stacks/{u}\">{}</a> "
					  "<span class=\"muted\">{} / {}</span></li>\n",
				ui.base, sh_ui_str(st, "id"), sh_ui_str(st, "name"),
				sh_ui_str(st, "namespace"), sh_ui_str(st, "repository"));
		sh_html_raw(&ui.html, "</ul>\n");
	}
	sh_html_raw(&ui.html, "<p>Reports still waiting for it are not sent. An "
			      "integration made later with the same name gets the "
			      "same webhook URL and a new secret.</p>\n");
	sh_html(&ui.html, "<form method=\"post\" action=\"{u}/ui/integrations/{u}/delete\">\n",
		ui.base, slug);
	sh_ui_csrf_input(&ui);
	sh_html(&ui.html,
		"<button type=\"submit\" class=\"danger\">Delete {}</button> "
		"<a class=\"button secondary\" href=\"{u}/ui/integrations/{u}\">Cancel</a>\n"
		"</form>\n",
		sh_ui_str(o, "name"), ui.base, slug);
	sh_ui_end(&ui, 200);
out:
	body_free(o);
	cJSON_Delete(stacks);
	sh_ui_leave(&ui);
}

void
sh_ui_delete(struct sh_route_ctx *ctx)
{
	const char *slug = ctx->args[0];
	char path[SH_ROUTE_ARG_MAX + 64];
	struct sh_err err;
	struct sh_ui ui;

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, SH_UI_POST) < 0)
		goto out;
	if (sh_integrations_delete(ctx->db, &ctx->actor, slug, &err) < 0) {
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	/* The slug was found live, so it is a slug: safe in a path. */
	snprintf(path, sizeof(path), "/ui/stacks?deleted=%s", slug);
	sh_ui_redirect(&ui, path);
out:
	sh_ui_leave(&ui);
}
