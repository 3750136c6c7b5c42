/*
 * stackhook.fcgi - the FastCGI responder (and plain CGI program).
 *
 * FastCGI when fd 0 is a listening socket (spawn-fcgi, mod_fcgid, systemd
 * with StandardInput=socket) or when systemd passes one (LISTEN_FDS);
 * otherwise one CGI request from the environment and stdin.  SIGTERM lets
 * the request in flight finish, then the process exits.
 */
#include "config.h"

#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <time.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "http.h"
#include "router.h"
#include "stackhook/instance.h"
#include "stackhook/log.h"

#define INSTANCE_CACHE_MAX 8
#define SD_LISTEN_FDS_START 3
#define CGI_DRAIN_MAX (64ULL << 20)
/* Four, not eight: 8 threads gave 1.5x the deliveries a second (bigger
 * group commits, bench/ingest -T), but each thread's connection and stack
 * keep filling as it meets more routes (prepared statements, page cache,
 * stack depth): tests/integration/soak.sh saw 1.0-1.1 MiB of growth after
 * the warm-up with 8, 0.5 with 4 (SPEC §8: flat).  -t raises it. */
#define THREADS_DEFAULT 4
#define THREADS_MAX 64

/* The instances this process serves: one, unless the web server names
 * several config files through the STACKHOOK_CONFIG parameter. */
struct responder {
	const char *path; /* -c or $STACKHOOK_CONFIG: overrides the parameter */
	struct sh_instance *cache[INSTANCE_CACHE_MAX];
	size_t cached;
};

static volatile sig_atomic_t stopping;

static void
on_stop_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: accept() must return EINTR so the loop can stop. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static struct sh_instance *
instance_for(struct responder *r, const char *param_path, struct sh_err *err)
{
	const char *path;
	struct sh_instance *inst;

	if (r->path != NULL)
		path = r->path;
	else if (param_path != NULL && param_path[0] != '\0')
		path = param_path;
	else
		path = sh_config_default_path();
	for (size_t i = 0; i < r->cached; i++)
		if (strcmp(r->cache[i]->cfg->path, path) == 0)
			return r->cache[i];
	if (r->cached == INSTANCE_CACHE_MAX) {
		sh_err_set(err, SH_E_CONFIG, NULL,
			   "more than %d config files named through STACKHOOK_CONFIG",
			   INSTANCE_CACHE_MAX);
		return NULL;
	}
	if (sh_instance_open(path, &inst, err) < 0)
		return NULL;
	r->cache[r->cached++] = inst;
	return inst;
}

/* Serves one request for inst (NULL: the instance could not be loaded,
 * err says why), writing the CGI-format answer into out. */
static void
serve(struct sh_instance *inst, const struct sh_err *load_err,
      struct sh_http_request *req, struct sh_buf *out)
{
	struct sh_http_response resp;

	sh_http_response_init(&resp);
	if (inst == NULL)
		sh_http_error(&resp, load_err);
	else
		sh_router_dispatch(inst, req, &resp);
	if (sh_http_serialize(&resp, out) < 0) {
		sh_buf_release(out);
		sh_buf_puts(out, "Status: 500 Internal Server Error\r\n"
				 "Content-Type: text/plain\r\n\r\nout of memory\n");
	}
	sh_http_response_release(&resp);
	sh_http_request_release(req);
}

/* serve() for the responder's instance named by the request. */
static void
serve_request(struct responder *r, struct sh_http_request *req, struct sh_buf *out)
{
	struct sh_err err;
	struct sh_instance *inst;

	sh_err_clear(&err);
	inst = instance_for(r, sh_http_param(req, "STACKHOOK_CONFIG"), &err);
	serve(inst, &err, req, out);
}

static const char *
fcgi_param(void *ctx, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

static ssize_t
fcgi_read(void *ctx, void *buf, size_t len)
{
	int n = FCGX_GetStr(buf, len > INT32_MAX ? INT32_MAX : (int)len,
			    ((FCGX_Request *)ctx)->in);

	return n < 0 ? -1 : n;
}

static const char *
cgi_param(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

/* Bytes of the CGI body read so far: what is left is drained at the end. */
static unsigned long long cgi_consumed;

static ssize_t
cgi_read(void *ctx, void *buf, size_t len)
{
	ssize_t n;

	(void)ctx;
	do
		n = read(STDIN_FILENO, buf, len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		cgi_consumed += (unsigned long long)n;
	return n;
}

static int
run_fastcgi(struct responder *r, int listen_fd)
{
	FCGX_Request request;
	struct sh_buf out = SH_BUF_INIT;
	sigset_t stop_signals;

	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&request, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		sh_log(LOG_ERR, "fastcgi: cannot initialise libfcgi");
		return 1;
	}
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	while (!stopping && FCGX_Accept_r(&request) >= 0) {
		struct sh_http_request req = {
			.param = fcgi_param, .read = fcgi_read, .ctx = &request,
		};

		/* A stop signal waits until the request in flight is answered:
		 * delivered in the middle, it would cut short a read. */
		sigprocmask(SIG_BLOCK, &stop_signals, NULL);
		serve_request(r, &req, &out);
		FCGX_PutStr(out.data, (int)out.len, request.out);
		FCGX_Finish_r(&request);
		sh_buf_release(&out);
		sigprocmask(SIG_UNBLOCK, &stop_signals, NULL);
	}
	FCGX_Free(&request, 1);
	return 0;
}

/*
 * Several request threads, each with its own database connection, share
 * one config; their deliveries meet in the committer's shared batches as
 * those of other processes do.  The
 * main thread waits for a stop signal; a worker that gets SIGUSR2 while
 * waiting in accept() stops, one busy with a request finishes it first.
 */
struct worker {
	pthread_t thread;
	bool started;
	struct sh_instance *inst;
	int listen_fd;
};

static void
on_wake(int sig)
{
	(void)sig;
}

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct sh_buf out = SH_BUF_INIT;
	FCGX_Request request;
	sigset_t wake;

	sigemptyset(&wake);
	sigaddset(&wake, SIGUSR2);
	if (FCGX_InitRequest(&request, w->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0)
		return NULL;
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	while (!stopping && FCGX_Accept_r(&request) >= 0) {
		struct sh_http_request req = {
			.param = fcgi_param, .read = fcgi_read, .ctx = &request,
		};

		pthread_sigmask(SIG_BLOCK, &wake, NULL);
		serve(w->inst, NULL, &req, &out);
		FCGX_PutStr(out.data, (int)out.len, request.out);
		FCGX_Finish_r(&request);
		sh_buf_release(&out);
		pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	}
	FCGX_Free(&request, 1);
	return NULL;
}

static void
stop_workers(struct worker *workers, int count)
{
	struct timespec pause = {0, 50 * 1000 * 1000};

	for (int i = 0; i < count; i++) {
		if (!workers[i].started)
			continue;
		/* A wake-up can land just before accept(): send it again
		 * until the worker is gone. */
		while (pthread_tryjoin_np(workers[i].thread, NULL) != 0) {
			pthread_kill(workers[i].thread, SIGUSR2);
			nanosleep(&pause, NULL);
		}
	}
}

static int
run_threads(struct sh_instance *primary, int listen_fd, int count)
{
	struct worker *workers = calloc((size_t)count, sizeof(*workers));
	struct sigaction sa;
	sigset_t signals;
	struct sh_err err;
	int sig, rc = 1;

	sh_err_clear(&err);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_wake;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	/* Workers start with every stop signal blocked; only this thread
	 * takes them, through sigwait(). */
	sigemptyset(&signals);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	if (workers == NULL || FCGX_Init() != 0) {
		sh_log(LOG_ERR, "fastcgi: cannot start: %s",
		       err.msg[0] ? err.msg : "out of memory");
		goto out;
	}
	for (int i = 0; i < count; i++) {
		workers[i].listen_fd = listen_fd;
		if (i == 0)
			workers[i].inst = primary;
		else if (sh_instance_share(primary, &workers[i].inst, &err) < 0)
			goto stop;
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0)
			goto stop;
		workers[i].started = true;
	}
	sigdelset(&signals, SIGUSR2);
	while (sigwait(&signals, &sig) != 0)
		;
	rc = 0;
stop:
	stopping = 1;
	stop_workers(workers, count);
	for (int i = 1; i < count; i++)
		sh_instance_free(workers[i].inst);
out:
	free(workers);
	return rc;
}

/* Reads what is left of a CGI request body.  Under Apache's mod_cgid the
 * body and the answer share one socket, and leaving input unread resets
 * the connection before the answer arrives.  Bounded, so that a refused
 * huge upload is not read to its end.  A POST, PUT or PATCH without
 * CONTENT_LENGTH (chunked) has a body that ends where the input does; any
 * other request without it has none, and is not waited on. */
static void
drain_cgi_body(void)
{
	const char *cl = getenv("CONTENT_LENGTH");
	const char *method = getenv("REQUEST_METHOD");
	bool unsized = method != NULL && (strcmp(method, "POST") == 0 ||
					  strcmp(method, "PUT") == 0 ||
					  strcmp(method, "PATCH") == 0);
	unsigned long long total = cl && cl[0] ? strtoull(cl, NULL, 10) :
				   unsized ? CGI_DRAIN_MAX : 0;
	unsigned long long left = total > cgi_consumed ? total - cgi_consumed : 0;
	char buf[16384];

	if (left > CGI_DRAIN_MAX)
		left = CGI_DRAIN_MAX;
	while (left > 0) {
		ssize_t n = cgi_read(NULL, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n <= 0)
			break;
		left -= (unsigned long long)n;
	}
}

static int
run_cgi(struct responder *r)
{
	struct sh_http_request req = {.param = cgi_param, .read = cgi_read};
	struct sh_buf out = SH_BUF_INIT;
	int rc;

	serve_request(r, &req, &out);
	rc = fwrite(out.data, 1, out.len, stdout) == out.len && fflush(stdout) == 0;
	sh_buf_release(&out);
	drain_cgi_body();
	return rc ? 0 : 1;
}

/* The socket systemd passed (LISTEN_FDS), or -1 when none. */
static int
systemd_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");

	if (pid == NULL || fds == NULL || atol(pid) != (long)getpid() ||
	    atoi(fds) < 1)
		return -1;
	return SD_LISTEN_FDS_START;
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: stackhook.fcgi [-c FILE] [-t THREADS]\n"
		"\n"
		"The stackhook FastCGI responder.  Started with a listening socket on\n"
		"standard input (spawn-fcgi, mod_fcgid, systemd) or LISTEN_FDS it serves\n"
		"FastCGI; otherwise it answers one CGI request.\n"
		"\n"
		"  -c, --config FILE  config file (default: $STACKHOOK_CONFIG, else\n"
		"                     %s;\n"
		"                     the web server may also pass STACKHOOK_CONFIG)\n"
		"  -t, --threads N    requests served at once by this process (default\n"
		"                     %d; webhook deliveries of concurrent requests\n"
		"                     share one commit); 1 when the config comes\n"
		"                     with each request\n"
		"  -h, --help         this help\n"
		"  -V, --version      the version\n",
		sh_config_default_path(), THREADS_DEFAULT);
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"threads", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct responder r = {0};
	const char *config = NULL;
	struct sh_err err;
	int listen_fd, opt, rc, threads = THREADS_DEFAULT;
	char *end;
	bool cgi;

	while ((opt = getopt_long(argc, argv, "c:t:hV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 't':
			threads = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || threads < 1 || threads > THREADS_MAX) {
				fprintf(stderr, "stackhook.fcgi: --threads takes 1 to %d\n",
					THREADS_MAX);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("stackhook.fcgi %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	umask(077);
	/* Request threads share one malloc arena: a process's memory stays
	 * small and flat (SPEC §8) rather than growing an arena per thread. */
	mallopt(M_ARENA_MAX, 1);
	/* Each request frees what it allocated; with the default 128 KiB
	 * threshold the heap's top went back to the kernel (brk) after nearly
	 * every request, only to be asked for, and faulted in, again. */
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
	install_signals();
	listen_fd = systemd_socket();
	cgi = listen_fd < 0 && FCGX_IsCGI();
	if (listen_fd < 0)
		listen_fd = 0;

	if (config == NULL && getenv("STACKHOOK_CONFIG") != NULL)
		config = sh_config_default_path();
	r.path = config;
	/* A FastCGI process reads its config now, so that a broken file stops
	 * the start with its file, line and key -- unless the web server names
	 * it in each request's STACKHOOK_CONFIG parameter.  A CGI request
	 * answers a config error as a 500 and logs it. */
	if (!cgi && (config != NULL || access(sh_config_default_path(), F_OK) == 0)) {
		struct sh_instance *inst = instance_for(&r, NULL, &err);

		if (inst == NULL) {
			/* spawn-fcgi may have pointed stderr at /dev/null. */
			fprintf(stderr, "stackhook.fcgi: %s\n", err.msg);
			openlog("stackhook.fcgi", LOG_PID, LOG_DAEMON);
			syslog(LOG_ERR, "%s", err.msg);
			return 1;
		}
		sh_log_open(inst->cfg->log, "stackhook.fcgi", LOG_INFO);
	}
	if (cgi)
		rc = run_cgi(&r);
	/* Threads serve one config: the one named at start.  Without -c or
	 * $STACKHOOK_CONFIG each request's parameter may name another. */
	else if (threads > 1 && r.path != NULL && r.cached == 1)
		rc = run_threads(r.cache[0], listen_fd, threads);
	else
		rc = run_fastcgi(&r, listen_fd);
	for (size_t i = 0; i < r.cached; i++)
		sh_instance_free(r.cache[i]);
	return rc;
}
