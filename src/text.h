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

/* Offset of the first occurrence of s in t, or -1. A needle of a few
 * bytes (": ", "] ") is found by memchr on its first byte, which is
 * vectorised where glibc's memmem walks short needles byte by byte; the
 * cost stays linear since each candidate is compared over at most
 * SHORT_NEEDLE bytes. Longer needles go to memmem (two-way, linear). */
#define TEXT_SHORT_NEEDLE 4

static inline long text_find(struct text t, const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return 0;
	if (t.len < n)
		return -1;
	if (n > TEXT_SHORT_NEEDLE) {
		const char *hit = memmem(t.ptr, t.len, s, n);
		return hit ? (long)(hit - t.ptr) : -1;
	}
	const char *last = t.ptr + (t.len - n); /* the last place a match can start */
	for (const char *p = t.ptr; p <= last; p++) {
		p = memchr(p, s[0], (size_t)(last - p) + 1);
		if (p == NULL)
			return -1;
		if (memcmp(p + 1, s + 1, n - 1) == 0)
			return (long)(p - t.ptr);
	}
	return -1;
}

static inline bool text_contains(struct text t, const char *s)
{
	return text_find(t, s) >= 0;
}

/* FNV-1a over n bytes, continuing from h: the one hash for every table of
 * IDs, cause keys and addresses. Start with TEXT_HASH_SEED (plus a salt to
 * keep families of keys apart). */
#define TEXT_HASH_SEED UINT64_C(1469598103934665603)

static inline uint64_t text_hash(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

#endif
