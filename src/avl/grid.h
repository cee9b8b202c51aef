/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * grid.h - the units' latest positions in a uniform spatial grid, for "who
 * is near this point" without a scan of the fleet: cells of a fixed size
 * in degrees of latitude (and as many degrees of longitude), hashed by
 * cell, each holding the units inside it. Not thread-safe: the caller
 * holds its lock (struct avl's mu).
 */
#ifndef AMANE_AVL_GRID_H
#define AMANE_AVL_GRID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct avl_grid_unit {
    char unit[32];
    double lat, lon;
    int64_t time_us;
    int64_t cell;  /* the key of its cell */
    uint32_t slot; /* its index in that cell's list */
};

struct avl_grid_cell {
    int64_t key;
    uint32_t *ids; /* into units[] */
    size_t n, cap;
    bool used;
};

struct avl_grid {
    double cell_deg;
    struct avl_grid_unit *units;
    size_t nunits, cap_units;
    uint32_t *by_name; /* open addressing: unit index + 1, 0 empty */
    size_t nby_name;   /* a power of two */
    struct avl_grid_cell *cells;
    size_t ncells, used_cells; /* ncells a power of two */
};

/* One answer of avl_grid_near(). */
struct avl_grid_hit {
    const struct avl_grid_unit *u;
    double distance_m;
};

/* An empty grid with cells of about `cell_m` metres north-south (10 to 100,000). */
int avl_grid_init(struct avl_grid *g, double cell_m);
void avl_grid_free(struct avl_grid *g);

/*
 * Records a unit's position (inserting the unit if it is new). A position
 * older than the one kept is ignored. AM_EINVAL for a name of 32 bytes or
 * more or coordinates out of range; AM_ENOMEM.
 */
int avl_grid_move(struct avl_grid *g, const char *unit, double lat, double lon, int64_t time_us);

/* The unit's entry, or NULL. */
const struct avl_grid_unit *avl_grid_get(const struct avl_grid *g, const char *unit);

/*
 * The units within `radius_m` of (lat, lon), nearest first, at most `max`
 * of them in out[]; *n gets how many. Exact (great-circle distance), not
 * only the grid's cells. AM_ENOMEM.
 */
int avl_grid_near(const struct avl_grid *g, double lat, double lon, double radius_m, size_t max,
                  struct avl_grid_hit *out, size_t *n);

#endif
