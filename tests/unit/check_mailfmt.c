/*
 * mailfmt tests: header fields from hostile text stay one field, fold and
 * encode within the line limits and decode back to the sanitised value;
 * addresses from the command line; Date and Message-ID; body transfer
 * encodings that decode back exactly. The decoders (base64, Q,
 * quoted-printable) and the UTF-8 check are written here again, on
 * purpose, so the module is not checked against itself.
 */
#include <stdint.h>
#include <string.h>

#include "mailfmt.h"
#include "msg.h"
#include "strbuf.h"
#include "suites.h"
#include "test_support.h"

#define EASTERN "EST5EDT,M3.2.0,M11.1.0" /* POSIX rules: no tzdata needed */
#define CENTRAL_EUROPE "CET-1CEST,M3.5.0,M10.5.0/3"
/* 64 characters: after "NAME:" no encoded-word fits on the line */
#define LONG_NAME "X-Eximexplain-A-Name-So-Long-That-No-Encoded-Word-Fits-After-It"

/* ---- helpers ---- */

/* Length of the valid UTF-8 character at p, 0 when invalid. */
static size_t utf8_length(const unsigned char *p, size_t left, uint32_t *cp)
{
	size_t n = p[0] < 0x80 ? 1 : p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 0;
	if (n == 0 || n > left || p[0] > 0xf4)
		return 0;
	uint32_t v = n == 1 ? p[0] : p[0] & (0x3fu >> (n - 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

static bool is_valid_utf8(struct text t)
{
	uint32_t cp;
	for (size_t i = 0, n; i < t.len; i += n)
		if ((n = utf8_length((const unsigned char *)t.ptr + i, t.len - i, &cp)) == 0)
			return false;
	return true;
}

/* The sanitising mailfmt.h promises, written independently. */
static void reference_sanitise(struct strbuf *out, struct text value)
{
	bool space_pending = false;
	for (size_t i = 0; i < value.len;) {
		uint32_t cp = 0;
		size_t n = utf8_length((const unsigned char *)value.ptr + i, value.len - i, &cp);
		bool blank = n > 0 && (cp <= 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		                       cp == 0x2028 || cp == 0x2029);
		if (blank) {
			space_pending = out->len > 0;
		} else {
			if (space_pending)
				strbuf_append_char(out, ' ');
			space_pending = false;
			if (n == 0)
				strbuf_append_str(out, "\xef\xbf\xbd");
			else
				strbuf_append(out, value.ptr + i, n);
		}
		i += n ? n : 1;
	}
}

static int base64_value(char c)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *hit = c ? strchr(alphabet, c) : NULL;
	return hit ? (int)(hit - alphabet) : -1;
}

static bool base64_decode(struct strbuf *out, struct text in)
{
	if (in.len % 4 != 0)
		return false;
	for (size_t i = 0; i < in.len; i += 4) {
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			v[k] = in.ptr[i + k] == '=' ? (pad++, 0) : base64_value(in.ptr[i + k]);
			bool bad_pad = pad > 0 && (in.ptr[i + k] != '=' || i + 4 < in.len);
			if (v[k] < 0 || bad_pad)
				return false;
		}
		uint32_t group = (uint32_t)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
		char bytes[3] = { (char)(group >> 16), (char)(group >> 8), (char)group };
		strbuf_append(out, bytes, (size_t)(3 - pad));
	}
	return true;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The octet of "XX" at p (two upper-case hex digits), or -1. */
static int hex_octet(const char *p)
{
	int high = hex_value(p[0]), low = high < 0 ? -1 : hex_value(p[1]);
	return low < 0 ? -1 : high * 16 + low;
}

static bool q_decode(struct strbuf *out, struct text in)
{
	for (size_t i = 0; i < in.len; i++) {
		if (in.ptr[i] == '_') {
			strbuf_append_char(out, ' ');
		} else if (in.ptr[i] == '=') {
			if (i + 2 >= in.len || hex_octet(in.ptr + i + 1) < 0)
				return false;
			strbuf_append_char(out, (char)hex_octet(in.ptr + i + 1));
			i += 2;
		} else {
			strbuf_append_char(out, in.ptr[i]);
		}
	}
	return true;
}

/* One encoded-word "=?UTF-8?B?...?=" (or ?Q?); fails the test unless it is
 * one, at most 75 characters, holding whole UTF-8 characters. */
static void decode_encoded_word(struct strbuf *out, struct text word)
{
	ck_assert_msg(word.len <= 75, "encoded-word of %zu characters: %.*s", word.len,
	              (int)word.len, word.ptr);
	ck_assert_msg(word.len >= 12 && (text_starts_with(word, "=?UTF-8?B?") ||
	                                 text_starts_with(word, "=?UTF-8?Q?")) &&
	                  text_ends_with(word, "?="),
	              "not an encoded-word: %.*s", (int)word.len, word.ptr);
	struct text payload = text_make(word.ptr + 10, word.len - 12);
	struct strbuf decoded = STRBUF_INIT;
	bool ok = word.ptr[8] == 'B' ? base64_decode(&decoded, payload)
	                             : q_decode(&decoded, payload);
	ck_assert_msg(ok, "bad payload: %.*s", (int)word.len, word.ptr);
	ck_assert_msg(is_valid_utf8(strbuf_text(&decoded)),
	              "encoded-word splits a character: %.*s", (int)word.len, word.ptr);
	strbuf_append_text(out, strbuf_text(&decoded));
	strbuf_release(&decoded);
}

/* A written field is one field: "Name:" first, ASCII only, every line
 * break but the last followed by a space, no empty line, no CR. */
static void assert_one_field(struct text field, const char *name)
{
	size_t n = strlen(name);
	ck_assert_msg(field.len > n && memcmp(field.ptr, name, n) == 0 && field.ptr[n] == ':',
	              "field does not start with %s:", name);
	ck_assert_msg(field.ptr[field.len - 1] == '\n', "field does not end in LF");
	for (size_t i = 0; i < field.len; i++) {
		unsigned char c = (unsigned char)field.ptr[i];
		ck_assert_msg((c >= 0x20 && c < 0x7f) || c == '\n', "raw byte 0x%02x at %zu", c, i);
		if (c == '\n' && i + 1 < field.len)
			ck_assert_msg(field.ptr[i + 1] == ' ' && i + 2 < field.len &&
			                  field.ptr[i + 2] != '\n',
			              "line %zu is not a continuation: %.*s", i, (int)field.len,
			              field.ptr);
	}
}

static size_t longest_line(struct text t)
{
	size_t longest = 0, column = 0;
	for (size_t i = 0; i < t.len; i++) {
		column = t.ptr[i] == '\n' ? 0 : column + 1;
		if (column > longest)
			longest = column;
	}
	return longest;
}

/* Lines of a plain field: at most 78 columns, unless the line is one
 * word too long for any line (then at most 998). */
static void assert_plain_lines(struct text field, const char *name)
{
	for (size_t i = 0; i < field.len;) {
		const char *end = memchr(field.ptr + i, '\n', field.len - i);
		struct text line = text_make(field.ptr + i, (size_t)(end - (field.ptr + i)));
		struct text words = text_skip(line, i == 0 ? strlen(name) + 2 : 1);
		ck_assert_msg(line.len <= 78 || (text_find(words, " ") < 0 && line.len <= 998),
		              "line of %zu: %.*s", line.len, (int)line.len, line.ptr);
		i += line.len + 1;
	}
}

/* The field's value as a reader gets it: unfolded, encoded-words decoded.
 * *encoded tells which form it had. */
static void field_value(struct strbuf *value, struct text field, const char *name,
                        bool *encoded)
{
	struct strbuf unfolded = STRBUF_INIT;
	for (size_t i = strlen(name) + 1; i + 1 < field.len; i++)
		if (field.ptr[i] != '\n')
			strbuf_append_char(&unfolded, field.ptr[i]);
	struct text rest = strbuf_text(&unfolded);
	*encoded = text_starts_with(rest, " =?");
	if (!*encoded) {
		if (rest.len > 0)
			strbuf_append_text(value, text_skip(rest, 1));
	} else {
		for (size_t i = 1; i < rest.len;) {
			const char *space = memchr(rest.ptr + i, ' ', rest.len - i);
			size_t n = space ? (size_t)(space - (rest.ptr + i)) : rest.len - i;
			decode_encoded_word(value, text_make(rest.ptr + i, n));
			i += n + 1;
		}
	}
	strbuf_release(&unfolded);
}

/* Writes the field, checks its shape and that it decodes to expected (the
 * sanitised value); returns whether it was encoded. */
static bool check_header(const char *name, struct text value, const char *expected)
{
	struct strbuf field = STRBUF_INIT, decoded = STRBUF_INIT;
	mailfmt_header(&field, name, value);
	assert_one_field(strbuf_text(&field), name);
	bool encoded;
	field_value(&decoded, strbuf_text(&field), name, &encoded);
	ck_assert_msg(text_equals(strbuf_text(&decoded), expected),
	              "value \"%s\" came back as \"%s\" from:\n%s", expected, decoded.data,
	              field.data);
	if (encoded)
		ck_assert_msg(longest_line(strbuf_text(&field)) <= 76, "encoded line over 76:\n%s",
		              field.data);
	else
		assert_plain_lines(strbuf_text(&field), name);
	strbuf_release(&field);
	strbuf_release(&decoded);
	return encoded;
}

#define assert_header(name, value, expected)                                  \
	do {                                                                  \
		struct strbuf sb_ = STRBUF_INIT;                              \
		mailfmt_header(&sb_, name, TEXT_LITERAL(value));              \
		assert_text(strbuf_text(&sb_), expected);                     \
		strbuf_release(&sb_);                                         \
	} while (0)

/* Deterministic pseudo-random numbers for the property tests. */
static uint32_t next_random(uint64_t *state)
{
	*state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return (uint32_t)(*state >> 33);
}

/* ---- header ---- */

START_TEST(test_header_plain_ascii)
{
	assert_header("Subject", "Mail failures on mx1.example.net: 3 bounced",
	              "Subject: Mail failures on mx1.example.net: 3 bounced\n");
	assert_header("Subject", "  a \t  b  ", "Subject: a b\n");
	assert_header("Subject", "", "Subject:\n");
	assert_header("Subject", " \r\n\t ", "Subject:\n");
	assert_header("MIME-Version", "1.0", "MIME-Version: 1.0\n");
	assert_header("Content-Type", "text/plain; charset=UTF-8",
	              "Content-Type: text/plain; charset=UTF-8\n");
	struct strbuf sb = STRBUF_INIT;
	mailfmt_header(&sb, "X-Empty", text_make(NULL, 0));
	assert_text(strbuf_text(&sb), "X-Empty:\n");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_header_long_ascii_folds)
{
	const char *value = "Mail delivery report for mx1.example.net covering 2026-11-21 06:25 "
	                    "to 2026-11-22 06:25: 17 failed, 4 deferred, 1 rejected at SMTP "
	                    "time, 0 frozen; see the body for causes and what to do";
	struct strbuf field = STRBUF_INIT;
	mailfmt_header(&field, "Subject", text_make(value, strlen(value)));
	assert_text(strbuf_text(&field),
	            "Subject: Mail delivery report for mx1.example.net covering 2026-11-21 06:25 to\n"
	            " 2026-11-22 06:25: 17 failed, 4 deferred, 1 rejected at SMTP time, 0 frozen;\n"
	            " see the body for causes and what to do\n");
	ck_assert_uint_le(longest_line(strbuf_text(&field)), 78);
	ck_assert(!check_header("Subject", text_make(value, strlen(value)), value));
	strbuf_release(&field);
}
END_TEST

START_TEST(test_header_long_word)
{
	struct strbuf word = STRBUF_INIT, value = STRBUF_INIT, expected = STRBUF_INIT;
	for (int i = 0; i < 120; i++)
		strbuf_append_char(&word, (char)('a' + i % 26));
	/* longer than a line: it runs over, on a line of its own */
	strbuf_printf(&value, "short %s tail", word.data);
	strbuf_printf(&expected, "Subject: short\n %s\n tail\n", word.data);
	struct strbuf field = STRBUF_INIT;
	mailfmt_header(&field, "Subject", strbuf_text(&value));
	assert_text(strbuf_text(&field), expected.data);
	/* first: on the first line */
	strbuf_reset(&field);
	strbuf_reset(&expected);
	mailfmt_header(&field, "Subject", strbuf_text(&word));
	strbuf_printf(&expected, "Subject: %s\n", word.data);
	assert_text(strbuf_text(&field), expected.data);
	/* a word that would pass 998 octets is encoded, so it can be split */
	while (word.len < 1200)
		strbuf_append_str(&word, "0123456789");
	ck_assert(check_header("Subject", strbuf_text(&word), word.data));
	strbuf_reset(&word);
	for (int i = 0; i < 989; i++) /* "Subject: " + 989 = 998 */
		strbuf_append_char(&word, 'w');
	ck_assert(!check_header("Subject", strbuf_text(&word), word.data));
	strbuf_append_char(&word, 'w');
	ck_assert(check_header("Subject", strbuf_text(&word), word.data));
	strbuf_release(&word);
	strbuf_release(&value);
	strbuf_release(&expected);
	strbuf_release(&field);
}
END_TEST

START_TEST(test_header_injection)
{
	assert_header("Subject", "hi\r\nBcc: victim@example.com",
	              "Subject: hi Bcc: victim@example.com\n");
	assert_header("Subject", "\n\nbody", "Subject: body\n");
	assert_header("Subject", "a\rb", "Subject: a b\n");
	assert_header("Subject", "x\n", "Subject: x\n");
	assert_header("Subject", "\r\n\r\nX-Evil: 1\r\n\r\n", "Subject: X-Evil: 1\n");
	assert_header("Subject", "a\r\n Bcc: b", "Subject: a Bcc: b\n");
	/* an invalid byte, and NEL (U+0085, C1) which some readers take as a line end */
	ck_assert(check_header("Subject", TEXT_LITERAL("a\x85" "b\xc2\x85" "c"),
	                       "a\xef\xbf\xbd" "b c"));
}
END_TEST

START_TEST(test_header_non_ascii)
{
	assert_header("Subject", "Zustellung fehlgeschlagen \xe2\x80\x93 M\xc3\xbcller",
	              "Subject: =?UTF-8?B?WnVzdGVsbHVuZyBmZWhsZ2VzY2hsYWdlbiDigJMgTcO8bGxlcg==?=\n");
	/* the same words again and again, over many encoded-words */
	const char *pieces[] = {
		"Zustellung fehlgeschlagen \xe2\x80\x93 M\xc3\xbcller ",
		"\xe9\x85\x8d\xe4\xbf\xa1\xe3\x81\xab\xe5\xa4\xb1\xe6\x95\x97", /* CJK, no spaces */
		"\xf0\x9f\x93\xac \xf0\x9f\x9a\xab\xf0\x9f\x98\x80", /* emoji */
	};
	for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
		struct strbuf value = STRBUF_INIT, expected = STRBUF_INIT;
		for (int i = 0; i < 12; i++)
			strbuf_append_str(&value, pieces[k]);
		reference_sanitise(&expected, strbuf_text(&value));
		ck_assert(check_header("Subject", strbuf_text(&value), expected.data));
		/* a header name of another length moves the first word's limit */
		ck_assert(check_header("X-Eximexplain-Affected-Senders", strbuf_text(&value),
		                       expected.data));
		/* no room for a word after this name: the value starts on line 2 */
		ck_assert(check_header(LONG_NAME, strbuf_text(&value), expected.data));
		strbuf_release(&value);
		strbuf_release(&expected);
	}
	assert_header(LONG_NAME, "\xc3\xbc", LONG_NAME ":\n =?UTF-8?B?w7w=?=\n");
	/* injection inside non-ASCII text */
	ck_assert(check_header("Subject", TEXT_LITERAL("Gr\xc3\xbc\xc3\x9f" "e\r\nBcc: x@y.example"),
	                       "Gr\xc3\xbc\xc3\x9f" "e Bcc: x@y.example"));
}
END_TEST

START_TEST(test_header_invalid_utf8)
{
	const char fffd[] = "\xef\xbf\xbd";
	struct strbuf expected = STRBUF_INIT;
	strbuf_printf(&expected, "caf%s ok %s%s %s%s%s %s%s", fffd, fffd, fffd, fffd, fffd, fffd,
	              fffd, fffd);
	/* Latin-1, an overlong '/', a surrogate, a cut-off character: one
	 * U+FFFD per byte */
	ck_assert(check_header("Subject", TEXT_LITERAL("caf\xe9 ok \xc0\xaf \xed\xa0\x80 \xe2\x80"),
	                       expected.data));
	strbuf_release(&expected);
	/* NUL inside the view */
	ck_assert(!check_header("Subject", text_make("a\0b", 3), "a b"));
}
END_TEST

START_TEST(test_header_control_bytes)
{
	assert_header("Subject", "\033[31mEVIL\033[0m", "Subject: [31mEVIL [0m\n");
	assert_header("Subject", "a\033]0;owned\007b\177c", "Subject: a ]0;owned b c\n");
	/* C1 CSI (U+009B) and the line separators U+2028, U+2029 */
	ck_assert(!check_header("Subject",
	                        TEXT_LITERAL("a\xc2\x9b" "31mb\xe2\x80\xa8" "c\xe2\x80\xa9"),
	                        "a 31mb c"));
	/* text a reader would decode as an encoded-word is itself encoded */
	ck_assert(check_header("Subject", TEXT_LITERAL("=?UTF-8?B?QmNjOiB4?="),
	                       "=?UTF-8?B?QmNjOiB4?="));
	ck_assert(check_header("Subject", TEXT_LITERAL("a =?b"), "a =?b"));
}
END_TEST

START_TEST(test_header_random_bytes)
{
	static const char *const pieces[] = {
		"a", "word", " ", "  ", "\r", "\n", "\r\n", "\t", "\033[2J", "\0", "\177",
		"\xc2\x9b", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80", "\xff", "\xc3",
		"\xe2\x80\xa8", "=?", "?=", "Bcc: x@y", "_", "\\",
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
	};
	size_t count = sizeof pieces / sizeof pieces[0];
	uint64_t state = 42;
	struct strbuf value = STRBUF_INIT, expected = STRBUF_INIT;
	for (int round = 0; round < 2000; round++) {
		strbuf_reset(&value);
		strbuf_reset(&expected);
		size_t n = next_random(&state) % 60;
		for (size_t i = 0; i < n; i++) {
			size_t k = next_random(&state) % count;
			/* "\0" is one byte, strlen says 0 */
			strbuf_append(&value, pieces[k], pieces[k][0] ? strlen(pieces[k]) : 1);
		}
		reference_sanitise(&expected, strbuf_text(&value));
		check_header("Subject", strbuf_text(&value), expected.data);
	}
	strbuf_release(&value);
	strbuf_release(&expected);
}
END_TEST

START_TEST(test_header_bad_name)
{
	struct strbuf sb = STRBUF_INIT;
	mailfmt_header(&sb, "Subject:", TEXT_LITERAL("x")); /* a caller's bug: exit 2 */
}
END_TEST

/* ---- addresses ---- */

START_TEST(test_address_list)
{
	static const char *const good[] = {
		"root@example.com",
		"Mail Admin <postmaster@example.net>",
		"\"Doe, John\" <john@example.org>",
		"a@b.example, c@d.example",
		" a@b.example ,c@d.example ",
		"<bounce@example.com>",
		"John Q. Public <jqp@example.com>",
		"user+tag@[192.0.2.1]",
		"\"odd local\"@example.com",
		"\"quoted \\\" quote\" <q@example.com>",
		"first.last@sub.example.co.uk",
		"root@localhost",
		"Admin <a@example.com>, b@example.com, \"C, D\" <c@example.com>",
	};
	static const char *const bad[] = {
		"", " ", ",", "root", "@example.com", "root@", "a@b\r\nBcc: x@y", "a@b\n",
		"a@b\r", "Admin <a@b", "Admin a@b>", "Admin <<a@b>>", "a@b,", ",a@b",
		"a@b,,c@d", "a@b, ,c@d", "<a@b> <c@d>", "Admin <>", "a@@b", "a b@c",
		"a@b c@d", "\"unterminated <a@b>", "a@b\tc", "Admin\t<a@b>",
		"J\xc3\xb6rg <j@example.com>", "j\xc3\xb6rg@example.com", ".a@example.com",
		"a.@example.com", "a..b@example.com", "a@example..com", "a@.example.com",
		"a@example.com.", "(comment) a@b", "a@b (comment)", "a@b\x7f", "a@[]",
		"a@[1.2.3.4", "Admin <a@b> trailing", "a@b>", "<a@b",
		"\"bad\x01quote\"@example.com",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		ck_assert_msg(mailfmt_address_list_ok(good[i]), "refused: %s", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(!mailfmt_address_list_ok(bad[i]), "accepted: %s", bad[i]);
	ck_assert(!mailfmt_address_list_ok(NULL));

	ck_assert(mailfmt_address_ok("Mail Admin <postmaster@example.net>"));
	ck_assert(mailfmt_address_ok("root@example.com"));
	ck_assert(!mailfmt_address_ok("a@example.com, b@example.com"));
	ck_assert(!mailfmt_address_ok("a@example.com,"));
	ck_assert(!mailfmt_address_ok(NULL));

	/* length limits: addr-spec 254, address MAILFMT_ADDRESS_MAX */
	struct strbuf long_address = STRBUF_INIT;
	strbuf_append_str(&long_address, "a@");
	while (long_address.len < 254)
		strbuf_append_char(&long_address, 'd');
	ck_assert(mailfmt_address_ok(long_address.data));
	strbuf_append_char(&long_address, 'd');
	ck_assert(!mailfmt_address_ok(long_address.data));
	strbuf_reset(&long_address);
	while (long_address.len < MAILFMT_ADDRESS_MAX - 7)
		strbuf_append_char(&long_address, 'N');
	strbuf_append_str(&long_address, "<a@b.c>");
	ck_assert_uint_eq(long_address.len, MAILFMT_ADDRESS_MAX);
	ck_assert(mailfmt_address_ok(long_address.data));
	strbuf_reset(&long_address);
	while (long_address.len < MAILFMT_ADDRESS_MAX - 6)
		strbuf_append_char(&long_address, 'N');
	strbuf_append_str(&long_address, "<a@b.c>");
	ck_assert(!mailfmt_address_ok(long_address.data));
	strbuf_release(&long_address);
}
END_TEST

START_TEST(test_address_header)
{
	struct strbuf sb = STRBUF_INIT;
	ck_assert(mailfmt_address_header(&sb, "To",
	                                 "a@example.com,Mail Admin <postmaster@example.net> "));
	assert_text(strbuf_text(&sb), "To: a@example.com, Mail Admin <postmaster@example.net>\n");
	strbuf_reset(&sb);
	ck_assert(mailfmt_address_header(
		&sb, "To",
		"ops-team@department.example.com, oncall@department.example.com, "
		"\"Doe, John\" <john.doe@department.example.com>, root@localhost"));
	assert_text(strbuf_text(&sb),
	            "To: ops-team@department.example.com, oncall@department.example.com,\n"
	            " \"Doe, John\" <john.doe@department.example.com>, root@localhost\n");
	strbuf_reset(&sb);
	strbuf_append_str(&sb, "kept");
	ck_assert(!mailfmt_address_header(&sb, "To", "a@b\nBcc: c@d"));
	ck_assert(!mailfmt_address_header(&sb, "From", ""));
	assert_text(strbuf_text(&sb), "kept");
	strbuf_release(&sb);
}
END_TEST

/* ---- Date and Message-ID ---- */

#define assert_date(epoch, expected)                              \
	do {                                                      \
		struct strbuf sb_ = STRBUF_INIT;                  \
		mailfmt_date(&sb_, epoch);                        \
		assert_text(strbuf_text(&sb_), expected);         \
		strbuf_release(&sb_);                             \
	} while (0)

START_TEST(test_date)
{
	int64_t november = utc_epoch(2026, 11, 22, 5, 25, 0);
	int64_t july = utc_epoch(2026, 7, 4, 16, 5, 9);
	use_time_zone("UTC");
	assert_date(november, "Sun, 22 Nov 2026 05:25:00 +0000");
	assert_date(0, "Thu, 01 Jan 1970 00:00:00 +0000");
	assert_date(utc_epoch(2024, 2, 29, 23, 59, 59), "Thu, 29 Feb 2024 23:59:59 +0000");
	use_time_zone(EASTERN);
	assert_date(november, "Sun, 22 Nov 2026 00:25:00 -0500");
	assert_date(july, "Sat, 04 Jul 2026 12:05:09 -0400");
	use_time_zone(CENTRAL_EUROPE);
	assert_date(november, "Sun, 22 Nov 2026 06:25:00 +0100");
	assert_date(july, "Sat, 04 Jul 2026 18:05:09 +0200");
	/* offsets with minutes, both signs */
	use_time_zone("IST-5:30");
	assert_date(november, "Sun, 22 Nov 2026 10:55:00 +0530");
	use_time_zone("NST3:30");
	assert_date(november, "Sun, 22 Nov 2026 01:55:00 -0330");
}
END_TEST

#define assert_message_id(epoch, pid, counter, host, expected)    \
	do {                                                      \
		struct strbuf sb_ = STRBUF_INIT;                  \
		mailfmt_message_id(&sb_, epoch, pid, counter, host); \
		assert_text(strbuf_text(&sb_), expected);         \
		strbuf_release(&sb_);                             \
	} while (0)

START_TEST(test_message_id)
{
	use_time_zone(EASTERN); /* the ID's time is UTC whatever TZ says */
	int64_t t = utc_epoch(2026, 11, 22, 5, 25, 0);
	assert_message_id(t, 4711, 1, "mx1.example.net", "<20261122052500.4711.1@mx1.example.net>");
	assert_message_id(t, 4711, 2, "mx1.example.net", "<20261122052500.4711.2@mx1.example.net>");
	assert_message_id(t + 1, 4712, 0, "MX1-b.Example.NET",
	                  "<20261122052501.4712.0@MX1-b.Example.NET>");
	/* host sanitising */
	assert_message_id(t, 1, 1, "", "<20261122052500.1.1@localhost>");
	assert_message_id(t, 1, 1, NULL, "<20261122052500.1.1@localhost>");
	assert_message_id(t, 1, 1, "...", "<20261122052500.1.1@localhost>");
	assert_message_id(t, 1, 1, ".a..b.", "<20261122052500.1.1@a.b>");
	assert_message_id(t, 1, 1, "bad host>\r\n<x", "<20261122052500.1.1@bad-host----x>");
	assert_message_id(t, 1, 1, "m\xc3\xbcller.example", "<20261122052500.1.1@m--ller.example>");
	assert_message_id(t, 1, 1, "a@b_c", "<20261122052500.1.1@a-b-c>");
	/* cut at 253 octets, never after a dot */
	struct strbuf host = STRBUF_INIT, sb = STRBUF_INIT, expected = STRBUF_INIT;
	while (host.len < 400)
		strbuf_append_char(&host, 'a');
	mailfmt_message_id(&sb, t, 1, 1, host.data);
	strbuf_printf(&expected, "<20261122052500.1.1@%.253s>", host.data);
	assert_text(strbuf_text(&sb), expected.data);
	strbuf_reset(&host);
	strbuf_reset(&sb);
	while (host.len < 400)
		strbuf_append_str(&host, "abcdefgh.");
	mailfmt_message_id(&sb, t, 1, 1, host.data);
	struct text id = text_skip(strbuf_text(&sb), (size_t)text_find(strbuf_text(&sb), "@") + 1);
	ck_assert_uint_le(id.len, 253 + 1);
	ck_assert(text_ends_with(id, "h.a>") && !text_contains(id, ".."));
	strbuf_reset(&host);
	strbuf_reset(&sb);
	strbuf_reset(&expected);
	while (host.len < 252)
		strbuf_append_char(&host, 'z');
	strbuf_printf(&expected, "<20261122052500.1.1@%s>", host.data);
	strbuf_append_str(&host, ".b");
	mailfmt_message_id(&sb, t, 1, 1, host.data);
	assert_text(strbuf_text(&sb), expected.data);
	strbuf_release(&host);
	strbuf_release(&sb);
	strbuf_release(&expected);
}
END_TEST

/* ---- body ---- */

/* Quoted-printable back to bytes; fails the test on any line over 76,
 * whitespace at the end of a line, or a malformed '='. */
static void qp_decode(struct strbuf *out, struct text in)
{
	ck_assert_msg(in.len == 0 || in.ptr[in.len - 1] == '\n', "QP does not end in LF");
	for (size_t i = 0; i < in.len;) {
		const char *end = memchr(in.ptr + i, '\n', in.len - i);
		size_t n = (size_t)(end - (in.ptr + i));
		const char *line = in.ptr + i;
		ck_assert_msg(n <= 76, "QP line of %zu: %.*s", n, (int)n, line);
		ck_assert_msg(n == 0 || (line[n - 1] != ' ' && line[n - 1] != '\t'),
		              "QP line ends in whitespace: %.*s", (int)n, line);
		bool soft = n > 0 && line[n - 1] == '=';
		for (size_t k = 0; k < n - soft; k++) {
			if (line[k] != '=') {
				strbuf_append_char(out, line[k]);
				continue;
			}
			ck_assert_msg(k + 2 < n + !soft && hex_octet(line + k + 1) >= 0,
			              "broken =XX in: %.*s", (int)n, line);
			strbuf_append_char(out, (char)hex_octet(line + k + 1));
			k += 2;
		}
		if (!soft)
			strbuf_append_char(out, '\n');
		i += n + 1;
	}
}

/* mailfmt_body on body: the declared encoding, and the output decoded
 * must give body back (with a final LF). */
static const char *check_body(struct text body, struct strbuf *encoded)
{
	const char *encoding = mailfmt_body(encoded, body);
	struct strbuf decoded = STRBUF_INIT, expected = STRBUF_INIT;
	strbuf_append_text(&expected, body);
	if (body.len > 0 && body.ptr[body.len - 1] != '\n')
		strbuf_append_char(&expected, '\n');
	if (strcmp(encoding, "quoted-printable") == 0) {
		qp_decode(&decoded, strbuf_text(encoded));
		for (size_t i = 0; i < encoded->len; i++)
			ck_assert_msg((encoded->data[i] >= 0x20 && encoded->data[i] < 0x7f) ||
			                  encoded->data[i] == '\n' || encoded->data[i] == '\t',
			              "raw byte 0x%02x in QP", (unsigned char)encoded->data[i]);
	} else {
		ck_assert_msg(strcmp(encoding, "7bit") == 0 || strcmp(encoding, "8bit") == 0,
		              "encoding %s", encoding);
		strbuf_append_text(&decoded, strbuf_text(encoded));
		ck_assert(is_valid_utf8(strbuf_text(encoded)));
		for (size_t i = 0; i < encoded->len; i++) {
			unsigned char c = (unsigned char)encoded->data[i];
			bool allowed = c >= 0x20 ? c != 0x7f : c == '\t' || c == '\n';
			ck_assert_msg(allowed, "byte 0x%02x", c);
			ck_assert(c < 0x80 || strcmp(encoding, "8bit") == 0);
		}
	}
	ck_assert_msg(same_bytes(strbuf_text(&decoded), strbuf_text(&expected)),
	              "body did not come back (%s)", encoding);
	strbuf_release(&decoded);
	strbuf_release(&expected);
	return encoding;
}

#define assert_body(body, encoding, expected)                                     \
	do {                                                                      \
		struct strbuf sb_ = STRBUF_INIT;                                  \
		ck_assert_str_eq(check_body(TEXT_LITERAL(body), &sb_), encoding); \
		assert_text(strbuf_text(&sb_), expected);                         \
		strbuf_release(&sb_);                                             \
	} while (0)

static struct text repeated(struct strbuf *sb, const char *piece, int times, const char *end)
{
	strbuf_reset(sb);
	for (int i = 0; i < times; i++)
		strbuf_append_str(sb, piece);
	strbuf_append_str(sb, end);
	return strbuf_text(sb);
}

START_TEST(test_body_7bit_and_8bit)
{
	assert_body("Hello\nWorld\n\n\tindented\n", "7bit", "Hello\nWorld\n\n\tindented\n");
	assert_body("no final line end", "7bit", "no final line end\n");
	assert_body("", "7bit", "");
	assert_body("Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe2\x80\x93 \xf0\x9f\x93\xac\n", "8bit",
	            "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln \xe2\x80\x93 \xf0\x9f\x93\xac\n");
	/* 78 per line is the limit: octets for ASCII, characters for UTF-8 */
	struct strbuf body = STRBUF_INIT, out = STRBUF_INIT;
	ck_assert_str_eq(check_body(repeated(&body, "a", 78, "\n"), &out), "7bit");
	strbuf_reset(&out);
	ck_assert_str_eq(check_body(repeated(&body, "a", 79, "\n"), &out), "quoted-printable");
	strbuf_reset(&out);
	ck_assert_str_eq(check_body(repeated(&body, "\xe6\x97\xa5", 78, "\n"), &out), "8bit");
	strbuf_reset(&out);
	ck_assert_str_eq(check_body(repeated(&body, "\xe6\x97\xa5", 79, "\n"), &out),
	                 "quoted-printable");
	strbuf_release(&body);
	strbuf_release(&out);
}
END_TEST

START_TEST(test_body_quoted_printable)
{
	struct strbuf body = STRBUF_INIT, out = STRBUF_INIT, expected = STRBUF_INIT;
	/* 200 characters: 75 + '=', 75 + '=', 50 */
	check_body(repeated(&body, "a", 200, "\n"), &out);
	strbuf_append(&expected, body.data, 75);
	strbuf_append_str(&expected, "=\n");
	strbuf_append(&expected, body.data, 75);
	strbuf_append_str(&expected, "=\n");
	strbuf_append(&expected, body.data, 50);
	strbuf_append_str(&expected, "\n");
	assert_text(strbuf_text(&out), expected.data);
	/* '=' and trailing whitespace; a CR makes the body quoted-printable */
	assert_body("x\ry=z \n", "quoted-printable", "x=0Dy=3Dz=20\n");
	assert_body("tab\t\n\x01 \n", "quoted-printable", "tab=09\n=01=20\n");
	/* the last character of a line may use column 76, the others not */
	strbuf_reset(&out);
	check_body(repeated(&body, "b", 76, "\n\x01\n"), &out);
	ck_assert(text_ends_with(strbuf_text(&out), "bbb\n=01\n"));
	ck_assert_uint_eq(longest_line(strbuf_text(&out)), 76);
	strbuf_reset(&out);
	check_body(repeated(&body, "b", 77, "\n\x01\n"), &out);
	ck_assert(text_ends_with(strbuf_text(&out), "b=\nbb\n=01\n"));
	/* a space before a soft break is no trailing space */
	strbuf_reset(&out);
	check_body(repeated(&body, "c", 74, " dddddddddd\x01\n"), &out);
	ck_assert(text_contains(strbuf_text(&out), "c =\ndddddddddd=01\n"));
	/* =XX triplets are never split, whatever the alignment */
	for (int shift = 0; shift < 3; shift++) {
		strbuf_reset(&out);
		struct text t = repeated(&body, "=\xc3\xa9", 90, "\n");
		struct strbuf shifted = STRBUF_INIT;
		strbuf_append(&shifted, "xx", (size_t)shift);
		strbuf_append_text(&shifted, t);
		ck_assert_str_eq(check_body(strbuf_text(&shifted), &out), "quoted-printable");
		strbuf_release(&shifted);
	}
	/* a last line without LF, invalid UTF-8, NUL */
	strbuf_reset(&out);
	ck_assert_str_eq(check_body(text_make("a\0b\n\xff\xfe end", 10), &out), "quoted-printable");
	assert_text(strbuf_text(&out), "a=00b\n=FF=FE end\n");
	strbuf_release(&body);
	strbuf_release(&out);
	strbuf_release(&expected);
}
END_TEST

START_TEST(test_body_random_bytes)
{
	static const char *const pieces[] = {
		"a", "word ", " ", "\t", "\n", "\n\n", "\r\n", "=", "=3D", ".", "From ", "\0",
		"\033", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80", "\xff", "\xc2\x9b",
		"0123456789012345678901234567890123456789",
	};
	size_t count = sizeof pieces / sizeof pieces[0];
	uint64_t state = 7;
	struct strbuf body = STRBUF_INIT, out = STRBUF_INIT;
	for (int round = 0; round < 2000; round++) {
		strbuf_reset(&body);
		strbuf_reset(&out);
		size_t n = next_random(&state) % 80;
		for (size_t i = 0; i < n; i++) {
			size_t k = next_random(&state) % count;
			strbuf_append(&body, pieces[k], pieces[k][0] ? strlen(pieces[k]) : 1);
		}
		check_body(strbuf_text(&body), &out);
	}
	strbuf_release(&body);
	strbuf_release(&out);
}
END_TEST

START_TEST(test_body_text)
{
	struct strbuf sb = STRBUF_INIT;
	const char input[] = "a\0b\033[2Jc\177|\xc2\x9b|\xff|\tT\r\nn \xc3\xbc\xe2\x80\xa8";
	mailfmt_append_body_text(&sb, text_make(input, sizeof input - 1));
	assert_text(strbuf_text(&sb),
	            "a\\000b\\033[2Jc\\177|\\302\\233|\xef\xbf\xbd|\tT\\r\nn \xc3\xbc\xe2\x80\xa8");
	/* and through the body: nothing raw, so no QP is needed for it */
	struct strbuf out = STRBUF_INIT;
	ck_assert_str_eq(mailfmt_body(&out, strbuf_text(&sb)), "8bit");
	ck_assert_ptr_null(memchr(out.data, '\0', out.len));
	ck_assert_ptr_null(memchr(out.data, '\033', out.len));
	ck_assert_ptr_null(memchr(out.data, '\r', out.len));
	strbuf_reset(&sb);
	mailfmt_append_body_text(&sb, text_make(NULL, 0));
	ck_assert_uint_eq(sb.len, 0);
	strbuf_release(&sb);
	strbuf_release(&out);
}
END_TEST

Suite *mailfmt_suite(void)
{
	Suite *suite = suite_create("mailfmt");
	TCase *header = tcase_create("header");
	tcase_add_test(header, test_header_plain_ascii);
	tcase_add_test(header, test_header_long_ascii_folds);
	tcase_add_test(header, test_header_long_word);
	tcase_add_test(header, test_header_injection);
	tcase_add_test(header, test_header_non_ascii);
	tcase_add_test(header, test_header_invalid_utf8);
	tcase_add_test(header, test_header_control_bytes);
	tcase_add_test(header, test_header_random_bytes);
	tcase_add_exit_test(header, test_header_bad_name, EXIT_TROUBLE);
	suite_add_tcase(suite, header);
	TCase *address = tcase_create("address");
	tcase_add_test(address, test_address_list);
	tcase_add_test(address, test_address_header);
	suite_add_tcase(suite, address);
	TCase *stamp = tcase_create("date and message-id");
	tcase_add_test(stamp, test_date);
	tcase_add_test(stamp, test_message_id);
	suite_add_tcase(suite, stamp);
	TCase *body = tcase_create("body");
	tcase_add_test(body, test_body_7bit_and_8bit);
	tcase_add_test(body, test_body_quoted_printable);
	tcase_add_test(body, test_body_random_bytes);
	tcase_add_test(body, test_body_text);
	suite_add_tcase(suite, body);
	return suite;
}
