/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * api.c - the field link's routes on the main API: the device registry
 * (which phone, tracker or vehicle reports for which unit) and a unit's
 * trail. The devices themselves speak their own protocols on their own
 * ports (listeners.c), not this API.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "avl/avl.h"
#include "http/http.h"

#define R(x) AM_ROLE_BIT(AM_ROLE_##x)
static const unsigned ROOM = R(ADMIN) | R(SUPERVISOR) | R(DISPATCHER);
static const unsigned FIELD = R(ADMIN) | R(SUPERVISOR) | R(DISPATCHER) | R(PATROL);
static const unsigned COMMAND = R(ADMIN) | R(SUPERVISOR);

static void fail(struct http_req *req, struct http_resp *resp, int rc, const char *why)
{
    if (rc == AM_EINVAL)
        http_problem(resp, req, 422, "validation", "Invalid request", "%s", why);
    else
        http_problem_err(resp, req, rc, why);
}

static void bind_device(struct http_req *req, struct http_resp *resp, void *arg)
{
    const char *device, *protocol, *unit;
    if (http_unpack(req, resp, "{s:s, s:s, s:s}", "device", &device, "protocol", &protocol, "unit",
                    &unit))
        return;
    char why[200];
    int rc = avl_device_set(arg, req->who.username, device, protocol, unit, why, sizeof(why));
    if (rc) {
        fail(req, resp, rc, why);
        return;
    }
    http_json(resp, 201,
              json_pack("{ss ss ss}", "device", device, "protocol", protocol, "unit", unit));
}

static void unbind_device(struct http_req *req, struct http_resp *resp, void *arg)
{
    char why[200];
    int rc = avl_device_set(arg, req->who.username, req->param[0], NULL, NULL, why, sizeof(why));
    if (rc) {
        fail(req, resp, rc, why);
        return;
    }
    resp->status = 204;
}

static void list_devices(struct http_req *req, struct http_resp *resp, void *arg)
{
    json_t *v = NULL;
    int rc = avl_device_list(arg, &v);
    if (rc) {
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    http_json(resp, 200, json_pack("{so}", "items", v));
}

static void trail(struct http_req *req, struct http_resp *resp, void *arg)
{
    const char *from_s = http_arg(req, "from"), *to_s = http_arg(req, "to"),
               *limit_s = http_arg(req, "limit");
    int64_t now = am_now_us(), from = now - 3600 * 1000000LL, to = now + 1, limit = 2000;
    if ((from_s && am_time_parse(from_s, &from)) || (to_s && am_time_parse(to_s, &to)) ||
        to <= from || (limit_s && am_parse_i64(limit_s, 1, 20000, &limit))) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "from and to must be RFC 3339 times with from < to (default: the last "
                     "hour); limit an integer in [1, 20000]");
        return;
    }
    json_t *pts = NULL;
    int rc = avl_trail(arg, req->param[0], from, to, (int)limit, &pts);
    if (rc) {
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    char a[AM_TIME_BUFSZ], b[AM_TIME_BUFSZ];
    http_json(resp, 200,
              json_pack("{ss ss ss so}", "unit", req->param[0], "from",
                        am_time_fmt(from, a, sizeof(a)), "to", am_time_fmt(to, b, sizeof(b)),
                        "points", pts));
}

/* A query argument as a finite number, or `dflt` when absent; NAN when malformed. */
static double num_arg(struct http_req *req, const char *name, double dflt)
{
    const char *v = http_arg(req, name);
    char *end;
    if (!v)
        return dflt;
    double d = strtod(v, &end);
    return *v && !*end && isfinite(d) ? d : NAN;
}

static void units_near(struct http_req *req, struct http_resp *resp, void *arg)
{
    double lat = num_arg(req, "lat", NAN), lon = num_arg(req, "lon", NAN);
    double radius = num_arg(req, "radius_m", 2000);
    const char *limit_s = http_arg(req, "limit");
    int64_t limit = 20;
    if (!(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180) ||
        !(radius >= 1 && radius <= 200000) || (limit_s && am_parse_i64(limit_s, 1, 500, &limit))) {
        http_problem(resp, req, 422, "validation", "Invalid request",
                     "lat in [-90, 90] and lon in [-180, 180] are required; radius_m in [1, "
                     "200000] (default 2000); limit an integer in [1, 500] (default 20)");
        return;
    }
    json_t *items = NULL;
    int rc = avl_units_near(arg, lat, lon, radius, (size_t)limit, &items);
    if (rc) {
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    http_json(resp, 200, json_pack("{so}", "items", items));
}

static void add_geofence(struct http_req *req, struct http_resp *resp, void *arg)
{
    char why[256] = "";
    int64_t id = 0;
    int rc = avl_geofence_add(arg, req->who.username, req->json, &id, why, sizeof(why));
    if (rc) {
        fail(req, resp, rc, why);
        return;
    }
    http_json(resp, 201, json_pack("{sI}", "id", (json_int_t)id));
}

static void remove_geofence(struct http_req *req, struct http_resp *resp, void *arg)
{
    int64_t id;
    char why[200] = "";
    if (am_parse_i64(req->param[0], 1, INT64_MAX, &id)) {
        http_problem(resp, req, 404, "not-found", "Not found", "no such geofence");
        return;
    }
    int rc = avl_geofence_remove(arg, req->who.username, id, why, sizeof(why));
    if (rc) {
        fail(req, resp, rc, why);
        return;
    }
    resp->status = 204;
}

static void list_geofences(struct http_req *req, struct http_resp *resp, void *arg)
{
    json_t *v = NULL;
    int rc = avl_geofence_list(arg, &v);
    if (rc) {
        http_problem_err(resp, req, rc, NULL);
        return;
    }
    http_json(resp, 200, json_pack("{so}", "items", v));
}

int avl_routes(struct http_server *srv, struct avl *a)
{
    int rc = http_route(srv, HTTP_POST, "/api/v1/devices", COMMAND, HTTP_JSON_BODY, bind_device, a);
    rc = rc ? rc : http_route(srv, HTTP_GET, "/api/v1/devices", ROOM, 0, list_devices, a);
    rc =
        rc ? rc
           : http_route(srv, HTTP_DELETE, "/api/v1/devices/{device}", COMMAND, 0, unbind_device, a);
    rc = rc ? rc : http_route(srv, HTTP_GET, "/api/v1/units/{callsign}/trail", FIELD, 0, trail, a);
    rc = rc ? rc : http_route(srv, HTTP_GET, "/api/v1/units/near", FIELD, 0, units_near, a);
    rc =
        rc ? rc
           : http_route(srv, HTTP_POST, "/api/v1/geofences", ROOM, HTTP_JSON_BODY, add_geofence, a);
    rc = rc ? rc : http_route(srv, HTTP_GET, "/api/v1/geofences", FIELD, 0, list_geofences, a);
    rc = rc ? rc
            : http_route(srv, HTTP_DELETE, "/api/v1/geofences/{id}", ROOM, 0, remove_geofence, a);
    return rc;
}
