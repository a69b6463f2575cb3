/*
 * idset: open addressing with linear probing over slots that hold the ID
 * itself (no pointer to chase, no allocation per ID). Beside the slots, a
 * byte per slot (0: empty, else 1 to 255 from the hash) is probed first:
 * nearly every lookup is of an ID not in the set, and it ends in that
 * small array, which stays in cache, without touching a slot. The table
 * doubles at half full, up to the capacity asked for.
 */
#include "idset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "xalloc.h"

struct slot {
	unsigned char length;
	char id[MESSAGE_ID_MAX];
};

struct idset {
	unsigned char *tags; /* per slot: 0 empty, else tag_of(hash) */
	struct slot *slots;
	size_t mask;      /* slot count - 1; the count is a power of two */
	size_t count;
	size_t capacity;  /* most IDs ever held */
};

#define INITIAL_SLOTS 1024

struct idset *idset_new(size_t capacity)
{
	struct idset *set = xcalloc(1, sizeof *set);
	set->tags = xcalloc(INITIAL_SLOTS, 1);
	set->slots = xcalloc(INITIAL_SLOTS, sizeof *set->slots);
	set->mask = INITIAL_SLOTS - 1;
	set->capacity = capacity;
	return set;
}

void idset_free(struct idset *set)
{
	if (set == NULL)
		return;
	free(set->tags);
	free(set->slots);
	free(set);
}

static unsigned char tag_of(uint64_t hash)
{
	unsigned char tag = (unsigned char)(hash >> 56);
	return tag ? tag : 1;
}

/* The index of the slot holding id, or of the empty one where it would go. */
static size_t find(const struct idset *set, const char *id, size_t length, uint64_t hash)
{
	unsigned char tag = tag_of(hash);
	size_t i = (size_t)hash & set->mask;
	for (;;) {
		unsigned char t = set->tags[i];
		if (t == 0)
			return i;
		if (t == tag && set->slots[i].length == length &&
		    memcmp(set->slots[i].id, id, length) == 0)
			return i;
		i = (i + 1) & set->mask;
	}
}

static void put(struct idset *set, size_t i, uint64_t hash, const char *id, size_t length)
{
	set->tags[i] = tag_of(hash);
	set->slots[i].length = (unsigned char)length;
	memcpy(set->slots[i].id, id, length);
}

static void grow(struct idset *set)
{
	unsigned char *old_tags = set->tags;
	struct slot *old = set->slots;
	size_t old_count = set->mask + 1;
	set->tags = xcalloc(old_count * 2, 1);
	set->slots = xcalloc(old_count * 2, sizeof *set->slots);
	set->mask = old_count * 2 - 1;
	for (size_t i = 0; i < old_count; i++) {
		if (old_tags[i] == 0)
			continue;
		uint64_t hash = message_id_hash(old[i].id, old[i].length);
		put(set, find(set, old[i].id, old[i].length, hash), hash, old[i].id, old[i].length);
	}
	free(old_tags);
	free(old);
}

bool idset_add(struct idset *set, struct text id)
{
	if (id.len == 0 || id.len > MESSAGE_ID_MAX)
		return false;
	uint64_t hash = message_id_hash(id.ptr, id.len);
	size_t i = find(set, id.ptr, id.len, hash);
	if (set->tags[i])
		return true;
	if (set->count >= set->capacity)
		return false;
	if ((set->count + 1) * 2 > set->mask + 1) {
		grow(set);
		i = find(set, id.ptr, id.len, hash);
	}
	put(set, i, hash, id.ptr, id.len);
	set->count++;
	return true;
}

bool idset_has(const struct idset *set, struct text id)
{
	if (id.len == 0 || id.len > MESSAGE_ID_MAX)
		return false;
	return set->tags[find(set, id.ptr, id.len, message_id_hash(id.ptr, id.len))] != 0;
}

size_t idset_count(const struct idset *set)
{
	return set->count;
}
