/*
 * slug.h - the ids in paths: lowercase letters and digits in runs joined
 * by single '-' (SPEC §3: integration webhook endpoints, space and stack ids).
 */
#ifndef STACKHOOK_SLUG_H
#define STACKHOOK_SLUG_H

#include <stddef.h>

#include "stackhook/err.h"

#define SH_SLUG_MAX 64

/*
 * Derives the slug of name into out: lowercase, every run of characters
 * other than a-z and 0-9 becomes one '-', trimmed at both ends.  Returns 0,
 * or -1 with err (SH_E_INVALID_FIELD on field) when nothing is left or the
 * slug would be longer than SH_SLUG_MAX.
 */
int sh_slug_from_name(const char *name, char out[SH_SLUG_MAX + 1],
		      const char *field, struct sh_err *err);

/* 0 when id is already a slug of at most SH_SLUG_MAX characters; else -1
 * with err (SH_E_INVALID_FIELD on field). */
int sh_slug_check(const char *id, const char *field, struct sh_err *err);

#endif
