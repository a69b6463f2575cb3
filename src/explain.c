/*
 * explain: facts from records, rules from their places, and the built-in
 * last resort, so that no failure is ever left without an explanation.
 * This module must never print a byte of the log unescaped: it builds
 * facts and finds rules; the modes print.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "explain.h"
#include "fields.h"
#include "msg.h"
#include "xalloc.h"

#ifndef EXIMEXPLAIN_DATADIR
#define EXIMEXPLAIN_DATADIR "/usr/local/share/eximexplain"
#endif
#ifndef EXIMEXPLAIN_SYSCONFDIR
#define EXIMEXPLAIN_SYSCONFDIR "/usr/local/etc/eximexplain"
#endif

struct explainer {
	struct rule_set *rules;
};

static bool is_directory(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The shipped rules: data/rules beside src/ when the program runs from
 * its build tree (so `src/eximexplain` works before `make install`), else
 * the installed $(datadir)/eximexplain/rules. */
static char *shipped_dir(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			/* src/eximexplain, or build/asan/eximexplain */
			struct strbuf sb = STRBUF_INIT;
			const char *ups[] = { "/..", "/../.." };
			for (size_t i = 0; i < 2; i++) {
				strbuf_reset(&sb);
				strbuf_printf(&sb, "%s%s/src/rules.c", exe, ups[i]);
				bool tree = access(sb.data, F_OK) == 0;
				strbuf_reset(&sb);
				strbuf_printf(&sb, "%s%s/data/rules", exe, ups[i]);
				char *real = tree ? realpath(sb.data, NULL) : NULL;
				if (real && is_directory(real)) {
					strbuf_release(&sb);
					return real;
				}
				free(real);
			}
			strbuf_release(&sb);
		}
	}
	return xstrdup(EXIMEXPLAIN_DATADIR "/rules");
}

struct explainer *explain_new(const struct explain_options *options, size_t *errors)
{
	struct explainer *e = xcalloc(1, sizeof *e);
	e->rules = rules_new();
	*errors = 0;
	char *shipped = options->shipped_dir ? xstrdup(options->shipped_dir) : shipped_dir();
	struct stat st;
	if (stat(shipped, &st) == 0)
		*errors += rules_load(e->rules, shipped, RULES_SHIPPED);
	else
		msg_warn("%s: no shipped rules there (%s); only built-in and --rules explanations",
		         shipped, strerror(ENOENT));
	free(shipped);
	const char *system = options->system_dir ? options->system_dir
	                                         : EXIMEXPLAIN_SYSCONFDIR "/rules.d";
	if (is_directory(system))
		*errors += rules_load(e->rules, system, RULES_USER);
	for (size_t i = 0; i < options->rule_path_count; i++)
		*errors += rules_load(e->rules, options->rule_paths[i], RULES_USER);
	return e;
}

void explain_free(struct explainer *explainer)
{
	if (explainer == NULL)
		return;
	rules_free(explainer->rules);
	free(explainer);
}

struct rule_set *explain_rules(struct explainer *explainer)
{
	return explainer->rules;
}

const struct rule *explain_match(struct explainer *explainer, const struct rule_facts *facts)
{
	return rules_match(explainer->rules, facts);
}

/* ---- facts ---- */

static struct text domain_of(struct text address)
{
	const char *at = address.len ? memrchr(address.ptr, '@', address.len) : NULL;
	if (at == NULL)
		return text_make(NULL, 0);
	size_t skip = (size_t)(at - address.ptr) + 1;
	return text_skip(address, skip);
}

/* A line from its flag on ("=> /dev/null <a@b> R=.. T=.."): the time, the
 * ID and a syslog wrapper before it say nothing of why, and would make a
 * rule read a reason into a host name ("spam-gw exim[1]:") or an ID
 * ("...-Spam"). Being the same for every line alike, the rest also lets
 * the rules' memo know the line again. The whole line when the ID is not
 * in it. */
static struct text after_message_id(struct text line, const char *id)
{
	long at = id[0] ? text_find(line, id) : -1;
	if (at < 0)
		return line;
	struct text rest = text_skip(line, (size_t)at + strlen(id));
	return rest.len && rest.ptr[0] == ' ' ? text_skip(rest, 1) : rest;
}

struct text explain_recipient_address(const struct recipient *r)
{
	/* a local delivery logs the local part, a pipe or a file as the
	 * address: the <original> is the address people know */
	struct text address = text_of(r->address);
	if (domain_of(address).len == 0 && r->original[0])
		address = text_of(r->original);
	return address;
}

struct text explain_recipient_domain(const struct recipient *r)
{
	return domain_of(explain_recipient_address(r));
}

static void clear(struct rule_facts *out)
{
	memset(out, 0, sizeof *out);
	out->kind = LINE_KIND_COUNT;
}

static void take_message(const struct message *m, struct rule_facts *out)
{
	out->id = text_of(m->id);
	if (m->arrival.seen)
		out->sender = m->arrival.sender[0] ? text_of(m->arrival.sender) : TEXT_LITERAL("<>");
}

void explain_recipient_facts(const struct message *m, const struct recipient *r, bool deferral,
                             struct rule_facts *out)
{
	clear(out);
	take_message(m, out);
	const struct smtp_reply *smtp = deferral ? &r->defer_smtp : &r->smtp;
	switch (deferral ? RCPT_DEFERRED : r->status) {
	case RCPT_DEFERRED:
		out->outcome = RULE_DEFERRED;
		out->kind = LK_DEFERRED;
		break;
	case RCPT_DISCARDED:
		out->outcome = RULE_DISCARDED;
		out->kind = LK_DELIVERY;
		break;
	default:
		out->outcome = RULE_FAILED;
		out->kind = LK_FAILED;
		break;
	}
	out->router = text_of(r->router);
	out->transport = text_of(r->transport);
	out->host = text_of(r->host);
	out->ip = text_of(r->ip);
	out->address = explain_recipient_address(r);
	out->domain = domain_of(out->address);
	out->stage = text_of(smtp->stage);
	out->code = smtp->code;
	out->status = text_of(smtp->status);
	out->text = text_of(smtp->text);
	out->error = text_of(deferral ? r->defer_error : r->error);
	/* a discard has no error: what it says is in its line ("=> blackhole
	 * (DATA ACL discarded recipients): reason") or its address */
	if (out->error.len == 0 && out->outcome == RULE_DISCARDED)
		out->error = r->line[0] ? after_message_id(text_of(r->line), m->id)
		                        : text_of(r->address);
}

void explain_frozen_facts(const struct message *m, struct rule_facts *out)
{
	clear(out);
	take_message(m, out);
	out->outcome = RULE_FROZEN;
	out->kind = LK_FROZEN;
	/* the recipient whose trouble froze it, when one failed or deferred */
	for (size_t i = 0; i < m->recipient_count; i++) {
		const struct recipient *r = &m->recipients[i];
		if (r->status != RCPT_FAILED && r->status != RCPT_DEFERRED)
			continue;
		out->address = text_of(r->address);
		out->domain = domain_of(out->address);
		out->router = text_of(r->router);
		out->transport = text_of(r->transport);
		out->host = text_of(r->host);
		out->ip = text_of(r->ip);
		out->error = text_of(r->error);
		break;
	}
}

/* The SMTP stage an event's kind implies. */
static struct text event_stage(enum line_kind kind)
{
	switch (kind) {
	case LK_REJECTED_CONNECT: case LK_CONNECTION_REFUSED: return TEXT_LITERAL("connect");
	case LK_REJECTED_HELO: return TEXT_LITERAL("HELO");
	case LK_REJECTED_MAIL: case LK_SENDER_VERIFY: return TEXT_LITERAL("MAIL FROM");
	case LK_REJECTED_RCPT: return TEXT_LITERAL("RCPT TO");
	case LK_REJECTED_DATA: case LK_ACL_DISCARD: return TEXT_LITERAL("end of data");
	case LK_AUTH_FAILED: return TEXT_LITERAL("AUTH");
	default: return text_make(NULL, 0);
	}
}

void explain_event_facts(const struct event *e, struct rule_facts *out)
{
	clear(out);
	out->outcome = RULE_EVENT;
	out->kind = e->kind;
	out->id = e->message_id;
	out->host = e->host;
	out->ip = e->ip;
	out->sender = e->sender;
	out->stage = event_stage(e->kind);
	out->error = e->detail;
	out->text = e->detail;
	struct smtp_reply_view reply;
	if (fields_parse_reply(e->detail, &reply)) {
		out->code = reply.code;
		out->status = reply.status;
	}
}

void explain_text_facts(struct text text, int code, struct text status, struct text stage,
                        struct text host, struct rule_facts *out)
{
	clear(out);
	out->error = text;
	out->text = text;
	struct smtp_reply_parts parts;
	struct smtp_reply_view reply;
	if (txn_parse_smtp_error(text, &parts)) {
		out->stage = parts.stage;
		out->code = parts.code;
		out->status = parts.status;
		if (parts.reply.len)
			out->text = parts.reply;
	} else if (fields_parse_reply(text, &reply)) {
		out->code = reply.code;
		out->status = reply.status;
	}
	if (code > 0)
		out->code = code;
	if (status.len)
		out->status = status;
	if (stage.len)
		out->stage = stage;
	out->host = host;
	bool temporary = (out->code >= 400 && out->code < 500) ||
	                 (out->code == 0 && out->status.len && out->status.ptr[0] == '4');
	out->outcome = temporary ? RULE_DEFERRED : RULE_FAILED;
	out->kind = temporary ? LK_DEFERRED : LK_FAILED;
}

struct text explain_stage_name(struct text name)
{
	static const struct {
		const char *alias, *stage;
	} names[] = {
		{ "connect", "connect" }, { "banner", "connect" }, { "helo", "HELO" },
		{ "ehlo", "HELO" }, { "starttls", "STARTTLS" }, { "auth", "AUTH" },
		{ "mail", "MAIL FROM" }, { "mail from", "MAIL FROM" }, { "rcpt", "RCPT TO" },
		{ "rcpt to", "RCPT TO" }, { "data", "DATA" }, { "end-of-data", "end of data" },
		{ "end of data", "end of data" }, { "eod", "end of data" },
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		const char *a = names[i].alias;
		if (strlen(a) != name.len)
			continue;
		size_t k = 0;
		while (k < name.len && (name.ptr[k] | 0x20) == (a[k] | 0x20))
			k++;
		if (k == name.len)
			return text_make(names[i].stage, strlen(names[i].stage));
	}
	return text_make(NULL, 0);
}

/* ---- modes ---- */

/* A value from the log or from stdin, made safe for a terminal or a TSV
 * field (tabs and newlines escaped too). */
static void put_escaped(FILE *out, struct text t, struct strbuf *scratch)
{
	strbuf_reset(scratch);
	strbuf_append_escaped(scratch, t);
	fwrite(scratch->data, 1, scratch->len, out);
}

static void render(const struct rule *rule, const struct rule_facts *facts,
                   struct strbuf *explanation, struct strbuf *action)
{
	strbuf_reset(explanation);
	strbuf_reset(action);
	rules_render(rule_explanation(rule), facts, false, explanation);
	rules_render(rule_action(rule), facts, false, action);
}

int explain_print(struct explainer *explainer, const struct rule_facts *facts, FILE *out)
{
	const struct rule *rule = explain_match(explainer, facts);
	struct strbuf explanation = STRBUF_INIT, action = STRBUF_INIT, scratch = STRBUF_INIT;
	render(rule, facts, &explanation, &action);
	fprintf(out, "read as:     %s", rules_outcome_name(facts->outcome));
	if (facts->code)
		fprintf(out, ", code %d", facts->code);
	if (facts->status.len) {
		fputs(", status ", out);
		put_escaped(out, facts->status, &scratch);
	}
	if (facts->stage.len)
		fprintf(out, ", at %.*s", (int)facts->stage.len, facts->stage.ptr);
	if (facts->host.len) {
		fputs(", host ", out);
		put_escaped(out, facts->host, &scratch);
	}
	fprintf(out, "\nreason:      %s\nrule:        %s (%s:%u)\nowner:       %s\n",
	        rule_reason(rule), rule_id(rule), rule_file(rule), rule_line(rule),
	        rule_owner(rule));
	fputs("explanation: ", out);
	put_escaped(out, strbuf_text(&explanation), &scratch);
	fputs("\naction:      ", out);
	put_escaped(out, strbuf_text(&action), &scratch);
	fputc('\n', out);
	strbuf_release(&explanation);
	strbuf_release(&action);
	strbuf_release(&scratch);
	return ferror(out) ? EXIT_TROUBLE : 0;
}

/* Split "code<TAB>status<TAB>text": fields before the second tab are the
 * code and status; the text is the rest (it may hold tabs itself). */
static void tsv_facts(struct text line, struct rule_facts *facts)
{
	struct text field[2] = { { NULL, 0 }, { NULL, 0 } };
	for (size_t k = 0; k < 2; k++) {
		const char *tab = line.len ? memchr(line.ptr, '\t', line.len) : NULL;
		if (tab == NULL)
			break;
		field[k] = text_make(line.ptr, (size_t)(tab - line.ptr));
		line = text_skip(line, field[k].len + 1);
	}
	int code = 0;
	struct text c = field[0];
	if (c.len == 3 && c.ptr[0] >= '1' && c.ptr[0] <= '5' && c.ptr[1] >= '0' &&
	    c.ptr[1] <= '9' && c.ptr[2] >= '0' && c.ptr[2] <= '9')
		code = (c.ptr[0] - '0') * 100 + (c.ptr[1] - '0') * 10 + (c.ptr[2] - '0');
	explain_text_facts(line, code, field[1], text_make(NULL, 0), text_make(NULL, 0), facts);
}

int explain_tsv(struct explainer *explainer, FILE *in, FILE *out)
{
	struct strbuf explanation = STRBUF_INIT, action = STRBUF_INIT, scratch = STRBUF_INIT;
	char *line = NULL;
	size_t capacity = 0;
	ssize_t n;
	while ((n = getline(&line, &capacity, in)) >= 0) {
		size_t len = (size_t)n;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		struct rule_facts facts;
		tsv_facts(text_make(line, len), &facts);
		const struct rule *rule = explain_match(explainer, &facts);
		render(rule, &facts, &explanation, &action);
		fprintf(out, "%s\t%s\t", rule_reason(rule), rule_id(rule));
		put_escaped(out, strbuf_text(&explanation), &scratch);
		fputc('\n', out);
	}
	free(line);
	strbuf_release(&explanation);
	strbuf_release(&action);
	strbuf_release(&scratch);
	if (ferror(in)) {
		msg_warn("stdin: read error");
		return EXIT_TROUBLE;
	}
	return ferror(out) ? EXIT_TROUBLE : 0;
}

int explain_list_rules(struct explainer *explainer, FILE *out)
{
	struct rule_set *set = explainer->rules;
	for (size_t i = 0; i < rules_count(set); i++) {
		const struct rule *rule = rules_at(set, i);
		fprintf(out, "%-40s %-16s %-18s %s:%u\n", rule_id(rule), rule_reason(rule),
		        rule_owner(rule), rule_file(rule), rule_line(rule));
	}
	return ferror(out) ? EXIT_TROUBLE : 0;
}

int explain_check_rules(const char *path, FILE *out)
{
	struct rule_set *set = rules_new();
	size_t errors = rules_load(set, path, RULES_SHIPPED);
	if (errors == 0)
		fprintf(out, "%s: %zu rules, no errors\n", path, rules_count(set));
	else
		fprintf(out, "%s: %zu error%s\n", path, errors, errors == 1 ? "" : "s");
	rules_free(set);
	return errors ? 1 : 0;
}
