/*
 * strbuf: growable strings. Growth is geometric so appends are amortised
 * O(1); a strbuf reused across lines (strbuf_reset) stops allocating once
 * it has reached the longest line's size.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "xalloc.h"

void strbuf_init(struct strbuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->capacity = 0;
}

void strbuf_release(struct strbuf *sb)
{
	if (sb == NULL)
		return;
	free(sb->data);
	strbuf_init(sb);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

void strbuf_reserve(struct strbuf *sb, size_t extra)
{
	if (extra > (size_t)-1 / 2 - sb->len)
		msg_fatal("string too long");
	size_t need = sb->len + extra + 1;
	if (need <= sb->capacity)
		return;
	size_t capacity = sb->capacity ? sb->capacity : 64;
	while (capacity < need)
		capacity *= 2;
	sb->data = xrealloc(sb->data, capacity);
	sb->capacity = capacity;
}

void strbuf_append(struct strbuf *sb, const char *s, size_t length)
{
	strbuf_reserve(sb, length);
	if (length)
		memcpy(sb->data + sb->len, s, length);
	sb->len += length;
	sb->data[sb->len] = '\0';
}

void strbuf_append_str(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void strbuf_append_text(struct strbuf *sb, struct text t)
{
	strbuf_append(sb, t.ptr, t.len);
}

void strbuf_append_char(struct strbuf *sb, char c)
{
	strbuf_append(sb, &c, 1);
}

void strbuf_printf(struct strbuf *sb, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(NULL, 0, format, ap);
	va_end(ap);
	if (n < 0)
		msg_fatal("bad format string");
	strbuf_reserve(sb, (size_t)n);
	va_start(ap, format);
	vsnprintf(sb->data + sb->len, (size_t)n + 1, format, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

struct text strbuf_text(const struct strbuf *sb)
{
	return text_make(sb->data, sb->len);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_sequence(const unsigned char *p, size_t left)
{
	unsigned c = p[0];
	size_t n;
	unsigned min;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000;
	else
		return 0;
	if (n > left)
		return 0;
	unsigned value = c & (0xff >> (n + 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		value = (value << 6) | (p[i] & 0x3f);
	}
	if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))
		return 0;
	return n;
}

void strbuf_append_escaped(struct strbuf *sb, struct text t)
{
	const unsigned char *p = (const unsigned char *)t.ptr;
	for (size_t i = 0; i < t.len;) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x7f) {
			strbuf_append_char(sb, (char)c);
			i++;
			continue;
		}
		if (c >= 0x80) {
			/* valid UTF-8 passes, except the C1 controls U+0080..U+009F
			 * (a terminal may take U+009B as CSI); anything else is shown
			 * byte by byte in octal, as Exim's string_printing does */
			size_t n = utf8_sequence(p + i, t.len - i);
			if (n > 0 && !(n == 2 && c == 0xc2 && p[i + 1] < 0xa0)) {
				strbuf_append(sb, t.ptr + i, n);
				i += n;
				continue;
			}
			strbuf_printf(sb, "\\%03o", c);
			i++;
			continue;
		}
		switch (c) {
		case '\n': strbuf_append(sb, "\\n", 2); break;
		case '\r': strbuf_append(sb, "\\r", 2); break;
		case '\t': strbuf_append(sb, "\\t", 2); break;
		default: strbuf_printf(sb, "\\%03o", c); break;
		}
		i++;
	}
}
