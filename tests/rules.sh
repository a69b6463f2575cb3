#!/bin/bash
# The rule table as a user meets it: `rules --check` and `--list`, the
# shipped files all valid, a site rule replacing a shipped one and a new
# one tried first, `explain` and `explain --tsv`, and the seed cases of
# design.md section 5 each explained by a specific rule (never a fallback
# or a generic status/code rule), in the sample day and in explain mode.
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
export TZ=UTC
sample=fixtures/sample/exim_mainlog

# ---- rules --check and --list ----

for f in data/rules/*.rules; do
	"$bin" rules --check "$f" >"$tmp/out" 2>&1 || fail "shipped $f does not check: $(cat "$tmp/out")"
done
"$bin" rules --check data/rules >"$tmp/out" 2>&1 || fail "data/rules as a directory: $(cat "$tmp/out")"

"$bin" rules --check fixtures/rules/bad.rules >"$tmp/out" 2>"$tmp/err"
[ $? -eq 1 ] || fail "rules --check on a bad file: exit status $?, expected 1"
for want in "bad.rules:11: unknown key 'colour'" \
	"bad.rules:18: bad pattern at offset 9: missing closing parenthesis" \
	"bad.rules:26: unknown owner 'the_moon'"; do
	grep -qF "fixtures/rules/$want" "$tmp/err" || fail "rules --check: missing \"$want\" in: $(cat "$tmp/err")"
done
grep -q 'bad.rules: 3 errors' "$tmp/out" || fail "rules --check summary: $(cat "$tmp/out")"
"$bin" rules --check fixtures/rules/no-such-file.rules >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q 'no-such-file.rules: No such file' "$tmp/err" ||
	fail "rules --check on a missing file: $(cat "$tmp/err")"

# the example in the manual is a valid rule file
sed -n '/^\.SH EXAMPLE/,/^\.fi/p' man/eximexplain-rules.5 | sed '1,2d;$d' |
	sed 's/\\-/-/g; s/\\(aq/'"'"'/g' >"$tmp/example.rules"
"$bin" rules --check "$tmp/example.rules" >"$tmp/out" 2>&1 ||
	fail "the example of eximexplain-rules(5) does not check: $(cat "$tmp/out")"
grep -q ': 2 rules, no errors' "$tmp/out" || fail "man example: $(cat "$tmp/out")"

"$bin" rules --list >"$tmp/list" 2>"$tmp/err" || fail "rules --list: exit $?"
[ -s "$tmp/err" ] && fail "rules --list wrote to stderr: $(head -n 3 "$tmp/err")"
shipped=$(cat data/rules/*.rules | grep -c '^rule ')
[ "$(wc -l <"$tmp/list")" -eq "$shipped" ] ||
	fail "rules --list: $(wc -l <"$tmp/list") lines for $shipped shipped rules"
head -n 1 "$tmp/list" | grep -q '^local\.user_filter_devnull  *discarded  *local_config  *[^ ]*data/rules/10-exim.rules:[0-9]*$' ||
	fail "rules --list: first line: $(head -n 1 "$tmp/list")"
tail -n 1 "$tmp/list" | grep -q '^fallback\.any ' || fail "rules --list: last line: $(tail -n 1 "$tmp/list")"

# ---- site rules ----

"$bin" rules --list --rules fixtures/rules/site-override.rules >"$tmp/list2" 2>&1
[ "$(wc -l <"$tmp/list2")" -eq $((shipped + 1)) ] || fail "--rules: the list did not grow by one"
head -n 1 "$tmp/list2" | grep -q '^site\.crm_down ' || fail "--rules: a new site rule is not first"
grep -q '^local\.host_lookup_incomplete .*site-override.rules:' "$tmp/list2" ||
	fail "--rules: the replacement does not stand in the shipped rule's place"
"$bin" show --rules fixtures/rules/site-override.rules 1rkaa6-005pvh-0d "$sample" >"$tmp/show"
grep -q 'delayed: Our resolver at 10.0.0.53 is flaky again. \[local.host_lookup_incomplete, networkerror\]' "$tmp/show" ||
	fail "--rules: the override is not used: $(grep -A1 delayed "$tmp/show")"
"$bin" explain --rules fixtures/rules/site-override.rules --host mx1.crm.example.org \
	'550 5.1.1 no such user' >"$tmp/explain"
grep -q '^rule:        site.crm_down ' "$tmp/explain" || fail "--rules: the new rule is not tried first"
"$bin" --rules fixtures/rules/bad.rules "$sample" >/dev/null 2>"$tmp/err"
grep -q 'bad.rules:11: unknown key' "$tmp/err" && grep -q '3 errors in the rule files' "$tmp/err" ||
	fail "a bad --rules file is not reported: $(cat "$tmp/err")"

# ---- explain ----

"$bin" explain --status 4.7.1 --stage rcpt --host mx.example.net \
	'451 Greylisted, please try again later' >"$tmp/explain" || fail "explain: exit $?"
grep -q '^read as:     deferred, code 451, status 4.7.1, at RCPT TO, host mx.example.net$' "$tmp/explain" ||
	fail "explain: read as: $(head -n 1 "$tmp/explain")"
for label in reason rule owner explanation action; do
	grep -q "^$label: " "$tmp/explain" || fail "explain: no $label line"
done
"$bin" explain --code 999 x >/dev/null 2>&1; [ $? -eq 2 ] || fail "explain --code 999: not a usage error"
"$bin" explain --stage lunch x >/dev/null 2>&1; [ $? -eq 2 ] || fail "explain --stage lunch: not a usage error"
"$bin" explain >/dev/null 2>&1; [ $? -eq 2 ] || fail "explain without TEXT: not a usage error"
"$bin" --tsv x >/dev/null 2>&1; [ $? -eq 2 ] || fail "--tsv outside explain: not a usage error"

# --tsv: one line out per line in, same order; log bytes escaped, no tab
# or newline inside a field
printf '550\t5.1.1\tUser unknown\n\t\tretry timeout exceeded\n421\t\t\033[2Jevil\ttab\r\n' >"$tmp/in"
"$bin" explain --tsv <"$tmp/in" >"$tmp/tsv" || fail "explain --tsv: exit $?"
[ "$(wc -l <"$tmp/tsv")" -eq 3 ] || fail "explain --tsv: $(wc -l <"$tmp/tsv") lines for 3"
awk -F'\t' 'NF != 3 { bad = 1 } END { exit bad }' "$tmp/tsv" || fail "explain --tsv: a line without exactly 3 fields"
sed -n 2p "$tmp/tsv" | grep -q '^expired	local.retry_timeout	' || fail "explain --tsv: line 2: $(sed -n 2p "$tmp/tsv")"
LC_ALL=C grep -q $'\033' "$tmp/tsv" && fail "explain --tsv: a raw ESC in the output"

# ---- the seed cases ----

# a rule that names the case, not the generic layers
specific() {
	case $1 in fallback.* | status.* | code.* | builtin.*) return 1 ;; esac
	return 0
}

# show ID: the rule under "why" or "delayed" must be RULE (or, when RULE
# ends in "*", a specific rule with reason REASON)
seed_message() {
	local id=$1 want=$2 reason=${3:-}
	"$bin" show "$id" "$sample" fixtures/rules/seeds.log >"$tmp/seed" 2>&1
	local got
	got=$(grep -m1 -E '^     (why|delayed): ' "$tmp/seed" | sed -E 's/.*\[([^],]*), ([a-z]*)\]$/\1 \2/')
	case $want in
	'*') specific "${got% *}" && [ "${got#* }" = "$reason" ] ||
		fail "seed $id: got '$got', want a specific rule with reason $reason" ;;
	*) [ "${got% *}" = "$want" ] || fail "seed $id: got '$got', want $want" ;;
	esac
}

seed_message 1rkelC-005s1O-04 local.user_filter_devnull       # R=virtual_user_filter T=**bypassed**
seed_message 1rkdEm-005rFn-0j local.account_filter_devnull    # R=central_filter
seed_message 1rkcIO-005qle-1V local.blackhole_forwarder       # :blackhole:
seed_message 1rkaa6-005pvh-0d local.host_lookup_incomplete    # resolv.conf
seed_message 1rkhrF-005tXx-10 local.no_such_user              # virtual_aliases
seed_message 1rkKOO-005fFa-3D local.mailbox_full              # local quota
seed_message 1rjFDx-004Mbv-1P local.retry_timeout             # and the deferrals before:
"$bin" show 1rjFDx-004Mbv-1P "$sample" | grep -q '^     before: .*\[local.connection_timeout, networkerror\]' ||
	fail "seed retry timeout exceeded: the deferral before it is not explained"
seed_message 1rkhG0-005tG6-1r local.mx_is_local_host          # not a FQDN
seed_message 1rkeKe-005rmz-0i local.spam_discard              # SpamAssassin discard
seed_message 1rkeKa-005rmz-0a local.malware_discard           # malware discard
seed_message 1rkgfM-005sxe-0j '*' greylisted                  # 451 4.7.1 Greylisted
seed_message 1rkir2-005u2q-2x '*' blocked                     # Yahoo TS03, 421
seed_message 1rkn4w-00000005wAD-3oS2 '*' blocked              # Gmail 421 4.7.28 unsolicited rate
seed_message 1rkiOh-005tpt-3A '*' spamdetected                # Gmail 550 5.7.1 likely unsolicited
seed_message 1rkouL-00000005x5T-3215 '*' userunknown          # 553 Addressee unknown
seed_message 1rkoMC-00000005wof-282C '*' notaccept            # 521 does not accept mail
seed_message 1rklyv-00000005vcO-30EE '*' mailboxfull          # 552 5.2.2 over quota

# A discard's reason is in its line after the ID: neither a syslog host
# named spam-gw nor an ID that ends in -Spam makes an ACL discard a spam
# discard (the rule's `\bspam\b` once read the whole line).
cat >"$tmp/discards.log" <<'EOF'
Mar 14 06:12:48 spam-gw exim[4242]: 1rkeKz-005rmz-0b <= a@shop.example.org H=(shop.example.org) [203.0.113.9]:4000 P=esmtp S=900 for b@acme.example.com
Mar 14 06:12:48 spam-gw exim[4242]: 1rkeKz-005rmz-0b => blackhole (DATA ACL discarded recipients): policy
Mar 14 06:12:48 spam-gw exim[4242]: 1rkeKz-005rmz-0b Completed
2024-03-14 06:12:49 1rkeL0-00000005rmz-Spam <= a@shop.example.org H=(shop.example.org) [203.0.113.9]:4001 P=esmtp S=900 for c@acme.example.com
2024-03-14 06:12:49 1rkeL0-00000005rmz-Spam => blackhole (DATA ACL discarded recipients): policy
2024-03-14 06:12:49 1rkeL0-00000005rmz-Spam Completed
EOF
for id in 1rkeKz-005rmz-0b 1rkeL0-00000005rmz-Spam; do
	"$bin" show "$id" "$tmp/discards.log" >"$tmp/discard" 2>&1
	grep -q '^     why: .*\[local.acl_discard, discarded\]$' "$tmp/discard" ||
		fail "discard $id: not local.acl_discard: $(grep -E '(why|delayed): ' "$tmp/discard")"
done

# the SMTP-time seeds, in the report's event section
"$bin" report "$sample" >"$tmp/report" 2>&1
for want in event.auth_failed event.auth_failed_temporary event.relay_denied \
	event.spf_helo event.sender_verify_failed event.dnsbl event.data_malware; do
	grep -q "^$want: " "$tmp/report" || fail "seed event: no group $want in the report"
done

# the remote seeds in their other wordings, through explain
seed_text() {
	local reason=$1
	shift
	local got
	got=$("$bin" explain --tsv <<<"$*")
	local rule=${got#*	}
	rule=${rule%%	*}
	specific "$rule" && [ "${got%%	*}" = "$reason" ] ||
		fail "seed text '$*': got '${got%	*}', want a specific rule with reason $reason"
}
seed_text greylisted $'451\t4.7.1\t451 4.7.1 Greylisting in action, please come back later'
seed_text greylisted $'421\t\t421 Greylisted, try again in 5 minutes'
seed_text greylisted $'450\t4.2.0\t450 4.2.0 <a@example.com>: Recipient address rejected: Greylisted'
seed_text blocked $'421\t4.7.0\t421 4.7.0 [TS03] All messages from 192.0.2.1 will be permanently deferred; Retrying will NOT succeed.'
seed_text blocked $'550\t\t550 Host not allowed: your IP 192.0.2.1 is blacklisted'
seed_text userunknown $'553\t5.3.0\t553 5.3.0 <a@example.com>... Addressee unknown'
seed_text notaccept $'521\t5.3.2\t521 5.3.2 mx.example.com does not accept mail'
seed_text mailboxfull $'552\t5.2.2\t552 5.2.2 The email account that you tried to reach is over quota.'
seed_text expired $'\t\tretry timeout exceeded'

# ---- one case per family, through explain --tsv ----

# CODE<TAB>STATUS<TAB>TEXT -> the rule id must start with PREFIX
family() {
	local prefix=$1 input=$2 got
	got=$("$bin" explain --tsv <<<"$input")
	got=${got#*	}
	got=${got%%	*}
	case $got in "$prefix"*) ;; *) fail "family $prefix: '$input' gave $got" ;; esac
}
family local.retry_timeout $'\t\tretry timeout exceeded'
family local.mx_nonexistent $'\t\tall relevant MX records point to non-existent hosts'
family provider. $'550\t5.7.26\t550-5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users'
family remote.greylisted $'451\t4.7.1\t451 4.7.1 Please try again later (greylisted)'
family status.5.1.1 $'550\t5.1.1\t550 5.1.1 computer says no'
family status.5.any $'550\t5.9.9\t550 5.9.9 computer says no'
family status.4.any $'450\t4.9.9\t450 4.9.9 computer says no'
family code.552 $'552\t\t552 computer says no'
family code.5xx $'599\t\t599 computer says no'
family code.4xx $'499\t\t499 computer says no'
family fallback.failed $'\t\tcomputer says no'
# Exim's router and transport layer, from a log line: no text it knows
printf '%s\n' \
	'2024-03-14 10:00:00 1rkaaa-000001-0A <= a@example.com U=a P=local S=100 for b@example.org' \
	'2024-03-14 10:00:01 1rkaaa-000001-0A ** b@example.org R=dkim_lookuphost: something odd' \
	'2024-03-14 10:00:01 1rkaaa-000001-0A Completed' >"$tmp/router.log"
"$bin" show 1rkaaa-000001-0A "$tmp/router.log" | grep -q '\[local.dns_router_failed, networkerror\]' ||
	fail "family local: an unknown error under R=dkim_lookuphost"

# ---- a catastrophic pattern in a site rule: stopped, reported, not a hang ----

printf 'rule site.slow\n\ttext ^(a|aa)+$\n\treason undefined\n\towner unknown\n\texplanation x.\n\taction y.\n' \
	>"$tmp/slow.rules"
long=$(head -c 3000 /dev/zero | tr '\0' a)
timeout 20 "$bin" explain --rules "$tmp/slow.rules" "${long}!" >"$tmp/slow" 2>"$tmp/slow.err"
status=$?
[ $status -eq 0 ] || fail "catastrophic pattern: exit $status (124: it hung)"
grep -q 'slow.rules:1: rule site.slow: pattern gave up' "$tmp/slow.err" ||
	fail "catastrophic pattern: no warning: $(head -c 300 "$tmp/slow.err")"
grep -q '^rule:        site.slow' "$tmp/slow" && fail "catastrophic pattern: counted as a match"

[ "$failures" -eq 0 ] || exit 1
echo "rules: all checks passed"
