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
