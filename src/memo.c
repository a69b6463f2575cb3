/*
 * memo: one array of slot headers, and beside it one block of keys,
 * MEMO_KEY_MAX bytes per slot, taken from the allocator when the first
 * key is kept (calloc: pages never written are never touched).
 */
#include "memo.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "xalloc.h"

struct memo_slot {
	uint64_t hash;
	size_t length;
	const void *value; /* NULL: empty */
};

struct memo {
	struct memo_slot *slots;
	char *keys; /* slot i's key at keys + i * MEMO_KEY_MAX */
	size_t mask;
};

struct memo *memo_new(size_t slots)
{
	struct memo *memo = xcalloc(1, sizeof *memo);
	memo->slots = xcalloc(slots, sizeof *memo->slots);
	memo->mask = slots - 1;
	return memo;
}

void memo_free(struct memo *memo)
{
	if (memo == NULL)
		return;
	free(memo->slots);
	free(memo->keys);
	free(memo);
}

/* Eight bytes at a time, mixed by multiplication (as message_id_hash);
 * not text_hash, which goes a byte at a time over keys of hundreds. */
uint64_t memo_hash(const void *key, size_t length)
{
	return bytes_hash(key, length);
}

static size_t slot_of(const struct memo *memo, uint64_t hash)
{
	return (size_t)(hash >> 32 ^ hash) & memo->mask;
}

const void *memo_get(const struct memo *memo, const void *key, size_t length, uint64_t hash)
{
	size_t i = slot_of(memo, hash);
	const struct memo_slot *slot = &memo->slots[i];
	if (slot->value == NULL || slot->hash != hash || slot->length != length)
		return NULL;
	return memcmp(memo->keys + i * MEMO_KEY_MAX, key, length) == 0 ? slot->value : NULL;
}

void memo_put(struct memo *memo, const void *key, size_t length, uint64_t hash,
              const void *value)
{
	if (length > MEMO_KEY_MAX || value == NULL)
		return;
	if (memo->keys == NULL)
		memo->keys = xcalloc(memo->mask + 1, MEMO_KEY_MAX);
	size_t i = slot_of(memo, hash);
	memcpy(memo->keys + i * MEMO_KEY_MAX, key, length);
	memo->slots[i] = (struct memo_slot){ hash, length, value };
}
