/*
 * The stacks list and a stack's page (SPEC §3, §4.4): its integration
 * (attach or change one the stack's space can use), its recent runs with
 * their GitLab state, and the deliveries ignored for its project with the
 * reason -- "why did nothing run?".
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "stackhook/deliveries.h"
#include "stackhook/integrations.h"
#include "stackhook/runs.h"
#include "stackhook/stacks.h"
#include "stackhook/updates.h"
#include "ui.h"

#define RECENT_RUNS 20
#define RECENT_DELIVERIES 200

/* ---------------------------------------------------------------- */
/* the list */

static void
stack_row(struct sh_ui *ui, const cJSON *st)
{
	struct sh_html *h = &ui->html;
	const char *id = sh_ui_str(st, "id"), *integration = sh_json_str(st, "integration");

	sh_html(h,
		"<tr><td><a href=\"{u}/ui/stacks/{u}\"><strong>{}</strong></a>"
		"<div class=\"muted\">{} {}</div></td>\n"
		"<td data-label=\"Space\">{}</td><td data-label=\"GitLab project\">{}/{}"
		"<div class=\"muted\">branch {}</div></td>\n<td data-label=\"Integration\">",
		ui->base, id, sh_ui_str(st, "name"), sh_ui_str(st, "kind"), id, sh_ui_str(st, "space"),
		sh_ui_str(st, "namespace"), sh_ui_str(st, "repository"), sh_ui_str(st, "branch"));
	if (integration != NULL)
		sh_html(h, "<a href=\"{u}/ui/integrations/{u}\">{}</a>", ui->base,
			integration, integration);
	else
		sh_html(h, "<span class=\"badge bad\">Detached</span> <a "
			   "href=\"{u}/ui/stacks/{u}#integration\">Choose "
			   "integration</a>",
			ui->base, id);
	sh_html_raw(h, "</td></tr>\n");
}

void
sh_ui_stacks_page(struct sh_route_ctx *ctx)
{
	char deleted_buf[SH_SLUG_MAX + 1], flag[8];
	struct sh_stack_filter filter = {0};
	const char *deleted, *detached;
	const cJSON *items, *st, *next;
	cJSON *list = NULL;
	struct sh_page page;
	struct sh_err err;
	struct sh_ui ui;

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, 0) < 0)
		goto out;
	if (sh_route_page(ctx, &page, &err) < 0 ||
	    sh_route_query(ctx, "deleted", deleted_buf, sizeof(deleted_buf), &deleted,
			   &err) < 0 ||
	    sh_route_query(ctx, "detached", flag, sizeof(flag), &detached, &err) < 0) {
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	filter.detached = detached != NULL;
	if (sh_stacks_list(ctx->db, ctx->inst->cfg->status_prefix, &ctx->actor,
			   &filter, &page, &list, &err) < 0) {
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	sh_ui_begin(&ui, "Stacks", "stacks");
	sh_html_raw(&ui.html, "<h1>Stacks</h1>\n");
	if (deleted != NULL) {
		char text[SH_SLUG_MAX + 128];

		snprintf(text, sizeof(text),
			 "Integration %s was deleted; the stacks that used it are "
			 "detached.", deleted);
		sh_ui_notice(&ui, text);
	}
	if (filter.detached)
		sh_html(&ui.html, "<p>Detached stacks only. <a href=\"{u}/ui/stacks\">"
				  "All stacks</a></p>\n",
			ui.base);
	else
		sh_html(&ui.html, "<p><a href=\"{u}/ui/stacks?detached=1\">Only "
				  "detached stacks</a></p>\n",
			ui.base);
	items = cJSON_GetObjectItemCaseSensitive(list, "items");
	if (cJSON_GetArraySize(items) == 0) {
		sh_html_raw(&ui.html, "<p class=\"empty\">No stacks to show. Stacks "
				      "and modules are created through the API "
				      "(<code>POST /api/v1/stacks</code>).</p>\n");
	} else {
		sh_html_raw(&ui.html,
			    "<div class=\"table\"><table>\n<thead><tr><th scope=\"col\">"
			    "Name</th><th scope=\"col\">Space</th><th scope=\"col\">"
			    "GitLab project</th><th scope=\"col\">Integration</th>"
			    "</tr></thead>\n<tbody>\n");
		cJSON_ArrayForEach(st, items)
			stack_row(&ui, st);
		sh_html_raw(&ui.html, "</tbody></table></div>\n");
	}
	next = cJSON_GetObjectItemCaseSensitive(list, "next");
	if (cJSON_IsString(next))
		sh_html(&ui.html, "<p><a href=\"{u}/ui/stacks?after={u}{}\">Older "
				  "stacks</a></p>\n",
			ui.base, next->valuestring,
			filter.detached ? "&detached=1" : "");
	sh_ui_end(&ui, 200);
out:
	cJSON_Delete(list);
	sh_ui_leave(&ui);
}

/* ---------------------------------------------------------------- */
/* a stack's page */

/* The integrations the person can list that the stack's space can use --
 * the same two tests the core makes when attaching. */
static int
integration_options(struct sh_ui *ui, const char *stack_space,
		    const char *current, size_t *count, struct sh_err *err)
{
	struct sh_page page = {.limit = SH_PAGE_MAX, .after = 0};
	struct sh_authz *az = NULL;
	const cJSON *it;
	cJSON *list = NULL;

	*count = 0;
	if (sh_authz_load(ui->ctx->db, ui->ctx->actor.user_id, &az, err) < 0 ||
	    sh_integrations_list(ui->ctx->db, &ui->ctx->actor, &page, &list, err) < 0) {
		sh_authz_free(az);
		return -1;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(list, "items")) {
		bool is_default = strcmp(sh_ui_str(it, "type"), "default") == 0;
		const char *slug = sh_ui_str(it, "slug");

		if (!sh_authz_can_use(az, is_default, sh_ui_str(it, "space"), stack_space,
				      NULL))
			continue;
		sh_html(&ui->html, "<option value=\"{}\"", slug);
		if (current != NULL && strcmp(slug, current) == 0)
			sh_html_raw(&ui->html, " selected");
		sh_html(&ui->html, ">{} ({})</option>\n", sh_ui_str(it, "name"),
			is_default ? "default" : sh_ui_str(it, "space"));
		(*count)++;
	}
	cJSON_Delete(list);
	sh_authz_free(az);
	return 0;
}

static void
integration_section(struct sh_ui *ui, const cJSON *st, const struct sh_err *err)
{
	struct sh_html *h = &ui->html;
	const char *integration = sh_json_str(st, "integration");
	const char *chosen = ui->form.count > 0 ? sh_ui_field(ui, "integration") :
						  integration;
	struct sh_err list_err;
	size_t count;

	sh_err_clear(&list_err);
	sh_html_raw(h, "<h2 id=\"integration\">Integration</h2>\n");
	if (integration == NULL)
		sh_html_raw(h, "<p><span class=\"badge bad\">Detached</span> No "
			       "webhooks reach this stack and it cannot be run by "
			       "hand until an integration is attached.</p>\n");
	else
		sh_html(h, "<p>Webhooks reach this stack through <a "
			   "href=\"{u}/ui/integrations/{u}\">{}</a>.</p>\n",
			ui->base, integration, integration);
	sh_html(h, "<form class=\"stack\" method=\"post\" "
		   "action=\"{u}/ui/stacks/{u}/integration\">\n",
		ui->base, sh_ui_str(st, "id"));
	sh_ui_csrf_input(ui);
	sh_html(h, "<div><label for=\"integration-choice\">{}</label>\n"
		   "<select id=\"integration-choice\" name=\"integration\"",
		integration ? "Change integration" : "Choose integration");
	sh_ui_field_attrs(ui, err, "integration", "integration-hint");
	sh_html_raw(h, ">\n");
	if (integration_options(ui, sh_ui_str(st, "space"), chosen, &count, &list_err) < 0)
		sh_html_raw(h, "<option value=\"\">(cannot be read now)</option>\n");
	sh_html_raw(h, "</select>\n");
	sh_ui_field_error(ui, err, "integration");
	sh_html(h, "<p class=\"hint\" id=\"integration-hint\">{}</p></div>\n",
		count > 0 ? "Only the integrations this stack's space can use." :
			    "No integration you can see may be used by this "
			    "stack's space.");
	if (err != NULL && err->code != SH_OK && !sh_ui_err_on(err, "integration"))
		sh_html(h, "<p class=\"error\" role=\"alert\">{}</p>\n",
			sh_http_public_message(err));
	sh_html(h, "<div><button type=\"submit\">{}</button></div>\n</form>\n",
		integration ? "Change integration" : "Attach integration");
}

static void
runs_section(struct sh_ui *ui, const char *stack)
{
	struct sh_page page = {.limit = RECENT_RUNS, .after = 0};
	struct sh_html *h = &ui->html;
	const cJSON *run, *items, *summary;
	cJSON *list = NULL;
	struct sh_err err;
	char t[32];

	sh_err_clear(&err);
	sh_html_raw(h, "<h2>Recent runs</h2>\n");
	if (sh_runs_list(ui->ctx->db, &ui->ctx->actor, stack, NULL, &page, &list,
			 &err) < 0) {
		sh_html(h, "<p class=\"error\">{}</p>\n", sh_http_public_message(&err));
		return;
	}
	items = cJSON_GetObjectItemCaseSensitive(list, "items");
	if (cJSON_GetArraySize(items) == 0) {
		sh_html_raw(h, "<p class=\"muted\">No runs yet.</p>\n");
		cJSON_Delete(list);
		return;
	}
	sh_html_raw(h, "<div class=\"table\"><table>\n<thead><tr><th scope=\"col\">Run"
		       "</th><th scope=\"col\">Kind</th><th scope=\"col\">Commit</th>"
		       "<th scope=\"col\">State</th><th scope=\"col\">In GitLab</th>"
		       "<th scope=\"col\">Updated</th></tr></thead>\n<tbody>\n");
	cJSON_ArrayForEach(run, items) {
		const char *state = sh_ui_str(run, "state");
		char sha[9];

		snprintf(sha, sizeof(sha), "%s", sh_ui_str(run, "sha"));
		sh_html(h,
			"<tr><td><a href=\"{u}/runs/{u}\">{}</a></td><td data-label=\"Kind\">{} "
			"<div class=\"muted\">{}</div></td><td data-label=\"Commit\">"
			"<code>{}</code><div class=\"muted\">{}</div></td>"
			"<td data-label=\"State\">{}",
			ui->base, sh_ui_str(run, "id"), sh_ui_str(run, "id"), sh_ui_str(run, "kind"),
			sh_ui_str(run, "trigger"), sha[0] ? sha : "-", sh_ui_str(run, "ref"), state);
		summary = cJSON_GetObjectItemCaseSensitive(run, "summary");
		if (cJSON_IsObject(summary))
			sh_html(h, "<div class=\"muted\">+{i} ~{i} -{i}</div>",
				sh_ui_count(summary, "add"), sh_ui_count(summary, "change"),
				sh_ui_count(summary, "destroy"));
		sh_html(h, "</td><td data-label=\"In GitLab\"><span class=\"badge\">{}</span>"
			   "</td><td data-label=\"Updated\">{}</td></tr>\n",
			sh_updates_status_state(state), sh_ui_when(sh_ui_str(run, "updated_at"), t));
	}
	sh_html_raw(h, "</tbody></table></div>\n");
	cJSON_Delete(list);
}

/* The deliveries the integration ignored for this stack's project, with
 * their reasons (the integration's admins see deliveries). */
static void
ignored_section(struct sh_ui *ui, const cJSON *st)
{
	struct sh_page page = {.limit = RECENT_DELIVERIES, .after = 0};
	struct sh_html *h = &ui->html;
	const char *integration = sh_json_str(st, "integration");
	char project[512], t[32];
	const cJSON *d;
	cJSON *list = NULL;
	struct sh_err err;
	int shown = 0;

	sh_err_clear(&err);
	sh_html_raw(h, "<h2>Why did nothing run?</h2>\n");
	if (integration == NULL) {
		sh_html_raw(h, "<p class=\"muted\">A detached stack receives no "
			       "deliveries.</p>\n");
		return;
	}
	if (sh_deliveries_list(ui->ctx->db, &ui->ctx->actor, integration, &page,
			       &list, &err) < 0) {
		sh_html(h, "<p class=\"muted\">{}</p>\n",
			err.code == SH_E_FORBIDDEN ?
				"Deliveries are shown to the integration's admins." :
				sh_http_public_message(&err));
		return;
	}
	snprintf(project, sizeof(project), "%s/%s", sh_ui_str(st, "namespace"),
		 sh_ui_str(st, "repository"));
	cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(list, "items")) {
		if (strcmp(sh_ui_str(d, "outcome"), "ignored") != 0 ||
		    strcasecmp(sh_ui_str(d, "project"), project) != 0)
			continue;
		if (shown++ == 0)
			sh_html_raw(h, "<p>Deliveries from this stack's GitLab project "
				       "that started no run:</p>\n<div class=\"table\">"
				       "<table>\n<thead><tr><th scope=\"col\">Received"
				       "</th><th scope=\"col\">Event</th><th scope=\"col\">"
				       "Ref</th><th scope=\"col\">Reason</th></tr></thead>"
				       "\n<tbody>\n");
		sh_html(h, "<tr><td>{}</td><td data-label=\"Event\">{}</td><td "
			   "data-label=\"Ref\">{}</td><td data-label=\"Reason\">{}</td></tr>\n",
			sh_ui_when(sh_ui_str(d, "received_at"), t), sh_ui_str(d, "kind"), sh_ui_str(d, "ref"),
			sh_ui_str(d, "reason"));
	}
	if (shown > 0)
		sh_html_raw(h, "</tbody></table></div>\n");
	else
		sh_html(h, "<p class=\"muted\">None of the integration's last {i} "
			   "deliveries from {} was ignored.</p>\n",
			(long long)RECENT_DELIVERIES, project);
	cJSON_Delete(list);
}

/* The whole stack page; err (may be NULL) is the failed attach. */
static void
stack_page(struct sh_ui *ui, const char *id, const struct sh_err *attach_err,
	   int status)
{
	struct sh_route_ctx *ctx = ui->ctx;
	struct sh_html *h = &ui->html;
	char flag[8];
	const char *attached;
	const cJSON *label;
	cJSON *st = NULL;
	struct sh_err err;

	sh_err_clear(&err);
	if (sh_stacks_get(ctx->db, ctx->inst->cfg->status_prefix, &ctx->actor, id, &st,
			  &err) < 0) {
		sh_ui_error_page(ui, &err);
		return;
	}
	sh_ui_begin(ui, sh_ui_str(st, "name"), "stacks");
	sh_html(h, "<p><a href=\"{u}/ui/stacks\">Stacks</a> /</p>\n<h1>{}</h1>\n",
		ui->base, sh_ui_str(st, "name"));
	if (attach_err == NULL &&
	    sh_route_query(ctx, "attached", flag, sizeof(flag), &attached, &err) == 0 &&
	    attached != NULL)
		sh_ui_notice(ui, "The integration is attached.");
	sh_html(h,
		"<dl class=\"facts\">\n<dt>Id</dt><dd>{}</dd>\n<dt>Kind</dt><dd>{}</dd>\n"
		"<dt>Space</dt><dd>{}</dd>\n<dt>GitLab project</dt><dd>{}/{}</dd>\n"
		"<dt>Tracked branch</dt><dd>{}</dd>\n<dt>Project root</dt><dd>{}</dd>\n"
		"<dt>Environment</dt><dd>{}</dd>\n<dt>Labels</dt><dd>",
		sh_ui_str(st, "id"), sh_ui_str(st, "kind"), sh_ui_str(st, "space"), sh_ui_str(st, "namespace"),
		sh_ui_str(st, "repository"), sh_ui_str(st, "branch"),
		sh_ui_str(st, "project_root")[0] ? sh_ui_str(st, "project_root") : "(the whole repository)",
		sh_ui_str(st, "environment"));
	cJSON_ArrayForEach(label, cJSON_GetObjectItemCaseSensitive(st, "labels"))
		if (cJSON_IsString(label))
			sh_html(h, "<span class=\"badge\">{}</span> ", label->valuestring);
	sh_html_raw(h, "</dd>\n</dl>\n");
	integration_section(ui, st, attach_err);
	runs_section(ui, sh_ui_str(st, "id"));
	ignored_section(ui, st);
	sh_ui_end(ui, status);
	cJSON_Delete(st);
}

void
sh_ui_stack_page(struct sh_route_ctx *ctx)
{
	struct sh_ui ui;

	if (sh_ui_enter(ctx, &ui, 0) == 0)
		stack_page(&ui, ctx->args[0], NULL, 200);
	sh_ui_leave(&ui);
}

void
sh_ui_stack_attach(struct sh_route_ctx *ctx)
{
	char path[SH_ROUTE_ARG_MAX + 64];
	const char *choice;
	cJSON *body = NULL, *out = NULL;
	struct sh_err err;
	struct sh_ui ui;

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, SH_UI_POST) < 0)
		goto out;
	choice = sh_ui_field(&ui, "integration");
	body = cJSON_CreateObject();
	if (body == NULL ||
	    (choice[0] != '\0' ? cJSON_AddStringToObject(body, "integration", choice) :
				 cJSON_AddNullToObject(body, "integration")) == NULL) {
		sh_err_set(&err, SH_E_INTERNAL, NULL, "out of memory");
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	/* The same merge patch as PATCH /api/v1/stacks/{id}. */
	if (sh_stacks_patch(ctx->db, ctx->inst->cfg->status_prefix, &ctx->actor,
			    ctx->args[0], body, &out, &err) < 0) {
		if (err.code == SH_E_NOT_FOUND && err.field[0] == '\0')
			sh_ui_error_page(&ui, &err);
		else if (sh_err_http_status(err.code) >= 500)
			sh_ui_error_page(&ui, &err);
		else
			stack_page(&ui, ctx->args[0], &err, sh_err_http_status(err.code));
		goto out;
	}
	snprintf(path, sizeof(path), "/ui/stacks/%s?attached=1", sh_ui_str(out, "id"));
	sh_ui_redirect(&ui, path);
out:
	cJSON_Delete(body);
	cJSON_Delete(out);
	sh_ui_leave(&ui);
}
