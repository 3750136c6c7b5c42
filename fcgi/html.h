/*
 * html.h - a tiny HTML writer for the web pages (SPEC §4.4).
 *
 * Markup is written from string literals; every value goes through
 * escaping (& < > " ' always), so a value can never become markup.  The
 * template function sh_html() takes a literal format whose {} holes each
 * take the next argument, escaped.  Writing is sticky-failing: once an
 * append fails (out of memory, or past the buffer's limit) nothing more is
 * written and h->failed stays true, so a caller checks once at the end.
 */
#ifndef STACKHOOK_FCGI_HTML_H
#define STACKHOOK_FCGI_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "stackhook/buf.h"

struct sh_html {
	struct sh_buf *buf; /* borrowed: the response body */
	bool failed;        /* an append failed: the page is incomplete */
};

/* Writes into buf (borrowed; it must outlive h). */
void sh_html_init(struct sh_html *h, struct sh_buf *buf);

/* Appends trusted markup as it is: only ever a string literal. */
void sh_html_raw(struct sh_html *h, const char *markup);

/* Appends text with & < > " ' escaped (NULL appends nothing). */
void sh_html_text(struct sh_html *h, const char *text);
void sh_html_textn(struct sh_html *h, const char *text, size_t len);

/*
 * Appends fmt (trusted markup, a string literal) with its holes filled:
 *   {}   the next argument, a const char * (NULL: nothing), escaped;
 *   {u}  the next argument, a const char *, percent-encoded as a URL path
 *        or query component (unreserved characters and '/' stay), then
 *        escaped -- for ids in href and action attributes;
 *   {i}  the next argument, a long long, in decimal.
 * "{{" writes a literal '{'.
 */
void sh_html(struct sh_html *h, const char *fmt, ...);

/* Appends ` name="value"` with value escaped (nothing when value is
 * NULL). */
void sh_html_attr(struct sh_html *h, const char *name, const char *value);

/*
 * Renders a small, safe subset of Markdown as HTML: paragraphs, "# "
 * headings (as h3-h5), "- " or "* " lists, ``` fenced code, `code`,
 * **strong**, *emphasis* and [links](https://...) -- only http, https and
 * mailto targets become links.  Everything else is text, escaped.
 */
void sh_html_markdown(struct sh_html *h, const char *text);

/* The frame of every page. */
struct sh_html_layout {
	const char *title;
	const char *base; /* where the routes are mounted: "" or "/stackhook" */
	const char *user; /* the signed-in person, or NULL (sign-in page) */
	const char *csrf; /* with a session: the sign-out form's token */
	const char *nav;  /* the current section: "integrations", "stacks" */
};

/* Doctype, head (stylesheet, script), header with navigation and the
 * signed-in person, and the opening of <main>. */
void sh_html_page_begin(struct sh_html *h, const struct sh_html_layout *l);

/* Closes <main> and the document. */
void sh_html_page_end(struct sh_html *h);

#endif
