/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * osm.c - builds a road graph from an OpenStreetMap file (.osm XML or .pbf)
 * with readosm. Two passes over the file keep memory to what routing needs:
 * the first keeps the drivable ways (their node references, class, one-way
 * rule and speed), the second the coordinates of the nodes those ways use.
 * Then edges are made per segment, and only the largest strongly connected
 * part is kept: a unit snapped onto a fragment cut off by the edge of the
 * extract, or a one-way street that only leads out of it, could never be routed.
 * Default speeds are in docs/routing.md; they are Moroccan travel speeds
 * (not limits) by road class, urban or rural. The first pass also keeps the
 * names of the drivable ways (name, name:ar, name:fr, and the alt_name,
 * old_name and short_name families) for the street index (streets.c), which
 * is built once the nodes are known and travels with the graph.
 */
#include <errno.h>
#include <math.h>
#include <readosm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"
#include "geo/roads_int.h"

/* Free-flow travel speeds in km/h by class: [0] urban, [1] rural (docs/routing.md). */
static const double default_kmh[2][GEO_RC_COUNT] = {
    {90, 60, 45, 40, 35, 30, 25, 10, 15},
    {110, 85, 75, 65, 55, 45, 30, 10, 20},
};

/* A tagged maxspeed is a limit; traffic moves slower: the share kept (as OSRM's car profile). */
#define MAXSPEED_SHARE 0.8

struct osm_way {
    size_t first; /* into refs */
    uint32_t count;
    uint8_t rclass;
    int8_t oneway; /* 1 along the way, -1 against it, 0 both */
    float kmh;
};

/* The name tags kept for the street index, in the order of enum geo_way_name. */
static const char *const name_keys[GEO_WN_COUNT] = {
    "name",     "name:ar",     "name:fr",     "alt_name",   "alt_name:ar",   "alt_name:fr",
    "old_name", "old_name:ar", "old_name:fr", "short_name", "short_name:ar", "short_name:fr",
};

/* Bytes of way names kept at most (all ways together). */
#define OSM_MAX_NAME_BYTES (1024u * 1024 * 1024)

/* A drivable way with a name: which way, and where its names are (offset + 1; 0 if absent). */
struct osm_named {
    size_t way;
    size_t name[GEO_WN_COUNT];
};

struct osm_import {
    const struct geo_roads_import_opts *opts;
    int rc;
    char *why;
    size_t whysz;
    const char *path;

    struct osm_way *ways;
    size_t nways, capways;
    int64_t *refs;
    size_t nrefs, caprefs;
    struct osm_named *named;
    size_t nnamed, capnamed;
    char *names; /* NUL-terminated names of the named ways */
    size_t names_len, capnames;

    int64_t *ids; /* sorted unique node ids the ways use */
    size_t nids;
    int32_t *lat_e7, *lon_e7;
    bool *found;
};

static int fail(struct osm_import *im, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct osm_import *im, int rc, const char *fmt, ...)
{
    if (im->rc == 0 && im->why && im->whysz) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        snprintf(im->why, im->whysz, "'%s': %s", im->path, msg);
    }
    if (im->rc == 0)
        im->rc = rc;
    return rc;
}

static const char *tag(const readosm_tag *tags, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (tags[i].key && tags[i].value && strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}

static int road_class(const char *hw)
{
    static const struct {
        const char *name;
        int rc;
    } map[] = {
        {"motorway", GEO_RC_MOTORWAY},
        {"motorway_link", GEO_RC_MOTORWAY},
        {"trunk", GEO_RC_TRUNK},
        {"trunk_link", GEO_RC_TRUNK},
        {"primary", GEO_RC_PRIMARY},
        {"primary_link", GEO_RC_PRIMARY},
        {"secondary", GEO_RC_SECONDARY},
        {"secondary_link", GEO_RC_SECONDARY},
        {"tertiary", GEO_RC_TERTIARY},
        {"tertiary_link", GEO_RC_TERTIARY},
        {"unclassified", GEO_RC_UNCLASSIFIED},
        {"road", GEO_RC_UNCLASSIFIED},
        {"residential", GEO_RC_RESIDENTIAL},
        {"living_street", GEO_RC_LIVING_STREET},
        {"service", GEO_RC_SERVICE},
    };
    for (size_t i = 0; hw && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(hw, map[i].name) == 0)
            return map[i].rc;
    return -1;
}

static bool is_any(const char *v, const char *const *set)
{
    for (; v && *set; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

/* The speed limit a maxspeed value states, in km/h, or 0 if it states none we read. */
static double maxspeed_kmh(const char *v)
{
    if (!v)
        return 0;
    if (strcmp(v, "MA:urban") == 0)
        return 60;
    if (strcmp(v, "MA:rural") == 0)
        return 100;
    if (strcmp(v, "MA:motorway") == 0)
        return 120;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !isfinite(x))
        return 0;
    while (*end == ' ')
        end++;
    if (strcmp(end, "mph") == 0)
        x *= 1.609344;
    else if (*end && strcmp(end, "km/h") != 0 && strcmp(end, "kmh") != 0 && strcmp(end, "kph") != 0)
        return 0;
    if (x < 5 || x > 130)
        return x < 5 ? 0 : 130;
    return x;
}

/* Keeps the names of the way just added (the last of im->ways), if it has any. */
static int keep_names(struct osm_import *im, const readosm_tag *t, int nt)
{
    struct osm_named nm = {.way = im->nways - 1};
    bool any = false;
    for (int k = 0; k < GEO_WN_COUNT; k++) {
        const char *v = tag(t, nt, name_keys[k]);
        size_t len = v ? strlen(v) : 0;
        if (!len)
            continue;
        if (im->names_len + len + 1 > OSM_MAX_NAME_BYTES)
            return fail(im, AM_ETOOBIG, "more than %u bytes of street names", OSM_MAX_NAME_BYTES);
        if (am_grow(&im->names, &im->capnames, im->names_len + len + 1, 1, 65536))
            return fail(im, AM_ENOMEM, "out of memory");
        memcpy(im->names + im->names_len, v, len + 1);
        nm.name[k] = im->names_len + 1;
        im->names_len += len + 1;
        any = true;
    }
    if (!any)
        return 0;
    if (am_grow(&im->named, &im->capnamed, im->nnamed + 1, sizeof(*im->named), 256))
        return fail(im, AM_ENOMEM, "out of memory");
    im->named[im->nnamed++] = nm;
    return 0;
}

static int on_way(const void *arg, const readosm_way *w)
{
    struct osm_import *im = (struct osm_import *)arg;
    const readosm_tag *t = w->tags;
    int nt = w->tag_count;
    if (!t || nt <= 0 || w->node_ref_count < 2 || !w->node_refs)
        return READOSM_OK;
    int rc = road_class(tag(t, nt, "highway"));
    if (rc < 0)
        return READOSM_OK;
    static const char *const closed[] = {"no", "private", NULL};
    static const char *const open_[] = {"yes", "designated", "permissive", "destination", NULL};
    const char *mv = tag(t, nt, "motor_vehicle"), *mc = tag(t, nt, "motorcar");
    if (is_any(mv, closed) || is_any(mc, closed))
        return READOSM_OK;
    if (is_any(tag(t, nt, "access"), closed) && !is_any(mv, open_) && !is_any(mc, open_))
        return READOSM_OK;
    if (is_any(tag(t, nt, "area"), (const char *const[]){"yes", NULL}))
        return READOSM_OK;
    if (w->node_ref_count > GEO_ROADS_MAX_WAY_NODES) {
        fail(im, AM_ETOOBIG, "way %lld has %d nodes, more than %d", w->id, w->node_ref_count,
             GEO_ROADS_MAX_WAY_NODES);
        return READOSM_ABORT;
    }

    int8_t oneway = 0;
    const char *ow = tag(t, nt, "oneway");
    const char *junction = tag(t, nt, "junction");
    if (is_any(ow, (const char *const[]){"yes", "true", "1", NULL}))
        oneway = 1;
    else if (is_any(ow, (const char *const[]){"-1", "reverse", NULL}))
        oneway = -1;
    else if (!is_any(ow, (const char *const[]){"no", "false", "0", NULL}) &&
             (rc == GEO_RC_MOTORWAY ||
              is_any(junction, (const char *const[]){"roundabout", "circular", NULL})))
        oneway = 1;

    double kmh = maxspeed_kmh(tag(t, nt, "maxspeed")) * MAXSPEED_SHARE;
    if (kmh <= 0)
        kmh = default_kmh[im->opts && im->opts->rural ? 1 : 0][rc];

    if (im->nrefs + (size_t)w->node_ref_count > GEO_ROADS_MAX_EDGES) {
        fail(im, AM_ETOOBIG, "more than %u node references in drivable ways", GEO_ROADS_MAX_EDGES);
        return READOSM_ABORT;
    }
    if (am_grow(&im->ways, &im->capways, im->nways + 1, sizeof(*im->ways), 1024) ||
        am_grow(&im->refs, &im->caprefs, im->nrefs + (size_t)w->node_ref_count, sizeof(*im->refs),
                16384))
        goto nomem;
    im->ways[im->nways++] =
        (struct osm_way){im->nrefs, (uint32_t)w->node_ref_count, (uint8_t)rc, oneway, (float)kmh};
    memcpy(im->refs + im->nrefs, w->node_refs, (size_t)w->node_ref_count * sizeof(int64_t));
    im->nrefs += (size_t)w->node_ref_count;
    return keep_names(im, t, nt) ? READOSM_ABORT : READOSM_OK;
nomem:
    fail(im, AM_ENOMEM, "out of memory");
    return READOSM_ABORT;
}

static int64_t *find_id(const struct osm_import *im, int64_t id)
{
    size_t lo = 0, hi = im->nids;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (im->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < im->nids && im->ids[lo] == id ? &im->ids[lo] : NULL;
}

static int on_node(const void *arg, const readosm_node *n)
{
    struct osm_import *im = (struct osm_import *)arg;
    int64_t *p = find_id(im, n->id);
    if (!p)
        return READOSM_OK;
    double la = n->latitude, lo = n->longitude;
    if (!isfinite(la) || !isfinite(lo) || la < -90 || la > 90 || lo < -180 || lo > 180)
        return READOSM_OK; /* unusable: the ways through it are cut there */
    size_t i = (size_t)(p - im->ids);
    im->lat_e7[i] = (int32_t)lround(la * GEO_E7);
    im->lon_e7[i] = (int32_t)lround(lo * GEO_E7);
    im->found[i] = true;
    return READOSM_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static const char *readosm_reason(int rc)
{
    switch (rc) {
    case READOSM_INVALID_SUFFIX:
        return "not a .osm or .pbf file";
    case READOSM_FILE_NOT_FOUND:
        return "no such file";
    case READOSM_INSUFFICIENT_MEMORY:
        return "out of memory";
    case READOSM_READ_ERROR:
        return "read error";
    case READOSM_XML_ERROR:
        return "not well-formed OSM XML";
    case READOSM_INVALID_PBF_HEADER:
        return "not a valid OSM PBF file";
    case READOSM_UNZIP_ERROR:
        return "a compressed block of the PBF file is damaged";
    default:
        return "the OSM file could not be read";
    }
}

/* One pass over the file with the given callbacks. */
static int parse(struct osm_import *im, readosm_node_callback nf, readosm_way_callback wf)
{
    const void *h = NULL;
    int r = readosm_open(im->path, &h);
    if (r == READOSM_OK)
        r = readosm_parse(h, im, nf, wf, NULL);
    if (h)
        readosm_close(h);
    if (im->rc)
        return im->rc;
    if (r != READOSM_OK) {
        int rc = r == READOSM_FILE_NOT_FOUND        ? AM_ENOTFOUND
                 : r == READOSM_INSUFFICIENT_MEMORY ? AM_ENOMEM
                 : r == READOSM_READ_ERROR          ? AM_EIO
                                                    : AM_EINVAL;
        return fail(im, rc, "%s", readosm_reason(r));
    }
    return 0;
}

/*
 * The largest strongly connected component of a graph in CSR form, by an
 * iterative Tarjan. comp[v] gets 1 for nodes in it, 0 otherwise; returns its size.
 */
static int largest_scc(uint32_t n, const uint32_t *first, const uint32_t *adj, uint8_t *keep,
                       uint32_t *size_out)
{
    int rc = AM_ENOMEM;
    uint32_t *index = malloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t *low = malloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t *comp = malloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t *stack = malloc((n ? n : 1) * sizeof(uint32_t));
    uint32_t *call = malloc((n ? n : 1) * sizeof(uint32_t)); /* DFS path: node */
    uint32_t *iter = malloc((n ? n : 1) * sizeof(uint32_t)); /* next edge to look at */
    bool *on = calloc(n ? n : 1, sizeof(bool));
    if (!index || !low || !comp || !stack || !call || !iter || !on)
        goto out;
    for (uint32_t v = 0; v < n; v++)
        index[v] = UINT32_MAX;
    uint32_t next = 0, sp = 0, ncomp = 0, best = 0, best_size = 0;
    for (uint32_t root = 0; root < n; root++) {
        if (index[root] != UINT32_MAX)
            continue;
        uint32_t depth = 0;
        call[depth++] = root;
        index[root] = low[root] = next++;
        iter[root] = first[root];
        stack[sp++] = root;
        on[root] = true;
        while (depth) {
            uint32_t v = call[depth - 1];
            if (iter[v] < first[v + 1]) {
                uint32_t w = adj[iter[v]++];
                if (index[w] == UINT32_MAX) {
                    index[w] = low[w] = next++;
                    iter[w] = first[w];
                    stack[sp++] = w;
                    on[w] = true;
                    call[depth++] = w;
                } else if (on[w] && index[w] < low[v]) {
                    low[v] = index[w];
                }
                continue;
            }
            if (low[v] == index[v]) {
                uint32_t size = 0, w;
                do {
                    w = stack[--sp];
                    on[w] = false;
                    comp[w] = ncomp;
                    size++;
                } while (w != v);
                if (size > best_size) {
                    best_size = size;
                    best = ncomp;
                }
                ncomp++;
            }
            depth--;
            if (depth) {
                uint32_t u = call[depth - 1];
                if (low[v] < low[u])
                    low[u] = low[v];
            }
        }
    }
    for (uint32_t v = 0; v < n; v++)
        keep[v] = comp[v] == best;
    *size_out = best_size;
    rc = 0;
out:
    free(index);
    free(low);
    free(comp);
    free(stack);
    free(call);
    free(iter);
    free(on);
    return rc;
}

/* Makes the graph from the ways and the nodes found. */
static int build(struct osm_import *im, struct geo_roads **out)
{
    int rc = AM_ENOMEM;
    uint32_t n = 0;
    size_t m = 0;
    uint32_t *gid = NULL, *tail = NULL, *head = NULL, *time_ms = NULL, *first = NULL, *adj = NULL;
    uint32_t *newid = NULL, *t2 = NULL, *h2 = NULL, *tm2 = NULL;
    float *len = NULL, *len2 = NULL;
    uint8_t *cls = NULL, *cls2 = NULL, *keep = NULL;
    double *lat = NULL, *lon = NULL;

    /* Graph ids for the nodes found; count the edges. */
    gid = malloc((im->nids ? im->nids : 1) * sizeof(uint32_t));
    if (!gid)
        goto out;
    for (size_t i = 0; i < im->nids; i++)
        gid[i] = im->found[i] ? n++ : GEO_NONE;
    if (n > GEO_ROADS_MAX_NODES) {
        rc = fail(im, AM_ETOOBIG, "%u road nodes, more than %u", n, GEO_ROADS_MAX_NODES);
        goto out;
    }
    size_t cap = 0;
    for (size_t w = 0; w < im->nways; w++)
        cap += 2 * (size_t)(im->ways[w].count - 1);
    if (cap > GEO_ROADS_MAX_EDGES) {
        rc = fail(im, AM_ETOOBIG, "more than %u road edges", GEO_ROADS_MAX_EDGES);
        goto out;
    }
    tail = malloc((cap ? cap : 1) * sizeof(uint32_t));
    head = malloc((cap ? cap : 1) * sizeof(uint32_t));
    time_ms = malloc((cap ? cap : 1) * sizeof(uint32_t));
    len = malloc((cap ? cap : 1) * sizeof(float));
    cls = malloc(cap ? cap : 1);
    if (!tail || !head || !time_ms || !len || !cls)
        goto out;
    for (size_t w = 0; w < im->nways; w++) {
        const struct osm_way *way = &im->ways[w];
        for (uint32_t k = 0; k + 1 < way->count; k++) {
            int64_t *pa = find_id(im, im->refs[way->first + k]);
            int64_t *pb = find_id(im, im->refs[way->first + k + 1]);
            if (!pa || !pb)
                continue;
            uint32_t a = gid[pa - im->ids], b = gid[pb - im->ids];
            if (a == GEO_NONE || b == GEO_NONE || a == b)
                continue;
            size_t ia = (size_t)(pa - im->ids), ib = (size_t)(pb - im->ids);
            double d = geo_distance_m(im->lat_e7[ia] / GEO_E7, im->lon_e7[ia] / GEO_E7,
                                      im->lat_e7[ib] / GEO_E7, im->lon_e7[ib] / GEO_E7);
            double ms = d / (way->kmh / 3.6) * 1000.0;
            uint32_t t = ms < 1 ? 1 : ms > 86400000.0 ? 86400000u : (uint32_t)lround(ms);
            for (int dir = 0; dir < 2; dir++) {
                if ((dir == 0 && way->oneway < 0) || (dir == 1 && way->oneway > 0))
                    continue;
                tail[m] = dir ? b : a;
                head[m] = dir ? a : b;
                time_ms[m] = t;
                len[m] = (float)d;
                cls[m] = way->rclass;
                m++;
            }
        }
    }

    /* CSR for the component search. */
    first = calloc((size_t)n + 1, sizeof(uint32_t));
    adj = malloc((m ? m : 1) * sizeof(uint32_t));
    keep = malloc(n ? n : 1);
    if (!first || !adj || !keep)
        goto out;
    for (size_t j = 0; j < m; j++)
        first[tail[j] + 1]++;
    for (uint32_t v = 0; v < n; v++)
        first[v + 1] += first[v];
    for (size_t j = 0; j < m; j++)
        adj[first[tail[j]]++] = head[j];
    for (uint32_t v = n; v > 0; v--)
        first[v] = first[v - 1];
    first[0] = 0;
    uint32_t kept = 0;
    if ((rc = largest_scc(n, first, adj, keep, &kept)) != 0)
        goto out;
    if (kept < 2) {
        rc = fail(im, AM_EINVAL, "no drivable road in the file");
        goto out;
    }

    /* Renumber the kept nodes and edges. */
    rc = AM_ENOMEM;
    newid = malloc((n ? n : 1) * sizeof(uint32_t));
    lat = malloc((size_t)kept * sizeof(double));
    lon = malloc((size_t)kept * sizeof(double));
    t2 = malloc((m ? m : 1) * sizeof(uint32_t));
    h2 = malloc((m ? m : 1) * sizeof(uint32_t));
    tm2 = malloc((m ? m : 1) * sizeof(uint32_t));
    len2 = malloc((m ? m : 1) * sizeof(float));
    cls2 = malloc(m ? m : 1);
    if (!newid || !lat || !lon || !t2 || !h2 || !tm2 || !len2 || !cls2)
        goto out;
    int64_t *osm = malloc((size_t)kept * sizeof(int64_t));
    if (!osm)
        goto out;
    uint32_t k = 0;
    for (size_t i = 0; i < im->nids; i++) {
        uint32_t v = gid[i];
        if (v == GEO_NONE)
            continue;
        newid[v] = keep[v] ? k : GEO_NONE;
        if (keep[v]) {
            lat[k] = im->lat_e7[i] / GEO_E7;
            lon[k] = im->lon_e7[i] / GEO_E7;
            osm[k] = im->ids[i];
            k++;
        }
    }
    uint32_t m2 = 0;
    for (size_t j = 0; j < m; j++) {
        if (!keep[tail[j]] || !keep[head[j]])
            continue;
        t2[m2] = newid[tail[j]];
        h2[m2] = newid[head[j]];
        tm2[m2] = time_ms[j];
        len2[m2] = len[j];
        cls2[m2] = cls[j];
        m2++;
    }
    struct geo_roads *g = NULL;
    char why[200];
    rc = geo_roads_from_edges(kept, lat, lon, m2, t2, h2, tm2, len2, cls2, &g, why, sizeof(why));
    if (rc) {
        free(osm);
        fail(im, rc, "%s", why);
        goto out;
    }
    /* from_edges keeps node order, so the OSM ids line up. */
    free(g->osm_id);
    g->osm_id = osm;
    g->dropped_nodes = n - kept;
    *out = g;
out:
    if (rc == AM_ENOMEM)
        fail(im, rc, "out of memory");
    free(gid);
    free(tail);
    free(head);
    free(time_ms);
    free(len);
    free(cls);
    free(first);
    free(adj);
    free(keep);
    free(newid);
    free(lat);
    free(lon);
    free(t2);
    free(h2);
    free(tm2);
    free(len2);
    free(cls2);
    return rc;
}

/* Builds the street index of graph g from the named ways and their nodes. */
static int build_streets(struct osm_import *im, struct geo_roads *g)
{
    int rc = AM_ENOMEM;
    size_t total = 0;
    for (size_t i = 0; i < im->nnamed; i++)
        total += im->ways[im->named[i].way].count;
    int32_t *lat = malloc((total ? total : 1) * sizeof(int32_t));
    int32_t *lon = malloc((total ? total : 1) * sizeof(int32_t));
    struct geo_street_way *sw = calloc(im->nnamed ? im->nnamed : 1, sizeof(*sw));
    if (!lat || !lon || !sw)
        goto out;
    size_t at = 0;
    for (size_t i = 0; i < im->nnamed; i++) {
        const struct osm_way *way = &im->ways[im->named[i].way];
        sw[i].lat_e7 = lat + at;
        sw[i].lon_e7 = lon + at;
        for (uint32_t k = 0; k < way->count; k++) {
            int64_t *p = find_id(im, im->refs[way->first + k]);
            if (!p || !im->found[p - im->ids])
                continue;
            lat[at] = im->lat_e7[p - im->ids];
            lon[at] = im->lon_e7[p - im->ids];
            at++;
            sw[i].npoints++;
        }
        for (int k = 0; k < GEO_WN_COUNT; k++)
            sw[i].names[k] = im->named[i].name[k] ? im->names + im->named[i].name[k] - 1 : NULL;
    }
    rc = geo_streets_build(g, sw, im->nnamed, &g->streets);
out:
    if (rc)
        fail(im, rc, rc == AM_ENOMEM ? "out of memory" : "too many streets");
    free(lat);
    free(lon);
    free(sw);
    return rc;
}

/* The import itself, in this process. */
static int import_here(const char *path, const struct geo_roads_import_opts *opts,
                       struct geo_roads **out, char *why, size_t whysz)
{
    *out = NULL;
    struct osm_import im = {.opts = opts, .why = why, .whysz = whysz, .path = path};
    if (why && whysz)
        why[0] = '\0';
    size_t pl = strlen(path);
    if (!(pl > 4 && (strcmp(path + pl - 4, ".osm") == 0 || strcmp(path + pl - 4, ".pbf") == 0)))
        return fail(&im, AM_EINVAL, "not a .osm or .pbf file");
    struct stat sb;
    if (stat(path, &sb))
        return fail(&im, errno == ENOENT ? AM_ENOTFOUND : AM_EIO, "cannot open: %s",
                    strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return fail(&im, AM_EIO, "not a regular file");

    int rc = parse(&im, NULL, on_way);
    if (rc)
        goto out;
    if (im.nways == 0) {
        rc = fail(&im, AM_EINVAL, "no drivable road in the file");
        goto out;
    }
    /* The node ids used, sorted and unique. */
    im.ids = malloc(im.nrefs * sizeof(int64_t));
    if (!im.ids) {
        rc = fail(&im, AM_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(im.ids, im.refs, im.nrefs * sizeof(int64_t));
    qsort(im.ids, im.nrefs, sizeof(int64_t), cmp_i64);
    for (size_t i = 0; i < im.nrefs; i++)
        if (im.nids == 0 || im.ids[im.nids - 1] != im.ids[i])
            im.ids[im.nids++] = im.ids[i];
    im.lat_e7 = malloc(im.nids * sizeof(int32_t));
    im.lon_e7 = malloc(im.nids * sizeof(int32_t));
    im.found = calloc(im.nids, sizeof(bool));
    if (!im.lat_e7 || !im.lon_e7 || !im.found) {
        rc = fail(&im, AM_ENOMEM, "out of memory");
        goto out;
    }
    rc = parse(&im, on_node, NULL);
    if (rc == 0)
        rc = build(&im, out);
    if (rc == 0 && (rc = build_streets(&im, *out)) != 0) {
        geo_roads_free(*out);
        *out = NULL;
    }
out:
    free(im.ways);
    free(im.refs);
    free(im.named);
    free(im.names);
    free(im.ids);
    free(im.lat_e7);
    free(im.lon_e7);
    free(im.found);
    return rc;
}

/*
 * readosm 1.1.0 crashes on some damaged files (a <tag> without k or v, PBF
 * string indexes out of range, varints cut short: docs/routing.md), and no
 * input may crash amaned. So the file is read in a child process, which
 * hands the graph back through a temporary graph file: a crash there is an
 * error here. It costs a save and a load (5 ms for Casablanca).
 */
int geo_roads_import(const char *path, const struct geo_roads_import_opts *opts,
                     struct geo_roads **out, char *why, size_t whysz)
{
    *out = NULL;
    if (opts && opts->in_process)
        return import_here(path, opts, out, why, whysz);
    const char *dir = getenv("TMPDIR");
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s/amane-roads-XXXXXX", dir && dir[0] ? dir : "/tmp");
    int fd = mkstemp(tmp);
    if (fd < 0)
        return fail(&(struct osm_import){.why = why, .whysz = whysz, .path = path}, AM_EIO,
                    "cannot create a temporary file: %s", strerror(errno));
    close(fd);
    int pfd[2];
    if (pipe(pfd)) {
        unlink(tmp);
        return fail(&(struct osm_import){.why = why, .whysz = whysz, .path = path}, AM_EIO,
                    "cannot make a pipe: %s", strerror(errno));
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        struct geo_roads *g = NULL;
        char msg[512] = "";
        int rc = import_here(path, opts, &g, msg, sizeof(msg));
        if (rc == 0)
            rc = geo_roads_save(g, tmp, msg, sizeof(msg));
        struct {
            int rc;
            char msg[512];
        } res = {rc, ""};
        am_strlcpy(res.msg, msg, sizeof(res.msg));
        ssize_t w = write(pfd[1], &res, sizeof(res));
        _exit(w == (ssize_t)sizeof(res) ? 0 : 1);
    }
    close(pfd[1]);
    int rc = 0;
    struct {
        int rc;
        char msg[512];
    } res;
    size_t got = 0;
    while (pid > 0 && got < sizeof(res)) {
        ssize_t r = read(pfd[0], (char *)&res + got, sizeof(res) - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(pfd[0]);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    struct osm_import im = {.why = why, .whysz = whysz, .path = path};
    if (pid < 0)
        rc = fail(&im, AM_EIO, "cannot start the OSM reader: %s", strerror(errno));
    else if (got != sizeof(res) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        rc = fail(&im, AM_EINVAL, "the OSM reader failed on this file (%s %d): it is damaged",
                  WIFSIGNALED(status) ? "signal" : "status",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    else if (res.rc) {
        res.msg[sizeof(res.msg) - 1] = '\0';
        if (why && whysz)
            snprintf(why, whysz, "%s", res.msg);
        rc = res.rc;
    } else {
        rc = geo_roads_load(tmp, out, why, whysz);
    }
    unlink(tmp);
    return rc;
}
