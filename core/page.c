#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "stackhook/page.h"

int
sh_page_parse(const char *limit, const char *after, struct sh_page *page,
	      struct sh_err *err)
{
	char *end;
	long long n;

	page->limit = SH_PAGE_DEFAULT;
	page->after = 0;
	if (limit != NULL) {
		errno = 0;
		n = strtoll(limit, &end, 10);
		if (errno != 0 || limit[0] < '0' || limit[0] > '9' || *end != '\0' || n < 1 ||
		    n > SH_PAGE_MAX)
			return sh_err_set(err, SH_E_INVALID_FIELD, "limit",
					  "limit must be a number from 1 to %d",
					  SH_PAGE_MAX);
		page->limit = (int)n;
	}
	if (after != NULL) {
		errno = 0;
		n = strtoll(after, &end, 10);
		if (errno != 0 || after[0] < '0' || after[0] > '9' || *end != '\0' || n < 1)
			return sh_err_set(err, SH_E_INVALID_FIELD, "after",
					  "after must be a cursor from a previous "
					  "page's next");
		page->after = n;
	}
	return 0;
}

cJSON *
sh_page_result(cJSON *items, long long next)
{
	cJSON *root = cJSON_CreateObject();
	char cursor[32];

	cJSON_AddItemToObject(root, "items", items);
	if (next > 0) {
		snprintf(cursor, sizeof(cursor), "%lld", next);
		cJSON_AddStringToObject(root, "next", cursor);
	} else {
		cJSON_AddNullToObject(root, "next");
	}
	return root;
}

int
sh_page_collect(struct sh_stmt *st, const struct sh_page *page, int seq_col,
		sh_page_visible visible, sh_page_render render, void *arg,
		cJSON **out, struct sh_err *err)
{
	cJSON *items = cJSON_CreateArray();
	long long last = 0, next = 0;
	int n = 0, rc;

	*out = NULL;
	while ((rc = sh_stmt_step(st, err)) == 1) {
		if (!visible(st, arg))
			continue;
		if (n == page->limit) {
			next = last;
			break;
		}
		cJSON_AddItemToArray(items, render(st, arg));
		last = sh_stmt_int(st, seq_col);
		n++;
	}
	sh_stmt_release(st);
	if (rc < 0) {
		cJSON_Delete(items);
		return -1;
	}
	*out = sh_page_result(items, next);
	return 0;
}
