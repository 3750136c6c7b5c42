/*
 * json.h - request bodies: parsing with limits, and field checks that name
 * the field at fault (SPEC §4.2, §7).
 */
#ifndef STACKHOOK_JSON_H
#define STACKHOOK_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "stackhook/err.h"
#include "stackhook/page.h"

#define SH_JSON_MAX_DEPTH 32

/*
 * Parses len bytes as one JSON object.  Refuses invalid UTF-8, nesting
 * deeper than SH_JSON_MAX_DEPTH, trailing data and anything that is not an
 * object (SH_E_INVALID_JSON).  *out is freed with cJSON_Delete().
 */
int sh_json_parse_object(const char *text, size_t len, cJSON **out,
			 struct sh_err *err);

/* true when the len bytes at s are well-formed UTF-8 without NUL. */
bool sh_json_utf8_valid(const char *s, size_t len);

enum sh_json_kind {
	SH_JSON_STRING,  /* one line of printable text */
	SH_JSON_TEXT,    /* text that may hold line breaks and tabs */
	SH_JSON_BOOL,
	SH_JSON_STRINGS, /* array of one-line strings (a set: duplicates go) */
	SH_JSON_OBJECT,
	SH_JSON_INT,
};

enum {
	SH_JSON_REQUIRED = 1 << 0, /* must be present when creating */
	SH_JSON_NULLABLE = 1 << 1, /* null is accepted (clears in a PATCH) */
	SH_JSON_IMMUTABLE = 1 << 2, /* refused in a PATCH (name_immutable) */
};

struct sh_json_field {
	const char *name;
	enum sh_json_kind kind;
	size_t max;      /* strings: most characters; arrays: most items */
	unsigned flags;
};

enum sh_json_mode {
	SH_JSON_CREATE,
	SH_JSON_PATCH,
};

/*
 * Checks obj against fields: every member known (else unknown_field), of
 * its kind and within its limit (invalid_field), required ones present when
 * creating (missing_field), immutable ones absent from a patch
 * (name_immutable).  Returns 0 or -1 with err naming the field.
 */
int sh_json_check(const cJSON *obj, const struct sh_json_field *fields,
		  size_t count, enum sh_json_mode mode, struct sh_err *err);

/* The string member name of obj, or NULL when absent or null. */
const char *sh_json_str(const cJSON *obj, const char *name);

/* The bool member name of obj, or dflt when absent or null. */
bool sh_json_bool(const cJSON *obj, const char *name, bool dflt);

/* true when obj has member name (null included). */
bool sh_json_has(const cJSON *obj, const char *name);

/* A new JSON array text of the strings in member name ("[]" when absent),
 * sorted and without duplicates; freed by the caller.  NULL on ENOMEM. */
char *sh_json_strings_text(const cJSON *obj, const char *name);

/* Parses a stored JSON array text back into a cJSON array (an empty one
 * when text is NULL or malformed).  NULL on ENOMEM. */
cJSON *sh_json_strings_parse(const char *text);

/* Adds "name": "<ISO-8601 time>" to obj. */
void sh_json_add_time(cJSON *obj, const char *name, long long t);

#endif
