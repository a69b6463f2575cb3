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

struct pipeline_summary {
	const struct input_stats *input;
	uint64_t unknown_lines;
};

struct sink {
	void *state;
	void (*line)(void *state, const struct log_line *line, const struct input_line *raw);
	/* Called once at the end; returns the exit status of the mode. */
	int (*finish)(void *state, const struct pipeline_summary *summary);
};

#endif
