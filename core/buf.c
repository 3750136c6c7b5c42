#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/buf.h"

void
sh_buf_init(struct sh_buf *buf, size_t limit)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	buf->limit = limit;
}

void
sh_buf_release(struct sh_buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

/* Makes room for extra more bytes plus the NUL. */
static int
reserve(struct sh_buf *buf, size_t extra)
{
	size_t need, cap;
	char *data;

	if (extra > (size_t)-1 - buf->len - 1) {
		errno = ENOMEM;
		return -1;
	}
	need = buf->len + extra + 1;
	if (buf->limit != 0 && need - 1 > buf->limit) {
		errno = EMSGSIZE;
		return -1;
	}
	if (need <= buf->cap)
		return 0;
	cap = buf->cap ? buf->cap : 64;
	while (cap < need)
		cap = cap > (size_t)-1 / 2 ? need : cap * 2;
	data = realloc(buf->data, cap);
	if (data == NULL)
		return -1;
	buf->data = data;
	buf->cap = cap;
	return 0;
}

int
sh_buf_append(struct sh_buf *buf, const void *data, size_t len)
{
	if (reserve(buf, len) < 0)
		return -1;
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return 0;
}

int
sh_buf_puts(struct sh_buf *buf, const char *s)
{
	return sh_buf_append(buf, s, strlen(s));
}

int
sh_buf_vprintf(struct sh_buf *buf, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || reserve(buf, (size_t)n) < 0)
		return -1;
	vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
	buf->len += (size_t)n;
	return 0;
}

int
sh_buf_printf(struct sh_buf *buf, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sh_buf_vprintf(buf, fmt, ap);
	va_end(ap);
	return rc;
}

const char *
sh_buf_str(const struct sh_buf *buf)
{
	return buf->data ? buf->data : "";
}

char *
sh_buf_detach(struct sh_buf *buf)
{
	char *data = buf->data;

	if (data == NULL)
		data = strdup("");
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
	return data;
}
