/*
 * http_fake.c - the fake transport and helpers of http_fake.h.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "http_fake.h"
#include "router.h"
#include "stackhook/err.h"
#include "stackhook/users.h"

void
fake_set(struct fake *f, const char *name, const char *value)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->names[i], name) == 0) {
			f->values[i] = value;
			return;
		}
	}
	assert_true(f->n < FAKE_MAX_PARAMS);
	f->names[f->n] = name;
	f->values[f->n++] = value;
}

static const char *
fake_param(void *ctx, const char *name)
{
	struct fake *f = ctx;

	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->names[i], name) == 0)
			return f->values[i];
	return NULL;
}

static ssize_t
fake_read(void *ctx, void *buf, size_t len)
{
	struct fake *f = ctx;
	size_t n = f->body_len - f->pos;

	f->reads++;
	if (f->fail)
		return -1;
	if (n > len)
		n = len;
	if (f->chunk != 0 && n > f->chunk)
		n = f->chunk;
	if (n == 0)
		return 0; /* the end (body may be NULL: no memcpy from it) */
	memcpy(buf, f->body + f->pos, n);
	f->pos += n;
	return (ssize_t)n;
}

void
fake_request(struct fake *f, struct sh_http_request *req)
{
	memset(req, 0, sizeof(*req));
	req->param = fake_param;
	req->read = fake_read;
	req->ctx = f;
}

void
fake_route(struct fake *f, const char *method, const char *route)
{
	fake_set(f, "REQUEST_METHOD", method);
	fake_set(f, "SCRIPT_NAME", "/stackhook");
	fake_set(f, "PATH_INFO", route);
	fake_set(f, "REMOTE_ADDR", "127.0.0.1");
}

void
fake_serve(struct sh_instance *inst, struct fake *f,
	   struct sh_http_response *resp)
{
	struct sh_http_request req;

	fake_request(f, &req);
	sh_http_response_init(resp);
	sh_router_dispatch(inst, &req, resp);
	sh_http_request_release(&req);
	assert_true(resp->status >= 200 && resp->status <= 599);
}

bool
resp_header(const struct sh_http_response *resp, const char *name, char *out,
	    size_t size)
{
	const char *p = sh_buf_str(&resp->headers);
	size_t nlen = strlen(name);

	while (*p != '\0') {
		const char *eol = strstr(p, "\r\n");

		assert_non_null(eol);
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':' &&
		    p[nlen + 1] == ' ') {
			snprintf(out, size, "%.*s", (int)(eol - p - nlen - 2),
				 p + nlen + 2);
			return true;
		}
		p = eol + 2;
	}
	return false;
}

char *
new_key(struct sh_db *db, const char *name, const char *space,
	enum sh_role role)
{
	struct sh_user u;
	struct sh_err err;
	int64_t id;
	char *key = NULL;

	sh_err_clear(&err);
	if (sh_db_begin(db, &err) < 0 || sh_users_ensure(db, name, &u, NULL, &err) < 0 ||
	    sh_authz_grant(db, space, u.id, role, &err) < 0 ||
	    sh_keys_create(db, &u, &key, &id, &err) < 0 ||
	    sh_db_commit(db, &err) < 0) {
		fprintf(stderr, "new_key: %s\n", err.msg);
		sh_db_rollback(db);
		free(key);
		return NULL;
	}
	return key;
}

int
fake_env_setup(void **state, const char *extra, bool init, const char *sql,
	       const struct fake_person *people, size_t n)
{
	struct fake_env *e = calloc(1, sizeof(*e));
	struct sh_err err;

	sh_err_clear(&err);
	if (e == NULL || n > FAKE_MAX_PEOPLE) {
		free(e);
		return -1;
	}
	*state = e;
	if (tu_instance_open(&e->dir, extra, init, &e->inst) < 0)
		return -1;
	if (!init)
		return 0;
	if (sh_instance_db(e->inst, &e->db, &err) < 0 ||
	    (sql != NULL && sh_db_exec(e->db, sql, &err) < 0)) {
		fprintf(stderr, "fake_env_setup: %s\n", err.msg);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		e->key[i] = new_key(e->db, people[i].name, people[i].space,
				    people[i].role);
		if (e->key[i] == NULL)
			return -1;
	}
	return 0;
}

int
fake_env_teardown(void **state)
{
	struct fake_env *e = *state;
	int rc;

	if (e == NULL)
		return 0;
	for (size_t i = 0; i < FAKE_MAX_PEOPLE; i++)
		free(e->key[i]);
	rc = tu_instance_close(&e->dir, e->inst);
	free(e);
	*state = NULL;
	return rc;
}
