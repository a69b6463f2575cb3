/*
 * drilldown tests: which messages and loose lines grep and show select,
 * and what they print. Most tests hand the sink messages built here (plain
 * strings; the arena stays zeroed), as the table would; the -M hold tests
 * feed real lines through the lexer and the table, because the hold asks
 * the table which messages are still open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drilldown.h"
#include "lexer.h"
#include "suites.h"
#include "test_support.h"
#include "txn.h"

/* ---- a sink run with its output captured ---- */

struct run {
	char *output;
	size_t length;
	FILE *out;
	struct drilldown *drilldown;
	struct record_sink sink;
	int status;
};

static void run_start(struct run *r, struct drilldown_options options)
{
	memset(r, 0, sizeof *r);
	r->out = open_memstream(&r->output, &r->length);
	ck_assert_ptr_nonnull(r->out);
	options.out = r->out;
	char error[256] = "";
	r->drilldown = drilldown_new(&options, error, sizeof error);
	ck_assert_msg(r->drilldown != NULL, "drilldown_new: %s", error);
	r->sink = drilldown_sink(r->drilldown);
}

static void run_message(struct run *r, const struct message *m)
{
	r->sink.message(r->sink.state, m);
}

static void run_loose(struct run *r, const char *raw)
{
	struct log_line line;
	memset(&line, 0, sizeof line);
	r->sink.loose_line(r->sink.state, &line, text_make(raw, strlen(raw)));
}

/* finish, close the stream; output and status stay in r */
static void run_end(struct run *r)
{
	struct txn_summary summary;
	memset(&summary, 0, sizeof summary);
	r->status = r->sink.finish(r->sink.state, &summary);
	drilldown_free(r->drilldown);
	fclose(r->out);
}

static void run_free(struct run *r)
{
	free(r->output);
}

static struct drilldown_options grep_options(const char *pattern)
{
	struct drilldown_options o;
	memset(&o, 0, sizeof o);
	o.pattern = pattern;
	o.min_queue_seconds = -1;
	return o;
}

static struct drilldown_options show_options(const char *const *ids, size_t count)
{
	struct drilldown_options o = grep_options(NULL);
	o.ids = ids;
	o.id_count = count;
	return o;
}

#define assert_output(r, expected)                                                    \
	ck_assert_msg(strcmp((r)->output, (expected)) == 0,                           \
	              "output:\n---\n%.1500s---\nexpected:\n---\n%s---", (r)->output, (expected))

#define assert_output_has(r, needle)                                                  \
	ck_assert_msg(strstr((r)->output, (needle)) != NULL,                          \
	              "output lacks \"%s\":\n---\n%.1500s---", (needle), (r)->output)

#define assert_output_lacks(r, needle)                                                \
	ck_assert_msg(strstr((r)->output, (needle)) == NULL,                          \
	              "output has \"%s\":\n---\n%.1500s---", (needle), (r)->output)

/* ---- messages built by hand ---- */

#define MAX_LINES 8
#define MAX_RCPTS 4

struct fake {
	struct message message;
	const char *lines[MAX_LINES];
	struct recipient recipients[MAX_RCPTS];
	char text[MAX_LINES][320]; /* lines made by fake_simple */
};

static void fake_init(struct fake *f, const char *id, enum message_state state)
{
	memset(f, 0, sizeof *f);
	snprintf(f->message.id, sizeof f->message.id, "%s", id);
	f->message.state = state;
	f->message.lines = f->lines;
	f->message.recipients = f->recipients;
	struct arrival *a = &f->message.arrival;
	a->sender = a->protocol = a->host = a->ip = a->port = a->helo = a->auth = a->user =
		a->tls = a->subject = a->message_id = "";
	f->message.reject_line = "";
}

static void fake_line(struct fake *f, const char *line)
{
	ck_assert_uint_lt(f->message.line_count, MAX_LINES);
	f->lines[f->message.line_count++] = line;
}

static struct recipient *fake_recipient(struct fake *f, const char *address,
                                        enum recipient_status status)
{
	ck_assert_uint_lt(f->message.recipient_count, MAX_RCPTS);
	struct recipient *r = &f->recipients[f->message.recipient_count++];
	r->address = address;
	r->original = "";
	r->status = status;
	r->router = r->transport = r->host = r->ip = r->error = r->line = "";
	r->smtp.status = r->smtp.stage = r->smtp.text = "";
	r->defer_smtp.status = r->defer_smtp.stage = r->defer_smtp.text = "";
	r->defer_error = r->defer_line = "";
	return r;
}

/* A completed local delivery: <=, =>, Completed. */
static void fake_simple(struct fake *f, const char *id, const char *sender, const char *to)
{
	fake_init(f, id, TXN_COMPLETED);
	char (*l)[320] = f->text;
	snprintf(l[0], sizeof l[0], "2024-03-14 10:00:00 %s <= %s H=(x) [192.0.2.1] P=esmtp S=100", id, sender);
	snprintf(l[1], sizeof l[1], "2024-03-14 10:00:01 %s => %s R=virtual_user T=virtual_userdelivery", id, to);
	snprintf(l[2], sizeof l[2], "2024-03-14 10:00:01 %s Completed", id);
	for (int i = 0; i < 3; i++)
		fake_line(f, l[i]);
	struct recipient *r = fake_recipient(f, to, RCPT_DELIVERED);
	r->router = "virtual_user";
	r->transport = "virtual_userdelivery";
	f->message.arrival.seen = true;
	f->message.arrival.time = 1710410400;
	f->message.completed = 1710410401;
}

/* ---- grep: selection ---- */

START_TEST(test_match_prints_every_line_and_outcome)
{
	struct run r;
	run_start(&r, grep_options("bob@example"));
	struct fake f;
	fake_init(&f, "1rkYXz-005otn-39", TXN_COMPLETED);
	fake_line(&f, "2024-03-14 00:02:11 1rkYXz-005otn-39 <= alice@example.org H=(a) [192.0.2.7] P=esmtp S=10");
	fake_line(&f, "2024-03-14 00:02:12 1rkYXz-005otn-39 => bob@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.2]");
	fake_line(&f, "2024-03-14 00:02:12 1rkYXz-005otn-39 Completed");
	struct recipient *rc = fake_recipient(&f, "bob@example.net", RCPT_DELIVERED);
	rc->router = "dnslookup";
	rc->transport = "remote_smtp";
	rc->host = "mx.example.net";
	rc->ip = "198.51.100.2";
	run_message(&r, &f.message);
	run_end(&r);
	assert_output(&r,
		"2024-03-14 00:02:11 1rkYXz-005otn-39 <= alice@example.org H=(a) [192.0.2.7] P=esmtp S=10\n"
		"2024-03-14 00:02:12 1rkYXz-005otn-39 => bob@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.2]\n"
		"2024-03-14 00:02:12 1rkYXz-005otn-39 Completed\n"
		"  -> bob@example.net: delivered (R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.2])\n"
		"\n");
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_no_match_prints_nothing_and_exits_1)
{
	struct run r;
	run_start(&r, grep_options("carol"));
	struct fake f;
	fake_simple(&f, "1rkYXz-005otn-39", "alice@example.org", "bob@example.net");
	run_message(&r, &f.message);
	run_loose(&r, "2024-03-14 00:01:00 SMTP connection from [192.0.2.1]:1234 (TCP/IP connection count = 1)");
	run_end(&r);
	assert_output(&r, "");
	ck_assert_int_eq(r.status, 1);
	run_free(&r);
}
END_TEST

START_TEST(test_caseless_by_default_and_sensitive_with_I)
{
	struct fake f;
	fake_simple(&f, "1rkYXz-005otn-39", "Alice@Example.org", "bob@example.net");
	struct run r;
	run_start(&r, grep_options("alice@example"));
	run_message(&r, &f.message);
	run_end(&r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);

	struct drilldown_options o = grep_options("alice@example");
	o.case_sensitive = true;
	run_start(&r, o);
	run_message(&r, &f.message);
	run_end(&r);
	ck_assert_int_eq(r.status, 1);
	run_free(&r);

	o.pattern = "Alice@Example";
	run_start(&r, o);
	run_message(&r, &f.message);
	run_end(&r);
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_literal_pattern)
{
	struct fake f;
	fake_simple(&f, "1rkYXz-005otn-39", "a+b@example.org", "bob@example.net");
	/* as a regex "a+b@" matches "ab@" too; as a literal only "a+b@" */
	struct fake g;
	fake_simple(&g, "1rkYXz-005otn-40", "ab@example.org", "bob@example.net");
	struct run r;
	run_start(&r, grep_options("a+b@"));
	run_message(&r, &f.message);
	run_message(&r, &g.message);
	run_end(&r);
	assert_output_lacks(&r, "a+b@example.org");
	assert_output_has(&r, "ab@example.org");
	run_free(&r);

	struct drilldown_options o = grep_options("a+b@");
	o.literal = true;
	run_start(&r, o);
	run_message(&r, &f.message);
	run_message(&r, &g.message);
	run_end(&r);
	assert_output_has(&r, "a+b@example.org");
	assert_output_lacks(&r, "<= ab@example.org");
	run_free(&r);

	/* a literal full of regex syntax is still fine */
	o.pattern = "(((*[";
	run_start(&r, o);
	run_message(&r, &f.message);
	run_end(&r);
	ck_assert_int_eq(r.status, 1);
	run_free(&r);
}
END_TEST

START_TEST(test_invert)
{
	struct drilldown_options o = grep_options("bob@");
	o.invert = true;
	struct run r;
	run_start(&r, o);
	struct fake to_bob, to_carol;
	fake_simple(&to_bob, "1rkYXz-005otn-39", "alice@example.org", "bob@example.net");
	fake_simple(&to_carol, "1rkYXz-005otn-40", "alice@example.org", "carol@example.net");
	run_message(&r, &to_bob.message);
	run_message(&r, &to_carol.message);
	run_loose(&r, "2024-03-14 10:00:00 H=(x) [203.0.113.5] F=<bob@x> rejected RCPT <z@y>: relay not permitted");
	run_loose(&r, "2024-03-14 10:00:01 H=(x) [203.0.113.5] F=<eve@x> rejected RCPT <z@y>: relay not permitted");
	run_end(&r);
	assert_output_lacks(&r, "1rkYXz-005otn-39");
	assert_output_has(&r, "1rkYXz-005otn-40 <= alice");
	assert_output_lacks(&r, "F=<bob@x>");
	assert_output_has(&r, "F=<eve@x>");
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_loose_lines_print_at_once)
{
	struct run r;
	run_start(&r, grep_options("203\\.0\\.113\\.45"));
	run_loose(&r, "2024-03-14 03:41:07 dovecot_login authenticator failed for (User) [203.0.113.45]:50012: 535 Incorrect authentication data");
	run_loose(&r, "2024-03-14 03:41:08 SMTP connection from [192.0.2.1]:1234 lost");
	run_end(&r);
	assert_output(&r, "2024-03-14 03:41:07 dovecot_login authenticator failed for (User) [203.0.113.45]:50012: 535 Incorrect authentication data\n");
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_queue_time)
{
	struct drilldown_options o = grep_options("example");
	o.min_queue_seconds = 3600;
	struct run r;
	run_start(&r, o);
	struct fake fast, slow, exact, no_arrival, open_long, open_short;
	fake_simple(&fast, "1rkYXz-005otn-01", "a@example.org", "b@example.net");
	fast.message.completed = fast.message.arrival.time + 3599;
	fake_simple(&exact, "1rkYXz-005otn-02", "a@example.org", "b@example.net");
	exact.message.completed = exact.message.arrival.time + 3600; /* >= SECS */
	fake_simple(&slow, "1rkYXz-005otn-03", "a@example.org", "b@example.net");
	slow.message.completed = slow.message.arrival.time + 86400;
	fake_simple(&no_arrival, "1rkYXz-005otn-04", "a@example.org", "b@example.net");
	no_arrival.message.arrival.seen = false;
	fake_simple(&open_long, "1rkYXz-005otn-05", "a@example.org", "b@example.net");
	open_long.message.state = TXN_OPEN;
	open_long.message.completed = 0;
	open_long.message.last_time = open_long.message.arrival.time + 7200;
	fake_simple(&open_short, "1rkYXz-005otn-06", "a@example.org", "b@example.net");
	open_short.message.state = TXN_OPEN;
	open_short.message.completed = 0;
	open_short.message.last_time = open_short.message.arrival.time + 60;
	/* arrived before the input began: the ID's base-62 time, 2024-03-13
	 * 08:55:20, stands in for the missing <= (a day on the queue) */
	struct fake from_id, implausible_id;
	fake_simple(&from_id, "1rkKOO-005fFa-3D", "a@example.org", "b@example.net");
	from_id.message.arrival.seen = false;
	from_id.message.first_time = 1710410000;
	from_id.message.completed = 1710410001;
	/* an ID time after the first line is not believed */
	fake_simple(&implausible_id, "1zzzzz-005fFa-3D", "a@example.org", "b@example.net");
	implausible_id.message.arrival.seen = false;
	implausible_id.message.first_time = 1710410000;
	implausible_id.message.completed = 1710490000;
	const struct fake *all[] = { &fast, &exact, &slow, &no_arrival, &open_long, &open_short,
	                             &from_id, &implausible_id };
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		run_message(&r, &all[i]->message);
	run_end(&r);
	assert_output_lacks(&r, "005otn-01");
	assert_output_has(&r, "005otn-02 Completed");
	assert_output_has(&r, "005otn-03 Completed");
	assert_output_lacks(&r, "005otn-04");
	assert_output_has(&r, "+++ 1rkYXz-005otn-05 has not completed +++\n");
	assert_output_lacks(&r, "005otn-06");
	assert_output_has(&r, "1rkKOO-005fFa-3D Completed");
	assert_output_lacks(&r, "1zzzzz-005fFa-3D");
	run_free(&r);
}
END_TEST

START_TEST(test_bad_pattern)
{
	struct drilldown_options o = grep_options("a(b");
	char error[256] = "";
	ck_assert_ptr_null(drilldown_new(&o, error, sizeof error));
	ck_assert_msg(strstr(error, "offset 3") != NULL, "error: %s", error);
	ck_assert_msg(strstr(error, "missing closing parenthesis") != NULL, "error: %s", error);
}
END_TEST

START_TEST(test_catastrophic_pattern_is_bounded)
{
	/* exponential backtracking: hits the match limit, counts as no match */
	struct run r;
	run_start(&r, grep_options("^(a+)+$"));
	run_loose(&r, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
	run_loose(&r, "aaaa");
	run_end(&r);
	assert_output(&r, "aaaa\n");
	run_free(&r);
}
END_TEST

/* ---- output ---- */

START_TEST(test_open_message_header)
{
	struct run r;
	run_start(&r, grep_options("yahoo"));
	struct fake f;
	fake_init(&f, "1rkir2-005u2q-2x", TXN_OPEN);
	fake_line(&f, "2024-03-14 11:02:37 1rkir2-005u2q-2x <= a@acme.example.com P=esmtpsa S=1 for x@yahoo.com");
	fake_line(&f, "2024-03-14 11:02:39 1rkir2-005u2q-2x == x@yahoo.com R=dkim_lookuphost T=dkim_remote_smtp defer (0): SMTP error from remote mail server after initial connection: 421 4.7.0 [TS03] Messages from 198.51.100.10 temporarily deferred");
	struct recipient *rc = fake_recipient(&f, "x@yahoo.com", RCPT_DEFERRED);
	rc->attempts = 3;
	rc->deferrals = 3;
	rc->host = "mta6.am0.yahoodns.net";
	rc->smtp.code = 421;
	rc->smtp.status = "4.7.0";
	rc->smtp.stage = "connect";
	rc->smtp.text = "421 4.7.0 [TS03] Messages from 198.51.100.10 temporarily deferred";
	run_message(&r, &f.message);
	run_end(&r);
	assert_output(&r,
		"+++ 1rkir2-005u2q-2x has not completed +++\n"
		"2024-03-14 11:02:37 1rkir2-005u2q-2x <= a@acme.example.com P=esmtpsa S=1 for x@yahoo.com\n"
		"2024-03-14 11:02:39 1rkir2-005u2q-2x == x@yahoo.com R=dkim_lookuphost T=dkim_remote_smtp defer (0): SMTP error from remote mail server after initial connection: 421 4.7.0 [TS03] Messages from 198.51.100.10 temporarily deferred\n"
		"  -> x@yahoo.com: deferred (3 attempts): 421 4.7.0 [TS03] Messages from 198.51.100.10 temporarily deferred (connect, H=mta6.am0.yahoodns.net)\n"
		"\n");
	run_free(&r);
}
END_TEST

START_TEST(test_outcomes)
{
	struct run r;
	run_start(&r, grep_options("."));
	struct fake f;
	fake_init(&f, "1rkhoJ-005tXu-2l", TXN_COMPLETED);
	fake_line(&f, "2024-03-14 09:55:39 1rkhoJ-005tXu-2l <= billing@acme.example.com");
	struct recipient *failed = fake_recipient(&f, "bob@example.net", RCPT_FAILED);
	failed->host = "mx.example.net";
	failed->smtp.code = 550;
	failed->smtp.stage = "RCPT TO";
	failed->smtp.text = "550 5.1.1 <bob@example.net>: user unknown";
	failed->error = "SMTP error from remote mail server after RCPT TO:<bob@example.net>: 550 5.1.1 <bob@example.net>: user unknown";
	struct recipient *own = fake_recipient(&f, "intake@smithlaw.example.net", RCPT_FAILED);
	own->router = "virtual_aliases";
	own->error = "No Such User Here";
	struct recipient *once = fake_recipient(&f, "x@example.org", RCPT_DEFERRED);
	once->attempts = 1;
	once->error = "retry time not reached for any host";
	struct recipient *grey = fake_recipient(&f, "billing <billing@acme.example.com>", RCPT_DELIVERED);
	grey->address = "billing";
	grey->original = "billing@acme.example.com";
	grey->deferrals = 1;
	grey->router = "virtual_user";
	run_message(&r, &f.message);

	struct fake g;
	fake_init(&g, "1rkiOj-005tqf-00", TXN_OPEN);
	fake_line(&g, "2024-03-14 10:33:17 1rkiOj-005tqf-00 <= <> R=1rkiOh-005tpt-3A U=mailnull P=local S=19340");
	fake_recipient(&g, "promo@deals-hub.example.org", RCPT_PENDING);
	struct recipient *bh = fake_recipient(&g, ":blackhole:", RCPT_DISCARDED);
	bh->router = "virtual_aliases";
	struct recipient *sup = fake_recipient(&g, "s@example.org", RCPT_SUPPRESSED);
	sup->router = "r";
	g.message.frozen = true;
	snprintf(g.message.bounce_of, sizeof g.message.bounce_of, "1rkiOh-005tpt-3A");
	snprintf(g.message.bounced_by, sizeof g.message.bounced_by, "1rkiOk-005tqg-01");
	run_message(&r, &g.message);

	struct fake v;
	fake_init(&v, "1rkjZ9-005uPH-20", TXN_REJECTED);
	fake_line(&v, "2024-03-14 11:48:15 1rkjZ9-005uPH-20 H=(x) [203.0.113.9] F=<a@b> rejected after DATA: This message contains malware (Eicar-Test-Signature)");
	run_message(&r, &v.message);
	run_end(&r);
	assert_output_has(&r, "  -> bob@example.net: failed: 550 5.1.1 <bob@example.net>: user unknown (RCPT TO, H=mx.example.net)\n");
	assert_output_has(&r, "  -> intake@smithlaw.example.net: failed: No Such User Here (R=virtual_aliases)\n");
	assert_output_has(&r, "  -> x@example.org: deferred (1 attempt): retry time not reached for any host\n");
	assert_output_has(&r, "  -> billing <billing@acme.example.com>: delivered after 1 deferral (R=virtual_user)\n");
	assert_output_has(&r, "  -> promo@deals-hub.example.org: pending\n");
	assert_output_has(&r, "  -> :blackhole:: discarded (R=virtual_aliases)\n");
	assert_output_has(&r, "  -> s@example.org: suppressed (R=r)\n");
	assert_output_has(&r, "  frozen\n  bounce of: 1rkiOh-005tpt-3A\n  bounce: 1rkiOk-005tqg-01\n\n");
	assert_output_has(&r, "malware (Eicar-Test-Signature)\n  rejected: the message was not accepted\n\n");
	run_free(&r);
}
END_TEST

START_TEST(test_long_reply_is_cut_on_a_character)
{
	static char reply[600];
	/* "550 " then 'é' (2 bytes) repeated: the cut must not split one */
	strcpy(reply, "550 ");
	while (strlen(reply) + 2 < sizeof reply)
		strcat(reply, "\xc3\xa9");
	struct run r;
	run_start(&r, grep_options("."));
	struct fake f;
	fake_init(&f, "1rkhoJ-005tXu-2l", TXN_COMPLETED);
	fake_line(&f, "2024-03-14 09:55:39 1rkhoJ-005tXu-2l <= a@b");
	struct recipient *rc = fake_recipient(&f, "x@y", RCPT_FAILED);
	rc->smtp.code = 550;
	rc->smtp.text = reply;
	run_message(&r, &f.message);
	run_end(&r);
	char *start = strstr(r.output, "failed: 550 ");
	ck_assert_ptr_nonnull(start);
	char *cut = strstr(start, "...");
	ck_assert_ptr_nonnull(cut);
	ck_assert_uint_le((size_t)(cut - start), strlen("failed: ") + 200);
	/* the byte before "..." ends a character: the last é is whole */
	ck_assert_int_eq((unsigned char)cut[-1], 0xa9);
	ck_assert_int_eq((unsigned char)cut[-2], 0xc3);
	run_free(&r);
}
END_TEST

static void assert_no_control_bytes(const char *s, bool color_allowed)
{
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\n')
			continue;
		if (c == 0x1b && color_allowed && p[1] == '[') {
			/* ours: ESC [ digits ; m */
			const char *q = p + 2;
			while ((*q >= '0' && *q <= '9') || *q == ';')
				q++;
			ck_assert_msg(*q == 'm', "stray escape at %zu", (size_t)(p - s));
			continue;
		}
		ck_assert_msg(c >= 0x20 && c != 0x7f, "raw control byte 0x%02x at offset %zu", c,
		              (size_t)(p - s));
	}
}

START_TEST(test_log_text_is_escaped)
{
	const char *hostile = "2024-03-14 10:33:15 1rkiOh-005tpt-3A <= promo@x T=\"\033[1;31mURGENT\033]0;pwned\007\r\"";
	for (int color = 0; color <= 1; color++) {
		struct drilldown_options o = grep_options("urgent");
		o.color = color;
		struct run r;
		run_start(&r, o);
		struct fake f;
		fake_init(&f, "1rkiOh-005tpt-3A", TXN_COMPLETED);
		fake_line(&f, hostile);
		struct recipient *rc = fake_recipient(&f, "evil\033[2J@x", RCPT_FAILED);
		rc->error = "bad\rthing\033]";
		rc->router = "r\007";
		run_message(&r, &f.message);
		run_loose(&r, "2024-03-14 10:33:16 urgent \033[31m loose\r");
		run_end(&r);
		assert_no_control_bytes(r.output, color);
		assert_output_has(&r, "\\033[1;31m");
		assert_output_has(&r, "\\033]0;pwned\\007\\r");
		assert_output_has(&r, "evil\\033[2J@x");
		if (color) /* the match is marked, around the escaped text */
			assert_output_has(&r, "\033[1;31mURGENT\033[0m");
		else
			assert_output_lacks(&r, "\033");
		run_free(&r);
	}
}
END_TEST

/* ---- -M ---- */

START_TEST(test_related_forward)
{
	struct drilldown_options o = grep_options("ap@lawfirm");
	o.related = true;
	struct run r;
	run_start(&r, o);
	struct fake parent, bounce, mention, other;
	fake_simple(&parent, "1rkhoJ-005tXu-2l", "billing@acme.example.com", "ap@lawfirm.example.org");
	fake_simple(&bounce, "1rkhoK-005tYT-0j", "<>", "billing@acme.example.com");
	snprintf(bounce.message.bounce_of, sizeof bounce.message.bounce_of, "1rkhoJ-005tXu-2l");
	fake_init(&mention, "1rkhoL-005tYU-11", TXN_COMPLETED);
	fake_line(&mention, "2024-03-14 10:00:00 1rkhoL-005tYU-11 => x@y R=r T=t C=\"250 OK id=1rkhoJ-005tXu-2l\"");
	fake_simple(&other, "1rkhoM-005tYV-22", "a@b", "c@d");
	run_message(&r, &parent.message);
	run_message(&r, &bounce.message);
	run_message(&r, &mention.message);
	run_message(&r, &other.message);
	run_end(&r);
	assert_output_has(&r, "1rkhoJ-005tXu-2l Completed");
	assert_output_has(&r, "1rkhoK-005tYT-0j Completed");
	assert_output_has(&r, "1rkhoL-005tYU-11 =>");
	assert_output_lacks(&r, "1rkhoM-005tYV-22");
	run_free(&r);

	/* without -M only the match */
	run_start(&r, grep_options("ap@lawfirm"));
	run_message(&r, &parent.message);
	run_message(&r, &bounce.message);
	run_end(&r);
	assert_output_lacks(&r, "1rkhoK-005tYT-0j Completed");
	run_free(&r);
}
END_TEST

START_TEST(test_related_parent_of_a_matching_bounce)
{
	/* the bounce matches and names its parent (R=): the parent, which
	 * completes later, is shown too (exigrep cannot: relations only go
	 * forward in its input) */
	struct drilldown_options o = grep_options("Mail delivery failed");
	o.related = true;
	struct run r;
	run_start(&r, o);
	struct fake bounce, parent;
	fake_init(&bounce, "1rkhoK-005tYT-0j", TXN_COMPLETED);
	fake_line(&bounce, "2024-03-14 09:55:40 1rkhoK-005tYT-0j <= <> R=1rkhoJ-005tXu-2l U=mailnull P=local S=27160 T=\"Mail delivery failed: returning message to sender\"");
	snprintf(bounce.message.bounce_of, sizeof bounce.message.bounce_of, "1rkhoJ-005tXu-2l");
	fake_simple(&parent, "1rkhoJ-005tXu-2l", "billing@acme.example.com", "ap@lawfirm.example.org");
	run_message(&r, &bounce.message);
	run_message(&r, &parent.message);
	run_end(&r);
	assert_output_has(&r, "1rkhoJ-005tXu-2l Completed");
	run_free(&r);
}
END_TEST

START_TEST(test_related_forgets_the_oldest)
{
	struct drilldown_options o = grep_options("^MATCH");
	o.related = true;
	o.case_sensitive = true;
	struct run r;
	run_start(&r, o);
	static char ids[DRILLDOWN_RELATED_MAX + 1][MESSAGE_ID_MAX + 1];
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	struct fake f;
	for (size_t i = 0; i <= DRILLDOWN_RELATED_MAX; i++) {
		snprintf(ids[i], sizeof ids[i], "1rkYXz-00%c%c%c%c-00", b62[i / 62 / 62 / 62 % 62],
		         b62[i / 62 / 62 % 62], b62[i / 62 % 62], b62[i % 62]);
		fake_init(&f, ids[i], TXN_COMPLETED);
		fake_line(&f, "MATCH");
		run_message(&r, &f.message);
	}
	/* now two messages that only name an old ID: the first matched ID has
	 * been pushed out of the ring, the second is still remembered */
	struct fake names_first, names_second;
	static char line_first[96], line_second[96];
	snprintf(line_first, sizeof line_first, "x 1rkZZZ-000000-01 R=%s", ids[0]);
	snprintf(line_second, sizeof line_second, "x 1rkZZZ-000000-02 R=%s", ids[1]);
	fake_init(&names_first, "1rkZZZ-000000-01", TXN_COMPLETED);
	fake_line(&names_first, line_first);
	fake_init(&names_second, "1rkZZZ-000000-02", TXN_COMPLETED);
	fake_line(&names_second, line_second);
	run_message(&r, &names_first.message);
	run_message(&r, &names_second.message);
	run_end(&r);
	assert_output_lacks(&r, "x 1rkZZZ-000000-01");
	assert_output_has(&r, "x 1rkZZZ-000000-02");
	run_free(&r);
}
END_TEST

/* Real lines through lexer and table, drilldown watching the table. */
static void run_table(struct run *r, struct drilldown_options options, const char *const *lines)
{
	run_start(r, options);
	struct txn_options table_options = { .keep_lines = true };
	struct txn_table *table = txn_new(&table_options, &r->sink);
	drilldown_watch_table(r->drilldown, table);
	struct lexer *lexer = lexer_new();
	struct log_line line;
	for (size_t i = 0; lines[i]; i++) {
		lexer_parse(lexer, lines[i], strlen(lines[i]), &line);
		txn_feed(table, &line, text_make(lines[i], strlen(lines[i])));
	}
	struct pipeline_summary summary = { .input = NULL };
	r->status = txn_finish(table, &summary);
	txn_free(table);
	lexer_free(lexer);
	drilldown_free(r->drilldown);
	fclose(r->out);
}

/* fixtures/sample: MS1's bounce completes a line before MS1 does */
static const char *const ms1[] = {
	"2024-03-14 09:55:39 1rkhoJ-005tXu-2l <= billing@acme.example.com H=(ACME-ACCOUNTS) [192.0.2.35]:56838 P=esmtpsa S=27660 T=\"Statement of account\" for ap@lawfirm.example.org",
	"2024-03-14 09:55:40 1rkhoJ-005tXu-2l ** ap@lawfirm.example.org R=dkim_lookuphost T=dkim_remote_smtp H=lawfirm-example-org.mail.protection.outlook.com [198.51.100.51]: SMTP error from remote mail server after RCPT TO:<ap@lawfirm.example.org>: 550 5.7.606 Access denied, banned sending IP [198.51.100.10].",
	"2024-03-14 09:55:40 1rkhoK-005tYT-0j <= <> R=1rkhoJ-005tXu-2l U=mailnull P=local S=27160 T=\"Mail delivery failed: returning message to sender\" for billing@acme.example.com",
	"2024-03-14 09:55:40 1rkhoK-005tYT-0j => billing <billing@acme.example.com> R=virtual_user T=virtual_userdelivery",
	"2024-03-14 09:55:40 1rkhoK-005tYT-0j Completed",
	"2024-03-14 09:55:40 1rkhoJ-005tXu-2l Completed",
	"2024-03-14 09:56:00 1rkhoZ-005tZZ-00 <= other@acme.example.com P=local S=1 for x@example.org",
	"2024-03-14 09:56:00 1rkhoZ-005tZZ-00 => x@example.org R=r T=t",
	"2024-03-14 09:56:00 1rkhoZ-005tZZ-00 Completed",
	NULL
};

START_TEST(test_related_bounce_of_an_open_match)
{
	/* the parent matched (its ** line) before its bounce completed: the
	 * bounce is selected at once, and printed first, as exigrep does */
	struct drilldown_options o = grep_options("ap@lawfirm");
	o.related = true;
	struct run r;
	run_table(&r, o, ms1);
	char *parent = strstr(r.output, "1rkhoJ-005tXu-2l Completed");
	char *bounce = strstr(r.output, "1rkhoK-005tYT-0j Completed");
	ck_assert_msg(parent && bounce && bounce < parent, "output:\n%.1500s", r.output);
	assert_output_has(&r, "  bounce: 1rkhoK-005tYT-0j\n\n");
	assert_output_has(&r, "  bounce of: 1rkhoJ-005tXu-2l\n\n");
	assert_output_lacks(&r, "1rkhoZ-005tZZ-00");
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_related_bounce_completing_first_is_held)
{
	/* the parent matches only on its last line, after the bounce has
	 * completed: the bounce waits in the hold, then follows the parent
	 * (exigrep misses it) */
	struct drilldown_options o = grep_options("1rkhoJ-005tXu-2l Completed");
	o.related = true;
	struct run r;
	run_table(&r, o, ms1);
	char *parent = strstr(r.output, "1rkhoJ-005tXu-2l Completed");
	char *bounce = strstr(r.output, "1rkhoK-005tYT-0j Completed");
	ck_assert_msg(parent && bounce && parent < bounce, "output:\n%.1500s", r.output);
	assert_output_lacks(&r, "1rkhoZ-005tZZ-00");
	run_free(&r);

	/* without the table watched there is no hold: only the match */
	o.related = true;
	run_start(&r, o);
	struct txn_options table_options = { .keep_lines = true };
	struct txn_table *table = txn_new(&table_options, &r.sink);
	struct lexer *lexer = lexer_new();
	struct log_line line;
	for (size_t i = 0; ms1[i]; i++) {
		lexer_parse(lexer, ms1[i], strlen(ms1[i]), &line);
		txn_feed(table, &line, text_make(ms1[i], strlen(ms1[i])));
	}
	struct pipeline_summary summary = { .input = NULL };
	r.status = txn_finish(table, &summary);
	txn_free(table);
	lexer_free(lexer);
	drilldown_free(r.drilldown);
	fclose(r.out);
	assert_output_has(&r, "1rkhoJ-005tXu-2l Completed");
	assert_output_lacks(&r, "1rkhoK-005tYT-0j Completed");
	run_free(&r);
}
END_TEST

START_TEST(test_related_held_bounce_dropped_when_parent_does_not_match)
{
	struct drilldown_options o = grep_options("x@example\\.org");
	o.related = true;
	struct run r;
	run_table(&r, o, ms1);
	assert_output_lacks(&r, "1rkhoK-005tYT-0j");
	assert_output_lacks(&r, "1rkhoJ-005tXu-2l");
	assert_output_has(&r, "1rkhoZ-005tZZ-00 Completed");
	run_free(&r);
}
END_TEST

START_TEST(test_related_hold_cap)
{
	/* many bounces whose parent stays open: only DRILLDOWN_HOLD_MAX are
	 * held; the parent then matches and releases those still held */
	enum { BOUNCES = DRILLDOWN_HOLD_MAX + 10 };
	static char text[BOUNCES * 3 + 4][200];
	static const char *lines[BOUNCES * 3 + 5];
	size_t n = 0;
	snprintf(text[n], sizeof text[n], "2024-03-14 09:00:00 1rkhoJ-005tXu-2l <= a@acme.example.com P=local S=1 for b@example.org");
	lines[n] = text[n];
	n++;
	static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	for (int i = 0; i < BOUNCES; i++) {
		char id[MESSAGE_ID_MAX + 1];
		snprintf(id, sizeof id, "1rkhoK-00%c%c00-00", b62[i / 62], b62[i % 62]);
		snprintf(text[n], sizeof text[n], "2024-03-14 09:00:01 %s <= <> R=1rkhoJ-005tXu-2l U=mailnull P=local S=1", id);
		lines[n] = text[n];
		n++;
		snprintf(text[n], sizeof text[n], "2024-03-14 09:00:01 %s => a@acme.example.com R=r T=t", id);
		lines[n] = text[n];
		n++;
		snprintf(text[n], sizeof text[n], "2024-03-14 09:00:01 %s Completed", id);
		lines[n] = text[n];
		n++;
	}
	snprintf(text[n], sizeof text[n], "2024-03-14 09:00:02 1rkhoJ-005tXu-2l Completed THEPARENT");
	lines[n] = text[n];
	n++;
	lines[n] = NULL;
	struct drilldown_options o = grep_options("THEPARENT");
	o.related = true;
	struct run r;
	run_table(&r, o, lines);
	/* the first ten were dropped to make room, the rest printed */
	assert_output_lacks(&r, "1rkhoK-000000-00 Completed");
	assert_output_lacks(&r, "1rkhoK-000900-00 Completed");
	assert_output_has(&r, "1rkhoK-000A00-00 Completed");
	size_t printed = 0;
	for (const char *p = r.output; (p = strstr(p, "Completed\n")) != NULL; p++)
		printed++;
	ck_assert_uint_eq(printed, DRILLDOWN_HOLD_MAX); /* bounces; the parent's says more */
	assert_output_has(&r, "1rkhoJ-005tXu-2l Completed THEPARENT\n");
	run_free(&r);
}
END_TEST

/* ---- show ---- */

START_TEST(test_show_by_id_with_bounce_and_parent)
{
	const char *ids[] = { "1rkhoJ-005tXu-2l" };
	struct run r;
	run_start(&r, show_options(ids, 1));
	struct fake parent, bounce, other, wrong;
	fake_simple(&parent, "1rkhoJ-005tXu-2l", "billing@acme.example.com", "ap@lawfirm.example.org");
	fake_simple(&bounce, "1rkhoK-005tYT-0j", "<>", "billing@acme.example.com");
	snprintf(bounce.message.bounce_of, sizeof bounce.message.bounce_of, "1rkhoJ-005tXu-2l");
	fake_simple(&other, "1rkhoL-005tYU-11", "a@b", "c@d");
	/* a prefix is not the ID */
	fake_simple(&wrong, "1rkhoJ-005tXu-2", "a@b", "c@d");
	run_message(&r, &bounce.message);
	run_message(&r, &parent.message);
	run_message(&r, &other.message);
	run_message(&r, &wrong.message);
	run_loose(&r, "2024-03-14 09:55:39 cwd=/var/spool/exim 3 args: /usr/sbin/exim -Mc 1rkhoJ-005tXu-2l");
	run_loose(&r, "2024-03-14 09:55:39 cwd=/var/spool/exim 3 args: /usr/sbin/exim -Mc 1rkhoL-005tYU-11");
	run_end(&r);
	assert_output_has(&r, "1rkhoK-005tYT-0j Completed");
	assert_output_has(&r, "1rkhoJ-005tXu-2l Completed");
	assert_output_lacks(&r, "1rkhoL-005tYU-11 Completed");
	assert_output_lacks(&r, "1rkhoJ-005tXu-2 ");
	assert_output_has(&r, "-Mc 1rkhoJ-005tXu-2l\n");
	assert_output_lacks(&r, "-Mc 1rkhoL-005tYU-11");
	ck_assert_int_eq(r.status, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_show_new_format_and_bounced_by)
{
	const char *ids[] = { "1rkmtt-00000005w6F-0Ado", "1zzzzz-00000005w6F-0Ado" };
	struct run r;
	run_start(&r, show_options(ids, 2));
	struct fake parent;
	fake_simple(&parent, "1rkmtr-00000005w5N-3VZI", "a@b", "c@d");
	snprintf(parent.message.bounced_by, sizeof parent.message.bounced_by, "1rkmtt-00000005w6F-0Ado");
	run_message(&r, &parent.message);
	run_end(&r);
	assert_output_has(&r, "1rkmtr-00000005w5N-3VZI Completed\n");
	assert_output_has(&r, "  bounce: 1rkmtt-00000005w6F-0Ado\n");
	run_free(&r);

	run_start(&r, show_options(ids + 1, 1));
	run_message(&r, &parent.message);
	run_end(&r);
	ck_assert_int_eq(r.status, 1);
	run_free(&r);
}
END_TEST

START_TEST(test_next_id_boundaries)
{
	/* IDs glued to other word characters are not IDs (exercised through
	 * -M: only a standalone ID relates) */
	struct drilldown_options o = grep_options("^MATCH");
	o.related = true;
	o.case_sensitive = true;
	struct run r;
	run_start(&r, o);
	struct fake m, glued, standalone;
	fake_init(&m, "1rkYXz-005otn-39", TXN_COMPLETED);
	fake_line(&m, "MATCH");
	fake_init(&glued, "1rkYXz-005otn-40", TXN_COMPLETED);
	fake_line(&glued, "glued x1rkYXz-005otn-39 and 1rkYXz-005otn-39x");
	fake_init(&standalone, "1rkYXz-005otn-41", TXN_COMPLETED);
	fake_line(&standalone, "standalone id=1rkYXz-005otn-39\"");
	run_message(&r, &m.message);
	run_message(&r, &glued.message);
	run_message(&r, &standalone.message);
	run_end(&r);
	assert_output_lacks(&r, "glued");
	assert_output_has(&r, "standalone");
	run_free(&r);
}
END_TEST

Suite *drilldown_suite(void)
{
	Suite *suite = suite_create("drilldown");
	TCase *tc = tcase_create("drilldown");
	tcase_add_test(tc, test_match_prints_every_line_and_outcome);
	tcase_add_test(tc, test_no_match_prints_nothing_and_exits_1);
	tcase_add_test(tc, test_caseless_by_default_and_sensitive_with_I);
	tcase_add_test(tc, test_literal_pattern);
	tcase_add_test(tc, test_invert);
	tcase_add_test(tc, test_loose_lines_print_at_once);
	tcase_add_test(tc, test_queue_time);
	tcase_add_test(tc, test_bad_pattern);
	tcase_add_test(tc, test_catastrophic_pattern_is_bounded);
	tcase_add_test(tc, test_open_message_header);
	tcase_add_test(tc, test_outcomes);
	tcase_add_test(tc, test_long_reply_is_cut_on_a_character);
	tcase_add_test(tc, test_log_text_is_escaped);
	tcase_add_test(tc, test_related_forward);
	tcase_add_test(tc, test_related_parent_of_a_matching_bounce);
	tcase_add_test(tc, test_related_forgets_the_oldest);
	tcase_add_test(tc, test_related_bounce_of_an_open_match);
	tcase_add_test(tc, test_related_bounce_completing_first_is_held);
	tcase_add_test(tc, test_related_held_bounce_dropped_when_parent_does_not_match);
	tcase_add_test(tc, test_related_hold_cap);
	tcase_add_test(tc, test_show_by_id_with_bounce_and_parent);
	tcase_add_test(tc, test_show_new_format_and_bounced_by);
	tcase_add_test(tc, test_next_id_boundaries);
	suite_add_tcase(suite, tc);
	return suite;
}
