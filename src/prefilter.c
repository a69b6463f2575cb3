/*
 * prefilter: the two passes of grep (see prefilter.h for what they must
 * keep). A line's place is found cheaply by lexer_peek_head where it can
 * be (an Exim timestamp, then perhaps an ID) and by lexer_parse where it
 * cannot (continuations, syslog wrappers), so a native Exim log is never
 * lexed in full except for the lines that are taken. With no window the
 * time is not worked out at all (lexer_skim_head).
 *
 * When the line test can search many lines at once (line_test.search),
 * the first pass goes through blocks of whole lines and only to the lines
 * the search finds, and the second tests the lines of no message the
 * same way; otherwise every line is tested. With no window the second
 * pass, too, goes through blocks (input_next_block) and hands on only
 * the lines it takes; with one it goes line by line (prefilter_gate).
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

/* Where the second pass stands in its search through the read-ahead, in
 * stream offsets of the file being read (input_read_ahead). */
struct search {
	size_t file;          /* the file_index they are offsets of */
	uint64_t searched_to; /* the lines before this are searched */
	uint64_t found;       /* where the next match is, or UINT64_MAX */
	bool unsure;          /* test each line up to searched_to */
};

static const struct search search_none = { SIZE_MAX, 0, UINT64_MAX, false };

/* With no window, the second pass goes through blocks of whole lines
 * (input_next_block) as the first does, and hands on only the lines it
 * takes: most lines are left out, and for them the per-line round of
 * input_next_line and the verdicts cost more than the skim itself. Each
 * line still goes through the lexer's skim in order, so the lexer stands
 * where the line-by-line gate would leave it. */
struct gate_blocks {
	struct input_block block;
	const char *pos, *end;   /* the next line; the block's end */
	uint64_t line_number;    /* of the line read last, in its file */
	uint64_t lines, truncated; /* for the input's stats */
	uint64_t offset;         /* of the block's first byte, counted from the
	                            file's first block: the search's offsets */
};

struct prefilter {
	struct prefilter_options options;
	bool timeless; /* no window: no line's time is wanted */
	struct idset *ids;
	/* The first pass met a line of no message that may select. When it
	 * met none, the second need not test any: it would find none. */
	bool loose_may_select;
	struct search gate_search; /* the second pass's, either way */
	struct gate_blocks *blocks; /* the second pass's, in blocks */
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
	free(prefilter->blocks);
	free(prefilter);
}

size_t prefilter_selected(const struct prefilter *prefilter)
{
	return idset_count(prefilter->ids);
}

/* ---- the second pass searching ahead (line_test.search) ---- */

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
                         size_t file_index, size_t line_length)
{
	if (search->file != file_index) {
		*search = search_none;
		search->file = file_index;
	}
	if (ahead.offset >= search->searched_to)
		search_ahead(p, search, ahead);
	/* the match may be in the line's CR or newline, or cut off with the
	 * rest of an over-long line: the line is tested, which costs little */
	if (!search->unsure && search->found >= ahead.offset + line_length + 2)
		return false;
	if (!search->unsure) { /* search again from the next line */
		search->searched_to = ahead.offset + 1;
		search->found = UINT64_MAX;
	}
	return true;
}

/* ---- the first pass, line by line ---- */

/* A line of no message, the first pass's way: only whether one may select
 * at all is noted; the second pass tests each itself. */
static void note_loose_line(struct prefilter *p, struct text raw)
{
	if (!p->loose_may_select && may_select(p, raw))
		p->loose_may_select = true;
}

/* The window follows entries as the pipeline's does: a continuation line
 * is in it when its entry is, and the first file's first lines are. Of
 * the lines of no message only note_loose_line's answer is kept. */
static bool scan_lines(struct prefilter *p, struct input *input, struct lexer *lexer)
{
	struct input_line raw;
	struct log_line line;
	bool in = true;
	while (input_next_line(input, &raw)) {
		if (input_file_changed(input))
			lexer_reset(lexer);
		struct place place = place_of(p, lexer, raw.text, &line);
		if (place.kind == PLACE_MESSAGE || place.kind == PLACE_ENTRY)
			in = in_window(p, place.epoch);
		if (!in)
			continue;
		if (place.id.len == 0)
			note_loose_line(p, raw.text);
		else if (!idset_has(p->ids, place.id) && may_select(p, raw.text) &&
		         !idset_add(p->ids, place.id))
			return false;
	}
	return true;
}

/* ---- the first pass in blocks ---- */

/* With a search and no window, lines need not be gone through one by
 * one: a block of whole lines (input_next_block) is searched, and only
 * the lines found are placed and tested. A line is placed as the lexer
 * would place it in order: a head by itself, anything else (a
 * continuation, a syslog line) from the last head before it, or from
 * where the lexer stood, going forward; the lexer is brought to the end
 * of each block the same way. Each line is gone over at most twice. */
struct block_scan {
	struct prefilter *p;
	struct lexer *lexer;
	struct input_block block;
	const char *known_to; /* the lexer has placed every line before this */
	struct log_line line;
};

/* A line of the block as input_next_line would return it (*truncated
 * as it would say), and where the next one starts. */
static inline struct text block_line_cut(const struct input_block *block, const char *start,
                                  const char **next, bool *truncated)
{
	const char *end = block->text.ptr + block->text.len;
	const char *newline = memchr(start, '\n', (size_t)(end - start));
	size_t length = (size_t)((newline ? newline : end) - start);
	*next = newline ? newline + 1 : end;
	if (newline && length > 0 && start[length - 1] == '\r')
		length--;
	*truncated = length > INPUT_LINE_MAX || (newline == NULL && block->cut);
	if (length > INPUT_LINE_MAX)
		length = INPUT_LINE_MAX;
	return text_make(start, length);
}

/* The same, for the first pass. */
static struct text block_line(const struct block_scan *scan, const char *start,
                              const char **next)
{
	bool truncated;
	return block_line_cut(&scan->block, start, next, &truncated);
}

/* The start of the line that holds at, not before from (a line start). */
static const char *start_of_line(const char *from, const char *at)
{
	const char *newline = at > from ? memrchr(from, '\n', (size_t)(at - from)) : NULL;
	return newline ? newline + 1 : from;
}

static void place_forward(struct block_scan *scan, const char *from, const char *to)
{
	const char *next;
	for (const char *s = from; s < to; s = next)
		(void)place_of(scan->p, scan->lexer, block_line(scan, s, &next), &scan->line);
}

/* Bring the lexer to the line starting at to: from the last head before
 * it, or, with none since known_to, from there. */
static void place_up_to(struct block_scan *scan, const char *to)
{
	const char *from = scan->known_to, *next;
	for (const char *end = to; end > scan->known_to;) {
		const char *start = start_of_line(scan->known_to, end - 1);
		struct text text = block_line(scan, start, &next), id;
		int64_t epoch;
		if (lexer_peek_head(scan->lexer, text.ptr, text.len, &id, &epoch) !=
		    LEXER_HEAD_UNSURE) {
			from = next;
			break;
		}
		end = start;
	}
	place_forward(scan, from, to);
	scan->known_to = to;
}

/* Place and test the line at start; false when the set is full. */
static bool test_block_line(struct block_scan *scan, const char *start, const char **next)
{
	struct text text = block_line(scan, start, next);
	struct place place = { 0 };
	int64_t epoch;
	if (lexer_peek_head(scan->lexer, text.ptr, text.len, &place.id, &epoch) ==
	    LEXER_HEAD_UNSURE) {
		place_up_to(scan, start);
		place = place_of(scan->p, scan->lexer, text, &scan->line);
	}
	scan->known_to = *next;
	if (place.id.len == 0) {
		note_loose_line(scan->p, text);
		return true;
	}
	if (idset_has(scan->p->ids, place.id) || !may_select(scan->p, text))
		return true;
	return idset_add(scan->p->ids, place.id);
}

/* Every line from start to the block's end, as the search cannot tell. */
static bool test_every_line(struct block_scan *scan, const char *start, const char *end)
{
	place_up_to(scan, start);
	const char *next;
	for (const char *s = start; s < end; s = next)
		if (!test_block_line(scan, s, &next))
			return false;
	return true;
}

static bool scan_block(struct block_scan *scan)
{
	const struct line_test *test = &scan->p->options.test;
	const char *pos = scan->block.text.ptr, *end = pos + scan->block.text.len, *next;
	scan->known_to = pos;
	while (pos < end) {
		size_t at = 0;
		switch (test->search(test->context, pos, (size_t)(end - pos), &at)) {
		case LINE_SEARCH_NONE:
			pos = end;
			break;
		case LINE_SEARCH_UNSURE:
			return test_every_line(scan, pos, end);
		case LINE_SEARCH_FOUND:
			if (at >= (size_t)(end - pos)) { /* at the very end: no line */
				pos = end;
				break;
			}
			if (!test_block_line(scan, start_of_line(pos, pos + at), &next))
				return false;
			pos = next;
			break;
		}
	}
	place_up_to(scan, end);
	return true;
}

static bool scan_blocks(struct prefilter *p, struct input *input, struct lexer *lexer)
{
	struct block_scan scan = { .p = p, .lexer = lexer };
	while (input_next_block(input, &scan.block)) {
		if (input_file_changed(input))
			lexer_reset(lexer);
		if (!scan_block(&scan))
			return false;
	}
	return true;
}

bool prefilter_scan(struct prefilter *p, struct input *input, struct lexer *lexer)
{
	if (p->options.test.search != NULL && p->timeless)
		return scan_blocks(p, input, lexer);
	return scan_lines(p, input, lexer);
}

/* ---- the second pass ---- */

/* " R=" in [s, end), s being a space: memmem costs more for so short a
 * needle than stopping at each capital R, which log text has few of.
 * (Sixteen places at a time with SSE2 took more instructions than these
 * few calls: glibc's memchr goes 32 or 64 bytes a step.) */
static bool has_r_field(const char *s, const char *end)
{
	for (const char *r = s + 1; r < end && (r = memchr(r, 'R', (size_t)(end - r))) != NULL; r++)
		if (r[-1] == ' ' && end - r >= 2 && r[1] == '=')
			return true;
	return false;
}

/* An arrival or fake reject ("ID <= " or "ID (= "): only these can name
 * a parent. Inline: asked of every line of a message not selected. */
static inline bool is_arrival_head(struct text raw, const struct place *place)
{
	const char *end = raw.ptr + raw.len;
	const char *after_id = place->id.ptr + place->id.len;
	return end - after_id >= 4 && after_id[0] == ' ' && after_id[2] == '=' &&
	       after_id[3] == ' ' && (after_id[1] == '<' || after_id[1] == '(');
}

/* An arrival naming a parent ("<= <> ... R=parent": a bounce; the table
 * links any arrival or fake reject with R=, whatever its sender). Taken
 * when its parent is, so the parent's record names it; and then followed,
 * so it completes. Asked only of an arrival head (is_arrival_head). */
static bool is_bounce_of_selected(struct prefilter *p, struct lexer *lexer, struct text raw,
                                  struct log_line *line, struct place *place)
{
	const char *end = raw.ptr + raw.len;
	const char *after_id = place->id.ptr + place->id.len;
	if (!has_r_field(after_id, end))
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

/* Where a line of the second pass stands, for the search: the one at
 * start in the block being gone through (blocks), or, with no blocks, the
 * line input_next_line returned last (input). */
struct line_at {
	struct input *input;
	const struct gate_blocks *blocks;
	const char *start;
};

/* The bytes from the line's start on, at the search's offsets. */
static struct input_ahead ahead_of(const struct line_at *at)
{
	const struct gate_blocks *g = at->blocks;
	if (g == NULL)
		return input_read_ahead(at->input);
	return (struct input_ahead){
		text_make(at->start, (size_t)(g->end - at->start)),
		g->offset + (uint64_t)(at->start - g->block.text.ptr),
	};
}

/* A line of no message: tested when the search finds it. */
static bool loose_may_select(struct prefilter *p, const struct line_at *at, size_t file_index,
                             struct text line)
{
	if (!p->loose_may_select)
		return false; /* the first pass tested every one of them */
	if (p->options.test.search &&
	    !may_be_found(p, &p->gate_search, ahead_of(at), file_index, line.len))
		return false;
	return may_select(p, line);
}

/* Whether the second pass takes a line placed (place_of): every line of a
 * selected message and of a bounce of one, and lines of no message that
 * may select. Inline: the block loop asks it of every line, and a call
 * with the place passed by pointer cost 3 % more instructions. */
static inline bool take_placed(struct prefilter *p, struct lexer *lexer, const struct line_at *at,
                        size_t file_index, struct text text, struct log_line *line,
                        struct place *place)
{
	switch (place->kind) {
	case PLACE_MESSAGE:
		return idset_has(p->ids, place->id) ||
		       (is_arrival_head(text, place) &&
		        is_bounce_of_selected(p, lexer, text, line, place));
	case PLACE_ENTRY:
		return loose_may_select(p, at, file_index, text);
	case PLACE_CONTINUATION:
		return place->id.len ? idset_has(p->ids, place->id)
		                     : loose_may_select(p, at, file_index, text);
	case PLACE_BLANK:
	default:
		return false;
	}
}

static struct prefilter_verdict verdict(bool take, const struct place *place)
{
	bool head = place->kind == PLACE_MESSAGE || place->kind == PLACE_ENTRY;
	return (struct prefilter_verdict){ take, place->parsed, head, place->epoch };
}


struct prefilter_verdict prefilter_gate(struct prefilter *p, struct lexer *lexer,
                                        struct input *input, const struct input_line *raw,
                                        struct log_line *line)
{
	struct place place = place_of(p, lexer, raw->text, line);
	struct line_at at = { .input = input };
	bool take = take_placed(p, lexer, &at, raw->file_index, raw->text, line, &place);
	return verdict(take, &place);
}

/* ---- the second pass in blocks ---- */

bool prefilter_gates_in_blocks(const struct prefilter *prefilter)
{
	return prefilter->timeless;
}

/* Whether to take the line at start; *parsed when it is lexed into *line
 * already. */
static bool gate_block_line(struct prefilter *p, struct gate_blocks *g, struct lexer *lexer,
                            const char *start, struct text text, struct log_line *line,
                            bool *parsed)
{
	struct line_at at = { .blocks = g, .start = start };
	struct place place = { .kind = PLACE_MESSAGE };
	switch (lexer_skim_head(lexer, text.ptr, text.len, &place.id)) {
	case LEXER_HEAD_MESSAGE:
		break;
	case LEXER_HEAD_ENTRY:
		place.kind = PLACE_ENTRY;
		break;
	case LEXER_HEAD_UNSURE:
	default: /* a continuation, a syslog line, another minute */
		place = place_of(p, lexer, text, line);
		break;
	}
	bool take = take_placed(p, lexer, &at, g->block.file_index, text, line, &place);
	*parsed = place.parsed;
	return take;
}

static bool next_gate_block(struct gate_blocks *g, struct lexer *lexer, struct input *input)
{
	input_count_lines(input, g->lines, g->truncated);
	g->lines = g->truncated = 0;
	g->offset += g->block.text.len;
	if (!input_next_block(input, &g->block))
		return false;
	if (input_file_changed(input)) {
		lexer_reset(lexer);
		g->line_number = 0;
		g->offset = 0;
	}
	g->pos = g->block.text.ptr;
	g->end = g->pos + g->block.text.len;
	return true;
}

bool prefilter_next_taken(struct prefilter *p, struct lexer *lexer, struct input *input,
                          struct input_line *raw, struct log_line *line, bool *parsed)
{
	if (p->blocks == NULL)
		p->blocks = xcalloc(1, sizeof *p->blocks);
	struct gate_blocks *g = p->blocks;
	for (;;) {
		if (g->pos == g->end && !next_gate_block(g, lexer, input))
			return false;
		const char *start = g->pos;
		bool truncated;
		struct text text = block_line_cut(&g->block, start, &g->pos, &truncated);
		g->line_number++;
		g->lines++;
		g->truncated += truncated;
		if (!gate_block_line(p, g, lexer, start, text, line, parsed))
			continue;
		*raw = (struct input_line){
			.text = text, .file = input_file_name(input, g->block.file_index),
			.line_number = g->line_number, .truncated = truncated,
			.file_index = g->block.file_index,
		};
		return true;
	}
}
