/*
 * lexer: one physical Exim main-log line -> struct log_line.
 *
 * Ownership: every view in a struct log_line (struct text) points into the
 * caller's line buffer. Views are borrowed: valid only while that buffer is,
 * which for lines from input_next_line() means until the next call of it.
 * The lexer never allocates and never writes into the line.
 *
 * The lexer state (struct lexer) carries what one line needs from the line
 * before it: the message ID and kind of the entry a continuation line
 * belongs to, and the local-time cache for zone-less timestamps.
 */
#ifndef EXIMEXPLAIN_LEXER_H
#define EXIMEXPLAIN_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fields.h"
#include "linekinds.h"
#include "text.h"

enum line_kind {
#define LINE_KIND_ENUM(e, name, what) e,
	LINE_KINDS(LINE_KIND_ENUM)
#undef LINE_KIND_ENUM
	LINE_KIND_COUNT
};

/* The two-character flag after the message ID (section 5). */
enum line_flag {
	FLAG_NONE = 0,
	FLAG_ARRIVAL,     /* <= */
	FLAG_FAKE_REJECT, /* (= */
	FLAG_DELIVERY,    /* => */
	FLAG_ADDITIONAL,  /* -> */
	FLAG_CUTTHROUGH,  /* >> */
	FLAG_SUPPRESSED,  /* *> */
	FLAG_FAILED,      /* ** */
	FLAG_DEFERRED     /* == */
};

#define MESSAGE_ID_MAX 23 /* 4.97+ format; the classic one has 16 */

/* The hash for tables keyed by message ID (length <= MESSAGE_ID_MAX). Not
 * text_hash, which goes a byte at a time: grep's second pass looks up
 * every line's ID, and the transaction table most lines'. Three words,
 * mixed by multiplication; the high bits are the well-mixed ones, folded
 * down so that a mask of the low bits may index. */
static inline uint64_t message_id_word(const char *p)
{
	uint64_t word;
	memcpy(&word, p, sizeof word);
	return word;
}

static inline uint64_t message_id_hash(const char *id, size_t length)
{
	uint64_t words[3] = { 0, 0, 0 };
	/* The two lengths IDs have, read in place: copied to the stack first,
	 * the third word of a 23-byte ID was read back across two stores, a
	 * stall the CPU cannot forward (6% of txn_feed). A 23-byte ID's
	 * bytes 16..22 are the last eight but one, shifted (so on a
	 * little-endian machine the words are the copy's; either way each
	 * length is hashed one way only). */
	if (length == 16) {
		words[0] = message_id_word(id);
		words[1] = message_id_word(id + 8);
	} else if (length == 23) {
		words[0] = message_id_word(id);
		words[1] = message_id_word(id + 8);
		words[2] = message_id_word(id + 15) >> 8;
	} else {
		memcpy(words, id, length < sizeof words ? length : sizeof words);
	}
	uint64_t h = (words[0] ^ (uint64_t)length) * UINT64_C(0x9E3779B97F4A7C15);
	h = (h ^ words[1]) * UINT64_C(0xC2B2AE3D27D4EB4F);
	h = (h ^ words[2]) * UINT64_C(0x165667B19E3779F9);
	return h ^ h >> 29;
}

/* The members every line sets come first, packed (see struct fields): a
 * line lexed on one thread and read on another moves three cache lines,
 * and a few more for the tags it has. */
struct log_line {
	enum line_kind kind;
	enum line_flag flag;
	/* Continuation lines: the kind of the entry they continue (and its
	 * ID in message_id). */
	enum line_kind continues;

	/* Timestamp. epoch is UTC seconds: the zone when the line has one,
	 * else the host's local zone at that time (as Exim wrote it). */
	int millisecond;         /* -1 without +millisec */
	int64_t epoch;
	int zone_offset_minutes; /* east of UTC; 0 when !has_zone */
	bool has_zone;
	bool from_syslog;        /* a syslog or journald wrapper was stripped */
	/* All after the flag (address, fields, message) is not lexed yet;
	 * only lexer_parse_leaving_rest leaves it (see there). */
	bool rest_unlexed;
	long pid;                /* [pid] or syslog exim[pid]; 0 when absent */

	struct text message_id; /* empty when the line has none */
	struct text body;       /* everything after timestamp, [pid] and ID */

	/* Flag lines: the address part (final address, (parent), <original>),
	 * for <= the sender. Non-flag lines: empty. */
	struct text address;
	/* Free text: the error after ": " / " : " on ** == and per-host lines,
	 * the rejection reason, the rest of an unknown line. May be empty;
	 * always is for kinds that state no reason (a connection opened or
	 * closed, arguments, a queue run's start or end, a daemon's start). */
	struct text message;
	/* == lines with a positive errno: its strerror ("Connection refused"),
	 * which Exim writes before the host; empty otherwise. */
	struct text strerror_text;
	struct fields fields;
};

struct lexer;

struct lexer *lexer_new(void);
void lexer_free(struct lexer *lexer);

/* Classify one line (no trailing newline; may hold NULs and any bytes). */
void lexer_parse(struct lexer *lexer, const char *line, size_t length,
                 struct log_line *out);

/* lexer_parse in two parts, for two threads (linepipe.h): the first
 * needs the lexer and the line before, the second only the line. The
 * first lexes all but a flag line's rest: the kind, the time and the ID
 * are set, the address, fields and message are not (rest_unlexed), but
 * for == lines, whose kind their message tells. The second lexes that
 * rest, if any; the line is then exactly what lexer_parse makes of it.
 * On the bench's log a flag line's rest is over a third of the lexing. */
void lexer_parse_leaving_rest(struct lexer *lexer, const char *line, size_t length,
                              struct log_line *out);
void lexer_parse_rest(struct log_line *out);

/* The entry head alone, cheaply, for a caller that will skip most lines
 * (grep's two passes, prefilter.h). */
enum lexer_head {
	LEXER_HEAD_UNSURE,  /* lexer_parse must decide; nothing was changed */
	LEXER_HEAD_MESSAGE, /* an Exim timestamp and a message ID */
	LEXER_HEAD_ENTRY    /* an Exim timestamp and no message ID */
};
/* For a line that starts with an Exim timestamp (no syslog wrapper), what
 * lexer_parse would find: *epoch, and for a message its ID (*id, a view
 * into line, else empty). The line becomes the entry later continuation
 * lines belong to, as with lexer_parse, but its kind is not worked out
 * (LK_UNKNOWN): a line that is delivered anywhere must go through
 * lexer_parse. */
enum lexer_head lexer_peek_head(struct lexer *lexer, const char *line, size_t length,
                                struct text *id, int64_t *epoch);

/* lexer_peek_head without the time, for a caller with no time window:
 * cheaper still, because it only recognises a stamp of the minute the
 * lexer saw last (the next lines nearly always share it) and works out
 * no epoch. LEXER_HEAD_UNSURE (nothing changed) when the stamp is of
 * another minute or not one: then ask lexer_peek_head. */
enum lexer_head lexer_skim_head(struct lexer *lexer, const char *line, size_t length,
                                struct text *id);

/* Forget the entry before: call between input files. */
void lexer_reset(struct lexer *lexer);

const char *line_kind_name(enum line_kind kind);
/* LINE_KIND_COUNT when the name is not a kind. */
enum line_kind line_kind_from_name(const char *name, size_t length);

/* Timestamp at the start of s (after any syslog prefix is removed by the
 * caller): true and the epoch when it is one. Used by input.c to order
 * rotated files. */
bool lexer_leading_time(struct lexer *lexer, const char *s, size_t length,
                        int64_t *epoch);

/* True when text is a message ID in either format. */
bool lexer_is_message_id(const char *s, size_t length);

#endif
