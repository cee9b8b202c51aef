/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * fuzz_geojson.c - fuzzes the area reader, geo_areas_load_buffer(), with
 * arbitrary bytes as a GeoJSON FeatureCollection. A refusal must be AM_EINVAL
 * or AM_ETOOBIG with a one-line NUL-terminated reason and no set. An accepted
 * set must hold sane strings (a unique code of code characters, names
 * terminated) and must answer geo_areas_find() exactly like a plain
 * reference, the even-odd crossing test over every ring of every feature with
 * no box, chunk or grid, on probe points taken from the input: every
 * position, the middle of every edge and points just beside them.
 * geo_areas_nearest() and geo_place_lookup() run on the same probes and must
 * answer within range. Any failed check is abort().
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "geo/geo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PROBES 256

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_geojson: %s\n", what);
    abort();
}

/* The crossing test of src/geo, written plainly: edges from their lower end, crossing clamped. */
static bool ring_toggles(const json_t *ring, double x, double y)
{
    bool odd = false;
    size_t n = json_array_size(ring);
    for (size_t k = 0; k + 1 < n; k++) {
        const json_t *p = json_array_get(ring, k), *q = json_array_get(ring, k + 1);
        double xa = json_number_value(json_array_get(p, 0)),
               ya = json_number_value(json_array_get(p, 1));
        double xb = json_number_value(json_array_get(q, 0)),
               yb = json_number_value(json_array_get(q, 1));
        if ((ya > y) == (yb > y))
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
        double xc = fmin(fmax(xa + (y - ya) * (xb - xa) / (yb - ya), lo), hi);
        if (x < xc)
            odd = !odd;
    }
    return odd;
}

static bool polygon_has(const json_t *poly, double x, double y)
{
    bool inside = false;
    for (size_t r = 0; r < json_array_size(poly); r++)
        if (ring_toggles(json_array_get(poly, r), x, y))
            inside = !inside;
    return inside;
}

static bool feature_has(const json_t *feature, double x, double y)
{
    const json_t *geom = json_object_get(feature, "geometry");
    const json_t *coords = json_object_get(geom, "coordinates");
    if (strcmp(json_string_value(json_object_get(geom, "type")), "Polygon") == 0)
        return polygon_has(coords, x, y);
    for (size_t p = 0; p < json_array_size(coords); p++)
        if (polygon_has(json_array_get(coords, p), x, y))
            return true;
    return false;
}

/* Collects probe points (lon, lat) from the positions of the accepted document. */
static void collect(const json_t *v, double *px, double *py, size_t *n)
{
    if (!json_is_array(v) || *n >= MAX_PROBES)
        return;
    if (json_array_size(v) >= 2 && json_is_number(json_array_get(v, 0))) {
        double x = json_number_value(json_array_get(v, 0));
        double y = json_number_value(json_array_get(v, 1));
        px[*n] = x;
        py[*n] = y;
        (*n)++;
        if (*n > 1 && *n < MAX_PROBES) { /* the middle of the edge from the previous position */
            px[*n] = (x + px[*n - 2]) / 2;
            py[*n] = (y + py[*n - 2]) / 2;
            (*n)++;
        }
        if (*n < MAX_PROBES) { /* just beside it */
            px[*n] = nextafter(x, -INFINITY);
            py[*n] = nextafter(y, INFINITY);
            (*n)++;
        }
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++)
        collect(json_array_get(v, i), px, py, n);
}

static bool code_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct geo_areas *a = (struct geo_areas *)(uintptr_t)1;
    char why[256];
    memset(why, 'x', sizeof(why));
    int rc = geo_areas_load_buffer((const char *)data, size, &a, why, sizeof(why));
    if (rc) {
        if (rc != AM_EINVAL && rc != AM_ETOOBIG)
            fail("unexpected error code");
        if (a)
            fail("a refusal must leave no set");
        if (!memchr(why, '\0', sizeof(why)) || why[0] == '\0')
            fail("a refusal must give a NUL-terminated reason");
        for (const char *p = why; *p; p++)
            if ((unsigned char)*p < 0x20)
                fail("a reason must be one line");
        return 0;
    }
    if (!a)
        fail("accepted without a set");
    size_t n = geo_areas_count(a);
    if (n == 0 || n > GEO_MAX_FEATURES)
        fail("feature count out of range");
    for (size_t i = 0; i < n; i++) {
        const char *code = geo_areas_code(a, i);
        size_t len = strlen(code);
        if (len == 0 || len >= GEO_CODE_SZ)
            fail("code length out of range");
        for (size_t k = 0; k < len; k++)
            if (!code_char(code[k]))
                fail("code holds a forbidden character");
        if (geo_areas_index(a, code) != (int)i)
            fail("codes are not unique, or the index does not find them");
        if (strlen(geo_areas_name_fr(a, i)) >= GEO_NAME_SZ ||
            strlen(geo_areas_name_ar(a, i)) >= GEO_NAME_SZ ||
            strlen(geo_areas_name_zgh(a, i)) >= GEO_NAME_SZ ||
            strlen(geo_areas_parent(a, i)) >= GEO_CODE_SZ)
            fail("a string overflows its array");
    }
    if (geo_areas_code(a, n) != NULL)
        fail("an accessor answered out of range");

    /* The reference reads the same document again; it was accepted, so it is well formed. */
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!root)
        fail("accepted text that jansson does not read");
    const json_t *features = json_object_get(root, "features");
    if (json_array_size(features) != n)
        fail("feature count differs from the document");
    static double px[MAX_PROBES], py[MAX_PROBES];
    size_t np = 0;
    collect(features, px, py, &np);
    for (size_t i = 0; i < n && np < MAX_PROBES; i++) /* a bit beyond every feature */
        collect(json_object_get(json_object_get(json_array_get(features, i), "geometry"),
                                "coordinates"),
                px, py, &np);
    for (size_t k = 0; k < np; k++) {
        int want = -1;
        for (size_t i = 0; i < n && want < 0; i++)
            if (feature_has(json_array_get(features, i), px[k], py[k]))
                want = (int)i;
        int got = geo_areas_find(a, py[k], px[k]);
        if (got != want) {
            fprintf(stderr, "fuzz_geojson: find(%.17g, %.17g) = %d, reference %d\n", py[k], px[k],
                    got, want);
            abort();
        }
        double d = -1;
        int near = geo_areas_nearest(a, py[k], px[k], 5000, NULL, &d);
        if (near < -1 || near >= (int)n || (near >= 0 && !(d >= 0 && d <= 5000)))
            fail("nearest answered out of range");
        struct geo_place place;
        rc = geo_place_lookup(a, a, a, py[k], px[k], &place);
        if (rc != 0 && rc != AM_ENOTFOUND && rc != AM_EINVAL)
            fail("place lookup: unexpected error code");
        if (rc == 0 && (place.region_code[0] == '\0' || place.edge_dist_m > GEO_EDGE_TOLERANCE_M))
            fail("place lookup: placed without a region, or too far");
    }
    json_decref(root);
    geo_areas_free(a);
    return 0;
}
