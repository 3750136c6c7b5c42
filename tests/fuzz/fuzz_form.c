/* libFuzzer target: the web pages' parsers of untrusted text -- a posted
 * form (fcgi/form.c) -- and their writer: every value escaped, and a
 * description's Markdown (fcgi/html.c).  The output must never hold a '<'
 * that the writer did not put there: checked on the escaped text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sh_buf buf = SH_BUF_INIT;
	struct sh_form form = {0};
	struct sh_html h;
	struct sh_err err;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sh_form_parse((const char *)data, size, &form, &err) == 0) {
		for (size_t i = 0; i < form.count; i++) {
			sh_buf_init(&buf, 0);
			sh_html_init(&h, &buf);
			sh_html_text(&h, form.values[i]);
			if (strpbrk(sh_buf_str(&buf), "<>\"'") != NULL)
				abort();
			sh_buf_release(&buf);
		}
		(void)sh_form_get(&form, "csrf");
	}
	sh_form_release(&form);
	sh_buf_init(&buf, 0);
	sh_html_init(&h, &buf);
	sh_html_markdown(&h, text);
	sh_buf_release(&buf);
	free(text);
	return 0;
}
