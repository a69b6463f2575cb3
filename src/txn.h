/*
 * txn: the transaction table. Lexed lines in, message records and
 * SMTP-time events out.
 *
 * A message record is keyed by its ID (both formats) and collects the
 * arrival, its recipients with their status and last SMTP reply, bounce
 * links, frozen state and, when asked, its raw lines. It is handed to the
 * record sink when it completes (Completed, or the rejection that ends a
 * message never accepted) and then freed, so memory is bounded by the
 * open transactions, not by the input. Messages still open at the end of
 * the input are handed over last, with state TXN_OPEN.
 *
 * Limits, so that no log, however hostile, can exhaust memory: at most
 * max_open messages are open at once (beyond that the oldest opened is
 * handed over early, still TXN_OPEN, with evicted set), and one message
 * keeps at most TXN_RECIPIENTS_MAX recipients and TXN_LINES_MAX raw lines
 * (the rest are counted in recipients_left_out and lines_left_out). Each
 * limit, when first reached, is told once on stderr.
 *
 * Ownership: a struct message and everything it points to belong to the
 * table; a sink may read them during the call only. Events are borrowed
 * views valid during the call only.
 */
#ifndef EXIMEXPLAIN_TXN_H
#define EXIMEXPLAIN_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "input.h"
#include "lexer.h"
#include "sink.h"

enum recipient_status {
	RCPT_PENDING,    /* named on <= (for ...) or not yet tried */
	RCPT_DELIVERED,
	RCPT_DEFERRED,   /* last attempt deferred: will be retried */
	RCPT_FAILED,
	RCPT_DISCARDED,  /* /dev/null, :blackhole:, filter or ACL discard */
	RCPT_SUPPRESSED, /* *> (-N) */
	RCPT_STATUS_COUNT
};

const char *recipient_status_name(enum recipient_status status);

struct recipient;
/* Deferred at least once, or still deferred: the one rule the summary
 * and every report use. */
bool recipient_was_deferred(const struct recipient *recipient);

/* An SMTP reply as Exim logged it, split: "after RCPT TO:<x>: 550 5.1.1 ..." */
struct smtp_reply {
	int code;             /* 0: none */
	const char *status;   /* enhanced status code x.y.z, "" when none */
	const char *stage;    /* connect, HELO, MAIL FROM, RCPT TO, DATA, end of data, "" */
	const char *text;     /* the reply text, all lines joined by "\n" as logged */
};

struct recipient {
	const char *address;  /* final address (or pipe, file, :blackhole:) */
	const char *original; /* the <...> part, "" when absent */
	enum recipient_status status;
	const char *router, *transport, *host, *ip; /* "" when unknown */
	unsigned attempts;    /* delivery attempts that deferred or ended it */
	int64_t first_time, last_time; /* of the attempts; 0 when none */
	struct smtp_reply smtp;
	const char *error;    /* Exim's own text: the message after ": " */
	const char *line;     /* the line that set the current status */
	/* Deferrals survive a later delivery or failure, so a report can say
	 * "delayed by greylisting, then delivered". */
	unsigned deferrals;
	struct smtp_reply defer_smtp; /* of the last deferral */
	const char *defer_error;
	const char *defer_line;
};

/* The zone a log wrote its times in: +hhmm when it has log_timezone,
 * else none (the host's local time, as Exim wrote it). */
struct log_zone {
	bool known;
	int offset_minutes; /* east of UTC */
};

struct arrival {
	bool seen;            /* false: lines came without a <= (rotated away) */
	int64_t time;
	const char *sender, *subject;
	/* "" unless the sink asks for them (record_sink.arrival_details) */
	const char *protocol, *host, *ip, *port, *helo, *auth, *user, *tls, *message_id;
	uint64_t size;
};

enum message_state {
	TXN_COMPLETED, /* Completed */
	TXN_REJECTED,  /* an ID was given but the message was refused */
	TXN_OPEN       /* still on the queue at the end of the input */
};

struct message {
	char id[MESSAGE_ID_MAX + 1];
	enum message_state state;
	struct arrival arrival;
	struct recipient *recipients;
	size_t recipient_count;
	int64_t first_time;   /* first line seen */
	int64_t last_time;    /* last line seen */
	int64_t completed;    /* time of Completed; 0 when not completed */
	struct log_zone zone; /* of its last line */
	bool frozen;
	char bounce_of[MESSAGE_ID_MAX + 1];  /* R= on <= <>: the parent */
	char bounced_by[MESSAGE_ID_MAX + 1]; /* the bounce this one caused */
	const char *reject_line;             /* TXN_REJECTED: the rejection */
	/* The host of the per-host error line just before: Exim leaves H= off
	 * "== addr R=.. T=.. defer (111): Connection refused" and names the host
	 * only on the "H=host [ip] Connection refused" line above it. NULL once
	 * a line of another kind comes between. */
	const char *attempt_host, *attempt_ip;
	/* raw lines, in input order, when the table keeps them */
	const char **lines;
	size_t line_count;
	/* beyond the limits (see the top of this file) */
	bool evicted;                 /* handed over early: too many open messages */
	uint64_t recipients_left_out; /* lines for recipients past TXN_RECIPIENTS_MAX */
	uint64_t lines_left_out;      /* raw lines past TXN_LINES_MAX */
	/* Every string above and in the recipients lives in the arena below;
	 * compact() in txn.c moves each one, so a new one must be added there. */
	/* private to txn.c */
	bool seen_this_run;  /* a line of it was not replayed */
	struct arena arena;
	size_t recipient_capacity, line_capacity;
	uint64_t *address_hashes;     /* of recipients[i].address, for fast lookups */
	uint32_t *recipient_index;    /* by address hash, once there are many */
	size_t index_capacity, index_used;
	size_t compact_at;            /* arena bytes that trigger a compaction */
	struct message *older, *newer; /* open order, for eviction */
};

/* When the message arrived: its <= line, else the second Exim encoded in
 * the first six characters of its ID (base 62) when that is plausible (not
 * after the first line seen, at most a year before it); -1 when unknown. */
int64_t message_arrival_time(const struct message *message);

/* The sender as a report names it: the address, "<>" for a bounce, or
 * "(arrived before the input)" when the <= line was not read. */
struct text message_sender_label(const struct message *message);

/* Queue time in seconds (completed - arrival); -1 when unknown. */
int64_t message_queue_seconds(const struct message *message);

/* A line without a message that is worth reporting: SMTP-time rejections,
 * authentication failures, TLS and protocol errors, refused and dropped
 * connections. */
struct event {
	enum line_kind kind;
	int64_t time;
	struct log_zone zone;
	struct text message_id; /* rejections after DATA carry one */
	struct text host;       /* verified host name, empty when none */
	struct text helo;       /* the name the client gave in HELO/EHLO */
	struct text ip;
	struct text sender;     /* F=<...> */
	struct text detail;     /* the reason text */
	struct text line;       /* the raw line */
};

bool txn_is_event_kind(enum line_kind kind);

/* Lines the pipeline flags replayed (carried over by --state from an
 * earlier run) rebuild their messages but were counted by that run: they
 * add nothing to received, first_time or last_time. */
struct txn_summary {
	const struct pipeline_summary *pipeline;
	int64_t first_time, last_time; /* of the lines taken in */
	uint64_t received, delivered, deferred, failed, discarded, frozen;
	uint64_t rejected; /* SMTP-time rejections (events) */
	uint64_t open_at_end;
	uint64_t evicted;  /* handed over early: more than max_open were open */
};

/* What a mode does with records. Any callback may be NULL. */
struct record_sink {
	void *state;
	void (*message)(void *state, const struct message *message);
	void (*event)(void *state, const struct event *event);
	/* every line that has no message ID (or that the table did not take) */
	void (*loose_line)(void *state, const struct log_line *line, struct text raw);
	int (*finish)(void *state, const struct txn_summary *summary);
	/* at the end, instead of message(): a message still open whose lines
	 * were all replayed (nothing happened to it this run), so it is not
	 * counted or reported again; --state carries it over once more */
	void (*unchanged)(void *state, const struct message *message);
	/* The sink reads the arrival's protocol, host, ip, port, helo, auth,
	 * user, tls and message_id; without it they are "". Only the export
	 * does: copying them was 4% of a report's time. */
	bool arrival_details;
};

/* A busy server's queue holds thousands of messages, a troubled one
 * (frozen bounces) tens of thousands; each open message costs about 3 KiB,
 * so the default bounds the table near 800 MB. */
#define TXN_MAX_OPEN_DEFAULT 250000
/* Exim's own recipients_max is 50,000 since 4.95 (unlimited before); a
 * message past these is hostile or broken, and is kept in part. */
#define TXN_RECIPIENTS_MAX 10000
#define TXN_LINES_MAX 100000

struct txn_options {
	bool keep_lines;      /* store raw lines (drill-down) */
	size_t max_open;      /* open messages kept at once; 0: TXN_MAX_OPEN_DEFAULT */
};

struct txn_table;

struct txn_table *txn_new(const struct txn_options *options, struct record_sink *out);
void txn_free(struct txn_table *table);

/* Feed one lexed line and its raw text. */
void txn_feed(struct txn_table *table, const struct log_line *line, struct text raw);

/* Hand the still-open messages to the sink (oldest first) and call its
 * finish; returns the sink's exit status. */
int txn_finish(struct txn_table *table, const struct pipeline_summary *summary);

/* The open message with this ID, or NULL. Allocates nothing. */
const struct message *txn_lookup(const struct txn_table *table, struct text id);
size_t txn_open_count(const struct txn_table *table);

/* The table as a line sink for pipeline_run(). */
struct sink txn_sink(struct txn_table *table);

/* Split Exim's "SMTP error from remote mail server after CMD: REPLY" (and
 * the LMTP, timeout and older forms) into stage and reply. Views point into
 * text; false when text holds no SMTP reply. */
struct smtp_reply_parts {
	struct text stage; /* normalised name, static */
	int code;
	struct text status;
	struct text reply; /* from the code to the end */
};
bool txn_parse_smtp_error(struct text text, struct smtp_reply_parts *out);

#endif
