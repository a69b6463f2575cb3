/*
 * Golden tests: each fixture log in fixtures/ is lexed line by line and
 * compared with the expected file beside it (NAME.kinds: one line per input
 * line, "KIND" or "KIND ID", where ID is the message ID the line belongs
 * to, continuation lines included). Adding a lexer behaviour means adding
 * a fixture pair. With UPDATE_GOLDEN=1 in the environment the expected
 * files are rewritten instead; review the diff before committing them.
 *
 * The rotated set is also read through input_open() in shuffled order and
 * must come out oldest file first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "lexer.h"
#include "strbuf.h"
#include "suites.h"
#include "test_support.h"

static const char *const golden_logs[] = {
	"fixtures/sample/exim_mainlog",
	"fixtures/lexer/continuation.log",
	"fixtures/lexer/failure-separators.log",
	"fixtures/lexer/hostile.log",
	"fixtures/lexer/journald.log",
	"fixtures/lexer/mixed-ids.log",
	"fixtures/lexer/multiline-reply.log",
	"fixtures/lexer/pid-millisec-zone.log",
	"fixtures/lexer/quoted.log",
	"fixtures/lexer/syslog.log",
};

/* "KIND[ ID]\n" for every line of the file at path. */
static void describe_lines(const char *path, struct strbuf *out)
{
	const char *paths[] = { path };
	struct input *input = input_open(paths, 1);
	struct lexer *lexer = lexer_new();
	struct input_line raw;
	struct log_line line;
	while (input_next_line(input, &raw)) {
		lexer_parse(lexer, raw.text.ptr, raw.text.len, &line);
		strbuf_append_str(out, line_kind_name(line.kind));
		if (line.message_id.len) {
			strbuf_append_char(out, ' ');
			strbuf_append_text(out, line.message_id);
		}
		strbuf_append_char(out, '\n');
	}
	lexer_free(lexer);
	input_free(input);
}

/* First line where a and b differ, 1-based, for the failure message. */
static int first_difference(const char *a, size_t na, const char *b, size_t nb)
{
	int line = 1;
	for (size_t i = 0; i < na && i < nb; i++) {
		if (a[i] != b[i])
			return line;
		if (a[i] == '\n')
			line++;
	}
	return line;
}

START_TEST(test_fixture_kinds)
{
	char *log = srcdir_path(golden_logs[_i]);
	struct strbuf expected_path = STRBUF_INIT;
	strbuf_printf(&expected_path, "%s.kinds", log);
	struct strbuf actual = STRBUF_INIT;
	describe_lines(log, &actual);
	ck_assert_msg(actual.len > 0, "%s: no lines read", log);

	if (getenv("UPDATE_GOLDEN")) {
		FILE *file = fopen(expected_path.data, "wb");
		ck_assert_msg(file != NULL, "cannot write %s", expected_path.data);
		fwrite(actual.data, 1, actual.len, file);
		fclose(file);
	}
	size_t expected_length = 0;
	char *expected = read_file(expected_path.data, &expected_length);
	ck_assert_msg(expected != NULL, "missing golden file %s", expected_path.data);
	ck_assert_msg(expected_length == actual.len &&
	                      memcmp(expected, actual.data, actual.len) == 0,
	              "%s: lexer output differs from %s at line %d", log,
	              expected_path.data,
	              first_difference(expected, expected_length, actual.data, actual.len));
	free(expected);
	strbuf_release(&actual);
	strbuf_release(&expected_path);
	free(log);
}
END_TEST

START_TEST(test_rotated_set_read_oldest_first)
{
	/* named newest first, mixed: the reader must sort by first timestamp */
	static const char *const names[] = { "exim_mainlog.1", "exim_mainlog",
	                                     "exim_mainlog.3.gz", "exim_mainlog.2.gz" };
	static const char *const order[] = { "exim_mainlog.3.gz", "exim_mainlog.2.gz",
	                                     "exim_mainlog.1", "exim_mainlog" };
	char *paths[4];
	for (int i = 0; i < 4; i++) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_printf(&sb, "fixtures/rotated/%s", names[i]);
		paths[i] = srcdir_path(sb.data);
		strbuf_release(&sb);
	}
	struct input *input = input_open((const char *const *)paths, 4);
	ck_assert_uint_eq(input_file_count(input), 4);
	for (size_t i = 0; i < 4; i++) {
		const char *name = input_file_name(input, i);
		const char *slash = strrchr(name, '/');
		ck_assert_str_eq(slash ? slash + 1 : name, order[i]);
	}
	/* every timestamped line is no older than the one before it, and the
	 * set has the 92 lines fixtures/rotated/README promises */
	struct lexer *lexer = lexer_new();
	struct input_line raw;
	struct log_line line;
	int64_t last = 0;
	uint64_t count = 0;
	while (input_next_line(input, &raw)) {
		lexer_parse(lexer, raw.text.ptr, raw.text.len, &line);
		count++;
		if (line.kind == LK_CONTINUATION || line.kind == LK_BLANK)
			continue;
		ck_assert_msg(line.epoch >= last, "%s:%llu goes back in time", raw.file,
		              (unsigned long long)raw.line_number);
		last = line.epoch;
	}
	ck_assert_uint_eq(count, 92);
	ck_assert_uint_eq(input_get_stats(input)->files_read, 4);
	lexer_free(lexer);
	input_free(input);
	for (int i = 0; i < 4; i++)
		free(paths[i]);
}
END_TEST

Suite *golden_suite(void)
{
	Suite *suite = suite_create("golden");
	TCase *tc = tcase_create("fixtures");
	tcase_add_loop_test(tc, test_fixture_kinds, 0,
	                    (int)(sizeof golden_logs / sizeof *golden_logs));
	tcase_add_test(tc, test_rotated_set_read_oldest_first);
	suite_add_tcase(suite, tc);
	return suite;
}
