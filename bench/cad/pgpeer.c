/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * pgpeer.c - the named peer of the CAD benchmark (issue 3): the command mix
 * of loadgen.c (workload.h), run as plain SQL transactions on PostgreSQL,
 * one transaction per command, the way a conventional database-per-command
 * CAD does it.
 *
 * 200 dispatchers (--connections) send their commands into one queue that a
 * pool of libpq connections (--pool, by default one per dispatcher, so 200)
 * takes from, each connection on its own thread, as an application server
 * with a connection pool does. A command is BEGIN, the
 * status checks (SELECT ... FOR UPDATE), the updates, an event row per change
 * and the read of the answer, each statement a prepared statement and a
 * round trip, then COMMIT; a check that fails rolls back and counts as a 409.
 * The statements are those of src/cad (incident.c, unit.c), on a minimal
 * schema: incident_types, incident_numbers, incidents, units, assignments,
 * incident_notes, events. Not done here: amane's hash chain, idempotency
 * keys, HTTP, authentication and JSON parsing; the peer gets those for free.
 *
 * With --mode=function each command is instead one call of a PL/pgSQL
 * function holding the same statements (created with the schema), so one
 * round trip and one implicit transaction: PostgreSQL at its best, at the
 * price of the application's rules living in the database.
 *
 * Incident numbers come from a sequence by default. With --numbering=counter
 * they come from amane's own statement, an upsert on a counter row per
 * prefecture and year; on PostgreSQL that row stays locked until COMMIT, so
 * every open waits for the previous one's commit flush.
 *
 * Pacing, "late", and the latency figures are those of loadgen.c: command k
 * of dispatcher i is due at start + i/rate + k*connections/rate, a
 * dispatcher has one command out at most; latency runs from the command's
 * arrival in the queue (when loadgen would send it) to COMMIT answered, so
 * the wait for a free connection counts, as the wait for a worker does in
 * amaned. With --warmup S the same pacing runs S seconds
 * first, uncounted: 200 fresh backends each plan every statement (and
 * compile every function) on first use, which a running system has done.
 *
 * Output: one JSON line on stdout, in the shape of loadgen's.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "../common/bench.h"
#include "../common/samples.h"
#include <libpq-fe.h>

#include "workload.h"

static struct {
    const char *conninfo;
    double rate;
    int seconds;
    int conns;
    int units;
    uint64_t seed;
    bool counter; /* number incidents from a counter row, as amane does, not a sequence */
    bool func;    /* each command one call of a PL/pgSQL function */
    int warmup_s; /* seconds of the same load first, not counted */
    int pool;     /* connections; 0: one per dispatcher */
} opt = {NULL, 1000, 60, 200, 2000, 1, false, false, 0, 0};

/* ------------------------------------------------------------- schema */

static const char schema_sql[] =
    "DROP TABLE IF EXISTS events, incident_notes, assignments, units, incidents,"
    " incident_numbers, incident_types CASCADE;"
    "CREATE TABLE incident_types (code text PRIMARY KEY, name_fr text NOT NULL,"
    " priority int NOT NULL CHECK (priority BETWEEN 1 AND 4), active boolean NOT NULL DEFAULT "
    "true);"
    "CREATE TABLE incident_numbers (prefecture text NOT NULL, year int NOT NULL,"
    " last bigint NOT NULL, PRIMARY KEY (prefecture, year));"
    "DROP SEQUENCE IF EXISTS incident_serial;"
    "CREATE SEQUENCE incident_serial;"
    "CREATE TABLE incidents (id bigserial PRIMARY KEY, number text NOT NULL UNIQUE,"
    " status text NOT NULL, type text NOT NULL REFERENCES incident_types(code),"
    " priority int NOT NULL, caller_name text, caller_phone text, lat double precision,"
    " lon double precision, address text, narrative text, disposition text,"
    " call_us bigint NOT NULL, created_us bigint NOT NULL, dispatched_us bigint,"
    " enroute_us bigint, onscene_us bigint, closed_us bigint, updated_us bigint NOT NULL);"
    "CREATE INDEX incidents_status ON incidents(status, id);"
    "CREATE TABLE units (id bigserial PRIMARY KEY, callsign text NOT NULL UNIQUE,"
    " kind text NOT NULL, status text NOT NULL, status_us bigint NOT NULL,"
    " touched_us bigint NOT NULL, incident_id bigint REFERENCES incidents(id),"
    " alerted int NOT NULL DEFAULT 0);"
    "CREATE INDEX units_incident ON units(incident_id);"
    "CREATE TABLE assignments (id bigserial PRIMARY KEY,"
    " incident_id bigint NOT NULL REFERENCES incidents(id),"
    " unit_id bigint NOT NULL REFERENCES units(id), is_primary boolean NOT NULL,"
    " assigned_us bigint NOT NULL, released_us bigint);"
    "CREATE INDEX assignments_incident ON assignments(incident_id);"
    "CREATE UNIQUE INDEX assignments_active_unit ON assignments(unit_id)"
    " WHERE released_us IS NULL;"
    "CREATE TABLE incident_notes (id bigserial PRIMARY KEY,"
    " incident_id bigint NOT NULL REFERENCES incidents(id), ts_us bigint NOT NULL,"
    " author text NOT NULL, text text NOT NULL);"
    "CREATE INDEX incident_notes_incident ON incident_notes(incident_id);"
    "CREATE TABLE events (seq bigserial PRIMARY KEY, ts_us bigint NOT NULL, type text NOT NULL,"
    " actor text NOT NULL, incident_id bigint, data text NOT NULL);"
    "CREATE INDEX events_incident ON events(incident_id, seq);"
    /* --mode=func: each command one call of a PL/pgSQL function, one round trip. */
    "CREATE OR REPLACE FUNCTION now_us() RETURNS bigint LANGUAGE sql AS"
    " $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint $$;"
    "CREATE OR REPLACE FUNCTION cad_event(p_type text, p_actor text, p_incident bigint,"
    " p_data text) RETURNS void LANGUAGE sql AS $$ INSERT INTO events(ts_us, type, actor,"
    " incident_id, data) VALUES (now_us(), p_type, p_actor, p_incident, p_data) $$;"
    "CREATE OR REPLACE FUNCTION cad_answer(p_id bigint) RETURNS text LANGUAGE sql AS $$"
    " SELECT json_build_object('incident', (SELECT row_to_json(i) FROM incidents i"
    " WHERE i.id = p_id), 'units', (SELECT coalesce(json_agg(x ORDER BY x.id), '[]')"
    " FROM (SELECT a.id, u.callsign, u.kind, a.is_primary, u.status, a.assigned_us,"
    " a.released_us FROM assignments a JOIN units u ON u.id = a.unit_id"
    " WHERE a.incident_id = p_id) x), 'notes', (SELECT coalesce(json_agg(n ORDER BY n.id),"
    " '[]') FROM incident_notes n WHERE n.incident_id = p_id))::text $$;"
    "CREATE OR REPLACE FUNCTION cad_follow(p_id bigint, p_actor text) RETURNS void"
    " LANGUAGE plpgsql AS $$ DECLARE st text; num text; stage int; cur int; t bigint := now_us();"
    " names text[] := ARRAY['new', 'dispatched', 'en_route', 'on_scene']; BEGIN"
    " SELECT status, number INTO st, num FROM incidents WHERE id = p_id FOR UPDATE;"
    " IF NOT FOUND OR st = 'closed' THEN RETURN; END IF;"
    " SELECT coalesce(max(CASE u.status WHEN 'on_scene' THEN 3 WHEN 'transporting' THEN 3"
    " WHEN 'en_route' THEN 2 WHEN 'dispatched' THEN 1 ELSE 0 END), 0) INTO stage"
    " FROM assignments a JOIN units u ON u.id = a.unit_id WHERE a.incident_id = p_id"
    " AND a.released_us IS NULL;"
    " cur := coalesce(array_position(names, st), 1) - 1;"
    " IF stage = cur THEN RETURN; END IF;"
    " UPDATE incidents SET status = names[stage + 1], updated_us = t,"
    " dispatched_us = CASE WHEN stage >= 1 THEN coalesce(dispatched_us, t) ELSE dispatched_us END,"
    " enroute_us = CASE WHEN stage >= 2 THEN coalesce(enroute_us, t) ELSE enroute_us END,"
    " onscene_us = CASE WHEN stage >= 3 THEN coalesce(onscene_us, t) ELSE onscene_us END"
    " WHERE id = p_id;"
    " PERFORM cad_event('cad.incident.status', p_actor, p_id, json_build_object('incident', num,"
    " 'previous', st, 'status', names[stage + 1])::text); END $$;"
    "CREATE OR REPLACE FUNCTION cad_open(p_type text, p_name text, p_phone text, p_lat float8,"
    " p_lon float8, p_address text, p_narrative text, p_actor text, p_counter boolean)"
    " RETURNS text LANGUAGE plpgsql AS $$ DECLARE prio int; serial bigint; num text;"
    " yr int := extract(year FROM now() AT TIME ZONE 'UTC'); t bigint := now_us(); iid bigint;"
    " BEGIN SELECT priority INTO prio FROM incident_types WHERE code = p_type AND active;"
    " IF NOT FOUND THEN RAISE EXCEPTION 'unknown type' USING ERRCODE = 'AM409'; END IF;"
    " IF p_counter THEN INSERT INTO incident_numbers(prefecture, year, last)"
    " VALUES ('CAS', yr, 1) ON CONFLICT (prefecture, year)"
    " DO UPDATE SET last = incident_numbers.last + 1 RETURNING last INTO serial;"
    " ELSE serial := nextval('incident_serial'); END IF;"
    " num := format('CAS-%s-%s', yr, lpad(serial::text, 6, '0'));"
    " INSERT INTO incidents(number, status, type, priority, caller_name, caller_phone, lat, lon,"
    " address, narrative, call_us, created_us, updated_us) VALUES (num, 'new', p_type, prio,"
    " p_name, p_phone, p_lat, p_lon, p_address, p_narrative, t, t, t) RETURNING id INTO iid;"
    " PERFORM cad_event('cad.incident.opened', p_actor, iid, cad_answer(iid));"
    " RETURN num; END $$;"
    "CREATE OR REPLACE FUNCTION cad_assign(p_number text, p_callsign text, p_actor text)"
    " RETURNS text LANGUAGE plpgsql AS $$ DECLARE iid bigint; ist text; uid bigint; ust text;"
    " prim boolean; t bigint := now_us(); BEGIN"
    " SELECT id, status INTO iid, ist FROM incidents WHERE number = p_number FOR UPDATE;"
    " IF NOT FOUND OR ist = 'closed' THEN RAISE EXCEPTION 'incident' USING ERRCODE = 'AM409';"
    " END IF;"
    " SELECT id, status INTO uid, ust FROM units WHERE callsign = p_callsign FOR UPDATE;"
    " IF NOT FOUND OR ust <> 'available' THEN RAISE EXCEPTION 'unit' USING ERRCODE = 'AM409';"
    " END IF;"
    " prim := NOT EXISTS (SELECT 1 FROM assignments WHERE incident_id = iid AND is_primary"
    " AND released_us IS NULL);"
    " INSERT INTO assignments(incident_id, unit_id, is_primary, assigned_us)"
    " VALUES (iid, uid, prim, t);"
    " UPDATE units SET status = 'dispatched', status_us = t, touched_us = t, incident_id = iid,"
    " alerted = 0 WHERE id = uid;"
    " PERFORM cad_event('cad.unit.assigned', p_actor, iid, json_build_object('incident',"
    " p_number, 'unit', p_callsign, 'primary', prim, 'previous_status', ust)::text);"
    " PERFORM cad_follow(iid, p_actor); RETURN cad_answer(iid); END $$;"
    "CREATE OR REPLACE FUNCTION cad_unit_status(p_callsign text, p_status text, p_actor text)"
    " RETURNS text LANGUAGE plpgsql AS $$ DECLARE uid bigint; ust text; iid bigint; num text;"
    " rel boolean := p_status = 'available'; ok boolean; t bigint := now_us(); BEGIN"
    " SELECT u.id, u.status, u.incident_id, i.number INTO uid, ust, iid, num FROM units u"
    " LEFT JOIN incidents i ON i.id = u.incident_id WHERE u.callsign = p_callsign"
    " FOR UPDATE OF u;"
    " IF NOT FOUND THEN RAISE EXCEPTION 'unit' USING ERRCODE = 'AM409'; END IF;"
    " ok := CASE p_status WHEN 'en_route' THEN iid IS NOT NULL AND ust IN ('dispatched',"
    " 'en_route') WHEN 'on_scene' THEN iid IS NOT NULL AND ust IN ('dispatched', 'en_route',"
    " 'on_scene') ELSE true END;"
    " IF NOT ok THEN RAISE EXCEPTION 'state' USING ERRCODE = 'AM409'; END IF;"
    " UPDATE units SET status = p_status, status_us = CASE WHEN p_status = ust THEN status_us"
    " ELSE t END, touched_us = t, alerted = 0, incident_id = CASE WHEN rel THEN NULL"
    " ELSE incident_id END WHERE id = uid;"
    " IF rel AND iid IS NOT NULL THEN UPDATE assignments SET released_us = t WHERE unit_id = uid"
    " AND released_us IS NULL; END IF;"
    " PERFORM cad_event('cad.unit.status', p_actor, iid, json_build_object('unit', p_callsign,"
    " 'status', p_status, 'previous', ust, 'incident', num)::text);"
    " IF iid IS NOT NULL THEN PERFORM cad_follow(iid, p_actor); END IF;"
    " RETURN (SELECT row_to_json(x)::text FROM (SELECT u.id, u.callsign, u.kind, u.status,"
    " u.status_us, i.number FROM units u LEFT JOIN incidents i ON i.id = u.incident_id"
    " WHERE u.id = uid) x); END $$;"
    "CREATE OR REPLACE FUNCTION cad_note(p_number text, p_text text, p_actor text)"
    " RETURNS text LANGUAGE plpgsql AS $$ DECLARE iid bigint; t bigint := now_us(); BEGIN"
    " SELECT id INTO iid FROM incidents WHERE number = p_number FOR UPDATE;"
    " IF NOT FOUND THEN RAISE EXCEPTION 'incident' USING ERRCODE = 'AM409'; END IF;"
    " INSERT INTO incident_notes(incident_id, ts_us, author, text)"
    " VALUES (iid, t, p_actor, p_text);"
    " UPDATE incidents SET updated_us = t WHERE id = iid;"
    " UPDATE units SET touched_us = t, alerted = 0 WHERE incident_id = iid"
    " AND status = 'on_scene';"
    " PERFORM cad_event('cad.incident.note', p_actor, iid, json_build_object('incident',"
    " p_number, 'text', p_text)::text);"
    " RETURN cad_answer(iid); END $$;"
    "CREATE OR REPLACE FUNCTION cad_close(p_number text, p_disp text, p_actor text)"
    " RETURNS text LANGUAGE plpgsql AS $$ DECLARE iid bigint; ist text; r record;"
    " t bigint := now_us(); BEGIN"
    " SELECT id, status INTO iid, ist FROM incidents WHERE number = p_number FOR UPDATE;"
    " IF NOT FOUND OR ist = 'closed' THEN RAISE EXCEPTION 'incident' USING ERRCODE = 'AM409';"
    " END IF;"
    " FOR r IN SELECT u.id, u.callsign FROM assignments s JOIN units u ON u.id = s.unit_id"
    " WHERE s.incident_id = iid AND s.released_us IS NULL FOR UPDATE OF u LOOP"
    " UPDATE units SET status = 'available', status_us = t, touched_us = t, incident_id = NULL,"
    " alerted = 0 WHERE id = r.id;"
    " PERFORM cad_event('cad.unit.status', p_actor, iid, json_build_object('unit', r.callsign,"
    " 'status', 'available', 'incident', p_number)::text); END LOOP;"
    " UPDATE assignments SET released_us = t WHERE incident_id = iid AND released_us IS NULL;"
    " UPDATE incidents SET status = 'closed', disposition = p_disp, closed_us = t,"
    " updated_us = t WHERE id = iid;"
    " PERFORM cad_event('cad.incident.closed', p_actor, iid, json_build_object('incident',"
    " p_number, 'disposition', p_disp)::text);"
    " RETURN cad_answer(iid); END $$;";

/* The codes of src/cad/schema.c, with their default priorities. */
static const struct {
    const char *code;
    int priority;
} type_list[] = {
    {"ASSAULT", 2},
    {"ASSAULT_WEAPON", 1},
    {"ROBBERY", 1},
    {"THEFT", 3},
    {"BURGLARY", 2},
    {"VEHICLE_THEFT", 3},
    {"TRAFFIC_INJURY", 1},
    {"TRAFFIC_NOINJURY", 3},
    {"TRAFFIC_HAZARD", 3},
    {"DISTURBANCE", 3},
    {"DOMESTIC", 1},
    {"SUSPICIOUS_PERSON", 3},
    {"SUSPICIOUS_VEHICLE", 3},
    {"SUSPICIOUS_PACKAGE", 1},
    {"MISSING_PERSON", 2},
    {"FIRE", 1},
    {"PUBLIC_ORDER", 2},
    {"STADIUM_CROWD", 1},
    {"DRUGS", 3},
    {"FRAUD", 4},
    {"VANDALISM", 4},
    {"ALARM", 3},
    {"ANIMAL", 3},
    {"WELFARE_CHECK", 3},
    {"OTHER", 4},
};
#define NTYPES ((int)(sizeof(type_list) / sizeof(type_list[0])))

/* Prepared on every connection: name and SQL ($n parameters, all sent as text). */
static const struct {
    const char *name, *sql;
} stmts[] = {
    {"type", "SELECT priority, active FROM incident_types WHERE code = $1"},
    {"number", "INSERT INTO incident_numbers(prefecture, year, last) VALUES ($1, $2, 1)"
               " ON CONFLICT (prefecture, year) DO UPDATE SET last = incident_numbers.last + 1"
               " RETURNING last"},
    {"serial", "SELECT nextval('incident_serial')"},
    {"inc_insert",
     "INSERT INTO incidents(number, status, type, priority, caller_name, caller_phone, lat, lon,"
     " address, narrative, call_us, created_us, updated_us)"
     " VALUES ($1, 'new', $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $10) RETURNING id"},
    {"event", "INSERT INTO events(ts_us, type, actor, incident_id, data)"
              " VALUES ($1, $2, $3, $4, $5)"},
    {"inc_lock", "SELECT id, status FROM incidents WHERE number = $1 FOR UPDATE"},
    {"inc_lock_id", "SELECT id, status, number FROM incidents WHERE id = $1 FOR UPDATE"},
    {"unit_lock", "SELECT id, status, incident_id FROM units WHERE callsign = $1 FOR UPDATE"},
    {"has_primary", "SELECT count(*) FROM assignments WHERE incident_id = $1 AND is_primary"
                    " AND released_us IS NULL"},
    {"assign_insert", "INSERT INTO assignments(incident_id, unit_id, is_primary, assigned_us)"
                      " VALUES ($1, $2, $3, $4)"},
    {"unit_dispatch", "UPDATE units SET status = 'dispatched', status_us = $2, touched_us = $2,"
                      " incident_id = $3, alerted = 0 WHERE id = $1"},
    {"stage", "SELECT u.status FROM assignments a JOIN units u ON u.id = a.unit_id"
              " WHERE a.incident_id = $1 AND a.released_us IS NULL"},
    {"inc_status",
     "UPDATE incidents SET status = $2, updated_us = $3,"
     " dispatched_us = CASE WHEN $4::int >= 1 THEN coalesce(dispatched_us, $3) ELSE dispatched_us "
     "END,"
     " enroute_us = CASE WHEN $4::int >= 2 THEN coalesce(enroute_us, $3) ELSE enroute_us END,"
     " onscene_us = CASE WHEN $4::int >= 3 THEN coalesce(onscene_us, $3) ELSE onscene_us END"
     " WHERE id = $1"},
    {"inc_get", "SELECT i.id, i.number, i.status, i.type, t.name_fr, i.priority, i.caller_name,"
                " i.caller_phone, i.lat, i.lon, i.address, i.narrative, i.disposition, i.call_us,"
                " i.created_us, i.dispatched_us, i.enroute_us, i.onscene_us, i.closed_us"
                " FROM incidents i JOIN incident_types t ON t.code = i.type WHERE i.id = $1"},
    {"inc_units", "SELECT u.callsign, u.kind, a.is_primary, u.status, a.assigned_us,"
                  " a.released_us FROM assignments a JOIN units u ON u.id = a.unit_id"
                  " WHERE a.incident_id = $1 ORDER BY a.id"},
    {"inc_notes", "SELECT ts_us, author, text FROM incident_notes WHERE incident_id = $1"
                  " ORDER BY id"},
    {"unit_state", "SELECT u.id, u.status, u.incident_id, i.number FROM units u"
                   " LEFT JOIN incidents i ON i.id = u.incident_id WHERE u.callsign = $1"
                   " FOR UPDATE OF u"},
    {"unit_set", "UPDATE units SET status = $2,"
                 " status_us = CASE WHEN $3::boolean THEN status_us ELSE $4 END,"
                 " touched_us = $4, alerted = 0,"
                 " incident_id = CASE WHEN $5::boolean THEN NULL ELSE incident_id END"
                 " WHERE id = $1"},
    {"assign_release_unit", "UPDATE assignments SET released_us = $2 WHERE unit_id = $1"
                            " AND released_us IS NULL"},
    {"unit_get", "SELECT u.id, u.callsign, u.kind, u.status, u.status_us, i.number FROM units u"
                 " LEFT JOIN incidents i ON i.id = u.incident_id WHERE u.id = $1"},
    {"note_insert", "INSERT INTO incident_notes(incident_id, ts_us, author, text)"
                    " VALUES ($1, $2, $3, $4)"},
    {"inc_touch", "UPDATE incidents SET updated_us = $2 WHERE id = $1"},
    {"units_touch", "UPDATE units SET touched_us = $2, alerted = 0 WHERE incident_id = $1"
                    " AND status = 'on_scene'"},
    {"active_units", "SELECT u.id, u.callsign FROM assignments s JOIN units u ON u.id = s.unit_id"
                     " WHERE s.incident_id = $1 AND s.released_us IS NULL FOR UPDATE OF u"},
    {"assign_release_inc", "UPDATE assignments SET released_us = $2 WHERE incident_id = $1"
                           " AND released_us IS NULL"},
    {"unit_free", "UPDATE units SET status = 'available', status_us = $2, touched_us = $2,"
                  " incident_id = NULL, alerted = 0 WHERE id = $1"},
    {"inc_close", "UPDATE incidents SET status = 'closed', disposition = $2, closed_us = $3,"
                  " updated_us = $3 WHERE id = $1"},
    {"f_open", "SELECT cad_open($1, $2, $3, $4::float8, $5::float8, $6, $7, $8, $9::boolean)"},
    {"f_assign", "SELECT cad_assign($1, $2, $3)"},
    {"f_status", "SELECT cad_unit_status($1, $2, $3)"},
    {"f_note", "SELECT cad_note($1, $2, $3)"},
    {"f_close", "SELECT cad_close($1, $2, $3)"},
};
#define NSTMTS ((int)(sizeof(stmts) / sizeof(stmts[0])))

/* ------------------------------------------------------------- workers */

struct worker {
    int id;
    pthread_t thread;
    PGconn *pg;
    uint64_t sent, ok, conflict, failed;
    uint64_t kind_ok[WL_NKINDS], kind_conflict[WL_NKINDS], kind_failed[WL_NKINDS];
    struct samples lat, from_due, kind_lat[WL_NKINDS];
    uint64_t *per_second;
    int64_t last_answer;
    char error[256];
};

static pthread_mutex_t model_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wl_model model;
/* Pacing starts at t_start; what is due before t_measure is warm-up, not counted. */
static int64_t t_start, t_measure, t_end;
static int nseconds;
static const char *actor = "dispatcher";

/* The result of one statement; NULL (with w->error set) if it failed. */
static PGresult *run(struct worker *w, const char *name, int n, ...)
{
    const char *params[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n && i < 16; i++)
        params[i] = va_arg(ap, const char *);
    va_end(ap);
    PGresult *r = PQexecPrepared(w->pg, name, n, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        if (!w->error[0])
            snprintf(w->error, sizeof(w->error), "%s: %s", name, PQerrorMessage(w->pg));
        PQclear(r);
        return NULL;
    }
    return r;
}

static int simple(struct worker *w, const char *sql)
{
    PGresult *r = PQexec(w->pg, sql);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc && !w->error[0])
        snprintf(w->error, sizeof(w->error), "%s: %s", sql, PQerrorMessage(w->pg));
    PQclear(r);
    return rc;
}

static void i64s(char *buf, int64_t v)
{
    snprintf(buf, 24, "%lld", (long long)v);
}

/* Runs a statement whose result is not needed. */
static int exec(struct worker *w, const char *name, int n, ...)
{
    const char *params[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n && i < 16; i++)
        params[i] = va_arg(ap, const char *);
    va_end(ap);
    PGresult *r = PQexecPrepared(w->pg, name, n, params, NULL, NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? 0 : -1;
    if (rc && !w->error[0])
        snprintf(w->error, sizeof(w->error), "%s: %s", name, PQerrorMessage(w->pg));
    PQclear(r);
    return rc;
}

/* An event row, as amane appends one per change. `data` is its JSON text. */
static int event(struct worker *w, const char *type, const char *incident_id, const char *data)
{
    char ts[24];
    i64s(ts, real_us());
    return exec(w, "event", 5, ts, type, actor, incident_id, data);
}

/* The answer amane gives after an incident command: the incident, its units and notes. */
static int read_incident(struct worker *w, const char *id)
{
    PGresult *r = run(w, "inc_get", 1, id);
    if (!r)
        return -1;
    PQclear(r);
    if (!(r = run(w, "inc_units", 1, id)))
        return -1;
    PQclear(r);
    if (!(r = run(w, "inc_notes", 1, id)))
        return -1;
    PQclear(r);
    return 0;
}

static int stage_of(const char *s)
{
    return !strcmp(s, "on_scene") || !strcmp(s, "transporting") ? 3
           : !strcmp(s, "en_route")                             ? 2
           : !strcmp(s, "dispatched")                           ? 1
                                                                : 0;
}

/* cad_incident_follow_units(): the incident's status follows its most advanced unit. */
static int follow_units(struct worker *w, const char *id)
{
    static const char *const names[] = {"new", "dispatched", "en_route", "on_scene"};
    PGresult *r = run(w, "inc_lock_id", 1, id);
    if (!r)
        return -1;
    if (PQntuples(r) != 1 || !strcmp(PQgetvalue(r, 0, 1), "closed")) {
        PQclear(r);
        return 0;
    }
    char status[16], number[32];
    snprintf(status, sizeof(status), "%s", PQgetvalue(r, 0, 1));
    snprintf(number, sizeof(number), "%s", PQgetvalue(r, 0, 2));
    PQclear(r);
    if (!(r = run(w, "stage", 1, id)))
        return -1;
    int stage = 0;
    for (int i = 0; i < PQntuples(r); i++)
        if (stage_of(PQgetvalue(r, i, 0)) > stage)
            stage = stage_of(PQgetvalue(r, i, 0));
    PQclear(r);
    if (stage == stage_of(status))
        return 0;
    char now[24], st[4], data[160];
    i64s(now, real_us());
    snprintf(st, sizeof(st), "%d", stage);
    if (exec(w, "inc_status", 4, id, names[stage], now, st))
        return -1;
    snprintf(data, sizeof(data), "{\"incident\":\"%s\",\"previous\":\"%s\",\"status\":\"%s\"}",
             number, status, names[stage]);
    return event(w, "cad.incident.status", id, data);
}

enum { DONE_OK, DONE_CONFLICT, DONE_FAILED };

static int cmd_open(struct worker *w, const struct wl_cmd *c, char *number_out)
{
    PGresult *r = run(w, "type", 1, c->type);
    if (!r)
        return DONE_FAILED;
    bool found = PQntuples(r) == 1;
    char prio[8];
    snprintf(prio, sizeof(prio), "%s", found ? PQgetvalue(r, 0, 0) : "4");
    PQclear(r);
    if (!found)
        return DONE_CONFLICT;
    int64_t now = real_us();
    time_t secs = (time_t)(now / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char year[16], now_s[24], lat[32], lon[32], number[32], id[24];
    snprintf(year, sizeof(year), "%d", tm.tm_year + 1900);
    if (!(r = opt.counter ? run(w, "number", 2, "CAS", year) : run(w, "serial", 0)))
        return DONE_FAILED;
    snprintf(number, sizeof(number), "CAS-%s-%06lld", year, atoll(PQgetvalue(r, 0, 0)));
    PQclear(r);
    i64s(now_s, now);
    snprintf(lat, sizeof(lat), "%.6f", c->lat);
    snprintf(lon, sizeof(lon), "%.6f", c->lon);
    if (!(r = run(w, "inc_insert", 10, number, c->type, prio, c->caller_name, c->caller_phone, lat,
                  lon, c->address, c->narrative, now_s)))
        return DONE_FAILED;
    snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    /* The event carries the whole new incident, as amane's does. */
    char data[1536];
    snprintf(data, sizeof(data),
             "{\"caller\":{\"name\":\"%s\",\"phone\":\"%s\"},\"disposition\":null,\"hazards\":[],"
             "\"id\":%s,\"links\":[],\"location\":{\"address\":\"%s\",\"lat\":%s,\"lon\":%s},"
             "\"merged_into\":null,\"narrative\":\"%s\",\"notes\":[],\"number\":\"%s\","
             "\"place\":{\"prefecture\":null,\"region\":null,\"sector\":null},\"priority\":%s,"
             "\"status\":\"new\",\"times\":{\"call\":%s,\"closed\":null,\"created\":%s,"
             "\"dispatched\":null,\"en_route\":null,\"on_scene\":null},\"type\":\"%s\","
             "\"units\":[]}",
             c->caller_name, c->caller_phone, id, c->address, lat, lon, c->narrative, number, prio,
             now_s, now_s, c->type);
    if (event(w, "cad.incident.opened", id, data))
        return DONE_FAILED;
    snprintf(number_out, 32, "%s", number);
    return DONE_OK;
}

static int cmd_assign(struct worker *w, const struct wl_cmd *c)
{
    PGresult *r = run(w, "inc_lock", 1, c->number);
    if (!r)
        return DONE_FAILED;
    if (PQntuples(r) != 1 || !strcmp(PQgetvalue(r, 0, 1), "closed")) {
        PQclear(r);
        return DONE_CONFLICT;
    }
    char id[24], uid[24], now[24], data[256];
    snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!(r = run(w, "unit_lock", 1, c->callsign)))
        return DONE_FAILED;
    if (PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 1), "available")) {
        PQclear(r);
        return DONE_CONFLICT;
    }
    snprintf(uid, sizeof(uid), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!(r = run(w, "has_primary", 1, id)))
        return DONE_FAILED;
    bool primary = atoll(PQgetvalue(r, 0, 0)) == 0;
    PQclear(r);
    i64s(now, real_us());
    if (exec(w, "assign_insert", 4, id, uid, primary ? "true" : "false", now) ||
        exec(w, "unit_dispatch", 3, uid, now, id))
        return DONE_FAILED;
    snprintf(data, sizeof(data),
             "{\"incident\":\"%s\",\"previous_status\":\"available\",\"primary\":%s,"
             "\"unit\":\"%s\"}",
             c->number, primary ? "true" : "false", c->callsign);
    if (event(w, "cad.unit.assigned", id, data) || follow_units(w, id) || read_incident(w, id))
        return DONE_FAILED;
    return DONE_OK;
}

static int cmd_status(struct worker *w, const struct wl_cmd *c)
{
    PGresult *r = run(w, "unit_state", 1, c->callsign);
    if (!r)
        return DONE_FAILED;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return DONE_CONFLICT;
    }
    char uid[24], from[24], inc[24], number[32], now[24], data[256];
    snprintf(uid, sizeof(uid), "%s", PQgetvalue(r, 0, 0));
    snprintf(from, sizeof(from), "%s", PQgetvalue(r, 0, 1));
    bool assigned = !PQgetisnull(r, 0, 2);
    snprintf(inc, sizeof(inc), "%s", assigned ? PQgetvalue(r, 0, 2) : "");
    snprintf(number, sizeof(number), "%s", assigned ? PQgetvalue(r, 0, 3) : "");
    PQclear(r);
    const char *to = c->status;
    bool ok = true;
    if (!strcmp(to, "en_route"))
        ok = assigned && (!strcmp(from, "dispatched") || !strcmp(from, "en_route"));
    else if (!strcmp(to, "on_scene"))
        ok = assigned && (!strcmp(from, "dispatched") || !strcmp(from, "en_route") ||
                          !strcmp(from, "on_scene"));
    if (!ok)
        return DONE_CONFLICT;
    bool releases = !strcmp(to, "available"), same = !strcmp(to, from);
    i64s(now, real_us());
    if (exec(w, "unit_set", 5, uid, to, same ? "true" : "false", now, releases ? "true" : "false"))
        return DONE_FAILED;
    if (releases && assigned && exec(w, "assign_release_unit", 2, uid, now))
        return DONE_FAILED;
    if (assigned)
        snprintf(data, sizeof(data),
                 "{\"incident\":\"%s\",\"previous\":\"%s\",\"status\":\"%s\",\"unit\":\"%s\"}",
                 number, from, to, c->callsign);
    else
        snprintf(data, sizeof(data), "{\"previous\":\"%s\",\"status\":\"%s\",\"unit\":\"%s\"}",
                 from, to, c->callsign);
    if (event(w, "cad.unit.status", assigned ? inc : NULL, data))
        return DONE_FAILED;
    if (assigned && follow_units(w, inc))
        return DONE_FAILED;
    if (!(r = run(w, "unit_get", 1, uid)))
        return DONE_FAILED;
    PQclear(r);
    return DONE_OK;
}

static int cmd_note(struct worker *w, const struct wl_cmd *c)
{
    PGresult *r = run(w, "inc_lock", 1, c->number);
    if (!r)
        return DONE_FAILED;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return DONE_CONFLICT;
    }
    char id[24], now[24], data[512];
    snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    i64s(now, real_us());
    if (exec(w, "note_insert", 4, id, now, actor, c->text) || exec(w, "inc_touch", 2, id, now) ||
        exec(w, "units_touch", 2, id, now))
        return DONE_FAILED;
    snprintf(data, sizeof(data), "{\"incident\":\"%s\",\"text\":\"%s\"}", c->number, c->text);
    if (event(w, "cad.incident.note", id, data) || read_incident(w, id))
        return DONE_FAILED;
    return DONE_OK;
}

static int cmd_close(struct worker *w, const struct wl_cmd *c)
{
    PGresult *r = run(w, "inc_lock", 1, c->number);
    if (!r)
        return DONE_FAILED;
    if (PQntuples(r) != 1 || !strcmp(PQgetvalue(r, 0, 1), "closed")) {
        PQclear(r);
        return DONE_CONFLICT;
    }
    char id[24], now[24], data[512];
    snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    i64s(now, real_us());
    if (!(r = run(w, "active_units", 1, id)))
        return DONE_FAILED;
    int n = PQntuples(r);
    char uids[WL_UNITS_PER_INCIDENT * 4][24], callsigns[WL_UNITS_PER_INCIDENT * 4][16];
    if (n > WL_UNITS_PER_INCIDENT * 4)
        n = WL_UNITS_PER_INCIDENT * 4;
    for (int i = 0; i < n; i++) {
        snprintf(uids[i], sizeof(uids[i]), "%s", PQgetvalue(r, i, 0));
        snprintf(callsigns[i], sizeof(callsigns[i]), "%s", PQgetvalue(r, i, 1));
    }
    PQclear(r);
    if (exec(w, "assign_release_inc", 2, id, now))
        return DONE_FAILED;
    for (int i = 0; i < n; i++) {
        snprintf(data, sizeof(data),
                 "{\"incident\":\"%s\",\"status\":\"available\",\"unit\":\"%s\"}", c->number,
                 callsigns[i]);
        if (exec(w, "unit_free", 2, uids[i], now) || event(w, "cad.unit.status", id, data))
            return DONE_FAILED;
    }
    if (exec(w, "inc_close", 3, id, c->disposition, now))
        return DONE_FAILED;
    snprintf(data, sizeof(data), "{\"disposition\":\"%s\",\"incident\":\"%s\"}", c->disposition,
             c->number);
    if (event(w, "cad.incident.closed", id, data) || read_incident(w, id))
        return DONE_FAILED;
    return DONE_OK;
}

/* --mode=func: the command as one function call, its own transaction. */
static int run_function(struct worker *w, const struct wl_cmd *c, char *number)
{
    char lat[32], lon[32];
    const char *p[9];
    const char *name;
    int n = 3;
    switch (c->kind) {
    case WL_OPEN:
        snprintf(lat, sizeof(lat), "%.6f", c->lat);
        snprintf(lon, sizeof(lon), "%.6f", c->lon);
        name = "f_open";
        p[0] = c->type, p[1] = c->caller_name, p[2] = c->caller_phone, p[3] = lat, p[4] = lon;
        p[5] = c->address, p[6] = c->narrative, p[7] = actor;
        p[8] = opt.counter ? "true" : "false";
        n = 9;
        break;
    case WL_ASSIGN:
        name = "f_assign", p[0] = c->number, p[1] = c->callsign, p[2] = actor;
        break;
    case WL_EN_ROUTE:
    case WL_ON_SCENE:
    case WL_AVAILABLE:
        name = "f_status", p[0] = c->callsign, p[1] = c->status, p[2] = actor;
        break;
    case WL_NOTE:
        name = "f_note", p[0] = c->number, p[1] = c->text, p[2] = actor;
        break;
    case WL_CLOSE:
        name = "f_close", p[0] = c->number, p[1] = c->disposition, p[2] = actor;
        break;
    default:
        return DONE_FAILED;
    }
    PGresult *r = PQexecPrepared(w->pg, name, n, p, NULL, NULL, 0);
    int rc = DONE_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        rc = state && !strcmp(state, "AM409") ? DONE_CONFLICT : DONE_FAILED;
        if (rc == DONE_FAILED && !w->error[0])
            snprintf(w->error, sizeof(w->error), "%s: %s", name, PQerrorMessage(w->pg));
    } else if (c->kind == WL_OPEN) {
        snprintf(number, 32, "%s", PQgetvalue(r, 0, 0));
    }
    PQclear(r);
    if (rc == DONE_FAILED && PQstatus(w->pg) != CONNECTION_OK)
        PQreset(w->pg);
    return rc;
}

/* One command as one transaction. */
static int run_command(struct worker *w, const struct wl_cmd *c, char *number)
{
    if (opt.func)
        return run_function(w, c, number);
    if (simple(w, "BEGIN"))
        return DONE_FAILED;
    int rc;
    switch (c->kind) {
    case WL_OPEN:
        rc = cmd_open(w, c, number);
        break;
    case WL_ASSIGN:
        rc = cmd_assign(w, c);
        break;
    case WL_EN_ROUTE:
    case WL_ON_SCENE:
    case WL_AVAILABLE:
        rc = cmd_status(w, c);
        break;
    case WL_NOTE:
        rc = cmd_note(w, c);
        break;
    case WL_CLOSE:
        rc = cmd_close(w, c);
        break;
    default:
        rc = DONE_FAILED;
    }
    if (rc == DONE_OK && simple(w, "COMMIT"))
        rc = DONE_FAILED;
    if (rc != DONE_OK)
        simple(w, "ROLLBACK");
    if (rc != DONE_OK && PQstatus(w->pg) != CONNECTION_OK)
        PQreset(w->pg);
    return rc;
}

static void sleep_until(int64_t mono)
{
    struct timespec ts = {(time_t)(mono / 1000000), (long)(mono % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/*
 * Dispatchers and the pool. Each dispatcher has its own pacing and at most
 * one command out, as in loadgen.c; its commands go into one queue that the
 * pool's connections take from, as an application server with a connection
 * pool does. Latency runs from the queueing (the request's arrival) to the
 * COMMIT's answer, so it includes the wait for a free connection.
 */
struct dispatcher {
    int64_t next_due, idle_since;
    uint64_t k;
    bool busy;
};

struct job {
    int d;
    bool measured;
    int64_t due, queued;
    struct wl_cmd c;
};

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv, sched_cv;
static struct dispatcher *disps;
static struct job *queue; /* a ring of opt.conns jobs: one per dispatcher at most */
static size_t q_head, q_len;
static bool q_stop;
static uint64_t late_total;

static int64_t due_of(int d, uint64_t k)
{
    return t_start + (int64_t)((double)d * 1e6 / opt.rate + (double)k * opt.conns * 1e6 / opt.rate);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        pthread_mutex_lock(&q_mu);
        while (!q_len && !q_stop)
            pthread_cond_wait(&work_cv, &q_mu);
        if (!q_len) {
            pthread_mutex_unlock(&q_mu);
            break;
        }
        struct job j = queue[q_head];
        q_head = (q_head + 1) % (size_t)opt.conns;
        q_len--;
        pthread_mutex_unlock(&q_mu);

        char number[32] = "";
        int rc = run_command(w, &j.c, number);
        int64_t t1 = mono_us();
        enum wl_outcome oc = rc == DONE_OK ? WL_OK : rc == DONE_CONFLICT ? WL_CONFLICT : WL_FAILED;
        if (j.measured) {
            w->sent++;
            w->last_answer = t1;
            samples_add(&w->lat, t1 - j.queued);
            samples_add(&w->from_due, t1 - j.due);
            samples_add(&w->kind_lat[j.c.kind], t1 - j.queued);
            int64_t sec = (t1 - t_measure) / 1000000;
            if (sec >= 0 && sec < nseconds)
                w->per_second[sec]++;
            if (oc == WL_OK) {
                w->ok++;
                w->kind_ok[j.c.kind]++;
            } else if (oc == WL_CONFLICT) {
                w->conflict++;
                w->kind_conflict[j.c.kind]++;
            } else {
                w->failed++;
                w->kind_failed[j.c.kind]++;
            }
        }
        pthread_mutex_lock(&model_mu);
        wl_done(&model, &j.c, oc, number);
        pthread_mutex_unlock(&model_mu);
        pthread_mutex_lock(&q_mu);
        disps[j.d].busy = false;
        disps[j.d].idle_since = t1;
        pthread_cond_signal(&sched_cv);
        pthread_mutex_unlock(&q_mu);
    }
    return NULL;
}

/* Queues each dispatcher's commands as they fall due, until the last is answered. */
static void schedule(void)
{
    pthread_mutex_lock(&q_mu);
    for (;;) {
        int64_t now = mono_us(), next = now + 50000;
        bool pending = false;
        for (int d = 0; d < opt.conns; d++) {
            struct dispatcher *p = &disps[d];
            if (p->busy)
                pending = true;
            if (p->busy || p->next_due >= t_end)
                continue;
            pending = true;
            if (p->next_due > now) {
                if (p->next_due < next)
                    next = p->next_due;
                continue;
            }
            struct job *j = &queue[(q_head + q_len) % (size_t)opt.conns];
            j->d = d;
            j->due = p->next_due;
            j->queued = now;
            j->measured = j->due >= t_measure;
            if (j->measured && p->idle_since > j->due)
                late_total++;
            pthread_mutex_lock(&model_mu);
            wl_next(&model, d, &j->c);
            pthread_mutex_unlock(&model_mu);
            q_len++;
            p->busy = true;
            p->k++;
            p->next_due = due_of(d, p->k);
            pthread_cond_signal(&work_cv);
        }
        if (!pending)
            break;
        struct timespec ts = {(time_t)(next / 1000000), (long)(next % 1000000) * 1000};
        pthread_cond_timedwait(&sched_cv, &q_mu, &ts);
    }
    q_stop = true;
    pthread_cond_broadcast(&work_cv);
    pthread_mutex_unlock(&q_mu);
}

/* ------------------------------------------------------------- main */

static PGconn *connect_db(void)
{
    PGconn *pg = PQconnectdb(opt.conninfo);
    if (PQstatus(pg) != CONNECTION_OK)
        die("cannot connect: %s", PQerrorMessage(pg));
    PGresult *r = PQexec(pg, "SET synchronous_commit = on; SET client_min_messages = warning");
    PQclear(r);
    return pg;
}

static void setup_schema(void)
{
    PGconn *pg = connect_db();
    PGresult *r = PQexec(pg, schema_sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die("schema: %s", PQerrorMessage(pg));
    PQclear(r);
    for (int i = 0; i < NTYPES; i++) {
        char prio[4];
        snprintf(prio, sizeof(prio), "%d", type_list[i].priority);
        const char *p[3] = {type_list[i].code, type_list[i].code, prio};
        r = PQexecParams(pg,
                         "INSERT INTO incident_types(code, name_fr, priority) VALUES ($1, $2, $3)",
                         3, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            die("types: %s", PQerrorMessage(pg));
        PQclear(r);
    }
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)real_us());
    const char *p[2] = {now, NULL};
    char n[16];
    snprintf(n, sizeof(n), "%d", opt.units);
    p[1] = n;
    r = PQexecParams(pg,
                     "INSERT INTO units(callsign, kind, status, status_us, touched_us)"
                     " SELECT 'BENCH-' || lpad(g::text, 4, '0'), 'car_patrol', 'available', $1, $1"
                     " FROM generate_series(1, $2::int) g",
                     2, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        die("units: %s", PQerrorMessage(pg));
    PQclear(r);
    r = PQexec(pg, "ANALYZE");
    PQclear(r);
    PQfinish(pg);
}

static double pg_wal_syncs(void)
{
    PGconn *pg = connect_db();
    PGresult *r = PQexec(pg, "SELECT wal_sync FROM pg_stat_wal");
    double v =
        PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 ? atof(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    PQfinish(pg);
    return v;
}

static void *count_syncs(void *arg)
{
    sleep_until(t_measure);
    *(double *)arg = pg_wal_syncs();
    return NULL;
}

static long num_arg(const char *s, long lo, long hi, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        die("bad %s '%s' (%ld..%ld)", what, s, lo, hi);
    return v;
}

int main(int argc, char **argv)
{
    bench_prog = "pgpeer";
    static const struct option lo[] = {
        {"conninfo", 1, 0, 'C'},    {"rate", 1, 0, 'r'},  {"seconds", 1, 0, 's'},
        {"connections", 1, 0, 'c'}, {"units", 1, 0, 'u'}, {"seed", 1, 0, 'S'},
        {"numbering", 1, 0, 'N'},   {"mode", 1, 0, 'M'},  {"warmup", 1, 0, 'w'},
        {"pool", 1, 0, 'p'},        {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'C':
            opt.conninfo = optarg;
            break;
        case 'r':
            opt.rate = (double)num_arg(optarg, 1, 1000000, "rate");
            break;
        case 's':
            opt.seconds = (int)num_arg(optarg, 1, 3600, "seconds");
            break;
        case 'c':
            opt.conns = (int)num_arg(optarg, 1, 1000, "connections");
            break;
        case 'u':
            opt.units = (int)num_arg(optarg, 1, 9999, "units");
            break;
        case 'S':
            opt.seed = (uint64_t)num_arg(optarg, 0, 1L << 40, "seed");
            break;
        case 'N':
            if (strcmp(optarg, "sequence") && strcmp(optarg, "counter"))
                die("--numbering takes sequence or counter");
            opt.counter = !strcmp(optarg, "counter");
            break;
        case 'p':
            opt.pool = (int)num_arg(optarg, 1, 1000, "pool");
            break;
        case 'w':
            opt.warmup_s = (int)num_arg(optarg, 0, 600, "warmup");
            break;
        case 'M':
            if (strcmp(optarg, "statements") && strcmp(optarg, "function"))
                die("--mode takes statements or function");
            opt.func = !strcmp(optarg, "function");
            break;
        default:
            fputs("usage: cad_pgpeer --conninfo STR [--rate R] [--seconds S] [--connections C]\n"
                  "                  [--units N] [--seed N] [--numbering sequence|counter]\n"
                  "                  [--mode statements|function] [--warmup S] [--pool N]\n",
                  stderr);
            return 2;
        }
    }
    if (!opt.conninfo || optind != argc)
        die("--conninfo is required (and takes no other argument)");

    setup_schema();
    const char *types[NTYPES];
    for (int i = 0; i < NTYPES; i++)
        types[i] = type_list[i].code;
    if (wl_init(&model, opt.units, opt.conns, types, NTYPES, opt.seed))
        die("cannot set up the workload model");

    nseconds = opt.seconds + 600;
    if (!opt.pool || opt.pool > opt.conns)
        opt.pool = opt.conns;
    struct worker *ws = calloc((size_t)opt.pool, sizeof(*ws));
    disps = calloc((size_t)opt.conns, sizeof(*disps));
    queue = calloc((size_t)opt.conns, sizeof(*queue));
    if (!ws || !disps || !queue)
        die("out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sched_cv, &ca);
    pthread_cond_init(&work_cv, NULL);
    for (int i = 0; i < opt.pool; i++) {
        ws[i].id = i;
        ws[i].pg = connect_db();
        ws[i].per_second = calloc((size_t)nseconds, sizeof(uint64_t));
        if (!ws[i].per_second)
            die("out of memory");
        for (int s = 0; s < NSTMTS; s++) {
            PGresult *r = PQprepare(ws[i].pg, stmts[s].name, stmts[s].sql, 0, NULL);
            if (PQresultStatus(r) != PGRES_COMMAND_OK)
                die("prepare %s: %s", stmts[s].name, PQerrorMessage(ws[i].pg));
            PQclear(r);
        }
    }
    fprintf(stderr,
            "pgpeer: load: %.0f commands/s for %d s (after %d s of warm-up), %d dispatchers"
            " over %d connections\n",
            opt.rate, opt.seconds, opt.warmup_s, opt.conns, opt.pool);
    t_start = mono_us() + 200000;
    t_measure = t_start + (int64_t)opt.warmup_s * 1000000;
    t_end = t_measure + (int64_t)opt.seconds * 1000000;
    for (int d = 0; d < opt.conns; d++)
        disps[d].next_due = due_of(d, 0);
    for (int i = 0; i < opt.pool; i++)
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]))
            die("cannot start thread %d", i);
    /* The WAL flushes of the measured part are counted from a thread of their own. */
    pthread_t counter;
    double syncs0 = -1;
    if (pthread_create(&counter, NULL, count_syncs, &syncs0))
        die("cannot start a thread");
    schedule();
    for (int i = 0; i < opt.pool; i++)
        pthread_join(ws[i].thread, NULL);
    pthread_join(counter, NULL);
    double syncs1 = pg_wal_syncs();

    struct samples lat = {0}, from_due = {0}, kind_lat[WL_NKINDS] = {{0}};
    uint64_t sent = 0, ok = 0, conflict = 0, failed = 0, late = 0;
    uint64_t kind_ok[WL_NKINDS] = {0}, kind_conflict[WL_NKINDS] = {0}, kind_failed[WL_NKINDS] = {0};
    uint64_t *per_second = calloc((size_t)nseconds, sizeof(uint64_t));
    int64_t last = t_end;
    char first_error[256] = "";
    late = late_total;
    for (int i = 0; i < opt.pool; i++) {
        struct worker *w = &ws[i];
        sent += w->sent;
        ok += w->ok;
        conflict += w->conflict;
        failed += w->failed;
        samples_merge(&lat, &w->lat);
        samples_merge(&from_due, &w->from_due);
        for (int k = 0; k < WL_NKINDS; k++) {
            samples_merge(&kind_lat[k], &w->kind_lat[k]);
            kind_ok[k] += w->kind_ok[k];
            kind_conflict[k] += w->kind_conflict[k];
            kind_failed[k] += w->kind_failed[k];
        }
        for (int s = 0; s < nseconds; s++)
            per_second[s] += w->per_second[s];
        if (w->last_answer > last)
            last = w->last_answer;
        if (!first_error[0] && w->error[0])
            snprintf(first_error, sizeof(first_error), "%s", w->error);
        PQfinish(w->pg);
    }
    double elapsed = (double)(last - t_measure) / 1e6;
    uint64_t sec_min = UINT64_MAX, sec_max = 0;
    json_t *ps = json_array(), *mix = json_object(), *kinds = json_object();
    for (int s = 0; s < opt.seconds; s++) {
        sec_min = per_second[s] < sec_min ? per_second[s] : sec_min;
        sec_max = per_second[s] > sec_max ? per_second[s] : sec_max;
        json_array_append_new(ps, json_integer((json_int_t)per_second[s]));
    }
    for (int k = 0; k < WL_NKINDS; k++) {
        json_object_set_new(mix, wl_kind_names[k], json_integer((json_int_t)model.counts[k]));
        json_t *sk = samples_summary(&kind_lat[k]);
        json_object_set_new(sk, "ok", json_integer((json_int_t)kind_ok[k]));
        json_object_set_new(sk, "conflict", json_integer((json_int_t)kind_conflict[k]));
        json_object_set_new(sk, "failed", json_integer((json_int_t)kind_failed[k]));
        json_object_set_new(kinds, wl_kind_names[k], sk);
    }
    json_t *out = json_pack(
        "{ss ss ss sf si si si si si sI sI sI sI sI sI sI sf sf sf sI sI so so so so so}", "tool",
        "pgpeer", "mode", opt.func ? "function" : "statements", "numbering",
        opt.counter ? "counter" : "sequence", "target_rate", opt.rate, "seconds", opt.seconds,
        "warmup_s", opt.warmup_s, "pool", opt.pool, "connections", opt.conns, "units", opt.units,
        "sent", (json_int_t)sent, "answered", (json_int_t)sent, "ok", (json_int_t)ok,
        "conflict_409", (json_int_t)conflict, "failed", (json_int_t)failed, "late",
        (json_int_t)late, "units_lost", (json_int_t)model.units_lost, "elapsed_s",
        round(elapsed * 1000) / 1000, "rate", round(sent / elapsed * 10) / 10, "ok_rate",
        round(ok / elapsed * 10) / 10, "per_second_min",
        (json_int_t)(sec_min == UINT64_MAX ? 0 : sec_min), "per_second_max", (json_int_t)sec_max,
        "latency", samples_summary(&lat), "from_due", samples_summary(&from_due), "by_kind", kinds,
        "mix", mix, "per_second", ps);
    if (syncs0 >= 0 && syncs1 > syncs0)
        json_object_set_new(out, "wal_syncs", json_integer((json_int_t)(syncs1 - syncs0)));
    if (first_error[0])
        json_object_set_new(out, "first_error", json_string(first_error));
    char *line = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(12) | JSON_PRESERVE_ORDER);
    puts(line);
    free(line);
    json_decref(out);
    return 0;
}
