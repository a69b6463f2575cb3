/*
 * linepipe tests: the lines a pipe hands over, and how they are lexed,
 * are exactly what one thread reading and lexing the same input gets,
 * compared field by field by content: the fixtures (with continuation
 * lines, syslog wrappers and hostile bytes), several files in a row (the
 * lexer reset between them), gzip, and a file of lines up to over the
 * line cap that wraps the pipe's ring of bytes many times, taken both
 * quickly and slowly so that each side waits for the other. A pipe
 * finished early stops its thread.
 */
#include <glob.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "input.h"
#include "lexer.h"
#include "linepipe.h"
#include "strbuf.h"
#include "suites.h"
#include "test_support.h"

/* Two readings and lexings of the same line, compared by what they say. */
static void assert_same_line(const struct input_line *raw_a, const struct log_line *a,
                             const struct input_line *raw_b, const struct log_line *b,
                             size_t n)
{
	ck_assert_msg(same_bytes(raw_a->text, raw_b->text), "line %zu: the text differs", n);
	ck_assert_msg(raw_a->line_number == raw_b->line_number && raw_a->file_index ==
	              raw_b->file_index && raw_a->truncated == raw_b->truncated &&
	              strcmp(raw_a->file, raw_b->file) == 0,
	              "line %zu: from %s:%llu (file %zu%s), one thread says %s:%llu (file %zu%s)", n,
	              raw_a->file, (unsigned long long)raw_a->line_number, raw_a->file_index,
	              raw_a->truncated ? ", cut" : "", raw_b->file,
	              (unsigned long long)raw_b->line_number, raw_b->file_index,
	              raw_b->truncated ? ", cut" : "");
	assert_same_lexing(a, b, n);
}

/* One thread's lines, kept (text copied, lexed again into the copy, in
 * order through one lexer as the pipe's is) to compare against. */
struct serial {
	struct strbuf *texts; /* each line's text, and after it its file's name */
	struct input_line *raws;
	struct log_line *lines;
	size_t count;
};

static void read_serially(const char *const *paths, size_t count, struct serial *out)
{
	memset(out, 0, sizeof *out);
	struct input *input = input_open(paths, count);
	struct lexer *lexer = lexer_new();
	struct input_line raw;
	size_t capacity = 0;
	while (input_next_line(input, &raw)) {
		if (input_file_changed(input))
			lexer_reset(lexer);
		if (out->count == capacity) {
			capacity = capacity ? capacity * 2 : 1024;
			out->texts = realloc(out->texts, capacity * sizeof *out->texts);
			out->raws = realloc(out->raws, capacity * sizeof *out->raws);
			out->lines = realloc(out->lines, capacity * sizeof *out->lines);
			ck_assert(out->texts && out->raws && out->lines);
		}
		/* text, file name (input_free frees the one raw points to) and
		 * room for a continuation's ID (the lexer's, overwritten by the
		 * next entry), all in one buffer that does not move once lexed */
		struct strbuf *copy = &out->texts[out->count];
		strbuf_init(copy);
		strbuf_append(copy, raw.text.ptr, raw.text.len);
		strbuf_append(copy, "", 1);
		strbuf_append_str(copy, raw.file);
		strbuf_append(copy, "", 1);
		size_t id_at = copy->len;
		for (size_t i = 0; i < MESSAGE_ID_MAX; i++)
			strbuf_append_char(copy, '\0');
		out->raws[out->count] = raw;
		out->raws[out->count].text = text_make(copy->data, raw.text.len);
		out->raws[out->count].file = copy->data + raw.text.len + 1;
		struct log_line *line = &out->lines[out->count];
		lexer_parse(lexer, copy->data, raw.text.len, line);
		if (line->kind == LK_CONTINUATION) {
			memcpy(copy->data + id_at, line->message_id.ptr, line->message_id.len);
			line->message_id = text_make(copy->data + id_at, line->message_id.len);
		}
		out->count++;
	}
	lexer_free(lexer);
	input_free(input);
}

static void free_serial(struct serial *s)
{
	for (size_t i = 0; i < s->count; i++)
		strbuf_release(&s->texts[i]);
	free(s->texts);
	free(s->raws);
	free(s->lines);
}

/* How a pipe is run. The filter, on the pipe's thread, drops every
 * drop_every-th line counting from the first (0: none) and the line
 * numbered drop_at from 0 (SIZE_MAX: none). Every slow_every lines the
 * consumer naps nap_ns, so that the producer fills the pipe and waits
 * (0: never); it naps first_nap_ns before it takes the first. When
 * rests_lexed is not NULL, how many lines' rests the consumer lexed
 * goes there (linepipe_rests_lexed). */
struct pipe_run {
	unsigned slow_every;
	long nap_ns;
	unsigned drop_every;
	size_t drop_at;
	long first_nap_ns;
	uint64_t *rests_lexed;
};

#define RUN(slow_every, drop_every) \
	((struct pipe_run){ slow_every, 200000, drop_every, SIZE_MAX, 0, NULL })

static void nap(long ns)
{
	nanosleep(&(struct timespec){ ns / 1000000000, ns % 1000000000 }, NULL);
}

/* A log holding text, alone in a new temporary directory. */
struct temp_log {
	char *dir, *path;
};

static struct temp_log temp_log_of(const struct strbuf *text)
{
	struct temp_log log;
	log.dir = make_temp_dir();
	log.path = path_in(log.dir, "exim_mainlog");
	write_file(log.path, text->data, text->len);
	return log;
}

static void temp_log_remove(struct temp_log *log)
{
	remove_tree(log->dir);
	free(log->path);
	free(log->dir);
}

struct drop_filter {
	struct pipe_run run;
	size_t seen;
};

static bool dropped(const struct pipe_run *run, size_t index)
{
	return (run->drop_every && index % run->drop_every == 0) || index == run->drop_at;
}

static bool not_dropped(void *state, const struct log_line *line)
{
	(void)line;
	struct drop_filter *f = state;
	return !dropped(&f->run, f->seen++);
}

/* The same paths through a pipe: every line as the serial read has it,
 * but those the filter drops. Returns the lines that came through. */
static size_t assert_pipe_reads_as_serial(const char *const *paths, size_t count,
                                          struct pipe_run run)
{
	struct serial serial;
	read_serially(paths, count, &serial);
	struct input *input = input_open(paths, count);
	struct lexer *lexer = lexer_new();
	struct drop_filter filter = { run, 0 };
	bool filtered = run.drop_every || run.drop_at != SIZE_MAX;
	struct linepipe *pipe = linepipe_start(linepipe_every_line, input, lexer,
	                                       filtered ? not_dropped : NULL, &filter);
	ck_assert_ptr_nonnull(pipe);
	const struct input_line *raw;
	const struct log_line *line;
	size_t n = 0, at = 0; /* lines through, and the serial line they are */
	nap(run.first_nap_ns);
	while (linepipe_next(pipe, &raw, &line)) {
		while (at < serial.count && dropped(&run, at))
			at++;
		ck_assert_msg(at < serial.count, "more lines than one thread reads");
		assert_same_line(raw, line, &serial.raws[at], &serial.lines[at], at + 1);
		/* the views are into the pipe's copy, which holds until the next call */
		assert_views_inside(line, raw->text.ptr, raw->text.len);
		n++;
		at++;
		if (run.slow_every && n % run.slow_every == 0)
			nap(run.nap_ns);
	}
	if (run.rests_lexed)
		*run.rests_lexed = linepipe_rests_lexed(pipe);
	linepipe_finish(pipe);
	while (at < serial.count && dropped(&run, at))
		at++;
	ck_assert_uint_eq(at, serial.count);
	ck_assert_uint_eq(filter.seen, filtered ? serial.count : 0);
	lexer_free(lexer);
	input_free(input);
	free_serial(&serial);
	return n;
}

static const char *const fixture_globs[] = {
	"fixtures/sample/exim_mainlog", "fixtures/lexer/*.log", "fixtures/hostile/*.log",
	"fixtures/rotated/*",
};

/* Every fixture file alone, then all of them in a row: the lexer is
 * reset between files in the pipe as in one thread. */
START_TEST(test_fixtures_read_as_one_thread_reads_them)
{
	glob_t all = { 0 };
	for (size_t g = 0; g < sizeof fixture_globs / sizeof *fixture_globs; g++) {
		char *pattern = srcdir_path(fixture_globs[g]);
		ck_assert_int_eq(glob(pattern, g ? GLOB_APPEND : 0, NULL, &all), 0);
		free(pattern);
	}
	ck_assert_uint_gt(all.gl_pathc, 10);
	size_t lines = 0;
	for (size_t i = 0; i < all.gl_pathc; i++)
		lines += assert_pipe_reads_as_serial((const char *const *)&all.gl_pathv[i], 1, RUN(0, 0));
	ck_assert_uint_gt(lines, 500);
	ck_assert_uint_eq(assert_pipe_reads_as_serial((const char *const *)all.gl_pathv,
	                                              all.gl_pathc, RUN(0, 0)), lines);
	globfree(&all);
}
END_TEST

/* A log of lines of every length from 0 to filler_max bytes after the
 * head, and (over_cap) every 50th past the line cap, totalling about
 * total bytes; and the same gzipped, as PATH.gz. */
static void write_long_lines(const char *path, size_t filler_max, bool over_cap, size_t total)
{
	struct strbuf text = STRBUF_INIT;
	for (size_t i = 0; text.len < total; i++) {
		strbuf_printf(&text, "2024-01-02 00:00:%02zu 1rgvod-0005rA-05 ** a%zu@example.com: ", i % 60,
		              i);
		size_t filler = over_cap && i % 50 == 7 ? INPUT_LINE_MAX + 100 : (i * 7919) % filler_max;
		for (size_t n = 0; n < filler; n++)
			strbuf_append_char(&text, (char)('a' + n % 26));
		strbuf_append_char(&text, '\n');
	}
	write_file(path, text.data, text.len);
	struct strbuf gzip = STRBUF_INIT;
	strbuf_printf(&gzip, "%s.gz", path);
	write_gzip(gzip.data, text.data, false);
	strbuf_release(&gzip);
	strbuf_release(&text);
}

/* Lines of every length up to past the line cap, over many times the
 * pipe's bytes, plain and gzipped: the ring wraps, lines that do not fit
 * its end start over at its beginning, and the producer waits for room
 * (a slow consumer) or the consumer for lines (a fast one). */
START_TEST(test_long_lines_wrap_the_ring)
{
	char *dir = make_temp_dir();
	char *plain = path_in(dir, "exim_mainlog");
	char *gzip = path_in(dir, "exim_mainlog.gz");
	write_long_lines(plain, 3000, true, 6 * LINEPIPE_BYTES);
	const char *plain_only[] = { plain }, *gzip_only[] = { gzip };
	size_t lines = assert_pipe_reads_as_serial(plain_only, 1, RUN(0, 0));
	ck_assert_uint_gt(lines, 3000);
	ck_assert_uint_eq(assert_pipe_reads_as_serial(plain_only, 1, RUN(97, 0)), lines);
	ck_assert_uint_eq(assert_pipe_reads_as_serial(gzip_only, 1, RUN(0, 0)), lines);
	for (unsigned drop_every = 1; drop_every <= 3; drop_every++) {
		size_t through = assert_pipe_reads_as_serial(plain_only, 1, RUN(97, drop_every));
		ck_assert_uint_eq(through, lines - (lines + drop_every - 1) / drop_every);
		ck_assert_uint_eq(assert_pipe_reads_as_serial(plain_only, 1, RUN(0, drop_every)),
		                  through);
	}
	remove_tree(dir);
	free(plain);
	free(gzip);
	free(dir);
}
END_TEST

/* Lines of plain files are read where they lie (input.h, kept windows):
 * many small files, each its own window, taken by a slow consumer, make
 * the producer wait for windows to be let go as well as for slots; a
 * fast one, and one that drops lines, do not. A gzip file among them is
 * copied. Every line reads as one thread reads it, and the pipe says
 * which were not copied. */
START_TEST(test_small_files_wait_for_kept_windows)
{
	char *dir = make_temp_dir();
	enum { FILES = 3 * INPUT_WINDOWS_KEPT_MAX + 1 };
	char *paths[FILES];
	struct strbuf text = STRBUF_INIT;
	for (size_t f = 0; f < FILES; f++) {
		char name[32];
		snprintf(name, sizeof name, "exim_mainlog.%02zu%s", f, f == FILES / 2 ? ".gz" : "");
		paths[f] = path_in(dir, name);
		strbuf_reset(&text);
		for (size_t i = 0; i < 40 + f; i++)
			strbuf_printf(&text, "2024-01-02 00:%02zu:%02zu 1rgvod-0005rA-05 => f%zu@example.com "
			              "R=dnslookup T=remote_smtp\n", f, i % 60, i);
		if (f == FILES / 2)
			write_gzip(paths[f], text.data, false);
		else
			write_file(paths[f], text.data, text.len);
	}
	const char *const *all = (const char *const *)paths;
	size_t lines = assert_pipe_reads_as_serial(all, FILES, RUN(0, 0));
	ck_assert_uint_eq(lines, FILES * 40 + FILES * (FILES - 1) / 2);
	ck_assert_uint_eq(assert_pipe_reads_as_serial(all, FILES, RUN(3, 0)), lines);
	ck_assert_uint_lt(assert_pipe_reads_as_serial(all, FILES, RUN(3, 2)), lines);

	struct input *input = input_open(all, FILES);
	struct lexer *lexer = lexer_new();
	struct linepipe *pipe = linepipe_start(linepipe_every_line, input, lexer, NULL, NULL);
	ck_assert_ptr_nonnull(pipe);
	const struct input_line *raw;
	const struct log_line *line;
	size_t lent = 0, copied = 0;
	while (linepipe_next(pipe, &raw, &line))
		*(raw->window ? &lent : &copied) += 1;
	linepipe_finish(pipe);
	ck_assert_uint_eq(copied, 40 + FILES / 2);
	ck_assert_uint_eq(lent + copied, lines);
	ck_assert_uint_eq(input_windows_kept(input), 0);
	lexer_free(lexer);
	input_free(input);
	for (size_t f = 0; f < FILES; f++)
		free(paths[f]);
	strbuf_release(&text);
	remove_tree(dir);
	free(dir);
}
END_TEST

/* A flag line's rest is lexed by the side that is ahead: the consumer
 * lexes those of the first LINEPIPE_SHARE_BELOW lines, which it has not
 * taken yet when they are lexed; once more wait for it (it naps before
 * its first), the producer lexes them whole. Every line reads as one
 * thread reads it either way. */
START_TEST(test_the_side_ahead_lexes_rests)
{
	struct strbuf text = STRBUF_INIT;
	for (size_t i = 0; i < 2 * LINEPIPE_SLOTS; i++)
		strbuf_printf(&text, "2024-01-02 00:00:%02zu 1rgvod-0005rA-05 => u%zu@example.com "
		              "R=dnslookup T=remote_smtp H=mx.example.com [192.0.2.1]\n", i % 60, i);
	struct temp_log log = temp_log_of(&text);
	const char *plain_only[] = { log.path };
	uint64_t rests = 0;
	struct pipe_run run = { 0, 0, 0, SIZE_MAX, 300000000, &rests };
	ck_assert_uint_eq(assert_pipe_reads_as_serial(plain_only, 1, run), 2 * LINEPIPE_SLOTS);
	ck_assert_uint_ge(rests, LINEPIPE_SHARE_BELOW);
	ck_assert_uint_lt(rests, 2 * LINEPIPE_SLOTS);
	strbuf_release(&text);
	temp_log_remove(&log);
}
END_TEST

/* A line the filter drops leaves its slot and bytes to the next line, also
 * in the one state where its slot is the one whose end of bytes says
 * what the consumer handed back (linepipe.c, bytes_released): every
 * other slot in use. The consumer takes LINEPIPE_BATCH lines, hands them
 * back, and naps on the next; the producer fills the other slots but one
 * with lines that leave a few bytes of the ring; the next line, short,
 * is dropped; the one after is long, and must wait for room rather than
 * be written over lines not read yet. */
START_TEST(test_dropped_line_in_a_full_pipe)
{
	const char head[] = "2024-01-02 00:00:00 ";
	size_t head_len = sizeof head - 1;
	size_t first = LINEPIPE_BATCH, filling = LINEPIPE_SLOTS - 1;
	size_t short_len = head_len + 3, room_left = 3 * short_len;
	size_t used = first * short_len; /* the bytes before the filling lines */
	size_t fill_len = (LINEPIPE_BYTES - used - room_left) / filling;
	struct strbuf text = STRBUF_INIT;
	for (size_t i = 0; i < first + filling + 2 + 20; i++) {
		size_t len = i >= first && i < first + filling ? fill_len
			   : i == first + filling + 1          ? 64 * 1024
			                                       : short_len;
		strbuf_append(&text, head, head_len);
		for (size_t n = head_len; n < len; n++)
			strbuf_append_char(&text, (char)('a' + (i + n) % 26));
		strbuf_append_char(&text, '\n');
	}
	struct temp_log log = temp_log_of(&text);
	const char *plain_only[] = { log.path };
	struct pipe_run run = { first + 1, 300000000, 0, first + filling, 0, NULL };
	size_t through = assert_pipe_reads_as_serial(plain_only, 1, run);
	ck_assert_uint_eq(through, first + filling + 1 + 20);
	strbuf_release(&text);
	temp_log_remove(&log);
}
END_TEST

/* A consumer that stops after a few lines: finish stops the producer,
 * which may be waiting for room, and returns (the test's timeout says it
 * does not hang). */
START_TEST(test_finish_early_stops_the_thread)
{
	struct strbuf text = STRBUF_INIT;
	for (size_t i = 0; i < 50000; i++)
		strbuf_printf(&text, "2024-01-02 00:00:00 line %zu of many\n", i);
	struct temp_log log = temp_log_of(&text);
	const char *paths[] = { log.path };
	for (size_t stop_after = 0; stop_after < 3000; stop_after += 1000) {
		struct input *input = input_open(paths, 1);
		struct lexer *lexer = lexer_new();
		struct linepipe *pipe = linepipe_start(linepipe_every_line, input, lexer, NULL, NULL);
		ck_assert_ptr_nonnull(pipe);
		const struct input_line *raw;
		const struct log_line *line;
		for (size_t n = 0; n < stop_after; n++)
			ck_assert(linepipe_next(pipe, &raw, &line));
		nap(5000000); /* let it fill the pipe */
		linepipe_finish(pipe);
		lexer_free(lexer);
		input_free(input);
	}
	strbuf_release(&text);
	temp_log_remove(&log);
}
END_TEST

/* EXIMEXPLAIN_THREADS=1 turns the pipe off, and so does a process bound
 * to one CPU; otherwise it is on. */
START_TEST(test_environment_and_cpus_turn_it_off)
{
	cpu_set_t all, one;
	ck_assert_int_eq(sched_getaffinity(0, sizeof all, &all), 0);
	unsetenv("EXIMEXPLAIN_THREADS");
	ck_assert(linepipe_wanted() == (CPU_COUNT(&all) >= 2));
	setenv("EXIMEXPLAIN_THREADS", "1", 1);
	ck_assert(!linepipe_wanted());
	setenv("EXIMEXPLAIN_THREADS", "2", 1);
	ck_assert(linepipe_wanted() == (CPU_COUNT(&all) >= 2));
	unsetenv("EXIMEXPLAIN_THREADS");
	/* this test runs in a process of its own (Check forks): bind it */
	CPU_ZERO(&one);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &all)) {
			CPU_SET(cpu, &one);
			break;
		}
	ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
	ck_assert(!linepipe_wanted());
	ck_assert_int_eq(sched_setaffinity(0, sizeof all, &all), 0);
}
END_TEST

Suite *linepipe_suite(void)
{
	Suite *s = suite_create("linepipe");
	TCase *tc = tcase_create("linepipe");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fixtures_read_as_one_thread_reads_them);
	tcase_add_test(tc, test_long_lines_wrap_the_ring);
	tcase_add_test(tc, test_small_files_wait_for_kept_windows);
	tcase_add_test(tc, test_the_side_ahead_lexes_rests);
	tcase_add_test(tc, test_dropped_line_in_a_full_pipe);
	tcase_add_test(tc, test_finish_early_stops_the_thread);
	tcase_add_test(tc, test_environment_and_cpus_turn_it_off);
	suite_add_tcase(s, tc);
	return s;
}
