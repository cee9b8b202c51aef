/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * geofence.c - areas the room watches: polygons with holes (GeoJSON, read
 * by src/geo), fixed circles, and circles that move with a unit (an escort
 * around a VIP car). When a unit's newest position of a trail batch takes
 * it into or out of a geofence, the batch appends avl.geofence.entered or
 * .exited, so the stream tells the room in the same commit. A unit's
 * membership is evaluated when it reports; a moving circle is where its
 * unit last reported.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avl/avl_int.h"
#include "geo/geo.h"

struct fence {
    int64_t id;
    char name[128];
    struct geo_areas *poly; /* NULL for a circle */
    double lat, lon, radius_m;
    char follows[32]; /* a circle around this unit, or "" */
};

void avl_fences_free(struct avl_fences *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        geo_areas_free(fs->v[i].poly);
    free(fs->v);
    memset(fs, 0, sizeof(*fs));
}

/* Wraps a GeoJSON geometry as the one-feature collection src/geo reads. */
static int polygon_of(const char *geometry, struct geo_areas **out, char *why, size_t whysz)
{
    struct am_buf b;
    am_buf_init(&b, 1024 * 1024 + 256);
    int rc = am_buf_printf(&b,
                           "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
                           "\"properties\":{\"code\":\"GF\"},\"geometry\":%s}]}",
                           geometry);
    if (!rc)
        rc = geo_areas_load_buffer(b.data, b.len, out, why, whysz);
    am_buf_release(&b);
    return rc;
}

static int fence_add(struct avl_fences *fs, const struct fence *f)
{
    if (am_grow(&fs->v, &fs->cap, fs->n + 1, sizeof(*fs->v), 16))
        return AM_ENOMEM;
    fs->v[fs->n++] = *f;
    return 0;
}

static int load_row(struct store_row *r, void *arg)
{
    struct avl_fences *fs = arg;
    struct fence f = {.id = store_row_i64(r, 0)};
    am_strlcpy(f.name, store_row_text(r, 1), sizeof(f.name));
    if (!store_row_null(r, 2)) {
        char why[160];
        if (polygon_of(store_row_text(r, 2), &f.poly, why, sizeof(why)))
            return 0; /* checked when stored: cannot happen */
    }
    f.lat = store_row_double(r, 3);
    f.lon = store_row_double(r, 4);
    f.radius_m = store_row_double(r, 5);
    if (!store_row_null(r, 6))
        am_strlcpy(f.follows, store_row_text(r, 6), sizeof(f.follows));
    int rc = fence_add(fs, &f);
    if (rc)
        geo_areas_free(f.poly);
    return rc;
}

int avl_fences_load(struct store_conn *c, struct avl_fences *fs)
{
    return store_query(c,
                       "SELECT id, name, geometry, lat, lon, radius_m, follows FROM avl_geofences"
                       " ORDER BY id",
                       load_row, fs, NULL);
}

/* ---------------------------------------------------------------- evaluation */

static int count_row(struct store_row *r, void *arg)
{
    *(int64_t *)arg = store_row_i64(r, 0);
    return 0;
}

int avl_fences_apply(struct avl *a, struct store_conn *c, struct store_cmd *cmd, const char *unit,
                     double lat, double lon, int64_t time_us)
{
    int rc = 0;
    pthread_mutex_lock(&a->mu);
    struct avl_fences *fs = &a->fences;
    for (size_t i = 0; i < fs->n && !rc; i++) {
        const struct fence *f = &fs->v[i];
        bool inside;
        if (f->poly) {
            inside = geo_areas_find(f->poly, lat, lon) >= 0;
        } else {
            double clat = f->lat, clon = f->lon;
            if (f->follows[0]) {
                if (strcmp(f->follows, unit) == 0)
                    continue; /* a unit is never outside its own escort */
                if (avl_live_position(a, f->follows, &clat, &clon))
                    continue; /* the escorted unit has not reported */
            }
            inside = geo_distance_m(lat, lon, clat, clon) <= f->radius_m;
        }
        int64_t was = 0;
        rc = store_query(c,
                         "SELECT count(*) FROM avl_geofence_inside WHERE geofence_id = ? AND"
                         " unit = ?",
                         count_row, &was, "it", f->id, unit);
        if (rc || (was != 0) == inside)
            continue;
        rc = inside
                 ? store_exec(c, "INSERT INTO avl_geofence_inside(geofence_id, unit) VALUES (?, ?)",
                              "it", f->id, unit)
                 : store_exec(c,
                              "DELETE FROM avl_geofence_inside WHERE geofence_id = ? AND"
                              " unit = ?",
                              "it", f->id, unit);
        char ts[AM_TIME_BUFSZ];
        json_t *ev =
            json_pack("{sI ss ss sf sf ss}", "geofence", (json_int_t)f->id, "name", f->name, "unit",
                      unit, "lat", lat, "lon", lon, "time", am_time_fmt(time_us, ts, sizeof(ts)));
        if (!rc)
            rc = ev ? store_append(c, cmd, inside ? "avl.geofence.entered" : "avl.geofence.exited",
                                   ev, NULL)
                    : AM_ENOMEM;
        json_decref(ev);
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* ---------------------------------------------------------------- operations */

struct fence_op {
    struct fence f;
    const char *geometry; /* GeoJSON text of a polygon, or NULL */
    int64_t del;          /* id to delete, or 0 */
    char why[200];
};

static int fence_apply(struct store_conn *c, struct store_cmd *cmd)
{
    struct fence_op *op = cmd->arg;
    int rc;
    json_t *ev;
    if (op->del) {
        rc = store_exec(c, "DELETE FROM avl_geofences WHERE id = ?", "i", op->del);
        if (!rc && store_changes(c) == 0) {
            snprintf(op->why, sizeof(op->why), "no geofence %lld", (long long)op->del);
            return AM_ENOTFOUND;
        }
        if (!rc)
            rc = store_exec(c, "DELETE FROM avl_geofence_inside WHERE geofence_id = ?", "i",
                            op->del);
        ev = json_pack("{sI}", "geofence", (json_int_t)op->del);
    } else {
        if (op->f.follows[0]) {
            rc = cad_unit_exists(c, op->f.follows);
            if (rc == AM_ENOTFOUND)
                snprintf(op->why, sizeof(op->why), "no unit %s", op->f.follows);
            if (rc)
                return rc;
        }
        rc = store_exec(c,
                        "INSERT INTO avl_geofences(name, geometry, lat, lon, radius_m, follows,"
                        " created_us, created_by) VALUES (?, ?, ?, ?, ?, NULLIF(?, ''), ?, ?)",
                        "ttdddtit", op->f.name, op->geometry, op->f.lat, op->f.lon, op->f.radius_m,
                        op->f.follows, am_now_us(), cmd->actor);
        op->f.id = store_last_id(c);
        ev = json_pack("{sI ss ss}", "geofence", (json_int_t)op->f.id, "name", op->f.name, "kind",
                       op->geometry       ? "polygon"
                       : op->f.follows[0] ? "escort"
                                          : "circle");
    }
    if (!rc)
        rc = ev ? store_append(c, cmd, op->del ? "avl.geofence.removed" : "avl.geofence.added", ev,
                               NULL)
                : AM_ENOMEM;
    json_decref(ev);
    return rc;
}

int avl_geofence_add(struct avl *a, const char *actor, const json_t *req, int64_t *id, char *why,
                     size_t whysz)
{
    const char *name;
    json_t *poly = NULL, *circle = NULL;
    json_error_t err;
    if (json_unpack_ex((json_t *)req, &err, JSON_STRICT, "{s:s, s?o, s?o}", "name", &name,
                       "polygon", &poly, "circle", &circle))
        return am_why(why, whysz, AM_EINVAL, "%s", err.text);
    if (!name[0] || strlen(name) >= 128 || !am_utf8_valid(name, strlen(name)))
        return am_why(why, whysz, AM_EINVAL, "name must be 1 to 127 bytes of text");
    if (!poly == !circle)
        return am_why(why, whysz, AM_EINVAL, "give a polygon or a circle, not both");
    struct fence_op op = {.f = {.radius_m = 0}};
    am_strlcpy(op.f.name, name, sizeof(op.f.name));
    char *geometry = NULL;
    int rc = 0;
    if (poly) {
        geometry = json_dumps(poly, JSON_COMPACT | JSON_REAL_PRECISION(12));
        if (!geometry)
            return AM_ENOMEM;
        rc = polygon_of(geometry, &op.f.poly, why, whysz);
        if (rc) {
            free(geometry);
            return rc == AM_ENOMEM ? rc : AM_EINVAL;
        }
        op.geometry = geometry;
    } else {
        json_t *lat = NULL, *lon = NULL, *r = NULL;
        const char *unit = NULL;
        if (json_unpack_ex(circle, &err, JSON_STRICT, "{s?o, s?o, s?s, s:o}", "lat", &lat, "lon",
                           &lon, "unit", &unit, "radius_m", &r) ||
            !json_is_number(r) || !(json_number_value(r) >= 1 && json_number_value(r) <= 100000))
            return am_why(why, whysz, AM_EINVAL,
                          "circle: {lat, lon, radius_m} or {unit, radius_m}, radius 1 to "
                          "100,000 m");
        if (unit ? (lat || lon || strlen(unit) >= sizeof(op.f.follows))
                 : (!json_is_number(lat) || !json_is_number(lon) ||
                    fabs(json_number_value(lat)) > 90 || fabs(json_number_value(lon)) > 180))
            return am_why(why, whysz, AM_EINVAL,
                          "circle: a centre (lat, lon in degrees) or a unit to follow");
        op.f.radius_m = json_number_value(r);
        if (unit)
            am_strlcpy(op.f.follows, unit, sizeof(op.f.follows));
        else {
            op.f.lat = json_number_value(lat);
            op.f.lon = json_number_value(lon);
        }
    }
    struct store_cmd cmd = {.apply = fence_apply, .arg = &op, .actor = actor};
    rc = store_write(a->st, &cmd);
    free(cmd.answer);
    free(geometry);
    if (rc) {
        geo_areas_free(op.f.poly);
        return am_why(why, whysz, rc, "%s", op.why[0] ? op.why : am_strerror(rc));
    }
    pthread_mutex_lock(&a->mu);
    rc = fence_add(&a->fences, &op.f);
    pthread_mutex_unlock(&a->mu);
    if (rc)
        geo_areas_free(op.f.poly);
    *id = op.f.id;
    return rc;
}

int avl_geofence_remove(struct avl *a, const char *actor, int64_t id, char *why, size_t whysz)
{
    struct fence_op op = {.del = id};
    struct store_cmd cmd = {.apply = fence_apply, .arg = &op, .actor = actor};
    int rc = store_write(a->st, &cmd);
    free(cmd.answer);
    if (rc)
        return am_why(why, whysz, rc, "%s", op.why[0] ? op.why : am_strerror(rc));
    pthread_mutex_lock(&a->mu);
    struct avl_fences *fs = &a->fences;
    for (size_t i = 0; i < fs->n; i++)
        if (fs->v[i].id == id) {
            geo_areas_free(fs->v[i].poly);
            fs->v[i] = fs->v[--fs->n];
            break;
        }
    pthread_mutex_unlock(&a->mu);
    return 0;
}

static int list_row(struct store_row *r, void *arg)
{
    json_t *g =
        json_pack("{sI ss}", "id", (json_int_t)store_row_i64(r, 0), "name", store_row_text(r, 1));
    if (!g)
        return AM_ENOMEM;
    if (!store_row_null(r, 2)) {
        json_object_set_new(g, "kind", json_string("polygon"));
        json_object_set_new(g, "polygon", json_loads(store_row_text(r, 2), 0, NULL));
    } else if (!store_row_null(r, 6)) {
        json_object_set_new(g, "kind", json_string("escort"));
        json_object_set_new(
            g, "circle",
            json_pack("{ss sf}", "unit", store_row_text(r, 6), "radius_m", store_row_double(r, 5)));
    } else {
        json_object_set_new(g, "kind", json_string("circle"));
        json_object_set_new(g, "circle",
                            json_pack("{sf sf sf}", "lat", store_row_double(r, 3), "lon",
                                      store_row_double(r, 4), "radius_m", store_row_double(r, 5)));
    }
    return json_array_append_new(arg, g) ? AM_ENOMEM : 0;
}

static int list_all(struct store_conn *c, void *arg)
{
    return store_query(c,
                       "SELECT id, name, geometry, lat, lon, radius_m, follows FROM avl_geofences"
                       " ORDER BY id",
                       list_row, arg, NULL);
}

int avl_geofence_list(struct avl *a, json_t **out)
{
    json_t *arr = json_array();
    int rc = arr ? store_read(a->st, list_all, arr) : AM_ENOMEM;
    if (rc) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}
