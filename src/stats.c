/*
 * stats: per-kind line counts. Its output format is a contract with
 * scripts and the corpus tests: "KIND COUNT\n" for every kind, in the
 * order of linekinds.h.
 */
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>

#include "msg.h"
#include "xalloc.h"

struct stats {
	uint64_t count[LINE_KIND_COUNT];
};

struct stats *stats_new(void)
{
	return xcalloc(1, sizeof(struct stats));
}

void stats_free(struct stats *stats)
{
	free(stats);
}

static void stats_line(void *state, const struct log_line *line, const struct input_line *raw)
{
	(void)raw;
	struct stats *stats = state;
	stats->count[line->kind]++;
}

static int stats_finish(void *state, const struct pipeline_summary *summary)
{
	(void)summary;
	struct stats *stats = state;
	for (int k = 0; k < LINE_KIND_COUNT; k++)
		printf("%s %llu\n", line_kind_name((enum line_kind)k),
		       (unsigned long long)stats->count[k]);
	if (fflush(stdout) != 0 || ferror(stdout))
		msg_fatal("write error on standard output");
	return EXIT_FOUND_NOTHING;
}

struct sink stats_sink(struct stats *stats)
{
	return (struct sink){ .state = stats, .line = stats_line, .finish = stats_finish };
}
