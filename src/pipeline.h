/*
 * pipeline: input -> lexer -> sink, plus what every mode shares: the
 * --unparsed file. The one place that loops over lines.
 */
#ifndef EXIMEXPLAIN_PIPELINE_H
#define EXIMEXPLAIN_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "input.h"
#include "prefilter.h"
#include "sink.h"

/* A run that resumes where an earlier one stopped (--state; see resume.h). */
struct pipeline_resume {
	const struct input_start *starts; /* read exactly these, in this order */
	size_t start_count;
	const struct text *replay;        /* lines fed before any file, flagged
	                                     replayed (carried over last time) */
	size_t replay_count;
	/* Filled in by pipeline_run before the sink finishes, start_count
	 * entries each: where each read ended, and its last timestamp (0: none). */
	struct input_position *positions;
	int64_t *last_times;
};

struct pipeline_options {
	const char *unparsed_path; /* write unknown lines here, verbatim; NULL: no */
	/* --since/--until: only entries with since <= time < until reach the
	 * sink (0: no bound); continuation lines go with their entry. */
	int64_t since, until;
	struct pipeline_resume *resume; /* NULL: read the paths, oldest first */
	/* grep: a test true for every line the sink could select a message
	 * by. When given, and every file is a regular file, the files are
	 * read twice and the sink gets only the lines that can matter (see
	 * prefilter.h); not with resume or unparsed_path, which need every
	 * line. NULL: one pass, every line. */
	const struct line_test *prefilter;
	bool verbose; /* --verbose: tell on stderr how the input was read */
	/* Read and lex on a second thread while this one runs the sink
	 * (linepipe.h), unless EXIMEXPLAIN_THREADS=1: for sinks that do as
	 * much per line as the lexer (the transaction table's). A light sink
	 * gains on an idle machine (stats: 217/222 -> 181/190 ms, best and
	 * first quartile) but loses when another process keeps a core busy
	 * (237/238 -> 301/302): its thread has too little of its own to
	 * hide the pipe's hand-overs once the two threads share a core. */
	bool read_ahead;
};

/* Returns the sink's exit status, or EXIT_TROUBLE when an input file could
 * not be read (the rest of the input is still processed). */
int pipeline_run(const char *const *paths, size_t count,
                 const struct pipeline_options *options, struct sink *sink);

#endif
