/*
 * fields: the TAG=value part of an Exim log line, found by name, never by
 * position (exim-log-format.md section 16).
 *
 * Ownership: values are borrowed views into the line (see text.h), valid as
 * long as the line is. Quoted values (T="", C="", DN="", SNI="") are given
 * without their quotes and with their backslash escapes still in place;
 * fields_unquote() decodes one into a strbuf when a caller keeps it.
 */
#ifndef EXIMEXPLAIN_FIELDS_H
#define EXIMEXPLAIN_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

struct strbuf;

/* Tags with a value (TAG=...) and bare words (DS, K, ...) alike. Bare words
 * are present with the word itself as value. FIELD_FOR, FIELD_FROM and
 * FIELD_DEFER are the "for a b c", "from <x>" and "defer (N)" phrases. */
#define FIELD_TAGS(FIELD_TAG) \
	FIELD_TAG(FIELD_A, "A") \
	FIELD_TAG(FIELD_ARC, "ARC") \
	FIELD_TAG(FIELD_C, "C") \
	FIELD_TAG(FIELD_CI, "Ci") \
	FIELD_TAG(FIELD_CV, "CV") \
	FIELD_TAG(FIELD_D, "D") \
	FIELD_TAG(FIELD_DKIM, "DKIM") \
	FIELD_TAG(FIELD_DMARC, "DMARC") \
	FIELD_TAG(FIELD_DN, "DN") \
	FIELD_TAG(FIELD_DS, "DS") \
	FIELD_TAG(FIELD_DT, "DT") \
	FIELD_TAG(FIELD_F, "F") \
	FIELD_TAG(FIELD_H, "H") \
	FIELD_TAG(FIELD_I, "I") \
	FIELD_TAG(FIELD_ID, "id") \
	FIELD_TAG(FIELD_K, "K") \
	FIELD_TAG(FIELD_L, "L") \
	FIELD_TAG(FIELD_M8S, "M8S") \
	FIELD_TAG(FIELD_P, "P") \
	FIELD_TAG(FIELD_PRDR, "PRDR") \
	FIELD_TAG(FIELD_PRX, "PRX") \
	FIELD_TAG(FIELD_PS, "PS") \
	FIELD_TAG(FIELD_Q, "Q") \
	FIELD_TAG(FIELD_QT, "QT") \
	FIELD_TAG(FIELD_R, "R") \
	FIELD_TAG(FIELD_RT, "RT") \
	FIELD_TAG(FIELD_S, "S") \
	FIELD_TAG(FIELD_SNI, "SNI") \
	FIELD_TAG(FIELD_SPF, "SPF") \
	FIELD_TAG(FIELD_ST, "ST") \
	FIELD_TAG(FIELD_T, "T") \
	FIELD_TAG(FIELD_TFO, "TFO") \
	FIELD_TAG(FIELD_U, "U") \
	FIELD_TAG(FIELD_X, "X") \
	FIELD_TAG(FIELD_FOR, "for") \
	FIELD_TAG(FIELD_FROM, "from") \
	FIELD_TAG(FIELD_DEFER, "defer")

enum field_tag {
#define FIELD_TAG_ENUM(e, name) e,
	FIELD_TAGS(FIELD_TAG_ENUM)
#undef FIELD_TAG_ENUM
	FIELD_COUNT
};

/* What every line writes (fields_clear) comes first, beside the head of
 * a struct log_line, and the values of the tags a line has are packed at
 * the front of value[], in the order they were found (at[] says where):
 * a line is written on one thread and read on another (linepipe.h), and
 * each cache line it touches crosses between them. */
struct fields {
	uint64_t present; /* bit (1 << tag) */
	/* T= on an arrival is the subject, elsewhere the transport. */
	bool t_is_subject;
	/* id= was id*= (Exim made the Message-ID up). */
	bool id_created;
	uint8_t count;            /* of value[] in use */
	uint8_t at[FIELD_COUNT];  /* of a present tag: its value's index */
	struct text value[FIELD_COUNT];
};

_Static_assert(FIELD_COUNT <= 64 && FIELD_COUNT <= UINT8_MAX, "a tag is a bit and an index");

static inline bool fields_has(const struct fields *f, enum field_tag tag)
{
	return (f->present >> tag) & 1u;
}

/* The value, or an empty view when the tag is absent. */
static inline struct text fields_get(const struct fields *f, enum field_tag tag)
{
	return fields_has(f, tag) ? f->value[f->at[tag]] : (struct text){ NULL, 0 };
}

/* Set (or replace) the tag's value. */
static inline void fields_set(struct fields *f, enum field_tag tag, struct text value)
{
	if (!fields_has(f, tag)) {
		f->present |= (uint64_t)1 << tag;
		f->at[tag] = f->count++;
	}
	f->value[f->at[tag]] = value;
}

const char *field_tag_name(enum field_tag tag);

/*
 * Scan TAG=value tokens in s until its end. Tokens that are not tags are
 * skipped. If stop_at_message is set, scanning stops at the first ": " or
 * " : " outside a value and *message receives the rest (else it is empty).
 * Returns the number of tags found.
 */
int fields_scan(const char *s, size_t length, bool t_is_subject,
                bool stop_at_message, struct fields *out, struct text *message);

/* Scan leading TAG=value tokens and bare words (host identification such
 * as "H=(helo) [ip] U=x F=<s>") and return the offset of the first token
 * that is neither, or of the ":" that follows the last value. */
size_t fields_scan_prefix(const char *s, size_t length, struct fields *out);

void fields_clear(struct fields *f);

/* Offset of the first " H=" in text not inside "..." (in which a
 * backslash escapes the byte after it), or -1: where Exim's own host tag
 * is in a line that quotes what a client wrote first, as in 'SMTP syntax
 * error in "EHLO H=[x]" H=...'. */
long fields_find_host_tag(struct text text);

/* True when p..p+n starts with a known TAG= (e.g. "R=", "Ci="). */
bool fields_is_tag_token(const char *p, size_t n);

/* Decode a quoted value's backslash escapes (\" and \\) into out. The
 * string_printing escapes (\n, \033, ...) are kept: they are how Exim wrote
 * the bytes and how they must be shown. */
void fields_unquote(struct text quoted, struct strbuf *out);

/* H= value: NAME [DS] [(HELO)] [IP]:PORT*, any part optional (section 6). */
struct host_view {
	struct text name;
	struct text helo;
	struct text ip;
	struct text port;
	bool reused; /* * after the IP or port: connection reuse */
	bool dnssec; /* DS between name and [ip] */
};

bool fields_parse_host(struct text h, struct host_view *out);

/* Multi-line SMTP replies are joined with a literal "\n" (backslash, n) in
 * the log. Iterate: start with *pos = 0; each call gives the next reply
 * line until it returns false. */
bool fields_next_reply_line(struct text reply, size_t *pos, struct text *line);

/* An SMTP reply at the start of text: "550 5.7.1 ..." / "550-5.7.1 ...".
 * code is 0 when there is none; status (x.y.z) empty when none. */
struct smtp_reply_view {
	int code;
	struct text status;
	struct text text; /* after code and status, first line */
};

bool fields_parse_reply(struct text s, struct smtp_reply_view *out);

#endif
