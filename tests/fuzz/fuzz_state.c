/*
 * fuzz_state: the state-file loader on a hostile state file. state.h
 * promises that every byte is checked and a bad file costs a rerun, never
 * a crash or an out-of-bounds read. The input is written to a temporary
 * file and loaded; a state that loads is read back through its getters,
 * saved beside it and loaded again, and must come back the same (the
 * format round-trips any bytes), and a read plan is made from it for the
 * state file itself and a path that does not exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "state.h"

static void same_state(const struct state *a, const struct state *b)
{
	if (state_file_count(a) != state_file_count(b))
		fuzz_fail("saved state has another file count");
	for (size_t i = 0; i < state_file_count(a); i++) {
		const struct state_file *x = state_file_at(a, i), *y = state_file_at(b, i);
		if (strcmp(x->path, y->path) != 0 || x->device != y->device ||
		    x->inode != y->inode || x->offset != y->offset || x->last_time != y->last_time ||
		    x->fingerprint != y->fingerprint ||
		    x->fingerprint_length != y->fingerprint_length)
			fuzz_fail("saved state has another file record");
		if (state_find_file(b, x->path) != y)
			fuzz_fail("state_find_file does not find a loaded path");
	}
	if (state_carried_count(a) != state_carried_count(b))
		fuzz_fail("saved state has another carried count");
	for (size_t i = 0; i < state_carried_count(a); i++) {
		struct text x = state_carried_line(a, i), y = state_carried_line(b, i);
		if (x.len != y.len || (x.len && memcmp(x.ptr, y.ptr, x.len) != 0))
			fuzz_fail("saved state has another carried line");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_temp_file(data, size);
	bool existed = false, corrupt = false;
	struct state *state = state_load(path, &existed, &corrupt);
	if (state == NULL)
		fuzz_fail("state_load gave NULL on a readable file");
	if (!existed)
		fuzz_fail("state_load says an existing file is missing");

	if (!corrupt) {
		size_t n = strlen(path) + sizeof ".saved";
		char *saved = malloc(n);
		if (saved == NULL)
			fuzz_fail("out of memory");
		snprintf(saved, n, "%s.saved", path);
		if (!state_save(state, saved))
			fuzz_fail("state_save failed");
		bool existed2, corrupt2;
		struct state *again = state_load(saved, &existed2, &corrupt2);
		if (again == NULL || corrupt2)
			fuzz_fail("a saved state does not load");
		same_state(state, again);
		state_free(again);
		unlink(saved);
		free(saved);

		const char *paths[] = { path, "/nonexistent/eximexplain-fuzz-log" };
		struct state_plan plan = state_plan_reads(state, paths, 2);
		state_plan_release(&plan);
	}
	state_free(state);
	return 0;
}
