/*
 * mailfmt: message syntax for the digest mail (mailfmt.h). Text from the
 * log is hostile: this file must never let a byte of it end a header line,
 * start a new header field or the body, or reach a header raw (only
 * sanitised ASCII or encoded-words leave here); it must never write a
 * line over 998 octets, and never change a body byte in transport.
 * It knows nothing of Exim or of what the digest says.
 */
#include "mailfmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "msg.h"
#include "timestamp.h"
#include "utf8.h"

#define LINE_SOFT_MAX 78      /* RFC 5322 2.1.1: SHOULD */
#define LINE_HARD_MAX 998     /* RFC 5322 2.1.1: MUST */
#define ENCODED_WORD_MAX 75   /* RFC 2047 2 */
#define ENCODED_LINE_MAX 76   /* RFC 2047 2: a line holding encoded-words */
#define ENCODED_WORD_PREFIX "=?UTF-8?B?"
#define ENCODED_WORD_SUFFIX "?="
#define ENCODED_WORD_OVERHEAD (sizeof ENCODED_WORD_PREFIX - 1 + sizeof ENCODED_WORD_SUFFIX - 1)
#define QP_LINE_MAX 76        /* RFC 2045 6.7 (5) */
#define ADDR_SPEC_MAX 254     /* RFC 5321 4.5.3.1.3: a path of 256 with <> */
#define HOST_MAX 253
#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* C0, DEL and C1: the characters no text we write may carry raw. */
static bool is_control(uint32_t code_point)
{
	return code_point < 0x20 || (code_point >= 0x7f && code_point <= 0x9f);
}

static bool is_header_space(uint32_t code_point)
{
	return code_point == ' ' || is_control(code_point) || code_point == 0x2028 ||
	       code_point == 0x2029;
}

/* ---- header fields ---- */

/* The name's length; a bad name is the caller's bug, not input. */
static size_t field_name_length(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	for (size_t i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~' || name[i] == ':')
			n = 0;
	if (n == 0)
		msg_fatal("mailfmt: invalid header field name");
	return n;
}

/* mailfmt.h's sanitising: valid UTF-8 without controls, single spaces,
 * no space at either end. */
static void sanitise_header_value(struct strbuf *clean, struct text value)
{
	const unsigned char *p = (const unsigned char *)value.ptr;
	bool space_pending = false;
	for (size_t i = 0; i < value.len;) {
		uint32_t code_point = 0;
		size_t n = utf8_decode(p + i, value.len - i, &code_point);
		const char *bytes = value.ptr + i;
		i += n ? n : 1;
		if (n > 0 && is_header_space(code_point)) {
			space_pending = clean->len > 0;
			continue;
		}
		if (space_pending)
			strbuf_append_char(clean, ' ');
		space_pending = false;
		if (n == 0)
			strbuf_append(clean, REPLACEMENT, 3);
		else
			strbuf_append(clean, bytes, n);
	}
}

static size_t word_length(struct text s, size_t at)
{
	const char *space = memchr(s.ptr + at, ' ', s.len - at);
	return space ? (size_t)(space - (s.ptr + at)) : s.len - at;
}

/* Can the value go out as plain words folded at its spaces? column is
 * where the value starts, right after the colon. */
static bool fits_unencoded(struct text clean, size_t column)
{
	if (clean.len == 0)
		return true;
	for (size_t i = 0; i < clean.len; i++)
		if ((unsigned char)clean.ptr[i] >= 0x80)
			return false;
	if (text_contains(clean, "=?"))
		return false;
	/* a long word gets a line of its own, except the first */
	size_t longest = column + 1 + word_length(clean, 0);
	for (size_t i = 0; i < clean.len; i++)
		if (clean.ptr[i] == ' ' && 1 + word_length(clean, i + 1) > longest)
			longest = 1 + word_length(clean, i + 1);
	return longest <= LINE_HARD_MAX;
}

static void append_folded_words(struct strbuf *out, struct text clean, size_t column)
{
	bool line_has_word = false;
	for (size_t i = 0; i < clean.len;) {
		size_t n = word_length(clean, i);
		if (line_has_word && column + 1 + n > LINE_SOFT_MAX) {
			strbuf_append_char(out, '\n');
			column = 0;
		}
		strbuf_append_char(out, ' ');
		strbuf_append(out, clean.ptr + i, n);
		column += 1 + n;
		line_has_word = true;
		i += n + 1;
	}
}

static void append_base64(struct strbuf *out, const unsigned char *p, size_t n)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		uint32_t group = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			group |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			group |= p[i + 2];
		char quad[4] = { alphabet[group >> 18], alphabet[(group >> 12) & 63],
		                 i + 1 < n ? alphabet[(group >> 6) & 63] : '=',
		                 i + 2 < n ? alphabet[group & 63] : '=' };
		strbuf_append(out, quad, 4);
	}
}

/* Bytes of whole characters from clean at `at` for an encoded-word that
 * starts after a space at column; 0 when not even one fits. */
static size_t encoded_word_take(struct text clean, size_t at, size_t column)
{
	size_t room = column + 1 < ENCODED_LINE_MAX ? ENCODED_LINE_MAX - column - 1 : 0;
	if (room > ENCODED_WORD_MAX)
		room = ENCODED_WORD_MAX;
	if (room < ENCODED_WORD_OVERHEAD)
		return 0;
	size_t budget = (room - ENCODED_WORD_OVERHEAD) / 4 * 3;
	size_t take = 0;
	while (at + take < clean.len) {
		uint32_t code_point;
		size_t n = utf8_decode((const unsigned char *)clean.ptr + at + take,
		                       clean.len - at - take, &code_point);
		if (take + n > budget)
			break;
		take += n;
	}
	return take;
}

/* B rather than Q: valid in every header context (Q is restricted inside
 * phrases, RFC 2047 5), a fixed 4/3 size that makes the 75-character limit
 * exact, and a third of Q's size for CJK or emoji. One word per line; the
 * first shares its line with the name and may have no room, but a line of
 * its own holds any character (4 bytes take 20 columns), so the loop
 * always advances. */
static void append_encoded_words(struct strbuf *out, struct text clean, size_t column)
{
	for (size_t i = 0; i < clean.len;) {
		size_t take = encoded_word_take(clean, i, column);
		if (take == 0) {
			strbuf_append_char(out, '\n');
			take = encoded_word_take(clean, i, 0);
		}
		strbuf_append_str(out, " " ENCODED_WORD_PREFIX);
		append_base64(out, (const unsigned char *)clean.ptr + i, take);
		strbuf_append_str(out, ENCODED_WORD_SUFFIX);
		i += take;
		if (i < clean.len)
			strbuf_append_char(out, '\n');
		column = 0;
	}
}

void mailfmt_header(struct strbuf *out, const char *name, struct text value)
{
	size_t column = field_name_length(name) + 1;
	struct strbuf clean = STRBUF_INIT;
	sanitise_header_value(&clean, value);
	strbuf_append_str(out, name);
	strbuf_append_char(out, ':');
	if (fits_unencoded(strbuf_text(&clean), column))
		append_folded_words(out, strbuf_text(&clean), column);
	else
		append_encoded_words(out, strbuf_text(&clean), column);
	strbuf_append_char(out, '\n');
	strbuf_release(&clean);
}

/* ---- addresses ---- */

static bool is_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static void skip_spaces(const char **s)
{
	while (**s == ' ')
		(*s)++;
}

/* atext+ ("." atext+)*; with dots_anywhere (an obs-phrase word such as
 * "Q.") a dot may also start, end or repeat. */
static bool take_atom(const char **s, bool dots_anywhere)
{
	const char *p = *s;
	bool need_atext = true;
	for (;; p++) {
		if (is_atext(*p))
			need_atext = false;
		else if (*p == '.' && (dots_anywhere || !need_atext))
			need_atext = !dots_anywhere;
		else
			break;
	}
	if (p == *s || need_atext)
		return false;
	*s = p;
	return true;
}

/* A quoted-string: printable ASCII and spaces, backslash pairs. */
static bool take_quoted(const char **s)
{
	const char *p = *s;
	if (*p++ != '"')
		return false;
	for (; *p != '"'; p++) {
		if (*p == '\\')
			p++;
		if (*p < ' ' || *p > '~')
			return false;
	}
	*s = p + 1;
	return true;
}

static bool take_domain_literal(const char **s)
{
	const char *p = *s;
	if (*p++ != '[')
		return false;
	while (*p > ' ' && *p <= '~' && *p != '[' && *p != ']' && *p != '\\')
		p++;
	if (*p != ']' || p == *s + 1)
		return false;
	*s = p + 1;
	return true;
}

static bool take_addr_spec(const char **s)
{
	const char *start = *s;
	if (!take_atom(s, false) && !take_quoted(s))
		return false;
	if (**s != '@')
		return false;
	(*s)++;
	if (!take_atom(s, false) && !take_domain_literal(s))
		return false;
	return (size_t)(*s - start) <= ADDR_SPEC_MAX;
}

/* [phrase] "<" addr-spec ">" */
static bool take_name_addr(const char **s)
{
	while (take_atom(s, true) || take_quoted(s))
		skip_spaces(s);
	if (**s != '<')
		return false;
	(*s)++;
	if (!take_addr_spec(s) || **s != '>')
		return false;
	(*s)++;
	return true;
}

/* The address at *s (spaces around it skipped) and its trimmed extent in
 * *address; *s ends past the comma after it (*more: another address must
 * follow) or at the end of the list. */
static bool take_address(const char **s, struct text *address, bool *more)
{
	skip_spaces(s);
	const char *start = *s, *end;
	if (!(take_addr_spec(s) && (**s == ' ' || **s == ',' || **s == '\0'))) {
		*s = start;
		if (!take_name_addr(s))
			return false;
	}
	end = *s;
	skip_spaces(s);
	*more = **s == ',';
	if (**s != ',' && **s != '\0')
		return false;
	*s += *more;
	*address = text_make(start, (size_t)(end - start));
	return address->len <= MAILFMT_ADDRESS_MAX;
}

/* How many addresses the list holds; 0 when it is refused. */
static size_t count_addresses(const char *addresses)
{
	const char *s = addresses;
	size_t count = 0;
	struct text address;
	for (bool more = s != NULL; more; count++)
		if (!take_address(&s, &address, &more))
			return 0;
	return count;
}

bool mailfmt_address_list_ok(const char *addresses)
{
	return count_addresses(addresses) > 0;
}

bool mailfmt_address_ok(const char *address)
{
	return count_addresses(address) == 1;
}

bool mailfmt_address_header(struct strbuf *out, const char *name, const char *addresses)
{
	size_t column = field_name_length(name) + 1;
	if (!mailfmt_address_list_ok(addresses))
		return false;
	strbuf_append_str(out, name);
	strbuf_append_char(out, ':');
	const char *s = addresses;
	struct text address;
	bool more = true;
	for (bool first = true; more; first = false) {
		(void)take_address(&s, &address, &more); /* accepted above */
		/* the list passed mailfmt_address_list_ok, so address is set */
		/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		size_t width = 1 + address.len + more;
		if (!first && column + width > LINE_SOFT_MAX) {
			strbuf_append_char(out, '\n');
			column = 0;
		}
		strbuf_append_char(out, ' ');
		strbuf_append_text(out, address);
		if (more)
			strbuf_append_char(out, ',');
		column += width;
	}
	strbuf_append_char(out, '\n');
	return true;
}

/* ---- Date and Message-ID ---- */

static struct tm broken_down(int64_t epoch, bool local)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	if ((int64_t)t != epoch || (local ? localtime_r(&t, &tm) : gmtime_r(&t, &tm)) == NULL)
		msg_fatal("cannot convert time %" PRId64, epoch);
	return tm;
}

void mailfmt_date(struct strbuf *out, int64_t epoch)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
		                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm = broken_down(epoch, true);
	/* the offset from the wall time itself, not tm_gmtoff (not C11) */
	int64_t wall = timestamp_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
	                                         (unsigned)tm.tm_mday) * 86400 +
	               tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	int64_t offset = (wall - epoch) / 60;
	char sign = offset < 0 ? '-' : '+';
	if (offset < 0)
		offset = -offset;
	strbuf_printf(out, "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d", days[tm.tm_wday],
	              tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	              tm.tm_sec, sign, (int)(offset / 60), (int)(offset % 60));
}

static bool is_host_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

static void append_id_host(struct strbuf *out, const char *host)
{
	size_t start = out->len;
	bool dot_pending = false;
	for (const char *p = host ? host : ""; *p != '\0'; p++) {
		if (*p == '.') {
			dot_pending = out->len > start;
			continue;
		}
		if (out->len - start + dot_pending >= HOST_MAX)
			break;
		if (dot_pending)
			strbuf_append_char(out, '.');
		dot_pending = false;
		strbuf_append_char(out, is_host_byte(*p) ? *p : '-');
	}
	if (out->len == start)
		strbuf_append_str(out, "localhost");
}

void mailfmt_message_id(struct strbuf *out, int64_t epoch, long pid,
                        unsigned long counter, const char *host)
{
	struct tm tm = broken_down(epoch, false);
	strbuf_printf(out, "<%04d%02d%02d%02d%02d%02d.%ld.%lu@", tm.tm_year + 1900, tm.tm_mon + 1,
	              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, pid, counter);
	append_id_host(out, host);
	strbuf_append_char(out, '>');
}

/* ---- body ---- */

enum body_encoding { BODY_7BIT, BODY_8BIT, BODY_QUOTED_PRINTABLE };

static enum body_encoding body_encoding(struct text body)
{
	const unsigned char *p = (const unsigned char *)body.ptr;
	enum body_encoding encoding = BODY_7BIT;
	size_t line_characters = 0;
	for (size_t i = 0; i < body.len;) {
		uint32_t code_point = 0;
		size_t n = utf8_decode(p + i, body.len - i, &code_point);
		if (n == 0 || (is_control(code_point) && code_point != '\t' && code_point != '\n'))
			return BODY_QUOTED_PRINTABLE;
		if (n > 1)
			encoding = BODY_8BIT;
		line_characters = code_point == '\n' ? 0 : line_characters + 1;
		if (line_characters > LINE_SOFT_MAX)
			return BODY_QUOTED_PRINTABLE;
		i += n;
	}
	return encoding;
}

/* One line, without its LF, as quoted-printable lines ending in LF. A
 * token (a byte or its =XX) goes on the current line when it leaves room
 * for the soft break's '=' after it, or is the line's last. */
static void append_quoted_printable_line(struct strbuf *out, const unsigned char *p, size_t n)
{
	size_t column = 0;
	for (size_t i = 0; i < n; i++) {
		bool last = i + 1 == n;
		bool literal = (p[i] > ' ' && p[i] <= '~' && p[i] != '=') ||
		               ((p[i] == ' ' || p[i] == '\t') && !last);
		size_t width = literal ? 1 : 3;
		if (column + width > (last ? QP_LINE_MAX : QP_LINE_MAX - 1)) {
			strbuf_append(out, "=\n", 2);
			column = 0;
		}
		if (literal)
			strbuf_append_char(out, (char)p[i]);
		else
			strbuf_printf(out, "=%02X", p[i]);
		column += width;
	}
	strbuf_append_char(out, '\n');
}

static void append_quoted_printable(struct strbuf *out, struct text body)
{
	const unsigned char *p = (const unsigned char *)body.ptr;
	for (size_t i = 0; i < body.len;) {
		const unsigned char *end = memchr(p + i, '\n', body.len - i);
		size_t n = end ? (size_t)(end - (p + i)) : body.len - i;
		append_quoted_printable_line(out, p + i, n);
		i += n + 1;
	}
}

const char *mailfmt_body(struct strbuf *out, struct text body)
{
	enum body_encoding encoding = body_encoding(body);
	if (encoding == BODY_QUOTED_PRINTABLE) {
		append_quoted_printable(out, body);
		return "quoted-printable";
	}
	strbuf_append_text(out, body);
	if (body.len > 0 && body.ptr[body.len - 1] != '\n')
		strbuf_append_char(out, '\n');
	return encoding == BODY_7BIT ? "7bit" : "8bit";
}

void mailfmt_append_body_text(struct strbuf *out, struct text text)
{
	if (text.len == 0)
		return;
	const unsigned char *p = (const unsigned char *)text.ptr;
	size_t clean_from = 0;
	for (size_t i = 0; i < text.len;) {
		uint32_t code_point = 0;
		size_t n = utf8_decode(p + i, text.len - i, &code_point);
		bool passes = n > 0 && (!is_control(code_point) || code_point == '\t' ||
		                        code_point == '\n');
		if (passes) {
			i += n;
			continue;
		}
		strbuf_append(out, text.ptr + clean_from, i - clean_from);
		if (n == 0)
			strbuf_append(out, REPLACEMENT, 3);
		else
			strbuf_append_escaped(out, text_make(text.ptr + i, n));
		i += n ? n : 1;
		clean_from = i;
	}
	strbuf_append(out, text.ptr + clean_from, text.len - clean_from);
}
