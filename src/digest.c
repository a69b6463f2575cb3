/*
 * digest: the report as a mail (digest.h). Records go to a report with the
 * mail layout writing into memory; at the end the headers are built from
 * the run's totals and the report text becomes the body.
 */
#include "digest.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mailfmt.h"
#include "msg.h"
#include "report.h"
#include "strbuf.h"
#include "xalloc.h"

struct digest {
	struct digest_options options;
	char *hostname;
	char *to, *from;
	FILE *body;          /* the report writes here */
	char *body_text;
	size_t body_size;
	struct report *report;
	struct record_sink report_sink;
};

/* The host's name as it goes into addresses and the Subject: only
 * letters, digits, dots and hyphens; "localhost" when nothing is left. */
static char *clean_hostname(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = name; *p && sb.len < 253; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-')
			strbuf_append_char(&sb, *p);
	while (sb.len && (sb.data[sb.len - 1] == '.' || sb.data[sb.len - 1] == '-'))
		sb.data[--sb.len] = '\0';
	if (sb.len == 0 || sb.data[0] == '.' || sb.data[0] == '-') {
		strbuf_release(&sb);
		return xstrdup("localhost");
	}
	return sb.data;
}

static char *local_hostname(void)
{
	char name[256];
	if (gethostname(name, sizeof name) != 0)
		return xstrdup("localhost");
	name[sizeof name - 1] = '\0';
	return clean_hostname(name);
}

static char *default_address(const char *local_part, const char *host)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_printf(&sb, "%s@%s", local_part, host);
	return sb.data;
}

/* ---- the message ---- */

static void append_time(struct strbuf *sb, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];
	if (t == 0 || localtime_r(&tt, &tm) == NULL) {
		strbuf_append_str(sb, "?");
		return;
	}
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
	strbuf_append_str(sb, buf);
}

static bool problems_in(const struct txn_summary *s)
{
	return s->failed || s->deferred || s->discarded || s->frozen || s->rejected;
}

static void subject(const struct digest *d, const struct txn_summary *s, struct strbuf *out)
{
	strbuf_printf(out, "[eximexplain] %s ", d->hostname);
	append_time(out, s->first_time);
	strbuf_append_str(out, " .. ");
	append_time(out, s->last_time);
	if (!problems_in(s)) {
		strbuf_append_str(out, ": all clear");
		return;
	}
	strbuf_printf(out, ": %llu failed, %llu deferred, %llu discarded, %llu frozen, "
	                   "%llu rejected",
	              (unsigned long long)s->failed, (unsigned long long)s->deferred,
	              (unsigned long long)s->discarded, (unsigned long long)s->frozen,
	              (unsigned long long)s->rejected);
}

static void all_clear(const struct digest *d, const struct txn_summary *s, struct strbuf *body)
{
	strbuf_printf(body, "All clear on %s: no mail failed, was deferred, discarded or\n"
	                    "frozen, and nothing was rejected at SMTP time between\n",
	              d->hostname);
	append_time(body, s->first_time);
	strbuf_append_str(body, " and ");
	append_time(body, s->last_time);
	strbuf_printf(body, ".\n\n%llu received, %llu delivered.\n",
	              (unsigned long long)s->received, (unsigned long long)s->delivered);
}

static void headers(const struct digest *d, const struct txn_summary *s, const char *encoding,
                    struct strbuf *out)
{
	struct strbuf value = STRBUF_INIT;
	mailfmt_address_header(out, "From", d->from);
	mailfmt_address_header(out, "To", d->to);
	subject(d, s, &value);
	mailfmt_header(out, "Subject", strbuf_text(&value));
	strbuf_reset(&value);
	mailfmt_date(&value, d->options.now);
	mailfmt_header(out, "Date", strbuf_text(&value));
	strbuf_reset(&value);
	mailfmt_message_id(&value, d->options.now, (long)getpid(), 1, d->hostname);
	mailfmt_header(out, "Message-ID", strbuf_text(&value));
	/* RFC 3834: no vacation reply or bounce loop to a robot's report */
	mailfmt_header(out, "Auto-Submitted", TEXT_LITERAL("auto-generated"));
	mailfmt_header(out, "MIME-Version", TEXT_LITERAL("1.0"));
	mailfmt_header(out, "Content-Type", TEXT_LITERAL("text/plain; charset=utf-8"));
	mailfmt_header(out, "Content-Transfer-Encoding",
	               text_make(encoding, strlen(encoding)));
	strbuf_append_char(out, '\n');
	strbuf_release(&value);
}

/* ---- sending ---- */

static bool write_to(FILE *out, const struct strbuf *message)
{
	return fwrite(message->data, 1, message->len, out) == message->len && fflush(out) == 0;
}

/* The message to `/bin/sh -c COMMAND` on its stdin; true when every byte
 * went and the command exited 0. */
static bool send_with(const char *command, const struct strbuf *message)
{
	void (*previous)(int) = signal(SIGPIPE, SIG_IGN); /* a dead sendmail is an error, not death */
	/* --sendmail CMD is a shell command by design, given by the user */
	/* NOLINTNEXTLINE(cert-env33-c) */
	FILE *pipe = popen(command, "w");
	if (pipe == NULL) {
		signal(SIGPIPE, previous);
		msg_warn("cannot run '%s': %s", command, strerror(errno));
		return false;
	}
	bool written = fwrite(message->data, 1, message->len, pipe) == message->len;
	int status = pclose(pipe);
	signal(SIGPIPE, previous);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (status != -1 && WIFEXITED(status))
			msg_warn("'%s' failed with exit status %d; the digest was not sent", command,
			         WEXITSTATUS(status));
		else
			msg_warn("'%s' did not finish normally; the digest was not sent", command);
		return false;
	}
	if (!written) {
		msg_warn("'%s' did not take the whole digest; it was not sent", command);
		return false;
	}
	return true;
}

static int on_finish(void *state, const struct txn_summary *s)
{
	struct digest *d = state;
	int status = d->report_sink.finish(d->report_sink.state, s);
	fclose(d->body);
	d->body = NULL;
	bool clean = status == EXIT_FOUND_NOTHING && !problems_in(s);
	if (clean && d->options.quiet_if_clean)
		return EXIT_FOUND_NOTHING;
	struct strbuf text = STRBUF_INIT, body = STRBUF_INIT, message = STRBUF_INIT;
	if (clean) {
		all_clear(d, s, &text);
	} else {
		struct text report = text_make(d->body_text, d->body_size);
		while (report.len && report.ptr[0] == '\n')
			report = text_skip(report, 1);
		strbuf_printf(&text, "Mail problems on %s, the most frequent first; the totals\n"
		                     "are at the end.\n\n", d->hostname);
		strbuf_append_text(&text, report);
	}
	const char *encoding = mailfmt_body(&body, strbuf_text(&text));
	headers(d, s, encoding, &message);
	strbuf_append(&message, body.data, body.len);
	bool sent = d->options.sendmail ? send_with(d->options.sendmail, &message)
	                                : write_to(d->options.out ? d->options.out : stdout,
	                                           &message);
	if (!sent && !d->options.sendmail)
		msg_warn("cannot write the digest: %s", strerror(errno));
	strbuf_release(&text);
	strbuf_release(&body);
	strbuf_release(&message);
	if (!sent)
		return EXIT_TROUBLE;
	return clean ? EXIT_FOUND_NOTHING : EXIT_FOUND_FAILURES;
}

static void on_message(void *state, const struct message *m)
{
	struct digest *d = state;
	d->report_sink.message(d->report_sink.state, m);
}

static void on_event(void *state, const struct event *e)
{
	struct digest *d = state;
	d->report_sink.event(d->report_sink.state, e);
}

/* ---- life cycle ---- */

static bool addresses_ok(const struct digest_options *o)
{
	if (o->to && !mailfmt_address_list_ok(o->to)) {
		msg_warn("--to: not an address or a list of addresses: %s", o->to);
		return false;
	}
	if (o->from && !mailfmt_address_ok(o->from)) {
		msg_warn("--from: not one address: %s", o->from);
		return false;
	}
	return true;
}

bool digest_hostname_ok(const char *name)
{
	char *clean = clean_hostname(name);
	bool same = strcmp(clean, name) == 0;
	free(clean);
	return same;
}

struct digest *digest_new(const struct digest_options *options)
{
	if (!addresses_ok(options))
		return NULL;
	if (options->hostname && !digest_hostname_ok(options->hostname)) {
		msg_warn("--hostname: not a host name: %s", options->hostname);
		return NULL;
	}
	struct digest *d = xcalloc(1, sizeof *d);
	d->options = *options;
	d->hostname = options->hostname ? clean_hostname(options->hostname) : local_hostname();
	d->to = options->to ? xstrdup(options->to) : default_address("root", d->hostname);
	d->from = options->from ? xstrdup(options->from)
	                        : default_address("eximexplain", d->hostname);
	d->body = open_memstream(&d->body_text, &d->body_size);
	if (d->body == NULL)
		msg_fatal("out of memory");
	struct report_options report = { options->files, options->file_count, false, d->body,
		                         options->explainer, true };
	d->report = report_new(&report);
	d->report_sink = report_sink(d->report);
	return d;
}

void digest_free(struct digest *d)
{
	if (d == NULL)
		return;
	if (d->body)
		fclose(d->body);
	free(d->body_text);
	report_free(d->report);
	free(d->hostname);
	free(d->to);
	free(d->from);
	free(d);
}

struct record_sink digest_sink(struct digest *d)
{
	return (struct record_sink){ .state = d, .message = on_message, .event = on_event,
	                             .finish = on_finish };
}
