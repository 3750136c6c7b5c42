/* GET /runs/{id}: the run page commit statuses link to (run_url's
 * default), for people who may read the run's stack (SPEC §4.4). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "stackhook/runs.h"
#include "stackhook/updates.h"
#include "ui.h"

void
sh_ui_run_page(struct sh_route_ctx *ctx)
{
	const cJSON *summary, *mr;
	cJSON *run = NULL;
	struct sh_err err;
	struct sh_ui ui;
	char title[64], t[32];

	sh_err_clear(&err);
	if (sh_ui_enter(ctx, &ui, 0) < 0)
		goto out;
	if (sh_runs_get(ctx->db, &ctx->actor, ctx->args[0], &run, &err) < 0) {
		sh_ui_error_page(&ui, &err);
		goto out;
	}
	snprintf(title, sizeof(title), "Run %s", sh_ui_str(run, "id"));
	sh_ui_begin(&ui, title, "stacks");
	sh_html(&ui.html,
		"<p><a href=\"{u}/ui/stacks\">Stacks</a> / <a "
		"href=\"{u}/ui/stacks/{u}\">{}</a> /</p>\n<h1>Run {}</h1>\n"
		"<p><span class=\"badge\">{}</span> in GitLab: <span "
		"class=\"badge\">{}</span></p>\n<dl class=\"facts\">\n"
		"<dt>Stack</dt><dd><a href=\"{u}/ui/stacks/{u}\">{}</a></dd>\n"
		"<dt>Kind</dt><dd>{}</dd>\n<dt>Trigger</dt><dd>{}</dd>\n"
		"<dt>Ref</dt><dd>{}</dd>\n<dt>Commit</dt><dd><code>{}</code></dd>\n",
		ui.base, ui.base, sh_ui_str(run, "stack"), sh_ui_str(run, "stack"), sh_ui_str(run, "id"),
		sh_ui_str(run, "state"), sh_updates_status_state(sh_ui_str(run, "state")), ui.base,
		sh_ui_str(run, "stack"), sh_ui_str(run, "stack"), sh_ui_str(run, "kind"),
		sh_ui_str(run, "trigger"), sh_ui_str(run, "ref"),
		sh_ui_str(run, "sha")[0] ? sh_ui_str(run, "sha") : "not known yet");
	sh_html_raw(&ui.html, "<dt>Merge requests</dt><dd>");
	cJSON_ArrayForEach(mr, cJSON_GetObjectItemCaseSensitive(run, "merge_requests"))
		if (cJSON_IsNumber(mr))
			sh_html(&ui.html, "!{i} ", (long long)mr->valuedouble);
	sh_html_raw(&ui.html, "</dd>\n<dt>Plan</dt><dd>");
	summary = cJSON_GetObjectItemCaseSensitive(run, "summary");
	if (cJSON_IsObject(summary))
		sh_html(&ui.html, "{i} to add, {i} to change, {i} to destroy",
			sh_ui_count(summary, "add"), sh_ui_count(summary, "change"),
			sh_ui_count(summary, "destroy"));
	else
		sh_html_raw(&ui.html, "no plan yet");
	sh_html(&ui.html, "</dd>\n<dt>Created</dt><dd>{}</dd>\n",
		sh_ui_when(sh_ui_str(run, "created_at"), t));
	sh_html(&ui.html, "<dt>Updated</dt><dd>{}</dd>\n<dt>Delivery</dt><dd>{}</dd>\n"
			  "</dl>\n",
		sh_ui_when(sh_ui_str(run, "updated_at"), t),
		sh_ui_str(run, "delivery")[0] ? sh_ui_str(run, "delivery") : "none (started by hand)");
	sh_ui_end(&ui, 200);
out:
	cJSON_Delete(run);
	sh_ui_leave(&ui);
}
