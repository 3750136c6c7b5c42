/*
 * form.h - HTML form posts (application/x-www-form-urlencoded), bounded.
 *
 * A form holds at most SH_FORM_MAX_FIELDS fields of valid UTF-8 (decoded
 * with http.h's sh_http_decode_component()).  Values may be secrets (API
 * keys, tokens): sh_form_release() wipes them.
 */
#ifndef STACKHOOK_FCGI_FORM_H
#define STACKHOOK_FCGI_FORM_H

#include <stddef.h>

#include "stackhook/err.h"

#define SH_FORM_MAX_FIELDS 32
#define SH_FORM_MAX_BYTES (64 * 1024) /* most bytes of a form body */

struct sh_form {
	size_t count;
	char *names[SH_FORM_MAX_FIELDS];  /* owned */
	char *values[SH_FORM_MAX_FIELDS]; /* owned */
};

/*
 * Parses the len bytes of body ("a=1&b=two+words") into form, which the
 * caller releases with sh_form_release() whatever the result.  Returns 0,
 * or -1 with err: SH_E_PAYLOAD_TOO_LARGE past SH_FORM_MAX_BYTES,
 * SH_E_BAD_REQUEST for more than SH_FORM_MAX_FIELDS fields, a bad
 * %-escape, a NUL or text that is not UTF-8 (the field is named).
 */
int sh_form_parse(const char *body, size_t len, struct sh_form *form,
		  struct sh_err *err);

/* The value of the first field called name, or NULL; valid until
 * sh_form_release(). */
const char *sh_form_get(const struct sh_form *form, const char *name);

/* Wipes and frees the names and values; form is empty afterwards. */
void sh_form_release(struct sh_form *form);

#endif
