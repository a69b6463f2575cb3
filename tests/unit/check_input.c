/*
 * input tests: files written to a fresh directory under /tmp, then read
 * back through input_open/input_next_line. Covers plain files with and
 * without a final newline, CRLF, NUL bytes, gzip (also several members,
 * truncated and corrupt), rotated sets named in any order, over-long
 * lines, missing files and stdin (design.md section 3, input.h); and
 * planned reads from start offsets (input_open_at), where every offset
 * reported must let the next run return exactly the lines not yet
 * returned.
 *
 * Tests that look at msg_had_input_error() or replace fd 0 or 2 rely on
 * Check's default fork mode: each test runs in its own process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "input.h"
#include "msg.h"
#include "strbuf.h"
#include "suites.h"
#include "test_support.h"

/* What a whole run of input returned, copied out of the input's buffer. */
struct read_result {
	size_t count;
	struct strbuf *lines;
	char **files;         /* out.file of each line */
	uint64_t *numbers;    /* out.line_number */
	bool *truncated;
	bool *first_of_file;  /* input_file_changed() after that line */
	struct input_stats stats;
	size_t file_count;
	char *order[8];       /* input_file_name(i) */
	struct input_position position[8]; /* input_file_position(i) */
};

/* Read input to its end into r, keeping the input (for input_reread). */
static void collect_pass(struct input *input, struct read_result *r)
{
	memset(r, 0, sizeof *r);
	ck_assert_ptr_nonnull(input);
	size_t capacity = 0;
	struct input_line line;
	while (input_next_line(input, &line)) {
		if (r->count == capacity) {
			capacity = capacity ? capacity * 2 : 16;
			r->lines = realloc(r->lines, capacity * sizeof *r->lines);
			r->files = realloc(r->files, capacity * sizeof *r->files);
			r->numbers = realloc(r->numbers, capacity * sizeof *r->numbers);
			r->truncated = realloc(r->truncated, capacity * sizeof *r->truncated);
			r->first_of_file = realloc(r->first_of_file, capacity * sizeof *r->first_of_file);
			ck_assert(r->lines && r->files && r->numbers && r->truncated && r->first_of_file);
		}
		size_t i = r->count++;
		strbuf_init(&r->lines[i]);
		strbuf_append_text(&r->lines[i], line.text);
		r->files[i] = strdup(line.file);
		r->numbers[i] = line.line_number;
		r->truncated[i] = line.truncated;
		r->first_of_file[i] = input_file_changed(input);
		ck_assert_ptr_nonnull(r->files[i]);
	}
	r->stats = *input_get_stats(input);
	r->file_count = input_file_count(input);
	for (size_t i = 0; i < r->file_count && i < 8; i++) {
		r->order[i] = strdup(input_file_name(input, i));
		ck_assert(input_file_position(input, i, &r->position[i]));
	}
	struct input_position unchanged = { .offset = 12345 };
	ck_assert(!input_file_position(input, r->file_count, &unchanged));
	ck_assert_uint_eq(unchanged.offset, 12345);
}

/* The mapped-window tests run twice: reading alone, and with a helper
 * mapping in each window's pages ahead (input_populate_ahead), which
 * must change nothing read. */
static bool populating;

static struct input *open_files(const char *const *paths, size_t n)
{
	struct input *input = input_open(paths, n);
	input_populate_ahead(input, populating);
	return input;
}

/* Read input to its end into r, and free it. */
static void collect(struct input *input, struct read_result *r)
{
	collect_pass(input, r);
	input_free(input);
}

static void read_all(const char *const *paths, size_t n, struct read_result *r)
{
	collect(open_files(paths, n), r);
}

/* One planned read of one file from offset. */
static void read_at(const char *path, uint64_t offset, struct read_result *r)
{
	struct input_start start = { path, offset };
	collect(input_open_at(&start, 1), r);
	ck_assert_uint_eq(r->file_count, 1);
}

static void free_result(struct read_result *r)
{
	for (size_t i = 0; i < r->count; i++) {
		strbuf_release(&r->lines[i]);
		if (r->files) /* collect_blocks keeps no names */
			free(r->files[i]);
	}
	for (size_t i = 0; i < r->file_count && i < 8; i++)
		free(r->order[i]);
	free(r->lines);
	free(r->files);
	free(r->numbers);
	free(r->truncated);
	free(r->first_of_file);
}

#define assert_line(r, i, expected)                                                   \
	do {                                                                          \
		ck_assert_msg((i) < (r).count, "line %zu missing (%zu read)", (size_t)(i), \
		              (r).count);                                             \
		assert_text(strbuf_text(&(r).lines[i]), expected);                    \
	} while (0)

/* Read one file holding these bytes; the file is removed again. */
static void read_bytes(const void *bytes, size_t length, struct read_result *r)
{
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	write_file(path, bytes, length);
	const char *paths[] = { path };
	read_all(paths, 1, r);
	remove_tree(dir);
	free(path);
	free(dir);
}

static char *slurp(const char *path)
{
	size_t length;
	char *text = read_file(path, &length);
	ck_assert_msg(text != NULL, "%s: %s", path, strerror(errno));
	return text;
}

/* A writer of text into fifo, in a child the caller waits for: a shell,
 * so valgrind does not leak-check a copy of the test. */
static pid_t write_into_fifo(const char *fifo, const char *text)
{
	pid_t writer = fork();
	ck_assert_int_ge(writer, 0);
	if (writer == 0) {
		execl("/bin/sh", "sh", "-c", "printf '%s' \"$0\" >\"$1\"", text, fifo,
		      (char *)NULL);
		_exit(127);
	}
	return writer;
}

/* ---- plain files ---- */

START_TEST(test_plain_with_final_newline)
{
	static const char text[] = "1999-03-02 09:44:33 10HmbH-000000005vi-0000 Completed\nsecond\n";
	struct read_result r;
	read_bytes(text, sizeof text - 1, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "1999-03-02 09:44:33 10HmbH-000000005vi-0000 Completed");
	assert_line(r, 1, "second");
	ck_assert_uint_eq(r.numbers[0], 1);
	ck_assert_uint_eq(r.numbers[1], 2);
	ck_assert(!r.truncated[0]);
	ck_assert(r.first_of_file[0]);
	ck_assert(!r.first_of_file[1]);
	ck_assert_uint_eq(r.stats.lines, 2);
	ck_assert_uint_eq(r.stats.bytes, sizeof text - 1);
	ck_assert_uint_eq(r.stats.files_read, 1);
	ck_assert_uint_eq(r.stats.files_failed, 0);
	ck_assert_uint_eq(r.stats.truncated_lines, 0);
	free_result(&r);
}
END_TEST

START_TEST(test_plain_without_final_newline)
{
	static const char text[] = "first\nsecond";
	struct read_result r;
	read_bytes(text, sizeof text - 1, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "first");
	assert_line(r, 1, "second");
	free_result(&r);
}
END_TEST

START_TEST(test_blank_lines_and_empty_file)
{
	static const char text[] = "a\n\n\nb\n";
	struct read_result r;
	read_bytes(text, sizeof text - 1, &r);
	ck_assert_uint_eq(r.count, 4);
	assert_line(r, 1, "");
	assert_line(r, 2, "");
	assert_line(r, 3, "b");
	free_result(&r);

	read_bytes("", 0, &r);
	ck_assert_uint_eq(r.count, 0);
	ck_assert_uint_eq(r.stats.files_read, 1);
	ck_assert_uint_eq(r.stats.files_failed, 0);
	free_result(&r);
}
END_TEST

START_TEST(test_crlf)
{
	static const char text[] = "first\r\nsecond\r\n\r\nlast\r";
	struct read_result r;
	read_bytes(text, sizeof text - 1, &r);
	ck_assert_uint_eq(r.count, 4);
	assert_line(r, 0, "first");
	assert_line(r, 1, "second");
	assert_line(r, 2, "");
	free_result(&r);

	/* a CR inside a line is data */
	static const char inner[] = "a\rb\n";
	read_bytes(inner, sizeof inner - 1, &r);
	ck_assert_uint_eq(r.count, 1);
	assert_line(r, 0, "a\rb");
	free_result(&r);
}
END_TEST

START_TEST(test_nul_bytes_pass_through)
{
	static const char text[] = "a\0b\n\0\n\xff\xfe\x1b[0m\n";
	struct read_result r;
	read_bytes(text, sizeof text - 1, &r);
	ck_assert_uint_eq(r.count, 3);
	ck_assert_uint_eq(r.lines[0].len, 3);
	ck_assert(memcmp(r.lines[0].data, "a\0b", 3) == 0);
	ck_assert_uint_eq(r.lines[1].len, 1);
	ck_assert_int_eq(r.lines[1].data[0], '\0');
	ck_assert_uint_eq(r.lines[2].len, 6);
	ck_assert(memcmp(r.lines[2].data, "\xff\xfe\x1b[0m", 6) == 0);
	free_result(&r);
}
END_TEST

/* ---- long lines ---- */

/* n bytes of 'x', a newline, then "next\n". */
static char *long_line_text(size_t n, size_t *length)
{
	*length = n + 1 + 5;
	char *text = malloc(*length);
	ck_assert_ptr_nonnull(text);
	memset(text, 'x', n);
	memcpy(text + n, "\nnext\n", 6);
	return text;
}

static void check_long_line(size_t n, bool gzip)
{
	size_t length;
	char *text = long_line_text(n, &length);
	struct read_result r;
	if (gzip) {
		char *dir = make_temp_dir();
		char *path = path_in(dir, "mainlog.gz");
		/* write_gzip takes a C string: the text has no NULs */
		char *z = malloc(length + 1);
		ck_assert_ptr_nonnull(z);
		memcpy(z, text, length);
		z[length] = '\0';
		write_gzip(path, z, false);
		free(z);
		const char *paths[] = { path };
		read_all(paths, 1, &r);
		remove_tree(dir);
		free(path);
		free(dir);
	} else {
		read_bytes(text, length, &r);
	}
	free(text);

	bool cut = n > INPUT_LINE_MAX;
	ck_assert_uint_eq(r.count, 2);
	ck_assert_msg(r.truncated[0] == cut, "line of %zu bytes: truncated is %d", n, r.truncated[0]);
	ck_assert_uint_eq(r.lines[0].len, cut ? INPUT_LINE_MAX : n);
	for (size_t i = 0; i < r.lines[0].len; i++)
		ck_assert_msg(r.lines[0].data[i] == 'x', "byte %zu is not from the line", i);
	assert_line(r, 1, "next");
	ck_assert(!r.truncated[1]);
	ck_assert_uint_eq(r.numbers[1], 2);
	ck_assert_uint_eq(r.stats.truncated_lines, cut ? 1 : 0);
	ck_assert_uint_eq(r.stats.lines, 2);
	free_result(&r);
}

START_TEST(test_overlong_line_is_cut_once)
{
	check_long_line(INPUT_LINE_MAX + 100, false);
}
END_TEST

START_TEST(test_very_long_line_is_cut_once)
{
	check_long_line(3 * INPUT_LINE_MAX + 7, false);
}
END_TEST

START_TEST(test_overlong_line_after_a_short_one)
{
	/* the long line starts after a buffer refill, not at the file's start */
	size_t n = INPUT_LINE_MAX + 100;
	size_t length = 6 + n + 6;
	char *text = malloc(length);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "short\n", 6);
	memset(text + 6, 'x', n);
	memcpy(text + 6 + n, "\nnext\n", 6);
	struct read_result r;
	read_bytes(text, length, &r);
	free(text);
	ck_assert_uint_eq(r.count, 3);
	assert_line(r, 0, "short");
	ck_assert_msg(r.truncated[1], "a line of %zu bytes was not cut", n);
	ck_assert_uint_eq(r.lines[1].len, INPUT_LINE_MAX);
	assert_line(r, 2, "next");
	ck_assert_uint_eq(r.stats.truncated_lines, 1);
	free_result(&r);
}
END_TEST

START_TEST(test_overlong_line_in_gzip)
{
	check_long_line(INPUT_LINE_MAX + 100, true);
}
END_TEST

START_TEST(test_line_of_exactly_the_maximum_is_whole)
{
	/* input.h: only a line *longer* than INPUT_LINE_MAX is cut */
	check_long_line(INPUT_LINE_MAX, false);
}
END_TEST

START_TEST(test_line_just_under_the_maximum_is_whole)
{
	check_long_line(INPUT_LINE_MAX - 1, false);
}
END_TEST

/* ---- gzip ---- */

START_TEST(test_gzip_by_magic_not_name)
{
	char *dir = make_temp_dir();
	char *gz = path_in(dir, "mainlog"); /* gzip without .gz */
	char *plain = path_in(dir, "plain.gz"); /* plain with .gz */
	write_gzip(gz, "2024-01-01 00:00:00 first\n2024-01-01 00:00:01 second\n", false);
	write_file(plain, "2024-01-02 00:00:00 third\n", 26);
	const char *paths[] = { gz, plain };
	struct read_result r;
	read_all(paths, 2, &r);
	ck_assert_uint_eq(r.count, 3);
	assert_line(r, 0, "2024-01-01 00:00:00 first");
	assert_line(r, 1, "2024-01-01 00:00:01 second");
	assert_line(r, 2, "2024-01-02 00:00:00 third");
	ck_assert_uint_eq(r.stats.bytes, 26 + 27 + 26); /* decompressed, newlines included */
	ck_assert_uint_eq(r.stats.files_damaged, 0);
	free_result(&r);
	remove_tree(dir);
	free(gz);
	free(plain);
	free(dir);
}
END_TEST

START_TEST(test_gzip_concatenated_members)
{
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog.gz");
	/* the second member starts in the middle of a line */
	write_gzip(path, "one\ntw", false);
	write_gzip(path, "o\nthree\n", true);
	write_gzip(path, "four\n", true);
	const char *paths[] = { path };
	struct read_result r;
	read_all(paths, 1, &r);
	ck_assert_uint_eq(r.count, 4);
	assert_line(r, 0, "one");
	assert_line(r, 1, "two");
	assert_line(r, 2, "three");
	assert_line(r, 3, "four");
	ck_assert_uint_eq(r.stats.files_damaged, 0);
	ck_assert(!msg_had_input_error());
	free_result(&r);
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

/* Lines that compress badly, so a gzip of them is large enough to cut. */
static char *numbered_lines(size_t count)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned long state = 12345;
	for (size_t i = 0; i < count; i++) {
		strbuf_printf(&sb, "line %05zu ", i);
		for (int j = 0; j < 64; j++) {
			state = state * 1103515245 + 12345;
			strbuf_append_char(&sb, "0123456789abcdef"[(state >> 16) & 15]);
		}
		strbuf_append_char(&sb, '\n');
	}
	return sb.data;
}

/* The i-th line of numbered_lines() text (without its newline). */
static struct text nth_line(const char *text, size_t i)
{
	const char *p = text;
	for (size_t k = 0; k < i; k++)
		p = strchr(p, '\n') + 1;
	return text_make(p, (size_t)(strchr(p, '\n') - p));
}

static void check_damaged_gzip(bool truncate_it)
{
	enum { COUNT = 3000 };
	char *dir = make_temp_dir();
	char *damaged = path_in(dir, "mainlog.2.gz");
	char *good = path_in(dir, "mainlog.1");
	char *errors = path_in(dir, "stderr");
	char *text = numbered_lines(COUNT);
	write_gzip(damaged, text, false);
	write_file(good, "after the damage\n", 17);
	struct stat st;
	ck_assert_int_eq(stat(damaged, &st), 0);
	if (truncate_it) {
		ck_assert_int_eq(truncate(damaged, st.st_size / 2), 0);
	} else {
		/* overwrite a stretch in the middle of the deflate data */
		FILE *f = fopen(damaged, "r+b");
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(fseek(f, st.st_size / 2, SEEK_SET), 0);
		for (int i = 0; i < 64; i++)
			fputc(0xA5, f);
		fclose(f);
	}

	ck_assert(!msg_had_input_error());
	/* no timestamps: read in the order given */
	const char *paths[] = { damaged, good };
	int saved = capture_stderr(errors);
	struct read_result r;
	read_all(paths, 2, &r);
	restore_stderr(saved);

	ck_assert_msg(r.count >= 2, "no lines before the damage were returned");
	size_t from_damaged = r.count - 1;
	ck_assert_msg(from_damaged > COUNT / 4, "only %zu lines before the damage", from_damaged);
	/* A cut file ends where the data ends: every line returned is whole.
	 * Corrupt deflate data may decode to garbage before zlib notices (the
	 * CRC is checked at the member's end), so there only the lines well
	 * before the damaged stretch (written at half the file) must match. */
	size_t must_match = truncate_it ? from_damaged : COUNT / 4;
	if (truncate_it)
		ck_assert_msg(from_damaged < COUNT, "all %d lines came back from a cut file", COUNT);
	for (size_t i = 0; i < must_match; i++) {
		struct text want = nth_line(text, i);
		ck_assert_msg(r.lines[i].len == want.len &&
		                  memcmp(r.lines[i].data, want.ptr, want.len) == 0,
		              "line %zu differs from what was written", i);
	}
	assert_line(r, from_damaged, "after the damage");
	ck_assert_str_eq(r.files[from_damaged], good);
	ck_assert_uint_eq(r.stats.files_damaged, 1);
	ck_assert_uint_eq(r.stats.files_read, 2);
	ck_assert(msg_had_input_error());
	char *said = slurp(errors);
	ck_assert_msg(strstr(said, damaged) != NULL, "the warning does not name %s: %s", damaged, said);
	free(said);

	free_result(&r);
	free(text);
	remove_tree(dir);
	free(damaged);
	free(good);
	free(errors);
	free(dir);
}

START_TEST(test_gzip_truncated)
{
	check_damaged_gzip(true);
}
END_TEST

START_TEST(test_gzip_corrupt)
{
	check_damaged_gzip(false);
}
END_TEST

START_TEST(test_gzip_ratio_limit)
{
	/* small outputs are never a bomb; past the floor, the ratio decides */
	ck_assert(!input_gzip_ratio_exceeded(1, INPUT_GZIP_RATIO_FLOOR));
	ck_assert(!input_gzip_ratio_exceeded(1 << 20, 100 * (uint64_t)(1 << 20)));
	ck_assert(input_gzip_ratio_exceeded(1 << 20, 101 * (uint64_t)(1 << 20)));
	ck_assert(!input_gzip_ratio_exceeded(UINT64_C(1) << 30, UINT64_C(30) << 30));
}
END_TEST

/* ---- several files ---- */

START_TEST(test_fifo_is_read_once)
{
	/* a FIFO (or bash's <(...)) cannot be reopened: what the ordering
	 * peeked at must still be read, once */
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *fifo = path_in(dir, "fifo");
	char *plain = path_in(dir, "plain");
	static const char later[] = "2024-01-02 00:00:00 Start queue run: pid=2\n";
	static const char earlier[] = "2024-01-01 00:00:00 Start queue run: pid=1\n";
	write_file(plain, later, sizeof later - 1);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	pid_t writer = write_into_fifo(fifo, earlier);
	const char *paths[] = { plain, fifo };
	struct read_result r;
	read_all(paths, 2, &r);
	int status;
	ck_assert_int_eq(waitpid(writer, &status, 0), writer);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "2024-01-01 00:00:00 Start queue run: pid=1");
	assert_line(r, 1, "2024-01-02 00:00:00 Start queue run: pid=2");
	ck_assert_uint_eq(r.stats.files_read, 2);
	free_result(&r);
	remove_tree(dir);
	free(fifo);
	free(plain);
	free(dir);
}
END_TEST

START_TEST(test_file_replaced_after_ordering_is_the_file_read)
{
	/* rotation between input_open (which orders by peeking) and the
	 * file's turn: the file ordered is the one read */
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *older = path_in(dir, "exim_mainlog.1");
	char *newer = path_in(dir, "exim_mainlog");
	char *moved = path_in(dir, "exim_mainlog.moved");
	static const char old_text[] = "2024-01-01 00:00:00 Start queue run: pid=1\n";
	static const char new_text[] = "2024-01-02 00:00:00 Start queue run: pid=2\n";
	static const char replacement[] = "2024-01-03 00:00:00 Start queue run: pid=3\n";
	write_file(older, old_text, sizeof old_text - 1);
	write_file(newer, new_text, sizeof new_text - 1);
	const char *paths[] = { newer, older };
	struct input *input = input_open(paths, 2);
	ck_assert_int_eq(rename(newer, moved), 0);
	write_file(newer, replacement, sizeof replacement - 1);
	struct read_result r;
	collect(input, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "2024-01-01 00:00:00 Start queue run: pid=1");
	assert_line(r, 1, "2024-01-02 00:00:00 Start queue run: pid=2");
	free_result(&r);
	remove_tree(dir);
	free(older);
	free(newer);
	free(moved);
	free(dir);
}
END_TEST

/* ---- reading twice (grep's two passes) ---- */

static void assert_same_reads(const struct read_result *a, const struct read_result *b)
{
	ck_assert_uint_eq(a->count, b->count);
	for (size_t i = 0; i < a->count; i++) {
		assert_text(strbuf_text(&b->lines[i]), a->lines[i].data);
		ck_assert_str_eq(a->files[i], b->files[i]);
		ck_assert_uint_eq(a->numbers[i], b->numbers[i]);
		ck_assert_int_eq(a->truncated[i], b->truncated[i]);
		ck_assert_int_eq(a->first_of_file[i], b->first_of_file[i]);
	}
	ck_assert_uint_eq(a->stats.lines, b->stats.lines);
	ck_assert_uint_eq(a->stats.bytes, b->stats.bytes);
	ck_assert_uint_eq(a->stats.truncated_lines, b->stats.truncated_lines);
	ck_assert_uint_eq(a->stats.files_read, b->stats.files_read);
	ck_assert_uint_eq(a->stats.files_failed, b->stats.files_failed);
	ck_assert_uint_eq(a->stats.files_damaged, b->stats.files_damaged);
}

START_TEST(test_reread_returns_the_same_lines)
{
	/* plain and gzip, named newest first, an over-long line, CRLF, a file
	 * that is missing: the second pass is the first again, line for line,
	 * and the missing file is not told twice */
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *newer = path_in(dir, "exim_mainlog");
	char *older = path_in(dir, "exim_mainlog.1.gz");
	char *missing = path_in(dir, "exim_mainlog.2");
	char *errors = path_in(dir, "stderr");
	struct strbuf text = STRBUF_INIT;
	strbuf_append_str(&text, "2024-01-02 00:00:00 1rkNul-000008-AA Completed\r\n");
	strbuf_append_str(&text, "2024-01-02 00:00:01 Start queue run: ");
	for (size_t i = 0; i < INPUT_LINE_MAX; i++)
		strbuf_append_char(&text, 'x');
	strbuf_append_str(&text, "\n2024-01-02 00:00:02 End queue run: pid=1\n");
	write_file(newer, text.data, text.len);
	write_gzip(older, "2024-01-01 00:00:00 1rkNul-000008-AA <= a@example.com\n"
	                  "continued\n", false);
	const char *paths[] = { newer, missing, older };
	int saved = capture_stderr(errors);
	struct input *input = input_open(paths, 3);
	ck_assert(input_keep_for_rereading(input));
	struct read_result first, second;
	collect_pass(input, &first);
	input_reread(input);
	collect(input, &second);
	restore_stderr(saved);
	ck_assert_uint_eq(first.count, 5);
	assert_line(first, 0, "2024-01-01 00:00:00 1rkNul-000008-AA <= a@example.com");
	assert_line(first, 2, "2024-01-02 00:00:00 1rkNul-000008-AA Completed");
	ck_assert_uint_eq(first.stats.files_failed, 1);
	assert_same_reads(&first, &second);
	size_t length;
	char *told = read_file(errors, &length);
	ck_assert_ptr_nonnull(told);
	ck_assert_ptr_nonnull(strstr(told, "cannot open"));
	ck_assert_ptr_null(strstr(strstr(told, "cannot open") + 1, "cannot open"));
	free(told);
	free_result(&first);
	free_result(&second);
	strbuf_release(&text);
	remove_tree(dir);
	free(newer);
	free(older);
	free(missing);
	free(errors);
	free(dir);
}
END_TEST

/* What input_next_block hands out, split into lines as its callers must
 * (input.h): the lines input_next_line returns, in r->lines. */
static void collect_blocks(const char *const *paths, size_t n, struct read_result *r)
{
	memset(r, 0, sizeof *r);
	struct input *input = open_files(paths, n);
	size_t capacity = 0;
	struct input_block block;
	while (input_next_block(input, &block)) {
		bool first = input_file_changed(input);
		const char *s = block.text.ptr, *end = s + block.text.len;
		ck_assert_msg(block.text.len > 0, "an empty block");
		while (s < end) {
			const char *newline = memchr(s, '\n', (size_t)(end - s));
			size_t length = (size_t)((newline ? newline : end) - s);
			bool cut = length > INPUT_LINE_MAX || block.cut;
			if (newline && length > 0 && s[length - 1] == '\r')
				length--;
			if (length > INPUT_LINE_MAX)
				length = INPUT_LINE_MAX;
			if (r->count == capacity) {
				capacity = capacity ? capacity * 2 : 16;
				r->lines = realloc(r->lines, capacity * sizeof *r->lines);
				r->truncated = realloc(r->truncated, capacity * sizeof *r->truncated);
				r->first_of_file =
					realloc(r->first_of_file, capacity * sizeof *r->first_of_file);
				ck_assert(r->lines && r->truncated && r->first_of_file);
			}
			size_t i = r->count++;
			strbuf_init(&r->lines[i]);
			strbuf_append(&r->lines[i], s, length);
			r->truncated[i] = cut;
			r->first_of_file[i] = first && s == block.text.ptr;
			s = newline ? newline + 1 : end;
		}
	}
	r->stats = *input_get_stats(input);
	input_free(input);
}

START_TEST(test_blocks_hold_the_lines_read_line_by_line)
{
	/* CRLF, a CR alone, lines over the cap with and without their newline
	 * in the buffer, a last line without one, gzip, a missing file */
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *newer = path_in(dir, "exim_mainlog");
	char *older = path_in(dir, "exim_mainlog.1.gz");
	char *missing = path_in(dir, "exim_mainlog.2");
	char *errors = path_in(dir, "stderr");
	struct strbuf text = STRBUF_INIT;
	strbuf_append_str(&text, "2024-01-02 00:00:00 1rkNul-000008-AA Completed\r\n\r\n\n");
	strbuf_append_str(&text, "2024-01-02 00:00:01 over the cap: ");
	for (size_t i = 0; i < INPUT_LINE_MAX + 10; i++)
		strbuf_append_char(&text, 'x');
	strbuf_append_str(&text, "\r\n2024-01-02 00:00:02 far over the buffer: ");
	for (size_t i = 0; i < INPUT_BUFFER_SIZE + 1000; i++)
		strbuf_append_char(&text, (char)('a' + i % 26));
	strbuf_append_str(&text, "\nlone\rcarriage return\n");
	for (int i = 0; i < 40000; i++)
		strbuf_printf(&text, "2024-01-02 00:01:%02d line %d of many\n", i % 60, i);
	strbuf_append_str(&text, "the last, without a newline\r");
	write_file(newer, text.data, text.len);
	write_gzip(older, "2024-01-01 00:00:00 1rkNul-000008-AA <= a@example.com\r\n"
	                  "continued\n", false);
	const char *paths[] = { newer, missing, older };
	int saved = capture_stderr(errors);
	struct read_result lines, blocks;
	read_all(paths, 3, &lines);
	collect_blocks(paths, 3, &blocks);
	restore_stderr(saved);
	ck_assert_uint_gt(lines.count, 40000);
	ck_assert_uint_eq(blocks.count, lines.count);
	for (size_t i = 0; i < lines.count; i++) {
		ck_assert_msg(strbuf_text(&blocks.lines[i]).len == strbuf_text(&lines.lines[i]).len &&
		              memcmp(blocks.lines[i].data, lines.lines[i].data,
		                     lines.lines[i].len) == 0,
		              "line %zu: blocks hold \"%.40s\", lines \"%.40s\"", i + 1,
		              blocks.lines[i].data, lines.lines[i].data);
		ck_assert_msg(blocks.truncated[i] == lines.truncated[i], "line %zu: cut %d, %d",
		              i + 1, blocks.truncated[i], lines.truncated[i]);
		ck_assert_msg(blocks.first_of_file[i] == lines.first_of_file[i],
		              "line %zu: a new file %d, %d", i + 1, blocks.first_of_file[i],
		              lines.first_of_file[i]);
	}
	ck_assert_uint_eq(blocks.stats.files_failed, lines.stats.files_failed);
	free_result(&lines);
	free_result(&blocks);
	strbuf_release(&text);
	remove_tree(dir);
	free(newer);
	free(older);
	free(missing);
	free(errors);
	free(dir);
}
END_TEST

START_TEST(test_reread_stops_where_the_first_read_ended)
{
	/* the log is written to between the passes: the half-written last
	 * line is read as it was, and the lines after it not at all, so both
	 * passes see the same lines */
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *path = path_in(dir, "exim_mainlog");
	static const char before[] = "2024-01-01 00:00:00 Start queue run: pid=1\n"
	                             "2024-01-01 00:00:01 End queue";
	write_file(path, before, sizeof before - 1);
	const char *paths[] = { path };
	struct input *input = input_open(paths, 1);
	ck_assert(input_keep_for_rereading(input));
	struct read_result first, second;
	collect_pass(input, &first);
	FILE *log = fopen(path, "a");
	ck_assert_ptr_nonnull(log);
	fputs(" run: pid=1\n2024-01-01 00:00:02 Start queue run: pid=2\n", log);
	ck_assert_int_eq(fclose(log), 0);
	input_reread(input);
	collect(input, &second);
	ck_assert_uint_eq(first.count, 2);
	assert_line(first, 1, "2024-01-01 00:00:01 End queue");
	assert_same_reads(&first, &second);
	free_result(&first);
	free_result(&second);
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_reread_reads_the_file_read_even_if_rotated)
{
	/* logrotate between the passes: the second reads the file the first
	 * read (now under another name), not the new one at its name */
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *path = path_in(dir, "exim_mainlog");
	char *rotated = path_in(dir, "exim_mainlog.1");
	static const char old_text[] = "2024-01-01 00:00:00 Start queue run: pid=1\n";
	static const char new_text[] = "2024-01-02 00:00:00 Start queue run: pid=2\n";
	write_file(path, old_text, sizeof old_text - 1);
	const char *paths[] = { path };
	struct input *input = input_open(paths, 1);
	ck_assert(input_keep_for_rereading(input));
	struct read_result first, second;
	collect_pass(input, &first);
	ck_assert_int_eq(rename(path, rotated), 0);
	write_file(path, new_text, sizeof new_text - 1);
	input_reread(input);
	collect(input, &second);
	ck_assert_uint_eq(second.count, 1);
	assert_line(second, 0, "2024-01-01 00:00:00 Start queue run: pid=1");
	free_result(&first);
	free_result(&second);
	remove_tree(dir);
	free(path);
	free(rotated);
	free(dir);
}
END_TEST

START_TEST(test_reread_after_a_first_pass_that_stopped_early)
{
	/* grep's first pass gives up when too many messages match: the second
	 * must still read every line of every file */
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *newer = path_in(dir, "exim_mainlog");
	char *older = path_in(dir, "exim_mainlog.1");
	static const char old_text[] = "2024-01-01 00:00:00 Start queue run: pid=1\n"
	                               "2024-01-01 00:00:01 End queue run: pid=1\n";
	static const char new_text[] = "2024-01-02 00:00:00 Start queue run: pid=2\n";
	write_file(older, old_text, sizeof old_text - 1);
	write_file(newer, new_text, sizeof new_text - 1);
	const char *paths[] = { newer, older };
	struct input *input = input_open(paths, 2);
	ck_assert(input_keep_for_rereading(input));
	struct input_line line;
	ck_assert(input_next_line(input, &line));
	input_reread(input);
	struct read_result r;
	collect(input, &r);
	ck_assert_uint_eq(r.count, 3);
	assert_line(r, 0, "2024-01-01 00:00:00 Start queue run: pid=1");
	assert_line(r, 2, "2024-01-02 00:00:00 Start queue run: pid=2");
	free_result(&r);
	remove_tree(dir);
	free(newer);
	free(older);
	free(dir);
}
END_TEST

START_TEST(test_reread_refused_for_a_fifo_and_a_plan)
{
	/* what cannot be read twice says so before anything is read */
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *fifo = path_in(dir, "fifo");
	static const char text[] = "2024-01-01 00:00:00 Start queue run: pid=1\n";
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	pid_t writer = write_into_fifo(fifo, text);
	const char *paths[] = { fifo };
	struct input *input = input_open(paths, 1);
	ck_assert(!input_keep_for_rereading(input));
	struct read_result r;
	collect(input, &r);
	int status;
	ck_assert_int_eq(waitpid(writer, &status, 0), writer);
	ck_assert_uint_eq(r.count, 1);
	free_result(&r);

	char *plain = path_in(dir, "plain");
	write_file(plain, text, sizeof text - 1);
	struct input_start start = { plain, 0 };
	input = input_open_at(&start, 1);
	ck_assert(!input_keep_for_rereading(input));
	input_free(input);
	remove_tree(dir);
	free(fifo);
	free(plain);
	free(dir);
}
END_TEST

START_TEST(test_rotated_set_read_oldest_first)
{
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *newest = path_in(dir, "exim_mainlog");
	char *middle = path_in(dir, "exim_mainlog.1");
	char *oldest = path_in(dir, "exim_mainlog.2.gz");
	static const char newest_text[] =
		"2024-01-03 08:00:00 1rLz7o-000000001bo-D342 Completed\n"
		"2024-01-03 09:00:00 Start queue run: pid=1234\n";
	/* begins with lines without a timestamp: the first stamp decides */
	static const char middle_text[] =
		"\n"
		"  continued\n"
		"2024-01-02 08:00:00 1rLz7o-000000001bo-D342 => a@b.example R=r T=t\n"
		"2024-01-02 09:00:00 1rLz7o-000000001bo-D342 == c@d.example R=r T=t defer (-44): x\n";
	write_file(newest, newest_text, sizeof newest_text - 1);
	write_file(middle, middle_text, sizeof middle_text - 1);
	write_gzip(oldest,
	           "2024-01-01 08:00:00 1rLz7o-000000001bo-D342 <= x@y.example H=[192.0.2.1] P=smtp S=1\n"
	           "2024-01-01 09:00:00 End queue run: pid=1\n",
	           false);

	const char *paths[] = { middle, newest, oldest }; /* shuffled */
	struct read_result r;
	read_all(paths, 3, &r);

	ck_assert_uint_eq(r.file_count, 3);
	ck_assert_str_eq(r.order[0], oldest);
	ck_assert_str_eq(r.order[1], middle);
	ck_assert_str_eq(r.order[2], newest);

	ck_assert_uint_eq(r.count, 8);
	assert_line(r, 0, "2024-01-01 08:00:00 1rLz7o-000000001bo-D342 <= x@y.example H=[192.0.2.1] P=smtp S=1");
	assert_line(r, 2, "");
	assert_line(r, 4, "2024-01-02 08:00:00 1rLz7o-000000001bo-D342 => a@b.example R=r T=t");
	assert_line(r, 6, "2024-01-03 08:00:00 1rLz7o-000000001bo-D342 Completed");
	ck_assert_str_eq(r.files[0], oldest);
	ck_assert_str_eq(r.files[1], oldest);
	ck_assert_str_eq(r.files[2], middle);
	ck_assert_str_eq(r.files[5], middle);
	ck_assert_str_eq(r.files[6], newest);
	for (size_t i = 0; i < r.count; i++)
		ck_assert_msg(r.first_of_file[i] == (i == 0 || i == 2 || i == 6),
		              "input_file_changed() wrong after line %zu", i);
	ck_assert_uint_eq(r.numbers[2], 1);
	ck_assert_uint_eq(r.numbers[5], 4);
	ck_assert_uint_eq(r.numbers[6], 1);
	ck_assert_uint_eq(r.stats.files_read, 3);
	ck_assert_uint_eq(r.stats.lines, 8);
	free_result(&r);
	remove_tree(dir);
	free(newest);
	free(middle);
	free(oldest);
	free(dir);
}
END_TEST

START_TEST(test_missing_file_among_good_ones)
{
	char *dir = make_temp_dir();
	char *first = path_in(dir, "a");
	char *missing = path_in(dir, "no-such-file");
	char *last = path_in(dir, "b");
	char *errors = path_in(dir, "stderr");
	write_file(first, "first\n", 6);
	write_file(last, "last\n", 5);
	const char *paths[] = { first, missing, dir, last };
	ck_assert(!msg_had_input_error());
	int saved = capture_stderr(errors);
	struct read_result r;
	read_all(paths, 4, &r);
	restore_stderr(saved);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "first");
	assert_line(r, 1, "last");
	ck_assert_uint_eq(r.stats.files_read, 2);
	ck_assert_uint_eq(r.stats.files_failed, 2); /* the missing file and the directory */
	ck_assert(msg_had_input_error());
	char *said = slurp(errors);
	ck_assert_msg(strstr(said, missing) != NULL, "stderr does not name the missing file: %s", said);
	ck_assert_msg(strstr(said, strerror(ENOENT)) != NULL, "stderr does not give the cause: %s", said);
	free(said);
	free_result(&r);
	remove_tree(dir);
	free(first);
	free(missing);
	free(last);
	free(errors);
	free(dir);
}
END_TEST

START_TEST(test_only_missing_file)
{
	const char *paths[] = { "/nonexistent/eximexplain/mainlog" };
	int saved = capture_stderr("/dev/null");
	struct read_result r;
	read_all(paths, 1, &r);
	restore_stderr(saved);
	ck_assert_uint_eq(r.count, 0);
	ck_assert_uint_eq(r.stats.files_failed, 1);
	ck_assert_uint_eq(r.stats.files_read, 0);
	ck_assert(msg_had_input_error());
	free_result(&r);
}
END_TEST

/* ---- stdin ---- */

static void stdin_from_pipe(const char *text)
{
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	size_t length = strlen(text);
	ck_assert_msg(length < 4096, "pipe fixture too big to write before reading");
	ck_assert_int_eq(write(fds[1], text, length), (ssize_t)length);
	close(fds[1]);
	ck_assert_int_ge(dup2(fds[0], STDIN_FILENO), 0);
	close(fds[0]);
}

static void stdin_from_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_ge(dup2(fd, STDIN_FILENO), 0);
	close(fd);
}

START_TEST(test_stdin_dash)
{
	stdin_from_pipe("2024-01-01 00:00:00 one\ntwo\n");
	const char *paths[] = { "-" };
	struct read_result r;
	read_all(paths, 1, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "2024-01-01 00:00:00 one");
	assert_line(r, 1, "two");
	ck_assert(r.first_of_file[0]);
	ck_assert_uint_eq(r.stats.files_read, 1);
	free_result(&r);
}
END_TEST

START_TEST(test_stdin_when_no_file_named)
{
	stdin_from_pipe("only\n");
	struct read_result r;
	read_all(NULL, 0, &r);
	ck_assert_uint_eq(r.count, 1);
	assert_line(r, 0, "only");
	free_result(&r);
}
END_TEST

START_TEST(test_stdin_gzip)
{
	char *dir = make_temp_dir();
	char *path = path_in(dir, "in.gz");
	write_gzip(path, "zipped one\nzipped two\n", false);
	stdin_from_file(path);
	const char *paths[] = { "-" };
	struct read_result r;
	read_all(paths, 1, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "zipped one");
	assert_line(r, 1, "zipped two");
	free_result(&r);
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_stdin_ordered_among_files)
{
	/* stdin is peeked for its first time like any file */
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *older = path_in(dir, "mainlog.1");
	static const char text[] = "2024-01-01 00:00:00 from the file\n";
	write_file(older, text, sizeof text - 1);
	stdin_from_pipe("2024-01-02 00:00:00 from stdin\n");
	const char *paths[] = { "-", older };
	struct read_result r;
	read_all(paths, 2, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "2024-01-01 00:00:00 from the file");
	assert_line(r, 1, "2024-01-02 00:00:00 from stdin");
	ck_assert_str_eq(r.order[0], older);
	ck_assert_str_eq(r.order[1], "-");
	free_result(&r);
	remove_tree(dir);
	free(older);
	free(dir);
}
END_TEST

/* ---- planned reads: input_open_at ---- */

static void append_file(const char *path, const void *bytes, size_t length)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, bytes, length), (ssize_t)length);
	ck_assert_int_eq(close(fd), 0);
}

/* write_gzip() takes a C string: these bytes (no NULs) as one member. */
static void write_gzip_bytes(const char *path, const char *bytes, size_t length, bool append)
{
	char *z = malloc(length + 1);
	ck_assert_ptr_nonnull(z);
	memcpy(z, bytes, length);
	z[length] = '\0';
	write_gzip(path, z, append);
	free(z);
}

#define assert_position(r, i, want_gzip, want_offset)                                  \
	do {                                                                           \
		ck_assert_msg((r).position[i].opened, "file %d not opened", (int)(i)); \
		ck_assert_int_eq((r).position[i].gzip, (want_gzip));                   \
		ck_assert_uint_eq((r).position[i].offset, (want_offset));              \
	} while (0)

START_TEST(test_at_resume_after_append)
{
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	write_file(path, "one\ntwo\n", 8);
	struct read_result r;
	read_at(path, 0, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "one");
	assert_line(r, 1, "two");
	assert_position(r, 0, false, 8);
	free_result(&r);

	append_file(path, "three\nfour\n", 11);
	read_at(path, 8, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "three");
	assert_line(r, 1, "four");
	ck_assert_uint_eq(r.numbers[0], 1); /* counted from the start offset */
	ck_assert(r.first_of_file[0]);
	ck_assert_uint_eq(r.stats.lines, 2);
	ck_assert_uint_eq(r.stats.bytes, 11);
	assert_position(r, 0, false, 19);
	free_result(&r);

	read_at(path, 19, &r);
	ck_assert_uint_eq(r.count, 0);
	ck_assert_uint_eq(r.stats.files_read, 1);
	assert_position(r, 0, false, 19);
	free_result(&r);
	ck_assert(!msg_had_input_error());
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_at_offset_inside_a_line)
{
	/* "first\n" is bytes 0-5, "second\n" 6-12, "third\n" 13-18 */
	static const char text[] = "first\nsecond\nthird\n";
	static const struct {
		uint64_t offset;
		size_t count; /* the last count lines come back */
	} cases[] = {
		{ 0, 3 }, { 1, 2 }, { 5, 2 }, /* 5: first's newline is not consumed yet */
		{ 6, 2 }, { 7, 1 }, { 12, 1 }, { 13, 1 }, { 14, 0 }, { 18, 0 }, { 19, 0 },
	};
	static const char *const lines[] = { "first", "second", "third" };
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	write_file(path, text, sizeof text - 1);
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		struct read_result r;
		read_at(path, cases[c].offset, &r);
		ck_assert_msg(r.count == cases[c].count, "from %llu: %zu lines, not %zu",
		              (unsigned long long)cases[c].offset, r.count, cases[c].count);
		for (size_t i = 0; i < r.count; i++)
			assert_line(r, i, lines[3 - r.count + i]);
		assert_position(r, 0, false, sizeof text - 1);
		free_result(&r);
	}
	ck_assert(!msg_had_input_error());
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

/* Every start offset of a small file, against the rule that holds them
 * all: a line comes back iff it starts at or after the offset (and, in a
 * plain file, ends with a newline). */
static void check_every_offset(const char *text, size_t length, bool gzip)
{
	char *dir = make_temp_dir();
	char *path = path_in(dir, gzip ? "mainlog.gz" : "mainlog");
	if (gzip) {
		/* two members, split inside the second line */
		write_gzip_bytes(path, text, 5, false);
		write_gzip_bytes(path, text + 5, length - 5, true);
	} else {
		write_file(path, text, length);
	}
	size_t tail_start = length; /* where an unterminated last line starts */
	while (tail_start > 0 && text[tail_start - 1] != '\n')
		tail_start--;
	for (uint64_t offset = 0; offset <= length + 2; offset++) {
		struct strbuf want = STRBUF_INIT, got = STRBUF_INIT;
		size_t start = 0;
		for (size_t i = 0; i < length; i++) {
			if (text[i] != '\n' && i + 1 < length)
				continue;
			size_t end = text[i] == '\n' ? i : i + 1;
			if (start >= offset && (text[i] == '\n' || gzip)) {
				size_t cut = end > start && text[end - 1] == '\r' && text[i] == '\n';
				strbuf_append_text(&want, text_make(text + start, end - start - cut));
				strbuf_append_char(&want, '|');
			}
			start = i + 1;
		}
		struct read_result r;
		read_at(path, offset, &r);
		for (size_t i = 0; i < r.count; i++) {
			strbuf_append_text(&got, strbuf_text(&r.lines[i]));
			strbuf_append_char(&got, '|');
		}
		ck_assert_msg(text_equals(strbuf_text(&got), want.data ? want.data : ""),
		              "%s from %llu: got \"%s\", want \"%s\"", gzip ? "gzip" : "plain",
		              (unsigned long long)offset, got.data ? got.data : "",
		              want.data ? want.data : "");
		uint64_t end = gzip || offset > tail_start ? length : tail_start;
		assert_position(r, 0, gzip, end);
		free_result(&r);
		strbuf_release(&want);
		strbuf_release(&got);
	}
	ck_assert(!msg_had_input_error());
	remove_tree(dir);
	free(path);
	free(dir);
}

START_TEST(test_at_every_offset_plain)
{
	static const char text[] = "a\r\n\nbb\nccc\r\n\r\nd\rd\nee";
	check_every_offset(text, sizeof text - 1, false);
}
END_TEST

START_TEST(test_at_every_offset_gzip)
{
	static const char text[] = "a\r\n\nbb\nccc\r\n\r\nd\rd\nee";
	check_every_offset(text, sizeof text - 1, true);
}
END_TEST

START_TEST(test_at_offset_past_the_end)
{
	char *dir = make_temp_dir();
	char *plain = path_in(dir, "mainlog");
	char *gz = path_in(dir, "mainlog.1.gz");
	write_file(plain, "one\ntwo\n", 8);
	write_gzip(gz, "one\ntwo\n", false);
	static const uint64_t offsets[] = { 9, 100, 1u << 30, UINT64_MAX };
	for (size_t i = 0; i < sizeof offsets / sizeof *offsets; i++) {
		struct read_result r;
		read_at(plain, offsets[i], &r);
		ck_assert_uint_eq(r.count, 0);
		ck_assert_uint_eq(r.stats.files_read, 1);
		ck_assert_uint_eq(r.stats.files_failed, 0);
		assert_position(r, 0, false, 8); /* the file's length */
		free_result(&r);
		read_at(gz, offsets[i], &r);
		ck_assert_uint_eq(r.count, 0);
		ck_assert_uint_eq(r.stats.files_damaged, 0);
		assert_position(r, 0, true, 8);
		free_result(&r);
	}
	ck_assert(!msg_had_input_error());
	remove_tree(dir);
	free(plain);
	free(gz);
	free(dir);
}
END_TEST

START_TEST(test_at_unterminated_last_line_is_held)
{
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	write_file(path, "one\ntw", 6);
	struct read_result r;
	read_at(path, 0, &r);
	ck_assert_uint_eq(r.count, 1);
	assert_line(r, 0, "one");
	ck_assert_uint_eq(r.stats.bytes, 4);
	assert_position(r, 0, false, 4);
	free_result(&r);

	/* input_open still returns it, and counts it */
	const char *paths[] = { path };
	read_all(paths, 1, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 1, "tw");
	assert_position(r, 0, false, 6);
	free_result(&r);

	append_file(path, "o\nthr", 5);
	read_at(path, 4, &r);
	ck_assert_uint_eq(r.count, 1);
	assert_line(r, 0, "two");
	assert_position(r, 0, false, 8);
	free_result(&r);

	append_file(path, "ee\n", 3);
	read_at(path, 8, &r);
	ck_assert_uint_eq(r.count, 1);
	assert_line(r, 0, "three");
	assert_position(r, 0, false, 14);
	free_result(&r);

	/* nothing but a line being written */
	write_file(path, "half", 4);
	read_at(path, 0, &r);
	ck_assert_uint_eq(r.count, 0);
	assert_position(r, 0, false, 0);
	free_result(&r);
	ck_assert(!msg_had_input_error());
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_at_gzip_skips_decompressed_bytes)
{
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog.1.gz");
	/* "one\ntwo\nthree\nfour\n" in three members, the second starting
	 * inside "two" */
	write_gzip(path, "one\ntw", false);
	write_gzip(path, "o\nthree\n", true);
	write_gzip(path, "four\n", true);
	static const struct {
		uint64_t offset;
		size_t count;
	} cases[] = { { 0, 4 }, { 4, 3 }, { 6, 2 }, { 8, 2 }, { 14, 1 }, { 15, 0 }, { 19, 0 } };
	static const char *const lines[] = { "one", "two", "three", "four" };
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		struct read_result r;
		read_at(path, cases[c].offset, &r);
		ck_assert_msg(r.count == cases[c].count, "from %llu: %zu lines, not %zu",
		              (unsigned long long)cases[c].offset, r.count, cases[c].count);
		for (size_t i = 0; i < r.count; i++)
			assert_line(r, i, lines[4 - r.count + i]);
		assert_position(r, 0, true, 19);
		ck_assert_uint_eq(r.stats.files_damaged, 0);
		free_result(&r);
	}

	/* a finished (rotated) file: its unterminated last line is whole */
	write_gzip(path, "a\nb", false);
	struct read_result r;
	read_at(path, 0, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 1, "b");
	assert_position(r, 0, true, 3);
	free_result(&r);
	ck_assert(!msg_had_input_error());
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_at_device_and_inode)
{
	char *dir = make_temp_dir();
	char *plain = path_in(dir, "mainlog");
	char *gz = path_in(dir, "mainlog.1.gz");
	write_file(plain, "one\n", 4);
	write_gzip(gz, "zipped\n", false);
	const struct input_start starts[] = { { gz, 0 }, { plain, 0 } };
	struct read_result r;
	collect(input_open_at(starts, 2), &r);
	struct stat st;
	ck_assert_int_eq(stat(gz, &st), 0);
	ck_assert_uint_eq(r.position[0].device, (uint64_t)st.st_dev);
	ck_assert_uint_eq(r.position[0].inode, (uint64_t)st.st_ino);
	assert_position(r, 0, true, 7);
	ck_assert_int_eq(stat(plain, &st), 0);
	ck_assert_uint_eq(r.position[1].device, (uint64_t)st.st_dev);
	ck_assert_uint_eq(r.position[1].inode, (uint64_t)st.st_ino);
	assert_position(r, 1, false, 4);
	free_result(&r);
	remove_tree(dir);
	free(plain);
	free(gz);
	free(dir);
}
END_TEST

START_TEST(test_at_file_replaced_while_read)
{
	/* logrotate renames the file after it was opened: the position is
	 * the file actually read, not what the path names now */
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	char *rotated = path_in(dir, "mainlog.1");
	char *fresh = path_in(dir, "fresh");
	write_file(path, "one\ntwo\n", 8);
	write_file(fresh, "new\n", 4);
	struct stat old, now;
	ck_assert_int_eq(stat(path, &old), 0);

	struct input_start start = { path, 0 };
	struct input *input = input_open_at(&start, 1);
	struct input_line line;
	ck_assert(input_next_line(input, &line));
	assert_text(line.text, "one");
	ck_assert_int_eq(rename(path, rotated), 0);
	ck_assert_int_eq(rename(fresh, path), 0);
	ck_assert(input_next_line(input, &line));
	assert_text(line.text, "two");
	ck_assert(!input_next_line(input, &line));
	struct input_position position;
	ck_assert(input_file_position(input, 0, &position));
	input_free(input);

	ck_assert_int_eq(stat(path, &now), 0);
	ck_assert_uint_ne((uint64_t)now.st_ino, (uint64_t)old.st_ino);
	ck_assert(position.opened);
	ck_assert_uint_eq(position.device, (uint64_t)old.st_dev);
	ck_assert_uint_eq(position.inode, (uint64_t)old.st_ino);
	ck_assert_uint_eq(position.offset, 8);
	remove_tree(dir);
	free(path);
	free(rotated);
	free(fresh);
	free(dir);
}
END_TEST

START_TEST(test_at_files_read_in_the_order_given)
{
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *newer = path_in(dir, "exim_mainlog");
	char *older = path_in(dir, "exim_mainlog.1.gz");
	static const char newer_text[] =
		"2024-01-03 08:00:00 newer one\n2024-01-03 09:00:00 newer two\n";
	write_file(newer, newer_text, sizeof newer_text - 1);
	write_gzip(older, "2024-01-01 08:00:00 older one\n2024-01-01 09:00:00 older two\n", false);
	/* input_open would read older first; a plan is read as given */
	const struct input_start starts[] = { { newer, 30 }, { older, 30 } };
	struct read_result r;
	collect(input_open_at(starts, 2), &r);
	ck_assert_uint_eq(r.file_count, 2);
	ck_assert_str_eq(r.order[0], newer);
	ck_assert_str_eq(r.order[1], older);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "2024-01-03 09:00:00 newer two");
	assert_line(r, 1, "2024-01-01 09:00:00 older two");
	ck_assert_str_eq(r.files[0], newer);
	ck_assert_str_eq(r.files[1], older);
	ck_assert(r.first_of_file[0] && r.first_of_file[1]);
	assert_position(r, 0, false, 60);
	assert_position(r, 1, true, 60);
	ck_assert_uint_eq(r.stats.files_read, 2);
	free_result(&r);
	remove_tree(dir);
	free(newer);
	free(older);
	free(dir);
}
END_TEST

START_TEST(test_at_missing_file_in_the_middle)
{
	char *dir = make_temp_dir();
	char *first = path_in(dir, "a");
	char *missing = path_in(dir, "no-such-file");
	char *last = path_in(dir, "b");
	char *errors = path_in(dir, "stderr");
	write_file(first, "first\n", 6);
	write_file(last, "skipped\nlast\n", 13);
	const struct input_start starts[] = { { first, 0 }, { missing, 0 }, { dir, 0 }, { last, 8 } };
	ck_assert(!msg_had_input_error());
	int saved = capture_stderr(errors);
	struct read_result r;
	collect(input_open_at(starts, 4), &r);
	restore_stderr(saved);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "first");
	assert_line(r, 1, "last");
	ck_assert_uint_eq(r.file_count, 4);
	ck_assert_str_eq(r.order[1], missing);
	assert_position(r, 0, false, 6);
	ck_assert(!r.position[1].opened);
	ck_assert(!r.position[2].opened);
	assert_position(r, 3, false, 13);
	ck_assert_uint_eq(r.stats.files_read, 2);
	ck_assert_uint_eq(r.stats.files_failed, 2);
	ck_assert(msg_had_input_error());
	char *said = slurp(errors);
	ck_assert_msg(strstr(said, missing) != NULL, "stderr does not name the missing file: %s", said);
	ck_assert_msg(strstr(said, strerror(ENOENT)) != NULL, "stderr does not give the cause: %s", said);
	free(said);
	free_result(&r);
	remove_tree(dir);
	free(first);
	free(missing);
	free(last);
	free(errors);
	free(dir);
}
END_TEST

START_TEST(test_at_crlf)
{
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	/* "a\r\n" 0-2, "bb\r\n" 3-6, "\r\n" 7-8, then "c\r" being written */
	write_file(path, "a\r\nbb\r\n\r\nc\r", 11);
	struct read_result r;
	read_at(path, 0, &r);
	ck_assert_uint_eq(r.count, 3);
	assert_line(r, 0, "a");
	assert_line(r, 1, "bb");
	assert_line(r, 2, "");
	assert_position(r, 0, false, 9);
	free_result(&r);

	read_at(path, 3, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "bb");
	free_result(&r);

	/* between a CR and its LF: inside the line */
	read_at(path, 2, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "bb");
	assert_position(r, 0, false, 9);
	free_result(&r);

	append_file(path, "\n", 1);
	read_at(path, 9, &r);
	ck_assert_uint_eq(r.count, 1);
	assert_line(r, 0, "c");
	assert_position(r, 0, false, 12);
	free_result(&r);
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_at_long_line)
{
	/* "short\n", a line cut at INPUT_LINE_MAX, "next\n" */
	size_t n = INPUT_LINE_MAX + 100;
	size_t length = 6 + n + 1 + 5;
	char *text = malloc(length);
	ck_assert_ptr_nonnull(text);
	memcpy(text, "short\n", 6);
	memset(text + 6, 'x', n);
	memcpy(text + 6 + n, "\nnext\n", 6);
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	write_file(path, text, length);

	static const size_t offsets[] = { 0, 6, 7, 6 + 1000, 6 + INPUT_LINE_MAX, 6 + INPUT_LINE_MAX + 100 + 1 };
	for (size_t c = 0; c < sizeof offsets / sizeof *offsets; c++) {
		size_t want = offsets[c] == 0 ? 3 : offsets[c] == 6 ? 2 : 1;
		struct read_result r;
		read_at(path, offsets[c], &r);
		ck_assert_msg(r.count == want, "from %zu: %zu lines, not %zu", offsets[c], r.count, want);
		if (want >= 2) {
			ck_assert(r.truncated[want - 2]);
			ck_assert_uint_eq(r.lines[want - 2].len, INPUT_LINE_MAX);
			ck_assert_uint_eq(r.stats.truncated_lines, 1);
		}
		assert_line(r, want - 1, "next");
		assert_position(r, 0, false, length);
		free_result(&r);
	}

	/* Still being written and already past the cap: the head comes back
	 * cut, once; the offset is past it, so the next run drops the rest. */
	write_file(path, text, 6 + n);
	struct read_result r;
	read_at(path, 0, &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "short");
	ck_assert(r.truncated[1]);
	ck_assert_uint_eq(r.lines[1].len, INPUT_LINE_MAX);
	assert_position(r, 0, false, 6 + n);
	free_result(&r);
	append_file(path, "yyy\nafter\n", 10);
	read_at(path, 6 + n, &r);
	ck_assert_uint_eq(r.count, 1);
	assert_line(r, 0, "after");
	assert_position(r, 0, false, 6 + n + 10);
	free_result(&r);

	free(text);
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

/* Byte offset where line i of numbered_lines() text starts. */
static size_t nth_line_start(const char *text, size_t i)
{
	return (size_t)(nth_line(text, i).ptr - text);
}

static void check_large_file(bool gzip)
{
	/* well over one buffer (INPUT_BUFFER_SIZE) */
	enum { COUNT = 30000 };
	char *text = numbered_lines(COUNT);
	size_t length = strlen(text);
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	if (gzip) {
		size_t half = nth_line_start(text, COUNT / 2) + 7; /* inside a line */
		write_gzip_bytes(path, text, half, false);
		write_gzip_bytes(path, text + half, length - half, true);
	} else {
		write_file(path, text, length);
	}
	static const size_t firsts[] = { 0, 1, 13107, COUNT / 2, COUNT / 2 + 1, 29999, COUNT };
	for (size_t c = 0; c < sizeof firsts / sizeof *firsts; c++) {
		size_t first = firsts[c];
		uint64_t offset = first == COUNT ? length : nth_line_start(text, first);
		struct read_result r;
		read_at(path, offset, &r);
		ck_assert_msg(r.count == COUNT - first, "from line %zu: %zu lines", first, r.count);
		const char *want = text + offset;
		for (size_t i = 0; i < r.count; i++) {
			size_t want_length = (size_t)(strchr(want, '\n') - want);
			ck_assert_msg(r.lines[i].len == want_length &&
			                  memcmp(r.lines[i].data, want, want_length) == 0,
			              "from line %zu: line %zu differs", first, first + i);
			want += want_length + 1;
		}
		assert_position(r, 0, gzip, length);
		free_result(&r);
	}
	free(text);
	remove_tree(dir);
	free(path);
	free(dir);
}

START_TEST(test_at_large_plain_file)
{
	check_large_file(false);
}
END_TEST

START_TEST(test_at_large_gzip_file)
{
	check_large_file(true);
}
END_TEST

/* Cron's view: the file grows by chunk bytes at a time, cut anywhere, and
 * each run reads from where the last one ended. Together the runs must
 * return what one read of the finished file returns. */
static void check_runs_while_written(const char *text, size_t length, size_t chunk)
{
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	write_file(path, "", 0);
	struct strbuf runs = STRBUF_INIT, whole = STRBUF_INIT;
	uint64_t offset = 0;
	for (size_t done = 0; done < length;) {
		size_t n = length - done < chunk ? length - done : chunk;
		append_file(path, text + done, n);
		done += n;
		struct read_result r;
		read_at(path, offset, &r);
		for (size_t i = 0; i < r.count; i++) {
			strbuf_printf(&runs, "%d:", r.truncated[i]);
			strbuf_append_text(&runs, strbuf_text(&r.lines[i]));
			strbuf_append_char(&runs, '\n');
		}
		ck_assert(r.position[0].opened);
		ck_assert_uint_ge(r.position[0].offset, offset);
		offset = r.position[0].offset;
		free_result(&r);
	}
	ck_assert_uint_eq(offset, length);
	const char *paths[] = { path };
	struct read_result r;
	read_all(paths, 1, &r);
	for (size_t i = 0; i < r.count; i++) {
		strbuf_printf(&whole, "%d:", r.truncated[i]);
		strbuf_append_text(&whole, strbuf_text(&r.lines[i]));
		strbuf_append_char(&whole, '\n');
	}
	ck_assert_msg(runs.len == whole.len && memcmp(runs.data, whole.data, runs.len) == 0,
	              "chunks of %zu: the runs returned %zu bytes of lines, one read %zu",
	              chunk, runs.len, whole.len);
	free_result(&r);
	strbuf_release(&runs);
	strbuf_release(&whole);
	remove_tree(dir);
	free(path);
	free(dir);
}

START_TEST(test_at_runs_while_written)
{
	static const char text[] = "alpha\r\nbeta\n\ngamma delta\r\n\r\nepsilon\n";
	for (size_t chunk = 1; chunk <= sizeof text; chunk++)
		check_runs_while_written(text, sizeof text - 1, chunk);

	/* with a line cut at INPUT_LINE_MAX, caught at every stage */
	size_t n = INPUT_LINE_MAX + 10;
	size_t length = 2 + n + 3;
	char *big = malloc(length);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "a\n", 2);
	memset(big + 2, 'x', n);
	memcpy(big + 2 + n, "\nb\n", 3);
	check_runs_while_written(big, length, 100000);
	check_runs_while_written(big, length, INPUT_LINE_MAX);
	free(big);
}
END_TEST

START_TEST(test_at_stdin)
{
	/* stdin cannot be resumed: read from the start, tail and all */
	stdin_from_pipe("one\ntwo");
	const struct input_start starts[] = { { "-", 3 }, { "-", 0 } };
	struct read_result r;
	collect(input_open_at(starts, 2), &r);
	ck_assert_uint_eq(r.count, 2);
	assert_line(r, 0, "one");
	assert_line(r, 1, "two");
	ck_assert_str_eq(r.files[0], "-");
	assert_position(r, 0, false, 7);
	ck_assert_uint_eq(r.position[0].device, 0);
	ck_assert_uint_eq(r.position[0].inode, 0);
	ck_assert(!r.position[1].opened); /* read once */
	ck_assert_uint_eq(r.stats.files_read, 1);
	ck_assert_uint_eq(r.stats.files_failed, 0);
	ck_assert(!msg_had_input_error());
	free_result(&r);
}
END_TEST

START_TEST(test_at_empty_plan)
{
	stdin_from_pipe("not read\n");
	struct read_result r;
	collect(input_open_at(NULL, 0), &r);
	ck_assert_uint_eq(r.count, 0);
	ck_assert_uint_eq(r.file_count, 0);
	ck_assert_uint_eq(r.stats.files_read, 0);
	free_result(&r);
}
END_TEST

/* ---- plain files mapped a window at a time ---- */

/* Line i of a log of fixed-width lines: MAPPED_LINE bytes with its newline,
 * so line i starts at offset (i - 1) * MAPPED_LINE. */
#define MAPPED_LINE 100

static void mapped_line(struct strbuf *out, size_t i)
{
	/* byte k of the line, past the number, is 'a' + k % 26: the tail is
	 * made once (logs of several windows are made of these) */
	static char tail[MAPPED_LINE];
	size_t before = out->len;
	strbuf_printf(out, "2024-01-02 00:00:00 line %08zu ", i);
	size_t head = out->len - before;
	if (tail[0] == '\0')
		for (size_t k = 0; k < MAPPED_LINE; k++)
			tail[k] = (char)('a' + k % 26);
	if (head < MAPPED_LINE - 1)
		strbuf_append(out, tail + head, MAPPED_LINE - 1 - head);
	strbuf_append_char(out, '\n');
}

/* Lines first to last of such a log. */
static void mapped_lines(struct strbuf *out, size_t first, size_t last)
{
	for (size_t i = first; i <= last; i++)
		mapped_line(out, i);
}

START_TEST(test_mapped_windows_hold_every_line)
{
	populating = _i == 1;
	/* Lines of every length over three windows, one over the cap across
	 * the first window's end; the same text gzipped goes through read()
	 * and zlib instead, and both ways, line by line and in blocks, must
	 * return the same lines. */
	char *dir = make_temp_dir();
	char *plain = path_in(dir, "exim_mainlog");
	char *gzip = path_in(dir, "exim_mainlog.gz");
	struct strbuf text = STRBUF_INIT;
	for (size_t i = 0; text.len < 3 * INPUT_MAP_WINDOW - 5000; i++) {
		strbuf_printf(&text, "2024-01-02 00:00:00 line %zu ", i);
		for (size_t n = 0; n < i % 997; n++)
			strbuf_append_char(&text, (char)('a' + n % 26));
		strbuf_append_str(&text, i % 7 ? "\n" : "\r\n");
		if (text.len > INPUT_MAP_WINDOW - INPUT_LINE_MAX / 2 &&
		    text.len < INPUT_MAP_WINDOW) {
			for (size_t n = 0; n < INPUT_LINE_MAX + 5000; n++)
				strbuf_append_char(&text, 'y');
			strbuf_append_char(&text, '\n');
		}
	}
	strbuf_append_str(&text, "the last, without a newline");
	write_file(plain, text.data, text.len);
	write_gzip(gzip, text.data, false);
	const char *plain_only[] = { plain }, *gzip_only[] = { gzip };
	struct read_result mapped, blocks, decompressed;
	read_all(plain_only, 1, &mapped);
	collect_blocks(plain_only, 1, &blocks);
	read_all(gzip_only, 1, &decompressed);
	ck_assert_uint_gt(mapped.count, 20000);
	ck_assert_uint_eq(mapped.stats.truncated_lines, 1);
	ck_assert_uint_eq(mapped.stats.bytes, decompressed.stats.bytes);
	const struct read_result *others[] = { &blocks, &decompressed };
	for (size_t k = 0; k < 2; k++) {
		const struct read_result *o = others[k];
		ck_assert_uint_eq(o->count, mapped.count);
		for (size_t i = 0; i < mapped.count; i++)
			ck_assert_msg(o->lines[i].len == mapped.lines[i].len &&
			              memcmp(o->lines[i].data, mapped.lines[i].data,
			                     mapped.lines[i].len) == 0 &&
			              o->truncated[i] == mapped.truncated[i],
			              "%s, line %zu: \"%.40s\", mapped \"%.40s\"",
			              k ? "gzip" : "blocks", i + 1, o->lines[i].data,
			              mapped.lines[i].data);
	}
	ck_assert(!msg_had_input_error());
	free_result(&mapped);
	free_result(&blocks);
	free_result(&decompressed);
	strbuf_release(&text);
	remove_tree(dir);
	free(plain);
	free(gzip);
	free(dir);
}
END_TEST

/* Lines read from input up to line `at`, then the file cut to `size`
 * bytes (logrotate's copytruncate), then the rest read: no crash, and
 * only whole lines from before the cut, with the damage told. */
static void check_cut_while_read(size_t at, off_t size)
{
	char *dir = make_temp_dir();
	char *path = path_in(dir, "exim_mainlog");
	char *errors = path_in(dir, "stderr");
	struct strbuf text = STRBUF_INIT;
	size_t lines = (2 * INPUT_MAP_WINDOW + 12345) / MAPPED_LINE;
	mapped_lines(&text, 1, lines);
	write_file(path, text.data, text.len);
	const char *paths[] = { path };
	struct input *input = open_files(paths, 1);
	struct input_line line;
	for (size_t i = 1; i <= at; i++)
		ck_assert(input_next_line(input, &line));
	ck_assert_int_eq(truncate(path, size), 0);
	int saved = capture_stderr(errors);
	struct read_result rest;
	collect(input, &rest);
	restore_stderr(saved);
	size_t whole = (size_t)size / MAPPED_LINE;
	size_t expected = whole > at ? whole - at : 0;
	ck_assert_uint_eq(rest.count, expected);
	struct strbuf want = STRBUF_INIT;
	for (size_t i = 0; i < rest.count; i++) {
		strbuf_reset(&want);
		mapped_line(&want, at + i + 1);
		ck_assert_msg(rest.lines[i].len == MAPPED_LINE - 1 &&
		              memcmp(rest.lines[i].data, want.data, MAPPED_LINE - 1) == 0,
		              "line %zu after the cut: \"%.40s\"", at + i + 1, rest.lines[i].data);
	}
	char *said = slurp(errors);
	ck_assert_msg(strstr(said, "cut short while being read") != NULL, "stderr: %s", said);
	ck_assert(msg_had_input_error());
	ck_assert_uint_eq(rest.stats.files_damaged, 1);
	free(said);
	strbuf_release(&want);
	free_result(&rest);
	strbuf_release(&text);
	remove_tree(dir);
	free(path);
	free(errors);
	free(dir);
}

START_TEST(test_mapped_file_cut_short_in_its_window)
{
	populating = _i == 1;
	/* mid-line, inside the window being read */
	check_cut_while_read(1000, INPUT_MAP_WINDOW / 2 + 50);
}
END_TEST

START_TEST(test_mapped_file_cut_to_nothing)
{
	populating = _i == 1;
	/* copytruncate: every page of the window is gone */
	check_cut_while_read(1000, 0);
}
END_TEST

START_TEST(test_mapped_file_read_on_as_it_grows)
{
	populating = _i == 1;
	/* Exim appends while the log is read: what was added is read too */
	char *dir = make_temp_dir();
	char *path = path_in(dir, "exim_mainlog");
	struct strbuf text = STRBUF_INIT;
	size_t first = (INPUT_MAP_WINDOW + 777) / MAPPED_LINE, added = 50000;
	mapped_lines(&text, 1, first + added);
	write_file(path, text.data, first * MAPPED_LINE);
	const char *paths[] = { path };
	struct input *input = open_files(paths, 1);
	struct input_line line;
	ck_assert(input_next_line(input, &line));
	append_file(path, text.data + first * MAPPED_LINE, added * MAPPED_LINE);
	struct read_result rest;
	collect(input, &rest);
	ck_assert_uint_eq(rest.count, first + added - 1);
	ck_assert_uint_eq(rest.numbers[rest.count - 1], first + added);
	ck_assert(!msg_had_input_error());
	free_result(&rest);
	strbuf_release(&text);
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

/* A caller that keeps windows (input_keep_windows) and holds on to the
 * lines of several before it lets them go, as linepipe's consumer lags:
 * every line held still reads as it did, until its window is let go.
 * Three files: a plain one over several windows with a line past the cap
 * that spans two more (skipped through, never kept), a small plain one,
 * and a gzip one, whose lines are in the buffer (window 0). */
struct held_line {
	struct text text;
	uint64_t window;
	size_t index;
};

/* Every line held reads as it did when it was handed out. */
static void check_held_lines(const struct held_line *held, size_t from, size_t to,
                             const struct read_result *want)
{
	for (size_t i = from; i < to; i++) {
		const struct strbuf *w = &want->lines[held[i].index];
		ck_assert_msg(held[i].text.len == w->len &&
		              memcmp(held[i].text.ptr, w->data, w->len) == 0,
		              "line %zu of window %llu changed while kept", held[i].index,
		              (unsigned long long)held[i].window);
	}
}

START_TEST(test_kept_windows_keep_their_lines)
{
	populating = _i == 1;
	char *dir = make_temp_dir();
	char *big = path_in(dir, "exim_mainlog.1"), *small = path_in(dir, "exim_mainlog.2"),
	     *gzip = path_in(dir, "exim_mainlog.3");
	struct strbuf text = STRBUF_INIT;
	size_t lines = (5 * INPUT_MAP_WINDOW) / MAPPED_LINE;
	for (size_t i = 1; i <= lines; i++) {
		mapped_line(&text, i);
		if (i == lines / 3) {
			size_t at = text.len, n = 2 * INPUT_MAP_WINDOW + 12345;
			strbuf_reserve(&text, n + 1);
			memset(text.data + at, 'Y', n);
			text.len += n;
			strbuf_append_char(&text, '\n');
		}
	}
	write_file(big, text.data, text.len);
	strbuf_reset(&text);
	mapped_lines(&text, 1, 300);
	write_file(small, text.data, text.len);
	write_gzip(gzip, text.data, false);
	const char *paths[] = { big, small, gzip };
	struct read_result want;
	read_all(paths, 3, &want);

	struct input *input = open_files(paths, 3);
	input_keep_windows(input, true);
	struct held_line *held = calloc(want.count, sizeof *held);
	ck_assert_ptr_nonnull(held);
	size_t count = 0, first_held = 0, lent = 0, let_go = 0, checks = 0;
	uint64_t last_window = 0;
	struct input_line line;
	for (;;) {
		if (input_windows_kept(input) == INPUT_WINDOWS_KEPT_MAX) {
			/* all but the newest window's lines are let go */
			uint64_t newest = held[count - 1].window;
			check_held_lines(held, first_held, count, &want);
			checks++;
			input_let_go_windows(input, newest - 1);
			ck_assert_uint_lt(input_windows_kept(input), INPUT_WINDOWS_KEPT_MAX);
			while (first_held < count && held[first_held].window < newest)
				first_held++;
			let_go++;
		}
		if (!input_next_line(input, &line))
			break;
		ck_assert_uint_le(input_windows_kept(input), INPUT_WINDOWS_KEPT_MAX);
		ck_assert_uint_lt(count, want.count);
		bool in_gzip = strcmp(line.file, gzip) == 0;
		ck_assert_msg(in_gzip ? line.window == 0 : line.window >= last_window && line.window,
		              "line %zu: window %llu after %llu", count,
		              (unsigned long long)line.window, (unsigned long long)last_window);
		if (line.window) {
			if (line.window != last_window) { /* the reader moved on */
				check_held_lines(held, first_held, count, &want);
				checks++;
			}
			last_window = line.window;
			held[count] = (struct held_line){ line.text, line.window, count };
			lent++;
		} else {
			first_held = count + 1; /* valid until the next call only */
		}
		count++;
	}
	ck_assert_uint_eq(count, want.count);
	ck_assert_uint_eq(lent, want.count - 300);
	ck_assert_uint_ge(last_window, 5);
	ck_assert_uint_ge(let_go, 1);
	ck_assert_uint_gt(checks, let_go);
	input_keep_windows(input, false);
	ck_assert_uint_eq(input_windows_kept(input), 0);
	input_free(input);
	free(held);
	free_result(&want);
	strbuf_release(&text);
	remove_tree(dir);
	free(big);
	free(small);
	free(gzip);
	free(dir);
}
END_TEST

/* A file cut to nothing (copytruncate) while a caller holds lines of a
 * kept window: reading them faults no more than reading the window being
 * read does (mapping.h): each reads whole as it was, or as zeros. */
START_TEST(test_kept_window_of_a_file_cut_short_reads_as_zeros)
{
	populating = _i == 1;
	char *dir = make_temp_dir();
	char *path = path_in(dir, "exim_mainlog");
	char *errors = path_in(dir, "stderr");
	struct strbuf text = STRBUF_INIT;
	size_t lines = (3 * INPUT_MAP_WINDOW) / MAPPED_LINE;
	mapped_lines(&text, 1, lines);
	write_file(path, text.data, text.len);
	const char *paths[] = { path };
	struct input *input = open_files(paths, 1);
	input_keep_windows(input, true);
	struct text *held = calloc(lines, sizeof *held);
	ck_assert_ptr_nonnull(held);
	size_t count = 0;
	struct input_line line;
	while (input_next_line(input, &line) && line.window == 1)
		held[count++] = line.text;
	ck_assert_uint_eq(line.window, 2);
	ck_assert_uint_eq(input_windows_kept(input), 1);
	ck_assert_uint_gt(count, 1000);
	ck_assert_int_eq(truncate(path, 0), 0);
	size_t zeroed = 0;
	for (size_t i = 0; i < count; i++) {
		ck_assert_uint_eq(held[i].len, MAPPED_LINE - 1);
		bool whole = memcmp(held[i].ptr, text.data + i * MAPPED_LINE, held[i].len) == 0;
		bool zeros = true;
		for (size_t k = 0; k < held[i].len && zeros; k++)
			zeros = held[i].ptr[k] == '\0';
		ck_assert_msg(whole || zeros, "line %zu is neither as it was nor zeros", i + 1);
		zeroed += zeros;
	}
	ck_assert_uint_gt(zeroed, 0);
	int saved = capture_stderr(errors);
	while (input_next_line(input, &line))
		;
	restore_stderr(saved);
	ck_assert_uint_eq(input_get_stats(input)->files_damaged, 1);
	input_keep_windows(input, false);
	ck_assert_uint_eq(input_windows_kept(input), 0);
	input_free(input);
	free(held);
	strbuf_release(&text);
	remove_tree(dir);
	free(path);
	free(errors);
	free(dir);
}
END_TEST

/* Whether the page holding p is in this process's page tables (the
 * present bit of /proc/self/pagemap, which needs no privilege); -1 when
 * that cannot be read. */
static int page_present(const void *p)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uint64_t entry = 0;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	ssize_t n = pread(fd, &entry, sizeof entry, (off_t)((uintptr_t)p / page * sizeof entry));
	close(fd);
	return n == (ssize_t)sizeof entry ? (int)(entry >> 63) : -1;
}

/* Whether this kernel populates a file mapping on request (5.14 on). */
static bool kernel_populates(int fd)
{
#ifdef MADV_POPULATE_READ
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return false;
	bool done = madvise(p, 4096, MADV_POPULATE_READ) == 0;
	munmap(p, 4096);
	return done;
#else
	(void)fd;
	return false;
#endif
}

/* The helper maps in the pages of the window ahead of the reader: once
 * it has been waited for (turning it off does), a page in the middle of
 * the window, which the reader has not come near, is in the page tables;
 * without it, the page is not. */
START_TEST(test_populate_maps_in_the_window_ahead)
{
	populating = _i == 1;
	char *dir = make_temp_dir();
	char *path = path_in(dir, "exim_mainlog");
	struct strbuf text = STRBUF_INIT;
	mapped_lines(&text, 1, (2 * INPUT_MAP_WINDOW) / MAPPED_LINE);
	write_file(path, text.data, text.len);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	bool supported = kernel_populates(fd);
	close(fd);
	const char *paths[] = { path };
	struct input *input = open_files(paths, 1);
	struct input_line line;
	ck_assert(input_next_line(input, &line));
	/* the first window starts at the file's first byte, this line's */
	const char *middle = line.text.ptr + INPUT_MAP_WINDOW / 2;
	input_populate_ahead(input, false);
	int present = page_present(middle);
	if (present < 0 || (populating && !supported)) {
		printf("populate: %s, not checked\n", present < 0 ? "/proc/self/pagemap unreadable"
		                                                  : "no MADV_POPULATE_READ here");
	} else {
		ck_assert_msg(present == populating, "the window's middle page %s in the page tables",
		              present ? "is" : "is not");
	}
	struct read_result rest;
	collect(input, &rest);
	ck_assert_uint_eq(rest.count, (2 * INPUT_MAP_WINDOW) / MAPPED_LINE - 1);
	free_result(&rest);
	strbuf_release(&text);
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

/* ---- a fixture from the repository ---- */

START_TEST(test_fixture_file_through_input_and_lexer)
{
	/* tests/unit/data/rejectlog-0021-head: the first entries of
	 * test/rejectlog/0021: an entry with a header dump, then one-line
	 * entries (see tests/unit/data/README) */
	char *path = srcdir_path("tests/unit/data/rejectlog-0021-head");
	const char *paths[] = { path };
	struct input *input = input_open(paths, 1);
	struct lexer *lexer = lexer_new();
	struct input_line line;
	struct log_line out;
	static const enum line_kind want[] = {
		LK_REJECTED_DATA, LK_CONTINUATION, LK_CONTINUATION, LK_CONTINUATION,
		LK_CONTINUATION, LK_CONTINUATION, LK_CONTINUATION, LK_CONTINUATION,
		LK_CONTINUATION, LK_CONTINUATION, LK_CONTINUATION,
		LK_REJECTED_CONNECT, LK_REJECTED_CONNECT, LK_REJECTED_MAIL, LK_UNKNOWN,
		LK_REJECTED_CONNECT, LK_REJECTED_CONNECT, LK_REJECTED_HELO,
	};
	size_t n = 0;
	while (input_next_line(input, &line)) {
		if (input_file_changed(input))
			lexer_reset(lexer);
		lexer_parse(lexer, line.text.ptr, line.text.len, &out);
		ck_assert_msg(n < sizeof want / sizeof *want, "more lines than expected in %s", path);
		ck_assert_msg(out.kind == want[n], "line %zu: expected %s, got %s", n + 1,
		              line_kind_name(want[n]), line_kind_name(out.kind));
		if (out.kind == LK_CONTINUATION) {
			ck_assert_int_eq(out.continues, want[0]);
			assert_text(out.message_id, "10HmaY-000000005vi-0000");
		}
		n++;
	}
	ck_assert_msg(n == sizeof want / sizeof *want, "%zu lines read from %s (is SRCDIR right?)", n, path);
	ck_assert_uint_eq(input_get_stats(input)->files_failed, 0);
	lexer_free(lexer);
	input_free(input);
	free(path);
}
END_TEST

Suite *input_suite(void)
{
	Suite *s = suite_create("input");

	TCase *plain = tcase_create("plain");
	tcase_add_test(plain, test_plain_with_final_newline);
	tcase_add_test(plain, test_plain_without_final_newline);
	tcase_add_test(plain, test_blank_lines_and_empty_file);
	tcase_add_test(plain, test_crlf);
	tcase_add_test(plain, test_nul_bytes_pass_through);
	tcase_add_test(plain, test_fixture_file_through_input_and_lexer);
	suite_add_tcase(s, plain);

	TCase *lengths = tcase_create("long lines");
	tcase_add_test(lengths, test_overlong_line_is_cut_once);
	tcase_add_test(lengths, test_very_long_line_is_cut_once);
	tcase_add_test(lengths, test_overlong_line_after_a_short_one);
	tcase_add_test(lengths, test_overlong_line_in_gzip);
	tcase_add_test(lengths, test_line_of_exactly_the_maximum_is_whole);
	tcase_add_test(lengths, test_line_just_under_the_maximum_is_whole);
	suite_add_tcase(s, lengths);

	TCase *gzip = tcase_create("gzip");
	tcase_add_test(gzip, test_gzip_by_magic_not_name);
	tcase_add_test(gzip, test_gzip_concatenated_members);
	tcase_add_test(gzip, test_gzip_truncated);
	tcase_add_test(gzip, test_gzip_corrupt);
	tcase_add_test(gzip, test_gzip_ratio_limit);
	suite_add_tcase(s, gzip);

	TCase *files = tcase_create("several files");
	tcase_add_test(files, test_rotated_set_read_oldest_first);
	tcase_add_test(files, test_missing_file_among_good_ones);
	tcase_add_test(files, test_only_missing_file);
	tcase_add_test(files, test_fifo_is_read_once);
	tcase_add_test(files, test_file_replaced_after_ordering_is_the_file_read);
	suite_add_tcase(s, files);

	TCase *twice = tcase_create("reading twice");
	tcase_add_test(twice, test_reread_returns_the_same_lines);
	tcase_add_test(twice, test_reread_stops_where_the_first_read_ended);
	tcase_add_test(twice, test_reread_reads_the_file_read_even_if_rotated);
	tcase_add_test(twice, test_reread_after_a_first_pass_that_stopped_early);
	tcase_add_test(twice, test_reread_refused_for_a_fifo_and_a_plan);
	tcase_add_test(twice, test_blocks_hold_the_lines_read_line_by_line);
	suite_add_tcase(s, twice);

	TCase *mapped = tcase_create("mapped windows");
	tcase_set_timeout(mapped, 60); /* logs of several windows, under sanitizers */
	tcase_add_loop_test(mapped, test_mapped_windows_hold_every_line, 0, 2);
	tcase_add_loop_test(mapped, test_mapped_file_cut_short_in_its_window, 0, 2);
	tcase_add_loop_test(mapped, test_mapped_file_cut_to_nothing, 0, 2);
	tcase_add_loop_test(mapped, test_mapped_file_read_on_as_it_grows, 0, 2);
	tcase_add_loop_test(mapped, test_kept_windows_keep_their_lines, 0, 2);
	tcase_add_loop_test(mapped, test_kept_window_of_a_file_cut_short_reads_as_zeros, 0, 2);
	tcase_add_loop_test(mapped, test_populate_maps_in_the_window_ahead, 0, 2);
	suite_add_tcase(s, mapped);

	TCase *in = tcase_create("stdin");
	tcase_add_test(in, test_stdin_dash);
	tcase_add_test(in, test_stdin_when_no_file_named);
	tcase_add_test(in, test_stdin_gzip);
	tcase_add_test(in, test_stdin_ordered_among_files);
	suite_add_tcase(s, in);

	TCase *at = tcase_create("start offsets");
	tcase_set_timeout(at, 60);
	tcase_add_test(at, test_at_resume_after_append);
	tcase_add_test(at, test_at_offset_inside_a_line);
	tcase_add_test(at, test_at_every_offset_plain);
	tcase_add_test(at, test_at_every_offset_gzip);
	tcase_add_test(at, test_at_offset_past_the_end);
	tcase_add_test(at, test_at_unterminated_last_line_is_held);
	tcase_add_test(at, test_at_gzip_skips_decompressed_bytes);
	tcase_add_test(at, test_at_device_and_inode);
	tcase_add_test(at, test_at_file_replaced_while_read);
	tcase_add_test(at, test_at_files_read_in_the_order_given);
	tcase_add_test(at, test_at_missing_file_in_the_middle);
	tcase_add_test(at, test_at_crlf);
	tcase_add_test(at, test_at_long_line);
	tcase_add_test(at, test_at_large_plain_file);
	tcase_add_test(at, test_at_large_gzip_file);
	tcase_add_test(at, test_at_runs_while_written);
	tcase_add_test(at, test_at_stdin);
	tcase_add_test(at, test_at_empty_plan);
	suite_add_tcase(s, at);

	return s;
}
