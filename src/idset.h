/*
 * idset: a set of Exim message IDs, for grep's two passes (prefilter.h):
 * the messages the first pass found a matching line in. The IDs are
 * copied in (at most MESSAGE_ID_MAX bytes), so views into a line buffer
 * can be added and looked up. A lookup allocates nothing. The set holds
 * at most the capacity it was made with, so memory has a bound whatever
 * the input; idset_add says when the set is full.
 */
#ifndef EXIMEXPLAIN_IDSET_H
#define EXIMEXPLAIN_IDSET_H

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

struct idset;

struct idset *idset_new(size_t capacity);
void idset_free(struct idset *set);

/* true when id is in the set now (added, or there already); false when
 * the set is full or id is empty or longer than a message ID. */
bool idset_add(struct idset *set, struct text id);
bool idset_has(const struct idset *set, struct text id);
size_t idset_count(const struct idset *set);

#endif
