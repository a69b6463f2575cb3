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

/* Where a pass stands in its search through the read-ahead, in stream
 * offsets of the file being read (input_read_ahead). */
struct search {
	size_t file;          /* the file_index they are offsets of */
	uint64_t searched_to; /* the lines before this are searched */
	uint64_t found;       /* where the next match is, or UINT64_MAX */
	bool unsure;          /* test each line up to searched_to */
};

static const struct search search_none = { SIZE_MAX, 0, UINT64_MAX, false };

struct prefilter {
	struct prefilter_options options;
	bool timeless; /* no window: no line's time is wanted */
	struct idset *ids;
	struct search gate_search; /* the second pass's */
};

/* Where a line stands: a message entry (id), an entry of no message,
 * a continuation, or a blank line. */
struct place {
	enum { PLACE_MESSAGE, PLACE_ENTRY, PLACE_CONTINUATION, PLACE_BLANK } kind;
	struct text id;  /* PLACE_MESSAGE; PLACE_CONTINUATION: its entry's, if any */
	int64_t epoch;   /* entries */
	bool parsed;     /* *line holds the lexed line */
};

static struct place place_of(const struct prefilter *p, struct lexer *lexer, struct text raw,
                             struct log_line *line)
{
	struct place place = { 0 };
	/* with no window the time is not wanted, and skimming is cheaper */
	enum lexer_head head = p->timeless
	                       ? lexer_skim_head(lexer, raw.ptr, raw.len, &place.id)
	                       : LEXER_HEAD_UNSURE;
	if (head == LEXER_HEAD_UNSURE)
		head = lexer_peek_head(lexer, raw.ptr, raw.len, &place.id, &place.epoch);
	switch (head) {
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
	p->timeless = options->since == 0 && options->until == 0;
	p->ids = idset_new(options->ids_max ? options->ids_max : PREFILTER_IDS_MAX);
	p->gate_search = search_none;
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

/* ---- searching ahead (line_test.search) ---- */


static void search_ahead(struct prefilter *p, struct search *search, struct input_ahead ahead)
{
	size_t at = 0;
	search->found = UINT64_MAX;
	search->unsure = false;
	switch (p->options.test.search(p->options.test.context, ahead.text.ptr, ahead.text.len,
	                               &at)) {
	case LINE_SEARCH_FOUND:
		search->found = ahead.offset + at;
		search->searched_to = search->found;
		return;
	case LINE_SEARCH_UNSURE:
		search->unsure = true;
		break;
	case LINE_SEARCH_NONE:
		break;
	}
	search->searched_to = ahead.offset + ahead.text.len;
}

/* Whether the line just read may select, as far as the search can tell:
 * false when it surely does not. Lines may be asked about or not, but in
 * the order they are read. */
static bool may_be_found(struct prefilter *p, struct search *search, struct input_ahead ahead,
                         const struct input_line *raw)
{
	if (search->file != raw->file_index) {
		*search = search_none;
		search->file = raw->file_index;
	}
	if (ahead.offset >= search->searched_to)
		search_ahead(p, search, ahead);
	/* the match may be in the line's CR or newline, or cut off with the
	 * rest of an over-long line: the line is tested, which costs little */
	if (!search->unsure && search->found >= ahead.offset + raw->text.len + 2)
		return false;
	if (!search->unsure) { /* search again from the next line */
		search->searched_to = ahead.offset + 1;
		search->found = UINT64_MAX;
	}
	return true;
}

/* ---- the first pass ---- */

/* A head line the first pass passed over: placed (so the lexer knows the
 * entry of the continuation lines after it) only when a later line needs
 * that, or before its bytes go (the line is the last read ahead). Only a
 * head of the minute the lexer knows is left so, which surely places. */
struct passed_head {
	struct text line;
	bool pending;
};

static void place_passed_head(struct prefilter *p, struct lexer *lexer,
                              struct passed_head *head, struct log_line *line)
{
	if (head->pending)
		(void)place_of(p, lexer, head->line, line);
	head->pending = false;
}

/* With a search and no window, a line not found is never tested and
 * needs no place of its own, only a head to stand for its entry. */
static bool pass_over(struct prefilter *p, struct lexer *lexer, struct input *input,
                      const struct input_line *raw, struct search *search,
                      struct passed_head *head, struct log_line *line)
{
	struct input_ahead ahead = input_read_ahead(input);
	if (may_be_found(p, search, ahead, raw))
		return false;
	if (lexer_is_head_in_minute(lexer, raw->text.ptr, raw->text.len)) {
		*head = (struct passed_head){ raw->text, true };
		if (raw->text.len + 2 >= ahead.text.len) /* the next read may move it */
			place_passed_head(p, lexer, head, line);
		return true;
	}
	place_passed_head(p, lexer, head, line);
	(void)place_of(p, lexer, raw->text, line);
	return true;
}

/* The window follows entries as the pipeline's does: a continuation line
 * is in it when its entry is, and the first file's first lines are. Lines
 * of no message are not noted: the second pass tests them itself. */
bool prefilter_scan(struct prefilter *p, struct input *input, struct lexer *lexer)
{
	struct input_line raw;
	struct log_line line;
	struct search search = search_none;
	struct passed_head head = { { NULL, 0 }, false };
	bool skimming = p->options.test.search != NULL && p->timeless;
	bool in = true;
	while (input_next_line(input, &raw)) {
		if (input_file_changed(input)) {
			lexer_reset(lexer);
			head.pending = false;
		}
		if (skimming && pass_over(p, lexer, input, &raw, &search, &head, &line))
			continue;
		place_passed_head(p, lexer, &head, &line);
		struct place place = place_of(p, lexer, raw.text, &line);
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

/* " R=" in [s, end), s being a space: memmem costs more for so short a
 * needle than stopping at each capital R, which log text has few of. */
static bool has_r_field(const char *s, const char *end)
{
	for (const char *r = s + 1; r < end && (r = memchr(r, 'R', (size_t)(end - r))) != NULL; r++)
		if (r[-1] == ' ' && end - r >= 2 && r[1] == '=')
			return true;
	return false;
}

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
	    (after_id[1] != '<' && after_id[1] != '(') || !has_r_field(after_id, end))
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

/* A line of no message: tested when the search finds it. */
static bool loose_may_select(struct prefilter *p, struct input *input,
                             const struct input_line *raw)
{
	if (p->options.test.search &&
	    !may_be_found(p, &p->gate_search, input_read_ahead(input), raw))
		return false;
	return may_select(p, raw->text);
}

struct prefilter_verdict prefilter_gate(struct prefilter *p, struct lexer *lexer,
                                        struct input *input, const struct input_line *raw,
                                        struct log_line *line)
{
	struct place place = place_of(p, lexer, raw->text, line);
	switch (place.kind) {
	case PLACE_MESSAGE:
		return verdict(idset_has(p->ids, place.id) ||
		               is_bounce_of_selected(p, lexer, raw->text, line, &place), &place);
	case PLACE_ENTRY:
		return verdict(loose_may_select(p, input, raw), &place);
	case PLACE_CONTINUATION:
		return verdict(place.id.len ? idset_has(p->ids, place.id)
		                            : loose_may_select(p, input, raw), &place);
	case PLACE_BLANK:
	default:
		return verdict(false, &place);
	}
}
