/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_geo.c - unit tests of src/geo: point in area on small hand-made
 * shapes (a square with a hole, a MultiPolygon, concave shapes, rays through
 * vertices) and the boundary rule (a point on an edge shared by two areas is
 * in exactly one of them); refusal of bad GeoJSON, each with a reason; the
 * limits; and, on the shipped data (data/boundaries, data/sectors), known
 * places across the kingdom, the fixed names, points outside Morocco, the
 * coast tolerance, the demo sectors, agreement between regions and
 * provinces on 100,000 random points, and the time a lookup takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "geo/geo.h"
#include "geo/geo_int.h"

#ifndef AMANE_DATA_DIR
#error "AMANE_DATA_DIR must name the data/ folder of the source tree"
#endif

/* ------------------------------------------------------------- helpers */

static const char *data_dir(void)
{
    const char *d = getenv("AMANE_DATA_DIR");
    return d && *d ? d : AMANE_DATA_DIR;
}

/* A FeatureCollection of n features: codes[i] with geometry geoms[i] (JSON text). */
static char *collection(const char *const *codes, const char *const *geoms, size_t n)
{
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b, "{\"type\":\"FeatureCollection\",\"features\":["), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(am_buf_printf(&b,
                                       "%s{\"type\":\"Feature\",\"properties\":{\"code\":\"%s\"},"
                                       "\"geometry\":%s}",
                                       i ? "," : "", codes[i], geoms[i]),
                         0);
    assert_int_equal(am_buf_printf(&b, "]}"), 0);
    return am_buf_steal(&b);
}

static struct geo_areas *load_text(const char *text)
{
    struct geo_areas *a = NULL;
    char why[256] = "";
    int rc = geo_areas_load_buffer(text, strlen(text), &a, why, sizeof(why));
    if (rc)
        fail_msg("load failed: %s (%s)", am_strerror(rc), why);
    assert_non_null(a);
    return a;
}

static struct geo_areas *load_one(const char *geom)
{
    const char *code = "A";
    char *text = collection(&code, &geom, 1);
    struct geo_areas *a = load_text(text);
    free(text);
    return a;
}

/* geo_areas_find() with (x, y) = (lon, lat), as the shapes are drawn. */
static int at(const struct geo_areas *a, double x, double y)
{
    return geo_areas_find(a, y, x);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static double rnd(void) /* xorshift64*, uniform in [0, 1) */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717u) >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------- small shapes */

#define SQUARE_WITH_HOLE                                                                           \
    "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[10,0],[10,10],[0,10],[0,0]],"                  \
    "[[4,4],[6,4],[6,6],[4,6],[4,4]]]}"

static void test_square_with_hole(void **state)
{
    (void)state;
    struct geo_areas *a = load_one(SQUARE_WITH_HOLE);
    assert_int_equal(geo_areas_count(a), 1);
    assert_int_equal(at(a, 2, 2), 0);
    assert_int_equal(at(a, 9.99, 9.99), 0);
    assert_int_equal(at(a, 3.9, 5), 0);
    assert_int_equal(at(a, 5, 5), -1);     /* in the hole */
    assert_int_equal(at(a, 4.5, 5.9), -1); /* in the hole */
    assert_int_equal(at(a, 11, 5), -1);
    assert_int_equal(at(a, -0.1, 5), -1);
    assert_int_equal(at(a, 5, -0.1), -1);
    /* The hole is an area of its own for the rule: its left and lower sides
     * belong to it (so not to the feature), its right and upper ones do not. */
    assert_int_equal(at(a, 4, 5), -1);
    assert_int_equal(at(a, 5, 4), -1);
    assert_int_equal(at(a, 6, 5), 0);
    assert_int_equal(at(a, 5, 6), 0);
    geo_areas_free(a);
}

static void test_multipolygon(void **state)
{
    (void)state;
    const char *codes[] = {"MULTI", "OTHER"};
    const char *geoms[] = {
        "{\"type\":\"MultiPolygon\",\"coordinates\":["
        "[[[0,0],[1,0],[1,1],[0,1],[0,0]]],"
        "[[[5,5],[7,5],[7,7],[5,7],[5,5]],[[5.5,5.5],[6.5,5.5],[6.5,6.5],[5.5,6.5],[5.5,5.5]]],"
        "[[[10,0],[12,0],[11,2],[10,0]]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[20,20],[21,20],[21,21],[20,21],[20,20]]]}",
    };
    char *text = collection(codes, geoms, 2);
    struct geo_areas *a = load_text(text);
    free(text);
    assert_int_equal(geo_areas_count(a), 2);
    assert_int_equal(at(a, 0.5, 0.5), 0);
    assert_int_equal(at(a, 5.2, 6), 0);
    assert_int_equal(at(a, 6, 6), -1); /* the hole of the second polygon */
    assert_int_equal(at(a, 11, 1), 0);
    assert_int_equal(at(a, 10.2, 1.5), -1); /* in the triangle's box, outside the triangle */
    assert_int_equal(at(a, 3, 3), -1);      /* between the polygons */
    assert_int_equal(at(a, 20.5, 20.5), 1);
    assert_int_equal(at(a, 15, 15), -1);
    geo_areas_free(a);
}

static void test_concave_and_rays_through_vertices(void **state)
{
    (void)state;
    /* A "U": two arms and a base, the notch open at the top. */
    struct geo_areas *u = load_one("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[9,0],[9,9],"
                                   "[6,9],[6,3],[3,3],[3,9],[0,9],[0,0]]]}");
    assert_int_equal(at(u, 4.5, 6), -1); /* the notch */
    assert_int_equal(at(u, 1.5, 6), 0);
    assert_int_equal(at(u, 7.5, 6), 0);
    assert_int_equal(at(u, 4.5, 1.5), 0);
    /* Rays along y = 3 and y = 9 run through several vertices. */
    assert_int_equal(at(u, 1.5, 3), 0);
    assert_int_equal(at(u, 7.5, 3), 0);
    assert_int_equal(at(u, -1, 3), -1);
    assert_int_equal(at(u, 4.5, 3), -1); /* the notch's floor is an upper side */
    assert_int_equal(at(u, -1, 9), -1);
    assert_int_equal(at(u, 4.5, 9), -1);
    geo_areas_free(u);

    /* A diamond: the ray from (x, 5) runs through the vertices (0,5) and (10,5). */
    struct geo_areas *d =
        load_one("{\"type\":\"Polygon\",\"coordinates\":[[[5,0],[10,5],[5,10],[0,5],[5,0]]]}");
    assert_int_equal(at(d, 2, 5), 0);
    assert_int_equal(at(d, 5, 5), 0);
    assert_int_equal(at(d, 9.9, 5), 0);
    assert_int_equal(at(d, -1, 5), -1);
    assert_int_equal(at(d, 11, 5), -1);
    assert_int_equal(at(d, 1, 1), -1); /* in the box, outside the diamond */
    geo_areas_free(d);

    /* A long thin comb of 150 teeth spans many chunks of edges. */
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b, "{\"type\":\"Polygon\",\"coordinates\":[[[0,0]"), 0);
    for (int t = 0; t < 150; t++)
        assert_int_equal(am_buf_printf(&b, ",[%d,10],[%d.5,10],[%d.5,1],[%d,1]", t, t, t, t + 1),
                         0);
    assert_int_equal(am_buf_printf(&b, ",[150,0],[0,0]]]}"), 0);
    struct geo_areas *comb = load_one(b.data);
    am_buf_release(&b);
    for (int t = 0; t < 150; t++) {
        assert_int_equal(at(comb, t + 0.25, 5), 0);   /* a tooth */
        assert_int_equal(at(comb, t + 0.75, 5), -1);  /* a gap */
        assert_int_equal(at(comb, t + 0.75, 0.5), 0); /* the back */
    }
    geo_areas_free(comb);
}

/* The rule of geo.h on the unit square, point by point. */
static void test_edge_rule_unit_square(void **state)
{
    (void)state;
    struct geo_areas *a =
        load_one("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}");
    assert_int_equal(at(a, 0, 0), 0);
    assert_int_equal(at(a, 0, 0.5), 0);
    assert_int_equal(at(a, 0.5, 0), 0);
    assert_int_equal(at(a, 1, 0.5), -1);
    assert_int_equal(at(a, 0.5, 1), -1);
    assert_int_equal(at(a, 1, 0), -1);
    assert_int_equal(at(a, 0, 1), -1);
    assert_int_equal(at(a, 1, 1), -1);
    geo_areas_free(a);

    /* The same square drawn clockwise: orientation does not matter. */
    a = load_one("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[0,1],[1,1],[1,0],[0,0]]]}");
    assert_int_equal(at(a, 0, 0.5), 0);
    assert_int_equal(at(a, 0.5, 0), 0);
    assert_int_equal(at(a, 1, 0.5), -1);
    assert_int_equal(at(a, 0.5, 1), -1);
    geo_areas_free(a);
}

/* Four unit squares tiling [0,2]x[0,2]: every point of the tiling is in exactly one. */
static void test_shared_edges_partition(void **state)
{
    (void)state;
    const char *geoms[4] = {
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[1,0],[2,0],[2,1],[1,1],[1,0]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,1],[0,2],[1,2],[1,1],[0,1]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[1,1],[1,2],[2,2],[2,1],[1,1]]]}",
    };
    const char *codes[4] = {"SW", "SE", "NW", "NE"};
    struct geo_areas *one[4];
    for (int i = 0; i < 4; i++)
        one[i] = load_one(geoms[i]);
    char *text = collection(codes, geoms, 4);
    struct geo_areas *all = load_text(text);
    free(text);
    for (int i = -1; i <= 9; i++) {
        for (int j = -1; j <= 9; j++) {
            double x = i / 4.0, y = j / 4.0;
            int n = 0, which = -1;
            for (int k = 0; k < 4; k++)
                if (at(one[k], x, y) == 0) {
                    n++;
                    which = k;
                }
            bool interior = x > 0 && x < 2 && y > 0 && y < 2;
            if (interior && n != 1)
                fail_msg("(%g, %g) is in %d squares", x, y, n);
            assert_true(n <= 1);
            if (x < 0 || x >= 2 || y < 0 || y >= 2)
                assert_int_equal(n, 0);
            assert_int_equal(at(all, x, y), which);
        }
    }
    /* The centre vertex, shared by all four, is in exactly one: the north-east. */
    assert_int_equal(at(all, 1, 1), 3);
    for (int k = 0; k < 4; k++)
        geo_areas_free(one[k]);
    geo_areas_free(all);
}

/* Two triangles share a slanted edge, drawn in opposite directions. */
static void test_shared_slanted_edge(void **state)
{
    (void)state;
    struct geo_areas *t1 = load_one("{\"type\":\"Polygon\",\"coordinates\":[[[0.1,0.2],[0.7,0.9],"
                                    "[0.05,0.95],[0.1,0.2]]]}");
    struct geo_areas *t2 = load_one("{\"type\":\"Polygon\",\"coordinates\":[[[0.1,0.2],[0.93,0.15],"
                                    "[0.7,0.9],[0.1,0.2]]]}");
    for (int k = 1; k < 1000; k++) {
        double t = k / 1000.0;
        double x = 0.1 + t * (0.7 - 0.1), y = 0.2 + t * (0.9 - 0.2);
        for (int nudge = -2; nudge <= 2; nudge++) {
            double xn = nudge ? nextafter(x, nudge > 0 ? 1 : -1) : x;
            if (nudge == 2 || nudge == -2)
                xn = nextafter(xn, nudge > 0 ? 1 : -1);
            int n = (at(t1, xn, y) == 0) + (at(t2, xn, y) == 0);
            if (n != 1)
                fail_msg("point %.17g, %.17g on the shared edge is in %d triangles", xn, y, n);
        }
    }
    geo_areas_free(t1);
    geo_areas_free(t2);
}

static void test_overlap_first_wins_and_accessors(void **state)
{
    (void)state;
    const char *text =
        "{\"type\":\"FeatureCollection\",\"bbox\":[0,0,3,3],\"features\":["
        "{\"type\":\"Feature\",\"id\":7,\"properties\":{\"code\":\"BIG\",\"name_fr\":\"Grand\","
        "\"name_ar\":\"كبير\",\"name_zgh\":\"ⴰⵎⵇⵔⴰⵏ\",\"parent\":\"ROOT\",\"extra\":[1,2]},"
        "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0,12],[3,0,12],[3,3,12],[0,3,12],"
        "[0,0,12]]]}},"
        "{\"type\":\"Feature\",\"properties\":{\"code\":\"SMALL\",\"name_fr\":null},"
        "\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[1,1],[2,1],[2,2],[1,2],[1,1]]]}}]}";
    struct geo_areas *a = load_text(text);
    assert_int_equal(geo_areas_count(a), 2);
    assert_int_equal(at(a, 1.5, 1.5), 0); /* both contain it: the first wins */
    assert_int_equal(at(a, 0.5, 0.5), 0);
    assert_string_equal(geo_areas_code(a, 0), "BIG");
    assert_string_equal(geo_areas_name_fr(a, 0), "Grand");
    assert_string_equal(geo_areas_name_ar(a, 0), "كبير");
    assert_string_equal(geo_areas_name_zgh(a, 0), "ⴰⵎⵇⵔⴰⵏ");
    assert_string_equal(geo_areas_parent(a, 0), "ROOT");
    assert_string_equal(geo_areas_code(a, 1), "SMALL");
    assert_string_equal(geo_areas_name_fr(a, 1), "");
    assert_string_equal(geo_areas_name_ar(a, 1), "");
    assert_string_equal(geo_areas_parent(a, 1), "");
    assert_null(geo_areas_code(a, 2));
    assert_null(geo_areas_name_fr(a, 99));
    assert_int_equal(geo_areas_index(a, "SMALL"), 1);
    assert_int_equal(geo_areas_index(a, "BIG"), 0);
    assert_int_equal(geo_areas_index(a, "NONE"), -1);
    assert_int_equal(geo_areas_index(a, ""), -1);
    double la0, lo0, la1, lo1;
    geo_areas_bounds(a, &la0, &lo0, &la1, &lo1);
    assert_true(la0 == 0 && lo0 == 0 && la1 == 3 && lo1 == 3);
    assert_int_equal(geo_areas_find(a, NAN, 1), -1);
    assert_int_equal(geo_areas_find(a, 1, INFINITY), -1);
    assert_int_equal(geo_areas_find(NULL, 1, 1), -1);
    assert_int_equal(geo_areas_count(NULL), 0);

    /* Nearest edge: 1 degree of longitude east of BIG's right side, at the equator. */
    double d = -1;
    assert_int_equal(geo_areas_nearest(a, 1.5, 4, 200000, NULL, &d), 0);
    assert_float_equal(d, GEO_EARTH_RADIUS_M * M_PI / 180.0 * cos(1.5 * M_PI / 180.0), 0.01);
    assert_int_equal(geo_areas_nearest(a, 1.5, 4, 100000, NULL, &d), -1);
    assert_int_equal(geo_areas_nearest(a, 1.5, 4, 200000, "ROOT", NULL), 0);
    assert_int_equal(geo_areas_nearest(a, 1.5, 4, 200000, "OTHER", NULL), -1);
    /* Inside BIG, nearer to SMALL's edge than to BIG's. */
    assert_int_equal(geo_areas_nearest(a, 1.5, 0.9, 200000, NULL, NULL), 1);
    assert_int_equal(geo_areas_nearest(a, NAN, 4, 200000, NULL, NULL), -1);
    assert_int_equal(geo_areas_nearest(a, 1, 4, NAN, NULL, NULL), -1);
    assert_int_equal(geo_areas_nearest(a, 1, 4, -1, NULL, NULL), -1);
    geo_areas_free(a);
    geo_areas_free(NULL);
}

/* ------------------------------------------------------------- bad input */

#define FC(features)      "{\"type\":\"FeatureCollection\",\"features\":[" features "]}"
#define FEAT(props, geom) "{\"type\":\"Feature\",\"properties\":" props ",\"geometry\":" geom "}"
#define SQ                "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"
#define POLY(rings)       "{\"type\":\"Polygon\",\"coordinates\":[" rings "]}"
#define OK_PROPS          "{\"code\":\"A\"}"

/* The longest code and names fit whole, in the set and in a place. */
static void test_longest_strings_fit(void **state)
{
    (void)state;
    char name[GEO_NAME_SZ];
    size_t n = 0;
    while (n + 2 < sizeof(name) - 1) { /* 63 Arabic letters, two bytes each */
        memcpy(name + n, "\xd8\xb3", 2);
        n += 2;
    }
    name[n++] = 'x';
    name[n] = '\0';
    assert_int_equal(n, GEO_NAME_SZ - 1);
    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(
        am_buf_printf(&b,
                      FC(FEAT("{\"code\":\"ABCDEFGHIJKLMNO\",\"name_fr\":\"%s\","
                              "\"name_ar\":\"%s\",\"parent\":\"abcdefghijklmno\"}",
                              "{\"type\":\"Polygon\",\"coordinates\":[[[-8,33],[-7,33],"
                              "[-7,34],[-8,34],[-8,33]]]}")),
                      name, name),
        0);
    struct geo_areas *a = load_text(b.data);
    am_buf_release(&b);
    assert_string_equal(geo_areas_code(a, 0), "ABCDEFGHIJKLMNO");
    assert_string_equal(geo_areas_parent(a, 0), "abcdefghijklmno");
    assert_string_equal(geo_areas_name_fr(a, 0), name);
    struct geo_place p;
    assert_int_equal(geo_place_lookup(a, a, a, 33.5, -7.5, &p), 0);
    assert_string_equal(p.region_code, "ABCDEFGHIJKLMNO");
    assert_string_equal(p.prefecture_ar, name);
    assert_string_equal(p.sector_fr, name);
    assert_true(p.edge_dist_m == 0);
    geo_areas_free(a);
}

struct bad_case {
    const char *name;
    const char *text;
    const char *reason; /* a part of the expected reason */
};

static const struct bad_case bad_cases[] = {
    {"empty", "", "empty"},
    {"array at the top", "[]", "object was expected"},
    {"malformed", "{\"type\":\"FeatureCollection\",\n\"features\":[", "line 2"},
    {"invalid UTF-8", "{\"type\":\"FeatureCollection\xff\"}", "UTF-8"},
    {"duplicate key", "{\"type\":\"FeatureCollection\",\"type\":\"x\",\"features\":[]}", "line 1"},
    {"nested too deep",
     "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
     "nested"},
    {"NaN literal", FC(FEAT(OK_PROPS, POLY("[[0,0],[1,0],[NaN,1],[0,0]]"))), "line 1"},
    {"number overflow", FC(FEAT(OK_PROPS, POLY("[[0,0],[1,0],[1e400,1],[0,0]]"))), "line 1"},
    {"not a FeatureCollection", "{\"type\":\"Feature\",\"features\":[]}", "FeatureCollection"},
    {"no features", "{\"type\":\"FeatureCollection\"}", "FeatureCollection"},
    {"features not an array", "{\"type\":\"FeatureCollection\",\"features\":{}}",
     "FeatureCollection"},
    {"zero features", FC(""), "0 features"},
    {"feature not an object", FC("[]"), "feature 0: a feature must be an object"},
    {"feature type", FC("{\"type\":\"Point\",\"properties\":" OK_PROPS ",\"geometry\":" SQ "}"),
     "\"Feature\""},
    {"no properties", FC("{\"type\":\"Feature\",\"geometry\":" SQ "}"), "properties"},
    {"null properties", FC(FEAT("null", SQ)), "properties"},
    {"no code", FC(FEAT("{\"name_fr\":\"x\"}", SQ)), "\"code\" is missing"},
    {"empty code", FC(FEAT("{\"code\":\"\"}", SQ)), "\"code\" is empty"},
    {"code a number", FC(FEAT("{\"code\":12}", SQ)), "not a string"},
    {"code too long", FC(FEAT("{\"code\":\"ABCDEFGHIJKLMNOP\"}", SQ)), "16 bytes"},
    {"code with a space", FC(FEAT("{\"code\":\"MA CAS\"}", SQ)), "A-Z a-z 0-9"},
    {"parent with a slash", FC(FEAT("{\"code\":\"A\",\"parent\":\"a/b\"}", SQ)), "\"parent\""},
    {"name with a control character", FC(FEAT("{\"code\":\"A\",\"name_fr\":\"a\\u0001b\"}", SQ)),
     "control character"},
    {"name with NUL", FC(FEAT("{\"code\":\"A\",\"name_ar\":\"a\\u0000b\"}", SQ)),
     "\\u0000 is not allowed"},
    {"name not a string", FC(FEAT("{\"code\":\"A\",\"name_zgh\":[\"x\"]}", SQ)), "not a string"},
    {"name too long",
     FC(FEAT("{\"code\":\"A\",\"name_fr\":\"0123456789012345678901234567890123456789"
             "0123456789012345678901234567890123456789012345678901234567890123456789"
             "012345678901234567\"}",
             SQ)),
     "128 bytes"},
    {"duplicate code",
     FC(FEAT(OK_PROPS, SQ) "," FEAT("{\"code\":\"B\"}", SQ) "," FEAT(OK_PROPS, SQ)),
     "feature 2: code 'A' is already used by feature 0"},
    {"no geometry", FC("{\"type\":\"Feature\",\"properties\":" OK_PROPS "}"), "no geometry"},
    {"null geometry", FC(FEAT(OK_PROPS, "null")), "no geometry"},
    {"geometry a string", FC(FEAT(OK_PROPS, "\"Polygon\"")), "not an object"},
    {"Point geometry", FC(FEAT(OK_PROPS, "{\"type\":\"Point\",\"coordinates\":[1,2]}")),
     "'Point' is not supported"},
    {"LineString geometry",
     FC(FEAT(OK_PROPS, "{\"type\":\"LineString\",\"coordinates\":[[1,2],[3,4]]}")),
     "'LineString' is not supported"},
    {"geometry type with a newline",
     FC(FEAT(OK_PROPS, "{\"type\":\"Poly\\ngon\",\"coordinates\":[[1,2],[3,4]]}")),
     "'Poly gon' is not supported"},
    {"geometry without type", FC(FEAT(OK_PROPS, "{\"coordinates\":[]}")), "no \"type\""},
    {"no coordinates", FC(FEAT(OK_PROPS, "{\"type\":\"Polygon\"}")), "coordinates"},
    {"empty coordinates", FC(FEAT(OK_PROPS, POLY(""))), "coordinates"},
    {"empty polygon in a MultiPolygon",
     FC(FEAT(OK_PROPS, "{\"type\":\"MultiPolygon\",\"coordinates\":[[]]}")),
     "polygon 0: a polygon must be a non-empty array of rings"},
    {"ring not an array", FC(FEAT(OK_PROPS, POLY("{}"))), "ring 0: a ring is not an array"},
    {"ring of 3 positions", FC(FEAT(OK_PROPS, POLY("[[0,0],[1,0],[0,0]]"))), "3 positions"},
    {"ring not closed", FC(FEAT(OK_PROPS, POLY("[[0,0],[1,0],[1,1],[0,1]]"))), "not closed"},
    {"ring without area", FC(FEAT(OK_PROPS, POLY("[[0,0],[1,1],[2,2],[0,0]]"))), "no area"},
    {"hole not closed",
     FC(FEAT(OK_PROPS, POLY("[[0,0],[9,0],[9,9],[0,9],[0,0]],[[1,1],[2,1],[2,2],[1,2]]"))),
     "polygon 0, ring 1: the ring is not closed"},
    {"position of one number", FC(FEAT(OK_PROPS, POLY("[[0,0],[1],[1,1],[0,0]]"))),
     "position 1 has 1 numbers"},
    {"position of four numbers", FC(FEAT(OK_PROPS, POLY("[[0,0],[1,0,0,0],[1,1],[0,0]]"))),
     "position 1 has 4 numbers"},
    {"position not an array", FC(FEAT(OK_PROPS, POLY("[[0,0],{\"x\":1},[1,1],[0,0]]"))),
     "position 1 is not an array"},
    {"coordinate a string", FC(FEAT(OK_PROPS, POLY("[[0,0],[\"1\",0],[1,1],[0,0]]"))),
     "not a number"},
    {"coordinate null", FC(FEAT(OK_PROPS, POLY("[[0,0],[1,0],[1,null],[0,0]]"))), "not a number"},
    {"altitude a string", FC(FEAT(OK_PROPS, POLY("[[0,0],[1,0,\"up\"],[1,1],[0,0]]"))),
     "not a number"},
    {"longitude 181", FC(FEAT(OK_PROPS, POLY("[[0,0],[181,0],[1,1],[0,0]]"))),
     "longitude 181 is outside"},
    {"latitude -91", FC(FEAT(OK_PROPS, POLY("[[0,0],[1,-91],[1,1],[0,0]]"))),
     "latitude -91 is outside"},
    {"huge integer", FC(FEAT(OK_PROPS, POLY("[[0,0],[1,0],[1,9000000000000000000],[0,0]]"))),
     "latitude"},
    {"second feature bad",
     FC(FEAT(OK_PROPS, SQ) "," FEAT("{\"code\":\"MA-X\"}",
                                    "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[1,0],"
                                    "[1,1],[0,1],[0,0]]],[[[0,0],[1,0],[1,1],[0,1],[0,0.5]]]]}")),
     "feature 1 ('MA-X'), polygon 1, ring 0: the ring is not closed"},
};

static void test_bad_geojson_refused(void **state)
{
    (void)state;
    size_t n = sizeof(bad_cases) / sizeof(bad_cases[0]);
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        const struct bad_case *c = &bad_cases[i];
        struct geo_areas *a = (struct geo_areas *)(uintptr_t)1;
        char why[256];
        memset(why, 'x', sizeof(why));
        int rc = geo_areas_load_buffer(c->text, strlen(c->text), &a, why, sizeof(why));
        if (rc != AM_EINVAL)
            fail_msg("case '%s': %s instead of AM_EINVAL (%s)", c->name, am_strerror(rc),
                     rc ? why : "accepted");
        assert_null(a);
        assert_non_null(memchr(why, '\0', sizeof(why)));
        if (!strstr(why, c->reason))
            fail_msg("case '%s': reason '%s' does not say '%s'", c->name, why, c->reason);
        /* No reason buffer at all is fine too. */
        assert_int_equal(geo_areas_load_buffer(c->text, strlen(c->text), &a, NULL, 0), AM_EINVAL);
        assert_null(a);
    }
}

static void test_limits(void **state)
{
    (void)state;
    struct geo_areas *a = NULL;
    char why[256];
    const char *sq = SQ;
    const char *codes[3] = {"A", "B", "C"};
    const char *geoms[3] = {sq, sq, sq};
    char *three = collection(codes, geoms, 3);

    struct geo_limits lim = {GEO_MAX_FILE_BYTES, 2, GEO_MAX_POINTS};
    assert_int_equal(geo_areas_load_limited(three, strlen(three), &lim, &a, why, sizeof(why)),
                     AM_ETOOBIG);
    assert_null(a);
    assert_non_null(strstr(why, "3 features, 1 to 2 expected"));
    lim.max_features = 3;
    assert_int_equal(geo_areas_load_limited(three, strlen(three), &lim, &a, why, sizeof(why)), 0);
    geo_areas_free(a);

    /* Three squares of 5 points: 15 points pass a limit of 15, not of 14. */
    lim.max_points = 14;
    assert_int_equal(geo_areas_load_limited(three, strlen(three), &lim, &a, why, sizeof(why)),
                     AM_ETOOBIG);
    assert_null(a);
    assert_non_null(strstr(why, "feature 2 ('C'), polygon 0, ring 0: more than 14 positions"));
    lim.max_points = 15;
    assert_int_equal(geo_areas_load_limited(three, strlen(three), &lim, &a, why, sizeof(why)), 0);
    geo_areas_free(a);

    lim.max_bytes = strlen(three) - 1;
    assert_int_equal(geo_areas_load_limited(three, strlen(three), &lim, &a, why, sizeof(why)),
                     AM_ETOOBIG);
    assert_null(a);
    free(three);

    /* The public limits: 64 MiB of text (refused before it is read), 10,000 features. */
    size_t big = (size_t)GEO_MAX_FILE_BYTES + 1;
    char *huge = calloc(1, big);
    assert_non_null(huge);
    assert_int_equal(geo_areas_load_buffer(huge, big, &a, why, sizeof(why)), AM_ETOOBIG);
    assert_null(a);
    free(huge);

    struct am_buf b;
    am_buf_init(&b, 0);
    assert_int_equal(am_buf_printf(&b, "{\"type\":\"FeatureCollection\",\"features\":["), 0);
    for (int i = 0; i <= GEO_MAX_FEATURES; i++)
        assert_int_equal(am_buf_printf(&b,
                                       "%s{\"type\":\"Feature\",\"properties\":{\"code\":\"F%d\"},"
                                       "\"geometry\":" SQ "}",
                                       i ? "," : "", i),
                         0);
    assert_int_equal(am_buf_printf(&b, "]}"), 0);
    assert_int_equal(geo_areas_load_buffer(b.data, b.len, &a, why, sizeof(why)), AM_ETOOBIG);
    assert_null(a);
    assert_non_null(strstr(why, "10001 features"));
    am_buf_release(&b);
}

static void test_load_file(void **state)
{
    (void)state;
    struct geo_areas *a = NULL;
    char why[512];
    assert_int_equal(geo_areas_load_file("/nonexistent/areas.geojson", &a, why, sizeof(why)),
                     AM_ENOTFOUND);
    assert_null(a);
    assert_non_null(strstr(why, "'/nonexistent/areas.geojson'"));
    assert_int_equal(geo_areas_load_file(data_dir(), &a, why, sizeof(why)), AM_EIO);
    assert_null(a);
    assert_non_null(strstr(why, "not a regular file"));

    char path[] = "/tmp/test_geo_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *bad = FC(FEAT(OK_PROPS, POLY("[[0,0],[1,0],[1,1],[0,1]]")));
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    assert_int_equal(geo_areas_load_file(path, &a, why, sizeof(why)), AM_EINVAL);
    assert_null(a);
    assert_non_null(strstr(why, path));
    assert_non_null(strstr(why, "feature 0 ('A'), polygon 0, ring 0: the ring is not closed"));
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, FC(FEAT(OK_PROPS, SQ)), strlen(FC(FEAT(OK_PROPS, SQ)))),
                     (ssize_t)strlen(FC(FEAT(OK_PROPS, SQ))));
    close(fd);
    assert_int_equal(geo_areas_load_file(path, &a, why, sizeof(why)), 0);
    assert_int_equal(geo_areas_count(a), 1);
    geo_areas_free(a);
    unlink(path);
}

static void test_distance(void **state)
{
    (void)state;
    assert_float_equal(geo_distance_m(0, 0, 1, 0), 111195.080, 0.01);
    assert_float_equal(geo_distance_m(33.5873, -7.6320, 33.5873, -7.6320), 0, 1e-9);
    /* Twin Center (Casablanca) to Bab Rouah (Rabat); to Jemaa el-Fna (Marrakech). */
    assert_float_equal(geo_distance_m(33.5873, -7.6320, 34.0153, -6.8360), 87604.358, 0.01);
    assert_float_equal(geo_distance_m(34.0153, -6.8360, 33.5873, -7.6320), 87604.358, 0.01);
    assert_float_equal(geo_distance_m(33.5873, -7.6320, 31.6258, -7.9891), 220658.611, 0.01);
    assert_float_equal(geo_distance_m(0, 0, 0, 180), M_PI * GEO_EARTH_RADIUS_M, 0.01);
    assert_float_equal(geo_distance_m(90, 0, -90, 0), M_PI * GEO_EARTH_RADIUS_M, 0.01);
    assert_true(isnan(geo_distance_m(NAN, 0, 0, 0)));
}

/* ------------------------------------------------------------- shipped data */

static struct geo_areas *regions, *provinces, *sectors;

static int load_shipped(void **state)
{
    (void)state;
    char path[1024], why[512];
    const char *files[3] = {"boundaries/morocco_regions.geojson",
                            "boundaries/morocco_provinces.geojson", "sectors/casablanca.geojson"};
    struct geo_areas **sets[3] = {&regions, &provinces, &sectors};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", data_dir(), files[i]);
        int rc = geo_areas_load_file(path, sets[i], why, sizeof(why));
        if (rc) {
            fprintf(stderr, "cannot load the shipped data: %s\n", why);
            return -1;
        }
    }
    return 0;
}

static int free_shipped(void **state)
{
    (void)state;
    geo_areas_free(regions);
    geo_areas_free(provinces);
    geo_areas_free(sectors);
    return 0;
}

static void test_shipped_sets(void **state)
{
    (void)state;
    assert_int_equal(geo_areas_count(regions), 12);
    assert_int_equal(geo_areas_count(provinces), 75);
    assert_int_equal(geo_areas_count(sectors), 9);
    for (int i = 1; i <= 12; i++) {
        char code[8];
        snprintf(code, sizeof(code), "MA-%02d", i);
        int r = geo_areas_index(regions, code);
        assert_true(r >= 0);
        assert_true(strlen(geo_areas_name_fr(regions, (size_t)r)) > 0);
        assert_true(strlen(geo_areas_name_ar(regions, (size_t)r)) > 0);
        assert_true(strlen(geo_areas_name_zgh(regions, (size_t)r)) > 0);
    }
    /* Every province names a region, and every region has provinces. */
    int per_region[13] = {0};
    for (size_t i = 0; i < geo_areas_count(provinces); i++) {
        int r = geo_areas_index(regions, geo_areas_parent(provinces, i));
        assert_true(r >= 0);
        per_region[r]++;
        assert_true(strlen(geo_areas_name_fr(provinces, i)) > 0);
        assert_true(strlen(geo_areas_name_ar(provinces, i)) > 0);
    }
    for (int r = 0; r < 12; r++)
        assert_true(per_region[r] >= 2);
    assert_int_equal(per_region[geo_areas_index(regions, "MA-11")], 4);
    assert_int_equal(per_region[geo_areas_index(regions, "MA-12")], 2);
    for (size_t i = 0; i < geo_areas_count(sectors); i++)
        assert_string_equal(geo_areas_parent(sectors, i), "MA-CAS");
}

static void test_fixed_names(void **state)
{
    (void)state;
    int fig = geo_areas_index(provinces, "MA-FIG"), nad = geo_areas_index(provinces, "MA-NAD");
    int rab = geo_areas_index(provinces, "MA-RAB");
    assert_true(fig >= 0 && nad >= 0 && rab >= 0);
    assert_string_equal(geo_areas_name_ar(provinces, (size_t)fig), "إقليم فجيج");
    assert_string_equal(geo_areas_name_ar(provinces, (size_t)nad), "إقليم الناظور");
    assert_string_equal(geo_areas_name_fr(provinces, (size_t)rab), "Préfecture de Rabat");
    assert_string_equal(geo_areas_name_ar(provinces, (size_t)rab), "عمالة الرباط");
    /* No two provinces share an Arabic or a French name. */
    size_t n = geo_areas_count(provinces);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            assert_string_not_equal(geo_areas_name_ar(provinces, i),
                                    geo_areas_name_ar(provinces, j));
            assert_string_not_equal(geo_areas_name_fr(provinces, i),
                                    geo_areas_name_fr(provinces, j));
        }
    /* Names are split by script: no Arabic letter in a French name, no Latin in an Arabic one. */
    for (size_t i = 0; i < n; i++) {
        const char *fr = geo_areas_name_fr(provinces, i), *ar = geo_areas_name_ar(provinces, i);
        for (const unsigned char *p = (const unsigned char *)fr; *p; p++)
            assert_false(*p == 0xd8 || *p == 0xd9); /* lead bytes of U+0600..U+067F */
        for (const char *p = ar; *p; p++)
            assert_false((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'));
    }
}

struct known_place {
    const char *name;
    double lat, lon;
    const char *region, *region_fr, *prefecture, *prefecture_fr, *prefecture_ar, *sector;
    bool on_coast; /* outside the drawn outline, placed by the tolerance */
};

static const struct known_place known[] = {
    {"Casablanca, Twin Center", 33.5873, -7.6320, "MA-06", "Casablanca-Settat", "MA-CAS",
     "Préfecture de Casablanca", "عمالة الدار البيضاء", "", false},
    {"Casablanca, Casa-Port station", 33.6050, -7.6150, "MA-06", "Casablanca-Settat", "MA-CAS",
     NULL, NULL, "", true},
    {"Rabat, Bab Rouah", 34.0153, -6.8360, "MA-04", "Rabat-Salé-Kénitra", "MA-RAB",
     "Préfecture de Rabat", "عمالة الرباط", "", false},
    {"Salé", 34.0450, -6.8000, "MA-04", NULL, "MA-SAL", NULL, NULL, "", false},
    {"Marrakech, Jemaa el-Fna", 31.6258, -7.9891, "MA-07", "Marrakech-Safi", "MA-MAR",
     "Préfecture de Marrakech", NULL, "", false},
    {"Tanger, port of Tanger Ville", 35.7870, -5.8080, "MA-01", "Tanger-Tétouan-Al Hoceïma",
     "MA-TNG", NULL, NULL, "", true},
    {"Tanger Med port", 35.8850, -5.5000, "MA-01", NULL, "MA-FAH", NULL, NULL, "", false},
    {"Fès, medina (Bab Boujloud)", 34.0617, -4.9836, "MA-03", "Fès-Meknès", "MA-FES", NULL, NULL,
     "", false},
    {"Meknès", 33.8935, -5.5473, "MA-03", NULL, "MA-MEK", "Préfecture de Meknès", NULL, "", false},
    {"Agadir", 30.4202, -9.5982, "MA-09", "Souss-Massa", "MA-AGD", NULL, NULL, "", false},
    {"Oujda", 34.6814, -1.9086, "MA-02", "L'Oriental", "MA-OUJ", NULL, NULL, "", false},
    {"Nador", 35.1681, -2.9335, "MA-02", NULL, "MA-NAD", NULL, "إقليم الناظور", "", false},
    {"Figuig", 32.1088, -1.2287, "MA-02", NULL, "MA-FIG", "Province de Figuig", "إقليم فجيج", "",
     false},
    {"Béni Mellal", 32.3373, -6.3498, "MA-05", "Béni Mellal-Khénifra", "MA-BEM", NULL, NULL, "",
     false},
    {"Errachidia", 31.9314, -4.4244, "MA-08", "Drâa-Tafilalet", "MA-ERR", NULL, NULL, "", false},
    {"Ouarzazate", 30.9335, -6.9370, "MA-08", NULL, "MA-OUA", NULL, NULL, "", false},
    {"Guelmim", 28.9870, -10.0574, "MA-10", "Guelmim-Oued Noun", "MA-GUE", NULL, NULL, "", false},
    {"Laâyoune", 27.1536, -13.2033, "MA-11", "Laâyoune-Sakia El Hamra", "MA-LAA",
     "Province de Laâyoune", "إقليم العيون", "", false},
    {"Smara", 26.7384, -11.6719, "MA-11", NULL, "MA-ESM", NULL, NULL, "", false},
    {"Dakhla", 23.6848, -15.9580, "MA-12", "Dakhla-Oued Ed-Dahab", "MA-OUD", NULL, NULL, "", false},
    {"Mohammédia", 33.6866, -7.3830, "MA-06", NULL, "MA-MOH", "Préfecture de Mohammédia", NULL, "",
     false},
    {"Essaouira", 31.5085, -9.7595, "MA-07", NULL, "MA-ESI", "Province d'Essaouira", NULL, "",
     false},
    {"Tétouan", 35.5785, -5.3684, "MA-01", NULL, "MA-TET", NULL, NULL, "", false},
    /* The demo sectors of central Casablanca. */
    {"Place Mohammed V", 33.5927, -7.6186, "MA-06", NULL, "MA-CAS", NULL, NULL, "CAS-S01", false},
    {"Habous", 33.5770, -7.6120, "MA-06", NULL, "MA-CAS", NULL, NULL, "CAS-S02", false},
    {"Bd Modibo Keita", 33.5626, -7.6109, "MA-06", NULL, "MA-CAS", NULL, NULL, "CAS-S03", false},
    {"Bd El Fida", 33.5709, -7.5947, "MA-06", NULL, "MA-CAS", NULL, NULL, "CAS-S04", false},
    {"Casa-Voyageurs station", 33.5897, -7.5906, "MA-06", NULL, "MA-CAS", NULL, NULL, "CAS-S05",
     false},
    {"Bd Youssef Ibn Tachafine", 33.5864, -7.5800, "MA-06", NULL, "MA-CAS", NULL, NULL, "CAS-S06",
     false},
    {"Bd Al Joulane", 33.5651, -7.5772, "MA-06", NULL, "MA-CAS", NULL, NULL, "CAS-S07", false},
    {"Bd Chouhada", 33.5849, -7.5630, "MA-06", NULL, "MA-CAS", NULL, NULL, "CAS-S08", false},
    {"Bd Mohamed Bouziane", 33.5579, -7.5642, "MA-06", NULL, "MA-CAS", NULL, NULL, "CAS-S09",
     false},
    /* On the edge between S01 (north) and S02: the lower side of S01 is its own. */
    {"edge of S01 and S02", 33.5840, -7.6150, "MA-06", NULL, "MA-CAS", NULL, NULL, "CAS-S01",
     false},
};

static void test_known_places(void **state)
{
    (void)state;
    int in_sectors = 0;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        const struct known_place *k = &known[i];
        struct geo_place p;
        int rc = geo_place_lookup(regions, provinces, sectors, k->lat, k->lon, &p);
        if (rc)
            fail_msg("%s: %s", k->name, am_strerror(rc));
        if (strcmp(p.region_code, k->region) != 0 ||
            strcmp(p.prefecture_code, k->prefecture) != 0 || strcmp(p.sector_code, k->sector) != 0)
            fail_msg("%s: placed in %s / %s / '%s', expected %s / %s / '%s'", k->name,
                     p.region_code, p.prefecture_code, p.sector_code, k->region, k->prefecture,
                     k->sector);
        if (k->region_fr)
            assert_string_equal(p.region_fr, k->region_fr);
        if (k->prefecture_fr)
            assert_string_equal(p.prefecture_fr, k->prefecture_fr);
        if (k->prefecture_ar)
            assert_string_equal(p.prefecture_ar, k->prefecture_ar);
        assert_true(strlen(p.region_ar) > 0 && strlen(p.prefecture_ar) > 0);
        if (k->on_coast)
            assert_true(p.edge_dist_m > 0 && p.edge_dist_m < 200);
        else
            assert_true(p.edge_dist_m == 0);
        if (k->sector[0]) {
            assert_true(strlen(p.sector_fr) > 0 && strlen(p.sector_ar) > 0);
            in_sectors++;
        } else {
            assert_string_equal(p.sector_fr, "");
        }
    }
    assert_int_equal(in_sectors, 10);

    /* Without sectors, the same place has no sector. */
    struct geo_place p;
    assert_int_equal(geo_place_lookup(regions, provinces, NULL, 33.5927, -7.6186, &p), 0);
    assert_string_equal(p.prefecture_code, "MA-CAS");
    assert_string_equal(p.sector_code, "");
}

static void test_outside_morocco(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        double lat, lon;
    } outside[] = {
        {"Atlantic, 200 km off Essaouira", 32.0, -12.0},
        {"Atlantic, off Casablanca", 33.70, -8.20},
        {"Madrid", 40.4168, -3.7038},
        {"Béchar, Algeria", 31.6167, -2.2167},
        {"Tindouf, Algeria", 27.6711, -8.1474},
        {"Zouérat, Mauritania", 22.735, -12.471},
        {"Las Palmas, Canary Islands", 28.10, -15.43},
        {"Ceuta", 35.889, -5.316},
        {"Paris", 48.8566, 2.3522},
        {"Null Island", 0, 0},
    };
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        struct geo_place p;
        memset(&p, 'x', sizeof(p));
        int rc = geo_place_lookup(regions, provinces, sectors, outside[i].lat, outside[i].lon, &p);
        if (rc != AM_ENOTFOUND)
            fail_msg("%s: %s (%s)", outside[i].name, am_strerror(rc), p.region_code);
        assert_string_equal(p.region_code, "");
        assert_string_equal(p.prefecture_code, "");
        assert_string_equal(p.sector_code, "");
    }
}

static void test_invalid_coordinates(void **state)
{
    (void)state;
    struct geo_place p;
    assert_int_equal(geo_place_lookup(regions, provinces, sectors, NAN, -7.6, &p), AM_EINVAL);
    assert_int_equal(geo_place_lookup(regions, provinces, sectors, 33.5, NAN, &p), AM_EINVAL);
    assert_int_equal(geo_place_lookup(regions, provinces, sectors, INFINITY, -7.6, &p), AM_EINVAL);
    assert_int_equal(geo_place_lookup(regions, provinces, sectors, 33.5, -INFINITY, &p), AM_EINVAL);
    assert_int_equal(geo_place_lookup(regions, provinces, sectors, 90.5, -7.6, &p), AM_EINVAL);
    assert_int_equal(geo_place_lookup(regions, provinces, sectors, -91, -7.6, &p), AM_EINVAL);
    assert_int_equal(geo_place_lookup(regions, provinces, sectors, 33.5, 180.01, &p), AM_EINVAL);
    assert_int_equal(geo_place_lookup(regions, provinces, sectors, 33.5, -181, &p), AM_EINVAL);
    assert_int_equal(geo_place_lookup(NULL, provinces, sectors, 33.5, -7.6, &p), AM_EINVAL);
    assert_int_equal(geo_place_lookup(regions, NULL, sectors, 33.5, -7.6, &p), AM_EINVAL);
    assert_int_equal(geo_place_lookup(regions, provinces, sectors, 33.5, -7.6, NULL), AM_EINVAL);
    /* The extremes of the ranges are valid coordinates (and not in Morocco). */
    assert_int_equal(geo_place_lookup(regions, provinces, sectors, 90, 180, &p), AM_ENOTFOUND);
    assert_int_equal(geo_place_lookup(regions, provinces, sectors, -90, -180, &p), AM_ENOTFOUND);
}

/* Off Casablanca's harbour, northwards: within 2 km it is placed, beyond it is not. */
static void test_coast_tolerance(void **state)
{
    (void)state;
    static const struct {
        double lat, lon;
        double dist_m; /* to the outline, from an independent computation; 0: refused */
    } offshore[] = {
        {33.615, -7.62, 563.2}, {33.625, -7.62, 1580.4}, {33.635, -7.62, 0}, {33.645, -7.62, 0}};
    for (size_t i = 0; i < sizeof(offshore) / sizeof(offshore[0]); i++) {
        struct geo_place p;
        int rc =
            geo_place_lookup(regions, provinces, sectors, offshore[i].lat, offshore[i].lon, &p);
        if (offshore[i].dist_m == 0) {
            assert_int_equal(rc, AM_ENOTFOUND);
            continue;
        }
        assert_int_equal(rc, 0);
        assert_string_equal(p.region_code, "MA-06");
        assert_string_equal(p.prefecture_code, "MA-CAS");
        assert_float_equal(p.edge_dist_m, offshore[i].dist_m, 2.0);
    }
    double d = 0;
    int r = geo_areas_nearest(regions, 33.635, -7.62, 5000, NULL, &d);
    assert_int_equal(r, geo_areas_index(regions, "MA-06"));
    assert_float_equal(d, 2630.0, 2.0);
}

/*
 * Vertices of the province outlines lie on shared edges: each one inside the
 * kingdom must be in exactly one province, and in the region that province
 * names. The provinces are loaded one per set here to count them.
 */
static void test_province_vertices_in_exactly_one(void **state)
{
    (void)state;
    char path[1024], why[256];
    snprintf(path, sizeof(path), "%s/boundaries/morocco_provinces.geojson", data_dir());
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    assert_non_null(root);
    json_t *features = json_object_get(root, "features");
    size_t n = json_array_size(features);
    assert_int_equal(n, 75);
    struct geo_areas **one = calloc(n, sizeof(*one));
    assert_non_null(one);
    for (size_t i = 0; i < n; i++) {
        json_t *fc = json_pack("{s:s, s:[O]}", "type", "FeatureCollection", "features",
                               json_array_get(features, i));
        char *text = json_dumps(fc, JSON_COMPACT | JSON_REAL_PRECISION(17));
        assert_int_equal(geo_areas_load_buffer(text, strlen(text), &one[i], why, sizeof(why)), 0);
        free(text);
        json_decref(fc);
    }
    size_t vertices = 0, inside = 0, anomalies = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *coords = json_object_get(json_object_get(json_array_get(features, i), "geometry"),
                                         "coordinates");
        const char *type = json_string_value(
            json_object_get(json_object_get(json_array_get(features, i), "geometry"), "type"));
        size_t npoly = strcmp(type, "Polygon") == 0 ? 1 : json_array_size(coords);
        for (size_t pi = 0; pi < npoly; pi++) {
            json_t *poly = strcmp(type, "Polygon") == 0 ? coords : json_array_get(coords, pi);
            for (size_t ri = 0; ri < json_array_size(poly); ri++) {
                json_t *ring = json_array_get(poly, ri);
                for (size_t k = 0; k < json_array_size(ring); k++) {
                    double lon = json_number_value(json_array_get(json_array_get(ring, k), 0));
                    double lat = json_number_value(json_array_get(json_array_get(ring, k), 1));
                    int count = 0, which = -1;
                    for (size_t j = 0; j < n; j++)
                        if (geo_areas_find(one[j], lat, lon) == 0) {
                            count++;
                            which = (int)j;
                        }
                    int r = geo_areas_find(regions, lat, lon);
                    vertices++;
                    if (count > 1 || (r >= 0 && count != 1)) {
                        /* Flaws of the source data, listed in data/boundaries/README.md. */
                        static const double known_flaws[][2] = {{35.819406, -5.735735}};
                        bool known_flaw = false;
                        for (size_t q = 0; q < sizeof(known_flaws) / sizeof(known_flaws[0]); q++)
                            known_flaw |= fabs(lat - known_flaws[q][0]) < 1e-9 &&
                                          fabs(lon - known_flaws[q][1]) < 1e-9;
                        if (!known_flaw)
                            fail_msg("vertex %.6f,%.6f of %s is in %d provinces, region %s", lat,
                                     lon, geo_areas_code(provinces, i), count,
                                     r >= 0 ? geo_areas_code(regions, (size_t)r) : "none");
                        anomalies++;
                        continue;
                    }
                    if (r >= 0) {
                        inside++;
                        assert_string_equal(geo_areas_parent(provinces, (size_t)which),
                                            geo_areas_code(regions, (size_t)r));
                        assert_int_equal(geo_areas_find(provinces, lat, lon), which);
                    }
                }
            }
        }
    }
    printf("[ geo      ] %zu province vertices checked, %zu inside the kingdom, %zu anomalies\n",
           vertices, inside, anomalies);
    fflush(stdout);
    assert_true(vertices > 40000 && inside > vertices / 2);
    for (size_t i = 0; i < n; i++)
        geo_areas_free(one[i]);
    free(one);
    json_decref(root);
}

static double elapsed_ns(int64_t t0_us, size_t n)
{
    return (double)(am_mono_us() - t0_us) * 1000.0 / (double)n;
}

/*
 * 100,000 random points in the kingdom's bounding box: regions and provinces
 * agree on every one, and the time of each kind of lookup is printed.
 */
static void test_random_points_agree_and_timing(void **state)
{
    (void)state;
    enum { N = 100000 };
    double *lat = malloc(N * sizeof(double)), *lon = malloc(N * sizeof(double));
    int *pr = malloc(N * sizeof(int));
    assert_true(lat && lon && pr);
    double la0, lo0, la1, lo1;
    geo_areas_bounds(regions, &la0, &lo0, &la1, &lo1);
    assert_true(la0 > 20.7 && la1 < 36 && lo0 > -17.2 && lo1 < -0.99);
    for (int i = 0; i < N; i++) {
        lat[i] = la0 + rnd() * (la1 - la0);
        lon[i] = lo0 + rnd() * (lo1 - lo0);
    }

    int64_t t0 = am_mono_us();
    for (int i = 0; i < N; i++)
        pr[i] = geo_areas_find(provinces, lat[i], lon[i]);
    double ns_prov = elapsed_ns(t0, N);

    t0 = am_mono_us();
    size_t in_region = 0;
    for (int i = 0; i < N; i++)
        in_region += geo_areas_find(regions, lat[i], lon[i]) >= 0;
    double ns_reg = elapsed_ns(t0, N);

    t0 = am_mono_us();
    size_t placed = 0, snapped = 0;
    for (int i = 0; i < N; i++) {
        struct geo_place p;
        int rc = geo_place_lookup(regions, provinces, sectors, lat[i], lon[i], &p);
        assert_true(rc == 0 || rc == AM_ENOTFOUND);
        placed += rc == 0;
        snapped += rc == 0 && p.edge_dist_m > 0;
    }
    double ns_place = elapsed_ns(t0, N);

    size_t in_province = 0;
    for (int i = 0; i < N; i++) {
        int r = geo_areas_find(regions, lat[i], lon[i]);
        if ((r >= 0) != (pr[i] >= 0))
            fail_msg("%.6f,%.6f: region %d, province %d", lat[i], lon[i], r, pr[i]);
        if (r >= 0) {
            in_province++;
            assert_string_equal(geo_areas_parent(provinces, (size_t)pr[i]),
                                geo_areas_code(regions, (size_t)r));
        }
    }
    assert_int_equal(in_province, in_region);
    /* Morocco covers about a quarter of its bounding box (a long diagonal country). */
    assert_true(in_region > N / 5 && in_region < N / 3);
    assert_true(placed >= in_region && placed < in_region + N / 50);

    /* Points in central Casablanca only: the common case of the command room. */
    t0 = am_mono_us();
    for (int i = 0; i < N; i++) {
        struct geo_place p;
        assert_int_equal(geo_place_lookup(regions, provinces, sectors, 33.553 + rnd() * 0.041,
                                          -7.626 + rnd() * 0.071, &p),
                         0);
    }
    double ns_casa = elapsed_ns(t0, N);

    printf("[ geo      ] %d random points in the kingdom's bbox: %zu in a region, %zu placed "
           "(%zu by the %.0f m coast tolerance)\n",
           N, in_region, placed, snapped, GEO_EDGE_TOLERANCE_M);
    printf("[ geo      ] lookup time: provinces %.0f ns, regions %.0f ns, geo_place_lookup %.0f "
           "ns per point; geo_place_lookup in central Casablanca %.0f ns\n",
           ns_prov, ns_reg, ns_place, ns_casa);
    fflush(stdout); /* cmocka writes its own lines unbuffered */
    free(lat);
    free(lon);
    free(pr);
}

int main(void)
{
    const struct CMUnitTest shapes[] = {
        cmocka_unit_test(test_square_with_hole),
        cmocka_unit_test(test_multipolygon),
        cmocka_unit_test(test_concave_and_rays_through_vertices),
        cmocka_unit_test(test_edge_rule_unit_square),
        cmocka_unit_test(test_shared_edges_partition),
        cmocka_unit_test(test_shared_slanted_edge),
        cmocka_unit_test(test_overlap_first_wins_and_accessors),
        cmocka_unit_test(test_longest_strings_fit),
        cmocka_unit_test(test_bad_geojson_refused),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_distance),
    };
    const struct CMUnitTest shipped[] = {
        cmocka_unit_test(test_shipped_sets),
        cmocka_unit_test(test_fixed_names),
        cmocka_unit_test(test_known_places),
        cmocka_unit_test(test_outside_morocco),
        cmocka_unit_test(test_invalid_coordinates),
        cmocka_unit_test(test_coast_tolerance),
        cmocka_unit_test(test_province_vertices_in_exactly_one),
        cmocka_unit_test(test_random_points_agree_and_timing),
    };
    int failed = cmocka_run_group_tests_name("geo shapes", shapes, NULL, NULL);
    failed += cmocka_run_group_tests_name("geo shipped data", shipped, load_shipped, free_shipped);
    return failed;
}
