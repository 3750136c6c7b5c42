/*
 * gitlab.h - the GitLab REST client the reporter uses (libcurl).
 *
 * One keep-alive connection per GitLab host: a client keeps one easy
 * handle per base URL and reuses it.  TLS is verified (with the
 * integration's CA file when set), connect and total timeouts are always
 * set, answers are capped, redirects are not followed (a redirect could
 * carry the token to another host), and the token travels only in the
 * PRIVATE-TOKEN header, never in a URL or a log.
 */
#ifndef STACKHOOK_GITLAB_H
#define STACKHOOK_GITLAB_H

#include <stdbool.h>
#include <stddef.h>

#include "stackhook/err.h"

#define SH_GITLAB_ANSWER_MAX (1u << 20)
#define SH_GITLAB_CONNECT_TIMEOUT 10 /* seconds */
#define SH_GITLAB_TIMEOUT 30         /* seconds for a whole request */

struct sh_gitlab;

/* Where and as whom to call. */
struct sh_gitlab_target {
	const char *base_url; /* "https://gitlab.example.com[/path]" */
	const char *token;    /* the API token; NULL sends none */
	const char *ca_file;  /* PEM bundle to trust, or NULL for the system's */
};

enum sh_gitlab_transport {
	SH_GITLAB_OK = 0,      /* an HTTP answer arrived */
	SH_GITLAB_UNREACHABLE, /* DNS, connect, TLS, timeout, reset */
	SH_GITLAB_TOO_LARGE,   /* the answer passed SH_GITLAB_ANSWER_MAX */
};

struct sh_gitlab_answer {
	enum sh_gitlab_transport transport;
	long status;         /* HTTP status when transport is SH_GITLAB_OK */
	char *body;          /* NUL-terminated; owned, freed by release */
	size_t len;
	long retry_after;    /* seconds from Retry-After, 0 when none */
	char error[256];     /* what went wrong, for transport failures */
};

/* A new client with no connection yet; NULL when out of memory.  Needs
 * curl_global_init() done once by the program. */
struct sh_gitlab *sh_gitlab_new(void);

/* Closes every connection and frees the client.  NULL is allowed. */
void sh_gitlab_free(struct sh_gitlab *gl);

/*
 * Sends method to base_url + "/api/v4" + path with json (or no body when
 * NULL) and fills *answer (release it).  Returns 0 when an answer (of any
 * status) or a transport failure was recorded in *answer, -1 only when the
 * request could not be built (err set).
 */
int sh_gitlab_call(struct sh_gitlab *gl, const struct sh_gitlab_target *target,
		   const char *method, const char *path, const char *json,
		   struct sh_gitlab_answer *answer, struct sh_err *err);

void sh_gitlab_answer_release(struct sh_gitlab_answer *answer);

#endif
