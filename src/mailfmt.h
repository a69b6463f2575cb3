/*
 * mailfmt: the pieces of an RFC 5322 + MIME message (header fields, Date,
 * Message-ID, a text/plain body and its Content-Transfer-Encoding) built
 * from text that partly comes from the log, i.e. from strangers. Whatever
 * the input bytes, a header field written here is one field: no CR, no LF
 * except the folding "\n " and the field's final "\n", no other control
 * byte, nothing but ASCII.
 *
 * Lines end in a bare LF, not CRLF: the message goes to stdout or to
 * `sendmail -t -oi`, and sendmail turns local LF line ends into CRLF on the
 * wire (a CRLF written here would arrive as CR CR LF). The caller ends the
 * header with one empty line ("\n") before the body.
 *
 * Ownership: every function appends to a strbuf the caller owns; input
 * strings and views are only read, never kept.
 */
#ifndef EXIMEXPLAIN_MAILFMT_H
#define EXIMEXPLAIN_MAILFMT_H

#include <stdbool.h>
#include <stdint.h>

#include "strbuf.h"
#include "text.h"

/* Append "Name: value\n" for an unstructured field (Subject, X-*) or a
 * value that is already a valid token of its field (Date, Message-ID,
 * MIME-Version, Content-Type); never for address fields
 * (mailfmt_address_header).
 *
 * name is the caller's own constant: printable ASCII without ':'; anything
 * else is a bug and ends the program (msg_fatal).
 *
 * The value is sanitised first: invalid UTF-8 bytes become U+FFFD (one per
 * byte); every control character (C0 including TAB, CR and LF, DEL, C1
 * U+0080..U+009F) and the Unicode line and paragraph separators U+2028,
 * U+2029 become spaces; runs of spaces collapse to one; leading and trailing
 * spaces go. An empty result is written as "Name:\n".
 *
 * Printable ASCII is written as is, folded at spaces ("\n " before a word)
 * so lines stay within 78 columns; removing the "\n"s gives the value
 * back. A single word longer than a line runs over, up to 998 octets.
 * Otherwise (non-ASCII, a word that would pass 998, or text containing
 * "=?" that a reader would take for an encoded-word) the whole value is
 * written as RFC 2047 "B" encoded-words in UTF-8, one per line, each at
 * most 75 characters and holding whole characters only, lines within 76
 * columns (RFC 2047 2 for lines with encoded-words); decoding and
 * concatenating the words gives the value back. */
void mailfmt_header(struct strbuf *out, const char *name, struct text value);

/* true when addresses is a comma-separated list of one or more addresses
 * as a person gives them on our command line (--to): "local@domain" or
 * "Display Name <local@domain>" (also "<local@domain>" and a quoted
 * "\"Doe, John\" <j@example.org>"). Spaces around addresses and commas are
 * allowed. Refused: NULL, empty elements, any control byte (CR, LF, TAB),
 * non-ASCII (RFC 2047 display names and SMTPUTF8 are not supported),
 * comments in parentheses, unbalanced <> or quotes, no '@' or an empty local
 * part or domain, dots at the ends of or doubled in a dot-atom, an addr-spec
 * over 254 octets or an address over MAILFMT_ADDRESS_MAX. */
bool mailfmt_address_list_ok(const char *addresses);
/* The same for exactly one address (--from). */
bool mailfmt_address_ok(const char *address);
#define MAILFMT_ADDRESS_MAX 512

/* Append "Name: a, b,\n c\n" with the addresses of a list that
 * mailfmt_address_list_ok accepts, folded after commas so lines stay within
 * 78 columns (an address longer than that gets a line of its own). false,
 * and nothing appended, when the list is refused. */
bool mailfmt_address_header(struct strbuf *out, const char *name, const char *addresses);

/* Append the RFC 5322 date-time of epoch in the process's local zone (TZ),
 * with English names whatever the locale and a two-digit day:
 * "Sun, 22 Nov 2026 06:25:00 +0100". An epoch that libc cannot convert
 * ends the program (msg_fatal): callers pass the clock's time. */
void mailfmt_date(struct strbuf *out, int64_t epoch);

/* Append a msg-id "<20261122052500.4711.1@host.example>": the UTC time of
 * epoch (UTC, so the hour repeated when daylight saving time ends cannot
 * repeat an ID), the process ID, a counter the caller increments for each
 * message it makes, and the host. Unique as long as (epoch second, pid,
 * counter, host) is. host is sanitised to a dot-atom: bytes other than
 * [A-Za-z0-9.-] become '-', empty labels (leading, trailing or doubled dots)
 * are dropped, it is cut at 253 octets, and NULL or nothing left gives
 * "localhost". */
void mailfmt_message_id(struct strbuf *out, int64_t epoch, long pid,
                        unsigned long counter, const char *host);

/* Append body (UTF-8 text with LF line ends) encoded for transport, and
 * return the Content-Transfer-Encoding to declare:
 *   "7bit"  printable ASCII and TAB only, every line at most 78 octets;
 *   "8bit"  valid UTF-8 without control characters (but TAB), every line
 *           at most 78 characters (so at most 312 octets);
 *   "quoted-printable"  anything else: a longer line, or a byte 8bit
 *           cannot carry or should not (NUL, bare CR, other controls,
 *           invalid UTF-8). RFC 2045 6.7: encoded lines of at most 76
 *           characters with soft line breaks, never inside an =XX; '=',
 *           and a space or TAB at the end of a line, are encoded.
 * The bytes are transported exactly, never sanitised (put log text through
 * mailfmt_append_body_text first); the only change is a final "\n" added
 * when body is not empty and does not end in one. */
const char *mailfmt_body(struct strbuf *out, struct text body);

/* Append log text for the body: valid UTF-8 passes, TAB and LF too; each
 * invalid byte becomes U+FFFD; the other control characters (C0, DEL, C1)
 * are shown as visible escapes in strbuf_append_escaped's forms ("\033",
 * "\r", "\000", "\302\233"), the same a terminal shows, so the reader sees
 * that the log held one and no raw control byte reaches the mail. */
void mailfmt_append_body_text(struct strbuf *out, struct text text);

#endif
