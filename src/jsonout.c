/*
 * jsonout: jansson values from log bytes (jsonout.h). The common case, a
 * field that is already valid UTF-8, is checked once and handed to
 * jansson without its second check; only text with bad bytes is copied.
 */
#include "jsonout.h"

#include <string.h>

#include "msg.h"
#include "strbuf.h"
#include "timestamp.h"
#include "utf8.h"
#include "xalloc.h"

static json_t *checked(json_t *value)
{
	if (value == NULL)
		msg_fatal("out of memory building JSON");
	return value;
}

json_t *jsonout_object(void)
{
	return checked(json_object());
}

json_t *jsonout_array(void)
{
	return checked(json_array());
}

static bool valid_utf8(struct text t)
{
	const unsigned char *s = (const unsigned char *)t.ptr;
	size_t i = 0;
	while (i < t.len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = utf8_decode(s + i, t.len - i, NULL);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

json_t *jsonout_text(struct text t)
{
	if (t.len == 0)
		return checked(json_string(""));
	if (valid_utf8(t))
		return checked(json_stringn_nocheck(t.ptr, t.len));
	struct strbuf repaired = STRBUF_INIT;
	const unsigned char *s = (const unsigned char *)t.ptr;
	for (size_t i = 0; i < t.len;) {
		size_t n = utf8_decode(s + i, t.len - i, NULL);
		if (n == 0) {
			strbuf_append(&repaired, "\xEF\xBF\xBD", 3); /* U+FFFD */
			i++;
		} else {
			strbuf_append(&repaired, t.ptr + i, n);
			i += n;
		}
	}
	json_t *value = checked(json_stringn_nocheck(repaired.data, repaired.len));
	strbuf_release(&repaired);
	return value;
}

/* A message's times are mostly the same second (arrival, first and last
 * attempt, completion): one remembered formatting saves most gmtime and
 * snprintf calls. */
json_t *jsonout_time(int64_t epoch, struct log_zone zone)
{
	static char iso[TIMESTAMP_ISO8601_MAX];
	static int64_t last_epoch = -1;
	static struct log_zone last_zone;
	if (epoch != last_epoch || zone.known != last_zone.known ||
	    zone.offset_minutes != last_zone.offset_minutes) {
		timestamp_format_iso8601(epoch, zone.known, zone.offset_minutes, iso);
		last_epoch = epoch;
		last_zone = zone;
	}
	return checked(json_string_nocheck(iso));
}

void jsonout_set(json_t *obj, const char *key, json_t *value)
{
	if (json_object_set_new_nocheck(obj, key, value) != 0)
		msg_fatal("out of memory building JSON");
}

void jsonout_append(json_t *array, json_t *value)
{
	if (json_array_append_new(array, value) != 0)
		msg_fatal("out of memory building JSON");
}

void jsonout_set_text(json_t *obj, const char *key, struct text value)
{
	if (value.len)
		jsonout_set(obj, key, jsonout_text(value));
}

void jsonout_set_str(json_t *obj, const char *key, const char *value)
{
	if (value && value[0])
		jsonout_set(obj, key, jsonout_text(text_make(value, strlen(value))));
}

void jsonout_set_time(json_t *obj, const char *key, int64_t epoch, struct log_zone zone)
{
	if (epoch > 0)
		jsonout_set(obj, key, jsonout_time(epoch, zone));
}

void jsonout_set_uint(json_t *obj, const char *key, uint64_t value)
{
	/* JSON integers are exact to 2^53 in most readers; jansson's are signed. */
	jsonout_set(obj, key, checked(json_integer(value > INT64_MAX ? INT64_MAX : (json_int_t)value)));
}

void jsonout_set_int(json_t *obj, const char *key, int64_t value)
{
	jsonout_set(obj, key, checked(json_integer((json_int_t)value)));
}

void jsonout_set_bool(json_t *obj, const char *key, bool value)
{
	jsonout_set(obj, key, checked(json_boolean(value)));
}

void jsonout_set_name(json_t *obj, const char *key, const char *static_ascii)
{
	jsonout_set(obj, key, checked(json_string_nocheck(static_ascii)));
}

/* jansson's json_dumpf makes one fwrite per token; dumping into one
 * buffer kept between calls and writing the line at once is four times
 * fewer library calls (bench/run). The buffer is as long as the longest
 * line so far and freed at exit by the OS; it is per process, as output is. */
bool jsonout_write_line(json_t *obj, FILE *out)
{
	static char *buffer;
	static size_t capacity;
	size_t needed = json_dumpb(obj, buffer, capacity, JSON_COMPACT);
	if (needed >= capacity && needed > 0) {
		capacity = needed + 1 > 2 * capacity ? needed + 1 : 2 * capacity;
		buffer = xrealloc(buffer, capacity);
		needed = json_dumpb(obj, buffer, capacity, JSON_COMPACT);
	}
	json_decref(obj);
	if (needed == 0)
		return false; /* jansson could not encode it: out of memory */
	buffer[needed] = '\n';
	return fwrite(buffer, 1, needed + 1, out) == needed + 1;
}
