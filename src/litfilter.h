/*
 * litfilter: a cheap necessary condition for a caseless rule pattern.
 *
 * Most patterns in the rule table are alternations of plain words
 * ("mailbox is full|quota exceeded"). A text can match such a pattern only
 * if it holds, ignoring ASCII case, the required words of one branch, and
 * it can hold a word only if it holds every three-byte piece (trigram) of
 * it. A text's trigrams are hashed once into a bitset; after that each
 * rule is passed over with a few bit tests instead of a PCRE2 call.
 *
 * The filter answers only "cannot match" or "may match". A wrong "may"
 * costs one regex call; a wrong "cannot" would give a wrong explanation,
 * so the pattern reader gives up (the filter then says "may" to every
 * text) on any syntax it does not fully understand.
 */
#ifndef EXIMEXPLAIN_LITFILTER_H
#define EXIMEXPLAIN_LITFILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "text.h"

#define LIT_TRIGRAM_BITS 4096u

/* The trigrams of one text, folded to lower case and hashed. */
struct lit_trigrams {
	uint64_t bits[LIT_TRIGRAM_BITS / 64];
};

void lit_trigrams_of(struct text text, struct lit_trigrams *out);
/* The same, added to the trigrams out has already. */
void lit_trigrams_add(struct text text, struct lit_trigrams *out);

struct lit_filter;

struct lit_filter *lit_filter_new(void);
void lit_filter_free(struct lit_filter *filter);

/* Add a pattern, compiled PCRE2_CASELESS without PCRE2_UTF, as one more
 * alternative. Returns false, and makes the filter say "may match" from
 * then on, when some branch of it has no literal of three bytes or more
 * that every match must contain, or uses syntax this reader does not
 * follow (\Q, inline options, verbs, most escapes ...). */
bool lit_filter_add(struct lit_filter *filter, struct text pattern);

/* False only when no text with these trigrams can match any pattern
 * added. A NULL filter, or one that gave up, may match everything. */
bool lit_filter_may_match(const struct lit_filter *filter, const struct lit_trigrams *trigrams);

/* Whether the filter can ever say "cannot match". */
bool lit_filter_usable(const struct lit_filter *filter);

/* The top-level branches of the patterns added, in order; 0 for a filter
 * that is not usable. A text matches the patterns exactly when it matches
 * one branch compiled alone: the syntax a usable filter has read has no
 * inline options, back references, recursion or verbs that could tie one
 * branch to another. So a caller may run only the branches that may
 * match, each a small pattern, instead of the whole alternation. */
size_t lit_filter_branch_count(const struct lit_filter *filter);
/* Branch i's text (i < lit_filter_branch_count), valid while the filter is. */
struct text lit_filter_branch(const struct lit_filter *filter, size_t i);
/* The first branch, from branch `from` on, that a text with these
 * trigrams may match; lit_filter_branch_count when none may. */
size_t lit_filter_next_branch(const struct lit_filter *filter, size_t from,
                              const struct lit_trigrams *trigrams);

/* The trigrams (bits of struct lit_trigrams) that one set of a filter
 * tests: a text that lacks any of them cannot hold the set's literal. */
#define LIT_PROBES 8
struct lit_probe_set {
	uint16_t probe[LIT_PROBES];
	unsigned count; /* 1 .. LIT_PROBES */
};

static inline bool lit_probe_set_holds(const struct lit_probe_set *set,
                                       const struct lit_trigrams *trigrams)
{
	for (unsigned k = 0; k < set->count; k++)
		if (!(trigrams->bits[set->probe[k] / 64] & (UINT64_C(1) << (set->probe[k] % 64))))
			return false;
	return true;
}

/* What the filter tests: for a usable filter, the number of probe sets
 * (one or more per branch), and each of them. A text that holds none of
 * the sets whole gets "cannot match" from the filter, so a caller may
 * look the sets up by one of their trigrams in the text's bits instead of
 * asking the filter. 0 for a filter that is not usable. */
size_t lit_filter_probe_sets(const struct lit_filter *filter);
const struct lit_probe_set *lit_filter_probe_set(const struct lit_filter *filter, size_t set);

#endif
