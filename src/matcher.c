/*
 * matcher: one place that sets PCRE2's limits up.
 */
#include "matcher.h"

#include "msg.h"

#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (1u << 20)

void matcher_init(struct matcher *m, uint32_t match_limit, uint32_t depth_limit)
{
	m->match = pcre2_match_data_create(1, NULL);
	m->context = pcre2_match_context_create(NULL);
	if (m->match == NULL || m->context == NULL)
		msg_fatal("out of memory");
	pcre2_set_match_limit(m->context, match_limit);
	pcre2_set_depth_limit(m->context, depth_limit);
	m->jit_stack = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
	if (m->jit_stack)
		pcre2_jit_stack_assign(m->context, NULL, m->jit_stack);
}

void matcher_release(struct matcher *m)
{
	pcre2_jit_stack_free(m->jit_stack);
	pcre2_match_context_free(m->context);
	pcre2_match_data_free(m->match);
}
