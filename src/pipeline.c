/*
 * pipeline: the main loop. It must stay free of per-line allocation and of
 * mode-specific branches: modes are sinks.
 */
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"

static FILE *open_unparsed(const char *path)
{
	if (path == NULL)
		return NULL;
	FILE *file = fopen(path, "w");
	if (file == NULL)
		msg_fatal("%s: cannot write the unparsed-lines file: %s", path, strerror(errno));
	return file;
}

static void close_unparsed(FILE *file, const char *path)
{
	if (file == NULL)
		return;
	if (ferror(file) | fclose(file))
		msg_fatal("%s: write error on the unparsed-lines file", path);
}

static bool in_window(const struct pipeline_options *options, int64_t epoch)
{
	return (options->since == 0 || epoch >= options->since) &&
	       (options->until == 0 || epoch < options->until);
}

int pipeline_run(const char *const *paths, size_t count,
                 const struct pipeline_options *options, struct sink *sink)
{
	FILE *unparsed = open_unparsed(options->unparsed_path);
	struct input *input = input_open(paths, count);
	struct lexer *lexer = lexer_new();
	struct input_line raw;
	struct log_line line;
	uint64_t unknown = 0;
	bool taken = true; /* the entry a continuation line belongs to was */

	while (input_next_line(input, &raw)) {
		if (input_file_changed(input))
			lexer_reset(lexer);
		lexer_parse(lexer, raw.text.ptr, raw.text.len, &line);
		if (line.kind != LK_CONTINUATION && line.kind != LK_BLANK)
			taken = in_window(options, line.epoch);
		if (!taken)
			continue;
		if (line.kind == LK_UNKNOWN) {
			unknown++;
			if (unparsed) {
				fwrite(raw.text.ptr, 1, raw.text.len, unparsed);
				fputc('\n', unparsed);
			}
		}
		sink->line(sink->state, &line, &raw);
	}
	close_unparsed(unparsed, options->unparsed_path);

	struct pipeline_summary summary = { input_get_stats(input), unknown };
	if (summary.input->truncated_lines)
		msg_warn("%llu line(s) longer than %d bytes were truncated",
		         (unsigned long long)summary.input->truncated_lines, INPUT_LINE_MAX);
	int status = sink->finish(sink->state, &summary);
	input_free(input);
	lexer_free(lexer);
	return msg_had_input_error() ? EXIT_TROUBLE : status;
}
