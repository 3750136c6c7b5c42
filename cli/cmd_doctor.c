/*
 * stackhook doctor - check each integration against GitLab; --rotate
 * rotates tokens about to expire.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "cli.h"
#include "stackhook/doctor.h"

const char cli_doctor_usage[] =
	"usage: stackhook doctor [--integration SLUG] [--json] [--rotate]\n"
	"\n"
	"Checks each integration against its GitLab: the token (active, api scope,\n"
	"expiry: a warning 14 days ahead), reachability and TLS, the token's user,\n"
	"and for each attached stack's project that it exists, that the user is\n"
	"at least Maintainer and that exactly one webhook points at the\n"
	"integration with the push, tag push and merge request events, SSL\n"
	"verification on and not disabled by GitLab.  One line per check (ok,\n"
	"warn, fail with the fix), then a summary.  The results also show in the\n"
	"integration's health.  Exits 0 when nothing failed, 1 otherwise.\n"
	"\n"
	"  --integration SLUG  only this integration\n"
	"  --json              the report as JSON\n"
	"  --rotate            first rotate tokens that expire within 14 days\n"
	"                      (GitLab's self-rotation; the new token is stored)\n";

static void
print_text(const struct sh_doctor_report *r)
{
	for (size_t i = 0; i < r->count; i++) {
		const struct sh_check *c = &r->checks[i];

		printf("%-4s %s: %s: %s", sh_check_level_name(c->level), c->integration,
		       c->subject, c->message);
		if (c->fix[0] != '\0')
			printf(" -- fix: %s", c->fix);
		putchar('\n');
	}
	printf("%d ok, %d warnings, %d failures\n", r->ok, r->warn, r->fail);
}

int
cli_doctor(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"integration", required_argument, NULL, 'i'},
		{"json", no_argument, NULL, 'j'},
		{"rotate", no_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	struct sh_doctor_report rotated = {0}, report = {0};
	const char *slug = NULL;
	bool json = false, rotate = false;
	struct sh_gitlab *gl = NULL;
	struct sh_err err;
	int opt, rc = CLI_FAILED;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'i')
			slug = optarg;
		else if (opt == 'j')
			json = true;
		else if (opt == 'r')
			rotate = true;
		else
			goto usage;
	}
	if (optind < argc)
		goto usage;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return cli_fail("cannot initialise libcurl");
	sh_err_clear(&err);
	gl = sh_gitlab_new();
	if (gl == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	if ((rotate && sh_doctor_rotate(cli->inst, gl, slug, &rotated, &err) < 0) ||
	    sh_doctor_run(cli->inst, gl, slug, &report, &err) < 0) {
		cli_fail("%s", err.msg);
		goto out;
	}
	if (json) {
		cJSON *o = sh_doctor_json(&report);
		char *text;

		if (rotate)
			cJSON_AddItemToObject(o, "rotation", sh_doctor_json(&rotated));
		text = cJSON_Print(o);
		printf("%s\n", text ? text : "{}");
		free(text);
		cJSON_Delete(o);
	} else {
		if (rotate && rotated.count > 0)
			print_text(&rotated);
		print_text(&report);
	}
	rc = report.fail + rotated.fail > 0 ? CLI_FAILED : CLI_OK;
out:
	sh_doctor_release(&rotated);
	sh_doctor_release(&report);
	sh_gitlab_free(gl);
	curl_global_cleanup();
	return rc;
usage:
	fputs(cli_doctor_usage, stderr);
	return CLI_USAGE;
}
