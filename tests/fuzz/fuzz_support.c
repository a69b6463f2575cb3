/*
 * fuzz_support: helpers every harness links (see fuzz.h). Kept out of the
 * harnesses so each .c is only its target.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "explain.h"

static char *temp_path;

void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz harness check failed: %s\n", what);
	abort();
}

static void remove_temp(void)
{
	if (temp_path) {
		unlink(temp_path);
		free(temp_path);
		temp_path = NULL;
	}
}

const char *fuzz_temp_file(const uint8_t *data, size_t size)
{
	if (temp_path == NULL) {
		const char *dir = getenv("TMPDIR");
		if (dir == NULL || *dir == '\0')
			dir = "/tmp";
		size_t n = strlen(dir) + sizeof "/eximexplain-fuzz.XXXXXX";
		temp_path = malloc(n);
		if (temp_path == NULL)
			fuzz_fail("out of memory");
		snprintf(temp_path, n, "%s/eximexplain-fuzz.XXXXXX", dir);
		int fd = mkstemp(temp_path);
		if (fd < 0)
			fuzz_fail("cannot create a temporary file");
		close(fd);
		atexit(remove_temp);
	}
	FILE *file = fopen(temp_path, "wb");
	if (file == NULL)
		fuzz_fail("cannot write the temporary file");
	if (size > 0 && fwrite(data, 1, size, file) != size)
		fuzz_fail("cannot write the temporary file");
	if (fclose(file) != 0)
		fuzz_fail("cannot write the temporary file");
	return temp_path;
}

const char *fuzz_rules_dir(void)
{
	const char *dir = getenv("EXIMEXPLAIN_FUZZ_RULES");
	return dir && *dir ? dir : "data/rules";
}

FILE *fuzz_null_out(void)
{
	FILE *out = fopen("/dev/null", "w");
	if (out == NULL)
		fuzz_fail("cannot open /dev/null");
	return out;
}

struct explainer *fuzz_shipped_explainer(void)
{
	struct explain_options options = { .shipped_dir = fuzz_rules_dir(),
		                           .system_dir = "/nonexistent" };
	size_t errors;
	struct explainer *explainer = explain_new(&options, &errors);
	if (errors)
		fuzz_fail("the shipped rules do not load");
	return explainer;
}
