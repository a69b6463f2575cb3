#!/bin/bash
# Corpus test: every line of ../shared/corpus/exim-testsuite through
# `eximexplain stats --unparsed`, then (when built) the grammar/lexer
# differential test on the same files.
#
# Asserts
#  (a) every physical line got a kind: the stats counts add up to the line
#      count, and the kinds other than continuation and blank add up to the
#      timestamped lines;
#  (b) the `unknown` lines that are not test-configuration text (the
#      families listed in tests/corpus/testsuite-logwrite.re) are at most
#      0.5% of the timestamped lines; they are listed when they are more;
#  (c) and prints the figures either way.
# Then runs $GRAMMAR_DIFF grammar/mainlog.kinds on the corpus if that
# variable is set (the Makefile sets it); a disagreement fails the test.
#
# Exit 0 pass, 1 fail, 77 skip (the shared corpus is not beside the repo:
# a plain clone does not have it).
set -u
export LC_ALL=C # bytes, not characters: the corpus is not all UTF-8

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
corpus="$here/../../shared/corpus/exim-testsuite"
if [ ! -d "$corpus/log" ]; then
	echo "SKIP: shared corpus not found at $corpus"
	exit 77
fi
corpus=$(cd "$corpus" && pwd)
cd "$repo" || exit 1

eximexplain=${EXIMEXPLAIN:-src/eximexplain}
logwrite_list=tests/corpus/testsuite-logwrite.re
if [ ! -x "$eximexplain" ]; then
	echo "FAIL: $eximexplain is not built"
	exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

files=("$corpus"/log/* "$corpus"/rejectlog/* "$corpus"/paniclog/*)

# The prefix of an Exim log line (exim-log-format.md s2), for grep -E / sed -E.
stamp='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?( [+-][0-9]{4})?'
msgid='[0-9A-Za-z]{6}-([0-9A-Za-z]{11}-[0-9A-Za-z]{4}|[0-9A-Za-z]{6}-[0-9A-Za-z]{2})'

if ! "$eximexplain" stats --unparsed "$tmp/unparsed" "${files[@]}" >"$tmp/stats" \
	2>"$tmp/stderr"; then
	echo "FAIL: $eximexplain stats exited with an error:"
	cat "$tmp/stderr"
	exit 1
fi

# awk counts a last line without a newline too, as the reader does.
lines=$(awk 'END { print NR }' "${files[@]}")
timestamped=$(cat "${files[@]}" | grep -aEc "^$stamp( |\$)")
counted=$(awk '{ n += $2 } END { print n + 0 }' "$tmp/stats")
entries=$(awk '$1 != "continuation" && $1 != "blank" { n += $2 } END { print n + 0 }' "$tmp/stats")
unknown=$(awk '$1 == "unknown" { print $2 }' "$tmp/stats")
unknown=${unknown:-0}
unparsed=$(awk 'END { print NR }' "$tmp/unparsed")

status=0

# (a) every line classified
if [ "$counted" -ne "$lines" ]; then
	echo "FAIL: stats counted $counted lines, the corpus has $lines"
	status=1
fi
if [ "$entries" -ne "$timestamped" ]; then
	echo "FAIL: stats gave a kind to $entries timestamped entries," \
		"the corpus has $timestamped timestamped lines"
	status=1
fi
if [ "$unparsed" -ne "$unknown" ]; then
	echo "FAIL: --unparsed wrote $unparsed lines, stats counted $unknown unknown"
	status=1
fi

# (b) split the unknown lines: test-config text vs Exim output we miss.
# The list's patterns apply to the body, so the prefix is cut off first;
# they are joined into one alternation (grep -P takes a single pattern).
pattern=$(grep -v -e '^#' -e '^$' "$logwrite_list" | sed 's/.*/(?:&)/' | paste -sd '|')
sed -E "s/^$stamp (\[[0-9]+\] )?($msgid( |\$))?//" "$tmp/unparsed" >"$tmp/bodies"
explained=$(grep -acP -- "$pattern" "$tmp/bodies")
# the full lines whose body no family explains, by line number
grep -anvP -- "$pattern" "$tmp/bodies" | cut -d: -f1 >"$tmp/unexplained.idx"
awk 'NR == FNR { want[$1] = 1; next } want[FNR]' \
	"$tmp/unexplained.idx" "$tmp/unparsed" >"$tmp/unexplained"
unexplained=$(awk 'END { print NR }' "$tmp/unexplained")
limit=$(awk -v t="$timestamped" 'BEGIN { printf "%d", t * 0.005 }')
percent=$(awk -v u="$unexplained" -v t="$timestamped" \
	'BEGIN { printf "%.3f", t ? 100 * u / t : 0 }')

# (c) the figures
echo "corpus: ${#files[@]} files, $lines lines, $timestamped timestamped"
echo "unknown: $unknown lines; $explained are test-config text ($logwrite_list)"
echo "unexplained unknown: $unexplained lines = $percent% of timestamped (limit 0.5% = $limit)"

if [ "$unexplained" -gt "$limit" ]; then
	echo "FAIL: too many unknown lines that are not test-config text:"
	cat "$tmp/unexplained"
	status=1
elif [ "$unexplained" -gt 0 ]; then
	echo "unexplained unknown lines (within the limit):"
	sed 's/^/  /' "$tmp/unexplained"
fi

# The differential test: the lexer against grammar/mainlog.kinds.
if [ -n "${GRAMMAR_DIFF:-}" ]; then
	if [ ! -x "$GRAMMAR_DIFF" ]; then
		echo "FAIL: GRAMMAR_DIFF=$GRAMMAR_DIFF is not an executable"
		status=1
	elif ! "$GRAMMAR_DIFF" grammar/mainlog.kinds "${files[@]}" >"$tmp/diff" 2>&1; then
		echo "FAIL: the lexer and grammar/mainlog.kinds disagree:"
		sed 's|^'"$corpus"'/||' "$tmp/diff"
		status=1
	else
		tail -n 2 "$tmp/diff"
	fi
else
	echo "grammar_diff: not run (GRAMMAR_DIFF is not set)"
fi

exit $status
