/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * api_roads.c - the road routes: what graph the server routes on, and the
 * fastest route between two points with its geometry (the patrol terminal
 * draws it; integration tests compare its times with pgRouting's).
 * Incident-related routing (recommendations, a unit's route to an
 * incident) lives with CAD.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"

#define R(x) AM_ROLE_BIT(AM_ROLE_##x)
static const unsigned FIELD = R(ADMIN) | R(SUPERVISOR) | R(DISPATCHER) | R(PATROL);

static void roads_info(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    if (!a->roads) {
        http_problem(resp, req, 503, "no-road-graph", "Routing unavailable",
                     "this server has no road graph (roads.graph = off)");
        return;
    }
    struct geo_roads_info in;
    geo_roads_info(a->roads, &in);
    json_t *classes = json_object();
    for (int c = 0; c < GEO_RC_COUNT; c++)
        if (in.edges_by_class[c])
            json_object_set_new(classes, geo_road_class_name(c),
                                json_integer(in.edges_by_class[c]));
    http_json(resp, 200,
              json_pack("{sI sI sI sf s[ffff] so sI sI}", "nodes", (json_int_t)in.nodes, "edges",
                        (json_int_t)in.edges, "dropped_nodes", (json_int_t)in.dropped_nodes,
                        "length_km", round(in.length_km * 10) / 10, "bbox", in.min_lat, in.min_lon,
                        in.max_lat, in.max_lon, "edges_by_class", classes, "snap_max_m",
                        (json_int_t)a->cfg.roads_snap_max_m, "stale_after_s",
                        (json_int_t)a->cfg.roads_stale_s));
}

/* Parses "LAT,LON" (degrees) from query argument `name`; false if absent or malformed. */
static bool point_arg(struct http_req *req, const char *name, double *lat, double *lon)
{
    const char *s = http_arg(req, name);
    if (!s)
        return false;
    char *end;
    errno = 0;
    *lat = strtod(s, &end);
    if (end == s || *end != ',' || errno)
        return false;
    const char *p = end + 1;
    *lon = strtod(p, &end);
    return end != p && !*end && !errno && isfinite(*lat) && isfinite(*lon) && *lat >= -90 &&
           *lat <= 90 && *lon >= -180 && *lon <= 180;
}

/* The "emergency" argument: absent, 0 or 1. */
static bool emergency_arg(struct http_req *req, bool *out)
{
    const char *e = http_arg(req, "emergency");
    *out = e && strcmp(e, "1") == 0;
    return !e || strcmp(e, "0") == 0 || strcmp(e, "1") == 0;
}

static json_t *end_json(const struct geo_snap *s, double lat, double lon)
{
    return json_pack("{sf sf sf sf sf}", "lat", lat, "lon", lon, "road_lat", s->lat, "road_lon",
                     s->lon, "snap_m", round(s->dist_m * 10) / 10);
}

static void roads_route(struct http_req *req, struct http_resp *resp, void *arg)
{
    struct app *a = arg;
    double flat, flon, tlat, tlon;
    bool emergency;
    if (!point_arg(req, "from", &flat, &flon) || !point_arg(req, "to", &tlat, &tlon) ||
        !emergency_arg(req, &emergency)) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "from and to must be LAT,LON in degrees (lat in [-90, 90], lon in "
                     "[-180, 180]); emergency 0 or 1");
        return;
    }
    if (!a->roads) {
        http_problem(resp, req, 503, "no-road-graph", "Routing unavailable",
                     "this server has no road graph (roads.graph = off)");
        return;
    }
    double max_m = (double)a->cfg.roads_snap_max_m;
    struct geo_snap from, to;
    if (geo_roads_snap(a->roads, flat, flon, max_m, &from) ||
        geo_roads_snap(a->roads, tlat, tlon, max_m, &to)) {
        http_problem(resp, req, 422, "off-road", "Point far from any road",
                     "from and to must each be within %.0f m of a road of the loaded graph", max_m);
        return;
    }
    struct geo_route r;
    int rc = geo_roads_route(a->roads, &from, &to, emergency ? &geo_speed_emergency : NULL, &r);
    if (rc) {
        http_problem_err(resp, req, rc, rc == AM_ENOTFOUND ? "no route between the points" : NULL);
        return;
    }
    json_t *pts = json_array();
    for (size_t i = 0; i < r.npoints; i++)
        json_array_append_new(pts, json_pack("[ff]", r.points[2 * i], r.points[2 * i + 1]));
    json_t *v =
        json_pack("{sf sf sb so so so}", "eta_s", r.eta_s, "length_m", round(r.length_m * 10) / 10,
                  "emergency", emergency, "from", end_json(&from, flat, flon), "to",
                  end_json(&to, tlat, tlon), "points", pts);
    geo_route_release(&r);
    http_json(resp, 200, v);
}

int app_routes_roads(struct app *a)
{
    int rc = http_route(a->http, HTTP_GET, "/api/v1/roads", FIELD, 0, roads_info, a);
    return rc ? rc : http_route(a->http, HTTP_GET, "/api/v1/roads/route", FIELD, 0, roads_route, a);
}
