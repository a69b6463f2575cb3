#!/bin/bash
# `make install` into a staging root puts the binary, the rules, the JSON
# schema and both manual pages where PREFIX says, and the installed pages
# render without a single groff warning (what `man -l` shows).
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"

command -v make >/dev/null || { echo "SKIP: make is not installed"; exit 77; }
root=$tmp/root
make -s install DESTDIR="$root" PREFIX=/usr >"$tmp/out" 2>&1 ||
	{ cat "$tmp/out"; fail "make install failed"; exit 1; }

for f in usr/bin/eximexplain usr/share/eximexplain/eximexplain-1.schema.json \
	usr/share/man/man1/eximexplain.1 usr/share/man/man5/eximexplain-rules.5; do
	[ -s "$root/$f" ] || fail "make install did not install $f"
done
[ -x "$root/usr/bin/eximexplain" ] || fail "the installed binary is not executable"
shipped=$(ls data/rules/*.rules | wc -l)
installed=$(ls "$root"/usr/share/eximexplain/rules/*.rules 2>/dev/null | wc -l)
[ "$installed" -eq "$shipped" ] || fail "$installed of $shipped rule files installed"
"$root/usr/bin/eximexplain" --version | grep -q '^eximexplain ' ||
	fail "the installed binary does not run"

if command -v groff >/dev/null; then
	for page in "$root"/usr/share/man/man1/eximexplain.1 \
		"$root"/usr/share/man/man5/eximexplain-rules.5; do
		warnings=$(groff -ww -man -Tutf8 -z "$page" 2>&1)
		[ -z "$warnings" ] || fail "groff warns about $(basename "$page"): $warnings"
	done
else
	echo "note: groff is not installed; the pages were not rendered"
fi

[ "$failures" -eq 0 ] || exit 1
echo "install: all passed"
