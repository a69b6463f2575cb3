/*
 * timestamp tests: civil dates to days, Exim's stamp forms (section 2.1)
 * to epoch seconds, and the dates and times that are not stamps.
 */
#include <string.h>

#include "suites.h"
#include "test_support.h"
#include "timestamp.h"

START_TEST(test_days_from_civil)
{
	ck_assert_int_eq(timestamp_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(timestamp_days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(timestamp_days_from_civil(1999, 3, 2), 10652);
	ck_assert_int_eq(timestamp_days_from_civil(2000, 3, 1), 11017);
	/* leap days: 2000 is a leap year (divisible by 400), 2100 is not */
	ck_assert_int_eq(timestamp_days_from_civil(2000, 2, 29), 11016);
	ck_assert_int_eq(timestamp_days_from_civil(2100, 2, 28), 47540);
	ck_assert_int_eq(timestamp_days_from_civil(2100, 3, 1), 47541);
	ck_assert_int_eq(timestamp_days_from_civil(2024, 3, 1) - timestamp_days_from_civil(2024, 2, 28), 2);
	ck_assert_int_eq(timestamp_days_from_civil(2023, 3, 1) - timestamp_days_from_civil(2023, 2, 28), 1);
}
END_TEST

static bool parse(const char *s, struct timestamp *out)
{
	struct local_time_cache cache;
	local_time_cache_init(&cache);
	return timestamp_parse_exim(&cache, s, strlen(s), out);
}

START_TEST(test_parse_forms)
{
	use_time_zone("UTC");
	struct timestamp ts;
	ck_assert(parse("1999-03-02 09:44:33", &ts));
	ck_assert_int_eq(ts.epoch, 920367873);
	ck_assert_int_eq(ts.millisecond, -1);
	ck_assert(!ts.has_zone);
	ck_assert_uint_eq(ts.length, 19);

	ck_assert(parse("2017-07-30 18:51:05.712 10HmaZ-000000005vi-0000", &ts));
	ck_assert_int_eq(ts.millisecond, 712);
	ck_assert_int_eq(ts.epoch, 1501440665);
	ck_assert_uint_eq(ts.length, 23);

	ck_assert(parse("2003-04-25 11:17:07 +0100 Completed", &ts));
	ck_assert(ts.has_zone);
	ck_assert_int_eq(ts.zone_offset_minutes, 60);
	ck_assert_int_eq(ts.epoch, 1051265827);
	ck_assert_uint_eq(ts.length, 25);

	ck_assert(parse("2017-07-30 18:51:05.712 -0500", &ts));
	ck_assert_int_eq(ts.millisecond, 712);
	ck_assert_int_eq(ts.zone_offset_minutes, -300);
	ck_assert_int_eq(ts.epoch, 1501458665); /* 23:51:05 UTC */
	ck_assert_uint_eq(ts.length, 29);
}
END_TEST

START_TEST(test_length_in_minute_agrees_with_parsing)
{
	/* grep's skim (timestamp_exim_length_in_minute) must find the length
	 * parsing finds, or 0, for every shape of stamp and what follows it */
	use_time_zone("UTC");
	static const char *const lines[] = {
		"2024-03-04 10:11:12",
		"2024-03-04 10:11:12 ",
		"2024-03-04 10:11:12 1rgvkP-0000oG-0Q <= a@b",
		"2024-03-04 10:11:12.345",
		"2024-03-04 10:11:12.345 ",
		"2024-03-04 10:11:12.345 1rgvkP-0000oG-0Q Completed",
		"2024-03-04 10:11:12 +0100",
		"2024-03-04 10:11:12 +0100 Completed",
		"2024-03-04 10:11:12.345 -0500 Completed",
		"2024-03-04 10:11:12 +01",
		"2024-03-04 10:11:12 +",
		"2024-03-04 10:11:12 -x",
		"2024-03-04 10:11:12.34",
		"2024-03-04 10:11:12.34 x",
		"2024-03-04 10:11:12.3456 x",
		"2024-03-04 10:11:12.x45 x",
		"2024-03-04 10:11:12x",
		"2024-03-04 10:11:12.345x",
		"2024-03-04 10:11:61 x",
		"2024-03-04 10:11:1 x",
		"2024-03-04 10:12:12 other minute",
	};
	struct local_time_cache cache;
	local_time_cache_init(&cache);
	struct timestamp ts;
	ck_assert(timestamp_parse_exim(&cache, lines[0], strlen(lines[0]), &ts));
	for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
		size_t n = strlen(lines[i]);
		struct local_time_cache fresh;
		local_time_cache_init(&fresh);
		size_t parsed = timestamp_parse_exim(&fresh, lines[i], n, &ts) ? ts.length : 0;
		size_t skimmed = timestamp_exim_length_in_minute(&cache, lines[i], n);
		bool other_minute = memcmp(lines[i], lines[0], 16) != 0;
		ck_assert_msg(skimmed == (other_minute ? 0 : parsed),
		              "\"%s\": skimmed %zu, parsed %zu", lines[i], skimmed, parsed);
	}
}
END_TEST

START_TEST(test_leap_day)
{
	struct timestamp ts;
	ck_assert(parse("2024-02-29 12:00:00 +0000", &ts));
	ck_assert_int_eq(ts.epoch, 1709208000);
	ck_assert(parse("2000-02-29 00:00:00 +0000", &ts));
	ck_assert_int_eq(ts.epoch, 11016LL * 86400);
}
END_TEST

START_TEST(test_invalid_stamps_rejected)
{
	struct timestamp ts;
	ck_assert(!parse("1999-13-02 09:44:33", &ts)); /* month 13 */
	ck_assert(!parse("1999-00-02 09:44:33", &ts)); /* month 0 */
	ck_assert(!parse("1999-03-00 09:44:33", &ts)); /* day 0 */
	ck_assert(!parse("1999-03-32 09:44:33", &ts)); /* day 32 */
	ck_assert(!parse("1999-03-02 24:00:00", &ts)); /* hour 24 */
	ck_assert(!parse("1999-03-02 09:60:33", &ts)); /* minute 60 */
	ck_assert(!parse("1999-03-02 09:44:61", &ts)); /* second 61 */
	ck_assert(!parse("1999-03-02T09:44:33", &ts)); /* not Exim's form */
	ck_assert(!parse("1999-03-02 09:44:3", &ts));  /* too short */
	ck_assert(!parse("1999-03-02 09:44:33x", &ts)); /* glued to text */
	ck_assert(!parse("19a9-03-02 09:44:33", &ts));
	ck_assert(!parse("", &ts));
}
END_TEST

START_TEST(test_local_time_follows_tz)
{
	struct local_time_cache cache;
	local_time_cache_init(&cache);
	use_time_zone("UTC");
	ck_assert_int_eq(timestamp_local_to_epoch(&cache, 2003, 4, 25, 11, 17, 7), 1051269427);
	/* US Eastern with DST: -0400 in July, -0500 in January (POSIX rule) */
	use_time_zone("EST5EDT,M3.2.0,M11.1.0");
	local_time_cache_init(&cache);
	ck_assert_int_eq(timestamp_local_to_epoch(&cache, 2024, 7, 1, 12, 0, 0), 1719849600);
	ck_assert_int_eq(timestamp_local_to_epoch(&cache, 2024, 1, 15, 12, 0, 0), 1705338000);
	/* same hour as the cached entry, other minute and second */
	ck_assert_int_eq(timestamp_local_to_epoch(&cache, 2024, 1, 15, 12, 59, 59), 1705341599);
}
END_TEST

Suite *timestamp_suite(void)
{
	Suite *s = suite_create("timestamp");
	TCase *tc = tcase_create("timestamp");
	tcase_add_test(tc, test_days_from_civil);
	tcase_add_test(tc, test_parse_forms);
	tcase_add_test(tc, test_length_in_minute_agrees_with_parsing);
	tcase_add_test(tc, test_leap_day);
	tcase_add_test(tc, test_invalid_stamps_rejected);
	tcase_add_test(tc, test_local_time_follows_tz);
	suite_add_tcase(s, tc);
	return s;
}
