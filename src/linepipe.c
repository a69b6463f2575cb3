/*
 * linepipe: a single-producer, single-consumer ring of lexed lines and a
 * ring of the bytes they view.
 *
 * The counters say who owns what: slots [consumed, produced) are the
 * consumer's to read, the rest the producer's to fill. Each is written by
 * one thread only; its store (sequentially consistent, so at least a
 * release) also makes the slots and bytes written before it visible to
 * the other thread's load. Each side publishes once per LINEPIPE_BATCH
 * lines and whenever it is about to wait, and rereads the other's counter
 * only when its cached copy says it must wait: the two cores then trade a
 * cache line per batch, not per line. The groups of fields each thread
 * writes are kept a cache line apart for the same reason. A side that
 * must wait yields for a while, then sleeps on the condition variable
 * after saying so in a flag, which the other side reads after each
 * publication (see wait_until for why no wake-up is lost).
 */
#include "linepipe.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "xalloc.h"

#define LINEPIPE_YIELDS 256

struct slot {
	uint64_t bytes_end; /* the byte counter after this line's copy */
	struct input_line raw;
	struct log_line line;
	/* a continuation line's message_id views the lexer's copy of its
	 * entry's ID, which the next entry overwrites: kept here instead */
	char entry_id[MESSAGE_ID_MAX];
};

#define CACHE_LINE 64

struct linepipe {
	linepipe_source *source;
	void *source_state;
	struct lexer *lexer;
	linepipe_filter *filter;
	void *filter_state;
	struct input *windows; /* the input, when its lines are read where they lie */
	struct slot *slots;
	char *bytes;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;

	/* each on a cache line of its own */
	_Alignas(CACHE_LINE) _Atomic uint64_t produced; /* by the producer, a batch at a time */
	_Alignas(CACHE_LINE) _Atomic uint64_t consumed; /* by the consumer, a batch at a time */
	/* written seldom */
	_Alignas(CACHE_LINE) atomic_bool done; /* the producer has published its last line */
	atomic_bool stop;      /* the consumer wants no more */
	atomic_bool producer_waiting, consumer_waiting;

	/* the producer's own */
	_Alignas(CACHE_LINE) uint64_t filled; /* slots filled, published or not */
	uint64_t seen_consumed; /* consumed, as last read */
	uint64_t bytes_written;
	uint64_t bytes_wanted;  /* by the line being copied (bytes_free) */
	/* the windows lines in slots lie in, oldest first, each with the
	 * last slot holding one: every window is kept or being read, and
	 * the pipe asks for a line only with fewer than the most kept */
	struct lent_window {
		uint64_t number, last_slot;
	} lent[INPUT_WINDOWS_KEPT_MAX + 2];
	size_t lent_count;
	/* the input's kept windows, as last asked: their number grows only
	 * when a line comes from another window than the one before */
	size_t kept;
	uint64_t last_window;   /* of the line read last */
	uint64_t let_go_at;     /* seen_consumed when windows were let go last */

	/* the consumer's own */
	_Alignas(CACHE_LINE) uint64_t taken; /* slots handed out; the last is still in use */
	uint64_t released;      /* slots handed back, published or not */
	uint64_t seen_produced; /* produced, as last read */
	uint64_t rests_lexed;   /* lines whose rest this side lexed */
};

static void wake_other(struct linepipe *pipe, atomic_bool *other_waiting)
{
	if (atomic_load(other_waiting)) {
		pthread_mutex_lock(&pipe->lock);
		pthread_cond_broadcast(&pipe->wake);
		pthread_mutex_unlock(&pipe->lock);
	}
}

/* Sleep until ready(pipe) holds. The flag is set before the condition is
 * tested again under the lock; the other side changes a counter and then
 * reads the flag, so one of the two sees the other's write. */
static void wait_until(struct linepipe *pipe, atomic_bool *waiting,
                       bool (*ready)(struct linepipe *pipe))
{
	/* the other side is usually a few lines away: yield a while before
	 * sleeping, since a sleep and a wake-up cost more than many lines */
	for (int i = 0; i < LINEPIPE_YIELDS; i++) {
		if (ready(pipe))
			return;
		sched_yield();
	}
	pthread_mutex_lock(&pipe->lock);
	atomic_store(waiting, true);
	while (!ready(pipe))
		pthread_cond_wait(&pipe->wake, &pipe->lock);
	atomic_store(waiting, false);
	pthread_mutex_unlock(&pipe->lock);
}

/* ---- the producer ---- */

static void publish_produced(struct linepipe *pipe)
{
	pipe->seen_consumed = atomic_load(&pipe->consumed); /* for consumer_waits_soon */
	atomic_store(&pipe->produced, pipe->filled);
	wake_other(pipe, &pipe->consumer_waiting);
}

static bool slot_free(struct linepipe *pipe)
{
	if (pipe->filled - pipe->seen_consumed < LINEPIPE_SLOTS)
		return true;
	pipe->seen_consumed = atomic_load(&pipe->consumed);
	return pipe->filled - pipe->seen_consumed < LINEPIPE_SLOTS || atomic_load(&pipe->stop);
}

/* What a producer that found no free slot waits for: LINEPIPE_REFILL of
 * them, so that it wakes for a run of lines rather than for each batch
 * the consumer hands back. */
static bool slots_refillable(struct linepipe *pipe)
{
	pipe->seen_consumed = atomic_load(&pipe->consumed);
	return pipe->filled - pipe->seen_consumed <= LINEPIPE_SLOTS - LINEPIPE_REFILL ||
	       atomic_load(&pipe->stop);
}

/* Where the bytes the consumer may still use begin: the end of the last
 * slot it handed back. The producer wrote that bytes_end itself, and has
 * not written over it: with at most LINEPIPE_SLOTS - 1 slots in use, the
 * only slot it may refill is the one whose line it is copying now. */
static uint64_t bytes_released(const struct linepipe *pipe)
{
	uint64_t consumed = pipe->seen_consumed;
	return consumed ? pipe->slots[(consumed - 1) % LINEPIPE_SLOTS].bytes_end : 0;
}

static bool bytes_free(struct linepipe *pipe)
{
	if (pipe->bytes_written + pipe->bytes_wanted - bytes_released(pipe) <= LINEPIPE_BYTES)
		return true;
	pipe->seen_consumed = atomic_load(&pipe->consumed);
	return pipe->bytes_written + pipe->bytes_wanted - bytes_released(pipe) <= LINEPIPE_BYTES ||
	       atomic_load(&pipe->stop);
}

/* Room for n bytes in one piece: at the write position, or, when the ring
 * ends before n more, from its start (the bytes skipped count as used
 * until the line is handed back). NULL when the consumer stopped. */
static char *room_for(struct linepipe *pipe, size_t n)
{
	size_t at = (size_t)(pipe->bytes_written % LINEPIPE_BYTES);
	size_t skip = at + n > LINEPIPE_BYTES ? LINEPIPE_BYTES - at : 0;
	pipe->bytes_wanted = skip + n;
	if (!bytes_free(pipe)) {
		publish_produced(pipe); /* the consumer may be waiting for these */
		wait_until(pipe, &pipe->producer_waiting, bytes_free);
	}
	if (atomic_load(&pipe->stop))
		return NULL;
	pipe->bytes_written += skip;
	char *room = pipe->bytes + (size_t)(pipe->bytes_written % LINEPIPE_BYTES);
	pipe->bytes_written += n;
	return room;
}

/* Windows whose every line in a slot the consumer handed back are let
 * go; so are kept windows older than the oldest still lent, whose lines
 * all went to the filter, and every kept one when none is lent. */
static void let_go_windows(struct linepipe *pipe)
{
	pipe->let_go_at = pipe->seen_consumed;
	size_t done = 0;
	while (done < pipe->lent_count && pipe->lent[done].last_slot < pipe->seen_consumed)
		done++;
	if (done) {
		pipe->lent_count -= done;
		memmove(pipe->lent, pipe->lent + done, pipe->lent_count * sizeof *pipe->lent);
	}
	if (pipe->kept > 0) {
		input_let_go_windows(pipe->windows,
		                     pipe->lent_count ? pipe->lent[0].number - 1 : UINT64_MAX);
		pipe->kept = input_windows_kept(pipe->windows);
	}
}

static bool window_free(struct linepipe *pipe)
{
	pipe->seen_consumed = atomic_load(&pipe->consumed);
	let_go_windows(pipe);
	return pipe->kept < INPUT_WINDOWS_KEPT_MAX || atomic_load(&pipe->stop);
}

/* Before the next line is asked for: room for the window it may make the
 * input keep (input.h); false when the consumer stopped meanwhile. Kept
 * windows are let go when the consumer has handed back more lines since
 * the last time, not at every line. */
static bool window_room(struct linepipe *pipe)
{
	if (pipe->windows == NULL)
		return true;
	if (pipe->kept > 0 && pipe->seen_consumed != pipe->let_go_at)
		let_go_windows(pipe);
	if (pipe->kept >= INPUT_WINDOWS_KEPT_MAX && !window_free(pipe)) {
		publish_produced(pipe); /* the consumer may be waiting for these */
		wait_until(pipe, &pipe->producer_waiting, window_free);
	}
	return !atomic_load(&pipe->stop);
}

/* A line in slot number `slot` lies in window `number`. */
static void note_lent(struct linepipe *pipe, uint64_t number, uint64_t slot)
{
	size_t n = pipe->lent_count;
	if (n && pipe->lent[n - 1].number == number) {
		pipe->lent[n - 1].last_slot = slot;
		return;
	}
	if (n == sizeof pipe->lent / sizeof *pipe->lent) /* input.h's bound broken */
		msg_fatal("internal error: lines of more than %zu windows in flight", n);
	pipe->lent[pipe->lent_count++] = (struct lent_window){ number, slot };
}

/* Whether the consumer is close to running out of lines: then the
 * producer is the slower side, and leaves a flag line's rest to it.
 * seen_consumed is at most a batch old (publish_produced). */
static bool consumer_waits_soon(const struct linepipe *pipe)
{
	return pipe->filled - pipe->seen_consumed < LINEPIPE_SHARE_BELOW;
}

/* One line into the next slot, lexed where it lies when it is in a kept
 * window (input.h), else copied into the ring of bytes and lexed there. */
static bool produce_line(struct linepipe *pipe, const struct input_line *raw)
{
	if (!slot_free(pipe)) {
		publish_produced(pipe);
		wait_until(pipe, &pipe->producer_waiting, slots_refillable);
	}
	uint64_t bytes_before = pipe->bytes_written;
	bool lent = pipe->windows != NULL && raw->window != 0;
	if (pipe->windows != NULL && raw->window != pipe->last_window) {
		/* the input moved on from a window: it may keep that one now */
		pipe->last_window = raw->window;
		pipe->kept = input_windows_kept(pipe->windows);
	}
	const char *text = raw->text.ptr;
	if (lent) {
		if (atomic_load(&pipe->stop))
			return false;
	} else {
		char *copy = room_for(pipe, raw->text.len);
		if (copy == NULL)
			return false;
		if (raw->text.len)
			memcpy(copy, raw->text.ptr, raw->text.len);
		text = copy;
	}
	struct slot *slot = &pipe->slots[pipe->filled % LINEPIPE_SLOTS];
	slot->raw = *raw;
	slot->raw.text = text_make(text, raw->text.len);
	lexer_parse_leaving_rest(pipe->lexer, text, raw->text.len, &slot->line);
	struct text id = slot->line.message_id;
	if (id.len && (id.ptr < text || id.ptr >= text + raw->text.len)) {
		size_t n = id.len < sizeof slot->entry_id ? id.len : sizeof slot->entry_id;
		memcpy(slot->entry_id, id.ptr, n);
		slot->line.message_id = text_make(slot->entry_id, n);
	}
	if (pipe->filter && !pipe->filter(pipe->filter_state, &slot->line)) {
		/* slot and bytes unpublished: free again. The slot's bytes_end
		 * is not written yet: it may still be what bytes_released reads */
		pipe->bytes_written = bytes_before;
		return true;
	}
	if (slot->line.rest_unlexed && !consumer_waits_soon(pipe))
		lexer_parse_rest(&slot->line);
	if (lent)
		note_lent(pipe, raw->window, pipe->filled);
	slot->bytes_end = pipe->bytes_written;
	pipe->filled++;
	if (pipe->filled % LINEPIPE_BATCH == 0)
		publish_produced(pipe);
	return true;
}

bool linepipe_every_line(void *input, struct lexer *lexer, struct input_line *raw)
{
	if (!input_next_line(input, raw))
		return false;
	if (input_file_changed(input))
		lexer_reset(lexer);
	return true;
}

static void *produce(void *arg)
{
	struct linepipe *pipe = arg;
	struct input_line raw;
	while (window_room(pipe) && pipe->source(pipe->source_state, pipe->lexer, &raw))
		if (!produce_line(pipe, &raw))
			break;
	atomic_store(&pipe->produced, pipe->filled);
	atomic_store(&pipe->done, true);
	pthread_mutex_lock(&pipe->lock);
	pthread_cond_broadcast(&pipe->wake);
	pthread_mutex_unlock(&pipe->lock);
	return NULL;
}

/* ---- the consumer ---- */

/* A producer waiting for slots is woken once LINEPIPE_REFILL are free
 * (slots_refillable), not at every batch before. It published all it
 * filled before it waited, and seen_produced is at most that: the test
 * here holds whenever the producer's does, so no wake-up it needs is
 * skipped (an early one only sends it back to sleep). */
static void publish_consumed(struct linepipe *pipe)
{
	atomic_store(&pipe->consumed, pipe->released);
	if (pipe->seen_produced - pipe->released <= LINEPIPE_SLOTS - LINEPIPE_REFILL)
		wake_other(pipe, &pipe->producer_waiting);
}

/* done is set after the last publication: once it is seen, produced is
 * final. */
static bool line_ready(struct linepipe *pipe)
{
	bool done = atomic_load(&pipe->done);
	pipe->seen_produced = atomic_load(&pipe->produced);
	return pipe->seen_produced > pipe->taken || done;
}

bool linepipe_next(struct linepipe *pipe, const struct input_line **raw,
                   const struct log_line **line)
{
	if (pipe->taken > pipe->released) { /* the line handed out last is done with */
		pipe->released = pipe->taken;
		if (pipe->released % LINEPIPE_BATCH == 0)
			publish_consumed(pipe);
	}
	if (pipe->seen_produced == pipe->taken) {
		publish_consumed(pipe); /* the producer may be waiting for room */
		wait_until(pipe, &pipe->consumer_waiting, line_ready);
		if (pipe->seen_produced == pipe->taken)
			return false; /* done, and every line taken */
	}
	struct slot *slot = &pipe->slots[pipe->taken % LINEPIPE_SLOTS];
	pipe->taken++;
	if (slot->line.rest_unlexed) {
		lexer_parse_rest(&slot->line);
		pipe->rests_lexed++;
	}
	*raw = &slot->raw;
	*line = &slot->line;
	return true;
}

uint64_t linepipe_rests_lexed(const struct linepipe *pipe)
{
	return pipe->rests_lexed;
}

/* ---- life ---- */

/* CPUs this process may run on (its affinity, which a container or
 * taskset narrows), or 1 when that cannot be told. */
static int usable_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) != 0)
		return 1;
	return CPU_COUNT(&set);
}

bool linepipe_wanted(void)
{
	const char *threads = getenv("EXIMEXPLAIN_THREADS");
	if (threads != NULL && strcmp(threads, "1") == 0)
		return false;
	return usable_cpus() >= 2; /* on one, the two threads would take turns */
}

struct linepipe *linepipe_start(linepipe_source *source, void *state, struct lexer *lexer,
                                linepipe_filter *filter, void *filter_state)
{
	/* aligned as its cache-line groups are (sizeof is a multiple of it) */
	struct linepipe *pipe = aligned_alloc(_Alignof(struct linepipe), sizeof *pipe);
	if (pipe == NULL)
		msg_fatal("out of memory");
	memset(pipe, 0, sizeof *pipe);
	pipe->source = source;
	pipe->source_state = state;
	pipe->lexer = lexer;
	pipe->filter = filter;
	pipe->filter_state = filter_state;
	/* every line of an input: read where it lies, not copied (input.h) */
	pipe->windows = source == linepipe_every_line ? state : NULL;
	pipe->slots = xcalloc(LINEPIPE_SLOTS, sizeof *pipe->slots);
	pipe->bytes = xmalloc(LINEPIPE_BYTES);
	atomic_init(&pipe->produced, 0);
	atomic_init(&pipe->consumed, 0);
	atomic_init(&pipe->done, false);
	atomic_init(&pipe->stop, false);
	atomic_init(&pipe->producer_waiting, false);
	atomic_init(&pipe->consumer_waiting, false);
	if (pthread_mutex_init(&pipe->lock, NULL) != 0 || pthread_cond_init(&pipe->wake, NULL) != 0)
		msg_fatal("cannot set up a thread's lock");
	if (pipe->windows)
		input_keep_windows(pipe->windows, true);
	if (pthread_create(&pipe->thread, NULL, produce, pipe) != 0) {
		if (pipe->windows)
			input_keep_windows(pipe->windows, false);
		pthread_mutex_destroy(&pipe->lock);
		pthread_cond_destroy(&pipe->wake);
		free(pipe->bytes);
		free(pipe->slots);
		free(pipe);
		return NULL;
	}
	return pipe;
}

void linepipe_finish(struct linepipe *pipe)
{
	if (pipe == NULL)
		return;
	atomic_store(&pipe->stop, true);
	pthread_mutex_lock(&pipe->lock);
	pthread_cond_broadcast(&pipe->wake);
	pthread_mutex_unlock(&pipe->lock);
	pthread_join(pipe->thread, NULL);
	if (pipe->windows) /* the input's again: no line of the pipe is read now */
		input_keep_windows(pipe->windows, false);
	pthread_mutex_destroy(&pipe->lock);
	pthread_cond_destroy(&pipe->wake);
	free(pipe->bytes);
	free(pipe->slots);
	free(pipe);
}
