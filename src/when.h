/*
 * when: the values of --since and --until, as a person types them, -> UTC
 * epoch seconds. It knows no log format and never reads the clock itself:
 * the caller passes "now", so the same text always means the same instant
 * in a test.
 *
 * Accepted (whole text, nothing before or after):
 *   2024-03-14                  local midnight at the start of that day
 *   2024-03-14 10:00            local time; also 10:00:00, 10:00:00.123
 *   2024-03-14T10:00[:00]       the same with ISO 8601's T
 *   ... +0100, -05:00, Z        an explicit zone after a time (a space
 *                               before it is allowed, as Exim writes it)
 *   today, yesterday            local midnight at the start of that day
 *   now                         now
 *   -90s -30m -24h -2d -1w      that long before now
 * A fraction of a second is accepted and ignored: the table compares whole
 * seconds. Local time is the host's zone (TZ), as in zone-less log lines.
 *
 * The window is half open, [since, until): "--since yesterday --until
 * today" is all of yesterday and nothing of today, and "--until
 * 2024-03-14" stops before that day begins.
 */
#ifndef EXIMEXPLAIN_WHEN_H
#define EXIMEXPLAIN_WHEN_H

#include <stdbool.h>
#include <stdint.h>

/* true and *epoch set when text is one of the forms above; false (and
 * *epoch untouched) otherwise, e.g. for "2024-02-30" or "-5x". */
bool when_parse(const char *text, int64_t now, int64_t *epoch);

#endif
