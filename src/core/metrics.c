/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * metrics.c - process-wide counters, latency histograms and gauges, rendered
 * in the Prometheus text exposition format for GET /metrics.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Upper bounds of the histogram buckets, in microseconds. */
static const uint64_t hist_bounds_us[AM_HIST_BUCKETS] = {100,    250,    500,     1000,      2500,
                                                         5000,   10000,  25000,   50000,     100000,
                                                         250000, 500000, 1000000, UINT64_MAX};

struct gauge {
    const char *name, *help;
    am_gauge_fn fn;
    void *arg;
    struct gauge *next;
};

static struct am_counter *counters;
static struct am_hist *hists;
static struct gauge *gauges;

void am_counter_register(struct am_counter *c)
{
    c->next = counters;
    counters = c;
}

void am_hist_register(struct am_hist *h)
{
    h->next = hists;
    hists = h;
}

void am_gauge_register(const char *name, const char *help, am_gauge_fn fn, void *arg)
{
    struct gauge *g = calloc(1, sizeof(*g));
    if (!g)
        return;
    *g = (struct gauge){name, help, fn, arg, gauges};
    gauges = g;
}

void am_counter_add(struct am_counter *c, uint64_t n)
{
    __atomic_fetch_add(&c->value, n, __ATOMIC_RELAXED);
}

void am_hist_observe(struct am_hist *h, uint64_t us)
{
    int i = 0;
    while (us > hist_bounds_us[i])
        i++;
    __atomic_fetch_add(&h->buckets[i], 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->count, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&h->sum_us, us, __ATOMIC_RELAXED);
}

int am_metrics_render(struct am_buf *out)
{
    int rc = 0;
    const char *last = NULL;
    /* Counters sharing a name (different labels) share one HELP/TYPE header. */
    for (struct am_counter *c = counters; c && !rc; c = c->next) {
        bool header = true;
        for (struct am_counter *d = counters; d != c; d = d->next)
            if (strcmp(d->name, c->name) == 0)
                header = false;
        if (header)
            rc = am_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", c->name, c->help, c->name);
        if (!rc) {
            uint64_t v = __atomic_load_n(&c->value, __ATOMIC_RELAXED);
            if (c->labels)
                rc = am_buf_printf(out, "%s{%s} %llu\n", c->name, c->labels, (unsigned long long)v);
            else
                rc = am_buf_printf(out, "%s %llu\n", c->name, (unsigned long long)v);
        }
        last = c->name;
    }
    (void)last;
    for (struct am_hist *h = hists; h && !rc; h = h->next) {
        rc = am_buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", h->name, h->help, h->name);
        uint64_t cum = 0;
        for (int i = 0; i < AM_HIST_BUCKETS && !rc; i++) {
            cum += __atomic_load_n(&h->buckets[i], __ATOMIC_RELAXED);
            if (hist_bounds_us[i] == UINT64_MAX)
                rc = am_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", h->name,
                                   (unsigned long long)cum);
            else
                rc = am_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", h->name,
                                   (double)hist_bounds_us[i] / 1e6, (unsigned long long)cum);
        }
        if (!rc)
            rc = am_buf_printf(out, "%s_sum %.6f\n%s_count %llu\n", h->name,
                               (double)__atomic_load_n(&h->sum_us, __ATOMIC_RELAXED) / 1e6, h->name,
                               (unsigned long long)__atomic_load_n(&h->count, __ATOMIC_RELAXED));
    }
    for (struct gauge *g = gauges; g && !rc; g = g->next)
        rc = am_buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", g->name, g->help,
                           g->name, g->name, g->fn(g->arg));
    return rc;
}
