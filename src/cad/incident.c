/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * incident.c - incidents: opened from a call, placed in their region,
 * prefecture and sector, numbered per prefecture and year, noted, linked,
 * merged, closed with a disposition and reopened with a reason. Their
 * status follows their units: dispatched, en route, on scene.
 *
 * Each operation runs on the store's writer inside its own savepoint: it
 * checks the request against the current state and either changes nothing
 * (a reason for the caller) or updates the tables and appends its events.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cad/cad_int.h"

#define NARRATIVE_MAX 4000
#define NOTE_MAX      4000

static const char *const dispositions[] = {"resolved",  "report_taken", "arrest",
                                           "no_action", "unfounded",    "referred",
                                           "cancelled", "duplicate",    NULL};

/* ------------------------------------------------------------- helpers */

int cad_fail(struct store_cmd *cmd, int rc, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    free(cmd->answer);
    cmd->answer = strdup(msg);
    return rc;
}

int cad_unpack(struct store_cmd *cmd, const json_t *req, const char *fmt, ...)
{
    if (!json_is_object(req))
        return cad_fail(cmd, AM_EINVAL, "a JSON object is required");
    json_error_t err;
    va_list ap;
    va_start(ap, fmt);
    int rc = json_vunpack_ex((json_t *)req, &err, JSON_STRICT, fmt, ap);
    va_end(ap);
    if (rc)
        return cad_fail(cmd, AM_EINVAL, "%s", err.text);
    return 0;
}

bool cad_text_ok(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max || !am_utf8_valid(s, n))
        return false;
    bool blank = true;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 && ch != '\n' && ch != '\t')
            return false;
        if (ch != ' ' && ch != '\n' && ch != '\t')
            blank = false;
    }
    return !blank;
}

int cad_event(struct store_conn *c, struct store_cmd *cmd, int64_t incident_id, const char *type,
              json_t *data)
{
    int64_t seq;
    int rc = data ? store_append(c, cmd, type, data, &seq) : AM_ENOMEM;
    if (!rc && incident_id)
        rc = store_exec(c, "INSERT INTO incident_events(incident_id, seq) VALUES (?, ?)", "ii",
                        incident_id, seq);
    json_decref(data);
    return rc;
}

static bool phone_ok(const char *p)
{
    size_t n = strlen(p), digits = 0;
    if (n < 3 || n > 24)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] >= '0' && p[i] <= '9')
            digits++;
        else if (!(p[i] == ' ' || (p[i] == '+' && i == 0) || p[i] == '-'))
            return false;
    }
    return digits >= 2 && digits <= 20;
}

/* ------------------------------------------------------------- reads */

struct find {
    int64_t id;
    char *status;
    size_t statussz;
};

static int find_row(struct store_row *r, void *arg)
{
    struct find *f = arg;
    f->id = store_row_i64(r, 0);
    if (f->status)
        am_strlcpy(f->status, store_row_text(r, 1), f->statussz);
    return 0;
}

int cad_incident_find(struct store_conn *c, const char *number, int64_t *id, char *status,
                      size_t statussz)
{
    struct find f = {0, status, statussz};
    if (!number || strlen(number) > 64)
        return AM_ENOTFOUND;
    int rc = store_query(c, "SELECT id, status FROM incidents WHERE number = ?", find_row, &f, "t",
                         number);
    if (rc)
        return rc;
    if (!f.id)
        return AM_ENOTFOUND;
    *id = f.id;
    return 0;
}

static json_t *time_or_null(struct store_row *r, int col)
{
    char ts[AM_TIME_BUFSZ];
    if (store_row_null(r, col))
        return json_null();
    return json_string(am_time_fmt(store_row_i64(r, col), ts, sizeof(ts)));
}

static json_t *text_or_null(struct store_row *r, int col)
{
    return store_row_null(r, col) ? json_null() : json_string(store_row_text(r, col));
}

static json_t *area(struct store_row *r, int col)
{
    if (store_row_null(r, col))
        return json_null();
    return json_pack("{ss ss ss}", "code", store_row_text(r, col), "fr", store_row_text(r, col + 1),
                     "ar", store_row_text(r, col + 2));
}

struct inc_json {
    json_t *obj;
};

static int incident_row(struct store_row *r, void *arg)
{
    struct inc_json *x = arg;
    json_t *loc = json_object();
    if (!store_row_null(r, 7)) {
        json_object_set_new(loc, "lat", json_real(store_row_double(r, 7)));
        json_object_set_new(loc, "lon", json_real(store_row_double(r, 8)));
    }
    if (!store_row_null(r, 9))
        json_object_set_new(loc, "address", json_string(store_row_text(r, 9)));
    x->obj = json_pack(
        "{sI ss ss ss ss ss si s{so so} so s{so so so} so so so s{so so so so so so} s[] s[] s[]}",
        "id", (json_int_t)store_row_i64(r, 0), "number", store_row_text(r, 1), "status",
        store_row_text(r, 2), "type", store_row_text(r, 3), "type_fr", store_row_text(r, 26),
        "type_ar", store_row_text(r, 27), "priority", (int)store_row_i64(r, 4), "caller", "name",
        text_or_null(r, 5), "phone", text_or_null(r, 6), "location", loc, "place", "region",
        area(r, 11), "prefecture", area(r, 14), "sector", area(r, 17), "narrative",
        text_or_null(r, 10), "disposition", text_or_null(r, 20), "merged_into", text_or_null(r, 28),
        "times", "call", time_or_null(r, 21), "created", time_or_null(r, 22), "dispatched",
        time_or_null(r, 23), "en_route", time_or_null(r, 24), "on_scene", time_or_null(r, 25),
        "closed", time_or_null(r, 29), "units", "notes", "links");
    return x->obj ? 0 : AM_ENOMEM;
}

static int unit_of_incident_row(struct store_row *r, void *arg)
{
    json_t *arr = arg;
    json_t *u = json_pack("{ss ss sb ss so so}", "callsign", store_row_text(r, 0), "kind",
                          store_row_text(r, 1), "primary", store_row_i64(r, 2) != 0, "status",
                          store_row_text(r, 3), "assigned", time_or_null(r, 4), "released",
                          time_or_null(r, 5));
    return u && !json_array_append_new(arr, u) ? 0 : AM_ENOMEM;
}

static int note_row(struct store_row *r, void *arg)
{
    json_t *n = json_pack("{so ss ss}", "ts", time_or_null(r, 0), "author", store_row_text(r, 1),
                          "text", store_row_text(r, 2));
    return n && !json_array_append_new(arg, n) ? 0 : AM_ENOMEM;
}

static int link_row(struct store_row *r, void *arg)
{
    return json_array_append_new(arg, json_string(store_row_text(r, 0))) ? AM_ENOMEM : 0;
}

int cad_incident_json(struct store_conn *c, int64_t id, json_t **out)
{
    struct inc_json x = {NULL};
    int rc = store_query(
        c,
        "SELECT i.id, i.number, i.status, i.type, i.priority, i.caller_name, i.caller_phone,"
        " i.lat, i.lon, i.address, i.narrative, i.region_code, i.region_fr, i.region_ar,"
        " i.prefecture_code, i.prefecture_fr, i.prefecture_ar, i.sector_code, i.sector_fr,"
        " i.sector_ar, i.disposition, i.call_us, i.created_us, i.dispatched_us, i.enroute_us,"
        " i.onscene_us, t.name_fr, t.name_ar, m.number, i.closed_us"
        " FROM incidents i JOIN incident_types t ON t.code = i.type"
        " LEFT JOIN incidents m ON m.id = i.merged_into WHERE i.id = ?",
        incident_row, &x, "i", id);
    if (!rc && !x.obj)
        rc = AM_ENOTFOUND;
    if (!rc)
        rc = store_query(c,
                         "SELECT u.callsign, u.kind, a.is_primary, u.status, a.assigned_us,"
                         " a.released_us FROM assignments a JOIN units u ON u.id = a.unit_id"
                         " WHERE a.incident_id = ? ORDER BY a.id",
                         unit_of_incident_row, json_object_get(x.obj, "units"), "i", id);
    if (!rc)
        rc = store_query(c,
                         "SELECT ts_us, author, text FROM incident_notes WHERE incident_id = ?"
                         " ORDER BY id",
                         note_row, json_object_get(x.obj, "notes"), "i", id);
    if (!rc)
        rc = store_query(c,
                         "SELECT i.number FROM incident_links l JOIN incidents i"
                         " ON i.id = CASE WHEN l.a = ? THEN l.b ELSE l.a END"
                         " WHERE l.a = ? OR l.b = ? ORDER BY i.id",
                         link_row, json_object_get(x.obj, "links"), "iii", id, id, id);
    /* Warnings for the crew: premise and hazard notes whose radius covers the incident. */
    json_t *loc = json_object_get(x.obj, "location");
    json_t *hazards = json_array();
    if (!rc && json_object_get(loc, "lat"))
        rc = cad_premise_near(c, json_number_value(json_object_get(loc, "lat")),
                              json_number_value(json_object_get(loc, "lon")), hazards);
    if (!rc)
        rc = json_object_set_new(x.obj, "hazards", hazards) ? AM_ENOMEM : 0;
    else
        json_decref(hazards);
    if (rc) {
        json_decref(x.obj);
        return rc;
    }
    *out = x.obj;
    return 0;
}

/* ------------------------------------------------------------- status from units */

static int stage_of(const char *status)
{
    if (!strcmp(status, "on_scene"))
        return 3;
    if (!strcmp(status, "en_route"))
        return 2;
    if (!strcmp(status, "dispatched"))
        return 1;
    return 0; /* new */
}

static const char *const stage_names[] = {"new", "dispatched", "en_route", "on_scene"};

static int max_stage_row(struct store_row *r, void *arg)
{
    int *stage = arg;
    const char *s = store_row_text(r, 0);
    int st = !strcmp(s, "transporting") ? 3 : stage_of(s);
    if (st > *stage)
        *stage = st;
    return 0;
}

int cad_incident_follow_units(struct store_conn *c, struct store_cmd *cmd, int64_t incident_id,
                              int64_t now)
{
    char status[16] = "";
    struct find f = {0, status, sizeof(status)};
    int rc = store_query(c, "SELECT id, status FROM incidents WHERE id = ?", find_row, &f, "i",
                         incident_id);
    if (rc || !f.id || !strcmp(status, "closed"))
        return rc;
    int stage = 0;
    rc = store_query(c,
                     "SELECT u.status FROM assignments a JOIN units u ON u.id = a.unit_id"
                     " WHERE a.incident_id = ? AND a.released_us IS NULL",
                     max_stage_row, &stage, "i", incident_id);
    if (rc || stage == stage_of(status))
        return rc;
    rc = store_exec(
        c,
        "UPDATE incidents SET status = ?, updated_us = ?,"
        " dispatched_us = CASE WHEN ? >= 1 THEN coalesce(dispatched_us, ?) ELSE"
        " dispatched_us END,"
        " enroute_us = CASE WHEN ? >= 2 THEN coalesce(enroute_us, ?) ELSE enroute_us END,"
        " onscene_us = CASE WHEN ? >= 3 THEN coalesce(onscene_us, ?) ELSE onscene_us END"
        " WHERE id = ?",
        "tiiiiiiii", stage_names[stage], now, (int64_t)stage, now, (int64_t)stage, now,
        (int64_t)stage, now, incident_id);
    if (rc)
        return rc;
    char number[64] = "";
    struct find nf = {0, number, sizeof(number)};
    rc = store_query(c, "SELECT id, number FROM incidents WHERE id = ?", find_row, &nf, "i",
                     incident_id);
    if (rc)
        return rc;
    return cad_event(c, cmd, incident_id, "cad.incident.status",
                     json_pack("{ss ss ss}", "incident", number, "status", stage_names[stage],
                               "previous", status));
}

/* ------------------------------------------------------------- open */

struct type_row {
    bool found, active;
    int priority;
};

static int type_row_cb(struct store_row *r, void *arg)
{
    struct type_row *t = arg;
    t->found = true;
    t->priority = (int)store_row_i64(r, 0);
    t->active = store_row_i64(r, 1) != 0;
    return 0;
}

static int number_row(struct store_row *r, void *arg)
{
    *(int64_t *)arg = store_row_i64(r, 0);
    return 0;
}

static int op_open(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x)
{
    const char *type = NULL, *name = NULL, *phone = NULL, *address = NULL, *narrative = NULL,
               *call_time = NULL;
    int priority = 0;
    json_t *prio = NULL, *lat = NULL, *lon = NULL, *caller = NULL, *location = NULL;
    int rc = cad_unpack(cmd, x->req, "{s:s, s?o, s?o, s?o, s?s, s?s}", "type", &type, "priority",
                        &prio, "caller", &caller, "location", &location, "narrative", &narrative,
                        "call_time", &call_time);
    if (rc)
        return rc;
    if (caller && cad_unpack(cmd, caller, "{s?s, s?s}", "name", &name, "phone", &phone))
        return AM_EINVAL;
    if (location &&
        cad_unpack(cmd, location, "{s?o, s?o, s?s}", "lat", &lat, "lon", &lon, "address", &address))
        return AM_EINVAL;
    if (name && !cad_text_ok(name, 128))
        return cad_fail(cmd, AM_EINVAL, "caller.name must be 1 to 128 bytes of text");
    if (phone && !phone_ok(phone))
        return cad_fail(cmd, AM_EINVAL, "caller.phone must be digits, spaces and a leading +");
    if (address && !cad_text_ok(address, 256))
        return cad_fail(cmd, AM_EINVAL, "location.address must be 1 to 256 bytes of text");
    if (narrative && !cad_text_ok(narrative, NARRATIVE_MAX))
        return cad_fail(cmd, AM_EINVAL, "narrative must be 1 to %d bytes of text", NARRATIVE_MAX);
    if (!lat != !lon)
        return cad_fail(cmd, AM_EINVAL, "location.lat and location.lon go together");
    if (lat && (!json_is_number(lat) || !json_is_number(lon)))
        return cad_fail(cmd, AM_EINVAL, "location.lat and location.lon must be numbers");
    if (!lat && !address)
        return cad_fail(cmd, AM_EINVAL, "a location is required: coordinates or an address");
    struct type_row t = {0};
    rc = store_query(c, "SELECT priority, active FROM incident_types WHERE code = ?", type_row_cb,
                     &t, "t", type);
    if (rc)
        return rc;
    if (!t.found || !t.active)
        return cad_fail(cmd, AM_EINVAL, "unknown incident type '%.32s'", type);
    /* An explicit priority is 1..4; 0 is not "the default", it is refused. */
    if (prio &&
        (!json_is_integer(prio) || json_integer_value(prio) < 1 || json_integer_value(prio) > 4))
        return cad_fail(cmd, AM_EINVAL, "priority must be an integer, 1 (most urgent) to 4");
    priority = prio ? (int)json_integer_value(prio) : t.priority;
    int64_t now = am_now_us(), call_us = now;
    if (call_time) {
        if (am_time_parse(call_time, &call_us))
            return cad_fail(cmd, AM_EINVAL, "call_time must be an RFC 3339 time");
        if (call_us > now + 60000000LL || call_us < now - 86400000000LL)
            return cad_fail(cmd, AM_EINVAL, "call_time must be within the last 24 hours");
    }
    struct cad_place place;
    memset(&place, 0, sizeof(place));
    bool placed = false;
    double la = lat ? json_number_value(lat) : 0, lo = lon ? json_number_value(lon) : 0;
    if (lat) {
        if (!isfinite(la) || !isfinite(lo) || la < -90 || la > 90 || lo < -180 || lo > 180)
            return cad_fail(cmd, AM_EINVAL, "coordinates out of range");
        if (x->cad->o.locate) {
            rc = x->cad->o.locate(x->cad->o.locate_arg, la, lo, &place);
            if (rc == AM_ENOTFOUND)
                return cad_fail(cmd, AM_EINVAL, "the location %.5f, %.5f is outside Morocco", la,
                                lo);
            if (rc)
                return cad_fail(cmd, AM_EINVAL, "the location %.5f, %.5f cannot be placed", la, lo);
            placed = true;
        }
    }
    /* CAS-2026-000123: prefecture code (MA-CAS -> CAS), UTC year, a counter never reused. */
    char pref[8];
    const char *pc =
        placed && place.prefecture_code[0] ? place.prefecture_code : x->cad->o.default_prefecture;
    if (!strncmp(pc, "MA-", 3))
        pc += 3;
    am_strlcpy(pref, pc[0] ? pc : "MAR", sizeof(pref));
    time_t secs = (time_t)(now / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    int64_t year = tm.tm_year + 1900, serial = 0;
    rc = store_query(c,
                     "INSERT INTO incident_numbers(prefecture, year, last) VALUES (?, ?, 1)"
                     " ON CONFLICT(prefecture, year) DO UPDATE SET last = last + 1 RETURNING last",
                     number_row, &serial, "ti", pref, year);
    if (rc)
        return rc;
    char number[32];
    snprintf(number, sizeof(number), "%s-%04lld-%06lld", pref, (long long)year, (long long)serial);
#define OPT(s) ((s) && (s)[0] ? (s) : NULL)
    rc = store_exec(
        c,
        "INSERT INTO incidents(number, status, type, priority, caller_name, caller_phone, lat, lon,"
        " address, narrative, region_code, region_fr, region_ar, prefecture_code, prefecture_fr,"
        " prefecture_ar, sector_code, sector_fr, sector_ar, call_us, created_us, updated_us)"
        " VALUES (?, 'new', ?, ?, ?, ?, CASE WHEN ? THEN ? END, CASE WHEN ? THEN ? END, ?, ?, ?, ?,"
        " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "ttittidid"
        "ttttttttttt"
        "iii",
        number, type, (int64_t)priority, name, phone, (int64_t)(lat != NULL), la,
        (int64_t)(lat != NULL), lo, address, narrative, OPT(place.region_code),
        OPT(place.region_fr), OPT(place.region_ar), OPT(place.prefecture_code),
        OPT(place.prefecture_fr), OPT(place.prefecture_ar), OPT(place.sector_code),
        OPT(place.sector_fr), OPT(place.sector_ar), call_us, now, now);
#undef OPT
    if (rc)
        return rc;
    int64_t id = store_last_id(c);
    json_t *inc;
    rc = cad_incident_json(c, id, &inc);
    if (rc)
        return rc;
    /* The event carries the whole new incident: the read tables can be rebuilt from the log. */
    rc = cad_event(c, cmd, id, "cad.incident.opened", json_incref(inc));
    if (rc) {
        json_decref(inc);
        return rc;
    }
    x->result = inc;
    x->status = 201;
    return 0;
}

/* ------------------------------------------------------------- note, close, reopen */

static int op_note(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x, int64_t id)
{
    const char *text;
    int rc = cad_unpack(cmd, x->req, "{s:s}", "text", &text);
    if (rc)
        return rc;
    if (!cad_text_ok(text, NOTE_MAX))
        return cad_fail(cmd, AM_EINVAL, "text must be 1 to %d bytes of text", NOTE_MAX);
    rc = cad_patrol_check(c, cmd, x, 0, id);
    if (rc)
        return rc;
    int64_t now = am_now_us();
    rc = store_exec(
        c, "INSERT INTO incident_notes(incident_id, ts_us, author, text) VALUES (?, ?, ?, ?)",
        "iitt", id, now, cmd->actor, text);
    if (!rc)
        rc = store_exec(c, "UPDATE incidents SET updated_us = ? WHERE id = ?", "ii", now, id);
    /* A note from the scene counts as an update for the on-scene timer. */
    if (!rc)
        rc = store_exec(c,
                        "UPDATE units SET touched_us = ?, alerted = 0 WHERE incident_id = ?"
                        " AND status = 'on_scene'",
                        "ii", now, id);
    if (!rc)
        rc = cad_event(c, cmd, id, "cad.incident.note",
                       json_pack("{ss ss}", "incident", x->target, "text", text));
    return rc;
}

/* The units on an incident: as many as there are (a stadium incident may hold 100). */
struct active_unit {
    int64_t *ids;
    char (*callsigns)[32];
    int n, cap;
};

static int active_row(struct store_row *r, void *arg)
{
    struct active_unit *a = arg;
    if (a->n == a->cap) {
        int cap = a->cap ? 2 * a->cap : 16;
        int64_t *ids = realloc(a->ids, (size_t)cap * sizeof(*ids));
        if (!ids)
            return AM_ENOMEM;
        a->ids = ids;
        char(*cs)[32] = realloc(a->callsigns, (size_t)cap * sizeof(*cs));
        if (!cs)
            return AM_ENOMEM;
        a->callsigns = cs;
        a->cap = cap;
    }
    a->ids[a->n] = store_row_i64(r, 0);
    am_strlcpy(a->callsigns[a->n], store_row_text(r, 1), sizeof(a->callsigns[0]));
    a->n++;
    return 0;
}

static void active_free(struct active_unit *a)
{
    free(a->ids);
    free(a->callsigns);
}

/* Lists the units still on an incident into `a` and ends their assignments. */
static int take_units(struct store_conn *c, int64_t id, int64_t now, struct active_unit *a)
{
    int rc =
        store_query(c,
                    "SELECT u.id, u.callsign FROM assignments s JOIN units u ON u.id = s.unit_id"
                    " WHERE s.incident_id = ? AND s.released_us IS NULL",
                    active_row, a, "i", id);
    if (!rc)
        rc = store_exec(c,
                        "UPDATE assignments SET released_us = ? WHERE incident_id = ?"
                        " AND released_us IS NULL",
                        "ii", now, id);
    return rc;
}

/* A unit released from its incident is available again. */
static int unit_available(struct store_conn *c, int64_t unit_id, int64_t now)
{
    return store_exec(c,
                      "UPDATE units SET status = 'available', status_us = ?, touched_us = ?,"
                      " incident_id = NULL, alerted = 0 WHERE id = ?",
                      "iii", now, now, unit_id);
}

/* Releases every unit still on an incident: they become available again. */
static int release_all(struct store_conn *c, struct store_cmd *cmd, int64_t id, const char *number,
                       int64_t now)
{
    struct active_unit a = {NULL, NULL, 0, 0};
    int rc = take_units(c, id, now, &a);
    for (int i = 0; i < a.n && !rc; i++) {
        rc = unit_available(c, a.ids[i], now);
        if (!rc)
            rc = cad_event(c, cmd, id, "cad.unit.status",
                           json_pack("{ss ss ss}", "unit", a.callsigns[i], "status", "available",
                                     "incident", number));
    }
    active_free(&a);
    return rc;
}

static int op_close(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x, int64_t id,
                    const char *status)
{
    const char *disposition;
    int rc = cad_unpack(cmd, x->req, "{s:s}", "disposition", &disposition);
    if (rc)
        return rc;
    bool ok = false;
    for (const char *const *d = dispositions; *d; d++)
        ok = ok || !strcmp(*d, disposition);
    if (!ok)
        return cad_fail(cmd, AM_EINVAL,
                        "disposition must be one of resolved, report_taken, arrest, no_action, "
                        "unfounded, referred, cancelled, duplicate");
    if (!strcmp(status, "closed"))
        return cad_fail(cmd, AM_ECONFLICT, "incident %s is already closed", x->target);
    int64_t now = am_now_us();
    rc = release_all(c, cmd, id, x->target, now);
    if (!rc)
        rc = store_exec(c,
                        "UPDATE incidents SET status = 'closed', disposition = ?, closed_us = ?,"
                        " updated_us = ? WHERE id = ?",
                        "tiii", disposition, now, now, id);
    if (!rc)
        rc = cad_event(c, cmd, id, "cad.incident.closed",
                       json_pack("{ss ss}", "incident", x->target, "disposition", disposition));
    return rc;
}

static int merged_row(struct store_row *r, void *arg)
{
    *(bool *)arg = !store_row_null(r, 0);
    return 0;
}

static int op_reopen(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x, int64_t id,
                     const char *status)
{
    const char *reason;
    int rc = cad_unpack(cmd, x->req, "{s:s}", "reason", &reason);
    if (rc)
        return rc;
    if (!cad_text_ok(reason, 1000))
        return cad_fail(cmd, AM_EINVAL, "reason must be 1 to 1000 bytes of text");
    if (strcmp(status, "closed"))
        return cad_fail(cmd, AM_ECONFLICT, "incident %s is not closed", x->target);
    bool merged = false;
    rc = store_query(c, "SELECT merged_into FROM incidents WHERE id = ?", merged_row, &merged, "i",
                     id);
    if (rc)
        return rc;
    if (merged)
        return cad_fail(cmd, AM_ECONFLICT, "incident %s was merged into another; reopen that one",
                        x->target);
    int64_t now = am_now_us();
    rc = store_exec(c,
                    "UPDATE incidents SET status = 'new', disposition = NULL, closed_us = NULL,"
                    " updated_us = ? WHERE id = ?",
                    "ii", now, id);
    if (!rc)
        rc = cad_event(c, cmd, id, "cad.incident.reopened",
                       json_pack("{ss ss}", "incident", x->target, "reason", reason));
    return rc;
}

/* ------------------------------------------------------------- assign, release */

static int op_assign(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x, int64_t id,
                     const char *status)
{
    const char *callsign, *override = NULL;
    int primary = -1;
    int rc = cad_unpack(cmd, x->req, "{s:s, s?b, s?s}", "unit", &callsign, "primary", &primary,
                        "override_reason", &override);
    if (rc)
        return rc;
    if (override && !cad_text_ok(override, 500))
        return cad_fail(cmd, AM_EINVAL, "override_reason must be 1 to 500 bytes of text");
    if (!strcmp(status, "closed"))
        return cad_fail(cmd, AM_ECONFLICT, "incident %s is closed", x->target);
    struct cad_unit_row u;
    rc = cad_unit_need(c, cmd, callsign, true, &u);
    if (rc)
        return rc;
    if (u.incident_id == id)
        return cad_fail(cmd, AM_ECONFLICT, "unit %s is already assigned to %s", u.callsign,
                        x->target);
    if (strcmp(u.status, "available") && !override)
        return cad_fail(cmd, AM_ECONFLICT,
                        "unit %s is %s, not available; assign it with an override_reason",
                        u.callsign, u.status);
    int64_t now = am_now_us();
    /* A unit taken from another incident is released from it first, in its history too. */
    if (u.incident_id) {
        char from[64] = "";
        struct find nf = {0, from, sizeof(from)};
        rc = store_exec(c,
                        "UPDATE assignments SET released_us = ? WHERE unit_id = ?"
                        " AND released_us IS NULL",
                        "ii", now, u.id);
        if (!rc)
            rc = store_query(c, "SELECT id, number FROM incidents WHERE id = ?", find_row, &nf, "i",
                             u.incident_id);
        if (!rc)
            rc = cad_event(c, cmd, u.incident_id, "cad.unit.released",
                           json_pack("{ss ss ss ss?}", "incident", from, "unit", u.callsign,
                                     "reassigned_to", x->target, "override_reason", override));
        if (!rc)
            rc = cad_incident_follow_units(c, cmd, u.incident_id, now);
        if (rc)
            return rc;
    }
    int64_t has_primary = 0;
    rc = store_query(c,
                     "SELECT count(*) FROM assignments WHERE incident_id = ? AND is_primary = 1"
                     " AND released_us IS NULL",
                     number_row, &has_primary, "i", id);
    bool is_primary = primary == 1 || (primary == -1 && !has_primary);
    if (!rc && is_primary)
        rc = store_exec(c, "UPDATE assignments SET is_primary = 0 WHERE incident_id = ?", "i", id);
    if (!rc)
        rc = store_exec(c,
                        "INSERT INTO assignments(incident_id, unit_id, is_primary, assigned_us,"
                        " override_reason) VALUES (?, ?, ?, ?, ?)",
                        "iiiit", id, u.id, (int64_t)is_primary, now, override);
    if (!rc)
        rc = store_exec(c,
                        "UPDATE units SET status = 'dispatched', status_us = ?, touched_us = ?,"
                        " incident_id = ?, alerted = 0 WHERE id = ?",
                        "iiii", now, now, id, u.id);
    json_t *ev = json_pack("{ss ss sb ss}", "incident", x->target, "unit", u.callsign, "primary",
                           is_primary, "previous_status", u.status);
    if (ev && override)
        json_object_set_new(ev, "override_reason", json_string(override));
    if (!rc)
        rc = cad_event(c, cmd, id, "cad.unit.assigned", ev);
    else
        json_decref(ev);
    if (!rc)
        rc = cad_incident_follow_units(c, cmd, id, now);
    return rc;
}

static int op_release(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x, int64_t id)
{
    const char *callsign;
    int rc = cad_unpack(cmd, x->req, "{s:s}", "unit", &callsign);
    if (rc)
        return rc;
    struct cad_unit_row u;
    rc = cad_unit_need(c, cmd, callsign, true, &u);
    if (rc)
        return rc;
    if (u.incident_id != id)
        return cad_fail(cmd, AM_ECONFLICT, "unit %s is not assigned to %s", u.callsign, x->target);
    int64_t now = am_now_us();
    rc = store_exec(
        c, "UPDATE assignments SET released_us = ? WHERE unit_id = ? AND released_us IS NULL", "ii",
        now, u.id);
    if (!rc)
        rc = unit_available(c, u.id, now);
    if (!rc)
        rc = cad_event(c, cmd, id, "cad.unit.released",
                       json_pack("{ss ss}", "incident", x->target, "unit", u.callsign));
    if (!rc)
        rc = cad_incident_follow_units(c, cmd, id, now);
    return rc;
}

/* ------------------------------------------------------------- link, merge */

static int op_link(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x, int64_t id)
{
    const char *other;
    int rc = cad_unpack(cmd, x->req, "{s:s}", "other", &other);
    if (rc)
        return rc;
    int64_t oid;
    rc = cad_incident_find(c, other, &oid, NULL, 0);
    if (rc == AM_ENOTFOUND)
        return cad_fail(cmd, AM_EINVAL, "unknown incident '%.40s'", other);
    if (rc)
        return rc;
    if (oid == id)
        return cad_fail(cmd, AM_EINVAL, "an incident cannot be linked to itself");
    rc = store_exec(c, "INSERT INTO incident_links(a, b) VALUES (?, ?)", "ii", id < oid ? id : oid,
                    id < oid ? oid : id);
    if (rc == AM_ECONFLICT)
        return cad_fail(cmd, AM_ECONFLICT, "%s and %s are already linked", x->target, other);
    json_t *data = json_pack("{ss ss}", "incident", x->target, "other", other);
    if (!rc)
        rc = cad_event(c, cmd, id, "cad.incident.linked", json_incref(data));
    if (!rc)
        rc = store_exec(c, "INSERT INTO incident_events(incident_id, seq) VALUES (?, ?)", "ii", oid,
                        cmd->last_seq);
    json_decref(data);
    return rc;
}

/* A duplicate call is merged into the original: closed as duplicate, its units moved. */
static int op_merge(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x, int64_t id,
                    const char *status)
{
    const char *into;
    int rc = cad_unpack(cmd, x->req, "{s:s}", "into", &into);
    if (rc)
        return rc;
    int64_t oid;
    char ostatus[16];
    rc = cad_incident_find(c, into, &oid, ostatus, sizeof(ostatus));
    if (rc == AM_ENOTFOUND)
        return cad_fail(cmd, AM_EINVAL, "unknown incident '%.40s'", into);
    if (rc)
        return rc;
    if (oid == id)
        return cad_fail(cmd, AM_EINVAL, "an incident cannot be merged into itself");
    if (!strcmp(status, "closed"))
        return cad_fail(cmd, AM_ECONFLICT, "incident %s is closed", x->target);
    if (!strcmp(ostatus, "closed"))
        return cad_fail(cmd, AM_ECONFLICT, "incident %s is closed; reopen it first", into);
    int64_t now = am_now_us();
    struct active_unit a = {NULL, NULL, 0, 0};
    rc = take_units(c, id, now, &a);
    for (int i = 0; i < a.n && !rc; i++) {
        rc = store_exec(c,
                        "INSERT INTO assignments(incident_id, unit_id, is_primary, assigned_us)"
                        " VALUES (?, ?, 0, ?)",
                        "iii", oid, a.ids[i], now);
        if (!rc)
            rc =
                store_exec(c, "UPDATE units SET incident_id = ? WHERE id = ?", "ii", oid, a.ids[i]);
    }
    if (!rc)
        rc = store_exec(c,
                        "UPDATE incidents SET status = 'closed', disposition = 'duplicate',"
                        " merged_into = ?, closed_us = ?, updated_us = ? WHERE id = ?",
                        "iiii", oid, now, now, id);
    if (!rc)
        rc = store_exec(c, "INSERT OR IGNORE INTO incident_links(a, b) VALUES (?, ?)", "ii",
                        id < oid ? id : oid, id < oid ? oid : id);
    json_t *moved = json_array();
    for (int i = 0; i < a.n && moved; i++)
        json_array_append_new(moved, json_string(a.callsigns[i]));
    active_free(&a);
    if (!rc)
        rc = cad_event(
            c, cmd, id, "cad.incident.merged",
            json_pack("{ss ss so}", "incident", x->target, "into", into, "units_moved", moved));
    else
        json_decref(moved);
    if (!rc)
        rc = store_exec(c, "INSERT INTO incident_events(incident_id, seq) VALUES (?, ?)", "ii", oid,
                        cmd->last_seq);
    if (!rc)
        rc = cad_incident_follow_units(c, cmd, oid, now);
    return rc;
}

/* ------------------------------------------------------------- dispatch */

int cad_apply_incident(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x)
{
    if (x->op == CAD_INCIDENT_OPEN)
        return op_open(c, cmd, x);
    int64_t id;
    char status[16];
    int rc = cad_incident_find(c, x->target, &id, status, sizeof(status));
    if (rc == AM_ENOTFOUND)
        return cad_fail(cmd, AM_ENOTFOUND, "no incident %.40s", x->target ? x->target : "");
    if (rc)
        return rc;
    switch (x->op) {
    case CAD_INCIDENT_NOTE:
        rc = op_note(c, cmd, x, id);
        break;
    case CAD_INCIDENT_ASSIGN:
        rc = op_assign(c, cmd, x, id, status);
        break;
    case CAD_INCIDENT_RELEASE:
        rc = op_release(c, cmd, x, id);
        break;
    case CAD_INCIDENT_CLOSE:
        rc = op_close(c, cmd, x, id, status);
        break;
    case CAD_INCIDENT_REOPEN:
        rc = op_reopen(c, cmd, x, id, status);
        break;
    case CAD_INCIDENT_LINK:
        rc = op_link(c, cmd, x, id);
        break;
    case CAD_INCIDENT_MERGE:
        rc = op_merge(c, cmd, x, id, status);
        break;
    default:
        return AM_EINTERNAL;
    }
    if (!rc)
        rc = cad_incident_json(c, id, &x->result);
    x->status = 200;
    return rc;
}
