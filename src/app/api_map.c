/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * api_map.c - what the command-room console needs to draw its map and take
 * a call without internet: the street search of call intake (a street
 * typed in Arabic or French, found in the road graph's street index), and
 * the map's layers drawn from local data: the roads of the loaded graph and
 * Morocco's regions, prefectures and police sectors. A layer is rendered
 * once per loaded data set (they change only with a restart) and served
 * with an ETag, so that a console reloading the page gets a 304.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"

#define R(x) AM_ROLE_BIT(AM_ROLE_##x)
static const unsigned FIELD = R(ADMIN) | R(SUPERVISOR) | R(DISPATCHER) | R(PATROL);

#define STREETS_Q_MAX         100 /* bytes of a street query */
#define STREETS_LIMIT_MAX     50
#define STREETS_LIMIT_DEFAULT 10

/* ---------------------------------------------------------------- streets */

/* A street name for JSON: null when the data has none. */
static json_t *name_json(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static double round_to(double x, double unit)
{
    return round(x / unit) * unit;
}

static void streets_search(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    const char *q = http_arg(req, "q"), *lim = http_arg(req, "limit");
    size_t qlen = q ? strlen(q) : 0;
    int64_t limit = STREETS_LIMIT_DEFAULT;
    if (!q || qlen < 1 || qlen > STREETS_Q_MAX || !am_utf8_valid(q, qlen) ||
        (lim && am_parse_i64(lim, 1, STREETS_LIMIT_MAX, &limit))) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "q must be 1 to %d bytes of UTF-8 text; limit an integer from 1 to %d",
                     STREETS_Q_MAX, STREETS_LIMIT_MAX);
        return;
    }
    if (!a->roads) {
        http_problem(resp, req, 503, "no-road-graph", "Street search unavailable",
                     "this server has no road graph (roads.graph = off)");
        return;
    }
    const struct geo_streets *idx = geo_roads_streets(a->roads);
    if (!idx) {
        http_problem(resp, req, 503, "no-street-index", "Street search unavailable",
                     "the road graph was made before street names were kept: import it again "
                     "with amane roads import");
        return;
    }
    struct geo_street hits[STREETS_LIMIT_MAX];
    int n = geo_streets_search(idx, q, (size_t)limit, hits);
    if (n < 0) {
        http_problem_err(resp, req, n, NULL);
        return;
    }
    static const char *const match[] = {"exact", "prefix", "substring"};
    json_t *items = json_array();
    for (int i = 0; i < n; i++) {
        const struct geo_street *h = &hits[i];
        json_array_append_new(items,
                              json_pack("{sI ss so so sf sf s[ffff] ss}", "id", (json_int_t)h->id,
                                        "name", h->name, "name_ar", name_json(h->name_ar),
                                        "name_fr", name_json(h->name_fr), "lat",
                                        round_to(h->lat, 1e-6), "lon", round_to(h->lon, 1e-6),
                                        "bbox", round_to(h->south, 1e-6), round_to(h->west, 1e-6),
                                        round_to(h->north, 1e-6), round_to(h->east, 1e-6), "match",
                                        match[h->match >= 0 && h->match <= 2 ? h->match : 2]));
    }
    http_json(resp, 200, json_pack("{so}", "items", items));
}

/* ---------------------------------------------------------------- layers */

/* A map layer rendered once: its JSON text and its ETag, for the data set it was made from. */
struct map_layer {
    const void *source; /* the graph or area set; NULL: not rendered yet */
    uint64_t source_id;
    char *body;
    size_t len;
    char etag[40];
};

/* Layers live as long as the process: the data they show is loaded once at start. */
static struct {
    pthread_mutex_t mu;
    struct map_layer roads, areas[3];
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Appends a coordinate rounded to 1e-5 degree (about a metre), without trailing zeros. */
static int put_coord(struct am_buf *b, double x)
{
    char s[32];
    int n = snprintf(s, sizeof(s), "%.5f", round_to(x, 1e-5) + 0.0);
    while (n > 1 && s[n - 1] == '0')
        n--;
    if (n > 1 && s[n - 1] == '.')
        n--;
    if (n == 2 && s[0] == '-' && s[1] == '0')
        return am_buf_append(b, "0", 1);
    return am_buf_append(b, s, (size_t)n);
}

static int put_string(struct am_buf *b, const char *s)
{
    json_t *j = json_string(s ? s : "");
    char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (!t)
        return AM_ENOMEM;
    int rc = am_buf_append(b, t, strlen(t));
    free(t);
    return rc;
}

/* Sets the layer's text from the buffer (taken) and its ETag from a hash of it. */
static int layer_set(struct map_layer *l, const void *source, uint64_t id, struct am_buf *b)
{
    free(l->body);
    l->len = b->len;
    l->body = am_buf_steal(b);
    if (!l->body) {
        l->source = NULL;
        return AM_ENOMEM;
    }
    uint8_t sum[AM_SHA256_LEN];
    char hex[2 * AM_SHA256_LEN + 1];
    am_sha256(l->body, l->len, sum);
    am_hex(sum, 8, hex);
    snprintf(l->etag, sizeof(l->etag), "\"%.16s\"", hex);
    l->source = source;
    l->source_id = id;
    return 0;
}

/*
 * The roads for drawing: an edge and its twin are one segment, and
 * segments are chained into polylines through the nodes where a road of one
 * class just goes on (two segments, same class), as a way of OSM would.
 */
static int render_roads(const struct geo_roads *g, struct am_buf *b)
{
    int rc = AM_ENOMEM;
    struct geo_roads_info in;
    geo_roads_info(g, &in);
    uint32_t n = in.nodes, m = in.edges, nseg = 0;
    uint32_t *seg_a = malloc(((size_t)m + 1) * sizeof(uint32_t));
    uint32_t *seg_b = malloc(((size_t)m + 1) * sizeof(uint32_t));
    uint8_t *seg_c = malloc((size_t)m + 1);
    uint32_t *first = calloc((size_t)n + 2, sizeof(uint32_t));
    uint32_t *adj = malloc(((size_t)2 * m + 1) * sizeof(uint32_t));
    bool *used = calloc((size_t)m + 1, sizeof(bool));
    if (!seg_a || !seg_b || !seg_c || !first || !adj || !used)
        goto out;
    for (uint32_t e = 0; e < m; e++) {
        struct geo_road_edge ed;
        if (!geo_roads_edge(g, e, &ed) || (ed.twin != GEO_NONE && ed.tail > ed.head))
            continue;
        seg_a[nseg] = ed.tail;
        seg_b[nseg] = ed.head;
        seg_c[nseg] = ed.rclass;
        first[ed.tail + 1]++;
        first[ed.head + 1]++;
        nseg++;
    }
    for (uint32_t v = 0; v < n; v++)
        first[v + 1] += first[v];
    for (uint32_t s = 0; s < nseg; s++) {
        adj[first[seg_a[s]]++] = s;
        adj[first[seg_b[s]]++] = s;
    }
    for (uint32_t v = n; v > 0; v--)
        first[v] = first[v - 1];
    first[0] = 0;

    if ((rc = am_buf_append(b, "{\"classes\":[", 12)) != 0)
        goto out;
    for (int c = 0; c < GEO_RC_COUNT; c++)
        if ((rc = am_buf_printf(b, "%s\"%s\"", c ? "," : "", geo_road_class_name(c))) != 0)
            goto out;
    if ((rc = am_buf_printf(b, "],\"attribution\":\"© OpenStreetMap contributors, ODbL 1.0\","
                               "\"lines\":[")) != 0)
        goto out;
    bool first_line = true;
    /* Lines start where a road does not just go on; then what is left are closed rings. */
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t v = 0; v < n; v++) {
            bool through =
                first[v + 1] - first[v] == 2 && seg_c[adj[first[v]]] == seg_c[adj[first[v] + 1]];
            if (pass == 0 && through)
                continue;
            for (uint32_t k = first[v]; k < first[v + 1]; k++) {
                uint32_t s = adj[k];
                if (used[s])
                    continue;
                double lat, lon;
                geo_roads_node(g, v, &lat, &lon);
                if ((rc = am_buf_printf(b, "%s[%u,", first_line ? "" : ",", seg_c[s])) ||
                    (rc = put_coord(b, lat)) || (rc = am_buf_append(b, ",", 1)) ||
                    (rc = put_coord(b, lon)))
                    goto out;
                first_line = false;
                uint32_t cur = v;
                for (;;) {
                    used[s] = true;
                    uint32_t next = seg_a[s] == cur ? seg_b[s] : seg_a[s];
                    geo_roads_node(g, next, &lat, &lon);
                    if ((rc = am_buf_append(b, ",", 1)) || (rc = put_coord(b, lat)) ||
                        (rc = am_buf_append(b, ",", 1)) || (rc = put_coord(b, lon)))
                        goto out;
                    cur = next;
                    bool go_on = first[cur + 1] - first[cur] == 2 &&
                                 seg_c[adj[first[cur]]] == seg_c[adj[first[cur] + 1]];
                    if (!go_on)
                        break;
                    uint32_t t = adj[first[cur]] == s ? adj[first[cur] + 1] : adj[first[cur]];
                    if (used[t])
                        break;
                    s = t;
                }
                if ((rc = am_buf_append(b, "]", 1)) != 0)
                    goto out;
            }
        }
    rc = am_buf_printf(b, "],\"bbox\":[");
    if (!rc && !(rc = put_coord(b, in.min_lat)) && !(rc = am_buf_append(b, ",", 1)) &&
        !(rc = put_coord(b, in.min_lon)) && !(rc = am_buf_append(b, ",", 1)) &&
        !(rc = put_coord(b, in.max_lat)) && !(rc = am_buf_append(b, ",", 1)) &&
        !(rc = put_coord(b, in.max_lon)))
        rc = am_buf_append(b, "]}", 2);
out:
    free(seg_a);
    free(seg_b);
    free(seg_c);
    free(first);
    free(adj);
    free(used);
    return rc;
}

/* A set of areas as a GeoJSON FeatureCollection of MultiPolygons. */
static int render_areas(const struct geo_areas *set, struct am_buf *b)
{
    int rc = am_buf_append(b, "{\"type\":\"FeatureCollection\",\"features\":[", 40);
    for (size_t i = 0; !rc && i < geo_areas_count(set); i++) {
        if ((rc = am_buf_printf(
                 b, "%s{\"type\":\"Feature\",\"properties\":{\"code\":", i ? "," : "")) ||
            (rc = put_string(b, geo_areas_code(set, i))) ||
            (rc = am_buf_append(b, ",\"name_fr\":", 11)) ||
            (rc = put_string(b, geo_areas_name_fr(set, i))) ||
            (rc = am_buf_append(b, ",\"name_ar\":", 11)) ||
            (rc = put_string(b, geo_areas_name_ar(set, i))) ||
            (rc = am_buf_printf(b, "},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[")))
            break;
        for (size_t p = 0; !rc && p < geo_areas_npolygons(set, i); p++) {
            rc = am_buf_append(b, p ? ",[" : "[", p ? 2 : 1);
            for (size_t r = 0; !rc && r < geo_areas_nrings(set, i, p); r++) {
                size_t np = 0;
                const double *xy = geo_areas_ring(set, i, p, r, &np);
                rc = am_buf_append(b, r ? ",[" : "[", r ? 2 : 1);
                for (size_t k = 0; !rc && k < np; k++) {
                    if ((rc = am_buf_append(b, k ? ",[" : "[", k ? 2 : 1)) ||
                        (rc = put_coord(b, xy[2 * k])) || (rc = am_buf_append(b, ",", 1)) ||
                        (rc = put_coord(b, xy[2 * k + 1])))
                        break;
                    rc = am_buf_append(b, "]", 1);
                }
                if (!rc)
                    rc = am_buf_append(b, "]", 1);
            }
            if (!rc)
                rc = am_buf_append(b, "]", 1);
        }
        if (!rc)
            rc = am_buf_append(b, "]}}", 3);
    }
    if (!rc)
        rc = am_buf_append(b, "]}", 2);
    return rc;
}

/* Answers with a layer: 304 if the client holds this version, else a copy of its text. */
static void send_layer(struct http_req *req, struct http_resp *resp, const struct map_layer *l,
                       const char *content_type)
{
    snprintf(resp->headers, sizeof(resp->headers),
             "etag: %s\r\ncache-control: private, no-cache\r\n", l->etag);
    if (req->if_none_match[0] &&
        (strstr(req->if_none_match, l->etag) || strcmp(req->if_none_match, "*") == 0)) {
        resp->status = 304;
        return;
    }
    char *copy = malloc(l->len + 1);
    if (!copy) {
        resp->headers[0] = '\0';
        http_problem_err(resp, req, AM_ENOMEM, NULL);
        return;
    }
    memcpy(copy, l->body, l->len + 1);
    http_text(resp, 200, content_type, copy);
}

static void map_roads(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    if (!a->roads) {
        http_problem(resp, req, 503, "no-road-graph", "Roads unavailable",
                     "this server has no road graph (roads.graph = off)");
        return;
    }
    pthread_mutex_lock(&cache.mu);
    struct map_layer *l = &cache.roads;
    int rc = 0;
    if (l->source != a->roads || l->source_id != geo_roads_id(a->roads)) {
        struct am_buf b;
        am_buf_init(&b, 0);
        rc = render_roads(a->roads, &b);
        if (!rc)
            rc = layer_set(l, a->roads, geo_roads_id(a->roads), &b);
        am_buf_release(&b);
    }
    if (rc)
        http_problem_err(resp, req, rc, NULL);
    else
        send_layer(req, resp, l, "application/json");
    pthread_mutex_unlock(&cache.mu);
}

static void map_boundaries(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    static const char *const levels[] = {"region", "prefecture", "sector"};
    const char *level = http_arg(req, "level");
    int k = -1;
    for (int i = 0; level && i < 3; i++)
        if (strcmp(level, levels[i]) == 0)
            k = i;
    if (k < 0) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "level must be region, prefecture or sector");
        return;
    }
    /* Sectors are optional (cad.sectors): without them the layer is empty. */
    const struct geo_areas *set = k == 0 ? a->regions : k == 1 ? a->provinces : a->sectors;
    static const char empty[] = "";
    pthread_mutex_lock(&cache.mu);
    struct map_layer *l = &cache.areas[k];
    int rc = 0;
    const void *source = set ? (const void *)set : (const void *)empty;
    if (l->source != source) {
        struct am_buf b;
        am_buf_init(&b, 0);
        rc = render_areas(set, &b);
        if (!rc)
            rc = layer_set(l, source, 0, &b);
        am_buf_release(&b);
    }
    if (rc)
        http_problem_err(resp, req, rc, NULL);
    else
        send_layer(req, resp, l, "application/geo+json");
    pthread_mutex_unlock(&cache.mu);
}

int app_routes_map(struct app *a)
{
    int rc = http_route(a->http, HTTP_GET, "/api/v1/streets", FIELD, 0, streets_search, a);
    if (!rc)
        rc = http_route(a->http, HTTP_GET, "/api/v1/map/roads", FIELD, 0, map_roads, a);
    if (!rc)
        rc = http_route(a->http, HTTP_GET, "/api/v1/map/boundaries", FIELD, 0, map_boundaries, a);
    return rc;
}
