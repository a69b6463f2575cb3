#!/bin/bash
# grep and show as a user runs them: golden output for the sample day and
# for fixtures/grep/pitfalls.log (where exigrep goes wrong), each case
# listed below as NAME and arguments and kept in fixtures/grep/NAME.out;
# then exit statuses, compressed and standard input, colour, and no raw
# control byte from the log in any output.
#
# To regenerate the goldens after a deliberate change, then read the diffs
# against fixtures/sample/README and fixtures/grep/README before committing:
#   UPDATE=1 tests/grep.sh
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
export TZ=UTC

sample=fixtures/sample/exim_mainlog
pitfalls=fixtures/grep/pitfalls.log

"$bin" grep '<=' "$pitfalls" >"$tmp/probe" 2>&1
if [ $? -ne 0 ] || ! grep -q '^  -> ' "$tmp/probe"; then
	echo "SKIP: the grep mode is not wired into $bin yet"
	exit 77
fi

# NAME ARGS...: one golden case
golden() {
	local name=$1 want=fixtures/grep/$1.out
	shift
	"$bin" "$@" >"$tmp/$name" 2>"$tmp/$name.err"
	local status=$?
	[ -s "$tmp/$name.err" ] && fail "$name: stderr: $(head -n 3 "$tmp/$name.err")"
	[ $status -eq 0 ] || fail "$name: exit $status, expected 0 (something matched)"
	if [ -n "${UPDATE:-}" ]; then
		cp "$tmp/$name" "$want"
		return
	fi
	if ! diff -u "$want" "$tmp/$name" >"$tmp/$name.diff"; then
		fail "$name ($*) differs from $want:"
		head -n 40 "$tmp/$name.diff"
	fi
}

# a pattern: two messages still queued at the end (+++ header), deferrals
golden sample-pattern grep 'yahoo\.com' "$sample"
# -v inside a time window: non-matching messages and loose lines
golden sample-invert grep --since '2024-03-14 09:50' --until '2024-03-14 10:00' \
	-v dkim_lookuphost "$sample"
# -M: MS1 matches; its bounce MSB1, which completes first, comes too
golden sample-related grep -M 'ap@lawfirm' "$sample"
# -t: at least an hour on the queue; QA and QB arrived the day before (no
# <= in the log: the ID gives the arrival time); YH1, YH2 are still queued
golden sample-queue-time grep -t 3600 bakery "$sample"
# -I and the ANSI escape in GB1's subject, written visibly
golden sample-sensitive grep -I URGENT "$sample"
# -l: brackets and dots taken literally
golden sample-literal grep -l '[203.0.113.45]' "$sample"
# show, a classic ID: CR1, and its new-format bounce CRB1
golden sample-show-classic show 1rkkNT-005uoz-2a "$sample"
# show, a 23-character ID: GB2 and its bounce GBB2
golden sample-show-new show 1rkmtr-00000005w5N-3VZI "$sample"
# "Completed" in a subject and in a reply does not end the message
golden pitfalls-completed grep buyer "$pitfalls"
# -t with +millisec: only the message queued an hour
golden pitfalls-queue-time grep -t 3600 example "$pitfalls"

[ -n "${UPDATE:-}" ] && { echo "goldens written to fixtures/grep/"; exit 0; }

# nothing matched: exit 1 and no output
"$bin" grep 'no such thing anywhere' "$sample" >"$tmp/none"
status=$?
[ $status -eq 1 ] || fail "no match: exit $status, expected 1"
[ -s "$tmp/none" ] && fail "no match: printed $(head -c 200 "$tmp/none")"
"$bin" show 1zzzzz-000000-00 "$sample" >/dev/null
[ $? -eq 1 ] || fail "show of an absent ID: expected exit 1"

# a bad pattern is a usage error: exit 2 and a message naming the problem
"$bin" grep 'a(b' "$sample" >"$tmp/bad" 2>"$tmp/bad.err"
status=$?
[ $status -eq 2 ] || fail "bad pattern: exit $status, expected 2"
grep -q 'parenthesis' "$tmp/bad.err" || fail "bad pattern: message: $(cat "$tmp/bad.err")"
[ -s "$tmp/bad" ] && fail "bad pattern: printed something on stdout"

# compressed input is read in-process, whatever its name; stdin too
gzip -nc "$sample" >"$tmp/mainlog.1"
"$bin" grep 'yahoo\.com' "$tmp/mainlog.1" >"$tmp/gz"
cmp -s fixtures/grep/sample-pattern.out "$tmp/gz" || fail "gzip input differs from plain"
"$bin" grep 'yahoo\.com' <"$sample" >"$tmp/stdin"
cmp -s fixtures/grep/sample-pattern.out "$tmp/stdin" || fail "stdin differs from the file"

# colour only when asked: matches marked, the log's own escapes still escaped
for name in "$tmp"/sample-* "$tmp"/pitfalls-*; do
	case $name in *.err|*.diff) continue ;; esac
	LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$name") &&
		fail "$(basename "$name"): raw control byte in the output"
done
"$bin" grep --color always -I URGENT "$sample" >"$tmp/color"
grep -q $'\033\\[1;31mURGENT\033\\[0m' "$tmp/color" || fail "--color always: match not marked"
[ "$(sed 's/\x1b\[[0-9;]*m//g' "$tmp/color")" = "$(cat fixtures/grep/sample-sensitive.out)" ] ||
	fail "--color always changes more than the colour"
LC_ALL=C grep -q $'\033\\[1;31mURGENT' <(sed 's/\x1b\[[0-9;]*m//g' "$tmp/color") &&
	fail "--color always: a raw escape from the log"

[ $failures -eq 0 ] || exit 1
echo "grep: all checks passed"
