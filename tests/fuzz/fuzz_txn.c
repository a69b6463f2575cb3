/*
 * fuzz_txn: the transaction table fed a stream of hostile lines, as
 * pipeline.c feeds it (split on '\n', a trailing CR removed, lexed through
 * one lexer), with every record sink behind it at once: the report, the
 * JSON summary, the NDJSON export with raw lines, and the drill-down with
 * -M (which asks the table about open messages). Their output goes to
 * /dev/null; what matters is that completion, rejection, bounce linking,
 * explanation and rendering paths run on whatever the table makes of the
 * input, and that nothing leaks when the input ends with messages open.
 *
 * The explainer (the shipped rules) is loaded once per process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drilldown.h"
#include "explain.h"
#include "export.h"
#include "fuzz.h"
#include "lexer.h"
#include "report.h"
#include "summary.h"
#include "txn.h"

static struct explainer *explainer;
static FILE *null_out;

/* Every record goes to every sink. */
#define SINK_COUNT 4
struct fan_out {
	struct record_sink sinks[SINK_COUNT];
};

static void fan_message(void *state, const struct message *message)
{
	struct fan_out *fan = state;
	for (size_t i = 0; i < SINK_COUNT; i++)
		if (fan->sinks[i].message)
			fan->sinks[i].message(fan->sinks[i].state, message);
}

static void fan_event(void *state, const struct event *event)
{
	struct fan_out *fan = state;
	for (size_t i = 0; i < SINK_COUNT; i++)
		if (fan->sinks[i].event)
			fan->sinks[i].event(fan->sinks[i].state, event);
}

static void fan_loose_line(void *state, const struct log_line *line, struct text raw)
{
	struct fan_out *fan = state;
	for (size_t i = 0; i < SINK_COUNT; i++)
		if (fan->sinks[i].loose_line)
			fan->sinks[i].loose_line(fan->sinks[i].state, line, raw);
}

static int fan_finish(void *state, const struct txn_summary *summary)
{
	struct fan_out *fan = state;
	int status = 0;
	for (size_t i = 0; i < SINK_COUNT; i++)
		if (fan->sinks[i].finish)
			status |= fan->sinks[i].finish(fan->sinks[i].state, summary);
	return status;
}

static void setup(void)
{
	null_out = fuzz_null_out();
	explainer = fuzz_shipped_explainer();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (explainer == NULL)
		setup();

	static const char *const files[] = { "fuzz" };
	struct report_options report_options = { files, 1, false, null_out, explainer, false };
	struct report *report = report_new(&report_options);
	struct summary_options summary_options = { files, 1, null_out, explainer };
	struct summary *summary = summary_new(&summary_options);
	struct export_options export_options = { null_out, explainer, true };
	struct export *export = export_new(&export_options);
	struct drilldown_options drilldown_options = { .pattern = "example", .related = true,
		                                       .min_queue_seconds = -1,
		                                       .out = null_out,
		                                       .explainer = explainer };
	char error[256];
	struct drilldown *drilldown = drilldown_new(&drilldown_options, error, sizeof error);
	if (drilldown == NULL)
		fuzz_fail("drilldown_new");

	struct fan_out fan = { { report_sink(report), summary_sink(summary), export_sink(export),
		                 drilldown_sink(drilldown) } };
	struct record_sink records = { .state = &fan, .message = fan_message, .event = fan_event,
		                       .loose_line = fan_loose_line, .finish = fan_finish,
		                       .arrival_details = true /* the export's */ };
	struct txn_options txn_options = { .keep_lines = true };
	struct txn_table *table = txn_new(&txn_options, &records);
	drilldown_watch_table(drilldown, table);
	struct sink sink = txn_sink(table);
	struct lexer *lexer = lexer_new();

	struct input_stats stats = { 0 };
	uint64_t unknown = 0;
	size_t start = 0;
	bool replaying = false; /* a line "#replay" toggles --state's replayed flag */
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		if (i == size && start == size)
			break; /* no unterminated last line */
		size_t length = i - start;
		if (length > 0 && data[start + length - 1] == '\r')
			length--;
		/* an exact-size copy, so a read past the line is caught */
		char *copy = malloc(length ? length : 1);
		if (copy == NULL)
			fuzz_fail("out of memory");
		if (length)
			memcpy(copy, data + start, length);
		if (length == 7 && memcmp(copy, "#replay", 7) == 0) {
			replaying = !replaying;
			free(copy);
			start = i + 1;
			continue;
		}
		struct input_line raw = { .text = text_make(copy, length), .file = "fuzz",
			                  .line_number = ++stats.lines, .replayed = replaying };
		stats.bytes += length + 1;
		struct log_line line;
		lexer_parse(lexer, copy, length, &line);
		if (line.kind == LK_UNKNOWN)
			unknown++;
		sink.line(sink.state, &line, &raw);
		free(copy);
		start = i + 1;
	}
	stats.files_read = 1;
	struct pipeline_summary pipeline = { .input = &stats, .unknown_lines = unknown };
	sink.finish(sink.state, &pipeline);

	lexer_free(lexer);
	txn_free(table);
	drilldown_free(drilldown);
	export_free(export);
	summary_free(summary);
	report_free(report);
	return 0;
}
