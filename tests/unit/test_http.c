/*
 * test_http.c - the responder's HTTP layer: fcgi/http.c and fcgi/router.c,
 * and sh_router_dispatch() end to end against a temporary instance with a
 * fake transport (parameters from an array, the body from memory).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>

#include <cmocka.h>

#include "http.h"
#include "http_fake.h"
#include "router.h"
#include "stackhook/authz.h"
#include "stackhook/users.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* the response */

static cJSON *
body_json(const struct sh_http_response *resp)
{
	cJSON *json;

	assert_non_null(resp->content_type);
	assert_string_equal(resp->content_type, "application/json");
	json = cJSON_ParseWithLength(sh_buf_str(&resp->body), resp->body.len);
	if (json == NULL)
		fail_msg("body is not JSON: %s", sh_buf_str(&resp->body));
	return json;
}

static const char *
json_str(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/*
 * Checks the SPEC §4 error shape {"error":{"code","message","field"?}} and
 * nothing else; returns the message (valid while json lives).
 */
static const char *
check_error(const struct sh_http_response *resp, cJSON *json, int status,
	    const char *code, const char *field)
{
	const cJSON *error = cJSON_GetObjectItemCaseSensitive(json, "error");

	assert_int_equal(resp->status, status);
	assert_true(cJSON_IsObject(error));
	assert_int_equal(cJSON_GetArraySize(json), 1);
	assert_non_null(json_str(error, "code"));
	assert_string_equal(json_str(error, "code"), code);
	assert_non_null(json_str(error, "message"));
	assert_true(strlen(json_str(error, "message")) > 0);
	if (field != NULL) {
		assert_non_null(json_str(error, "field"));
		assert_string_equal(json_str(error, "field"), field);
		assert_int_equal(cJSON_GetArraySize(error), 3);
	} else {
		assert_null(cJSON_GetObjectItemCaseSensitive(error, "field"));
		assert_int_equal(cJSON_GetArraySize(error), 2);
	}
	return json_str(error, "message");
}

/* check_error on the body of resp, for a test with no use for the
 * message. */
static void
expect_error(const struct sh_http_response *resp, int status, const char *code,
	     const char *field)
{
	cJSON *json = body_json(resp);

	check_error(resp, json, status, code, field);
	cJSON_Delete(json);
}

/* ------------------------------------------------------------------ */
/* sh_router_match */

/* A route pattern, a route, and what sh_router_match makes of them. */
struct match_case {
	const char *pattern, *route;
	int match;           /* what it returns */
	const char *args[2]; /* the wildcards' values on a match */
};

static void
expect_matches(const struct match_case *cases, size_t n)
{
	char args[SH_ROUTE_MAX_ARGS][SH_ROUTE_ARG_MAX];

	for (size_t i = 0; i < n; i++) {
		const struct match_case *c = &cases[i];

		if (sh_router_match(c->pattern, c->route, args) != c->match)
			fail_msg("\"%s\" on \"%s\": expected %d", c->pattern, c->route,
				 c->match);
		for (size_t a = 0; a < 2 && c->args[a] != NULL; a++)
			assert_string_equal(args[a], c->args[a]);
	}
}

static void
test_match_literal(void **state)
{
	static const struct match_case cases[] = {
		{"/healthz", "/healthz", 1, {NULL}},
		{"/healthz", "/healthz/", 1, {NULL}},
		/* no partial matches, either way */
		{"/healthz", "/healthzx", 0, {NULL}},
		{"/healthz", "/health", 0, {NULL}},
		{"/healthz", "/healthz/x", 0, {NULL}},
		{"/healthz", "/healthz//", 0, {NULL}},
		{"/healthz", "/", 0, {NULL}},
		{"/healthz", "", 0, {NULL}},
		{"/healthz", "/HEALTHZ", 0, {NULL}},
		{"/api/v1/whoami", "/api/v1/whoami", 1, {NULL}},
		{"/api/v1/whoami", "/api/v1", 0, {NULL}},
		{"/api/v1/whoami", "/api/v2/whoami", 0, {NULL}},
	};

	(void)state;
	expect_matches(cases, FAKE_COUNT(cases));
}

static void
test_match_wildcards(void **state)
{
	static const struct match_case cases[] = {
		{"/api/v1/spaces/{}", "/api/v1/spaces/dev", 1, {"dev"}},
		{"/api/v1/spaces/{}", "/api/v1/spaces/dev/", 1, {"dev"}},
		/* a wildcard is one whole, non-empty segment */
		{"/api/v1/spaces/{}", "/api/v1/spaces/", 0, {NULL}},
		{"/api/v1/spaces/{}", "/api/v1/spaces", 0, {NULL}},
		{"/api/v1/spaces/{}", "/api/v1/spaces//", 0, {NULL}},
		{"/api/v1/spaces/{}", "/api/v1/spaces/a/b", 0, {NULL}},
		/* several */
		{"/api/v1/spaces/{}/members/{}", "/api/v1/spaces/dev/members/alice", 1,
		 {"dev", "alice"}},
		{"/api/v1/spaces/{}/members/{}", "/api/v1/spaces/dev/members/", 0,
		 {NULL}},
		{"/api/v1/spaces/{}/members/{}", "/api/v1/spaces/dev/member/alice", 0,
		 {NULL}},
		/* a wildcard followed by a literal tail */
		{"/api/v1/integrations/{}/details",
		 "/api/v1/integrations/gitlab-prod/details", 1, {"gitlab-prod"}},
		{"/api/v1/integrations/{}/details", "/api/v1/integrations/gitlab-prod",
		 0, {NULL}},
		/* decoded characters in a segment are kept as they are */
		{"/a/{}", "/a/x y.z", 1, {"x y.z"}},
	};

	(void)state;
	expect_matches(cases, FAKE_COUNT(cases));
}

static void
test_match_overlong_segment(void **state)
{
	char args[SH_ROUTE_MAX_ARGS][SH_ROUTE_ARG_MAX];
	char route[SH_ROUTE_ARG_MAX + 32];

	(void)state;
	/* the longest segment that fits */
	strcpy(route, "/a/");
	memset(route + 3, 'x', SH_ROUTE_ARG_MAX - 1);
	route[3 + SH_ROUTE_ARG_MAX - 1] = '\0';
	assert_int_equal(sh_router_match("/a/{}", route, args), 1);
	assert_int_equal(strlen(args[0]), SH_ROUTE_ARG_MAX - 1);
	/* one more: no match rather than a cut */
	strcat(route, "x");
	assert_int_equal(sh_router_match("/a/{}", route, args), 0);
}

static void
test_match_too_many_args(void **state)
{
	char args[SH_ROUTE_MAX_ARGS][SH_ROUTE_ARG_MAX];

	(void)state;
	assert_int_equal(sh_router_match("/{}/{}/{}/{}", "/a/b/c/d", args), 1);
	assert_string_equal(args[3], "d");
	assert_int_equal(sh_router_match("/{}/{}/{}/{}/{}", "/a/b/c/d/e", args), 0);
}

/* ------------------------------------------------------------------ */
/* sh_http_parse_target */

/* What a target test parses: a fake transport and the request made of it. */
struct target {
	struct fake f;
	struct sh_http_request req;
	struct sh_err err;
};

static int
parse(struct target *t, const char *mount)
{
	fake_request(&t->f, &t->req);
	sh_err_clear(&t->err);
	return sh_http_parse_target(&t->req, mount, &t->err);
}

/* A GET of uri, given as REQUEST_URI alone (NULL: not even that), below
 * mount. */
static int
parse_uri(struct target *t, const char *mount, const char *uri)
{
	*t = (struct target){0};
	fake_set(&t->f, "REQUEST_METHOD", "GET");
	fake_set(&t->f, "REQUEST_URI", uri);
	return parse(t, mount);
}

static void
test_target_path_info(void **state)
{
	struct target t = {0};

	(void)state;
	fake_set(&t.f, "REQUEST_METHOD", "GET");
	fake_set(&t.f, "PATH_INFO", "/healthz");
	fake_set(&t.f, "REQUEST_URI", "/stackhook/other?x=1");
	fake_set(&t.f, "QUERY_STRING", "x=1");
	fake_set(&t.f, "REMOTE_ADDR", "192.0.2.1");
	assert_int_equal(parse(&t, "/stackhook"), 0);
	assert_string_equal(t.req.method, "GET");
	assert_string_equal(t.req.route, "/healthz");
	assert_string_equal(t.req.query, "x=1");
	assert_string_equal(t.req.remote_addr, "192.0.2.1");
	sh_http_request_release(&t.req);
	assert_null(t.req.route);

	/* PATH_INFO is decoded by the server already: not decoded twice */
	fake_set(&t.f, "PATH_INFO", "/api/v1/spaces/a%2541");
	assert_int_equal(parse(&t, "/stackhook"), 0);
	assert_string_equal(t.req.route, "/api/v1/spaces/a%2541");
	sh_http_request_release(&t.req);

	/* an empty PATH_INFO falls back to REQUEST_URI */
	fake_set(&t.f, "PATH_INFO", "");
	assert_int_equal(parse(&t, "/stackhook"), 0);
	assert_string_equal(t.req.route, "/other");
	sh_http_request_release(&t.req);
}

static void
test_target_request_uri(void **state)
{
	static const struct {
		const char *mount, *uri, *route;
	} cases[] = {
		{"/stackhook", "/stackhook/healthz", "/healthz"},
		{"/stackhook", "/stackhook/healthz?verbose=1&x=%00", "/healthz"},
		{"/stackhook", "/stackhook", "/"},
		{"/stackhook", "/stackhook/", "/"},
		{"/stackhook", "/stackhook?x", "/"},
		/* only at a segment boundary */
		{"/stackhook", "/stackhookx/healthz", "/stackhookx/healthz"},
		{"/stackhook", "/stackhookhealthz", "/stackhookhealthz"},
		/* not mounted below a path */
		{"", "/healthz", "/healthz"},
		{"", "/", "/"},
		{"/a/b", "/a/b/healthz", "/healthz"},
		{"/a/b", "/a/healthz", "/a/healthz"},
		/* percent-decoding */
		{"/stackhook", "/stackhook/api/v1/who%61mi", "/api/v1/whoami"},
		{"/stackhook", "/stackhook/api/v1/spaces/a%20b", "/api/v1/spaces/a b"},
		{"/stackhook", "/stackhook/x/%C3%A9", "/x/\xc3\xa9"},
		{"/stackhook", "/stackhook/a+b", "/a+b"},
		{"/stackhook", "/%73tackhook/healthz", "/healthz"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct target t;

		if (parse_uri(&t, cases[i].mount, cases[i].uri) != 0)
			fail_msg("%s refused: %s", cases[i].uri, t.err.msg);
		if (strcmp(t.req.route, cases[i].route) != 0)
			fail_msg("mount \"%s\" uri \"%s\": route \"%s\", want \"%s\"",
				 cases[i].mount, cases[i].uri, t.req.route,
				 cases[i].route);
		assert_string_equal(t.req.query, ""); /* no QUERY_STRING given */
		sh_http_request_release(&t.req);
	}
}

static void
test_target_bad(void **state)
{
	static const char *const bad_uris[] = {
		"/stackhook/a%00b", "/stackhook/%zz", "/stackhook/%4",
		"/stackhook/%", "/stackhook/a%g1", "/stackhook/a%1g",
		"/stackhook/%%41",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad_uris) / sizeof(bad_uris[0]); i++) {
		struct target t;

		if (parse_uri(&t, "/stackhook", bad_uris[i]) != -1)
			fail_msg("\"%s\" accepted as \"%s\"", bad_uris[i], t.req.route);
		assert_int_equal(t.err.code, SH_E_BAD_REQUEST);
		assert_null(t.req.route);
		sh_http_request_release(&t.req);
	}
}

static void
test_target_no_method(void **state)
{
	struct target t = {0};

	(void)state;
	fake_set(&t.f, "PATH_INFO", "/healthz");
	assert_int_equal(parse(&t, ""), -1);
	assert_int_equal(t.err.code, SH_E_BAD_REQUEST);
	fake_set(&t.f, "REQUEST_METHOD", "");
	assert_int_equal(parse(&t, ""), -1);
	assert_int_equal(t.err.code, SH_E_BAD_REQUEST);
	sh_http_request_release(&t.req);
}

/* Without REQUEST_URI or PATH_INFO (a bare CGI call), the route is "/". */
static void
test_target_nothing(void **state)
{
	struct target t;

	(void)state;
	assert_int_equal(parse_uri(&t, "/stackhook", NULL), 0);
	assert_string_equal(t.req.route, "/");
	assert_string_equal(t.req.query, "");
	assert_null(t.req.remote_addr);
	sh_http_request_release(&t.req);
}

/* ------------------------------------------------------------------ */
/* sh_http_read_body */

static int
read_body(struct fake *f, const char *content_length, size_t max,
	  struct sh_http_request *req, struct sh_err *err)
{
	if (content_length != NULL)
		fake_set(f, "CONTENT_LENGTH", content_length);
	fake_request(f, req);
	sh_err_clear(err);
	return sh_http_read_body(req, max, err);
}

/* The Content-Length value is refused with code before any of the body
 * is read; err says why. */
static void
expect_length_refused(const char *value, enum sh_errcode code,
		      struct sh_err *err)
{
	struct fake f = {.body = "hello", .body_len = 5};
	struct sh_http_request req;

	if (read_body(&f, value, 1024, &req, err) != -1)
		fail_msg("Content-Length \"%s\" accepted", value);
	assert_int_equal(err->code, code);
	assert_int_equal(f.reads, 0);
	assert_int_equal(f.pos, 0);
	sh_http_request_release(&req);
}

static void
test_body_malformed_length(void **state)
{
	static const char *const bad[] = {"abc", "-5", "+5", " 5", "5 ", "5x",
					  "0x10", "1e3", "5.0"};
	struct sh_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_length_refused(bad[i], SH_E_BAD_REQUEST, &err);
}

static void
test_body_too_large(void **state)
{
	static const char *const big[] = {"1025", "99999999999",
					  "18446744073709551616",
					  "99999999999999999999999999999"};

	(void)state;
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		struct sh_err err;

		/* refused before reading anything */
		expect_length_refused(big[i], SH_E_PAYLOAD_TOO_LARGE, &err);
		assert_int_equal(sh_err_http_status(err.code), 413);
		assert_non_null(strstr(err.msg, "1024"));
	}
}

static void
test_body_at_limit(void **state)
{
	char data[1024];
	struct fake f = {.body = data, .body_len = sizeof(data)};
	struct sh_http_request req;
	struct sh_err err;

	(void)state;
	memset(data, 'b', sizeof(data));
	assert_int_equal(read_body(&f, "1024", 1024, &req, &err), 0);
	assert_int_equal(req.body_len, 1024);
	assert_memory_equal(req.body, data, 1024);
	sh_http_request_release(&req);
}

static void
test_body_short(void **state)
{
	struct fake f = {.body = "hello", .body_len = 5};
	struct sh_http_request req;
	struct sh_err err;

	(void)state;
	assert_int_equal(read_body(&f, "10", 1024, &req, &err), -1);
	assert_int_equal(err.code, SH_E_BAD_REQUEST);
	sh_http_request_release(&req);

	/* a read error is a short body too */
	f = (struct fake){.body = "hello", .body_len = 5, .fail = true};
	assert_int_equal(read_body(&f, "5", 1024, &req, &err), -1);
	assert_int_equal(err.code, SH_E_BAD_REQUEST);
	sh_http_request_release(&req);
}

static void
test_body_exact(void **state)
{
	struct fake f = {.body = "{\"a\":1}trailing", .body_len = 15};
	struct sh_http_request req;
	struct sh_err err;

	(void)state;
	assert_int_equal(read_body(&f, "7", 1024, &req, &err), 0);
	assert_int_equal(req.body_len, 7);
	assert_string_equal(req.body, "{\"a\":1}"); /* NUL-terminated */
	assert_int_equal(f.pos, 7);                 /* nothing more was read */
	/* a second call keeps what it has */
	assert_int_equal(sh_http_read_body(&req, 1024, &err), 0);
	assert_int_equal(f.pos, 7);
	sh_http_request_release(&req);
	assert_null(req.body);
	assert_int_equal(req.body_len, 0);
}

static void
test_body_in_pieces(void **state)
{
	static const char text[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	struct fake f = {.body = text, .body_len = 36, .chunk = 5};
	struct sh_http_request req;
	struct sh_err err;

	(void)state;
	assert_int_equal(read_body(&f, "36", 1024, &req, &err), 0);
	assert_int_equal(req.body_len, 36);
	assert_string_equal(req.body, text);
	assert_true(f.reads >= 8);
	sh_http_request_release(&req);
}

static void
test_body_none(void **state)
{
	struct fake f = {0};
	struct sh_http_request req;
	struct sh_err err;

	(void)state;
	/* no CONTENT_LENGTH, nothing sent */
	assert_int_equal(read_body(&f, NULL, 1024, &req, &err), 0);
	assert_non_null(req.body);
	assert_int_equal(req.body_len, 0);
	assert_string_equal(req.body, "");
	sh_http_request_release(&req);
	/* empty */
	assert_int_equal(read_body(&f, "", 1024, &req, &err), 0);
	assert_int_equal(req.body_len, 0);
	sh_http_request_release(&req);
	/* zero: nothing is read at all */
	f.reads = 0;
	assert_int_equal(read_body(&f, "0", 1024, &req, &err), 0);
	assert_int_equal(req.body_len, 0);
	assert_int_equal(f.reads, 0);
	sh_http_request_release(&req);
}

/* Without CONTENT_LENGTH (Apache's mod_proxy_fcgi streams a large chunked
 * request so) the body is read to its end, within max_body. */
static void
test_body_unsized(void **state)
{
	static char big[40000];
	struct fake f = {.chunk = 1000};
	struct sh_http_request req;
	struct sh_err err;

	(void)state;
	memset(big, 'x', sizeof(big));
	f.body = big;
	f.body_len = sizeof(big);
	assert_int_equal(read_body(&f, NULL, sizeof(big), &req, &err), 0);
	assert_int_equal(req.body_len, sizeof(big));
	assert_int_equal(req.body[sizeof(big)], '\0');
	assert_memory_equal(req.body, big, sizeof(big));
	sh_http_request_release(&req);

	/* one byte over: 413, without reading the rest */
	f.pos = 0;
	f.chunk = 0;
	assert_int_equal(read_body(&f, NULL, sizeof(big) - 1, &req, &err), -1);
	assert_int_equal(err.code, SH_E_PAYLOAD_TOO_LARGE);
	assert_non_null(strstr(err.msg, "max_body"));
	sh_http_request_release(&req);
	f.pos = 0;
	assert_int_equal(read_body(&f, NULL, 100, &req, &err), -1);
	assert_int_equal(err.code, SH_E_PAYLOAD_TOO_LARGE);
	assert_true(f.pos <= 102);
	sh_http_request_release(&req);
}

/* ------------------------------------------------------------------ */
/* responses */

static char *
serialize(const struct sh_http_response *resp)
{
	struct sh_buf out = SH_BUF_INIT;
	char *text;

	assert_int_equal(sh_http_serialize(resp, &out), 0);
	text = sh_buf_detach(&out);
	assert_non_null(text);
	return text;
}

/* resp serializes to exactly want. */
static void
expect_serialized(const struct sh_http_response *resp, const char *want)
{
	char *text = serialize(resp);

	assert_string_equal(text, want);
	free(text);
}

/* cmocka fixtures of the response tests: a fresh response in *state,
 * released afterwards, also when the test failed. */
static int
resp_setup(void **state)
{
	struct sh_http_response *resp = malloc(sizeof(*resp));

	if (resp == NULL)
		return -1;
	sh_http_response_init(resp);
	*state = resp;
	return 0;
}

static int
resp_teardown(void **state)
{
	sh_http_response_release(*state);
	free(*state);
	return 0;
}

static void
test_serialize_json(void **state)
{
	struct sh_http_response *resp = *state;

	assert_int_equal(resp->status, 200);
	sh_http_header(resp, "X-One", "1");
	assert_int_equal(sh_http_json(resp, 201, cJSON_Parse("{\"k\":\"v\"}")), 0);
	assert_int_equal(resp->status, 201);
	expect_serialized(resp, "Status: 201 Created\r\n"
				"Content-Type: application/json\r\n"
				"Content-Length: 10\r\n"
				"X-One: 1\r\n"
				"\r\n"
				"{\"k\":\"v\"}\n");
}

static void
test_serialize_length_is_bytes(void **state)
{
	struct sh_http_response *resp = *state;

	resp->content_type = "text/plain; charset=utf-8";
	sh_buf_puts(&resp->body, "caf\xc3\xa9\n"); /* 5 characters, 6 bytes */
	expect_serialized(resp, "Status: 200 OK\r\n"
				"Content-Type: text/plain; charset=utf-8\r\n"
				"Content-Length: 6\r\n"
				"\r\n"
				"caf\xc3\xa9\n");
}

static void
test_serialize_204(void **state)
{
	struct sh_http_response *resp = *state;

	assert_int_equal(sh_http_json(resp, 204, cJSON_CreateObject()), 0);
	sh_http_header(resp, "X-Deleted", "yes");
	expect_serialized(resp, "Status: 204 No Content\r\nX-Deleted: yes\r\n\r\n");
}

static void
test_serialize_statuses(void **state)
{
	static const struct {
		int status;
		const char *line;
	} cases[] = {
		{400, "Status: 400 Bad Request\r\n"},
		{401, "Status: 401 Unauthorized\r\n"},
		{403, "Status: 403 Forbidden\r\n"},
		{404, "Status: 404 Not Found\r\n"},
		{405, "Status: 405 Method Not Allowed\r\n"},
		{409, "Status: 409 Conflict\r\n"},
		{413, "Status: 413 Payload Too Large\r\n"},
		{422, "Status: 422 Unprocessable Entity\r\n"},
		{500, "Status: 500 Internal Server Error\r\n"},
		{503, "Status: 503 Service Unavailable\r\n"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sh_http_response resp;
		char *text;

		sh_http_response_init(&resp);
		resp.status = cases[i].status;
		text = serialize(&resp);
		assert_int_equal(strncmp(text, cases[i].line, strlen(cases[i].line)), 0);
		/* no body, no type: still a length */
		assert_non_null(strstr(text, "\r\nContent-Length: 0\r\n"));
		assert_null(strstr(text, "Content-Type"));
		free(text);
		sh_http_response_release(&resp);
	}
}

static void
test_header_injection_refused(void **state)
{
	struct sh_http_response *resp = *state;
	char value[64], *text;

	sh_http_header(resp, "X-Value", "1\r\nSet-Cookie: evil=1");
	sh_http_header(resp, "X-Lf", "1\nSet-Cookie: evil=2");
	sh_http_header(resp, "X-Cr", "1\rSet-Cookie: evil=3");
	sh_http_header(resp, "X-Name\r\nSet-Cookie", "evil=4");
	sh_http_header(resp, "X-Colon: evil=5\r\nX", "1");
	sh_http_header(resp, "X-Good", "kept");
	assert_string_equal(sh_buf_str(&resp->headers), "X-Good: kept\r\n");
	assert_true(resp_header(resp, "x-good", value, sizeof(value)));
	assert_string_equal(value, "kept");
	text = serialize(resp);
	assert_null(strstr(text, "evil"));
	assert_null(strstr(text, "Set-Cookie"));
	free(text);
}

static void
test_json_null_is_500(void **state)
{
	struct sh_http_response *resp = *state;

	assert_int_equal(sh_http_json(resp, 200, NULL), -1);
	assert_int_equal(resp->status, 500);
}

static void
test_error_shape(void **state)
{
	struct sh_http_response resp;
	const char *msg;
	cJSON *json;

	(void)state;
	sh_http_response_init(&resp);
	sh_http_errorf(&resp, SH_E_INVALID_FIELD, "labels[2]",
		       "a label is at most %d characters", 64);
	json = body_json(&resp);
	msg = check_error(&resp, json, 400, "invalid_field", "labels[2]");
	assert_string_equal(msg, "a label is at most 64 characters");
	cJSON_Delete(json);
	/* the body is a line */
	assert_int_equal(resp.body.data[resp.body.len - 1], '\n');
	sh_http_response_release(&resp);

	sh_http_response_init(&resp);
	sh_http_errorf(&resp, SH_E_CONFLICT, NULL, "already there");
	json = body_json(&resp);
	msg = check_error(&resp, json, 409, "conflict", NULL);
	assert_string_equal(msg, "already there");
	cJSON_Delete(json);
	sh_http_response_release(&resp);
}

/* Every error code, the status it answers and the name it has there. */
static const struct {
	enum sh_errcode code;
	int status;
	const char *name;
} error_codes[] = {
	{SH_E_UNAUTHORIZED, 401, "unauthorized"},
	{SH_E_FORBIDDEN, 403, "forbidden"},
	{SH_E_NOT_FOUND, 404, "not_found"},
	{SH_E_METHOD_NOT_ALLOWED, 405, "method_not_allowed"},
	{SH_E_PAYLOAD_TOO_LARGE, 413, "payload_too_large"},
	{SH_E_INVALID_JSON, 400, "invalid_json"},
	{SH_E_MISSING_FIELD, 400, "missing_field"},
	{SH_E_UNKNOWN_FIELD, 400, "unknown_field"},
	{SH_E_NAME_IMMUTABLE, 400, "name_immutable"},
	{SH_E_BAD_REQUEST, 400, "bad_request"},
	{SH_E_INTEGRATION_NOT_USABLE, 422, "integration_not_usable"},
	{SH_E_STACK_DETACHED, 409, "stack_detached"},
	{SH_E_INVALID_TRANSITION, 409, "invalid_transition"},
	/* server-side failures */
	{SH_E_STORAGE, 503, "storage_unavailable"},
	{SH_E_INTERNAL, 500, "internal_error"},
	{SH_E_CONFIG, 500, "config_error"},
	{SH_E_IO, 500, "io_error"},
};

/* Makes resp (initialized here) the answer to an error of code with field
 * and msg; returns its body. */
static cJSON *
error_answer(struct sh_http_response *resp, enum sh_errcode code,
	     const char *field, const char *msg)
{
	struct sh_err err;

	sh_http_response_init(resp);
	sh_err_set(&err, code, field, "%s", msg);
	sh_http_error(resp, &err);
	return body_json(resp);
}

/* The client's errors (4xx) carry their message as it is. */
static void
test_error_codes(void **state)
{
	(void)state;
	for (size_t i = 0; i < FAKE_COUNT(error_codes); i++) {
		struct sh_http_response resp;
		cJSON *json;

		if (error_codes[i].status >= 500)
			continue;
		json = error_answer(&resp, error_codes[i].code, NULL, "why it failed");
		assert_string_equal(check_error(&resp, json, error_codes[i].status,
						error_codes[i].name, NULL),
				    "why it failed");
		cJSON_Delete(json);
		sh_http_response_release(&resp);
	}
}

/* Server-side failures (5xx): the client gets a sentence, not the
 * details. */
static void
test_error_server_side_hidden(void **state)
{
	(void)state;
	for (size_t i = 0; i < FAKE_COUNT(error_codes); i++) {
		struct sh_http_response resp;
		const char *msg;
		cJSON *json;

		if (error_codes[i].status < 500)
			continue;
		json = error_answer(&resp, error_codes[i].code, "database",
				    "database /var/lib/hidden-dir/stackhook.db: "
				    "statement failed: disk I/O error");
		msg = check_error(&resp, json, error_codes[i].status,
				  error_codes[i].name, "database");
		assert_null(strstr(msg, "/var/lib"));
		assert_null(strstr(msg, "hidden-dir"));
		assert_null(strstr(msg, "disk I/O"));
		assert_null(strstr(sh_buf_str(&resp.body), "hidden-dir"));
		cJSON_Delete(json);
		sh_http_response_release(&resp);
	}
}

/* An error without a message still says something. */
static void
test_error_empty_message(void **state)
{
	struct sh_http_response *resp = *state;
	struct sh_err err;

	sh_err_clear(&err);
	err.code = SH_E_NOT_FOUND;
	sh_http_error(resp, &err);
	expect_error(resp, 404, "not_found", NULL);
}

/* ------------------------------------------------------------------ */
/* sh_router_dispatch end to end */

/* alice is a root admin, bob reads root: their API keys are
 * e->key[ALICE] and e->key[BOB]. */
enum { ALICE, BOB };

static const struct fake_person people[] = {
	[ALICE] = {"alice", SH_ROOT_SPACE, SH_ROLE_ADMIN},
	[BOB] = {"bob", SH_ROOT_SPACE, SH_ROLE_READ},
};

static int
env_setup(void **state)
{
	return fake_env_setup(state, NULL, true, NULL, people, FAKE_COUNT(people));
}

static int
env_setup_trusting(void **state)
{
	return fake_env_setup(state, "trust_remote_user = yes\n", true, NULL,
			      people, FAKE_COUNT(people));
}

static int
env_setup_uninitialized(void **state)
{
	return fake_env_setup(state, NULL, false, NULL, NULL, 0);
}

/* f made a request as nginx passes it (fake_route); auth may be NULL. */
static void
route_fake(struct fake *f, const char *method, const char *path,
	   const char *auth)
{
	*f = (struct fake){0};
	fake_route(f, method, path);
	if (auth != NULL)
		fake_set(f, "HTTP_AUTHORIZATION", auth);
}

static void
call(struct fake_env *e, const char *method, const char *path, const char *auth,
     struct sh_http_response *resp)
{
	struct fake f;

	route_fake(&f, method, path, auth);
	fake_serve(e->inst, &f, resp);
}

/* call, which must answer status with a JSON body: returns the body. */
static cJSON *
call_json(struct fake_env *e, const char *method, const char *path,
	  const char *auth, int status, struct sh_http_response *resp)
{
	call(e, method, path, auth, resp);
	assert_int_equal(resp->status, status);
	return body_json(resp);
}

/* The request f describes answers status with the error code (and no
 * field). */
static void
serve_error(struct fake_env *e, struct fake *f, int status, const char *code)
{
	struct sh_http_response resp;

	fake_serve(e->inst, f, &resp);
	expect_error(&resp, status, code, NULL);
	sh_http_response_release(&resp);
}

/* The whoami request f describes answers 200 for user, whose role on root
 * is root_role (NULL: who has no roles at all). */
static void
expect_whoami(struct fake_env *e, struct fake *f, const char *user,
	      const char *root_role)
{
	struct sh_http_response resp;
	const cJSON *roles;
	char value[256];
	cJSON *json;

	fake_serve(e->inst, f, &resp);
	assert_int_equal(resp.status, 200);
	json = body_json(&resp);
	assert_string_equal(json_str(json, "user"), user);
	roles = cJSON_GetObjectItemCaseSensitive(json, "roles");
	assert_true(cJSON_IsObject(roles));
	if (root_role != NULL)
		assert_string_equal(json_str(roles, "root"), root_role);
	else
		assert_int_equal(cJSON_GetArraySize(roles), 0);
	assert_false(resp_header(&resp, "WWW-Authenticate", value, sizeof(value)));
	cJSON_Delete(json);
	sh_http_response_release(&resp);
}

/* call, for a check of the status alone: returns it. */
static int
call_status(struct fake_env *e, const char *method, const char *path,
	    const char *auth)
{
	struct sh_http_response resp;
	int status;

	call(e, method, path, auth, &resp);
	status = resp.status;
	sh_http_response_release(&resp);
	return status;
}

/* fake_serve, for a check of the status alone: returns it. */
static int
serve_status(struct fake_env *e, struct fake *f)
{
	struct sh_http_response resp;
	int status;

	fake_serve(e->inst, f, &resp);
	status = resp.status;
	sh_http_response_release(&resp);
	return status;
}

static char *
bearer(const char *key)
{
	char *h = malloc(strlen(key) + 8);

	assert_non_null(h);
	strcpy(h, "Bearer ");
	strcat(h, key);
	return h;
}

static void
test_dispatch_healthz_ok(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
	char value[128], *text;
	const cJSON *checks;
	cJSON *json;

	json = call_json(e, "GET", "/healthz", NULL, 200, &resp);
	assert_string_equal(json_str(json, "status"), "ok");
	checks = cJSON_GetObjectItemCaseSensitive(json, "checks");
	assert_string_equal(json_str(checks, "database"), "ok");
	assert_string_equal(json_str(checks, "spool"), "ok");
	assert_string_equal(json_str(checks, "secret_key"), "ok");
	assert_null(cJSON_GetObjectItemCaseSensitive(json, "error"));
	cJSON_Delete(json);
	/* every answer: not cached, not sniffed */
	assert_true(resp_header(&resp, "Cache-Control", value, sizeof(value)));
	assert_string_equal(value, "no-store");
	assert_true(resp_header(&resp, "X-Content-Type-Options", value,
				sizeof(value)));
	assert_string_equal(value, "nosniff");
	text = serialize(&resp);
	assert_int_equal(strncmp(text, "Status: 200 OK\r\n", 16), 0);
	free(text);
	sh_http_response_release(&resp);
}

static void
test_dispatch_healthz_unavailable(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
	const cJSON *checks, *error;
	cJSON *json;

	json = call_json(e, "GET", "/healthz", NULL, 503, &resp);
	assert_string_not_equal(json_str(json, "status"), "ok");
	checks = cJSON_GetObjectItemCaseSensitive(json, "checks");
	assert_non_null(json_str(checks, "database"));
	assert_string_not_equal(json_str(checks, "database"), "ok");
	error = cJSON_GetObjectItemCaseSensitive(json, "error");
	assert_string_equal(json_str(error, "code"), "storage_unavailable");
	assert_non_null(strstr(json_str(error, "message"), "database"));
	cJSON_Delete(json);
	sh_http_response_release(&resp);
}

/* A good instance whose spool went away answers 503 too, and 200 again
 * once it is back. */
static void
test_dispatch_healthz_spool_gone(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
	char spool[PATH_MAX];
	struct sh_err err;
	cJSON *json;

	tu_join(spool, e->dir.path, "spool");
	assert_int_equal(tu_rmtree(spool), 0);
	json = call_json(e, "GET", "/healthz", NULL, 503, &resp);
	assert_string_not_equal(
		json_str(cJSON_GetObjectItemCaseSensitive(json, "checks"), "spool"),
		"ok");
	assert_string_equal(
		json_str(cJSON_GetObjectItemCaseSensitive(json, "checks"), "database"),
		"ok");
	cJSON_Delete(json);
	sh_http_response_release(&resp);

	assert_int_equal(sh_spool_prepare(spool, NULL, &err), 0);
	assert_int_equal(call_status(e, "GET", "/healthz", NULL), 200);
}

static void
test_dispatch_whoami_no_key(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
	char value[256];

	call(e, "GET", "/api/v1/whoami", NULL, &resp);
	expect_error(&resp, 401, "unauthorized", NULL);
	assert_true(resp_header(&resp, "WWW-Authenticate", value, sizeof(value)));
	assert_int_equal(strncmp(value, "Bearer realm=", 13), 0);
	sh_http_response_release(&resp);

	/* an empty header is no key either */
	call(e, "GET", "/api/v1/whoami", "", &resp);
	assert_int_equal(resp.status, 401);
	assert_true(resp_header(&resp, "WWW-Authenticate", value, sizeof(value)));
	sh_http_response_release(&resp);
}

static void
test_dispatch_whoami_bad_key(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
	char value[256], wrong[128];
	const char *auths[4];

	snprintf(wrong, sizeof(wrong), "Bearer %s", e->key[ALICE]);
	wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == 'A' ? 'B' : 'A';
	auths[0] = wrong;
	auths[1] = "Bearer shk_not-a-key";
	auths[2] = "Bearer ";
	auths[3] = "Bearer garbage";
	for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
		call(e, "GET", "/api/v1/whoami", auths[i], &resp);
		expect_error(&resp, 401, "unauthorized", NULL);
		assert_true(resp_header(&resp, "WWW-Authenticate", value,
					sizeof(value)));
		assert_non_null(strstr(value, "invalid_token"));
		/* the key sent is never echoed */
		assert_null(strstr(sh_buf_str(&resp.body), wrong + 7));
		assert_null(strstr(sh_buf_str(&resp.body), "shk_not-a-key"));
		sh_http_response_release(&resp);
	}
}

static void
test_dispatch_whoami_other_scheme(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
	char value[256];

	call(e, "GET", "/api/v1/whoami", "Basic YWxpY2U6c2VjcmV0", &resp);
	expect_error(&resp, 401, "unauthorized", NULL);
	assert_true(resp_header(&resp, "WWW-Authenticate", value, sizeof(value)));
	assert_int_equal(strncmp(value, "Bearer", 6), 0);
	sh_http_response_release(&resp);
}

static void
test_dispatch_whoami_ok(void **state)
{
	struct fake_env *e = *state;
	char *auth = bearer(e->key[ALICE]), lower[256];
	struct fake f;

	route_fake(&f, "GET", "/api/v1/whoami", auth);
	expect_whoami(e, &f, "alice", "admin");

	/* the scheme is case-insensitive (RFC 9110) */
	snprintf(lower, sizeof(lower), "bearer %s", e->key[ALICE]);
	assert_int_equal(call_status(e, "GET", "/api/v1/whoami", lower), 200);

	/* the trailing slash form is the same route */
	assert_int_equal(call_status(e, "GET", "/api/v1/whoami/", auth), 200);

	/* another user sees their own roles */
	free(auth);
	auth = bearer(e->key[BOB]);
	route_fake(&f, "GET", "/api/v1/whoami", auth);
	expect_whoami(e, &f, "bob", "read");
	free(auth);
}

static void
test_dispatch_revoked_key(void **state)
{
	struct fake_env *e = *state;
	struct sh_key_info *items;
	struct sh_db *db;
	struct sh_err err;
	size_t count;
	char *auth = bearer(e->key[BOB]);

	assert_int_equal(sh_instance_db(e->inst, &db, &err), 0);
	assert_int_equal(sh_keys_list(db, &items, &count, &err), 0);
	assert_int_equal(count, 2);
	assert_int_equal(sh_keys_revoke(db, items[0].id, NULL, &err), 0); /* bob's */
	free(items);
	assert_int_equal(call_status(e, "GET", "/api/v1/whoami", auth), 401);
	free(auth);
}

static void
test_dispatch_not_found(void **state)
{
	static const char *const paths[] = {"/", "/nope", "/healthzx", "/api/v1",
					    "/api/v1/whoami/x", "/api/v1/whoamix"};
	struct fake_env *e = *state;
	char *auth = bearer(e->key[ALICE]);
	struct fake f;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		route_fake(&f, "GET", paths[i], auth);
		serve_error(e, &f, 404, "not_found");
	}
	free(auth);
}

static void
test_dispatch_method_not_allowed(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
	char value[64], *auth = bearer(e->key[ALICE]);

	call(e, "POST", "/healthz", NULL, &resp);
	expect_error(&resp, 405, "method_not_allowed", NULL);
	assert_true(resp_header(&resp, "Allow", value, sizeof(value)));
	assert_non_null(strstr(value, "GET"));
	assert_null(strstr(value, "POST"));
	sh_http_response_release(&resp);

	/* decided before authentication: no key needed to learn it */
	call(e, "DELETE", "/api/v1/whoami", NULL, &resp);
	assert_int_equal(resp.status, 405);
	assert_true(resp_header(&resp, "Allow", value, sizeof(value)));
	assert_non_null(strstr(value, "GET"));
	assert_null(strstr(value, "DELETE"));
	sh_http_response_release(&resp);

	/* methods are case-sensitive */
	assert_int_equal(call_status(e, "get", "/api/v1/whoami", auth), 405);
	free(auth);
}

/* Served as nginx does without PATH_INFO: the route is REQUEST_URI below
 * public_url's path. */
static void
test_dispatch_request_uri(void **state)
{
	struct fake_env *e = *state;
	char *auth = bearer(e->key[ALICE]);
	struct fake f = {0};

	fake_set(&f, "REQUEST_METHOD", "GET");
	fake_set(&f, "REQUEST_URI", "/stackhook/healthz?full=1");
	fake_set(&f, "QUERY_STRING", "full=1");
	assert_int_equal(serve_status(e, &f), 200);

	fake_set(&f, "REQUEST_URI", "/stackhookx/healthz");
	assert_int_equal(serve_status(e, &f), 404);

	fake_set(&f, "REQUEST_URI", "/stackhook/api/v1/who%61mi");
	fake_set(&f, "HTTP_AUTHORIZATION", auth);
	assert_int_equal(serve_status(e, &f), 200);

	fake_set(&f, "REQUEST_URI", "/stackhook/api/v1/whoami%00");
	serve_error(e, &f, 400, "bad_request");
	free(auth);
}

static void
test_dispatch_no_method(void **state)
{
	struct fake_env *e = *state;
	struct fake f = {0};

	fake_set(&f, "PATH_INFO", "/healthz");
	assert_int_equal(serve_status(e, &f), 400);
}

/* The database missing: /healthz says 503, and an API route answers 503
 * with the generic sentence -- the path stays in the server log. */
static void
test_dispatch_storage_error_hidden(void **state)
{
	struct fake_env *e = *state;
	struct sh_http_response resp;
	const char *msg;
	cJSON *json;

	json = call_json(e, "GET", "/api/v1/whoami", "Bearer shk_whatever", 503,
			 &resp);
	msg = check_error(&resp, json, 503, "storage_unavailable", NULL);
	assert_null(strstr(msg, e->dir.path));
	assert_null(strstr(msg, "stackhook.db"));
	assert_null(strstr(sh_buf_str(&resp.body), e->dir.path));
	cJSON_Delete(json);
	sh_http_response_release(&resp);
}

static void
test_dispatch_remote_user_trusted(void **state)
{
	struct fake_env *e = *state;
	struct fake f = {0};

	fake_set(&f, "REQUEST_METHOD", "GET");
	fake_set(&f, "PATH_INFO", "/api/v1/whoami");
	fake_set(&f, "REMOTE_USER", "alice");
	expect_whoami(e, &f, "alice", "admin");

	/* somebody the web server vouches for, granted nothing yet */
	fake_set(&f, "REMOTE_USER", "stranger");
	expect_whoami(e, &f, "stranger", NULL);

	/* not a user name at all */
	fake_set(&f, "REMOTE_USER", "no such; user");
	assert_int_equal(serve_status(e, &f), 401);

	/* a bad key is not rescued by REMOTE_USER */
	fake_set(&f, "REMOTE_USER", "alice");
	fake_set(&f, "HTTP_AUTHORIZATION", "Bearer shk_wrong");
	assert_int_equal(serve_status(e, &f), 401);
}

static void
test_dispatch_remote_user_untrusted(void **state)
{
	struct fake_env *e = *state;
	struct fake f = {0};

	assert_false(e->inst->cfg->trust_remote_user);
	fake_set(&f, "REQUEST_METHOD", "GET");
	fake_set(&f, "PATH_INFO", "/api/v1/whoami");
	fake_set(&f, "REMOTE_USER", "alice");
	assert_int_equal(serve_status(e, &f), 401);
}

int
main(void)
{
#define E(f) cmocka_unit_test_setup_teardown(f, env_setup, fake_env_teardown)
#define R(f) cmocka_unit_test_setup_teardown(f, resp_setup, resp_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_literal),
		cmocka_unit_test(test_match_wildcards),
		cmocka_unit_test(test_match_overlong_segment),
		cmocka_unit_test(test_match_too_many_args),
		cmocka_unit_test(test_target_path_info),
		cmocka_unit_test(test_target_request_uri),
		cmocka_unit_test(test_target_bad),
		cmocka_unit_test(test_target_no_method),
		cmocka_unit_test(test_target_nothing),
		cmocka_unit_test(test_body_malformed_length),
		cmocka_unit_test(test_body_too_large),
		cmocka_unit_test(test_body_at_limit),
		cmocka_unit_test(test_body_short),
		cmocka_unit_test(test_body_exact),
		cmocka_unit_test(test_body_in_pieces),
		cmocka_unit_test(test_body_none),
		cmocka_unit_test(test_body_unsized),
		R(test_serialize_json),
		R(test_serialize_length_is_bytes),
		R(test_serialize_204),
		cmocka_unit_test(test_serialize_statuses),
		R(test_header_injection_refused),
		R(test_json_null_is_500),
		cmocka_unit_test(test_error_shape),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_error_server_side_hidden),
		R(test_error_empty_message),
		E(test_dispatch_healthz_ok),
		cmocka_unit_test_setup_teardown(test_dispatch_healthz_unavailable,
						env_setup_uninitialized,
						fake_env_teardown),
		E(test_dispatch_healthz_spool_gone),
		E(test_dispatch_whoami_no_key),
		E(test_dispatch_whoami_bad_key),
		E(test_dispatch_whoami_other_scheme),
		E(test_dispatch_whoami_ok),
		E(test_dispatch_revoked_key),
		E(test_dispatch_not_found),
		E(test_dispatch_method_not_allowed),
		E(test_dispatch_request_uri),
		E(test_dispatch_no_method),
		cmocka_unit_test_setup_teardown(test_dispatch_storage_error_hidden,
						env_setup_uninitialized,
						fake_env_teardown),
		cmocka_unit_test_setup_teardown(test_dispatch_remote_user_trusted,
						env_setup_trusting, fake_env_teardown),
		E(test_dispatch_remote_user_untrusted),
	};
#undef E
#undef R
	return cmocka_run_group_tests(tests, NULL, NULL);
}
