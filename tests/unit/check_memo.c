/*
 * memo tests: what was put is found for exactly its key; keys that share a
 * slot, a prefix or a hash with another are not taken for it; a key too
 * long to keep is never found; a slot taken over forgets its old key.
 */
#include <string.h>

#include "memo.h"
#include "suites.h"

static const void *get(const struct memo *memo, const char *key, size_t length)
{
	return memo_get(memo, key, length, memo_hash(key, length));
}

static void put(struct memo *memo, const char *key, size_t length, const void *value)
{
	memo_put(memo, key, length, memo_hash(key, length), value);
}

static const int one = 1, two = 2;

START_TEST(test_found_for_exactly_its_key)
{
	struct memo *memo = memo_new(64);
	ck_assert_ptr_null(get(memo, "abc", 3));
	put(memo, "abc", 3, &one);
	ck_assert_ptr_eq(get(memo, "abc", 3), &one);
	ck_assert_ptr_null(get(memo, "abd", 3));
	ck_assert_ptr_null(get(memo, "ab", 2));   /* a prefix */
	ck_assert_ptr_null(get(memo, "abcd", 4)); /* longer */
	/* bytes, NULs included */
	put(memo, "a\0b", 3, &two);
	ck_assert_ptr_eq(get(memo, "a\0b", 3), &two);
	ck_assert_ptr_null(get(memo, "a\0c", 3));
	memo_free(memo);
}
END_TEST

/* The hash is only where to look: the same hash with other bytes (a
 * collision) is a miss, not the other key's value. */
START_TEST(test_same_hash_other_bytes_is_a_miss)
{
	struct memo *memo = memo_new(64);
	uint64_t hash = memo_hash("first", 5);
	memo_put(memo, "first", 5, hash, &one);
	ck_assert_ptr_eq(memo_get(memo, "first", 5, hash), &one);
	ck_assert_ptr_null(memo_get(memo, "other", 5, hash));
	memo_free(memo);
}
END_TEST

/* One slot: each new key takes it over, and the old one is gone. */
START_TEST(test_slot_taken_over_forgets)
{
	struct memo *memo = memo_new(1);
	put(memo, "one", 3, &one);
	put(memo, "two", 3, &two);
	ck_assert_ptr_null(get(memo, "one", 3));
	ck_assert_ptr_eq(get(memo, "two", 3), &two);
	memo_free(memo);
}
END_TEST

START_TEST(test_key_too_long_is_not_kept)
{
	static char key[MEMO_KEY_MAX + 1];
	memset(key, 'k', sizeof key);
	struct memo *memo = memo_new(64);
	put(memo, key, MEMO_KEY_MAX + 1, &one);
	ck_assert_ptr_null(get(memo, key, MEMO_KEY_MAX + 1));
	put(memo, key, MEMO_KEY_MAX, &two); /* the longest kept */
	ck_assert_ptr_eq(get(memo, key, MEMO_KEY_MAX), &two);
	memo_free(memo);
}
END_TEST

/* Keys of every length up to 80 differ in their hashes from the same
 * bytes one shorter, and from one byte changed anywhere: the two lanes
 * of words, the word after them and the tail all read every byte. */
START_TEST(test_hash_reads_every_byte)
{
	char key[81];
	memset(key, 'a', sizeof key);
	for (size_t length = 1; length < sizeof key; length++) {
		uint64_t whole = memo_hash(key, length);
		ck_assert_uint_ne(whole, memo_hash(key, length - 1));
		for (size_t i = 0; i < length; i++) {
			key[i] = 'b';
			ck_assert_msg(memo_hash(key, length) != whole, "length %zu, byte %zu", length, i);
			key[i] = 'a';
		}
	}
}
END_TEST

Suite *memo_suite(void)
{
	Suite *s = suite_create("memo");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_found_for_exactly_its_key);
	tcase_add_test(tc, test_same_hash_other_bytes_is_a_miss);
	tcase_add_test(tc, test_slot_taken_over_forgets);
	tcase_add_test(tc, test_key_too_long_is_not_kept);
	tcase_add_test(tc, test_hash_reads_every_byte);
	suite_add_tcase(s, tc);
	return s;
}
