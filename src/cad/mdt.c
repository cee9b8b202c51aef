/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * mdt.c - what the patrol terminal (web/mdt) needs from dispatch: a user
 * signs on to a unit, messages and pings from the room to a unit and their
 * acknowledgement, and the terminal's whole state in one read.
 *
 * Signing on is also what a patrol is allowed to act on: a user with the
 * patrol role changes the status and position only of the unit they are
 * signed on to, and writes notes only on that unit's incident
 * (cad_patrol_check). The room's roles are not bound to a unit.
 */
#include <stdlib.h>
#include <string.h>

#include "cad/cad_int.h"

#define MESSAGE_MAX  1000 /* bytes of text */
#define MDT_MESSAGES 20   /* newest messages in the terminal's state */

static int i64_row(struct store_row *r, void *arg)
{
    *(int64_t *)arg = store_row_i64(r, 0);
    return 0;
}

static int text_row(struct store_row *r, void *arg)
{
    am_strlcpy(arg, store_row_text(r, 0), 32);
    return 0;
}

/* The unit `user` is signed on to: its id, or 0. */
static int signed_unit(struct store_conn *c, const char *user, int64_t *unit_id)
{
    *unit_id = 0;
    return store_query(c, "SELECT unit_id FROM unit_signons WHERE username = ?", i64_row, unit_id,
                       "t", user);
}

int cad_patrol_check(struct store_conn *c, struct store_cmd *cmd, const struct cad_op_ctx *x,
                     int64_t unit_id, int64_t incident_id)
{
    if (x->role != AM_ROLE_PATROL)
        return 0;
    int64_t mine = 0;
    int rc = signed_unit(c, cmd->actor, &mine);
    if (rc)
        return rc;
    if (!mine)
        return cad_fail(cmd, AM_EFORBIDDEN, "sign on to your unit first");
    if (unit_id && unit_id != mine)
        return cad_fail(cmd, AM_EFORBIDDEN, "a patrol acts only for the unit it is signed on to");
    if (incident_id) {
        int64_t on = 0;
        rc = store_query(c,
                         "SELECT count(*) FROM assignments WHERE incident_id = ? AND unit_id = ?"
                         " AND released_us IS NULL",
                         i64_row, &on, "ii", incident_id, mine);
        if (!rc && !on)
            rc = cad_fail(cmd, AM_EFORBIDDEN, "your unit is not assigned to this incident");
    }
    return rc;
}

/* ------------------------------------------------------------- sign on and off */

static int op_sign(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x, bool on)
{
    int rc = cad_unpack(cmd, x->req, "{}");
    if (rc)
        return rc;
    struct cad_unit_row u;
    rc = cad_unit_need(c, cmd, x->target, false, &u);
    if (rc)
        return rc;
    int64_t was = 0, now = am_now_us();
    rc = signed_unit(c, cmd->actor, &was);
    x->status = 200;
    if (!rc && on && was != u.id) {
        rc = store_exec(c,
                        "INSERT INTO unit_signons(username, unit_id, since_us) VALUES (?, ?, ?)"
                        " ON CONFLICT(username) DO UPDATE SET unit_id = excluded.unit_id,"
                        " since_us = excluded.since_us",
                        "tii", cmd->actor, u.id, now);
        json_t *ev = json_pack("{ss ss}", "unit", u.callsign, "user", cmd->actor);
        char prev[32] = "";
        if (!rc && was)
            rc =
                store_query(c, "SELECT callsign FROM units WHERE id = ?", text_row, prev, "i", was);
        if (ev && prev[0])
            json_object_set_new(ev, "previous", json_string(prev));
        if (!rc)
            rc = cad_event(c, cmd, 0, "cad.unit.signed_on", ev);
        else
            json_decref(ev);
    } else if (!rc && !on) {
        if (was != u.id)
            return cad_fail(cmd, AM_ECONFLICT, "you are not signed on to %s", u.callsign);
        rc = store_exec(c, "DELETE FROM unit_signons WHERE username = ?", "t", cmd->actor);
        if (!rc)
            rc = cad_event(c, cmd, 0, "cad.unit.signed_off",
                           json_pack("{ss ss}", "unit", u.callsign, "user", cmd->actor));
    }
    if (!rc)
        x->result = json_pack("{ss ss?}", "user", cmd->actor, "unit", on ? u.callsign : NULL);
    return rc ? rc : x->result ? 0 : AM_ENOMEM;
}

/* ------------------------------------------------------------- messages */

static json_t *message_json(struct store_row *r)
{
    char sent[AM_TIME_BUFSZ], acked[AM_TIME_BUFSZ];
    bool is_acked = !store_row_null(r, 6);
    return json_pack("{sI ss ss ss ss ss so so}", "id", (json_int_t)store_row_i64(r, 0), "unit",
                     store_row_text(r, 1), "kind", store_row_text(r, 2), "text",
                     store_row_text(r, 3), "from", store_row_text(r, 4), "sent",
                     am_time_fmt(store_row_i64(r, 5), sent, sizeof(sent)), "acked",
                     is_acked ? json_string(am_time_fmt(store_row_i64(r, 6), acked, sizeof(acked)))
                              : json_null(),
                     "acked_by", is_acked ? json_string(store_row_text(r, 7)) : json_null());
}

#define MESSAGE_SELECT                                                                             \
    "SELECT m.id, u.callsign, m.kind, m.text, m.sender, m.sent_us, m.acked_us, m.acked_by"         \
    " FROM unit_messages m JOIN units u ON u.id = m.unit_id"

/* Appends a message to the array `arg`. */
static int message_append(struct store_row *r, void *arg)
{
    json_t *m = message_json(r);
    return m && !json_array_append_new(arg, m) ? 0 : AM_ENOMEM;
}

/* Sets *(json_t **)arg to the message (one row). */
static int message_one(struct store_row *r, void *arg)
{
    json_t **out = arg;
    json_decref(*out);
    *out = message_json(r);
    return *out ? 0 : AM_ENOMEM;
}

static int op_message(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x)
{
    const char *text = "", *kind = "message";
    int rc = cad_unpack(cmd, x->req, "{s?s, s?s}", "text", &text, "kind", &kind);
    if (rc)
        return rc;
    bool ping = !strcmp(kind, "ping");
    if (!ping && strcmp(kind, "message"))
        return cad_fail(cmd, AM_EINVAL, "kind must be message or ping");
    if (!(ping && !text[0]) && !cad_text_ok(text, MESSAGE_MAX))
        return cad_fail(cmd, AM_EINVAL, "text must be 1 to %d bytes of text (a ping may have none)",
                        MESSAGE_MAX);
    struct cad_unit_row u;
    rc = cad_unit_need(c, cmd, x->target, false, &u);
    if (rc)
        return rc;
    rc = store_exec(c,
                    "INSERT INTO unit_messages(unit_id, kind, text, sender, sent_us)"
                    " VALUES (?, ?, ?, ?, ?)",
                    "ittti", u.id, kind, text, cmd->actor, am_now_us());
    int64_t id = rc ? 0 : store_last_id(c);
    if (!rc)
        rc = store_query(c, MESSAGE_SELECT " WHERE m.id = ?", message_one, &x->result, "i", id);
    if (!rc)
        rc = cad_event(c, cmd, 0, "cad.unit.message", json_incref(x->result));
    x->status = 201;
    return rc;
}

static int op_message_ack(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x)
{
    int64_t id;
    int rc = cad_unpack(cmd, x->req, "{}");
    if (rc)
        return rc;
    if (am_parse_i64(x->target, 1, INT64_MAX, &id))
        return cad_fail(cmd, AM_ENOTFOUND, "no message %.31s", x->target);
    rc = store_query(c, MESSAGE_SELECT " WHERE m.id = ?", message_one, &x->result, "i", id);
    if (rc)
        return rc;
    if (!x->result)
        return cad_fail(cmd, AM_ENOTFOUND, "no message %.31s", x->target);
    struct cad_unit_row u;
    rc = cad_unit_find(c, json_string_value(json_object_get(x->result, "unit")), &u);
    if (!rc)
        rc = cad_patrol_check(c, cmd, x, u.id, 0);
    x->status = 200;
    /* A second acknowledgement (a terminal re-sending) changes nothing. */
    if (rc || !json_is_null(json_object_get(x->result, "acked")))
        return rc;
    rc = store_exec(c, "UPDATE unit_messages SET acked_us = ?, acked_by = ? WHERE id = ?", "iti",
                    am_now_us(), cmd->actor, id);
    if (!rc)
        rc = store_query(c, MESSAGE_SELECT " WHERE m.id = ?", message_one, &x->result, "i", id);
    if (!rc)
        rc = cad_event(c, cmd, 0, "cad.unit.message.acked", json_incref(x->result));
    return rc;
}

int cad_apply_mdt(struct store_conn *c, struct store_cmd *cmd, struct cad_op_ctx *x)
{
    switch (x->op) {
    case CAD_UNIT_SIGN_ON:
        return op_sign(c, cmd, x, true);
    case CAD_UNIT_SIGN_OFF:
        return op_sign(c, cmd, x, false);
    case CAD_UNIT_MESSAGE:
        return op_message(c, cmd, x);
    case CAD_MESSAGE_ACK:
        return op_message_ack(c, cmd, x);
    default:
        return AM_EINTERNAL;
    }
}

/* ------------------------------------------------------------- reads */

struct messages_read {
    const char *callsign;
    int64_t limit;
    json_t *out;
};

static int read_messages(struct store_conn *c, void *arg)
{
    struct messages_read *m = arg;
    struct cad_unit_row u;
    int rc = cad_unit_find(c, m->callsign, &u);
    if (rc)
        return rc;
    return store_query(c, MESSAGE_SELECT " WHERE m.unit_id = ? ORDER BY m.id DESC LIMIT ?",
                       message_append, m->out, "ii", u.id, m->limit);
}

int cad_unit_messages(struct cad *cad, const char *callsign, int64_t limit, json_t **out)
{
    struct messages_read m = {callsign, limit, json_array()};
    int rc = m.out ? store_read(cad->st, read_messages, &m) : AM_ENOMEM;
    if (rc) {
        json_decref(m.out);
        return rc;
    }
    *out = m.out;
    return 0;
}

struct mdt_read {
    const char *user;
    json_t *unit, *incident, *messages;
};

static int read_mdt(struct store_conn *c, void *arg)
{
    struct mdt_read *m = arg;
    int64_t unit_id = 0, incident_id = 0;
    int rc = signed_unit(c, m->user, &unit_id);
    if (rc || !unit_id)
        return rc;
    rc = cad_unit_json(c, unit_id, &m->unit);
    const char *number = json_string_value(json_object_get(m->unit, "incident"));
    if (!rc && number)
        rc = cad_incident_find(c, number, &incident_id, NULL, 0);
    if (!rc && incident_id)
        rc = cad_incident_json(c, incident_id, &m->incident);
    if (!rc)
        rc = store_query(c, MESSAGE_SELECT " WHERE m.unit_id = ? ORDER BY m.id DESC LIMIT ?",
                         message_append, m->messages, "ii", unit_id, (int64_t)MDT_MESSAGES);
    return rc;
}

struct user_unit {
    const char *user;
    json_t *unit;
};

static int read_user_unit(struct store_conn *c, void *arg)
{
    struct user_unit *x = arg;
    int64_t unit_id = 0;
    int rc = signed_unit(c, x->user, &unit_id);
    if (!rc && !unit_id)
        rc = AM_ENOTFOUND;
    return rc ? rc : cad_unit_json(c, unit_id, &x->unit);
}

int cad_unit_of_user(struct cad *cad, const char *user, json_t **out)
{
    struct user_unit x = {user, NULL};
    int rc = store_read(cad->st, read_user_unit, &x);
    if (rc) {
        json_decref(x.unit);
        return rc;
    }
    *out = x.unit;
    return 0;
}

int cad_mdt_state(struct cad *cad, const char *user, json_t **out)
{
    struct mdt_read m = {user, NULL, NULL, json_array()};
    int rc = m.messages ? store_read(cad->st, read_mdt, &m) : AM_ENOMEM;
    json_t *route = NULL;
    char why[256] = "";
    const char *number = json_string_value(json_object_get(m.unit, "incident"));
    if (!rc && number && m.incident) {
        /* The route as the crew will drive it: emergency speeds for priorities 1 and 2. */
        json_int_t prio = json_integer_value(json_object_get(m.incident, "priority"));
        int rr = cad_unit_route(cad, number, json_string_value(json_object_get(m.unit, "callsign")),
                                prio >= 1 && prio <= 2, &route, why, sizeof(why));
        if (rr == AM_ENOMEM)
            rc = rr;
    }
    if (rc) {
        json_decref(m.unit);
        json_decref(m.incident);
        json_decref(route);
        json_decref(m.messages);
        return rc;
    }
    /* json_pack releases what "o" took when it fails. */
    *out = json_pack("{ss so so so ss* so}", "user", user, "unit", m.unit ? m.unit : json_null(),
                     "incident", m.incident ? m.incident : json_null(), "route",
                     route ? route : json_null(), "route_problem", why[0] ? why : NULL, "messages",
                     m.messages);
    if (!*out)
        return AM_ENOMEM;
    return 0;
}
