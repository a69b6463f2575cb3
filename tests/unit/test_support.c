/*
 * Helpers shared by the unit tests (test_support.h). They abort the test
 * (ck_abort_msg) on any environment failure, so a test never goes on
 * with a half-made fixture.
 */
#include "test_support.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "strbuf.h"

struct log_line lex_bytes(const char *line, size_t length)
{
	struct lexer *lexer = lexer_new();
	struct log_line out;
	lexer_parse(lexer, line, length, &out);
	lexer_free(lexer);
	return out;
}

struct log_line lex(const char *line)
{
	return lex_bytes(line, strlen(line));
}

struct log_line lex_with(struct lexer *lexer, const char *line)
{
	struct log_line out;
	lexer_parse(lexer, line, strlen(line), &out);
	return out;
}

static void check_view(const char *what, struct text view, const char *start, size_t length)
{
	if (view.len == 0)
		return;
	ck_assert_msg(view.ptr != NULL, "%s: non-empty view with a NULL pointer", what);
	ck_assert_msg(view.ptr >= start && view.ptr <= start + length &&
	                  view.len <= (size_t)(start + length - view.ptr),
	              "%s: view [%td, +%zu) leaves the line of %zu bytes", what,
	              view.ptr - start, view.len, length);
}

void assert_views_inside(const struct log_line *out, const char *start, size_t length)
{
	if (out->kind != LK_CONTINUATION)
		check_view("message_id", out->message_id, start, length);
	check_view("body", out->body, start, length);
	check_view("address", out->address, start, length);
	check_view("message", out->message, start, length);
	check_view("strerror_text", out->strerror_text, start, length);
	for (int tag = 0; tag < FIELD_COUNT; tag++)
		if (fields_has(&out->fields, (enum field_tag)tag))
			check_view(field_tag_name((enum field_tag)tag),
			           fields_get(&out->fields, (enum field_tag)tag), start, length);
}

bool same_bytes(struct text a, struct text b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

void assert_same_lexing(const struct log_line *a, const struct log_line *b, size_t n)
{
	ck_assert_msg(a->kind == b->kind && a->flag == b->flag && a->epoch == b->epoch &&
	              a->millisecond == b->millisecond && a->has_zone == b->has_zone &&
	              a->zone_offset_minutes == b->zone_offset_minutes && a->pid == b->pid &&
	              a->from_syslog == b->from_syslog && a->continues == b->continues &&
	              a->rest_unlexed == b->rest_unlexed,
	              "line %zu: kind %s / %s, its time, or its rest left", n, line_kind_name(a->kind),
	              line_kind_name(b->kind));
	ck_assert_msg(same_bytes(a->message_id, b->message_id) && same_bytes(a->body, b->body) &&
	              same_bytes(a->address, b->address) && same_bytes(a->message, b->message) &&
	              same_bytes(a->strerror_text, b->strerror_text), "line %zu: a view", n);
	ck_assert_msg(a->fields.present == b->fields.present, "line %zu: fields", n);
	for (int tag = 0; tag < FIELD_COUNT; tag++)
		ck_assert_msg(!fields_has(&a->fields, (enum field_tag)tag) ||
		              same_bytes(fields_get(&a->fields, (enum field_tag)tag),
		                        fields_get(&b->fields, (enum field_tag)tag)),
		              "line %zu: %s=", n, field_tag_name((enum field_tag)tag));
	ck_assert(a->fields.t_is_subject == b->fields.t_is_subject &&
	          a->fields.id_created == b->fields.id_created);
}

long long utc_epoch(int year, int month, int day, int hour, int minute, int second)
{
	struct tm tm = { 0 };
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = minute;
	tm.tm_sec = second;
	return (long long)timegm(&tm);
}

void use_time_zone(const char *tz)
{
	ck_assert_int_eq(setenv("TZ", tz, 1), 0);
	tzset();
}

char *srcdir_path(const char *relative)
{
	const char *srcdir = getenv("SRCDIR");
	if (srcdir == NULL || *srcdir == '\0')
		srcdir = ".";
	size_t n = strlen(srcdir) + strlen(relative) + 2;
	char *path = malloc(n);
	ck_assert_ptr_nonnull(path);
	snprintf(path, n, "%s/%s", srcdir, relative);
	return path;
}

char *make_temp_dir(void)
{
	char *dir = strdup("/tmp/eximexplain-unit-XXXXXX");
	ck_assert_ptr_nonnull(dir);
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	return dir;
}

char *path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);
	ck_assert_ptr_nonnull(path);
	snprintf(path, n, "%s/%s", dir, name);
	return path;
}

void write_file(const char *path, const void *bytes, size_t length)
{
	FILE *f = fopen(path, "wb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_msg(fwrite(bytes, 1, length, f) == length, "%s: short write", path);
	ck_assert_msg(fclose(f) == 0, "%s: %s", path, strerror(errno));
}

void write_gzip(const char *path, const char *text, bool append)
{
	gzFile gz = gzopen(path, append ? "ab" : "wb");
	ck_assert_msg(gz != NULL, "gzopen %s failed", path);
	size_t length = strlen(text);
	ck_assert_msg(gzwrite(gz, text, (unsigned)length) == (int)length, "gzwrite %s", path);
	ck_assert_msg(gzclose(gz) == Z_OK, "gzclose %s", path);
}

void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *entry;
	while ((entry = readdir(d)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		char *path = path_in(dir, entry->d_name);
		unlink(path);
		free(path);
	}
	closedir(d);
	rmdir(dir);
}

char *read_file(const char *path, size_t *length)
{
	FILE *file = fopen(path, "rb");
	if (file == NULL)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, file)) > 0)
		strbuf_append(&sb, chunk, n);
	fclose(file);
	strbuf_append_char(&sb, '\0');
	*length = sb.len - 1;
	return sb.data;
}

int capture_stderr(const char *path)
{
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_msg(saved >= 0 && fd >= 0, "capture stderr: %s", strerror(errno));
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	close(fd);
	return saved;
}

void restore_stderr(int saved)
{
	fflush(stderr);
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);
}
