#!/bin/bash
# Every object `eximexplain export` writes validates against the shipped
# JSON Schema (data/eximexplain-1.schema.json), checked by a real validator
# (python3-jsonschema, Draft 2020-12; `make deps` installs it): the export
# and the summary of every fixture log, then of every file of the Exim
# test-suite corpus, one run per file (each is its own little server;
# under make check-valgrind, VALGRIND set, every 25th file).
#
# Exit 77 (skip) when python3-jsonschema is missing; the corpus part is
# skipped, saying so, when ../shared is not beside the repository.
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
export TZ=UTC

schema=data/eximexplain-1.schema.json
if ! python3 -c 'import jsonschema' 2>/dev/null; then
	echo "SKIP: python3-jsonschema is not installed (make deps installs it)"
	exit 77
fi

export_all() { # FILE...: per-message export with lines, then the summary
	"$bin" export --lines "$@" 2>>"$tmp/stderr"
	"$bin" export --summary "$@" 2>>"$tmp/stderr"
}

: >"$tmp/fixtures.ndjson"
for log in fixtures/sample/exim_mainlog fixtures/export/*.log fixtures/grep/*.log \
	fixtures/lexer/*.log fixtures/rules/*.log; do
	export_all "$log" >>"$tmp/fixtures.ndjson"
done
export_all fixtures/rotated/* >>"$tmp/fixtures.ndjson"
tests/json-validate "$schema" "$tmp/fixtures.ndjson" >"$tmp/result" ||
	{ fail "fixture export does not validate:"; head -n 20 "$tmp/result"; }
tail -n 1 "$tmp/result" | sed 's/^/fixtures: /'

corpus=../shared/corpus/exim-testsuite/log
if [ -d "$corpus" ]; then
	: >"$tmp/corpus.ndjson"
	# under valgrind (make check-valgrind) a run costs a second or two:
	# every 25th file, about 40, instead of all 1,049
	step=1
	[ -n "${VALGRIND:-}" ] && step=25
	files=0 seen=0
	for log in "$corpus"/*; do
		seen=$((seen + 1))
		[ $(((seen - 1) % step)) -eq 0 ] || continue
		export_all "$log" >>"$tmp/corpus.ndjson"
		files=$((files + 1))
	done
	tests/json-validate "$schema" "$tmp/corpus.ndjson" >"$tmp/result" ||
		{ fail "corpus export does not validate:"; head -n 20 "$tmp/result"; }
	echo "corpus: $files files, $(tail -n 1 "$tmp/result")"
else
	echo "corpus part skipped: ../shared/corpus not found beside the repository"
fi

[ "$failures" -eq 0 ] && echo "export-schema: all checks passed"
[ "$failures" -eq 0 ]
