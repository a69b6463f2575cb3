/*
 * grammar_diff: the hand-written lexer checked against the written-down
 * grammar (grammar/mainlog.kinds, format in grammar/README).
 *
 *   grammar_diff GRAMMAR [FILE...]
 *
 * Every pattern of GRAMMAR is compiled once (PCRE2, JIT where available).
 * Then every `example:` line must be classified as its own kind by both the
 * grammar and lexer_parse(), and every line of every FILE (plain files) is
 * classified both ways and compared: kind, and for lines that are entries,
 * where the body starts and the message ID. Each disagreement is printed as
 *
 *   FILE:LINE: grammar=K1 lexer=K2: LINE
 *
 * (the first 50, then only counted), followed by a summary. Exit status:
 * 0 when both sides agree everywhere, 1 on any disagreement, 2 when the
 * grammar or a file cannot be read.
 *
 * It must never judge which side is right: it only reports where they
 * part. It uses the public struct log_line (kind, body, message_id) and
 * nothing else of the lexer.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"

#ifndef SHOW_MAX
#define SHOW_MAX 50 /* disagreements printed in full; -DSHOW_MAX=N for more */
#endif
#define MATCH_LIMIT 10000000u       /* a runaway pattern is an error, not a hang */
#define DEPTH_LIMIT 100000u

enum id_rule { ID_ANY, ID_REQUIRED, ID_FORBIDDEN };

struct pattern {
	pcre2_code *code;
	char *source;      /* after {{define}} expansion, for messages */
	unsigned line;     /* in the grammar file */
	int id_group;      /* number of (?<id>...), or -1 */
	int part_group;    /* number of (?<part>...), or -1 */
};

struct pattern_list {
	struct pattern *items;
	size_t count, capacity;
};

struct example {
	char *text;
	unsigned line;
};

struct kind_rules {
	bool declared;
	unsigned line;                 /* of its `kind:` */
	enum id_rule id;
	struct pattern_list patterns;
	struct example *examples;
	size_t example_count, example_capacity;
};

struct define {
	char *name;
	char *value;
};

struct grammar {
	const char *path;
	struct define *defines;
	size_t define_count, define_capacity;
	struct pattern_list wrappers, prefixes, wrapped_prefixes;
	struct kind_rules kinds[LINE_KIND_COUNT];
	enum line_kind order[LINE_KIND_COUNT]; /* kinds in file order */
	size_t order_count;
	pcre2_match_data *match;
	pcre2_match_context *limits;
	unsigned long match_errors;
};

/* What the grammar makes of one line. */
struct verdict {
	enum line_kind kind;
	bool entry;          /* has a prefix: body and id are meaningful */
	size_t body_offset;  /* from the start of the line */
	size_t id_offset, id_length;
	bool has_id;
};

static void die(const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	fputs("grammar_diff: ", stderr);
	vfprintf(stderr, format, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *checked_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		die("out of memory");
	return p;
}

static char *copy_string(const char *s, size_t length)
{
	char *p = checked_realloc(NULL, length + 1);
	memcpy(p, s, length);
	p[length] = '\0';
	return p;
}

#define GROW(array, count, capacity)                                        \
	do {                                                                \
		if ((count) == (capacity)) {                                \
			(capacity) = (capacity) ? 2 * (capacity) : 8;       \
			(array) = checked_realloc((array),                  \
			                          (capacity) * sizeof *(array)); \
		}                                                           \
	} while (0)

static void grammar_error(const struct grammar *g, unsigned line,
                          const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	if (line)
		fprintf(stderr, "%s:%u: ", g->path, line);
	else
		fprintf(stderr, "%s: ", g->path);
	vfprintf(stderr, format, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* ---- loading the grammar -------------------------------------------- */

static const char *find_define(const struct grammar *g, const char *name,
                               size_t length)
{
	for (size_t i = 0; i < g->define_count; i++)
		if (strlen(g->defines[i].name) == length &&
		    memcmp(g->defines[i].name, name, length) == 0)
			return g->defines[i].value;
	return NULL;
}

/* Replace every {{name}} by the text of an earlier `define name:`. */
static char *expand(const struct grammar *g, unsigned line, const char *value)
{
	size_t length = 0, capacity = strlen(value) + 1;
	char *out = checked_realloc(NULL, capacity);

	for (const char *p = value; *p;) {
		const char *piece = p;
		size_t piece_length = 1;
		if (p[0] == '{' && p[1] == '{') {
			const char *end = strstr(p + 2, "}}");
			if (!end)
				grammar_error(g, line, "unclosed {{ in \"%s\"", value);
			piece = find_define(g, p + 2, (size_t)(end - p - 2));
			if (!piece)
				grammar_error(g, line, "unknown define {{%.*s}}",
				              (int)(end - p - 2), p + 2);
			piece_length = strlen(piece);
			p = end + 2;
		} else {
			p++;
		}
		if (length + piece_length + 1 > capacity) {
			capacity = 2 * (length + piece_length + 1);
			out = checked_realloc(out, capacity);
		}
		memcpy(out + length, piece, piece_length);
		length += piece_length;
	}
	out[length] = '\0';
	return out;
}

static void add_pattern(struct grammar *g, struct pattern_list *list,
                        unsigned line, const char *value)
{
	char *source = expand(g, line, value);
	int error;
	PCRE2_SIZE offset;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)source, PCRE2_ZERO_TERMINATED,
	                                 0, &error, &offset, NULL);
	if (!code) {
		PCRE2_UCHAR message[256];
		pcre2_get_error_message(error, message, sizeof message);
		grammar_error(g, line, "bad pattern at offset %zu: %s\n  %s",
		              (size_t)offset, (char *)message, source);
	}
	/* JIT is an optimisation: where it is missing the interpreter runs. */
#ifndef EXIMEXPLAIN_NO_JIT /* make check-valgrind: memcheck cannot follow JIT code */
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
#endif

	GROW(list->items, list->count, list->capacity);
	struct pattern *p = &list->items[list->count++];
	p->code = code;
	p->source = source;
	p->line = line;
	p->id_group = pcre2_substring_number_from_name(code, (PCRE2_SPTR)"id");
	p->part_group = pcre2_substring_number_from_name(code, (PCRE2_SPTR)"part");
	if (p->id_group < 0)
		p->id_group = -1;
	if (p->part_group < 0)
		p->part_group = -1;
}

static enum id_rule parse_id_rule(const struct grammar *g, unsigned line,
                                  const char *value)
{
	if (strcmp(value, "any") == 0)
		return ID_ANY;
	if (strcmp(value, "required") == 0)
		return ID_REQUIRED;
	if (strcmp(value, "forbidden") == 0)
		return ID_FORBIDDEN;
	grammar_error(g, line, "id: must be required, forbidden or any, not \"%s\"",
	              value);
	return ID_ANY;
}

/* Kinds that have no patterns: decided by the prefix (grammar/README). */
static bool is_structural(enum line_kind kind)
{
	return kind == LK_BLANK || kind == LK_CONTINUATION || kind == LK_UNKNOWN;
}

static void handle_directive(struct grammar *g, struct kind_rules **current,
                             unsigned line, const char *key, const char *value)
{
	if (strncmp(key, "define ", 7) == 0) {
		const char *name = key + 7;
		while (*name == ' ')
			name++;
		if (!*name)
			grammar_error(g, line, "define without a name");
		GROW(g->defines, g->define_count, g->define_capacity);
		g->defines[g->define_count].name = copy_string(name, strlen(name));
		g->defines[g->define_count].value = expand(g, line, value);
		g->define_count++;
	} else if (strcmp(key, "prefix") == 0) {
		add_pattern(g, &g->prefixes, line, value);
	} else if (strcmp(key, "wrapper") == 0) {
		add_pattern(g, &g->wrappers, line, value);
	} else if (strcmp(key, "wrapped-prefix") == 0) {
		add_pattern(g, &g->wrapped_prefixes, line, value);
	} else if (strcmp(key, "kind") == 0) {
		enum line_kind kind = line_kind_from_name(value, strlen(value));
		if (kind == LINE_KIND_COUNT)
			grammar_error(g, line, "\"%s\" is not a kind of src/linekinds.h",
			              value);
		if (g->kinds[kind].declared)
			grammar_error(g, line, "kind %s already declared at line %u",
			              value, g->kinds[kind].line);
		*current = &g->kinds[kind];
		(*current)->declared = true;
		(*current)->line = line;
		g->order[g->order_count++] = kind;
	} else if (!*current) {
		grammar_error(g, line, "%s: before the first kind:", key);
	} else if (strcmp(key, "id") == 0) {
		(*current)->id = parse_id_rule(g, line, value);
	} else if (strcmp(key, "pattern") == 0) {
		add_pattern(g, &(*current)->patterns, line, value);
	} else if (strcmp(key, "example") == 0) {
		struct kind_rules *k = *current;
		GROW(k->examples, k->example_count, k->example_capacity);
		k->examples[k->example_count].text = copy_string(value, strlen(value));
		k->examples[k->example_count].line = line;
		k->example_count++;
	} else {
		grammar_error(g, line, "unknown directive \"%s\"", key);
	}
}

static void check_complete(struct grammar *g)
{
	if (g->prefixes.count == 0)
		grammar_error(g, 0, "no prefix: given");
	for (int i = 0; i < LINE_KIND_COUNT; i++) {
		const struct kind_rules *k = &g->kinds[i];
		const char *name = line_kind_name((enum line_kind)i);
		if (!k->declared)
			grammar_error(g, 0, "kind %s of src/linekinds.h has no block", name);
		if (is_structural((enum line_kind)i) && k->patterns.count)
			grammar_error(g, k->line, "kind %s is decided by the prefix and "
			              "takes no pattern:", name);
		if (!is_structural((enum line_kind)i) && !k->patterns.count)
			grammar_error(g, k->line, "kind %s has no pattern:", name);
		if (!k->example_count)
			grammar_error(g, k->line, "kind %s has no example:", name);
	}
}

static void grammar_load(struct grammar *g, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die("%s: %s", path, strerror(errno));
	g->path = path;

	struct kind_rules *current = NULL;
	char *buffer = NULL;
	size_t size = 0;
	ssize_t n;
	unsigned line = 0;
	while ((n = getline(&buffer, &size, f)) >= 0) {
		line++;
		if (n > 0 && buffer[n - 1] == '\n')
			buffer[--n] = '\0';
		if (n > 0 && buffer[n - 1] == '\r')
			buffer[--n] = '\0';
		if (n == 0 || buffer[0] == '#')
			continue;
		char *colon = strchr(buffer, ':');
		if (!colon)
			grammar_error(g, line, "expected \"key: value\"");
		*colon = '\0';
		/* The value is everything after ": "; its spaces are significant. */
		const char *value = colon + 1;
		if (*value == ' ')
			value++;
		handle_directive(g, &current, line, buffer, value);
	}
	if (ferror(f))
		die("%s: %s", path, strerror(errno));
	free(buffer);
	fclose(f);
	check_complete(g);

	g->match = pcre2_match_data_create(32, NULL);
	g->limits = pcre2_match_context_create(NULL);
	if (!g->match || !g->limits)
		die("out of memory");
	pcre2_set_match_limit(g->limits, MATCH_LIMIT);
	pcre2_set_depth_limit(g->limits, DEPTH_LIMIT);
}

static void pattern_list_free(struct pattern_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		pcre2_code_free(list->items[i].code);
		free(list->items[i].source);
	}
	free(list->items);
}

static void grammar_free(struct grammar *g)
{
	for (size_t i = 0; i < g->define_count; i++) {
		free(g->defines[i].name);
		free(g->defines[i].value);
	}
	free(g->defines);
	pattern_list_free(&g->wrappers);
	pattern_list_free(&g->prefixes);
	pattern_list_free(&g->wrapped_prefixes);
	for (int i = 0; i < LINE_KIND_COUNT; i++) {
		pattern_list_free(&g->kinds[i].patterns);
		for (size_t j = 0; j < g->kinds[i].example_count; j++)
			free(g->kinds[i].examples[j].text);
		free(g->kinds[i].examples);
	}
	pcre2_match_data_free(g->match);
	pcre2_match_context_free(g->limits);
}

/* ---- classifying with the grammar ------------------------------------ */

/* True on a match; a PCRE2 error (match limit, ...) counts and is false. */
static bool run(struct grammar *g, const struct pattern *p, const char *s,
                size_t length)
{
	int rc = pcre2_match(p->code, (PCRE2_SPTR)s, length, 0, 0, g->match,
	                     g->limits);
	if (rc >= 0)
		return true;
	if (rc != PCRE2_ERROR_NOMATCH) {
		PCRE2_UCHAR message[256];
		pcre2_get_error_message(rc, message, sizeof message);
		fprintf(stderr, "%s:%u: pattern failed to run: %s\n", g->path,
		        p->line, (char *)message);
		g->match_errors++;
	}
	return false;
}

static bool group_set(const struct grammar *g, int group, size_t *start,
                      size_t *length)
{
	if (group < 0)
		return false;
	PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(g->match);
	if (ovector[2 * group] == PCRE2_UNSET)
		return false;
	*start = ovector[2 * group];
	*length = ovector[2 * group + 1] - ovector[2 * group];
	return true;
}

static size_t match_end(const struct grammar *g)
{
	return pcre2_get_ovector_pointer(g->match)[1];
}

/* The first pattern of list that matches s, or NULL. */
static const struct pattern *first_match(struct grammar *g,
                                         const struct pattern_list *list,
                                         const char *s, size_t length)
{
	for (size_t i = 0; i < list->count; i++)
		if (run(g, &list->items[i], s, length))
			return &list->items[i];
	return NULL;
}

static bool id_rule_holds(enum id_rule rule, bool has_id)
{
	return rule == ID_ANY || (rule == ID_REQUIRED) == has_id;
}

static struct verdict grammar_classify(struct grammar *g, const char *line,
                                       size_t length)
{
	struct verdict v = { .kind = LK_CONTINUATION };
	size_t start = 0;
	bool wrapped = false;

	const struct pattern *w = first_match(g, &g->wrappers, line, length);
	if (w) {
		size_t part, part_length;
		wrapped = true;
		if (group_set(g, w->part_group, &part, &part_length) &&
		    !(part_length == 1 && line[part] == '1'))
			return v; /* piece 2..m of a split entry */
		start = match_end(g);
	}
	const char *s = line + start;
	size_t rest = length - start;
	if (rest == 0) {
		v.kind = LK_BLANK;
		return v;
	}

	const struct pattern *p = first_match(g, &g->prefixes, s, rest);
	if (!p && wrapped)
		p = first_match(g, &g->wrapped_prefixes, s, rest);
	if (!p)
		return v;

	size_t id_start, id_length;
	v.entry = true;
	v.body_offset = start + match_end(g);
	if (group_set(g, p->id_group, &id_start, &id_length)) {
		v.has_id = true;
		v.id_offset = start + id_start;
		v.id_length = id_length;
	}

	const char *body = line + v.body_offset;
	size_t body_length = length - v.body_offset;
	for (size_t i = 0; i < g->order_count; i++) {
		const struct kind_rules *k = &g->kinds[g->order[i]];
		if (!id_rule_holds(k->id, v.has_id))
			continue;
		if (first_match(g, &k->patterns, body, body_length)) {
			v.kind = g->order[i];
			return v;
		}
	}
	v.kind = LK_UNKNOWN;
	return v;
}

/* ---- comparing -------------------------------------------------------- */

struct tally {
	unsigned long lines, files, disagreements, shown;
	unsigned long pairs[LINE_KIND_COUNT][LINE_KIND_COUNT]; /* [grammar][lexer] */
	unsigned long grammar_kinds[LINE_KIND_COUNT];
};

/* The line as text a terminal can take: control bytes as \ooo. */
static void print_line(const char *s, size_t length)
{
	for (size_t i = 0; i < length; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			printf("\\%03o", c);
		else
			putchar(c);
	}
	putchar('\n');
}

static void report(struct tally *t, const char *where, unsigned long line_number,
                   enum line_kind grammar_kind, enum line_kind lexer_kind,
                   const char *detail, const char *line, size_t length)
{
	t->disagreements++;
	if (t->shown >= SHOW_MAX)
		return;
	t->shown++;
	printf("%s:%lu: grammar=%s lexer=%s%s: ", where, line_number,
	       line_kind_name(grammar_kind), line_kind_name(lexer_kind), detail);
	print_line(line, length);
}

/* Kind, body start and message ID of one line, both ways. Returns the
 * grammar's kind. */
static enum line_kind compare_line(struct grammar *g, struct lexer *lexer,
                                   struct tally *t, const char *where,
                                   unsigned long line_number, const char *line,
                                   size_t length)
{
	struct verdict v = grammar_classify(g, line, length);
	struct log_line out;
	memset(&out, 0, sizeof out);
	lexer_parse(lexer, line, length, &out);

	if (v.kind != out.kind) {
		t->pairs[v.kind][out.kind]++;
		report(t, where, line_number, v.kind, out.kind, "", line, length);
		return v.kind;
	}
	if (!v.entry || v.kind == LK_CONTINUATION || v.kind == LK_BLANK)
		return v.kind;

	/* Same kind: the prefix must have been cut at the same place. The
	 * body is a view into our line (lexer.h), so compare offsets; an
	 * empty body is taken to start at the end of the line. */
	uintptr_t begin = (uintptr_t)line, at = (uintptr_t)out.body.ptr;
	bool body_in_line = out.body.len == 0 ||
	                    (at >= begin && at - begin + out.body.len <= length);
	size_t lexer_body = out.body.len == 0 ? length : (size_t)(at - begin);
	char detail[160];
	if (!body_in_line || lexer_body != v.body_offset) {
		snprintf(detail, sizeof detail,
		         " (body starts at byte %zu in the grammar, %zu in the lexer)",
		         v.body_offset, body_in_line ? lexer_body : (size_t)-1);
		report(t, where, line_number, v.kind, out.kind, detail, line, length);
	} else if (v.has_id != (out.message_id.len > 0) ||
	           (v.has_id && (out.message_id.len != v.id_length ||
	                         memcmp(out.message_id.ptr, line + v.id_offset,
	                                v.id_length) != 0))) {
		snprintf(detail, sizeof detail,
		         " (message ID: grammar \"%.*s\", lexer \"%.*s\")",
		         v.has_id ? (int)v.id_length : 0, line + v.id_offset,
		         (int)(out.message_id.len > 40 ? 40 : out.message_id.len),
		         out.message_id.len ? out.message_id.ptr : "");
		report(t, where, line_number, v.kind, out.kind, detail, line, length);
	}
	return v.kind;
}

static void check_examples(struct grammar *g, struct lexer *lexer,
                           struct tally *t, unsigned long *examples)
{
	for (size_t i = 0; i < g->order_count; i++) {
		enum line_kind kind = g->order[i];
		const struct kind_rules *k = &g->kinds[kind];
		for (size_t j = 0; j < k->example_count; j++) {
			const char *text = k->examples[j].text;
			size_t length = strlen(text);
			(*examples)++;
			lexer_reset(lexer); /* each example stands alone */
			struct verdict v = grammar_classify(g, text, length);
			struct log_line out;
			memset(&out, 0, sizeof out);
			lexer_parse(lexer, text, length, &out);
			if (v.kind == kind && out.kind == kind)
				continue;
			char detail[96];
			snprintf(detail, sizeof detail, " (example of %s)",
			         line_kind_name(kind));
			t->disagreements++;
			if (t->shown < SHOW_MAX) {
				t->shown++;
				printf("%s:%u: grammar=%s lexer=%s%s: ", g->path,
				       k->examples[j].line, line_kind_name(v.kind),
				       line_kind_name(out.kind), detail);
				print_line(text, length);
			}
		}
	}
	lexer_reset(lexer);
}

static void compare_file(struct grammar *g, struct lexer *lexer,
                         struct tally *t, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die("%s: %s", path, strerror(errno));
	lexer_reset(lexer); /* as input.c does between files */
	t->files++;

	char *buffer = NULL;
	size_t size = 0;
	ssize_t n;
	unsigned long line_number = 0;
	while ((n = getline(&buffer, &size, f)) >= 0) {
		line_number++;
		size_t length = (size_t)n;
		if (length && buffer[length - 1] == '\n')
			length--;
		if (length && buffer[length - 1] == '\r')
			length--;
		t->lines++;
		enum line_kind kind =
			compare_line(g, lexer, t, path, line_number, buffer, length);
		t->grammar_kinds[kind]++;
	}
	if (ferror(f))
		die("%s: %s", path, strerror(errno));
	free(buffer);
	fclose(f);
}

/* Where the two sides part ways, most frequent first: one line per
 * (grammar kind, lexer kind) pair. Empties the table as it goes. */
static void print_pairs(struct tally *t)
{
	for (;;) {
		unsigned long best = 0;
		int bg = 0, bl = 0;
		for (int i = 0; i < LINE_KIND_COUNT; i++)
			for (int j = 0; j < LINE_KIND_COUNT; j++)
				if (t->pairs[i][j] > best) {
					best = t->pairs[i][j];
					bg = i;
					bl = j;
				}
		if (!best)
			return;
		printf("grammar_diff: %8lu lines grammar=%s lexer=%s\n", best,
		       line_kind_name((enum line_kind)bg),
		       line_kind_name((enum line_kind)bl));
		t->pairs[bg][bl] = 0;
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: grammar_diff GRAMMAR [FILE...]\n");
		return 2;
	}
	static struct grammar g;
	static struct tally t;
	grammar_load(&g, argv[1]);

	struct lexer *lexer = lexer_new();
	unsigned long examples = 0;
	check_examples(&g, lexer, &t, &examples);
	unsigned long example_disagreements = t.disagreements;

	for (int i = 2; i < argc; i++)
		compare_file(&g, lexer, &t, argv[i]);
	lexer_free(lexer);

	if (t.disagreements > t.shown)
		printf("... and %lu more disagreements not shown\n",
		       t.disagreements - t.shown);
	printf("grammar_diff: %lu examples (%lu disagree), %lu lines in %lu "
	       "files, %lu disagreements in all\n",
	       examples, example_disagreements, t.lines, t.files, t.disagreements);
	printf("grammar_diff: grammar kinds:");
	for (int i = 0; i < LINE_KIND_COUNT; i++)
		if (t.grammar_kinds[i])
			printf(" %s=%lu", line_kind_name((enum line_kind)i),
			       t.grammar_kinds[i]);
	putchar('\n');
	print_pairs(&t);
	if (g.match_errors)
		printf("grammar_diff: %lu pattern runs failed (see stderr)\n",
		       g.match_errors);
	grammar_free(&g);
	return t.disagreements || g.match_errors ? 1 : 0;
}
