/*
 * input: Exim log bytes -> physical lines, from plain files, gzip files
 * (detected by magic bytes, concatenated members too) and stdin, several
 * files read oldest first by the first timestamp in each.
 *
 * Ownership: a struct input_line's text points into the input's own buffer
 * and is valid until the next input_next_line() call. Memory is one buffer
 * per open file, never proportional to the file's size.
 *
 * What it must never do: stop at bad bytes. NULs and invalid UTF-8 pass
 * through untouched; a line longer than INPUT_LINE_MAX is cut there and
 * counted; a damaged gzip stream ends that file with a warning naming it.
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

struct input_line {
	struct text text;      /* without the newline (and without a CR before it) */
	const char *file;      /* name as given ("-" is "standard input") */
	uint64_t line_number;  /* 1-based within file */
	bool truncated;        /* the line was longer than INPUT_LINE_MAX */
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
void input_free(struct input *input);

/* Next line; false at the end of the last file. */
bool input_next_line(struct input *input, struct input_line *out);

/* True once when the line returned last was the first of a new file, so
 * the caller can reset per-file state. */
bool input_file_changed(struct input *input);

const struct input_stats *input_get_stats(const struct input *input);

/* The order the files will be (or were) read in, for diagnostics and
 * tests: index i is the i-th file read. */
size_t input_file_count(const struct input *input);
const char *input_file_name(const struct input *input, size_t i);

#endif
