/*
 * main: parse the command line, pick the mode's sink, run the pipeline.
 * Nothing else lives here (jq, GoAccess): modes are modules.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "pipeline.h"
#include "stats.h"

static const char usage_text[] =
	"usage: eximexplain [report] [OPTIONS] [FILE...]\n"
	"       eximexplain stats [--unparsed FILE] [FILE...]\n"
	"\n"
	"Reads Exim main logs (plain, gzip, or stdin as -), several files in\n"
	"time order, and explains what happened to the mail.\n"
	"\n"
	"modes:\n"
	"  report       failure report (the default; for now: lines by kind)\n"
	"  stats        one \"KIND COUNT\" line per line kind, unknown included\n"
	"\n"
	"options:\n"
	"  --unparsed FILE   write every line of unknown shape to FILE, verbatim\n"
	"  --version         print the version\n"
	"  --help            print this help\n"
	"\n"
	"Without FILE: stdin when it is not a terminal, else the first of\n"
	"/var/log/exim_mainlog, /var/log/exim4/mainlog, /var/log/exim/main.log.\n"
	"Exit status: 0 ran, 1 ran and found failures, 2 usage or I/O error.\n";

static const char *const default_logs[] = {
	"/var/log/exim_mainlog", "/var/log/exim4/mainlog", "/var/log/exim/main.log",
};

enum mode { MODE_REPORT, MODE_STATS };

static int usage_error(const char *what)
{
	msg_warn("%s", what);
	fputs("Try 'eximexplain --help'.\n", stderr);
	return EXIT_TROUBLE;
}

static bool pick_mode(const char *word, enum mode *mode)
{
	if (strcmp(word, "report") == 0)
		*mode = MODE_REPORT;
	else if (strcmp(word, "stats") == 0)
		*mode = MODE_STATS;
	else
		return false;
	return true;
}

/* No FILE given: stdin if piped, else the usual log locations. */
static int default_input(const char ***paths, size_t *count)
{
	static const char *chosen[1];
	if (!isatty(STDIN_FILENO)) {
		*paths = NULL;
		*count = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof default_logs / sizeof *default_logs; i++)
		if (access(default_logs[i], F_OK) == 0) {
			chosen[0] = default_logs[i];
			*paths = chosen;
			*count = 1;
			return 0;
		}
	return usage_error("no log file given, stdin is a terminal, and none of "
	                   "/var/log/exim_mainlog, /var/log/exim4/mainlog, "
	                   "/var/log/exim/main.log exists");
}

int main(int argc, char **argv)
{
	enum mode mode = MODE_REPORT;
	struct pipeline_options options = { NULL };
	static const struct option long_options[] = {
		{ "unparsed", required_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	if (argc > 1 && argv[1][0] != '-' && pick_mode(argv[1], &mode)) {
		argv++;
		argc--;
	}
	int c;
	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case 'u':
			options.unparsed_path = optarg;
			break;
		case 'V':
			puts("eximexplain " EXIMEXPLAIN_VERSION);
			return 0;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			return usage_error("unknown option");
		}
	}

	const char **paths = (const char **)argv + optind;
	size_t count = (size_t)(argc - optind);
	if (count == 0 && default_input(&paths, &count) != 0)
		return EXIT_TROUBLE;

	struct stats *stats = stats_new();
	struct sink sink = stats_sink(stats);
	int status = pipeline_run(paths, count, &options, &sink);
	stats_free(stats);
	return status;
}
