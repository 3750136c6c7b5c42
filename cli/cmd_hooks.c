/*
 * stackhook hooks sync - one correct webhook in every attached project.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "stackhook/hooks.h"

const char cli_hooks_usage[] =
	"usage: stackhook hooks sync [--integration SLUG | --stack ID] [--prune]\n"
	"                            [--dry-run]\n"
	"\n"
	"Gives every project an integration's stacks follow exactly one webhook to\n"
	"the integration's URL, with the push, tag push and merge request events\n"
	"and the secret token (and the signing token, when set): created where\n"
	"missing, updated where present -- run it again after rotate-secret.\n"
	"\n"
	"  --integration SLUG  only this integration's projects\n"
	"  --stack ID          only this stack's project\n"
	"  --prune             remove extra webhooks to the same URL\n"
	"  --dry-run           say what would change; change nothing\n";

int
cli_hooks(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"integration", required_argument, NULL, 'i'},
		{"stack", required_argument, NULL, 's'},
		{"prune", no_argument, NULL, 'p'},
		{"dry-run", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	struct sh_hooks_options opt = {.out = stdout};
	struct sh_hooks_stats stats;
	struct sh_gitlab *gl;
	struct sh_err err;
	int o, rc;

	if (argc < 2 || strcmp(argv[1], "sync") != 0)
		goto usage;
	optind = 2;
	while ((o = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (o == 'i')
			opt.integration = optarg;
		else if (o == 's')
			opt.stack = optarg;
		else if (o == 'p')
			opt.prune = true;
		else if (o == 'n')
			opt.dry_run = true;
		else
			goto usage;
	}
	if (optind < argc || (opt.integration && opt.stack))
		goto usage;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return cli_fail("cannot initialise libcurl");
	gl = sh_gitlab_new();
	sh_err_clear(&err);
	if (gl == NULL)
		rc = cli_fail("out of memory");
	else if (sh_hooks_sync(cli->inst, gl, &opt, &stats, &err) < 0)
		rc = cli_fail("%s", err.msg);
	else {
		printf("created %d, updated %d, pruned %d, failed %d\n", stats.created,
		       stats.updated, stats.pruned, stats.failed);
		rc = stats.failed > 0 ? CLI_FAILED : CLI_OK;
	}
	sh_gitlab_free(gl);
	curl_global_cleanup();
	return rc;
usage:
	fputs(cli_hooks_usage, stderr);
	return CLI_USAGE;
}
