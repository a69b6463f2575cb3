/*
 * The line kinds the lexer tells apart, as one X-macro table so the enum,
 * the names printed by `eximexplain stats` and the names used in grammar/
 * cannot drift apart. The name is public: scripts and the grammar file use
 * it. Add a kind here, in grammar/mainlog.kinds, and in the lexer together.
 *
 *   LINE_KIND(enumerator, "public name", "what the line says")
 */
#ifndef EXIMEXPLAIN_LINEKINDS_H
#define EXIMEXPLAIN_LINEKINDS_H

#define LINE_KINDS(LINE_KIND) \
	/* flag lines (exim-log-format.md sections 5-9) */ \
	LINE_KIND(LK_ARRIVAL, "arrival", "<= message received") \
	LINE_KIND(LK_FAKE_REJECT, "fake_reject", "(= received but sender told 550") \
	LINE_KIND(LK_DELIVERY, "delivery", "=> delivered") \
	LINE_KIND(LK_ADDITIONAL, "additional", "-> further address in the same delivery") \
	LINE_KIND(LK_CUTTHROUGH, "cutthrough", ">> delivered during reception") \
	LINE_KIND(LK_SUPPRESSED, "suppressed", "*> delivery suppressed by -N") \
	LINE_KIND(LK_FAILED, "failed", "** delivery failed permanently") \
	LINE_KIND(LK_DEFERRED, "deferred", "== delivery deferred") \
	LINE_KIND(LK_RETRY_NOT_REACHED, "retry_not_reached", "== deferral only because the retry time has not come") \
	/* other per-message lines (section 12) */ \
	LINE_KIND(LK_COMPLETED, "completed", "message done, removed from the spool") \
	LINE_KIND(LK_FROZEN, "frozen", "message frozen") \
	LINE_KIND(LK_UNFROZEN, "unfrozen", "message thawed") \
	LINE_KIND(LK_SKIPPED_FROZEN, "skipped_frozen", "queue run skipped a frozen message") \
	LINE_KIND(LK_SPOOL_LOCKED, "spool_locked", "another process holds the message") \
	LINE_KIND(LK_SPOOL_ERROR, "spool_error", "spool file missing or damaged") \
	LINE_KIND(LK_HOST_ERROR, "host_error", "per-host delivery error before == or **") \
	LINE_KIND(LK_ERROR_IGNORED, "error_ignored", "failure of an address whose errors are ignored") \
	LINE_KIND(LK_QUEUED, "queued", "no immediate delivery") \
	LINE_KIND(LK_CANCELLED, "cancelled", "message cancelled or removed by an administrator or timer") \
	LINE_KIND(LK_QUEUE_EDIT, "queue_edit", "address marked delivered, added, sender changed by an admin") \
	LINE_KIND(LK_TRANSPORT_OUTPUT, "transport_output", "pipe transport output or vanished process") \
	LINE_KIND(LK_DKIM, "dkim", "DKIM verification or signing line") \
	LINE_KIND(LK_TLS_ERROR, "tls_error", "TLS failure, inbound or outbound") \
	/* SMTP sessions and policy (sections 13-14) */ \
	LINE_KIND(LK_CONNECTION_OPEN, "connection_open", "SMTP connection from") \
	LINE_KIND(LK_CONNECTION_CLOSED, "connection_closed", "SMTP connection closed") \
	LINE_KIND(LK_CONNECTION_LOST, "connection_lost", "connection lost or timed out") \
	LINE_KIND(LK_CONNECTION_REFUSED, "connection_refused", "connection refused before SMTP (limits, load)") \
	LINE_KIND(LK_CONNECTION_DROPPED, "connection_dropped", "SMTP call dropped after too many errors") \
	LINE_KIND(LK_REJECTED_CONNECT, "rejected_connect", "rejected by the connect ACL") \
	LINE_KIND(LK_REJECTED_HELO, "rejected_helo", "rejected EHLO or HELO") \
	LINE_KIND(LK_REJECTED_MAIL, "rejected_mail", "rejected MAIL") \
	LINE_KIND(LK_REJECTED_RCPT, "rejected_rcpt", "rejected RCPT") \
	LINE_KIND(LK_REJECTED_DATA, "rejected_data", "rejected at or after DATA, while reading the message, by local_scan or the non-SMTP ACL") \
	LINE_KIND(LK_REJECTED_OTHER, "rejected_other", "rejected AUTH, STARTTLS, VRFY, EXPN, ETRN, ATRN, WELLKNOWN, XCLIENT") \
	LINE_KIND(LK_ACL_DISCARD, "acl_discard", "recipient discarded by an ACL") \
	LINE_KIND(LK_SENDER_VERIFY, "sender_verify", "sender verify fail or defer") \
	LINE_KIND(LK_CALLOUT_DEFER, "callout_defer", "recipient or sender verify callout deferred") \
	LINE_KIND(LK_AUTH_FAILED, "auth_failed", "authenticator failed") \
	LINE_KIND(LK_PROTOCOL_ERROR, "protocol_error", "SMTP syntax or protocol error") \
	LINE_KIND(LK_SYNC_ERROR, "sync_error", "SMTP protocol synchronization error") \
	LINE_KIND(LK_NO_MAIL, "no_mail", "connection without a MAIL command") \
	LINE_KIND(LK_INCOMPLETE, "incomplete_transaction", "SMTP transaction not completed") \
	LINE_KIND(LK_HOST_LOOKUP, "host_lookup_failed", "no host name or address found") \
	LINE_KIND(LK_DNSLIST_DEFER, "dnslist_defer", "DNS list lookup deferred") \
	LINE_KIND(LK_SMTP_COMMAND, "smtp_command", "ETRN received, AUTH= ignored, VRFY failed") \
	LINE_KIND(LK_WARNING, "warning", "warning from an ACL or from Exim") \
	/* daemon and queue runner (section 15) */ \
	LINE_KIND(LK_DAEMON_START, "daemon_start", "exim daemon started") \
	LINE_KIND(LK_DAEMON, "daemon", "other daemon line: SIGHUP, listen backlog, process crash") \
	LINE_KIND(LK_QUEUE_RUN_START, "queue_run_start", "Start queue run") \
	LINE_KIND(LK_QUEUE_RUN_END, "queue_run_end", "End or abandon queue run") \
	LINE_KIND(LK_ARGUMENTS, "arguments", "cwd= and args of an Exim call") \
	LINE_KIND(LK_REWRITE, "rewrite", "address rewritten") \
	LINE_KIND(LK_CONFIG_ERROR, "config_error", "configuration or expansion error") \
	LINE_KIND(LK_EXIM_ERROR, "exim_error", "Exim's own runtime error (spool, taint, malware scanner)") \
	/* physical lines that are not entries of their own */ \
	LINE_KIND(LK_CONTINUATION, "continuation", "line without timestamp, belongs to the entry before") \
	LINE_KIND(LK_BLANK, "blank", "empty line") \
	LINE_KIND(LK_UNKNOWN, "unknown", "timestamped line of no known shape")

#endif
