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

struct loop {
	const struct pipeline_options *options;
	struct sink *sink;
	struct lexer *lexer;
	FILE *unparsed;
	uint64_t unknown;
	bool taken; /* the entry a continuation line belongs to was */
};

/* One physical line through the lexer, the window and into the sink. */
static void take_line(struct loop *loop, const struct input_line *raw, struct log_line *line)
{
	lexer_parse(loop->lexer, raw->text.ptr, raw->text.len, line);
	if (line->kind != LK_CONTINUATION && line->kind != LK_BLANK)
		loop->taken = in_window(loop->options, line->epoch);
	if (!loop->taken)
		return;
	if (line->kind == LK_UNKNOWN) {
		loop->unknown++;
		if (loop->unparsed) {
			fwrite(raw->text.ptr, 1, raw->text.len, loop->unparsed);
			fputc('\n', loop->unparsed);
		}
	}
	loop->sink->line(loop->sink->state, line, raw);
}

/* The lines an earlier run carried over go first, as a file of their own. */
static void replay_lines(struct loop *loop, const struct pipeline_resume *resume)
{
	struct log_line line;
	for (size_t i = 0; i < resume->replay_count; i++) {
		struct input_line raw = {
			.text = resume->replay[i], .file = "(carried over by --state)",
			.line_number = i + 1, .replayed = true,
		};
		take_line(loop, &raw, &line);
	}
	lexer_reset(loop->lexer);
}

static void record_positions(const struct input *input, struct pipeline_resume *resume)
{
	for (size_t i = 0; i < resume->start_count; i++)
		if (!input_file_position(input, i, &resume->positions[i]))
			resume->positions[i] = (struct input_position){ 0 };
}

int pipeline_run(const char *const *paths, size_t count,
                 const struct pipeline_options *options, struct sink *sink)
{
	struct pipeline_resume *resume = options->resume;
	struct loop loop = { options, sink, lexer_new(), open_unparsed(options->unparsed_path), 0,
		             true };
	struct input *input = resume ? input_open_at(resume->starts, resume->start_count)
	                             : input_open(paths, count);
	struct input_line raw;
	struct log_line line;

	if (resume) {
		replay_lines(&loop, resume);
		for (size_t i = 0; i < resume->start_count; i++)
			resume->last_times[i] = 0;
	}
	while (input_next_line(input, &raw)) {
		if (input_file_changed(input))
			lexer_reset(loop.lexer);
		take_line(&loop, &raw, &line);
		if (resume && line.epoch > resume->last_times[raw.file_index])
			resume->last_times[raw.file_index] = line.epoch;
	}
	close_unparsed(loop.unparsed, options->unparsed_path);
	if (resume)
		record_positions(input, resume);

	struct pipeline_summary summary = { input_get_stats(input), loop.unknown };
	if (summary.input->truncated_lines)
		msg_warn("%llu line(s) longer than %d bytes were truncated",
		         (unsigned long long)summary.input->truncated_lines, INPUT_LINE_MAX);
	int status = sink->finish(sink->state, &summary);
	input_free(input);
	lexer_free(loop.lexer);
	return msg_had_input_error() ? EXIT_TROUBLE : status;
}
