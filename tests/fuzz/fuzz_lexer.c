/*
 * fuzz_lexer: the lexer and the field splitter on hostile bytes. The
 * input is lexed once as one line, then split on '\n' and lexed line by
 * line through one lexer (so continuation lines meet the entry before
 * them). Every line is copied into a buffer of exactly its length, so
 * AddressSanitizer sees a read one byte past it. Besides not crashing, the
 * lexer must keep every view it hands out inside the line (lexer.h), and
 * the field helpers must do the same with the views they are given. A
 * second lexer lexes each line in two parts (lexer_parse_leaving_rest,
 * then lexer_parse_rest, as the line pipe may): the line must come out
 * exactly as lexed at once.
 */
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "fuzz.h"
#include "lexer.h"
#include "strbuf.h"
#include "txn.h"

static void check_inside(struct text view, const char *start, size_t length, const char *what)
{
	if (view.len == 0)
		return;
	if (view.ptr < start || view.len > length || view.ptr - start > (ptrdiff_t)(length - view.len))
		fuzz_fail(what);
}

static void exercise_fields(const struct log_line *line, const char *start, size_t length,
                            struct strbuf *sb)
{
	for (int tag = 0; tag < FIELD_COUNT; tag++) {
		if (!fields_has(&line->fields, (enum field_tag)tag))
			continue;
		struct text value = fields_get(&line->fields, (enum field_tag)tag);
		check_inside(value, start, length, "field value outside the line");
		strbuf_reset(sb);
		fields_unquote(value, sb);
	}
	struct host_view host;
	struct text h = fields_get(&line->fields, FIELD_H);
	if (fields_parse_host(h, &host)) {
		check_inside(host.name, h.ptr, h.len, "host name outside H=");
		check_inside(host.helo, h.ptr, h.len, "HELO outside H=");
		check_inside(host.ip, h.ptr, h.len, "IP outside H=");
		check_inside(host.port, h.ptr, h.len, "port outside H=");
	}
	struct text reply_source[] = { line->message, line->body };
	for (size_t i = 0; i < 2; i++) {
		struct text reply = reply_source[i];
		size_t pos = 0;
		struct text reply_line;
		unsigned guard = 0;
		while (fields_next_reply_line(reply, &pos, &reply_line)) {
			check_inside(reply_line, reply.ptr, reply.len, "reply line outside the text");
			if (++guard > reply.len + 1)
				fuzz_fail("fields_next_reply_line does not advance");
		}
		struct smtp_reply_view view;
		if (fields_parse_reply(reply, &view)) {
			check_inside(view.status, reply.ptr, reply.len, "status outside the reply");
			check_inside(view.text, reply.ptr, reply.len, "reply text outside the reply");
		}
		struct smtp_reply_parts parts;
		if (txn_parse_smtp_error(reply, &parts)) {
			check_inside(parts.status, reply.ptr, reply.len, "status outside the error");
			check_inside(parts.reply, reply.ptr, reply.len, "reply outside the error");
		}
	}
}

static bool same_view(struct text a, struct text b)
{
	return a.len == b.len && (a.len == 0 || a.ptr == b.ptr);
}

static void check_same_in_two_parts(const struct log_line *whole, const struct log_line *parts)
{
	if (whole->kind != parts->kind || whole->flag != parts->flag ||
	    whole->continues != parts->continues || whole->epoch != parts->epoch ||
	    whole->millisecond != parts->millisecond || whole->pid != parts->pid ||
	    parts->rest_unlexed)
		fuzz_fail("lexed in two parts: another kind or time");
	/* a continuation's ID is each lexer's own copy: compared by content */
	if (whole->message_id.len != parts->message_id.len ||
	    (whole->message_id.len &&
	     memcmp(whole->message_id.ptr, parts->message_id.ptr, whole->message_id.len) != 0))
		fuzz_fail("lexed in two parts: another ID");
	if (!same_view(whole->body, parts->body) || !same_view(whole->address, parts->address) ||
	    !same_view(whole->message, parts->message) ||
	    !same_view(whole->strerror_text, parts->strerror_text) ||
	    whole->fields.present != parts->fields.present)
		fuzz_fail("lexed in two parts: another view");
	for (int tag = 0; tag < FIELD_COUNT; tag++)
		if (fields_has(&whole->fields, (enum field_tag)tag) &&
		    !same_view(fields_get(&whole->fields, (enum field_tag)tag),
		               fields_get(&parts->fields, (enum field_tag)tag)))
			fuzz_fail("lexed in two parts: another field");
}

static void lex_one(struct lexer *lexer, struct lexer *in_parts, const uint8_t *bytes,
                    size_t length, struct strbuf *sb)
{
	/* An exact-size copy: a read past the line is a heap overflow. */
	char *line = malloc(length ? length : 1);
	if (line == NULL)
		fuzz_fail("out of memory");
	if (length)
		memcpy(line, bytes, length);
	struct log_line out, parts;
	lexer_parse(lexer, line, length, &out);
	lexer_parse_leaving_rest(in_parts, line, length, &parts);
	lexer_parse_rest(&parts);
	check_same_in_two_parts(&out, &parts);
	if ((unsigned)out.kind >= LINE_KIND_COUNT)
		fuzz_fail("line kind out of range");
	if (out.kind != LK_CONTINUATION)
		check_inside(out.message_id, line, length, "message ID outside the line");
	if (out.message_id.len > MESSAGE_ID_MAX)
		fuzz_fail("message ID too long");
	check_inside(out.body, line, length, "body outside the line");
	check_inside(out.address, line, length, "address outside the line");
	check_inside(out.message, line, length, "message outside the line");
	check_inside(out.strerror_text, line, length, "strerror outside the line");
	exercise_fields(&out, line, length, sb);

	struct fields fields;
	struct text message;
	fields_clear(&fields);
	fields_scan(line, length, false, true, &fields, &message);
	check_inside(message, line, length, "fields_scan message outside the line");
	fields_clear(&fields);
	if (fields_scan_prefix(line, length, &fields) > length)
		fuzz_fail("fields_scan_prefix offset past the end");
	(void)fields_is_tag_token(line, length);
	(void)lexer_is_message_id(line, length);
	int64_t epoch;
	(void)lexer_leading_time(lexer, line, length, &epoch);
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf sb = STRBUF_INIT;
	struct lexer *lexer = lexer_new(), *in_parts = lexer_new();
	lex_one(lexer, in_parts, data, size, &sb);
	lexer_reset(lexer);
	lexer_reset(in_parts);
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			lex_one(lexer, in_parts, data + start, i - start, &sb);
			start = i + 1;
		}
	}
	lexer_free(lexer);
	lexer_free(in_parts);
	strbuf_release(&sb);
	return 0;
}
