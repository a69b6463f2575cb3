/*
 * litfilter tests: the literal prefilter of rule patterns. Every case
 * that must be let through is first checked to match with PCRE2 itself
 * (compiled as rules.c compiles: caseless, no UTF), so the table cannot
 * drift from what the regex engine does. Then: texts without the literals
 * are turned away, and syntax the reader cannot follow makes it give up.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "litfilter.h"
#include "suites.h"

static struct text t(const char *s)
{
	return text_make(s, strlen(s));
}

static bool pcre2_says(const char *pattern, const char *subject)
{
	int code;
	PCRE2_SIZE offset;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_CASELESS,
	                               &code, &offset, NULL);
	ck_assert_msg(re != NULL, "pattern %s does not compile", pattern);
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int rc = pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return rc >= 0;
}

/* The filter's answer for one pattern and one text; *usable tells whether
 * the reader kept the pattern. */
static bool filter_says(const char *pattern, const char *subject, bool *usable)
{
	struct lit_filter *f = lit_filter_new();
	(void)lit_filter_add(f, t(pattern));
	*usable = lit_filter_usable(f);
	struct lit_trigrams tri;
	lit_trigrams_of(t(subject), &tri);
	bool may = lit_filter_may_match(f, &tri);
	lit_filter_free(f);
	return may;
}

/* Each case is first checked with PCRE2; the filter must then let every
 * match through, and turn away each text that does not match (those
 * patterns all have literals the reader keeps). */
static const struct {
	const char *pattern, *text;
	bool matches;
} cases[] = {
	{ "mailbox is full|quota exceeded", "550 5.2.2 Mailbox is FULL, sorry", true },
	{ "mailbox is full|quota exceeded", "452 QUOTA EXCEEDED for user", true },
	{ "colou?r scheme", "bad color scheme", true },
	{ "ab{0,3}cde", "acde", true },
	{ "ab{2}cde", "abbcde", true },
	{ "ab{1,}cde", "abbbbcde", true },
	{ "xa+bcd", "xaaaabcd", true },
	{ "x*yzw", "yzw", true },
	{ "a?bcd", "bcd", true },
	{ "a??bcd|q", "bcd", true },
	{ "Relay\\.domain\\b", "RELAY.DOMAIN rejected", true },
	{ "\\bspam\\b", "this is spam.", true },
	{ "retry time not (yet )?reached", "retry time not reached", true },
	{ "DNS lookup.*(deferred|timed out)", "dns lookup of x timed out", true },
	{ "(?:sending|daily) (?:user )?quota", "daily quota exceeded", true },
	{ "(?:sending|daily) (?:user )?quota", "sending user quota", true },
	{ "(abc|de)+fgh", "dedefgh", true },
	{ "(?:abc|(?:def|ghi)jkl)", "ghijkl", true },
	{ "(?:abc)?defg", "defg", true },
	{ "(?:abc){0,2}defg", "xdefg", true },
	{ "(?!foo)barbaz", "barbaz", true },
	{ "(?<=x)barbaz", "xbarbaz", true },
	{ "(?=abc)abcd", "abcd", true },
	{ "[]x]yzw", "]yzw", true },
	{ "[^]x]yzw", "ayzw", true },
	{ "[\\]]yzw", "]yzw", true },
	{ "a[.]bcd", "a.bcd", true },
	{ "unusual rate of.{0,30}?mail", "unusual rate of unsolicited mail", true },
	{ "p=NoSuchUser", "see https://x/?p=nosuchuser", true },
	{ "4\\.7\\.650", "4.7.650 ip reputation", true },
	{ "a\\d\\d\\dbcd", "a123bcd", true },
	{ "x\\s+yzw", "x   yzw", true },
	{ "Tainted", "tainted filename", true },
	{ "[a-z]+@[a-z]+\\.com", "me@example.com", true },
	{ "\\(S3140\\)", "blocked (S3140)", true },
	{ "abc|", "anything", true },
	{ "a#bc d", "A#BC D", true },
	{ "mailbox is full|quota exceeded", "550 5.1.1 user unknown", false },
	{ "colou?r scheme", "bad colour schema", false },
	{ "(?:sending|daily) (?:user )?quota", "hourly limit", false },
	{ "retry time not (yet )?reached", "retry timeout exceeded", false },
	{ "Tainted", "ta", false },
	{ "Tainted", "", false },
	{ "p=NoSuchUser", "p=DisabledUser", false },
	/* a branch's second set of literals is required as well as its first */
	{ "(?:account|user)\\W{1,2}(?:is )?(?:disabled|suspended)", "USER: is suspended", true },
	{ "(?:account|user)\\W{1,2}(?:is )?(?:disabled|suspended)", "550 user unknown", false },
	{ "client host .{0,80}?rejected|quota", "Client host [192.0.2.1] rejected", true },
	{ "client host .{0,80}?rejected|quota", "client host accepted", false },
	{ "client host .{0,80}?rejected|quota", "was rejected", false },
	{ "abc(?:def)?ghi.jkl", "abcghixjkl", true },
	{ "abc(?:def)?ghi.jkl", "abcdefxjkl", false },
};

START_TEST(test_lets_matches_through_and_turns_the_rest_away)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		const char *p = cases[i].pattern, *s = cases[i].text;
		bool want = cases[i].matches;
		ck_assert_msg(pcre2_says(p, s) == want, "case %zu: PCRE2 %s /%s/ on \"%s\"", i,
		              want ? "does not match" : "matches", p, s);
		bool usable;
		bool may = filter_says(p, s, &usable);
		ck_assert_msg(may || !want, "case %zu: filter turned /%s/ away on \"%s\"", i, p, s);
		ck_assert_msg(want || (!may && usable), "case %zu: filter let \"%s\" through /%s/", i,
		              s, p);
	}
}
END_TEST

/* Whether the text holds one of the filter's probe sets whole. */
static bool some_probe_set_holds(const struct lit_filter *f, const struct lit_trigrams *tri)
{
	for (size_t k = 0; k < lit_filter_probe_sets(f); k++)
		if (lit_probe_set_holds(lit_filter_probe_set(f, k), tri))
			return true;
	return false;
}

/* The probe sets are what rules.c's screen files and tests in place of
 * the filter: a text the filter may let through holds one of them whole
 * (else the screen would turn away a match), and a text that holds none
 * of a pattern's literals holds none of them. */
START_TEST(test_probe_sets_hold_where_the_filter_may_match)
{
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct lit_filter *f = lit_filter_new();
		(void)lit_filter_add(f, t(cases[i].pattern));
		struct lit_trigrams tri;
		lit_trigrams_of(t(cases[i].text), &tri);
		if (lit_filter_usable(f) && lit_filter_may_match(f, &tri))
			ck_assert_msg(some_probe_set_holds(f, &tri),
			              "case %zu: /%s/ may match \"%s\", but no probe set holds", i,
			              cases[i].pattern, cases[i].text);
		lit_filter_free(f);
	}
	static const struct {
		const char *pattern, *text;
	} lacking[] = {
		{ "mailbox is full|quota exceeded", "550 5.1.1 user unknown" },
		{ "Tainted", "ta" },
		{ "retry time not (yet )?reached", "connection refused" },
	};
	for (size_t i = 0; i < sizeof lacking / sizeof *lacking; i++) {
		struct lit_filter *f = lit_filter_new();
		ck_assert(lit_filter_add(f, t(lacking[i].pattern)));
		struct lit_trigrams tri;
		lit_trigrams_of(t(lacking[i].text), &tri);
		ck_assert_msg(lit_filter_probe_sets(f) > 0 && !some_probe_set_holds(f, &tri),
		              "/%s/: \"%s\" holds a probe set", lacking[i].pattern, lacking[i].text);
		lit_filter_free(f);
	}
}
END_TEST

/* Each of these is read wrongly by a reader that takes the bytes after
 * the construct as literals, or has a branch with no literal at all: the
 * reader must give up, and the filter then lets everything through. */
static const char *const given_up[] = {
	"\\x41bcd",          /* \x41 is "A": "41bcd" is no literal */
	"\\Qa|b\\Ecdef",      /* quoted text */
	"(?x)a b c d",        /* extended: the spaces are not literals */
	"(?i)abc",            /* inline options */
	"(*UTF)abcd",         /* verbs */
	"(?#comment)abcd",    /* a comment */
	"(?<name>abc)",       /* named groups */
	"\\cXabcd",           /* control escapes */
	"[[:alpha:]]abcd",    /* POSIX classes */
	"[\\c]]abcd",         /* an escape that eats the class's end */
	"a{,3}bcd",           /* braces read differently by PCRE2 versions */
	"a{x}bcd",
	"\\1abcd",            /* back references */
	"\\p{L}abcd",         /* properties */
	"ab|cd",              /* a branch of two bytes */
	"",                   /* matches everything */
	"abc|",
	"gr[ae]y",
};

START_TEST(test_gives_up_on_what_it_cannot_read)
{
	for (size_t i = 0; i < sizeof given_up / sizeof *given_up; i++) {
		struct lit_filter *f = lit_filter_new();
		ck_assert_msg(!lit_filter_add(f, t(given_up[i])), "case %zu: /%s/ was kept", i,
		              given_up[i]);
		ck_assert(!lit_filter_usable(f));
		struct lit_trigrams tri;
		lit_trigrams_of(t("zzzz"), &tri);
		ck_assert(lit_filter_may_match(f, &tri));
		/* a usable pattern added after one that gave up changes nothing */
		ck_assert(!lit_filter_add(f, t("mailbox is full")));
		ck_assert(lit_filter_may_match(f, &tri));
		lit_filter_free(f);
	}
	ck_assert(lit_filter_may_match(NULL, NULL));
}
END_TEST

START_TEST(test_alternatives_added_one_by_one)
{
	struct lit_filter *f = lit_filter_new();
	ck_assert(lit_filter_add(f, t("over quota")));
	ck_assert(lit_filter_add(f, t("mailbox (?:is )?full")));
	struct lit_trigrams tri;
	lit_trigrams_of(t("452 Mailbox full"), &tri);
	ck_assert(lit_filter_may_match(f, &tri));
	lit_trigrams_of(t("user is over quota"), &tri);
	ck_assert(lit_filter_may_match(f, &tri));
	lit_trigrams_of(t("no such user"), &tri);
	ck_assert(!lit_filter_may_match(f, &tri));
	lit_filter_free(f);
}
END_TEST

/* The top-level branches of every pattern added, in order, each with
 * its own answer: rules.c runs only those that may match. */
START_TEST(test_branches_one_by_one)
{
	struct lit_filter *f = lit_filter_new();
	ck_assert(lit_filter_add(f, t("mailbox (?:is|was) full|quota exceeded")));
	ck_assert(lit_filter_add(f, t("over quota")));
	ck_assert_uint_eq(lit_filter_branch_count(f), 3);
	static const char *const texts[] = { "mailbox (?:is|was) full", "quota exceeded",
		                             "over quota" };
	for (size_t i = 0; i < 3; i++) {
		struct text b = lit_filter_branch(f, i);
		ck_assert_msg(b.len == strlen(texts[i]) && memcmp(b.ptr, texts[i], b.len) == 0,
		              "branch %zu: %.*s", i, (int)b.len, b.ptr);
	}
	struct lit_trigrams tri;
	lit_trigrams_of(t("user is OVER QUOTA"), &tri);
	ck_assert_uint_eq(lit_filter_next_branch(f, 0, &tri), 2);
	ck_assert_uint_eq(lit_filter_next_branch(f, 2, &tri), 2);
	ck_assert_uint_eq(lit_filter_next_branch(f, 3, &tri), 3); /* none after */
	/* from where the search starts on, each branch that may match */
	lit_trigrams_of(t("Mailbox was full, quota exceeded"), &tri);
	ck_assert_uint_eq(lit_filter_next_branch(f, 0, &tri), 0);
	ck_assert_uint_eq(lit_filter_next_branch(f, 1, &tri), 1);
	ck_assert_uint_eq(lit_filter_next_branch(f, 2, &tri), 3);
	lit_trigrams_of(t("mailbox was full"), &tri);
	ck_assert_uint_eq(lit_filter_next_branch(f, 1, &tri), 3);
	lit_filter_free(f);
	/* a filter that gave up has no branches to run alone */
	f = lit_filter_new();
	ck_assert(lit_filter_add(f, t("over quota")));
	ck_assert(!lit_filter_add(f, t("(?i)abc")));
	ck_assert_uint_eq(lit_filter_branch_count(f), 0);
	lit_filter_free(f);
}
END_TEST

/* What lets rules.c run branches alone: for every pattern of the table
 * the reader keeps and every text of the table, PCRE2 matches the whole
 * pattern exactly when it matches one of its branches compiled alone. */
START_TEST(test_a_pattern_matches_where_one_branch_alone_does)
{
	size_t checked = 0;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct lit_filter *f = lit_filter_new();
		if (!lit_filter_add(f, t(cases[i].pattern))) {
			lit_filter_free(f);
			continue;
		}
		for (size_t j = 0; j < sizeof cases / sizeof *cases; j++) {
			bool any = false;
			for (size_t b = 0; b < lit_filter_branch_count(f); b++) {
				struct text branch = lit_filter_branch(f, b);
				char alone[256];
				ck_assert_uint_lt(branch.len, sizeof alone);
				memcpy(alone, branch.ptr, branch.len);
				alone[branch.len] = '\0';
				any = any || pcre2_says(alone, cases[j].text);
			}
			ck_assert_msg(any == pcre2_says(cases[i].pattern, cases[j].text),
			              "/%s/ on \"%s\": the branches alone say %d", cases[i].pattern,
			              cases[j].text, any);
			checked++;
		}
		lit_filter_free(f);
	}
	ck_assert_uint_gt(checked, 1000);
}
END_TEST

/* Deep nesting is read over, not into, past a few levels: no stack use
 * that a hostile rule file could drive. */
START_TEST(test_deep_nesting_is_bounded)
{
	char pattern[4096];
	size_t n = 0;
	for (int i = 0; i < 1000; i++)
		pattern[n++] = '(';
	memcpy(pattern + n, "abcdef", 6);
	n += 6;
	for (int i = 0; i < 1000; i++)
		pattern[n++] = ')';
	pattern[n] = '\0';
	bool usable;
	ck_assert(filter_says(pattern, "xx abcdef", &usable));
	ck_assert(!usable); /* the one branch has no literal outside the groups read */
}
END_TEST

Suite *litfilter_suite(void)
{
	Suite *s = suite_create("litfilter");
	TCase *tc = tcase_create("litfilter");
	tcase_add_test(tc, test_lets_matches_through_and_turns_the_rest_away);
	tcase_add_test(tc, test_probe_sets_hold_where_the_filter_may_match);
	tcase_add_test(tc, test_gives_up_on_what_it_cannot_read);
	tcase_add_test(tc, test_branches_one_by_one);
	tcase_add_test(tc, test_a_pattern_matches_where_one_branch_alone_does);
	tcase_add_test(tc, test_alternatives_added_one_by_one);
	tcase_add_test(tc, test_deep_nesting_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}
