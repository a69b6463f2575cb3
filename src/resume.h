/*
 * resume: --state for digest and export, so a run from cron covers
 * exactly what was logged since the last run. It loads the state file,
 * has state.c plan where each log is read from (across logrotate, gzip and
 * copytruncate), hands the pipeline that plan plus the lines of messages
 * that were still open last time (replayed first, so a later run explains
 * their outcome), carries the lines of the messages still open now, and
 * saves the new state -- only when the mode's output went out.
 *
 * It must never: save the state after the mode failed to write or send
 * its output (the next run must see those lines again, so nothing is
 * lost), or read standard input (it cannot be resumed; main refuses it).
 *
 * Ownership: a struct resume owns the loaded and the next state, the plan
 * and the pipeline_resume it hands out; it borrows the paths, which must
 * outlive it. The record sink from resume_sink borrows the inner sink.
 */
#ifndef EXIMEXPLAIN_RESUME_H
#define EXIMEXPLAIN_RESUME_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline.h"
#include "txn.h"

/* A message still open whose last line is older than this, counted back
 * from the newest line read, is not carried over: Exim gives up retrying
 * well before (its default retry rule ends after 4 days). */
#define RESUME_CARRY_MAX_AGE (7 * 86400)

struct resume;

/* Load the state file at state_path (missing or corrupt: a first run, the
 * latter with a warning) and plan the reads of paths. NULL, with a message
 * naming the file, when the state file exists but cannot be read, or when
 * a path is given twice. */
struct resume *resume_open(const char *state_path, const char *const *paths, size_t count);
void resume_free(struct resume *resume);

/* The saved state knows none of the paths: --since (or the digest's last
 * 24 hours) shapes this run; later runs start where this one stopped. */
bool resume_is_first_run(const struct resume *resume);

/* What the pipeline reads: pass it as pipeline_options.resume. */
struct pipeline_resume *resume_pipeline(struct resume *resume);

/* The mode's record sink, wrapped: each message still open at the end has
 * its raw lines carried over (the table must keep lines), and the status
 * of the mode's finish is noted for resume_finish. */
struct record_sink resume_sink(struct resume *resume, struct record_sink *inner);

/* After pipeline_run returned status: save the new state atomically when
 * the mode's own finish succeeded (0 or 1), else leave the old one as it
 * was. Returns status, or EXIT_TROUBLE when the state could not be saved. */
int resume_finish(struct resume *resume, int status);

#endif
