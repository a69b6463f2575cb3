/*
 * fuzz: what the libFuzzer harnesses share. Each harness defines
 * LLVMFuzzerTestOneInput; under clang -fsanitize=fuzzer libFuzzer drives
 * it, under any compiler standalone.c replays files through it (the
 * regression inputs in tests/fuzz/regressions/<target>/).
 *
 * A harness must never trust its input, and must never write outside its
 * own temporary files: a check that fails calls fuzz_fail(), which aborts
 * so that both libFuzzer and the regression driver report it.
 */
#ifndef EXIMEXPLAIN_FUZZ_H
#define EXIMEXPLAIN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct explainer;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Print what went wrong on stderr and abort. */
void fuzz_fail(const char *what) __attribute__((noreturn));

/* A file of the harness's own in $TMPDIR (default /tmp), created once per
 * process and removed at exit; data replaces its contents. Returns its
 * name. */
const char *fuzz_temp_file(const uint8_t *data, size_t size);

/* The shipped rules directory: $EXIMEXPLAIN_FUZZ_RULES, else data/rules
 * (the harnesses run from the top of the source tree). */
const char *fuzz_rules_dir(void);

/* /dev/null opened for writing, where the harnesses' output goes. */
FILE *fuzz_null_out(void);

/* The shipped rules alone (no site rules), as the tool loads them; fails
 * when they do not load cleanly. */
struct explainer *fuzz_shipped_explainer(void);

#endif
