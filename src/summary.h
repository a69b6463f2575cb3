/*
 * summary: one JSON object that sums up a log for a dashboard
 * (`eximexplain export --summary`, `eximexplain report --format json`):
 * the input files and time range, totals by status, problems counted by
 * reason, by rule and by owner, the recipient domains, senders and remote
 * hosts with the most problems, and an hourly timeline of received,
 * delivered, deferred, failed and rejected mail. Its fields are fixed by
 * data/eximexplain-1.schema.json ("type": "summary").
 *
 * What counts as a problem is what the text report groups: a recipient
 * that failed, was discarded or was deferred (once, however many
 * deferrals), a frozen message, and an SMTP-time event.
 *
 * Memory: bounded whatever the input. Rules are counted per rule (a rule
 * set is finite); the top lists are Space-Saving tables of
 * SUMMARY_TOP_SLOTS names (topk.h); the timeline keeps at most
 * SUMMARY_HOURS_MAX hours (about eleven years) and counts what falls
 * outside in "timeline_dropped".
 *
 * Ownership: options' files, out and explainer are borrowed and must
 * outlive the summary.
 */
#ifndef EXIMEXPLAIN_SUMMARY_H
#define EXIMEXPLAIN_SUMMARY_H

#include <stddef.h>
#include <stdio.h>

#include "txn.h"

struct explainer;

#define SUMMARY_TOP_SLOTS 64
#define SUMMARY_TOP_SHOWN 10
#define SUMMARY_HOURS_MAX 100000

struct summary_options {
	const char *const *files; /* as given; may be empty (standard input) */
	size_t file_count;
	FILE *out;                /* NULL: stdout */
	struct explainer *explainer;
};

struct summary;

struct summary *summary_new(const struct summary_options *options);
void summary_free(struct summary *summary);

/* The summary as a record sink; finish() writes the object and returns the
 * exit status the text report would (0 nothing wrong, 1 problems). */
struct record_sink summary_sink(struct summary *summary);

#endif
