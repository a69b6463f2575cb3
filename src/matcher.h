/*
 * matcher: what PCRE2 needs to run compiled patterns on untrusted text
 * under limits: match data, and a match context with a match limit, a
 * depth limit and a JIT stack of up to 1 MiB. A pattern that hits a limit
 * gives up (an error return), which the callers count as no match.
 *
 * A compiled pattern may be shared by threads; a matcher may not: each
 * thread that matches needs its own (the prefilter's test runs on the
 * reading thread while the sink matches, linepipe.h).
 *
 * Ownership: a matcher owns its three objects; matcher_release frees them
 * (and is a no-op on a zeroed matcher).
 */
#ifndef EXIMEXPLAIN_MATCHER_H
#define EXIMEXPLAIN_MATCHER_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>
#include <stdint.h>

struct matcher {
	pcre2_match_data *match;
	pcre2_match_context *context;
	pcre2_jit_stack *jit_stack; /* NULL when none could be made: the JIT's own then */
};

void matcher_init(struct matcher *m, uint32_t match_limit, uint32_t depth_limit);
void matcher_release(struct matcher *m);

#endif
