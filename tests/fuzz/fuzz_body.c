/* libFuzzer target: admin API bodies through the parser and the field
 * checks the models use (create and patch). */
#include <stddef.h>
#include <stdint.h>

#include "stackhook/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sh_json_field fields[] = {
		{"name", SH_JSON_STRING, 64, SH_JSON_REQUIRED | SH_JSON_IMMUTABLE},
		{"description", SH_JSON_TEXT, 4096, SH_JSON_NULLABLE},
		{"labels", SH_JSON_STRINGS, 32, SH_JSON_NULLABLE},
		{"inherit", SH_JSON_BOOL, 0, 0},
		{"summary", SH_JSON_OBJECT, 0, 0},
		{"count", SH_JSON_INT, 1000, 0},
	};
	struct sh_err err;
	cJSON *body;
	char *labels;

	if (sh_json_parse_object((const char *)data, size, &body, &err) < 0)
		return 0;
	sh_json_check(body, fields, 6, SH_JSON_CREATE, &err);
	sh_json_check(body, fields, 6, SH_JSON_PATCH, &err);
	labels = sh_json_strings_text(body, "labels");
	cJSON_free(labels);
	cJSON_Delete(body);
	return 0;
}
