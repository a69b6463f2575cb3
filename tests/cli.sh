#!/bin/bash
# The command line as a user meets it: stats output shape, --unparsed,
# stdin, gzip, a missing file among good ones, exit codes.
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
count() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

cat >"$tmp/log" <<'LOG'
2024-03-01 10:00:00 1rg2Ab-000Abc-Xy <= alice@example.com H=mx.example.com [192.0.2.1] P=esmtps S=1234 id=abc@example.com
2024-03-01 10:00:01 1rg2Ab-000Abc-Xy => bob@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.7] C="250 OK"
2024-03-01 10:00:01 1rg2Ab-000Abc-Xy Completed
2024-03-01 10:00:02 this is not a line Exim writes
2024-03-01 10:00:03 1rg2Ac-00000000Abc-0001 == carol@example.org R=dnslookup T=remote_smtp defer (-44) H=mx.example.org [203.0.113.5]: SMTP error from remote mail server after RCPT TO:<carol@example.org>: 451 4.7.1 Greylisted
LOG

# stats: one "KIND COUNT" line per kind, unknown included, nothing else
"$bin" stats "$tmp/log" >"$tmp/out" 2>"$tmp/err" || fail "stats exited $?"
[ "$(count arrival "$tmp/out")" = 1 ] || fail "arrival count"
[ "$(count delivery "$tmp/out")" = 1 ] || fail "delivery count"
[ "$(count completed "$tmp/out")" = 1 ] || fail "completed count"
[ "$(count deferred "$tmp/out")" = 1 ] || fail "deferred count"
[ "$(count unknown "$tmp/out")" = 1 ] || fail "unknown count"
grep -qvE '^[a-z_]+ [0-9]+$' "$tmp/out" && fail "stats printed something that is not KIND COUNT"
kinds=$(grep -c 'LINE_KIND(LK_' src/linekinds.h)
[ "$(wc -l <"$tmp/out")" -eq "$kinds" ] || fail "stats must list all $kinds kinds"
[ "$(awk '{ n += $2 } END { print n }' "$tmp/out")" = 5 ] || fail "kinds must sum to the line count"

# --unparsed writes unknown lines verbatim, nothing else
"$bin" stats --unparsed "$tmp/unparsed" "$tmp/log" >/dev/null || fail "stats --unparsed"
[ "$(cat "$tmp/unparsed")" = "2024-03-01 10:00:02 this is not a line Exim writes" ] ||
	fail "unparsed file content: $(cat "$tmp/unparsed")"

# stdin, as a pipe and as -
"$bin" stats <"$tmp/log" >"$tmp/stdin1" || fail "stdin (no file)"
cmp -s "$tmp/out" "$tmp/stdin1" || fail "stdin without FILE differs from the file"
cat "$tmp/log" | "$bin" stats - >"$tmp/stdin2" || fail "stdin -"
cmp -s "$tmp/out" "$tmp/stdin2" || fail "stdin - differs from the file"

# gzip by magic bytes, whatever the name
gzip -nc "$tmp/log" >"$tmp/not-a-gz-name"
"$bin" stats "$tmp/not-a-gz-name" >"$tmp/gz" || fail "gzip input"
cmp -s "$tmp/out" "$tmp/gz" || fail "gzip input differs from plain"

# a missing file: named on stderr, exit 2, the other file still read
"$bin" stats "$tmp/missing" "$tmp/log" >"$tmp/out2" 2>"$tmp/err2"
status=$?
[ $status -eq 2 ] || fail "missing file: exit $status, expected 2"
grep -q "$tmp/missing" "$tmp/err2" || fail "missing file not named: $(cat "$tmp/err2")"
[ "$(count arrival "$tmp/out2")" = 1 ] || fail "the good file was not read after the missing one"

# a directory is a clear error too
"$bin" stats "$tmp" >/dev/null 2>"$tmp/err3"
[ $? -eq 2 ] || fail "directory: expected exit 2"
grep -q "is a directory" "$tmp/err3" || fail "directory error: $(cat "$tmp/err3")"

# usage errors exit 2; --version and --help exit 0
"$bin" --no-such-option >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown option must exit 2"
"$bin" --version | grep -q '^eximexplain [0-9]' || fail "--version"
"$bin" --help | grep -q 'usage:' || fail "--help"

# report: exit 1 when there are problems (the deferral above), 0 when clean
"$bin" report "$tmp/log" >/dev/null
[ $? -eq 1 ] || fail "report with a deferral must exit 1"
head -3 "$tmp/log" >"$tmp/clean"
"$bin" "$tmp/clean" >"$tmp/report" || fail "report of a clean log must exit 0"
grep -q '1 received, 1 delivered' "$tmp/report" || fail "report totals: $(head -5 "$tmp/report")"

# grep: 0 matched, 1 nothing matched; -t is grep's only
"$bin" grep bob@example.net "$tmp/log" >"$tmp/grep" || fail "grep must exit 0 on a match"
[ "$(grep -c '^2024' "$tmp/grep")" = 3 ] || fail "grep prints the 3 lines of the message"
"$bin" grep nobody-here "$tmp/log" >/dev/null
[ $? -eq 1 ] || fail "grep without a match must exit 1"
"$bin" report -t 5 "$tmp/log" >/dev/null 2>&1
[ $? -eq 2 ] || fail "-t outside grep must be a usage error"

# --since / --until: a bad time is a usage error; a window filters lines
"$bin" --since 'next tuesday' "$tmp/log" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--since with a bad time must exit 2"
"$bin" --since '2024-03-01 10:00:03' "$tmp/log" >"$tmp/window"
grep -q '0 received' "$tmp/window" || fail "--since must leave the arrival out"
"$bin" --until '2024-03-01 10:00:03' "$tmp/log" >/dev/null
[ $? -eq 0 ] || fail "--until before the deferral leaves no problem: exit 0"

# a line over the 256 KiB cap is cut and counted; the next line is intact
sh fixtures/lexer/make-long-line.sh "$tmp/long.log"
"$bin" stats "$tmp/long.log" >"$tmp/long" 2>"$tmp/long.err" || fail "stats on a long line"
[ "$(count arrival "$tmp/long")" = 2 ] && [ "$(count completed "$tmp/long")" = 1 ] ||
	fail "long line: $(tr '\n' ' ' <"$tmp/long")"
grep -q '1 line(s) longer than 262144 bytes were truncated' "$tmp/long.err" ||
	fail "long line not reported: $(cat "$tmp/long.err")"

# the window applies to every mode, stats included
"$bin" stats --since '2024-03-01 10:00:03' "$tmp/log" >"$tmp/wstats"
[ "$(count arrival "$tmp/wstats")" = 0 ] && [ "$(count deferred "$tmp/wstats")" = 1 ] ||
	fail "stats --since: $(tr '\n' ' ' <"$tmp/wstats")"

[ $failures -eq 0 ] || exit 1
echo "cli: all checks passed"
