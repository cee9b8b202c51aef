/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * cad.c - the CAD module's life cycle, the one entry point that runs every
 * operation (for the API and the CLI alike), its reads, and the status
 * timers that raise alerts for supervisors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cad/cad_int.h"

#define TIMER_PERIOD_S 5

static int apply_op(struct store_conn *c, struct store_cmd *cmd)
{
    struct cad_op_ctx *x = cmd->arg;
    int rc = x->op <= CAD_INCIDENT_MERGE ? cad_apply_incident(c, cmd, x)
             : x->op == CAD_PREMISE_ADD  ? cad_apply_premise(c, cmd, x)
             : x->op >= CAD_UNIT_SIGN_ON ? cad_apply_mdt(c, cmd, x)
                                         : cad_apply_unit(c, cmd, x);
    if (rc) {
        json_decref(x->result);
        x->result = NULL;
        return rc;
    }
    /* The answer is kept with an idempotency key, so it is stored as text. */
    free(cmd->answer);
    cmd->answer = json_dumps(x->result, JSON_COMPACT | JSON_REAL_PRECISION(10));
    cmd->status = x->status;
    return cmd->answer ? 0 : AM_ENOMEM;
}

void cad_cmd_init(struct store_cmd *cmd, struct cad_op_ctx *x, struct cad *cad, enum cad_op op,
                  const char *target, const json_t *req)
{
    memset(x, 0, sizeof(*x));
    x->cad = cad;
    x->op = op;
    x->target = target;
    x->req = req;
    memset(cmd, 0, sizeof(*cmd));
    cmd->apply = apply_op;
    cmd->arg = x;
}

int cad_run(struct cad *cad, enum cad_op op, const char *actor, const char *target,
            const json_t *req, json_t **answer, int *status, char *why, size_t whysz)
{
    if ((unsigned)op >= CAD_OP_COUNT)
        return AM_EINVAL;
    struct cad_op_ctx x;
    struct store_cmd cmd;
    cad_cmd_init(&cmd, &x, cad, op, target, req);
    cmd.actor = actor;
    int rc = store_write(cad->st, &cmd);
    if (rc) {
        snprintf(why, whysz, "%s", cmd.answer ? cmd.answer : am_strerror(rc));
        json_decref(x.result);
    } else {
        if (answer)
            *answer = x.result;
        else
            json_decref(x.result);
        if (status)
            *status = x.status;
    }
    free(cmd.answer);
    return rc;
}

/* ------------------------------------------------------------- reads */

struct get {
    const char *number;
    json_t *out;
};

static int get_read(struct store_conn *c, void *arg)
{
    struct get *g = arg;
    int64_t id;
    int rc = cad_incident_find(c, g->number, &id, NULL, 0);
    return rc ? rc : cad_incident_json(c, id, &g->out);
}

int cad_incident_get(struct cad *cad, const char *number, json_t **out)
{
    struct get g = {number, NULL};
    int rc = store_read(cad->st, get_read, &g);
    if (!rc)
        *out = g.out;
    return rc;
}

struct list {
    const char *filter;
    int64_t limit;
    json_t *items;
    struct store_conn *c;
};

static int list_row(struct store_row *r, void *arg)
{
    struct list *l = arg;
    return json_array_append_new(l->items, json_integer(store_row_i64(r, 0))) ? AM_ENOMEM : 0;
}

static int list_read(struct store_conn *c, void *arg)
{
    struct list *l = arg;
    int rc;
    if (!strcmp(l->filter, "all"))
        rc = store_query(c, "SELECT id FROM incidents ORDER BY id DESC LIMIT ?", list_row, l, "i",
                         l->limit);
    else if (!strcmp(l->filter, "closed"))
        rc = store_query(c,
                         "SELECT id FROM incidents WHERE status = 'closed' ORDER BY id DESC"
                         " LIMIT ?",
                         list_row, l, "i", l->limit);
    else
        rc = store_query(c,
                         "SELECT id FROM incidents WHERE status <> 'closed' ORDER BY priority,"
                         " id LIMIT ?",
                         list_row, l, "i", l->limit);
    /* Then the full objects, on the same connection. */
    json_t *full = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(l->items, i, v)
    {
        json_t *inc = NULL;
        if (!rc)
            rc = cad_incident_json(c, json_integer_value(v), &inc);
        if (!rc && json_array_append_new(full, inc))
            rc = AM_ENOMEM;
    }
    json_decref(l->items);
    l->items = full;
    return rc;
}

int cad_incident_list(struct cad *cad, const char *filter, int64_t limit, json_t **out)
{
    if (strcmp(filter, "open") && strcmp(filter, "closed") && strcmp(filter, "all"))
        return AM_EINVAL;
    if (limit < 1 || limit > 1000)
        return AM_EINVAL;
    struct list l = {filter, limit, json_array(), NULL};
    int rc = l.items ? store_read(cad->st, list_read, &l) : AM_ENOMEM;
    if (rc) {
        json_decref(l.items);
        return rc;
    }
    *out = l.items;
    return 0;
}

static int history_event(struct store_row *r, void *arg)
{
    char ts[AM_TIME_BUFSZ];
    json_t *data = json_loads(store_row_text(r, 4), 0, NULL);
    json_t *e =
        json_pack("{sI ss ss ss so}", "seq", (json_int_t)store_row_i64(r, 0), "ts",
                  am_time_fmt(store_row_i64(r, 1), ts, sizeof(ts)), "type", store_row_text(r, 2),
                  "actor", store_row_text(r, 3), "data", data ? data : json_object());
    return e && !json_array_append_new(arg, e) ? 0 : AM_ENOMEM;
}

struct hist {
    const char *number;
    json_t *out;
};

static int history_read(struct store_conn *c, void *arg)
{
    struct hist *h = arg;
    int64_t id;
    int rc = cad_incident_find(c, h->number, &id, NULL, 0);
    if (!rc)
        rc = store_query(c,
                         "SELECT e.seq, e.ts_us, e.type, e.actor, e.data FROM incident_events x"
                         " JOIN events e ON e.seq = x.seq WHERE x.incident_id = ? ORDER BY e.seq",
                         history_event, h->out, "i", id);
    return rc;
}

int cad_incident_history(struct cad *cad, const char *number, json_t **out)
{
    struct hist h = {number, json_array()};
    int rc = h.out ? store_read(cad->st, history_read, &h) : AM_ENOMEM;
    if (rc) {
        json_decref(h.out);
        return rc;
    }
    *out = h.out;
    return 0;
}

/* ------------------------------------------------------------- status timers */

struct overdue {
    int64_t unit_id, incident_id;
    char callsign[32], number[64], status[20];
    int64_t since_us;
};

struct sweep {
    struct cad *cad;
    struct overdue found[64];
    int n;
};

static int overdue_row(struct store_row *r, void *arg)
{
    struct sweep *s = arg;
    if (s->n == 64)
        return 0;
    struct overdue *o = &s->found[s->n++];
    o->unit_id = store_row_i64(r, 0);
    o->incident_id = store_row_i64(r, 1);
    am_strlcpy(o->callsign, store_row_text(r, 2), sizeof(o->callsign));
    am_strlcpy(o->number, store_row_text(r, 3), sizeof(o->number));
    am_strlcpy(o->status, store_row_text(r, 4), sizeof(o->status));
    o->since_us = store_row_i64(r, 5);
    return 0;
}

/*
 * Dispatched without acknowledgement (no en route or on scene) for too long,
 * or on scene without an update: one alert per unit until its next change.
 */
static int apply_sweep(struct store_conn *c, struct store_cmd *cmd)
{
    struct sweep *s = cmd->arg;
    int64_t now = am_now_us();
    s->n = 0;
    const int64_t *ack_s = s->cad->ack_s, *ons = s->cad->onscene_s;
    /* The thresholds depend on the incident's priority. */
    int rc =
        store_query(c,
                    "SELECT u.id, u.incident_id, u.callsign, i.number, u.status, u.touched_us"
                    " FROM units u JOIN incidents i ON i.id = u.incident_id WHERE u.alerted = 0 AND"
                    " ((u.status = 'dispatched' AND u.touched_us < ? - 1000000 * CASE i.priority"
                    "   WHEN 1 THEN ? WHEN 2 THEN ? WHEN 3 THEN ? ELSE ? END)"
                    " OR (u.status = 'on_scene' AND u.touched_us < ? - 1000000 * CASE i.priority"
                    "   WHEN 1 THEN ? WHEN 2 THEN ? WHEN 3 THEN ? ELSE ? END)) LIMIT 64",
                    overdue_row, s, "iiiiiiiiii", now, ack_s[1], ack_s[2], ack_s[3], ack_s[4], now,
                    ons[1], ons[2], ons[3], ons[4]);
    for (int i = 0; i < s->n && !rc; i++) {
        struct overdue *o = &s->found[i];
        bool ack = !strcmp(o->status, "dispatched");
        rc = store_exec(c, "UPDATE units SET alerted = 1 WHERE id = ?", "i", o->unit_id);
        if (!rc)
            rc = cad_event(c, cmd, o->incident_id,
                           ack ? "cad.alert.unacknowledged" : "cad.alert.on_scene_overdue",
                           json_pack("{ss ss ss sI}", "incident", o->number, "unit", o->callsign,
                                     "status", o->status, "seconds",
                                     (json_int_t)((now - o->since_us) / 1000000)));
    }
    return rc;
}

static void *timer_main(void *arg)
{
    struct cad *cad = arg;
    for (;;) {
        pthread_mutex_lock(&cad->mu);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += TIMER_PERIOD_S;
        while (!cad->stopping && pthread_cond_timedwait(&cad->cv, &cad->mu, &ts) != ETIMEDOUT)
            ;
        bool stop = cad->stopping;
        pthread_mutex_unlock(&cad->mu);
        if (stop)
            break;
        struct sweep s = {cad, {{0}}, 0};
        struct store_cmd cmd = {.apply = apply_sweep, .arg = &s, .actor = "cad.timers"};
        int rc = store_write(cad->st, &cmd);
        free(cmd.answer);
        if (rc && rc != AM_ECLOSED)
            am_warn("cad", "status timer sweep failed", "err=\"%s\"", am_strerror(rc));
    }
    return NULL;
}

int cad_new(struct cad **out, struct store *st, const struct cad_opts *o)
{
    struct cad *cad = calloc(1, sizeof(*cad));
    if (!cad)
        return AM_ENOMEM;
    cad->st = st;
    cad->o = *o;
    if (cad->o.ack_timeout_s <= 0)
        cad->o.ack_timeout_s = 120;
    if (cad->o.onscene_timeout_s <= 0)
        cad->o.onscene_timeout_s = 1800;
    if (!(cad->o.snap_max_m > 0))
        cad->o.snap_max_m = 300;
    if (cad->o.stale_s <= 0)
        cad->o.stale_s = 120;
    for (int p = 1; p <= 4; p++) {
        cad->ack_s[p] = cad->o.ack_by_priority_s[p - 1] > 0 ? cad->o.ack_by_priority_s[p - 1]
                                                            : cad->o.ack_timeout_s;
        cad->onscene_s[p] = cad->o.onscene_by_priority_s[p - 1] > 0
                                ? cad->o.onscene_by_priority_s[p - 1]
                                : cad->o.onscene_timeout_s;
    }
    if (!cad->o.default_prefecture[0])
        am_strlcpy(cad->o.default_prefecture, "CAS", sizeof(cad->o.default_prefecture));
    pthread_mutex_init(&cad->mu, NULL);
    pthread_cond_init(&cad->cv, NULL);
    *out = cad;
    return 0;
}

int cad_timers_start(struct cad *cad)
{
    if (pthread_create(&cad->timer, NULL, timer_main, cad))
        return AM_ENOMEM;
    cad->timer_started = true;
    return 0;
}

void cad_free(struct cad *cad)
{
    if (!cad)
        return;
    pthread_mutex_lock(&cad->mu);
    cad->stopping = true;
    pthread_cond_broadcast(&cad->cv);
    pthread_mutex_unlock(&cad->mu);
    if (cad->timer_started)
        pthread_join(cad->timer, NULL);
    pthread_mutex_destroy(&cad->mu);
    pthread_cond_destroy(&cad->cv);
    free(cad);
}
