/*
 * jsonout: building eximexplain's JSON with jansson from log bytes.
 *
 * Every string that came from the log goes through jsonout_text(): JSON
 * strings must be UTF-8, log text is whatever bytes a stranger sent, so
 * each byte that does not begin a valid UTF-8 sequence (overlong forms,
 * surrogates and code points past U+10FFFF included) becomes U+FFFD, the
 * replacement character. Control characters and NULs stay and jansson
 * escapes them (\u001b, \u0000), so no raw control byte is ever written.
 *
 * Out of memory inside jansson is a broken environment: msg_fatal, like
 * xmalloc, so callers carry no impossible branches.
 *
 * Ownership: the jsonout_set_* functions add to obj, which owns what they
 * add; views are read during the call only.
 */
#ifndef EXIMEXPLAIN_JSONOUT_H
#define EXIMEXPLAIN_JSONOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "text.h"
#include "txn.h"

/* The schema every object names ("schema": ...): bump on an incompatible
 * change to a field's name, type or meaning. */
#define JSONOUT_SCHEMA "eximexplain/1"

json_t *jsonout_object(void);
json_t *jsonout_array(void);
/* A JSON string of t's bytes, invalid UTF-8 replaced (see above). */
json_t *jsonout_text(struct text t);
json_t *jsonout_time(int64_t epoch, struct log_zone zone);

void jsonout_set(json_t *obj, const char *key, json_t *value); /* takes value */
void jsonout_append(json_t *array, json_t *value);             /* takes value */
/* These add nothing when the value is empty (a field the log did not have). */
void jsonout_set_text(json_t *obj, const char *key, struct text value);
void jsonout_set_str(json_t *obj, const char *key, const char *value);
void jsonout_set_time(json_t *obj, const char *key, int64_t epoch, struct log_zone zone);
/* These always add. */
void jsonout_set_uint(json_t *obj, const char *key, uint64_t value);
void jsonout_set_int(json_t *obj, const char *key, int64_t value);
void jsonout_set_bool(json_t *obj, const char *key, bool value);
void jsonout_set_name(json_t *obj, const char *key, const char *static_ascii);

/* Write obj as one compact line and free it; false on a write error. */
bool jsonout_write_line(json_t *obj, FILE *out);

#endif
