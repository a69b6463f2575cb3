/*
 * Transaction table tests: lines in, records out. Each test feeds real
 * line shapes (exim-log-format.md, the Exim test-suite corpus, the
 * fixtures) and asserts what the record sink received. The sink copies
 * what it checks into a compact description per message, because the
 * table frees a record right after handing it over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "pipeline.h"
#include "lexer.h"
#include "strbuf.h"
#include "suites.h"
#include "test_support.h"
#include "txn.h"

#define MAX_SEEN 32

struct seen_message {
	char id[MESSAGE_ID_MAX + 1];
	enum message_state state;
	bool arrival_seen, frozen;
	char bounce_of[MESSAGE_ID_MAX + 1], bounced_by[MESSAGE_ID_MAX + 1];
	int64_t queue_seconds;
	size_t line_count;
	bool evicted;
	size_t recipient_count, arena_bytes;
	uint64_t recipients_left_out, lines_left_out;
	char subject[128];
	/* "address=status[/deferrals][ code status stage][ error]" per recipient */
	char recipients[1024];
	/* "address@host[ip]" per recipient that has a host */
	char hosts[512];
};

struct capture {
	struct seen_message messages[MAX_SEEN];
	size_t message_count;
	enum line_kind events[MAX_SEEN];
	char event_ips[MAX_SEEN][48];
	char event_senders[MAX_SEEN][64];
	size_t event_count;
	size_t loose_count;
	struct txn_summary summary;
};

static void copy_text(char *to, size_t size, const char *from)
{
	snprintf(to, size, "%s", from);
}

static void on_message(void *state, const struct message *m)
{
	struct capture *c = state;
	ck_assert_uint_lt(c->message_count, MAX_SEEN);
	struct seen_message *s = &c->messages[c->message_count++];
	copy_text(s->id, sizeof s->id, m->id);
	s->state = m->state;
	s->arrival_seen = m->arrival.seen;
	s->frozen = m->frozen;
	copy_text(s->bounce_of, sizeof s->bounce_of, m->bounce_of);
	copy_text(s->bounced_by, sizeof s->bounced_by, m->bounced_by);
	s->queue_seconds = message_queue_seconds(m);
	s->line_count = m->line_count;
	s->evicted = m->evicted;
	s->recipient_count = m->recipient_count;
	s->arena_bytes = m->arena.total;
	s->recipients_left_out = m->recipients_left_out;
	s->lines_left_out = m->lines_left_out;
	copy_text(s->subject, sizeof s->subject, m->arrival.subject);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < m->recipient_count; i++) {
		const struct recipient *r = &m->recipients[i];
		if (i)
			strbuf_append_str(&sb, "; ");
		strbuf_printf(&sb, "%s=%s", r->address, recipient_status_name(r->status));
		if (r->deferrals)
			strbuf_printf(&sb, "/%u", r->deferrals);
		if (r->smtp.code)
			strbuf_printf(&sb, " %d %s %s", r->smtp.code, r->smtp.status, r->smtp.stage);
		else if (r->defer_smtp.code)
			strbuf_printf(&sb, " (was %d %s %s)", r->defer_smtp.code,
			              r->defer_smtp.status, r->defer_smtp.stage);
		if (r->error[0])
			strbuf_printf(&sb, " [%s]", r->error);
	}
	copy_text(s->recipients, sizeof s->recipients, sb.data ? sb.data : "");
	strbuf_release(&sb);
	struct strbuf hosts = STRBUF_INIT;
	for (size_t i = 0; i < m->recipient_count; i++) {
		const struct recipient *r = &m->recipients[i];
		if (r->host && r->host[0])
			strbuf_printf(&hosts, "%s%s@%s[%s]", hosts.data ? "; " : "",
			              r->address, r->host, r->ip ? r->ip : "");
	}
	copy_text(s->hosts, sizeof s->hosts, hosts.data ? hosts.data : "");
	strbuf_release(&hosts);
}

static void on_event(void *state, const struct event *e)
{
	struct capture *c = state;
	ck_assert_uint_lt(c->event_count, MAX_SEEN);
	snprintf(c->event_ips[c->event_count], sizeof c->event_ips[0], "%.*s",
	         (int)e->ip.len, e->ip.ptr ? e->ip.ptr : "");
	snprintf(c->event_senders[c->event_count], sizeof c->event_senders[0], "%.*s",
	         (int)e->sender.len, e->sender.ptr ? e->sender.ptr : "");
	c->events[c->event_count++] = e->kind;
}

static void on_loose(void *state, const struct log_line *line, struct text raw)
{
	(void)line;
	(void)raw;
	((struct capture *)state)->loose_count++;
}

static int on_finish(void *state, const struct txn_summary *summary)
{
	((struct capture *)state)->summary = *summary;
	return 0;
}

/* Feed lines (NULL-terminated) through lexer and table; capture records. */
static void run_lines(struct capture *c, const struct txn_options *options,
                      const char *const *lines)
{
	memset(c, 0, sizeof *c);
	struct record_sink sink = { .state = c, .message = on_message, .event = on_event,
	                            .loose_line = on_loose, .finish = on_finish };
	struct txn_table *table = txn_new(options, &sink);
	struct lexer *lexer = lexer_new();
	struct log_line line;
	for (size_t i = 0; lines[i]; i++) {
		lexer_parse(lexer, lines[i], strlen(lines[i]), &line);
		txn_feed(table, &line, text_make(lines[i], strlen(lines[i])));
	}
	struct pipeline_summary ps = { .input = NULL };
	txn_finish(table, &ps);
	ck_assert_uint_eq(txn_open_count(table), 0);
	txn_free(table);
	lexer_free(lexer);
}

static void run(struct capture *c, const char *const *lines)
{
	struct txn_options options = { .keep_lines = true };
	run_lines(c, &options, lines);
}

static const struct seen_message *find(const struct capture *c, const char *id)
{
	for (size_t i = 0; i < c->message_count; i++)
		if (strcmp(c->messages[i].id, id) == 0)
			return &c->messages[i];
	ck_abort_msg("message %s was never handed over", id);
	return NULL;
}

START_TEST(test_delivered_then_completed)
{
	static const char *const lines[] = {
		"2024-03-14 10:00:00 1rkhsX-0007nt-0b <= anna@partner.example.net H=mail.partner.example.net [192.0.2.45] P=esmtps S=2048 id=x@y T=\"Invoice \\\"March\\\"\" for office@acme.example.com",
		"2024-03-14 10:00:01 1rkhsX-0007nt-0b => office <office@acme.example.com> R=virtual_user T=virtual_userdelivery",
		"2024-03-14 10:00:05 1rkhsX-0007nt-0b Completed",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_uint_eq(c.message_count, 1);
	const struct seen_message *m = find(&c, "1rkhsX-0007nt-0b");
	ck_assert_int_eq(m->state, TXN_COMPLETED);
	ck_assert(m->arrival_seen);
	ck_assert_str_eq(m->subject, "Invoice \"March\"");
	ck_assert_str_eq(m->recipients, "office=delivered");
	ck_assert_int_eq(m->queue_seconds, 5);
	ck_assert_uint_eq(m->line_count, 3);
	ck_assert_uint_eq(c.summary.received, 1);
	ck_assert_uint_eq(c.summary.delivered, 1);
}
END_TEST

START_TEST(test_completed_in_subject_does_not_end_message)
{
	static const char *const lines[] = {
		"2024-03-14 10:00:00 1rkhsX-0007nt-0b <= a@example.net U=a P=local S=10 T=\"Order Completed\"",
		"2024-03-14 10:00:01 1rkhsX-0007nt-0b => b@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.7] C=\"250 2.0.0 Ok: Completed\"",
		"2024-03-14 10:00:02 1rkhsX-0007nt-0b Completed",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_uint_eq(c.message_count, 1);
	ck_assert_uint_eq(c.messages[0].line_count, 3);
	ck_assert_int_eq(c.messages[0].state, TXN_COMPLETED);
}
END_TEST

START_TEST(test_deferred_then_delivered_keeps_the_deferral)
{
	static const char *const lines[] = {
		"2024-03-14 10:00:00 1rkhsX-0007nt-0b <= a@example.net U=a P=local S=10",
		"2024-03-14 10:00:01 1rkhsX-0007nt-0b H=mx.example.org [198.51.100.7]: SMTP error from remote mail server after RCPT TO:<b@example.org>: 451 4.7.1 Greylisted, try again later",
		"2024-03-14 10:00:01 1rkhsX-0007nt-0b == b@example.org R=dnslookup T=remote_smtp defer (-44) H=mx.example.org [198.51.100.7]: SMTP error from remote mail server after RCPT TO:<b@example.org>: 451 4.7.1 Greylisted, try again later",
		"2024-03-14 10:10:00 1rkhsX-0007nt-0b == b@example.org R=dnslookup T=remote_smtp defer (-54): retry time not reached for any host for 'example.org'",
		"2024-03-14 10:30:00 1rkhsX-0007nt-0b => b@example.org R=dnslookup T=remote_smtp H=mx.example.org [198.51.100.7] C=\"250 OK\"",
		"2024-03-14 10:30:00 1rkhsX-0007nt-0b Completed",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_str_eq(c.messages[0].recipients,
	                 "b@example.org=delivered/1 (was 451 4.7.1 RCPT TO)");
	ck_assert_uint_eq(c.summary.deferred, 1);
	ck_assert_uint_eq(c.summary.delivered, 1);
}
END_TEST

START_TEST(test_local_delivery_after_deferral_is_one_recipient)
{
	/* appendfile deferral names the full address; the later delivery is
	 * logged local style, "=> info <info@bakery.example.org>" */
	static const char *const lines[] = {
		"2024-03-14 00:17:42 1rkKOO-005fFa-3D == info@bakery.example.org R=virtual_user T=virtual_userdelivery defer (-22): mailbox is full (MTA-imposed quota exceeded while writing to /home/bakery/mail/bakery.example.org/info)",
		"2024-03-14 10:09:15 1rkKOO-005fFa-3D => info <info@bakery.example.org> R=virtual_user T=virtual_userdelivery",
		"2024-03-14 10:09:15 1rkKOO-005fFa-3D Completed",
		NULL,
	};
	struct capture c;
	use_time_zone("UTC");
	run(&c, lines);
	ck_assert_str_eq(c.messages[0].recipients, "info=delivered/1");
	ck_assert(!c.messages[0].arrival_seen);
	/* no <= line: the arrival comes from the ID, base-62 "1rkKOO" =
	 * 1710320120 = 2024-03-13 09:55:20 UTC; Completed at 1710410955 */
	ck_assert_int_eq(c.messages[0].queue_seconds, 1710410955 - 1710320120);
}
END_TEST

START_TEST(test_deferred_until_retry_timeout)
{
	static const char *const lines[] = {
		"2024-03-10 10:00:00 1rkhsX-0007nt-0b <= a@example.net U=a P=local S=10",
		"2024-03-10 10:00:01 1rkhsX-0007nt-0b == b@down.example R=dnslookup T=remote_smtp defer (110): Connection timed out H=mx.down.example [203.0.113.9]: SMTP timeout after initial connection",
		"2024-03-11 10:00:01 1rkhsX-0007nt-0b == b@down.example R=dnslookup T=remote_smtp defer (111): Connection refused",
		"2024-03-14 10:00:01 1rkhsX-0007nt-0b ** b@down.example: retry timeout exceeded",
		"2024-03-14 10:00:01 1rkhsY-0007nu-0b <= <> R=1rkhsX-0007nt-0b U=mailnull P=local S=1200",
		"2024-03-14 10:00:02 1rkhsX-0007nt-0b Completed",
		"2024-03-14 10:00:03 1rkhsY-0007nu-0b => a@example.net R=dnslookup T=remote_smtp H=mx.example.net [192.0.2.1] C=\"250 OK\"",
		"2024-03-14 10:00:03 1rkhsY-0007nu-0b Completed",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_uint_eq(c.message_count, 2);
	const struct seen_message *parent = find(&c, "1rkhsX-0007nt-0b");
	const struct seen_message *bounce = find(&c, "1rkhsY-0007nu-0b");
	ck_assert_str_eq(parent->recipients, "b@down.example=failed/2 [retry timeout exceeded]");
	/* bounce links, both ways */
	ck_assert_str_eq(parent->bounced_by, "1rkhsY-0007nu-0b");
	ck_assert_str_eq(bounce->bounce_of, "1rkhsX-0007nt-0b");
	ck_assert_uint_eq(c.summary.failed, 1);
}
END_TEST

/* Exim 4.96 names the host of a refused connection only on the per-host
 * line before the deferral ("H=mx [ip] Connection refused", then "== addr
 * R=.. T=.. defer (111): Connection refused" without H=); the recipient
 * takes that host. A local delivery after it does not (found by the
 * integration test). */
START_TEST(test_refused_host_comes_from_the_host_error_line)
{
	static const char *const lines[] = {
		"2024-03-10 10:00:00 1rkhsX-0007nt-0b <= a@local.test H=(vm) [127.0.0.1] P=esmtp S=10",
		"2024-03-10 10:00:01 1rkhsX-0007nt-0b H=mx.refused.test [127.0.2.11] Connection refused",
		"2024-03-10 10:00:01 1rkhsX-0007nt-0b == joe@refused.test R=fakemx T=remote_smtp defer (111): Connection refused",
		"2024-03-10 10:00:01 1rkhsX-0007nt-0b => alice@local.test R=localuser T=local_delivery",
		"2024-03-10 10:00:02 1rkhsY-0007nu-0b <= a@local.test H=(vm) [127.0.0.1] P=esmtp S=10",
		"2024-03-10 10:00:03 1rkhsY-0007nu-0b H=mx.expire.test [127.0.2.12]:25 Connection refused",
		"2024-03-10 10:00:03 1rkhsY-0007nu-0b == joe@expire.test R=fakemx T=remote_smtp defer (111): Connection refused",
		"2024-03-10 10:00:03 1rkhsY-0007nu-0b ** joe@expire.test: retry timeout exceeded",
		"2024-03-10 10:00:03 1rkhsY-0007nu-0b Completed",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	const struct seen_message *refused = find(&c, "1rkhsX-0007nt-0b");
	ck_assert_str_eq(refused->hosts, "joe@refused.test@mx.refused.test[127.0.2.11]");
	const struct seen_message *expired = find(&c, "1rkhsY-0007nu-0b");
	ck_assert_str_eq(expired->hosts, "joe@expire.test@mx.expire.test[127.0.2.12]");
	ck_assert_str_eq(expired->recipients, "joe@expire.test=failed/1 [retry timeout exceeded]");
}
END_TEST

/* Exim 4.96's "sender verify fail for <ADDR>" line has no F=; the event's
 * sender is the address in the brackets (found by the integration test). */
START_TEST(test_sender_verify_event_names_the_sender)
{
	static const char *const lines[] = {
		"2024-03-10 10:00:00 H=(vm) [127.0.1.2] sender verify fail for <ghost@local.test>: Unrouteable address",
		"2024-03-10 10:00:00 H=(vm) [127.0.1.2] F=<ghost@local.test> rejected RCPT <alice@local.test>: Sender verify failed",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_uint_eq(c.event_count, 2);
	ck_assert_int_eq(c.events[0], LK_SENDER_VERIFY);
	ck_assert_str_eq(c.event_senders[0], "<ghost@local.test>");
	ck_assert_str_eq(c.event_senders[1], "<ghost@local.test>");
}
END_TEST

START_TEST(test_failed_with_smtp_reply)
{
	static const char *const lines[] = {
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= CALLER@myhost.test.ex U=CALLER P=local S=sss",
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** userx@myhost.test.ex R=r1 T=t1 H=127.0.0.1 [127.0.0.1] : SMTP error from remote mail server after RCPT TO:<userx@myhost.test.ex>: 550 5.1.1 <userx@myhost.test.ex>: Recipient address rejected: User unknown",
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 Completed",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_str_eq(c.messages[0].recipients,
	                 "userx@myhost.test.ex=failed 550 5.1.1 RCPT TO [SMTP error from remote mail server after RCPT TO:<userx@myhost.test.ex>: 550 5.1.1 <userx@myhost.test.ex>: Recipient address rejected: User unknown]");
}
END_TEST

START_TEST(test_additional_address_and_discards)
{
	static const char *const lines[] = {
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= CALLER@myhost.test.ex U=CALLER P=local S=sss for a@test.ex b@test.ex hole@test.ex devnull@test.ex",
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 => a@test.ex R=lookuphost T=smtp H=h.test.ex [10.0.0.1] C=\"250 OK\"",
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 -> b@test.ex R=lookuphost T=smtp H=h.test.ex [10.0.0.1] C=\"250 OK\"",
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 => :blackhole: <hole@test.ex> R=blackhole_router",
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 => /dev/null <devnull@test.ex> R=virtual_user_filter T=**bypassed**",
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 Completed",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_str_eq(c.messages[0].recipients,
	                 "a@test.ex=delivered; b@test.ex=delivered; :blackhole:=discarded; /dev/null=discarded");
	ck_assert_uint_eq(c.summary.discarded, 2);
}
END_TEST

START_TEST(test_cutthrough_before_arrival)
{
	static const char *const lines[] = {
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 >> userx@domain.com P=<CALLER@myhost.test.ex> R=all T=smtp H=127.0.0.1 [127.0.0.1] C=\"250 OK\"",
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= CALLER@myhost.test.ex H=(helo) [127.0.0.1] P=esmtp S=sss for userx@domain.com",
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 Completed",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_uint_eq(c.message_count, 1);
	ck_assert(c.messages[0].arrival_seen);
	ck_assert_str_eq(c.messages[0].recipients, "userx@domain.com=delivered");
}
END_TEST

START_TEST(test_frozen_bounce_stays_open)
{
	static const char *const lines[] = {
		"1999-03-02 09:44:33 10HmaY-000000005vi-0000 <= <> R=10HmaX-000000005vi-0000 U=EXIMUSER P=local S=sss",
		"1999-03-02 09:44:33 10HmaY-000000005vi-0000 ** CALLER@test.ex: Unrouteable address",
		"1999-03-02 09:44:33 10HmaY-000000005vi-0000 Frozen (delivery error message)",
		"1999-03-02 09:44:34 10HmaZ-000000005vi-0000 <= x@test.ex U=x P=local S=sss",
		"1999-03-02 09:44:34 10HmaZ-000000005vi-0000 frozen by ACL",
		"1999-03-02 09:44:35 10HmaZ-000000005vi-0000 unfrozen by root",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_uint_eq(c.message_count, 2);
	const struct seen_message *bounce = find(&c, "10HmaY-000000005vi-0000");
	ck_assert_int_eq(bounce->state, TXN_OPEN);
	ck_assert(bounce->frozen);
	ck_assert_str_eq(bounce->bounce_of, "10HmaX-000000005vi-0000");
	ck_assert(!find(&c, "10HmaZ-000000005vi-0000")->frozen);
	ck_assert_uint_eq(c.summary.open_at_end, 2);
	ck_assert_uint_eq(c.summary.frozen, 1);
	/* handed over oldest first */
	ck_assert_str_eq(c.messages[0].id, "10HmaY-000000005vi-0000");
}
END_TEST

START_TEST(test_rejected_after_data_is_an_event_and_ends_the_id)
{
	static const char *const lines[] = {
		"1999-03-02 09:44:33 H=(test) [10.0.0.2] U=CALLER F=<jules@box3.plc.example> rejected RCPT <userx@test.ex>: Sender verify failed",
		"1999-03-02 09:44:33 10HmaX-000000005vi-0000 H=(x) [192.0.2.9] F=<x@y> rejected after DATA: spam score too high",
		"1999-03-02 09:44:33 dovecot_login authenticator failed for (User) [203.0.113.45]:61024: 535 Incorrect authentication data (set_id=admin)",
		"1999-03-02 09:44:33 Start queue run: pid=1",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_uint_eq(c.event_count, 3);
	ck_assert_int_eq(c.events[0], LK_REJECTED_RCPT);
	ck_assert_str_eq(c.event_ips[0], "10.0.0.2");
	ck_assert_int_eq(c.events[1], LK_REJECTED_DATA);
	ck_assert_int_eq(c.events[2], LK_AUTH_FAILED);
	ck_assert_str_eq(c.event_ips[2], "203.0.113.45");
	ck_assert_uint_eq(c.message_count, 1);
	ck_assert_int_eq(c.messages[0].state, TXN_REJECTED);
	ck_assert_uint_eq(c.summary.rejected, 2);
	ck_assert_uint_eq(c.summary.received, 0);
	/* lines without an ID go to loose_line: 3 (the rejection with an ID
	 * belongs to its message) */
	ck_assert_uint_eq(c.loose_count, 3);
}
END_TEST

START_TEST(test_event_addresses_come_from_exim_not_the_client)
{
	static const char *const lines[] = {
		/* +incoming_interface: the server's own I=[ip] is not the client */
		"2024-03-14 10:00:00 dovecot_login authenticator failed for (User) [203.0.113.45]:61024 I=[192.0.2.10]:465: 535 Incorrect authentication data (set_id=[6.6.6.6])",
		/* the host tag in the middle of the line; the client's input after it */
		"2024-03-14 10:00:01 SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H=[203.0.113.222]:41100 input=\"H=[6.6.6.6]\"",
		/* a quoted command the client wrote comes before Exim's own H= */
		"2024-03-14 10:00:02 SMTP syntax error in \"EHLO H=[6.6.6.6]\" H=(x) [198.51.100.9] unrecognized command",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_uint_eq(c.event_count, 3);
	ck_assert_str_eq(c.event_ips[0], "203.0.113.45");
	ck_assert_str_eq(c.event_ips[1], "203.0.113.222");
	ck_assert_str_eq(c.event_ips[2], "198.51.100.9");
}
END_TEST

START_TEST(test_acl_blackhole_discards_the_pending_recipients)
{
	static const char *const lines[] = {
		"2024-03-14 10:00:00 1rkhsX-0007nt-0b <= spam@example.org H=(x) [203.0.113.5] P=esmtp S=10 for office@acme.example.com sales@acme.example.com",
		"2024-03-14 10:00:00 1rkhsX-0007nt-0b => blackhole (DATA ACL discarded recipients): spam score 12.3",
		"2024-03-14 10:00:00 1rkhsX-0007nt-0b Completed",
		NULL,
	};
	struct capture c;
	run(&c, lines);
	ck_assert_str_eq(c.messages[0].recipients,
	                 "office@acme.example.com=discarded; sales@acme.example.com=discarded");
}
END_TEST

START_TEST(test_time_window)
{
	/* the window is the pipeline's: entries outside it never reach the
	 * table, and a continuation line goes with its entry */
	static const char text[] =
		"2024-03-13 23:59:59 1rkhsW-0007ns-0b <= early@example.net U=a P=local S=10\n"
		"2024-03-13 23:59:59 1rkhsW-0007ns-0b Completed\n"
		"2024-03-14 10:00:00 1rkhsX-0007nt-0b <= a@example.net U=a P=local S=10\n"
		"2024-03-14 10:00:01 1rkhsX-0007nt-0b Completed\n"
		"2024-03-15 00:00:00 1rkhsY-0007nu-0b <= late@example.net U=a P=local S=10\n"
		"2024-03-15 00:00:00 Exim configuration error in line 1 of /etc/exim.conf:\n"
		"  late continuation\n";
	use_time_zone("UTC");
	char *dir = make_temp_dir();
	char *path = path_in(dir, "mainlog");
	write_file(path, text, sizeof text - 1);
	struct capture c;
	memset(&c, 0, sizeof c);
	struct record_sink sink = { .state = &c, .message = on_message, .event = on_event,
	                            .loose_line = on_loose, .finish = on_finish };
	struct txn_options options = { .keep_lines = true };
	struct txn_table *table = txn_new(&options, &sink);
	struct sink line_sink = txn_sink(table);
	struct pipeline_options pipeline = { .since = utc_epoch(2024, 3, 14, 0, 0, 0),
	                                     .until = utc_epoch(2024, 3, 15, 0, 0, 0) };
	const char *paths[] = { path };
	pipeline_run(paths, 1, &pipeline, &line_sink);
	ck_assert_uint_eq(c.message_count, 1);
	ck_assert_str_eq(c.messages[0].id, "1rkhsX-0007nt-0b");
	ck_assert_uint_eq(c.summary.received, 1);
	ck_assert_uint_eq(c.loose_count, 0);
	txn_free(table);
	remove_tree(dir);
	free(path);
	free(dir);
}
END_TEST

START_TEST(test_message_across_rotated_files)
{
	/* 1rXV3v-003dI5-2n arrives in .2.gz and completes in .1; 1rWvnt-003NYp-2U
	 * has lines in all four files (fixtures/rotated/README) */
	static const char *const names[] = { "exim_mainlog", "exim_mainlog.1",
	                                     "exim_mainlog.2.gz", "exim_mainlog.3.gz" };
	char *paths[4];
	for (int i = 0; i < 4; i++) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_printf(&sb, "fixtures/rotated/%s", names[i]);
		paths[i] = srcdir_path(sb.data);
		strbuf_release(&sb);
	}
	struct capture c;
	memset(&c, 0, sizeof c);
	struct record_sink sink = { .state = &c, .message = on_message, .event = on_event,
	                            .loose_line = on_loose, .finish = on_finish };
	struct txn_options options = { .keep_lines = true };
	struct txn_table *table = txn_new(&options, &sink);
	struct sink line_sink = txn_sink(table);
	struct pipeline_options pipeline = { .unparsed_path = NULL };
	pipeline_run((const char *const *)paths, 4, &pipeline, &line_sink);
	const struct seen_message *crossing = find(&c, "1rXV3v-003dI5-2n");
	ck_assert_int_eq(crossing->state, TXN_COMPLETED);
	ck_assert(crossing->arrival_seen);
	ck_assert_msg(strstr(crossing->recipients, "=delivered/1") != NULL, "%s",
	              crossing->recipients);
	const struct seen_message *long_one = find(&c, "1rWvnt-003NYp-2U");
	ck_assert_int_eq(long_one->state, TXN_COMPLETED);
	ck_assert_msg(strstr(long_one->recipients, "=delivered/") != NULL, "%s",
	              long_one->recipients);
	/* each message handed over once */
	for (size_t i = 0; i < c.message_count; i++)
		for (size_t j = i + 1; j < c.message_count; j++)
			ck_assert_str_ne(c.messages[i].id, c.messages[j].id);
	txn_free(table);
	for (int i = 0; i < 4; i++)
		free(paths[i]);
}
END_TEST

START_TEST(test_smtp_error_forms)
{
	struct smtp_reply_parts p;
	ck_assert(txn_parse_smtp_error(TEXT_LITERAL("SMTP error from remote mail server after pipelined RCPT TO:<a@b>: 550-5.7.1 [192.0.2.1] blocked\\n550 5.7.1 see https://x"), &p));
	ck_assert_int_eq(p.code, 550);
	ck_assert(text_equals(p.status, "5.7.1"));
	ck_assert(text_equals(p.stage, "RCPT TO"));
	ck_assert(txn_parse_smtp_error(TEXT_LITERAL("SMTP error from remote mail server after initial connection: 421 4.7.0 [TS03] All messages from 192.0.2.1 will be permanently deferred"), &p));
	ck_assert(text_equals(p.stage, "connect"));
	ck_assert_int_eq(p.code, 421);
	ck_assert(txn_parse_smtp_error(TEXT_LITERAL("SMTP error from remote mail server after end of data: 552 5.2.2 mailbox full"), &p));
	ck_assert(text_equals(p.stage, "end of data"));
	ck_assert(txn_parse_smtp_error(TEXT_LITERAL("SMTP error from remote mailer after RCPT TO:<ace400@pb.example>: host pbmail3.py.example [192.168.63.111]: 553 5.3.0 <ace400@pb.example>...Addressee unknown"), &p));
	ck_assert_int_eq(p.code, 553);
	ck_assert(text_equals(p.status, "5.3.0"));
	ck_assert(txn_parse_smtp_error(TEXT_LITERAL("SMTP timeout after EHLO myhost.test.ex"), &p));
	ck_assert(text_equals(p.stage, "HELO"));
	ck_assert_int_eq(p.code, 0);
	ck_assert(!txn_parse_smtp_error(TEXT_LITERAL("mailbox is full"), &p));
}
END_TEST

START_TEST(test_many_messages_grow_and_shrink_the_table)
{
	/* enough open messages to grow the hash several times, then close
	 * every other one: lookups must still find the rest */
	struct capture c;
	memset(&c, 0, sizeof c);
	struct record_sink sink = { .state = &c, .finish = on_finish };
	struct txn_options options = { 0 };
	struct txn_table *table = txn_new(&options, &sink);
	struct lexer *lexer = lexer_new();
	struct log_line line;
	char buf[128];
	enum { N = 5000 };
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < N; i++) {
			if (pass == 1 && i % 2)
				continue;
			snprintf(buf, sizeof buf, "2024-03-14 10:00:00 1rk%03d-%06d-0b %s", i % 1000, i,
			         pass == 0 ? "<= a@example.net U=a P=local S=1" : "Completed");
			lexer_parse(lexer, buf, strlen(buf), &line);
			txn_feed(table, &line, text_make(buf, strlen(buf)));
		}
	ck_assert_uint_eq(txn_open_count(table), N / 2);
	for (int i = 0; i < N; i++) {
		snprintf(buf, sizeof buf, "1rk%03d-%06d-0b", i % 1000, i);
		const struct message *m = txn_lookup(table, text_make(buf, strlen(buf)));
		if (i % 2)
			ck_assert_msg(m != NULL && strcmp(m->id, buf) == 0, "lost %s", buf);
		else
			ck_assert_msg(m == NULL, "%s should be closed", buf);
	}
	lexer_free(lexer);
	txn_free(table);
}
END_TEST

static void count_unchanged(void *state, const struct message *m)
{
	struct capture *c = state;
	ck_assert_int_eq(m->state, TXN_OPEN);
	ck_assert_uint_eq(m->line_count, 2); /* its lines, for --state to carry */
	c->loose_count += 1000;               /* counted apart from loose lines */
}

/* --state replays the lines of messages still open last time: they
 * rebuild their messages (so a delivery now explains the earlier delay)
 * but are not counted or timed again, and a message nothing happened to
 * goes to unchanged(), not message(). */
START_TEST(test_replayed_lines_rebuild_but_do_not_count)
{
	static const char *const replayed[] = {
		"2024-03-14 09:00:00 1rkAAA-000001-AA <= a@example.org H=x [192.0.2.1] P=esmtp S=100",
		"2024-03-14 09:00:01 1rkAAA-000001-AA == b@example.net R=dnslookup T=remote_smtp "
		"defer (-44) H=mx.example.net [192.0.2.9]: SMTP error from remote mail server after "
		"RCPT TO:<b@example.net>: 451 4.7.1 Greylisted, try again later",
		"2024-03-14 09:00:00 1rkBBB-000002-BB <= c@example.org H=x [192.0.2.1] P=esmtp S=100",
		"2024-03-14 09:00:02 1rkBBB-000002-BB == d@example.net R=dnslookup T=remote_smtp "
		"defer (-53): retry time not reached for any host",
	};
	static const char *const fresh[] = {
		"2024-03-14 10:00:00 1rkAAA-000001-AA => b@example.net R=dnslookup T=remote_smtp "
		"H=mx.example.net [192.0.2.9]",
		"2024-03-14 10:00:01 1rkAAA-000001-AA Completed",
	};
	struct capture c;
	memset(&c, 0, sizeof c);
	struct record_sink records = { .state = &c, .message = on_message, .event = on_event,
		                       .loose_line = on_loose, .finish = on_finish,
		                       .unchanged = count_unchanged };
	struct txn_options options = { .keep_lines = true };
	struct txn_table *table = txn_new(&options, &records);
	struct sink sink = txn_sink(table);
	struct lexer *lexer = lexer_new();
	struct log_line line;
	for (size_t i = 0; i < 6; i++) {
		const char *text = i < 4 ? replayed[i] : fresh[i - 4];
		struct input_line raw = { .text = text_make(text, strlen(text)), .file = "t",
			                  .replayed = i < 4 };
		lexer_parse(lexer, text, strlen(text), &line);
		sink.line(sink.state, &line, &raw);
	}
	struct pipeline_summary ps = { .input = NULL };
	sink.finish(sink.state, &ps);
	ck_assert_uint_eq(c.message_count, 1);
	const struct seen_message *a = find(&c, "1rkAAA-000001-AA");
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->state, TXN_COMPLETED);
	ck_assert_str_eq(a->recipients, "b@example.net=delivered/1 (was 451 4.7.1 RCPT TO)");
	ck_assert_uint_eq(c.loose_count, 1000); /* B went to unchanged() */
	ck_assert_uint_eq(c.summary.received, 0);
	ck_assert_uint_eq(c.summary.open_at_end, 0);
	ck_assert_int_eq(c.summary.first_time, utc_epoch(2024, 3, 14, 10, 0, 0));
	txn_free(table);
	lexer_free(lexer);
}
/* ---- limits: hostile logs cannot grow the table without bound ---- */

START_TEST(test_max_open_evicts_the_oldest)
{
	static const char *const lines[] = {
		"2024-03-14 10:00:00 1rk000-000001-0b <= a@example.net U=a P=local S=1",
		"2024-03-14 10:00:01 1rk000-000002-0b <= b@example.net U=a P=local S=1",
		"2024-03-14 10:00:02 1rk000-000001-0b == x@example.org R=r T=t defer (-44): later",
		"2024-03-14 10:00:03 1rk000-000003-0b <= c@example.net U=a P=local S=1",
		"2024-03-14 10:00:04 1rk000-000003-0b Completed",
		NULL,
	};
	struct capture c;
	struct txn_options options = { .max_open = 2 };
	run_lines(&c, &options, lines);
	/* the third open message pushes out the first opened, in its state */
	ck_assert_uint_eq(c.message_count, 3);
	ck_assert_str_eq(c.messages[0].id, "1rk000-000001-0b");
	ck_assert(c.messages[0].evicted);
	ck_assert_int_eq(c.messages[0].state, TXN_OPEN);
	ck_assert_str_eq(c.messages[0].recipients, "x@example.org=deferred/1 [later]");
	ck_assert_str_eq(c.messages[1].id, "1rk000-000003-0b");
	ck_assert(!c.messages[1].evicted);
	ck_assert_str_eq(c.messages[2].id, "1rk000-000002-0b");
	ck_assert(!c.messages[2].evicted);
	ck_assert_uint_eq(c.summary.evicted, 1);
	ck_assert_uint_eq(c.summary.open_at_end, 1);
	ck_assert_uint_eq(c.summary.received, 3);
}
END_TEST

START_TEST(test_evictions_keep_every_open_message_found)
{
	/* a full table evicts before each new message: the removal shifts
	 * slots back, so where the new one goes must be worked out again, or
	 * it lands past a hole where no lookup reaches it */
	struct capture c;
	memset(&c, 0, sizeof c);
	struct record_sink sink = { .state = &c, .finish = on_finish };
	enum { OPEN = 700, N = 20000 };
	struct txn_options options = { .max_open = OPEN };
	struct txn_table *table = txn_new(&options, &sink);
	struct lexer *lexer = lexer_new();
	struct log_line line;
	char buf[128], id[32];
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof id, "1rk%03d-%06d-0b", i % 997, i);
		snprintf(buf, sizeof buf, "2024-03-14 10:00:00 %s <= a@example.net U=a P=local S=1", id);
		lexer_parse(lexer, buf, strlen(buf), &line);
		txn_feed(table, &line, text_make(buf, strlen(buf)));
		const struct message *m = txn_lookup(table, text_make(id, strlen(id)));
		ck_assert_msg(m != NULL && strcmp(m->id, id) == 0, "%s not found after its arrival", id);
	}
	ck_assert_uint_eq(txn_open_count(table), OPEN);
	for (int i = N - OPEN; i < N; i++) {
		snprintf(id, sizeof id, "1rk%03d-%06d-0b", i % 997, i);
		ck_assert_msg(txn_lookup(table, text_make(id, strlen(id))) != NULL, "lost %s", id);
	}
	lexer_free(lexer);
	txn_free(table);
}
END_TEST

/* Feed n generated lines for one ID through lexer and table. */
static void run_generated(struct capture *c, const struct txn_options *options, size_t n,
                          void (*line_at)(size_t i, char *buf, size_t size))
{
	memset(c, 0, sizeof *c);
	struct record_sink sink = { .state = c, .message = on_message, .finish = on_finish };
	struct txn_table *table = txn_new(options, &sink);
	struct lexer *lexer = lexer_new();
	struct log_line line;
	char buf[1024];
	for (size_t i = 0; i < n; i++) {
		line_at(i, buf, sizeof buf);
		lexer_parse(lexer, buf, strlen(buf), &line);
		txn_feed(table, &line, text_make(buf, strlen(buf)));
	}
	struct pipeline_summary ps = { .input = NULL };
	txn_finish(table, &ps);
	txn_free(table);
	lexer_free(lexer);
}

static void same_recipient_new_reason(size_t i, char *buf, size_t size)
{
	if (i == 0) {
		snprintf(buf, size, "2024-03-14 10:00:00 1rk000-000001-0b <= a@example.net "
		         "H=mx.example.net [192.0.2.9] P=esmtp S=1 T=\"kept subject\"");
		return;
	}
	if (i == 1) {
		snprintf(buf, size, "2024-03-14 10:00:00 1rk000-000001-0b => first@example.org "
		         "R=dnslookup T=remote_smtp H=mx.example.org [192.0.2.1]");
		return;
	}
	snprintf(buf, size, "2024-03-14 10:00:00 1rk000-000001-0b == x@example.org R=dnslookup "
	         "T=remote_smtp defer (-44) H=mx.example.org [192.0.2.1]: SMTP error from remote "
	         "mail server after RCPT TO:<x@example.org>: 451 4.7.1 Greylisted, try %zu", i);
}

START_TEST(test_repeated_deferrals_do_not_grow_a_message)
{
	/* each deferral replaces the reason; the superseded copies must go */
	enum { N = 50000 };
	struct capture c;
	struct txn_options options = { 0 };
	run_generated(&c, &options, N, same_recipient_new_reason);
	ck_assert_uint_eq(c.message_count, 1);
	/* what the compactions moved is intact, aliases included */
	ck_assert_str_eq(c.messages[0].subject, "kept subject");
	ck_assert_str_eq(c.messages[0].recipients,
	                 "first@example.org=delivered; x@example.org=deferred/49998 451 4.7.1 "
	                 "RCPT TO [SMTP error from remote mail server after RCPT TO:<x@example.org>: "
	                 "451 4.7.1 Greylisted, try 49999]");
	/* about 300 bytes live, 13 MB if every copy stayed */
	ck_assert_uint_lt(c.messages[0].arena_bytes, 256 * 1024);
}
END_TEST

static void new_recipient_each_line(size_t i, char *buf, size_t size)
{
	snprintf(buf, size, "2024-03-14 10:00:00 1rk000-000001-0b == r%zu@example.org R=r T=t "
	         "defer (-44): x", i % (TXN_RECIPIENTS_MAX + 100));
}

/* 40 recipients named on the arrival, then each delivered under its
 * local name (log_as_local), then each again: past 32 the lookup goes
 * through the index, which must follow the address changes. */
static void local_names_line(size_t i, char *buf, size_t size)
{
	if (i == 0) {
		int n = snprintf(buf, size, "2024-03-14 10:00:00 1rk000-000001-0b <= a@example.net "
		                 "U=a P=local S=1 for");
		for (int k = 0; k < 40; k++)
			n += snprintf(buf + n, size - (size_t)n, " r%d@example.org", k);
		return;
	}
	size_t k = (i - 1) % 40;
	snprintf(buf, size, "2024-03-14 10:00:01 1rk000-000001-0b => u%zu <r%zu@example.org> "
	         "R=local T=local_delivery", k, k);
}

START_TEST(test_many_recipients_renamed_stay_one_each)
{
	struct capture c;
	struct txn_options options = { 0 };
	run_generated(&c, &options, 1 + 80, local_names_line);
	ck_assert_uint_eq(c.message_count, 1);
	ck_assert_uint_eq(c.messages[0].recipient_count, 40);
	ck_assert(strncmp(c.messages[0].recipients, "u0=delivered; u1=delivered; ", 28) == 0);
	ck_assert(strstr(c.messages[0].recipients, "=pending") == NULL);
}
END_TEST

START_TEST(test_recipients_and_lines_are_capped)
{
	enum { N = TXN_LINES_MAX + TXN_RECIPIENTS_MAX / 2 };
	struct capture c;
	struct txn_options options = { .keep_lines = true };
	run_generated(&c, &options, N, new_recipient_each_line);
	ck_assert_uint_eq(c.message_count, 1);
	const struct seen_message *m = &c.messages[0];
	ck_assert_uint_eq(m->recipient_count, TXN_RECIPIENTS_MAX);
	ck_assert_uint_gt(m->recipients_left_out, 0);
	/* lines for recipients already tracked are still taken: r0 had 11 */
	ck_assert(strncmp(m->recipients, "r0@example.org=deferred/11 [x]; ", 32) == 0);
	ck_assert_uint_eq(m->line_count, TXN_LINES_MAX);
	ck_assert_uint_eq(m->lines_left_out, N - TXN_LINES_MAX);
}
END_TEST

/* A closed message's record is used again for the next one to open: the
 * next one shows nothing of the one before (its subject, bounce link,
 * frozen flag, recipients, lines), whether the record kept its recipient
 * arrays (a few recipients) or not (many). */
static const char *recycled_lines[] = {
	"2024-03-14 10:00:00 1rkP00-000001-AA <= a@example.com H=[192.0.2.1] P=esmtp S=10",
	"2024-03-14 10:00:01 1rkP00-000001-AA ** x@example.org R=dnslookup T=remote_smtp: 550 no such user",
	"2024-03-14 10:00:02 1rkA00-000001-AA <= <> R=1rkP00-000001-AA U=exim P=local S=20 T=\"Returned mail\"",
	"2024-03-14 10:00:03 1rkP00-000001-AA Completed",
	"2024-03-14 10:00:04 1rkA00-000001-AA Frozen (delivery error message)",
	NULL, /* 70 deliveries of 1rkA00-000001-AA go here */
};

static void assert_nothing_left_over(const struct capture *c)
{
	const struct seen_message *a = find(c, "1rkA00-000001-AA");
	ck_assert(a->frozen);
	ck_assert_str_eq(a->bounce_of, "1rkP00-000001-AA");
	ck_assert_str_eq(a->subject, "Returned mail");
	ck_assert_uint_eq(a->recipient_count, a->recipient_count > 64 ? 70 : 2);
	const struct seen_message *b = find(c, "1rkB00-000001-AA");
	ck_assert(!b->arrival_seen);
	ck_assert(!b->frozen);
	ck_assert_str_eq(b->bounce_of, "");
	ck_assert_str_eq(b->bounced_by, "");
	ck_assert_str_eq(b->subject, "");
	ck_assert_uint_eq(b->recipient_count, 0);
	ck_assert_uint_eq(b->line_count, 1);
	const struct seen_message *d = find(c, "1rkD00-000001-AA");
	ck_assert(d->arrival_seen);
	ck_assert_str_eq(d->subject, "");
	ck_assert_str_eq(d->bounce_of, "");
	ck_assert_str_eq(d->recipients, "d@example.net=delivered");
	ck_assert_uint_eq(d->line_count, 3);
}

START_TEST(test_records_used_again_start_empty)
{
	for (size_t recipients = 2; recipients <= 70; recipients += 68) {
		const char *lines[100];
		char deliveries[70][128];
		size_t n = 0;
		for (; recycled_lines[n]; n++)
			lines[n] = recycled_lines[n];
		for (size_t i = 0; i < recipients; i++) {
			snprintf(deliveries[i], sizeof deliveries[i],
			         "2024-03-14 10:00:05 1rkA00-000001-AA => r%zu@example.com R=r T=t", i);
			lines[n++] = deliveries[i];
		}
		lines[n++] = "2024-03-14 10:00:06 1rkA00-000001-AA Completed";
		lines[n++] = "2024-03-14 10:00:07 1rkB00-000001-AA Completed";
		lines[n++] = "2024-03-14 10:00:08 1rkD00-000001-AA <= c@example.com H=[192.0.2.2] P=esmtp S=30";
		lines[n++] = "2024-03-14 10:00:09 1rkD00-000001-AA => d@example.net R=r T=t";
		lines[n++] = "2024-03-14 10:00:10 1rkD00-000001-AA Completed";
		lines[n] = NULL;
		struct capture c;
		run(&c, lines);
		ck_assert_uint_eq(c.message_count, 4);
		assert_nothing_left_over(&c);
	}
}
END_TEST

Suite *txn_suite(void)
{
	Suite *suite = suite_create("txn");
	TCase *tc = tcase_create("transitions");
	tcase_add_test(tc, test_delivered_then_completed);
	tcase_add_test(tc, test_completed_in_subject_does_not_end_message);
	tcase_add_test(tc, test_deferred_then_delivered_keeps_the_deferral);
	tcase_add_test(tc, test_local_delivery_after_deferral_is_one_recipient);
	tcase_add_test(tc, test_deferred_until_retry_timeout);
	tcase_add_test(tc, test_refused_host_comes_from_the_host_error_line);
	tcase_add_test(tc, test_sender_verify_event_names_the_sender);
	tcase_add_test(tc, test_failed_with_smtp_reply);
	tcase_add_test(tc, test_additional_address_and_discards);
	tcase_add_test(tc, test_cutthrough_before_arrival);
	tcase_add_test(tc, test_frozen_bounce_stays_open);
	tcase_add_test(tc, test_rejected_after_data_is_an_event_and_ends_the_id);
	tcase_add_test(tc, test_event_addresses_come_from_exim_not_the_client);
	tcase_add_test(tc, test_acl_blackhole_discards_the_pending_recipients);
	tcase_add_test(tc, test_time_window);
	tcase_add_test(tc, test_message_across_rotated_files);
	tcase_add_test(tc, test_smtp_error_forms);
	tcase_add_test(tc, test_many_messages_grow_and_shrink_the_table);
	tcase_add_test(tc, test_replayed_lines_rebuild_but_do_not_count);
	tcase_add_test(tc, test_max_open_evicts_the_oldest);
	tcase_add_test(tc, test_evictions_keep_every_open_message_found);
	tcase_add_test(tc, test_repeated_deferrals_do_not_grow_a_message);
	tcase_add_test(tc, test_recipients_and_lines_are_capped);
	tcase_add_test(tc, test_many_recipients_renamed_stay_one_each);
	tcase_add_test(tc, test_records_used_again_start_empty);
	suite_add_tcase(suite, tc);
	return suite;
}
