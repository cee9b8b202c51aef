/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * roads_int.h - private to src/geo: the layout of a road graph, shared by
 * the importer (osm.c), the graph file and searches (roads.c), and the
 * contraction hierarchy (roads_ch.c). Everything outside src/geo uses geo.h.
 */
#ifndef AM_ROADS_INT_H
#define AM_ROADS_INT_H

#include <pthread.h>
#include <stdint.h>

#include "geo/geo.h"

/* Coordinates are kept as integers of 1e-7 degree (about 1 cm). */
#define GEO_E7 10000000.0

/* A scratch area of one search: per-node arrays reset lazily by a generation stamp. */
struct geo_ws {
    struct geo_ws *next; /* in the graph's free list */
    uint32_t gen;
    uint32_t *stamp;   /* node -> generation in which dist/len/parent are valid */
    uint32_t *dist;    /* node -> best time in ms so far */
    float *len;        /* node -> road length of that route, metres */
    uint32_t *parent;  /* node -> the edge it was reached by, or GEO_NONE */
    uint32_t *heap;    /* binary heap of nodes, keyed by dist */
    uint32_t *heappos; /* node -> its index in heap + 1, 0 if not in it */
    uint32_t heapn;
    uint32_t *astamp; /* node -> generation in which ahead is valid */
    uint32_t *ahead;  /* node -> first source attached to it (a search's own list) */
    void *scratch;    /* per-source arrays of a search, grown as needed, kept for the next */
    size_t scratch_cap;
};

struct geo_roads {
    uint32_t n, m; /* nodes, directed edges */
    uint32_t dropped_nodes;
    uint64_t id; /* geo_roads_id(): FNV-1a over the arrays, set by geo_roads_finish() */
    int32_t *lat_e7, *lon_e7; /* [n] */
    int64_t *osm_id;          /* [n] OSM node id, 0 if none (built from arrays) */
    uint32_t *first_out;      /* [n + 1] out-edges of node i: first_out[i] .. first_out[i+1]-1 */
    uint32_t *head;           /* [m] */
    uint32_t *tail;           /* [m] */
    uint32_t *time_ms;        /* [m] */
    float *length_m;          /* [m] */
    uint8_t *rclass;          /* [m] */
    uint32_t *first_in;       /* [n + 1] in-edges of node i, as indices into the edge arrays */
    uint32_t *in_edge;        /* [m] */

    /* The snapping grid: cells of cell_deg degrees over the bounding box;
     * cell c lists cell_edges[cell_first[c] .. cell_first[c+1]-1]. An edge
     * with a twin is listed once (the one with tail < head). */
    double min_lat, min_lon, max_lat, max_lon;
    double cell_deg;
    uint32_t cols, rows;
    uint32_t *cell_first; /* [cols * rows + 1] */
    uint32_t *cell_edges;

    pthread_mutex_t ws_mu;
    struct geo_ws *ws_free;

    struct geo_streets *streets; /* the street index; NULL if none (streets.c) */
};

/*
 * Builds the derived parts of a graph whose n, m, coordinates, first_out,
 * head, time_ms, length_m and rclass are set: tails, the in-edge index, the
 * bounding box and the snapping grid. Returns 0 or AM_ENOMEM.
 */
int geo_roads_finish(struct geo_roads *g);

/* A new empty graph with its mutex initialised, or NULL. */
struct geo_roads *geo_roads_alloc(void);

/* Takes a workspace for a search on g (NULL if out of memory); give it back with geo_ws_put(). */
struct geo_ws *geo_ws_get(const struct geo_roads *g);
void geo_ws_put(const struct geo_roads *g, struct geo_ws *ws);

/* The twin of edge e (head -> tail), or GEO_NONE. */
uint32_t geo_roads_twin(const struct geo_roads *g, uint32_t e);

/* ---------------------------------------------------------------- streets (streets.c) */

/* The names a way may carry, in the order the importer hands them over. */
enum geo_way_name {
    GEO_WN_NAME,
    GEO_WN_AR,
    GEO_WN_FR,
    GEO_WN_ALT,
    GEO_WN_ALT_AR,
    GEO_WN_ALT_FR,
    GEO_WN_OLD,
    GEO_WN_OLD_AR,
    GEO_WN_OLD_FR,
    GEO_WN_SHORT,
    GEO_WN_SHORT_AR,
    GEO_WN_SHORT_FR,
    GEO_WN_COUNT
};

/* A named drivable way, as the importer read it: its names (NULL if absent) and its points. */
struct geo_street_way {
    const char *names[GEO_WN_COUNT];
    const int32_t *lat_e7, *lon_e7; /* npoints coordinates, 1e-7 degree */
    uint32_t npoints;
};

/*
 * Groups the ways into streets (same name, within STREET_JOIN_M of each
 * other), picks each one's point on the graph `g` and builds the search
 * structures. *out is NULL-free on success. Returns 0, AM_ETOOBIG or AM_ENOMEM.
 */
int geo_streets_build(const struct geo_roads *g, const struct geo_street_way *ways, size_t n,
                      struct geo_streets **out);

/* The index as the graph file stores it (docs/routing.md): a new buffer for the caller to free. */
int geo_streets_serialize(const struct geo_streets *s, char **buf, size_t *len);

/* Reads and checks a stored index; AM_ECORRUPT with a reason for anything out of place. */
int geo_streets_deserialize(const char *buf, size_t len, struct geo_streets **out, char *why,
                            size_t whysz);

void geo_streets_free(struct geo_streets *s);

#endif
