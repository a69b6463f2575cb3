/*
 * fuzz_litfilter: the literal prefilter of rule patterns against PCRE2
 * itself. The input is a pattern, a NUL, and a text (no NUL: the input is
 * both). The pattern goes through the filter's reader whatever it is;
 * when PCRE2 compiles it as rules.c does (caseless, no UTF) and finds a
 * match in the text, the filter must not have said "cannot match": that
 * would be a wrong explanation in the report.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "fuzz.h"
#include "litfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *bytes = (const char *)data;
	const char *nul = memchr(bytes, '\0', size);
	struct text pattern = text_make(bytes, nul ? (size_t)(nul - bytes) : size);
	struct text text = nul ? text_make(nul + 1, size - pattern.len - 1) : pattern;

	struct lit_filter *filter = lit_filter_new();
	(void)lit_filter_add(filter, pattern);
	struct lit_trigrams trigrams;
	lit_trigrams_of(text, &trigrams);
	bool may = lit_filter_may_match(filter, &trigrams);
	lit_filter_free(filter);

	int code;
	PCRE2_SIZE offset;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)(pattern.len ? pattern.ptr : ""), pattern.len,
	                               PCRE2_CASELESS, &code, &offset, NULL);
	if (re == NULL)
		return 0;
	pcre2_match_context *context = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(context, 100000);
	pcre2_set_depth_limit(context, 1000);
	pcre2_match_data *match = pcre2_match_data_create(1, NULL);
	int rc = pcre2_match(re, (PCRE2_SPTR)(text.len ? text.ptr : ""), text.len, 0, 0, match,
	                     context);
	pcre2_match_data_free(match);
	pcre2_match_context_free(context);
	pcre2_code_free(re);
	if (rc >= 0 && !may)
		fuzz_fail("the literal filter turned away a text the pattern matches");
	return 0;
}
