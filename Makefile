# eximexplain top-level Makefile.
#
#   make            build src/eximexplain (runs ./configure first if needed)
#   make check      everything, each part also a target of its own:
#     check-plain        unit, golden, corpus and hostile-input tests
#     check-sanitize     the same suite built with ASan + UBSan
#     check-integration  a real Exim on loopback (root; SKIP without
#                        exim4-daemon-light, swaks or ip netns)
#     check-valgrind     the suite once more, every binary under valgrind
#     lint               cppcheck and clang-tidy on src/ (lint.mk)
#   make fuzz       the libFuzzer harnesses, FUZZ_SECONDS each (tests/fuzz/fuzz.mk)
#   make install    PREFIX=/usr/local DESTDIR= : binary, rules data, man pages
#   make deps       install the Debian build dependencies that are missing
#   make bench      run the benchmark (bench/run)
#
# Objects of the normal build live beside the sources in src/; the
# sanitizer build lives in build/asan (O=build/asan). Nothing else differs.

# exim4-base brings exigrep and eximstats, which the compatibility test and
# the benchmark run beside eximexplain; python3-jsonschema is the validator
# the JSON export is checked with; groff-base renders the manual pages to
# check them for warnings. exim4-daemon-light, swaks and iproute2 are the
# integration test's (tests/integration/run): a private Exim it drives
# inside a network namespace. The package's own exim4 service is left
# alone; the test never uses it. valgrind, cppcheck and clang-tidy are
# check-valgrind's and lint's.
DEB_BUILD_DEPS = gcc libc6-dev make autoconf pkg-config libpcre2-dev libjansson-dev \
	zlib1g-dev check gzip exim4-base python3 python3-jsonschema groff-base \
	exim4-daemon-light swaks iproute2 valgrind cppcheck clang-tidy

NO_CONFIG_GOALS = deps clean distclean
ifneq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
include config.mk
endif

# No built-in rules: every object is made by the rules below, with our flags.
MAKEFLAGS += -r
.SUFFIXES:

O ?= src
WERROR ?= -Werror
SANITIZE ?=
FORTIFY ?= -D_FORTIFY_SOURCE=2
ALL_CPPFLAGS = -D_GNU_SOURCE $(FORTIFY) -Isrc \
	-DEXIMEXPLAIN_VERSION='"0.1.0"' \
	-DEXIMEXPLAIN_DATADIR='"$(PREFIX)/share/eximexplain"' \
	-DEXIMEXPLAIN_SYSCONFDIR='"$(SYSCONFDIR)/eximexplain"'
# -pthread: input is read and lexed on a second thread (src/linepipe.c)
ALL_CFLAGS = -std=c11 -pthread $(WARN_CFLAGS) $(WERROR) $(HARDEN_CFLAGS) $(TUNE_CFLAGS) $(CFLAGS) \
	$(SANITIZE) $(DEPS_CFLAGS)
ALL_LDFLAGS = -pthread $(HARDEN_LDFLAGS) $(LDFLAGS) $(SANITIZE)

SOURCES = $(wildcard src/*.c)
LIB_OBJECTS = $(patsubst src/%.c,$(O)/%.o,$(filter-out src/main.c,$(SOURCES)))
TEST_SOURCES = $(wildcard tests/unit/*.c)
TEST_OBJECTS = $(patsubst tests/unit/%.c,$(O)/tests/%.o,$(TEST_SOURCES))

BIN = $(O)/eximexplain
CHECK_BIN = $(O)/check_eximexplain
GRAMMAR_DIFF = $(O)/grammar_diff

.PHONY: all check check-plain check-sanitize check-tsan check-integration check-valgrind run-valgrind \
	test-build run-tests install uninstall deps bench clean distclean

all: $(BIN)

$(BIN): $(O)/main.o $(LIB_OBJECTS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEPS_LIBS)

# config.mk: the flags ./configure chose; a new choice rebuilds.
$(O)/%.o: src/%.c config.mk
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(O)/tests/%.o: tests/unit/%.c config.mk
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c -o $@ $<

$(CHECK_BIN): $(TEST_OBJECTS) $(LIB_OBJECTS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CHECK_LIBS) $(DEPS_LIBS)

$(GRAMMAR_DIFF): tests/grammar_diff.c $(LIB_OBJECTS)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(DEPS_LIBS)

test-build: $(BIN) $(CHECK_BIN) $(GRAMMAR_DIFF)

# The sanitizer options only matter to the sanitizer build; any report
# there fails the run (halt on error, no recovery, leaks checked).
run-tests: test-build
	EXIMEXPLAIN=$(BIN) CHECK_EXIMEXPLAIN=$(CHECK_BIN) \
	GRAMMAR_DIFF=$(GRAMMAR_DIFF) \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
	tests/run-suite

check: check-plain check-sanitize check-tsan check-integration check-valgrind lint

check-plain:
	$(MAKE) run-tests

# ThreadSanitizer: input is read and lexed on a second thread
# (src/linepipe.c) in the modes built on the transaction table; any race
# it sees fails the run. Its build runs each test several times slower.
# It runs without address randomisation where setarch can turn it off:
# TSan's fixed shadow layout fails to start ("unexpected memory mapping")
# on kernels that randomise with more than 28 bits.
NO_ASLR = $(shell setarch "$$(uname -m)" -R true 2>/dev/null && echo 'setarch "$$(uname -m)" -R')
check-tsan:
	$(NO_ASLR) $(MAKE) O=build/tsan SANITIZE=-fsanitize=thread \
		HARDEN_CFLAGS= FORTIFY= CFLAGS='-g -O1' CK_TIMEOUT_MULTIPLIER=10 run-tests

check-sanitize:
	$(MAKE) O=build/asan \
		SANITIZE='-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer' \
		HARDEN_CFLAGS= FORTIFY= CFLAGS='-g -O1' run-tests

# Once, with the normal build's binary: it drives a real Exim, which is the
# slow part, and the sanitizer build has no lines of its own to show there.
# Exit 77 is its skip (printed with the reason): fine on a developer's
# machine without the packages, a failure in CI (CI=true), where make deps
# has installed them and the test must run.
check-integration: $(BIN)
	@EXIMEXPLAIN=$(BIN) tests/integration/run; status=$$?; \
	if [ $$status -eq 77 ] && [ "$${CI:-}" != true ]; then status=0; fi; \
	exit $$status
# The suite with every binary run under valgrind's memcheck, from its own
# build (build/valgrind: -O1, and PCRE2 without JIT, whose generated code
# memcheck cannot follow; the sanitizer build covers JIT). A memory error
# or a definite or indirect leak in any run fails, whatever exit status the
# test expected: each run's report goes to its own log file, empty when
# clean, and a non-empty one fails the target. HOSTILE_QUICK shrinks
# tests/hostile.sh's largest inputs, which test limits, not memory errors;
# CK_TIMEOUT_MULTIPLIER gives the unit tests the time valgrind needs.
# Each run logs into a directory mktemp makes for it, a file per process
# (valgrind's %p: the unit tests fork one per test). Named by process ID
# alone, a run whose ID came round again (32768 of them, soon gone
# through when other suites run beside this one) wrote over an earlier
# run's log, errors and all.
VALGRIND_CMD = valgrind --quiet --error-exitcode=97 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
VALGRIND_RUN_DIR = $(CURDIR)/$(O)/valgrind/log/run-XXXXXXXX

check-valgrind:
	$(MAKE) O=build/valgrind CFLAGS='-g -O1 -DEXIMEXPLAIN_NO_JIT' run-valgrind

run-valgrind: test-build
	rm -rf $(O)/valgrind
	mkdir -p $(O)/valgrind/log
	mkdir -p $(O)/valgrind/tests/fuzz
	for b in $(BIN) $(CHECK_BIN) $(GRAMMAR_DIFF) $(FUZZ_REPLAYS); do \
		w=$(O)/valgrind/$${b#$(O)/}; \
		printf '#!/bin/sh\nrun=$$(mktemp -d %s) || exit 2\nexec %s --log-file="$$run/%%p.log" %s "$$@"\n' \
			'$(VALGRIND_RUN_DIR)' '$(VALGRIND_CMD)' "$(CURDIR)/$$b" >$$w; \
		chmod +x $$w; \
	done
	EXIMEXPLAIN=$(O)/valgrind/eximexplain \
	CHECK_EXIMEXPLAIN=$(O)/valgrind/check_eximexplain \
	GRAMMAR_DIFF=$(O)/valgrind/grammar_diff \
	VALGRIND=1 HOSTILE_QUICK=1 CK_TIMEOUT_MULTIPLIER=20 tests/run-suite
	@bad=$$(find $(O)/valgrind/log -name '*.log' -size +0c); \
	if [ -n "$$bad" ]; then \
		for f in $$bad; do echo "== $$f"; head -n 60 $$f; done; \
		echo "valgrind: errors or leaks in $$(echo $$bad | wc -w) run(s)"; exit 1; \
	fi; echo "valgrind: $$(ls $(O)/valgrind/log | wc -l) runs ($$(find $(O)/valgrind/log \
		-name '*.log' | wc -l) processes), no errors, no leaks"

bench: $(BIN)
	bench/run

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/eximexplain \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/eximexplain
	cp -R data/. $(DESTDIR)$(PREFIX)/share/eximexplain/
	for page in man/*.1; do install -m 644 $$page $(DESTDIR)$(PREFIX)/share/man/man1/; done
	for page in man/*.5; do [ -e "$$page" ] || continue; \
		install -m 644 $$page $(DESTDIR)$(PREFIX)/share/man/man5/; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/eximexplain
	rm -rf $(DESTDIR)$(PREFIX)/share/eximexplain
	rm -f $(patsubst man/%,$(DESTDIR)$(PREFIX)/share/man/man1/%,$(wildcard man/*.1))
	rm -f $(patsubst man/%,$(DESTDIR)$(PREFIX)/share/man/man5/%,$(wildcard man/*.5))

# Installs only what is missing, so it is quick and harmless to repeat.
deps:
	@missing=; for p in $(DEB_BUILD_DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "build dependencies: all installed"; \
	else echo "installing:$$missing"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends $$missing; fi

config.mk: config.mk.in configure
	./configure

configure: configure.ac
	autoconf

clean:
	rm -f src/*.o src/*.d src/eximexplain src/check_eximexplain src/grammar_diff
	rm -rf src/tests build

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache

-include $(wildcard $(O)/*.d $(O)/tests/*.d)
include tests/fuzz/fuzz.mk
include lint.mk
