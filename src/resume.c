/*
 * resume: the --state run. See resume.h for what it must never do.
 */
#include "resume.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "state.h"
#include "xalloc.h"

struct resume {
	const char *state_path;
	const char *const *paths;
	size_t path_count;
	struct state *saved;      /* as loaded (empty on a first run) */
	struct state *next;       /* files and carried lines of this run */
	bool first_run;
	struct state_plan plan;
	struct input_start *starts;
	struct text *replay;      /* views into saved's carried lines */
	struct pipeline_resume pipeline;
	struct record_sink *inner;
	int inner_status;         /* of the mode's finish; EXIT_TROUBLE until it ran */
	bool carry_warned;
	int64_t newest;           /* of the lines read; 0 until first needed */
};

static bool paths_distinct(const char *const *paths, size_t count)
{
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(paths[i], paths[j]) == 0) {
				msg_warn("%s: given twice; --state reads each file once", paths[i]);
				return false;
			}
	return true;
}

static bool knows_a_path(const struct state *saved, const char *const *paths, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (state_find_file(saved, paths[i]))
			return true;
	return false;
}

static void plan_pipeline(struct resume *r)
{
	size_t n = r->plan.count;
	r->starts = xcalloc(n ? n : 1, sizeof *r->starts);
	for (size_t i = 0; i < n; i++)
		r->starts[i] = (struct input_start){ r->plan.reads[i].path,
			                             r->plan.reads[i].start_offset };
	size_t carried = state_carried_count(r->saved);
	r->replay = xcalloc(carried ? carried : 1, sizeof *r->replay);
	for (size_t i = 0; i < carried; i++)
		r->replay[i] = state_carried_line(r->saved, i);
	r->pipeline = (struct pipeline_resume){
		.starts = r->starts, .start_count = n, .replay = r->replay, .replay_count = carried,
		.positions = xcalloc(n ? n : 1, sizeof *r->pipeline.positions),
		.last_times = xcalloc(n ? n : 1, sizeof *r->pipeline.last_times),
	};
}

struct resume *resume_open(const char *state_path, const char *const *paths, size_t count)
{
	if (!paths_distinct(paths, count))
		return NULL;
	bool existed = false, corrupt = false;
	struct state *saved = state_load(state_path, &existed, &corrupt);
	if (saved == NULL)
		return NULL;
	struct resume *r = xcalloc(1, sizeof *r);
	r->state_path = state_path;
	r->paths = paths;
	r->path_count = count;
	r->saved = saved;
	r->next = state_new();
	r->first_run = !knows_a_path(saved, paths, count);
	r->plan = state_plan_reads(saved, paths, count);
	r->inner_status = EXIT_TROUBLE;
	plan_pipeline(r);
	return r;
}

void resume_free(struct resume *r)
{
	if (r == NULL)
		return;
	state_free(r->saved);
	state_free(r->next);
	state_plan_release(&r->plan);
	free(r->starts);
	free(r->replay);
	free(r->pipeline.positions);
	free(r->pipeline.last_times);
	free(r);
}

bool resume_is_first_run(const struct resume *r)
{
	return r->first_run;
}

struct pipeline_resume *resume_pipeline(struct resume *r)
{
	return &r->pipeline;
}

/* ---- carrying open messages ---- */

/* The newest line this run read, or the last run did when nothing is new. */
static int64_t newest_time(const struct resume *r)
{
	int64_t newest = 0;
	for (size_t i = 0; i < r->pipeline.start_count; i++)
		if (r->pipeline.last_times[i] > newest)
			newest = r->pipeline.last_times[i];
	for (size_t i = 0; i < state_file_count(r->saved); i++)
		if (state_file_at(r->saved, i)->last_time > newest)
			newest = state_file_at(r->saved, i)->last_time;
	return newest;
}

static void carry_message(struct resume *r, const struct message *m)
{
	if (r->newest == 0) /* the reading is over when open messages come */
		r->newest = newest_time(r);
	if (m->last_time && m->last_time < r->newest - RESUME_CARRY_MAX_AGE)
		return;
	for (size_t i = 0; i < m->line_count; i++)
		if (!state_carry_line(r->next, text_of(m->lines[i])) && !r->carry_warned) {
			msg_warn("%s: the open messages' lines exceed %u MiB; the next run will "
			         "see some of them without their earlier lines", r->state_path,
			         STATE_CARRY_MAX_BYTES >> 20);
			r->carry_warned = true;
		}
}

static void on_message(void *state, const struct message *m)
{
	struct resume *r = state;
	if (m->state == TXN_OPEN)
		carry_message(r, m);
	if (r->inner->message)
		r->inner->message(r->inner->state, m);
}

static void on_unchanged(void *state, const struct message *m)
{
	carry_message(state, m);
}

static void on_event(void *state, const struct event *e)
{
	struct resume *r = state;
	if (r->inner->event)
		r->inner->event(r->inner->state, e);
}

static void on_loose_line(void *state, const struct log_line *line, struct text raw)
{
	struct resume *r = state;
	if (r->inner->loose_line)
		r->inner->loose_line(r->inner->state, line, raw);
}

static int on_finish(void *state, const struct txn_summary *summary)
{
	struct resume *r = state;
	r->inner_status = r->inner->finish ? r->inner->finish(r->inner->state, summary) : 0;
	return r->inner_status;
}

struct record_sink resume_sink(struct resume *r, struct record_sink *inner)
{
	r->inner = inner;
	return (struct record_sink){ .state = r, .message = on_message, .event = on_event,
		                     .loose_line = on_loose_line, .finish = on_finish,
		                     .unchanged = on_unchanged,
		                     .arrival_details = inner->arrival_details };
}

/* ---- the next state ---- */

/* Where the read of a given path (not of its rotated sibling) ended, and
 * the newest time read for it, the sibling included. */
static const struct input_position *own_read(const struct resume *r, const char *given,
                                             int64_t *last_time)
{
	const struct input_position *own = NULL;
	for (size_t i = 0; i < r->plan.count; i++) {
		if (r->plan.reads[i].given != given)
			continue;
		if (r->pipeline.last_times[i] > *last_time)
			*last_time = r->pipeline.last_times[i];
		if (r->plan.reads[i].reason != STATE_ROTATED_OLD)
			own = &r->pipeline.positions[i];
	}
	return own;
}

/* The file as read. Its fingerprint is taken now; if the path no longer
 * names the file that was read (rotated during the run), the entry keeps
 * no fingerprint and the next run finds the old file by inode alone. */
static void record_file(struct resume *r, const char *given)
{
	const struct state_file *old = state_find_file(r->saved, given);
	int64_t last_time = old ? old->last_time : 0;
	const struct input_position *own = own_read(r, given, &last_time);
	if (own == NULL || !own->opened) {
		if (old)
			state_set_file(r->next, old); /* unreadable now: try again from there */
		return;
	}
	struct state_file file;
	if (!state_identify(given, STATE_FINGERPRINT_MAX, &file) || file.device != own->device ||
	    file.inode != own->inode) {
		file.fingerprint = text_hash(TEXT_HASH_SEED, "", 0);
		file.fingerprint_length = 0;
	}
	file.path = (char *)given;
	file.device = own->device;
	file.inode = own->inode;
	file.offset = own->offset;
	file.last_time = last_time;
	state_set_file(r->next, &file);
}

int resume_finish(struct resume *r, int status)
{
	if (r->inner_status == EXIT_TROUBLE) {
		msg_warn("%s: left as it was, so the next run covers these lines again",
		         r->state_path);
		return status;
	}
	for (size_t i = 0; i < r->path_count; i++)
		record_file(r, r->paths[i]);
	if (!state_save(r->next, r->state_path))
		return EXIT_TROUBLE;
	return status;
}
