/*
 * http_fake.h - what test_http and test_ui share to drive the responder
 * without a server: a fake transport (CGI parameters from an array, the
 * body from memory), a look-up of the response's extra headers, API
 * keys for the users of a test instance, and the fixture that makes such
 * an instance.
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
#include "stackhook/instance.h"
#include "testutil.h"

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

/* Sets the parameters nginx passes for method and route: SCRIPT_NAME is
 * the mount point /stackhook, PATH_INFO the route, the client 127.0.0.1. */
void fake_route(struct fake *f, const char *method, const char *route);

/* Dispatches the request f describes through inst into resp (initialized
 * here; release it) and checks that the status is one HTTP has. */
void fake_serve(struct sh_instance *inst, struct fake *f,
		struct sh_http_response *resp);

/* Finds header name (case-insensitive) in the response's extra headers;
 * copies its value into out.  Returns true when present. */
bool resp_header(const struct sh_http_response *resp, const char *name,
		 char *out, size_t size);

/* Creates user name with role on space and an API key for it; returns
 * the key (free it), or NULL with a line on stderr. */
char *new_key(struct sh_db *db, const char *name, const char *space,
	      enum sh_role role);

/* Someone of a test instance: name, with role on space. */
struct fake_person {
	const char *name;
	const char *space;
	enum sh_role role;
};

#define FAKE_MAX_PEOPLE 4
#define FAKE_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* What fake_env_setup leaves in *state. */
struct fake_env {
	struct tu_dir dir;
	struct sh_instance *inst;
	struct sh_db *db;              /* NULL when not initialized */
	char *key[FAKE_MAX_PEOPLE];    /* the API key of people[i] */
};

/*
 * The cmocka set-up of the tests that serve requests: a temporary
 * instance with config lines extra (NULL for none); when init is true it
 * is migrated, sql (NULL for none) has run on its database, and each of
 * the n people has the role and an API key.  fake_env_teardown undoes it,
 * also after a set-up that failed half-way.  Both return 0 or -1.
 */
int fake_env_setup(void **state, const char *extra, bool init,
		   const char *sql, const struct fake_person *people, size_t n);
int fake_env_teardown(void **state);

#endif
