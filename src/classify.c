/*
 * classify: non-flag lines -> line kind. The knowledge is in the two
 * tables below (first match wins); the code only walks them. Lines that
 * begin with host identification (H=, U=, F=, ...) are matched on the
 * phrase after those fields, so field order and optional selectors do not
 * matter. A line no table knows stays LK_UNKNOWN: it is counted and can be
 * written to --unparsed, never guessed.
 */
#include "classify.h"

#include <stdint.h>
#include <string.h>

/* WORD_THEN: the first word of the line (a driver name), then the text. */
enum match { STARTS, STARTS_AND_CONTAINS, CONTAINS, WORD_THEN };

struct phrase {
	enum match how;
	const char *text;
	size_t length;    /* of text: the tables are walked for every line */
	const char *also; /* STARTS_AND_CONTAINS: must also occur; else "" */
	size_t also_length;
	enum line_kind kind;
};

#define P(how, text, also, kind) { how, text, sizeof(text) - 1, also, sizeof(also) - 1, kind }

/* Bodies that begin with a fixed phrase (or contain one). */
static const struct phrase body_phrases[] = {
	P(STARTS, "Completed", "", LK_COMPLETED),
	/* A third of a busy log: first in the index's list for 'S', where
	 * no entry before them could match their lines. The open line
	 * before the others, since each "also" check scans the line. */
	P(STARTS_AND_CONTAINS, "SMTP connection from ", "(TCP/IP connection count", LK_CONNECTION_OPEN),
	P(STARTS_AND_CONTAINS, "SMTP connection ", " closed", LK_CONNECTION_CLOSED),
	P(STARTS, "SMTP connection lost after final dot", "", LK_CONNECTION_LOST),
	P(STARTS_AND_CONTAINS, "SMTP connection ", " lost", LK_CONNECTION_LOST),
	P(STARTS, "SMTP connection from ", "", LK_CONNECTION_OPEN),
	P(STARTS, "SMTP connection Ci=", "", LK_CONNECTION_OPEN),
	P(STARTS, "Start queue run", "", LK_QUEUE_RUN_START),
	P(STARTS, "End queue run", "", LK_QUEUE_RUN_END),
	P(STARTS_AND_CONTAINS, "Start '", "' queue run", LK_QUEUE_RUN_START),
	P(STARTS_AND_CONTAINS, "End '", "' queue run", LK_QUEUE_RUN_END),
	P(STARTS_AND_CONTAINS, "Start ODMR ", "queue run", LK_QUEUE_RUN_START),
	P(STARTS_AND_CONTAINS, "End ODMR ", "queue run", LK_QUEUE_RUN_END),
	P(STARTS, "Abandon queue run", "", LK_QUEUE_RUN_END),
	P(STARTS_AND_CONTAINS, "exim ", " daemon started", LK_DAEMON_START),
	P(STARTS, "Frozen", "", LK_FROZEN),
	P(STARTS, "frozen by ", "", LK_FROZEN),
	P(STARTS, "Message is frozen", "", LK_SKIPPED_FROZEN),
	P(STARTS, "unfrozen by ", "", LK_UNFROZEN),
	P(STARTS, "Unfrozen by ", "", LK_UNFROZEN),
	P(STARTS_AND_CONTAINS, "Spool file ", " is locked", LK_SPOOL_LOCKED),
	P(STARTS, "Spool file ", "", LK_SPOOL_ERROR),
	P(STARTS, "Spool error", "", LK_SPOOL_ERROR),
	P(STARTS, "Spool read error", "", LK_SPOOL_ERROR),
	P(STARTS, "Format error in spool file", "", LK_SPOOL_ERROR),
	P(STARTS, "spoolfile error", "", LK_SPOOL_ERROR),
	P(STARTS, "rescind the above message-accept", "", LK_SPOOL_ERROR),
	P(STARTS, "no immediate delivery", "", LK_QUEUED),
	P(STARTS, "Delivery deferred by system filter", "", LK_QUEUED),
	P(STARTS, "cancelled by ", "", LK_CANCELLED),
	P(STARTS, "removed by ", "", LK_CANCELLED),
	P(STARTS, "Message removed because older than", "", LK_CANCELLED),
	P(STARTS, "original recipients ignored", "", LK_CANCELLED),
	P(STARTS_AND_CONTAINS, "address <", "> marked delivered by ", LK_QUEUE_EDIT),
	P(STARTS_AND_CONTAINS, "recipient <", "> added by ", LK_QUEUE_EDIT),
	P(STARTS, "sender address changed to <", "", LK_QUEUE_EDIT),
	P(STARTS_AND_CONTAINS, "moved from ", "msglog to ", LK_QUEUE_EDIT),
	P(STARTS, "DKIM: d=", "", LK_DKIM),
	P(STARTS, "DKIM: validation error: ", "", LK_DKIM),
	P(STARTS, "DKIM: signing failed", "", LK_DKIM),
	P(STARTS, "DKIM: Error during validation", "", LK_DKIM),
	P(STARTS, "DKIM: message could not be signed", "", LK_DKIM),
	P(STARTS, "ARC: ", "", LK_DKIM),
	P(STARTS, "TLS error on connection", "", LK_TLS_ERROR),
	P(STARTS, "TLS session: ", "", LK_TLS_ERROR),
	P(STARTS, "TLS session ", "", LK_TLS_ERROR),
	P(STARTS, "DANE attempt failed", "", LK_TLS_ERROR),
	P(STARTS, "DANE error: ", "", LK_TLS_ERROR),
	P(STARTS, "OCSP dates invalid", "", LK_TLS_ERROR),
	P(STARTS, "Server certificate revoked; reason:", "", LK_TLS_ERROR),
	P(STARTS, "Required TLS certificate status not received", "", LK_TLS_ERROR),
	P(STARTS_AND_CONTAINS, "[", "] SSL verify error", LK_TLS_ERROR),
	P(STARTS, "unexpected disconnection while reading SMTP command", "", LK_CONNECTION_LOST),
	P(STARTS, "unexpected EOF while reading SMTP command", "", LK_CONNECTION_LOST),
	P(STARTS, "SMTP command timeout on", "", LK_CONNECTION_LOST),
	P(STARTS, "SMTP data timeout (message abandoned)", "", LK_CONNECTION_LOST),
	P(STARTS_AND_CONTAINS, "[", "] after QUIT, client reset TCP", LK_CONNECTION_LOST),
	P(STARTS_AND_CONTAINS, "Connection from ", " refused: ", LK_CONNECTION_REFUSED),
	P(STARTS, "refused connection from ", "", LK_CONNECTION_REFUSED),
	P(STARTS, "temporarily refused connection from ", "", LK_CONNECTION_REFUSED),
	P(STARTS_AND_CONTAINS, "SMTP call from ", " dropped: ", LK_CONNECTION_DROPPED),
	P(STARTS, "SMTP protocol synchronization error", "", LK_SYNC_ERROR),
	P(STARTS, "SMTP syntax error in ", "", LK_PROTOCOL_ERROR),
	P(STARTS, "SMTP protocol error in ", "", LK_PROTOCOL_ERROR),
	P(STARTS, "no MAIL in ", "", LK_NO_MAIL),
	P(STARTS, "no host name found for IP address ", "", LK_HOST_LOOKUP),
	P(STARTS, "no IP address found for host ", "", LK_HOST_LOOKUP),
	P(STARTS, "DNS list lookup defer", "", LK_DNSLIST_DEFER),
	P(STARTS_AND_CONTAINS, "ETRN ", " received from ", LK_SMTP_COMMAND),
	P(STARTS_AND_CONTAINS, "ATRN ", " received from ", LK_SMTP_COMMAND),
	P(STARTS, "ignoring AUTH=", "", LK_SMTP_COMMAND),
	P(STARTS, "VRFY failed for ", "", LK_SMTP_COMMAND),
	P(STARTS, "rejected HELO from ", "", LK_REJECTED_HELO),
	P(STARTS, "rejected EHLO from ", "", LK_REJECTED_HELO),
	P(STARTS, "rejected \"EHLO ", "", LK_REJECTED_HELO),
	P(STARTS, "rejected \"HELO ", "", LK_REJECTED_HELO),
	P(STARTS, "temporarily rejected \"EHLO ", "", LK_REJECTED_HELO),
	P(STARTS, "temporarily rejected \"HELO ", "", LK_REJECTED_HELO),
	P(STARTS, "rejected MAIL ", "", LK_REJECTED_MAIL),
	P(STARTS, "temporarily rejected MAIL ", "", LK_REJECTED_MAIL),
	P(STARTS, "unqualified sender rejected: ", "", LK_REJECTED_MAIL),
	P(STARTS, "unqualified recipient rejected: ", "", LK_REJECTED_RCPT),
	P(STARTS, "rejected from <", "", LK_REJECTED_DATA),
	P(STARTS, "too many recipients: ", "", LK_REJECTED_RCPT),
	P(STARTS, "PRDR R=<", "", LK_REJECTED_DATA),
	P(STARTS, "rejected ", "", LK_REJECTED_OTHER),
	P(STARTS, "temporarily rejected ", "", LK_REJECTED_OTHER),
	P(STARTS_AND_CONTAINS, "local_scan() function ", "message temporarily rejected", LK_REJECTED_DATA),
	P(STARTS, "Warning: ", "", LK_WARNING),
	P(STARTS, "WARNING: ", "", LK_WARNING),
	P(STARTS, "cwd=", "", LK_ARGUMENTS),
	P(STARTS, "... ", "", LK_ARGUMENTS),
	P(STARTS_AND_CONTAINS, "pid ", ": SIGHUP received", LK_DAEMON),
	P(STARTS, "listen backlog ", "", LK_DAEMON),
	P(STARTS, "notify triggered queue run", "", LK_DAEMON),
	P(STARTS_AND_CONTAINS, "queue run: process ", " crashed", LK_DAEMON),
	P(STARTS_AND_CONTAINS, "\"", " rewritten as \"", LK_REWRITE),
	P(STARTS, "Exim configuration error", "", LK_CONFIG_ERROR),
	P(STARTS, "failed to expand ", "", LK_CONFIG_ERROR),
	P(STARTS, "Failed to expand ", "", LK_CONFIG_ERROR),
	P(STARTS, "expansion of ", "", LK_CONFIG_ERROR),
	P(STARTS, "Error in system filter: ", "", LK_CONFIG_ERROR),
	P(STARTS, "configured error code starts with incorrect digit", "", LK_CONFIG_ERROR),
	P(STARTS, "invalid message_size_limit", "", LK_CONFIG_ERROR),
	P(STARTS_AND_CONTAINS, "ACL for ", " returned ERROR: ", LK_CONFIG_ERROR),
	P(STARTS_AND_CONTAINS, "ACL \"", " setting found in a non-message", LK_CONFIG_ERROR),
	P(STARTS, "(SSL_CTX_", "", LK_TLS_ERROR),
	P(STARTS, "failed to read delivery status for ", "", LK_EXIM_ERROR),
	P(STARTS_AND_CONTAINS, "re-exec of exim ", " failed", LK_EXIM_ERROR),
	P(STARTS, "Expansion of ", "", LK_CONFIG_ERROR),
	P(STARTS, "tainted search query is not properly quoted", "", LK_CONFIG_ERROR),
	P(STARTS, "invalid value for message_size_limit", "", LK_CONFIG_ERROR),
	P(STARTS_AND_CONTAINS, "\"", "\" verb not allowed in ", LK_CONFIG_ERROR),
	P(STARTS, "Daemon cannot be run when ", "", LK_CONFIG_ERROR),
	P(STARTS, "EHLO/HELO response must not contain newlines", "", LK_CONFIG_ERROR),
	P(STARTS_AND_CONTAINS, "failed to open ", " when checking ", LK_CONFIG_ERROR),
	P(STARTS, "remote host address is the local host", "", LK_CONFIG_ERROR),
	P(STARTS, "Error while reading message with no usable sender address", "", LK_EXIM_ERROR),
	P(STARTS, "unable to set gid=", "", LK_EXIM_ERROR),
	P(STARTS, "spool directory space check failed", "", LK_EXIM_ERROR),
	P(STARTS_AND_CONTAINS, "exec of ", " failed", LK_EXIM_ERROR),
	P(STARTS, "no recipients found in headers", "", LK_EXIM_ERROR),
	P(STARTS, "timed out while reading local message", "", LK_CONNECTION_LOST),
	P(STARTS, "overlong message header line received from ", "", LK_REJECTED_DATA),
	P(STARTS, "ridiculously long message header received from ", "", LK_REJECTED_DATA),
	P(STARTS_AND_CONTAINS, "bind of ", " failed", LK_EXIM_ERROR),
	P(STARTS, "peer close after all rcpt responses", "", LK_EXIM_ERROR),
	P(STARTS, "Child mail process returned status", "", LK_EXIM_ERROR),
	P(STARTS, "internal scanner error (ignored)", "", LK_EXIM_ERROR),
	P(STARTS, "Failed to open ", "", LK_CONFIG_ERROR),
	P(STARTS, "bounce_message_file is not ", "", LK_CONFIG_ERROR),
	P(STARTS, "DNS list lookup for ", "", LK_DNSLIST_DEFER),
	P(STARTS, "Tainted filename ", "", LK_EXIM_ERROR),
	P(STARTS, "malware acl condition: ", "", LK_EXIM_ERROR),
	P(STARTS, "spam acl condition: ", "", LK_EXIM_ERROR),
	P(STARTS, "recipient verify defer ", "", LK_CALLOUT_DEFER),
	P(STARTS, "sender verify defer ", "", LK_CALLOUT_DEFER),
	P(STARTS, "Process failed (", "", LK_TRANSPORT_OUTPUT),
	/* Phrases not at the start: tried last, since each one scans the line. */
	P(WORD_THEN, " transport process returned non-zero status ", "", LK_TRANSPORT_OUTPUT),
	P(WORD_THEN, " transport process vanished unexpectedly", "", LK_TRANSPORT_OUTPUT),
	P(WORD_THEN, " authenticator failed ", "", LK_AUTH_FAILED),
	P(WORD_THEN, " authenticator cancelled authentication ", "", LK_AUTH_FAILED),
	P(WORD_THEN, " authenticator (", "", LK_AUTH_FAILED),
	P(CONTAINS, " router: skipped error: ", "", LK_CONFIG_ERROR),
	P(CONTAINS, " failed to expand for ", "", LK_CONFIG_ERROR),
	P(CONTAINS, " transport is on the never_users list", "", LK_CONFIG_ERROR),
	P(CONTAINS, ": error ignored", "", LK_ERROR_IGNORED),
	P(CONTAINS, " transport output: ", "", LK_TRANSPORT_OUTPUT),
};

/* What follows host identification (H=... U=... F=<...> ...). */
static const struct phrase host_phrases[] = {
	P(STARTS, "rejected RCPT ", "", LK_REJECTED_RCPT),
	P(STARTS, "temporarily rejected RCPT ", "", LK_REJECTED_RCPT),
	P(STARTS, "rejected MAIL", "", LK_REJECTED_MAIL),
	P(STARTS, "temporarily rejected MAIL", "", LK_REJECTED_MAIL),
	P(STARTS, "rejected EHLO or HELO", "", LK_REJECTED_HELO),
	P(STARTS, "temporarily rejected EHLO or HELO", "", LK_REJECTED_HELO),
	P(STARTS, "rejected after DATA", "", LK_REJECTED_DATA),
	P(STARTS, "temporarily rejected after DATA", "", LK_REJECTED_DATA),
	P(STARTS, "rejected DATA", "", LK_REJECTED_DATA),
	P(STARTS, "temporarily rejected DATA", "", LK_REJECTED_DATA),
	P(STARTS, "rejected during MIME ACL checks", "", LK_REJECTED_DATA),
	P(STARTS, "temporarily rejected during MIME ACL checks", "", LK_REJECTED_DATA),
	P(STARTS, "rejected DKIM", "", LK_REJECTED_DATA),
	P(STARTS, "rejected by local_scan()", "", LK_REJECTED_DATA),
	P(STARTS, "rejected by non-SMTP ACL", "", LK_REJECTED_DATA),
	P(STARTS, "temporarily rejected by local_scan()", "", LK_REJECTED_DATA),
	P(STARTS, "rejected connection", "", LK_REJECTED_CONNECT),
	P(STARTS, "temporarily rejected connection", "", LK_REJECTED_CONNECT),
	P(STARTS, "dropped by 'connect' ACL", "", LK_REJECTED_CONNECT),
	P(STARTS, "rejected ", "", LK_REJECTED_OTHER),
	P(STARTS, "temporarily rejected ", "", LK_REJECTED_OTHER),
	P(STARTS_AND_CONTAINS, "RCPT <", ": discarded by ", LK_ACL_DISCARD),
	P(STARTS_AND_CONTAINS, "MAIL <", ": discarded by ", LK_ACL_DISCARD),
	P(STARTS, "sender verify fail for ", "", LK_SENDER_VERIFY),
	P(STARTS, "sender verify defer for ", "", LK_SENDER_VERIFY),
	P(STARTS, "incomplete transaction ", "", LK_INCOMPLETE),
	P(STARTS, "Warning: ", "", LK_WARNING),
	P(STARTS, "ETRN ", "", LK_SMTP_COMMAND),
	P(STARTS, "SMTP connection lost after final dot", "", LK_CONNECTION_LOST),
	/* an outbound TLS failure logged per host, like the other host errors */
	P(STARTS, "TLS error on connection", "", LK_HOST_ERROR),
	/* refused cutthrough: "ADDR F=<s> P=<s> tmp-reject from cutthrough after DATA:" */
	P(CONTAINS, " tmp-reject from cutthrough after DATA", "", LK_REJECTED_DATA),
	P(CONTAINS, " rejected from cutthrough after DATA", "", LK_REJECTED_DATA),
	P(CONTAINS, " rejected after DATA", "", LK_REJECTED_DATA),
};

static inline uint64_t word_at(const char *p)
{
	uint64_t word;
	memcpy(&word, p, sizeof word);
	return word;
}

/* s (at least p->length bytes) starts with the phrase. Entries the
 * index offers share their first byte, and many their first word
 * ("SMTP "): eight bytes compared at once rule out nearly all of them
 * without a call to memcmp. */
static bool starts_with_phrase(const char *s, const struct phrase *p)
{
	if (p->length < 8)
		return memcmp(s, p->text, p->length) == 0;
	/* up to 32 bytes: words at 0, 8, 16 and the last eight, no call */
	if (p->length <= 32) {
		size_t last = p->length - 8;
		for (size_t at = 0; at < last; at += 8)
			if (word_at(s + at) != word_at(p->text + at))
				return false;
		return word_at(s + last) == word_at(p->text + last);
	}
	return word_at(s) == word_at(p->text) && memcmp(s + 8, p->text + 8, p->length - 8) == 0;
}

static bool phrase_matches(const struct phrase *p, struct text t)
{
	if (p->how == CONTAINS)
		return t.len >= p->length && memmem(t.ptr, t.len, p->text, p->length) != NULL;
	if (p->how == WORD_THEN) {
		const char *space = memchr(t.ptr, ' ', t.len);
		if (space == NULL || space == t.ptr)
			return false;
		struct text rest = text_skip(t, (size_t)(space - t.ptr));
		return rest.len >= p->length && memcmp(rest.ptr, p->text, p->length) == 0;
	}
	if (t.len < p->length || !starts_with_phrase(t.ptr, p))
		return false;
	/* the words wanted besides the start ("(TCP/IP connection count",
	 * " closed", " lost") end the lines that have them */
	return p->how == STARTS || text_contains_from_end_n(t, p->also, p->also_length);
}

/* A table's entries that can match a text starting with a given byte, in
 * table order: those that start with that byte and every entry that is not
 * anchored at the start. Walking only these gives the same first match as
 * walking the whole table, without touching the 150 entries that the first
 * byte rules out. */
#define TABLE_MAX 192
/* room for every entry under every byte: the index always fits, and only
 * the first few kilobytes are ever written */
#define INDEX_MAX (256 * TABLE_MAX)

struct phrase_index {
	bool built;
	uint16_t start[256 + 1]; /* entries for byte b: order[start[b] .. start[b + 1]) */
	uint8_t order[INDEX_MAX];
	/* Each entry's first bytes (up to eight) as a word, and which bytes
	 * of the word count (none for an entry not anchored at the start):
	 * a text's first eight bytes rule out nearly every entry the index
	 * offers without reading the entry or calling memcmp. */
	uint64_t prefix[TABLE_MAX], prefix_mask[TABLE_MAX];
};

_Static_assert(sizeof body_phrases / sizeof *body_phrases <= TABLE_MAX, "entries fit in a byte");
_Static_assert(sizeof host_phrases / sizeof *host_phrases <= TABLE_MAX, "entries fit in a byte");
_Static_assert(INDEX_MAX <= UINT16_MAX + 1, "offsets fit in start[]");

static bool may_start_with(const struct phrase *p, unsigned char b)
{
	bool anchored = p->how == STARTS || p->how == STARTS_AND_CONTAINS;
	return !anchored || (unsigned char)p->text[0] == b;
}

/* Built once per table on first use: the tables are constant. */
static void build_index(const struct phrase *table, size_t count, struct phrase_index *index)
{
	size_t n = 0;
	for (unsigned b = 0; b < 256; b++) {
		index->start[b] = (uint16_t)n;
		for (size_t i = 0; i < count; i++)
			if (may_start_with(&table[i], (unsigned char)b))
				index->order[n++] = (uint8_t)i;
	}
	index->start[256] = (uint16_t)n;
	for (size_t i = 0; i < count; i++) {
		const struct phrase *p = &table[i];
		bool anchored = p->how == STARTS || p->how == STARTS_AND_CONTAINS;
		size_t used = anchored ? (p->length < 8 ? p->length : 8) : 0;
		unsigned char bytes[8] = { 0 }, mask[8] = { 0 };
		memcpy(bytes, p->text, used);
		memset(mask, 0xFF, used);
		memcpy(&index->prefix[i], bytes, 8);
		memcpy(&index->prefix_mask[i], mask, 8);
	}
	index->built = true;
}

static enum line_kind lookup(const struct phrase *table, size_t count,
                             struct phrase_index *index, struct text t)
{
	if (!index->built)
		build_index(table, count, index);
	if (t.len == 0)
		return LK_UNKNOWN; /* every phrase has at least one byte */
	unsigned char b = (unsigned char)t.ptr[0];
	uint64_t first = 0;
	memcpy(&first, t.ptr, t.len < 8 ? t.len : 8); /* short: zeros match no byte of a longer entry */
	for (size_t k = index->start[b]; k < index->start[b + 1]; k++) {
		size_t i = index->order[k];
		if (((first ^ index->prefix[i]) & index->prefix_mask[i]) == 0 &&
		    phrase_matches(&table[i], t))
			return table[i].kind;
	}
	return LK_UNKNOWN;
}

static struct phrase_index body_index, host_index;

/* The reason after "...: " in a rejection or error; the whole text when
 * there is no such separator. */
static struct text after_first_colon(struct text t)
{
	long at = text_find(t, ": ");
	return at < 0 ? t : text_skip(t, (size_t)at + 2);
}

/* Kinds whose lines say what happened and never why: no ": reason" to
 * look for (each would be scanned whole for one), and a third of a busy
 * log is connections opened and closed. */
static bool states_no_reason(enum line_kind kind)
{
	switch (kind) {
	case LK_CONNECTION_OPEN: case LK_CONNECTION_CLOSED: case LK_ARGUMENTS:
	case LK_QUEUE_RUN_START: case LK_QUEUE_RUN_END: case LK_DAEMON_START:
		return true;
	default:
		return false;
	}
}

static bool starts_with_host_identification(struct text body)
{
	if (body.len < 3)
		return false;
	if (fields_is_tag_token(body.ptr, body.len))
		return true;
	return text_starts_with(body, "DS ");
}

/* Letters, digits, '-' and '.', starting with a letter or digit. */
static bool is_host_name(struct text t)
{
	if (t.len == 0 || t.ptr[0] == '-' || t.ptr[0] == '.')
		return false;
	for (size_t i = 0; i < t.len; i++) {
		char c = (char)(t.ptr[i] | 0x20);
		if (!((c >= 'a' && c <= 'z') || (t.ptr[i] >= '0' && t.ptr[i] <= '9') ||
		      t.ptr[i] == '-' || t.ptr[i] == '.'))
			return false;
	}
	return true;
}

/* Pre-4.86 per-host lines: "NAME [IP] Error text", "SMTP error from ...". */
static bool is_old_host_error(struct text body)
{
	static const char *const starts[] = {
		"SMTP error from remote mail", "SMTP error from remote mailer",
		"SMTP timeout after ", "Remote host closed connection",
		"Failed to connect to ", "LMTP error after ", "LMTP timeout after ",
		"Malformed SMTP reply",
	};
	for (size_t i = 0; i < sizeof starts / sizeof *starts; i++)
		if (text_starts_with(body, starts[i]))
			return true;
	const char *space = memchr(body.ptr, ' ', body.len);
	if (space == NULL || !is_host_name(text_make(body.ptr, (size_t)(space - body.ptr))))
		return false;
	struct text rest = text_skip(body, (size_t)(space - body.ptr) + 1);
	if (!text_starts_with(rest, "["))
		return false;
	const char *close = memchr(rest.ptr, ']', rest.len);
	return close != NULL && close + 1 < rest.ptr + rest.len &&
	       (close[1] == ' ' || close[1] == ':');
}

static void classify_host_prefixed(struct log_line *out)
{
	size_t offset = fields_scan_prefix(out->body.ptr, out->body.len, &out->fields);
	struct text rest = text_skip(out->body, offset);
	enum line_kind kind = lookup(host_phrases, sizeof host_phrases / sizeof *host_phrases,
	                             &host_index, rest);
	if (kind == LK_UNKNOWN)
		kind = lookup(body_phrases, sizeof body_phrases / sizeof *body_phrases, &body_index,
		              rest);
	if (kind == LK_UNKNOWN && fields_has(&out->fields, FIELD_H) && out->message_id.len &&
	    fields_has(&out->fields, FIELD_H)) {
		kind = LK_HOST_ERROR;
		if (text_starts_with(rest, ": "))
			rest = text_skip(rest, 2);
		else if (text_starts_with(rest, ":"))
			rest = text_skip(rest, 1);
		out->message = rest;
		out->kind = kind;
		return;
	}
	out->kind = kind;
	out->message = kind == LK_UNKNOWN ? rest : after_first_colon(rest);
}

void classify_body(struct log_line *out)
{
	struct text body = out->body;
	if (starts_with_host_identification(body)) {
		classify_host_prefixed(out);
		return;
	}
	enum line_kind kind = lookup(body_phrases, sizeof body_phrases / sizeof *body_phrases,
	                             &body_index, body);
	out->kind = kind;
	if (kind == LK_COMPLETED) { /* "Completed QT=1m2s" (+queue_time_overall) */
		fields_scan(body.ptr + 9, body.len - 9, false, false, &out->fields, NULL);
		return;
	}
	out->message = kind == LK_UNKNOWN ? body
	               : states_no_reason(kind) ? text_make(NULL, 0)
	                                        : after_first_colon(body);
	if (kind == LK_UNKNOWN && out->message_id.len && is_old_host_error(body)) {
		out->kind = LK_HOST_ERROR;
		long bracket = text_find(body, "] ");
		if (bracket >= 0 && !text_starts_with(body, "SMTP ") &&
		    !text_starts_with(body, "Failed to connect"))
			out->message = text_skip(body, (size_t)bracket + 2);
	}
}
