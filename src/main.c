/*
 * main: parse the command line, pick the mode's sink, run the pipeline.
 * Nothing else lives here (jq, GoAccess): modes are modules.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "drilldown.h"
#include "explain.h"
#include "export.h"
#include "lexer.h"
#include "msg.h"
#include "pipeline.h"
#include "report.h"
#include "resume.h"
#include "stats.h"
#include "summary.h"
#include "txn.h"
#include "when.h"

static const char usage_text[] =
	"usage: eximexplain [report] [OPTIONS] [FILE...]\n"
	"       eximexplain grep [-l] [-I] [-v] [-M] [-t SECS] [OPTIONS] PATTERN [FILE...]\n"
	"       eximexplain show [OPTIONS] ID... [FILE...]\n"
	"       eximexplain export [--summary] [--lines] [--state FILE] [OPTIONS] [FILE...]\n"
	"       eximexplain digest [--to ADDR] [--from ADDR] [--send [--sendmail CMD]]\n"
	"                          [--quiet-if-clean] [--state FILE] [OPTIONS] [FILE...]\n"
	"       eximexplain stats [OPTIONS] [FILE...]\n"
	"       eximexplain explain [--code N] [--status X.Y.Z] [--host H] [--stage S] TEXT\n"
	"       eximexplain explain --tsv < CODE-TAB-STATUS-TAB-TEXT-LINES\n"
	"       eximexplain rules [--list | --check FILE]\n"
	"\n"
	"Reads Exim main logs (plain, gzip, or stdin as -), several files in\n"
	"time order, and explains what happened to the mail.\n"
	"\n"
	"modes:\n"
	"  report       failed, deferred, discarded and frozen mail grouped by\n"
	"               cause, SMTP-time rejections, messages still queued\n"
	"  grep         every line of the messages that match PATTERN, as exigrep:\n"
	"               -l literal, -I case-sensitive, -v messages that do not match,\n"
	"               -M related messages too, -t SECS at least SECS on the queue\n"
	"  show         every line of the messages with these IDs (and their bounces)\n"
	"  export       NDJSON: one object per message and per SMTP-time event\n"
	"               (--lines: with its raw lines); --summary: one object with\n"
	"               totals, counts by reason, rule and owner, top domains,\n"
	"               senders and hosts, and an hourly timeline\n"
	"  digest       the report as a complete e-mail (problems first) on stdout,\n"
	"               or with --send piped to sendmail -t -oi (--sendmail CMD);\n"
	"               covers the last 24 hours unless --since says otherwise;\n"
	"               --quiet-if-clean: nothing at all when nothing went wrong\n"
	"  stats        one \"KIND COUNT\" line per line kind, unknown included\n"
	"  explain      explain one error text, or (--tsv) one per stdin line\n"
	"  rules        list the rules in matching order, or check a rule file\n"
	"\n"
	"options:\n"
	"  --since WHEN      only lines at or after WHEN: 2024-03-14, \"2024-03-14 10:00\",\n"
	"                    today, yesterday, -24h, -30m, -2d\n"
	"  --until WHEN      only lines before WHEN\n"
	"  --color WHEN      auto (on a terminal), always, never\n"
	"  --format FORMAT   report: text (the default) or json (as export --summary)\n"
	"  --state FILE      export, digest: read only what was logged since the run\n"
	"                    that saved FILE (across logrotate); --since then only\n"
	"                    shapes the first run\n"
	"  --unparsed FILE   write every line of unknown shape to FILE, verbatim\n"
	"  --rules PATH      more rules (a file, or a directory of *.rules); a rule\n"
	"                    with a shipped rule's id replaces it (repeatable)\n"
	"  --max-open N      at most N messages open at once (default 250000); past\n"
	"                    that the oldest is reported as it stands, still pending\n"
	"  --verbose         tell on stderr how the input was read (grep: both passes)\n"
	"  --version         print the version\n"
	"  --help            print this help\n"
	"\n"
	"Without FILE: stdin when it is not a terminal, else the first of\n"
	"/var/log/exim_mainlog, /var/log/exim4/mainlog, /var/log/exim/main.log.\n"
	"Exit status: 0 no failures found (grep: something matched), 1 failures\n"
	"found (grep: nothing matched), 2 usage or I/O error.\n";

static const char *const default_logs[] = {
	"/var/log/exim_mainlog", "/var/log/exim4/mainlog", "/var/log/exim/main.log",
};

enum mode {
	MODE_REPORT, MODE_STATS, MODE_GREP, MODE_SHOW, MODE_EXPORT, MODE_DIGEST, MODE_EXPLAIN,
	MODE_RULES
};

#define RULE_PATHS_MAX 64

struct command_line {
	enum mode mode;
	struct pipeline_options pipeline;
	struct txn_options txn;
	const char *color_when; /* --color as given; resolved once at the end */
	bool color;
	struct drilldown_options drilldown;
	const char *rule_paths[RULE_PATHS_MAX];
	size_t rule_path_count;
	/* explain: what the text does not say; rules: what to do */
	int code;
	const char *status, *host, *stage;
	bool tsv, list;
	const char *check_path;
	/* export; report --format json is export --summary */
	bool summary, lines;
	/* digest */
	struct digest_options digest;
	bool send, since_given, until_given;
	/* export and digest: --state */
	const char *state_path;
	struct resume *resume;
	const char **paths;
	size_t path_count;
};

static int usage_error(const char *what, const char *detail)
{
	if (detail)
		msg_warn("%s: %s", what, detail);
	else
		msg_warn("%s", what);
	fputs("Try 'eximexplain --help'.\n", stderr);
	return EXIT_TROUBLE;
}

static bool pick_mode(const char *word, enum mode *mode)
{
	static const struct {
		const char *name;
		enum mode mode;
	} modes[] = {
		{ "report", MODE_REPORT }, { "stats", MODE_STATS },
		{ "grep", MODE_GREP }, { "show", MODE_SHOW }, { "export", MODE_EXPORT },
		{ "digest", MODE_DIGEST },
		{ "explain", MODE_EXPLAIN }, { "rules", MODE_RULES },
	};
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
		if (strcmp(word, modes[i].name) == 0) {
			*mode = modes[i].mode;
			return true;
		}
	return false;
}

/* No FILE given: stdin if piped, else the usual log locations. With
 * --state never stdin, which cannot be resumed (and cron's stdin is not a
 * terminal, so a digest from cron would otherwise read nothing). */
static bool default_input(struct command_line *cl)
{
	static const char *chosen[1];
	if (!isatty(STDIN_FILENO) && cl->state_path == NULL)
		return true; /* count 0: input.c reads stdin */
	for (size_t i = 0; i < sizeof default_logs / sizeof *default_logs; i++)
		if (access(default_logs[i], F_OK) == 0) {
			chosen[0] = default_logs[i];
			cl->paths = chosen;
			cl->path_count = 1;
			return true;
		}
	return false;
}

static bool parse_seconds(const char *text, int64_t *out)
{
	char *end;
	long long value = strtoll(text, &end, 10);
	if (end == text || *end != '\0' || value < 0)
		return false;
	*out = value;
	return true;
}

/* A usage error inside option parsing: report it, and -1 for the caller. */
static int bad_option(const char *what, const char *detail)
{
	usage_error(what, detail);
	return -1;
}

/* Options common to every mode, and grep's own; -1 on a usage error. */
static int parse_options(int argc, char **argv, struct command_line *cl)
{
	enum {
		OPT_UNPARSED = 256, OPT_SINCE, OPT_UNTIL, OPT_COLOR, OPT_VERSION, OPT_RULES,
		OPT_CODE, OPT_STATUS, OPT_HOST, OPT_STAGE, OPT_TSV, OPT_LIST, OPT_CHECK,
		OPT_SUMMARY, OPT_LINES, OPT_FORMAT,
		OPT_TO, OPT_FROM, OPT_SEND, OPT_SENDMAIL, OPT_QUIET_IF_CLEAN, OPT_NOW, OPT_HOSTNAME,
		OPT_STATE, OPT_MAX_OPEN, OPT_VERBOSE
	};
	static const struct option long_options[] = {
		{ "unparsed", required_argument, NULL, OPT_UNPARSED },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "colour", required_argument, NULL, OPT_COLOR },
		{ "literal", no_argument, NULL, 'l' },
		{ "sensitive", no_argument, NULL, 'I' },
		{ "invert", no_argument, NULL, 'v' },
		{ "related", no_argument, NULL, 'M' },
		{ "queue-time", required_argument, NULL, 't' },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "code", required_argument, NULL, OPT_CODE },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "host", required_argument, NULL, OPT_HOST },
		{ "stage", required_argument, NULL, OPT_STAGE },
		{ "tsv", no_argument, NULL, OPT_TSV },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "check", required_argument, NULL, OPT_CHECK },
		{ "summary", no_argument, NULL, OPT_SUMMARY },
		{ "lines", no_argument, NULL, OPT_LINES },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "to", required_argument, NULL, OPT_TO },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "send", no_argument, NULL, OPT_SEND },
		{ "sendmail", required_argument, NULL, OPT_SENDMAIL },
		{ "quiet-if-clean", no_argument, NULL, OPT_QUIET_IF_CLEAN },
		{ "now", required_argument, NULL, OPT_NOW },
		{ "hostname", required_argument, NULL, OPT_HOSTNAME },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "max-open", required_argument, NULL, OPT_MAX_OPEN },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t now = (int64_t)time(NULL);
	int c;
	opterr = 0; /* our own message names the option and points to --help */
	while ((c = getopt_long(argc, argv, "+:hlIvMt:", long_options, NULL)) != -1) {
		if (c > 0 && c < 256 && strchr("lIvMt", c) && cl->mode != MODE_GREP)
			return bad_option("-l, -I, -v, -M and -t are grep options", NULL);
		if (c >= OPT_CODE && c <= OPT_TSV && cl->mode != MODE_EXPLAIN)
			return bad_option("--code, --status, --host, --stage and --tsv are explain options",
			                  NULL);
		if (c >= OPT_LIST && c <= OPT_CHECK && cl->mode != MODE_RULES)
			return bad_option("--list and --check are rules options", NULL);
		if ((c == OPT_SUMMARY || c == OPT_LINES) && cl->mode != MODE_EXPORT)
			return bad_option("--summary and --lines are export options", NULL);
		if (c == OPT_FORMAT && cl->mode != MODE_REPORT)
			return bad_option("--format is a report option", NULL);
		if (c == OPT_STATE && cl->mode != MODE_DIGEST && cl->mode != MODE_EXPORT)
			return bad_option("--state is an export and digest option", NULL);
		if (c >= OPT_TO && c <= OPT_HOSTNAME && cl->mode != MODE_DIGEST)
			return bad_option("--to, --from, --send, --sendmail, --quiet-if-clean, --now and "
			                  "--hostname are digest options", NULL);
		switch (c) {
		case OPT_UNPARSED: cl->pipeline.unparsed_path = optarg; break;
		case OPT_SINCE:
			if (!when_parse(optarg, now, &cl->pipeline.since))
				return bad_option("--since: not a time", optarg);
			cl->since_given = true;
			break;
		case OPT_UNTIL:
			if (!when_parse(optarg, now, &cl->pipeline.until))
				return bad_option("--until: not a time", optarg);
			cl->until_given = true;
			break;
		case OPT_COLOR: cl->color_when = optarg; break;
		case OPT_RULES:
			if (cl->rule_path_count == RULE_PATHS_MAX)
				return bad_option("too many --rules", optarg);
			cl->rule_paths[cl->rule_path_count++] = optarg;
			break;
		case OPT_CODE: {
			int64_t code;
			if (!parse_seconds(optarg, &code) || code < 200 || code > 599)
				return bad_option("--code: not an SMTP reply code", optarg);
			cl->code = (int)code;
			break;
		}
		case OPT_STATUS: cl->status = optarg; break;
		case OPT_HOST: cl->host = optarg; break;
		case OPT_STAGE:
			if (explain_stage_name(text_make(optarg, strlen(optarg))).len == 0)
				return bad_option("--stage: one of connect, helo, starttls, auth, mail, "
				                  "rcpt, data, end-of-data", optarg);
			cl->stage = optarg;
			break;
		case OPT_TSV: cl->tsv = true; break;
		case OPT_LIST: cl->list = true; break;
		case OPT_CHECK: cl->check_path = optarg; break;
		case OPT_TO: cl->digest.to = optarg; break;
		case OPT_FROM: cl->digest.from = optarg; break;
		case OPT_SEND: cl->send = true; break;
		case OPT_SENDMAIL: cl->digest.sendmail = optarg; break;
		case OPT_QUIET_IF_CLEAN: cl->digest.quiet_if_clean = true; break;
		case OPT_NOW:
			if (!when_parse(optarg, now, &cl->digest.now))
				return bad_option("--now: not a time", optarg);
			break;
		case OPT_HOSTNAME: cl->digest.hostname = optarg; break;
		case OPT_STATE: cl->state_path = optarg; break;
		case OPT_VERBOSE: cl->pipeline.verbose = true; break;
		case OPT_MAX_OPEN: {
			int64_t max_open;
			if (!parse_seconds(optarg, &max_open) || max_open < 1)
				return bad_option("--max-open: not a positive number", optarg);
			cl->txn.max_open = (size_t)max_open;
			break;
		}
		case OPT_SUMMARY: cl->summary = true; break;
		case OPT_LINES: cl->lines = true; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") == 0)
				cl->summary = true;
			else if (strcmp(optarg, "text") != 0)
				return bad_option("--format takes text or json", optarg);
			break;
		case 'l': cl->drilldown.literal = true; break;
		case 'I': cl->drilldown.case_sensitive = true; break;
		case 'v': cl->drilldown.invert = true; break;
		case 'M': cl->drilldown.related = true; break;
		case 't':
			if (!parse_seconds(optarg, &cl->drilldown.min_queue_seconds))
				return bad_option("-t: not a number of seconds", optarg);
			break;
		case OPT_VERSION: puts("eximexplain " EXIMEXPLAIN_VERSION); exit(0);
		case 'h': fputs(usage_text, stdout); exit(0);
		case ':': return bad_option("option needs a value", argv[optind - 1]);
		default: return bad_option("unknown option", argv[optind - 1]);
		}
	}
	return optind;
}

static bool resolve_color(struct command_line *cl)
{
	const char *when = cl->color_when ? cl->color_when : "auto";
	if (strcmp(when, "always") == 0)
		cl->color = true;
	else if (strcmp(when, "never") == 0)
		cl->color = false;
	else if (strcmp(when, "auto") == 0)
		cl->color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	else
		return false;
	return true;
}

/* explain takes TEXT (its words are joined), rules one of its options. */
static int check_rule_modes(const struct command_line *cl)
{
	if (cl->mode == MODE_RULES) {
		if (cl->path_count || cl->list == (cl->check_path != NULL))
			return usage_error("rules takes --list or --check FILE", NULL);
		return 0;
	}
	if (cl->tsv && cl->path_count)
		return usage_error("explain --tsv reads its lines from stdin, not arguments", NULL);
	if (!cl->tsv && cl->path_count == 0)
		return usage_error("explain needs the error TEXT (or --tsv)", NULL);
	return 0;
}

/* Reorder-free parsing: options may follow the mode, then positional
 * arguments (PATTERN, IDs, FILEs) come last, as with exigrep. Options
 * after a FILE are also accepted (GNU style) by a second pass. */
static int parse_command_line(int argc, char **argv, struct command_line *cl)
{
	memset(cl, 0, sizeof *cl);
	cl->drilldown.min_queue_seconds = -1;
	if (argc > 1 && argv[1][0] != '-' && pick_mode(argv[1], &cl->mode)) {
		argv++;
		argc--;
	}
	static const char *positional[4096];
	size_t count = 0;
	int at = 1;
	while (at < argc) {
		optind = 0; /* glibc: rescan from the start, fully reinitialised */
		int next = parse_options(argc - at + 1, argv + at - 1, cl);
		if (next < 0)
			return -1;
		at += next - 1;
		if (at < argc && strcmp(argv[at - 1], "--") != 0) {
			if (count == sizeof positional / sizeof *positional)
				return usage_error("too many arguments", NULL);
			positional[count++] = argv[at++];
		} else {
			while (at < argc && count < sizeof positional / sizeof *positional)
				positional[count++] = argv[at++];
		}
	}
	if (!resolve_color(cl))
		return usage_error("--color takes auto, always or never", cl->color_when);
	size_t first_file = 0;
	if (cl->mode == MODE_GREP) {
		if (count == 0)
			return usage_error("grep needs a PATTERN", NULL);
		cl->drilldown.pattern = positional[0];
		first_file = 1;
	} else if (cl->mode == MODE_SHOW) {
		while (first_file < count &&
		       lexer_is_message_id(positional[first_file], strlen(positional[first_file])))
			first_file++;
		if (first_file == 0)
			return usage_error("show needs at least one message ID", NULL);
		cl->drilldown.ids = positional;
		cl->drilldown.id_count = first_file;
	}
	cl->paths = positional + first_file;
	cl->path_count = count - first_file;
	if (cl->mode == MODE_EXPLAIN || cl->mode == MODE_RULES)
		return check_rule_modes(cl);
	if (cl->path_count == 0 && !default_input(cl))
		return usage_error("no log file given, stdin is a terminal, and none of "
		                   "/var/log/exim_mainlog, /var/log/exim4/mainlog, "
		                   "/var/log/exim/main.log exists", NULL);
	return 0;
}

static int run_stats(const struct command_line *cl)
{
	struct stats *stats = stats_new();
	struct sink sink = stats_sink(stats);
	int status = pipeline_run(cl->paths, cl->path_count, &cl->pipeline, &sink);
	stats_free(stats);
	return status;
}

/* Records through the transaction table into a record sink. The
 * drill-down, when given, may ask the table which messages are still open
 * (-M: a bounce that completes before its parent). */
static int run_records(const struct command_line *cl, struct record_sink *records,
                       struct drilldown *drilldown)
{
	struct record_sink resumed;
	if (cl->resume) {
		resumed = resume_sink(cl->resume, records);
		records = &resumed;
	}
	struct txn_table *table = txn_new(&cl->txn, records);
	if (drilldown)
		drilldown_watch_table(drilldown, table);
	struct sink sink = txn_sink(table);
	struct pipeline_options options = cl->pipeline;
	options.read_ahead = true; /* the table does as much per line as the lexer */
	int status = pipeline_run(cl->paths, cl->path_count, &options, &sink);
	txn_free(table);
	return cl->resume ? resume_finish(cl->resume, status) : status;
}

/* --state: plan the reads. The state decides where the run starts, so
 * --since only shapes a first run and --until (lines after it would be
 * skipped yet counted as read) is refused. */
static int open_state(struct command_line *cl)
{
	if (cl->state_path == NULL)
		return 0;
	if (cl->until_given)
		return usage_error("--until cannot go with --state: the lines after it would "
		                   "never be read", NULL);
	for (size_t i = 0; i < cl->path_count; i++)
		if (strcmp(cl->paths[i], "-") == 0)
			return usage_error("--state cannot resume standard input; name the log files",
			                   NULL);
	cl->resume = resume_open(cl->state_path, cl->paths, cl->path_count);
	if (cl->resume == NULL)
		return EXIT_TROUBLE;
	cl->txn.keep_lines = true; /* the open messages' lines are carried over */
	cl->pipeline.resume = resume_pipeline(cl->resume);
	if (!resume_is_first_run(cl->resume))
		cl->pipeline.since = 0;
	return 0;
}

static struct explainer *load_rules(const struct command_line *cl)
{
	struct explain_options options = { .rule_paths = cl->rule_paths,
		                           .rule_path_count = cl->rule_path_count };
	size_t errors;
	struct explainer *explainer = explain_new(&options, &errors);
	if (errors)
		msg_warn("%zu error%s in the rule files; the rules in error are left out", errors,
		         errors == 1 ? "" : "s");
	return explainer;
}

static int run_report(const struct command_line *cl)
{
	struct explainer *explainer = load_rules(cl);
	struct report_options options = { cl->paths, cl->path_count, cl->color, stdout, explainer,
	                                 false };
	struct report *report = report_new(&options);
	struct record_sink records = report_sink(report);
	int status = run_records(cl, &records, NULL);
	report_free(report);
	explain_free(explainer);
	return status;
}

/* report --format json and export --summary: one summary object. */
static int run_summary(const struct command_line *cl)
{
	struct explainer *explainer = load_rules(cl);
	struct summary_options options = { cl->paths, cl->path_count, stdout, explainer };
	struct summary *summary = summary_new(&options);
	struct record_sink records = summary_sink(summary);
	int status = run_records(cl, &records, NULL);
	summary_free(summary);
	explain_free(explainer);
	return status;
}

static int run_export(struct command_line *cl)
{
	if (cl->summary) {
		if (cl->lines)
			return usage_error("--lines goes with the per-message export, not --summary",
			                   NULL);
		return run_summary(cl);
	}
	cl->txn.keep_lines = cl->lines || cl->resume;
	struct explainer *explainer = load_rules(cl);
	struct export_options options = { stdout, explainer, cl->lines };
	struct export *export = export_new(&options);
	struct record_sink records = export_sink(export);
	int status = run_records(cl, &records, NULL);
	export_free(export);
	explain_free(explainer);
	return status;
}

/* The digest covers the last 24 hours (before --now) unless told. */
static int run_digest(struct command_line *cl)
{
	if (cl->digest.sendmail && !cl->send)
		return usage_error("--sendmail CMD goes with --send", NULL);
	if (cl->send && !cl->digest.sendmail)
		cl->digest.sendmail = DIGEST_DEFAULT_SENDMAIL;
	if (cl->digest.now == 0)
		cl->digest.now = (int64_t)time(NULL);
	if (!cl->since_given && (cl->resume == NULL || resume_is_first_run(cl->resume)))
		cl->pipeline.since = cl->digest.now - 86400;
	struct explainer *explainer = load_rules(cl);
	cl->digest.files = cl->paths;
	cl->digest.file_count = cl->path_count;
	cl->digest.explainer = explainer;
	cl->digest.out = stdout;
	struct digest *digest = digest_new(&cl->digest);
	if (digest == NULL) {
		explain_free(explainer);
		return EXIT_TROUBLE;
	}
	struct record_sink records = digest_sink(digest);
	int status = run_records(cl, &records, NULL);
	digest_free(digest);
	explain_free(explainer);
	return status;
}

static int run_drilldown(struct command_line *cl)
{
	char error[256];
	cl->drilldown.color = cl->color;
	cl->drilldown.out = stdout;
	cl->txn.keep_lines = true;
	struct explainer *explainer = load_rules(cl);
	cl->drilldown.explainer = explainer;
	struct drilldown *drilldown = drilldown_new(&cl->drilldown, error, sizeof error);
	if (drilldown == NULL) {
		explain_free(explainer);
		return usage_error("bad pattern", error);
	}
	struct record_sink records = drilldown_sink(drilldown);
	struct line_test test;
	if (drilldown_line_test(drilldown, &test))
		cl->pipeline.prefilter = &test;
	int status = run_records(cl, &records, drilldown);
	cl->pipeline.prefilter = NULL;
	drilldown_free(drilldown);
	explain_free(explainer);
	return status;
}


static int run_explain(const struct command_line *cl)
{
	struct explainer *explainer = load_rules(cl);
	int status;
	if (cl->tsv) {
		status = explain_tsv(explainer, stdin, stdout);
	} else {
		struct strbuf text = STRBUF_INIT;
		for (size_t i = 0; i < cl->path_count; i++) {
			if (i)
				strbuf_append_char(&text, ' ');
			strbuf_append_str(&text, cl->paths[i]);
		}
		struct text stage = cl->stage ? explain_stage_name(text_make(cl->stage, strlen(cl->stage)))
		                              : text_make(NULL, 0);
		struct text status_code = cl->status ? text_make(cl->status, strlen(cl->status))
		                                     : text_make(NULL, 0);
		struct text host = cl->host ? text_make(cl->host, strlen(cl->host)) : text_make(NULL, 0);
		struct rule_facts facts;
		explain_text_facts(strbuf_text(&text), cl->code, status_code, stage, host, &facts);
		status = explain_print(explainer, &facts, stdout);
		strbuf_release(&text);
	}
	explain_free(explainer);
	return status;
}

static int run_rules(const struct command_line *cl)
{
	if (cl->check_path)
		return explain_check_rules(cl->check_path, stdout);
	struct explainer *explainer = load_rules(cl);
	int status = explain_list_rules(explainer, stdout);
	explain_free(explainer);
	return status;
}

int main(int argc, char **argv)
{
	struct command_line cl;
	if (parse_command_line(argc, argv, &cl) != 0 || open_state(&cl) != 0)
		return EXIT_TROUBLE;
	int status;
	switch (cl.mode) {
	case MODE_STATS:
		return run_stats(&cl);
	case MODE_GREP:
	case MODE_SHOW:
		return run_drilldown(&cl);
	case MODE_EXPORT:
		status = run_export(&cl);
		resume_free(cl.resume);
		return status;
	case MODE_DIGEST:
		status = run_digest(&cl);
		resume_free(cl.resume);
		return status;
	case MODE_EXPLAIN:
		return run_explain(&cl);
	case MODE_RULES:
		return run_rules(&cl);
	case MODE_REPORT:
	default:
		return cl.summary ? run_summary(&cl) : run_report(&cl);
	}
}
