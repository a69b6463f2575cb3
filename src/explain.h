/*
 * explain: turn what the transaction table knows about a failure into the
 * facts a rule is matched on, find the rule, and say it in words.
 *
 * The one place that knows where rules live (shipped data directory, the
 * system's rules.d, --rules) and how a recipient, an SMTP-time event or a
 * bare error text become struct rule_facts. Also the `explain` and `rules`
 * modes.
 *
 * Ownership: an explainer owns its rule set; facts built here borrow from
 * the message, event or text they were built from.
 */
#ifndef EXIMEXPLAIN_EXPLAIN_H
#define EXIMEXPLAIN_EXPLAIN_H

#include <stdbool.h>
#include <stdio.h>

#include "rules.h"
#include "txn.h"

struct explainer;

struct explain_options {
	const char *const *rule_paths; /* --rules, in order; files or directories */
	size_t rule_path_count;
	const char *shipped_dir;  /* NULL: find data/rules (see explain.c) */
	const char *system_dir;   /* NULL: $(sysconfdir)/eximexplain/rules.d */
};

/* Load the rules. Load errors are reported on stderr ("FILE:LINE: ...");
 * *errors counts them. Never NULL: with no rule file at all, the built-in
 * last resort still answers. */
struct explainer *explain_new(const struct explain_options *options, size_t *errors);
void explain_free(struct explainer *explainer);
struct rule_set *explain_rules(struct explainer *explainer);

/* Facts of a recipient's failure or discard (deferral false), or of its
 * last deferral (deferral true). */
void explain_recipient_facts(const struct message *message, const struct recipient *recipient,
                             bool deferral, struct rule_facts *out);
/* The address people know a recipient by (the <original> of a local part,
 * a pipe or a file), and its domain (empty when it has none). */
struct text explain_recipient_address(const struct recipient *recipient);
struct text explain_recipient_domain(const struct recipient *recipient);
/* Facts of a frozen message. */
void explain_frozen_facts(const struct message *message, struct rule_facts *out);
/* Facts of an SMTP-time event. */
void explain_event_facts(const struct event *event, struct rule_facts *out);
/* Facts of a bare error text, as `explain` gets it: an Exim "SMTP error
 * from remote mail server after ...", or a reply "550 5.1.1 ...", or any
 * text. code/status/stage/host override what the text says when given
 * (0 / empty). */
void explain_text_facts(struct text text, int code, struct text status, struct text stage,
                        struct text host, struct rule_facts *out);

/* The rule for these facts; never NULL (a built-in last resort). */
const struct rule *explain_match(struct explainer *explainer, const struct rule_facts *facts);

/* Stage name of txn ("RCPT TO") from a rule-file or command-line name
 * ("rcpt", "RCPT TO"); empty when unknown. */
struct text explain_stage_name(struct text name);

/* ---- the explain and rules modes; each returns an exit status ---- */

/* `explain TEXT`: the rule and what it says, as labelled lines. */
int explain_print(struct explainer *explainer, const struct rule_facts *facts, FILE *out);
/* `explain --tsv`: "code<TAB>status<TAB>text" lines in, "reason<TAB>rule<TAB>
 * explanation" lines out, in the same order. */
int explain_tsv(struct explainer *explainer, FILE *in, FILE *out);
/* `rules --list`: every rule in matching order with reason and owner. */
int explain_list_rules(struct explainer *explainer, FILE *out);
/* `rules --check FILE`: load FILE alone; 0 valid, 1 errors (on stderr). */
int explain_check_rules(const char *path, FILE *out);

#endif
