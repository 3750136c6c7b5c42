#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "stackhook/buf.h"
#include "stackhook/gitlab.h"

#define HOSTS_MAX 32

struct host {
	char *base_url;
	CURL *curl;
};

struct sh_gitlab {
	struct host hosts[HOSTS_MAX];
	size_t count;
};

struct sh_gitlab *
sh_gitlab_new(void)
{
	return calloc(1, sizeof(struct sh_gitlab));
}

void
sh_gitlab_free(struct sh_gitlab *gl)
{
	if (gl == NULL)
		return;
	for (size_t i = 0; i < gl->count; i++) {
		curl_easy_cleanup(gl->hosts[i].curl);
		free(gl->hosts[i].base_url);
	}
	free(gl);
}

/* The handle for base_url: reused, so its connection stays open. */
static CURL *
handle_for(struct sh_gitlab *gl, const char *base_url)
{
	struct host *h;

	for (size_t i = 0; i < gl->count; i++)
		if (strcmp(gl->hosts[i].base_url, base_url) == 0)
			return gl->hosts[i].curl;
	if (gl->count == HOSTS_MAX) {
		/* Many hosts: drop the oldest connection rather than fail. */
		curl_easy_cleanup(gl->hosts[0].curl);
		free(gl->hosts[0].base_url);
		memmove(&gl->hosts[0], &gl->hosts[1], (HOSTS_MAX - 1) * sizeof(*h));
		gl->count--;
	}
	h = &gl->hosts[gl->count];
	h->base_url = strdup(base_url);
	h->curl = curl_easy_init();
	if (h->base_url == NULL || h->curl == NULL) {
		free(h->base_url);
		if (h->curl != NULL)
			curl_easy_cleanup(h->curl);
		return NULL;
	}
	gl->count++;
	return h->curl;
}

static size_t
on_data(char *data, size_t size, size_t n, void *userdata)
{
	struct sh_buf *buf = userdata;

	/* Returning less than given makes libcurl stop with a write error. */
	if (sh_buf_append(buf, data, size * n) < 0)
		return 0;
	return size * n;
}

void
sh_gitlab_answer_release(struct sh_gitlab_answer *answer)
{
	free(answer->body);
	answer->body = NULL;
	answer->len = 0;
}

int
sh_gitlab_call(struct sh_gitlab *gl, const struct sh_gitlab_target *target,
	       const char *method, const char *path, const char *json,
	       struct sh_gitlab_answer *answer, struct sh_err *err)
{
	struct curl_slist *headers = NULL, *grown;
	struct sh_buf url = SH_BUF_INIT, token = SH_BUF_INIT;
	struct sh_buf body = SH_BUF_INIT;
	CURL *curl;
	CURLcode rc;
	curl_off_t retry = 0;
	int result = -1;

	memset(answer, 0, sizeof(*answer));
	sh_buf_init(&body, SH_GITLAB_ANSWER_MAX);
	curl = handle_for(gl, target->base_url);
	if (curl == NULL || sh_buf_printf(&url, "%s/api/v4%s", target->base_url, path) < 0) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		goto out;
	}
	headers = curl_slist_append(NULL, "Accept: application/json");
	if (json != NULL && headers != NULL) {
		grown = curl_slist_append(headers, "Content-Type: application/json");
		headers = grown ? grown : headers;
	}
	if (target->token != NULL && headers != NULL) {
		if (sh_buf_printf(&token, "PRIVATE-TOKEN: %s", target->token) < 0 ||
		    (grown = curl_slist_append(headers, token.data)) == NULL) {
			sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
			goto out;
		}
		headers = grown;
	}
	if (headers == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		goto out;
	}
	/* reset keeps the connection cache: the next call reuses it. */
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url.data);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	if (json != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json));
	}
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)SH_GITLAB_CONNECT_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)SH_GITLAB_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (target->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, target->ca_file);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "stackhook/" PACKAGE_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_WRITE_ERROR && body.len + CURL_MAX_WRITE_SIZE > SH_GITLAB_ANSWER_MAX) {
		answer->transport = SH_GITLAB_TOO_LARGE;
		snprintf(answer->error, sizeof(answer->error),
			 "the answer is larger than %u bytes", SH_GITLAB_ANSWER_MAX);
	} else if (rc != CURLE_OK) {
		answer->transport = SH_GITLAB_UNREACHABLE;
		snprintf(answer->error, sizeof(answer->error), "%s", curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer->status);
		/* Negative on libcurl < 8.12 when absent: clamp. */
		if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK &&
		    retry > 0)
			answer->retry_after = retry > 86400 ? 86400 : (long)retry;
	}
	answer->len = body.len;
	answer->body = sh_buf_detach(&body);
	if (answer->body == NULL) {
		sh_err_set(err, SH_E_INTERNAL, NULL, "out of memory");
		goto out;
	}
	result = 0;
out:
	/* The header list and its source hold the token: wipe both. */
	if (token.data != NULL)
		memset(token.data, 0, token.len);
	for (struct curl_slist *h = headers; h != NULL; h = h->next)
		memset(h->data, 0, strlen(h->data));
	if (curl != NULL)
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	sh_buf_release(&token);
	sh_buf_release(&url);
	sh_buf_release(&body);
	return result;
}
