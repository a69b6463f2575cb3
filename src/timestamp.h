/*
 * timestamp: Exim's "YYYY-MM-DD HH:MM:SS[.mmm][ +hhmm]" and the syslog
 * "Mon DD HH:MM:SS" forms -> UTC epoch seconds. Zone-less times are the
 * host's local time, as Exim wrote them (exim-log-format.md 2.1); the
 * local offset is cached per hour so the hot path makes no libc time calls.
 */
#ifndef EXIMEXPLAIN_TIMESTAMP_H
#define EXIMEXPLAIN_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct timestamp {
	int64_t epoch;
	int64_t wall;            /* the written wall-clock time, counted as UTC */
	int millisecond;         /* -1 when absent */
	bool has_zone;
	int zone_offset_minutes;
	size_t length;           /* bytes consumed, not counting the space after */
};

struct local_time_cache {
	int64_t hour_key;  /* local days * 24 + hour of the cached entry, -1 none */
	int64_t offset;    /* seconds east of UTC at that hour */
	/* The last "YYYY-MM-DD HH:MM" parsed, which the next lines nearly
	 * always share: its wall-clock seconds and its hour_key. */
	char minute_text[16];
	bool minute_valid;
	int64_t minute_wall;
	int64_t minute_hour_key;
};

void local_time_cache_init(struct local_time_cache *cache);

/* --since/--until: since <= epoch < until, where 0 is no bound. */
static inline bool timestamp_in_window(int64_t epoch, int64_t since, int64_t until)
{
	return (since == 0 || epoch >= since) && (until == 0 || epoch < until);
}

/* Exim's timestamp at the start of s; true when s starts with one that is
 * followed by a space or the end. */
bool timestamp_parse_exim(struct local_time_cache *cache, const char *s,
                          size_t length, struct timestamp *out);

/* The length of the stamp's tail from s + 19 on (+millisec, a zone), as
 * timestamp_parse_exim finds it; 0 when there is no stamp. For
 * timestamp_exim_length_in_minute. */
size_t timestamp_exim_tail_length(const char *s, size_t length);

/* The seconds of "YYYY-MM-DD HH:MM:SS" at s, when they are there. */
static inline bool timestamp_second_of(const char *s, size_t length, int *second)
{
	if (length < 19 || s[16] != ':' || (unsigned)(s[17] - '0') > 9 ||
	    (unsigned)(s[18] - '0') > 9)
		return false;
	*second = (s[17] - '0') * 10 + (s[18] - '0');
	return *second <= 60;
}

/* When s starts with an Exim timestamp of the minute the cache holds (the
 * one timestamp_parse_exim saw last), the stamp's length as that would
 * find it; else 0, and only timestamp_parse_exim can tell. Works out no
 * time, so it costs a comparison: for a caller that skips most lines.
 * Inline: grep's second pass asks it of every line it skims, and the call
 * cost as much as the comparison. */
static inline size_t timestamp_exim_length_in_minute(const struct local_time_cache *cache,
                                                     const char *s, size_t length)
{
	int second;
	if (!cache->minute_valid || !timestamp_second_of(s, length, &second) ||
	    memcmp(cache->minute_text, s, 16) != 0)
		return 0;
	/* Nearly every line: whole seconds (or +millisec) and a space, not
	 * before a zone. */
	size_t end = 19;
	if (length >= 23 && s[19] == '.' && (unsigned)(s[20] - '0') <= 9 &&
	    (unsigned)(s[21] - '0') <= 9 && (unsigned)(s[22] - '0') <= 9)
		end = 23;
	if (length == end ||
	    (s[end] == ' ' && (length < end + 2 || (s[end + 1] != '+' && s[end + 1] != '-'))))
		return end;
	return timestamp_exim_tail_length(s, length);
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t timestamp_days_from_civil(int64_t year, unsigned month, unsigned day);

/* UTC epoch of a local wall-clock time. */
int64_t timestamp_local_to_epoch(struct local_time_cache *cache, int year,
                                 int month, int day, int hour, int minute,
                                 int second);

/* "2024-03-14T10:00:00+01:00": epoch in the zone offset_minutes east of
 * UTC when zone_known, else in the host's local zone at that time (the
 * zone Exim wrote a zone-less log in). Always NUL-terminated. */
#define TIMESTAMP_ISO8601_MAX 128 /* room for any int the compiler imagines */
void timestamp_format_iso8601(int64_t epoch, bool zone_known, int offset_minutes,
                              char out[TIMESTAMP_ISO8601_MAX]);

#endif
