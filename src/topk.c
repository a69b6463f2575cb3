/*
 * topk: Space-Saving top-k (topk.h). Linear scan over at most capacity
 * slots: the tables are small (16 to 64 slots) and a scan of them costs
 * less than hashing a name.
 */
#include "topk.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static struct text cut_name(struct text name)
{
	if (name.len > TOPK_NAME_MAX) {
		name.len = TOPK_NAME_MAX; /* back to a character boundary */
		while (name.len > 0 && ((unsigned char)name.ptr[name.len] & 0xC0) == 0x80)
			name.len--;
	}
	return name;
}

static void grow(struct topk *top)
{
	if (top->used < top->allocated || top->allocated >= top->capacity)
		return;
	top->allocated = top->allocated ? top->allocated * 2 : 4;
	if (top->allocated > top->capacity)
		top->allocated = top->capacity;
	top->slots = xreallocarray(top->slots, top->allocated, sizeof *top->slots);
}

void topk_add(struct topk *top, struct text name)
{
	name = cut_name(name);
	size_t min = 0;
	for (size_t i = 0; i < top->used; i++) {
		struct topk_slot *slot = &top->slots[i];
		if (text_equals(name, slot->name)) {
			slot->count++;
			return;
		}
		if (slot->count < top->slots[min].count)
			min = i;
	}
	grow(top);
	struct topk_slot *slot;
	if (top->used < top->allocated) {
		slot = &top->slots[top->used++];
		slot->count = 1;
		slot->error = 0;
	} else if (top->used > 0) {
		slot = &top->slots[min];
		slot->error = slot->count;
		slot->count++;
		top->evicted = true;
	} else {
		return; /* capacity 0 */
	}
	if (name.len)
		memcpy(slot->name, name.ptr, name.len);
	slot->name[name.len] = '\0';
}

void topk_add_lowercase(struct topk *top, struct text name)
{
	char folded[TOPK_NAME_MAX];
	name = cut_name(name);
	for (size_t i = 0; i < name.len; i++) {
		char c = name.ptr[i];
		folded[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	topk_add(top, text_make(folded, name.len));
}

static int by_count_then_name(const void *a, const void *b)
{
	const struct topk_slot *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

void topk_sort(struct topk *top)
{
	if (top->used > 1)
		qsort(top->slots, top->used, sizeof *top->slots, by_count_then_name);
}

void topk_release(struct topk *top)
{
	free(top->slots);
	top->slots = NULL;
	top->used = top->allocated = 0;
	top->evicted = false;
}
