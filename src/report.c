/*
 * report: the failure report (report.h). Records are folded into bounded
 * aggregates as they arrive and the page is written once, at finish.
 *
 * What it must never do: keep a message after its sink call returns (it
 * copies counts, three IDs and a shortened sample line per group, nothing
 * per message), grow without bound on hostile input (group and top-k
 * caps), or write a byte from the log without strbuf_append_escaped.
 * Colour codes are the only control bytes it writes, and only when asked.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explain.h"
#include "msg.h"
#include "strbuf.h"
#include "topk.h"
#include "xalloc.h"

/* Display budgets, in columns, of the texts shortened at capture time. */
#define LABEL_INDENT 3
#define VALUE_COLUMN 13
#define VALUE_WIDTH (REPORT_WIDTH - VALUE_COLUMN)
#define SAMPLE_LINES 4
#define SAMPLE_RAGGED 12 /* columns a sample line may give up to break at a space */
#define DETAIL_LINES 2
#define DETAIL_COLUMN (LABEL_INDENT + 3)
#define DETAIL_WIDTH (REPORT_WIDTH - DETAIL_COLUMN)
#define REASON_LINES 3
#define WORDS (VALUE_WIDTH * 2 / 3) /* ragged margin of ordinary text */
#define TOP_SHOWN 5
#define EVENT_IPS_SHOWN 10
#define PENDING_RECIPIENTS_MAX 10
#define EXAMPLES_MAX 3

static const char COLOR_BOLD[] = "\033[1m";
static const char COLOR_RED[] = "\033[31m";
static const char COLOR_YELLOW[] = "\033[33m";
static const char COLOR_RESET[] = "\033[0m";

/* ---- columns, escaping, shortening ---- */

/* Columns of UTF-8 text: one per character (continuation bytes are free).
 * Escaped text holds no control bytes, so this is what a terminal shows. */
static size_t columns(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

/* Bytes of s that fill at most max_columns, never ending inside a UTF-8
 * character. */
static size_t bytes_for_columns(const char *s, size_t n, size_t max_columns)
{
	size_t c = 0, i = 0;
	while (i < n) {
		if (((unsigned char)s[i] & 0xC0) != 0x80) {
			if (c == max_columns)
				break;
			c++;
		}
		i++;
	}
	return i;
}

/* Length of the escape strbuf_append_escaped wrote at p (\033 or \n),
 * 0 when p starts none. A raw backslash from the log looks the
 * same; treating it as an escape only moves a cut by a few columns. */
static size_t escape_length(const char *s, size_t n, size_t p)
{
	if (s[p] != '\\' || p + 1 >= n)
		return 0;
	return s[p + 1] >= '0' && s[p + 1] <= '7' ? 4 : 2;
}

/* A cut at byte `at` (the head is [0, at)) must not split an escape:
 * move it back to the backslash. */
static size_t avoid_split_escape(const char *s, size_t n, size_t at)
{
	for (size_t back = 1; back <= 3 && back < at; back++)
		if (escape_length(s, n, at - back) > back)
			return at - back;
	return at;
}

/* The same for the start of a tail: move it forward past the rest of an
 * escape and past UTF-8 continuation bytes. */
static size_t tail_start(const char *s, size_t n, size_t at)
{
	while (at < n && ((unsigned char)s[at] & 0xC0) == 0x80)
		at++;
	for (size_t back = 1; back <= 3 && back <= at; back++) {
		size_t length = escape_length(s, n, at - back);
		if (length > back)
			return at - back + length < n ? at - back + length : n;
	}
	return at;
}

/* Escape raw log bytes and, when they need more than max_columns, keep the
 * head (two fifths: time, ID, address) and the tail (the rest: a log
 * line's tail holds the reply) around " [...] ". */
static void append_shortened(struct strbuf *out, struct text raw, size_t max_columns)
{
	static const char gap[] = " [...] ";
	if (max_columns < 2 * sizeof gap)
		max_columns = 2 * sizeof gap; /* callers ask for 28 and more */
	struct strbuf escaped = STRBUF_INIT;
	strbuf_append_escaped(&escaped, raw);
	const char *s = escaped.data ? escaped.data : "";
	size_t n = escaped.len;
	if (columns(s, n) <= max_columns) {
		strbuf_append(out, s, n);
	} else {
		size_t room = max_columns - (sizeof gap - 1);
		size_t head = avoid_split_escape(s, n, bytes_for_columns(s, n, room * 2 / 5));
		size_t tail_columns = room - columns(s, head);
		size_t total = columns(s, n);
		size_t skip = bytes_for_columns(s, n, total - tail_columns);
		skip = tail_start(s, n, skip);
		while (head > 0 && s[head - 1] == ' ')
			head--;
		while (skip < n && s[skip] == ' ')
			skip++;
		strbuf_append(out, s, head);
		strbuf_append(out, gap, sizeof gap - 1);
		strbuf_append(out, s + skip, n - skip);
	}
	strbuf_release(&escaped);
}

/*
 * Where a line of at most `avail` columns ends in escaped text s: the
 * bytes it takes, and in *skip the spaces after them that no line shows.
 * It breaks at the last space that leaves it at most `ragged` columns
 * short, else after the last of . / - = , ; : @ in that stretch, else
 * anywhere between characters and escapes.
 */
static size_t line_break(const char *s, size_t n, size_t avail, size_t ragged, size_t *skip)
{
	*skip = 0;
	if (columns(s, n) <= avail)
		return n;
	size_t cut = bytes_for_columns(s, n, avail);
	size_t floor = cut > ragged ? cut - ragged : 0;
	size_t space = 0, after_mark = 0;
	for (size_t i = cut; i > floor && !space; i--) {
		if (s[i] == ' ')
			space = i;
		else if (!after_mark && strchr("./-=,;:@", s[i - 1]))
			after_mark = i;
	}
	size_t take = space ? space : after_mark ? after_mark : avoid_split_escape(s, n, cut);
	while (take + *skip < n && s[take + *skip] == ' ')
		(*skip)++;
	return take;
}

/* Lines escaped text s needs: the first `first` columns wide, the rest
 * `avail`. */
static size_t wrapped_lines(const char *s, size_t n, size_t first, size_t avail, size_t ragged)
{
	size_t lines = 0;
	for (size_t width = first; n > 0; width = avail) {
		size_t skip, take = line_break(s, n, width, ragged, &skip);
		s += take + skip;
		n -= take + skip;
		lines++;
	}
	return lines;
}

/* Raw log text escaped for a field of `lines` lines `avail` columns wide:
 * whole when it fits, else shortened in the middle so that it does (each
 * line loses at most ragged + 3 columns to breaking). */
static char *fitted_copy(struct text raw, size_t lines, size_t avail, size_t ragged)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_append_escaped(&sb, raw);
	if (sb.len && wrapped_lines(sb.data, sb.len, avail, avail, ragged) > lines) {
		strbuf_reset(&sb);
		append_shortened(&sb, raw, lines * (avail - ragged - 3));
	}
	return sb.data ? sb.data : xstrdup("");
}

/* ---- bounded top-k (Space-Saving, Metwally et al. 2005) ---- */

/* ---- problem groups ---- */

enum outcome { OUTCOME_FAILED, OUTCOME_DEFERRED, OUTCOME_DISCARDED, OUTCOME_FROZEN, OUTCOME_COUNT };

static const char *const outcome_names[OUTCOME_COUNT] = {
	"FAILED", "DEFERRED", "DISCARDED", "FROZEN",
};

/* What became of a deferred recipient in the end. */
enum later { LATER_DELIVERED, LATER_FAILED, LATER_QUEUED, LATER_OTHER, LATER_COUNT };

struct group {
	enum outcome outcome;
	char *key;                /* the rule id */
	const struct rule *rule;
	char *explanation;        /* of the first failure; generic once they differ */
	bool generic;
	uint64_t recipients;      /* frozen: messages */
	uint64_t messages;
	uint64_t later[LATER_COUNT];
	uint64_t last_serial;     /* the message that counted last, so each counts once */
	int64_t first_time, last_time;
	struct topk domains, senders;
	char examples[EXAMPLES_MAX][MESSAGE_ID_MAX + 1];
	size_t example_count;
	char *sample;             /* escaped and shortened */
};

struct pending_recipient {
	enum recipient_status status;
	unsigned attempts;
	char *address; /* escaped */
	char *reason;  /* escaped and shortened; "" when none */
};

struct pending {
	char id[MESSAGE_ID_MAX + 1];
	bool arrival_seen, frozen;
	int64_t since;
	char *sender;  /* escaped */
	char *subject; /* escaped and shortened */
	struct pending_recipient *recipients;
	size_t recipient_count, recipients_left_out;
};

/* ---- event groups ---- */

/* Events are grouped by the rule that explains them, then by client
 * address; a category is the rule's number among those events met. */
/* The first event's host and detail are kept as the log had them and
 * escaped and fitted only for the few groups a category shows
 * (EVENT_IPS_SHOWN): fitting them for each of thousands of addresses
 * was a tenth of the report's work. */
struct event_group {
	unsigned category;
	char *ip;
	uint64_t count;
	int64_t first_time, last_time;
	char *host;       /* raw: a host name, or what the client said in HELO */
	size_t host_len;
	bool host_is_helo;
	char *detail;     /* raw */
	size_t detail_len;
};

/* An open-addressing index (linear probing) over a vector of groups: the
 * owner compares keys, the index keeps each group's hash so it can grow
 * without looking at the groups. */
struct index_slot {
	uint64_t hash;
	uint32_t group; /* group number + 1; 0 is empty */
};

/* Past the cap, most keys asked for have no group (a busy server's
 * rejections come from ever new addresses), and each such question cost
 * a probe at a random slot: a cache miss, two thirds of what an event
 * cost the report. A bitmap of the hashes held, 8 KiB, small enough to
 * stay cached, answers most of them first (on_event 2.7% -> 0.7% of a
 * report's profile). */
#define INDEX_FILTER_BITS (64u * 1024)

struct index {
	struct index_slot *slots;
	size_t capacity; /* power of two, at least twice the groups */
	uint64_t held[INDEX_FILTER_BITS / 64]; /* a bit per hash held, some shared */
};

/* The slot number comes from the hash's low bits: the filter takes high ones. */
static size_t filter_bit(uint64_t hash)
{
	return (size_t)(hash >> 40) % INDEX_FILTER_BITS;
}

/* False: no group has this hash. True: one may. */
static bool index_may_hold(const struct index *index, uint64_t hash)
{
	size_t bit = filter_bit(hash);
	return (index->held[bit / 64] >> (bit % 64)) & 1;
}

struct report {
	struct report_options options;
	FILE *out;
	uint64_t serial;

	struct group *groups;
	size_t group_count, group_capacity;
	struct index group_index;
	uint64_t problem_recipients, problem_messages;

	struct event_group *events;
	size_t event_count, event_capacity;
	const struct rule **event_rules; /* category -> rule */
	size_t event_rule_count;
	struct index event_index;
	uint64_t event_total;

	struct pending *pending;
	size_t pending_count;
	uint64_t pending_total;

	struct strbuf key, scratch, line;
	struct rule_facts facts;
	bool one_day;  /* the input covers one local day: times without dates */
	int64_t day_start;
};

static void index_grow(struct index *index)
{
	struct index_slot *old = index->slots;
	size_t old_capacity = index->capacity;
	index->capacity = old_capacity ? old_capacity * 2 : 64;
	index->slots = xcalloc(index->capacity, sizeof *index->slots);
	for (size_t k = 0; k < old_capacity; k++) {
		if (old[k].group == 0)
			continue;
		size_t i = (size_t)old[k].hash & (index->capacity - 1);
		while (index->slots[i].group)
			i = (i + 1) & (index->capacity - 1);
		index->slots[i] = old[k];
	}
	free(old);
}

/* Record group number `number` (1-based) at the empty slot i; grow when
 * half full. */
static void index_insert(struct index *index, size_t i, uint64_t hash, size_t number)
{
	index->slots[i].hash = hash;
	index->slots[i].group = (uint32_t)number;
	size_t bit = filter_bit(hash);
	index->held[bit / 64] |= UINT64_C(1) << (bit % 64);
	if (number * 2 > index->capacity)
		index_grow(index);
}

static int64_t min_time(int64_t a, int64_t b)
{
	return a == 0 ? b : (b == 0 || b > a ? a : b);
}

static int64_t max_time(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* The group for (outcome, key), created when new; the "other" bucket of
 * the outcome once REPORT_GROUPS_MAX groups exist. */
static struct group *group_for(struct report *r, enum outcome outcome, const char *key,
                               size_t key_length)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t h = text_hash(TEXT_HASH_SEED + (uint64_t)outcome, key, key_length);
		size_t mask = r->group_index.capacity - 1;
		size_t i = (size_t)h & mask;
		for (; r->group_index.slots[i].group; i = (i + 1) & mask) {
			if (r->group_index.slots[i].hash != h)
				continue;
			struct group *g = &r->groups[r->group_index.slots[i].group - 1];
			if (g->outcome == outcome && strlen(g->key) == key_length &&
			    memcmp(g->key, key, key_length) == 0)
				return g;
		}
		if (r->group_count >= REPORT_GROUPS_MAX && attempt == 0) {
			key = "(other causes: too many distinct groups)";
			key_length = strlen(key);
			continue;
		}
		if (r->group_count == r->group_capacity) {
			r->group_capacity = r->group_capacity ? r->group_capacity * 2 : 32;
			r->groups = xreallocarray(r->groups, r->group_capacity, sizeof *r->groups);
		}
		struct group *g = &r->groups[r->group_count++];
		memset(g, 0, sizeof *g);
		g->outcome = outcome;
		g->key = xmemdup(key, key_length);
		g->last_serial = (uint64_t)-1;
		g->domains = (struct topk)TOPK_INIT(REPORT_TOP_SLOTS);
		g->senders = (struct topk)TOPK_INIT(REPORT_TOP_SLOTS);
		index_insert(&r->group_index, i, h, r->group_count);
		return g;
	}
	return NULL; /* not reached: the other bucket is always found or made */
}

/* The rule for r->facts, its id into r->key (the group key), and its
 * explanation for these facts into r->scratch. */
static const struct rule *explain_into_key(struct report *r)
{
	const struct rule *rule = explain_match(r->options.explainer, &r->facts);
	strbuf_reset(&r->key);
	strbuf_append_str(&r->key, rule_id(rule));
	strbuf_reset(&r->scratch);
	rules_render(rule_explanation(rule), &r->facts, false, &r->scratch);
	return rule;
}

/* A group says one explanation: the first failure's, or, as soon as two
 * differ (another host, another domain), the rule's generic wording. */
static void note_explanation(struct group *g, const struct rule *rule, const struct strbuf *text)
{
	if (g->rule == NULL) {
		g->rule = rule;
		g->explanation = xmemdup(text->data ? text->data : "", text->len);
	} else if (!g->generic && strcmp(g->explanation, text->data ? text->data : "") != 0) {
		struct strbuf generic = STRBUF_INIT;
		rules_render(rule_explanation(rule), NULL, true, &generic);
		free(g->explanation);
		g->explanation = generic.data ? generic.data : xstrdup("");
		g->generic = true;
	}
}

static struct text domain_of(const struct recipient *rcpt)
{
	struct text domain = explain_recipient_domain(rcpt);
	return domain.len ? domain : TEXT_LITERAL("(local)");
}

static void set_sample(struct group *g, const char *line)
{
	if (g->sample || line[0] == '\0')
		return;
	g->sample = fitted_copy(text_make(line, strlen(line)), SAMPLE_LINES, VALUE_WIDTH,
	                        SAMPLE_RAGGED);
}

static void count_in_group(struct report *r, struct group *g, const struct message *m,
                           int64_t first, int64_t last, const char *line)
{
	g->recipients++;
	r->problem_recipients++;
	if (g->last_serial != r->serial) {
		g->last_serial = r->serial;
		g->messages++;
		topk_add(&g->senders, message_sender_label(m));
		if (g->example_count < EXAMPLES_MAX)
			memcpy(g->examples[g->example_count++], m->id, sizeof m->id);
	}
	g->first_time = min_time(g->first_time, first);
	g->last_time = max_time(g->last_time, last);
	set_sample(g, line);
}

static enum later later_of(enum recipient_status status)
{
	switch (status) {
	case RCPT_DELIVERED: return LATER_DELIVERED;
	case RCPT_FAILED: return LATER_FAILED;
	case RCPT_DEFERRED: case RCPT_PENDING: return LATER_QUEUED;
	default: return LATER_OTHER;
	}
}

static void fold_recipient(struct report *r, const struct message *m, const struct recipient *rcpt)
{
	struct group *g;
	int64_t first = rcpt->first_time ? rcpt->first_time : m->first_time;
	int64_t when = rcpt->last_time ? rcpt->last_time : m->last_time;
	const struct rule *rule;
	if (rcpt->deferrals || rcpt->status == RCPT_DEFERRED) {
		explain_recipient_facts(m, rcpt, true, &r->facts);
		rule = explain_into_key(r);
		g = group_for(r, OUTCOME_DEFERRED, r->key.data, r->key.len);
		note_explanation(g, rule, &r->scratch);
		g->later[later_of(rcpt->status)]++;
		topk_add_lowercase(&g->domains, domain_of(rcpt));
		count_in_group(r, g, m, first, when, rcpt->defer_line);
	}
	enum outcome outcome;
	if (rcpt->status == RCPT_FAILED)
		outcome = OUTCOME_FAILED;
	else if (rcpt->status == RCPT_DISCARDED)
		outcome = OUTCOME_DISCARDED;
	else
		return;
	explain_recipient_facts(m, rcpt, false, &r->facts);
	rule = explain_into_key(r);
	g = group_for(r, outcome, r->key.data, r->key.len);
	note_explanation(g, rule, &r->scratch);
	topk_add_lowercase(&g->domains, domain_of(rcpt));
	count_in_group(r, g, m, when, when, rcpt->line);
}

static void fold_frozen(struct report *r, const struct message *m)
{
	explain_frozen_facts(m, &r->facts);
	const struct rule *rule = explain_into_key(r);
	struct group *g = group_for(r, OUTCOME_FROZEN, r->key.data, r->key.len);
	note_explanation(g, rule, &r->scratch);
	g->recipients++; /* counts messages */
	g->messages++;
	g->last_serial = r->serial;
	for (size_t i = 0; i < m->recipient_count; i++)
		topk_add_lowercase(&g->domains, domain_of(&m->recipients[i]));
	topk_add(&g->senders, message_sender_label(m));
	if (g->example_count < EXAMPLES_MAX)
		memcpy(g->examples[g->example_count++], m->id, sizeof m->id);
	g->first_time = min_time(g->first_time, m->first_time);
	g->last_time = max_time(g->last_time, m->last_time);
	for (size_t i = 0; i < m->recipient_count && g->sample == NULL; i++)
		set_sample(g, m->recipients[i].line);
}

static char *escaped_copy(struct text t, size_t max_columns)
{
	struct strbuf sb = STRBUF_INIT;
	append_shortened(&sb, t, max_columns);
	return sb.data ? sb.data : xstrdup("");
}

static void keep_pending(struct report *r, const struct message *m)
{
	r->pending_total++;
	if (r->pending_count >= REPORT_PENDING_MAX)
		return;
	if (r->pending == NULL)
		r->pending = xcalloc(REPORT_PENDING_MAX, sizeof *r->pending);
	struct pending *p = &r->pending[r->pending_count++];
	memcpy(p->id, m->id, sizeof p->id);
	p->arrival_seen = m->arrival.seen;
	p->frozen = m->frozen;
	p->since = m->arrival.seen ? m->arrival.time : m->first_time;
	p->sender = escaped_copy(message_sender_label(m), VALUE_WIDTH);
	p->subject = escaped_copy(text_make(m->arrival.subject, strlen(m->arrival.subject)),
	                          VALUE_WIDTH);
	size_t n = m->recipient_count < PENDING_RECIPIENTS_MAX ? m->recipient_count
	                                                       : PENDING_RECIPIENTS_MAX;
	p->recipient_count = n;
	p->recipients_left_out = m->recipient_count - n;
	/* cppcheck-suppress knownConditionTrueFalse ; false positive: n may be 0 */
	p->recipients = xcalloc(n ? n : 1, sizeof *p->recipients);
	/* cppcheck-suppress knownConditionTrueFalse ; false positive, as above */
	for (size_t i = 0; i < n; i++) {
		const struct recipient *rcpt = &m->recipients[i];
		struct pending_recipient *pr = &p->recipients[i];
		pr->status = rcpt->status;
		pr->attempts = rcpt->attempts;
		pr->address = escaped_copy(text_make(rcpt->address, strlen(rcpt->address)),
		                           VALUE_WIDTH);
		const char *reason = rcpt->error[0] ? rcpt->error : rcpt->smtp.text;
		if (rcpt->status == RCPT_DELIVERED || rcpt->status == RCPT_DISCARDED)
			reason = "";
		pr->reason = fitted_copy(text_make(reason, strlen(reason)), REASON_LINES,
		                         VALUE_WIDTH, SAMPLE_RAGGED);
	}
}

static void on_message(void *state, const struct message *m)
{
	struct report *r = state;
	if (m->state == TXN_REJECTED)
		return; /* refused after DATA: its event tells it */
	r->serial++;
	uint64_t before = r->problem_recipients;
	for (size_t i = 0; i < m->recipient_count; i++)
		fold_recipient(r, m, &m->recipients[i]);
	if (m->frozen)
		fold_frozen(r, m);
	if (r->problem_recipients != before || m->frozen)
		r->problem_messages++;
	if (m->state == TXN_OPEN)
		keep_pending(r, m);
}

/* ---- events ---- */

/* The category of an event: the number of the rule that explains it. */
static unsigned event_category(struct report *r, const struct event *e)
{
	explain_event_facts(e, &r->facts);
	const struct rule *rule = explain_match(r->options.explainer, &r->facts);
	for (size_t i = 0; i < r->event_rule_count; i++)
		if (r->event_rules[i] == rule)
			return (unsigned)i;
	r->event_rules = xreallocarray(r->event_rules, r->event_rule_count + 1,
	                               sizeof *r->event_rules);
	r->event_rules[r->event_rule_count] = rule;
	return (unsigned)r->event_rule_count++;
}

/* The group of (category, ip) whose hash is h, or NULL; *slot: where
 * its index entry goes if it is to be made. */
static struct event_group *find_event_group(struct report *r, unsigned category, struct text ip,
                                            uint64_t h, size_t *slot)
{
	size_t mask = r->event_index.capacity - 1;
	size_t i = (size_t)h & mask;
	for (; r->event_index.slots[i].group; i = (i + 1) & mask) {
		if (r->event_index.slots[i].hash != h)
			continue;
		struct event_group *g = &r->events[r->event_index.slots[i].group - 1];
		if (g->category == category && text_equals(ip, g->ip))
			return g;
	}
	*slot = i;
	return NULL;
}

static struct event_group *add_event_group(struct report *r, unsigned category, struct text ip,
                                           uint64_t h, size_t slot)
{
	if (r->event_count == r->event_capacity) {
		r->event_capacity = r->event_capacity ? r->event_capacity * 2 : 32;
		r->events = xreallocarray(r->events, r->event_capacity, sizeof *r->events);
	}
	struct event_group *g = &r->events[r->event_count++];
	memset(g, 0, sizeof *g);
	g->category = category;
	g->ip = xmemdup(ip.ptr ? ip.ptr : "", ip.len);
	index_insert(&r->event_index, slot, h, r->event_count);
	return g;
}

/* The group for (category, ip), made when new; once REPORT_GROUPS_MAX
 * exist, a new address goes to the category's "(other addresses)". */
static struct event_group *event_group_for(struct report *r, unsigned category, struct text ip)
{
	uint64_t h = text_hash(TEXT_HASH_SEED + category, ip.ptr, ip.len);
	bool full = r->event_count >= REPORT_GROUPS_MAX;
	size_t slot = 0;
	/* full: only an address that has a group may still go to it */
	struct event_group *g = !full || index_may_hold(&r->event_index, h)
	                                ? find_event_group(r, category, ip, h, &slot)
	                                : NULL;
	if (g == NULL && full) {
		ip = TEXT_LITERAL("(other addresses)");
		h = text_hash(TEXT_HASH_SEED + category, ip.ptr, ip.len);
		g = find_event_group(r, category, ip, h, &slot);
	}
	return g ? g : add_event_group(r, category, ip, h, slot);
}

/* The host as Exim shows it: a name the client only claimed in HELO is in
 * parentheses, "(localhost)", so it is never taken for a looked-up name. */
static void append_host_label(struct strbuf *out, const struct event_group *g)
{
	struct text host = text_make(g->host, g->host_len);
	if (host.len == 0)
		return;
	if (!g->host_is_helo) {
		append_shortened(out, host, 28);
		return;
	}
	strbuf_append_char(out, '(');
	append_shortened(out, host, 26);
	strbuf_append_char(out, ')');
}

static void keep_first_event(struct event_group *g, const struct event *e)
{
	struct text host = e->host.len ? e->host : e->helo;
	struct text detail = e->detail.len ? e->detail : e->line;
	g->host = xmemdup(host.ptr ? host.ptr : "", host.len);
	g->host_len = host.len;
	g->host_is_helo = e->host.len == 0;
	g->detail = xmemdup(detail.ptr ? detail.ptr : "", detail.len);
	g->detail_len = detail.len;
}

static void on_event(void *state, const struct event *e)
{
	struct report *r = state;
	unsigned category = event_category(r, e);
	struct text ip = e->ip.len ? e->ip : e->host.len ? e->host : TEXT_LITERAL("(no address)");
	struct event_group *g = event_group_for(r, category, ip);
	g->count++;
	r->event_total++;
	g->first_time = min_time(g->first_time, e->time);
	g->last_time = max_time(g->last_time, e->time);
	if (g->detail == NULL)
		keep_first_event(g, e);
}

/* ---- writing ---- */

static void put(struct report *r, const char *s, size_t n)
{
	strbuf_append(&r->line, s, n);
}

static void put_str(struct report *r, const char *s)
{
	strbuf_append_str(&r->line, s);
}

static void put_color(struct report *r, const char *color, const char *s, size_t n)
{
	if (r->options.color && color)
		put_str(r, color);
	put(r, s, n);
	if (r->options.color && color)
		put_str(r, COLOR_RESET);
}

static void end_line(struct report *r)
{
	while (r->line.len && r->line.data[r->line.len - 1] == ' ')
		r->line.len--;
	strbuf_append_char(&r->line, '\n');
	fwrite(r->line.data, 1, r->line.len, r->out);
	strbuf_reset(&r->line);
}

static void put_indent(struct report *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		strbuf_append_char(&r->line, ' ');
}

static void heading(struct report *r, const char *text)
{
	put_color(r, COLOR_BOLD, text, strlen(text));
	end_line(r);
}

/*
 * Write value (escaped already: no control bytes) where the line stands,
 * `used` columns in (colour codes not counted), wrapping within
 * REPORT_WIDTH onto lines indented to `indent`: at the last space that
 * leaves a line at most `ragged` columns short, else anywhere (between
 * characters and escapes). At most max_lines lines; the last ends in "..."
 * when the value does not fit.
 */
static void put_wrapped(struct report *r, size_t used, size_t indent, const char *value,
                        size_t max_lines, size_t ragged, const char *color)
{
	const char *s = value;
	size_t n = strlen(value);
	size_t lines = 0;
	while (n > 0) {
		size_t avail = REPORT_WIDTH > used + 4 ? REPORT_WIDTH - used : 4;
		size_t skip, take = line_break(s, n, avail, ragged, &skip);
		if (++lines == max_lines && take + skip < n) {
			size_t keep = avoid_split_escape(s, n, bytes_for_columns(s, n, avail - 3));
			put_color(r, color, s, keep);
			put_str(r, "...");
			end_line(r);
			return;
		}
		put_color(r, color, s, take);
		end_line(r);
		s += take + skip;
		n -= take + skip;
		if (n > 0) {
			put_indent(r, indent);
			used = indent;
		}
	}
	if (lines == 0)
		end_line(r);
}

/* Pad a line that is `used` columns wide to column `to`, or put one space
 * when it is already there; returns the new width. */
static size_t pad_to(struct report *r, size_t used, size_t to)
{
	if (used >= to) {
		put_str(r, " ");
		return used + 1;
	}
	put_indent(r, to - used);
	return to;
}

/* "   label    value..." with the value at VALUE_COLUMN. */
static void field(struct report *r, const char *label, const char *value, size_t max_lines,
                  size_t ragged)
{
	put_indent(r, LABEL_INDENT);
	put_str(r, label);
	size_t used = pad_to(r, LABEL_INDENT + strlen(label), VALUE_COLUMN);
	put_wrapped(r, used, VALUE_COLUMN, value, max_lines, ragged, NULL);
}

static void format_time(const struct report *r, int64_t t, char *buf, size_t size, bool full)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t == 0 || localtime_r(&tt, &tm) == NULL) {
		snprintf(buf, size, "?");
		return;
	}
	if (full)
		strftime(buf, size, "%Y-%m-%d %H:%M:%S %z", &tm);
	else if (r->one_day && t >= r->day_start && t < r->day_start + 86400)
		strftime(buf, size, "%H:%M:%S", &tm);
	else
		strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
}

static void append_range(const struct report *r, struct strbuf *sb, int64_t first, int64_t last)
{
	char a[48], b[48];
	format_time(r, first, a, sizeof a, false);
	format_time(r, last, b, sizeof b, false);
	if (first == last || strcmp(a, b) == 0)
		strbuf_printf(sb, "%s", a);
	else
		strbuf_printf(sb, "%s .. %s", a, b);
}

static void print_header(struct report *r, const struct txn_summary *s)
{
	heading(r, r->options.mail ? "TOTALS" : "EXIM FAILURE REPORT");
	strbuf_reset(&r->scratch);
	if (r->options.file_count == 0)
		strbuf_append_str(&r->scratch, "(standard input)");
	for (size_t i = 0; i < r->options.file_count; i++) {
		if (i)
			strbuf_append_char(&r->scratch, ' ');
		const char *f = r->options.files[i];
		strbuf_append_escaped(&r->scratch, text_make(f, strlen(f)));
	}
	field(r, "files", r->scratch.data, 3, WORDS);

	strbuf_reset(&r->scratch);
	if (s->first_time == 0) {
		strbuf_append_str(&r->scratch, "(no timestamped lines)");
	} else {
		char a[48], b[48];
		format_time(r, s->first_time, a, sizeof a, true);
		format_time(r, s->last_time, b, sizeof b, true);
		strbuf_printf(&r->scratch, "%s .. %s", a, b);
	}
	field(r, "period", r->scratch.data, 2, WORDS);

	strbuf_reset(&r->scratch);
	strbuf_printf(&r->scratch,
	              "%llu received, %llu delivered, %llu deferred, %llu failed, "
	              "%llu discarded, %llu frozen, %llu rejected at SMTP time",
	              (unsigned long long)s->received, (unsigned long long)s->delivered,
	              (unsigned long long)s->deferred, (unsigned long long)s->failed,
	              (unsigned long long)s->discarded, (unsigned long long)s->frozen,
	              (unsigned long long)s->rejected);
	field(r, "totals", r->scratch.data, 3, WORDS);

	if (s->pipeline && s->pipeline->input) {
		strbuf_reset(&r->scratch);
		strbuf_printf(&r->scratch, "%llu read, %llu of unknown shape",
		              (unsigned long long)s->pipeline->input->lines,
		              (unsigned long long)s->pipeline->unknown_lines);
		field(r, "lines", r->scratch.data, 1, WORDS);
	}
}

/* "a 3, b 2, c 1, +4 more" from a top-k table, escaped. */
static void top_list(struct strbuf *sb, struct topk *top)
{
	if (top->used == 0) {
		strbuf_append_str(sb, "-");
		return;
	}
	topk_sort(top);
	size_t shown = top->used < TOP_SHOWN ? top->used : TOP_SHOWN;
	/* cppcheck-suppress knownConditionTrueFalse ; false positive: shown > 0 here */
	for (size_t i = 0; i < shown; i++) {
		const struct topk_slot *slot = &top->slots[i];
		if (i)
			strbuf_append_str(sb, ", ");
		strbuf_append_escaped(sb, text_make(slot->name, strlen(slot->name)));
		strbuf_printf(sb, " %s%llu", slot->error ? "~" : "",
		              (unsigned long long)slot->count);
	}
	/* cppcheck-suppress knownConditionTrueFalse ; false positive: used > TOP_SHOWN happens */
	if (top->used > shown)
		strbuf_printf(sb, ", +%s%zu more", top->evicted ? "at least " : "",
		              top->used - shown);
}

static int by_group_order(const void *a, const void *b)
{
	const struct group *x = a, *y = b;
	if (x->recipients != y->recipients)
		return x->recipients > y->recipients ? -1 : 1;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return (int)x->outcome - (int)y->outcome;
}

static const char *outcome_color(enum outcome outcome)
{
	switch (outcome) {
	case OUTCOME_FAILED: return COLOR_RED;
	case OUTCOME_DEFERRED: case OUTCOME_FROZEN: return COLOR_YELLOW;
	default: return NULL;
	}
}

/* reason, why and action of a rule; explanation NULL: the rule's generic
 * wording. Rule texts may quote the log, so they are escaped too. */
static void print_rule_words(struct report *r, const struct rule *rule, const char *explanation)
{
	strbuf_reset(&r->scratch);
	strbuf_printf(&r->scratch, "%s (owner: %s)", rule_reason(rule), rule_owner(rule));
	field(r, "reason", r->scratch.data, 1, WORDS);
	struct strbuf words = STRBUF_INIT;
	if (explanation == NULL)
		rules_render(rule_explanation(rule), NULL, true, &words);
	strbuf_reset(&r->scratch);
	strbuf_append_escaped(&r->scratch, explanation ? text_make(explanation, strlen(explanation))
	                                               : strbuf_text(&words));
	field(r, "why", r->scratch.data, 6, WORDS);
	strbuf_reset(&words);
	rules_render(rule_action(rule), NULL, true, &words);
	strbuf_reset(&r->scratch);
	strbuf_append_escaped(&r->scratch, strbuf_text(&words));
	field(r, "action", r->scratch.data, 6, WORDS);
	strbuf_release(&words);
}

static void print_group(struct report *r, struct group *g)
{
	const char *name = outcome_names[g->outcome];
	put_color(r, outcome_color(g->outcome), name, strlen(name));
	put_str(r, ":");
	strbuf_reset(&r->scratch);
	strbuf_append_escaped(&r->scratch, text_make(g->key, strlen(g->key)));
	size_t used = pad_to(r, strlen(name) + 1, VALUE_COLUMN);
	put_wrapped(r, used, VALUE_COLUMN, r->scratch.data, 3, WORDS, NULL);
	print_rule_words(r, g->rule, g->explanation);

	strbuf_reset(&r->scratch);
	if (g->outcome == OUTCOME_FROZEN)
		strbuf_printf(&r->scratch, "%llu message%s", (unsigned long long)g->messages,
		              g->messages == 1 ? "" : "s");
	else
		strbuf_printf(&r->scratch, "%llu recipient%s in %llu message%s",
		              (unsigned long long)g->recipients, g->recipients == 1 ? "" : "s",
		              (unsigned long long)g->messages, g->messages == 1 ? "" : "s");
	strbuf_append_str(&r->scratch, ", ");
	append_range(r, &r->scratch, g->first_time, g->last_time);
	field(r, "count", r->scratch.data, 2, WORDS);

	if (g->outcome == OUTCOME_DEFERRED) {
		static const char *const later_names[LATER_COUNT] = {
			"delivered", "failed", "still queued", "other",
		};
		strbuf_reset(&r->scratch);
		for (int k = 0; k < LATER_COUNT; k++)
			if (g->later[k])
				strbuf_printf(&r->scratch, "%s%llu %s", r->scratch.len ? ", " : "",
				              (unsigned long long)g->later[k], later_names[k]);
		field(r, "then", r->scratch.data, 1, WORDS);
	}

	strbuf_reset(&r->scratch);
	top_list(&r->scratch, &g->domains);
	field(r, "domains", r->scratch.data, 3, WORDS);
	strbuf_reset(&r->scratch);
	top_list(&r->scratch, &g->senders);
	field(r, "senders", r->scratch.data, 3, WORDS);

	strbuf_reset(&r->scratch);
	for (size_t i = 0; i < g->example_count; i++) {
		if (i)
			strbuf_append_char(&r->scratch, ' ');
		strbuf_append_escaped(&r->scratch,
		                      text_make(g->examples[i], strlen(g->examples[i])));
	}
	if (g->messages > g->example_count)
		strbuf_append_str(&r->scratch, " ...");
	field(r, "messages", r->scratch.data, 2, WORDS);
	if (r->options.mail && g->example_count) {
		strbuf_reset(&r->scratch);
		strbuf_append_str(&r->scratch, "eximexplain show ");
		strbuf_append_escaped(&r->scratch,
		                      text_make(g->examples[0], strlen(g->examples[0])));
		field(r, "details", r->scratch.data, 1, WORDS);
	}
	if (g->sample)
		field(r, "line", g->sample, SAMPLE_LINES, SAMPLE_RAGGED);
}

static void print_problems(struct report *r)
{
	end_line(r);
	strbuf_reset(&r->scratch);
	if (r->group_count == 0) {
		heading(r, "PROBLEMS: none");
		return;
	}
	strbuf_printf(&r->scratch, "PROBLEMS: %llu message%s, %zu cause%s",
	              (unsigned long long)r->problem_messages, r->problem_messages == 1 ? "" : "s",
	              r->group_count, r->group_count == 1 ? "" : "s");
	heading(r, r->scratch.data);
	qsort(r->groups, r->group_count, sizeof *r->groups, by_group_order);
	for (size_t i = 0; i < r->group_count; i++) {
		end_line(r);
		print_group(r, &r->groups[i]);
	}
}

struct category_total {
	unsigned category;
	const char *rule_id;
	uint64_t count;
	size_t addresses;
};

static int by_category_total(const void *a, const void *b)
{
	const struct category_total *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->rule_id, y->rule_id);
}

static int by_category_then_count(const void *a, const void *b)
{
	const struct event_group *x = a, *y = b;
	if (x->category != y->category)
		return x->category < y->category ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->ip, y->ip);
}

static void print_event_group(struct report *r, const struct event_group *g)
{
	strbuf_reset(&r->scratch);
	strbuf_append_escaped(&r->scratch, text_make(g->ip, strlen(g->ip)));
	while (columns(r->scratch.data, r->scratch.len) < 15)
		strbuf_append_char(&r->scratch, ' ');
	strbuf_printf(&r->scratch, " %5llu  ", (unsigned long long)g->count);
	append_range(r, &r->scratch, g->first_time, g->last_time);
	if (g->host_len) {
		strbuf_append(&r->scratch, "  ", 2);
		append_host_label(&r->scratch, g);
	}
	put_indent(r, LABEL_INDENT);
	put_wrapped(r, LABEL_INDENT, LABEL_INDENT + 6, r->scratch.data, 2, WORDS, NULL);
	put_indent(r, DETAIL_COLUMN);
	char *detail = fitted_copy(text_make(g->detail, g->detail_len), DETAIL_LINES, DETAIL_WIDTH,
	                           SAMPLE_RAGGED);
	put_wrapped(r, DETAIL_COLUMN, DETAIL_COLUMN, detail, DETAIL_LINES, SAMPLE_RAGGED, NULL);
	free(detail);
}

static void print_events(struct report *r)
{
	end_line(r);
	if (r->event_count == 0) {
		heading(r, "SMTP-TIME SECURITY EVENTS: none");
		return;
	}
	strbuf_reset(&r->scratch);
	strbuf_printf(&r->scratch, "SMTP-TIME SECURITY EVENTS: %llu",
	              (unsigned long long)r->event_total);
	heading(r, r->scratch.data);

	size_t categories = r->event_rule_count;
	struct category_total *totals = xcalloc(categories, sizeof *totals);
	for (unsigned c = 0; c < categories; c++) {
		totals[c].category = c;
		totals[c].rule_id = rule_id(r->event_rules[c]);
	}
	for (size_t i = 0; i < r->event_count; i++) {
		totals[r->events[i].category].count += r->events[i].count;
		totals[r->events[i].category].addresses++;
	}
	qsort(totals, categories, sizeof *totals, by_category_total);
	qsort(r->events, r->event_count, sizeof *r->events, by_category_then_count);

	for (unsigned c = 0; c < categories && totals[c].count; c++) {
		unsigned category = totals[c].category;
		const struct rule *rule = r->event_rules[category];
		end_line(r);
		strbuf_reset(&r->scratch);
		strbuf_printf(&r->scratch, "%s: %llu from %zu address%s", rule_id(rule),
		              (unsigned long long)totals[c].count, totals[c].addresses,
		              totals[c].addresses == 1 ? "" : "es");
		put_color(r, COLOR_BOLD, r->scratch.data, r->scratch.len);
		end_line(r);
		print_rule_words(r, rule, NULL);
		size_t shown = 0;
		uint64_t rest_count = 0;
		for (size_t i = 0; i < r->event_count; i++) {
			const struct event_group *g = &r->events[i];
			if (g->category != category)
				continue;
			if (shown < EVENT_IPS_SHOWN) {
				print_event_group(r, g);
				shown++;
			} else {
				rest_count += g->count;
			}
		}
		if (totals[c].addresses > shown) {
			strbuf_reset(&r->scratch);
			strbuf_printf(&r->scratch, "+%zu more addresses, %llu events",
			              totals[c].addresses - shown, (unsigned long long)rest_count);
			put_indent(r, LABEL_INDENT);
			put_str(r, r->scratch.data);
			end_line(r);
		}
	}
	free(totals);
}

static void print_pending(struct report *r)
{
	end_line(r);
	if (r->pending_total == 0) {
		heading(r, "PENDING AT THE END OF THE INPUT: none");
		return;
	}
	strbuf_reset(&r->scratch);
	strbuf_printf(&r->scratch, "PENDING AT THE END OF THE INPUT: %llu message%s",
	              (unsigned long long)r->pending_total, r->pending_total == 1 ? "" : "s");
	heading(r, r->scratch.data);
	for (size_t i = 0; i < r->pending_count; i++) {
		const struct pending *p = &r->pending[i];
		end_line(r);
		char since[48];
		format_time(r, p->since, since, sizeof since, false);
		strbuf_reset(&r->scratch);
		strbuf_append_escaped(&r->scratch, text_make(p->id, strlen(p->id)));
		strbuf_printf(&r->scratch, "  %s %s", p->arrival_seen ? "since" : "first seen",
		              since);
		put_str(r, r->scratch.data);
		if (p->frozen) {
			put_str(r, "  ");
			put_color(r, COLOR_YELLOW, "FROZEN", 6);
		}
		end_line(r);
		field(r, "from", p->sender, 1, WORDS);
		if (p->subject[0])
			field(r, "subject", p->subject, 1, WORDS);
		for (size_t k = 0; k < p->recipient_count; k++) {
			const struct pending_recipient *pr = &p->recipients[k];
			const char *status = recipient_status_name(pr->status);
			const char *color = pr->status == RCPT_FAILED     ? COLOR_RED
			                    : pr->status == RCPT_DEFERRED ? COLOR_YELLOW
			                                                  : NULL;
			put_indent(r, LABEL_INDENT);
			put_color(r, color, status, strlen(status));
			strbuf_reset(&r->scratch);
			strbuf_append_str(&r->scratch, pr->address);
			if (pr->attempts)
				strbuf_printf(&r->scratch, " (%u attempt%s)", pr->attempts,
				              pr->attempts == 1 ? "" : "s");
			size_t used = pad_to(r, LABEL_INDENT + strlen(status), VALUE_COLUMN);
			put_wrapped(r, used, VALUE_COLUMN, r->scratch.data, 2, WORDS, NULL);
			if (pr->reason[0]) {
				put_indent(r, VALUE_COLUMN);
				put_wrapped(r, VALUE_COLUMN, VALUE_COLUMN, pr->reason, REASON_LINES,
				            SAMPLE_RAGGED, NULL);
			}
		}
		if (p->recipients_left_out) {
			put_indent(r, VALUE_COLUMN);
			strbuf_reset(&r->scratch);
			strbuf_printf(&r->scratch, "+%zu more recipients", p->recipients_left_out);
			put_str(r, r->scratch.data);
			end_line(r);
		}
	}
	if (r->pending_total > r->pending_count) {
		end_line(r);
		strbuf_reset(&r->scratch);
		strbuf_printf(&r->scratch, "+%llu more messages pending (not shown)",
		              (unsigned long long)(r->pending_total - r->pending_count));
		put_str(r, r->scratch.data);
		end_line(r);
	}
}

static void decide_day(struct report *r, const struct txn_summary *s)
{
	r->one_day = false;
	time_t first = (time_t)s->first_time, last = (time_t)s->last_time;
	struct tm a, b;
	if (s->first_time == 0 || localtime_r(&first, &a) == NULL || localtime_r(&last, &b) == NULL)
		return;
	if (a.tm_year != b.tm_year || a.tm_yday != b.tm_yday)
		return;
	a.tm_hour = a.tm_min = a.tm_sec = 0;
	a.tm_isdst = -1;
	r->day_start = (int64_t)mktime(&a);
	r->one_day = true;
}

static int on_finish(void *state, const struct txn_summary *summary)
{
	struct report *r = state;
	decide_day(r, summary);
	if (!r->options.mail)
		print_header(r, summary);
	print_problems(r);
	print_events(r);
	print_pending(r);
	if (r->options.mail) {
		end_line(r);
		print_header(r, summary);
	}
	if (fflush(r->out) != 0 || ferror(r->out))
		msg_fatal("write error on the report output");
	bool found = r->group_count > 0 || summary->failed || summary->deferred ||
	             summary->discarded || summary->frozen || summary->rejected;
	return found ? EXIT_FOUND_FAILURES : EXIT_FOUND_NOTHING;
}

/* ---- life cycle ---- */

struct report *report_new(const struct report_options *options)
{
	struct report *r = xcalloc(1, sizeof *r);
	r->options = *options;
	r->out = options->out ? options->out : stdout;
	strbuf_init(&r->key);
	strbuf_init(&r->scratch);
	strbuf_init(&r->line);
	index_grow(&r->group_index);
	index_grow(&r->event_index);
	return r;
}

void report_free(struct report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->group_count; i++) {
		free(r->groups[i].key);
		free(r->groups[i].explanation);
		free(r->groups[i].sample);
		topk_release(&r->groups[i].domains);
		topk_release(&r->groups[i].senders);
	}
	free(r->groups);
	free(r->group_index.slots);
	for (size_t i = 0; i < r->event_count; i++) {
		free(r->events[i].ip);
		free(r->events[i].host);
		free(r->events[i].detail);
	}
	free(r->events);
	free(r->event_rules);
	free(r->event_index.slots);
	for (size_t i = 0; i < r->pending_count; i++) {
		struct pending *p = &r->pending[i];
		for (size_t k = 0; k < p->recipient_count; k++) {
			free(p->recipients[k].address);
			free(p->recipients[k].reason);
		}
		free(p->recipients);
		free(p->sender);
		free(p->subject);
	}
	free(r->pending);
	strbuf_release(&r->key);
	strbuf_release(&r->scratch);
	strbuf_release(&r->line);
	free(r);
}

struct record_sink report_sink(struct report *r)
{
	return (struct record_sink){ .state = r, .message = on_message, .event = on_event,
	                             .finish = on_finish };
}
