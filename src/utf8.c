/*
 * utf8: see utf8.h. Decoding the value and checking its range catches
 * overlong forms and surrogates without a table of lead-byte ranges.
 */
#include "utf8.h"

size_t utf8_decode(const unsigned char *p, size_t left, uint32_t *code_point)
{
	unsigned c = p[0];
	size_t n;
	uint32_t min;
	if (c < 0x80) {
		if (code_point)
			*code_point = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, min = 0x10000;
	else
		return 0;
	if (n > left)
		return 0;
	uint32_t value = c & (0xffu >> (n + 1));
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		value = (value << 6) | (p[i] & 0x3fu);
	}
	if (value < min || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))
		return 0;
	if (code_point)
		*code_point = value;
	return n;
}
