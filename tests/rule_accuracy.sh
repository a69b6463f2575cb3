#!/bin/bash
# Rule accuracy: feeds the labelled remote error texts of
# ../shared/corpus/bounce-reasons/dev.tsv through `explain --tsv` and
# prints how often our reason agrees with Sisimai's, and the confusions.
# Pairs Sisimai has since merged count as one (mesgtoobig = exceedlimit,
# toomanyconn = speeding); rows it could not decide (onhold, undefined)
# are skipped. Fails below the target: ACCURACY_TARGET percent (90).
# Run alone: bash tests/rule_accuracy.sh  (VERBOSE=1 lists every miss)
. "$(dirname "$0")/testlib"
corpus=${SHARED:-../shared}/corpus/bounce-reasons/dev.tsv
if [ ! -r "$corpus" ]; then
	echo "SKIP: $corpus is absent (the shared corpus sits beside the clone in CI)"
	exit 77
fi
target=${ACCURACY_TARGET:-90}

# id code status reason text -> the rows to score, and explain's input
awk -F'\t' 'NR > 1 && $4 != "onhold" && $4 != "undefined"' "$corpus" >"$tmp/rows"
cut -f2,3,5- "$tmp/rows" >"$tmp/input"
"$bin" explain --tsv <"$tmp/input" >"$tmp/output" || { echo "FAIL: explain --tsv exited $?"; exit 1; }
[ "$(wc -l <"$tmp/rows")" -eq "$(wc -l <"$tmp/output")" ] ||
	{ echo "FAIL: explain --tsv gave $(wc -l <"$tmp/output") lines for $(wc -l <"$tmp/rows")"; exit 1; }

paste "$tmp/rows" "$tmp/output" | awk -F'\t' -v target="$target" -v verbose="${VERBOSE:-}" '
function merged(r) {
	if (r == "exceedlimit") return "mesgtoobig"
	if (r == "speeding") return "toomanyconn"
	return r
}
{
	want = merged($4); got = merged($6); rule = $7
	total++
	if (want == got) { agree++; next }
	confusion[want " -> " got]++
	if (rule ~ /^(status|code|fallback|builtin)\./) generic++
	if (verbose) printf "MISS %s want=%s got=%s rule=%s: %s\n", $1, want, got, rule, substr($5, 1, 160)
}
END {
	pct = total ? 100 * agree / total : 0
	printf "rule accuracy: %d of %d rows agree with Sisimai: %.1f%% (target %d%%)\n", agree, total, pct, target
	printf "misses answered only by a generic status/code rule: %d\n", generic
	for (c in confusion) printf "  %3d  %s\n", confusion[c], c | "sort -rn"
	close("sort -rn")
	exit pct >= target ? 0 : 1
}'
