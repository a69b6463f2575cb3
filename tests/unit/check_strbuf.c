/*
 * strbuf tests: escaping log text for a terminal or a mail body, held to
 * the rule written out byte by byte (printable ASCII as it is; \n \r \t;
 * valid UTF-8 except the C1 controls; every other byte as \ooo), for
 * every byte value at every place in the eight-byte words the escaping
 * reads at once, and for random texts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "suites.h"
#include "utf8.h"

/* The rule, one byte (or one UTF-8 character) at a time. */
static void escape_by_the_rule(const unsigned char *p, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x7f) {
			strbuf_append_char(out, (char)c);
			i++;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			strbuf_append_char(out, '\\');
			strbuf_append_char(out, c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
			i++;
		} else {
			size_t length = c >= 0x80 ? utf8_decode(p + i, n - i, NULL) : 0;
			if (length > 0 && !(length == 2 && c == 0xc2 && p[i + 1] < 0xa0)) {
				strbuf_append(out, (const char *)p + i, length);
				i += length;
			} else {
				strbuf_printf(out, "\\%03o", c);
				i++;
			}
		}
	}
}

static void assert_escapes_by_the_rule(const unsigned char *p, size_t n)
{
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	strbuf_append_escaped(&got, text_make((const char *)p, n));
	escape_by_the_rule(p, n, &want);
	bool same = got.len == want.len &&
	            (got.len == 0 || memcmp(got.data, want.data, got.len) == 0);
	ck_assert_msg(same, "%zu bytes: got %.*s, want %.*s", n, (int)got.len,
	              got.data ? got.data : "", (int)want.len, want.data ? want.data : "");
	strbuf_release(&got);
	strbuf_release(&want);
}

/* Each byte value at each of 20 places in a printable text of 20 bytes,
 * so at every offset of a word and in the bytewise tail. */
START_TEST(test_escaped_every_byte_everywhere)
{
	unsigned char text[20];
	for (unsigned value = 0; value < 256; value++)
		for (size_t at = 0; at < sizeof text; at++) {
			memset(text, 'a', sizeof text);
			text[at] = (unsigned char)value;
			assert_escapes_by_the_rule(text, sizeof text);
		}
}
END_TEST

/* The edges of printable: 0x1f and 0x7f are escaped, 0x20 and 0x7e are
 * not, and a DEL or 0xff inside a word of printable bytes is found. */
START_TEST(test_escaped_edges)
{
	struct strbuf out = STRBUF_INIT;
	strbuf_append_escaped(&out, text_make(" ~\x1f\x7f", 4));
	ck_assert_str_eq(out.data, " ~\\037\\177");
	strbuf_reset(&out);
	strbuf_append_escaped(&out, text_make("abcdefg\x7fhijklmno\xffp", 18));
	ck_assert_str_eq(out.data, "abcdefg\\177hijklmno\\377p");
	strbuf_release(&out);
}
END_TEST

/* Random texts, mostly printable with the odd control, DEL, high byte or
 * UTF-8 sequence, of every length up to 100. */
START_TEST(test_escaped_random_texts)
{
	static const unsigned char odd[] = { 0x00, 0x07, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f,
		                             0x80, 0x9b, 0xc2, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xff };
	unsigned char text[100];
	unsigned state = 12345;
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)round % (sizeof text + 1);
		for (size_t i = 0; i < n; i++) {
			state = state * 1103515245u + 12345u;
			unsigned r = state >> 16;
			text[i] = r % 16 == 0 ? odd[(r >> 4) % sizeof odd] : (unsigned char)(0x20 + r % 95);
		}
		assert_escapes_by_the_rule(text, n);
	}
}
END_TEST

Suite *strbuf_suite(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("escaped");
	tcase_add_test(tc, test_escaped_every_byte_everywhere);
	tcase_add_test(tc, test_escaped_edges);
	tcase_add_test(tc, test_escaped_random_texts);
	suite_add_tcase(s, tc);
	return s;
}
