/*
 * export: the NDJSON export (`eximexplain export`). One JSON object per
 * line: a message when it completes (or, at the end of the input, still
 * open with state "pending"), an SMTP-time event when it happens. Field
 * names are the public names of design.md s4 and are fixed by the schema
 * data/eximexplain-1.schema.json; every object carries "schema":
 * "eximexplain/1".
 *
 * Streaming: an object is written as soon as its record arrives and
 * nothing of it is kept, so memory stays bounded by the transaction
 * table's open messages.
 *
 * Ownership: options' out and explainer are borrowed and must outlive the
 * export.
 */
#ifndef EXIMEXPLAIN_EXPORT_H
#define EXIMEXPLAIN_EXPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "txn.h"

struct explainer;

struct export_options {
	FILE *out;                   /* NULL: stdout */
	struct explainer *explainer; /* the rules; borrowed */
	bool lines;                  /* --lines: add each record's raw lines
	                                (the table must keep them) */
};

struct export;

struct export *export_new(const struct export_options *options);
void export_free(struct export *export);

/* The export as the transaction table's record sink. Its finish() returns
 * EXIT_FOUND_FAILURES when a failure, deferral, discard, freeze or SMTP-time
 * rejection was exported, EXIT_FOUND_NOTHING otherwise, and EXIT_TROUBLE
 * when the output could not be written. */
struct record_sink export_sink(struct export *export);

#endif
