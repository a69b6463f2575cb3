/*
 * pipeline: input -> lexer -> sink, plus what every mode shares: the
 * --unparsed file. The one place that loops over lines.
 */
#ifndef EXIMEXPLAIN_PIPELINE_H
#define EXIMEXPLAIN_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "sink.h"

struct pipeline_options {
	const char *unparsed_path; /* write unknown lines here, verbatim; NULL: no */
	/* --since/--until: only entries with since <= time < until reach the
	 * sink (0: no bound); continuation lines go with their entry. */
	int64_t since, until;
};

/* Returns the sink's exit status, or EXIT_TROUBLE when an input file could
 * not be read (the rest of the input is still processed). */
int pipeline_run(const char *const *paths, size_t count,
                 const struct pipeline_options *options, struct sink *sink);

#endif
