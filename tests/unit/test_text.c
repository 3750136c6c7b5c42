/*
 * test_text.c - the text checks every request goes through: core/json.c
 * (bodies, field checks, pages), core/slug.c (ids and webhook endpoints)
 * and core/git.c (commit ids, ref names, project paths).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "stackhook/git.h"
#include "stackhook/json.h"
#include "stackhook/slug.h"
#include "stackhook/updates.h"
#include "testutil.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Fails unless err holds code and (when field is not NULL) names field,
 * with a message for a person. */
static void
expect_err(const struct sh_err *err, enum sh_errcode code, const char *field)
{
	if (err->code != code)
		fail_msg("expected error %s, got %s (%s)", sh_err_code_name(code),
			 sh_err_code_name(err->code), err->msg);
	if (field != NULL && strcmp(err->field, field) != 0)
		fail_msg("expected the error to name field \"%s\", it names \"%s\" (%s)",
			 field, err->field, err->msg);
	assert_true(err->msg[0] != '\0');
}

/* Parses text (its strlen) as an object; fails the test when it cannot. */
static cJSON *
parse_ok(const char *text)
{
	struct sh_err err;
	cJSON *obj = NULL;

	sh_err_clear(&err);
	if (sh_json_parse_object(text, strlen(text), &obj, &err) != 0)
		fail_msg("could not parse %s: %s", text, err.msg);
	assert_non_null(obj);
	return obj;
}

/* Expects len bytes at text to be refused with code, naming field. */
static void
parse_refused_as(const char *what, const char *text, size_t len,
		 enum sh_errcode code, const char *field)
{
	struct sh_err err;
	cJSON *obj = (cJSON *)&err;

	sh_err_clear(&err);
	if (sh_json_parse_object(text, len, &obj, &err) != -1) {
		cJSON_Delete(obj);
		fail_msg("%s was accepted", what);
	}
	assert_null(obj);
	expect_err(&err, code, field);
}

/* Expects len bytes at text to be refused as invalid_json. */
static void
parse_refused(const char *what, const char *text, size_t len)
{
	parse_refused_as(what, text, len, SH_E_INVALID_JSON, NULL);
}

/* ------------------------------------------------------------------ */
/* sh_json_parse_object */

static void
test_parse_object(void **state)
{
	static const char text[] = "  {\"name\": \"Prod\", \"n\": 3, \"list\": [1, 2],"
				   " \"o\": {\"x\": null}} \r\n\t ";
	struct sh_err err;
	cJSON *obj = NULL;

	(void)state;
	sh_err_clear(&err);
	assert_int_equal(sh_json_parse_object(text, strlen(text), &obj, &err), 0);
	assert_true(cJSON_IsObject(obj));
	assert_string_equal(sh_json_str(obj, "name"), "Prod");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(obj, "list")), 2);
	cJSON_Delete(obj);

	/* only len bytes are read: what follows is not looked at */
	assert_int_equal(sh_json_parse_object("{}garbage", 2, &obj, &err), 0);
	assert_true(cJSON_IsObject(obj));
	cJSON_Delete(obj);

	/* text that is not NUL-terminated right after the object */
	{
		char buf[8] = {'{', '}', 'x', 'x', 'x', 'x', 'x', 'x'};

		assert_int_equal(sh_json_parse_object(buf, 2, &obj, &err), 0);
		cJSON_Delete(obj);
	}
}

static void
test_parse_not_an_object(void **state)
{
	static const char *const texts[] = {
		"[]", "[{}]", "\"text\"", "1", "-0.5", "null", "true", "false",
		"", " ", "\n\t", "{", "}", "{\"a\":}", "{\"a\" 1}", "{'a': 1}",
		"{\"a\": 1,}", "{a: 1}", "{\"a\": tru}", "{\"a\": \"unterminated}",
	};

	(void)state;
	for (size_t i = 0; i < COUNT(texts); i++)
		parse_refused(texts[i], texts[i], strlen(texts[i]));
}

static void
test_parse_trailing_data(void **state)
{
	static const char *const texts[] = {
		"{} {}", "{}x", "{} x", "{}}", "{}]", "{},", "{}\n{}", "{} null",
		"{}//comment", "{} \x01",
	};
	static const char with_nul[] = "{}\0";

	(void)state;
	for (size_t i = 0; i < COUNT(texts); i++)
		parse_refused(texts[i], texts[i], strlen(texts[i]));
	/* a NUL after the object is data too (and never valid text) */
	parse_refused("{} followed by NUL", with_nul, 3);
}

static void
test_parse_invalid_utf8(void **state)
{
	static const struct {
		const char *what;
		const char *bytes;
	} bad[] = {
		{"a lone continuation byte", "\x80"},
		{"a continuation byte after ASCII", "a\xbf"},
		{"a 2-byte sequence cut short", "\xc3"},
		{"a 3-byte sequence cut short", "\xe2\x82"},
		{"a 4-byte sequence cut short", "\xf0\x9f\x98"},
		{"a lead byte followed by ASCII", "\xc3" "a"},
		{"an overlong '/' (2 bytes)", "\xc0\xaf"},
		{"an overlong NUL (2 bytes)", "\xc0\x80"},
		{"an overlong U+007F (2 bytes)", "\xc1\xbf"},
		{"an overlong '/' (3 bytes)", "\xe0\x80\xaf"},
		{"an overlong U+07FF (3 bytes)", "\xe0\x9f\xbf"},
		{"an overlong '/' (4 bytes)", "\xf0\x80\x80\xaf"},
		{"an overlong U+FFFF (4 bytes)", "\xf0\x8f\xbf\xbf"},
		{"a high surrogate U+D800", "\xed\xa0\x80"},
		{"a low surrogate U+DFFF", "\xed\xbf\xbf"},
		{"a surrogate pair in CESU-8", "\xed\xa0\xbd\xed\xb8\x80"},
		{"a code point past U+10FFFF", "\xf4\x90\x80\x80"},
		{"the lead byte 0xf5", "\xf5\x80\x80\x80"},
		{"the byte 0xfe", "\xfe"},
		{"the byte 0xff", "\xff"},
		{"a Latin-1 e-acute", "caf\xe9"},
	};
	char text[64];

	(void)state;
	for (size_t i = 0; i < COUNT(bad); i++) {
		int n = snprintf(text, sizeof(text), "{\"name\": \"%s\"}", bad[i].bytes);

		/* a value: the error names its field */
		parse_refused_as(bad[i].what, text, (size_t)n, SH_E_INVALID_FIELD,
				 "name");
		/* also as a member name */
		n = snprintf(text, sizeof(text), "{\"%s\": 1}", bad[i].bytes);
		parse_refused(bad[i].what, text, (size_t)n);
		assert_false(sh_json_utf8_valid(bad[i].bytes, strlen(bad[i].bytes)));
	}
	/* a raw NUL inside a string */
	parse_refused("a NUL byte in a string", "{\"a\": \"x\0y\"}", 12);
	assert_false(sh_json_utf8_valid("x\0y", 3));
}

static void
test_parse_valid_utf8(void **state)
{
	static const char *const good[] = {
		"caf\xc3\xa9",                /* U+00E9 */
		"\xc2\x80",                   /* U+0080, the smallest 2-byte form */
		"\xdf\xbf",                   /* U+07FF */
		"\xe0\xa0\x80",               /* U+0800, the smallest 3-byte form */
		"\xe2\x82\xac",               /* U+20AC euro */
		"\xed\x9f\xbf",               /* U+D7FF, just below the surrogates */
		"\xee\x80\x80",               /* U+E000, just above them */
		"\xef\xbf\xbf",               /* U+FFFF */
		"\xf0\x90\x80\x80",           /* U+10000, the smallest 4-byte form */
		"\xf0\x9f\x98\x80",           /* U+1F600 */
		"\xf4\x8f\xbf\xbf",           /* U+10FFFF, the largest */
		"\xe6\x97\xa5\xe6\x9c\xac",   /* CJK */
	};
	char text[64];

	(void)state;
	for (size_t i = 0; i < COUNT(good); i++) {
		cJSON *obj;

		assert_true(sh_json_utf8_valid(good[i], strlen(good[i])));
		snprintf(text, sizeof(text), "{\"name\": \"%s\"}", good[i]);
		obj = parse_ok(text);
		assert_string_equal(sh_json_str(obj, "name"), good[i]);
		cJSON_Delete(obj);
	}
	assert_true(sh_json_utf8_valid("", 0));
	/* only len bytes count: a sequence cut by len is invalid */
	assert_false(sh_json_utf8_valid("\xe2\x82\xac", 2));
}

/* Nests depth objects ({"a":{"a":...}}) or arrays into a new string. */
static char *
nested(int depth, bool arrays)
{
	size_t size = (size_t)depth * 8 + 16;
	char *s = malloc(size), *p = s;

	assert_non_null(s);
	/* the outer value is always an object */
	p += sprintf(p, "{\"a\":");
	for (int i = 1; i < depth; i++)
		p += sprintf(p, arrays ? "[" : "{\"a\":");
	p += sprintf(p, "1");
	for (int i = 1; i < depth; i++)
		*p++ = arrays ? ']' : '}';
	*p++ = '}';
	*p = '\0';
	return s;
}

static void
test_parse_depth(void **state)
{
	struct sh_err err;
	cJSON *obj;
	char *text;

	(void)state;
	for (int arrays = 0; arrays <= 1; arrays++) {
		text = nested(SH_JSON_MAX_DEPTH, arrays);
		obj = parse_ok(text);
		cJSON_Delete(obj);
		free(text);

		text = nested(SH_JSON_MAX_DEPTH + 1, arrays);
		sh_err_clear(&err);
		obj = NULL;
		assert_int_equal(sh_json_parse_object(text, strlen(text), &obj, &err), -1);
		assert_null(obj);
		/* the error names the top-level field that nests too deep */
		expect_err(&err, SH_E_INVALID_FIELD, "a");
		assert_non_null(strstr(err.msg, "32"));
		free(text);

		/* far deeper: refused without recursing through it */
		text = nested(100000, arrays);
		parse_refused_as("100000 levels", text, strlen(text),
				 SH_E_INVALID_FIELD, "a");
		free(text);
	}
	/* brackets inside strings (escaped quotes included) are not nesting */
	{
		char buf[512];

		snprintf(buf, sizeof(buf), "{\"a\": \"\\\"%s\", \"b\": [[[\"]]]\"]]]}",
			 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
		obj = parse_ok(buf);
		cJSON_Delete(obj);
	}
}

static void
test_parse_escapes(void **state)
{
	cJSON *obj;

	(void)state;
	obj = parse_ok("{\"a\": \"\\u00e9\\u20ac\\ud83d\\ude00\\n\"}");
	assert_string_equal(sh_json_str(obj, "a"),
			    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n");
	cJSON_Delete(obj);
	/* a lone surrogate escape is not text */
	parse_refused("a lone high surrogate escape", "{\"a\": \"\\ud800\"}", 15);
	parse_refused("a lone low surrogate escape", "{\"a\": \"\\udc00\"}", 15);
}

/* An escaped NUL would cut the string short in C: "adm\u0000in" must not
 * become "adm" unnoticed.  Refused by the parser or by the field check. */
static void
test_escaped_nul_refused(void **state)
{
	static const struct sh_json_field fields[] = {
		{"name", SH_JSON_STRING, 64, SH_JSON_REQUIRED},
		{"text", SH_JSON_TEXT, 64, 0},
	};
	static const char *const texts[] = {
		"{\"name\": \"adm\\u0000in\"}",
		"{\"name\": \"x\", \"text\": \"line\\u0000more\"}",
	};
	struct sh_err err;

	(void)state;
	for (size_t i = 0; i < COUNT(texts); i++) {
		cJSON *obj = NULL;

		sh_err_clear(&err);
		if (sh_json_parse_object(texts[i], strlen(texts[i]), &obj, &err) < 0) {
			expect_err(&err, SH_E_INVALID_JSON, NULL);
			continue;
		}
		if (sh_json_check(obj, fields, COUNT(fields), SH_JSON_CREATE, &err) == 0) {
			char seen[128];

			snprintf(seen, sizeof(seen), "%s",
				 sh_json_str(obj, i == 0 ? "name" : "text"));
			cJSON_Delete(obj);
			fail_msg("%s: a string with an escaped NUL passed both the "
				 "parser and the field check (it reads as \"%s\")",
				 texts[i], seen);
		}
		cJSON_Delete(obj);
		expect_err(&err, SH_E_INVALID_FIELD, i == 0 ? "name" : "text");
	}
}

/* ------------------------------------------------------------------ */
/* sh_json_check */

static const struct sh_json_field sample_fields[] = {
	{"name", SH_JSON_STRING, 8, SH_JSON_REQUIRED | SH_JSON_IMMUTABLE},
	{"title", SH_JSON_STRING, 8, SH_JSON_NULLABLE},
	{"description", SH_JSON_TEXT, 10, SH_JSON_NULLABLE},
	{"enabled", SH_JSON_BOOL, 0, 0},
	{"labels", SH_JSON_STRINGS, 3, 0},
	{"options", SH_JSON_OBJECT, 0, SH_JSON_NULLABLE},
	{"count", SH_JSON_INT, 100, 0},
	{"url", SH_JSON_STRING, 100, SH_JSON_REQUIRED},
};

/* Runs sh_json_check on text in mode; returns its result, err filled. */
static int
check_text(const char *text, enum sh_json_mode mode, struct sh_err *err)
{
	cJSON *obj = parse_ok(text);
	int rc;

	sh_err_clear(err);
	rc = sh_json_check(obj, sample_fields, COUNT(sample_fields), mode, err);
	cJSON_Delete(obj);
	return rc;
}

static void
check_ok(const char *text, enum sh_json_mode mode)
{
	struct sh_err err;

	if (check_text(text, mode, &err) != 0)
		fail_msg("%s was refused: %s", text, err.msg);
	assert_int_equal(err.code, SH_OK);
}

static void
check_refused(const char *text, enum sh_json_mode mode, enum sh_errcode code,
	      const char *field)
{
	struct sh_err err;

	if (check_text(text, mode, &err) != -1)
		fail_msg("%s was accepted", text);
	expect_err(&err, code, field);
}

static void
test_check_accepts(void **state)
{
	(void)state;
	check_ok("{\"name\": \"n\", \"url\": \"u\"}", SH_JSON_CREATE);
	check_ok("{\"name\": \"n\", \"url\": \"u\", \"title\": \"t\", "
		 "\"description\": \"d\", \"enabled\": false, \"labels\": [\"a\"], "
		 "\"options\": {\"x\": 1}, \"count\": 100}",
		 SH_JSON_CREATE);
	check_ok("{\"name\": \"n\", \"url\": \"u\", \"title\": null, "
		 "\"description\": null, \"options\": null}",
		 SH_JSON_CREATE);
	/* a patch needs none of the required fields */
	check_ok("{}", SH_JSON_PATCH);
	check_ok("{\"title\": \"t\"}", SH_JSON_PATCH);
	check_ok("{\"title\": null}", SH_JSON_PATCH);
	check_ok("{\"count\": 0}", SH_JSON_PATCH);
	check_ok("{\"count\": 42.0}", SH_JSON_PATCH);
}

static void
test_check_unknown_field(void **state)
{
	(void)state;
	check_refused("{\"name\": \"n\", \"url\": \"u\", \"colour\": \"red\"}",
		      SH_JSON_CREATE, SH_E_UNKNOWN_FIELD, "colour");
	check_refused("{\"Name\": \"n\"}", SH_JSON_PATCH, SH_E_UNKNOWN_FIELD, "Name");
	check_refused("{\"\": 1}", SH_JSON_PATCH, SH_E_UNKNOWN_FIELD, "");
	/* unknown fields count even when null */
	check_refused("{\"colour\": null}", SH_JSON_PATCH, SH_E_UNKNOWN_FIELD,
		      "colour");
}

static void
test_check_required(void **state)
{
	struct sh_err err;

	(void)state;
	check_refused("{\"url\": \"u\"}", SH_JSON_CREATE, SH_E_MISSING_FIELD, "name");
	check_refused("{\"name\": \"n\"}", SH_JSON_CREATE, SH_E_MISSING_FIELD, "url");
	check_refused("{}", SH_JSON_CREATE, SH_E_MISSING_FIELD, NULL);
	/* null for a required, non-nullable field: refused, naming it */
	assert_int_equal(check_text("{\"name\": null, \"url\": \"u\"}",
				    SH_JSON_CREATE, &err), -1);
	assert_string_equal(err.field, "name");
	assert_true(err.code == SH_E_MISSING_FIELD || err.code == SH_E_INVALID_FIELD);
}

static void
test_check_types(void **state)
{
	static const struct {
		const char *text;
		const char *field;
	} bad[] = {
		{"{\"title\": 5}", "title"},
		{"{\"title\": true}", "title"},
		{"{\"title\": [\"t\"]}", "title"},
		{"{\"title\": {}}", "title"},
		{"{\"description\": 1}", "description"},
		{"{\"enabled\": \"true\"}", "enabled"},
		{"{\"enabled\": 1}", "enabled"},
		{"{\"enabled\": null}", "enabled"},
		{"{\"labels\": \"a\"}", "labels"},
		{"{\"labels\": {}}", "labels"},
		{"{\"labels\": null}", "labels"},
		{"{\"labels\": [\"a\", 2]}", "labels[1]"},
		{"{\"labels\": [null]}", "labels[0]"},
		{"{\"labels\": [[\"a\"]]}", "labels[0]"},
		{"{\"options\": []}", "options"},
		{"{\"options\": \"x\"}", "options"},
		{"{\"count\": \"1\"}", "count"},
		{"{\"count\": -1}", "count"},
		{"{\"count\": 1.5}", "count"},
		{"{\"count\": 101}", "count"},
		{"{\"count\": 1e300}", "count"},
		{"{\"count\": true}", "count"},
		{"{\"count\": null}", "count"},
	};

	(void)state;
	for (size_t i = 0; i < COUNT(bad); i++)
		check_refused(bad[i].text, SH_JSON_PATCH, SH_E_INVALID_FIELD,
			      bad[i].field);
}

static void
test_check_immutable(void **state)
{
	(void)state;
	/* given when creating: fine; in a patch: name_immutable, even null
	 * and even with the value it already has */
	check_ok("{\"name\": \"n\", \"url\": \"u\"}", SH_JSON_CREATE);
	check_refused("{\"name\": \"other\"}", SH_JSON_PATCH, SH_E_NAME_IMMUTABLE,
		      "name");
	check_refused("{\"name\": null}", SH_JSON_PATCH, SH_E_NAME_IMMUTABLE, "name");
	check_refused("{\"title\": \"t\", \"name\": \"n\"}", SH_JSON_PATCH,
		      SH_E_NAME_IMMUTABLE, "name");
}

static void
test_check_string_length_in_characters(void **state)
{
	/* max 8 characters for title, 10 for description */
	static const char *const ok[] = {
		"{\"title\": \"\"}",
		"{\"title\": \"12345678\"}",
		/* 8 two-byte characters: 16 bytes */
		"{\"title\": \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
		/* 8 four-byte characters: 32 bytes */
		("{\"title\": \"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
		 "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"}"),
		/* 8 characters written as escapes */
		"{\"title\": \"\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\"}",
		"{\"description\": \"123456789\\n\"}",
	};
	static const char *const too_long[] = {
		"{\"title\": \"123456789\"}",
		"{\"title\": \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
		"{\"title\": \"\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\"}",
	};
	struct sh_err err;

	(void)state;
	for (size_t i = 0; i < COUNT(ok); i++)
		check_ok(ok[i], SH_JSON_PATCH);
	for (size_t i = 0; i < COUNT(too_long); i++) {
		check_refused(too_long[i], SH_JSON_PATCH, SH_E_INVALID_FIELD, "title");
		/* the message says which limit */
		check_text(too_long[i], SH_JSON_PATCH, &err);
		assert_non_null(strstr(err.msg, "8"));
	}
	check_refused("{\"description\": \"1234567890\\n\"}", SH_JSON_PATCH,
		      SH_E_INVALID_FIELD, "description");
}

static void
test_check_control_characters(void **state)
{
	static const char *const controls[] = {
		"\\n", "\\r", "\\t", "\\u0001", "\\u001b", "\\u007f", "\\b", "\\f",
	};
	char text[64];

	(void)state;
	for (size_t i = 0; i < COUNT(controls); i++) {
		/* one-line strings refuse every control character */
		snprintf(text, sizeof(text), "{\"title\": \"a%sb\"}", controls[i]);
		check_refused(text, SH_JSON_PATCH, SH_E_INVALID_FIELD, "title");
		snprintf(text, sizeof(text), "{\"labels\": [\"a%sb\"]}", controls[i]);
		check_refused(text, SH_JSON_PATCH, SH_E_INVALID_FIELD, "labels[0]");
	}
	/* TEXT keeps line breaks and tabs, refuses the others */
	check_ok("{\"description\": \"a\\nb\\r\\nc\\td\"}", SH_JSON_PATCH);
	check_refused("{\"description\": \"a\\u0001\"}", SH_JSON_PATCH,
		      SH_E_INVALID_FIELD, "description");
	check_refused("{\"description\": \"a\\u001b[2J\"}", SH_JSON_PATCH,
		      SH_E_INVALID_FIELD, "description");
	check_refused("{\"description\": \"a\\u007f\"}", SH_JSON_PATCH,
		      SH_E_INVALID_FIELD, "description");
	/* printable non-ASCII is fine in both */
	check_ok("{\"title\": \"Caf\xc3\xa9 \xe2\x82\xac\"}", SH_JSON_PATCH);
}

/* U+0080..U+009F are control characters too (C1: NEL, CSI, ...); a name
 * of "printable characters" (SPEC §3) cannot hold them. */
static void
test_check_c1_control_characters_refused(void **state)
{
	static const char *const texts[] = {
		"{\"title\": \"a\\u0085b\"}",        /* NEL, a line break */
		"{\"title\": \"a\xc2\x85" "b\"}",   /* NEL as raw UTF-8 */
		"{\"title\": \"a\xc2\x9b" "2J\"}",  /* CSI */
	};

	(void)state;
	for (size_t i = 0; i < COUNT(texts); i++)
		check_refused(texts[i], SH_JSON_PATCH, SH_E_INVALID_FIELD, "title");
}

static void
test_check_string_arrays(void **state)
{
	char text[256];

	(void)state;
	check_ok("{\"labels\": []}", SH_JSON_PATCH);
	check_ok("{\"labels\": [\"a\", \"b\", \"c\"]}", SH_JSON_PATCH);
	/* duplicates are fine: the set drops them later */
	check_ok("{\"labels\": [\"a\", \"a\", \"a\"]}", SH_JSON_PATCH);
	/* more items than the limit (3) */
	check_refused("{\"labels\": [\"a\", \"b\", \"c\", \"d\"]}", SH_JSON_PATCH,
		      SH_E_INVALID_FIELD, "labels");
	/* an empty item */
	check_refused("{\"labels\": [\"a\", \"\"]}", SH_JSON_PATCH,
		      SH_E_INVALID_FIELD, "labels[1]");
	/* items hold at most 64 characters (counted as characters) */
	snprintf(text, sizeof(text), "{\"labels\": [\"%s\"]}",
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	check_ok(text, SH_JSON_PATCH);
	snprintf(text, sizeof(text), "{\"labels\": [\"x\", \"%065d\"]}", 0);
	check_refused(text, SH_JSON_PATCH, SH_E_INVALID_FIELD, "labels[1]");
}

static void
test_check_first_fault_named(void **state)
{
	struct sh_err err;

	(void)state;
	/* whatever the order, the error names a field at fault, never one
	 * that is fine */
	assert_int_equal(check_text("{\"title\": \"ok\", \"count\": -1}",
				    SH_JSON_PATCH, &err), -1);
	assert_string_equal(err.field, "count");
	assert_int_equal(check_text("{\"count\": 1, \"title\": 1}", SH_JSON_PATCH,
				    &err), -1);
	assert_string_equal(err.field, "title");
}

/* ------------------------------------------------------------------ */
/* accessors and string sets */

static void
test_accessors(void **state)
{
	cJSON *obj = parse_ok("{\"s\": \"v\", \"n\": null, \"b\": true, \"f\": false, "
			      "\"i\": 1}");

	(void)state;
	assert_string_equal(sh_json_str(obj, "s"), "v");
	assert_null(sh_json_str(obj, "n"));
	assert_null(sh_json_str(obj, "i"));
	assert_null(sh_json_str(obj, "missing"));
	assert_true(sh_json_bool(obj, "b", false));
	assert_false(sh_json_bool(obj, "f", true));
	assert_true(sh_json_bool(obj, "n", true));
	assert_false(sh_json_bool(obj, "missing", false));
	assert_true(sh_json_bool(obj, "s", true));
	assert_true(sh_json_has(obj, "n"));
	assert_true(sh_json_has(obj, "s"));
	assert_false(sh_json_has(obj, "missing"));
	assert_false(sh_json_has(obj, "S"));
	cJSON_Delete(obj);
}

static void
expect_strings_text(const char *body, const char *expected)
{
	cJSON *obj = parse_ok(body);
	char *text = sh_json_strings_text(obj, "labels");

	assert_non_null(text);
	if (strcmp(text, expected) != 0)
		fail_msg("labels of %s gave %s, expected %s", body, text, expected);
	free(text);
	cJSON_Delete(obj);
}

static void
test_strings_text(void **state)
{
	(void)state;
	expect_strings_text("{}", "[]");
	expect_strings_text("{\"labels\": []}", "[]");
	expect_strings_text("{\"labels\": null}", "[]");
	expect_strings_text("{\"labels\": [\"prod\"]}", "[\"prod\"]");
	expect_strings_text("{\"labels\": [\"b\", \"a\", \"c\", \"a\", \"b\"]}",
			    "[\"a\",\"b\",\"c\"]");
	/* sorted by bytes: upper case first, duplicates need to be exact */
	expect_strings_text("{\"labels\": [\"x\", \"X\", \"x\", \"\xc3\xa9\", \"e\"]}",
			    "[\"X\",\"e\",\"x\",\"\xc3\xa9\"]");
	/* quotes survive as JSON */
	expect_strings_text("{\"labels\": [\"a\\\"b\"]}", "[\"a\\\"b\"]");
}

static void
test_strings_parse(void **state)
{
	cJSON *arr;

	(void)state;
	arr = sh_json_strings_parse(NULL);
	assert_true(cJSON_IsArray(arr));
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
	arr = sh_json_strings_parse("not json");
	assert_true(cJSON_IsArray(arr));
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
	arr = sh_json_strings_parse("{\"a\": 1}");
	assert_true(cJSON_IsArray(arr));
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(arr);
	arr = sh_json_strings_parse("[\"a\",\"b\"]");
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	assert_string_equal(cJSON_GetArrayItem(arr, 1)->valuestring, "b");
	cJSON_Delete(arr);
}

/* ------------------------------------------------------------------ */
/* pages */

static void
test_page_parse(void **state)
{
	static const char *const bad_limits[] = {
		"0", "501", "-1", "+5", " 5", "5 ", "5x", "", "abc", "1e2", "0x10",
		"99999999999999999999",
	};
	static const char *const bad_afters[] = {"0", "-5", "", "x", "12a", " 1", "+1"};
	struct sh_page page;
	struct sh_err err;

	(void)state;
	sh_err_clear(&err);
	assert_int_equal(sh_page_parse(NULL, NULL, &page, &err), 0);
	assert_int_equal(page.limit, SH_PAGE_DEFAULT);
	assert_int_equal(page.limit, 50);
	assert_int_equal(page.after, 0);
	assert_int_equal(sh_page_parse("1", "123", &page, &err), 0);
	assert_int_equal(page.limit, 1);
	assert_int_equal(page.after, 123);
	assert_int_equal(sh_page_parse("500", NULL, &page, &err), 0);
	assert_int_equal(page.limit, SH_PAGE_MAX);
	assert_int_equal(sh_page_parse("007", NULL, &page, &err), 0);
	assert_int_equal(page.limit, 7);
	for (size_t i = 0; i < COUNT(bad_limits); i++) {
		sh_err_clear(&err);
		if (sh_page_parse(bad_limits[i], NULL, &page, &err) != -1)
			fail_msg("limit=\"%s\" was accepted", bad_limits[i]);
		expect_err(&err, SH_E_INVALID_FIELD, "limit");
	}
	for (size_t i = 0; i < COUNT(bad_afters); i++) {
		sh_err_clear(&err);
		if (sh_page_parse(NULL, bad_afters[i], &page, &err) != -1)
			fail_msg("after=\"%s\" was accepted", bad_afters[i]);
		expect_err(&err, SH_E_INVALID_FIELD, "after");
	}
}

/* A cursor past the range of a number is not one this server handed out:
 * refused like any other malformed cursor, not read as the largest one. */
static void
test_page_after_out_of_range_refused(void **state)
{
	struct sh_page page;
	struct sh_err err;

	(void)state;
	sh_err_clear(&err);
	if (sh_page_parse(NULL, "99999999999999999999999", &page, &err) != -1)
		fail_msg("after=99999999999999999999999 was accepted as %lld",
			 page.after);
	expect_err(&err, SH_E_INVALID_FIELD, "after");
}

static void
test_page_result(void **state)
{
	cJSON *page, *items;

	(void)state;
	items = cJSON_CreateArray();
	cJSON_AddItemToArray(items, cJSON_CreateString("x"));
	page = sh_page_result(items, 0);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(page, "items")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 1);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(page, "next")));
	cJSON_Delete(page);

	page = sh_page_result(cJSON_CreateArray(), 1234);
	assert_string_equal(cJSON_GetObjectItem(page, "next")->valuestring, "1234");
	cJSON_Delete(page);
}

static void
test_add_time(void **state)
{
	cJSON *obj = cJSON_CreateObject();

	(void)state;
	sh_json_add_time(obj, "at", 1795687200LL); /* 2026-11-26T10:00:00Z */
	assert_string_equal(cJSON_GetObjectItem(obj, "at")->valuestring,
			    "2026-11-26T10:00:00Z");
	sh_json_add_time(obj, "epoch", 0);
	assert_string_equal(cJSON_GetObjectItem(obj, "epoch")->valuestring,
			    "1970-01-01T00:00:00Z");
	cJSON_Delete(obj);
}

/* ------------------------------------------------------------------ */
/* slugs */

static void
expect_slug(const char *name, const char *expected)
{
	char out[SH_SLUG_MAX + 1];
	struct sh_err err;

	sh_err_clear(&err);
	if (sh_slug_from_name(name, out, "name", &err) != 0)
		fail_msg("\"%s\" gave no slug: %s", name, err.msg);
	if (strcmp(out, expected) != 0)
		fail_msg("\"%s\" gave the slug \"%s\", expected \"%s\"", name, out,
			 expected);
	/* what comes out is a slug */
	assert_int_equal(sh_slug_check(out, "id", &err), 0);
}

static void
expect_no_slug(const char *what, const char *name)
{
	char out[SH_SLUG_MAX + 1];
	struct sh_err err;

	sh_err_clear(&err);
	if (sh_slug_from_name(name, out, "name", &err) != -1)
		fail_msg("%s gave the slug \"%s\"", what, out);
	expect_err(&err, SH_E_INVALID_FIELD, "name");
}

static void
test_slug_from_name(void **state)
{
	char a64[65], a65[66];

	(void)state;
	expect_slug("GitLab Prod", "gitlab-prod");
	expect_slug("gitlab-prod", "gitlab-prod");
	expect_slug("GITLAB", "gitlab");
	expect_slug("Prod 2", "prod-2");
	expect_slug("2024", "2024");
	expect_slug("a", "a");
	expect_slug("GitLab  --  Prod", "gitlab-prod");
	expect_slug("a__b..c//d", "a-b-c-d");
	expect_slug("  --Hello, World!!--  ", "hello-world");
	expect_slug("\tTabs\nand\rbreaks\t", "tabs-and-breaks");
	expect_slug("x-", "x");
	expect_slug("-x", "x");
	/* non-ASCII letters are "other characters" (one '-' per run, bytes
	 * of one character never make several) */
	expect_slug("Caf\xc3\xa9 Prod", "caf-prod");
	expect_slug("\xc3\x9cml\xc3\xa4ut", "ml-ut");
	expect_slug("K\xc3\xb6ln \xe2\x82\xac 2", "k-ln-2");
	expect_slug("\xf0\x9f\x9a\x80 Rocket \xf0\x9f\x9a\x80", "rocket");
	/* 64 characters is the most */
	memset(a64, 'a', 64);
	a64[64] = '\0';
	expect_slug(a64, a64);
	memset(a65, 'a', 65);
	a65[65] = '\0';
	expect_no_slug("65 letters", a65);
	{
		char name[128];

		/* 63 letters and a separator at the end: trimmed, fits */
		snprintf(name, sizeof(name), "%.63s !!", a64);
		{
			char expected[64];

			snprintf(expected, sizeof(expected), "%.63s", a64);
			expect_slug(name, expected);
		}
		/* 63 letters, a separator and a letter: 65 */
		snprintf(name, sizeof(name), "%.63s b", a64);
		expect_no_slug("63 letters, a space and a letter", name);
		/* a long run of separators is one '-' */
		snprintf(name, sizeof(name), "%.31s%s%.32s", a64,
			 "                                        ", a64);
		{
			char expected[66];

			snprintf(expected, sizeof(expected), "%.31s-%.32s", a64, a64);
			expect_slug(name, expected);
		}
	}
	/* nothing left */
	expect_no_slug("an empty name", "");
	expect_no_slug("only punctuation", "!!! --- ...");
	expect_no_slug("only spaces", "    ");
	expect_no_slug("only non-ASCII letters", "\xe6\x97\xa5\xe6\x9c\xac");
}

static void
test_slug_error_names_field(void **state)
{
	char out[SH_SLUG_MAX + 1];
	struct sh_err err;

	(void)state;
	sh_err_clear(&err);
	assert_int_equal(sh_slug_from_name("!!!", out, "space.name", &err), -1);
	expect_err(&err, SH_E_INVALID_FIELD, "space.name");
	sh_err_clear(&err);
	assert_int_equal(sh_slug_check("A", "stack", &err), -1);
	expect_err(&err, SH_E_INVALID_FIELD, "stack");
}

static void
test_slug_check(void **state)
{
	static const char *const good[] = {"a", "gitlab-prod", "0", "a-1-b", "x9"};
	static const char *const bad[] = {
		"", "-a", "a-", "a--b", "A", "Gitlab", "a_b", "a b", "a.b", "a/b",
		"caf\xc3\xa9", "a\n", " a", "-",
	};
	char long_id[80];
	struct sh_err err;

	(void)state;
	for (size_t i = 0; i < COUNT(good); i++) {
		sh_err_clear(&err);
		if (sh_slug_check(good[i], "id", &err) != 0)
			fail_msg("\"%s\" was refused: %s", good[i], err.msg);
	}
	for (size_t i = 0; i < COUNT(bad); i++) {
		sh_err_clear(&err);
		if (sh_slug_check(bad[i], "id", &err) != -1)
			fail_msg("\"%s\" was accepted as a slug", bad[i]);
		expect_err(&err, SH_E_INVALID_FIELD, "id");
	}
	memset(long_id, 'z', 64);
	long_id[64] = '\0';
	assert_int_equal(sh_slug_check(long_id, "id", &err), 0);
	long_id[64] = 'z';
	long_id[65] = '\0';
	assert_int_equal(sh_slug_check(long_id, "id", &err), -1);
}

/* ------------------------------------------------------------------ */
/* git names */

/* valid accepts each of good and refuses each of bad; a failure says what
 * kind of name ("a ref name") it was checked as. */
static void
expect_names(bool (*valid)(const char *), const char *what,
	     const char *const *good, size_t n_good, const char *const *bad,
	     size_t n_bad)
{
	for (size_t i = 0; i < n_good; i++)
		if (!valid(good[i]))
			fail_msg("\"%s\" was refused as %s", good[i], what);
	for (size_t i = 0; i < n_bad; i++)
		if (valid(bad[i]))
			fail_msg("\"%s\" was accepted as %s", bad[i], what);
}

#define EXPECT_NAMES(valid, what, good, bad)                                 \
	expect_names((valid), (what), (good), COUNT(good), (bad), COUNT(bad))

/* valid accepts max copies of c and refuses max + 1: max is the longest. */
static void
expect_longest(bool (*valid)(const char *), const char *what, char c,
	       size_t max)
{
	char *name = malloc(max + 2);

	assert_non_null(name);
	memset(name, c, max + 1);
	name[max] = '\0';
	if (!valid(name))
		fail_msg("%zu characters were refused as %s", max, what);
	name[max] = c;
	name[max + 1] = '\0';
	if (valid(name))
		fail_msg("%zu characters were accepted as %s", max + 1, what);
	free(name);
}

static void
test_git_sha(void **state)
{
	(void)state;
	assert_true(sh_git_sha_valid("da1560886d4f094c3e6c9ef40349f7d38b5d27d7"));
	assert_true(sh_git_sha_valid("0000000000000000000000000000000000000000"));
	assert_true(sh_git_sha_valid("DA1560886D4F094C3E6C9EF40349F7D38B5D27D7"));
	assert_false(sh_git_sha_valid(""));
	assert_false(sh_git_sha_valid("da1560886d4f094c3e6c9ef40349f7d38b5d27d"));
	assert_false(sh_git_sha_valid("da1560886d4f094c3e6c9ef40349f7d38b5d27d70"));
	assert_false(sh_git_sha_valid("ga1560886d4f094c3e6c9ef40349f7d38b5d27d7"));
	assert_false(sh_git_sha_valid("da1560886d4f094c3e6c9ef40349f7d38b5d27d "));
	assert_false(sh_git_sha_valid(" da1560886d4f094c3e6c9ef40349f7d38b5d27d"));
	assert_false(sh_git_sha_valid("da1560886d4f094c3e6c9ef40349f7d38b5d27-7"));
	/* a SHA-256 id is longer: not what this accepts */
	assert_false(sh_git_sha_valid(
		"da1560886d4f094c3e6c9ef40349f7d38b5d27d7da1560886d4f094c3e6c9ef4"));
}

static void
test_git_ref_names(void **state)
{
	static const char *const good[] = {
		"main", "master", "feature/x", "feature/x/y", "release-1.2",
		"v1.0.0", "a.b", "foo@bar", "a-", "_", "UPPER", "x.lockx",
		"a.lock.b", "caf\xc3\xa9", "refs/heads/main", "a{b}", "a!b", "a#b",
		"a+b", "a,b", "a=b", "a@b{c",
	};
	static const char *const bad[] = {
		"", "a..b", "..", ".hidden", "a/.b", "a/./b", "a/../b", ".",
		"x.lock", "a/x.lock", "a/x.lock/b", ".lock", "a/", "/a", "a//b",
		"a.", "a/b.", "@", "a@{b", "@{", "a b", "a~1", "a^", "a^{}", "a:b",
		"a?", "a*", "a[b", "a\\b", "a\001b", "a\x1f", "a\x7f", "a\tb",
		"a\nb", "/",
	};

	(void)state;
	EXPECT_NAMES(sh_git_ref_name_valid, "a ref name", good, bad);
	expect_longest(sh_git_ref_name_valid, "a ref name", 'r', SH_GIT_REF_MAX);
}

static void
test_git_namespace(void **state)
{
	static const char *const good[] = {
		"group", "group-1", "group-1/sub", "group1/group2/group3",
		"user.name", "G_1", "a/b/c/d/e/f/g", "1", "a.b-c_d",
	};
	static const char *const bad[] = {
		"", "/", "/group", "group/", "group//sub", "group/../x", "group/./x",
		"..", ".", "group sub", "group\\sub", "caf\xc3\xa9", "group/caf\xc3\xa9",
		"g\n", "g?", "g%2Fsub", "g:h", "g@h",
	};
	char path[SH_GIT_PATH_MAX + 64];

	(void)state;
	EXPECT_NAMES(sh_git_namespace_valid, "a namespace", good, bad);
	/* a segment of 255 characters is fine, 256 is not */
	expect_longest(sh_git_namespace_valid, "a namespace", 's', 255);
	/* at most SH_GIT_PATH_MAX in all: segments of 9 and '/' */
	memset(path, 'n', sizeof(path));
	for (size_t i = 9; i < sizeof(path); i += 10)
		path[i] = '/';
	path[SH_GIT_PATH_MAX - 1] = 'n';
	path[SH_GIT_PATH_MAX] = '\0';
	assert_true(sh_git_namespace_valid(path));
	path[SH_GIT_PATH_MAX] = 'n';
	path[SH_GIT_PATH_MAX + 1] = '\0';
	assert_false(sh_git_namespace_valid(path));
}

static void
test_git_project(void **state)
{
	static const char *const good[] = {
		"project-a", "a", "grp2repo", "a.b_c", "Project.Name", "x..y",
	};
	static const char *const bad[] = {
		"", ".", "..", "a/b", "/a", "a/", "a b", "a\tb", "caf\xc3\xa9", "a~",
		"a:b",
	};

	(void)state;
	EXPECT_NAMES(sh_git_project_valid, "a project path", good, bad);
	expect_longest(sh_git_project_valid, "a project path", 'p', 255);
}

static void
test_git_subdir(void **state)
{
	static const char *const good[] = {
		"", "infra", "infra/vpc", "a/b/c", ".github", "a/.hidden", "a..b",
		"with space", "caf\xc3\xa9", "a-b_c.d",
	};
	static const char *const bad[] = {
		"/", "/infra", ".", "..", "./infra", "../infra", "infra/..",
		"infra/../x", "infra/./x", "infra//vpc", "a\nb", "a\x01", "a\x7f",
		"a\tb",
	};

	(void)state;
	EXPECT_NAMES(sh_git_subdir_valid, "a subdirectory", good, bad);
	expect_longest(sh_git_subdir_valid, "a subdirectory", 'd', SH_GIT_PATH_MAX);
}

/* sh_updates_escape: one URL component for GitLab's API. */
static void
test_escape(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(sh_updates_escape("group/sub/my-app_1.x~", out, sizeof(out)), 0);
	assert_string_equal(out, "group%2Fsub%2Fmy-app_1.x~");
	assert_int_equal(sh_updates_escape("stackhook/a b&c=\xc3\xa9", out, sizeof(out)), 0);
	assert_string_equal(out, "stackhook%2Fa%20b%26c%3D%C3%A9");
	assert_int_equal(sh_updates_escape("", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* exactly full, then one byte short: refused, never cut */
	assert_int_equal(sh_updates_escape("a/b", out, 6), 0);
	assert_string_equal(out, "a%2Fb");
	assert_int_equal(sh_updates_escape("a/b", out, 5), -1);
	assert_string_equal(out, "");
	assert_int_equal(sh_updates_escape("abc", out, 3), -1);
	assert_int_equal(sh_updates_escape("", out, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_parse_object),
		cmocka_unit_test(test_parse_not_an_object),
		cmocka_unit_test(test_parse_trailing_data),
		cmocka_unit_test(test_parse_invalid_utf8),
		cmocka_unit_test(test_parse_valid_utf8),
		cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_parse_escapes),
		cmocka_unit_test(test_escaped_nul_refused),
		cmocka_unit_test(test_check_accepts),
		cmocka_unit_test(test_check_unknown_field),
		cmocka_unit_test(test_check_required),
		cmocka_unit_test(test_check_types),
		cmocka_unit_test(test_check_immutable),
		cmocka_unit_test(test_check_string_length_in_characters),
		cmocka_unit_test(test_check_control_characters),
		cmocka_unit_test(test_check_c1_control_characters_refused),
		cmocka_unit_test(test_check_string_arrays),
		cmocka_unit_test(test_check_first_fault_named),
		cmocka_unit_test(test_accessors),
		cmocka_unit_test(test_strings_text),
		cmocka_unit_test(test_strings_parse),
		cmocka_unit_test(test_page_parse),
		cmocka_unit_test(test_page_after_out_of_range_refused),
		cmocka_unit_test(test_page_result),
		cmocka_unit_test(test_add_time),
		cmocka_unit_test(test_slug_from_name),
		cmocka_unit_test(test_slug_error_names_field),
		cmocka_unit_test(test_slug_check),
		cmocka_unit_test(test_git_sha),
		cmocka_unit_test(test_git_ref_names),
		cmocka_unit_test(test_git_namespace),
		cmocka_unit_test(test_git_project),
		cmocka_unit_test(test_git_subdir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
