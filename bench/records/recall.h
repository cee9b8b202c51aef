/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * recall.h - the recall bookkeeping the records benchmark's programs share
 * (bench_records for amane, records_pgpeer for PostgreSQL): latencies and
 * recall@1/10/100 of name queries, overall and by group (variant or
 * spelling direction), as the same JSON on both sides.
 */
#ifndef AM_BENCH_RECALL_H
#define AM_BENCH_RECALL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "../common/samples.h"

/* What one query gave for the person it was made from. */
struct name_outcome {
    int rank;       /* 1-based among the first 10 answers, 0 if not among them */
    bool in100;     /* among the first 100 (a search for 100 may rank it otherwise) */
    bool outranked; /* not in the first 10, behind 10 answers scoring at least its own score */
    bool refused;   /* the search refused the query */
    bool timeout;   /* the search gave up */
};

struct name_stats {
    struct samples lat;
    uint64_t n, top1, top10, top100, outranked, refused, timeouts;
};

#define NAME_GROUPS_MAX 8

struct name_groups {
    struct name_stats all, by[NAME_GROUPS_MAX];
    char name[NAME_GROUPS_MAX][16];
    int n;
};

/* Counts one query of `group` that took `us` microseconds. */
void name_groups_add(struct name_groups *g, const char *group, int64_t us,
                     const struct name_outcome *o);
/* The figures of all queries, with "by" group; frees the latencies. */
json_t *name_groups_json(struct name_groups *g);

#endif
