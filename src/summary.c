/*
 * summary: the aggregate JSON object (summary.h). Records are folded into
 * counters as they arrive; the object is built and written once, at the
 * end. Nothing of a record is kept but counts and top-k names.
 */
#include "summary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "jsonout.h"
#include "msg.h"
#include "topk.h"
#include "xalloc.h"

struct rule_count {
	const struct rule *rule;
	uint64_t count;
};

enum hour_column { HOUR_RECEIVED, HOUR_DELIVERED, HOUR_DEFERRED, HOUR_FAILED, HOUR_REJECTED,
	           HOUR_COLUMNS };

static const char *const hour_column_names[HOUR_COLUMNS] = {
	"received", "delivered", "deferred", "failed", "rejected",
};

struct hour {
	int64_t start;  /* epoch of the hour's first second */
	uint64_t counts[HOUR_COLUMNS];
};

struct summary {
	struct summary_options options;
	FILE *out;
	struct rule_count *rules; /* problems per rule, in first-seen order */
	size_t rule_count, rule_capacity;
	const struct rule *last_rule; /* most problems come in runs of one rule */
	size_t last_rule_index;
	struct topk domains, senders, hosts;
	struct hour *hours;           /* open addressing on start / 3600 */
	size_t hour_count, hour_capacity;
	uint64_t hours_dropped;
	struct log_zone zone;         /* of the last record: the log's zone */
	uint64_t problems;
};

/* ---- counting ---- */

static void count_rule(struct summary *s, const struct rule *rule)
{
	s->problems++;
	if (s->last_rule == rule) {
		s->rules[s->last_rule_index].count++;
		return;
	}
	size_t i = 0;
	while (i < s->rule_count && s->rules[i].rule != rule)
		i++;
	if (i == s->rule_count) {
		if (s->rule_count == s->rule_capacity) {
			s->rule_capacity = s->rule_capacity ? s->rule_capacity * 2 : 32;
			s->rules = xreallocarray(s->rules, s->rule_capacity, sizeof *s->rules);
		}
		s->rules[s->rule_count++] = (struct rule_count){ rule, 0 };
	}
	s->rules[i].count++;
	s->last_rule = rule;
	s->last_rule_index = i;
}

static void hours_grow(struct summary *s)
{
	size_t old_capacity = s->hour_capacity;
	struct hour *old = s->hours;
	s->hour_capacity = old_capacity ? old_capacity * 2 : 256;
	s->hours = xcalloc(s->hour_capacity, sizeof *s->hours);
	for (size_t i = 0; i < old_capacity; i++) {
		if (old[i].start == 0)
			continue;
		size_t k = (size_t)(old[i].start / 3600) & (s->hour_capacity - 1);
		while (s->hours[k].start)
			k = (k + 1) & (s->hour_capacity - 1);
		s->hours[k] = old[i];
	}
	free(old);
}

/* The bucket of the hour holding t; NULL when t is unknown or the
 * timeline is full. An hour's start is never 0 (t > 3600 is required). */
static struct hour *hour_of(struct summary *s, int64_t t)
{
	if (t < 3600)
		return NULL;
	int64_t start = t - t % 3600;
	if (s->hour_capacity) {
		size_t mask = s->hour_capacity - 1;
		for (size_t k = (size_t)(start / 3600) & mask; s->hours[k].start; k = (k + 1) & mask)
			if (s->hours[k].start == start)
				return &s->hours[k];
	}
	if (s->hour_count >= SUMMARY_HOURS_MAX) {
		s->hours_dropped++;
		return NULL;
	}
	if ((s->hour_count + 1) * 2 > s->hour_capacity)
		hours_grow(s);
	size_t mask = s->hour_capacity - 1;
	size_t k = (size_t)(start / 3600) & mask;
	while (s->hours[k].start)
		k = (k + 1) & mask;
	s->hours[k].start = start;
	s->hour_count++;
	return &s->hours[k];
}

static void count_hour(struct summary *s, int64_t t, enum hour_column column)
{
	struct hour *h = hour_of(s, t);
	if (h)
		h->counts[column]++;
}

/* A problem of one recipient: its rule, domain and remote host. */
static void count_problem(struct summary *s, const struct message *m, const struct recipient *r,
                          bool deferral)
{
	struct rule_facts facts;
	explain_recipient_facts(m, r, deferral, &facts);
	count_rule(s, explain_match(s->options.explainer, &facts));
	struct text domain = explain_recipient_domain(r);
	topk_add_lowercase(&s->domains, domain.len ? domain : TEXT_LITERAL("(local)"));
	struct text host = facts.host.len ? facts.host : facts.ip;
	if (host.len)
		topk_add_lowercase(&s->hosts, host);
}

static void fold_recipient(struct summary *s, const struct message *m, const struct recipient *r)
{
	int64_t first = r->first_time ? r->first_time : m->first_time;
	int64_t last = r->last_time ? r->last_time : m->last_time;
	if (r->deferrals || r->status == RCPT_DEFERRED) {
		count_problem(s, m, r, true);
		count_hour(s, first, HOUR_DEFERRED);
	}
	if (r->status == RCPT_FAILED || r->status == RCPT_DISCARDED)
		count_problem(s, m, r, false);
	if (r->status == RCPT_FAILED)
		count_hour(s, last, HOUR_FAILED);
	else if (r->status == RCPT_DELIVERED)
		count_hour(s, last, HOUR_DELIVERED);
}

static void on_message(void *state, const struct message *m)
{
	struct summary *s = state;
	if (m->state == TXN_REJECTED)
		return; /* its SMTP-time event counts it */
	s->zone = m->zone;
	if (m->arrival.seen)
		count_hour(s, m->arrival.time, HOUR_RECEIVED);
	uint64_t before = s->problems;
	for (size_t i = 0; i < m->recipient_count; i++)
		fold_recipient(s, m, &m->recipients[i]);
	if (m->frozen) {
		struct rule_facts facts;
		explain_frozen_facts(m, &facts);
		count_rule(s, explain_match(s->options.explainer, &facts));
	}
	if (s->problems != before)
		topk_add(&s->senders, message_sender_label(m));
}

static void on_event(void *state, const struct event *e)
{
	struct summary *s = state;
	s->zone = e->zone;
	struct rule_facts facts;
	explain_event_facts(e, &facts);
	count_rule(s, explain_match(s->options.explainer, &facts));
	count_hour(s, e->time, HOUR_REJECTED);
	if (e->ip.len)
		topk_add(&s->hosts, e->ip);
}

/* ---- the object ---- */

static json_t *totals_object(const struct txn_summary *t)
{
	json_t *obj = jsonout_object();
	jsonout_set_uint(obj, "received", t->received);
	jsonout_set_uint(obj, "delivered", t->delivered);
	jsonout_set_uint(obj, "deferred", t->deferred);
	jsonout_set_uint(obj, "failed", t->failed);
	jsonout_set_uint(obj, "discarded", t->discarded);
	jsonout_set_uint(obj, "frozen", t->frozen);
	jsonout_set_uint(obj, "rejected", t->rejected);
	jsonout_set_uint(obj, "pending", t->open_at_end);
	return obj;
}

/* Add count to obj[key]; keys come from rule files (reason, id, owner). */
static void add_count(json_t *obj, const char *key, uint64_t count)
{
	json_t *old = json_object_get(obj, key);
	uint64_t sum = count + (old ? (uint64_t)json_integer_value(old) : 0);
	json_t *value = json_integer((json_int_t)sum);
	if (value == NULL || json_object_set_new(obj, key, value) != 0)
		msg_fatal("out of memory building JSON");
}

static int by_count_desc(const void *a, const void *b)
{
	const struct rule_count *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(rule_id(x->rule), rule_id(y->rule));
}

static void set_rule_counts(struct summary *s, json_t *obj)
{
	/* s->rules is NULL while empty, and qsort's array must not be NULL */
	if (s->rule_count > 1)
		qsort(s->rules, s->rule_count, sizeof *s->rules, by_count_desc);
	json_t *reasons = jsonout_object(), *rules = jsonout_object(), *owners = jsonout_object();
	for (size_t i = 0; i < s->rule_count; i++) {
		const struct rule_count *rc = &s->rules[i];
		add_count(reasons, rule_reason(rc->rule), rc->count);
		add_count(rules, rule_id(rc->rule), rc->count);
		add_count(owners, rule_owner(rc->rule), rc->count);
	}
	jsonout_set(obj, "by_reason", reasons);
	jsonout_set(obj, "by_rule", rules);
	jsonout_set(obj, "by_owner", owners);
}

static json_t *top_array(struct topk *top)
{
	topk_sort(top);
	json_t *array = jsonout_array();
	for (size_t i = 0; i < top->used && i < SUMMARY_TOP_SHOWN; i++) {
		const struct topk_slot *slot = &top->slots[i];
		json_t *entry = jsonout_object();
		jsonout_set(entry, "name", jsonout_text(text_of(slot->name)));
		jsonout_set_uint(entry, "count", slot->count);
		/* Space-Saving: the true count is between count - error and count */
		jsonout_set_bool(entry, "approximate", slot->error > 0);
		jsonout_append(array, entry);
	}
	return array;
}

static int by_hour(const void *a, const void *b)
{
	const struct hour *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

static json_t *timeline_array(struct summary *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->hour_capacity; i++)
		if (s->hours[i].start)
			s->hours[n++] = s->hours[i]; /* compact: the table is done */
	if (n > 1) /* s->hours is NULL when no line had a time */
		qsort(s->hours, n, sizeof *s->hours, by_hour);
	json_t *array = jsonout_array();
	for (size_t i = 0; i < n; i++) {
		json_t *entry = jsonout_object();
		jsonout_set(entry, "hour", jsonout_time(s->hours[i].start, s->zone));
		for (int c = 0; c < HOUR_COLUMNS; c++)
			jsonout_set_uint(entry, hour_column_names[c], s->hours[i].counts[c]);
		jsonout_append(array, entry);
	}
	s->hour_capacity = 0; /* the index is gone */
	return array;
}

static json_t *files_array(const struct summary_options *o)
{
	json_t *array = jsonout_array();
	for (size_t i = 0; i < o->file_count; i++)
		jsonout_append(array, jsonout_text(text_of(o->files[i])));
	if (o->file_count == 0)
		jsonout_append(array, jsonout_text(TEXT_LITERAL("-")));
	return array;
}

static json_t *summary_object(struct summary *s, const struct txn_summary *t)
{
	json_t *obj = jsonout_object();
	jsonout_set_name(obj, "schema", JSONOUT_SCHEMA);
	jsonout_set_name(obj, "type", "summary");
	jsonout_set(obj, "files", files_array(&s->options));
	jsonout_set_time(obj, "first_time", t->first_time, s->zone);
	jsonout_set_time(obj, "last_time", t->last_time, s->zone);
	jsonout_set_uint(obj, "lines", t->pipeline->input->lines);
	jsonout_set_uint(obj, "unparsed_lines", t->pipeline->unknown_lines);
	jsonout_set(obj, "totals", totals_object(t));
	jsonout_set_uint(obj, "problems", s->problems);
	set_rule_counts(s, obj);
	jsonout_set(obj, "top_domains", top_array(&s->domains));
	jsonout_set(obj, "top_senders", top_array(&s->senders));
	jsonout_set(obj, "top_hosts", top_array(&s->hosts));
	jsonout_set(obj, "timeline", timeline_array(s));
	jsonout_set_uint(obj, "timeline_dropped", s->hours_dropped);
	return obj;
}

static int on_finish(void *state, const struct txn_summary *t)
{
	struct summary *s = state;
	if (!jsonout_write_line(summary_object(s, t), s->out) || fflush(s->out) != 0) {
		msg_warn("cannot write the summary: %s", strerror(errno));
		return EXIT_TROUBLE;
	}
	bool found = s->problems || t->failed || t->deferred || t->discarded || t->frozen ||
	             t->rejected;
	return found ? EXIT_FOUND_FAILURES : EXIT_FOUND_NOTHING;
}

/* ---- life cycle ---- */

struct summary *summary_new(const struct summary_options *options)
{
	struct summary *s = xcalloc(1, sizeof *s);
	s->options = *options;
	s->out = options->out ? options->out : stdout;
	s->domains = (struct topk)TOPK_INIT(SUMMARY_TOP_SLOTS);
	s->senders = (struct topk)TOPK_INIT(SUMMARY_TOP_SLOTS);
	s->hosts = (struct topk)TOPK_INIT(SUMMARY_TOP_SLOTS);
	return s;
}

void summary_free(struct summary *s)
{
	if (s == NULL)
		return;
	free(s->rules);
	free(s->hours);
	topk_release(&s->domains);
	topk_release(&s->senders);
	topk_release(&s->hosts);
	free(s);
}

struct record_sink summary_sink(struct summary *s)
{
	return (struct record_sink){ .state = s, .message = on_message, .event = on_event,
	                             .finish = on_finish };
}
