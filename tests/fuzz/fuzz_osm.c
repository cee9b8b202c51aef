/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_osm.c - fuzzes the OSM importer, geo_roads_import(), and through it
 * readosm's XML and PBF readers. readosm reads files and picks its parser by
 * the name's suffix, so the input goes to a temporary file under /tmp named
 * .osm when it starts like XML (a '<' after optional blanks and a UTF-8 byte
 * order mark) and .pbf otherwise; the seeds are real files of each kind. The
 * last byte's low bit asks for the rural default speeds.
 *
 * A refusal must be AM_EINVAL, AM_ETOOBIG or AM_ENOMEM with a one-line
 * reason and no graph. An accepted graph must hold what an import promises:
 * nodes and edges within the limits; every edge between two distinct nodes,
 * with a class, a finite length and a time at 4 to 130 km/h (0.8 of a limit
 * of 5 to 130 km/h, or a class default: docs/routing.md) or at the one-day
 * cap of an edge's time; every node within the bounding box; lengths that
 * add up to length_km; every node reaching every other (the largest strongly
 * connected part), checked from node 0 to the last node and back with
 * geo_roads_node_time(). Each of those two nodes' positions snaps at distance
 * 0; when the snap is at the node itself (another road may pass over it),
 * geo_roads_eta_many() between the two snaps equals geo_roads_node_time(),
 * and geo_roads_route() always equals geo_roads_eta_many(). One accepted
 * input in eight (by a hash of its bytes, so that a run can be replayed) is
 * also saved with geo_roads_save() and read back with geo_roads_load(),
 * which must take what an import made; the others skip it, as the save's
 * fsync is slow. Any failed check is abort().
 *
 * readosm 1.1.0a leaks whenever a .osm file is not well-formed:
 * parse_osm_xml() returns without XML_ParserFree() and without releasing the
 * object it was reading (its tags, user, timestamp), and nothing outside
 * readosm can free them. Leaks allocated under libexpat or libreadosm are
 * therefore not reported; those of amane's own code are, except for an
 * allocation made in a readosm callback, which has readosm on its stack too
 * (osm.c's on_way() arrays, freed on every path of geo_roads_import()).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "geo/geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* Read by LeakSanitizer at start-up (see above). */
const char *__lsan_default_suppressions(void)
{
    return "leak:libexpat.so\nleak:libreadosm.so\n";
}

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_osm: %s\n", what);
    abort();
}

/* XML if the first byte after blanks (and a byte order mark) is '<'. */
static bool looks_like_xml(const uint8_t *data, size_t size)
{
    size_t i = 0;
    if (size >= 3 && data[0] == 0xef && data[1] == 0xbb && data[2] == 0xbf)
        i = 3;
    while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    return i < size && data[i] == '<';
}

static void check_refusal(int rc, const struct geo_roads *g, const char *why, size_t whysz)
{
    if (rc != AM_EINVAL && rc != AM_ETOOBIG && rc != AM_ENOMEM) {
        fprintf(stderr, "fuzz_osm: refused with %s: %s\n", am_strerror(rc), why);
        fail("unexpected error code");
    }
    if (g)
        fail("a refusal must leave no graph");
    if (!memchr(why, '\0', whysz) || why[0] == '\0')
        fail("a refusal must give a NUL-terminated reason");
    for (const char *p = why; *p; p++)
        if ((unsigned char)*p < 0x20)
            fail("a reason must be one line");
}

/*
 * The snap of node i's own position: at distance 0, on an edge. *at_node says
 * whether that edge ends at node i with the snap on that end; it may not,
 * when another road passes over the node's position without meeting it
 * there (a bridge), and ties go to the lowest edge index.
 */
static struct geo_snap snap_node(const struct geo_roads *g, uint32_t i, bool *at_node)
{
    double lat, lon;
    if (!geo_roads_node(g, i, &lat, &lon))
        fail("a node in range has no position");
    struct geo_snap s;
    if (geo_roads_snap(g, lat, lon, 1, &s))
        fail("a node's position does not snap");
    struct geo_road_edge e;
    if (!geo_roads_edge(g, s.edge, &e) || !(s.dist_m >= 0 && s.dist_m < 0.01) ||
        !(s.frac >= 0 && s.frac <= 1))
        fail("snap out of range");
    if (s.twin != GEO_NONE) {
        struct geo_road_edge t;
        if (!geo_roads_edge(g, s.twin, &t) || t.tail != e.head || t.head != e.tail)
            fail("a twin that is not the edge backwards");
    }
    *at_node = (e.tail == i && s.frac == 0) || (e.head == i && s.frac == 1);
    struct geo_snap again;
    if (geo_roads_snap_at(g, s.edge, s.frac, s.dist_m, &again) || again.edge != s.edge ||
        again.twin != s.twin || again.lat != s.lat || again.lon != s.lon)
        fail("geo_roads_snap_at() does not rebuild the snap");
    return s;
}

static void check_graph(const struct geo_roads *g)
{
    struct geo_roads_info info;
    geo_roads_info(g, &info);
    if (info.nodes < 2 || info.nodes > GEO_ROADS_MAX_NODES || info.edges < 2 ||
        info.edges > GEO_ROADS_MAX_EDGES)
        fail("counts out of range");
    if (!(info.min_lat >= -90 && info.min_lat <= info.max_lat && info.max_lat <= 90 &&
          info.min_lon >= -180 && info.min_lon <= info.max_lon && info.max_lon <= 180))
        fail("bounding box out of range");
    uint64_t by_class = 0;
    for (int k = 0; k < GEO_RC_COUNT; k++)
        by_class += info.edges_by_class[k];
    if (by_class != info.edges)
        fail("edges by class do not add up");
    if (!(info.length_km >= 0 && isfinite(info.length_km)))
        fail("total length out of range");

    for (uint32_t i = 0; i < info.nodes; i++) {
        double lat, lon;
        if (!geo_roads_node(g, i, &lat, &lon))
            fail("a node in range has no position");
        if (!(lat >= info.min_lat && lat <= info.max_lat && lon >= info.min_lon &&
              lon <= info.max_lon))
            fail("a node outside the bounding box");
    }
    double km = 0;
    for (uint32_t e = 0; e < info.edges; e++) {
        struct geo_road_edge ed;
        if (!geo_roads_edge(g, e, &ed))
            fail("an edge in range is missing");
        if (ed.tail >= info.nodes || ed.head >= info.nodes || ed.tail == ed.head)
            fail("an edge with a bad end");
        if (ed.rclass >= GEO_RC_COUNT || !(ed.length_m >= 0) || !isfinite(ed.length_m))
            fail("an edge with a bad class or length");
        struct geo_road_edge tw;
        if (ed.twin != GEO_NONE &&
            (!geo_roads_edge(g, ed.twin, &tw) || tw.tail != ed.head || tw.head != ed.tail))
            fail("an edge whose twin is not the edge backwards");
        /* 4 to 130 km/h, give or take the rounding to ms; or the one-day cap. */
        if (ed.time_ms == 0 || ed.time_ms > 86400000u ||
            (ed.time_ms < 86400000u &&
             ed.length_m > (ed.time_ms + 1) / 1000.0 * (130 / 3.6) * 1.001 + 0.01) ||
            ed.length_m < (ed.time_ms - 1) / 1000.0 * (4 / 3.6) * 0.999 - 0.01)
            fail("an edge time that is no speed of 4 to 130 km/h");
        km += ed.length_m / 1000.0;
    }
    if (fabs(km - info.length_km) > 1e-3 * (1 + km))
        fail("total length differs from the sum of the edges");
    struct geo_road_edge none;
    double lat, lon;
    if (geo_roads_edge(g, info.edges, &none) || geo_roads_node(g, info.nodes, &lat, &lon))
        fail("an accessor answered out of range");

    /* Strongly connected: the first node and the last reach each other. */
    uint32_t a = 0, b = info.nodes - 1, ab = 0, ba = 0;
    if (geo_roads_node_time(g, a, b, &ab) || geo_roads_node_time(g, b, a, &ba))
        fail("node_time failed");
    if (ab == UINT32_MAX || ba == UINT32_MAX)
        fail("an imported graph where a node does not reach another");

    /* Snaps at those nodes count as the nodes: eta_many, route and node_time agree. */
    bool at_a, at_b;
    struct geo_snap sa = snap_node(g, a, &at_a), sb = snap_node(g, b, &at_b);
    struct geo_eta eta;
    if (geo_roads_eta_many(g, &sb, &sa, 1, 1, NULL, NULL, &eta))
        fail("eta_many failed");
    if (!isfinite(eta.eta_s) || eta.eta_s < 0)
        fail("eta_many found no way in a strongly connected graph");
    if (at_a && at_b && !(fabs(eta.eta_s * 1000 - ab) < 0.5)) {
        fprintf(stderr, "fuzz_osm: eta_many %.4f s, node_time %u ms\n", eta.eta_s, ab);
        fail("eta_many and node_time disagree between two nodes");
    }
    struct geo_route r;
    memset(&r, 0, sizeof(r));
    if (geo_roads_route(g, &sa, &sb, NULL, &r))
        fail("route failed in an imported graph");
    if (fabs(r.eta_s - eta.eta_s) > 1e-6 || r.npoints < 1 || !r.points)
        fail("route and eta_many disagree");
    geo_route_release(&r);

    /* A point off the box snaps to nothing, or to a road within max_m. */
    struct geo_snap s;
    int rc = geo_roads_snap(g, info.max_lat, info.max_lon, 50, &s);
    if (rc != 0 && rc != AM_ENOTFOUND && rc != AM_EINVAL)
        fail("snap: unexpected error code");
    if (rc == 0 && !(s.dist_m <= 50.01))
        fail("snap: farther than max_m");
}

/* What an import made, a load must take back unchanged. */
static void check_round_trip(const struct geo_roads *g)
{
    char path[] = "/tmp/fuzz_osm_XXXXXX.graph";
    int fd = mkstemps(path, 6);
    if (fd < 0)
        fail("cannot create a temporary file");
    close(fd);
    char why[256] = "";
    struct geo_roads *h = NULL;
    if (geo_roads_save(g, path, why, sizeof(why))) {
        unlink(path);
        fprintf(stderr, "fuzz_osm: %s\n", why);
        fail("cannot save an imported graph");
    }
    int rc = geo_roads_load(path, &h, why, sizeof(why));
    unlink(path);
    if (rc) {
        fprintf(stderr, "fuzz_osm: %s: %s\n", am_strerror(rc), why);
        fail("a saved import does not load");
    }
    struct geo_roads_info a, b;
    geo_roads_info(g, &a);
    geo_roads_info(h, &b);
    if (a.nodes != b.nodes || a.edges != b.edges || a.dropped_nodes != b.dropped_nodes)
        fail("a loaded graph differs from the saved one");
    for (uint32_t e = 0; e < a.edges; e++) {
        struct geo_road_edge x, y;
        if (!geo_roads_edge(g, e, &x) || !geo_roads_edge(h, e, &y) || x.tail != y.tail ||
            x.head != y.head || x.time_ms != y.time_ms || x.length_m != y.length_m ||
            x.rclass != y.rclass)
            fail("a loaded edge differs from the saved one");
    }
    geo_roads_free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool xml = looks_like_xml(data, size);
    char path[] = "/tmp/fuzz_osm_XXXXXX.osm";
    if (!xml)
        memcpy(path + sizeof(path) - 4, "pbf", 3);
    int fd = mkstemps(path, 4);
    if (fd < 0)
        fail("cannot create a temporary file");
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0) {
            unlink(path);
            fail("cannot write the temporary file");
        }
        off += (size_t)n;
    }
    close(fd);

    struct geo_roads *g = (struct geo_roads *)(uintptr_t)1;
    char why[256];
    memset(why, 'x', sizeof(why));
    /* In this process, so that coverage guides the fuzzer (a readosm crash is its own). */
    struct geo_roads_import_opts opts = {.rural = size > 0 && (data[size - 1] & 1),
                                         .in_process = true};
    int rc = geo_roads_import(path, &opts, &g, why, sizeof(why));
    unlink(path);
    if (rc) {
        check_refusal(rc, g, why, sizeof(why));
        return 0;
    }
    if (!g)
        fail("accepted without a graph");
    check_graph(g);
    uint32_t hash = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < size; i++)
        hash = (hash ^ data[i]) * 16777619u;
    if ((hash & 7) == 0)
        check_round_trip(g);
    geo_roads_free(g);
    return 0;
}
