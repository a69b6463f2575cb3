# lint.mk: static analysis of src/ with cppcheck and clang-tidy, with the
# compile flags of config.mk (DEPS_CFLAGS comes from pkg-config for pcre2
# and jansson). Included by the top-level Makefile after its own rules.
#
#   make lint           both; exits non-zero on any finding
#   make lint-cppcheck  make lint-clang-tidy
#
# Configuration: .clang-tidy (checks, and why some are off) and
# cppcheck-suppressions.txt (whole-tree suppressions, each with a reason).
# A false positive at one place is suppressed there, with its reason:
#   /* cppcheck-suppress ID ; why */   on the line before or the same line
#   /* NOLINTNEXTLINE(check) */        under a comment saying why
# The Debian packages are cppcheck and clang-tidy.

CPPCHECK ?= cppcheck
CLANG_TIDY ?= clang-tidy
LINT_SOURCES = $(wildcard src/*.c)
# The preprocessor view of the real build: its -D and -I flags only.
LINT_CPPFLAGS = $(filter -D% -I%,$(ALL_CPPFLAGS) $(DEPS_CFLAGS))

.PHONY: lint lint-cppcheck lint-clang-tidy

lint: lint-cppcheck lint-clang-tidy

# --error-exitcode: any finding fails; --inline-suppr: the comments above.
lint-cppcheck:
	$(CPPCHECK) --std=c11 --language=c --enable=warning,style,performance,portability \
		--inline-suppr --suppressions-list=cppcheck-suppressions.txt \
		--error-exitcode=1 --quiet \
		--template='{file}:{line}: {severity}: {message} [{id}]' \
		$(LINT_CPPFLAGS) $(LINT_SOURCES)

# WarningsAsErrors in .clang-tidy makes any finding an error (exit 1).
# One process per file: clang-tidy 14 given several files reports
# clang-analyzer-valist.Uninitialized falsely on every va_list after the
# first file's.
lint-clang-tidy:
	@status=0; for f in $(LINT_SOURCES); do \
		echo "$(CLANG_TIDY) $$f"; \
		$(CLANG_TIDY) --quiet $$f -- -std=c11 $(LINT_CPPFLAGS) || status=1; \
	done; exit $$status
