/*
 * memo: a bounded cache from byte strings to pointers, for answers that
 * cost much more to work out than to look up and repeat often (the rule
 * a failure's facts match: a log says the same few hundred things many
 * thousands of times).
 *
 * Direct-mapped: a key has one slot, chosen by its hash, and a new key
 * takes the slot over. Keys are compared byte for byte, so a hit is
 * always the answer that was put for exactly this key; a collision only
 * costs a miss. Memory is fixed at creation (slots * MEMO_KEY_MAX bytes
 * of keys, taken when first written); a key longer than MEMO_KEY_MAX is
 * never kept.
 *
 * Ownership: a memo owns its copies of the keys; values are borrowed and
 * must outlive it.
 */
#ifndef EXIMEXPLAIN_MEMO_H
#define EXIMEXPLAIN_MEMO_H

#include <stddef.h>
#include <stdint.h>

#define MEMO_KEY_MAX 1024

struct memo;

/* slots: a power of two. */
struct memo *memo_new(size_t slots);
void memo_free(struct memo *memo);

/* A 64-bit hash of bytes, for memo_get and memo_put. */
uint64_t memo_hash(const void *key, size_t length);

/* The value put for this key, or NULL. */
const void *memo_get(const struct memo *memo, const void *key, size_t length, uint64_t hash);
/* Keep value for this key (not NULL), over whatever its slot held. */
void memo_put(struct memo *memo, const void *key, size_t length, uint64_t hash,
              const void *value);

#endif
