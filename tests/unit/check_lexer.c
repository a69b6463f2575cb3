/*
 * Lexer tests: one real line per line kind (from the Exim test-suite
 * corpus and exim-log-format.md, cited as "test/log/NNNN" or "spec"),
 * then one test per quirk of the format: ID formats, [pid], milliseconds,
 * zones, local time, syslog and journald wrappers, quoting, multi-line
 * replies, continuation lines, the meanings of T=, the ** and == forms,
 * and hostile bytes. Expected values come from the format reference, not
 * from running the lexer.
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fields.h"
#include "lexer.h"
#include "strbuf.h"
#include "suites.h"
#include "test_support.h"

/* ---- one line per kind ---- */

struct kind_case {
	const char *line;
	enum line_kind kind;
	const char *message_id; /* "" when the line has none */
	const char *message;    /* expected message view; NULL: not checked */
	const char *source;
};

static const struct kind_case kind_cases[] = {
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= a1@bloggs.com H=(xxx) [127.0.0.1] P=smtp S=sss ARC id=qwerty1234@disco-zombie.net for a@test.ex",
	  LK_ARRIVAL, "10HmaX-000000005vi-0000", NULL, "test/log/4560" },
	{ "1999-03-02 09:44:33 10HmbC-000000005vi-0000 (= b2@dump.ex H=localhost (myhost.test.ex) [127.0.0.1] P=esmtp S=sss for rmt_fakereject@test.ex",
	  LK_FAKE_REJECT, "10HmbC-000000005vi-0000", NULL, "test/log/0612" },
	{ "2002-10-31 09:00:10 16ZCW1-0005MB-00 => monk@holistic.fict.example R=dnslookup T=remote_smtp H=holistic.fict.example [192.168.234.234]",
	  LK_DELIVERY, "16ZCW1-0005MB-00", NULL, "spec, section 7" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 -> userx@alias-eximtesthost.test.ex R=lookuphost T=send_to_server H=eximtesthost.test.ex [ip4.ip4.ip4.ip4] C=\"250 OK id=10HmaY-000000005vi-0000\"",
	  LK_ADDITIONAL, "10HmaX-000000005vi-0000", NULL, "format doc, section 7" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 >> userx@domain.com P=<CALLER@myhost.test.ex> R=all T=smtp H=127.0.0.1 [127.0.0.1] C=\"250 OK\"",
	  LK_CUTTHROUGH, "10HmaX-000000005vi-0000", NULL, "test/log/5400" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 *> newr1@myhost.test.ex <r1@test.ex> R=ok T=t1 H=V4NET.0.0.0 [V4NET.0.0.0] C=\"delivery bypassed by -N option\"",
	  LK_SUPPRESSED, "10HmaX-000000005vi-0000", NULL, "test/log/0039" },
	{ "1999-03-02 09:44:33 10HmbA-000000005vi-0000 ** userx@badbad.ex R=fail_remote_domains : unrouteable mail domain \"badbad.ex\" (:fail:)",
	  LK_FAILED, "10HmbA-000000005vi-0000", "unrouteable mail domain \"badbad.ex\" (:fail:)", "format doc, section 9" },
	{ "1999-03-02 09:44:33 10HmbF-000000005vi-0000 == usery@myhost.test.ex R=usery T=appendfile2 defer (-22): mailbox is full (MTA-imposed quota exceeded while writing to TESTSUITE/test-mail/usery)",
	  LK_DEFERRED, "10HmbF-000000005vi-0000", "mailbox is full (MTA-imposed quota exceeded while writing to TESTSUITE/test-mail/usery)", "test/log/0095" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@myhost.test.ex routing defer (-52): retry time not reached",
	  LK_RETRY_NOT_REACHED, "10HmaX-000000005vi-0000", "retry time not reached", "test/log/0195" },
	{ "1999-03-02 09:44:33 10HmbH-000000005vi-0000 Completed",
	  LK_COMPLETED, "10HmbH-000000005vi-0000", NULL, "test/log/0072" },
	{ "1999-03-02 09:44:33 10HmaY-000000005vi-0000 Frozen (delivery error message)",
	  LK_FROZEN, "10HmaY-000000005vi-0000", NULL, "test/log/0156" },
	{ "1999-03-02 09:44:33 10HmbD-000000005vi-0000 frozen by ACL",
	  LK_FROZEN, "10HmbD-000000005vi-0000", NULL, "test/log/4133" },
	{ "1999-03-02 09:44:33 10HmaY-000000005vi-0000 Unfrozen by errmsg timer",
	  LK_UNFROZEN, "10HmaY-000000005vi-0000", NULL, "test/log corpus" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 unfrozen by CALLER",
	  LK_UNFROZEN, "10HmaX-000000005vi-0000", NULL, "test/log corpus" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 Message is frozen",
	  LK_SKIPPED_FROZEN, "10HmaX-000000005vi-0000", NULL, "test/log/0206" },
	/* No corpus example: built from the section 12 template (4.94+ and
	 * older wording). */
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 Spool file for 10HmaX-000000005vi-0000 is locked (another process is handling this message)",
	  LK_SPOOL_LOCKED, "10HmaX-000000005vi-0000", NULL, "format doc, section 12 template" },
	{ "2010-09-13 05:00:13 1Ov4tU-0000Nz-Rm Spool file is locked (another process is handling this message)",
	  LK_SPOOL_LOCKED, "1Ov4tU-0000Nz-Rm", NULL, "format doc, section 12 template (before 4.94)" },
	{ "2017-07-30 18:51:05.712 10HmaY-000000005vi-0000 Spool file 10HmaY-000000005vi-0000-D not found",
	  LK_SPOOL_ERROR, "10HmaY-000000005vi-0000", NULL, "test/log/0640" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 H=127.0.0.1 [127.0.0.1] Connection refused",
	  LK_HOST_ERROR, "10HmaX-000000005vi-0000", "Connection refused", "format doc, section 10" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after RCPT TO:<userx@domain.com>: 451 Recipient deferred",
	  LK_HOST_ERROR, "10HmaX-000000005vi-0000", "SMTP error from remote mail server after RCPT TO:<userx@domain.com>: 451 Recipient deferred", "format doc, section 10" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 H=127.0.0.1 [127.0.0.1]:10001: a TLS session is required, but the server did not offer TLS support",
	  LK_HOST_ERROR, "10HmaX-000000005vi-0000", "a TLS session is required, but the server did not offer TLS support", "format doc, section 10" },
	{ "1999-03-02 09:44:33 10HmaX-0005vi-00 46c.test.ex [V6NET:ffff:836f:a00:a:800:200a:c033] Network Error",
	  LK_HOST_ERROR, "10HmaX-0005vi-00", NULL, "test/log/9900 (4.80-4.85 form)" },
	{ "1999-03-02 09:44:33 10HmbJ-000000005vi-0000 CALLER@test.ex: error ignored",
	  LK_ERROR_IGNORED, "10HmbJ-000000005vi-0000", NULL, "test/log/0217" },
	{ "1999-03-02 09:44:33 10HmaY-000000005vi-0000 no immediate delivery: queued by ACL",
	  LK_QUEUED, "10HmaY-000000005vi-0000", NULL, "test/log/5420" },
	{ "1999-03-02 09:44:33 10HmbL-000000005vi-0000 removed by CALLER",
	  LK_CANCELLED, "10HmbL-000000005vi-0000", NULL, "test/log/4118" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 cancelled by timeout_frozen_after",
	  LK_CANCELLED, "10HmaX-000000005vi-0000", NULL, "test/log corpus" },
	{ "1999-03-02 09:44:33 10HmbG-000000005vi-0000 address <usery@domain1> marked delivered by CALLER",
	  LK_QUEUE_EDIT, "10HmbG-000000005vi-0000", NULL, "test/log/5700" },
	{ "1999-03-02 09:44:33 10HmaY-000000005vi-0000 sender address changed to <bad@test.ex> by CALLER",
	  LK_QUEUE_EDIT, "10HmaY-000000005vi-0000", NULL, "test/log/3600" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 <a@myhost.test.ex>: pipe transport output: Hi from pipe",
	  LK_TRANSPORT_OUTPUT, "10HmaX-000000005vi-0000", NULL, "test/log/0603" },
	{ "1999-03-02 09:44:33 10HmaY-000000005vi-0000 DKIM: d=test.ex s=sel c=relaxed/relaxed a=rsa-sha256 b=1024 [verification succeeded]",
	  LK_DKIM, "10HmaY-000000005vi-0000", NULL, "test/log/4534" },
	{ "1999-03-02 09:44:33 TLS error on connection from (rhu.barb) [ip4.ip4.ip4.ip4] (gnutls_handshake): The peer did not send any certificate.",
	  LK_TLS_ERROR, "", NULL, "test/log/2002" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 TLS session: (SSL_connect): error: <<detail omitted>>",
	  LK_TLS_ERROR, "10HmaX-000000005vi-0000", NULL, "test/log corpus" },
	{ "1999-03-02 09:44:33 SMTP connection from [127.0.0.1] (TCP/IP connection count = 1)",
	  LK_CONNECTION_OPEN, "", "", "test/log/0622" },
	{ "1999-03-02 09:44:33 SMTP connection from (test) [127.0.0.1] D=qqs closed by QUIT",
	  LK_CONNECTION_CLOSED, "", "", "test/log corpus" },
	{ "1999-03-02 09:44:33 SMTP connection Ci=p1243 from localhost (myhost.test.ex) [127.0.0.1]:10006 I=[127.0.0.1]:PORT_D D=qqs closed by QUIT",
	  LK_CONNECTION_CLOSED, "", NULL, "test/log corpus" },
	{ "1999-03-02 09:44:33 10HmbD-000000005vi-0000 SMTP connection from (tester) [127.0.0.1] lost while reading message data",
	  LK_CONNECTION_LOST, "10HmbD-000000005vi-0000", NULL, "test/log corpus" },
	{ "1999-03-02 09:44:33 unexpected disconnection while reading SMTP command from (test) [127.0.0.1] D=qqs",
	  LK_CONNECTION_LOST, "", NULL, "test/log corpus" },
	{ "1999-03-02 09:44:33 SMTP command timeout on connection from CALLER D=qqs",
	  LK_CONNECTION_LOST, "", NULL, "test/log corpus" },
	{ "1999-03-02 09:44:33 refused connection from [127.0.0.1] (host_reject_connection)",
	  LK_CONNECTION_REFUSED, "", NULL, "test/rejectlog/0314" },
	{ "1999-03-02 09:44:33 SMTP call from [127.0.0.1] dropped: too many unrecognized commands (last was \"unknown\")",
	  LK_CONNECTION_DROPPED, "", "too many unrecognized commands (last was \"unknown\")", "test/rejectlog/0562" },
	{ "1999-03-02 09:44:33 H=[10.9.8.7] U=CALLER rejected connection in \"connect\" ACL",
	  LK_REJECTED_CONNECT, "", NULL, "test/log/0021" },
	{ "1999-03-02 09:44:33 H=[127.0.0.1] temporarily rejected connection in \"connect\" ACL: host deferred",
	  LK_REJECTED_CONNECT, "", "host deferred", "test/log/0548" },
	{ "1999-03-02 09:44:33 H=(x.y.z) [10.9.8.10] U=CALLER rejected EHLO or HELO x.y.z",
	  LK_REJECTED_HELO, "", NULL, "test/log/0021" },
	{ "1999-03-02 09:44:33 rejected HELO from CALLER: syntactically invalid argument(s): (no argument given)",
	  LK_REJECTED_HELO, "", NULL, "test/log/0453" },
	{ "1999-03-02 09:44:33 H=[10.9.8.8] U=CALLER rejected MAIL <bad@test1>",
	  LK_REJECTED_MAIL, "", NULL, "test/log/0021" },
	{ "1999-03-02 09:44:33 rejected MAIL from [127.0.0.1]: no HELO/EHLO given",
	  LK_REJECTED_MAIL, "", NULL, "test/rejectlog/0637" },
	{ "1999-03-02 09:44:33 H=(test) [10.0.0.2] U=CALLER F=<jules@box3.plc.example> rejected RCPT <userx@test.ex>: Sender verify failed",
	  LK_REJECTED_RCPT, "", "Sender verify failed", "test/log/0014" },
	{ "1999-03-02 09:44:33 H=(test) [56.56.57.57] U=CALLER F=<userx@test.ex> temporarily rejected RCPT <cond-rhubarb@test.ex>: invalid \"condition\" value \"rhubarb\"",
	  LK_REJECTED_RCPT, "", "invalid \"condition\" value \"rhubarb\"", "test/log/0023" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 U=CALLER F=<x@y> rejected after DATA: domain missing or malformed: failing address in \"From:\" header is: @",
	  LK_REJECTED_DATA, "10HmaX-000000005vi-0000", "domain missing or malformed: failing address in \"From:\" header is: @", "test/log/0026" },
	{ "1999-03-02 09:44:33 10HmaY-000000005vi-0000 rejected from <CALLER@myhost.test.ex> U=CALLER: message too big: read=101 max=100",
	  LK_REJECTED_DATA, "10HmaY-000000005vi-0000", "message too big: read=101 max=100", "test/log/0181" },
	{ "1999-03-02 09:44:33 H=(foobar) [127.0.0.1] rejected AUTH plain: STARTTLS required before AUTH",
	  LK_REJECTED_OTHER, "", "STARTTLS required before AUTH", "test/log/3450" },
	{ "1999-03-02 09:44:33 H=localhost (primary.test.ex) [127.0.0.1] F=<CALLER@test.ex> RCPT <userx@domA.ex>: discarded by RCPT ACL",
	  LK_ACL_DISCARD, "", NULL, "test/log/0570" },
	{ "1999-03-02 09:44:33 U=CALLER sender verify defer for <unknown@x.x.x.x>: Could not complete sender verify callout",
	  LK_SENDER_VERIFY, "", "Could not complete sender verify callout", "test/log/0527" },
	{ "1999-03-02 09:44:33 sender verify defer (making callout connection): T=smtp Network Error",
	  LK_CALLOUT_DEFER, "", NULL, "test/log/0365" },
	{ "1999-03-02 09:44:33 expanded_prompt_plain authenticator failed for H=(test.host) [10.0.0.1] U=CALLER: 535 Incorrect authentication data (set_id=userx)",
	  LK_AUTH_FAILED, "", "535 Incorrect authentication data (set_id=userx)", "test/log/3400 (4.99 form)" },
	{ "1999-03-02 09:44:33 login authenticator failed for (test.host) [10.0.0.1] U=CALLER: 535 Incorrect authentication data",
	  LK_AUTH_FAILED, "", "535 Incorrect authentication data", "test/log/3551 (form before 4.99)" },
	{ "1999-03-02 09:44:33 SMTP protocol error in \"DATA\" H=(rhu.barb) [127.0.0.1]:10002 I=[127.0.0.1]:PORT_D valid RCPT command must precede DATA",
	  LK_PROTOCOL_ERROR, "", NULL, "test/log/0458" },
	{ "1999-03-02 09:44:33 SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised): rejected \"rcpt to:<userx@test.ex>\" H=(abcd) [127.0.0.1] next input=\"data\\r\\n\" (6 bytes)",
	  LK_SYNC_ERROR, "", NULL, "test/log/0556" },
	{ "1999-03-02 09:44:33 no MAIL in SMTP connection from (x.y.z) [127.0.0.1] D=qqs C=EHLO,VRFY,QUIT",
	  LK_NO_MAIL, "", NULL, "test/log/0547" },
	/* No corpus example: built from the section 13 template. */
	{ "1999-03-02 09:44:33 H=(test) [127.0.0.1] incomplete transaction (QUIT) from <userx@test.ex> for usery@test.ex",
	  LK_INCOMPLETE, "", NULL, "format doc, section 13 template" },
	{ "1999-03-02 09:44:33 no host name found for IP address 127.0.0.2",
	  LK_HOST_LOOKUP, "", NULL, "test/log/4030" },
	/* The corpus has no "lookup defer" line: section 13 template. */
	{ "1999-03-02 09:44:33 DNS list lookup defer (probably timeout) for 2.0.0.127.rbl.test.ex: assumed not in list",
	  LK_DNSLIST_DEFER, "", NULL, "format doc, section 13 template" },
	{ "1999-03-02 09:44:33 ETRN #two received from (rhu.barb) [127.0.0.1]",
	  LK_SMTP_COMMAND, "", NULL, "test/log/0287" },
	{ "1999-03-02 09:44:33 H=(exim.test.ex) [V4NET.11.12.14] I=[14.12.11.10]:10002 U=CALLER Warning: accepting postmaster from host in rbl2.test.ex",
	  LK_WARNING, "", "accepting postmaster from host in rbl2.test.ex", "test/log/4116" },
	{ "1999-03-02 09:44:33 Warning: No server certificate defined; will use a selfsigned one.",
	  LK_WARNING, "", NULL, "test/log/2011" },
	{ "1999-03-02 09:44:33 exim x.yz daemon started: pid=p1234, no queue runs, listening for SMTP on port PORT_D",
	  LK_DAEMON_START, "", NULL, "test/log/1106" },
	{ "2017-07-30 18:51:05.712 pid p1234: SIGHUP received: re-exec daemon",
	  LK_DAEMON, "", NULL, "test/log/0621" },
	{ "2017-07-30 18:51:05.712 listen backlog 2 I=[127.0.0.1]:10002",
	  LK_DAEMON, "", NULL, "test/log/0625" },
	{ "1999-03-02 09:44:33 Start queue run: pid=p1234",
	  LK_QUEUE_RUN_START, "", NULL, "test/log/0366" },
	{ "1999-03-02 09:44:33 End queue run: pid=p1236 -qf",
	  LK_QUEUE_RUN_END, "", NULL, "test/log/0552" },
	/* No corpus examples: section 13 templates. */
	{ "1999-03-02 09:44:33 cwd=/var/spool/exim 4 args: /usr/sbin/exim -bd -q30m -oX",
	  LK_ARGUMENTS, "", "", "format doc, section 13 template" },
	{ "1999-03-02 09:44:33 \"userx@test.ex\" from env-from rewritten as \"userx@test.example\" by rule 1",
	  LK_REWRITE, "", NULL, "format doc, section 13 template" },
	{ "1999-03-02 09:44:33 Exim configuration error in line 12 of TESTSUITE/test-config:",
	  LK_CONFIG_ERROR, "", NULL, "test/paniclog/0148" },
	{ "1999-03-02 09:44:33 10HmbB-000000005vi-0000 r1a router: skipped error: domain missing or malformed in \"@@test.ex (This has a syntax error)\"",
	  LK_CONFIG_ERROR, "10HmbB-000000005vi-0000", NULL, "test/log/0270" },
	{ "1999-03-02 09:44:33 10HmaX-000000005vi-0000 re-exec of exim (TESTSUITE/eximdir/exim/junk) with -odi failed: Not a directory",
	  LK_EXIM_ERROR, "10HmaX-000000005vi-0000", NULL, "test/log/4134" },
	{ "Envelope-from: <userx@test1>",
	  LK_CONTINUATION, "", NULL, "test/rejectlog/0021" },
	{ "", LK_BLANK, "", NULL, "test/log/0608" },
	/* A test-config logwrite: arbitrary text, the whole body is the message. */
	{ "1999-03-02 09:44:33 mail accepted \"mail from:<ok@test1>\" \"<ok@test1>\"",
	  LK_UNKNOWN, "", "mail accepted \"mail from:<ok@test1>\" \"<ok@test1>\"", "test/log/0021" },
};

#define KIND_CASE_COUNT ((int)(sizeof kind_cases / sizeof *kind_cases))

START_TEST(test_kind_of_real_line)
{
	const struct kind_case *c = &kind_cases[_i];
	struct lexer *lexer = lexer_new();
	struct log_line out;
	lexer_parse(lexer, c->line, strlen(c->line), &out);
	ck_assert_msg(out.kind == c->kind, "%s: expected %s, got %s for: %s", c->source,
	              line_kind_name(c->kind), line_kind_name(out.kind), c->line);
	assert_text(out.message_id, c->message_id);
	if (c->message)
		assert_text(out.message, c->message);
	assert_views_inside(&out, c->line, strlen(c->line));
	lexer_free(lexer);
}
END_TEST

/* Every kind in linekinds.h has a line above, so a new kind cannot be
 * added without an example. */
START_TEST(test_every_kind_has_an_example)
{
	for (int k = 0; k < LINE_KIND_COUNT; k++) {
		bool found = false;
		for (int i = 0; i < KIND_CASE_COUNT && !found; i++)
			found = kind_cases[i].kind == (enum line_kind)k;
		ck_assert_msg(found, "no example line for kind %s", line_kind_name((enum line_kind)k));
	}
}
END_TEST

START_TEST(test_kind_names_round_trip)
{
	for (int k = 0; k < LINE_KIND_COUNT; k++) {
		const char *name = line_kind_name((enum line_kind)k);
		ck_assert_int_eq(line_kind_from_name(name, strlen(name)), k);
	}
	ck_assert_str_eq(line_kind_name(LK_RETRY_NOT_REACHED), "retry_not_reached");
	ck_assert_str_eq(line_kind_name(LK_INCOMPLETE), "incomplete_transaction");
	ck_assert_int_eq(line_kind_from_name("arrivals", 8), LINE_KIND_COUNT);
	ck_assert_int_eq(line_kind_from_name("arrival", 6), LINE_KIND_COUNT);
}
END_TEST

/* Every byte of the phrase a line is known by counts: changed, the line
 * is no longer of that kind. Phrases of under 8, 8 to 32 and over 32
 * bytes are compared in different ways (classify.c). */
START_TEST(test_every_byte_of_a_phrase_counts)
{
	static const struct {
		const char *body;
		size_t phrase_length;
		enum line_kind kind;
	} cases[] = {
		{ "SMTP connection from [192.0.2.1]:1025 I=[192.0.2.2]:25 (TCP/IP connection count = 1)",
		  21, LK_CONNECTION_OPEN },
		{ "Start queue run: pid=1234", 15, LK_QUEUE_RUN_START },
		{ "Spool read error for 10HmaX-0005vi-00", 16, LK_SPOOL_ERROR },
		{ "Frozen (delivery error message)", 6, LK_FROZEN },
		{ "unexpected disconnection while reading SMTP command from [192.0.2.1]:1025 D=0s",
		  51, LK_CONNECTION_LOST },
	};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		char line[256];
		int n = snprintf(line, sizeof line, "2024-01-02 00:00:00 %s", cases[c].body);
		ck_assert(n > 20 && (size_t)n < sizeof line);
		assert_kind(lex(line), cases[c].kind);
		for (size_t i = 0; i < cases[c].phrase_length; i++) {
			char *at = line + 20 + i;
			char was = *at;
			*at = '#';
			ck_assert_msg(lex(line).kind != cases[c].kind, "%s: byte %zu changed", line, i);
			*at = was;
		}
	}
}
END_TEST

/* ---- the prefix: IDs, pid, time ---- */

START_TEST(test_arrival_with_old_id_and_pid)
{
	/* old-format example, logstash-patterns-core PR #290 (format doc, section 6) */
	struct log_line l = lex("2010-09-13 05:00:13 [1487] 1Ov4tU-0000Nz-Rm <= mailling.list@domain.com "
	                        "H=mailhost.domain.com [208.42.54.2]:51792 I=[67.215.162.175]:25 "
	                        "P=esmtps S=21778 T=\"Daily List: Chameleon\" for user@example.com");
	assert_kind(l, LK_ARRIVAL);
	ck_assert_int_eq(l.flag, FLAG_ARRIVAL);
	ck_assert_int_eq(l.pid, 1487);
	assert_text(l.message_id, "1Ov4tU-0000Nz-Rm");
	assert_text(l.address, "mailling.list@domain.com");
	assert_field(l, FIELD_H, "mailhost.domain.com [208.42.54.2]:51792");
	assert_field(l, FIELD_I, "[67.215.162.175]:25");
	assert_field(l, FIELD_P, "esmtps");
	assert_field(l, FIELD_S, "21778");
	assert_field(l, FIELD_T, "Daily List: Chameleon");
	ck_assert(l.fields.t_is_subject);
	assert_field(l, FIELD_FOR, "user@example.com");
	ck_assert_int_eq(l.millisecond, -1);
	ck_assert(!l.has_zone);
	ck_assert(!l.from_syslog);
}
END_TEST

START_TEST(test_arrival_with_new_id)
{
	struct log_line l = lex("1999-03-02 09:44:33 10HmaY-000000005vi-0000 <= CALLER@myhost.test.ex "
	                        "H=the.local.host.name (myhost.test.ex) [ip4.ip4.ip4.ip4] P=esmtps "
	                        "X=TLS1.x:ke-RSA-AES256-SHAnnn:xxx SNI=fred S=sss "
	                        "id=E10HmaX-000000005vi-0000@myhost.test.ex"); /* test/log/1113 */
	assert_kind(l, LK_ARRIVAL);
	assert_text(l.message_id, "10HmaY-000000005vi-0000");
	ck_assert_int_eq(l.pid, 0);
	assert_text(l.address, "CALLER@myhost.test.ex");
	assert_field(l, FIELD_H, "the.local.host.name (myhost.test.ex) [ip4.ip4.ip4.ip4]");
	assert_field(l, FIELD_X, "TLS1.x:ke-RSA-AES256-SHAnnn:xxx");
	assert_field(l, FIELD_SNI, "fred");
	assert_field(l, FIELD_ID, "E10HmaX-000000005vi-0000@myhost.test.ex");
	ck_assert(!l.fields.id_created);
	assert_no_field(l, FIELD_T);
}
END_TEST

START_TEST(test_created_message_id_and_bounce_reference)
{
	/* test/log/0604 */
	struct log_line l = lex("1999-03-02 09:44:33 10HmbA-000000005vi-0000 <= CALLER@myhost.test.ex U=CALLER "
	                        "P=local S=sss id*=E10HmbA-000000005vi-0000@myhost.test.ex for c@test.ex");
	assert_field(l, FIELD_ID, "E10HmbA-000000005vi-0000@myhost.test.ex");
	ck_assert(l.fields.id_created);
	assert_field(l, FIELD_FOR, "c@test.ex");
	/* test/log/0699: a bounce of an old-format message after an upgrade */
	l = lex("1999-03-02 09:44:33 10HmaY-000000005vi-0000 <= jc@rome R=10HmaX-0005vi-00 U=jc44bc "
	        "P=local S=sss for userx@test.x");
	assert_text(l.message_id, "10HmaY-000000005vi-0000");
	assert_field(l, FIELD_R, "10HmaX-0005vi-00");
	assert_field(l, FIELD_U, "jc44bc");
}
END_TEST

START_TEST(test_near_id_is_not_an_id)
{
	/* 24 characters: one more than the new format. Section 2.3 requires
	 * the ID to be followed by a space, so it must not be cut short. */
	struct log_line l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-00000 Completed");
	assert_text(l.message_id, "");
	ck_assert_int_ne(l.kind, LK_COMPLETED);
	/* 17 characters: one more than the old format. */
	l = lex("2010-09-13 05:00:13 1Ov4tU-0000Nz-Rmx Completed");
	assert_text(l.message_id, "");
	/* right length, wrong alphabet */
	l = lex("1999-03-02 09:44:33 10HmaX-000000005v_-0000 Completed");
	assert_text(l.message_id, "");

	ck_assert(lexer_is_message_id("10HmaX-000000005vi-0000", 23));
	ck_assert(lexer_is_message_id("1Ov4tU-0000Nz-Rm", 16));
	ck_assert(!lexer_is_message_id("10HmaX-000000005vi-00000", 24));
	ck_assert(!lexer_is_message_id("10HmaX-000000005vi-000", 22));
	ck_assert(!lexer_is_message_id("1Ov4tU-0000Nz-R", 15));
	ck_assert(!lexer_is_message_id("1Ov4tU+0000Nz-Rm", 16));
}
END_TEST

/* What an ID is, said plainly: the reference the lexer's vector test of
 * a line's head must agree with. */
static bool plain_is_id(const char *s, size_t n)
{
	size_t dash2 = n == 23 ? 18 : n == 16 ? 13 : 0;
	if (dash2 == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		if ((i == 6 || i == dash2) ? c != '-' : !alnum)
			return false;
	}
	return true;
}

/* Both formats with every byte changed to each of the bytes beside the
 * ranges ('/', ':', '@', '[', '`', '{'), a dash, a space, a NUL, 0x80 and
 * up, and letters and digits; alone and at the head of a line, where the
 * ID must be followed by a space. */
START_TEST(test_message_id_every_byte)
{
	static const char *const ids[] = { "10HmaX-000000005vi-0000", "1Ov4tU-0000Nz-Rm" };
	static const unsigned char bytes[] = { '/', ':', '@', '[', '`', '{', '-', ' ', 0,
		                               0x80, 0xB0, 0xC1, 0xE1, 0xFF, '0', '9', 'a',
		                               'z', 'A', 'Z', 'q' };
	for (size_t k = 0; k < 2; k++) {
		size_t n = strlen(ids[k]);
		for (size_t i = 0; i < n; i++)
			for (size_t b = 0; b < sizeof bytes; b++) {
				char id[24];
				memcpy(id, ids[k], n);
				id[i] = (char)bytes[b];
				bool want = plain_is_id(id, n);
				ck_assert_msg(lexer_is_message_id(id, n) == want, "%s byte %zu = %02x",
				              ids[k], i, bytes[b]);
				char line[64];
				memcpy(line, "2024-01-01 00:00:00 ", 20);
				memcpy(line + 20, id, n);
				memcpy(line + 20 + n, " Completed", 11);
				struct log_line l = lex_bytes(line, 20 + n + 10);
				ck_assert_msg((l.message_id.len == n) == want, "line with %s byte %zu = %02x",
				              ids[k], i, bytes[b]);
			}
	}
}
END_TEST

START_TEST(test_pid_before_id)
{
	/* test/log/0551, section 2.2: the pid comes before the ID */
	struct log_line l = lex("1999-03-02 09:44:33 [1235] 10HmaX-000000005vi-0000 => userx <userx@test.ex> R=r1 T=t1");
	assert_kind(l, LK_DELIVERY);
	ck_assert_int_eq(l.pid, 1235);
	assert_text(l.message_id, "10HmaX-000000005vi-0000");
	assert_text(l.address, "userx <userx@test.ex>");
	assert_field(l, FIELD_R, "r1");
	assert_field(l, FIELD_T, "t1");

	/* test/log/5721: a pid on a line without an ID */
	l = lex("1999-03-02 09:44:33 [1234] refused connection from [127.0.0.1] (host_reject_connection)");
	assert_kind(l, LK_CONNECTION_REFUSED);
	ck_assert_int_eq(l.pid, 1234);
	assert_text(l.message_id, "");
}
END_TEST

START_TEST(test_milliseconds)
{
	use_time_zone("UTC");
	/* test/log/0551 */
	struct log_line l = lex("2017-07-30 18:51:05.712 10HmaZ-000000005vi-0000 <= CALLER@myhost.test.ex "
	                        "U=CALLER P=local S=sss RT=q.qqqs");
	assert_kind(l, LK_ARRIVAL);
	ck_assert_int_eq(l.millisecond, 712);
	ck_assert_int_eq(l.epoch, 1501440665); /* 2017-07-30 18:51:05 UTC */
	ck_assert(!l.has_zone);
	assert_text(l.message_id, "10HmaZ-000000005vi-0000");
	assert_field(l, FIELD_RT, "q.qqqs");

	/* +millisec and log_timezone together (section 2.1) */
	l = lex("2017-07-30 18:51:05.007 +0100 10HmaZ-000000005vi-0000 Completed");
	assert_kind(l, LK_COMPLETED);
	ck_assert_int_eq(l.millisecond, 7);
	ck_assert(l.has_zone);
	ck_assert_int_eq(l.zone_offset_minutes, 60);
	ck_assert_int_eq(l.epoch, 1501437065); /* 17:51:05 UTC */
}
END_TEST

START_TEST(test_zone_east)
{
	struct log_line l = lex("2003-04-25 11:17:07 +0100 16ZCW1-0005MB-00 Completed");
	assert_kind(l, LK_COMPLETED);
	ck_assert(l.has_zone);
	ck_assert_int_eq(l.zone_offset_minutes, 60);
	ck_assert_int_eq(l.epoch, 1051265827); /* 10:17:07 UTC */
	assert_text(l.message_id, "16ZCW1-0005MB-00");
}
END_TEST

START_TEST(test_zone_west)
{
	struct log_line l = lex("2003-04-25 11:17:07 -0500 16ZCW1-0005MB-00 Completed");
	assert_kind(l, LK_COMPLETED);
	ck_assert(l.has_zone);
	ck_assert_int_eq(l.zone_offset_minutes, -300);
	ck_assert_int_eq(l.epoch, 1051287427); /* 16:17:07 UTC */
	/* a half-hour zone: minutes count too */
	l = lex("2003-04-25 11:17:07 +0530 16ZCW1-0005MB-00 Completed");
	ck_assert_int_eq(l.zone_offset_minutes, 330);
	ck_assert_int_eq(l.epoch, 1051249627); /* 05:47:07 UTC */
}
END_TEST

START_TEST(test_zoneless_time_is_local_utc)
{
	use_time_zone("UTC");
	struct log_line l = lex("2003-04-25 11:17:07 16ZCW1-0005MB-00 Completed");
	ck_assert(!l.has_zone);
	ck_assert_int_eq(l.zone_offset_minutes, 0);
	ck_assert_int_eq(l.epoch, 1051269427); /* 11:17:07 UTC */
}
END_TEST

START_TEST(test_zoneless_time_is_local_with_dst)
{
	/* Central European time, with summer time: the offset is the one in
	 * force at that date (section 2.1: host-local). POSIX rule, so no
	 * zoneinfo files are needed. */
	use_time_zone("CET-1CEST,M3.5.0,M10.5.0/3");
	struct log_line l = lex("2003-04-25 11:17:07 16ZCW1-0005MB-00 Completed");
	ck_assert(!l.has_zone);
	ck_assert_int_eq(l.epoch, 1051262227); /* 09:17:07 UTC, +0200 */
	l = lex("2003-01-15 11:17:07 16ZCW1-0005MB-00 Completed");
	ck_assert_int_eq(l.epoch, 1042625827); /* 10:17:07 UTC, +0100 */
}
END_TEST

/* ---- syslog and journald wrappers (section 1, "Syslog") ---- */

START_TEST(test_syslog_prefix)
{
	use_time_zone("UTC");
	struct log_line l = lex("May 23 10:28:30 mx01 exim[27789]: 2019-05-23 10:28:30 1hTohn-0007EB-Nq Completed");
	assert_kind(l, LK_COMPLETED);
	assert_text(l.message_id, "1hTohn-0007EB-Nq");
	ck_assert_int_eq(l.pid, 27789);
	ck_assert(l.from_syslog);
	ck_assert_int_eq(l.epoch, 1558607310); /* Exim's own stamp, 2019-05-23 10:28:30 */
	assert_text(l.body, "Completed");
}
END_TEST

START_TEST(test_syslog_without_inner_timestamp)
{
	/* syslog_timestamp = false: the syslog time stands; it has no year,
	 * so the current one is assumed. */
	use_time_zone("UTC");
	time_t now = time(NULL);
	struct tm tm;
	ck_assert_ptr_nonnull(gmtime_r(&now, &tm));
	struct log_line l = lex("May 23 10:28:30 mx01 exim[27789]: 1hTohn-0007EB-Nq Completed");
	assert_kind(l, LK_COMPLETED);
	assert_text(l.message_id, "1hTohn-0007EB-Nq");
	ck_assert_int_eq(l.pid, 27789);
	ck_assert(l.from_syslog);
	ck_assert_int_eq(l.epoch, utc_epoch(tm.tm_year + 1900, 5, 23, 10, 28, 30));

	/* a single-digit day is space-padded in syslog */
	l = lex("Jan  5 08:00:01 mx01 exim[12]: 1hTohn-0007EB-Nq => a@b.example R=r T=t");
	assert_kind(l, LK_DELIVERY);
	ck_assert_int_eq(l.epoch, utc_epoch(tm.tm_year + 1900, 1, 5, 8, 0, 1));
	assert_text(l.address, "a@b.example");
}
END_TEST

START_TEST(test_syslog_split_marker)
{
	use_time_zone("UTC");
	struct log_line l = lex("May 23 10:28:30 mx01 exim[27789]: [1/2] 2019-05-23 10:28:30 1hTohn-0007EB-Nq "
	                        "<= a@b.example H=mx.b.example [192.0.2.7] P=esmtp S=1234");
	assert_kind(l, LK_ARRIVAL);
	assert_text(l.message_id, "1hTohn-0007EB-Nq");
	ck_assert_int_eq(l.pid, 27789);
	ck_assert_int_eq(l.epoch, 1558607310);
	assert_text(l.address, "a@b.example");
	assert_field(l, FIELD_S, "1234");
	/* "[n\m]" marks a split at a newline */
	l = lex("May 23 10:28:30 mx01 exim[27789]: [1\\2] 2019-05-23 10:28:30 1hTohn-0007EB-Nq Completed");
	assert_kind(l, LK_COMPLETED);
	assert_text(l.message_id, "1hTohn-0007EB-Nq");
}
END_TEST

START_TEST(test_syslog_split_piece_continues)
{
	/*
	 * SPEC-DOUBT: the second piece of a split entry carries the syslog
	 * stamp but no Exim timestamp and no ID; section 22 item 11 says the
	 * pieces must be re-joined, and the lexer's way to say "belongs to the
	 * entry before" is LK_CONTINUATION. This expects that; the lexer may
	 * instead leave joining to a later stage.
	 */
	use_time_zone("UTC");
	struct lexer *lexer = lexer_new();
	struct log_line l = lex_with(lexer, "May 23 10:28:30 mx01 exim[27789]: [1/2] 2019-05-23 10:28:30 "
	                                    "1hTohn-0007EB-Nq <= a@b.example H=mx.b.example [192.0.2.7] P=esmtp S=1234");
	assert_kind(l, LK_ARRIVAL);
	l = lex_with(lexer, "May 23 10:28:30 mx01 exim[27789]: [2/2]  for c@d.example");
	assert_kind(l, LK_CONTINUATION);
	ck_assert_int_eq(l.continues, LK_ARRIVAL);
	assert_text(l.message_id, "1hTohn-0007EB-Nq");
	lexer_free(lexer);
}
END_TEST

START_TEST(test_journald_prefix)
{
	/* The wrapper's zone and the host's zone agree here (+0100 in
	 * January), so the inner zone-less stamp gives the same instant. */
	use_time_zone("CET-1CEST,M3.5.0,M10.5.0/3");
	struct log_line l = lex("2024-01-05T10:00:00+01:00 host exim[12]: 2024-01-05 10:00:00 "
	                        "1hTohn-0007EB-Nq Completed");
	assert_kind(l, LK_COMPLETED);
	assert_text(l.message_id, "1hTohn-0007EB-Nq");
	ck_assert_int_eq(l.pid, 12);
	ck_assert(l.from_syslog);
	ck_assert_int_eq(l.epoch, 1704445200); /* 09:00:00 UTC */
}
END_TEST

START_TEST(test_journald_without_inner_timestamp)
{
	use_time_zone("UTC");
	struct log_line l = lex("2024-01-05T10:00:00+01:00 host exim[12]: 1hTohn-0007EB-Nq Completed");
	assert_kind(l, LK_COMPLETED);
	ck_assert(l.from_syslog);
	ck_assert_int_eq(l.pid, 12);
	ck_assert(l.has_zone);
	ck_assert_int_eq(l.zone_offset_minutes, 60);
	ck_assert_int_eq(l.epoch, 1704445200);
	l = lex("2024-01-05T10:00:00.123456Z host exim[12]: 1hTohn-0007EB-Nq Completed");
	ck_assert(l.has_zone);
	ck_assert_int_eq(l.zone_offset_minutes, 0);
	ck_assert_int_eq(l.epoch, 1704448800);
}
END_TEST

START_TEST(test_journald_zone_applies_to_inner_timestamp)
{
	/*
	 * SPEC-DOUBT: the reader's zone (UTC) differs from the host's, and the
	 * journald wrapper says the host was at +01:00. lexer.h says a
	 * zone-less stamp is "the host's local zone at that time (as Exim
	 * wrote it)"; the wrapper tells us that zone, so 10:00:00 is 09:00:00
	 * UTC. If the reader's zone is meant instead, this should be 10:00.
	 */
	use_time_zone("UTC");
	struct log_line l = lex("2024-01-05T10:00:00+01:00 host exim[12]: 2024-01-05 10:00:00 "
	                        "1hTohn-0007EB-Nq Completed");
	assert_kind(l, LK_COMPLETED);
	ck_assert_int_eq(l.epoch, 1704445200);
}
END_TEST

/* ---- quoting and multi-line replies (section 4) ---- */

START_TEST(test_quoted_subject_with_escaped_quote)
{
	struct log_line l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= CALLER@myhost.test.ex U=CALLER "
	                        "P=local S=sss T=\"say \\\"hi\\\"\" for userx@test.ex");
	assert_kind(l, LK_ARRIVAL);
	assert_field(l, FIELD_T, "say \\\"hi\\\"");
	assert_field(l, FIELD_FOR, "userx@test.ex");
	struct strbuf decoded = STRBUF_INIT;
	fields_unquote(fields_get(&l.fields, FIELD_T), &decoded);
	assert_text(strbuf_text(&decoded), "say \"hi\"");
	strbuf_release(&decoded);

	/* tags and "for" inside the quotes are part of the subject */
	l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= a@b.example U=CALLER P=local S=sss "
	        "T=\"Re: for R=you S=9\" for userx@test.ex");
	assert_field(l, FIELD_T, "Re: for R=you S=9");
	assert_field(l, FIELD_S, "sss");
	assert_no_field(l, FIELD_R);
	assert_field(l, FIELD_FOR, "userx@test.ex");
}
END_TEST

START_TEST(test_confirmation_with_multi_line_reply)
{
	/* test/log/0215: a newline inside C= is written as two backslashes and n */
	struct log_line l = lex("1999-03-02 09:44:33 10HmbC-000000005vi-0000 => useryx@myhost.test.ex "
	                        "F=<CALLER@myhost.test.ex> R=smartuser T=lmtp H=127.0.0.1 [127.0.0.1] "
	                        "C=\"250-This one's OK\\\\n250 OK\"");
	assert_kind(l, LK_DELIVERY);
	assert_text(l.address, "useryx@myhost.test.ex");
	assert_field(l, FIELD_F, "<CALLER@myhost.test.ex>");
	assert_field(l, FIELD_H, "127.0.0.1 [127.0.0.1]");
	struct text reply = fields_get(&l.fields, FIELD_C);
	assert_text(reply, "250-This one's OK\\\\n250 OK");
	size_t pos = 0;
	struct text part;
	ck_assert(fields_next_reply_line(reply, &pos, &part));
	assert_text(part, "250-This one's OK");
	ck_assert(fields_next_reply_line(reply, &pos, &part));
	assert_text(part, "250 OK");
	ck_assert(!fields_next_reply_line(reply, &pos, &part));
}
END_TEST

START_TEST(test_deferral_with_multi_line_reply)
{
	/* test/log/0215 */
	struct log_line l = lex("1999-03-02 09:44:33 10HmbA-000000005vi-0000 == useryx@myhost.test.ex "
	                        "R=smartuser T=lmtp defer (0) H=127.0.0.1 [127.0.0.1]: LMTP error after DATA: "
	                        "440-Here's a whole long message, in several lines,\\n440-just for testing "
	                        "that nothing breaks when\\n440-we do this\\n440 Temporary error");
	assert_kind(l, LK_DEFERRED);
	ck_assert_int_eq(l.flag, FLAG_DEFERRED);
	assert_text(l.address, "useryx@myhost.test.ex");
	assert_field(l, FIELD_R, "smartuser");
	assert_field(l, FIELD_T, "lmtp");
	assert_field(l, FIELD_DEFER, "0");
	assert_field(l, FIELD_H, "127.0.0.1 [127.0.0.1]");
	assert_text(l.strerror_text, ""); /* errno 0: no strerror */
	assert_text(l.message, "LMTP error after DATA: 440-Here's a whole long message, in several lines,"
	                       "\\n440-just for testing that nothing breaks when\\n440-we do this"
	                       "\\n440 Temporary error");
	static const char *const parts[] = {
		"LMTP error after DATA: 440-Here's a whole long message, in several lines,",
		"440-just for testing that nothing breaks when",
		"440-we do this",
		"440 Temporary error",
	};
	size_t pos = 0;
	struct text part;
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		ck_assert_msg(fields_next_reply_line(l.message, &pos, &part), "reply line %zu missing", i);
		assert_text(part, parts[i]);
	}
	ck_assert(!fields_next_reply_line(l.message, &pos, &part));
}
END_TEST

/* ---- continuation lines (section 4) ---- */

START_TEST(test_continuation_lines)
{
	/* test/rejectlog/0021: the header dump continues the rejection */
	struct lexer *lexer = lexer_new();
	struct log_line l = lex_with(lexer, "1999-03-02 09:44:33 10HmaY-000000005vi-0000 F=<userx@test1> "
	                                    "rejected by non-SMTP ACL: don't like sender userx@test1");
	enum line_kind entry_kind = l.kind;
	ck_assert_int_ne(entry_kind, LK_CONTINUATION);
	ck_assert_int_ne(entry_kind, LK_UNKNOWN);

	l = lex_with(lexer, "Envelope-from: <userx@test1>");
	assert_kind(l, LK_CONTINUATION);
	ck_assert_int_eq(l.continues, entry_kind);
	assert_text(l.message_id, "10HmaY-000000005vi-0000");
	assert_text(l.body, "Envelope-from: <userx@test1>");

	/* a second one still belongs to the same entry */
	l = lex_with(lexer, "\tid 10HmaY-000000005vi-0000");
	assert_kind(l, LK_CONTINUATION);
	ck_assert_int_eq(l.continues, entry_kind);
	assert_text(l.message_id, "10HmaY-000000005vi-0000");

	/* the next entry has no ID: its continuations have none either */
	l = lex_with(lexer, "1999-03-02 09:44:33 Exim configuration error in line 12 of TESTSUITE/test-config:");
	assert_kind(l, LK_CONFIG_ERROR);
	l = lex_with(lexer, "  missing quote at end of string value for hold_domains"); /* test/paniclog/0148 */
	assert_kind(l, LK_CONTINUATION);
	ck_assert_int_eq(l.continues, LK_CONFIG_ERROR);
	assert_text(l.message_id, "");

	/* test/log/2011 */
	l = lex_with(lexer, "1999-03-02 09:44:33 Warning: No server certificate defined; will use a selfsigned one.");
	assert_kind(l, LK_WARNING);
	l = lex_with(lexer, " Suggested action: either install a certificate or change tls_advertise_hosts option");
	assert_kind(l, LK_CONTINUATION);
	ck_assert_int_eq(l.continues, LK_WARNING);

	/* a new file: nothing to continue */
	lexer_reset(lexer);
	l = lex_with(lexer, "Envelope-to: <userx@test.ex>");
	assert_kind(l, LK_CONTINUATION);
	ck_assert_int_eq(l.continues, LK_UNKNOWN);
	assert_text(l.message_id, "");
	lexer_free(lexer);
}
END_TEST

START_TEST(test_blank_line)
{
	struct log_line l = lex("");
	assert_kind(l, LK_BLANK);
	ck_assert_int_eq(l.flag, FLAG_NONE);
	assert_text(l.message_id, "");
	assert_text(l.body, "");
	assert_text(l.message, "");
}
END_TEST

/* ---- T= (section 22 item 3) ---- */

START_TEST(test_t_means_subject_only_on_arrivals)
{
	struct log_line l = lex("2010-09-13 05:00:13 1Ov4tU-0000Nz-Rm <= a@b.example H=[192.0.2.1] P=smtp "
	                        "S=100 T=\"remote_smtp\"");
	ck_assert(l.fields.t_is_subject);
	assert_field(l, FIELD_T, "remote_smtp");

	l = lex("1999-03-02 09:44:33 10HmaY-000000005vi-0000 => CALLER <CALLER@myhost.test.ex> R=r0 T=t1");
	ck_assert(!l.fields.t_is_subject);
	assert_field(l, FIELD_T, "t1");

	l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == d@test.ex R=smart T=local_delivery "
	        "defer (-53): Retry time not yet reached");
	ck_assert(!l.fields.t_is_subject);
	assert_field(l, FIELD_T, "local_delivery");

	l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** /dev/null <file@test.ex> R=alias "
	        "T=appendfile : delivery to file forbidden");
	ck_assert(!l.fields.t_is_subject);
	assert_field(l, FIELD_T, "appendfile");
}
END_TEST

/* ---- ** lines (section 9) ---- */

START_TEST(test_failure_new_separator)
{
	/* 4.99+: " : " before the message (test/log/0217) */
	struct log_line l = lex("1999-03-02 09:44:33 10HmbL-000000005vi-0000 ** n13@test.ex R=client "
	                        "T=send_to_server H=127.0.0.1 [127.0.0.1] : SMTP error from remote mail "
	                        "server after RCPT TO:<n13@test.ex>: 550 NO");
	assert_kind(l, LK_FAILED);
	ck_assert_int_eq(l.flag, FLAG_FAILED);
	assert_text(l.address, "n13@test.ex");
	assert_field(l, FIELD_R, "client");
	assert_field(l, FIELD_T, "send_to_server");
	assert_field(l, FIELD_H, "127.0.0.1 [127.0.0.1]");
	assert_text(l.message, "SMTP error from remote mail server after RCPT TO:<n13@test.ex>: 550 NO");

	/* routing failure without R= */
	l = lex("1999-03-02 09:44:33 10HmaY-000000005vi-0000 ** userx@bad.ex : Unrouteable address");
	assert_kind(l, LK_FAILED);
	assert_text(l.address, "userx@bad.ex");
	assert_text(l.message, "Unrouteable address");
	assert_no_field(l, FIELD_R);
}
END_TEST

START_TEST(test_failure_old_separator)
{
	/* 4.86-4.98: ": " right after the host */
	struct log_line l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** userx@test.ex R=r1 T=t1 "
	                        "H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after "
	                        "RCPT TO:<userx@test.ex>: 550 NO");
	assert_kind(l, LK_FAILED);
	assert_text(l.address, "userx@test.ex");
	assert_field(l, FIELD_H, "127.0.0.1 [127.0.0.1]");
	assert_field(l, FIELD_T, "t1");
	assert_text(l.message, "SMTP error from remote mail server after RCPT TO:<userx@test.ex>: 550 NO");

	/* spec, old wording: address with parent, then ": " */
	l = lex("2002-07-11 07:14:17 17SXDU-000189-00 ** jim@trek99.example <jim@trek99.example>: "
	        "unknown mail domain");
	assert_kind(l, LK_FAILED);
	assert_text(l.address, "jim@trek99.example <jim@trek99.example>");
	assert_text(l.message, "unknown mail domain");
}
END_TEST

START_TEST(test_failure_pre_486_transport_colon)
{
	/* spec, section 9: the message follows "T=remote_smtp:" directly */
	struct log_line l = lex("2002-07-11 07:14:17 17SXDU-000189-00 ** ace400@pb.example R=dnslookup "
	                        "T=remote_smtp: SMTP error from remote mailer after pipelined RCPT "
	                        "TO:<ace400@pb.example>: host pbmail3.py.example [192.168.63.111]: 553 5.3.0 "
	                        "<ace400@pb.example>...Addressee unknown");
	assert_kind(l, LK_FAILED);
	assert_text(l.message_id, "17SXDU-000189-00");
	assert_text(l.address, "ace400@pb.example");
	assert_field(l, FIELD_R, "dnslookup");
	assert_field(l, FIELD_T, "remote_smtp");
	assert_no_field(l, FIELD_H);
	assert_text(l.message, "SMTP error from remote mailer after pipelined RCPT TO:<ace400@pb.example>: "
	                       "host pbmail3.py.example [192.168.63.111]: 553 5.3.0 "
	                       "<ace400@pb.example>...Addressee unknown");
}
END_TEST

START_TEST(test_failure_retry_timeout)
{
	/* test/log/0135: always ": ", no R= or T= */
	struct log_line l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** b@known.ex: retry timeout exceeded");
	assert_kind(l, LK_FAILED);
	assert_text(l.address, "b@known.ex");
	assert_text(l.message, "retry timeout exceeded");
	assert_no_field(l, FIELD_R);
	assert_no_field(l, FIELD_T);
}
END_TEST

START_TEST(test_failure_deliver_time_after_message)
{
	/* section 9: on ** lines DT= comes after the message */
	struct log_line l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** userx@bad.ex R=r1 T=t1 : "
	                        "delivery to file forbidden DT=1s");
	assert_kind(l, LK_FAILED);
	assert_text(l.message, "delivery to file forbidden");
	assert_field(l, FIELD_DT, "1s");
}
END_TEST

START_TEST(test_failure_address_with_spaces_and_braces)
{
	/* test/log/4154: a pipe address with quoted expansions, parent in <> */
	struct log_line l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** |TESTSUITE/aux-fixed/showenv "
	                        "\"${if match_address {$thisaddress}{alice@test.ex}{$value}}\" "
	                        "\"${if inlist {$1}{alice} {$value}}\" <system-filter> T=t1 : return message generated");
	assert_kind(l, LK_FAILED);
	assert_text(l.address, "|TESTSUITE/aux-fixed/showenv \"${if match_address {$thisaddress}"
	                       "{alice@test.ex}{$value}}\" \"${if inlist {$1}{alice} {$value}}\" <system-filter>");
	assert_field(l, FIELD_T, "t1");
	assert_text(l.message, "return message generated");
}
END_TEST

/* ---- == lines (section 8) ---- */

START_TEST(test_deferral_with_strerror_and_host)
{
	/* test/log/0106 */
	struct log_line l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@domain1.com R=all T=smtp "
	                        "defer (dd): Connection timed out H=127.0.0.1 [127.0.0.1]: SMTP timeout after "
	                        "EHLO myhost.test.ex");
	assert_kind(l, LK_DEFERRED);
	assert_text(l.address, "userx@domain1.com");
	assert_field(l, FIELD_DEFER, "dd");
	assert_text(l.strerror_text, "Connection timed out");
	assert_field(l, FIELD_H, "127.0.0.1 [127.0.0.1]");
	assert_text(l.message, "SMTP timeout after EHLO myhost.test.ex");

	/* spec: strerror with no host after it */
	l = lex("2002-12-19 16:20:23 16aiQz-0002Q5-00 == marvin@endrest.example R=dnslookup T=smtp "
	        "defer (146): Connection refused");
	assert_kind(l, LK_DEFERRED);
	assert_field(l, FIELD_DEFER, "146");
	assert_text(l.strerror_text, "Connection refused");
	assert_no_field(l, FIELD_H);
	ck_assert_int_eq(l.epoch, 1040314823);
}
END_TEST

START_TEST(test_deferral_negative_errno_has_no_strerror)
{
	/* test/log/0160 */
	struct log_line l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@domain.com R=all T=smtp "
	                        "defer (-44) H=127.0.0.1 [127.0.0.1]: SMTP error from remote mail server after "
	                        "RCPT TO:<userx@domain.com>: 452 Temporary error");
	assert_kind(l, LK_DEFERRED);
	assert_field(l, FIELD_DEFER, "-44");
	assert_text(l.strerror_text, "");
	assert_field(l, FIELD_H, "127.0.0.1 [127.0.0.1]");
	assert_text(l.message, "SMTP error from remote mail server after RCPT TO:<userx@domain.com>: "
	                       "452 Temporary error");

	/* test/log/0332: router defer, no transport */
	l = lex("1999-03-02 09:44:33 10HmaY-000000005vi-0000 == delay@test.again.dns R=r2 defer (-1): "
	        "host lookup did not complete");
	assert_kind(l, LK_DEFERRED);
	assert_field(l, FIELD_R, "r2");
	assert_no_field(l, FIELD_T);
	assert_text(l.message, "host lookup did not complete");
}
END_TEST

/* ---- special delivery addresses (section 7) ---- */

START_TEST(test_blackhole_delivery)
{
	struct log_line l = lex("2002-10-31 09:00:10 16ZCW1-0005MB-00 => :blackhole: <hole@nowhere.example> "
	                        "R=blackhole_router");
	assert_kind(l, LK_DELIVERY);
	assert_text(l.address, ":blackhole: <hole@nowhere.example>");
	assert_field(l, FIELD_R, "blackhole_router");
	assert_no_field(l, FIELD_T);
}
END_TEST

START_TEST(test_pipe_delivery_address_with_spaces)
{
	/* test/log corpus (pipe to a shell command) */
	struct log_line l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 => |/bin/sh -c "
	                        "\"cat >TESTSUITE/test-mail/pipe\" <pipe@test.ex> R=alias T=pipe");
	assert_kind(l, LK_DELIVERY);
	assert_text(l.address, "|/bin/sh -c \"cat >TESTSUITE/test-mail/pipe\" <pipe@test.ex>");
	assert_field(l, FIELD_R, "alias");
	assert_field(l, FIELD_T, "pipe");
}
END_TEST

START_TEST(test_dev_null_bypassed)
{
	struct log_line l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 => /dev/null "
	                        "<devnull@myhost.test.ex> R=d1 T=**bypassed**");
	assert_kind(l, LK_DELIVERY);
	assert_text(l.address, "/dev/null <devnull@myhost.test.ex>");
	assert_field(l, FIELD_R, "d1");
	assert_field(l, FIELD_T, "**bypassed**");
	/* with the parent in parentheses */
	l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 => /dev/null (faq@nl.demon.net) "
	        "<faq@nl.demon.net> R=algemeen_aliases T=**bypassed**");
	assert_text(l.address, "/dev/null (faq@nl.demon.net) <faq@nl.demon.net>");
	assert_field(l, FIELD_R, "algemeen_aliases");
}
END_TEST

START_TEST(test_delivery_remote_fields)
{
	struct log_line l = lex("1999-03-02 09:44:33 10HmaZ-000000005vi-0000 => withlogging@l-sec.test.ex "
	                        "R=client T=send_to_server H=l-sec.test.ex DS [127.0.0.1] "
	                        "C=\"250 OK id=10HmbA-000000005vi-0000\""); /* test/log/4804 */
	assert_kind(l, LK_DELIVERY);
	assert_field(l, FIELD_H, "l-sec.test.ex DS [127.0.0.1]");
	assert_field(l, FIELD_C, "250 OK id=10HmbA-000000005vi-0000");
	l = lex("2017-07-30 18:51:05.712 10HmaX-000000005vi-0000 => CALLER@test.ex R=client T=send_to_server1 "
	        "H=127.0.0.1 [127.0.0.1] PS=se X=TLS1.x:ke-RSA-AES256-SHAnnn:xxx CV=yes "
	        "C=\"250 OK id=10HmaZ-000000005vi-0000\""); /* test/log/1160 */
	assert_field(l, FIELD_PS, "se");
	assert_field(l, FIELD_X, "TLS1.x:ke-RSA-AES256-SHAnnn:xxx");
	assert_field(l, FIELD_CV, "yes");
	assert_field(l, FIELD_H, "127.0.0.1 [127.0.0.1]");
}
END_TEST

/* ---- retry time not reached (section 18) ---- */

START_TEST(test_retry_not_reached_both_numberings)
{
	/* 4.95+: -54 is "no host's retry time reached" (test/log/0099) */
	struct log_line l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@simple R=all T=smtp "
	                        "defer (-54): retry time not reached for any host for 'simple'");
	assert_kind(l, LK_RETRY_NOT_REACHED);
	ck_assert_int_eq(l.flag, FLAG_DEFERRED);
	assert_field(l, FIELD_DEFER, "-54");
	assert_text(l.message, "retry time not reached for any host for 'simple'");

	/* before 4.95 the same thing was -53 (test/log/9001) */
	l = lex("1999-03-02 09:44:33 10HmaZ-0005vi-00 == userx@mx46cd.test.ex R=lookuphost T=smtp "
	        "defer (-53): retry time not reached for any host");
	assert_kind(l, LK_RETRY_NOT_REACHED);
	assert_text(l.message_id, "10HmaZ-0005vi-00");
	assert_field(l, FIELD_DEFER, "-53");

	/* 4.95+ -53 is the local-delivery variant (test/log/0135) */
	l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == d@test.ex R=smart T=local_delivery "
	        "defer (-53): Retry time not yet reached");
	assert_kind(l, LK_RETRY_NOT_REACHED);

	/* routing defers, new -52 and old -51 (test/log/0195, 9901) */
	l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@myhost.test.ex routing defer (-52): "
	        "retry time not reached");
	assert_kind(l, LK_RETRY_NOT_REACHED);
	assert_text(l.address, "userx@myhost.test.ex");
	l = lex("1999-03-02 09:44:33 10HmaY-0005vi-00 == delay@2.test.again.dns routing defer (-51): "
	        "retry time not reached");
	assert_kind(l, LK_RETRY_NOT_REACHED);
	assert_text(l.address, "delay@2.test.again.dns");

	/* keyed on the text, not the number: -54 with a real failure */
	l = lex("1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@test.ex R=all T=smtp defer (-54): "
	        "connection limit reached for all hosts");
	assert_kind(l, LK_DEFERRED);
}
END_TEST

/* ---- hostile bytes ---- */

START_TEST(test_hostile_bytes_stay_inside_the_line)
{
	/* NULs, invalid UTF-8 and an escape sequence inside an arrival */
	static const char arrival[] = "1999-03-02 09:44:33 10HmaX-000000005vi-0000 <= a\0b@x\xff\xfe.example "
	                              "H=(\x1b[31m) [127.0.0.1] P=smtp S=12 T=\"\xc3\x28\0\"";
	size_t n = sizeof arrival - 1;
	struct log_line l = lex_bytes(arrival, n);
	assert_kind(l, LK_ARRIVAL);
	assert_text(l.message_id, "10HmaX-000000005vi-0000");
	ck_assert_uint_eq(l.address.len, 15); /* "a\0b@x\xff\xfe.example" */
	ck_assert(memcmp(l.address.ptr, "a\0b@x\xff\xfe.example", 15) == 0);
	assert_field(l, FIELD_S, "12");
	assert_views_inside(&l, arrival, n);

	/* a timestamp followed by garbage: an unknown line, not a crash */
	static const char garbage[] = "1999-03-02 09:44:33 \x1b]0;owned\x07\0\xff\xff H=\0 ** ==";
	n = sizeof garbage - 1;
	l = lex_bytes(garbage, n);
	assert_kind(l, LK_UNKNOWN);
	assert_views_inside(&l, garbage, n);

	/* no timestamp at all: it continues whatever came before */
	static const char no_stamp[] = "\0\0\xff\x1b[2J";
	n = sizeof no_stamp - 1;
	l = lex_bytes(no_stamp, n);
	assert_kind(l, LK_CONTINUATION);
	assert_views_inside(&l, no_stamp, n);
}
END_TEST

/*
 * Every prefix of some tricky lines, each lexed from a heap buffer of
 * exactly its length: under AddressSanitizer any read past the end of the
 * line fails here, and the views must stay inside in the plain build too.
 */
static const char *const prefix_lines[] = {
	"May 23 10:28:30 mx01 exim[27789]: [1/2] 2019-05-23 10:28:30 1hTohn-0007EB-Nq Completed",
	"2024-01-05T10:00:00.5+01:00 host exim[12]: 2024-01-05 10:00:00 1hTohn-0007EB-Nq Completed",
	"2017-07-30 18:51:05.712 +0100 [123] 10HmaZ-000000005vi-0000 <= CALLER@myhost.test.ex U=CALLER "
	"P=local S=sss T=\"say \\\"hi\\\"\" from <x@y> for a@b c@d",
	"1999-03-02 09:44:33 10HmbA-000000005vi-0000 => useryx@myhost.test.ex F=<CALLER@myhost.test.ex> "
	"R=smartuser T=lmtp H=a.example DS (helo) [127.0.0.1]:25* ST=t3 (failed) C=\"250-OK\\\\n250 OK\"",
	"1999-03-02 09:44:33 10HmaX-000000005vi-0000 == userx@domain1.com R=all T=smtp defer (dd): "
	"Connection timed out H=127.0.0.1 [127.0.0.1]: SMTP timeout after EHLO myhost.test.ex",
	"1999-03-02 09:44:33 10HmaX-000000005vi-0000 ** |/bin/sh -c \"x\" <p@t.ex> R=a T=p : boom DT=1s",
	"1999-03-02 09:44:33 H=(test) [10.0.0.2] U=CALLER F=<j@b.example> rejected RCPT <u@t.ex>: no",
	"1999-03-02 09:44:33 10HmaX-000000005vi-0000 H=127.0.0.1 [127.0.0.1]:10001: TLS required",
};

START_TEST(test_every_prefix_is_safe)
{
	const char *full = prefix_lines[_i];
	size_t total = strlen(full);
	struct lexer *lexer = lexer_new();
	for (size_t n = 0; n <= total; n++) {
		char *copy = malloc(n ? n : 1);
		ck_assert_ptr_nonnull(copy);
		memcpy(copy, full, n);
		struct log_line out;
		lexer_parse(lexer, copy, n, &out);
		ck_assert_msg((unsigned)out.kind < LINE_KIND_COUNT, "bad kind at length %zu", n);
		assert_views_inside(&out, copy, n);
		free(copy);
	}
	lexer_free(lexer);
}
END_TEST

START_TEST(test_leading_time)
{
	use_time_zone("UTC");
	struct lexer *lexer = lexer_new();
	int64_t epoch = 0;
	static const char plain[] = "2003-04-25 11:17:07 +0100 16ZCW1-0005MB-00 Completed";
	ck_assert(lexer_leading_time(lexer, plain, sizeof plain - 1, &epoch));
	ck_assert_int_eq(epoch, 1051265827);
	static const char wrapped[] = "May 23 10:28:30 mx01 exim[27789]: 2019-05-23 10:28:30 1hTohn-0007EB-Nq Completed";
	ck_assert(lexer_leading_time(lexer, wrapped, sizeof wrapped - 1, &epoch));
	ck_assert_int_eq(epoch, 1558607310);
	static const char none[] = "Envelope-from: <userx@test1>";
	ck_assert(!lexer_leading_time(lexer, none, sizeof none - 1, &epoch));
	lexer_free(lexer);
}
END_TEST

/* ---- in two parts, for two threads (linepipe.h) ---- */

/* The first part knows each example's kind and leaves the rest of every
 * flag line but == (whose kind is in its message); with the rest lexed,
 * the line is as lexed at once, and lexing the rest again changes
 * nothing. */
START_TEST(test_kind_of_real_line_in_two_parts)
{
	const struct kind_case *c = &kind_cases[_i];
	size_t length = strlen(c->line);
	struct lexer *at_once = lexer_new(), *in_parts = lexer_new();
	struct log_line whole, parts;
	lexer_parse(at_once, c->line, length, &whole);
	lexer_parse_leaving_rest(in_parts, c->line, length, &parts);
	assert_kind(parts, c->kind);
	bool left = parts.flag != FLAG_NONE && parts.flag != FLAG_DEFERRED;
	ck_assert_msg(parts.rest_unlexed == left, "%s: %s", c->source, c->line);
	if (left) {
		assert_text(parts.address, "");
		assert_text(parts.message, "");
		ck_assert_uint_eq(parts.fields.present, 0);
	}
	for (int twice = 0; twice < 2; twice++) {
		lexer_parse_rest(&parts);
		ck_assert(!parts.rest_unlexed);
		assert_same_lexing(&parts, &whole, (size_t)_i);
	}
	lexer_free(at_once);
	lexer_free(in_parts);
}
END_TEST

/* Every line of the fixtures, lexed in two parts with each rest lexed
 * only after the next line's first part (as the other thread may): the
 * same lines, continuations and all, as lexed at once. */
START_TEST(test_fixtures_in_two_parts)
{
	glob_t files = { 0 };
	const char *const globs[] = { "fixtures/*/*.log", "fixtures/sample/exim_mainlog" };
	for (size_t g = 0; g < sizeof globs / sizeof *globs; g++) {
		char *pattern = srcdir_path(globs[g]);
		ck_assert_int_eq(glob(pattern, g ? GLOB_APPEND : 0, NULL, &files), 0);
		free(pattern);
	}
	size_t left = 0, lines = 0;
	for (size_t f = 0; f < files.gl_pathc; f++) {
		size_t size;
		char *text = read_file(files.gl_pathv[f], &size);
		ck_assert_ptr_nonnull(text);
		struct lexer *at_once = lexer_new(), *in_parts = lexer_new();
		struct log_line whole[2], parts[2];
		size_t n = 0;
		for (char *line = text, *end; line < text + size; line = end + 1, n++) {
			end = memchr(line, '\n', (size_t)(text + size - line));
			if (end == NULL)
				end = text + size;
			size_t length = (size_t)(end - line);
			lexer_parse(at_once, line, length, &whole[n % 2]);
			lexer_parse_leaving_rest(in_parts, line, length, &parts[n % 2]);
			left += parts[n % 2].rest_unlexed;
			if (n > 0) {
				lexer_parse_rest(&parts[(n - 1) % 2]);
				assert_same_lexing(&parts[(n - 1) % 2], &whole[(n - 1) % 2], lines + n);
			}
		}
		if (n > 0) {
			lexer_parse_rest(&parts[(n - 1) % 2]);
			assert_same_lexing(&parts[(n - 1) % 2], &whole[(n - 1) % 2], lines + n);
		}
		lines += n;
		lexer_free(at_once);
		lexer_free(in_parts);
		free(text);
	}
	ck_assert_uint_gt(lines, 300);
	ck_assert_uint_gt(left, 200);
	globfree(&files);
}
END_TEST

Suite *lexer_suite(void)
{
	Suite *s = suite_create("lexer");

	TCase *kinds = tcase_create("kinds");
	tcase_add_loop_test(kinds, test_kind_of_real_line, 0, KIND_CASE_COUNT);
	tcase_add_test(kinds, test_every_kind_has_an_example);
	tcase_add_test(kinds, test_kind_names_round_trip);
	tcase_add_test(kinds, test_every_byte_of_a_phrase_counts);
	suite_add_tcase(s, kinds);

	TCase *prefix = tcase_create("prefix");
	tcase_add_test(prefix, test_arrival_with_old_id_and_pid);
	tcase_add_test(prefix, test_arrival_with_new_id);
	tcase_add_test(prefix, test_created_message_id_and_bounce_reference);
	tcase_add_test(prefix, test_near_id_is_not_an_id);
	tcase_add_test(prefix, test_message_id_every_byte);
	tcase_add_test(prefix, test_pid_before_id);
	tcase_add_test(prefix, test_milliseconds);
	tcase_add_test(prefix, test_zone_east);
	tcase_add_test(prefix, test_zone_west);
	tcase_add_test(prefix, test_zoneless_time_is_local_utc);
	tcase_add_test(prefix, test_zoneless_time_is_local_with_dst);
	tcase_add_test(prefix, test_leading_time);
	suite_add_tcase(s, prefix);

	TCase *wrappers = tcase_create("syslog");
	tcase_add_test(wrappers, test_syslog_prefix);
	tcase_add_test(wrappers, test_syslog_without_inner_timestamp);
	tcase_add_test(wrappers, test_syslog_split_marker);
	tcase_add_test(wrappers, test_syslog_split_piece_continues);
	tcase_add_test(wrappers, test_journald_prefix);
	tcase_add_test(wrappers, test_journald_without_inner_timestamp);
	tcase_add_test(wrappers, test_journald_zone_applies_to_inner_timestamp);
	suite_add_tcase(s, wrappers);

	TCase *text = tcase_create("quoting");
	tcase_add_test(text, test_quoted_subject_with_escaped_quote);
	tcase_add_test(text, test_confirmation_with_multi_line_reply);
	tcase_add_test(text, test_deferral_with_multi_line_reply);
	tcase_add_test(text, test_continuation_lines);
	tcase_add_test(text, test_blank_line);
	tcase_add_test(text, test_t_means_subject_only_on_arrivals);
	suite_add_tcase(s, text);

	TCase *flags = tcase_create("flag lines");
	tcase_add_test(flags, test_failure_new_separator);
	tcase_add_test(flags, test_failure_old_separator);
	tcase_add_test(flags, test_failure_pre_486_transport_colon);
	tcase_add_test(flags, test_failure_retry_timeout);
	tcase_add_test(flags, test_failure_deliver_time_after_message);
	tcase_add_test(flags, test_failure_address_with_spaces_and_braces);
	tcase_add_test(flags, test_deferral_with_strerror_and_host);
	tcase_add_test(flags, test_deferral_negative_errno_has_no_strerror);
	tcase_add_test(flags, test_blackhole_delivery);
	tcase_add_test(flags, test_pipe_delivery_address_with_spaces);
	tcase_add_test(flags, test_dev_null_bypassed);
	tcase_add_test(flags, test_delivery_remote_fields);
	tcase_add_test(flags, test_retry_not_reached_both_numberings);
	suite_add_tcase(s, flags);

	TCase *parts = tcase_create("in two parts");
	tcase_add_loop_test(parts, test_kind_of_real_line_in_two_parts, 0, KIND_CASE_COUNT);
	tcase_add_test(parts, test_fixtures_in_two_parts);
	suite_add_tcase(s, parts);

	TCase *hostile = tcase_create("hostile input");
	tcase_add_test(hostile, test_hostile_bytes_stay_inside_the_line);
	tcase_add_loop_test(hostile, test_every_prefix_is_safe, 0,
	                    (int)(sizeof prefix_lines / sizeof *prefix_lines));
	suite_add_tcase(s, hostile);

	return s;
}
