/*
 * timestamp: fixed-position parsing of log timestamps. It must never call
 * mktime() per line (it is slow and takes a lock); local offsets come from
 * a one-entry cache keyed by the hour.
 */
#include "timestamp.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool digits(const char *s, size_t n, int *value)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*value = v;
	return true;
}

void local_time_cache_init(struct local_time_cache *cache)
{
	cache->hour_key = -1;
	cache->offset = 0;
	cache->minute_valid = false;
}

/* Howard Hinnant's days_from_civil. */
int64_t timestamp_days_from_civil(int64_t year, unsigned month, unsigned day)
{
	year -= month <= 2;
	const int64_t era = (year >= 0 ? year : year - 399) / 400;
	const unsigned yoe = (unsigned)(year - era * 400);
	const unsigned doy = (153 * (month + (month > 2 ? (unsigned)-3 : 9)) + 2) / 5 + day - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int64_t timestamp_local_to_epoch(struct local_time_cache *cache, int year,
                                 int month, int day, int hour, int minute,
                                 int second)
{
	int64_t days = timestamp_days_from_civil(year, (unsigned)month, (unsigned)day);
	int64_t wall = days * 86400 + hour * 3600 + minute * 60 + second;
	int64_t key = days * 24 + hour;
	if (key != cache->hour_key) {
		struct tm tm = { 0 };
		tm.tm_year = year - 1900;
		tm.tm_mon = month - 1;
		tm.tm_mday = day;
		tm.tm_hour = hour;
		tm.tm_min = 30;
		tm.tm_isdst = -1;
		time_t t = mktime(&tm);
		int64_t hour_wall = days * 86400 + hour * 3600 + 30 * 60;
		cache->offset = t == (time_t)-1 ? 0 : hour_wall - (int64_t)t;
		cache->hour_key = key;
	}
	return wall - cache->offset;
}

/* "YYYY-MM-DD HH:MM" at s: its wall-clock seconds (as if UTC) and the
 * hour key of timestamp_local_to_epoch; false when it is not one. */
static bool parse_minute(const char *s, int64_t *wall, int64_t *hour_key, int *date)
{
	int year, month, day, hour, minute;
	if (s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':')
		return false;
	if (!digits(s, 4, &year) || !digits(s + 5, 2, &month) || !digits(s + 8, 2, &day) ||
	    !digits(s + 11, 2, &hour) || !digits(s + 14, 2, &minute))
		return false;
	if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59)
		return false;
	int64_t days = timestamp_days_from_civil(year, (unsigned)month, (unsigned)day);
	*wall = days * 86400 + hour * 3600 + minute * 60;
	*hour_key = days * 24 + hour;
	date[0] = year;
	date[1] = month;
	date[2] = day;
	date[3] = hour;
	date[4] = minute;
	return true;
}

/* The minute, from the cache when the line before had the same one. */
static bool minute_of(struct local_time_cache *cache, const char *s, int64_t *wall,
                      int64_t *epoch_offset)
{
	/* (the hour's offset may have been swapped out by a syslog stamp since) */
	if (!cache->minute_valid || memcmp(cache->minute_text, s, 16) != 0 ||
	    cache->minute_hour_key != cache->hour_key) {
		int date[5];
		int64_t hour_key;
		if (!parse_minute(s, wall, &hour_key, date))
			return false;
		memcpy(cache->minute_text, s, 16);
		cache->minute_wall = *wall;
		cache->minute_hour_key = hour_key;
		cache->minute_valid = true;
		if (hour_key != cache->hour_key) /* the local offset of this hour */
			(void)timestamp_local_to_epoch(cache, date[0], date[1], date[2], date[3],
			                               date[4], 0);
	}
	*wall = cache->minute_wall;
	*epoch_offset = cache->offset;
	return true;
}

/* What follows "YYYY-MM-DD HH:MM:SS": perhaps ".mmm", perhaps " +hhmm",
 * then a space or the end. The stamp's length, or 0 when it is not one. */
static size_t stamp_tail(const char *s, size_t length, struct timestamp *out)
{
	size_t pos = 19;
	out->millisecond = -1;
	int ms;
	if (pos + 4 <= length && s[pos] == '.' && digits(s + pos + 1, 3, &ms)) {
		out->millisecond = ms;
		pos += 4;
	}
	out->has_zone = false;
	out->zone_offset_minutes = 0;
	int zh, zm;
	if (pos + 6 <= length && s[pos] == ' ' && (s[pos + 1] == '+' || s[pos + 1] == '-') &&
	    digits(s + pos + 2, 2, &zh) && digits(s + pos + 4, 2, &zm) &&
	    (pos + 6 == length || s[pos + 6] == ' ')) {
		out->has_zone = true;
		out->zone_offset_minutes = (zh * 60 + zm) * (s[pos + 1] == '-' ? -1 : 1);
		pos += 6;
	}
	if (pos < length && s[pos] != ' ')
		return 0;
	return pos;
}

bool timestamp_parse_exim(struct local_time_cache *cache, const char *s,
                          size_t length, struct timestamp *out)
{
	/* YYYY-MM-DD HH:MM:SS is 19 bytes. */
	int second;
	int64_t minute_wall, local_offset;
	if (!timestamp_second_of(s, length, &second) ||
	    !minute_of(cache, s, &minute_wall, &local_offset))
		return false;
	size_t pos = stamp_tail(s, length, out);
	if (pos == 0)
		return false;
	out->wall = minute_wall + second;
	if (out->has_zone)
		out->epoch = out->wall - (int64_t)out->zone_offset_minutes * 60;
	else
		out->epoch = out->wall - local_offset;
	out->length = pos;
	return true;
}

size_t timestamp_exim_tail_length(const char *s, size_t length)
{
	struct timestamp unused;
	return stamp_tail(s, length, &unused);
}

/* Wall-clock fields of epoch in the log's zone, and that zone's offset. */
static bool wall_clock(int64_t epoch, bool zone_known, int offset_minutes, struct tm *tm,
                       long *offset)
{
	if (zone_known) {
		time_t shifted = (time_t)(epoch + (int64_t)offset_minutes * 60);
		*offset = offset_minutes;
		return gmtime_r(&shifted, tm) != NULL;
	}
	time_t t = (time_t)epoch;
	if (localtime_r(&t, tm) == NULL)
		return false;
	*offset = tm->tm_gmtoff / 60;
	return true;
}

void timestamp_format_iso8601(int64_t epoch, bool zone_known, int offset_minutes,
                              char out[TIMESTAMP_ISO8601_MAX])
{
	struct tm tm;
	long offset;
	if (!wall_clock(epoch, zone_known, offset_minutes, &tm, &offset)) {
		snprintf(out, TIMESTAMP_ISO8601_MAX, "1970-01-01T00:00:00+00:00");
		return;
	}
	long magnitude = offset < 0 ? -offset : offset;
	snprintf(out, TIMESTAMP_ISO8601_MAX, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	         offset < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
}
