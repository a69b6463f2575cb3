/*
 * report tests: records built by hand (as the transaction table would hand
 * them over) go through the report's record sink; the page it writes is
 * captured and checked for grouping by rule, the explanation of a group
 * (the first failure's words, generic once they differ), ordering, the
 * bounded aggregates, escaping of hostile bytes, the 80-column limit,
 * colour only when asked, and the exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "msg.h"
#include "report.h"
#include "strbuf.h"
#include "suites.h"
#include "test_support.h"
#include "txn.h"

#define DAY 1710374400 /* 2024-03-14 00:00:00 UTC */

/* ---- building records ---- */

static const struct smtp_reply no_reply = { 0, "", "", "" };

static void init_recipient(struct recipient *r, const char *address,
                           enum recipient_status status)
{
	memset(r, 0, sizeof *r);
	r->address = address;
	r->original = "";
	r->status = status;
	r->router = r->transport = r->host = r->ip = "";
	r->smtp = no_reply;
	r->defer_smtp = no_reply;
	r->error = r->line = r->defer_error = r->defer_line = "";
	r->attempts = 1;
	r->first_time = r->last_time = DAY + 3600;
}

static void init_message(struct message *m, const char *id, const char *sender,
                         struct recipient *recipients, size_t count)
{
	memset(m, 0, sizeof *m);
	snprintf(m->id, sizeof m->id, "%s", id);
	m->state = TXN_COMPLETED;
	struct arrival *a = &m->arrival;
	a->seen = true;
	a->time = DAY + 3600;
	a->sender = sender;
	a->protocol = a->host = a->ip = a->port = a->helo = a->auth = a->user = a->tls =
		a->subject = a->message_id = "";
	m->recipients = recipients;
	m->recipient_count = count;
	m->first_time = DAY + 3600;
	m->last_time = DAY + 3660;
	m->reject_line = "";
}

static struct smtp_reply reply(int code, const char *status, const char *stage, const char *text)
{
	return (struct smtp_reply){ code, status, stage, text };
}

/* One message with one recipient in the given state. */
static void send_one(struct record_sink *sink, const char *id, const char *sender,
                     struct recipient *r)
{
	struct message m;
	init_message(&m, id, sender, r, 1);
	sink->message(sink->state, &m);
}

static struct event make_event(enum line_kind kind, const char *ip, const char *host,
                               const char *detail, int64_t time)
{
	struct event e;
	memset(&e, 0, sizeof e);
	e.kind = kind;
	e.time = time;
	e.ip = text_make(ip, strlen(ip));
	e.host = text_make(host, strlen(host));
	e.detail = text_make(detail, strlen(detail));
	e.line = e.detail;
	return e;
}

/* ---- running a report into memory ---- */

struct run {
	struct explainer *explainer;
	struct report *report;
	struct record_sink sink;
	FILE *out;
	char *text;
	size_t size;
	int status;
};

static void start(struct run *run, bool color, const char *const *files, size_t file_count)
{
	use_time_zone("UTC");
	memset(run, 0, sizeof *run);
	run->out = open_memstream(&run->text, &run->size);
	ck_assert_ptr_nonnull(run->out);
	/* the report's own tests use rules of their own, so that changing a
	 * shipped rule does not change what they check */
	char *rules = srcdir_path("tests/unit/data/report.rules");
	struct explain_options rule_options = { .shipped_dir = rules,
		                                .system_dir = "/nonexistent" };
	size_t errors;
	run->explainer = explain_new(&rule_options, &errors);
	ck_assert_uint_eq(errors, 0);
	free(rules);
	struct report_options options = { files, file_count, color, run->out, run->explainer,
	                                  false };
	run->report = report_new(&options);
	run->sink = report_sink(run->report);
}

static struct txn_summary day_summary(void)
{
	struct txn_summary s;
	memset(&s, 0, sizeof s);
	s.first_time = DAY + 60;
	s.last_time = DAY + 86000;
	return s;
}

static void finish_with(struct run *run, const struct txn_summary *summary)
{
	run->status = run->sink.finish(run->sink.state, summary);
	fclose(run->out);
	report_free(run->report);
	run->report = NULL;
	explain_free(run->explainer);
	run->explainer = NULL;
}

static void finish(struct run *run)
{
	struct txn_summary s = day_summary();
	finish_with(run, &s);
}

static void stop(struct run *run)
{
	free(run->text);
}

#define assert_has(run, needle) \
	ck_assert_msg(strstr((run)->text, needle) != NULL, "missing \"%s\" in:\n%s", needle, \
	              (run)->text)
#define assert_lacks(run, needle) \
	ck_assert_msg(strstr((run)->text, needle) == NULL, "unexpected \"%s\" in:\n%s", \
	              needle, (run)->text)

/* The line after the one that starts with `prefix` (to read a group's
 * count line under its heading). */
static const char *line_after(const struct run *run, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = run->text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, n) == 0) {
			const char *next = strchr(p, '\n');
			return next ? next + 1 : "";
		}
	ck_abort_msg("no line starting with \"%s\" in:\n%s", prefix, run->text);
	return "";
}

static bool line_starts(const char *line, const char *prefix)
{
	return strncmp(line, prefix, strlen(prefix)) == 0;
}

/* Every line at most REPORT_WIDTH characters (UTF-8) and the whole text
 * valid UTF-8, so no character was cut in half. */
static void assert_fits(const struct run *run)
{
	size_t column = 0, line = 1;
	const unsigned char *p = (const unsigned char *)run->text;
	for (size_t i = 0; i < run->size; i++) {
		unsigned char c = p[i];
		if (c == '\n') {
			column = 0;
			line++;
			continue;
		}
		if ((c & 0xC0) == 0x80)
			continue;
		size_t follow = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : 3;
		for (size_t k = 1; k <= follow; k++)
			ck_assert_msg(i + k < run->size && (p[i + k] & 0xC0) == 0x80,
			              "line %zu: UTF-8 character cut at byte %zu", line, i);
		column++;
		ck_assert_msg(column <= REPORT_WIDTH, "line %zu is wider than %d columns:\n%s", line,
		              REPORT_WIDTH, run->text);
	}
}

static void assert_no_control_bytes(const struct run *run)
{
	for (size_t i = 0; i < run->size; i++) {
		unsigned char c = (unsigned char)run->text[i];
		ck_assert_msg((c >= 0x20 && c != 0x7f) || c == '\n',
		              "raw control byte 0x%02x at offset %zu in:\n%s", c, i, run->text);
	}
}

/* ---- grouping ---- */

START_TEST(test_groups_by_rule)
{
	struct run run;
	start(&run, false, NULL, 0);
	struct recipient r[4];
	init_recipient(&r[0], "bob@example.com", RCPT_FAILED);
	r[0].smtp = reply(550, "5.1.1", "RCPT TO", "550 5.1.1 <bob@example.com>: User unknown");
	init_recipient(&r[1], "carol@example.net", RCPT_FAILED);
	r[1].smtp = reply(550, "5.1.1", "RCPT TO", "550-5.1.1 The email account does not exist");
	init_recipient(&r[2], "dave@example.net", RCPT_FAILED);
	r[2].smtp = reply(550, "5.1.1", "RCPT TO", "550 5.1.1 nope");
	/* same code at another stage is another rule, so another cause */
	init_recipient(&r[3], "erin@example.org", RCPT_FAILED);
	r[3].smtp = reply(550, "5.1.1", "end of data", "550 5.1.1 after data");
	send_one(&run.sink, "1rkaaa-000001-0A", "alice@example.org", &r[0]);
	struct message m;
	init_message(&m, "1rkaab-000002-0B", "alice@example.org", &r[1], 2);
	run.sink.message(run.sink.state, &m);
	send_one(&run.sink, "1rkaac-000003-0C", "zed@example.org", &r[3]);
	finish(&run);
	ck_assert_int_eq(run.status, EXIT_FOUND_FAILURES);
	const char *group = line_after(&run, "FAILED:      test.user_unknown_rcpt");
	ck_assert(line_starts(group, "   reason    userunknown (owner: recipient)"));
	/* three addresses: the rule's generic words, not the first one's */
	assert_has(&run, "   why       The mailbox the recipient does not exist at the receiving server.\n"
	                 "   action    Check the address the recipient.\n"
	                 "   count     3 recipients in 2 messages, 01:00:00");
	assert_has(&run, "   domains   example.net 2, example.com 1\n");
	assert_has(&run, "   senders   alice@example.org 2\n");
	assert_has(&run, "   messages  1rkaaa-000001-0A 1rkaab-000002-0B\n");
	ck_assert(line_starts(line_after(&run, "FAILED:      test.user_unknown_after_data"),
	                      "   reason    filtered (owner: recipient)"));
	assert_has(&run, "PROBLEMS: 3 messages, 2 causes\n");
	assert_fits(&run);
	stop(&run);
}
END_TEST

START_TEST(test_exim_errors_group_by_rule)
{
	struct run run;
	start(&run, false, NULL, 0);
	struct recipient r[3];
	init_recipient(&r[0], "info@bakery.example.org", RCPT_DELIVERED);
	r[0].deferrals = 5;
	r[0].defer_error = "mailbox is full (MTA-imposed quota exceeded while writing to "
	                   "/home/bakery/mail/bakery.example.org/info)";
	r[0].defer_line = "2024-03-14 01:00:00 1rkaaa-000001-0A == info@bakery.example.org "
	                  "R=virtual_user T=virtual_userdelivery defer (-22): mailbox is full";
	init_recipient(&r[1], "sales@acme.example.com", RCPT_DEFERRED);
	r[1].deferrals = 1;
	r[1].defer_error = "mailbox is full (MTA-imposed quota exceeded while writing to "
	                   "/home/acme/mail/acme.example.com/sales)";
	r[1].error = r[1].defer_error;
	init_recipient(&r[2], "x@example.org", RCPT_FAILED);
	r[2].deferrals = 1;
	r[2].defer_error = "retry time not reached for any host for 'example.org'";
	r[2].error = "retry timeout exceeded";
	send_one(&run.sink, "1rkaaa-000001-0A", "a@example.net", &r[0]);
	send_one(&run.sink, "1rkaab-000002-0B", "b@example.net", &r[1]);
	send_one(&run.sink, "1rkaac-000003-0C", "c@example.net", &r[2]);
	finish(&run);
	const char *group = line_after(&run, "DEFERRED:    test.mailbox_full");
	ck_assert_msg(line_starts(group, "   reason    mailboxfull (owner: recipient)"), "%s",
	              run.text);
	assert_has(&run, "   count     2 recipients in 2 messages");
	assert_has(&run, "   then      1 delivered, 1 still queued\n");
	/* the deferral and the final failure of one recipient are two causes */
	assert_has(&run, "DEFERRED:    test.retry_not_reached\n");
	/* one failure: its own words, its message ID in the action */
	assert_has(&run, "FAILED:      test.retry_timeout\n"
	                 "   reason    expired (owner: unknown)\n"
	                 "   why       Gave up retrying.\n");
	assert_has(&run, "   then      1 failed\n");
	/* a delivered recipient is in no failure group */
	assert_lacks(&run, "FAILED:      test.mailbox");
	stop(&run);
}
END_TEST

START_TEST(test_discards_and_frozen)
{
	struct run run;
	start(&run, false, NULL, 0);
	struct recipient r[3];
	init_recipient(&r[0], "/dev/null", RCPT_DISCARDED);
	r[0].original = "mike@smithlaw.example.net";
	r[0].router = "virtual_user_filter";
	r[0].transport = "**bypassed**";
	init_recipient(&r[1], ":blackhole:", RCPT_DISCARDED);
	r[1].original = "jobs@bakery.example.org";
	r[1].router = "virtual_aliases";
	init_recipient(&r[2], "promo@deals.example.org", RCPT_FAILED);
	r[2].smtp = reply(550, "5.1.1", "RCPT TO", "550 5.1.1 unknown");
	send_one(&run.sink, "1rkaaa-000001-0A", "news@shop.example.com", &r[0]);
	send_one(&run.sink, "1rkaab-000002-0B", "seo@rank.example.com", &r[1]);
	struct message m;
	init_message(&m, "1rkaac-000003-0C", "", &r[2], 1);
	m.frozen = true;
	m.state = TXN_OPEN;
	run.sink.message(run.sink.state, &m);
	finish(&run);
	ck_assert_int_eq(run.status, EXIT_FOUND_FAILURES);
	assert_has(&run, "DISCARDED:   test.user_filter\n");
	assert_has(&run, "   domains   smithlaw.example.net 1\n");
	assert_has(&run, "DISCARDED:   test.blackhole\n");
	assert_has(&run, "   domains   bakery.example.org 1\n");
	ck_assert(line_starts(line_after(&run, "FROZEN:      test.frozen_bounce"),
	                      "   reason    frozen (owner: local_config)"));
	assert_has(&run, "   count     1 message,");
	assert_has(&run, "   senders   <> 1\n");
	/* frozen and still open: listed as pending too */
	assert_has(&run, "PENDING AT THE END OF THE INPUT: 1 message\n");
	assert_has(&run, "1rkaac-000003-0C  since 01:00:00  FROZEN\n");
	assert_has(&run, "   failed    promo@deals.example.org (1 attempt)\n");
	stop(&run);
}
END_TEST

START_TEST(test_order_by_count_then_key)
{
	struct run run;
	start(&run, false, NULL, 0);
	struct recipient r[5];
	for (int i = 0; i < 3; i++) {
		init_recipient(&r[i], "a@b.example", RCPT_FAILED);
		r[i].error = "No Such User Here";
	}
	r[2].error = "Unrouteable address"; /* same rule, so same group */
	init_recipient(&r[3], "c@d.example", RCPT_FAILED);
	r[3].error = "mailbox is full";
	init_recipient(&r[4], "c@d.example", RCPT_DEFERRED);
	r[4].deferrals = 1;
	r[4].defer_error = "Connection refused";
	char id[] = "1rkaaa-000000-0A";
	for (int i = 0; i < 5; i++) {
		id[12] = (char)('0' + i);
		send_one(&run.sink, id, "s@example.com", &r[i]);
	}
	finish(&run);
	const char *most = strstr(run.text, "FAILED:      test.other");
	/* a tie is broken by rule id */
	const char *tie1 = strstr(run.text, "FAILED:      test.mailbox_full");
	const char *tie2 = strstr(run.text, "DEFERRED:    test.other");
	ck_assert_msg(most && tie1 && tie2 && most < tie1 && tie1 < tie2, "%s", run.text);
	stop(&run);
}
END_TEST

START_TEST(test_rejected_messages_are_left_to_their_event)
{
	struct run run;
	start(&run, false, NULL, 0);
	struct message m;
	init_message(&m, "1rkjZ9-005uPH-20", "billing@invoices.example.org", NULL, 0);
	m.state = TXN_REJECTED;
	m.arrival.seen = false;
	run.sink.message(run.sink.state, &m);
	finish(&run);
	ck_assert_int_eq(run.status, EXIT_FOUND_NOTHING);
	assert_has(&run, "PROBLEMS: none\n");
	stop(&run);
}
END_TEST

/* ---- bounded aggregates ---- */

START_TEST(test_top_lists_are_bounded)
{
	struct run run;
	start(&run, false, NULL, 0);
	char addresses[40][64], id[MESSAGE_ID_MAX + 1];
	for (int i = 0; i < 40; i++) {
		snprintf(addresses[i], sizeof addresses[i], "u@d%02d.example", i);
		struct recipient r;
		init_recipient(&r, addresses[i], RCPT_FAILED);
		r.error = "Unrouteable address";
		snprintf(id, sizeof id, "1rkaaa-%06d-0A", i);
		send_one(&run.sink, id, i < 10 ? "few@example.com" : addresses[i], &r);
	}
	/* a heavy hitter arriving late still makes the top */
	for (int i = 0; i < 30; i++) {
		struct recipient r;
		init_recipient(&r, "x@heavy.example", RCPT_FAILED);
		r.error = "Unrouteable address";
		snprintf(id, sizeof id, "1rkaab-%06d-0B", i);
		send_one(&run.sink, id, "few@example.com", &r);
	}
	finish(&run);
	/* Space-Saving: the heavy hitter is found; its count may be over, never
	 * under, and says so */
	assert_has(&run, "   domains   heavy.example ~3");
	assert_has(&run, "+at least 11 more");
	assert_has(&run, "   senders   few@example.com 40,");
	assert_has(&run, "   messages  1rkaaa-000000-0A 1rkaaa-000001-0A 1rkaaa-000002-0A ...\n");
	stop(&run);

	/* below the bound the counts are exact */
	start(&run, false, NULL, 0);
	for (int i = 0; i < 8; i++) {
		struct recipient r;
		init_recipient(&r, addresses[i], RCPT_FAILED);
		r.error = "Unrouteable address";
		snprintf(id, sizeof id, "1rkaaa-%06d-0A", i);
		send_one(&run.sink, id, "s@example.com", &r);
	}
	finish(&run);
	assert_has(&run, "d00.example 1, d01.example 1, d02.example 1, d03.example 1,");
	assert_has(&run, "d04.example 1, +3 more\n");
	assert_lacks(&run, "~");
	stop(&run);
}
END_TEST

START_TEST(test_rules_bound_the_groups)
{
	struct run run;
	start(&run, false, NULL, 0);
	char error[32], id[MESSAGE_ID_MAX + 1];
	int total = REPORT_GROUPS_MAX + 5;
	for (int i = 0; i < total; i++) {
		/* letters only: numbers would be normalised into one group */
		snprintf(error, sizeof error, "cause %c%c%c%c", 'a' + i % 26, 'a' + i / 26 % 26,
		         'a' + i / 676 % 26, 'a' + i / 17576 % 26);
		struct recipient r;
		init_recipient(&r, "u@example.com", RCPT_FAILED);
		r.error = error;
		snprintf(id, sizeof id, "1rkaaa-%06d-0A", i);
		send_one(&run.sink, id, "s@example.com", &r);
	}
	finish(&run);
	/* thousands of distinct texts, one rule: one group, in generic words */
	char heading[64];
	snprintf(heading, sizeof heading, "PROBLEMS: %d messages, 1 cause\n", total);
	assert_has(&run, heading);
	assert_has(&run, "FAILED:      test.other\n"
	                 "   reason    undefined (owner: unknown)\n"
	                 "   why       Something else: see the line.\n");
	stop(&run);
}
END_TEST

/* ---- events ---- */

START_TEST(test_events_by_rule_and_ip)
{
	struct run run;
	start(&run, false, NULL, 0);
	struct event e[8];
	e[0] = make_event(LK_AUTH_FAILED, "203.0.113.45", "", "535 Incorrect authentication data",
	                  DAY + 100);
	e[1] = make_event(LK_AUTH_FAILED, "203.0.113.45", "", "535 Incorrect authentication data",
	                  DAY + 200);
	e[2] = make_event(LK_AUTH_FAILED, "203.0.113.45", "", "535 Incorrect authentication data",
	                  DAY + 7200);
	e[3] = make_event(LK_AUTH_FAILED, "192.0.2.77", "", "435 Unable to authenticate", DAY + 50);
	e[4] = make_event(LK_REJECTED_RCPT, "203.0.113.201", "localhost", "relay not permitted",
	                  DAY + 300);
	e[5] = make_event(LK_REJECTED_RCPT, "203.0.113.201", "localhost", "Relay Not Permitted",
	                  DAY + 400);
	e[6] = make_event(LK_REJECTED_RCPT, "203.0.113.201", "localhost", "No Such User Here",
	                  DAY + 500);
	e[7] = make_event(LK_TLS_ERROR, "", "scanner.example", "SSL_accept failed", DAY + 600);
	for (int i = 0; i < 8; i++)
		run.sink.event(run.sink.state, &e[i]);
	struct txn_summary s = day_summary();
	s.rejected = 3;
	finish_with(&run, &s);
	ck_assert_int_eq(run.status, EXIT_FOUND_FAILURES);
	assert_has(&run, "SMTP-TIME SECURITY EVENTS: 8\n");
	assert_has(&run, "test.auth_failed: 4 from 2 addresses\n"
	                 "   reason    securityerror (owner: local_policy)\n"
	                 "   why       Wrong password from a client.\n"
	                 "   action    Block it.\n"
	                 "   203.0.113.45        3  00:01:40 .. 02:00:00\n"
	                 "      535 Incorrect authentication data\n"
	                 "   192.0.2.77          1  00:00:50\n");
	assert_has(&run, "test.relay: 2 from 1 address\n"
	                 "   reason    norelaying (owner: local_policy)\n"
	                 "   why       Relay attempt from a client.\n"
	                 "   action    Nothing.\n"
	                 "   203.0.113.201       2  00:05:00 .. 00:06:40  localhost\n"
	                 "      relay not permitted\n");
	assert_has(&run, "test.rcpt_rejected: 1 from 1 address\n");
	/* no IP: the host stands in */
	assert_has(&run, "   scanner.example     1  00:10:00  scanner.example\n");
	/* rules by count: auth (4) before relay (2) before the ones with 1 */
	ck_assert(strstr(run.text, "test.auth_failed:") < strstr(run.text, "test.relay:"));
	ck_assert(strstr(run.text, "test.relay:") < strstr(run.text, "test.rcpt_rejected:"));
	assert_fits(&run);
	stop(&run);
}
END_TEST

/* Past REPORT_GROUPS_MAX addresses a new one goes to "(other addresses)",
 * while one that has a group still counts there (report.c answers "has
 * it a group?" from a bitmap first, which must never say no wrongly). */
/* The n-th of many distinct client addresses. */
static void address_number(char *ip, size_t size, int n)
{
	snprintf(ip, size, "10.%d.%d.%d", n / 65536, n / 256 % 256, n % 256);
}

START_TEST(test_event_groups_are_bounded)
{
	struct run run;
	start(&run, false, NULL, 0);
	char ip[32];
	for (int i = 0; i < REPORT_GROUPS_MAX + 5; i++) {
		address_number(ip, sizeof ip, i);
		struct event e = make_event(LK_AUTH_FAILED, ip, "", "535 Incorrect authentication data",
		                            DAY + 100);
		run.sink.event(run.sink.state, &e);
		/* every address with a group comes back, after the cap too */
		if (i >= REPORT_GROUPS_MAX && i - REPORT_GROUPS_MAX < 3) {
			for (int back = i - REPORT_GROUPS_MAX; back < REPORT_GROUPS_MAX; back += 997) {
				address_number(ip, sizeof ip, back);
				e = make_event(LK_AUTH_FAILED, ip, "", "535 Incorrect authentication data",
				               DAY + 200);
				run.sink.event(run.sink.state, &e);
			}
		}
	}
	finish(&run);
	/* 10005 addresses once, 3 x 11 of the first 10000 again */
	assert_has(&run, "SMTP-TIME SECURITY EVENTS: 10038\n"
	                 "\n"
	                 "test.auth_failed: 10038 from 10001 addresses\n");
	/* the five new ones only; the 33 returns went to their own groups */
	assert_has(&run, "   (other addresses)     5  00:01:40\n");
	assert_has(&run, "   10.0.0.0            2  00:01:40 .. 00:03:20\n");
	assert_has(&run, "   +9991 more addresses, 10015 events\n");
	stop(&run);
}
END_TEST

/* A group shows its first event's host, or in parentheses the name the
 * client only claimed in HELO; a later event's never replaces it. Only
 * the groups shown are escaped and fitted, and those fit 80 columns. */
START_TEST(test_event_host_or_helo_of_the_first_event)
{
	struct run run;
	start(&run, false, NULL, 0);
	struct event e[3];
	e[0] = make_event(LK_AUTH_FAILED, "203.0.113.45", "", "535 Incorrect authentication data",
	                  DAY + 100);
	e[0].helo = TEXT_LITERAL("laptop.claimed.example");
	e[1] = make_event(LK_AUTH_FAILED, "203.0.113.45", "mail.later.example",
	                  "535 a later detail", DAY + 200);
	e[2] = make_event(LK_AUTH_FAILED, "192.0.2.77", "", "535 Incorrect authentication data",
	                  DAY + 300);
	for (int i = 0; i < 3; i++)
		run.sink.event(run.sink.state, &e[i]);
	finish(&run);
	assert_has(&run, "   203.0.113.45        2  00:01:40 .. 00:03:20  (laptop.claimed.example)\n"
	                 "      535 Incorrect authentication data\n");
	assert_has(&run, "   192.0.2.77          1  00:05:00\n");
	ck_assert_ptr_null(strstr(run.text, "later"));
	assert_fits(&run);
	stop(&run);
}
END_TEST

/* ---- pending ---- */

START_TEST(test_pending_messages_show_last_status)
{
	struct run run;
	start(&run, false, NULL, 0);
	struct recipient r[2];
	init_recipient(&r[0], "linda.m@yahoo.com", RCPT_DEFERRED);
	r[0].attempts = 6;
	r[0].deferrals = 6;
	r[0].error = "SMTP error from remote mail server after initial connection: 421 4.7.0 "
	             "[TS03] All messages from 198.51.100.10 will be permanently deferred";
	r[0].defer_error = r[0].error;
	r[0].smtp = reply(421, "4.7.0", "connect", "421 4.7.0 [TS03] All messages");
	r[0].defer_smtp = r[0].smtp;
	init_recipient(&r[1], "ok@example.com", RCPT_DELIVERED);
	struct message m;
	init_message(&m, "1rkir2-005u2q-2x", "news@bakery.example.org", r, 2);
	m.state = TXN_OPEN;
	m.arrival.subject = "Spring menu";
	run.sink.message(run.sink.state, &m);
	finish(&run);
	assert_has(&run, "DEFERRED:    test.blocked_at_connect\n");
	assert_has(&run, "   then      1 still queued\n");
	assert_has(&run, "PENDING AT THE END OF THE INPUT: 1 message\n\n"
	                 "1rkir2-005u2q-2x  since 01:00:00\n"
	                 "   from      news@bakery.example.org\n"
	                 "   subject   Spring menu\n"
	                 "   deferred  linda.m@yahoo.com (6 attempts)\n"
	                 "             SMTP error from remote mail server after initial connection: 421\n");
	assert_has(&run, "   delivered ok@example.com (1 attempt)\n");
	assert_fits(&run);
	stop(&run);
}
END_TEST

/* ---- hostile bytes, width, colour ---- */

START_TEST(test_escapes_control_bytes)
{
	static const char *const files[] = { "log\033[2Jfile" };
	struct run run;
	start(&run, false, files, 1);
	struct recipient r[2];
	init_recipient(&r[0], "victim\033]0;owned\007@example.com", RCPT_FAILED);
	r[0].smtp = reply(550, "5.7.1", "end of data", "550 5.7.1 \033[1;31mspam\r\nX: y");
	r[0].error = "SMTP error from remote mail server after end of data: 550 5.7.1 "
	             "\033[1;31mspam\r\nX: y";
	r[0].line = "2024-03-14 01:00:00 1rkaaa-000001-0A ** victim\033]0;owned\007@example.com: "
	            "550 5.7.1 \033[1;31mspam\r\nX: y\x7f";
	init_recipient(&r[1], "next@example.com", RCPT_DEFERRED);
	r[1].deferrals = 1;
	r[1].defer_error = "Remote said \033[5m\r\nblink";
	r[1].error = r[1].defer_error;
	struct message m;
	init_message(&m, "1rkaaa-000001-0A", "evil\033[2J\r\n@example.org", r, 2);
	m.state = TXN_OPEN;
	m.arrival.subject = "\033[1;31mURGENT\033[0m\r\nBcc: everyone";
	run.sink.message(run.sink.state, &m);
	struct event e = make_event(LK_REJECTED_HELO, "203.0.113.9", "\033[2Jhelo\r\n",
	                            "HELO \033]2;x\007 rejected\x01", DAY + 5);
	run.sink.event(run.sink.state, &e);
	finish(&run);
	assert_no_control_bytes(&run);
	assert_fits(&run);
	/* shown, visibly escaped */
	assert_has(&run, "log\\033[2Jfile");
	assert_has(&run, "evil\\033[2J\\r\\n@example.org");
	assert_has(&run, "\\033[1;31mURGENT\\033[0m\\r\\nBcc: everyone");
	assert_has(&run, "victim\\033]0;owned\\007@example.com");
	assert_has(&run, "\\033[1;31mspam\\r\\nX: y\\177");
	assert_has(&run, "Remote said \\033[5m\\r\\nblink");
	assert_has(&run, "HELO \\033]2;x\\007 rejected\\001");
	assert_has(&run, "\\033[2Jhelo\\r\\n");
	stop(&run);
}
END_TEST

START_TEST(test_long_values_fit_80_columns)
{
	struct run run;
	char long_word[600], long_domain[400], utf8[600], long_line[2000];
	memset(long_word, 'w', sizeof long_word - 1);
	long_word[sizeof long_word - 1] = '\0';
	memcpy(long_domain, "x@", 2);
	memset(long_domain + 2, 'd', sizeof long_domain - 3);
	long_domain[sizeof long_domain - 1] = '\0';
	size_t n = 0;
	while (n + 2 < sizeof utf8) { /* U+00E9, two bytes each */
		utf8[n++] = (char)0xC3;
		utf8[n++] = (char)0xA9;
	}
	utf8[n] = '\0';
	for (size_t i = 0; i < sizeof long_line - 1; i++)
		long_line[i] = i % 7 == 6 ? ' ' : (i % 13 == 0 ? '\033' : (char)('a' + i % 26));
	long_line[sizeof long_line - 1] = '\0';

	start(&run, false, NULL, 0);
	struct recipient r[3];
	init_recipient(&r[0], long_domain, RCPT_FAILED);
	r[0].error = long_word;
	r[0].line = long_line;
	init_recipient(&r[1], utf8, RCPT_DEFERRED);
	r[1].deferrals = 1;
	r[1].defer_error = utf8;
	r[1].error = utf8;
	r[1].defer_line = utf8;
	init_recipient(&r[2], "a@b.example", RCPT_FAILED);
	r[2].smtp = reply(550, "5.1.1", "RCPT TO", long_line);
	r[2].line = long_line;
	struct message m;
	init_message(&m, "1rkaaa-000001-0A", utf8, r, 3);
	m.state = TXN_OPEN;
	m.arrival.subject = long_line;
	run.sink.message(run.sink.state, &m);
	struct event e = make_event(LK_AUTH_FAILED, long_word, utf8, long_line, DAY + 5);
	run.sink.event(run.sink.state, &e);
	finish(&run);
	assert_fits(&run);
	assert_no_control_bytes(&run);
	assert_has(&run, " [...] ");
	stop(&run);
}
END_TEST

START_TEST(test_colour_only_when_asked)
{
	struct recipient r[2];
	init_recipient(&r[0], "a@example.com", RCPT_FAILED);
	r[0].error = "Unrouteable address";
	init_recipient(&r[1], "b@example.com", RCPT_DEFERRED);
	r[1].deferrals = 1;
	r[1].defer_error = "Connection refused";

	struct run run;
	start(&run, true, NULL, 0);
	send_one(&run.sink, "1rkaaa-000001-0A", "s@example.com", &r[0]);
	send_one(&run.sink, "1rkaab-000002-0B", "s@example.com", &r[1]);
	finish(&run);
	assert_has(&run, "\033[1mEXIM FAILURE REPORT\033[0m\n");
	assert_has(&run, "\033[31mFAILED\033[0m:");
	assert_has(&run, "\033[33mDEFERRED\033[0m:");
	stop(&run);

	start(&run, false, NULL, 0);
	send_one(&run.sink, "1rkaaa-000001-0A", "s@example.com", &r[0]);
	send_one(&run.sink, "1rkaab-000002-0B", "s@example.com", &r[1]);
	finish(&run);
	ck_assert_ptr_null(memchr(run.text, '\033', run.size));
	stop(&run);
}
END_TEST

/* ---- header and exit status ---- */

START_TEST(test_header_and_clean_exit)
{
	static const char *const files[] = { "exim_mainlog", "exim_mainlog.1.gz" };
	struct run run;
	start(&run, false, files, 2);
	struct recipient r;
	init_recipient(&r, "ok@example.com", RCPT_DELIVERED);
	send_one(&run.sink, "1rkaaa-000001-0A", "s@example.com", &r);
	struct txn_summary s = day_summary();
	s.received = 1;
	s.delivered = 1;
	finish_with(&run, &s);
	ck_assert_int_eq(run.status, EXIT_FOUND_NOTHING);
	assert_has(&run, "EXIM FAILURE REPORT\n"
	                 "   files     exim_mainlog exim_mainlog.1.gz\n"
	                 "   period    2024-03-14 00:01:00 +0000 .. 2024-03-14 23:53:20 +0000\n"
	                 "   totals    1 received, 1 delivered, 0 deferred, 0 failed, 0 discarded,"
	                 " 0\n             frozen, 0 rejected at SMTP time\n");
	assert_has(&run, "PROBLEMS: none\n");
	assert_has(&run, "SMTP-TIME SECURITY EVENTS: none\n");
	assert_has(&run, "PENDING AT THE END OF THE INPUT: none\n");
	stop(&run);

	/* nothing at all, from stdin */
	start(&run, false, NULL, 0);
	struct txn_summary empty;
	memset(&empty, 0, sizeof empty);
	finish_with(&run, &empty);
	ck_assert_int_eq(run.status, EXIT_FOUND_NOTHING);
	assert_has(&run, "   files     (standard input)\n   period    (no timestamped lines)\n");
	stop(&run);

	/* an SMTP-time rejection alone is a finding */
	start(&run, false, NULL, 0);
	s = day_summary();
	s.rejected = 1;
	finish_with(&run, &s);
	ck_assert_int_eq(run.status, EXIT_FOUND_FAILURES);
	stop(&run);
}
END_TEST

START_TEST(test_times_carry_dates_across_days)
{
	struct run run;
	start(&run, false, NULL, 0);
	struct recipient r;
	init_recipient(&r, "a@example.com", RCPT_FAILED);
	r.error = "Unrouteable address";
	r.last_time = DAY + 86400 + 3600;
	send_one(&run.sink, "1rkaaa-000001-0A", "s@example.com", &r);
	struct txn_summary s = day_summary();
	s.last_time = DAY + 86400 + 7200;
	finish_with(&run, &s);
	assert_has(&run, "   count     1 recipient in 1 message, 2024-03-15 01:00\n");
	stop(&run);
}
END_TEST

Suite *report_suite(void)
{
	Suite *suite = suite_create("report");
	TCase *tc = tcase_create("report");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_groups_by_rule);
	tcase_add_test(tc, test_exim_errors_group_by_rule);
	tcase_add_test(tc, test_discards_and_frozen);
	tcase_add_test(tc, test_order_by_count_then_key);
	tcase_add_test(tc, test_rejected_messages_are_left_to_their_event);
	tcase_add_test(tc, test_top_lists_are_bounded);
	tcase_add_test(tc, test_rules_bound_the_groups);
	tcase_add_test(tc, test_events_by_rule_and_ip);
	tcase_add_test(tc, test_event_groups_are_bounded);
	tcase_add_test(tc, test_event_host_or_helo_of_the_first_event);
	tcase_add_test(tc, test_pending_messages_show_last_status);
	tcase_add_test(tc, test_escapes_control_bytes);
	tcase_add_test(tc, test_long_values_fit_80_columns);
	tcase_add_test(tc, test_colour_only_when_asked);
	tcase_add_test(tc, test_header_and_clean_exit);
	tcase_add_test(tc, test_times_carry_dates_across_days);
	suite_add_tcase(suite, tc);
	return suite;
}
