#!/bin/bash
# `eximexplain grep` against Debian's exigrep (package exim4-base): the same
# pattern and options over the same log must select the same messages.
#
# The log is made from the shared corpus (Exim's own test-suite logs, in
# ../shared from the repo root). exigrep before 4.97 knows only 16-character
# IDs, so every file's IDs are rewritten to classic ones that are unique in
# the whole log (the files already in the classic format included), and the
# files are joined into one log, read by each tool in one run per check.
# Left out, because exigrep is wrong there (exim-tools.md 1.5) and the
# difference is the point of eximexplain: files where "Completed" or "SMTP
# data timeout" stands anywhere but as the completion flag (exigrep ends the
# message early), and lines without a timestamp (exigrep drops continuation
# lines and the harness's "SERVER" separators).
#
# Compared: the set of message IDs at the start of the printed log lines.
# Two known differences are checked as such, not as equality:
#   -v  exigrep prints every message still open at the end, matching or not
#       (its %id_list keeps them with the value 0); so every completed
#       message exigrep selects must be ours too, and ours a subset of its.
#   -M  eximexplain also finds a bounce that completed before its parent
#       matched, and the parent of a matching bounce; exigrep's relations
#       only go forward, so its set must be a subset of ours.
#
# EXIGREP=path overrides the exigrep used (default /usr/sbin/exigrep, else
# one on PATH, e.g. unpacked from the .deb: see bench/README).
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
corpus=${CORPUS:-../shared/corpus/exim-testsuite/log}

exigrep=${EXIGREP:-}
if [ -z "$exigrep" ]; then
	if [ -x /usr/sbin/exigrep ]; then
		exigrep=/usr/sbin/exigrep
	else
		exigrep=$(command -v exigrep 2>/dev/null)
	fi
fi
if [ -z "$exigrep" ] || [ ! -x "$exigrep" ]; then
	echo "SKIP: exigrep not installed (Debian package exim4-base; make deps installs it)"
	exit 77
fi
if ! command -v perl >/dev/null 2>&1; then
	echo "SKIP: perl not installed, exigrep cannot run"
	exit 77
fi
if [ ! -d "$corpus" ]; then
	echo "SKIP: corpus $corpus not found (the shared/ folder beside the repo)"
	exit 77
fi

[ -n "${KEEP:-}" ] && echo "work files kept in $tmp"
checks=0

# ---- the log

ts='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)? ([+-][0-9]{4} )?(\[[0-9]+\] )?'
id16='[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}'
id23='[0-9A-Za-z]{6}-[0-9A-Za-z]{11}-[0-9A-Za-z]{4}'
b62=0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz

# base62 of $1 in 6 characters: the middle part of a classic ID
code() {
	local n=$1 out="" i
	for ((i = 0; i < 6; i++)); do
		out=${b62:$((n % 62)):1}$out
		n=$((n / 62))
	done
	echo "$out"
}

index=0 used=0 skipped=0
: >"$tmp/log"
for file in "$corpus"/*; do
	[ -f "$file" ] || continue
	index=$((index + 1))
	# exigrep's early completion: "Completed" or "SMTP data timeout" on a
	# message's line anywhere but as the flag
	if grep -E "$ts($id16|$id23) " "$file" | grep -E 'Completed|SMTP data timeout' |
		grep -qvE "$ts($id16|$id23) Completed( |$)"; then
		skipped=$((skipped + 1))
		continue
	fi
	# the corpus's IDs are the harness's placeholders (XXXXXX-000000005vi-0000
	# and XXXXXX-0005vi-00, numbered per file): give each file its own middle
	new=$(code $((index * 2)))
	old=$(code $((index * 2 + 1)))
	grep -E "$ts" "$file" |
		sed -E "s/([0-9A-Za-z]{6})-000000005vi-0000/\\1-$new-00/g; s/([0-9A-Za-z]{6})-0005vi-00/\\1-$old-00/g" \
		>>"$tmp/log"
	used=$((used + 1))
done
if grep -qE "$ts$id23 " "$tmp/log"; then
	fail "a 23-character ID survived the rewrite: $(grep -m1 -E "$ts$id23 " "$tmp/log")"
fi
echo "log: $used corpus files ($skipped left out), $(wc -l <"$tmp/log") lines"
[ "$used" -gt 100 ] || fail "too few corpus files usable: $used"

# ---- comparing

# IDs of printed log lines, and of the "+++ ID has not completed +++" blocks
ids() { sed -n -E "s/$ts($id16) .*/\\4/p" "$1" | sort -u; }
open_ids() { sed -n -E "s/^\\+\\+\\+ ($id16) has not completed \\+\\+\\+\$/\\1/p" "$1" | sort -u; }

# check MODE OPTIONS... PATTERN; MODE: same | invert | related
check() {
	local mode=$1
	shift
	checks=$((checks + 1))
	"$exigrep" --no-pager "$@" "$tmp/log" >"$tmp/theirs" 2>"$tmp/theirs.err"
	"$bin" grep "$@" "$tmp/log" >"$tmp/ours" 2>"$tmp/ours.err"
	local status=$?
	ids "$tmp/theirs" >"$tmp/theirs.ids"
	ids "$tmp/ours" >"$tmp/ours.ids"
	local n_theirs n_ours
	n_theirs=$(wc -l <"$tmp/theirs.ids")
	n_ours=$(wc -l <"$tmp/ours.ids")
	if [ -s "$tmp/theirs.err" ]; then
		fail "exigrep $*: $(head -n 3 "$tmp/theirs.err")"
		return
	fi
	if [ "$status" -gt 1 ] || [ -s "$tmp/ours.err" ]; then
		fail "eximexplain grep $*: exit $status: $(head -n 3 "$tmp/ours.err")"
		return
	fi
	case $mode in
	same)
		if ! cmp -s "$tmp/theirs.ids" "$tmp/ours.ids"; then
			fail "grep $*: $n_theirs IDs from exigrep, $n_ours from eximexplain; only exigrep / only eximexplain:"
			comm -3 "$tmp/theirs.ids" "$tmp/ours.ids" | head -n 10
			return
		fi
		;;
	invert)
		# every completed message exigrep selects, we select; everything
		# we select, exigrep prints (it prints all open messages besides)
		open_ids "$tmp/theirs" >"$tmp/theirs.open"
		comm -23 "$tmp/theirs.ids" "$tmp/theirs.open" >"$tmp/theirs.done"
		if [ -n "$(comm -23 "$tmp/theirs.done" "$tmp/ours.ids")" ]; then
			fail "grep $*: completed messages exigrep selected and eximexplain did not:"
			comm -23 "$tmp/theirs.done" "$tmp/ours.ids" | head -n 10
			return
		fi
		if [ -n "$(comm -13 "$tmp/theirs.ids" "$tmp/ours.ids")" ]; then
			fail "grep $*: messages eximexplain selected and exigrep did not:"
			comm -13 "$tmp/theirs.ids" "$tmp/ours.ids" | head -n 10
			return
		fi
		;;
	related)
		if [ -n "$(comm -23 "$tmp/theirs.ids" "$tmp/ours.ids")" ]; then
			fail "grep $*: related messages exigrep found and eximexplain did not:"
			comm -23 "$tmp/theirs.ids" "$tmp/ours.ids" | head -n 10
			return
		fi
		;;
	esac
	[ "$n_theirs" -gt 0 ] || fail "grep $*: exigrep selected nothing; the check proves nothing"
	echo "ok: grep $* ($n_theirs messages from exigrep, $n_ours from eximexplain)"
}

check same userx
check same 'R=[a-z_]*local'
check same -I CALLER
check same -I caller
check same -l '[127.0.0.1]'
check same -l 'H=localhost'
check same 'defer \(-?[0-9d]+\)'
check same '\*\* '
check same rejected
check same '(?-i)Frozen|frozen'
check same 'T=smtp'
check same '^2017-'
check same 'X=TLS'
check invert -v '=>'
check invert -v -I 'test\.ex'
check related -M userx
check related -M 'R=[0-9A-Za-z]{6}-'

[ $failures -eq 0 ] || exit 1
echo "exigrep-compat: all $checks checks passed"
