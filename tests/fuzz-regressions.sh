#!/bin/bash
# Replays every kept fuzzing input, tests/fuzz/regressions/TARGET/*,
# through TARGET-replay: the libFuzzer harness tests/fuzz/fuzz_TARGET.c
# linked with tests/fuzz/standalone.c instead of libFuzzer, built beside
# the binary under test (src/tests/fuzz/, build/asan/tests/fuzz/) by
# tests/fuzz/fuzz.mk. Each input once crashed, leaked, hung or tripped a
# sanitizer; under the sanitizer build any report fails the replay. The
# harnesses find the shipped rules as data/rules from the top of the tree.
set -u
# shellcheck source=tests/testlib
. "$(dirname "$0")/testlib"
export TZ=UTC
drivers=$(dirname "$bin")/tests/fuzz
replayed=0
for dir in tests/fuzz/regressions/*/; do
	target=$(basename "$dir")
	inputs=("$dir"*)
	[ -e "${inputs[0]}" ] || continue
	replay=$drivers/$target-replay
	if [ ! -x "$replay" ]; then
		fail "$replay is missing (make test-build builds it)"
		continue
	fi
	for input in "${inputs[@]}"; do
		# a hang is a failure too: the harnesses finish any input in well
		# under a second
		timeout 60 "$replay" "$input" >/dev/null 2>"$tmp/err" ||
			fail "$target: $input: exit status $?: $(tail -n 20 "$tmp/err")"
		replayed=$((replayed + 1))
	done
done
[ "$failures" -eq 0 ] || exit 1
[ "$replayed" -gt 0 ] || { echo "SKIP: no regression inputs kept"; exit 77; }
echo "$replayed inputs replayed"
