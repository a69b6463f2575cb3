/*
 * prefilter: the two passes of grep (see prefilter.h for what they must
 * keep). A line's place is found cheaply by lexer_peek_head where it can
 * be (an Exim timestamp, then perhaps an ID) and by lexer_parse where it
 * cannot (continuations, syslog wrappers), so a native Exim log is never
 * lexed in full except for the lines that are taken.
 *
 * The second pass follows what the transaction table does with a line: a
 * continuation line belongs to the message of the entry before it (the
 * lexer says which), so it goes with that message; one of no message,
 * after an entry of no message or at the top of a file, is handed on as a
 * loose line, so it is tested on its own.
 */
#include "prefilter.h"

#include <stdlib.h>
#include <string.h>

#include "idset.h"
#include "timestamp.h"
#include "xalloc.h"

struct prefilter {
	struct prefilter_options options;
	struct idset *ids;
};

/* Where a line stands: a message entry (id), an entry of no message,
 * a continuation, or a blank line. */
struct place {
	enum { PLACE_MESSAGE, PLACE_ENTRY, PLACE_CONTINUATION, PLACE_BLANK } kind;
	struct text id;  /* PLACE_MESSAGE; PLACE_CONTINUATION: its entry's, if any */
	int64_t epoch;   /* entries */
	bool parsed;     /* *line holds the lexed line */
};

static struct place place_of(struct lexer *lexer, struct text raw, struct log_line *line)
{
	struct place place = { 0 };
	switch (lexer_peek_head(lexer, raw.ptr, raw.len, &place.id, &place.epoch)) {
	case LEXER_HEAD_MESSAGE:
		place.kind = PLACE_MESSAGE;
		return place;
	case LEXER_HEAD_ENTRY:
		place.kind = PLACE_ENTRY;
		return place;
	case LEXER_HEAD_UNSURE:
		break;
	}
	lexer_parse(lexer, raw.ptr, raw.len, line);
	place.parsed = true;
	place.id = line->message_id;
	place.epoch = line->epoch;
	if (line->kind == LK_BLANK)
		place.kind = PLACE_BLANK;
	else if (line->kind == LK_CONTINUATION)
		place.kind = PLACE_CONTINUATION;
	else
		place.kind = line->message_id.len ? PLACE_MESSAGE : PLACE_ENTRY;
	return place;
}

static bool in_window(const struct prefilter *p, int64_t epoch)
{
	return timestamp_in_window(epoch, p->options.since, p->options.until);
}

static bool may_select(const struct prefilter *p, struct text raw)
{
	return p->options.test.may_select(p->options.test.context, raw.ptr ? raw.ptr : "", raw.len);
}

struct prefilter *prefilter_new(const struct prefilter_options *options)
{
	struct prefilter *p = xcalloc(1, sizeof *p);
	p->options = *options;
	p->ids = idset_new(options->ids_max ? options->ids_max : PREFILTER_IDS_MAX);
	return p;
}

void prefilter_free(struct prefilter *prefilter)
{
	if (prefilter == NULL)
		return;
	idset_free(prefilter->ids);
	free(prefilter);
}

size_t prefilter_selected(const struct prefilter *prefilter)
{
	return idset_count(prefilter->ids);
}

/* ---- the first pass ---- */

/* The window follows entries as the pipeline's does: a continuation line
 * is in it when its entry is, and the first file's first lines are. Lines
 * of no message are not noted: the second pass tests them itself. */
bool prefilter_scan(struct prefilter *p, struct input *input, struct lexer *lexer)
{
	struct input_line raw;
	struct log_line line;
	bool in = true;
	while (input_next_line(input, &raw)) {
		if (input_file_changed(input))
			lexer_reset(lexer);
		struct place place = place_of(lexer, raw.text, &line);
		if (place.kind == PLACE_MESSAGE || place.kind == PLACE_ENTRY)
			in = in_window(p, place.epoch);
		if (!in || place.id.len == 0 || idset_has(p->ids, place.id))
			continue;
		if (may_select(p, raw.text) && !idset_add(p->ids, place.id))
			return false;
	}
	return true;
}

/* ---- the second pass ---- */

/* An arrival naming a parent ("<= <> ... R=parent": a bounce; the table
 * links any arrival or fake reject with R=, whatever its sender). Taken
 * when its parent is, so the parent's record names it; and then followed,
 * so it completes. */
static bool is_bounce_of_selected(struct prefilter *p, struct lexer *lexer, struct text raw,
                                  struct log_line *line, struct place *place)
{
	const char *end = raw.ptr + raw.len;
	const char *after_id = place->id.ptr + place->id.len;
	if (end - after_id < 4 || after_id[0] != ' ' || after_id[2] != '=' || after_id[3] != ' ' ||
	    (after_id[1] != '<' && after_id[1] != '(') ||
	    memmem(after_id, (size_t)(end - after_id), " R=", 3) == NULL)
		return false;
	if (!place->parsed) {
		lexer_parse(lexer, raw.ptr, raw.len, line);
		place->parsed = true;
	}
	struct text parent = fields_get(&line->fields, FIELD_R);
	if ((line->kind != LK_ARRIVAL && line->kind != LK_FAKE_REJECT) ||
	    !idset_has(p->ids, parent))
		return false;
	/* full: this line still links the two; the bounce's own record,
	 * which no line of it selects, is left incomplete */
	(void)idset_add(p->ids, line->message_id);
	return true;
}

static struct prefilter_verdict verdict(bool take, const struct place *place)
{
	bool head = place->kind == PLACE_MESSAGE || place->kind == PLACE_ENTRY;
	return (struct prefilter_verdict){ take, place->parsed, head, place->epoch };
}

struct prefilter_verdict prefilter_gate(struct prefilter *p, struct lexer *lexer,
                                        struct text raw, struct log_line *line)
{
	struct place place = place_of(lexer, raw, line);
	switch (place.kind) {
	case PLACE_MESSAGE:
		return verdict(idset_has(p->ids, place.id) ||
		               is_bounce_of_selected(p, lexer, raw, line, &place), &place);
	case PLACE_ENTRY:
		return verdict(may_select(p, raw), &place);
	case PLACE_CONTINUATION:
		return verdict(place.id.len ? idset_has(p->ids, place.id) : may_select(p, raw),
		               &place);
	case PLACE_BLANK:
	default:
		return verdict(false, &place);
	}
}
