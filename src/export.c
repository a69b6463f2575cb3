/*
 * export: NDJSON records (export.h). Each record is built as a jansson
 * object, written as one compact line and freed before the next arrives.
 *
 * What it must never do: write a byte of log text that is not valid JSON
 * string content (jsonout_text repairs and escapes), keep a record after
 * its call, or go on silently after a write error.
 */
#include "export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "jsonout.h"
#include "msg.h"
#include "strbuf.h"
#include "xalloc.h"

struct export {
	struct export_options options;
	FILE *out;
	bool found_problems;
	bool write_failed;
	struct strbuf words;
};

static const char *const message_states[] = {
	[TXN_COMPLETED] = "completed", [TXN_REJECTED] = "rejected", [TXN_OPEN] = "pending",
};

/* reason, rule, owner, explanation and action of the rule for facts. */
static void set_explanation(struct export *x, json_t *obj, const struct rule_facts *facts)
{
	const struct rule *rule = explain_match(x->options.explainer, facts);
	jsonout_set_str(obj, "reason", rule_reason(rule));
	jsonout_set_str(obj, "rule", rule_id(rule));
	jsonout_set_str(obj, "owner", rule_owner(rule));
	strbuf_reset(&x->words);
	rules_render(rule_explanation(rule), facts, false, &x->words);
	jsonout_set_text(obj, "explanation", strbuf_text(&x->words));
	strbuf_reset(&x->words);
	rules_render(rule_action(rule), facts, false, &x->words);
	jsonout_set_text(obj, "action", strbuf_text(&x->words));
}

static json_t *smtp_object(const struct smtp_reply *reply)
{
	if (reply->code == 0 && !(reply->text && reply->text[0]))
		return NULL;
	json_t *smtp = jsonout_object();
	if (reply->code)
		jsonout_set_int(smtp, "code", reply->code);
	jsonout_set_str(smtp, "status", reply->status);
	jsonout_set_str(smtp, "stage", reply->stage);
	jsonout_set_str(smtp, "text", reply->text);
	return smtp;
}

static void set_smtp(json_t *obj, const struct smtp_reply *reply)
{
	json_t *smtp = smtp_object(reply);
	if (smtp)
		jsonout_set(obj, "smtp", smtp);
}

/* The deferrals behind a delivery or failure: "delayed by greylisting". */
static json_t *delay_object(struct export *x, const struct message *m,
                            const struct recipient *r)
{
	json_t *delay = jsonout_object();
	jsonout_set_uint(delay, "deferrals", r->deferrals);
	set_smtp(delay, &r->defer_smtp);
	jsonout_set_str(delay, "error", r->defer_error);
	struct rule_facts facts;
	explain_recipient_facts(m, r, true, &facts);
	set_explanation(x, delay, &facts);
	return delay;
}

static void explain_recipient(struct export *x, json_t *obj, const struct message *m,
                              const struct recipient *r)
{
	struct rule_facts facts;
	switch (r->status) {
	case RCPT_FAILED: case RCPT_DEFERRED: case RCPT_DISCARDED:
		x->found_problems = true;
		explain_recipient_facts(m, r, false, &facts);
		set_explanation(x, obj, &facts);
		break;
	default:
		break;
	}
	if (r->deferrals && r->status != RCPT_DEFERRED) {
		x->found_problems = true;
		jsonout_set(obj, "delay", delay_object(x, m, r));
	}
}

static json_t *recipient_object(struct export *x, const struct message *m,
                                const struct recipient *r)
{
	json_t *obj = jsonout_object();
	jsonout_set_str(obj, "address", r->address);
	jsonout_set_str(obj, "original", r->original);
	jsonout_set_name(obj, "status", recipient_status_name(r->status));
	jsonout_set_str(obj, "router", r->router);
	jsonout_set_str(obj, "transport", r->transport);
	jsonout_set_str(obj, "host", r->host);
	jsonout_set_str(obj, "ip", r->ip);
	jsonout_set_uint(obj, "attempts", r->attempts);
	jsonout_set_time(obj, "first_time", r->first_time, m->zone);
	jsonout_set_time(obj, "last_time", r->last_time, m->zone);
	set_smtp(obj, &r->smtp);
	jsonout_set_str(obj, "error", r->error);
	explain_recipient(x, obj, m, r);
	return obj;
}

/* P= ... [ip]:port: a number for dashboards; left out when it is not one. */
static void set_port(json_t *obj, const char *port)
{
	char *end;
	errno = 0;
	unsigned long value = port && port[0] ? strtoul(port, &end, 10) : 0;
	if (value > 0 && value <= 65535 && errno == 0 && *end == '\0' && port[0] != '-' &&
	    port[0] != '+' && port[0] != ' ')
		jsonout_set_uint(obj, "port", value);
}

static json_t *arrival_object(const struct message *m)
{
	const struct arrival *a = &m->arrival;
	json_t *obj = jsonout_object();
	jsonout_set_time(obj, "time", a->time, m->zone);
	/* the null sender <> of a bounce is a value, not an absence */
	jsonout_set(obj, "sender", jsonout_text(text_of(a->sender)));
	if (a->size)
		jsonout_set_uint(obj, "size", a->size);
	jsonout_set_str(obj, "protocol", a->protocol);
	jsonout_set_str(obj, "host", a->host);
	jsonout_set_str(obj, "ip", a->ip);
	set_port(obj, a->port);
	jsonout_set_str(obj, "helo", a->helo);
	jsonout_set_str(obj, "auth", a->auth);
	jsonout_set_str(obj, "user", a->user);
	jsonout_set_str(obj, "tls", a->tls);
	jsonout_set_str(obj, "subject", a->subject);
	jsonout_set_str(obj, "message_id", a->message_id);
	return obj;
}

static json_t *lines_array(const char *const *lines, size_t count)
{
	json_t *array = jsonout_array();
	for (size_t i = 0; i < count; i++)
		jsonout_append(array, jsonout_text(text_of(lines[i])));
	return array;
}

static void set_frozen(struct export *x, json_t *obj, const struct message *m)
{
	jsonout_set_bool(obj, "frozen", m->frozen);
	if (!m->frozen)
		return;
	x->found_problems = true;
	json_t *freeze = jsonout_object();
	struct rule_facts facts;
	explain_frozen_facts(m, &facts);
	set_explanation(x, freeze, &facts);
	jsonout_set(obj, "freeze", freeze);
}

static json_t *message_object(struct export *x, const struct message *m)
{
	json_t *obj = jsonout_object();
	jsonout_set_name(obj, "schema", JSONOUT_SCHEMA);
	jsonout_set_name(obj, "type", "message");
	jsonout_set_str(obj, "id", m->id);
	jsonout_set_name(obj, "state", message_states[m->state]);
	if (m->evicted) /* --max-open: reported before its end */
		jsonout_set_bool(obj, "evicted", true);
	if (m->arrival.seen)
		jsonout_set(obj, "arrival", arrival_object(m));
	json_t *recipients = jsonout_array();
	for (size_t i = 0; i < m->recipient_count; i++)
		jsonout_append(recipients, recipient_object(x, m, &m->recipients[i]));
	jsonout_set(obj, "recipients", recipients);
	jsonout_set_time(obj, "first_time", m->first_time, m->zone);
	jsonout_set_time(obj, "last_time", m->last_time, m->zone);
	jsonout_set_time(obj, "completed", m->completed, m->zone);
	int64_t queue = message_queue_seconds(m);
	if (queue >= 0)
		jsonout_set_int(obj, "queue_time", queue);
	set_frozen(x, obj, m);
	jsonout_set_str(obj, "bounce_of", m->bounce_of);
	jsonout_set_str(obj, "bounced_by", m->bounced_by);
	jsonout_set_str(obj, "rejection", m->reject_line);
	if (x->options.lines)
		jsonout_set(obj, "lines", lines_array(m->lines, m->line_count));
	return obj;
}

static void write_line(struct export *x, json_t *obj)
{
	if (!jsonout_write_line(obj, x->out) && !x->write_failed) {
		msg_warn("cannot write the export: %s", strerror(errno));
		x->write_failed = true;
	}
}

static void on_message(void *state, const struct message *m)
{
	struct export *x = state;
	write_line(x, message_object(x, m));
}

/* F=<a@b> as the arrival's sender is written: without the brackets, but
 * the null sender stays "<>". */
static struct text bare_address(struct text address)
{
	if (address.len > 2 && address.ptr[0] == '<' && address.ptr[address.len - 1] == '>')
		return text_make(address.ptr + 1, address.len - 2);
	return address;
}

static void on_event(void *state, const struct event *e)
{
	struct export *x = state;
	x->found_problems = true;
	json_t *obj = jsonout_object();
	jsonout_set_name(obj, "schema", JSONOUT_SCHEMA);
	jsonout_set_name(obj, "type", "event");
	jsonout_set_name(obj, "kind", line_kind_name(e->kind));
	jsonout_set_time(obj, "time", e->time, e->zone);
	jsonout_set_text(obj, "host", e->host);
	jsonout_set_text(obj, "helo", e->helo);
	jsonout_set_text(obj, "ip", e->ip);
	jsonout_set_text(obj, "sender", bare_address(e->sender));
	jsonout_set_text(obj, "message_id", e->message_id);
	jsonout_set_text(obj, "detail", e->detail);
	struct rule_facts facts;
	explain_event_facts(e, &facts);
	set_explanation(x, obj, &facts);
	if (x->options.lines) {
		json_t *lines = jsonout_array();
		jsonout_append(lines, jsonout_text(e->line));
		jsonout_set(obj, "lines", lines);
	}
	write_line(x, obj);
}

static int on_finish(void *state, const struct txn_summary *summary)
{
	struct export *x = state;
	(void)summary;
	if (fflush(x->out) != 0 && !x->write_failed) {
		msg_warn("cannot write the export: %s", strerror(errno));
		x->write_failed = true;
	}
	if (x->write_failed)
		return EXIT_TROUBLE;
	return x->found_problems ? EXIT_FOUND_FAILURES : EXIT_FOUND_NOTHING;
}

struct export *export_new(const struct export_options *options)
{
	struct export *x = xcalloc(1, sizeof *x);
	x->options = *options;
	x->out = options->out ? options->out : stdout;
	strbuf_init(&x->words);
	return x;
}

void export_free(struct export *x)
{
	if (x == NULL)
		return;
	strbuf_release(&x->words);
	free(x);
}

struct record_sink export_sink(struct export *x)
{
	return (struct record_sink){ .state = x, .message = on_message, .event = on_event,
	                             .finish = on_finish, .arrival_details = true };
}
