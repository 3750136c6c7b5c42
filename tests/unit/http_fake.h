/*
 * http_fake.h - what test_http and test_ui share to drive the responder
 * without a server: a fake transport (CGI parameters from an array, the
 * body from memory), a look-up of the response's extra headers, and API
 * keys for the users of a test instance.
 *
 * Include after "config.h", <cmocka.h> and "http.h".
 */
#ifndef STACKHOOK_HTTP_FAKE_H
#define STACKHOOK_HTTP_FAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "stackhook/authz.h"
#include "stackhook/db.h"

#define FAKE_MAX_PARAMS 16

struct fake {
	const char *names[FAKE_MAX_PARAMS];
	const char *values[FAKE_MAX_PARAMS];
	size_t n;
	const char *body; /* what the client sends */
	size_t body_len;
	size_t pos;       /* bytes read so far */
	size_t chunk;     /* most bytes one read returns; 0 = no limit */
	int reads;        /* calls to read */
	bool fail;        /* read returns -1 */
};

/* Sets parameter name to value (both must outlive f), replacing it. */
void fake_set(struct fake *f, const char *name, const char *value);

/* Makes req read its parameters and body from f. */
void fake_request(struct fake *f, struct sh_http_request *req);

/* Finds header name (case-insensitive) in the response's extra headers;
 * copies its value into out.  Returns true when present. */
bool resp_header(const struct sh_http_response *resp, const char *name,
		 char *out, size_t size);

/* Creates user name with role on space and an API key for it; returns
 * the key (free it), or NULL with a line on stderr. */
char *new_key(struct sh_db *db, const char *name, const char *space,
	      enum sh_role role);

#endif
