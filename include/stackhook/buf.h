/*
 * buf.h - a growable byte buffer, always NUL-terminated.
 *
 * The buffer owns data; sh_buf_release() frees it and sh_buf_detach() hands
 * it to the caller.  Appending fails (returns -1, contents unchanged) when
 * memory runs out or when the buffer would pass its limit, so nothing is
 * ever cut silently.
 */
#ifndef STACKHOOK_BUF_H
#define STACKHOOK_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct sh_buf {
	char *data;   /* NULL until the first append; then NUL-terminated */
	size_t len;   /* bytes used, not counting the NUL */
	size_t cap;   /* bytes allocated */
	size_t limit; /* most bytes it may hold; 0 = no limit */
};

#define SH_BUF_INIT {NULL, 0, 0, 0}

/* Empties buf and sets its limit (0 = none). */
void sh_buf_init(struct sh_buf *buf, size_t limit);

/* Frees the data; buf is empty afterwards and may be reused. */
void sh_buf_release(struct sh_buf *buf);

/* Appends len bytes.  Returns 0, or -1 on ENOMEM or when over the limit. */
int sh_buf_append(struct sh_buf *buf, const void *data, size_t len);

/* Appends a C string. */
int sh_buf_puts(struct sh_buf *buf, const char *s);

/* Appends formatted text. */
int sh_buf_printf(struct sh_buf *buf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int sh_buf_vprintf(struct sh_buf *buf, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Returns the data ("" when empty), never NULL; valid until the next change. */
const char *sh_buf_str(const struct sh_buf *buf);

/*
 * Hands the data to the caller, who frees it with free(); buf is empty
 * afterwards.  Returns NULL only when memory runs out.
 */
char *sh_buf_detach(struct sh_buf *buf);

#endif
