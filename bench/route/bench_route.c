/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * bench_route.c - the contraction hierarchy benchmark: what geo_ch_build()
 * costs and what geo_ch_query() answers in, against the plain Dijkstra of
 * geo_roads_node_time() (the named peer) on the same pairs in the same run.
 *
 * Two graphs, each optional:
 *  - an OSM extract read by geo_roads_import() (--osm, e.g. OSRM's Monaco
 *    benchmark file), so a real street network;
 *  - a synthetic road-like graph of at least --nodes nodes (default
 *    1,000,000) built through geo_roads_from_edges(): a square grid of
 *    intersections 150 m apart over central Morocco (from 32.6 N, 7.6 W,
 *    about 70 km across for a million nodes), each moved by up to 20 m;
 *    every 8th row and column an arterial (secondary, 60 km/h), every 64th
 *    a motorway (120 km/h) that local streets do not cross (they end on
 *    both sides; arterials meet it at interchanges); local streets at 30 to
 *    50 km/h, 10 % of their blocks one-way and 3 % missing. As in an OSM
 *    import, where every node of a way is a graph node, each block has 0 to
 *    --shape (default 4) shape nodes along it, moved up to 15 m sideways:
 *    about 2.3 edges per node, like the extracts of data/ (1.2 to 1.8);
 *    --shape 0 gives the bare grid of intersections, the hardest case for
 *    a hierarchy (3.7 edges per node, every node a crossing). Times are
 *    length / speed, each block's speed within +-10 %.
 *
 * For each graph: the build's wall-clock time, the shortcuts, the bytes of
 * the hierarchy and the process's peak resident memory during the build
 * (VmHWM, reset before it through /proc/self/clear_refs); then --queries
 * random node pairs (default 1,000; uniform over the nodes, --seed): the
 * time of each CH query (time only: once, and the best of three runs of
 * each pair, which leaves out the time other processes held the processor;
 * then with the path unpacked) and of each Dijkstra, and every CH answer
 * compared with Dijkstra's. Pairs
 * with no route (the synthetic graph's one-ways leave a few dead ends;
 * imported graphs have none) count as answers too.
 *
 * Output: a markdown table on stdout, progress on stderr. Exit status 1 if
 * any answer differs. bench/route/run.sh builds and runs it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "geo/geo.h"

#define BR_MAX_NODES   20000000u
#define BR_MAX_QUERIES 1000000u
#define BR_MAX_SHAPE   20
/* The synthetic graph: a motorway every 64th row and column of intersections, an arterial every
 * 8th; blocks of 150 m, intersections moved by up to 20 m, shape nodes by up to 15 m sideways;
 * 10 % of the local blocks one-way, 3 % missing. */
#define BR_MOTORWAY_EVERY 64
#define BR_ARTERIAL_EVERY 8
#define BR_BLOCK_M        150.0
#define BR_JITTER_M       20.0
#define BR_SHAPE_JITTER_M 15.0
#define BR_ONEWAY         0.10
#define BR_MISSING        0.03
#define BR_LAT0           32.6
#define BR_LON0           (-7.6)
#define BR_M_PER_DEG      (GEO_EARTH_RADIUS_M * 3.14159265358979323846 / 180.0)

static struct {
    const char *osm;
    uint32_t nodes;
    uint32_t queries;
    uint32_t shape;
    uint64_t seed;
} opt = {.nodes = 1000000, .queries = 1000, .shape = 4, .seed = 1};

/* One row of the table. */
struct br_result {
    char name[96];
    struct geo_roads_info info;
    double make_s;
    struct geo_ch_stats ch;
    double peak_rss_mb;
    uint32_t queries, unreachable, mismatches, path_mismatches;
    double ch_p50_us, ch_p99_us, ch_max_us;
    double best_p50_us, best_p99_us, best_max_us;
    double path_p50_us, path_p99_us;
    double dij_p50_ms, dij_p99_ms, dij_max_ms;
};

static uint64_t rng_state;

/* xorshift64*: fast, and the same sequence on every machine for a seed. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* Uniform in [0, 1). */
static double rng_unit(void)
{
    return (double)(rng() >> 11) / 9007199254740992.0;
}

static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(((rng() >> 32) * n) >> 32);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench_route: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

/* A field of /proc/self/status in kB ("VmHWM:", "VmRSS:"), or -1. */
static long proc_status_kb(const char *field)
{
    char line[256];
    long kb = -1;
    size_t flen = strlen(field);
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, flen) == 0) {
            kb = strtol(line + flen, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* Resets the peak resident size to the current one (Linux 4.0 and later); false if it cannot. */
static bool reset_peak_rss(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0)
        return false;
    bool ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The nearest-rank percentile p (0..100) of n sorted values. */
static int64_t pct(const int64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return sorted[rank ? rank - 1 : 0];
}

/* ------------------------------------------------------------- the synthetic graph */

/* A row or column's class: a motorway, an arterial or a local street. */
static uint8_t line_class(uint32_t i)
{
    if (i % BR_MOTORWAY_EVERY == 0)
        return GEO_RC_MOTORWAY;
    if (i % BR_ARTERIAL_EVERY == 0)
        return GEO_RC_SECONDARY;
    return GEO_RC_RESIDENTIAL;
}

/* A block side: an intersection to the next one east or north, through `shape` nodes. */
struct side {
    int8_t shape;   /* shape nodes; -1: no street here */
    int8_t oneway;  /* 0 two-way, 1 forwards (east, north), -1 backwards */
    uint8_t rclass; /* its class */
    uint32_t first; /* the node number of its first shape node */
};

struct edge_buf {
    uint32_t m, cap;
    uint32_t *tail, *head, *time_ms;
    float *length_m;
    uint8_t *rclass;
};

static void add_edge(struct edge_buf *e, uint32_t a, uint32_t b, uint32_t t, float len, uint8_t rc)
{
    if (e->m == e->cap)
        die("%s", "edge buffer too small (a bug)");
    e->tail[e->m] = a;
    e->head[e->m] = b;
    e->time_ms[e->m] = t;
    e->length_m[e->m] = len;
    e->rclass[e->m] = rc;
    e->m++;
}

/* Decides the side from intersection (r, c) along `along` (the row or column it follows) that
 * crosses line `cross` into `cross_next`: class, one-way, missing, shape nodes. */
static struct side plan_side(uint32_t along, uint32_t cross, uint32_t cross_next)
{
    struct side sd = {.rclass = line_class(along)};
    bool local = sd.rclass == GEO_RC_RESIDENTIAL;
    /* Local streets end at a motorway they meet; arterials meet it at an interchange. */
    if (local &&
        (line_class(cross) == GEO_RC_MOTORWAY || line_class(cross_next) == GEO_RC_MOTORWAY))
        sd.shape = -1;
    else if (local && rng_unit() < BR_MISSING)
        sd.shape = -1;
    else
        sd.shape = (int8_t)rng_below(opt.shape + 1);
    if (sd.shape >= 0 && local && rng_unit() < BR_ONEWAY)
        sd.oneway = rng() & 1 ? 1 : -1;
    return sd;
}

/* The nodes of side sd from a to b (a's shape nodes in between), each at the given position. */
static void lay_side(const struct side *sd, uint32_t a, uint32_t b, double *lat, double *lon)
{
    /* A shape node sits evenly along, moved sideways by up to BR_SHAPE_JITTER_M. */
    double dlat = lat[b] - lat[a], dlon = lon[b] - lon[a];
    double len = sqrt(dlat * dlat + dlon * dlon);
    double plat = len > 0 ? -dlon / len : 0, plon = len > 0 ? dlat / len : 0;
    for (int i = 0; i < sd->shape; i++) {
        double f = (i + 1.0) / (sd->shape + 1.0);
        double off = (2 * rng_unit() - 1) * BR_SHAPE_JITTER_M / BR_M_PER_DEG;
        lat[sd->first + i] = lat[a] + f * dlat + off * plat;
        lon[sd->first + i] = lon[a] + f * dlon + off * plon;
    }
}

/* The edges of side sd from a to b, one speed for the whole block. */
static void add_side(struct edge_buf *e, const struct side *sd, uint32_t a, uint32_t b,
                     const double *lat, const double *lon)
{
    double kmh;
    if (sd->rclass == GEO_RC_MOTORWAY)
        kmh = 120.0;
    else if (sd->rclass == GEO_RC_SECONDARY)
        kmh = 60.0;
    else
        kmh = 30.0 + 20.0 * rng_unit();
    kmh *= 0.9 + 0.2 * rng_unit();
    uint32_t prev = a;
    for (int i = 0; i <= sd->shape; i++) {
        uint32_t next = i < sd->shape ? sd->first + (uint32_t)i : b;
        double len = geo_distance_m(lat[prev], lon[prev], lat[next], lon[next]);
        double ms = len / (kmh / 3.6) * 1000.0;
        uint32_t t = ms < 1.0 ? 1 : (uint32_t)lround(ms);
        if (sd->oneway >= 0)
            add_edge(e, prev, next, t, (float)len, sd->rclass);
        if (sd->oneway <= 0)
            add_edge(e, next, prev, t, (float)len, sd->rclass);
        prev = next;
    }
}

/*
 * The synthetic graph: a `side` x `side` grid of intersections and its block sides, numbered
 * row by row, each intersection followed by the shape nodes of its sides east and north (so
 * that nodes near each other have numbers near each other, as an importer's would). Returns
 * the node count and fills *sides (2 per intersection: east, north), or 0 past BR_MAX_NODES.
 */
static uint32_t plan_grid(uint32_t side, struct side *sides)
{
    uint64_t next = 0;
    for (uint32_t r = 0; r < side; r++)
        for (uint32_t c = 0; c < side; c++) {
            struct side *east = &sides[2 * ((size_t)r * side + c)], *north = east + 1;
            next++;
            *east = c + 1 < side ? plan_side(r, c, c + 1) : (struct side){.shape = -1};
            *north = r + 1 < side ? plan_side(c, r, r + 1) : (struct side){.shape = -1};
            for (struct side *sd = east; sd <= north; sd++) {
                sd->first = (uint32_t)next;
                if (sd->shape > 0)
                    next += (uint32_t)sd->shape;
            }
            if (next > BR_MAX_NODES)
                return 0;
        }
    return (uint32_t)next;
}

static int make_synthetic(uint32_t nodes, struct geo_roads **out)
{
    /* Nodes per intersection: itself and, on average, shape/2 on each of two sides. */
    double per = 1.0 + opt.shape * 0.95;
    uint32_t side = (uint32_t)ceil(sqrt(nodes / per));
    struct side *sides = NULL;
    uint32_t *ix = NULL; /* intersection (r, c) -> node */
    uint32_t n = 0;
    struct edge_buf e = {0};
    double *lat = NULL, *lon = NULL;
    char why[256] = "";
    int rc;
    uint64_t saved = rng_state;

    /* Grow the grid until it has the nodes asked for (the plan is random: the same seed each
     * time, so the last plan is the one laid out). */
    for (side = side < 2 ? 2 : side;; side++) {
        free(sides);
        sides = malloc((size_t)side * side * 2 * sizeof(*sides));
        if (!sides)
            die("%s", "out of memory");
        rng_state = saved;
        n = plan_grid(side, sides);
        if (n == 0)
            die("%s", "too many nodes");
        if (n >= nodes)
            break;
    }
    ix = malloc((size_t)side * side * sizeof(*ix));
    lat = malloc((size_t)n * sizeof(*lat));
    lon = malloc((size_t)n * sizeof(*lon));
    e.cap = 2 * n + 4 * side * side;
    e.tail = malloc((size_t)e.cap * sizeof(*e.tail));
    e.head = malloc((size_t)e.cap * sizeof(*e.head));
    e.time_ms = malloc((size_t)e.cap * sizeof(*e.time_ms));
    e.length_m = malloc((size_t)e.cap * sizeof(*e.length_m));
    e.rclass = malloc((size_t)e.cap * sizeof(*e.rclass));
    if (!ix || !lat || !lon || !e.tail || !e.head || !e.time_ms || !e.length_m || !e.rclass)
        die("%s", "out of memory");

    double dlat = BR_BLOCK_M / BR_M_PER_DEG;
    double dlon = dlat / cos((BR_LAT0 + side * dlat / 2) * 3.14159265358979323846 / 180.0);
    double jlat = BR_JITTER_M / BR_M_PER_DEG, jlon = jlat * (dlon / dlat);
    for (uint32_t r = 0; r < side; r++)
        for (uint32_t c = 0; c < side; c++) {
            size_t i = (size_t)r * side + c;
            /* The intersection comes just before its east side's shape nodes. */
            uint32_t v = sides[2 * i].first - 1;
            ix[i] = v;
            lat[v] = BR_LAT0 + r * dlat + (2 * rng_unit() - 1) * jlat;
            lon[v] = BR_LON0 + c * dlon + (2 * rng_unit() - 1) * jlon;
        }
    for (uint32_t r = 0; r < side; r++)
        for (uint32_t c = 0; c < side; c++) {
            size_t i = (size_t)r * side + c;
            const struct side *east = &sides[2 * i], *north = east + 1;
            if (east->shape >= 0) {
                lay_side(east, ix[i], ix[i + 1], lat, lon);
                add_side(&e, east, ix[i], ix[i + 1], lat, lon);
            }
            if (north->shape >= 0) {
                lay_side(north, ix[i], ix[i + side], lat, lon);
                add_side(&e, north, ix[i], ix[i + side], lat, lon);
            }
        }
    /* A shape node is laid by its side; a planned side that has none leaves no gap. */
    rc = geo_roads_from_edges(n, lat, lon, e.m, e.tail, e.head, e.time_ms, e.length_m, e.rclass,
                              out, why, sizeof(why));
    if (rc)
        fprintf(stderr, "bench_route: synthetic graph: %s (%s)\n", why, am_strerror(rc));
    free(sides);
    free(ix);
    free(lat);
    free(lon);
    free(e.tail);
    free(e.head);
    free(e.time_ms);
    free(e.length_m);
    free(e.rclass);
    return rc;
}

/* ------------------------------------------------------------- one graph */

static int run_graph(struct geo_roads *g, struct br_result *res)
{
    struct geo_ch *ch = NULL;
    uint32_t n, q = opt.queries;
    uint32_t *src = NULL, *dst = NULL, *ch_ms = NULL;
    int64_t *ch_ns = NULL, *ch_best_ns = NULL, *path_ns = NULL, *dij_ns = NULL;
    int rc;

    geo_roads_info(g, &res->info);
    n = res->info.nodes;
    fprintf(stderr, "== %s: %u nodes, %u edges; building the hierarchy\n", res->name, n,
            res->info.edges);
    double rss_before_mb = (double)proc_status_kb("VmRSS:") / 1024.0;
    bool peak_ok = reset_peak_rss();
    rc = geo_ch_build(g, &ch, &res->ch);
    if (rc) {
        fprintf(stderr, "bench_route: geo_ch_build: %s\n", am_strerror(rc));
        return rc;
    }
    res->peak_rss_mb = peak_ok ? (double)proc_status_kb("VmHWM:") / 1024.0 : NAN;
    fprintf(stderr,
            "   built in %.1f s: %llu shortcuts, %.1f MB; RSS %.0f MB before, peak %.0f MB\n",
            res->ch.build_s, (unsigned long long)res->ch.shortcuts,
            (double)res->ch.memory_bytes / 1e6, rss_before_mb, res->peak_rss_mb);

    src = malloc((size_t)q * sizeof(*src));
    dst = malloc((size_t)q * sizeof(*dst));
    ch_ms = malloc((size_t)q * sizeof(*ch_ms));
    ch_ns = malloc((size_t)q * sizeof(*ch_ns));
    ch_best_ns = malloc((size_t)q * sizeof(*ch_best_ns));
    path_ns = malloc((size_t)q * sizeof(*path_ns));
    dij_ns = malloc((size_t)q * sizeof(*dij_ns));
    if (!src || !dst || !ch_ms || !ch_ns || !ch_best_ns || !path_ns || !dij_ns) {
        rc = AM_ENOMEM;
        goto out;
    }
    for (uint32_t i = 0; i < q; i++) {
        src[i] = rng_below(n);
        dst[i] = rng_below(n);
    }
    /* A few queries first, so that the workspace exists before the clock runs. */
    for (uint32_t i = 0; i < 10 && i < q; i++) {
        uint32_t t;
        geo_ch_query(ch, src[i], dst[i], &t, NULL, NULL);
    }
    for (uint32_t i = 0; i < q; i++) {
        int64_t t0 = now_ns();
        rc = geo_ch_query(ch, src[i], dst[i], &ch_ms[i], NULL, NULL);
        ch_ns[i] = now_ns() - t0;
        ch_best_ns[i] = ch_ns[i];
        if (rc)
            goto out;
    }
    /* Twice more each pair, in the same order: the best of three leaves out the time another
     * process held the processor, which on a shared machine makes the tail of short queries. */
    for (int round = 0; round < 2; round++)
        for (uint32_t i = 0; i < q; i++) {
            uint32_t t;
            int64_t t0 = now_ns();
            rc = geo_ch_query(ch, src[i], dst[i], &t, NULL, NULL);
            int64_t dt = now_ns() - t0;
            if (rc)
                goto out;
            if (dt < ch_best_ns[i])
                ch_best_ns[i] = dt;
        }
    for (uint32_t i = 0; i < q; i++) {
        uint32_t t, *path = NULL;
        size_t npath = 0;
        int64_t t0 = now_ns();
        rc = geo_ch_query(ch, src[i], dst[i], &t, &path, &npath);
        path_ns[i] = now_ns() - t0;
        free(path);
        if (rc)
            goto out;
        if (t != ch_ms[i]) {
            fprintf(stderr, "bench_route: %u -> %u: %u ms, then %u ms with the path\n", src[i],
                    dst[i], ch_ms[i], t);
            res->path_mismatches++;
        }
    }
    fprintf(stderr, "   %u CH queries done; now the same pairs by Dijkstra\n", q);
    for (uint32_t i = 0; i < q; i++) {
        uint32_t t;
        int64_t t0 = now_ns();
        rc = geo_roads_node_time(g, src[i], dst[i], &t);
        dij_ns[i] = now_ns() - t0;
        if (rc)
            goto out;
        if (t == UINT32_MAX)
            res->unreachable++;
        if (t != ch_ms[i]) {
            if (res->mismatches < 10)
                fprintf(stderr, "bench_route: %u -> %u: CH %u ms, Dijkstra %u ms\n", src[i], dst[i],
                        ch_ms[i], t);
            res->mismatches++;
        }
        if ((i + 1) % 200 == 0)
            fprintf(stderr, "   %u of %u\n", i + 1, q);
    }
    qsort(ch_ns, q, sizeof(*ch_ns), cmp_i64);
    qsort(ch_best_ns, q, sizeof(*ch_best_ns), cmp_i64);
    qsort(path_ns, q, sizeof(*path_ns), cmp_i64);
    qsort(dij_ns, q, sizeof(*dij_ns), cmp_i64);
    res->queries = q;
    res->ch_p50_us = (double)pct(ch_ns, q, 50) / 1e3;
    res->ch_p99_us = (double)pct(ch_ns, q, 99) / 1e3;
    res->ch_max_us = (double)pct(ch_ns, q, 100) / 1e3;
    res->best_p50_us = (double)pct(ch_best_ns, q, 50) / 1e3;
    res->best_p99_us = (double)pct(ch_best_ns, q, 99) / 1e3;
    res->best_max_us = (double)pct(ch_best_ns, q, 100) / 1e3;
    res->path_p50_us = (double)pct(path_ns, q, 50) / 1e3;
    res->path_p99_us = (double)pct(path_ns, q, 99) / 1e3;
    res->dij_p50_ms = (double)pct(dij_ns, q, 50) / 1e6;
    res->dij_p99_ms = (double)pct(dij_ns, q, 99) / 1e6;
    res->dij_max_ms = (double)pct(dij_ns, q, 100) / 1e6;
out:
    if (rc)
        fprintf(stderr, "bench_route: query: %s\n", am_strerror(rc));
    geo_ch_free(ch);
    free(src);
    free(dst);
    free(ch_ms);
    free(ch_ns);
    free(ch_best_ns);
    free(path_ns);
    free(dij_ns);
    return rc;
}

/* ------------------------------------------------------------- main */

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_route [--osm FILE] [--nodes N] [--shape N] [--queries N] [--seed N]\n"
               "  --osm FILE    an OSM extract (.osm or .pbf) to measure as well\n"
               "  --nodes N     nodes of the synthetic graph, at least (default 1000000; 0: none)\n"
               "  --shape N     shape nodes per block of it, at most (default 4; 0: a bare grid)\n"
               "  --queries N   random pairs per graph (default 1000)\n"
               "  --seed N      of the synthetic graph and the pairs (default 1)\n");
}

static uint64_t parse_num(const char *s, uint64_t max, const char *what)
{
    int64_t v;
    if (am_parse_i64(s, 0, (int64_t)max, &v))
        die("bad %s", what);
    return (uint64_t)v;
}

static void print_row(const struct br_result *r)
{
    printf("| %s | %u | %u | %.1f | %.2f | %llu | %.1f | %.0f | %.0f / %.0f / %.0f "
           "| %.0f / %.0f / %.0f | %.0f / %.0f | %.1f / %.1f / %.1f | %.0f× | %u of %u (%u "
           "unreachable) |\n",
           r->name, r->info.nodes, r->info.edges, r->make_s, r->ch.build_s,
           (unsigned long long)r->ch.shortcuts, (double)r->ch.memory_bytes / 1e6, r->peak_rss_mb,
           r->ch_p50_us, r->ch_p99_us, r->ch_max_us, r->best_p50_us, r->best_p99_us, r->best_max_us,
           r->path_p50_us, r->path_p99_us, r->dij_p50_ms, r->dij_p99_ms, r->dij_max_ms,
           r->ch_p50_us > 0 ? r->dij_p50_ms * 1e3 / r->ch_p50_us : 0.0, r->queries - r->mismatches,
           r->queries, r->unreachable);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"osm", required_argument, NULL, 'o'},
                                             {"nodes", required_argument, NULL, 'n'},
                                             {"queries", required_argument, NULL, 'q'},
                                             {"shape", required_argument, NULL, 'S'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct br_result res[2];
    size_t nres = 0;
    double load[3] = {0};
    int c, rc = 0;

    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            opt.osm = optarg;
            break;
        case 'n':
            opt.nodes = (uint32_t)parse_num(optarg, BR_MAX_NODES, "--nodes");
            break;
        case 'q':
            opt.queries = (uint32_t)parse_num(optarg, BR_MAX_QUERIES, "--queries");
            break;
        case 'S':
            opt.shape = (uint32_t)parse_num(optarg, BR_MAX_SHAPE, "--shape");
            break;
        case 's':
            opt.seed = parse_num(optarg, INT64_MAX, "--seed");
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || opt.queries == 0 || (!opt.osm && opt.nodes == 0)) {
        usage(stderr);
        return 2;
    }
    if (opt.nodes > 0 && opt.nodes < 4)
        die("%s", "--nodes must be 0 or at least 4");
    memset(res, 0, sizeof(res));

    if (opt.osm) {
        struct br_result *r = &res[nres];
        struct geo_roads *g = NULL;
        char why[512] = "";
        const char *base = strrchr(opt.osm, '/');
        rng_state = opt.seed * 0x9e3779b97f4a7c15ull + 1;
        snprintf(r->name, sizeof(r->name), "%s (OSM)", base ? base + 1 : opt.osm);
        fprintf(stderr, "== importing %s\n", opt.osm);
        int64_t t0 = now_ns();
        rc = geo_roads_import(opt.osm, NULL, &g, why, sizeof(why));
        r->make_s = (double)(now_ns() - t0) / 1e9;
        if (rc) {
            fprintf(stderr, "bench_route: %s (%s)\n", why, am_strerror(rc));
            return 2;
        }
        rc = run_graph(g, r);
        geo_roads_free(g);
        if (rc)
            return 2;
        nres++;
    }
    if (opt.nodes > 0) {
        struct br_result *r = &res[nres];
        struct geo_roads *g = NULL;
        rng_state = opt.seed * 0x9e3779b97f4a7c15ull + 2;
        snprintf(r->name, sizeof(r->name), "synthetic, %s, seed %llu",
                 opt.shape ? "shape nodes" : "bare grid", (unsigned long long)opt.seed);
        fprintf(stderr, "== making the synthetic graph of %u nodes\n", opt.nodes);
        int64_t t0 = now_ns();
        rc = make_synthetic(opt.nodes, &g);
        r->make_s = (double)(now_ns() - t0) / 1e9;
        if (rc)
            return 2;
        rc = run_graph(g, r);
        geo_roads_free(g);
        if (rc)
            return 2;
        nres++;
    }

    printf("\n| graph | nodes | edges | import / make, s | CH build, s | shortcuts | hierarchy, MB "
           "| peak RSS in build, MB | CH query p50 / p99 / max, µs | the same, best of 3 runs per "
           "pair, µs "
           "| CH query + path p50 / p99, µs "
           "| Dijkstra p50 / p99 / max, ms | speed-up at p50 | CH = Dijkstra |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    uint32_t bad = 0;
    for (size_t i = 0; i < nres; i++) {
        print_row(&res[i]);
        bad += res[i].mismatches + res[i].path_mismatches;
    }
    if (getloadavg(load, 3) == 3)
        printf("\n%ld processors online; load average at the end %.2f %.2f %.2f\n",
               sysconf(_SC_NPROCESSORS_ONLN), load[0], load[1], load[2]);
    return bad ? 1 : 0;
}
