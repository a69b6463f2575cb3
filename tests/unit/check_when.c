/*
 * when tests: every form --since/--until accept, in UTC and in a zone with
 * daylight saving time, and the near misses that must be refused.
 */
#include <stdint.h>

#include "suites.h"
#include "test_support.h"
#include "when.h"

#define EASTERN "EST5EDT,M3.2.0,M11.1.0" /* US Eastern, POSIX rule: no tzdata needed */

static int64_t parsed(const char *text, int64_t now)
{
	int64_t epoch = INT64_MIN;
	ck_assert_msg(when_parse(text, now, &epoch), "\"%s\" refused", text);
	return epoch;
}

#define assert_when(text, now, expected)                                              \
	do {                                                                          \
		long long got_ = (long long)parsed(text, now);                        \
		long long want_ = (long long)(expected);                              \
		ck_assert_msg(got_ == want_, "\"%s\": expected %lld, got %lld (%+lld s)", \
		              text, want_, got_, got_ - want_);                       \
	} while (0)

#define assert_refused(text)                                                  \
	do {                                                                  \
		int64_t epoch_ = 42;                                          \
		ck_assert_msg(!when_parse(text, 1710428400, &epoch_),         \
		              "\"%s\" accepted", text);                       \
		ck_assert_int_eq(epoch_, 42);                                 \
	} while (0)

START_TEST(test_dates_and_times_utc)
{
	use_time_zone("UTC");
	int64_t now = utc_epoch(2024, 3, 14, 15, 30, 0);
	assert_when("2024-03-14", now, utc_epoch(2024, 3, 14, 0, 0, 0));
	assert_when("2024-03-14 10:00", now, utc_epoch(2024, 3, 14, 10, 0, 0));
	assert_when("2024-03-14 10:00:07", now, utc_epoch(2024, 3, 14, 10, 0, 7));
	assert_when("2024-03-14T10:00", now, utc_epoch(2024, 3, 14, 10, 0, 0));
	assert_when("2024-03-14T10:00:59", now, utc_epoch(2024, 3, 14, 10, 0, 59));
	assert_when("2024-03-14 10:00:07.999", now, utc_epoch(2024, 3, 14, 10, 0, 7));
	assert_when("2024-02-29", now, utc_epoch(2024, 2, 29, 0, 0, 0));
	assert_when("2000-02-29 23:59:59", now, utc_epoch(2000, 2, 29, 23, 59, 59));
	assert_when("1999-12-31", now, utc_epoch(1999, 12, 31, 0, 0, 0));
	/* the date is not "now"-relative */
	assert_when("2024-03-14", 0, utc_epoch(2024, 3, 14, 0, 0, 0));
}
END_TEST

START_TEST(test_local_time_follows_tz)
{
	use_time_zone(EASTERN);
	int64_t now = utc_epoch(2024, 7, 1, 12, 0, 0);
	/* EDT (-0400) in July, EST (-0500) in January */
	assert_when("2024-07-01", now, utc_epoch(2024, 7, 1, 4, 0, 0));
	assert_when("2024-07-01 10:00", now, utc_epoch(2024, 7, 1, 14, 0, 0));
	assert_when("2024-01-15T12:00:00", now, utc_epoch(2024, 1, 15, 17, 0, 0));
	/* the day DST starts (2024-03-10): midnight is still EST */
	assert_when("2024-03-10", now, utc_epoch(2024, 3, 10, 5, 0, 0));
	assert_when("2024-03-11", now, utc_epoch(2024, 3, 11, 4, 0, 0));
}
END_TEST

START_TEST(test_explicit_zones)
{
	/* an explicit zone wins over TZ */
	use_time_zone(EASTERN);
	int64_t nine_utc = utc_epoch(2024, 3, 14, 9, 0, 0);
	assert_when("2024-03-14 10:00:00 +0100", 0, nine_utc);
	assert_when("2024-03-14 10:00 +0100", 0, nine_utc);
	assert_when("2024-03-14T10:00:00+0100", 0, nine_utc);
	assert_when("2024-03-14T10:00+01:00", 0, nine_utc);
	assert_when("2024-03-14T09:00Z", 0, nine_utc);
	assert_when("2024-03-14 09:00:00Z", 0, nine_utc);
	assert_when("2024-03-14 04:00 -0500", 0, nine_utc);
	assert_when("2024-03-14T03:30-05:30", 0, nine_utc);
	assert_when("2024-03-14 09:00:00.250 +0000", 0, nine_utc);
	/* a zone that moves the time over midnight */
	assert_when("2024-03-01 00:30 +0100", 0, utc_epoch(2024, 2, 29, 23, 30, 0));
}
END_TEST

START_TEST(test_today_and_yesterday_utc)
{
	use_time_zone("UTC");
	int64_t now = utc_epoch(2024, 3, 14, 15, 30, 0);
	assert_when("today", now, utc_epoch(2024, 3, 14, 0, 0, 0));
	assert_when("yesterday", now, utc_epoch(2024, 3, 13, 0, 0, 0));
	assert_when("now", now, now);
	/* exactly midnight belongs to the new day */
	now = utc_epoch(2024, 3, 14, 0, 0, 0);
	assert_when("today", now, now);
	assert_when("yesterday", now, utc_epoch(2024, 3, 13, 0, 0, 0));
	/* over a month, a leap day and a year */
	assert_when("yesterday", utc_epoch(2024, 3, 1, 8, 0, 0), utc_epoch(2024, 2, 29, 0, 0, 0));
	assert_when("yesterday", utc_epoch(2023, 3, 1, 8, 0, 0), utc_epoch(2023, 2, 28, 0, 0, 0));
	assert_when("yesterday", utc_epoch(2024, 1, 1, 8, 0, 0), utc_epoch(2023, 12, 31, 0, 0, 0));
}
END_TEST

START_TEST(test_today_and_yesterday_local)
{
	use_time_zone(EASTERN);
	/* 03:00 UTC on the 14th is still the 13th in New York (EDT) */
	int64_t now = utc_epoch(2024, 3, 14, 3, 0, 0);
	assert_when("today", now, utc_epoch(2024, 3, 13, 4, 0, 0));
	assert_when("yesterday", now, utc_epoch(2024, 3, 12, 4, 0, 0));
	/* the day after DST began: yesterday had 23 hours */
	now = utc_epoch(2024, 3, 11, 16, 0, 0);
	int64_t today = parsed("today", now), yesterday = parsed("yesterday", now);
	ck_assert_int_eq(today, utc_epoch(2024, 3, 11, 4, 0, 0));
	ck_assert_int_eq(yesterday, utc_epoch(2024, 3, 10, 5, 0, 0));
	ck_assert_int_eq(today - yesterday, 23 * 3600);
	/* and the day after it ended: 25 hours */
	now = utc_epoch(2024, 11, 4, 16, 0, 0);
	ck_assert_int_eq(parsed("today", now) - parsed("yesterday", now), 25 * 3600);
}
END_TEST

START_TEST(test_relative)
{
	use_time_zone(EASTERN); /* relative times ignore the zone */
	int64_t now = 1710428400;
	assert_when("-24h", now, now - 24 * 3600);
	assert_when("-30m", now, now - 30 * 60);
	assert_when("-2d", now, now - 2 * 86400);
	assert_when("-90s", now, now - 90);
	assert_when("-1w", now, now - 7 * 86400);
	assert_when("-0h", now, now);
	assert_when("-1000000d", now, now - INT64_C(1000000) * 86400);
}
END_TEST

START_TEST(test_refused)
{
	use_time_zone("UTC");
	assert_refused("");
	assert_refused(" ");
	assert_refused("2024-02-30");
	assert_refused("2023-02-29");
	assert_refused("2024-04-31");
	assert_refused("2024-13-01");
	assert_refused("2024-00-10");
	assert_refused("2024-03-00");
	assert_refused("2024-3-14");
	assert_refused("24-03-14");
	assert_refused("2024/03/14");
	assert_refused("2024-03-14 ");
	assert_refused(" 2024-03-14");
	assert_refused("2024-03-14x");
	assert_refused("2024-03-14 10");
	assert_refused("2024-03-14 10:");
	assert_refused("2024-03-14 10:00:");
	assert_refused("2024-03-14 10:00:0");
	assert_refused("2024-03-14 10:00:00.");
	assert_refused("2024-03-14 24:00");
	assert_refused("2024-03-14 10:60");
	assert_refused("2024-03-14 10:00:61");
	assert_refused("2024-03-14 10:00 +01");
	assert_refused("2024-03-14 10:00 +2400");
	assert_refused("2024-03-14 10:00 +0160");
	assert_refused("2024-03-14 10:00 CET");
	assert_refused("2024-03-14 10:00  +0100");
	assert_refused("2024-03-14 10:00 +0100 ");
	assert_refused("2024-03-14Z");
	assert_refused("2024-03-14 +0100");
	assert_refused("Today");
	assert_refused("today ");
	assert_refused("tomorrow");
	assert_refused("-24");
	assert_refused("-h");
	assert_refused("24h");
	assert_refused("+24h");
	assert_refused("-24x");
	assert_refused("-24hh");
	assert_refused("-24 h");
	assert_refused("--24h");
	assert_refused("-99999999999999999999h");
	assert_refused("-");
	ck_assert(!when_parse(NULL, 0, &(int64_t){ 0 }));
}
END_TEST

START_TEST(test_window_is_half_open)
{
	/* the documented idiom: --since yesterday --until today is one whole
	 * day; a line at "today" midnight falls outside [since, until) */
	use_time_zone("UTC");
	int64_t now = utc_epoch(2024, 3, 14, 15, 30, 0);
	int64_t since = parsed("yesterday", now), until = parsed("today", now);
	ck_assert_int_eq(until - since, 86400);
	int64_t last_second = utc_epoch(2024, 3, 13, 23, 59, 59);
	ck_assert(last_second >= since && last_second < until);
}
END_TEST

Suite *when_suite(void)
{
	Suite *suite = suite_create("when");
	TCase *tc = tcase_create("when");
	tcase_add_test(tc, test_dates_and_times_utc);
	tcase_add_test(tc, test_local_time_follows_tz);
	tcase_add_test(tc, test_explicit_zones);
	tcase_add_test(tc, test_today_and_yesterday_utc);
	tcase_add_test(tc, test_today_and_yesterday_local);
	tcase_add_test(tc, test_relative);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_window_is_half_open);
	suite_add_tcase(suite, tc);
	return suite;
}
