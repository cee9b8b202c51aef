/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_roads.c - unit tests of the road graph of src/geo, with answers worked
 * out by hand: small graphs built with geo_roads_from_edges() (a two-way
 * line, a one-way loop where going back means going round, a diamond whose
 * fast way is the longer one in metres, parts that cannot reach each other),
 * snapping (distance, fraction, twin, nothing near, bad coordinates), travel
 * times from many sources (same edge, early stop, counted sources), ranking
 * (fresh before stale, unreachable left out, ties by index), route geometry,
 * speed factors, the graph file (round trip, truncated and altered files),
 * the OSM importer on small files written here (one-way forms, roundabouts,
 * maxspeed forms, dropped ways, the largest strongly connected part, cut
 * ways, files that are not OSM), and the Casablanca extract of data/roads,
 * whose counts were computed by an independent reference of the import rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "geo/geo.h"

#ifndef AMANE_DATA_DIR
#error "AMANE_DATA_DIR must name the data/ folder of the source tree"
#endif

/* ------------------------------------------------------------- helpers */

const char *__lsan_default_suppressions(void);

/*
 * Read by LeakSanitizer in sanitizer builds: readosm 1.1.0a leaks expat's
 * parser and the object it was reading when a .osm file is not well-formed
 * (parse_osm_xml() returns early), which test_import_refusals() imports on
 * purpose. Nothing outside readosm can free those.
 */
const char *__lsan_default_suppressions(void)
{
    return "leak:libexpat.so\nleak:libreadosm.so\n";
}

/* Base of the hand-made graphs: central Casablanca. 0.001 degree of latitude is 111.2 m. */
#define LAT0 33.5
#define LON0 (-7.6)
#define STEP 0.001

static const char *data_dir(void)
{
    const char *d = getenv("AMANE_DATA_DIR");
    return d && *d ? d : AMANE_DATA_DIR;
}

static struct geo_roads *build(uint32_t n, const double *lat, const double *lon, uint32_t m,
                               const uint32_t *tail, const uint32_t *head, const uint32_t *time_ms,
                               const float *length_m, const uint8_t *rclass)
{
    struct geo_roads *g = NULL;
    char why[256] = "";
    int rc = geo_roads_from_edges(n, lat, lon, m, tail, head, time_ms, length_m, rclass, &g, why,
                                  sizeof(why));
    if (rc)
        fail_msg("geo_roads_from_edges: %s (%s)", am_strerror(rc), why);
    assert_non_null(g);
    return g;
}

/*
 * A two-way line of n nodes going north from (LAT0, LON0), one STEP apart,
 * each way 1000 ms and 100 m, residential.
 */
static struct geo_roads *line(uint32_t n)
{
    double lat[64], lon[64];
    uint32_t tail[128], head[128], time_ms[128];
    float len[128];
    uint8_t rc[128];
    assert_true(n <= 64);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        lat[i] = LAT0 + STEP * i;
        lon[i] = LON0;
        if (i + 1 < n)
            for (int dir = 0; dir < 2; dir++) {
                tail[m] = dir ? i + 1 : i;
                head[m] = dir ? i : i + 1;
                time_ms[m] = 1000;
                len[m] = 100;
                rc[m] = GEO_RC_RESIDENTIAL;
                m++;
            }
    }
    return build(n, lat, lon, m, tail, head, time_ms, len, rc);
}

/* The index of the first edge tail -> head, or GEO_NONE. */
static uint32_t edge_of(const struct geo_roads *g, uint32_t tail, uint32_t head)
{
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    for (uint32_t e = 0; e < info.edges; e++) {
        struct geo_road_edge ed;
        assert_true(geo_roads_edge(g, e, &ed));
        if (ed.tail == tail && ed.head == head)
            return e;
    }
    return GEO_NONE;
}

/* How many edges run tail -> head. */
static int edges_between(const struct geo_roads *g, uint32_t tail, uint32_t head)
{
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    int k = 0;
    for (uint32_t e = 0; e < info.edges; e++) {
        struct geo_road_edge ed;
        assert_true(geo_roads_edge(g, e, &ed));
        k += ed.tail == tail && ed.head == head;
    }
    return k;
}

/* The node at (lat, lon) to within 1e-7 degree (the stored precision), or GEO_NONE. */
static uint32_t node_at(const struct geo_roads *g, double lat, double lon)
{
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    for (uint32_t i = 0; i < info.nodes; i++) {
        double la, lo;
        assert_true(geo_roads_node(g, i, &la, &lo));
        if (fabs(la - lat) < 1.5e-7 && fabs(lo - lon) < 1.5e-7)
            return i;
    }
    return GEO_NONE;
}

static struct geo_snap snap(const struct geo_roads *g, double lat, double lon)
{
    struct geo_snap s;
    int rc = geo_roads_snap(g, lat, lon, 1000, &s);
    if (rc)
        fail_msg("snap(%.7f, %.7f): %s", lat, lon, am_strerror(rc));
    return s;
}

/* The travel of one source to dest. */
static struct geo_eta eta1(const struct geo_roads *g, const struct geo_snap *dest,
                           const struct geo_snap *src, const struct geo_speed_factors *speed)
{
    struct geo_eta out = {-1, -1};
    assert_int_equal(geo_roads_eta_many(g, dest, src, 1, 1, NULL, speed, &out), 0);
    return out;
}

/* A travel time to the millisecond (fractions of edges are rounded to ms) and a length. */
static void check_eta(struct geo_eta eta, double want_ms, double want_m, int line_no)
{
    if (!(fabs(eta.eta_s * 1000 - want_ms) <= 1.0) || !(fabs(eta.length_m - want_m) <= 0.5))
        fail_msg("line %d: eta %.4f s, %.2f m; expected %.3f s, %.2f m", line_no, eta.eta_s,
                 eta.length_m, want_ms / 1000, want_m);
}
#define CHECK_ETA(eta, ms, m) check_eta((eta), (ms), (m), __LINE__)

static void check_point(const double *p, double lat, double lon, int line_no)
{
    if (!(fabs(p[0] - lat) < 2e-7 && fabs(p[1] - lon) < 2e-7))
        fail_msg("line %d: point (%.8f, %.8f), expected (%.8f, %.8f)", line_no, p[0], p[1], lat,
                 lon);
}
#define CHECK_POINT(p, lat, lon) check_point((p), (lat), (lon), __LINE__)

/* A graph file or OSM file of `len` bytes at `path`. */
static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* A fresh directory under /tmp for the files of one test; removed by rm_dir(). */
static void make_dir(char *dir, size_t sz)
{
    snprintf(dir, sz, "/tmp/test_roads_XXXXXX");
    assert_non_null(mkdtemp(dir));
}

static void rm_dir(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* ------------------------------------------------------------- from_edges */

static void test_from_edges_refusals(void **state)
{
    (void)state;
    double lat[3] = {LAT0, LAT0 + STEP, LAT0 + 2 * STEP}, lon[3] = {LON0, LON0, LON0};
    uint32_t tail[2] = {0, 1}, head[2] = {1, 2}, t[2] = {1000, 1000};
    float len[2] = {100, 100};
    uint8_t rc[2] = {GEO_RC_PRIMARY, GEO_RC_PRIMARY};
    struct geo_roads *g = (struct geo_roads *)(uintptr_t)1;
    char why[256];

    uint32_t bad_head[2] = {1, 3};
    why[0] = '\0';
    assert_int_equal(
        geo_roads_from_edges(3, lat, lon, 2, tail, bad_head, t, len, rc, &g, why, sizeof(why)),
        AM_EINVAL);
    assert_null(g);
    assert_true(why[0] != '\0');

    uint32_t zero_t[2] = {1000, 0};
    g = (struct geo_roads *)(uintptr_t)1;
    why[0] = '\0';
    assert_int_equal(
        geo_roads_from_edges(3, lat, lon, 2, tail, head, zero_t, len, rc, &g, why, sizeof(why)),
        AM_EINVAL);
    assert_null(g);
    assert_true(why[0] != '\0');

    double bad_lat[3] = {LAT0, 90.5, LAT0};
    g = (struct geo_roads *)(uintptr_t)1;
    assert_int_equal(
        geo_roads_from_edges(3, bad_lat, lon, 2, tail, head, t, len, rc, &g, why, sizeof(why)),
        AM_EINVAL);
    assert_null(g);
    double nan_lon[3] = {LON0, NAN, LON0};
    assert_int_equal(
        geo_roads_from_edges(3, lat, nan_lon, 2, tail, head, t, len, rc, &g, why, sizeof(why)),
        AM_EINVAL);
    double far_lon[3] = {LON0, -180.5, LON0};
    assert_int_equal(
        geo_roads_from_edges(3, lat, far_lon, 2, tail, head, t, len, rc, &g, why, sizeof(why)),
        AM_EINVAL);
    float neg_len[2] = {100, -1};
    assert_int_equal(
        geo_roads_from_edges(3, lat, lon, 2, tail, head, t, neg_len, rc, &g, why, sizeof(why)),
        AM_EINVAL);
    /* A class past GEO_RC_COUNT would index edges_by_class out of bounds. */
    uint8_t bad_rc[2] = {GEO_RC_PRIMARY, GEO_RC_COUNT};
    assert_int_equal(
        geo_roads_from_edges(3, lat, lon, 2, tail, head, t, len, bad_rc, &g, why, sizeof(why)),
        AM_EINVAL);
    assert_null(g);

    /* A self-loop is dropped; parallel edges are kept and the faster one counts. */
    uint32_t tail3[4] = {0, 1, 1, 0}, head3[4] = {1, 1, 2, 1}, t3[4] = {1000, 500, 1000, 400};
    float len3[4] = {100, 10, 100, 300};
    g = build(3, lat, lon, 4, tail3, head3, t3, len3, NULL);
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    assert_int_equal(info.nodes, 3);
    assert_int_equal(info.edges, 3);
    assert_int_equal(info.dropped_nodes, 0);
    assert_int_equal(info.edges_by_class[GEO_RC_UNCLASSIFIED], 3); /* rclass NULL */
    assert_int_equal(edges_between(g, 1, 1), 0);
    assert_int_equal(edges_between(g, 0, 1), 2);
    uint32_t ms = 0;
    assert_int_equal(geo_roads_node_time(g, 0, 2, &ms), 0);
    assert_int_equal(ms, 1400);
    assert_int_equal(geo_roads_node_time(g, 2, 0, &ms), 0);
    assert_int_equal(ms, UINT32_MAX);
    geo_roads_free(g);
    geo_roads_free(NULL);
}

/* ------------------------------------------------------------- snapping */

static void test_line_info_and_snap(void **state)
{
    (void)state;
    struct geo_roads *g = line(4);
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    assert_int_equal(info.nodes, 4);
    assert_int_equal(info.edges, 6);
    assert_int_equal(info.dropped_nodes, 0);
    assert_int_equal(info.edges_by_class[GEO_RC_RESIDENTIAL], 6);
    assert_true(fabs(info.length_km - 0.6) < 1e-6);
    assert_true(fabs(info.min_lat - LAT0) < 2e-7 && fabs(info.max_lat - (LAT0 + 3 * STEP)) < 2e-7);
    assert_true(fabs(info.min_lon - LON0) < 2e-7 && fabs(info.max_lon - LON0) < 2e-7);

    double la, lo;
    assert_true(geo_roads_node(g, 2, &la, &lo));
    assert_true(fabs(la - (LAT0 + 2 * STEP)) < 1e-7 && fabs(lo - LON0) < 1e-7);
    assert_false(geo_roads_node(g, 4, &la, &lo));
    struct geo_road_edge ed;
    assert_false(geo_roads_edge(g, 6, &ed));
    assert_false(geo_roads_edge(g, GEO_NONE, &ed));
    uint32_t e01 = edge_of(g, 0, 1), e10 = edge_of(g, 1, 0);
    assert_int_not_equal(e01, GEO_NONE);
    assert_int_not_equal(e10, GEO_NONE);
    assert_true(geo_roads_edge(g, e01, &ed));
    assert_int_equal(ed.twin, e10);
    assert_int_equal(ed.time_ms, 1000);
    assert_true(ed.length_m == 100.0f);
    assert_int_equal(ed.rclass, GEO_RC_RESIDENTIAL);

    /* A quarter of the way from node 0 to node 1, 0.0001 degree of longitude east of it. */
    double plat = LAT0 + STEP / 4, plon = LON0 + 0.0001;
    struct geo_snap s = snap(g, plat, plon);
    assert_true(s.edge == e01 || s.edge == e10);
    assert_int_equal(s.twin, s.edge == e01 ? e10 : e01);
    assert_true(fabs(s.frac - (s.edge == e01 ? 0.25 : 0.75)) < 1e-6);
    assert_true(fabs(s.lat - plat) < 1e-7 && fabs(s.lon - LON0) < 1e-7);
    double d = geo_distance_m(plat, plon, plat, LON0);
    assert_true(fabs(s.dist_m - d) < d * 0.002); /* 9.27 m */

    /* Past the north end: the end node itself, at fraction 0 or 1. */
    s = snap(g, LAT0 + 3.5 * STEP, LON0);
    assert_true(fabs(s.lat - (LAT0 + 3 * STEP)) < 1e-7 && fabs(s.lon - LON0) < 1e-7);
    struct geo_road_edge se;
    assert_true(geo_roads_edge(g, s.edge, &se));
    assert_true((se.head == 3 && s.frac == 1.0) || (se.tail == 3 && s.frac == 0.0));
    d = geo_distance_m(LAT0 + 3.5 * STEP, LON0, LAT0 + 3 * STEP, LON0);
    assert_true(fabs(s.dist_m - d) < d * 0.002); /* 55.6 m */

    /* A snap stored as (edge, frac, dist_m) is rebuilt the same on the same graph. */
    struct geo_snap again, mid = snap(g, plat, plon);
    assert_int_equal(geo_roads_snap_at(g, mid.edge, mid.frac, mid.dist_m, &again), 0);
    assert_int_equal(again.edge, mid.edge);
    assert_int_equal(again.twin, mid.twin);
    assert_true(again.frac == mid.frac && again.dist_m == mid.dist_m);
    assert_true(again.lat == mid.lat && again.lon == mid.lon);
    assert_int_equal(geo_roads_snap_at(g, 6, 0.5, 1, &again), AM_EINVAL);
    assert_int_equal(again.edge, GEO_NONE);
    assert_int_equal(geo_roads_snap_at(g, GEO_NONE, 0.5, 1, &again), AM_EINVAL);
    assert_int_equal(geo_roads_snap_at(g, mid.edge, 1.5, 1, &again), AM_EINVAL);
    assert_int_equal(geo_roads_snap_at(g, mid.edge, -0.1, 1, &again), AM_EINVAL);
    assert_int_equal(geo_roads_snap_at(g, mid.edge, NAN, 1, &again), AM_EINVAL);
    assert_int_equal(geo_roads_snap_at(g, mid.edge, 0.5, -1, &again), AM_EINVAL);
    assert_int_equal(geo_roads_snap_at(g, mid.edge, 0.5, NAN, &again), AM_EINVAL);

    /* Nothing within max_m. */
    struct geo_snap none;
    assert_int_equal(geo_roads_snap(g, LAT0 + 3.5 * STEP, LON0, 50, &none), AM_ENOTFOUND);
    assert_int_equal(geo_roads_snap(g, LAT0 + 3.5 * STEP, LON0, 60, &none), 0);
    assert_int_equal(geo_roads_snap(g, LAT0 + 0.1, LON0, 1000, &none), AM_ENOTFOUND);
    assert_int_equal(geo_roads_snap(g, -LAT0, -LON0, 1000, &none), AM_ENOTFOUND);

    /* Bad coordinates and distances. */
    assert_int_equal(geo_roads_snap(g, 90.5, LON0, 1000, &none), AM_EINVAL);
    assert_int_equal(geo_roads_snap(g, -90.5, LON0, 1000, &none), AM_EINVAL);
    assert_int_equal(geo_roads_snap(g, LAT0, 180.5, 1000, &none), AM_EINVAL);
    assert_int_equal(geo_roads_snap(g, LAT0, -180.5, 1000, &none), AM_EINVAL);
    assert_int_equal(geo_roads_snap(g, NAN, LON0, 1000, &none), AM_EINVAL);
    assert_int_equal(geo_roads_snap(g, LAT0, INFINITY, 1000, &none), AM_EINVAL);
    assert_int_equal(geo_roads_snap(g, LAT0, LON0, 0, &none), AM_EINVAL);
    assert_int_equal(geo_roads_snap(g, LAT0, LON0, -5, &none), AM_EINVAL);
    assert_int_equal(geo_roads_snap(g, LAT0, LON0, NAN, &none), AM_EINVAL);
    geo_roads_free(g);
}

/*
 * An edge from longitude -180 to 180 (as a straight segment in degrees; the
 * antimeridian is not special): the snapped point is on it. Its ends are
 * 3.6e9 apart in 1e-7 degree, more than an int32_t holds.
 */
static void test_snap_on_a_whole_world_edge(void **state)
{
    (void)state;
    double lat[2] = {10, 10}, lon[2] = {-180, 180};
    uint32_t tail[2] = {0, 1}, head[2] = {1, 0}, t[2] = {1000, 1000};
    float len[2] = {100, 100};
    struct geo_roads *g = build(2, lat, lon, 2, tail, head, t, len, NULL);
    struct geo_snap s = snap(g, 10.001, 90);
    if (!(fabs(s.lat - 10) < 1e-7 && fabs(s.lon - 90) < 1e-6))
        fail_msg("snapped to (%.7f, %.7f), expected (10, 90); frac %.6f", s.lat, s.lon, s.frac);
    geo_roads_free(g);
}

/* ------------------------------------------------------------- travel times */

static void test_line_eta(void **state)
{
    (void)state;
    struct geo_roads *g = line(4);
    struct geo_snap src = snap(g, LAT0 + STEP / 4, LON0 + 0.0001);     /* 0.25 of 0-1 */
    struct geo_snap at3 = snap(g, LAT0 + 3 * STEP, LON0 + 0.0001);     /* node 3 */
    struct geo_snap mid23 = snap(g, LAT0 + 2.5 * STEP, LON0 - 0.0001); /* 0.5 of 2-3 */

    CHECK_ETA(eta1(g, &at3, &src, NULL), 750 + 2000, 75 + 200);
    CHECK_ETA(eta1(g, &mid23, &src, NULL), 750 + 1000 + 500, 75 + 100 + 50);
    CHECK_ETA(eta1(g, &src, &at3, NULL), 2000 + 750, 200 + 75);
    CHECK_ETA(eta1(g, &src, &mid23, NULL), 500 + 1000 + 750, 50 + 100 + 75);

    /* Both on edge 0-1 in order: straight there. */
    struct geo_snap ahead = snap(g, LAT0 + STEP * 3 / 4, LON0);
    CHECK_ETA(eta1(g, &ahead, &src, NULL), 500, 50);
    /* Same place: nothing to drive. */
    CHECK_ETA(eta1(g, &src, &src, NULL), 0, 0);

    /* A snap exactly at a node counts as that node: node 1 to node 3 is 2000 ms. */
    struct geo_snap at1 = snap(g, LAT0 + STEP, LON0 + 0.0001);
    CHECK_ETA(eta1(g, &at3, &at1, NULL), 2000, 200);
    CHECK_ETA(eta1(g, &at1, &at3, NULL), 2000, 200);

    uint32_t ms = 0;
    assert_int_equal(geo_roads_node_time(g, 0, 3, &ms), 0);
    assert_int_equal(ms, 3000);
    assert_int_equal(geo_roads_node_time(g, 3, 0, &ms), 0);
    assert_int_equal(ms, 3000);
    assert_int_equal(geo_roads_node_time(g, 2, 2, &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(geo_roads_node_time(g, 0, 4, &ms), AM_EINVAL);
    assert_int_equal(geo_roads_node_time(g, GEO_NONE, 0, &ms), AM_EINVAL);

    /* No sources: nothing to do, and no harm. */
    assert_int_equal(geo_roads_eta_many(g, &at3, NULL, 0, 0, NULL, NULL, NULL), 0);
    geo_roads_free(g);
}

/*
 * The destination behind the source on the same two-way street: the way
 * there is back along the twin, (t - s) * w(twin), not round by a node.
 * The header says "if both lie on the same edge, in order, it drives
 * straight there"; on a two-way street the twin is the same street.
 */
static void test_same_edge_back_along_twin(void **state)
{
    (void)state;
    struct geo_roads *g = line(4);
    struct geo_snap src = snap(g, LAT0 + STEP * 3 / 4, LON0);
    struct geo_snap dest = snap(g, LAT0 + STEP / 4, LON0);
    assert_int_equal(src.edge, dest.edge);
    CHECK_ETA(eta1(g, &dest, &src, NULL), 500, 50);

    /* The same points described on the other edge of the street (as a caller may build a
     * snap): src 0.75 of 0 -> 1 is 0.25 of 1 -> 0. Each order, each way round. */
    struct geo_snap back = src;
    back.edge = src.twin;
    back.twin = src.edge;
    back.frac = 1 - src.frac;
    CHECK_ETA(eta1(g, &dest, &back, NULL), 500, 50);
    CHECK_ETA(eta1(g, &back, &dest, NULL), 500, 50);
    struct geo_snap dest_back = dest;
    dest_back.edge = dest.twin;
    dest_back.twin = dest.edge;
    dest_back.frac = 1 - dest.frac;
    CHECK_ETA(eta1(g, &dest_back, &src, NULL), 500, 50);
    CHECK_ETA(eta1(g, &src, &dest_back, NULL), 500, 50);
    geo_roads_free(g);
}

/*
 * A one-way square 0 -> 1 -> 2 -> 3 -> 0, each side 1000 ms and 100 m: a
 * destination just behind the source means going all the way round.
 */
static struct geo_roads *one_way_square(void)
{
    double lat[4] = {LAT0, LAT0, LAT0 + STEP, LAT0 + STEP};
    double lon[4] = {LON0, LON0 + STEP, LON0 + STEP, LON0};
    uint32_t tail[4] = {0, 1, 2, 3}, head[4] = {1, 2, 3, 0}, t[4] = {1000, 1000, 1000, 1000};
    float len[4] = {100, 100, 100, 100};
    return build(4, lat, lon, 4, tail, head, t, len, NULL);
}

static void test_one_way_loop(void **state)
{
    (void)state;
    struct geo_roads *g = one_way_square();
    uint32_t e01 = edge_of(g, 0, 1);
    struct geo_snap src = snap(g, LAT0 - 0.0001, LON0 + STEP / 2);
    assert_int_equal(src.edge, e01);
    assert_int_equal(src.twin, GEO_NONE);
    struct geo_road_edge ed;
    assert_true(geo_roads_edge(g, e01, &ed));
    assert_int_equal(ed.twin, GEO_NONE);
    assert_true(fabs(src.frac - 0.5) < 1e-6);
    struct geo_snap behind = snap(g, LAT0 - 0.0001, LON0 + STEP / 4);
    struct geo_snap ahead = snap(g, LAT0 - 0.0001, LON0 + STEP * 3 / 4);
    assert_int_equal(behind.edge, e01);
    assert_true(fabs(behind.frac - 0.25) < 1e-6);

    CHECK_ETA(eta1(g, &ahead, &src, NULL), 250, 25);
    CHECK_ETA(eta1(g, &behind, &src, NULL), 500 + 3000 + 250, 50 + 300 + 25);
    CHECK_ETA(eta1(g, &src, &behind, NULL), 250, 25);

    uint32_t ms;
    assert_int_equal(geo_roads_node_time(g, 0, 1, &ms), 0);
    assert_int_equal(ms, 1000);
    assert_int_equal(geo_roads_node_time(g, 1, 0, &ms), 0);
    assert_int_equal(ms, 3000);

    /* The route round: start, nodes 1, 2, 3, 0, end. */
    struct geo_route r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(geo_roads_route(g, &src, &behind, NULL, &r), 0);
    assert_true(fabs(r.eta_s - 3.75) < 0.0015);
    assert_true(fabs(r.length_m - 375) < 0.5);
    assert_int_equal(r.npoints, 6);
    CHECK_POINT(r.points, src.lat, src.lon);
    CHECK_POINT(r.points + 2, LAT0, LON0 + STEP);
    CHECK_POINT(r.points + 4, LAT0 + STEP, LON0 + STEP);
    CHECK_POINT(r.points + 6, LAT0 + STEP, LON0);
    CHECK_POINT(r.points + 8, LAT0, LON0);
    CHECK_POINT(r.points + 10, behind.lat, behind.lon);
    geo_route_release(&r);
    geo_roads_free(g);
}

/*
 * A diamond S -> T: by A, 2 x 120 m of residential at 30 s each, or by B,
 * 2 x 1000 m of primary at 24 s each. The fast way is the long one.
 */
enum { S, A, B, T };
static struct geo_roads *diamond(void)
{
    double lat[4] = {LAT0, LAT0 + STEP, LAT0 + STEP, LAT0 + 2 * STEP};
    double lon[4] = {LON0, LON0 + 0.0005, LON0 + 10 * STEP, LON0};
    uint32_t tail[8] = {S, A, A, T, S, B, B, T}, head[8] = {A, S, T, A, B, S, T, B};
    uint32_t t[8] = {30000, 30000, 30000, 30000, 24000, 24000, 24000, 24000};
    float len[8] = {120, 120, 120, 120, 1000, 1000, 1000, 1000};
    uint8_t rc[8] = {GEO_RC_RESIDENTIAL, GEO_RC_RESIDENTIAL, GEO_RC_RESIDENTIAL, GEO_RC_RESIDENTIAL,
                     GEO_RC_PRIMARY,     GEO_RC_PRIMARY,     GEO_RC_PRIMARY,     GEO_RC_PRIMARY};
    return build(4, lat, lon, 8, tail, head, t, len, rc);
}

static void test_diamond_and_speed_factors(void **state)
{
    (void)state;
    struct geo_roads *g = diamond();
    uint32_t ms;
    assert_int_equal(geo_roads_node_time(g, S, T, &ms), 0);
    assert_int_equal(ms, 48000);
    struct geo_snap s = snap(g, LAT0 - 0.0001, LON0), t = snap(g, LAT0 + 2 * STEP + 0.0001, LON0);
    CHECK_ETA(eta1(g, &t, &s, NULL), 48000, 2000);

    struct geo_route r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(geo_roads_route(g, &s, &t, NULL, &r), 0);
    assert_true(fabs(r.eta_s - 48) < 1e-6);
    assert_true(fabs(r.length_m - 2000) < 0.5);
    assert_true(r.npoints >= 3);
    CHECK_POINT(r.points, LAT0, LON0);
    CHECK_POINT(r.points + 2 * (r.npoints - 1), LAT0 + 2 * STEP, LON0);
    bool via_b = false;
    for (size_t i = 0; i < r.npoints; i++) {
        via_b |= fabs(r.points[2 * i + 1] - (LON0 + 10 * STEP)) < 1e-7;
        assert_false(fabs(r.points[2 * i + 1] - (LON0 + 0.0005)) < 1e-7); /* never by A */
    }
    assert_true(via_b);
    geo_route_release(&r);

    /* Factor 2 on primary halves its times. */
    struct geo_speed_factors f;
    for (int c = 0; c < GEO_RC_COUNT; c++)
        f.factor[c] = 1;
    f.factor[GEO_RC_PRIMARY] = 2;
    CHECK_ETA(eta1(g, &t, &s, &f), 24000, 2000);
    /* Factor 3 on residential makes the short way the fast one: 2 x 10 s. */
    f.factor[GEO_RC_PRIMARY] = 1;
    f.factor[GEO_RC_RESIDENTIAL] = 3;
    CHECK_ETA(eta1(g, &t, &s, &f), 20000, 240);
    memset(&r, 0, sizeof(r));
    assert_int_equal(geo_roads_route(g, &s, &t, &f, &r), 0);
    assert_true(fabs(r.eta_s - 20) < 1e-6);
    assert_true(fabs(r.length_m - 240) < 0.5);
    geo_route_release(&r);
    /* The bounds are allowed, and 0.5 doubles times. */
    f.factor[GEO_RC_RESIDENTIAL] = 1;
    f.factor[GEO_RC_PRIMARY] = 0.5;
    CHECK_ETA(eta1(g, &t, &s, &f), 60000, 240);
    f.factor[GEO_RC_PRIMARY] = 3;
    CHECK_ETA(eta1(g, &t, &s, &f), 16000, 2000);

    /* The emergency factors are factors the queries take, and never slow a class down. */
    for (int k = 0; k < GEO_RC_COUNT; k++)
        assert_true(geo_speed_emergency.factor[k] >= 1 && geo_speed_emergency.factor[k] <= 3);
    struct geo_eta fast = eta1(g, &t, &s, &geo_speed_emergency);
    assert_true(fast.eta_s <= 48 && fast.eta_s > 48 / 3.0);

    /* A snap that is not of this graph is refused, not followed. */
    struct geo_snap wrong = s;
    wrong.edge = 8;
    struct geo_eta out1;
    assert_int_equal(geo_roads_eta_many(g, &t, &wrong, 1, 1, NULL, NULL, &out1), AM_EINVAL);
    assert_int_equal(geo_roads_eta_many(g, &wrong, &s, 1, 1, NULL, NULL, &out1), AM_EINVAL);
    wrong = s;
    wrong.frac = 1.5;
    assert_int_equal(geo_roads_eta_many(g, &t, &wrong, 1, 1, NULL, NULL, &out1), AM_EINVAL);
    wrong = s;
    wrong.frac = NAN;
    memset(&r, 0, sizeof(r));
    assert_int_equal(geo_roads_route(g, &wrong, &t, NULL, &r), AM_EINVAL);

    /* Out of [0.5, 3]: refused by every query that takes factors. */
    const double bad[] = {0.49, 3.01, 0, -1, NAN, INFINITY};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        f.factor[GEO_RC_PRIMARY] = 1;
        f.factor[GEO_RC_SERVICE] = bad[i]; /* a class this graph does not even use */
        struct geo_eta out;
        assert_int_equal(geo_roads_eta_many(g, &t, &s, 1, 1, NULL, &f, &out), AM_EINVAL);
        struct geo_rank rk[1];
        size_t nout = 99;
        assert_int_equal(geo_roads_rank(g, &t, &s, 1, 1, NULL, &f, rk, &nout), AM_EINVAL);
        memset(&r, 0, sizeof(r));
        assert_int_equal(geo_roads_route(g, &s, &t, &f, &r), AM_EINVAL);
    }
    geo_roads_free(g);
}

/* Two lines that do not meet, and a one-way dead end off the second. */
static void test_unreachable(void **state)
{
    (void)state;
    double lat[5] = {LAT0, LAT0 + STEP, LAT0 + 0.1, LAT0 + 0.1 + STEP, LAT0 + 0.1 + 2 * STEP};
    double lon[5] = {LON0, LON0, LON0, LON0, LON0};
    uint32_t tail[5] = {0, 1, 2, 3, 3}, head[5] = {1, 0, 3, 2, 4};
    uint32_t t[5] = {1000, 1000, 1000, 1000, 1000};
    float len[5] = {100, 100, 100, 100, 100};
    struct geo_roads *g = build(5, lat, lon, 5, tail, head, t, len, NULL);
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    assert_int_equal(info.nodes, 5); /* from_edges keeps everything */
    assert_int_equal(info.edges, 5);
    assert_int_equal(info.dropped_nodes, 0);

    uint32_t ms = 0;
    assert_int_equal(geo_roads_node_time(g, 0, 3, &ms), 0);
    assert_int_equal(ms, UINT32_MAX);
    assert_int_equal(geo_roads_node_time(g, 3, 4, &ms), 0);
    assert_int_equal(ms, 1000);
    assert_int_equal(geo_roads_node_time(g, 4, 3, &ms), 0);
    assert_int_equal(ms, UINT32_MAX);

    struct geo_snap a = snap(g, LAT0 + STEP / 2, LON0);
    struct geo_snap b = snap(g, LAT0 + 0.1 + STEP / 2, LON0);
    struct geo_snap dead = snap(g, LAT0 + 0.1 + 1.5 * STEP, LON0);
    assert_int_equal(dead.twin, GEO_NONE);
    struct geo_eta e = eta1(g, &b, &a, NULL);
    assert_true(isinf(e.eta_s) && e.eta_s > 0);
    e = eta1(g, &b, &dead, NULL); /* nothing leaves node 4 */
    assert_true(isinf(e.eta_s) && e.eta_s > 0);
    CHECK_ETA(eta1(g, &dead, &b, NULL), 500 + 500, 50 + 50);

    struct geo_route r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(geo_roads_route(g, &a, &b, NULL, &r), AM_ENOTFOUND);

    struct geo_rank rk[2];
    size_t nout = 99;
    struct geo_snap srcs[2] = {a, dead};
    assert_int_equal(geo_roads_rank(g, &b, srcs, 2, 2, NULL, NULL, rk, &nout), 0);
    assert_int_equal(nout, 0);
    geo_roads_free(g);
}

/*
 * Times of a day per edge (the most from_edges() takes) along 60 edges: 59
 * days, more milliseconds than a uint32_t holds. The time must not wrap
 * round to a short one: either the graph is refused as too big, or the
 * time is right.
 */
static void test_long_times_do_not_wrap(void **state)
{
    (void)state;
    enum { N = 60 };
    double lat[N], lon[N];
    uint32_t tail[2 * N], head[2 * N], t[2 * N];
    float len[2 * N];
    uint32_t m = 0;
    for (uint32_t i = 0; i < N; i++) {
        lat[i] = LAT0 + STEP * i;
        lon[i] = LON0;
        for (uint32_t dir = 0; i + 1 < N && dir < 2; dir++) {
            tail[m] = i + dir;
            head[m] = i + 1 - dir;
            t[m] = 86400000u;
            len[m] = 100;
            m++;
        }
    }
    struct geo_roads *g = NULL;
    char why[256] = "";
    int rc = geo_roads_from_edges(N, lat, lon, m, tail, head, t, len, NULL, &g, why, sizeof(why));
    if (rc == AM_ETOOBIG || rc == AM_EINVAL) {
        assert_null(g);
        return;
    }
    assert_int_equal(rc, 0);
    struct geo_snap a = snap(g, LAT0, LON0), b = snap(g, LAT0 + STEP * (N - 1), LON0);
    struct geo_eta e = eta1(g, &b, &a, NULL);
    /* Times are 32-bit milliseconds: a route of 49.7 days or more is no route (INFINITY),
     * as in the contraction hierarchy; never a wrapped, short time. */
    if (!(isinf(e.eta_s) || fabs(e.eta_s - (N - 1) * 86400.0) < 1))
        fail_msg("%d days of driving: eta %.0f s, expected %.0f s or none", N - 1, e.eta_s,
                 (N - 1) * 86400.0);
    /* Under the limit the time is exact: 40 days. */
    struct geo_snap c = snap(g, LAT0 + STEP * 40, LON0);
    e = eta1(g, &c, &a, NULL);
    if (!(fabs(e.eta_s - 40 * 86400.0) < 1))
        fail_msg("40 days of driving: eta %.0f s, expected %.0f s", e.eta_s, 40 * 86400.0);
    geo_roads_free(g);
}

/* ------------------------------------------------------------- many sources */

/* Sources in the middle of edges (i, i + 1) of line(20), destination node 0. */
static struct geo_snap mid(const struct geo_roads *g, uint32_t i)
{
    return snap(g, LAT0 + STEP * (i + 0.5), LON0 + 0.0001);
}

static void test_eta_many_early_stop(void **state)
{
    (void)state;
    struct geo_roads *g = line(20);
    struct geo_snap dest = snap(g, LAT0 - 0.0002, LON0);
    struct geo_snap src[4] = {mid(g, 1), mid(g, 2), mid(g, 10), mid(g, 18)};
    const double want_ms[4] = {1500, 2500, 10500, 18500};
    struct geo_eta out[4];

    /* All wanted: every one. */
    assert_int_equal(geo_roads_eta_many(g, &dest, src, 4, 4, NULL, NULL, out), 0);
    for (int i = 0; i < 4; i++)
        CHECK_ETA(out[i], want_ms[i], want_ms[i] / 10);
    /* More wanted than there are: the graph is exhausted, same answers. */
    assert_int_equal(geo_roads_eta_many(g, &dest, src, 4, 10, NULL, NULL, out), 0);
    for (int i = 0; i < 4; i++)
        CHECK_ETA(out[i], want_ms[i], want_ms[i] / 10);

    /* Two wanted: the search stops long before nodes 10 and 18. */
    assert_int_equal(geo_roads_eta_many(g, &dest, src, 4, 2, NULL, NULL, out), 0);
    CHECK_ETA(out[0], 1500, 150);
    CHECK_ETA(out[1], 2500, 250);
    assert_true(isinf(out[2].eta_s) && out[2].eta_s > 0);
    assert_true(isinf(out[3].eta_s) && out[3].eta_s > 0);

    /* Only the last two count, and one is wanted: the search runs to node 10; the
     * sources it passed on the way have their times, the one beyond has none. */
    bool counts[4] = {false, false, true, true};
    assert_int_equal(geo_roads_eta_many(g, &dest, src, 4, 1, counts, NULL, out), 0);
    CHECK_ETA(out[0], 1500, 150);
    CHECK_ETA(out[1], 2500, 250);
    CHECK_ETA(out[2], 10500, 1050);
    assert_true(isinf(out[3].eta_s) && out[3].eta_s > 0);

    /* The same source twice gets the same time twice. */
    struct geo_snap twice[2] = {src[1], src[1]};
    assert_int_equal(geo_roads_eta_many(g, &dest, twice, 2, 2, NULL, NULL, out), 0);
    CHECK_ETA(out[0], 2500, 250);
    CHECK_ETA(out[1], 2500, 250);
    geo_roads_free(g);
}

/* line(20) and, far away, a separate two-way edge 20 - 21. */
static struct geo_roads *line_and_island(void)
{
    double lat[22], lon[22];
    uint32_t tail[40], head[40], t[40];
    float len[40];
    uint32_t m = 0;
    for (uint32_t i = 0; i < 22; i++) {
        lat[i] = i < 20 ? LAT0 + STEP * i : LAT0 + 0.2 + STEP * (i - 20);
        lon[i] = LON0;
    }
    for (uint32_t i = 0; i < 21; i++) {
        if (i == 19)
            continue;
        for (uint32_t dir = 0; dir < 2; dir++) {
            tail[m] = i + dir;
            head[m] = i + 1 - dir;
            t[m] = 1000;
            len[m] = 100;
            m++;
        }
    }
    return build(22, lat, lon, m, tail, head, t, len, NULL);
}

static void check_rank(const struct geo_rank *rk, size_t nout, const size_t *want, size_t nwant,
                       int line_no)
{
    if (nout != nwant)
        fail_msg("line %d: %zu ranked, expected %zu", line_no, nout, nwant);
    for (size_t i = 0; i < nwant; i++)
        if (rk[i].src != want[i])
            fail_msg("line %d: rank %zu is source %zu, expected %zu", line_no, i, rk[i].src,
                     want[i]);
}

static void test_rank(void **state)
{
    (void)state;
    struct geo_roads *g = line_and_island();
    struct geo_snap dest = snap(g, LAT0 - 0.0002, LON0);
    struct geo_snap island = snap(g, LAT0 + 0.2 + STEP / 2, LON0);
    struct geo_snap src[7] = {mid(g, 1), mid(g, 5), mid(g, 2), island,
                              mid(g, 2), mid(g, 3), mid(g, 15)};
    bool stale[7] = {true, false, false, false, false, true, false};
    struct geo_rank rk[10];
    size_t nout = 99;

    /* Fresh by time (2 before 4 on a tie), then stale by time; the island left out. */
    assert_int_equal(geo_roads_rank(g, &dest, src, 7, 10, stale, NULL, rk, &nout), 0);
    const size_t all[] = {2, 4, 1, 6, 0, 5};
    check_rank(rk, nout, all, 6, __LINE__);
    CHECK_ETA(rk[0].eta, 2500, 250);
    CHECK_ETA(rk[1].eta, 2500, 250);
    CHECK_ETA(rk[2].eta, 5500, 550);
    CHECK_ETA(rk[3].eta, 15500, 1550);
    CHECK_ETA(rk[4].eta, 1500, 150);
    CHECK_ETA(rk[5].eta, 3500, 350);

    assert_int_equal(geo_roads_rank(g, &dest, src, 7, 2, stale, NULL, rk, &nout), 0);
    const size_t two[] = {2, 4};
    check_rank(rk, nout, two, 2, __LINE__);
    assert_int_equal(geo_roads_rank(g, &dest, src, 7, 3, stale, NULL, rk, &nout), 0);
    const size_t three[] = {2, 4, 1};
    check_rank(rk, nout, three, 3, __LINE__);
    /* Four fresh reachable sources only, so the fifth place goes to the nearest stale one. */
    assert_int_equal(geo_roads_rank(g, &dest, src, 7, 5, stale, NULL, rk, &nout), 0);
    const size_t five[] = {2, 4, 1, 6, 0};
    check_rank(rk, nout, five, 5, __LINE__);

    /* Nothing stale: by time alone. */
    assert_int_equal(geo_roads_rank(g, &dest, src, 7, 3, NULL, NULL, rk, &nout), 0);
    const size_t by_time[] = {0, 2, 4};
    check_rank(rk, nout, by_time, 3, __LINE__);
    assert_int_equal(geo_roads_rank(g, &dest, src, 7, 10, NULL, NULL, rk, &nout), 0);
    const size_t by_time_all[] = {0, 2, 4, 5, 1, 6};
    check_rank(rk, nout, by_time_all, 6, __LINE__);

    assert_int_equal(geo_roads_rank(g, &dest, src, 7, 0, stale, NULL, rk, &nout), 0);
    assert_int_equal(nout, 0);
    geo_roads_free(g);
}

/* ------------------------------------------------------------- routes */

static void test_route_geometry(void **state)
{
    (void)state;
    struct geo_roads *g = line(4);
    struct geo_snap from = snap(g, LAT0 + STEP / 4, LON0 + 0.0001);
    struct geo_snap to = snap(g, LAT0 + 2.5 * STEP, LON0 - 0.0001);
    struct geo_route r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(geo_roads_route(g, &from, &to, NULL, &r), 0);
    struct geo_eta e = eta1(g, &to, &from, NULL);
    assert_true(fabs(r.eta_s - e.eta_s) < 1e-9);
    assert_true(fabs(r.length_m - e.length_m) < 0.01);
    assert_true(fabs(r.eta_s - 2.25) < 0.0015);
    assert_int_equal(r.npoints, 4);
    CHECK_POINT(r.points, LAT0 + STEP / 4, LON0); /* the snapped start, not the given point */
    CHECK_POINT(r.points + 2, LAT0 + STEP, LON0);
    CHECK_POINT(r.points + 4, LAT0 + 2 * STEP, LON0);
    CHECK_POINT(r.points + 6, LAT0 + 2.5 * STEP, LON0);
    geo_route_release(&r);
    assert_null(r.points);
    geo_route_release(&r); /* twice is harmless */

    /* Backwards: the same points in the other order. */
    memset(&r, 0, sizeof(r));
    assert_int_equal(geo_roads_route(g, &to, &from, NULL, &r), 0);
    assert_int_equal(r.npoints, 4);
    CHECK_POINT(r.points, LAT0 + 2.5 * STEP, LON0);
    CHECK_POINT(r.points + 6, LAT0 + STEP / 4, LON0);
    assert_true(fabs(r.eta_s - eta1(g, &from, &to, NULL).eta_s) < 1e-9);
    geo_route_release(&r);

    /* On one edge, in order: from the start straight to the end. */
    struct geo_snap ahead = snap(g, LAT0 + STEP * 3 / 4, LON0);
    memset(&r, 0, sizeof(r));
    assert_int_equal(geo_roads_route(g, &from, &ahead, NULL, &r), 0);
    assert_true(fabs(r.eta_s - 0.5) < 0.0015);
    assert_true(fabs(r.length_m - 50) < 0.5);
    assert_int_equal(r.npoints, 2);
    CHECK_POINT(r.points, LAT0 + STEP / 4, LON0);
    CHECK_POINT(r.points + 2, LAT0 + STEP * 3 / 4, LON0);
    geo_route_release(&r);
    geo_roads_free(g);
}

/* ------------------------------------------------------------- graph files */

static void check_same_graph(const struct geo_roads *a, const struct geo_roads *b)
{
    struct geo_roads_info ia, ib;
    geo_roads_info(a, &ia);
    geo_roads_info(b, &ib);
    assert_int_equal(ia.nodes, ib.nodes);
    assert_int_equal(ia.edges, ib.edges);
    assert_int_equal(ia.dropped_nodes, ib.dropped_nodes);
    assert_true(ia.min_lat == ib.min_lat && ia.max_lat == ib.max_lat);
    assert_true(ia.min_lon == ib.min_lon && ia.max_lon == ib.max_lon);
    assert_true(fabs(ia.length_km - ib.length_km) < 1e-9 * (1 + ia.length_km));
    assert_memory_equal(ia.edges_by_class, ib.edges_by_class, sizeof(ia.edges_by_class));
    for (uint32_t i = 0; i < ia.nodes; i++) {
        double la, lo, lb, lob;
        assert_true(geo_roads_node(a, i, &la, &lo));
        assert_true(geo_roads_node(b, i, &lb, &lob));
        assert_true(la == lb && lo == lob);
    }
    for (uint32_t e = 0; e < ia.edges; e++) {
        struct geo_road_edge ea, eb;
        assert_true(geo_roads_edge(a, e, &ea));
        assert_true(geo_roads_edge(b, e, &eb));
        assert_int_equal(ea.tail, eb.tail);
        assert_int_equal(ea.head, eb.head);
        assert_int_equal(ea.time_ms, eb.time_ms);
        assert_true(ea.length_m == eb.length_m);
        assert_int_equal(ea.rclass, eb.rclass);
    }
}

static void test_save_load(void **state)
{
    (void)state;
    char dir[64], path[128], bad[128];
    make_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/diamond.graph", dir);
    snprintf(bad, sizeof(bad), "%s/bad.graph", dir);
    struct geo_roads *g = diamond(), *h = NULL;
    char why[256] = "";
    assert_int_equal(geo_roads_save(g, path, why, sizeof(why)), 0);
    assert_int_equal(geo_roads_load(path, &h, why, sizeof(why)), 0);
    check_same_graph(g, h);
    /* The same graph has the same fingerprint; another one (one time changed) another. */
    assert_true(geo_roads_id(g) == geo_roads_id(h));
    struct geo_roads *other = diamond(), *slower = NULL;
    assert_true(geo_roads_id(other) == geo_roads_id(g));
    geo_roads_free(other);
    double lat4[4] = {LAT0, LAT0 + STEP, LAT0 + STEP, LAT0 + 2 * STEP};
    double lon4[4] = {LON0, LON0 + 0.0005, LON0 + 10 * STEP, LON0};
    uint32_t tl[2] = {S, A}, hd[2] = {A, S}, tm[2] = {30000, 30001};
    float ln[2] = {120, 120};
    slower = build(4, lat4, lon4, 2, tl, hd, tm, ln, NULL);
    tm[1] = 30000;
    other = build(4, lat4, lon4, 2, tl, hd, tm, ln, NULL);
    assert_true(geo_roads_id(slower) != geo_roads_id(other));
    geo_roads_free(slower);
    geo_roads_free(other);
    struct geo_snap s = snap(h, LAT0 - 0.0001, LON0), t = snap(h, LAT0 + 2 * STEP + 0.0001, LON0);
    CHECK_ETA(eta1(h, &t, &s, NULL), 48000, 2000);
    geo_roads_free(h);
    h = NULL;
    assert_int_equal(geo_roads_open(path, &h, why, sizeof(why)), 0);
    check_same_graph(g, h);
    geo_roads_free(h);

    /* Saving over an existing file replaces it. */
    assert_int_equal(geo_roads_save(g, path, why, sizeof(why)), 0);
    size_t len;
    char *file = read_file(path, &len);

    /* Missing files, directories, unwritable places. */
    why[0] = '\0';
    assert_int_equal(geo_roads_load("/nonexistent/roads.graph", &h, why, sizeof(why)),
                     AM_ENOTFOUND);
    assert_non_null(strstr(why, "/nonexistent/roads.graph"));
    assert_int_equal(geo_roads_load(dir, &h, why, sizeof(why)), AM_EIO);
    why[0] = '\0';
    assert_int_equal(geo_roads_save(g, "/nonexistent/dir/roads.graph", why, sizeof(why)), AM_EIO);
    assert_non_null(strstr(why, "/nonexistent/dir/roads.graph"));

    /* Cut short anywhere: refused as corrupt. */
    const size_t cuts[] = {0, 1, 4, 8, 16, 32, 64, len / 2, len - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        if (cuts[i] >= len)
            continue;
        write_file(bad, file, cuts[i]);
        h = (struct geo_roads *)(uintptr_t)1;
        int rc = geo_roads_load(bad, &h, why, sizeof(why));
        if (rc != AM_ECORRUPT)
            fail_msg("cut to %zu of %zu bytes: %s, expected AM_ECORRUPT", cuts[i], len,
                     am_strerror(rc));
        assert_null(h);
    }
    /* One byte more: refused too. */
    char *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, file, len);
    longer[len] = 0;
    write_file(bad, longer, len + 1);
    h = NULL;
    assert_int_equal(geo_roads_load(bad, &h, why, sizeof(why)), AM_ECORRUPT);
    free(longer);

    /* Any one byte altered, wherever it is: refused as corrupt. */
    struct am_buf wrong;
    am_buf_init(&wrong, 0);
    size_t nwrong = 0;
    for (size_t i = 0; i < len; i++) {
        file[i] ^= 0x5a;
        write_file(bad, file, len);
        file[i] ^= 0x5a;
        h = NULL;
        int rc = geo_roads_load(bad, &h, why, sizeof(why));
        if (rc != AM_ECORRUPT) {
            if (nwrong++ < 16)
                assert_int_equal(
                    am_buf_printf(&wrong, " %zu (%s)", i, rc ? am_strerror(rc) : "loaded"), 0);
            if (rc == 0)
                geo_roads_free(h);
        }
    }
    if (nwrong)
        fail_msg("%zu of %zu altered bytes not refused as corrupt, at offsets%s", nwrong, len,
                 wrong.data);
    am_buf_release(&wrong);
    free(file);

    geo_roads_free(g);
    rm_dir(dir);
}

/* ------------------------------------------------------------- OSM import */

/* The nodes every test file holds; ways pick among them. */
static const struct {
    int id;
    double lat, lon;
} osm_nodes[] = {
    {1, 33.500, -7.600},   {2, 33.500, -7.599},   {3, 33.501, -7.5995}, {4, 33.501, -7.600},
    {5, 33.5005, -7.5985}, {6, 33.510, -7.600},   {7, 33.510, -7.599},  {8, 33.511, -7.599},
    {9, 33.511, -7.600},   {10, 33.512, -7.5995}, {11, 33.509, -7.600}, {12, 33.520, -7.600},
    {13, 33.520, -7.599},  {14, 33.521, -7.599},  {15, 33.521, -7.600},
};

static double osm_lat(int id)
{
    for (size_t i = 0; i < sizeof(osm_nodes) / sizeof(osm_nodes[0]); i++)
        if (osm_nodes[i].id == id)
            return osm_nodes[i].lat;
    fail_msg("no node %d", id);
    return NAN;
}

static double osm_lon(int id)
{
    for (size_t i = 0; i < sizeof(osm_nodes) / sizeof(osm_nodes[0]); i++)
        if (osm_nodes[i].id == id)
            return osm_nodes[i].lon;
    fail_msg("no node %d", id);
    return NAN;
}

/* The graph node of OSM node `id`, or GEO_NONE. */
static uint32_t gnode(const struct geo_roads *g, int id)
{
    return node_at(g, osm_lat(id), osm_lon(id));
}

/* Edges between OSM nodes a -> b. */
static int osm_edges(const struct geo_roads *g, int a, int b)
{
    uint32_t u = gnode(g, a), v = gnode(g, b);
    if (u == GEO_NONE || v == GEO_NONE)
        return 0;
    return edges_between(g, u, v);
}

/*
 * Appends a way: `tags` is "k=v|k=v" (values may hold spaces), `refs` is
 * "1 2 3" (node ids).
 */
static void osm_way(struct am_buf *b, int id, const char *tags, const char *refs)
{
    assert_int_equal(am_buf_printf(b, "  <way id=\"%d\" version=\"1\">\n", id), 0);
    for (const char *p = refs; *p;) {
        char *end;
        long ref = strtol(p, &end, 10);
        assert_true(end != p);
        assert_int_equal(am_buf_printf(b, "    <nd ref=\"%ld\"/>\n", ref), 0);
        p = end;
        while (*p == ' ')
            p++;
    }
    for (const char *p = tags; *p;) {
        const char *eq = strchr(p, '='), *bar = strchr(p, '|');
        if (!bar)
            bar = p + strlen(p);
        assert_non_null(eq);
        assert_true(eq < bar);
        assert_int_equal(am_buf_printf(b, "    <tag k=\"%.*s\" v=\"%.*s\"/>\n", (int)(eq - p), p,
                                       (int)(bar - eq - 1), eq + 1),
                         0);
        p = *bar ? bar + 1 : bar;
    }
    assert_int_equal(am_buf_printf(b, "  </way>\n"), 0);
}

/* An OSM XML document: all of osm_nodes, then `nways` ways {tags, refs}. */
static char *osm_doc(const char *const (*ways)[2], size_t nways)
{
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                       "<osm version=\"0.6\" generator=\"test_roads\">\n"),
                     0);
    for (size_t i = 0; i < sizeof(osm_nodes) / sizeof(osm_nodes[0]); i++)
        assert_int_equal(am_buf_printf(&b, "  <node id=\"%d\" lat=\"%.7f\" lon=\"%.7f\"/>\n",
                                       osm_nodes[i].id, osm_nodes[i].lat, osm_nodes[i].lon),
                         0);
    for (size_t i = 0; i < nways; i++)
        osm_way(&b, 100 + (int)i, ways[i][0], ways[i][1]);
    assert_int_equal(am_buf_printf(&b, "</osm>\n"), 0);
    return am_buf_steal(&b);
}

struct osm_case {
    char dir[64];
    char path[128];
};

/* Writes the document to dir/name and imports it; returns the import's code. */
static int import_ways(struct osm_case *c, const char *name, const char *const (*ways)[2],
                       size_t nways, bool rural, struct geo_roads **g, char *why, size_t whysz)
{
    char *doc = osm_doc(ways, nways);
    snprintf(c->path, sizeof(c->path), "%s/%s", c->dir, name);
    write_file(c->path, doc, strlen(doc));
    free(doc);
    struct geo_roads_import_opts opts = {.rural = rural};
    *g = (struct geo_roads *)(uintptr_t)1;
    return geo_roads_import(c->path, &opts, g, why, whysz);
}

static struct geo_roads *import_ok(struct osm_case *c, const char *const (*ways)[2], size_t nways,
                                   bool rural)
{
    struct geo_roads *g;
    char why[512] = "";
    int rc = import_ways(c, "map.osm", ways, nways, rural, &g, why, sizeof(why));
    if (rc)
        fail_msg("import: %s (%s)", am_strerror(rc), why);
    assert_non_null(g);
    return g;
}

#define NWAYS(w) (sizeof(w) / sizeof(w[0]))

static int osm_setup(void **state)
{
    struct osm_case *c = calloc(1, sizeof(*c));
    if (!c)
        return -1;
    snprintf(c->dir, sizeof(c->dir), "/tmp/test_roads_XXXXXX");
    if (!mkdtemp(c->dir)) {
        free(c);
        return -1;
    }
    *state = c;
    return 0;
}

static int osm_teardown(void **state)
{
    struct osm_case *c = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
    int rc = system(cmd);
    free(c);
    return rc;
}

/* A triangle 1 2 3 1 with these tags: which way round its edges run. */
static void check_triangle(struct osm_case *c, const char *tags, int forward, int backward)
{
    const char *const ways[][2] = {{tags, "1 2 3 1"}};
    struct geo_roads *g = import_ok(c, ways, 1, false);
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    if (info.nodes != 3 || (int)info.edges != 3 * (forward + backward))
        fail_msg("%s: %u nodes, %u edges; expected 3, %d", tags, info.nodes, info.edges,
                 3 * (forward + backward));
    const int ring[4] = {1, 2, 3, 1};
    for (int i = 0; i < 3; i++) {
        if (osm_edges(g, ring[i], ring[i + 1]) != forward ||
            osm_edges(g, ring[i + 1], ring[i]) != backward)
            fail_msg("%s: edge %d-%d runs the wrong way", tags, ring[i], ring[i + 1]);
    }
    geo_roads_free(g);
}

static void test_import_one_way_forms(void **state)
{
    struct osm_case *c = *state;
    check_triangle(c, "highway=residential", 1, 1);
    check_triangle(c, "highway=residential|oneway=no", 1, 1);
    check_triangle(c, "highway=residential|oneway=yes", 1, 0);
    check_triangle(c, "highway=residential|oneway=true", 1, 0);
    check_triangle(c, "highway=residential|oneway=1", 1, 0);
    check_triangle(c, "highway=residential|oneway=-1", 0, 1);
    check_triangle(c, "highway=residential|oneway=reverse", 0, 1);
    check_triangle(c, "highway=primary|junction=roundabout", 1, 0);
    check_triangle(c, "highway=tertiary|junction=circular", 1, 0);
    check_triangle(c, "highway=motorway", 1, 0);
    check_triangle(c, "highway=motorway_link", 1, 0);
    check_triangle(c, "highway=motorway|oneway=no", 1, 1);
    check_triangle(c, "highway=trunk", 1, 1);
}

/* The straight road 1 - 11 (1000.8 m) with these tags: its edge 1 -> 11. */
static struct geo_road_edge straight(struct osm_case *c, const char *tags, bool rural)
{
    const char *const ways[][2] = {{tags, "1 11"}};
    struct geo_roads *g = import_ok(c, ways, 1, rural);
    uint32_t e = edge_of(g, gnode(g, 1), gnode(g, 11));
    assert_int_not_equal(e, GEO_NONE);
    struct geo_road_edge ed;
    assert_true(geo_roads_edge(g, e, &ed));
    geo_roads_free(g);
    return ed;
}

/*
 * docs/routing.md: a maxspeed (km/h, "N mph", MA:urban 60, MA:rural 100,
 * MA:motorway 120, at most 130) times 0.8, "since traffic moves below the
 * limit"; else the class's default speed. A limit under 5 km/h is taken for
 * a tagging error and ignored (the class default), as osm.c does; geo.h and
 * docs/routing.md still say "bounded to 5..130", and geo.h "maxspeed"
 * without the share.
 */
#define LIMIT_SHARE 0.8

/* The speed of an edge in km/h. */
static double edge_kmh(struct geo_road_edge ed)
{
    return ed.length_m / (ed.time_ms / 1000.0) * 3.6;
}

/* Notes in `out` if the edge's time is not that of `kmh`, to 0.5 % and the rounding to ms. */
static void check_speed(struct am_buf *out, struct geo_road_edge ed, double kmh, const char *what)
{
    double want = ed.length_m / (kmh / 3.6) * 1000;
    if (!(fabs(ed.time_ms - want) <= want * 0.005 + 1))
        assert_int_equal(
            am_buf_printf(out, "\n  %s: %u ms for %.1f m (%.2f km/h), expected %.0f ms (%.2f km/h)",
                          what, ed.time_ms, ed.length_m, edge_kmh(ed), want, kmh),
            0);
}

/* Every discrepancy is listed before the test fails, so that one run shows them all. */
static void test_import_maxspeed(void **state)
{
    struct osm_case *c = *state;
    struct am_buf bad;
    am_buf_init(&bad, 0);
    struct geo_road_edge ed = straight(c, "highway=residential|maxspeed=50", false);
    double d = geo_distance_m(osm_lat(1), osm_lon(1), osm_lat(11), osm_lon(11));
    assert_true(fabs(ed.length_m - d) < d * 0.005);
    assert_int_equal(ed.rclass, GEO_RC_RESIDENTIAL);
    check_speed(&bad, ed, 50 * LIMIT_SHARE, "maxspeed=50");
    check_speed(&bad, straight(c, "highway=primary|maxspeed=30 mph", false),
                30 * 1.609344 * LIMIT_SHARE, "maxspeed=30 mph");
    check_speed(&bad, straight(c, "highway=primary|maxspeed=200", false), 130 * LIMIT_SHARE,
                "maxspeed=200");
    check_speed(&bad, straight(c, "highway=primary|maxspeed=130", false), 130 * LIMIT_SHARE,
                "maxspeed=130");
    check_speed(&bad, straight(c, "highway=primary|maxspeed=5", false), 5 * LIMIT_SHARE,
                "maxspeed=5");
    check_speed(&bad, straight(c, "highway=primary|maxspeed=50", true), 50 * LIMIT_SHARE,
                "maxspeed=50, rural");
    /* Morocco's implicit limits (OSM wiki "Default speed limits"): town, country, motorway. */
    check_speed(&bad, straight(c, "highway=primary|maxspeed=MA:urban", false), 60 * LIMIT_SHARE,
                "maxspeed=MA:urban");
    check_speed(&bad, straight(c, "highway=primary|maxspeed=MA:rural", false), 100 * LIMIT_SHARE,
                "maxspeed=MA:rural");
    check_speed(&bad, straight(c, "highway=motorway|oneway=no|maxspeed=MA:motorway", false),
                120 * LIMIT_SHARE, "maxspeed=MA:motorway");

    /* Forms that are no number of km/h or mph, and limits under 5: the class default. */
    const char *const defaults[] = {"none", "signals", "walk", "fast", "", "FR:urban", "2", "4.9"};
    for (int rural = 0; rural < 2; rural++) {
        struct geo_road_edge plain = straight(c, "highway=secondary", rural);
        for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
            char tags[64];
            snprintf(tags, sizeof(tags), "highway=secondary|maxspeed=%s", defaults[i]);
            struct geo_road_edge e2 = straight(c, tags, rural);
            if (e2.time_ms != plain.time_ms)
                assert_int_equal(am_buf_printf(&bad, "\n  %s%s: %u ms, the class default is %u ms",
                                               tags, rural ? " (rural)" : "", e2.time_ms,
                                               plain.time_ms),
                                 0);
        }
    }
    /* Odd forms a number parser might take: whatever they give, a speed the bounds allow. */
    const char *const odd[] = {"NaN",
                               "nan",
                               "inf",
                               "-20",
                               "1e9",
                               "0x40",
                               "50;60",
                               "50 km/h",
                               " 50",
                               "50.5",
                               "99999999999999999999",
                               "-0",
                               "0"};
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        char tags[64];
        snprintf(tags, sizeof(tags), "highway=secondary|maxspeed=%s", odd[i]);
        struct geo_road_edge e2 = straight(c, tags, false);
        if (!(edge_kmh(e2) >= 5 * LIMIT_SHARE - 0.01 && edge_kmh(e2) <= 130.1))
            assert_int_equal(am_buf_printf(&bad, "\n  %s: %u ms for %.1f m (%.2f km/h)", tags,
                                           e2.time_ms, e2.length_m, edge_kmh(e2)),
                             0);
    }
    /* Rural defaults are never slower than urban ones; every default is within 5..130. */
    const char *const classes[] = {"motorway|oneway=no", "trunk",         "primary",
                                   "secondary",          "tertiary",      "unclassified",
                                   "residential",        "living_street", "service"};
    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        char tags[64];
        snprintf(tags, sizeof(tags), "highway=%s", classes[i]);
        struct geo_road_edge u = straight(c, tags, false), r = straight(c, tags, true);
        assert_int_equal(u.rclass, (int)i);
        if (r.time_ms > u.time_ms || !(edge_kmh(u) >= 4.99 && edge_kmh(r) <= 130.1))
            assert_int_equal(am_buf_printf(&bad, "\n  %s: urban %.1f km/h, rural %.1f km/h",
                                           classes[i], edge_kmh(u), edge_kmh(r)),
                             0);
    }
    if (bad.len)
        fail_msg("speeds that differ from docs/routing.md:%s", bad.data);
    am_buf_release(&bad);
}

static void test_import_classes_and_dropped_ways(void **state)
{
    struct osm_case *c = *state;
    /* A two-way road 1 - 2, and a bigger two-way part 6 7 8 9 10 that each variant
     * must drop: if it were kept, it would be the largest part instead. */
    const char *const dropped[] = {
        "highway=residential|access=private",
        "highway=residential|access=no",
        "highway=residential|motor_vehicle=no",
        "highway=tertiary|motorcar=private",
        "highway=service|area=yes",
        "highway=footway",
        "highway=cycleway",
        "highway=path",
        "highway=pedestrian",
        "highway=steps",
        "highway=construction",
        "highway=proposed",
        "building=yes",
        "highway=track",
    };
    for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++) {
        const char *const ways[][2] = {{"highway=residential", "1 2"}, {dropped[i], "6 7 8 9 10"}};
        struct geo_roads *g = import_ok(c, ways, 2, false);
        struct geo_roads_info info;
        geo_roads_info(g, &info);
        if (info.nodes != 2 || info.edges != 2 || gnode(g, 1) == GEO_NONE ||
            gnode(g, 2) == GEO_NONE)
            fail_msg("%s was kept: %u nodes, %u edges", dropped[i], info.nodes, info.edges);
        geo_roads_free(g);
    }
    /* Kept, with their class. */
    const struct {
        const char *tags;
        int rc;
    } kept[] = {
        {"highway=road", GEO_RC_UNCLASSIFIED},
        {"highway=primary_link", GEO_RC_PRIMARY},
        {"highway=trunk_link", GEO_RC_TRUNK},
        {"highway=secondary_link", GEO_RC_SECONDARY},
        {"highway=tertiary_link", GEO_RC_TERTIARY},
        {"highway=living_street", GEO_RC_LIVING_STREET},
        {"highway=service|access=yes", GEO_RC_SERVICE},
        {"highway=residential|access=destination", GEO_RC_RESIDENTIAL},
        {"highway=unclassified|area=no", GEO_RC_UNCLASSIFIED},
        {"highway=secondary|access=private|motor_vehicle=yes", GEO_RC_SECONDARY},
        {"highway=service|access=no|motorcar=yes", GEO_RC_SERVICE},
    };
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        const char *const ways[][2] = {{"highway=residential", "1 2"},
                                       {kept[i].tags, "6 7 8 9 10"}};
        struct geo_roads *g = import_ok(c, ways, 2, false);
        struct geo_roads_info info;
        geo_roads_info(g, &info);
        if (info.nodes != 5 || info.edges != 8 || info.dropped_nodes != 2 ||
            info.edges_by_class[kept[i].rc] != 8)
            fail_msg("%s: %u nodes, %u edges, %u dropped, %u of class %s", kept[i].tags, info.nodes,
                     info.edges, info.dropped_nodes, info.edges_by_class[kept[i].rc],
                     geo_road_class_name(kept[i].rc));
        geo_roads_free(g);
    }
    assert_string_equal(geo_road_class_name(GEO_RC_MOTORWAY), "motorway");
    assert_string_equal(geo_road_class_name(GEO_RC_LIVING_STREET), "living_street");
    assert_string_equal(geo_road_class_name(GEO_RC_SERVICE), "service");
    assert_null(geo_road_class_name(GEO_RC_COUNT));
    assert_null(geo_road_class_name(-1));
}

static void test_import_largest_part(void **state)
{
    struct osm_case *c = *state;
    /* A two-way triangle 1 2 3; a two-way square 6 7 8 9 with a one-way spur 9 -> 10;
     * a one-way pair 12 -> 13 -> 14 that leads nowhere. The square wins. */
    const char *const ways[][2] = {
        {"highway=residential", "1 2 3 1"},
        {"highway=tertiary", "6 7 8 9 6"},
        {"highway=tertiary|oneway=yes", "9 10"},
        {"highway=primary|oneway=yes", "12 13 14"},
    };
    struct geo_roads *g = import_ok(c, ways, NWAYS(ways), false);
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    assert_int_equal(info.nodes, 4);
    assert_int_equal(info.edges, 8);
    assert_int_equal(info.dropped_nodes, 3 + 1 + 3);
    assert_int_equal(info.edges_by_class[GEO_RC_TERTIARY], 8);
    for (int id = 6; id <= 9; id++)
        assert_int_not_equal(gnode(g, id), GEO_NONE);
    assert_int_equal(gnode(g, 1), GEO_NONE);
    assert_int_equal(gnode(g, 10), GEO_NONE);
    assert_true(fabs(info.min_lat - 33.510) < 1e-7 && fabs(info.max_lat - 33.511) < 1e-7);
    /* Every node reaches every other. */
    for (uint32_t a = 0; a < info.nodes; a++)
        for (uint32_t b = 0; b < info.nodes; b++) {
            uint32_t ms;
            assert_int_equal(geo_roads_node_time(g, a, b, &ms), 0);
            assert_true(ms < UINT32_MAX);
        }
    /* Nothing outside the kept part snaps. */
    struct geo_snap s;
    assert_int_equal(geo_roads_snap(g, osm_lat(1), osm_lon(1), 100, &s), AM_ENOTFOUND);
    geo_roads_free(g);
}

static void test_import_missing_nodes(void **state)
{
    struct osm_case *c = *state;
    /* Node 99 is not in the file: the way 1 2 99 3 is cut there, so 2 and 3 are not
     * joined directly; 2 5 3 joins them. */
    const char *const ways[][2] = {
        {"highway=residential", "1 2 99 3"},
        {"highway=residential", "2 5 3"},
    };
    struct geo_roads *g = import_ok(c, ways, NWAYS(ways), false);
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    assert_int_equal(info.nodes, 4);
    assert_int_equal(info.edges, 6);
    assert_int_equal(osm_edges(g, 1, 2), 1);
    assert_int_equal(osm_edges(g, 2, 3), 0);
    assert_int_equal(osm_edges(g, 3, 2), 0);
    assert_int_equal(osm_edges(g, 2, 5), 1);
    assert_int_equal(osm_edges(g, 3, 5), 1);
    /* A way of missing nodes only, and a way that repeats a node. */
    const char *const ways2[][2] = {
        {"highway=residential", "1 2 2 4 1"},
        {"highway=primary", "97 98 99"},
    };
    geo_roads_free(g);
    g = import_ok(c, ways2, NWAYS(ways2), false);
    geo_roads_info(g, &info);
    assert_int_equal(info.nodes, 3);
    assert_int_equal(info.edges, 6);
    assert_int_equal(osm_edges(g, 2, 2), 0);
    geo_roads_free(g);
}

/* The times of a graph agree with node-to-node Dijkstra and routes, from snaps at nodes. */
static void check_times_agree(const struct geo_roads *g, uint32_t pairs)
{
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    uint64_t x = 88172645463325252ull;
    for (uint32_t k = 0; k < pairs; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t a = (uint32_t)(x % info.nodes);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t b = (uint32_t)(x % info.nodes);
        uint32_t ms = 0;
        assert_int_equal(geo_roads_node_time(g, a, b, &ms), 0);
        assert_true(ms < UINT32_MAX); /* the largest strongly connected part */
        double la, lo, lb, lob;
        assert_true(geo_roads_node(g, a, &la, &lo));
        assert_true(geo_roads_node(g, b, &lb, &lob));
        struct geo_snap sa, sb;
        assert_int_equal(geo_roads_snap(g, la, lo, 1, &sa), 0);
        assert_int_equal(geo_roads_snap(g, lb, lob, 1, &sb), 0);
        assert_true(sa.dist_m < 0.01 && sb.dist_m < 0.01);
        struct geo_eta e = eta1(g, &sb, &sa, NULL);
        if (!(fabs(e.eta_s * 1000 - ms) < 0.5))
            fail_msg("node %u -> %u: eta_many %.3f s, node_time %u ms (snaps frac %.17g, %.17g)", a,
                     b, e.eta_s, ms, sa.frac, sb.frac);
        struct geo_route r;
        memset(&r, 0, sizeof(r));
        assert_int_equal(geo_roads_route(g, &sa, &sb, NULL, &r), 0);
        assert_true(fabs(r.eta_s - e.eta_s) < 1e-9);
        assert_true(fabs(r.length_m - e.length_m) < 0.01 * (1 + e.length_m));
        assert_true(r.npoints >= 1);
        CHECK_POINT(r.points, la, lo);
        CHECK_POINT(r.points + 2 * (r.npoints - 1), lb, lob);
        geo_route_release(&r);
    }
}

static void test_import_refusals(void **state)
{
    struct osm_case *c = *state;
    char why[512];
    struct geo_roads *g;
    char path[256];

    why[0] = '\0';
    g = (struct geo_roads *)(uintptr_t)1;
    assert_int_equal(geo_roads_import("/nonexistent/map.osm", NULL, &g, why, sizeof(why)),
                     AM_ENOTFOUND);
    assert_null(g);
    assert_non_null(strstr(why, "/nonexistent/map.osm"));
    g = (struct geo_roads *)(uintptr_t)1;
    assert_int_equal(geo_roads_open("/nonexistent/map.pbf", &g, why, sizeof(why)), AM_ENOTFOUND);
    assert_null(g);

    /* Not OSM at all, under each name. */
    const char *const names[] = {"text.osm", "text.pbf"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", c->dir, names[i]);
        write_file(path, "hello, world\n", 13);
        why[0] = '\0';
        g = (struct geo_roads *)(uintptr_t)1;
        int rc = geo_roads_import(path, NULL, &g, why, sizeof(why));
        if (rc != AM_EINVAL)
            fail_msg("%s: %s (%s), expected AM_EINVAL", names[i], am_strerror(rc), why);
        assert_null(g);
        assert_non_null(strstr(why, path));
    }
    /* An empty file, a cut XML document. */
    snprintf(path, sizeof(path), "%s/empty.osm", c->dir);
    write_file(path, "", 0);
    g = (struct geo_roads *)(uintptr_t)1;
    assert_int_equal(geo_roads_import(path, NULL, &g, why, sizeof(why)), AM_EINVAL);
    assert_null(g);
    const char *const ways[][2] = {{"highway=residential", "1 2 3 1"}};
    char *doc = osm_doc(ways, 1);
    snprintf(path, sizeof(path), "%s/cut.osm", c->dir);
    write_file(path, doc, strlen(doc) - 30);
    g = (struct geo_roads *)(uintptr_t)1;
    assert_int_equal(geo_roads_import(path, NULL, &g, why, sizeof(why)), AM_EINVAL);
    assert_null(g);

    /* A directory under an OSM name. */
    snprintf(path, sizeof(path), "%s/dir.osm", c->dir);
    assert_int_equal(mkdir(path, 0755), 0);
    g = (struct geo_roads *)(uintptr_t)1;
    assert_int_equal(geo_roads_import(path, NULL, &g, why, sizeof(why)), AM_EIO);
    assert_null(g);

    /* A good document under a name that is neither .osm nor .pbf. */
    snprintf(path, sizeof(path), "%s/map.xml", c->dir);
    write_file(path, doc, strlen(doc));
    g = (struct geo_roads *)(uintptr_t)1;
    assert_int_equal(geo_roads_import(path, NULL, &g, why, sizeof(why)), AM_EINVAL);
    assert_null(g);
    free(doc);

    /* No drivable road: nodes only, footways only. */
    const char *const foot[][2] = {{"highway=footway", "1 2 3 1"}};
    g = (struct geo_roads *)(uintptr_t)1;
    why[0] = '\0';
    assert_int_equal(import_ways(c, "foot.osm", foot, 1, false, &g, why, sizeof(why)), AM_EINVAL);
    assert_null(g);
    assert_true(why[0] != '\0');
    g = (struct geo_roads *)(uintptr_t)1;
    assert_int_equal(import_ways(c, "nodes.osm", NULL, 0, false, &g, why, sizeof(why)), AM_EINVAL);
    assert_null(g);

    /* A way of more than GEO_ROADS_MAX_WAY_NODES nodes. */
    struct am_buf big;
    am_buf_init(&big, 0);
    assert_int_equal(am_buf_printf(&big, "<osm version=\"0.6\">\n"
                                         "<node id=\"1\" lat=\"33.5\" lon=\"-7.6\"/>\n"
                                         "<node id=\"2\" lat=\"33.501\" lon=\"-7.6\"/>\n"
                                         "<way id=\"3\">"),
                     0);
    for (int i = 0; i <= GEO_ROADS_MAX_WAY_NODES; i++)
        assert_int_equal(am_buf_printf(&big, "<nd ref=\"%d\"/>", 1 + i % 2), 0);
    assert_int_equal(am_buf_printf(&big, "<tag k=\"highway\" v=\"residential\"/></way>\n"
                                         "</osm>\n"),
                     0);
    snprintf(path, sizeof(path), "%s/long_way.osm", c->dir);
    write_file(path, big.data, big.len);
    am_buf_release(&big);
    g = (struct geo_roads *)(uintptr_t)1;
    why[0] = '\0';
    assert_int_equal(geo_roads_import(path, NULL, &g, why, sizeof(why)), AM_ETOOBIG);
    assert_null(g);
    assert_non_null(strstr(why, path));

    /* geo_roads_open() imports an .osm name, with default options. */
    g = NULL;
    assert_int_equal(import_ways(c, "tri.osm", ways, 1, false, &g, why, sizeof(why)), 0);
    struct geo_roads *h = NULL;
    assert_int_equal(geo_roads_open(c->path, &h, why, sizeof(why)), 0);
    check_same_graph(g, h);
    check_times_agree(h, 9);
    geo_roads_free(g);
    geo_roads_free(h);
}

/* ------------------------------------------------------------- Casablanca */

/*
 * Counts from an independent reference of the import rules of geo.h (a
 * Python script over the XML with networkx's strongly connected parts):
 * 4,694 nodes on drivable ways, 3,833 in the largest strongly connected part,
 * 4,686 directed edges (trunk 123, primary 1,398, secondary 945, tertiary
 * 2,220), 125.02 km of edges; the part's box is lat 33.5564998..33.5930961,
 * lon -7.6245586..-7.5583054.
 */
static void test_casablanca(void **state)
{
    (void)state;
    char path[512], dir[64], saved[128], why[512] = "";
    snprintf(path, sizeof(path), "%s/roads/casablanca_center.osm", data_dir());
    struct geo_roads *g = NULL;
    int64_t t0 = am_mono_us();
    int rc = geo_roads_import(path, NULL, &g, why, sizeof(why));
    if (rc)
        fail_msg("import %s: %s (%s)", path, am_strerror(rc), why);
    double import_s = (am_mono_us() - t0) / 1e6;
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    assert_int_equal(info.nodes, 3833);
    assert_int_equal(info.dropped_nodes, 4694 - 3833);
    assert_int_equal(info.edges, 4686);
    const uint32_t by_class[GEO_RC_COUNT] = {0, 123, 1398, 945, 2220, 0, 0, 0, 0};
    for (int k = 0; k < GEO_RC_COUNT; k++)
        if (info.edges_by_class[k] != by_class[k])
            fail_msg("class %s: %u edges, expected %u", geo_road_class_name(k),
                     info.edges_by_class[k], by_class[k]);
    assert_true(fabs(info.length_km - 125.02) < 0.2);
    assert_true(fabs(info.min_lat - 33.5564998) < 1e-7 && fabs(info.max_lat - 33.5930961) < 1e-7);
    assert_true(fabs(info.min_lon - -7.6245586) < 1e-7 && fabs(info.max_lon - -7.5583054) < 1e-7);
    for (uint32_t e = 0; e < info.edges; e++) {
        struct geo_road_edge ed;
        assert_true(geo_roads_edge(g, e, &ed));
        double kmh = ed.length_m / (ed.time_ms / 1000.0) * 3.6;
        if (!(ed.time_ms > 0 && kmh >= 4.9 && kmh <= 131 && ed.length_m < 5000))
            fail_msg("edge %u: %u ms for %.1f m", e, ed.time_ms, ed.length_m);
    }

    /* From the north-west of the extract to its south-east: a few minutes, a few km. */
    struct geo_snap from, to;
    assert_int_equal(geo_roads_snap(g, 33.5890, -7.6160, 500, &from), 0);
    assert_int_equal(geo_roads_snap(g, 33.5600, -7.5700, 500, &to), 0);
    struct geo_route r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(geo_roads_route(g, &from, &to, NULL, &r), 0);
    double crow = geo_distance_m(from.lat, from.lon, to.lat, to.lon);
    assert_true(r.length_m > crow && r.length_m < 2.5 * crow);
    assert_true(r.eta_s > 60 && r.eta_s < 1800);
    double along = 0;
    for (size_t i = 0; i + 1 < r.npoints; i++)
        along += geo_distance_m(r.points[2 * i], r.points[2 * i + 1], r.points[2 * i + 2],
                                r.points[2 * i + 3]);
    assert_true(fabs(along - r.length_m) < 0.01 * r.length_m + 1);
    geo_route_release(&r);
    check_times_agree(g, 300);

    /* Saved and loaded again: the same graph, read in well under a second. */
    make_dir(dir, sizeof(dir));
    snprintf(saved, sizeof(saved), "%s/casablanca.graph", dir);
    assert_int_equal(geo_roads_save(g, saved, why, sizeof(why)), 0);
    struct geo_roads *h = NULL;
    t0 = am_mono_us();
    assert_int_equal(geo_roads_load(saved, &h, why, sizeof(why)), 0);
    double load_s = (am_mono_us() - t0) / 1e6;
    assert_true(load_s < 1.0);
    check_same_graph(g, h);
    check_times_agree(h, 50);
    printf("[ roads    ] casablanca_center.osm: %u nodes, %u edges, %.1f km; import %.3f s, "
           "load %.4f s\n",
           info.nodes, info.edges, info.length_km, import_s, load_s);
    fflush(stdout);
    geo_roads_free(h);
    geo_roads_free(g);
    rm_dir(dir);
}

/* Threads query one graph at once and get the answers of one thread alone. */
struct worker {
    const struct geo_roads *g;
    const struct geo_snap *snaps;
    const double *want; /* eta of snaps[i] -> snaps[i + 1] */
    size_t n;
    int bad;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int round = 0; round < 5; round++)
        for (size_t i = 0; i + 1 < w->n; i++) {
            struct geo_eta e;
            if (geo_roads_eta_many(w->g, &w->snaps[i + 1], &w->snaps[i], 1, 1, NULL, NULL, &e) ||
                e.eta_s != w->want[i])
                w->bad++;
        }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct geo_roads *g = line_and_island();
    enum { N = 40 };
    struct geo_snap snaps[N];
    double want[N];
    for (size_t i = 0; i < N; i++)
        snaps[i] = snap(g, LAT0 + STEP * ((i * 7) % 19 + 0.3), LON0);
    for (size_t i = 0; i + 1 < N; i++)
        want[i] = eta1(g, &snaps[i + 1], &snaps[i], NULL).eta_s;
    struct worker w[4];
    pthread_t th[4];
    for (int k = 0; k < 4; k++) {
        w[k] = (struct worker){g, snaps, want, N, 0};
        assert_int_equal(pthread_create(&th[k], NULL, work, &w[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        assert_int_equal(w[k].bad, 0);
    }
    geo_roads_free(g);
}

int main(void)
{
    const struct CMUnitTest graphs[] = {
        cmocka_unit_test(test_from_edges_refusals),
        cmocka_unit_test(test_line_info_and_snap),
        cmocka_unit_test(test_snap_on_a_whole_world_edge),
        cmocka_unit_test(test_line_eta),
        cmocka_unit_test(test_same_edge_back_along_twin),
        cmocka_unit_test(test_one_way_loop),
        cmocka_unit_test(test_diamond_and_speed_factors),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_long_times_do_not_wrap),
        cmocka_unit_test(test_eta_many_early_stop),
        cmocka_unit_test(test_rank),
        cmocka_unit_test(test_route_geometry),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_threads),
    };
    const struct CMUnitTest osm[] = {
        cmocka_unit_test_setup_teardown(test_import_one_way_forms, osm_setup, osm_teardown),
        cmocka_unit_test_setup_teardown(test_import_maxspeed, osm_setup, osm_teardown),
        cmocka_unit_test_setup_teardown(test_import_classes_and_dropped_ways, osm_setup,
                                        osm_teardown),
        cmocka_unit_test_setup_teardown(test_import_largest_part, osm_setup, osm_teardown),
        cmocka_unit_test_setup_teardown(test_import_missing_nodes, osm_setup, osm_teardown),
        cmocka_unit_test_setup_teardown(test_import_refusals, osm_setup, osm_teardown),
        cmocka_unit_test(test_casablanca),
    };
    int failed = cmocka_run_group_tests_name("roads graphs", graphs, NULL, NULL);
    failed += cmocka_run_group_tests_name("roads OSM import", osm, NULL, NULL);
    return failed;
}
