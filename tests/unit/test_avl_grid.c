/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * test_avl_grid.c - the units' spatial grid (src/avl/grid.c) against a
 * brute-force answer: thousands of units around Casablanca moving at
 * random, queries of every radius from 10 m to 50 km (cells visited and the
 * full scan alike), ties, truncation, late reports, the date line and the
 * poles, and refused input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avl/grid.h"
#include "core/core.h"
#include "geo/geo.h"

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static double frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

struct ref {
    char unit[32];
    double lat, lon;
};

/* Checks avl_grid_near() against every unit measured one by one. */
static void check_query(const struct avl_grid *g, const struct ref *refs, size_t n, double lat,
                        double lon, double radius, size_t max)
{
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        want += geo_distance_m(lat, lon, refs[i].lat, refs[i].lon) <= radius;
    struct avl_grid_hit *hits = calloc(n + 1, sizeof(*hits));
    size_t got = 99;
    assert_int_equal(avl_grid_near(g, lat, lon, radius, max, hits, &got), 0);
    assert_int_equal(got, want < max ? want : max);
    for (size_t k = 0; k < got; k++) {
        double d = geo_distance_m(lat, lon, hits[k].u->lat, hits[k].u->lon);
        assert_true(fabs(d - hits[k].distance_m) < 1e-6);
        assert_true(d <= radius);
        if (k)
            assert_true(hits[k - 1].distance_m <= hits[k].distance_m);
    }
    /* Truncation keeps the nearest: nothing left out is nearer than the last kept. */
    if (got && got < want)
        for (size_t i = 0; i < n; i++) {
            double d = geo_distance_m(lat, lon, refs[i].lat, refs[i].lon);
            bool kept = false;
            for (size_t k = 0; k < got && !kept; k++)
                kept = !strcmp(hits[k].u->unit, refs[i].unit);
            if (!kept && d <= radius)
                assert_true(d >= hits[got - 1].distance_m);
        }
    free(hits);
}

static void test_matches_brute_force(void **state)
{
    (void)state;
    enum { N = 3000 };
    struct avl_grid g;
    assert_int_equal(avl_grid_init(&g, 500), 0);
    struct ref *refs = calloc(N, sizeof(*refs));
    for (size_t i = 0; i < N; i++) {
        snprintf(refs[i].unit, sizeof(refs[i].unit), "CAS-P-%04zu", i);
        refs[i].lat = 33.45 + frand() * 0.25;
        refs[i].lon = -7.75 + frand() * 0.30;
        assert_int_equal(avl_grid_move(&g, refs[i].unit, refs[i].lat, refs[i].lon, 1), 0);
    }
    assert_int_equal(g.nunits, N);
    for (int round = 0; round < 5; round++) {
        /* A third of the fleet drives on: a few metres, or across the city. */
        for (size_t i = 0; i < N; i += 3) {
            size_t k = (i + (size_t)round) % N;
            double step = round % 2 ? 0.0005 : 0.05;
            refs[k].lat += (frand() - 0.5) * step;
            refs[k].lon += (frand() - 0.5) * step;
            assert_int_equal(avl_grid_move(&g, refs[k].unit, refs[k].lat, refs[k].lon, 2 + round),
                             0);
        }
        for (int q = 0; q < 40; q++) {
            double lat = 33.45 + frand() * 0.25, lon = -7.75 + frand() * 0.30;
            double radius = 10 * pow(5000, frand()); /* 10 m to 50 km */
            check_query(&g, refs, N, lat, lon, radius, q % 4 ? N : 5);
        }
    }
    const struct avl_grid_unit *u = avl_grid_get(&g, refs[7].unit);
    assert_non_null(u);
    assert_true(u->lat == refs[7].lat && u->lon == refs[7].lon);
    assert_null(avl_grid_get(&g, "NO-SUCH"));
    /* Every unit is in exactly one cell, at its slot. */
    size_t in_cells = 0;
    for (size_t i = 0; i < g.ncells; i++)
        if (g.cells[i].used) {
            in_cells += g.cells[i].n;
            for (size_t k = 0; k < g.cells[i].n; k++) {
                const struct avl_grid_unit *x = &g.units[g.cells[i].ids[k]];
                assert_int_equal(x->cell, g.cells[i].key);
                assert_int_equal(x->slot, k);
            }
        }
    assert_int_equal(in_cells, N);
    free(refs);
    avl_grid_free(&g);
}

static void test_late_report_and_exact_edge(void **state)
{
    (void)state;
    struct avl_grid g;
    assert_int_equal(avl_grid_init(&g, 200), 0);
    assert_int_equal(avl_grid_move(&g, "RBA-K9-01", 34.0209, -6.8416, 1000), 0);
    /* An older position does not move the unit back. */
    assert_int_equal(avl_grid_move(&g, "RBA-K9-01", 34.5, -6.0, 999), 0);
    assert_true(avl_grid_get(&g, "RBA-K9-01")->lat == 34.0209);
    assert_int_equal(avl_grid_move(&g, "RBA-K9-01", 34.0300, -6.8416, 1001), 0);
    double d = geo_distance_m(34.0209, -6.8416, 34.0300, -6.8416);
    struct avl_grid_hit hit[2];
    size_t n;
    assert_int_equal(avl_grid_near(&g, 34.0209, -6.8416, d, 2, hit, &n), 0);
    assert_int_equal(n, 1); /* exactly at the radius: inside */
    assert_int_equal(avl_grid_near(&g, 34.0209, -6.8416, d - 0.01, 2, hit, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(avl_grid_near(&g, 34.0209, -6.8416, 1e7, 0, hit, &n), 0);
    assert_int_equal(n, 0); /* max 0 */
    avl_grid_free(&g);
}

static void test_date_line_and_poles(void **state)
{
    (void)state;
    struct avl_grid g;
    assert_int_equal(avl_grid_init(&g, 1000), 0);
    struct ref refs[] = {{"EAST", 0.0, 179.999},
                         {"WEST", 0.0, -179.999},
                         {"NORTH", 89.99, 10},
                         {"NORTH2", 89.99, -170},
                         {"CAS", 33.57, -7.59}};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(avl_grid_move(&g, refs[i].unit, refs[i].lat, refs[i].lon, 1), 0);
    check_query(&g, refs, 5, 0.0, 180.0, 1000, 5); /* both sides of the line */
    check_query(&g, refs, 5, 0.0, -180.0, 300, 5);
    check_query(&g, refs, 5, 90.0, 0.0, 5000, 5); /* both near the pole */
    check_query(&g, refs, 5, 33.5, -7.5, 2e7, 5); /* the whole Earth */
    avl_grid_free(&g);
}

static void test_refuses_bad_input(void **state)
{
    (void)state;
    struct avl_grid g;
    assert_int_equal(avl_grid_init(&g, 5), AM_EINVAL);
    assert_int_equal(avl_grid_init(&g, NAN), AM_EINVAL);
    assert_int_equal(avl_grid_init(&g, 500), 0);
    assert_int_equal(avl_grid_move(&g, "", 33, -7, 1), AM_EINVAL);
    assert_int_equal(avl_grid_move(&g, NULL, 33, -7, 1), AM_EINVAL);
    assert_int_equal(avl_grid_move(&g, "A-NAME-OF-THIRTY-TWO-BYTES-12345", 33, -7, 1), AM_EINVAL);
    assert_int_equal(avl_grid_move(&g, "U", 91, -7, 1), AM_EINVAL);
    assert_int_equal(avl_grid_move(&g, "U", 33, -180.5, 1), AM_EINVAL);
    assert_int_equal(avl_grid_move(&g, "U", NAN, -7, 1), AM_EINVAL);
    assert_int_equal(g.nunits, 0);
    struct avl_grid_hit hit;
    size_t n = 7;
    assert_int_equal(avl_grid_near(&g, 33, -7, -1, 1, &hit, &n), AM_EINVAL);
    assert_int_equal(n, 0);
    assert_int_equal(avl_grid_near(&g, 33, -7, 100, 1, &hit, &n), 0);
    assert_int_equal(n, 0);
    avl_grid_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_brute_force),
        cmocka_unit_test(test_late_report_and_exact_edge),
        cmocka_unit_test(test_date_line_and_poles),
        cmocka_unit_test(test_refuses_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
