/*
 * stats: the diagnostic mode. Counts lines per kind and prints one
 * "KIND COUNT" pair per line for every kind, unknown included, and nothing
 * else on stdout.
 */
#ifndef EXIMEXPLAIN_STATS_H
#define EXIMEXPLAIN_STATS_H

#include "sink.h"

struct stats;

struct stats *stats_new(void);
void stats_free(struct stats *stats);
struct sink stats_sink(struct stats *stats);

#endif
