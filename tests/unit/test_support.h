/*
 * Helpers shared by the unit tests: lex one line, compare a view with an
 * expected string (reporting both on failure), check that every view of a
 * lexed line stays inside the line, and make temporary files.
 *
 * The assertion helpers are macros so a failure names the test's own line.
 */
#ifndef EXIMEXPLAIN_TEST_SUPPORT_H
#define EXIMEXPLAIN_TEST_SUPPORT_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

#include "fields.h"
#include "lexer.h"
#include "text.h"

/* One line through a fresh lexer (no entry before it). The views point
 * into line, so pass a string that outlives the result (a literal).
 * Not for continuation lines: their message_id lives in the lexer; use
 * lex_with() and keep the lexer. */
struct log_line lex(const char *line);
/* The same for a line that may hold NUL bytes. */
struct log_line lex_bytes(const char *line, size_t length);
/* One line through the given lexer, which keeps the entry state. */
struct log_line lex_with(struct lexer *lexer, const char *line);

/* "exactly these bytes" for a view; NULL views count as "". */
#define assert_text(view, expected)                                                  \
	do {                                                                         \
		struct text got_ = (view);                                           \
		const char *want_ = (expected);                                      \
		ck_assert_msg(text_equals(got_, want_),                              \
		              "%s: expected \"%s\", got \"%.*s\" (%zu bytes)", #view, \
		              want_, (int)got_.len, got_.ptr ? got_.ptr : "", got_.len); \
	} while (0)

#define assert_field(line, tag, expected)                                         \
	do {                                                                      \
		ck_assert_msg(fields_has(&(line).fields, tag), "field %s= missing", \
		              field_tag_name(tag));                               \
		assert_text(fields_get(&(line).fields, tag), expected);           \
	} while (0)

#define assert_no_field(line, tag)                                                   \
	ck_assert_msg(!fields_has(&(line).fields, tag), "field %s= unexpectedly present", \
	              field_tag_name(tag))

#define assert_kind(line, expected)                                                \
	ck_assert_msg((line).kind == (expected), "kind: expected %s, got %s",      \
	              line_kind_name(expected), line_kind_name((line).kind))

/* Every view of out (body, ID, address, message, strerror, fields) lies
 * within [start, start + length). A continuation's message_id is the
 * lexer's own copy and is not checked. Fails the test otherwise. */
void assert_views_inside(const struct log_line *out, const char *start, size_t length);

/* Whether two views hold the same bytes (wherever they lie). */
bool same_bytes(struct text a, struct text b);

/* Two lexings of a line say the same: kind, flag, time, ID, every view
 * and every field, compared by content. n names the line in a failure. */
void assert_same_lexing(const struct log_line *a, const struct log_line *b, size_t n);

/* Epoch of a UTC civil time, computed here without the code under test's
 * timestamp module (timegm), so expectations are independent of it. */
long long utc_epoch(int year, int month, int day, int hour, int minute, int second);

/* $SRCDIR/relative (SRCDIR defaults to "."), as a new string: fixtures
 * in tests/unit/data are found through it. */
char *srcdir_path(const char *relative);

/* The whole file, NUL-terminated (length excludes the NUL); NULL when it
 * cannot be opened. The caller frees it. */
char *read_file(const char *path, size_t *length);

/* Set TZ for this (forked) test and make libc see it. */
void use_time_zone(const char *tz);

/* A new empty directory under /tmp (mkdtemp); the caller frees the name
 * and removes it with remove_tree(). */
char *make_temp_dir(void);
/* dir/name as a new string. */
char *path_in(const char *dir, const char *name);
/* Write bytes to path (created or truncated). */
void write_file(const char *path, const void *bytes, size_t length);
/* Write bytes to path as one gzip member; append adds a further member. */
void write_gzip(const char *path, const char *text, bool append);
/* Remove every file in dir, then dir (one level, as the tests make). */
void remove_tree(const char *dir);

/* Send stderr to path until restore_stderr(); returns the saved fd. */
int capture_stderr(const char *path);
void restore_stderr(int saved);

#endif
