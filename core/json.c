#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stackhook/json.h"
#include "stackhook/timeutil.h"

bool
sh_json_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned c = *p;
		size_t n;
		unsigned cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(end - p) <= n)
			return false;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		p += n + 1;
	}
	return true;
}

/* What the scan before parsing saw. */
struct scan {
	bool nul;          /* an escaped NUL (\u0000) inside a string */
	const char *key;   /* the last string at depth 1: the member that */
	size_t key_len;    /* nests too deep, when one does */
};

/*
 * Nesting depth of JSON text, counted outside strings, so that the parser
 * never recurses deeper than we allow; an escaped NUL inside a string is
 * noted too, since C strings would silently end there.
 */
static bool
depth_within(const char *s, size_t len, int max, struct scan *scan)
{
	bool in_string = false;
	size_t start = 0;
	int depth = 0;

	memset(scan, 0, sizeof(*scan));
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_string) {
			if (c == '\\') {
				if (i + 5 < len && s[i + 1] == 'u' &&
				    strncmp(s + i + 2, "0000", 4) == 0)
					scan->nul = true;
				i++;
			} else if (c == '"') {
				in_string = false;
				if (depth == 1) {
					scan->key = s + start;
					scan->key_len = i - start;
				}
			}
		} else if (c == '"') {
			in_string = true;
			start = i + 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				return false;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return true;
}

/* Names the member a too-deep body nests in, when it is a plain name. */
static int
too_deep(const struct scan *scan, struct sh_err *err)
{
	char name[SH_ERR_FIELD_MAX];

	if (scan->key != NULL && scan->key_len > 0 && scan->key_len < sizeof(name) &&
	    memchr(scan->key, '\\', scan->key_len) == NULL &&
	    sh_json_utf8_valid(scan->key, scan->key_len)) {
		memcpy(name, scan->key, scan->key_len);
		name[scan->key_len] = '\0';
		return sh_err_set(err, SH_E_INVALID_FIELD, name,
				  "%s nests deeper than the limit of %d levels", name,
				  SH_JSON_MAX_DEPTH);
	}
	return sh_err_set(err, SH_E_INVALID_JSON, NULL,
			  "the body nests deeper than %d levels", SH_JSON_MAX_DEPTH);
}

/* How deep the parser may recurse at all; SH_JSON_MAX_DEPTH, the limit
 * the API enforces, is checked after parsing so the error names a field. */
#define PARSE_DEPTH_MAX 256

static bool
string_valid(const char *s)
{
	return sh_json_utf8_valid(s, strlen(s));
}

/* Why item (at depth) cannot be accepted, or NULL: too deep, or a name or
 * string that is not UTF-8 (cJSON passes such bytes through). */
static const char *
check_tree(const cJSON *item, int depth)
{
	const cJSON *child;
	const char *why;

	if (depth > SH_JSON_MAX_DEPTH)
		return "nests deeper than the limit of 32 levels";
	if (item->string != NULL && !string_valid(item->string))
		return "holds a name that is not valid UTF-8";
	if (cJSON_IsString(item) && !string_valid(item->valuestring))
		return "is not valid UTF-8 text";
	cJSON_ArrayForEach(child, item) {
		if ((why = check_tree(child, depth + 1)) != NULL)
			return why;
	}
	return NULL;
}

int
sh_json_parse_object(const char *text, size_t len, cJSON **out,
		     struct sh_err *err)
{
	const char *end = NULL, *why;
	const cJSON *member;
	struct scan scan;
	cJSON *json;

	*out = NULL;
	if (memchr(text, '\0', len) != NULL)
		return sh_err_set(err, SH_E_INVALID_JSON, NULL,
				  "the body holds a NUL byte");
	if (!depth_within(text, len, PARSE_DEPTH_MAX, &scan))
		return too_deep(&scan, err);
	if (scan.nul)
		return sh_err_set(err, SH_E_INVALID_JSON, NULL,
				  "the body holds a NUL character (\\u0000)");
	json = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (json == NULL)
		return sh_err_set(err, SH_E_INVALID_JSON, NULL,
				  "the body is not valid JSON (near byte %zu)",
				  end ? (size_t)(end - text) : (size_t)0);
	while (end != NULL && (size_t)(end - text) < len &&
	       strchr(" \t\r\n", *end) != NULL)
		end++;
	if (end == NULL || (size_t)(end - text) != len) {
		cJSON_Delete(json);
		return sh_err_set(err, SH_E_INVALID_JSON, NULL,
				  "the body has data after its JSON value");
	}
	if (!cJSON_IsObject(json)) {
		cJSON_Delete(json);
		return sh_err_set(err, SH_E_INVALID_JSON, NULL,
				  "the body must be a JSON object");
	}
	cJSON_ArrayForEach(member, json) {
		if ((why = check_tree(member, 1)) == NULL)
			continue;
		if (string_valid(member->string))
			sh_err_set(err, SH_E_INVALID_FIELD, member->string, "%.64s %s",
				   member->string, why);
		else
			sh_err_set(err, SH_E_INVALID_JSON, NULL,
				   "the body holds a name that is not valid UTF-8");
		cJSON_Delete(json);
		return -1;
	}
	*out = json;
	return 0;
}

/* Counts code points; refuses control characters (line breaks and tabs
 * only where multiline). */
static bool
text_ok(const char *s, size_t max, bool multiline, size_t *chars)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xc0) != 0x80)
			n++;
		/* C1 controls (U+0080..U+009F) are encoded as C2 80..C2 9F. */
		if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return false;
		if (*p < 0x20 || *p == 0x7f) {
			if (!multiline || (*p != '\n' && *p != '\r' && *p != '\t'))
				return false;
		}
	}
	*chars = n;
	return n <= max;
}

static int
check_string(const cJSON *item, const struct sh_json_field *f,
	     struct sh_err *err)
{
	size_t chars = 0;
	bool multiline = f->kind == SH_JSON_TEXT;

	if (!cJSON_IsString(item))
		return sh_err_set(err, SH_E_INVALID_FIELD, f->name,
				  "%s must be a string", f->name);
	if (!text_ok(item->valuestring, f->max, multiline, &chars)) {
		if (chars > f->max)
			return sh_err_set(err, SH_E_INVALID_FIELD, f->name,
					  "%s is longer than %zu characters",
					  f->name, f->max);
		return sh_err_set(err, SH_E_INVALID_FIELD, f->name,
				  "%s must not contain control characters",
				  f->name);
	}
	return 0;
}

static int
check_strings(const cJSON *item, const struct sh_json_field *f,
	      struct sh_err *err)
{
	char path[SH_ERR_FIELD_MAX];
	size_t chars, i = 0;
	const cJSON *el;

	if (!cJSON_IsArray(item))
		return sh_err_set(err, SH_E_INVALID_FIELD, f->name,
				  "%s must be an array of strings", f->name);
	if ((size_t)cJSON_GetArraySize(item) > f->max)
		return sh_err_set(err, SH_E_INVALID_FIELD, f->name,
				  "%s has more than %zu items", f->name, f->max);
	cJSON_ArrayForEach(el, item) {
		snprintf(path, sizeof(path), "%s[%zu]", f->name, i++);
		if (!cJSON_IsString(el))
			return sh_err_set(err, SH_E_INVALID_FIELD, path,
					  "%s must be a string", path);
		if (!text_ok(el->valuestring, 64, false, &chars) || chars == 0)
			return sh_err_set(err, SH_E_INVALID_FIELD, path,
					  "%s must be 1 to 64 printable characters",
					  path);
	}
	return 0;
}

static int
check_item(const cJSON *item, const struct sh_json_field *f, struct sh_err *err)
{
	switch (f->kind) {
	case SH_JSON_STRING:
	case SH_JSON_TEXT:
		return check_string(item, f, err);
	case SH_JSON_STRINGS:
		return check_strings(item, f, err);
	case SH_JSON_BOOL:
		if (!cJSON_IsBool(item))
			return sh_err_set(err, SH_E_INVALID_FIELD, f->name,
					  "%s must be true or false", f->name);
		return 0;
	case SH_JSON_OBJECT:
		if (!cJSON_IsObject(item))
			return sh_err_set(err, SH_E_INVALID_FIELD, f->name,
					  "%s must be an object", f->name);
		return 0;
	case SH_JSON_INT:
		if (!cJSON_IsNumber(item) || item->valuedouble < 0 ||
		    item->valuedouble > (double)f->max ||
		    item->valuedouble != (double)(long long)item->valuedouble)
			return sh_err_set(err, SH_E_INVALID_FIELD, f->name,
					  "%s must be a whole number from 0 to %zu",
					  f->name, f->max);
		return 0;
	}
	return 0;
}

int
sh_json_check(const cJSON *obj, const struct sh_json_field *fields,
	      size_t count, enum sh_json_mode mode, struct sh_err *err)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, obj) {
		const struct sh_json_field *f = NULL;

		for (const cJSON *prev = obj->child; prev != item; prev = prev->next)
			if (strcmp(prev->string, item->string) == 0)
				return sh_err_set(err, SH_E_INVALID_FIELD, item->string,
						  "%.64s is given twice", item->string);
		for (size_t i = 0; i < count && f == NULL; i++)
			if (strcmp(fields[i].name, item->string) == 0)
				f = &fields[i];
		if (f == NULL)
			return sh_err_set(err, SH_E_UNKNOWN_FIELD, item->string,
					  "%.64s is not a field of this object",
					  item->string);
		if (mode == SH_JSON_PATCH && (f->flags & SH_JSON_IMMUTABLE))
			return sh_err_set(err, SH_E_NAME_IMMUTABLE, f->name,
					  "%s cannot be changed after creation",
					  f->name);
		if (cJSON_IsNull(item)) {
			if (f->flags & SH_JSON_NULLABLE)
				continue;
			if (mode == SH_JSON_CREATE && (f->flags & SH_JSON_REQUIRED))
				return sh_err_set(err, SH_E_MISSING_FIELD, f->name,
						  "%s is required", f->name);
			return sh_err_set(err, SH_E_INVALID_FIELD, f->name,
					  "%s cannot be null", f->name);
		}
		if (check_item(item, f, err) < 0)
			return -1;
	}
	if (mode != SH_JSON_CREATE)
		return 0;
	for (size_t i = 0; i < count; i++) {
		item = cJSON_GetObjectItemCaseSensitive(obj, fields[i].name);
		if ((fields[i].flags & SH_JSON_REQUIRED) &&
		    (item == NULL || cJSON_IsNull(item)))
			return sh_err_set(err, SH_E_MISSING_FIELD, fields[i].name,
					  "%s is required", fields[i].name);
	}
	return 0;
}

const char *
sh_json_str(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

bool
sh_json_bool(const cJSON *obj, const char *name, bool dflt)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsBool(item) ? cJSON_IsTrue(item) : dflt;
}

bool
sh_json_has(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name) != NULL;
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
sh_json_strings_text(const cJSON *obj, const char *name)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name), *el;
	size_t n = 0, count = cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0;
	const char **items = calloc(count + 1, sizeof(*items));
	cJSON *out = cJSON_CreateArray();
	char *text = NULL;

	if (items == NULL || out == NULL)
		goto out;
	if (count > 0) {
		cJSON_ArrayForEach(el, arr)
			if (cJSON_IsString(el))
				items[n++] = el->valuestring;
	}
	qsort(items, n, sizeof(*items), compare_strings);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || strcmp(items[i], items[i - 1]) != 0)
			cJSON_AddItemToArray(out, cJSON_CreateString(items[i]));
	text = cJSON_PrintUnformatted(out);
out:
	free(items);
	cJSON_Delete(out);
	return text;
}

cJSON *
sh_json_strings_parse(const char *text)
{
	cJSON *arr = text ? cJSON_Parse(text) : NULL;

	if (cJSON_IsArray(arr))
		return arr;
	cJSON_Delete(arr);
	return cJSON_CreateArray();
}

void
sh_json_add_time(cJSON *obj, const char *name, long long t)
{
	char text[SH_ISO8601_LEN + 1];

	sh_time_iso8601(t, text);
	cJSON_AddStringToObject(obj, name, text);
}
