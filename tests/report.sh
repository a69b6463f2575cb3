#!/bin/bash
# The failure report as a user runs it: the sample day against its golden
# file (fixtures/sample/exim_mainlog.report, read against the stories in
# fixtures/sample/README), report as the default mode, stdin, the exit
# status, colour only when asked, and hostile bytes (ESC sequences in a
# subject, a HELO, a remote reply) never written raw.
#
# To regenerate the golden after a deliberate change, then read the diff
# against the README's stories before committing it:
#   TZ=UTC src/eximexplain report fixtures/sample/exim_mainlog \
#       >fixtures/sample/exim_mainlog.report
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
export TZ=UTC

log=fixtures/sample/exim_mainlog
golden=fixtures/sample/exim_mainlog.report

"$bin" report "$log" >"$tmp/report" 2>"$tmp/err"
status=$?
if ! head -n 1 "$tmp/report" | grep -q '^EXIM FAILURE REPORT$'; then
	echo "SKIP: the report mode is not wired into $bin yet"
	exit 77
fi

# the sample day, byte for byte
[ $status -eq 1 ] || fail "report on the sample day: exit $status, expected 1 (it has failures)"
[ -s "$tmp/err" ] && fail "report wrote to stderr: $(head -n 3 "$tmp/err")"
if ! diff -u "$golden" "$tmp/report" >"$tmp/diff"; then
	fail "report differs from $golden:"
	head -n 60 "$tmp/diff"
fi

# report is the default mode
"$bin" "$log" >"$tmp/default"
[ $? -eq 1 ] || fail "default mode: exit status"
cmp -s "$tmp/report" "$tmp/default" || fail "default mode differs from 'report'"

# stdin: the same report, with the input named as such
"$bin" report <"$log" >"$tmp/stdin"
sed 's|^   files     (standard input)$|   files     '"$log"'|' "$tmp/stdin" >"$tmp/stdin.named"
cmp -s "$tmp/report" "$tmp/stdin.named" || fail "report from stdin differs"

# 78 columns (RFC 5322 line length: the digest mails the same text), and no
# colour unless asked
awk -v f="$golden" 'length > 78 { print "FAIL: " f ":" NR " is wider than 78 columns"; bad = 1 }
	END { exit bad }' "$tmp/report" || failures=$((failures + 1))
grep -q $'\033' "$tmp/report" && fail "colour codes without --color"
"$bin" report --color always "$log" >"$tmp/color"
grep -q $'\033\\[31mFAILED\033\\[0m' "$tmp/color" || fail "--color always: no red FAILED"
[ "$(sed 's/\x1b\[[0-9;]*m//g' "$tmp/color" | cksum)" = "$(cksum <"$tmp/report")" ] ||
	fail "--color always changes more than the colour"

# a clean log: nothing to report, exit 0
cat >"$tmp/clean" <<'LOG'
2024-03-01 10:00:00 1rg2Ab-000Abc-Xy <= alice@example.com H=mx.example.com [192.0.2.1] P=esmtps S=1234 id=abc@example.com
2024-03-01 10:00:01 1rg2Ab-000Abc-Xy => bob@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.7] C="250 OK"
2024-03-01 10:00:01 1rg2Ab-000Abc-Xy Completed
LOG
"$bin" report "$tmp/clean" >"$tmp/clean.out"
status=$?
[ $status -eq 0 ] || fail "clean log: exit $status, expected 0"
grep -q '^PROBLEMS: none$' "$tmp/clean.out" || fail "clean log: problems listed"

# hostile input: raw control bytes where strangers write (a subject, a
# HELO name, a remote reply, a rejection reason, a sender) must come out
# escaped; no byte below 0x20 but newline, and no DEL, may reach the output
E=$'\033' B=$'\007' R=$'\r'
{
	echo "2024-03-01 10:00:00 1rg2Ac-000Abc-Xy <= promo${E}[2J@evil.example H=(evil${E}]0;pwned${B}) [203.0.113.150]:51514 P=esmtp S=100 T=\"${E}[1;31mURGENT${E}[0m${R}Bcc: all\" for info@example.com"
	echo "2024-03-01 10:00:01 1rg2Ac-000Abc-Xy ** info@example.com R=dnslookup T=remote_smtp H=mx.evil.example [203.0.113.151]: SMTP error from remote mail server after RCPT TO:<info@example.com>: 550 5.1.1 ${E}[5mgone${E}[0m${R}now"
	echo "2024-03-01 10:00:01 1rg2Ac-000Abc-Xy Completed"
	echo "2024-03-01 10:00:02 H=(${E}[2Jhelo) [203.0.113.9]:4000 F=<x@evil.example> rejected RCPT <a@example.com>: ${E}]2;title${B} denied"
	echo "2024-03-01 10:00:03 1rg2Ad-000Abc-Xy <= x@evil.example H=(h) [203.0.113.9]:4001 P=esmtp S=1 T=\"${E}[31mstill queued$(printf '\177')\" for b@example.com"
	echo "2024-03-01 10:00:04 1rg2Ad-000Abc-Xy == b@example.com R=dnslookup T=remote_smtp defer (-44) H=mx.example [203.0.113.1]: SMTP error from remote mail server after RCPT TO:<b@example.com>: 451 4.7.1 ${E}[1mgrey${E}[0m"
	echo "2024-03-01 10:00:05 dovecot_login authenticator failed for (${E}[8m) [203.0.113.45]:61024: 535 Incorrect authentication data (set_id=${E}c)"
} >"$tmp/hostile"
"$bin" report "$tmp/hostile" >"$tmp/hostile.out"
status=$?
[ $status -eq 1 ] || fail "hostile log: exit $status, expected 1"
raw=$(tr -d '\n\040-\176\200-\377' <"$tmp/hostile.out" | wc -c)
[ "$raw" -eq 0 ] || fail "hostile log: $raw raw control bytes in the report"
for shown in '\033[5mgone\033[0m\rnow' '\033[31mstill queued\177' \
	'\033]2;title\007 denied' 'promo\033[2J@evil.example' '(\033[2Jhelo)'; do
	grep -qF -- "$shown" "$tmp/hostile.out" || fail "hostile log: '$shown' not shown escaped"
done
awk 'length > 78 { bad = 1 } END { exit bad }' "$tmp/hostile.out" || fail "hostile log: over 78 columns"

[ $failures -eq 0 ] || exit 1
echo "report: all checks passed"
