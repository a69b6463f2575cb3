/*
 * msg: the only place that writes diagnostics. Messages name the file and
 * the cause; they never echo raw log bytes (a file name given by the user
 * is the only untrusted text, and it is the user's own).
 */
#include "msg.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

/* set by whichever thread reads the input (linepipe.h) */
static atomic_bool input_error_seen;

/* The attribute lets compilers check the callers' formats (clang's
 * -Wformat-nonliteral in -Wformat=2 insists on it). */
__attribute__((format(printf, 1, 0)))
static void vmsg(const char *format, va_list ap)
{
	flockfile(stderr); /* one message, whole, whatever thread says it */
	fputs("eximexplain: ", stderr);
	vfprintf(stderr, format, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void msg_warn(const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vmsg(format, ap);
	va_end(ap);
}

void msg_info(const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vmsg(format, ap);
	va_end(ap);
}

void msg_input_error(const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vmsg(format, ap);
	va_end(ap);
	atomic_store(&input_error_seen, true);
}

bool msg_had_input_error(void)
{
	return atomic_load(&input_error_seen);
}

void msg_fatal(const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vmsg(format, ap);
	va_end(ap);
	exit(EXIT_TROUBLE);
}
