/*
 * digest: the cron digest (`eximexplain digest`): the failure report laid
 * out for mail (problems first, then SMTP-time events, messages still
 * queued, and the totals), wrapped in a complete RFC 5322 + MIME message
 * and written to a stream or piped to sendmail.
 *
 * The Subject names the host, the period and the counts (failed,
 * deferred, discarded, frozen, rejected at SMTP time). When nothing went
 * wrong the body is a short all-clear, or, with quiet_if_clean, nothing at
 * all is written or sent.
 *
 * What it must never do: let log text shape a header (every header value
 * goes through mailfmt_header, which removes CR, LF and controls and
 * RFC 2047-encodes what is not ASCII), or report success when sendmail
 * failed (its exit status is checked, so --state is only saved after a
 * digest really left).
 *
 * Ownership: the options' strings, files and explainer are borrowed and
 * must outlive the digest.
 */
#ifndef EXIMEXPLAIN_DIGEST_H
#define EXIMEXPLAIN_DIGEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "txn.h"

struct explainer;

#define DIGEST_DEFAULT_SENDMAIL "/usr/sbin/sendmail -t -oi"

struct digest_options {
	const char *const *files;  /* as given; may be empty (standard input) */
	size_t file_count;
	struct explainer *explainer;
	const char *to;            /* NULL: root@HOST */
	const char *from;          /* NULL: eximexplain@HOST */
	const char *hostname;      /* NULL: gethostname() */
	int64_t now;               /* Date: and Message-ID: */
	bool quiet_if_clean;
	const char *sendmail;      /* NULL: write to out; else a command run by
	                              /bin/sh with the message on its stdin */
	FILE *out;                 /* NULL: stdout */
};

struct digest;

/* NULL, with a message on stderr, when --to or --from is not a valid
 * address (list) or hostname is not a host name. */
struct digest *digest_new(const struct digest_options *options);
void digest_free(struct digest *digest);
/* Letters, digits, dots and hyphens, not starting or ending with . or -. */
bool digest_hostname_ok(const char *name);

/* The digest as a record sink. finish() writes or sends the message and
 * returns 0 (all clear) or 1 (problems), as the report does, or 2 when it
 * could not be written or sendmail failed. */
struct record_sink digest_sink(struct digest *digest);

#endif
