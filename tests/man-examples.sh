#!/bin/bash
# The manual's EXAMPLES are run, so they cannot rot (jq's man.test): every
# .nf/.fi block of that section is taken from man/eximexplain.1, groff
# escapes undone, and run against the sample day with the system paths
# replaced by the test's own (the table below). A block starting with #!
# is a script, a crontab line loses its schedule, and --send goes to a stub
# sendmail. Each command must exit 0 or 1 (2 is trouble), say nothing on
# stderr, and produce what it promises: output, a sent digest, a state
# file, an unparsed-lines file.
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
export TZ=UTC LC_ALL=C

bin_abs=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
mkdir -p "$tmp/log" "$tmp/rules.d"
# the sample day as tomorrow (exim_mainlog) and as yesterday
# (exim_mainlog.1), so "the last hour", "the last 24 hours" and "yesterday"
# all find problems whatever the time of day
tomorrow=$(date -u -d tomorrow +%F)
yesterday=$(date -u -d yesterday +%F)
sed "s/^2024-03-14/$tomorrow/" fixtures/sample/exim_mainlog >"$tmp/log/exim_mainlog"
sed "s/^2024-03-14/$yesterday/" fixtures/sample/exim_mainlog >"$tmp/log/exim_mainlog.1"
cp tests/unit/data/report.rules "$tmp/rules.d/50-site.rules"
printf '#!/bin/sh\ncat >>"%s/sent"\n' "$tmp" >"$tmp/sendmail"
chmod +x "$tmp/sendmail"

# man text -> shell text, and system paths -> the test's
unescape() {
	sed -e 's/\\-/-/g' -e 's/\\(aq/'"'"'/g' -e 's/\\(dq/"/g' -e 's/\\e/\\/g'
}
localise() {
	sed -e 's#^\*/5 \* \* \* \* ##' \
	    -e "s#/var/log/exim4/mainlog#$tmp/log/exim_mainlog#g" \
	    -e "s#/var/log/exim_mainlog#$tmp/log/exim_mainlog#g" \
	    -e "s#/var/lib/eximexplain#$tmp/lib#g" \
	    -e "s#/etc/eximexplain/rules.d#$tmp/rules.d#g" \
	    -e "s#/var/spool/mail-events.ndjson#$tmp/events.ndjson#g" \
	    -e "s#/tmp/unknown.log#$tmp/unknown.log#g" \
	    -e "s#--send #--send --sendmail $tmp/sendmail #g" \
	    -e "s#^\\(exec \\)\\{0,1\\}eximexplain #\\1$bin_abs #"
}

# the EXAMPLES section's blocks, one file each
awk -v dir="$tmp" '
	/^\.SH / { in_examples = ($2 == "EXAMPLES") }
	in_examples && /^\.nf/ { n++; file = sprintf("%s/example%02d", dir, n); next }
	in_examples && /^\.fi/ { close(file); file = ""; next }
	file != "" { print > file }
' man/eximexplain.1
blocks=$(ls "$tmp"/example?? 2>/dev/null | wc -l)
[ "$blocks" -ge 8 ] || fail "only $blocks example blocks found in man/eximexplain.1"

ran=0
for block in "$tmp"/example??; do
	unescape <"$block" | localise >"$block.sh"
	: >"$tmp/out"
	if head -n 1 "$block.sh" | grep -q '^#!'; then
		sh "$block.sh" >"$tmp/out" 2>"$tmp/err"
		status=$?
	else
		# one command per line; a trailing backslash continues it
		bash -c "set -e; . '$block.sh'" >"$tmp/out" 2>"$tmp/err" </dev/null
		status=$?
	fi
	ran=$((ran + 1))
	shown=$(unescape <"$block" | head -n 1)
	if [ $status -gt 1 ]; then
		fail "example '$shown' exited $status: $(head -n 3 "$tmp/err")"
	elif [ -s "$tmp/err" ]; then
		fail "example '$shown' wrote to stderr: $(head -n 3 "$tmp/err")"
	fi
	case $(unescape <"$block") in
	*--send*|*'>>'*|*--unparsed*) ;; # their output goes elsewhere, checked below
	*) [ -s "$tmp/out" ] || fail "example '$shown' printed nothing" ;;
	esac
done

# the manual names every long option main.c accepts, and every mode
for option in $(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", [a-z_]*_argument.*/\1/p' src/main.c); do
	grep -q -- "\\\\-\\\\-$(printf '%s' "$option" | sed 's/-/\\\\-/g')\\b" man/eximexplain.1 ||
		fail "the manual does not mention --$option"
done
for mode in report grep show export digest stats explain rules; do
	grep -q "^\.B $mode\$" man/eximexplain.1 || fail "the manual has no entry for mode $mode"
done

# what the examples promised beyond stdout
[ -s "$tmp/sent" ] && grep -q '^Subject: \[eximexplain\] .* failed' "$tmp/sent" ||
	fail "the cron digest example sent no digest of the day's failures"
ls "$tmp"/lib/*.state >/dev/null 2>&1 || fail "the --state examples left no state file"
[ -s "$tmp/events.ndjson" ] || fail "the crontab export example shipped nothing"
[ -e "$tmp/unknown.log" ] || fail "the --unparsed example wrote no file"

[ "$failures" -eq 0 ] || exit 1
echo "man-examples: $ran example blocks ran"
