/*
 * rules: load, check and match the rule table (grammar/rules.abnf).
 *
 * A rule is a list of conditions, all of which must hold, and four
 * outputs. A match walks only the rules its outcome and line kind admit
 * (built once per class), tests cheap conditions (stage, code, status,
 * names) next, and runs a PCRE2 pattern only where the pattern's literals
 * say the text may match (litfilter.h): a deferral goes through some 300
 * rules with a handful of regex calls. This module must never let a
 * pattern run without a match limit, and never print a byte of the facts
 * it matches (callers escape).
 *
 * The answer for facts seen before comes from a memo (memo.h), keyed by
 * the facts the class's rules can look at: a log repeats the same few
 * hundred failures, and a match that runs a pattern costs some ten
 * thousand instructions.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "litfilter.h"
#include "matcher.h"
#include "memo.h"
#include "msg.h"
#include "rules.h"
#include "xalloc.h"

/* Bounds for trusted but possibly careless input: a rule file is read
 * whole, and patterns get a budget per match. */
#define RULE_FILE_MAX (8u << 20)
#define MATCH_LIMIT 200000u
#define DEPTH_LIMIT 2000u

_Static_assert(LINE_KIND_COUNT <= 64, "kind conditions are a 64-bit mask");

static const char *const outcome_names[RULE_OUTCOME_COUNT] = {
	"failed", "deferred", "discarded", "frozen", "event",
};

static const char *const reasons[] = {
	"userunknown", "mailboxfull", "hostunknown", "hasmoved", "notaccept", "suspend",
	"filtered", "rejected", "blocked", "badreputation", "requireptr", "authfailure",
	"spamdetected", "virusdetected", "policyviolation", "contenterror",
	"notcompliantrfc", "mesgtoobig", "exceedlimit", "norelaying", "securityerror",
	"failedstarttls", "toomanyconn", "speeding", "expired", "networkerror",
	"systemerror", "systemfull", "mailererror", "syntaxerror", "suppressed", "onhold",
	"undefined", "delivered", "greylisted", "discarded", "frozen", "localconfig",
};

static const char *const owners[] = {
	"local_config", "local_policy", "recipient", "remote_policy",
	"sender_reputation", "network", "dns", "unknown",
};

/* Stage names in rule files, and the names txn gives the same stages. */
static const struct {
	const char *rule_name, *txn_name;
} stages[] = {
	{ "none", "" }, { "connect", "connect" }, { "helo", "HELO" },
	{ "starttls", "STARTTLS" }, { "auth", "AUTH" }, { "mail", "MAIL FROM" },
	{ "rcpt", "RCPT TO" }, { "data", "DATA" }, { "end-of-data", "end of data" },
};
#define STAGE_COUNT (sizeof stages / sizeof *stages)

/* Template fields, and the words used when a field is empty (or, in a
 * group's generic explanation, varies). */
static const struct {
	const char *name, *otherwise;
} fields[] = {
	{ "host", "the remote server" }, { "ip", "the remote address" },
	{ "domain", "the recipient's domain" }, { "address", "the recipient" },
	{ "sender", "the sender" }, { "router", "the router" },
	{ "transport", "the transport" }, { "code", "the reply code" },
	{ "status", "the status code" }, { "stage", "the SMTP stage" },
	{ "text", "the remote reply" }, { "error", "the error" }, { "kind", "the line" },
	{ "outcome", "the outcome" }, { "id", "ID" },
};
#define FIELD_COUNT (sizeof fields / sizeof *fields)

static int find_field(struct text name)
{
	for (size_t i = 0; i < FIELD_COUNT; i++)
		if (text_equals(name, fields[i].name))
			return (int)i;
	return -1;
}

struct code_range {
	int low, high;
};

struct status_pattern {
	int part[3]; /* -1: any */
};

struct name_list {
	char **names;
	size_t count;
};

/* A branch of a pattern compiled alone (lit_filter_branch), when the
 * filter first lets a text through to it. */
struct branch_pattern {
	pcre2_code *re;     /* NULL: not compiled yet, or it failed to */
	bool compiled, jit_tried;
};

/* One of a rule's patterns: all its lines as one alternation, and what
 * spares running it. */
struct rule_pattern {
	pcre2_code *re;     /* NULL: the rule has no such condition */
	/* JIT-compiled on first use (jit_once): of the rules, a run tries
	 * only those its failures' classes reach, and compiling them all
	 * cost grep more than its search did */
	bool jit_tried;
	/* a necessary condition for each top-level branch, tested before
	 * PCRE2 runs; where it is usable, only the branches it lets through
	 * run, each alone: a rule's alternation of thirty phrases costs
	 * some 13,000 cycles a text, one phrase a small part of that */
	struct lit_filter *filter;
	struct branch_pattern *branches; /* lit_filter_branch_count of them, or NULL */
};

struct rule {
	char *id;
	char *file;
	unsigned line;
	/* conditions; an empty one holds for every failure */
	unsigned outcomes;    /* bit per enum rule_outcome; 0: any */
	uint64_t kinds;       /* bit per line kind; 0: any */
	unsigned stage_bits;  /* bit per stages[] entry; 0: any */
	struct code_range *codes;
	size_t code_count;
	struct status_pattern *statuses;
	size_t status_count;
	struct name_list routers, transports, hosts, domains, senders;
	struct rule_pattern error, text; /* of Exim's error text, of the reply */
	bool warned;          /* a pattern hit the match limit once already */
	/* outputs */
	const char *reason, *owner;
	char *explanation, *action;
};

/* The facts a rule's conditions look at, a bit each (struct candidates'
 * uses): what a memo key must hold. */
enum fact_use {
	USES_STAGE = 1u << 0,
	USES_CODE = 1u << 1,
	USES_STATUS = 1u << 2,
	USES_ROUTER = 1u << 3,
	USES_TRANSPORT = 1u << 4,
	USES_HOST = 1u << 5, /* host and ip */
	USES_DOMAIN = 1u << 6,
	USES_SENDER = 1u << 7,
	USES_ERROR = 1u << 8,
	USES_TEXT = 1u << 9,
};

/* The rules that can hold for one outcome and line kind, in match order.
 * Built on first use, so that a match passes over the rules its class
 * cannot use without looking at them (an SMTP-time event skips about
 * half of the shipped rules). */
/*
 * Which of a class's candidates a text may satisfy by one of their
 * patterns (error or text), found from the text's trigrams rather than by
 * asking each candidate's literal filter in turn. Each probe set of each
 * candidate's filter (lit_filter_probe_set) is filed under its first
 * trigram; the text's trigrams pick the entries, and a candidate none of
 * whose sets the text holds whole is one its filter would rule out. The
 * others, and the candidates without a usable filter, are asked as
 * before. With some 300 candidates in a class and the matching rule a
 * hundred in, asking each in turn was most of what a miss of the memo
 * cost.
 *
 * An entry holds its set's trigrams, so that testing it whole costs no
 * visit to the filter: a set's first trigram alone let through five
 * times the candidates that held the set (on the bench log, per text:
 * 152 trigrams, 20 with entries, 101 entries, 20 sets held), and each was
 * asked in turn. Trigrams without entries are skipped by a bitmap, not
 * looked up.
 */
struct screen_entry {
	struct lit_probe_set probes;
	uint32_t candidate; /* its number in the class */
};

struct screen {
	uint64_t *judged;  /* candidates this screen can rule out, a bit each */
	uint64_t *filed;   /* [LIT_TRIGRAM_BITS / 64]: the trigrams with entries */
	uint32_t *start;   /* [LIT_TRIGRAM_BITS + 1]: trigram t's entries are */
	struct screen_entry *entries; /* entries[start[t] .. start[t + 1]) */
	uint64_t *may;     /* scratch: the candidates a text leaves possible */
};

struct candidates {
	struct rule **rules;
	size_t count;
	unsigned uses; /* enum fact_use: every fact any of them looks at */
	bool built;
	bool ends_always; /* the last holds for every failure of the class */
	struct screen error_screen, text_screen;
};

#define MEMO_SLOTS 1024

struct rule_set {
	struct rule **front;  /* user rules with new ids, in load order */
	size_t front_count;
	struct rule **main;   /* shipped rules, user replacements in place */
	size_t main_count;
	/* [outcome][kind], kind LINE_KIND_COUNT standing for unknown */
	struct candidates by_class[RULE_OUTCOME_COUNT][LINE_KIND_COUNT + 1];
	bool every_pattern_runs; /* literal filters off (tests) */
	bool no_memo;            /* every match worked out (tests) */
	uint64_t worked_out;     /* matches not answered by the memo */
	struct memo *memo;       /* facts key -> const struct rule *; NULL until used */
	bool candidates_built;   /* some class's candidates are: a load forgets them */
	struct matcher matcher;
};

const char *rules_outcome_name(enum rule_outcome outcome)
{
	return outcome < RULE_OUTCOME_COUNT ? outcome_names[outcome] : "?";
}

/* ---- the rule set ---- */

static void names_free(struct name_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->names[i]);
	free(list->names);
}

static void pattern_release(struct rule_pattern *pattern)
{
	pcre2_code_free(pattern->re);
	if (pattern->branches) {
		for (size_t i = 0; i < lit_filter_branch_count(pattern->filter); i++)
			pcre2_code_free(pattern->branches[i].re);
		free(pattern->branches);
	}
	lit_filter_free(pattern->filter);
}

static void rule_free(struct rule *rule)
{
	if (rule == NULL)
		return;
	free(rule->id);
	free(rule->file);
	free(rule->codes);
	free(rule->statuses);
	names_free(&rule->routers);
	names_free(&rule->transports);
	names_free(&rule->hosts);
	names_free(&rule->domains);
	names_free(&rule->senders);
	pattern_release(&rule->error);
	pattern_release(&rule->text);
	free(rule->explanation);
	free(rule->action);
	free(rule);
}

struct rule_set *rules_new(void)
{
	struct rule_set *set = xcalloc(1, sizeof *set);
	matcher_init(&set->matcher, MATCH_LIMIT, DEPTH_LIMIT);
	return set;
}

static void free_screen(struct screen *s)
{
	free(s->judged);
	free(s->filed);
	free(s->start);
	free(s->entries);
	free(s->may);
}

/* After a load the candidates, and so the answers, may change. */
static void forget_candidates(struct rule_set *set)
{
	/* a load files each rule through here: no sweep of every class then */
	if (!set->candidates_built)
		return;
	set->candidates_built = false;
	for (size_t o = 0; o < RULE_OUTCOME_COUNT; o++)
		for (size_t k = 0; k <= LINE_KIND_COUNT; k++) {
			struct candidates *c = &set->by_class[o][k];
			free(c->rules);
			free_screen(&c->error_screen);
			free_screen(&c->text_screen);
			*c = (struct candidates){ 0 };
		}
	memo_free(set->memo);
	set->memo = NULL;
}

void rules_free(struct rule_set *set)
{
	if (set == NULL)
		return;
	forget_candidates(set);
	for (size_t i = 0; i < set->front_count; i++)
		rule_free(set->front[i]);
	for (size_t i = 0; i < set->main_count; i++)
		rule_free(set->main[i]);
	free(set->front);
	free(set->main);
	matcher_release(&set->matcher);
	free(set);
}

size_t rules_count(const struct rule_set *set)
{
	return set->front_count + set->main_count;
}

const struct rule *rules_at(const struct rule_set *set, size_t index)
{
	if (index < set->front_count)
		return set->front[index];
	index -= set->front_count;
	return index < set->main_count ? set->main[index] : NULL;
}

static struct rule **find_id(struct rule_set *set, const char *id)
{
	for (size_t i = 0; i < set->front_count; i++)
		if (strcmp(set->front[i]->id, id) == 0)
			return &set->front[i];
	for (size_t i = 0; i < set->main_count; i++)
		if (strcmp(set->main[i]->id, id) == 0)
			return &set->main[i];
	return NULL;
}

static void push(struct rule ***vector, size_t *count, struct rule *rule)
{
	*vector = xreallocarray(*vector, *count + 1, sizeof **vector);
	(*vector)[(*count)++] = rule;
}

/* ---- parsing one file ---- */

/* A rule's pattern lines for one key, joined as "(?:a)|(?:b)" in text;
 * each piece is where one line's pattern stands in it, so that an error
 * can name its line. */
struct pattern_piece {
	unsigned line;
	size_t start, length;
};

struct alternatives {
	struct strbuf text;
	struct pattern_piece *pieces;
	size_t count, capacity;
};

struct loader {
	struct rule_set *set;
	enum rule_origin origin;
	const char *path;
	unsigned line;
	size_t errors;
	struct rule *rule;      /* the rule being read; NULL after an error in it */
	bool rule_failed;
	struct alternatives error_re, text_re; /* collected for the rule */
	unsigned seen;          /* bit per key seen in this rule */
};

static void load_error(struct loader *ld, unsigned line, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static void load_error(struct loader *ld, unsigned line, const char *format, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, format);
	vsnprintf(what, sizeof what, format, ap);
	va_end(ap);
	msg_warn("%s:%u: %s", ld->path, line, what);
	ld->errors++;
	ld->rule_failed = true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static struct text trim(struct text t)
{
	while (t.len && (is_blank(t.ptr[0]) || t.ptr[0] == '\r'))
		t = text_skip(t, 1);
	while (t.len && (is_blank(t.ptr[t.len - 1]) || t.ptr[t.len - 1] == '\r'))
		t.len--;
	return t;
}

/* The next blank-separated word of *rest, or an empty view. */
static struct text next_word(struct text *rest)
{
	*rest = trim(*rest);
	size_t n = 0;
	while (n < rest->len && !is_blank(rest->ptr[n]))
		n++;
	struct text word = text_make(rest->ptr, n);
	*rest = text_skip(*rest, n);
	return word;
}

static bool valid_id(struct text id)
{
	bool dot = false, part = false;
	for (size_t i = 0; i < id.len; i++) {
		char c = id.ptr[i];
		if (c == '.') {
			if (!part)
				return false;
			dot = true;
			part = false;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-') {
			part = true;
		} else {
			return false;
		}
	}
	return dot && part;
}

static int find_word(const char *const *words, size_t count, struct text word)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(words[i]) == word.len && memcmp(words[i], word.ptr, word.len) == 0)
			return (int)i;
	return -1;
}

static bool parse_code(struct text w, struct code_range *out)
{
	if (text_equals(w, "none")) { /* Exim's own error: no reply at all */
		out->low = out->high = 0;
		return true;
	}
	if (w.len != 3 || w.ptr[0] < '1' || w.ptr[0] > '5')
		return false;
	int low = w.ptr[0] - '0', high = low;
	bool wild = false;
	for (size_t i = 1; i < 3; i++) {
		char c = w.ptr[i];
		if (c == 'x' || c == 'X') {
			wild = true;
			low = low * 10;
			high = high * 10 + 9;
		} else if (c >= '0' && c <= '9' && !wild) {
			low = low * 10 + (c - '0');
			high = high * 10 + (c - '0');
		} else {
			return false;
		}
	}
	out->low = low;
	out->high = high;
	return true;
}

/* "5.7.1", "5.7.*", "4.*.*": parts of 1-3 digits or "*". */
static bool parse_status(struct text w, int part[3])
{
	size_t i = 0;
	for (int k = 0; k < 3; k++) {
		if (k > 0) {
			if (i >= w.len || w.ptr[i] != '.')
				return false;
			i++;
		}
		if (i < w.len && w.ptr[i] == '*') {
			part[k] = -1;
			i++;
			continue;
		}
		int value = 0, digits = 0;
		while (i < w.len && w.ptr[i] >= '0' && w.ptr[i] <= '9' && digits < 4) {
			value = value * 10 + (w.ptr[i++] - '0');
			digits++;
		}
		if (digits == 0 || digits > 3)
			return false;
		part[k] = value;
	}
	return i == w.len;
}

static void add_name(struct name_list *list, struct text word)
{
	list->names = xreallocarray(list->names, list->count + 1, sizeof *list->names);
	list->names[list->count++] = xmemdup(word.ptr, word.len);
}

/* Every {field} and {field|words} of a template must name a field. */
static bool check_template(struct loader *ld, struct text value)
{
	for (size_t i = 0; i < value.len; i++) {
		if (value.ptr[i] == '}') {
			load_error(ld, ld->line, "'}' without '{'");
			return false;
		}
		if (value.ptr[i] != '{')
			continue;
		size_t close = i + 1;
		while (close < value.len && value.ptr[close] != '}' && value.ptr[close] != '{')
			close++;
		if (close >= value.len || value.ptr[close] != '}') {
			load_error(ld, ld->line, "'{' without '}'");
			return false;
		}
		size_t name_end = i + 1;
		while (name_end < close && value.ptr[name_end] != '|')
			name_end++;
		struct text name = text_make(value.ptr + i + 1, name_end - i - 1);
		if (find_field(name) < 0) {
			load_error(ld, ld->line, "unknown field {%.*s}", (int)name.len, name.ptr);
			return false;
		}
		i = close;
	}
	return true;
}

static void append_output(char **target, struct text value)
{
	struct strbuf sb = STRBUF_INIT;
	if (*target) {
		strbuf_append_str(&sb, *target);
		strbuf_append_char(&sb, ' ');
		free(*target);
	}
	strbuf_append_text(&sb, value);
	*target = sb.data;
}

enum key {
	KEY_OUTCOME, KEY_KIND, KEY_ROUTER, KEY_TRANSPORT, KEY_HOST, KEY_DOMAIN, KEY_SENDER,
	KEY_STAGE,
	KEY_CODE, KEY_STATUS, KEY_ERROR, KEY_TEXT, KEY_REASON, KEY_OWNER, KEY_EXPLANATION,
	KEY_ACTION, KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
	"outcome", "kind", "router", "transport", "host", "domain", "sender", "stage", "code",
	"status", "error", "text", "reason", "owner", "explanation", "action",
};

static bool repeatable(enum key key)
{
	return key == KEY_ERROR || key == KEY_TEXT || key == KEY_EXPLANATION || key == KEY_ACTION;
}

/* One word of a list-valued key; false (with an error) when it is bad. */
static bool take_word(struct loader *ld, enum key key, struct text w)
{
	struct rule *r = ld->rule;
	int at;
	switch (key) {
	case KEY_OUTCOME:
		at = find_word(outcome_names, RULE_OUTCOME_COUNT, w);
		if (at >= 0)
			r->outcomes |= 1u << at;
		break;
	case KEY_KIND: {
		enum line_kind kind = line_kind_from_name(w.ptr, w.len);
		at = kind == LINE_KIND_COUNT ? -1 : (int)kind;
		if (at >= 0)
			r->kinds |= UINT64_C(1) << at;
		break;
	}
	case KEY_STAGE:
		at = -1;
		for (size_t i = 0; i < STAGE_COUNT; i++)
			if (text_equals(w, stages[i].rule_name))
				at = (int)i;
		if (at >= 0)
			r->stage_bits |= 1u << at;
		break;
	case KEY_CODE: {
		struct code_range range;
		at = parse_code(w, &range) ? 0 : -1;
		if (at == 0) {
			r->codes = xreallocarray(r->codes, r->code_count + 1, sizeof *r->codes);
			r->codes[r->code_count++] = range;
		}
		break;
	}
	case KEY_STATUS: {
		struct status_pattern p;
		/* cppcheck-suppress uninitvar ; false positive: parse_status fills p.part */
		at = parse_status(w, p.part) && p.part[0] >= 2 && p.part[0] <= 5 ? 0 : -1;
		if (at == 0) {
			r->statuses = xreallocarray(r->statuses, r->status_count + 1,
			                            sizeof *r->statuses);
			r->statuses[r->status_count++] = p;
		}
		break;
	}
	case KEY_ROUTER: add_name(&r->routers, w); return true;
	case KEY_TRANSPORT: add_name(&r->transports, w); return true;
	case KEY_HOST: add_name(&r->hosts, w); return true;
	case KEY_DOMAIN: add_name(&r->domains, w); return true;
	case KEY_SENDER: add_name(&r->senders, w); return true;
	default: return false;
	}
	if (at < 0)
		load_error(ld, ld->line, "%s: '%.*s' is not a valid value", key_names[key],
		           (int)w.len, w.ptr);
	return at >= 0;
}

static void take_pattern(struct loader *ld, struct alternatives *alternatives,
                         struct lit_filter **filter, struct text value)
{
	if (*filter == NULL)
		*filter = lit_filter_new();
	(void)lit_filter_add(*filter, value); /* one that gives up lets every text through */
	struct strbuf *text = &alternatives->text;
	if (text->len)
		strbuf_append_char(text, '|');
	strbuf_append_str(text, "(?:");
	if (alternatives->count == alternatives->capacity) {
		alternatives->capacity = alternatives->capacity ? 2 * alternatives->capacity : 4;
		alternatives->pieces = xreallocarray(alternatives->pieces, alternatives->capacity,
		                                     sizeof *alternatives->pieces);
	}
	alternatives->pieces[alternatives->count++] =
		(struct pattern_piece){ ld->line, text->len, value.len };
	strbuf_append_text(text, value);
	strbuf_append_char(text, ')');
}

static void take_key(struct loader *ld, enum key key, struct text value)
{
	struct rule *r = ld->rule;
	if ((ld->seen & (1u << key)) && !repeatable(key)) {
		load_error(ld, ld->line, "'%s' given twice in rule %s", key_names[key], r->id);
		return;
	}
	ld->seen |= 1u << key;
	int at;
	switch (key) {
	case KEY_REASON:
		at = find_word(reasons, sizeof reasons / sizeof *reasons, value);
		if (at < 0)
			load_error(ld, ld->line, "unknown reason '%.*s'", (int)value.len, value.ptr);
		else
			r->reason = reasons[at];
		return;
	case KEY_OWNER:
		at = find_word(owners, sizeof owners / sizeof *owners, value);
		if (at < 0)
			load_error(ld, ld->line, "unknown owner '%.*s'", (int)value.len, value.ptr);
		else
			r->owner = owners[at];
		return;
	case KEY_EXPLANATION:
		if (check_template(ld, value))
			append_output(&r->explanation, value);
		return;
	case KEY_ACTION:
		if (check_template(ld, value))
			append_output(&r->action, value);
		return;
	case KEY_ERROR:
		take_pattern(ld, &ld->error_re, &r->error.filter, value);
		return;
	case KEY_TEXT:
		take_pattern(ld, &ld->text_re, &r->text.filter, value);
		return;
	default:
		for (struct text rest = value, w = next_word(&rest); w.len; w = next_word(&rest))
			if (!take_word(ld, key, w))
				return;
	}
}

/* Each pattern line alone, so that an error names its line: asked only
 * when the joined pattern does not compile or the rule failed already
 * (compiling every line twice cost a third of loading the rules).
 * Returns the number of lines in error. */
static size_t check_pieces(struct loader *ld, const struct alternatives *alternatives)
{
	size_t bad = 0;
	for (size_t i = 0; i < alternatives->count; i++) {
		const struct pattern_piece *piece = &alternatives->pieces[i];
		int code;
		PCRE2_SIZE offset;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)alternatives->text.data + piece->start,
		                               piece->length, PCRE2_CASELESS, &code, &offset, NULL);
		if (re == NULL) {
			PCRE2_UCHAR why[256];
			pcre2_get_error_message(code, why, sizeof why);
			load_error(ld, piece->line, "bad pattern at offset %zu: %s", (size_t)offset,
			           (const char *)why);
			bad++;
		}
		pcre2_code_free(re);
	}
	return bad;
}

static pcre2_code *compile(struct loader *ld, const struct alternatives *alternatives)
{
	if (alternatives->count == 0)
		return NULL;
	int code;
	PCRE2_SIZE offset;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)alternatives->text.data, alternatives->text.len,
	                               PCRE2_CASELESS, &code, &offset, NULL);
	if (re == NULL && check_pieces(ld, alternatives) == 0) {
		/* each line compiles alone, yet not together */
		PCRE2_UCHAR why[256];
		pcre2_get_error_message(code, why, sizeof why);
		load_error(ld, alternatives->pieces[0].line, "bad pattern: %s", (const char *)why);
	}
	return re;
}

static void alternatives_reset(struct alternatives *alternatives)
{
	strbuf_reset(&alternatives->text);
	alternatives->count = 0;
}

static void alternatives_release(struct alternatives *alternatives)
{
	strbuf_release(&alternatives->text);
	free(alternatives->pieces);
}

/* JIT is an optimisation: without it (no JIT on this CPU) the
 * interpreter runs the same pattern under the same limits. */
static void jit_once(pcre2_code *re, bool *tried)
{
	if (*tried)
		return;
	*tried = true;
#ifndef EXIMEXPLAIN_NO_JIT /* make check-valgrind: memcheck cannot follow JIT code */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
#else
	(void)re;
#endif
}

/* The rule being read is complete: check it and file it. */
static void end_rule(struct loader *ld)
{
	struct rule *r = ld->rule;
	if (r == NULL)
		return;
	ld->rule = NULL;
	if (!ld->rule_failed) {
		r->error.re = compile(ld, &ld->error_re);
		r->text.re = compile(ld, &ld->text_re);
	} else {
		/* the rule is left out, but every bad pattern is still told */
		(void)check_pieces(ld, &ld->error_re);
		(void)check_pieces(ld, &ld->text_re);
	}
	static const enum key required[] = { KEY_REASON, KEY_OWNER, KEY_EXPLANATION, KEY_ACTION };
	for (size_t i = 0; i < sizeof required / sizeof *required && !ld->rule_failed; i++)
		if (!(ld->seen & (1u << required[i])))
			load_error(ld, r->line, "rule %s has no '%s'", r->id, key_names[required[i]]);
	if (ld->rule_failed) {
		rule_free(r);
		return;
	}
	forget_candidates(ld->set);
	struct rule **same = find_id(ld->set, r->id);
	if (same && ld->origin == RULES_SHIPPED) {
		/* two shipped rules with one id is a packaging mistake */
		load_error(ld, r->line, "rule %s is already defined at %s:%u", r->id,
		           (*same)->file, (*same)->line);
		rule_free(r);
	} else if (same) {
		rule_free(*same);
		*same = r;
	} else if (ld->origin == RULES_USER) {
		push(&ld->set->front, &ld->set->front_count, r);
	} else {
		push(&ld->set->main, &ld->set->main_count, r);
	}
}

static void begin_rule(struct loader *ld, struct text rest)
{
	end_rule(ld);
	struct text id = next_word(&rest);
	ld->rule_failed = false;
	ld->seen = 0;
	alternatives_reset(&ld->error_re);
	alternatives_reset(&ld->text_re);
	if (!valid_id(id) || trim(rest).len) {
		load_error(ld, ld->line,
		           "'rule' needs one id of dot-separated lower-case words, like remote.greylisted");
		/* keep a placeholder so the keys below it are skipped quietly */
	}
	struct rule *r = xcalloc(1, sizeof *r);
	r->id = xmemdup(id.ptr, id.len);
	r->file = xstrdup(ld->path);
	r->line = ld->line;
	ld->rule = r;
}

static void parse_line(struct loader *ld, struct text line)
{
	if (memchr(line.ptr, '\0', line.len)) {
		load_error(ld, ld->line, "NUL byte in a rule file");
		return;
	}
	struct text body = trim(line);
	if (body.len == 0 || body.ptr[0] == '#')
		return;
	if (!is_blank(line.ptr[0])) {
		struct text rest = line;
		struct text word = next_word(&rest);
		if (text_equals(word, "rule"))
			begin_rule(ld, rest);
		else
			load_error(ld, ld->line,
			           "expected 'rule ID' (key lines must be indented)");
		return;
	}
	if (ld->rule == NULL) {
		load_error(ld, ld->line, "key line before the first 'rule' line");
		return;
	}
	if (ld->rule_failed)
		return; /* one error per rule is enough */
	struct text rest = body;
	struct text word = next_word(&rest);
	struct text value = trim(rest);
	int key = find_word(key_names, KEY_COUNT, word);
	if (key < 0) {
		load_error(ld, ld->line, "unknown key '%.*s'", (int)word.len, word.ptr);
		return;
	}
	if (value.len == 0) {
		load_error(ld, ld->line, "'%s' needs a value", key_names[key]);
		return;
	}
	take_key(ld, (enum key)key, value);
}

static char *read_whole(const char *path, size_t *length)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		msg_warn("%s: %s", path, strerror(errno));
		return NULL;
	}
	struct strbuf sb = STRBUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		if (sb.len + n > RULE_FILE_MAX) {
			msg_warn("%s: a rule file may hold at most %u bytes", path, RULE_FILE_MAX);
			strbuf_release(&sb);
			fclose(fp);
			return NULL;
		}
		strbuf_append(&sb, chunk, n);
	}
	bool failed = ferror(fp);
	fclose(fp);
	if (failed) {
		msg_warn("%s: read error", path);
		strbuf_release(&sb);
		return NULL;
	}
	*length = sb.len;
	return sb.data ? sb.data : xstrdup("");
}

static size_t load_file(struct rule_set *set, const char *path, enum rule_origin origin)
{
	size_t length;
	char *data = read_whole(path, &length);
	if (data == NULL)
		return 1;
	struct loader ld = { .set = set, .origin = origin, .path = path };
	strbuf_init(&ld.error_re.text);
	strbuf_init(&ld.text_re.text);
	struct text rest = text_make(data, length);
	while (rest.len) {
		const char *nl = memchr(rest.ptr, '\n', rest.len);
		size_t n = nl ? (size_t)(nl - rest.ptr) : rest.len;
		ld.line++;
		parse_line(&ld, text_make(rest.ptr, n));
		rest = text_skip(rest, n + (nl != NULL));
	}
	end_rule(&ld);
	alternatives_release(&ld.error_re);
	alternatives_release(&ld.text_re);
	free(data);
	return ld.errors;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_rules_file(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 6 && strcmp(name + n - 6, ".rules") == 0;
}

size_t rules_load(struct rule_set *set, const char *path, enum rule_origin origin)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		msg_warn("%s: %s", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(set, path, origin);
	DIR *dir = opendir(path);
	if (dir == NULL) {
		msg_warn("%s: %s", path, strerror(errno));
		return 1;
	}
	char **names = NULL;
	size_t count = 0;
	for (struct dirent *e; (e = readdir(dir)) != NULL;) {
		if (!is_rules_file(e->d_name))
			continue;
		names = xreallocarray(names, count + 1, sizeof *names);
		names[count++] = xstrdup(e->d_name);
	}
	closedir(dir);
	if (count > 1) /* names is NULL in a directory without rule files */
		qsort(names, count, sizeof *names, by_name);
	size_t errors = 0;
	struct strbuf file = STRBUF_INIT;
	for (size_t i = 0; i < count; i++) {
		strbuf_reset(&file);
		strbuf_printf(&file, "%s/%s", path, names[i]);
		errors += load_file(set, file.data, origin);
		free(names[i]);
	}
	strbuf_release(&file);
	free(names);
	return errors;
}

/* ---- matching ---- */

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Glob with * and ?, ignoring ASCII case; iterative, so no pattern can
 * make it recurse. */
static bool caseless_equal(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

/* A name, or "*" and a suffix (most of the table's hosts): compared
 * directly, where the general loop below tries the suffix at every place
 * (650 instructions a host). -1: another shape. */
static int simple_glob_match(const char *pattern, size_t plen, struct text s)
{
	bool leading_star = plen > 0 && pattern[0] == '*';
	size_t from = leading_star ? 1 : 0;
	for (size_t k = from; k < plen; k++)
		if (pattern[k] == '*' || pattern[k] == '?')
			return -1;
	size_t n = plen - from;
	if (n == 0) /* "*", or an empty name */
		return leading_star || s.len == 0;
	if (leading_star)
		return s.len >= n && caseless_equal(s.ptr + s.len - n, pattern + from, n);
	return s.len == n && caseless_equal(s.ptr, pattern, n);
}

static bool glob_match(const char *pattern, struct text s)
{
	size_t p = 0, i = 0, star_p = SIZE_MAX, star_i = 0;
	size_t plen = strlen(pattern);
	int simple = simple_glob_match(pattern, plen, s);
	if (simple >= 0)
		return simple;
	while (i < s.len) {
		if (p < plen && (pattern[p] == '?' || lower(pattern[p]) == lower(s.ptr[i]))) {
			p++;
			i++;
		} else if (p < plen && pattern[p] == '*') {
			star_p = p++;
			star_i = i;
		} else if (star_p != SIZE_MAX) {
			p = star_p + 1;
			i = ++star_i;
		} else {
			return false;
		}
	}
	while (p < plen && pattern[p] == '*')
		p++;
	return p == plen;
}

static bool any_glob(const struct name_list *list, struct text a, struct text b)
{
	if (list->count == 0)
		return true;
	for (size_t i = 0; i < list->count; i++)
		if ((a.len && glob_match(list->names[i], a)) || (b.len && glob_match(list->names[i], b)))
			return true;
	return false;
}

static bool any_name(const struct name_list *list, struct text value)
{
	if (list->count == 0)
		return true;
	for (size_t i = 0; i < list->count; i++)
		if (text_equals(value, list->names[i]))
			return true;
	return false;
}

static bool code_holds(const struct rule *r, int code)
{
	if (r->code_count == 0)
		return true;
	for (size_t i = 0; i < r->code_count; i++)
		if (code >= r->codes[i].low && code <= r->codes[i].high)
			return true;
	return false;
}

/* re (JIT-compiled already, or not to be) against t, under the limits. */
static bool pattern_holds(struct rule_set *set, struct rule *r, pcre2_code *re, struct text t)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)(t.ptr ? t.ptr : ""), t.len, 0, 0,
	                     set->matcher.match, set->matcher.context);
	if (rc >= 0)
		return true;
	if (rc != PCRE2_ERROR_NOMATCH && !r->warned) {
		r->warned = true;
		PCRE2_UCHAR why[256];
		pcre2_get_error_message(rc, why, sizeof why);
		msg_warn("%s:%u: rule %s: pattern gave up (%s); treated as not matching", r->file,
		         r->line, r->id, (const char *)why);
	}
	return false;
}

/* What the facts give the cheap conditions, worked out once per match
 * rather than once per rule. */
struct prepared_facts {
	const struct rule_facts *facts;
	unsigned stage_bit;   /* 0 when the stage has no name in rules */
	bool has_status;      /* the status parsed */
	int status[3];
	/* the trigrams of error and text, worked out when a rule first needs
	 * them (text is often the same view as error) */
	bool error_trigrams_known, text_trigrams_known;
	struct lit_trigrams error_trigrams, text_trigrams;
};

static unsigned stage_bit(struct text stage)
{
	for (size_t i = 0; i < STAGE_COUNT; i++)
		if (text_equals(stage, stages[i].txn_name))
			return 1u << i;
	return 0;
}

static void prepare_facts(const struct rule_facts *facts, struct prepared_facts *out)
{
	out->facts = facts;
	out->stage_bit = stage_bit(facts->stage);
	out->has_status = parse_status(facts->status, out->status);
	out->error_trigrams_known = out->text_trigrams_known = false;
}

static bool same_view(struct text a, struct text b)
{
	return a.ptr == b.ptr && a.len == b.len;
}

/* The remote's reply, when the error ends with it ("SMTP error from
 * remote mail server after RCPT TO:<a>: 550 5.1.1 ..."): its trigrams are
 * the error's last ones. */
static bool text_ends_error(const struct rule_facts *f)
{
	return f->text.len >= 3 && f->text.len < f->error.len &&
	       memcmp(f->error.ptr + f->error.len - f->text.len, f->text.ptr, f->text.len) == 0;
}

static const struct lit_trigrams *text_trigrams_alone(struct prepared_facts *p)
{
	if (!p->text_trigrams_known) {
		lit_trigrams_of(p->facts->text, &p->text_trigrams);
		p->text_trigrams_known = true;
	}
	return &p->text_trigrams;
}

/* A miss of the memo for a failed recipient needs both sets, and the
 * error is mostly its text: the text's set is worked out once, and the
 * error's is it and the trigrams that start in the error's head. */
static const struct lit_trigrams *error_trigrams(struct prepared_facts *p)
{
	if (!p->error_trigrams_known) {
		const struct rule_facts *f = p->facts;
		if (text_ends_error(f)) {
			p->error_trigrams = *text_trigrams_alone(p);
			size_t head = f->error.len - f->text.len;
			lit_trigrams_add(text_make(f->error.ptr, head + 2), &p->error_trigrams);
		} else {
			lit_trigrams_of(f->error, &p->error_trigrams);
		}
		p->error_trigrams_known = true;
	}
	return &p->error_trigrams;
}

static const struct lit_trigrams *text_trigrams(struct prepared_facts *p)
{
	const struct rule_facts *f = p->facts;
	if (same_view(f->text, f->error))
		return error_trigrams(p);
	return text_trigrams_alone(p);
}

void rules_use_literal_filters(struct rule_set *set, bool on)
{
	set->every_pattern_runs = !on;
}

/* Branch i of a pattern, compiled alone on first use; NULL when it
 * cannot be (then the whole pattern decides). */
static pcre2_code *branch_re(struct rule_pattern *pattern, size_t i)
{
	size_t count = lit_filter_branch_count(pattern->filter);
	if (pattern->branches == NULL)
		pattern->branches = xcalloc(count, sizeof *pattern->branches);
	struct branch_pattern *b = &pattern->branches[i];
	if (!b->compiled) {
		b->compiled = true;
		struct text source = lit_filter_branch(pattern->filter, i);
		int code;
		PCRE2_SIZE offset;
		b->re = pcre2_compile((PCRE2_SPTR)source.ptr, source.len, PCRE2_CASELESS, &code,
		                      &offset, NULL);
	}
	if (b->re)
		jit_once(b->re, &b->jit_tried);
	return b->re;
}

/* Whether the text matches the pattern: with a usable filter, the
 * branches it lets through, each alone, in order; else the whole. */
static bool pattern_matches(struct rule_set *set, struct rule *r, struct rule_pattern *pattern,
                            const struct lit_trigrams *trigrams, struct text t)
{
	size_t count = set->every_pattern_runs ? 0 : lit_filter_branch_count(pattern->filter);
	if (count == 0) {
		if (!set->every_pattern_runs && !lit_filter_may_match(pattern->filter, trigrams))
			return false;
		jit_once(pattern->re, &pattern->jit_tried);
		return pattern_holds(set, r, pattern->re, t);
	}
	for (size_t i = lit_filter_next_branch(pattern->filter, 0, trigrams); i < count;
	     i = lit_filter_next_branch(pattern->filter, i + 1, trigrams)) {
		pcre2_code *re = branch_re(pattern, i);
		if (re == NULL) { /* not expected: the branch is part of a valid pattern */
			jit_once(pattern->re, &pattern->jit_tried);
			return pattern_holds(set, r, pattern->re, t);
		}
		if (pattern_holds(set, r, re, t))
			return true;
	}
	return false;
}

/* The patterns, each skipped when its literals say it cannot match. */
static bool patterns_hold(struct rule_set *set, struct rule *r, struct prepared_facts *p)
{
	if (r->error.re && !pattern_matches(set, r, &r->error, error_trigrams(p), p->facts->error))
		return false;
	return r->text.re == NULL ||
	       pattern_matches(set, r, &r->text, text_trigrams(p), p->facts->text);
}

static bool status_holds(const struct rule *r, const struct prepared_facts *p)
{
	if (r->status_count == 0)
		return true;
	if (!p->has_status)
		return false;
	const int *part = p->status;
	for (size_t i = 0; i < r->status_count; i++) {
		const int *want = r->statuses[i].part;
		if ((want[0] < 0 || want[0] == part[0]) && (want[1] < 0 || want[1] == part[1]) &&
		    (want[2] < 0 || want[2] == part[2]))
			return true;
	}
	return false;
}

static bool class_holds(const struct rule *r, enum rule_outcome outcome, enum line_kind kind)
{
	if (r->outcomes && !(r->outcomes & (1u << outcome)))
		return false;
	return !r->kinds || (kind < LINE_KIND_COUNT && (r->kinds & (UINT64_C(1) << kind)));
}

/* Every condition but the class, which the candidate list has tested. */
static bool rule_holds(struct rule_set *set, struct rule *r, struct prepared_facts *p)
{
	const struct rule_facts *f = p->facts;
	if (r->stage_bits && !(r->stage_bits & p->stage_bit))
		return false;
	if (!code_holds(r, f->code) || !status_holds(r, p))
		return false;
	if (!any_name(&r->routers, f->router) || !any_name(&r->transports, f->transport))
		return false;
	if (!any_glob(&r->hosts, f->host, f->ip) || !any_glob(&r->domains, f->domain, f->domain) ||
	    !any_glob(&r->senders, f->sender, f->sender))
		return false;
	return patterns_hold(set, r, p);
}

static unsigned facts_used(const struct rule *r)
{
	unsigned uses = 0;
	if (r->stage_bits) uses |= USES_STAGE;
	if (r->code_count) uses |= USES_CODE;
	if (r->status_count) uses |= USES_STATUS;
	if (r->routers.count) uses |= USES_ROUTER;
	if (r->transports.count) uses |= USES_TRANSPORT;
	if (r->hosts.count) uses |= USES_HOST;
	if (r->domains.count) uses |= USES_DOMAIN;
	if (r->senders.count) uses |= USES_SENDER;
	if (r->error.re) uses |= USES_ERROR;
	if (r->text.re) uses |= USES_TEXT;
	return uses;
}

/* A rule with no condition but its class holds for every failure of the
 * class: the rules after it are never reached, so they are not
 * candidates, and the memo key leaves out the facts only they look at.
 * An authentication failure's rule is the second of its class, and
 * asks for nothing: its text, which names the user tried, is then not
 * in the key, and each failure is a hit of the memo, not a miss. */
static void push_class(struct candidates *c, struct rule *const *rules, size_t count,
                       enum rule_outcome outcome, enum line_kind kind)
{
	for (size_t i = 0; i < count && !c->ends_always; i++)
		if (class_holds(rules[i], outcome, kind)) {
			push(&c->rules, &c->count, rules[i]);
			unsigned uses = facts_used(rules[i]);
			c->uses |= uses;
			c->ends_always = uses == 0;
		}
}

static const struct rule_pattern *screened_pattern(const struct rule *r, bool text)
{
	return text ? &r->text : &r->error;
}

#define SCREEN_AFTER 16

static size_t screened_sets(const struct candidates *c, size_t i, bool text)
{
	const struct rule_pattern *p = screened_pattern(c->rules[i], text);
	return p->re ? lit_filter_probe_sets(p->filter) : 0;
}

static const struct lit_probe_set *screened_set(const struct candidates *c, size_t i, bool text,
                                                size_t k)
{
	return lit_filter_probe_set(screened_pattern(c->rules[i], text)->filter, k);
}

/* How many of the class's probe sets test each trigram: a trigram few
 * rule words have is taken to be one few texts have too. */
static uint32_t *probe_counts(const struct candidates *c, bool text)
{
	uint32_t *count = xcalloc(LIT_TRIGRAM_BITS, sizeof *count);
	for (size_t i = 0; i < c->count; i++)
		for (size_t k = 0; k < screened_sets(c, i, text); k++) {
			const struct lit_probe_set *set = screened_set(c, i, text, k);
			for (unsigned p = 0; p < set->count; p++)
				count[set->probe[p]]++;
		}
	return count;
}

/* The set with its rarest probe first, the others after it from rare to
 * common: the screen files the set under its first probe, so a text
 * meets it only when it has that trigram, and a test that fails fails
 * early. */
static struct lit_probe_set rarest_first(const struct lit_probe_set *set, const uint32_t *count)
{
	struct lit_probe_set sorted = *set;
	for (unsigned i = 1; i < sorted.count; i++)
		for (unsigned j = i; j > 0 && count[sorted.probe[j]] < count[sorted.probe[j - 1]]; j--) {
			uint16_t t = sorted.probe[j];
			sorted.probe[j] = sorted.probe[j - 1];
			sorted.probe[j - 1] = t;
		}
	return sorted;
}

static void build_screen(struct screen *s, const struct candidates *c, bool text)
{
	size_t words = c->count / 64 + 1;
	s->judged = xcalloc(words, sizeof *s->judged);
	s->may = xcalloc(words, sizeof *s->may);
	s->start = xcalloc(LIT_TRIGRAM_BITS + 1, sizeof *s->start);
	s->filed = xcalloc(LIT_TRIGRAM_BITS / 64, sizeof *s->filed);
	uint32_t *count = probe_counts(c, text);
	size_t total = 0;
	for (size_t i = 0; i < c->count; i++) {
		size_t sets = screened_sets(c, i, text);
		if (sets)
			s->judged[i / 64] |= UINT64_C(1) << (i % 64);
		for (size_t k = 0; k < sets; k++) {
			unsigned t = rarest_first(screened_set(c, i, text, k), count).probe[0];
			s->start[t + 1]++;
			s->filed[t / 64] |= UINT64_C(1) << (t % 64);
		}
		total += sets;
	}
	for (size_t t = 0; t < LIT_TRIGRAM_BITS; t++)
		s->start[t + 1] += s->start[t];
	s->entries = xcalloc(total ? total : 1, sizeof *s->entries);
	uint32_t *next = xcalloc(LIT_TRIGRAM_BITS, sizeof *next);
	memcpy(next, s->start, LIT_TRIGRAM_BITS * sizeof *next);
	for (size_t i = 0; i < c->count; i++)
		for (size_t k = 0; k < screened_sets(c, i, text); k++) {
			struct lit_probe_set set = rarest_first(screened_set(c, i, text, k), count);
			s->entries[next[set.probe[0]]++] = (struct screen_entry){ set, (uint32_t)i };
		}
	free(next);
	free(count);
}

static struct candidates *candidates_for(struct rule_set *set, enum rule_outcome outcome,
                                         enum line_kind kind)
{
	size_t k = kind < LINE_KIND_COUNT ? (size_t)kind : LINE_KIND_COUNT;
	struct candidates *c = &set->by_class[outcome][k];
	if (!c->built) {
		push_class(c, set->front, set->front_count, outcome, kind);
		push_class(c, set->main, set->main_count, outcome, kind);
		build_screen(&c->error_screen, c, false);
		build_screen(&c->text_screen, c, true);
		c->built = true;
		set->candidates_built = true;
	}
	return c;
}

/* s->may: the candidates one of whose probe sets the text holds whole. */
static void screen_text(struct screen *s, size_t candidates, const struct lit_trigrams *t)
{
	memset(s->may, 0, (candidates / 64 + 1) * sizeof *s->may);
	for (size_t w = 0; w < LIT_TRIGRAM_BITS / 64; w++)
		for (uint64_t bits = t->bits[w] & s->filed[w]; bits; bits &= bits - 1) {
			size_t trigram = w * 64 + (size_t)__builtin_ctzll(bits);
			for (uint32_t e = s->start[trigram]; e < s->start[trigram + 1]; e++) {
				const struct screen_entry *entry = &s->entries[e];
				if (lit_probe_set_holds(&entry->probes, t))
					s->may[entry->candidate / 64] |= UINT64_C(1)
					                                 << (entry->candidate % 64);
			}
		}
}

/* Of the 64 candidates from 64 * w on, those the screen leaves possible:
 * the ones it cannot judge, and the ones it found may match. */
static uint64_t screen_leaves(const struct screen *s, size_t w)
{
	return ~s->judged[w] | s->may[w];
}

static bool screen_used(const struct screen *s, size_t candidates)
{
	for (size_t w = 0; w <= candidates / 64; w++)
		if (s->judged[w])
			return true;
	return false;
}

/* When the loaded rules have no catch-all (a user's own set, or shipped
 * files missing), something must still be said. */
static char last_resort_id[] = "builtin.unexplained";
static char last_resort_file[] = "(built in)";
static char last_resort_explanation[] =
	"No rule explains this ({outcome}); the reason is in the log line.";
static char last_resort_action[] =
	"Read the log lines of the message (eximexplain show ID); add a rule with --rules.";
static struct rule last_resort = {
	.id = last_resort_id, .file = last_resort_file, .reason = "undefined", .owner = "unknown",
	.explanation = last_resort_explanation, .action = last_resort_action,
};

/* The candidates from `from` on that the screens leave possible, in order
 * (all of them when there are no screens): the first that holds. */
static const struct rule *first_screened_holding(struct rule_set *set, struct candidates *c,
                                                 struct prepared_facts *prepared, size_t from)
{
	bool error_screen = !set->every_pattern_runs && screen_used(&c->error_screen, c->count);
	bool text_screen = !set->every_pattern_runs && screen_used(&c->text_screen, c->count);
	if (error_screen)
		screen_text(&c->error_screen, c->count, error_trigrams(prepared));
	if (text_screen)
		screen_text(&c->text_screen, c->count, text_trigrams(prepared));
	/* a word of candidates at a time: most are screened out, and are
	 * passed over without a look */
	for (size_t w = from / 64; w <= (c->count - 1) / 64; w++) {
		uint64_t left = ~UINT64_C(0);
		if (w == from / 64)
			left &= ~UINT64_C(0) << (from % 64);
		if (error_screen)
			left &= screen_leaves(&c->error_screen, w);
		if (text_screen)
			left &= screen_leaves(&c->text_screen, w);
		for (; left; left &= left - 1) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(left);
			if (i >= c->count)
				return &last_resort;
			if (rule_holds(set, c->rules[i], prepared))
				return c->rules[i];
		}
	}
	return &last_resort;
}

static const struct rule *first_holding(struct rule_set *set, struct candidates *c,
                                        const struct rule_facts *facts)
{
	set->worked_out++;
	struct prepared_facts prepared;
	prepare_facts(facts, &prepared);
	/* The screens cost a pass over the text's trigrams: worth it only
	 * past the first few candidates, where most texts find their rule.
	 * They are the literal filters asked all at once, so off with them. */
	for (size_t i = 0; i < c->count && i < SCREEN_AFTER; i++)
		if (rule_holds(set, c->rules[i], &prepared))
			return c->rules[i];
	if (c->count <= SCREEN_AFTER)
		return &last_resort;
	return first_screened_holding(set, c, &prepared, SCREEN_AFTER);
}

/* A memo key: the class, then each fact the class's rules look at, in a
 * fixed order, each text after its length, so that two keys are equal
 * exactly when the facts are equal to every rule that may answer. */
struct facts_key {
	size_t length;
	bool fits;
	unsigned char bytes[MEMO_KEY_MAX];
};

static void key_bytes(struct facts_key *key, const void *bytes, size_t length)
{
	if (!key->fits || length > sizeof key->bytes - key->length) {
		key->fits = false;
		return;
	}
	if (length) /* bytes may be NULL then */
		memcpy(key->bytes + key->length, bytes, length);
	key->length += length;
}

/* Lengths are below MEMO_KEY_MAX when the key fits; TEXT_SAME_AS_ERROR
 * is none of them. */
#define TEXT_SAME_AS_ERROR 0xFFFFu

static void key_length(struct facts_key *key, size_t length)
{
	uint16_t n = length < TEXT_SAME_AS_ERROR ? (uint16_t)length : (uint16_t)(TEXT_SAME_AS_ERROR - 1);
	key_bytes(key, &n, sizeof n);
}

static void key_text(struct facts_key *key, struct text t)
{
	key_length(key, t.len);
	key_bytes(key, t.ptr, t.len);
}

static void facts_key_of(const struct rule_facts *f, unsigned uses, struct facts_key *key)
{
	key->length = 0;
	key->fits = true;
	uint16_t class[2] = { (uint16_t)f->outcome, (uint16_t)f->kind };
	key_bytes(key, class, sizeof class);
	if (uses & USES_CODE)
		key_bytes(key, &f->code, sizeof f->code);
	if (uses & USES_STAGE) key_text(key, f->stage);
	if (uses & USES_STATUS) key_text(key, f->status);
	if (uses & USES_ROUTER) key_text(key, f->router);
	if (uses & USES_TRANSPORT) key_text(key, f->transport);
	if (uses & USES_HOST) {
		key_text(key, f->host);
		key_text(key, f->ip);
	}
	if (uses & USES_DOMAIN) key_text(key, f->domain);
	if (uses & USES_SENDER) key_text(key, f->sender);
	if (uses & USES_ERROR) key_text(key, f->error);
	if (uses & USES_TEXT) {
		/* often the very view error is: said once */
		if ((uses & USES_ERROR) && same_view(f->text, f->error))
			key_length(key, TEXT_SAME_AS_ERROR);
		else
			key_text(key, f->text);
	}
}

void rules_use_memo(struct rule_set *set, bool on)
{
	set->no_memo = !on;
}

const struct rule *rules_match(struct rule_set *set, const struct rule_facts *facts)
{
	if (facts->outcome >= RULE_OUTCOME_COUNT)
		return &last_resort;
	struct candidates *c = candidates_for(set, facts->outcome, facts->kind);
	if (set->no_memo)
		return first_holding(set, c, facts);
	struct facts_key key;
	facts_key_of(facts, c->uses, &key);
	if (!key.fits)
		return first_holding(set, c, facts);
	if (set->memo == NULL)
		set->memo = memo_new(MEMO_SLOTS);
	uint64_t hash = memo_hash(key.bytes, key.length);
	const struct rule *known = memo_get(set->memo, key.bytes, key.length, hash);
	if (known)
		return known;
	const struct rule *found = first_holding(set, c, facts);
	memo_put(set->memo, key.bytes, key.length, hash, found);
	return found;
}

uint64_t rules_matches_worked_out(const struct rule_set *set)
{
	return set->worked_out;
}

const char *rule_id(const struct rule *rule) { return rule->id; }
const char *rule_reason(const struct rule *rule) { return rule->reason; }
const char *rule_owner(const struct rule *rule) { return rule->owner; }
const char *rule_explanation(const struct rule *rule) { return rule->explanation; }
const char *rule_action(const struct rule *rule) { return rule->action; }
const char *rule_file(const struct rule *rule) { return rule->file; }
unsigned rule_line(const struct rule *rule) { return rule->line; }

/* ---- rendering ---- */

static struct text field_value(const struct rule_facts *f, struct text name, char *number,
                               size_t number_size)
{
	if (text_equals(name, "host")) return f->host.len ? f->host : f->ip;
	if (text_equals(name, "ip")) return f->ip;
	if (text_equals(name, "domain")) return f->domain;
	if (text_equals(name, "address")) return f->address;
	if (text_equals(name, "sender")) return f->sender;
	if (text_equals(name, "text")) return f->text;
	if (text_equals(name, "error")) return f->error;
	if (text_equals(name, "id")) return f->id;
	if (text_equals(name, "router")) return f->router;
	if (text_equals(name, "transport")) return f->transport;
	if (text_equals(name, "status")) return f->status;
	if (text_equals(name, "stage")) return f->stage;
	if (text_equals(name, "kind") && f->kind < LINE_KIND_COUNT) {
		const char *k = line_kind_name(f->kind);
		return text_make(k, strlen(k));
	}
	if (text_equals(name, "outcome")) {
		const char *o = rules_outcome_name(f->outcome);
		return text_make(o, strlen(o));
	}
	if (text_equals(name, "code") && f->code > 0) {
		int n = snprintf(number, number_size, "%d", f->code);
		return text_make(number, n > 0 ? (size_t)n : 0);
	}
	return text_make(NULL, 0);
}

void rules_render(const char *template, const struct rule_facts *facts, bool generic,
                  struct strbuf *out)
{
	if (template == NULL)
		return;
	for (const char *p = template; *p;) {
		const char *open = strchr(p, '{');
		const char *close = open ? strchr(open, '}') : NULL;
		if (open == NULL || close == NULL) {
			strbuf_append_str(out, p);
			return;
		}
		strbuf_append(out, p, (size_t)(open - p));
		const char *bar = memchr(open, '|', (size_t)(close - open));
		struct text name = text_make(open + 1, (size_t)((bar ? bar : close) - open - 1));
		char number[16];
		int field;
		struct text value = facts && !generic
		                            ? field_value(facts, name, number, sizeof number)
		                            : text_make(NULL, 0);
		if (value.len)
			strbuf_append_text(out, value);
		else if (bar)
			strbuf_append(out, bar + 1, (size_t)(close - bar - 1));
		else if ((field = find_field(name)) >= 0)
			strbuf_append_str(out, fields[field].otherwise);
		p = close + 1;
	}
}
