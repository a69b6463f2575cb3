/*
 * fuzz_rules: the rule-file parser and the rule engine on a hostile rule
 * file. The input is written to a temporary file and loaded twice into
 * one set, first as shipped rules and then as user rules (so a user rule
 * replacing a shipped one by id runs too); load errors are expected and
 * go to stderr. Then every rule is asked for its strings, facts of every
 * outcome (with the input itself as their texts, so the file's patterns
 * have something of their own to match) are matched, and the chosen
 * rule's templates, and the input as a template, are rendered.
 */
#include <string.h>

#include "fuzz.h"
#include "rules.h"
#include "strbuf.h"

static void facts_for(enum rule_outcome outcome, struct text input, struct rule_facts *out)
{
	memset(out, 0, sizeof *out);
	out->outcome = outcome;
	out->kind = outcome == RULE_EVENT ? LK_REJECTED_RCPT : LINE_KIND_COUNT;
	out->router = TEXT_LITERAL("dnslookup");
	out->transport = TEXT_LITERAL("remote_smtp");
	out->host = TEXT_LITERAL("mx.example.com");
	out->ip = TEXT_LITERAL("192.0.2.1");
	out->address = TEXT_LITERAL("user@example.com");
	out->domain = TEXT_LITERAL("example.com");
	out->sender = TEXT_LITERAL("sender@example.org");
	out->stage = TEXT_LITERAL("RCPT TO");
	out->code = outcome == RULE_DEFERRED ? 451 : 550;
	out->status = TEXT_LITERAL("5.1.1");
	out->error = input;
	out->text = input;
	out->id = TEXT_LITERAL("1vABCD-000123-XY");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_temp_file(data, size);
	struct rule_set *set = rules_new();
	rules_load(set, path, RULES_SHIPPED);
	rules_load(set, path, RULES_USER);

	struct strbuf sb = STRBUF_INIT;
	size_t count = rules_count(set);
	for (size_t i = 0; i < count; i++) {
		const struct rule *rule = rules_at(set, i);
		if (rule == NULL)
			fuzz_fail("rules_at gave NULL below rules_count");
		strbuf_reset(&sb);
		strbuf_append_str(&sb, rule_id(rule));
		strbuf_append_str(&sb, rule_reason(rule));
		strbuf_append_str(&sb, rule_owner(rule));
		strbuf_append_str(&sb, rule_file(rule));
		(void)rule_line(rule);
	}

	/* the input as text: a copy with its own NUL terminator */
	struct strbuf input = STRBUF_INIT;
	strbuf_append(&input, (const char *)data, size);
	for (int outcome = 0; outcome < RULE_OUTCOME_COUNT; outcome++) {
		struct rule_facts facts;
		facts_for((enum rule_outcome)outcome, strbuf_text(&input), &facts);
		const struct rule *rule = rules_match(set, &facts);
		if (rule == NULL)
			fuzz_fail("rules_match gave NULL");
		strbuf_reset(&sb);
		rules_render(rule_explanation(rule), &facts, false, &sb);
		rules_render(rule_action(rule), &facts, outcome & 1, &sb);
		rules_render(input.data ? input.data : "", &facts, false, &sb);
		rules_render(input.data ? input.data : "", NULL, true, &sb);
	}
	strbuf_release(&input);
	strbuf_release(&sb);
	rules_free(set);
	return 0;
}
