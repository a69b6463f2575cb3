/*
 * linepipe: lines read and lexed on a thread of their own, handed to the
 * caller in input order.
 *
 * Reading and lexing are some 45% of what a report costs, and neither
 * depends on what the sink makes of the lines before: a second thread
 * does them while the caller's thread runs the sink, on a machine with
 * two cores or more. A line's views stay valid until the caller asks for
 * the next line, whatever the reader does meanwhile:
 *  - every line of a plain file (linepipe_every_line) is lexed where it
 *    lies, in the input's mapped window, which the input keeps until the
 *    caller has handed back every line of it (input.h, kept windows);
 *  - any other line (gzip, stdin, a pipe, grep's second pass) is copied
 *    into the pipe's own ring of bytes and lexed there, since the input's
 *    buffer is refilled;
 *  - the ID a continuation line borrows from the lexer is copied too.
 * Copying every line cost the reading thread 3 to 4% of a report (the
 * bench's 2M-line log with the caller doing nothing, alternated runs:
 * 306 ms at best with copies, 295 without): each line's bytes were
 * written over memory the other core read last. A file cut short under
 * a kept window reads as zeros past the cut on either thread, never a
 * fault (mapping.h).
 *
 * The pipe's thread lexes all of a line but, when the caller's thread
 * is the faster one, a flag line's rest (the address and the fields of a
 * <= or => line: lexer.h, lexer_parse_leaving_rest), which the caller's
 * thread lexes as it takes the line (LINEPIPE_SHARE_BELOW). The two
 * threads then share the work, where each side alone did its own and
 * the faster one waited (the bench's report, alternated runs, best and
 * first quartile: 293/299 -> 280/284 ms in a quiet spell of the test
 * machine, 331/356 -> 307/325 in a slow one).
 *
 * The sink sees exactly the lines, lexed exactly as, a single thread
 * would give it (tests/unit/check_linepipe.c holds it to that), but for
 * those the caller's filter keeps back on the reading thread: lines the
 * sink wants only the time of (sink.h, time_only_kinds) cost its thread
 * nothing.
 * Memory is fixed: LINEPIPE_SLOTS lexed lines, LINEPIPE_BYTES of text and
 * at most INPUT_WINDOWS_KEPT_MAX kept windows.
 *
 * Where the lines come from is the caller's: every line of the input
 * (linepipe_every_line), or the lines grep's second pass takes
 * (prefilter.h), which skims the others with the same lexer.
 *
 * Ownership: the pipe borrows the source's state and the lexer from
 * linepipe_start until linepipe_finish; the caller must not use either
 * (nor the input the source reads) in between.
 */
#ifndef EXIMEXPLAIN_LINEPIPE_H
#define EXIMEXPLAIN_LINEPIPE_H

#include <stdbool.h>

#include "input.h"
#include "lexer.h"

/* Lines in flight. Room for bursts: a run of failures or rejections
 * costs the consumer several times what a delivery does, and with 512
 * slots the reader stood waiting during one and the consumer starved
 * after it (report 375 -> 337 ms at 4096, min of 11; 8192 slots, 6 MiB,
 * no longer stay in cache and cost more than they save). */
#define LINEPIPE_SLOTS 4096
/* A producer that filled every slot sleeps until this many are free
 * again: woken for each batch instead, it spent more time yielding and
 * waking than the consumer took for the batch (export: 1.4 s of system
 * time on a 100 MB log, against 0.05 s on one thread; now 0.45 s).
 * More (a quarter of the ring) costs the report, whose two threads keep
 * pace: the ring is its buffer against bursts. */
#define LINEPIPE_REFILL (LINEPIPE_SLOTS / 16)
/* Each side tells the other how far it got once per so many lines
 * (and when it is about to wait). */
#define LINEPIPE_BATCH 32
/* The producer lexes a flag line whole while the consumer has at least
 * this many lines to take, and else leaves the line's rest (lexer.h,
 * lexer_parse_rest) to the consumer, which lexes it as it takes the
 * line. The help goes one way: a slower producer hands lexing over; a
 * slower consumer is not helped, the producer then lexes every line
 * whole, as before. Below half the slots, the consumer is near waiting
 * for lines; above, it is the slower side (LINEPIPE_SLOTS / 4 and 3 / 4
 * measured no better). */
#define LINEPIPE_SHARE_BELOW (LINEPIPE_SLOTS / 2)
/* four of the longest lines at least, so that one always fits */
#define LINEPIPE_BYTES (4u * 1024 * 1024)

_Static_assert(LINEPIPE_BYTES >= 4 * (INPUT_LINE_MAX + 1), "the ring holds the longest lines");

struct linepipe;

/* The next line to hand over, as input_next_line gives it (valid until
 * the next call); false at the end. Called on the pipe's thread, where it
 * may use the lexer (the pipe then lexes the line in full with it). */
typedef bool linepipe_source(void *state, struct lexer *lexer, struct input_line *raw);

/* A source of every line of an input (state: the struct input), the
 * lexer reset at each new file. */
bool linepipe_every_line(void *input, struct lexer *lexer, struct input_line *raw);

/* Whether a lexed line goes on to the caller: called on the pipe's
 * thread, which owns the filter's state until linepipe_finish. A line
 * that does not go on costs the caller's thread nothing. The filter sees
 * the line as lexer_parse_leaving_rest leaves it: its kind, time and ID,
 * but maybe not a flag line's address and fields. */
typedef bool linepipe_filter(void *state, const struct log_line *line);

/* Start reading on a new thread; NULL when no thread could be started
 * (the caller then reads on its own). filter may be NULL: every line
 * goes on. With linepipe_every_line, the input keeps windows
 * (input_keep_windows) from here until linepipe_finish. */
struct linepipe *linepipe_start(linepipe_source *source, void *state, struct lexer *lexer,
                                linepipe_filter *filter, void *filter_state);

/* The next line and its lexing, valid until the next call; false at the
 * end of input. */
bool linepipe_next(struct linepipe *pipe, const struct input_line **raw,
                   const struct log_line **line);

/* How many of the lines handed over so far the caller's thread finished
 * lexing (LINEPIPE_SHARE_BELOW). Called on the caller's thread. */
uint64_t linepipe_rests_lexed(const struct linepipe *pipe);

/* Stop the reading thread if it is not done, wait for it, and free the
 * pipe. */
void linepipe_finish(struct linepipe *pipe);

/* Whether this run may use a second thread: not when the process may
 * run on one CPU only, nor when the environment says
 * EXIMEXPLAIN_THREADS=1 (for comparing, and for busy machines where a
 * second thread only gets in the way). */
bool linepipe_wanted(void);

#endif
