/*
 * input: files -> lines. One reader at a time holds a fixed buffer of
 * INPUT_BUFFER_SIZE bytes, or, for a plain regular file, a mapped window
 * of it (mapping.h: the copy read() makes is saved); lines are found with
 * memchr and handed out as views into it, so the hot path copies nothing
 * and allocates nothing. gzip is recognised by its magic bytes, never by name. Each
 * reader knows the stream offset of its buffer's first byte, so where a
 * read ended (for --state) costs nothing per line.
 *
 * It must never: trust a file name's suffix, stop the whole run for one bad
 * file, hand out a partial last line of a damaged gzip member as if whole,
 * or, for a planned read, hand out a line without its start or report an
 * offset that would make the next run repeat or miss a line.
 *
 * Nor read a file twice by name when ordering: what was peeked at is what
 * is read. A pipe, FIFO or stdin cannot be reread at all, so its reader,
 * with the bytes peeked, is kept until its turn; a regular file keeps its
 * descriptor (up to KEPT_FDS_MAX of them), so one rotated between the
 * peek and its turn is still the file that was ordered. And no gzip
 * stream may expand past INPUT_GZIP_RATIO_MAX times its size, so a small
 * file cannot keep the run busy for hours.
 */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "lexer.h"
#include "mapping.h"
#include "msg.h"
#include "worker.h"
#include "xalloc.h"

#define RAW_CHUNK (256 * 1024)
/* How far into a file to look for its first timestamp when ordering. */
#define PEEK_LIMIT (64 * 1024)
/* Descriptors kept open from the peek to the read; past this, files are
 * reopened by name (and a file replaced meanwhile is told). */
#define KEPT_FDS_MAX 256
#define QUOTED_(x) #x
#define QUOTED(x) QUOTED_(x)

/* Windows a caller still reads lines of (input_keep_windows). */
_Static_assert(INPUT_WINDOWS_KEPT_MAX + 2 <= MAPPING_LIVE_MAX,
               "the kept windows, one more and the one being read can all be mapped");
struct window_keeper {
	bool on;
	uint64_t numbered; /* windows numbered so far */
	struct kept_window {
		struct mapping map;
		uint64_t number;
	} kept[INPUT_WINDOWS_KEPT_MAX + 1]; /* one over: see let_go_window */
	size_t count;
};

/* A helper that maps in the pages of each new window (input_populate_ahead)
 * while the reader reads its first POPULATE_SKIP bytes, which it maps in
 * itself as it goes. A window is let go only after its job has ended. */
#define POPULATE_SKIP (256 * 1024)
struct populator {
	struct worker *worker; /* NULL: off */
	char *from;            /* the job: bytes of the window just mapped */
	size_t length;
};

struct reader {
	const char *name;
	int fd;
	bool is_stdin;
	bool gzip;
	bool member_done;   /* gzip: the current member ended cleanly */
	bool z_ready;
	z_stream z;
	unsigned char *raw; /* compressed bytes (gzip only) */
	bool eof;           /* no more bytes will come */
	bool damaged;       /* eof because of bad or missing gzip data */
	bool skipping;      /* dropping the rest of an over-long line (or of
	                       the line a start offset fell inside) */
	bool hold_tail;     /* a final line without newline is not returned */
	bool regular;       /* a regular file: it can be seeked in */
	struct mapping map; /* buf is map.bytes while a window is mapped */
	uint64_t window;    /* map's number once a line of it was handed out
	                       with windows kept; 0 before */
	struct window_keeper *keeper; /* NULL: a window is unmapped when left */
	struct populator *populator; /* NULL, or the input's */
	bool quiet;         /* peeking at a file that will be read again:
	                       its damage is told then, not twice */
	int read_errno;     /* of the read error that ended it */
	uint64_t size;      /* its size when opened (regular files) */
	uint64_t device, inode;
	char *buf;          /* decompressed or plain bytes */
	size_t start, end;  /* unread window of buf */
	uint64_t base;      /* stream offset of buf[0] (decompressed for gzip) */
	uint64_t raw_bytes; /* gzip: compressed bytes read so far */
	uint64_t limit;     /* stream offset where reading stops (a reread) */
	uint64_t line_number;
	size_t line_at;     /* where in buf the line returned last starts */
	size_t whole_end;   /* just after the last newline in buf (read-ahead) */
	bool whole_known;   /* whole_end is worked out for what buf holds */
};

struct source {
	char *path;
	size_t given;      /* position on the command line */
	bool has_time;
	int64_t first_time;
	bool failed;       /* already reported, or a repeated stdin: not read */
	uint64_t start_offset;
	struct input_position position;
	struct reader *kept; /* stdin, a pipe or a FIFO, peeked: read on from here */
	int fd;            /* a regular file, peeked or kept for a reread: its
	                      descriptor, or -1 */
	uint64_t end_offset; /* a reread stops here: where the first read ended */
	uint64_t device, inode; /* of the file peeked at */
};

struct input {
	struct source *sources;
	size_t count;
	size_t next;            /* next source to open */
	struct reader reader;   /* for named files, one at a time */
	struct reader *current; /* &reader or a source's kept one (zlib state */
	bool reader_open;       /* must not be copied: it points back at itself) */
	bool changed;
	bool planned;           /* input_open_at: start offsets, tails held */
	bool keep_fds;          /* input_keep_for_rereading: finished files keep
	                           their descriptor */
	bool rereading;         /* input_reread: the second pass */
	struct source *current_source;
	char *buf;              /* shared by every reader, one at a time */
	unsigned char *raw;
	struct input_stats stats;
	struct lexer *lexer;    /* for timestamps when ordering */
	struct window_keeper keeper;
	struct populator populator;
};

static const char *display_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "standard input" : path;
}

/* ---- reader ---- */

static bool is_gzip_magic(const char *p, size_t n)
{
	return n >= 2 && (unsigned char)p[0] == 0x1f && (unsigned char)p[1] == 0x8b;
}

static void populate_job(void *arg)
{
	const struct populator *p = arg;
#ifdef MADV_POPULATE_READ
	/* an error (a kernel before 5.14, a file cut short) only leaves the
	 * pages to be mapped in as the reader meets them */
	(void)madvise(p->from, p->length, MADV_POPULATE_READ);
#else
	(void)p;
#endif
}

/* Until the job on the window last mapped has ended (at once when idle). */
static void populate_wait(struct populator *p)
{
	if (p != NULL && p->worker != NULL)
		worker_wait(p->worker);
}

/* The window just mapped, past its first POPULATE_SKIP bytes; one of no
 * more than twice that is left to the reader. */
static void populate_window(struct populator *p, const struct mapping *map)
{
	if (p == NULL || p->worker == NULL || map->length <= 2 * POPULATE_SKIP)
		return;
	populate_wait(p);
	p->from = map->bytes + POPULATE_SKIP;
	p->length = map->length - POPULATE_SKIP;
	worker_run(p->worker, populate_job, p);
}

/* The reader moves on from its window: kept when a line of it was
 * handed out to a caller that keeps windows, else unmapped. The caller
 * lets go before asking for a line when INPUT_WINDOWS_KEPT_MAX are kept,
 * and one call moves on from at most one window it handed lines out of
 * (a window only skipped through holds no line handed out), so the
 * array's one extra place is enough. Unmapping a window the caller still
 * reads instead would fault far from here: a caller that broke the
 * contract is stopped now. */
static void let_go_window(struct reader *r)
{
	struct window_keeper *k = r->keeper;
	if (r->map.bytes == NULL)
		return;
	populate_wait(r->populator);
	if (k == NULL || !k->on || r->window == 0) {
		mapping_unmap(&r->map);
	} else {
		if (k->count == INPUT_WINDOWS_KEPT_MAX + 1)
			msg_fatal("internal error: more than %d windows kept", INPUT_WINDOWS_KEPT_MAX + 1);
		k->kept[k->count++] = (struct kept_window){ r->map, r->window };
		r->map = (struct mapping){ .bytes = NULL, .slot = -1 };
	}
	r->window = 0;
}

static void reader_close(struct reader *r)
{
	if (r->z_ready)
		inflateEnd(&r->z);
	r->z_ready = false;
	let_go_window(r);
	if (r->fd >= 0 && !r->is_stdin)
		close(r->fd);
	r->fd = -1;
}

/* read() that retries on EINTR; -1 with errno on failure. */
static ssize_t read_some(int fd, void *buf, size_t size)
{
	for (;;) {
		ssize_t n = read(fd, buf, size);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

static void reader_damage(struct reader *r, const char *what)
{
	if (!r->quiet)
		msg_input_error("%s: %s after line %llu; the lines before it were read",
	                display_name(r->name), what,
	                (unsigned long long)r->line_number);
	r->damaged = true;
	r->eof = true;
}

static void read_error(struct reader *r)
{
	r->read_errno = errno;
	if (!r->quiet)
		msg_input_error("%s: read error: %s", display_name(r->name), strerror(errno));
	r->damaged = true;
	r->eof = true;
}

static void fill_plain(struct reader *r, size_t room)
{
	uint64_t offset = r->base + r->end;
	if (offset >= r->limit) {
		r->eof = true;
		return;
	}
	if (room > r->limit - offset)
		room = (size_t)(r->limit - offset);
	ssize_t n = read_some(r->fd, r->buf + r->end, room);
	if (n < 0)
		read_error(r);
	else if (n == 0)
		r->eof = true;
	else
		r->end += (size_t)n;
}

/* After a member's end: another member, zero padding, or junk. */
static void gzip_next_member(struct reader *r)
{
	if (r->z.avail_in == 0) {
		ssize_t n = read_some(r->fd, r->raw, RAW_CHUNK);
		if (n < 0) {
			read_error(r);
			return;
		}
		if (n == 0) {
			r->eof = true;
			return;
		}
		r->z.next_in = r->raw;
		r->z.avail_in = (uInt)n;
		r->raw_bytes += (uint64_t)n;
	}
	if (r->z.next_in[0] == 0x1f) {
		inflateReset(&r->z);
		r->member_done = false;
		return;
	}
	for (uInt i = 0; i < r->z.avail_in; i++)
		if (r->z.next_in[i] != 0) {
			msg_warn("%s: data after the end of the gzip stream ignored",
			         display_name(r->name));
			break;
		}
	r->eof = true; /* trailing zeros (tape padding) are harmless */
}

bool input_gzip_ratio_exceeded(uint64_t compressed, uint64_t decompressed)
{
	return decompressed > INPUT_GZIP_RATIO_FLOOR &&
	       decompressed / INPUT_GZIP_RATIO_MAX > compressed;
}

static void fill_gzip(struct reader *r, size_t room)
{
	r->z.next_out = (unsigned char *)r->buf + r->end;
	r->z.avail_out = (uInt)room;
	while (r->z.avail_out > 0 && !r->eof) {
		if (r->member_done) {
			gzip_next_member(r);
			continue;
		}
		if (r->z.avail_in == 0) {
			ssize_t n = read_some(r->fd, r->raw, RAW_CHUNK);
			if (n < 0) {
				read_error(r);
				break;
			}
			if (n == 0) {
				reader_damage(r, "gzip data ends early (truncated file)");
				break;
			}
			r->z.next_in = r->raw;
			r->z.avail_in = (uInt)n;
			r->raw_bytes += (uint64_t)n;
		}
		int status = inflate(&r->z, Z_NO_FLUSH);
		uint64_t out = r->base + (uint64_t)((char *)r->z.next_out - r->buf);
		if (input_gzip_ratio_exceeded(r->raw_bytes, out)) {
			reader_damage(r, "gzip data expands over " QUOTED(INPUT_GZIP_RATIO_MAX) " times its size "
			              "(a decompression bomb?), reading stopped");
			break;
		}
		if (status == Z_STREAM_END) {
			r->member_done = true;
		} else if (status != Z_OK && status != Z_BUF_ERROR) {
			reader_damage(r, r->z.msg ? r->z.msg : "corrupt gzip data");
			break;
		}
		if (r->z.avail_out < room / 2)
			break; /* enough to work on: lex while the next chunk waits */
	}
	r->end = (size_t)((char *)r->z.next_out - r->buf);
}

/* The window from the page of the first unread byte, as far as the
 * file goes now (it may have grown) or INPUT_MAP_WINDOW; eof when no
 * byte is new. false when it cannot be mapped, errno set. */
static bool map_window(struct reader *r)
{
	struct stat st;
	if (fstat(r->fd, &st) != 0)
		return false;
	uint64_t file_end = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	if (file_end > r->limit)
		file_end = r->limit;
	if (file_end <= r->base + r->end) {
		r->eof = true; /* as read() would find: nothing more, or cut short */
		return true;
	}
	uint64_t offset = r->base + r->start;
	uint64_t from = mapping_page_floor(offset);
	uint64_t length = file_end - from;
	if (length > INPUT_MAP_WINDOW)
		length = INPUT_MAP_WINDOW;
	struct mapping next;
	if (!mapping_map(&next, r->fd, from, (size_t)length))
		return false;
	let_go_window(r);
	r->map = next;
	populate_window(r->populator, &r->map);
	r->buf = next.bytes;
	r->base = from;
	r->start = (size_t)(offset - from);
	r->end = (size_t)length;
	return true;
}

/* After the first read(), which tells a gzip file by its magic: a plain
 * regular file's bytes are mapped from here on, the bytes read so far included.
 * A file whose size is less than was read (procfs, or cut short) is read
 * on as it was. */
static void reader_map_plain(struct reader *r)
{
	struct stat st;
	if (!r->regular || r->gzip || fstat(r->fd, &st) != 0 || st.st_size <= 0 ||
	    (uint64_t)st.st_size < r->base + r->end)
		return;
	size_t read_end = r->end;
	r->end = r->start; /* the bytes read so far are mapped too */
	if (!map_window(r))
		r->end = read_end;
}

/* A mapped file cut short while it was read: past the cut it reads as
 * zeros (mapping.h), dropped with the partial line before them, as after
 * damage. true when this is found now. */
static bool reader_cut_short(struct reader *r)
{
	if (r->damaged || !mapping_cut_short(&r->map))
		return false;
	reader_damage(r, "file cut short while being read (rotated by copying?)");
	r->end = r->start;
	return true;
}

/* Move the unread bytes to the front and read more behind them, or map
 * the next window. */
static void reader_fill(struct reader *r)
{
	r->whole_known = false;
	if (r->map.bytes != NULL) {
		if (!reader_cut_short(r) && !map_window(r))
			read_error(r);
		return;
	}
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->base += r->start;
		r->end -= r->start;
		r->start = 0;
	}
	size_t room = INPUT_BUFFER_SIZE - r->end;
	if (room == 0 || r->eof)
		return;
	if (r->gzip)
		fill_gzip(r, room);
	else
		fill_plain(r, room);
}

/* fd: a descriptor kept from the peek (rewound here), or -1 to open path.
 * peek: only to order the files; a regular file is read again later.
 * limit: stop at this stream offset (a reread), else UINT64_MAX.
 * A plain regular file read on (not a peek) is mapped next by the caller
 * (reader_map_plain), once it has set the reader's populator. */
static bool reader_open(struct reader *r, const char *path, int fd, bool peek, char *buf,
                        unsigned char *raw, uint64_t limit)
{
	memset(r, 0, sizeof *r);
	r->limit = UINT64_MAX;
	r->name = path;
	r->buf = buf;
	r->raw = raw;
	r->is_stdin = strcmp(path, "-") == 0;
	if (r->is_stdin) {
		r->fd = STDIN_FILENO;
	} else {
		r->fd = fd >= 0 ? fd : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (r->fd < 0) {
			msg_input_error("%s: cannot open: %s", path, strerror(errno));
			return false;
		}
		if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
			msg_input_error("%s: cannot rewind: %s", path, strerror(errno));
			reader_close(r);
			return false;
		}
		struct stat st;
		if (fstat(r->fd, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				msg_input_error("%s: is a directory, not a log file", path);
				close(r->fd);
				r->fd = -1;
				return false;
			}
			r->regular = S_ISREG(st.st_mode);
			r->quiet = peek && r->regular;
			r->size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
			r->device = (uint64_t)st.st_dev;
			r->inode = (uint64_t)st.st_ino;
		}
	}
	fill_plain(r, RAW_CHUNK);
	if (r->damaged && r->quiet) /* not readable at all: said now, not read again */
		msg_input_error("%s: read error: %s", path, strerror(r->read_errno));
	if (r->damaged) {
		reader_close(r);
		return false;
	}
	if (is_gzip_magic(r->buf, r->end)) {
		memcpy(r->raw, r->buf, r->end);
		r->z.next_in = r->raw;
		r->z.avail_in = (uInt)r->end;
		r->raw_bytes = r->end;
		r->end = 0;
		if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
			msg_fatal("zlib: cannot initialise inflate");
		r->z_ready = true;
		r->gzip = true;
		r->eof = false;
		fill_gzip(r, INPUT_BUFFER_SIZE);
	}
	r->limit = limit; /* set only now: the gzip magic is read whatever it is */
	if (!r->gzip && r->end > limit)
		r->end = (size_t)limit;
	return true;
}

/* The next line of one file; false at its end. */
/* At the end of the stream, the last line, which has no newline; false
 * when there is none, or when it is dropped. Before damage the bytes end
 * mid-line; a held tail may still be being written. Either is dropped but
 * not consumed: the offset stays at its start. */
static bool reader_last_line(struct reader *r, struct text *out)
{
	if (r->start == r->end)
		return false;
	if (r->damaged || r->hold_tail) {
		if (r->damaged && !r->quiet)
			msg_warn("%s: incomplete last line before the damage dropped",
			         display_name(r->name));
		r->end = r->start;
		return false;
	}
	*out = text_make(r->buf + r->start, r->end - r->start);
	r->line_at = r->start;
	r->start = r->end;
	return true;
}

/* A line still without its newline past INPUT_LINE_MAX at from: cut
 * there, and the rest dropped as it comes. */
static struct text reader_cut_line(struct reader *r, char *from)
{
	r->line_at = (size_t)(from - r->buf);
	r->start = r->end; /* the view stays valid: no refill yet */
	r->skipping = true;
	return text_make(from, INPUT_LINE_MAX);
}

static bool reader_next_line(struct reader *r, struct input_line *out, uint64_t *truncated)
{
	for (;;) {
		if (r->base + r->start >= r->limit)
			return false; /* a gzip file reread: plain ones stop filling there */
		char *from = r->buf + r->start;
		size_t avail = r->end - r->start;
		char *newline = avail ? memchr(from, '\n', avail) : NULL;
		if (newline) {
			size_t length = (size_t)(newline - from);
			r->start += length + 1;
			if (r->skipping) {
				r->skipping = false;
				continue;
			}
			if (length > 0 && from[length - 1] == '\r')
				length--;
			out->truncated = length > INPUT_LINE_MAX;
			if (out->truncated) {
				length = INPUT_LINE_MAX;
				(*truncated)++;
			}
			out->text = text_make(from, length);
			out->line_number = ++r->line_number;
			r->line_at = (size_t)(from - r->buf);
			return true;
		}
		if (reader_cut_short(r))
			continue;
		/* More than the cap and still no newline: cut here, drop the rest. */
		if (avail > INPUT_LINE_MAX && !r->skipping) {
			out->text = reader_cut_line(r, from);
			out->truncated = true;
			out->line_number = ++r->line_number;
			(*truncated)++;
			return true;
		}
		if (r->skipping)
			r->start = r->end;
		if (r->eof) {
			if (!reader_last_line(r, &out->text))
				return false;
			out->truncated = false;
			out->line_number = ++r->line_number;
			return true;
		}
		reader_fill(r);
	}
}

/* Whole lines at once: every whole line held, or one cut at
 * INPUT_LINE_MAX (the rest skipped), or the last at the end. The same
 * bytes reader_next_line would go through, with the same lines dropped. */
static bool reader_next_block(struct reader *r, struct text *out, bool *cut)
{
	for (;;) {
		uint64_t at = r->base + r->start;
		if (at >= r->limit)
			return false;
		char *from = r->buf + r->start;
		size_t avail = r->end - r->start;
		if (r->base + r->end > r->limit) /* a gzip reread: stop where the first read did */
			avail = (size_t)(r->limit - at);
		if (r->skipping) {
			char *newline = avail ? memchr(from, '\n', avail) : NULL;
			if (newline) {
				r->start += (size_t)(newline - from) + 1;
				r->skipping = false;
				continue;
			}
		} else {
			char *newline = avail ? memrchr(from, '\n', avail) : NULL;
			if (newline) {
				size_t length = (size_t)(newline - from) + 1;
				r->start += length;
				r->line_at = (size_t)(from - r->buf);
				*out = text_make(from, length);
				*cut = false;
				return true;
			}
			if (reader_cut_short(r))
				continue;
			if (avail > INPUT_LINE_MAX) {
				*out = reader_cut_line(r, from);
				*cut = true;
				return true;
			}
		}
		if (r->skipping)
			r->start = r->end;
		if (r->eof) {
			*cut = false;
			return reader_last_line(r, out);
		}
		reader_fill(r);
	}
}

/* The read-ahead: from the line returned last to the end of the last
 * whole line held (or of all the bytes, once no more will come). */
static struct input_ahead reader_ahead(struct reader *r)
{
	if (!r->whole_known) {
		const char *newline = r->end > r->start
		                      ? memrchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
		r->whole_end = newline ? (size_t)(newline - r->buf) + 1 : r->start;
		r->whole_known = true;
	}
	size_t end = r->eof ? r->end : r->whole_end;
	if (end < r->start)
		end = r->start;
	return (struct input_ahead){ text_make(r->buf + r->line_at, end - r->line_at),
		                     r->base + r->line_at };
}

/* Bytes consumed: up to the end of the last line handed out. */
static uint64_t reader_offset(const struct reader *r)
{
	return r->base + r->start;
}

/* Drop bytes until target is the next to read, or the stream ends. */
static void reader_discard_to(struct reader *r, uint64_t target)
{
	while (r->base + r->end < target && !r->eof) {
		r->start = r->end;
		reader_fill(r);
	}
	if (r->base + r->end < target)
		r->start = r->end;
	else
		r->start = (size_t)(target - r->base);
}

/* A plain regular file need not be read up to target: seek there, or to
 * its end if it is shorter (the discarding after that reads what it may
 * have grown since). Where seeking fails, discarding does it all. */
static void reader_seek_plain(struct reader *r, uint64_t target)
{
	uint64_t to = target < r->size ? target : r->size;
	if (to <= r->base + r->end)
		return; /* already read at open */
	if (lseek(r->fd, (off_t)to, SEEK_SET) < 0)
		return;
	r->base = to;
	r->start = r->end = 0;
	r->eof = false;
}

/* Make offset the next byte to read. The byte before it must end a line;
 * when it does not, offset lies inside a line, whose start is behind us
 * (the file was rewritten, or the offset is not one input reported), and
 * that line's rest is skipped: handed out, it would look like a whole
 * line, and its tail parsed as an entry would be nonsense. */
static void reader_start_at(struct reader *r, uint64_t offset)
{
	if (offset == 0)
		return;
	if (!r->gzip && r->regular)
		reader_seek_plain(r, offset - 1);
	reader_discard_to(r, offset - 1);
	while (r->start == r->end && !r->eof)
		reader_fill(r);
	if (r->start < r->end) {
		r->skipping = r->buf[r->start] != '\n';
		r->start++;
	}
}

/* ---- ordering the files ---- */

/* First Exim timestamp among the first PEEK_LIMIT bytes, without
 * consuming anything. */
static bool reader_peek_time(struct reader *r, struct lexer *lexer, int64_t *epoch)
{
	while (!r->eof && r->end - r->start < PEEK_LIMIT)
		reader_fill(r);
	size_t pos = r->start;
	while (pos < r->end && pos - r->start < PEEK_LIMIT) {
		const char *line = r->buf + pos;
		const char *newline = memchr(line, '\n', r->end - pos);
		size_t length = newline ? (size_t)(newline - line) : r->end - pos;
		if (lexer_leading_time(lexer, line, length, epoch))
			return true;
		if (!newline)
			break;
		pos += length + 1;
	}
	return false;
}

static int compare_sources(const void *a, const void *b)
{
	const struct source *x = a, *y = b;
	if (x->has_time != y->has_time)
		return x->has_time ? 1 : -1; /* files without a time first */
	if (x->has_time && x->first_time != y->first_time)
		return x->first_time < y->first_time ? -1 : 1;
	return x->given < y->given ? -1 : x->given > y->given;
}

static struct input *input_new(size_t n)
{
	struct input *input = xcalloc(1, sizeof *input);
	input->sources = xcalloc(n, sizeof *input->sources);
	input->buf = xmalloc(INPUT_BUFFER_SIZE);
	input->raw = xmalloc(RAW_CHUNK);
	return input;
}

struct input *input_open(const char *const *paths, size_t n)
{
	static const char *const stdin_only[] = { "-" };
	if (n == 0) {
		paths = stdin_only;
		n = 1;
	}
	struct input *input = input_new(n);
	input->lexer = lexer_new();
	/* Peeking uses its own buffers, which a kept reader takes with it. */
	struct reader *peek = xmalloc(sizeof *peek);
	char *peek_buf = xmalloc(INPUT_BUFFER_SIZE);
	unsigned char *peek_raw = xmalloc(RAW_CHUNK);
	size_t kept_fds = 0;
	bool stdin_seen = false;
	for (size_t i = 0; i < n; i++) {
		struct source *src = &input->sources[input->count];
		bool is_stdin = strcmp(paths[i], "-") == 0;
		if (is_stdin && stdin_seen)
			continue; /* stdin can be read once */
		stdin_seen |= is_stdin;
		src->path = xstrdup(paths[i]);
		src->given = i;
		src->fd = -1;
		input->count++;
		if (!reader_open(peek, src->path, -1, true, peek_buf, peek_raw, UINT64_MAX)) {
			src->failed = true;
			if (!is_stdin)
				input->stats.files_failed++;
			continue;
		}
		src->has_time = reader_peek_time(peek, input->lexer, &src->first_time);
		src->device = peek->device;
		src->inode = peek->inode;
		if (is_stdin || !peek->regular) {
			/* It cannot be reread: keep the reader, bytes peeked and all. */
			src->kept = peek;
			peek = xmalloc(sizeof *peek);
			peek_buf = xmalloc(INPUT_BUFFER_SIZE);
			peek_raw = xmalloc(RAW_CHUNK);
			continue;
		}
		if (kept_fds < KEPT_FDS_MAX) {
			src->fd = peek->fd;
			peek->fd = -1; /* not closed below */
			kept_fds++;
		}
		reader_close(peek);
	}
	free(peek);
	free(peek_buf);
	free(peek_raw);
	qsort(input->sources, input->count, sizeof *input->sources, compare_sources);
	return input;
}

struct input *input_open_at(const struct input_start *starts, size_t n)
{
	struct input *input = input_new(n);
	input->planned = true;
	bool stdin_seen = false;
	for (size_t i = 0; i < n; i++) {
		struct source *src = &input->sources[i];
		src->path = xstrdup(starts[i].path);
		src->given = i;
		src->start_offset = starts[i].start_offset;
		src->fd = -1;
		if (strcmp(src->path, "-") == 0) {
			src->failed = stdin_seen; /* stdin can be read once */
			stdin_seen = true;
		}
	}
	input->count = n;
	return input;
}

void input_free(struct input *input)
{
	if (input == NULL)
		return;
	if (input->reader_open)
		reader_close(input->current);
	input_keep_windows(input, false);
	input_populate_ahead(input, false);
	for (size_t i = 0; i < input->count; i++) {
		struct source *src = &input->sources[i];
		if (src->kept) {
			reader_close(src->kept);
			free(src->kept->buf);
			free(src->kept->raw);
			free(src->kept);
		}
		if (src->fd >= 0)
			close(src->fd);
		free(src->path);
	}
	free(input->sources);
	free(input->buf);
	free(input->raw);
	lexer_free(input->lexer);
	free(input);
}

static bool open_next_source(struct input *input)
{
	while (input->next < input->count) {
		struct source *src = &input->sources[input->next++];
		if (src->failed)
			continue;
		int fd = src->fd;
		src->fd = -1; /* the reader owns it now */
		if (src->kept) {
			input->current = src->kept;
		} else if (reader_open(&input->reader, src->path, fd, false, input->buf, input->raw,
		                       input->rereading ? src->end_offset : UINT64_MAX)) {
			input->current = &input->reader;
		} else {
			input->stats.files_failed++;
			src->failed = true;
			continue;
		}
		struct reader *r = input->current;
		if (!src->kept) {
			r->populator = &input->populator;
			reader_map_plain(r);
		}
		r->quiet |= input->rereading;
		if (!input->planned && !src->kept && fd < 0 &&
		    (r->device != src->device || r->inode != src->inode))
			msg_warn("%s: replaced since it was ordered (rotated?); reading the new file",
			         src->path);
		if (input->planned && !r->is_stdin) {
			r->hold_tail = !r->gzip;
			reader_start_at(r, src->start_offset);
		}
		src->position = (struct input_position){
			.opened = true, .gzip = r->gzip, .device = r->device, .inode = r->inode,
		};
		input->current_source = src;
		input->reader_open = true;
		input->stats.files_read++;
		input->changed = true;
		return true;
	}
	return false;
}

struct input_ahead input_read_ahead(struct input *input)
{
	return reader_ahead(input->current);
}

/* The end of a file in either mode: where it ended, and its descriptor
 * kept for a reread or closed. */
static void finish_source(struct input *input)
{
	if (input->current->damaged)
		input->stats.files_damaged++;
	input->current_source->position.offset = reader_offset(input->current);
	if (input->keep_fds) {
		input->current_source->fd = input->current->fd;
		input->current->fd = -1; /* not closed: read again */
	}
	reader_close(input->current);
	input->reader_open = false;
}

/* The number of the window a line just handed out lies in, or 0. */
static uint64_t lend_window(struct input *input, struct reader *r)
{
	if (!input->keeper.on || r->map.bytes == NULL)
		return 0;
	r->keeper = &input->keeper;
	if (r->window == 0)
		r->window = ++input->keeper.numbered;
	return r->window;
}

bool input_next_line(struct input *input, struct input_line *out)
{
	for (;;) {
		if (!input->reader_open && !open_next_source(input))
			return false;
		if (reader_next_line(input->current, out, &input->stats.truncated_lines)) {
			out->window = lend_window(input, input->current);
			out->file = input->current->name;
			out->file_index = (size_t)(input->current_source - input->sources);
			out->replayed = false;
			input->stats.lines++;
			input->stats.bytes += out->text.len + 1;
			return true;
		}
		finish_source(input);
	}
}

void input_let_go_windows(struct input *input, uint64_t up_to)
{
	struct window_keeper *k = &input->keeper;
	size_t still = 0;
	for (size_t i = 0; i < k->count; i++) {
		if (k->kept[i].number <= up_to)
			mapping_unmap(&k->kept[i].map);
		else
			k->kept[still++] = k->kept[i];
	}
	k->count = still;
}

void input_populate_ahead(struct input *input, bool on)
{
	struct populator *p = &input->populator;
	if (on && p->worker == NULL)
		p->worker = worker_start();
	if (!on && p->worker != NULL) {
		populate_wait(p);
		worker_stop(p->worker);
		p->worker = NULL;
	}
}

void input_keep_windows(struct input *input, bool keep)
{
	if (!keep)
		input_let_go_windows(input, UINT64_MAX);
	input->keeper.on = keep;
}

size_t input_windows_kept(const struct input *input)
{
	return input->keeper.count;
}

bool input_next_block(struct input *input, struct input_block *out)
{
	for (;;) {
		if (!input->reader_open && !open_next_source(input))
			return false;
		if (reader_next_block(input->current, &out->text, &out->cut)) {
			out->file_index = (size_t)(input->current_source - input->sources);
			input->stats.bytes += out->text.len;
			return true;
		}
		finish_source(input);
	}
}

void input_count_lines(struct input *input, uint64_t lines, uint64_t truncated)
{
	input->stats.lines += lines;
	input->stats.truncated_lines += truncated;
}

bool input_keep_for_rereading(struct input *input)
{
	if (input->planned)
		return false;
	for (size_t i = 0; i < input->count; i++)
		if (input->sources[i].kept)
			return false; /* stdin, a pipe or a FIFO */
	input->keep_fds = true;
	return true;
}

void input_reread(struct input *input)
{
	/* a first pass that stopped early: read on, so every file's end is
	 * known and the second pass reads all of it */
	struct input_line rest;
	bool more;
	do
		more = input_next_line(input, &rest);
	while (more);
	for (size_t i = 0; i < input->count; i++) {
		struct source *src = &input->sources[i];
		src->end_offset = src->position.offset;
		if (src->fd < 0)
			src->failed = true; /* not read the first time either */
	}
	unsigned failed = input->stats.files_failed;
	memset(&input->stats, 0, sizeof input->stats);
	input->stats.files_failed = failed;
	input->next = 0;
	input->rereading = true;
	input->keep_fds = false;
}

bool input_file_changed(struct input *input)
{
	bool changed = input->changed;
	input->changed = false;
	return changed;
}

const struct input_stats *input_get_stats(const struct input *input)
{
	return &input->stats;
}

size_t input_file_count(const struct input *input)
{
	return input->count;
}

const char *input_file_name(const struct input *input, size_t i)
{
	return i < input->count ? input->sources[i].path : NULL;
}

bool input_file_position(const struct input *input, size_t i, struct input_position *out)
{
	if (i >= input->count)
		return false;
	*out = input->sources[i].position;
	if (input->reader_open && input->current_source == &input->sources[i])
		out->offset = reader_offset(input->current);
	return true;
}
