/*
 * standalone: the regression driver. Feeds each file named on the command
 * line to LLVMFuzzerTestOneInput once, so kept crashing inputs are
 * replayed by the normal test suite under any compiler (plain and
 * sanitizer builds) without libFuzzer. A file that cannot be read is an
 * error (exit 2); a crash is whatever the harness or sanitizer makes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static int replay(const char *path)
{
	FILE *file = fopen(path, "rb");
	if (file == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 2;
	}
	size_t size = 0, capacity = 4096;
	unsigned char *data = malloc(capacity);
	size_t n;
	while (data && (n = fread(data + size, 1, capacity - size, file)) > 0) {
		size += n;
		if (size == capacity) {
			unsigned char *grown = realloc(data, capacity *= 2);
			if (grown == NULL)
				free(data);
			data = grown;
		}
	}
	int failed = data == NULL || ferror(file);
	fclose(file);
	if (failed) {
		fprintf(stderr, "%s: cannot read\n", path);
		free(data);
		return 2;
	}
	/* An exact-size copy, as libFuzzer gives: a read past it is caught. */
	unsigned char *exact = malloc(size ? size : 1);
	if (exact == NULL) {
		free(data);
		return 2;
	}
	memcpy(exact, data, size);
	free(data);
	LLVMFuzzerTestOneInput(exact, size);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	int status = 0;
	for (int i = 1; i < argc; i++) {
		int s = replay(argv[i]);
		if (s)
			status = s;
	}
	return status;
}
