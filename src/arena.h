/*
 * arena: bump allocation for one transaction's strings, freed all at once
 * when the transaction leaves the table. Ownership: the arena owns every
 * byte it hands out; arena_free accepts NULL.
 */
#ifndef EXIMEXPLAIN_ARENA_H
#define EXIMEXPLAIN_ARENA_H

#include <stddef.h>

#include "text.h"

struct arena_block;

struct arena {
	struct arena_block *blocks;
	size_t used;     /* bytes used in the newest block */
	size_t capacity; /* of the newest block */
	size_t total;    /* bytes handed out, for memory accounting */
};

void arena_init(struct arena *arena);
void arena_release(struct arena *arena);
/* Forget every byte handed out, as arena_release does, but keep a block
 * of the usual size for the next ones: for a record used again. */
void arena_clear(struct arena *arena);
void *arena_alloc(struct arena *arena, size_t size);
/* A NUL-terminated copy of t; "" for an empty view. */
char *arena_strdup(struct arena *arena, struct text t);

#endif
