/*
 * msg: diagnostics on stderr, prefixed with the program name. Two kinds,
 * never mixed (style.md): msg_warn for bad input or a file that could not
 * be read (processing goes on, the exit status records it), msg_fatal for a
 * broken environment (exit 2 at once).
 */
#ifndef EXIMEXPLAIN_MSG_H
#define EXIMEXPLAIN_MSG_H

#include <stdbool.h>

#define EXIT_FOUND_NOTHING 0
#define EXIT_FOUND_FAILURES 1
#define EXIT_TROUBLE 2

void msg_warn(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* What the user asked to be told (--verbose): not a problem. */
void msg_info(const char *format, ...) __attribute__((format(printf, 1, 2)));
void msg_fatal(const char *format, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* An input file could not be (fully) read: warn and remember it, so the
 * run ends with EXIT_TROUBLE. */
void msg_input_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
bool msg_had_input_error(void);

#endif
