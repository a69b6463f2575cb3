#!/bin/bash
# The cron digest as an administrator gets it: the sample day's digest
# against its golden (fixtures/digest/sample.eml, Message-ID's pid masked),
# parsed back with Python's email package (headers, MIME, body decoded),
# every line within 78 columns, the all-clear and --quiet-if-clean, --send
# through a stub sendmail (arguments, exit status), a failing sendmail
# (exit 2, nothing claimed), and header injection from the log and from
# the command line.
#
# To regenerate the golden after a deliberate change (then read the diff):
#   UPDATE=1 bash tests/digest.sh
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
export TZ=UTC LC_ALL=C

sample=fixtures/sample/exim_mainlog
injection=fixtures/digest/injection.log
fixed=(--now '2024-03-15 00:00' --hostname mail.example.com)
mask_pid() { sed -E 's/^(Message-ID: <[0-9]{14}\.)[0-9]+(\.)/\1PID\2/'; }

# the sample day, byte for byte (pid masked)
"$bin" digest "${fixed[@]}" "$sample" >"$tmp/sample.raw" 2>"$tmp/err"
status=$?
[ $status -eq 1 ] || fail "digest of the sample day: exit $status, expected 1"
[ -s "$tmp/err" ] && fail "digest wrote to stderr: $(head -n 3 "$tmp/err")"
mask_pid <"$tmp/sample.raw" >"$tmp/sample.eml"
if [ -n "${UPDATE:-}" ]; then
	cp "$tmp/sample.eml" fixtures/digest/sample.eml
elif ! diff -u fixtures/digest/sample.eml "$tmp/sample.eml" >"$tmp/diff"; then
	fail "digest differs from fixtures/digest/sample.eml:"
	head -n 40 "$tmp/diff"
fi

# a well-formed message: parsed back, headers and body as promised
check_message() { # FILE WANT_SUBJECT_PART [WANT_BODY_PART]
	python3 - "$@" <<'PY'
import email, email.policy, email.utils, sys
raw = open(sys.argv[1], "rb").read()
assert raw, "empty message"
lines = raw.split(b"\n")
assert all(len(l) <= 78 for l in lines), [l for l in lines if len(l) > 78][:2]
assert b"\r" not in raw, "a raw CR in the message"
head, _, _ = raw.partition(b"\n\n")
names = [l.split(b":")[0] for l in head.split(b"\n") if l and not l[:1].isspace()]
assert names == [b"From", b"To", b"Subject", b"Date", b"Message-ID", b"Auto-Submitted",
                 b"MIME-Version", b"Content-Type", b"Content-Transfer-Encoding"], names
msg = email.message_from_bytes(raw, policy=email.policy.default)
assert not msg.defects, msg.defects
assert email.utils.parsedate_to_datetime(msg["Date"]) is not None
assert msg.get_content_type() == "text/plain" and msg.get_content_charset() == "utf-8"
cte = msg["Content-Transfer-Encoding"]
body = msg.get_content()
if cte == "7bit":
    assert all(b < 0x80 for b in raw), "7bit declared, 8-bit bytes sent"
assert sys.argv[2] in str(msg["Subject"]), (sys.argv[2], str(msg["Subject"]))
if len(sys.argv) > 3:
    assert sys.argv[3] in body, (sys.argv[3], body[:300])
PY
}
check_message "$tmp/sample.raw" "mail.example.com 2024-03-14 00:02 .. 2024-03-14 23:04: 17 failed, 17 deferred, 11 discarded, 1 frozen, 14 rejected" \
	"eximexplain show 1rjpe9-005O0F-1Q" || fail "the sample digest as a message"
# problems first, totals last
first=$(grep -n -m1 '^PROBLEMS' "$tmp/sample.raw" | cut -d: -f1)
totals=$(grep -n -m1 '^TOTALS' "$tmp/sample.raw" | cut -d: -f1)
[ -n "$first" ] && [ -n "$totals" ] && [ "$first" -lt "$totals" ] || fail "problems not before totals"

# header injection from the log: CR in a sender, HELO and reply, a subject
# with escape sequences: none of it reaches a header, all of it escaped
"$bin" digest "${fixed[@]}" "$injection" >"$tmp/injection.eml"
[ $? -eq 1 ] || fail "injection log: exit status"
check_message "$tmp/injection.eml" "1 failed" 'evil@example.org\rBcc:' || fail "the injection digest"
grep -q $'\033' "$tmp/injection.eml" && fail "raw ESC in the digest"
grep -qi '^bcc:\|^subject: pwned\|^to: x@y' "$tmp/injection.eml" && fail "a header injected from the log"
grep -q '(evil\\rTo: x@y)' "$tmp/injection.eml" || fail "the HELO with CR not shown escaped"

# ... and from the command line: refused with exit 2, nothing written
"$bin" digest --to $'a@example.com\r\nBcc: b@example.com' "$sample" >"$tmp/out" 2>/dev/null
[ $? -eq 2 ] && [ ! -s "$tmp/out" ] || fail "--to with CR LF accepted"
"$bin" digest --from 'a@example.com, b@example.com' "$sample" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--from with two addresses accepted"
"$bin" digest --hostname $'x\nBcc: y' "$sample" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--hostname with LF accepted"
"$bin" digest --sendmail /bin/true "$sample" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--sendmail without --send accepted"
"$bin" report --send "$sample" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--send accepted outside digest"

# a clean day: a short all-clear, or nothing with --quiet-if-clean
printf '%s\n' '2024-03-14 10:00:00 1rg2Ab-000Abc-Xy <= a@example.com H=mx.example.com [192.0.2.1] P=esmtp S=12' \
	'2024-03-14 10:00:01 1rg2Ab-000Abc-Xy => b@example.net R=dnslookup T=remote_smtp H=mx.example.net [198.51.100.7]' \
	'2024-03-14 10:00:01 1rg2Ab-000Abc-Xy Completed' >"$tmp/clean"
"$bin" digest "${fixed[@]}" "$tmp/clean" >"$tmp/clean.eml"
[ $? -eq 0 ] || fail "clean digest: exit status"
check_message "$tmp/clean.eml" "all clear" "All clear on mail.example.com" || fail "the all-clear digest"
"$bin" digest "${fixed[@]}" --quiet-if-clean "$tmp/clean" >"$tmp/quiet"
[ $? -eq 0 ] && [ ! -s "$tmp/quiet" ] || fail "--quiet-if-clean wrote something"
"$bin" digest "${fixed[@]}" --quiet-if-clean "$sample" | mask_pid | cmp -s - "$tmp/sample.eml" ||
	fail "--quiet-if-clean changed a digest with problems"

# the last 24 hours by default: --now a day after the sample's end: empty
"$bin" digest --now '2024-03-16 12:00' --hostname h "$sample" >"$tmp/late.eml"
[ $? -eq 0 ] && grep -q 'All clear' "$tmp/late.eml" || fail "the default 24-hour window"

# --send: the message on sendmail's stdin, -t -oi, its exit status checked
cat >"$tmp/sendmail" <<'STUB'
#!/bin/sh
printf '%s\n' "$@" >"$STUB_DIR/args"
cat >"$STUB_DIR/message"
exit "${STUB_EXIT:-0}"
STUB
chmod +x "$tmp/sendmail"
STUB_DIR=$tmp "$bin" digest "${fixed[@]}" --send --sendmail "$tmp/sendmail -t -oi" \
	"$sample" >"$tmp/send.out" 2>"$tmp/send.err"
status=$?
[ $status -eq 1 ] || fail "--send: exit $status, expected 1 (problems, sent)"
[ -s "$tmp/send.out" ] && fail "--send also wrote to stdout"
[ "$(tr '\n' ' ' <"$tmp/args")" = "-t -oi " ] || fail "sendmail arguments: $(cat "$tmp/args")"
mask_pid <"$tmp/message" | cmp -s - "$tmp/sample.eml" || fail "what sendmail got differs from the digest"
STUB_DIR=$tmp STUB_EXIT=75 "$bin" digest "${fixed[@]}" --send --sendmail "$tmp/sendmail" \
	"$sample" >/dev/null 2>"$tmp/send.err"
status=$?
[ $status -eq 2 ] || fail "failing sendmail: exit $status, expected 2"
grep -q 'exit status 75' "$tmp/send.err" || fail "failing sendmail not reported: $(cat "$tmp/send.err")"
"$bin" digest "${fixed[@]}" --send --sendmail "$tmp/no-such-sendmail" "$sample" >/dev/null 2>&1
[ $? -eq 2 ] || fail "a missing sendmail: not exit 2"

[ "$failures" -eq 0 ] && echo "digest: all checks passed"
[ "$failures" -eq 0 ]
