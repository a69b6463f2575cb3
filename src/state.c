/*
 * state: what --state remembers between runs, and the read plan drawn
 * from it. The state file is parsed strictly, line by line with a length
 * cap, so a damaged file is recognised as such and never trusted in part;
 * it is written beside its final name and renamed over it, so a crash
 * leaves the old file or the new one, never half of either.
 *
 * It must never: read a log beyond the first STATE_FINGERPRINT_MAX bytes,
 * open a file that is not a regular file for reading, or guess a rotated
 * file by its name alone (the name only says where to look; the inode or
 * the fingerprint says which file it is).
 */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "input.h"
#include "msg.h"
#include "strbuf.h"
#include "xalloc.h"

_Static_assert(STATE_CARRY_LINE_MAX >= INPUT_LINE_MAX,
               "every line input hands out must be carriable");
_Static_assert(4 * STATE_PATH_MAX + 200 <= STATE_LINE_MAX,
               "a file line with the longest path must load again");

#define STATE_HEADER "eximexplain-state 1"
/* Saving writes in pieces of about this size. */
#define WRITE_CHUNK (64 * 1024)

struct carried {
	size_t offset, length; /* within carried_bytes */
};

struct state {
	struct state_file *files;
	size_t file_count, file_capacity;
	struct strbuf carried_bytes; /* every carried line, back to back */
	struct carried *carried;
	size_t carried_count, carried_capacity;
	size_t carried_cost;         /* sum of length + 1, against STATE_CARRY_MAX_BYTES */
};

/* ---- the state in memory ---- */

/* array with room for one more than count elements of size bytes. */
static void *grow(void *array, size_t *capacity, size_t count, size_t size)
{
	if (count < *capacity)
		return array;
	*capacity = *capacity ? *capacity * 2 : 8;
	return xreallocarray(array, *capacity, size);
}

struct state *state_new(void)
{
	struct state *state = xcalloc(1, sizeof *state);
	strbuf_init(&state->carried_bytes);
	return state;
}

void state_free(struct state *state)
{
	if (state == NULL)
		return;
	for (size_t i = 0; i < state->file_count; i++)
		free(state->files[i].path);
	free(state->files);
	strbuf_release(&state->carried_bytes);
	free(state->carried);
	free(state);
}

size_t state_file_count(const struct state *state)
{
	return state->file_count;
}

const struct state_file *state_file_at(const struct state *state, size_t i)
{
	return &state->files[i];
}

/* The index of path's entry, or file_count. */
static size_t file_index(const struct state *state, const char *path)
{
	size_t i = 0;
	while (i < state->file_count && strcmp(state->files[i].path, path) != 0)
		i++;
	return i;
}

const struct state_file *state_find_file(const struct state *state, const char *path)
{
	size_t i = file_index(state, path);
	return i < state->file_count ? &state->files[i] : NULL;
}

bool state_set_file(struct state *state, const struct state_file *file)
{
	size_t length = file->path ? strlen(file->path) : 0;
	if (length == 0 || length > STATE_PATH_MAX ||
	    file->fingerprint_length > STATE_FINGERPRINT_MAX)
		return false;
	size_t i = file_index(state, file->path);
	if (i == state->file_count && state->file_count == STATE_FILES_MAX)
		return false;
	char *path = xstrdup(file->path); /* before freeing: file may be ours */
	if (i == state->file_count) {
		state->files = grow(state->files, &state->file_capacity, state->file_count,
		                    sizeof *state->files);
		state->file_count++;
	} else {
		/* i < file_count here, so files is allocated */
		/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
		free(state->files[i].path);
	}
	state->files[i] = *file;
	state->files[i].path = path;
	return true;
}

bool state_carry_line(struct state *state, struct text line)
{
	if (line.len > STATE_CARRY_LINE_MAX ||
	    line.len + 1 > STATE_CARRY_MAX_BYTES - state->carried_cost)
		return false;
	state->carried = grow(state->carried, &state->carried_capacity, state->carried_count,
	                      sizeof *state->carried);
	state->carried[state->carried_count++] =
		(struct carried){ state->carried_bytes.len, line.len };
	if (line.len)
		strbuf_append(&state->carried_bytes, line.ptr, line.len);
	state->carried_cost += line.len + 1;
	return true;
}

size_t state_carried_count(const struct state *state)
{
	return state->carried_count;
}

struct text state_carried_line(const struct state *state, size_t i)
{
	const struct carried *c = &state->carried[i];
	if (c->length == 0)
		return text_make("", 0);
	return text_make(state->carried_bytes.data + c->offset, c->length);
}

void state_clear_carried(struct state *state)
{
	strbuf_reset(&state->carried_bytes);
	state->carried_count = 0;
	state->carried_cost = 0;
}

/* ---- escaping ---- */

static void append_escaped(struct strbuf *sb, const char *bytes, size_t length)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < length; i++) {
		unsigned char c = (unsigned char)bytes[i];
		if (c == '\\') {
			strbuf_append(sb, "\\\\", 2);
		} else if (c < 0x20 || c == 0x7f) {
			char escape[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
			strbuf_append(sb, escape, sizeof escape);
		} else {
			strbuf_append_char(sb, (char)c);
		}
	}
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The bytes escaped stands for, into out; NULL, or what is wrong. */
static const char *unescape(struct text escaped, struct strbuf *out)
{
	strbuf_reset(out);
	const char *p = escaped.ptr;
	for (size_t i = 0; i < escaped.len; i++) {
		unsigned char c = (unsigned char)p[i];
		size_t left = escaped.len - i - 1;
		if (c < 0x20 || c == 0x7f)
			return "a control byte that should have been escaped";
		if (c != '\\') {
			strbuf_append_char(out, (char)c);
		} else if (left >= 1 && p[i + 1] == '\\') {
			strbuf_append_char(out, '\\');
			i += 1;
		} else if (left >= 3 && p[i + 1] == 'x' && hex_value(p[i + 2]) >= 0 &&
		           hex_value(p[i + 3]) >= 0) {
			strbuf_append_char(out, (char)(hex_value(p[i + 2]) * 16 + hex_value(p[i + 3])));
			i += 3;
		} else {
			return "a backslash that starts neither \\\\ nor \\xHH";
		}
	}
	return NULL;
}

/* ---- parsing a state file's fields ---- */

/* Decimal digits only, at most max. */
static bool parse_unsigned(struct text t, uint64_t max, uint64_t *out)
{
	if (t.len == 0 || t.len > 20)
		return false;
	uint64_t value = 0;
	for (size_t i = 0; i < t.len; i++) {
		if (t.ptr[i] < '0' || t.ptr[i] > '9')
			return false;
		unsigned digit = (unsigned)(t.ptr[i] - '0');
		if (value > (max - digit) / 10)
			return false;
		value = value * 10 + digit;
	}
	*out = value;
	return true;
}

static bool parse_signed(struct text t, int64_t *out)
{
	bool negative = t.len > 0 && t.ptr[0] == '-';
	uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	uint64_t magnitude;
	if (!parse_unsigned(text_skip(t, negative ? 1 : 0), limit, &magnitude))
		return false;
	if (!negative)
		*out = (int64_t)magnitude;
	else if (magnitude == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)magnitude;
	return true;
}

/* Exactly 16 hex digits. */
static bool parse_hex64(struct text t, uint64_t *out)
{
	if (t.len != 16)
		return false;
	uint64_t value = 0;
	for (size_t i = 0; i < t.len; i++) {
		int digit = hex_value(t.ptr[i]);
		if (digit < 0)
			return false;
		value = value << 4 | (uint64_t)digit;
	}
	*out = value;
	return true;
}

/* The text before the next space of *rest; *rest moves past the space. */
static bool next_field(struct text *rest, struct text *field)
{
	if (rest->len == 0)
		return false;
	const char *space = memchr(rest->ptr, ' ', rest->len);
	if (space == NULL)
		return false;
	*field = text_make(rest->ptr, (size_t)(space - rest->ptr));
	*rest = text_skip(*rest, field->len + 1);
	return true;
}

/* ---- loading ---- */

enum line_status { LINE_READ, LINE_END_OF_FILE, LINE_UNTERMINATED, LINE_TOO_LONG, LINE_ERROR };

struct loader {
	FILE *file;
	unsigned long line_number;
	struct strbuf line;     /* the current line, without its newline */
	struct strbuf bytes;    /* an unescaped field of it */
	struct state *state;
	uint64_t records;       /* file and carry lines so far */
	int read_errno;         /* set when reading failed: not a corrupt file */
};

static enum line_status read_line(FILE *file, struct strbuf *line)
{
	strbuf_reset(line);
	int c;
	while ((c = getc_unlocked(file)) != EOF) {
		if (c == '\n')
			return LINE_READ;
		if (line->len == STATE_LINE_MAX)
			return LINE_TOO_LONG;
		strbuf_append_char(line, (char)c);
	}
	if (ferror(file))
		return LINE_ERROR;
	return line->len == 0 ? LINE_END_OF_FILE : LINE_UNTERMINATED;
}

/* NULL when a whole line was read, else what is wrong. */
static const char *next_line(struct loader *loader)
{
	loader->line_number++;
	switch (read_line(loader->file, &loader->line)) {
	case LINE_READ:
		return NULL;
	case LINE_END_OF_FILE:
		return "the file ends before its \"end\" line (cut short?)";
	case LINE_UNTERMINATED:
		return "the last line has no newline (cut short?)";
	case LINE_TOO_LONG:
		return "the line is too long";
	case LINE_ERROR:
		break;
	}
	loader->read_errno = errno ? errno : EIO;
	return "read error";
}

static const char *parse_file_line(struct loader *loader, struct text rest)
{
	struct text device, inode, offset, last_time, length, fingerprint;
	if (!next_field(&rest, &device) || !next_field(&rest, &inode) ||
	    !next_field(&rest, &offset) || !next_field(&rest, &last_time) ||
	    !next_field(&rest, &length) || !next_field(&rest, &fingerprint))
		return "a file line needs DEVICE INODE OFFSET LAST_TIME FPLEN FPHEX PATH";
	struct state_file file = { 0 };
	uint64_t fingerprint_length;
	if (!parse_unsigned(device, UINT64_MAX, &file.device))
		return "DEVICE is not a decimal number";
	if (!parse_unsigned(inode, UINT64_MAX, &file.inode))
		return "INODE is not a decimal number";
	if (!parse_unsigned(offset, UINT64_MAX, &file.offset))
		return "OFFSET is not a decimal number";
	if (!parse_signed(last_time, &file.last_time))
		return "LAST_TIME is not a decimal number";
	if (!parse_unsigned(length, STATE_FINGERPRINT_MAX, &fingerprint_length))
		return "FPLEN is not a decimal number within the fingerprint size";
	if (!parse_hex64(fingerprint, &file.fingerprint))
		return "FPHEX is not 16 hex digits";
	file.fingerprint_length = (uint32_t)fingerprint_length;
	const char *problem = unescape(rest, &loader->bytes);
	if (problem != NULL)
		return problem;
	if (loader->bytes.len == 0 || memchr(loader->bytes.data, '\0', loader->bytes.len))
		return "PATH is empty or holds a NUL byte";
	if (state_find_file(loader->state, loader->bytes.data) != NULL)
		return "the same PATH a second time";
	file.path = loader->bytes.data;
	if (!state_set_file(loader->state, &file))
		return "too many file lines, or PATH too long";
	loader->records++;
	return NULL;
}

static const char *parse_carry_line(struct loader *loader, struct text rest)
{
	const char *problem = unescape(rest, &loader->bytes);
	if (problem != NULL)
		return problem;
	if (!state_carry_line(loader->state, strbuf_text(&loader->bytes)))
		return "more carried bytes than a state may hold";
	loader->records++;
	return NULL;
}

static const char *parse_end_line(struct loader *loader, struct text rest)
{
	uint64_t count;
	if (!parse_unsigned(rest, UINT64_MAX, &count))
		return "COUNT on the end line is not a decimal number";
	if (count != loader->records)
		return "COUNT on the end line does not match the lines before it";
	int c = getc_unlocked(loader->file);
	if (c != EOF) {
		loader->line_number++;
		return "something follows the end line";
	}
	if (ferror(loader->file)) {
		loader->read_errno = errno ? errno : EIO;
		return "read error";
	}
	return NULL;
}

static const char *parse_record(struct loader *loader, bool *ended)
{
	struct text line = strbuf_text(&loader->line);
	if (text_starts_with(line, "file "))
		return parse_file_line(loader, text_skip(line, 5));
	if (text_starts_with(line, "carry "))
		return parse_carry_line(loader, text_skip(line, 6));
	if (text_starts_with(line, "end ")) {
		*ended = true;
		return parse_end_line(loader, text_skip(line, 4));
	}
	return "not a file, carry or end line";
}

/* NULL when the whole file is good, else what is wrong. */
static const char *load_records(struct loader *loader)
{
	const char *problem = next_line(loader);
	if (problem != NULL)
		return problem;
	struct text header = strbuf_text(&loader->line);
	if (text_starts_with(header, "eximexplain-state ") && !text_equals(header, STATE_HEADER))
		return "a state file version this eximexplain does not know";
	if (!text_equals(header, STATE_HEADER))
		return "not an eximexplain state file (no \"" STATE_HEADER "\" first line)";
	bool ended = false;
	while (problem == NULL && !ended) {
		problem = next_line(loader);
		if (problem == NULL)
			problem = parse_record(loader, &ended);
	}
	return problem;
}

static void set_flag(bool *flag, bool value)
{
	if (flag != NULL)
		*flag = value;
}

struct state *state_load(const char *path, bool *existed, bool *corrupt)
{
	set_flag(existed, false);
	set_flag(corrupt, false);
	FILE *file = fopen(path, "re");
	if (file == NULL && errno == ENOENT)
		return state_new();
	if (file == NULL) {
		msg_warn("%s: cannot open the state file: %s", path, strerror(errno));
		return NULL;
	}
	set_flag(existed, true);
	struct loader loader = { .file = file, .state = state_new() };
	const char *problem = load_records(&loader);
	fclose(file);
	strbuf_release(&loader.line);
	strbuf_release(&loader.bytes);
	if (problem == NULL)
		return loader.state;
	state_free(loader.state);
	if (loader.read_errno != 0) {
		msg_warn("%s: cannot read the state file: %s", path, strerror(loader.read_errno));
		return NULL;
	}
	msg_warn("%s:%lu: %s; the state file is ignored and every file read from the start",
	         path, loader.line_number, problem);
	set_flag(corrupt, true);
	return state_new();
}

/* ---- saving ---- */

/* 0, or the errno of the failure. */
static int write_all(int fd, const char *bytes, size_t length)
{
	while (length > 0) {
		ssize_t n = write(fd, bytes, length);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		bytes += n;
		length -= (size_t)n;
	}
	return 0;
}

/* Write out what sb holds once it is big, or when told to. */
static int flush_pending(int fd, struct strbuf *sb, bool force)
{
	if (sb->len < WRITE_CHUNK && !force)
		return 0;
	int error = write_all(fd, sb->data, sb->len);
	strbuf_reset(sb);
	return error;
}

static void format_file_line(struct strbuf *sb, const struct state_file *file)
{
	strbuf_printf(sb, "file %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64 " %" PRIu32
	                  " %016" PRIx64 " ",
	              file->device, file->inode, file->offset, file->last_time,
	              file->fingerprint_length, file->fingerprint);
	append_escaped(sb, file->path, strlen(file->path));
	strbuf_append_char(sb, '\n');
}

static int write_state(int fd, const struct state *state)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_append_str(&sb, STATE_HEADER "\n");
	int error = 0;
	for (size_t i = 0; i < state->file_count && error == 0; i++) {
		format_file_line(&sb, &state->files[i]);
		error = flush_pending(fd, &sb, false);
	}
	for (size_t i = 0; i < state->carried_count && error == 0; i++) {
		struct text line = state_carried_line(state, i);
		strbuf_append_str(&sb, "carry ");
		append_escaped(&sb, line.ptr, line.len);
		strbuf_append_char(&sb, '\n');
		error = flush_pending(fd, &sb, false);
	}
	if (error == 0) {
		strbuf_printf(&sb, "end %zu\n", state->file_count + state->carried_count);
		error = flush_pending(fd, &sb, true);
	}
	strbuf_release(&sb);
	return error;
}

/* Write, sync and close fd: 0, or the errno of the first failure. */
static int write_and_sync(int fd, const struct state *state)
{
	int error = write_state(fd, state);
	if (error == 0 && fsync(fd) != 0)
		error = errno;
	if (close(fd) != 0 && error == 0)
		error = errno;
	return error;
}

/* The directory path is in: "." when it has no slash. */
static char *directory_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xmemdup(path, (size_t)(slash - path));
}

/* So that the rename itself survives a crash. */
static bool sync_directory(const char *path)
{
	char *directory = directory_of(path);
	int fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int error = fd < 0 ? errno : 0;
	if (fd >= 0 && fsync(fd) != 0 && errno != EINVAL) /* EINVAL: cannot be synced */
		error = errno;
	if (fd >= 0)
		close(fd);
	free(directory);
	if (error != 0)
		msg_warn("%s: saved, but its directory could not be synced, so the new state "
		         "may not survive a crash: %s", path, strerror(error));
	return error == 0;
}

bool state_save(const struct state *state, const char *path)
{
	size_t length = strlen(path);
	char *temporary = xmalloc(length + sizeof ".XXXXXX");
	memcpy(temporary, path, length);
	memcpy(temporary + length, ".XXXXXX", sizeof ".XXXXXX");
	int fd = mkstemp(temporary);
	if (fd < 0) {
		msg_warn("%s: cannot create a temporary file beside it to save the state: %s",
		         path, strerror(errno));
		free(temporary);
		return false;
	}
	int error = write_and_sync(fd, state);
	if (error == 0 && rename(temporary, path) != 0)
		error = errno;
	if (error != 0) {
		unlink(temporary);
		msg_warn("%s: cannot save the state: %s", path, strerror(error));
	}
	free(temporary);
	return error == 0 && sync_directory(path);
}

/* ---- identifying files ---- */

struct identity {
	uint64_t device, inode;
	uint64_t size;          /* on disk: compressed for gzip */
	bool gzip;
	uint64_t fingerprint;
	uint32_t fingerprint_length;
};

/* Hash up to max_length (decompressed) bytes from the start of gz. */
static bool hash_start(gzFile gz, uint32_t max_length, struct identity *id)
{
	char chunk[STATE_FINGERPRINT_MAX];
	uint64_t hash = TEXT_HASH_SEED;
	uint32_t length = 0;
	while (length < max_length) {
		uint32_t want = max_length - length;
		int n = gzread(gz, chunk, want < sizeof chunk ? want : (unsigned)sizeof chunk);
		if (n < 0)
			return false;
		if (n == 0)
			break;
		hash = text_hash(hash, chunk, (size_t)n);
		length += (uint32_t)n;
	}
	id->fingerprint = hash;
	id->fingerprint_length = length;
	id->gzip = gzdirect(gz) == 0;
	return true;
}

static int gz_errno(gzFile gz)
{
	int code;
	gzerror(gz, &code);
	return code == Z_ERRNO && errno != 0 ? errno : EIO;
}

static bool identify(const char *path, uint32_t max_length, struct identity *id)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return false;
	struct stat st;
	int error = fstat(fd, &st) != 0 ? errno : S_ISREG(st.st_mode) ? 0 : EINVAL;
	gzFile gz = error == 0 ? gzdopen(fd, "rb") : NULL;
	if (gz == NULL) {
		close(fd);
		errno = error ? error : ENOMEM;
		return false;
	}
	id->device = (uint64_t)st.st_dev;
	id->inode = (uint64_t)st.st_ino;
	id->size = (uint64_t)st.st_size;
	bool ok = hash_start(gz, max_length, id);
	error = ok ? 0 : gz_errno(gz);
	gzclose_r(gz);
	errno = error;
	return ok;
}

bool state_identify(const char *path, uint32_t max_length, struct state_file *out)
{
	struct identity id;
	if (max_length > STATE_FINGERPRINT_MAX)
		max_length = STATE_FINGERPRINT_MAX;
	if (!identify(path, max_length, &id))
		return false;
	*out = (struct state_file){
		.device = id.device,
		.inode = id.inode,
		.fingerprint = id.fingerprint,
		.fingerprint_length = id.fingerprint_length,
	};
	return true;
}

/* ---- the read plan ---- */

static bool same_start(const struct identity *id, const struct state_file *old)
{
	return id->fingerprint_length == old->fingerprint_length &&
	       id->fingerprint == old->fingerprint;
}

static bool same_inode(const struct identity *id, const struct state_file *old)
{
	return id->device == old->device && id->inode == old->inode;
}

static bool long_enough(const struct identity *id, const struct state_file *old)
{
	return id->gzip || id->size >= old->offset;
}

/* How surely a sibling is the old file; better matches are larger. */
enum sibling_match { MATCH_NONE, MATCH_COPY, MATCH_INODE };

static enum sibling_match sibling_match(const struct identity *id, const struct state_file *old)
{
	if (!same_start(id, old))
		return MATCH_NONE;
	if (same_inode(id, old))
		return MATCH_INODE;
	/* an empty start matches anything: only the inode can tell */
	if (old->fingerprint_length > 0 && long_enough(id, old))
		return MATCH_COPY;
	return MATCH_NONE;
}

/* name is base followed by '.' or '-' and at least one more byte. */
static bool is_sibling_name(const char *base, size_t base_length, const char *name)
{
	return strncmp(name, base, base_length) == 0 &&
	       (name[base_length] == '.' || name[base_length] == '-') &&
	       name[base_length + 1] != '\0';
}

struct sibling_search {
	const struct state_file *old;
	char *best;               /* path of the best match so far */
	enum sibling_match best_match;
};

static void consider_sibling(struct sibling_search *search, const char *directory_prefix,
                             size_t prefix_length, const char *name)
{
	size_t name_length = strlen(name);
	char *path = xmalloc(prefix_length + name_length + 1);
	memcpy(path, directory_prefix, prefix_length);
	memcpy(path + prefix_length, name, name_length + 1);
	struct identity id;
	enum sibling_match match = MATCH_NONE;
	if (identify(path, search->old->fingerprint_length, &id))
		match = sibling_match(&id, search->old);
	if (match > search->best_match ||
	    (match != MATCH_NONE && match == search->best_match && strcmp(path, search->best) < 0)) {
		free(search->best);
		search->best = path;
		search->best_match = match;
	} else {
		free(path);
	}
}

/* The old contents of given under a rotated name beside it, or NULL. */
static char *find_old_file(const char *given, const struct state_file *old)
{
	const char *slash = strrchr(given, '/');
	const char *base = slash ? slash + 1 : given;
	size_t base_length = strlen(base);
	if (base_length == 0)
		return NULL;
	char *directory = directory_of(given);
	DIR *dir = opendir(directory);
	free(directory);
	if (dir == NULL)
		return NULL;
	struct sibling_search search = { old, NULL, MATCH_NONE };
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL)
		if (is_sibling_name(base, base_length, entry->d_name))
			consider_sibling(&search, given, (size_t)(base - given), entry->d_name);
	closedir(dir);
	return search.best;
}

struct planner {
	struct state_plan plan;
	size_t capacity;
};

/* Append a read of path (which the plan takes over). */
static void plan_add(struct planner *planner, char *path, uint64_t offset,
                     enum state_start_reason reason, const char *given)
{
	struct state_plan *plan = &planner->plan;
	plan->reads = grow(plan->reads, &planner->capacity, plan->count, sizeof *plan->reads);
	plan->reads[plan->count++] = (struct state_read){ path, offset, reason, given };
}

static void warn_old_lost(const char *given, const struct state_file *old,
                          enum state_start_reason reason)
{
	const char *what = reason == STATE_TRUNCATED
		? "shrank or was rewritten since the last run (copytruncate?)"
		: "is not the file read at the last run (rotated?)";
	msg_warn("%s: %s, and the rest of the old file (from byte %" PRIu64 ") was not found "
	         "beside it; lines logged in between may be missed", given, what, old->offset);
}

static void plan_path(struct planner *planner, const struct state *saved, const char *given)
{
	const struct state_file *old = saved ? state_find_file(saved, given) : NULL;
	if (old == NULL) {
		plan_add(planner, xstrdup(given), 0, STATE_NEW_FILE, given);
		return;
	}
	struct identity now;
	bool same = identify(given, old->fingerprint_length, &now) && same_inode(&now, old);
	if (same && same_start(&now, old) && long_enough(&now, old)) {
		plan_add(planner, xstrdup(given), old->offset, STATE_CONTINUE, given);
		return;
	}
	enum state_start_reason reason = same ? STATE_TRUNCATED : STATE_REPLACED;
	char *rest = find_old_file(given, old);
	if (rest != NULL)
		plan_add(planner, rest, old->offset, STATE_ROTATED_OLD, given);
	else
		warn_old_lost(given, old, reason);
	plan_add(planner, xstrdup(given), 0, reason, given);
}

struct state_plan state_plan_reads(const struct state *saved, const char *const *paths,
                                   size_t count)
{
	struct planner planner = { { NULL, 0 }, 0 };
	for (size_t i = 0; i < count; i++)
		plan_path(&planner, saved, paths[i]);
	return planner.plan;
}

void state_plan_release(struct state_plan *plan)
{
	if (plan == NULL)
		return;
	for (size_t i = 0; i < plan->count; i++)
		free(plan->reads[i].path);
	free(plan->reads);
	plan->reads = NULL;
	plan->count = 0;
}

const char *state_start_reason_name(enum state_start_reason reason)
{
	switch (reason) {
	case STATE_NEW_FILE:
		return "new file";
	case STATE_CONTINUE:
		return "continue";
	case STATE_TRUNCATED:
		return "truncated";
	case STATE_REPLACED:
		return "replaced";
	case STATE_ROTATED_OLD:
		return "rotated old file";
	}
	return "?";
}
