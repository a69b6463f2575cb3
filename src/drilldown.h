/*
 * drilldown: the record sink of `eximexplain grep` and `eximexplain show`.
 * exigrep's meaning (exim-tools.md section 1): a message is selected when
 * any of its lines matches the pattern (with invert: when none does), and
 * then every line of it is printed, in input order, followed by a short
 * outcome per recipient (with the rule that explains a failure, deferral
 * or discard, and what to do) and a blank line. Lines that belong to no message
 * are printed on their own, at once, when they match (invert: when they
 * don't). show selects messages by ID instead, with their bounce and the
 * message a bounce returns.
 *
 * The table must keep lines (txn_options.keep_lines), or there is nothing
 * to print but the outcomes.
 *
 * Related messages (-M): a message is also selected when it is the bounce
 * of a selected message or the message a selected bounce returns, or when
 * one of its lines names a selected message's ID (exigrep's rule: e.g.
 * "R=ID", "id=EID@host" or a remote "250 OK id=ID"). Records come out of
 * the table when they complete, and a bounce often completes before its
 * parent. With the table watched (drilldown_watch_table), a message that
 * names a message still open is selected at once when that one has
 * matched already (exigrep decides line by line, so this is its rule), and
 * else held back until that one is decided, then printed after it or
 * dropped; without the table, only messages already handed over count.
 * Memory for this is bounded: the selected IDs remembered
 * (DRILLDOWN_RELATED_MAX, oldest forgotten first) and the messages held
 * (DRILLDOWN_HOLD_MAX, or DRILLDOWN_HOLD_BYTES of output; the oldest is
 * dropped first), so a pattern that matches everything cannot make memory
 * grow with the input. A held message (waiting for a later match) can be
 * lost that way, which exigrep would not show at all; what exigrep shows
 * is lost only when more than DRILLDOWN_RELATED_MAX matches lie between a
 * message and its relative.
 *
 * Ownership: the options' strings and the ID array are borrowed and must
 * outlive the drilldown; out is not closed.
 */
#ifndef EXIMEXPLAIN_DRILLDOWN_H
#define EXIMEXPLAIN_DRILLDOWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "prefilter.h"
#include "txn.h"

struct explainer;

#define DRILLDOWN_RELATED_MAX 16384          /* selected IDs remembered for -M */
#define DRILLDOWN_HOLD_MAX 256               /* messages held back for -M */
#define DRILLDOWN_HOLD_BYTES (4u << 20)      /* their rendered output, at most */

struct drilldown_options {
	const char *pattern;   /* grep mode; ignored when id_count > 0 */
	bool literal;          /* -l: the pattern is a fixed string */
	bool case_sensitive;   /* -I; the default is caseless, as exigrep */
	bool invert;           /* -v */
	bool related;          /* -M */
	int64_t min_queue_seconds; /* -t SECS: queue time >= SECS; -1: no -t */
	const char *const *ids;    /* show mode when id_count > 0 */
	size_t id_count;
	bool color;            /* highlight matches and outcomes */
	FILE *out;             /* NULL: stdout */
	struct explainer *explainer; /* explain each outcome; NULL: don't */
};

struct drilldown;

/* NULL and a one-line message in error (e.g. the regex error and its
 * offset) when the pattern does not compile. */
struct drilldown *drilldown_new(const struct drilldown_options *options, char *error,
                                size_t error_size);
void drilldown_free(struct drilldown *drilldown);

/* finish() returns EXIT_FOUND_NOTHING (0) when anything was printed,
 * EXIT_FOUND_FAILURES (1) when nothing was selected, as grep does. */
struct record_sink drilldown_sink(struct drilldown *drilldown);

/* Optional, for -M: let the sink ask whether a message is still open, so
 * a bounce that completes before its parent is still shown with it. Call
 * after txn_new with the table that feeds this sink. */
void drilldown_watch_table(struct drilldown *drilldown, const struct txn_table *table);

/* For grep's two passes (prefilter.h): true and a test that holds for
 * every line this drill-down could select a message or print a loose line
 * by, when it selects by nothing else; false for show, -v and -M, which
 * select by IDs, by lines that do not match, or by relatives. */
bool drilldown_line_test(struct drilldown *drilldown, struct line_test *out);

#endif
