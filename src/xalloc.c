/*
 * xalloc: allocation wrappers. They exit on failure instead of returning
 * NULL; they must never be used for sizes that come straight from input
 * without a bound checked by the caller.
 */
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

static void *checked(void *ptr, size_t size)
{
	if (ptr == NULL && size != 0)
		msg_fatal("out of memory (%zu bytes)", size);
	return ptr;
}

void *xmalloc(size_t size)
{
	return checked(malloc(size ? size : 1), size ? size : 1);
}

void *xcalloc(size_t count, size_t size)
{
	return checked(calloc(count ? count : 1, size ? size : 1), 1);
}

void *xrealloc(void *ptr, size_t size)
{
	return checked(realloc(ptr, size ? size : 1), size ? size : 1);
}

void *xreallocarray(void *ptr, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		msg_fatal("out of memory (%zu x %zu bytes)", count, size);
	return xrealloc(ptr, count * size);
}

char *xmemdup(const char *s, size_t length)
{
	char *copy = xmalloc(length + 1);
	if (length)
		memcpy(copy, s, length);
	copy[length] = '\0';
	return copy;
}

char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}
