/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * roads.c - the road graph once it is built: its derived indexes (tails,
 * in-edges, the snapping grid), the graph file, snapping a point to the
 * nearest road, and the searches a dispatcher needs: travel times from many
 * units to one incident in one reversed Dijkstra, and one route with its
 * geometry. The importer is osm.c; the contraction hierarchy roads_ch.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "geo/roads_int.h"

static const char *const class_names[GEO_RC_COUNT] = {
    "motorway",     "trunk",       "primary",       "secondary", "tertiary",
    "unclassified", "residential", "living_street", "service",
};

const char *geo_road_class_name(int rc)
{
    return rc >= 0 && rc < GEO_RC_COUNT ? class_names[rc] : NULL;
}

/* ---------------------------------------------------------------- life cycle */

struct geo_roads *geo_roads_alloc(void)
{
    struct geo_roads *g = calloc(1, sizeof(*g));
    if (g)
        pthread_mutex_init(&g->ws_mu, NULL);
    return g;
}

static void ws_free(struct geo_ws *ws)
{
    if (!ws)
        return;
    free(ws->stamp);
    free(ws->dist);
    free(ws->len);
    free(ws->parent);
    free(ws->heap);
    free(ws->heappos);
    free(ws->astamp);
    free(ws->ahead);
    free(ws->scratch);
    free(ws);
}

void geo_roads_free(struct geo_roads *g)
{
    if (!g)
        return;
    while (g->ws_free) {
        struct geo_ws *ws = g->ws_free;
        g->ws_free = ws->next;
        ws_free(ws);
    }
    pthread_mutex_destroy(&g->ws_mu);
    free(g->lat_e7);
    free(g->lon_e7);
    free(g->osm_id);
    free(g->first_out);
    free(g->head);
    free(g->tail);
    free(g->time_ms);
    free(g->length_m);
    free(g->rclass);
    free(g->first_in);
    free(g->in_edge);
    free(g->cell_first);
    free(g->cell_edges);
    geo_streets_free(g->streets);
    free(g);
}

struct geo_ws *geo_ws_get(const struct geo_roads *g)
{
    struct geo_roads *mg = (struct geo_roads *)g; /* the pool is the only mutable part */
    pthread_mutex_lock(&mg->ws_mu);
    struct geo_ws *ws = mg->ws_free;
    if (ws)
        mg->ws_free = ws->next;
    pthread_mutex_unlock(&mg->ws_mu);
    if (ws)
        return ws;
    size_t n = g->n ? g->n : 1;
    ws = calloc(1, sizeof(*ws));
    if (!ws)
        return NULL;
    ws->stamp = calloc(n, sizeof(uint32_t));
    ws->dist = malloc(n * sizeof(uint32_t));
    ws->len = malloc(n * sizeof(float));
    ws->parent = malloc(n * sizeof(uint32_t));
    ws->heap = malloc(n * sizeof(uint32_t));
    ws->heappos = calloc(n, sizeof(uint32_t));
    ws->astamp = calloc(n, sizeof(uint32_t));
    ws->ahead = malloc(n * sizeof(uint32_t));
    if (!ws->stamp || !ws->dist || !ws->len || !ws->parent || !ws->heap || !ws->heappos ||
        !ws->astamp || !ws->ahead) {
        ws_free(ws);
        return NULL;
    }
    return ws;
}

void geo_ws_put(const struct geo_roads *g, struct geo_ws *ws)
{
    struct geo_roads *mg = (struct geo_roads *)g;
    if (!ws)
        return;
    pthread_mutex_lock(&mg->ws_mu);
    ws->next = mg->ws_free;
    mg->ws_free = ws;
    pthread_mutex_unlock(&mg->ws_mu);
}

/* Starts a new search in ws: every node's entries become stale at once. */
static void ws_begin(const struct geo_roads *g, struct geo_ws *ws)
{
    if (++ws->gen == 0) { /* after 4 billion searches the stamps wrap */
        memset(ws->stamp, 0, (size_t)g->n * sizeof(uint32_t));
        memset(ws->astamp, 0, (size_t)g->n * sizeof(uint32_t));
        ws->gen = 1;
    }
    ws->heapn = 0;
}

/* ---------------------------------------------------------------- heap */

static void heap_up(struct geo_ws *ws, uint32_t i)
{
    uint32_t v = ws->heap[i], d = ws->dist[v];
    while (i > 0) {
        uint32_t p = (i - 1) / 2, pv = ws->heap[p];
        if (ws->dist[pv] <= d)
            break;
        ws->heap[i] = pv;
        ws->heappos[pv] = i + 1;
        i = p;
    }
    ws->heap[i] = v;
    ws->heappos[v] = i + 1;
}

static void heap_down(struct geo_ws *ws, uint32_t i)
{
    uint32_t v = ws->heap[i], d = ws->dist[v];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= ws->heapn)
            break;
        if (c + 1 < ws->heapn && ws->dist[ws->heap[c + 1]] < ws->dist[ws->heap[c]])
            c++;
        if (ws->dist[ws->heap[c]] >= d)
            break;
        ws->heap[i] = ws->heap[c];
        ws->heappos[ws->heap[i]] = i + 1;
        i = c;
    }
    ws->heap[i] = v;
    ws->heappos[v] = i + 1;
}

/* Lowers node v's distance to d (with length len, reached by edge e) if that is better. */
static void relax(struct geo_ws *ws, uint32_t v, uint32_t d, float len, uint32_t e)
{
    if (ws->stamp[v] != ws->gen) {
        ws->stamp[v] = ws->gen;
        ws->dist[v] = d;
        ws->len[v] = len;
        ws->parent[v] = e;
        ws->heap[ws->heapn] = v;
        ws->heapn++;
        heap_up(ws, ws->heapn - 1);
    } else if (d < ws->dist[v] && ws->heappos[v]) {
        ws->dist[v] = d;
        ws->len[v] = len;
        ws->parent[v] = e;
        heap_up(ws, ws->heappos[v] - 1);
    }
}

static uint32_t heap_pop(struct geo_ws *ws)
{
    uint32_t v = ws->heap[0];
    ws->heappos[v] = 0;
    ws->heapn--;
    if (ws->heapn) {
        ws->heap[0] = ws->heap[ws->heapn];
        heap_down(ws, 0);
    }
    return v;
}

/* ---------------------------------------------------------------- building */

static int build_grid(struct geo_roads *g)
{
    uint32_t indexed = 0;
    for (uint32_t e = 0; e < g->m; e++)
        if (g->tail[e] < g->head[e] || geo_roads_twin(g, e) == GEO_NONE)
            indexed++;
    double w = g->max_lon - g->min_lon, h = g->max_lat - g->min_lat;
    /* About two listed edges per cell, cells no smaller than ~50 m, at most 16 M cells. */
    double cell = sqrt((w * h) / (indexed / 2.0 + 1));
    if (!(cell >= 0.0005))
        cell = 0.0005;
    while ((w / cell + 1) * (h / cell + 1) > 16e6)
        cell *= 1.5;
    g->cell_deg = cell;
    g->cols = (uint32_t)(w / cell) + 1;
    g->rows = (uint32_t)(h / cell) + 1;
    size_t ncells = (size_t)g->cols * g->rows;
    g->cell_first = calloc(ncells + 1, sizeof(uint32_t));
    if (!g->cell_first)
        return AM_ENOMEM;

    /* Two passes: count the cells each edge's box covers, then fill. */
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t e = 0; e < g->m; e++) {
            if (!(g->tail[e] < g->head[e] || geo_roads_twin(g, e) == GEO_NONE))
                continue;
            uint32_t a = g->tail[e], b = g->head[e];
            double la0 = fmin(g->lat_e7[a], g->lat_e7[b]) / GEO_E7;
            double la1 = fmax(g->lat_e7[a], g->lat_e7[b]) / GEO_E7;
            double lo0 = fmin(g->lon_e7[a], g->lon_e7[b]) / GEO_E7;
            double lo1 = fmax(g->lon_e7[a], g->lon_e7[b]) / GEO_E7;
            uint32_t c0 = (uint32_t)((lo0 - g->min_lon) / cell);
            uint32_t c1 = (uint32_t)((lo1 - g->min_lon) / cell);
            uint32_t r0 = (uint32_t)((la0 - g->min_lat) / cell);
            uint32_t r1 = (uint32_t)((la1 - g->min_lat) / cell);
            if (c1 >= g->cols)
                c1 = g->cols - 1;
            if (r1 >= g->rows)
                r1 = g->rows - 1;
            for (uint32_t r = r0; r <= r1; r++)
                for (uint32_t c = c0; c <= c1; c++) {
                    size_t k = (size_t)r * g->cols + c;
                    if (pass == 0) {
                        g->cell_first[k + 1]++;
                        total++;
                    } else {
                        g->cell_edges[g->cell_first[k]++] = e;
                    }
                }
        }
        if (pass == 0) {
            if (total > UINT32_MAX)
                return AM_ETOOBIG;
            for (size_t k = 0; k < ncells; k++)
                g->cell_first[k + 1] += g->cell_first[k];
            g->cell_edges = malloc((total ? total : 1) * sizeof(uint32_t));
            if (!g->cell_edges)
                return AM_ENOMEM;
        }
    }
    /* The fill advanced each cell's start to the next's: shift back. */
    for (size_t k = ncells; k > 0; k--)
        g->cell_first[k] = g->cell_first[k - 1];
    g->cell_first[0] = 0;
    return 0;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

int geo_roads_finish(struct geo_roads *g)
{
    uint32_t n = g->n, m = g->m;
    g->tail = malloc((m ? m : 1) * sizeof(uint32_t));
    g->first_in = calloc((size_t)n + 1, sizeof(uint32_t));
    g->in_edge = malloc((m ? m : 1) * sizeof(uint32_t));
    if (!g->tail || !g->first_in || !g->in_edge)
        return AM_ENOMEM;
    for (uint32_t v = 0; v < n; v++)
        for (uint32_t e = g->first_out[v]; e < g->first_out[v + 1]; e++) {
            g->tail[e] = v;
            g->first_in[g->head[e] + 1]++;
        }
    for (uint32_t v = 0; v < n; v++)
        g->first_in[v + 1] += g->first_in[v];
    for (uint32_t e = 0; e < m; e++)
        g->in_edge[g->first_in[g->head[e]]++] = e;
    for (uint32_t v = n; v > 0; v--)
        g->first_in[v] = g->first_in[v - 1];
    g->first_in[0] = 0;

    g->min_lat = g->min_lon = INFINITY;
    g->max_lat = g->max_lon = -INFINITY;
    for (uint32_t v = 0; v < n; v++) {
        double la = g->lat_e7[v] / GEO_E7, lo = g->lon_e7[v] / GEO_E7;
        g->min_lat = fmin(g->min_lat, la);
        g->max_lat = fmax(g->max_lat, la);
        g->min_lon = fmin(g->min_lon, lo);
        g->max_lon = fmax(g->max_lon, lo);
    }
    if (n == 0)
        g->min_lat = g->min_lon = g->max_lat = g->max_lon = 0;
    uint64_t h = fnv1a(14695981039346656037ull, &g->n, sizeof(g->n));
    h = fnv1a(h, &g->m, sizeof(g->m));
    h = fnv1a(h, g->lat_e7, (size_t)n * sizeof(int32_t));
    h = fnv1a(h, g->lon_e7, (size_t)n * sizeof(int32_t));
    h = fnv1a(h, g->first_out, ((size_t)n + 1) * sizeof(uint32_t));
    h = fnv1a(h, g->head, (size_t)m * sizeof(uint32_t));
    g->id = fnv1a(h, g->time_ms, (size_t)m * sizeof(uint32_t));
    return build_grid(g);
}

uint32_t geo_roads_twin(const struct geo_roads *g, uint32_t e)
{
    uint32_t a = g->tail[e], b = g->head[e];
    for (uint32_t f = g->first_out[b]; f < g->first_out[b + 1]; f++)
        if (g->head[f] == a)
            return f;
    return GEO_NONE;
}

static bool coord_ok(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180;
}

int geo_roads_from_edges(uint32_t n, const double *lat, const double *lon, uint32_t m,
                         const uint32_t *tail, const uint32_t *head, const uint32_t *time_ms,
                         const float *length_m, const uint8_t *rclass, struct geo_roads **out,
                         char *why, size_t whysz)
{
    *out = NULL;
    if (n > GEO_ROADS_MAX_NODES || m > GEO_ROADS_MAX_EDGES)
        return am_why(why, whysz, AM_ETOOBIG, "%u nodes, %u edges: more than %u or %u", n, m,
                      GEO_ROADS_MAX_NODES, GEO_ROADS_MAX_EDGES);
    if ((n && (!lat || !lon)) || (m && (!tail || !head || !time_ms || !length_m)))
        return am_why(why, whysz, AM_EINVAL, "missing array");
    for (uint32_t i = 0; i < n; i++)
        if (!coord_ok(lat[i], lon[i]))
            return am_why(why, whysz, AM_EINVAL, "node %u: coordinates out of range", i);
    for (uint32_t j = 0; j < m; j++) {
        if (tail[j] >= n || head[j] >= n)
            return am_why(why, whysz, AM_EINVAL, "edge %u: node out of range", j);
        if (time_ms[j] == 0 || time_ms[j] > 86400000u)
            return am_why(why, whysz, AM_EINVAL, "edge %u: time must be 1 ms to 1 day", j);
        if (!(length_m[j] >= 0) || !isfinite(length_m[j]))
            return am_why(why, whysz, AM_EINVAL, "edge %u: bad length", j);
        if (rclass && rclass[j] >= GEO_RC_COUNT)
            return am_why(why, whysz, AM_EINVAL, "edge %u: bad road class", j);
    }
    struct geo_roads *g = geo_roads_alloc();
    if (!g)
        return AM_ENOMEM;
    int rc = AM_ENOMEM;
    g->n = n;
    g->lat_e7 = malloc((n ? n : 1) * sizeof(int32_t));
    g->lon_e7 = malloc((n ? n : 1) * sizeof(int32_t));
    g->osm_id = calloc(n ? n : 1, sizeof(int64_t));
    g->first_out = calloc((size_t)n + 1, sizeof(uint32_t));
    g->head = malloc((m ? m : 1) * sizeof(uint32_t));
    g->time_ms = malloc((m ? m : 1) * sizeof(uint32_t));
    g->length_m = malloc((m ? m : 1) * sizeof(float));
    g->rclass = malloc(m ? m : 1);
    if (!g->lat_e7 || !g->lon_e7 || !g->osm_id || !g->first_out || !g->head || !g->time_ms ||
        !g->length_m || !g->rclass)
        goto out;
    for (uint32_t i = 0; i < n; i++) {
        g->lat_e7[i] = (int32_t)lround(lat[i] * GEO_E7);
        g->lon_e7[i] = (int32_t)lround(lon[i] * GEO_E7);
    }
    /* Counting sort of the edges by tail, dropping self-loops. */
    for (uint32_t j = 0; j < m; j++)
        if (tail[j] != head[j])
            g->first_out[tail[j] + 1]++;
    for (uint32_t i = 0; i < n; i++)
        g->first_out[i + 1] += g->first_out[i];
    g->m = g->first_out[n];
    for (uint32_t j = 0; j < m; j++) {
        if (tail[j] == head[j])
            continue;
        uint32_t k = g->first_out[tail[j]]++;
        g->head[k] = head[j];
        g->time_ms[k] = time_ms[j];
        g->length_m[k] = length_m[j];
        g->rclass[k] = rclass ? rclass[j] : GEO_RC_UNCLASSIFIED;
    }
    for (uint32_t i = n; i > 0; i--)
        g->first_out[i] = g->first_out[i - 1];
    g->first_out[0] = 0;
    rc = geo_roads_finish(g);
out:
    if (rc) {
        geo_roads_free(g);
        return rc == AM_ENOMEM ? am_why(why, whysz, rc, "out of memory") : rc;
    }
    *out = g;
    return 0;
}

/* ---------------------------------------------------------------- info */

void geo_roads_info(const struct geo_roads *g, struct geo_roads_info *info)
{
    memset(info, 0, sizeof(*info));
    info->nodes = g->n;
    info->edges = g->m;
    info->dropped_nodes = g->dropped_nodes;
    info->min_lat = g->min_lat;
    info->min_lon = g->min_lon;
    info->max_lat = g->max_lat;
    info->max_lon = g->max_lon;
    double len = 0;
    for (uint32_t e = 0; e < g->m; e++) {
        len += g->length_m[e];
        info->edges_by_class[g->rclass[e]]++;
    }
    info->length_km = len / 1000.0;
}

bool geo_roads_node(const struct geo_roads *g, uint32_t i, double *lat, double *lon)
{
    if (i >= g->n)
        return false;
    *lat = g->lat_e7[i] / GEO_E7;
    *lon = g->lon_e7[i] / GEO_E7;
    return true;
}

bool geo_roads_edge(const struct geo_roads *g, uint32_t e, struct geo_road_edge *out)
{
    if (e >= g->m)
        return false;
    out->tail = g->tail[e];
    out->head = g->head[e];
    out->twin = geo_roads_twin(g, e);
    out->time_ms = g->time_ms[e];
    out->length_m = g->length_m[e];
    out->rclass = g->rclass[e];
    return true;
}

/* ---------------------------------------------------------------- file */

/*
 * Format 2 appends the street index (streets.c) after the arrays, covered
 * by the same checksum; format 1 files (no index, streets_len 0, which was
 * a reserved zero) are still read, as a graph without street index.
 */
#define ROADS_MAGIC       "AMROADS\1"
#define ROADS_VERSION     2u
#define ROADS_VERSION_OLD 1u
#define ROADS_ENDIAN      0x01020304u
/* Bytes of a stored street index at most. */
#define ROADS_MAX_STREETS_BYTES (1024u * 1024 * 1024)

struct roads_file_header {
    char magic[8];
    uint32_t version, endian;
    uint32_t n, m, dropped;
    uint32_t streets_len; /* bytes of the street index after the arrays; 0 in format 1 */
    uint8_t sha256[AM_SHA256_LEN];
};

/* The arrays of a graph file, in order: where each lives and its size. */
struct roads_part {
    void **ptr;
    size_t size;
};

static size_t roads_parts(struct geo_roads *g, struct roads_part *p)
{
    size_t n = g->n, m = g->m, k = 0;
    p[k++] = (struct roads_part){(void **)&g->lat_e7, n * sizeof(int32_t)};
    p[k++] = (struct roads_part){(void **)&g->lon_e7, n * sizeof(int32_t)};
    p[k++] = (struct roads_part){(void **)&g->osm_id, n * sizeof(int64_t)};
    p[k++] = (struct roads_part){(void **)&g->first_out, (n + 1) * sizeof(uint32_t)};
    p[k++] = (struct roads_part){(void **)&g->head, m * sizeof(uint32_t)};
    p[k++] = (struct roads_part){(void **)&g->time_ms, m * sizeof(uint32_t)};
    p[k++] = (struct roads_part){(void **)&g->length_m, m * sizeof(float)};
    p[k++] = (struct roads_part){(void **)&g->rclass, m};
    return k;
}

/* The checksum of a graph file: SHA-256 of its header (checksum zeroed) and its arrays. */
static void file_sum(const struct roads_file_header *h, const char *payload, size_t total,
                     uint8_t out[AM_SHA256_LEN])
{
    struct roads_file_header z = *h;
    memset(z.sha256, 0, sizeof(z.sha256));
    char *buf = malloc(sizeof(z) + total);
    if (!buf) {
        memset(out, 0xff, AM_SHA256_LEN); /* never matches a stored sum of real data */
        return;
    }
    memcpy(buf, &z, sizeof(z));
    if (total)
        memcpy(buf + sizeof(z), payload, total);
    am_sha256(buf, sizeof(z) + total, out);
    free(buf);
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return AM_EIO;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int geo_roads_save(const struct geo_roads *g, const char *path, char *why, size_t whysz)
{
    struct geo_roads copy = *g; /* roads_parts() wants pointers to the array fields */
    struct roads_part parts[8];
    size_t np = roads_parts(&copy, parts), total = 0;
    for (size_t i = 0; i < np; i++)
        total += parts[i].size;
    char *streets = NULL;
    size_t slen = 0;
    if (g->streets && geo_streets_serialize(g->streets, &streets, &slen))
        return am_why(why, whysz, AM_ENOMEM, "out of memory");
    if (slen > ROADS_MAX_STREETS_BYTES) {
        free(streets);
        return am_why(why, whysz, AM_ETOOBIG, "street index of %zu bytes: too big", slen);
    }
    char *payload = malloc(total + slen + 1);
    if (!payload) {
        free(streets);
        return am_why(why, whysz, AM_ENOMEM, "out of memory");
    }
    size_t off = 0;
    for (size_t i = 0; i < np; i++) {
        if (parts[i].size)
            memcpy(payload + off, *parts[i].ptr, parts[i].size);
        off += parts[i].size;
    }
    if (slen)
        memcpy(payload + total, streets, slen);
    free(streets);
    total += slen;
    struct roads_file_header h = {0};
    memcpy(h.magic, ROADS_MAGIC, 8);
    h.version = ROADS_VERSION;
    h.endian = ROADS_ENDIAN;
    h.n = g->n;
    h.m = g->m;
    h.dropped = g->dropped_nodes;
    h.streets_len = (uint32_t)slen;
    file_sum(&h, payload, total, h.sha256);

    char tmp[4096];
    int rc = 0, fd = -1;
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        rc = am_why(why, whysz, AM_EINVAL, "path too long");
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = am_why(why, whysz, AM_EIO, "cannot create '%s': %s", tmp, strerror(errno));
        goto out;
    }
    if (write_all(fd, &h, sizeof(h)) || write_all(fd, payload, total) || fsync(fd)) {
        rc = am_why(why, whysz, AM_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd)) {
        fd = -1;
        rc = am_why(why, whysz, AM_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path)) {
        rc = am_why(why, whysz, AM_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                    strerror(errno));
        goto out;
    }
out:
    if (fd >= 0)
        close(fd);
    if (rc)
        unlink(tmp);
    free(payload);
    return rc;
}

/* Checks the arrays of a graph read from a file; on success 0 with why untouched. */
static int check_graph(const struct geo_roads *g, char *why, size_t whysz)
{
    if (g->first_out[0] != 0 || g->first_out[g->n] != g->m)
        return am_why(why, whysz, AM_ECORRUPT, "edge index does not match the edge count");
    for (uint32_t i = 0; i < g->n; i++) {
        if (g->first_out[i] > g->first_out[i + 1])
            return am_why(why, whysz, AM_ECORRUPT, "edge index not ordered at node %u", i);
        if (!coord_ok(g->lat_e7[i] / GEO_E7, g->lon_e7[i] / GEO_E7))
            return am_why(why, whysz, AM_ECORRUPT, "node %u: coordinates out of range", i);
    }
    for (uint32_t e = 0; e < g->m; e++) {
        if (g->head[e] >= g->n)
            return am_why(why, whysz, AM_ECORRUPT, "edge %u: node out of range", e);
        if (g->time_ms[e] == 0 || g->time_ms[e] > 86400000u)
            return am_why(why, whysz, AM_ECORRUPT, "edge %u: bad time", e);
        if (!(g->length_m[e] >= 0) || !isfinite(g->length_m[e]))
            return am_why(why, whysz, AM_ECORRUPT, "edge %u: bad length", e);
        if (g->rclass[e] >= GEO_RC_COUNT)
            return am_why(why, whysz, AM_ECORRUPT, "edge %u: bad road class", e);
    }
    return 0;
}

int geo_roads_load(const char *path, struct geo_roads **out, char *why, size_t whysz)
{
    *out = NULL;
    int rc = 0;
    struct geo_roads *g = NULL;
    char *payload = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return am_why(why, whysz, errno == ENOENT ? AM_ENOTFOUND : AM_EIO, "cannot open '%s': %s",
                      path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
        rc = am_why(why, whysz, AM_EIO, "'%s' is not a regular file", path);
        goto out;
    }
    struct roads_file_header h;
    if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.magic, ROADS_MAGIC, 8) != 0) {
        rc = am_why(why, whysz, AM_ECORRUPT, "'%s' is not an amane road graph", path);
        goto out;
    }
    if ((h.version != ROADS_VERSION && h.version != ROADS_VERSION_OLD) ||
        h.endian != ROADS_ENDIAN) {
        rc = am_why(why, whysz, AM_ECORRUPT, "'%s': graph format %u not supported (want %u)", path,
                    h.version, ROADS_VERSION);
        goto out;
    }
    if ((h.version == ROADS_VERSION_OLD && h.streets_len != 0) ||
        h.streets_len > ROADS_MAX_STREETS_BYTES) {
        rc = am_why(why, whysz, AM_ECORRUPT, "'%s': street index of %u bytes", path, h.streets_len);
        goto out;
    }
    /* The size first: a damaged count is damage, not a graph too big. */
    uint64_t want = sizeof(h) + (uint64_t)h.n * (4 + 4 + 8 + 4) + 4 +
                    (uint64_t)h.m * (4 + 4 + 4 + 1) + h.streets_len;
    if ((uint64_t)sb.st_size != want) {
        rc = am_why(why, whysz, AM_ECORRUPT, "'%s': %lld bytes, the header says %llu", path,
                    (long long)sb.st_size, (unsigned long long)want);
        goto out;
    }
    if (h.n > GEO_ROADS_MAX_NODES || h.m > GEO_ROADS_MAX_EDGES) {
        rc = am_why(why, whysz, AM_ETOOBIG, "'%s': %u nodes, %u edges: past the limits", path, h.n,
                    h.m);
        goto out;
    }
    g = geo_roads_alloc();
    if (!g) {
        rc = am_why(why, whysz, AM_ENOMEM, "out of memory");
        goto out;
    }
    g->n = h.n;
    g->m = h.m;
    g->dropped_nodes = h.dropped;
    struct roads_part parts[8];
    size_t np = roads_parts(g, parts), total = 0;
    for (size_t i = 0; i < np; i++)
        total += parts[i].size;
    if ((uint64_t)sb.st_size != sizeof(h) + total + h.streets_len) {
        rc = am_why(why, whysz, AM_ECORRUPT, "'%s': %lld bytes, the header says %zu", path,
                    (long long)sb.st_size, sizeof(h) + total + h.streets_len);
        goto out;
    }
    payload = malloc(total + h.streets_len + 1);
    if (!payload) {
        rc = am_why(why, whysz, AM_ENOMEM, "out of memory");
        goto out;
    }
    if (total + h.streets_len && fread(payload, total + h.streets_len, 1, f) != 1) {
        rc = am_why(why, whysz, AM_EIO, "cannot read '%s'", path);
        goto out;
    }
    uint8_t sum[AM_SHA256_LEN];
    file_sum(&h, payload, total + h.streets_len, sum);
    if (memcmp(sum, h.sha256, sizeof(sum)) != 0) {
        rc = am_why(why, whysz, AM_ECORRUPT, "'%s': checksum mismatch, the file is damaged", path);
        goto out;
    }
    size_t off = 0;
    for (size_t i = 0; i < np; i++) {
        *parts[i].ptr = malloc(parts[i].size ? parts[i].size : 1);
        if (!*parts[i].ptr) {
            rc = am_why(why, whysz, AM_ENOMEM, "out of memory");
            goto out;
        }
        memcpy(*parts[i].ptr, payload + off, parts[i].size);
        off += parts[i].size;
    }
    rc = check_graph(g, why, whysz);
    if (rc == 0 && (rc = geo_roads_finish(g)) != 0)
        am_why(why, whysz, rc, "out of memory");
    if (rc == 0 && h.streets_len)
        rc = geo_streets_deserialize(payload + total, h.streets_len, &g->streets, why, whysz);
out:
    fclose(f);
    free(payload);
    if (rc) {
        if (rc == AM_ECORRUPT && why && whysz && !strstr(why, path)) {
            char inner[256];
            snprintf(inner, sizeof(inner), "%s", why);
            am_why(why, whysz, rc, "'%s': %s", path, inner);
        }
        geo_roads_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int geo_roads_open(const char *path, struct geo_roads **out, char *why, size_t whysz)
{
    if (ends_with(path, ".osm") || ends_with(path, ".pbf"))
        return geo_roads_import(path, NULL, out, why, whysz);
    return geo_roads_load(path, out, why, whysz);
}

/* ---------------------------------------------------------------- snapping */

/* A flat projection around a point: metres per degree of latitude and of longitude. */
static void metres_per_degree(double lat, double *ky, double *kx)
{
    *ky = GEO_EARTH_RADIUS_M * M_PI / 180.0;
    *kx = *ky * cos(lat * M_PI / 180.0);
}

/* Fractions this close to an end (1 cm on a 100 m edge) put the point on the node. */
#define SNAP_END_EPS 1e-4

static void snap_edge(const struct geo_roads *g, uint32_t e, double lat, double lon, double ky,
                      double kx, struct geo_snap *best)
{
    uint32_t a = g->tail[e], b = g->head[e];
    double ax = (g->lon_e7[a] / GEO_E7 - lon) * kx, ay = (g->lat_e7[a] / GEO_E7 - lat) * ky;
    double bx = (g->lon_e7[b] / GEO_E7 - lon) * kx, by = (g->lat_e7[b] / GEO_E7 - lat) * ky;
    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? -(ax * dx + ay * dy) / l2 : 0;
    if (t < 0)
        t = 0;
    if (t > 1)
        t = 1;
    double px = ax + t * dx, py = ay + t * dy, d = sqrt(px * px + py * py);
    if (d < best->dist_m || (d == best->dist_m && e < best->edge)) {
        best->edge = e;
        best->frac = t;
        best->dist_m = d;
    }
}

int geo_roads_snap(const struct geo_roads *g, double lat, double lon, double max_m,
                   struct geo_snap *out)
{
    memset(out, 0, sizeof(*out));
    out->edge = out->twin = GEO_NONE;
    if (!coord_ok(lat, lon) || !(max_m > 0))
        return AM_EINVAL;
    if (g->m == 0)
        return AM_ENOTFOUND;
    double ky, kx;
    metres_per_degree(lat, &ky, &kx);
    double cell_m = g->cell_deg * fmin(ky, kx);
    struct geo_snap best = {.edge = GEO_NONE, .dist_m = INFINITY};
    long cx = (long)floor((lon - g->min_lon) / g->cell_deg);
    long cy = (long)floor((lat - g->min_lat) / g->cell_deg);
    /* Rings of cells around the point's cell; a cell in ring r is at least
     * (r - 1) cells away, so once that exceeds the best (or max_m) we stop. */
    long far = labs(cx) + labs(cy) + (long)g->cols + (long)g->rows;
    double rmax = max_m / cell_m + 2;
    if (rmax < (double)far)
        far = (long)rmax;
    for (long r = 0; r <= far; r++) {
        if (r >= 1 && (double)(r - 1) * cell_m > fmin(best.dist_m, max_m))
            break;
        for (long y = cy - r; y <= cy + r; y++) {
            if (y < 0 || y >= (long)g->rows)
                continue;
            /* The ring's top and bottom rows whole, its other rows at both ends. */
            long step = (y == cy - r || y == cy + r) ? 1 : 2 * r;
            for (long x = cx - r; x <= cx + r; x += step) {
                if (x < 0 || x >= (long)g->cols)
                    continue;
                size_t k = (size_t)y * g->cols + (size_t)x;
                for (uint32_t i = g->cell_first[k]; i < g->cell_first[k + 1]; i++)
                    snap_edge(g, g->cell_edges[i], lat, lon, ky, kx, &best);
            }
        }
    }
    if (best.edge == GEO_NONE || best.dist_m > max_m)
        return AM_ENOTFOUND;
    if (best.frac < SNAP_END_EPS)
        best.frac = 0;
    else if (best.frac > 1 - SNAP_END_EPS)
        best.frac = 1;
    return geo_roads_snap_at(g, best.edge, best.frac, best.dist_m, out);
}

uint64_t geo_roads_id(const struct geo_roads *g)
{
    return g->id;
}

int geo_roads_snap_at(const struct geo_roads *g, uint32_t edge, double frac, double dist_m,
                      struct geo_snap *out)
{
    memset(out, 0, sizeof(*out));
    out->edge = out->twin = GEO_NONE;
    if (edge >= g->m || !(frac >= 0 && frac <= 1) || !(dist_m >= 0))
        return AM_EINVAL;
    uint32_t a = g->tail[edge], b = g->head[edge];
    out->edge = edge;
    out->twin = geo_roads_twin(g, edge);
    out->frac = frac;
    out->dist_m = dist_m;
    /* In double: an edge across the whole world overflows an int32 difference. */
    double la = g->lat_e7[a], lo = g->lon_e7[a];
    out->lat = (la + frac * ((double)g->lat_e7[b] - la)) / GEO_E7;
    out->lon = (lo + frac * ((double)g->lon_e7[b] - lo)) / GEO_E7;
    return 0;
}

/* ---------------------------------------------------------------- searches */

const struct geo_speed_factors geo_speed_emergency = {
    /* motorway trunk primary secondary tertiary unclassified residential living service */
    {1.15, 1.25, 1.35, 1.35, 1.3, 1.2, 1.15, 1.0, 1.0},
};

/* Edge weights under speed factors: the time in ms, divided by the factor of its class. */
struct weights {
    bool plain;
    double inv[GEO_RC_COUNT];
};

static int weights_init(struct weights *w, const struct geo_speed_factors *speed)
{
    w->plain = true;
    for (int c = 0; c < GEO_RC_COUNT; c++) {
        double f = speed ? speed->factor[c] : 1.0;
        if (!(f >= 0.5 && f <= 3.0))
            return AM_EINVAL;
        w->inv[c] = 1.0 / f;
        if (f != 1.0)
            w->plain = false;
    }
    return 0;
}

static inline uint32_t weight(const struct geo_roads *g, const struct weights *w, uint32_t e)
{
    if (w->plain)
        return g->time_ms[e];
    uint32_t t = (uint32_t)lround(g->time_ms[e] * w->inv[g->rclass[e]]);
    return t ? t : 1;
}

/* A part of an edge: `frac` of its time, rounded to the millisecond. */
static inline uint32_t part(uint32_t w, double frac)
{
    return (uint32_t)lround(w * frac);
}

/* Where a source joins the graph: at `node`, after `cost` ms and `len` metres. */
struct attach {
    uint32_t node, cost, next;
    float len;
    uint32_t src;
};

/* A candidate time of a source, in the min-heap of pending candidates. */
struct cand {
    uint64_t ms;
    uint32_t src;
};

struct search {
    const struct geo_roads *g;
    struct geo_ws *ws;
    struct weights w;
    struct attach *att;
    size_t natt;
    uint64_t *best; /* [nsrc] best time in ms, UINT64_MAX if none */
    float *blen;
    uint32_t *via; /* [nsrc] attachment index that gave best, or GEO_NONE for the direct drive */
    bool *final;
    struct cand *ch; /* candidate heap */
    size_t nch, capch;
};

static void cand_push(struct search *s, uint64_t ms, uint32_t src)
{
    size_t i = s->nch++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (s->ch[p].ms <= ms)
            break;
        s->ch[i] = s->ch[p];
        i = p;
    }
    s->ch[i] = (struct cand){ms, src};
}

static struct cand cand_pop(struct search *s)
{
    struct cand top = s->ch[0], last = s->ch[--s->nch];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->nch)
            break;
        if (c + 1 < s->nch && s->ch[c + 1].ms < s->ch[c].ms)
            c++;
        if (s->ch[c].ms >= last.ms)
            break;
        s->ch[i] = s->ch[c];
        i = c;
    }
    if (s->nch)
        s->ch[i] = last;
    return top;
}

static void offer(struct search *s, uint32_t src, uint64_t ms, float len, uint32_t via)
{
    if (ms < s->best[src]) {
        s->best[src] = ms;
        s->blen[src] = len;
        s->via[src] = via;
        cand_push(s, ms, src);
    }
}

static void search_release(struct search *s)
{
    if (s->ws)
        geo_ws_put(s->g, s->ws);
    memset(s, 0, sizeof(*s));
}

static bool snap_ok(const struct geo_roads *g, const struct geo_snap *p)
{
    return p && p->edge < g->m && p->frac >= 0 && p->frac <= 1 &&
           (p->twin == GEO_NONE || (p->twin < g->m && g->tail[p->twin] == g->head[p->edge] &&
                                    g->head[p->twin] == g->tail[p->edge]));
}

/*
 * The reversed Dijkstra from dest, settling nodes by their time to dest and
 * finalising sources as the settled radius passes their best candidate.
 * Stops when `want` counted sources are final. On return s->final says which.
 */
static int search_run(struct search *s, const struct geo_roads *g, const struct geo_snap *dest,
                      const struct geo_snap *src, size_t nsrc, size_t want, const bool *counts,
                      const struct geo_speed_factors *speed)
{
    memset(s, 0, sizeof(*s));
    s->g = g;
    if (weights_init(&s->w, speed) || !snap_ok(g, dest))
        return AM_EINVAL;
    for (size_t i = 0; i < nsrc; i++)
        if (!snap_ok(g, &src[i]))
            return AM_EINVAL;
    if (nsrc > UINT32_MAX / 4)
        return AM_ETOOBIG;
    size_t n1 = nsrc ? nsrc : 1;
    /* The per-source arrays live in the workspace's scratch, kept between searches: no
     * allocation (nor fresh pages to fault in) per recommendation. Each source joins at
     * most twice and is offered at most three times (two joins and the direct drive). */
    s->capch = 3 * n1 + 8;
    size_t need = 2 * n1 * sizeof(*s->att) + n1 * sizeof(*s->best) + n1 * sizeof(*s->blen) +
                  n1 * sizeof(*s->via) + n1 * sizeof(*s->final) + s->capch * sizeof(*s->ch) +
                  6 * 16;
    s->ws = geo_ws_get(g);
    if (!s->ws)
        return AM_ENOMEM;
    if (s->ws->scratch_cap < need) {
        void *p = realloc(s->ws->scratch, need);
        if (!p)
            return AM_ENOMEM;
        s->ws->scratch = p;
        s->ws->scratch_cap = need;
    }
    char *q = s->ws->scratch;
#define CARVE(field, count)                                                                        \
    do {                                                                                           \
        s->field = (void *)q;                                                                      \
        q += ((count) * sizeof(*s->field) + 15) & ~(size_t)15;                                     \
    } while (0)
    CARVE(best, n1);
    CARVE(att, 2 * n1);
    CARVE(ch, s->capch);
    CARVE(blen, n1);
    CARVE(via, n1);
    CARVE(final, n1);
#undef CARVE
    memset(s->final, 0, n1 * sizeof(*s->final));
    struct geo_ws *ws = s->ws;
    ws_begin(g, ws);

    /* Each source joins the graph at its edge's head, or at its tail through
     * the twin, or at the tail itself when it stands on it. */
    for (size_t i = 0; i < nsrc; i++) {
        s->best[i] = UINT64_MAX;
        s->via[i] = GEO_NONE;
        const struct geo_snap *p = &src[i];
        uint32_t e = p->edge, we = weight(g, &s->w, e);
        float le = g->length_m[e];
        struct attach a[3];
        int na = 0;
        a[na++] = (struct attach){g->head[e], part(we, 1 - p->frac), 0, (float)(le * (1 - p->frac)),
                                  (uint32_t)i};
        if (p->twin != GEO_NONE)
            a[na++] = (struct attach){g->tail[e], part(weight(g, &s->w, p->twin), p->frac), 0,
                                      (float)(g->length_m[p->twin] * p->frac), (uint32_t)i};
        else if (p->frac == 0)
            a[na++] = (struct attach){g->tail[e], 0, 0, 0.0f, (uint32_t)i};
        for (int k = 0; k < na; k++) {
            uint32_t v = a[k].node;
            if (ws->astamp[v] != ws->gen) {
                ws->astamp[v] = ws->gen;
                ws->ahead[v] = GEO_NONE;
            }
            a[k].next = ws->ahead[v];
            ws->ahead[v] = (uint32_t)s->natt;
            s->att[s->natt++] = a[k];
        }
        /* Both on the same street: drive straight there if the order allows. */
        uint32_t f = dest->edge;
        if (e == f && p->frac <= dest->frac)
            offer(s, (uint32_t)i, part(we, dest->frac - p->frac),
                  (float)(le * (dest->frac - p->frac)), GEO_NONE);
        else if (e == f && p->twin != GEO_NONE)
            offer(s, (uint32_t)i, part(weight(g, &s->w, p->twin), p->frac - dest->frac),
                  (float)(g->length_m[p->twin] * (p->frac - dest->frac)), GEO_NONE);
        else if (p->twin != GEO_NONE && p->twin == f && 1 - p->frac <= dest->frac)
            offer(s, (uint32_t)i, part(weight(g, &s->w, f), dest->frac - (1 - p->frac)),
                  (float)(g->length_m[f] * (dest->frac - (1 - p->frac))), GEO_NONE);
        else if (p->twin != GEO_NONE && p->twin == f && p->frac <= 1 - dest->frac)
            offer(s, (uint32_t)i, part(we, 1 - dest->frac - p->frac),
                  (float)(le * (1 - dest->frac - p->frac)), GEO_NONE);
    }

    /* The destination is reached from its edge's tail, or from its head through the twin. */
    uint32_t f = dest->edge, wf = weight(g, &s->w, f);
    relax(ws, g->tail[f], part(wf, dest->frac), (float)(g->length_m[f] * dest->frac), GEO_NONE);
    if (dest->twin != GEO_NONE)
        relax(ws, g->head[f], part(weight(g, &s->w, dest->twin), 1 - dest->frac),
              (float)(g->length_m[dest->twin] * (1 - dest->frac)), GEO_NONE);
    else if (dest->frac == 1)
        relax(ws, g->head[f], 0, 0.0f, GEO_NONE);

    size_t done = 0;
    if (want == 0)
        return 0;
    while (ws->heapn) {
        uint32_t u = heap_pop(ws);
        uint32_t d = ws->dist[u];
        /* Every candidate not above the settled radius is final. */
        while (s->nch && s->ch[0].ms <= d) {
            struct cand c = cand_pop(s);
            if (!s->final[c.src] && c.ms == s->best[c.src]) {
                s->final[c.src] = true;
                if (!counts || counts[c.src])
                    done++;
            }
        }
        if (done >= want)
            return 0;
        if (ws->astamp[u] == ws->gen)
            for (uint32_t k = ws->ahead[u]; k != GEO_NONE; k = s->att[k].next) {
                const struct attach *a = &s->att[k];
                if (s->nch + 1 >= s->capch)
                    break; /* cannot happen: at most 3 offers per source plus one direct */
                offer(s, a->src, (uint64_t)d + a->cost, ws->len[u] + a->len, k);
            }
        for (uint32_t i = g->first_in[u]; i < g->first_in[u + 1]; i++) {
            uint32_t e = g->in_edge[i];
            uint64_t dv = (uint64_t)d + weight(g, &s->w, e);
            if (dv < UINT32_MAX) /* a route of 49.7 days or more counts as none */
                relax(ws, g->tail[e], (uint32_t)dv, ws->len[u] + g->length_m[e], e);
        }
    }
    /* Exhausted: every candidate left is final. */
    while (s->nch) {
        struct cand c = cand_pop(s);
        if (!s->final[c.src] && c.ms == s->best[c.src])
            s->final[c.src] = true;
    }
    return 0;
}

int geo_roads_eta_many(const struct geo_roads *g, const struct geo_snap *dest,
                       const struct geo_snap *src, size_t nsrc, size_t want, const bool *counts,
                       const struct geo_speed_factors *speed, struct geo_eta *out)
{
    struct search s;
    int rc = search_run(&s, g, dest, src, nsrc, want, counts, speed);
    if (rc == 0)
        for (size_t i = 0; i < nsrc; i++) {
            bool ok = s.final[i] && s.best[i] != UINT64_MAX;
            out[i].eta_s = ok ? (double)s.best[i] / 1000.0 : INFINITY;
            out[i].length_m = ok ? s.blen[i] : INFINITY;
        }
    search_release(&s);
    return rc;
}

static int rank_cmp(const void *a, const void *b)
{
    const struct geo_rank *x = a, *y = b;
    if (x->eta.eta_s != y->eta.eta_s)
        return x->eta.eta_s < y->eta.eta_s ? -1 : 1;
    return x->src < y->src ? -1 : x->src > y->src;
}

int geo_roads_rank(const struct geo_roads *g, const struct geo_snap *dest,
                   const struct geo_snap *src, size_t nsrc, size_t k, const bool *stale,
                   const struct geo_speed_factors *speed, struct geo_rank *out, size_t *nout)
{
    *nout = 0;
    if (k == 0)
        return weights_init(&(struct weights){0}, speed);
    bool *fresh = malloc((nsrc ? nsrc : 1) * sizeof(bool));
    struct geo_eta *eta = malloc((nsrc ? nsrc : 1) * sizeof(*eta));
    struct geo_rank *all = malloc((nsrc ? nsrc : 1) * sizeof(*all));
    int rc = AM_ENOMEM;
    if (!fresh || !eta || !all)
        goto out;
    for (size_t i = 0; i < nsrc; i++)
        fresh[i] = !(stale && stale[i]);
    rc = geo_roads_eta_many(g, dest, src, nsrc, k, fresh, speed, eta);
    if (rc)
        goto out;
    /* Fresh ones first, then stale ones: two rounds of the same selection. */
    for (int round = 0; round < 2 && *nout < k; round++) {
        size_t n = 0;
        for (size_t i = 0; i < nsrc; i++)
            if (fresh[i] == (round == 0) && isfinite(eta[i].eta_s))
                all[n++] = (struct geo_rank){i, eta[i]};
        qsort(all, n, sizeof(*all), rank_cmp);
        for (size_t i = 0; i < n && *nout < k; i++)
            out[(*nout)++] = all[i];
    }
out:
    free(fresh);
    free(eta);
    free(all);
    return rc;
}

/* Appends a point to a route being built. */
static int route_add(struct geo_route *r, size_t *cap, double lat, double lon)
{
    if (r->npoints == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        double *p = realloc(r->points, 2 * nc * sizeof(double));
        if (!p)
            return AM_ENOMEM;
        r->points = p;
        *cap = nc;
    }
    r->points[2 * r->npoints] = lat;
    r->points[2 * r->npoints + 1] = lon;
    r->npoints++;
    return 0;
}

int geo_roads_route(const struct geo_roads *g, const struct geo_snap *from,
                    const struct geo_snap *to, const struct geo_speed_factors *speed,
                    struct geo_route *r)
{
    memset(r, 0, sizeof(*r));
    if (!from)
        return AM_EINVAL;
    struct search s;
    size_t cap = 0;
    int rc = search_run(&s, g, to, from, 1, 1, NULL, speed);
    if (rc)
        goto out;
    if (!s.final[0] || s.best[0] == UINT64_MAX) {
        rc = AM_ENOTFOUND;
        goto out;
    }
    r->eta_s = (double)s.best[0] / 1000.0;
    r->length_m = s.blen[0];
    rc = route_add(r, &cap, from->lat, from->lon);
    if (s.via[0] != GEO_NONE) {
        /* Through the graph: from the joining node along the parents to a seed of dest. */
        for (uint32_t v = s.att[s.via[0]].node;;) {
            double la = 0, lo = 0;
            geo_roads_node(g, v, &la, &lo);
            if (rc || (rc = route_add(r, &cap, la, lo)) != 0)
                goto out;
            uint32_t e = s.ws->parent[v];
            if (e == GEO_NONE)
                break;
            v = g->head[e];
        }
    }
    if (rc == 0)
        rc = route_add(r, &cap, to->lat, to->lon);
out:
    search_release(&s);
    if (rc)
        geo_route_release(r);
    return rc;
}

void geo_route_release(struct geo_route *r)
{
    if (!r)
        return;
    free(r->points);
    memset(r, 0, sizeof(*r));
}

int geo_roads_node_time(const struct geo_roads *g, uint32_t s, uint32_t t, uint32_t *time_ms)
{
    *time_ms = UINT32_MAX;
    if (s >= g->n || t >= g->n)
        return AM_EINVAL;
    struct geo_ws *ws = geo_ws_get(g);
    if (!ws)
        return AM_ENOMEM;
    ws_begin(g, ws);
    relax(ws, s, 0, 0.0f, GEO_NONE);
    while (ws->heapn) {
        uint32_t u = heap_pop(ws);
        if (u == t) {
            *time_ms = ws->dist[u];
            break;
        }
        for (uint32_t e = g->first_out[u]; e < g->first_out[u + 1]; e++) {
            uint64_t d = (uint64_t)ws->dist[u] + g->time_ms[e];
            if (d < UINT32_MAX) /* a route of 49.7 days or more counts as none */
                relax(ws, g->head[e], (uint32_t)d, 0.0f, e);
        }
    }
    geo_ws_put(g, ws);
    return 0;
}
