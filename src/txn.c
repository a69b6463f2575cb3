/*
 * txn: message-ID keyed records built from lexed lines (txn.h).
 *
 * The table is an open-addressing hash of pointers keyed by ID (linear
 * probing, backward-shift deletion), so a lookup allocates nothing. A
 * record's strings live in its own arena and go with it when it closes.
 * It must never keep a closed message, never read a view after the line
 * is gone (everything kept is copied), and never let one odd line stop it:
 * a line that fits no transition is kept as a raw line and ignored.
 *
 * Nor may a log make it grow without bound: open messages are counted
 * against max_open and the oldest is handed over early; one message's
 * recipients and raw lines are capped; and a message's arena, which
 * collects a superseded copy each time a recipient's reason changes, is
 * compacted when it has doubled, so a million deferrals of one message
 * cost what one does.
 */
#include "txn.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "strbuf.h"
#include "xalloc.h"

static const char *const status_names[RCPT_STATUS_COUNT] = {
	"pending", "delivered", "deferred", "failed", "discarded", "suppressed",
};

const char *recipient_status_name(enum recipient_status status)
{
	return (unsigned)status < RCPT_STATUS_COUNT ? status_names[status] : "?";
}

/* A message's arena is first compacted at this size, then whenever it
 * has doubled since: the copying costs O(1) per byte kept. */
#define COMPACT_MIN (64 * 1024)
#define TXN_SPARE_MAX 64
#define TXN_SPARE_RECIPIENTS 64

struct txn_table {
	struct message **slots;
	uint64_t *hashes; /* message_id_hash of each slot's ID */
	size_t capacity;  /* power of two */
	size_t count;
	struct message *oldest, *newest; /* open order */
	bool warned_open, warned_recipients, warned_lines;
	struct txn_options options;
	struct record_sink *out;
	struct txn_summary summary;
	struct strbuf scratch;  /* for unquoting, reused */
	/* The line being fed was carried over from an earlier run (--state):
	 * it rebuilds its message, but was counted and timed back then. */
	bool replaying;
	/* Records of closed messages, kept for the next ones to open */
	struct message *spare[TXN_SPARE_MAX];
	size_t spare_count;
};

/* ---- hash table ---- */

/* Each slot's hash is kept beside it, so a probe compares a word before it
 * follows a pointer, and no ID is measured with strlen. */
static size_t slot_of(const struct txn_table *table, const char *id, size_t length,
                      uint64_t hash)
{
	size_t mask = table->capacity - 1;
	size_t i = (size_t)hash & mask;
	while (table->slots[i]) {
		const char *key = table->slots[i]->id;
		if (table->hashes[i] == hash && memcmp(key, id, length) == 0 && key[length] == '\0')
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

static void put_slot(struct txn_table *table, size_t i, struct message *m, uint64_t hash)
{
	table->slots[i] = m;
	table->hashes[i] = hash;
}

static void grow(struct txn_table *table)
{
	struct message **old = table->slots;
	uint64_t *old_hashes = table->hashes;
	size_t old_capacity = table->capacity;
	table->capacity = old_capacity ? old_capacity * 2 : 1024;
	table->slots = xcalloc(table->capacity, sizeof *table->slots);
	table->hashes = xcalloc(table->capacity, sizeof *table->hashes);
	for (size_t i = 0; i < old_capacity; i++)
		if (old[i])
			put_slot(table, slot_of(table, old[i]->id, strlen(old[i]->id), old_hashes[i]),
			         old[i], old_hashes[i]);
	free(old);
	free(old_hashes);
}

/* Backward-shift deletion keeps every probe chain unbroken. */
static void remove_slot(struct txn_table *table, size_t i)
{
	size_t mask = table->capacity - 1;
	table->slots[i] = NULL;
	for (size_t j = (i + 1) & mask; table->slots[j]; j = (j + 1) & mask) {
		size_t home = (size_t)table->hashes[j] & mask;
		/* move slot j into the hole when the hole lies between its home and j */
		bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			put_slot(table, i, table->slots[j], table->hashes[j]);
			table->slots[j] = NULL;
			i = j;
		}
	}
	table->count--;
}

const struct message *txn_lookup(const struct txn_table *table, struct text id)
{
	if (table->count == 0 || id.len == 0 || id.len > MESSAGE_ID_MAX)
		return NULL;
	return table->slots[slot_of(table, id.ptr, id.len, message_id_hash(id.ptr, id.len))];
}

size_t txn_open_count(const struct txn_table *table)
{
	return table->count;
}

/* ---- records ---- */

static const char empty[] = "";

/* A record as calloc gives it, and arena_init makes its arena: a spare
 * one when there is one, which keeps its arena's block and its
 * recipient arrays. */
static struct message *message_new(struct txn_table *table, struct text id)
{
	struct message *m;
	if (table->spare_count) {
		m = table->spare[--table->spare_count];
		struct arena arena = m->arena;
		struct recipient *recipients = m->recipients;
		uint64_t *address_hashes = m->address_hashes;
		size_t recipient_capacity = m->recipient_capacity;
		memset(m, 0, sizeof *m);
		m->arena = arena;
		m->recipients = recipients;
		m->address_hashes = address_hashes;
		m->recipient_capacity = recipient_capacity;
	} else {
		m = xcalloc(1, sizeof *m);
		arena_init(&m->arena);
	}
	memcpy(m->id, id.ptr, id.len);
	struct arrival *a = &m->arrival;
	a->sender = a->protocol = a->host = a->ip = a->port = a->helo = a->auth =
		a->user = a->tls = a->subject = a->message_id = empty;
	m->reject_line = empty;
	return m;
}

static void message_free(struct message *m)
{
	if (m == NULL)
		return;
	free(m->recipients);
	free(m->address_hashes);
	free(m->recipient_index);
	free(m->lines);
	arena_release(&m->arena);
	free(m);
}

/*
 * A closed message's record, kept for the next one (most messages open
 * and close within seconds, and allocating each one's record, recipient
 * arrays and first string block again was a tenth of the table's time),
 * up to TXN_SPARE_MAX records with arrays for a usual number of
 * recipients; else freed.
 */
static void retire_message(struct txn_table *table, struct message *m)
{
	if (table->spare_count == TXN_SPARE_MAX) {
		message_free(m);
		return;
	}
	if (m->recipient_capacity > TXN_SPARE_RECIPIENTS) {
		free(m->recipients);
		free(m->address_hashes);
		m->recipients = NULL;
		m->address_hashes = NULL;
		m->recipient_capacity = 0;
	}
	free(m->recipient_index);
	free(m->lines);
	m->recipient_index = NULL;
	m->lines = NULL;
	arena_clear(&m->arena);
	table->spare[table->spare_count++] = m;
}

static void close_message(struct txn_table *table, struct message *m, enum message_state state);

/* The oldest open message goes to the sink as it stands, so a log with
 * more open messages than the limit costs memory for the limit only. */
static void evict_oldest(struct txn_table *table)
{
	struct message *m = table->oldest;
	if (!table->warned_open) {
		table->warned_open = true;
		msg_warn("more than %zu messages open at once; the oldest are reported as they "
		         "stand, still pending (--max-open)", table->options.max_open);
	}
	m->evicted = true;
	table->summary.evicted++;
	close_message(table, m, TXN_OPEN);
}

static struct message *open_message(struct txn_table *table, struct text id)
{
	/* id is a lexed message ID, 1 to MESSAGE_ID_MAX bytes. Hashed once:
	 * the probe that finds it not open is the slot it goes in, unless an
	 * eviction or a growth moves slots first. */
	uint64_t hash = message_id_hash(id.ptr, id.len);
	size_t i = slot_of(table, id.ptr, id.len, hash);
	if (table->slots[i])
		return table->slots[i];
	bool slots_moved = false;
	if (table->count >= table->options.max_open) {
		evict_oldest(table);
		slots_moved = true; /* removal shifts slots back */
	}
	if ((table->count + 1) * 4 > table->capacity * 3) {
		grow(table);
		slots_moved = true;
	}
	if (slots_moved)
		i = slot_of(table, id.ptr, id.len, hash);
	struct message *m = message_new(table, id);
	m->compact_at = COMPACT_MIN;
	put_slot(table, i, m, hash);
	table->count++;
	m->older = table->newest;
	if (table->newest)
		table->newest->newer = m;
	else
		table->oldest = m;
	table->newest = m;
	return m;
}

static void unlink_message(struct txn_table *table, struct message *m)
{
	if (m->older)
		m->older->newer = m->newer;
	else if (table->oldest == m)
		table->oldest = m->newer;
	if (m->newer)
		m->newer->older = m->older;
	else if (table->newest == m)
		table->newest = m->older;
	m->older = m->newer = NULL;
}

static const char *keep(struct message *m, struct text t)
{
	return t.len ? arena_strdup(&m->arena, t) : empty;
}

static void keep_line(struct txn_table *table, struct message *m, struct text raw)
{
	if (!table->options.keep_lines)
		return;
	if (m->line_count >= TXN_LINES_MAX) {
		m->lines_left_out++;
		if (!table->warned_lines) {
			table->warned_lines = true;
			msg_warn("%s: more than %d lines for one message; the rest are not kept",
			         m->id, TXN_LINES_MAX);
		}
		return;
	}
	if (m->line_count == m->line_capacity) {
		m->line_capacity = m->line_capacity ? m->line_capacity * 2 : 8;
		m->lines = xreallocarray(m->lines, m->line_capacity, sizeof *m->lines);
	}
	m->lines[m->line_count++] = arena_strdup(&m->arena, raw);
}

/* "final (parent) <original>" -> final and original (section 7). */
static void split_address(struct text address, struct text *final, struct text *original)
{
	*final = address;
	*original = text_make(NULL, 0);
	if (address.len >= 2 && address.ptr[address.len - 1] == '>') {
		for (size_t i = address.len - 1; i-- > 0;) {
			if (address.ptr[i] == '<' && i > 0 && address.ptr[i - 1] == ' ') {
				*original = text_make(address.ptr + i + 1, address.len - i - 2);
				final->len = i - 1;
				break;
			}
		}
	}
	/* a parent in parentheses after the final address: "x (parent@y)" */
	if (final->len > 2 && final->ptr[final->len - 1] == ')') {
		for (size_t i = final->len - 1; i-- > 0;)
			if (final->ptr[i] == '(' && i > 0 && final->ptr[i - 1] == ' ') {
				if (i - 1 > 0) /* "(system filter)" alone stays the address */
					final->len = i - 1;
				break;
			}
	}
}

static uint64_t address_hash(struct text address)
{
	return bytes_hash(address.ptr, address.len);
}

static bool is_address(const char *address, struct text t)
{
	return strlen(address) == t.len && memcmp(address, t.ptr, t.len) == 0;
}

/* The recipient a delivery line names: its final address, with the same
 * original or none yet; or, by_original, "=> bob <bob@example.com>"
 * (log_as_local) after "== bob@example.com" or "for bob@example.com",
 * the same recipient now with its final form. */
static bool recipient_matches(const struct recipient *r, bool by_original, struct text final,
                              struct text original)
{
	if (by_original)
		return r->original[0] == '\0' && is_address(r->address, original);
	return is_address(r->address, final) &&
	       (original.len == 0 || r->original[0] == '\0' || is_address(r->original, original));
}

/*
 * A message with many recipients (a list's, or a hostile log's: every
 * line of a message looks one up) is searched through an index by address
 * hash: open addressing over recipient numbers. An entry is never
 * removed; when a recipient's address changes, an entry for its new hash
 * is added, and the old one fails the hash check from then on.
 */
#define RECIPIENT_INDEX_FROM 32
#define INDEX_EMPTY UINT32_MAX

static void index_insert(struct message *m, size_t i)
{
	size_t mask = m->index_capacity - 1;
	size_t at = (size_t)m->address_hashes[i] & mask;
	while (m->recipient_index[at] != INDEX_EMPTY)
		at = (at + 1) & mask;
	m->recipient_index[at] = (uint32_t)i;
	m->index_used++;
}

/* Recipient i is new, or has a new address. */
static void index_add(struct message *m, size_t i)
{
	if (m->recipient_count < RECIPIENT_INDEX_FROM)
		return;
	if (m->recipient_index && (m->index_used + 1) * 2 <= m->index_capacity) {
		index_insert(m, i);
		return;
	}
	free(m->recipient_index);
	m->index_capacity = 64;
	while (m->index_capacity < 4 * m->recipient_count)
		m->index_capacity *= 2;
	m->recipient_index = xreallocarray(NULL, m->index_capacity, sizeof *m->recipient_index);
	memset(m->recipient_index, 0xff, m->index_capacity * sizeof *m->recipient_index);
	m->index_used = 0;
	for (size_t k = 0; k < m->recipient_count; k++)
		index_insert(m, k);
}

/* The first recipient (lowest number) whose address hashes to hash and
 * that matches; the hashes are compared before the strings. */
static struct recipient *first_match(struct message *m, uint64_t hash, bool by_original,
                                     struct text final, struct text original)
{
	size_t best = SIZE_MAX;
	if (m->recipient_index) {
		size_t mask = m->index_capacity - 1;
		for (size_t at = (size_t)hash & mask; m->recipient_index[at] != INDEX_EMPTY;
		     at = (at + 1) & mask) {
			size_t i = m->recipient_index[at];
			if (i < best && m->address_hashes[i] == hash &&
			    recipient_matches(&m->recipients[i], by_original, final, original))
				best = i;
		}
	} else {
		for (size_t i = 0; i < m->recipient_count && best == SIZE_MAX; i++)
			if (m->address_hashes[i] == hash &&
			    recipient_matches(&m->recipients[i], by_original, final, original))
				best = i;
	}
	return best == SIZE_MAX ? NULL : &m->recipients[best];
}

static struct recipient *find_recipient(struct message *m, struct text final, struct text original)
{
	struct recipient *r = first_match(m, address_hash(final), false, final, original);
	if (r == NULL && original.len)
		r = first_match(m, address_hash(original), true, final, original);
	return r;
}

/* NULL past TXN_RECIPIENTS_MAX: the line is counted, not tracked. */
static struct recipient *add_recipient(struct txn_table *table, struct message *m,
                                       struct text final, struct text original)
{
	if (m->recipient_count >= TXN_RECIPIENTS_MAX) {
		m->recipients_left_out++;
		if (!table->warned_recipients) {
			table->warned_recipients = true;
			msg_warn("%s: more than %d recipients; lines for the others are counted, "
			         "not tracked", m->id, TXN_RECIPIENTS_MAX);
		}
		return NULL;
	}
	if (m->recipient_count == m->recipient_capacity) {
		m->recipient_capacity = m->recipient_capacity ? m->recipient_capacity * 2 : 4;
		m->recipients = xreallocarray(m->recipients, m->recipient_capacity,
		                              sizeof *m->recipients);
		m->address_hashes = xreallocarray(m->address_hashes, m->recipient_capacity,
		                                  sizeof *m->address_hashes);
	}
	m->address_hashes[m->recipient_count] = address_hash(final);
	struct recipient *r = &m->recipients[m->recipient_count++];
	index_add(m, m->recipient_count - 1);
	memset(r, 0, sizeof *r);
	r->address = keep(m, final);
	r->original = keep(m, original);
	r->router = r->transport = r->host = r->ip = r->error = r->line = empty;
	r->defer_error = r->defer_line = empty;
	r->smtp.status = r->smtp.stage = r->smtp.text = empty;
	r->defer_smtp.status = r->defer_smtp.stage = r->defer_smtp.text = empty;
	return r;
}

static struct recipient *recipient_for(struct txn_table *table, struct message *m,
                                       struct text address)
{
	struct text final, original;
	split_address(address, &final, &original);
	struct recipient *r = find_recipient(m, final, original);
	if (r == NULL) {
		r = add_recipient(table, m, final, original);
	} else if (original.len && r->original[0] == '\0') {
		/* the <= line named the original; the delivery gives the final */
		r->address = keep(m, final);
		r->original = keep(m, original);
		m->address_hashes[r - m->recipients] = address_hash(final);
		index_add(m, (size_t)(r - m->recipients));
	}
	return r;
}

/* ---- SMTP replies in Exim's error texts (section 11) ---- */

struct stage_name {
	const char *prefix;
	const char *stage;
};

static const struct stage_name stage_names[] = {
	{ "initial connection", "connect" },
	{ "EHLO", "HELO" }, { "HELO", "HELO" }, { "LHLO", "HELO" },
	{ "MAIL FROM", "MAIL FROM" }, { "RCPT TO", "RCPT TO" },
	{ "end of data", "end of data" }, { "sending data block", "end of data" },
	{ "DATA", "DATA" }, { "BDAT", "end of data" }, { "STARTTLS", "STARTTLS" },
	{ "AUTH", "AUTH" },
};

static struct text stage_of(struct text command)
{
	if (text_starts_with(command, "pipelined "))
		command = text_skip(command, 10);
	for (size_t i = 0; i < sizeof stage_names / sizeof *stage_names; i++)
		if (text_starts_with(command, stage_names[i].prefix))
			return text_make(stage_names[i].stage, strlen(stage_names[i].stage));
	return text_make(NULL, 0);
}

bool txn_parse_smtp_error(struct text text, struct smtp_reply_parts *out)
{
	static const char *const intros[] = {
		"SMTP error from remote mail server after ",
		"SMTP error from remote mailer after ",
		"LMTP error after ", "PRDR error after ",
	};
	memset(out, 0, sizeof *out);
	for (size_t k = 0; k < sizeof intros / sizeof *intros; k++) {
		long at = text_find(text, intros[k]);
		if (at < 0)
			continue;
		struct text rest = text_skip(text, (size_t)at + strlen(intros[k]));
		out->stage = stage_of(rest);
		/* the reply follows the command's ": "; a command may hold ": "
		 * itself only inside <...>, so look after the last '>' if any */
		long close = text_find(rest, ">: ");
		long colon = close >= 0 ? close + 1 : text_find(rest, ": ");
		if (colon < 0)
			return out->stage.len > 0;
		struct text reply = text_skip(rest, (size_t)colon + 2);
		/* pre-4.86: "...: host NAME [IP]: 550 ..." */
		if (text_starts_with(reply, "host ")) {
			long more = text_find(reply, "]: ");
			if (more >= 0)
				reply = text_skip(reply, (size_t)more + 3);
		}
		struct smtp_reply_view view;
		if (fields_parse_reply(reply, &view)) {
			out->code = view.code;
			out->status = view.status;
		}
		out->reply = reply;
		return true;
	}
	static const char *const timeouts[] = { "SMTP timeout after ", "LMTP timeout after ",
	                                        "Remote host closed connection in response to " };
	for (size_t k = 0; k < sizeof timeouts / sizeof *timeouts; k++) {
		long at = text_find(text, timeouts[k]);
		if (at >= 0) {
			out->stage = stage_of(text_skip(text, (size_t)at + strlen(timeouts[k])));
			return true;
		}
	}
	return false;
}

static void set_reply(struct message *m, struct smtp_reply *reply, struct text message)
{
	struct smtp_reply_parts parts;
	reply->code = 0;
	reply->status = reply->stage = reply->text = empty;
	if (!txn_parse_smtp_error(message, &parts))
		return;
	reply->code = parts.code;
	reply->status = keep(m, parts.status);
	reply->stage = parts.stage.len ? parts.stage.ptr : empty; /* static */
	reply->text = keep(m, parts.reply);
}

/* ---- transitions ---- */

static void note_attempt(struct recipient *r, const struct log_line *line)
{
	r->attempts++;
	if (r->first_time == 0)
		r->first_time = line->epoch;
	r->last_time = line->epoch;
}

static void take_route(struct message *m, struct recipient *r, const struct log_line *line)
{
	const struct fields *f = &line->fields;
	if (fields_has(f, FIELD_R))
		r->router = keep(m, fields_get(f, FIELD_R));
	if (fields_has(f, FIELD_T))
		r->transport = keep(m, fields_get(f, FIELD_T));
	struct host_view host;
	if (fields_has(f, FIELD_H) && fields_parse_host(fields_get(f, FIELD_H), &host)) {
		r->host = keep(m, host.name.len ? host.name : host.ip);
		r->ip = keep(m, host.ip);
	} else if (m->attempt_host && line->kind != LK_RETRY_NOT_REACHED) {
		r->host = m->attempt_host;
		r->ip = m->attempt_ip;
	}
}

static void note_host_error(struct message *m, const struct log_line *line)
{
	struct host_view host;
	if (!fields_parse_host(fields_get(&line->fields, FIELD_H), &host))
		return;
	m->attempt_host = keep(m, host.name.len ? host.name : host.ip);
	m->attempt_ip = keep(m, host.ip);
}

static bool is_discard(struct text final, const struct log_line *line)
{
	struct text transport = fields_get(&line->fields, FIELD_T);
	return text_equals(final, ":blackhole:") || text_equals(final, "discarded") ||
	       text_starts_with(line->address, "blackhole (") ||
	       text_equals(transport, "**bypassed**");
}

/* "=> blackhole (DATA ACL discarded recipients)": an ACL threw the whole
 * message away; every recipient not yet settled is discarded. */
static bool discard_pending(struct message *m, const struct log_line *line, struct text raw)
{
	if (!text_starts_with(line->address, "blackhole (") || !text_contains(line->address, " discarded"))
		return false;
	bool any = false;
	for (size_t i = 0; i < m->recipient_count; i++) {
		struct recipient *r = &m->recipients[i];
		if (r->status != RCPT_PENDING)
			continue;
		r->status = RCPT_DISCARDED;
		r->line = keep(m, raw);
		note_attempt(r, line);
		any = true;
	}
	return any;
}

static void on_delivery(struct txn_table *table, struct message *m, const struct log_line *line,
                        struct text raw)
{
	if (discard_pending(m, line, raw))
		return;
	struct recipient *r = recipient_for(table, m, line->address);
	if (r == NULL)
		return;
	struct text final, original;
	split_address(line->address, &final, &original);
	take_route(m, r, line);
	note_attempt(r, line);
	if (line->flag == FLAG_SUPPRESSED)
		r->status = RCPT_SUPPRESSED;
	else
		r->status = is_discard(final, line) ? RCPT_DISCARDED : RCPT_DELIVERED;
	/* an earlier deferral's reason stays in defer_*, not as the outcome */
	r->error = empty;
	r->smtp.code = 0;
	r->smtp.status = r->smtp.stage = r->smtp.text = empty;
	r->line = keep(m, raw);
}

static void on_failure(struct txn_table *table, struct message *m, const struct log_line *line,
                       struct text raw)
{
	struct recipient *r = recipient_for(table, m, line->address);
	if (r == NULL)
		return;
	take_route(m, r, line);
	note_attempt(r, line);
	r->status = RCPT_FAILED;
	r->error = keep(m, line->message);
	set_reply(m, &r->smtp, line->message);
	r->line = keep(m, raw);
}

static void on_deferral(struct txn_table *table, struct message *m, const struct log_line *line,
                        struct text raw)
{
	struct recipient *r = recipient_for(table, m, line->address);
	if (r == NULL)
		return;
	take_route(m, r, line);
	/* "retry time not reached" is no attempt: keep the reason that was */
	bool retry_only = line->kind == LK_RETRY_NOT_REACHED;
	if (!retry_only) {
		note_attempt(r, line);
		r->deferrals++;
	}
	if (r->status == RCPT_PENDING || r->status == RCPT_DEFERRED)
		r->status = RCPT_DEFERRED;
	if (retry_only && r->defer_error[0])
		return;
	struct text reason = line->message.len ? line->message : line->strerror_text;
	r->defer_error = keep(m, reason);
	r->defer_line = keep(m, raw);
	set_reply(m, &r->defer_smtp, reason);
	if (r->status == RCPT_DEFERRED) {
		r->error = r->defer_error;
		r->smtp = r->defer_smtp;
		r->line = r->defer_line;
	}
}

/* What only the export writes (record_sink.arrival_details). */
static void keep_arrival_details(struct message *m, const struct fields *f)
{
	struct arrival *a = &m->arrival;
	a->protocol = keep(m, fields_get(f, FIELD_P));
	a->auth = keep(m, fields_get(f, FIELD_A));
	a->user = keep(m, fields_get(f, FIELD_U));
	a->tls = keep(m, fields_get(f, FIELD_X));
	a->message_id = keep(m, fields_get(f, FIELD_ID));
	struct host_view host;
	if (fields_has(f, FIELD_H) && fields_parse_host(fields_get(f, FIELD_H), &host)) {
		a->host = keep(m, host.name);
		a->helo = keep(m, host.helo);
		a->ip = keep(m, host.ip);
		a->port = keep(m, host.port);
	}
}

static void on_arrival(struct txn_table *table, struct message *m, const struct log_line *line)
{
	const struct fields *f = &line->fields;
	struct arrival *a = &m->arrival;
	a->seen = true;
	a->time = line->epoch;
	a->sender = keep(m, line->address);
	struct text size = fields_get(f, FIELD_S);
	a->size = 0;
	for (size_t i = 0; i < size.len && size.ptr[i] >= '0' && size.ptr[i] <= '9'; i++)
		a->size = a->size * 10 + (uint64_t)(size.ptr[i] - '0');
	if (fields_has(f, FIELD_T)) {
		struct text quoted = fields_get(f, FIELD_T);
		if (quoted.len == 0 || memchr(quoted.ptr, '\\', quoted.len) == NULL) {
			a->subject = keep(m, quoted); /* nearly every one: nothing escaped */
		} else {
			strbuf_reset(&table->scratch);
			fields_unquote(quoted, &table->scratch);
			a->subject = keep(m, strbuf_text(&table->scratch));
		}
	}
	if (table->out->arrival_details)
		keep_arrival_details(m, f);
	struct text parent = fields_get(f, FIELD_R);
	if (parent.len && lexer_is_message_id(parent.ptr, parent.len)) {
		memcpy(m->bounce_of, parent.ptr, parent.len);
		m->bounce_of[parent.len] = '\0';
		struct message *p = (struct message *)txn_lookup(table, parent);
		if (p)
			memcpy(p->bounced_by, m->id, sizeof m->id);
	}
	/* "for a b c" (+received_recipients): recipients known up front */
	struct text list = fields_get(f, FIELD_FOR);
	while (list.len) {
		const char *space = memchr(list.ptr, ' ', list.len);
		size_t n = space ? (size_t)(space - list.ptr) : list.len;
		/* cppcheck-suppress knownConditionTrueFalse ; false positive: n is 0 at a space */
		if (n && !text_equals(text_make(list.ptr, n), "<trunc>"))
			recipient_for(table, m, text_make(list.ptr, n));
		list = text_skip(list, n + (space != NULL));
	}
	if (!table->replaying)
		table->summary.received++;
}

/* ---- handing records out ---- */

/* The ID's first six characters, base 62; -1 when they are not. */
static int64_t id_time(const char *id)
{
	int64_t t = 0;
	for (int i = 0; i < 6; i++) {
		char c = id[i];
		int digit = c >= '0' && c <= '9' ? c - '0'
			: c >= 'A' && c <= 'Z' ? c - 'A' + 10
			: c >= 'a' && c <= 'z' ? c - 'a' + 36 : -1;
		if (digit < 0)
			return -1;
		t = t * 62 + digit;
	}
	return t;
}

int64_t message_arrival_time(const struct message *message)
{
	if (message->arrival.seen)
		return message->arrival.time;
	int64_t t = id_time(message->id);
	if (t >= 0 && t <= message->first_time && message->first_time - t <= 366 * 86400)
		return t;
	return -1;
}

struct text message_sender_label(const struct message *message)
{
	if (!message->arrival.seen)
		return TEXT_LITERAL("(arrived before the input)");
	if (message->arrival.sender[0] == '\0')
		return TEXT_LITERAL("<>");
	return text_of(message->arrival.sender);
}

int64_t message_queue_seconds(const struct message *message)
{
	int64_t arrival = message_arrival_time(message);
	if (arrival < 0 || message->completed == 0 || message->completed < arrival)
		return -1;
	return message->completed - arrival;
}

bool recipient_was_deferred(const struct recipient *recipient)
{
	return recipient->deferrals > 0 || recipient->status == RCPT_DEFERRED;
}

static void count_outcome(struct txn_summary *s, const struct message *m)
{
	for (size_t i = 0; i < m->recipient_count; i++) {
		const struct recipient *r = &m->recipients[i];
		switch (r->status) {
		case RCPT_DELIVERED: s->delivered++; break;
		case RCPT_FAILED: s->failed++; break;
		case RCPT_DISCARDED: s->discarded++; break;
		default: break;
		}
		if (recipient_was_deferred(r))
			s->deferred++;
	}
	if (m->frozen)
		s->frozen++;
}

/* Out of the table and the open order, and freed. */
static void forget_message(struct txn_table *table, struct message *m)
{
	size_t length = strlen(m->id);
	size_t i = slot_of(table, m->id, length, message_id_hash(m->id, length));
	if (table->slots[i] == m)
		remove_slot(table, i);
	unlink_message(table, m);
	retire_message(table, m);
}

static void close_message(struct txn_table *table, struct message *m, enum message_state state)
{
	m->state = state;
	count_outcome(&table->summary, m);
	if (table->out->message)
		table->out->message(table->out->state, m);
	forget_message(table, m);
}

/* Still open, and every line of it replayed: nothing happened to it in
 * this run, so it is neither counted nor reported again; only --state
 * wants it, to carry it over once more. */
static void hand_over_unchanged(struct txn_table *table, struct message *m)
{
	m->state = TXN_OPEN;
	if (table->out->unchanged)
		table->out->unchanged(table->out->state, m);
	forget_message(table, m);
}

/* ---- events ---- */

bool txn_is_event_kind(enum line_kind kind)
{
	switch (kind) {
	case LK_AUTH_FAILED: case LK_REJECTED_CONNECT: case LK_REJECTED_HELO:
	case LK_REJECTED_MAIL: case LK_REJECTED_RCPT: case LK_REJECTED_DATA:
	case LK_REJECTED_OTHER: case LK_ACL_DISCARD: case LK_SENDER_VERIFY:
	case LK_CONNECTION_REFUSED: case LK_CONNECTION_DROPPED: case LK_TLS_ERROR:
	case LK_PROTOCOL_ERROR: case LK_SYNC_ERROR:
		return true;
	default:
		return false;
	}
}

static bool is_rejection(enum line_kind kind)
{
	return kind >= LK_REJECTED_CONNECT && kind <= LK_REJECTED_OTHER;
}

/*
 * The client's address in a line without an H= tag, such as
 * "login authenticator failed for (helo) [192.0.2.1]:1234: 535 ...": the
 * last "[ip]" before the reason (host.c writes the reliable address last;
 * the reason is written by the client and cannot be trusted), skipping
 * the server's own I=[ip].
 */
static struct text client_ip(struct text before_reason)
{
	struct text ip = text_make(NULL, 0);
	for (size_t i = 0; i < before_reason.len; i++) {
		const char *open = memchr(before_reason.ptr + i, '[', before_reason.len - i);
		if (open == NULL)
			break;
		i = (size_t)(open - before_reason.ptr);
		if (i >= 2 && before_reason.ptr[i - 1] == '=' && before_reason.ptr[i - 2] == 'I')
			continue;
		const char *close = memchr(before_reason.ptr + i, ']', before_reason.len - i);
		if (close == NULL)
			break;
		struct text inside = text_make(before_reason.ptr + i + 1,
		                               (size_t)(close - before_reason.ptr) - i - 1);
		bool looks_like_ip = inside.len && inside.len <= 45;
		for (size_t k = 0; looks_like_ip && k < inside.len; k++) {
			char c = inside.ptr[k];
			looks_like_ip = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			                (c >= 'A' && c <= 'F') || c == '.' || c == ':';
		}
		if (looks_like_ip)
			ip = inside;
	}
	return ip;
}

static struct log_zone line_zone(const struct log_line *line)
{
	return (struct log_zone){ line->has_zone, line->zone_offset_minutes };
}

/* "sender verify fail for <ghost@local.test>: Unrouteable address" has no
 * F=: the address Exim checked is the one in the angle brackets, which are
 * kept as F= keeps them. */
static struct text verified_sender(struct text body)
{
	long verify = text_find(body, "sender verify ");
	if (verify < 0)
		return text_make(NULL, 0);
	body = text_skip(body, (size_t)verify);
	long at = text_find(body, " for <");
	if (at < 0)
		return text_make(NULL, 0);
	struct text rest = text_skip(body, (size_t)at + 5); /* "<...>", as F= has it */
	const char *close = memchr(rest.ptr, '>', rest.len);
	return close ? text_make(rest.ptr, (size_t)(close - rest.ptr) + 1) : text_make(NULL, 0);
}

static void emit_event(struct txn_table *table, const struct log_line *line, struct text raw)
{
	struct event e;
	memset(&e, 0, sizeof e);
	e.kind = line->kind;
	e.time = line->epoch;
	e.zone = line_zone(line);
	e.message_id = line->message_id;
	e.sender = fields_get(&line->fields, FIELD_F);
	if (e.sender.len == 0 && line->kind == LK_SENDER_VERIFY)
		e.sender = verified_sender(line->body);
	e.detail = line->message;
	e.line = raw;
	struct host_view host;
	struct text h = fields_get(&line->fields, FIELD_H);
	if (h.len == 0) {
		/* "SMTP protocol synchronization error (...): rejected connection
		 * from H=[ip]:port input=...": Exim writes the host before any
		 * text the client chose, so the first " H=" is its own */
		long at = fields_find_host_tag(line->body);
		if (at >= 0) {
			struct fields inner;
			fields_clear(&inner);
			struct text rest = text_skip(line->body, (size_t)at + 1);
			fields_scan_prefix(rest.ptr, rest.len, &inner);
			h = fields_get(&inner, FIELD_H);
		}
	}
	if (h.len && fields_parse_host(h, &host)) {
		e.host = host.name;
		e.helo = host.helo;
		e.ip = host.ip;
	} else {
		struct text before = line->body;
		if (line->message.len && line->message.ptr >= line->body.ptr &&
		    line->message.ptr <= line->body.ptr + line->body.len)
			before.len = (size_t)(line->message.ptr - line->body.ptr);
		e.ip = client_ip(before);
	}
	if (is_rejection(line->kind))
		table->summary.rejected++;
	if (table->out->event)
		table->out->event(table->out->state, &e);
}

/* ---- compaction ---- */

static const char *moved(struct arena *to, const char *s)
{
	return s[0] ? arena_strdup(to, text_of(s)) : empty;
}

/* A current field that shares the deferral's copy keeps sharing it. */
static const char *moved_alias(struct arena *to, const char *s, const char *old_alias,
                               const char *new_alias)
{
	return s == old_alias ? new_alias : moved(to, s);
}

static void move_recipient(struct arena *to, struct recipient *r)
{
	struct recipient old = *r;
	r->address = moved(to, old.address);
	r->original = moved(to, old.original);
	r->router = moved(to, old.router);
	r->transport = moved(to, old.transport);
	r->host = moved(to, old.host);
	r->ip = moved(to, old.ip);
	r->defer_error = moved(to, old.defer_error);
	r->defer_line = moved(to, old.defer_line);
	r->defer_smtp.status = moved(to, old.defer_smtp.status);
	r->defer_smtp.text = moved(to, old.defer_smtp.text);
	r->error = moved_alias(to, old.error, old.defer_error, r->defer_error);
	r->line = moved_alias(to, old.line, old.defer_line, r->defer_line);
	r->smtp.status = moved_alias(to, old.smtp.status, old.defer_smtp.status,
	                             r->defer_smtp.status);
	r->smtp.text = moved_alias(to, old.smtp.text, old.defer_smtp.text, r->defer_smtp.text);
	/* smtp.stage and defer_smtp.stage are static names */
}

/* Copy what the message still points to into a fresh arena and drop the
 * old one with the superseded copies in it. Every string pointer of a
 * message and its recipients must be moved here (txn.h says so where they
 * are declared): one left behind dangles. */
static void compact(struct message *m)
{
	struct arena to;
	arena_init(&to);
	struct arrival *a = &m->arrival;
	const char **fields[] = { &a->sender, &a->protocol, &a->host, &a->ip, &a->port,
		                  &a->helo, &a->auth, &a->user, &a->tls, &a->subject,
		                  &a->message_id, &m->reject_line };
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		*fields[i] = moved(&to, *fields[i]);
	for (size_t i = 0; i < m->recipient_count; i++)
		move_recipient(&to, &m->recipients[i]);
	for (size_t i = 0; i < m->line_count; i++)
		m->lines[i] = moved(&to, m->lines[i]);
	if (m->attempt_host) { /* NULL when no per-host line came just before */
		m->attempt_host = moved(&to, m->attempt_host);
		m->attempt_ip = moved(&to, m->attempt_ip);
	}
	arena_release(&m->arena);
	m->arena = to;
	m->compact_at = m->arena.total * 2 > COMPACT_MIN ? m->arena.total * 2 : COMPACT_MIN;
}

/* ---- feeding ---- */

static void loose(struct txn_table *table, const struct log_line *line, struct text raw)
{
	if (table->out->loose_line)
		table->out->loose_line(table->out->state, line, raw);
}

static void feed_message_line(struct txn_table *table, const struct log_line *line, struct text raw)
{
	struct message *m = open_message(table, line->message_id);
	m->seen_this_run |= !table->replaying;
	if (m->arena.total >= m->compact_at)
		compact(m);
	if (m->first_time == 0)
		m->first_time = line->epoch;
	m->last_time = line->epoch;
	m->zone = line_zone(line);
	keep_line(table, m, raw);
	if (line->kind != LK_HOST_ERROR && line->kind != LK_DEFERRED && line->kind != LK_FAILED)
		m->attempt_host = m->attempt_ip = NULL;
	switch (line->kind) {
	case LK_HOST_ERROR:
		note_host_error(m, line);
		break;
	case LK_ARRIVAL:
	case LK_FAKE_REJECT:
		on_arrival(table, m, line);
		break;
	case LK_DELIVERY: case LK_ADDITIONAL: case LK_CUTTHROUGH: case LK_SUPPRESSED:
		on_delivery(table, m, line, raw);
		break;
	case LK_FAILED:
		on_failure(table, m, line, raw);
		break;
	case LK_DEFERRED: case LK_RETRY_NOT_REACHED:
		on_deferral(table, m, line, raw);
		break;
	case LK_FROZEN: case LK_SKIPPED_FROZEN:
		m->frozen = true;
		break;
	case LK_UNFROZEN:
		m->frozen = false;
		break;
	case LK_COMPLETED:
		m->completed = line->epoch;
		close_message(table, m, TXN_COMPLETED);
		break;
	default:
		if (txn_is_event_kind(line->kind)) {
			emit_event(table, line, raw);
			/* an ID given to a message that was then refused (fmt s22 9:
			 * "<ID> ... rejected ..."); a PRDR refusal of one recipient
			 * does not end the message */
			if (is_rejection(line->kind) && !m->arrival.seen &&
			    text_contains(line->body, "rejected")) {
				m->reject_line = keep(m, raw);
				close_message(table, m, TXN_REJECTED);
			}
		}
		break;
	}
}

static void note_time(struct txn_summary *summary, int64_t t)
{
	struct time_span span = { summary->first_time, summary->last_time };
	time_span_note(&span, t);
	summary->first_time = span.first;
	summary->last_time = span.last;
}

void txn_feed(struct txn_table *table, const struct log_line *line, struct text raw)
{
	if (line->kind == LK_BLANK)
		return;
	if (line->kind == LK_CONTINUATION) {
		struct message *m = line->message_id.len
			? (struct message *)txn_lookup(table, line->message_id) : NULL;
		if (m)
			keep_line(table, m, raw);
		else
			loose(table, line, raw);
		return;
	}
	if (!table->replaying)
		note_time(&table->summary, line->epoch);
	if (line->message_id.len) {
		feed_message_line(table, line, raw);
		return;
	}
	if (txn_is_event_kind(line->kind))
		emit_event(table, line, raw);
	loose(table, line, raw);
}

/* ---- life cycle ---- */

struct txn_table *txn_new(const struct txn_options *options, struct record_sink *out)
{
	struct txn_table *table = xcalloc(1, sizeof *table);
	table->options = *options;
	if (table->options.max_open == 0)
		table->options.max_open = TXN_MAX_OPEN_DEFAULT;
	table->out = out;
	strbuf_init(&table->scratch);
	grow(table);
	return table;
}

void txn_free(struct txn_table *table)
{
	if (table == NULL)
		return;
	for (size_t i = 0; i < table->capacity; i++)
		message_free(table->slots[i]);
	for (size_t i = 0; i < table->spare_count; i++)
		message_free(table->spare[i]);
	free(table->slots);
	free(table->hashes);
	strbuf_release(&table->scratch);
	free(table);
}

static int by_first_time(const void *a, const void *b)
{
	const struct message *x = *(struct message *const *)a, *y = *(struct message *const *)b;
	if (x->first_time != y->first_time)
		return x->first_time < y->first_time ? -1 : 1;
	return strcmp(x->id, y->id);
}

int txn_finish(struct txn_table *table, const struct pipeline_summary *summary)
{
	size_t n = 0;
	struct message **open = xcalloc(table->count ? table->count : 1, sizeof *open);
	for (size_t i = 0; i < table->capacity; i++)
		if (table->slots[i])
			open[n++] = table->slots[i];
	qsort(open, n, sizeof *open, by_first_time);
	for (size_t i = 0; i < n; i++)
		if (open[i]->seen_this_run)
			table->summary.open_at_end++;
	for (size_t i = 0; i < n; i++)
		if (open[i]->seen_this_run)
			close_message(table, open[i], TXN_OPEN);
		else
			hand_over_unchanged(table, open[i]);
	free(open);
	/* the times of the lines the pipeline kept back (time_only_kinds) */
	note_time(&table->summary, summary->time_only.first);
	note_time(&table->summary, summary->time_only.last);
	table->summary.pipeline = summary;
	return table->out->finish ? table->out->finish(table->out->state, &table->summary) : 0;
}

/* ---- as a pipeline sink ---- */

static void sink_line(void *state, const struct log_line *line, const struct input_line *raw)
{
	struct txn_table *table = state;
	table->replaying = raw->replayed;
	txn_feed(table, line, raw->text);
	table->replaying = false;
}

static int sink_finish(void *state, const struct pipeline_summary *summary)
{
	return txn_finish(state, summary);
}

/* A line of no message is only an event or a loose line to the table;
 * without a taker of loose lines, the rest are their time alone. */
static uint64_t time_only_kinds(const struct txn_table *table)
{
	if (table->out->loose_line)
		return 0;
	uint64_t kinds = 0;
	for (int k = 0; k < LINE_KIND_COUNT; k++)
		if (!txn_is_event_kind((enum line_kind)k) && k != LK_UNKNOWN &&
		    k != LK_CONTINUATION && k != LK_BLANK)
			kinds |= UINT64_C(1) << k;
	return kinds;
}

struct sink txn_sink(struct txn_table *table)
{
	return (struct sink){ .state = table, .line = sink_line, .finish = sink_finish,
	                      .time_only_kinds = time_only_kinds(table) };
}
