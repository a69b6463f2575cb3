/*
 * strbuf: the one growable string type for building text (Postfix
 * VSTRING). Always NUL-terminated; may hold NULs inside (use len).
 * Ownership: the strbuf owns its bytes; strbuf_free accepts NULL.
 */
#ifndef EXIMEXPLAIN_STRBUF_H
#define EXIMEXPLAIN_STRBUF_H

#include <stddef.h>

#include "text.h"

struct strbuf {
	char *data;
	size_t len;
	size_t capacity;
};

#define STRBUF_INIT { NULL, 0, 0 }

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb); /* frees the bytes, keeps the struct */
void strbuf_reset(struct strbuf *sb);   /* length 0, keeps the memory */
void strbuf_reserve(struct strbuf *sb, size_t extra);
void strbuf_append(struct strbuf *sb, const char *s, size_t length);
void strbuf_append_str(struct strbuf *sb, const char *s);
void strbuf_append_text(struct strbuf *sb, struct text t);
void strbuf_append_char(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/* The contents as a view (valid until the strbuf changes). */
struct text strbuf_text(const struct strbuf *sb);
/* Append t with control bytes, DEL, C1 controls and invalid UTF-8 shown
 * visibly (\n, \033, \302\233, \377) so log text can never drive a
 * terminal; valid UTF-8 passes. Backslashes pass through: Exim does not
 * double them either (string_printing), so they mean what they say. */
void strbuf_append_escaped(struct strbuf *sb, struct text t);

#endif
