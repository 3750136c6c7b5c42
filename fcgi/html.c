#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "html.h"

void
sh_html_init(struct sh_html *h, struct sh_buf *buf)
{
	h->buf = buf;
	h->failed = false;
}

static void
put(struct sh_html *h, const char *s, size_t len)
{
	if (!h->failed && len > 0 && sh_buf_append(h->buf, s, len) < 0)
		h->failed = true;
}

void
sh_html_raw(struct sh_html *h, const char *markup)
{
	put(h, markup, strlen(markup));
}

void
sh_html_textn(struct sh_html *h, const char *text, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		const char *entity;

		switch (text[i]) {
		case '&': entity = "&amp;"; break;
		case '<': entity = "&lt;"; break;
		case '>': entity = "&gt;"; break;
		case '"': entity = "&quot;"; break;
		case '\'': entity = "&#39;"; break;
		default: continue;
		}
		put(h, text + start, i - start);
		sh_html_raw(h, entity);
		start = i + 1;
	}
	put(h, text + start, len - start);
}

void
sh_html_text(struct sh_html *h, const char *text)
{
	if (text != NULL)
		sh_html_textn(h, text, strlen(text));
}

/* Percent-encodes a URL component: unreserved characters and '/' stay.
 * The result has nothing HTML needs to escape. */
static void
url_component(struct sh_html *h, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s != NULL && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[3];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~/", c) != NULL) {
			put(h, s, 1);
			continue;
		}
		esc[0] = '%';
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		put(h, esc, 3);
	}
}

void
sh_html(struct sh_html *h, const char *fmt, ...)
{
	const char *p = fmt, *start = fmt;
	va_list ap;
	char num[24];

	va_start(ap, fmt);
	while (*p) {
		if (p[0] != '{') {
			p++;
			continue;
		}
		put(h, start, (size_t)(p - start));
		if (p[1] == '{') {
			put(h, "{", 1);
			p += 2;
		} else if (p[1] == '}') {
			sh_html_text(h, va_arg(ap, const char *));
			p += 2;
		} else if (p[1] == 'u' && p[2] == '}') {
			url_component(h, va_arg(ap, const char *));
			p += 3;
		} else if (p[1] == 'i' && p[2] == '}') {
			snprintf(num, sizeof(num), "%lld", va_arg(ap, long long));
			sh_html_raw(h, num);
			p += 3;
		} else {
			put(h, "{", 1); /* not a hole: literal */
			p++;
		}
		start = p;
	}
	put(h, start, (size_t)(p - start));
	va_end(ap);
}

void
sh_html_attr(struct sh_html *h, const char *name, const char *value)
{
	if (value == NULL)
		return;
	sh_html_raw(h, " ");
	sh_html_raw(h, name);
	sh_html_raw(h, "=\"");
	sh_html_text(h, value);
	sh_html_raw(h, "\"");
}

/* ---------------------------------------------------------------- */
/* Markdown, the small subset descriptions use */

static bool
link_target_allowed(const char *url, size_t len)
{
	static const char *const schemes[] = {"https://", "http://", "mailto:"};

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= ' ')
			return false;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);

		if (len > n && strncasecmp(url, schemes[i], n) == 0)
			return true;
	}
	return false;
}

/* The index of the closing delimiter delim (of dlen bytes) in s after from,
 * with something between; len when there is none. */
static size_t
closing(const char *s, size_t len, size_t from, const char *delim, size_t dlen)
{
	for (size_t j = from + 1; j + dlen <= len; j++)
		if (memcmp(s + j, delim, dlen) == 0)
			return j;
	return len;
}

static void
md_inline(struct sh_html *h, const char *s, size_t len)
{
	size_t i = 0, start = 0, j, k;

	while (i < len) {
		if (s[i] == '`' && (j = closing(s, len, i, "`", 1)) < len) {
			sh_html_textn(h, s + start, i - start);
			sh_html_raw(h, "<code>");
			sh_html_textn(h, s + i + 1, j - i - 1);
			sh_html_raw(h, "</code>");
			i = start = j + 1;
		} else if (s[i] == '*' && i + 1 < len && s[i + 1] == '*' &&
			   (j = closing(s, len, i + 1, "**", 2)) < len) {
			sh_html_textn(h, s + start, i - start);
			sh_html_raw(h, "<strong>");
			sh_html_textn(h, s + i + 2, j - i - 2);
			sh_html_raw(h, "</strong>");
			i = start = j + 2;
		} else if (s[i] == '*' && i + 1 < len && s[i + 1] != ' ' &&
			   s[i + 1] != '*' && (j = closing(s, len, i, "*", 1)) < len) {
			sh_html_textn(h, s + start, i - start);
			sh_html_raw(h, "<em>");
			sh_html_textn(h, s + i + 1, j - i - 1);
			sh_html_raw(h, "</em>");
			i = start = j + 1;
		} else if (s[i] == '[' && (j = closing(s, len, i, "](", 2)) < len &&
			   (k = closing(s, len, j + 1, ")", 1)) < len &&
			   link_target_allowed(s + j + 2, k - j - 2)) {
			sh_html_textn(h, s + start, i - start);
			sh_html_raw(h, "<a rel=\"nofollow noopener noreferrer\" href=\"");
			sh_html_textn(h, s + j + 2, k - j - 2);
			sh_html_raw(h, "\">");
			sh_html_textn(h, s + i + 1, j - i - 1);
			sh_html_raw(h, "</a>");
			i = start = k + 1;
		} else {
			i++;
		}
	}
	sh_html_textn(h, s + start, len - start);
}

enum md_block { MD_NONE, MD_PARA, MD_LIST, MD_CODE };

static void
md_close(struct sh_html *h, enum md_block block)
{
	static const char *const ends[] = {"", "</p>\n", "</ul>\n", "</code></pre>\n"};

	sh_html_raw(h, ends[block]);
}

void
sh_html_markdown(struct sh_html *h, const char *text)
{
	enum md_block block = MD_NONE;
	const char *p = text ? text : "";

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p), level = 0, blank;

		if (len > 0 && p[len - 1] == '\r')
			len--;
		blank = strspn(p, " \t") >= len;
		while (level < len && level < 4 && p[level] == '#')
			level++;
		if (block == MD_CODE) {
			if (len >= 3 && strncmp(p, "```", 3) == 0) {
				md_close(h, block);
				block = MD_NONE;
			} else {
				sh_html_textn(h, p, len);
				sh_html_raw(h, "\n");
			}
		} else if (len >= 3 && strncmp(p, "```", 3) == 0) {
			md_close(h, block);
			sh_html_raw(h, "<pre><code>");
			block = MD_CODE;
		} else if (blank) {
			md_close(h, block);
			block = MD_NONE;
		} else if (level >= 1 && level <= 3 && level < len && p[level] == ' ') {
			md_close(h, block);
			block = MD_NONE;
			sh_html(h, "<h{i}>", (long long)level + 2);
			md_inline(h, p + level + 1, len - level - 1);
			sh_html(h, "</h{i}>\n", (long long)level + 2);
		} else if (len >= 2 && (p[0] == '-' || p[0] == '*') && p[1] == ' ') {
			if (block != MD_LIST) {
				md_close(h, block);
				sh_html_raw(h, "<ul>\n");
				block = MD_LIST;
			}
			sh_html_raw(h, "<li>");
			md_inline(h, p + 2, len - 2);
			sh_html_raw(h, "</li>\n");
		} else {
			if (block == MD_PARA) {
				sh_html_raw(h, "<br>\n");
			} else {
				md_close(h, block);
				sh_html_raw(h, "<p>");
				block = MD_PARA;
			}
			md_inline(h, p, len);
		}
		p = eol ? eol + 1 : p + strlen(p);
	}
	md_close(h, block);
}

/* ---------------------------------------------------------------- */
/* the frame */

void
sh_html_page_begin(struct sh_html *h, const struct sh_html_layout *l)
{
	const char *nav = l->nav ? l->nav : "";

	sh_html(h,
		"<!doctype html>\n<html lang=\"en\">\n<head>\n"
		"<meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<title>{} \xc2\xb7 stackhook</title>\n"
		"<link rel=\"stylesheet\" href=\"{u}/ui/style.css\">\n"
		"<script src=\"{u}/ui/copy.js\" defer></script>\n"
		"</head>\n<body>\n"
		"<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
		"<header class=\"top\">\n"
		"<a class=\"brand\" href=\"{u}/ui/\">stackhook</a>\n",
		l->title, l->base, l->base, l->base);
	if (l->user != NULL) {
		sh_html(h, "<nav aria-label=\"Sections\">\n<a href=\"{u}/ui/\"",
			l->base);
		if (strcmp(nav, "integrations") == 0)
			sh_html_raw(h, " aria-current=\"page\"");
		sh_html(h, ">Source code</a>\n<a href=\"{u}/ui/stacks\"", l->base);
		if (strcmp(nav, "stacks") == 0)
			sh_html_raw(h, " aria-current=\"page\"");
		sh_html(h,
			">Stacks</a>\n</nav>\n"
			"<div class=\"who\"><span>Signed in as <strong>{}</strong></span>\n",
			l->user);
		if (l->csrf != NULL)
			sh_html(h,
				"<form method=\"post\" action=\"{u}/ui/sign-out\">"
				"<input type=\"hidden\" name=\"csrf\" value=\"{}\">"
				"<button type=\"submit\" class=\"link\">Sign out</button>"
				"</form>\n",
				l->base, l->csrf);
		sh_html_raw(h, "</div>\n");
	}
	sh_html_raw(h, "</header>\n<main id=\"main\">\n");
}

void
sh_html_page_end(struct sh_html *h)
{
	sh_html_raw(h, "</main>\n</body>\n</html>\n");
}
