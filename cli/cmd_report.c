/*
 * stackhook report - the cron reporter: flushes the spool to GitLab.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "stackhook/config.h"
#include "stackhook/hooks.h"
#include "stackhook/report.h"
#include "stackhook/spool.h"
#include "stackhook/timeutil.h"

#define FOR_MAX (24 * 3600)
#define RESCAN_MS 10000 /* deferred entries come due without an event */

const char cli_report_usage[] =
	"usage: stackhook report [--for SECONDS] [--dry-run]\n"
	"\n"
	"Sends the spool's waiting updates to GitLab: commit statuses, merge\n"
	"request comments and deployments.  Run it from cron as the service user:\n"
	"\n"
	"  * * * * * stackhook report --for 55\n"
	"\n"
	"Another reporter already running: exits 0 at once.  Prints one line\n"
	"`sent N, coalesced N, deferred N, failed N`; exits 0 unless it could not\n"
	"work locally (config, database, spool).\n"
	"\n"
	"  --for SECONDS  keep flushing new entries as they arrive until the time\n"
	"                 is up, so that a once-a-minute cron line reports within\n"
	"                 a second\n"
	"  --dry-run      print what would be sent; send and change nothing\n";

static void
add_stats(struct sh_report_stats *total, const struct sh_report_stats *s)
{
	total->sent += s->sent;
	total->coalesced += s->coalesced;
	total->deferred += s->deferred;
	total->failed += s->failed;
}

/* Waits up to ms for something to be renamed into new/; true when it was. */
static bool
wait_for_entries(int fd, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char events[4096];

	if (fd < 0 || poll(&pfd, 1, ms) <= 0)
		return false;
	while (read(fd, events, sizeof(events)) > 0)
		;
	return true;
}

static int
flush(struct cli *cli, bool dry_run, int64_t for_seconds)
{
	struct sh_report_options opt = {.dry_run = dry_run, .out = stdout};
	struct sh_report_stats total = {0};
	char dir[4096];
	struct sh_gitlab *gl = NULL;
	struct sh_err err;
	int64_t deadline = sh_time_now() + for_seconds;
	int watch = -1, rc = CLI_FAILED;

	sh_err_clear(&err);
	gl = sh_gitlab_new();
	if (gl == NULL)
		return cli_fail("out of memory");
	if (for_seconds > 0) {
		snprintf(dir, sizeof(dir), "%s/new", cli->inst->cfg->spool);
		watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (watch >= 0 && inotify_add_watch(watch, dir, IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
			close(watch);
			watch = -1;
		}
	}
	/* Once a run: ask GitLab to resend what our hooks failed to take. */
	if (!dry_run) {
		int resent = 0;

		if (sh_hooks_resend_failed(cli->inst, gl, &resent, &err) < 0)
			fprintf(stderr, "stackhook: resends: %s\n", err.msg);
		sh_err_clear(&err);
	}
	for (;;) {
		struct sh_report_stats stats = {0};
		int64_t left;

		if (sh_report_pass(cli->inst, gl, &opt, &stats, &err) < 0) {
			cli_fail("%s", err.msg);
			goto out;
		}
		add_stats(&total, &stats);
		left = deadline - sh_time_now();
		if (for_seconds <= 0 || left <= 0)
			break;
		/* Without inotify, poll the directory once a second instead. */
		if (watch < 0)
			sleep(1);
		else
			wait_for_entries(watch, left * 1000 < RESCAN_MS ? (int)(left * 1000) :
									 RESCAN_MS);
		if (sh_time_now() >= deadline)
			break;
	}
	printf("sent %d, coalesced %d, deferred %d, failed %d\n", total.sent,
	       total.coalesced, total.deferred, total.failed);
	rc = CLI_OK;
out:
	if (watch >= 0)
		close(watch);
	sh_gitlab_free(gl);
	return rc;
}

int
cli_report(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{"for", required_argument, NULL, 'f'},
		{"dry-run", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	int64_t for_ms = 0;
	bool dry_run = false;
	struct sh_err err;
	int opt, lock, busy, rc;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'n') {
			dry_run = true;
		} else if (opt == 'f' && sh_config_parse_duration_ms(optarg, &for_ms) == 0 &&
			   for_ms <= (int64_t)FOR_MAX * 1000) {
			continue;
		} else {
			fputs(cli_report_usage, stderr);
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		fputs(cli_report_usage, stderr);
		return CLI_USAGE;
	}
	sh_err_clear(&err);
	busy = sh_spool_lock(cli->inst->cfg->spool, &lock, &err);
	if (busy < 0)
		return cli_fail("%s", err.msg);
	if (busy == 1)
		return CLI_OK; /* another reporter is at work: nothing to say */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		close(lock);
		return cli_fail("cannot initialise libcurl");
	}
	rc = flush(cli, dry_run, for_ms / 1000);
	curl_global_cleanup();
	close(lock);
	return rc;
}
