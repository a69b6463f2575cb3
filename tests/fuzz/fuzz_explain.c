/*
 * fuzz_explain: the explainer with the real shipped rules on hostile
 * text, the way `explain TEXT` and `explain --tsv` get it. The input is
 * explained as one bare error text (an Exim "SMTP error from remote mail
 * server after ...", a reply "550 5.1.1 ...", or anything), then read as
 * explain --tsv input ("code<TAB>status<TAB>text" lines), then its first
 * line is taken as a stage name. Output goes to /dev/null.
 *
 * The explainer is loaded once per process.
 */
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "fuzz.h"
#include "strbuf.h"

static struct explainer *explainer;
static FILE *null_out;

static void setup(void)
{
	null_out = fuzz_null_out();
	explainer = fuzz_shipped_explainer();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (explainer == NULL)
		setup();
	struct text input = text_make((const char *)data, size);
	struct text none = text_make(NULL, 0);

	struct rule_facts facts;
	explain_text_facts(input, 0, none, none, none, &facts);
	if (explain_match(explainer, &facts) == NULL)
		fuzz_fail("explain_match gave NULL");
	explain_print(explainer, &facts, null_out);

	/* the same text with every override, as explain --code --status
	 * --stage --host give them */
	explain_text_facts(input, 550, TEXT_LITERAL("5.7.1"), explain_stage_name(TEXT_LITERAL("rcpt")),
	                   TEXT_LITERAL("mx.example.com"), &facts);
	explain_print(explainer, &facts, null_out);

	struct strbuf sb = STRBUF_INIT;
	rules_render(rule_explanation(explain_match(explainer, &facts)), &facts, false, &sb);
	strbuf_release(&sb);

	if (size > 0) {
		FILE *in = fmemopen((void *)data, size, "r");
		if (in == NULL)
			fuzz_fail("fmemopen");
		explain_tsv(explainer, in, null_out);
		fclose(in);
	}

	const char *newline = size ? memchr(data, '\n', size) : NULL;
	size_t first = newline ? (size_t)(newline - (const char *)data) : size;
	struct text stage = explain_stage_name(text_make((const char *)data, first));
	(void)stage;
	return 0;
}
