/*
 * topk: the most frequent names of an unbounded stream in bounded memory
 * (Space-Saving, Metwally et al. 2005). Counts are exact while a table has
 * seen no more distinct names than it has slots; after that a newcomer
 * takes over the smallest slot and inherits its count as a possible
 * over-count (slot->error), which the output marks ("~").
 *
 * Names are copied, cut at TOPK_NAME_MAX bytes on a UTF-8 character
 * boundary. A table's slots grow 4, 8, 16 ... up to its capacity, so a
 * table that sees one name costs a few hundred bytes.
 *
 * Ownership: a table owns its slots; topk_release frees them.
 */
#ifndef EXIMEXPLAIN_TOPK_H
#define EXIMEXPLAIN_TOPK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

#define TOPK_NAME_MAX 100

struct topk_slot {
	uint64_t count;
	uint64_t error; /* over-count inherited from the evicted slot */
	char name[TOPK_NAME_MAX + 1];
};

struct topk {
	struct topk_slot *slots;
	size_t used, allocated;
	size_t capacity;        /* the most slots it may grow to */
	bool evicted;           /* counts may be over-estimates */
};

/* An empty table of at most capacity slots. */
#define TOPK_INIT(capacity_) { NULL, 0, 0, (capacity_), false }

void topk_add(struct topk *top, struct text name);
/* The same with ASCII letters lowercased: domains and host names, which
 * compare without case. */
void topk_add_lowercase(struct topk *top, struct text name);
/* Sort the slots by count (highest first), then name: call before reading
 * slots[0 .. used). */
void topk_sort(struct topk *top);
void topk_release(struct topk *top);

#endif
