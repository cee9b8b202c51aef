/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * samples.c - latencies and nearest-rank percentiles for the benchmarks
 * (samples.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "samples.h"

void samples_add(struct samples *s, int64_t us)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4096;
        uint32_t *p = realloc(s->v, cap * sizeof(*p));
        if (!p) {
            fputs("bench: out of memory\n", stderr);
            exit(1);
        }
        s->v = p;
        s->cap = cap;
    }
    s->v[s->n++] = (uint32_t)(us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : us);
}

void samples_merge(struct samples *into, const struct samples *from)
{
    for (size_t i = 0; i < from->n; i++)
        samples_add(into, from->v[i]);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least q of the samples at or below it. */
static double rank_ms(const struct samples *s, double q)
{
    if (!s->n)
        return 0;
    size_t k = (size_t)ceil(q * (double)s->n);
    return s->v[(k < 1 ? 1 : k) - 1] / 1000.0;
}

static json_t *ms(double v)
{
    return json_real(round(v * 1000) / 1000);
}

json_t *samples_summary(struct samples *s)
{
    qsort(s->v, s->n, sizeof(*s->v), cmp_u32);
    return json_pack("{sI so so so so so}", "n", (json_int_t)s->n, "p50_ms", ms(rank_ms(s, 0.5)),
                     "p90_ms", ms(rank_ms(s, 0.9)), "p99_ms", ms(rank_ms(s, 0.99)), "p999_ms",
                     ms(rank_ms(s, 0.999)), "max_ms", ms(s->n ? s->v[s->n - 1] / 1000.0 : 0));
}
