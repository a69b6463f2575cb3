/*
 * report: the failure report, eximexplain's default mode. Message records
 * and SMTP-time events in (a record sink behind the transaction table),
 * one page of text out at the end: a header (files, period, totals), the
 * problems grouped by cause, the SMTP-time security events grouped by kind
 * and IP, and the messages still pending.
 *
 * A cause is the rule that explains a failure (explain.h): problems are
 * grouped by outcome and rule id, each group saying the rule's reason,
 * owner, explanation and action; SMTP-time events are grouped by rule,
 * then by client address.
 *
 * Memory: the report aggregates, it never keeps a message. It holds at most
 * REPORT_GROUPS_MAX problem groups and REPORT_GROUPS_MAX event groups (any
 * further cause lands in one "other" bucket per outcome or kind). A group
 * keeps counts, a time range, three example IDs, one shortened sample line,
 * and its recipient domains and senders in Space-Saving top-k tables of at
 * most REPORT_TOP_SLOTS entries (grown on demand; counts exact while a group
 * has no more distinct values than that, then over-estimates shown with
 * "~"). That is a few hundred bytes for a typical group and about 5 KB for
 * the largest, so about 50 MB with every cap reached, however long the
 * input. Pending messages are copied only for the first REPORT_PENDING_MAX
 * (ten recipients each); the rest are counted.
 *
 * Output: at most REPORT_WIDTH (78) columns per line; ANSI colour only when asked; every
 * byte that came from the log (or the command line) is escaped
 * (strbuf_append_escaped), so the report never carries a raw control
 * character of its input.
 *
 * Ownership: the options' files array and out stream are borrowed and must
 * outlive the report; the report copies everything it keeps from a record.
 */
#ifndef EXIMEXPLAIN_REPORT_H
#define EXIMEXPLAIN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "txn.h"

struct strbuf;
struct explainer;

/* 78: RFC 5322's line length, so the digest can mail the same text */
#define REPORT_WIDTH 78
#define REPORT_GROUPS_MAX 10000
#define REPORT_TOP_SLOTS 16
#define REPORT_PENDING_MAX 50

struct report_options {
	const char *const *files; /* as given on the command line; may be empty */
	size_t file_count;        /* 0: standard input */
	bool color;               /* bold headings, red failed, yellow deferred */
	FILE *out;                /* NULL: stdout */
	struct explainer *explainer; /* the rules; borrowed */
	/* The digest's layout: problems first, then events, pending and the
	 * totals last, and a drill-down command under each problem. */
	bool mail;
};

struct report;

struct report *report_new(const struct report_options *options);
void report_free(struct report *report);

/* The report as the transaction table's record sink. Its finish() prints
 * the report and returns EXIT_FOUND_NOTHING (0) when nothing failed, was
 * deferred, discarded, frozen or rejected at SMTP time in scope, else
 * EXIT_FOUND_FAILURES (1). */
struct record_sink report_sink(struct report *report);


#endif
