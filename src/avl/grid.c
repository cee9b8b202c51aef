/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * grid.c - the units' latest positions in a uniform grid (grid.h).
 *
 * Two open-addressing tables: unit name -> unit, and cell key -> the units
 * in the cell. A query visits the cells that cover the circle's bounding
 * box and measures each unit in them; when that box spans more cells than
 * there are units (a huge radius), or the longitude wraps, or near a pole,
 * it measures every unit instead. Answers are exact either way.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "avl/grid.h"
#include "core/core.h"
#include "geo/geo.h"

/* Metres in a degree of latitude, rounded down so that boxes err on the large side. */
#define M_PER_DEG 110000.0

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int64_t cell_key(const struct avl_grid *g, double lat, double lon)
{
    int64_t ci = (int64_t)floor((lat + 90.0) / g->cell_deg);
    int64_t cj = (int64_t)floor((lon + 180.0) / g->cell_deg);
    return ci << 32 | cj;
}

int avl_grid_init(struct avl_grid *g, double cell_m)
{
    memset(g, 0, sizeof(*g));
    if (!(cell_m >= 10 && cell_m <= 100000))
        return AM_EINVAL;
    g->cell_deg = cell_m / M_PER_DEG;
    return 0;
}

void avl_grid_free(struct avl_grid *g)
{
    for (size_t i = 0; i < g->ncells; i++)
        free(g->cells[i].ids);
    free(g->cells);
    free(g->units);
    free(g->by_name);
    memset(g, 0, sizeof(*g));
}

/* ------------------------------------------------------------- tables */

static uint32_t *name_slot(const struct avl_grid *g, const char *unit)
{
    if (!g->nby_name)
        return NULL;
    size_t mask = g->nby_name - 1;
    for (size_t i = hash_name(unit) & mask;; i = (i + 1) & mask) {
        uint32_t v = g->by_name[i];
        if (!v || !strcmp(g->units[v - 1].unit, unit))
            return &g->by_name[i];
    }
}

static int names_grow(struct avl_grid *g)
{
    size_t n = g->nby_name ? g->nby_name * 2 : 64;
    uint32_t *t = calloc(n, sizeof(*t));
    if (!t)
        return AM_ENOMEM;
    free(g->by_name);
    g->by_name = t;
    g->nby_name = n;
    for (size_t k = 0; k < g->nunits; k++)
        *name_slot(g, g->units[k].unit) = (uint32_t)k + 1;
    return 0;
}

static struct avl_grid_cell *cell_find(const struct avl_grid *g, int64_t key)
{
    if (!g->ncells)
        return NULL;
    size_t mask = g->ncells - 1;
    for (size_t i = mix((uint64_t)key) & mask;; i = (i + 1) & mask) {
        struct avl_grid_cell *c = &g->cells[i];
        if (!c->used || c->key == key)
            return c;
    }
}

static int cells_grow(struct avl_grid *g)
{
    size_t n = g->ncells ? g->ncells * 2 : 64;
    struct avl_grid_cell *old = g->cells, *t = calloc(n, sizeof(*t));
    size_t nold = g->ncells;
    if (!t)
        return AM_ENOMEM;
    g->cells = t;
    g->ncells = n;
    for (size_t i = 0; i < nold; i++)
        if (old[i].used)
            *cell_find(g, old[i].key) = old[i];
    free(old);
    return 0;
}

/* The cell of `key`, created if needed. */
static int cell_get(struct avl_grid *g, int64_t key, struct avl_grid_cell **out)
{
    struct avl_grid_cell *c = cell_find(g, key);
    if (c && c->used) {
        *out = c;
        return 0;
    }
    if ((g->used_cells + 1) * 2 > g->ncells) {
        int rc = cells_grow(g);
        if (rc)
            return rc;
    }
    c = cell_find(g, key);
    if (!c->used) {
        c->used = true;
        c->key = key;
        g->used_cells++;
    }
    *out = c;
    return 0;
}

static void cell_remove(struct avl_grid *g, uint32_t id)
{
    struct avl_grid_unit *u = &g->units[id];
    struct avl_grid_cell *c = cell_find(g, u->cell);
    uint32_t last = c->ids[--c->n];
    c->ids[u->slot] = last;
    g->units[last].slot = u->slot;
}

static int cell_add(struct avl_grid *g, uint32_t id)
{
    struct avl_grid_unit *u = &g->units[id];
    struct avl_grid_cell *c;
    int rc = cell_get(g, u->cell, &c);
    if (!rc)
        rc = am_grow(&c->ids, &c->cap, c->n + 1, sizeof(*c->ids), 8);
    if (rc)
        return rc;
    u->slot = (uint32_t)c->n;
    c->ids[c->n++] = id;
    return 0;
}

/* ------------------------------------------------------------- updates */

int avl_grid_move(struct avl_grid *g, const char *unit, double lat, double lon, int64_t time_us)
{
    if (!unit || !unit[0] || strlen(unit) >= sizeof(g->units[0].unit) || !isfinite(lat) ||
        !isfinite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180)
        return AM_EINVAL;
    uint32_t *slot = name_slot(g, unit);
    if (slot && *slot) {
        uint32_t id = *slot - 1;
        struct avl_grid_unit *u = &g->units[id];
        if (time_us < u->time_us)
            return 0;
        int64_t key = cell_key(g, lat, lon);
        u->lat = lat;
        u->lon = lon;
        u->time_us = time_us;
        if (key == u->cell)
            return 0;
        /* Room first, so that a failure leaves the unit where it was. */
        struct avl_grid_cell *c;
        int rc = cell_get(g, key, &c);
        if (!rc)
            rc = am_grow(&c->ids, &c->cap, c->n + 1, sizeof(*c->ids), 8);
        if (rc)
            return rc;
        cell_remove(g, id);
        u->cell = key;
        return cell_add(g, id); /* cannot fail now */
    }
    if ((g->nunits + 1) * 2 > g->nby_name) {
        int rc = names_grow(g);
        if (rc)
            return rc;
    }
    if (g->nunits >= UINT32_MAX - 1 ||
        am_grow(&g->units, &g->cap_units, g->nunits + 1, sizeof(*g->units), 64))
        return AM_ENOMEM;
    uint32_t id = (uint32_t)g->nunits;
    struct avl_grid_unit *u = &g->units[id];
    memset(u, 0, sizeof(*u));
    am_strlcpy(u->unit, unit, sizeof(u->unit));
    u->lat = lat;
    u->lon = lon;
    u->time_us = time_us;
    u->cell = cell_key(g, lat, lon);
    int rc = cell_add(g, id);
    if (rc)
        return rc;
    g->nunits++;
    *name_slot(g, unit) = id + 1;
    return 0;
}

const struct avl_grid_unit *avl_grid_get(const struct avl_grid *g, const char *unit)
{
    uint32_t *slot = unit ? name_slot(g, unit) : NULL;
    return slot && *slot ? &g->units[*slot - 1] : NULL;
}

/* ------------------------------------------------------------- queries */

struct near {
    struct avl_grid_hit *hits;
    size_t n, cap;
    double lat, lon, radius_m;
};

static int consider(struct near *q, const struct avl_grid_unit *u)
{
    double d = geo_distance_m(q->lat, q->lon, u->lat, u->lon);
    if (d > q->radius_m)
        return 0;
    if (am_grow(&q->hits, &q->cap, q->n + 1, sizeof(*q->hits), 64))
        return AM_ENOMEM;
    q->hits[q->n++] = (struct avl_grid_hit){u, d};
    return 0;
}

static int by_distance(const void *a, const void *b)
{
    const struct avl_grid_hit *x = a, *y = b;
    if (x->distance_m != y->distance_m)
        return x->distance_m < y->distance_m ? -1 : 1;
    return strcmp(x->u->unit, y->u->unit);
}

int avl_grid_near(const struct avl_grid *g, double lat, double lon, double radius_m, size_t max,
                  struct avl_grid_hit *out, size_t *n)
{
    *n = 0;
    if (!isfinite(lat) || !isfinite(lon) || !(radius_m >= 0))
        return AM_EINVAL;
    struct near q = {NULL, 0, 0, lat, lon, radius_m};
    double dlat = radius_m / M_PER_DEG;
    double far = fmin(90.0, fabs(lat) + dlat), cosf = cos(far * M_PI / 180.0);
    double dlon = cosf > 0.01 ? dlat / cosf : 360.0;
    double rows =
        floor((lat + dlat + 90) / g->cell_deg) - floor((lat - dlat + 90) / g->cell_deg) + 1;
    double cols =
        floor((lon + dlon + 180) / g->cell_deg) - floor((lon - dlon + 180) / g->cell_deg) + 1;
    bool scan = lon - dlon < -180 || lon + dlon > 180 || lat - dlat < -90 || lat + dlat > 90 ||
                rows * cols > (double)g->nunits;
    int rc = 0;
    if (scan) {
        for (size_t i = 0; i < g->nunits && !rc; i++)
            rc = consider(&q, &g->units[i]);
    } else {
        int64_t i0 = (int64_t)floor((lat - dlat + 90) / g->cell_deg);
        int64_t j0 = (int64_t)floor((lon - dlon + 180) / g->cell_deg);
        for (int64_t i = i0; i < i0 + (int64_t)rows && !rc; i++)
            for (int64_t j = j0; j < j0 + (int64_t)cols && !rc; j++) {
                const struct avl_grid_cell *c = cell_find(g, i << 32 | j);
                for (size_t k = 0; c && c->used && k < c->n && !rc; k++)
                    rc = consider(&q, &g->units[c->ids[k]]);
            }
    }
    if (!rc) {
        if (q.n > 1)
            qsort(q.hits, q.n, sizeof(*q.hits), by_distance);
        *n = q.n < max ? q.n : max;
        if (*n)
            memcpy(out, q.hits, *n * sizeof(*out));
    }
    free(q.hits);
    return rc;
}
