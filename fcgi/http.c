#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "stackhook/json.h"
#include "stackhook/log.h"

const char *
sh_http_param(const struct sh_http_request *req, const char *name)
{
	return req->param(req->ctx, name);
}

static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decodes len bytes of src into a new string; NULL for a bad
 * escape or an encoded NUL. */
static char *
percent_decode(const char *src, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	int hi, lo;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (src[i] != '%') {
			*o++ = src[i];
			continue;
		}
		hi = i + 2 < len ? hex_value((unsigned char)src[i + 1]) : -1;
		lo = hi < 0 ? -1 : hex_value((unsigned char)src[i + 2]);
		if (lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

int
sh_http_parse_target(struct sh_http_request *req, const char *mount_path,
		     struct sh_err *err)
{
	const char *path_info = sh_http_param(req, "PATH_INFO");
	const char *uri, *end;
	size_t mlen = strlen(mount_path);
	char *route;

	req->method = sh_http_param(req, "REQUEST_METHOD");
	req->query = sh_http_param(req, "QUERY_STRING");
	req->remote_addr = sh_http_param(req, "REMOTE_ADDR");
	if (req->query == NULL)
		req->query = "";
	if (req->method == NULL || req->method[0] == '\0')
		return sh_err_set(err, SH_E_BAD_REQUEST, NULL,
				  "the request has no method");

	if (path_info != NULL && path_info[0] != '\0') {
		/* The server decoded it already; decoding again would let
		 * "%252e" become ".". */
		route = strdup(path_info);
	} else {
		uri = sh_http_param(req, "REQUEST_URI");
		if (uri == NULL)
			uri = "/";
		end = strchr(uri, '?');
		route = percent_decode(uri, end ? (size_t)(end - uri) : strlen(uri));
		if (route == NULL)
			return sh_err_set(err, SH_E_BAD_REQUEST, NULL,
					  "the request path has a bad %%-escape");
		if (mlen > 0 && strncmp(route, mount_path, mlen) == 0 &&
		    (route[mlen] == '/' || route[mlen] == '\0'))
			memmove(route, route + mlen, strlen(route + mlen) + 1);
	}
	if (route == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	if (route[0] == '\0') {
		free(route);
		route = strdup("/");
		if (route == NULL)
			return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	}
	req->route = route;
	return 0;
}

/* A body without CONTENT_LENGTH (Apache's mod_proxy_fcgi streams a large
 * chunked request that way): read to its end, but never past max_body. */
static int
read_unsized_body(struct sh_http_request *req, size_t max_body, struct sh_err *err)
{
	size_t cap = 0, done = 0;
	char *grown;

	for (;;) {
		ssize_t n;

		if (cap - done < 2) {
			cap = cap ? cap * 2 : 16384;
			if (cap > max_body + 2)
				cap = max_body + 2;
			grown = realloc(req->body, cap);
			if (grown == NULL)
				return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			req->body = grown;
		}
		/* One byte past the limit is enough to know it is over. */
		n = req->read(req->ctx, req->body + done, cap - 1 - done);
		if (n <= 0)
			break;
		done += (size_t)n;
		if (done > max_body)
			return sh_err_set(err, SH_E_PAYLOAD_TOO_LARGE, NULL,
					  "the body is larger than the limit of "
					  "%zu bytes (max_body)", max_body);
	}
	if (req->body == NULL && (req->body = malloc(1)) == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	req->body[done] = '\0';
	req->body_len = done;
	return 0;
}

int
sh_http_read_body(struct sh_http_request *req, size_t max_body,
		  struct sh_err *err)
{
	const char *cl = sh_http_param(req, "CONTENT_LENGTH");
	unsigned long long len = 0;
	size_t done = 0;
	char *end;

	if (req->body != NULL)
		return 0;
	if (cl == NULL || cl[0] == '\0')
		return read_unsized_body(req, max_body, err);
	for (const char *p = cl; *p; p++)
		if (!isdigit((unsigned char)*p))
			return sh_err_set(err, SH_E_BAD_REQUEST, NULL,
					  "Content-Length is not a number");
	errno = 0;
	len = strtoull(cl, &end, 10);
	if (errno == ERANGE || len > max_body)
		return sh_err_set(err, SH_E_PAYLOAD_TOO_LARGE, NULL,
				  "the body is larger than the limit of "
				  "%zu bytes (max_body)", max_body);
	req->body = malloc((size_t)len + 1);
	if (req->body == NULL)
		return sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
	while (done < len) {
		ssize_t n = req->read(req->ctx, req->body + done, (size_t)len - done);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	req->body[done] = '\0';
	req->body_len = done;
	if (done < len)
		return sh_err_set(err, SH_E_BAD_REQUEST, NULL,
				  "the body is shorter than its Content-Length "
				  "(%zu of %llu bytes)", done, len);
	return 0;
}

char *
sh_http_decode_component(const char *src, size_t len)
{
	char *raw = strndup(src, len), *value;

	if (raw == NULL)
		return NULL;
	/* '+' is a space; "%2B" is a plus: swap before decoding. */
	for (char *c = raw; *c; c++)
		if (*c == '+')
			*c = ' ';
	value = percent_decode(raw, strlen(raw));
	free(raw);
	return value;
}

int
sh_http_query(const struct sh_http_request *req, const char *name, char *out,
	      size_t size)
{
	size_t name_len = strlen(name);
	const char *p = req->query;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *value;

		if (len > name_len && strncmp(p, name, name_len) == 0 &&
		    p[name_len] == '=') {
			value = sh_http_decode_component(p + name_len + 1,
							 len - name_len - 1);
			if (value == NULL)
				return -1;
			if (strlen(value) >= size) {
				free(value);
				return -1;
			}
			memcpy(out, value, strlen(value) + 1);
			free(value);
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

void
sh_http_request_release(struct sh_http_request *req)
{
	free(req->route);
	free(req->body);
	req->route = NULL;
	req->body = NULL;
	req->body_len = 0;
}

void
sh_http_response_init(struct sh_http_response *resp)
{
	resp->status = 200;
	resp->content_type = NULL;
	sh_buf_init(&resp->headers, 0);
	sh_buf_init(&resp->body, 0);
}

void
sh_http_response_release(struct sh_http_response *resp)
{
	sh_buf_release(&resp->headers);
	sh_buf_release(&resp->body);
}

void
sh_http_header(struct sh_http_response *resp, const char *name,
	       const char *value)
{
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL) {
		sh_log(LOG_ERR, "http: refused a header holding a line break");
		return;
	}
	sh_buf_printf(&resp->headers, "%s: %s\r\n", name, value);
}

int
sh_http_json(struct sh_http_response *resp, int status, cJSON *json)
{
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;

	cJSON_Delete(json);
	sh_buf_release(&resp->body);
	resp->content_type = "application/json";
	if (text == NULL || sh_buf_puts(&resp->body, text) < 0 ||
	    sh_buf_puts(&resp->body, "\n") < 0) {
		free(text);
		sh_buf_release(&resp->body);
		resp->status = 500;
		resp->content_type = "text/plain";
		sh_buf_puts(&resp->body, "out of memory\n");
		return -1;
	}
	free(text);
	resp->status = status;
	return 0;
}

const char *
sh_http_public_message(const struct sh_err *err)
{
	switch (err->code) {
	case SH_E_STORAGE:
		sh_log(LOG_ERR, "storage: %s", err->msg);
		return "the database or the spool cannot take the request right "
		       "now; the server log has the details";
	case SH_E_INTERNAL:
	case SH_E_CONFIG:
	case SH_E_IO:
		sh_log(LOG_ERR, "internal: %s", err->msg);
		return "stackhook failed unexpectedly; the server log has the "
		       "details";
	default:
		return err->msg[0] ? err->msg : "the request cannot be served";
	}
}

/* A copy of text with every byte that is not part of valid UTF-8 (from a
 * path or body quoted in a message) replaced by '?': answers are UTF-8. */
static void
clean_utf8(const char *text, char *out, size_t size)
{
	size_t n = 0, len = strlen(text);

	for (size_t i = 0; i < len && n + 1 < size;) {
		size_t seq = 1;

		while (seq <= 4 && i + seq <= len && !sh_json_utf8_valid(text + i, seq))
			seq++;
		if (seq > 4 || i + seq > len || n + seq >= size) {
			out[n++] = '?';
			i++;
			continue;
		}
		memcpy(out + n, text + i, seq);
		n += seq;
		i += seq;
	}
	out[n] = '\0';
}

void
sh_http_error(struct sh_http_response *resp, const struct sh_err *err)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *error = cJSON_AddObjectToObject(root, "error");
	char message[SH_ERR_MSG_MAX], field[SH_ERR_FIELD_MAX];

	clean_utf8(sh_http_public_message(err), message, sizeof(message));
	clean_utf8(err->field, field, sizeof(field));
	cJSON_AddStringToObject(error, "code", sh_err_code_name(err->code));
	cJSON_AddStringToObject(error, "message", message);
	if (field[0] != '\0')
		cJSON_AddStringToObject(error, "field", field);
	sh_http_json(resp, sh_err_http_status(err->code), root);
}

void
sh_http_errorf(struct sh_http_response *resp, enum sh_errcode code,
	       const char *field, const char *fmt, ...)
{
	struct sh_err err;
	char msg[SH_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sh_err_set(&err, code, field, "%s", msg);
	sh_http_error(resp, &err);
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

int
sh_http_serialize(const struct sh_http_response *resp, struct sh_buf *out)
{
	int rc = sh_buf_printf(out, "Status: %d %s\r\n", resp->status,
			       reason_phrase(resp->status));

	if (resp->status != 204 && resp->content_type != NULL)
		rc |= sh_buf_printf(out, "Content-Type: %s\r\n", resp->content_type);
	if (resp->status != 204)
		rc |= sh_buf_printf(out, "Content-Length: %zu\r\n", resp->body.len);
	rc |= sh_buf_append(out, sh_buf_str(&resp->headers), resp->headers.len);
	rc |= sh_buf_puts(out, "\r\n");
	if (resp->status != 204)
		rc |= sh_buf_append(out, sh_buf_str(&resp->body), resp->body.len);
	return rc < 0 ? -1 : 0;
}
