/*
 * drilldown: exigrep, rebuilt on the transaction table (drilldown.h).
 *
 * The table decides where a message ends, so a "Completed" inside a
 * subject or a remote reply no longer cuts a message in two, and both ID
 * formats group. This file only selects and prints. It must never write a
 * byte of log text unescaped (log text is written by strangers), never
 * keep a message after its callback returns except as rendered text in the
 * bounded -M hold, and never let the remembered IDs grow with the input.
 * The pattern is compiled once (JIT when available) with match and depth
 * limits, so a pathological pattern costs a bounded time per line and is
 * then taken as not matching (and counted in a warning).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "drilldown.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "matcher.h"
#include "msg.h"
#include "strbuf.h"
#include "xalloc.h"

#define MATCH_LIMIT 1000000     /* backtracking steps per line */
#define DEPTH_LIMIT 10000       /* interpreter only; JIT uses its stack */
#define HOLD_WAITS 8            /* open IDs one held message may wait for */
#define HOLD_BUCKETS 1024       /* counting filter over the awaited IDs */
#define RELATED_BUCKETS 16384
#define REPLY_SHOWN 200         /* bytes of a reply or error in an outcome */
#define HIGHLIGHTS_PER_LINE 256

#define COLOR_MATCH "\033[1;31m"
#define COLOR_GOOD "\033[32m"
#define COLOR_BAD "\033[31m"
#define COLOR_WAIT "\033[33m"
#define COLOR_NOTE "\033[1m"
#define COLOR_OFF "\033[0m"

typedef char message_id[MESSAGE_ID_MAX + 1];

/* Selected IDs for -M: a ring of DRILLDOWN_RELATED_MAX slots, the oldest
 * overwritten first, indexed by a chained hash. */
struct related_set {
	message_id *ids;
	int32_t *next;  /* chain, per slot; -1 ends it */
	int32_t *heads; /* per bucket; -1: empty */
	size_t count, oldest;
};

/* A message held back until the open messages it names are decided. */
struct held {
	message_id id, bounce_of, bounced_by;
	message_id waits[HOLD_WAITS];
	size_t wait_count;
	char *text; /* its rendered block */
	size_t length;
};

struct drilldown {
	struct drilldown_options options;
	FILE *out;
	pcre2_code *pattern;
	pcre2_code *bulk_pattern; /* see search_lines; pattern itself, or NULL */
	/* the sink's, and the prefilter's test's: the test may run on the
	 * thread that reads ahead (linepipe.h) while the sink matches */
	struct matcher matcher, test_matcher;
	const struct txn_table *table;
	struct related_set related;
	struct held *holds; /* in the order they were held */
	size_t hold_count, hold_bytes;
	uint16_t awaited[HOLD_BUCKETS];
	struct strbuf block;
	uint64_t printed_messages, printed_lines, match_errors;
	bool nul_may_matter; /* see may_select */
};

/* ---- small helpers ---- */

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static uint32_t id_hash(const char *id, size_t length)
{
	return (uint32_t)text_hash(TEXT_HASH_SEED, id, length);
}

static void copy_id(message_id to, struct text id)
{
	size_t n = id.len < MESSAGE_ID_MAX ? id.len : MESSAGE_ID_MAX;
	memcpy(to, id.ptr, n);
	to[n] = '\0';
}

static bool id_equals(const char *id, struct text t)
{
	return strlen(id) == t.len && memcmp(id, t.ptr, t.len) == 0;
}

static struct text id_text(const char *id)
{
	return text_make(id, strlen(id));
}

/* Exim's own Message-ID header: "E" ID "@" host (id= on <= lines). */
static bool is_message_id_header(const char *s, size_t length, size_t start, size_t n)
{
	return start > 0 && s[start - 1] == 'E' && (start < 2 || !is_alnum(s[start - 2])) &&
	       start + n < length && s[start + n] == '@';
}

/* The next message ID (either format, standing alone or in Exim's own
 * Message-ID) in s from *pos on. */
static bool next_id(const char *s, size_t length, size_t *pos, struct text *id)
{
	while (*pos < length) {
		const char *dash = memchr(s + *pos, '-', length - *pos);
		if (dash == NULL)
			break;
		size_t at = (size_t)(dash - s);
		*pos = at + 1;
		if (at < 6)
			continue;
		size_t start = at - 6;
		for (size_t n = 16; n <= MESSAGE_ID_MAX; n += MESSAGE_ID_MAX - 16) {
			if (start + n > length)
				break;
			bool alone = (start == 0 || !is_alnum(s[start - 1])) &&
			             (start + n == length || !is_alnum(s[start + n]));
			if (!alone && !is_message_id_header(s, length, start, n))
				continue;
			if (lexer_is_message_id(s + start, n)) {
				*id = text_make(s + start, n);
				*pos = start + n;
				return true;
			}
		}
	}
	*pos = length;
	return false;
}

/* ---- the remembered IDs (-M) ---- */

static int32_t related_find(const struct related_set *set, struct text id)
{
	if (set->count == 0)
		return -1;
	int32_t slot = set->heads[id_hash(id.ptr, id.len) % RELATED_BUCKETS];
	while (slot >= 0 && !id_equals(set->ids[slot], id))
		slot = set->next[slot];
	return slot;
}

static bool related_has(const struct related_set *set, struct text id)
{
	return id.len > 0 && related_find(set, id) >= 0;
}

static void related_unlink(struct related_set *set, int32_t slot)
{
	int32_t *link = &set->heads[id_hash(set->ids[slot], strlen(set->ids[slot])) % RELATED_BUCKETS];
	while (*link >= 0 && *link != slot)
		link = &set->next[*link];
	if (*link == slot)
		*link = set->next[slot];
}

static void related_add(struct related_set *set, struct text id)
{
	if (id.len == 0 || id.len > MESSAGE_ID_MAX || related_has(set, id))
		return;
	if (set->ids == NULL) {
		set->ids = xcalloc(DRILLDOWN_RELATED_MAX, sizeof *set->ids);
		set->next = xcalloc(DRILLDOWN_RELATED_MAX, sizeof *set->next);
		set->heads = xmalloc(RELATED_BUCKETS * sizeof *set->heads);
		for (size_t i = 0; i < RELATED_BUCKETS; i++)
			set->heads[i] = -1;
	}
	size_t slot;
	if (set->count == DRILLDOWN_RELATED_MAX) {
		slot = set->oldest;
		related_unlink(set, (int32_t)slot);
		set->oldest = (set->oldest + 1) % DRILLDOWN_RELATED_MAX;
	} else {
		slot = (set->oldest + set->count++) % DRILLDOWN_RELATED_MAX;
	}
	copy_id(set->ids[slot], id);
	uint32_t bucket = id_hash(id.ptr, id.len) % RELATED_BUCKETS;
	set->next[slot] = set->heads[bucket];
	set->heads[bucket] = (int32_t)slot;
}

static void related_free(struct related_set *set)
{
	free(set->ids);
	free(set->next);
	free(set->heads);
}

/* ---- matching ---- */

static bool matches_at(struct drilldown *d, const char *s, size_t length, size_t start)
{
	int rc = pcre2_match(d->pattern, (PCRE2_SPTR)s, length, start, 0, d->matcher.match,
	                     d->matcher.context);
	if (rc >= 0)
		return true;
	if (rc != PCRE2_ERROR_NOMATCH)
		d->match_errors++;
	return false;
}

static bool line_matches(struct drilldown *d, const char *s, size_t length)
{
	return matches_at(d, s, length, 0);
}

/* The prefilter's test. A message's kept lines are matched as far as a
 * NUL (message_matches), a loose line whole (on_loose_line), so either
 * matching selects; and a match error (the pattern's limits) too, so
 * that the second pass meets it and counts it as one pass would. */
static bool may_select(void *state, const char *s, size_t length)
{
	struct drilldown *d = state;
	const struct matcher *m = &d->test_matcher;
	int rc = pcre2_match(d->pattern, (PCRE2_SPTR)s, length, 0, 0, m->match, m->context);
	if (rc != PCRE2_ERROR_NOMATCH)
		return true;
	if (!d->nul_may_matter)
		return false;
	const char *nul = memchr(s, '\0', length);
	return nul && pcre2_match(d->pattern, (PCRE2_SPTR)s, (size_t)(nul - s), 0, 0, m->match,
	                          m->context) != PCRE2_ERROR_NOMATCH;
}

/* The same test over many lines at once: one call for a read-ahead of a
 * megabyte instead of one per line, and PCRE2 skips ahead to where a
 * match could start faster than lines can be split. */
static enum line_search search_lines(void *state, const char *s, size_t length, size_t *at)
{
	struct drilldown *d = state;
	const struct matcher *m = &d->test_matcher;
	int rc = pcre2_match(d->bulk_pattern, (PCRE2_SPTR)s, length, 0, 0, m->match, m->context);
	if (rc == PCRE2_ERROR_NOMATCH)
		return LINE_SEARCH_NONE;
	if (rc < 0) /* a limit: the lines are tried one by one */
		return LINE_SEARCH_UNSURE;
	*at = (size_t)pcre2_get_ovector_pointer(m->match)[0];
	return LINE_SEARCH_FOUND;
}

bool drilldown_line_test(struct drilldown *d, struct line_test *out)
{
	if (d->options.id_count > 0 || d->options.invert || d->options.related)
		return false;
	*out = (struct line_test){ may_select, d, d->bulk_pattern ? search_lines : NULL };
	return true;
}

static bool message_matches(struct drilldown *d, const struct message *m)
{
	for (size_t i = 0; i < m->line_count; i++)
		if (line_matches(d, m->lines[i], strlen(m->lines[i])))
			return true;
	return false;
}

static bool is_wanted_id(const struct drilldown *d, const char *id)
{
	if (id[0] == '\0')
		return false;
	for (size_t i = 0; i < d->options.id_count; i++)
		if (strcmp(d->options.ids[i], id) == 0)
			return true;
	return false;
}

static bool names_wanted_id(const struct drilldown *d, struct text raw)
{
	for (size_t i = 0; i < d->options.id_count; i++)
		if (text_contains(raw, d->options.ids[i]))
			return true;
	return false;
}

/* Queue time at least -t SECS. A message still open at the end counts
 * up to its last line: it has been queued at least that long. Without a
 * known arrival (message_arrival_time) -t refuses the message. */
static bool queue_time_ok(const struct drilldown *d, const struct message *m)
{
	if (d->options.min_queue_seconds < 0)
		return true;
	int64_t end = m->completed ? m->completed : m->state == TXN_OPEN ? m->last_time : 0;
	int64_t start = message_arrival_time(m);
	if (end == 0 || start < 0 || end < start)
		return false;
	return end - start >= d->options.min_queue_seconds;
}

/* Related to a selected message: named by one, or naming one. */
static bool is_related(const struct drilldown *d, const struct message *m)
{
	const struct related_set *set = &d->related;
	if (set->count == 0)
		return false;
	if (related_has(set, id_text(m->id)) || related_has(set, id_text(m->bounce_of)) ||
	    related_has(set, id_text(m->bounced_by)))
		return true;
	for (size_t i = 0; i < m->line_count; i++) {
		const char *line = m->lines[i];
		size_t length = strlen(line), pos = 0;
		struct text id;
		while (next_id(line, length, &pos, &id))
			if (!id_equals(m->id, id) && related_has(set, id))
				return true;
	}
	return false;
}

static void remember(struct drilldown *d, const char *id, const char *bounce_of,
                     const char *bounced_by)
{
	related_add(&d->related, id_text(id));
	related_add(&d->related, id_text(bounce_of));
	related_add(&d->related, id_text(bounced_by));
}

/* ---- rendering ---- */

static void color_on(const struct drilldown *d, struct strbuf *sb, const char *code)
{
	if (d->options.color)
		strbuf_append_str(sb, code);
}

static void color_off(const struct drilldown *d, struct strbuf *sb)
{
	if (d->options.color)
		strbuf_append_str(sb, COLOR_OFF);
}

/* The line, escaped; with colour, every match of the pattern marked. */
static void render_line(struct drilldown *d, struct strbuf *sb, const char *s, size_t length)
{
	bool highlight = d->options.color && d->pattern && !d->options.invert;
	size_t out = 0, start = 0;
	for (int n = 0; highlight && n < HIGHLIGHTS_PER_LINE && start <= length; n++) {
		if (!matches_at(d, s, length, start))
			break;
		PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(d->matcher.match);
		size_t begin = ovector[0], end = ovector[1];
		if (begin < out || end < begin || end > length)
			break;
		if (end == begin) {
			start = begin + 1;
			continue;
		}
		strbuf_append_escaped(sb, text_make(s + out, begin - out));
		strbuf_append_str(sb, COLOR_MATCH);
		strbuf_append_escaped(sb, text_make(s + begin, end - begin));
		strbuf_append_str(sb, COLOR_OFF);
		out = start = end;
	}
	strbuf_append_escaped(sb, text_make(s + out, length - out));
	strbuf_append_char(sb, '\n');
}

/* A reply or error, escaped and cut to REPLY_SHOWN bytes (never inside a
 * UTF-8 sequence). */
static void render_reason(struct strbuf *sb, const char *text)
{
	size_t length = strlen(text);
	bool cut = length > REPLY_SHOWN;
	if (cut) {
		length = REPLY_SHOWN;
		while (length > 0 && ((unsigned char)text[length] & 0xc0) == 0x80)
			length--;
	}
	strbuf_append_escaped(sb, text_make(text, length));
	if (cut)
		strbuf_append_str(sb, "...");
}

static const char *reason_of(const struct smtp_reply *smtp, const char *error)
{
	return smtp->text[0] ? smtp->text : error;
}

static void render_field(struct strbuf *sb, bool *first, const char *tag, const char *value)
{
	if (value[0] == '\0')
		return;
	strbuf_append_str(sb, *first ? "" : " ");
	strbuf_append_str(sb, tag);
	strbuf_append_escaped(sb, id_text(value));
	*first = false;
}

/* " (R=r T=t H=host [ip])", or nothing when none is known. */
static void render_route(struct strbuf *sb, const struct recipient *r)
{
	if (!r->router[0] && !r->transport[0] && !r->host[0] && !r->ip[0])
		return;
	bool first = true;
	strbuf_append_str(sb, " (");
	render_field(sb, &first, "R=", r->router);
	render_field(sb, &first, "T=", r->transport);
	if (r->host[0] || r->ip[0]) {
		render_field(sb, &first, "H=", r->host[0] ? r->host : r->ip);
		if (r->host[0] && r->ip[0] && strcmp(r->host, r->ip) != 0) {
			strbuf_append_str(sb, " [");
			strbuf_append_escaped(sb, id_text(r->ip));
			strbuf_append_char(sb, ']');
		}
	}
	strbuf_append_char(sb, ')');
}

/* " (RCPT TO, H=host)" after an SMTP reply; " (R=router)" after Exim's
 * own error, which the router gave. */
static void render_where(struct strbuf *sb, const struct smtp_reply *smtp,
                         const struct recipient *r)
{
	if (smtp->text[0]) {
		if (!smtp->stage[0] && !r->host[0])
			return;
		strbuf_append_str(sb, " (");
		strbuf_append_escaped(sb, id_text(smtp->stage));
		if (r->host[0]) {
			strbuf_append_str(sb, smtp->stage[0] ? ", H=" : "H=");
			strbuf_append_escaped(sb, id_text(r->host));
		}
		strbuf_append_char(sb, ')');
	} else if (r->router[0]) {
		strbuf_append_str(sb, " (R=");
		strbuf_append_escaped(sb, id_text(r->router));
		strbuf_append_char(sb, ')');
	}
}

static void render_count(struct strbuf *sb, unsigned n, const char *what)
{
	strbuf_printf(sb, "%u %s%s", n, what, n == 1 ? "" : "s");
}

/* "     why: EXPLANATION [rule, reason]" and "     action: ACTION". */
static void render_rule(const struct drilldown *d, struct strbuf *sb, const char *label,
                        const struct rule_facts *facts)
{
	const struct rule *rule = explain_match(d->options.explainer, facts);
	struct strbuf words = STRBUF_INIT;
	rules_render(rule_explanation(rule), facts, false, &words);
	strbuf_printf(sb, "     %s: ", label);
	strbuf_append_escaped(sb, strbuf_text(&words));
	strbuf_printf(sb, " [%s, %s]\n     action: ", rule_id(rule), rule_reason(rule));
	strbuf_reset(&words);
	rules_render(rule_action(rule), facts, false, &words);
	strbuf_append_escaped(sb, strbuf_text(&words));
	strbuf_append_char(sb, '\n');
	strbuf_release(&words);
}

/* Why a recipient failed, was deferred or discarded, or was delayed. */
static void render_explanation(const struct drilldown *d, struct strbuf *sb,
                               const struct message *m, const struct recipient *r)
{
	if (d->options.explainer == NULL)
		return;
	struct rule_facts facts;
	switch (r->status) {
	case RCPT_FAILED:
		explain_recipient_facts(m, r, false, &facts);
		render_rule(d, sb, "why", &facts);
		/* "retry timeout exceeded" says when, the deferrals say why */
		if (r->deferrals) {
			explain_recipient_facts(m, r, true, &facts);
			render_rule(d, sb, "before", &facts);
		}
		break;
	case RCPT_DEFERRED: case RCPT_DISCARDED:
		explain_recipient_facts(m, r, false, &facts);
		render_rule(d, sb, "why", &facts);
		break;
	case RCPT_DELIVERED:
		if (r->deferrals == 0)
			return;
		explain_recipient_facts(m, r, true, &facts);
		render_rule(d, sb, "delayed", &facts);
		break;
	default:
		break;
	}
}

static void render_recipient(const struct drilldown *d, struct strbuf *sb,
                             const struct message *m, const struct recipient *r)
{
	strbuf_append_str(sb, "  -> ");
	strbuf_append_escaped(sb, id_text(r->address));
	if (r->original[0] && strcmp(r->original, r->address) != 0) {
		strbuf_append_str(sb, " <");
		strbuf_append_escaped(sb, id_text(r->original));
		strbuf_append_char(sb, '>');
	}
	strbuf_append_str(sb, ": ");
	switch (r->status) {
	case RCPT_DELIVERED:
		color_on(d, sb, COLOR_GOOD);
		strbuf_append_str(sb, "delivered");
		color_off(d, sb);
		if (r->deferrals) {
			strbuf_append_str(sb, " after ");
			render_count(sb, r->deferrals, "deferral");
		}
		render_route(sb, r);
		break;
	case RCPT_FAILED:
		color_on(d, sb, COLOR_BAD);
		strbuf_append_str(sb, "failed");
		color_off(d, sb);
		if (reason_of(&r->smtp, r->error)[0]) {
			strbuf_append_str(sb, ": ");
			render_reason(sb, reason_of(&r->smtp, r->error));
		}
		render_where(sb, &r->smtp, r);
		break;
	case RCPT_DEFERRED:
		color_on(d, sb, COLOR_WAIT);
		strbuf_append_str(sb, "deferred");
		color_off(d, sb);
		strbuf_append_str(sb, " (");
		render_count(sb, r->attempts, "attempt");
		strbuf_append_char(sb, ')');
		if (reason_of(&r->smtp, r->error)[0]) {
			strbuf_append_str(sb, ": ");
			render_reason(sb, reason_of(&r->smtp, r->error));
		}
		render_where(sb, &r->smtp, r);
		break;
	case RCPT_DISCARDED:
		strbuf_append_str(sb, "discarded");
		if (r->router[0]) {
			strbuf_append_str(sb, " (R=");
			strbuf_append_escaped(sb, id_text(r->router));
			strbuf_append_char(sb, ')');
		}
		break;
	case RCPT_SUPPRESSED:
		strbuf_append_str(sb, "suppressed");
		render_route(sb, r);
		break;
	case RCPT_PENDING:
	default:
		color_on(d, sb, COLOR_WAIT);
		strbuf_append_str(sb, "pending");
		color_off(d, sb);
		break;
	}
	strbuf_append_char(sb, '\n');
	render_explanation(d, sb, m, r);
}

static void render_message(struct drilldown *d, struct strbuf *sb, const struct message *m)
{
	if (m->state == TXN_OPEN) {
		color_on(d, sb, COLOR_NOTE);
		strbuf_append_str(sb, "+++ ");
		strbuf_append_escaped(sb, id_text(m->id));
		strbuf_append_str(sb, " has not completed +++");
		color_off(d, sb);
		strbuf_append_char(sb, '\n');
	}
	for (size_t i = 0; i < m->line_count; i++)
		render_line(d, sb, m->lines[i], strlen(m->lines[i]));
	for (size_t i = 0; i < m->recipient_count; i++)
		render_recipient(d, sb, m, &m->recipients[i]);
	if (m->state == TXN_REJECTED)
		strbuf_append_str(sb, "  rejected: the message was not accepted\n");
	if (m->frozen) {
		strbuf_append_str(sb, "  ");
		color_on(d, sb, COLOR_WAIT);
		strbuf_append_str(sb, "frozen");
		color_off(d, sb);
		strbuf_append_char(sb, '\n');
		if (d->options.explainer) {
			struct rule_facts facts;
			explain_frozen_facts(m, &facts);
			render_rule(d, sb, "why", &facts);
		}
	}
	if (m->bounce_of[0]) {
		strbuf_append_str(sb, "  bounce of: ");
		strbuf_append_escaped(sb, id_text(m->bounce_of));
		strbuf_append_char(sb, '\n');
	}
	if (m->bounced_by[0]) {
		strbuf_append_str(sb, "  bounce: ");
		strbuf_append_escaped(sb, id_text(m->bounced_by));
		strbuf_append_char(sb, '\n');
	}
	strbuf_append_char(sb, '\n');
}

static void emit(struct drilldown *d, const char *text, size_t length)
{
	if (length && fwrite(text, 1, length, d->out) != length)
		msg_fatal("write error on standard output");
}

/* ---- the -M hold ---- */

static uint16_t *awaited_counter(struct drilldown *d, const char *id)
{
	return &d->awaited[id_hash(id, strlen(id)) % HOLD_BUCKETS];
}

static bool waits_on(const struct held *h, const char *id)
{
	for (size_t i = 0; i < h->wait_count; i++)
		if (strcmp(h->waits[i], id) == 0)
			return true;
	return false;
}

static bool is_held(const struct drilldown *d, struct text id)
{
	for (size_t i = 0; i < d->hold_count; i++)
		if (id_equals(d->holds[i].id, id))
			return true;
	return false;
}

/* Take entry i out of the hold; its text is the caller's. */
static struct held take_hold(struct drilldown *d, size_t i)
{
	struct held h = d->holds[i];
	for (size_t k = 0; k < h.wait_count; k++)
		(*awaited_counter(d, h.waits[k]))--;
	memmove(&d->holds[i], &d->holds[i + 1], (d->hold_count - i - 1) * sizeof *d->holds);
	d->hold_count--;
	d->hold_bytes -= h.length;
	return h;
}

/* id is decided: print (selected) or forget (not) what waited for it, and
 * so on down what waited for those (depth at most DRILLDOWN_HOLD_MAX). */
/* NOLINTNEXTLINE(misc-no-recursion) */
static void decide(struct drilldown *d, const char *id, bool selected)
{
	if (d->hold_count == 0 || *awaited_counter(d, id) == 0)
		return;
	size_t i = 0;
	while (i < d->hold_count) {
		struct held *h = &d->holds[i];
		if (!waits_on(h, id)) {
			i++;
			continue;
		}
		if (selected) {
			struct held released = take_hold(d, i);
			emit(d, released.text, released.length);
			free(released.text);
			d->printed_messages++;
			remember(d, released.id, released.bounce_of, released.bounced_by);
			decide(d, released.id, true);
			i = 0;
			continue;
		}
		size_t k = 0;
		while (strcmp(h->waits[k], id) != 0)
			k++;
		(*awaited_counter(d, id))--;
		memmove(h->waits[k], h->waits[h->wait_count - 1], sizeof h->waits[k]);
		h->wait_count--;
		if (h->wait_count > 0) {
			i++;
			continue;
		}
		struct held dropped = take_hold(d, i);
		free(dropped.text);
		decide(d, dropped.id, false);
		i = 0;
	}
}

/* What the IDs a message names say about it, for -M. */
struct relation {
	bool selected;  /* it names an open message that is selected already */
	struct held wait; /* else: the undecided messages it names */
};

/* An open message is selected already when a line of it matched (or, with
 * -v, is never selected once one has): exigrep's rule, which decides as
 * lines arrive. Otherwise it is undecided until it is handed over. */
static void relate_to(struct drilldown *d, struct relation *rel, struct text id)
{
	struct held *h = &rel->wait;
	if (rel->selected || id.len == 0 || id_equals(h->id, id))
		return;
	message_id copy;
	copy_id(copy, id);
	if (waits_on(h, copy))
		return;
	const struct message *open = txn_lookup(d->table, id);
	if (open) {
		bool matched = message_matches(d, open);
		if (d->options.invert && matched)
			return; /* can never be selected */
		if ((!d->options.invert && matched) || is_related(d, open)) {
			rel->selected = true;
			return;
		}
	} else if (!is_held(d, id)) {
		return; /* decided: handed over and not selected */
	}
	if (h->wait_count < HOLD_WAITS)
		memcpy(h->waits[h->wait_count++], copy, sizeof copy);
}

static void relate(struct drilldown *d, const struct message *m, struct relation *rel)
{
	memset(rel, 0, sizeof *rel);
	memcpy(rel->wait.id, m->id, sizeof rel->wait.id);
	memcpy(rel->wait.bounce_of, m->bounce_of, sizeof rel->wait.bounce_of);
	memcpy(rel->wait.bounced_by, m->bounced_by, sizeof rel->wait.bounced_by);
	if (d->table == NULL)
		return;
	relate_to(d, rel, id_text(m->bounce_of));
	relate_to(d, rel, id_text(m->bounced_by));
	for (size_t i = 0; i < m->line_count && !rel->selected; i++) {
		const char *line = m->lines[i];
		size_t length = strlen(line), pos = 0;
		struct text id;
		while (!rel->selected && next_id(line, length, &pos, &id))
			relate_to(d, rel, id);
	}
}

/* Hold m back until the messages in h.waits are decided. */
static bool hold(struct drilldown *d, const struct message *m, struct held h)
{
	if (h.wait_count == 0)
		return false;
	strbuf_reset(&d->block);
	render_message(d, &d->block, m);
	if (d->block.len > DRILLDOWN_HOLD_BYTES)
		return false;
	while (d->hold_count == DRILLDOWN_HOLD_MAX ||
	       d->hold_bytes + d->block.len > DRILLDOWN_HOLD_BYTES) {
		/* the oldest goes: as if what it waits for was not selected */
		struct held dropped = take_hold(d, 0);
		free(dropped.text);
		decide(d, dropped.id, false);
	}
	if (d->holds == NULL)
		d->holds = xcalloc(DRILLDOWN_HOLD_MAX, sizeof *d->holds);
	h.text = xmemdup(d->block.data, d->block.len);
	h.length = d->block.len;
	for (size_t k = 0; k < h.wait_count; k++)
		(*awaited_counter(d, h.waits[k]))++;
	d->holds[d->hold_count++] = h;
	d->hold_bytes += h.length;
	return true;
}

/* ---- the sink ---- */

static void print_message(struct drilldown *d, const struct message *m)
{
	strbuf_reset(&d->block);
	render_message(d, &d->block, m);
	emit(d, d->block.data, d->block.len);
	d->printed_messages++;
}

static void on_message(void *state, const struct message *m)
{
	struct drilldown *d = state;
	if (d->options.id_count > 0) {
		if (is_wanted_id(d, m->id) || is_wanted_id(d, m->bounce_of) ||
		    is_wanted_id(d, m->bounced_by))
			print_message(d, m);
		return;
	}
	bool selected = message_matches(d, m) != d->options.invert;
	struct relation rel;
	rel.wait.wait_count = 0;
	if (!selected && d->options.related) {
		selected = is_related(d, m);
		if (!selected) {
			relate(d, m, &rel);
			selected = rel.selected;
		}
	}
	bool time_ok = queue_time_ok(d, m);
	if (selected && time_ok)
		print_message(d, m);
	if (!d->options.related)
		return;
	if (selected) {
		/* as exigrep: a match names its relatives even when -t hides it */
		remember(d, m->id, m->bounce_of, m->bounced_by);
		decide(d, m->id, true);
	} else if (!(time_ok && hold(d, m, rel.wait))) {
		decide(d, m->id, false);
	}
}

static void on_loose_line(void *state, const struct log_line *line, struct text raw)
{
	(void)line;
	struct drilldown *d = state;
	bool wanted = d->options.id_count > 0
		? names_wanted_id(d, raw)
		: line_matches(d, raw.ptr ? raw.ptr : "", raw.len) != d->options.invert;
	if (!wanted)
		return;
	strbuf_reset(&d->block);
	render_line(d, &d->block, raw.ptr ? raw.ptr : "", raw.len);
	emit(d, d->block.data, d->block.len);
	d->printed_lines++;
}

static int on_finish(void *state, const struct txn_summary *summary)
{
	(void)summary;
	struct drilldown *d = state;
	/* every open message has been handed over: nothing left to wait for */
	while (d->hold_count > 0)
		free(take_hold(d, 0).text);
	if (fflush(d->out) != 0 || ferror(d->out))
		msg_fatal("write error on standard output");
	if (d->match_errors)
		msg_warn("%llu lines hit the pattern's match limit and were taken as not matching",
		         (unsigned long long)d->match_errors);
	/* grep's convention: 0 something was selected, 1 nothing was */
	return d->printed_messages + d->printed_lines > 0 ? 0 : 1;
}

struct record_sink drilldown_sink(struct drilldown *drilldown)
{
	return (struct record_sink){
		.state = drilldown,
		.message = on_message,
		.event = NULL,
		.loose_line = on_loose_line,
		.finish = on_finish,
	};
}

void drilldown_watch_table(struct drilldown *drilldown, const struct txn_table *table)
{
	drilldown->table = table;
}

/* ---- life cycle ---- */

static void jit_compile(pcre2_code *code)
{
	/* JIT is an optimisation: without it (no JIT support) the
	 * interpreter runs the same pattern */
#ifndef EXIMEXPLAIN_NO_JIT /* make check-valgrind: memcheck cannot follow JIT code */
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
#else
	(void)code;
#endif
}

/* For search_lines: a pattern that finds, in many lines at once, every
 * match it has in a line alone (and perhaps more: a match may run on
 * into the next line, which the line's own test then turns down). That
 * holds unless the pattern can see where its subject begins or ends
 * other than by ^, which multiline mode makes a line's start: $, \z, \b
 * and every escape, lookarounds, verbs and atomic groups, all of which
 * need a $, a \ or a (. A literal has nothing of the kind. NULL when the
 * lines must be tested one by one. */
static pcre2_code *bulk_pattern(struct drilldown *d, const char *pattern, uint32_t flags)
{
	if (d->options.literal)
		return d->pattern;
	if (strpbrk(pattern, "$\\(") != NULL)
		return NULL;
	if (strchr(pattern, '^') == NULL)
		return d->pattern;
	int code;
	PCRE2_SIZE offset;
	pcre2_code *bulk = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	                                 flags | PCRE2_MULTILINE, &code, &offset, NULL);
	if (bulk != NULL)
		jit_compile(bulk);
	return bulk;
}

static bool compile(struct drilldown *d, char *error, size_t error_size)
{
	uint32_t flags = 0;
	if (d->options.literal)
		flags |= PCRE2_LITERAL;
	if (!d->options.case_sensitive)
		flags |= PCRE2_CASELESS;
	const char *pattern = d->options.pattern ? d->options.pattern : "";
	int code;
	PCRE2_SIZE offset;
	d->pattern = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, flags, &code,
	                           &offset, NULL);
	/* A match in a line cut at a NUL is a match in the whole line too,
	 * unless the pattern can look at where the cut is ($, \z, \b, a
	 * lookahead) or refuse to backtrack past it (atomic groups, verbs,
	 * possessive quantifiers): only then does may_select look for one. */
	d->nul_may_matter = !d->options.literal && strpbrk(pattern, "$\\(+") != NULL;
	if (d->pattern == NULL) {
		PCRE2_UCHAR reason[256];
		if (pcre2_get_error_message(code, reason, sizeof reason) < 0)
			/* a literal into 256 bytes */
			/* NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.strcpy) */
			strcpy((char *)reason, "unknown error");
		snprintf(error, error_size, "bad pattern at offset %zu: %s", (size_t)offset,
		         (const char *)reason);
		return false;
	}
	jit_compile(d->pattern);
	d->bulk_pattern = bulk_pattern(d, pattern, flags);
	matcher_init(&d->matcher, MATCH_LIMIT, DEPTH_LIMIT);
	matcher_init(&d->test_matcher, MATCH_LIMIT, DEPTH_LIMIT);
	return true;
}

struct drilldown *drilldown_new(const struct drilldown_options *options, char *error,
                                size_t error_size)
{
	struct drilldown *d = xcalloc(1, sizeof *d);
	d->options = *options;
	d->out = options->out ? options->out : stdout;
	strbuf_init(&d->block);
	if (options->id_count == 0 && !compile(d, error, error_size)) {
		drilldown_free(d);
		return NULL;
	}
	return d;
}

void drilldown_free(struct drilldown *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->hold_count; i++)
		free(d->holds[i].text);
	free(d->holds);
	related_free(&d->related);
	strbuf_release(&d->block);
	matcher_release(&d->matcher);
	matcher_release(&d->test_matcher);
	if (d->bulk_pattern != d->pattern)
		pcre2_code_free(d->bulk_pattern);
	pcre2_code_free(d->pattern);
	free(d);
}
