/*
 * rules: the rule table. Loads rule files (grammar/rules.abnf,
 * man/eximexplain-rules.5), compiles their patterns once, and finds the
 * first rule that matches the facts of one failure.
 *
 * Rule files are trusted configuration, but the facts they are matched
 * against come from the log and are not: patterns run with a match limit,
 * and a pattern that hits it is treated as not matching (with one warning
 * per rule), never left to hang a run.
 *
 * Ownership: a rule set owns its rules; a const struct rule * is valid
 * until rules_free(). Facts are borrowed views, read during the call only.
 */
#ifndef EXIMEXPLAIN_RULES_H
#define EXIMEXPLAIN_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "lexer.h"
#include "strbuf.h"
#include "text.h"

/* What happened to the mail a rule may ask about (the "outcome" key). */
enum rule_outcome {
	RULE_FAILED,
	RULE_DEFERRED,
	RULE_DISCARDED,
	RULE_FROZEN,
	RULE_EVENT,     /* an SMTP-time event: a rejection, an auth failure ... */
	RULE_OUTCOME_COUNT
};

const char *rules_outcome_name(enum rule_outcome outcome);

/* Everything known about one failure; empty views where unknown. */
struct rule_facts {
	enum rule_outcome outcome;
	enum line_kind kind;    /* LINE_KIND_COUNT when unknown */
	struct text router, transport;
	struct text host, ip;   /* the remote host: name and address */
	struct text address, domain, sender;
	struct text stage;      /* as txn names it: "RCPT TO", "end of data", "" */
	int code;               /* SMTP reply code, 0 when none */
	struct text status;     /* enhanced status x.y.z */
	struct text error;      /* Exim's own text */
	struct text text;       /* the remote server's reply text */
	struct text id;         /* the message ID, empty for most events */
};

struct rule;
struct rule_set;

/* Where a file of rules comes from: a user rule with a shipped rule's id
 * replaces it where it stands; other user rules come before every shipped
 * rule, so a site's own rules win. */
enum rule_origin { RULES_SHIPPED, RULES_USER };

struct rule_set *rules_new(void);
void rules_free(struct rule_set *set);

/* Load a file, or every *.rules file of a directory in name order. Errors
 * are reported on stderr as "FILE:LINE: what" and the faulty rule is left
 * out; returns the number of errors (0: all loaded). */
size_t rules_load(struct rule_set *set, const char *path, enum rule_origin origin);

size_t rules_count(const struct rule_set *set);
/* The rules in matching order. */
const struct rule *rules_at(const struct rule_set *set, size_t index);

/* The first rule that matches; a built-in last resort (builtin.unexplained)
 * when none does, so the answer is never NULL. */
const struct rule *rules_match(struct rule_set *set, const struct rule_facts *facts);

/* A pattern runs only where its literals say it may match (litfilter.h);
 * on by default. Off runs every pattern, for the tests that check the
 * filters never change which rule matches. */
void rules_use_literal_filters(struct rule_set *set, bool on);
/* Answers for facts seen before come from a memo (facts that differ in
 * nothing the class's rules look at get the same rule); on by default.
 * Off works out every match, for the tests that check the memo never
 * changes which rule matches. */
void rules_use_memo(struct rule_set *set, bool on);
/* How many matches were worked out, rather than answered by the memo
 * (for the tests of what a memo key holds). */
uint64_t rules_matches_worked_out(const struct rule_set *set);

const char *rule_id(const struct rule *rule);
const char *rule_reason(const struct rule *rule);
const char *rule_owner(const struct rule *rule);
const char *rule_explanation(const struct rule *rule); /* the template */
const char *rule_action(const struct rule *rule);      /* the template */
const char *rule_file(const struct rule *rule);
unsigned rule_line(const struct rule *rule);

/* Append a template with {field} and {field|words} filled in from facts;
 * an empty field gives its words, or a neutral phrase ("the remote
 * server"). generic (or facts NULL): every field gives its words, for one
 * text that is true of a whole group of failures. Field values are
 * appended raw: escape the result when it leaves the program. */
void rules_render(const char *template, const struct rule_facts *facts, bool generic,
                  struct strbuf *out);

#endif
