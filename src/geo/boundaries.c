/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * boundaries.c - sets of named areas read from GeoJSON (regions,
 * prefectures and provinces, police sectors) and the point-in-area and
 * nearest-edge queries that place a point among them.
 *
 * A file is read whole with jansson, checked strictly, and copied into flat
 * arrays: positions as (lon, lat) pairs, rings and polygons as ranges of
 * them, a bounding box per polygon and per feature, and a box per run of
 * GEO_CHUNK edges so that a query skips most of a long coastline without
 * reading it. A uniform grid over the features' boxes lists, per cell, the
 * features whose box meets it, in file order; a lookup reads one cell.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "geo/geo.h"
#include "geo/geo_int.h"

/* Edges per chunk box: short enough to skip most of a ring, long enough to be cheap. */
#define GEO_CHUNK 32
/* The grid aims at this many cells per feature, within these bounds. */
#define GRID_CELLS_PER_FEATURE 64
#define GRID_MIN_CELLS         256
#define GRID_MAX_CELLS         (1u << 18)
/* At most this many (cell, feature) entries; the grid is made coarser to fit. */
#define GRID_MAX_ENTRIES (8u * 1024 * 1024)

/* Metres per degree of latitude on the sphere of geo_distance_m(). */
#define M_PER_DEG (GEO_EARTH_RADIUS_M * 3.14159265358979323846 / 180.0)

/* A bounding box, in degrees. */
struct box {
    double min_lon, min_lat, max_lon, max_lat;
};

struct ring {
    uint32_t first_point; /* index into xy, in points */
    uint32_t npoints;     /* closing point included, so npoints - 1 edges */
    uint32_t first_chunk; /* index into chunks */
};

struct polygon {
    uint32_t first_ring, nrings;
    struct box box;
};

struct feature {
    char code[GEO_CODE_SZ];
    char parent[GEO_CODE_SZ];
    char name_fr[GEO_NAME_SZ];
    char name_ar[GEO_NAME_SZ];
    char name_zgh[GEO_NAME_SZ];
    uint32_t first_polygon, npolygons;
    struct box box;
};

struct geo_areas {
    struct feature *features;
    size_t nfeatures;
    uint32_t *by_code; /* feature indexes sorted by code */

    struct polygon *polygons;
    size_t npolygons, polygons_cap;
    struct ring *rings;
    size_t nrings, rings_cap;
    double *xy; /* lon, lat of each point */
    size_t npoints, points_cap;
    struct box *chunks;
    size_t nchunks;

    struct box box; /* of all features */
    uint32_t grid_w, grid_h;
    double cell_w, cell_h;
    uint32_t *cell_start; /* grid_w * grid_h + 1 offsets into cell_items */
    uint32_t *cell_items; /* feature indexes, ascending within a cell */
};

/* ------------------------------------------------------------- errors */

/* Where the reader is, for the reason it gives. */
struct reader {
    struct geo_areas *a;
    const struct geo_limits *lim;
    char *why;
    size_t whysz;
    size_t feature;   /* index of the feature being read */
    const char *code; /* its code once known, else NULL */
    long polygon;     /* -1 when not in a geometry */
    long ring;        /* -1 when not in a ring */
};

static int fail(struct reader *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct reader *r, int rc, const char *fmt, ...)
{
    char where[160], what[200];
    int n = snprintf(where, sizeof(where), "feature %zu", r->feature);
    if (r->code && n >= 0 && (size_t)n < sizeof(where))
        n += snprintf(where + n, sizeof(where) - (size_t)n, " ('%s')", r->code);
    if (r->polygon >= 0 && n >= 0 && (size_t)n < sizeof(where))
        n += snprintf(where + n, sizeof(where) - (size_t)n, ", polygon %ld", r->polygon);
    if (r->ring >= 0 && n >= 0 && (size_t)n < sizeof(where))
        snprintf(where + n, sizeof(where) - (size_t)n, ", ring %ld", r->ring);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (r->whysz)
        snprintf(r->why, r->whysz, "%s: %s", where, what);
    return rc;
}

/* ------------------------------------------------------------- arrays */

/* Makes room for `need` elements of `elem` bytes; the caller bounds `need`. */
static int reserve(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    if (ncap > SIZE_MAX / elem)
        return AM_ENOMEM;
    void *q = realloc(*p, ncap * elem);
    if (!q)
        return AM_ENOMEM;
    *p = q;
    *cap = ncap;
    return 0;
}

static void box_empty(struct box *b)
{
    b->min_lon = b->min_lat = INFINITY;
    b->max_lon = b->max_lat = -INFINITY;
}

static void box_add(struct box *b, const struct box *c)
{
    b->min_lon = fmin(b->min_lon, c->min_lon);
    b->min_lat = fmin(b->min_lat, c->min_lat);
    b->max_lon = fmax(b->max_lon, c->max_lon);
    b->max_lat = fmax(b->max_lat, c->max_lat);
}

static bool box_has(const struct box *b, double lon, double lat)
{
    return lon >= b->min_lon && lon <= b->max_lon && lat >= b->min_lat && lat <= b->max_lat;
}

/* ------------------------------------------------------------- reading */

static int read_position(struct reader *r, const json_t *pos, size_t k, double *lon, double *lat)
{
    if (!json_is_array(pos))
        return fail(r, AM_EINVAL, "position %zu is not an array", k);
    size_t n = json_array_size(pos);
    if (n < 2 || n > 3)
        return fail(r, AM_EINVAL, "position %zu has %zu numbers, 2 or 3 expected", k, n);
    for (size_t i = 0; i < n; i++)
        if (!json_is_number(json_array_get(pos, i)))
            return fail(r, AM_EINVAL, "position %zu: coordinate %zu is not a number", k, i);
    *lon = json_number_value(json_array_get(pos, 0));
    *lat = json_number_value(json_array_get(pos, 1));
    if (!isfinite(*lon) || *lon < -180.0 || *lon > 180.0)
        return fail(r, AM_EINVAL, "position %zu: longitude %.17g is outside [-180, 180]", k, *lon);
    if (!isfinite(*lat) || *lat < -90.0 || *lat > 90.0)
        return fail(r, AM_EINVAL, "position %zu: latitude %.17g is outside [-90, 90]", k, *lat);
    return 0;
}

static int read_ring(struct reader *r, const json_t *jring, struct box *pbox)
{
    struct geo_areas *a = r->a;
    if (!json_is_array(jring))
        return fail(r, AM_EINVAL, "a ring is not an array of positions");
    size_t n = json_array_size(jring);
    if (n < 4)
        return fail(r, AM_EINVAL, "a ring has %zu positions, at least 4 expected", n);
    if (n > r->lim->max_points || a->npoints + n > r->lim->max_points)
        return fail(r, AM_ETOOBIG, "more than %zu positions in the file", r->lim->max_points);
    int rc = reserve((void **)&a->xy, &a->points_cap, 2 * (a->npoints + n), sizeof(double));
    if (rc)
        return fail(r, rc, "out of memory");
    rc = reserve((void **)&a->rings, &a->rings_cap, a->nrings + 1, sizeof(struct ring));
    if (rc)
        return fail(r, rc, "out of memory");

    double *xy = a->xy + 2 * a->npoints;
    for (size_t k = 0; k < n; k++) {
        rc = read_position(r, json_array_get(jring, k), k, &xy[2 * k], &xy[2 * k + 1]);
        if (rc)
            return rc;
    }
    if (xy[0] != xy[2 * (n - 1)] || xy[1] != xy[2 * (n - 1) + 1])
        return fail(r, AM_EINVAL,
                    "the ring is not closed: its last position differs from its first");
    /* Twice the signed area, taken about the first point to keep the sums small. */
    double area2 = 0;
    for (size_t k = 1; k + 1 < n; k++)
        area2 += (xy[2 * k] - xy[0]) * (xy[2 * k + 3] - xy[1]) -
                 (xy[2 * k + 2] - xy[0]) * (xy[2 * k + 1] - xy[1]);
    if (area2 == 0)
        return fail(r, AM_EINVAL, "the ring encloses no area");
    for (size_t k = 0; k < n; k++) {
        pbox->min_lon = fmin(pbox->min_lon, xy[2 * k]);
        pbox->max_lon = fmax(pbox->max_lon, xy[2 * k]);
        pbox->min_lat = fmin(pbox->min_lat, xy[2 * k + 1]);
        pbox->max_lat = fmax(pbox->max_lat, xy[2 * k + 1]);
    }
    struct ring *ring = &a->rings[a->nrings++];
    ring->first_point = (uint32_t)a->npoints;
    ring->npoints = (uint32_t)n;
    ring->first_chunk = 0; /* set once every point is in place */
    a->npoints += n;
    return 0;
}

static int read_polygon(struct reader *r, const json_t *jpoly, struct feature *f)
{
    struct geo_areas *a = r->a;
    if (!json_is_array(jpoly) || json_array_size(jpoly) == 0)
        return fail(r, AM_EINVAL, "a polygon must be a non-empty array of rings");
    int rc =
        reserve((void **)&a->polygons, &a->polygons_cap, a->npolygons + 1, sizeof(struct polygon));
    if (rc)
        return fail(r, rc, "out of memory");
    struct polygon p = {.first_ring = (uint32_t)a->nrings};
    box_empty(&p.box);
    size_t i;
    json_t *jring;
    json_array_foreach(jpoly, i, jring)
    {
        r->ring = (long)i;
        rc = read_ring(r, jring, &p.box);
        if (rc)
            return rc;
    }
    r->ring = -1;
    p.nrings = (uint32_t)(a->nrings - p.first_ring);
    a->polygons[a->npolygons++] = p;
    f->npolygons++;
    box_add(&f->box, &p.box);
    return 0;
}

static int read_geometry(struct reader *r, const json_t *geom, struct feature *f)
{
    if (!geom || json_is_null(geom))
        return fail(r, AM_EINVAL, "the feature has no geometry");
    if (!json_is_object(geom))
        return fail(r, AM_EINVAL, "\"geometry\" is not an object");
    const char *type = json_string_value(json_object_get(geom, "type"));
    const json_t *coords = json_object_get(geom, "coordinates");
    if (!type)
        return fail(r, AM_EINVAL, "the geometry has no \"type\" string");
    bool multi = strcmp(type, "MultiPolygon") == 0;
    if (!multi && strcmp(type, "Polygon") != 0)
        return fail(r, AM_EINVAL,
                    "geometry type '%.32s' is not supported, Polygon or MultiPolygon expected",
                    type);
    if (!json_is_array(coords) || json_array_size(coords) == 0)
        return fail(r, AM_EINVAL, "the geometry has no non-empty \"coordinates\" array");
    f->first_polygon = (uint32_t)r->a->npolygons;
    if (!multi) {
        r->polygon = 0;
        int rc = read_polygon(r, coords, f);
        r->polygon = -1;
        return rc;
    }
    size_t i;
    json_t *jpoly;
    json_array_foreach(coords, i, jpoly)
    {
        r->polygon = (long)i;
        int rc = read_polygon(r, jpoly, f);
        if (rc)
            return rc;
    }
    r->polygon = -1;
    return 0;
}

static bool code_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

/*
 * Copies the string property `key` into `dst` (`dstsz` bytes). `required`
 * makes a missing or null one an error; `is_code` restricts it to code
 * characters. JSON strings may hold NUL (\u0000) and control characters:
 * neither is allowed in a name.
 */
static int read_text(struct reader *r, const json_t *props, const char *key, char *dst,
                     size_t dstsz, bool required, bool is_code)
{
    const json_t *v = json_object_get(props, key);
    dst[0] = '\0';
    if (!v || json_is_null(v)) {
        if (required)
            return fail(r, AM_EINVAL, "property \"%s\" is missing", key);
        return 0;
    }
    if (!json_is_string(v))
        return fail(r, AM_EINVAL, "property \"%s\" is not a string", key);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n >= dstsz)
        return fail(r, AM_EINVAL, "property \"%s\" is %zu bytes long, at most %zu allowed", key, n,
                    dstsz - 1);
    if (required && n == 0)
        return fail(r, AM_EINVAL, "property \"%s\" is empty", key);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return fail(r, AM_EINVAL, "property \"%s\" holds a control character", key);
        if (is_code && !code_char((char)c))
            return fail(r, AM_EINVAL, "property \"%s\" may hold only A-Z a-z 0-9 - _ .", key);
    }
    memcpy(dst, s, n + 1);
    return 0;
}

static int read_feature(struct reader *r, const json_t *jf, struct feature *f)
{
    if (!json_is_object(jf))
        return fail(r, AM_EINVAL, "a feature must be an object");
    const char *type = json_string_value(json_object_get(jf, "type"));
    if (!type || strcmp(type, "Feature") != 0)
        return fail(r, AM_EINVAL, "\"type\" must be \"Feature\"");
    const json_t *props = json_object_get(jf, "properties");
    if (!json_is_object(props))
        return fail(r, AM_EINVAL, "\"properties\" must be an object with a \"code\"");
    int rc = read_text(r, props, "code", f->code, sizeof(f->code), true, true);
    if (rc)
        return rc;
    r->code = f->code;
    if ((rc = read_text(r, props, "parent", f->parent, sizeof(f->parent), false, true)) ||
        (rc = read_text(r, props, "name_fr", f->name_fr, sizeof(f->name_fr), false, false)) ||
        (rc = read_text(r, props, "name_ar", f->name_ar, sizeof(f->name_ar), false, false)) ||
        (rc = read_text(r, props, "name_zgh", f->name_zgh, sizeof(f->name_zgh), false, false)))
        return rc;
    box_empty(&f->box);
    return read_geometry(r, json_object_get(jf, "geometry"), f);
}

/* ------------------------------------------------------------- indexes */

/* A box per GEO_CHUNK edges of every ring, once the points stop moving. */
static int build_chunks(struct geo_areas *a)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nrings; i++)
        n += (a->rings[i].npoints - 1 + GEO_CHUNK - 1) / GEO_CHUNK;
    a->chunks = malloc(n * sizeof(*a->chunks));
    if (!a->chunks)
        return AM_ENOMEM;
    a->nchunks = n;
    size_t c = 0;
    for (size_t i = 0; i < a->nrings; i++) {
        struct ring *ring = &a->rings[i];
        const double *xy = a->xy + 2 * (size_t)ring->first_point;
        size_t edges = ring->npoints - 1;
        ring->first_chunk = (uint32_t)c;
        for (size_t e = 0; e < edges; e += GEO_CHUNK) {
            size_t last = e + GEO_CHUNK < edges ? e + GEO_CHUNK : edges; /* point index */
            struct box *b = &a->chunks[c++];
            box_empty(b);
            for (size_t k = e; k <= last; k++) {
                b->min_lon = fmin(b->min_lon, xy[2 * k]);
                b->max_lon = fmax(b->max_lon, xy[2 * k]);
                b->min_lat = fmin(b->min_lat, xy[2 * k + 1]);
                b->max_lat = fmax(b->max_lat, xy[2 * k + 1]);
            }
        }
    }
    return 0;
}

static uint32_t cell_x(const struct geo_areas *a, double lon)
{
    double v = (lon - a->box.min_lon) / a->cell_w;
    if (!(v > 0))
        return 0;
    if (v >= (double)(a->grid_w - 1))
        return a->grid_w - 1;
    return (uint32_t)v;
}

static uint32_t cell_y(const struct geo_areas *a, double lat)
{
    double v = (lat - a->box.min_lat) / a->cell_h;
    if (!(v > 0))
        return 0;
    if (v >= (double)(a->grid_h - 1))
        return a->grid_h - 1;
    return (uint32_t)v;
}

static size_t grid_entries(const struct geo_areas *a)
{
    size_t total = 0;
    for (size_t i = 0; i < a->nfeatures; i++) {
        const struct box *b = &a->features[i].box;
        total += (size_t)(cell_x(a, b->max_lon) - cell_x(a, b->min_lon) + 1) *
                 (cell_y(a, b->max_lat) - cell_y(a, b->min_lat) + 1);
    }
    return total;
}

/*
 * Lists each feature in the cells its box meets. Cell coordinates come from
 * one monotonic formula, so a point inside a feature's box always falls in a
 * cell that lists the feature.
 */
static int build_grid(struct geo_areas *a)
{
    double w = a->box.max_lon - a->box.min_lon, h = a->box.max_lat - a->box.min_lat;
    double cells = (double)a->nfeatures * GRID_CELLS_PER_FEATURE;
    cells = fmax(GRID_MIN_CELLS, fmin(cells, GRID_MAX_CELLS));
    double gw = ceil(sqrt(cells * w / h)), gh = ceil(cells / gw);
    a->grid_w = (uint32_t)fmax(1, fmin(gw, 4096));
    a->grid_h = (uint32_t)fmax(1, fmin(gh, 4096));
    size_t entries;
    for (;;) {
        a->cell_w = w / a->grid_w;
        a->cell_h = h / a->grid_h;
        entries = grid_entries(a);
        if (entries <= GRID_MAX_ENTRIES || (a->grid_w == 1 && a->grid_h == 1))
            break;
        a->grid_w = (a->grid_w + 1) / 2;
        a->grid_h = (a->grid_h + 1) / 2;
    }
    size_t ncells = (size_t)a->grid_w * a->grid_h;
    a->cell_start = calloc(ncells + 1, sizeof(uint32_t));
    a->cell_items = malloc((entries ? entries : 1) * sizeof(uint32_t));
    if (!a->cell_start || !a->cell_items)
        return AM_ENOMEM;
    /* Count per cell, turn counts into offsets, then fill in feature order. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < a->nfeatures; i++) {
            const struct box *b = &a->features[i].box;
            uint32_t x0 = cell_x(a, b->min_lon), x1 = cell_x(a, b->max_lon);
            uint32_t y0 = cell_y(a, b->min_lat), y1 = cell_y(a, b->max_lat);
            for (uint32_t y = y0; y <= y1; y++)
                for (uint32_t x = x0; x <= x1; x++) {
                    size_t cell = (size_t)y * a->grid_w + x;
                    if (pass == 0)
                        a->cell_start[cell + 1]++;
                    else
                        a->cell_items[a->cell_start[cell]++] = (uint32_t)i;
                }
        }
        if (pass == 0)
            for (size_t c = 0; c < ncells; c++)
                a->cell_start[c + 1] += a->cell_start[c];
    }
    /* The fill advanced each start to the next cell's: shift them back. */
    memmove(a->cell_start + 1, a->cell_start, ncells * sizeof(uint32_t));
    a->cell_start[0] = 0;
    return 0;
}

/* A feature's code and index, for sorting the features by code. */
struct code_index {
    const char *code;
    uint32_t index;
};

static int compare_codes(const void *x, const void *y)
{
    return strcmp(((const struct code_index *)x)->code, ((const struct code_index *)y)->code);
}

/* Fills a->by_code; refuses a code used twice. */
static int sort_codes(struct geo_areas *a, char *why, size_t whysz)
{
    size_t n = a->nfeatures;
    struct code_index *tmp = malloc(n * sizeof(*tmp));
    a->by_code = malloc(n * sizeof(uint32_t));
    int rc = 0;
    if (!tmp || !a->by_code) {
        rc = AM_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        tmp[i] = (struct code_index){a->features[i].code, (uint32_t)i};
    qsort(tmp, n, sizeof(*tmp), compare_codes);
    for (size_t i = 0; i < n; i++) {
        a->by_code[i] = tmp[i].index;
        if (i > 0 && strcmp(tmp[i].code, tmp[i - 1].code) == 0) {
            uint32_t first = tmp[i].index < tmp[i - 1].index ? tmp[i].index : tmp[i - 1].index;
            uint32_t second = tmp[i].index ^ tmp[i - 1].index ^ first;
            if (whysz)
                snprintf(why, whysz, "feature %u: code '%s' is already used by feature %u", second,
                         tmp[i].code, first);
            rc = AM_EINVAL;
            goto out;
        }
    }
out:
    free(tmp);
    return rc;
}

/* ------------------------------------------------------------- loading */

int geo_areas_load_buffer(const char *buf, size_t len, struct geo_areas **out, char *why,
                          size_t whysz)
{
    static const struct geo_limits lim = {GEO_MAX_FILE_BYTES, GEO_MAX_FEATURES, GEO_MAX_POINTS};
    return geo_areas_load_limited(buf, len, &lim, out, why, whysz);
}

int geo_areas_load_limited(const char *buf, size_t len, const struct geo_limits *lim,
                           struct geo_areas **out, char *why, size_t whysz)
{
    struct geo_limits capped = {
        lim->max_bytes < GEO_MAX_FILE_BYTES ? lim->max_bytes : GEO_MAX_FILE_BYTES,
        lim->max_features < GEO_MAX_FEATURES ? lim->max_features : GEO_MAX_FEATURES,
        lim->max_points < GEO_MAX_POINTS ? lim->max_points : GEO_MAX_POINTS,
    };
    char dummy[1];
    struct reader r = {
        .lim = &capped, .why = whysz ? why : dummy, .whysz = whysz, .polygon = -1, .ring = -1};
    json_t *root = NULL;
    struct geo_areas *a = NULL;
    int rc;

    *out = NULL;
    if (whysz)
        why[0] = '\0';
    if (len > capped.max_bytes) {
        if (whysz)
            snprintf(why, whysz, "GeoJSON of %zu bytes exceeds the limit of %zu bytes", len,
                     capped.max_bytes);
        return AM_ETOOBIG;
    }
    char jwhy[256];
    rc = am_json_parse_object(buf, len, capped.max_bytes, &root, jwhy, sizeof(jwhy));
    if (rc) {
        if (whysz)
            snprintf(why, whysz, "%s", jwhy);
        goto out;
    }
    const char *type = json_string_value(json_object_get(root, "type"));
    const json_t *features = json_object_get(root, "features");
    if (!type || strcmp(type, "FeatureCollection") != 0 || !json_is_array(features)) {
        if (whysz)
            snprintf(why, whysz,
                     "a GeoJSON FeatureCollection with a \"features\" array was expected");
        rc = AM_EINVAL;
        goto out;
    }
    size_t n = json_array_size(features);
    if (n == 0 || n > capped.max_features) {
        if (whysz)
            snprintf(why, whysz, "%zu features, 1 to %zu expected", n, capped.max_features);
        rc = n ? AM_ETOOBIG : AM_EINVAL;
        goto out;
    }

    a = calloc(1, sizeof(*a));
    if (a)
        a->features = calloc(n, sizeof(*a->features));
    if (!a || !a->features) {
        rc = AM_ENOMEM;
        goto out;
    }
    r.a = a;
    box_empty(&a->box);
    for (size_t i = 0; i < n; i++) {
        r.feature = i;
        r.code = NULL;
        rc = read_feature(&r, json_array_get(features, i), &a->features[i]);
        if (rc)
            goto out;
        a->nfeatures++;
        box_add(&a->box, &a->features[i].box);
    }
    json_decref(root);
    root = NULL;
    if ((rc = sort_codes(a, why, whysz)) || (rc = build_chunks(a)) || (rc = build_grid(a)))
        goto out;
    *out = a;
    a = NULL;
out:
    if (rc == AM_ENOMEM && whysz)
        snprintf(why, whysz, "out of memory");
    /* The reason quotes the input (a geometry type, jansson's excerpt): keep it one line. */
    for (size_t i = 0; rc && i < whysz && why[i]; i++)
        if ((unsigned char)why[i] < 0x20 || why[i] == 0x7f)
            why[i] = ' ';
    json_decref(root);
    geo_areas_free(a);
    return rc;
}

int geo_areas_load_file(const char *path, struct geo_areas **out, char *why, size_t whysz)
{
    char inner[512];
    char *buf = NULL;
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *out = NULL;
    if (fd < 0) {
        rc = errno == ENOENT ? AM_ENOTFOUND : AM_EIO;
        snprintf(inner, sizeof(inner), "cannot open: %s", strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = AM_EIO;
        snprintf(inner, sizeof(inner), "not a regular file");
        goto out;
    }
    if (st.st_size > (off_t)GEO_MAX_FILE_BYTES) {
        rc = AM_ETOOBIG;
        snprintf(inner, sizeof(inner), "%lld bytes exceed the limit of %u bytes",
                 (long long)st.st_size, GEO_MAX_FILE_BYTES);
        goto out;
    }
    size_t size = (size_t)st.st_size, got = 0;
    buf = malloc(size ? size : 1);
    if (!buf) {
        rc = AM_ENOMEM;
        snprintf(inner, sizeof(inner), "out of memory");
        goto out;
    }
    while (got < size) {
        ssize_t k = read(fd, buf + got, size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = AM_EIO;
            snprintf(inner, sizeof(inner), "cannot read: %s",
                     k < 0 ? strerror(errno) : "short file");
            goto out;
        }
        got += (size_t)k;
    }
    rc = geo_areas_load_buffer(buf, size, out, inner, sizeof(inner));
out:
    if (rc && whysz)
        snprintf(why, whysz, "'%s': %s", path, inner);
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

void geo_areas_free(struct geo_areas *a)
{
    if (!a)
        return;
    free(a->features);
    free(a->by_code);
    free(a->polygons);
    free(a->rings);
    free(a->xy);
    free(a->chunks);
    free(a->cell_start);
    free(a->cell_items);
    free(a);
}

/* ------------------------------------------------------------- queries */

/*
 * The crossing test of one polygon, rings combined even-odd. An edge is
 * taken from its lower end and its crossing clamped to its own extent, so
 * that the same edge in two rings gives the same answer and a chunk whose
 * box lies left of the point can be skipped without changing the result.
 */
static bool polygon_has(const struct geo_areas *a, const struct polygon *p, double lon, double lat)
{
    bool inside = false;
    for (uint32_t ri = p->first_ring; ri < p->first_ring + p->nrings; ri++) {
        const struct ring *ring = &a->rings[ri];
        const double *xy = a->xy + 2 * (size_t)ring->first_point;
        size_t edges = ring->npoints - 1;
        const struct box *chunk = &a->chunks[ring->first_chunk];
        for (size_t e0 = 0; e0 < edges; e0 += GEO_CHUNK, chunk++) {
            if (lat < chunk->min_lat || lat >= chunk->max_lat || lon >= chunk->max_lon)
                continue;
            size_t e1 = e0 + GEO_CHUNK < edges ? e0 + GEO_CHUNK : edges;
            for (size_t e = e0; e < e1; e++) {
                double xa = xy[2 * e], ya = xy[2 * e + 1], xb = xy[2 * e + 2], yb = xy[2 * e + 3];
                if ((ya > lat) == (yb > lat))
                    continue;
                if (ya > yb) {
                    double t = xa;
                    xa = xb;
                    xb = t;
                    t = ya;
                    ya = yb;
                    yb = t;
                }
                double lo = fmin(xa, xb), hi = fmax(xa, xb);
                if (lon >= hi)
                    continue;
                if (lon < lo) {
                    inside = !inside;
                    continue;
                }
                double xc = xa + (lat - ya) * (xb - xa) / (yb - ya);
                xc = fmin(fmax(xc, lo), hi);
                if (lon < xc)
                    inside = !inside;
            }
        }
    }
    return inside;
}

static bool feature_has(const struct geo_areas *a, const struct feature *f, double lon, double lat)
{
    if (!box_has(&f->box, lon, lat))
        return false;
    for (uint32_t pi = f->first_polygon; pi < f->first_polygon + f->npolygons; pi++) {
        const struct polygon *p = &a->polygons[pi];
        if (box_has(&p->box, lon, lat) && polygon_has(a, p, lon, lat))
            return true;
    }
    return false;
}

int geo_areas_find(const struct geo_areas *a, double lat, double lon)
{
    if (!a || !isfinite(lat) || !isfinite(lon) || !box_has(&a->box, lon, lat))
        return -1;
    size_t cell = (size_t)cell_y(a, lat) * a->grid_w + cell_x(a, lon);
    for (uint32_t k = a->cell_start[cell]; k < a->cell_start[cell + 1]; k++) {
        uint32_t i = a->cell_items[k];
        if (feature_has(a, &a->features[i], lon, lat))
            return (int)i;
    }
    return -1;
}

/* Distance in metres from the origin to the segment (ax, ay)-(bx, by), in metres. */
static double segment_dist(double ax, double ay, double bx, double by)
{
    double dx = bx - ax, dy = by - ay;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? -(ax * dx + ay * dy) / len2 : 0;
    t = fmin(fmax(t, 0), 1);
    return hypot(ax + t * dx, ay + t * dy);
}

/* Distance in metres from the point to a box, 0 inside; kx, ky metres per degree. */
static double box_dist(const struct box *b, double lon, double lat, double kx, double ky)
{
    double dx = fmax(fmax(b->min_lon - lon, lon - b->max_lon), 0) * kx;
    double dy = fmax(fmax(b->min_lat - lat, lat - b->max_lat), 0) * ky;
    return hypot(dx, dy);
}

int geo_areas_nearest(const struct geo_areas *a, double lat, double lon, double max_m,
                      const char *parent, double *dist_m)
{
    if (!a || !isfinite(lat) || !isfinite(lon) || !(max_m >= 0) || !isfinite(max_m))
        return -1;
    /* A flat projection around the point: metres per degree of lon and lat. */
    double ky = M_PER_DEG;
    double kx = M_PER_DEG * cos(lat * 3.14159265358979323846 / 180.0);
    if (!(kx > 1e-6))
        kx = 1e-6; /* at a pole: every longitude is near */
    double bound = max_m;
    int best = -1;
    double best_d = INFINITY;
    if (box_dist(&a->box, lon, lat, kx, ky) > bound)
        return -1;
    for (size_t fi = 0; fi < a->nfeatures; fi++) {
        const struct feature *f = &a->features[fi];
        if (parent && strcmp(f->parent, parent) != 0)
            continue;
        if (box_dist(&f->box, lon, lat, kx, ky) > bound)
            continue;
        for (uint32_t pi = f->first_polygon; pi < f->first_polygon + f->npolygons; pi++) {
            const struct polygon *p = &a->polygons[pi];
            if (box_dist(&p->box, lon, lat, kx, ky) > bound)
                continue;
            for (uint32_t ri = p->first_ring; ri < p->first_ring + p->nrings; ri++) {
                const struct ring *ring = &a->rings[ri];
                const double *xy = a->xy + 2 * (size_t)ring->first_point;
                size_t edges = ring->npoints - 1;
                const struct box *chunk = &a->chunks[ring->first_chunk];
                for (size_t e0 = 0; e0 < edges; e0 += GEO_CHUNK, chunk++) {
                    if (box_dist(chunk, lon, lat, kx, ky) > bound)
                        continue;
                    size_t e1 = e0 + GEO_CHUNK < edges ? e0 + GEO_CHUNK : edges;
                    for (size_t e = e0; e < e1; e++) {
                        double d =
                            segment_dist((xy[2 * e] - lon) * kx, (xy[2 * e + 1] - lat) * ky,
                                         (xy[2 * e + 2] - lon) * kx, (xy[2 * e + 3] - lat) * ky);
                        if (d <= bound && d < best_d) {
                            best_d = d;
                            bound = d;
                            best = (int)fi;
                        }
                    }
                }
            }
        }
    }
    if (best >= 0 && dist_m)
        *dist_m = best_d;
    return best;
}

int geo_areas_index(const struct geo_areas *a, const char *code)
{
    if (!a || !code)
        return -1;
    size_t lo = 0, hi = a->nfeatures;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(a->features[a->by_code[mid]].code, code);
        if (c == 0)
            return (int)a->by_code[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

size_t geo_areas_count(const struct geo_areas *a)
{
    return a ? a->nfeatures : 0;
}

#define ACCESSOR(name, field)                                                                      \
    const char *geo_areas_##name(const struct geo_areas *a, size_t i)                              \
    {                                                                                              \
        return a && i < a->nfeatures ? a->features[i].field : NULL;                                \
    }
ACCESSOR(code, code)
ACCESSOR(name_fr, name_fr)
ACCESSOR(name_ar, name_ar)
ACCESSOR(name_zgh, name_zgh)
ACCESSOR(parent, parent)

void geo_areas_bounds(const struct geo_areas *a, double *min_lat, double *min_lon, double *max_lat,
                      double *max_lon)
{
    *min_lat = a ? a->box.min_lat : NAN;
    *min_lon = a ? a->box.min_lon : NAN;
    *max_lat = a ? a->box.max_lat : NAN;
    *max_lon = a ? a->box.max_lon : NAN;
}

size_t geo_areas_npolygons(const struct geo_areas *a, size_t i)
{
    return a && i < a->nfeatures ? a->features[i].npolygons : 0;
}

size_t geo_areas_nrings(const struct geo_areas *a, size_t i, size_t polygon)
{
    if (polygon >= geo_areas_npolygons(a, i))
        return 0;
    return a->polygons[a->features[i].first_polygon + polygon].nrings;
}

const double *geo_areas_ring(const struct geo_areas *a, size_t i, size_t polygon, size_t ring,
                             size_t *npoints)
{
    if (npoints)
        *npoints = 0;
    if (ring >= geo_areas_nrings(a, i, polygon))
        return NULL;
    const struct ring *r =
        &a->rings[a->polygons[a->features[i].first_polygon + polygon].first_ring + ring];
    if (npoints)
        *npoints = r->npoints;
    return a->xy + 2 * (size_t)r->first_point;
}
