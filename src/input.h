/*
 * input: Exim log bytes -> physical lines, from plain files, gzip files
 * (detected by magic bytes, concatenated members too) and stdin: several
 * files read oldest first by the first timestamp in each (input_open), or
 * a planned list read in its own order, each file from a byte offset, and
 * where each read ended told afterwards (input_open_at, for --state).
 *
 * Ownership: a struct input_line's text points into the input's own buffer
 * and is valid until the next input_next_line() call. input_open and
 * input_open_at copy the paths they are given. Memory is one buffer per
 * open file, never proportional to the file's size.
 *
 * What it must never do: stop at bad bytes. NULs and invalid UTF-8 pass
 * through untouched; a line longer than INPUT_LINE_MAX is cut there and
 * counted; a damaged gzip stream, or one that expands past
 * INPUT_GZIP_RATIO_MAX, ends that file with a warning naming it.
 *
 * Files named for input_open are opened once, to be ordered: a pipe, a
 * FIFO or stdin is read on from that peek when its turn comes, a regular
 * file through the descriptor it was peeked with (see input.c).
 */
#ifndef EXIMEXPLAIN_INPUT_H
#define EXIMEXPLAIN_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

/* Exim's own buffer is 8 KiB per entry; logwrite text may be longer.
 * Beyond this a line is truncated (and counted), never a crash. */
#define INPUT_LINE_MAX (256 * 1024)

/* A reader's buffer: a megabyte read at a time, and room for a line of
 * INPUT_LINE_MAX. When no whole line is left in it, what is left moves to
 * its start and the rest fills (so lines end where tests can tell). */
#define INPUT_BUFFER_SIZE (1024 * 1024 + INPUT_LINE_MAX)

/* A plain regular file is mapped instead (mapping.h), this much at a
 * time, from the page of the first byte not yet handed out: more than
 * INPUT_LINE_MAX, so a line is whole in a window as in the buffer. */
#define INPUT_MAP_WINDOW (4 * 1024 * 1024)

/* Log text deflates 10 to 30 times; only a stream built to expand (a
 * "gzip bomb") goes past 100. Past INPUT_GZIP_RATIO_FLOOR decompressed
 * bytes, a gzip file whose output exceeds INPUT_GZIP_RATIO_MAX times the
 * compressed bytes read is stopped there, as damaged: the lines before
 * are read, the file is named, and the run ends with exit status 2. */
#define INPUT_GZIP_RATIO_MAX 100
#define INPUT_GZIP_RATIO_FLOOR (64 * 1024 * 1024)

/* The rule above, for tests: true when this much output from that much
 * input is too much. */
bool input_gzip_ratio_exceeded(uint64_t compressed, uint64_t decompressed);

struct input_line {
	struct text text;      /* without the newline (and without a CR before it) */
	const char *file;      /* name as given ("-" is "standard input") */
	uint64_t line_number;  /* 1-based within file; counted from the start
	                          offset for input_open_at */
	bool truncated;        /* the line was longer than INPUT_LINE_MAX */
	size_t file_index;     /* which file: the index input_file_name() and
	                          input_file_position() take */
	bool replayed;         /* never set by input: the pipeline sets it on the
	                          lines --state carried over from an earlier run */
	uint64_t window;       /* with windows kept (input_keep_windows): the
	                          mapped window text lies in, numbered from 1;
	                          0 when text is in the input's buffer */
};

struct input_stats {
	uint64_t lines;
	uint64_t bytes;           /* decompressed bytes */
	uint64_t truncated_lines;
	unsigned files_read;
	unsigned files_failed;    /* could not be opened or read at all */
	unsigned files_damaged;   /* read partly: corrupt or truncated gzip */
};

struct input;

/* paths: names as given; "-" means stdin. With n == 0, stdin is read.
 * Files that cannot be opened are reported on stderr (naming the file and
 * the cause) when their turn comes, counted, and skipped. */
struct input *input_open(const char *const *paths, size_t n);

/* One file of a planned read. */
struct input_start {
	const char *path;       /* "-" is stdin, which is read from its start */
	uint64_t start_offset;  /* bytes to skip: decompressed bytes for gzip */
};

/* Read exactly these files in this order, never reordered by timestamp;
 * n == 0 reads nothing. Each file starts after start_offset bytes. An
 * offset past the end of a file reads nothing from it, which is not an
 * error, and its position reports the file's length. If the byte before
 * the offset is not a newline, the offset falls inside a line (the file
 * was rewritten since, or a line cut at INPUT_LINE_MAX was still being
 * written) and the rest of that line is skipped, so a line is never
 * returned without its start. Files that cannot be opened are reported as
 * by input_open, when their turn comes, and the others are still read.
 *
 * Unlike input_open, a final line without a newline in a plain file is
 * neither returned nor counted in its offset: a run from cron may catch a
 * line half-written, and the next run, from that offset, reads it whole.
 * A gzip file is finished (rotated), so its final unterminated line is
 * returned and counted as input_open does.
 *
 * stdin ("-") cannot be resumed: its start offset is ignored, it is read
 * from where it stands to its end with its final unterminated line
 * returned, and only its first place in the list reads it (later places
 * are skipped silently and report opened false). */
struct input *input_open_at(const struct input_start *starts, size_t n);

void input_free(struct input *input);

/* A second pass over the same input (grep reads twice, prefilter.h):
 * input_keep_for_rereading, called after input_open and before the first
 * line, is true when every file can be read again (regular files, whatever
 * their content; not stdin, pipes or FIFOs, nor a planned read) and keeps
 * their descriptors for it. Then input_reread (which first reads on to
 * the end if the first pass stopped early) starts over: the very files read (even if renamed or
 * replaced since), in the same order, from their start to where the first
 * read of each ended, so lines appended meanwhile are not read and both
 * passes see the same lines. Errors and damage told the first time are not
 * told again; the stats count the second pass. */
bool input_keep_for_rereading(struct input *input);
void input_reread(struct input *input);

/* Next line; false at the end of the last file. */
bool input_next_line(struct input *input, struct input_line *out);

/*
 * Lines that outlive the next call, for a caller on another thread that
 * reads them later (linepipe.h): each would otherwise be copied. With
 * input_keep_windows(input, true), a line read from a mapped window
 * (a plain regular file, mapping.h) names its window in
 * input_line.window, and the window is not unmapped when reading moves
 * on: it is kept, with the text of every line handed out from it, until
 * the caller lets it go. A line with window 0 is in the input's buffer
 * (gzip, stdin, a pipe, a file that could not be mapped) and valid until
 * the next call, as always.
 *
 * At most INPUT_WINDOWS_KEPT_MAX windows are kept besides the one being
 * read, and one call of input_next_line may add one: a caller must let
 * some go before the next call when input_windows_kept says they are
 * all used. input_let_go_windows lets go every kept window numbered
 * up_to or less (windows are numbered in reading order, so the lines of
 * a window always come before those of the next); turning keeping off
 * lets go every one, as input_free does.
 *
 * A file cut short under a kept window reads as zeros from the cut on
 * (mapping.h), whichever thread reads it: a caller may find zeros where
 * the end of a line it holds was, never a fault.
 */
#define INPUT_WINDOWS_KEPT_MAX 4

/*
 * With input_populate_ahead(input, true), a helper thread (worker.h) maps
 * in the pages of each window as soon as it is mapped
 * (MADV_POPULATE_READ), while the reader goes through its first bytes:
 * the reader then meets no page fault past them. Mapping in a window's
 * pages costs about as much as finding its lines (some 27 ms for the
 * bench's 2M-line log), so this is for callers that leave a core idle:
 * one thread, or grep's passes; a report's two threads keep both cores
 * busy, and a third would only take from them. The helper only changes
 * when the pages are mapped in, never what is read; a window is let go
 * only once its helper's job has ended. Turned off, or when no thread
 * could be made, the reader maps in its pages itself as before.
 */
void input_populate_ahead(struct input *input, bool on);

void input_keep_windows(struct input *input, bool keep);
size_t input_windows_kept(const struct input *input);
void input_let_go_windows(struct input *input, uint64_t up_to);

/* What is already read beyond the line returned last, for a caller that
 * searches ahead in bulk rather than line by line (grep's first pass):
 * the bytes from that line's start to the end of the last whole line
 * held, or to the end of the file once it is all read. They may hold
 * more than the lines to come (a CR before a newline, the rest of a line
 * cut at INPUT_LINE_MAX, bytes past a reread's end), never less. offset
 * is the file's stream offset of text.ptr (decompressed for gzip), so
 * places found can be told apart from those of an earlier read-ahead.
 * Valid until the next input_next_line() call. */
struct input_ahead {
	struct text text;
	uint64_t offset;
};
struct input_ahead input_read_ahead(struct input *input);

/* Whole lines in bulk, for a caller that searches them rather than goes
 * line by line (grep's first pass), instead of input_next_line: the same
 * bytes, every line with its newline, but as many as are held at once.
 * The caller splits them and must take each as input_next_line would
 * return it: without the CR before its newline, and cut at
 * INPUT_LINE_MAX (a line in text may be longer). A block without a
 * newline at its end is a file's last line, or (cut) one already cut at
 * INPUT_LINE_MAX whose rest is dropped. Lines are not counted (stats
 * count bytes only); input_file_changed tells a new file as for lines.
 * Valid until the next call. */
struct input_block {
	struct text text;
	size_t file_index;
	bool cut;
};
bool input_next_block(struct input *input, struct input_block *out);

/* A caller of input_next_block that split lines as input_next_line would
 * counts them into the stats: lines, and of them truncated ones. */
void input_count_lines(struct input *input, uint64_t lines, uint64_t truncated);

/* True once when the line returned last was the first of a new file, so
 * the caller can reset per-file state. */
bool input_file_changed(struct input *input);

const struct input_stats *input_get_stats(const struct input *input);

/* The order the files will be (or were) read in, for diagnostics and
 * tests: index i is the i-th file read. */
size_t input_file_count(const struct input *input);
const char *input_file_name(const struct input *input, size_t i);

/* Where the read of one file ended, so a later input_open_at can resume
 * there and return exactly the lines not returned yet. */
struct input_position {
	bool opened;           /* false: not read (could not be opened) */
	bool gzip;
	uint64_t device, inode; /* fstat of the file actually read, even if it was
	                           renamed meanwhile; 0 for stdin */
	uint64_t offset;       /* bytes consumed (decompressed for gzip): up to the
	                          end of the last line returned, its newline
	                          included, never into a line held back. A line
	                          cut at INPUT_LINE_MAX counts as far as it was
	                          read (all of it, or to the end of the file if
	                          its newline had not come yet; a resumed read
	                          then skips its rest). For stdin: the bytes read. */
};

/* Where the i-th file read (input_file_name order; for input_open_at, the
 * i-th start given) ended. Final once input_next_line has returned false;
 * before that, a file not read yet reports opened false. false, and *out
 * untouched, when there is no i-th file. */
bool input_file_position(const struct input *input, size_t i, struct input_position *out);

#endif
