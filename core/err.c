#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stackhook/err.h"

void
sh_err_clear(struct sh_err *err)
{
	if (err == NULL)
		return;
	err->code = SH_OK;
	err->field[0] = '\0';
	err->msg[0] = '\0';
}

/* Writes a formatted message into dst, marking a cut with "..." */
static void __attribute__((format(printf, 3, 0)))
format_into(char *dst, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(dst, size, fmt, ap);

	if (n < 0)
		snprintf(dst, size, "(unprintable message)");
	else if ((size_t)n >= size && size > 4)
		memcpy(dst + size - 4, "...", 4);
}

static void
set_field(struct sh_err *err, const char *field)
{
	size_t len;

	err->field[0] = '\0';
	if (field == NULL)
		return;
	len = strlen(field);
	if (len >= sizeof(err->field))
		len = sizeof(err->field) - 1;
	memcpy(err->field, field, len);
	err->field[len] = '\0';
}

int
sh_err_set(struct sh_err *err, enum sh_errcode code, const char *field,
	   const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	set_field(err, field);
	va_start(ap, fmt);
	format_into(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
sh_err_errno(struct sh_err *err, enum sh_errcode code, int errnum,
	     const char *fmt, ...)
{
	char head[SH_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	format_into(head, sizeof(head), fmt, ap);
	va_end(ap);
	return sh_err_set(err, code, NULL, "%s: %s", head, strerror(errnum));
}

int
sh_err_prefix(struct sh_err *err, const char *fmt, ...)
{
	char head[SH_ERR_MSG_MAX];
	char old[SH_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	format_into(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", head, old) >=
	    (int)sizeof(err->msg))
		memcpy(err->msg + sizeof(err->msg) - 4, "...", 4);
	return -1;
}

static const struct {
	const char *name;
	int status;
} codes[] = {
	[SH_OK] = {"ok", 200},
	[SH_E_INTERNAL] = {"internal_error", 500},
	[SH_E_CONFIG] = {"config_error", 500},
	[SH_E_STORAGE] = {"storage_unavailable", 503},
	[SH_E_UNAUTHORIZED] = {"unauthorized", 401},
	[SH_E_FORBIDDEN] = {"forbidden", 403},
	[SH_E_NOT_FOUND] = {"not_found", 404},
	[SH_E_METHOD_NOT_ALLOWED] = {"method_not_allowed", 405},
	[SH_E_PAYLOAD_TOO_LARGE] = {"payload_too_large", 413},
	[SH_E_INVALID_JSON] = {"invalid_json", 400},
	[SH_E_INVALID_FIELD] = {"invalid_field", 400},
	[SH_E_MISSING_FIELD] = {"missing_field", 400},
	[SH_E_UNKNOWN_FIELD] = {"unknown_field", 400},
	[SH_E_NAME_IMMUTABLE] = {"name_immutable", 400},
	[SH_E_BAD_REQUEST] = {"bad_request", 400},
	[SH_E_CONFLICT] = {"conflict", 409},
	[SH_E_INTEGRATION_NOT_USABLE] = {"integration_not_usable", 422},
	[SH_E_STACK_DETACHED] = {"stack_detached", 409},
	[SH_E_INVALID_TRANSITION] = {"invalid_transition", 409},
	[SH_E_USAGE] = {"usage", 400},
	[SH_E_IO] = {"io_error", 500},
};

const char *
sh_err_code_name(enum sh_errcode code)
{
	if ((size_t)code >= sizeof(codes) / sizeof(codes[0]) ||
	    codes[code].name == NULL)
		return "internal_error";
	return codes[code].name;
}

int
sh_err_http_status(enum sh_errcode code)
{
	if ((size_t)code >= sizeof(codes) / sizeof(codes[0]) ||
	    codes[code].name == NULL)
		return 500;
	return codes[code].status;
}
