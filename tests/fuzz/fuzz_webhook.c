/* libFuzzer target: a webhook body through the parser and the trigger
 * rules, against a stack, a module and a stack with a project root. */
#include <stddef.h>
#include <stdint.h>

#include "stackhook/json.h"
#include "stackhook/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sh_stack_target targets[] = {
		{"vpc", false, "master", ""},
		{"mod", true, "main", ""},
		{"net", false, "dev", "infra/net"},
	};
	struct sh_decision decision;
	struct sh_event ev;
	struct sh_err err;
	cJSON *body;

	if (sh_json_parse_object((const char *)data, size, &body, &err) < 0)
		return 0;
	if (sh_webhook_parse(body, &ev, &err) == 0)
		for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
			sh_webhook_decide(&ev, &targets[i], &decision);
	sh_webhook_event_release(&ev);
	cJSON_Delete(body);
	return 0;
}
