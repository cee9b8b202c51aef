/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * premise.c - premise and hazard notes: a warning attached to a point and a
 * radius ("armed occupant", "dangerous dog", "gas cylinders stored"),
 * returned with every incident located within that radius, so the crew is
 * told before they arrive.
 */
#include <math.h>
#include <string.h>

#include "cad/cad_int.h"
#include "geo/geo.h"

#define RADIUS_MAX_M 2000
/* Degrees of latitude spanning RADIUS_MAX_M, with margin: the SQL prefilter. */
#define PREFILTER_DEG 0.03

static const char *const kinds[] = {"hazard", "premise", NULL};

int cad_apply_premise(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x)
{
    double lat, lon;
    int radius;
    const char *text, *kind = "hazard";
    int rc = cad_unpack(cmd, x->req, "{s:F, s:F, s:i, s:s, s?s}", "lat", &lat, "lon", &lon,
                        "radius_m", &radius, "text", &text, "kind", &kind);
    if (rc)
        return rc;
    if (!isfinite(lat) || !isfinite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180)
        return cad_fail(cmd, AM_EINVAL, "coordinates out of range");
    if (x->cad->o.locate) {
        struct cad_place p;
        if (x->cad->o.locate(x->cad->o.locate_arg, lat, lon, &p))
            return cad_fail(cmd, AM_EINVAL, "the location %.5f, %.5f is outside Morocco", lat, lon);
    }
    if (radius < 1 || radius > RADIUS_MAX_M)
        return cad_fail(cmd, AM_EINVAL, "radius_m must be 1 to %d", RADIUS_MAX_M);
    if (!cad_text_ok(text, 500))
        return cad_fail(cmd, AM_EINVAL, "text must be 1 to 500 bytes of text");
    bool ok = false;
    for (const char *const *k = kinds; *k; k++)
        ok = ok || !strcmp(*k, kind);
    if (!ok)
        return cad_fail(cmd, AM_EINVAL, "kind must be hazard or premise");
    int64_t now = am_now_us();
    rc = store_exec(c,
                    "INSERT INTO premise_notes(lat, lon, radius_m, kind, text, author, created_us)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    "ddittti", lat, lon, (int64_t)radius, kind, text, cmd->actor, now);
    if (rc)
        return rc;
    int64_t id = store_last_id(c);
    x->result = json_pack("{sI sf sf si ss ss ss}", "id", (json_int_t)id, "lat", lat, "lon", lon,
                          "radius_m", radius, "kind", kind, "text", text, "author", cmd->actor);
    x->status = 201;
    return cad_event(c, cmd, 0, "cad.premise.added", json_incref(x->result));
}

struct near {
    double lat, lon;
    json_t *out;
};

static int near_row(struct store_row *r, void *arg)
{
    struct near *n = arg;
    double lat = store_row_double(r, 1), lon = store_row_double(r, 2);
    double d = geo_distance_m(n->lat, n->lon, lat, lon);
    if (d > (double)store_row_i64(r, 3))
        return 0;
    json_t *h = json_pack("{sI ss ss si si}", "id", (json_int_t)store_row_i64(r, 0), "kind",
                          store_row_text(r, 4), "text", store_row_text(r, 5), "radius_m",
                          (int)store_row_i64(r, 3), "distance_m", (int)(d + 0.5));
    return h && !json_array_append_new(n->out, h) ? 0 : AM_ENOMEM;
}

int cad_premise_near(struct store_conn *c, double lat, double lon, json_t *out)
{
    struct near n = {lat, lon, out};
    double dlon = PREFILTER_DEG / fmax(cos(lat * M_PI / 180.0), 0.01);
    return store_query(c,
                       "SELECT id, lat, lon, radius_m, kind, text FROM premise_notes"
                       " WHERE lat BETWEEN ? AND ? AND lon BETWEEN ? AND ? ORDER BY id",
                       near_row, &n, "dddd", lat - PREFILTER_DEG, lat + PREFILTER_DEG, lon - dlon,
                       lon + dlon);
}

static int list_row(struct store_row *r, void *arg)
{
    json_t *h = json_pack("{sI sf sf si ss ss ss}", "id", (json_int_t)store_row_i64(r, 0), "lat",
                          store_row_double(r, 1), "lon", store_row_double(r, 2), "radius_m",
                          (int)store_row_i64(r, 3), "kind", store_row_text(r, 4), "text",
                          store_row_text(r, 5), "author", store_row_text(r, 6));
    return h && !json_array_append_new(arg, h) ? 0 : AM_ENOMEM;
}

static int list_read(struct store_conn *c, void *arg)
{
    return store_query(c,
                       "SELECT id, lat, lon, radius_m, kind, text, author FROM premise_notes"
                       " ORDER BY id",
                       list_row, arg, NULL);
}

int cad_premise_list(struct cad *cad, json_t **out)
{
    json_t *arr = json_array();
    int rc = arr ? store_read(cad->st, list_read, arr) : AM_ENOMEM;
    if (rc) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}
