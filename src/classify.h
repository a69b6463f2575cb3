/*
 * classify: the kind of a line that has no flag, from the phrase tables of
 * exim-log-format.md sections 10-15. Internal to the lexer.
 */
#ifndef EXIMEXPLAIN_CLASSIFY_H
#define EXIMEXPLAIN_CLASSIFY_H

#include "lexer.h"

/* out->body and out->message_id are set; sets kind, message, fields. */
void classify_body(struct log_line *out);

#endif
