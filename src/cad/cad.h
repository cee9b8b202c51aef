/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cad.h - computer-aided dispatch for the command and coordination rooms:
 * incidents opened from calls, units and their statuses, dispatch, the
 * room's logbook (main courante), status timers, and the history of it all
 * as events in the log.
 *
 * Every change is an operation: a JSON request (the same body the API
 * takes) applied on the store's writer, which validates it against the
 * current state, updates the tables, appends events and answers with the
 * resulting object. The HTTP API and the CLI run the same operations, so
 * the same rules hold whether a console, a patrol terminal or a shell
 * makes the change.
 */
#ifndef AM_CAD_H
#define AM_CAD_H

#include "core/core.h"
#include "geo/geo.h"
#include "http/http.h"
#include "store/store.h"

extern const struct store_migration cad_migrations[];
extern const size_t cad_nmigrations;

/* Logbook categories, in the order the console offers them. */
extern const char *const cad_logbook_categories[];

/*
 * Validates and appends a logbook entry as `actor`. Returns 0 and the
 * entry's id, or AM_EINVAL with a reason in `why`.
 */
int cad_logbook_add(struct store *st, const char *actor, const char *category, const char *text,
                    int64_t *id_out, char *why, size_t whysz);

/* Where a point lies: region, prefecture (province) and police sector. */
struct cad_place {
    char region_code[16], region_fr[128], region_ar[128];
    char prefecture_code[16], prefecture_fr[128], prefecture_ar[128];
    char sector_code[16], sector_fr[128], sector_ar[128];
};

/*
 * Places a point: 0, AM_ENOTFOUND when it is outside Morocco, AM_EINVAL
 * for impossible coordinates. Must be thread-safe (runs on the writer).
 */
typedef int (*cad_locate_fn)(void *arg, double lat, double lon, struct cad_place *out);

struct cad_opts {
    cad_locate_fn locate; /* NULL: incidents get no place */
    void *locate_arg;
    char default_prefecture[8]; /* numbering when a call has no coordinates, e.g. "CAS" */
    char agency[128];           /* this centre's id in EIDO and CAP, e.g. "casablanca.dgsn.ma" */
    int64_t ack_timeout_s;      /* dispatched without acknowledgement (default 120) */
    int64_t onscene_timeout_s;  /* on scene without an update (default 1800) */
    /* Per incident priority 1..4; 0 takes the value above. */
    int64_t ack_by_priority_s[4], onscene_by_priority_s[4];
    /* Routing for recommendations and unit routes; NULL: no road graph (answers 503). */
    const struct geo_roads *roads;
    double snap_max_m; /* a position farther than this from every road is off-road (300) */
    int64_t stale_s;   /* a unit position older than this is stale (120) */
};

struct cad;

/* `st` must outlive the cad. */
int cad_new(struct cad **out, struct store *st, const struct cad_opts *o);
/* Starts the status timers (amaned only): alerts cad.alert.* on the stream. */
int cad_timers_start(struct cad *cad);
/* Stops the timers; call before closing the store. */
void cad_free(struct cad *cad);

/* The operations, by name as in the API paths and the CLI. */
enum cad_op {
    CAD_INCIDENT_OPEN, /* {type, priority?, caller?{name?, phone?}, location?{lat?, lon?, address?},
                          narrative?, call_time?} */
    CAD_INCIDENT_NOTE, /* {text} */
    CAD_INCIDENT_ASSIGN,  /* {unit, primary?, override_reason?} */
    CAD_INCIDENT_RELEASE, /* {unit} */
    CAD_INCIDENT_CLOSE,   /* {disposition} */
    CAD_INCIDENT_REOPEN,  /* {reason} */
    CAD_INCIDENT_LINK,    /* {other} */
    CAD_INCIDENT_MERGE,   /* {into} */
    CAD_UNIT_ADD,         /* {callsign, kind, capabilities?[], crew?[], home_sector?} */
    CAD_UNIT_STATUS,      /* {status, override_reason?} */
    CAD_UNIT_POSITION,    /* {lat, lon, at?}: the last known position, no event (telemetry) */
    CAD_TYPE_ADD,         /* {code, name_fr, name_ar, priority} */
    CAD_PREMISE_ADD,      /* {lat, lon, radius_m, text, kind?: hazard|premise} */
    CAD_UNIT_SIGN_ON,     /* {}: the caller crews the unit (mdt.c) */
    CAD_UNIT_SIGN_OFF,    /* {} */
    CAD_UNIT_MESSAGE,     /* {text, kind?: message|ping} to the unit's terminal and vehicle */
    CAD_MESSAGE_ACK,      /* {}: target is the message id */
    CAD_OP_COUNT
};

/*
 * Runs an operation as `actor`. `target` is the incident number or unit
 * callsign the operation is about (NULL for those that create). On success
 * *answer (if not NULL) receives the resulting object (new reference) and
 * *status the HTTP status that fits (200 or 201). On failure returns
 * AM_EINVAL (bad request), AM_ENOTFOUND, AM_ECONFLICT (not allowed in the
 * current state), with a reason in `why`. Nothing is changed on failure.
 */
int cad_run(struct cad *cad, enum cad_op op, const char *actor, const char *target,
            const json_t *req, json_t **answer, int *status, char *why, size_t whysz);

/* Reads. Each returns a new reference in *out, or AM_ENOTFOUND. */
int cad_incident_get(struct cad *cad, const char *number, json_t **out);
/* `filter`: "open" (not closed), "closed" or "all"; newest first; limit 1..1000. */
int cad_incident_list(struct cad *cad, const char *filter, int64_t limit, json_t **out);
/* Every event about the incident, oldest first. */
int cad_incident_history(struct cad *cad, const char *number, json_t **out);
int cad_unit_list(struct cad *cad, json_t **out);
int cad_type_list(struct cad *cad, json_t **out);
/* Premise and hazard notes; each incident lists those within their radius as "hazards". */
int cad_premise_list(struct cad *cad, json_t **out);

/*
 * Response-time intervals (call_to_created, created_to_dispatched,
 * dispatched_to_en_route, en_route_to_on_scene) of the incidents created in
 * [from, to), with n, p50_s and p90_s per `group`: "sector", "priority" or
 * "day" (UTC). AM_EINVAL for another group, AM_ETOOBIG past 200,000 incidents.
 */
int cad_stats_response(struct cad *cad, const char *group, int64_t from, int64_t to, json_t **out);
/* The same as CSV (RFC 4180, CRLF): group key, incidents, interval, n, p50_s, p90_s. */
int cad_stats_csv(const json_t *stats, struct am_buf *out);

/*
 * Available units ranked by road travel time to an incident (recommend.c):
 * at most `k` (1..50), with the capability `capability` and the kind `kind`
 * if not NULL, emergency speeds if `emergency`. Fresh positions rank before
 * stale ones (cad_opts.stale_s); units without a position or too far from
 * a road are listed apart. Returns AM_ENOTFOUND (no incident), AM_EINVAL
 * (no coordinates, or off-road: why says), AM_ECONFLICT (closed),
 * AM_EBUSY (no road graph), AM_ENOMEM.
 */
int cad_recommend(struct cad *cad, const char *number, int k, const char *capability,
                  const char *kind, bool emergency, json_t **out, char *why, size_t whysz);

/*
 * The route of a unit from its last position to an incident, with its
 * geometry, for the patrol terminal. Errors as cad_recommend(), and
 * AM_ENOTFOUND for an unknown unit, AM_EINVAL for a unit with no position.
 */
int cad_unit_route(struct cad *cad, const char *number, const char *callsign, bool emergency,
                   json_t **out, char *why, size_t whysz);

/*
 * Records a unit's last known position on the writer connection `c`, inside
 * a store command of another module (src/avl's batches of positions): snaps
 * it to the road graph and keeps it unless a newer one is kept. No event.
 * *unit_id (may be NULL) gets the unit's id. AM_ENOTFOUND for no such unit.
 */
int cad_unit_position_apply(struct cad *cad, struct store_conn *c, const char *callsign, double lat,
                            double lon, int64_t at_us, int64_t *unit_id);

/* 0 if a unit with this callsign exists (read on `c`), AM_ENOTFOUND if not. */
int cad_unit_exists(struct store_conn *c, const char *callsign);

/* A unit's messages, newest first, at most `limit`. AM_ENOTFOUND for no such unit. */
int cad_unit_messages(struct cad *cad, const char *callsign, int64_t limit, json_t **out);

/*
 * The patrol terminal's state for `user`: {user, unit, incident, route,
 * route_problem?, messages}; unit (and the rest) null when the user is not
 * signed on to a unit, incident null when the unit has none, route null
 * with route_problem when it cannot be computed (no position, no graph).
 */
int cad_mdt_state(struct cad *cad, const char *user, json_t **out);

/*
 * The unit `user` is signed on to, as GET /units/{callsign} shows it (its
 * status and last position), new reference in *out. AM_ENOTFOUND if the
 * user is signed on to none.
 */
int cad_unit_of_user(struct cad *cad, const char *user, json_t **out);

/* Registers the CAD routes (incidents, units, types, logbook). */
int cad_routes(struct http_server *srv, struct cad *cad);

#endif
