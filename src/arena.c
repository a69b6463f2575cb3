/*
 * arena: a list of blocks, newest first. Small strings share a block;
 * a string larger than a block gets a block of its own.
 */
#include "arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define ARENA_BLOCK 2048

struct arena_block {
	struct arena_block *next;
	size_t capacity;
	alignas(max_align_t) char data[];
};

void arena_init(struct arena *arena)
{
	arena->blocks = NULL;
	arena->used = 0;
	arena->capacity = 0;
	arena->total = 0;
}

void arena_release(struct arena *arena)
{
	if (arena == NULL)
		return;
	struct arena_block *block = arena->blocks;
	while (block) {
		struct arena_block *next = block->next;
		free(block);
		block = next;
	}
	arena_init(arena);
}

void arena_clear(struct arena *arena)
{
	struct arena_block *kept = NULL, *block = arena->blocks;
	while (block) {
		struct arena_block *next = block->next;
		if (kept == NULL && block->capacity == ARENA_BLOCK) {
			kept = block;
			kept->next = NULL;
		} else {
			free(block);
		}
		block = next;
	}
	arena_init(arena);
	if (kept) {
		arena->blocks = kept;
		arena->capacity = ARENA_BLOCK;
	}
}

void *arena_alloc(struct arena *arena, size_t size)
{
	size = (size + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
	if (arena->blocks == NULL || arena->capacity - arena->used < size) {
		size_t capacity = size > ARENA_BLOCK ? size : ARENA_BLOCK;
		struct arena_block *block = xmalloc(sizeof *block + capacity);
		block->capacity = capacity;
		block->next = arena->blocks;
		arena->blocks = block;
		arena->used = 0;
		arena->capacity = capacity;
	}
	void *p = arena->blocks->data + arena->used;
	arena->used += size;
	arena->total += size;
	return p;
}

char *arena_strdup(struct arena *arena, struct text t)
{
	char *copy = arena_alloc(arena, t.len + 1);
	if (t.len)
		memcpy(copy, t.ptr, t.len);
	copy[t.len] = '\0';
	return copy;
}
