/*
 * mapping: a read-only window of a regular file mapped into memory, in
 * place of read()ing it into a buffer: a cached log is then read where it
 * lies, without the kernel's copy (grep reads the log twice, and the two
 * copies were a fifth of its time).
 *
 * A file cut short while it is mapped (logrotate's copytruncate, an
 * admin's "> exim_mainlog") would make the next touch of a page past its
 * new end raise SIGBUS, anywhere a view into the window is read. Such a
 * page is replaced, from the SIGBUS handler, by zeros, the window is
 * marked cut short, and the access goes on: the reader asks
 * mapping_cut_short and stops there. Zero bytes hold no newline, so
 * nothing past the cut is taken for a line.
 *
 * Ownership: the window's bytes are valid until mapping_unmap. At most
 * MAPPING_LIVE_MAX windows are mapped at once; mapping_map says false
 * beyond that, and the caller reads instead.
 */
#ifndef EXIMEXPLAIN_MAPPING_H
#define EXIMEXPLAIN_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAPPING_LIVE_MAX 8

struct mapping {
	char *bytes;      /* the byte at offset; NULL when nothing is mapped */
	uint64_t offset;  /* file offset of bytes[0]: a multiple of the page size */
	size_t length;
	int slot;         /* in the handler's table of live windows */
};

/* Bytes [offset, offset + length) of fd, offset rounded down to a page by
 * the caller (mapping_page_floor). false (errno set) when they cannot be
 * mapped; *m is then unchanged. */
bool mapping_map(struct mapping *m, int fd, uint64_t offset, size_t length);
void mapping_unmap(struct mapping *m);

/* Whether a page of the window was found past the file's end (and reads
 * as zeros now). */
bool mapping_cut_short(const struct mapping *m);

uint64_t mapping_page_floor(uint64_t offset);

#endif
