/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_roads_ch.c - unit tests of the contraction hierarchy of src/geo
 * (roads_ch.c): small graphs with answers worked out by hand (a one-way
 * loop, parts that cannot reach each other, parallel edges and a direct
 * edge slower than a detour, a grid whose times are Manhattan distances,
 * times near the 32-bit limit), refusals of bad arguments, then a random
 * graph of 3,000 nodes (one-ways, missing links, fast long edges, parallel
 * edges) on which 3,000 random pairs must get exactly the time of the plain
 * Dijkstra of geo_roads_node_time(), queries from four threads at once, and
 * the Casablanca extract of data/roads. Every path is checked: it runs from
 * s to t, each step is an edge of the graph, and the times of the steps
 * (the fastest of parallel edges) add up to the answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "geo/geo.h"

#ifndef AMANE_DATA_DIR
#error "AMANE_DATA_DIR must name the data/ folder of the source tree"
#endif

/* Base of the hand-made graphs: central Casablanca. */
#define LAT0 33.5
#define LON0 (-7.6)
#define STEP 0.001

/* ------------------------------------------------------------- helpers */

static const char *data_dir(void)
{
    const char *d = getenv("AMANE_DATA_DIR");
    return d && *d ? d : AMANE_DATA_DIR;
}

/* A growable list of directed edges, the input of geo_roads_from_edges(). */
struct edges {
    uint32_t m, cap;
    uint32_t *tail, *head, *time_ms;
};

static void edges_add(struct edges *e, uint32_t a, uint32_t b, uint32_t t)
{
    if (e->m == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 64;
        e->tail = realloc(e->tail, e->cap * sizeof(uint32_t));
        e->head = realloc(e->head, e->cap * sizeof(uint32_t));
        e->time_ms = realloc(e->time_ms, e->cap * sizeof(uint32_t));
        assert_non_null(e->tail);
        assert_non_null(e->head);
        assert_non_null(e->time_ms);
    }
    e->tail[e->m] = a;
    e->head[e->m] = b;
    e->time_ms[e->m] = t;
    e->m++;
}

static void edges_two_way(struct edges *e, uint32_t a, uint32_t b, uint32_t t)
{
    edges_add(e, a, b, t);
    edges_add(e, b, a, t);
}

static void edges_release(struct edges *e)
{
    free(e->tail);
    free(e->head);
    free(e->time_ms);
    memset(e, 0, sizeof(*e));
}

/* A graph of n nodes on a grid of `cols` columns, STEP apart, with the edges of e. */
static struct geo_roads *graph(uint32_t n, uint32_t cols, const struct edges *e)
{
    double *lat = calloc(n, sizeof(double)), *lon = calloc(n, sizeof(double));
    float *len = calloc(e->m ? e->m : 1, sizeof(float));
    struct geo_roads *g = NULL;
    char why[256] = "";
    assert_non_null(lat);
    assert_non_null(lon);
    assert_non_null(len);
    for (uint32_t i = 0; i < n; i++) {
        lat[i] = LAT0 + STEP * (i / cols);
        lon[i] = LON0 + STEP * (i % cols);
    }
    for (uint32_t j = 0; j < e->m; j++)
        len[j] = 100;
    int rc = geo_roads_from_edges(n, lat, lon, e->m, e->tail, e->head, e->time_ms, len, NULL, &g,
                                  why, sizeof(why));
    if (rc)
        fail_msg("geo_roads_from_edges: %s (%s)", am_strerror(rc), why);
    free(lat);
    free(lon);
    free(len);
    return g;
}

static struct geo_ch *hierarchy(const struct geo_roads *g)
{
    struct geo_ch *ch = NULL;
    struct geo_ch_stats st;
    memset(&st, 0xff, sizeof(st));
    assert_int_equal(geo_ch_build(g, &ch, &st), 0);
    assert_non_null(ch);
    assert_true(st.build_s >= 0 && st.build_s < 600);
    assert_true(st.memory_bytes > 0);
    return ch;
}

/* The graph's edges as sorted (tail, head) keys, each pair once, with its fastest time. */
struct edge_index {
    size_t n;
    uint64_t *key;
    uint32_t *time_ms;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static struct edge_index edge_index(const struct geo_roads *g)
{
    struct geo_roads_info info;
    struct edge_index ix = {0};
    geo_roads_info(g, &info);
    uint64_t *raw = calloc(info.edges ? info.edges : 1, sizeof(uint64_t));
    ix.key = calloc(info.edges ? info.edges : 1, sizeof(uint64_t));
    ix.time_ms = calloc(info.edges ? info.edges : 1, sizeof(uint32_t));
    assert_non_null(raw);
    assert_non_null(ix.key);
    assert_non_null(ix.time_ms);
    for (uint32_t e = 0; e < info.edges; e++) {
        struct geo_road_edge ed;
        assert_true(geo_roads_edge(g, e, &ed));
        raw[e] = ((uint64_t)ed.tail << 32) | ed.head;
    }
    qsort(raw, info.edges, sizeof(uint64_t), cmp_u64);
    for (uint32_t e = 0; e < info.edges; e++)
        if (ix.n == 0 || ix.key[ix.n - 1] != raw[e]) {
            ix.key[ix.n] = raw[e];
            ix.time_ms[ix.n] = UINT32_MAX;
            ix.n++;
        }
    for (uint32_t e = 0; e < info.edges; e++) {
        struct geo_road_edge ed;
        geo_roads_edge(g, e, &ed);
        uint64_t k = ((uint64_t)ed.tail << 32) | ed.head;
        uint64_t *at = bsearch(&k, ix.key, ix.n, sizeof(uint64_t), cmp_u64);
        assert_non_null(at);
        size_t i = (size_t)(at - ix.key);
        if (ed.time_ms < ix.time_ms[i])
            ix.time_ms[i] = ed.time_ms;
    }
    free(raw);
    return ix;
}

static void edge_index_release(struct edge_index *ix)
{
    free(ix->key);
    free(ix->time_ms);
    memset(ix, 0, sizeof(*ix));
}

/* The fastest edge a -> b, or UINT32_MAX if there is none. */
static uint32_t edge_time(const struct edge_index *ix, uint32_t a, uint32_t b)
{
    uint64_t k = ((uint64_t)a << 32) | b;
    uint64_t *at = bsearch(&k, ix->key, ix->n, sizeof(uint64_t), cmp_u64);
    return at ? ix->time_ms[at - ix->key] : UINT32_MAX;
}

/* Fails unless path runs from s to t along edges whose times add up to time_ms. */
static void check_path(const struct edge_index *ix, uint32_t s, uint32_t t, uint32_t time_ms,
                       const uint32_t *path, size_t npath)
{
    uint64_t sum = 0;
    if (!path || npath == 0)
        fail_msg("%u -> %u: %u ms but no path", s, t, time_ms);
    if (path[0] != s || path[npath - 1] != t)
        fail_msg("%u -> %u: the path runs from %u to %u", s, t, path[0], path[npath - 1]);
    for (size_t i = 0; i + 1 < npath; i++) {
        uint32_t w = edge_time(ix, path[i], path[i + 1]);
        if (w == UINT32_MAX)
            fail_msg("%u -> %u: step %zu (%u -> %u) is no edge", s, t, i, path[i], path[i + 1]);
        sum += w;
    }
    if (sum != time_ms)
        fail_msg("%u -> %u: the path takes %llu ms, the answer is %u ms", s, t,
                 (unsigned long long)sum, time_ms);
}

/* The CH's time s -> t, its path checked; `want` is the expected time. */
static void expect(const struct geo_ch *ch, const struct edge_index *ix, uint32_t s, uint32_t t,
                   uint32_t want)
{
    uint32_t got = 0, *path = NULL;
    size_t npath = 99;
    assert_int_equal(geo_ch_query(ch, s, t, &got, NULL, NULL), 0);
    if (got != want)
        fail_msg("%u -> %u: %u ms, expected %u ms", s, t, got, want);
    assert_int_equal(geo_ch_query(ch, s, t, &got, &path, &npath), 0);
    assert_int_equal(got, want);
    if (want == UINT32_MAX) {
        assert_null(path);
        assert_int_equal(npath, 0);
    } else {
        check_path(ix, s, t, got, path, npath);
    }
    free(path);
}

/* ------------------------------------------------------------- hand-made graphs */

/*
 * A one-way loop 0 -> 1 -> 2 -> 3 -> 0 of 10, 20, 30, 40 s: going back one
 * node means going round. Node 4 hangs off 2 by a two-way street of 5 s.
 */
static void test_one_way_loop(void **state)
{
    (void)state;
    struct edges e = {0};
    edges_add(&e, 0, 1, 10000);
    edges_add(&e, 1, 2, 20000);
    edges_add(&e, 2, 3, 30000);
    edges_add(&e, 3, 0, 40000);
    edges_two_way(&e, 2, 4, 5000);
    struct geo_roads *g = graph(5, 5, &e);
    struct geo_ch *ch = hierarchy(g);
    struct edge_index ix = edge_index(g);

    expect(ch, &ix, 0, 3, 60000);
    expect(ch, &ix, 3, 0, 40000);
    expect(ch, &ix, 1, 0, 90000);
    expect(ch, &ix, 0, 0, 0);
    expect(ch, &ix, 4, 1, 5000 + 30000 + 40000 + 10000);
    expect(ch, &ix, 3, 4, 40000 + 10000 + 20000 + 5000);
    uint32_t *path = NULL, t;
    size_t npath = 0;
    assert_int_equal(geo_ch_query(ch, 1, 0, &t, &path, &npath), 0);
    assert_int_equal(npath, 4);
    assert_int_equal(path[0], 1);
    assert_int_equal(path[1], 2);
    assert_int_equal(path[2], 3);
    assert_int_equal(path[3], 0);
    free(path);
    /* The same node: a path of one node. */
    assert_int_equal(geo_ch_query(ch, 4, 4, &t, &path, &npath), 0);
    assert_int_equal(t, 0);
    assert_int_equal(npath, 1);
    assert_int_equal(path[0], 4);
    free(path);

    edge_index_release(&ix);
    geo_ch_free(ch);
    geo_roads_free(g);
    edges_release(&e);
}

/*
 * Parts that cannot reach each other: 0 <-> 1, a one-way 1 -> 2, 2 <-> 3,
 * and node 4 with no edge at all. 3 cannot get back to 0; nothing reaches 4.
 */
static void test_unreachable(void **state)
{
    (void)state;
    struct edges e = {0};
    edges_two_way(&e, 0, 1, 1000);
    edges_add(&e, 1, 2, 2000);
    edges_two_way(&e, 2, 3, 3000);
    struct geo_roads *g = graph(5, 5, &e);
    struct geo_ch *ch = hierarchy(g);
    struct edge_index ix = edge_index(g);

    expect(ch, &ix, 0, 3, 6000);
    expect(ch, &ix, 3, 0, UINT32_MAX);
    expect(ch, &ix, 2, 1, UINT32_MAX);
    expect(ch, &ix, 4, 0, UINT32_MAX);
    expect(ch, &ix, 0, 4, UINT32_MAX);
    expect(ch, &ix, 4, 4, 0);

    edge_index_release(&ix);
    geo_ch_free(ch);
    geo_roads_free(g);
    edges_release(&e);
}

/*
 * Parallel edges take the fastest: 0 -> 1 three times (50, 30, 70 s), and
 * 1 -> 0 once (40 s). A direct edge 0 -> 2 of 100 s loses to 0 -> 1 -> 2
 * (30 + 10 s), and a direct 2 -> 0 of 45 s beats 2 -> 1 -> 0 (10 + 40 s).
 */
static void test_parallel_edges_and_detours(void **state)
{
    (void)state;
    struct edges e = {0};
    edges_add(&e, 0, 1, 50000);
    edges_add(&e, 0, 1, 30000);
    edges_add(&e, 0, 1, 70000);
    edges_add(&e, 1, 0, 40000);
    edges_two_way(&e, 1, 2, 10000);
    edges_add(&e, 0, 2, 100000);
    edges_add(&e, 2, 0, 45000);
    edges_add(&e, 2, 2, 1); /* a self-loop: dropped */
    struct geo_roads *g = graph(3, 3, &e);
    struct geo_ch *ch = hierarchy(g);
    struct edge_index ix = edge_index(g);

    expect(ch, &ix, 0, 1, 30000);
    expect(ch, &ix, 1, 0, 40000);
    expect(ch, &ix, 0, 2, 40000);
    expect(ch, &ix, 2, 0, 45000);
    expect(ch, &ix, 2, 1, 10000);
    uint32_t *path = NULL, t;
    size_t npath = 0;
    assert_int_equal(geo_ch_query(ch, 0, 2, &t, &path, &npath), 0);
    assert_int_equal(npath, 3);
    assert_int_equal(path[1], 1);
    free(path);
    assert_int_equal(geo_ch_query(ch, 2, 0, &t, &path, &npath), 0);
    assert_int_equal(npath, 2);
    free(path);

    edge_index_release(&ix);
    geo_ch_free(ch);
    geo_roads_free(g);
    edges_release(&e);
}

/*
 * A grid of 12 x 9 two-way streets of 1 s each: every time is the Manhattan
 * distance between the nodes, and every path has that many steps. All
 * 108 x 108 pairs.
 */
static void test_grid(void **state)
{
    (void)state;
    enum { COLS = 12, ROWS = 9, N = COLS * ROWS };
    struct edges e = {0};
    for (uint32_t r = 0; r < ROWS; r++)
        for (uint32_t c = 0; c < COLS; c++) {
            uint32_t v = r * COLS + c;
            if (c + 1 < COLS)
                edges_two_way(&e, v, v + 1, 1000);
            if (r + 1 < ROWS)
                edges_two_way(&e, v, v + COLS, 1000);
        }
    struct geo_roads *g = graph(N, COLS, &e);
    struct geo_ch *ch = hierarchy(g);
    struct edge_index ix = edge_index(g);

    for (uint32_t s = 0; s < N; s++)
        for (uint32_t t = 0; t < N; t++) {
            uint32_t dr = s / COLS > t / COLS ? s / COLS - t / COLS : t / COLS - s / COLS;
            uint32_t dc = s % COLS > t % COLS ? s % COLS - t % COLS : t % COLS - s % COLS;
            uint32_t got, *path = NULL;
            size_t npath = 0;
            assert_int_equal(geo_ch_query(ch, s, t, &got, &path, &npath), 0);
            if (got != (dr + dc) * 1000)
                fail_msg("%u -> %u: %u ms, expected %u ms", s, t, got, (dr + dc) * 1000);
            assert_int_equal(npath, dr + dc + 1);
            check_path(&ix, s, t, got, path, npath);
            free(path);
        }

    edge_index_release(&ix);
    geo_ch_free(ch);
    geo_roads_free(g);
    edges_release(&e);
}

/*
 * Long times: a two-way line of 1-day edges (the most from_edges() takes).
 * 49 days (4,233,600,000 ms) fit in 32 bits and come out exact, with the
 * path; 59 days do not, and the answer is "no route" rather than a time
 * wrapped round to a short one.
 */
static void test_long_times(void **state)
{
    (void)state;
    enum { N = 60 };
    const uint32_t day = 86400000u;
    struct edges e = {0};
    for (uint32_t i = 0; i + 1 < N; i++)
        edges_two_way(&e, i, i + 1, day);
    struct geo_roads *g = graph(N, 1, &e);
    struct geo_ch *ch = hierarchy(g);
    struct edge_index ix = edge_index(g);

    expect(ch, &ix, 0, 49, 49u * day);
    expect(ch, &ix, 59, 10, 49u * day);
    expect(ch, &ix, 3, 4, day);
    expect(ch, &ix, 0, 59, UINT32_MAX);
    expect(ch, &ix, 59, 0, UINT32_MAX);

    edge_index_release(&ix);
    geo_ch_free(ch);
    geo_roads_free(g);
    edges_release(&e);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct edges e = {0};
    edges_two_way(&e, 0, 1, 1000);
    struct geo_roads *g = graph(2, 2, &e);
    struct geo_ch *ch = NULL;
    uint32_t t = 0, *path = (uint32_t *)&t;
    size_t npath = 7;

    assert_int_equal(geo_ch_build(NULL, &ch, NULL), AM_EINVAL);
    assert_null(ch);
    assert_int_equal(geo_ch_build(g, NULL, NULL), AM_EINVAL);
    assert_int_equal(geo_ch_build(g, &ch, NULL), 0); /* stats may be NULL */

    assert_int_equal(geo_ch_query(ch, 2, 0, &t, &path, &npath), AM_EINVAL);
    assert_null(path);
    assert_int_equal(npath, 0);
    assert_int_equal(geo_ch_query(ch, 0, 2, &t, NULL, NULL), AM_EINVAL);
    assert_int_equal(geo_ch_query(ch, UINT32_MAX, 0, &t, NULL, NULL), AM_EINVAL);
    assert_int_equal(geo_ch_query(ch, 0, 1, NULL, NULL, NULL), AM_EINVAL);
    assert_int_equal(geo_ch_query(ch, 0, 1, &t, &path, NULL), AM_EINVAL);
    assert_int_equal(geo_ch_query(NULL, 0, 1, &t, NULL, NULL), AM_EINVAL);
    assert_int_equal(geo_ch_query(ch, 0, 1, &t, NULL, NULL), 0);
    assert_int_equal(t, 1000);

    geo_ch_free(ch);
    geo_ch_free(NULL);
    geo_roads_free(g);
    edges_release(&e);
}

/* ------------------------------------------------------------- a random graph */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rng_below(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)(((rng_state * 2685821657736338717ull) >> 32) % n);
}

/*
 * 3,000 nodes: a 60 x 50 grid of streets of 5 to 60 s, 15 % of them one-way
 * and 5 % missing, some doubled by a slower parallel edge; and 150 fast
 * one-way links of 1 to 30 s between random nodes, so that the fastest route
 * is often far from the straight one. Some nodes may be left unreachable.
 */
static struct geo_roads *random_graph(uint32_t *n_out)
{
    enum { COLS = 60, ROWS = 50, N = COLS * ROWS };
    struct edges e = {0};
    for (uint32_t r = 0; r < ROWS; r++)
        for (uint32_t c = 0; c < COLS; c++) {
            uint32_t v = r * COLS + c;
            for (int dir = 0; dir < 2; dir++) {
                uint32_t w;
                if (dir == 0 && c + 1 < COLS)
                    w = v + 1;
                else if (dir == 1 && r + 1 < ROWS)
                    w = v + COLS;
                else
                    continue;
                uint32_t roll = rng_below(100);
                uint32_t t = 5000 + rng_below(55001);
                if (roll < 5)
                    continue;
                if (roll < 20) {
                    if (rng_below(2))
                        edges_add(&e, v, w, t);
                    else
                        edges_add(&e, w, v, t);
                    continue;
                }
                edges_two_way(&e, v, w, t);
                if (roll < 25)
                    edges_add(&e, v, w, t + 1 + rng_below(5000));
            }
        }
    for (int i = 0; i < 150; i++)
        edges_add(&e, rng_below(N), rng_below(N), 1000 + rng_below(29001));
    struct geo_roads *g = graph(N, COLS, &e);
    edges_release(&e);
    *n_out = N;
    return g;
}

static void test_random_against_dijkstra(void **state)
{
    (void)state;
    uint32_t n, unreachable = 0;
    struct geo_roads *g = random_graph(&n);
    struct geo_ch *ch = NULL;
    struct geo_ch_stats st;
    assert_int_equal(geo_ch_build(g, &ch, &st), 0);
    assert_true(st.shortcuts > 0);
    struct edge_index ix = edge_index(g);

    for (int q = 0; q < 3000; q++) {
        uint32_t s = rng_below(n), t = rng_below(n), want, got, *path = NULL;
        size_t npath = 0;
        assert_int_equal(geo_roads_node_time(g, s, t, &want), 0);
        assert_int_equal(geo_ch_query(ch, s, t, &got, &path, &npath), 0);
        if (got != want)
            fail_msg("%u -> %u: CH %u ms, Dijkstra %u ms", s, t, got, want);
        if (want == UINT32_MAX) {
            unreachable++;
            assert_null(path);
        } else {
            check_path(&ix, s, t, got, path, npath);
        }
        free(path);
    }
    /* The graph is meant to be mostly connected: a test of "no route" only would prove little. */
    assert_true(unreachable < 300);

    edge_index_release(&ix);
    geo_ch_free(ch);
    geo_roads_free(g);
}

struct query_worker {
    const struct geo_ch *ch;
    const uint32_t *src, *dst, *want;
    size_t nq;
    size_t bad;
};

static void *query_work(void *arg)
{
    struct query_worker *w = arg;
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < w->nq; i++) {
            uint32_t got, *path = NULL;
            size_t npath = 0;
            bool with_path = (i + round) % 2 == 0;
            if (geo_ch_query(w->ch, w->src[i], w->dst[i], &got, with_path ? &path : NULL,
                             with_path ? &npath : NULL) != 0 ||
                got != w->want[i])
                w->bad++;
            free(path);
        }
    return NULL;
}

/* Four threads query one hierarchy at once, and each gets the single-threaded answers. */
static void test_concurrent_queries(void **state)
{
    (void)state;
    enum { NQ = 400, THREADS = 4 };
    uint32_t n;
    struct geo_roads *g = random_graph(&n);
    struct geo_ch *ch = hierarchy(g);
    uint32_t src[NQ], dst[NQ], want[NQ];
    for (size_t i = 0; i < NQ; i++) {
        src[i] = rng_below(n);
        dst[i] = rng_below(n);
        assert_int_equal(geo_roads_node_time(g, src[i], dst[i], &want[i]), 0);
    }
    struct query_worker w[THREADS];
    pthread_t th[THREADS];
    for (int k = 0; k < THREADS; k++) {
        w[k] = (struct query_worker){ch, src, dst, want, NQ, 0};
        assert_int_equal(pthread_create(&th[k], NULL, query_work, &w[k]), 0);
    }
    for (int k = 0; k < THREADS; k++) {
        pthread_join(th[k], NULL);
        assert_int_equal(w[k].bad, 0);
    }
    geo_ch_free(ch);
    geo_roads_free(g);
}

/* ------------------------------------------------------------- a real street network */

/* The Casablanca extract of data/roads: 1,000 random pairs against Dijkstra. */
static void test_casablanca(void **state)
{
    (void)state;
    char path_buf[1024], why[512] = "";
    struct geo_roads *g = NULL;
    struct geo_roads_info info;
    snprintf(path_buf, sizeof(path_buf), "%s/roads/casablanca_center.osm", data_dir());
    int rc = geo_roads_import(path_buf, NULL, &g, why, sizeof(why));
    if (rc)
        fail_msg("geo_roads_import: %s (%s)", am_strerror(rc), why);
    geo_roads_info(g, &info);
    assert_true(info.nodes > 1000);
    struct geo_ch *ch = hierarchy(g);
    struct edge_index ix = edge_index(g);

    for (int q = 0; q < 1000; q++) {
        uint32_t s = rng_below(info.nodes), t = rng_below(info.nodes), want, got, *path = NULL;
        size_t npath = 0;
        assert_int_equal(geo_roads_node_time(g, s, t, &want), 0);
        /* The importer keeps the largest strongly connected part: every pair has a route. */
        assert_int_not_equal(want, UINT32_MAX);
        assert_int_equal(geo_ch_query(ch, s, t, &got, &path, &npath), 0);
        if (got != want)
            fail_msg("%u -> %u: CH %u ms, Dijkstra %u ms", s, t, got, want);
        check_path(&ix, s, t, got, path, npath);
        free(path);
    }

    edge_index_release(&ix);
    geo_ch_free(ch);
    geo_roads_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_way_loop),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_parallel_edges_and_detours),
        cmocka_unit_test(test_grid),
        cmocka_unit_test(test_long_times),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_random_against_dijkstra),
        cmocka_unit_test(test_concurrent_queries),
        cmocka_unit_test(test_casablanca),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
