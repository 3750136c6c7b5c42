#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "http.h"
#include "stackhook/crypto.h"
#include "stackhook/json.h"

void
sh_form_release(struct sh_form *form)
{
	for (size_t i = 0; i < form->count; i++) {
		if (form->values[i] != NULL)
			sh_crypto_wipe(form->values[i], strlen(form->values[i]));
		free(form->names[i]);
		free(form->values[i]);
		form->names[i] = form->values[i] = NULL;
	}
	form->count = 0;
}

/* One "name=value" pair (value may be missing: an empty value). */
static int
add_pair(struct sh_form *form, const char *pair, size_t len, struct sh_err *err)
{
	const char *eq = memchr(pair, '=', len);
	size_t name_len = eq ? (size_t)(eq - pair) : len;
	char *name, *value;
	bool name_ok;

	if (form->count == SH_FORM_MAX_FIELDS)
		return sh_err_set(err, SH_E_BAD_REQUEST, NULL,
				  "the form has more than %d fields", SH_FORM_MAX_FIELDS);
	name = sh_http_decode_component(pair, name_len);
	value = eq ? sh_http_decode_component(eq + 1, len - name_len - 1) :
		     sh_http_decode_component("", 0);
	name_ok = name != NULL && sh_json_utf8_valid(name, strlen(name));
	if (!name_ok || value == NULL || !sh_json_utf8_valid(value, strlen(value))) {
		sh_err_set(err, SH_E_BAD_REQUEST, name_ok ? name : NULL,
			   "a form field is not valid UTF-8 text or has a bad "
			   "%%-escape");
		if (value != NULL)
			sh_crypto_wipe(value, strlen(value));
		free(value);
		free(name);
		return -1;
	}
	form->names[form->count] = name;
	form->values[form->count++] = value;
	return 0;
}

int
sh_form_parse(const char *body, size_t len, struct sh_form *form,
	      struct sh_err *err)
{
	const char *p = body, *end = body + len;

	form->count = 0;
	if (len > SH_FORM_MAX_BYTES)
		return sh_err_set(err, SH_E_PAYLOAD_TOO_LARGE, NULL,
				  "the form is larger than %d bytes",
				  SH_FORM_MAX_BYTES);
	if (memchr(body, '\0', len) != NULL)
		return sh_err_set(err, SH_E_BAD_REQUEST, NULL,
				  "the form holds a NUL byte");
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);

		if (n > 0 && add_pair(form, p, n, err) < 0)
			return -1;
		if (amp == NULL)
			break;
		p = amp + 1;
	}
	return 0;
}

const char *
sh_form_get(const struct sh_form *form, const char *name)
{
	for (size_t i = 0; i < form->count; i++)
		if (strcmp(form->names[i], name) == 0)
			return form->values[i];
	return NULL;
}
