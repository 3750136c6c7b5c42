#include "config.h"

#include <string.h>

#include "stackhook/slug.h"

static int
is_slug_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int
sh_slug_from_name(const char *name, char out[SH_SLUG_MAX + 1],
		  const char *field, struct sh_err *err)
{
	size_t n = 0;
	int pending_dash = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		int c = (*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p;

		if (!is_slug_char(c)) {
			pending_dash = n > 0;
			continue;
		}
		if (n + (size_t)pending_dash + 1 > SH_SLUG_MAX)
			return sh_err_set(err, SH_E_INVALID_FIELD, field,
					  "%s makes an id longer than %d characters",
					  field, SH_SLUG_MAX);
		if (pending_dash)
			out[n++] = '-';
		pending_dash = 0;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	if (n == 0)
		return sh_err_set(err, SH_E_INVALID_FIELD, field,
				  "%s needs at least one letter or digit (a-z, 0-9)",
				  field);
	return 0;
}

int
sh_slug_check(const char *id, const char *field, struct sh_err *err)
{
	size_t len = strlen(id);

	if (len == 0 || len > SH_SLUG_MAX || id[0] == '-' || id[len - 1] == '-' ||
	    strstr(id, "--") != NULL)
		goto bad;
	for (const char *p = id; *p; p++)
		if (!is_slug_char((unsigned char)*p) && *p != '-')
			goto bad;
	return 0;
bad:
	return sh_err_set(err, SH_E_INVALID_FIELD, field,
			  "%s must be 1 to %d lowercase letters and digits, in "
			  "runs joined by single '-'", field, SH_SLUG_MAX);
}
