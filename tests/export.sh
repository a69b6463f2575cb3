#!/bin/bash
# The JSON export as a dashboard pipeline uses it: golden NDJSON and summary
# for the fixtures, every schema field present when the log has it, a
# message across rotated files exported once, pending messages last,
# `report --format json` equal to `export --summary`, usage errors, hostile
# bytes as valid JSON, and the README's Elasticsearch recipe run as written
# (curl replaced by a stub that keeps what it was sent).
#
# Schema validation of every exported object is tests/export-schema.sh.
# To regenerate the goldens after a deliberate change (then read the diff):
#   UPDATE=1 bash tests/export.sh
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
export TZ=UTC LC_ALL=C

sample=fixtures/sample/exim_mainlog
statuses=fixtures/export/statuses.log
schema=data/eximexplain-1.schema.json

golden() { # NAME: compare $tmp/NAME with fixtures/export/NAME
	if [ -n "${UPDATE:-}" ]; then
		cp "$tmp/$1" "fixtures/export/$1"
	elif ! diff -u "fixtures/export/$1" "$tmp/$1" >"$tmp/diff"; then
		fail "export differs from fixtures/export/$1:"
		head -n 20 "$tmp/diff" | cut -c 1-300
	fi
}

# goldens: the sample day, its summary, and the statuses fixture with lines
"$bin" export "$sample" >"$tmp/sample.ndjson" 2>"$tmp/err"
[ $? -eq 1 ] || fail "export of the sample day: exit status, expected 1 (it has failures)"
[ -s "$tmp/err" ] && fail "export wrote to stderr: $(head -n 3 "$tmp/err")"
golden sample.ndjson
"$bin" export --summary "$sample" >"$tmp/sample.summary.json"
golden sample.summary.json
"$bin" export --lines "$statuses" >"$tmp/statuses.ndjson"
golden statuses.ndjson

# report --format json is the same summary
"$bin" report --format json "$sample" >"$tmp/format-json"
cmp -s "$tmp/format-json" "$tmp/sample.summary.json" ||
	fail "report --format json differs from export --summary"
"$bin" --format json "$sample" | cmp -s - "$tmp/sample.summary.json" ||
	fail "--format json in the default mode differs"

# the summary's time range is that of the lines in the --since/--until
# window, whatever they are: the connection lines that open and close the
# sample day included (a sink that wants only their time does not get
# them as lines), those outside the window not; on one thread and two
time_range() { # SINCE UNTIL: first and last timestamp in [SINCE, UNTIL)
	awk -v since="$1" -v until="$2" '
		/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] / {
			t = $1 " " $2
			if (t >= since && t < until) { if (first == "") first = t; last = t }
		}
		END { gsub(" ", "T", first); gsub(" ", "T", last); print first "+00:00 " last "+00:00" }' "$sample"
}
for window in "2024-03-14 00:00:00|2024-03-15 00:00:00" "2024-03-14 00:02:10|2024-03-14 23:04:00" \
	"2024-03-14 06:00:00|2024-03-14 18:00:00" "2024-03-14 12:30:00|2024-03-14 12:45:00"; do
	since=${window%|*} until=${window#*|}
	expected=$(time_range "$since" "$until")
	for threads in 1 2; do
		got=$(EXIMEXPLAIN_THREADS=$threads "$bin" export --summary --since "$since" \
			--until "$until" "$sample" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(s["first_time"], s["last_time"])')
		[ "$got" = "$expected" ] ||
			fail "time range in [$since, $until), $threads thread(s): $got, expected $expected"
	done
done
head -n 1 "$sample" | grep -q 'SMTP connection from' ||
	fail "the sample no longer opens with a connection line: the range test tests less"

# every line is one JSON object, and the records agree with the text report
python3 - "$tmp/sample.ndjson" "$tmp/sample.summary.json" <<'PY' || fail "sample records"
import json, sys
records = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
summary = json.loads(open(sys.argv[2], encoding="utf-8").read())
messages = [r for r in records if r["type"] == "message"]
events = [r for r in records if r["type"] == "event"]
assert all(r["schema"] == "eximexplain/1" for r in records)
states = [m["state"] for m in messages]
first_pending = states.index("pending")
assert all(s == "pending" for s in states[first_pending:]), "pending messages not last"
rejections = [e for e in events if e["kind"].startswith("rejected_")]
assert len(rejections) == summary["totals"]["rejected"], (len(rejections), summary["totals"])
failed = sum(r["status"] == "failed" for m in messages for r in m["recipients"])
assert failed == summary["totals"]["failed"], (failed, summary["totals"]["failed"])
assert len({m["id"] for m in messages}) == len(messages), "a message exported twice"
# bounce links both ways
ids = {m["id"]: m for m in messages}
links = [(m["id"], m["bounce_of"]) for m in messages if m.get("bounce_of") in ids]
assert links, "no bounce in the sample links to its parent"
for child, parent in links:
    assert ids[parent].get("bounced_by") == child, (child, parent)
# every problem recipient is explained, nothing else is
for m in messages:
    for r in m["recipients"]:
        explained = "rule" in r
        assert explained == (r["status"] in ("failed", "deferred", "discarded")), r
assert sum(summary["by_rule"].values()) == summary["problems"]
assert sum(summary["by_owner"].values()) == summary["problems"]
assert sum(h["received"] for h in summary["timeline"]) == summary["totals"]["received"]
PY

# every field of the schema appears in the fixtures' export
{ cat "$tmp/sample.ndjson" "$tmp/sample.summary.json"; "$bin" export --lines "$sample"
  cat "$tmp/statuses.ndjson"; "$bin" export --max-open 1 "$sample" 2>/dev/null; } >"$tmp/all.ndjson"
tests/json-fields "$schema" <"$tmp/all.ndjson" >"$tmp/missing" || {
	fail "schema fields no fixture exports:"; cat "$tmp/missing"; }

# hostile bytes: valid JSON, escaped, U+FFFD for invalid UTF-8
grep -q $'\033' "$tmp/statuses.ndjson" && fail "raw ESC in the export"
grep -qi 'helo\\u001b\[31mred' "$tmp/statuses.ndjson" || fail "ESC in a HELO not escaped as \\u001b"
grep -q $'Bad \xef\xbf\xbd\xef\xbf\xbd subject' "$tmp/statuses.ndjson" ||
	fail "invalid UTF-8 in a subject not replaced by U+FFFD"
grep -q 'admin\\u0000x' "$tmp/statuses.ndjson" || fail "NUL not escaped as \\u0000"
grep -q '"time":"2024-03-14T10:00:00+01:00"' "$tmp/statuses.ndjson" ||
	fail "time not in the log's zone (+0100)"

# a message whose lines span rotated files is one object, with its history
"$bin" export fixtures/rotated/exim_mainlog fixtures/rotated/exim_mainlog.* >"$tmp/rotated"
python3 - "$tmp/rotated" <<'PY' || fail "rotated files"
import json, sys, collections
records = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
count = collections.Counter(r["id"] for r in records if r["type"] == "message")
assert count["1rWvnt-003NYp-2U"] == 1 and count["1rXV3v-003dI5-2n"] == 1, count
assert all(n == 1 for n in count.values()), count
m = next(r for r in records if r.get("id") == "1rWvnt-003NYp-2U")
assert m["state"] == "completed" and m["arrival"]["time"].startswith("2024-02-05"), m
r = m["recipients"][0]
assert r["status"] == "delivered" and r["delay"]["deferrals"] >= 3, r
assert m["queue_time"] > 2 * 86400, m["queue_time"]
PY

# usage errors: exit 2 and a word on what is wrong
"$bin" export --summary --lines "$sample" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q -- '--lines' "$tmp/err" || fail "export --summary --lines accepted"
"$bin" report --format xml "$sample" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--format xml accepted"
"$bin" report --summary "$sample" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--summary accepted outside export"

# a clean log exits 0; an empty input is an empty export
printf '%s\n' '2024-03-01 10:00:00 1rg2Ab-000Abc-Xy <= a@example.com H=mx.example.com [192.0.2.1] P=esmtp S=12' \
	'2024-03-01 10:00:01 1rg2Ab-000Abc-Xy => b@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.7]' \
	'2024-03-01 10:00:01 1rg2Ab-000Abc-Xy Completed' >"$tmp/clean"
"$bin" export "$tmp/clean" >"$tmp/clean.out"
[ $? -eq 0 ] || fail "export of a clean log: exit status"
[ "$(wc -l <"$tmp/clean.out")" -eq 1 ] || fail "clean log: not one object"
"$bin" export </dev/null >"$tmp/empty.out"
[ $? -eq 0 ] && [ ! -s "$tmp/empty.out" ] || fail "empty input: output or status"

# the README's recipe, as written, with curl stubbed and the sample's hour
mkdir -p "$tmp/bin"
cat >"$tmp/bin/curl" <<'STUB'
#!/bin/sh
printf '%s\n' "$@" >"$CURL_ARGS"
cat >"$CURL_BODY"
STUB
chmod +x "$tmp/bin/curl"
recipe=$(sed -n '/^    eximexplain export --since -1h/,/curl /p' README | sed 's/^    //')
[ "$(printf '%s\n' "$recipe" | wc -l)" -eq 3 ] || fail "README recipe not found (3 lines)"
recipe=${recipe/--since -1h/--since \'2024-03-14 22:00\'}
recipe=${recipe//\/var\/log\/exim_mainlog/$sample}
PATH="$tmp/bin:$PATH" CURL_ARGS="$tmp/curl.args" CURL_BODY="$tmp/curl.body" \
	EXIMEXPLAIN_BIN="$bin" bash -c "eximexplain() { \"\$EXIMEXPLAIN_BIN\" \"\$@\"; }; $recipe"
"$bin" export --since '2024-03-14 22:00' "$sample" >"$tmp/recipe.expected"
python3 - "$tmp/curl.body" "$tmp/recipe.expected" <<'PY' || fail "the recipe's bulk body"
import json, sys
body = open(sys.argv[1], encoding="utf-8").read().splitlines()
docs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
assert len(docs) > 3 and len(body) == 2 * len(docs), (len(body), len(docs))
for action, doc, want in zip(body[0::2], body[1::2], docs):
    action, doc = json.loads(action), json.loads(doc)
    assert doc == want
    expected = {"_id": want["id"]} if want["type"] == "message" else {}
    assert action == {"index": expected}, (action, want.get("id"))
PY
grep -qx -- '--data-binary' "$tmp/curl.args" && grep -q '_bulk$' "$tmp/curl.args" ||
	fail "the recipe's curl arguments: $(tr '\n' ' ' <"$tmp/curl.args")"

[ "$failures" -eq 0 ] && echo "export: all checks passed"
[ "$failures" -eq 0 ]
