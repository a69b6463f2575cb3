/*
 * strbuf: growable strings. Growth is geometric so appends are amortised
 * O(1); a strbuf reused across lines (strbuf_reset) stops allocating once
 * it has reached the longest line's size.
 */
#include "strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "utf8.h"
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

/* How many bytes from p are printable ASCII (0x20 to 0x7e): eight at a
 * time while a word has none outside that, then byte by byte. grep shows
 * every line of what it selects through here. */
static size_t printable_run(const unsigned char *p, size_t n)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t high_bits = UINT64_C(0x8080808080808080);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		/* a high bit for a byte below 0x20 (subtracting borrows into
		 * it), and for one of 0x7f and above (adding 1 reaches 0x80, or
		 * it was there); a carry out of 0xff only adds false alarms,
		 * which the bytewise loop settles: none is ever missed */
		uint64_t below = (w - 0x20 * ones) & ~w;
		uint64_t above = (w + ones) | w;
		if ((below | above) & high_bits)
			break;
	}
	while (i < n && p[i] >= 0x20 && p[i] < 0x7f)
		i++;
	return i;
}

void strbuf_append_escaped(struct strbuf *sb, struct text t)
{
	const unsigned char *p = (const unsigned char *)t.ptr;
	for (size_t i = 0; i < t.len;) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x7f) { /* a run of printable ASCII, as it is */
			size_t end = i + printable_run(p + i, t.len - i);
			strbuf_append(sb, t.ptr + i, end - i);
			i = end;
			continue;
		}
		if (c >= 0x80) {
			/* valid UTF-8 passes, except the C1 controls U+0080..U+009F
			 * (a terminal may take U+009B as CSI); anything else is shown
			 * byte by byte in octal, as Exim's string_printing does */
			size_t n = utf8_decode(p + i, t.len - i, NULL);
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
