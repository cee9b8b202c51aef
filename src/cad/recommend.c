/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * recommend.c - which unit to send: the available units ranked by the time
 * they need to reach the incident by road (src/geo: one search from the
 * incident on the reversed graph), not by straight-line distance, which
 * ignores one-way streets, rivers and motorways. A unit whose position is
 * older than cad_opts.stale_s is ranked after every fresh one: it may have
 * moved. Also a unit's route to an incident, for the patrol terminal.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cad/cad_int.h"

#define RECOMMEND_MAX_UNITS 20000 /* available units read for one ranking */

struct candidate {
    char callsign[32], kind[24];
    double lat, lon;
    int64_t position_us; /* 0: no position */
    int64_t snap_graph;  /* the graph the stored snap was made on (geo_roads_id()) */
    int64_t snap_edge;   /* -1: off-road on that graph */
    double snap_frac, snap_m;
};

struct rec_read {
    /* in */
    const char *number, *capability, *kind, *callsign;
    /* out */
    bool found, has_location;
    char status[20];
    double lat, lon;
    struct candidate *c;
    size_t n, cap;
    bool too_many;
};

static int incident_row(struct store_row *r, void *arg)
{
    struct rec_read *x = arg;
    x->found = true;
    am_strlcpy(x->status, store_row_text(r, 0), sizeof(x->status));
    x->has_location = !store_row_null(r, 1) && !store_row_null(r, 2);
    x->lat = store_row_double(r, 1);
    x->lon = store_row_double(r, 2);
    return 0;
}

static int unit_row(struct store_row *r, void *arg)
{
    struct rec_read *x = arg;
    if (x->n == RECOMMEND_MAX_UNITS) {
        x->too_many = true;
        return 1;
    }
    if (am_grow(&x->c, &x->cap, x->n + 1, sizeof(*x->c), 256))
        return AM_ENOMEM;
    struct candidate *c = &x->c[x->n++];
    am_strlcpy(c->callsign, store_row_text(r, 0), sizeof(c->callsign));
    am_strlcpy(c->kind, store_row_text(r, 1), sizeof(c->kind));
    c->position_us = store_row_null(r, 4) ? 0 : store_row_i64(r, 4);
    c->lat = store_row_double(r, 2);
    c->lon = store_row_double(r, 3);
    c->snap_graph = store_row_null(r, 5) ? 0 : store_row_i64(r, 5);
    c->snap_edge = store_row_null(r, 6) ? -1 : store_row_i64(r, 6);
    c->snap_frac = store_row_double(r, 7);
    c->snap_m = store_row_double(r, 8);
    return 0;
}

/*
 * Where a unit is on the road: the snap stored with its position if it was
 * made on this graph, else a new one. 0, or AM_ENOTFOUND when off-road.
 */
static int unit_snap(const struct cad *cad, const struct candidate *c, struct geo_snap *out)
{
    const struct geo_roads *g = cad->o.roads;
    if (c->snap_graph == (int64_t)geo_roads_id(g)) {
        if (c->snap_edge < 0)
            return AM_ENOTFOUND;
        if (c->snap_edge <= UINT32_MAX &&
            geo_roads_snap_at(g, (uint32_t)c->snap_edge, c->snap_frac, c->snap_m, out) == 0)
            return 0;
    }
    return geo_roads_snap(g, c->lat, c->lon, cad->o.snap_max_m, out) ? AM_ENOTFOUND : 0;
}

#define UNIT_COLUMNS                                                                               \
    "callsign, kind, lat, lon, position_us, snap_graph, snap_edge, snap_frac, snap_m"

static int read_all(struct store_conn *c, void *arg)
{
    struct rec_read *x = arg;
    int rc = store_query(c, "SELECT status, lat, lon FROM incidents WHERE number = ?", incident_row,
                         x, "t", x->number);
    if (rc || !x->found)
        return rc;
    if (x->callsign)
        return store_query(c, "SELECT " UNIT_COLUMNS " FROM units WHERE callsign = ?", unit_row, x,
                           "t", x->callsign);
    /* The capability and kind filters are bound even when absent (NULL matches all). */
    rc = store_query(c,
                     "SELECT " UNIT_COLUMNS
                     " FROM units WHERE status = 'available' AND (?1 IS NULL OR kind = ?1)"
                     " AND (?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(units.capabilities)"
                     " WHERE value = ?2)) ORDER BY callsign",
                     unit_row, x, "tt", x->kind, x->capability);
    return rc > 0 ? 0 : rc;
}

/* Reads the incident and the candidates, and snaps the incident to the road. */
static int prepare(struct cad *cad, struct rec_read *x, struct geo_snap *dest, char *why,
                   size_t whysz)
{
    if (!cad->o.roads) {
        snprintf(why, whysz, "this server has no road graph (roads.graph = off)");
        return AM_EBUSY;
    }
    int rc = store_read(cad->st, read_all, x);
    if (rc)
        return rc;
    if (!x->found) {
        snprintf(why, whysz, "no such incident");
        return AM_ENOTFOUND;
    }
    if (!strcmp(x->status, "closed") || !strcmp(x->status, "merged")) {
        snprintf(why, whysz, "incident %s is %s", x->number, x->status);
        return AM_ECONFLICT;
    }
    if (!x->has_location) {
        snprintf(why, whysz, "incident %s has no coordinates, only an address", x->number);
        return AM_EINVAL;
    }
    if (geo_roads_snap(cad->o.roads, x->lat, x->lon, cad->o.snap_max_m, dest)) {
        snprintf(why, whysz, "incident %s is more than %.0f m from any road of the graph",
                 x->number, cad->o.snap_max_m);
        return AM_EINVAL;
    }
    return 0;
}

static json_t *position_json(const struct candidate *c, const struct geo_snap *s)
{
    char ts[AM_TIME_BUFSZ];
    json_t *p = json_pack("{sf sf ss}", "lat", c->lat, "lon", c->lon, "at",
                          am_time_fmt(c->position_us, ts, sizeof(ts)));
    if (p && s)
        json_object_set_new(p, "snap_m", json_real(round(s->dist_m * 10) / 10));
    return p;
}

static json_t *snap_json(double lat, double lon, const struct geo_snap *s)
{
    return json_pack("{sf sf sf sf sf}", "lat", lat, "lon", lon, "road_lat", s->lat, "road_lon",
                     s->lon, "snap_m", round(s->dist_m * 10) / 10);
}

int cad_recommend(struct cad *cad, const char *number, int k, const char *capability,
                  const char *kind, bool emergency, json_t **out, char *why, size_t whysz)
{
    *out = NULL;
    struct rec_read x = {.number = number, .capability = capability, .kind = kind};
    struct geo_snap dest, *snaps = NULL;
    size_t *which = NULL; /* snaps[j] is candidate which[j] */
    bool *stale = NULL;
    struct geo_rank *ranked = NULL;
    json_t *units = NULL, *unlocated = NULL, *offroad = NULL;
    if (k < 1 || k > 50) {
        snprintf(why, whysz, "k must be 1 to 50");
        return AM_EINVAL;
    }
    int rc = prepare(cad, &x, &dest, why, whysz);
    if (rc)
        goto out;
    if (x.too_many) {
        snprintf(why, whysz, "more than %d available units: filter by capability or kind",
                 RECOMMEND_MAX_UNITS);
        rc = AM_ETOOBIG;
        goto out;
    }
    rc = AM_ENOMEM;
    size_t n1 = x.n ? x.n : 1;
    snaps = malloc(n1 * sizeof(*snaps));
    which = malloc(n1 * sizeof(*which));
    stale = malloc(n1 * sizeof(*stale));
    ranked = malloc((size_t)k * sizeof(*ranked));
    units = json_array();
    unlocated = json_array();
    offroad = json_array();
    if (!snaps || !which || !stale || !ranked || !units || !unlocated || !offroad)
        goto out;
    int64_t now = am_now_us(), stale_us = cad->o.stale_s * 1000000LL;
    size_t ns = 0;
    for (size_t i = 0; i < x.n; i++) {
        const struct candidate *c = &x.c[i];
        if (!c->position_us) {
            json_array_append_new(unlocated, json_string(c->callsign));
            continue;
        }
        if (unit_snap(cad, c, &snaps[ns])) {
            json_array_append_new(offroad, json_string(c->callsign));
            continue;
        }
        which[ns] = i;
        stale[ns] = now - c->position_us > stale_us;
        ns++;
    }
    size_t nr = 0;
    rc = geo_roads_rank(cad->o.roads, &dest, snaps, ns, (size_t)k, stale,
                        emergency ? &geo_speed_emergency : NULL, ranked, &nr);
    if (rc)
        goto out;
    for (size_t r = 0; r < nr; r++) {
        size_t j = ranked[r].src;
        const struct candidate *c = &x.c[which[j]];
        double straight = geo_distance_m(c->lat, c->lon, x.lat, x.lon);
        json_t *u =
            json_pack("{si ss ss sf sf sf sb so}", "rank", (int)r + 1, "callsign", c->callsign,
                      "kind", c->kind, "eta_s", round(ranked[r].eta.eta_s * 10) / 10, "road_m",
                      round(ranked[r].eta.length_m), "straight_m", round(straight), "stale",
                      stale[j], "position", position_json(c, &snaps[j]));
        if (!u || json_array_append_new(units, u))
            goto out;
    }
    *out = json_pack("{ss so sb si ss? ss? sI so so so}", "incident", number, "location",
                     snap_json(x.lat, x.lon, &dest), "emergency", emergency, "k", k, "capability",
                     capability, "kind", kind, "candidates", (json_int_t)x.n, "units", units,
                     "unlocated", unlocated, "off_road", offroad);
    units = unlocated = offroad = NULL;
    rc = *out ? 0 : AM_ENOMEM;
out:
    json_decref(units);
    json_decref(unlocated);
    json_decref(offroad);
    free(snaps);
    free(which);
    free(stale);
    free(ranked);
    free(x.c);
    return rc;
}

int cad_unit_route(struct cad *cad, const char *number, const char *callsign, bool emergency,
                   json_t **out, char *why, size_t whysz)
{
    *out = NULL;
    struct rec_read x = {.number = number, .callsign = callsign};
    struct geo_snap dest, from;
    struct geo_route r = {0};
    int rc = prepare(cad, &x, &dest, why, whysz);
    if (rc)
        goto out;
    if (x.n == 0) {
        snprintf(why, whysz, "no unit %.31s", callsign);
        rc = AM_ENOTFOUND;
        goto out;
    }
    const struct candidate *c = &x.c[0];
    if (!c->position_us) {
        snprintf(why, whysz, "unit %s has not reported a position", c->callsign);
        rc = AM_EINVAL;
        goto out;
    }
    if (unit_snap(cad, c, &from)) {
        snprintf(why, whysz, "unit %s is more than %.0f m from any road", c->callsign,
                 cad->o.snap_max_m);
        rc = AM_EINVAL;
        goto out;
    }
    rc = geo_roads_route(cad->o.roads, &from, &dest, emergency ? &geo_speed_emergency : NULL, &r);
    if (rc) {
        snprintf(why, whysz, "no route from %s to incident %s", c->callsign, number);
        goto out;
    }
    json_t *pts = json_array();
    for (size_t i = 0; pts && i < r.npoints; i++)
        json_array_append_new(pts, json_pack("[ff]", r.points[2 * i], r.points[2 * i + 1]));
    *out = json_pack("{ss ss sf sf sf sb sb so so so}", "incident", number, "unit", c->callsign,
                     "eta_s", round(r.eta_s * 10) / 10, "length_m", round(r.length_m), "straight_m",
                     round(geo_distance_m(c->lat, c->lon, x.lat, x.lon)), "emergency", emergency,
                     "stale", am_now_us() - c->position_us > cad->o.stale_s * 1000000LL, "from",
                     position_json(c, &from), "to", snap_json(x.lat, x.lon, &dest), "points", pts);
    rc = *out ? 0 : AM_ENOMEM;
out:
    geo_route_release(&r);
    free(x.c);
    return rc;
}
