/*
 * http.h - the responder's request and response, independent of libfcgi.
 *
 * A transport (FastCGI or CGI, in main.c) fills the request's parameter
 * lookup and body reader; handlers fill the response; the transport writes
 * it.  Nothing here reads a socket.
 */
#ifndef STACKHOOK_FCGI_HTTP_H
#define STACKHOOK_FCGI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "stackhook/buf.h"
#include "stackhook/err.h"

struct sh_http_request {
	/* CGI/FastCGI parameter lookup (REQUEST_METHOD, HTTP_*, ...). */
	const char *(*param)(void *ctx, const char *name);
	/* Reads up to len body bytes; returns bytes read, 0 at end, -1 error. */
	ssize_t (*read)(void *ctx, void *buf, size_t len);
	void *ctx;

	const char *method;
	char *route;        /* decoded path below the mount point ("/healthz") */
	const char *query;  /* raw query string, "" when none */
	const char *remote_addr;
	char *body;         /* NULL until sh_http_read_body() */
	size_t body_len;
};

struct sh_http_response {
	int status;
	struct sh_buf headers; /* "Name: value\r\n" lines besides Content-* */
	const char *content_type;
	struct sh_buf body;
};

/* Looks up a parameter; NULL when absent. */
const char *sh_http_param(const struct sh_http_request *req, const char *name);

/*
 * Fills req->method, req->route and req->query from the parameters.  The
 * route is PATH_INFO when set, else REQUEST_URI's path with mount_path
 * (the path of public_url) removed from its front; it is percent-decoded.
 * Returns 0 or -1 with err (SH_E_BAD_REQUEST) for a route no client could
 * mean (a NUL byte, a bad escape).
 */
int sh_http_parse_target(struct sh_http_request *req, const char *mount_path,
			 struct sh_err *err);

/*
 * Reads exactly CONTENT_LENGTH bytes into req->body after checking them
 * against max_body.  Returns 0, or -1 with err: SH_E_PAYLOAD_TOO_LARGE
 * (nothing read), SH_E_BAD_REQUEST for a malformed length or a body
 * shorter than announced.
 */
int sh_http_read_body(struct sh_http_request *req, size_t max_body,
		      struct sh_err *err);

/*
 * Decodes one application/x-www-form-urlencoded component (a query or
 * form value): '+' is a space, %XX a byte.  Returns a new string the
 * caller frees, or NULL for a bad escape, an encoded NUL or no memory.
 */
char *sh_http_decode_component(const char *src, size_t len);

/*
 * Finds query parameter name and percent-decodes its value ('+' is a
 * space) into out.  Returns 1 when found, 0 when absent, -1 when the value
 * is malformed or does not fit in size bytes.
 */
int sh_http_query(const struct sh_http_request *req, const char *name,
		  char *out, size_t size);

/* Frees what parsing and reading allocated. */
void sh_http_request_release(struct sh_http_request *req);

void sh_http_response_init(struct sh_http_response *resp);
void sh_http_response_release(struct sh_http_response *resp);

/* Adds a header line.  name and value must not contain CR or LF (checked:
 * such a header is dropped and logged, never sent). */
void sh_http_header(struct sh_http_response *resp, const char *name,
		    const char *value);

/* Sets status and a JSON body; takes json and deletes it.  Returns 0, or
 * -1 (out of memory: the response becomes a plain 500). */
int sh_http_json(struct sh_http_response *resp, int status, cJSON *json);

/* The sentence a client sees for err: its message, except for server-side
 * failures (storage, internal, config, I/O), which are logged in full here
 * and answered with a sentence without paths or library messages. */
const char *sh_http_public_message(const struct sh_err *err);

/* Sets the SPEC §4 error body for err and the status its code implies. */
void sh_http_error(struct sh_http_response *resp, const struct sh_err *err);

/* The same from a code, an optional field and a formatted message. */
void sh_http_errorf(struct sh_http_response *resp, enum sh_errcode code,
		    const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Writes "Status: ...", headers and body, the CGI response format, into
 * out (which the transport then sends). */
int sh_http_serialize(const struct sh_http_response *resp, struct sh_buf *out);

#endif
