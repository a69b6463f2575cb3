/*
 * state: the bookkeeping behind --state, so that digest and export run
 * from cron see every log line exactly once, across logrotate. It keeps,
 * per input file, how far it was read and what the file looked like; and
 * the raw lines of messages still open when a run ended, to be fed first
 * next time. It loads and saves that state and plans where each file is to
 * be read from. It opens log files only to stat them and to fingerprint
 * their first bytes; reading them is input's job.
 *
 * It must never: trust a state file (every byte is checked; a bad file
 * costs a rerun from the start with a warning, never a crash or an
 * out-of-bounds read), or leave a half-written state file where the old
 * one was (saving writes a temporary file beside it and renames it over).
 *
 * Ownership: a struct state owns everything in it. state_set_file and
 * state_carry_line copy in. What the getters hand out (state_file_at,
 * state_find_file, state_carried_line) is borrowed and valid until the
 * state next changes or is freed. A struct state_plan owns its read paths;
 * their `given` pointers borrow the caller's path strings.
 *
 * The state file is text, one record a line, every line ending in '\n':
 *
 *   eximexplain-state 1
 *   file DEVICE INODE OFFSET LAST_TIME FPLEN FPHEX PATH
 *   carry LINE
 *   end COUNT
 *
 * The first line is exactly "eximexplain-state 1". Then any number of file
 * and carry lines (file lines first when written), then "end COUNT", where
 * COUNT is the number of file and carry lines before it; a file without
 * that last line was cut short. DEVICE, INODE, OFFSET and FPLEN are
 * unsigned decimal, LAST_TIME is signed decimal (epoch seconds, 0 for
 * none), FPHEX is exactly 16 hex digits. PATH (the rest of the line, never
 * empty) and LINE (the rest of the line after "carry ", may be empty) are
 * escaped: a backslash is written "\\", every byte below 0x20 and 0x7f as
 * "\xHH"; all other bytes are written as they are. Anything else is a
 * corrupt file: a missing header or end line, an unknown keyword, a number
 * that does not parse or fit, an unknown escape or an unescaped control
 * byte, a line longer than STATE_LINE_MAX, more than STATE_FILES_MAX file
 * lines, the same path twice, more carried bytes than state_carry_line
 * accepts, or anything after the end line.
 */
#ifndef EXIMEXPLAIN_STATE_H
#define EXIMEXPLAIN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

/* How many bytes of a file's start identify it (decompressed for gzip). */
#define STATE_FINGERPRINT_MAX 4096
/* The carried lines together, each counted as its length plus one, may
 * not exceed this; nor may one carried line exceed STATE_CARRY_LINE_MAX
 * (at least INPUT_LINE_MAX, so any line input hands out can be carried). */
#define STATE_CARRY_MAX_BYTES (8u << 20)
#define STATE_CARRY_LINE_MAX (256u * 1024)
/* A saved path longer than this is refused (state_set_file). */
#define STATE_PATH_MAX 4096u
/* Input files a state may remember. */
#define STATE_FILES_MAX 1024u
/* The longest line of a state file, newline excluded: a carried line of
 * STATE_CARRY_LINE_MAX bytes, every one escaped as \xHH, plus "carry ". */
#define STATE_LINE_MAX (4u * STATE_CARRY_LINE_MAX + 64u)

/* One input file as it was last read. */
struct state_file {
	char *path;                  /* as given on the command line */
	uint64_t device, inode;
	uint64_t offset;             /* bytes consumed (decompressed bytes for gzip) */
	int64_t last_time;           /* epoch of the last timestamp read, 0 for none */
	uint64_t fingerprint;        /* text_hash(TEXT_HASH_SEED, ...) of the first
	                                fingerprint_length (decompressed) bytes */
	uint32_t fingerprint_length; /* min(file length, STATE_FINGERPRINT_MAX) when saved */
};

struct state;

/* An empty state: no files, no carried lines. */
struct state *state_new(void);
void state_free(struct state *state);

/* Load the state file at path. *existed and *corrupt are set (either may
 * be NULL). A missing file is a first run: an empty state, *existed false.
 * A corrupt or cut-short file is warned about, naming path:line and what
 * is wrong, and gives an empty state with *corrupt true, so the run
 * behaves like a first run. NULL (with a warning naming the file and the
 * cause) only when the file exists but cannot be read: a broken
 * environment, which the caller must not paper over by starting afresh. */
struct state *state_load(const char *path, bool *existed, bool *corrupt);

/* Save atomically: a temporary file (path.XXXXXX, mode 0600) beside it is
 * written, flushed and synced, renamed over path, and the directory is
 * synced. On failure: a warning naming path and the cause, false, the
 * temporary file removed and the old file untouched -- except when only
 * the final directory sync fails, after which the new file is in place
 * (but may not survive a crash) and false is still returned. */
bool state_save(const struct state *state, const char *path);

size_t state_file_count(const struct state *state);
/* The i-th file (i < state_file_count), in the order first set. */
const struct state_file *state_file_at(const struct state *state, size_t i);
/* The file saved under exactly this path, or NULL. */
const struct state_file *state_find_file(const struct state *state, const char *path);
/* Copy file (and its path) in, replacing the entry with the same path.
 * false, and nothing changed, when the path is empty or longer than
 * STATE_PATH_MAX, or when it is new and STATE_FILES_MAX are held. */
bool state_set_file(struct state *state, const struct state_file *file);

/* Carried lines: the raw log lines of messages still open when a run
 * ended, without their newlines. Any bytes (NUL, CR, LF, invalid UTF-8)
 * round-trip exactly through save and load. A line that would take the
 * total past STATE_CARRY_MAX_BYTES, or is longer than STATE_CARRY_LINE_MAX,
 * is dropped and false returned (the caller warns once). */
bool state_carry_line(struct state *state, struct text line);
size_t state_carried_count(const struct state *state);
/* The i-th carried line (i < state_carried_count), in the order carried. */
struct text state_carried_line(const struct state *state, size_t i);
void state_clear_carried(struct state *state);

/* Identify the regular file at path: its device and inode, and the
 * fingerprint of its first min(length, max_length) bytes, decompressed
 * when it is gzip (by its magic bytes). out->path is set to NULL, offset
 * and last_time to 0. false when it cannot be opened or read, with errno
 * kept, or is not a regular file (errno EINVAL): a FIFO is never opened
 * for reading, so nothing is taken from it. */
bool state_identify(const char *path, uint32_t max_length, struct state_file *out);

/* Why a read starts where it does. */
enum state_start_reason {
	STATE_NEW_FILE,     /* not in the saved state: from the start */
	STATE_CONTINUE,     /* the same file, grown or not: from the saved offset */
	STATE_TRUNCATED,    /* the same inode but shorter, or its start changed
	                       (copytruncate): from the start */
	STATE_REPLACED,     /* another file at that path (rotated): from the start */
	STATE_ROTATED_OLD,  /* the file read last time, now under a rotated name:
	                       from the saved offset */
};

struct state_read {
	char *path;                     /* the file to read: the given path or a
	                                   rotated sibling such as X.1, X.1.gz */
	uint64_t start_offset;          /* (decompressed) bytes to skip */
	enum state_start_reason reason;
	const char *given;              /* the command-line path it serves (borrowed) */
};

struct state_plan {
	struct state_read *reads;
	size_t count;
};

/* Where to read each given path from, in the order given; saved may be
 * NULL (a first run). Per path:
 * - not in saved: the path from 0 (STATE_NEW_FILE);
 * - the same device and inode, its first fingerprint_length bytes still
 *   hashing to the fingerprint, and (unless gzip) at least offset bytes
 *   long: the path from offset (STATE_CONTINUE);
 * - the same inode otherwise: the path from 0 (STATE_TRUNCATED);
 * - another inode, or no file there: the path from 0 (STATE_REPLACED).
 * In the last two cases the rest of the old contents is looked for among
 * the siblings in the same directory named as the path followed by '.' or
 * '-' and anything (X.1, X.1.gz, X-20261122, X-20261122.gz). A sibling is
 * the old file when its first fingerprint_length (decompressed) bytes hash
 * to the fingerprint and either it has the old device and inode (renamed
 * by logrotate) or, when fingerprint_length > 0, it is a copy (gzip'd, or
 * plain and at least offset long: copytruncate's copy); the one with the
 * old inode first, then the first by name. When found, a read of it from
 * offset (STATE_ROTATED_OLD) comes just before the path's own read. When
 * not, a warning says lines logged between the runs may be missed.
 * A path that cannot be opened stays in the plan, so the reader reports
 * it. Paths are taken literally: "-" is a file named "-". */
struct state_plan state_plan_reads(const struct state *saved, const char *const *paths,
                                   size_t count);
/* Frees the plan's paths and array; accepts NULL. */
void state_plan_release(struct state_plan *plan);

/* "new file", "continue", ... for diagnostics and tests. */
const char *state_start_reason_name(enum state_start_reason reason);

#endif
