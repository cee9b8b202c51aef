/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * unit.c - units (callsign, kind, capabilities, crew, home sector) and their
 * statuses, with the rules that hold whoever sets them: a unit goes en route
 * or on scene only on an assignment; available, at station and out of
 * service release it from its incident. Also the incident type list.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cad/cad_int.h"

static const char *const kinds[] = {
    "car_patrol",      "motorcycle",        "foot_patrol",  "traffic",    "k9", "sports_security",
    "judicial_police", "scientific_police", "intervention", "supervisor", NULL};

static const char *const statuses[] = {"available",    "dispatched", "en_route",       "on_scene",
                                       "transporting", "at_station", "out_of_service", NULL};

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (!strcmp(*list, s))
            return true;
    return false;
}

static bool code_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 2 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return false;
    }
    return true;
}

struct unit_json {
    json_t *obj;
};

static int unit_row(struct store_row *r, void *arg)
{
    char ts[AM_TIME_BUFSZ];
    json_t *caps = json_loads(store_row_text(r, 3), 0, NULL);
    json_t *crew = json_loads(store_row_text(r, 4), 0, NULL);
    json_t *u = json_pack(
        "{sI ss ss so so so ss ss so}", "id", (json_int_t)store_row_i64(r, 0), "callsign",
        store_row_text(r, 1), "kind", store_row_text(r, 2), "capabilities",
        caps ? caps : json_array(), "crew", crew ? crew : json_array(), "home_sector",
        store_row_null(r, 5) ? json_null() : json_string(store_row_text(r, 5)), "status",
        store_row_text(r, 6), "status_since", am_time_fmt(store_row_i64(r, 7), ts, sizeof(ts)),
        "incident", store_row_null(r, 8) ? json_null() : json_string(store_row_text(r, 8)));
    if (!u)
        return AM_ENOMEM;
    json_object_set_new(u, "position",
                        store_row_null(r, 11)
                            ? json_null()
                            : json_pack("{sf sf ss}", "lat", store_row_double(r, 9), "lon",
                                        store_row_double(r, 10), "at",
                                        am_time_fmt(store_row_i64(r, 11), ts, sizeof(ts))));
    struct unit_json *x = arg;
    if (json_is_array(x->obj))
        return json_array_append_new(x->obj, u) ? AM_ENOMEM : 0;
    x->obj = u;
    return 0;
}

#define UNIT_SELECT                                                                                \
    "SELECT u.id, u.callsign, u.kind, u.capabilities, u.crew, u.home_sector, u.status,"            \
    " u.status_us, i.number, u.lat, u.lon, u.position_us FROM units u"                             \
    " LEFT JOIN incidents i ON i.id = u.incident_id"

int cad_unit_json(struct store_conn *c, int64_t unit_id, json_t **out)
{
    struct unit_json x = {NULL};
    int rc = store_query(c, UNIT_SELECT " WHERE u.id = ?", unit_row, &x, "i", unit_id);
    if (!rc && !x.obj)
        rc = AM_ENOTFOUND;
    if (!rc)
        *out = x.obj;
    return rc;
}

static int list_units(struct store_conn *c, void *arg)
{
    return store_query(c, UNIT_SELECT " ORDER BY u.callsign", unit_row, arg, NULL);
}

int cad_unit_list(struct cad *cad, json_t **out)
{
    struct unit_json x = {json_array()};
    int rc = x.obj ? store_read(cad->st, list_units, &x) : AM_ENOMEM;
    if (rc) {
        json_decref(x.obj);
        return rc;
    }
    *out = x.obj;
    return 0;
}

/* A JSON array of 0..16 short strings, checked and returned as canonical text. */
static int string_list(struct store_cmd *cmd, json_t *arr, const char *what, char **out)
{
    *out = NULL;
    if (!arr) {
        *out = strdup("[]");
        return *out ? 0 : AM_ENOMEM;
    }
    if (!json_is_array(arr) || json_array_size(arr) > 16)
        return cad_fail(cmd, AM_EINVAL, "%s must be an array of at most 16 strings", what);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) || !cad_text_ok(json_string_value(v), 64))
            return cad_fail(cmd, AM_EINVAL, "%s must hold strings of 1 to 64 bytes", what);
    }
    *out = json_dumps(arr, JSON_COMPACT);
    return *out ? 0 : AM_ENOMEM;
}

static int op_unit_add(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x)
{
    const char *callsign, *kind, *sector = NULL;
    json_t *caps = NULL, *crew = NULL;
    int rc = cad_unpack(cmd, x->req, "{s:s, s:s, s?o, s?o, s?s}", "callsign", &callsign, "kind",
                        &kind, "capabilities", &caps, "crew", &crew, "home_sector", &sector);
    if (rc)
        return rc;
    if (!code_ok(callsign, 31))
        return cad_fail(cmd, AM_EINVAL,
                        "callsign must be 2 to 31 of A-Z, 0-9, '-' and '_' (e.g. CAS-P-12)");
    if (!in_list(kinds, kind))
        return cad_fail(cmd, AM_EINVAL,
                        "kind must be one of car_patrol, motorcycle, foot_patrol, traffic, k9, "
                        "sports_security, judicial_police, scientific_police, intervention, "
                        "supervisor");
    if (sector && !code_ok(sector, 15))
        return cad_fail(cmd, AM_EINVAL, "home_sector must be a sector code such as CAS-S01");
    char *caps_s = NULL, *crew_s = NULL;
    rc = string_list(cmd, caps, "capabilities", &caps_s);
    if (!rc)
        rc = string_list(cmd, crew, "crew", &crew_s);
    int64_t now = am_now_us();
    if (!rc)
        rc = store_exec(c,
                        "INSERT INTO units(callsign, kind, capabilities, crew, home_sector, status,"
                        " status_us, touched_us, created_us) VALUES (?, ?, ?, ?, ?, 'available',"
                        " ?, ?, ?)",
                        "tttttiii", callsign, kind, caps_s, crew_s, sector, now, now, now);
    free(caps_s);
    free(crew_s);
    if (rc == AM_ECONFLICT)
        return cad_fail(cmd, AM_ECONFLICT, "a unit %s already exists", callsign);
    if (rc)
        return rc;
    int64_t id = store_last_id(c);
    rc = cad_unit_json(c, id, &x->result);
    if (!rc)
        rc = cad_event(c, cmd, 0, "cad.unit.added", json_incref(x->result));
    x->status = 201;
    return rc;
}

static int unit_row_cb(struct store_row *r, void *arg)
{
    struct cad_unit_row *u = arg;
    u->id = store_row_i64(r, 0);
    am_strlcpy(u->status, store_row_text(r, 1), sizeof(u->status));
    u->incident_id = store_row_null(r, 2) ? 0 : store_row_i64(r, 2);
    am_strlcpy(u->callsign, store_row_text(r, 3), sizeof(u->callsign));
    am_strlcpy(u->number, store_row_text(r, 4), sizeof(u->number));
    return 0;
}

int cad_unit_find(struct store_conn *c, const char *callsign, struct cad_unit_row *u)
{
    memset(u, 0, sizeof(*u));
    if (!callsign || strlen(callsign) >= sizeof(u->callsign))
        return AM_ENOTFOUND;
    int rc = store_query(c,
                         "SELECT u.id, u.status, u.incident_id, u.callsign, i.number FROM units u"
                         " LEFT JOIN incidents i ON i.id = u.incident_id WHERE u.callsign = ?",
                         unit_row_cb, u, "t", callsign);
    return rc ? rc : u->id ? 0 : AM_ENOTFOUND;
}

int cad_unit_need(struct store_conn *c, struct store_cmd *cmd, const char *callsign,
                  bool as_invalid, struct cad_unit_row *u)
{
    int rc = cad_unit_find(c, callsign, u);
    if (rc == AM_ENOTFOUND && as_invalid)
        return cad_fail(cmd, AM_EINVAL, "unknown unit '%.31s'", callsign ? callsign : "");
    if (rc == AM_ENOTFOUND)
        return cad_fail(cmd, AM_ENOTFOUND, "no unit %.31s", callsign ? callsign : "");
    return rc;
}

static int op_unit_status(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x)
{
    const char *status, *override = NULL;
    int rc = cad_unpack(cmd, x->req, "{s:s, s?s}", "status", &status, "override_reason", &override);
    if (rc)
        return rc;
    if (!in_list(statuses, status))
        return cad_fail(cmd, AM_EINVAL,
                        "status must be one of available, en_route, on_scene, transporting, "
                        "at_station, out_of_service");
    if (!strcmp(status, "dispatched"))
        return cad_fail(cmd, AM_ECONFLICT, "a unit is dispatched by assigning it to an incident");
    struct cad_unit_row u;
    rc = cad_unit_need(c, cmd, x->target, false, &u);
    if (rc)
        return rc;
    rc = cad_patrol_check(c, cmd, x, u.id, 0);
    if (rc)
        return rc;
    const char *from = u.status;
    bool assigned = u.incident_id != 0;
    if (!strcmp(status, "en_route") &&
        !(assigned && (!strcmp(from, "dispatched") || !strcmp(from, "en_route"))))
        return cad_fail(cmd, AM_ECONFLICT, "unit %s is %s: en route needs a dispatch first",
                        x->target, from);
    if (!strcmp(status, "on_scene") &&
        !(assigned &&
          (!strcmp(from, "dispatched") || !strcmp(from, "en_route") || !strcmp(from, "on_scene"))))
        return cad_fail(cmd, AM_ECONFLICT, "unit %s is %s: on scene needs a dispatch first",
                        x->target, from);
    if (!strcmp(status, "transporting") &&
        !(assigned && (!strcmp(from, "on_scene") || !strcmp(from, "transporting"))))
        return cad_fail(cmd, AM_ECONFLICT, "unit %s is %s: transporting comes after on scene",
                        x->target, from);
    int64_t now = am_now_us();
    bool releases = !strcmp(status, "available") || !strcmp(status, "at_station") ||
                    !strcmp(status, "out_of_service");
    bool same = !strcmp(status, from);
    /* Repeating a status is an update ("still on scene"): it resets the timer, not the time. */
    rc =
        store_exec(c,
                   "UPDATE units SET status = ?, status_us = CASE WHEN ? THEN status_us ELSE ? END,"
                   " touched_us = ?, alerted = 0, incident_id = CASE WHEN ? THEN NULL ELSE"
                   " incident_id END WHERE id = ?",
                   "tiiiii", status, (int64_t)same, now, now, (int64_t)releases, u.id);
    if (!rc && releases && assigned)
        rc = store_exec(c,
                        "UPDATE assignments SET released_us = ? WHERE unit_id = ?"
                        " AND released_us IS NULL",
                        "ii", now, u.id);
    json_t *ev = json_pack("{ss ss ss}", "unit", x->target, "status", status, "previous", from);
    if (ev && assigned)
        json_object_set_new(ev, "incident", json_string(u.number));
    if (ev && override)
        json_object_set_new(ev, "override_reason", json_string(override));
    if (!rc)
        rc = cad_event(c, cmd, u.incident_id, "cad.unit.status", ev);
    else
        json_decref(ev);
    if (!rc && assigned)
        rc = cad_incident_follow_units(c, cmd, u.incident_id, now);
    if (!rc)
        rc = cad_unit_json(c, u.id, &x->result);
    x->status = 200;
    return rc;
}

int cad_unit_exists(struct store_conn *c, const char *callsign)
{
    struct cad_unit_row u;
    return cad_unit_find(c, callsign, &u);
}

int cad_unit_position_apply(struct cad *cad, struct store_conn *c, const char *callsign, double lat,
                            double lon, int64_t at_us, int64_t *unit_id)
{
    struct cad_unit_row u;
    int rc = cad_unit_find(c, callsign, &u);
    if (rc)
        return rc;
    if (unit_id)
        *unit_id = u.id;
    /* Snapped now, once, rather than at every recommendation (recommend.c). */
    const struct geo_roads *roads = cad->o.roads;
    struct geo_snap s = {.edge = GEO_NONE};
    bool on_road = roads && geo_roads_snap(roads, lat, lon, cad->o.snap_max_m, &s) == 0;
    int64_t graph = roads ? (int64_t)geo_roads_id(roads) : 0;
    return store_exec(c,
                      "UPDATE units SET lat = ?, lon = ?, position_us = ?,"
                      " snap_graph = ?, snap_edge = NULLIF(?, -1), snap_frac = ?, snap_m = ?"
                      " WHERE id = ? AND (position_us IS NULL OR position_us <= ?)",
                      "ddiiiddii", lat, lon, at_us, graph, on_road ? (int64_t)s.edge : -1, s.frac,
                      s.dist_m, u.id, at_us);
}

/*
 * A unit's last known position, from its terminal or tracker. Telemetry: the
 * row is updated (durably, like every write) but no event is logged, and a
 * report older than the one kept is ignored, so that late packets from a
 * vehicle that lost its network do not move it back.
 */
static int op_unit_position(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x)
{
    json_t *lat, *lon;
    const char *at = NULL;
    int rc = cad_unpack(cmd, x->req, "{s:o, s:o, s?s}", "lat", &lat, "lon", &lon, "at", &at);
    if (rc)
        return rc;
    double la = json_number_value(lat), lo = json_number_value(lon);
    if (!json_is_number(lat) || !json_is_number(lon) || !isfinite(la) || !isfinite(lo) ||
        la < -90 || la > 90 || lo < -180 || lo > 180)
        return cad_fail(cmd, AM_EINVAL,
                        "lat and lon must be numbers in degrees, lat in [-90, 90] and lon in "
                        "[-180, 180]");
    int64_t now = am_now_us(), at_us = now;
    if (at && am_time_parse(at, &at_us))
        return cad_fail(cmd, AM_EINVAL, "at must be an RFC 3339 time");
    if (at_us > now + 60000000LL || at_us < now - 86400000000LL)
        return cad_fail(cmd, AM_EINVAL, "at must be within the last 24 hours");
    if (x->role == AM_ROLE_PATROL) {
        struct cad_unit_row u;
        rc = cad_unit_need(c, cmd, x->target, false, &u);
        rc = rc ? rc : cad_patrol_check(c, cmd, x, u.id, 0);
        if (rc)
            return rc;
    }
    int64_t id = 0;
    rc = cad_unit_position_apply(x->cad, c, x->target, la, lo, at_us, &id);
    if (rc == AM_ENOTFOUND)
        return cad_fail(cmd, AM_ENOTFOUND, "no unit %.31s", x->target);
    if (!rc)
        rc = cad_unit_json(c, id, &x->result);
    x->status = 200;
    return rc;
}

static int op_type_add(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x)
{
    const char *code, *fr, *ar;
    int priority;
    int rc = cad_unpack(cmd, x->req, "{s:s, s:s, s:s, s:i}", "code", &code, "name_fr", &fr,
                        "name_ar", &ar, "priority", &priority);
    if (rc)
        return rc;
    if (!code_ok(code, 31))
        return cad_fail(cmd, AM_EINVAL, "code must be 2 to 31 of A-Z, 0-9, '-' and '_'");
    if (!cad_text_ok(fr, 128) || !cad_text_ok(ar, 128))
        return cad_fail(cmd, AM_EINVAL, "name_fr and name_ar must be 1 to 128 bytes of text");
    if (priority < 1 || priority > 4)
        return cad_fail(cmd, AM_EINVAL, "priority must be 1 (most urgent) to 4");
    rc = store_exec(
        c, "INSERT INTO incident_types(code, name_fr, name_ar, priority) VALUES (?, ?, ?, ?)",
        "ttti", code, fr, ar, (int64_t)priority);
    if (rc == AM_ECONFLICT)
        return cad_fail(cmd, AM_ECONFLICT, "the type %s exists", code);
    if (rc)
        return rc;
    x->result = json_pack("{ss ss ss si}", "code", code, "name_fr", fr, "name_ar", ar, "priority",
                          priority);
    x->status = 201;
    return cad_event(c, cmd, 0, "cad.type.added", json_incref(x->result));
}

int cad_apply_unit(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x)
{
    switch (x->op) {
    case CAD_UNIT_ADD:
        return op_unit_add(c, cmd, x);
    case CAD_UNIT_STATUS:
        return op_unit_status(c, cmd, x);
    case CAD_UNIT_POSITION:
        return op_unit_position(c, cmd, x);
    case CAD_TYPE_ADD:
        return op_type_add(c, cmd, x);
    default:
        return AM_EINTERNAL;
    }
}

static int type_row(struct store_row *r, void *arg)
{
    json_t *t = json_pack("{ss ss ss si sb}", "code", store_row_text(r, 0), "name_fr",
                          store_row_text(r, 1), "name_ar", store_row_text(r, 2), "priority",
                          (int)store_row_i64(r, 3), "active", store_row_i64(r, 4) != 0);
    return t && !json_array_append_new(arg, t) ? 0 : AM_ENOMEM;
}

static int list_types(struct store_conn *c, void *arg)
{
    return store_query(c,
                       "SELECT code, name_fr, name_ar, priority, active FROM incident_types"
                       " ORDER BY priority, code",
                       type_row, arg, NULL);
}

int cad_type_list(struct cad *cad, json_t **out)
{
    json_t *arr = json_array();
    int rc = arr ? store_read(cad->st, list_types, arr) : AM_ENOMEM;
    if (rc) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return 0;
}
