/*
 * err.h - the error every core function fills in.
 *
 * Core functions return 0 on success and -1 on failure (or NULL), and on
 * failure fill a caller-provided struct sh_err.  The message is a sentence
 * for a person: it never holds a secret, a token or a received credential.
 * The code decides the HTTP status a responder answers with.
 */
#ifndef STACKHOOK_ERR_H
#define STACKHOOK_ERR_H

#include <stddef.h>

enum sh_errcode {
	SH_OK = 0,
	SH_E_INTERNAL,            /* a bug or an unexpected library failure: 500 */
	SH_E_CONFIG,              /* the config file or a value in it: 500 */
	SH_E_STORAGE,             /* database or spool cannot take the operation: 503 */
	SH_E_UNAUTHORIZED,        /* no or invalid credentials: 401 */
	SH_E_FORBIDDEN,           /* known caller without the role: 403 */
	SH_E_NOT_FOUND,           /* 404 */
	SH_E_METHOD_NOT_ALLOWED,  /* 405 */
	SH_E_PAYLOAD_TOO_LARGE,   /* 413 */
	SH_E_INVALID_JSON,        /* 400 */
	SH_E_INVALID_FIELD,       /* 400 */
	SH_E_MISSING_FIELD,       /* 400 */
	SH_E_UNKNOWN_FIELD,       /* 400 */
	SH_E_NAME_IMMUTABLE,      /* 400 */
	SH_E_BAD_REQUEST,         /* 400: malformed request outside the body */
	SH_E_CONFLICT,            /* 409 */
	SH_E_INTEGRATION_NOT_USABLE, /* 422 */
	SH_E_STACK_DETACHED,      /* 409 */
	SH_E_INVALID_TRANSITION,  /* 409 */
	SH_E_USAGE,               /* a command line the CLI cannot understand */
	SH_E_IO,                  /* a local file operation failed */
};

#define SH_ERR_MSG_MAX 512
#define SH_ERR_FIELD_MAX 128

struct sh_err {
	enum sh_errcode code;
	char field[SH_ERR_FIELD_MAX]; /* JSON path of the field at fault, or "" */
	char msg[SH_ERR_MSG_MAX];
};

/* Clears err (code SH_OK, empty message and field).  err may be NULL. */
void sh_err_clear(struct sh_err *err);

/*
 * Sets code, field (NULL for none) and a printf-formatted message, and
 * returns -1 so that callers can write `return sh_err_set(...)`.  A message
 * longer than SH_ERR_MSG_MAX is cut with a trailing "..." rather than
 * silently.  err may be NULL, then only -1 is returned.
 */
int sh_err_set(struct sh_err *err, enum sh_errcode code, const char *field,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Like sh_err_set() with ": <strerror(errnum)>" appended to the message. */
int sh_err_errno(struct sh_err *err, enum sh_errcode code, int errnum,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Puts "<prefix>: " in front of err's message (for context added by a caller,
 * such as the config file's name).  Returns -1.
 */
int sh_err_prefix(struct sh_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The snake_case code of SPEC §4 ("not_found", ...).  Never NULL. */
const char *sh_err_code_name(enum sh_errcode code);

/* The HTTP status a responder answers with for code. */
int sh_err_http_status(enum sh_errcode code);

#endif
