/*
 * lexer: classify one physical line and cut it into views (lexer.h).
 *
 * The prefix (syslog wrapper, timestamp, [pid], message ID, flag) is read
 * at fixed positions; flag lines are split into address part, TAG=value
 * fields and free text; other lines are classified by the phrase tables in
 * classify.c. It must never allocate, never write into the line and never
 * read past its end: the line is hostile input.
 */
#include "lexer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "classify.h"
#include "timestamp.h"
#include "xalloc.h"

struct lexer {
	struct local_time_cache local_time;
	enum line_kind entry_kind;              /* kind of the entry being continued */
	char entry_id[MESSAGE_ID_MAX];          /* its message ID (copied: the */
	size_t entry_id_length;                 /* line buffer moves on) */
	int syslog_year;                        /* for syslog stamps without a year */
	int64_t now;
};

static const char *const kind_names[LINE_KIND_COUNT] = {
#define LINE_KIND_NAME(e, name, what) name,
	LINE_KINDS(LINE_KIND_NAME)
#undef LINE_KIND_NAME
};

const char *line_kind_name(enum line_kind kind)
{
	return (unsigned)kind < LINE_KIND_COUNT ? kind_names[kind] : "?";
}

enum line_kind line_kind_from_name(const char *name, size_t length)
{
	for (int k = 0; k < LINE_KIND_COUNT; k++)
		if (strlen(kind_names[k]) == length && memcmp(kind_names[k], name, length) == 0)
			return (enum line_kind)k;
	return LINE_KIND_COUNT;
}

static int current_year(void)
{
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm) == NULL)
		return 1970;
	return tm.tm_year + 1900;
}

struct lexer *lexer_new(void)
{
	struct lexer *lexer = xcalloc(1, sizeof *lexer);
	local_time_cache_init(&lexer->local_time);
	lexer->syslog_year = current_year();
	lexer->now = (int64_t)time(NULL);
	lexer_reset(lexer);
	return lexer;
}

void lexer_free(struct lexer *lexer)
{
	free(lexer);
}

void lexer_reset(struct lexer *lexer)
{
	lexer->entry_kind = LK_UNKNOWN;
	lexer->entry_id_length = 0;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}


#ifdef __SSE2__
/* Bit i set when s[i] is an ASCII letter or digit, for the 16 bytes at s.
 * The compares are signed: a byte of 0x80 or more is below both ranges. */
static inline unsigned alnum_bits16(const char *s)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
	                              _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
	__m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
	__m128i letter = _mm_and_si128(_mm_cmpgt_epi8(folded, _mm_set1_epi8('a' - 1)),
	                               _mm_cmplt_epi8(folded, _mm_set1_epi8('z' + 1)));
	return (unsigned)_mm_movemask_epi8(_mm_or_si128(digit, letter));
}

/* Length of a message ID at s (23 tried first, then 16), else 0. Every
 * line's head is asked (grep's second pass asks little else), so the
 * bytes are tested sixteen at a time: the dashes at 6 and 18 (or 13) by
 * hand, the rest by a mask of alnum_bits16 (bits 6 and 13; bit 11 of the
 * block at 7, which is byte 18). Never reads past length. */
static inline size_t message_id_length(const char *s, size_t length)
{
	if (length < 16 || s[6] != '-')
		return 0;
	unsigned head = alnum_bits16(s); /* bytes 0 to 15 */
	if (length >= 23 && s[18] == '-' && (length == 23 || s[23] == ' ') &&
	    (head & 0xFFBFu) == 0xFFBFu && (alnum_bits16(s + 7) & 0xF7FFu) == 0xF7FFu)
		return 23;
	if (s[13] == '-' && (length == 16 || s[16] == ' ') && (head & 0xDFBFu) == 0xDFBFu)
		return 16;
	return 0;
}
#else
/* Message IDs are checked on every line: a table, not three ranges. */
static const bool alnum_table[256] = {
#define DIGITS_ ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, \
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1
#define UPPER_ ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, \
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, \
	['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, \
	['X'] = 1, ['Y'] = 1, ['Z'] = 1
#define LOWER_ ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, \
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, \
	['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, \
	['x'] = 1, ['y'] = 1, ['z'] = 1
	DIGITS_, UPPER_, LOWER_
#undef DIGITS_
#undef UPPER_
#undef LOWER_
};

/* Every byte alphanumeric, bytes at a time without a loop: IDs are
 * checked on every line, and a loop of table lookups cost twice as many
 * instructions as all the other checks of the line's head. */
#define ALNUM_(i) alnum_table[(unsigned char)s[i]]

/* Length of a message ID at s (23 tried first, then 16), else 0. */
static inline size_t message_id_length(const char *s, size_t length)
{
	if (length >= 23 && s[6] == '-' && s[18] == '-' && (length == 23 || s[23] == ' ') &&
	    (ALNUM_(0) & ALNUM_(1) & ALNUM_(2) & ALNUM_(3) & ALNUM_(4) & ALNUM_(5) &
	     ALNUM_(7) & ALNUM_(8) & ALNUM_(9) & ALNUM_(10) & ALNUM_(11) & ALNUM_(12) &
	     ALNUM_(13) & ALNUM_(14) & ALNUM_(15) & ALNUM_(16) & ALNUM_(17) &
	     ALNUM_(19) & ALNUM_(20) & ALNUM_(21) & ALNUM_(22)))
		return 23;
	if (length >= 16 && s[6] == '-' && s[13] == '-' && (length == 16 || s[16] == ' ') &&
	    (ALNUM_(0) & ALNUM_(1) & ALNUM_(2) & ALNUM_(3) & ALNUM_(4) & ALNUM_(5) &
	     ALNUM_(7) & ALNUM_(8) & ALNUM_(9) & ALNUM_(10) & ALNUM_(11) & ALNUM_(12) &
	     ALNUM_(14) & ALNUM_(15)))
		return 16;
	return 0;
}

#undef ALNUM_
#endif

bool lexer_is_message_id(const char *s, size_t length)
{
	size_t n = message_id_length(s, length);
	return n != 0 && n == length;
}

/* ---- syslog and journald wrappers ---- */

static int month_number(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (int m = 0; m < 12; m++)
		if (memcmp(months + 3 * m, s, 3) == 0)
			return m + 1;
	return 0;
}

/* "host prog[pid]: " after a syslog time; returns bytes used or 0. */
static size_t syslog_host_and_program(const char *s, size_t length, long *pid)
{
	const char *space = memchr(s, ' ', length < 256 ? length : 256);
	if (space == NULL || space == s)
		return 0;
	size_t i = (size_t)(space - s) + 1;
	size_t start = i;
	while (i < length && i - start < 64 && s[i] != ':' && s[i] != ' ' && s[i] != '[')
		i++;
	if (i == start || i >= length)
		return 0;
	if (s[i] == '[') {
		long value = 0;
		size_t digits = 0;
		for (i++; i < length && is_digit(s[i]) && digits < 10; i++, digits++)
			value = value * 10 + (s[i] - '0');
		if (digits == 0 || i >= length || s[i] != ']')
			return 0;
		*pid = value;
		i++;
	}
	if (i + 1 >= length || s[i] != ':' || s[i + 1] != ' ')
		return 0;
	return i + 2;
}

/* "[n/m] " or "[n\m] " split markers of long syslog entries; *piece is n
 * (pieces after the first continue the entry, like continuation lines). */
static size_t syslog_split_marker(const char *s, size_t length, unsigned *piece)
{
	*piece = 0;
	if (length < 6 || s[0] != '[' || !is_digit(s[1]))
		return 0;
	size_t i = 1;
	unsigned n = 0;
	for (; i < length && is_digit(s[i]); i++)
		n = n < 100000 ? n * 10 + (unsigned)(s[i] - '0') : n;
	if (i >= length || (s[i] != '/' && s[i] != '\\'))
		return 0;
	size_t j = ++i;
	while (i < length && is_digit(s[i]))
		i++;
	if (i == j || i + 1 >= length || s[i] != ']' || s[i + 1] != ' ')
		return 0;
	*piece = n;
	return i + 2;
}

/*
 * Strip a syslog ("Mon DD HH:MM:SS host prog[pid]: ") or journald ISO
 * ("YYYY-MM-DDTHH:MM:SS[.frac][zone] host prog[pid]: ") wrapper. On success
 * *epoch is the wrapper's time (used when Exim's own stamp is absent).
 */
static size_t strip_syslog(struct lexer *lexer, const char *s, size_t length,
                           long *pid, int64_t *epoch, int *zone_minutes, bool *has_zone)
{
	size_t used;
	*has_zone = false;
	if (length > 16 && s[3] == ' ' && s[6] == ' ' && s[9] == ':' && s[12] == ':' &&
	    s[15] == ' ' && is_digit(s[5]) && is_digit(s[7]) && is_digit(s[8]) &&
	    is_digit(s[10]) && is_digit(s[11]) && is_digit(s[13]) && is_digit(s[14])) {
		int month = month_number(s);
		int day = (s[4] == ' ' ? 0 : s[4] - '0') * 10 + (s[5] - '0');
		if (month == 0 || (s[4] != ' ' && !is_digit(s[4])) || day < 1 || day > 31)
			return 0;
		used = syslog_host_and_program(s + 16, length - 16, pid);
		if (used == 0)
			return 0;
		int hour = (s[7] - '0') * 10 + (s[8] - '0');
		int minute = (s[10] - '0') * 10 + (s[11] - '0');
		int second = (s[13] - '0') * 10 + (s[14] - '0');
		*epoch = timestamp_local_to_epoch(&lexer->local_time, lexer->syslog_year,
		                                  month, day, hour, minute, second);
		/* Syslog stamps have no year: a December line read in January
		 * would land in the future, so it belongs to the year before. */
		if (*epoch > lexer->now + 86400)
			*epoch = timestamp_local_to_epoch(&lexer->local_time,
			                                  lexer->syslog_year - 1, month, day,
			                                  hour, minute, second);
		return 16 + used;
	}
	if (length > 20 && s[10] == 'T' && s[4] == '-' && s[13] == ':') {
		/* reuse the Exim parser on a copy of the date with a space */
		char stamp[19];
		memcpy(stamp, s, 19);
		stamp[10] = ' ';
		struct timestamp ts;
		if (!timestamp_parse_exim(&lexer->local_time, stamp, 19, &ts))
			return 0;
		size_t i = 19; /* < length, which is over 20 */
		if (s[i] == '.' || s[i] == ',')
			for (i++; i < length && is_digit(s[i]); i++)
				;
		int offset = 0;
		if (i < length && s[i] == 'Z') {
			*has_zone = true;
			i++;
		} else if (i + 6 <= length && (s[i] == '+' || s[i] == '-') && is_digit(s[i + 1]) &&
		           is_digit(s[i + 2])) {
			size_t m = s[i + 3] == ':' ? i + 4 : i + 3;
			if (m + 2 > length || !is_digit(s[m]) || !is_digit(s[m + 1]))
				return 0;
			offset = ((s[i + 1] - '0') * 10 + (s[i + 2] - '0')) * 60 +
			         (s[m] - '0') * 10 + (s[m + 1] - '0');
			if (s[i] == '-')
				offset = -offset;
			*has_zone = true;
			i = m + 2;
		}
		if (i >= length || s[i] != ' ')
			return 0;
		used = syslog_host_and_program(s + i + 1, length - i - 1, pid);
		if (used == 0)
			return 0;
		if (*has_zone) {
			int64_t days = timestamp_days_from_civil(
				(s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'),
				(unsigned)((s[5] - '0') * 10 + (s[6] - '0')),
				(unsigned)((s[8] - '0') * 10 + (s[9] - '0')));
			*epoch = days * 86400 + ((s[11] - '0') * 10 + (s[12] - '0')) * 3600 +
			         ((s[14] - '0') * 10 + (s[15] - '0')) * 60 +
			         (s[17] - '0') * 10 + (s[18] - '0') - (int64_t)offset * 60;
		} else {
			*epoch = ts.epoch;
		}
		*zone_minutes = offset;
		return i + 1 + used;
	}
	return 0;
}

bool lexer_leading_time(struct lexer *lexer, const char *s, size_t length, int64_t *epoch)
{
	struct timestamp ts;
	long pid = 0;
	int zone = 0;
	bool has_zone;
	int64_t wrapper_time;
	size_t skip = strip_syslog(lexer, s, length, &pid, &wrapper_time, &zone, &has_zone);
	unsigned piece;
	if (skip) {
		skip += syslog_split_marker(s + skip, length - skip, &piece);
		if (!timestamp_parse_exim(&lexer->local_time, s + skip, length - skip, &ts)) {
			*epoch = wrapper_time;
			return true;
		}
	} else if (!timestamp_parse_exim(&lexer->local_time, s, length, &ts)) {
		return false;
	}
	*epoch = ts.epoch;
	return true;
}

/* ---- flag lines ---- */

static enum line_flag flag_at(const char *s, size_t length)
{
	if (length < 2 || (length > 2 && s[2] != ' '))
		return FLAG_NONE;
	switch (s[0]) {
	case '<': return s[1] == '=' ? FLAG_ARRIVAL : FLAG_NONE;
	case '(': return s[1] == '=' ? FLAG_FAKE_REJECT : FLAG_NONE;
	case '=':
		if (s[1] == '>') return FLAG_DELIVERY;
		if (s[1] == '=') return FLAG_DEFERRED;
		return FLAG_NONE;
	case '-': return s[1] == '>' ? FLAG_ADDITIONAL : FLAG_NONE;
	case '>': return s[1] == '>' ? FLAG_CUTTHROUGH : FLAG_NONE;
	case '*':
		if (s[1] == '>') return FLAG_SUPPRESSED;
		if (s[1] == '*') return FLAG_FAILED;
		return FLAG_NONE;
	}
	return FLAG_NONE;
}

/*
 * End of the address part of a delivery, failure or deferral line: the
 * first " TAG=", " defer (", " routing defer", " : " or ": ". Addresses may
 * hold spaces (pipe commands, quoted local parts), so words are anchors,
 * not whitespace (exim-log-format.md section 22).
 */
/* The first ' ' or ':' at or after i, or length: eight bytes at a time,
 * since address_end looks at nothing else and addresses are long. */
static size_t next_space_or_colon(const char *s, size_t length, size_t i)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
	for (; i + 8 <= length; i += 8) {
		uint64_t word;
		memcpy(&word, s + i, 8);
		uint64_t space = word ^ (ones * ' '), colon = word ^ (ones * ':');
		/* a byte of 0 in either is one we want; the lowest byte flagged
		 * is the first such (flags above it may be false, from a borrow) */
		uint64_t found = ((space - ones) & ~space & highs) | ((colon - ones) & ~colon & highs);
		if (found)
			return i + (size_t)(__builtin_ctzll(found) >> 3);
	}
	while (i < length && s[i] != ' ' && s[i] != ':')
		i++;
	return i;
}

static size_t address_end(const char *s, size_t length)
{
	for (size_t i = 0; (i = next_space_or_colon(s, length, i)) < length; i++) {
		if (s[i] == ':' && (i + 1 == length || s[i + 1] == ' ') && i > 0 &&
		    s[i - 1] != ':') {
			/* ":blackhole:" ends in a colon too: only ": " after a word */
			if (i >= 10 && memcmp(s + i - 10, ":blackhole", 10) == 0)
				continue;
			return s[i - 1] == ' ' ? i - 1 : i; /* i > 0: tested above */
		}
		if (s[i] != ' ' || i + 1 >= length)
			continue;
		const char *next = s + i + 1;
		size_t left = length - i - 1;
		if (fields_is_tag_token(next, left))
			return i;
		if (left >= 7 && memcmp(next, "defer (", 7) == 0)
			return i;
		if (left >= 14 && memcmp(next, "routing defer ", 14) == 0)
			return i;
		if (left >= 16 && memcmp(next, "routing yielded ", 16) == 0)
			return i;
	}
	return length;
}

/* A trailing " DT=TIME" after the message on ** lines (4.94+). */
static void take_trailing_deliver_time(struct log_line *out)
{
	struct text m = out->message;
	size_t i = m.len;
	while (i > 0 && m.ptr[i - 1] != ' ')
		i--;
	if (i == 0 || m.len - i < 4 || memcmp(m.ptr + i, "DT=", 3) != 0)
		return;
	fields_set(&out->fields, FIELD_DT, text_make(m.ptr + i + 3, m.len - i - 3));
	out->message.len = i - 1;
}

static bool is_retry_not_reached(struct text message)
{
	return text_starts_with(message, "retry time not reached") ||
	       text_starts_with(message, "Retry time not yet reached") ||
	       text_contains(message, "(and retry time not reached)");
}

static void lex_deferral_rest(struct log_line *out, const char *s, size_t length)
{
	fields_scan(s, length, false, true, &out->fields, &out->message);
	if (!fields_has(&out->fields, FIELD_DEFER) || out->message.len == 0)
		return;
	/* "defer (111): Connection refused H=host [ip]: SMTP ..." : a positive
	 * errno's strerror comes first, then maybe the host and a message. */
	struct text errno_text = fields_get(&out->fields, FIELD_DEFER);
	bool positive = errno_text.len > 0 && errno_text.ptr[0] != '-' && errno_text.ptr[0] != '0';
	if (!positive)
		return;
	long host = text_find(out->message, " H=");
	if (host < 0) {
		out->strerror_text = out->message;
		return;
	}
	out->strerror_text = text_make(out->message.ptr, (size_t)host);
	struct text rest = text_skip(out->message, (size_t)host + 1);
	out->message = text_make(NULL, 0);
	fields_scan(rest.ptr, rest.len, false, true, &out->fields, &out->message);
}

/* All after the flag: the address, the fields and the message. Reads
 * only the line (never the lexer), so it may run on another thread than
 * the rest (lexer_parse_rest). The kind is the flag's, set before, but
 * for == lines, whose kind this works out. */
static void lex_flag_line(struct log_line *out)
{
	const char *s = out->body.ptr + 3;
	size_t length = out->body.len >= 3 ? out->body.len - 3 : 0;
	size_t end;
	switch (out->flag) {
	case FLAG_ARRIVAL:
	case FLAG_FAKE_REJECT: {
		const char *space = memchr(s, ' ', length);
		end = space ? (size_t)(space - s) : length;
		out->address = text_make(s, end);
		fields_scan(s + end, length - end, true, false, &out->fields, NULL);
		return;
	}
	default:
		break;
	}
	end = address_end(s, length);
	out->address = text_make(s, end);
	const char *rest = s + end;
	size_t rest_length = length - end;
	switch (out->flag) {
	case FLAG_DEFERRED:
		lex_deferral_rest(out, rest, rest_length);
		out->kind = is_retry_not_reached(out->message) ? LK_RETRY_NOT_REACHED : LK_DEFERRED;
		return;
	case FLAG_FAILED:
		fields_scan(rest, rest_length, false, true, &out->fields, &out->message);
		take_trailing_deliver_time(out);
		return;
	default:
		fields_scan(rest, rest_length, false, false, &out->fields, NULL);
		return;
	}
}

/* The kind a flag says; LK_UNKNOWN for ==, whose message says whether it
 * is a deferral or a retry time not reached. */
static enum line_kind kind_of_flag(enum line_flag flag)
{
	switch (flag) {
	case FLAG_ARRIVAL: return LK_ARRIVAL;
	case FLAG_FAKE_REJECT: return LK_FAKE_REJECT;
	case FLAG_DELIVERY: return LK_DELIVERY;
	case FLAG_ADDITIONAL: return LK_ADDITIONAL;
	case FLAG_CUTTHROUGH: return LK_CUTTHROUGH;
	case FLAG_SUPPRESSED: return LK_SUPPRESSED;
	case FLAG_FAILED: return LK_FAILED;
	default: return LK_UNKNOWN;
	}
}

/* ---- the line ---- */

static void start_line(struct log_line *out, const char *line, size_t length)
{
	out->kind = LK_UNKNOWN;
	out->flag = FLAG_NONE;
	out->epoch = 0;
	out->millisecond = -1;
	out->has_zone = false;
	out->zone_offset_minutes = 0;
	out->pid = 0;
	out->from_syslog = false;
	out->message_id = text_make(NULL, 0);
	out->body = text_make(line, length);
	out->address = text_make(NULL, 0);
	out->message = text_make(NULL, 0);
	out->strerror_text = text_make(NULL, 0);
	fields_clear(&out->fields);
	out->continues = LK_UNKNOWN;
	out->rest_unlexed = false;
}

/* journalctl's "-- Logs begin at ... --", "-- Boot ID --", "-- No entries --". */
static bool is_journal_banner(const char *s, size_t n)
{
	return n >= 6 && memcmp(s, "-- ", 3) == 0 && memcmp(s + n - 3, " --", 3) == 0;
}

static void lex_continuation(struct lexer *lexer, struct log_line *out)
{
	out->kind = LK_CONTINUATION;
	out->continues = lexer->entry_kind;
	out->message_id = text_make(lexer->entry_id, lexer->entry_id_length);
}

static inline size_t lex_pid(const char *s, size_t length, long *pid)
{
	if (length < 4 || s[0] != '[' || !is_digit(s[1]))
		return 0;
	long value = 0;
	size_t i = 1;
	for (; i < length && is_digit(s[i]) && i < 12; i++)
		value = value * 10 + (s[i] - '0');
	if (i + 1 >= length || s[i] != ']' || s[i + 1] != ' ')
		return 0;
	*pid = value;
	return i + 2;
}

static void set_syslog_year(struct lexer *lexer, const char *exim_stamp)
{
	const char *s = exim_stamp;
	lexer->syslog_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	                     (s[3] - '0');
}

/* Only the branch of lexer_parse for an Exim timestamp at the very start:
 * its s[3] is a digit and s[10] a space, which no syslog or journald
 * wrapper that strip_syslog knows has, and no byte-order mark comes first. */
static bool looks_like_exim_stamp(const char *line, size_t length)
{
	return length >= 20 && is_digit(line[0]) && is_digit(line[3]) && line[4] == '-' &&
	       line[10] == ' ';
}

/* After a stamp of stamp_length bytes: the ID, and the line becomes the
 * entry later continuation lines belong to. */
static inline enum lexer_head enter_head(struct lexer *lexer, const char *line, size_t length,
                                         size_t stamp_length, struct text *id)
{
	if (stamp_length < length)
		stamp_length++;
	const char *s = line + stamp_length;
	size_t n = length - stamp_length;
	long pid;
	s += lex_pid(s, n, &pid);
	n = length - (size_t)(s - line);
	size_t id_length = message_id_length(s, n);
	set_syslog_year(lexer, line);
	*id = text_make(id_length ? s : NULL, id_length);
	lexer->entry_kind = LK_UNKNOWN;
	lexer->entry_id_length = id_length;
	/* of the only two lengths: copies of a known size, without a call */
	if (id_length == 23)
		memcpy(lexer->entry_id, s, 23);
	else if (id_length == 16)
		memcpy(lexer->entry_id, s, 16);
	return id_length ? LEXER_HEAD_MESSAGE : LEXER_HEAD_ENTRY;
}

enum lexer_head lexer_peek_head(struct lexer *lexer, const char *line, size_t length,
                                struct text *id, int64_t *epoch)
{
	struct timestamp ts;
	if (!looks_like_exim_stamp(line, length) ||
	    !timestamp_parse_exim(&lexer->local_time, line, length, &ts))
		return LEXER_HEAD_UNSURE;
	*epoch = ts.epoch;
	return enter_head(lexer, line, length, ts.length, id);
}

enum lexer_head lexer_skim_head(struct lexer *lexer, const char *line, size_t length,
                                struct text *id)
{
	size_t stamp_length;
	if (!looks_like_exim_stamp(line, length) ||
	    (stamp_length = timestamp_exim_length_in_minute(&lexer->local_time, line, length)) == 0)
		return LEXER_HEAD_UNSURE;
	return enter_head(lexer, line, length, stamp_length, id);
}

void lexer_parse(struct lexer *lexer, const char *line, size_t length,
                 struct log_line *out)
{
	lexer_parse_leaving_rest(lexer, line, length, out);
	lexer_parse_rest(out);
}

void lexer_parse_rest(struct log_line *out)
{
	if (out->rest_unlexed) {
		out->rest_unlexed = false;
		lex_flag_line(out);
	}
}

void lexer_parse_leaving_rest(struct lexer *lexer, const char *line, size_t length,
                              struct log_line *out)
{
	start_line(out, line, length);
	if (length == 0) {
		out->kind = LK_BLANK;
		return;
	}
	const char *s = line;
	size_t n = length;
	if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3; /* a UTF-8 byte-order mark left by an editor */
		n -= 3;
	}
	int64_t wrapper_time = 0;
	int wrapper_zone = 0;
	bool wrapper_has_zone = false;
	/* nearly every line: no wrapper to look for (looks_like_exim_stamp) */
	size_t skip = looks_like_exim_stamp(s, n)
		? 0
		: strip_syslog(lexer, s, n, &out->pid, &wrapper_time, &wrapper_zone,
		               &wrapper_has_zone);
	struct timestamp ts;
	unsigned piece = 0;
	if (skip) {
		out->from_syslog = true;
		skip += syslog_split_marker(s + skip, n - skip, &piece);
		s += skip;
		n -= skip;
		if (piece > 1) {
			/* a later piece of an entry syslog split: part of the one before */
			out->body = text_make(s, n);
			lex_continuation(lexer, out);
			return;
		}
		if (timestamp_parse_exim(&lexer->local_time, s, n, &ts)) {
			if (ts.length < n)
				ts.length++;
			if (!ts.has_zone && wrapper_has_zone) /* journald knows the zone */
				ts.epoch = ts.wall - (int64_t)wrapper_zone * 60;
		} else {
			/* syslog_timestamp = false: the wrapper's time stands */
			ts.epoch = wrapper_time;
			ts.millisecond = -1;
			ts.has_zone = wrapper_has_zone;
			ts.zone_offset_minutes = wrapper_zone;
			ts.length = 0;
		}
	} else if (timestamp_parse_exim(&lexer->local_time, s, n, &ts)) {
		if (ts.length < n)
			ts.length++;
		/* year-less syslog stamps later in this input take this year */
		set_syslog_year(lexer, s);
	} else if (is_journal_banner(s, n)) {
		out->kind = LK_BLANK; /* "-- Boot 1a2b... --": not part of any entry */
		return;
	} else {
		lex_continuation(lexer, out);
		return;
	}
	out->epoch = ts.epoch;
	out->millisecond = ts.millisecond;
	out->has_zone = ts.has_zone;
	out->zone_offset_minutes = ts.zone_offset_minutes;
	s += ts.length;
	n -= ts.length;
	size_t used = lex_pid(s, n, &out->pid);
	s += used;
	n -= used;
	size_t id_length = message_id_length(s, n);
	if (id_length) {
		out->message_id = text_make(s, id_length);
		used = id_length < n ? id_length + 1 : id_length;
		s += used;
		n -= used;
	}
	out->body = text_make(s, n);
	/* Exim writes a flag only for a message: without an ID it is not one. */
	out->flag = id_length ? flag_at(s, n) : FLAG_NONE;
	if (out->flag == FLAG_DEFERRED) {
		lex_flag_line(out); /* its kind is in the message */
	} else if (out->flag != FLAG_NONE) {
		out->kind = kind_of_flag(out->flag);
		out->rest_unlexed = true;
	} else {
		classify_body(out);
	}

	lexer->entry_kind = out->kind;
	lexer->entry_id_length = out->message_id.len;
	if (out->message_id.len)
		memcpy(lexer->entry_id, out->message_id.ptr, out->message_id.len);
}
