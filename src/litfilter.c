/*
 * litfilter: a cheap necessary condition for a caseless rule pattern (see
 * litfilter.h for the idea).
 *
 * The reader walks a pattern's top-level branches. In each it collects
 * runs of literal bytes that every match must contain, and keeps the two
 * best "one of these" sets, each a single run or the runs of a group's
 * alternatives when the group is not optional ("(?:sending|daily) quota"
 * needs "sending" or "daily", and " quota"): a text must hold one of
 * each. Anything else ends a run: a class, a
 * lookaround (read over, not into), a dot, an anchor, \d and the like, a
 * byte a quantifier makes optional. Syntax that could make it misread what
 * follows (\Q, \x.., \c, back references, inline options, verbs, POSIX
 * classes, odd braces) makes it give up instead. Patterns are
 * compiled without PCRE2_UTF, so with PCRE2's default tables caseless
 * means ASCII letters only, and a byte of 0x80 or above matches itself.
 */
#include <stdlib.h>
#include <string.h>

#include "litfilter.h"
#include "xalloc.h"

#define MIN_LITERAL 3   /* one trigram */
#define RUN_MAX 64      /* a prefix of a required run is required too */
#define ALTERNATIVES_MAX 8 /* runs in one "one of these" set */
#define NESTING_MAX 8   /* groups read into, one inside another */
#define HASH_SHIFT 20   /* 32 - log2(LIT_TRIGRAM_BITS) */

_Static_assert(LIT_TRIGRAM_BITS == 1u << (32 - HASH_SHIFT), "hash width and bitset size agree");

struct lit_branch {
	struct lit_probe_set probes; /* spread along its run */
	size_t source; /* the top-level branch it stands for */
};

/* A top-level branch of a pattern added. The lit_branches that stand
 * for it (one per run of its candidate set) start at first. */
struct lit_source {
	char *text;
	size_t len;
	size_t first;
	/* A second "one of these" set the branch requires besides (in
	 * filter->also from also_first, also_count runs; 0: none): "user
	 * unknown" holds "user" but none of "disabled|suspended|...", so
	 * "(?:account|user)\W+(?:is )?(?:disabled|suspended)" is never run on
	 * it. */
	size_t also_first, also_count;
};

struct lit_filter {
	struct lit_branch *branches;
	size_t count;
	struct lit_branch *also; /* the second sets (lit_source) */
	size_t also_count;
	struct lit_source *sources;
	size_t source_count;
	bool gave_up;
};

static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static unsigned trigram_hash(unsigned char a, unsigned char b, unsigned char c)
{
	uint32_t v = (uint32_t)a << 16 | (uint32_t)b << 8 | c;
	return (unsigned)((v * UINT32_C(0x9E3779B1)) >> HASH_SHIFT);
}

/* fold() of every byte, for the loop below */
static const unsigned char folded[256] = {
#define FOLD(c) ((unsigned char)((c) >= 'A' && (c) <= 'Z' ? (c) + ('a' - 'A') : (c)))
#define F4(b) FOLD(b), FOLD((b) + 1), FOLD((b) + 2), FOLD((b) + 3)
#define F16(b) F4(b), F4((b) + 4), F4((b) + 8), F4((b) + 12)
#define F64(b) F16(b), F16((b) + 16), F16((b) + 32), F16((b) + 48)
	F64(0), F64(64), F64(128), F64(192)
#undef F64
#undef F16
#undef F4
#undef FOLD
};

void lit_trigrams_of(struct text text, struct lit_trigrams *out)
{
	memset(out->bits, 0, sizeof out->bits);
	lit_trigrams_add(text, out);
}

void lit_trigrams_add(struct text text, struct lit_trigrams *out)
{
	if (text.len < MIN_LITERAL)
		return;
	/* the last three folded bytes in a word, as trigram_hash packs them:
	 * every rule's filter is tested against these bits, and a miss of
	 * the memo works them out for a text of a few hundred bytes */
	const unsigned char *p = (const unsigned char *)text.ptr;
	uint32_t v = (uint32_t)folded[p[0]] << 8 | folded[p[1]];
	for (size_t i = 2; i < text.len; i++) {
		v = (v << 8 | folded[p[i]]) & UINT32_C(0xFFFFFF);
		unsigned h = (unsigned)((v * UINT32_C(0x9E3779B1)) >> HASH_SHIFT);
		out->bits[h / 64] |= UINT64_C(1) << (h % 64);
	}
}

/* ---- reading a pattern ---- */

/* Folded literals, one of which every match of a branch contains. */
struct candidate {
	unsigned char run[ALTERNATIVES_MAX][RUN_MAX];
	size_t len[ALTERNATIVES_MAX];
	size_t count;
};

struct reader {
	const unsigned char *p;
	size_t at, len;
	unsigned depth;              /* groups read into around this one */
	unsigned char run[RUN_MAX];  /* folded literal being read */
	size_t run_len;
	/* of the branch so far: the best set of literals, and the next best
	 * one found elsewhere in it (every match holds one of each) */
	struct candidate best, second;
};

/* The shortest run: what a text must hold at the least. */
static size_t weakest(const struct candidate *c)
{
	size_t least = c->count ? RUN_MAX : 0;
	for (size_t i = 0; i < c->count; i++)
		if (c->len[i] < least)
			least = c->len[i];
	return least;
}

static bool better(const struct candidate *a, const struct candidate *b)
{
	size_t wa = weakest(a), wb = weakest(b);
	return wa > wb || (wa == wb && a->count < b->count);
}

enum quantifier { Q_NONE, Q_REPEATED, Q_OPTIONAL, Q_BAD };

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned char c)
{
	return is_digit(c) || (fold(c) >= 'a' && fold(c) <= 'z');
}

static unsigned char peek(const struct reader *r, size_t ahead)
{
	return r->at + ahead < r->len ? r->p[r->at + ahead] : '\0';
}

/* A set found at another place of the branch than the ones kept: every
 * match holds one of its literals as well as one of theirs. */
static void consider(struct reader *r, const struct candidate *c)
{
	if (better(c, &r->best)) {
		r->second = r->best;
		r->best = *c;
	} else if (better(c, &r->second)) {
		r->second = *c;
	}
}

static void end_run(struct reader *r)
{
	if (r->run_len == 0)
		return;
	struct candidate single = { .count = 1 };
	memcpy(single.run[0], r->run, r->run_len);
	single.len[0] = r->run_len;
	consider(r, &single);
	r->run_len = 0;
}

static void append_run(struct reader *r, unsigned char c)
{
	if (r->run_len < RUN_MAX)
		r->run[r->run_len++] = c;
}

/* {n}, {n,}, {n,m}; anything else in braces is refused, since PCRE2
 * versions differ on which of them are quantifiers and which literals. */
static enum quantifier read_braces(struct reader *r)
{
	size_t i = r->at + 1;
	unsigned long low = 0;
	size_t digits = 0;
	while (i < r->len && is_digit(r->p[i]) && digits < 6)
		low = low * 10 + (unsigned long)(r->p[i++] - '0'), digits++;
	if (digits == 0 || digits == 6)
		return Q_BAD;
	if (i < r->len && r->p[i] == ',')
		for (i++, digits = 0; i < r->len && is_digit(r->p[i]) && digits < 6; i++)
			digits++;
	if (i >= r->len || r->p[i] != '}')
		return Q_BAD;
	r->at = i + 1;
	return low == 0 ? Q_OPTIONAL : Q_REPEATED;
}

/* The quantifier after an atom, if any, with its lazy or possessive mark. */
static enum quantifier read_quantifier(struct reader *r)
{
	enum quantifier q;
	switch (peek(r, 0)) {
	case '?': case '*': q = Q_OPTIONAL; r->at++; break;
	case '+': q = Q_REPEATED; r->at++; break;
	case '{': q = read_braces(r); break;
	default: return Q_NONE;
	}
	if (q != Q_BAD && (peek(r, 0) == '?' || peek(r, 0) == '+'))
		r->at++;
	return q;
}

/* Escapes that stand for one character of a class, or for nothing (an
 * assertion), and take no operand: \x41, \cX, \p{..}, \k<..>, \Q, \1
 * and the rest all do, and would be misread. */
static bool simple_escape(unsigned char c)
{
	return c != '\0' && strchr("bBAzZGdDsSwWhHvV", c) != NULL;
}

/* The byte after a backslash at i: punctuation (itself) or a simple escape. */
static bool known_escape(const struct reader *r, size_t i)
{
	if (i + 1 >= r->len)
		return false;
	unsigned char d = r->p[i + 1];
	return d >= 0x20 && d < 0x7f && (!is_alnum(d) || simple_escape(d));
}

/* [...], with ] first taken as a member; POSIX [:...:] refused. */
static bool skip_class(struct reader *r)
{
	size_t i = r->at + 1;
	if (i < r->len && r->p[i] == '^')
		i++;
	if (i < r->len && r->p[i] == ']')
		i++;
	for (; i < r->len; i++) {
		unsigned char c = r->p[i];
		if (c == '\\') {
			if (!known_escape(r, i))
				return false;
			i++;
		} else if (c == '[') {
			return false;
		} else if (c == ']') {
			r->at = i + 1;
			return true;
		}
	}
	return false;
}

/* A group opening this reader can step over: plain capture, (?:,
 * lookahead and lookbehind. Named groups, inline options, comments and
 * verbs are refused. */
static bool plain_group_at(const struct reader *r, size_t i)
{
	if (i + 1 >= r->len || r->p[i + 1] == '*')
		return false;
	if (r->p[i + 1] != '?')
		return true;
	unsigned char k = i + 2 < r->len ? r->p[i + 2] : '\0';
	unsigned char k2 = i + 3 < r->len ? r->p[i + 3] : '\0';
	return k == ':' || k == '=' || k == '!' || (k == '<' && (k2 == '=' || k2 == '!'));
}

static bool skip_group(struct reader *r)
{
	size_t depth = 0;
	while (r->at < r->len) {
		unsigned char c = r->p[r->at];
		if (c == '\\') {
			if (!known_escape(r, r->at))
				return false;
			r->at += 2;
		} else if (c == '[') {
			if (!skip_class(r))
				return false;
		} else if (c == '(') {
			if (!plain_group_at(r, r->at))
				return false;
			depth++;
			r->at++;
		} else if (c == ')') {
			r->at++;
			if (--depth == 0)
				return true;
		} else {
			r->at++;
		}
	}
	return false;
}

/* An atom that is no literal byte: it ends the run; a quantifier after it
 * changes nothing. */
static bool non_literal(struct reader *r)
{
	end_run(r);
	return read_quantifier(r) != Q_BAD;
}

/* \x: a zero-width assertion or a one-character class ends the run; an
 * escaped punctuation byte is that byte; every other escape (\x41, \1,
 * \Q, \p{...}, \cX, \n ...) could make what follows read wrongly. */
static bool read_escape(struct reader *r, int *literal)
{
	if (!known_escape(r, r->at))
		return false;
	unsigned char d = peek(r, 1);
	r->at += 2;
	if (!is_alnum(d)) {
		*literal = d;
		return true;
	}
	return non_literal(r);
}

static bool read_branch(struct reader *r, struct candidate *out, struct candidate *also);

/* A group that every match goes through: its alternatives' runs, one of
 * which a match holds, may be a better set than the branch has. Only
 * captures and (?: are read into, never lookarounds. Reading into a group
 * recurses (read_branch, read_atom, read_group); NESTING_MAX bounds it. */
/* NOLINTNEXTLINE(misc-no-recursion) */
static void consider_group(struct reader *r, size_t open, size_t close)
{
	size_t start = open + 1;
	if (r->p[start] == '?') {
		if (r->p[start + 1] != ':')
			return;
		start += 2;
	}
	if (r->depth + 1 >= NESTING_MAX)
		return;
	struct reader sub = { .p = r->p + start, .len = close - start, .depth = r->depth + 1 };
	struct candidate all = { .count = 0 };
	for (;;) {
		struct candidate one;
		if (!read_branch(&sub, &one, NULL) || all.count + one.count > ALTERNATIVES_MAX)
			return;
		for (size_t i = 0; i < one.count; i++) {
			memcpy(all.run[all.count], one.run[i], one.len[i]);
			all.len[all.count++] = one.len[i];
		}
		if (sub.at >= sub.len)
			break;
		sub.at++; /* the '|' */
	}
	consider(r, &all);
}

/* NOLINTNEXTLINE(misc-no-recursion) */
static bool read_group(struct reader *r)
{
	end_run(r);
	size_t open = r->at;
	if (!plain_group_at(r, open) || !skip_group(r))
		return false;
	size_t close = r->at - 1;
	enum quantifier q = read_quantifier(r);
	if (q == Q_BAD)
		return false;
	if (q != Q_OPTIONAL)
		consider_group(r, open, close);
	return true;
}

/* One atom and its quantifier. */
/* NOLINTNEXTLINE(misc-no-recursion) */
static bool read_atom(struct reader *r)
{
	unsigned char c = r->p[r->at];
	int literal = -1;
	switch (c) {
	case '\\':
		if (!read_escape(r, &literal))
			return false;
		if (literal < 0)
			return true;
		break;
	case '[':
		end_run(r);
		return skip_class(r) && non_literal(r);
	case '(':
		return read_group(r);
	case ')': case '*': case '+': case '?': case '{':
		return false; /* unbalanced, or a quantifier with nothing to repeat */
	case '.': case '^': case '$':
		r->at++;
		return non_literal(r);
	default:
		r->at++;
		if (c < 0x20 || c >= 0x7f)
			return non_literal(r);
		literal = c;
	}
	enum quantifier q = read_quantifier(r);
	if (q == Q_BAD)
		return false;
	if (q == Q_OPTIONAL) {
		end_run(r);
		return true;
	}
	append_run(r, fold((unsigned char)literal));
	if (q == Q_REPEATED)
		end_run(r);
	return true;
}

static void make_probes(const unsigned char *run, size_t len, struct lit_probe_set *out)
{
	size_t trigrams = len - 2;
	out->count = trigrams < LIT_PROBES ? (unsigned)trigrams : LIT_PROBES;
	for (unsigned k = 0; k < out->count; k++) {
		size_t at = out->count == 1 ? 0 : k * (trigrams - 1) / (out->count - 1);
		out->probe[k] = (uint16_t)trigram_hash(run[at], run[at + 1], run[at + 2]);
	}
}

/* One branch, up to its '|' or the end; false when it has no set of
 * literals of MIN_LITERAL bytes or more, or syntax beyond this reader. */
/* NOLINTNEXTLINE(misc-no-recursion) */
static bool read_branch(struct reader *r, struct candidate *out, struct candidate *also)
{
	r->run_len = 0;
	r->best.count = r->second.count = 0;
	while (r->at < r->len && r->p[r->at] != '|')
		if (!read_atom(r))
			return false;
	end_run(r);
	if (weakest(&r->best) < MIN_LITERAL)
		return false;
	*out = r->best;
	if (also)
		also->count = weakest(&r->second) >= MIN_LITERAL ? r->second.count : 0;
	if (also && also->count)
		*also = r->second;
	return true;
}

/* ---- the filter ---- */

struct lit_filter *lit_filter_new(void)
{
	return xcalloc(1, sizeof(struct lit_filter));
}

void lit_filter_free(struct lit_filter *filter)
{
	if (filter == NULL)
		return;
	for (size_t i = 0; i < filter->source_count; i++)
		free(filter->sources[i].text);
	free(filter->sources);
	free(filter->branches);
	free(filter->also);
	free(filter);
}

/* A set of literals onto a list of branches (filter->branches or
 * filter->also): each probed, each of the source numbered `source`. */
static void append_set(struct lit_branch **list, size_t *count, const struct candidate *set,
                       size_t source)
{
	if (set->count == 0)
		return;
	*list = xreallocarray(*list, *count + set->count, sizeof **list);
	for (size_t i = 0; i < set->count; i++) {
		struct lit_branch *b = &(*list)[(*count)++];
		make_probes(set->run[i], set->len[i], &b->probes);
		b->source = source;
	}
}

bool lit_filter_add(struct lit_filter *filter, struct text pattern)
{
	if (filter->gave_up)
		return false;
	struct reader r = { .p = (const unsigned char *)pattern.ptr, .len = pattern.len };
	for (;;) {
		struct candidate best, also;
		size_t start = r.at;
		if (!read_branch(&r, &best, &also)) {
			filter->gave_up = true;
			return false;
		}
		filter->sources = xreallocarray(filter->sources, filter->source_count + 1,
		                                sizeof *filter->sources);
		filter->sources[filter->source_count++] = (struct lit_source){
			xmemdup(pattern.ptr + start, r.at - start), r.at - start, filter->count,
			filter->also_count, also.count,
		};
		append_set(&filter->branches, &filter->count, &best, filter->source_count - 1);
		append_set(&filter->also, &filter->also_count, &also, filter->source_count - 1);
		if (r.at >= r.len)
			return true;
		r.at++; /* the '|' */
	}
}

bool lit_filter_usable(const struct lit_filter *filter)
{
	return filter != NULL && !filter->gave_up && filter->count > 0;
}

/* Whether one of runs [first, first + count) may be in the text. */
static bool any_may_match(const struct lit_branch *runs, size_t first, size_t count,
                          const struct lit_trigrams *t)
{
	for (size_t k = first; k < first + count; k++)
		if (lit_probe_set_holds(&runs[k].probes, t))
			return true;
	return false;
}

/* Top-level branch i: one of its first set, and of its second if it has
 * one. */
static bool source_may_match(const struct lit_filter *filter, size_t i,
                             const struct lit_trigrams *t)
{
	const struct lit_source *s = &filter->sources[i];
	size_t end = i + 1 < filter->source_count ? filter->sources[i + 1].first : filter->count;
	return any_may_match(filter->branches, s->first, end - s->first, t) &&
	       (s->also_count == 0 || any_may_match(filter->also, s->also_first, s->also_count, t));
}

bool lit_filter_may_match(const struct lit_filter *filter, const struct lit_trigrams *trigrams)
{
	if (!lit_filter_usable(filter))
		return true;
	for (size_t i = 0; i < filter->source_count; i++)
		if (source_may_match(filter, i, trigrams))
			return true;
	return false;
}

size_t lit_filter_branch_count(const struct lit_filter *filter)
{
	return lit_filter_usable(filter) ? filter->source_count : 0;
}

struct text lit_filter_branch(const struct lit_filter *filter, size_t i)
{
	return text_make(filter->sources[i].text, filter->sources[i].len);
}

size_t lit_filter_probe_sets(const struct lit_filter *filter)
{
	return lit_filter_usable(filter) ? filter->count : 0;
}

const struct lit_probe_set *lit_filter_probe_set(const struct lit_filter *filter, size_t set)
{
	/* every set has a probe: a branch without a run of MIN_LITERAL bytes
	 * makes the reader give up */
	return &filter->branches[set].probes;
}

size_t lit_filter_next_branch(const struct lit_filter *filter, size_t from,
                              const struct lit_trigrams *trigrams)
{
	if (from >= lit_filter_branch_count(filter))
		return lit_filter_branch_count(filter);
	for (size_t i = from; i < filter->source_count; i++)
		if (source_may_match(filter, i, trigrams))
			return i;
	return filter->source_count;
}
