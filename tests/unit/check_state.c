/*
 * state tests: the state file round trip (any bytes in carried lines and
 * paths), every way a state file can be damaged, atomic saving (with
 * failures that happen even as root), the carry cap, identifying files,
 * and the read plan across appends, copytruncate and logrotate's rename,
 * gzip and dateext, all in fresh directories under /tmp.
 *
 * Tests that replace fd 2 or lower RLIMIT_FSIZE rely on Check's default
 * fork mode: each test runs in its own process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "strbuf.h"
#include "suites.h"
#include "test_support.h"

#define LOG_A1 "2026-11-21 23:50:01 1tAAAA-000001-AB <= alice@example.org H=mx.example.org [192.0.2.1] P=esmtp S=1234\n"
#define LOG_A2 "2026-11-21 23:50:02 1tAAAA-000001-AB => bob@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.7]\n"
#define LOG_A3 "2026-11-21 23:50:02 1tAAAA-000001-AB Completed\n"
#define LOG_A4 "2026-11-21 23:58:40 1tAAAB-000002-CD <= carol@example.org H=mx.example.org [192.0.2.1] P=esmtp S=987\n"
#define LOG_B1 "2026-11-22 00:00:03 1tAAAC-000003-EF <= dave@example.org H=mx.example.org [192.0.2.1] P=esmtp S=555\n"
#define LOG_B2 "2026-11-22 00:00:04 1tAAAC-000003-EF Completed\n"
#define LOG_C1 "2026-11-20 06:25:01 1tAAAZ-000009-ZZ <= erin@example.org H=mx.example.org [192.0.2.1] P=esmtp S=42\n"

/* ---- helpers ---- */

/* A fresh directory with the names the tests use in it. */
struct logdir {
	char *dir;
	char *log;     /* dir/mainlog */
	char *state;   /* dir/state */
	char *errors;  /* dir/stderr: what a capture_stderr() caught */
};

static struct logdir logdir_new(void)
{
	struct logdir d;
	d.dir = make_temp_dir();
	d.log = path_in(d.dir, "mainlog");
	d.state = path_in(d.dir, "state");
	d.errors = path_in(d.dir, "stderr");
	return d;
}

static void logdir_free(struct logdir *d)
{
	remove_tree(d->dir);
	free(d->dir);
	free(d->log);
	free(d->state);
	free(d->errors);
}

static char *slurp(const char *path, size_t *length)
{
	size_t ignored;
	char *bytes = read_file(path, length ? length : &ignored);
	ck_assert_msg(bytes != NULL, "%s: %s", path, strerror(errno));
	return bytes;
}

#define assert_said(said, expected)                                              \
	ck_assert_msg(strstr(said, expected) != NULL, "stderr lacks \"%s\": \"%s\"", \
	              expected, said)

static void append_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "ab");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static uint64_t inode_of(const char *path)
{
	struct stat st;
	ck_assert_msg(stat(path, &st) == 0, "%s: %s", path, strerror(errno));
	return (uint64_t)st.st_ino;
}

/* Entries of dir whose names start with prefix. */
static size_t count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	size_t count = 0;
	struct dirent *entry;
	while ((entry = readdir(d)) != NULL)
		if (strncmp(entry->d_name, prefix, strlen(prefix)) == 0)
			count++;
	closedir(d);
	return count;
}

/* What a run does at its end for a file it read up to offset. */
static void remember(struct state *state, const char *path, uint64_t offset)
{
	struct state_file file;
	ck_assert_msg(state_identify(path, STATE_FINGERPRINT_MAX, &file), "%s: %s", path,
	              strerror(errno));
	file.path = (char *)path;
	file.offset = offset;
	file.last_time = 1795305000;
	ck_assert(state_set_file(state, &file));
}

/* Save state to path and load it back, as the next cron run would. */
static struct state *through_disk(struct state *state, const char *path)
{
	ck_assert(state_save(state, path));
	state_free(state);
	bool existed = false, corrupt = true;
	struct state *loaded = state_load(path, &existed, &corrupt);
	ck_assert_ptr_nonnull(loaded);
	ck_assert(existed);
	ck_assert(!corrupt);
	return loaded;
}

/* The plan for d->log alone; what it said on stderr in *said. */
static struct state_plan plan_log(const struct logdir *d, const struct state *saved, char **said)
{
	const char *paths[] = { d->log };
	int fd = capture_stderr(d->errors);
	struct state_plan plan = state_plan_reads(saved, paths, 1);
	restore_stderr(fd);
	*said = slurp(d->errors, NULL);
	for (size_t i = 0; i < plan.count; i++)
		ck_assert_ptr_eq(plan.reads[i].given, d->log);
	return plan;
}

#define assert_plan_count(plan, n)                                                     \
	ck_assert_msg((plan).count == (n), "plan has %zu reads, expected %zu", (plan).count, \
	              (size_t)(n))

#define assert_read(plan, i, want_path, want_offset, want_reason)                           \
	do {                                                                                \
		ck_assert_msg((size_t)(i) < (plan).count, "read %d missing", (int)(i));     \
		const struct state_read *read_ = &(plan).reads[i];                          \
		ck_assert_str_eq(read_->path, want_path);                                   \
		ck_assert_msg(read_->start_offset == (uint64_t)(want_offset),               \
		              "read %d: starts at %llu, expected %llu", (int)(i),           \
		              (unsigned long long)read_->start_offset,                      \
		              (unsigned long long)(want_offset));                           \
		ck_assert_msg(read_->reason == (want_reason), "read %d: %s, expected %s",   \
		              (int)(i), state_start_reason_name(read_->reason),             \
		              state_start_reason_name(want_reason));                        \
	} while (0)

static void assert_empty_state(const struct state *state)
{
	ck_assert_uint_eq(state_file_count(state), 0);
	ck_assert_uint_eq(state_carried_count(state), 0);
}

/* ---- the state in memory ---- */

START_TEST(test_set_file_copies_and_replaces)
{
	struct state *state = state_new();
	assert_empty_state(state);
	char path[] = "/var/log/exim4/mainlog";
	struct state_file file = { .path = path, .device = 1, .inode = 2, .offset = 3 };
	ck_assert(state_set_file(state, &file));
	path[1] = 'X'; /* the state keeps its own copy */
	ck_assert_ptr_null(state_find_file(state, path));
	const struct state_file *found = state_find_file(state, "/var/log/exim4/mainlog");
	ck_assert_ptr_nonnull(found);
	ck_assert_uint_eq(found->offset, 3);
	/* the same path replaces, also when set from the state's own entry */
	struct state_file again = *found;
	again.offset = 99;
	ck_assert(state_set_file(state, &again));
	ck_assert_uint_eq(state_file_count(state), 1);
	ck_assert_uint_eq(state_file_at(state, 0)->offset, 99);
	ck_assert_str_eq(state_file_at(state, 0)->path, "/var/log/exim4/mainlog");
	file.path = (char *)"second";
	ck_assert(state_set_file(state, &file));
	ck_assert_uint_eq(state_file_count(state), 2);
	ck_assert_str_eq(state_file_at(state, 1)->path, "second");
	state_free(state);
	state_free(NULL);
}
END_TEST

START_TEST(test_set_file_refusals)
{
	struct state *state = state_new();
	struct state_file file = { 0 };
	ck_assert(!state_set_file(state, &file));
	file.path = (char *)"";
	ck_assert(!state_set_file(state, &file));
	char *long_path = malloc(STATE_PATH_MAX + 2);
	memset(long_path, 'p', STATE_PATH_MAX + 1);
	long_path[STATE_PATH_MAX + 1] = '\0';
	file.path = long_path;
	ck_assert(!state_set_file(state, &file));
	long_path[STATE_PATH_MAX] = '\0';
	ck_assert(state_set_file(state, &file));
	file.path = (char *)"x";
	file.fingerprint_length = STATE_FINGERPRINT_MAX + 1;
	ck_assert(!state_set_file(state, &file));
	ck_assert_uint_eq(state_file_count(state), 1);
	free(long_path);
	state_free(state);
}
END_TEST

START_TEST(test_file_table_is_capped_and_loads_when_full)
{
	struct logdir d = logdir_new();
	struct state *state = state_new();
	char name[32];
	struct state_file file = { .path = name, .offset = 7 };
	for (unsigned i = 0; i < STATE_FILES_MAX; i++) {
		snprintf(name, sizeof name, "/var/log/f%u", i);
		ck_assert(state_set_file(state, &file));
	}
	snprintf(name, sizeof name, "/var/log/one-too-many");
	ck_assert(!state_set_file(state, &file));
	snprintf(name, sizeof name, "/var/log/f5");
	file.offset = 8;
	ck_assert(state_set_file(state, &file)); /* replacing still works */
	state = through_disk(state, d.state);
	ck_assert_uint_eq(state_file_count(state), STATE_FILES_MAX);
	ck_assert_uint_eq(state_find_file(state, "/var/log/f5")->offset, 8);
	ck_assert_uint_eq(state_find_file(state, "/var/log/f1023")->offset, 7);
	state_free(state);
	logdir_free(&d);
}
END_TEST

START_TEST(test_carry_cap)
{
	/* each line costs its length + 1: 32 lines of 262143 bytes fill the
	 * 8 MiB exactly, and then not even an empty line fits */
	size_t length = STATE_CARRY_MAX_BYTES / 32 - 1;
	char *bytes = malloc(length);
	memset(bytes, 'c', length);
	struct state *state = state_new();
	for (int i = 0; i < 32; i++)
		ck_assert_msg(state_carry_line(state, text_make(bytes, length)), "line %d", i);
	ck_assert(!state_carry_line(state, text_make("", 0)));
	ck_assert(!state_carry_line(state, text_make(bytes, 10)));
	ck_assert_uint_eq(state_carried_count(state), 32);
	ck_assert_uint_eq(state_carried_line(state, 31).len, length);
	state_clear_carried(state);
	ck_assert_uint_eq(state_carried_count(state), 0);
	ck_assert(state_carry_line(state, text_make(bytes, 10)));
	ck_assert_uint_eq(state_carried_count(state), 1);
	assert_text(state_carried_line(state, 0), "cccccccccc");
	free(bytes);
	state_free(state);
}
END_TEST

START_TEST(test_carry_line_limit)
{
	char *bytes = malloc(STATE_CARRY_LINE_MAX + 1);
	memset(bytes, 'l', STATE_CARRY_LINE_MAX + 1);
	struct state *state = state_new();
	ck_assert(!state_carry_line(state, text_make(bytes, STATE_CARRY_LINE_MAX + 1)));
	ck_assert_uint_eq(state_carried_count(state), 0);
	ck_assert(state_carry_line(state, text_make(bytes, STATE_CARRY_LINE_MAX)));
	ck_assert_uint_eq(state_carried_count(state), 1);
	free(bytes);
	state_free(state);
}
END_TEST

/* ---- saving and loading ---- */

#define BYTES(literal) { literal, sizeof literal - 1 }

static const struct {
	const char *bytes;
	size_t length;
} carried_lines[] = {
	BYTES("2026-11-22 00:00:03 1tAAAC-000003-EF <= dave@example.org"),
	BYTES("nul\0inside"),
	BYTES("cr at end\r"),
	BYTES("lf\nin the middle"),
	BYTES("\xff\xfe invalid UTF-8 \xc3"),
	BYTES(""),
	BYTES("back\\slash and \\x41 that is no escape"),
	BYTES("\x7f\x1b[31m\x01\x1f"),
	BYTES("trailing space "),
	BYTES("\\"),
};
#define CARRIED_COUNT (sizeof carried_lines / sizeof carried_lines[0])

static const char odd_path[] = "/var/log/exim 4/main log\nwith a newline\\and a backslash \xff\t";

static struct state *sample_state(void)
{
	struct state *state = state_new();
	struct state_file one = {
		.path = (char *)odd_path, .device = 2049, .inode = 1234567, .offset = 987654321,
		.last_time = 1795305000, .fingerprint = UINT64_C(0xfedcba9876543210),
		.fingerprint_length = STATE_FINGERPRINT_MAX,
	};
	struct state_file two = {
		.path = (char *)"relative", .device = UINT64_MAX, .inode = 0, .offset = UINT64_MAX,
		.last_time = INT64_MIN, .fingerprint = 0, .fingerprint_length = 0,
	};
	struct state_file three = {
		.path = (char *)"-", .device = 1, .inode = UINT64_MAX, .offset = 0,
		.last_time = INT64_MAX, .fingerprint = UINT64_MAX, .fingerprint_length = 17,
	};
	ck_assert(state_set_file(state, &one));
	ck_assert(state_set_file(state, &two));
	ck_assert(state_set_file(state, &three));
	for (size_t i = 0; i < CARRIED_COUNT; i++)
		ck_assert(state_carry_line(state, text_make(carried_lines[i].bytes,
		                                            carried_lines[i].length)));
	return state;
}

static void assert_same_file(const struct state_file *got, const struct state_file *want)
{
	ck_assert_str_eq(got->path, want->path);
	ck_assert_uint_eq(got->device, want->device);
	ck_assert_uint_eq(got->inode, want->inode);
	ck_assert_uint_eq(got->offset, want->offset);
	ck_assert_int_eq(got->last_time, want->last_time);
	ck_assert_uint_eq(got->fingerprint, want->fingerprint);
	ck_assert_uint_eq(got->fingerprint_length, want->fingerprint_length);
}

START_TEST(test_round_trip)
{
	struct logdir d = logdir_new();
	struct state *original = sample_state();
	struct state *expected = sample_state();
	struct state *loaded = through_disk(original, d.state);
	ck_assert_uint_eq(state_file_count(loaded), 3);
	for (size_t i = 0; i < 3; i++)
		assert_same_file(state_file_at(loaded, i), state_file_at(expected, i));
	ck_assert_ptr_nonnull(state_find_file(loaded, odd_path));
	ck_assert_uint_eq(state_carried_count(loaded), CARRIED_COUNT);
	for (size_t i = 0; i < CARRIED_COUNT; i++) {
		struct text got = state_carried_line(loaded, i);
		ck_assert_msg(got.len == carried_lines[i].length &&
		                  (got.len == 0 || memcmp(got.ptr, carried_lines[i].bytes, got.len) == 0),
		              "carried line %zu differs (%zu bytes)", i, got.len);
	}
	/* on disk: text lines, no raw control bytes, one record a line */
	size_t length;
	char *bytes = slurp(d.state, &length);
	size_t newlines = 0;
	for (size_t i = 0; i < length; i++) {
		unsigned char c = (unsigned char)bytes[i];
		ck_assert_msg(c == '\n' || (c >= 0x20 && c != 0x7f), "raw byte 0x%02x at %zu", c, i);
		newlines += c == '\n';
	}
	ck_assert_uint_eq(newlines, 1 + 3 + CARRIED_COUNT + 1);
	free(bytes);
	state_free(loaded);
	state_free(expected);
	logdir_free(&d);
}
END_TEST

START_TEST(test_file_format)
{
	struct logdir d = logdir_new();
	struct state *state = state_new();
	struct state_file file = {
		.path = (char *)"a b\\c\n", .device = 1, .inode = 2, .offset = 3, .last_time = -4,
		.fingerprint = 0xabc, .fingerprint_length = 5,
	};
	ck_assert(state_set_file(state, &file));
	ck_assert(state_carry_line(state, TEXT_LITERAL("x\ty\xe9")));
	ck_assert(state_save(state, d.state));
	char *bytes = slurp(d.state, NULL);
	ck_assert_str_eq(bytes, "eximexplain-state 1\n"
	                        "file 1 2 3 -4 5 0000000000000abc a b\\\\c\\x0a\n"
	                        "carry x\\x09y\xe9\n"
	                        "end 2\n");
	free(bytes);
	/* an empty state is a header and an end line */
	state_free(state);
	state = state_new();
	ck_assert(state_save(state, d.state));
	bytes = slurp(d.state, NULL);
	ck_assert_str_eq(bytes, "eximexplain-state 1\nend 0\n");
	free(bytes);
	state_free(state);
	logdir_free(&d);
}
END_TEST

START_TEST(test_longest_lines_round_trip)
{
	/* the worst case for the line cap: the longest carried line with
	 * every byte escaped, and the longest path likewise */
	struct logdir d = logdir_new();
	struct state *state = state_new();
	char *line = malloc(STATE_CARRY_LINE_MAX);
	memset(line, '\x01', STATE_CARRY_LINE_MAX);
	ck_assert(state_carry_line(state, text_make(line, STATE_CARRY_LINE_MAX)));
	char *path = malloc(STATE_PATH_MAX + 1);
	memset(path, '\n', STATE_PATH_MAX);
	path[STATE_PATH_MAX] = '\0';
	struct state_file file = { .path = path };
	ck_assert(state_set_file(state, &file));
	state = through_disk(state, d.state);
	ck_assert_uint_eq(state_carried_count(state), 1);
	struct text got = state_carried_line(state, 0);
	ck_assert_uint_eq(got.len, STATE_CARRY_LINE_MAX);
	ck_assert(memcmp(got.ptr, line, got.len) == 0);
	ck_assert_str_eq(state_file_at(state, 0)->path, path);
	free(line);
	free(path);
	state_free(state);
	logdir_free(&d);
}
END_TEST

START_TEST(test_missing_file_is_a_first_run)
{
	struct logdir d = logdir_new();
	bool existed = true, corrupt = true;
	struct state *state = state_load(d.state, &existed, &corrupt);
	ck_assert_ptr_nonnull(state);
	ck_assert(!existed);
	ck_assert(!corrupt);
	assert_empty_state(state);
	state_free(state);
	/* the flags are optional */
	state = state_load(d.state, NULL, NULL);
	ck_assert_ptr_nonnull(state);
	state_free(state);
	logdir_free(&d);
}
END_TEST

START_TEST(test_unreadable_state_file_is_trouble)
{
	/* a directory where the state file should be: not a first run, not
	 * corrupt, but a broken environment the caller must report */
	struct logdir d = logdir_new();
	ck_assert_int_eq(mkdir(d.state, 0700), 0);
	int fd = capture_stderr(d.errors);
	bool existed = false, corrupt = true;
	struct state *state = state_load(d.state, &existed, &corrupt);
	restore_stderr(fd);
	ck_assert_ptr_null(state);
	ck_assert(!corrupt);
	char *said = slurp(d.errors, NULL);
	assert_said(said, d.state);
	assert_said(said, strerror(EISDIR));
	free(said);
	ck_assert_int_eq(rmdir(d.state), 0);
	logdir_free(&d);
}
END_TEST

#define HEADER "eximexplain-state 1\n"
#define GOOD_FILE "file 2049 131 600 1795305000 600 0123456789abcdef /var/log/exim4/mainlog\n"
#define FILE_LINE(numbers) "file " numbers " /x\n"

static const struct corrupt_case {
	const char *name;
	const char *bytes;
	size_t length;         /* 0: strlen(bytes) */
	unsigned long line;    /* the line the warning names */
} corrupt_cases[] = {
	{ "empty file", "", 0, 1 },
	{ "unknown version", "eximexplain-state 2\nend 0\n", 0, 1 },
	{ "not a state file", "hello world\nend 0\n", 0, 1 },
	{ "header with CRLF", "eximexplain-state 1\r\nend 0\r\n", 0, 1 },
	{ "header without newline", "eximexplain-state 1", 0, 1 },
	{ "no end line", HEADER GOOD_FILE "carry x\n", 0, 4 },
	{ "cut inside the end line", HEADER GOOD_FILE "carry x\nend 2", 0, 4 },
	{ "cut inside a carry line", HEADER GOOD_FILE "carry x", 0, 3 },
	{ "device not a number", HEADER FILE_LINE("20x9 131 600 0 600 0123456789abcdef") "end 1\n", 0, 2 },
	{ "device too big", HEADER FILE_LINE("18446744073709551616 1 2 3 4 0123456789abcdef") "end 1\n", 0, 2 },
	{ "offset negative", HEADER FILE_LINE("1 2 -600 3 4 0123456789abcdef") "end 1\n", 0, 2 },
	{ "offset with a plus", HEADER FILE_LINE("1 2 +600 3 4 0123456789abcdef") "end 1\n", 0, 2 },
	{ "last time too big", HEADER FILE_LINE("1 2 3 9223372036854775808 4 0123456789abcdef") "end 1\n", 0, 2 },
	{ "last time a lone minus", HEADER FILE_LINE("1 2 3 - 4 0123456789abcdef") "end 1\n", 0, 2 },
	{ "fingerprint length too big", HEADER FILE_LINE("1 2 3 4 4097 0123456789abcdef") "end 1\n", 0, 2 },
	{ "fingerprint too short", HEADER FILE_LINE("1 2 3 4 5 0123456789abcde") "end 1\n", 0, 2 },
	{ "fingerprint not hex", HEADER FILE_LINE("1 2 3 4 5 0123456789abcdeg") "end 1\n", 0, 2 },
	{ "fields missing", HEADER "file 1 2 3\nend 1\n", 0, 2 },
	{ "two spaces", HEADER FILE_LINE("1  2 3 4 5 0123456789abcdef") "end 1\n", 0, 2 },
	{ "empty path", HEADER "file 1 2 3 4 5 0123456789abcdef \nend 1\n", 0, 2 },
	{ "NUL in a path", HEADER "file 1 2 3 4 5 0123456789abcdef /x\\x00y\nend 1\n", 0, 2 },
	{ "same path twice", HEADER GOOD_FILE GOOD_FILE "end 2\n", 0, 3 },
	{ "unknown keyword", HEADER "frob 1\nend 1\n", 0, 2 },
	{ "carry without its space", HEADER "carry\nend 1\n", 0, 2 },
	{ "end without a count", HEADER "end\n", 0, 2 },
	{ "end count not a number", HEADER "end two\n", 0, 2 },
	{ "end count too small", HEADER GOOD_FILE "carry a\nend 1\n", 0, 4 },
	{ "end count too big", HEADER GOOD_FILE "end 2\n", 0, 3 },
	{ "a second end line", HEADER "end 0\nend 0\n", 0, 3 },
	{ "bytes after the end", HEADER "end 0\nx", 0, 3 },
	{ "bad escape", HEADER "carry a\\qb\nend 1\n", 0, 2 },
	{ "short hex escape", HEADER "carry a\\x4\nend 1\n", 0, 2 },
	{ "hex escape not hex", HEADER "carry a\\xg0\nend 1\n", 0, 2 },
	{ "trailing backslash", HEADER "carry a\\\nend 1\n", 0, 2 },
	{ "raw tab", HEADER "carry a\tb\nend 1\n", 0, 2 },
	{ "raw DEL", HEADER "carry a\x7f" "b\nend 1\n", 0, 2 },
	{ "raw CR", HEADER "carry ab\r\nend 1\n", 0, 2 },
	{ "raw NUL", HEADER "carry a\0b\nend 1\n", sizeof HEADER "carry a\0b\nend 1\n" - 1, 2 },
	{ "gzip bytes", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xfe\x00\x01\n", 15, 1 },
	{ "garbage after the header", HEADER "\xff\xfe\x00\x01\x02\n\x80\nend 2\n",
	  sizeof HEADER "\xff\xfe\x00\x01\x02\n\x80\nend 2\n" - 1, 2 },
};
#define CORRUPT_CASE_COUNT (int)(sizeof corrupt_cases / sizeof corrupt_cases[0])

/* Load bytes as a state file; the warning must name path:line. */
static void assert_corrupt(const void *bytes, size_t length, unsigned long line, const char *name)
{
	struct logdir d = logdir_new();
	write_file(d.state, bytes, length);
	int fd = capture_stderr(d.errors);
	bool existed = false, corrupt = false;
	struct state *state = state_load(d.state, &existed, &corrupt);
	restore_stderr(fd);
	ck_assert_msg(state != NULL, "%s: no state", name);
	ck_assert_msg(existed && corrupt, "%s: existed %d, corrupt %d", name, existed, corrupt);
	assert_empty_state(state);
	char *said = slurp(d.errors, NULL);
	char where[512];
	snprintf(where, sizeof where, "%s:%lu: ", d.state, line);
	ck_assert_msg(strstr(said, where) != NULL, "%s: expected \"%s\" in \"%s\"", name, where, said);
	free(said);
	state_free(state);
	logdir_free(&d);
}

START_TEST(test_corrupt_file)
{
	const struct corrupt_case *c = &corrupt_cases[_i];
	size_t length = c->length ? c->length : strlen(c->bytes);
	assert_corrupt(c->bytes, length, c->line, c->name);
}
END_TEST

START_TEST(test_corrupt_too_long_line)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_append_str(&sb, HEADER "carry ");
	for (size_t i = 0; i < STATE_LINE_MAX; i++)
		strbuf_append_char(&sb, 'a');
	strbuf_append_str(&sb, "\nend 1\n");
	assert_corrupt(sb.data, sb.len, 2, "too long line");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_corrupt_too_many_files)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_append_str(&sb, HEADER);
	for (unsigned i = 0; i <= STATE_FILES_MAX; i++)
		strbuf_printf(&sb, "file 1 %u 0 0 0 0000000000000000 /log/%u\n", i, i);
	strbuf_printf(&sb, "end %u\n", STATE_FILES_MAX + 1);
	assert_corrupt(sb.data, sb.len, STATE_FILES_MAX + 2, "too many files");
	strbuf_release(&sb);
}
END_TEST

START_TEST(test_corrupt_too_many_carried_bytes)
{
	/* 32 lines of 262143 bytes are the most; the 33rd is one too many */
	struct strbuf sb = STRBUF_INIT;
	size_t length = STATE_CARRY_MAX_BYTES / 32 - 1;
	strbuf_append_str(&sb, HEADER);
	for (int i = 0; i < 33; i++) {
		strbuf_append_str(&sb, "carry ");
		for (size_t j = 0; j < length; j++)
			strbuf_append_char(&sb, 'b');
		strbuf_append_char(&sb, '\n');
	}
	strbuf_append_str(&sb, "end 33\n");
	assert_corrupt(sb.data, sb.len, 34, "too many carried bytes");
	strbuf_release(&sb);
}
END_TEST

/* A saved sample state's bytes. */
static char *sample_bytes(const struct logdir *d, size_t *length)
{
	struct state *state = sample_state();
	ck_assert(state_save(state, d->state));
	state_free(state);
	return slurp(d->state, length);
}

START_TEST(test_every_prefix_is_refused)
{
	struct logdir d = logdir_new();
	size_t length;
	char *bytes = sample_bytes(&d, &length);
	int fd = capture_stderr("/dev/null");
	for (size_t cut = 0; cut < length; cut++) {
		write_file(d.state, bytes, cut);
		bool existed = false, corrupt = false;
		struct state *state = state_load(d.state, &existed, &corrupt);
		ck_assert_msg(state != NULL && corrupt, "the first %zu of %zu bytes loaded", cut, length);
		assert_empty_state(state);
		state_free(state);
	}
	restore_stderr(fd);
	free(bytes);
	logdir_free(&d);
}
END_TEST

START_TEST(test_damaged_bytes_never_crash)
{
	/* every byte replaced by a few awkward ones, or dropped: the load
	 * either refuses the file or gives a state, never anything worse */
	static const char replacements[] = { '\0', '\n', ' ', '\\', 'x', '9', '-', '\xff' };
	struct logdir d = logdir_new();
	size_t length;
	char *bytes = sample_bytes(&d, &length);
	char *damaged = malloc(length);
	int fd = capture_stderr("/dev/null");
	size_t refused = 0, loads = 0;
	for (size_t i = 0; i < length; i++) {
		for (size_t r = 0; r <= sizeof replacements; r++) {
			memcpy(damaged, bytes, length);
			size_t damaged_length = length;
			if (r < sizeof replacements)
				damaged[i] = replacements[r];
			else
				memmove(damaged + i, damaged + i + 1, --damaged_length - i);
			write_file(d.state, damaged, damaged_length);
			bool corrupt = false;
			struct state *state = state_load(d.state, NULL, &corrupt);
			ck_assert_ptr_nonnull(state);
			if (corrupt)
				assert_empty_state(state);
			refused += corrupt;
			loads++;
			state_free(state);
		}
	}
	restore_stderr(fd);
	ck_assert_uint_gt(refused, 0);
	ck_assert_uint_lt(refused, loads); /* damage inside a carried line is data */
	free(damaged);
	free(bytes);
	logdir_free(&d);
}
END_TEST

START_TEST(test_save_replaces_the_old_file)
{
	struct logdir d = logdir_new();
	struct state *state = state_new();
	ck_assert(state_carry_line(state, TEXT_LITERAL("first")));
	ck_assert(state_save(state, d.state));
	state_clear_carried(state);
	ck_assert(state_carry_line(state, TEXT_LITERAL("second")));
	ck_assert(state_save(state, d.state));
	state_free(state);
	state = state_load(d.state, NULL, NULL);
	ck_assert_uint_eq(state_carried_count(state), 1);
	assert_text(state_carried_line(state, 0), "second");
	struct stat st;
	ck_assert_int_eq(stat(d.state, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600); /* carried lines are private */
	ck_assert_uint_eq(count_entries(d.dir, "state."), 0);
	ck_assert_uint_eq(count_entries(d.dir, ""), 3); /* state, ".", ".." */
	state_free(state);
	logdir_free(&d);
}
END_TEST

START_TEST(test_save_into_a_missing_directory)
{
	struct logdir d = logdir_new();
	char *gone = path_in(d.dir, "gone");
	char *path = path_in(gone, "state");
	struct state *state = sample_state();
	int fd = capture_stderr(d.errors);
	bool saved = state_save(state, path);
	restore_stderr(fd);
	ck_assert(!saved);
	ck_assert_int_eq(access(gone, F_OK), -1);
	char *said = slurp(d.errors, NULL);
	assert_said(said, path);
	assert_said(said, strerror(ENOENT));
	free(said);
	free(path);
	free(gone);
	state_free(state);
	logdir_free(&d);
}
END_TEST

START_TEST(test_save_over_a_directory)
{
	/* rename() cannot put a file over a directory, even for root */
	struct logdir d = logdir_new();
	ck_assert_int_eq(mkdir(d.state, 0700), 0);
	char *inside = path_in(d.state, "keep");
	write_file(inside, "kept", 4);
	struct state *state = sample_state();
	int fd = capture_stderr(d.errors);
	bool saved = state_save(state, d.state);
	restore_stderr(fd);
	ck_assert(!saved);
	struct stat st;
	ck_assert_int_eq(stat(d.state, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(count_entries(d.dir, "state."), 0); /* temporary removed */
	char *said = slurp(d.errors, NULL);
	assert_said(said, d.state);
	free(said);
	ck_assert_int_eq(unlink(inside), 0);
	ck_assert_int_eq(rmdir(d.state), 0);
	free(inside);
	state_free(state);
	logdir_free(&d);
}
END_TEST

START_TEST(test_failed_write_keeps_the_old_file)
{
	/* a file size limit makes the write fail half way, even for root */
	struct logdir d = logdir_new();
	struct state *old = sample_state();
	ck_assert(state_save(old, d.state));
	state_free(old);
	size_t old_length;
	char *old_bytes = slurp(d.state, &old_length);
	struct state *big = state_new();
	char *line = malloc(100000);
	memset(line, 'z', 100000);
	ck_assert(state_carry_line(big, text_make(line, 100000)));
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit limit, small;
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &limit), 0);
	small = limit;
	small.rlim_cur = 4096;
	int fd = capture_stderr(d.errors);
	/* no Check assertions until the limit is lifted: they write files too */
	int lowered = setrlimit(RLIMIT_FSIZE, &small);
	bool saved = state_save(big, d.state);
	int lifted = setrlimit(RLIMIT_FSIZE, &limit);
	restore_stderr(fd);
	ck_assert_int_eq(lowered, 0);
	ck_assert_int_eq(lifted, 0);
	ck_assert(!saved);
	size_t now_length;
	char *now_bytes = slurp(d.state, &now_length);
	ck_assert_uint_eq(now_length, old_length);
	ck_assert(memcmp(now_bytes, old_bytes, old_length) == 0);
	ck_assert_uint_eq(count_entries(d.dir, "state."), 0);
	char *said = slurp(d.errors, NULL);
	assert_said(said, d.state);
	assert_said(said, strerror(EFBIG));
	free(said);
	free(now_bytes);
	free(old_bytes);
	free(line);
	state_free(big);
	logdir_free(&d);
}
END_TEST

/* ---- identifying files ---- */

START_TEST(test_identify_plain_and_gzip)
{
	struct logdir d = logdir_new();
	struct strbuf text = STRBUF_INIT;
	while (text.len <= STATE_FINGERPRINT_MAX + 500)
		strbuf_append_str(&text, LOG_A1 LOG_A2 LOG_A3);
	write_file(d.log, text.data, text.len);
	char *gz = path_in(d.dir, "mainlog.1.gz");
	write_gzip(gz, text.data, false);
	uint64_t want = text_hash(TEXT_HASH_SEED, text.data, STATE_FINGERPRINT_MAX);

	struct state_file plain, packed;
	memset(&plain, 0x55, sizeof plain);
	ck_assert(state_identify(d.log, STATE_FINGERPRINT_MAX, &plain));
	struct stat st;
	ck_assert_int_eq(stat(d.log, &st), 0);
	ck_assert_uint_eq(plain.device, (uint64_t)st.st_dev);
	ck_assert_uint_eq(plain.inode, (uint64_t)st.st_ino);
	ck_assert_uint_eq(plain.fingerprint_length, STATE_FINGERPRINT_MAX);
	ck_assert_uint_eq(plain.fingerprint, want);
	ck_assert_ptr_null(plain.path);
	ck_assert_uint_eq(plain.offset, 0);
	ck_assert_int_eq(plain.last_time, 0);
	/* gzip: the same fingerprint over the decompressed bytes */
	ck_assert(state_identify(gz, STATE_FINGERPRINT_MAX, &packed));
	ck_assert_uint_eq(packed.fingerprint_length, STATE_FINGERPRINT_MAX);
	ck_assert_uint_eq(packed.fingerprint, want);
	ck_assert_uint_ne(packed.inode, plain.inode);
	/* shorter prefixes, and a cap on what may be asked */
	ck_assert(state_identify(gz, 10, &packed));
	ck_assert_uint_eq(packed.fingerprint_length, 10);
	ck_assert_uint_eq(packed.fingerprint, text_hash(TEXT_HASH_SEED, text.data, 10));
	ck_assert(state_identify(d.log, UINT32_MAX, &plain));
	ck_assert_uint_eq(plain.fingerprint_length, STATE_FINGERPRINT_MAX);
	/* a short file and an empty one */
	write_file(d.log, "abc", 3);
	ck_assert(state_identify(d.log, STATE_FINGERPRINT_MAX, &plain));
	ck_assert_uint_eq(plain.fingerprint_length, 3);
	ck_assert_uint_eq(plain.fingerprint, text_hash(TEXT_HASH_SEED, "abc", 3));
	write_file(d.log, "", 0);
	ck_assert(state_identify(d.log, STATE_FINGERPRINT_MAX, &plain));
	ck_assert_uint_eq(plain.fingerprint_length, 0);
	ck_assert_uint_eq(plain.fingerprint, TEXT_HASH_SEED);
	free(gz);
	strbuf_release(&text);
	logdir_free(&d);
}
END_TEST

START_TEST(test_identify_refuses_what_is_not_a_file)
{
	struct logdir d = logdir_new();
	struct state_file file;
	errno = 0;
	ck_assert(!state_identify(d.log, STATE_FINGERPRINT_MAX, &file));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert(!state_identify(d.dir, STATE_FINGERPRINT_MAX, &file));
	ck_assert_int_eq(errno, EINVAL);
	/* a FIFO would block or lose data if read: never opened for that */
	char *fifo = path_in(d.dir, "fifo");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert(!state_identify(fifo, STATE_FINGERPRINT_MAX, &file));
	ck_assert_int_eq(errno, EINVAL);
	free(fifo);
	logdir_free(&d);
}
END_TEST

/* ---- the read plan ---- */

START_TEST(test_plan_new_files)
{
	struct logdir d = logdir_new();
	write_file(d.log, LOG_A1, strlen(LOG_A1));
	char *other = path_in(d.dir, "other");
	char *missing = path_in(d.dir, "missing");
	write_file(other, LOG_B1, strlen(LOG_B1));
	const char *paths[] = { d.log, missing, other };
	/* a first run: no saved state at all */
	struct state_plan plan = state_plan_reads(NULL, paths, 3);
	assert_plan_count(plan, 3);
	assert_read(plan, 0, d.log, 0, STATE_NEW_FILE);
	assert_read(plan, 1, missing, 0, STATE_NEW_FILE); /* the reader will complain */
	assert_read(plan, 2, other, 0, STATE_NEW_FILE);
	for (size_t i = 0; i < 3; i++)
		ck_assert_ptr_eq(plan.reads[i].given, paths[i]);
	state_plan_release(&plan);
	ck_assert_uint_eq(plan.count, 0);
	state_plan_release(NULL);
	/* a saved state that knows other files only */
	struct state *saved = state_new();
	remember(saved, other, strlen(LOG_B1));
	saved = through_disk(saved, d.state);
	plan = state_plan_reads(saved, paths, 3);
	assert_plan_count(plan, 3);
	assert_read(plan, 0, d.log, 0, STATE_NEW_FILE);
	assert_read(plan, 2, other, strlen(LOG_B1), STATE_CONTINUE);
	state_plan_release(&plan);
	plan = state_plan_reads(saved, paths, 0);
	assert_plan_count(plan, 0);
	state_plan_release(&plan);
	state_free(saved);
	free(other);
	free(missing);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_continue_after_append)
{
	struct logdir d = logdir_new();
	write_file(d.log, LOG_A1 LOG_A2, strlen(LOG_A1 LOG_A2));
	struct state *saved = state_new();
	remember(saved, d.log, strlen(LOG_A1 LOG_A2));
	saved = through_disk(saved, d.state);
	char *said;
	/* nothing new yet: still continue, at the end */
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 1);
	assert_read(plan, 0, d.log, strlen(LOG_A1 LOG_A2), STATE_CONTINUE);
	state_plan_release(&plan);
	free(said);
	append_file(d.log, LOG_A3 LOG_A4);
	plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 1);
	assert_read(plan, 0, d.log, strlen(LOG_A1 LOG_A2), STATE_CONTINUE);
	ck_assert_str_eq(said, "");
	state_plan_release(&plan);
	free(said);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_continue_beyond_the_fingerprint)
{
	/* a log longer than the fingerprint: only its first 4096 bytes count */
	struct logdir d = logdir_new();
	struct strbuf text = STRBUF_INIT;
	while (text.len < 3 * STATE_FINGERPRINT_MAX)
		strbuf_append_str(&text, LOG_A1 LOG_A2);
	write_file(d.log, text.data, text.len);
	struct state *saved = state_new();
	remember(saved, d.log, text.len);
	saved = through_disk(saved, d.state);
	ck_assert_uint_eq(state_find_file(saved, d.log)->fingerprint_length, STATE_FINGERPRINT_MAX);
	append_file(d.log, LOG_A3);
	char *said;
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 1);
	assert_read(plan, 0, d.log, text.len, STATE_CONTINUE);
	state_plan_release(&plan);
	free(said);
	strbuf_release(&text);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_copytruncate_shrank)
{
	struct logdir d = logdir_new();
	write_file(d.log, LOG_A1 LOG_A2 LOG_A3, strlen(LOG_A1 LOG_A2 LOG_A3));
	uint64_t inode = inode_of(d.log);
	struct state *saved = state_new();
	remember(saved, d.log, strlen(LOG_A1 LOG_A2 LOG_A3));
	saved = through_disk(saved, d.state);
	/* truncated in place (same inode), a little written since */
	write_file(d.log, LOG_B1, strlen(LOG_B1));
	ck_assert_uint_eq(inode_of(d.log), inode);
	char *said;
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 1);
	assert_read(plan, 0, d.log, 0, STATE_TRUNCATED);
	assert_said(said, d.log);
	assert_said(said, "may be missed");
	state_plan_release(&plan);
	free(said);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_copytruncate_regrown)
{
	/* truncated, then more written than was read before: the length
	 * alone would say "continue", the fingerprint says otherwise */
	struct logdir d = logdir_new();
	write_file(d.log, LOG_A1, strlen(LOG_A1));
	uint64_t inode = inode_of(d.log);
	struct state *saved = state_new();
	remember(saved, d.log, strlen(LOG_A1));
	saved = through_disk(saved, d.state);
	const char *regrown = LOG_B1 LOG_B2 LOG_B1 LOG_B2;
	write_file(d.log, regrown, strlen(regrown));
	ck_assert_uint_eq(inode_of(d.log), inode);
	ck_assert_uint_gt(strlen(regrown), strlen(LOG_A1));
	char *said;
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 1);
	assert_read(plan, 0, d.log, 0, STATE_TRUNCATED);
	state_plan_release(&plan);
	free(said);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_copytruncate_copy_found)
{
	/* copytruncate's copy holds the lines written after the last run */
	struct logdir d = logdir_new();
	write_file(d.log, LOG_A1 LOG_A2, strlen(LOG_A1 LOG_A2));
	struct state *saved = state_new();
	remember(saved, d.log, strlen(LOG_A1 LOG_A2));
	saved = through_disk(saved, d.state);
	append_file(d.log, LOG_A3);
	char *copy = path_in(d.dir, "mainlog.1");
	write_file(copy, LOG_A1 LOG_A2 LOG_A3, strlen(LOG_A1 LOG_A2 LOG_A3));
	write_file(d.log, LOG_B1, strlen(LOG_B1));
	char *said;
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 2);
	assert_read(plan, 0, copy, strlen(LOG_A1 LOG_A2), STATE_ROTATED_OLD);
	assert_read(plan, 1, d.log, 0, STATE_TRUNCATED);
	ck_assert_str_eq(said, "");
	state_plan_release(&plan);
	free(said);
	free(copy);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_rotated_by_rename)
{
	struct logdir d = logdir_new();
	write_file(d.log, LOG_A1 LOG_A2, strlen(LOG_A1 LOG_A2));
	struct state *saved = state_new();
	remember(saved, d.log, strlen(LOG_A1 LOG_A2));
	saved = through_disk(saved, d.state);
	append_file(d.log, LOG_A3);
	/* logrotate: rename, create anew; an older rotation lies beside */
	char *rotated = path_in(d.dir, "mainlog.1");
	char *older = path_in(d.dir, "mainlog.2");
	write_file(older, LOG_C1, strlen(LOG_C1));
	ck_assert_int_eq(rename(d.log, rotated), 0);
	write_file(d.log, LOG_B1, strlen(LOG_B1));
	char *said;
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 2);
	assert_read(plan, 0, rotated, strlen(LOG_A1 LOG_A2), STATE_ROTATED_OLD);
	assert_read(plan, 1, d.log, 0, STATE_REPLACED);
	ck_assert_str_eq(said, "");
	state_plan_release(&plan);
	free(said);
	free(rotated);
	free(older);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

/* Rotate d->log to name, compressed, with more lines than were read. */
static void rotate_to_gzip(const struct logdir *d, const char *name)
{
	char *rotated = path_in(d->dir, "rotating");
	char *gz = path_in(d->dir, name);
	ck_assert_int_eq(rename(d->log, rotated), 0);
	write_file(d->log, LOG_B1, strlen(LOG_B1)); /* created before the old inode is freed */
	write_gzip(gz, LOG_A1 LOG_A2 LOG_A3, false);
	ck_assert_int_eq(unlink(rotated), 0);
	free(rotated);
	free(gz);
}

START_TEST(test_plan_rotated_and_gzipped)
{
	struct logdir d = logdir_new();
	write_file(d.log, LOG_A1 LOG_A2, strlen(LOG_A1 LOG_A2));
	struct state *saved = state_new();
	remember(saved, d.log, strlen(LOG_A1 LOG_A2));
	saved = through_disk(saved, d.state);
	char *older = path_in(d.dir, "mainlog.2.gz");
	write_gzip(older, LOG_C1, false);
	rotate_to_gzip(&d, "mainlog.1.gz");
	char *gz = path_in(d.dir, "mainlog.1.gz");
	char *said;
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 2);
	assert_read(plan, 0, gz, strlen(LOG_A1 LOG_A2), STATE_ROTATED_OLD);
	assert_read(plan, 1, d.log, 0, STATE_REPLACED);
	ck_assert_str_eq(said, "");
	state_plan_release(&plan);
	free(said);
	free(gz);
	free(older);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_rotated_with_dateext)
{
	struct logdir d = logdir_new();
	write_file(d.log, LOG_A1 LOG_A2, strlen(LOG_A1 LOG_A2));
	struct state *saved = state_new();
	remember(saved, d.log, strlen(LOG_A1 LOG_A2));
	saved = through_disk(saved, d.state);
	char *older = path_in(d.dir, "mainlog-20261121.gz");
	write_gzip(older, LOG_C1, false);
	rotate_to_gzip(&d, "mainlog-20261122.gz");
	char *gz = path_in(d.dir, "mainlog-20261122.gz");
	char *said;
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 2);
	assert_read(plan, 0, gz, strlen(LOG_A1 LOG_A2), STATE_ROTATED_OLD);
	assert_read(plan, 1, d.log, 0, STATE_REPLACED);
	state_plan_release(&plan);
	free(said);
	free(gz);
	free(older);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_rotated_old_file_not_found)
{
	struct logdir d = logdir_new();
	write_file(d.log, LOG_A1 LOG_A2, strlen(LOG_A1 LOG_A2));
	struct state *saved = state_new();
	remember(saved, d.log, strlen(LOG_A1 LOG_A2));
	saved = through_disk(saved, d.state);
	/* rotated where it is not looked for (olddir), with more lines; and
	 * decoys with its very bytes under names that are not rotations of
	 * "mainlog" */
	append_file(d.log, LOG_A3);
	char *archived = path_in(d.dir, "archived");
	ck_assert_int_eq(rename(d.log, archived), 0);
	static const char *const decoys[] = { "mainlogs", "mainlog.", "other.1", "mainlog_1" };
	for (size_t i = 0; i < 4; i++) {
		char *decoy = path_in(d.dir, decoys[i]);
		write_file(decoy, LOG_A1 LOG_A2 LOG_A3, strlen(LOG_A1 LOG_A2 LOG_A3));
		free(decoy);
	}
	char *unrelated = path_in(d.dir, "mainlog.1.gz");
	write_gzip(unrelated, LOG_C1, false);
	write_file(d.log, LOG_B1, strlen(LOG_B1));
	char *said;
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 1);
	assert_read(plan, 0, d.log, 0, STATE_REPLACED);
	assert_said(said, d.log);
	assert_said(said, "not found");
	assert_said(said, "may be missed");
	state_plan_release(&plan);
	free(said);
	free(unrelated);
	free(archived);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_rotated_not_yet_recreated)
{
	/* rotated, and nothing logged since, so no new file yet: the rest of
	 * the old one is still read; the missing path stays for the reader */
	struct logdir d = logdir_new();
	write_file(d.log, LOG_A1, strlen(LOG_A1));
	struct state *saved = state_new();
	remember(saved, d.log, strlen(LOG_A1));
	saved = through_disk(saved, d.state);
	append_file(d.log, LOG_A2);
	char *rotated = path_in(d.dir, "mainlog.1");
	ck_assert_int_eq(rename(d.log, rotated), 0);
	char *said;
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 2);
	assert_read(plan, 0, rotated, strlen(LOG_A1), STATE_ROTATED_OLD);
	assert_read(plan, 1, d.log, 0, STATE_REPLACED);
	state_plan_release(&plan);
	free(said);
	free(rotated);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_prefers_the_old_inode)
{
	/* delaycompress and a stray copy: both start alike; the one with the
	 * old inode is the file that was read */
	struct logdir d = logdir_new();
	write_file(d.log, LOG_A1, strlen(LOG_A1));
	struct state *saved = state_new();
	remember(saved, d.log, strlen(LOG_A1));
	saved = through_disk(saved, d.state);
	char *copy = path_in(d.dir, "mainlog.0.gz");
	write_gzip(copy, LOG_A1, false);
	char *rotated = path_in(d.dir, "mainlog.1");
	ck_assert_int_eq(rename(d.log, rotated), 0);
	write_file(d.log, LOG_B1, strlen(LOG_B1));
	char *said;
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 2);
	assert_read(plan, 0, rotated, strlen(LOG_A1), STATE_ROTATED_OLD);
	assert_read(plan, 1, d.log, 0, STATE_REPLACED);
	state_plan_release(&plan);
	free(said);
	free(copy);
	free(rotated);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_empty_file_is_found_by_inode_only)
{
	/* an empty file's fingerprint matches anything, so a compressed
	 * sibling must not be taken for it; a renamed one still is */
	struct logdir d = logdir_new();
	write_file(d.log, "", 0);
	struct state *saved = state_new();
	remember(saved, d.log, 0);
	saved = through_disk(saved, d.state);
	char *gz = path_in(d.dir, "mainlog.2.gz");
	write_gzip(gz, LOG_C1, false);
	char *rotated = path_in(d.dir, "mainlog.1");
	ck_assert_int_eq(rename(d.log, rotated), 0);
	write_file(d.log, LOG_B1, strlen(LOG_B1));
	char *said;
	struct state_plan plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 2);
	assert_read(plan, 0, rotated, 0, STATE_ROTATED_OLD);
	assert_read(plan, 1, d.log, 0, STATE_REPLACED);
	state_plan_release(&plan);
	free(said);
	ck_assert_int_eq(unlink(rotated), 0);
	plan = plan_log(&d, saved, &said);
	assert_plan_count(plan, 1);
	assert_read(plan, 0, d.log, 0, STATE_REPLACED);
	state_plan_release(&plan);
	free(said);
	free(gz);
	free(rotated);
	state_free(saved);
	logdir_free(&d);
}
END_TEST

START_TEST(test_plan_relative_path)
{
	/* a path without a directory: siblings are looked for in "." and
	 * named as given */
	struct logdir d = logdir_new();
	char *cwd = getcwd(NULL, 0);
	ck_assert_int_eq(chdir(d.dir), 0);
	write_file("mainlog", LOG_A1, strlen(LOG_A1));
	struct state *saved = state_new();
	remember(saved, "mainlog", strlen(LOG_A1));
	ck_assert_int_eq(rename("mainlog", "mainlog.1"), 0);
	write_file("mainlog", LOG_B1, strlen(LOG_B1));
	const char *paths[] = { "mainlog" };
	struct state_plan plan = state_plan_reads(saved, paths, 1);
	assert_plan_count(plan, 2);
	assert_read(plan, 0, "mainlog.1", strlen(LOG_A1), STATE_ROTATED_OLD);
	assert_read(plan, 1, "mainlog", 0, STATE_REPLACED);
	state_plan_release(&plan);
	state_free(saved);
	ck_assert_int_eq(chdir(cwd), 0);
	free(cwd);
	logdir_free(&d);
}
END_TEST

Suite *state_suite(void)
{
	Suite *suite = suite_create("state");
	TCase *memory = tcase_create("memory");
	tcase_add_test(memory, test_set_file_copies_and_replaces);
	tcase_add_test(memory, test_set_file_refusals);
	tcase_add_test(memory, test_file_table_is_capped_and_loads_when_full);
	tcase_add_test(memory, test_carry_cap);
	tcase_add_test(memory, test_carry_line_limit);
	suite_add_tcase(suite, memory);

	TCase *file = tcase_create("file");
	tcase_set_timeout(file, 60); /* large files and many loads under ASan */
	tcase_add_test(file, test_round_trip);
	tcase_add_test(file, test_file_format);
	tcase_add_test(file, test_longest_lines_round_trip);
	tcase_add_test(file, test_missing_file_is_a_first_run);
	tcase_add_test(file, test_unreadable_state_file_is_trouble);
	tcase_add_loop_test(file, test_corrupt_file, 0, CORRUPT_CASE_COUNT);
	tcase_add_test(file, test_corrupt_too_long_line);
	tcase_add_test(file, test_corrupt_too_many_files);
	tcase_add_test(file, test_corrupt_too_many_carried_bytes);
	tcase_add_test(file, test_every_prefix_is_refused);
	tcase_add_test(file, test_damaged_bytes_never_crash);
	tcase_add_test(file, test_save_replaces_the_old_file);
	tcase_add_test(file, test_save_into_a_missing_directory);
	tcase_add_test(file, test_save_over_a_directory);
	tcase_add_test(file, test_failed_write_keeps_the_old_file);
	suite_add_tcase(suite, file);

	TCase *plan = tcase_create("plan");
	tcase_add_test(plan, test_identify_plain_and_gzip);
	tcase_add_test(plan, test_identify_refuses_what_is_not_a_file);
	tcase_add_test(plan, test_plan_new_files);
	tcase_add_test(plan, test_plan_continue_after_append);
	tcase_add_test(plan, test_plan_continue_beyond_the_fingerprint);
	tcase_add_test(plan, test_plan_copytruncate_shrank);
	tcase_add_test(plan, test_plan_copytruncate_regrown);
	tcase_add_test(plan, test_plan_copytruncate_copy_found);
	tcase_add_test(plan, test_plan_rotated_by_rename);
	tcase_add_test(plan, test_plan_rotated_and_gzipped);
	tcase_add_test(plan, test_plan_rotated_with_dateext);
	tcase_add_test(plan, test_plan_rotated_old_file_not_found);
	tcase_add_test(plan, test_plan_rotated_not_yet_recreated);
	tcase_add_test(plan, test_plan_prefers_the_old_inode);
	tcase_add_test(plan, test_plan_empty_file_is_found_by_inode_only);
	tcase_add_test(plan, test_plan_relative_path);
	suite_add_tcase(suite, plan);
	return suite;
}
