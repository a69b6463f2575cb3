#!/bin/bash
# The modes built on the transaction table read and lex on a second thread
# (src/linepipe.c) unless EXIMEXPLAIN_THREADS=1, and grep and stats have
# a helper thread map in the pages of a file's windows ahead of the
# reader (input.h, input_populate_ahead). That must never change a
# byte: report, export, digest, show, stats, grep in two passes (its
# second pass's skim and gate on that thread) and in one (standard input,
# which cannot be read twice) print the same stdout, stderr and exit
# status both ways, over the fixtures, the rotated files in a row, a file
# of lines longer than the line cap (some 15 MB: several windows) and,
# when it is beside the repository, the shared corpus. Under make
# check-valgrind (VALGRIND set) the fixtures only.
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
export TZ=UTC
export LC_ALL=C

cases=0

# same LABEL ARGS...: one run each way, compared (a digest's Date and
# Message-ID, which name the time and process, set aside)
same() {
	local label=$1
	shift
	"$bin" "$@" 2>"$tmp/two.err" </dev/null | grep -v '^\(Date\|Message-ID\): ' >"$tmp/two.out"
	local two=${PIPESTATUS[0]}
	EXIMEXPLAIN_THREADS=1 "$bin" "$@" 2>"$tmp/one.err" </dev/null |
		grep -v '^\(Date\|Message-ID\): ' >"$tmp/one.out"
	local one=${PIPESTATUS[0]}
	cases=$((cases + 1))
	[ $two -eq $one ] || fail "$label: $*: exit $two with two threads, $one with one"
	cmp -s "$tmp/one.out" "$tmp/two.out" ||
		fail "$label: $*: the output differs: $(diff "$tmp/one.out" "$tmp/two.out" | head -n 6)"
	cmp -s "$tmp/one.err" "$tmp/two.err" ||
		fail "$label: $*: the diagnostics differ: $(diff "$tmp/one.err" "$tmp/two.err" | head -n 6)"
}

# same_stdin LABEL FILE ARGS...: the same with FILE on standard input
same_stdin() {
	local label=$1 file=$2
	shift 2
	"$bin" "$@" <"$file" >"$tmp/two.out" 2>"$tmp/two.err"
	local two=$?
	EXIMEXPLAIN_THREADS=1 "$bin" "$@" <"$file" >"$tmp/one.out" 2>"$tmp/one.err"
	local one=$?
	cases=$((cases + 1))
	[ $two -eq $one ] || fail "$label: $* <$file: exit $two with two threads, $one with one"
	cmp -s "$tmp/one.out" "$tmp/two.out" && cmp -s "$tmp/one.err" "$tmp/two.err" ||
		fail "$label: $* <$file: the output differs: $(diff "$tmp/one.out" "$tmp/two.out" | head -n 6)"
}

files=(fixtures/sample/exim_mainlog fixtures/grep/pitfalls.log fixtures/lexer/*.log
	fixtures/hostile/*.log)
rotated=(fixtures/rotated/exim_mainlog.2.gz fixtures/rotated/exim_mainlog
	fixtures/rotated/exim_mainlog.3.gz fixtures/rotated/exim_mainlog.1)

# lines over the cap (truncated, and told) among ordinary ones
{
	for i in $(seq 1 300); do
		printf '2024-03-14 10:%02d:00 1rkL%03d-000001-AA <= a@example.com H=[192.0.2.1] P=esmtp S=100\n' \
			$((i % 60)) "$i"
		printf '2024-03-14 10:%02d:01 1rkL%03d-000001-AA ** b@example.net: ' $((i % 60)) "$i"
		head -c $(((i % 7 == 0) ? 300000 : i * 37)) /dev/zero | tr '\0' x
		printf '\n2024-03-14 10:%02d:02 1rkL%03d-000001-AA Completed\n' $((i % 60)) "$i"
	done
} >"$tmp/long.log"
files+=("$tmp/long.log")


for file in "${files[@]}"; do
	label=$(basename "$file")
	same "$label" report "$file"
	same "$label" export "$file"
	same "$label" grep e "$file" # two passes: the second's taken lines through the pipe
	if [ -z "${VALGRIND:-}" ]; then
		same "$label" export --summary "$file"
		same "$label" stats "$file"
		same "$label" grep -l Completed "$file"
		same "$label" grep '^20.*(defer|rejected)' "$file"
		same_stdin "$label" "$file" grep -M e
	fi
done
# one pass lexes every line, on either thread, also the lines the report
# wants only the time of and that never reach its thread
sample=fixtures/sample/exim_mainlog
lines=$(wc -l <"$sample")
for threads in 1 2; do
	EXIMEXPLAIN_THREADS=$threads "$bin" report --verbose "$sample" 2>&1 >/dev/null |
		grep -q "^eximexplain: $lines lines .*; $lines of them lexed\$" ||
		fail "report --verbose, $threads thread(s): not every one of $lines lines lexed"
done
same rotated report "${rotated[@]}"
same rotated export "${rotated[@]}"
same rotated digest --from root@example.com --to admin@example.com "${rotated[@]}"
same rotated show 1rkbak-0004ZR-Qq "${rotated[@]}"
same rotated grep -M bakery "${rotated[@]}"
same rotated grep '<= <>' "${rotated[@]}"
same_stdin rotated fixtures/rotated/exim_mainlog grep -v Completed

# the shared corpus, every file in one run (ordered by time, the lexer
# reset between files)
corpus=../shared/corpus/exim-testsuite/log
if [ -n "${VALGRIND:-}" ]; then
	:
elif [ -d "$corpus" ]; then
	same corpus report "$corpus"/*
	same corpus export --lines "$corpus"/*
else
	echo "threads: $corpus not found; the corpus is not compared"
fi

[ "$cases" -gt 20 ] || fail "only $cases cases compared"
echo "threads: $cases runs compared with one thread and with two, $failures differ"
[ "$failures" -eq 0 ]
