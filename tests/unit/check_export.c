/*
 * export and summary tests: log lines through the lexer and the
 * transaction table into the NDJSON export or the summary, written to
 * memory and parsed back with jansson (the round trip a dashboard makes).
 * Rules are the report tests' own file (tests/unit/data/report.rules), so
 * editing a shipped rule changes nothing here.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "export.h"
#include "jsonout.h"
#include "lexer.h"
#include "suites.h"
#include "summary.h"
#include "test_support.h"
#include "timestamp.h"
#include "txn.h"
#include "utf8.h"

struct run {
	struct explainer *explainer;
	struct export *export;
	struct summary *summary;
	struct txn_table *table;
	struct lexer *lexer;
	struct record_sink sink;
	FILE *out;
	char *text;
	size_t size;
	int status;
};

static struct explainer *test_rules(void)
{
	char *rules = srcdir_path("tests/unit/data/report.rules");
	struct explain_options options = { .shipped_dir = rules, .system_dir = "/nonexistent" };
	size_t errors;
	struct explainer *explainer = explain_new(&options, &errors);
	ck_assert_uint_eq(errors, 0);
	free(rules);
	return explainer;
}

/* summary false: the per-message export (with lines when lines is true). */
static void start(struct run *run, bool summary, bool lines)
{
	use_time_zone("UTC");
	memset(run, 0, sizeof *run);
	run->out = open_memstream(&run->text, &run->size);
	ck_assert_ptr_nonnull(run->out);
	run->explainer = test_rules();
	if (summary) {
		static const char *const files[] = { "mainlog" };
		struct summary_options options = { files, 1, run->out, run->explainer };
		run->summary = summary_new(&options);
		run->sink = summary_sink(run->summary);
	} else {
		struct export_options options = { run->out, run->explainer, lines };
		run->export = export_new(&options);
		run->sink = export_sink(run->export);
	}
	struct txn_options txn_options = { .keep_lines = lines };
	run->table = txn_new(&txn_options, &run->sink);
	run->lexer = lexer_new();
}

static void feed_bytes(struct run *run, const char *line, size_t length)
{
	struct log_line lexed;
	lexer_parse(run->lexer, line, length, &lexed);
	txn_feed(run->table, &lexed, text_make(line, length));
}

static void feed(struct run *run, const char *const *lines)
{
	for (size_t i = 0; lines[i]; i++)
		feed_bytes(run, lines[i], strlen(lines[i]));
}

/* What has been written so far. */
static const char *written(struct run *run)
{
	fflush(run->out);
	return run->text ? run->text : "";
}

static void finish(struct run *run)
{
	struct input_stats input = { .lines = 10 };
	struct pipeline_summary pipeline = { .input = &input };
	run->status = txn_finish(run->table, &pipeline);
	fclose(run->out);
	txn_free(run->table);
	lexer_free(run->lexer);
	export_free(run->export);
	summary_free(run->summary);
	explain_free(run->explainer);
}

/* Line number `index` of the output, parsed; the caller decrefs. */
static json_t *record(const struct run *run, size_t index)
{
	const char *at = run->text;
	for (size_t i = 0; i < index; i++) {
		at = strchr(at, '\n');
		ck_assert_msg(at != NULL, "fewer than %zu records in:\n%s", index + 1, run->text);
		at++;
	}
	const char *end = strchr(at, '\n');
	ck_assert_msg(end != NULL, "no record %zu in:\n%s", index, run->text);
	json_error_t error;
	json_t *value = json_loadb(at, (size_t)(end - at), JSON_REJECT_DUPLICATES, &error);
	ck_assert_msg(value != NULL, "record %zu is not JSON (%s): %.*s", index, error.text,
	              (int)(end - at), at);
	return value;
}

static size_t record_count(const struct run *run)
{
	size_t n = 0;
	for (const char *p = run->text; p && *p; p++)
		n += *p == '\n';
	return n;
}

/* obj at a path of keys and array indexes: "recipients", "0", "smtp" */
static json_t *at_path(json_t *obj, const char *const *path)
{
	for (size_t i = 0; path[i]; i++) {
		json_t *next = json_is_array(obj) ? json_array_get(obj, strtoul(path[i], NULL, 10))
		                                  : json_object_get(obj, path[i]);
		ck_assert_msg(next != NULL, "no \"%s\" (part %zu of the path)", path[i], i);
		obj = next;
	}
	return obj;
}

#define PATH(...) ((const char *const[]){ __VA_ARGS__, NULL })

#define assert_string_at(obj, path, expected)                                           \
	do {                                                                            \
		json_t *v_ = at_path(obj, path);                                        \
		ck_assert_msg(json_is_string(v_), "not a string");                     \
		ck_assert_msg(json_string_length(v_) == strlen(expected) &&             \
		                      memcmp(json_string_value(v_), expected, strlen(expected)) == 0, \
		              "expected \"%s\", got \"%s\"", expected, json_string_value(v_)); \
	} while (0)

#define assert_integer_at(obj, path, expected)                                    \
	do {                                                                      \
		json_t *v_ = at_path(obj, path);                                  \
		ck_assert_msg(json_is_integer(v_), "not an integer");            \
		ck_assert_int_eq(json_integer_value(v_), expected);               \
	} while (0)

static const char *const failed_message[] = {
	"2024-03-14 10:00:00 1rkYXz-005otn-39 <= alice@example.com H=mx.example.com [192.0.2.1]:4711 "
	"P=esmtps S=1234 id=abc@example.com T=\"Quarterly report\" for bob@example.net",
	"2024-03-14 10:00:01 1rkYXz-005otn-39 ** bob@example.net R=dnslookup T=remote_smtp "
	"H=mx.example.net [198.51.100.7]: SMTP error from remote mail server after "
	"RCPT TO:<bob@example.net>: 550 5.1.1 <bob@example.net>: Recipient address rejected",
	"2024-03-14 10:00:01 1rkYXz-005otn-39 Completed",
	NULL,
};

START_TEST(test_failed_message_round_trip)
{
	struct run run;
	start(&run, false, false);
	feed(&run, failed_message);
	finish(&run);
	ck_assert_int_eq(run.status, 1);
	ck_assert_uint_eq(record_count(&run), 1);
	json_t *m = record(&run, 0);
	assert_string_at(m, PATH("schema"), "eximexplain/1");
	assert_string_at(m, PATH("type"), "message");
	assert_string_at(m, PATH("id"), "1rkYXz-005otn-39");
	assert_string_at(m, PATH("state"), "completed");
	assert_string_at(m, PATH("arrival", "time"), "2024-03-14T10:00:00+00:00");
	assert_string_at(m, PATH("arrival", "subject"), "Quarterly report");
	assert_integer_at(m, PATH("arrival", "size"), 1234);
	assert_integer_at(m, PATH("arrival", "port"), 4711);
	assert_string_at(m, PATH("recipients", "0", "status"), "failed");
	assert_string_at(m, PATH("recipients", "0", "host"), "mx.example.net");
	assert_integer_at(m, PATH("recipients", "0", "smtp", "code"), 550);
	assert_string_at(m, PATH("recipients", "0", "smtp", "status"), "5.1.1");
	assert_string_at(m, PATH("recipients", "0", "smtp", "stage"), "RCPT TO");
	assert_string_at(m, PATH("recipients", "0", "rule"), "test.user_unknown_rcpt");
	assert_string_at(m, PATH("recipients", "0", "reason"), "userunknown");
	assert_string_at(m, PATH("recipients", "0", "owner"), "recipient");
	assert_string_at(m, PATH("recipients", "0", "explanation"),
	                 "The mailbox bob@example.net does not exist at mx.example.net.");
	assert_string_at(m, PATH("completed"), "2024-03-14T10:00:01+00:00");
	assert_integer_at(m, PATH("queue_time"), 1);
	ck_assert(json_is_false(at_path(m, PATH("frozen"))));
	ck_assert_ptr_null(json_object_get(m, "lines")); /* only when asked */
	ck_assert_ptr_null(json_object_get(m, "bounce_of"));
	json_decref(m);
	free(run.text);
}
END_TEST

/* Every byte a stranger can put in a subject comes back as the same
 * characters, or U+FFFD where it was not UTF-8. */
START_TEST(test_hostile_bytes_round_trip)
{
	static const char line[] =
		"2024-03-14 10:00:00 1rkYXz-005otn-39 <= a@example.com H=h [192.0.2.1] P=esmtp "
		"S=1 T=\"x\033[2J\x01\xff\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82 "
		"caf\xc3\xa9 \xf0\x9f\x93\xa7\" for b@example.net";
	struct run run;
	start(&run, false, true);
	feed_bytes(&run, line, sizeof line - 1);
	feed_bytes(&run, "2024-03-14 10:00:00 1rkYXz-005otn-39 NUL\0here", 45);
	finish(&run);
	json_t *m = record(&run, 0);
	/* ff; c0 80 (overlong); ed a0 80 (surrogate); f4 90 80 80 (> U+10FFFF);
	 * e2 82 (cut short): one U+FFFD per byte that starts no valid sequence */
	assert_string_at(m, PATH("arrival", "subject"),
	                 "x\033[2J\x01\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                 "\xef\xbf\xbd\xef\xbf\xbd caf\xc3\xa9 \xf0\x9f\x93\xa7");
	/* the table keeps lines as C strings: a NUL (never written by Exim,
	 * only found in damaged files) ends the kept line */
	assert_string_at(m, PATH("lines", "1"), "2024-03-14 10:00:00 1rkYXz-005otn-39 NUL");
	json_decref(m);
	/* and on the wire: no raw control byte at all */
	for (size_t i = 0; i < run.size; i++)
		ck_assert_msg((unsigned char)run.text[i] >= 0x20 || run.text[i] == '\n',
		              "raw byte 0x%02x at %zu", (unsigned char)run.text[i], i);
	free(run.text);
}
END_TEST

START_TEST(test_streamed_as_messages_complete)
{
	static const char *const first[] = {
		"2024-03-14 10:00:00 1rkYXz-005otn-39 <= a@example.com H=h [192.0.2.1] P=esmtp S=1",
		"2024-03-14 10:00:01 1rkYXz-005otn-39 => b@example.net R=r T=t",
		"2024-03-14 10:00:02 1rkYXz-005otn-40 <= c@example.com H=h [192.0.2.1] P=esmtp S=1",
		"2024-03-14 10:00:03 1rkYXz-005otn-39 Completed",
		NULL,
	};
	struct run run;
	start(&run, false, false);
	feed(&run, first);
	/* written at Completed, before the end of the input */
	ck_assert_ptr_nonnull(strstr(written(&run), "\"id\":\"1rkYXz-005otn-39\""));
	ck_assert_ptr_null(strstr(written(&run), "1rkYXz-005otn-40"));
	finish(&run);
	json_t *pending = record(&run, 1);
	assert_string_at(pending, PATH("id"), "1rkYXz-005otn-40");
	assert_string_at(pending, PATH("state"), "pending");
	json_decref(pending);
	free(run.text);
}
END_TEST

START_TEST(test_bounce_linked_both_ways_and_delay)
{
	static const char *const lines[] = {
		"2024-03-14 10:00:00 1rkYXz-005otn-39 <= a@example.com H=h [192.0.2.1] P=esmtp S=1",
		"2024-03-14 10:00:01 1rkYXz-005otn-39 == b@example.net R=dnslookup T=remote_smtp "
		"defer (-44) H=mx.example.net [198.51.100.7]: SMTP error from remote mail server "
		"after RCPT TO:<b@example.net>: 451 4.7.1 Greylisted",
		"2024-03-14 12:00:01 1rkYXz-005otn-39 ** b@example.net: retry timeout exceeded",
		"2024-03-14 12:00:01 1rkZZZ-005otn-41 <= <> R=1rkYXz-005otn-39 U=mailnull P=local S=2",
		"2024-03-14 12:00:01 1rkYXz-005otn-39 Completed",
		"2024-03-14 12:00:02 1rkZZZ-005otn-41 => a@example.com R=r T=t",
		"2024-03-14 12:00:02 1rkZZZ-005otn-41 Completed",
		NULL,
	};
	struct run run;
	start(&run, false, false);
	feed(&run, lines);
	finish(&run);
	json_t *parent = record(&run, 0), *bounce = record(&run, 1);
	assert_string_at(parent, PATH("bounced_by"), "1rkZZZ-005otn-41");
	assert_string_at(bounce, PATH("bounce_of"), "1rkYXz-005otn-39");
	assert_string_at(bounce, PATH("arrival", "sender"), "<>");
	assert_string_at(parent, PATH("recipients", "0", "status"), "failed");
	assert_integer_at(parent, PATH("recipients", "0", "delay", "deferrals"), 1);
	assert_integer_at(parent, PATH("recipients", "0", "delay", "smtp", "code"), 451);
	assert_string_at(parent, PATH("recipients", "0", "delay", "rule"), "test.greylisted");
	json_decref(parent);
	json_decref(bounce);
	free(run.text);
}
END_TEST

START_TEST(test_event_record)
{
	static const char *const lines[] = {
		"2024-03-14 10:00:00 H=(evil) [203.0.113.9]:5555 F=<x@example.com> rejected RCPT "
		"<y@example.net>: relay not permitted",
		NULL,
	};
	struct run run;
	start(&run, false, true);
	feed(&run, lines);
	finish(&run);
	ck_assert_int_eq(run.status, 1);
	json_t *e = record(&run, 0);
	assert_string_at(e, PATH("type"), "event");
	assert_string_at(e, PATH("kind"), "rejected_rcpt");
	assert_string_at(e, PATH("ip"), "203.0.113.9");
	assert_string_at(e, PATH("sender"), "x@example.com");
	assert_string_at(e, PATH("lines", "0"), lines[0]);
	ck_assert_ptr_nonnull(json_object_get(e, "rule"));
	json_decref(e);
	free(run.text);
}
END_TEST

START_TEST(test_summary_object)
{
	static const char *const lines[] = {
		"2024-03-14 10:00:00 1rkYXz-005otn-40 <= c@example.com H=h [192.0.2.1] P=esmtp S=1",
		"2024-03-14 10:00:01 1rkYXz-005otn-40 => d@example.org R=r T=t",
		"2024-03-14 10:00:02 1rkYXz-005otn-40 Completed",
		"2024-03-14 11:30:00 H=(evil) [203.0.113.9]:5555 F=<x@example.com> rejected RCPT "
		"<y@example.net>: relay not permitted",
		NULL,
	};
	struct run run;
	start(&run, true, false);
	feed(&run, failed_message);
	feed(&run, lines);
	finish(&run);
	ck_assert_int_eq(run.status, 1);
	ck_assert_uint_eq(record_count(&run), 1);
	json_t *s = record(&run, 0);
	assert_string_at(s, PATH("type"), "summary");
	assert_string_at(s, PATH("files", "0"), "mainlog");
	assert_integer_at(s, PATH("totals", "received"), 2);
	assert_integer_at(s, PATH("totals", "delivered"), 1);
	assert_integer_at(s, PATH("totals", "failed"), 1);
	assert_integer_at(s, PATH("totals", "rejected"), 1);
	assert_integer_at(s, PATH("problems"), 2);
	assert_integer_at(s, PATH("by_rule", "test.user_unknown_rcpt"), 1);
	assert_integer_at(s, PATH("by_reason", "userunknown"), 1);
	assert_string_at(s, PATH("top_domains", "0", "name"), "example.net");
	assert_string_at(s, PATH("top_senders", "0", "name"), "alice@example.com");
	/* hosts: the remote server that refused, and the client refused */
	assert_string_at(s, PATH("top_hosts", "0", "name"), "203.0.113.9");
	assert_string_at(s, PATH("top_hosts", "1", "name"), "mx.example.net");
	/* two hours: 10:00 (2 received, 1 delivered, 1 failed), 11:00 (1 rejected) */
	ck_assert_uint_eq(json_array_size(at_path(s, PATH("timeline"))), 2);
	assert_string_at(s, PATH("timeline", "0", "hour"), "2024-03-14T10:00:00+00:00");
	assert_integer_at(s, PATH("timeline", "0", "received"), 2);
	assert_integer_at(s, PATH("timeline", "0", "failed"), 1);
	assert_integer_at(s, PATH("timeline", "1", "rejected"), 1);
	json_decref(s);
	free(run.text);
}
END_TEST

START_TEST(test_iso8601_times)
{
	char out[TIMESTAMP_ISO8601_MAX];
	long long t = utc_epoch(2024, 3, 14, 9, 30, 5);
	timestamp_format_iso8601(t, true, 60, out);
	ck_assert_str_eq(out, "2024-03-14T10:30:05+01:00");
	timestamp_format_iso8601(t, true, -(5 * 60 + 30), out);
	ck_assert_str_eq(out, "2024-03-14T04:00:05-05:30");
	use_time_zone("EST5EDT,M3.2.0,M11.1.0");
	timestamp_format_iso8601(t, false, 0, out); /* after the March change: EDT */
	ck_assert_str_eq(out, "2024-03-14T05:30:05-04:00");
	timestamp_format_iso8601(utc_epoch(2024, 1, 10, 12, 0, 0), false, 0, out);
	ck_assert_str_eq(out, "2024-01-10T07:00:00-05:00");
}
END_TEST

START_TEST(test_utf8_sequences)
{
	static const struct {
		const char *bytes;
		size_t length, expected;
	} cases[] = {
		{ "a", 1, 1 }, { "\xc3\xa9", 2, 2 }, { "\xe2\x82\xac", 3, 3 },
		{ "\xf0\x9f\x93\xa7", 4, 4 }, { "\xc0\x80", 2, 0 }, { "\xc1\xbf", 2, 0 },
		{ "\xe0\x80\x80", 3, 0 }, { "\xed\xa0\x80", 3, 0 }, { "\xf4\x90\x80\x80", 4, 0 },
		{ "\xf5\x80\x80\x80", 4, 0 }, { "\x80", 1, 0 }, { "\xe2\x82", 2, 0 },
		{ "\xe2\x28\xac", 3, 0 }, { "\xf4\x8f\xbf\xbf", 4, 4 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		ck_assert_msg(utf8_decode((const unsigned char *)cases[i].bytes, cases[i].length,
		                          NULL) == cases[i].expected,
		              "case %zu", i);
}
END_TEST

Suite *export_suite(void)
{
	Suite *s = suite_create("export");
	TCase *tc = tcase_create("export");
	tcase_add_test(tc, test_failed_message_round_trip);
	tcase_add_test(tc, test_hostile_bytes_round_trip);
	tcase_add_test(tc, test_streamed_as_messages_complete);
	tcase_add_test(tc, test_bounce_linked_both_ways_and_delay);
	tcase_add_test(tc, test_event_record);
	tcase_add_test(tc, test_summary_object);
	tcase_add_test(tc, test_iso8601_times);
	tcase_add_test(tc, test_utf8_sequences);
	suite_add_tcase(s, tc);
	return s;
}
