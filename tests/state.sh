#!/bin/bash
# --state as cron uses it: the sample day is written to a log in slices,
# with runs in between, while the log is rotated the ways logrotate does
# it (rename then gzip, dateext, copytruncate, a line caught half-written).
# After each scenario the runs' exports together must equal one export of
# the whole day: every completed message and event exactly once and
# byte-identical (delays that span runs included), and the last run's
# pending messages (the last object exported for each ID) the same as the
# single run's. Then the digest: a failed
# sendmail leaves the state byte for byte as it was and the next run sends
# the same lines; a second run with nothing new is all clear; the first
# run covers the last 24 hours and later runs everything new; a corrupt
# state is a warned first run; stdin, --until and an unreadable state are
# refused.
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
export TZ=UTC LC_ALL=C

day=fixtures/sample/exim_mainlog
total=$(wc -l <"$day")
slice() { sed -n "$1,$2p" "$day"; } # FIRST LAST

# Runs export --state over mainlog in $dir, appending to $dir/runs.
export_run() { # DIR
	"$bin" export --state "$1/state" "$1/mainlog" >>"$1/runs" 2>>"$1/err"
	local status=$?
	[ $status -le 1 ] || fail "$1: export --state exited $status: $(tail -n 2 "$1/err")"
	echo "--" >>"$1/runs"
}

# The runs, taken together, against one export of lines 1..LAST.
same_as_one_run() { # DIR LAST
	slice 1 "$2" >"$1/whole"
	"$bin" export "$1/whole" >"$1/one" 2>/dev/null
	python3 - "$1/runs" "$1/one" <<'PY' || fail "$1: the runs differ from one run over the same lines"
import collections, json, sys
runs = open(sys.argv[1]).read().split("--\n")[:-1]
one = [json.loads(l) for l in open(sys.argv[2])]
def done(objs): return collections.Counter(json.dumps(o, sort_keys=True) for o in objs if o.get("state") != "pending")
def pending(objs): return sorted(json.dumps(o, sort_keys=True) for o in objs if o.get("state") == "pending")
seen = collections.Counter()
for run in runs:
    seen += done(json.loads(l) for l in run.splitlines())
want = done(one)
ok = True
for k, n in (seen - want).items(): print("extra or repeated (%d):" % n, k[:200]); ok = False
for k, n in (want - seen).items(): print("missing (%d):" % n, k[:200]); ok = False
# a message still queued is exported again only when something happened
# to it, so what a dashboard holds last for each ID is what counts
latest = {}
for run in runs:
    for o in (json.loads(l) for l in run.splitlines()):
        if o.get("type", "message") == "message": latest[o["id"]] = o
held = [o for o in latest.values() if o["state"] == "pending"]
if pending(held) != pending(one): print("pending at the end differs"); ok = False
if not want: print("nothing completed: the test proves nothing"); ok = False
sys.exit(0 if ok else 1)
PY
}

# 1. logrotate: rename, later gzip (delaycompress), lines logged between
#    the last run and the rotation, and dateext.
d=$tmp/rotate; mkdir "$d"
slice 1 150 >"$d/mainlog"; export_run "$d"
slice 151 250 >>"$d/mainlog"                        # logged after the run
mv "$d/mainlog" "$d/mainlog.1"; slice 251 330 >"$d/mainlog"
export_run "$d"                                     # finishes .1, then the new file
slice 331 360 >>"$d/mainlog"
gzip "$d/mainlog.1"; mv "$d/mainlog" "$d/mainlog.1"; slice 361 420 >"$d/mainlog"
export_run "$d"                                     # old one now mainlog.1, still plain
slice 421 480 >>"$d/mainlog"
mv "$d/mainlog" "$d/mainlog-20240314"; gzip "$d/mainlog-20240314"
slice 481 "$total" >"$d/mainlog"
export_run "$d"                                     # dateext, compressed at once
export_run "$d"                                     # nothing new
same_as_one_run "$d" "$total"
[ -s "$d/err" ] && fail "rotate: warnings: $(head -n 3 "$d/err")"
grep -q '^carry ' "$d/state" || fail "rotate: no open message was carried over"

# 2. copytruncate: the log copied to .1 and emptied in place.
d=$tmp/copytruncate; mkdir "$d"
slice 1 200 >"$d/mainlog"; export_run "$d"
slice 201 260 >>"$d/mainlog"
cp "$d/mainlog" "$d/mainlog.1"; : >"$d/mainlog"; slice 261 400 >>"$d/mainlog"
export_run "$d"
slice 401 "$total" >>"$d/mainlog"; export_run "$d"
same_as_one_run "$d" "$total"

# 3. a line caught half-written is read whole, once, by the next run
d=$tmp/partial; mkdir "$d"
slice 1 299 >"$d/mainlog"; line=$(slice 300 300)
printf '%s' "${line:0:30}" >>"$d/mainlog"; export_run "$d"
printf '%s\n' "${line:30}" >>"$d/mainlog"; slice 301 350 >>"$d/mainlog"; export_run "$d"
same_as_one_run "$d" 350

# 4. the digest: a failed send changes nothing; the retry sends those lines
d=$tmp/digest; mkdir "$d"
fixed=(--now '2024-03-15 00:00' --hostname mail.example.com)
printf '#!/bin/sh\ncat >"%s/sent"\n' "$d" >"$d/sendmail-ok"
printf '#!/bin/sh\ncat >/dev/null\nexit 75\n' >"$d/sendmail-down"
chmod +x "$d/sendmail-ok" "$d/sendmail-down"
slice 1 300 >"$d/mainlog"
"$bin" digest "${fixed[@]}" --state "$d/state" --send --sendmail "$d/sendmail-ok" \
	"$d/mainlog" 2>"$d/err" || [ $? -eq 1 ] || fail "digest 1: $(cat "$d/err")"
cp "$d/state" "$d/state.before"
slice 301 "$total" >>"$d/mainlog"
"$bin" digest "${fixed[@]}" --state "$d/state" --send --sendmail "$d/sendmail-down" \
	"$d/mainlog" 2>"$d/err"
status=$?
[ $status -eq 2 ] || fail "digest with a failing sendmail: exit $status, expected 2"
cmp -s "$d/state" "$d/state.before" || fail "a failed send changed the state"
grep -q 'left as it was' "$d/err" || fail "a failed send does not say the state was kept"
ls "$d"/state.* | grep -v 'state.before$' && fail "a temporary state file was left behind"
"$bin" digest "${fixed[@]}" --state "$d/state" --send --sendmail "$d/sendmail-ok" \
	"$d/mainlog" 2>"$d/err"
status=$?
[ $status -eq 1 ] || fail "digest retry: exit $status, expected 1 (failures in the lines)"
cmp -s "$d/state" "$d/state.before" && fail "a successful send did not move the state"
# the retry covered exactly lines 301.. : the digest of those lines alone
# (with the carried messages' earlier lines) reports the same counts
subject=$(grep -m1 '^Subject:' "$d/sent")
case $subject in
*'2024-03-14 '*' .. 2024-03-14 23:'*) ;;
*) fail "retry digest's period is not the new lines': $subject" ;;
esac
"$bin" digest "${fixed[@]}" --state "$d/state" --quiet-if-clean "$d/mainlog" >"$d/again" 2>"$d/err"
status=$?
[ $status -eq 0 ] || fail "digest with nothing new: exit $status, expected 0"
[ -s "$d/again" ] && fail "digest with nothing new and --quiet-if-clean wrote something"

# 5. the first run honours the last 24 hours (before --now); later runs
#    cover every new line however old its time
d=$tmp/first; mkdir "$d"
slice 1 "$total" >"$d/mainlog"
"$bin" digest --now '2024-03-16 12:00' --hostname h --state "$d/state" "$d/mainlog" \
	>"$d/first" 2>"$d/err"
grep -q '^Subject: .*all clear' "$d/first" || fail "first run read lines older than 24 hours"
"$bin" digest --now '2024-03-16 12:00' --hostname h --since 2024-03-14 --state "$d/state2" \
	"$d/mainlog" >"$d/since" 2>"$d/err"
grep -q '^Subject: .*failed' "$d/since" || fail "first run ignored --since"

# 6. a corrupt state: warned, a first run, then a good state again
d=$tmp/corrupt; mkdir "$d"
slice 1 100 >"$d/mainlog"
printf 'eximexplain-state 1\nfile 1 2 three\n' >"$d/state"
"$bin" export --state "$d/state" "$d/mainlog" >"$d/out" 2>"$d/err"
grep -q 'state' "$d/err" || fail "a corrupt state is not warned about"
head -n 1 "$d/state" | grep -qx 'eximexplain-state 1' || fail "the corrupt state was not replaced"
"$bin" export "$d/mainlog" 2>/dev/null | cmp -s - "$d/out" || fail "a corrupt state is not a first run"

# 7. refused: stdin, --until, a state that cannot be read, --state elsewhere
"$bin" export --state "$tmp/s" - <"$day" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--state with stdin was not refused"
"$bin" export --state "$tmp/s" --until today "$day" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--state with --until was not refused"
"$bin" export --state "$tmp" "$day" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] || fail "a state path that is a directory was not refused"
grep -q "$tmp" "$tmp/err" || fail "the unreadable state is not named"
"$bin" report --state "$tmp/s" "$day" >/dev/null 2>&1
[ $? -eq 2 ] || fail "report accepted --state"
"$bin" export --state "$tmp/s" "$day" "$day" >/dev/null 2>&1
[ $? -eq 2 ] || fail "a file given twice with --state was not refused"

[ "$failures" -eq 0 ] || exit 1
echo "state: all passed"
