/*
 * prefilter: grep in two passes over regular files. Most lines of a log
 * belong to messages a pattern does not select, and lexing them and
 * building their records is most of what a one-pass grep spends. The first
 * pass only tests lines against the pattern and notes the IDs of the
 * messages that have a line that may match; the second hands the sink
 * every line of those messages (and of their bounces, so the link between
 * a message and its bounce is the same), every line that belongs to no
 * message and may match, and skips the rest before the lexer works them
 * out.
 *
 * What it must never do: change what the sink decides. The sink still
 * judges every line it gets; the prefilter only leaves out lines that
 * could not change its output: those of messages no line of which may
 * match, and lines of no message that do not match. So the line test must
 * be true for every line the sink would select by (it may be true for
 * more), and the sink must select messages only by their own lines (not
 * -v, -M, or show's bounce links). The set of IDs has a bound
 * (PREFILTER_IDS_MAX); past it the second pass takes every line.
 *
 * Ownership: the test's context is borrowed. The lexers are the caller's:
 * each pass needs a fresh one, as a single pass would start with (a
 * lexer remembers the year of the last Exim timestamp for year-less syslog
 * stamps, so one that saw the first pass would date the second's lines
 * otherwise). The second pass's lexer is the one that lexes what it takes.
 */
#ifndef EXIMEXPLAIN_PREFILTER_H
#define EXIMEXPLAIN_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "input.h"
#include "lexer.h"

#define PREFILTER_IDS_MAX (1u << 19) /* 512Ki IDs, at most 24 MiB of slots */

/* What a search through many lines at once found. */
enum line_search {
	LINE_SEARCH_NONE,   /* no line there may select */
	LINE_SEARCH_FOUND,  /* none before *at does; the line holding it may */
	LINE_SEARCH_UNSURE  /* it cannot tell: test each line there */
};

struct line_test {
	/* True when the sink could select by this line; may be true for more. */
	bool (*may_select)(void *context, const char *line, size_t length);
	void *context;
	/* NULL, or the same test over whole lines as read (newlines between
	 * them, perhaps a CR before one) in one go: the first pass only tests
	 * the lines at or after what it finds. It may find what is no line's
	 * match; it must never miss a line may_select is true for. */
	enum line_search (*search)(void *context, const char *bytes, size_t length, size_t *at);
};

struct prefilter_options {
	struct line_test test;
	int64_t since, until; /* the pipeline's window (0: no bound) */
	size_t ids_max;       /* 0: PREFILTER_IDS_MAX (tests set less) */
};

struct prefilter;

struct prefilter *prefilter_new(const struct prefilter_options *options);
void prefilter_free(struct prefilter *prefilter);

/* The first pass: every line of input. false when more messages may match
 * than PREFILTER_IDS_MAX: the second pass must then take every line. */
bool prefilter_scan(struct prefilter *prefilter, struct input *input, struct lexer *lexer);

struct prefilter_verdict {
	bool take;   /* hand the line to the sink */
	bool parsed; /* the line is lexed into *line already */
	bool head;   /* the line starts an entry at epoch (also when left out:
	                the window of its continuation lines is that entry's) */
	int64_t epoch; /* 0 when the options have no window: no time is
	                  worked out for a line left out then */
};

/* Messages the first pass found (and bounces the second added). */
size_t prefilter_selected(const struct prefilter *prefilter);

/* The second pass, line by line: raw is the line input_next_line just
 * returned from input. */
struct prefilter_verdict prefilter_gate(struct prefilter *prefilter, struct lexer *lexer,
                                        struct input *input, const struct input_line *raw,
                                        struct log_line *line);

/* The second pass in blocks of lines rather than line by line: the same
 * lines taken, for less. Possible when the options have no window. */
bool prefilter_gates_in_blocks(const struct prefilter *prefilter);

/* The second pass in blocks, instead of input_next_line and
 * prefilter_gate: the next line to hand the sink, as input_next_line
 * would return it (valid until the next call), with *parsed true when it
 * is lexed into *line already; false at the end of input. */
bool prefilter_next_taken(struct prefilter *prefilter, struct lexer *lexer, struct input *input,
                          struct input_line *raw, struct log_line *line, bool *parsed);

#endif
