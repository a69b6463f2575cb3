/*
 * text: a borrowed (pointer, length) view of bytes that live elsewhere,
 * usually a log line in the input buffer. A view never owns its bytes and
 * is not NUL-terminated; an empty view may have ptr == NULL. Copy a view
 * (strbuf, xmemdup) before the buffer it points into goes away.
 */
#ifndef EXIMEXPLAIN_TEXT_H
#define EXIMEXPLAIN_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct text {
	const char *ptr;
	size_t len;
};

#define TEXT_LITERAL(s) ((struct text){ (s), sizeof(s) - 1 })

static inline struct text text_make(const char *ptr, size_t len)
{
	return (struct text){ ptr, len };
}

/* A view of a NUL-terminated string; NULL is the empty view. */
static inline struct text text_of(const char *s)
{
	return (struct text){ s, s ? strlen(s) : 0 };
}

static inline bool text_is_empty(struct text t)
{
	return t.len == 0;
}

static inline bool text_equals(struct text t, const char *s)
{
	size_t n = strlen(s);
	return t.len == n && (n == 0 || memcmp(t.ptr, s, n) == 0);
}

static inline bool text_starts_with(struct text t, const char *s)
{
	size_t n = strlen(s);
	return t.len >= n && (n == 0 || memcmp(t.ptr, s, n) == 0);
}

static inline bool text_ends_with(struct text t, const char *s)
{
	size_t n = strlen(s);
	return t.len >= n && (n == 0 || memcmp(t.ptr + t.len - n, s, n) == 0);
}

/* The view with its first n bytes removed (n is clamped). */
static inline struct text text_skip(struct text t, size_t n)
{
	if (n > t.len)
		n = t.len;
	return (struct text){ t.ptr + n, t.len - n };
}

#ifdef __SSE2__
/* Where each of the 16 bytes at p (all readable) is c: 0xFF there, else 0. */
static inline __m128i bytes_equal16(const char *p, char c)
{
	return _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), _mm_set1_epi8(c));
}
#endif

/* The index of the first byte c in s[i, length), or length. For the short
 * hops of the lexer (a token's end, a bracket's close): sixteen bytes at
 * a time in a vector register where there is SSE2 (every x86-64), else
 * eight in a general one, where a call to memchr costs more in its set-up
 * and its call than the few bytes cost to look at. Long searches (quote
 * to quote, a line's end) stay with memchr. Never reads past length. */
static inline size_t bytes_find(const char *s, size_t length, size_t i, char c)
{
#ifdef __SSE2__
	for (; i + 16 <= length; i += 16) {
		unsigned found = (unsigned)_mm_movemask_epi8(bytes_equal16(s + i, c));
		if (found)
			return i + (size_t)__builtin_ctz(found);
	}
#endif
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
	const uint64_t pattern = ones * (unsigned char)c;
	for (; i + 8 <= length; i += 8) {
		uint64_t word;
		memcpy(&word, s + i, 8);
		uint64_t x = word ^ pattern;
		/* a byte of 0 in x is a c; the lowest byte flagged is the first
		 * (flags above it may be false, from a borrow) */
		uint64_t found = (x - ones) & ~x & highs;
		if (found)
			return i + (size_t)(__builtin_ctzll(found) >> 3);
	}
	while (i < length && s[i] != c)
		i++;
	return i;
}

/* Offset of the first occurrence of s in t, or -1. memchr finds the
 * needle's first byte that is not a space (the phrases searched for often
 * start with one), and each candidate is compared whole: vectorised, and
 * for the rare bytes phrases tend to have ("(TCP/IP connection count")
 * a candidate or two per line, where glibc's memmem spends hundreds of
 * instructions on a needle's setup. Past TEXT_FIND_CANDIDATES candidates
 * that are no match (a common byte), a needle longer than
 * TEXT_SHORT_NEEDLE goes to memmem (two-way, linear) for the rest; a
 * shorter one stays, each candidate costing at most its few bytes. */
#define TEXT_SHORT_NEEDLE 4
#define TEXT_FIND_CANDIDATES 8

static inline long text_find(struct text t, const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return 0;
	if (t.len < n)
		return -1;
	size_t k = 0; /* the byte looked for: s[k] */
	while (k + 1 < n && s[k] == ' ')
		k++;
	const char *last = t.ptr + (t.len - n) + k; /* the last place s[k] can be */
	unsigned candidates = 0;
	for (const char *p = t.ptr + k; p <= last; p++) {
		p = memchr(p, s[k], (size_t)(last - p) + 1);
		if (p == NULL)
			return -1;
		if (memcmp(p - k, s, n) == 0)
			return (long)(p - k - t.ptr);
		if (++candidates == TEXT_FIND_CANDIDATES && n > TEXT_SHORT_NEEDLE) {
			const char *from = p - k + 1;
			const char *hit = memmem(from, (size_t)(t.ptr + t.len - from), s, n);
			return hit ? (long)(hit - t.ptr) : -1;
		}
	}
	return -1;
}

static inline bool text_contains(struct text t, const char *s)
{
	return text_find(t, s) >= 0;
}

/* text_contains's answer, looked for from the end: for words that
 * usually end the texts that have them, where the last place looked at
 * first is nearly always the one ("SMTP connection ... closed by QUIT",
 * a third of a busy log, whose classification this makes 30% cheaper).
 * Past TEXT_FIND_CANDIDATES candidates that are no match, text_contains
 * answers, so a hostile line costs no more than there. s is n bytes
 * long: a caller walking a table passes lengths measured once. */
static inline bool text_contains_from_end_n(struct text t, const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (t.len < n)
		return false;
	size_t k = 0; /* the byte looked for: s[k], as in text_find */
	while (k + 1 < n && s[k] == ' ')
		k++;
	/* s may start in [0, starts), so s[k] be in [k, starts + k) */
	size_t starts = t.len - n + 1;
	for (unsigned candidates = 0; starts > 0; candidates++) {
		if (candidates == TEXT_FIND_CANDIDATES)
			return text_contains(text_make(t.ptr, starts + n - 1), s);
		const char *p = memrchr(t.ptr + k, s[k], starts);
		if (p == NULL)
			return false;
		size_t i = (size_t)(p - t.ptr) - k;
		if (memcmp(t.ptr + i, s, n) == 0)
			return true;
		starts = i;
	}
	return false;
}

static inline bool text_contains_from_end(struct text t, const char *s)
{
	return text_contains_from_end_n(t, s, strlen(s));
}

/* FNV-1a over n bytes, continuing from h: the hash for tables of IDs and
 * cause keys, and for fingerprints kept in --state files (so it must not
 * change). Start with TEXT_HASH_SEED (plus a salt to keep families of
 * keys apart). */
#define TEXT_HASH_SEED UINT64_C(1469598103934665603)

static inline uint64_t text_hash(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

/* The last `left` (< 8) of n bytes as a word, read whole: a memcpy of a
 * variable length into a word is a call, and reading the word back
 * straight after its bytes were stored one by one stalls. Overlapping
 * reads give the same word for the same bytes, which is all a hash needs. */
static inline uint64_t bytes_tail(const unsigned char *bytes, size_t n, size_t left)
{
	uint64_t word;
	if (left == 0)
		return 0;
	if (n >= 8) { /* the last eight, less the ones already taken */
		memcpy(&word, bytes + n - 8, 8);
		return word >> (8 * (8 - left));
	}
	if (n >= 4) {
		uint32_t low, high;
		memcpy(&low, bytes, 4);
		memcpy(&high, bytes + n - 4, 4);
		return (uint64_t)low | (uint64_t)high << 32;
	}
	return (uint64_t)bytes[0] | (uint64_t)bytes[n / 2] << 8 | (uint64_t)bytes[n - 1] << 16;
}

/* A hash of n bytes taken eight at a time, for keys hashed on every line
 * or more (recipient addresses, memo keys): a few instructions a word
 * where text_hash takes a few a byte. The high bits are the well-mixed
 * ones, folded down so that a mask of the low bits may index. Not for
 * anything written to a file: it may change. */
static inline uint64_t bytes_hash(const void *key, size_t n)
{
	const unsigned char *bytes = key;
	uint64_t h = (uint64_t)n * UINT64_C(0x9E3779B97F4A7C15);
	uint64_t g = h ^ UINT64_C(0x27D4EB2F165667C5);
	size_t i = 0;
	/* Two words at a time into two lanes: one lane's multiplications
	 * wait for each other, two lanes' do not (memo keys are a few hundred
	 * bytes). */
	for (; i + 16 <= n; i += 16) {
		uint64_t first, second;
		memcpy(&first, bytes + i, 8);
		memcpy(&second, bytes + i + 8, 8);
		h = (h ^ first) * UINT64_C(0xC2B2AE3D27D4EB4F);
		g = (g ^ second) * UINT64_C(0x9FB21C651E98DF25);
		h ^= h >> 31;
		g ^= g >> 29;
	}
	if (i + 8 <= n) {
		uint64_t word;
		memcpy(&word, bytes + i, 8);
		h = (h ^ word) * UINT64_C(0xC2B2AE3D27D4EB4F);
		h ^= h >> 31;
		i += 8;
	}
	h ^= (g << 27 | g >> 37);
	h = (h ^ bytes_tail(bytes, n, n - i)) * UINT64_C(0x165667B19E3779F9);
	return h ^ h >> 29;
}

#endif
