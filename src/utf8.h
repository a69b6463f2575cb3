/*
 * utf8: the one UTF-8 decoder. Every place that decides whether log bytes
 * are text (escaping for the terminal, JSON strings, mail headers and
 * bodies) asks it, so they all agree on what is valid: no overlong forms,
 * no surrogates, nothing past U+10FFFF, no sequence cut short.
 */
#ifndef EXIMEXPLAIN_UTF8_H
#define EXIMEXPLAIN_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of the valid UTF-8 sequence at p (1 to 4, of at most left bytes)
 * and its code point (when code_point is not NULL), or 0 when p does not
 * begin one. left must be at least 1. */
size_t utf8_decode(const unsigned char *p, size_t left, uint32_t *code_point);

#endif
