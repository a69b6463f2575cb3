/*
 * rules tests: rule files written into a temporary directory are loaded,
 * and facts built by hand (or by explain.c from records and texts) are
 * matched against them: each condition, its classes and wildcards, first
 * match wins, user rules before and over shipped ones, load errors with
 * their line numbers, the match limit that stops a catastrophic pattern,
 * and rendering with fields, fallbacks and generic words.
 */
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "explain.h"
#include "rules.h"
#include "strbuf.h"
#include "suites.h"
#include "test_support.h"

/* ---- helpers ---- */

struct fixture {
	char *dir;
	struct rule_set *set;
	size_t errors;
};

/* Write text as NAME in a fresh directory and load it. */
static void load_text(struct fixture *f, const char *name, const char *text,
                      enum rule_origin origin)
{
	if (f->dir == NULL)
		f->dir = make_temp_dir();
	if (f->set == NULL)
		f->set = rules_new();
	char *path = path_in(f->dir, name);
	write_file(path, text, strlen(text));
	f->errors += rules_load(f->set, path, origin);
	free(path);
}

static void release(struct fixture *f)
{
	rules_free(f->set);
	remove_tree(f->dir);
	free(f->dir);
}

static struct rule_facts facts_for(enum rule_outcome outcome)
{
	struct rule_facts facts;
	memset(&facts, 0, sizeof facts);
	facts.outcome = outcome;
	facts.kind = LINE_KIND_COUNT;
	return facts;
}

static struct text t(const char *s)
{
	return text_make(s, strlen(s));
}

static const char *match_id(struct fixture *f, const struct rule_facts *facts)
{
	return rule_id(rules_match(f->set, facts));
}

#define RULE_OUTPUTS \
	"\treason undefined\n\towner unknown\n\texplanation x.\n\taction y.\n"

/* ---- conditions ---- */

START_TEST(test_code_classes_and_none)
{
	struct fixture f = { 0 };
	load_text(&f, "a.rules",
	          "rule t.exact\n\tcode 550\n" RULE_OUTPUTS
	          "rule t.tens\n\tcode 45x\n" RULE_OUTPUTS
	          "rule t.class\n\tcode 5xx\n" RULE_OUTPUTS
	          "rule t.none\n\tcode none\n" RULE_OUTPUTS
	          "rule t.rest\n" RULE_OUTPUTS, RULES_SHIPPED);
	ck_assert_uint_eq(f.errors, 0);
	struct rule_facts facts = facts_for(RULE_FAILED);
	facts.code = 550;
	ck_assert_str_eq(match_id(&f, &facts), "t.exact");
	facts.code = 451;
	ck_assert_str_eq(match_id(&f, &facts), "t.tens");
	facts.code = 554;
	ck_assert_str_eq(match_id(&f, &facts), "t.class");
	facts.code = 0;
	ck_assert_str_eq(match_id(&f, &facts), "t.none");
	facts.code = 421;
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	release(&f);
}
END_TEST

START_TEST(test_status_wildcards)
{
	struct fixture f = { 0 };
	load_text(&f, "a.rules",
	          "rule t.exact\n\tstatus 5.7.26\n" RULE_OUTPUTS
	          "rule t.subject\n\tstatus 5.7.* 4.7.*\n" RULE_OUTPUTS
	          "rule t.class\n\tstatus 5.*.*\n" RULE_OUTPUTS
	          "rule t.rest\n" RULE_OUTPUTS, RULES_SHIPPED);
	struct rule_facts facts = facts_for(RULE_FAILED);
	facts.status = t("5.7.26");
	ck_assert_str_eq(match_id(&f, &facts), "t.exact");
	facts.status = t("5.7.1");
	ck_assert_str_eq(match_id(&f, &facts), "t.subject");
	facts.status = t("4.7.0");
	ck_assert_str_eq(match_id(&f, &facts), "t.subject");
	facts.status = t("5.1.1");
	ck_assert_str_eq(match_id(&f, &facts), "t.class");
	/* not a status at all: only the unconditional rule */
	facts.status = t("5.1");
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	facts.status = t("");
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	release(&f);
}
END_TEST

START_TEST(test_names_hosts_domains_senders)
{
	struct fixture f = { 0 };
	load_text(&f, "a.rules",
	          "rule t.bypassed\n\ttransport **bypassed**\n" RULE_OUTPUTS
	          "rule t.router\n\trouter virtual_user_filter central_filter\n" RULE_OUTPUTS
	          "rule t.google\n\thost *.google.com\n" RULE_OUTPUTS
	          "rule t.ip\n\thost 203.0.113.*\n" RULE_OUTPUTS
	          "rule t.domain\n\tdomain yahoo.* aol.com\n" RULE_OUTPUTS
	          "rule t.bounce\n\tsender <>\n" RULE_OUTPUTS
	          "rule t.rest\n" RULE_OUTPUTS, RULES_SHIPPED);
	struct rule_facts facts = facts_for(RULE_DISCARDED);
	facts.transport = t("**bypassed**");
	ck_assert_str_eq(match_id(&f, &facts), "t.bypassed");
	/* names are exact: a glob character in the value is no wildcard */
	facts.transport = t("xbypassedx");
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	facts.transport = t("");
	facts.router = t("central_filter");
	ck_assert_str_eq(match_id(&f, &facts), "t.router");
	facts.router = t("Central_Filter");
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	facts = facts_for(RULE_FAILED);
	facts.host = t("Gmail-SMTP-in.l.GOOGLE.com");
	ck_assert_str_eq(match_id(&f, &facts), "t.google");
	facts.host = t("google.com.evil.example"); /* a suffix, not a substring */
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	facts.host = t("");
	facts.ip = t("203.0.113.45");
	ck_assert_str_eq(match_id(&f, &facts), "t.ip");
	facts.ip = t("");
	facts.domain = t("yahoo.co.uk");
	ck_assert_str_eq(match_id(&f, &facts), "t.domain");
	facts.domain = t("");
	facts.sender = t("<>");
	ck_assert_str_eq(match_id(&f, &facts), "t.bounce");
	release(&f);
}
END_TEST

/* Host globs of every shape (a name, "*" and a suffix, which are
 * compared directly, and any other, which the general matcher does)
 * against hosts, held to fnmatch(3) without flags but case folding. */
START_TEST(test_host_globs_agree_with_fnmatch)
{
	static const char *const globs[] = {
		"*.google.com", "*google.com", "mx.example", "*", "**", "*x", "a*b", "?.example",
		"*.ex?mple.com", "203.0.113.*", "*.", "MX.Example", "*.GOOGLE.com",
	};
	static const char *const hosts[] = {
		"gmail-smtp-in.l.google.com", "google.com", "GOOGLE.COM", "xgoogle.com",
		"mx.example", "MX.EXAMPLE", "mx.examplex", "a.example", "ab", "axxb", "x", "a",
		"203.0.113.45", ".google.com", "com", "mx.exbmple.com", "host.",
	};
	for (size_t g = 0; g < sizeof globs / sizeof *globs; g++) {
		struct fixture f = { 0 };
		char rules[256];
		snprintf(rules, sizeof rules, "rule t.hit\n\thost %s\n" RULE_OUTPUTS
		         "rule t.rest\n" RULE_OUTPUTS, globs[g]);
		load_text(&f, "a.rules", rules, RULES_SHIPPED);
		ck_assert_uint_eq(f.errors, 0);
		for (size_t h = 0; h < sizeof hosts / sizeof *hosts; h++) {
			struct rule_facts facts = facts_for(RULE_FAILED);
			facts.host = t(hosts[h]);
			bool want = fnmatch(globs[g], hosts[h], FNM_CASEFOLD) == 0;
			ck_assert_msg(strcmp(match_id(&f, &facts), want ? "t.hit" : "t.rest") == 0,
			              "host %s against %s: %s", globs[g], hosts[h], match_id(&f, &facts));
		}
		release(&f);
	}
}
END_TEST

START_TEST(test_outcome_kind_stage)
{
	struct fixture f = { 0 };
	load_text(&f, "a.rules",
	          "rule t.auth\n\toutcome event\n\tkind auth_failed\n" RULE_OUTPUTS
	          "rule t.rcpt\n\tstage rcpt\n\tcode 5xx\n" RULE_OUTPUTS
	          "rule t.eod\n\tstage end-of-data\n" RULE_OUTPUTS
	          "rule t.deferred\n\toutcome deferred frozen\n" RULE_OUTPUTS
	          "rule t.rest\n" RULE_OUTPUTS, RULES_SHIPPED);
	struct rule_facts facts = facts_for(RULE_EVENT);
	facts.kind = LK_AUTH_FAILED;
	ck_assert_str_eq(match_id(&f, &facts), "t.auth");
	facts = facts_for(RULE_FAILED);
	facts.kind = LK_AUTH_FAILED; /* not an event */
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	facts.stage = t("RCPT TO");
	facts.code = 550;
	ck_assert_str_eq(match_id(&f, &facts), "t.rcpt");
	facts.code = 451; /* every condition must hold */
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	facts.stage = t("end of data");
	ck_assert_str_eq(match_id(&f, &facts), "t.eod");
	facts = facts_for(RULE_FROZEN);
	ck_assert_str_eq(match_id(&f, &facts), "t.deferred");
	release(&f);
}
END_TEST

START_TEST(test_patterns_caseless_and_alternatives)
{
	struct fixture f = { 0 };
	load_text(&f, "a.rules",
	          "rule t.grey\n\ttext grey ?list\n\ttext try again later\n\tcode 4xx\n"
	          RULE_OUTPUTS
	          "rule t.exim\n\terror host lookup did not complete\n" RULE_OUTPUTS
	          "rule t.rest\n" RULE_OUTPUTS, RULES_SHIPPED);
	struct rule_facts facts = facts_for(RULE_DEFERRED);
	facts.code = 451;
	facts.text = t("451 4.7.1 <a@b>: Recipient address rejected: GreyListed");
	ck_assert_str_eq(match_id(&f, &facts), "t.grey");
	facts.text = t("451 Please TRY AGAIN LATER");
	ck_assert_str_eq(match_id(&f, &facts), "t.grey");
	facts.code = 550; /* the text alone is not enough */
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	/* error and text are different fields */
	facts = facts_for(RULE_DEFERRED);
	facts.text = t("host lookup did not complete");
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	facts.error = facts.text;
	ck_assert_str_eq(match_id(&f, &facts), "t.exim");
	/* bytes, not UTF-8: invalid sequences and NULs are just bytes */
	static const char odd[] = "\xff\xfe\0host lookup did not complete";
	facts.error = text_make(odd, sizeof odd - 1);
	ck_assert_str_eq(match_id(&f, &facts), "t.exim");
	release(&f);
}
END_TEST

/* A failure's error ends with the remote's reply, its text, and the
 * error's trigrams are worked out from the text's: a literal across the
 * join (">: 550") and one in the error's head alone must both be seen. */
START_TEST(test_error_literals_across_the_reply)
{
	struct fixture f = { 0 };
	load_text(&f, "a.rules",
	          "rule t.join\n\terror RCPT TO:<[^>]*>: 550 5\\.1\\.1\n" RULE_OUTPUTS
	          "rule t.head\n\terror SMTP error from remote mail server after MAIL\n" RULE_OUTPUTS
	          "rule t.rest\n" RULE_OUTPUTS, RULES_SHIPPED);
	static const char error[] = "SMTP error from remote mail server after RCPT TO:<a@b.example>: "
	                            "550 5.1.1 <a@b.example>: unknown";
	struct rule_facts facts = facts_for(RULE_FAILED);
	facts.error = t(error);
	facts.text = t(strstr(error, "550 5.1.1"));
	ck_assert_str_eq(match_id(&f, &facts), "t.join");
	static const char head[] = "SMTP error from remote mail server after MAIL FROM:<a@b.example>: "
	                           "550 5.7.1 no";
	facts.error = t(head);
	facts.text = t(strstr(head, "550 5.7.1"));
	ck_assert_str_eq(match_id(&f, &facts), "t.head");
	release(&f);
}
END_TEST

/* ---- the memo ---- */

enum fact_field {
	F_CODE, F_STATUS, F_STAGE, F_ROUTER, F_TRANSPORT, F_HOST, F_IP, F_DOMAIN, F_SENDER,
	F_ERROR, F_TEXT, F_TEXT_IS_ERROR, F_FIELD_COUNT
};

/* One field of facts set to a value its rule (memo_rules) answers. */
static void set_field(struct rule_facts *facts, enum fact_field field)
{
	static const char both[] = "disk full";
	switch (field) {
	case F_CODE: facts->code = 421; break;
	case F_STATUS: facts->status = t("5.7.26"); break;
	case F_STAGE: facts->stage = t("DATA"); break;
	case F_ROUTER: facts->router = t("r1"); break;
	case F_TRANSPORT: facts->transport = t("t1"); break;
	case F_HOST: facts->host = t("mx.example"); break;
	case F_IP: facts->ip = t("192.0.2.7"); break;
	case F_DOMAIN: facts->domain = t("example.org"); break;
	case F_SENDER: facts->sender = t("<>"); break;
	case F_ERROR: facts->error = t("disk full"); break;
	case F_TEXT: facts->text = t("mailbox full"); break;
	/* one view as both (the key says so in a byte), against a text
	 * of its own with the same error */
	case F_TEXT_IS_ERROR: facts->error = facts->text = t(both); break;
	case F_FIELD_COUNT: break;
	}
}

static const char *const field_rule[F_FIELD_COUNT] = {
	"t.code", "t.status", "t.stage", "t.router", "t.transport", "t.host", "t.ip",
	"t.domain", "t.sender", "t.error", "t.text", "t.error",
};

#define MEMO_RULES \
	"rule t.code\n\tcode 421\n" RULE_OUTPUTS \
	"rule t.status\n\tstatus 5.7.26\n" RULE_OUTPUTS \
	"rule t.stage\n\tstage data\n" RULE_OUTPUTS \
	"rule t.router\n\trouter r1\n" RULE_OUTPUTS \
	"rule t.transport\n\ttransport t1\n" RULE_OUTPUTS \
	"rule t.host\n\thost mx.example\n" RULE_OUTPUTS \
	"rule t.ip\n\thost 192.0.2.*\n" RULE_OUTPUTS \
	"rule t.domain\n\tdomain example.org\n" RULE_OUTPUTS \
	"rule t.sender\n\tsender <>\n" RULE_OUTPUTS \
	"rule t.error\n\terror disk full\n" RULE_OUTPUTS \
	"rule t.text\n\ttext mailbox full\n" RULE_OUTPUTS \
	"rule t.rest\n" RULE_OUTPUTS

/* Facts that differ from facts matched before in any one field a rule
 * looks at must not get the earlier answer from the memo: a rule per
 * field, and each field set and cleared in turn with the memo on, so
 * that the empty facts' answer is in the memo every time a field is set.
 * A key that left a field out fails here. */
START_TEST(test_memo_tells_facts_apart_by_every_field)
{
	struct fixture f = { 0 };
	load_text(&f, "a.rules", MEMO_RULES, RULES_SHIPPED);
	for (int round = 0; round < 2; round++) { /* the second: every answer from the memo */
		for (enum fact_field field = 0; field < F_FIELD_COUNT; field++) {
			struct rule_facts facts = facts_for(RULE_FAILED);
			ck_assert_str_eq(match_id(&f, &facts), "t.rest");
			set_field(&facts, field);
			ck_assert_msg(strcmp(match_id(&f, &facts), field_rule[field]) == 0,
			              "round %d, field %d: %s, not %s", round, (int)field,
			              match_id(&f, &facts), field_rule[field]);
		}
	}
	/* the same text as a view of its own, after the shared view */
	struct rule_facts facts = facts_for(RULE_FAILED);
	facts.error = t("disk full");
	facts.text = t("mailbox full");
	ck_assert_str_eq(match_id(&f, &facts), "t.error");
	facts.error = t("quota");
	ck_assert_str_eq(match_id(&f, &facts), "t.text");
	/* one view as both, then a text of the same length of its own */
	static const char shared[] = "mailbox full";
	facts.error = facts.text = text_make(shared, sizeof shared - 1);
	ck_assert_str_eq(match_id(&f, &facts), "t.text");
	facts.text = t("xxxxxxx full");
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	/* the class is in the key: an event's answer is not a failure's */
	facts = facts_for(RULE_EVENT);
	facts.code = 421;
	ck_assert_str_eq(match_id(&f, &facts), "t.code");
	release(&f);
}
END_TEST

/* A memo holds only what it can compare: texts too long for a key are
 * matched every time, and get the right rule. */
START_TEST(test_memo_long_facts_matched_every_time)
{
	struct fixture f = { 0 };
	load_text(&f, "a.rules", MEMO_RULES, RULES_SHIPPED);
	static char long_text[3 * 1024];
	memset(long_text, 'x', sizeof long_text);
	memcpy(long_text + sizeof long_text - 12, "mailbox full", 12);
	struct rule_facts facts = facts_for(RULE_FAILED);
	facts.text = text_make(long_text, sizeof long_text);
	ck_assert_str_eq(match_id(&f, &facts), "t.text");
	long_text[sizeof long_text - 1] = 'x'; /* the same view, other bytes */
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	release(&f);
}
END_TEST

/* A rule that asks for nothing but its class holds for every failure of
 * it: the rules after it are never reached, so the facts only they look
 * at are not in the memo key, and failures that differ only in those
 * are one match worked out (the text of an authentication failure names
 * the user tried, a new one each time). A key that held the later
 * rules' text would work out every one of them. */
START_TEST(test_memo_key_ends_at_a_rule_that_always_holds)
{
	struct fixture f = { 0 };
	load_text(&f, "a.rules",
	          "rule t.code\n\tcode 454\n" RULE_OUTPUTS
	          "rule t.any\n" RULE_OUTPUTS
	          "rule t.text\n\ttext quota\n" RULE_OUTPUTS,
	          RULES_SHIPPED);
	ck_assert_uint_eq(f.errors, 0);
	struct rule_facts facts = facts_for(RULE_EVENT);
	facts.code = 535;
	char text[64];
	for (int i = 0; i < 50; i++) {
		snprintf(text, sizeof text, "535 auth failed (set_id=user%d) quota", i);
		facts.error = facts.text = t(text);
		ck_assert_str_eq(match_id(&f, &facts), "t.any");
	}
	ck_assert_uint_eq(rules_matches_worked_out(f.set), 1);
	facts.code = 454; /* the code is still in the key */
	ck_assert_str_eq(match_id(&f, &facts), "t.code");
	ck_assert_uint_eq(rules_matches_worked_out(f.set), 2);
	release(&f);
}
END_TEST

/* ---- order and overrides ---- */

START_TEST(test_first_match_wins_in_file_name_order)
{
	struct fixture f = { 0 };
	f.dir = make_temp_dir();
	f.set = rules_new();
	char *b = path_in(f.dir, "20-b.rules"), *a = path_in(f.dir, "10-a.rules");
	char *skipped = path_in(f.dir, "05-notes.txt");
	const char *rb = "rule b.any\n" RULE_OUTPUTS;
	const char *ra = "rule a.code\n\tcode 550\n" RULE_OUTPUTS;
	write_file(b, rb, strlen(rb));
	write_file(a, ra, strlen(ra));
	write_file(skipped, "not a rule file", 15);
	ck_assert_uint_eq(rules_load(f.set, f.dir, RULES_SHIPPED), 0);
	ck_assert_uint_eq(rules_count(f.set), 2);
	ck_assert_str_eq(rule_id(rules_at(f.set, 0)), "a.code");
	struct rule_facts facts = facts_for(RULE_FAILED);
	facts.code = 550;
	ck_assert_str_eq(match_id(&f, &facts), "a.code");
	facts.code = 421;
	ck_assert_str_eq(match_id(&f, &facts), "b.any");
	free(a);
	free(b);
	free(skipped);
	release(&f);
}
END_TEST

/* A load after matching: the classes worked out and the answers
 * remembered before it are forgotten, so the new rule is seen. */
START_TEST(test_load_after_matching_is_seen)
{
	struct fixture f = { 0 };
	load_text(&f, "shipped.rules", "rule t.any\n\tcode 550\n" RULE_OUTPUTS, RULES_SHIPPED);
	struct rule_facts facts = facts_for(RULE_FAILED);
	facts.code = 550;
	facts.text = text_make("mailbox unavailable", 19);
	ck_assert_str_eq(rule_id(rules_match(f.set, &facts)), "t.any");
	load_text(&f, "site.rules", "rule site.mailbox\n\ttext unavailable\n" RULE_OUTPUTS,
	          RULES_USER);
	ck_assert_uint_eq(f.errors, 0);
	ck_assert_str_eq(rule_id(rules_match(f.set, &facts)), "site.mailbox");
	release(&f);
}
END_TEST

START_TEST(test_user_rules_replace_and_come_first)
{
	struct fixture f = { 0 };
	load_text(&f, "shipped.rules",
	          "rule remote.greylisted\n\tcode 451\n\treason greylisted\n\towner remote_policy\n"
	          "\texplanation Shipped.\n\taction Wait.\n"
	          "rule generic.any\n" RULE_OUTPUTS, RULES_SHIPPED);
	load_text(&f, "site.rules",
	          "rule remote.greylisted\n\tcode 451\n\ttext postgrey\n\treason greylisted\n"
	          "\towner remote_policy\n\texplanation Ours.\n\taction Call Bob.\n"
	          "rule site.everything\n\tdomain *.internal.example\n" RULE_OUTPUTS, RULES_USER);
	ck_assert_uint_eq(f.errors, 0);
	ck_assert_uint_eq(rules_count(f.set), 3);
	/* the new user rule first, then the replacement in the shipped place */
	ck_assert_str_eq(rule_id(rules_at(f.set, 0)), "site.everything");
	ck_assert_str_eq(rule_id(rules_at(f.set, 1)), "remote.greylisted");
	ck_assert_str_eq(rule_explanation(rules_at(f.set, 1)), "Ours.");
	struct rule_facts facts = facts_for(RULE_DEFERRED);
	facts.code = 451;
	facts.text = t("451 greylisted by postgrey");
	ck_assert_str_eq(rule_action(rules_match(f.set, &facts)), "Call Bob.");
	facts.domain = t("db.internal.example");
	ck_assert_str_eq(match_id(&f, &facts), "site.everything");
	release(&f);
}
END_TEST

START_TEST(test_last_resort_when_nothing_matches)
{
	struct fixture f = { 0 };
	load_text(&f, "a.rules", "rule t.only\n\tcode 550\n" RULE_OUTPUTS, RULES_SHIPPED);
	struct rule_facts facts = facts_for(RULE_DEFERRED);
	const struct rule *rule = rules_match(f.set, &facts);
	ck_assert_str_eq(rule_id(rule), "builtin.unexplained");
	ck_assert_str_eq(rule_reason(rule), "undefined");
	release(&f);
}
END_TEST

/* ---- load errors ---- */

/* A directory without rule files loads nothing, without error (it once
 * sorted a NULL list of names, undefined behaviour UBSan reports). */
START_TEST(test_empty_directory_loads_nothing)
{
	char *dir = make_temp_dir();
	struct rule_set *set = rules_new();
	ck_assert_uint_eq(rules_load(set, dir, RULES_USER), 0);
	ck_assert_uint_eq(rules_count(set), 0);
	struct rule_facts facts = facts_for(RULE_FAILED);
	ck_assert_str_eq(rule_id(rules_match(set, &facts)), "builtin.unexplained");
	rules_free(set);
	remove_tree(dir);
	free(dir);
}
END_TEST


/* Run rules_load with stderr captured; returns what it wrote. */
static char *load_capturing(struct fixture *f, const char *text, size_t *errors)
{
	fflush(stderr);
	char *dir = make_temp_dir();
	char *log = path_in(dir, "stderr");
	FILE *saved = freopen(log, "w", stderr);
	ck_assert_ptr_nonnull(saved);
	size_t before = f->errors;
	load_text(f, "bad.rules", text, RULES_SHIPPED);
	fflush(stderr);
	*errors = f->errors - before;
	size_t length;
	char *out = read_file(log, &length);
	remove_tree(dir);
	free(dir);
	free(log);
	return out;
}

/* A rule's pattern lines are compiled joined, and alone only when that
 * fails: the error still names the line at fault, and lines that are good
 * alone but not together are told at the first of them. */
START_TEST(test_pattern_errors_name_their_line)
{
	struct fixture f = { 0 };
	size_t errors;
	char *out = load_capturing(&f,
		"rule t.second_line_bad\n"         /* 1 */
		"\ttext first fine\n"              /* 2 */
		"\ttext second (broken\n"          /* 3 */
		"\ttext third fine\n" RULE_OUTPUTS /* 4 */
		"rule t.good_alone\n"              /* 9 */
		"\terror (?<dup>a)\n"              /* 10 */
		"\terror (?<dup>b)\n" RULE_OUTPUTS /* 11 */
		"rule t.failed_then_bad\n"         /* 16 */
		"\terror [unclosed\n"              /* 17 */
		"\towner the_moon\n" RULE_OUTPUTS  /* 18 */
		"rule ok.joined\n\ttext alpha\n\ttext beta\n" RULE_OUTPUTS, &errors);
	ck_assert_msg(strstr(out, "bad.rules:3: bad pattern at offset 14: missing closing "
	                          "parenthesis") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "bad.rules:2:") == NULL && strstr(out, "bad.rules:4:") == NULL,
	              "%s", out);
	ck_assert_msg(strstr(out, "bad.rules:10: bad pattern: ") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "bad.rules:17: bad pattern at offset") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "bad.rules:18: unknown owner") != NULL, "%s", out);
	ck_assert_uint_eq(errors, 4);
	ck_assert_uint_eq(rules_count(f.set), 1);
	ck_assert_str_eq(rule_id(rules_at(f.set, 0)), "ok.joined");
	struct rule_facts facts = facts_for(RULE_FAILED);
	facts.text = text_make("the beta test", 13);
	ck_assert_str_eq(rule_id(rules_match(f.set, &facts)), "ok.joined");
	facts.text = text_make("gamma", 5);
	ck_assert_str_eq(rule_id(rules_match(f.set, &facts)), "builtin.unexplained");
	free(out);
	release(&f);
}
END_TEST

START_TEST(test_load_errors_name_file_and_line)
{
	struct fixture f = { 0 };
	size_t errors;
	char *out = load_capturing(&f,
		"\tstray key\n"                                    /* 1 */
		"rule ok.first\n" RULE_OUTPUTS                    /* 2-6 */
		"rule Bad Id\n" RULE_OUTPUTS                      /* 7 */
		"rule t.unknown_key\n\tcolour blue\n" RULE_OUTPUTS /* 12, 13 */
		"rule t.bad_code\n\tcode 6xx\n" RULE_OUTPUTS       /* 18, 19 */
		"rule t.bad_status\n\tstatus 5.x.1\n" RULE_OUTPUTS /* 24, 25 */
		"rule t.bad_regex\n\ttext (unclosed\n" RULE_OUTPUTS /* 30, 31 */
		"rule t.bad_reason\n\treason lost\n\towner unknown\n\texplanation x.\n\taction y.\n"
		"rule t.missing\n\treason undefined\n\towner unknown\n\texplanation x.\n" /* 41 */
		"rule t.field\n\treason undefined\n\towner unknown\n\texplanation {nope}\n"
		"\taction y.\n"                                      /* 46, 49 */
		"rule ok.first\n" RULE_OUTPUTS                     /* 50: duplicate */
		"rule ok.last\n" RULE_OUTPUTS, &errors);
	ck_assert_msg(strstr(out, "bad.rules:1: key line before the first 'rule' line") != NULL,
	              "%s", out);
	ck_assert_msg(strstr(out, "bad.rules:7: 'rule' needs one id") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "bad.rules:13: unknown key 'colour'") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "bad.rules:19: code: '6xx' is not a valid value") != NULL, "%s",
	              out);
	ck_assert_msg(strstr(out, "bad.rules:25: status: '5.x.1'") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "bad.rules:31: bad pattern at offset") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "bad.rules:37: unknown reason 'lost'") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "bad.rules:41: rule t.missing has no 'action'") != NULL, "%s",
	              out);
	ck_assert_msg(strstr(out, "bad.rules:48: unknown field {nope}") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "bad.rules:50: rule ok.first is already defined at") != NULL,
	              "%s", out);
	ck_assert_uint_eq(errors, 10);
	/* the good rules around the bad ones are kept; the bad ones are not */
	ck_assert_uint_eq(rules_count(f.set), 2);
	ck_assert_str_eq(rule_id(rules_at(f.set, 0)), "ok.first");
	ck_assert_str_eq(rule_id(rules_at(f.set, 1)), "ok.last");
	free(out);
	release(&f);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_catastrophic_pattern_is_stopped)
{
	struct fixture f = { 0 };
	load_text(&f, "a.rules",
	          "rule t.slow\n\ttext ^(a|aa)+$\n\ttext ^(\\w+\\s?)*$\n" RULE_OUTPUTS
	          "rule t.rest\n" RULE_OUTPUTS, RULES_SHIPPED);
	ck_assert_uint_eq(f.errors, 0);
	/* exponential backtracking on a near miss: without a limit this runs
	 * for longer than the universe; with one it gives up at once */
	static char evil[4096];
	memset(evil, 'a', sizeof evil - 2);
	evil[sizeof evil - 2] = '!';
	struct rule_facts facts = facts_for(RULE_FAILED);
	facts.text = t(evil);
	char *log = path_in(f.dir, "stderr");
	fflush(stderr);
	ck_assert_ptr_nonnull(freopen(log, "w", stderr));
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	/* and again: the same answer, and no second warning */
	ck_assert_str_eq(match_id(&f, &facts), "t.rest");
	fflush(stderr);
	size_t length;
	char *out = read_file(log, &length);
	const char *warning = strstr(out, "a.rules:1: rule t.slow: pattern gave up");
	ck_assert_msg(warning != NULL, "%s", out);
	ck_assert_msg(strstr(strstr(warning, "gave up") + 1, "gave up") == NULL, "warned twice: %s",
	              out);
	free(out);
	free(log);
	release(&f);
}
END_TEST

/* ---- rendering ---- */

START_TEST(test_render_fields_fallbacks_generic)
{
	struct rule_facts facts = facts_for(RULE_FAILED);
	facts.host = t("mx.example.net");
	facts.code = 550;
	facts.id = t("1rkaaa-000001-0A");
	const char *template = "{host|The server} said {code} for {address}; see {id}. "
	                       "{domain|Its domain} {stage}.";
	struct strbuf sb = STRBUF_INIT;
	rules_render(template, &facts, false, &sb);
	ck_assert_str_eq(sb.data, "mx.example.net said 550 for the recipient; see "
	                          "1rkaaa-000001-0A. Its domain the SMTP stage.");
	strbuf_reset(&sb);
	rules_render(template, &facts, true, &sb);
	ck_assert_str_eq(sb.data, "The server said the reply code for the recipient; see ID. "
	                          "Its domain the SMTP stage.");
	/* no host name: the IP stands in */
	facts.host = t("");
	facts.ip = t("192.0.2.1");
	strbuf_reset(&sb);
	rules_render("{host|x}", &facts, false, &sb);
	ck_assert_str_eq(sb.data, "192.0.2.1");
	strbuf_release(&sb);
}
END_TEST

/* ---- facts from texts ---- */

START_TEST(test_text_facts)
{
	struct rule_facts facts;
	explain_text_facts(t("SMTP error from remote mail server after RCPT TO:<a@b.example>: "
	                     "550 5.1.1 <a@b.example>: User unknown"),
	                   0, t(""), t(""), t(""), &facts);
	ck_assert_int_eq(facts.code, 550);
	assert_text(facts.status, "5.1.1");
	assert_text(facts.stage, "RCPT TO");
	assert_text(facts.text, "550 5.1.1 <a@b.example>: User unknown");
	ck_assert_int_eq(facts.outcome, RULE_FAILED);
	explain_text_facts(t("451-4.7.1 Greylisted\n451 4.7.1 try later"), 0, t(""), t(""),
	                   t("mx.example"), &facts);
	ck_assert_int_eq(facts.code, 451);
	assert_text(facts.status, "4.7.1");
	assert_text(facts.host, "mx.example");
	ck_assert_int_eq(facts.outcome, RULE_DEFERRED);
	/* what the caller says wins over what the text says */
	explain_text_facts(t("mailbox unavailable"), 552, t("5.2.2"), t("RCPT TO"), t(""), &facts);
	ck_assert_int_eq(facts.code, 552);
	assert_text(facts.status, "5.2.2");
	assert_text(facts.stage, "RCPT TO");
	assert_text(explain_stage_name(t("end-of-data")), "end of data");
	assert_text(explain_stage_name(t("RCPT")), "RCPT TO");
	ck_assert_uint_eq(explain_stage_name(t("lunch")).len, 0);
}
END_TEST

/* ---- the literal filters change no answer ---- */

static const struct text_source {
	const char *name;
	const char *pattern;  /* a glob, under SRCDIR */
	unsigned tsv_column;  /* 0: each whole line is a text */
	bool optional;        /* checked only where it exists */
} text_sources[] = {
	{ "sample log", "fixtures/sample/exim_mainlog", 0, false },
	{ "lexer fixtures", "fixtures/lexer/*.log", 0, false },
	{ "hostile fixtures", "fixtures/hostile/*.log", 0, false },
	/* shared material beside the repository, not part of it */
	{ "Exim test-suite corpus", "../shared/corpus/exim-testsuite/log/*", 0, true },
	{ "remote error texts", "../shared/corpus/bounce-reasons/dev.tsv", 5, true },
};

static struct text tsv_field(struct text line, unsigned column)
{
	for (unsigned c = 1; c < column; c++) {
		const char *tab = memchr(line.ptr, '\t', line.len);
		if (tab == NULL)
			return text_make(NULL, 0);
		line = text_skip(line, (size_t)(tab - line.ptr) + 1);
	}
	const char *tab = memchr(line.ptr, '\t', line.len);
	return tab ? text_make(line.ptr, (size_t)(tab - line.ptr)) : line;
}

/* The rule each outcome gets for one text as a run gets it (filters and
 * memo on: texts repeat in every source, so some come from the memo), and
 * worked out with the filters and without; returns how many of them a
 * pattern rule (not a code or status rule) explained. */
static size_t compare_text(struct rule_set *set, struct text text, size_t *compared)
{
	static const struct {
		enum rule_outcome outcome;
		enum line_kind kind;
	} classes[] = {
		{ RULE_FAILED, LK_FAILED }, { RULE_DEFERRED, LK_DEFERRED },
		{ RULE_DISCARDED, LK_DELIVERY }, { RULE_EVENT, LK_REJECTED_RCPT },
		{ RULE_EVENT, LK_AUTH_FAILED }, { RULE_FROZEN, LK_FROZEN },
	};
	size_t by_pattern = 0;
	struct rule_facts facts;
	explain_text_facts(text, 0, t(""), t(""), t(""), &facts);
	for (size_t i = 0; i < sizeof classes / sizeof *classes; i++) {
		facts.outcome = classes[i].outcome;
		facts.kind = classes[i].kind;
		rules_use_literal_filters(set, true);
		rules_use_memo(set, true);
		const struct rule *usual = rules_match(set, &facts);
		rules_use_memo(set, false);
		const struct rule *filtered = rules_match(set, &facts);
		rules_use_literal_filters(set, false);
		const struct rule *unfiltered = rules_match(set, &facts);
		ck_assert_msg(filtered == unfiltered, "%s: %s with the filters, %s without, on: %.*s",
		              rules_outcome_name(facts.outcome), rule_id(filtered),
		              rule_id(unfiltered), (int)text.len, text.ptr);
		ck_assert_msg(usual == unfiltered, "%s: %s with the memo, %s without, on: %.*s",
		              rules_outcome_name(facts.outcome), rule_id(usual),
		              rule_id(unfiltered), (int)text.len, text.ptr);
		(*compared)++;
		const char *file = rule_file(unfiltered);
		if (strstr(file, "remote-text") || strstr(file, "providers") || strstr(file, "exim"))
			by_pattern++;
	}
	return by_pattern;
}

START_TEST(test_literal_filters_and_memo_change_no_match)
{
	const struct text_source *source = &text_sources[_i];
	char *pattern = srcdir_path(source->pattern);
	glob_t files;
	int found = glob(pattern, 0, NULL, &files);
	if (found == GLOB_NOMATCH && source->optional) {
		printf("literal filters and memo: %s: %s not found, not checked\n", source->name, pattern);
		free(pattern);
		return;
	}
	ck_assert_msg(found == 0, "%s: no file matches %s", source->name, pattern);
	struct rule_set *set = rules_new();
	char *shipped = srcdir_path("data/rules");
	ck_assert_uint_eq(rules_load(set, shipped, RULES_SHIPPED), 0);
	size_t compared = 0, by_pattern = 0;
	for (size_t f = 0; f < files.gl_pathc; f++) {
		size_t length;
		char *bytes = read_file(files.gl_pathv[f], &length);
		ck_assert_msg(bytes != NULL, "cannot read %s", files.gl_pathv[f]);
		struct text rest = text_make(bytes, length);
		while (rest.len) {
			const char *nl = memchr(rest.ptr, '\n', rest.len);
			size_t n = nl ? (size_t)(nl - rest.ptr) : rest.len;
			struct text line = text_make(rest.ptr, n);
			rest = text_skip(rest, n + 1);
			if (source->tsv_column)
				line = tsv_field(line, source->tsv_column);
			by_pattern += compare_text(set, line, &compared);
		}
		free(bytes);
	}
	printf("literal filters and memo: %s: %zu matches the same with and without, %zu by a "
	       "pattern rule\n", source->name, compared, by_pattern);
	/* a source that explained nothing by pattern would test nothing */
	ck_assert_uint_gt(by_pattern, 10);
	rules_free(set);
	free(shipped);
	globfree(&files);
	free(pattern);
}
END_TEST

Suite *rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_code_classes_and_none);
	tcase_add_test(tc, test_status_wildcards);
	tcase_add_test(tc, test_names_hosts_domains_senders);
	tcase_add_test(tc, test_outcome_kind_stage);
	tcase_add_test(tc, test_host_globs_agree_with_fnmatch);
	tcase_add_test(tc, test_patterns_caseless_and_alternatives);
	tcase_add_test(tc, test_error_literals_across_the_reply);
	tcase_add_test(tc, test_first_match_wins_in_file_name_order);
	tcase_add_test(tc, test_user_rules_replace_and_come_first);
	tcase_add_test(tc, test_load_after_matching_is_seen);
	tcase_add_test(tc, test_last_resort_when_nothing_matches);
	tcase_add_test(tc, test_load_errors_name_file_and_line);
	tcase_add_test(tc, test_pattern_errors_name_their_line);
	tcase_add_test(tc, test_empty_directory_loads_nothing);
	tcase_add_test(tc, test_catastrophic_pattern_is_stopped);
	tcase_add_test(tc, test_render_fields_fallbacks_generic);
	tcase_add_test(tc, test_text_facts);
	tcase_add_test(tc, test_memo_tells_facts_apart_by_every_field);
	tcase_add_test(tc, test_memo_long_facts_matched_every_time);
	tcase_add_test(tc, test_memo_key_ends_at_a_rule_that_always_holds);
	tcase_add_loop_test(tc, test_literal_filters_and_memo_change_no_match, 0,
	                    sizeof text_sources / sizeof *text_sources);
	/* the catastrophic pattern must end well inside this */
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return s;
}
