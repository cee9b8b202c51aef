/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cad_int.h - private to src/cad: the module's state, the operation
 * context passed to apply functions on the writer, and shared helpers.
 */
#ifndef AM_CAD_INT_H
#define AM_CAD_INT_H

#include <pthread.h>

#include "cad/cad.h"

struct cad {
    struct store *st;
    struct cad_opts o;
    int64_t ack_s[5], onscene_s[5]; /* the timers' thresholds by priority 1..4 */
    pthread_t timer;
    bool timer_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
};

/* What an operation's apply() gets through store_cmd.arg. */
struct cad_op_ctx {
    struct cad *cad;
    enum cad_op op;
    const char *target; /* incident number or callsign, or NULL */
    const json_t *req;
    enum am_role role; /* of the caller (the CLI acts as an administrator) */
    json_t *result;    /* set on success: the object to answer with */
    int status;        /* 200 or 201 */
};

typedef int (*cad_apply_fn)(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x);

/* Operation tables of incident.c and unit.c. */
int cad_apply_incident(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x);
int cad_apply_unit(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x);
int cad_apply_premise(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x);
int cad_apply_mdt(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x);
/*
 * For a caller with the patrol role: AM_EFORBIDDEN (with the reason) unless
 * signed on to unit `unit_id` (if not 0) and, if `incident_id` is not 0,
 * that unit is assigned to the incident. Other roles pass.
 */
int cad_patrol_check(struct store_conn *c, struct store_cmd *cmd, const struct cad_op_ctx *x,
                     int64_t unit_id, int64_t incident_id);
/* Appends to `out` the premise notes whose radius covers the point. */
int cad_premise_near(struct store_conn *c, double lat, double lon, json_t *out);

/* Sets a failure reason (as cmd->answer, a plain sentence) and returns rc. */
int cad_fail(struct store_cmd *cmd, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* json_unpack_ex in strict mode on the request; on failure sets the reason, AM_EINVAL. */
int cad_unpack(struct store_cmd *cmd, const json_t *req, const char *fmt, ...);

/* Appends an event about an incident (incident_id may be 0) and indexes it for history. */
int cad_event(struct store_conn *c, struct store_cmd *cmd, int64_t incident_id, const char *type,
              json_t *data);

/* The full representation of an incident, read on `c` (writer or reader). */
int cad_incident_json(struct store_conn *c, int64_t id, json_t **out);
/* Finds an incident by number: id and status (status may be NULL). AM_ENOTFOUND. */
int cad_incident_find(struct store_conn *c, const char *number, int64_t *id, char *status,
                      size_t statussz);
/* A unit's state: its id, status, incident (id and number, 0 and "" if none). */
struct cad_unit_row {
    int64_t id, incident_id;
    char status[20], callsign[32], number[64];
};
/* Finds a unit by callsign on `c`. AM_ENOTFOUND if there is none. */
int cad_unit_find(struct store_conn *c, const char *callsign, struct cad_unit_row *u);
/*
 * The same inside an operation: a missing unit fails the command with a
 * reason, as AM_ENOTFOUND (the unit is the request's target) or AM_EINVAL
 * (`as_invalid`: a unit named in the request's body).
 */
int cad_unit_need(struct store_conn *c, struct store_cmd *cmd, const char *callsign,
                  bool as_invalid, struct cad_unit_row *u);

/* A unit as JSON, read on `c`. */
int cad_unit_json(struct store_conn *c, int64_t unit_id, json_t **out);

/* Recomputes an incident's status from its units (dispatched, en_route, on_scene). */
int cad_incident_follow_units(struct store_conn *c, struct store_cmd *cmd, int64_t incident_id,
                              int64_t now);

/* Text checks shared by operations: 1..max bytes of UTF-8, no control characters but \n, \t. */
bool cad_text_ok(const char *s, size_t max);

int cad_logbook_routes(struct http_server *srv, struct store *st);

/* Prepares a store command that runs operation `op` (its answer goes to cmd->answer). */
void cad_cmd_init(struct store_cmd *cmd, struct cad_op_ctx *x, struct cad *cad, enum cad_op op,
                  const char *target, const json_t *req);

#endif
