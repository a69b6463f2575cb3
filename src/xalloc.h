/*
 * xalloc: allocation that never returns NULL. Running out of memory is a
 * broken environment, not bad input: one line on stderr and exit 2, so call
 * sites carry no impossible branches (Postfix mymalloc).
 */
#ifndef EXIMEXPLAIN_XALLOC_H
#define EXIMEXPLAIN_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* xreallocarray: ptr resized to count * size, overflow-checked. */
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *s);
/* A NUL-terminated copy of length bytes at s. */
char *xmemdup(const char *s, size_t length);

#endif
