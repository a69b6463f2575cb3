/*
 * when: parse --since/--until values. Date arithmetic is timestamp.h's
 * (days from a civil date, local wall time to epoch); this file only reads
 * the forms a person types. It must never accept a half-read value: any
 * byte it does not understand makes the whole text invalid, so a typo is a
 * usage error rather than a silently different time window.
 */
#include "when.h"

#include <string.h>
#include <time.h>

#include "timestamp.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Exactly n digits at *s; advances *s past them. */
static bool take_digits(const char **s, int n, int *value)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit((*s)[i]))
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*value = v;
	return true;
}

static bool take_char(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

static int64_t days_in_month(int year, int month)
{
	int next_year = month == 12 ? year + 1 : year;
	int next_month = month == 12 ? 1 : month + 1;
	return timestamp_days_from_civil(next_year, (unsigned)next_month, 1) -
	       timestamp_days_from_civil(year, (unsigned)month, 1);
}

/* Local midnight at the start of the local day that holds now, moved by
 * day_shift days. */
static bool local_midnight(int64_t now, int day_shift, int64_t *epoch)
{
	time_t t = (time_t)now;
	struct tm local;
	if (localtime_r(&t, &local) == NULL)
		return false;
	int64_t days = timestamp_days_from_civil(local.tm_year + 1900,
	                                         (unsigned)local.tm_mon + 1,
	                                         (unsigned)local.tm_mday) + day_shift;
	/* back to a civil date: gmtime of a UTC midnight is that date */
	time_t midnight = (time_t)(days * 86400);
	struct tm civil;
	if (gmtime_r(&midnight, &civil) == NULL)
		return false;
	struct local_time_cache cache;
	local_time_cache_init(&cache);
	*epoch = timestamp_local_to_epoch(&cache, civil.tm_year + 1900, civil.tm_mon + 1,
	                                  civil.tm_mday, 0, 0, 0);
	return true;
}

/* "-N" followed by one unit letter. */
static bool parse_relative(const char *s, int64_t now, int64_t *epoch)
{
	if (!take_char(&s, '-') || !is_digit(*s))
		return false;
	int64_t count = 0;
	while (is_digit(*s)) {
		if (count > INT64_C(1000000000000))
			return false;
		count = count * 10 + (*s++ - '0');
	}
	int64_t unit;
	switch (*s++) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return false;
	}
	if (*s != '\0')
		return false;
	/* count <= 1e13 and unit <= 604800: the product fits in 63 bits */
	*epoch = now - count * unit;
	return true;
}

/* " +hhmm", "+hh:mm", "Z" after a time, or nothing. */
static bool parse_zone(const char **s, bool *has_zone, int *offset_minutes)
{
	const char *p = *s;
	*has_zone = false;
	*offset_minutes = 0;
	if (*p == '\0')
		return true;
	if (*p == ' ')
		p++;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		int hours, minutes;
		if (!take_digits(&p, 2, &hours))
			return false;
		take_char(&p, ':');
		if (!take_digits(&p, 2, &minutes) || hours > 23 || minutes > 59)
			return false;
		*offset_minutes = sign * (hours * 60 + minutes);
	} else {
		return false;
	}
	*has_zone = true;
	*s = p;
	return true;
}

static bool parse_date_time(const char *s, int64_t *epoch)
{
	int year, month, day, hour = 0, minute = 0, second = 0;
	if (!take_digits(&s, 4, &year) || !take_char(&s, '-') ||
	    !take_digits(&s, 2, &month) || !take_char(&s, '-') ||
	    !take_digits(&s, 2, &day))
		return false;
	if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
		return false;
	bool has_zone = false;
	int offset_minutes = 0;
	if (*s == ' ' || *s == 'T') {
		s++;
		if (!take_digits(&s, 2, &hour) || !take_char(&s, ':') ||
		    !take_digits(&s, 2, &minute))
			return false;
		if (take_char(&s, ':')) {
			if (!take_digits(&s, 2, &second))
				return false;
			if (take_char(&s, '.')) {
				if (!is_digit(*s))
					return false;
				while (is_digit(*s))
					s++;
			}
		}
		if (hour > 23 || minute > 59 || second > 60)
			return false;
		if (!parse_zone(&s, &has_zone, &offset_minutes))
			return false;
	}
	if (*s != '\0')
		return false;
	if (has_zone) {
		int64_t days = timestamp_days_from_civil(year, (unsigned)month, (unsigned)day);
		*epoch = days * 86400 + hour * 3600 + minute * 60 + second -
		         (int64_t)offset_minutes * 60;
	} else {
		struct local_time_cache cache;
		local_time_cache_init(&cache);
		*epoch = timestamp_local_to_epoch(&cache, year, month, day, hour, minute,
		                                  second);
	}
	return true;
}

bool when_parse(const char *text, int64_t now, int64_t *epoch)
{
	if (text == NULL)
		return false;
	if (strcmp(text, "now") == 0) {
		*epoch = now;
		return true;
	}
	if (strcmp(text, "today") == 0)
		return local_midnight(now, 0, epoch);
	if (strcmp(text, "yesterday") == 0)
		return local_midnight(now, -1, epoch);
	if (text[0] == '-')
		return parse_relative(text, now, epoch);
	return parse_date_time(text, epoch);
}
