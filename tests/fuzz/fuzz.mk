# tests/fuzz/fuzz.mk: the libFuzzer harnesses and their regression
# drivers. Included by the top-level Makefile after its own rules (it uses
# O, LIB_OBJECTS and the flag variables defined there).
#
#   make fuzz            build every harness with clang and libFuzzer
#                        (ASan + UBSan, in build/fuzz) and run each for
#                        FUZZ_SECONDS (default 60) on its seed corpus
#   make fuzz FUZZ_TARGETS=lexer FUZZ_SECONDS=600   one harness, longer
#   make fuzz-build      only build them
#
# Each harness is tests/fuzz/fuzz_TARGET.c, with tests/fuzz/TARGET.dict as
# its libFuzzer dictionary when there is one. Crashes land in
# build/fuzz/artifacts/TARGET/; a fixed one is kept as a regression input
# in tests/fuzz/regressions/TARGET/, which tests/fuzz-regressions.sh
# replays through TARGET-replay (the harness linked with standalone.c
# instead of libFuzzer), built beside every test build (O=src, O=build/asan).

FUZZ_TARGETS ?= lexer txn rules explain state prefilter litfilter
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
# Extra libFuzzer flags, e.g. FUZZ_FLAGS=-only_ascii=1
FUZZ_FLAGS ?=
FUZZ_OUT = build/fuzz
FUZZ_SANITIZE = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
# Longest input per harness: a line, a log piece, a rule file, a text.
FUZZ_MAX_LEN_lexer = 8192
FUZZ_MAX_LEN_txn = 65536
FUZZ_MAX_LEN_rules = 16384
FUZZ_MAX_LEN_explain = 4096
FUZZ_MAX_LEN_state = 16384
FUZZ_MAX_LEN_prefilter = 16384
FUZZ_MAX_LEN_litfilter = 1024

FUZZ_ALL = lexer txn rules explain state prefilter litfilter
FUZZ_DIR = $(O)/tests/fuzz
FUZZ_SUPPORT = $(FUZZ_DIR)/fuzz_support.o
FUZZ_REPLAYS = $(patsubst %,$(FUZZ_DIR)/%-replay,$(FUZZ_ALL))
FUZZ_FUZZERS = $(patsubst %,$(FUZZ_DIR)/%-fuzzer,$(FUZZ_ALL))

.PHONY: fuzz fuzz-build fuzz-fuzzers fuzz-replays
.PRECIOUS: $(FUZZ_DIR)/%.o

$(FUZZ_DIR)/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) -Itests/fuzz $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# libFuzzer binaries: only in the clang build (fuzz-build sets it up).
$(FUZZ_DIR)/%-fuzzer: $(FUZZ_DIR)/fuzz_%.o $(FUZZ_SUPPORT) $(LIB_OBJECTS)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(DEPS_LIBS)

# Regression drivers: any compiler, any build directory.
$(FUZZ_DIR)/%-replay: $(FUZZ_DIR)/fuzz_%.o $(FUZZ_SUPPORT) $(FUZZ_DIR)/standalone.o \
		$(LIB_OBJECTS)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(DEPS_LIBS)

fuzz-replays: $(FUZZ_REPLAYS)
# The suite replays the kept inputs, so every test build has the drivers.
test-build: $(FUZZ_REPLAYS)

fuzz-fuzzers: $(FUZZ_FUZZERS)

fuzz-build:
	$(MAKE) O=$(FUZZ_OUT) CC=$(FUZZ_CC) SANITIZE='$(FUZZ_SANITIZE)' \
		HARDEN_CFLAGS= TUNE_CFLAGS= FORTIFY= CFLAGS='-g -O1' fuzz-fuzzers

# One harness at a time, each on its own working corpus (new inputs go
# there), the generated seeds and the kept regressions.
fuzz: fuzz-build
	tests/fuzz/make-seeds $(FUZZ_OUT)/seeds
	@set -e; $(foreach t,$(FUZZ_TARGETS), \
		mkdir -p $(FUZZ_OUT)/corpus/$(t) $(FUZZ_OUT)/artifacts/$(t) tests/fuzz/regressions/$(t); \
		echo "== fuzz $(t) for $(FUZZ_SECONDS)s"; \
		$(FUZZ_OUT)/tests/fuzz/$(t)-fuzzer -max_total_time=$(FUZZ_SECONDS) \
			-max_len=$(FUZZ_MAX_LEN_$(t)) -timeout=10 -close_fd_mask=3 \
			-artifact_prefix=$(FUZZ_OUT)/artifacts/$(t)/ \
			$(if $(wildcard tests/fuzz/$(t).dict),-dict=tests/fuzz/$(t).dict) $(FUZZ_FLAGS) \
			$(FUZZ_OUT)/corpus/$(t) $(FUZZ_OUT)/seeds/$(t) tests/fuzz/regressions/$(t);)

-include $(wildcard $(FUZZ_DIR)/*.d)
