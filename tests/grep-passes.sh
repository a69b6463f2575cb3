#!/bin/bash
# grep reads regular files twice (src/prefilter.c): a first pass notes the
# messages with a line that may match, the second lexes only their lines.
# That must never change what grep prints. Each case here runs grep on
# files (two passes) and on the same bytes through FIFOs (which cannot be
# read twice: one pass, every line lexed) and wants the same stdout,
# stderr and exit status, over the fixtures (continuation lines, syslog
# and journald wrappers, NULs, escapes, rotated and gzipped files) and,
# when it is beside the repository, the shared corpus. --verbose tells
# which way each run went, so a case that silently fell back to one pass
# fails instead of passing for the wrong reason. Under make check-valgrind
# (VALGRIND set) four patterns on four logs, and not the corpus: the other
# builds run them all.
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
export TZ=UTC
export LC_ALL=C

cases=0

# compare LABEL FILES -- GREP-ARGS...
compare() {
	local label=$1
	shift
	local files=()
	while [ "$1" != -- ]; do
		files+=("$1")
		shift
	done
	shift
	local fifos=() f i=0
	for f in "${files[@]}"; do
		fifos+=("$tmp/fifo.$i")
		rm -f "$tmp/fifo.$i"
		mkfifo "$tmp/fifo.$i" || exit 2
		i=$((i + 1))
	done
	"$bin" grep --verbose "$@" "${files[@]}" >"$tmp/two.out" 2>"$tmp/two.err"
	local two=$?
	i=0
	for f in "${files[@]}"; do
		cat "$f" >"${fifos[$i]}" &
		i=$((i + 1))
	done
	"$bin" grep --verbose "$@" "${fifos[@]}" >"$tmp/one.out" 2>"$tmp/one.err"
	local one=$?
	wait
	cases=$((cases + 1))
	if ! grep -q '^eximexplain: first pass ([a-z ]*): [0-9]* messages may match$' "$tmp/two.err"; then
		fail "$label: grep $*: the files were not read in two passes: $(head -n 2 "$tmp/two.err")"
		return
	fi
	# a pattern that cannot see where a line ends is searched for in bulk
	local pattern=${@: -1} how='each line tested'
	case "$pattern" in
	*'$'* | *'\'* | *'('*) ;;
	*) how='lines searched in bulk' ;;
	esac
	[ "$1" = -l ] && how='lines searched in bulk'
	grep -q "^eximexplain: first pass ($how)" "$tmp/two.err" ||
		fail "$label: grep $*: not '$how': $(grep 'first pass' "$tmp/two.err")"
	grep -q '^eximexplain: one pass: ' "$tmp/one.err" ||
		fail "$label: grep $*: the FIFOs were not read in one pass"
	[ $two -eq $one ] || fail "$label: grep $*: exit $two in two passes, $one in one"
	if ! cmp -s "$tmp/one.out" "$tmp/two.out"; then
		fail "$label: grep $*: two passes print something else than one:"
		diff -u "$tmp/one.out" "$tmp/two.out" | head -n 20
	fi
	# the diagnostics but for --verbose's own, with the FIFOs' names as the files'
	grep -v '^eximexplain: \(first pass\|second pass\|one pass\|[0-9]* lines\)' \
		"$tmp/two.err" >"$tmp/two.warn"
	grep -v '^eximexplain: \(first pass\|second pass\|one pass\|[0-9]* lines\)' \
		"$tmp/one.err" >"$tmp/one.warn"
	i=0
	for f in "${files[@]}"; do
		sed -i "s|${fifos[$i]}|$f|g" "$tmp/one.warn"
		i=$((i + 1))
	done
	cmp -s "$tmp/one.warn" "$tmp/two.warn" ||
		fail "$label: grep $*: other warnings: $(diff "$tmp/one.warn" "$tmp/two.warn" | head -n 4)"
}

# Patterns that between them hit every kind of line: arrivals, deliveries,
# deferrals, failures, completions, bounces, SMTP-time events, lines of no
# message, continuations; anchored, at a line's end, and matching all.
patterns=(
	'Completed' '=>' '==' '\*\*' '<= <>' 'R=[0-9A-Za-z]{6}-' 'rejected' 'H=' 'defer'
	'frozen' 'retry' 'SMTP connection' 'authenticator' 'a.c' '[0-9]{3} [0-9]\.'
	'^20' 'x$' '.' 'no such text anywhere'
	# searched in bulk: ^ as a line's start, classes and quantifiers
	# that run on over a newline, alternatives, any case
	'^  ' '^[^2]' 'd[^x]*e' 'Completed|frozen' 'S=[0-9]+ ' 'COMPLETED' 'e.{40,}x'
)

fixtures=(
	fixtures/sample/exim_mainlog fixtures/grep/pitfalls.log
	fixtures/lexer/*.log fixtures/hostile/*.log
)
if [ -n "${VALGRIND:-}" ]; then
	# a run under valgrind takes seconds: a few patterns on a few logs
	patterns=('Completed' 'R=[0-9A-Za-z]{6}-' 'SMTP connection' 'x$')
	fixtures=(fixtures/sample/exim_mainlog fixtures/lexer/continuation.log
		fixtures/lexer/syslog.log fixtures/hostile/nul-in-subject.log)
fi
for file in "${fixtures[@]}"; do
	for pattern in "${patterns[@]}"; do
		compare "$(basename "$file")" "$file" -- "$pattern"
	done
done

sample=fixtures/sample/exim_mainlog
compare sample "$sample" -- -I URGENT
compare sample "$sample" -- -l '[203.0.113.45]'
compare sample "$sample" -- -t 3600 bakery
compare sample "$sample" -- -t 60 e
compare sample "$sample" -- --since '2024-03-14 09:50' --until '2024-03-14 10:00' '.'
compare sample "$sample" -- --since '2024-03-14 09:50' --until '2024-03-14 10:00' 'defer'
compare sample "$sample" -- --color always yahoo
# a NUL before the match: kept lines are matched as far as the NUL
compare nul fixtures/hostile/nul-in-subject.log -- 'abc$'
compare nul fixtures/hostile/nul-in-subject.log -- 'abc(?!.)'
compare nul fixtures/hostile/nul-in-subject.log -- 'def"$'

# rotated files, some gzipped, given out of order: a message across files
rotated=(fixtures/rotated/exim_mainlog.2.gz fixtures/rotated/exim_mainlog
	fixtures/rotated/exim_mainlog.3.gz fixtures/rotated/exim_mainlog.1)
for pattern in "${patterns[@]}"; do
	compare rotated "${rotated[@]}" -- "$pattern"
done

# a continuation line at the top of a file belongs to no message (the
# lexer starts afresh), whatever ended the file before: a loose line
printf '%s\n' '2024-03-14 10:00:00 1rkNul-000008-AA <= a@example.com H=[192.0.2.1] P=esmtp S=100' \
	'2024-03-14 10:00:01 1rkNul-000008-AA Completed' >"$tmp/mainlog.1"
printf '%s\n' '  needle in a continuation' \
	'2024-03-14 11:00:00 1rkNum-000009-BB <= b@example.com H=[192.0.2.2] P=esmtp S=100' \
	>"$tmp/mainlog"
compare top-continuation "$tmp/mainlog.1" "$tmp/mainlog" -- needle
grep -q needle "$tmp/two.out" || fail "a continuation at the top of a file: not printed"

# lines longer than the input keeps (256 KiB) are cut and counted, in
# either pass, and a message's cut line is still its own; CRLF endings and
# a last line without a newline are read as the line reader reads them
long=$(head -c 300000 /dev/zero | tr '\0' 'y')
{
	printf '%s\r\n' '2024-03-14 10:00:00 1rkLng-00000A-CC <= long@example.com H=[192.0.2.3] P=esmtp S=100'
	printf '%s\n' "2024-03-14 10:00:01 1rkLng-00000A-CC ** x@example.com: $long needle"
	printf '%s\n' "2024-03-14 10:00:02 SMTP connection from [192.0.2.4] lost $long"
	printf '%s\n' "$long needle"
	printf '%s\n' '2024-03-14 10:00:03 1rkLng-00000A-CC Completed'
	printf '%s' '2024-03-14 10:00:04 SMTP connection from [192.0.2.5] lost needle'
} >"$tmp/long.log"
for pattern in needle yyyy 'lost' 'Completed' '^2'; do
	compare long-lines "$tmp/long.log" -- "$pattern"
done
grep -q 'longer than' "$tmp/two.err" || fail "long lines: no warning of the cut lines"

# what the second pass skips must be skipped: a selective pattern lexes
# far fewer lines than the file has
"$bin" grep --verbose yahoo "$sample" 2>&1 >/dev/null |
	sed -n 's/^eximexplain: second pass: \([0-9]*\) lines .*; \([0-9]*\) of them lexed$/\1 \2/p' \
	>"$tmp/counts"
read -r lines lexed <"$tmp/counts" || fail "no second-pass counts from --verbose"
[ "${lexed:-0}" -gt 0 ] && [ "$((lexed * 4))" -lt "${lines:-0}" ] ||
	fail "a selective pattern lexed ${lexed:-?} of ${lines:-?} lines: the second pass skips nothing"

corpus=../shared/corpus/exim-testsuite/log
if [ -n "${VALGRIND:-}" ]; then
	echo "note: valgrind: four patterns on four logs, and not the corpus"
elif [ -d "$corpus" ]; then
	# every corpus file, one after another, as one log
	cat "$corpus"/* >"$tmp/corpus.log"
	for pattern in "${patterns[@]}" 'userx' 'ok=' 'TLS'; do
		compare corpus "$tmp/corpus.log" -- "$pattern"
	done
else
	echo "note: shared corpus not found at $corpus; fixtures only"
fi

[ $failures -eq 0 ] || exit 1
echo "grep-passes: $cases cases, two passes print what one pass prints"
