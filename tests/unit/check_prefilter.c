/*
 * prefilter tests: grep's two passes (prefilter.h) and what they stand on.
 *
 *   idset: the bounded set of message IDs the first pass fills: both ID
 *     formats, IDs that are prefixes of others, views it must refuse,
 *     adding twice, growth, and the capacity bound.
 *   lexer_peek_head: on every line of the fixtures (and of the Exim
 *     test-suite corpus, when ../shared holds it) it says what
 *     lexer_parse would, and leaves the continuation state as
 *     lexer_parse would; then the lines it must leave to lexer_parse.
 *   prefilter_scan and prefilter_gate: small logs read twice, the way
 *     pipeline.c reads them, and which lines the second pass takes: a
 *     selected message's, its bounce's, lines of no message; the window,
 *     the cap, and the head and epoch of skipped entries.
 *
 * Zone-less timestamps are local time: every test that compares epochs
 * sets TZ=UTC first (Check's fork mode keeps that to the test).
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idset.h"
#include "input.h"
#include "lexer.h"
#include "prefilter.h"
#include "strbuf.h"
#include "suites.h"
#include "test_support.h"

/* A view's arguments for "%.*s" (an empty view may have a NULL pointer). */
#define VIEW_ARGS(view) (int)(view).len, (view).ptr ? (view).ptr : ""

/* ---- idset ---- */

#define CLASSIC_ID "1rkNul-000008-AA"
#define NEW_ID "1rkmtr-00000005w5N-3VZI"

/* A 23-character ID, different for every n; the two families (variant
 * 'N' and 'M') differ in their last byte only, so a lookup of one in a set
 * of the other must compare whole IDs, not hashes or prefixes. */
static void make_id(char id[MESSAGE_ID_MAX + 1], unsigned n, char variant)
{
	snprintf(id, MESSAGE_ID_MAX + 1, "1rk%03u-%011u-3VZ%c", n % 1000u, n % 100000000u,
	         variant);
	ck_assert_uint_eq(strlen(id), MESSAGE_ID_MAX);
}

START_TEST(test_idset_both_id_formats)
{
	struct idset *set = idset_new(16);
	ck_assert(idset_add(set, text_of(CLASSIC_ID)));
	ck_assert(idset_add(set, text_of(NEW_ID)));
	ck_assert_uint_eq(idset_count(set), 2);
	ck_assert(idset_has(set, text_of(CLASSIC_ID)));
	ck_assert(idset_has(set, text_of(NEW_ID)));
	ck_assert(!idset_has(set, text_of("1rkNul-000008-AB")));
	ck_assert(!idset_has(set, text_of("1rkmtr-00000005w5N-3VZJ")));

	/* A view into a line is copied in: the line may change afterwards. */
	char line[] = "2024-03-14 10:00:01 1rkNum-000009-BB Completed";
	ck_assert(idset_add(set, text_make(line + 20, 16)));
	memset(line, 'x', sizeof line - 1);
	ck_assert(idset_has(set, text_of("1rkNum-000009-BB")));
	idset_free(set);
}
END_TEST

START_TEST(test_idset_prefix_is_another_key)
{
	struct idset *set = idset_new(16);
	struct text whole = text_of(NEW_ID);
	ck_assert(idset_add(set, whole));
	for (size_t n = 1; n < whole.len; n++)
		ck_assert_msg(!idset_has(set, text_make(whole.ptr, n)),
		              "the first %zu bytes of " NEW_ID " found", n);

	/* the 16-byte prefix looks like a classic ID: still its own key */
	struct text prefix = text_make(whole.ptr, 16);
	ck_assert(idset_add(set, prefix));
	ck_assert_uint_eq(idset_count(set), 2);
	ck_assert(idset_has(set, prefix));
	ck_assert(idset_has(set, whole));
	idset_free(set);
}
END_TEST

START_TEST(test_idset_refuses_empty_and_overlong)
{
	static const char overlong[] = NEW_ID "X"; /* 24 bytes */
	struct idset *set = idset_new(16);
	ck_assert(!idset_add(set, text_make(NULL, 0)));
	ck_assert(!idset_add(set, text_make("", 0)));
	ck_assert(!idset_add(set, text_make(overlong, sizeof overlong - 1)));
	ck_assert_uint_eq(idset_count(set), 0);
	ck_assert(!idset_has(set, text_make(NULL, 0)));
	ck_assert(!idset_has(set, text_make(overlong, sizeof overlong - 1)));

	/* over 23 bytes is never found, even when its first 23 are */
	ck_assert(idset_add(set, text_of(NEW_ID)));
	ck_assert(!idset_has(set, text_make(overlong, sizeof overlong - 1)));
	ck_assert(!idset_add(set, text_make(overlong, sizeof overlong - 1)));
	ck_assert_uint_eq(idset_count(set), 1);
	idset_free(set);
}
END_TEST

START_TEST(test_idset_add_twice)
{
	struct idset *set = idset_new(16);
	ck_assert(idset_add(set, text_of(CLASSIC_ID)));
	ck_assert(idset_add(set, text_of(CLASSIC_ID)));
	ck_assert_uint_eq(idset_count(set), 1);
	ck_assert(idset_has(set, text_of(CLASSIC_ID)));
	idset_free(set);
}
END_TEST

/* Far past the first table's 1024 slots: every growth must keep every ID. */
START_TEST(test_idset_grows)
{
	enum { ADDED = 10000 };
	char id[MESSAGE_ID_MAX + 1];
	struct idset *set = idset_new(2 * ADDED);
	for (unsigned i = 0; i < ADDED; i++) {
		make_id(id, i, 'N');
		ck_assert_msg(idset_add(set, text_of(id)), "add %s refused", id);
	}
	ck_assert_uint_eq(idset_count(set), ADDED);
	for (unsigned i = 0; i < ADDED; i++) {
		make_id(id, i, 'N');
		ck_assert_msg(idset_has(set, text_of(id)), "%s lost", id);
		/* its first 22 bytes: the same start, so only the length tells */
		ck_assert_msg(!idset_has(set, text_make(id, MESSAGE_ID_MAX - 1)),
		              "%.22s found, never added", id);
		make_id(id, i, 'M');
		ck_assert_msg(!idset_has(set, text_of(id)), "%s found, never added", id);
		make_id(id, ADDED + i, 'N');
		ck_assert_msg(!idset_has(set, text_of(id)), "%s found, never added", id);
	}
	idset_free(set);
}
END_TEST

START_TEST(test_idset_capacity)
{
	char id[MESSAGE_ID_MAX + 1];
	struct idset *set = idset_new(3);
	for (unsigned i = 0; i < 3; i++) {
		make_id(id, i, 'N');
		ck_assert(idset_add(set, text_of(id)));
	}
	make_id(id, 3, 'N');
	ck_assert_msg(!idset_add(set, text_of(id)), "a 4th ID in a set of capacity 3");
	ck_assert(!idset_has(set, text_of(id)));
	ck_assert_uint_eq(idset_count(set), 3);

	/* full, but an ID already there is still "in the set now" */
	make_id(id, 1, 'N');
	ck_assert(idset_add(set, text_of(id)));
	ck_assert_uint_eq(idset_count(set), 3);
	idset_free(set);
}
END_TEST

START_TEST(test_idset_free_null)
{
	idset_free(NULL);
}
END_TEST

/* ---- lexer_peek_head against lexer_parse ---- */

/* What the lines of one source were peeked as. */
struct peek_tally {
	size_t lines, message, entry, unsure;
};

/*
 * One line through two lexers that have seen the same lines before it:
 * `parsing` lexes every line; `peeking` peeks first and lexes only what
 * the peek leaves to lexer_parse, as prefilter.c does. A peek must say
 * what lexer_parse says; a line the peeking lexer lexes must come out as
 * the parsing lexer's does, which for a continuation means the peeks
 * before it left the right entry ID behind.
 */
static void compare_one_line(struct lexer *parsing, struct lexer *peeking, const char *line,
                             size_t length, const char *where, struct peek_tally *tally)
{
	struct log_line parsed;
	lexer_parse(parsing, line, length, &parsed);
	tally->lines++;

	struct text id = { NULL, 0 };
	int64_t epoch = 0;
	enum lexer_head head = lexer_peek_head(peeking, line, length, &id, &epoch);
	if (head == LEXER_HEAD_UNSURE) {
		tally->unsure++;
		struct log_line second;
		lexer_parse(peeking, line, length, &second);
		ck_assert_msg(same_bytes(second.message_id, parsed.message_id),
		              "%s: after peeks the ID is \"%.*s\", lexer_parse alone says \"%.*s\"",
		              where, VIEW_ARGS(second.message_id), VIEW_ARGS(parsed.message_id));
		ck_assert_msg(second.kind == parsed.kind, "%s: after peeks %s, alone %s", where,
		              line_kind_name(second.kind), line_kind_name(parsed.kind));
		ck_assert_msg(second.epoch == parsed.epoch, "%s: after peeks epoch %lld, alone %lld",
		              where, (long long)second.epoch, (long long)parsed.epoch);
		return;
	}

	const char *what = head == LEXER_HEAD_MESSAGE ? "MESSAGE" : "ENTRY";
	if (head == LEXER_HEAD_MESSAGE) {
		tally->message++;
		ck_assert_msg(id.len > 0, "%s: MESSAGE with an empty ID", where);
		ck_assert_msg(id.ptr >= line && id.len <= (size_t)(line + length - id.ptr),
		              "%s: the peeked ID is not a view into the line", where);
	} else {
		ck_assert_msg(head == LEXER_HEAD_ENTRY, "%s: peek returned %d", where, (int)head);
		tally->entry++;
		ck_assert_msg(id.len == 0, "%s: ENTRY with the ID \"%.*s\"", where, VIEW_ARGS(id));
	}
	ck_assert_msg(same_bytes(id, parsed.message_id),
	              "%s: peek says %s \"%.*s\", lexer_parse says ID \"%.*s\"", where, what,
	              VIEW_ARGS(id), VIEW_ARGS(parsed.message_id));
	ck_assert_msg(epoch == parsed.epoch, "%s: peek says epoch %lld, lexer_parse %lld", where,
	              (long long)epoch, (long long)parsed.epoch);
	ck_assert_msg(parsed.kind != LK_CONTINUATION && parsed.kind != LK_BLANK,
	              "%s: peek says %s, lexer_parse says %s", where, what,
	              line_kind_name(parsed.kind));
}

/* Every line of one file, split as input.c splits it (on \n, a \r before
 * it dropped, cut at INPUT_LINE_MAX), with fresh lexers as for a new file. */
static void compare_file(const char *path, struct peek_tally *tally)
{
	size_t length;
	char *text = read_file(path, &length);
	ck_assert_msg(text != NULL, "%s: cannot be read", path);
	struct lexer *parsing = lexer_new();
	struct lexer *peeking = lexer_new();
	const char *end = text + length;
	unsigned long number = 0;
	for (const char *line = text; line < end;) {
		const char *newline = memchr(line, '\n', (size_t)(end - line));
		size_t n = (size_t)((newline ? newline : end) - line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n > INPUT_LINE_MAX)
			n = INPUT_LINE_MAX;
		char where[512];
		snprintf(where, sizeof where, "%s:%lu", path, ++number);
		compare_one_line(parsing, peeking, line, n, where, tally);
		line = newline ? newline + 1 : end;
	}
	lexer_free(parsing);
	lexer_free(peeking);
	free(text);
}

static const struct peek_source {
	const char *name;
	const char *pattern; /* a glob, under SRCDIR */
	bool optional;       /* checked only where it exists */
} peek_sources[] = {
	{ "lexer fixtures", "fixtures/lexer/*.log", false },
	{ "sample log", "fixtures/sample/exim_mainlog", false },
	{ "grep pitfalls", "fixtures/grep/pitfalls.log", false },
	{ "hostile fixtures", "fixtures/hostile/*.log", false },
	/* shared material beside the repository, not part of it */
	{ "Exim test-suite corpus", "../shared/corpus/exim-testsuite/log/*", true },
};

START_TEST(test_peek_agrees_with_parse)
{
	use_time_zone("UTC");
	const struct peek_source *source = &peek_sources[_i];
	char *pattern = srcdir_path(source->pattern);
	glob_t files;
	int found = glob(pattern, GLOB_MARK, NULL, &files);
	if (found == GLOB_NOMATCH && source->optional) {
		printf("peek/parse: %s: %s not found, not checked\n", source->name, pattern);
		free(pattern);
		return;
	}
	ck_assert_msg(found == 0, "%s: no file matches %s", source->name, pattern);

	struct peek_tally tally = { 0 };
	size_t file_count = 0;
	for (size_t i = 0; i < files.gl_pathc; i++) {
		const char *path = files.gl_pathv[i];
		if (path[strlen(path) - 1] == '/') /* GLOB_MARK: a directory */
			continue;
		compare_file(path, &tally);
		file_count++;
	}
	printf("peek/parse: %s: %zu lines in %zu files (%zu message, %zu entry, %zu unsure)\n",
	       source->name, tally.lines, file_count, tally.message, tally.entry, tally.unsure);
	ck_assert_msg(tally.lines > 0, "%s: no line checked", source->name);
	globfree(&files);
	free(pattern);
}
END_TEST

#define SEEN_ID "1rkAAA-000001-AA"
#define SEEN_LINE "2024-03-14 09:00:00 " SEEN_ID " Completed"

/* Lines whose place only lexer_parse can work out. */
static const char *const unsure_lines[] = {
	"Mar 14 10:00:01 host exim[123]: 2024-03-14 10:00:01 " CLASSIC_ID " <= a@b H=[192.0.2.1] P=esmtp S=100",
	"2024-03-14T10:00:01+01:00 host exim[123]: 2024-03-14 10:00:01 " CLASSIC_ID " Completed",
	"  continued text",
	" 2024-03-14 10:00:01 " CLASSIC_ID " Completed",
	"2024-13-14 10:00:01 " CLASSIC_ID " <= a@b",
	"\xEF\xBB\xBF" "2024-03-14 10:00:01 " CLASSIC_ID " Completed",
	"2024-03-14 10:00:01",
	"",
};

/* An UNSURE peek changes nothing: a continuation after it still belongs
 * to the entry before. */
START_TEST(test_peek_unsure)
{
	use_time_zone("UTC");
	const char *line = unsure_lines[_i];
	struct lexer *lexer = lexer_new();
	struct log_line out;
	lexer_parse(lexer, SEEN_LINE, strlen(SEEN_LINE), &out);

	struct text id = { NULL, 0 };
	int64_t epoch = 0;
	ck_assert_msg(lexer_peek_head(lexer, line, strlen(line), &id, &epoch) == LEXER_HEAD_UNSURE,
	              "\"%s\" not left to lexer_parse", line);
	out = lex_with(lexer, "  continued text");
	assert_kind(out, LK_CONTINUATION);
	assert_text(out.message_id, SEEN_ID);
	lexer_free(lexer);
}
END_TEST

START_TEST(test_peek_millisecond_zone_pid)
{
	use_time_zone("UTC");
	static const char line[] = "2024-03-14 10:00:01.123 +0100 [4567] " CLASSIC_ID " Completed";
	struct lexer *lexer = lexer_new();
	struct text id = { NULL, 0 };
	int64_t epoch = 0;
	ck_assert_int_eq(lexer_peek_head(lexer, line, sizeof line - 1, &id, &epoch),
	                 LEXER_HEAD_MESSAGE);
	assert_text(id, CLASSIC_ID);
	ck_assert_int_eq(epoch, utc_epoch(2024, 3, 14, 9, 0, 1));
	lexer_free(lexer);
}
END_TEST

START_TEST(test_peek_entry_without_id)
{
	use_time_zone("UTC");
	static const char line[] = "2024-03-14 10:00:01 Start queue run: pid=1";
	struct lexer *lexer = lexer_new();
	struct text id = TEXT_LITERAL("stale");
	int64_t epoch = 0;
	ck_assert_int_eq(lexer_peek_head(lexer, line, sizeof line - 1, &id, &epoch),
	                 LEXER_HEAD_ENTRY);
	ck_assert_uint_eq(id.len, 0);
	ck_assert_int_eq(epoch, utc_epoch(2024, 3, 14, 10, 0, 1));
	lexer_free(lexer);
}
END_TEST

/* A peeked head is the entry later continuation lines belong to; its kind
 * is not worked out (lexer.h). */
START_TEST(test_continuation_after_peeked_head)
{
	use_time_zone("UTC");
	static const char message[] = "2024-03-14 10:00:01 " NEW_ID " => x@example.org R=r T=t";
	static const char entry[] = "2024-03-14 10:00:02 Start queue run: pid=1";
	struct lexer *lexer = lexer_new();
	struct text id;
	int64_t epoch;
	ck_assert_int_eq(lexer_peek_head(lexer, message, sizeof message - 1, &id, &epoch),
	                 LEXER_HEAD_MESSAGE);
	struct log_line out = lex_with(lexer, "  continued text");
	assert_kind(out, LK_CONTINUATION);
	assert_text(out.message_id, NEW_ID);
	ck_assert_int_eq(out.continues, LK_UNKNOWN);

	/* a peeked entry of no message replaces it */
	ck_assert_int_eq(lexer_peek_head(lexer, entry, sizeof entry - 1, &id, &epoch),
	                 LEXER_HEAD_ENTRY);
	out = lex_with(lexer, "  continued text");
	assert_kind(out, LK_CONTINUATION);
	ck_assert_uint_eq(out.message_id.len, 0);
	lexer_free(lexer);
}
END_TEST

/* ---- prefilter_scan and prefilter_gate ---- */

/* The line test of these tests: the line holds a fixed string. */
struct needle {
	const char *text;
};

static bool holds_needle(void *context, const char *line, size_t length)
{
	const struct needle *needle = context;
	return memmem(line, length, needle->text, strlen(needle->text)) != NULL;
}

static struct prefilter_options needle_options(struct needle *needle)
{
	return (struct prefilter_options){ .test = { holds_needle, needle } };
}

/* A line of a test log and whether the second pass must take it. */
struct gated {
	const char *line;
	bool take;
};

#define MAX_GATED 32

/* What both passes did. */
struct two_passes {
	bool narrowed;              /* prefilter_scan's answer */
	size_t selected_after_scan; /* prefilter_selected after each pass */
	size_t selected_after_gate;
	size_t count;               /* lines of the second pass */
	struct prefilter_verdict verdict[MAX_GATED];
};

/* The next line through the gate as pipeline.c's second pass does it:
 * a new file resets the lexer, and a taken line the gate did not lex is
 * lexed. False at the end of the input. */
static bool next_gated_line(struct prefilter *prefilter, struct input *input,
                            struct lexer *lexer, struct prefilter_verdict *v)
{
	struct input_line raw;
	struct log_line line;
	if (!input_next_line(input, &raw))
		return false;
	if (input_file_changed(input))
		lexer_reset(lexer);
	*v = prefilter_gate(prefilter, lexer, input, &raw, &line);
	if (v->take && !v->parsed)
		lexer_parse(lexer, raw.text.ptr, raw.text.len, &line);
	return true;
}

/* The second pass as pipeline.c's gate_line runs it: a taken line the
 * gate has not lexed is lexed now (take_line), which the lexer's state
 * for the lines after it depends on. */
static void second_pass(struct prefilter *prefilter, struct input *input, struct lexer *lexer,
                        struct two_passes *out)
{
	struct prefilter_verdict v;
	while (next_gated_line(prefilter, input, lexer, &v)) {
		ck_assert_uint_lt(out->count, MAX_GATED);
		out->verdict[out->count++] = v;
	}
}

/* Write the lines to a log file, and read it twice as pipeline.c's
 * first_pass does: input_open, input_keep_for_rereading, the scan with a
 * lexer of its own, input_reread, then the second pass with a fresh one. */
static void run_two_passes(const struct gated *lines, size_t n,
                           const struct prefilter_options *options, struct two_passes *out)
{
	memset(out, 0, sizeof *out);
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	struct strbuf log = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		strbuf_append(&log, lines[i].line, strlen(lines[i].line));
		strbuf_append_char(&log, '\n');
	}
	write_file(path, log.data, log.len);
	strbuf_release(&log);

	const char *paths[] = { path };
	struct input *input = input_open(paths, 1);
	ck_assert_msg(input_keep_for_rereading(input), "a regular file cannot be read twice");
	struct lexer *scan_lexer = lexer_new();
	struct prefilter *prefilter = prefilter_new(options);
	out->narrowed = prefilter_scan(prefilter, input, scan_lexer);
	out->selected_after_scan = prefilter_selected(prefilter);
	lexer_free(scan_lexer);
	input_reread(input);
	struct lexer *lexer = lexer_new();
	second_pass(prefilter, input, lexer, out);
	out->selected_after_gate = prefilter_selected(prefilter);

	prefilter_free(prefilter);
	lexer_free(lexer);
	input_free(input);
	remove_tree(dir);
	free(path);
	free(dir);
}

static void assert_taken_as_expected(const struct gated *lines, size_t n,
                                     const struct two_passes *run)
{
	ck_assert_uint_eq(run->count, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(run->verdict[i].take == lines[i].take,
		              "line %zu \"%s\": expected %s, got %s", i + 1, lines[i].line,
		              lines[i].take ? "taken" : "skipped",
		              run->verdict[i].take ? "taken" : "skipped");
}

#define TAKE true
#define SKIP false
#define COUNT(array) (sizeof(array) / sizeof *(array))

/* A and C have no line that matches, B has one; the lines of no message
 * are judged each on its own. */
static const struct gated three_messages[] = {
	{ "2024-03-14 10:00:00 1rkAAA-000001-AA <= alice@example.com H=[192.0.2.1] P=esmtp S=100", SKIP },
	{ "2024-03-14 10:00:01 1rkBBB-000002-BB <= carol@example.com H=[192.0.2.2] P=esmtp S=200", TAKE },
	{ "2024-03-14 10:00:02 1rkAAA-000001-AA => dave@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.1] C=\"250 OK\"", SKIP },
	{ "2024-03-14 10:00:02 1rkBBB-000002-BB ** bob@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.2]: SMTP error from remote mail server after RCPT TO:<bob@example.org>: 550-5.1.1 No such user", TAKE },
	{ "  550 5.1.1 see the help page", TAKE },
	{ "2024-03-14 10:00:03 1rkmtr-00000005w5N-3VZI <= erin@example.com H=[192.0.2.3] P=esmtp S=300", SKIP },
	{ "  continued text of C", SKIP },
	{ "2024-03-14 10:00:03 1rkAAA-000001-AA Completed", SKIP },
	{ "  continued text of A", SKIP },
	{ "2024-03-14 10:00:04 1rkBBB-000002-BB Completed", TAKE },
	{ "2024-03-14 10:00:05 SMTP connection from [192.0.2.9] lost", SKIP },
	{ "  continued text of a line of no message", SKIP },
	{ "  bob@example.org in a continuation of a line of no message", TAKE },
	{ "  more text of that line", SKIP },
	{ "2024-03-14 10:00:06 H=[192.0.2.9] F=<bob@example.org> rejected RCPT <x@example.com>: relay not permitted", TAKE },
	{ "2024-03-14 10:00:07 1rkmtr-00000005w5N-3VZI Completed", SKIP },
};

START_TEST(test_gate_takes_the_selected_message)
{
	use_time_zone("UTC");
	struct needle needle = { "bob@example.org" };
	struct prefilter_options options = needle_options(&needle);
	struct two_passes run;
	run_two_passes(three_messages, COUNT(three_messages), &options, &run);
	ck_assert(run.narrowed);
	ck_assert_uint_eq(run.selected_after_scan, 1);
	assert_taken_as_expected(three_messages, COUNT(three_messages), &run);
	ck_assert_uint_eq(run.selected_after_gate, 1);
}
END_TEST

/* P is selected by its ** line; its bounce has no line that matches, but
 * is taken whole so that P's record names it. A bounce of a message not
 * selected is not. */
static const struct gated bounce[] = {
	{ "2024-03-14 10:00:00 1rkPPP-000003-PP <= frank@example.net H=[192.0.2.4] P=esmtp S=400", TAKE },
	{ "2024-03-14 10:00:01 1rkPPP-000003-PP ** gina@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.3]: SMTP error from remote mail server after RCPT TO:<gina@example.org>: 550 5.1.1 No such user", TAKE },
	{ "2024-03-14 10:00:01 1rkQQQ-000004-QQ <= hank@example.com H=[192.0.2.5] P=esmtp S=500", SKIP },
	{ "2024-03-14 10:00:01 1rkBNC-000005-BN <= <> R=1rkPPP-000003-PP U=Debian-exim P=local S=1234", TAKE },
	{ "2024-03-14 10:00:01 1rkPPP-000003-PP Completed", TAKE },
	{ "2024-03-14 10:00:02 1rkBNC-000005-BN => frank@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.4] C=\"250 OK\"", TAKE },
	{ "2024-03-14 10:00:02 1rkQQQ-000004-QQ ** ivan@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.3]: SMTP error from remote mail server after RCPT TO:<ivan@example.org>: 550 5.1.1 No such user", SKIP },
	{ "2024-03-14 10:00:02 1rkBN2-000006-B2 <= <> R=1rkQQQ-000004-QQ U=Debian-exim P=local S=999", SKIP },
	{ "2024-03-14 10:00:03 1rkQQQ-000004-QQ Completed", SKIP },
	{ "2024-03-14 10:00:03 1rkBNC-000005-BN Completed", TAKE },
	{ "2024-03-14 10:00:04 1rkBN2-000006-B2 Completed", SKIP },
};

START_TEST(test_gate_follows_the_bounce_of_a_selected_message)
{
	use_time_zone("UTC");
	struct needle needle = { "gina@example.org" };
	struct prefilter_options options = needle_options(&needle);
	struct two_passes run;
	run_two_passes(bounce, COUNT(bounce), &options, &run);
	ck_assert(run.narrowed);
	ck_assert_uint_eq(run.selected_after_scan, 1);
	assert_taken_as_expected(bounce, COUNT(bounce), &run);
	ck_assert_uint_eq(run.selected_after_gate, 2);
}
END_TEST

/* The same, with the bounce's " R=" at every place a search sixteen bytes
 * at a time can put it: after senders of 0 to 40 bytes, once right after
 * the sender and once after other fields, with near misses ("xR=", " R-")
 * before it. */
START_TEST(test_gate_finds_the_parent_at_any_offset)
{
	use_time_zone("UTC");
	char sender[48];
	memset(sender, 'q', sizeof sender);
	sender[_i] = '\0';
	char bounce_line[2][256];
	snprintf(bounce_line[0], sizeof bounce_line[0],
	         "2024-03-14 10:00:01 1rkBNC-000005-BN <= %s@x.example R=1rkPPP-000003-PP U=Debian-exim "
	         "P=local S=1234", sender);
	snprintf(bounce_line[1], sizeof bounce_line[1],
	         "2024-03-14 10:00:01 1rkBNC-000005-BN <= %s@x.example xR=1 R-2 U=Debian-exim "
	         "P=local R=1rkPPP-000003-PP", sender);
	for (int form = 0; form < 2; form++) {
		const struct gated lines[] = {
			{ bounce[0].line, TAKE }, { bounce[1].line, TAKE },
			{ bounce_line[form], TAKE }, { bounce[4].line, TAKE }, { bounce[5].line, TAKE },
			{ bounce[9].line, TAKE },
		};
		struct needle needle = { "gina@example.org" };
		struct prefilter_options options = needle_options(&needle);
		struct two_passes run;
		run_two_passes(lines, COUNT(lines), &options, &run);
		assert_taken_as_expected(lines, COUNT(lines), &run);
		ck_assert_uint_eq(run.selected_after_gate, 2);
	}
}
END_TEST

/* Window [10:00, 11:00): the pipeline hands the sink only the lines in
 * it, so only a match in it may select. W1 matches before the window
 * only; W3's entry is at the window's (exclusive) end, so its matching
 * continuation is out too; W2 matches inside. */
static const struct gated window[] = {
	{ "2024-03-14 09:59:59 1rkW1a-000001-W1 <= match@example.com H=[192.0.2.1] P=esmtp S=100", SKIP },
	{ "2024-03-14 10:00:00 1rkW1a-000001-W1 Completed", SKIP },
	{ "2024-03-14 10:30:00 1rkW2a-000002-W2 <= match@example.com H=[192.0.2.2] P=esmtp S=100", TAKE },
	{ "2024-03-14 10:30:01 1rkW2a-000002-W2 Completed", TAKE },
	{ "2024-03-14 11:00:00 1rkW3a-000003-W3 <= other@example.com H=[192.0.2.3] P=esmtp S=100", SKIP },
	{ "  match@example.com", SKIP },
	{ "2024-03-14 11:00:01 1rkW3a-000003-W3 Completed", SKIP },
};

START_TEST(test_scan_keeps_to_the_window)
{
	use_time_zone("UTC");
	struct needle needle = { "match@example.com" };
	struct prefilter_options options = needle_options(&needle);
	options.since = utc_epoch(2024, 3, 14, 10, 0, 0);
	options.until = utc_epoch(2024, 3, 14, 11, 0, 0);
	struct two_passes run;
	run_two_passes(window, COUNT(window), &options, &run);
	ck_assert(run.narrowed);
	ck_assert_uint_eq(run.selected_after_scan, 1);
	assert_taken_as_expected(window, COUNT(window), &run);

	/* without the window, all three are selected */
	options.since = options.until = 0;
	run_two_passes(window, COUNT(window), &options, &run);
	ck_assert_uint_eq(run.selected_after_scan, 3);
}
END_TEST

/* Three messages that match, two of them twice: only distinct messages
 * count against ids_max. The take flags are not looked at here. */
static const struct gated three_matching[] = {
	{ "2024-03-14 10:00:00 1rkCA1-000001-C1 <= match@example.com H=[192.0.2.1] P=esmtp S=100", TAKE },
	{ "2024-03-14 10:00:01 1rkCA1-000001-C1 => match@example.com R=r T=t", TAKE },
	{ "2024-03-14 10:00:02 1rkCA2-000002-C2 <= match@example.com H=[192.0.2.2] P=esmtp S=100", TAKE },
	{ "2024-03-14 10:00:03 1rkCA2-000002-C2 => match@example.com R=r T=t", TAKE },
	{ "2024-03-14 10:00:04 1rkCA3-000003-C3 <= match@example.com H=[192.0.2.3] P=esmtp S=100", TAKE },
};

START_TEST(test_scan_gives_up_past_the_cap)
{
	use_time_zone("UTC");
	struct needle needle = { "match@example.com" };
	struct prefilter_options options = needle_options(&needle);
	struct two_passes run;

	options.ids_max = 2;
	run_two_passes(three_matching, COUNT(three_matching), &options, &run);
	ck_assert_msg(!run.narrowed, "3 messages may match, at most 2 may be noted");

	/* the first two, each matching twice, are within it */
	run_two_passes(three_matching, 4, &options, &run);
	ck_assert(run.narrowed);
	ck_assert_uint_eq(run.selected_after_scan, 2);

	options.ids_max = 3;
	run_two_passes(three_matching, COUNT(three_matching), &options, &run);
	ck_assert(run.narrowed);
	ck_assert_uint_eq(run.selected_after_scan, 3);
	assert_taken_as_expected(three_matching, COUNT(three_matching), &run);
}
END_TEST

/* Lines left out still tell the pipeline where an entry starts and when,
 * so the window of the continuation lines after them is that entry's. */
struct head_case {
	const char *line;
	bool head;
	int hour, minute, second; /* UTC on 2024-03-14; when head */
};

static const struct head_case heads[] = {
	{ "2024-03-14 10:00:00 1rkAAA-000001-AA <= alice@example.com H=[192.0.2.1] P=esmtp S=100", true, 10, 0, 0 },
	{ "  continued text of A", false, 0, 0, 0 },
	{ "2024-03-14 10:00:05 SMTP connection from [192.0.2.9] lost", true, 10, 0, 5 },
	{ "  continued text of a line of no message", false, 0, 0, 0 },
	{ "2024-03-14 10:00:06.250 +0100 [77] 1rkAAA-000001-AA Completed", true, 9, 0, 6 },
	{ "", false, 0, 0, 0 },
	/* only lexer_parse can place these: the gate has lexed them */
	{ "Mar 14 10:00:07 mailhost exim[123]: 2024-03-14 10:00:07 1rkAAA-000001-AA Completed", true, 10, 0, 7 },
	{ "Mar 14 10:00:08 mailhost exim[123]: 2024-03-14 10:00:08 Start queue run: pid=1", true, 10, 0, 8 },
};

START_TEST(test_gate_tells_head_and_epoch_of_skipped_lines)
{
	use_time_zone("UTC");
	struct gated lines[COUNT(heads)];
	for (size_t i = 0; i < COUNT(heads); i++)
		lines[i] = (struct gated){ heads[i].line, SKIP };
	struct needle needle = { "nothing has this" };
	struct prefilter_options options = needle_options(&needle);
	struct two_passes run;
	/* with no window no time is worked out; a line still tells it is a head */
	run_two_passes(lines, COUNT(lines), &options, &run);
	for (size_t i = 0; i < COUNT(heads); i++)
		ck_assert_msg(run.verdict[i].head == heads[i].head, "no window, line %zu: head %d",
		              i + 1, run.verdict[i].head);
	/* with one, the time of each head */
	options.since = utc_epoch(2024, 3, 14, 0, 0, 0);
	run_two_passes(lines, COUNT(lines), &options, &run);
	ck_assert(run.narrowed);
	ck_assert_uint_eq(run.selected_after_scan, 0);
	assert_taken_as_expected(lines, COUNT(lines), &run);
	for (size_t i = 0; i < COUNT(heads); i++) {
		const struct head_case *c = &heads[i];
		const struct prefilter_verdict *v = &run.verdict[i];
		ck_assert_msg(v->head == c->head, "line %zu \"%s\": head %d, expected %d", i + 1,
		              c->line, v->head, c->head);
		if (!c->head)
			continue;
		long long want = utc_epoch(2024, 3, 14, c->hour, c->minute, c->second);
		ck_assert_msg(v->epoch == want, "line %zu \"%s\": epoch %lld, expected %lld", i + 1,
		              c->line, (long long)v->epoch, want);
	}
	ck_assert_msg(run.verdict[6].parsed && run.verdict[7].parsed,
	              "syslog-wrapped lines are placed by lexer_parse");
}
END_TEST

/* ---- searching ahead (line_test.search) ---- */

/* The needle again, counting the lines it is asked about, and searched
 * for in bulk as drilldown's search_lines does with PCRE2. */
struct counted_needle {
	const char *text;
	size_t tested;
	bool unsure; /* the search never knows */
};

static bool holds_counted_needle(void *context, const char *line, size_t length)
{
	struct counted_needle *needle = context;
	needle->tested++;
	return memmem(line, length, needle->text, strlen(needle->text)) != NULL;
}

static enum line_search search_needle(void *context, const char *bytes, size_t length,
                                      size_t *at)
{
	const struct counted_needle *needle = context;
	if (needle->unsure)
		return LINE_SEARCH_UNSURE;
	const char *hit = memmem(bytes, length, needle->text, strlen(needle->text));
	if (hit == NULL)
		return LINE_SEARCH_NONE;
	*at = (size_t)(hit - bytes);
	return LINE_SEARCH_FOUND;
}

static uint32_t next_random(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

/* About 3.5 MB of log, so that the read-ahead (a buffer of a megabyte and
 * more) ends many times, wherever a line happens to: messages of a few
 * lines, some with continuation lines, entries of no message, a minute
 * that changes every few hundred lines, CRLF line ends, a line longer
 * than INPUT_LINE_MAX, and the needle in message, continuation and loose
 * lines, in a CR and past a cut. Returns the number of lines. */
static size_t write_big_log(const char *path, const char *needle)
{
	struct strbuf log = STRBUF_INIT;
	uint32_t seed = 12345;
	size_t lines = 0;
	char stamp[32], id[32];
	/* where the read-ahead ends next: input.c reads 256 KiB first (enough
	 * to tell gzip), then fills its buffer from the line cut at the end */
	size_t boundary = 256 * 1024;
	for (unsigned m = 0; log.len < 3500000; m++) {
		unsigned minute = m / 150;
		snprintf(stamp, sizeof stamp, "2024-03-14 %02u:%02u:%02u", 10 + minute / 60 % 10,
		         minute % 60, m % 60);
		snprintf(id, sizeof id, "1rk%03u-%06u-%02u", m % 1000, m, m % 100);
		uint32_t r = next_random(&seed);
		const char *in_arrival = r % 97 == 0 ? needle : "";
		const char *in_continuation = r % 89 == 1 ? needle : "";
		const char *in_loose = r % 83 == 2 ? needle : "";
		strbuf_printf(&log, "%s %s <= sender%u@example.com H=[192.0.2.%u] P=esmtp S=%u%s%s\n",
		              stamp, id, m, r % 250, r % 90000, in_arrival,
		              r % 7 == 0 ? "\r" : "");
		lines++;
		if (r % 5 == 0) {
			strbuf_printf(&log, "  a continuation line of %s%s\n", id, in_continuation);
			lines++;
		}
		strbuf_printf(&log, "%s %s => rcpt%u@example.net R=dnslookup T=remote_smtp "
		              "H=mx.example.net [198.51.100.%u]\n", stamp, id, m, r % 250);
		strbuf_printf(&log, "%s SMTP connection from [203.0.113.%u] lost%s\n", stamp,
		              r % 250, in_loose);
		if (r % 11 == 0) {
			strbuf_printf(&log, "  a continuation line of no message%s\n", in_continuation);
			lines++;
		}
		strbuf_printf(&log, "%s %s Completed\n", stamp, id);
		lines += 3;
		if (log.len + 400 > boundary) {
			/* a head the first pass passes over as the last line read
			 * ahead, then a continuation line that selects its message
			 * read after the buffer moved: the head must be placed
			 * before it goes */
			size_t head_start = log.len;
			strbuf_printf(&log, "%s 1rkZZZ-%06u-ZZ <= boundary@example.com S=", stamp, m);
			while (log.len < boundary - 20 - 1)
				strbuf_append_char(&log, '9');
			strbuf_printf(&log, "\n  the continuation after the boundary %s\n", needle);
			ck_assert_uint_eq(head_start < boundary - 20, true);
			boundary = boundary - 20 + INPUT_BUFFER_SIZE;
			lines += 2;
		}
		if (m == 9000) { /* the needle past the cut of an over-long line */
			strbuf_printf(&log, "%s %s == x@example.org ", stamp, id);
			for (size_t i = 0; i < INPUT_LINE_MAX; i++)
				strbuf_append_char(&log, 'x');
			strbuf_printf(&log, "%s\n", needle);
			lines++;
		}
		if (m == 11000) {
			/* all but the needle's last byte, then a CR: a near miss */
			strbuf_printf(&log, "%s %s == y@example.org R=x T=y: %.*s\r\n", stamp, id,
			              (int)strlen(needle) - 1, needle);
			lines++;
		}
	}
	write_file(path, log.data, log.len);
	strbuf_release(&log);
	return lines;
}

/* Both passes over path; taken[i] for every line of the second. */
struct gate_run {
	bool narrowed;
	size_t selected, lines, taken_count;
	bool *taken;
};

static void gate_every_line(const char *path, const struct prefilter_options *options,
                            struct gate_run *out)
{
	const char *paths[] = { path };
	struct input *input = input_open(paths, 1);
	ck_assert(input_keep_for_rereading(input));
	struct lexer *scan_lexer = lexer_new();
	struct prefilter *prefilter = prefilter_new(options);
	out->narrowed = prefilter_scan(prefilter, input, scan_lexer);
	lexer_free(scan_lexer);
	input_reread(input);
	struct lexer *lexer = lexer_new();
	size_t room = 1024;
	out->taken = calloc(room, sizeof *out->taken);
	out->lines = out->taken_count = 0;
	struct prefilter_verdict v;
	while (next_gated_line(prefilter, input, lexer, &v)) {
		if (out->lines == room) {
			room *= 2;
			out->taken = realloc(out->taken, room * sizeof *out->taken);
			ck_assert_ptr_nonnull(out->taken);
		}
		out->taken[out->lines++] = v.take;
		out->taken_count += v.take;
	}
	out->selected = prefilter_selected(prefilter);
	prefilter_free(prefilter);
	lexer_free(lexer);
	input_free(input);
}

static void assert_same_gate(const struct gate_run *a, const struct gate_run *b,
                             const char *what)
{
	ck_assert_msg(a->narrowed == b->narrowed, "%s: narrowed %d, testing each line %d", what,
	              a->narrowed, b->narrowed);
	ck_assert_uint_eq(a->lines, b->lines);
	ck_assert_msg(a->selected == b->selected, "%s: %zu messages selected, testing each "
	              "line %zu", what, a->selected, b->selected);
	for (size_t i = 0; i < a->lines; i++)
		ck_assert_msg(a->taken[i] == b->taken[i], "%s: line %zu taken %d, testing each "
		              "line %d", what, i + 1, a->taken[i], b->taken[i]);
}

START_TEST(test_search_takes_what_testing_each_line_takes)
{
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	const char *text = "NEEDLE-in-the-log";
	size_t lines = write_big_log(path, text);

	struct counted_needle each = { text, 0, false };
	struct prefilter_options options = { .test = { holds_counted_needle, &each, NULL } };
	struct gate_run reference;
	gate_every_line(path, &options, &reference);
	ck_assert(reference.narrowed);
	ck_assert_uint_gt(reference.selected, 100);
	ck_assert_uint_gt(each.tested, lines / 2); /* most lines, once or twice */

	struct counted_needle found = { text, 0, false };
	options.test = (struct line_test){ holds_counted_needle, &found, search_needle };
	struct gate_run searched;
	gate_every_line(path, &options, &searched);
	assert_same_gate(&searched, &reference, "searching ahead");
	ck_assert_msg(found.tested < lines / 20, "searching ahead tested %zu of %zu lines",
	              found.tested, lines);

	struct counted_needle unsure = { text, 0, true };
	options.test = (struct line_test){ holds_counted_needle, &unsure, search_needle };
	struct gate_run unsure_run;
	gate_every_line(path, &options, &unsure_run);
	assert_same_gate(&unsure_run, &reference, "a search that cannot tell");

	/* a window turns the skimming off, not the result */
	struct gate_run windowed;
	options.test = (struct line_test){ holds_counted_needle, &found, search_needle };
	options.since = 1;
	gate_every_line(path, &options, &windowed);
	assert_same_gate(&windowed, &reference, "searching ahead in a window");

	free(reference.taken);
	free(searched.taken);
	free(unsure_run.taken);
	free(windowed.taken);
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

Suite *prefilter_suite(void)
{
	Suite *s = suite_create("prefilter");

	TCase *ids = tcase_create("idset");
	tcase_add_test(ids, test_idset_both_id_formats);
	tcase_add_test(ids, test_idset_prefix_is_another_key);
	tcase_add_test(ids, test_idset_refuses_empty_and_overlong);
	tcase_add_test(ids, test_idset_add_twice);
	tcase_add_test(ids, test_idset_grows);
	tcase_add_test(ids, test_idset_capacity);
	tcase_add_test(ids, test_idset_free_null);
	suite_add_tcase(s, ids);

	TCase *peek = tcase_create("peek");
	/* the corpus is some 4 MB, lexed twice: more than Check's default
	 * 4 s under the sanitizers */
	tcase_set_timeout(peek, 60);
	tcase_add_loop_test(peek, test_peek_agrees_with_parse, 0, (int)COUNT(peek_sources));
	tcase_add_loop_test(peek, test_peek_unsure, 0, (int)COUNT(unsure_lines));
	tcase_add_test(peek, test_peek_millisecond_zone_pid);
	tcase_add_test(peek, test_peek_entry_without_id);
	tcase_add_test(peek, test_continuation_after_peeked_head);
	suite_add_tcase(s, peek);

	TCase *passes = tcase_create("two passes");
	tcase_add_test(passes, test_gate_takes_the_selected_message);
	tcase_add_test(passes, test_gate_follows_the_bounce_of_a_selected_message);
	tcase_add_loop_test(passes, test_gate_finds_the_parent_at_any_offset, 0, 41);
	tcase_add_test(passes, test_scan_keeps_to_the_window);
	tcase_add_test(passes, test_scan_gives_up_past_the_cap);
	tcase_add_test(passes, test_gate_tells_head_and_epoch_of_skipped_lines);
	tcase_add_test(passes, test_search_takes_what_testing_each_line_takes);
	suite_add_tcase(s, passes);

	return s;
}
