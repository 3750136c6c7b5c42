/*
 * page.h - lists as the API answers them (SPEC §4.2): newest first,
 * {"items": [...], "next": cursor or null}, limit default 50, max 500.
 * A cursor is the sequence number of the last item shown.
 */
#ifndef STACKHOOK_PAGE_H
#define STACKHOOK_PAGE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "stackhook/db.h"
#include "stackhook/err.h"

/* A page of a list: newest first, after a cursor (SPEC §4.2). */
#define SH_PAGE_DEFAULT 50
#define SH_PAGE_MAX 500

struct sh_page {
	int limit;        /* 1..SH_PAGE_MAX */
	long long after;  /* the cursor: only items older than this; 0 = none */
};

/* Parses `limit` and `after` query values (NULL when absent).  Returns 0 or
 * -1 with err (SH_E_INVALID_FIELD naming the parameter). */
int sh_page_parse(const char *limit, const char *after, struct sh_page *page,
		  struct sh_err *err);

/* Wraps items (taken) as {"items": items, "next": cursor or null}.  next is
 * the cursor of the last item when more may follow, else 0. */
cJSON *sh_page_result(cJSON *items, long long next);

/* Whether a row is shown to the caller, and how it renders. */
typedef bool (*sh_page_visible)(struct sh_stmt *st, void *arg);
typedef cJSON *(*sh_page_render)(struct sh_stmt *st, void *arg);

/*
 * Steps st (rows newest first, bound by the caller) and builds the page:
 * visible rows rendered until limit, and the cursor (column seq_col) of
 * the last one when more visible rows follow.  Releases st.  Returns 0
 * with *out, or -1 (err set).
 */
int sh_page_collect(struct sh_stmt *st, const struct sh_page *page, int seq_col,
		    sh_page_visible visible, sh_page_render render, void *arg,
		    cJSON **out, struct sh_err *err);

#endif
