/*
 * fuzz_prefilter: grep's two passes against one, on the same bytes. The
 * first line of the input is the pattern (a regex; one that does not
 * compile is taken literally), the rest is a log written to a file. The
 * file is read by the pipeline twice over: with the prefilter (two passes,
 * src/prefilter.c) and without (one pass, every line lexed), each into a
 * drill-down that prints to memory. The outputs and exit statuses must be
 * the same, byte for byte: the prefilter may only leave out lines that
 * cannot change what grep prints.
 *
 * The explanations are left out (no explainer): they depend on the record
 * alone, which either pass builds from the same lines, and leaving them
 * out makes the harness fast enough to try many inputs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drilldown.h"
#include "fuzz.h"
#include "pipeline.h"
#include "txn.h"

#define PATTERN_MAX 64

/* One grep over path: its output in *text (malloc'd) and its status. */
static int grep_once(const char *path, const char *pattern, bool literal, bool two_passes,
                     char **text, size_t *length)
{
	FILE *out = open_memstream(text, length);
	if (out == NULL)
		fuzz_fail("open_memstream");
	struct drilldown_options options = { .pattern = pattern, .literal = literal,
		                             .min_queue_seconds = -1, .out = out };
	char error[256];
	struct drilldown *drilldown = drilldown_new(&options, error, sizeof error);
	if (drilldown == NULL)
		fuzz_fail("drilldown_new on a pattern that compiled before");
	struct record_sink records = drilldown_sink(drilldown);
	struct line_test test;
	struct pipeline_options pipeline = { .unparsed_path = NULL };
	if (two_passes) {
		if (!drilldown_line_test(drilldown, &test))
			fuzz_fail("no line test for a plain grep");
		pipeline.prefilter = &test;
	}
	struct txn_options txn_options = { .keep_lines = true };
	struct txn_table *table = txn_new(&txn_options, &records);
	struct sink sink = txn_sink(table);
	const char *paths[] = { path };
	int status = pipeline_run(paths, 1, &pipeline, &sink);
	txn_free(table);
	drilldown_free(drilldown);
	if (fclose(out) != 0)
		fuzz_fail("fclose of the memory stream");
	return status;
}

/* The first line, at most PATTERN_MAX bytes and no NUL, as the pattern;
 * one that does not compile is taken literally. */
static size_t take_pattern(const uint8_t *data, size_t size, char *pattern, bool *literal)
{
	size_t n = 0;
	while (n < size && n < PATTERN_MAX && data[n] != '\n' && data[n] != '\0')
		n++;
	memcpy(pattern, data, n);
	pattern[n] = '\0';
	char error[256];
	struct drilldown_options probe = { .pattern = pattern, .min_queue_seconds = -1 };
	struct drilldown *d = drilldown_new(&probe, error, sizeof error);
	*literal = d == NULL;
	drilldown_free(d);
	while (n < size && data[n] != '\n')
		n++;
	return n < size ? n + 1 : n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char pattern[PATTERN_MAX + 1];
	bool literal;
	size_t start = take_pattern(data, size, pattern, &literal);
	const char *path = fuzz_temp_file(data + start, size - start);

	char *one, *two;
	size_t one_length, two_length;
	int one_status = grep_once(path, pattern, literal, false, &one, &one_length);
	int two_status = grep_once(path, pattern, literal, true, &two, &two_length);
	if (one_status != two_status)
		fuzz_fail("two passes exit otherwise than one");
	if (one_length != two_length || memcmp(one, two, one_length) != 0) {
		fprintf(stderr, "pattern \"%s\"%s\n--- one pass:\n%.*s\n--- two passes:\n%.*s\n",
		        pattern, literal ? " (literal)" : "", (int)one_length, one,
		        (int)two_length, two);
		fuzz_fail("two passes print otherwise than one");
	}
	free(one);
	free(two);
	return 0;
}
