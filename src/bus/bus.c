/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * bus.c - the in-process bus: a fixed table of subscribers set up at start,
 * read without locks afterwards.
 */
#include <stdlib.h>

#include "bus/bus.h"

#define BUS_MAX_SUBS 16

struct bus {
    struct {
        bus_fn fn;
        void *arg;
    } subs[BUS_MAX_SUBS];
    int nsubs;
};

int bus_new(struct bus **out)
{
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : AM_ENOMEM;
}

void bus_free(struct bus *b)
{
    free(b);
}

int bus_subscribe(struct bus *b, bus_fn fn, void *arg)
{
    if (b->nsubs == BUS_MAX_SUBS)
        return AM_ETOOBIG;
    b->subs[b->nsubs].fn = fn;
    b->subs[b->nsubs].arg = arg;
    b->nsubs++;
    return 0;
}

void bus_publish(void *bus, struct am_event *const *evs, size_t n)
{
    struct bus *b = bus;
    for (int i = 0; i < b->nsubs; i++)
        b->subs[i].fn(b->subs[i].arg, evs, n);
}
