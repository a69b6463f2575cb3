/*
 * sink: where lexed lines go. Every output mode (stats now; report,
 * drill-down, export, digest later) is one struct sink, so the pipeline
 * never asks which mode it is running (OpenSMTPD's table backends).
 *
 * Ownership: the line and its views are borrowed for the duration of the
 * call only; a sink copies what it keeps.
 */
#ifndef EXIMEXPLAIN_SINK_H
#define EXIMEXPLAIN_SINK_H

#include "input.h"
#include "lexer.h"

/* The earliest and latest of some lines' times; 0 is no time (none yet,
 * or a line that has none), never one of them. */
struct time_span {
	int64_t first, last;
};

static inline void time_span_note(struct time_span *span, int64_t t)
{
	if (t == 0)
		return;
	if (span->first == 0 || t < span->first)
		span->first = t;
	if (span->last == 0 || t > span->last)
		span->last = t;
}

struct pipeline_summary {
	const struct input_stats *input;
	uint64_t unknown_lines;
	/* the times of the lines the sink wanted only the time of
	 * (sink.time_only_kinds) */
	struct time_span time_only;
};

struct sink {
	void *state;
	void (*line)(void *state, const struct log_line *line, const struct input_line *raw);
	/* Called once at the end; returns the exit status of the mode. */
	int (*finish)(void *state, const struct pipeline_summary *summary);
	/* Kinds (bit 1 << kind) of line the sink wants nothing of but the
	 * time when the line belongs to no message: "SMTP connection from"
	 * and the like, a third of a busy server's log, to a sink that counts
	 * messages and SMTP-time events. Such lines, and the continuation
	 * lines of their entries, are not handed to line(); their times come
	 * in pipeline_summary instead. Read on the reading thread (linepipe),
	 * so not changed while the pipeline runs. 0: every line. */
	uint64_t time_only_kinds;
};

_Static_assert(LINE_KIND_COUNT <= 64, "a kind is a bit of time_only_kinds");

#endif
