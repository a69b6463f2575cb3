/*
 * fields tests: the TAG=value scanner, the H= host parser, SMTP reply
 * parsing, multi-line reply iteration and unquoting, on values taken from
 * real log lines (exim-log-format.md sections 4, 6, 7, 11 and 16).
 */
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "strbuf.h"
#include "suites.h"
#include "test_support.h"

static struct text view(const char *s)
{
	return text_make(s, strlen(s));
}

/* ---- H= (section 6) ---- */

START_TEST(test_host_name_helo_ip_port)
{
	struct host_view h;
	ck_assert(fields_parse_host(view("localhost (myhost.test.ex) [127.0.0.1]:10001"), &h));
	assert_text(h.name, "localhost");
	assert_text(h.helo, "myhost.test.ex");
	assert_text(h.ip, "127.0.0.1");
	assert_text(h.port, "10001");
	ck_assert(!h.reused);
	ck_assert(!h.dnssec);
}
END_TEST

START_TEST(test_host_helo_and_ip)
{
	struct host_view h;
	ck_assert(fields_parse_host(view("(test) [10.0.0.2]"), &h)); /* test/log/0014 */
	assert_text(h.name, "");
	assert_text(h.helo, "test");
	assert_text(h.ip, "10.0.0.2");
	assert_text(h.port, "");
	/* a HELO that looks like an address: only the last [...] is the IP */
	ck_assert(fields_parse_host(view("([10.21.32.43]) [192.168.8.34]"), &h));
	assert_text(h.helo, "[10.21.32.43]");
	assert_text(h.ip, "192.168.8.34");
}
END_TEST

START_TEST(test_host_ip_only)
{
	struct host_view h;
	ck_assert(fields_parse_host(view("[10.9.8.7]"), &h)); /* test/log/0021 */
	assert_text(h.name, "");
	assert_text(h.helo, "");
	assert_text(h.ip, "10.9.8.7");
	assert_text(h.port, "");
	ck_assert(!h.reused);
	ck_assert(fields_parse_host(view("[::1]:25"), &h));
	assert_text(h.ip, "::1");
	assert_text(h.port, "25");
}
END_TEST

START_TEST(test_host_dnssec_and_reuse)
{
	struct host_view h;
	ck_assert(fields_parse_host(view("mx.example DS [192.0.2.1]:25*"), &h));
	assert_text(h.name, "mx.example");
	ck_assert(h.dnssec);
	assert_text(h.helo, "");
	assert_text(h.ip, "192.0.2.1");
	assert_text(h.port, "25");
	ck_assert(h.reused);
	/* 4.95+: the reuse star right after the IP when there is no port */
	ck_assert(fields_parse_host(view("127.0.0.1 [127.0.0.1]*"), &h));
	assert_text(h.name, "127.0.0.1");
	assert_text(h.ip, "127.0.0.1");
	assert_text(h.port, "");
	ck_assert(h.reused);
	ck_assert(!h.dnssec);
	/* test/log/4804 */
	ck_assert(fields_parse_host(view("l-sec.test.ex DS [127.0.0.1]"), &h));
	ck_assert(h.dnssec);
	ck_assert(!h.reused);
}
END_TEST

START_TEST(test_host_empty)
{
	struct host_view h;
	ck_assert(!fields_parse_host(view(""), &h));
}
END_TEST

/* ---- SMTP replies (section 11) ---- */

START_TEST(test_reply_with_enhanced_status)
{
	struct smtp_reply_view r;
	ck_assert(fields_parse_reply(view("550-5.7.1 [1.2.3.4] Our system has detected that this message is "
	                                  "likely unsolicited mail."), &r));
	ck_assert_int_eq(r.code, 550);
	assert_text(r.status, "5.7.1");
	assert_text(r.text, "[1.2.3.4] Our system has detected that this message is likely unsolicited mail.");

	ck_assert(fields_parse_reply(view("550 5.1.1 <a@b>: Recipient address rejected: User unknown"), &r));
	ck_assert_int_eq(r.code, 550);
	assert_text(r.status, "5.1.1");
	assert_text(r.text, "<a@b>: Recipient address rejected: User unknown");
}
END_TEST

START_TEST(test_reply_without_enhanced_status)
{
	struct smtp_reply_view r;
	ck_assert(fields_parse_reply(view("451 Temporary error"), &r)); /* test/log/0160 */
	ck_assert_int_eq(r.code, 451);
	assert_text(r.status, "");
	assert_text(r.text, "Temporary error");

	ck_assert(fields_parse_reply(view("250 OK id=10HmaY-000000005vi-0000"), &r));
	ck_assert_int_eq(r.code, 250);
	assert_text(r.status, "");
	assert_text(r.text, "OK id=10HmaY-000000005vi-0000");
}
END_TEST

START_TEST(test_reply_first_line_of_several)
{
	struct smtp_reply_view r;
	/* test/log/0014-style two-line reply, joined with a literal \n */
	ck_assert(fields_parse_reply(view("550-Recipient not liked on two lines\\n550 Here's the second"), &r));
	ck_assert_int_eq(r.code, 550);
	assert_text(r.status, "");
	assert_text(r.text, "Recipient not liked on two lines");
}
END_TEST

START_TEST(test_not_a_reply)
{
	struct smtp_reply_view r;
	ck_assert(!fields_parse_reply(view("Connection refused"), &r));
	ck_assert_int_eq(r.code, 0);
	ck_assert(!fields_parse_reply(view("5.7.1 blocked"), &r));
	ck_assert(!fields_parse_reply(view("4500 no"), &r));
	ck_assert(!fields_parse_reply(view("45"), &r));
	ck_assert(!fields_parse_reply(view("650 not a class"), &r));
}
END_TEST

START_TEST(test_reply_lines_plain_newline)
{
	struct text reply = view("550-First line\\n550-Second line\\n550 Third");
	static const char *const want[] = { "550-First line", "550-Second line", "550 Third" };
	size_t pos = 0;
	struct text line;
	for (size_t i = 0; i < 3; i++) {
		ck_assert_msg(fields_next_reply_line(reply, &pos, &line), "line %zu missing", i);
		assert_text(line, want[i]);
	}
	ck_assert(!fields_next_reply_line(reply, &pos, &line));

	/* one line: given once */
	reply = view("250 OK");
	pos = 0;
	ck_assert(fields_next_reply_line(reply, &pos, &line));
	assert_text(line, "250 OK");
	ck_assert(!fields_next_reply_line(reply, &pos, &line));

	/* an empty view, even with ptr NULL (text.h allows it): one empty
	 * line, without arithmetic on the NULL (found by fuzz_lexer) */
	reply = text_make(NULL, 0);
	pos = 0;
	ck_assert(fields_next_reply_line(reply, &pos, &line));
	ck_assert_uint_eq(line.len, 0);
	ck_assert(!fields_next_reply_line(reply, &pos, &line));
}
END_TEST

/* ---- quoting (section 4) ---- */

START_TEST(test_unquote)
{
	struct strbuf out = STRBUF_INIT;
	fields_unquote(view("say \\\"hi\\\""), &out);
	assert_text(strbuf_text(&out), "say \"hi\"");

	strbuf_reset(&out);
	fields_unquote(view("C:\\\\dir"), &out); /* an escaped backslash */
	assert_text(strbuf_text(&out), "C:\\dir");

	/* string_printing escapes stay as written */
	strbuf_reset(&out);
	fields_unquote(view("250-OK\\\\n250 OK \\033"), &out);
	assert_text(strbuf_text(&out), "250-OK\\n250 OK \\033");
	strbuf_release(&out);
}
END_TEST

/* Section 4's rule, a character at a time: a backslash before a quote
 * or a backslash stands for that character; any other stays. */
static void unquote_by_the_spec(const char *s, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\'))
			c = s[++i];
		strbuf_append_char(out, c);
	}
}

#define EVERY_STRING_MAX 7

/* check(s, length) for every string of 0 to EVERY_STRING_MAX bytes over
 * alphabet; returns how many it was called for. */
static size_t for_every_string(const char *alphabet, size_t letters,
                               void (*check)(const char *s, size_t length))
{
	size_t checked = 0;
	for (size_t length = 0; length <= EVERY_STRING_MAX; length++) {
		size_t combinations = 1;
		for (size_t i = 0; i < length; i++)
			combinations *= letters;
		for (size_t n = 0; n < combinations; n++) {
			char s[EVERY_STRING_MAX];
			for (size_t i = 0, rest = n; i < length; i++, rest /= letters)
				s[i] = alphabet[rest % letters];
			check(s, length);
			checked++;
		}
	}
	return checked;
}

static void check_unquote(const char *s, size_t length)
{
	struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
	fields_unquote(text_make(s, length), &got);
	unquote_by_the_spec(s, length, &want);
	bool same = got.len == want.len &&
	            (got.len == 0 || memcmp(got.data, want.data, got.len) == 0);
	ck_assert_msg(same, "%.*s: %.*s, not %.*s", (int)length, s, (int)got.len,
	              got.data ? got.data : "", (int)want.len, want.data ? want.data : "");
	strbuf_release(&got);
	strbuf_release(&want);
}

/* Every string of up to 7 characters of backslash, quote and letter: the
 * unquoting (which copies runs between backslashes) agrees with the rule
 * applied a character at a time. */
START_TEST(test_unquote_every_short_string)
{
	static const char alphabet[] = { '\\', '"', 'a' };
	ck_assert_uint_eq(for_every_string(alphabet, sizeof alphabet, check_unquote),
	                  3280); /* 3^0 + ... + 3^7 */
}
END_TEST

/* The host tag's offset as the definition reads, a byte at a time: a
 * quote opens or closes, a backslash inside quotes hides the byte after
 * it, and " H=" counts outside quotes only. */
static long host_tag_by_the_definition(const char *s, size_t length)
{
	bool quoted = false;
	for (size_t i = 0; i < length; i++) {
		if (s[i] == '\\' && quoted) {
			i++;
			continue;
		}
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && i + 3 <= length && memcmp(s + i, " H=", 3) == 0)
			return (long)i;
	}
	return -1;
}

static void check_host_tag(const char *s, size_t length)
{
	long got = fields_find_host_tag(text_make(s, length));
	long want = host_tag_by_the_definition(s, length);
	ck_assert_msg(got == want, "%.*s: %ld, not %ld", (int)length, s, got, want);
}

/* Every string of up to seven bytes over the bytes that matter, and
 * an example of each case. */
START_TEST(test_host_tag_outside_quotes)
{
	static const char alphabet[] = { ' ', 'H', '=', '"', '\\', 'x' };
	ck_assert_uint_eq(for_every_string(alphabet, sizeof alphabet, check_host_tag),
	                  335923); /* 6^0 + ... + 6^7 */
	static const char syntax[] = "SMTP syntax error in \"EHLO H=[x]\" H=(x) [192.0.2.1]";
	ck_assert_int_eq(fields_find_host_tag(text_make(syntax, sizeof syntax - 1)), 33);
	static const char escaped[] = "x \"a\\\" H=b\" H=c";
	ck_assert_int_eq(fields_find_host_tag(text_make(escaped, sizeof escaped - 1)), 11);
	static const char open[] = "x \" H=a";
	ck_assert_int_eq(fields_find_host_tag(text_make(open, sizeof open - 1)), -1);
}
END_TEST

/* ---- the scanner ---- */

START_TEST(test_scan_stops_at_message)
{
	static const char rest[] = " R=r1 T=t1 H=127.0.0.1 [127.0.0.1] : SMTP error from remote mail server "
	                           "after DATA: 550 NO";
	struct fields f;
	struct text message;
	fields_clear(&f);
	int found = fields_scan(rest, sizeof rest - 1, false, true, &f, &message);
	ck_assert_int_eq(found, 3);
	assert_text(fields_get(&f, FIELD_R), "r1");
	assert_text(fields_get(&f, FIELD_T), "t1");
	assert_text(fields_get(&f, FIELD_H), "127.0.0.1 [127.0.0.1]");
	assert_text(message, "SMTP error from remote mail server after DATA: 550 NO");
	ck_assert(!f.t_is_subject);
}
END_TEST

START_TEST(test_scan_bare_words_and_phrases)
{
	/* arrival tail with the bare words of section 16 */
	static const char rest[] = " H=(xxx) [127.0.0.1] TFO* P=esmtp L- PRDR K S=sss ARC "
	                           "id=qwerty1234@disco-zombie.net T=\"x\" from <raw@x.example> for a@test.ex b@test.ex";
	struct fields f;
	fields_clear(&f);
	fields_scan(rest, sizeof rest - 1, true, false, &f, NULL);
	assert_text(fields_get(&f, FIELD_H), "(xxx) [127.0.0.1]");
	assert_text(fields_get(&f, FIELD_TFO), "TFO*");
	assert_text(fields_get(&f, FIELD_L), "L-");
	ck_assert(fields_has(&f, FIELD_PRDR));
	ck_assert(fields_has(&f, FIELD_K));
	ck_assert(fields_has(&f, FIELD_ARC));
	assert_text(fields_get(&f, FIELD_ID), "qwerty1234@disco-zombie.net");
	assert_text(fields_get(&f, FIELD_T), "x");
	ck_assert(f.t_is_subject);
	assert_text(fields_get(&f, FIELD_FROM), "<raw@x.example>");
	assert_text(fields_get(&f, FIELD_FOR), "a@test.ex b@test.ex");
	ck_assert(!fields_has(&f, FIELD_DS));
	/* an absent tag reads as empty */
	assert_text(fields_get(&f, FIELD_DS), "");
}
END_TEST

START_TEST(test_scan_shadow_transport_with_error)
{
	/* section 7: ST=name (error text) */
	static const char rest[] = " R=r1 T=t1 S=sss ST=t3 (failed to open file)";
	struct fields f;
	fields_clear(&f);
	fields_scan(rest, sizeof rest - 1, false, false, &f, NULL);
	assert_text(fields_get(&f, FIELD_ST), "t3 (failed to open file)");
	assert_text(fields_get(&f, FIELD_S), "sss");
}
END_TEST

START_TEST(test_scan_prefix_finds_the_phrase)
{
	static const char body[] = "H=(test) [10.0.0.2] U=CALLER F=<jules@box3.plc.example> rejected RCPT "
	                           "<userx@test.ex>: Sender verify failed";
	struct fields f;
	fields_clear(&f);
	size_t offset = fields_scan_prefix(body, sizeof body - 1, &f);
	ck_assert_msg(offset < sizeof body - 1, "no phrase found");
	ck_assert_msg(strncmp(body + offset, "rejected RCPT", 13) == 0, "phrase at \"%s\"", body + offset);
	assert_text(fields_get(&f, FIELD_H), "(test) [10.0.0.2]");
	assert_text(fields_get(&f, FIELD_U), "CALLER");
	assert_text(fields_get(&f, FIELD_F), "<jules@box3.plc.example>");
}
END_TEST

/* Every tag name length from 1 to 5 is read as a tag, wherever its token
 * ends; a name of 6 bytes or more, an empty one, and a tag name inside a
 * longer word are not tags (the token is left as a word). A plain value
 * ends where its token does, as before a quoted or <> one. */
START_TEST(test_scan_tag_names_of_every_length)
{
	static const char rest[] = " X=1 Ci=p2 SNI=a.example DKIM=d.example DMARC=pass DMARCX=no "
	                           "XDMARC=no =lone Rr=no id*=made@here S=10:";
	struct fields f;
	fields_clear(&f);
	struct text message;
	int found = fields_scan(rest, sizeof rest - 1, false, true, &f, &message);
	ck_assert_int_eq(found, 7);
	assert_text(fields_get(&f, FIELD_X), "1");
	assert_text(fields_get(&f, FIELD_CI), "p2");
	assert_text(fields_get(&f, FIELD_SNI), "a.example");
	assert_text(fields_get(&f, FIELD_DKIM), "d.example");
	assert_text(fields_get(&f, FIELD_DMARC), "pass");
	assert_text(fields_get(&f, FIELD_ID), "made@here");
	ck_assert(f.id_created);
	/* "T=remote_smtp: message" (pre-4.86): the colon ends the value */
	assert_text(fields_get(&f, FIELD_S), "10");
	ck_assert(!fields_has(&f, FIELD_R));
}
END_TEST

/* Where a quoted value ends, by the rule a byte at a time: after the
 * opening quote, a backslash escapes the byte after it; the first quote
 * not escaped and followed by a space, a colon or the end closes it. */
static size_t quoted_end_by_the_rule(const char *s, size_t length)
{
	for (size_t j = 1; j < length; j++) {
		if (s[j] == '\\' && j + 1 < length) {
			j++;
			continue;
		}
		if (s[j] == '"' && (j + 1 == length || s[j + 1] == ' ' || s[j + 1] == ':'))
			return j;
	}
	return length;
}

/* T=" and the string: the value is what the rule gives. */
static void check_quoted_value(const char *s, size_t length)
{
	char line[4 + EVERY_STRING_MAX] = " T=\"";
	memcpy(line + 4, s, length);
	size_t total = 4 + length;
	struct fields f;
	fields_clear(&f);
	fields_scan(line, total, true, false, &f, NULL);
	size_t end = 3 + quoted_end_by_the_rule(line + 3, total - 3);
	struct text want = text_make(line + 4, end - 4);
	struct text got = fields_get(&f, FIELD_T);
	ck_assert_msg(fields_has(&f, FIELD_T) && got.len == want.len &&
	              (got.len == 0 || memcmp(got.ptr, want.ptr, got.len) == 0),
	              "%.*s: T=%.*s, want %.*s", (int)total, line, (int)got.len, got.ptr,
	              (int)want.len, want.ptr);
}

/* T="..." over every string of up to 7 of backslash, quote, space, colon
 * and letter: the value is what the rule gives (the closing quote found
 * from quote to quote, escapes counted back). */
START_TEST(test_quoted_values_end_by_the_rule)
{
	static const char alphabet[] = { '\\', '"', ' ', ':', 'a' };
	ck_assert_uint_eq(for_every_string(alphabet, sizeof alphabet, check_quoted_value),
	                  97656); /* 5^0 + ... + 5^7 */
}
END_TEST

START_TEST(test_tag_tokens_and_names)
{
	ck_assert(fields_is_tag_token("R=r1", 4));
	ck_assert(fields_is_tag_token("Ci=p1234", 8));
	ck_assert(fields_is_tag_token("id*=x@y", 7));
	ck_assert(fields_is_tag_token("DKIM=test.ex", 12));
	ck_assert(!fields_is_tag_token("Rx=1", 4));
	ck_assert(!fields_is_tag_token("for", 3));
	ck_assert(!fields_is_tag_token("next input=\"x\"", 14));
	ck_assert(!fields_is_tag_token("=", 1));
	/* sixteen bytes or more are looked at another way (a vector compare
	 * for the '='): the same answers, with the '=' anywhere in the first
	 * six bytes, past them, or absent */
	ck_assert(fields_is_tag_token("DMARC=pass policy.dmarc=none", 28));
	ck_assert(fields_is_tag_token("H=mx.example.com [192.0.2.1]", 28));
	ck_assert(fields_is_tag_token("id*=x@y another=1", 17));
	ck_assert(!fields_is_tag_token("DMARCX=pass policy.dmarc=none", 29));
	ck_assert(!fields_is_tag_token("SMTP connection from [192.0.2.1]", 32));
	ck_assert(!fields_is_tag_token("=value and then more", 20));
	ck_assert(!fields_is_tag_token("Rx=1 and then some more", 23));
	ck_assert_str_eq(field_tag_name(FIELD_CI), "Ci");
	ck_assert_str_eq(field_tag_name(FIELD_ID), "id");
	ck_assert_str_eq(field_tag_name(FIELD_DEFER), "defer");
}
END_TEST

/* Every tag name, and names that are none, in a token too short for the
 * vector compare and in the same bytes followed by more: both say what
 * the name is. */
START_TEST(test_tag_token_long_and_short_agree)
{
	static const struct {
		const char *name;
		bool tag;
	} names[] = {
		{ "A", true }, { "C", true }, { "D", true }, { "F", true }, { "H", true },
		{ "I", true }, { "P", true }, { "Q", true }, { "R", true }, { "S", true },
		{ "T", true }, { "U", true }, { "X", true }, { "Ci", true },
		{ "CV", true }, { "DN", true }, { "DT", true }, { "PS", true }, { "QT", true },
		{ "RT", true }, { "ST", true }, { "id", true }, { "id*", true }, { "M8S", true },
		{ "PRX", true }, { "SNI", true }, { "SPF", true }, { "DKIM", true }, { "DMARC", true },
		{ "", false }, { "Rx", false }, { "B", false }, { "K", false }, { "for", false },
		{ "hostx", false }, { "DMARCX", false }, { "ABCDEFG", false }, { "a", false },
		{ "Z", false }, { "\xc3", false }, { "\x7f", false },
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char token[64];
		int n = snprintf(token, sizeof token, "%s=v", names[i].name);
		ck_assert_msg(fields_is_tag_token(token, (size_t)n) == names[i].tag, "%s", token);
		n = snprintf(token, sizeof token, "%s=value with words after it", names[i].name);
		ck_assert_msg(n >= 16 && fields_is_tag_token(token, (size_t)n) == names[i].tag, "%s",
		              token);
	}
}
END_TEST

/* text_find (text.h) on short and long needles, with and without
 * leading spaces, against the plainest search there is, over texts from a
 * small alphabet so that near misses and overlaps ("aab" in "aaab") are
 * common, and long enough that a long needle's candidates run out and
 * memmem takes over. */
static long naive_find(const char *t, size_t len, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(t + i, s, n) == 0)
			return (long)i;
	return -1;
}

START_TEST(test_text_find_agrees_with_a_naive_search)
{
	static const char *const needles[] = { "", ":", ": ", "] ", "aab", "a:b ", "ab: a",
	                                       "(TCP/IP", "bbbbbb", " ", "  ", " a", " aab",
	                                       "  ab: a", " bbbbbb", "aaaaab", "a a a b" };
	char text[120];
	unsigned seed = 12345;
	for (int round = 0; round < 30000; round++) {
		size_t len = (size_t)(round % 120);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			text[i] = "ab: ]"[(seed >> 16) % 5];
		}
		for (size_t k = 0; k < sizeof needles / sizeof *needles; k++) {
			long want = naive_find(text, len, needles[k]);
			long got = text_find(text_make(len ? text : NULL, len), needles[k]);
			ck_assert_msg(got == want, "\"%s\" in \"%.*s\": %ld, want %ld", needles[k],
			              (int)len, text, got, want);
		}
	}
	/* the last place a match can start, and one byte short of it */
	ck_assert_int_eq(text_find(TEXT_LITERAL("xxxx: "), ": "), 4);
	ck_assert_int_eq(text_find(TEXT_LITERAL("xxxx:"), ": "), -1);
}
END_TEST

/* bytes_find (text.h) against a byte-by-byte loop: every start and
 * length up to a few blocks of sixteen, the byte sought at every place or
 * nowhere, with bytes that differ from it by one bit or by a borrow
 * (0x00, 0x80, its neighbours) around it, since those are what a
 * word-at-a-time test gets wrong. Each text is in a block of its own
 * length, so that the sanitizer build sees a read past its end. */
START_TEST(test_bytes_find_agrees_with_a_loop)
{
	static const char wanted[] = { ' ', '=', ')', '\0', (char)0x80, (char)0xFF };
	static const unsigned char fillers[] = { 'a', 0x00, 0x80, 0x21, 0x1F, 0x7F, 0xA0, 0x01 };
	unsigned seed = 777;
	for (size_t w = 0; w < sizeof wanted; w++)
		for (int round = 0; round < 3000; round++) {
			size_t len = (size_t)(round % 56);
			/* now and then a text with the byte far on or nowhere */
			unsigned odds = round % 7 == 0 ? 200 : 12;
			char *text = malloc(len ? len : 1);
			ck_assert_ptr_nonnull(text);
			for (size_t i = 0; i < len; i++) {
				seed = seed * 1103515245u + 12345u;
				unsigned r = (seed >> 16) % odds;
				text[i] = r < 1 ? wanted[w]
				                : (char)(r < 9 || r >= 12 ? fillers[r % 8]
				                                          : wanted[w] ^ (char)(1u << r));
			}
			for (size_t from = 0; from <= len; from++) {
				size_t want = from;
				while (want < len && text[want] != wanted[w])
					want++;
				size_t got = bytes_find(text, len, from, wanted[w]);
				ck_assert_msg(got == want, "byte %02x from %zu of %zu: %zu, want %zu",
				              (unsigned char)wanted[w], from, len, got, want);
			}
			free(text);
		}
}
END_TEST

/* Over many small texts of few letters (so that a needle's bytes recur
 * and candidates fail), and past the candidates after which the forward
 * search answers: the same answer as text_contains. */
START_TEST(test_contains_from_end_agrees_with_contains)
{
	static const char *const needles[] = { "a", "ab", " ab", "  b", "aba", "b a", "abab",
		                               " closed", "(TCP/IP connection count" };
	static const char letters[] = "ab (c";
	char text[64];
	unsigned seed = 4242;
	for (size_t w = 0; w < sizeof needles / sizeof *needles; w++)
		for (int round = 0; round < 4000; round++) {
			size_t len = (size_t)(round % 64);
			for (size_t i = 0; i < len; i++) {
				seed = seed * 1103515245u + 12345u;
				text[i] = letters[(seed >> 16) % 5];
			}
			/* now and then the needle itself, somewhere */
			size_t n = strlen(needles[w]);
			if (round % 7 == 0 && len >= n)
				memcpy(text + (seed >> 8) % (len - n + 1), needles[w], n);
			struct text t = text_make(text, len);
			ck_assert_msg(text_contains_from_end(t, needles[w]) == text_contains(t, needles[w]),
			              "\"%s\" in \"%.*s\"", needles[w], (int)len, text);
		}
	/* a needle only at the start, behind many failing candidates */
	memset(text, 'a', sizeof text);
	memcpy(text, "ab", 2);
	ck_assert(text_contains_from_end(text_make(text, sizeof text), "ab"));
	ck_assert(!text_contains_from_end(text_make(text + 1, sizeof text - 1), "ab"));
	ck_assert(text_contains_from_end(text_make(text, 0), ""));
}
END_TEST

/* bytes_hash reads its tail in whole words: the hash must still depend
 * on every byte of the key and on nothing around it. */
START_TEST(test_bytes_hash_sees_every_byte_and_no_other)
{
	unsigned char key[48], around[64];
	for (size_t i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)(i * 37 + 11);
	for (size_t n = 0; n <= 40; n++) {
		uint64_t h = bytes_hash(key, n);
		/* the same bytes elsewhere, between other bytes */
		for (size_t at = 0; at < 8; at++) {
			memset(around, 0xA5 ^ (int)at, sizeof around);
			memcpy(around + at, key, n);
			ck_assert_msg(bytes_hash(around + at, n) == h, "length %zu at +%zu", n, at);
		}
		/* one byte changed, anywhere: a different hash (each step of
		 * the hash is one to one in what it takes in) */
		for (size_t i = 0; i < n; i++) {
			key[i] ^= 0x40;
			ck_assert_msg(bytes_hash(key, n) != h, "length %zu, byte %zu", n, i);
			key[i] ^= 0x40;
		}
	}
}
END_TEST

Suite *fields_suite(void)
{
	Suite *s = suite_create("fields");

	TCase *host = tcase_create("host");
	tcase_add_test(host, test_host_name_helo_ip_port);
	tcase_add_test(host, test_host_helo_and_ip);
	tcase_add_test(host, test_host_ip_only);
	tcase_add_test(host, test_host_dnssec_and_reuse);
	tcase_add_test(host, test_host_empty);
	suite_add_tcase(s, host);

	TCase *reply = tcase_create("reply");
	tcase_add_test(reply, test_reply_with_enhanced_status);
	tcase_add_test(reply, test_reply_without_enhanced_status);
	tcase_add_test(reply, test_reply_first_line_of_several);
	tcase_add_test(reply, test_not_a_reply);
	tcase_add_test(reply, test_reply_lines_plain_newline);
	tcase_add_test(reply, test_unquote);
	tcase_add_test(reply, test_unquote_every_short_string);
	tcase_add_test(reply, test_host_tag_outside_quotes);
	tcase_add_test(reply, test_scan_tag_names_of_every_length);
	tcase_add_test(reply, test_quoted_values_end_by_the_rule);
	suite_add_tcase(s, reply);

	TCase *scan = tcase_create("scan");
	tcase_add_test(scan, test_scan_stops_at_message);
	tcase_add_test(scan, test_scan_bare_words_and_phrases);
	tcase_add_test(scan, test_scan_shadow_transport_with_error);
	tcase_add_test(scan, test_scan_prefix_finds_the_phrase);
	tcase_add_test(scan, test_tag_tokens_and_names);
	tcase_add_test(scan, test_tag_token_long_and_short_agree);
	tcase_add_test(scan, test_text_find_agrees_with_a_naive_search);
	tcase_add_test(scan, test_bytes_find_agrees_with_a_loop);
	tcase_add_test(scan, test_contains_from_end_agrees_with_contains);
	tcase_add_test(scan, test_bytes_hash_sees_every_byte_and_no_other);
	suite_add_tcase(s, scan);

	return s;
}
