/*
 * pipeline: the main loop. It must stay free of per-line allocation and of
 * mode-specific branches: modes are sinks.
 */
#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "linepipe.h"
#include "msg.h"
#include "timestamp.h"

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
	return timestamp_in_window(epoch, options->since, options->until);
}

/* The lines the sink wants only the time of (sink.time_only_kinds),
 * kept back where they are lexed: by the loop, or by the pipe's thread
 * with a filter of its own. That one is written for every line on the
 * pipe's thread while it sits in this one's stack frame: a cache line of
 * its own, or the two threads would take it from each other at every
 * line. */
struct time_only_filter {
	_Alignas(64) uint64_t kinds; /* 0: none (--state wants every line's time per file) */
	const struct pipeline_options *options; /* the time window */
	struct time_span span; /* of the lines kept back, in the window */
	uint64_t kept_back;
};

static struct time_only_filter time_only_filter(const struct pipeline_options *options,
                                                const struct sink *sink)
{
	return (struct time_only_filter){ options->resume ? 0 : sink->time_only_kinds, options,
		                          { 0, 0 }, 0 };
}

/* Whether the line goes on to the sink. A continuation line goes where
 * its entry went; a line kept back outside the window has no time that
 * counts, as it would not have reached the sink. */
static bool pass_on(struct time_only_filter *f, const struct log_line *line)
{
	if (f->kinds == 0 || line->message_id.len)
		return true;
	enum line_kind kind = line->kind == LK_CONTINUATION ? line->continues : line->kind;
	if (((f->kinds >> kind) & 1) == 0)
		return true;
	if (line->kind != LK_CONTINUATION && in_window(f->options, line->epoch))
		time_span_note(&f->span, line->epoch);
	f->kept_back++;
	return false;
}

static bool pass_on_piped(void *filter, const struct log_line *line)
{
	return pass_on(filter, line);
}

struct loop {
	const struct pipeline_options *options;
	struct sink *sink;
	struct lexer *lexer;
	FILE *unparsed;
	uint64_t unknown;
	uint64_t lexed;  /* lines lexed and handed on or kept back (--verbose) */
	bool taken; /* the entry a continuation line belongs to was */
	struct time_only_filter time_only;
};

/* One lexed line through the window and into the sink. */
static void deliver_line(struct loop *loop, const struct input_line *raw,
                         const struct log_line *line)
{
	if (!pass_on(&loop->time_only, line))
		return;
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

/* One physical line through the lexer, the window and into the sink. */
static void take_line(struct loop *loop, const struct input_line *raw, struct log_line *line)
{
	lexer_parse(loop->lexer, raw->text.ptr, raw->text.len, line);
	loop->lexed++;
	deliver_line(loop, raw, line);
}

/* A line the prefilter takes: lexed already (parsed) or now. */
static void hand_on(struct loop *loop, const struct input_line *raw, struct log_line *line,
                    bool parsed)
{
	if (parsed) {
		loop->lexed++;
		deliver_line(loop, raw, line);
	} else {
		take_line(loop, raw, line);
	}
}

/* The second pass of two: only the lines the prefilter lets through. */
static void gate_line(struct loop *loop, struct prefilter *gate, struct input *input,
                      const struct input_line *raw, struct log_line *line)
{
	struct prefilter_verdict v = prefilter_gate(gate, loop->lexer, input, raw, line);
	if (!v.take) {
		if (v.head) /* its continuation lines share its window */
			loop->taken = in_window(loop->options, v.epoch);
		return;
	}
	hand_on(loop, raw, line, v.parsed);
}

static void note_last_time(struct pipeline_resume *resume, const struct input_line *raw,
                           const struct log_line *line)
{
	if (resume && line->epoch > resume->last_times[raw->file_index])
		resume->last_times[raw->file_index] = line->epoch;
}

/* The lines of a source, read and lexed on a second thread (linepipe.h)
 * while this one runs the sink; false when no thread could be started. */
static bool take_piped_lines(struct loop *loop, linepipe_source *source, void *state,
                             struct pipeline_resume *resume)
{
	if (!loop->options->read_ahead || !linepipe_wanted())
		return false;
	struct time_only_filter kept = time_only_filter(loop->options, loop->sink);
	struct linepipe *pipe = linepipe_start(source, state, loop->lexer,
	                                       kept.kinds ? pass_on_piped : NULL, &kept);
	if (pipe == NULL)
		return false;
	const struct input_line *raw;
	const struct log_line *line;
	while (linepipe_next(pipe, &raw, &line)) {
		loop->lexed++;
		deliver_line(loop, raw, line);
		note_last_time(resume, raw, line);
	}
	linepipe_finish(pipe); /* the filter is this thread's again */
	time_span_note(&loop->time_only.span, kept.span.first);
	time_span_note(&loop->time_only.span, kept.span.last);
	loop->lexed += kept.kept_back;
	return true;
}

struct gate_source {
	struct prefilter *gate;
	struct input *input;
	struct log_line line; /* where the gate may lex; the pipe lexes again */
};

/* The lines the second pass takes, for a pipe: it lexes each one in full
 * with the lexer the gate skims with, as hand_on does. */
static bool gate_source_next(void *state, struct lexer *lexer, struct input_line *raw)
{
	struct gate_source *g = state;
	bool parsed;
	return prefilter_next_taken(g->gate, lexer, g->input, raw, &g->line, &parsed);
}

/* The second pass of two, in blocks: the prefilter hands on only the
 * lines it takes (no window: each is in it). */
static void take_gated_blocks(struct loop *loop, struct prefilter *gate, struct input *input)
{
	struct gate_source source = { gate, input, { 0 } };
	if (take_piped_lines(loop, gate_source_next, &source, NULL))
		return;
	struct input_line raw;
	struct log_line line;
	bool parsed;
	while (prefilter_next_taken(gate, loop->lexer, input, &raw, &line, &parsed))
		hand_on(loop, &raw, &line, parsed);
}

/* Line by line: every line, or (gate) the second pass of two. */
static void take_lines(struct loop *loop, struct prefilter *gate, struct input *input,
                       struct pipeline_resume *resume)
{
	if (gate == NULL && take_piped_lines(loop, linepipe_every_line, input, resume))
		return;
	struct input_line raw;
	struct log_line line;
	while (input_next_line(input, &raw)) {
		if (input_file_changed(input))
			lexer_reset(loop->lexer);
		if (gate)
			gate_line(loop, gate, input, &raw, &line);
		else
			take_line(loop, &raw, &line);
		note_last_time(resume, &raw, &line);
	}
}

/* grep: a first pass over the input to narrow the second (prefilter.h);
 * NULL when every line must be read as usual. */
static struct prefilter *first_pass(const struct pipeline_options *options,
                                    struct input *input)
{
	if (options->prefilter == NULL)
		return NULL;
	if (options->resume || options->unparsed_path || !input_keep_for_rereading(input)) {
		if (options->verbose)
			msg_info("one pass: %s", options->unparsed_path
			         ? "--unparsed wants every line lexed"
			         : "standard input, a pipe or a FIFO cannot be read twice");
		return NULL;
	}
	struct prefilter_options prefilter_options = { *options->prefilter, options->since,
		                                       options->until, 0 };
	struct prefilter *gate = prefilter_new(&prefilter_options);
	/* a lexer of its own: one that had seen the whole input would start
	 * the second pass knowing a year the first lines should not */
	struct lexer *scan_lexer = lexer_new();
	bool narrowed = prefilter_scan(gate, input, scan_lexer);
	lexer_free(scan_lexer);
	input_reread(input);
	if (options->verbose)
		msg_info(narrowed ? "first pass (%s): %zu messages may match"
		                  : "first pass (%s): more than %zu messages may match; the second "
		                    "pass reads every line",
		         options->prefilter->search ? "lines searched in bulk" : "each line tested",
		         prefilter_selected(gate));
	if (narrowed)
		return gate;
	prefilter_free(gate);
	return NULL;
}

static void tell_reading(const struct input_stats *stats, const struct loop *loop,
                         bool two_passes)
{
	msg_info("%s%llu lines (%llu bytes) from %u file(s); %llu of them lexed",
	         two_passes ? "second pass: " : "", (unsigned long long)stats->lines,
	         (unsigned long long)stats->bytes, stats->files_read,
	         (unsigned long long)loop->lexed);
}

/* A helper maps in the input's pages ahead of the reader (input.h) where
 * a core would idle: one thread reads for a light sink, or grep's
 * passes, whose second hands on few lines (the bench's grep: 179/181 ->
 * 151/154 ms, best and first quartile; stats 232/233 -> 220/223; with
 * another process busy on one core, grep 194/196 -> 202/216 and stats
 * the same). Not for the transaction table read ahead in full: its two
 * threads keep both cores busy, and the helper made the bench's report
 * slower (264 -> 292 ms). */
static bool populate_wanted(const struct pipeline_options *options)
{
	return linepipe_wanted() && (!options->read_ahead || options->prefilter != NULL);
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
	struct loop loop = { .options = options, .sink = sink, .lexer = lexer_new(),
		             .unparsed = open_unparsed(options->unparsed_path), .taken = true,
		             .time_only = time_only_filter(options, sink) };
	struct input *input = resume ? input_open_at(resume->starts, resume->start_count)
	                             : input_open(paths, count);
	if (populate_wanted(options))
		input_populate_ahead(input, true);
	struct prefilter *gate = first_pass(options, input);

	if (resume) {
		replay_lines(&loop, resume);
		for (size_t i = 0; i < resume->start_count; i++)
			resume->last_times[i] = 0;
	}
	if (gate && prefilter_gates_in_blocks(gate))
		take_gated_blocks(&loop, gate, input);
	else
		take_lines(&loop, gate, input, resume);
	close_unparsed(loop.unparsed, options->unparsed_path);
	if (resume)
		record_positions(input, resume);

	struct pipeline_summary summary = { input_get_stats(input), loop.unknown,
		                            loop.time_only.span };
	if (options->verbose)
		tell_reading(summary.input, &loop, gate != NULL);
	if (summary.input->truncated_lines)
		msg_warn("%llu line(s) longer than %d bytes were truncated",
		         (unsigned long long)summary.input->truncated_lines, INPUT_LINE_MAX);
	int status = sink->finish(sink->state, &summary);
	input_free(input);
	lexer_free(loop.lexer);
	prefilter_free(gate);
	return msg_had_input_error() ? EXIT_TROUBLE : status;
}
