/* SPDX-License-Identifier: AGPL-3.0-or-later */
/* recall.c - see recall.h. */
#include "recall.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* a / b to 4 decimals, 0 for no b. */
static double ratio(uint64_t a, uint64_t b)
{
    return b ? round(10000.0 * (double)a / (double)b) / 10000 : 0;
}

static void count(struct name_stats *s, int64_t us, const struct name_outcome *o)
{
    samples_add(&s->lat, us);
    s->n++;
    s->refused += o->refused;
    s->timeouts += o->timeout;
    s->top1 += o->rank == 1;
    s->top10 += o->rank >= 1;
    s->top100 += o->rank >= 1 || o->in100;
    s->outranked += o->rank < 1 && o->outranked;
}

void name_groups_add(struct name_groups *g, const char *group, int64_t us,
                     const struct name_outcome *o)
{
    int i = 0;
    while (i < g->n && strcmp(g->name[i], group) != 0)
        i++;
    if (i == g->n) {
        if (g->n == NAME_GROUPS_MAX) {
            fprintf(stderr, "too many groups of name queries\n");
            exit(1);
        }
        snprintf(g->name[g->n++], sizeof(g->name[0]), "%s", group);
    }
    count(&g->all, us, o);
    count(&g->by[i], us, o);
}

static json_t *stats_json(struct name_stats *s)
{
    json_t *j = samples_summary(&s->lat);
    free(s->lat.v);
    s->lat.v = NULL;
    json_object_set_new(j, "recall1", json_real(ratio(s->top1, s->n)));
    json_object_set_new(j, "recall10", json_real(ratio(s->top10, s->n)));
    json_object_set_new(j, "recall100", json_real(ratio(s->top100, s->n)));
    json_object_set_new(j, "found10", json_integer((json_int_t)s->top10));
    /*
     * Not in the first 10, behind 10 persons scoring at least its own score
     * (namesakes, or names nearer to what was typed): the ranking, not the
     * index, kept it out. Missed: the rest (scored higher than the 10th yet
     * not returned, or not an answer at all).
     */
    json_object_set_new(j, "outranked", json_integer((json_int_t)s->outranked));
    json_object_set_new(j, "missed", json_integer((json_int_t)(s->n - s->top10 - s->outranked)));
    if (s->refused)
        json_object_set_new(j, "refused", json_integer((json_int_t)s->refused));
    if (s->timeouts)
        json_object_set_new(j, "timeouts", json_integer((json_int_t)s->timeouts));
    return j;
}

json_t *name_groups_json(struct name_groups *g)
{
    json_t *j = stats_json(&g->all), *by = json_object();
    for (int i = 0; i < g->n; i++)
        json_object_set_new(by, g->name[i], stats_json(&g->by[i]));
    json_object_set_new(j, "by", by);
    return j;
}
